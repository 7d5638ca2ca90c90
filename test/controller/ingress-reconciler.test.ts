// The Ingress reconciler against fakes: groups, companions, members leaving,
// misconfigured classes, teardown.
import type { V1EndpointSlice, V1Ingress, V1IngressSpec, V1Pod, V1Secret, V1Service } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../src/config/config.js';
import { COMPANION_BY_GROUP, COMPANION_OF_ANNOTATION } from '../../src/controller/companions.js';
import { ingressCacheIndexers, ingressModelInputs } from '../../src/controller/ingress-reconciler.js';
import { FINALIZER, Flight } from '../../src/controller/reconcile.js';
import { Cache, objectKey } from '../../src/kube/cache.js';
import { endpointSliceIndexers, INGRESS_BY_BACKEND_SERVICE, serviceIndexers } from '../../src/kube/indexes.js';
import { ingressGroupRef } from '../../src/model/ref.js';
import type { L7Spec } from '../../src/model/spec.js';
import type { MemoryProvider } from '../../src/providers/memory/index.js';
import { buildProviders } from '../../src/providers/registry.js';
import { ingressReconcilerOnFakes } from './ingress-reconciler-on-fakes.js';
import { nextRv } from './reconciler-fakes.js';

async function setup() {
  const config = validateConfig({
    clusterName: 'unit',
    providers: [
      { name: 'mem', type: 'memory' },
      { name: 'inst', type: 'memory', options: { addressPool: '203.0.113.0/24', targetTypes: ['instance'] } },
    ],
    defaultClass: 'lbc.dev/mem',
    ingress: { controllerName: 'lbc.dev/ingress' },
    nodeReadyHysteresis: 0,
  });
  const providers = await buildProviders(config);
  const { r, services, ingresses, classes, slices, pods, writer, events, companionApi } = ingressReconcilerOnFakes({ config, providers });
  for (const [name, provider] of [['lbc', 'mem'], ['lbc-inst', 'inst']] as const) {
    classes.set({ metadata: { name, resourceVersion: nextRv() }, spec: { controller: 'lbc.dev/ingress', parameters: { apiGroup: 'lbc.dev', kind: 'Provider', name: provider } } });
  }
  const service = (name: string, type: string, selector?: Record<string, string>): void => {
    services.set({
      kind: 'Service',
      metadata: { name, namespace: 'default', uid: `uid-${name}`, resourceVersion: nextRv() },
      spec: { type, ...(selector ? { selector } : {}), ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP', ...(type === 'NodePort' ? { nodePort: 30080 } : {}) }] },
    });
  };
  const ingress = (name: string, spec: V1IngressSpec, annotations?: Record<string, string>, extra: Partial<NonNullable<V1Ingress['metadata']>> = {}): V1Ingress => {
    const old = ingresses.get(`default/${name}`);
    const ing: V1Ingress = {
      kind: 'Ingress',
      metadata: { name, namespace: 'default', uid: `uid-${name}`, resourceVersion: nextRv(), finalizers: old?.metadata?.finalizers, ...(annotations ? { annotations } : {}), ...extra },
      spec,
      status: old?.status ?? {},
    };
    ingresses.set(ing);
    return ing;
  };
  const mem = providers.byName('mem') as MemoryProvider;
  const inst = providers.byName('inst') as MemoryProvider;
  const reconcile = (key: string) => r.reconcile(key, new Flight());
  return { services, ingresses, classes, slices, pods, writer, events, companionApi, r, mem, inst, service, ingress, reconcile };
}

const route = (path: string, service = 'web'): V1IngressSpec => ({
  ingressClassName: 'lbc',
  rules: [{ host: 'a.example.com', http: { paths: [{ path, pathType: 'Prefix', backend: { service: { name: service, port: { number: 80 } } } }] } }],
});

describe('IngressReconciler', () => {
  it('serves a group with one LB: rules of every member, finalizers and status on each, no repeat when unchanged', async () => {
    const t = await setup();
    t.service('web', 'NodePort');
    t.ingress('one', route('/one'), { 'lbc.dev/group.name': 'shop' });
    t.ingress('two', route('/two'), { 'lbc.dev/group.name': 'shop', 'lbc.dev/group.order': '-1' });
    expect(await t.reconcile('group/shop')).toEqual({ kind: 'done' });
    const lb = t.mem.get(ingressGroupRef('shop'));
    expect((lb?.spec as L7Spec).rules.map((r) => `${r.path} from ${r.source}`)).toEqual(['/two from default/two', '/one from default/one']);
    for (const n of ['one', 'two']) {
      const ing = t.ingresses.get(`default/${n}`);
      expect(ing?.metadata?.finalizers).toEqual([FINALIZER]);
      expect(ing?.status?.loadBalancer?.ingress).toEqual([{ ip: '192.0.2.1', ports: [{ port: 80, protocol: 'TCP' }] }]);
    }
    const writes = t.writer.writes.length;
    expect(await t.reconcile('group/shop')).toEqual({ kind: 'done' });
    expect(t.mem.callsOf('ensure')).toHaveLength(1);
    expect(t.writer.writes).toHaveLength(writes);
  });

  it('refuses a host claimed from another namespace: the owner keeps its rules, the intruder gets a Warning, the owner a Normal Event naming it, once', async () => {
    const t = await setup();
    t.service('web', 'NodePort');
    t.ingress('store', route('/api/checkout'), { 'lbc.dev/group.name': 'shop' }, { creationTimestamp: new Date('2026-01-01T00:00:00Z') });
    t.services.set({
      kind: 'Service',
      metadata: { name: 'evil', namespace: 'mallory', uid: 'uid-evil', resourceVersion: nextRv() },
      spec: { type: 'NodePort', ports: [{ port: 80, targetPort: 8080, protocol: 'TCP', nodePort: 30099 }] },
    });
    t.ingresses.set({
      kind: 'Ingress',
      metadata: {
        name: 'grab',
        namespace: 'mallory',
        uid: 'uid-grab',
        resourceVersion: nextRv(),
        creationTimestamp: new Date('2026-02-01T00:00:00Z'),
        annotations: { 'lbc.dev/group.name': 'shop', 'lbc.dev/group.order': '-10' },
      },
      spec: route('/api/checkout', 'evil'),
    });
    expect(await t.reconcile('group/shop')).toEqual({ kind: 'done' });
    const lb = t.mem.get(ingressGroupRef('shop'));
    expect((lb?.spec as L7Spec).rules.map((r) => `${r.host ?? ''}${r.path} → ${r.targetSet}`)).toEqual(['a.example.com/api/checkout → default/web:80']);
    const told = () => t.events.list.filter((e) => e.reason.startsWith('HostClaim'));
    expect(told()).toEqual([
      { kind: 'Ingress', name: 'grab', type: 'Warning', reason: 'HostClaimRefused', message: expect.stringContaining('host a.example.com is served in this group by namespace default (Ingress default/store)') },
      { kind: 'Ingress', name: 'store', type: 'Normal', reason: 'HostClaimRepelled', message: expect.stringContaining('Ingress mallory/grab from namespace mallory tried to route host a.example.com') },
    ]);
    expect(await t.reconcile('group/shop')).toEqual({ kind: 'done' });
    expect(told()).toHaveLength(2);
  });

  it('releases a member that leaves (deleted) only after the LB stops routing for it', async () => {
    const t = await setup();
    t.service('web', 'NodePort');
    t.ingress('one', route('/one'), { 'lbc.dev/group.name': 'shop' });
    t.ingress('two', route('/two'), { 'lbc.dev/group.name': 'shop' });
    await t.reconcile('group/shop');
    t.ingress('one', route('/one'), { 'lbc.dev/group.name': 'shop' }, { deletionTimestamp: new Date() });
    t.writer.before = (what, obj) => {
      if (what === 'unfinalize' && obj.metadata?.name === 'one') {
        expect((t.mem.get(ingressGroupRef('shop'))?.spec as L7Spec).rules.map((r) => r.path)).toEqual(['/two']);
      }
    };
    await t.reconcile('group/shop');
    expect(t.ingresses.get('default/one')).toBeUndefined();
    expect(t.ingresses.get('default/two')?.metadata?.finalizers).toEqual([FINALIZER]);
  });

  it('tears the LB down when the last member goes, and says so', async () => {
    const t = await setup();
    t.service('web', 'NodePort');
    t.ingress('solo', route('/'));
    await t.reconcile('ingress/default/solo');
    t.ingress('solo', route('/'), undefined, { deletionTimestamp: new Date() });
    expect(await t.reconcile('ingress/default/solo')).toEqual({ kind: 'done' });
    expect(t.mem.loadBalancers()).toEqual([]);
    expect(t.ingresses.get('default/solo')).toBeUndefined();
    expect(t.events.reasons('solo').filter((r) => r !== 'BackendTargets')).toEqual([
      'EnsuringLoadBalancer',
      'EnsuredLoadBalancer',
      'DeletingLoadBalancer',
      'DeletedLoadBalancer',
    ]);
  });

  it('a first success after a failed ensure is a creation, not an adoption: the finalizer went on in the failed reconcile, yet EnsuringLoadBalancer is told again', async () => {
    const t = await setup();
    t.service('web', 'NodePort');
    t.ingress('solo', route('/'));
    t.mem.failNext(1, 'transient');
    expect((await t.reconcile('ingress/default/solo')).kind).not.toBe('done');
    expect(t.ingresses.get('default/solo')?.metadata?.finalizers).toEqual([FINALIZER]);
    expect(await t.reconcile('ingress/default/solo')).toEqual({ kind: 'done' });
    expect(t.events.reasons('solo').filter((r) => r !== 'BackendTargets')).toEqual(['EnsuringLoadBalancer', 'SyncLoadBalancerFailed', 'EnsuringLoadBalancer', 'EnsuredLoadBalancer']);
  });

  it('keeps the LB as it is when a member\'s IngressClass cannot name a provider', async () => {
    const t = await setup();
    t.service('web', 'NodePort');
    t.ingress('solo', route('/'));
    await t.reconcile('ingress/default/solo');
    t.classes.set({ metadata: { name: 'lbc', resourceVersion: nextRv() }, spec: { controller: 'lbc.dev/ingress', parameters: { apiGroup: 'lbc.dev', kind: 'Provider', name: 'typo' } } });
    t.ingress('solo', route('/changed'));
    expect(await t.reconcile('ingress/default/solo')).toEqual({ kind: 'done' });
    expect(t.mem.callsOf('ensure')).toHaveLength(1);
    expect(t.mem.callsOf('delete')).toHaveLength(0);
    expect(t.events.list.at(-1)).toMatchObject({ type: 'Warning', message: expect.stringContaining('typo is not a configured provider') });
  });

  it('reports bad input on the members and makes no provider call', async () => {
    const t = await setup();
    t.ingress('solo', route('/', 'missing'));
    expect(await t.reconcile('ingress/default/solo')).toEqual({ kind: 'done' });
    expect(t.mem.calls).toHaveLength(0);
    expect(t.events.list).toEqual([
      expect.objectContaining({ type: 'Warning', reason: 'SyncLoadBalancerFailed', message: expect.stringContaining('Service default/missing does not exist') }),
    ]);
  });

  it('creates a companion NodePort Service for a ClusterIP backend of an instance-only provider, and deletes it when unused', async () => {
    const t = await setup();
    t.service('cart', 'ClusterIP', { app: 'cart' });
    t.service('web', 'NodePort');
    t.ingress('legacy', { ...route('/', 'cart'), ingressClassName: 'lbc-inst' });
    expect(await t.reconcile('ingress/default/legacy')).toEqual({ kind: 'done' });
    const companions = t.services.byIndex(COMPANION_BY_GROUP, 'ingress/default/legacy');
    expect(companions).toHaveLength(1);
    const c = companions[0] as V1Service;
    expect(c.metadata?.annotations?.[COMPANION_OF_ANNOTATION]).toBe('ingress/default/legacy');
    expect(c.metadata?.ownerReferences).toEqual([{ apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', name: 'legacy', uid: 'uid-legacy' }]);
    expect(c.spec).toMatchObject({ type: 'NodePort', selector: { app: 'cart' } });
    const ts = t.inst.loadBalancers()[0]?.spec.targetSets[0];
    expect(ts).toMatchObject({ type: 'instance', nodePort: c.spec?.ports?.[0]?.nodePort });

    // Reconciled again: nothing new.
    await t.reconcile('ingress/default/legacy');
    expect(t.companionApi.calls).toEqual([`create ${c.metadata?.name}`]);

    t.ingress('legacy', { ...route('/', 'web'), ingressClassName: 'lbc-inst' });
    await t.reconcile('ingress/default/legacy');
    expect(t.companionApi.calls).toEqual([`create ${c.metadata?.name}`, `delete ${c.metadata?.name}`]);
    expect(t.services.byIndex(COMPANION_BY_GROUP, 'ingress/default/legacy')).toEqual([]);
  });

  it('removes companions with the LB when the Ingress goes', async () => {
    const t = await setup();
    t.service('cart', 'ClusterIP', { app: 'cart' });
    t.ingress('legacy', { ...route('/', 'cart'), ingressClassName: 'lbc-inst' });
    await t.reconcile('ingress/default/legacy');
    t.ingress('legacy', { ...route('/', 'cart'), ingressClassName: 'lbc-inst' }, undefined, { deletionTimestamp: new Date() });
    await t.reconcile('ingress/default/legacy');
    expect(t.services.byIndex(COMPANION_BY_GROUP, 'ingress/default/legacy')).toEqual([]);
    expect(t.inst.loadBalancers()).toEqual([]);
    expect(t.ingresses.get('default/legacy')).toBeUndefined();
  });
});

describe('IngressReconciler: provider notices', () => {
  it('tells each notice to every member of the group once; never in the status, and a resync after it writes nothing', async () => {
    const t = await setup();
    t.service('web', 'NodePort');
    t.ingress('one', route('/one'), { 'lbc.dev/group.name': 'shop' });
    t.ingress('two', route('/two'), { 'lbc.dev/group.name': 'shop' });
    t.mem.noticeNext({ type: 'Normal', reason: 'UpdatedLoadBalancer', message: 'Replaced URL map shop (it cannot change in place)' });
    await t.reconcile('group/shop');
    const told = t.events.list.filter((e) => e.message.startsWith('Replaced'));
    expect(told.map((e) => `${e.kind} ${e.name} ${e.type} ${e.reason}`)).toEqual(['Ingress one Normal UpdatedLoadBalancer', 'Ingress two Normal UpdatedLoadBalancer']);
    for (const n of ['one', 'two']) {
      expect(t.ingresses.get(`default/${n}`)?.status).toEqual({ loadBalancer: { ingress: [{ ip: '192.0.2.1', ports: [{ port: 80, protocol: 'TCP' }] }] } });
    }
    const writes = t.writer.writes.length;
    const events = t.events.list.length;
    await t.reconcile('group/shop');
    expect(t.writer.writes).toHaveLength(writes);
    expect(t.events.list).toHaveLength(events);
  });
});

describe('IngressReconciler: health checks that follow readiness probes', () => {
  const webSlice = (pod: string): V1EndpointSlice => ({
    metadata: { name: 'web-abc', namespace: 'default', labels: { 'kubernetes.io/service-name': 'web' }, resourceVersion: nextRv() },
    addressType: 'IPv4',
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    endpoints: [{ addresses: ['10.1.0.1'], conditions: { ready: true }, targetRef: { kind: 'Pod', namespace: 'default', name: pod } }],
  });
  const probedPod = (name: string, path: string): V1Pod => ({
    metadata: { name, namespace: 'default' },
    spec: { containers: [{ name: 'web', image: 'web', ports: [{ name: 'http', containerPort: 8080 }], readinessProbe: { httpGet: { path, port: 'http' } } }] },
  });
  const lastHealthCheck = (t: Awaited<ReturnType<typeof setup>>) => t.mem.callsOf('ensure').at(-1)?.spec.targetSets[0]?.healthCheck;

  it('reads the backing Pod at reconcile and gives the provider its readiness probe path', async () => {
    const t = await setup();
    t.service('web', 'NodePort');
    t.slices.set(webSlice('web-1'));
    t.pods.put(probedPod('web-1', '/ready'));
    t.ingress('site', route('/'));
    expect(await t.reconcile('ingress/default/site')).toEqual({ kind: 'done' });
    expect(t.pods.reads).toEqual(['default/web-1']);
    expect(lastHealthCheck(t)).toMatchObject({ protocol: 'HTTP', path: '/', readinessProbePath: '/ready' });
    // Nothing is kept between reconciles: the Pod is read again, and the same spec makes no call.
    await t.reconcile('ingress/default/site');
    expect(t.pods.reads).toEqual(['default/web-1', 'default/web-1']);
    expect(t.mem.callsOf('ensure')).toHaveLength(1);
  });

  it('keeps the default path when the Pod is gone (404), and reads no Pod when the user chose the path', async () => {
    const t = await setup();
    t.service('web', 'NodePort');
    t.slices.set(webSlice('web-gone'));
    t.ingress('site', route('/'));
    expect(await t.reconcile('ingress/default/site')).toEqual({ kind: 'done' });
    expect(t.pods.reads).toEqual(['default/web-gone']);
    expect(lastHealthCheck(t)).toMatchObject({ protocol: 'HTTP', path: '/' });
    expect(lastHealthCheck(t)).not.toHaveProperty('readinessProbePath');

    t.pods.put(probedPod('web-gone', '/ready'));
    t.ingress('site', route('/'), { 'lbc.dev/health-check-path': '/mine' });
    await t.reconcile('ingress/default/site');
    expect(t.pods.reads).toEqual(['default/web-gone']);
    expect(lastHealthCheck(t)).toMatchObject({ path: '/mine' });
    expect(lastHealthCheck(t)).not.toHaveProperty('readinessProbePath');
  });
});

/** The configured providers with one AWS provider: the one whose annotation actions name Services. */
async function withAws() {
  const config = validateConfig({ clusterName: 'unit', providers: [{ name: 'mem', type: 'memory' }, { name: 'aws', type: 'aws', options: { region: 'us-east-1' } }] });
  return buildProviders(config);
}

const split = { type: 'forward', forwardConfig: { targetGroups: [{ serviceName: 'web-v1', servicePort: '80', weight: 90 }, { serviceName: 'web-v2', servicePort: 80, weight: 10 }] } };
const useSplit: V1IngressSpec = { rules: [{ http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'canary-split', port: { name: 'use-annotation' } } } }] } }] };

