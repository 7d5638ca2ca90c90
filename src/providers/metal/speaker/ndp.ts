// IPv6 Neighbor Discovery (RFC 4861) for the speaker: read a Neighbor Solicitation,
// answer it with a Neighbor Advertisement for an address this node announces, and
// build the unsolicited advertisements sent on takeover. Pure: frames in, frames out.
import { formatIp } from '../../../model/ip.js';
import { ETH_HEADER, ETHERTYPE_IPV6, ethernetHeader, ipBytes, ipText } from './link.js';

const IPV6_HEADER = 40;
const NEXT_HEADER_ICMPV6 = 58;
export const ICMPV6_NEIGHBOR_SOLICITATION = 135;
export const ICMPV6_NEIGHBOR_ADVERTISEMENT = 136;
const OPT_SOURCE_LINK_ADDRESS = 1;
const OPT_TARGET_LINK_ADDRESS = 2;
// RFC 4861 7.1.1: a node must drop ND messages whose hop limit is not 255 (they were routed).
const ND_HOP_LIMIT = 255;
const ALL_NODES = 'ff02::1';
const UNSPECIFIED = '::';

export interface NeighborSolicitation {
  readonly ethSrc: Buffer;
  readonly src: string;
  readonly dst: string;
  readonly target: string;
  /** From the source link-layer address option; absent in DAD probes. */
  readonly sourceMac?: Buffer;
}

export interface NeighborAdvertisement {
  readonly ethSrc: Buffer;
  readonly ethDst: Buffer;
  readonly src: string;
  readonly dst: string;
  readonly target: string;
  readonly router: boolean;
  readonly solicited: boolean;
  readonly override: boolean;
  readonly targetMac?: Buffer;
}

/** The ICMPv6 checksum over the IPv6 pseudo-header (RFC 8200 8.1) and the message. */
export function icmpv6Checksum(src: Uint8Array, dst: Uint8Array, message: Uint8Array): number {
  let sum = 0;
  const add16 = (buf: Uint8Array, len: number): void => {
    for (let i = 0; i < len; i += 2) sum += ((buf[i] ?? 0) << 8) | (i + 1 < len ? (buf[i + 1] ?? 0) : 0);
  };
  add16(src, 16);
  add16(dst, 16);
  sum += (message.length >>> 16) + (message.length & 0xffff);
  sum += NEXT_HEADER_ICMPV6;
  add16(message, message.length);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

interface Icmpv6 {
  readonly b: Buffer;
  readonly src: string;
  readonly dst: string;
  readonly icmp: Buffer;
}

function parseIcmpv6(frame: Uint8Array, type: number): Icmpv6 | undefined {
  const b = Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength);
  if (b.length < ETH_HEADER + IPV6_HEADER + 24 || b.readUInt16BE(12) !== ETHERTYPE_IPV6) return undefined;
  const ip = ETH_HEADER;
  if (((b[ip] ?? 0) >> 4) !== 6) return undefined;
  // Extension headers are not followed: ND messages never carry them in practice, and a
  // solicitation this responder cannot read is one the kernel's neighbour code ignores too.
  if (b[ip + 6] !== NEXT_HEADER_ICMPV6 || b[ip + 7] !== ND_HOP_LIMIT) return undefined;
  const payloadLen = b.readUInt16BE(ip + 4);
  const start = ip + IPV6_HEADER;
  if (start + payloadLen > b.length || payloadLen < 24) return undefined;
  const icmp = b.subarray(start, start + payloadLen);
  if (icmp[0] !== type || icmp[1] !== 0) return undefined;
  const srcBytes = b.subarray(ip + 8, ip + 24);
  const dstBytes = b.subarray(ip + 24, ip + 40);
  if (icmpv6Checksum(srcBytes, dstBytes, icmp) !== 0) return undefined;
  return { b, src: ipText(srcBytes), dst: ipText(dstBytes), icmp };
}

function linkOption(icmp: Buffer, want: number): Buffer | undefined {
  for (let o = 24; o + 8 <= icmp.length; ) {
    const type = icmp[o] ?? 0;
    const len = (icmp[o + 1] ?? 0) * 8;
    if (len === 0 || o + len > icmp.length) return undefined; // malformed: RFC 4861 says drop
    if (type === want && len >= 8) return Buffer.from(icmp.subarray(o + 2, o + 8));
    o += len;
  }
  return undefined;
}

function validOptions(icmp: Buffer): boolean {
  for (let o = 24; o < icmp.length; ) {
    const len = (icmp[o + 1] ?? 0) * 8;
    if (len === 0 || o + len > icmp.length) return false;
    o += len;
  }
  return true;
}

export function parseNeighborSolicitation(frame: Uint8Array): NeighborSolicitation | undefined {
  const m = parseIcmpv6(frame, ICMPV6_NEIGHBOR_SOLICITATION);
  if (!m || !validOptions(m.icmp)) return undefined;
  const target = ipText(m.icmp.subarray(8, 24));
  if (target.startsWith('ff')) return undefined; // a multicast target is invalid (7.1.1)
  const sourceMac = linkOption(m.icmp, OPT_SOURCE_LINK_ADDRESS);
  // DAD probes come from :: and must not carry a source link-layer option (7.1.1).
  if (m.src === UNSPECIFIED && sourceMac) return undefined;
  return { ethSrc: Buffer.from(m.b.subarray(6, 12)), src: m.src, dst: m.dst, target, ...(sourceMac ? { sourceMac } : {}) };
}

