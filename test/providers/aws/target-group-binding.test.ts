// TargetGroupBinding on AWS through the real SDK clients against the stateful fake (nock):
// the exact requests for register, deregister on an endpoint change, a no-op rerun (zero
// writes) and delete; the user's target group is only read; what ELBv2 (or ALBC's
// webhooks) refuses is refused with the field named.
import { ElasticLoadBalancingV2Client, RegisterTargetsCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TargetBinding } from '../../../src/model/target-binding.js';
import { ProviderError } from '../../../src/providers/types.js';
import { ELB_HOST, REGION, type FakeAws } from './fake-aws.js';
import { CLUSTER, fakeClients, nodes, provider, seededFake } from './support.js';

const NODE_SG = 'sg-0node';
const REF = { namespace: 'shop', name: 'web-tgb', uid: 'uid-tgb-1' };

let fake: FakeAws;
beforeEach(() => {
  fake = seededFake();
  fake.addSecurityGroup({ id: NODE_SG, name: 'eks-cluster-sg-prod', tags: { 'kubernetes.io/cluster/prod': 'owned' } });
  fake.addSecurityGroup({ id: 'sg-0alb', name: 'users-alb' });
});
afterEach(() => fake.uninstall());

function binding(targetGroup: TargetBinding['targetGroup'], extra: Partial<TargetBinding> = {}): TargetBinding {
  return {
    ref: REF,
    clusterName: CLUSTER,
    service: 'web',
    targetGroup,
    podTargets: [
      { ip: '10.0.1.10', port: 8080 },
      { ip: '10.0.1.11', port: 8080 },
    ],
    nodeTargets: { nodePort: 30080, nodes: nodes('i-0aaa', 'i-0bbb') },
    access: [],
    ...extra,
  };
}

const registered = (arn: string): string[] => [...(fake.tgs.get(arn)?.targets.values() ?? [])].map((t) => `${t.id}:${t.port}`).sort();
/** Writes as `Action key=value ...` with the parameters that say what was asked. */
const writeLines = (): string[] =>
  fake.writes().map((w) => `${w.action} ${Object.entries(w.params).filter(([k]) => !k.startsWith('TagSpecification') && !k.includes('Description')).map(([k, v]) => `${k}=${v}`).sort().join(' ')}`);

