// An L4 UDP listener. Each client address (ip:port) gets a session: its own upstream
// socket to one target, chosen on the first datagram, so the target's replies can be told
// apart and sent back to the client from the listener socket (the address the client
// sent to, as it expects). A session ends after udpIdleTimeoutMs without traffic either
// way. Datagrams from outside sourceRanges are dropped without a word, as a firewall does.
// UDP has no connections to drain: closing the listener ends its sessions.
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import type { Target } from './balancer.js';
import { bindUdp } from './bind.js';
import type { L4Route } from './tcp-proxy.js';

interface Session {
  readonly upstream: Socket;
  readonly target: Target;
  readonly timer: NodeJS.Timeout;
  readonly release: () => void;
  readonly touch: () => void;
}

export class UdpProxyListener {
  readonly socket: Socket;
  private readonly sessions = new Map<string, Session>();
  private closed = false;

  constructor(
    readonly host: string,
    readonly port: number,
    private readonly route: L4Route,
    private readonly opts: { readonly idleTimeoutMs: number },
  ) {
    this.socket = createSocket({ type: 'udp4' });
    this.socket.on('message', (msg, rinfo) => this.receive(msg, rinfo));
    this.socket.on('error', () => {
      // A send to a vanished client can fail; the session's timer cleans up.
    });
  }

  async listen(): Promise<void> {
    await bindUdp(this.socket, this.host, this.port);
  }

  get boundPort(): number {
    try {
      return this.socket.address().port;
    } catch {
      return this.port;
    }
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  /** UDP has nothing to drain (replies need the listener socket): sessions end with it. */
  async close(_graceMs = 0): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const key of [...this.sessions.keys()]) this.end(key);
    await new Promise<void>((resolve) => {
      try {
        this.socket.close(() => resolve());
      } catch {
        resolve();
      }
    });
  }

  abort(): void {
    void this.close();
  }

  private receive(msg: Buffer, rinfo: RemoteInfo): void {
    if (this.closed || !this.route.allow(rinfo.address)) return;
    const key = `${rinfo.address}|${rinfo.port}`;
    let s = this.sessions.get(key);
    if (!s) {
      const ts = this.route.targetSet();
      const target = ts?.choose(rinfo.address);
      if (!ts || !target) return;
      s = this.open(key, rinfo, target, ts.connected(rinfo.address, target), () => ts.touch(rinfo.address, target));
    }
    s.timer.refresh();
    s.touch();
    s.upstream.send(msg, s.target.port, s.target.host);
  }

  private open(key: string, client: RemoteInfo, target: Target, release: () => void, touch: () => void): Session {
    const upstream = createSocket({ type: target.host.includes(':') ? 'udp6' : 'udp4' });
    const timer = setTimeout(() => this.end(key), this.opts.idleTimeoutMs);
    timer.unref();
    const session: Session = { upstream, target, timer, release, touch };
    upstream.on('message', (reply, from) => {
      if (from.port !== target.port || from.address !== target.host) return;
      timer.refresh();
      touch();
      this.socket.send(reply, client.port, client.address);
    });
    upstream.on('error', () => this.end(key));
    this.sessions.set(key, session);
    return session;
  }

  private end(key: string): void {
    const s = this.sessions.get(key);
    if (!s) return;
    this.sessions.delete(key);
    clearTimeout(s.timer);
    s.release();
    try {
      s.upstream.close();
    } catch {
      // already closed after an error
    }
  }
}
