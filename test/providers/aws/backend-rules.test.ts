// manage-backend-security-group-rules through the real SDK clients against the stateful
// fake: rules only on the node group the cluster owner tagged, each rule tagged as lbc's,
// only lbc's own rules ever revoked, someone else's identical rule left alone; with the
// shared backend security group (the default, as aws-load-balancer-controller's
// --enable-backend-security-group), one rule per protocol on each node group for all the
// cluster's load balancers, per-load-balancer rules only for ports outside the node port range.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AwsOptionsInput } from '../../../src/providers/aws/options.js';
import type { AwsProvider, AwsProviderInit } from '../../../src/providers/aws/provider.js';
import { backendSecurityGroupName } from '../../../src/providers/aws/backend-security-group.js';
import { ProviderError } from '../../../src/providers/types.js';
import type { FakeAws } from './fake-aws.js';
import type { LbRef } from '../../../src/model/ref.js';
import { albSpec, CLUSTER, ING_REF, ipNlbSpec, nlbSpec, provider, seededFake, SVC_REF } from './support.js';

const S = 'service.beta.kubernetes.io/aws-load-balancer-';
const NODE_SG = 'sg-0node';

let fake: FakeAws;

type Mw = (next: (a: unknown) => Promise<unknown>, context: { commandName?: string }) => (args: unknown) => Promise<unknown>;

/** Holds the provider's `command` calls until open(); atGate resolves when the first arrives. */
function pauseAt(p: AwsProvider, client: 'elbv2Client' | 'ec2Client', command: string): { atGate: Promise<void>; open: () => void } {
  let open = (): void => undefined;
  const gate = new Promise<void>((r) => (open = r));
  let reached = (): void => undefined;
  const atGate = new Promise<void>((r) => (reached = r));
  const mw: Mw = (next, context) => async (args) => {
    if (context.commandName === command) {
      reached();
      await gate;
    }
    return next(args);
  };
  // The stacks' add() is overloaded per step and typed per client: one call each.
  if (client === 'ec2Client') p.api.ec2Client.middlewareStack.add(mw as never, { step: 'initialize' });
  else p.api.elbv2Client.middlewareStack.add(mw as never, { step: 'initialize' });
  return { atGate, open };
}
beforeEach(() => {
  fake = seededFake();
});
afterEach(() => fake.uninstall());

/** Today's per-load-balancer rules, each naming the load balancer's own group. */
const perLb = (extra: Partial<AwsOptionsInput> = {}, init: Partial<AwsProviderInit> = {}) => provider({ backendSecurityGroup: { enabled: false }, ...extra }, init);

const managedGroup = (): string => {
  const g = [...fake.securityGroups.values()].find((x) => x.tags['lbc.dev/cluster'] === CLUSTER && x.tags['lbc.dev/resource'] !== 'BackendSecurityGroup');
  if (!g) throw new Error('no managed group');
  return g.id;
};

/** Ingress rules on the node group as `proto/port from source [lbc]`. */
const nodeRules = (): string[] =>
  (fake.securityGroups.get(NODE_SG)?.ingress ?? []).map((p) => `${p.protocol}/${p.from}${p.to !== p.from ? `-${p.to}` : ''} from ${p.source ?? p.cidr}${p.tags['lbc.dev/cluster'] === CLUSTER ? ' [lbc]' : ''}`).sort();

/** The cluster's shared backend group (aws-load-balancer-controller's name). */
const backendGroup = (): string => {
  const g = [...fake.securityGroups.values()].find((x) => x.name === backendSecurityGroupName(CLUSTER));
  if (!g) throw new Error('no backend group');
  return g.id;
};

/** The node group tagged, a provider with the shared backend group, `spec` ensured through it: the provider and the group. */
async function ensuredWithSharedGroup(spec: Parameters<AwsProvider['ensure']>[0], options: Partial<AwsOptionsInput> = {}): Promise<{ p: AwsProvider; sg: string }> {
  tagNodeGroup();
  const p = provider(options);
  await p.ensure(spec);
  return { p, sg: backendGroup() };
}

function tagNodeGroup(): void {
  fake.addSecurityGroup({ id: NODE_SG, name: 'eks-cluster-sg-prod', tags: { 'kubernetes.io/cluster/prod': 'owned' } });
}

