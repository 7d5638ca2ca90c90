// An API-server outage as the replica sees it, without leader election: every watch
// fails and keeps failing, then comes back. Each informer says so once when its watch
// fails and once when it is back (with how long it was down), not at every retry; and
// /readyz stays 200 throughout, as controller-runtime's default readiness check
// (healthz.Ping, which kubebuilder's scaffold adds with AddReadyzCheck) does: the caches
// stay synced and keep serving, and a probe failing on every replica at once would only
// block rollouts. With leader election, an outage longer than the renew deadline loses
// the Lease, and /readyz turns 503 (test/e2e/leader-election.test.ts).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Replica } from '../../src/cli/run.js';
import type { Controller } from '../../src/controller/controller.js';
import type { WatchFn, WatchHandle } from '../../src/kube/informer.js';
import { parseBindAddress, startObservabilityServer, type ObservabilityServer } from '../../src/observability/server.js';
import { Registry } from 'prom-client';
import { E2E, eventually } from './harness.js';

let e: E2E;
let c: Controller;
let server: ObservabilityServer;
let down = false;
const open = new Set<() => void>();
const lines: string[] = [];
const quiet = { info: () => {}, warn: () => {}, debug: () => {}, error: () => {} };

beforeAll(async () => {
  e = await E2E.start({ noStart: true });
  const real = e.clients.api!.watch;
  // Down: open watches break, new ones are refused, as with the API server gone.
  const watch: WatchFn = async (path, query, onEvent, onDone) => {
    if (down) throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6443'), { code: 'ECONNREFUSED' });
    let cut = (): void => {};
    const h: WatchHandle = await real(path, query, onEvent, (err) => {
      open.delete(cut);
      onDone(err);
    });
    cut = () => {
      open.delete(cut);
      h.abort();
      onDone(new Error('connection reset'));
    };
    open.add(cut);
    return h;
  };
  c = e.newController({
    watch,
    informer: { backoff: { baseMs: 20, maxMs: 100 } },
    log: { info: (m) => lines.push(`info ${m}`), warn: (m) => lines.push(`warn ${m}`), debug: (m) => lines.push(`debug ${m}`) },
  });
  e.controller = c;
  const replica = new Replica({ controller: c, log: quiet });
  await replica.start(new AbortController().signal);
  server = await startObservabilityServer({
    metrics: parseBindAddress('0'),
    health: parseBindAddress('127.0.0.1:0'),
    registry: new Registry(),
    readiness: [{ name: 'replica', check: () => replica.ready() }],
  });
});

afterAll(async () => {
  await server?.close();
  await e?.stop();
});

const readyz = async (): Promise<number> => (await fetch(`${server.healthUrl}/readyz`)).status;

it('logs each watch outage once when it starts and once when it is back; /readyz stays 200 throughout', async () => {
  expect(await readyz()).toBe(200);
  await eventually('watches open', () => open.size >= 6);
  down = true;
  for (const cut of [...open]) cut();
  await eventually('services retried a few times', () => c.services.stats().errors >= 4, 5000);
  expect(await readyz()).toBe(200);
  const warned = lines.filter((l) => l.startsWith('warn informer services:'));
  expect(warned).toHaveLength(1);
  expect(warned[0]).toMatch(/^warn informer services: watch failed, reconnecting from \d+; retrying with backoff/);
  down = false;
  await eventually('services back', () => lines.some((l) => l.startsWith('info informer services: watch re-established after ')), 5000);
  expect(lines.filter((l) => l.startsWith('warn informer services:'))).toHaveLength(1);
  expect(lines.find((l) => l.startsWith('info informer services:'))).toMatch(/^info informer services: watch re-established after \d+\.\d s down \(\d+ failed attempts\)$/);
  expect(await readyz()).toBe(200);
  // The outage is over: a Service created now is reconciled.
  await e.node('n1', '10.0.0.1');
  await e.lbService('after');
  await eventually('after gets an address', async () => (await e.getService('after'))?.status?.loadBalancer?.ingress?.[0]?.ip, 10_000);
});
