// A provider that keeps its "cloud" in memory and records everything asked of it. Tests
// and the benchmark use it to watch the reconciler: which calls it made, with which
// specs, how many of them wrote anything, and how it copes with failure, throttling and
// calls that never return.
import { GATEWAY_FEATURES } from '../../model/gateway-features.js';
import { hash } from 'node:crypto';
import { sleep } from '../../kube/sleep.js';
import { annotation, oneOf, parseAnnotations } from '../../model/annotations.js';
import type { HeldAddresses } from '../../model/allocation.js';
import { canonicalEqual, canonicalSpec } from '../../model/canonical.js';
import { normalizeIp } from '../../model/ip.js';
import { refKey, sameRef, type LbKind, type LbRef } from '../../model/ref.js';
import { listeningPorts, type LoadBalancerSpec, type TargetType } from '../../model/spec.js';
import type { IngressPoint, LoadBalancerStatus, PortStatus, ProviderNotice } from '../../model/status.js';
import {
  ProviderError,
  type CallOptions,
  type Change,
  type OptionsParseResult,
  type OwnedLoadBalancer,
  type Provider,
  type ProviderCapabilities,
  type ProviderErrorKind,
  type RestoreReport,
} from '../types.js';
import { keepHeldAddresses } from '../restore.js';
import { Ipv4Pool } from './address-pool.js';
import { diffCanonical } from './plan.js';
import { memoryOptionsSchema, type MemoryOptions } from './options.js';

export type MemoryMethod = 'ensure' | 'delete' | 'listOwned' | 'plan';
export type CallOutcome = 'pending' | 'ok' | 'error';

interface CallBase {
  /** Position in the provider's call sequence, from 1. */
  readonly seq: number;
  readonly outcome: CallOutcome;
  readonly error?: ProviderError;
}

export type MemoryCall =
  | (CallBase & { readonly method: 'ensure' | 'plan'; readonly ref: LbRef; readonly spec: LoadBalancerSpec<MemoryLbOptions> })
  | (CallBase & { readonly method: 'delete'; readonly ref: LbRef })
  | (CallBase & { readonly method: 'listOwned' });

export type FaultEffect =
  | { readonly type: 'fail'; readonly kind: ProviderErrorKind; readonly message?: string }
  | { readonly type: 'throttle'; readonly retryAfterMs: number }
  /** The call does not settle until releaseHung() (or its AbortSignal fires). */
  | { readonly type: 'hang' };

export interface FaultOptions {
  /** Only these methods trip the fault; all when omitted. */
  readonly methods?: readonly MemoryMethod[];
  /** Only calls for this ref (matched by kind/namespace/name) trip it; listOwned never matches a ref fault. */
  readonly ref?: LbRef;
}

export interface FaultSpec extends FaultOptions {
  readonly effect: FaultEffect;
  /** How many matching calls it affects; Infinity until removed. Default 1. */
  readonly times?: number;
}

export interface FaultHandle {
  readonly remaining: number;
  remove(): void;
}

/** The memory provider's parsed annotations; they exist so tests can exercise the plumbing. */
export interface MemoryLbOptions {
  readonly tier: 'standard' | 'premium';
}

export interface MemoryLoadBalancer {
  readonly id: string;
  readonly clusterName: string;
  readonly ref: LbRef;
  readonly spec: LoadBalancerSpec<MemoryLbOptions>;
  readonly status: LoadBalancerStatus;
  readonly address?: string;
  /** How many writes this LB has taken since it was created. */
  readonly generation: number;
}

export interface MemoryWrite extends Change {
  readonly ref: LbRef;
}

export interface MemoryProviderInit extends Partial<MemoryOptions> {
  readonly name?: string;
  readonly clusterName: string;
}

const MEMORY_ANNOTATIONS = {
  tier: annotation('memory.lbc.dev/tier', oneOf(['standard', 'premium'] as const)).withDefault('standard'),
  targetType: annotation('memory.lbc.dev/target-type', oneOf(['instance', 'ip'] as const)),
};

interface Fault {
  readonly spec: FaultSpec;
  remaining: number;
}

