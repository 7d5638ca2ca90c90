// The Service reconciler against fakes: what it writes, in which order, what it asks of
// the provider, and what it tells the queue.
import type { V1EndpointSlice, V1Ingress, V1Node, V1Service, V1ServiceSpec } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../src/config/config.js';
import { OwnWrites } from '../../src/controller/own-writes.js';
import { ControllerStoppingError, FINALIZER, Flight, ObjectGoneError, READY_CONDITION } from '../../src/controller/reconcile.js';
import { ServiceReconciler } from '../../src/controller/service-reconciler.js';
import { UNREAD_ANNOTATIONS_CONDITION } from '../../src/controller/service-model.js';
import { Cache } from '../../src/kube/cache.js';
import { endpointSliceIndexers } from '../../src/kube/indexes.js';
import type { MemoryProvider } from '../../src/providers/memory/index.js';
import { buildProviders } from '../../src/providers/registry.js';
import { FakeEvents, FakeWriter, nextRv, quietLog } from './reconciler-fakes.js';

const KEY = 'default/web';

async function setup() {
  const config = validateConfig({
    clusterName: 'unit',
    providers: [
      { name: 'mem', type: 'memory' },
      { name: 'other', type: 'memory', options: { addressPool: '203.0.113.0/24' } },
    ],
    defaultClass: 'lbc.dev/mem',
    nodeReadyHysteresis: 0,
  });
  const providers = await buildProviders(config);
  const services = new Cache<V1Service>();
  const ingresses = new Cache<V1Ingress>();
  const slices = new Cache<V1EndpointSlice>(endpointSliceIndexers);
  const writer = new FakeWriter({ Service: services, Ingress: ingresses });
  const events = new FakeEvents();
  const world = { nodes: [] as V1Node[], nodesVersion: 0 };
  const r = new ServiceReconciler({
    config,
    providers,
    writer,
    events,
    log: quietLog,
    providerTimeoutMs: 500,
    services,
    endpointSlices: slices,
    nodes: () => world.nodes,
    nodesVersion: () => world.nodesVersion,
    fresh: new OwnWrites<V1Service>(),
  });
  const mem = providers.byName('mem') as MemoryProvider;
  const other = providers.byName('other') as MemoryProvider;
  const put = (spec: V1ServiceSpec, annotations?: Record<string, string>, extra: Partial<NonNullable<V1Service['metadata']>> = {}): V1Service => {
    const old = services.get(KEY);
    const svc: V1Service = {
      kind: 'Service',
      apiVersion: 'v1',
      metadata: { name: 'web', namespace: 'default', uid: 'uid-web', resourceVersion: nextRv(), ...(annotations ? { annotations } : {}), finalizers: old?.metadata?.finalizers, ...extra },
      spec,
      status: old?.status ?? {},
    };
    services.set(svc);
    return svc;
  };
  const reconcile = (flight = new Flight()) => r.reconcile(KEY, flight);
  return { config, providers, services, slices, writer, events, world, r, mem, other, put, reconcile };
}

/** Reconciles the LoadBalancer Service while its provider hangs, and aborts the call in flight with reason. */
async function ensureAbortedBy(t: Awaited<ReturnType<typeof setup>>, reason: Error) {
  t.put(LB);
  t.mem.hangNext(1);
  const flight = new Flight();
  const pending = t.reconcile(flight);
  await new Promise((r) => setTimeout(r, 20));
  flight.abort(reason);
  return pending;
}

/** A new process's reconciler over the same world (caches, API, providers): what a restart sees. */
function restarted(t: Awaited<ReturnType<typeof setup>>, config = t.config): ServiceReconciler {
  return new ServiceReconciler({
    config,
    providers: t.providers,
    writer: t.writer,
    events: t.events,
    log: quietLog,
    providerTimeoutMs: 500,
    services: t.services,
    endpointSlices: t.slices,
    nodes: () => [],
    nodesVersion: () => 0,
    fresh: new OwnWrites<V1Service>(),
  });
}

