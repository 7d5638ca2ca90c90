// manage-backend-security-group-rules through the real SDK clients against the stateful
// fake: rules only on the node group the cluster owner tagged, each rule tagged as lbc's,
// only lbc's own rules ever revoked, someone else's identical rule left alone.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ProviderError } from '../../../src/providers/types.js';
import type { FakeAws } from './fake-aws.js';
import { albSpec, CLUSTER, nlbSpec, provider, seededFake, SVC_REF } from './support.js';

const S = 'service.beta.kubernetes.io/aws-load-balancer-';
const NODE_SG = 'sg-0node';

let fake: FakeAws;
beforeEach(() => {
  fake = seededFake();
});
afterEach(() => fake.uninstall());

const managedGroup = (): string => {
  const g = [...fake.securityGroups.values()].find((x) => x.tags['lbc.dev/cluster'] === CLUSTER);
  if (!g) throw new Error('no managed group');
  return g.id;
};

/** Ingress rules on the node group as `proto/port from source [lbc]`. */
const nodeRules = (): string[] =>
  (fake.securityGroups.get(NODE_SG)?.ingress ?? []).map((p) => `${p.protocol}/${p.from}${p.to !== p.from ? `-${p.to}` : ''} from ${p.source ?? p.cidr}${p.tags['lbc.dev/cluster'] === CLUSTER ? ' [lbc]' : ''}`).sort();

function tagNodeGroup(): void {
  fake.addSecurityGroup({ id: NODE_SG, name: 'eks-cluster-sg-prod', tags: { 'kubernetes.io/cluster/prod': 'owned' } });
}

describe('backend rules on the node security group', () => {
  it('adds the node ports from the frontend group, each rule tagged as lbc\'s; a resync writes nothing', async () => {
    tagNodeGroup();
    const p = provider();
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
    const p = provider();
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
    const p = provider({ dependencyTimeout: '20ms' });
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
    const p = provider();
    await p.ensure(nlbSpec());
    await p.delete(SVC_REF);
    expect(nodeRules()).toEqual(['tcp/22 from 10.0.0.0/8', 'tcp/30080 from 10.0.0.0/8']);
    expect(fake.taggedFor(CLUSTER)).toEqual([]);
  });

  it('no tagged node group: nothing is touched and the warning says what to tag', async () => {
    fake.addSecurityGroup({ id: NODE_SG, name: 'nodes' });
    const warnings: string[] = [];
    const p = provider({}, { logger: { warn: (m) => warnings.push(m) } });
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
    const p = provider();
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
    const p = provider();
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
    const p = provider();
    await p.ensure(albSpec());
    const sg = managedGroup();
    expect(nodeRules()).toEqual([`tcp/31080 from ${sg} [lbc]`, `tcp/31081 from ${sg} [lbc]`]);
    await p.delete(albSpec().ref);
    expect(nodeRules()).toEqual([]);
    expect(fake.taggedFor(CLUSTER)).toEqual([]);
  });
});
