// AWS API calls the aws provider makes for one NLB Service (the seed: TCP 80 and
// 443 to node ports, 30 instance targets, subnet discovery, a managed frontend security
// group, backend rules on a node security group tagged for the cluster through the
// cluster's shared backend security group): create, a no-op ensure (what a resync or a
// restart costs when nothing changed) and delete; then the same for Services with ip
// targets on one pod port, whose node rule is shared through the backend group too.
// Calls are counted on the provider's own SDK clients (every attempt), against moto or
// LocalStack when AWS_ENDPOINT_URL (or LOCALSTACK_ENDPOINT) is set, else against the
// stateful nock fake of ELBv2 + EC2 the tests use (test/providers/aws/fake-aws.ts).
//
// Each figure is set against the minimum a correct implementation needs, derived from
// what the operation must read and write, not from what lbc does:
//   - every write is one call: a security group and its rules are two (EC2 takes no
//     rules in CreateSecurityGroup), each target group one plus one RegisterTargets,
//     the NLB one, each listener one; the shared backend group once per cluster (its
//     create, and its one rule per node group: TCP and UDP node port range in one call),
//     so a load balancer after the first adds no node rule at all, where a rule per load
//     balancer and port would fill the node group's rule quota;
//   - before writing, each kind must be read once, since a crash or another writer may
//     have left anything there: subnets, the object's security groups (EC2 filters by
//     tag), its load balancers and target groups (ELBv2 cannot filter by tag: the
//     cluster's resources are listed and their tags read, which a running process does
//     once and then keeps current; a warm process reads its own LB/TG tags, 1 call), the
//     load balancer name (an untagged LB of that name must not be adopted, when none is
//     owned), its backend rules (EC2 filters by tag: rules of its own left from before
//     the shared group, or from backendSecurityGroup.enabled: false, to revoke) and the node
//     groups (whose listing shows whether they let the shared group in already); the
//     shared backend group, once per process (then lbc, its only creator and deleter,
//     knows it); each existing
//     target group's targets (DescribeTargetHealth) and, since lbc manages stickiness
//     for sessionAffinity on every NLB group, its attributes (one call per group: ELBv2
//     has no batch read), the existing target groups (one call), each existing listener
//     set (DescribeListeners), each existing load balancer (DescribeLoadBalancers);
//   - once per process, before its first load balancer, the clusterName check: the VPC's
//     subnets and security groups (2 reads), so a name the VPC is not tagged with is said;
//   - a resync writes nothing;
//   - delete reads what it deletes (tags of its LB/TGs, its SGs, its backend rules) and
//     makes one call per resource; then it offers the shared backend group back: whether
//     another of the cluster's load balancers has it attached (one DescribeLoadBalancers
//     of up to 20 of the inventory's ARNs, stopping at the first that has it; none when
//     the inventory holds no other), and when none does, its node rules (read by tag,
//     revoked in one call per node group) and the group are deleted. A delete that finds
//     nothing of its own still asks, so a release cut short is finished by the next.
import nock from 'nock';
import type { L4Spec, NodeTarget } from '../src/model/spec.js';
import type { AwsLbOptions } from '../src/providers/aws/annotations.js';
import type { CallEvent } from '../src/providers/aws/api.js';
import { awsOptionsSchema } from '../src/providers/aws/options.js';
import { AwsProvider } from '../src/providers/aws/provider.js';
import { FakeAws } from '../test/providers/aws/fake-aws.js';
import { fakeClients, FAST_RATE_LIMITS, ipNlbSpec, nlbSpec } from '../test/providers/aws/support.js';
import { canaryRules, gatewaySpec } from '../test/providers/aws/gateway-support.js';

const CLUSTER = `bench-${Math.random().toString(36).slice(2, 8)}`;
const NODES = 30;

interface Count {
  readonly reads: number;
  readonly writes: number;
}

const total = (c: Count): number => c.reads + c.writes;

/** The i-th Service: the tests' seed NLB (TCP 80 and 443, default annotations), with node ports of its own. */
function spec(i: number, nodes: readonly NodeTarget[]): L4Spec<AwsLbOptions> {
  return nlbSpec({
    clusterName: CLUSTER,
    ref: { kind: 'Service', namespace: 'bench', name: `svc-${i}`, uid: `uid-bench-${CLUSTER}-${i}` },
    ports: [
      { port: 80, nodePort: 30080 + 2 * i },
      { port: 443, nodePort: 30081 + 2 * i },
    ],
    targets: nodes,
  });
}