describe('TargetGroupBinding on AWS', () => {
  it('ip: registers the endpoints with one RegisterTargets; a rerun writes nothing; an endpoint change registers and deregisters exactly the difference', async () => {
    const arn = fake.addTargetGroup({ name: 'users-ip', targetType: 'ip', port: 8080 });
    const p = provider({ vpcId: 'vpc-1' });
    const r = await p.bindTargets(binding({ arn }, { targetType: 'ip' }));
    expect(r).toMatchObject({ targetGroupArn: arn, targetType: 'ip', registered: 2, deregistered: 0, targets: 2, warnings: [] });
    expect(writeLines()).toEqual([`RegisterTargets TargetGroupArn=${arn} Targets.member.1.Id=10.0.1.10 Targets.member.1.Port=8080 Targets.member.2.Id=10.0.1.11 Targets.member.2.Port=8080`]);
    expect(registered(arn)).toEqual(['10.0.1.10:8080', '10.0.1.11:8080']);

    fake.resetLog();
    expect(await p.bindTargets(binding({ arn }, { targetType: 'ip' }))).toMatchObject({ registered: 0, deregistered: 0 });
    expect(fake.writes()).toEqual([]);

    fake.resetLog();
    await p.bindTargets(binding({ arn }, { targetType: 'ip', podTargets: [{ ip: '10.0.1.11', port: 8080 }, { ip: '10.0.1.12', port: 8080 }] }));
    expect(writeLines()).toEqual([
      `RegisterTargets TargetGroupArn=${arn} Targets.member.1.Id=10.0.1.12 Targets.member.1.Port=8080`,
      `DeregisterTargets TargetGroupArn=${arn} Targets.member.1.Id=10.0.1.10 Targets.member.1.Port=8080`,
    ]);
    expect(registered(arn)).toEqual(['10.0.1.11:8080', '10.0.1.12:8080']);
  });

  it('instance, type from the group (spec.targetType absent, as ALBC defaults it): the nodes on the node port; the group itself is never written', async () => {
    const arn = fake.addTargetGroup({ name: 'users-inst', targetType: 'instance' });
    const p = provider({ vpcId: 'vpc-1' });
    const r = await p.bindTargets(binding({ arn }));
    expect(r).toMatchObject({ targetType: 'instance', registered: 2 });
    expect(registered(arn)).toEqual(['i-0aaa:30080', 'i-0bbb:30080']);
    expect(fake.actions().filter((a) => /TargetGroup|Tags/.test(a) && !a.startsWith('Describe'))).toEqual([]);
    expect(fake.tags.get(arn)).toEqual({});
  });

  it('by spec.targetGroupName: the group is found by name', async () => {
    const arn = fake.addTargetGroup({ name: 'users-named', targetType: 'ip' });
    await provider({ vpcId: 'vpc-1' }).bindTargets(binding({ name: 'users-named' }));
    expect(fake.all('DescribeTargetGroups')[0]?.params).toEqual({ 'Names.member.1': 'users-named' });
    expect(registered(arn)).toEqual(['10.0.1.10:8080', '10.0.1.11:8080']);
  });

  it('networking: one rule per peer and port on the tagged node group, tagged for the binding; a rerun adds nothing; a rule dropped from the spec is revoked', async () => {
    const arn = fake.addTargetGroup({ name: 'users-inst', targetType: 'instance' });
    const p = provider({ vpcId: 'vpc-1' });
    const access: TargetBinding['access'] = [
      { from: { securityGroup: 'sg-0alb' }, protocol: 'tcp', fromPort: 30080, toPort: 30080 },
      { from: { cidr: '192.168.0.0/16' }, protocol: 'tcp', fromPort: 0, toPort: 65535 },
    ];
    await p.bindTargets(binding({ arn }, { access }));
    const auth = fake.all('AuthorizeSecurityGroupIngress');
    expect(auth).toHaveLength(1);
    expect(auth[0]?.params).toMatchObject({
      GroupId: NODE_SG,
      'IpPermissions.1.IpProtocol': 'tcp',
      'IpPermissions.1.FromPort': '30080',
      'IpPermissions.1.ToPort': '30080',
      'IpPermissions.1.Groups.1.GroupId': 'sg-0alb',
      'IpPermissions.2.IpProtocol': 'tcp',
      'IpPermissions.2.FromPort': '0',
      'IpPermissions.2.ToPort': '65535',
      'IpPermissions.2.IpRanges.1.CidrIp': '192.168.0.0/16',
      'TagSpecification.1.ResourceType': 'security-group-rule',
    });
    // Rules first, then the targets: traffic may reach them as soon as they are in.
    expect(fake.writes().map((w) => w.action)).toEqual(['AuthorizeSecurityGroupIngress', 'RegisterTargets']);
    const rules = fake.securityGroups.get(NODE_SG)?.ingress ?? [];
    expect(rules.map((x) => x.tags)).toEqual([0, 1].map(() => expect.objectContaining({ 'lbc.dev/cluster': CLUSTER, 'lbc.dev/owner-kind': 'TargetGroupBinding', 'lbc.dev/owner-uid': REF.uid })));

    fake.resetLog();
    await p.bindTargets(binding({ arn }, { access }));
    expect(fake.writes()).toEqual([]);

    await p.bindTargets(binding({ arn }, { access: access.slice(0, 1) }));
    expect(fake.writes().map((w) => w.action)).toEqual(['RevokeSecurityGroupIngress']);
    expect((fake.securityGroups.get(NODE_SG)?.ingress ?? []).map((x) => `${x.from}-${x.to} ${x.source ?? x.cidr}`)).toEqual(['30080-30080 sg-0alb']);
  });

  it('delete: every target of the group out, the binding\'s rules revoked, nobody else\'s rule; a group already gone is no error', async () => {
    const arn = fake.addTargetGroup({ name: 'users-inst', targetType: 'instance' });
    fake.addIngressRule(NODE_SG, { protocol: 'tcp', from: 22, to: 22, source: '10.0.0.0/8' });
    const p = provider({ vpcId: 'vpc-1' });
    await p.bindTargets(binding({ arn }, { access: [{ from: { securityGroup: 'sg-0alb' }, protocol: 'tcp', fromPort: 30080, toPort: 30080 }] }));
    // A target someone else put in: ALBC's Cleanup deregisters every target of the group too.
    fake.tgs.get(arn)?.targets.set('i-0ccc:30080', { id: 'i-0ccc', port: 30080 });
    fake.resetLog();
    await p.unbindTargets(REF, { arn });
    expect(writeLines()).toEqual([
      `DeregisterTargets TargetGroupArn=${arn} Targets.member.1.Id=i-0aaa Targets.member.1.Port=30080 Targets.member.2.Id=i-0bbb Targets.member.2.Port=30080 Targets.member.3.Id=i-0ccc Targets.member.3.Port=30080`,
      expect.stringMatching(/^RevokeSecurityGroupIngress GroupId=sg-0node SecurityGroupRuleId\.1=sgr-/),
    ]);
    expect(registered(arn)).toEqual([]);
    expect((fake.securityGroups.get(NODE_SG)?.ingress ?? []).map((x) => `${x.from} ${x.cidr}`)).toEqual(['22 10.0.0.0/8']);
    expect(fake.tgs.has(arn)).toBe(true);

    fake.tgs.delete(arn);
    fake.resetLog();
    await p.unbindTargets(REF, { arn });
    expect(fake.writes()).toEqual([]);
  });

  it('spec.targetType ip on an instance group: refused before any write, naming both types', async () => {
    const arn = fake.addTargetGroup({ name: 'users-inst', targetType: 'instance' });
    const err = await provider({ vpcId: 'vpc-1' })
      .bindTargets(binding({ arn }, { targetType: 'ip' }))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect(err).toMatchObject({ kind: 'invalid' });
    expect((err as Error).message).toMatch(/spec\.targetType is ip but target group .*users-inst.* has target type instance/);
    expect(fake.writes()).toEqual([]);
  });

  it('the fake refuses ip targets in an instance group as ELBv2 does (ValidationError, "Instance ID \'…\' is not valid")', async () => {
    const arn = fake.addTargetGroup({ name: 'users-inst', targetType: 'instance' });
    const client = new ElasticLoadBalancingV2Client({ region: REGION, endpoint: ELB_HOST, ...fakeClients().clientConfig, maxAttempts: 1 });
    const err = await client.send(new RegisterTargetsCommand({ TargetGroupArn: arn, Targets: [{ Id: '10.0.1.10', Port: 8080 }] })).catch((e: unknown) => e as { name: string; message: string });
    client.destroy();
    expect(err).toMatchObject({ name: 'ValidationError', message: "Instance ID '10.0.1.10' is not valid" });
    expect(registered(arn)).toEqual([]);
  });

  it('VPC: a group outside the cluster\'s VPC is refused unless spec.vpcID names it (ip only); a wrong spec.vpcID is refused', async () => {
    const other = fake.addTargetGroup({ name: 'users-other-vpc', targetType: 'ip', vpcId: 'vpc-2' });
    const p = provider({ vpcId: 'vpc-1' });
    await expect(p.bindTargets(binding({ arn: other }))).rejects.toThrow(/is in vpc-2, the cluster in vpc-1; set spec\.vpcID: vpc-2/);
    await expect(p.bindTargets(binding({ arn: other }, { vpcId: 'vpc-3' }))).rejects.toThrow(/spec\.vpcID vpc-3 does not match the VPC of target group .*, vpc-2/);
    expect(fake.writes()).toEqual([]);
    await p.bindTargets(binding({ arn: other }, { vpcId: 'vpc-2' }));
    expect(registered(other)).toEqual(['10.0.1.10:8080', '10.0.1.11:8080']);
    const inst = fake.addTargetGroup({ name: 'users-other-inst', targetType: 'instance', vpcId: 'vpc-2' });
    await expect(p.bindTargets(binding({ arn: inst }, { vpcId: 'vpc-2' }))).rejects.toThrow(/not the cluster's VPC vpc-1: the nodes cannot be its instance targets/);
  });

  it('a group that does not exist, or of another kind (lambda), or another address family: refused, saying which', async () => {
    const p = provider({ vpcId: 'vpc-1' });
    await expect(p.bindTargets(binding({ name: 'nope' }))).rejects.toThrow(/target group named nope does not exist/);
    const lambda = fake.addTargetGroup({ name: 'users-fn', targetType: 'lambda' });
    await expect(p.bindTargets(binding({ arn: lambda }))).rejects.toThrow(/has target type lambda; a TargetGroupBinding registers ip or instance targets only/);
    const v6 = fake.addTargetGroup({ name: 'users-v6', targetType: 'ip', ipAddressType: 'ipv6' });
    await expect(p.bindTargets(binding({ arn: v6 }, { ipAddressType: 'ipv4' }))).rejects.toThrow(/spec\.ipAddressType is ipv4 but target group .* is ipv6/);
    // Without the field the group's family decides, and endpoints of the other family are skipped aloud.
    const r = await p.bindTargets(binding({ arn: v6 }, { podTargets: [{ ip: '10.0.1.10', port: 8080 }, { ip: 'fd00::10', port: 8080 }] }));
    expect(registered(v6)).toEqual(['fd00::10:8080']);
    expect(r.warnings.join()).toMatch(/1 endpoint\(s\) skipped: not IPv6.*10\.0\.1\.10/);
    expect(fake.writes().map((w) => w.action)).toEqual(['RegisterTargets']);
  });

  it('instance targets without a node port: refused, naming the Service', async () => {
    const arn = fake.addTargetGroup({ name: 'users-inst', targetType: 'instance' });
    const { nodeTargets: _none, ...b } = binding({ arn });
    await expect(provider({ vpcId: 'vpc-1' }).bindTargets(b)).rejects.toThrow(/Service shop\/web has no node port.*instance targets need one/);
  });
});