describe('backend rules per load balancer (backendSecurityGroup.enabled: false)', () => {
  it('adds the node ports from the frontend group, each rule tagged as lbc\'s; a resync writes nothing', async () => {
    tagNodeGroup();
    const p = perLb();
    await p.ensure(nlbSpec());
    const sg = managedGroup();
    expect(nodeRules()).toEqual([`tcp/30080 from ${sg} [lbc]`, `tcp/30443 from ${sg} [lbc]`]);
    const call = fake.last('AuthorizeSecurityGroupIngress');
    expect(call?.params).toMatchObject({ GroupId: NODE_SG, 'TagSpecification.1.ResourceType': 'security-group-rule' });
    const rule = fake.securityGroups.get(NODE_SG)?.ingress[0];
    expect(rule?.tags).toMatchObject({ 'lbc.dev/cluster': CLUSTER, 'lbc.dev/owner-uid': SVC_REF.uid, 'lbc.dev/resource': 'BackendSecurityGroupRule' });
    fake.resetLog();
    await p.ensure(nlbSpec());
    expect(fake.writes()).toEqual([]);
    expect(await p.plan(nlbSpec())).toEqual([]);
  });

  it('a node port change swaps the rule; a UDP port also opens its TCP health check', async () => {
    tagNodeGroup();
    const p = perLb();
    await p.ensure(nlbSpec());
    const sg = managedGroup();
    await p.ensure(
      nlbSpec({
        ports: [
          { port: 80, nodePort: 30081 },
          { port: 53, nodePort: 30053, protocol: 'UDP' },
        ],
      }),
    );
    expect(nodeRules()).toEqual([`tcp/30053 from ${sg} [lbc]`, `tcp/30081 from ${sg} [lbc]`, `udp/30053 from ${sg} [lbc]`]);
  });

  it('someone else\'s identical rule is neither duplicated nor revoked, also on delete', async () => {
    tagNodeGroup();
    const p = perLb({ dependencyTimeout: '20ms' });
    await p.ensure(nlbSpec());
    const sg = managedGroup();
    // The user adds their own rule for 30080 and lbc's is revoked by hand: lbc must not add it back.
    const mine = fake.securityGroups.get(NODE_SG)?.ingress.find((x) => x.from === 30080);
    const node = fake.securityGroups.get(NODE_SG);
    if (node) node.ingress = node.ingress.filter((x) => x !== mine);
    fake.addIngressRule(NODE_SG, { protocol: 'tcp', from: 30000, to: 32767, source: sg });
    fake.resetLog();
    await p.ensure(nlbSpec());
    expect(fake.writes()).toEqual([]);
    // The user's rule names lbc's frontend group, so EC2 refuses to delete the group (as AWS
    // does): delete fails retryable and says so; lbc's own rule is gone, the user's stays.
    const err = await p.delete(SVC_REF).catch((e: unknown) => e as ProviderError);
    expect(err).toBeInstanceOf(ProviderError);
    expect(err?.retryable).toBe(true);
    expect(err?.message).toMatch(/DeleteSecurityGroup: DependencyViolation/);
    expect(nodeRules()).toEqual([`tcp/30000-32767 from ${sg}`]);
    expect(fake.lbs.size + fake.tgs.size).toBe(0);
  });

  it('an untagged rule lbc did not make is never revoked, even when it matches nothing wanted', async () => {
    tagNodeGroup();
    fake.addIngressRule(NODE_SG, { protocol: 'tcp', from: 22, to: 22, source: '10.0.0.0/8' });
    fake.addIngressRule(NODE_SG, { protocol: 'tcp', from: 30080, to: 30080, source: '10.0.0.0/8', tags: { 'lbc.dev/cluster': 'other', 'lbc.dev/owner-uid': SVC_REF.uid } });
    const p = perLb();
    await p.ensure(nlbSpec());
    await p.delete(SVC_REF);
    expect(nodeRules()).toEqual(['tcp/22 from 10.0.0.0/8', 'tcp/30080 from 10.0.0.0/8']);
    expect(fake.taggedFor(CLUSTER)).toEqual([]);
  });

  it('no tagged node group: nothing is touched and the warning says what to tag', async () => {
    fake.addSecurityGroup({ id: NODE_SG, name: 'nodes' });
    const warnings: string[] = [];
    const p = perLb({}, { logger: { warn: (m) => warnings.push(m) } });
    const status = await p.ensure(nlbSpec());
    expect(nodeRules()).toEqual([]);
    expect(fake.all('AuthorizeSecurityGroupIngress').map((r) => r.params['GroupId'])).not.toContain(NODE_SG);
    expect(fake.actions()).not.toContain('RevokeSecurityGroupIngress');
    expect(warnings.join('\n')).toMatch(/no security group in vpc-1 is tagged kubernetes\.io\/cluster\/prod.*tcp\/30080, tcp\/30443.*kubernetes\.io\/cluster\/prod=owned/);
    // A successful sync: never SyncLoadBalancerFailed, which alerts read as a failure.
    expect(status.notices?.[0]).toMatchObject({ type: 'Warning', reason: 'EnsuredWithWarnings' });
    expect(status.notices?.[0]?.message).toMatch(/kubernetes\.io\/cluster\/prod/);
    // Said once, not on every resync.
    expect((await p.ensure(nlbSpec())).notices).toBeUndefined();
  });

  it('switched off: lbc\'s rules are revoked and the node groups are no longer read', async () => {
    tagNodeGroup();
    const p = perLb();
    await p.ensure(nlbSpec());
    fake.resetLog();
    await p.ensure(nlbSpec({ annotations: { [`${S}manage-backend-security-group-rules`]: 'false' } }));
    expect(nodeRules()).toEqual([]);
    expect(fake.writes().map((w) => w.action)).toEqual(['RevokeSecurityGroupIngress']);
    expect(fake.all('DescribeSecurityGroups').some((r) => Object.values(r.params).includes('kubernetes.io/cluster/prod'))).toBe(false);
  });

  it('user security groups: off by default; asked for, the rules name the user\'s groups', async () => {
    tagNodeGroup();
    fake.addSecurityGroup({ id: 'sg-0a5e2', name: 'frontend' });
    const p = perLb();
    await p.ensure(nlbSpec({ annotations: { [`${S}security-groups`]: 'sg-0a5e2' } }));
    expect(nodeRules()).toEqual([]);
    await p.ensure(nlbSpec({ annotations: { [`${S}security-groups`]: 'sg-0a5e2', [`${S}manage-backend-security-group-rules`]: 'true' } }));
    expect(nodeRules()).toEqual(['tcp/30080 from sg-0a5e2 [lbc]', 'tcp/30443 from sg-0a5e2 [lbc]']);
    await p.delete(SVC_REF);
    expect(nodeRules()).toEqual([]);
    expect(fake.securityGroups.has('sg-0a5e2')).toBe(true);
  });

  it('ALB: the target groups\' node ports, from the frontend group', async () => {
    tagNodeGroup();
    const p = perLb();
    await p.ensure(albSpec());
    const sg = managedGroup();
    expect(nodeRules()).toEqual([`tcp/31080 from ${sg} [lbc]`, `tcp/31081 from ${sg} [lbc]`]);
    await p.delete(albSpec().ref);
    expect(nodeRules()).toEqual([]);
    expect(fake.taggedFor(CLUSTER)).toEqual([]);
  });
});

