// The Event guarantee across a leadership change (README, Operations): a replica that
// lost its Lease sends none of the Events it still held; its successor reports on the
// same objects from then on.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Replica } from '../../src/cli/run.js';
import { EventRecorder } from '../../src/kube/events.js';
import type { LeaseApi } from '../../src/kube/leader-election.js';
import { E2E, eventually } from './harness.js';

const quiet = { info: () => {}, warn: () => {}, debug: () => {}, error: () => {} };
let e: E2E;
let apiDown = false;
const down = (): Promise<never> => Promise.reject(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
const cleanup: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  e = await E2E.start({ noStart: true });
});

afterAll(async () => {
  for (const c of cleanup.reverse()) await c().catch(() => {});
  await e?.stop();
});

it('a replica that lost its Lease writes none of the Events it still held, and says how many it dropped', async () => {
  const flaky: LeaseApi = {
    readNamespacedLease: (p) => (apiDown ? down() : e.clients.coordination.readNamespacedLease(p)),
    createNamespacedLease: (p) => (apiDown ? down() : e.clients.coordination.createNamespacedLease(p)),
    replaceNamespacedLease: (p) => (apiDown ? down() : e.clients.coordination.replaceNamespacedLease(p)),
  };
  // Events wait behind status writes (holdWhile) when the Lease is lost.
  let held = true;
  const warnings: string[] = [];
  const recorder = new EventRecorder({
    core: e.clients.writes.core,
    holdWhile: () => held,
    maxHoldMs: 60_000,
    logger: { warn: (m) => warnings.push(m) },
  });
  cleanup.push(() => recorder.close({ timeoutMs: 100 }));
  const r = new Replica({
    controller: e.newController({ recorder }),
    log: quiet,
    election: { api: flaky, namespace: e.ns, name: 'lbc-leader', identity: 'a', leaseDurationMs: 3000, renewDeadlineMs: 2000, retryPeriodMs: 300, log: quiet },
  });
  cleanup.push(() => r.shutdown({ drainTimeoutMs: 0, release: false }));
  const stop = new AbortController();
  cleanup.push(async () => stop.abort());
  await r.start(stop.signal);
  await eventually('a leads', () => r.elector?.isLeader());
  for (const name of ['s1', 's2', 's3']) {
    recorder.event({ kind: 'Service', apiVersion: 'v1', namespace: e.ns, name }, 'Normal', 'EnsuringLoadBalancer', 'Ensuring load balancer');
  }

  apiDown = true;
  await eventually('a lost the Lease', () => r.elector?.current.phase === 'lost', 5000);
  // The status writes are done: whatever the recorder still holds would go now.
  held = false;
  expect(await r.lost).toMatch(/could not renew Lease/);
  await new Promise((res) => setTimeout(res, 300));
  const events = await e.core.listNamespacedEvent({ namespace: e.ns });
  expect(events.items.filter((ev) => ev.reason === 'EnsuringLoadBalancer')).toEqual([]);
  expect(recorder.stats()).toMatchObject({ recorded: 3, created: 0, dropped: 3 });
  expect(warnings.some((w) => /^events: 3 Events not written: lost the Lease \(could not renew Lease/.test(w))).toBe(true);
});