const LB: V1ServiceSpec = { type: 'LoadBalancer', ports: [{ name: 'http', port: 80, targetPort: 8080, nodePort: 30080, protocol: 'TCP' }] };
const node = (name: string, ip: string): V1Node => ({
  metadata: { name },
  status: { conditions: [{ type: 'Ready', status: 'True' }], addresses: [{ type: 'InternalIP', address: ip }] },
});

describe('ServiceReconciler', () => {
  it('adds the finalizer before the first provider call, then ensures, writes status once, and says so', async () => {
    const t = await setup();
    t.put(LB);
    t.writer.before = (what) => {
      if (what === 'finalizer') expect(t.mem.calls).toHaveLength(0);
    };
    expect(await t.reconcile()).toEqual({ kind: 'done' });
    expect(t.writer.writes).toEqual(['Service web: add finalizer', 'Service web: status']);
    expect(t.mem.callsOf('ensure')).toHaveLength(1);
    const svc = t.services.get(KEY);
    expect(svc?.metadata?.finalizers).toEqual([FINALIZER]);
    expect(svc?.status?.loadBalancer?.ingress?.[0]?.ip).toBe('192.0.2.1');
    expect(svc?.status?.conditions?.find((c) => c.type === READY_CONDITION)?.status).toBe('True');
    expect(t.events.reasons()).toEqual(['EnsuringLoadBalancer', 'EnsuredLoadBalancer']);
  });

  it('makes no provider call, API write or Event when run again with nothing changed', async () => {
    const t = await setup();
    t.put(LB);
    await t.reconcile();
    const writes = t.writer.writes.length;
    await t.reconcile();
    await t.reconcile();
    expect(t.mem.calls).toHaveLength(1);
    expect(t.writer.writes).toHaveLength(writes);
    expect(t.events.list).toHaveLength(2);
  });

  it('does not build the spec again when run after its own writes (their watch echo can queue the key before they answer, #21), but does after a change', async () => {
    const t = await setup();
    t.put(LB);
    await t.reconcile();
    let builds = 0;
    const nodes = t.world.nodes;
    Object.defineProperty(t.world, 'nodes', { get: () => (builds++, nodes) });
    expect(await t.reconcile()).toEqual({ kind: 'done' });
    expect(builds).toBe(0);
    t.put({ ...LB, ports: [{ name: 'http', port: 8080, targetPort: 8080, protocol: 'TCP', nodePort: 30081 }] });
    await t.reconcile();
    expect(builds).toBe(1);
    expect(t.mem.callsOf('ensure')).toHaveLength(2);
  });

  it('updates on a spec change with Ensuring and Ensured, and on a node change with one UpdatedLoadBalancer', async () => {
    const t = await setup();
    t.put(LB);
    await t.reconcile();
    t.put({ ...LB, ports: [...(LB.ports ?? []), { name: 'https', port: 443, targetPort: 8443, nodePort: 30443, protocol: 'TCP' }] });
    await t.reconcile();
    expect(t.mem.callsOf('ensure')).toHaveLength(2);
    expect(t.events.reasons()).toEqual(['EnsuringLoadBalancer', 'EnsuredLoadBalancer', 'EnsuringLoadBalancer', 'EnsuredLoadBalancer']);

    t.world.nodes = [node('n1', '10.0.0.1')];
    t.world.nodesVersion++;
    await t.reconcile();
    expect(t.mem.callsOf('ensure')).toHaveLength(3);
    expect(t.events.reasons().at(-1)).toBe('UpdatedLoadBalancer');
    expect(t.events.list.at(-1)?.message).toBe('Updated load balancer with new hosts');
    expect(t.r.keysWithInstanceTargets()).toEqual([KEY]);
  });

  it('stops bad input at the model: a Warning naming the annotation, a False condition, no provider call, no repeat', async () => {
    const t = await setup();
    t.put(LB, { 'lbc.dev/target-type': 'pods' });
    expect(await t.reconcile()).toEqual({ kind: 'done' });
    expect(t.mem.calls).toHaveLength(0);
    expect(t.events.list).toEqual([
      expect.objectContaining({ type: 'Warning', reason: 'SyncLoadBalancerFailed', message: expect.stringContaining('Service default/web: annotation lbc.dev/target-type:') }),
    ]);
    const cond = t.services.get(KEY)?.status?.conditions?.find((c) => c.type === READY_CONDITION);
    expect(cond).toMatchObject({ status: 'False', reason: 'InvalidConfiguration' });
    expect(t.services.get(KEY)?.metadata?.finalizers ?? []).toEqual([]);
    await t.reconcile();
    expect(t.events.list).toHaveLength(1);
    expect(t.writer.writes).toEqual(['Service web: status']);
  });

  it('maps provider failures to retry policies: backoff, throttle, slow', async () => {
    const t = await setup();
    t.put(LB);
    t.mem.failNext(1, 'transient');
    expect(await t.reconcile()).toEqual({ kind: 'backoff' });
    expect(t.events.list.at(-1)).toMatchObject({ type: 'Warning', reason: 'SyncLoadBalancerFailed' });
    t.mem.throttleNext(1, 1500);
    expect(await t.reconcile()).toEqual({ kind: 'throttled', afterMs: 1500 });
    t.mem.failNext(1, 'forbidden');
    expect(await t.reconcile()).toEqual({ kind: 'slow' });
    expect(t.services.get(KEY)?.status?.conditions?.find((c) => c.type === READY_CONDITION)).toMatchObject({ status: 'False', reason: 'ProviderRejected' });
    expect(await t.reconcile()).toEqual({ kind: 'done' });
    expect(t.services.get(KEY)?.status?.conditions?.find((c) => c.type === READY_CONDITION)).toMatchObject({ status: 'True' });
  });

  it('does not call a failing provider again before its retry is due, unless the object changed', async () => {
    const t = await setup();
    t.put(LB);
    t.mem.failNext(5, 'transient');
    await t.reconcile();
    t.r.deferRetry(KEY, Date.now() + 60_000);
    const out = await t.reconcile();
    expect(out.kind).toBe('wait');
    expect(t.mem.callsOf('ensure')).toHaveLength(1);
    t.put({ ...LB, ports: [{ name: 'http', port: 81, targetPort: 8080, nodePort: 30080, protocol: 'TCP' }] });
    await t.reconcile();
    expect(t.mem.callsOf('ensure')).toHaveLength(2);
  });

  it('cuts a hung call short at the provider timeout with a transient failure', async () => {
    const t = await setup();
    t.put(LB);
    t.mem.hangNext(1);
    expect(await t.reconcile()).toEqual({ kind: 'backoff' });
    expect(t.events.list.at(-1)?.message).toContain('no answer within 500 ms');
    expect(t.mem.hungCount).toBe(0);
  });

  it('abandons a call when its object is being deleted, quietly, and then cleans up', async () => {
    const t = await setup();
    expect(await ensureAbortedBy(t, new ObjectGoneError('deleted'))).toEqual({ kind: 'done' });
    expect(t.events.list.filter((x) => x.type === 'Warning')).toEqual([]);
    t.put(LB, undefined, { deletionTimestamp: new Date() });
    expect(await t.reconcile()).toEqual({ kind: 'done' });
    expect(t.mem.callsOf('delete')).toHaveLength(1);
    expect(t.services.get(KEY)).toBeUndefined();
    expect(t.mem.loadBalancers()).toEqual([]);
  });

  it('when no longer ours: deletes the LB, then clears status, then drops the finalizer', async () => {
    const t = await setup();
    t.put(LB);
    await t.reconcile();
    t.writer.writes.length = 0;
    t.put({ type: 'ClusterIP', ports: [{ port: 80, protocol: 'TCP' }] });
    t.writer.before = (what) => {
      if (what === 'status') expect(t.mem.loadBalancers()).toEqual([]);
    };
    expect(await t.reconcile()).toEqual({ kind: 'done' });
    expect(t.writer.writes).toEqual(['Service web: status', 'Service web: remove finalizer']);
    const svc = t.services.get(KEY);
    expect(svc?.status?.loadBalancer?.ingress ?? []).toEqual([]);
    expect(svc?.status?.conditions).toBeUndefined();
    expect(t.events.reasons().slice(-2)).toEqual(['DeletingLoadBalancer', 'DeletedLoadBalancer']);
  });

  it('keeps the finalizer and warns on every retry while the provider cannot delete', async () => {
    const t = await setup();
    t.put(LB);
    await t.reconcile();
    t.put(LB, undefined, { deletionTimestamp: new Date() });
    t.mem.failNext(2, 'transient', { methods: ['delete'] });
    expect(await t.reconcile()).toEqual({ kind: 'backoff' });
    expect(await t.reconcile()).toEqual({ kind: 'backoff' });
    expect(t.services.get(KEY)?.metadata?.finalizers).toEqual([FINALIZER]);
    expect(t.events.list.filter((x) => x.type === 'Warning').map((x) => x.message)).toEqual([
      'Error deleting load balancer: injected transient failure',
      'Error deleting load balancer: injected transient failure',
    ]);
    expect(await t.reconcile()).toEqual({ kind: 'done' });
    expect(t.services.get(KEY)).toBeUndefined();
  });

  it('moves the LB when another provider serves the Service, deleting the old one first', async () => {
    const t = await setup();
    t.put(LB);
    await t.reconcile();
    t.put({ ...LB, loadBalancerClass: 'lbc.dev/other' });
    await t.reconcile();
    expect(t.mem.loadBalancers()).toEqual([]);
    expect(t.other.loadBalancers()).toHaveLength(1);
    expect(t.services.get(KEY)?.status?.loadBalancer?.ingress?.[0]?.ip).toBe('203.0.113.1');
  });

  it('deletes what it created for an object that vanished without passing its finalizer', async () => {
    const t = await setup();
    t.put(LB);
    await t.reconcile();
    t.services.delete(KEY);
    expect(await t.reconcile()).toEqual({ kind: 'done' });
    expect(t.mem.loadBalancers()).toEqual([]);
  });

  it('adopts quietly after a restart: one idempotent ensure, no write, no Event', async () => {
    const t = await setup();
    t.put(LB);
    await t.reconcile();
    const writes = t.writer.writes.length;
    const fresh = restarted(t);
    await fresh.reconcile(KEY, new Flight());
    expect(t.mem.callsOf('ensure')).toHaveLength(2);
    expect(t.mem.writes).toBe(t.mem.writeHistory.length);
    expect(t.writer.writes).toHaveLength(writes);
    expect(t.events.list).toHaveLength(2);
  });

  it('uses ready endpoints as ip targets and follows their slices', async () => {
    const t = await setup();
    t.put(LB, { 'lbc.dev/target-type': 'ip' });
    t.slices.set({
      metadata: { name: 'web-1', namespace: 'default', resourceVersion: nextRv(), labels: { 'kubernetes.io/service-name': 'web' } },
      addressType: 'IPv4',
      ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
      endpoints: [{ addresses: ['10.1.0.1'], conditions: { ready: true } }, { addresses: ['10.1.0.2'], conditions: { ready: false } }],
    });
    await t.reconcile();
    expect(t.r.usesIpTargets(KEY)).toBe(true);
    const ts = t.mem.loadBalancers()[0]?.spec.targetSets[0];
    expect(ts?.type === 'ip' && ts.targets).toEqual([{ ip: '10.1.0.1', port: 8080 }]);
  });

  it('tells provider notices as Events on the Service, once; they never reach the status, and a resync after them writes nothing', async () => {
    const t = await setup();
    t.put(LB);
    t.mem.noticeNext({ type: 'Warning', reason: 'SyncLoadBalancerFailed', message: 'subnet-1 is not tagged for the cluster' });
    await t.reconcile();
    const said = (from = 0) => t.events.list.slice(from).map((e) => `${e.kind} ${e.name} ${e.type} ${e.reason}: ${e.message}`);
    expect(said()).toEqual([
      'Service web Normal EnsuringLoadBalancer: Ensuring load balancer',
      'Service web Warning SyncLoadBalancerFailed: subnet-1 is not tagged for the cluster',
      'Service web Normal EnsuredLoadBalancer: Ensured load balancer',
    ]);
    const svc = t.services.get(KEY);
    expect(svc?.status?.loadBalancer).toEqual({ ingress: [{ ip: '192.0.2.1', ipMode: 'VIP', ports: [{ port: 80, protocol: 'TCP' }] }] });
    expect(JSON.stringify(svc?.status)).not.toContain('subnet-1');

    const writes = t.writer.writes.length;
    const events = t.events.list.length;
    await t.reconcile();
    t.put(LB); // a new resourceVersion: the model is built again, to the same spec
    await t.reconcile();
    expect(t.writer.writes).toHaveLength(writes);
    expect(t.events.list).toHaveLength(events);

    // A later ensure that replaced something (as GCE reports it) is told next to the upstream Event.
    t.world.nodes = [node('n1', '10.0.0.1')];
    t.world.nodesVersion++;
    t.mem.noticeNext({ type: 'Normal', reason: 'UpdatedLoadBalancer', message: 'Replaced forwarding rule a1b2 (its ports cannot change in place)' });
    await t.reconcile();
    expect(said(events)).toEqual([
      'Service web Normal UpdatedLoadBalancer: Replaced forwarding rule a1b2 (its ports cannot change in place)',
      'Service web Normal UpdatedLoadBalancer: Updated load balancer with new hosts',
    ]);
    expect(t.writer.writes).toHaveLength(writes);
  });
});

