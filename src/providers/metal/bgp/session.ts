// One BGP session to one router, from this node: dials out (as MetalLB's native speaker,
// internal/bgp/native/native.go, it never listens), exchanges OPENs, keeps the session
// alive with KEEPALIVEs inside the negotiated hold time, and keeps the router's view of
// our routes equal to the last `set()`: a new or changed route is announced, a route
// no longer wanted is withdrawn, everything is announced again after a reconnect.
// Knows nothing of Kubernetes.
//
// When this process dies the kernel closes the TCP connection and the router withdraws
// our routes at once; when the node drops off the network the router's hold timer (or
// BFD, see bfd.ts) does it. `close()` says goodbye with a Cease NOTIFICATION.
import { connect as tcpConnect, isIPv6, type Socket } from 'node:net';
import {
  AS_TRANS,
  BGP_PORT,
  BgpProtocolError,
  decodeMessages,
  encodeAnnounce,
  encodeKeepalive,
  encodeNotification,
  encodeOpen,
  encodeWithdraw,
  MessageType,
  notificationText,
  type Message,
  type Route,
} from './messages.js';

export interface SessionConfig {
  /** For logs: the BGPPeer's name. */
  readonly name: string;
  readonly peerAddress: string;
  readonly peerPort?: number;
  readonly myAsn: number;
  /** The AS the peer must announce; a different one ends the session with "bad peer AS". */
  readonly peerAsn: number;
  /** Seconds; 0 (no keepalives at all) or at least 3. The session uses the smaller of ours and the peer's. */
  readonly holdTime: number;
  /** Seconds between KEEPALIVEs; default a third of the negotiated hold time. */
  readonly keepaliveTime?: number;
  /** Seconds between connection attempts at most (the backoff's ceiling). */
  readonly connectTime?: number;
  /** Our BGP identifier; default the IPv4 source address of the connection, else `fallbackRouterId`. */
  readonly routerId?: string;
  readonly fallbackRouterId?: string;
  /** Dial from this local address. */
  readonly sourceAddress?: string;
  /** TCP MD5 signature key (RFC 2385); needs `connectMd5`. */
  readonly password?: string;
}

export type SessionState = 'idle' | 'connect' | 'open-sent' | 'open-confirm' | 'established' | 'closed';

export interface SessionLog {
  info(msg: string): void;
  warn(msg: string): void;
}

export interface SessionDeps {
  readonly log: SessionLog;
  /** Opens a TCP connection with an MD5 key set before the SYN (the packet addon); required for `password`. */
  readonly connectMd5?: (o: { host: string; port: number; localAddress?: string; password: string }) => Promise<Socket>;
  /** Told on every state change (the speaker's status and BFD follow it). */
  readonly onState?: (state: SessionState, why?: string) => void;
}

const MIN_RETRY_MS = 500;

export class Session {
  private sock: Socket | undefined;
  private st: SessionState = 'idle';
  private rx: Buffer = Buffer.alloc(0);
  private wanted = new Map<string, Route>();
  /** What the peer has from us now (cleared with the connection). */
  private sent = new Map<string, string>();
  private holdTimer: NodeJS.Timeout | undefined;
  private keepaliveTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryMs = MIN_RETRY_MS;
  private negotiatedHold = 0;
  private fourOctetAs = false;
  private localAddress = '';
  private lastError = '';

  constructor(
    readonly cfg: SessionConfig,
    private readonly deps: SessionDeps,
  ) {
    if (cfg.password && !deps.connectMd5) throw new Error(`BGP peer ${cfg.name}: a password (TCP MD5) needs the packet addon (npm run build:native)`);
    if (cfg.holdTime !== 0 && cfg.holdTime < 3) throw new Error(`BGP peer ${cfg.name}: hold time ${cfg.holdTime}s must be 0 or at least 3s (RFC 4271)`);
    this.dial();
  }

  get state(): SessionState {
    return this.st;
  }

  /** Why the last connection ended, for status and logs. */
  get error(): string {
    return this.lastError;
  }

  /** The routes the peer should have from us; sent now when established, else on establishment. */
  set(routes: readonly Route[]): void {
    this.wanted = new Map(routes.map((r) => [r.prefix, r]));
    if (this.st === 'established') this.sync();
  }

  /** Prefixes the peer has from us now. */
  advertised(): string[] {
    return [...this.sent.keys()].sort();
  }

