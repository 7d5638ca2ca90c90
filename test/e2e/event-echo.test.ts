// Events wait for the watch to carry the writes back (#21): an address is out once the
// watch has delivered it, and an Event written before that competes with the delivery.
// The Service watch here delivers every event 300 ms late (a busy API server); each
// Service's "EnsuredLoadBalancer" Event must not be sent before the controller's own
// watch has delivered that Service with its address, yet every Event is written.
import { afterAll, describe, expect, it } from 'vitest';
import type { WriteClients } from '../../src/kube/client.js';
import { kubeWatch, type WatchFn } from '../../src/kube/informer.js';
import { E2E, eventually } from './harness.js';

const WATCH_DELAY_MS = 300;
// Service name -> when the controller's watch delivered it with an address.
const addressDelivered = new Map<string, number>();
// [Service name, reason, when the Event write was sent]
const sent: [string, string, number][] = [];
let inner: WatchFn | undefined;

const lateWatch: WatchFn = (path, query, onEvent, onDone) => {
  if (!inner) throw new Error('watch used before the test set it up');
  if (!path.endsWith('/services')) return inner(path, query, onEvent, onDone);
  return inner(
    path,
    query,
    (type, obj) => {
      setTimeout(() => {
        const svc = obj as { metadata?: { name?: string }; status?: { loadBalancer?: { ingress?: unknown[] } } };
        const name = svc.metadata?.name ?? '';
        if ((svc.status?.loadBalancer?.ingress?.length ?? 0) > 0 && !addressDelivered.has(name)) addressDelivered.set(name, performance.now());
        onEvent(type, obj);
      }, WATCH_DELAY_MS);
    },
    (err) => setTimeout(() => onDone(err), WATCH_DELAY_MS),
  );
};

function recordEvents(w: WriteClients): WriteClients {
  const core = Object.create(w.core) as WriteClients['core'];
  core.createNamespacedEvent = ((p: Parameters<WriteClients['core']['createNamespacedEvent']>[0]) => {
    sent.push([p.body.involvedObject.name ?? '', p.body.reason ?? '', performance.now()]);
    return w.core.createNamespacedEvent(p);
  }) as WriteClients['core']['createNamespacedEvent'];
  return { core, networking: w.networking };
}

let e: E2E | undefined;
afterAll(async () => {
  await e?.stop();
});

describe('Events and the watch', () => {
  it('an "Ensured" Event waits until the watch has delivered the address it reports, and is written then', async () => {
    e = await E2E.start({ noStart: true, wrapWrites: recordEvents, controller: { watch: lateWatch } });
    inner = e.clients.api?.watch ?? kubeWatch(e.cluster.kc);
    await e.controller.start();
    const names = ['echo-a', 'echo-b', 'echo-c'];
    await Promise.all(names.map((n) => (e as E2E).lbService(n)));
    for (const n of names) await eventually(`${n} addressed`, async () => (await (e as E2E).getService(n))?.status?.loadBalancer?.ingress?.length);
    await e.settle();
    for (const n of names) await eventually(`${n}: address delivered by the watch`, async () => addressDelivered.has(n));
    for (const n of names) {
      expect(await e.reasons(n)).toEqual(['EnsuringLoadBalancer', 'EnsuredLoadBalancer']);
      const ensured = sent.find(([name, reason]) => name === n && reason === 'EnsuredLoadBalancer');
      const delivered = addressDelivered.get(n);
      expect(ensured, `${n}: Ensured sent`).toBeDefined();
      expect((ensured as [string, string, number])[2]).toBeGreaterThanOrEqual(delivered as number);
    }
  });
});
