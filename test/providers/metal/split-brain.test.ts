// No split brain in layer 2 (issue #20 part 3), without a network: a speaker silent on
// gossip but renewing its Lease stays alive by the Lease instead of being declared dead
// while it keeps answering; heartbeats acknowledge each other so a cut-off speaker knows
// to renew at once; and an address a (re)joining node wins is handed over, not taken
// while its old owner still answers. The wire test (wire-split.test.ts) does the same
// with real packets, nftables and arping.
import type { CoordinationV1Api, V1Lease } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { Handover } from '../../../src/providers/metal/speaker/announcer.js';
import { rankCandidates } from '../../../src/providers/metal/speaker/election.js';
import { decodeHeartbeat, encodeHeartbeat } from '../../../src/providers/metal/speaker/gossip.js';
import { OwnLink, type HostInterface } from '../../../src/providers/metal/speaker/interfaces.js';
import { LEASE_HEARTBEAT_ANNOTATION, LEASE_NODE_LABEL, LeaseKeeper, leaseView } from '../../../src/providers/metal/speaker/lease.js';
import { Membership, type Heartbeat } from '../../../src/providers/metal/speaker/membership.js';

const hb = (node: string, seq: number, o: Partial<Heartbeat> = {}): Heartbeat => ({ node, incarnation: 'i1', seq, ready: true, leaving: false, ...o });
const member = (self = 'me'): Membership => new Membership({ self, incarnation: 'mine', deadAfterMs: 700, heartbeatIntervalMs: 200 });

describe('Membership: Lease fallback', () => {
  it('heard, then silent, then a Lease written after its last heartbeat: alive by the Lease, not dead', () => {
    const x = member();
    x.lease({ node: 'a', incarnation: 'i1', validUntil: 60_000, seq: 3 });
    x.heard(hb('a', 5), 1000);
    // A Lease with an older number (written before the last heartbeat) proves nothing: the fast verdict.
    expect(x.state('a', 1701)).toBe('dead');
    x.lease({ node: 'a', incarnation: 'i1', validUntil: 60_000, seq: 7 });
    expect(x.state('a', 1701)).toBe('lease');
    expect(x.isLive('a', 1701)).toBe(true);
    expect(x.onLease(1701)).toEqual(['a']);
    // Until the Lease runs out.
    expect(x.isLive('a', 60_000)).toBe(false);
  });

  it('its heartbeats back: alive by gossip again', () => {
    const x = member();
    x.heard(hb('a', 5), 1000);
    x.lease({ node: 'a', incarnation: 'i1', validUntil: 60_000, seq: 7 });
    expect(x.state('a', 2000)).toBe('lease');
    x.heard(hb('a', 8), 2100);
    expect(x.state('a', 2200)).toBe('gossip');
    expect(x.onLease(2200)).toEqual([]);
  });

  it('the same number as the last heartbeat heard: nothing new, dead (a crash right after a renewal)', () => {
    const x = member();
    x.heard(hb('a', 7), 1000);
    x.lease({ node: 'a', incarnation: 'i1', validUntil: 60_000, seq: 7 });
    expect(x.isLive('a', 1701)).toBe(false);
  });

  it('a Lease of another incarnation says nothing about this one', () => {
    const x = member();
    x.heard(hb('a', 5, { incarnation: 'i1' }), 1000);
    x.heard(hb('a', 1, { incarnation: 'i2', leaving: true }), 1100);
    x.lease({ node: 'a', incarnation: 'i2', validUntil: 60_000, seq: 9 });
    expect(x.isLive('a', 1200)).toBe(false);
  });
});

