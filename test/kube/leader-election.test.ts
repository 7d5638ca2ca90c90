// The Lease protocol against the test cluster (devcluster, or the real one KUBECONFIG
// names): one holder at a time, release hands over at once, a crashed holder is
// replaced after the Lease expires, a leader that cannot renew gives up before anyone
// else can take over. Durations are short (Lease 3 s) so the suite is quick.
import { CoordinationV1Api, CoreV1Api, type V1Lease } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LeaderElector, leaseTimingProblems, type LeaseApi, type LeaderElectorOptions } from '../../src/kube/leader-election.js';
import { startTestCluster, uniqueName, type TestCluster } from '../support/cluster.js';

let cluster: TestCluster;
let coordination: CoordinationV1Api;
let core: CoreV1Api;
const ns = uniqueName('lbc-le');
const timings = { leaseDurationMs: 3000, renewDeadlineMs: 2000, retryPeriodMs: 300 };
const electors: LeaderElector[] = [];

beforeAll(async () => {
  cluster = await startTestCluster();
  coordination = cluster.kc.makeApiClient(CoordinationV1Api);
  core = cluster.kc.makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: ns } } });
});

afterAll(async () => {
  await Promise.all(electors.map((e) => e.stop({ release: false })));
  await core?.deleteNamespace({ name: ns }).catch(() => {});
  await cluster?.stop();
});

interface Timeline {
  started: number[];
  stopped: { at: number; reason: string }[];
}

function elector(name: string, identity: string, extra: Partial<LeaderElectorOptions> = {}): { e: LeaderElector; t: Timeline } {
  const t: Timeline = { started: [], stopped: [] };
  const e = new LeaderElector({
    api: coordination,
    namespace: ns,
    name,
    identity,
    ...timings,
    onStartedLeading: () => t.started.push(Date.now()),
    onStoppedLeading: (reason) => t.stopped.push({ at: Date.now(), reason }),
    ...extra,
  });
  electors.push(e);
  return { e, t };
}

