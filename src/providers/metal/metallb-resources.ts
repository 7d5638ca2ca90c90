// MetalLB's configuration resources as pools: IPAddressPool (addresses, autoAssign,
// avoidBuggyIPs, serviceAllocation) and L2Advertisement (which pools, which nodes,
// which interfaces, which Services), read as MetalLB's internal/config/config.go reads
// them (addressPoolFromCR, addressPoolServiceAllocationsFromCR,
// setL2AdvertisementsToPools). Pure: the controller and the speaker hand in the objects
// their informers hold and get pools, plus one issue per object that cannot be used.
//
// Where MetalLB refuses the whole configuration when one object is wrong (config.For
// returns an error and the previous configuration stays), lbc refuses only that object:
// every other pool keeps serving, and the bad one gets a Warning Event naming the
// problem. So the order objects are judged in matters: config-file pools first, then
// IPAddressPools oldest first, so a new pool that overlaps an old one is the one refused.
import { z } from 'zod';
import { labelSelectorSchema, selectorMatches, type LabelSelector } from './node-selector.js';
import { parseAddressRange, type AddressRange, type L2Advertisement, type Pool, type ServiceAllocation } from './pools.js';

/** A MetalLB object as the informers hold it (the server's JSON): only what is read here. */
export interface MetalLbObject {
  readonly metadata?: {
    readonly name?: string;
    readonly namespace?: string;
    readonly uid?: string;
    readonly labels?: Readonly<Record<string, string>>;
    readonly creationTimestamp?: string | Date;
  };
  readonly spec?: unknown;
}

/** The object an issue is about, as an Event's involvedObject names it. */
export interface ResourceRef {
  readonly apiVersion: string;
  readonly kind: 'IPAddressPool' | 'L2Advertisement' | 'BGPAdvertisement' | 'BGPPeer' | 'Community' | 'BFDProfile';
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
}

export interface ResourceIssue {
  readonly object: ResourceRef;
  readonly message: string;
}

export interface NamespaceLabels {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
}

export interface MetalLbResources {
  readonly ipAddressPools: readonly MetalLbObject[];
  readonly l2Advertisements: readonly MetalLbObject[];
  /** Judged here only for the pools they name (the speaker reads the rest); the controller passes them, the speaker need not. */
  readonly bgpAdvertisements?: readonly MetalLbObject[];
  /** For serviceAllocation.namespaceSelectors; the speaker, which allocates nothing, may pass none. */
  readonly namespaces: readonly NamespaceLabels[];
}

export interface PoolsFromResources {
  /** The IPAddressPools that can be used, as pools; config-file pools are not repeated here. */
  readonly pools: readonly Pool[];
  readonly issues: readonly ResourceIssue[];
}

const API_VERSION = 'metallb.io/v1beta1';

// The CRDs' schemas, as far as lbc reads them; the API server has checked types and
// required fields already, so these only guard against a server that did not.
const selectors = z.array(labelSelectorSchema).optional();
const poolSpecSchema = z.object({
  addresses: z.array(z.string()).optional(),
  autoAssign: z.boolean().optional(),
  avoidBuggyIPs: z.boolean().optional(),
  serviceAllocation: z
    .object({
      priority: z.number().int().optional(),
      namespaces: z.array(z.string()).optional(),
      namespaceSelectors: selectors,
      serviceSelectors: selectors,
    })
    .optional(),
});
const l2SpecSchema = z.object({
  ipAddressPools: z.array(z.string()).optional(),
  ipAddressPoolSelectors: selectors,
  nodeSelectors: selectors,
  interfaces: z.array(z.string()).optional(),
  serviceSelectors: selectors,
});

export const resourceRef = (kind: ResourceRef['kind'], o: MetalLbObject, apiVersion = API_VERSION): ResourceRef => ({
  apiVersion,
  kind,
  namespace: o.metadata?.namespace ?? '',
  name: o.metadata?.name ?? '',
  uid: o.metadata?.uid ?? '',
});

const createdAt = (o: MetalLbObject): number => {
  const t = o.metadata?.creationTimestamp;
  const ms = t === undefined ? NaN : new Date(t).getTime();
  return Number.isNaN(ms) ? 0 : ms;
};

const byAgeThenName = (a: MetalLbObject, b: MetalLbObject): number => createdAt(a) - createdAt(b) || ((a.metadata?.name ?? '') < (b.metadata?.name ?? '') ? -1 : 1);

function zodMessage(e: z.ZodError): string {
  return e.issues.map((i) => `spec${i.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('')}: ${i.message}`).join('; ');
}

