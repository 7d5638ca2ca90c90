// Compute API calls the gce provider makes for one external Service: create, a no-op
// ensure (what a resync or a restart costs when nothing changed) and delete, counted
// on the wire at the stateful fake of the Compute REST API (test/providers/gce), with
// the real @google-cloud/compute clients (REST transport) and operations that are
// still RUNNING when the call returns, as GCE answers.
//
// Each figure is set against the minimum a correct implementation needs, derived
// below from what the operation must read and write, not from what lbc does:
//   - every write is one call, and its operation (RUNNING) one wait;
//   - before writing, each resource kind the LB uses must be read once (one get, or one
//     list when several names are possible), since a crash or another writer may have
//     left anything there; instance groups are one aggregated list plus, per existing
//     group, its members (GCE keeps them apart);
//   - an address lbc reserves must be read once after its insert, for the IP GCE chose;
//   - deletion needs no group members, only where the groups are; and whether the
//     cluster's shared node check and instance groups are still used is GCE's to say
//     (regional and global backend services of any LB may use them, and no single read
//     answers it), so each is one delete attempt, refused while in use, as upstream does.
import type { L4Spec, L7Spec, NodeTarget, PodTarget } from '../src/model/spec.js';
import type { GceLbOptions } from '../src/providers/gce/annotations.js';
import { isWrite, type LoggedCall } from '../test/providers/gce/fake-compute.js';
import nock from 'nock';
import { harness, HTTP_HC, l4, l7, REGION, seedVpcNativeNodes } from '../test/providers/gce/fixtures.js';
import { canaryRules, gatewaySpec, GW_REF, seedProxyOnlySubnet, type GatewayFixture } from '../test/providers/gce/gateway-fixtures.js';

const PROJECT = 'bench-project';
const TOKEN = 'bench-token';
const CLUSTER = 'bench';

/** Kinds an external L4 LB reads before it writes: address, forwarding rule, backend service, health check, firewall, instance groups. */
const L4_KINDS = 6;

interface Count {
  readonly reads: number;
  readonly writes: number;
  readonly waits: number;
}

function count(log: readonly LoggedCall[]): Count {
  const waits = log.filter((c) => c.rpc.endsWith('Operations.Wait')).length;
  const writes = log.filter(isWrite).length;
  return { reads: log.length - writes - waits, writes, waits };
}

const total = (c: Count): number => c.reads + c.writes + c.waits;

/** The i-th Service: the tests' TCP 80 Service (the cluster's node check), with a node port of its own, on `nodes`. */
function spec(i: number, nodes: readonly NodeTarget[]): L4Spec<GceLbOptions> {
  const uid = `${String(i).padStart(8, '0')}-1111-4a2b-9c3d-0123456789ab`;
  return l4({}, {}, { ref: { kind: 'Service', namespace: 'bench', name: `svc-${i}`, uid }, clusterName: CLUSTER, nodePort: 30000 + i, targets: nodes });
}

function row(label: string, got: Count, min: Count): void {
  const ratio = total(got) / total(min);
  console.log(
    `  ${label.padEnd(34)} ${String(total(got)).padStart(4)} calls (reads ${got.reads}, writes ${got.writes}, waits ${got.waits})   minimum ${String(total(min)).padStart(4)} (reads ${min.reads}, writes ${min.writes}, waits ${min.waits})   ${ratio.toFixed(2)}×`,
  );
}