interface MutableCall {
  seq: number;
  method: MemoryMethod;
  ref?: LbRef;
  spec?: LoadBalancerSpec<MemoryLbOptions>;
  outcome: CallOutcome;
  error?: ProviderError;
}

/** Calls and writes the provider keeps for inspection (at least; up to twice as many before a trim). */
export const RECORD_LIMIT = 1000;

/** The last `limit` (up to 2 × limit) items pushed, trimmed in batches so that a push stays O(1) amortised. */
class RecentLog<T> {
  private list: T[] = [];
  constructor(private readonly limit: number) {}

  get items(): readonly T[] {
    return this.list;
  }

  push(item: T): void {
    this.list.push(item);
    if (this.list.length >= 2 * this.limit) this.list = this.list.slice(-this.limit);
  }

  clear(): void {
    this.list = [];
  }
}

// The one-shot hash, not a Hash object per call: createHash/update/digest for each LB id
// was 1% of the cold start's samples (#21). Same digest, so the same ids.
const shortHash = (s: string): string => hash('sha256', s, 'hex').slice(0, 8);

export class MemoryProvider implements Provider<MemoryLbOptions> {
  readonly name: string;
  readonly type = 'memory';
  readonly capabilities: ProviderCapabilities;
  readonly clusterName: string;

  private readonly opts: MemoryOptions;
  private latencyMs: number;
  private readonly lbs = new Map<string, MemoryLoadBalancer>();
  private readonly pool: Ipv4Pool;
  /** Addresses restore() keeps for objects that have no LB here yet, by uid; their first ensure takes them. */
  private readonly reserved = new Map<string, string>();
  private readonly faults: Fault[] = [];
  private readonly hung = new Set<() => void>();
  // The recent calls and writes, for tests to inspect; counters for the rest. Unbounded,
  // they held every spec ensured (at 5000 Services, gigabytes) in a process that runs for days.
  private readonly callLog = new RecentLog<MutableCall>(RECORD_LIMIT);
  private readonly writeLog = new RecentLog<MemoryWrite>(RECORD_LIMIT);
  private readonly callCounts = new Map<MemoryMethod, number>();
  private readonly ensuresByUid = new Map<string, number>();
  private writeCount = 0;
  private readonly notices: ProviderNotice[] = [];
  private seq = 0;
  private pending = 0;
  private peakInFlight = 0;

  constructor(init: MemoryProviderInit) {
    const { name, clusterName, ...rest } = init;
    this.opts = memoryOptionsSchema.parse(rest);
    this.name = name ?? 'memory';
    this.clusterName = clusterName;
    this.latencyMs = this.opts.latencyMs;
    this.pool = new Ipv4Pool(this.opts.addressPool);
    const [first, ...others] = this.opts.targetTypes;
    this.capabilities = {
      layers: this.opts.layers,
      targetTypes: [first ?? 'instance', ...others],
      annotationPrefixes: ['memory.lbc.dev/'],
      // It carries no traffic, so it declares every feature lbc's Gateway model has: what
      // a controller test needs is the model, not a data path.
      ...(this.opts.layers.includes('Gateway') ? { gatewayFeatures: GATEWAY_FEATURES } : {}),
    };
  }

  // ---- the contract ------------------------------------------------------------

  parseOptions(annotations: Readonly<Record<string, string>>, _kind: LbKind): OptionsParseResult<MemoryLbOptions> {
    const r = parseAnnotations(MEMORY_ANNOTATIONS, annotations);
    if (!r.ok) return { ok: false, errors: r.errors };
    const targetType: TargetType | undefined = r.value.targetType;
    return { ok: true, options: { tier: r.value.tier }, ...(targetType ? { targetType } : {}) };
  }

  async plan(spec: LoadBalancerSpec<MemoryLbOptions>, opts?: CallOptions): Promise<readonly Change[]> {
    return this.call({ method: 'plan', ref: spec.ref, spec }, opts, () => {
      this.validate(spec);
      return this.changesFor(this.get(spec.ref), canonicalSpec(spec));
    });
  }