describe('ingressCacheIndexers', () => {
  it('finds an Ingress by the Services its alb actions.<name> forward to, as the AWS provider reads them', async () => {
    const providers = await withAws();
    try {
      const c = new Cache<V1Ingress>(ingressCacheIndexers(providers));
      c.set({
        metadata: {
          name: 'canary',
          namespace: 'shop',
          annotations: {
            'alb.ingress.kubernetes.io/actions.canary-split': JSON.stringify(split),
            // Used by no backend of this Ingress: another member of its group may use it.
            'alb.ingress.kubernetes.io/actions.elsewhere': JSON.stringify({ type: 'forward', forwardConfig: { targetGroups: [{ serviceName: 'other', servicePort: 80 }] } }),
            'alb.ingress.kubernetes.io/actions.moved': JSON.stringify({ type: 'redirect', redirectConfig: { path: '/new', statusCode: 'HTTP_301' } }),
            'alb.ingress.kubernetes.io/actions.broken': '{"type":"forward",',
          },
        },
        spec: useSplit,
      });
      expect(c.indexValues(INGRESS_BY_BACKEND_SERVICE).sort()).toEqual(['shop/canary-split', 'shop/other', 'shop/web-v1', 'shop/web-v2']);
      expect(c.byIndex(INGRESS_BY_BACKEND_SERVICE, 'shop/web-v2').map(objectKey)).toEqual(['shop/canary']);
    } finally {
      await providers.close();
    }
  });

  it('an Ingress without defaultBackend is found by a provider\'s system default backend (kube-system/default-http-backend), so its appearing brings the Ingress back', () => {
    const provider = { capabilities: { layers: ['L7'], targetTypes: ['instance'], annotationPrefixes: [], systemDefaultBackend: { namespace: 'kube-system', service: 'default-http-backend', port: 'http' } } };
    const c = new Cache<V1Ingress>(ingressCacheIndexers({ all: [provider] } as unknown as Parameters<typeof ingressCacheIndexers>[0]));
    const rules = { rules: [{ http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } }] } }] };
    c.set({ metadata: { name: 'site', namespace: 'shop' }, spec: rules });
    c.set({ metadata: { name: 'own', namespace: 'shop' }, spec: { ...rules, defaultBackend: { service: { name: 'fallback', port: { number: 80 } } } } });
    expect(c.byIndex(INGRESS_BY_BACKEND_SERVICE, 'kube-system/default-http-backend').map(objectKey)).toEqual(['shop/site']);
    expect(c.indexValues(INGRESS_BY_BACKEND_SERVICE).sort()).toEqual(['kube-system/default-http-backend', 'shop/fallback', 'shop/web']);
  });

  it('reads no action when no configured provider has actions', async () => {
    const providers = await buildProviders(validateConfig({ clusterName: 'unit', providers: [{ name: 'mem', type: 'memory' }] }));
    const c = new Cache<V1Ingress>(ingressCacheIndexers(providers));
    c.set({ metadata: { name: 'canary', namespace: 'shop', annotations: { 'alb.ingress.kubernetes.io/actions.canary-split': JSON.stringify(split) } }, spec: useSplit });
    expect(c.indexValues(INGRESS_BY_BACKEND_SERVICE)).toEqual(['shop/canary-split']);
  });
});