export async function benchGce(): Promise<void> {
  const zones = ['a', 'b', 'c'].map((z) => `${REGION}-${z}`);
  const nodes: NodeTarget[] = Array.from({ length: 30 }, (_, i) => {
    const zone = zones[i % zones.length] ?? '';
    return { name: `node-${i}`, addresses: [{ type: 'InternalIP', address: `10.0.0.${i + 1}` }], providerID: `gce://${PROJECT}/${zone}/node-${i}`, zone };
  });
  const Z = zones.length;
  // The tests' harness (real clients, stateful fake) for a cluster of its own, without a subnetwork (external LBs need none).
  const { fake, provider, done } = harness({ clusterId: 'bench1', nodeTags: ['gke-bench-node'], subnetwork: undefined }, { project: PROJECT, token: TOKEN, clusterName: CLUSTER, pendingOperations: true });
  const measure = async (fn: () => Promise<unknown>): Promise<Count> => {
    fake.clearLog();
    await fn();
    return count(fake.log);
  };
  try {
    console.log(`gce provider: Compute calls per external TCP Service (${nodes.length} nodes in ${Z} zones; real clients, REST transport, stateful fake, operations RUNNING until waited on)`);

    // The first Service of the cluster also makes what its load balancers share.
    const firstWrites = 1 + 1 + 2 + 2 * Z + 1 + 1; // address, node health check, 2 firewalls, per zone group + members, backend service, forwarding rule
    const first = await measure(() => provider.ensure(spec(0, nodes)));
    row('create (first in the cluster)', first, { reads: L4_KINDS + 1, writes: firstWrites, waits: firstWrites });

    const laterWrites = 1 + 1 + 1 + 1; // address, its firewall, backend service, forwarding rule
    const later = await measure(() => provider.ensure(spec(1, nodes)));
    // Reads: the kinds, plus each existing group's members, plus the new address.
    row('create (groups and check exist)', later, { reads: L4_KINDS + Z + 1, writes: laterWrites, waits: laterWrites });

    const noop = await measure(() => provider.ensure(spec(1, nodes)));
    row('no-op ensure (resync, restart)', noop, { reads: L4_KINDS + Z, writes: 0, waits: 0 });

    // Deleting a Service that others still share groups and the check with: its own 4
    // resources (forwarding rule, backend service, firewall, address) go; the check and
    // each group get one attempt, which GCE refuses without an operation.
    const del = await measure(() => provider.delete(spec(1, nodes).ref));
    row('delete (others remain)', del, { reads: L4_KINDS, writes: 4 + 1 + Z, waits: 4 });

    const last = await measure(() => provider.delete(spec(0, nodes).ref));
    // The last one also removes the node check, its firewall and the groups.
    row('delete (last in the cluster)', last, { reads: L4_KINDS, writes: 4 + 2 + Z, waits: 4 + 2 + Z });
    console.log(`  mutating calls on the no-op ensure: ${noop.writes}; resources left after the last delete: ${fake.paths().length}; fake protocol violations: ${fake.violations.length}`);
  } finally {
    await done();
  }
  try {
    await benchDualStack(nodes, Z);
    await benchNegIngress(nodes, Z);
    await benchIlbSubsetting(nodes, Z);
    await benchGateway('gke-l7-global-external-managed');
    await benchGateway('gke-l7-rilb');
  } finally {
    // The tests' harness forbids every real connection (nock.disableNetConnect) so that a
    // provider call cannot leave the fake; the parts after this one talk to the real API
    // server (`npm run bench` with KUBECONFIG), which a run of all parts found refused.
    nock.enableNetConnect();
  }
}

/**
 * A dual-stack Service (ipFamilies IPv4, IPv6) alone in its cluster: besides the IPv4
 * LB, an IPv6 forwarding rule, its traffic firewall and the IPv6 health-check firewall;
 * the IPv6 rule's address is GCE's choice, so it is read once after its insert.
 */
