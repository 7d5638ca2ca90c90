// Bad input and faults: bad annotations stop at the model with a Warning and a
// condition; a provider that throws, throttles, hangs or refuses is retried with
// backoff and said so, never in a tight loop; an object deleted while its reconcile
// is in flight is not resurrected; a conflicting write is retried on fresh state;
// garbage collection removes what nothing wants.
import type { V1Service } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GarbageCollector } from '../../src/controller/garbage-collector.js';
import { gatewayControllers } from '../../src/controller/gateway/controller-names.js';
import { READY_CONDITION } from '../../src/controller/reconcile.js';
import type { WriteClients } from '../../src/kube/client.js';
import type { LbRef } from '../../src/model/ref.js';
import { E2E, eventually, hasOurFinalizer } from './harness.js';

let e: E2E;
// Set by a test to have the next finalizer patch of that Service race an outside write.
let contest: { name: string; patched: boolean } | undefined;
let conflicts = 0;

function interfering(w: WriteClients): WriteClients {
  const core = Object.create(w.core) as WriteClients['core'];
  core.patchNamespacedService = (async (p: { name: string; namespace: string; body: unknown }, o?: unknown) => {
    if (contest && !contest.patched && p.name === contest.name && Array.isArray(p.body)) {
      contest.patched = true;
      // Someone else writes first: the finalizer patch's resourceVersion test must fail.
      await e.patchService(p.name, { metadata: { labels: { 'written-by': 'someone-else' } } });
    }
    try {
      return await (w.core.patchNamespacedService as (a: unknown, b: unknown) => Promise<unknown>)(p, o);
    } catch (err) {
      const code = (err as { code?: number }).code;
      if (code === 409 || code === 422) conflicts++;
      throw err;
    }
  }) as WriteClients['core']['patchNamespacedService'];
  return { core, networking: w.networking };
}

beforeAll(async () => {
  e = await E2E.start({
    controller: { providerTimeoutMs: 400, retry: { baseMs: 100, maxMs: 2000 }, slowRetry: { baseMs: 2500, maxMs: 5000 } },
    wrapWrites: interfering,
  });
});

afterAll(async () => {
  await e?.stop();
});

const refOf = (name: string): LbRef => ({ kind: 'Service', namespace: e.ns, name, uid: '' });
const ensures = (name: string) => e.provider().callsOf('ensure').filter((c) => c.ref.name === name && c.ref.namespace === e.ns);
const address = async (name: string) => (await e.getService(name))?.status?.loadBalancer?.ingress?.[0]?.ip;
const warnings = async (name: string) => {
  await e.controller.recorder.flush();
  return (await e.events(name)).filter((x) => x.type === 'Warning');
};
const ready = (svc: V1Service | undefined) => svc?.status?.conditions?.find((c) => c.type === READY_CONDITION);

