// After a (re)start, before the first ensure: each provider that hands addresses out
// itself (Provider.restore) hears which addresses the objects it serves already hold in
// their status, so that it gives every object the one it has instead of the lowest free
// in reconcile order, which after a restart is another order. The statuses are the
// record; no provider keeps one of its own.
import type { V1Ingress, V1IngressClass, V1Service } from '@kubernetes/client-node';
import type { HeldAddresses } from '../model/allocation.js';
import type { ProviderSet } from '../providers/registry.js';
import type { CallOptions, Provider, RestoreReport } from '../providers/types.js';
import { decideGroup, groupKeyOf, refOf } from './ingress-reconciler.js';
import type { ClassParamsLookups } from './ingress/class-params.js';
import { serviceOwnership, type OwnershipConfig } from '../config/ownership.js';
import { statusAddresses } from '../model/allocation.js';
import { heldAddressesOf, timeOf } from './service-model.js';

/** The objects whose statuses hold addresses: the controller's caches, or lbc plan's lists. */
export interface AddressHolders {
  readonly services: readonly V1Service[];
  readonly ingresses: readonly V1Ingress[];
  readonly ingressClasses: readonly V1IngressClass[];
  /** IngressClassParams, where they are read: their group.name groups Ingresses. */
  readonly classParams?: ClassParamsLookups;
}

/**
 * The Services and Ingress load balancers this provider serves whose status holds an
 * address. An Ingress group's members all carry its load balancer's status: the first
 * that has one speaks for the group, which is as old as its oldest member.
 */
export function heldBy(provider: Provider, objects: AddressHolders, config: OwnershipConfig): HeldAddresses[] {
  const held: HeldAddresses[] = [];
  for (const svc of objects.services) {
    const own = serviceOwnership(svc, config);
    if (!own.ours || own.provider !== provider.name) continue;
    const h = heldAddressesOf(svc, provider);
    if (h) held.push(h);
  }
  const groups = new Map<string, V1Ingress[]>();
  for (const ing of objects.ingresses) {
    const key = groupKeyOf(ing, objects.classParams);
    groups.set(key, [...(groups.get(key) ?? []), ing]);
  }
  for (const [key, members] of groups) {
    const d = decideGroup(members, objects.ingressClasses, config, objects.classParams);
    if (d.kind !== 'serve' || d.first.provider !== provider.name) continue;
    const ref = refOf(key, d.first.ing);
    const addresses = d.mine.map((m) => statusAddresses(m.ing)).find((a) => a.length > 0);
    if (!ref || !addresses) continue;
    const createdAt = Math.min(...d.mine.map((m) => timeOf(m.ing.metadata?.creationTimestamp)));
    held.push({ ref, addresses, allocation: { trafficPolicy: 'Cluster', selector: '', createdAt }, ports: [], requestedAddresses: [] });
  }
  return held;
}

/** Calls restore() on every provider that has it; by provider name, what each kept and dropped. */
export async function restoreAddresses(providers: ProviderSet, objects: AddressHolders, config: OwnershipConfig, opts?: CallOptions): Promise<Map<string, RestoreReport>> {
  const reports = new Map<string, RestoreReport>();
  for (const p of providers.all) {
    if (!p.restore) continue;
    reports.set(p.name, await p.restore(heldBy(p, objects, config), opts));
  }
  return reports;
}
