// The speaker's decisions without a network: election ranking, which node announces
// what, the announce/withdraw bookkeeping, liveness from heartbeats and Leases, the
// heartbeat wire format, and a responder driven with frames through a fake socket.
import type { V1EndpointSlice, V1Node, V1Service } from '@kubernetes/client-node';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { buildPools } from '../../../src/providers/metal/pools.js';
import { Announcements, decide, nodeView, serviceView, type NodeView, type ServiceView } from '../../../src/providers/metal/speaker/announcer.js';
import { answerArp, buildArpRequest, parseArp } from '../../../src/providers/metal/speaker/arp.js';
import { electedFor, rankCandidates } from '../../../src/providers/metal/speaker/election.js';
import { decodeHeartbeat, encodeHeartbeat } from '../../../src/providers/metal/speaker/gossip.js';
import { interfacesFor, type HostInterface } from '../../../src/providers/metal/speaker/interfaces.js';
import { formatMac, PACKET_OUTGOING, parseMac } from '../../../src/providers/metal/speaker/link.js';
import { Membership, type Heartbeat } from '../../../src/providers/metal/speaker/membership.js';
import { buildNeighborSolicitation, parseNeighborAdvertisement } from '../../../src/providers/metal/speaker/ndp.js';
import { gratuitousSchedule, InterfaceResponder, type FrameSocket } from '../../../src/providers/metal/speaker/responder.js';

describe('election', () => {
  it('ranks the same way whatever the input order, and spreads addresses over nodes', () => {
    const nodes = ['n1', 'n2', 'n3', 'n4', 'n5'];
    for (let i = 0; i < 20; i++) {
      const ip = `10.0.0.${i}`;
      expect(rankCandidates(ip, [...nodes].reverse())).toEqual(rankCandidates(ip, nodes));
    }
    const winners = new Set(Array.from({ length: 50 }, (_, i) => electedFor(`10.0.0.${i}`, nodes)));
    expect(winners.size).toBe(5);
  });

  it('losing a node moves only its addresses, each to its runner-up', () => {
    const nodes = ['n1', 'n2', 'n3', 'n4'];
    for (let i = 0; i < 50; i++) {
      const ip = `10.0.1.${i}`;
      const [first, second] = rankCandidates(ip, nodes);
      const without = electedFor(ip, nodes.filter((n) => n !== 'n2'));
      expect(without).toBe(first === 'n2' ? second : first);
    }
  });

  it('no candidates, no winner', () => {
    expect(electedFor('10.0.0.1', [])).toBeUndefined();
  });
});

const POOLS = (() => {
  const r = buildPools([
    { name: 'all', addresses: ['10.0.0.0/24'], autoAssign: true, avoidBuggyIPs: false, nodeSelectors: [], interfaces: [] },
    { name: 'edge', addresses: ['10.0.1.0/24'], autoAssign: true, avoidBuggyIPs: false, nodeSelectors: [{ matchLabels: { edge: 'true' } }], interfaces: ['eth1'] },
  ]);
  if (!r.ok) throw new Error('pools');
  return r.pools;
})();

const view = (key: string, ips: string[], o: Partial<ServiceView> = {}): ServiceView => ({ key, labels: {}, ips, local: false, readyNodes: new Set(), anyReady: true, ...o });
const nodesNamed = (...names: string[]): NodeView[] => names.map((name) => ({ name, labels: {} }));