describe('Membership: acknowledgements', () => {
  it('acknowledges the newest heartbeat heard from each peer, and ages the acknowledgements it gets', () => {
    const x = member();
    expect(x.ackFor('a')).toBeUndefined();
    x.sent(0, true, 0);
    x.sent(1, true, 200);
    x.heard(hb('a', 4, { ack: { incarnation: 'mine', seq: 1 } }), 250);
    expect(x.ackFor('a')).toEqual({ incarnation: 'i1', seq: 4 });
    expect(x.seesUsLive('a', 250)).toBe(true);
    // Acknowledged heartbeat 1 (sent at 200): 500 ms later the peer may be about to call us dead.
    expect(x.unacknowledged(700)).toEqual([]);
    x.heard(hb('a', 5, { ack: { incarnation: 'mine', seq: 1 } }), 600);
    expect(x.unacknowledged(701)).toEqual(['a']);
    // It may have called us dead by now.
    expect(x.seesUsLive('a', 901)).toBe(false);
  });

  it('ignores acknowledgements of another incarnation of ours, and of heartbeats no longer remembered', () => {
    const x = member();
    x.sent(0, true, 0);
    x.heard(hb('a', 1, { ack: { incarnation: 'before-restart', seq: 0 } }), 10);
    expect(x.seesUsLive('a', 10)).toBe(false);
    x.heard(hb('a', 2, { ack: { incarnation: 'mine', seq: 99 } }), 20);
    expect(x.seesUsLive('a', 20)).toBe(false);
  });

  it('a peer sees us live only once it acknowledged a heartbeat we sent ready', () => {
    const x = member();
    x.sent(0, false, 0);
    x.setSelfReady(true);
    x.sent(1, true, 200);
    x.heard(hb('a', 1, { ack: { incarnation: 'mine', seq: 0 } }), 210);
    expect(x.seesUsLive('a', 210)).toBe(false);
    x.heard(hb('a', 2, { ack: { incarnation: 'mine', seq: 1 } }), 250);
    expect(x.seesUsLive('a', 250)).toBe(true);
    expect(x.heardRecently(250)).toEqual(['a']);
  });
});

describe('heartbeat wire format: the acknowledgement', () => {
  it('round-trips, and a heartbeat without one (an older speaker) still decodes', () => {
    const withAck = hb('a', 3, { ack: { incarnation: 'x', seq: 9 } });
    expect(decodeHeartbeat(encodeHeartbeat(withAck))).toEqual(withAck);
    expect(decodeHeartbeat(encodeHeartbeat(hb('a', 3)))).toEqual(hb('a', 3));
  });

  it('refuses a malformed acknowledgement', () => {
    const body = Buffer.from(JSON.stringify({ v: 1, n: 'a', i: 'i1', s: 1, r: true, l: false, a: ['x'] }));
    expect(decodeHeartbeat(body)).toBeUndefined();
  });
});

