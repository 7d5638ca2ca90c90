// Which speakers are alive, from two signals (pure: the caller passes the time).
//
// Why not Leases alone. Failover must take under 2 s. With a Lease per node as the only
// heartbeat, a dead speaker is noticed when its Lease is older than its duration, so
// the duration has to be ~1.2 s (leaving ~0.8 s for the watch event to arrive, the new
// owner's gratuitous ARP and the neighbours' update), renewed every ~0.4 s to survive
// one slow write. At 100 nodes that is 100 / 0.4 = 250 Lease writes per second, each an
// etcd write, and each fanned out by the API server to all 100 watching speakers:
// 25,000 watch events per second. Kubelets' own node heartbeats at 100 nodes are 10
// writes per second; this would be 25 times the cluster's whole heartbeat load, and an
// API server or etcd stall longer than 1.2 s (a compaction, a leader election) would
// declare every speaker dead at once and move every address.
//
// So liveness is gossip: every speaker sends a small UDP heartbeat to every node's
// InternalIP every 200 ms and declares a speaker it has heard from dead after 700 ms of
// silence. At 100 nodes that is 99 × 5 = 495 datagrams per second out and in per node
// (~100 bytes each, ~50 KB/s), 49,500/s on the whole network, and no API write at all.
// Failover: ≤ 700 ms to notice, then the new owner's gratuitous ARPs.
//
// The Lease stays, slow (renewed every 15 s, 60 s duration: 100 / 15 ≈ 6.7 writes per
// second at 100 nodes, less than the kubelets'), as membership that does not depend on
// the data network: a speaker with a valid Lease that has never been heard over UDP
// counts as alive. Without that, a firewall dropping the gossip port would make every
// speaker think it is alone and answer ARP for every address at once; with it, such a
// cluster degrades to Lease-speed failover (and says so in the log) instead.
//
// The rules, per peer:
// - heard within deadAfter: alive if its heartbeat says it is ready to announce;
// - said it is leaving (clean shutdown): dead at once;
// - heard before (this incarnation) but silent longer than deadAfter: dead, whatever
//   its Lease says: this is the fast path;
// - never heard in its Lease's incarnation, Lease valid: alive;
// - otherwise dead.
// An incarnation is a random id per speaker process, in both the heartbeats and the
// Lease's holderIdentity, so a restarted speaker's Lease is not mistaken for the old
// process it replaces.

export interface Heartbeat {
  readonly node: string;
  readonly incarnation: string;
  readonly seq: number;
  /** The speaker has synced and settled and takes part in elections. */
  readonly ready: boolean;
  /** Sent on clean shutdown. */
  readonly leaving: boolean;
}

export interface LeaseView {
  readonly node: string;
  readonly incarnation: string;
  /** Local time (ms) until which the Lease counts. */
  readonly validUntil: number;
}

interface Peer {
  incarnation?: string;
  seq: number;
  lastHeard?: number;
  ready: boolean;
  leftIncarnation?: string;
  lease?: LeaseView;
}

export interface MembershipOptions {
  readonly self: string;
  readonly deadAfterMs: number;
}

export class Membership {
  private readonly peers = new Map<string, Peer>();
  private selfReady = false;

  constructor(private readonly opts: MembershipOptions) {}

  setSelfReady(ready: boolean): void {
    this.selfReady = ready;
  }

  /** Records a heartbeat; false when it is stale (a replay, or out of order) and ignored. */
  heard(hb: Heartbeat, now: number): boolean {
    if (hb.node === this.opts.self) return false;
    const p = this.peer(hb.node);
    if (p.incarnation === hb.incarnation && hb.seq <= p.seq) return false;
    if (p.incarnation !== hb.incarnation) {
      p.incarnation = hb.incarnation;
      delete p.leftIncarnation;
    }
    p.seq = hb.seq;
    p.lastHeard = now;
    p.ready = hb.ready;
    if (hb.leaving) p.leftIncarnation = hb.incarnation;
    return true;
  }

  lease(view: LeaseView): void {
    if (view.node === this.opts.self) return;
    this.peer(view.node).lease = view;
  }

  leaseGone(node: string): void {
    const p = this.peers.get(node);
    if (p) delete p.lease;
  }

  isLive(node: string, now: number): boolean {
    if (node === this.opts.self) return this.selfReady;
    const p = this.peers.get(node);
    if (!p) return false;
    const leaseIncarnation = p.lease && p.lease.validUntil > now ? p.lease.incarnation : undefined;
    if (p.leftIncarnation !== undefined) {
      // Left cleanly; only a Lease of a newer incarnation (a restart, not yet heard) brings it back.
      return leaseIncarnation !== undefined && leaseIncarnation !== p.leftIncarnation;
    }
    if (p.lastHeard !== undefined && now - p.lastHeard <= this.opts.deadAfterMs) return p.ready;
    if (leaseIncarnation === undefined) return false;
    // Heard this incarnation before and it went silent: the fast verdict.
    return p.incarnation !== leaseIncarnation;
  }

  live(now: number): Set<string> {
    const out = new Set<string>();
    if (this.selfReady) out.add(this.opts.self);
    for (const node of this.peers.keys()) if (this.isLive(node, now)) out.add(node);
    return out;
  }

  /** Peers alive only through their Lease: heartbeats from them never arrive (blocked port?). */
  unheard(now: number): string[] {
    return [...this.peers.entries()].filter(([node, p]) => p.lastHeard === undefined && this.isLive(node, now)).map(([node]) => node);
  }

  private peer(node: string): Peer {
    let p = this.peers.get(node);
    if (!p) this.peers.set(node, (p = { seq: -1, ready: false }));
    return p;
  }
}