const overlaps = (a: AddressRange, b: AddressRange): boolean => a.family === b.family && a.first <= b.last && b.first <= a.last;

/** The text of a selector, for telling two apart (MetalLB refuses a list with the same selector twice). */
const selectorText = (s: LabelSelector): string => JSON.stringify([Object.entries(s.matchLabels ?? {}).sort(), s.matchExpressions ?? []]);

function duplicate(items: readonly string[]): string | undefined {
  return items.find((x, i) => items.indexOf(x) !== i);
}

/**
 * The pools MetalLB's resources define, next to `configPools` (which always win a clash):
 * a pool named like a config-file pool, one whose addresses do not parse or overlap an
 * older pool's, is left out with an issue naming both sides; an L2Advertisement that
 * names a pool that does not serve gets an issue and still applies to the others.
 */
export function poolsFromResources(res: MetalLbResources, configPools: readonly Pool[]): PoolsFromResources {
  const issues: ResourceIssue[] = [];
  const accepted: { pool: Pool; obj: MetalLbObject }[] = [];
  const taken = configPools.flatMap((p) => p.ranges.map((range) => ({ range, owner: p.origin.kind === 'config' ? `pool "${p.name}" of lbc's config file (${p.origin.path})` : `pool "${p.name}"` })));
  const refused = new Map<string, string>();
  for (const obj of [...res.ipAddressPools].sort(byAgeThenName)) {
    const ref = resourceRef('IPAddressPool', obj);
    const problem = (message: string): void => {
      issues.push({ object: ref, message });
      refused.set(ref.name, message);
    };
    const clash = configPools.find((p) => p.name === ref.name);
    if (clash) {
      problem(`pool "${ref.name}" is defined twice: by IPAddressPool ${ref.namespace}/${ref.name} and by lbc's config file (${clash.origin.kind === 'config' ? clash.origin.path : 'config'}); the config file's is used, rename one`);
      continue;
    }
    const spec = poolSpecSchema.safeParse(obj.spec ?? {});
    if (!spec.success) {
      problem(zodMessage(spec.error));
      continue;
    }
    const s = spec.data;
    const addresses = s.addresses ?? [];
    if (addresses.length === 0) {
      problem('spec.addresses lists no CIDR or range, so the pool has no addresses');
      continue;
    }
    const ranges: AddressRange[] = [];
    const errors: string[] = [];
    addresses.forEach((text, i) => {
      const r = parseAddressRange(text, { maskHostBits: true });
      if (!r.ok) {
        errors.push(`spec.addresses[${i}]: ${r.reason}`);
        return;
      }
      const mine = ranges.find((x) => overlaps(x, r.range));
      if (mine) errors.push(`spec.addresses[${i}]: ${r.range.text} overlaps ${mine.text} of the same pool`);
      const other = taken.find((t) => overlaps(t.range, r.range));
      if (other) errors.push(`spec.addresses[${i}]: ${r.range.text} overlaps ${other.range.text} of ${other.owner}`);
      ranges.push(r.range);
    });
    const alloc = s.serviceAllocation;
    if (alloc) {
      const dupNs = duplicate(alloc.namespaces ?? []);
      if (dupNs !== undefined) errors.push(`spec.serviceAllocation.namespaces lists "${dupNs}" twice`);
      for (const field of ['namespaceSelectors', 'serviceSelectors'] as const) {
        const dup = duplicate((alloc[field] ?? []).map(selectorText));
        if (dup !== undefined) errors.push(`spec.serviceAllocation.${field} has the same selector twice`);
      }
    }
    if (errors.length > 0) {
      problem(`${errors.join('; ')}; the pool is not used until this is fixed`);
      continue;
    }
    for (const range of ranges) taken.push({ range, owner: `IPAddressPool ${ref.namespace}/${ref.name}` });
    accepted.push({
      obj,
      pool: {
        name: ref.name,
        labels: { ...(obj.metadata?.labels ?? {}) },
        ranges,
        autoAssign: s.autoAssign ?? true,
        avoidBuggyIPs: s.avoidBuggyIPs ?? false,
        ...(alloc ? { serviceAllocation: serviceAllocation(alloc, res.namespaces) } : {}),
        l2Advertisements: [],
        origin: { kind: 'IPAddressPool', namespace: ref.namespace, name: ref.name, uid: ref.uid },
      },
    });
  }

  const advertised = new Map<string, L2Advertisement[]>(accepted.map(({ pool }) => [pool.name, []]));
  /**
   * Why each of `named` that is not a served pool is not one, or undefined when all are.
   * BGPAdvertisements select config-file pools by name too (speaker/bgp.ts bgpPools); L2Advertisements do not.
   */
  const missingPools = (named: readonly string[], ref: ResourceRef, configPoolsSelectable: boolean): string | undefined => {
    const why = named
      .filter((name) => !advertised.has(name) && !(configPoolsSelectable && configPools.some((p) => p.name === name)))
      .map((name) => {
        if (refused.has(name)) return `"${name}", which is refused (${refused.get(name) ?? ''})`;
        if (configPools.some((p) => p.name === name)) return `"${name}", which is a pool of lbc's config file (announced by its own nodeSelectors and interfaces), not an IPAddressPool`;
        return `"${name}", which is not an IPAddressPool in ${ref.namespace}`;
      });
    return why.length > 0 ? `spec.ipAddressPools names ${why.join('; ')}; the advertisement applies to the other pools it selects` : undefined;
  };
  for (const obj of [...res.l2Advertisements].sort((a, b) => ((a.metadata?.name ?? '') < (b.metadata?.name ?? '') ? -1 : 1))) {
    const ref = resourceRef('L2Advertisement', obj);
    const spec = l2SpecSchema.safeParse(obj.spec ?? {});
    if (!spec.success) {
      issues.push({ object: ref, message: `${zodMessage(spec.error)}; the advertisement is not used until this is fixed` });
      continue;
    }
    const s = spec.data;
    const named = s.ipAddressPools ?? [];
    const poolSelectors = s.ipAddressPoolSelectors ?? [];
    const dup = duplicate(named);
    const adv: L2Advertisement = { name: ref.name, nodeSelectors: s.nodeSelectors ?? [], interfaces: s.interfaces ?? [], serviceSelectors: s.serviceSelectors ?? [] };
    const targets = new Set<string>();
    if (named.length === 0 && poolSelectors.length === 0) {
      // MetalLB: no pools named and no selector means every pool.
      for (const { pool } of accepted) targets.add(pool.name);
    } else {
      for (const { pool } of accepted) if (poolSelectors.some((sel) => selectorMatches(sel, pool.labels))) targets.add(pool.name);
      for (const name of named) if (advertised.has(name)) targets.add(name);
      const missing = missingPools(named, ref, false);
      if (missing !== undefined) issues.push({ object: ref, message: missing });
    }
    if (dup !== undefined) issues.push({ object: ref, message: `spec.ipAddressPools lists "${dup}" twice` });
    for (const name of targets) advertised.get(name)?.push(adv);
  }
  for (const obj of res.bgpAdvertisements ?? []) {
    const ref = resourceRef('BGPAdvertisement', obj);
    const named = (obj.spec as { ipAddressPools?: unknown } | undefined)?.ipAddressPools;
    const missing = Array.isArray(named) ? missingPools(named.filter((n): n is string => typeof n === 'string'), ref, true) : undefined;
    if (missing !== undefined) issues.push({ object: ref, message: missing });
  }
  return { pools: accepted.map(({ pool }) => ({ ...pool, l2Advertisements: advertised.get(pool.name) ?? [] })), issues };
}

