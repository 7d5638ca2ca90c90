// The bare-metal provider, controller side: hands out pool addresses to LoadBalancer
// Services and reports them (ipMode VIP: traffic arrives with the address as its
// destination, which kube-proxy handles on whichever node the speaker elected).
// Announcing the addresses is the speaker's job (speaker/), in another process.
//
// Where the allocation state comes from. There is no store of its own to lose: the
// Services' statuses are the record. The provider contract hands ensure() only the
// spec, and the spec lacks what MetalLB's sharing rules compare (externalTrafficPolicy,
// the selector) and what a restart must rebuild from (the statuses). So the controller
// attaches its Service cache once, with attachServices(); the provider then
//  - rebuilds the state from the statuses on its first call, when the cache has synced
//    (the controller starts workers only after its informers sync), oldest Service
//    first so that on a dispute the older keeps the address;
//  - looks up the policy, selector and age of the Service a spec is for.
// The alternative, the provider listing Services itself, would need its own
// credentials and a second watch of every Service for the same data. Until the cache
// is attached every call fails as transient: handing out an address before the state
// is known could give one address to two Services.
import type { V1Service } from '@kubernetes/client-node';
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
} from '../types.js';
import { Allocator, type AllocationErrorKind, type AllocationRequest, type RestoreEntry, type RestoreReport } from './allocator.js';
import { METAL_ANNOTATION_PREFIXES, parseMetalAnnotations, type MetalLbOptions } from './annotations.js';
import type { MetalConfig } from './options.js';
import { backendOf, ownerOf, portsOf, serviceKey, statusIps } from './service-facts.js';

/** What the provider needs of the controller's Service cache (kube/cache.ts's Cache fits). */
export interface ServiceSource {
  list(): readonly V1Service[];
  /** By `namespace/name`. */
  get(key: string): V1Service | undefined;
}

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
  };

  private allocator: Allocator;
  private source: ServiceSource | undefined;
  private owns: ((svc: V1Service) => boolean) | undefined;
  private restoreReport: RestoreReport | undefined;
  /** Services that lost a disputed address at restore, reported once by their next ensure. */
  private readonly disputed = new Map<string, string>();

  constructor(init: MetalProviderInit) {
    this.name = init.name;
    this.clusterName = init.clusterName;
    this.config = init.config;
    this.allocator = new Allocator(init.config.pools);
  }

  /**
   * Gives the provider the controller's Service cache, and which Services it serves.
   * Call once before the first reconcile; the state is rebuilt lazily on the first call
   * after it, so attaching before the informers sync is fine. Attaching again (a new
   * controller on the same provider) forgets everything and rebuilds from the new cache:
   * what the old one allocated is in the statuses, and what it freed must not linger.
   */
  attachServices(source: ServiceSource, owns: (svc: V1Service) => boolean): void {
    this.source = source;
    this.owns = owns;
    this.restoreReport = undefined;
    this.allocator = new Allocator(this.config.pools);
    this.disputed.clear();
  }

  /** What the restore found (restored, disputed, outside the pools); undefined until it ran. */
  get restored(): RestoreReport | undefined {
    return this.restoreReport;
  }

  parseOptions(annotations: Readonly<Record<string, string>>, _kind: LbKind): OptionsParseResult<MetalLbOptions> {
    const r = parseMetalAnnotations(annotations, this.config.pools.map((p) => p.name));
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
    const out = this.allocator.allocate(this.requestFor(spec));
    if (!out.ok) throw this.refused(out, spec.ref);
    return { ingress: out.allocation.ips.map((ip) => ({ ip, ipMode: 'VIP' as const })) };
  }

  async delete(ref: LbRef, _opts?: CallOptions): Promise<void> {
    this.ready();
    this.disputed.delete(ref.uid);
    this.allocator.release(ref.uid);
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
    if (!this.source || !this.owns) {
      throw new ProviderError('transient', `metal provider ${this.name}: no Service cache attached yet, so the addresses in use are unknown`, { provider: this.name });
    }
    if (this.restoreReport) return;
    const entries: RestoreEntry[] = [];
    for (const svc of this.source.list()) {
      if (!svc.metadata?.uid || !this.owns(svc)) continue;
      const ips = statusIps(svc);
      if (ips.length === 0) continue;
      const parsed = parseMetalAnnotations(svc.metadata.annotations ?? {}, this.config.pools.map((p) => p.name));
      const opts = parsed.ok ? parsed.options : undefined;
      const asked = [...(opts?.addresses ?? []), ...(svc.spec?.loadBalancerIP ? [svc.spec.loadBalancerIP] : [])];
      entries.push({
        owner: ownerOf(svc),
        ips,
        ...(opts?.sharingKey !== undefined ? { sharingKey: opts.sharingKey } : {}),
        ports: portsOf(svc),
        backend: backendOf(svc),
        requested: ips.every((ip) => asked.includes(ip)),
      });
    }
    this.restoreReport = this.allocator.restore(entries);
    for (const c of this.restoreReport.conflicts) this.disputed.set(c.owner.uid, c.message);
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
    const svc = this.source?.get(`${spec.ref.namespace}/${spec.ref.name}`);
    const current = svc && svc.metadata?.uid === spec.ref.uid ? svc : undefined;
    const owner = current ? ownerOf(current) : { uid: spec.ref.uid, name: `${spec.ref.namespace}/${spec.ref.name}`, createdAt: Date.now() };
    const families = spec.ipFamilies.map((f): IpFamilyNumber => (f === 'IPv6' ? 6 : 4));
    return {
      owner,
      families: families.length > 0 ? families : [4],
      ...(requested ? { requested } : {}),
      ...(o.pool !== undefined ? { pool: { value: o.pool, source: `annotation ${o.poolAnnotation ?? 'address-pool'}` } } : {}),
      ...(o.sharingKey !== undefined ? { sharingKey: { value: o.sharingKey, source: `annotation ${o.sharingKeyAnnotation ?? 'allow-shared-ip'}` } } : {}),
      ports: spec.listeners.map((l) => ({ protocol: l.protocol, port: l.port })),
      backend: current ? backendOf(current) : { policy: 'Cluster', selector: '' },
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

export function isMetalProvider(p: Provider | undefined): p is MetalProvider {
  return p instanceof MetalProvider;
}

export { serviceKey };