  async ensure(spec: LoadBalancerSpec<MemoryLbOptions>, opts?: CallOptions): Promise<LoadBalancerStatus> {
    return this.call({ method: 'ensure', ref: spec.ref, spec }, opts, () => {
      const status = this.apply(spec);
      if (this.notices.length === 0) return status;
      return { ...status, notices: this.notices.splice(0) };
    });
  }

  async delete(ref: LbRef, opts?: CallOptions): Promise<void> {
    return this.call({ method: 'delete', ref }, opts, () => {
      const key = this.key(this.clusterName, ref);
      const lb = this.lbs.get(key);
      // A different uid under the same name is someone else's LB (or a newer object's): not ours to delete.
      const reserved = this.reserved.get(ref.uid);
      if (reserved !== undefined) {
        this.reserved.delete(ref.uid);
        this.release(reserved);
      }
      if (!lb || lb.ref.uid !== ref.uid) return;
      this.record(ref, diffCanonical(lb.spec, undefined));
      if (lb.address) this.release(lb.address);
      this.lbs.delete(key);
    });
  }

  async listOwned(opts?: CallOptions): Promise<readonly OwnedLoadBalancer[]> {
    return this.call({ method: 'listOwned' }, opts, () =>
      [...this.lbs.values()]
        .filter((lb) => lb.clusterName === this.clusterName)
        .map((lb) => ({ ref: lb.ref, id: lb.id }))
        .sort((a, b) => (refKey(a.ref) < refKey(b.ref) ? -1 : 1)),
    );
  }

  /**
   * Keeps for each object the address its status holds, oldest first, when it is in the
   * pool and no LB or older object holds it. An object whose LB is here already keeps
   * that LB's address: the LB is the truth.
   */
  async restore(held: readonly HeldAddresses<MemoryLbOptions>[], _opts?: CallOptions): Promise<RestoreReport> {
    for (const [, address] of this.reserved) this.release(address);
    this.reserved.clear();
    if (this.opts.hostnames) return { kept: 0, dropped: [] };
    return keepHeldAddresses(held, {
      cidr: this.opts.addressPool,
      live: (ref) => this.get(ref)?.ref.uid === ref.uid,
      contains: (address) => address.includes('.') && this.pool.contains(address),
      take: (ref, address) => {
        if (!this.pool.take(address)) return false;
        this.reserved.set(ref.uid, address);
        return true;
      },
    });
  }

  async close(): Promise<void> {
    this.releaseHung();
  }

  // ---- steering (tests, benchmark) ---------------------------------------------

  inject(spec: FaultSpec): FaultHandle {
    const fault: Fault = { spec, remaining: spec.times ?? 1 };
    this.faults.push(fault);
    return {
      get remaining() {
        return fault.remaining;
      },
      remove: () => {
        const i = this.faults.indexOf(fault);
        if (i >= 0) this.faults.splice(i, 1);
      },
    };
  }

  failNext(times = 1, kind: ProviderErrorKind = 'transient', opts: FaultOptions = {}): FaultHandle {
    return this.inject({ ...opts, times, effect: { type: 'fail', kind } });
  }

  throttleNext(times = 1, retryAfterMs = 1000, opts: FaultOptions = {}): FaultHandle {
    return this.inject({ ...opts, times, effect: { type: 'throttle', retryAfterMs } });
  }

  hangNext(times = 1, opts: FaultOptions = {}): FaultHandle {
    return this.inject({ ...opts, times, effect: { type: 'hang' } });
  }

  /** Every call for ref fails with kind until the handle is removed. */
  failFor(ref: LbRef, kind: ProviderErrorKind = 'invalid', methods?: readonly MemoryMethod[]): FaultHandle {
    return this.inject({ ref, times: Infinity, effect: { type: 'fail', kind }, ...(methods ? { methods } : {}) });
  }

  /** The next ensure that succeeds reports these, as a cloud provider reports a resource it had to replace. */
  noticeNext(...notices: ProviderNotice[]): void {
    this.notices.push(...notices);
  }

  clearFaults(): void {
    this.faults.length = 0;
  }

