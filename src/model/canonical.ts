// One canonical form per spec, so "did the desired state change" is a string compare.
// Orders that carry no meaning (targets, listeners, target sets, CIDRs, tags, object
// keys) are sorted; orders that do (rules, ipFamilies, requestedAddresses) are kept.
import { createHash } from 'node:crypto';
import type { LoadBalancerSpec, NodeAddress, NodeTarget, PodTarget, TargetSet, TlsCertificate } from './spec.js';

/** JSON with object keys sorted at every depth and undefined members dropped. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map((v) => (v === undefined ? null : sortKeys(v)));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of sortInPlace(Object.keys(value))) {
      const v = (value as Record<string, unknown>)[k];
      if (v !== undefined) out[k] = sortKeys(v);
    }
    return out;
  }
  return value;
}

// An object's few keys sorted where they are, in code-unit order as Array#sort's
// default: V8's sort copies every array into a work array first, and for the spec
// digest of each reconcile those copies were 4% of all the cold start allocated (#21).
const INSERTION_SORT_MAX = 16;
function sortInPlace(keys: string[]): string[] {
  if (keys.length > INSERTION_SORT_MAX) return keys.sort();
  for (let i = 1; i < keys.length; i++) {
    const k = keys[i] as string;
    let j = i - 1;
    for (; j >= 0 && (keys[j] as string) > k; j--) keys[j + 1] = keys[j] as string;
    keys[j + 1] = k;
  }
  return keys;
}

const byString = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const uniqueSorted = (xs: readonly string[]): string[] => [...new Set(xs)].sort(byString);

const addressOrder = (a: NodeAddress, b: NodeAddress): number => byString(a.type, b.type) || byString(a.address, b.address);
const nodeOrder = (a: NodeTarget, b: NodeTarget): number => byString(a.name, b.name);

function isSorted<T>(xs: readonly T[], order: (a: T, b: T) => number): boolean {
  for (let i = 1; i < xs.length; i++) if (order(xs[i - 1] as T, xs[i] as T) > 0) return false;
  return true;
}

function canonicalNode(n: NodeTarget): NodeTarget {
  return isSorted(n.addresses, addressOrder) ? n : { ...n, addresses: [...n.addresses].sort(addressOrder) };
}

/**
 * Already canonical (the builders emit them so), the same list comes back rather than a
 * copy: a provider that keeps canonical specs (memory, local) then shares the one node
 * list every spec was built with, instead of holding a copy per load balancer.
 */
function canonicalNodes(targets: readonly NodeTarget[]): readonly NodeTarget[] {
  if (canonicalFrozenLists.has(targets)) return targets;
  if (!nodesCanonical(targets)) return targets.map(canonicalNode).sort(nodeOrder);
  if (Object.isFrozen(targets) && targets.every(Object.isFrozen)) canonicalFrozenLists.add(targets);
  return targets;
}

/**
 * Node lists found canonical that can no longer change: frozen, and their nodes frozen
 * (the controller's shared lists, see toNodeTargets). Every spec of a cold start carries
 * the same list, and checking its order again for each of them (100 nodes, each one's
 * addresses) was ~1% of the cold start's samples under the memory provider's ensure (#21).
 * A list that is not frozen is checked every time: its owner may still sort or fill it.
 */
const canonicalFrozenLists = new WeakSet<readonly NodeTarget[]>();

/** isSorted by name, and each node's addresses sorted, in one loop without callbacks. */
function nodesCanonical(targets: readonly NodeTarget[]): boolean {
  let prev: NodeTarget | undefined;
  for (const n of targets) {
    if (prev !== undefined && nodeOrder(prev, n) > 0) return false;
    prev = n;
    const as = n.addresses;
    for (let i = 1; i < as.length; i++) if (addressOrder(as[i - 1] as NodeAddress, as[i] as NodeAddress) > 0) return false;
  }
  return true;
}

const podOrder = (a: PodTarget, b: PodTarget): number => byString(a.ip, b.ip) || a.port - b.port;

function canonicalTargetSet(ts: TargetSet): TargetSet {
  if (ts.type === 'instance') {
    const targets = canonicalNodes(ts.targets);
    return targets === ts.targets ? ts : { ...ts, targets };
  }
  return { ...ts, targets: [...ts.targets].sort(podOrder) };
}

function certKey(c: TlsCertificate): string {
  return c.source === 'secret' ? `secret:${c.secretRef.namespace}/${c.secretRef.name}` : `provider:${c.id}`;
}

function canonicalCert(c: TlsCertificate): TlsCertificate {
  return { ...c, hosts: uniqueSorted(c.hosts) };
}

