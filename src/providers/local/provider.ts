// The local provider: lbc itself is the load balancer, on this machine, the way
// cloud-provider-kind gives kind clusters LoadBalancers but without containers. Each LB
// gets its own loopback address (127.240.0.0/16 by default) and lbc listens there for
// every listener, proxying L4 (TCP, UDP) and L7 (HTTP, HTTPS) to the target sets.
//
// ensure is the memory provider's diff (memory/plan.ts) applied to live sockets: what the
// diff does not name is not touched, so a target change never rebinds anything and a
// listener change leaves the other listeners' connections alone. The spec the diff
// compares against is the one *applied*: a listener that failed to bind is left out of
// it, so the next ensure (and plan) tries it again.
//
// Status reports ipMode Proxy: lbc terminates every connection and opens a new one to the
// target, so kube-proxy must not short-circuit in-cluster traffic to the LB address
// straight to the endpoints (that would skip sourceRanges, TLS and routing), which is
// what `VIP` would let it do. Status ports are the ports actually bound: the listener
// ports, unless portOffset/portMap shift them or `ports` mode (no pool on this host) put
// the LB on 127.0.0.1 with ports the OS chose; either way, where clients must connect.
//
// With l4Forwarding kernel (or auto, where nft and the privilege are there), TCP
// listeners still bind, but connections from this host are forwarded by nftables rules
// that follow the same targets, health, affinity and sourceRanges (kernel-forwarding.ts).
import { Agent } from 'node:http';
import type { Logger } from '../../kube/logger.js';
import type { HeldAddresses } from '../../model/allocation.js';
import { canonicalJson, canonicalSpec } from '../../model/canonical.js';
import { normalizeIp } from '../../model/ip.js';
import { describeRef, refKey, type LbRef } from '../../model/ref.js';
import { GATEWAY_FEATURES } from '../../model/gateway-features.js';
import type { GatewayPort } from '../../model/gateway.js';
import type { GatewaySpec, Listener, LoadBalancerSpec, Rule, SessionAffinity } from '../../model/spec.js';
import type { LoadBalancerStatus, PortStatus } from '../../model/status.js';
import { diffSpecs } from '../memory/plan.js';
import {
  PartialEnsureError,
  ProviderError,
  type CallOptions,
  type Change,
  type OwnedLoadBalancer,
  type Provider,
  type ProviderCapabilities,
  type ProviderErrorKind,
  type RestoreReport,
} from '../types.js';
import { keepHeldAddresses } from '../restore.js';
import { AddressPool } from './address-pool.js';
import { canBind, hostPort } from './bind.js';
import type { Prober } from './health.js';
import { compileGatewayPort, type GatewayPortState } from './gateway-port.js';
import { TlsProxyListener } from './gateway-tls.js';
import { H2cSessions, HttpProxyListener } from './http-router.js';
import { gatewayRoute, ingressRoute, liveCertificates, sourceRangeAllow } from './l7-route.js';
import { L7Workers, type L7LbState } from './l7-workers.js';
import { KernelForwarding, tableName, type KernelRoute } from './kernel-forwarding.js';
import type { NftRunner } from './nft.js';
import { localOptionsSchema, type LocalOptions, type LocalOptionsInput } from './options.js';
import { TargetSetRuntime } from './target-set.js';
import { TcpProxyListener, type L4Route } from './tcp-proxy.js';
import { CertificateStore } from './tls.js';
import { UdpProxyListener } from './udp-proxy.js';
import { UpstreamPool } from './upstream-http1.js';

export type AddressMode = 'pool' | 'ports';

/** Where `ports` mode puts every LB when the pool cannot be bound. */
export const FALLBACK_ADDRESS = '127.0.0.1';

export interface LocalProviderInit extends LocalOptionsInput {
  readonly name?: string;
  readonly clusterName: string;
  readonly log?: Logger;
  /** Replaces the health probes (tests). */
  readonly prober?: Prober;
  /** Replaces `nft -f -` (tests). */
  readonly nft?: NftRunner;
}

interface ListenerImpl {
  listen(): Promise<void>;
  readonly boundPort: number;
  close(graceMs: number): Promise<void>;
  abort(): void;
}

interface ListenerRuntime {
  /** As memory/plan.ts names listeners: `TCP:80`. */
  readonly id: string;
  /** The listener (or Gateway port) as applied (HTTPS: with the certificates that loaded). */
  spec: Listener | GatewayPort;
  readonly host: string;
  readonly impl: ListenerImpl;
  readonly certs?: CertificateStore;
  /** Names the listener to the kernel path; unique for the provider's life, so a replaced listener never inherits rules. */
  readonly kernelId: string;
  /** A Gateway port's routing, swapped on each ensure; the listener reads it per request. */
  readonly gateway?: { state: GatewayPortState };
}

