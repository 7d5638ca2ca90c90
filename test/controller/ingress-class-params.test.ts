// The Ingress reconciler with IngressClassParams (ALBC docs/guide/ingress/ingress_class.md):
// the params' group.name gathers the class's Ingresses under one key, a member of a
// namespace the namespaceSelector does not pick is left out, told and released, and params
// that do not exist stop the group (Warning, slow retry, no provider call). The provider
// configured as `aws` (which serves IngressClassParams classes) is a recording memory one.
import type { V1Ingress, V1IngressClass, V1IngressSpec } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../src/config/config.js';
import type { ClassParamsLookups, IngressClassParamsSpec } from '../../src/controller/ingress/class-params.js';
import { groupKeyOf } from '../../src/controller/ingress-reconciler.js';
import { FINALIZER, Flight } from '../../src/controller/reconcile.js';
import { Cache } from '../../src/kube/cache.js';
import { ingressGroupRef } from '../../src/model/ref.js';
import type { L7Spec } from '../../src/model/spec.js';
import { createMemoryProvider, type MemoryProvider } from '../../src/providers/memory/index.js';
import { buildProviders } from '../../src/providers/registry.js';
import { ingressReconcilerOnFakes } from './ingress-reconciler-on-fakes.js';
import { nextRv } from './reconciler-fakes.js';

async function setup(spec: IngressClassParamsSpec | undefined) {
  const config = validateConfig({ clusterName: 'unit', providers: [{ name: 'aws', type: 'aws', options: { region: 'us-east-1' } }], ingress: { controllerName: 'lbc.dev/ingress' }, nodeReadyHysteresis: 0 });
  const providers = await buildProviders(config, { aws: (ctx) => createMemoryProvider({ name: ctx.name, clusterName: ctx.clusterName }) });
  const classes = new Cache<V1IngressClass>();
  classes.set({ metadata: { name: 'alb', resourceVersion: nextRv() }, spec: { controller: 'lbc.dev/ingress', parameters: { apiGroup: 'elbv2.k8s.aws', kind: 'IngressClassParams', name: 'team' } } });
  const labels: Record<string, Record<string, string>> = { shop: { team: 'shop' }, mallory: {} };
  const params: { spec: IngressClassParamsSpec | undefined } = { spec };
  const lookups: ClassParamsLookups = {
    classes: () => classes.list(),
    params: (n) => (n === 'team' && params.spec ? { name: n, spec: params.spec } : undefined),
    unavailable: () => undefined,
    namespaceLabels: (ns) => labels[ns],
  };
  const { r, services, ingresses, events } = ingressReconcilerOnFakes({ config, providers, classParams: lookups, classes });
  const route = (host: string): V1IngressSpec => ({ ingressClassName: 'alb', rules: [{ host, http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } }] } }] });
  const member = (namespace: string, name: string, host: string, extra: Partial<NonNullable<V1Ingress['metadata']>> = {}): void => {
    services.set({ metadata: { name: 'web', namespace, uid: `uid-${namespace}-web`, resourceVersion: nextRv() }, spec: { type: 'NodePort', ports: [{ port: 80, targetPort: 8080, protocol: 'TCP', nodePort: 30080 }] } });
    ingresses.set({ kind: 'Ingress', metadata: { name, namespace, uid: `uid-${namespace}-${name}`, resourceVersion: nextRv(), annotations: { 'alb.ingress.kubernetes.io/group.name': name }, ...extra }, spec: route(host) });
  };
  return { r, ingresses, events, params, lookups, member, aws: providers.byName('aws') as MemoryProvider, reconcile: (key: string) => r.reconcile(key, new Flight()) };
}

describe('IngressReconciler with IngressClassParams', () => {
  it('the params\' group.name gathers the class\'s Ingresses (over their own group.name) into one LB; a namespace the selector does not pick is left out, told, and released', async () => {
    const t = await setup({ group: { name: 'shared' }, namespaceSelector: { matchLabels: { team: 'shop' } } });
    t.member('shop', 'store', 'shop.example.com');
    // Served before (it holds the finalizer): its namespace is no longer selected.
    t.member('mallory', 'grab', 'grab.example.com', { finalizers: [FINALIZER] });
    for (const ing of t.ingresses.list()) expect(groupKeyOf(ing, t.lookups)).toBe('group/shared');
    expect(await t.reconcile('group/shared')).toEqual({ kind: 'done' });
    const lb = t.aws.get(ingressGroupRef('shared'));
    expect((lb?.spec as L7Spec).rules.map((r) => `${r.host ?? ''}${r.path} (${r.source})`)).toEqual(['shop.example.com/ (shop/store)']);
    expect(t.events.list.filter((e) => e.reason === 'IngressClassParamsRefused')).toEqual([
      {
        kind: 'Ingress',
        name: 'grab',
        type: 'Warning',
        reason: 'IngressClassParamsRefused',
        message: 'Ingress mallory/grab: field metadata.namespace: namespace mallory is not allowed: namespaceSelector of IngressClassParams team mismatch; this Ingress is not served',
      },
    ]);
    // The LB no longer routes for it: its finalizer is released.
    expect(t.ingresses.get('mallory/grab')?.metadata?.finalizers ?? []).toEqual([]);
    expect(t.ingresses.get('shop/store')?.metadata?.finalizers).toEqual([FINALIZER]);
    // Told once per change, not on every resync.
    expect(await t.reconcile('group/shared')).toEqual({ kind: 'done' });
    expect(t.events.list.filter((e) => e.reason === 'IngressClassParamsRefused')).toHaveLength(1);
  });

  it('params that do not exist: a Warning naming them, a slow retry, no provider call; once they exist the LB is built as they say', async () => {
    const t = await setup(undefined);
    t.member('shop', 'store', 'shop.example.com');
    expect(await t.reconcile('group/store')).toEqual({ kind: 'slow' });
    expect(t.aws.callsOf('ensure')).toEqual([]);
    expect(t.events.list.map((e) => `${e.type} ${e.reason}: ${e.message}`)).toEqual([
      'Warning SyncLoadBalancerFailed: Error syncing load balancer: Ingress shop/store: IngressClass alb names IngressClassParams team, which does not exist',
    ]);
    t.params.spec = { tags: [{ key: 'org', value: 'platform' }] };
    expect(await t.reconcile('group/store')).toEqual({ kind: 'done' });
    expect(t.aws.callsOf('ensure')).toHaveLength(1);
  });
});
