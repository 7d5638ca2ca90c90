// Internal L4 with ILB subsetting (the provider option ilbSubsetting, GKE's
// --enable-l4-ilb-subsetting): one GCE_VM_IP NEG per zone holding a subset of the nodes,
// as GKE's L4 ILB controller builds it, through the real Compute client against the fake.
import { describe, expect, it } from 'vitest';
import { ILB_SUBSET_CLUSTER, pickZoneSubset, subsetPerZone } from '../../../src/providers/gce/ilb-subset.js';
import { l4NegName } from '../../../src/providers/gce/names.js';
import { CLUSTER_ID, l4, LB, node, nodeA, nodeB, PROJECT, REGION, rejection, seedVpcNativeNodes, TOKEN } from './fixtures.js';
import { harnessPerTest } from './lifecycle.js';

const harness = harnessPerTest();
const ZA = `${REGION}-a`;
const ZB = `${REGION}-b`;
const V1 = `https://www.googleapis.com/compute/v1/projects/${PROJECT}`;
const NEG = l4NegName(CLUSTER_ID, 'default', 'web');
const negPath = (zone: string) => `zones/${zone}/networkEndpointGroups/${NEG}`;
const internal = { scheme: 'Internal' as const };
const subsetting = { ilbSubsetting: true };
const nodeC = node('node-c');

describe('L4 NEG names', () => {
  it('are ingress-gce L4Namer.L4Backend names: k8s2-<uid8>-<namespace>-<name>-<hash8>, at most 63 characters', () => {
    expect(NEG).toMatch(/^k8s2-[0-9a-z]{8}-default-web-[0-9a-z]{8}$/);
    const long = l4NegName('uid', 'n'.repeat(60), 's'.repeat(60));
    expect(long.length).toBeLessThanOrEqual(63);
    expect(long).toMatch(/^k8s2-[0-9a-z]{8}-n{19,20}-s{19,20}-[0-9a-z]{8}$/);
  });
});

describe('ILB subsets (ingress-gce pkg/neg/syncers/subsets.go)', () => {
  const names = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);

  it('take 25 nodes in all for externalTrafficPolicy Cluster, the smaller zone first with an even share', () => {
    const zones = new Map([
      [ZA, names('a', 40)],
      [ZB, names('b', 10)],
    ]);
    const picked = subsetPerZone(zones, ILB_SUBSET_CLUSTER, 'web/default', new Map());
    // Zone b (10 nodes) may take 12 and takes all 10; zone a takes the 15 left.
    expect(picked.get(ZB)).toHaveLength(10);
    expect(picked.get(ZA)).toHaveLength(15);
    // Deterministic: the same nodes for the same Service, other nodes for another Service.
    expect(subsetPerZone(zones, ILB_SUBSET_CLUSTER, 'web/default', new Map())).toEqual(picked);
    expect(subsetPerZone(zones, ILB_SUBSET_CLUSTER, 'api/default', new Map()).get(ZA)).not.toEqual(picked.get(ZA));
  });

  it('keep the nodes a NEG holds while they exist (pickSubsetsMinRemovals): a new node changes nothing, a gone one is replaced', () => {
    const nodes = names('a', 30);
    const first = pickZoneSubset(nodes, 'web/default', 10, []);
    expect(first).toHaveLength(10);
    expect(new Set(pickZoneSubset([...nodes, 'a-new'], 'web/default', 10, first))).toEqual(new Set(first));
    const gone = first[0] ?? '';
    const after = pickZoneSubset(nodes.filter((n) => n !== gone), 'web/default', 10, first);
    expect(after).toHaveLength(10);
    expect(after.filter((n) => !first.includes(n))).toHaveLength(1);
    expect(after).not.toContain(gone);
  });
});