type AllocationSpec = NonNullable<z.output<typeof poolSpecSchema>['serviceAllocation']>;

/**
 * serviceAllocation with its namespaceSelectors resolved against the namespaces as they
 * are now (MetalLB does the same at each config build). One difference: namespaces or
 * namespaceSelectors that match no namespace bind the pool to none here, where MetalLB's
 * empty set stops checking the namespace for a Service that asks for the pool by name.
 */
function serviceAllocation(a: AllocationSpec, namespaces: readonly NamespaceLabels[]): ServiceAllocation {
  const names = new Set(a.namespaces ?? []);
  for (const sel of a.namespaceSelectors ?? []) for (const ns of namespaces) if (selectorMatches(sel, ns.labels)) names.add(ns.name);
  return {
    priority: a.priority ?? 0,
    namespaces: [...names].sort(),
    namespaceBound: (a.namespaces ?? []).length > 0 || (a.namespaceSelectors ?? []).length > 0,
    serviceSelectors: a.serviceSelectors ?? [],
  };
}

/** Whether a pool's serviceAllocation depends on namespace labels (so a Namespace change must rebuild the pools). */
export function usesNamespaceSelectors(res: Pick<MetalLbResources, 'ipAddressPools'>): boolean {
  return res.ipAddressPools.some((o) => {
    const s = poolSpecSchema.safeParse(o.spec ?? {});
    return s.success && (s.data.serviceAllocation?.namespaceSelectors ?? []).length > 0;
  });
}

