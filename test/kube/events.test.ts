// The recorder against a scripted core API: aggregation, coalescing under load,
// retries and give-ups, without a server.
import type { CoreV1Event } from '@kubernetes/client-node';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { EventRecorder, toInvolvedObject } from '../../src/kube/events.js';
import type { EventRecorderOptions } from '../../src/kube/events.js';

type Core = EventRecorderOptions['core'];
const apiError = (code: number): Error => Object.assign(new Error(`HTTP ${code}`), { code });

class FakeEvents {
  stored = new Map<string, CoreV1Event>();
  calls: string[] = [];
  inFlight = 0;
  maxInFlight = 0;
  /** Returns an error to fail this call with, or undefined. */
  fail: (op: 'create' | 'patch', name: string) => unknown = () => undefined;

  core: Core = {
    createNamespacedEvent: (async ({ namespace, body }: { namespace: string; body: CoreV1Event }) =>
      this.call('create', body.metadata.name!, () => {
        const key = `${namespace}/${body.metadata.name}`;
        if (this.stored.has(key)) throw apiError(409);
        this.stored.set(key, structuredClone(body));
        return body;
      })) as Core['createNamespacedEvent'],
    patchNamespacedEvent: (async ({ name, namespace, body }: { name: string; namespace: string; body: Partial<CoreV1Event> }) =>
      this.call('patch', name, () => {
        const ev = this.stored.get(`${namespace}/${name}`);
        if (!ev) throw apiError(404);
        Object.assign(ev, body);
        return ev;
      })) as Core['patchNamespacedEvent'],
  };

  private async call<T>(op: 'create' | 'patch', name: string, fn: () => T): Promise<T> {
    this.calls.push(`${op} ${name}`);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      await new Promise((r) => setTimeout(r, 1));
      const err = this.fail(op, name);
      if (err) throw err;
      return fn();
    } finally {
      this.inFlight--;
    }
  }

  all(): CoreV1Event[] {
    return [...this.stored.values()];
  }
}

const svc = { kind: 'Service', apiVersion: 'v1', metadata: { name: 'web', namespace: 'shop', uid: 'u-1', resourceVersion: '7' } };
const recorders: EventRecorder[] = [];
function make(api: FakeEvents, extra: Partial<EventRecorderOptions> = {}): EventRecorder {
  const r = new EventRecorder({
    core: api.core,
    reportingInstance: 'test-host',
    retry: { baseMs: 1, maxMs: 4 },
    logger: { warn: () => {} },
    ...extra,
  });
  recorders.push(r);
  return r;
}
afterEach(async () => {
  await Promise.all(recorders.splice(0).map((r) => r.close()));
});