  /** Drops the connection (BFD saw the path go) and dials again after the backoff. */
  drop(why: string): void {
    this.fail(new Error(why));
  }

  /** Ends the session for good: withdraws by Cease (administrative shutdown), then closes. */
  async close(): Promise<void> {
    if (this.st === 'closed') return;
    clearTimeout(this.retryTimer);
    const sock = this.sock;
    if (sock && !sock.destroyed) {
      // A Cease makes the router drop our routes at once, without waiting for its hold timer.
      await new Promise<void>((resolve) => {
        sock.end(encodeNotification(6, 2), () => resolve());
        setTimeout(resolve, 500).unref();
      });
    }
    this.teardown('closed', 'closed by this speaker');
  }

  // ---- internals ------------------------------------------------------------------

  private setState(s: SessionState, why?: string): void {
    if (this.st === s) return;
    this.st = s;
    this.deps.onState?.(s, why);
  }

  private dial(): void {
    const host = this.cfg.peerAddress;
    const port = this.cfg.peerPort ?? BGP_PORT;
    this.setState('connect');
    const local = this.cfg.sourceAddress ? { localAddress: this.cfg.sourceAddress } : {};
    if (this.cfg.password) {
      // The key must be on the socket before the SYN: the addon connects, net.Socket takes over once connected.
      (this.deps.connectMd5 as NonNullable<SessionDeps['connectMd5']>)({ host, port, password: this.cfg.password, ...local }).then(
        (sock) => {
          if (this.st !== 'connect') {
            sock.destroy();
            return;
          }
          this.attach(sock);
          this.connected(sock);
        },
        (e: unknown) => this.fail(e as Error),
      );
      return;
    }
    const sock = tcpConnect({ host, port, ...local });
    this.attach(sock);
    // No connect timeout from the OS for minutes: a peer that never answers is retried sooner.
    const connectTimer = setTimeout(() => sock.destroy(new Error('connect timed out')), 5_000);
    sock.once('close', () => clearTimeout(connectTimer));
    sock.once('connect', () => {
      clearTimeout(connectTimer);
      this.connected(sock);
    });
  }

  private attach(sock: Socket): void {
    this.sock = sock;
    sock.setNoDelay(true);
    sock.on('data', (chunk: Buffer) => this.receive(chunk));
    sock.on('error', (e) => this.fail(e));
    sock.on('close', () => {
      if (this.sock === sock) this.fail(new Error('connection closed by the peer'));
    });
  }

  private connected(sock: Socket): void {
    this.localAddress = (sock.localAddress ?? '').replace(/^::ffff:/, '');
    const routerId = this.cfg.routerId ?? (this.localAddress && !isIPv6(this.localAddress) ? this.localAddress : this.cfg.fallbackRouterId);
    if (!routerId) {
      this.fail(new Error('no IPv4 router ID: set routerID on the BGPPeer (the session runs over IPv6)'));
      return;
    }
    this.setState('open-sent');
    sock.write(encodeOpen({ asn: this.cfg.myAsn, holdTime: this.cfg.holdTime, routerId }));
    // RFC 4271 suggests a large hold timer until the OPEN arrives.
    this.armHold(240);
  }

  private receive(chunk: Buffer): void {
    this.rx = this.rx.length ? Buffer.concat([this.rx, chunk]) : chunk;
    let messages: Message[];
    try {
      const r = decodeMessages(this.rx);
      messages = r.messages;
      this.rx = r.rest;
    } catch (e) {
      this.protocolError(e);
      return;
    }
    for (const m of messages) {
      if (this.st === 'closed' || this.st === 'idle') return;
      try {
        this.handle(m);
      } catch (e) {
        this.protocolError(e);
        return;
      }
    }
  }

