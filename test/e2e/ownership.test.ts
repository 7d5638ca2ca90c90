// Two lbc instances side by side on one cluster, as issue #22 found them fighting: X
// serves the class lbc.dev/x and its own IngressClass, M is the default-class
// controller. Both use lbc's one finalizer name, so before the fix M took X's objects
// for ones that had stopped being its own, cleared their status and removed the
// finalizer, and X put them back, thousands of times a minute. Each must leave the
// other's objects alone: over a window of resyncs and user edits, no write of either on
// the other's objects, and (nothing having changed) no write at all. Then a controller
// that stops (SIGTERM past the drain, or a lost Lease) with an ensure in flight says
// nothing about it on the Service: the next leader carries on.
import type { V1Ingress } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../../src/config/config.js';
import { Controller } from '../../src/controller/controller.js';
import { READY_CONDITION } from '../../src/controller/reconcile.js';
import { leanWriteClients, reuseConnections, type WriteClients } from '../../src/kube/client.js';
import type { MemoryProvider } from '../../src/providers/memory/index.js';
import { buildProviders, type ProviderSet } from '../../src/providers/registry.js';
import { E2E, eventually, hasOurFinalizer } from './harness.js';

interface Write {
  readonly by: 'M' | 'X';
  /** The API call. */
  readonly call: string;
  /** The object written, or the object an Event is about. */
  readonly target: string;
}

const writes: Write[] = [];

/** Records every write an instance makes, by the object it touches. */
function recording(by: Write['by'], w: WriteClients): WriteClients {
  const wrap = <T extends object>(api: T): T =>
    new Proxy(api, {
      get(target, prop, receiver) {
        const fn = Reflect.get(target, prop, receiver) as unknown;
        if (typeof fn !== 'function') return fn;
        return (p: { name?: string; body?: { involvedObject?: { name?: string } } }, ...rest: unknown[]) => {
          const about = p.body?.involvedObject?.name ?? (String(prop).includes('Event') ? (p.name ?? '').split('.')[0] : p.name);
          writes.push({ by, call: String(prop), target: about ?? '' });
          return (fn as (...a: unknown[]) => unknown).call(target, p, ...rest);
        };
      },
    });
  return { core: wrap(w.core), networking: wrap(w.networking) };
}

const quiet = { info: () => {}, warn: () => {}, debug: () => {} };
const RESYNC_MS = 300;

let e: E2E;
let x: Controller;
let xProviders: ProviderSet;
let xClass: string;
let mClass: string;

beforeAll(async () => {
  e = await E2E.start({ controller: { resyncPeriodMs: RESYNC_MS }, wrapWrites: (w) => recording('M', w) });
  const xConfig = validateConfig({
    clusterName: e.ns,
    providers: [{ name: 'x', type: 'memory', class: 'lbc.dev/x', options: { addressPool: '203.0.113.0/24' } }],
    ingress: { controllerName: `lbc.dev/${e.ns}-x` },
    concurrency: 4,
    nodeReadyHysteresis: 0,
  });
  xProviders = await buildProviders(xConfig);
  const lean = await leanWriteClients(reuseConnections(e.cluster.kc));
  if (!lean) throw new Error('no lean write clients');
  x = new Controller({
    clients: e.clients,
    writes: recording('X', lean),
    config: xConfig,
    providers: xProviders,
    namespace: e.ns,
    nodeLabelSelector: e.nodeLabel,
    log: quiet,
    nodeDebounceMs: 100,
    nodeMaxDelayMs: 1000,
    gcIntervalMs: 0,
    resyncPeriodMs: RESYNC_MS,
  });
  await x.start();
  mClass = await e.ingressClass('m', 'mem');
  xClass = `${e.ns}-x`;
  await e.networking.createIngressClass({
    body: { metadata: { name: xClass }, spec: { controller: xConfig.ingress.controllerName, parameters: { apiGroup: 'lbc.dev', kind: 'Provider', name: 'x' } } },
  });
  await e.node('n1', '10.9.0.1');
  await e.service('web', { type: 'NodePort', selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }] });
  await eventually('the node eligible to both', () => e.controller.stats().eligibleNodes === 1 && x.stats().eligibleNodes === 1);
});

afterAll(async () => {
  await x?.stop({ drainTimeoutMs: 1000 }).catch(() => {});
  await xProviders?.close();
  await e?.networking.deleteIngressClass({ name: xClass }).catch(() => {});
  await e?.stop();
});

const ingress = (name: string, className: string): Promise<V1Ingress> =>
  e.networking.createNamespacedIngress({
    namespace: e.ns,
    body: { metadata: { name }, spec: { ingressClassName: className, defaultBackend: { service: { name: 'web', port: { number: 80 } } } } },
  });
const svcIp = async (name: string) => (await e.getService(name))?.status?.loadBalancer?.ingress?.[0]?.ip;
const ingIp = async (name: string) => (await e.getIngress(name))?.status?.loadBalancer?.ingress?.[0]?.ip;
const describeWrites = (list: readonly Write[]) => list.map((w) => `${w.by} ${w.call} ${w.target}`);