interface LbRuntime {
  readonly key: string;
  readonly ref: LbRef;
  address: string;
  spec: LoadBalancerSpec;
  /**
   * A Gateway's applied spec as canonical JSON: its no-op check is one string compare, as
   * diffing 10 000 rules field by field costs seconds (bench gateway: route update → data path).
   */
  gatewayJson?: string;
  readonly targetSets: Map<string, TargetSetRuntime>;
  readonly listeners: Map<string, ListenerRuntime>;
  sourceRanges: readonly string[];
  sessionAffinity: SessionAffinity;
  rules: readonly Rule[];
  defaultBackend: string | undefined;
  readonly agent: Agent;
  readonly h2c: H2cSessions;
  readonly upstream: UpstreamPool;
}

/** What inspect() shows of one LB: for the demo's output, for tests, for debugging. */
export interface LocalLbView {
  readonly ref: LbRef;
  readonly address: string;
  readonly mode: AddressMode;
  readonly listeners: readonly {
    readonly id: string;
    readonly port: number;
    /** Where to connect: the LB address and the port actually bound. */
    readonly endpoint: string;
    readonly boundPort: number;
    /** Who forwards this host's new connections now: nftables rules, or lbc's own proxy. */
    readonly forwarding: 'kernel' | 'proxy';
  }[];
  readonly targetSets: readonly {
    readonly name: string;
    readonly targets: readonly { key: string; label: string; health: string; active: number }[];
  }[];
}

interface Failure {
  readonly kind: ProviderErrorKind;
  readonly message: string;
}

const certFailure = (where: string, message: string): Failure => ({ kind: 'invalid', message: `HTTPS listener ${where}: ${message}` });

const listenerId = (l: { protocol: string; port: number }): string => `${l.protocol}:${l.port}`;

const isGatewayPort = (l: Listener | GatewayPort): l is GatewayPort => 'listeners' in l || ('rules' in l && 'listener' in l);

/** What binds a socket: a Service's or Ingress's listeners, a Gateway's ports. */
const listenersOf = (spec: LoadBalancerSpec): readonly (Listener | GatewayPort)[] => (spec.layer === 'Gateway' ? spec.ports : spec.listeners);

export class LocalProvider implements Provider {
  readonly type = 'local';
  readonly name: string;
  readonly clusterName: string;
  readonly capabilities: ProviderCapabilities = {
    layers: ['L4', 'L7', 'Gateway'],
    targetTypes: ['ip', 'instance'],
    annotationPrefixes: [],
    // What gateway-port.ts, gateway-http.ts and gateway-tls.ts serve, each with a real-request
    // test in test/providers/local/gateway.test.ts. Not GatewayStaticAddresses: one address
    // per Gateway, from the pool, and no way to refuse an unusable one as the suite expects.
    gatewayFeatures: GATEWAY_FEATURES.filter((f) => f !== 'GatewayStaticAddresses'),
  };
  readonly options: LocalOptions;
  readonly mode: AddressMode;

  private readonly pool: AddressPool;
  private readonly log: Logger;
  private readonly prober: Prober | undefined;
  private readonly lbs = new Map<string, LbRuntime>();
  /** Pool addresses restore() keeps for objects with no LB here yet: refKey → the object's uid. */
  private readonly reserved = new Map<string, string>();
  private readonly locks = new Map<string, Promise<unknown>>();
  private readonly draining = new Set<ListenerImpl>();
  private readonly drains = new Set<Promise<void>>();
  /** The other processes serving L7 listeners; their acknowledgements of closed sockets, awaited before anything binds. */
  private readonly workers: L7Workers | undefined;
  private readonly workerCloses = new Set<Promise<void>>();
  private binds = 0;
  private listenerSeq = 0;
  private closed = false;

  /** Use createLocalProvider, which probes the platform to choose the mode and the L4 forwarding. */
  constructor(
    init: LocalProviderInit,
    mode: AddressMode,
    private readonly kernel?: KernelForwarding,
  ) {
    const { name, clusterName, log, prober, nft: _nft, ...rest } = init;
    this.options = localOptionsSchema.parse(rest);
    this.name = name ?? 'local';
    this.clusterName = clusterName;
    this.mode = mode;
    this.log = log ?? console;
    this.prober = prober;
    this.pool = new AddressPool(this.options.addressPool);
    this.workers = this.options.workers > 1 ? new L7Workers(this.options.workers - 1, this.log) : undefined;
  }

  // ---- the contract ------------------------------------------------------------

  async plan(spec: LoadBalancerSpec, opts?: CallOptions): Promise<readonly Change[]> {
    return this.serialized(spec.ref, opts, async () => {
      this.validate(spec);
      const lb = this.lbs.get(refKey(spec.ref));
      if (lb && lb.ref.uid !== spec.ref.uid) return [...diffSpecs(lb.spec, undefined), ...diffSpecs(undefined, spec)];
      return diffSpecs(lb?.spec, spec);
    });
  }

