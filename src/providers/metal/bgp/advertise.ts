// What this node tells each BGP peer: the routes (prefix, local preference,
// communities) for the Service addresses it may announce, per the advertisements that
// select their pools. Unlike layer 2 there is no election: every eligible node
// announces, and the router spreads the traffic over them (ECMP). Pure.
//
// The rules follow MetalLB's speaker (speaker/bgp_controller.go, ShouldAnnounce and
// SetBalancer): a Service is announced when it has a ready endpoint, and under
// externalTrafficPolicy Local only from nodes running one; each advertisement selecting
// the address's pool (by name, by pool labels, or every pool when it names none) and
// this node (nodeSelectors) yields the address masked to its aggregation length, sent
// to the advertisement's peers (all of this node's peers when it names none).
import type { ServiceView } from '../speaker/announcer.js';
import { anySelectorMatches, type LabelSelector } from '../node-selector.js';
import { parseCidr } from '../../../model/ip.js';
import type { Community } from './community.js';
import type { Route } from './messages.js';

/** A BGPPeer as the session needs it, selected for this node. */
export interface PeerSpec {
  readonly name: string;
  readonly myAsn: number;
  readonly peerAsn: number;
  readonly peerAddress: string;
  readonly peerPort: number;
  readonly holdTime: number;
  readonly keepaliveTime?: number;
  readonly connectTime?: number;
  readonly routerId?: string;
  readonly sourceAddress?: string;
  readonly password?: string;
  readonly ebgpMultiHop: boolean;
  readonly bfdProfile?: string;
  readonly nodeSelectors: readonly LabelSelector[];
}

export interface AdvertisementSpec {
  readonly name: string;
  readonly aggregationLength: number;
  readonly aggregationLengthV6: number;
  readonly localPref?: number;
  readonly communities: readonly Community[];
  /** BGPPeer names; empty: every peer. */
  readonly peers: readonly string[];
  readonly nodeSelectors: readonly LabelSelector[];
  readonly ipAddressPools: readonly string[];
  readonly ipAddressPoolSelectors: readonly LabelSelector[];
  readonly serviceSelectors: readonly LabelSelector[];
}

/** An address pool as BGP mode needs it: its name and labels (for the advertisements' selectors). */
export interface BgpPool {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  contains(ip: string): boolean;
}

/** A Service as the speaker sees it: the same view layer 2 decides on. */
export type BgpService = ServiceView;

export interface BgpPlan {
  /** Peer name → the routes it should have from this node. */
  readonly routes: Map<string, Route[]>;
  /** Service key → the peers it is advertised to from this node (ServiceBGPStatus). */
  readonly servicePeers: Map<string, Set<string>>;
  /** Why a Service of a BGP pool is not announced from this node, for logs. */
  readonly skipped: Map<string, string>;
}

export function poolSelected(ad: AdvertisementSpec, pool: BgpPool): boolean {
  if (ad.ipAddressPools.length === 0 && ad.ipAddressPoolSelectors.length === 0) return true;
  return ad.ipAddressPools.includes(pool.name) || (ad.ipAddressPoolSelectors.length > 0 && ad.ipAddressPoolSelectors.some((s) => anySelectorMatches([s], pool.labels)));
}

/** The address masked to `length` bits, as a prefix. */
export function aggregate(ip: string, length: number): string {
  const c = parseCidr(`${ip}/${length}`);
  if (!c.ok) throw new Error(c.reason);
  return c.cidr;
}

function familyOf(address: string): 4 | 6 {
  return address.includes(':') ? 6 : 4;
}

export function planRoutes(input: {
  readonly node: string;
  readonly nodeLabels: Readonly<Record<string, string>>;
  /** Why this node may announce nothing (excluded, not Ready); undefined when it may. */
  readonly nodeUnfit?: string;
  /** The peers this node has sessions with (their nodeSelectors already matched). */
  readonly peers: readonly PeerSpec[];
  readonly advertisements: readonly AdvertisementSpec[];
  readonly pools: readonly BgpPool[];
  readonly services: readonly BgpService[];
}): BgpPlan {
  const byPeer = new Map<string, Map<string, { localPref?: number; communities: Set<number>; large: Map<string, readonly [number, number, number]> }>>();
  const servicePeers = new Map<string, Set<string>>();
  const skipped = new Map<string, string>();
  const ads = [...input.advertisements].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const svc of input.services) {
    for (const ip of svc.ips) {
      const pool = input.pools.find((p) => p.contains(ip));
      if (!pool) continue;
      const selecting = ads.filter((ad) => poolSelected(ad, pool) && anySelectorMatches(ad.serviceSelectors, svc.labels));
      if (selecting.length === 0) continue; // not a BGP address
      const why = input.nodeUnfit ?? (!svc.anyReady ? 'no ready endpoint' : svc.local && !svc.readyNodes.has(input.node) ? 'no ready endpoint on this node (externalTrafficPolicy Local)' : undefined);
      if (why) {
        skipped.set(`${svc.key} ${ip}`, why);
        continue;
      }
      for (const ad of selecting) {
        if (!anySelectorMatches(ad.nodeSelectors, input.nodeLabels)) continue;
        const prefix = aggregate(ip, familyOf(ip) === 4 ? ad.aggregationLength : ad.aggregationLengthV6);
        for (const peer of input.peers) {
          if (ad.peers.length > 0 && !ad.peers.includes(peer.name)) continue;
          // A session carries its own address family (MetalLB's default, without dualStackAddressFamily).
          if (familyOf(peer.peerAddress) !== familyOf(ip)) continue;
          let routes = byPeer.get(peer.name);
          if (!routes) byPeer.set(peer.name, (routes = new Map()));
          let r = routes.get(prefix);
          if (!r) routes.set(prefix, (r = { communities: new Set(), large: new Map() }));
          // Several advertisements for one prefix: their communities add up, the highest local preference wins.
          if (ad.localPref !== undefined) r.localPref = Math.max(r.localPref ?? 0, ad.localPref);
          for (const c of ad.communities) {
            if (c.kind === 'standard') r.communities.add(c.value);
            else r.large.set(c.value.join(':'), c.value);
          }
          let peers = servicePeers.get(svc.key);
          if (!peers) servicePeers.set(svc.key, (peers = new Set()));
          peers.add(peer.name);
        }
      }
    }
  }
  const routes = new Map<string, Route[]>();
  for (const peer of input.peers) {
    const m = byPeer.get(peer.name) ?? new Map();
    routes.set(
      peer.name,
      [...m.entries()]
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([prefix, r]) => ({
          prefix,
          ...(r.localPref !== undefined ? { localPref: r.localPref } : {}),
          communities: [...r.communities].sort((a, b) => a - b),
          largeCommunities: [...r.large.keys()].sort().map((k) => r.large.get(k) as readonly [number, number, number]),
        })),
    );
  }
  return { routes, servicePeers, skipped };
}