  /** Lets every hung call go on as if the cloud had answered at last. */
  releaseHung(): number {
    const n = this.hung.size;
    for (const release of [...this.hung]) release();
    return n;
  }

  get hungCount(): number {
    return this.hung.size;
  }

  setLatency(ms: number): void {
    this.latencyMs = ms;
  }

  /** Puts an LB there as another cluster (or an earlier run) left it, without counting calls or writes. */
  seedForeign(ref: LbRef, clusterName: string): void {
    this.lbs.set(this.key(clusterName, ref), {
      id: `mem-${shortHash(`${clusterName}/${ref.uid}`)}`,
      clusterName,
      ref,
      spec: {
        layer: 'L4',
        ref,
        provider: this.name,
        className: '',
        clusterName,
        targetSets: [],
        sourceRanges: [],
        requestedAddresses: [],
        ipFamilies: ['IPv4'],
        tags: {},
        providerOptions: { tier: 'standard' },
        listeners: [],
        sessionAffinity: { type: 'None' },
      },
      status: { ingress: [] },
      generation: 0,
    });
  }

  // ---- inspection --------------------------------------------------------------

  /** The most recent calls, oldest first: the last RECORD_LIMIT at least. */
  get calls(): readonly MemoryCall[] {
    return this.callLog.items as readonly MemoryCall[];
  }

  /** Calls of `method` since the provider started (or resetRecording), however many the log still holds. */
  callCount(method: MemoryMethod): number {
    return this.callCounts.get(method) ?? 0;
  }

  /** Ensure calls per load balancer (by uid) since the provider started (or resetRecording). */
  ensureCountsByLb(): ReadonlyMap<string, number> {
    return this.ensuresByUid;
  }

  // Not Extract<MemoryCall, {method: M}>: ensure and plan share one union member, which Extract would drop.
  callsOf<M extends MemoryMethod>(method: M): (MemoryCall & { readonly method: M })[] {
    return this.callLog.items.filter((c) => c.method === method) as (MemoryCall & { readonly method: M })[];
  }

  /** Cloud writes: one per created, updated or deleted resource. */
  get writes(): number {
    return this.writeCount;
  }

  /** The most recent writes, oldest first: the last RECORD_LIMIT at least. */
  get writeHistory(): readonly MemoryWrite[] {
    return this.writeLog.items;
  }

  get inFlight(): number {
    return this.pending;
  }

  /** The most calls that were ever in flight at once, to check concurrency limits. */
  get maxInFlight(): number {
    return this.peakInFlight;
  }

  get(ref: LbRef): MemoryLoadBalancer | undefined {
    return this.lbs.get(this.key(this.clusterName, ref));
  }

  loadBalancers(): MemoryLoadBalancer[] {
    return [...this.lbs.values()].filter((lb) => lb.clusterName === this.clusterName);
  }

  /** Forgets calls and writes, keeps the LBs. */
  resetRecording(): void {
    this.callLog.clear();
    this.writeLog.clear();
    this.callCounts.clear();
    this.ensuresByUid.clear();
    this.writeCount = 0;
    this.peakInFlight = this.pending;
  }

  // ---- internals ---------------------------------------------------------------

  private key(clusterName: string, ref: LbRef): string {
    return `${clusterName}|${refKey(ref)}`;
  }

  private async call<T>(
    what: { method: MemoryMethod; ref?: LbRef; spec?: LoadBalancerSpec<MemoryLbOptions> },
    opts: CallOptions | undefined,
    body: () => T,
  ): Promise<T> {
    // Spelt out for ensure and plan, as in record(): spreading `what` (three shapes) took V8's slow path (#21).
    const rec: MutableCall =
      what.spec !== undefined
        ? { seq: ++this.seq, method: what.method, ref: what.ref, spec: what.spec, outcome: 'pending' }
        : { seq: ++this.seq, ...what, outcome: 'pending' };
    this.callLog.push(rec);
    this.callCounts.set(what.method, (this.callCounts.get(what.method) ?? 0) + 1);
    if (what.method === 'ensure' && what.ref) this.ensuresByUid.set(what.ref.uid, (this.ensuresByUid.get(what.ref.uid) ?? 0) + 1);
    this.pending++;
    this.peakInFlight = Math.max(this.peakInFlight, this.pending);
    try {
      await this.gate(what.method, what.ref, opts?.signal);
      const out = body();
      rec.outcome = 'ok';
      return out;
    } catch (e) {
      const err = e instanceof ProviderError ? e : new ProviderError('transient', String(e), { cause: e, provider: this.name });
      rec.outcome = 'error';
      rec.error = err;
      throw err;
    } finally {
      this.pending--;
    }
  }

