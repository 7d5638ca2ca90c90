// ARP and NDP frames, parsed and built, checked byte for byte against hand-assembled
// frames, plus the BPF program the responders attach (run by a small interpreter).
import { describe, expect, it } from 'vitest';
import { answerArp, ARP_REPLY, ARP_REQUEST, buildArpRequest, gratuitousArp, parseArp } from '../../../src/providers/metal/speaker/arp.js';
import { frameFilter, runFilter } from '../../../src/providers/metal/speaker/bpf.js';
import { formatMac, parseMac } from '../../../src/providers/metal/speaker/link.js';
import {
  answerNeighborSolicitation,
  buildNeighborSolicitation,
  icmpv6Checksum,
  multicastMac,
  parseNeighborAdvertisement,
  parseNeighborSolicitation,
  solicitedNodeMulticast,
  unsolicitedNeighborAdvertisement,
} from '../../../src/providers/metal/speaker/ndp.js';

const CLIENT_MAC = parseMac('02:00:00:00:00:0a');
const NODE_MAC = parseMac('02:00:00:00:00:01');
const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

// who-has 10.123.0.100 tell 10.123.0.10, as a Linux host sends it (padded to 60 bytes).
const WHO_HAS = hex(`
  ffffffffffff 02000000000a 0806
  0001 0800 06 04 0001 02000000000a 0a7b000a 000000000000 0a7b0064
  000000000000000000000000000000000000`);

describe('ARP', () => {
  it('parses a who-has', () => {
    expect(parseArp(WHO_HAS)).toEqual({
      op: ARP_REQUEST,
      senderMac: CLIENT_MAC,
      senderIp: '10.123.0.10',
      targetMac: Buffer.alloc(6),
      targetIp: '10.123.0.100',
      ethSrc: CLIENT_MAC,
    });
  });

  it('builds the same who-has a host sends', () => {
    expect(buildArpRequest(CLIENT_MAC, '10.123.0.10', '10.123.0.100')).toEqual(WHO_HAS);
  });

  it('answers for an announced address, unicast to the asker, with the node MAC', () => {
    const reply = answerArp(WHO_HAS, (ip) => (ip === '10.123.0.100' ? NODE_MAC : undefined));
    expect(reply).toEqual(
      hex(`
        02000000000a 020000000001 0806
        0001 0800 06 04 0002 020000000001 0a7b0064 02000000000a 0a7b000a
        000000000000000000000000000000000000`),
    );
    expect(parseArp(reply as Buffer)).toMatchObject({ op: ARP_REPLY, senderMac: NODE_MAC, senderIp: '10.123.0.100', targetIp: '10.123.0.10' });
  });

  it('stays silent for other addresses, replies, gratuitous requests and garbage', () => {
    const macFor = (ip: string) => (ip === '10.123.0.100' ? NODE_MAC : undefined);
    expect(answerArp(buildArpRequest(CLIENT_MAC, '10.123.0.10', '10.123.0.101'), macFor)).toBeUndefined();
    expect(answerArp(gratuitousArp('10.123.0.100', CLIENT_MAC)[1] as Buffer, macFor)).toBeUndefined();
    expect(answerArp(gratuitousArp('10.123.0.100', CLIENT_MAC)[0] as Buffer, macFor)).toBeUndefined();
    expect(answerArp(WHO_HAS.subarray(0, 30), macFor)).toBeUndefined();
    const ipv6Arp = Buffer.from(WHO_HAS);
    ipv6Arp.writeUInt16BE(0x86dd, 16);
    expect(answerArp(ipv6Arp, macFor)).toBeUndefined();
  });

  it('answers an RFC 5227 probe (sender 0.0.0.0) by broadcast', () => {
    const probe = buildArpRequest(CLIENT_MAC, '0.0.0.0', '10.123.0.100');
    const reply = answerArp(probe, () => NODE_MAC) as Buffer;
    expect(formatMac(reply.subarray(0, 6))).toBe('ff:ff:ff:ff:ff:ff');
    expect(parseArp(reply)).toMatchObject({ op: ARP_REPLY, targetIp: '0.0.0.0' });
  });

  it('gratuitous ARP: a request and a reply, broadcast, sender and target the address', () => {
    const frames = gratuitousArp('10.123.0.100', NODE_MAC);
    expect(frames.map((f) => parseArp(f))).toEqual([
      { op: ARP_REQUEST, senderMac: NODE_MAC, senderIp: '10.123.0.100', targetMac: parseMac('ff:ff:ff:ff:ff:ff'), targetIp: '10.123.0.100', ethSrc: NODE_MAC },
      { op: ARP_REPLY, senderMac: NODE_MAC, senderIp: '10.123.0.100', targetMac: parseMac('ff:ff:ff:ff:ff:ff'), targetIp: '10.123.0.100', ethSrc: NODE_MAC },
    ]);
    for (const f of frames) expect(formatMac(f.subarray(0, 6))).toBe('ff:ff:ff:ff:ff:ff');
  });
});