describe('ingressModelInputs', () => {
  it('reads the Services an alb actions.<name> forward names, and their EndpointSlices, as it reads backends', async () => {
    const services = new Cache<V1Service>(serviceIndexers);
    const slices = new Cache<V1EndpointSlice>(endpointSliceIndexers);
    for (const name of ['web-v1', 'web-v2', 'unrelated']) {
      services.set({ metadata: { name, namespace: 'shop' }, spec: { ports: [{ name: 'http', port: 80 }] } });
      slices.set({ metadata: { name: `${name}-abc`, namespace: 'shop', labels: { 'kubernetes.io/service-name': name } }, addressType: 'IPv4', endpoints: [] });
    }
    const canary: V1Ingress = { metadata: { name: 'canary', namespace: 'shop', annotations: { 'alb.ingress.kubernetes.io/actions.canary-split': JSON.stringify(split) } }, spec: useSplit };
    const providers = await withAws();
    try {
      const inputs = ingressModelInputs([canary], { providers, services, endpointSlices: slices, secrets: new Cache<V1Secret>(), nodes: () => [] });
      expect(inputs.services.map((s) => s.metadata?.name).sort()).toEqual(['web-v1', 'web-v2']);
      expect(inputs.endpointSlices.map((s) => s.metadata?.name).sort()).toEqual(['web-v1-abc', 'web-v2-abc']);
    } finally {
      await providers.close();
    }
  });
});

