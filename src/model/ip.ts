// Strict IP and CIDR parsing. Strict means: dotted quads without leading zeros, IPv6
// per RFC 4291 text forms (no zone index), prefix lengths in range and written
// without leading zeros or signs. Host bits in a CIDR are masked off, as Go's
// ParseCIDR (and so the upstream service controller) does, and the result is printed
// in canonical form (RFC 5952 for IPv6) so equal ranges compare equal as strings.

export type IpFamilyNumber = 4 | 6;

export interface ParsedIp {
  readonly family: IpFamilyNumber;
  readonly bytes: readonly number[];
}

export type CidrResult =
  | { readonly ok: true; readonly cidr: string; readonly family: IpFamilyNumber; readonly prefix: number }
  | { readonly ok: false; readonly reason: string };

const DEC_OCTET = /^(0|[1-9][0-9]{0,2})$/;
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;

function parseIPv4(s: string): number[] | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  const out: number[] = [];
  for (const p of parts) {
    if (!DEC_OCTET.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    out.push(n);
  }
  return out;
}

function parseGroups(s: string): number[] | undefined {
  if (s === '') return [];
  const out: number[] = [];
  const parts = s.split(':');
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i] ?? '';
    if (i === parts.length - 1 && p.includes('.')) {
      const v4 = parseIPv4(p);
      if (!v4) return undefined;
      out.push(((v4[0] ?? 0) << 8) | (v4[1] ?? 0), ((v4[2] ?? 0) << 8) | (v4[3] ?? 0));
    } else {
      if (!HEX_GROUP.test(p)) return undefined;
      out.push(parseInt(p, 16));
    }
  }
  return out;
}

function parseIPv6(s: string): number[] | undefined {
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  let groups: number[];
  if (halves.length === 2) {
    const head = parseGroups(halves[0] ?? '');
    const tail = parseGroups(halves[1] ?? '');
    if (!head || !tail) return undefined;
    // '::' stands for at least one zero group.
    const missing = 8 - head.length - tail.length;
    if (missing < 1) return undefined;
    groups = [...head, ...new Array<number>(missing).fill(0), ...tail];
  } else {
    const all = parseGroups(s);
    if (!all || all.length !== 8) return undefined;
    groups = all;
  }
  return groups.flatMap((g) => [g >> 8, g & 0xff]);
}

export function parseIp(text: string): ParsedIp | undefined {
  if (text.includes(':')) {
    const bytes = parseIPv6(text);
    return bytes ? { family: 6, bytes } : undefined;
  }
  const bytes = parseIPv4(text);
  return bytes ? { family: 4, bytes } : undefined;
}

export function formatIp(ip: ParsedIp): string {
  if (ip.family === 4) return ip.bytes.join('.');
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((ip.bytes[i] ?? 0) << 8) | (ip.bytes[i + 1] ?? 0));
  // RFC 5952: compress the longest run of two or more zero groups, the first on ties.
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/** The canonical text of an address, or undefined when it is not one. */
export function normalizeIp(text: string): string | undefined {
  const ip = parseIp(text);
  return ip ? formatIp(ip) : undefined;
}

export function parseCidr(text: string): CidrResult {
  const slash = text.indexOf('/');
  if (slash < 0) return { ok: false, reason: `"${text}" is not a CIDR (missing /prefix)` };
  const addrText = text.slice(0, slash);
  const prefixText = text.slice(slash + 1);
  const ip = parseIp(addrText);
  if (!ip) return { ok: false, reason: `"${text}" is not a CIDR ("${addrText}" is not an IP address)` };
  const max = ip.family === 4 ? 32 : 128;
  if (!/^(0|[1-9][0-9]{0,2})$/.test(prefixText) || Number(prefixText) > max) {
    return { ok: false, reason: `"${text}" is not a CIDR (prefix length must be 0-${max})` };
  }
  const prefix = Number(prefixText);
  const bytes = ip.bytes.map((b, i) => {
    const bitsHere = Math.max(0, Math.min(8, prefix - i * 8));
    return b & ((0xff << (8 - bitsHere)) & 0xff);
  });
  return { ok: true, cidr: `${formatIp({ family: ip.family, bytes })}/${prefix}`, family: ip.family, prefix };
}

/** Whether an address lies inside a CIDR (different families never match). */
export function cidrContains(cidr: string, address: string): boolean {
  const c = parseCidr(cidr);
  const ip = parseIp(address);
  if (!c.ok || !ip || ip.family !== c.family) return false;
  const net = parseIp(c.cidr.slice(0, c.cidr.indexOf('/')));
  if (!net) return false;
  for (let i = 0; i < ip.bytes.length; i++) {
    const bitsHere = Math.max(0, Math.min(8, c.prefix - i * 8));
    const mask = (0xff << (8 - bitsHere)) & 0xff;
    if (((ip.bytes[i] ?? 0) & mask) !== (net.bytes[i] ?? 0)) return false;
  }
  return true;
}
