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
import { advertisedInterfaces, Announcements, decide, Handover, nodeView, serviceKey, serviceView, type Decision } from './announcer.js';
import { BgpMode, bgpPools } from './bgp.js';
import { Gossip } from './gossip.js';
import { hostInterfaces, interfacesFor, OwnLink, type HostInterface } from './interfaces.js';
import { LEASE_NODE_LABEL, LEASE_PROVIDER_LABEL, LeaseKeeper, leaseView } from './lease.js';
import { Membership, type Heartbeat } from './membership.js';
import { loadPacketAddon } from './packet-socket.js';
import { L2Status, LABEL_ANNOUNCE_NODE, NODE_ASSIGNED, type Announced } from './l2-status.js';
import { InterfaceResponder, type SocketFactory } from './responder.js';

export { leaseName } from './lease.js';

/** What a line is about, for a JSON logger to write as fields (`lbc speaker` adds the node). */
export interface SpeakerLogFields {
  /** What happened: `takes-part`, `announce`, `withdraw`, `not-announcing`, ... */
  readonly event?: string;
  /** The load balancer address the line is about. */
  readonly address?: string;
  readonly interface?: string;
  /** The other speaker's node the line is about. */
  readonly peer?: string;
}

/** What the speaker's metrics read (observability/speaker-metrics.ts). */
export interface SpeakerStats {
  /** Peers alive by their Lease alone: their heartbeats do not arrive, or ours do not reach them. */
  readonly peersOnLease: number;
  /** Times a peer became alive by its Lease alone. */
  readonly leaseFallbacks: number;
  /** Addresses this node announces now. */
  readonly announced: number;
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
  private readonly handover: Handover;
  /** Peers that stopped acknowledging us, each once until they do again (the Lease was renewed for them). */
  private readonly unacknowledged = new Set<string>();
  /** Peers alive by their Lease alone, as last logged. */
  private readonly onLease = new Set<string>();
  private leaseFallbacks = 0;
  private readonly link: OwnLink;
  /** Off its network (OwnLink): takes no part until it is back. */
  private offline = false;
  private rejoin: NodeJS.Timeout | undefined;
  private lastPrompt = 0;
  /** When this process last ran a liveness check: a longer gap than the checks' interval is a stall (checkStall). */
  private lastAwake: number | undefined;
  /** BGP mode: sessions to the BGPPeers selecting this node (off without MetalLB's CRDs). */
  readonly bgp: BgpMode;
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
    this.membership = new Membership({ self: init.node, incarnation: this.incarnation, deadAfterMs: s.deadAfter, heartbeatIntervalMs: s.heartbeatInterval });
    this.handover = new Handover(s.deadAfter);
    this.link = new OwnLink(
      () => (this.nodes.cache.get(init.node)?.status?.addresses ?? []).filter((a) => a.type === 'InternalIP').map((a) => a.address),
      init.hostInterfaces ?? hostInterfaces,
    );
    this.lease = new LeaseKeeper({
      coordination: init.clients.coordination,
      namespace: s.leaseNamespace,
      provider: init.provider,
      node: init.node,
      incarnation: this.incarnation,
      durationMs: s.leaseDuration,
      // While ready only: the number is what keeps a silent speaker alive by its Lease.
      heartbeatSeq: () => (this.ready && !this.offline ? this.seq - 1 : undefined),
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
        const now = Date.now();
        // Before it counts as heard now: a stall found later would move it into the future.
        if (this.ready) this.checkStall(now);
        if (this.membership.heard(hb, now)) this.checkLiveness();
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
    this.bgp = new BgpMode({
      node: init.node,
      // MetalLB's namespace, where the IPAddressPools are read too.
      namespace: init.metal.metallb.namespace,
      clients: init.clients,
      ...(init.pod ? { pod: init.pod } : {}),
      log: this.log,
      pools: () => bgpPools(this.pools()),
      ...(init.watch ? { watch: init.watch } : {}),
      changed: () => this.queueRecompute(),
      assigned: (key) => {
        const [namespace = '', name = ''] = key.split('/');
        this.recorder.event({ kind: 'Service', apiVersion: 'v1', namespace, name }, 'Normal', NODE_ASSIGNED, `announcing from node "${init.node}" with protocol "bgp"`);
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
      clients: init.clients,
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
    await this.bgp.start(signal);
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

  /** For the metrics endpoint, read when scraped. */
  stats(): SpeakerStats {
    return { peersOnLease: this.onLease.size, leaseFallbacks: this.leaseFallbacks, announced: this.announcements.size };
  }

  // ---- internals -------------------------------------------------------------------

  private async shutdown(clean: boolean): Promise<void> {
    const wasReady = this.ready;
    this.ready = false;
    this.membership.setSelfReady(false);
    for (const t of this.timers.splice(0)) clearInterval(t);
    clearTimeout(this.rejoin);
    // BGP first: a Cease makes the routers drop this node's routes at once.
    await this.bgp.stop(clean).catch((e: unknown) => this.log.warn(`closing BGP sessions: ${(e as Error).message}`, { event: 'bgp-stop-failed' }));
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

  private peers(): { address: string; ack?: Heartbeat['ack'] }[] {
    const out: { address: string; ack?: Heartbeat['ack'] }[] = [];
    for (const n of this.nodes.cache.list()) {
      const name = n.metadata?.name ?? '';
      if (name === this.init.node) continue;
      const addrs = n.status?.addresses ?? [];
      // One address per peer: the first InternalIP, IPv4 preferred, as kubelet orders them.
      const internal = addrs.filter((a) => a.type === 'InternalIP');
      const pick = internal.find((a) => !a.address.includes(':')) ?? internal[0] ?? addrs.find((a) => a.type === 'ExternalIP');
      const ack = this.membership.ackFor(name);
      if (pick) out.push({ address: pick.address, ...(ack ? { ack } : {}) });
    }
    return out;
  }

  private heartbeat(leaving: boolean): void {
    const hb = { node: this.init.node, incarnation: this.incarnation, seq: this.seq++, ready: this.ready && !this.offline, leaving };
    this.membership.sent(hb.seq, hb.ready, Date.now());
    this.gossip.send(hb, this.peers());
  }

  private leaseSeen(l: V1Lease): void {
    const view = leaseView(l, Date.now(), this.init.metal.speaker.leaseDuration);
    if (!view) return;
    this.membership.lease(view);
    this.checkLiveness();
  }

  private checkLiveness(): void {
    if (!this.ready) return;
    const now = Date.now();
    this.checkStall(now);
    this.checkLink();
    this.checkAcknowledged(now);
    this.reportLeaseFallback(now);
    const live = [...this.membership.live(now)].sort().join(',');
    if (live === this.lastLive) {
      // Addresses held for a hand-over go as soon as the last peer acknowledges us.
      if (this.handover.holding) this.recompute();
      return;
    }
    this.lastLive = live;
    this.recompute();
    // The hand-over message: whoever waits for us to release an address hears at once that
    // we did. At most one per 20 ms (100 speakers starting together change every live set
    // 100 times); one skipped only delays a hand-over to the next regular heartbeat.
    if (now - this.lastPrompt >= 20) {
      this.lastPrompt = now;
      this.heartbeat(false);
    }
  }

  /**
   * The liveness check runs at least every heartbeatInterval / 4, so a longer gap since
   * the last one is time this process did not run. Two rules, both applied before the
   * datagrams and ARP requests that waited in the sockets are read:
   * - silence across our own stall is not a peer's (Membership.stalled);
   * - stalled so long that the peers that heard us may have counted us dead (they do after
   *   deadAfter without a heartbeat, and ours went out up to an interval before the stall;
   *   peers that count us by our Lease, gossip being blocked, go on doing so), another
   *   node may be answering for our addresses now: we stop answering them (self-fencing)
   *   and take them back through the hand-over, as after a restart, once every peer we
   *   hear has acknowledged a heartbeat sent after the stall. Otherwise both would answer
   *   until the taker hears us again, and the queued requests would be answered late by us.
   */
  private checkStall(now: number): void {
    const last = this.lastAwake;
    this.lastAwake = now;
    const s = this.init.metal.speaker;
    if (last === undefined || now - last <= s.heartbeatInterval) return;
    const gap = now - last;
    // Only peers that heard us before the stall judge us by our heartbeats' silence; those that count us by our Lease (gossip blocked) still do.
    const judging = this.membership.heardRecently(last);
    this.membership.stalled(gap);
    if (gap + s.heartbeatInterval <= s.deadAfter || judging.length === 0 || this.announcements.size === 0 || this.offline) return;
    const withdrawn = this.announcements.clear();
    this.log.warn(`this process did not run for ${gap} ms (deadAfter ${s.deadAfter} ms): the peers may have given its addresses to another node; withdrew them until the peers hear it again`, {
      event: 'stalled',
    });
    for (const w of withdrawn) this.log.info(`withdraw ${w}: this process stalled ${gap} ms`, { event: 'withdraw', ...entryFields(w) });
    // A fresh "takes part" for the hand-over gate: peers must acknowledge a heartbeat sent from now on.
    this.membership.setSelfReady(false);
    this.membership.setSelfReady(true);
    this.lastLive = '';
    this.heartbeat(false);
  }

  /**
   * Off its network, the node withdraws everything and its Lease stops vouching for it,
   * so the others take over at deadAfter as from a crash; back on it, it takes part
   * again as after a restart: its addresses wait for the hand-over (announcer.ts).
   */
  private checkLink(): void {
    const offline = !this.link.up();
    if (offline === this.offline) return;
    this.offline = offline;
    clearTimeout(this.rejoin);
    if (offline) {
      this.membership.setSelfReady(false);
      this.log.warn(`node ${this.init.node} is off its network (no running interface holds its InternalIP): withdrawing until it is back`, { event: 'offline' });
      return;
    }
    // Settle first, as at start: hear who is alive (and who took our addresses) before taking any back.
    const s = this.init.metal.speaker;
    this.log.info(`node ${this.init.node} is back on its network: taking part again in ${s.deadAfter + s.heartbeatInterval} ms`, { event: 'online' });
    this.rejoin = setTimeout(() => {
      if (this.offline || !this.ready) return;
      this.membership.setSelfReady(true);
      this.heartbeat(false);
      this.checkLiveness();
    }, s.deadAfter + s.heartbeatInterval);
  }

  /** Renews the Lease at once when a peer stops acknowledging us, so it finds us alive there (membership.ts). */
  private checkAcknowledged(now: number): void {
    const peers = this.membership.unacknowledged(now);
    const fresh = peers.filter((p) => !this.unacknowledged.has(p));
    for (const p of [...this.unacknowledged]) if (!peers.includes(p)) this.unacknowledged.delete(p);
    if (fresh.length === 0) return;
    for (const p of fresh) this.unacknowledged.add(p);
    void this.lease.renew().catch((e: unknown) => this.log.warn(`renewing Lease (${fresh.join(', ')} stopped acknowledging heartbeats): ${(e as Error).message}`, { event: 'lease-renew-failed' }));
  }

  /** One warning per peer when it becomes alive by its Lease alone, one line when its heartbeats return. */
  private reportLeaseFallback(now: number): void {
    const peers = this.membership.onLease(now);
    for (const node of peers) {
      if (this.onLease.has(node)) continue;
      this.onLease.add(node);
      this.leaseFallbacks++;
      this.log.warn(
        `no heartbeats from ${node}, alive by its Lease only: is UDP port ${this.init.metal.speaker.gossipPort} blocked between the nodes? ` +
          `Its addresses stay where they are; should it fail, they move when its Lease expires, not within ${this.init.metal.speaker.deadAfter} ms`,
        { event: 'peer-lease-fallback', peer: node },
      );
    }
    for (const node of [...this.onLease]) {
      if (peers.includes(node)) continue;
      this.onLease.delete(node);
      const state = this.membership.state(node, now);
      this.log.info(state === 'gossip' ? `heartbeats from ${node} arrive again` : `${node} is no longer alive by its Lease (${state})`, { event: 'peer-lease-fallback-ended', peer: node });
    }
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
    this.checkStall(now);
    const live = this.membership.live(now);
    this.lastLive = [...live].sort().join(',');
    const ours = this.services.cache
      .list()
      .filter((svc) => this.ours(svc))
      .map((svc) => ({ svc, view: serviceView(svc, this.endpointSlices.cache.byIndex(ENDPOINTSLICE_BY_SERVICE, serviceKey(svc))) }));
    const services = ours.map((s) => s.view);
    const self = this.nodes.cache.get(this.init.node);
    const selfUnfit = self ? nodeView(self).unfit : 'its Node object is missing';
    this.bgp.update({ node: self, ...(selfUnfit ? { nodeUnfit: selfUnfit } : {}), services: ours });
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
    // Whoever may be announcing without us: the peers we hear, and those we count live (by their Lease too).
    const unaware = [...new Set([...this.membership.heardRecently(now), ...live])].filter((n) => n !== this.init.node && !this.membership.seesUsLive(n, now));
    const gated = this.handover.gate(wanted, this.announcements.snapshot(), unaware, now);
    for (const ip of gated.expired) {
      this.log.info(`announcing ${ip} though ${unaware.join(', ')} did not acknowledge this node within ${this.init.metal.speaker.deadAfter} ms (they count it live by its Lease)`, {
        event: 'handover-timeout',
        address: ip,
      });
    }
    const { announced, withdrawn, failed } = this.announcements.apply(gated.now);
    this.l2.update(announcedServices satisfies Announced);
    for (const f of failed) this.warnOnce(`fail:${f.entry}:${f.error}`, `cannot announce ${f.entry}: ${f.error}; retrying`, { event: 'announce-failed', ...entryFields(f.entry) });
    for (const w of withdrawn) this.log.info(`withdraw ${w}: ${this.why(w, decisions)}`, { event: 'withdraw', ...entryFields(w) });
    for (const a of announced) this.log.info(`announce ${a} (live: ${[...live].sort().join(', ')})`, { event: 'announce', ...entryFields(a) });
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
