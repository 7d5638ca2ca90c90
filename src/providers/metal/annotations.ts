// The metal provider's annotations: MetalLB's names (both its old
// metallb.universe.tf/ and its current metallb.io/ prefix, so manifests written for
// either work) and lbc.dev/ equivalents. Setting two spellings of one annotation to
// different values is an error, not a silent precedence rule.
import { annotation, parseAnnotations, string, type ValueParser } from '../../model/annotations.js';
import { normalizeIp, parseIp } from '../../model/ip.js';
import type { ModelError } from '../../model/validation.js';

export const LOADBALANCER_IPS = ['lbc.dev/load-balancer-ips', 'metallb.io/loadBalancerIPs', 'metallb.universe.tf/loadBalancerIPs'] as const;
export const ADDRESS_POOL = ['lbc.dev/address-pool', 'metallb.io/address-pool', 'metallb.universe.tf/address-pool'] as const;
export const ALLOW_SHARED_IP = ['lbc.dev/allow-shared-ip', 'metallb.io/allow-shared-ip', 'metallb.universe.tf/allow-shared-ip'] as const;

export const METAL_ANNOTATION_PREFIXES = ['metallb.universe.tf/', 'metallb.io/'] as const;

/**
 * The pool a Service's address came from, written by the controller as MetalLB's does
 * (controller/service.go convergeBalancer; it deletes the deprecated
 * metallb.universe.tf/ spelling at the same time).
 */
export const IP_ALLOCATED_FROM_POOL = 'metallb.io/ip-allocated-from-pool';
export const DEPRECATED_IP_ALLOCATED_FROM_POOL = 'metallb.universe.tf/ip-allocated-from-pool';

/** What the metal provider reads from a Service's annotations. */
export interface MetalLbOptions {
  /** Requested addresses (canonical text), at most one per family. */
  readonly addresses: readonly string[];
  /** The annotation the addresses came from, for messages. */
  readonly addressesAnnotation?: string;
  readonly pool?: string;
  readonly poolAnnotation?: string;
  /** Services with the same key may share an address (MetalLB's allow-shared-ip). */
  readonly sharingKey?: string;
  readonly sharingKeyAnnotation?: string;
}

/** `ip[,ip]`: at most one IPv4 and one IPv6 address, as MetalLB reads loadBalancerIPs. */
export function addressList(): ValueParser<string[]> {
  return (raw) => {
    const items = raw.split(',').map((s) => s.trim());
    if (items.some((s) => s === '')) return { ok: false, reason: `${JSON.stringify(raw)} has an empty item` };
    const out: string[] = [];
    const families = new Set<number>();
    for (const item of items) {
      const p = parseIp(item);
      const ip = normalizeIp(item);
      if (!p || ip === undefined) return { ok: false, reason: `${JSON.stringify(item)} is not an IP address` };
      if (families.has(p.family)) return { ok: false, reason: `lists two IPv${p.family} addresses; at most one per family` };
      families.add(p.family);
      out.push(ip);
    }
    return { ok: true, value: out };
  };
}

// Any text, as MetalLB compares it verbatim.
const SHARING_KEY = string({ maxLength: 253 });
const POOL_NAME = string({ maxLength: 63, pattern: /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, expected: 'a pool name' });

export const metalAnnotations = {
  addresses: annotation(LOADBALANCER_IPS, addressList()),
  pool: annotation(ADDRESS_POOL, POOL_NAME),
  sharingKey: annotation(ALLOW_SHARED_IP, SHARING_KEY),
};

const firstSet = (annotations: Readonly<Record<string, string>>, names: readonly string[]): string | undefined =>
  names.find((n) => annotations[n] !== undefined);

/**
 * Parses the annotations; `poolNames` are the configured pools, so a pool name that
 * does not exist is reported here, naming the annotation, before anything is allocated.
 */
export function parseMetalAnnotations(
  annotations: Readonly<Record<string, string>>,
  poolNames: readonly string[],
): { ok: true; options: MetalLbOptions } | { ok: false; errors: ModelError[] } {
  const r = parseAnnotations(metalAnnotations, annotations);
  if (!r.ok) return { ok: false, errors: [...r.errors] };
  const errors: ModelError[] = [];
  const poolAnnotation = firstSet(annotations, ADDRESS_POOL);
  if (r.value.pool !== undefined && !poolNames.includes(r.value.pool)) {
    errors.push({ annotation: poolAnnotation ?? ADDRESS_POOL[0], reason: `pool "${r.value.pool}" is not configured (pools: ${poolNames.join(', ')})` });
  }
  if (errors.length > 0) return { ok: false, errors };
  const addressesAnnotation = firstSet(annotations, LOADBALANCER_IPS);
  const sharingKeyAnnotation = firstSet(annotations, ALLOW_SHARED_IP);
  return {
    ok: true,
    options: {
      addresses: r.value.addresses ?? [],
      ...(addressesAnnotation !== undefined && r.value.addresses !== undefined ? { addressesAnnotation } : {}),
      ...(r.value.pool !== undefined ? { pool: r.value.pool, poolAnnotation: poolAnnotation ?? ADDRESS_POOL[0] } : {}),
      ...(r.value.sharingKey !== undefined ? { sharingKey: r.value.sharingKey, sharingKeyAnnotation: sharingKeyAnnotation ?? ALLOW_SHARED_IP[0] } : {}),
    },
  };
}