// A Neighbor Solicitation for fd00:123::100 from fd00:123::a, as Linux sends it.
const NS = hex(`
  3333ff000100 02000000000a 86dd
  60000000 0020 3a ff
  fd00 0123 0000 0000 0000 0000 0000 000a
  ff02 0000 0000 0000 0000 0001 ff00 0100
  87 00 0000 00000000
  fd00 0123 0000 0000 0000 0000 0000 0100
  01 01 02000000000a`);
// Fill in the checksum the way the sender would.
NS.writeUInt16BE(icmpv6Checksum(NS.subarray(22, 38), NS.subarray(38, 54), Buffer.concat([NS.subarray(54, 56), Buffer.alloc(2), NS.subarray(58)])), 56);

describe('NDP', () => {
  it('knows the solicited-node group and its MAC', () => {
    expect(solicitedNodeMulticast('fd00:123::100')).toBe('ff02::1:ff00:100');
    expect(solicitedNodeMulticast('2001:db8::abcd:ef12')).toBe('ff02::1:ffcd:ef12');
    expect(formatMac(multicastMac('ff02::1:ff00:100'))).toBe('33:33:ff:00:01:00');
    expect(formatMac(multicastMac('ff02::1'))).toBe('33:33:00:00:00:01');
  });

  it('parses a solicitation, checksum verified', () => {
    expect(parseNeighborSolicitation(NS)).toEqual({ ethSrc: CLIENT_MAC, src: 'fd00:123::a', dst: 'ff02::1:ff00:100', target: 'fd00:123::100', sourceMac: CLIENT_MAC });
    const corrupt = Buffer.from(NS);
    corrupt[70] = 0x42;
    expect(parseNeighborSolicitation(corrupt)).toBeUndefined();
  });

  it('builds the same solicitation a host sends', () => {
    expect(buildNeighborSolicitation(CLIENT_MAC, 'fd00:123::a', 'fd00:123::100')).toEqual(NS);
  });

  it('refuses routed (hop limit < 255) and multicast-target solicitations', () => {
    const routed = Buffer.from(NS);
    routed[21] = 64;
    expect(parseNeighborSolicitation(routed)).toBeUndefined();
    expect(parseNeighborSolicitation(buildNeighborSolicitation(CLIENT_MAC, 'fd00:123::a', 'ff02::5'))).toBeUndefined();
  });

  it('answers with a solicited, override advertisement carrying the node MAC, unicast to the asker', () => {
    const na = answerNeighborSolicitation(NS, (ip) => (ip === 'fd00:123::100' ? NODE_MAC : undefined), 'fe80::1') as Buffer;
    expect(formatMac(na.subarray(0, 6))).toBe('02:00:00:00:00:0a');
    expect(formatMac(na.subarray(6, 12))).toBe('02:00:00:00:00:01');
    expect(na[21]).toBe(255);
    expect(parseNeighborAdvertisement(na)).toEqual({
      ethSrc: NODE_MAC,
      ethDst: CLIENT_MAC,
      src: 'fe80::1',
      dst: 'fd00:123::a',
      target: 'fd00:123::100',
      router: false,
      solicited: true,
      override: true,
      targetMac: NODE_MAC,
    });
    expect(answerNeighborSolicitation(NS, () => undefined)).toBeUndefined();
  });

  it('answers a DAD probe (source ::) to all-nodes, not solicited', () => {
    const dad = buildNeighborSolicitation(CLIENT_MAC, '::', 'fd00:123::100');
    // DAD probes carry no source link-layer option: strip it and fix lengths and checksum.
    const trimmed = Buffer.from(dad.subarray(0, dad.length - 8));
    trimmed.writeUInt16BE(24, 18);
    trimmed.writeUInt16BE(0, 56);
    trimmed.writeUInt16BE(icmpv6Checksum(trimmed.subarray(22, 38), trimmed.subarray(38, 54), trimmed.subarray(54)), 56);
    expect(parseNeighborSolicitation(trimmed)).toMatchObject({ src: '::', target: 'fd00:123::100' });
    expect(parseNeighborSolicitation(dad)).toBeUndefined();
    const na = answerNeighborSolicitation(trimmed, () => NODE_MAC) as Buffer;
    expect(parseNeighborAdvertisement(na)).toMatchObject({ dst: 'ff02::1', solicited: false, override: true });
    expect(formatMac(na.subarray(0, 6))).toBe('33:33:00:00:00:01');
  });

  it('unsolicited advertisement for a takeover', () => {
    expect(parseNeighborAdvertisement(unsolicitedNeighborAdvertisement('fd00:123::100', NODE_MAC))).toEqual({
      ethSrc: NODE_MAC,
      ethDst: parseMac('33:33:00:00:00:01'),
      src: 'fd00:123::100',
      dst: 'ff02::1',
      target: 'fd00:123::100',
      router: false,
      solicited: false,
      override: true,
      targetMac: NODE_MAC,
    });
  });
});

