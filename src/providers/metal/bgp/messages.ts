// BGP-4 messages on the wire (RFC 4271), with what a route announcer needs on top:
// capabilities (RFC 5492), four-octet AS numbers (RFC 6793), multiprotocol routes for
// IPv6 (RFC 4760), communities (RFC 1997) and large communities (RFC 8092). Only what a
// speaker that announces host routes sends and must understand; the routes a router
// sends back are parsed no further than their framing. Pure.
//
// As MetalLB's native speaker (internal/bgp/native/messages.go): ORIGIN incomplete, an
// empty AS_PATH towards iBGP peers and [myASN] towards eBGP peers, LOCAL_PREF only
// towards iBGP peers. Unlike it, IPv6 prefixes go out as MP_REACH_NLRI.
import { formatIp, parseIp } from '../../../model/ip.js';

export const BGP_PORT = 179;
export const HEADER_LEN = 19;
export const MAX_MESSAGE_LEN = 4096;
/** The 2-octet stand-in for an AS number above 65535 (RFC 6793). */
export const AS_TRANS = 23456;

export const MessageType = { OPEN: 1, UPDATE: 2, NOTIFICATION: 3, KEEPALIVE: 4, ROUTE_REFRESH: 5 } as const;

const AFI_IPV4 = 1;
const AFI_IPV6 = 2;
const SAFI_UNICAST = 1;
const CAP_MULTIPROTOCOL = 1;
const CAP_FOUR_OCTET_AS = 65;

const ATTR_ORIGIN = 1;
const ATTR_AS_PATH = 2;
const ATTR_NEXT_HOP = 3;
const ATTR_LOCAL_PREF = 5;
const ATTR_COMMUNITIES = 8;
const ATTR_MP_REACH = 14;
const ATTR_MP_UNREACH = 15;
const ATTR_LARGE_COMMUNITIES = 32;
const FLAG_OPTIONAL = 0x80;
const FLAG_TRANSITIVE = 0x40;
const FLAG_EXTENDED = 0x10;
const ORIGIN_INCOMPLETE = 2;
const AS_SEQUENCE = 2;

export interface OpenMessage {
  readonly version: number;
  /** The AS number, four-octet when the peer sent the capability. */
  readonly asn: number;
  readonly holdTime: number;
  readonly routerId: string;
  readonly fourOctetAs: boolean;
  /** `afi/safi` pairs the peer announced, e.g. `1/1`, `2/1`. */
  readonly families: readonly string[];
}

export interface Notification {
  readonly code: number;
  readonly subcode: number;
  readonly data: Buffer;
}

/** A prefix with its attributes, as sent to one peer. */
export interface Route {
  /** `10.0.0.1/32`, `2001:db8::1/128`: host bits clear. */
  readonly prefix: string;
  readonly localPref?: number;
  /** Standard communities as 32-bit numbers. */
  readonly communities: readonly number[];
  /** Large communities as [global, local1, local2]. */
  readonly largeCommunities: readonly (readonly [number, number, number])[];
}

export type Message =
  | { readonly type: typeof MessageType.OPEN; readonly open: OpenMessage }
  | { readonly type: typeof MessageType.KEEPALIVE }
  | { readonly type: typeof MessageType.NOTIFICATION; readonly notification: Notification }
  | { readonly type: typeof MessageType.UPDATE; readonly body: Buffer }
  | { readonly type: typeof MessageType.ROUTE_REFRESH; readonly body: Buffer };

/** A message the peer sent that breaks the protocol: the session answers it with this NOTIFICATION. */
export class BgpProtocolError extends Error {
  constructor(
    readonly code: number,
    readonly subcode: number,
    message: string,
    readonly data: Buffer = Buffer.alloc(0),
  ) {
    super(message);
  }
}

const NOTIFICATION_TEXT: Record<number, string> = {
  0x0100: 'message header error',
  0x0101: 'connection not synchronized',
  0x0102: 'bad message length',
  0x0103: 'bad message type',
  0x0200: 'OPEN message error',
  0x0201: 'unsupported version number',
  0x0202: 'bad peer AS',
  0x0203: 'bad BGP identifier',
  0x0204: 'unsupported optional parameter',
  0x0206: 'unacceptable hold time',
  0x0207: 'unsupported capability',
  0x0300: 'UPDATE message error',
  0x0400: 'hold timer expired',
  0x0500: 'finite state machine error',
  0x0600: 'cease',
  0x0601: 'cease: maximum number of prefixes reached',
  0x0602: 'cease: administrative shutdown',
  0x0603: 'cease: peer de-configured',
  0x0604: 'cease: administrative reset',
  0x0605: 'cease: connection rejected',
  0x0606: 'cease: other configuration change',
  0x0607: 'cease: connection collision resolution',
  0x0608: 'cease: out of resources',
};

