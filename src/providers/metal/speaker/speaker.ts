// The speaker (`lbc speaker --node NAME`, one per node): watches Services, EndpointSlices,
// Nodes and the speakers' Leases, keeps the membership alive by gossip, and announces
// the addresses this node wins, through one responder per interface.
//
// Start: sync the informers, gossip for a settle period without taking part (so the
// live peers are heard before deciding anything), write the Lease, then take part.
// Stop (SIGTERM): withdraw everything first, tell the peers "leaving" and delete the
// Lease, so the next node takes over at once instead of after deadAfter.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { V1EndpointSlice, V1Lease, V1Node, V1Service } from '@kubernetes/client-node';
import { serviceOwnership, type OwnershipConfig } from '../../../config/ownership.js';
import { statusAddresses } from '../../../model/allocation.js';
import type { KubeClients } from '../../../kube/client.js';
import { EventRecorder } from '../../../kube/events.js';
import { ENDPOINTSLICE_BY_SERVICE, endpointSliceIndexers } from '../../../kube/indexes.js';
import { IPAddressPools, L2Advertisements, metallbServed, ServiceL2Statuses, type CustomObject } from '../../../kube/metallb.js';
import { newInformer, type Informer, type WatchFn } from '../../../kube/informer.js';
import type { Logger } from '../../../kube/logger.js';
import { EndpointSlices, Leases, Nodes, Services } from '../../../kube/resources.js';
import { sleep } from '../../../kube/sleep.js';
import type { MetalConfig } from '../options.js';
import { poolsFromResources } from '../metallb-resources.js';
import { poolOf, type Pool } from '../pools.js';
import { advertisedInterfaces, Announcements, decide, nodeView, serviceKey, serviceView, type Decision } from './announcer.js';
import { Gossip } from './gossip.js';
import { hostInterfaces, interfacesFor, type HostInterface } from './interfaces.js';
import { LEASE_NODE_LABEL, LEASE_PROVIDER_LABEL, LeaseKeeper, leaseView } from './lease.js';
import { Membership, type Heartbeat } from './membership.js';
import { loadPacketAddon } from './packet-socket.js';
import { L2Status, LABEL_ANNOUNCE_NODE, type Announced } from './l2-status.js';
import { InterfaceResponder, type SocketFactory } from './responder.js';

export { leaseName } from './lease.js';

/** What a line is about, for a JSON logger to write as fields (`lbc speaker` adds the node). */
export interface SpeakerLogFields {
  /** What happened: `takes-part`, `announce`, `withdraw`, `not-announcing`, ... */
  readonly event?: string;
  /** The load balancer address the line is about. */
  readonly address?: string;
  readonly interface?: string;
}

export interface SpeakerInit {
  readonly node: string;
  /** The metal provider (config `providers[].name`) whose addresses this speaker announces. */
  readonly provider: string;
  readonly metal: MetalConfig;
  /** Which Services belong to which provider (the controller's own rules). */
  readonly ownership: OwnershipConfig;
  readonly clients: KubeClients;
  readonly log?: Logger;
  // ---- for tests ----
  readonly hostInterfaces?: () => HostInterface[];
  readonly socketFactory?: SocketFactory;
  readonly watch?: WatchFn;
  readonly gossipBind?: { v4?: string; v6?: string };
  /** The speaker's own Pod (downward API POD_NAME, POD_UID): owner of its ServiceL2Statuses. */
  readonly pod?: { readonly name: string; readonly uid: string };
  /** Where its Events go; by default a recorder of its own on clients.writes. */
  readonly events?: EventRecorder;
}

const consoleLog: Logger = {
  info: (m) => console.log(`lbc speaker: ${m}`),
  warn: (m) => console.warn(`lbc speaker: ${m}`),
};

/** An announcement entry, `ip@interface`, as log fields. */
function entryFields(entry: string): { address: string; interface: string } {
  const at = entry.lastIndexOf('@');
  return { address: entry.slice(0, at), interface: entry.slice(at + 1) };
}

