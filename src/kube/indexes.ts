// The cache indexes lbc looks objects up by. Values that name another object are
// `namespace/name` keys, the same form the cache and the work queue use, so a lookup
// result can be enqueued as is.
import type { V1EndpointSlice, V1Ingress, V1IngressBackend, V1Service } from '@kubernetes/client-node';
import type { IndexFunc } from './cache.js';

/** The label the EndpointSlice controller puts on every slice it manages. */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

export const SERVICE_BY_NODE_PORT = 'byNodePort';
export const INGRESS_BY_BACKEND_SERVICE = 'byBackendService';
export const INGRESS_BY_TLS_SECRET = 'byTLSSecret';
export const ENDPOINTSLICE_BY_SERVICE = 'byService';

/** Node ports as decimal strings: the API server keeps them unique across Services. */
export const serviceByNodePort: IndexFunc<V1Service> = (svc) =>
  (svc.spec?.ports ?? []).flatMap((p) => (p.nodePort ? [String(p.nodePort)] : []));

/**
 * The Services an Ingress names outside its spec, by name in its own namespace: those its
 * annotation actions forward to (aws-load-balancer-controller's `actions.<name>`
 * forwardConfig). Only a provider reads its action format, so whoever wires the providers
 * supplies this (see controller/ingress-reconciler.ts); the kube layer knows none of them.
 */
export type IngressReferencedServices = (ing: V1Ingress) => readonly string[];

/**
 * Services an Ingress routes to: its backends, and the Services `referenced` says it
 * names besides (its annotation actions), so that a change to a canary's Service or
 * EndpointSlices requeues the group like a backend's.
 */
export function ingressByBackendService(referenced: IngressReferencedServices): IndexFunc<V1Ingress> {
  return (ing) => {
    const ns = ing.metadata?.namespace ?? '';
    const backends: (V1IngressBackend | undefined)[] = [ing.spec?.defaultBackend];
    for (const rule of ing.spec?.rules ?? []) {
      for (const path of rule.http?.paths ?? []) backends.push(path.backend);
    }
    // A use-annotation backend's name is the action's, not a Service's; indexing it is harmless.
    const names = backends.flatMap((b) => (b?.service?.name ? [b.service.name] : []));
    names.push(...referenced(ing));
    // A name with a slash is already namespace/name (a system default backend in kube-system).
    return [...new Set(names)].map((n) => (n.includes('/') ? n : `${ns}/${n}`));
  };
}

export const ingressByTLSSecret: IndexFunc<V1Ingress> = (ing) => {
  const ns = ing.metadata?.namespace ?? '';
  return (ing.spec?.tls ?? []).flatMap((t) => (t.secretName ? [`${ns}/${t.secretName}`] : []));
};

export const endpointSliceByService: IndexFunc<V1EndpointSlice> = (slice) => {
  const svc = slice.metadata?.labels?.[SERVICE_NAME_LABEL];
  return svc ? [`${slice.metadata?.namespace ?? ''}/${svc}`] : [];
};

export const serviceIndexers = { [SERVICE_BY_NODE_PORT]: serviceByNodePort };
/** The Ingress indexes, with the Services `referenced` says an Ingress names beyond its spec. */
export function ingressIndexers(referenced: IngressReferencedServices): Record<string, IndexFunc<V1Ingress>> {
  return {
    [INGRESS_BY_BACKEND_SERVICE]: ingressByBackendService(referenced),
    [INGRESS_BY_TLS_SECRET]: ingressByTLSSecret,
  };
}
export const endpointSliceIndexers = { [ENDPOINTSLICE_BY_SERVICE]: endpointSliceByService };