describe('BPF filter', () => {
  const speaker = frameFilter({ arpOps: [ARP_REQUEST], icmpv6Types: [135] });
  it('lets ARP requests and Neighbor Solicitations through whole', () => {
    expect(runFilter(speaker, WHO_HAS)).toBe(WHO_HAS.length);
    expect(runFilter(speaker, NS)).toBe(NS.length);
  });
  it('drops ARP replies, advertisements, IPv4 and runts', () => {
    expect(runFilter(speaker, gratuitousArp('10.0.0.1', NODE_MAC)[1] as Buffer)).toBe(0);
    expect(runFilter(speaker, unsolicitedNeighborAdvertisement('fd00::1', NODE_MAC))).toBe(0);
    const ipv4 = Buffer.alloc(60);
    ipv4.writeUInt16BE(0x0800, 12);
    expect(runFilter(speaker, ipv4)).toBe(0);
    expect(runFilter(speaker, Buffer.alloc(10))).toBe(0);
  });
  it('selects several operations and types', () => {
    const both = frameFilter({ arpOps: [ARP_REQUEST, ARP_REPLY], icmpv6Types: [135, 136] });
    expect(runFilter(both, gratuitousArp('10.0.0.1', NODE_MAC)[1] as Buffer)).toBeGreaterThan(0);
    expect(runFilter(both, unsolicitedNeighborAdvertisement('fd00::1', NODE_MAC))).toBeGreaterThan(0);
    const arpOnly = frameFilter({ arpOps: [ARP_REPLY] });
    expect(runFilter(arpOnly, NS)).toBe(0);
    expect(runFilter(arpOnly, WHO_HAS)).toBe(0);
  });
});