describe('announcer: who announces what', () => {
  it('the top-ranked live node announces a Cluster Service with a ready endpoint', () => {
    const d = decide({ pools: POOLS, services: [view('default/a', ['10.0.0.5'])], nodes: nodesNamed('n1', 'n2', 'n3'), live: new Set(['n1', 'n2', 'n3']) });
    expect(d.get('10.0.0.5')).toEqual({
      ip: '10.0.0.5',
      pool: 'all',
      services: ['default/a'],
      advertisements: [{ name: 'pool all', nodeSelectors: [], interfaces: [], serviceSelectors: [] }],
      candidates: rankCandidates('10.0.0.5', ['n1', 'n2', 'n3']),
      winner: electedFor('10.0.0.5', ['n1', 'n2', 'n3']),
    });
  });

  it('dead, unfit and unselected nodes are not candidates', () => {
    const nodes: NodeView[] = [
      { name: 'dead', labels: { edge: 'true' } },
      { name: 'excluded', labels: { edge: 'true' }, unfit: 'labelled node.kubernetes.io/exclude-from-external-load-balancers' },
      { name: 'plain', labels: {} },
      { name: 'edge1', labels: { edge: 'true' } },
    ];
    const d = decide({ pools: POOLS, services: [view('default/e', ['10.0.1.1'])], nodes, live: new Set(['excluded', 'plain', 'edge1']) });
    expect(d.get('10.0.1.1')?.candidates).toEqual(['edge1']);
  });

  it('nobody announces a Service without ready endpoints, and says why', () => {
    const d = decide({ pools: POOLS, services: [view('default/a', ['10.0.0.5'], { anyReady: false })], nodes: nodesNamed('n1'), live: new Set(['n1']) });
    expect(d.get('10.0.0.5')).toMatchObject({ candidates: [], reason: 'no ready endpoint' });
    expect(d.get('10.0.0.5')?.winner).toBeUndefined();
  });

  it('externalTrafficPolicy Local: only nodes with a ready local endpoint', () => {
    const svc = view('default/l', ['10.0.0.7'], { local: true, readyNodes: new Set(['n3', 'gone']) });
    const d = decide({ pools: POOLS, services: [svc], nodes: nodesNamed('n1', 'n2', 'n3'), live: new Set(['n1', 'n2', 'n3']) });
    expect(d.get('10.0.0.7')).toMatchObject({ candidates: ['n3'], winner: 'n3' });
    const none = decide({ pools: POOLS, services: [svc], nodes: nodesNamed('n1', 'n2', 'n3'), live: new Set(['n1', 'n2']) });
    expect(none.get('10.0.0.7')?.reason).toContain('Local');
  });

  it('a shared address is announced when any sharer qualifies', () => {
    const d = decide({
      pools: POOLS,
      services: [view('default/a', ['10.0.0.9'], { anyReady: false }), view('default/b', ['10.0.0.9'])],
      nodes: nodesNamed('n1'),
      live: new Set(['n1']),
    });
    expect(d.get('10.0.0.9')).toMatchObject({ services: ['default/a', 'default/b'], winner: 'n1' });
  });

  it('ignores addresses outside the pools', () => {
    expect(decide({ pools: POOLS, services: [view('default/x', ['192.168.0.1'])], nodes: nodesNamed('n1'), live: new Set(['n1']) }).size).toBe(0);
  });
});

describe('announcer: reading Nodes and endpoints', () => {
  const node = (name: string, o: { ready?: string; netUnavailable?: boolean; labels?: Record<string, string> } = {}): V1Node => ({
    metadata: { name, labels: o.labels ?? {} },
    status: {
      conditions: [
        { type: 'Ready', status: o.ready ?? 'True' },
        ...(o.netUnavailable ? [{ type: 'NetworkUnavailable', status: 'True' }] : []),
      ],
    },
  });
  it('nodeView', () => {
    expect(nodeView(node('a')).unfit).toBeUndefined();
    expect(nodeView(node('a', { ready: 'False' })).unfit).toBe('Ready is False');
    expect(nodeView(node('a', { netUnavailable: true })).unfit).toBe('NetworkUnavailable');
    expect(nodeView(node('a', { labels: { 'node.kubernetes.io/exclude-from-external-load-balancers': '' } })).unfit).toContain('exclude-from-external-load-balancers');
  });

  it('serviceView: nil ready counts as ready; not ready does not', () => {
    const svc: V1Service = {
      metadata: { namespace: 'default', name: 's' },
      spec: { externalTrafficPolicy: 'Local' },
      status: { loadBalancer: { ingress: [{ ip: '10.0.0.1' }, { hostname: 'x' }] } },
    };
    const slice = (eps: { node: string; ready?: boolean }[]): V1EndpointSlice => ({
      addressType: 'IPv4',
      endpoints: eps.map((e, i) => ({ addresses: [`10.1.0.${i}`], nodeName: e.node, conditions: e.ready === undefined ? {} : { ready: e.ready } })),
    });
    const v = serviceView(svc, [slice([{ node: 'a' }, { node: 'b', ready: false }, { node: 'c', ready: true }])]);
    expect(v).toMatchObject({ key: 'default/s', ips: ['10.0.0.1'], local: true, anyReady: true });
    expect([...v.readyNodes].sort()).toEqual(['a', 'c']);
    expect(serviceView(svc, [slice([{ node: 'a', ready: false }])]).anyReady).toBe(false);
  });
});

