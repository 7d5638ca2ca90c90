// The bare-metal provider, controller side: hands out pool addresses to LoadBalancer
// Services and reports them (ipMode VIP: traffic arrives with the address as its
// destination, which kube-proxy handles on whichever node the speaker elected).
// Announcing the addresses is the speaker's job (speaker/), in another process.
//
// Where the allocation state comes from. There is no store of its own to lose: the
// objects' statuses are the record. The controller hands them over through the
// contract's restore(), once its caches have synced and before its first ensure; the
// provider rebuilds its state from them, oldest Service first, so that on a dispute the
// older keeps the address. What MetalLB's sharing rules compare beyond the spec
// (externalTrafficPolicy, the selector) and the age restore orders by reach it in the
// spec's allocation facts. Until restore() has run every call fails as transient:
// handing out an address before the state is known could give one address to two
// Services.
import type { HeldAddresses } from '../../model/allocation.js';
import type { IpFamilyNumber } from '../../model/ip.js';
import { describeRef, type LbKind, type LbRef } from '../../model/ref.js';
import type { LoadBalancerSpec } from '../../model/spec.js';
import type { LoadBalancerStatus } from '../../model/status.js';
import {
  ProviderError,
  type CallOptions,
  type Change,
  type OptionsParseResult,
  type OwnedLoadBalancer,
  type Provider,
  type ProviderCapabilities,
  type RestoreReport as ProviderRestoreReport,
} from '../types.js';
import { CapacityWaiters } from '../capacity.js';
import { Allocator, type AllocationErrorKind, type AllocationRequest, type Owner, type RestoreEntry, type RestoreReport } from './allocator.js';
import { DEPRECATED_IP_ALLOCATED_FROM_POOL, IP_ALLOCATED_FROM_POOL, METAL_ANNOTATION_PREFIXES, parseMetalAnnotations, type MetalLbOptions } from './annotations.js';
import type { MetalConfig } from './options.js';
import type { Pool } from './pools.js';

export interface MetalProviderInit {
  readonly name: string;
  readonly clusterName: string;
  readonly config: MetalConfig;
}

const LB_IP_FIELD = 'field spec.loadBalancerIP';

export class MetalProvider implements Provider<MetalLbOptions> {
  readonly type = 'metal';
  readonly name: string;
  readonly clusterName: string;
  readonly config: MetalConfig;
  readonly capabilities: ProviderCapabilities = {
    layers: ['L4'],
    // Targets do not matter here (kube-proxy on the announcing node forwards), and ip
    // needs no node port, so `allocateLoadBalancerNodePorts: false` manifests written
    // for MetalLB work unchanged.
    targetTypes: ['ip', 'instance'],
    annotationPrefixes: METAL_ANNOTATION_PREFIXES,
    objectAnnotations: [IP_ALLOCATED_FROM_POOL, DEPRECATED_IP_ALLOCATED_FROM_POOL],
    allocationByLabels: true,
  };

  private allocator: Allocator;
  /** The pools MetalLB's IPAddressPools define now (setResourcePools), after the config file's. */
  private resourcePools: readonly Pool[] = [];
  private restoreReport: RestoreReport | undefined;
  private readonly waiters = new CapacityWaiters();
  /** Services that lost a disputed address at restore, reported once by their next ensure. */
  private readonly disputed = new Map<string, string>();

  constructor(init: MetalProviderInit) {
    this.name = init.name;
    this.clusterName = init.clusterName;
    this.config = init.config;
    this.allocator = new Allocator(init.config.pools);
  }

