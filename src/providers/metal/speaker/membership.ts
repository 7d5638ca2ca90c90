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
// Heard, then silent: crashed, or cut off from gossip only? A speaker that cannot be
// heard, or stops being acknowledged, still renews its Lease, so the Lease tells them
// apart, if it says something the heartbeats did not. Every heartbeat is addressed to
// one peer and acknowledges the newest heartbeat heard from that peer; a speaker whose
// acknowledgements from a peer stop for deadAfter - heartbeatInterval (the normal worst
// case is two intervals: one each way) renews its Lease at once, and every Lease a ready
// speaker writes carries the sequence number of its newest heartbeat. A peer that went
// silent but whose Lease carries a newer number than any heartbeat heard from it was
// alive after it went silent: it is alive by its Lease ("Lease fallback") for as long as
// the Lease is renewed, and the peers agree on who announces what: one answer per
// address, at Lease speed should it then die. A crashed speaker writes nothing after its
// last heartbeat, so the fast verdict stands. With a UDP 7947 block on one node every
// path to it stops both ways, so it and every peer renew (N Lease writes per block, and
// N - 1 per crash: a crash looks the same for deadAfter - heartbeatInterval); the
// renewals have heartbeatInterval to reach the peers before their verdict (ms against
// an API server, not a risk worth slower failover; were one late, the peer takes the
// addresses and gives them back when it arrives).
// MetalLB's memberlist does the same with a second path: a probe unanswered over UDP is
// retried over TCP, and a peer reached only that way stays alive with "Was able to
// connect to X over TCP but UDP probes failed, network may be misconfigured"
// (hashicorp/memberlist state.go, probeNode); with TCP blocked too, it is suspected and
// then dead while it still answers. The Lease is lbc's second path, and it does not
// depend on the data network at all.
//
// The rules, per peer:
// - heard within deadAfter: alive if its heartbeat says it is ready to announce;
// - said it is leaving (clean shutdown): dead at once;
// - heard before (this incarnation) but silent longer than deadAfter: alive by its Lease
//   if the Lease is valid and was written after the last heartbeat heard (its sequence
//   number is newer), dead otherwise: the fast path;
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
  /** The newest heartbeat the sender heard from the recipient (each datagram has one recipient). */
  readonly ack?: { readonly incarnation: string; readonly seq: number };
}

export interface LeaseView {
  readonly node: string;
  readonly incarnation: string;
  /** Local time (ms) until which the Lease counts. */
  readonly validUntil: number;
  /** The holder's newest heartbeat when it wrote the Lease; only written while it is ready. */
  readonly seq?: number;
}

/** How a peer counts: by its heartbeats, by its Lease alone (gossip to or from it is lost), or not. */
export type PeerState = 'gossip' | 'lease' | 'dead';

interface Peer {
  incarnation?: string;
  seq: number;
  lastHeard?: number;
  ready: boolean;
  leftIncarnation?: string;
  lease?: LeaseView;
  /** The newest heartbeat of ours (this process) it acknowledged, and when we sent it. */
  acked?: { seq: number; sentAt: number };
}

export interface MembershipOptions {
  readonly self: string;
  /** This speaker process's incarnation: acknowledgements of another are not ours. */
  readonly incarnation: string;
  readonly deadAfterMs: number;
  readonly heartbeatIntervalMs: number;
}

/** Send times of our newest heartbeats, to age the acknowledgements; older ones count as never acknowledged. */
const SENT_KEPT = 256;

export class Membership {
  private readonly peers = new Map<string, Peer>();
  private selfReady = false;
  /** Our first heartbeat sent ready, this time: a peer that acknowledged it (or a newer one) knows we take part. */
  private readySeq: number | undefined;
  private readonly sentAt: { seq: number; at: number }[] = [];

  constructor(private readonly opts: MembershipOptions) {}

  setSelfReady(ready: boolean): void {
    this.selfReady = ready;
    if (!ready) this.readySeq = undefined;
  }

  /** Records a heartbeat of ours, sent now to every peer. */
  sent(seq: number, ready: boolean, now: number): void {
    this.sentAt[seq % SENT_KEPT] = { seq, at: now };
    if (ready && this.readySeq === undefined) this.readySeq = seq;
  }

  /** What to acknowledge in the next heartbeat to `node`: the newest heard from it. */
  ackFor(node: string): { incarnation: string; seq: number } | undefined {
    const p = this.peers.get(node);
    return p?.incarnation !== undefined && p.seq >= 0 ? { incarnation: p.incarnation, seq: p.seq } : undefined;
  }

