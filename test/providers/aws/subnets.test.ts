// Subnet discovery and resolution through the real EC2 client against the fake.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveSubnets, type SubnetQuery } from '../../../src/providers/aws/subnets.js';
import { ProviderError } from '../../../src/providers/types.js';
import { FakeAws } from './fake-aws.js';
import { CLASS_PARAMS_SUBNET_TAGS, INGRESS_PREFIX, parseAwsOptions } from '../../../src/providers/aws/annotations.js';
import { albSpec, nlbSpec, provider } from './support.js';

let fake: FakeAws;
beforeEach(() => {
  fake = new FakeAws().install();
});
afterEach(() => fake.uninstall());

const query = (q: Partial<SubnetQuery> = {}): SubnetQuery => ({
  clusterName: 'prod',
  scheme: 'internal',
  minZones: 1,
  annotation: 'service.beta.kubernetes.io/aws-load-balancer-subnets',
  provider: 'aws',
  ...q,
});

const resolve = (q: Partial<SubnetQuery> = {}) => resolveSubnets(provider().api, query(q));
const failure = async (q: Partial<SubnetQuery> = {}): Promise<ProviderError> => {
  const e = await resolve(q).then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(ProviderError);
  expect((e as ProviderError).kind).toBe('invalid');
  return e as ProviderError;
};

describe('discovery', () => {
  it('one subnet per zone: tagged for this cluster first, then the lowest ID', async () => {
    const role = { 'kubernetes.io/role/internal-elb': '1' };
    fake.addSubnet({ id: 'subnet-0a3', az: 'us-east-1a', tags: { ...role, 'kubernetes.io/cluster/prod': 'shared' } });
    fake.addSubnet({ id: 'subnet-0a1', az: 'us-east-1a', tags: role });
    fake.addSubnet({ id: 'subnet-0b2', az: 'us-east-1b', tags: role });
    fake.addSubnet({ id: 'subnet-0b1', az: 'us-east-1b', tags: { 'kubernetes.io/role/internal-elb': '' } });
    fake.addSubnet({ id: 'subnet-0c1', az: 'us-east-1c', tags: { 'kubernetes.io/role/elb': '1' } });
    expect((await resolve()).map((s) => s.id)).toEqual(['subnet-0a3', 'subnet-0b1']);
    expect(fake.last('DescribeSubnets')?.params).toEqual({ 'Filter.1.Name': 'tag-key', 'Filter.1.Value.1': 'kubernetes.io/role/internal-elb' });
  });

  it('filters by the configured VPC', async () => {
    fake.addSubnet({ id: 'subnet-01', az: 'us-east-1a', vpcId: 'vpc-2', tags: { 'kubernetes.io/role/elb': '1' } });
    expect((await resolve({ scheme: 'internet-facing', vpcId: 'vpc-2' })).map((s) => s.id)).toEqual(['subnet-01']);
    expect(fake.last('DescribeSubnets')?.params).toMatchObject({ 'Filter.2.Name': 'vpc-id', 'Filter.2.Value.1': 'vpc-2' });
  });

  it('nothing tagged, nothing reachable either: says which tag and which reachability it looked for and what to do', async () => {
    const e = await failure({ vpcId: 'vpc-1' });
    expect(e.message).toBe(
      'no subnet in vpc-1 is tagged kubernetes.io/role/internal-elb, nor is any private (without a route to an internet gateway), for an internal load balancer; tag subnets kubernetes.io/role/internal-elb=1 and kubernetes.io/cluster/prod=shared, or name them in service.beta.kubernetes.io/aws-load-balancer-subnets',
    );
  });

  it('nothing tagged and no VPC known: no fallback across the region, says which tag it looked for', async () => {
    fake.addSubnet({ id: 'subnet-01', az: 'us-east-1a' });
    fake.addRouteTable({ id: 'rtb-main', main: true });
    const e = await failure();
    expect(e.message).toBe(
      'no subnet is tagged kubernetes.io/role/internal-elb for an internal load balancer; tag subnets kubernetes.io/role/internal-elb=1 and kubernetes.io/cluster/prod=shared, or name them in service.beta.kubernetes.io/aws-load-balancer-subnets',
    );
    expect(fake.all('DescribeRouteTables')).toEqual([]);
  });

  it('every candidate rejected: lists each with its reason', async () => {
    fake.addSubnet({ id: 'subnet-01', az: 'us-east-1a', tags: { 'kubernetes.io/role/internal-elb': '0' } });
    fake.addSubnet({ id: 'subnet-02', az: 'us-east-1b', tags: { 'kubernetes.io/role/internal-elb': '1', 'kubernetes.io/cluster/staging': 'owned' } });
    fake.addSubnet({ id: 'subnet-03', az: 'us-east-1c', tags: { 'kubernetes.io/role/internal-elb': '1', 'kubernetes.io/cluster/prod': 'maybe' } });
    fake.addSubnet({ id: 'subnet-04', az: 'us-east-1d', free: 2, tags: { 'kubernetes.io/role/internal-elb': '1' } });
    const e = await failure();
    expect(e.message).toContain('needs 1 availability zone, none qualifies); candidates: ');
    expect(e.message).toContain('subnet-01 (us-east-1a): kubernetes.io/role/internal-elb is "0" (must be "1" or empty)');
    expect(e.message).toContain('subnet-02 (us-east-1b): tagged for another cluster (staging), not prod');
    expect(e.message).toContain('subnet-03 (us-east-1c): kubernetes.io/cluster/prod is "maybe" (must be owned or shared)');
    expect(e.message).toContain('subnet-04 (us-east-1d): only 2 free addresses (needs 8)');
  });

  it('candidates in several VPCs and no vpcId configured: refuses to guess', async () => {
    fake.addSubnet({ id: 'subnet-01', az: 'us-east-1a', vpcId: 'vpc-1', tags: { 'kubernetes.io/role/internal-elb': '1' } });
    fake.addSubnet({ id: 'subnet-02', az: 'us-east-1b', vpcId: 'vpc-2', tags: { 'kubernetes.io/role/internal-elb': '1' } });
    expect((await failure()).message).toMatch(/are in several VPCs \(vpc-1, vpc-2\); set vpcId in the provider options/);
  });
});