function row(label: string, got: Count, min: Count): void {
  const ratio = total(min) === 0 ? (total(got) === 0 ? 1 : Number.POSITIVE_INFINITY) : total(got) / total(min);
  console.log(
    `  ${label.padEnd(34)} ${String(total(got)).padStart(4)} calls (reads ${got.reads}, writes ${got.writes})   minimum ${String(total(min)).padStart(4)} (reads ${min.reads}, writes ${min.writes})   ${ratio.toFixed(2)}×${got.writes > min.writes ? '   MORE WRITES THAN NEEDED' : ''}`,
  );
}

/** Sets up the network (VPC, subnets, a node group tagged for the cluster, instances) on moto. */
async function seedEmulator(endpoint: string): Promise<{ nodes: NodeTarget[]; vpcId: string }> {
  const { EC2Client, CreateVpcCommand, CreateSubnetCommand, CreateTagsCommand, CreateSecurityGroupCommand, RunInstancesCommand } = await import('@aws-sdk/client-ec2');
  const ec2 = new EC2Client({ endpoint, region: process.env.AWS_REGION ?? 'us-east-1', credentials: { accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? 'test', secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? 'test' } });
  const vpc = await ec2.send(new CreateVpcCommand({ CidrBlock: '10.42.0.0/16' }));
  const vpcId = vpc.Vpc?.VpcId ?? '';
  const region = process.env.AWS_REGION ?? 'us-east-1';
  for (const [i, az] of ['a', 'b'].entries()) {
    const s = await ec2.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: `10.42.${i}.0/24`, AvailabilityZone: `${region}${az}` }));
    await ec2.send(
      new CreateTagsCommand({
        Resources: [s.Subnet?.SubnetId ?? ''],
        Tags: [
          { Key: 'kubernetes.io/role/internal-elb', Value: '1' },
          { Key: `kubernetes.io/cluster/${CLUSTER}`, Value: 'shared' },
        ],
      }),
    );
  }
  await ec2.send(
    new CreateSecurityGroupCommand({
      GroupName: `${CLUSTER}-nodes`,
      Description: 'bench nodes',
      VpcId: vpcId,
      TagSpecifications: [{ ResourceType: 'security-group', Tags: [{ Key: `kubernetes.io/cluster/${CLUSTER}`, Value: 'owned' }] }],
    }),
  );
  const run = await ec2.send(new RunInstancesCommand({ ImageId: 'ami-12c6146b', MinCount: NODES, MaxCount: NODES }));
  const nodes = (run.Instances ?? []).map((inst, i) => ({
    name: `node-${i}`,
    addresses: [{ type: 'InternalIP', address: inst.PrivateIpAddress ?? `10.42.0.${i + 10}` }],
    providerID: `aws:///${region}a/${inst.InstanceId ?? ''}`,
  }));
  ec2.destroy();
  return { nodes, vpcId };
}

