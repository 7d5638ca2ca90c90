// Subnet discovery and resolution through the real EC2 client against the fake.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveSubnets, type SubnetQuery } from '../../../src/providers/aws/subnets.js';
import { ProviderError } from '../../../src/providers/types.js';
import { FakeAws } from './fake-aws.js';
import { nlbSpec, provider } from './support.js';

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
