// First contact with an account, through the real SDK clients against the fake: the VPC
// found without vpcId (ALBC pkg/aws/cloud.go inferVPCID: instance metadata, then EC2
// instances), the clusterName checked against what the VPC is tagged with, and subnet
// discovery by reachability when no subnet carries a role tag (ALBC >= 2.12.1,
// docs/deploy/subnet_discovery.md).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeAws } from './fake-aws.js';
import { CLUSTER, nlbSpec, provider } from './support.js';
import type { NodeTarget } from '../../../src/model/spec.js';

let fake: FakeAws;
let info: string[];
let warn: string[];
const logger = () => ({ info: (m: string) => info.push(m), warn: (m: string) => warn.push(m) });

beforeEach(() => {
  fake = new FakeAws().install();
  info = [];
  warn = [];
});
afterEach(() => fake.uninstall());

/** Nodes whose providerIDs name EC2 instances as EC2 forms their ids. */
const ec2Nodes = (...ids: string[]): NodeTarget[] =>
  ids.map((id, i) => ({ name: `ip-10-0-0-${i + 10}`, addresses: [{ type: 'InternalIP', address: `10.0.0.${i + 10}` }], providerID: `aws:///us-east-1a/${id}` }));

const I1 = 'i-0123456789abcdef0';
const I2 = 'i-0fedcba9876543210';

/** Two VPCs whose subnets are both tagged for internal load balancers: region-wide discovery cannot choose. */
function twoVpcs(): void {
  const role = { 'kubernetes.io/role/internal-elb': '1' };
  fake.addSubnet({ id: 'subnet-01a', vpcId: 'vpc-1', az: 'us-east-1a', tags: role });
  fake.addSubnet({ id: 'subnet-02a', vpcId: 'vpc-2', az: 'us-east-1a', tags: role });
  fake.addSubnet({ id: 'subnet-02b', vpcId: 'vpc-2', az: 'us-east-1b', tags: role });
}

describe('the VPC without vpcId', () => {
  it('on an EC2 instance: from its instance metadata (IMDSv2: mac, then its vpc-id), said in the log; discovery stays in that VPC', async () => {
    twoVpcs();
    fake.imds = { mac: '0e:1a:2b:3c:4d:5e', vpcId: 'vpc-2' };
    const p = provider({}, { logger: logger() });
    await p.ensure(nlbSpec({ targets: ec2Nodes(I1) }));
    expect(fake.imdsRequests).toEqual([
      'PUT /latest/api/token',
      'GET /latest/meta-data/mac',
      'PUT /latest/api/token',
      'GET /latest/meta-data/network/interfaces/macs/0e:1a:2b:3c:4d:5e/vpc-id',
    ]);
    expect(fake.all('DescribeInstances')).toEqual([]);
    expect(fake.all('DescribeSubnets').map((r) => r.params)).toContainEqual({
      'Filter.1.Name': 'tag-key',
      'Filter.1.Value.1': 'kubernetes.io/role/internal-elb',
      'Filter.2.Name': 'vpc-id',
      'Filter.2.Value.1': 'vpc-2',
    });
    expect(fake.last('CreateSecurityGroup')?.params['VpcId']).toBe('vpc-2');
    expect(info).toContain("aws: VPC vpc-2 (no vpcId in the options): found from the instance metadata of the controller's instance");
    // Once: a second object asks nothing again.
    await p.ensure(nlbSpec({ targets: ec2Nodes(I1), ref: { kind: 'Service', namespace: 'shop', name: 'api', uid: 'uid-api' } }));
    expect(fake.imdsRequests).toHaveLength(4);
  });

  it("off EC2 (no instance metadata): from the Nodes' instances through DescribeInstances, said in the log", async () => {
    twoVpcs();
    fake.addInstance({ id: I1, vpcId: 'vpc-2' });
    fake.addInstance({ id: I2, vpcId: 'vpc-2' });
    const p = provider({}, { logger: logger() });
    await p.ensure(nlbSpec({ targets: ec2Nodes(I2, I1) }));
    expect(fake.all('DescribeInstances').map((r) => r.params)).toEqual([{ 'InstanceId.1': I1, 'InstanceId.2': I2 }]);
    expect(fake.last('CreateSecurityGroup')?.params['VpcId']).toBe('vpc-2');
    expect(info).toContain(`aws: VPC vpc-2 (no vpcId in the options): found from the Nodes' instances (${I1}, ${I2}) through DescribeInstances`);
  });

  it('Nodes in several VPCs: nothing is guessed, the log says why and what to set, and discovery refuses the two VPCs', async () => {
    twoVpcs();
    fake.addInstance({ id: I1, vpcId: 'vpc-1' });
    fake.addInstance({ id: I2, vpcId: 'vpc-2' });
    const p = provider({}, { logger: logger() });
    await expect(p.ensure(nlbSpec({ targets: ec2Nodes(I1, I2) }))).rejects.toThrow(/subnets tagged kubernetes.io\/role\/internal-elb are in several VPCs \(vpc-1, vpc-2\)/);
    expect(info.join('\n')).toMatch(/cannot tell the cluster's VPC: no instance metadata \(.*EHOSTUNREACH.*\); the Nodes' instances are in several VPCs \(vpc-1, vpc-2\); set vpcId/);
  });

  it('a terminated instance (InvalidInstanceID.NotFound, as EC2 answers): no VPC, no outage', async () => {
    twoVpcs();
    const p = provider({}, { logger: logger() });
    await expect(p.ensure(nlbSpec({ targets: ec2Nodes(I1) }))).rejects.toThrow(/several VPCs/);
    expect(info.join('\n')).toMatch(new RegExp(`DescribeInstances ${I1}: DescribeInstances: InvalidInstanceID.NotFound`));
  });
});

