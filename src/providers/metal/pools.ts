// Address pools: what the `addresses` entries (of the config file, or of MetalLB's
// IPAddressPool resources) mean as ranges of integers, who may be given them
// (serviceAllocation) and how they are announced in layer 2 (the L2Advertisements that
// select them), and the checks (every entry parses, no two ranges overlap, within a pool
// or across pools). Pure.
import { formatIp, parseCidr, parseIp, type IpFamilyNumber } from '../../model/ip.js';
import { anySelectorMatches, type LabelSelector } from './node-selector.js';

export interface AddressRange {
  readonly family: IpFamilyNumber;
  readonly first: bigint;
  readonly last: bigint;
  /** As written in the config, for messages. */
  readonly text: string;
}

/** Where a pool was defined, to name it in messages and to put Events on it. */
export type PoolOrigin =
  | { readonly kind: 'config'; /** `pools[1]`, relative to the provider's options. */ readonly path: string }
  | { readonly kind: 'IPAddressPool'; readonly namespace: string; readonly name: string; readonly uid: string };

/**
 * Which Services a pool gives addresses to (IPAddressPool spec.serviceAllocation). A
 * Service matches when it is in one of `namespaces` (when any are listed) and one of
 * `serviceSelectors` matches its labels (when any are given), as MetalLB's
 * isPoolCompatibleWithService.
 */
export interface ServiceAllocation {
  /** Lower goes first; 0 (unset) after every pool with a priority (MetalLB's sortPools). */
  readonly priority: number;
  /** spec.serviceAllocation.namespaces plus the namespaces its namespaceSelectors match now. */
  readonly namespaces: readonly string[];
  /** Whether namespaces or namespaceSelectors were given at all: if so, a Service outside `namespaces` does not match even when it is empty. */
  readonly namespaceBound: boolean;
  readonly serviceSelectors: readonly LabelSelector[];
}

/** One way a pool is announced in layer 2 (an L2Advertisement, or a config-file pool's own nodeSelectors/interfaces). */
export interface L2Advertisement {
  /** The L2Advertisement's name, or `pool <name>` for a config-file pool, for messages. */
  readonly name: string;
  /** Nodes that may announce (any of the selectors); empty: every node. */
  readonly nodeSelectors: readonly LabelSelector[];
  /** Interfaces to announce on; empty: the interface whose network holds the address. */
  readonly interfaces: readonly string[];
  /** Services it applies to (any of the selectors); empty: every Service. */
  readonly serviceSelectors: readonly LabelSelector[];
}

export interface Pool {
  readonly name: string;
  /** The IPAddressPool's labels (BGP and L2 advertisements select pools by them); empty for a config-file pool. */
  readonly labels: Readonly<Record<string, string>>;
  /** Its addresses: each CIDR or range as written, as integers. */
  readonly ranges: readonly AddressRange[];
  /** Whether Services that name no pool may get addresses from this one. */
  readonly autoAssign: boolean;
  /** Skip IPv4 addresses ending in .0 and .255, which some old routers drop. */
  readonly avoidBuggyIPs: boolean;
  /** Absent: any Service may get its addresses (and it comes after every pool that has one). */
  readonly serviceAllocation?: ServiceAllocation;
  /**
   * How its addresses are announced in layer 2. A config-file pool has one (its own
   * nodeSelectors and interfaces); an IPAddressPool those that select it, and, as in
   * MetalLB, none means its addresses are handed out but not announced in layer 2.
   */
  readonly l2Advertisements: readonly L2Advertisement[];
  readonly origin: PoolOrigin;
}

export function ipToBigInt(ip: string): { family: IpFamilyNumber; value: bigint } | undefined {
  const p = parseIp(ip);
  if (!p) return undefined;
  let value = 0n;
  for (const b of p.bytes) value = (value << 8n) | BigInt(b);
  return { family: p.family, value };
}