async function benchDualStack(nodes: readonly NodeTarget[], Z: number): Promise<void> {
  const { fake, provider, done } = harness({ clusterId: 'bench1', nodeTags: ['gke-bench-node'], subnetwork: 'nodes' }, { project: PROJECT, token: TOKEN, clusterName: CLUSTER, pendingOperations: true });
  fake.seed(`regions/${REGION}/subnetworks/nodes`, { stackType: 'IPV4_IPV6', ipv6AccessType: 'EXTERNAL', externalIpv6Prefix: '2600:1900:4000:abcd::/64' });
  const dual = { ...spec(0, nodes), ipFamilies: ['IPv4', 'IPv6'] as const };
  const measure = async (fn: () => Promise<unknown>): Promise<Count> => {
    fake.clearLog();
    await fn();
    return count(fake.log);
  };
  try {
    console.log('gce provider: the same for one dual-stack (IPv4 + IPv6) external TCP Service');
    // The IPv4 LB's writes, plus the IPv6 health-check firewall, forwarding rule and traffic firewall.
    const createWrites = 1 + 1 + 2 + 2 * Z + 1 + 1 + 3;
    const create = await measure(() => provider.ensure(dual));
    row('create (first in the cluster)', create, { reads: L4_KINDS + 2, writes: createWrites, waits: createWrites });
    const noop = await measure(() => provider.ensure(dual));
    row('no-op ensure (resync, restart)', noop, { reads: L4_KINDS + Z, writes: 0, waits: 0 });
    // Its own 6 (two forwarding rules, backend service, two firewalls, address), then the check, its two firewalls and the groups.
    const del = await measure(() => provider.delete(dual.ref));
    row('delete (last in the cluster)', del, { reads: L4_KINDS, writes: 6 + 3 + Z, waits: 6 + 3 + Z });
    console.log(`  mutating calls on the no-op ensure: ${noop.writes}; resources left after delete: ${fake.paths().filter((p) => !p.includes('subnetworks')).length}; fake protocol violations: ${fake.violations.length}`);
  } finally {
    await done();
  }
}

/** Kinds an Ingress on NEGs alone reads: address, forwarding rules, the two proxies, URL map, firewall, certificates, backend services, health checks, NEGs. */
const NEG_INGRESS_KINDS = 10;

/**
 * An Ingress whose one backend Service has cloud.google.com/neg {"ingress": true}: 30 pods
 * on the 30 nodes, so a NEG in each zone. Minimums as above, plus: the NEGs of all zones
 * can be read in one aggregated list, and their endpoints, which GCE keeps apart, one list
 * per NEG; a changed pod is one attach and one detach; deletion reads each NEG's owner
 * before its delete (a NEG is the cluster's, shared by its Ingresses), in one list at best.
 */
async function benchNegIngress(nodes: readonly NodeTarget[], Z: number): Promise<void> {
  const { fake, provider, done } = harness({ clusterId: 'bench1', nodeTags: ['gke-bench-node'], subnetwork: 'nodes' }, { project: PROJECT, token: TOKEN, clusterName: CLUSTER, pendingOperations: true });
  seedVpcNativeNodes(fake, nodes, PROJECT);
  // seedVpcNativeNodes gives unknown nodes 10.4.9.0/24; each pod below is in its node's range.
  const pods = (gen: number): PodTarget[] => nodes.map((n, i) => ({ ip: `10.4.9.${i + 1 + (i === 0 ? gen * 100 : 0)}`, port: 8080, nodeName: n.name, ...(n.zone !== undefined ? { zone: n.zone } : {}) }));
  const base = l7();
  const ref = { kind: 'Ingress' as const, namespace: 'bench', name: 'site', uid: '77777777-2222-4e5f-8a9b-abcdefabcdef' };
  const spec = (gen: number): L7Spec<GceLbOptions> => ({
    ...base,
    ref,
    clusterName: CLUSTER,
    rules: [{ path: '/', pathType: 'Prefix', targetSet: 'bench/web:80', source: 'bench/site' }],
    defaultBackend: 'bench/web:80',
    targetSets: [{ name: 'bench/web:80', type: 'ip', protocol: 'HTTP', port: 8080, targets: pods(gen), healthCheck: HTTP_HC, backend: { namespace: 'bench', service: 'web', port: 80 } }],
  });
  const measure = async (fn: () => Promise<unknown>): Promise<Count> => {
    fake.clearLog();
    await fn();
    return count(fake.log);
  };
  try {
    console.log(`gce provider: the same for one Ingress on NEGs (container-native, ${nodes.length} pods in ${Z} zones)`);
    // address, health check, firewall, per zone a NEG and one attach, backend service, URL map, HTTP proxy, forwarding rule.
    const createWrites = 1 + 1 + 1 + 2 * Z + 1 + 1 + 1 + 1;
    const create = await measure(() => provider.ensure(spec(0)));
    row('create', create, { reads: NEG_INGRESS_KINDS + 1, writes: createWrites, waits: createWrites });
    const change = await measure(() => provider.ensure(spec(1)));
    row('endpoint change (one pod replaced)', change, { reads: NEG_INGRESS_KINDS + Z, writes: 2, waits: 2 });
    const noop = await measure(() => provider.ensure(spec(1)));
    row('no-op ensure (resync, restart)', noop, { reads: NEG_INGRESS_KINDS + Z, writes: 0, waits: 0 });
    // forwarding rule, HTTP proxy, URL map, backend service, health check, firewall, address; then each zone's NEG.
    const del = await measure(() => provider.delete(ref));
    row('delete', del, { reads: NEG_INGRESS_KINDS, writes: 7 + Z, waits: 7 + Z });
    console.log(`  mutating calls on the no-op ensure: ${noop.writes}; resources left after delete: ${fake.paths().filter((p) => !p.includes('/instances/')).length}; fake protocol violations: ${fake.violations.length}`);
  } finally {
    await done();
  }
}

