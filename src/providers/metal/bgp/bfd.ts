// Bidirectional Forwarding Detection for the BGP sessions (RFC 5880 asynchronous mode,
// single hop per RFC 5881): control packets to UDP 3784 from a source port in
// 49152-65535 with TTL 255, both ends detecting a silent path within a few hundred
// milliseconds instead of the BGP hold time. When a session that was Up goes Down the
// BGP session is torn down (the router, running BFD too, drops our routes at the same
// moment). Knows nothing of Kubernetes.
//
// Not implemented: echo mode, demand mode, authentication, and the receive-side TTL
// check (Node's sockets do not report a datagram's TTL).
import { randomBytes, randomInt } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';

export const BFD_PORT = 3784;
const PACKET_LEN = 24;
/** RFC 5880 6.8.3: while not Up, transmit no faster than once a second. */
const SLOW_TX_US = 1_000_000;

export const BfdState = { AdminDown: 0, Down: 1, Init: 2, Up: 3 } as const;
type State = (typeof BfdState)[keyof typeof BfdState];
const STATE_NAME = ['AdminDown', 'Down', 'Init', 'Up'] as const;

export interface BfdTimers {
  readonly receiveIntervalMs: number;
  readonly transmitIntervalMs: number;
  readonly detectMultiplier: number;
  /** Wait for the peer to speak first. */
  readonly passiveMode: boolean;
}

export interface BfdPacket {
  readonly diag: number;
  readonly state: State;
  readonly poll: boolean;
  readonly final: boolean;
  readonly detectMult: number;
  readonly myDisc: number;
  readonly yourDisc: number;
  readonly desiredMinTxUs: number;
  readonly requiredMinRxUs: number;
}

export function encodeBfd(p: BfdPacket): Buffer {
  const b = Buffer.alloc(PACKET_LEN);
  b.writeUInt8((1 << 5) | (p.diag & 0x1f), 0);
  b.writeUInt8((p.state << 6) | (p.poll ? 0x20 : 0) | (p.final ? 0x10 : 0), 1);
  b.writeUInt8(p.detectMult, 2);
  b.writeUInt8(PACKET_LEN, 3);
  b.writeUInt32BE(p.myDisc >>> 0, 4);
  b.writeUInt32BE(p.yourDisc >>> 0, 8);
  b.writeUInt32BE(p.desiredMinTxUs >>> 0, 12);
  b.writeUInt32BE(p.requiredMinRxUs >>> 0, 16);
  b.writeUInt32BE(0, 20); // no echo
  return b;
}

/** A control packet, or undefined when RFC 5880 6.8.6 says to discard it. */
export function decodeBfd(b: Buffer): BfdPacket | undefined {
  if (b.length < PACKET_LEN) return undefined;
  const version = b.readUInt8(0) >> 5;
  const len = b.readUInt8(3);
  const flags = b.readUInt8(1);
  const detectMult = b.readUInt8(2);
  const myDisc = b.readUInt32BE(4);
  const yourDisc = b.readUInt32BE(8);
  const state = (flags >> 6) as State;
  if (version !== 1 || len < PACKET_LEN || len > b.length || detectMult === 0 || myDisc === 0) return undefined;
  if (flags & 0x04) return undefined; // authentication: not configured here
  if (yourDisc === 0 && state !== BfdState.Down && state !== BfdState.AdminDown) return undefined;
  return {
    diag: b.readUInt8(0) & 0x1f,
    state,
    poll: (flags & 0x20) !== 0,
    final: (flags & 0x10) !== 0,
    detectMult,
    myDisc,
    yourDisc,
    desiredMinTxUs: b.readUInt32BE(12),
    requiredMinRxUs: b.readUInt32BE(16),
  };
}

export interface BfdSessionEvents {
  /** The session went from Up to Down: the path is gone. */
  onDown(why: string): void;
  onUp?(): void;
}

