// lbc on a GKE cluster, beside GKE's own load-balancing controllers: the cluster uid read
// from kube-system/ingress-uid as ingress-gce reads it, GKE's k8s-ig--<uid> instance groups
// shared (used, added to, never claimed or emptied), GKE-shaped node tags, and the
// one-load-balanced-group-per-instance rule the fake enforces as GCE does.
import { describe, expect, it } from 'vitest';
import { nodeTagOf } from '../../../src/providers/gce/context.js';
import type { ClusterFacts } from '../../../src/providers/types.js';
import type { FakeCompute } from './fake-compute.js';
import { l4, LB, node, REGION, rejection } from './fixtures.js';
import { harnessPerTest } from './lifecycle.js';

const harness = harnessPerTest();

/** ingress-gce's uid: 8 random bytes in hex (cmd/glbc/app/namer.go randomUID). */
const UID = 'e1a2b3c4d5f60718';
const IG = `k8s-ig--${UID}`;
const V1 = 'https://www.googleapis.com/compute/v1/projects/test-project';
const GKE_TAG = 'gke-prod-5e6f7a8b-node';

// GKE instance names: gke-<cluster>-<pool>-<pool hash>-<suffix>; the node tag does not prefix them.
const gkeA = node('gke-prod-default-pool-1a2b3c4d-abcd');
const gkeA2 = node('gke-prod-default-pool-1a2b3c4d-efgh');
const gkeExtra = node('gke-prod-gpu-pool-0c0d0e0f-ijkl');
const gkeB = node('gke-prod-default-pool-9f8e7d6c-wxyz', `${REGION}-b`);

function facts(data: Record<string, string> | undefined): ClusterFacts & { reads: string[] } {
  const reads: string[] = [];
  return {
    reads,
    configMap: (namespace, name) => {
      reads.push(`${namespace}/${name}`);
      return Promise.resolve(data);
    },
  };
}

const instancePath = (n: { name: string; zone?: string }) => `zones/${n.zone ?? ''}/instances/${n.name}`;
const groupPath = (zone: string, name = IG) => `zones/${zone}/instanceGroups/${name}`;

/** GKE's instances, each carrying the cluster's node tag from its node pool's instance template. */
function seedGkeInstances(fake: FakeCompute, ...nodes: { name: string; zone?: string }[]): void {
  for (const n of nodes) fake.seed(instancePath(n), { tags: { items: [GKE_TAG] }, labels: { 'goog-gke-node': '' } });
}

/** An instance group as ingress-gce makes it (no description), behind one of GKE's Ingress backend services. */
function seedGkeGroup(fake: FakeCompute, zone: string, members: { name: string; zone?: string }[], name = IG, backendService = `k8s-be-30001--${UID}`): void {
  fake.seed(groupPath(zone, name), { namedPorts: [{ name: 'port30001', port: 30001 }] });
  fake.seedMembers(groupPath(zone, name), members.map(instancePath));
  const bs = `global/backendServices/${backendService}`;
  const backends = [...((fake.get(bs)?.backends as unknown[] | undefined) ?? []), { group: `${V1}/${groupPath(zone, name)}`, balancingMode: 'RATE', maxRatePerInstance: 1 }];
  fake.seed(bs, { protocol: 'HTTP', backends });
}

const ownershipNoted = (fake: FakeCompute, path: string) => fake.get(path)?.description;

describe('gce on GKE: the cluster uid, as ingress-gce finds it', () => {
  it('names the shared resources after kube-system/ingress-uid when clusterId is not configured', async () => {
    const cluster = facts({ uid: UID, 'provider-uid': UID });
    const h = harness({ clusterId: undefined }, { cluster });
    await h.provider.ensure(l4());
    expect(cluster.reads).toEqual(['kube-system/ingress-uid']);
    expect(h.fake.writes()).toContain(`RegionHealthChecks.Insert k8s-${UID}-node`);
    expect(h.fake.writes().filter((w) => w.startsWith('InstanceGroups.Insert'))).toEqual([`InstanceGroups.Insert ${IG}`, `InstanceGroups.Insert ${IG}`]);
    expect(h.fake.violations).toEqual([]);
  });

  it('a configured clusterId wins over the ConfigMap, as ingress-gce\'s --cluster-uid flag does', async () => {
    const cluster = facts({ uid: UID });
    const h = harness({ clusterId: 'mine' }, { cluster });
    await h.provider.ensure(l4());
    expect(cluster.reads).toEqual([]);
    expect(h.fake.writes()).toContain('InstanceGroups.Insert k8s-ig--mine');
  });

  it('without a clusterId and without the ConfigMap, refuses before any Compute call and says what to set', async () => {
    for (const cluster of [facts(undefined), facts({ 'provider-uid': 'x' }), undefined]) {
      const h = harness({ clusterId: undefined }, cluster ? { cluster } : {});
      const e = await rejection(h.provider.ensure(l4()));
      expect(e.kind).toBe('invalid');
      expect(e.message).toMatch(/kube-system\/ingress-uid/);
      expect(e.message).toMatch(/clusterId/);
      expect(h.fake.log).toEqual([]);
      await h.done();
    }
  });
});

