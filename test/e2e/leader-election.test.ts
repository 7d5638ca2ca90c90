// Replicas of the controller behind one Lease, in-process against the test cluster:
// only the leader reconciles; a leader stopped cleanly hands over at once, a crashed
// one after its Lease expires; and while Services keep changing through both
// handovers (and a leader cut off from its Lease), no object is ever reconciled by
// two replicas at the same time.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Replica } from '../../src/cli/run.js';
import type { ReconcileObserver } from '../../src/controller/controller.js';
import type { LeaseApi } from '../../src/kube/leader-election.js';
import { E2E, eventually } from './harness.js';

const timings = { leaseDurationMs: 3000, renewDeadlineMs: 2000, retryPeriodMs: 300 };
const quiet = { info: () => {}, warn: () => {}, debug: () => {}, error: () => {} };

interface Interval {
  readonly replica: string;
  readonly key: string;
  readonly start: number;
  end?: number;
}

let e: E2E;
const intervals: Interval[] = [];
// Cuts one replica off the Lease API (as a network partition from the API server would).
let apiDown = false;
const down = (): Promise<never> => Promise.reject(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
const flaky: LeaseApi = {
  readNamespacedLease: (p) => (apiDown ? down() : e.clients.coordination.readNamespacedLease(p)),
  createNamespacedLease: (p) => (apiDown ? down() : e.clients.coordination.createNamespacedLease(p)),
  replaceNamespacedLease: (p) => (apiDown ? down() : e.clients.coordination.replaceNamespacedLease(p)),
};
const replicas: Replica[] = [];

/** Records each reconcile's start and end, per replica. */
function recorder(replica: string): ReconcileObserver {
  const open = new Map<string, Interval>();
  return {
    started: (key) => {
      const iv: Interval = { replica, key, start: performance.now() };
      open.set(key, iv);
      intervals.push(iv);
    },
    finished: (key) => {
      const iv = open.get(key);
      if (iv) iv.end = performance.now();
      open.delete(key);
    },
  };
}

function replica(name: string, api: LeaseApi = e.clients.coordination): Replica {
  const r = new Replica({
    controller: e.newController({ observer: recorder(name) }),
    log: quiet,
    election: { api, namespace: e.ns, name: 'lbc-leader', identity: name, ...timings, log: quiet },
  });
  replicas.push(r);
  return r;
}

const reconcilesBy = (name: string): Interval[] => intervals.filter((i) => i.replica === name);
const port = async (name: string): Promise<number | undefined> => (await e.getService(name))?.status?.loadBalancer?.ingress?.[0]?.ports?.[0]?.port;

beforeAll(async () => {
  e = await E2E.start({
    noStart: true,
    config: { providers: [{ name: 'mem', type: 'memory', options: { addressPool: '198.51.100.0/24', latencyMs: 20 } }] },
  });
});

afterAll(async () => {
  for (const r of replicas) await r.shutdown({ drainTimeoutMs: 0, release: false }).catch(() => {});
  await e?.stop();
});

describe('two replicas behind one Lease', () => {
  let a: Replica;
  let b: Replica;
  const stop = new AbortController();

  it('only the leader reconciles; the standby keeps its caches synced', async () => {
    a = replica('a');
    await a.start(stop.signal);
    await eventually('a leads', () => a.elector?.isLeader());
    b = replica('b');
    await b.start(stop.signal);
    await eventually('b stands by behind a', () => b.elector?.current.phase === 'standby' && b.elector.current.leader === 'a');
    expect(b.ready()).toBe(true);

    await e.node('n1', '10.0.0.1');
    for (const name of ['s1', 's2', 's3']) await e.lbService(name);
    for (const name of ['s1', 's2', 's3']) await eventually(`${name} gets an address`, async () => (await e.getService(name))?.status?.loadBalancer?.ingress?.[0]?.ip);
    // The standby saw the Services (its informers run) but reconciled none of them.
    expect(b.controller.services.cache.get(`${e.ns}/s1`)).toBeDefined();
    expect(reconcilesBy('a').length).toBeGreaterThan(0);
    expect(reconcilesBy('b')).toEqual([]);
  });

  it('hands over at once on a clean stop, after Lease expiry on a crash, and when the leader cannot renew, while Services keep changing', async () => {
    // Churn: every Service's port flips every 60 ms, so every replica that leads has work in flight.
    let flips = 0;
    let churning = true;
    const churn = (async () => {
      while (churning) {
        if (flips > 1000) throw new Error('churn never stopped');
        const name = `s${(flips % 3) + 1}`;
        const p = 80 + (Math.floor(flips / 3) % 2);
        await e.patchService(name, { spec: { ports: [{ name: 'http', port: p, targetPort: 8080, protocol: 'TCP' }] } });
        flips++;
        await new Promise((r) => setTimeout(r, 60));
      }
    })();
    churn.catch(() => {});
    await eventually('a busy', () => reconcilesBy('a').length > 10);

    // Clean stop (SIGTERM): a drains, releases; b takes over within a retry period or so.
    const releasing = performance.now();
    await a.shutdown({ drainTimeoutMs: 5000, release: true });
    const released = performance.now();
    await eventually('b leads', () => b.elector?.isLeader(), 5000);
    await eventually('b reconciles', () => reconcilesBy('b').length > 0, 5000);
    const bFirst = Math.min(...reconcilesBy('b').map((i) => i.start));
    expect(bFirst - released).toBeLessThan(timings.retryPeriodMs * 2.2 + 1000);
    // Nothing a started ended after b began.
    expect(Math.max(...reconcilesBy('a').map((i) => i.end ?? Infinity))).toBeLessThanOrEqual(bFirst);
    expect(reconcilesBy('a').every((i) => i.start < released && i.end !== undefined)).toBe(true);
    expect(released - releasing).toBeLessThan(5000);

    // A third replica stands by; b crashes (stops renewing, no release).
    const c = replica('c', flaky);
    await c.start(stop.signal);
    await eventually('c stands by behind b', () => c.elector?.current.phase === 'standby' && c.elector.current.leader === 'b');
    await eventually('b busy', () => reconcilesBy('b').length > 10);
    await b.shutdown({ drainTimeoutMs: 0, release: false });
    const crashed = performance.now();
    await eventually('c reconciles', () => reconcilesBy('c').length > 0, 10_000);
    const cFirst = Math.min(...reconcilesBy('c').map((i) => i.start));
    expect(cFirst - crashed).toBeGreaterThanOrEqual(timings.leaseDurationMs - timings.retryPeriodMs - 100);
    expect(cFirst - crashed).toBeLessThan(timings.leaseDurationMs + timings.retryPeriodMs * 2.2 + 1500);

    // A fourth stands by; c loses the API server (its Lease cannot be renewed). c must stop
    // reconciling at its renew deadline, before d can see the Lease expire and start.
    const d = replica('d');
    await d.start(stop.signal);
    await eventually('d stands by behind c', () => d.elector?.current.phase === 'standby' && d.elector.current.leader === 'c');
    await eventually('c busy', () => reconcilesBy('c').length > 10);
    apiDown = true;
    const cut = performance.now();
    expect(await c.lost).toMatch(/could not renew Lease/);
    const lostAt = performance.now();
    expect(lostAt - cut).toBeLessThanOrEqual(timings.renewDeadlineMs + 100);
    expect(c.ready()).toBe(false);
    await eventually('d reconciles', () => reconcilesBy('d').length > 0, 10_000);
    const dFirst = Math.min(...reconcilesBy('d').map((i) => i.start));
    expect(Math.max(...reconcilesBy('c').map((i) => i.end ?? Infinity))).toBeLessThanOrEqual(lostAt);
    expect(dFirst).toBeGreaterThan(lostAt);

    churning = false;
    await churn;
    // c converges on the last change of every Service.
    for (const name of ['s1', 's2', 's3']) {
      const want = (await e.getService(name))?.spec?.ports?.[0]?.port;
      await eventually(`${name} status follows its last port`, async () => (await port(name)) === want, 10_000);
    }
    expect(flips).toBeGreaterThan(20);
  });

  it('never had one object reconciled by two replicas at once', () => {
    const byKey = new Map<string, Interval[]>();
    for (const iv of intervals) byKey.set(iv.key, [...(byKey.get(iv.key) ?? []), iv]);
    expect(new Set(intervals.map((i) => i.replica))).toEqual(new Set(['a', 'b', 'c', 'd']));
    let pairs = 0;
    for (const [key, list] of byKey) {
      for (const x of list) {
        for (const y of list) {
          if (x === y || x.replica === y.replica) continue;
          pairs++;
          const xEnd = x.end ?? Infinity;
          const yEnd = y.end ?? Infinity;
          const overlap = x.start < yEnd && y.start < xEnd;
          expect(overlap, `${key}: ${x.replica} [${x.start}, ${xEnd}] overlaps ${y.replica} [${y.start}, ${yEnd}]`).toBe(false);
        }
      }
    }
    expect(pairs).toBeGreaterThan(0);
  });
});