export function notificationText(n: { code: number; subcode: number }): string {
  return NOTIFICATION_TEXT[(n.code << 8) | n.subcode] ?? NOTIFICATION_TEXT[n.code << 8] ?? `code ${n.code} subcode ${n.subcode}`;
}

function frame(type: number, body: Buffer): Buffer {
  const len = HEADER_LEN + body.length;
  if (len > MAX_MESSAGE_LEN) throw new Error(`BGP message of ${len} bytes is over the ${MAX_MESSAGE_LEN}-byte limit`);
  const h = Buffer.alloc(HEADER_LEN, 0xff);
  h.writeUInt16BE(len, 16);
  h.writeUInt8(type, 18);
  return Buffer.concat([h, body]);
}

function ipv4Bytes(ip: string, what: string): Buffer {
  const p = parseIp(ip);
  if (!p || p.family !== 4) throw new Error(`${what} ${JSON.stringify(ip)} is not an IPv4 address`);
  return Buffer.from(p.bytes);
}

export function encodeOpen(o: { asn: number; holdTime: number; routerId: string }): Buffer {
  const cap = (code: number, value: Buffer): Buffer => Buffer.concat([Buffer.from([code, value.length]), value]);
  const mp = (afi: number): Buffer => {
    const b = Buffer.alloc(4);
    b.writeUInt16BE(afi, 0);
    b.writeUInt8(SAFI_UNICAST, 3);
    return b;
  };
  const as4 = Buffer.alloc(4);
  as4.writeUInt32BE(o.asn >>> 0, 0);
  const caps = Buffer.concat([cap(CAP_MULTIPROTOCOL, mp(AFI_IPV4)), cap(CAP_MULTIPROTOCOL, mp(AFI_IPV6)), cap(CAP_FOUR_OCTET_AS, as4)]);
  const param = Buffer.concat([Buffer.from([2, caps.length]), caps]);
  const fixed = Buffer.alloc(10);
  fixed.writeUInt8(4, 0);
  fixed.writeUInt16BE(o.asn > 0xffff ? AS_TRANS : o.asn, 1);
  fixed.writeUInt16BE(o.holdTime, 3);
  ipv4Bytes(o.routerId, 'router ID').copy(fixed, 5);
  fixed.writeUInt8(param.length, 9);
  return frame(MessageType.OPEN, Buffer.concat([fixed, param]));
}

export function encodeKeepalive(): Buffer {
  return frame(MessageType.KEEPALIVE, Buffer.alloc(0));
}

export function encodeNotification(code: number, subcode: number, data: Buffer = Buffer.alloc(0)): Buffer {
  return frame(MessageType.NOTIFICATION, Buffer.concat([Buffer.from([code, subcode]), data]));
}

function prefixParts(prefix: string): { family: 4 | 6; len: number; bytes: Buffer } {
  const slash = prefix.indexOf('/');
  const ip = parseIp(prefix.slice(0, slash));
  const len = Number(prefix.slice(slash + 1));
  if (slash < 0 || !ip || !Number.isInteger(len) || len < 0 || len > (ip.family === 4 ? 32 : 128)) throw new Error(`${JSON.stringify(prefix)} is not a prefix`);
  return { family: ip.family, len, bytes: Buffer.from(ip.bytes) };
}

/** NLRI encoding: the length in bits, then just enough bytes to hold it. */
export function encodePrefix(prefix: string): Buffer {
  const p = prefixParts(prefix);
  return Buffer.concat([Buffer.from([p.len]), p.bytes.subarray(0, Math.ceil(p.len / 8))]);
}

export function prefixFamily(prefix: string): 4 | 6 {
  return prefix.includes(':') ? 6 : 4;
}

function attr(flags: number, type: number, value: Buffer): Buffer {
  if (value.length > 255) {
    const h = Buffer.from([flags | FLAG_EXTENDED, type, 0, 0]);
    h.writeUInt16BE(value.length, 2);
    return Buffer.concat([h, value]);
  }
  return Buffer.concat([Buffer.from([flags, type, value.length]), value]);
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0, 0);
  return b;
}