export async function benchAws(): Promise<void> {
  const endpoint = process.env.AWS_ENDPOINT_URL ?? process.env.LOCALSTACK_ENDPOINT;
  let fake: FakeAws | undefined;
  let nodes: NodeTarget[];
  let vpcId: string | undefined;
  if (endpoint) {
    const seeded = await seedEmulator(endpoint);
    nodes = seeded.nodes;
    vpcId = seeded.vpcId;
  } else {
    fake = new FakeAws().install();
    vpcId = 'vpc-1';
    fake.addSubnet({ id: 'subnet-0a1', az: 'us-east-1a', tags: { 'kubernetes.io/role/internal-elb': '1', [`kubernetes.io/cluster/${CLUSTER}`]: 'shared' } });
    fake.addSubnet({ id: 'subnet-0b1', az: 'us-east-1b', tags: { 'kubernetes.io/role/internal-elb': '1', [`kubernetes.io/cluster/${CLUSTER}`]: 'owned' } });
    fake.addSecurityGroup({ id: 'sg-0nodes', name: 'nodes', tags: { [`kubernetes.io/cluster/${CLUSTER}`]: 'owned' } });
    nodes = Array.from({ length: NODES }, (_, i) => ({
      name: `node-${i}`,
      addresses: [{ type: 'InternalIP', address: `10.0.0.${i + 10}` }],
      providerID: `aws:///us-east-1a/i-0${(0xa000 + i).toString(16)}`,
    }));
  }
  const options = awsOptionsSchema.parse({
    region: process.env.AWS_REGION ?? 'us-east-1',
    ...(vpcId ? { vpcId } : {}),
    ...(endpoint ? { endpoint } : {}),
    // Rate limits out of the way: this counts calls, it does not time them.
    rateLimits: FAST_RATE_LIMITS,
    retry: { attempts: 6, minDelay: '10ms', maxDelay: '200ms' },
  });
  const events: CallEvent[] = [];
  const provider = new AwsProvider({
    clusterName: CLUSTER,
    options,
    observer: (e) => events.push(e),
    logger: { warn: () => undefined },
    ...(endpoint
      ? { clients: { clientConfig: { credentials: { accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? 'test', secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? 'test' } } } }
      : { clients: fakeClients() }),
  });
  const measure = async (fn: () => Promise<unknown>): Promise<Count> => {
    events.length = 0;
    await fn();
    const writes = events.filter((e) => !e.action.startsWith('Describe')).length;
    if (process.env.LBC_BENCH_AWS_CALLS) console.log(`    ${events.map((e) => e.action).join(' ')}`);
    return { reads: events.length - writes, writes };
  };
  try {
    console.log(
      `aws provider: AWS calls per NLB Service (TCP 80 + 443, ${NODES} instance targets, managed frontend SG, the shared backend SG on one tagged node SG) — ` +
        (endpoint ? `against the emulator at ${endpoint} (moto/LocalStack)` : 'against the stateful nock fake of ELBv2 + EC2 (no AWS_ENDPOINT_URL)') +
        '; real SDK clients, every attempt counted',
    );
    // A cold process: the first ensure lists the account's LBs and TGs (2 pages here) and reads their tags.
    const lbWrites = 2 + 2 * 2 + 1 + 2; // SG + rules, 2×(TG + targets), NLB, 2 listeners
    const cold = await measure(() => provider.ensure(spec(0, nodes)));
    // clusterName check (VPC subnets, VPC security groups), subnets, own SGs, LB scan + TG scan + tags (empty account: no tag call), LB by name, node groups, the shared backend group, own backend rules
    // writes: the first load balancer of the cluster also creates the shared backend group and its rule on the node group
    row('create (cold process)', cold, { reads: 2 + 1 + 1 + 2 + 1 + 1 + 1 + 1, writes: lbWrites + 1 + 1 });
    const warm = await measure(() => provider.ensure(spec(1, nodes)));
    // As cold, but the inventory is current (no scan, nothing owned to read tags of) and the shared group known and already let in.
    row('create (warm process)', warm, { reads: 1 + 1 + 1 + 1 + 1, writes: lbWrites });
    const noop = await measure(() => provider.ensure(spec(1, nodes)));
    // subnets, own SGs, own LB/TG tags, the LB, the TGs (one call), targets and attributes per TG (2 + 2), listeners, own backend rules, node groups
    row('no-op ensure (resync)', noop, { reads: 1 + 1 + 1 + 1 + 1 + 2 + 2 + 1 + 1 + 1, writes: 0 });
    const del = await measure(() => provider.delete(spec(1, nodes).ref));
    // tags of own LB/TGs, own backend rules, own SGs, whether another LB has the shared group (svc-0 does); delete LB, 2 TGs, the SG
    row('delete', del, { reads: 3 + 1, writes: 1 + 2 + 1 });
    const again = await measure(() => provider.delete(spec(1, nodes).ref));
    // The inventory knows no LB/TG of the object: no tag read; own backend rules and SGs, the shared group's users.
    row('delete again (nothing left)', again, { reads: 2 + 1, writes: 0 });
    const last = await measure(() => provider.delete(spec(0, nodes).ref));
    // As delete, but no other LB in the inventory (no ELBv2 read): the shared group's node rules (by tag), then revoke them and delete the group.
    row('delete (last: releases the shared group)', last, { reads: 3 + 1, writes: 1 + 2 + 1 + 1 + 1 });

    // ip targets (pods on port 8080, as nlb-target-type ip): the port's rule on the node group comes from the shared
    // backend group and is shared by every Service on that port, so a Service after the first adds none and a delete
    // while another still claims the port revokes none (and reads no rule: the inventory's target group tags say so).
    const ip = (i: number): L4Spec<AwsLbOptions> => ipNlbSpec({ clusterName: CLUSTER, ref: { kind: 'Service', namespace: 'bench', name: `ip-${i}`, uid: `uid-bench-${CLUSTER}-ip-${i}` } });
    const ipLbWrites = 2 + 2 + 1 + 1; // SG + rules, TG + targets, NLB, listener
    const ipFirst = await measure(() => provider.ensure(ip(0)));
    // subnets, own SGs, LB by name, node groups, own backend rules (the shared group: this process deleted it above, so it knows there is none);
    // writes: the group again and its one rule for the pod port on the node group
    row('create ip (first on its pod port)', ipFirst, { reads: 1 + 1 + 1 + 1 + 1, writes: ipLbWrites + 1 + 1 });
    const ipSecond = await measure(() => provider.ensure(ip(1)));
    row('create ip (second on the port)', ipSecond, { reads: 1 + 1 + 1 + 1 + 1, writes: ipLbWrites });
    const ipNoop = await measure(() => provider.ensure(ip(1)));
    // subnets, own SGs, own LB/TG tags, the LB, the TG, its targets and attributes, listeners, own backend rules, node groups
    row('no-op ensure ip (resync)', ipNoop, { reads: 1 + 1 + 1 + 1 + 1 + 2 + 1 + 1 + 1, writes: 0 });
    const ipDel = await measure(() => provider.delete(ip(1).ref));
    // tags of own LB/TG, own backend rules, own SGs, whether another LB has the shared group; delete LB, TG, SG
    row('delete ip (another still on the port)', ipDel, { reads: 3 + 1, writes: 1 + 1 + 1 });
    await provider.delete(ip(0).ref);

    // ALB Gateway (issue 19): the tests' canary Gateway, one HTTP listener, an HTTPRoute
    // splitting /api 90/10 between two Services and sending the rest to a third: three
    // target groups, two listener rules. The process is warm; the shared backend group was
    // released by the last delete above, so this create makes it again.
    const gw = (weights: [number, number]) => gatewaySpec({ clusterName: CLUSTER, targets: nodes, rules: canaryRules(weights), annotations: { 'alb.ingress.kubernetes.io/scheme': 'internal' } });
    console.log('aws provider: AWS calls per ALB Gateway (HTTP 80, an HTTPRoute canary: 3 target groups, 2 rules, the shared backend SG)');
    const gwCreate = await measure(() => provider.ensure(gw([90, 10])));
    // subnets, own SGs, LB by name, node groups, own backend rules (the shared group needs no read: this process released it);
    // writes: SG + rule, 3×(TG + targets), the ALB, its listener, 2 rules, the shared group and its node rule
    row('Gateway create', gwCreate, { reads: 1 + 1 + 1 + 1 + 1, writes: 2 + 3 * 2 + 1 + 1 + 2 + 1 + 1 });
    // subnets, own SGs, own LB/TG tags, the LB, the TGs (one call), targets per TG (3), listeners, the listener's rules, own backend rules, node groups
    const gwReads = 1 + 1 + 1 + 1 + 1 + 3 + 1 + 1 + 1 + 1;
    const gwWeight = await measure(() => provider.ensure(gw([50, 50])));
    // The weight change is one ModifyRule on the /api rule: nothing else changes.
    row('Gateway route weight change', gwWeight, { reads: gwReads, writes: 1 });
    const gwNoop = await measure(() => provider.ensure(gw([50, 50])));
    row('Gateway no-op ensure (resync)', gwNoop, { reads: gwReads, writes: 0 });
    const gwDelete = await measure(() => provider.delete(gw([50, 50]).ref));
    // tags of own LB/TGs, own backend rules, own SGs; delete the ALB (its listener and rules go with it), 3 TGs, the SG,
    // then, the last load balancer, the shared group's node rules (by tag), revoked, and the group deleted
    row('Gateway delete', gwDelete, { reads: 3 + 1, writes: 1 + 3 + 1 + 1 + 1 });
  } finally {
    await provider.close();
    if (fake) {
      fake.uninstall();
      nock.cleanAll();
    }
  }
}