  private takeFault(method: MemoryMethod, ref: LbRef | undefined): Fault | undefined {
    const fault = this.faults.find(
      (f) =>
        f.remaining > 0 &&
        (f.spec.methods === undefined || f.spec.methods.includes(method)) &&
        (f.spec.ref === undefined || (ref !== undefined && refKey(f.spec.ref) === refKey(ref))),
    );
    if (!fault) return undefined;
    fault.remaining--;
    if (fault.remaining <= 0) this.faults.splice(this.faults.indexOf(fault), 1);
    return fault;
  }

  private async gate(method: MemoryMethod, ref: LbRef | undefined, signal: AbortSignal | undefined): Promise<void> {
    if (signal?.aborted) throw this.aborted();
    const fault = this.takeFault(method, ref);
    if (fault?.spec.effect.type === 'hang') await this.hang(signal);
    if (this.latencyMs > 0) await this.sleep(this.latencyMs, signal);
    else await Promise.resolve();
    const effect = fault?.spec.effect;
    if (effect?.type === 'fail') {
      throw new ProviderError(effect.kind, effect.message ?? `injected ${effect.kind} failure`, { provider: this.name });
    }
    if (effect?.type === 'throttle') {
      throw new ProviderError('throttled', 'rate exceeded (injected)', { retryAfterMs: effect.retryAfterMs, provider: this.name });
    }
  }

  private aborted(): ProviderError {
    return new ProviderError('transient', 'call aborted', { provider: this.name });
  }