export interface UpdateContext {
  readonly myAsn: number;
  readonly ibgp: boolean;
  /** Whether both ends sent the four-octet AS capability: AS_PATH carries 4-byte numbers then. */
  readonly fourOctetAs: boolean;
  /** Our address for the prefix's family, the route's next hop. */
  readonly nextHop: string;
}

/** One UPDATE announcing `route` (IPv4 as plain NLRI, IPv6 as MP_REACH_NLRI). */
export function encodeAnnounce(route: Route, ctx: UpdateContext): Buffer {
  const family = prefixFamily(route.prefix);
  const attrs: Buffer[] = [attr(FLAG_TRANSITIVE, ATTR_ORIGIN, Buffer.from([ORIGIN_INCOMPLETE]))];
  if (ctx.ibgp) {
    attrs.push(attr(FLAG_TRANSITIVE, ATTR_AS_PATH, Buffer.alloc(0)));
  } else {
    const asn = ctx.fourOctetAs ? u32(ctx.myAsn) : Buffer.from([(ctx.myAsn > 0xffff ? AS_TRANS : ctx.myAsn) >> 8, (ctx.myAsn > 0xffff ? AS_TRANS : ctx.myAsn) & 0xff]);
    attrs.push(attr(FLAG_TRANSITIVE, ATTR_AS_PATH, Buffer.concat([Buffer.from([AS_SEQUENCE, 1]), asn])));
  }
  if (family === 4) attrs.push(attr(FLAG_TRANSITIVE, ATTR_NEXT_HOP, ipv4Bytes(ctx.nextHop, 'next hop')));
  // LOCAL_PREF is an iBGP attribute: an eBGP speaker must not send it (RFC 4271 5.1.5).
  if (ctx.ibgp && route.localPref !== undefined) attrs.push(attr(FLAG_TRANSITIVE, ATTR_LOCAL_PREF, u32(route.localPref)));
  if (route.communities.length > 0) attrs.push(attr(FLAG_OPTIONAL | FLAG_TRANSITIVE, ATTR_COMMUNITIES, Buffer.concat([...route.communities].sort((a, b) => a - b).map(u32))));
  if (route.largeCommunities.length > 0) {
    attrs.push(attr(FLAG_OPTIONAL | FLAG_TRANSITIVE, ATTR_LARGE_COMMUNITIES, Buffer.concat(route.largeCommunities.flatMap((c) => c.map(u32)))));
  }
  let nlri: Buffer = Buffer.alloc(0);
  if (family === 6) {
    const nh = parseIp(ctx.nextHop);
    if (!nh || nh.family !== 6) throw new Error(`next hop ${JSON.stringify(ctx.nextHop)} for ${route.prefix} is not an IPv6 address`);
    const head = Buffer.alloc(4);
    head.writeUInt16BE(AFI_IPV6, 0);
    head.writeUInt8(SAFI_UNICAST, 2);
    head.writeUInt8(16, 3);
    // Then the next hop, no SNPA (a zero reserved octet), the NLRI.
    attrs.push(attr(FLAG_OPTIONAL, ATTR_MP_REACH, Buffer.concat([head, Buffer.from(nh.bytes), Buffer.from([0]), encodePrefix(route.prefix)])));
  } else {
    nlri = encodePrefix(route.prefix);
  }
  const pathAttrs = Buffer.concat(attrs);
  const lens = Buffer.alloc(4);
  lens.writeUInt16BE(0, 0);
  lens.writeUInt16BE(pathAttrs.length, 2);
  return frame(MessageType.UPDATE, Buffer.concat([lens, pathAttrs, nlri]));
}

/** UPDATEs withdrawing `prefixes`: IPv4 in the withdrawn-routes field, IPv6 as MP_UNREACH_NLRI. */
export function encodeWithdraw(prefixes: readonly string[]): Buffer[] {
  const out: Buffer[] = [];
  const v4 = prefixes.filter((p) => prefixFamily(p) === 4);
  const v6 = prefixes.filter((p) => prefixFamily(p) === 6);
  // Well under the 4096-byte limit per message: a /32 costs 5 bytes, a /128 17.
  for (let i = 0; i < v4.length; i += 500) {
    const w = Buffer.concat(v4.slice(i, i + 500).map(encodePrefix));
    const body = Buffer.alloc(4 + w.length);
    body.writeUInt16BE(w.length, 0);
    w.copy(body, 2);
    body.writeUInt16BE(0, 2 + w.length);
    out.push(frame(MessageType.UPDATE, body));
  }
  for (let i = 0; i < v6.length; i += 200) {
    const head = Buffer.alloc(3);
    head.writeUInt16BE(AFI_IPV6, 0);
    head.writeUInt8(SAFI_UNICAST, 2);
    const a = attr(FLAG_OPTIONAL, ATTR_MP_UNREACH, Buffer.concat([head, ...v6.slice(i, i + 200).map(encodePrefix)]));
    const lens = Buffer.alloc(4);
    lens.writeUInt16BE(a.length, 2);
    out.push(frame(MessageType.UPDATE, Buffer.concat([lens, a])));
  }
  return out;
}