  async ensure(spec: LoadBalancerSpec, opts?: CallOptions): Promise<LoadBalancerStatus> {
    return this.serialized(spec.ref, opts, () => this.apply(spec));
  }

  async delete(ref: LbRef, opts?: CallOptions): Promise<void> {
    return this.serialized(ref, opts, async () => {
      const lb = this.lbs.get(refKey(ref));
      if (!lb && this.reserved.get(refKey(ref)) === ref.uid) this.unreserve(refKey(ref));
      // A different uid under the same name belongs to a newer object: not this call's to remove.
      if (!lb || lb.ref.uid !== ref.uid) return;
      this.teardown(lb, this.options.drainTimeoutMs);
      // The workers hold the same listening socket: until each has closed its copy, the kernel
      // still hands them connections. A delete returns once nothing accepts on the address.
      await Promise.all(this.workerCloses);
      await this.settled();
    });
  }

  async listOwned(opts?: CallOptions): Promise<readonly OwnedLoadBalancer[]> {
    this.checkOpen(opts);
    return [...this.lbs.values()]
      .map((lb) => ({ ref: lb.ref, id: this.mode === 'pool' ? lb.address : `${lb.address}/${refKey(lb.ref)}` }))
      .sort((a, b) => (refKey(a.ref) < refKey(b.ref) ? -1 : 1));
  }

  /**
   * Keeps for each object the pool address its status holds, oldest first, when no LB or
   * older object holds it; its first ensure binds it. An object whose LB runs here keeps
   * that LB's address. In ports mode every LB is on 127.0.0.1 and there is nothing to keep.
   */
  async restore(held: readonly HeldAddresses[], opts?: CallOptions): Promise<RestoreReport> {
    this.checkOpen(opts);
    for (const key of [...this.reserved.keys()]) this.unreserve(key);
    if (this.mode === 'ports') return { kept: 0, dropped: [] };
    return keepHeldAddresses(held, {
      cidr: this.pool.cidr,
      live: (ref) => this.lbs.has(refKey(ref)),
      contains: (address) => this.pool.contains(address),
      take: (ref, address) => {
        if (!this.pool.allocate(refKey(ref), address).ok) return false;
        this.reserved.set(refKey(ref), ref.uid);
        return true;
      },
    });
  }

  /** Cuts every connection and stops every timer; nothing of the provider outlives the returned promise. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.locks.values()]);
    for (const lb of [...this.lbs.values()]) this.teardown(lb, 0);
    for (const impl of this.draining) impl.abort();
    await Promise.allSettled([...this.drains]);
    await this.workers?.shutdown();
    await this.kernel?.close();
  }

  /** The L7 worker processes (for inspection and tests). */
  get l7WorkerPids(): number[] {
    return this.workers?.pids ?? [];
  }

  /** Resolves once every L7 worker serves every HTTP and HTTPS listener. */
  async l7WorkersReady(): Promise<void> {
    await this.workers?.ready();
  }

  /** Processes serving HTTP and HTTPS listeners, this one included. */
  get l7Processes(): number {
    return (this.workers?.size ?? 0) + 1;
  }

  /** Whether TCP listeners are forwarded by the kernel (false once nft failed and it fell back to the proxy). */
  get kernelForwarding(): boolean {
    return this.kernel !== undefined && this.kernel.disabledReason === undefined;
  }

  // ---- inspection --------------------------------------------------------------

  inspect(ref: LbRef): LocalLbView | undefined {
    const lb = this.lbs.get(refKey(ref));
    if (!lb || lb.ref.uid !== ref.uid) return undefined;
    return {
      ref: lb.ref,
      address: lb.address,
      mode: this.mode,
      listeners: [...lb.listeners.values()].map((l) => ({
        id: l.id,
        port: l.spec.port,
        boundPort: l.impl.boundPort,
        endpoint: hostPort(l.host, l.impl.boundPort),
        forwarding: this.kernel?.forwards(l.kernelId) ? ('kernel' as const) : ('proxy' as const),
      })),
      targetSets: [...lb.targetSets.entries()].map(([name, ts]) => ({ name, targets: ts.inspect() })),
    };
  }

  /** Sockets bound since start: a no-op ensure must leave it unchanged. */
  get bindCount(): number {
    return this.binds;
  }

  /** Resolves when the kernel's rules reflect every change so far (health changes land asynchronously). */
  async settled(): Promise<void> {
    await this.kernel?.settled();
  }

  /** Resolves when every connection of removed listeners has finished or been cut. */
  async drained(): Promise<void> {
    while (this.drains.size > 0) await Promise.allSettled([...this.drains]);
  }

  // ---- internals ---------------------------------------------------------------