/**
 * An internal Service with ilbSubsetting: GCE_VM_IP NEGs, one per zone, holding 25 of the
 * 30 nodes. Minimums as above, with the NEGs (one aggregated list, then each NEG's
 * endpoints) in place of the instance groups; a node of the subset leaving is one detach
 * and, as the subset is refilled, one attach; deletion reads no endpoints, but the
 * cluster's instance groups as well as the NEGs (the Service may have used the groups
 * before the option was turned on).
 */
async function benchIlbSubsetting(nodes: readonly NodeTarget[], Z: number): Promise<void> {
  const { fake, provider, done } = harness(
    { clusterId: 'bench1', nodeTags: ['gke-bench-node'], subnetwork: 'nodes', ilbSubsetting: true },
    { project: PROJECT, token: TOKEN, clusterName: CLUSTER, pendingOperations: true },
  );
  seedVpcNativeNodes(fake, nodes, PROJECT);
  const internal = (targets: readonly NodeTarget[]): L4Spec<GceLbOptions> => ({ ...spec(0, targets), providerOptions: { ...spec(0, targets).providerOptions, scheme: 'Internal' } });
  const measure = async (fn: () => Promise<unknown>): Promise<Count> => {
    fake.clearLog();
    await fn();
    return count(fake.log);
  };
  try {
    console.log(`gce provider: the same for one internal TCP Service with ilbSubsetting (GCE_VM_IP NEGs, ${nodes.length} nodes in ${Z} zones)`);
    // address, node health check, 2 firewalls, per zone a NEG and one attach, backend service, forwarding rule.
    const createWrites = 1 + 1 + 2 + 2 * Z + 1 + 1;
    const create = await measure(() => provider.ensure(internal(nodes)));
    row('create', create, { reads: L4_KINDS + 1, writes: createWrites, waits: createWrites });
    const inSubset = fake.paths().filter((p) => p.includes('/networkEndpointGroups/')).flatMap((p) => fake.endpointsOf(p))[0]?.split(' ')[0] ?? '';
    const fewer = nodes.filter((n) => n.name !== inSubset);
    const change = await measure(() => provider.ensure(internal(fewer)));
    row('node change (a subset node leaves)', change, { reads: L4_KINDS + Z, writes: 2, waits: 2 });
    const noop = await measure(() => provider.ensure(internal(fewer)));
    row('no-op ensure (resync, restart)', noop, { reads: L4_KINDS + Z, writes: 0, waits: 0 });
    // forwarding rule, backend service, each zone's NEG, firewall, address; the node check and its firewall.
    const del = await measure(() => provider.delete(internal(fewer).ref));
    row('delete (last in the cluster)', del, { reads: L4_KINDS + 1, writes: 4 + Z + 2, waits: 4 + Z + 2 });
    console.log(`  mutating calls on the no-op ensure: ${noop.writes}; resources left after delete: ${fake.paths().filter((p) => !p.includes('/instances/')).length}; fake protocol violations: ${fake.violations.length}`);
  } finally {
    await done();
  }
}

