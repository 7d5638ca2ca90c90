// The heartbeat transport: UDP datagrams between speakers, optionally HMAC-signed with
// a shared key. A heartbeat is accepted only from an address of the node it names
// (taken from the Node objects), so without a key a host outside the cluster's node
// addresses cannot fake a live speaker; with a key, nobody without it can.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import type { Logger } from '../../../kube/logger.js';
import type { Heartbeat } from './membership.js';

const VERSION = 1;
const MAC_LEN = 32;

export function encodeHeartbeat(hb: Heartbeat, key?: Buffer): Buffer {
  // The acknowledgement is optional within version 1: a speaker of an older release ignores it, and sends none.
  const body = Buffer.from(JSON.stringify({ v: VERSION, n: hb.node, i: hb.incarnation, s: hb.seq, r: hb.ready, l: hb.leaving, ...(hb.ack ? { a: [hb.ack.incarnation, hb.ack.seq] } : {}) }));
  if (!key) return body;
  return Buffer.concat([createHmac('sha256', key).update(body).digest(), body]);
}

export function decodeHeartbeat(msg: Buffer, key?: Buffer): Heartbeat | undefined {
  let body = msg;
  if (key) {
    if (msg.length <= MAC_LEN) return undefined;
    body = msg.subarray(MAC_LEN);
    const want = createHmac('sha256', key).update(body).digest();
    if (!timingSafeEqual(want, msg.subarray(0, MAC_LEN))) return undefined;
  }
  let v: unknown;
  try {
    v = JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
  const o = v as { v?: unknown; n?: unknown; i?: unknown; s?: unknown; r?: unknown; l?: unknown; a?: unknown };
  if (o.v !== VERSION || typeof o.n !== 'string' || typeof o.i !== 'string' || typeof o.s !== 'number' || typeof o.r !== 'boolean' || typeof o.l !== 'boolean') {
    return undefined;
  }
  let ack: Heartbeat['ack'];
  if (o.a !== undefined) {
    const [ai, as] = Array.isArray(o.a) ? (o.a as unknown[]) : [];
    if (typeof ai !== 'string' || typeof as !== 'number') return undefined;
    ack = { incarnation: ai, seq: as };
  }
  return { node: o.n, incarnation: o.i, seq: o.s, ready: o.r, leaving: o.l, ...(ack ? { ack } : {}) };
}

export interface GossipOptions {
  readonly port: number;
  readonly key?: Buffer;
  /** Whether `address` belongs to `node` (from the Node objects). */
  readonly addressOf: (node: string, address: string) => boolean;
  readonly onHeartbeat: (hb: Heartbeat) => void;
  readonly log: Pick<Logger, 'warn'>;
  /** Address to bind; all by default. Tests bind to one. */
  readonly bind?: { v4?: string; v6?: string };
}

/** Two sockets, one per family: IPv6 may be disabled on the host, IPv4 never is. */
export class Gossip {
  private v4: Socket | undefined;
  private v6: Socket | undefined;
  private rejected = 0;

  constructor(private readonly opts: GossipOptions) {}

  async start(): Promise<void> {
    this.v4 = await this.open('udp4', this.opts.bind?.v4 ?? '0.0.0.0');
    try {
      this.v6 = await this.open('udp6', this.opts.bind?.v6 ?? '::');
    } catch (e) {
      this.opts.log.warn(`gossip: no IPv6 socket (${(e as Error).message}); heartbeats to IPv6 node addresses will not be sent`);
    }
  }

  /** One datagram per recipient, each with its own acknowledgement (membership.ts says why). */
  send(hb: Omit<Heartbeat, 'ack'>, to: readonly { readonly address: string; readonly ack?: Heartbeat['ack'] }[]): void {
    for (const { address, ack } of to) {
      const sock = isIPv6(address) ? this.v6 : this.v4;
      // Errors (no route, ICMP unreachable from a node without a speaker) are expected and not worth a log line per datagram.
      sock?.send(encodeHeartbeat(ack ? { ...hb, ack } : hb, this.opts.key), this.opts.port, address, () => {});
    }
  }

  get rejectedCount(): number {
    return this.rejected;
  }

  close(): void {
    this.v4?.close();
    this.v6?.close();
    this.v4 = undefined;
    this.v6 = undefined;
  }

  private open(type: 'udp4' | 'udp6', address: string): Promise<Socket> {
    return new Promise((resolve, reject) => {
      const sock = createSocket({ type, reuseAddr: true, ...(type === 'udp6' ? { ipv6Only: true } : {}) });
      sock.once('error', reject);
      sock.on('message', (msg, rinfo) => {
        const hb = decodeHeartbeat(msg, this.opts.key);
        const from = rinfo.address.replace(/^::ffff:/, '');
        if (!hb || !this.opts.addressOf(hb.node, from)) {
          if (this.rejected++ % 1000 === 0) this.opts.log.warn(`gossip: ignored a datagram from ${from} (unsigned, malformed, or not from the node it names)`);
          return;
        }
        this.opts.onHeartbeat(hb);
      });
      sock.bind(this.opts.port, address, () => {
        sock.off('error', reject);
        sock.on('error', (e) => this.opts.log.warn(`gossip socket ${type}: ${e.message}`));
        resolve(sock);
      });
    });
  }
}
