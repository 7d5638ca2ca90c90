// Provider.restore for a provider with one address per load balancer out of one pool
// (memory, local): who keeps the address its status holds, and who does not, and why.
import { olderFirst, type HeldAddresses } from '../model/allocation.js';
import { describeRef, type LbRef } from '../model/ref.js';
import type { RestoreReport } from './types.js';

export interface SinglePool {
  /** For messages: the pool's CIDR. */
  readonly cidr: string;
  /** The object's LB runs already: it keeps that LB's address, whatever its status says. */
  live(ref: LbRef): boolean;
  contains(address: string): boolean;
  /** Keeps `address` for ref; false when something holds it already. */
  take(ref: LbRef, address: string): boolean;
}

/** Oldest first, so that of two objects claiming one address the older keeps it. */
export function keepHeldAddresses(held: readonly HeldAddresses[], pool: SinglePool): RestoreReport {
  let kept = 0;
  const dropped: { ref: LbRef; addresses: readonly string[]; reason: string }[] = [];
  const holders = new Map<string, LbRef>();
  for (const h of [...held].sort(olderFirst)) {
    if (pool.live(h.ref)) continue;
    const address = h.addresses.find((a) => pool.contains(a));
    if (address === undefined) {
      dropped.push({ ref: h.ref, addresses: h.addresses, reason: `not in the pool ${pool.cidr}` });
      continue;
    }
    if (!pool.take(h.ref, address)) {
      const holder = holders.get(address);
      dropped.push({ ref: h.ref, addresses: h.addresses, reason: `${address} is in use by ${holder ? `${describeRef(holder)}, which is older` : 'a load balancer'}` });
      continue;
    }
    holders.set(address, h.ref);
    kept++;
  }
  return { kept, dropped };
}