/**
 * Kinds a Gateway reads before it writes: address, forwarding rules, HTTP and HTTPS proxies,
 * URL maps (by the Gateway's name prefix: its per-port names follow ports it may no longer
 * have), certificates, backend services, health checks, firewall, NEGs.
 */
const GATEWAY_KINDS = 10;

/**
 * A Gateway with one HTTP listener and an HTTPRoute canary over S backends on NEGs, each
 * with a pod in each of Z zones: of class gke-l7-global-external-managed, then of the regional
 * internal class gke-l7-rilb (the same resources from the regional collections; its minimum
 * reads one more on ensure, the region's proxy-only subnet it needs). Minimums as above; the
 * route change (the canary's weights) is one URL map update. The minimum has no backend
 * service for the URL map's 404 answers: a correct implementation can abort in front of a
 * backend service the routes use, where lbc keeps one of its own (GKE's gw-serve404), so that
 * a Gateway without a valid backend still has one; that is one write (and wait) more on create
 * and delete. Nor does it look in the other scope, where lbc looks on every ensure so that a
 * Gateway moved between a global and a regional class leaves nothing of its old load balancer,
 * and on delete, which has no class to go by: the kinds with an aggregated list (proxies, URL
 * maps, certificates, backend services, health checks) read both scopes in one call, so that
 * costs an ensure 1 read (the other scope's address) and a delete 2 (the other scope's address
 * and forwarding rules, whose aggregated lists hold no global ones; src/providers/gce/aggregated-list.ts).
 */
async function benchGateway(className: string): Promise<void> {
  const { fake, provider, done } = harness({ clusterId: 'bench1', nodeTags: ['gke-bench-node'] }, { pendingOperations: true });
  seedVpcNativeNodes(fake);
  seedProxyOnlySubnet(fake);
  const regional = className !== 'gke-l7-global-external-managed';
  const ensureReads = GATEWAY_KINDS + (regional ? 1 : 0);
  const gw = (f: GatewayFixture = {}) => gatewaySpec({ ...f, className });
  const spec = gw();
  const S = spec.targetSets.length;
  const Z = 2;
  const measure = async (fn: () => Promise<unknown>): Promise<Count> => {
    fake.clearLog();
    await fn();
    return count(fake.log);
  };
  try {
    console.log(`gce provider: the same for one Gateway of class ${className} with an HTTPRoute canary over ${S} backends on NEGs, a pod in each of ${Z} zones`);
    // address, S health checks, firewall, per backend and zone a NEG and one attach, S backend services, URL map, HTTP proxy, forwarding rule.
    const createWrites = 1 + S + 1 + 2 * S * Z + S + 3;
    const create = await measure(() => provider.ensure(spec));
    row('create', create, { reads: ensureReads + 1, writes: createWrites, waits: createWrites });
    const change = await measure(() => provider.ensure(gw({ rules: canaryRules([50, 50]) })));
    row('route change (canary weights)', change, { reads: ensureReads + S * Z, writes: 1, waits: 1 });
    const noop = await measure(() => provider.ensure(gw({ rules: canaryRules([50, 50]) })));
    row('no-op ensure (resync, restart)', noop, { reads: ensureReads + S * Z, writes: 0, waits: 0 });
    // forwarding rule, HTTP proxy, URL map, S backend services, S health checks, firewall, address; then each NEG.
    const deleteWrites = 3 + 2 * S + 2 + S * Z;
    const del = await measure(() => provider.delete(GW_REF));
    row('delete', del, { reads: GATEWAY_KINDS, writes: deleteWrites, waits: deleteWrites });
    console.log(
      `  mutating calls on the no-op ensure: ${noop.writes}; resources left after delete: ${fake.paths().filter((p) => !p.includes('/instances/') && !p.includes('/subnetworks/')).length}; fake protocol violations: ${fake.violations.length}`,
    );
  } finally {
    await done();
  }
}