describe('named subnets', () => {
  beforeEach(() => {
    fake.addSubnet({ id: 'subnet-0a', az: 'us-east-1a', tags: { Name: 'private-a' } });
    fake.addSubnet({ id: 'subnet-0b', az: 'us-east-1b', tags: { Name: 'private-b' } });
    fake.addSubnet({ id: 'subnet-0c', az: 'us-east-1a', tags: { Name: 'dup' } });
    fake.addSubnet({ id: 'subnet-0d', az: 'us-east-1c', tags: { Name: 'dup' } });
    fake.addSubnet({ id: 'subnet-0e', az: 'us-east-1e', vpcId: 'vpc-9' });
  });

  it('IDs and Name tags, in the order given', async () => {
    expect((await resolve({ requested: ['private-b', 'subnet-0a'] })).map((s) => s.id)).toEqual(['subnet-0b', 'subnet-0a']);
  });

  it.each([
    [['nope'], /no subnet has the Name tag "nope"/],
    [['dup'], /the Name tag "dup" matches subnet-0c, subnet-0d; use subnet IDs/],
    [['subnet-0a', 'subnet-0c'], /subnet-0a and subnet-0c are both in us-east-1a; give one subnet per availability zone/],
    [['subnet-0a', 'subnet-0e'], /the subnets are in different VPCs/],
    [['subnet-0fff'], /InvalidSubnetID.NotFound/],
  ])('%j is refused: %s', async (requested, why) => {
    expect((await failure({ requested })).message).toMatch(why);
  });

  it('an ALB needs two zones even when named', async () => {
    expect((await failure({ requested: ['subnet-0a'], minZones: 2 })).message).toMatch(/needs subnets in at least 2 availability zones, got 1/);
  });

  it('the provider config can name default subnets per scheme', async () => {
    const p = provider({ subnets: { internal: ['private-a', 'private-b'] } });
    const changes = await p.plan(nlbSpec());
    expect(changes.find((c) => c.resource === 'LoadBalancer')?.detail).toBe('network internal in subnet-0a, subnet-0b');
  });
});