describe('announcer: interfaces', () => {
  const host: HostInterface[] = [
    { name: 'eth0', ifindex: 2, mac: '02:00:00:00:00:01', cidrs: ['10.0.0.5/24', 'fe80::1/64'] },
    { name: 'eth1', ifindex: 3, mac: '02:00:00:00:00:02', cidrs: ['192.168.1.5/24', 'fd00::5/64'] },
  ];
  it('the interface whose network holds the address, else the configured ones', () => {
    expect(interfacesFor('10.0.0.77', [], host)).toEqual(['eth0']);
    expect(interfacesFor('fd00::77', [], host)).toEqual(['eth1']);
    expect(interfacesFor('fe80::77', [], host)).toEqual([]);
    expect(interfacesFor('172.16.0.1', [], host)).toEqual([]);
    expect(interfacesFor('172.16.0.1', ['eth1', 'missing'], host)).toEqual(['eth1']);
  });
});

describe('Announcements', () => {
  it('calls the sink for differences only, withdrawing before announcing', () => {
    const calls: string[] = [];
    const a = new Announcements({ announce: (ip, i) => calls.push(`+${ip}@${i}`), withdraw: (ip, i) => calls.push(`-${ip}@${i}`) });
    a.apply(new Map([['10.0.0.1', ['eth0']], ['10.0.0.2', ['eth0']]]));
    expect(calls.splice(0)).toEqual(['+10.0.0.1@eth0', '+10.0.0.2@eth0']);
    a.apply(new Map([['10.0.0.1', ['eth0']], ['10.0.0.2', ['eth0']]]));
    expect(calls).toEqual([]);
    a.apply(new Map([['10.0.0.2', ['eth1']]]));
    expect(calls.splice(0)).toEqual(['-10.0.0.1@eth0', '-10.0.0.2@eth0', '+10.0.0.2@eth1']);
    expect(a.clear()).toEqual(['10.0.0.2@eth1']);
    expect(calls.splice(0)).toEqual(['-10.0.0.2@eth1']);
    expect(a.size).toBe(0);
  });

  it('an announce that throws is reported, not recorded, and tried again next time', () => {
    let broken = true;
    const calls: string[] = [];
    const a = new Announcements({
      announce: (ip, i) => {
        if (broken) throw new Error('no such device');
        calls.push(`+${ip}@${i}`);
      },
      withdraw: (ip, i) => calls.push(`-${ip}@${i}`),
    });
    expect(a.apply(new Map([['10.0.0.1', ['eth0']]]))).toEqual({ announced: [], withdrawn: [], failed: [{ entry: '10.0.0.1@eth0', error: 'no such device' }] });
    expect(a.size).toBe(0);
    broken = false;
    expect(a.apply(new Map([['10.0.0.1', ['eth0']]]))).toEqual({ announced: ['10.0.0.1@eth0'], withdrawn: [], failed: [] });
    expect(calls).toEqual(['+10.0.0.1@eth0']);
  });
});

