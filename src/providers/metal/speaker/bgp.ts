// The speaker's BGP mode: reads MetalLB's BGPPeer, BGPAdvertisement, Community and
// BFDProfile resources, keeps one session (bgp/session.ts) per BGPPeer that selects this
// node, gives each the routes bgp/advertise.ts plans, and writes a ServiceBGPStatus per
// Service it advertises, as MetalLB's speaker does (internal/k8s/controllers/
// bgp_status_controller.go: generateName `bgp-`, the node and Service labels, status
// node/serviceName/serviceNamespace/peers).
//
// Without MetalLB's CRDs installed BGP mode is off (logged once at start).
import type { V1Node, V1Service } from '@kubernetes/client-node';
import type { KubeClients } from '../../../kube/client.js';
import { customObjects, type CustomObject } from '../../../kube/custom-resources.js';
import { newInformer, type Informer, type WatchFn } from '../../../kube/informer.js';
import type { Logger } from '../../../kube/logger.js';
import { planRoutes, type AdvertisementSpec, type BgpPool, type BgpService, type PeerSpec } from '../bgp/advertise.js';
import { BfdEndpoint, type BfdSession, type BfdTimers } from '../bgp/bfd.js';
import { Session, type SessionDeps } from '../bgp/session.js';
import { anySelectorMatches } from '../node-selector.js';
import { poolOf, type Pool } from '../pools.js';
import {
  BFDProfiles,
  BGPAdvertisements,
  BGPPeers,
  bgpResourcesServed,
  Communities,
  communityAliases,
  parseAdvertisement,
  parsePeer,
  peerBfd,
  ServiceBGPStatuses,
} from './bgp-resources.js';
import { LABEL_ANNOUNCE_NODE, ServiceStatusObjects, type StatusObject } from './service-status-objects.js';
import { connectTcpMd5 } from './tcp-md5.js';

/**
 * The address pools BGP advertisements select from. Today the config file's pools (no
 * labels); the one place to swap for the IPAddressPool resources.
 */
export function bgpPools(pools: readonly Pool[]): BgpPool[] {
  return pools.map((p) => ({ name: p.name, labels: p.labels, contains: (ip: string) => poolOf([p], ip) !== undefined }));
}

export interface BgpModeInit {
  readonly node: string;
  /** Where MetalLB's resources live (and ServiceBGPStatus objects are written). */
  readonly namespace: string;
  readonly clients: KubeClients;
  /** The speaker's Pod, owner of its ServiceBGPStatuses (downward API); absent outside a Pod. */
  readonly pod?: { readonly name: string; readonly uid: string };
  readonly log: Logger;
  readonly pools: () => readonly BgpPool[];
  readonly watch?: WatchFn;
  /** TCP MD5 connections; default the packet addon's. */
  readonly connectMd5?: SessionDeps['connectMd5'];
  /** Told when something changed that needs a recompute (a CR, a session coming up). */
  readonly changed: () => void;
  /**
   * Told once per Service this node starts advertising, for the `nodeAssigned` Event
   * MetalLB's speaker records for either protocol (speaker/main.go handleService).
   */
  readonly assigned?: (serviceKey: string) => void;
}

interface PeerSession {
  readonly key: string;
  readonly spec: PeerSpec;
  readonly session: Session;
  bfd?: BfdSession;
}

export class BgpMode {
  readonly peers: Informer<CustomObject>;
  readonly advertisements: Informer<CustomObject>;
  readonly communities: Informer<CustomObject>;
  readonly bfdProfiles: Informer<CustomObject>;
  readonly statuses: Informer<CustomObject>;
  private enabled = false;
  private readonly sessions = new Map<string, PeerSession>();
  private readonly warned = new Set<string>();
  /** Service key → the peers it is advertised to: what the ServiceBGPStatuses say. */
  private statusWanted: ReadonlyMap<string, readonly string[]> = new Map();
  private readonly statusObjects: ServiceStatusObjects<readonly string[]>;
  /** The node's IPv4 InternalIP: the BGP identifier of sessions over IPv6. */
  private nodeIpv4: string | undefined;
  private bfd: BfdEndpoint | undefined;

