// The metal provider's allocation state is the Services' statuses: it reads them (and the
// policy and selector its sharing rules compare) from a Service cache, which the controller
// and `lbc plan` hand it before anything asks it for an address.
import type { V1Service } from '@kubernetes/client-node';
import type { LbcConfig } from '../config/config.js';
import type { Cache } from '../kube/cache.js';
import { isMetalProvider } from '../providers/metal/metal-provider.js';
import type { ProviderSet } from '../providers/registry.js';
import { serviceOwnership } from '../config/ownership.js';

/** Whether a Service is one of a given metal provider's. */
export type MetalOwnership = (svc: V1Service) => boolean;

/** Attaches the cache to every metal provider; returns, per provider, which Services are its own. */
export function attachServiceSources(providers: ProviderSet, services: Cache<V1Service>, config: LbcConfig): MetalOwnership[] {
  const owners: MetalOwnership[] = [];
  for (const p of providers.all) {
    if (!isMetalProvider(p)) continue;
    const owns: MetalOwnership = (svc) => {
      const own = serviceOwnership(svc, config);
      return own.ours && own.provider === p.name;
    };
    p.attachServices(services, owns);
    owners.push(owns);
  }
  return owners;
}
