// Status and finalizer writes against a real API server (or devcluster): one request
// when something changes, none otherwise, and a clean failure on a concurrent change.
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { V1Ingress, V1Service } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCluster, uniqueName } from '../support/cluster.js';
import type { TestCluster } from '../support/cluster.js';
import { makeClients } from '../../src/kube/client.js';
import type { KubeClients } from '../../src/kube/client.js';
import { ConflictError, StatusWriter } from '../../src/kube/status.js';
import type { StatusClients } from '../../src/kube/status.js';

const FINALIZER = 'service.lbc.dev/load-balancer';
const READY = { type: 'LoadBalancerReady', status: 'True' as const, reason: 'Provisioned', message: 'ready' };

let cluster: TestCluster;
let clients: KubeClients;
let ns: string;

beforeAll(async () => {
  cluster = await startTestCluster();
  clients = makeClients(cluster.kc);
  ns = uniqueName('lbc-kube-st');
  await clients.core.createNamespace({ body: { metadata: { name: ns } } });
});

afterAll(async () => {
  // Finalizers left behind would hold the namespace in Terminating.
  for (const s of (await clients.core.listNamespacedService({ namespace: ns }).catch(() => ({ items: [] }))).items) {
    if (s.metadata?.finalizers?.length) {
      await clients.core
        .patchNamespacedService(
          { name: s.metadata.name!, namespace: ns, body: { metadata: { finalizers: null } } },
          setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
        )
        .catch(() => {});
    }
  }
  await clients?.core.deleteNamespace({ name: ns }).catch(() => {});
  await cluster?.stop();
});