export function bigIntToIp(family: IpFamilyNumber, value: bigint): string {
  const n = family === 4 ? 4 : 16;
  const bytes: number[] = new Array<number>(n);
  let v = value;
  for (let i = n - 1; i >= 0; i--) {
    bytes[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return formatIp({ family, bytes });
}

export type RangeResult = { readonly ok: true; readonly range: AddressRange } | { readonly ok: false; readonly reason: string };

/**
 * One `addresses` entry: a CIDR (`192.168.10.0/24`, `fc00::/120`) or a range
 * (`192.168.10.5-192.168.10.9`). A CIDR with host bits set is refused unless
 * `maskHostBits` (IPAddressPools: MetalLB's ParseCIDR takes Go's net.ParseCIDR network,
 * so `192.168.10.1/24` means the /24 there, and a manifest written for it must keep working).
 */
export function parseAddressRange(text: string, opts: { maskHostBits?: boolean } = {}): RangeResult {
  const t = text.trim();
  const dash = t.indexOf('-');
  if (dash >= 0) {
    const a = ipToBigInt(t.slice(0, dash).trim());
    const b = ipToBigInt(t.slice(dash + 1).trim());
    if (!a || !b) return { ok: false, reason: `"${text}" is not a range of two IP addresses (first-last)` };
    if (a.family !== b.family) return { ok: false, reason: `"${text}" mixes IPv4 and IPv6` };
    if (a.value > b.value) return { ok: false, reason: `"${text}" ends before it starts` };
    return { ok: true, range: { family: a.family, first: a.value, last: b.value, text: t } };
  }
  if (!t.includes('/')) return { ok: false, reason: `"${text}" is neither a CIDR nor a range (write a single address as ${t}/${t.includes(':') ? 128 : 32})` };
  const c = parseCidr(t);
  if (!c.ok) return { ok: false, reason: c.reason };
  // parseCidr masks host bits; a pool written with them set is almost always a typo.
  if (!opts.maskHostBits && normalizedCidr(t) !== c.cidr) {
    return { ok: false, reason: `"${text}" has host bits set (did you mean ${c.cidr}?)` };
  }
  const net = ipToBigInt(c.cidr.slice(0, c.cidr.indexOf('/')));
  if (!net) return { ok: false, reason: `"${text}" is not a CIDR` };
  const bits = BigInt((c.family === 4 ? 32 : 128) - c.prefix);
  return { ok: true, range: { family: c.family, first: net.value, last: net.value + (1n << bits) - 1n, text: t } };
}

// The CIDR as written, with its address in canonical form: equal to parseCidr's output
// exactly when no host bits are set.
function normalizedCidr(text: string): string {
  const slash = text.indexOf('/');
  const ip = parseIp(text.slice(0, slash));
  return ip ? `${formatIp(ip)}${text.slice(slash)}` : text;
}

export function rangeSize(r: AddressRange): bigint {
  return r.last - r.first + 1n;
}

export function rangeContains(r: AddressRange, family: IpFamilyNumber, value: bigint): boolean {
  return r.family === family && value >= r.first && value <= r.last;
}

/** An address .0 or .255 in its last octet: IPv4 only, as MetalLB's avoidBuggyIPs. */
export function isBuggyIp(family: IpFamilyNumber, value: bigint): boolean {
  if (family !== 4) return false;
  const last = value & 0xffn;
  return last === 0n || last === 255n;
}

export interface PoolInput {
  readonly name: string;
  readonly addresses: readonly string[];
  readonly autoAssign: boolean;
  readonly avoidBuggyIPs: boolean;
  readonly nodeSelectors: readonly LabelSelector[];
  readonly interfaces: readonly string[];
}

export interface PoolIssue {
  /** `pools[1].addresses[0]`, relative to the provider's options. */
  readonly path: string;
  readonly message: string;
}

/** Pools from the validated config file, or every problem found (parse errors, overlaps naming both pools). */
export function buildPools(inputs: readonly PoolInput[]): { ok: true; pools: Pool[] } | { ok: false; issues: PoolIssue[] } {
  const issues: PoolIssue[] = [];
  const pools: Pool[] = [];
  const seen: { pool: string; path: string; range: AddressRange }[] = [];
  const names = new Map<string, number>();
  inputs.forEach((input, i) => {
    const dup = names.get(input.name);
    if (dup !== undefined) issues.push({ path: `pools[${i}].name`, message: `pool "${input.name}" is already defined by pools[${dup}]` });
    else names.set(input.name, i);
    const ranges: AddressRange[] = [];
    input.addresses.forEach((text, j) => {
      const path = `pools[${i}].addresses[${j}]`;
      const r = parseAddressRange(text);
      if (!r.ok) {
        issues.push({ path, message: r.reason });
        return;
      }
      for (const other of seen) {
        if (other.range.family === r.range.family && r.range.first <= other.range.last && other.range.first <= r.range.last) {
          const where = other.pool === input.name ? `another entry of the same pool (${other.path})` : `pool "${other.pool}" (${other.path}: ${other.range.text})`;
          issues.push({ path, message: `${r.range.text} of pool "${input.name}" overlaps ${where}` });
        }
      }
      seen.push({ pool: input.name, path, range: r.range });
      ranges.push(r.range);
    });
    const { addresses: _addresses, nodeSelectors, interfaces, ...rest } = input;
    pools.push({
      ...rest,
      labels: {},
      ranges,
      l2Advertisements: [{ name: `pool ${input.name}`, nodeSelectors, interfaces, serviceSelectors: [] }],
      origin: { kind: 'config', path: `pools[${i}]` },
    });
  });
  return issues.length > 0 ? { ok: false, issues } : { ok: true, pools };
}

/** The Service a pool's serviceAllocation is checked against. */
export interface ServiceSubject {
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
}

/** Whether `pool` may give `svc` addresses, as MetalLB's isPoolCompatibleWithService (internal/allocator/allocator.go). */
export function poolServes(pool: Pool, svc: ServiceSubject): boolean {
  const a = pool.serviceAllocation;
  if (!a) return true;
  if (a.namespaceBound && !a.namespaces.includes(svc.namespace)) return false;
  return anySelectorMatches(a.serviceSelectors, svc.labels);
}

/** Why `pool` does not serve `svc`, for messages; undefined when it does. */
export function notServedReason(pool: Pool, svc: ServiceSubject): string | undefined {
  const a = pool.serviceAllocation;
  if (!a || poolServes(pool, svc)) return undefined;
  if (a.namespaceBound && !a.namespaces.includes(svc.namespace)) {
    return `pool "${pool.name}" serves only namespaces ${a.namespaces.length > 0 ? a.namespaces.join(', ') : '(none now)'} (serviceAllocation), not ${svc.namespace}`;
  }
  return `pool "${pool.name}" serves only Services its serviceAllocation.serviceSelectors match, and none matches this one's labels`;
}

/** The pool holding `ip` (pools never overlap, so at most one). */
export function poolOf(pools: readonly Pool[], ip: string): Pool | undefined {
  const v = ipToBigInt(ip);
  if (!v) return undefined;
  return pools.find((p) => p.ranges.some((r) => rangeContains(r, v.family, v.value)));
}