  private handle(m: Message): void {
    if (this.negotiatedHold > 0) this.armHold(this.negotiatedHold);
    switch (m.type) {
      case MessageType.NOTIFICATION:
        this.fail(new Error(`the peer sent NOTIFICATION: ${notificationText(m.notification)}`));
        return;
      case MessageType.OPEN: {
        if (this.st !== 'open-sent') throw new BgpProtocolError(5, 0, `OPEN in state ${this.st}`);
        const o = m.open;
        if (o.asn !== this.cfg.peerAsn) {
          const data = Buffer.alloc(2);
          data.writeUInt16BE(o.asn > 0xffff ? AS_TRANS : o.asn, 0);
          throw new BgpProtocolError(2, 2, `the peer announced AS ${o.asn}, expected ${this.cfg.peerAsn}`, data);
        }
        this.fourOctetAs = o.fourOctetAs;
        this.negotiatedHold = Math.min(o.holdTime, this.cfg.holdTime);
        this.setState('open-confirm');
        this.sock?.write(encodeKeepalive());
        if (this.negotiatedHold > 0) {
          const every = Math.min(this.cfg.keepaliveTime ?? Infinity, this.negotiatedHold / 3);
          this.keepaliveTimer = setInterval(() => this.sock?.write(encodeKeepalive()), every * 1000);
          this.armHold(this.negotiatedHold);
        } else {
          clearTimeout(this.holdTimer);
        }
        return;
      }
      case MessageType.KEEPALIVE:
        if (this.st === 'open-confirm') {
          this.setState('established');
          this.retryMs = MIN_RETRY_MS;
          this.lastError = '';
          this.deps.log.info(`BGP session with ${this.cfg.name} (${this.cfg.peerAddress}) established, hold time ${this.negotiatedHold}s`);
          this.sync();
        }
        return;
      case MessageType.UPDATE:
      case MessageType.ROUTE_REFRESH:
        if (this.st !== 'established') throw new BgpProtocolError(5, 0, `UPDATE in state ${this.st}`);
        // Routes the router sends us are not used: the speaker only announces.
        if (m.type === MessageType.ROUTE_REFRESH) {
          this.sent.clear();
          this.sync();
        }
        return;
    }
  }

  private sync(): void {
    const sock = this.sock;
    if (!sock) return;
    const withdraw = [...this.sent.keys()].filter((p) => !this.wanted.has(p));
    for (const msg of encodeWithdraw(withdraw)) sock.write(msg);
    for (const p of withdraw) this.sent.delete(p);
    const ctx = { myAsn: this.cfg.myAsn, ibgp: this.cfg.myAsn === this.cfg.peerAsn, fourOctetAs: this.fourOctetAs, nextHop: this.localAddress };
    for (const [prefix, route] of this.wanted) {
      const key = JSON.stringify(route);
      if (this.sent.get(prefix) === key) continue;
      try {
        sock.write(encodeAnnounce(route, ctx));
        this.sent.set(prefix, key);
      } catch (e) {
        this.deps.log.warn(`BGP peer ${this.cfg.name}: cannot announce ${prefix}: ${(e as Error).message}`);
      }
    }
  }

  private armHold(seconds: number): void {
    clearTimeout(this.holdTimer);
    this.holdTimer = setTimeout(() => {
      this.sock?.write(encodeNotification(4, 0));
      this.fail(new Error(`hold timer expired: nothing from the peer for ${seconds}s`));
    }, seconds * 1000);
  }

  private protocolError(e: unknown): void {
    if (e instanceof BgpProtocolError) {
      this.sock?.write(encodeNotification(e.code, e.subcode, e.data));
      this.fail(new Error(`${e.message} (sent NOTIFICATION: ${notificationText(e)})`));
    } else {
      this.fail(e as Error);
    }
  }

  private fail(e: Error): void {
    if (this.st === 'closed' || this.st === 'idle') return;
    const was = this.st;
    // Said once per distinct reason: a peer that keeps refusing is one line, not one per retry.
    if (was === 'established') this.deps.log.warn(`BGP session with ${this.cfg.name} (${this.cfg.peerAddress}) down: ${e.message}`);
    else if (e.message !== this.lastError) this.deps.log.warn(`BGP session with ${this.cfg.name} (${this.cfg.peerAddress}) not established: ${e.message}; retrying`);
    this.lastError = e.message;
    this.teardown('idle', e.message);
    const delay = this.retryMs;
    this.retryMs = Math.min(this.retryMs * 2, (this.cfg.connectTime ?? 30) * 1000);
    this.retryTimer = setTimeout(() => this.dial(), delay);
  }

  private teardown(state: 'idle' | 'closed', why: string): void {
    clearTimeout(this.holdTimer);
    clearInterval(this.keepaliveTimer);
    const sock = this.sock;
    this.sock = undefined;
    sock?.destroy();
    this.sent.clear();
    this.rx = Buffer.alloc(0);
    this.negotiatedHold = 0;
    this.setState(state, why);
  }
}
