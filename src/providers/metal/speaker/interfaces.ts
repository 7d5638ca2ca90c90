// Which host interface an address is announced on: the configured ones, else the one
// whose network holds the address (a neighbour only ARPs for an address on its own
// link, so announcing elsewhere is noise). Pure apart from hostInterfaces().
import { readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { cidrContains } from '../../../model/ip.js';

export interface HostInterface {
  readonly name: string;
  readonly ifindex: number;
  readonly mac: string;
  /** CIDRs of the interface's addresses, e.g. `10.0.0.5/24`. */
  readonly cidrs: readonly string[];
  /** The interface's IPv6 link-local address, the source of Neighbor Advertisements. */
  readonly linkLocal?: string;
}

/** The host's Ethernet-like interfaces (not loopback, with a MAC), read from os and /sys. */
export function hostInterfaces(): HostInterface[] {
  const out: HostInterface[] = [];
  for (const [name, addrs] of Object.entries(networkInterfaces())) {
    const list = addrs ?? [];
    if (list.length === 0 || list.some((a) => a.internal)) continue;
    const mac = list[0]?.mac ?? '00:00:00:00:00:00';
    if (mac === '00:00:00:00:00:00') continue;
    let ifindex: number;
    try {
      ifindex = Number(readFileSync(`/sys/class/net/${name}/ifindex`, 'utf8').trim());
    } catch {
      continue;
    }
    const linkLocal = list.find((a) => a.family === 'IPv6' && a.address.toLowerCase().startsWith('fe80:'))?.address;
    out.push({
      name,
      ifindex,
      mac,
      cidrs: list.flatMap((a) => (a.cidr ? [a.cidr] : [])),
      ...(linkLocal ? { linkLocal: linkLocal.split('%')[0] as string } : {}),
    });
  }
  return out.sort((a, b) => a.ifindex - b.ifindex);
}

/** Interfaces to announce `ip` on: `configured` that exist, else those with a network holding it. */
export function interfacesFor(ip: string, configured: readonly string[], host: readonly HostInterface[]): string[] {
  if (configured.length > 0) return host.filter((h) => configured.includes(h.name)).map((h) => h.name);
  // Skip link-local networks: every IPv6 interface has fe80::/64, which would match nothing useful.
  return host.filter((h) => h.cidrs.some((c) => !c.toLowerCase().startsWith('fe80:') && cidrContains(c, ip))).map((h) => h.name);
}

/**
 * Whether this node is on its network: the interface holding one of its own addresses
 * (the Node's InternalIPs, which the heartbeats use) is up with a carrier (os lists only
 * running interfaces). A speaker off its network cannot answer and must say so, or its
 * Lease would keep it alive (membership.ts) while its addresses go unanswered. An
 * address never seen on this host (a test's Node, an address behind NAT) says nothing:
 * only losing one that was seen counts.
 */
export class OwnLink {
  private seen = false;

  constructor(
    private readonly addresses: () => readonly string[],
    private readonly host: () => readonly HostInterface[] = hostInterfaces,
  ) {}

  up(): boolean {
    const own = this.addresses();
    if (own.length === 0) return true;
    const on = this.host().some((h) => h.cidrs.some((c) => own.includes(c.slice(0, c.lastIndexOf('/')))));
    if (on) this.seen = true;
    return on || !this.seen;
  }
}
