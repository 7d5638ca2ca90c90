// What a provider that hands out addresses (metal, local, memory) needs to know of the
// object a load balancer is for, beyond the load balancer itself: the facts MetalLB's
// sharing rules compare and its restore order weighs, and, after a restart, the
// addresses the objects already hold in their status. The model builders fill them
// from the Kubernetes objects, so no provider reads one.
import { normalizeIp } from './ip.js';
import type { LbRef } from './ref.js';

export type TrafficPolicy = 'Cluster' | 'Local';

export interface AllocationFacts {
  /** Service spec.externalTrafficPolicy: MetalLB lets only Services with the same one share an address. */
  readonly trafficPolicy: TrafficPolicy;
  /**
   * The pod selector as canonical text (`k=v,k=v`, keys sorted; empty when there is
   * none): Local Services share an address only when they select the same pods. Text
   * rather than a hash, so that a refusal can name both selectors.
   */
  readonly selector: string;
  /** creationTimestamp in ms (0 when unknown): of two objects that claim one address, the older keeps it. */
  readonly createdAt: number;
  /** The object's labels: MetalLB's IPAddressPool serviceAllocation.serviceSelectors match them. Absent: none. */
  readonly labels?: Readonly<Record<string, string>>;
}

/** One port a load balancer serves, as an address allocator compares them between sharers. */
export interface PortUse {
  readonly protocol: string;
  readonly port: number;
}

/**
 * The addresses an object's status names as its load balancer's, for Provider.restore():
 * after a restart a provider that hands addresses out gives each object the one it
 * already has, if that is still valid, instead of the lowest free in reconcile order.
 */
export interface HeldAddresses<O extends object = object> {
  readonly ref: LbRef;
  /** The IP addresses of status.loadBalancer.ingress, canonical, without duplicates, in order. */
  readonly addresses: readonly string[];
  readonly allocation: AllocationFacts;
  readonly ports: readonly PortUse[];
  /** The addresses the object asks for by field (spec.loadBalancerIP), canonical. */
  readonly requestedAddresses: readonly string[];
  /** The provider's options parsed from the object's annotations; absent when they do not parse. */
  readonly providerOptions?: O;
}

/** A label selector as canonical text: `k=v,k=v`, keys sorted. */
export function selectorText(selector: Readonly<Record<string, string>> | undefined): string {
  return Object.entries(selector ?? {})
    .sort(([a], [b]) => cmp(a, b))
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

/** Oldest first, then by name and uid, so that every restore settles a dispute the same way. */
export function olderFirst(a: HeldAddresses, b: HeldAddresses): number {
  return a.allocation.createdAt - b.allocation.createdAt || cmp(refText(a.ref), refText(b.ref)) || cmp(a.ref.uid, b.ref.uid);
}

const refText = (r: LbRef): string => `${r.kind}/${r.namespace}/${r.name}`;
const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** The IP addresses in status.loadBalancer.ingress (of a Service or an Ingress), canonical, without duplicates. */
export function statusAddresses(obj: { status?: { loadBalancer?: { ingress?: readonly { ip?: string }[] } } }): string[] {
  const out: string[] = [];
  for (const i of obj.status?.loadBalancer?.ingress ?? []) {
    const ip = i.ip === undefined ? undefined : normalizeIp(i.ip);
    if (ip !== undefined && !out.includes(ip)) out.push(ip);
  }
  return out;
}