function decodeOpen(body: Buffer): OpenMessage {
  if (body.length < 10) throw new BgpProtocolError(1, 2, `OPEN of ${body.length} bytes is too short`);
  const version = body.readUInt8(0);
  if (version !== 4) throw new BgpProtocolError(2, 1, `the peer speaks BGP version ${version}, not 4`, Buffer.from([0, 4]));
  let asn = body.readUInt16BE(1);
  const holdTime = body.readUInt16BE(3);
  if (holdTime === 1 || holdTime === 2) throw new BgpProtocolError(2, 6, `the peer's hold time ${holdTime} s is neither 0 nor at least 3 s`);
  const routerId = formatIp({ family: 4, bytes: [...body.subarray(5, 9)] });
  const optLen = body.readUInt8(9);
  if (10 + optLen > body.length) throw new BgpProtocolError(2, 0, 'OPEN optional parameters overrun the message');
  const families: string[] = [];
  let fourOctetAs = false;
  for (let i = 10; i < 10 + optLen; ) {
    const type = body.readUInt8(i);
    const len = body.readUInt8(i + 1);
    const value = body.subarray(i + 2, i + 2 + len);
    i += 2 + len;
    if (type !== 2) continue; // only capabilities mean anything today (RFC 5492); others are deprecated
    for (let j = 0; j + 2 <= value.length; ) {
      const code = value.readUInt8(j);
      const clen = value.readUInt8(j + 1);
      const cval = value.subarray(j + 2, j + 2 + clen);
      j += 2 + clen;
      if (code === CAP_MULTIPROTOCOL && cval.length >= 4) families.push(`${cval.readUInt16BE(0)}/${cval.readUInt8(3)}`);
      if (code === CAP_FOUR_OCTET_AS && cval.length >= 4) {
        fourOctetAs = true;
        asn = cval.readUInt32BE(0);
      }
    }
  }
  return { version, asn, holdTime, routerId, fourOctetAs, families };
}

/**
 * Splits a byte stream into messages. Returns the messages complete in `buf` and the
 * bytes left over (the start of the next one).
 */
export function decodeMessages(buf: Buffer): { messages: Message[]; rest: Buffer } {
  const messages: Message[] = [];
  let off = 0;
  while (buf.length - off >= HEADER_LEN) {
    for (let i = 0; i < 16; i++) if (buf[off + i] !== 0xff) throw new BgpProtocolError(1, 1, 'message header marker is not all ones');
    const len = buf.readUInt16BE(off + 16);
    if (len < HEADER_LEN || len > MAX_MESSAGE_LEN) throw new BgpProtocolError(1, 2, `message length ${len} is out of range`, buf.subarray(off + 16, off + 18));
    if (buf.length - off < len) break;
    const type = buf.readUInt8(off + 18);
    const body = Buffer.from(buf.subarray(off + HEADER_LEN, off + len));
    off += len;
    switch (type) {
      case MessageType.OPEN:
        messages.push({ type, open: decodeOpen(body) });
        break;
      case MessageType.KEEPALIVE:
        if (body.length !== 0) throw new BgpProtocolError(1, 2, `KEEPALIVE with ${body.length} bytes of body`);
        messages.push({ type });
        break;
      case MessageType.NOTIFICATION:
        messages.push({ type, notification: { code: body.readUInt8(0), subcode: body.length > 1 ? body.readUInt8(1) : 0, data: body.subarray(2) } });
        break;
      case MessageType.UPDATE:
      case MessageType.ROUTE_REFRESH:
        messages.push({ type, body });
        break;
      default:
        throw new BgpProtocolError(1, 3, `unknown message type ${type}`, Buffer.from([type]));
    }
  }
  return { messages, rest: Buffer.from(buf.subarray(off)) };
}
