// A throwaway L2 network for the speaker tests: a bridge in a namespace of its own and
// one namespace per member (client, nodes), each joined to the bridge by a veth pair.
// Every address lives inside these namespaces (10.123.0.0/24, fd00:123::/64), nothing
// is added to the host's, and destroy() removes them all (and with them the veths).
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';

export function ip(...args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Why these tests cannot run here, or undefined when they can. */
export function netnsUnavailable(): string | undefined {
  if (process.platform !== 'linux') return `not Linux (${process.platform})`;
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return 'not root (network namespaces and packet sockets need CAP_SYS_ADMIN and CAP_NET_RAW)';
  const r = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) return `\`ip netns\` is not available (${r.error?.message ?? r.stderr.trim()})`;
  return undefined;
}

export interface Member {
  readonly name: string;
  readonly ns: string;
  readonly ifname: string;
  readonly ip4: string;
  readonly ip6: string;
  readonly mac: string;
}

export class Wire {
  readonly prefix = `lbc-t-${randomBytes(3).toString('hex')}`;
  readonly bridgeNs = `${this.prefix}-br`;
  readonly members = new Map<string, Member>();
  private readonly created: string[] = [];
  // If the test process dies without afterAll (a crash, a timeout kill), still remove what we made.
  private readonly onExit = (): void => void this.destroy();

  /** `hosts` maps member name → last octet / last group of its addresses. */
  build(hosts: Readonly<Record<string, number>>): void {
    process.once('exit', this.onExit);
    this.addNs(this.bridgeNs);
    ip('-n', this.bridgeNs, 'link', 'add', 'br0', 'type', 'bridge');
    // Flood multicast: without an MLD querier on this test wire snooping has nothing to learn from.
    ip('-n', this.bridgeNs, 'link', 'set', 'br0', 'type', 'bridge', 'mcast_snooping', '0');
    ip('-n', this.bridgeNs, 'link', 'set', 'br0', 'up');
    for (const [name, host] of Object.entries(hosts)) {
      const ns = `${this.prefix}-${name}`;
      this.addNs(ns);
      const port = `p-${name}`.slice(0, 15);
      ip('link', 'add', 'eth0', 'netns', ns, 'type', 'veth', 'peer', 'name', port, 'netns', this.bridgeNs);
      ip('-n', this.bridgeNs, 'link', 'set', port, 'master', 'br0');
      ip('-n', this.bridgeNs, 'link', 'set', port, 'up');
      const ip4 = `10.123.0.${host}`;
      const ip6 = `fd00:123::${host.toString(16)}`;
      ip('-n', ns, 'addr', 'add', `${ip4}/24`, 'dev', 'eth0');
      ip('-n', ns, '-6', 'addr', 'add', `${ip6}/64`, 'dev', 'eth0', 'nodad');
      ip('-n', ns, 'link', 'set', 'lo', 'up');
      ip('-n', ns, 'link', 'set', 'eth0', 'up');
      const mac = this.exec(ns, 'cat', '/sys/class/net/eth0/address').trim();
      this.members.set(name, { name, ns, ifname: 'eth0', ip4, ip6, mac });
    }
  }

  member(name: string): Member {
    const m = this.members.get(name);
    if (!m) throw new Error(`no member ${name}`);
    return m;
  }

  exec(ns: string, ...cmd: string[]): string {
    return execFileSync('ip', ['netns', 'exec', ns, ...cmd], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  }

  /**
   * Stands in for kube-proxy on a node: traffic to `vips` is delivered to local sockets,
   * without the kernel ever answering ARP/NDP for them (arp_ignore=1: only for addresses
   * on the asking interface; a local route is not one) and without it using them as
   * the source of its own ARP requests (arp_announce=2), as kube-proxy's IPVS mode
   * configures nodes.
   */
  deliverLocally(name: string, vips: readonly string[]): void {
    const m = this.member(name);
    this.exec(m.ns, 'sysctl', '-q', '-w', 'net.ipv4.conf.all.arp_ignore=1', 'net.ipv4.conf.all.arp_announce=2', 'net.ipv4.conf.eth0.arp_ignore=1', 'net.ipv4.conf.eth0.arp_announce=2');
    for (const vip of vips) ip('-n', m.ns, ...(vip.includes(':') ? ['-6'] : []), 'route', 'add', 'local', vip, 'dev', 'lo', 'table', 'local');
  }

  /** The client's neighbour entry for `addr`: its MAC, or undefined. */
  neighbour(name: string, addr: string): string | undefined {
    return /lladdr ([0-9a-f:]{17})/.exec(this.neighbourLine(name, addr))?.[1];
  }

  neighbourLine(name: string, addr: string): string {
    return ip('-n', this.member(name).ns, 'neigh', 'show', addr).trim();
  }

  destroy(): string[] {
    process.off('exit', this.onExit);
    return deleteNamespaces(this.created.splice(0).reverse());
  }

  private addNs(ns: string): void {
    ip('netns', 'add', ns);
    this.created.push(ns);
  }
}

/** Deletes network namespaces (and with them their veths); returns what could not be deleted. */
export function deleteNamespaces(names: readonly string[]): string[] {
  const errors: string[] = [];
  for (const ns of names) {
    const r = spawnSync('ip', ['netns', 'del', ns], { encoding: 'utf8' });
    if (r.status !== 0) errors.push(`${ns}: ${r.stderr.trim()}`);
  }
  return errors;
}

/** Namespaces of this wire still present (for the cleanup assertion). */
export function leftover(prefix: string): string[] {
  return ip('netns', 'list')
    .split('\n')
    .map((l) => l.split(' ')[0] ?? '')
    .filter((n) => n.startsWith(prefix));
}
