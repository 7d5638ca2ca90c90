// A throwaway routed network for the BGP tests: a router namespace that holds the nodes'
// LAN (a bridge, 10.124.0.254/24, fd00:124::fe/64) and a second link to a client
// namespace (10.125.0.0/24, fd00:125::/64), one namespace per node on the LAN. The
// client reaches a Service address only through routes the router learned by BGP.
// Every address lives inside these namespaces; destroy() removes them all.
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { deleteNamespaces, ip, leftover } from '../wire/netns.js';

export interface FabricNode {
  readonly name: string;
  readonly ns: string;
  readonly ip4: string;
  readonly ip6: string;
  /** The node's end of the LAN, as the router's bridge sees it: down is "the node lost its link". */
  readonly port: string;
}

export const ROUTER_IP4 = '10.124.0.254';
export const ROUTER_IP6 = 'fd00:124::fe';
export const CLIENT_IP4 = '10.125.0.2';

export class Fabric {
  readonly prefix = `lbc-b-${randomBytes(3).toString('hex')}`;
  readonly routerNs = `${this.prefix}-rt`;
  readonly clientNs = `${this.prefix}-cl`;
  readonly nodes = new Map<string, FabricNode>();
  private readonly created: string[] = [];
  private readonly onExit = (): void => void this.destroy();

  build(nodes: readonly string[]): void {
    process.once('exit', this.onExit);
    this.addNs(this.routerNs);
    const r = (...a: string[]): string => ip('-n', this.routerNs, ...a);
    r('link', 'set', 'lo', 'up');
    r('link', 'add', 'br0', 'type', 'bridge');
    r('addr', 'add', `${ROUTER_IP4}/24`, 'dev', 'br0');
    r('-6', 'addr', 'add', `${ROUTER_IP6}/64`, 'dev', 'br0', 'nodad');
    r('link', 'set', 'br0', 'up');
    this.exec(this.routerNs, 'sysctl', '-q', '-w', 'net.ipv4.ip_forward=1', 'net.ipv6.conf.all.forwarding=1', 'net.ipv4.fib_multipath_hash_policy=1');

    this.addNs(this.clientNs);
    ip('link', 'add', 'eth0', 'netns', this.clientNs, 'type', 'veth', 'peer', 'name', 'to-client', 'netns', this.routerNs);
    r('addr', 'add', '10.125.0.1/24', 'dev', 'to-client');
    r('-6', 'addr', 'add', 'fd00:125::1/64', 'dev', 'to-client', 'nodad');
    r('link', 'set', 'to-client', 'up');
    const c = (...a: string[]): string => ip('-n', this.clientNs, ...a);
    c('link', 'set', 'lo', 'up');
    c('addr', 'add', `${CLIENT_IP4}/24`, 'dev', 'eth0');
    c('-6', 'addr', 'add', 'fd00:125::2/64', 'dev', 'eth0', 'nodad');
    c('link', 'set', 'eth0', 'up');
    c('route', 'add', 'default', 'via', '10.125.0.1');
    c('-6', 'route', 'add', 'default', 'via', 'fd00:125::1');

    nodes.forEach((name, i) => {
      const ns = `${this.prefix}-${name}`;
      this.addNs(ns);
      const port = `n-${name}`.slice(0, 15);
      ip('link', 'add', 'eth0', 'netns', ns, 'type', 'veth', 'peer', 'name', port, 'netns', this.routerNs);
      r('link', 'set', port, 'master', 'br0');
      r('link', 'set', port, 'up');
      const n = (...a: string[]): string => ip('-n', ns, ...a);
      const ip4 = `10.124.0.${i + 1}`;
      const ip6 = `fd00:124::${(i + 1).toString(16)}`;
      n('link', 'set', 'lo', 'up');
      n('addr', 'add', `${ip4}/24`, 'dev', 'eth0');
      n('-6', 'addr', 'add', `${ip6}/64`, 'dev', 'eth0', 'nodad');
      n('link', 'set', 'eth0', 'up');
      // Replies to the client go back through the router, as on a routed fabric.
      n('route', 'add', 'default', 'via', ROUTER_IP4);
      n('-6', 'route', 'add', 'default', 'via', ROUTER_IP6);
      this.nodes.set(name, { name, ns, ip4, ip6, port });
    });
  }

  node(name: string): FabricNode {
    const n = this.nodes.get(name);
    if (!n) throw new Error(`no node ${name}`);
    return n;
  }

  /** kube-proxy's part on a node: traffic to `vips` is delivered to local sockets. */
  deliverLocally(name: string, vips: readonly string[]): void {
    const n = this.node(name);
    for (const vip of vips) ip('-n', n.ns, ...(vip.includes(':') ? ['-6'] : []), 'route', 'add', 'local', vip, 'dev', 'lo', 'table', 'local');
  }

  /** The router's side of the node's link up or down (the node sees its carrier go). */
  link(name: string, up: boolean): void {
    ip('-n', this.routerNs, 'link', 'set', this.node(name).port, up ? 'up' : 'down');
  }

  exec(ns: string, ...cmd: string[]): string {
    return execFileSync('ip', ['netns', 'exec', ns, ...cmd], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  }

  /** The router's kernel route for `prefix`: its next hops (node addresses), empty when there is none. */
  kernelNextHops(prefix: string): string[] {
    const out = ip('-n', this.routerNs, ...(prefix.includes(':') ? ['-6'] : []), 'route', 'show', prefix);
    return [...out.matchAll(/via (?:inet6 )?([0-9a-f.:]+)/g)].map((m) => m[1] ?? '').sort();
  }

  /** An HTTP GET from the client namespace (curl): the body, or undefined when it fails. */
  curl(url: string, timeoutS = 2): string | undefined {
    const r = spawnSync('ip', ['netns', 'exec', this.clientNs, 'curl', '-s', '-g', '--max-time', String(timeoutS), url], { encoding: 'utf8' });
    return r.status === 0 ? r.stdout : undefined;
  }

  destroy(): string[] {
    process.off('exit', this.onExit);
    const errors = deleteNamespaces(this.created.splice(0).reverse());
    return [...errors, ...leftover(this.prefix).map((ns) => `${ns} is still there`)];
  }

  private addNs(ns: string): void {
    ip('netns', 'add', ns);
    this.created.push(ns);
  }
}
