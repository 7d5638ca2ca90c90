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

export const ingressByBackendService: IndexFunc<V1Ingress> = (ing) => {
  const ns = ing.metadata?.namespace ?? '';
  const backends: (V1IngressBackend | undefined)[] = [ing.spec?.defaultBackend];
  for (const rule of ing.spec?.rules ?? []) {
    for (const path of rule.http?.paths ?? []) backends.push(path.backend);
  }
  return backends.flatMap((b) => (b?.service?.name ? [`${ns}/${b.service.name}`] : []));
};

export const ingressByTLSSecret: IndexFunc<V1Ingress> = (ing) => {
  const ns = ing.metadata?.namespace ?? '';
  return (ing.spec?.tls ?? []).flatMap((t) => (t.secretName ? [`${ns}/${t.secretName}`] : []));
};

export const endpointSliceByService: IndexFunc<V1EndpointSlice> = (slice) => {
  const svc = slice.metadata?.labels?.[SERVICE_NAME_LABEL];
  return svc ? [`${slice.metadata?.namespace ?? ''}/${svc}`] : [];
};

export const serviceIndexers = { [SERVICE_BY_NODE_PORT]: serviceByNodePort };
export const ingressIndexers = {
  [INGRESS_BY_BACKEND_SERVICE]: ingressByBackendService,
  [INGRESS_BY_TLS_SECRET]: ingressByTLSSecret,
};
export const endpointSliceIndexers = { [ENDPOINTSLICE_BY_SERVICE]: endpointSliceByService };