describe('gce on GKE: GKE\'s instance groups are shared, never claimed', () => {
  it('uses GKE\'s group where it exists, makes its own where none does, adds nodes, and removes nothing it did not add', async () => {
    const h = harness({ clusterId: undefined, nodeTags: undefined }, { cluster: facts({ uid: UID }) });
    seedGkeInstances(h.fake, gkeA, gkeA2, gkeExtra, gkeB);
    // GKE's ingress-gce made the zone-a group, holding a node lbc does not target (gkeExtra).
    seedGkeGroup(h.fake, `${REGION}-a`, [gkeA, gkeExtra]);

    await h.provider.ensure(l4({}, {}, { targets: [gkeA, gkeB] }));
    expect(h.fake.violations).toEqual([]);
    expect(h.fake.writes()).toEqual([
      `Addresses.Insert ${LB}`,
      `RegionHealthChecks.Insert k8s-${UID}-node`,
      `Firewalls.Insert k8s-fw-${LB}`,
      `Firewalls.Insert k8s-${UID}-node-http-hc`,
      // Zone a: GKE's group already holds gkeA; zone b has none, so lbc makes it.
      `InstanceGroups.Insert ${IG}`,
      `InstanceGroups.AddInstances ${IG}`,
      `RegionBackendServices.Insert ${LB}`,
      `ForwardingRules.Insert ${LB}`,
    ]);
    // GKE-shaped instances: the firewall targets GKE's node tag, read from the instances.
    expect(h.fake.log.find((c) => c.rpc === 'Firewalls.Insert')?.body).toMatchObject({ targetTags: [GKE_TAG] });
    expect(h.fake.log.find((c) => c.rpc === 'RegionBackendServices.Insert')?.body).toMatchObject({
      backends: [{ group: `${V1}/${groupPath(`${REGION}-a`)}` }, { group: `${V1}/${groupPath(`${REGION}-b`)}` }],
    });
    expect(h.fake.membersOf(groupPath(`${REGION}-a`))).toEqual([`${V1}/${instancePath(gkeA)}`, `${V1}/${instancePath(gkeExtra)}`]);
    expect(ownershipNoted(h.fake, groupPath(`${REGION}-a`))).toBeUndefined();

    // A new node in zone a is added to GKE's group; gkeExtra stays, though lbc does not target it.
    h.fake.clearLog();
    await h.provider.ensure(l4({}, {}, { targets: [gkeA, gkeA2, gkeB] }));
    expect(h.fake.writes()).toEqual([`InstanceGroups.AddInstances ${IG}`]);
    expect(h.fake.log.find((c) => c.rpc === 'InstanceGroups.AddInstances')?.path).toBe(`projects/test-project/${groupPath(`${REGION}-a`)}/addInstances`);
    expect(h.fake.membersOf(groupPath(`${REGION}-a`))).toEqual([`${V1}/${instancePath(gkeA)}`, `${V1}/${instancePath(gkeA2)}`, `${V1}/${instancePath(gkeExtra)}`]);

    // Zone a's nodes leave lbc's targets: GKE's group keeps every member and is not emptied.
    h.fake.clearLog();
    await h.provider.ensure(l4({}, {}, { targets: [gkeB] }));
    expect(h.fake.writes()).toEqual([`RegionBackendServices.Update ${LB}`]);
    expect(h.fake.membersOf(groupPath(`${REGION}-a`))).toHaveLength(3);

    // Deletion removes lbc's own zone-b group; GKE's group, its members and its backend service stay.
    h.fake.clearLog();
    await h.provider.delete(l4().ref);
    expect(h.fake.writes().filter((w) => w.startsWith('InstanceGroups.'))).toEqual([`InstanceGroups.Delete ${IG}`]);
    expect(h.fake.get(groupPath(`${REGION}-b`))).toBeUndefined();
    expect(h.fake.get(groupPath(`${REGION}-a`))).toBeDefined();
    expect(h.fake.membersOf(groupPath(`${REGION}-a`))).toHaveLength(3);
    expect(h.fake.violations).toEqual([]);
  });

  it('a group GKE makes between lbc\'s look and its insert (409) is shared, not a conflict', async () => {
    const h = harness({ clusterId: undefined }, { cluster: facts({ uid: UID }) });
    const spec = l4({}, {}, { targets: [gkeA] });
    const changes = await h.provider.plan(spec);
    expect(changes).toContainEqual({ op: 'create', resource: 'InstanceGroup', id: `${REGION}-a/${IG}` });
    seedGkeGroup(h.fake, `${REGION}-a`, [gkeExtra]);
    // lbc's look (the aggregated list) still sees no group; GKE's is there when lbc inserts.
    h.fake.failNext((c) => c.rpc === 'InstanceGroups.AggregatedList', { status: 200, body: { items: {} } });
    await h.provider.ensure(spec);
    expect(h.fake.writes().filter((w) => w.startsWith('InstanceGroups.'))).toEqual([`InstanceGroups.Insert ${IG}`, `InstanceGroups.AddInstances ${IG}`]);
    expect(h.fake.log.find((c) => c.rpc === 'InstanceGroups.Insert')?.status).toBe(409);
    expect(h.fake.membersOf(groupPath(`${REGION}-a`))).toEqual([`${V1}/${instancePath(gkeA)}`, `${V1}/${instancePath(gkeExtra)}`]);
    expect(ownershipNoted(h.fake, groupPath(`${REGION}-a`))).toBeUndefined();
  });
});

