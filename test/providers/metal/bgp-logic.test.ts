// BGP mode without a network: the wire encoding (byte for byte against RFC 4271/4760/
// 1997/8092 layouts), communities as MetalLB writes them, MetalLB's resources parsed, and
// which routes each peer gets.
import { describe, expect, it } from 'vitest';
import { aggregate, planRoutes, type AdvertisementSpec, type BgpPool, type BgpService, type PeerSpec } from '../../../src/providers/metal/bgp/advertise.js';
import { BfdSession, BfdState, decodeBfd, encodeBfd } from '../../../src/providers/metal/bgp/bfd.js';
import { parseCommunity, resolveCommunity } from '../../../src/providers/metal/bgp/community.js';
import { BgpProtocolError, decodeMessages, encodeAnnounce, encodeKeepalive, encodeNotification, encodeOpen, encodePrefix, encodeWithdraw, MessageType } from '../../../src/providers/metal/bgp/messages.js';
import { communityAliases, parseAdvertisement, parseBfdProfile, parsePeer } from '../../../src/providers/metal/speaker/bgp-resources.js';
import { within } from './bgp/cluster.js';

const hex = (b: Buffer) => b.toString('hex');
const MARKER = 'ff'.repeat(16);

describe('BGP messages', () => {
  it('KEEPALIVE is the 19-byte header alone; NOTIFICATION carries code and subcode', () => {
    expect(hex(encodeKeepalive())).toBe(`${MARKER}001304`);
    expect(hex(encodeNotification(6, 2))).toBe(`${MARKER}00150306 02`.replace(' ', ''));
  });

  it('OPEN: version 4, AS_TRANS for a 4-octet AS, hold time, router ID, MP IPv4+IPv6 and 4-octet AS capabilities; decodes back', () => {
    const open = encodeOpen({ asn: 4200000001, holdTime: 90, routerId: '10.0.0.1' });
    expect(hex(open.subarray(19, 29))).toBe('04' + '5ba0' + '005a' + '0a000001' + '14');
    const { messages, rest } = decodeMessages(open);
    expect(rest.length).toBe(0);
    expect(messages).toEqual([{ type: MessageType.OPEN, open: { version: 4, asn: 4200000001, holdTime: 90, routerId: '10.0.0.1', fourOctetAs: true, families: ['1/1', '2/1'] } }]);
  });

  it('prefixes take only the bytes their length needs', () => {
    expect(hex(encodePrefix('10.77.0.10/32'))).toBe('200a4d000a');
    expect(hex(encodePrefix('10.77.0.0/24'))).toBe('180a4d00');
    expect(hex(encodePrefix('fd00:77::/120'))).toBe(`78fd000077${'00'.repeat(11)}`);
  });

  it('an IPv4 UPDATE towards an eBGP peer: ORIGIN incomplete, AS_PATH [myASN], NEXT_HOP, communities; no LOCAL_PREF', () => {
    const u = encodeAnnounce({ prefix: '10.77.0.10/32', localPref: 150, communities: [0xffffff01, 64500 * 65536 + 666], largeCommunities: [[64513, 1, 2]] }, { myAsn: 64513, ibgp: false, fourOctetAs: true, nextHop: '10.124.0.1' });
    const body = u.subarray(19);
    expect(body.readUInt16BE(0)).toBe(0); // no withdrawn routes
    const attrs = hex(body.subarray(4, 4 + body.readUInt16BE(2)));
    expect(attrs).toBe(
      '40010102' + // ORIGIN incomplete
        '4002060201' + '0000fc01' + // AS_PATH: one AS_SEQUENCE of one 4-byte AS
        '4003040a7c0001' + // NEXT_HOP
        'c00808' + 'fbf4029a' + 'ffffff01' + // COMMUNITIES, sorted
        'c0200c' + '0000fc01' + '00000001' + '00000002', // LARGE_COMMUNITY
    );
    expect(hex(body.subarray(4 + body.readUInt16BE(2)))).toBe('200a4d000a');
  });

  it('towards an iBGP peer: empty AS_PATH and LOCAL_PREF', () => {
    const u = encodeAnnounce({ prefix: '10.77.0.10/32', localPref: 150, communities: [], largeCommunities: [] }, { myAsn: 64513, ibgp: true, fourOctetAs: true, nextHop: '10.124.0.1' });
    expect(hex(u.subarray(23))).toContain('400200');
    expect(hex(u.subarray(23))).toContain('40050400000096');
  });

  it('IPv6 goes out as MP_REACH_NLRI with a 16-byte next hop, and is withdrawn by MP_UNREACH_NLRI', () => {
    const u = encodeAnnounce({ prefix: 'fd00:77::10/128', communities: [], largeCommunities: [] }, { myAsn: 64513, ibgp: false, fourOctetAs: false, nextHop: 'fd00:124::1' });
    const h = hex(u);
    expect(h).toContain('4002040201fc01'); // 2-byte AS path when the peer lacks the capability
    expect(h).toContain(`800e2600020110fd000124${'00'.repeat(11)}0100` + `80fd000077${'00'.repeat(11)}10`);
    const [w4, w6] = encodeWithdraw(['10.77.0.10/32', 'fd00:77::10/128']);
    expect(hex(w4 as Buffer)).toBe(`${MARKER}001c02` + '0005' + '200a4d000a' + '0000');
    expect(hex(w6 as Buffer)).toBe(`${MARKER}002e02` + '0000' + '0017' + '800f14000201' + `80fd000077${'00'.repeat(11)}10`);
  });

  it('a stream split anywhere decodes to the same messages; a bad marker is a header error', () => {
    const stream = Buffer.concat([encodeKeepalive(), encodeNotification(6, 4)]);
    const first = decodeMessages(stream.subarray(0, 25));
    expect(first.messages).toEqual([{ type: MessageType.KEEPALIVE }]);
    const second = decodeMessages(Buffer.concat([first.rest, stream.subarray(25)]));
    expect(second.messages).toMatchObject([{ type: MessageType.NOTIFICATION, notification: { code: 6, subcode: 4 } }]);
    const bad = Buffer.from(encodeKeepalive());
    bad[3] = 0;
    expect(() => decodeMessages(bad)).toThrow(BgpProtocolError);
  });

  it('refuses an OPEN of another version and a hold time of 1 or 2 s, with the NOTIFICATION to send', () => {
    const v3 = encodeOpen({ asn: 1, holdTime: 90, routerId: '1.1.1.1' });
    v3[19] = 3;
    expect(() => decodeMessages(v3)).toThrow(expect.objectContaining({ code: 2, subcode: 1 }));
    expect(() => decodeMessages(encodeOpen({ asn: 1, holdTime: 2, routerId: '1.1.1.1' }))).toThrow(expect.objectContaining({ code: 2, subcode: 6 }));
  });
});