describe('bad annotations', () => {
  const cases: [string, Record<string, string>, string][] = [
    ['not-a-number', { 'lbc.dev/health-check-healthy-threshold': 'abc' }, 'lbc.dev/health-check-healthy-threshold'],
    ['out-of-range', { 'lbc.dev/health-check-unhealthy-threshold': '42' }, 'lbc.dev/health-check-unhealthy-threshold'],
    ['unknown-enum', { 'lbc.dev/target-type': 'pods' }, 'lbc.dev/target-type'],
    ['bad-cidr', { 'lbc.dev/load-balancer-source-ranges': '10.0.0.0/33' }, 'lbc.dev/load-balancer-source-ranges'],
    ['bad-duration', { 'lbc.dev/health-check-interval': 'ten seconds' }, 'lbc.dev/health-check-interval'],
    ['bad-list', { 'lbc.dev/tags': 'team' }, 'lbc.dev/tags'],
    ['bad-provider-option', { 'memory.lbc.dev/tier': 'gold' }, 'memory.lbc.dev/tier'],
  ];

  it('each give a Warning Event and a condition naming the object and the annotation, and no provider call', async () => {
    for (const [name, annotations] of cases) await e.lbService(name, annotations);
    await e.lbService('sentinel');
    await eventually('the sentinel served: the controller keeps running', () => address('sentinel'));
    for (const [name, , annotation] of cases) {
      const cond = await eventually(`${name}'s condition`, async () => ready(await e.getService(name)));
      expect(cond).toMatchObject({ status: 'False', reason: 'InvalidConfiguration' });
      expect(cond.message).toContain(`Service ${e.ns}/${name}: annotation ${annotation}: `);
      const w = await eventually(`${name}'s Warning`, async () => (await warnings(name))[0]);
      expect(w.reason).toBe('SyncLoadBalancerFailed');
      expect(w.message).toContain(`annotation ${annotation}`);
      expect(ensures(name)).toEqual([]);
      expect(hasOurFinalizer(await e.getService(name))).toBe(false);
    }
  });

  it('are not repeated by a resync, and a fix brings the load balancer', async () => {
    await e.settle();
    e.controller.enqueueAll();
    await e.settle();
    expect(await warnings('unknown-enum')).toHaveLength(1);
    expect((await warnings('unknown-enum'))[0]?.count ?? 1).toBe(1);
    await e.patchService('unknown-enum', { metadata: { annotations: { 'lbc.dev/target-type': 'ip' } } });
    await eventually('an address after the fix', () => address('unknown-enum'));
    expect(ready(await e.getService('unknown-enum'))).toMatchObject({ status: 'True' });
  });
});

describe('a failing provider', () => {
  it('that throws is retried with backoff, with a Warning, and never in a tight loop', async () => {
    const fault = e.provider().inject({ ref: refOf('flaky'), times: Infinity, effect: { type: 'fail', kind: 'transient', message: 'cloud on fire' } });
    try {
      await e.lbService('flaky');
      await eventually('the first attempt', () => ensures('flaky').length >= 1);
      await new Promise((r) => setTimeout(r, 2000));
      // 100 ms doubling: about 5 attempts in 2 s; a tight loop would make thousands.
      const attempts = ensures('flaky').length;
      expect(attempts).toBeGreaterThanOrEqual(3);
      expect(attempts).toBeLessThanOrEqual(8);
      const w = await warnings('flaky');
      expect(w[0]?.message).toBe('Error syncing load balancer: failed to ensure load balancer: cloud on fire');
    } finally {
      fault.remove();
    }
    await eventually('an address once the cloud recovers', () => address('flaky'));
  });

  it('that throttles is left alone for as long as it asks', async () => {
    e.provider().throttleNext(1, 1200, { ref: refOf('throttled') });
    await e.lbService('throttled');
    await eventually('the throttled attempt', () => ensures('throttled').length === 1);
    const t0 = Date.now();
    await eventually('the retry', () => ensures('throttled').length === 2);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1000);
    await eventually('an address', () => address('throttled'));
    expect((await warnings('throttled'))[0]?.message).toContain('rate exceeded');
  });

  it('that hangs is cut off at the provider timeout, said so, and retried', async () => {
    e.provider().hangNext(1, { ref: refOf('hung') });
    await e.lbService('hung');
    await eventually('an address after the timeout', () => address('hung'));
    expect(ensures('hung').length).toBe(2);
    expect((await warnings('hung'))[0]?.message).toContain('no answer within 400 ms');
    expect(e.provider().hungCount).toBe(0);
  });

  it('that refuses the spec sets the condition and retries only slowly', async () => {
    const fault = e.provider().failFor(refOf('refused'), 'invalid', ['ensure']);
    try {
      await e.lbService('refused');
      const cond = await eventually('the condition', async () => {
        const c = ready(await e.getService('refused'));
        return c?.reason === 'ProviderRejected' ? c : undefined;
      });
      expect(cond.status).toBe('False');
      await new Promise((r) => setTimeout(r, 1500));
      expect(ensures('refused').length).toBe(1);
    } finally {
      fault.remove();
    }
    await eventually('an address at the slow retry', () => address('refused'), 8000);
  });
});