export class Speaker {
  readonly incarnation = randomBytes(6).toString('hex');
  readonly services: Informer<V1Service>;
  readonly endpointSlices: Informer<V1EndpointSlice>;
  readonly nodes: Informer<V1Node>;
  readonly leases: Informer<V1Lease>;
  readonly membership: Membership;

  private readonly init: SpeakerInit;
  private readonly log: Logger;
  private readonly gossip: Gossip;
  private readonly responders = new Map<string, InterfaceResponder>();
  private readonly announcements: Announcements;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly key: Buffer | undefined;
  private seq = 0;
  private ready = false;
  private stopping: Promise<void> | undefined;
  private recomputeQueued = false;
  private lastLive = '';
  private lastDecisions = new Map<string, Decision>();
  private readonly warned = new Set<string>();
  private readonly lease: LeaseKeeper;
  /** MetalLB's resources, read when metallb.resources is set and the server serves them (start decides). */
  private readonly metallb: { pools: Informer<CustomObject>; advertisements: Informer<CustomObject>; statuses: Informer<CustomObject> } | undefined;
  /** ServiceL2Statuses and nodeAssigned Events for what this node announces. */
  private readonly l2: L2Status;
  private metallbActive = false;
  private resourcePools: readonly Pool[] = [];
  private readonly recorder: EventRecorder;
  private readonly ownsRecorder: boolean;

  constructor(init: SpeakerInit) {
    this.init = init;
    this.log = init.log ?? consoleLog;
    const s = init.metal.speaker;
    this.key = s.gossipKeyFile ? readFileSync(s.gossipKeyFile) : undefined;
    this.membership = new Membership({ self: init.node, deadAfterMs: s.deadAfter });
    this.lease = new LeaseKeeper({
      coordination: init.clients.coordination,
      namespace: s.leaseNamespace,
      provider: init.provider,
      node: init.node,
      incarnation: this.incarnation,
      durationMs: s.leaseDuration,
    });
    const common = { logger: { warn: (m: string, ...a: unknown[]) => this.log.warn(`${m} ${a.map(String).join(' ')}`) }, ...(init.watch ? { watch: init.watch } : {}) };
    this.services = newInformer(init.clients, Services, { ...common, name: 'services' });
    this.endpointSlices = newInformer(init.clients, EndpointSlices, { ...common, name: 'endpointslices', indexers: endpointSliceIndexers });
    this.nodes = newInformer(init.clients, Nodes, { ...common, name: 'nodes' });
    this.leases = newInformer(init.clients, Leases, {
      ...common,
      name: 'leases',
      namespace: s.leaseNamespace,
      labelSelector: `${LEASE_PROVIDER_LABEL}=${init.provider}`,
    });
    this.gossip = new Gossip({
      port: s.gossipPort,
      ...(this.key ? { key: this.key } : {}),
      addressOf: (node, address) => (this.nodes.cache.get(node)?.status?.addresses ?? []).some((a) => a.address === address),
      onHeartbeat: (hb) => {
        if (this.membership.heard(hb, Date.now())) this.checkLiveness();
      },
      log: this.log,
      ...(init.gossipBind ? { bind: init.gossipBind } : {}),
    });
    this.announcements = new Announcements({
      announce: (ip, ifname) => {
        const r = this.responderFor(ifname);
        if (!r) throw new Error(`interface ${ifname} is gone`);
        r.announce(ip);
      },
      withdraw: (ip, ifname) => {
        const r = this.responders.get(ifname);
        r?.withdraw(ip);
        if (r && r.announced.length === 0) {
          r.close();
          this.responders.delete(ifname);
        }
      },
    });
    this.ownsRecorder = !init.events;
    this.recorder = init.events ?? new EventRecorder({ core: init.clients.writes.core, component: 'lbc-speaker', reportingController: 'lbc.dev/speaker', logger: this.log });
    const m = init.metal.metallb;
    if (m.resources) {
      const inNs = { ...common, namespace: m.namespace };
      const statuses = newInformer(init.clients, ServiceL2Statuses, { ...inNs, name: 'servicel2statuses', labelSelector: `${LABEL_ANNOUNCE_NODE}=${init.node}` });
      this.metallb = {
        pools: newInformer(init.clients, IPAddressPools, { ...inNs, name: 'ipaddresspools' }),
        advertisements: newInformer(init.clients, L2Advertisements, { ...inNs, name: 'l2advertisements' }),
        statuses,
      };
      const configChanged = (): void => {
        this.rebuildPools();
        this.queueRecompute();
      };
      for (const inf of [this.metallb.pools, this.metallb.advertisements]) inf.onAdd(configChanged).onUpdate(configChanged).onDelete(configChanged);
    }
    this.l2 = new L2Status({
      kc: init.clients.kc,
      node: init.node,
      namespace: m.namespace,
      ...(init.pod ? { pod: init.pod } : {}),
      events: this.recorder,
      log: this.log,
      existing: () => (this.metallbActive && this.metallb ? this.metallb.statuses.cache.list() : []),
      writeStatuses: () => this.metallbActive,
    });
    const changed = (): void => this.queueRecompute();
    this.services.onAdd(changed).onUpdate(changed).onDelete(changed);
    this.endpointSlices.onAdd(changed).onUpdate(changed).onDelete(changed);
    this.nodes.onAdd(changed).onUpdate(changed).onDelete(changed);
    this.leases
      .onAdd((l) => this.leaseSeen(l))
      .onUpdate((_o, l) => this.leaseSeen(l))
      .onDelete((l) => {
        const node = l.metadata?.labels?.[LEASE_NODE_LABEL];
        if (node) this.membership.leaseGone(node);
        this.checkLiveness();
      });
  }

