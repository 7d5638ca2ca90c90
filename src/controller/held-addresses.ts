// After a (re)start, before the first ensure: each provider that hands addresses out
// itself (Provider.restore) hears which addresses the objects it serves already hold in
// their status, so that it gives every object the one it has instead of the lowest free
// in reconcile order, which after a restart is another order. The statuses are the
// record; no provider keeps one of its own.
import type { V1Service } from '@kubernetes/client-node';
import type { LbcConfig } from '../config/config.js';
import type { HeldAddresses } from '../model/allocation.js';
import type { ProviderSet } from '../providers/registry.js';
import type { CallOptions, Provider, RestoreReport } from '../providers/types.js';
import { serviceOwnership } from './ownership.js';
import { heldAddressesOf } from './service-model.js';

/** The Services this provider serves (or is still removing) whose status holds an address. */
export function heldBy(provider: Provider, services: readonly V1Service[], config: Pick<LbcConfig, 'providers' | 'defaultClass' | 'ingress'>): HeldAddresses[] {
  const held: HeldAddresses[] = [];
  for (const svc of services) {
    const own = serviceOwnership(svc, config);
    if (!own.ours || own.provider !== provider.name) continue;
    const h = heldAddressesOf(svc, provider);
    if (h) held.push(h);
  }
  return held;
}

/** Calls restore() on every provider that has it; by provider name, what each kept and dropped. */
export async function restoreAddresses(
  providers: ProviderSet,
  services: readonly V1Service[],
  config: Pick<LbcConfig, 'providers' | 'defaultClass' | 'ingress'>,
  opts?: CallOptions,
): Promise<Map<string, RestoreReport>> {
  const reports = new Map<string, RestoreReport>();
  for (const p of providers.all) {
    if (!p.restore) continue;
    reports.set(p.name, await p.restore(heldBy(p, services, config), opts));
  }
  return reports;
}