describe('the shared backend security group (the default)', () => {
  const NAME = backendSecurityGroupName(CLUSTER);
  const range = (sg: string): string[] => [`tcp/30000-32767 from ${sg} [lbc]`, `udp/30000-32767 from ${sg} [lbc]`];
  const lbGroups = (): string[][] => [...fake.lbs.values()].map((l) => [...l.securityGroups].sort());

  it('aws-load-balancer-controller\'s name: k8s-traffic-<cluster without non-alphanumerics>-<sha256 of the cluster name, 10 hex digits>', () => {
    // The vector of backend_sg_provider_test.go ("backend sg enabled, auto-gen new SG").
    expect(backendSecurityGroupName('testCluster')).toBe('k8s-traffic-testCluster-411a1bcdb1');
    expect(backendSecurityGroupName('my_cluster.prod')).toMatch(/^k8s-traffic-myclusterprod-[0-9a-f]{10}$/);
    expect(backendSecurityGroupName('x'.repeat(300))).toHaveLength(12 + 232 + 1 + 10);
  });

  it('created with the first load balancer, attached to it, allowed once per protocol on the node group; a resync writes nothing', async () => {
    tagNodeGroup();
    const p = provider();
    await p.ensure(nlbSpec());
    expect(fake.writes().map((w) => w.action)).toEqual([
      'CreateSecurityGroup',
      'AuthorizeSecurityGroupIngress',
      'CreateSecurityGroup',
      'AuthorizeSecurityGroupIngress',
      'CreateTargetGroup',
      'CreateTargetGroup',
      'RegisterTargets',
      'RegisterTargets',
      'CreateLoadBalancer',
      'CreateListener',
      'CreateListener',
    ]);
    const sg = backendGroup();
    expect(fake.all('CreateSecurityGroup')[1]?.params).toEqual({
      GroupName: NAME,
      GroupDescription: `[lbc] shared backend group of the load balancers of cluster ${CLUSTER}`,
      VpcId: 'vpc-1',
      'TagSpecification.1.ResourceType': 'security-group',
      'TagSpecification.1.Tag.1.Key': 'elbv2.k8s.aws/cluster',
      'TagSpecification.1.Tag.1.Value': CLUSTER,
      'TagSpecification.1.Tag.2.Key': 'elbv2.k8s.aws/resource',
      'TagSpecification.1.Tag.2.Value': 'backend-sg',
      'TagSpecification.1.Tag.3.Key': 'lbc.dev/cluster',
      'TagSpecification.1.Tag.3.Value': CLUSTER,
      'TagSpecification.1.Tag.4.Key': 'lbc.dev/resource',
      'TagSpecification.1.Tag.4.Value': 'BackendSecurityGroup',
    });
    expect(fake.all('AuthorizeSecurityGroupIngress')[1]?.params).toEqual({
      GroupId: NODE_SG,
      'IpPermissions.1.IpProtocol': 'tcp',
      'IpPermissions.1.FromPort': '30000',
      'IpPermissions.1.ToPort': '32767',
      'IpPermissions.1.Groups.1.GroupId': sg,
      'IpPermissions.1.Groups.1.Description': 'lbc: load balancers to node ports',
      'IpPermissions.2.IpProtocol': 'udp',
      'IpPermissions.2.FromPort': '30000',
      'IpPermissions.2.ToPort': '32767',
      'IpPermissions.2.Groups.1.GroupId': sg,
      'IpPermissions.2.Groups.1.Description': 'lbc: load balancers to node ports',
      'TagSpecification.1.ResourceType': 'security-group-rule',
      'TagSpecification.1.Tag.1.Key': 'elbv2.k8s.aws/cluster',
      'TagSpecification.1.Tag.1.Value': CLUSTER,
      'TagSpecification.1.Tag.2.Key': 'lbc.dev/cluster',
      'TagSpecification.1.Tag.2.Value': CLUSTER,
      'TagSpecification.1.Tag.3.Key': 'lbc.dev/resource',
      'TagSpecification.1.Tag.3.Value': 'SharedBackendSecurityGroupRule',
    });
    expect(nodeRules()).toEqual(range(sg));
    expect(lbGroups()).toEqual([[managedGroup(), sg].sort()]);
    expect(fake.last('CreateLoadBalancer')?.params).toMatchObject({ 'SecurityGroups.member.1': managedGroup(), 'SecurityGroups.member.2': sg });
    fake.resetLog();
    await p.ensure(nlbSpec());
    expect(fake.writes()).toEqual([]);
    expect(await p.plan(nlbSpec())).toEqual([]);
    // A new process finds it by its tags, creates nothing.
    fake.resetLog();
    await provider().ensure(nlbSpec());
    expect(fake.writes()).toEqual([]);
  });

  it('`lbc plan` shows the group, its node rule and the load balancer it is attached to', async () => {
    tagNodeGroup();
    const changes = await provider().plan(nlbSpec());
    expect(changes.filter((c) => (c.resource === 'SecurityGroup' && c.id === NAME) || c.resource === 'BackendSecurityGroupRule')).toEqual([
      { op: 'create', resource: 'SecurityGroup', id: NAME, detail: "shared backend group of the cluster's load balancers, in vpc-1" },
      { op: 'create', resource: 'BackendSecurityGroupRule', id: NODE_SG, detail: `tcp/30000-32767 from ${NAME}, udp/30000-32767 from ${NAME}` },
    ]);
    expect(fake.writes()).toEqual([]);
  });

  it('shared by every load balancer of the cluster: a second adds no rule; it goes with the last one', async () => {
    const { p, sg } = await ensuredWithSharedGroup(nlbSpec(), { dependencyTimeout: '1s' });
    fake.resetLog();
    await p.ensure(albSpec());
    expect(fake.all('AuthorizeSecurityGroupIngress').map((r) => r.params['GroupId'])).not.toContain(NODE_SG);
    expect(fake.all('CreateSecurityGroup')).toHaveLength(1);
    expect(lbGroups().every((g) => g.includes(sg))).toBe(true);
    expect(nodeRules()).toEqual(range(sg));
    // The NLB goes: the ALB still has the group, so it and its rules stay.
    fake.eniHoldCalls = 2;
    await p.delete(SVC_REF);
    expect(fake.securityGroups.has(sg)).toBe(true);
    expect(nodeRules()).toEqual(range(sg));
    // The last one goes (its interfaces hold the group for two attempts): rules, then the group.
    await p.delete(ING_REF);
    expect(fake.securityGroups.has(sg)).toBe(false);
    expect(nodeRules()).toEqual([]);
    expect(fake.taggedFor(CLUSTER)).toEqual([]);
  });

  it('not released from under an ensure of the same process that is about to attach it', async () => {
    const { p, sg } = await ensuredWithSharedGroup(nlbSpec());
    // The ALB's ensure stops right before CreateLoadBalancer (planned, holding the group) while the NLB, its only user so far, is deleted.
    const { atGate, open } = pauseAt(p, 'elbv2Client', 'CreateLoadBalancerCommand');
    const ensuring = p.ensure(albSpec());
    await atGate;
    await p.delete(SVC_REF);
    expect(fake.securityGroups.has(sg)).toBe(true);
    expect(nodeRules()).toEqual(range(sg));
    open();
    await ensuring;
    expect(lbGroups()).toEqual([[managedGroup(), sg].sort()]);
    // Once the ALB is gone too, nothing holds it.
    await p.delete(ING_REF);
    expect(fake.taggedFor(CLUSTER)).toEqual([]);
    expect(nodeRules()).toEqual([]);
  });

  it('a cluster with per-load-balancer rules converges: group and node rule added, the load balancer switched, the old rules revoked', async () => {
    tagNodeGroup();
    await perLb().ensure(nlbSpec());
    const frontend = managedGroup();
    expect(nodeRules()).toEqual([`tcp/30080 from ${frontend} [lbc]`, `tcp/30443 from ${frontend} [lbc]`]);
    fake.resetLog();
    const p = provider();
    await p.ensure(nlbSpec());
    const sg = backendGroup();
    expect(fake.writes().map((w) => w.action)).toEqual(['CreateSecurityGroup', 'AuthorizeSecurityGroupIngress', 'SetSecurityGroups', 'RevokeSecurityGroupIngress']);
    expect(nodeRules()).toEqual(range(sg));
    expect(lbGroups()).toEqual([[frontend, sg].sort()]);
    expect(await p.plan(nlbSpec())).toEqual([]);
  });

  it('a health check port outside the node port range gets a rule from the shared group too, claimed by the target groups that check it', async () => {
    tagNodeGroup();
    const p = provider();
    const spec = nlbSpec({ annotations: { 'service.beta.kubernetes.io/aws-load-balancer-healthcheck-port': '10256' } });
    await p.ensure(spec);
    const sg = backendGroup();
    expect(nodeRules()).toEqual([`tcp/10256 from ${sg} [lbc]`, ...range(sg)]);
    expect([...fake.tgs.keys()].map((arn) => fake.tags.get(arn)?.['lbc.dev/backend-ports'])).toEqual(['tcp/10256', 'tcp/10256']);
    await p.delete(SVC_REF);
    expect(nodeRules()).toEqual([]);
    expect(fake.taggedFor(CLUSTER)).toEqual([]);
  });

  it('the last load balancer switched off: the group is pulled from it and released', async () => {
    const { p, sg } = await ensuredWithSharedGroup(nlbSpec());
    fake.resetLog();
    await p.ensure(nlbSpec({ annotations: { [`${S}manage-backend-security-group-rules`]: 'false' } }));
    expect(fake.writes().map((w) => w.action)).toEqual(['SetSecurityGroups', 'RevokeSecurityGroupIngress', 'DeleteSecurityGroup']);
    expect(lbGroups()).toEqual([[managedGroup()]]);
    expect(fake.securityGroups.has(sg)).toBe(false);
    expect(nodeRules()).toEqual([]);
    expect(await p.plan(nlbSpec({ annotations: { [`${S}manage-backend-security-group-rules`]: 'false' } }))).toEqual([]);
  });

  it('a group of that name lbc did not tag (aws-load-balancer-controller\'s own) is left alone, and the error says how to use it', async () => {
    tagNodeGroup();
    fake.addSecurityGroup({ id: 'sg-0albc', name: NAME, tags: { 'elbv2.k8s.aws/cluster': CLUSTER, 'elbv2.k8s.aws/resource': 'backend-sg' } });
    const err = await provider()
      .ensure(nlbSpec())
      .then(() => undefined)
      .catch((e: unknown) => e as ProviderError);
    expect(err).toBeInstanceOf(ProviderError);
    expect(err?.message).toMatch(/not tagged lbc\.dev\/cluster=prod.*backendSecurityGroup\.id/);
    expect(fake.lbs.size).toBe(0);
    expect(nodeRules()).toEqual([]);
  });

  it('a group given in backendSecurityGroup.id is used as is: never created, tagged or deleted; its node rules are lbc\'s', async () => {
    tagNodeGroup();
    fake.addSecurityGroup({ id: 'sg-0b0c0d', name: 'team-backend' });
    const p = provider({ backendSecurityGroup: { id: 'sg-0b0c0d' } });
    await p.ensure(nlbSpec());
    expect(fake.all('CreateSecurityGroup')).toHaveLength(1);
    expect(nodeRules()).toEqual(range('sg-0b0c0d'));
    expect(lbGroups()).toEqual([[managedGroup(), 'sg-0b0c0d'].sort()]);
    await p.delete(SVC_REF);
    expect(fake.securityGroups.get('sg-0b0c0d')?.tags).toEqual({});
    expect(nodeRules()).toEqual([]);
    expect(fake.taggedFor(CLUSTER)).toEqual([]);
  });

  it('no tagged node group: no backend group either (nothing would name it)', async () => {
    const p = provider({}, { logger: { warn: () => undefined } });
    await p.ensure(nlbSpec());
    expect(fake.all('CreateSecurityGroup')).toHaveLength(1);
    expect(lbGroups()).toEqual([[managedGroup()]]);
  });
});