  /** Resolves once the speaker takes part in elections. */
  async start(signal?: AbortSignal): Promise<void> {
    const s = this.init.metal.speaker;
    // Fail at start, not at the first takeover, when the node cannot announce at all.
    if (!this.init.socketFactory) loadPacketAddon();
    if (this.metallb) {
      this.metallbActive = await metallbServed(this.init.clients, this.init.metal.metallb.namespace);
      if (!this.metallbActive) this.log.warn(`MetalLB's CRDs are not installed (metallb.io/v1beta1 is not served): announcing the config file's pools only`, { event: 'no-metallb-crds' });
    }
    const informers = this.informers();
    for (const inf of informers) inf.start();
    await Promise.all(informers.map((inf) => inf.waitForSync(signal)));
    this.rebuildPools();
    await this.gossip.start();
    this.every(s.heartbeatInterval, () => this.heartbeat(false));
    // Liveness is checked well inside deadAfter, so a dead peer is acted on within a few ms of being declared dead.
    this.every(Math.max(10, Math.min(50, Math.floor(s.heartbeatInterval / 4))), () => this.checkLiveness());
    // A safety net for what no event announces: an interface or address that appeared, an announce that failed.
    this.every(10_000, () => this.recompute());
    this.heartbeat(false);
    // Hear every live peer before taking part, or this node would briefly think itself alone.
    await sleep(s.deadAfter + s.heartbeatInterval, signal);
    await this.lease.renew();
    this.every(Math.floor(s.leaseDuration / 4), () => void this.lease.renew().catch((e: unknown) => this.log.warn(`renewing Lease: ${(e as Error).message}`, { event: 'lease-renew-failed' })));
    this.membership.setSelfReady(true);
    this.ready = true;
    this.heartbeat(false);
    this.log.info(`node ${this.init.node} (incarnation ${this.incarnation}) takes part; ${this.nodes.cache.size} Nodes, ${this.services.cache.size} Services`, { event: 'takes-part' });
    this.recompute();
  }

  /** Gives up every announcement at once, then (clean) tells the peers and removes the Lease. */
  stop(opts: { clean?: boolean } = {}): Promise<void> {
    this.stopping ??= this.shutdown(opts.clean ?? true);
    return this.stopping;
  }