  /**
   * Rebuilds the allocations from what the Services' statuses hold. A second call (a new
   * controller on the same provider) forgets everything first: what the old one
   * allocated is in the statuses it hands over, and what it freed must not linger.
   */
  async restore(held: readonly HeldAddresses<MetalLbOptions>[], _opts?: CallOptions): Promise<ProviderRestoreReport> {
    this.allocator = new Allocator(this.pools);
    this.disputed.clear();
    const entries = held.map((h): RestoreEntry => {
      const opts = h.providerOptions;
      const asked = [...(opts?.addresses ?? []), ...h.requestedAddresses];
      return {
        owner: ownerOf(h.ref, h.allocation.createdAt),
        subject: { namespace: h.ref.namespace, labels: h.allocation.labels ?? {} },
        ips: h.addresses,
        ...(opts?.sharingKey !== undefined ? { sharingKey: opts.sharingKey } : {}),
        ports: h.ports,
        backend: { policy: h.allocation.trafficPolicy, selector: h.allocation.selector },
        requested: h.addresses.every((ip) => asked.includes(ip)),
      };
    });
    const report = this.allocator.restore(entries);
    this.restoreReport = report;
    for (const c of report.conflicts) this.disputed.set(c.owner.uid, c.message);
    const refOf = new Map(held.map((h) => [h.ref.uid, h.ref]));
    const dropped = (owner: Owner, addresses: readonly string[], reason: string) => {
      const ref = refOf.get(owner.uid);
      return ref ? [{ ref, addresses, reason }] : [];
    };
    return {
      kept: report.restored.length,
      dropped: [
        ...report.conflicts.flatMap((c) => dropped(c.owner, c.ips, c.message)),
        ...report.outsidePools.flatMap((o) => dropped(o.owner, o.ips, o.reason)),
      ],
    };
  }

  /** Every pool in use: the config file's, then the IPAddressPools'. */
  get pools(): readonly Pool[] {
    return [...this.config.pools, ...this.resourcePools];
  }

  /**
   * The IPAddressPools changed (already checked against the config file's pools and each
   * other: metallb-resources.ts). What Services hold stays theirs until their next ensure,
   * which keeps it if it still fits; the controller reconciles them all. Services refused
   * for want of a pool or an address are woken, since a new pool may be what they lacked.
   */
  setResourcePools(pools: readonly Pool[]): void {
    this.resourcePools = pools;
    this.allocator.setPools(this.pools);
    this.waiters.released();
  }

  onCapacityFreed(listener: (waiting: readonly LbRef[]) => void): () => void {
    return this.waiters.subscribe(listener);
  }

  /** What the restore found (restored, disputed, outside the pools); undefined until it ran. */
  get restored(): RestoreReport | undefined {
    return this.restoreReport;
  }

  parseOptions(annotations: Readonly<Record<string, string>>, _kind: LbKind): OptionsParseResult<MetalLbOptions> {
    const r = parseMetalAnnotations(annotations, this.pools.map((p) => p.name));
    return r.ok ? { ok: true, options: r.options } : { ok: false, errors: r.errors };
  }

  async plan(spec: LoadBalancerSpec<MetalLbOptions>, _opts?: CallOptions): Promise<readonly Change[]> {
    this.ready();
    const req = this.requestFor(spec);
    const before = this.allocator.get(spec.ref.uid);
    const out = this.allocator.allocate(req, { dryRun: true });
    if (!out.ok) throw this.refused(out, spec.ref);
    const want = new Set(out.allocation.ips);
    const have = new Set(before?.ips ?? []);
    return [
      ...[...have].filter((ip) => !want.has(ip)).map((ip): Change => ({ op: 'delete', resource: 'Address', id: ip })),
      ...[...want].filter((ip) => !have.has(ip)).map((ip): Change => ({ op: 'create', resource: 'Address', id: ip, detail: `pool ${out.allocation.pool}` })),
    ];
  }

  async ensure(spec: LoadBalancerSpec<MetalLbOptions>, _opts?: CallOptions): Promise<LoadBalancerStatus> {
    this.ready();
    const dispute = this.disputed.get(spec.ref.uid);
    if (dispute !== undefined) {
      this.disputed.delete(spec.ref.uid);
      throw this.error('conflict', spec.ref, `${dispute}; it gets another address on the next attempt unless it asks for that one`);
    }
    const before = this.allocator.get(spec.ref.uid);
    const out = this.allocator.allocate(this.requestFor(spec));
    if (!out.ok) {
      // A full pool, or an address someone else holds: a release may be all it takes.
      if (out.kind === 'quota' || out.kind === 'conflict') this.waiters.refused(spec.ref);
      throw this.refused(out, spec.ref);
    }
    this.waiters.forget(spec.ref.uid);
    if (before && out.changed) this.waiters.released();
    return {
      ingress: out.allocation.ips.map((ip) => ({ ip, ipMode: 'VIP' as const })),
      annotations: { [IP_ALLOCATED_FROM_POOL]: out.allocation.pool },
    };
  }

