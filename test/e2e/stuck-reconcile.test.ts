// A reconcile stuck in flight (issue #22): a call that never answers must not hold its
// worker, its key or the shutdown. Past the reconcile deadline the reconcile is aborted,
// the worker goes on (at once when the call hears the abort, after a grace when it does
// not), the key is retried with backoff; the watch shows in a warn line naming the key,
// in lbc_workqueue_longest_running_seconds (client-go's
// workqueue_longest_running_processor_seconds) and in lbc_reconcile_stuck_total.
import { Registry } from 'prom-client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Controller } from '../../src/controller/controller.js';
import type { WriteClients } from '../../src/kube/client.js';
import { ControllerMetrics } from '../../src/observability/metrics.js';
import { E2E, eventually } from './harness.js';

let e: E2E;
let c: Controller;
// Finalizer writes that will never be answered, and that ignore any abort.
const hangFinalizer = new Set<string>();
const registry = new Registry();
const metric = async (name: string): Promise<number> => (await registry.getSingleMetric(name)!.get()).values[0]?.value ?? NaN;
const address = async (name: string): Promise<string | undefined> => (await e.getService(name))?.status?.loadBalancer?.ingress?.[0]?.ip;

beforeAll(async () => {
  e = await E2E.start({
    noStart: true,
    wrapWrites: (w: WriteClients): WriteClients => ({
      ...w,
      core: {
        ...w.core,
        patchNamespacedService: ((p: { name: string }, o?: unknown) => {
          if (hangFinalizer.delete(p.name)) return new Promise(() => {});
          return (w.core.patchNamespacedService as (p: unknown, o?: unknown) => Promise<unknown>)(p, o);
        }) as WriteClients['core']['patchNamespacedService'],
      },
    }),
  });
  const metrics = new ControllerMetrics(registry);
  // One worker: a Service behind a stuck one is reconciled only if that worker is let go.
  c = e.newController({
    workers: 1,
    reconcileTimeoutMs: 3000,
    slowReconcileMs: 1000,
    providerTimeoutMs: 120_000,
    retry: { baseMs: 50, maxMs: 200 },
    observer: metrics,
  });
  metrics.bind(c);
  e.controller = c;
  await c.start();
  await e.node('n1', '10.0.0.1');
});

afterAll(async () => {
  await e?.stop();
});

it('lets the worker of a call deaf to its abort go at the deadline, retries the key, and says so', async () => {
  hangFinalizer.add('deaf');
  await e.lbService('deaf');
  await eventually('deaf in flight', () => c.stats().longestRunningSeconds > 1.2, 5000);
  expect(await metric('lbc_workqueue_longest_running_seconds')).toBeGreaterThan(1.2);
  await e.lbService('behind');
  await eventually('behind gets an address (the worker was let go)', () => address('behind'), 15_000);
  await eventually('deaf gets its address on the retry', () => address('deaf'), 10_000);
  expect(c.stats().stuck).toBe(1);
  expect(await metric('lbc_reconcile_stuck_total')).toBe(1);
  const key = `service/${e.ns}/deaf`;
  expect(e.warnings.filter((w) => w.startsWith(`${key}: reconcile in flight for `))).toHaveLength(1);
  expect(e.warnings).toContain(`${key}: reconcile passed its deadline of 3 s: aborting it; the key is retried with backoff`);
  expect(e.warnings).toContain(`${key}: reconcile did not return within 300 ms of its abort; its worker goes on without it`);
  await eventually('nothing in flight', () => c.stats().longestRunningSeconds === 0, 5000);
  expect(await metric('lbc_workqueue_longest_running_seconds')).toBe(0);
});

it('aborts a provider call that never answers at the reconcile deadline, well before the provider timeout', async () => {
  const hung = e.provider().hangNext(1);
  const t0 = performance.now();
  await e.lbService('hung');
  await eventually('hung gets its address on the retry', () => address('hung'), 15_000);
  expect(hung.remaining).toBe(0);
  expect(performance.now() - t0).toBeLessThan(15_000);
  expect(c.stats().stuck).toBe(2);
  expect(e.warnings).toContain(`service/${e.ns}/hung: reconcile passed its deadline of 3 s: aborting it; the key is retried with backoff`);
});

it('a reconcile deaf to its abort does not hold the shutdown', async () => {
  hangFinalizer.add('late');
  await e.lbService('late');
  await eventually('late in flight', () => c.stats().longestRunningSeconds > 0.05, 5000);
  const t0 = performance.now();
  await c.stop({ drainTimeoutMs: 100 });
  expect(performance.now() - t0).toBeLessThan(3000);
});