  /** ip → interfaces this node announces now. */
  announced(): Map<string, string[]> {
    return this.announcements.snapshot();
  }

  decisions(): ReadonlyMap<string, Decision> {
    return this.lastDecisions;
  }

  // ---- internals -------------------------------------------------------------------

  private async shutdown(clean: boolean): Promise<void> {
    const wasReady = this.ready;
    this.ready = false;
    this.membership.setSelfReady(false);
    for (const t of this.timers.splice(0)) clearInterval(t);
    const withdrawn = this.announcements.clear();
    for (const w of withdrawn) this.log.info(`stopping: withdrew ${w}`, { event: 'withdraw', ...entryFields(w) });
    if (clean && wasReady) {
      // Datagrams can be lost; three cost nothing.
      for (let i = 0; i < 3; i++) this.heartbeat(true);
      await this.lease.release().catch((e: unknown) => this.log.warn(`deleting Lease: ${(e as Error).message}`, { event: 'lease-release-failed' }));
    }
    for (const r of this.responders.values()) r.close();
    this.responders.clear();
    if (clean && this.metallbActive) {
      // Another node's speaker writes its own status once it announces; this one's go now.
      this.l2.update(new Map());
      await this.l2.settled();
    }
    if (this.ownsRecorder) await this.recorder.close();
    else await this.recorder.flush();
    this.gossip.close();
    await Promise.all(this.informers().map((i) => i.stop()));
  }

  private informers(): Pick<Informer<V1Service>, 'start' | 'waitForSync' | 'stop'>[] {
    const m = this.metallbActive && this.metallb ? [this.metallb.pools, this.metallb.advertisements, this.metallb.statuses] : [];
    return [this.services, this.endpointSlices, this.nodes, this.leases, ...m];
  }

  /** The pools this speaker announces now: the config file's, then MetalLB's IPAddressPools (with their L2Advertisements). */
  pools(): readonly Pool[] {
    return [...this.init.metal.pools, ...this.resourcePools];
  }

  // The controller reports bad resources as Events; the speaker only leaves them out.
  private rebuildPools(): void {
    if (!this.metallb || !this.metallbActive) return;
    const { pools } = poolsFromResources(
      { ipAddressPools: this.metallb.pools.cache.list(), l2Advertisements: this.metallb.advertisements.cache.list(), namespaces: [] },
      this.init.metal.pools,
    );
    this.resourcePools = pools;
  }

  private every(ms: number, fn: () => void): void {
    const t = setInterval(fn, ms);
    this.timers.push(t);
  }

  private peerAddresses(): string[] {
    const out: string[] = [];
    for (const n of this.nodes.cache.list()) {
      if (n.metadata?.name === this.init.node) continue;
      const addrs = n.status?.addresses ?? [];
      // One address per peer: the first InternalIP, IPv4 preferred, as kubelet orders them.
      const internal = addrs.filter((a) => a.type === 'InternalIP');
      const pick = internal.find((a) => !a.address.includes(':')) ?? internal[0] ?? addrs.find((a) => a.type === 'ExternalIP');
      if (pick) out.push(pick.address);
    }
    return out;
  }

  private heartbeat(leaving: boolean): void {
    const hb: Heartbeat = { node: this.init.node, incarnation: this.incarnation, seq: this.seq++, ready: this.ready, leaving };
    this.gossip.send(hb, this.peerAddresses());
  }

  private leaseSeen(l: V1Lease): void {
    const view = leaseView(l, Date.now(), this.init.metal.speaker.leaseDuration);
    if (!view) return;
    this.membership.lease(view);
    this.checkLiveness();
  }

  private checkLiveness(): void {
    if (!this.ready) return;
    const live = [...this.membership.live(Date.now())].sort().join(',');
    if (live === this.lastLive) return;
    this.lastLive = live;
    this.recompute();
  }