  async delete(ref: LbRef, _opts?: CallOptions): Promise<void> {
    this.ready();
    this.disputed.delete(ref.uid);
    this.waiters.forget(ref.uid);
    if (this.allocator.release(ref.uid)) this.waiters.released();
  }

  async listOwned(_opts?: CallOptions): Promise<readonly OwnedLoadBalancer[]> {
    this.ready();
    return this.allocator
      .all()
      .map((a) => {
        const [namespace = '', name = ''] = a.owner.name.split('/');
        return { ref: { kind: 'Service' as const, namespace, name, uid: a.owner.uid }, id: a.ips.join(',') };
      })
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /** Who holds what, for tests and `lbc plan`. */
  allocations(): ReturnType<Allocator['all']> {
    return this.allocator.all();
  }

  // ---- internals ---------------------------------------------------------------------

  private ready(): void {
    if (!this.restoreReport) {
      throw new ProviderError('transient', `metal provider ${this.name}: the addresses in use are not known yet (restore has not run)`, { provider: this.name });
    }
  }

  private requestFor(spec: LoadBalancerSpec<MetalLbOptions>): AllocationRequest {
    if (spec.layer !== 'L4' || spec.ref.kind !== 'Service') {
      throw this.error('invalid', spec.ref, 'the metal provider serves Services (L4) only');
    }
    if (spec.clusterName !== this.clusterName) {
      throw this.error('invalid', spec.ref, `spec is for cluster ${spec.clusterName}, this provider serves ${this.clusterName}`);
    }
    const o = spec.providerOptions;
    const fromAnnotation = o.addresses ?? [];
    if (fromAnnotation.length > 0 && spec.requestedAddresses.length > 0) {
      throw this.error('invalid', spec.ref, `${LB_IP_FIELD} and annotation ${o.addressesAnnotation ?? 'loadBalancerIPs'} are both set; set only the annotation`);
    }
    const requested =
      fromAnnotation.length > 0
        ? { value: fromAnnotation, source: `annotation ${o.addressesAnnotation ?? 'loadBalancerIPs'}` }
        : spec.requestedAddresses.length > 0
          ? { value: spec.requestedAddresses, source: LB_IP_FIELD }
          : undefined;
    const facts = spec.allocation;
    const families = spec.ipFamilies.map((f): IpFamilyNumber => (f === 'IPv6' ? 6 : 4));
    return {
      owner: ownerOf(spec.ref, facts?.createdAt ?? 0),
      subject: { namespace: spec.ref.namespace, labels: facts?.labels ?? {} },
      families: families.length > 0 ? families : [4],
      ...(requested ? { requested } : {}),
      ...(o.pool !== undefined ? { pool: { value: o.pool, source: `annotation ${o.poolAnnotation ?? 'address-pool'}` } } : {}),
      ...(o.sharingKey !== undefined ? { sharingKey: { value: o.sharingKey, source: `annotation ${o.sharingKeyAnnotation ?? 'allow-shared-ip'}` } } : {}),
      ports: spec.listeners.map((l) => ({ protocol: l.protocol, port: l.port })),
      backend: { policy: facts?.trafficPolicy ?? 'Cluster', selector: facts?.selector ?? '' },
    };
  }

  /**
   * An allocation the allocator refused, whatever its reason (outside the pools, pool
   * exhausted, sharing rules broken), is reported as invalid: the controller then
   * puts it on the Service (LoadBalancerReady=False with the message, besides the
   * Warning) and retries rarely instead of backing off hot. Retrying alone never
   * helps here; a change does (to this Service, to the one holding the address, to
   * the pools), and a change to this Service is retried at once. The allocator's own
   * kind stays in the message's wording.
   */
  private refused(out: { readonly kind: AllocationErrorKind; readonly message: string }, ref: LbRef): ProviderError {
    return this.error('invalid', ref, out.message);
  }

  private error(kind: 'invalid' | 'conflict', ref: LbRef, message: string): ProviderError {
    return new ProviderError(kind, `${describeRef(ref)}: ${message}`, { provider: this.name });
  }
}

function ownerOf(ref: LbRef, createdAt: number): Owner {
  return { uid: ref.uid, name: `${ref.namespace}/${ref.name}`, createdAt };
}

export function isMetalProvider(p: Provider | undefined): p is MetalProvider {
  return p instanceof MetalProvider;
}