describe('communities (MetalLB internal/bgp/community)', () => {
  it.each([
    ['65535:65281', { kind: 'standard', value: 0xffffff01 }],
    ['0:0', { kind: 'standard', value: 0 }],
    ['large:4294967295:1:2', { kind: 'large', value: [4294967295, 1, 2] }],
  ])('%s', (text, community) => expect(parseCommunity(text)).toEqual({ ok: true, community }));

  it.each(['65536:1', '1:2:3', 'large:1:2', 'no-export', ''])('refuses %j', (text) => expect(parseCommunity(text).ok).toBe(false));

  it('a name resolves through the Community resources; an unknown one is an error naming it', () => {
    const aliases = new Map([['edge', '64500:1']]);
    expect(resolveCommunity('edge', aliases)).toEqual({ ok: true, community: { kind: 'standard', value: 64500 * 65536 + 1 } });
    expect(resolveCommunity('nope', aliases)).toMatchObject({ ok: false, reason: expect.stringContaining('"nope"') });
  });
});

describe("MetalLB's BGP resources", () => {
  const peer = (spec: Record<string, unknown>) => parsePeer({ metadata: { name: 'r' }, spec: { myASN: 64513, peerASN: 64500, peerAddress: '10.0.0.1', ...spec } });

  it('BGPPeer: MetalLB defaults (port 179, hold 90s), durations, selectors', () => {
    expect(peer({})).toMatchObject({ ok: true, value: { name: 'r', peerPort: 179, holdTime: 90, ebgpMultiHop: false, nodeSelectors: [] } });
    expect(peer({ holdTime: '1m30s', keepaliveTime: '30s', peerPort: 1790, password: 'x', sourceAddress: '10.0.0.2' })).toMatchObject({ ok: true, value: { holdTime: 90, keepaliveTime: 30, peerPort: 1790, password: 'x', sourceAddress: '10.0.0.2' } });
  });

  it('BGPPeer: bad timers and fields lbc cannot honour are errors naming the field, not ignored', () => {
    expect(peer({ holdTime: '2s' })).toMatchObject({ ok: false, reason: expect.stringContaining('spec.holdTime') });
    expect(peer({ holdTime: '9s', keepaliveTime: '10s' })).toMatchObject({ ok: false, reason: expect.stringContaining('spec.keepaliveTime') });
    expect(peer({ vrf: 'red' })).toMatchObject({ ok: false, reason: 'BGPPeer r: spec.vrf is not supported by lbc\'s BGP speaker' });
    expect(peer({ dualStackAddressFamily: true }).ok).toBe(false);
    expect(peer({ peerAddress: undefined })).toMatchObject({ ok: false, reason: expect.stringContaining('spec.peerAddress') });
  });

  it('BGPAdvertisement: defaults 32/128, communities literal or named, bad lengths refused', () => {
    const { aliases } = communityAliases([{ metadata: { name: 'c' }, spec: { communities: [{ name: 'edge', value: '64500:1' }] } }]);
    expect(parseAdvertisement({ metadata: { name: 'a' }, spec: { communities: ['edge', 'large:1:2:3'] } }, aliases)).toMatchObject({
      ok: true,
      value: { aggregationLength: 32, aggregationLengthV6: 128, communities: [{ kind: 'standard' }, { kind: 'large' }], peers: [], ipAddressPools: [] },
    });
    expect(parseAdvertisement({ metadata: { name: 'a' }, spec: { communities: ['edgy'] } }, aliases).ok).toBe(false);
    expect(parseAdvertisement({ metadata: { name: 'a' }, spec: { aggregationLength: 33 } }, aliases).ok).toBe(false);
  });

  it('Community names defined twice with different values are an error naming both', () => {
    const r = communityAliases([
      { metadata: { name: 'one' }, spec: { communities: [{ name: 'x', value: '1:1' }] } },
      { metadata: { name: 'two' }, spec: { communities: [{ name: 'x', value: '1:2' }] } },
    ]);
    expect(r.errors.map((e) => e.message)).toEqual(['community "x" is defined by Community one and Community two']);
  });

  it('BFDProfile: MetalLB defaults 300 ms x3; echo mode refused', () => {
    expect(parseBfdProfile({ metadata: { name: 'b' }, spec: {} })).toMatchObject({ ok: true, value: { receiveIntervalMs: 300, transmitIntervalMs: 300, detectMultiplier: 3 } });
    expect(parseBfdProfile({ metadata: { name: 'b' }, spec: { echoMode: true } }).ok).toBe(false);
  });
});

