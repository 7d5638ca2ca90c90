// planCluster with the real GCE provider (official Compute client) against the fake
// Compute API behind nock: create, in sync, deletion through the provider's own
// planDeletion, orphans, and proof that planning sent only reads.
import type { V1Node, V1Service } from '@kubernetes/client-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { exitCodeOf, planCluster, type ObjectPlan } from '../../src/controller/plan.js';
import { FINALIZER } from '../../src/controller/reconcile.js';
import { buildServiceModel } from '../../src/controller/service-model.js';
import { CLUSTER, harness, PROJECT, REGION, SVC_UID, type Harness } from '../providers/gce/fixtures.js';
import { config as baseConfig, lbService } from './fixtures.js';
import { planInputs, providerSet } from './plan-support.js';

const config = baseConfig({ clusterName: CLUSTER, providers: [{ name: 'gce', type: 'gce', class: 'lbc.dev/gce', options: {} }], defaultClass: 'lbc.dev/gce' });
const nodes: V1Node[] = ['node-a', 'node-b'].map((name, i) => ({
  metadata: { name, labels: { 'topology.kubernetes.io/zone': `${REGION}-${i === 0 ? 'a' : 'b'}` } },
  spec: { providerID: `gce://${PROJECT}/${REGION}-${i === 0 ? 'a' : 'b'}/${name}` },
  status: { addresses: [{ type: 'InternalIP', address: `10.0.0.${i + 1}` }], conditions: [{ type: 'Ready', status: 'True' }] },
}));
const base = lbService('web', [{ name: 'http', port: 80, nodePort: 30080, protocol: 'TCP' }]);
const web = (extra: Partial<NonNullable<V1Service['metadata']>> = {}): V1Service => ({ ...base, metadata: { ...base.metadata, uid: SVC_UID, ...extra } });

let h: Harness;
beforeEach(() => {
  h = harness();
});
afterEach(async () => {
  await h.done();
});

async function plan(services: V1Service[]): Promise<{ objects: readonly ObjectPlan[]; code: number }> {
  h.fake.clearLog();
  const p = await planCluster(planInputs(config, providerSet(config, [h.provider]), { services, nodes }));
  expect(h.fake.reads().length).toBeGreaterThan(0);
  expect(h.fake.writes()).toEqual([]);
  return { objects: p.objects, code: exitCodeOf(p) };
}

const cloud = (o: ObjectPlan | undefined): string[] => (o?.outcome.kind === 'planned' ? o.outcome.cloud.flatMap((c) => c.changes.map((ch) => `${ch.op} ${ch.resource}`)) : []);

describe('lbc plan with the GCE provider', () => {
  it('plans a new L4 load balancer, finds it in sync once ensured, and plans its deletion and its orphan with reads only', async () => {
    const created = await plan([web()]);
    expect(created.code).toBe(2);
    const creates = cloud(created.objects[0]);
    expect(creates.length).toBeGreaterThan(0);
    expect(creates.every((c) => c.startsWith('create '))).toBe(true);

    const built = buildServiceModel({ service: web(), nodes, endpointSlices: [], provider: h.provider, className: 'lbc.dev/gce', clusterName: CLUSTER });
    if (!built.ok) throw new Error(JSON.stringify(built.errors));
    await h.provider.ensure(built.spec);

    const synced = await plan([web({ finalizers: [FINALIZER] })]);
    expect(cloud(synced.objects[0])).toEqual([]);
    expect(synced.code).toBe(0);

    const deleting = await plan([web({ finalizers: [FINALIZER], deletionTimestamp: new Date() })]);
    expect(deleting.objects[0]?.intent).toEqual({ kind: 'delete', reason: 'the Service is being deleted' });
    const deletes = cloud(deleting.objects[0]);
    // planDeletion names the steps delete() would take, not just the load balancer (one step
    // for both zones' instance groups; the health check's step also removes its firewall).
    expect(deletes).toEqual(['delete ForwardingRule', 'delete BackendService', 'delete InstanceGroup', 'delete Firewall', 'delete HealthCheck', 'delete Address']);

    const orphaned = await plan([]);
    expect(orphaned.objects).toEqual([expect.objectContaining({ subject: expect.objectContaining({ kind: 'Orphan', provider: 'gce', ref: expect.objectContaining({ uid: SVC_UID }) }) })]);
    expect(cloud(orphaned.objects[0])).toEqual(deletes);
    expect(orphaned.code).toBe(2);
  });
});
