// Events wait behind the writes users wait for (#21): while a finalizer or status write is
// on its way to the API server, no Event is sent; once they are done, every Event is
// written. Unlike client-go's EventBroadcaster, which sends Events from its own goroutine
// as they come (and drops them when its 1000-entry channel is full), nothing is dropped
// and nothing is sent beside the addresses. A reconcile waiting on a slow provider call
// writes nothing meanwhile, so its "Ensuring" Event goes out during the call.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { WriteClients } from '../../src/kube/client.js';
import { E2E, eventually } from './harness.js';

let e: E2E;
// Finalizer and status patches in flight, and what was in flight when each Event was sent.
let inFlight = 0;
let statusDelayMs = 0;
const eventsSentWhile: number[] = [];

function watched(w: WriteClients): WriteClients {
  const core = Object.create(w.core) as WriteClients['core'];
  const slow = <F extends (...a: never[]) => Promise<unknown>>(f: F): F =>
    (async (...args: Parameters<F>) => {
      inFlight++;
      try {
        // The API server busy with a burst: each write takes a while to be answered.
        await new Promise((r) => setTimeout(r, statusDelayMs));
        return await f(...args);
      } finally {
        inFlight--;
      }
    }) as F;
  core.patchNamespacedService = slow(w.core.patchNamespacedService.bind(w.core));
  core.patchNamespacedServiceStatus = slow(w.core.patchNamespacedServiceStatus.bind(w.core));
  core.createNamespacedEvent = ((p: Parameters<WriteClients['core']['createNamespacedEvent']>[0]) => {
    eventsSentWhile.push(inFlight);
    return w.core.createNamespacedEvent(p);
  }) as WriteClients['core']['createNamespacedEvent'];
  return { core, networking: w.networking };
}

beforeAll(async () => {
  e = await E2E.start({ config: { concurrency: 8 }, wrapWrites: watched });
});

afterAll(async () => {
  await e?.stop();
});

afterEach(() => {
  statusDelayMs = 0;
  e.provider().setLatency(0);
  eventsSentWhile.length = 0;
});

describe('Events and the writes before an address', () => {
  it('no Event is sent while a finalizer or status write is in flight, and every Event is written once they are done', async () => {
    statusDelayMs = 300;
    const names = ['prio-a', 'prio-b', 'prio-c', 'prio-d'];
    // Fewer Services than workers: no reconcile waits in the queue, only the writes are in flight.
    await Promise.all(names.map((n) => e.lbService(n)));
    for (const n of names) await eventually(`${n} addressed`, async () => (await e.getService(n))?.status?.loadBalancer?.ingress?.length);
    await e.settle();
    expect(eventsSentWhile.length).toBeGreaterThanOrEqual(2 * names.length);
    expect(eventsSentWhile.filter((n) => n > 0)).toEqual([]);
    for (const n of names) expect(await e.reasons(n)).toEqual(['EnsuringLoadBalancer', 'EnsuredLoadBalancer']);
  });

  it('a slow provider call holds no Event: "Ensuring" is written while the call is still running', async () => {
    e.provider().setLatency(3000);
    const t0 = Date.now();
    await e.lbService('prio-slow');
    await eventually('the Ensuring Event, during the provider call', async () => (await e.events('prio-slow')).some((ev) => ev.reason === 'EnsuringLoadBalancer'), 2500);
    expect(Date.now() - t0).toBeLessThan(3000);
    expect((await e.getService('prio-slow'))?.status?.loadBalancer?.ingress ?? []).toEqual([]);
    await eventually('prio-slow addressed', async () => (await e.getService('prio-slow'))?.status?.loadBalancer?.ingress?.length);
    await e.settle();
    expect(await e.reasons('prio-slow')).toEqual(['EnsuringLoadBalancer', 'EnsuredLoadBalancer']);
  });
});