  private checkOpen(opts: CallOptions | undefined): void {
    if (this.closed) throw new ProviderError('transient', 'the local provider is shut down', { provider: this.name });
    if (opts?.signal?.aborted) throw new ProviderError('transient', 'call aborted', { provider: this.name });
  }

  /** One call at a time per LB: an ensure must not interleave its binds with a delete. */
  private async serialized<T>(ref: LbRef, opts: CallOptions | undefined, body: () => Promise<T>): Promise<T> {
    this.checkOpen(opts);
    const key = refKey(ref);
    const prev = this.locks.get(key) ?? Promise.resolve();
    const run = prev.then(() => {
      this.checkOpen(opts);
      return body();
    });
    const settled = run.then(
      () => undefined,
      () => undefined,
    );
    this.locks.set(key, settled);
    void settled.then(() => {
      if (this.locks.get(key) === settled) this.locks.delete(key);
    });
    return run;
  }

  private invalid(message: string): ProviderError {
    return new ProviderError('invalid', message, { provider: this.name });
  }

  private validate(spec: LoadBalancerSpec): void {
    const what = describeRef(spec.ref);
    if (spec.clusterName !== this.clusterName) throw this.invalid(`${what}: spec is for cluster ${spec.clusterName}, this provider serves ${this.clusterName}`);
    if (!spec.ipFamilies.includes('IPv4')) throw this.invalid(`${what}: the local provider serves IPv4 only (ipFamilies ${spec.ipFamilies.join(', ')})`);
    const sets = new Set(spec.targetSets.map((t) => t.name));
    const ids = new Set<string>();
    if (spec.layer === 'Gateway') this.validateGateway(spec, sets);
    for (const l of listenersOf(spec)) {
      const id = listenerId(l);
      if (ids.has(id)) throw this.invalid(`${what}: listener ${id} is declared twice`);
      ids.add(id);
      if ('targetSet' in l && !sets.has(l.targetSet)) throw this.invalid(`${what}: listener ${id} refers to unknown target set ${l.targetSet}`);
    }
    if (spec.layer === 'L7') {
      for (const r of spec.rules) if (!sets.has(r.targetSet)) throw this.invalid(`${what}: a rule of ${r.source} refers to unknown target set ${r.targetSet}`);
      if (spec.defaultBackend !== undefined && !sets.has(spec.defaultBackend)) throw this.invalid(`${what}: default backend ${spec.defaultBackend} is not a target set`);
    }
    if (spec.requestedAddresses.length > 1) throw this.invalid(`${what}: at most one requested address is supported`);
    const want = spec.requestedAddresses[0];
    if (want !== undefined) {
      if (this.mode === 'ports') {
        throw this.invalid(`${what}: requested address ${want} cannot be served: this host cannot bind ${this.pool.cidr}, so every load balancer is on ${FALLBACK_ADDRESS}`);
      }
      const ip = normalizeIp(want);
      if (ip === undefined || !this.pool.contains(ip)) throw this.invalid(`${what}: requested address ${want} is not in the pool ${this.pool.cidr}`);
    }
  }

  /** Every target set a Gateway port names must exist; an invalid backend arrives without one. */
  private validateGateway(spec: GatewaySpec, sets: ReadonlySet<string>): void {
    const what = describeRef(spec.ref);
    const check = (name: string | undefined, where: string): void => {
      if (name !== undefined && !sets.has(name)) throw this.invalid(`${what}: ${where} refers to unknown target set ${name}`);
    };
    for (const p of spec.ports) {
      const where = `port ${listenerId(p)}`;
      if (!('listeners' in p)) {
        for (const r of p.rules) for (const b of r.backends) check(b.targetSet, where);
        continue;
      }
      for (const l of p.listeners) {
        for (const r of l.rules) {
          for (const b of r.backends) {
            check(b.targetSet, `${where} listener ${l.name}`);
            if ('filters' in b) for (const f of b.filters) if (f.type === 'RequestMirror') check(f.targetSet, `${where} listener ${l.name}`);
          }
          if ('filters' in r) for (const f of r.filters) if (f.type === 'RequestMirror') check(f.targetSet, `${where} listener ${l.name}`);
        }
      }
    }
  }

  private unreserve(key: string): void {
    this.reserved.delete(key);
    if (!this.lbs.has(key)) this.pool.release(key);
  }

  private allocate(spec: LoadBalancerSpec): string {
    if (this.mode === 'ports') return FALLBACK_ADDRESS;
    const key = refKey(spec.ref);
    const reservedFor = this.reserved.get(key);
    // Kept for another object of the same name, one that is gone now: not this one's.
    if (reservedFor !== undefined && reservedFor !== spec.ref.uid) this.unreserve(key);
    const r = this.pool.allocate(key, spec.requestedAddresses[0]);
    if (!r.ok) throw new ProviderError(r.kind, `${describeRef(spec.ref)}: ${r.reason}`, { provider: this.name });
    this.reserved.delete(key);
    return r.address;
  }