  constructor(private readonly init: BgpModeInit) {
    const common = {
      namespace: init.namespace,
      logger: { warn: (m: string, ...a: unknown[]) => init.log.warn(`${m} ${a.map(String).join(' ')}`) },
      ...(init.watch ? { watch: init.watch } : {}),
    };
    this.peers = newInformer(init.clients, BGPPeers, { ...common, name: 'bgppeers' });
    this.advertisements = newInformer(init.clients, BGPAdvertisements, { ...common, name: 'bgpadvertisements' });
    this.communities = newInformer(init.clients, Communities, { ...common, name: 'communities' });
    this.bfdProfiles = newInformer(init.clients, BFDProfiles, { ...common, name: 'bfdprofiles' });
    this.statuses = newInformer(init.clients, ServiceBGPStatuses, { ...common, name: 'servicebgpstatuses', labelSelector: `${LABEL_ANNOUNCE_NODE}=${init.node}` });
    this.statusObjects = new ServiceStatusObjects({
      type: ServiceBGPStatuses,
      writes: {
        create: (ns, body) => customObjects<StatusObject>(init.clients, ServiceBGPStatuses).create(ns, body),
        patchStatus: (ns, name, status) => customObjects(init.clients, ServiceBGPStatuses).patchStatus(ns, name, status),
        delete: (ns, name) => customObjects(init.clients, ServiceBGPStatuses).delete(ns, name),
      },
      generateName: 'bgp-',
      node: init.node,
      namespace: init.namespace,
      pod: init.pod,
      existing: () => this.statuses.cache.list(),
      status: ({ namespace, name }, peers) => ({ node: init.node, serviceName: name, serviceNamespace: namespace, peers }),
      failed: (e) => this.warnOnce(`writing ServiceBGPStatus: ${e.message}`, { event: 'bgp-status-failed' }),
    });
    const changed = (): void => init.changed();
    for (const inf of [this.peers, this.advertisements, this.communities, this.bfdProfiles]) inf.onAdd(changed).onUpdate(changed).onDelete(changed);
  }

  /** Starts the informers when MetalLB's CRDs are installed; resolves once they synced. */
  async start(signal?: AbortSignal): Promise<void> {
    if (!(await bgpResourcesServed(this.init.clients, this.init.namespace))) {
      this.init.log.info(`MetalLB's BGPPeer resource is not installed (metallb.io/v1beta2 bgppeers): BGP mode is off`, { event: 'bgp-off' });
      return;
    }
    this.enabled = true;
    const all = this.informers();
    for (const inf of all) inf.start();
    await Promise.all(all.map((inf) => inf.waitForSync(signal)));
  }

  /** Ends every session with a Cease, so the routers withdraw this node's routes at once. */
  /**
   * Ends every session with a Cease, so the routers withdraw this node's routes at once;
   * `clean`: also deletes this node's ServiceBGPStatus objects, which no longer hold.
   */
  async stop(clean = true): Promise<void> {
    const closing = [...this.sessions.values()].map((p) => p.session.close());
    this.sessions.clear();
    await Promise.all(closing);
    this.bfd?.closeAll();
    if (!this.enabled) return;
    this.enabled = false;
    if (clean) {
      this.statusWanted = new Map();
      this.statusObjects.update(this.statusWanted);
      await this.statusObjects.settled();
    }
    await Promise.all(this.informers().map((i) => i.stop()));
  }

  /** Peer name → prefixes that peer has from this node now. */
  advertised(): Map<string, string[]> {
    return new Map([...this.sessions].map(([name, p]) => [name, p.session.advertised()]));
  }

  sessionStates(): Map<string, string> {
    return new Map([...this.sessions].map(([name, p]) => [name, p.session.state]));
  }

  /** Brings the sessions and their routes in line with the cluster as the informers see it. */
  update(input: { readonly node: V1Node | undefined; readonly nodeUnfit?: string; readonly services: readonly { readonly svc: V1Service; readonly view: Omit<BgpService, 'labels'> }[] }): void {
    if (!this.enabled) return;
    const nodeLabels = input.node?.metadata?.labels ?? {};
    this.nodeIpv4 = input.node?.status?.addresses?.find((a) => a.type === 'InternalIP' && !a.address.includes(':'))?.address;
    const peers: PeerSpec[] = [];
    for (const obj of this.peers.cache.list()) {
      const r = parsePeer(obj);
      if (!r.ok) {
        this.warnOnce(r.reason, { event: 'bgp-peer-invalid' });
        continue;
      }
      if (!anySelectorMatches(r.value.nodeSelectors, nodeLabels)) continue;
      peers.push(r.value);
    }
    const { aliases, errors } = communityAliases(this.communities.cache.list());
    for (const e of errors) this.warnOnce(e.message, { event: 'bgp-community-invalid' });
    const ads: AdvertisementSpec[] = [];
    for (const obj of this.advertisements.cache.list()) {
      const r = parseAdvertisement(obj, aliases);
      if (r.ok) ads.push(r.value);
      else this.warnOnce(r.reason, { event: 'bgp-advertisement-invalid' });
    }
    const live = this.syncSessions(peers);
    const plan = planRoutes({
      node: this.init.node,
      nodeLabels,
      ...(input.nodeUnfit ? { nodeUnfit: input.nodeUnfit } : {}),
      peers: live,
      advertisements: ads,
      pools: this.init.pools(),
      services: input.services.map(({ svc, view }) => ({ ...view, labels: svc.metadata?.labels ?? {} })),
    });
    for (const p of live) this.sessions.get(p.name)?.session.set(plan.routes.get(p.name) ?? []);
    for (const key of plan.servicePeers.keys()) if (!this.statusWanted.has(key)) this.init.assigned?.(key);
    this.statusWanted = new Map([...plan.servicePeers].map(([k, v]) => [k, [...v].sort()]));
    this.statusObjects.update(this.statusWanted);
  }

