// Ethernet framing shared by the ARP and NDP responders: MAC addresses as text and
// bytes, and the 14-byte header. Pure.
import { formatIp, parseIp } from '../../../model/ip.js';

export const ETH_HEADER = 14;
export const ETHERTYPE_ARP = 0x0806;
export const ETHERTYPE_IPV6 = 0x86dd;
export const BROADCAST_MAC = Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);

/** AF_PACKET's sll_pkttype: frames the host itself sent come back as OUTGOING. */
export const PACKET_OUTGOING = 4;

const MAC_TEXT = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i;

export function parseMac(text: string): Buffer {
  if (!MAC_TEXT.test(text)) throw new Error(`${JSON.stringify(text)} is not a MAC address (aa:bb:cc:dd:ee:ff)`);
  return Buffer.from(text.split(':').map((h) => parseInt(h, 16)));
}

export function formatMac(mac: Uint8Array): string {
  return [...mac.subarray(0, 6)].map((b) => b.toString(16).padStart(2, '0')).join(':');
}

export function ipBytes(ip: string, family: 4 | 6): Buffer {
  const p = parseIp(ip);
  if (!p || p.family !== family) throw new Error(`${JSON.stringify(ip)} is not an IPv${family} address`);
  return Buffer.from(p.bytes);
}

export function ipText(bytes: Uint8Array): string {
  return formatIp({ family: bytes.length === 4 ? 4 : 6, bytes: [...bytes] });
}

export function ethernetHeader(dst: Uint8Array, src: Uint8Array, ethertype: number): Buffer {
  const h = Buffer.alloc(ETH_HEADER);
  h.set(dst.subarray(0, 6), 0);
  h.set(src.subarray(0, 6), 6);
  h.writeUInt16BE(ethertype, 12);
  return h;
}