describe('planRoutes (MetalLB speaker/bgp_controller.go ShouldAnnounce, SetBalancer)', () => {
  const pools: BgpPool[] = [
    { name: 'public', labels: { tier: 'edge' }, contains: (ip) => ip.startsWith('10.77.') || ip.startsWith('fd00:77:') },
    { name: 'private', labels: {}, contains: (ip) => ip.startsWith('10.88.') },
  ];
  const p = (name: string, peerAddress: string): PeerSpec => ({ name, myAsn: 64513, peerAsn: 64500, peerAddress, peerPort: 179, holdTime: 90, ebgpMultiHop: false, nodeSelectors: [] });
  const peers = [p('r4', '10.124.0.254'), p('r6', 'fd00:124::fe'), p('other', '10.124.0.253')];
  const ad = (o: Partial<AdvertisementSpec> = {}): AdvertisementSpec => ({
    name: 'a',
    aggregationLength: 32,
    aggregationLengthV6: 128,
    communities: [],
    peers: [],
    nodeSelectors: [],
    ipAddressPools: [],
    ipAddressPoolSelectors: [],
    serviceSelectors: [],
    ...o,
  });
  const svc = (o: Partial<BgpService> = {}): BgpService => ({ key: 'default/web', labels: {}, ips: ['10.77.0.10'], local: false, readyNodes: new Set(['n2']), anyReady: true, ...o });
  const plan = (o: Partial<Parameters<typeof planRoutes>[0]> = {}) => planRoutes({ node: 'n1', nodeLabels: { zone: 'a' }, peers, advertisements: [ad()], pools, services: [svc()], ...o });
  const prefixes = (r: ReturnType<typeof planRoutes>, peer: string) => (r.routes.get(peer) ?? []).map((x) => x.prefix);

  it('Cluster policy: every node announces once any endpoint is ready, to each peer of the address family', () => {
    const r = plan({ services: [svc({ ips: ['10.77.0.10', 'fd00:77::10'] })] });
    expect(prefixes(r, 'r4')).toEqual(['10.77.0.10/32']);
    expect(prefixes(r, 'r6')).toEqual(['fd00:77::10/128']);
    expect(r.servicePeers.get('default/web')).toEqual(new Set(['r4', 'r6', 'other']));
    expect(prefixes(plan({ services: [svc({ anyReady: false, readyNodes: new Set() })] }), 'r4')).toEqual([]);
  });

  it('Local policy: only from a node running a ready endpoint', () => {
    expect(prefixes(plan({ services: [svc({ local: true })] }), 'r4')).toEqual([]);
    expect(prefixes(plan({ node: 'n2', services: [svc({ local: true })] }), 'r4')).toEqual(['10.77.0.10/32']);
  });

  it('an unfit node (excluded, not Ready) announces nothing', () => {
    expect(prefixes(plan({ nodeUnfit: 'Ready is False' }), 'r4')).toEqual([]);
  });

  it('pool selection by name, by label selector, and none selecting: not a BGP address', () => {
    expect(prefixes(plan({ advertisements: [ad({ ipAddressPools: ['private'] })] }), 'r4')).toEqual([]);
    expect(prefixes(plan({ advertisements: [ad({ ipAddressPools: ['public'] })] }), 'r4')).toEqual(['10.77.0.10/32']);
    expect(prefixes(plan({ advertisements: [ad({ ipAddressPoolSelectors: [{ matchLabels: { tier: 'edge' } }] })] }), 'r4')).toEqual(['10.77.0.10/32']);
    expect(prefixes(plan({ advertisements: [ad({ ipAddressPoolSelectors: [{ matchLabels: { tier: 'core' } }] })] }), 'r4')).toEqual([]);
    expect(plan({ advertisements: [] }).servicePeers.size).toBe(0);
  });

  it('peers, node selectors and service selectors narrow where a route goes', () => {
    const r = plan({ advertisements: [ad({ peers: ['other'] })] });
    expect(prefixes(r, 'r4')).toEqual([]);
    expect(prefixes(r, 'other')).toEqual(['10.77.0.10/32']);
    expect(prefixes(plan({ advertisements: [ad({ nodeSelectors: [{ matchLabels: { zone: 'b' } }] })] }), 'r4')).toEqual([]);
    expect(prefixes(plan({ advertisements: [ad({ serviceSelectors: [{ matchLabels: { bgp: 'yes' } }] })] }), 'r4')).toEqual([]);
    expect(prefixes(plan({ advertisements: [ad({ serviceSelectors: [{ matchLabels: { bgp: 'yes' } }] })], services: [svc({ labels: { bgp: 'yes' } })] }), 'r4')).toEqual(['10.77.0.10/32']);
  });

  it('aggregation length rolls addresses up; two advertisements of one prefix add their communities and keep the highest local preference', () => {
    expect(aggregate('10.77.0.10', 24)).toBe('10.77.0.0/24');
    const r = plan({
      services: [svc({ ips: ['10.77.0.10'] }), svc({ key: 'default/api', ips: ['10.77.0.20'] })],
      advertisements: [
        ad({ name: 'agg', aggregationLength: 24, localPref: 100, communities: [{ kind: 'standard', value: 2 }] }),
        ad({ name: 'agg2', aggregationLength: 24, localPref: 200, communities: [{ kind: 'standard', value: 1 }, { kind: 'large', value: [1, 2, 3] }] }),
      ],
    });
    expect(r.routes.get('r4')).toEqual([{ prefix: '10.77.0.0/24', localPref: 200, communities: [1, 2], largeCommunities: [[1, 2, 3]] }]);
  });
});