  /** Records a heartbeat; false when it is stale (a replay, or out of order) and ignored. */
  heard(hb: Heartbeat, now: number): boolean {
    if (hb.node === this.opts.self) return false;
    const p = this.peer(hb.node);
    if (p.incarnation === hb.incarnation && hb.seq <= p.seq) return false;
    if (p.incarnation !== hb.incarnation) {
      p.incarnation = hb.incarnation;
      delete p.leftIncarnation;
      delete p.acked;
    }
    p.seq = hb.seq;
    p.lastHeard = now;
    p.ready = hb.ready;
    if (hb.leaving) p.leftIncarnation = hb.incarnation;
    if (hb.ack && hb.ack.incarnation === this.opts.incarnation && hb.ack.seq > (p.acked?.seq ?? -1)) {
      const sent = this.sentAt[hb.ack.seq % SENT_KEPT];
      if (sent?.seq === hb.ack.seq) p.acked = { seq: hb.ack.seq, sentAt: sent.at };
    }
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
    return this.state(node, now) !== 'dead';
  }

  state(node: string, now: number): PeerState {
    const p = this.peers.get(node);
    if (!p) return 'dead';
    const lease = p.lease && p.lease.validUntil > now ? p.lease : undefined;
    if (p.leftIncarnation !== undefined) {
      // Left cleanly; only a Lease of a newer incarnation (a restart, not yet heard) brings it back.
      return lease && lease.incarnation !== p.leftIncarnation ? 'lease' : 'dead';
    }
    if (p.lastHeard !== undefined && now - p.lastHeard <= this.opts.deadAfterMs) return p.ready ? 'gossip' : 'dead';
    if (!lease) return 'dead';
    // Never heard in the Lease's incarnation: alive by the Lease (gossip blocked from the start, or a restart not yet heard).
    if (p.incarnation !== lease.incarnation) return 'lease';
    // Heard, then silent: alive only if the Lease was written after its last heartbeat was sent.
    return lease.seq !== undefined && lease.seq > p.seq ? 'lease' : 'dead';
  }

  live(now: number): Set<string> {
    const out = new Set<string>();
    if (this.selfReady) out.add(this.opts.self);
    for (const node of this.peers.keys()) if (this.isLive(node, now)) out.add(node);
    return out;
  }

  /**
   * This process did not run for `ms` (its event loop was blocked, or the machine starved
   * it): heartbeats that arrived meanwhile still wait in the socket, and after a stall a
   * timer runs before they are read, so silence measured across it says nothing about a
   * peer. Every peer's clock is moved on by the stall, as if heard that much later: a
   * peer that did die is declared dead that much later instead of a live one being
   * declared dead now. hashicorp/memberlist does the same with Lifeguard's local health
   * (awareness.go): a member slow to process messages stretches its own probe timeouts
   * rather than accuse others.
   */
  stalled(ms: number): void {
    for (const p of this.peers.values()) {
      if (p.lastHeard !== undefined) p.lastHeard += ms;
      if (p.acked) p.acked = { seq: p.acked.seq, sentAt: p.acked.sentAt + ms };
    }
  }

  /** Peers alive only through their Lease: heartbeats from them do not arrive (a blocked port?). */
  onLease(now: number): string[] {
    return [...this.peers.keys()].filter((node) => this.state(node, now) === 'lease').sort();
  }

  /** Peers never heard, alive by their Lease alone. */
  unheard(now: number): string[] {
    return [...this.peers.entries()].filter(([node, p]) => p.lastHeard === undefined && this.isLive(node, now)).map(([node]) => node);
  }

  /**
   * Live peers that acknowledged us before and have not for deadAfter - heartbeatInterval:
   * they may soon call us dead unless our Lease says we are not (see the top of this file).
   */
  unacknowledged(now: number): string[] {
    const after = this.opts.deadAfterMs - this.opts.heartbeatIntervalMs;
    return [...this.peers.entries()]
      .filter(([node, p]) => p.acked !== undefined && now - p.acked.sentAt > after && this.isLive(node, now))
      .map(([node]) => node)
      .sort();
  }

  /** Peers heard within deadAfter, ready or not. */
  heardRecently(now: number): string[] {
    return [...this.peers.entries()].filter(([, p]) => p.lastHeard !== undefined && p.leftIncarnation === undefined && now - p.lastHeard <= this.opts.deadAfterMs).map(([node]) => node);
  }

  /**
   * Whether `node` has heard us since we took part, and not so long ago that it may
   * have called us dead since: then it counts us live, and has withdrawn whatever we
   * win from it (a speaker recomputes before its next heartbeat goes out).
   */
  seesUsLive(node: string, now: number): boolean {
    const acked = this.peers.get(node)?.acked;
    return this.readySeq !== undefined && acked !== undefined && acked.seq >= this.readySeq && now - acked.sentAt <= this.opts.deadAfterMs;
  }

  private peer(node: string): Peer {
    let p = this.peers.get(node);
    if (!p) this.peers.set(node, (p = { seq: -1, ready: false }));
    return p;
  }
}