  private bindPort(port: number): number {
    if (this.mode === 'ports') return 0;
    return this.options.portMap[String(port)] ?? port + this.options.portOffset;
  }

  private async apply(input: LoadBalancerSpec): Promise<LoadBalancerStatus> {
    this.validate(input);
    const spec = canonicalSpec(input);
    const key = refKey(spec.ref);
    let lb = this.lbs.get(key);
    if (lb && lb.ref.uid !== spec.ref.uid) {
      // Same name, new object: the old object's LB goes, as a cloud LB tagged with the old uid would.
      this.teardown(lb, this.options.drainTimeoutMs);
      await this.settled();
      lb = undefined;
    }
    const gatewayJson = spec.layer === 'Gateway' ? canonicalJson(spec) : undefined;
    if (lb && (gatewayJson !== undefined ? gatewayJson === lb.gatewayJson : diffSpecs(lb.spec, spec).length === 0)) return this.statusOf(lb);

    const address = this.allocate(spec);
    if (!lb) {
      lb = {
        key,
        ref: spec.ref,
        address,
        spec: { ...spec, listeners: [], targetSets: [] } as LoadBalancerSpec,
        targetSets: new Map(),
        listeners: new Map(),
        sourceRanges: [],
        sessionAffinity: { type: 'None' },
        rules: [],
        defaultBackend: undefined,
        agent: new Agent({ keepAlive: true, timeout: 4_000 }),
        h2c: new H2cSessions(),
        upstream: new UpstreamPool(),
      };
      this.lbs.set(key, lb);
    }
    const moved = lb.address !== address;
    lb.address = address;
    lb.sourceRanges = spec.sourceRanges;
    lb.sessionAffinity = spec.layer === 'L4' ? spec.sessionAffinity : { type: 'None' };
    lb.rules = spec.layer === 'L7' ? spec.rules : [];
    lb.defaultBackend = spec.layer === 'L7' ? spec.defaultBackend : undefined;

    for (const ts of spec.targetSets) {
      const have = lb.targetSets.get(ts.name);
      if (have) {
        have.update(ts);
        have.setAffinity(lb.sessionAffinity);
      } else {
        const opts = { healthChecks: this.options.healthChecks, ...(this.prober ? { prober: this.prober } : {}) };
        const rt = new TargetSetRuntime(ts, opts, lb.sessionAffinity);
        const owner = lb;
        if (this.kernel) rt.onHealthChange(() => void this.syncKernel(owner).catch((e: unknown) => this.log.warn(`local provider ${this.name}: kernel rules for ${describeRef(owner.ref)}: ${String(e)}`)));
        if (this.workers) rt.onHealthChange(() => this.workers?.health(owner.key, healthOf(owner)));
        lb.targetSets.set(ts.name, rt);
      }
    }

    const failures: Failure[] = [];
    const wanted = new Set(listenersOf(spec).map(listenerId));
    for (const [id, l] of lb.listeners) {
      if (!wanted.has(id) || moved) {
        this.retire(lb, l);
        lb.listeners.delete(id);
      }
    }
    // A socket a worker still accepts on would make the same address and port fail to bind here.
    await Promise.all(this.workerCloses);
    for (const l of listenersOf(spec)) {
      const have = lb.listeners.get(listenerId(l));
      try {
        if (have) this.updateListener(lb, have, l, failures);
        else await this.addListener(lb, l, failures);
      } catch (e) {
        failures.push(e instanceof ProviderError ? { kind: e.kind, message: e.message } : { kind: 'transient', message: String(e) });
      }
    }

    for (const [name, ts] of lb.targetSets) {
      if (!spec.targetSets.some((t) => t.name === name)) {
        ts.close();
        lb.targetSets.delete(name);
      }
    }
    const applied = [...lb.listeners.values()].map((l) => l.spec);
    lb.spec = canonicalSpec((spec.layer === 'Gateway' ? { ...spec, ports: applied } : { ...spec, listeners: applied }) as LoadBalancerSpec);
    // What did not apply (a certificate that failed) must read as a change next time, so it is tried again.
    lb.gatewayJson = gatewayJson !== undefined && failures.length === 0 ? gatewayJson : undefined;
    await this.syncKernel(lb);
    await this.syncWorkers(lb);

    if (failures.length > 0) throw this.combine(lb, failures);
    return this.statusOf(lb);
  }