describe('gce L4 internal with ilbSubsetting', () => {
  it('creates one GCE_VM_IP NEG per zone with its nodes as instances, and the backend service on them; the second run writes nothing', async () => {
    const h = harness(subsetting);
    seedVpcNativeNodes(h.fake);
    const status = await h.provider.ensure(l4({}, internal));
    expect(h.fake.violations).toEqual([]);
    expect(status.ingress[0]?.ip).toMatch(/^10\.128\.0\./);
    expect(h.fake.writes()).toEqual([
      `Addresses.Insert ${LB}`,
      'RegionHealthChecks.Insert k8s-cid1-node',
      `Firewalls.Insert k8s-fw-${LB}`,
      'Firewalls.Insert k8s-cid1-node-hc',
      `NetworkEndpointGroups.Insert ${NEG}`,
      `NetworkEndpointGroups.AttachNetworkEndpoints ${NEG}`,
      `NetworkEndpointGroups.Insert ${NEG}`,
      `NetworkEndpointGroups.AttachNetworkEndpoints ${NEG}`,
      `RegionBackendServices.Insert ${LB}`,
      `ForwardingRules.Insert ${LB}`,
    ]);
    // No instance group: the cluster's groups are not this LB's business.
    expect(h.fake.paths().filter((p) => p.includes('/instanceGroups/'))).toEqual([]);
    expect(h.fake.get(negPath(ZA))).toMatchObject({ networkEndpointType: 'GCE_VM_IP', network: `${V1}/global/networks/default`, subnetwork: `${V1}/regions/${REGION}/subnetworks/nodes`, size: 1 });
    // An instance, no port and no IP: GCE takes the primary address. (The client adds the empty annotations map.)
    const attaches = h.fake.log.filter((c) => c.rpc === 'NetworkEndpointGroups.AttachNetworkEndpoints').map((c) => c.body);
    expect(attaches).toEqual([{ networkEndpoints: [{ instance: 'node-a', annotations: {} }] }, { networkEndpoints: [{ instance: 'node-b', annotations: {} }] }]);
    expect(h.fake.get(`regions/${REGION}/backendServices/${LB}`)).toMatchObject({
      loadBalancingScheme: 'INTERNAL',
      backends: [
        { group: `${V1}/zones/${ZA}/networkEndpointGroups/${NEG}`, balancingMode: 'CONNECTION' },
        { group: `${V1}/zones/${ZB}/networkEndpointGroups/${NEG}`, balancingMode: 'CONNECTION' },
      ],
    });
    h.fake.clearLog();
    expect(await h.provider.ensure(l4({}, internal))).toEqual(status);
    expect(h.fake.writes()).toEqual([]);
  });

  it('a node change attaches and detaches only the difference; a zone without nodes loses its NEG after the backend service', async () => {
    const h = harness(subsetting);
    seedVpcNativeNodes(h.fake, [nodeA, nodeB, nodeC]);
    await h.provider.ensure(l4({}, internal));
    h.fake.clearLog();
    await h.provider.ensure(l4({}, internal, { targets: [nodeA, nodeB, nodeC] }));
    expect(h.fake.writes()).toEqual([`NetworkEndpointGroups.AttachNetworkEndpoints ${NEG}`]);
    expect(h.fake.log.find((c) => c.rpc === 'NetworkEndpointGroups.AttachNetworkEndpoints')?.body).toEqual({ networkEndpoints: [{ instance: 'node-c', annotations: {} }] });
    expect(h.fake.endpointsOf(negPath(ZA))).toHaveLength(2);

    h.fake.clearLog();
    await h.provider.ensure(l4({}, internal, { targets: [nodeC, nodeB] }));
    expect(h.fake.writes()).toEqual([`NetworkEndpointGroups.DetachNetworkEndpoints ${NEG}`]);
    // Detached as GCE lists it, with the primary IP it filled in.
    expect(h.fake.log.find((c) => c.rpc === 'NetworkEndpointGroups.DetachNetworkEndpoints')?.body).toEqual({ networkEndpoints: [{ instance: 'node-a', ipAddress: '10.0.0.1', annotations: {} }] });

    h.fake.clearLog();
    await h.provider.ensure(l4({}, internal, { targets: [nodeC] }));
    expect(h.fake.writes()).toEqual([`RegionBackendServices.Update ${LB}`, `NetworkEndpointGroups.Delete ${NEG}`]);
    expect(h.fake.get(negPath(ZB))).toBeUndefined();
    expect(h.fake.violations).toEqual([]);
  });

  it('delete removes the NEGs after the backend service that names them', async () => {
    const h = harness(subsetting);
    seedVpcNativeNodes(h.fake);
    await h.provider.ensure(l4({}, internal));
    h.fake.clearLog();
    await h.provider.delete(l4().ref);
    expect(h.fake.writes()).toEqual([
      `ForwardingRules.Delete ${LB}`,
      `RegionBackendServices.Delete ${LB}`,
      `NetworkEndpointGroups.Delete ${NEG}`,
      `NetworkEndpointGroups.Delete ${NEG}`,
      `Firewalls.Delete k8s-fw-${LB}`,
      'RegionHealthChecks.Delete k8s-cid1-node',
      'Firewalls.Delete k8s-cid1-node-hc',
      `Addresses.Delete ${LB}`,
    ]);
    expect(h.fake.paths().filter((p) => !p.includes('/instances/'))).toEqual([]);
  });

  it('turning the option on moves the backend service from the instance groups to NEGs in one update, and off moves it back', async () => {
    const off = harness();
    seedVpcNativeNodes(off.fake);
    await off.provider.ensure(l4({}, internal));
    const on = harness(subsetting, { fake: off.fake });
    off.fake.clearLog();
    await on.provider.ensure(l4({}, internal));
    // GCE refuses a backend service mixing groups and NEGs: one update swaps them all.
    expect(off.fake.writes()).toEqual([
      `NetworkEndpointGroups.Insert ${NEG}`,
      `NetworkEndpointGroups.AttachNetworkEndpoints ${NEG}`,
      `NetworkEndpointGroups.Insert ${NEG}`,
      `NetworkEndpointGroups.AttachNetworkEndpoints ${NEG}`,
      `RegionBackendServices.Update ${LB}`,
    ]);
    // The cluster's groups keep their members for the other load balancers.
    expect(off.fake.paths()).toContain(`zones/${ZA}/instanceGroups/k8s-ig--cid1`);
    off.fake.clearLog();
    await off.provider.ensure(l4({}, internal));
    expect(off.fake.writes()).toEqual([`RegionBackendServices.Update ${LB}`, `NetworkEndpointGroups.Delete ${NEG}`, `NetworkEndpointGroups.Delete ${NEG}`]);
    expect(off.fake.paths().some((p) => p.includes('/networkEndpointGroups/'))).toBe(false);
    expect(off.fake.violations).toEqual([]);
  });

  it('a node of another project cannot be a NEG endpoint: refused before any write, naming it', async () => {
    const h = harness(subsetting);
    const elsewhere = { ...nodeB, providerID: `gce://other-project/${ZB}/node-b` };
    const err = await rejection(h.provider.ensure(l4({}, internal, { targets: [nodeA, elsewhere] })));
    expect(err.kind).toBe('invalid');
    expect(err.message).toContain('node node-b is in project other-project');
    expect(h.fake.writes()).toEqual([]);
  });

  it('an external LB is not affected by the option', async () => {
    const h = harness(subsetting);
    await h.provider.ensure(l4());
    expect(h.fake.paths().some((p) => p.includes('/networkEndpointGroups/'))).toBe(false);
    expect(h.fake.paths()).toContain(`zones/${ZA}/instanceGroups/k8s-ig--cid1`);
  });
});