// Issue #22: lbc instances share one finalizer name, so an Ingress addressed to another
// controller is left alone; one whose IngressClass is gone is no controller's and is let go.
describe('IngressReconciler and Ingresses that are not its own', () => {
  const other = (t: Awaited<ReturnType<typeof setup>>): void => {
    t.classes.set({ metadata: { name: 'other-lbc', resourceVersion: nextRv() }, spec: { controller: 'lbc.dev/another-instance' } });
  };
  const ADDRESSED = { loadBalancer: { ingress: [{ ip: '203.0.113.77' }] } };

  it("leaves an Ingress of another controller's IngressClass alone, finalizer and status: no write, no Event, no provider call", async () => {
    const t = await setup();
    other(t);
    t.service('web', 'NodePort');
    const ing = t.ingress('theirs', { ...route('/'), ingressClassName: 'other-lbc' }, undefined, { finalizers: [FINALIZER] });
    ing.status = ADDRESSED;
    for (let i = 0; i < 3; i++) expect(await t.reconcile('ingress/default/theirs')).toEqual({ kind: 'done' });
    // Being deleted does not make it ours either: its controller drops its finalizer.
    t.ingress('theirs', { ...route('/'), ingressClassName: 'other-lbc' }, undefined, { finalizers: [FINALIZER], deletionTimestamp: new Date() }).status = ADDRESSED;
    expect(await t.reconcile('ingress/default/theirs')).toEqual({ kind: 'done' });
    expect(t.writer.writes).toEqual([]);
    expect(t.events.list).toEqual([]);
    expect(t.mem.calls).toEqual([]);
    expect(t.inst.calls).toEqual([]);
    expect(t.ingresses.get('default/theirs')?.metadata?.finalizers).toEqual([FINALIZER]);
    expect(t.ingresses.get('default/theirs')?.status).toEqual(ADDRESSED);
  });

  it("keeps another controller's member of a same-named group out of the LB and untouched", async () => {
    const t = await setup();
    other(t);
    t.service('web', 'NodePort');
    t.ingress('one', route('/one'), { 'lbc.dev/group.name': 'shop' });
    t.ingress('two', { ...route('/two'), ingressClassName: 'other-lbc' }, { 'lbc.dev/group.name': 'shop' }, { finalizers: [FINALIZER] }).status = ADDRESSED;
    expect(await t.reconcile('group/shop')).toEqual({ kind: 'done' });
    expect((t.mem.get(ingressGroupRef('shop'))?.spec as L7Spec).rules.map((r) => r.path)).toEqual(['/one']);
    expect(t.writer.writes.filter((w) => w.includes(' two:'))).toEqual([]);
    expect(t.events.list.filter((e) => e.name === 'two')).toEqual([]);
    expect(t.ingresses.get('default/two')?.status).toEqual(ADDRESSED);
  });

  it('moved to another IngressClass by its user: deletes the LB and releases the Ingress it served, once, without an Event', async () => {
    const t = await setup();
    other(t);
    t.service('web', 'NodePort');
    t.ingress('solo', route('/'));
    await t.reconcile('ingress/default/solo');
    const events = t.events.list.length;
    t.writer.writes.length = 0;
    t.ingress('solo', { ...route('/'), ingressClassName: 'other-lbc' });
    expect(await t.reconcile('ingress/default/solo')).toEqual({ kind: 'done' });
    expect(t.mem.loadBalancers()).toEqual([]);
    expect(t.writer.writes).toEqual(['Ingress solo: status', 'Ingress solo: remove finalizer']);
    expect(t.events.list).toHaveLength(events);
    // The other instance adopts it with its (same-named) finalizer and address: left alone from now on.
    t.ingress('solo', { ...route('/'), ingressClassName: 'other-lbc' }, undefined, { finalizers: [FINALIZER] }).status = ADDRESSED;
    expect(await t.reconcile('ingress/default/solo')).toEqual({ kind: 'done' });
    expect(t.writer.writes).toHaveLength(2);
    expect(t.ingresses.get('default/solo')?.metadata?.finalizers).toEqual([FINALIZER]);
  });

  it('lets go of an Ingress whose IngressClass was deleted: no controller is addressed, so its LB, status and finalizer go', async () => {
    const t = await setup();
    t.service('web', 'NodePort');
    t.ingress('solo', route('/'));
    await t.reconcile('ingress/default/solo');
    t.classes.delete('lbc');
    expect(await t.reconcile('ingress/default/solo')).toEqual({ kind: 'done' });
    expect(t.mem.loadBalancers()).toEqual([]);
    const ing = t.ingresses.get('default/solo');
    expect(ing?.metadata?.finalizers ?? []).toEqual([]);
    expect(ing?.status?.loadBalancer?.ingress ?? []).toEqual([]);
    expect(t.events.reasons('solo').slice(-2)).toEqual(['DeletingLoadBalancer', 'DeletedLoadBalancer']);
  });
});