  private updateListener(lb: LbRuntime, have: ListenerRuntime, want: Listener | GatewayPort, failures: Failure[]): void {
    if (isGatewayPort(want)) {
      const compiled = this.compilePort(lb, want, have.gateway?.state, hostPort(have.host, have.impl.boundPort), failures);
      if (have.gateway) have.gateway.state = compiled.state;
      if (compiled.state.certs && have.impl instanceof HttpProxyListener) have.impl.refreshCertificates(compiled.state.certs);
      if (have.impl instanceof TlsProxyListener && have.gateway) this.serveHttpsBesideTls(lb, have.impl, have.gateway);
      have.spec = compiled.applied;
      return;
    }
    if (want.protocol === 'HTTPS' && have.certs) {
      const errors = have.certs.load(want.certificates);
      failures.push(...errors.map((m) => certFailure(hostPort(have.host, have.impl.boundPort), m)));
      if (have.certs.size > 0 && have.impl instanceof HttpProxyListener) have.impl.refreshCertificates(have.certs);
      have.spec = { ...want, certificates: have.certs.applied() };
      return;
    }
    have.spec = want;
  }

  /** Compiles a Gateway port's routing; certificate problems go to failures. */
  private compilePort(lb: LbRuntime, port: GatewayPort, prev: GatewayPortState | undefined, where: string, failures: Failure[]): ReturnType<typeof compileGatewayPort> {
    const compiled = compileGatewayPort(port, prev, (name) => lb.targetSets.get(name));
    failures.push(...compiled.errors.map((m) => certFailure(where, m)));
    for (const name of compiled.uncertified) failures.push({ kind: 'invalid', message: `${port.protocol} listener ${name} on ${where}: no usable certificate` });
    return compiled;
  }

  private async addListener(lb: LbRuntime, l: Listener | GatewayPort, failures: Failure[]): Promise<void> {
    const host = lb.address;
    const port = this.bindPort(l.port);
    if (port > 65_535) throw this.invalid(`listener ${listenerId(l)}: port ${l.port} + portOffset ${this.options.portOffset} is beyond 65535`);
    const allow = sourceRangeAllow(lb);
    if (isGatewayPort(l)) {
      await this.addGatewayPort(lb, l, host, port, allow, failures);
      return;
    }
    let impl: TcpProxyListener | UdpProxyListener | HttpProxyListener;
    let certs: CertificateStore | undefined;
    if (l.protocol === 'TCP' || l.protocol === 'UDP') {
      const id = listenerId(l);
      const route: L4Route = {
        allow,
        targetSet: () => {
          const now = lb.listeners.get(id)?.spec;
          return now && 'targetSet' in now ? lb.targetSets.get(now.targetSet) : undefined;
        },
      };
      impl =
        l.protocol === 'TCP'
          ? new TcpProxyListener(host, port, route, { connectTimeoutMs: this.options.connectTimeoutMs })
          : new UdpProxyListener(host, port, route, { idleTimeoutMs: this.options.udpIdleTimeoutMs });
    } else {
      const route = ingressRoute(lb);
      if (l.protocol === 'HTTPS') {
        certs = new CertificateStore();
        const errors = certs.load(l.certificates);
        failures.push(...errors.map((m) => certFailure(hostPort(host, port), m)));
        if (certs.size === 0) {
          failures.push({ kind: 'invalid', message: `HTTPS listener ${hostPort(host, port)} not started: no usable certificate` });
          return;
        }
      }
      impl = new HttpProxyListener(host, port, route, certs ? { certs } : {});
    }
    const rt: ListenerRuntime = {
      id: listenerId(l),
      spec: l.protocol === 'HTTPS' && certs ? { ...l, certificates: certs.applied() } : l,
      host,
      impl,
      ...(certs ? { certs } : {}),
      kernelId: `${lb.key} ${listenerId(l)} #${++this.listenerSeq}`,
    };
    await this.start(lb, rt);
  }

  private async addGatewayPort(lb: LbRuntime, p: GatewayPort, host: string, port: number, allow: (ip: string) => boolean, failures: Failure[]): Promise<void> {
    const compiled = this.compilePort(lb, p, undefined, hostPort(host, port), failures);
    const holder = { state: compiled.state };
    let impl: TcpProxyListener | UdpProxyListener | HttpProxyListener | TlsProxyListener;
    switch (p.protocol) {
      case 'HTTP':
      case 'HTTPS': {
        const route = gatewayRoute(lb, holder);
        const certs = holder.state.certs;
        if (p.protocol === 'HTTPS' && !certs?.fallback) {
          failures.push({ kind: 'invalid', message: `HTTPS listener ${hostPort(host, port)} not started: no usable certificate` });
          return;
        }
        impl = new HttpProxyListener(host, port, route, { http2: true, ...(certs ? { certs: liveCertificates(holder) } : {}) });
        break;
      }
      case 'TLS': {
        const tls = new TlsProxyListener(host, port, { allow, resolve: (sni) => holder.state.tls?.(sni) }, { connectTimeoutMs: this.options.connectTimeoutMs });
        this.serveHttpsBesideTls(lb, tls, holder);
        impl = tls;
        break;
      }
      case 'TCP':
        impl = new TcpProxyListener(host, port, { allow, targetSet: () => holder.state.l4?.() }, { connectTimeoutMs: this.options.connectTimeoutMs });
        break;
      case 'UDP':
        impl = new UdpProxyListener(host, port, { allow, targetSet: () => holder.state.l4?.() }, { idleTimeoutMs: this.options.udpIdleTimeoutMs });
        break;
    }
    const rt: ListenerRuntime = { id: listenerId(p), spec: compiled.applied, host, impl, kernelId: `${lb.key} ${listenerId(p)} #${++this.listenerSeq}`, gateway: holder };
    await this.start(lb, rt);
  }