describe('the Lease carries the newest heartbeat number', () => {
  const lease = (annotations?: Record<string, string>): V1Lease => ({
    metadata: { name: 'l', labels: { [LEASE_NODE_LABEL]: 'a' }, ...(annotations ? { annotations } : {}) },
    spec: { holderIdentity: 'a/i1', leaseDurationSeconds: 60, renewTime: new Date(1000) as never },
  });

  it('is read from its annotation, and ignored when it is not a number', () => {
    expect(leaseView(lease({ [LEASE_HEARTBEAT_ANNOTATION]: '42' }), 1000, 60_000)?.seq).toBe(42);
    expect(leaseView(lease({ [LEASE_HEARTBEAT_ANNOTATION]: 'x' }), 1000, 60_000)).not.toHaveProperty('seq');
    expect(leaseView(lease(), 1000, 60_000)).not.toHaveProperty('seq');
  });

  it('is written at each renewal while ready, removed when not; a renewal asked for during a write follows it with the newer number', async () => {
    let stored: V1Lease | undefined;
    const written: (string | undefined)[] = [];
    let release: () => void = () => {};
    let gate = Promise.resolve();
    const coordination = {
      readNamespacedLease: async () => {
        if (!stored) throw Object.assign(new Error('not found'), { code: 404 });
        return stored;
      },
      createNamespacedLease: async ({ body }: { body: V1Lease }) => (stored = { ...body, metadata: { ...body.metadata, resourceVersion: '1' } }),
      replaceNamespacedLease: async ({ body }: { body: V1Lease }) => {
        await gate;
        written.push(body.metadata?.annotations?.[LEASE_HEARTBEAT_ANNOTATION]);
        return (stored = body);
      },
      deleteNamespacedLease: async () => ({}),
    } as unknown as Pick<CoordinationV1Api, 'readNamespacedLease' | 'createNamespacedLease' | 'replaceNamespacedLease' | 'deleteNamespacedLease'>;
    let seq: number | undefined;
    const k = new LeaseKeeper({ coordination, namespace: 'ns', provider: 'metal', node: 'a', incarnation: 'i1', durationMs: 60_000, heartbeatSeq: () => seq });
    await k.renew();
    expect(stored?.metadata?.annotations).toEqual({});
    seq = 5;
    gate = new Promise((r) => (release = r));
    const first = k.renew();
    seq = 6;
    const second = k.renew();
    const third = k.renew();
    expect(third).toBe(second);
    release();
    await Promise.all([first, second]);
    // The first write started with 5 and waited; the queued one ran after it with 6.
    expect(written).toEqual(['5', '6']);
    seq = undefined;
    await k.renew();
    expect(stored?.metadata?.annotations).toEqual({});
  });
});

describe('Handover', () => {
  const wanted = new Map([['10.0.0.1', ['eth0']]]);

  it('holds a newly won address until every peer heard has heard us, at most maxWait', () => {
    const h = new Handover(700);
    expect(h.gate(wanted, new Map(), ['b'], 1000)).toEqual({ now: new Map(), held: ['10.0.0.1'], expired: [] });
    expect(h.holding).toBe(true);
    expect(h.gate(wanted, new Map(), ['b'], 1699)).toMatchObject({ held: ['10.0.0.1'], expired: [] });
    expect(h.gate(wanted, new Map(), ['b'], 1700)).toEqual({ now: wanted, held: [], expired: ['10.0.0.1'] });
    expect(h.holding).toBe(false);
  });

  it('lets it go at once when nobody is left unaware, and never holds what is announced already', () => {
    const h = new Handover(700);
    h.gate(wanted, new Map(), ['b'], 0);
    expect(h.gate(wanted, new Map(), [], 10)).toEqual({ now: wanted, held: [], expired: [] });
    expect(h.gate(wanted, new Map([['10.0.0.1', ['eth0']]]), ['c'], 20)).toEqual({ now: wanted, held: [], expired: [] });
  });
});

describe('OwnLink: is the node on its network', () => {
  const eth0: HostInterface = { name: 'eth0', ifindex: 2, mac: '02:00:00:00:00:01', cidrs: ['10.0.0.5/24'] };

  it('down once the interface holding its InternalIP stops running, up when it is back', () => {
    let host: HostInterface[] = [eth0];
    const link = new OwnLink(() => ['10.0.0.5'], () => host);
    expect(link.up()).toBe(true);
    host = [];
    expect(link.up()).toBe(false);
    host = [eth0];
    expect(link.up()).toBe(true);
  });

  it('an address never seen on this host, or none at all, says nothing: up', () => {
    expect(new OwnLink(() => ['192.0.2.201'], () => [eth0]).up()).toBe(true);
    expect(new OwnLink(() => [], () => []).up()).toBe(true);
  });
});

/**
 * Three speakers' memberships on a simulated network, with the speaker's rule for
 * cut-off renewals (speaker.ts checkAcknowledged): UDP between `x` and the others is
 * dropped both ways for a while; Leases reach everyone 20 ms after they are written.
 * At every 10 ms step, at most one node may consider itself the winner of each address.
 */
