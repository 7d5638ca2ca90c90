// The whole wire setup shared by the wire test and the failover benchmark: namespaces
// and bridge, devcluster reachable from inside them, Nodes, the lbc config, an HTTP
// server and a speaker per node, and the client.
import { execFileSync } from 'node:child_process';
import { ClientControl, startChild } from './children.js';
import { leftover, Wire } from './netns.js';
import { CHILD_START_MS, SpeakerBed } from './speaker-bed.js';

export const POOL_V4 = ['10.123.0.100', '10.123.0.120'] as const;
export const POOL_V6 = ['fd00:123::100', 'fd00:123::120'] as const;

export interface WireClusterOptions {
  readonly nodes: readonly string[];
  /** Addresses each node's kube-proxy stand-in delivers locally. */
  readonly vips: readonly string[];
  readonly heartbeatInterval?: string;
  readonly deadAfter?: string;
}

interface Replies {
  replies: { mac: string; afterMs: number }[];
}

export class WireCluster extends SpeakerBed {
  readonly wire = new Wire();
  client!: ClientControl;

  constructor(readonly opts: WireClusterOptions) {
    super(opts.nodes);
  }

  protected nsOf(node: string): string {
    return this.wire.member(node).ns;
  }

  protected ip4Of(node: string): string {
    return this.wire.member(node).ip4;
  }

  async start(): Promise<void> {
    await this.prepare('lbc-wire-');
    const hosts: Record<string, number> = { client: 10 };
    this.opts.nodes.forEach((n, i) => (hosts[n] = i + 1));
    this.wire.build(hosts);
    for (const n of this.opts.nodes) this.wire.deliverLocally(n, this.opts.vips);
    await this.startCluster('lbc-system', [
      'clusterName: wire',
      'providers:',
      '  - name: metal',
      '    type: metal',
      '    options:',
      '      pools:',
      `        - { name: wire, addresses: ["${POOL_V4.join('-')}", "${POOL_V6.join('-')}"] }`,
      `      speaker: { heartbeatInterval: ${this.opts.heartbeatInterval ?? '200ms'}, deadAfter: ${this.opts.deadAfter ?? '700ms'}, gratuitousFor: 5s }`,
    ]);
    const started = this.startHttpServers();
    const client = this.wire.member('client');
    const c = startChild('client', client.ns, './client-child.ts', ['eth0', client.ip4, client.ip6]);
    this.children.push(c);
    this.client = new ClientControl(c);
    started.push(c.waitFor(/"ev":"ready"/, CHILD_START_MS));
    await Promise.all(started);
  }

  macOf(node: string): string {
    return this.wire.member(node).mac;
  }

  nodeOfMac(mac: string): string {
    return this.opts.nodes.find((n) => this.macOf(n) === mac) ?? `unknown ${mac}`;
  }

  /** The nodes that answered a who-has for `ip` within waitMs. */
  async arp(ip: string, waitMs = 300): Promise<string[]> {
    return (await this.client.call<Replies>({ op: 'arp', ip, waitMs })).replies.map((r) => this.nodeOfMac(r.mac));
  }

  /** Starts an arping on the client: a who-has for `ip` every intervalMs until arpWatchStop. */
  async arpWatchStart(ip: string, intervalMs = 10): Promise<void> {
    await this.client.call({ op: 'arp-watch-start', ip, intervalMs });
  }

  /** Every request since arpWatchStart, with the nodes that answered it and how many replies arrived before the next (client-child.ts). */
  async arpWatchStop(): Promise<{ t: number; nodes: string[]; replies: number }[]> {
    const { rounds } = await this.client.call<{ rounds: { t: number; macs: string[]; replies: number }[] }>({ op: 'arp-watch-stop' });
    return rounds.map((r) => ({ t: r.t, nodes: r.macs.map((m) => this.nodeOfMac(m)), replies: r.replies }));
  }

  /**
   * Drops the speakers' heartbeats (UDP `port`) to and from `node`, in its namespace, with
   * nftables: its link, and its path to the API server (a Unix socket), stay up.
   */
  blockGossip(node: string, port = 7947, direction: 'both' | 'in' | 'out' = 'both'): void {
    const ns = this.wire.member(node).ns;
    const hooks = direction === 'both' ? ['input', 'output'] : direction === 'in' ? ['input'] : ['output'];
    const rules = [
      'table inet lbc_gossip_block {',
      ...hooks.flatMap((hook) => [`  chain ${hook} {`, `    type filter hook ${hook} priority 0; policy accept;`, `    udp dport ${port} drop`, '  }']),
      '}',
    ].join('\n');
    execFileSync('ip', ['netns', 'exec', ns, 'nft', '-f', '-'], { input: rules, stdio: ['pipe', 'pipe', 'pipe'] });
  }

  /** Pulls (or plugs back) `node`'s cable: its port on the bridge goes down, its eth0 loses the carrier. */
  cable(node: string, state: 'up' | 'down'): void {
    execFileSync('ip', ['-n', this.wire.bridgeNs, 'link', 'set', `p-${node}`.slice(0, 15), state], { stdio: ['ignore', 'pipe', 'pipe'] });
  }

  unblockGossip(node: string): void {
    execFileSync('ip', ['netns', 'exec', this.wire.member(node).ns, 'nft', 'delete', 'table', 'inet', 'lbc_gossip_block'], { stdio: ['ignore', 'pipe', 'pipe'] });
  }

  async ndp(ip: string, waitMs = 300): Promise<string[]> {
    return (await this.client.call<Replies>({ op: 'ns', ip, waitMs })).replies.map((r) => this.nodeOfMac(r.mac));
  }

  /**
   * Runs an HTTP loop through `vip` (a request every 10 ms, 100 ms timeout), calls
   * `stop`, and returns the ms from `stop` until a request sent after it is answered by `to`.
   */
  async handover(vip: string, stop: () => void, to: string): Promise<number> {
    await this.client.call({ op: 'loop-start', url: `http://${vip.includes(':') ? `[${vip}]` : vip}/`, intervalMs: 10, timeoutMs: 100 });
    await until('the loop to answer', async () => (this.client.events.some((e) => e.ev === 'http') ? true : undefined), 3_000, 20);
    const t0 = Date.now();
    stop();
    try {
      const reached = await until(
        `HTTP to reach ${to}`,
        async () => this.client.events.find((e) => e.ev === 'http' && e.body === to && typeof e.sent === 'number' && e.sent >= t0) as { t: number } | undefined,
        10_000,
        10,
      );
      return reached.t - t0;
    } finally {
      await this.client.call({ op: 'loop-stop' });
      this.client.events.length = 0;
    }
  }

  dump(lines = 40): string {
    return this.children.map((c) => `---- ${c.name}\n${c.lines.slice(-lines).map((l) => `${new Date(l.t).toISOString().slice(11, 23)} ${l.line}`).join('\n')}`).join('\n');
  }

  /** Stops everything and removes the namespaces; returns what could not be removed. */
  async stop(): Promise<string[]> {
    await this.stopCluster();
    const errors = this.wire.destroy();
    this.removeScratch();
    return [...errors, ...leftover(this.wire.prefix).map((ns) => `${ns} is still there`)];
  }
}

export async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs: number, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