async function until<T>(what: string, fn: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const read = (name: string): Promise<V1Lease> => coordination.readNamespacedLease({ namespace: ns, name });
const MICRO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/;
const iso = (v: unknown): string => (v instanceof Date ? v.toISOString() : String(v));

describe('leader election on a Lease', () => {
  it('refuses timings with which a leader could outlive its Lease', () => {
    expect(leaseTimingProblems({ leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 })).toEqual([]);
    expect(leaseTimingProblems({ leaseDurationMs: 10_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 })).toEqual(['leaseDuration must be greater than renewDeadline']);
    expect(leaseTimingProblems({ leaseDurationMs: 15_000, renewDeadlineMs: 2_000, retryPeriodMs: 2_000 })).toEqual(['renewDeadline must be greater than retryPeriod × 1.2']);
    expect(() => new LeaderElector({ api: coordination, namespace: ns, name: 'x', leaseDurationMs: 5000, renewDeadlineMs: 6000 })).toThrow(/leaseDuration must be greater/);
  });

  it('lets exactly one of two candidates lead, and writes the Lease as client-go does', async () => {
    const a = elector('one', 'a');
    const b = elector('one', 'b');
    a.e.start();
    b.e.start();
    const leader = await until('a leader', () => [a, b].find((x) => x.e.isLeader()));
    const standby = leader === a ? b : a;
    // Several renewals later, still exactly one.
    await new Promise((r) => setTimeout(r, timings.retryPeriodMs * 4));
    expect([a.e.isLeader(), b.e.isLeader()].filter(Boolean)).toHaveLength(1);
    expect(standby.t.started).toEqual([]);
    expect(standby.e.current).toEqual({ phase: 'standby', leader: leader.e.identity });

    const lease = await read('one');
    expect(lease.spec?.holderIdentity).toBe(leader.e.identity);
    expect(lease.spec?.leaseDurationSeconds).toBe(3);
    expect(lease.spec?.leaseTransitions).toBe(0);
    expect(iso(lease.spec?.renewTime)).toMatch(MICRO_TIME);
    expect(iso(lease.spec?.acquireTime)).toMatch(MICRO_TIME);
    // Renewals move renewTime, never acquireTime.
    const before = lease;
    await until('a renewal', async () => (await read('one')).metadata?.resourceVersion !== before.metadata?.resourceVersion);
    const after = await read('one');
    expect(iso(after.spec?.acquireTime)).toBe(iso(before.spec?.acquireTime));
    expect(iso(after.spec?.renewTime)).not.toBe(iso(before.spec?.renewTime));
  });

  it('on release empties the holder, and a standby takes over within a retry period', async () => {
    const a = elector('two', 'a');
    a.e.start();
    await until('a leads', () => a.e.isLeader());
    const b = elector('two', 'b');
    b.e.start();
    await until('b stands by behind a', () => b.e.current.phase === 'standby' && b.e.current.leader === 'a');

    const releasedAt = Date.now();
    await a.e.stop({ release: true });
    expect(a.t.stopped.map((s) => s.reason)).toEqual(['stopped']);
    const takenAt = await until('b leads', () => b.t.started[0]);
    // A standby attempts every retryPeriod·[1, 2.2); well under the Lease's 3 s.
    expect(takenAt - releasedAt).toBeLessThan(timings.retryPeriodMs * (1 + 1.2) + 500);
    const lease = await read('two');
    expect(lease.spec?.holderIdentity).toBe('b');
    expect(lease.spec?.leaseTransitions).toBe(1);
    expect(lease.spec?.leaseDurationSeconds).toBe(3);
  });

  it('releases as client-go ReleaseOnCancel: no holder, leaseDurationSeconds 1, transitions kept', async () => {
    const a = elector('six', 'a');
    a.e.start();
    await until('a leads', () => a.e.isLeader());
    await a.e.stop({ release: true });
    const lease = await read('six');
    expect(lease.spec?.holderIdentity ?? '').toBe('');
    expect(lease.spec?.leaseDurationSeconds).toBe(1);
    expect(lease.spec?.leaseTransitions).toBe(0);
    // Taken at once by the next candidate, no expiry to wait for.
    const b = elector('six', 'b');
    const t0 = Date.now();
    b.e.start();
    await until('b leads', () => b.t.started[0]);
    expect(Date.now() - t0).toBeLessThan(1000);
    expect((await read('six')).spec?.leaseTransitions).toBe(1);
  });

  it('after a crash (no release) waits for the Lease to expire, then takes over', async () => {
    const a = elector('three', 'a');
    a.e.start();
    await until('a leads', () => a.e.isLeader());
    const b = elector('three', 'b');
    b.e.start();
    await until('b stands by behind a', () => b.e.current.phase === 'standby' && b.e.current.leader === 'a');

    await a.e.stop({ release: false });
    const crashedAt = Date.now();
    const lease = await read('three');
    expect(lease.spec?.holderIdentity).toBe('a');
    const takenAt = await until('b leads', () => b.t.started[0]);
    // Not before the last renewal b saw has aged a full leaseDuration (it was at most one retry period before the crash)…
    expect(takenAt - crashedAt).toBeGreaterThanOrEqual(timings.leaseDurationMs - timings.retryPeriodMs - 50);
    // …and not much later: the next attempt after that.
    expect(takenAt - crashedAt).toBeLessThan(timings.leaseDurationMs + timings.retryPeriodMs * 2.2 + 700);
    expect((await read('three')).spec?.leaseTransitions).toBe(1);
  });

  it('a leader that cannot renew stops leading before its Lease can expire for anyone else', async () => {
    let broken = false;
    const flaky: LeaseApi = {
      readNamespacedLease: (p) => (broken ? Promise.reject(new Error('connection refused')) : coordination.readNamespacedLease(p)),
      createNamespacedLease: (p) => (broken ? Promise.reject(new Error('connection refused')) : coordination.createNamespacedLease(p)),
      replaceNamespacedLease: (p) => (broken ? Promise.reject(new Error('connection refused')) : coordination.replaceNamespacedLease(p)),
    };
    const a = elector('four', 'a', { api: flaky, log: { info: () => {}, warn: () => {} } });
    a.e.start();
    await until('a leads', () => a.e.isLeader());
    const b = elector('four', 'b');
    b.e.start();
    await until('b stands by behind a', () => b.e.current.phase === 'standby' && b.e.current.leader === 'a');

    const brokenAt = Date.now();
    broken = true;
    const lostAt = await until('a gives up', () => a.t.stopped[0]?.at, 5000);
    expect(a.e.current.phase).toBe('lost');
    expect(a.t.stopped[0]?.reason).toMatch(/could not renew Lease .* within 2000 ms/);
    expect(lostAt - brokenAt).toBeLessThanOrEqual(timings.renewDeadlineMs + 50);
    const takenAt = await until('b leads', () => b.t.started[0]);
    expect(takenAt).toBeGreaterThan(lostAt);
    // A lost elector is done: it never leads again, even once the API answers.
    broken = false;
    await new Promise((r) => setTimeout(r, timings.retryPeriodMs * 3));
    expect(a.t.started).toHaveLength(1);
    expect(a.e.isLeader()).toBe(false);
  });

  it('of candidates racing for a new Lease, exactly one creates it', async () => {
    const racers = ['r1', 'r2', 'r3', 'r4'].map((id) => elector('five', id));
    for (const r of racers) r.e.start();
    await until('a leader', () => racers.some((r) => r.e.isLeader()));
    await new Promise((r) => setTimeout(r, timings.retryPeriodMs * 3));
    expect(racers.flatMap((r) => r.t.started)).toHaveLength(1);
    const lease = await read('five');
    expect(racers.find((r) => r.e.isLeader())?.e.identity).toBe(lease.spec?.holderIdentity);
    expect(lease.spec?.leaseTransitions).toBe(0);
  });
});