  /**
   * HTTPS listeners on a TLS port (GatewayHTTPSAndTLSPassthroughSamePort): their server,
   * made once the first certificate loads, takes the names SNI gives them from the TLS
   * listener; it reads routes and certificates from the port's current state.
   */
  private serveHttpsBesideTls(lb: LbRuntime, tls: TlsProxyListener, holder: { state: GatewayPortState }): void {
    if (!holder.state.certs?.fallback) return;
    if (tls.servesHttps) return;
    tls.serveHttpsWith(new HttpProxyListener(tls.host, tls.port, gatewayRoute(lb, holder), { http2: true, certs: liveCertificates(holder) }));
  }

  /** Binds the listener's socket and puts it in service; a failed bind leaves nothing behind. */
  private async start(lb: LbRuntime, rt: ListenerRuntime): Promise<void> {
    try {
      await rt.impl.listen();
    } catch (e) {
      rt.impl.abort();
      throw e;
    }
    this.binds++;
    lb.listeners.set(rt.id, rt);
    if (rt.impl instanceof HttpProxyListener) this.workers?.listening(lb.key, rt.id, rt.impl.server, rt.host, rt.impl.boundPort);
  }

  /** Stops accepting on the listener now; its connections drain in the background. */
  private retire(lb: LbRuntime, l: ListenerRuntime, graceMs = this.options.drainTimeoutMs): void {
    void this.kernel?.set(l.kernelId, undefined);
    this.track(l.impl, l.impl.close(graceMs));
    if (this.workers) this.closeInWorkers(this.workers.close(lb.key, l.id, graceMs));
  }

  private closeInWorkers(p: Promise<void>): void {
    this.workerCloses.add(p);
    void p.finally(() => this.workerCloses.delete(p));
  }

  /** The workers get lb's L7 state, and serve it before ensure returns. */
  private async syncWorkers(lb: LbRuntime): Promise<void> {
    if (!this.workers || this.lbs.get(lb.key) !== lb) return;
    const listeners = [...lb.listeners.values()].filter((l) => l.impl instanceof HttpProxyListener);
    if (listeners.length === 0) return;
    const state: L7LbState = {
      key: lb.key,
      sourceRanges: lb.sourceRanges,
      rules: lb.rules,
      defaultBackend: lb.defaultBackend,
      targetSets: [...lb.targetSets.values()].map((ts) => ts.spec),
      health: healthOf(lb),
      listeners: listeners.map((l) => ({ id: l.id, spec: l.spec, gateway: l.gateway !== undefined })),
    };
    await this.workers.sync(state);
  }

  /**
   * Brings the kernel's rules for lb's TCP listeners in line with their targets, health,
   * affinity and sourceRanges. Never throws: a failure switches the kernel path off (and
   * the proxy on) inside KernelForwarding.
   */
  private async syncKernel(lb: LbRuntime): Promise<void> {
    const kernel = this.kernel;
    if (!kernel || this.lbs.get(lb.key) !== lb) return;
    await Promise.all(
      [...lb.listeners.values()]
        // Gateway TCP ports choose among weighted target sets per connection: the proxy's job.
        .filter((l) => l.spec.protocol === 'TCP' && 'targetSet' in l.spec)
        .map((l) => kernel.set(l.kernelId, this.kernelRoute(lb, l))),
    );
  }

  private kernelRoute(lb: LbRuntime, l: ListenerRuntime): KernelRoute {
    const ts = 'targetSet' in l.spec ? lb.targetSets.get(l.spec.targetSet) : undefined;
    return {
      address: l.host,
      port: l.impl.boundPort,
      sourceRanges: lb.sourceRanges,
      ...(lb.sessionAffinity.type === 'ClientIP' ? { affinitySeconds: lb.sessionAffinity.timeoutSeconds } : {}),
      targets: ts ? ts.balancer.eligible().map((t) => ({ key: t.key, host: t.host, port: t.port })) : [],
    };
  }