/** One BFD session with one peer address. */
export class BfdSession {
  readonly myDisc = randomBytes(4).readUInt32BE(0) || 1;
  private state: State = BfdState.Down;
  private remoteDisc = 0;
  private remoteState: State = BfdState.Down;
  private remoteMinRxUs = 1;
  private remoteDesiredTxUs = 0;
  private remoteMult = 3;
  private pollPending = false;
  private txTimer: NodeJS.Timeout | undefined;
  private detectTimer: NodeJS.Timeout | undefined;
  /** The Detection Time the running detect timer was armed with (RFC 5880 6.8.4). */
  private detectMs: number | undefined;
  private closed = false;

  constructor(
    readonly peer: string,
    private readonly timers: BfdTimers,
    private readonly send: (b: Buffer) => void,
    private readonly events: BfdSessionEvents,
  ) {
    if (!timers.passiveMode) this.scheduleTx(0);
  }

  get up(): boolean {
    return this.state === BfdState.Up;
  }

  /**
   * The Detection Time in force: the peer's multiplier times the slower of our receive
   * interval and its transmit interval, as of its last packet. Until its first packet
   * sent Up arrives it is still the slow pre-Up rate's (seconds); undefined when no
   * detect timer runs (Down, AdminDown).
   */
  get detectionTimeMs(): number | undefined {
    return this.detectMs;
  }

  get stateName(): string {
    return STATE_NAME[this.state];
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.txTimer);
    clearTimeout(this.detectTimer);
    this.detectMs = undefined;
    // AdminDown tells the peer the session ends on purpose, not that the path failed.
    this.state = BfdState.AdminDown;
    this.transmit(false);
  }

  /** RFC 5880 6.8.6, reception of a control packet for this session. */
  receive(p: BfdPacket): void {
    if (this.closed) return;
    this.remoteDisc = p.myDisc;
    this.remoteState = p.state;
    this.remoteMinRxUs = p.requiredMinRxUs;
    this.remoteDesiredTxUs = p.desiredMinTxUs;
    this.remoteMult = p.detectMult;
    if (p.final) this.pollPending = false;
    const was = this.state;
    if (p.state === BfdState.AdminDown) {
      if (this.state !== BfdState.Down) this.toState(BfdState.Down, 'the peer set the session AdminDown');
    } else if (this.state === BfdState.Down) {
      if (p.state === BfdState.Down) this.toState(BfdState.Init);
      else if (p.state === BfdState.Init) this.toState(BfdState.Up);
    } else if (this.state === BfdState.Init) {
      if (p.state === BfdState.Init || p.state === BfdState.Up) this.toState(BfdState.Up);
    } else if (this.state === BfdState.Up && p.state === BfdState.Down) {
      this.toState(BfdState.Down, 'the peer reports the session Down');
    }
    if (p.poll) this.transmit(true);
    else if (was !== this.state) this.scheduleTx(0);
    else if (!this.txTimer) this.scheduleTx(this.txIntervalUs() / 1000);
    this.armDetect();
  }

  private desiredTxUs(): number {
    return this.state === BfdState.Up ? this.timers.transmitIntervalMs * 1000 : Math.max(SLOW_TX_US, this.timers.transmitIntervalMs * 1000);
  }

  private txIntervalUs(): number {
    return Math.max(this.desiredTxUs(), this.remoteMinRxUs);
  }

  private toState(s: State, why?: string): void {
    const was = this.state;
    this.state = s;
    // Faster timers once Up need a Poll sequence (RFC 5880 6.8.3).
    if (s === BfdState.Up) {
      this.pollPending = true;
      this.events.onUp?.();
    }
    if (was === BfdState.Up && s === BfdState.Down) this.events.onDown(why ?? 'BFD session down');
  }

  private armDetect(): void {
    clearTimeout(this.detectTimer);
    this.detectMs = undefined;
    if (this.state !== BfdState.Up && this.state !== BfdState.Init) return;
    const ms = (this.remoteMult * Math.max(this.timers.receiveIntervalMs * 1000, this.remoteDesiredTxUs)) / 1000;
    this.detectMs = ms;
    this.detectTimer = setTimeout(() => {
      this.detectMs = undefined;
      const was = this.state;
      this.state = BfdState.Down;
      this.remoteDisc = 0;
      if (was === BfdState.Up) this.events.onDown(`BFD: nothing from ${this.peer} for ${Math.round(ms)} ms`);
      this.scheduleTx(0);
    }, ms);
  }

  private scheduleTx(ms: number): void {
    clearTimeout(this.txTimer);
    this.txTimer = setTimeout(() => {
      this.txTimer = undefined;
      if (this.closed) return;
      // Passive: speak only once the peer has.
      if (!(this.timers.passiveMode && this.remoteDisc === 0)) this.transmit(false);
      // 75-100% of the interval (RFC 5880 6.8.7 jitter), so two ends do not lock step.
      const interval = this.txIntervalUs() / 1000;
      this.scheduleTx(interval * (0.75 + Math.random() * 0.25));
    }, ms);
  }

  private transmit(final: boolean): void {
    this.send(
      encodeBfd({
        diag: 0,
        state: this.state,
        poll: this.pollPending && !final,
        final,
        detectMult: this.timers.detectMultiplier,
        myDisc: this.myDisc,
        yourDisc: this.remoteDisc,
        desiredMinTxUs: this.desiredTxUs(),
        requiredMinRxUs: this.timers.receiveIntervalMs * 1000,
      }),
    );
  }
}