export function parseNeighborAdvertisement(frame: Uint8Array): NeighborAdvertisement | undefined {
  const m = parseIcmpv6(frame, ICMPV6_NEIGHBOR_ADVERTISEMENT);
  if (!m || !validOptions(m.icmp)) return undefined;
  const flags = m.icmp[4] ?? 0;
  const targetMac = linkOption(m.icmp, OPT_TARGET_LINK_ADDRESS);
  return {
    ethSrc: Buffer.from(m.b.subarray(6, 12)),
    ethDst: Buffer.from(m.b.subarray(0, 6)),
    src: m.src,
    dst: m.dst,
    target: ipText(m.icmp.subarray(8, 24)),
    router: (flags & 0x80) !== 0,
    solicited: (flags & 0x40) !== 0,
    override: (flags & 0x20) !== 0,
    ...(targetMac ? { targetMac } : {}),
  };
}

/** 33:33 + the low 32 bits of an IPv6 multicast address (RFC 2464 7). */
export function multicastMac(group: string): Buffer {
  const g = ipBytes(group, 6);
  return Buffer.from([0x33, 0x33, g[12] ?? 0, g[13] ?? 0, g[14] ?? 0, g[15] ?? 0]);
}

/** ff02::1:ffXX:XXXX, where a solicitation for `ip` is sent (RFC 4291 2.7.1). */
export function solicitedNodeMulticast(ip: string): string {
  const b = ipBytes(ip, 6);
  return formatIp({ family: 6, bytes: [0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff, b[13] ?? 0, b[14] ?? 0, b[15] ?? 0] });
}

function buildIcmpv6Frame(ethDst: Uint8Array, ethSrc: Uint8Array, src: string, dst: string, icmp: Buffer): Buffer {
  const srcB = ipBytes(src, 6);
  const dstB = ipBytes(dst, 6);
  icmp.writeUInt16BE(0, 2);
  icmp.writeUInt16BE(icmpv6Checksum(srcB, dstB, icmp), 2);
  const ip = Buffer.alloc(IPV6_HEADER);
  ip[0] = 0x60;
  ip.writeUInt16BE(icmp.length, 4);
  ip[6] = NEXT_HEADER_ICMPV6;
  ip[7] = ND_HOP_LIMIT;
  srcB.copy(ip, 8);
  dstB.copy(ip, 24);
  return Buffer.concat([ethernetHeader(ethDst, ethSrc, ETHERTYPE_IPV6), ip, icmp]);
}

export interface NaFields {
  readonly ethDst: Uint8Array;
  readonly mac: Uint8Array;
  readonly src: string;
  readonly dst: string;
  readonly target: string;
  readonly solicited: boolean;
}

export function buildNeighborAdvertisement(f: NaFields): Buffer {
  const icmp = Buffer.alloc(32);
  icmp[0] = ICMPV6_NEIGHBOR_ADVERTISEMENT;
  // Override: this node takes the address over from whoever held it. Never Router.
  icmp[4] = (f.solicited ? 0x40 : 0) | 0x20;
  ipBytes(f.target, 6).copy(icmp, 8);
  icmp[24] = OPT_TARGET_LINK_ADDRESS;
  icmp[25] = 1;
  icmp.set(f.mac.subarray(0, 6), 26);
  return buildIcmpv6Frame(f.ethDst, f.mac, f.src, f.dst, icmp);
}

export function buildNeighborSolicitation(mac: Uint8Array, src: string, target: string): Buffer {
  const group = solicitedNodeMulticast(target);
  const icmp = Buffer.alloc(32);
  icmp[0] = ICMPV6_NEIGHBOR_SOLICITATION;
  ipBytes(target, 6).copy(icmp, 8);
  icmp[24] = OPT_SOURCE_LINK_ADDRESS;
  icmp[25] = 1;
  icmp.set(mac.subarray(0, 6), 26);
  return buildIcmpv6Frame(multicastMac(group), mac, src, group, icmp);
}

/**
 * The advertisement answering `frame` when it solicits an address `macFor` owns.
 * `source` is the address the answer comes from: the interface's link-local address
 * where it has one (RFC 4861 wants an address of the sending interface), else the
 * target itself, which is never added to the interface.
 */
export function answerNeighborSolicitation(
  frame: Uint8Array,
  macFor: (ip: string) => Uint8Array | undefined,
  source?: string,
): Buffer | undefined {
  const ns = parseNeighborSolicitation(frame);
  if (!ns) return undefined;
  const mac = macFor(ns.target);
  if (!mac) return undefined;
  const dad = ns.src === UNSPECIFIED;
  // 7.2.4: a DAD probe is answered to all-nodes, not solicited; otherwise unicast to the asker.
  return buildNeighborAdvertisement({
    ethDst: dad ? multicastMac(ALL_NODES) : (ns.sourceMac ?? ns.ethSrc),
    mac,
    src: source ?? ns.target,
    dst: dad ? ALL_NODES : ns.src,
    target: ns.target,
    solicited: !dad,
  });
}

/** The unsolicited advertisement a new owner of `ip` sends to all nodes (7.2.6). */
export function unsolicitedNeighborAdvertisement(ip: string, mac: Uint8Array, source?: string): Buffer {
  return buildNeighborAdvertisement({ ethDst: multicastMac(ALL_NODES), mac, src: source ?? ip, dst: ALL_NODES, target: ip, solicited: false });
}
