// An L4 TCP listener: accepts on the LB address, picks a target per connection and
// splices the two sockets. Half-closes pass through (allowHalfOpen on both sides), so
// protocols that shut down their sending side first keep working.
import { connect, createServer, type Server, type Socket } from 'node:net';
import { listenTcp } from './bind.js';
import { ConnectionTracker } from './connections.js';
import type { TargetSetRuntime } from './target-set.js';

/** What a listener asks of its load balancer on each new connection; answers reflect the latest ensure. */
export interface L4Route {
  allow(clientIp: string): boolean;
  targetSet(): TargetSetRuntime | undefined;
}

/** At most this many targets are tried for one connection when they refuse or time out. */
const MAX_ATTEMPTS = 3;

export function clientAddress(socket: { remoteAddress?: string | undefined }): string | undefined {
  const a = socket.remoteAddress;
  return a?.startsWith('::ffff:') && a.includes('.') ? a.slice(7) : a;
}

/** A listening TCP socket whose connections go to targets: binding, the bound port, draining, shutdown. */
export abstract class StreamListener {
  readonly server: Server;
  protected readonly conns = new ConnectionTracker();

  constructor(
    readonly host: string,
    readonly port: number,
    private readonly protocol: string,
    pauseOnConnect: boolean,
    private readonly allow: (clientIp: string) => boolean,
  ) {
    this.server = createServer({ allowHalfOpen: true, pauseOnConnect, noDelay: true }, (c) => this.accept(c));
    this.server.on('error', () => {
      // After listen, errors belong to single connections, which handle their own.
    });
  }

  /** Takes a connection from an allowed client (sourceRanges); others are reset. */
  protected abstract serve(client: Socket, ip: string): void;

  private accept(client: Socket): void {
    this.conns.add(client);
    client.on('error', () => client.destroy());
    const ip = clientAddress(client);
    if (ip === undefined || !this.allow(ip)) {
      client.resetAndDestroy();
      return;
    }
    this.serve(client, ip);
  }

  async listen(): Promise<void> {
    await listenTcp(this.server, this.host, this.port, this.protocol);
  }

  get boundPort(): number {
    const a = this.server.address();
    return a !== null && typeof a === 'object' ? a.port : this.port;
  }

  get connections(): number {
    return this.conns.size;
  }

  /** Stops accepting at once; open connections get graceMs to finish. */
  async close(graceMs: number): Promise<void> {
    this.server.close();
    await this.conns.drain(graceMs);
  }

  /** Cuts every connection now, ending a drain early (shutdown). */
  abort(): void {
    this.server.close();
    this.conns.destroyAll();
  }
}

export class TcpProxyListener extends StreamListener {
  constructor(
    host: string,
    port: number,
    private readonly route: L4Route,
    private readonly opts: { readonly connectTimeoutMs: number },
  ) {
    super(host, port, 'TCP', true, (ip) => route.allow(ip));
  }

  protected serve(client: Socket, ip: string): void {
    const ts = this.route.targetSet();
    if (!ts) {
      client.resetAndDestroy();
      return;
    }
    dialTarget(client, ip, ts, this.conns, this.opts.connectTimeoutMs);
  }
}

/**
 * Connects client to a target of ts, trying up to MAX_ATTEMPTS targets that refuse or
 * time out, and splices them; `head` (bytes already read from the client, such as a
 * TLS ClientHello peeked for its SNI) goes to the target first. No target: the client is reset.
 */
export function dialTarget(client: Socket, ip: string, ts: TargetSetRuntime, conns: ConnectionTracker, connectTimeoutMs: number, head?: Buffer, tried = new Set<string>()): void {
  const target = tried.size < MAX_ATTEMPTS ? ts.choose(ip, tried) : undefined;
  if (!target || client.destroyed) {
    if (!client.destroyed) client.resetAndDestroy();
    return;
  }
  const upstream = connect({ host: target.host, port: target.port, allowHalfOpen: true, noDelay: true });
  conns.add(upstream);
  let connected = false;
  const timer = setTimeout(() => upstream.destroy(new Error('connect timeout')), connectTimeoutMs);
  timer.unref();
  const abandon = (): void => {
    if (!connected) upstream.destroy();
  };
  client.once('close', abandon);
  upstream.once('error', () => {
    clearTimeout(timer);
    if (connected) return;
    client.off('close', abandon);
    tried.add(target.key);
    dialTarget(client, ip, ts, conns, connectTimeoutMs, head, tried);
  });
  upstream.once('connect', () => {
    clearTimeout(timer);
    connected = true;
    client.off('close', abandon);
    upstream.once('close', ts.connected(ip, target));
    if (head && head.length > 0) upstream.write(head);
    splice(client, upstream);
  });
}

/**
 * Pipes both ways. An error, or a close before this side ended its sending half, cuts the
 * other side too; an orderly close leaves the other side to flush and close by itself.
 */
export function splice(a: Socket, b: Socket): void {
  const link = (from: Socket, to: Socket): void => {
    from.on('error', () => to.destroy());
    from.once('close', (hadError) => {
      if (hadError || !to.writableEnded) to.destroy();
    });
    from.pipe(to);
  };
  link(a, b);
  link(b, a);
  a.resume();
}