/** The node's BFD endpoint: one receiving socket per family on 3784, one sending socket per session. */
export class BfdEndpoint {
  private readonly rx = new Map<4 | 6, Socket>();
  private readonly sessions = new Map<string, { session: BfdSession; tx: Socket }>();

  constructor(private readonly log: { warn(msg: string): void }) {}

  async open(peer: string, timers: BfdTimers, events: BfdSessionEvents, localAddress?: string): Promise<BfdSession> {
    const family = peer.includes(':') ? 6 : 4;
    await this.receiver(family);
    const tx = await bindSource(family, localAddress);
    const session = new BfdSession(peer, timers, (b) => tx.send(b, BFD_PORT, peer), events);
    this.sessions.set(peer, { session, tx });
    return session;
  }

  close(peer: string): void {
    const s = this.sessions.get(peer);
    if (!s) return;
    this.sessions.delete(peer);
    s.session.close();
    // Let the AdminDown leave before the socket goes.
    setTimeout(() => s.tx.close(), 50).unref();
  }

  closeAll(): void {
    for (const peer of [...this.sessions.keys()]) this.close(peer);
    for (const s of this.rx.values()) s.close();
    this.rx.clear();
  }

  private async receiver(family: 4 | 6): Promise<void> {
    if (this.rx.has(family)) return;
    // ipv6Only: the IPv4 socket on the same port must not collide with a dual-stack one.
    const sock = createSocket({ type: family === 4 ? 'udp4' : 'udp6', reuseAddr: true, ...(family === 6 ? { ipv6Only: true } : {}) });
    this.rx.set(family, sock);
    sock.on('message', (msg, from) => {
      const p = decodeBfd(msg);
      if (!p) return;
      const addr = from.address.replace(/^::ffff:/, '');
      const s = this.sessions.get(addr) ?? [...this.sessions.values()].find((x) => x.session.myDisc === p.yourDisc);
      s?.session.receive(p);
    });
    sock.on('error', (e) => this.log.warn(`BFD socket (IPv${family}): ${e.message}`));
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject);
      sock.bind({ port: BFD_PORT, address: family === 4 ? '0.0.0.0' : '::', exclusive: true }, () => {
        sock.off('error', reject);
        resolve();
      });
    });
  }
}

/** A UDP socket on a source port in 49152-65535 (RFC 5881 4) with TTL 255. */
async function bindSource(family: 4 | 6, localAddress?: string): Promise<Socket> {
  for (let attempt = 0; ; attempt++) {
    const sock = createSocket(family === 4 ? 'udp4' : 'udp6');
    try {
      await new Promise<void>((resolve, reject) => {
        sock.once('error', reject);
        sock.bind({ port: randomInt(49152, 65536), ...(localAddress ? { address: localAddress } : {}), exclusive: true }, () => {
          sock.off('error', reject);
          resolve();
        });
      });
      sock.setTTL(255);
      sock.on('error', () => {});
      return sock;
    } catch (e) {
      sock.close();
      if (attempt > 20) throw e;
    }
  }
}