// Issue #22: every lbc instance uses the same finalizer, so a Service addressed to another
// controller is left exactly as it is; only one that no controller is addressed by any
// more (type changed) is cleaned up, and only what this process made is undone.
describe('ServiceReconciler and Services that are not its own', () => {
  const ADDRESSED = { ingress: [{ ip: '203.0.113.9' }] };
  const readyTrue = { type: READY_CONDITION, status: 'True', reason: 'LoadBalancerEnsured', message: 'The load balancer is provisioned', lastTransitionTime: new Date() };
  /** A Service as another lbc instance leaves it: its finalizer (the same name as ours), its address and condition. */
  const theirs = (t: Awaited<ReturnType<typeof setup>>, spec: V1ServiceSpec, extra: Partial<NonNullable<V1Service['metadata']>> = {}): V1Service => {
    const svc = t.put(spec, undefined, { finalizers: [FINALIZER], ...extra });
    svc.status = { loadBalancer: ADDRESSED, conditions: [readyTrue] };
    return svc;
  };
  /** The same world seen by a fresh process configured without defaultClass (the same providers). */
  const withoutDefaultClass = (t: Awaited<ReturnType<typeof setup>>): ServiceReconciler =>
    restarted(t, validateConfig({ clusterName: 'unit', providers: t.config.providers.map((p) => ({ name: p.name, type: p.type, options: p.options })) }));
  const untouched = (t: Awaited<ReturnType<typeof setup>>): void => {
    expect(t.writer.writes).toEqual([]);
    expect(t.events.list).toEqual([]);
    expect(t.mem.calls).toEqual([]);
    expect(t.other.calls).toEqual([]);
    const svc = t.services.get(KEY);
    expect(svc?.metadata?.finalizers).toEqual([FINALIZER]);
    expect(svc?.status?.loadBalancer).toEqual(ADDRESSED);
  };

  it("leaves another instance's class alone, finalizer, status and all: no write, no Event, no provider call", async () => {
    const t = await setup();
    theirs(t, { ...LB, loadBalancerClass: 'lbc.dev/x' });
    for (let i = 0; i < 3; i++) expect(await t.reconcile()).toEqual({ kind: 'done' });
    untouched(t);
    expect(t.r.has(KEY)).toBe(false);
  });

  it("leaves another instance's Service alone while it is being deleted: that instance drops its finalizer", async () => {
    const t = await setup();
    theirs(t, { ...LB, loadBalancerClass: 'lbc.dev/x' }, { deletionTimestamp: new Date() });
    expect(await t.reconcile()).toEqual({ kind: 'done' });
    untouched(t);
  });

  it('leaves class-less Services alone when it is not the default (they are the default controller’s), even with lbc’s finalizer', async () => {
    const t = await setup();
    theirs(t, LB);
    const noDefault = withoutDefaultClass(t);
    expect(await noDefault.reconcile(KEY, new Flight())).toEqual({ kind: 'done' });
    untouched(t);
  });

  it('restarted without defaultClass, leaves a class-less Service it served as the default as it is (its finalizer cannot be told from the new default’s)', async () => {
    const t = await setup();
    t.put(LB);
    await t.reconcile();
    expect(t.mem.loadBalancers()).toHaveLength(1);
    const writes = t.writer.writes.length;
    const events = t.events.list.length;
    const restarted = withoutDefaultClass(t);
    expect(await restarted.reconcile(KEY, new Flight())).toEqual({ kind: 'done' });
    expect(t.writer.writes).toHaveLength(writes);
    expect(t.events.list).toHaveLength(events);
    expect(t.mem.callsOf('delete')).toEqual([]);
    expect(t.services.get(KEY)?.metadata?.finalizers).toEqual([FINALIZER]);
    expect(t.mem.loadBalancers()).toHaveLength(1);
  });

  it('cleans up a Service whose type left LoadBalancer even after a restart (no record): every instance reads it the same way', async () => {
    const t = await setup();
    theirs(t, { type: 'ClusterIP', ports: [{ port: 80, protocol: 'TCP' }] });
    expect(await t.reconcile()).toEqual({ kind: 'done' });
    // Which provider held it is unknown to a fresh process: each is asked (each deletes only what it tagged).
    expect(t.mem.callsOf('delete')).toHaveLength(1);
    expect(t.other.callsOf('delete')).toHaveLength(1);
    expect(t.writer.writes).toEqual(['Service web: status', 'Service web: remove finalizer']);
    expect(t.events.reasons()).toEqual(['DeletingLoadBalancer', 'DeletedLoadBalancer']);
    // Done once: nothing puts the finalizer back, so nothing more happens.
    expect(await t.reconcile()).toEqual({ kind: 'done' });
    expect(t.writer.writes).toHaveLength(2);
  });

  it('hands over, once and without an Event, a Service it served that is now another controller’s: its LB goes, then its finalizer', async () => {
    const t = await setup();
    t.put(LB);
    await t.reconcile();
    const events = t.events.list.length;
    t.writer.writes.length = 0;
    // The type round trip (LoadBalancer → ClusterIP → LoadBalancer of another class) seen as one change.
    t.put({ ...LB, loadBalancerClass: 'service.k8s.aws/nlb' });
    t.writer.before = (what) => {
      if (what === 'unfinalize') expect(t.mem.loadBalancers()).toEqual([]);
    };
    expect(await t.reconcile()).toEqual({ kind: 'done' });
    expect(t.mem.loadBalancers()).toEqual([]);
    expect(t.writer.writes).toEqual(['Service web: status', 'Service web: remove finalizer']);
    expect(t.events.list).toHaveLength(events);
    expect(t.r.has(KEY)).toBe(false);
    // Another lbc instance serving that class puts its (same-named) finalizer back: left alone from now on.
    t.put({ ...LB, loadBalancerClass: 'service.k8s.aws/nlb' }, undefined, { finalizers: [FINALIZER] });
    expect(await t.reconcile()).toEqual({ kind: 'done' });
    expect(t.writer.writes).toHaveLength(2);
    expect(t.services.get(KEY)?.metadata?.finalizers).toEqual([FINALIZER]);
  });
});

