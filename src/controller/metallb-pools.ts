// The controller's side of MetalLB's configuration resources: informers on the
// IPAddressPools and L2Advertisements in MetalLB's namespace (and on Namespaces, whose
// labels serviceAllocation.namespaceSelectors match), turned into pools for a metal
// provider whenever any of them changes, while running. A resource lbc cannot use gets a
// Warning Event on itself, once per distinct problem; the other pools keep serving.
// Where MetalLB's BGP CRDs are served, BGPPeers, BGPAdvertisements, Communities and
// BFDProfiles are watched too, only to give the same Warnings: each speaker judges them
// by the same functions (speaker/bgp-resources.ts) but can only log, on every node.
//
// Where MetalLB's CRDs are not installed the provider serves its config file's pools
// alone, and says so once: lbc does not require MetalLB's CRDs, and watching a resource
// the server does not serve would keep the controller from ever syncing.
import type { V1Namespace } from '@kubernetes/client-node';
import type { KubeClients } from '../kube/client.js';
// The BGP kinds' type (speaker/bgp-resources.ts), whose spec is a record.
import type { CustomObject as BgpObject } from '../kube/custom-resources.js';
import { newInformer, type Informer, type InformerOptions, type WatchFn } from '../kube/informer.js';
import type { Logger } from '../kube/logger.js';
import { IPAddressPools, L2Advertisements, metallbServed, type CustomObject } from '../kube/metallb.js';
import { Namespaces } from '../kube/resources.js';
import type { MetalProvider } from '../providers/metal/metal-provider.js';
import { poolsFromResources, type ResourceIssue } from '../providers/metal/metallb-resources.js';
import { BFDProfiles, BGPAdvertisements, BGPPeers, bgpResourceIssues, bgpResourcesServed, Communities } from '../providers/metal/speaker/bgp-resources.js';
import type { EventSink } from './reconcile.js';

/** The Event reason on a MetalLB resource lbc cannot use. */
export const InvalidMetalLbResource = 'InvalidConfiguration';

export interface MetalLbPoolsOptions {
  readonly clients: KubeClients;
  readonly provider: MetalProvider;
  readonly events: EventSink;
  readonly log: Logger;
  /** The pools changed: the provider's Services must be ensured again. */
  readonly onChange: () => void;
  readonly watch?: WatchFn;
  readonly informer?: Pick<InformerOptions<CustomObject>, 'minWatchTimeoutSeconds' | 'watchdogMs' | 'relistPeriodMs' | 'pageSize' | 'backoff'>;
}

export class MetalLbPools {
  readonly namespace: string;
  private readonly pools: Informer<CustomObject>;
  private readonly advertisements: Informer<CustomObject>;
  private readonly namespaces: Informer<V1Namespace>;
  private readonly bgp: { readonly name: string; readonly informer: Informer<BgpObject> }[];
  /** False until sync found MetalLB's BGP CRDs served; then their informers run too. */
  private bgpActive = false;
  /** False until sync found MetalLB's CRDs served; then the informers run. */
  private active = false;
  private queued = false;
  private lastPools = '';
  /** uid → the problems last reported on it, so a resync or an unrelated change does not repeat the Event. */
  private reported = new Map<string, string>();

  constructor(private readonly opts: MetalLbPoolsOptions) {
    this.namespace = opts.provider.config.metallb.namespace;
    const common = { ...opts.informer, logger: opts.log, ...(opts.watch ? { watch: opts.watch } : {}) };
    this.pools = newInformer(opts.clients, IPAddressPools, { ...common, name: 'ipaddresspools', namespace: this.namespace });
    this.advertisements = newInformer(opts.clients, L2Advertisements, { ...common, name: 'l2advertisements', namespace: this.namespace });
    this.namespaces = newInformer(opts.clients, Namespaces, { ...common, name: 'namespaces' });
    const ns = { ...common, namespace: this.namespace };
    this.bgp = [
      { name: 'bgppeers', informer: newInformer(opts.clients, BGPPeers, { ...ns, name: 'bgppeers' }) },
      { name: 'bgpadvertisements', informer: newInformer(opts.clients, BGPAdvertisements, { ...ns, name: 'bgpadvertisements' }) },
      { name: 'communities', informer: newInformer(opts.clients, Communities, { ...ns, name: 'communities' }) },
      { name: 'bfdprofiles', informer: newInformer(opts.clients, BFDProfiles, { ...ns, name: 'bfdprofiles' }) },
    ];
    const changed = (): void => this.queue();
    for (const inf of [...this.informers(), ...this.bgp.map((b) => b.informer)]) inf.onAdd(changed).onUpdate(changed).onDelete(changed);
  }