describe('clusterName against the VPC tags', () => {
  const other = 'kubernetes.io/cluster/eks-prod-1';

  it('tagged for another name only: one warn line, and a Warning on each object ensured', async () => {
    fake.addSubnet({ id: 'subnet-0a', az: 'us-east-1a', tags: { 'kubernetes.io/role/internal-elb': '1', [other]: 'shared' } });
    fake.addSubnet({ id: 'subnet-0b', az: 'us-east-1b', tags: { 'kubernetes.io/role/internal-elb': '1' } });
    fake.addSecurityGroup({ id: 'sg-0nodes', name: 'eks-nodes', tags: { [other]: 'owned' } });
    const p = provider({ vpcId: 'vpc-1' }, { logger: logger() });
    const a = await p.ensure(nlbSpec());
    const b = await p.ensure(nlbSpec({ ref: { kind: 'Service', namespace: 'shop', name: 'api', uid: 'uid-api' } }));
    const mismatch = warn.filter((w) => w.includes('is on no kubernetes.io/cluster/<name> tag'));
    expect(mismatch).toEqual([
      `aws: clusterName "${CLUSTER}" is on no kubernetes.io/cluster/<name> tag in vpc-1: its subnets and security groups are tagged for "eks-prod-1" (sg-0nodes, subnet-0a), ` +
        'so subnet discovery turns them down and no node security group gets backend rules; set clusterName (--cluster-name) to the cluster\'s name, or tag them kubernetes.io/cluster/prod',
    ]);
    for (const status of [a, b]) expect(status.notices?.some((n) => n.type === 'Warning' && n.message.includes('is on no kubernetes.io/cluster/<name> tag in vpc-1'))).toBe(true);
    // Read once, at the first ensure: the subnets and security groups of the VPC.
    expect(fake.all('DescribeSubnets').filter((r) => r.params['Filter.1.Name'] === 'vpc-id')).toHaveLength(1);
  });

  it('the name found on a subnet or node group: nothing said', async () => {
    fake.addSubnet({ id: 'subnet-0a', az: 'us-east-1a', tags: { 'kubernetes.io/role/internal-elb': '1', [other]: 'shared', 'kubernetes.io/cluster/prod': 'shared' } });
    const p = provider({ vpcId: 'vpc-1' }, { logger: logger() });
    const status = await p.ensure(nlbSpec());
    expect(warn.filter((w) => w.includes('is on no'))).toEqual([]);
    expect((status.notices ?? []).filter((n) => n.message.includes('is on no'))).toEqual([]);
    // What it does say is the node group it still lacks, which the mismatch message would have explained.
    expect(status.notices?.map((n) => n.message)).toEqual([expect.stringMatching(/^service.beta.kubernetes.io\/aws-load-balancer-manage-backend-security-group-rules: no security group in vpc-1 is tagged kubernetes.io\/cluster\/prod/)]);
  });
});