  private hang(signal: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const release = (): void => {
        this.hung.delete(release);
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = (): void => {
        this.hung.delete(release);
        reject(this.aborted());
      };
      this.hung.add(release);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  private sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
    return sleep(ms, signal).catch(() => Promise.reject(this.aborted()));
  }

  private validate(spec: LoadBalancerSpec<MemoryLbOptions>): void {
    const invalid = (msg: string): ProviderError => new ProviderError('invalid', msg, { provider: this.name });
    if (spec.clusterName !== this.clusterName) throw invalid(`spec is for cluster ${spec.clusterName}, this provider serves ${this.clusterName}`);
    if (!this.capabilities.layers.includes(spec.layer)) throw invalid(`${spec.layer} load balancers are not supported`);
    for (const ts of spec.targetSets) {
      if (!this.capabilities.targetTypes.includes(ts.type)) throw invalid(`target set ${ts.name}: ${ts.type} targets are not supported`);
    }
    if (spec.requestedAddresses.length > 0 && this.opts.hostnames) throw invalid('this provider assigns hostnames; requested addresses cannot be honoured');
    if (spec.requestedAddresses.length > 1) throw invalid('at most one requested address is supported');
    const want = spec.requestedAddresses[0];
    if (want !== undefined) {
      const ip = normalizeIp(want);
      if (!ip || !this.pool.contains(ip)) throw invalid(`requested address ${want} is not in the pool ${this.opts.addressPool}`);
      const current = this.get(spec.ref);
      const mine = current?.address ?? this.reserved.get(spec.ref.uid);
      if (this.pool.has(ip) && mine !== ip) {
        throw new ProviderError('conflict', `requested address ${ip} is already in use`, { provider: this.name });
      }
    }
  }

  /** `desired` in canonical form; what this provider holds (`current.spec`) always is. */
  private changesFor(current: MemoryLoadBalancer | undefined, desired: LoadBalancerSpec<MemoryLbOptions>): Change[] {
    // Same name, new uid: the old object's LB goes and a new one comes, as with a real cloud.
    if (current && !sameRef(current.ref, desired.ref)) return [...diffCanonical(current.spec, undefined), ...diffCanonical(undefined, desired)];
    // Most ensures after the first ask for what is held: one walk of the two specs
    // (stopping at the node list they share) settles it without building the diff.
    if (current && canonicalEqual(current.spec, desired)) return [];
    return diffCanonical(current?.spec, desired);
  }

  private apply(spec: LoadBalancerSpec<MemoryLbOptions>): LoadBalancerStatus {
    this.validate(spec);
    // Canonicalised once, for the diff and to be held: it used to be done three times per
    // ensure (twice for the diff, once to keep), ~1% of the cold start's samples (#21).
    const desired = canonicalSpec(spec);
    const current = this.get(spec.ref);
    const changes = this.changesFor(current, desired);
    if (changes.length === 0 && current) return current.status;
    this.record(spec.ref, changes);
    const replaced = current && !sameRef(current.ref, spec.ref);
    if (replaced && current.address) this.release(current.address);
    const kept = replaced ? undefined : current;
    const reserved = this.reserved.get(spec.ref.uid);
    this.reserved.delete(spec.ref.uid);
    const address = this.opts.hostnames ? undefined : this.allocate(spec, kept?.address ?? reserved);
    const lb: MemoryLoadBalancer = {
      id: kept?.id ?? `mem-${shortHash(`${this.clusterName}/${spec.ref.uid}`)}`,
      clusterName: this.clusterName,
      ref: spec.ref,
      spec: desired,
      status: this.statusFor(spec, address),
      ...(address !== undefined ? { address } : {}),
      generation: (kept?.generation ?? 0) + changes.length,
    };
    this.lbs.set(this.key(this.clusterName, spec.ref), lb);
    return lb.status;
  }

  private record(ref: LbRef, changes: readonly Change[]): void {
    // Spelt out for the plain creates and deletes: spreading each change (several shapes
    // reach here) went through V8's slow path, 0.5% of the cold start's samples (#21).
    for (const c of changes) {
      this.writeLog.push(c.fields === undefined && c.detail === undefined ? { op: c.op, resource: c.resource, id: c.id, ref } : { ...c, ref });
    }
    this.writeCount += changes.length;
  }

  private release(address: string): void {
    this.pool.release(address);
  }

  private allocate(spec: LoadBalancerSpec, currentAddress: string | undefined): string {
    const requested = spec.requestedAddresses[0] === undefined ? undefined : normalizeIp(spec.requestedAddresses[0]);
    if (requested !== undefined) {
      if (currentAddress !== undefined && currentAddress !== requested) this.release(currentAddress);
      this.pool.take(requested);
      return requested;
    }
    if (currentAddress !== undefined) return currentAddress;
    const ip = this.pool.allocate();
    if (ip !== undefined) return ip;
    throw new ProviderError('quota', `address pool ${this.opts.addressPool} is exhausted`, { provider: this.name });
  }

  private statusFor(spec: LoadBalancerSpec, address: string | undefined): LoadBalancerStatus {
    const ports: PortStatus[] =
      listeningPorts(spec).map((l) => ({ port: l.port, protocol: l.protocol === 'UDP' ? ('UDP' as const) : ('TCP' as const) }));
    ports.sort((a, b) => a.port - b.port || (a.protocol < b.protocol ? -1 : 1));
    const point: IngressPoint =
      address !== undefined ? { ip: address, ipMode: 'VIP', ports } : { hostname: this.hostnameFor(spec.ref), ports };
    return { ingress: [point] };
  }

  private hostnameFor(ref: LbRef): string {
    const base = (ref.namespace ? `${ref.namespace}-${ref.name}` : ref.name)
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, '-')
      .slice(0, 40)
      .replace(/^-+|-+$/g, '');
    return `${base || 'lb'}-${shortHash(`${this.clusterName}/${ref.uid}`)}.${this.opts.hostnameDomain}`;
  }
}

export function createMemoryProvider(init: MemoryProviderInit): MemoryProvider {
  return new MemoryProvider(init);
}