describe('gce on GKE: one load-balanced instance group per instance, refused as GCE refuses it', () => {
  it('a second family (clusterId other than GKE\'s uid) fails at the backend service, as in GCE', async () => {
    const h = harness({ clusterId: 'lbc' });
    seedGkeGroup(h.fake, `${REGION}-a`, [gkeA]);
    seedGkeGroup(h.fake, `${REGION}-b`, [gkeB]);
    const e = await rejection(h.provider.ensure(l4({}, {}, { targets: [gkeA, gkeB] })));
    expect(e.message).toContain(`Validation failed for instance 'projects/test-project/${instancePath(gkeA)}': instance may belong to at most one load-balanced instance group.`);
    // The groups themselves could be filled (not load-balanced yet); the backend service was refused.
    expect(h.fake.membersOf(groupPath(`${REGION}-a`, 'k8s-ig--lbc'))).toEqual([`${V1}/${instancePath(gkeA)}`]);
    expect(h.fake.get(`regions/${REGION}/backendServices/${LB}`)).toBeUndefined();
  });

  it('adding a node to a load-balanced group while GKE\'s load-balanced group holds it fails with instanceInMultipleLoadBalancedIgs', async () => {
    const h = harness({ clusterId: 'lbc' });
    await h.provider.ensure(l4({}, {}, { targets: [gkeA] }));
    seedGkeGroup(h.fake, `${REGION}-a`, [gkeA2]);
    h.fake.clearLog();
    const e = await rejection(h.provider.ensure(l4({}, {}, { targets: [gkeA, gkeA2] })));
    expect(e.message).toContain('instance may belong to at most one load-balanced instance group');
    const add = h.fake.log.find((c) => c.rpc === 'InstanceGroups.AddInstances');
    expect(add?.status).toBe(400);
    expect(h.fake.membersOf(groupPath(`${REGION}-a`, 'k8s-ig--lbc'))).toEqual([`${V1}/${instancePath(gkeA)}`]);
  });
});

describe('gce on GKE: node tags as cloud-provider-gcp gets them', () => {
  it('kube-up\'s longest name-prefix tag first, else GKE\'s one gke-<cluster>-<hash>-node tag', () => {
    expect(nodeTagOf('kubernetes-minion-abcd', ['kubernetes', 'kubernetes-minion', 'http-server'])).toBe('kubernetes-minion');
    expect(nodeTagOf(gkeA.name, ['http-server', GKE_TAG])).toBe(GKE_TAG);
    expect(nodeTagOf(gkeA.name, ['http-server'])).toBeUndefined();
    // Two clusters' tags on one VM: which one is meant cannot be told.
    expect(nodeTagOf(gkeA.name, [GKE_TAG, 'gke-other-0a1b2c3d-node'])).toBeUndefined();
  });

  it('an instance with neither is refused with its tags in the message', async () => {
    const h = harness({ nodeTags: undefined });
    h.fake.seed(instancePath(gkeA), { tags: { items: ['http-server'] } });
    const e = await rejection(h.provider.ensure(l4({}, {}, { targets: [gkeA] })));
    expect(e.kind).toBe('invalid');
    expect(e.message).toContain('gke-<cluster>-<hash>-node (tags: http-server)');
  });
});