/** The same spec with meaningless orders sorted; safe to hash or compare. */
export function canonicalSpec<S extends LoadBalancerSpec>(spec: S): S {
  const common = {
    targetSets: spec.targetSets.map(canonicalTargetSet).sort((a, b) => byString(a.name, b.name)),
    sourceRanges: uniqueSorted(spec.sourceRanges),
  };
  if (spec.layer === 'L4') {
    const listeners = [...spec.listeners].sort((a, b) => a.port - b.port || byString(a.protocol, b.protocol));
    return { ...spec, ...common, listeners };
  }
  if (spec.layer === 'Gateway') {
    // Listener and rule orders carry meaning (precedence); only certificates and ports do not.
    const certs = <L extends { readonly certificates: readonly TlsCertificate[] }>(l: L): L => ({ ...l, certificates: l.certificates.map(canonicalCert).sort((a, b) => byString(certKey(a), certKey(b))) });
    const ports = spec.ports
      .map((p) =>
        p.protocol === 'HTTPS'
          ? { ...p, listeners: p.listeners.map(certs) }
          : p.protocol === 'TLS'
            ? { ...p, listeners: p.listeners.map(certs), ...(p.https ? { https: p.https.map(certs) } : {}) }
            : p,
      )
      .sort((a, b) => a.port - b.port || byString(a.protocol, b.protocol));
    return { ...spec, ...common, ports };
  }
  const listeners = spec.listeners
    .map((l) =>
      l.protocol === 'HTTPS'
        ? { ...l, certificates: l.certificates.map(canonicalCert).sort((a, b) => byString(certKey(a), certKey(b))) }
        : l,
    )
    .sort((a, b) => a.port - b.port || byString(a.protocol, b.protocol));
  return { ...spec, ...common, listeners };
}

/** True when the two specs ask for the same load balancer. */
export function specEqual(a: LoadBalancerSpec, b: LoadBalancerSpec): boolean {
  return canonicalEqual(canonicalSpec(a), canonicalSpec(b));
}

/**
 * Whether canonicalJson(a) === canonicalJson(b), found without writing either string:
 * serialising both sides of every compare, a target set's 100 node targets twice per
 * no-op ensure, made the memory provider's resync cost ~130 µs per LB (#21). The walk
 * mirrors canonicalJson (key order ignored, undefined, function and symbol members
 * absent, such array items null, any other object by its own keys) and stops at the
 * first shared reference: specs built from one node list share it.
 */
export function canonicalEqual(a: unknown, b: unknown): boolean {
  return equalAsCanonical(a, b, false);
}

function equalAsCanonical(a: unknown, b: unknown, inArray: boolean): boolean {
  if (a === b) return true;
  const objA = a !== null && typeof a === 'object';
  const objB = b !== null && typeof b === 'object';
  if (!objA || !objB) return !objA && !objB && leafJson(a, inArray) === leafJson(b, inArray);
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!equalAsCanonical(a[i], b[i], true)) return false;
    return true;
  }
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  let members = 0;
  for (const k of Object.keys(ra)) {
    if (!present(ra[k])) continue;
    members++;
    if (!Object.hasOwn(rb, k) || !equalAsCanonical(ra[k], rb[k], false)) return false;
  }
  for (const k of Object.keys(rb)) if (present(rb[k])) members--;
  return members === 0;
}

/**
 * JSON.stringify(a) === JSON.stringify(b), key order and all, without writing either out
 * when a walk of the two shows them equal (the usual answer where it is asked): the
 * JSON.stringify calls of every reconcile's sameModelInputs were 0.75% of the cold
 * start's samples (#21). Unlike canonicalEqual, key order counts.
 */
export function jsonEqual(a: unknown, b: unknown): boolean {
  return plainlyEqual(a, b) || JSON.stringify(a) === JSON.stringify(b);
}

// True only when JSON.stringify would write a and b the same: the same value, or arrays
// and plain objects (no toJSON) with the same keys in the same order and such values
// under them. False says nothing: the caller then compares the JSON.
function plainlyEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!plainlyEqual(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b) || Object.getPrototypeOf(a) !== Object.prototype || Object.getPrototypeOf(b) !== Object.prototype) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  for (let i = 0; i < ka.length; i++) {
    const k = ka[i] as string;
    if (k !== kb[i] || k === 'toJSON' || !plainlyEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
  }
  return true;
}

/** What canonicalJson writes for a non-object: undefined for a member it leaves out. */
const leafJson = (v: unknown, inArray: boolean): string | undefined => (JSON.stringify(v) as string | undefined) ?? (inArray ? 'null' : undefined);
const present = (v: unknown): boolean => v !== undefined && typeof v !== 'function' && typeof v !== 'symbol';

/** A short stable digest of the canonical spec, for annotations, logs and change detection. */
export function specHash(spec: LoadBalancerSpec): string {
  return createHash('sha256').update(canonicalJson(canonicalSpec(spec))).digest('hex').slice(0, 16);
}