  // ---- internals ------------------------------------------------------------------

  private informers(): Informer<CustomObject>[] {
    return [this.peers, this.advertisements, this.communities, this.bfdProfiles, this.statuses];
  }

  /** Opens sessions for new peers, closes those of peers gone, restarts those whose settings changed. */
  private syncSessions(all: readonly PeerSpec[]): PeerSpec[] {
    // A peer naming a BFDProfile that does not exist (or one lbc cannot run) gets no session: MetalLB refuses that configuration.
    const timers = new Map<string, BfdTimers>();
    const peers = all.filter((p) => {
      if (!p.bfdProfile) return true;
      const r = peerBfd(p.bfdProfile, this.bfdProfiles.cache.get(`${this.init.namespace}/${p.bfdProfile}`));
      if (!r.ok) {
        this.warnOnce(`BGPPeer ${p.name}: ${r.reason}; not peering`, { event: 'bgp-peer-invalid' });
        return false;
      }
      timers.set(p.name, r.value);
      return true;
    });
    const keyOf = (spec: PeerSpec): string => JSON.stringify([spec, timers.get(spec.name)]);
    const wanted = new Map(peers.map((p) => [p.name, p]));
    for (const [name, p] of [...this.sessions]) {
      const spec = wanted.get(name);
      if (spec && keyOf(spec) === p.key) continue;
      this.sessions.delete(name);
      this.init.log.info(`BGP peer ${name} ${spec ? 'changed' : 'no longer applies to this node'}: closing its session`, { event: 'bgp-peer-removed' });
      if (p.bfd) this.bfd?.close(p.spec.peerAddress);
      void p.session.close();
    }
    const live: PeerSpec[] = [];
    for (const spec of peers) {
      if (!this.sessions.has(spec.name)) {
        try {
          const session = new Session(
            { ...spec, ...(this.nodeIpv4 ? { fallbackRouterId: this.nodeIpv4 } : {}) },
            {
              log: { info: (m) => this.init.log.info(m, { event: 'bgp-session' }), warn: (m) => this.init.log.warn(m, { event: 'bgp-session' }) },
              connectMd5: this.init.connectMd5 ?? connectTcpMd5,
              onState: (s) => {
                if (s === 'established') this.init.changed();
              },
            },
          );
          const entry: PeerSession = { key: keyOf(spec), spec, session };
          this.sessions.set(spec.name, entry);
          const bfdTimers = timers.get(spec.name);
          if (bfdTimers) void this.startBfd(entry, bfdTimers);
          this.init.log.info(`BGP peer ${spec.name} (${spec.peerAddress}, AS ${spec.peerAsn}) applies to this node: starting its session`, { event: 'bgp-peer-added' });
        } catch (e) {
          this.warnOnce(`BGPPeer ${spec.name}: ${(e as Error).message}`, { event: 'bgp-peer-invalid' });
          continue;
        }
      }
      live.push(spec);
    }
    return live;
  }

  private async startBfd(entry: PeerSession, timers: BfdTimers): Promise<void> {
    this.bfd ??= new BfdEndpoint({ warn: (m) => this.init.log.warn(m, { event: 'bfd' }) });
    try {
      entry.bfd = await this.bfd.open(
        entry.spec.peerAddress,
        timers,
        {
          onDown: (why) => {
            this.init.log.warn(`BGP peer ${entry.spec.name}: ${why}; dropping the session`, { event: 'bfd-down' });
            entry.session.drop(why);
          },
          onUp: () => this.init.log.info(`BGP peer ${entry.spec.name}: BFD session up`, { event: 'bfd-up' }),
        },
        entry.spec.sourceAddress,
      );
      if (this.sessions.get(entry.spec.name) !== entry) this.bfd.close(entry.spec.peerAddress);
    } catch (e) {
      this.warnOnce(`BGP peer ${entry.spec.name}: cannot start BFD: ${(e as Error).message}`, { event: 'bfd-failed' });
    }
  }

  private warnOnce(msg: string, fields: { event: string }): void {
    if (this.warned.has(msg)) return;
    this.warned.add(msg);
    this.init.log.warn(msg, fields);
  }
}