describe('EventRecorder', () => {
  it('writes a core/v1 Event naming the object, the source and the reporter', async () => {
    const api = new FakeEvents();
    const rec = make(api, { now: () => new Date('2026-03-01T10:00:00.123Z') });
    rec.event(svc, 'Normal', 'EnsuringLoadBalancer', 'Ensuring load balancer');
    await rec.flush();
    const [ev] = api.all();
    expect(ev).toMatchObject({
      metadata: { namespace: 'shop' },
      involvedObject: { kind: 'Service', apiVersion: 'v1', namespace: 'shop', name: 'web', uid: 'u-1', resourceVersion: '7' },
      reason: 'EnsuringLoadBalancer',
      message: 'Ensuring load balancer',
      type: 'Normal',
      source: { component: 'lbc' },
      reportingComponent: 'lbc.dev/controller',
      reportingInstance: 'test-host',
      count: 1,
    });
    expect(ev!.metadata.name).toMatch(/^web\.[0-9a-f]{15,}$/);
    expect(ev!.firstTimestamp).toEqual(new Date('2026-03-01T10:00:00.123Z'));
  });

  it('aggregates a repeat within the window into a count patch, and starts a new Event after it', async () => {
    const api = new FakeEvents();
    let now = new Date('2026-03-01T10:00:00Z');
    const rec = make(api, { now: () => now, aggregationWindowMs: 60_000 });
    rec.event(svc, 'Warning', 'SyncLoadBalancerFailed', 'quota exceeded');
    await rec.flush();
    now = new Date('2026-03-01T10:00:30Z');
    rec.event(svc, 'Warning', 'SyncLoadBalancerFailed', 'quota exceeded');
    await rec.flush();
    expect(api.all()).toHaveLength(1);
    expect(api.all()[0]).toMatchObject({ count: 2, lastTimestamp: '2026-03-01T10:00:30Z' });
    expect(api.calls.map((c) => c.split(' ')[0])).toEqual(['create', 'patch']);
    rec.event(svc, 'Warning', 'SyncLoadBalancerFailed', 'another message');
    now = new Date('2026-03-01T10:05:00Z');
    rec.event(svc, 'Warning', 'SyncLoadBalancerFailed', 'quota exceeded');
    await rec.flush();
    expect(api.all().map((e) => e.count)).toEqual([2, 1, 1]);
  });

  it('coalesces a burst of repeats without losing any from the count', async () => {
    const api = new FakeEvents();
    const rec = make(api);
    for (let i = 0; i < 1000; i++) rec.event(svc, 'Normal', 'UpdatedLoadBalancer', 'same');
    await rec.flush();
    expect(api.all()).toHaveLength(1);
    expect(api.all()[0]!.count).toBe(1000);
    expect(api.calls.length).toBeLessThanOrEqual(3);
  });

  it('queues rather than drops under load, with bounded concurrency', async () => {
    const api = new FakeEvents();
    const rec = make(api, { concurrency: 3 });
    for (let i = 0; i < 2000; i++) rec.event({ kind: 'Service', namespace: 'shop', name: `svc-${i % 50}` }, 'Normal', 'R', `m${i}`);
    expect(rec.stats().pending).toBeGreaterThan(1000);
    await rec.flush();
    expect(api.all()).toHaveLength(2000);
    expect(new Set(api.all().map((e) => e.metadata.name)).size).toBe(2000);
    expect(api.maxInFlight).toBe(3);
    expect(rec.stats()).toMatchObject({ recorded: 2000, created: 2000, failed: 0, pending: 0 });
  });

  it('retries transient errors (no answer, 429, 5xx) until written', async () => {
    const api = new FakeEvents();
    const script = [new Error('ECONNRESET'), apiError(429), apiError(503)];
    api.fail = () => script.shift();
    const rec = make(api);
    rec.event(svc, 'Normal', 'R', 'm');
    await rec.flush();
    expect(api.all()).toHaveLength(1);
    expect(rec.stats()).toMatchObject({ created: 1, retried: 3, failed: 0 });
  });

  it('gives up on a permanent error, and after maxAttempts of transient ones', async () => {
    const api = new FakeEvents();
    api.fail = (_op, name) => (name.startsWith('forbidden') ? apiError(403) : name.startsWith('flaky') ? apiError(500) : undefined);
    const rec = make(api, { maxAttempts: 4 });
    rec.event({ kind: 'Service', namespace: 'gone', name: 'forbidden' }, 'Normal', 'R', 'm');
    rec.event({ kind: 'Service', namespace: 'x', name: 'flaky' }, 'Normal', 'R', 'm');
    rec.event({ kind: 'Service', namespace: 'x', name: 'fine' }, 'Normal', 'R', 'm');
    await rec.flush();
    expect(api.calls.filter((c) => c.startsWith('create forbidden'))).toHaveLength(1);
    expect(api.calls.filter((c) => c.startsWith('create flaky'))).toHaveLength(4);
    expect(rec.stats()).toMatchObject({ created: 1, failed: 2 });
  });

  it('recreates an aggregated Event the server has expired', async () => {
    const api = new FakeEvents();
    const rec = make(api);
    rec.event(svc, 'Normal', 'R', 'm');
    await rec.flush();
    api.stored.clear();
    rec.event(svc, 'Normal', 'R', 'm');
    await rec.flush();
    expect(api.calls.map((c) => c.split(' ')[0])).toEqual(['create', 'patch', 'create']);
    expect(api.all()[0]!.count).toBe(2);
  });

  it('needs a kind: list items carry none', () => {
    expect(() => toInvolvedObject({ metadata: { name: 'x' } })).toThrow(/kind/);
    expect(toInvolvedObject({ kind: 'Node', metadata: { name: 'n1', uid: 'u' } })).toEqual({
      kind: 'Node',
      apiVersion: undefined,
      namespace: undefined,
      name: 'n1',
      uid: 'u',
      resourceVersion: undefined,
    });
  });

  it('names cluster-scoped objects\' Events in the default namespace', async () => {
    const api = new FakeEvents();
    const rec = make(api);
    rec.event({ kind: 'Node', name: 'n1' }, 'Normal', 'R', 'm');
    await rec.flush();
    expect(api.all()[0]!.metadata.namespace).toBe('default');
  });

  it('holds writes while holdWhile says so, then writes every one of them', async () => {
    const api = new FakeEvents();
    let busy = true;
    const rec = make(api, { holdWhile: () => busy, maxHoldMs: 60_000 });
    for (const reason of ['A', 'B', 'C']) rec.event(svc, 'Normal', reason, 'm');
    rec.event(svc, 'Normal', 'A', 'm');
    await new Promise((r) => setTimeout(r, 100));
    expect(api.calls).toEqual([]);
    let flushed = false;
    const flushing = rec.flush().then(() => (flushed = true));
    await new Promise((r) => setTimeout(r, 50));
    expect(flushed).toBe(false);
    busy = false;
    await flushing;
    expect(api.all().map((e) => [e.reason, e.count]).sort()).toEqual([
      ['A', 2],
      ['B', 1],
      ['C', 1],
    ]);
    expect(api.calls.filter((c) => c.startsWith('create'))).toHaveLength(3);
  });

  it('files the Events recorded during a hold once it ends: in the order recorded, with the times recorded; a bad target still throws at once', async () => {
    const api = new FakeEvents();
    let busy = true;
    let now = new Date('2026-03-01T10:00:00.000Z');
    const rec = make(api, { holdWhile: () => busy, maxHoldMs: 60_000, now: () => now });
    rec.event(svc, 'Normal', 'A', 'm');
    now = new Date('2026-03-01T10:00:05.000Z');
    rec.event(svc, 'Warning', 'B', 'm');
    expect(() => rec.event({ kind: 'Service', name: '' }, 'Normal', 'X', 'm')).toThrow(TypeError);
    expect(rec.stats()).toMatchObject({ recorded: 2, pending: 2, created: 0 });
    now = new Date('2026-03-01T10:01:00.000Z');
    busy = false;
    await vi.waitFor(() => expect(api.all()).toHaveLength(2));
    await rec.flush();
    expect(api.calls.filter((c) => c.startsWith('create')).map((c) => c.replace(/ .*/, ''))).toHaveLength(2);
    const [a, b] = ['A', 'B'].map((r) => api.all().find((e) => e.reason === r));
    expect(a?.firstTimestamp).toEqual(new Date('2026-03-01T10:00:00.000Z'));
    expect(b?.firstTimestamp).toEqual(new Date('2026-03-01T10:00:05.000Z'));
    // client-go's names: increasing with the time recorded, so A's sorts before B's.
    expect((a?.metadata.name ?? '') < (b?.metadata.name ?? '')).toBe(true);
    expect(rec.stats()).toMatchObject({ recorded: 2, pending: 0, created: 2 });
  });

  it('drops the Events deferred during a hold on discard(), counted', async () => {
    const api = new FakeEvents();
    const rec = make(api, { holdWhile: () => true, maxHoldMs: 60_000 });
    rec.event(svc, 'Normal', 'A', 'm');
    rec.event(svc, 'Normal', 'B', 'm');
    rec.discard('lost the Lease');
    await rec.flush();
    expect(api.calls).toEqual([]);
    expect(rec.stats()).toMatchObject({ recorded: 2, dropped: 2, pending: 0 });
  });

  it('holds an Event no longer than maxHoldMs after it was recorded', async () => {
    const api = new FakeEvents();
    const rec = make(api, { holdWhile: () => true, maxHoldMs: 150 });
    const t0 = Date.now();
    rec.event(svc, 'Normal', 'A', 'm');
    await new Promise((r) => setTimeout(r, 60));
    expect(api.calls).toEqual([]);
    await rec.flush();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(api.all().map((e) => e.reason)).toEqual(['A']);
  });
});

