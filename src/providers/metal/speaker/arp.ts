// ARP (RFC 826) for the speaker: read a who-has, answer it for an address this node
// announces, and build the gratuitous ARPs sent on takeover. Pure: frames in, frames
// out; the responder owns the socket.
import { BROADCAST_MAC, ETH_HEADER, ETHERTYPE_ARP, ethernetHeader, ipBytes, ipText } from './link.js';

const ARP_LEN = 28;
const HTYPE_ETHERNET = 1;
const PTYPE_IPV4 = 0x0800;
export const ARP_REQUEST = 1;
export const ARP_REPLY = 2;

export interface ArpPacket {
  readonly op: number;
  readonly senderMac: Buffer;
  readonly senderIp: string;
  readonly targetMac: Buffer;
  readonly targetIp: string;
  /** The Ethernet source, which a proxy or a bridge may make differ from senderMac. */
  readonly ethSrc: Buffer;
}

/** The ARP packet in an Ethernet frame, or undefined for anything else (other protocols, non-Ethernet/IPv4 ARP, runts). */
export function parseArp(frame: Uint8Array): ArpPacket | undefined {
  if (frame.length < ETH_HEADER + ARP_LEN) return undefined;
  const b = Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength);
  if (b.readUInt16BE(12) !== ETHERTYPE_ARP) return undefined;
  const a = ETH_HEADER;
  if (b.readUInt16BE(a) !== HTYPE_ETHERNET || b.readUInt16BE(a + 2) !== PTYPE_IPV4 || b[a + 4] !== 6 || b[a + 5] !== 4) return undefined;
  return {
    op: b.readUInt16BE(a + 6),
    senderMac: Buffer.from(b.subarray(a + 8, a + 14)),
    senderIp: ipText(b.subarray(a + 14, a + 18)),
    targetMac: Buffer.from(b.subarray(a + 18, a + 24)),
    targetIp: ipText(b.subarray(a + 24, a + 28)),
    ethSrc: Buffer.from(b.subarray(6, 12)),
  };
}

export interface ArpFields {
  readonly op: number;
  readonly ethDst: Uint8Array;
  readonly senderMac: Uint8Array;
  readonly senderIp: string;
  readonly targetMac: Uint8Array;
  readonly targetIp: string;
}

export function buildArp(f: ArpFields): Buffer {
  const body = Buffer.alloc(ARP_LEN);
  body.writeUInt16BE(HTYPE_ETHERNET, 0);
  body.writeUInt16BE(PTYPE_IPV4, 2);
  body[4] = 6;
  body[5] = 4;
  body.writeUInt16BE(f.op, 6);
  body.set(f.senderMac.subarray(0, 6), 8);
  body.set(ipBytes(f.senderIp, 4), 14);
  body.set(f.targetMac.subarray(0, 6), 18);
  body.set(ipBytes(f.targetIp, 4), 24);
  // Ethernet's 60-byte minimum: the kernel does not pad frames from packet sockets.
  const frame = Buffer.alloc(60);
  ethernetHeader(f.ethDst, f.senderMac, ETHERTYPE_ARP).copy(frame, 0);
  body.copy(frame, ETH_HEADER);
  return frame;
}

/** A who-has for `targetIp`, as a client (or a test) asks it. */
export function buildArpRequest(senderMac: Uint8Array, senderIp: string, targetIp: string): Buffer {
  return buildArp({ op: ARP_REQUEST, ethDst: BROADCAST_MAC, senderMac, senderIp, targetMac: Buffer.alloc(6), targetIp });
}

/**
 * The reply to `frame` when it asks for an address `macFor` owns, else undefined.
 * Replies go unicast to the asker, as a host's own ARP does. Probes (sender 0.0.0.0,
 * RFC 5227) are answered too: the asker is checking whether the address is in use, and it is.
 */
export function answerArp(frame: Uint8Array, macFor: (ip: string) => Uint8Array | undefined): Buffer | undefined {
  const p = parseArp(frame);
  if (!p || p.op !== ARP_REQUEST) return undefined;
  const mac = macFor(p.targetIp);
  if (!mac) return undefined;
  // Our own gratuitous requests (sender = target) must not trigger answers.
  if (p.senderIp === p.targetIp) return undefined;
  const probe = p.senderIp === '0.0.0.0';
  return buildArp({
    op: ARP_REPLY,
    ethDst: probe ? BROADCAST_MAC : p.senderMac,
    senderMac: mac,
    senderIp: p.targetIp,
    targetMac: p.senderMac,
    targetIp: p.senderIp,
  });
}

/**
 * What a new owner of `ip` broadcasts so neighbours and switches update at once: a
 * gratuitous request and a gratuitous reply, since hosts differ in which they honour
 * (MetalLB sends both for the same reason).
 */
export function gratuitousArp(ip: string, mac: Uint8Array): Buffer[] {
  return [ARP_REQUEST, ARP_REPLY].map((op) =>
    buildArp({ op, ethDst: BROADCAST_MAC, senderMac: mac, senderIp: ip, targetMac: BROADCAST_MAC, targetIp: ip }),
  );
}