describe('Membership', () => {
  const hb = (node: string, seq: number, o: Partial<Heartbeat> = {}): Heartbeat => ({ node, incarnation: 'i1', seq, ready: true, leaving: false, ...o });
  const m = (): Membership => new Membership({ self: 'me', incarnation: 'mine', deadAfterMs: 700, heartbeatIntervalMs: 200 });

  it('self is live once ready', () => {
    const x = m();
    expect(x.live(0)).toEqual(new Set());
    x.setSelfReady(true);
    expect(x.live(0)).toEqual(new Set(['me']));
  });

  it('a heard, ready peer is live until deadAfter of silence', () => {
    const x = m();
    x.heard(hb('a', 1), 1000);
    expect(x.isLive('a', 1700)).toBe(true);
    expect(x.isLive('a', 1701)).toBe(false);
  });

  it('a peer not yet ready is not a candidate', () => {
    const x = m();
    x.heard(hb('a', 1, { ready: false }), 0);
    expect(x.isLive('a', 1)).toBe(false);
  });

  it('ignores replays and out-of-order heartbeats', () => {
    const x = m();
    expect(x.heard(hb('a', 5), 0)).toBe(true);
    expect(x.heard(hb('a', 5), 100)).toBe(false);
    expect(x.heard(hb('a', 4), 100)).toBe(false);
    expect(x.isLive('a', 701)).toBe(false);
  });

  it('a Lease alone keeps an unheard peer live (blocked gossip), and it is reported', () => {
    const x = m();
    x.lease({ node: 'a', incarnation: 'i1', validUntil: 60_000 });
    expect(x.isLive('a', 59_999)).toBe(true);
    expect(x.unheard(0)).toEqual(['a']);
    expect(x.isLive('a', 60_000)).toBe(false);
  });

  it('heard then silent: dead at once though its Lease is valid (the fast path)', () => {
    const x = m();
    x.lease({ node: 'a', incarnation: 'i1', validUntil: 60_000 });
    x.heard(hb('a', 1), 1000);
    expect(x.isLive('a', 1500)).toBe(true);
    expect(x.isLive('a', 1701)).toBe(false);
  });

  it('a restarted speaker (new incarnation in its Lease) is live before its first heartbeat', () => {
    const x = m();
    x.heard(hb('a', 1), 0);
    x.lease({ node: 'a', incarnation: 'i2', validUntil: 60_000 });
    expect(x.isLive('a', 5000)).toBe(true);
    x.heard(hb('a', 0, { incarnation: 'i2' }), 5000);
    expect(x.isLive('a', 5100)).toBe(true);
    expect(x.isLive('a', 5701)).toBe(false);
  });

  it('leaving: dead at once, until a new incarnation appears', () => {
    const x = m();
    x.lease({ node: 'a', incarnation: 'i1', validUntil: 60_000 });
    x.heard(hb('a', 1), 0);
    x.heard(hb('a', 2, { leaving: true }), 10);
    expect(x.isLive('a', 11)).toBe(false);
    x.lease({ node: 'a', incarnation: 'i2', validUntil: 60_000 });
    expect(x.isLive('a', 12)).toBe(true);
  });

  it('our own stall does not count as a peer\'s silence: its deadline moves on by the stall, and it still dies after deadAfter more', () => {
    const x = m();
    x.heard(hb('a', 1), 1000);
    // Resumed at 2500 after not running since 1050: 1450 ms in which we could hear nothing.
    x.stalled(1450);
    expect(x.state('a', 2500)).toBe('gossip');
    expect(x.state('a', 1000 + 1450 + 700)).toBe('gossip');
    expect(x.state('a', 1000 + 1450 + 701)).toBe('dead');
  });

  it('never heard and no Lease: not live', () => {
    expect(m().isLive('stranger', 0)).toBe(false);
  });
});

describe('heartbeat wire format', () => {
  const hb: Heartbeat = { node: 'n1', incarnation: 'abc', seq: 7, ready: true, leaving: false };
  it('round-trips, plain and signed', () => {
    expect(decodeHeartbeat(encodeHeartbeat(hb))).toEqual(hb);
    const key = Buffer.from('secret');
    expect(decodeHeartbeat(encodeHeartbeat(hb, key), key)).toEqual(hb);
  });
  it('a signed speaker ignores unsigned, forged and garbage datagrams', () => {
    const key = Buffer.from('secret');
    expect(decodeHeartbeat(encodeHeartbeat(hb), key)).toBeUndefined();
    expect(decodeHeartbeat(encodeHeartbeat(hb, Buffer.from('other')), key)).toBeUndefined();
    expect(decodeHeartbeat(Buffer.from('{"v":1}'))).toBeUndefined();
    expect(decodeHeartbeat(Buffer.from([0xff, 0x00]))).toBeUndefined();
  });
});