describe('simulation: gossip to one node blocked, Leases renewing', () => {
  const NODES = ['a', 'b', 'x'];
  const IPS = Array.from({ length: 12 }, (_, i) => `10.0.0.${i + 1}`);

  function run(blockFrom: number, blockTo: number, until: number): { doubles: string[]; fallbackSeen: boolean; deadAfterBlock: boolean } {
    const ms = new Map(NODES.map((n) => [n, new Membership({ self: n, incarnation: `inc-${n}`, deadAfterMs: 700, heartbeatIntervalMs: 200 })]));
    const seqs = new Map(NODES.map((n) => [n, 0]));
    const inFlight: { at: number; to: string; hb: Heartbeat }[] = [];
    const leases: { at: number; node: string; seq: number }[] = [];
    const cutOff = new Map(NODES.map((n) => [n, new Set<string>()]));
    const blocked = (a: string, b: string, t: number) => t >= blockFrom && t < blockTo && (a === 'x' || b === 'x') && a !== b;
    const doubles: string[] = [];
    let fallbackSeen = false;
    for (const m of ms.values()) m.setSelfReady(true);
    // Offsets: heartbeats of different nodes are not in step.
    const offset = new Map(NODES.map((n, i) => [n, i * 70]));
    for (let t = 0; t <= until; t += 10) {
      for (const n of NODES) {
        const m = ms.get(n) as Membership;
        if ((t - (offset.get(n) ?? 0)) % 200 === 0 && t >= (offset.get(n) ?? 0)) {
          const seq = seqs.get(n) ?? 0;
          seqs.set(n, seq + 1);
          m.sent(seq, true, t);
          for (const to of NODES) {
            if (to === n || blocked(n, to, t)) continue;
            const ack = m.ackFor(to);
            inFlight.push({ at: t + 1, to, hb: { node: n, incarnation: `inc-${n}`, seq, ready: true, leaving: false, ...(ack ? { ack } : {}) } });
          }
        }
        if (t % 15_000 === 0) leases.push({ at: t + 20, node: n, seq: (seqs.get(n) ?? 1) - 1 });
      }
      for (const d of inFlight.filter((f) => f.at <= t)) {
        ms.get(d.to)?.heard(d.hb, t);
        inFlight.splice(inFlight.indexOf(d), 1);
      }
      for (const l of leases.filter((x) => x.at <= t)) {
        for (const [n, m] of ms) if (n !== l.node) m.lease({ node: l.node, incarnation: `inc-${l.node}`, validUntil: t + 60_000, seq: l.seq });
        leases.splice(leases.indexOf(l), 1);
      }
      for (const n of NODES) {
        const m = ms.get(n) as Membership;
        const unacked = m.unacknowledged(t);
        const seen = cutOff.get(n) as Set<string>;
        if (unacked.some((p) => !seen.has(p))) leases.push({ at: t + 20, node: n, seq: (seqs.get(n) ?? 1) - 1 });
        seen.clear();
        for (const p of unacked) seen.add(p);
        if (m.onLease(t).length > 0) fallbackSeen = true;
      }
      // From 2 s: before, the simulated speakers are still meeting (all take part at once at 0, with no hand-over here).
      for (const ip of t < 2000 ? [] : IPS) {
        const claim = NODES.filter((n) => rankCandidates(ip, (ms.get(n) as Membership).live(t))[0] === n);
        if (claim.length > 1) doubles.push(`${t} ms ${ip}: ${claim.join(' and ')}`);
      }
    }
    const deadAfterBlock = NODES.some((n) => (ms.get(n) as Membership).live(until).size !== NODES.length);
    return { doubles, fallbackSeen, deadAfterBlock };
  }

  it('never two claimants for an address while the block lasts, the peers on Lease fallback meanwhile, all back by gossip after', () => {
    const r = run(5_000, 26_000, 30_000);
    expect(r.doubles.slice(0, 5)).toEqual([]);
    expect(r.fallbackSeen).toBe(true);
    expect(r.deadAfterBlock).toBe(false);
  });
});
