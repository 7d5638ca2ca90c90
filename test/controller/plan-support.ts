// Inputs for planCluster built from plain objects: the same caches (and indexers) the
// controller's informers fill, Pods read from a list, and a provider set around given providers.
import type { V1EndpointSlice, V1Ingress, V1IngressClass, V1Node, V1Pod, V1Secret, V1Service } from '@kubernetes/client-node';
import type { LbcConfig } from '../../src/config/config.js';
import type { PlanInputs } from '../../src/controller/plan.js';
import { watchedKinds } from '../../src/controller/watched-kinds.js';
import { Cache } from '../../src/kube/cache.js';
import type { ProviderSet } from '../../src/providers/registry.js';
import type { Provider } from '../../src/providers/types.js';

export function providerSet(config: LbcConfig, providers: readonly Provider[]): ProviderSet {
  const byName = (n: string) => providers.find((p) => p.name === n);
  const classOf = (n: string) => config.providers.find((p) => p.name === n)?.class;
  return {
    all: providers,
    byName,
    byClass: (c) => byName(config.providers.find((p) => p.class === c)?.name ?? ''),
    classOf,
    defaultProvider: config.defaultClass === undefined ? undefined : byName(config.providers.find((p) => p.class === config.defaultClass)?.name ?? ''),
    close: async () => {
      await Promise.all(providers.map((p) => p.close?.()));
    },
  };
}

function fill<T extends { metadata?: { name?: string } }>(cache: Cache<T & object>, items: readonly T[]): Cache<T & object> {
  for (const i of items) cache.set(i as T & object);
  return cache;
}

export interface World {
  services?: readonly V1Service[];
  ingresses?: readonly V1Ingress[];
  ingressClasses?: readonly V1IngressClass[];
  endpointSlices?: readonly V1EndpointSlice[];
  secrets?: readonly V1Secret[];
  nodes?: readonly V1Node[];
  /** What the API server would answer to a GET of a Pod (the readiness probes health checks follow). */
  pods?: readonly V1Pod[];
}

export function planInputs(config: LbcConfig, providers: ProviderSet, w: World): PlanInputs {
  const kinds = watchedKinds({ providers });
  return {
    config,
    providers,
    services: fill(new Cache<V1Service>(kinds.services.indexers), w.services ?? []),
    ingresses: fill(new Cache<V1Ingress>(kinds.ingresses.indexers), w.ingresses ?? []),
    ingressClasses: w.ingressClasses ?? [],
    endpointSlices: fill(new Cache<V1EndpointSlice>(kinds.endpointSlices.indexers), w.endpointSlices ?? []),
    secrets: fill(new Cache<V1Secret>(kinds.secrets.indexers), w.secrets ?? []),
    ...(kinds.providerSecrets ? { providerSecrets: fill(new Cache<V1Secret>(kinds.providerSecrets.indexers), (w.secrets ?? []).filter((s) => s.type === 'Opaque')) } : {}),
    nodes: w.nodes ?? [],
    pods: { read: async (namespace, name) => w.pods?.find((p) => p.metadata?.namespace === namespace && p.metadata.name === name) },
  };
}