describe('subnets when none carries a role tag (ALBC >= 2.12.1: by reachability)', () => {
  beforeEach(() => {
    fake.addSubnet({ id: 'subnet-pub-a', az: 'us-east-1a' });
    fake.addSubnet({ id: 'subnet-pub-b', az: 'us-east-1b' });
    fake.addSubnet({ id: 'subnet-prv-a', az: 'us-east-1a' });
    fake.addSubnet({ id: 'subnet-prv-b', az: 'us-east-1b', tags: { 'kubernetes.io/cluster/someone-else': 'owned' } });
    fake.addSubnet({ id: 'subnet-prv-c', az: 'us-east-1c' });
    // Public: their own table routes 0.0.0.0/0 to an internet gateway; the rest use the main table, which does not.
    fake.addRouteTable({ id: 'rtb-main', main: true });
    fake.addRouteTable({ id: 'rtb-public', subnets: ['subnet-pub-a', 'subnet-pub-b'], igw: true });
    fake.addRouteTable({ id: 'rtb-other-vpc', vpcId: 'vpc-9', main: true, igw: true });
  });

  it('internet-facing: the public subnets, said once in the log', async () => {
    const p = provider({ vpcId: 'vpc-1' }, { logger: logger() });
    await p.ensure(nlbSpec({ annotations: { 'service.beta.kubernetes.io/aws-load-balancer-scheme': 'internet-facing' } }));
    expect(fake.last('DescribeRouteTables')?.params).toEqual({ 'Filter.1.Name': 'vpc-id', 'Filter.1.Value.1': 'vpc-1' });
    expect([...fake.lbs.values()][0]?.subnets.map((s) => s.subnetId).sort()).toEqual(['subnet-pub-a', 'subnet-pub-b']);
    expect(info.filter((m) => m.includes('aws-load-balancer-controller >= 2.12.1'))).toEqual([
      'aws: no subnet in vpc-1 is tagged kubernetes.io/role/elb: internet-facing load balancers go in its public subnets (route to an internet gateway), as aws-load-balancer-controller >= 2.12.1 does; ' +
        'tag subnets kubernetes.io/role/elb=1 and kubernetes.io/cluster/prod=shared, or name them in service.beta.kubernetes.io/aws-load-balancer-subnets to choose them',
    ]);
    await p.ensure(nlbSpec({ annotations: { 'service.beta.kubernetes.io/aws-load-balancer-scheme': 'internet-facing' } }));
    expect(info.filter((m) => m.includes('aws-load-balancer-controller >= 2.12.1'))).toHaveLength(1);
  });

  it("internal: the private subnets, the cluster-tag check still applied (another cluster's subnet turned down)", async () => {
    const p = provider({ vpcId: 'vpc-1' }, { logger: logger() });
    await p.ensure(nlbSpec());
    expect([...fake.lbs.values()][0]?.subnets.map((s) => s.subnetId).sort()).toEqual(['subnet-prv-a', 'subnet-prv-c']);
  });
});