describe('a Service deleted while its reconcile is in flight', () => {
  it('is not resurrected: the call is abandoned, nothing is left in the cloud, the finalizer goes', async () => {
    e.provider().hangNext(1, { ref: refOf('doomed') });
    await e.lbService('doomed');
    await eventually('the hung call', () => e.provider().hungCount === 1);
    await e.core.deleteNamespacedService({ namespace: e.ns, name: 'doomed' });
    await eventually('the Service gone', async () => (await e.getService('doomed')) === undefined);
    expect(e.provider().hungCount).toBe(0);
    await e.settle();
    expect(e.provider().loadBalancers().filter((lb) => lb.ref.name === 'doomed')).toEqual([]);
    expect(ensures('doomed')).toHaveLength(1);
  });

  it('whose finalizer someone else removes still leaves nothing in the cloud', async () => {
    e.provider().hangNext(1, { ref: refOf('stripped'), methods: ['ensure'] });
    await e.lbService('stripped');
    await eventually('the hung call', () => e.provider().hungCount === 1);
    await e.patchService('stripped', { metadata: { finalizers: null } });
    await e.core.deleteNamespacedService({ namespace: e.ns, name: 'stripped' });
    await eventually('the Service gone', async () => (await e.getService('stripped')) === undefined);
    // The cloud answers at last, after the object is gone.
    e.provider().releaseHung();
    await e.settle();
    expect(e.provider().loadBalancers().filter((lb) => lb.ref.name === 'stripped')).toEqual([]);
  });
});

describe('a conflicting write', () => {
  it('is retried on the fresh object, keeping the other writer\'s change', async () => {
    contest = { name: 'contested', patched: false };
    const before = conflicts;
    await e.lbService('contested');
    await eventually('an address', () => address('contested'));
    const svc = await e.getService('contested');
    expect(contest.patched).toBe(true);
    expect(conflicts).toBeGreaterThan(before);
    expect(hasOurFinalizer(svc)).toBe(true);
    expect(svc?.metadata?.labels?.['written-by']).toBe('someone-else');
  });
});

describe('garbage collection', () => {
  it('deletes what no live object wants, and only logs in dry run', async () => {
    const ghost: LbRef = { kind: 'Service', namespace: e.ns, name: 'ghost', uid: 'uid-of-a-service-deleted-while-lbc-was-down' };
    e.provider().seedForeign(ghost, e.ns);
    const logged: string[] = [];
    const dry = new GarbageCollector({
      providers: e.providers,
      lookups: { config: e.config, services: e.controller.services.cache, ingresses: e.controller.ingresses.cache, ingressClasses: e.controller.ingressClasses.cache, gatewayControllers: gatewayControllers(e.config, e.providers.all) },
      dryRun: true,
      log: { info: (m) => logged.push(m), warn: (m) => logged.push(m) },
      providerTimeoutMs: 1000,
    });
    const dryRun = await dry.sweep();
    expect(dryRun.orphans.map((o) => o.ref)).toEqual([ghost]);
    expect(dryRun.deleted).toBe(0);
    expect(logged.join('\n')).toContain('would delete');
    expect(e.provider().get(ghost)).toBeDefined();

    const live = e.provider().loadBalancers().length;
    const real = await e.controller.collectGarbage();
    expect(real.orphans.map((o) => o.ref)).toEqual([ghost]);
    expect(e.provider().get(ghost)).toBeUndefined();
    expect(e.provider().loadBalancers().length).toBe(live - 1);
  });

  it('watching one namespace (--watch-namespace), leaves alone the load balancers of objects it cannot see', async () => {
    // Same cluster name, another namespace: this controller's caches hold nothing of it.
    const elsewhere: LbRef = { kind: 'Service', namespace: `${e.ns}-elsewhere`, name: 'web', uid: 'uid-of-a-service-lbc-does-not-watch' };
    const group: LbRef = { kind: 'Ingress', namespace: '', name: 'shared-group', uid: 'uid-of-a-group-spanning-namespaces' };
    e.provider().seedForeign(elsewhere, e.ns);
    e.provider().seedForeign(group, e.ns);
    const swept = await e.controller.collectGarbage();
    expect(swept.orphans).toEqual([]);
    expect(e.provider().get(elsewhere)).toBeDefined();
    expect(e.provider().get(group)).toBeDefined();
  });
});