  private track(impl: ListenerImpl | undefined, p: Promise<void>): void {
    if (impl) this.draining.add(impl);
    const done = p
      .catch(() => undefined)
      .finally(() => {
        if (impl) this.draining.delete(impl);
        this.drains.delete(done);
      });
    this.drains.add(done);
  }

  private teardown(lb: LbRuntime, graceMs: number): void {
    this.lbs.delete(lb.key);
    if (this.mode === 'pool') this.pool.release(lb.key);
    for (const l of lb.listeners.values()) void this.kernel?.set(l.kernelId, undefined);
    const closing = [...lb.listeners.values()].map((l) => {
      const p = l.impl.close(graceMs);
      this.track(l.impl, p);
      return p;
    });
    lb.listeners.clear();
    if (this.workers) this.closeInWorkers(this.workers.remove(lb.key, graceMs));
    for (const ts of lb.targetSets.values()) ts.close();
    lb.targetSets.clear();
    // In-flight requests still use the agent's sockets: destroy them only once drained.
    this.track(
      undefined,
      Promise.allSettled(closing).then(() => {
        lb.agent.destroy();
        lb.upstream.close();
        lb.h2c.close();
      }),
    );
  }

  /**
   * One error for the reconciler's Warning Event, naming every listener that failed;
   * partial when other listeners do serve, so that their address still reaches status.
   */
  private combine(lb: LbRuntime, failures: readonly Failure[]): ProviderError {
    // A retryable kind wins, so that a port that frees up is tried again even when a bad Secret is also reported.
    const order: ProviderErrorKind[] = ['conflict', 'transient', 'quota', 'forbidden', 'invalid'];
    const kind = order.find((k) => failures.some((f) => f.kind === k)) ?? 'transient';
    const message = `${describeRef(lb.ref)}: ${failures.map((f) => f.message).join('; ')}`;
    if (lb.listeners.size === 0) return new ProviderError(kind, message, { provider: this.name });
    return new PartialEnsureError(kind, message, this.statusOf(lb), { provider: this.name });
  }

  private statusOf(lb: LbRuntime): LoadBalancerStatus {
    const ports: PortStatus[] = [...lb.listeners.values()]
      .map((l) => ({ port: l.impl.boundPort, protocol: l.spec.protocol === 'UDP' ? ('UDP' as const) : ('TCP' as const) }))
      .sort((a, b) => a.port - b.port || (a.protocol < b.protocol ? -1 : 1));
    return { ingress: [{ ip: lb.address, ipMode: 'Proxy', ports }] };
  }
}

/** Every target's health, by target set: what an L7 worker takes instead of probing itself. */
function healthOf(lb: LbRuntime): L7LbState['health'] {
  return Object.fromEntries([...lb.targetSets].map(([name, ts]) => [name, ts.balancer.targets.map((t) => [t.key, ts.balancer.healthOf(t.key) ?? 'unknown'] as const)]));
}

/**
 * Builds the provider, choosing the address mode: in `auto`, a probe bind on the pool's
 * first address decides between one address per LB and the 127.0.0.1 fallback.
 */
export async function createLocalProvider(init: LocalProviderInit): Promise<LocalProvider> {
  const { name: _name, clusterName: _cluster, log: _log, prober: _prober, nft: _nft, ...rest } = init;
  const options = localOptionsSchema.parse(rest);
  const probe = new AddressPool(options.addressPool).firstAddress;
  const log = init.log ?? console;
  let mode: AddressMode = options.addressMode === 'ports' ? 'ports' : 'pool';
  if (options.addressMode !== 'ports' && !(await canBind(probe))) {
    if (options.addressMode === 'pool') {
      throw new Error(`cannot bind ${probe} from the address pool ${options.addressPool} (on macOS add loopback aliases, or use addressMode auto or ports)`);
    }
    mode = 'ports';
    log.warn(
      `local provider ${init.name ?? 'local'}: this host cannot bind ${probe} (from ${options.addressPool}); every load balancer gets ${FALLBACK_ADDRESS} with its own ports instead (see each LB's status ports)`,
    );
  }
  return new LocalProvider(init, mode, await openKernelForwarding(init, options, log));
}

async function openKernelForwarding(init: LocalProviderInit, options: LocalOptions, log: Logger): Promise<KernelForwarding | undefined> {
  if (options.l4Forwarding === 'proxy') return undefined;
  const name = init.name ?? 'local';
  try {
    return await KernelForwarding.open(tableName(name, init.clusterName, options.addressPool), {
      ...(init.nft ? { run: init.nft } : {}),
      onDisabled: (reason) => log.warn(`local provider ${name}: ${reason}`),
    });
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    if (options.l4Forwarding === 'kernel') throw new Error(`local provider ${name}: l4Forwarding kernel: ${why}`);
    log.info(`local provider ${name}: TCP is proxied in user space (kernel forwarding unavailable: ${why})`);
    return undefined;
  }
}