describe('two lbc instances with different classes on one cluster (issue #22)', () => {
  it('each serves its own Services and Ingresses', async () => {
    await e.lbService('m-svc');
    await e.lbService('x-svc', undefined, { loadBalancerClass: 'lbc.dev/x' });
    await ingress('m-ing', mClass);
    await ingress('x-ing', xClass);
    expect(await eventually('m-svc served by M', () => svcIp('m-svc'))).toMatch(/^198\.51\.100\./);
    expect(await eventually('x-svc served by X', () => svcIp('x-svc'))).toMatch(/^203\.0\.113\./);
    expect(await eventually('m-ing served by M', () => ingIp('m-ing'))).toMatch(/^198\.51\.100\./);
    expect(await eventually('x-ing served by X', () => ingIp('x-ing'))).toMatch(/^203\.0\.113\./);
    for (const s of ['m-svc', 'x-svc']) expect(hasOurFinalizer(await e.getService(s))).toBe(true);
    for (const i of ['m-ing', 'x-ing']) expect(hasOurFinalizer(await e.getIngress(i))).toBe(true);
    await e.settle();
    await x.idle();
    await x.recorder.flush();
    // Neither wrote anything on the other's objects on the way.
    const crossed = writes.filter((w) => (w.by === 'M' && w.target.startsWith('x-')) || (w.by === 'X' && w.target.startsWith('m-')));
    expect(describeWrites(crossed)).toEqual([]);
  });

  it('over a window of resyncs and user edits, neither touches the other’s objects, and nothing is written at all', async () => {
    writes.length = 0;
    const windowMs = 3000;
    const end = Date.now() + windowMs;
    let edits = 0;
    while (Date.now() < end) {
      // A label is no one's load balancer business, but each edit wakes both instances on every object.
      for (const s of ['m-svc', 'x-svc']) await e.patchService(s, { metadata: { labels: { edit: String(edits) } } });
      edits++;
      await new Promise((r) => setTimeout(r, 150));
    }
    await e.settle();
    await x.idle();
    await x.recorder.flush();
    expect(edits).toBeGreaterThan(5);
    // Both resynced every object many times over the window.
    expect(e.controller.stats().reconciles).toBeGreaterThan(windowMs / RESYNC_MS);
    expect(x.stats().reconciles).toBeGreaterThan(windowMs / RESYNC_MS);
    expect(describeWrites(writes)).toEqual([]);
    expect(await svcIp('x-svc')).toMatch(/^203\.0\.113\./);
    expect(await svcIp('m-svc')).toMatch(/^198\.51\.100\./);
    expect(await ingIp('x-ing')).toMatch(/^203\.0\.113\./);
    // M never asked its provider about X's objects.
    expect(e.provider().calls.filter((c) => 'ref' in c && c.ref.name.startsWith('x-'))).toEqual([]);
  });

  it("deleting X's objects is X's business alone: X drops its finalizers, M writes nothing and says nothing", async () => {
    writes.length = 0;
    await e.core.deleteNamespacedService({ namespace: e.ns, name: 'x-svc' });
    await e.networking.deleteNamespacedIngress({ namespace: e.ns, name: 'x-ing' });
    await eventually('x-svc gone', async () => (await e.getService('x-svc')) === undefined);
    await eventually('x-ing gone', async () => (await e.getIngress('x-ing')) === undefined);
    await e.settle();
    await x.idle();
    await x.recorder.flush();
    expect(describeWrites(writes.filter((w) => w.by === 'M'))).toEqual([]);
    const byX = writes.filter((w) => w.by === 'X');
    // Bounded: one finalizer removal per object, and its Deleting/Deleted Events.
    expect(byX.filter((w) => w.call.endsWith('Service') || w.call.endsWith('Ingress')).map((w) => `${w.call} ${w.target}`).sort()).toEqual([
      'patchNamespacedIngress x-ing',
      'patchNamespacedService x-svc',
    ]);
    expect(byX.length).toBeLessThanOrEqual(6);
    expect((xProviders.byName('x') as MemoryProvider).loadBalancers()).toEqual([]);
  });
});

describe('a controller that stops with an ensure in flight', () => {
  it('says nothing about it on the Service: no Warning, no condition; the key is left for the next leader', async () => {
    const mem = e.provider();
    mem.hangNext(1, { methods: ['ensure'] });
    await e.lbService('stuck');
    await eventually('the ensure in flight', () => mem.hungCount > 0);
    // drainTimeoutMs 0: what a leader that lost its Lease does, and SIGTERM once the drain is over.
    await e.controller.stop({ drainTimeoutMs: 0 });
    const events = await e.events('stuck');
    expect(events.filter((ev) => ev.type === 'Warning').map((ev) => ev.message)).toEqual([]);
    const svc = await e.getService('stuck');
    expect(svc?.status?.conditions?.find((c) => c.type === READY_CONDITION)).toBeUndefined();
    expect(svc?.status?.loadBalancer?.ingress ?? []).toEqual([]);
    // A new leader takes the key up and serves it.
    mem.releaseHung();
    const next = e.newController();
    try {
      await next.start();
      expect(await eventually('stuck served by the next leader', () => svcIp('stuck'))).toMatch(/^198\.51\.100\./);
    } finally {
      await next.stop({ drainTimeoutMs: 1000 });
    }
  });
});