/** How late this process's timers run from now until stop(): the most a 1 ms interval was late by, in ms. */
function loopLag(): { stop(): number } {
  let last = performance.now();
  let worst = 0;
  const t = setInterval(() => {
    const now = performance.now();
    worst = Math.max(worst, now - last - 1);
    last = now;
  }, 1);
  return {
    stop: () => {
      clearInterval(t);
      worst = Math.max(worst, performance.now() - last - 1);
      return Math.ceil(worst);
    },
  };
}

describe('BFD (RFC 5880 asynchronous mode)', () => {
  const timers = { receiveIntervalMs: 10, transmitIntervalMs: 10, detectMultiplier: 3, passiveMode: false };

  it('control packets encode and decode; RFC 5880 6.8.6 discards are refused', () => {
    const p = { diag: 0, state: BfdState.Up, poll: true, final: false, detectMult: 3, myDisc: 7, yourDisc: 9, desiredMinTxUs: 100_000, requiredMinRxUs: 300_000 };
    const b = encodeBfd(p);
    expect(hex(b)).toBe('20e00318' + '00000007' + '00000009' + '000186a0' + '000493e0' + '00000000');
    expect(decodeBfd(b)).toEqual(p);
    expect(decodeBfd(encodeBfd({ ...p, myDisc: 0 }))).toBeUndefined();
    expect(decodeBfd(encodeBfd({ ...p, yourDisc: 0 }))).toBeUndefined(); // Up without knowing us
    expect(decodeBfd(b.subarray(0, 20))).toBeUndefined();
  });

  it('two ends come Up by the three-way handshake; one end silent brings the other Down within the detection time', async () => {
    const events: string[] = [];
    let cut = false;
    const deliver = (to: () => BfdSession) => (buf: Buffer) => {
      if (cut) return;
      const p = decodeBfd(buf);
      if (p) setImmediate(() => to().receive(p));
    };
    const a: BfdSession = new BfdSession('b', timers, deliver(() => b), { onDown: (w) => events.push(`a down: ${w}`), onUp: () => events.push('a up') });
    const b: BfdSession = new BfdSession('a', timers, deliver(() => a), { onDown: (w) => events.push(`b down: ${w}`), onUp: () => events.push('b up') });
    try {
      await within('both Up', () => a.up && b.up, 5_000, 5);
      expect(events.sort()).toEqual(['a up', 'b up']);
      // Until the first packets sent in Up arrive, each end still goes by the other's slow
      // pre-Up rate (1 s x3): waited for, not assumed after a fixed while.
      await within('the fast rate both ways', () => a.up && b.up && a.detectionTimeMs === 30 && b.detectionTimeMs === 30, 5_000, 2);
      const lag = loopLag();
      cut = true;
      const t0 = Date.now();
      const before = events.length;
      // The detect timer was armed before the cut (or by a packet already in flight), so it
      // fires within the detection time of it, late by no more than the event loop is: under
      // load a 30 ms detection time at the cut gave Down after 1500 ms, the loop starved.
      const pollMs = 2;
      await within('a Down', () => !a.up, 5_000, pollMs);
      const took = Date.now() - t0;
      const late = lag.stop();
      expect(took, `Down after ${took} ms; the event loop ran up to ${late} ms late`).toBeLessThanOrEqual(30 + 2 * late + pollMs + 10);
      // Detection time: the peer's multiplier times the slower of our rx and its tx (10 ms x3).
      // Said by this Down, not by a flap before the cut (a starved loop can miss 30 ms).
      expect(events.slice(before)).toContain('a down: BFD: nothing from b for 30 ms');
    } finally {
      a.close();
      b.close();
    }
  });
});