describe('InterfaceResponder (fake socket)', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  function setup() {
    const sent: Buffer[] = [];
    const joined = new Set<string>();
    const groups = new Set<string>();
    let opened = 0;
    let closed = 0;
    let deliver: (frame: Buffer, pkttype: number) => void = () => {};
    const socket: FrameSocket = {
      send: (f) => sent.push(f),
      join: (m) => joined.add(formatMac(m)),
      leave: (m) => joined.delete(formatMac(m)),
      close: () => closed++,
    };
    const r = new InterfaceResponder({
      iface: { name: 'eth0', ifindex: 2, mac: '02:00:00:00:00:01', cidrs: ['10.0.0.5/24'], linkLocal: 'fe80::1' },
      gratuitousForMs: 5000,
      log: { warn: () => {} },
      groups: { join: (g, i) => groups.add(`${g}%${i}`), leave: (g, i) => groups.delete(`${g}%${i}`) },
      socketFactory: (_ifindex, _filter, onFrame) => {
        opened++;
        deliver = onFrame;
        return socket;
      },
    });
    return { r, sent, joined, groups, deliver: (f: Buffer, t = 0) => deliver(f, t), counts: () => ({ opened, closed }) };
  }

  it('sends gratuitous ARPs on announce, repeated for a few seconds, and stops on withdraw', () => {
    vi.useFakeTimers();
    const { r, sent, counts } = setup();
    r.announce('10.0.0.100');
    expect(counts()).toEqual({ opened: 1, closed: 0 });
    vi.advanceTimersByTime(0);
    expect(sent.map((f) => parseArp(f)?.senderIp)).toEqual(['10.0.0.100', '10.0.0.100']);
    vi.advanceTimersByTime(1000);
    expect(sent.length).toBe(2 * gratuitousSchedule(5000).filter((t) => t <= 1000).length);
    r.withdraw('10.0.0.100');
    const n = sent.length;
    vi.advanceTimersByTime(10_000);
    expect(sent.length).toBe(n);
    expect(counts()).toEqual({ opened: 1, closed: 1 });
  });

  it('answers who-has for announced addresses only, never its own outgoing frames, and not after withdraw', () => {
    const { r, sent, deliver } = setup();
    r.announce('10.0.0.100');
    sent.length = 0;
    const ask = buildArpRequest(parseMac('02:00:00:00:00:0a'), '10.0.0.10', '10.0.0.100');
    deliver(ask);
    expect(sent).toHaveLength(1);
    expect(parseArp(sent[0] as Buffer)).toMatchObject({ op: 2, senderIp: '10.0.0.100' });
    expect(formatMac(parseArp(sent[0] as Buffer)?.senderMac ?? Buffer.alloc(6))).toBe('02:00:00:00:00:01');
    deliver(ask, PACKET_OUTGOING);
    deliver(buildArpRequest(parseMac('02:00:00:00:00:0a'), '10.0.0.10', '10.0.0.101'));
    expect(sent).toHaveLength(1);
    r.withdraw('10.0.0.100');
    expect(answerArp(ask, () => undefined)).toBeUndefined();
    deliver(ask);
    expect(sent).toHaveLength(1);
    expect(r.stats.arpAnswered).toBe(1);
  });

  it('IPv6: joins the solicited-node group, answers solicitations from its link-local address, leaves on withdraw', () => {
    const { r, sent, joined, groups, deliver } = setup();
    r.announce('fd00::100');
    r.announce('fd00:1::100');
    expect([...joined]).toEqual(['33:33:ff:00:01:00']);
    expect([...groups]).toEqual(['ff02::1:ff00:100%eth0']);
    sent.length = 0;
    deliver(buildNeighborSolicitation(parseMac('02:00:00:00:00:0a'), 'fd00::a', 'fd00::100'));
    expect(parseNeighborAdvertisement(sent[0] as Buffer)).toMatchObject({ src: 'fe80::1', dst: 'fd00::a', target: 'fd00::100', solicited: true, override: true });
    r.withdraw('fd00::100');
    expect([...joined]).toEqual(['33:33:ff:00:01:00']);
    r.withdraw('fd00:1::100');
    expect([...joined]).toEqual([]);
    expect([...groups]).toEqual([]);
  });
});