// aws-load-balancer-controller v3.5 pkg/networking/subnet_resolver.go ResolveViaSelector
// (IngressClassParams spec.subnets.tags, docs/guide/ingress/ingress_class.md; a Gateway's
// loadBalancerSubnetsSelector): DescribeSubnets with vpc-id and one tag:<key> filter per key,
// then chooseAndValidateSubnetsPerAZ: other clusters' subnets and those with fewer than 8
// free addresses out, one per zone (this cluster's tag first, then the lowest ID).
describe('subnets by a tag selector (ALBC subnet_resolver.go ResolveViaSelector)', () => {
  const field = 'IngressClassParams spec.subnets.tags';
  const selector = (tags: Record<string, string[]>) => ({ selector: { tags, field }, vpcId: 'vpc-1', minZones: 2 });

  beforeEach(() => {
    fake.addSubnet({ id: 'subnet-0a2', az: 'us-east-1a', tags: { env: 'prod', tier: 'web' } });
    fake.addSubnet({ id: 'subnet-0a9', az: 'us-east-1a', tags: { env: 'prod', tier: 'web', 'kubernetes.io/cluster/prod': 'shared' } });
    fake.addSubnet({ id: 'subnet-0b1', az: 'us-east-1b', tags: { env: 'staging', tier: 'web' } });
    fake.addSubnet({ id: 'subnet-0b2', az: 'us-east-1b', tags: { env: 'prod', tier: 'web' } });
    fake.addSubnet({ id: 'subnet-0c1', az: 'us-east-1c', tags: { env: 'prod', tier: 'web', 'kubernetes.io/cluster/other': 'owned' } });
    fake.addSubnet({ id: 'subnet-0d1', az: 'us-east-1d', free: 4, tags: { env: 'prod', tier: 'web' } });
    fake.addSubnet({ id: 'subnet-0e1', az: 'us-east-1e', tags: { env: 'prod', tier: 'db' } });
    fake.addSubnet({ id: 'subnet-0f1', az: 'us-east-1f', vpcId: 'vpc-2', tags: { env: 'prod', tier: 'web' } });
  });

  it('sends vpc-id and one tag:<key> filter per key (values ORed, keys ANDed); one subnet per zone, this cluster\'s first, then the lowest ID', async () => {
    const chosen = await resolve(selector({ tier: ['web'], env: ['prod', 'staging'] }));
    expect(fake.last('DescribeSubnets')?.params).toEqual({
      'Filter.1.Name': 'vpc-id',
      'Filter.1.Value.1': 'vpc-1',
      'Filter.2.Name': 'tag:env',
      'Filter.2.Value.1': 'prod',
      'Filter.2.Value.2': 'staging',
      'Filter.3.Name': 'tag:tier',
      'Filter.3.Value.1': 'web',
    });
    // 1a: the one tagged for this cluster over the lower ID; 1b: the lowest ID; 1c another
    // cluster's, 1d too few addresses, 1e not tier=web, 1f another VPC.
    expect(chosen.map((s) => [s.id, s.az])).toEqual([
      ['subnet-0a9', 'us-east-1a'],
      ['subnet-0b1', 'us-east-1b'],
    ]);
  });

  it('needs no role tag: the selector replaces discovery\'s kubernetes.io/role/* tags', async () => {
    expect((await resolve(selector({ env: ['prod'] }))).map((s) => s.id)).toEqual(['subnet-0a9', 'subnet-0b2', 'subnet-0e1']);
    expect(Object.values(fake.last('DescribeSubnets')?.params ?? {}).some((v) => v.startsWith('kubernetes.io/role'))).toBe(false);
  });

  it('no subnet matches: says which tags it looked for, where', async () => {
    expect((await failure(selector({ tier: ['cache'] }))).message).toBe(`${field}: unable to resolve at least one subnet: no subnet in vpc-1 has tier in (cache)`);
  });

  it('every match turned down: ALBC\'s count of other clusters\' and short-of-addresses subnets, then each with why', async () => {
    fake.addSubnet({ id: 'subnet-0g1', az: 'us-east-1a', tags: { only: 'x', 'kubernetes.io/cluster/other': 'owned' } });
    fake.addSubnet({ id: 'subnet-0g2', az: 'us-east-1b', free: 3, tags: { only: 'x' } });
    expect((await failure(selector({ only: ['x'] }))).message).toBe(
      `${field}: unable to resolve at least one subnet. Evaluated 2 subnets: 1 are tagged for other clusters, and 1 have insufficient available IP addresses ` +
        '(subnets in vpc-1 with only in (x): subnet-0g1 (us-east-1a): tagged for another cluster (other), not prod; subnet-0g2 (us-east-1b): only 3 free addresses (needs 8))',
    );
  });

  it('an ALB needs two zones: ALBC\'s minimal-count error, with the zones that qualify and why the rest did not', async () => {
    expect((await failure(selector({ tier: ['web', 'db'], env: ['staging'] }))).message).toBe(
      `${field}: subnets count less than minimal required count: 1 < 2 (one per availability zone; only subnet-0b1 (us-east-1b) qualifies)`,
    );
    expect((await failure({ ...selector({ env: ['prod'], tier: ['web'] }), minZones: 4 })).message).toBe(
      `${field}: subnets count less than minimal required count: 2 < 4 (one per availability zone; only subnet-0a9 (us-east-1a), subnet-0b2 (us-east-1b) qualify; ` +
        'subnets in vpc-1 with env in (prod) and tier in (web): subnet-0c1 (us-east-1c): tagged for another cluster (other), not prod; subnet-0d1 (us-east-1d): only 4 free addresses (needs 8); subnet-0a2 (us-east-1a): subnet-0a9 preferred in the same zone)',
    );
  });

  it('no VPC known: no vpc-id filter, and matches in several VPCs are refused rather than guessed', async () => {
    const e = await failure({ selector: { tags: { tier: ['web'] }, field }, minZones: 2 });
    expect(fake.last('DescribeSubnets')?.params).toEqual({ 'Filter.1.Name': 'tag:tier', 'Filter.1.Value.1': 'web' });
    expect(e.message).toBe(`${field}: the subnets with tier in (web) are in several VPCs (vpc-1, vpc-2); set vpcId in the provider options`);
  });

  it('named subnets win over the selector', async () => {
    expect((await resolve({ ...selector({ tier: ['web'] }), requested: ['subnet-0b2', 'subnet-0c1'] })).map((s) => s.id)).toEqual(['subnet-0b2', 'subnet-0c1']);
    expect(fake.all('DescribeSubnets').map((r) => r.params['Filter.1.Name'])).toEqual([undefined]);
  });

  it('an Ingress whose IngressClassParams select subnets by tags: the ALB is planned in the chosen ones, over the provider\'s default subnets', async () => {
    const p = provider({ vpcId: 'vpc-1', subnets: { internetFacing: ['subnet-0e1', 'subnet-0c1'] } });
    const changes = await p.plan(albSpec({ annotations: { [CLASS_PARAMS_SUBNET_TAGS]: JSON.stringify({ tier: ['web'], env: ['prod', 'staging'] }) } }));
    expect(changes.find((c) => c.resource === 'LoadBalancer')?.detail).toBe('application internet-facing in subnet-0a9, subnet-0b1');
  });

  it('an Ingress group where one member\'s params select by tags and another names subnets: refused as ALBC does', () => {
    const r = parseAwsOptions({ [CLASS_PARAMS_SUBNET_TAGS]: '{"tier":["web"]}', [`${INGRESS_PREFIX}subnets`]: 'subnet-0b2,subnet-0c1' }, 'Ingress');
    expect(r.ok ? [] : r.errors).toEqual([
      { annotation: `${INGRESS_PREFIX}subnets`, reason: "conflicting subnet specifications: IngressClassParams versus annotation (the class's spec.subnets.tags selects the subnets of this group)" },
    ]);
  });
});
