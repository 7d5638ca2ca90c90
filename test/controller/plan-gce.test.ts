// planCluster with the real GCE provider (official Compute client) against the fake
// Compute API behind nock: create, in sync, deletion through the provider's own
// planDeletion, orphans, Ingress health checks that follow readiness probes, and proof
// that planning sent only reads.
import type { V1EndpointSlice, V1Ingress, V1Node, V1Pod, V1Secret, V1Service } from '@kubernetes/client-node';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { GkeReferences } from '../../src/controller/gke-references.js';
import { buildIngressModel } from '../../src/controller/ingress-model.js';
import type { KubeClients } from '../../src/kube/client.js';
import { Cache } from '../../src/kube/cache.js';
import { exitCodeOf, planCluster, type ObjectPlan } from '../../src/controller/plan.js';
import { FINALIZER } from '../../src/controller/reconcile.js';
import { buildServiceModel } from '../../src/controller/service-model.js';
import type { L7Spec } from '../../src/model/spec.js';
import type { GceLbOptions } from '../../src/providers/gce/annotations.js';
import { CLUSTER, harness, PROJECT, REGION, SVC_UID, type Harness } from '../providers/gce/fixtures.js';
import { config as baseConfig, ingress, ingressClass, lbService } from './fixtures.js';
import { planInputs, providerSet, type World } from './plan-support.js';

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

async function plan(services: V1Service[], w: World = {}): Promise<{ objects: readonly ObjectPlan[]; code: number }> {
  h.fake.clearLog();
  const p = await planCluster(planInputs(config, providerSet(config, [h.provider]), { services, nodes, ...w }));
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

describe('lbc plan of a GCE Ingress', () => {
  // A backend whose one ready Pod has an HTTP readiness probe: the controller reads that
  // Pod at reconcile and the backend's health check requests the probe's path.
  const backend: V1Service = {
    metadata: { name: 'api', namespace: 'default', uid: 'uid-api' },
    spec: { type: 'NodePort', ports: [{ name: 'http', port: 80, targetPort: 'http', nodePort: 31001, protocol: 'TCP' }] },
  };
  const slice: V1EndpointSlice = {
    metadata: { name: 'api-x', namespace: 'default', labels: { 'kubernetes.io/service-name': 'api' } },
    addressType: 'IPv4',
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    endpoints: [{ addresses: ['10.1.0.1'], conditions: { ready: true }, targetRef: { kind: 'Pod', namespace: 'default', name: 'api-1' } }],
  };
  const pod: V1Pod = {
    metadata: { name: 'api-1', namespace: 'default' },
    spec: { containers: [{ name: 'api', image: 'api', ports: [{ name: 'http', containerPort: 8080 }], readinessProbe: { httpGet: { path: '/healthz/ready', port: 'http' } } }] },
  };
  const site = (finalizer = false): V1Ingress => {
    const i = ingress('site', { ingressClassName: 'lbc', defaultBackend: { service: { name: 'api', port: { number: 80 } } } });
    return finalizer ? { ...i, metadata: { ...i.metadata, finalizers: [FINALIZER] } } : i;
  };
  const world = (finalizer = false): World => ({
    ingresses: [site(finalizer)],
    ingressClasses: [ingressClass('lbc', config.ingress.controllerName, { provider: 'gce' })],
    endpointSlices: [slice],
    pods: [pod],
  });
  const requestPaths = (): (string | undefined)[] =>
    h.fake
      .paths()
      .filter((p) => p.startsWith('global/healthChecks/'))
      .map((p) => (h.fake.get(p)?.httpHealthCheck as { requestPath?: string } | undefined)?.requestPath);

  it('plans the health check on the readiness probe path, as the controller sets it, with reads only', async () => {
    const planSpy = vi.spyOn(h.provider, 'plan');
    const created = await plan([backend], world());
    expect(created.code).toBe(2);
    const planned = planSpy.mock.calls.at(-1)?.[0] as L7Spec<GceLbOptions> | undefined;
    expect(planned?.targetSets.map((t) => ('readinessProbePath' in t.healthCheck ? t.healthCheck.readinessProbePath : undefined))).toEqual(['/healthz/ready']);

    // The load balancer as the reconciler makes it: built again with the Pod it read.
    const built = buildIngressModel({
      ingresses: [site()],
      services: [backend],
      endpointSlices: [slice],
      secrets: [],
      nodes,
      pods: [pod],
      provider: h.provider,
      className: 'lbc.dev/gce',
      clusterName: CLUSTER,
    });
    if (!built.ok) throw new Error(JSON.stringify(built));
    await h.provider.ensure(built.spec);
    expect(requestPaths()).toEqual(['/healthz/ready']);

    // Without the Pod, the plan would change the check back to '/'.
    const synced = await plan([backend], world(true));
    expect(cloud(synced.objects[0])).toEqual([]);
    expect(synced.code).toBe(0);
  });

  it("plans an Ingress naming a FrontendConfig lbc cannot read as invalid, naming it, as the controller refuses it", async () => {
    const notServed = Object.assign(new Error('not found'), { code: 404 });
    const w = world();
    const inputs = planInputs(config, providerSet(config, [h.provider]), { services: [backend], nodes, ...w, ingresses: [{ ...site(), metadata: { ...site().metadata, annotations: { 'networking.gke.io/v1beta1.FrontendConfig': 'fe' } } }] });
    const gke = new GkeReferences({
      clients: { custom: { listClusterCustomObject: () => Promise.reject(notServed) } } as unknown as KubeClients,
      log: { info: () => {}, warn: () => {} },
      services: inputs.services,
      ingresses: inputs.ingresses,
      secrets: new Cache<V1Secret>(),
      ingressChanged: () => {},
      watch: () => new Promise(() => {}),
    });
    await gke.sync();
    const planSpy = vi.spyOn(h.provider, 'plan');
    const p = await planCluster({ ...inputs, gke });
    expect(p.objects[0]?.outcome).toEqual({ kind: 'invalid', message: 'FrontendConfig default/fe: the FrontendConfig CRD (networking.gke.io/v1beta1) is not installed' });
    expect(planSpy).not.toHaveBeenCalled();
  });
});
