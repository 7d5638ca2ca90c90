// User values echoed back are bounded: a 100 KB annotation value must not become a
// 100 KB Warning, condition message or log line (issue #22). The bounds are the API's:
// an Event note's 1024 bytes, a metav1.Condition message's 32768.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { E2E, eventually } from './harness.js';

let e: E2E;
beforeAll(async () => {
  e = await E2E.start();
});
afterAll(async () => {
  await e?.stop();
});

it('a 100 KB annotation value is cut, with a marker, in the Warning and in the Ready condition', async () => {
  const value = 'x'.repeat(100_000);
  await e.lbService('huge', { 'lbc.dev/health-check-protocol': value });
  const cond = await eventually('the Ready condition says why', async () =>
    (await e.getService('huge'))?.status?.conditions?.find((c) => c.type === 'LoadBalancerReady' && c.reason === 'InvalidConfiguration'),
  );
  expect(Buffer.byteLength(cond.message)).toBeLessThanOrEqual(32_768);
  expect(cond.message).toMatch(/lbc\.dev\/health-check-protocol.*"x+… \(truncated, \d+ bytes\)$/);
  const warning = await eventually('the Warning', async () =>
    (await e.core.listNamespacedEvent({ namespace: e.ns })).items.find((ev) => ev.involvedObject.name === 'huge' && ev.type === 'Warning'),
  );
  expect(Buffer.byteLength(warning.message ?? '')).toBeLessThanOrEqual(1024);
  expect(warning.message).toMatch(/^Error syncing load balancer: .*lbc\.dev\/health-check-protocol.*x+… \(truncated, \d+ bytes\)$/);
});
