// The API kinds lbc watches: for each, its resource, the cache indexes the controller
// looks objects up by, and the selectors that narrow the watch. One definition for the
// controller's informers and for `lbc plan`, which lists the same kinds once so that its
// caches hold what the controller's would, found by the same indexes.
import type { V1EndpointSlice, V1Ingress, V1IngressClass, V1Node, V1Secret, V1Service } from '@kubernetes/client-node';
import type { IndexFunc, KubeObject } from '../kube/cache.js';
import { endpointSliceIndexers, serviceIndexers } from '../kube/indexes.js';
import { EndpointSlices, IngressClasses, Ingresses, Nodes, Secrets, Services, type ResourceType } from '../kube/resources.js';
import type { ProviderSet } from '../providers/registry.js';
import { COMPANION_BY_GROUP, companionByGroup } from './companions.js';
import { SERVICE_BY_BACKEND_CONFIG, serviceByBackendConfig } from './gke-references.js';
import { ingressCacheIndexers } from './ingress-reconciler.js';
import { readsProviderSecrets } from './ingress/provider-secrets.js';
import type { ClassParamsLookups } from './ingress/class-params.js';
import { TLS_SECRET_TYPE } from './tls-secret.js';

export interface WatchedKind<T extends KubeObject> {
  /** The informer's name in logs, readiness and metrics. */
  readonly name: string;
  readonly resource: ResourceType<T>;
  readonly indexers: Record<string, IndexFunc<T>>;
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
}

/** The object type of each watched kind, by the kind's key. */
export interface WatchedObjects {
  readonly services: V1Service;
  readonly ingresses: V1Ingress;
  readonly ingressClasses: V1IngressClass;
  readonly nodes: V1Node;
  readonly endpointSlices: V1EndpointSlice;
  readonly secrets: V1Secret;
}

export type WatchedKinds = { readonly [K in keyof WatchedObjects]: WatchedKind<WatchedObjects[K]> } & {
  /**
   * Opaque Secrets, watched only when a provider's references name Secrets besides TLS
   * ones (ingress/provider-secrets.ts: AWS auth-idp-oidc's OIDC client, an Opaque Secret
   * as ALBC documents it; GKE IAP's OAuth client, a generic Secret as GKE documents it);
   * without such a provider lbc reads no Secret but TLS ones.
   */
  readonly providerSecrets?: WatchedKind<V1Secret>;
};

export interface WatchedKindsOptions {
  /** Their annotation actions name Services the Ingress index must find. */
  readonly providers: Pick<ProviderSet, 'all'>;
  /** Consider only the Nodes matching this label selector. */
  readonly nodeLabelSelector?: string;
  /** The IngressClassParams whose group.name puts Ingresses in a group, where they are read. */
  readonly classParams?: ClassParamsLookups;
}

const OPAQUE_SECRET_TYPE = 'Opaque';

export function watchedKinds(opts: WatchedKindsOptions): WatchedKinds {
  return {
    services: { name: 'services', resource: Services, indexers: { ...serviceIndexers, [COMPANION_BY_GROUP]: companionByGroup, [SERVICE_BY_BACKEND_CONFIG]: serviceByBackendConfig } },
    ingresses: { name: 'ingresses', resource: Ingresses, indexers: ingressCacheIndexers(opts.providers, opts.classParams) },
    ingressClasses: { name: 'ingressclasses', resource: IngressClasses, indexers: {} },
    nodes: { name: 'nodes', resource: Nodes, indexers: {}, ...(opts.nodeLabelSelector ? { labelSelector: opts.nodeLabelSelector } : {}) },
    endpointSlices: { name: 'endpointslices', resource: EndpointSlices, indexers: endpointSliceIndexers },
    // Only TLS Secrets can be Ingress certificates; the others are none of lbc's business.
    secrets: { name: 'secrets', resource: Secrets, indexers: {}, fieldSelector: `type=${TLS_SECRET_TYPE}` },
    ...(readsProviderSecrets(opts.providers.all)
      ? { providerSecrets: { name: 'provider-secrets', resource: Secrets, indexers: {}, fieldSelector: `type=${OPAQUE_SECRET_TYPE}` } }
      : {}),
  };
}

/** What a list or watch of `kind` sends besides paging: its selectors. */
export function selectorsOf(kind: Pick<WatchedKind<KubeObject>, 'labelSelector' | 'fieldSelector'>): { labelSelector?: string; fieldSelector?: string } {
  return {
    ...(kind.labelSelector !== undefined ? { labelSelector: kind.labelSelector } : {}),
    ...(kind.fieldSelector !== undefined ? { fieldSelector: kind.fieldSelector } : {}),
  };
}