describe('gce fake: what GCE refuses of GCE_VM_IP NEGs', () => {
  const post = async (path: string, body: unknown) => {
    const res = await fetch(`https://compute.googleapis.com/compute/v1/projects/${PROJECT}/${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: res.status, message: ((await res.json()) as { error?: { message: string } }).error?.message ?? '' };
  };

  it('an endpoint with a port, an instance of another zone, and a backend service mixing instance groups and NEGs', async () => {
    const h = harness(subsetting);
    seedVpcNativeNodes(h.fake);
    await h.provider.ensure(l4({}, internal));
    const withPort = await post(`${negPath(ZA)}/attachNetworkEndpoints`, { networkEndpoints: [{ instance: 'node-a', port: 80 }] });
    expect(withPort.status).toBe(400);
    expect(withPort.message).toContain('Port must not be specified');
    const otherZone = await post(`${negPath(ZA)}/attachNetworkEndpoints`, { networkEndpoints: [{ instance: 'node-b' }] });
    expect(otherZone.status).toBe(400);
    expect(otherZone.message).toContain(`Instance 'node-b' does not exist in zone ${ZA}`);
    h.fake.seed(`zones/${ZA}/instanceGroups/k8s-ig--cid1`, {});
    const mixed = await post(`regions/${REGION}/backendServices`, {
      name: 'mixed',
      loadBalancingScheme: 'INTERNAL',
      protocol: 'TCP',
      backends: [{ group: `${V1}/zones/${ZA}/networkEndpointGroups/${NEG}`, balancingMode: 'CONNECTION' }, { group: `${V1}/zones/${ZA}/instanceGroups/k8s-ig--cid1`, balancingMode: 'CONNECTION' }],
    });
    expect(mixed.status).toBe(400);
    expect(mixed.message).toContain('cannot have both instance group and network endpoint group backends');
    expect(h.fake.endpointsOf(negPath(ZA))).toHaveLength(1);
  });
});