/** The status clients, counting every call made through them. */
function counted(): { clients: StatusClients; calls: string[] } {
  const calls: string[] = [];
  const wrap = <T extends object>(api: T): T =>
    new Proxy(api, {
      get(target, prop, receiver) {
        const v = Reflect.get(target, prop, receiver) as unknown;
        if (typeof v !== 'function') return v;
        return (...args: unknown[]) => {
          calls.push(String(prop));
          return (v as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
  return { clients: { core: wrap(clients.core), networking: wrap(clients.networking) }, calls };
}

async function lbService(name: string): Promise<V1Service> {
  return clients.core.createNamespacedService({
    namespace: ns,
    body: { metadata: { name }, spec: { type: 'LoadBalancer', ports: [{ port: 80, targetPort: 8080 }] } },
  });
}

describe('StatusWriter on a cluster', () => {
  it('writes Service status (ingress + condition) once, then makes no request while nothing changes', async () => {
    const { clients: c, calls } = counted();
    const w = new StatusWriter(c);
    const svc = await lbService('lb-status');
    const ingress = [{ ip: '203.0.113.10', ports: [{ port: 80, protocol: 'TCP' }] }, { hostname: 'lb.example.com' }];

    const first = await w.patchLoadBalancerStatus('Service', svc, ingress, [READY]);
    expect(first.written).toBe(true);
    expect(calls).toEqual(['patchNamespacedServiceStatus']);
    expect(first.object.status?.loadBalancer?.ingress).toEqual(ingress);
    const cond = first.object.status?.conditions?.find((x) => x.type === 'LoadBalancerReady');
    expect(cond).toMatchObject({ status: 'True', reason: 'Provisioned', message: 'ready' });

    const again = await w.patchLoadBalancerStatus('Service', first.object, ingress, [READY]);
    expect(again).toEqual({ object: first.object, written: false });
    expect(calls).toHaveLength(1);
    const stored = await clients.core.readNamespacedService({ name: 'lb-status', namespace: ns });
    expect(stored.metadata?.resourceVersion).toBe(first.object.metadata?.resourceVersion);

    // Order is part of the status: swapping the entries is a change.
    const swapped = await w.patchLoadBalancerStatus('Service', stored, [...ingress].reverse(), [READY]);
    expect(swapped.written).toBe(true);
    expect(swapped.object.status?.loadBalancer?.ingress?.[0]?.hostname).toBe('lb.example.com');

    // A reason change keeps lastTransitionTime; a status change moves it.
    const t0 = swapped.object.status!.conditions!.find((x) => x.type === 'LoadBalancerReady')!.lastTransitionTime;
    const reworded = await w.patchLoadBalancerStatus('Service', swapped.object, [...ingress].reverse(), [{ ...READY, reason: 'Reconciled' }]);
    expect(reworded.object.status?.conditions?.[0]).toMatchObject({ reason: 'Reconciled', lastTransitionTime: t0 });

    const cleared = await w.patchLoadBalancerStatus('Service', reworded.object, []);
    expect(cleared.written).toBe(true);
    expect(cleared.object.status?.loadBalancer?.ingress ?? []).toEqual([]);
    expect(cleared.object.status?.conditions?.[0]?.reason).toBe('Reconciled');
    expect((await w.patchLoadBalancerStatus('Service', cleared.object, [])).written).toBe(false);
    expect(calls).toHaveLength(4);

    const released = await w.clearLoadBalancerStatus('Service', cleared.object, ['LoadBalancerReady']);
    expect(released.written).toBe(true);
    expect(released.object.status?.conditions ?? []).toEqual([]);
    expect((await w.clearLoadBalancerStatus('Service', released.object, ['LoadBalancerReady'])).written).toBe(false);
    expect(calls).toHaveLength(5);
  });

  // The API server validates metav1.Condition (type with a DNS-subdomain prefix, CamelCase
  // reason) and keeps Service status.conditions (since 1.20): the condition lbc names unread
  // annotations with (#16) is stored, and taken off in the same write as the Ready update.
  it('stores lbc.dev/UnreadAnnotations beside Ready and removes it by type in one patch', async () => {
    const { clients: c, calls } = counted();
    const w = new StatusWriter(c);
    const svc = await lbService(uniqueName('unread'));
    const ingress = [{ ip: '203.0.113.9' }];
    const unread = { type: 'lbc.dev/UnreadAnnotations', status: 'True' as const, reason: 'AnnotationsNotRead', message: 'service.beta.kubernetes.io/aws-load-balancer-healthcheck-pth: not an annotation lbc reads' };
    const first = await w.patchLoadBalancerStatus('Service', svc, ingress, [READY, unread]);
    const stored = await clients.core.readNamespacedServiceStatus({ name: svc.metadata!.name!, namespace: ns });
    expect(stored.status?.conditions?.map((x) => [x.type, x.status, x.reason, x.message])).toEqual([
      ['LoadBalancerReady', 'True', 'Provisioned', 'ready'],
      ['lbc.dev/UnreadAnnotations', 'True', 'AnnotationsNotRead', unread.message],
    ]);
    const fixed = await w.patchLoadBalancerStatus('Service', first.object, ingress, [READY], ['lbc.dev/UnreadAnnotations']);
    expect(fixed.written).toBe(true);
    expect(fixed.object.status?.conditions?.map((x) => x.type)).toEqual(['LoadBalancerReady']);
    expect((await w.patchLoadBalancerStatus('Service', fixed.object, ingress, [READY], ['lbc.dev/UnreadAnnotations'])).written).toBe(false);
    expect(calls).toHaveLength(2);
  });

  it('stops rewriting a field the server does not store (ipMode before 1.29)', async () => {
    const { clients: c, calls } = counted();
    const w = new StatusWriter(c);
    const svc = await lbService('lb-ipmode');
    const ingress = [{ ip: '203.0.113.20', ipMode: 'VIP' }];
    const first = await w.patchLoadBalancerStatus('Service', svc, ingress);
    expect(first.written).toBe(true);
    const second = await w.patchLoadBalancerStatus('Service', first.object, ingress);
    expect(second.written).toBe(false);
    expect(calls).toHaveLength(1);
  });

  it('writes Ingress status without conditions (networking.k8s.io/v1 has none), once', async () => {
    const { clients: c, calls } = counted();
    const w = new StatusWriter(c);
    const ing: V1Ingress = await clients.networking.createNamespacedIngress({
      namespace: ns,
      body: {
        metadata: { name: 'web' },
        spec: { defaultBackend: { service: { name: 'web', port: { number: 80 } } } },
      },
    });
    const first = await w.patchLoadBalancerStatus('Ingress', ing, [{ hostname: 'web.lb.example.com' }], [READY]);
    expect(first.written).toBe(true);
    expect(calls).toEqual(['patchNamespacedIngressStatus']);
    expect(first.object.status?.loadBalancer?.ingress).toEqual([{ hostname: 'web.lb.example.com' }]);
    expect(Object.keys(first.object.status ?? {})).toEqual(['loadBalancer']);
    const again = await w.patchLoadBalancerStatus('Ingress', first.object, [{ hostname: 'web.lb.example.com' }], [READY]);
    expect(again.written).toBe(false);
    expect(calls).toHaveLength(1);
  });

  it('adds and removes the finalizer once each, and fails cleanly on a concurrent change', async () => {
    const { clients: c, calls } = counted();
    const w = new StatusWriter(c);
    const svc = await lbService('lb-finalizer');

    // Someone else adds their finalizer after we read the object.
    await clients.core.patchNamespacedService(
      { name: 'lb-finalizer', namespace: ns, body: { metadata: { finalizers: ['other.example.com/hold'] } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    const conflict = await w.ensureFinalizer('Service', svc, FINALIZER).catch((e: unknown) => e);
    expect(conflict).toBeInstanceOf(ConflictError);
    expect([409, 422]).toContain((conflict as ConflictError).status);
    let stored = await clients.core.readNamespacedService({ name: 'lb-finalizer', namespace: ns });
    expect(stored.metadata?.finalizers).toEqual(['other.example.com/hold']);

    const added = await w.ensureFinalizer('Service', stored, FINALIZER);
    expect(added.written).toBe(true);
    expect(added.object.metadata?.finalizers).toEqual(['other.example.com/hold', FINALIZER]);
    expect((await w.ensureFinalizer('Service', added.object, FINALIZER)).written).toBe(false);

    // A stale copy cannot remove ours after the list changed underneath.
    await clients.core.patchNamespacedService(
      { name: 'lb-finalizer', namespace: ns, body: { metadata: { finalizers: [FINALIZER] } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    await expect(w.removeFinalizer('Service', added.object, FINALIZER)).rejects.toBeInstanceOf(ConflictError);
    stored = await clients.core.readNamespacedService({ name: 'lb-finalizer', namespace: ns });
    expect(stored.metadata?.finalizers).toEqual([FINALIZER]);

    const removed = await w.removeFinalizer('Service', stored, FINALIZER);
    expect(removed.written).toBe(true);
    expect(removed.object.metadata?.finalizers ?? []).toEqual([]);
    expect((await w.removeFinalizer('Service', removed.object, FINALIZER)).written).toBe(false);
    expect(calls.filter((x) => x === 'patchNamespacedService')).toHaveLength(4);
  });

  it('lets the last finalizer go on an object being deleted, which then disappears', async () => {
    const w = new StatusWriter(clients);
    const svc = await lbService('lb-deleting');
    const withFinalizer = (await w.ensureFinalizer('Service', svc, FINALIZER)).object;
    await clients.core.deleteNamespacedService({ name: 'lb-deleting', namespace: ns });
    const deleting = await clients.core.readNamespacedService({ name: 'lb-deleting', namespace: ns });
    expect(deleting.metadata?.deletionTimestamp).toBeTruthy();
    await expect(w.ensureFinalizer('Service', deleting, 'other.lbc.dev/x')).rejects.toThrow(/being deleted/);
    expect(withFinalizer.metadata?.finalizers).toEqual([FINALIZER]);
    await w.removeFinalizer('Service', deleting, FINALIZER);
    await expect(clients.core.readNamespacedService({ name: 'lb-deleting', namespace: ns })).rejects.toMatchObject({ code: 404 });
  });
});

describe('StatusWriter errors', () => {
  it('reports a validation error as itself, not as a conflict', async () => {
    const w = new StatusWriter(clients);
    const svc = await lbService('lb-invalid');
    const err = await w.ensureFinalizer('Service', svc, 'not a valid/finalizer name!').catch((e: unknown) => e);
    expect(err).not.toBeInstanceOf(ConflictError);
    expect(err).toMatchObject({ code: 422 });
  });
});