/** What a reconcile records for each of n Services, Ensuring then Ensured; resolves once all are written. */
async function ensuringThenEnsured(rec: EventRecorder, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const obj = { kind: 'Service', namespace: 'shop', name: `svc-${i}` };
    rec.event(obj, 'Normal', 'EnsuringLoadBalancer', 'Ensuring load balancer');
    rec.event(obj, 'Normal', 'EnsuredLoadBalancer', 'Ensured load balancer');
  }
  await rec.flush();
}

describe('EventRecorder guarantees (README, Operations)', () => {
  it("writes an object's Events in the order recorded: an Ensured never lands before its Ensuring", async () => {
    const api = new FakeEvents();
    // The first write of each object's Ensuring fails once, as under a brief API outage.
    const failedOnce = new Set<string>();
    const order: string[] = [];
    const core = api.core;
    api.core = {
      ...core,
      createNamespacedEvent: (async (p: { namespace: string; body: CoreV1Event }) => {
        const what = `${p.body.involvedObject.name} ${p.body.reason}`;
        if (p.body.reason === 'EnsuringLoadBalancer' && !failedOnce.has(what)) {
          failedOnce.add(what);
          throw apiError(503);
        }
        const out = await core.createNamespacedEvent(p as never);
        order.push(what);
        return out;
      }) as Core['createNamespacedEvent'],
    };
    await ensuringThenEnsured(make(api, { concurrency: 8 }), 20);
    expect(order).toHaveLength(40);
    for (let i = 0; i < 20; i++) {
      const mine = order.filter((o) => o.startsWith(`svc-${i} `));
      expect(mine).toEqual([`svc-${i} EnsuringLoadBalancer`, `svc-${i} EnsuredLoadBalancer`]);
    }
  });

  it('loses only the latest Events of an object at a crash: at no instant is an Ensured stored without its Ensuring', async () => {
    const api = new FakeEvents();
    const core = api.core;
    const violations: string[] = [];
    const check = (): void => {
      const reasons = new Map<string, Set<string>>();
      for (const e of api.all()) reasons.set(e.involvedObject.name!, new Set([...(reasons.get(e.involvedObject.name!) ?? []), e.reason!]));
      for (const [name, r] of reasons) if (r.has('EnsuredLoadBalancer') && !r.has('EnsuringLoadBalancer')) violations.push(name);
    };
    api.core = {
      ...core,
      createNamespacedEvent: (async (p: { namespace: string; body: CoreV1Event }) => {
        // Ensuring writes are slow, Ensured writes fast: concurrent writes would store Ensured first.
        if (p.body.reason === 'EnsuringLoadBalancer') await new Promise((r) => setTimeout(r, 15));
        const out = await core.createNamespacedEvent(p as never);
        check(); // a SIGKILL could come right after any write
        return out;
      }) as Core['createNamespacedEvent'],
    };
    await ensuringThenEnsured(make(api, { concurrency: 8 }), 30);
    expect(api.all()).toHaveLength(60);
    expect(violations).toEqual([]);
  });

  it('sends nothing after discard(): pending and later Events are dropped and counted in a log line', async () => {
    const api = new FakeEvents();
    const warnings: string[] = [];
    let busy = true;
    const rec = make(api, { holdWhile: () => busy, maxHoldMs: 60_000, logger: { warn: (m) => warnings.push(m) } });
    for (const reason of ['A', 'B', 'C']) rec.event(svc, 'Normal', reason, 'm');
    rec.event({ kind: 'Service', namespace: 'shop', name: 'other' }, 'Normal', 'A', 'm');
    await new Promise((r) => setTimeout(r, 50));
    expect(api.calls).toEqual([]);
    rec.discard('lost the Lease');
    busy = false;
    rec.event(svc, 'Normal', 'D', 'm');
    await rec.flush();
    await new Promise((r) => setTimeout(r, 50));
    expect(api.calls).toEqual([]);
    expect(rec.stats()).toMatchObject({ recorded: 5, created: 0, dropped: 5, pending: 0 });
    expect(warnings).toContain('events: 4 Events not written: lost the Lease');
    await rec.close();
    expect(warnings).toContain('events: 1 more Events recorded after that were not written');
  });

  it('close() flushes for at most its timeout, then drops what the API server would not take', async () => {
    const api = new FakeEvents();
    api.fail = () => apiError(503);
    const warnings: string[] = [];
    const rec = make(api, { retry: { baseMs: 20, maxMs: 50 }, logger: { warn: (m) => warnings.push(m) } });
    rec.event(svc, 'Normal', 'A', 'm');
    rec.event(svc, 'Normal', 'B', 'm');
    const t0 = Date.now();
    await rec.close({ timeoutMs: 300 });
    expect(Date.now() - t0).toBeLessThan(1500);
    expect(rec.stats()).toMatchObject({ created: 0, dropped: 2 });
    expect(warnings).toContain('events: 2 Events not written: not written within 300 ms of shutdown');
    const calls = api.calls.length;
    await new Promise((r) => setTimeout(r, 200));
    expect(api.calls.length).toBe(calls);
  });

  it('cuts a message to the 1024 bytes an Event note may have, with a marker giving the original size', async () => {
    const api = new FakeEvents();
    const rec = make(api);
    const huge = `invalid annotation value "${'x'.repeat(100_000)}"`;
    rec.event(svc, 'Warning', 'InvalidAnnotation', huge);
    rec.event(svc, 'Warning', 'InvalidAnnotation', huge);
    await rec.flush();
    const [ev] = api.all();
    expect(Buffer.byteLength(ev!.message!)).toBeLessThanOrEqual(1024);
    expect(ev!.message).toMatch(/^invalid annotation value "x+… \(truncated, 100027 bytes\)$/);
    expect(ev!.count).toBe(2);
  });
});