describe('ServiceReconciler when the controller stops', () => {
  it('tells nothing about an ensure cut short by a stopping or deposed controller: no Warning, no condition, no retry gate', async () => {
    const t = await setup();
    expect(await ensureAbortedBy(t, new ControllerStoppingError('controller shutting down'))).toEqual({ kind: 'done' });
    expect(t.events.list.filter((x) => x.type === 'Warning')).toEqual([]);
    expect(t.services.get(KEY)?.status?.conditions ?? []).toEqual([]);
    // The next leader (or this one, restarted) calls the provider at once.
    t.r.deferRetry(KEY, Date.now() + 60_000);
    expect(await t.reconcile()).toEqual({ kind: 'done' });
    expect(t.mem.callsOf('ensure')).toHaveLength(2);
  });
});

// #16: an annotation under the provider's prefixes that lbc does not read is named in a
// condition too, not only in a Warning Event that scrolls away. Written only when it
// changes, taken off when the annotation is fixed and when the Service is released.
describe('the UnreadAnnotations condition', () => {
  const withUnread = (t: Awaited<ReturnType<typeof setup>>) => {
    const parse = t.mem.parseOptions.bind(t.mem);
    t.mem.parseOptions = (annotations, kind) => {
      const r = parse(annotations, kind);
      const unread = Object.keys(annotations)
        .filter((k) => k.startsWith('mem.example/'))
        .sort()
        .map((k) => `${k}: not implemented by lbc; it is ignored`);
      return r.ok && unread.length > 0 ? { ...r, unread } : r;
    };
  };
  const unreadCondition = (t: Awaited<ReturnType<typeof setup>>) => t.services.get(KEY)?.status?.conditions?.find((c) => c.type === UNREAD_ANNOTATIONS_CONDITION);

  it('names each unread annotation, is written once, goes when fixed, and goes with the status on release', async () => {
    const t = await setup();
    withUnread(t);
    t.put(LB, { 'mem.example/healthcheck-pth': '/healthz', 'mem.example/b': '1' });
    await t.reconcile();
    expect(unreadCondition(t)).toMatchObject({
      type: 'lbc.dev/UnreadAnnotations',
      status: 'True',
      reason: 'AnnotationsNotRead',
      message: 'mem.example/b: not implemented by lbc; it is ignored; mem.example/healthcheck-pth: not implemented by lbc; it is ignored',
    });
    expect(t.services.get(KEY)?.status?.conditions?.find((c) => c.type === READY_CONDITION)?.status).toBe('True');

    t.writer.writes.length = 0;
    t.put(LB, { 'mem.example/healthcheck-pth': '/healthz', 'mem.example/b': '1' });
    await t.reconcile();
    expect(t.writer.writes).toEqual([]);

    t.put(LB, { 'mem.example/b': '1' });
    await t.reconcile();
    expect(unreadCondition(t)?.message).toBe('mem.example/b: not implemented by lbc; it is ignored');

    t.put(LB);
    await t.reconcile();
    expect(unreadCondition(t)).toBeUndefined();
    expect(t.services.get(KEY)?.status?.conditions?.map((c) => c.type)).toEqual([READY_CONDITION]);

    t.put(LB, { 'mem.example/b': '1' });
    await t.reconcile();
    expect(unreadCondition(t)).toBeDefined();
    t.put({ type: 'ClusterIP', ports: [{ port: 80, protocol: 'TCP' }] }, { 'mem.example/b': '1' });
    await t.reconcile();
    expect(t.services.get(KEY)?.status?.conditions).toBeUndefined();
  });
});