  private queueRecompute(): void {
    if (this.recomputeQueued || !this.ready) return;
    this.recomputeQueued = true;
    setImmediate(() => {
      this.recomputeQueued = false;
      this.recompute();
    });
  }

  private ours(svc: V1Service): boolean {
    const own = serviceOwnership(svc, this.init.ownership);
    return own.ours && own.provider === this.init.provider && statusAddresses(svc).some((ip) => poolOf(this.pools(), ip));
  }

  private recompute(): void {
    if (!this.ready || this.stopping) return;
    const now = Date.now();
    const live = this.membership.live(now);
    this.lastLive = [...live].sort().join(',');
    const services = this.services.cache
      .list()
      .filter((svc) => this.ours(svc))
      .map((svc) => serviceView(svc, this.endpointSlices.cache.byIndex(ENDPOINTSLICE_BY_SERVICE, serviceKey(svc))));
    const nodes = this.nodes.cache.list().map(nodeView);
    const decisions = decide({ pools: this.pools(), services, nodes, live });
    this.lastDecisions = decisions;
    const host = (this.init.hostInterfaces ?? hostInterfaces)();
    const wanted = new Map<string, string[]>();
    const announcedServices = new Map<string, readonly string[] | undefined>();
    for (const d of decisions.values()) {
      if (d.winner !== this.init.node) continue;
      const advertised = advertisedInterfaces(d.advertisements, this.nodes.cache.get(this.init.node)?.metadata?.labels ?? {});
      const named = advertised ?? [];
      const ifs = interfacesFor(d.ip, named, host);
      if (ifs.length === 0) {
        this.warnOnce(`noif:${d.ip}`, `elected for ${d.ip} but no interface ${named.length ? `named ${named.join(', ')}` : 'has a network holding it'}; not announcing`, {
          event: 'not-announcing',
          address: d.ip,
        });
        continue;
      }
      wanted.set(d.ip, ifs);
      for (const key of d.services) announcedServices.set(key, advertised);
    }
    const { announced, withdrawn, failed } = this.announcements.apply(wanted);
    this.l2.update(announcedServices satisfies Announced);
    for (const f of failed) this.warnOnce(`fail:${f.entry}:${f.error}`, `cannot announce ${f.entry}: ${f.error}; retrying`, { event: 'announce-failed', ...entryFields(f.entry) });
    for (const w of withdrawn) this.log.info(`withdraw ${w}: ${this.why(w, decisions)}`, { event: 'withdraw', ...entryFields(w) });
    for (const a of announced) this.log.info(`announce ${a} (live: ${[...live].sort().join(', ')})`, { event: 'announce', ...entryFields(a) });
    for (const node of this.membership.unheard(now)) {
      this.warnOnce(
        `unheard:${node}`,
        `no heartbeats from ${node}, alive by its Lease only: is UDP port ${this.init.metal.speaker.gossipPort} blocked? Failover for its addresses falls back to Lease expiry`,
        { event: 'peer-unheard' },
      );
    }
  }

  private why(entry: string, decisions: ReadonlyMap<string, Decision>): string {
    const d = decisions.get(entryFields(entry).address);
    if (!d) return 'no Service of ours holds it any more';
    if (d.winner) return `${d.winner} wins it now`;
    return d.reason ?? 'nobody may announce it';
  }

  private warnOnce(key: string, msg: string, fields: SpeakerLogFields): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.log.warn(msg, fields);
  }

  private responderFor(ifname: string): InterfaceResponder | undefined {
    let r = this.responders.get(ifname);
    if (r) return r;
    const iface = (this.init.hostInterfaces ?? hostInterfaces)().find((h) => h.name === ifname);
    if (!iface) return undefined;
    r = new InterfaceResponder({
      iface,
      gratuitousForMs: this.init.metal.speaker.gratuitousFor,
      log: this.log,
      ...(this.init.socketFactory ? { socketFactory: this.init.socketFactory } : {}),
    });
    this.responders.set(ifname, r);
    return r;
  }
}