// aws-load-balancer-controller sources ip targets' rules from its backend group too: its
// model gives each TargetGroupBinding `From: backendSGIDToken, Port: targetPort` (v3.5
// pkg/ingress/model_build_target_group.go buildTargetGroupBindingNetworking) and its
// networking manager aggregates them per node/ENI group over every binding of the cluster
// (pkg/targetgroupbinding/networking_manager.go reconcileWithIngressPermissionsPerSG).
describe('ip targets through the shared backend security group: one rule per port, kept while a target group of the cluster claims it', () => {
  const ref = (name: string): LbRef => ({ kind: 'Service', namespace: 'shop', name, uid: `uid-${name}` });
  const A = ref('a');
  const B = ref('b');
  const C = ref('c');
  const nodeGroupWrites = (action: string) => fake.all(action).filter((r) => r.params['GroupId'] === NODE_SG);
  const ruleId = (port: number): string => {
    const r = fake.securityGroups.get(NODE_SG)?.ingress.find((x) => x.from === port);
    if (!r) throw new Error(`no rule for ${port}`);
    return r.ruleId;
  };

  it('two load balancers on pod port 8080: one rule, from the backend group; the first delete keeps it, the second revokes it; a resync writes nothing', async () => {
    const { p, sg } = await ensuredWithSharedGroup(ipNlbSpec({ ref: A }));
    expect(nodeGroupWrites('AuthorizeSecurityGroupIngress').map((r) => r.params)).toEqual([
      {
        GroupId: NODE_SG,
        'IpPermissions.1.IpProtocol': 'tcp',
        'IpPermissions.1.FromPort': '8080',
        'IpPermissions.1.ToPort': '8080',
        'IpPermissions.1.Groups.1.GroupId': sg,
        'IpPermissions.1.Groups.1.Description': 'lbc: load balancers to target ports',
        'TagSpecification.1.ResourceType': 'security-group-rule',
        'TagSpecification.1.Tag.1.Key': 'elbv2.k8s.aws/cluster',
        'TagSpecification.1.Tag.1.Value': CLUSTER,
        'TagSpecification.1.Tag.2.Key': 'lbc.dev/cluster',
        'TagSpecification.1.Tag.2.Value': CLUSTER,
        'TagSpecification.1.Tag.3.Key': 'lbc.dev/resource',
        'TagSpecification.1.Tag.3.Value': 'SharedBackendSecurityGroupRule',
      },
    ]);
    // No node port to reach: no node port range rule either.
    expect(nodeRules()).toEqual([`tcp/8080 from ${sg} [lbc]`]);
    expect(fake.last('CreateTargetGroup')?.params).toMatchObject({ TargetType: 'ip', Port: '8080' });
    expect(Object.values(fake.last('CreateTargetGroup')?.params ?? {})).toContain('lbc.dev/backend-ports');
    const rule = ruleId(8080);

    fake.resetLog();
    await p.ensure(ipNlbSpec({ ref: B }));
    expect(nodeGroupWrites('AuthorizeSecurityGroupIngress')).toEqual([]);
    expect(nodeRules()).toEqual([`tcp/8080 from ${sg} [lbc]`]);
    expect([...fake.lbs.values()].every((l) => l.securityGroups.includes(sg))).toBe(true);

    fake.resetLog();
    await p.ensure(ipNlbSpec({ ref: A }));
    await p.ensure(ipNlbSpec({ ref: B }));
    expect(fake.writes()).toEqual([]);
    expect(await p.plan(ipNlbSpec({ ref: A }))).toEqual([]);

    fake.resetLog();
    await p.delete(A);
    expect(nodeGroupWrites('RevokeSecurityGroupIngress')).toEqual([]);
    expect(ruleId(8080)).toBe(rule);
    // B's target group still claims 8080 (the inventory says so): nothing to look for beyond A's own rules.
    expect(fake.all('DescribeSecurityGroupRules').map((r) => r.params['Filter.2.Name'])).toEqual(['tag:lbc.dev/owner-uid']);

    fake.resetLog();
    await p.delete(B);
    expect(nodeGroupWrites('RevokeSecurityGroupIngress').map((r) => r.params)).toEqual([{ GroupId: NODE_SG, 'SecurityGroupRuleId.1': rule }]);
    expect(nodeRules()).toEqual([]);
    expect(fake.taggedFor(CLUSTER)).toEqual([]);
  });

  it('the last user of a port goes while another load balancer keeps the group: exactly that rule is revoked, by a new process too', async () => {
    tagNodeGroup();
    const p = provider();
    await p.ensure(ipNlbSpec({ ref: A }));
    await p.ensure(ipNlbSpec({ ref: B }));
    await p.ensure(ipNlbSpec({ ref: C, podPort: 9090 }));
    const sg = backendGroup();
    expect(nodeRules()).toEqual([`tcp/8080 from ${sg} [lbc]`, `tcp/9090 from ${sg} [lbc]`]);
    // A restart in between: the claims are read back from the target groups' tags.
    await provider().delete(A);
    expect(nodeRules()).toEqual([`tcp/8080 from ${sg} [lbc]`, `tcp/9090 from ${sg} [lbc]`]);
    const rule = ruleId(8080);
    fake.resetLog();
    await provider().delete(B);
    expect(nodeGroupWrites('RevokeSecurityGroupIngress').map((r) => r.params)).toEqual([{ GroupId: NODE_SG, 'SecurityGroupRuleId.1': rule }]);
    expect(nodeRules()).toEqual([`tcp/9090 from ${sg} [lbc]`]);
    expect(fake.securityGroups.has(sg)).toBe(true);
  });

  it('a pod port change: the new port\'s rule before the switch, the old one revoked once nothing claims it', async () => {
    const { p, sg } = await ensuredWithSharedGroup(ipNlbSpec({ ref: A }));
    const old = ruleId(8080);
    fake.resetLog();
    await p.ensure(ipNlbSpec({ ref: A, podPort: 9090 }));
    const writes = fake.writes().map((w) => w.action);
    expect(writes.indexOf('AuthorizeSecurityGroupIngress')).toBeGreaterThan(writes.indexOf('CreateTargetGroup'));
    expect(writes.indexOf('AuthorizeSecurityGroupIngress')).toBeLessThan(writes.indexOf('ModifyListener'));
    expect(writes.at(-1)).toBe('RevokeSecurityGroupIngress');
    expect(nodeGroupWrites('RevokeSecurityGroupIngress').map((r) => r.params)).toEqual([{ GroupId: NODE_SG, 'SecurityGroupRuleId.1': old }]);
    expect(nodeRules()).toEqual([`tcp/9090 from ${sg} [lbc]`]);
    expect(await p.plan(ipNlbSpec({ ref: A, podPort: 9090 }))).toEqual([]);
  });

  it('a cluster with per-load-balancer rules for pod ports converges: one shared rule, the target groups claim it, the old rules revoked', async () => {
    tagNodeGroup();
    await perLb().ensure(ipNlbSpec({ ref: A }));
    await perLb().ensure(ipNlbSpec({ ref: B }));
    const frontends = [...fake.securityGroups.values()].filter((g) => g.tags['lbc.dev/resource'] === 'ManagedLBSecurityGroup').map((g) => g.id);
    expect(nodeRules()).toEqual(frontends.map((f) => `tcp/8080 from ${f} [lbc]`).sort());
    fake.resetLog();
    const p = provider();
    await p.ensure(ipNlbSpec({ ref: A }));
    expect(fake.writes().map((w) => w.action)).toEqual(['CreateSecurityGroup', 'AddTags', 'AuthorizeSecurityGroupIngress', 'SetSecurityGroups', 'RevokeSecurityGroupIngress']);
    await p.ensure(ipNlbSpec({ ref: B }));
    const sg = backendGroup();
    expect(nodeRules()).toEqual([`tcp/8080 from ${sg} [lbc]`]);
    fake.resetLog();
    await p.ensure(ipNlbSpec({ ref: A }));
    await p.ensure(ipNlbSpec({ ref: B }));
    expect(fake.writes()).toEqual([]);
  });

  it('backendSecurityGroup.enabled: false keeps one rule per load balancer, from its own group', async () => {
    tagNodeGroup();
    await perLb().ensure(ipNlbSpec({ ref: A }));
    await perLb().ensure(ipNlbSpec({ ref: B }));
    const frontends = [...fake.securityGroups.values()].filter((g) => g.tags['lbc.dev/cluster'] === CLUSTER).map((g) => g.id);
    expect(frontends).toHaveLength(2);
    expect(nodeRules()).toEqual(frontends.map((f) => `tcp/8080 from ${f} [lbc]`).sort());
    expect([...fake.tgs.keys()].map((arn) => fake.tags.get(arn)?.['lbc.dev/backend-ports'])).toEqual([undefined, undefined]);
  });

  it('switched off for one load balancer: its claims are emptied and the rule only it needed goes', async () => {
    tagNodeGroup();
    const p = provider();
    await p.ensure(ipNlbSpec({ ref: A }));
    await p.ensure(ipNlbSpec({ ref: C, podPort: 9090 }));
    const sg = backendGroup();
    const off = ipNlbSpec({ ref: A, annotations: { [`${S}manage-backend-security-group-rules`]: 'false' } });
    await p.ensure(off);
    expect([...fake.tgs.keys()].map((arn) => fake.tags.get(arn)?.['lbc.dev/backend-ports']).sort()).toEqual(['', 'tcp/9090']);
    expect(nodeRules()).toEqual([`tcp/9090 from ${sg} [lbc]`]);
    fake.resetLog();
    await p.ensure(off);
    expect(fake.writes()).toEqual([]);
  });

  it('not revoked from under an ensure of the same process that found the rule there and counts on it', async () => {
    const { p, sg } = await ensuredWithSharedGroup(ipNlbSpec({ ref: A }));
    // B's ensure has planned (the rule is there: nothing to add) and stops before its target group, which would claim the port.
    const { atGate, open } = pauseAt(p, 'elbv2Client', 'CreateTargetGroupCommand');
    const ensuring = p.ensure(ipNlbSpec({ ref: B }));
    await atGate;
    await p.delete(A);
    expect(nodeRules()).toEqual([`tcp/8080 from ${sg} [lbc]`]);
    open();
    await ensuring;
    expect(nodeRules()).toEqual([`tcp/8080 from ${sg} [lbc]`]);
    await p.delete(B);
    expect(nodeRules()).toEqual([]);
    expect(fake.taggedFor(CLUSTER)).toEqual([]);
  });

  it('an ensure that starts while its port\'s rule is being revoked adds it back once the revocation has landed', async () => {
    const { p, sg } = await ensuredWithSharedGroup(ipNlbSpec({ ref: A }));
    // A's delete stops inside its revocation of the 8080 rule (the last claim went with A) while B, on 8080 too, is ensured.
    const { atGate, open } = pauseAt(p, 'ec2Client', 'RevokeSecurityGroupIngressCommand');
    const deleting = p.delete(A);
    await atGate;
    const ensuring = p.ensure(ipNlbSpec({ ref: B }));
    // B's plan still sees the rule; it must not take it for granted.
    await new Promise((r) => setTimeout(r, 300));
    open();
    await deleting;
    await ensuring;
    expect(nodeRules()).toEqual([`tcp/8080 from ${sg} [lbc]`]);
  });

  it('two load balancers on one port deleted at once (a namespace goes): neither keeps the rule for the other', async () => {
    tagNodeGroup();
    const p = provider();
    await p.ensure(ipNlbSpec({ ref: A }));
    await p.ensure(ipNlbSpec({ ref: B }));
    // C keeps the backend group, so its release cannot hide a rule left behind.
    await p.ensure(ipNlbSpec({ ref: C, podPort: 9090 }));
    const sg = backendGroup();
    // Both deletes release their ports before either has deleted its target groups.
    let arrived = 0;
    let both = (): void => undefined;
    const bothThere = new Promise<void>((r) => (both = r));
    const mw: Mw = (next, context) => async (args) => {
      if (context.commandName === 'DeleteTargetGroupCommand') {
        if (++arrived === 2) both();
        await bothThere;
      }
      return next(args);
    };
    p.api.elbv2Client.middlewareStack.add(mw as never, { step: 'initialize' });
    await Promise.all([p.delete(A), p.delete(B)]);
    expect(nodeRules()).toEqual([`tcp/9090 from ${sg} [lbc]`]);
    // Made again under the same uid, A claims its port again.
    await p.ensure(ipNlbSpec({ ref: A }));
    await p.delete(C);
    expect(nodeRules()).toEqual([`tcp/8080 from ${sg} [lbc]`]);
  });

  it('a rule no target group claims (left by a crash) is revoked by the next ensure that sees it; someone else\'s rule from the group is left alone and not looked for again', async () => {
    const { p, sg } = await ensuredWithSharedGroup(ipNlbSpec({ ref: A }));
    const g = fake.securityGroups.get(NODE_SG);
    if (!g) throw new Error('no node group');
    const tags = { ...g.ingress[0]?.tags };
    g.ingress.push({ protocol: 'tcp', from: 7000, to: 7000, cidr: '', source: sg, ruleId: 'sgr-0left', tags });
    g.ingress.push({ protocol: 'tcp', from: 7001, to: 7001, cidr: '', source: sg, ruleId: 'sgr-0user', tags: {} });
    fake.resetLog();
    await p.ensure(ipNlbSpec({ ref: A }));
    expect(nodeGroupWrites('RevokeSecurityGroupIngress').map((r) => r.params)).toEqual([{ GroupId: NODE_SG, 'SecurityGroupRuleId.1': 'sgr-0left' }]);
    expect(nodeRules()).toEqual([`tcp/7001 from ${sg}`, `tcp/8080 from ${sg} [lbc]`]);
    fake.resetLog();
    await p.ensure(ipNlbSpec({ ref: A }));
    expect(fake.writes()).toEqual([]);
    expect(fake.all('DescribeSecurityGroupRules')).toHaveLength(1);
  });
});