  /** One per metal provider that reads MetalLB's resources. */
  static for(providers: readonly { type: string }[], make: (provider: MetalProvider) => MetalLbPools): MetalLbPools[] {
    return providers.filter((p): p is MetalProvider => p.type === 'metal' && (p as MetalProvider).config.metallb.resources).map(make);
  }

  /** Starts the informers if MetalLB's CRDs are served, waits for their first lists and hands the provider its pools. */
  async sync(signal?: AbortSignal): Promise<void> {
    // Once, however many callers sync at the same time (a standby replica and its election).
    this.activation ??= this.activate();
    if (!(await this.activation)) return;
    await Promise.all(this.informers().map((inf) => inf.waitForSync(signal)));
    this.apply();
  }

  informerSync(): { readonly resource: string; readonly synced: boolean }[] {
    const names = ['ipaddresspools', 'l2advertisements', 'namespaces', ...this.bgp.map((b) => b.name)];
    return this.active ? this.informers().map((inf, i) => ({ resource: names[i] ?? '', synced: inf.hasSynced() })) : [];
  }

  async stop(): Promise<void> {
    if (this.active) await Promise.all(this.informers().map((inf) => inf.stop()));
  }

  /** Rebuilds the pools from what the informers hold, tells the provider, and reports each new problem. */
  apply(): void {
    if (!this.active) return;
    const [peers, bgpAdvertisements, communities, bfdProfiles] = this.bgp.map((b) => (this.bgpActive ? b.informer.cache.list() : []));
    const { pools, issues } = poolsFromResources(
      {
        ipAddressPools: this.pools.cache.list(),
        l2Advertisements: this.advertisements.cache.list(),
        bgpAdvertisements: bgpAdvertisements ?? [],
        namespaces: this.namespaces.cache.list().map((ns) => ({ name: ns.metadata?.name ?? '', labels: ns.metadata?.labels ?? {} })),
      },
      this.opts.provider.config.pools,
    );
    this.report([...issues, ...bgpResourceIssues({ peers: peers ?? [], advertisements: bgpAdvertisements ?? [], communities: communities ?? [], bfdProfiles: bfdProfiles ?? [] })]);
    const text = JSON.stringify(pools, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
    if (text === this.lastPools) return;
    this.lastPools = text;
    this.opts.provider.setResourcePools(pools);
    this.opts.log.info(`provider ${this.opts.provider.name}: pools ${this.opts.provider.pools.map((p) => p.name).join(', ') || '(none)'} (IPAddressPools in ${this.namespace}: ${pools.length})`);
    this.opts.onChange();
  }

  private report(issues: readonly ResourceIssue[]): void {
    const now = new Map<string, string>();
    for (const i of issues) now.set(i.object.uid, [now.get(i.object.uid), i.message].filter(Boolean).join('; '));
    for (const i of issues) {
      const message = now.get(i.object.uid) ?? i.message;
      if (this.reported.get(i.object.uid) === message) continue;
      this.reported.set(i.object.uid, message);
      this.opts.events.event({ ...i.object }, 'Warning', InvalidMetalLbResource, message);
      this.opts.log.warn(`${i.object.kind} ${i.object.namespace}/${i.object.name}: ${message}`);
    }
    // A fixed object's next problem is told again.
    this.reported = new Map([...this.reported].filter(([uid]) => now.has(uid)));
  }

  private queue(): void {
    if (this.queued || !this.allSynced()) return;
    this.queued = true;
    setImmediate(() => {
      this.queued = false;
      this.apply();
    });
  }

  private activation: Promise<boolean> | undefined;

  private async activate(): Promise<boolean> {
    if (!(await metallbServed(this.opts.clients, this.namespace))) {
      this.opts.log.warn(
        `provider ${this.opts.provider.name}: MetalLB's CRDs are not installed (metallb.io/v1beta1 is not served): pools come from the config file only; install them and restart lbc to use IPAddressPools`,
      );
      return false;
    }
    this.bgpActive = await bgpResourcesServed(this.opts.clients, this.namespace);
    this.active = true;
    for (const inf of this.informers()) inf.start();
    return true;
  }

  private allSynced(): boolean {
    return this.informers().every((inf) => inf.hasSynced());
  }

  /** The informers that run: the BGP ones only where their CRDs are served. */
  private informers(): Informer<CustomObject | BgpObject | V1Namespace>[] {
    return [this.pools, this.advertisements, this.namespaces, ...(this.bgpActive ? this.bgp.map((b) => b.informer) : [])] as Informer<CustomObject | BgpObject | V1Namespace>[];
  }
}
