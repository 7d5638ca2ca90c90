// The L7 proxy's own HTTP/1.1 client for the common forward (a plain HTTP/1.1 backend, no
// upgrade, no mirror): keep-alive sockets pooled per target, the request head written in one
// write, and the response head and body framing parsed here. Node's http.request costs the
// proxy 45-50 µs a request on this machine (ClientRequest, IncomingMessage, the Agent's
// bookkeeping and a header object each way); this costs about a third of that (issue #21).
//
// What it keeps of HTTP/1.1 (RFC 9112):
// - one request at a time per connection (no pipelining): a socket goes back to the pool
//   only when its request was sent whole and its response read whole;
// - response framing: no body for HEAD, 1xx, 204 and 304; chunked (trailers read and passed
//   on); Content-Length; else until the backend closes (and then the socket is not reused);
// - interim 1xx answers (100 Continue, 103) are read and skipped: the client's 100 Continue
//   comes from the listener's own server;
// - a socket taken from the pool that turns out closed before any answer byte is replayed
//   once on a new connection, only for a request without a body (the caller says which):
//   the backend cannot have acted on a request it never read, and a body is gone by then.
import { connect, type Socket } from 'node:net';
import { ChunkedBody, NEED_MORE, type ChunkedBodyRules } from './chunked-body.js';

/** Where a request goes: a target's host and port, and the key that names its pool. */
export interface UpstreamTarget {
  readonly key: string;
  readonly host: string;
  readonly port: number;
}

export interface UpstreamResponseHead {
  readonly status: number;
  readonly reason: string;
  /** As received: [name, value, name, value, ...], names in the backend's case, repeats kept. */
  readonly rawHeaders: string[];
}

/** What the caller does with the answer; the exchange calls these in order. */
export interface UpstreamHandlers {
  /** The final (non-1xx) response head; `body` false when no body follows (HEAD, 204, 304); `length` the body's Content-Length when that frames it. */
  head(head: UpstreamResponseHead, body: boolean, length: number | undefined): void;
  /** A piece of the body; false asks for a pause until resume(). `last`: no body byte follows, and no trailers (Content-Length framing). */
  data(chunk: Buffer, last: boolean): boolean;
  /** The body is complete; `trailers` as rawHeaders, when the chunked body ended with some. */
  end(trailers: string[] | undefined): void;
  /** The exchange failed; `started` says whether head() was called. */
  error(err: Error, started: boolean): void;
}

export interface UpstreamRequest {
  /** The request line and headers, CRLF CRLF included. */
  readonly head: string;
  /** How the request body is framed to the backend: none, a Content-Length of n, or chunked. */
  readonly body: 'none' | 'chunked' | number;
  /** HEAD: the response has no body whatever its headers say. */
  readonly headRequest: boolean;
  /** May be sent again on a new connection when a pooled one turns out closed (idempotent, no body). */
  readonly replayable: boolean;
}

const CRLFCRLF = Buffer.from('\r\n\r\n');
const CRLF = Buffer.from('\r\n');
const LAST_CHUNK = Buffer.from('0\r\n\r\n');
/** A head or a chunk-size/trailer line longer than this is not HTTP a backend would send. */
const MAX_HEAD = 64 * 1024;
const STATUS_LINE = /^HTTP\/1\.([01]) (\d{3})(?: (.*))?$/;

export class UpstreamProtocolError extends Error {
  readonly code = 'HPE_UPSTREAM';
}

interface Framing {
  keepAlive: boolean;
  /** Body length: a count, 'chunked', 'close' (until EOF) or 0 for none. */
  body: number | 'chunked' | 'close';
}

/** Reads a response head (the bytes before CRLF CRLF, latin1). 1xx heads come back as such. */
function parseHead(text: string, headRequest: boolean): { head: UpstreamResponseHead; framing: Framing } {
  const lines = text.split('\r\n');
  const m = STATUS_LINE.exec(lines[0] ?? '');
  if (!m) throw new UpstreamProtocolError(`bad status line ${JSON.stringify((lines[0] ?? '').slice(0, 80))}`);
  const http10 = m[1] === '0';
  const status = Number(m[2]);
  const raw: string[] = [];
  let length: number | undefined;
  let chunked = false;
  let encoded = false;
  let close = http10;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(':');
    // An obsolete line fold (leading space) or a line without a name: RFC 9112 5.2 lets a client reject them.
    if (colon <= 0 || line.charCodeAt(0) === 32 || line.charCodeAt(0) === 9) throw new UpstreamProtocolError(`bad header line ${JSON.stringify(line.slice(0, 80))}`);
    const name = line.slice(0, colon);
    const value = line.slice(colon + 1).trim();
    raw.push(name, value);
    switch (name.length) {
      case 10:
        if (name.toLowerCase() === 'connection') {
          const tokens = value.toLowerCase().split(',').map((t) => t.trim());
          if (tokens.includes('close')) close = true;
          else if (http10 && tokens.includes('keep-alive')) close = false;
        }
        break;
      case 14:
        if (name.toLowerCase() === 'content-length') {
          for (const part of value.split(',')) {
            const t = part.trim();
            if (!/^\d{1,15}$/.test(t) || (length !== undefined && length !== Number(t))) throw new UpstreamProtocolError(`bad Content-Length ${JSON.stringify(value.slice(0, 40))}`);
            length = Number(t);
          }
        }
        break;
      case 17:
        if (name.toLowerCase() === 'transfer-encoding') {
          encoded = true;
          chunked = value.toLowerCase().split(',').pop()?.trim() === 'chunked';
        }
        break;
    }
  }
  const head = { status, reason: m[3] ?? '', rawHeaders: raw };
  if (headRequest || (status >= 100 && status < 200) || status === 204 || status === 304) return { head, framing: { keepAlive: !close, body: 0 } };
  // Transfer-Encoding overrides Content-Length; an encoding other than chunked last runs until close (RFC 9112 6.3).
  if (encoded) return { head, framing: chunked ? { keepAlive: !close, body: 'chunked' } : { keepAlive: false, body: 'close' } };
  if (length !== undefined) return { head, framing: { keepAlive: !close, body: length } };
  return { head, framing: { keepAlive: false, body: 'close' } };
}

type Phase = 'head' | 'length' | 'close' | 'chunked' | 'done';

/** A backend's chunked response is read leniently, its trailers kept to pass on. */
export const RESPONSE_CHUNKS: ChunkedBodyRules = {
  strict: false,
  maxLine: MAX_HEAD,
  field: (line) => {
    const colon = line.indexOf(':');
    return colon <= 0 ? undefined : [line.slice(0, colon), line.slice(colon + 1).trim()];
  },
  keepTrailers: true,
  error: (m) => new UpstreamProtocolError(m),
};

/** One connection to a target: idle in the pool, or carrying one exchange. */
class Connection {
  exchange: Exchange | undefined;
  /** Whether this socket already carried a response (a pooled one, which may have been closed meanwhile). */
  reused = false;
  /** When it last came back to the pool (performance.now()), for the pool's idle sweep. */
  idleSince = 0;

  constructor(
    readonly socket: Socket,
    private readonly pool: UpstreamPool,
    readonly key: string,
  ) {
    socket.setNoDelay(true);
    socket.on('end', () => {
      if (this.exchange) this.exchange.ended();
      else socket.destroy();
    });
    socket.on('error', (e: Error) => {
      if (this.exchange) this.exchange.failed(e);
    });
    socket.on('close', () => {
      this.pool.forget(this);
      this.exchange?.failed(Object.assign(new Error('socket closed'), { code: 'ECONNRESET' }));
    });
  }
}

/** One request and its response over a connection. */
export class Exchange {
  private conn: Connection | undefined;
  private phase: Phase = 'head';
  private pending: Buffer | undefined;
  private remaining = 0;
  private framing: Framing = { keepAlive: false, body: 0 };
  private chunked: ChunkedBody | undefined;
  private started = false;
  private sent = 0;
  private requestDone: boolean;
  private finished = false;
  private replayed = false;
  private gotBytes = false;
  private paused = false;
  private drainWaiter: (() => void) | undefined;

  constructor(
    private readonly pool: UpstreamPool,
    private readonly target: UpstreamTarget,
    private readonly req: UpstreamRequest,
    private readonly on: UpstreamHandlers,
  ) {
    this.requestDone = req.body === 'none' || req.body === 0;
    this.attach(pool.take(target));
  }

  private attach(conn: Connection): void {
    this.conn = conn;
    conn.exchange = this;
    // latin1: header bytes as Node's parser read them (obs-text included), one byte per character.
    conn.socket.write(this.req.head, 'latin1');
  }

  /** A piece of the request body; false when the socket's buffer is full (wait for onDrain). */
  write(chunk: Buffer): boolean {
    const conn = this.conn;
    if (!conn || this.finished || chunk.length === 0) return true;
    if (this.req.body === 'chunked') {
      conn.socket.cork();
      conn.socket.write(`${chunk.length.toString(16)}\r\n`);
      conn.socket.write(chunk);
      const more = conn.socket.write(CRLF);
      conn.socket.uncork();
      return more;
    }
    this.sent += chunk.length;
    if (this.sent >= (this.req.body as number)) this.requestDone = true;
    return conn.socket.write(chunk);
  }

  /** The request body is complete. */
  end(): void {
    const conn = this.conn;
    if (!conn || this.finished) return;
    if (this.req.body === 'chunked') conn.socket.write(LAST_CHUNK);
    else if (this.req.body !== 'none' && this.sent < this.req.body) {
      // The client sent less than it announced: the backend would wait for the rest forever.
      this.fail(new UpstreamProtocolError('request body shorter than its Content-Length'));
      return;
    }
    this.requestDone = true;
  }

  /** Calls fn once the request body may flow again: the socket drained, or the exchange ended (later writes are dropped). */
  onDrain(fn: () => void): void {
    const conn = this.conn;
    if (!conn) {
      fn();
      return;
    }
    this.drainWaiter = fn;
    conn.socket.once('drain', () => this.drained());
  }

  private drained(): void {
    const fn = this.drainWaiter;
    this.drainWaiter = undefined;
    fn?.();
  }

  pause(): void {
    this.paused = true;
    this.conn?.socket.pause();
  }

  resume(): void {
    this.paused = false;
    this.conn?.socket.resume();
  }

  /** Gives up on the exchange (the client left, a timeout answered): the socket is not reused. */
  abort(): void {
    if (!this.finished) this.detach()?.socket.destroy();
  }

  /** Ends the exchange's hold on its connection; the caller closes or pools it. */
  private detach(): Connection | undefined {
    this.finished = true;
    const conn = this.conn;
    this.conn = undefined;
    if (conn) conn.exchange = undefined;
    // A body paused for this connection would otherwise stay paused, and with it the client's connection.
    if (this.drainWaiter) queueMicrotask(() => this.drained());
    return conn;
  }

  received(chunk: Buffer): void {
    this.gotBytes = true;
    try {
      this.parse(chunk);
    } catch (e) {
      this.fail(e instanceof Error ? e : new Error(String(e)));
    }
  }

  private parse(input: Buffer): void {
    let buf = input;
    if (this.pending) {
      buf = Buffer.concat([this.pending, buf]);
      this.pending = undefined;
    }
    let at = 0;
    while (at < buf.length && !this.finished) {
      switch (this.phase) {
        case 'head': {
          const end = buf.indexOf(CRLFCRLF, at);
          if (end < 0) return this.keep(buf, at);
          const { head, framing } = parseHead(buf.toString('latin1', at, end), this.req.headRequest);
          at = end + 4;
          if (head.status >= 100 && head.status < 200) {
            // 101 would switch protocols this request did not ask for.
            if (head.status === 101) throw new UpstreamProtocolError('101 Switching Protocols without an upgrade');
            continue;
          }
          this.framing = framing;
          this.started = true;
          this.on.head(head, framing.body !== 0, typeof framing.body === 'number' && framing.body > 0 ? framing.body : undefined);
          if (this.finished) return;
          if (framing.body === 0) this.done(buf.length > at);
          else if (framing.body === 'chunked') {
            this.phase = 'chunked';
            this.chunked = new ChunkedBody(RESPONSE_CHUNKS);
          } else if (framing.body === 'close') this.phase = 'close';
          else {
            this.phase = 'length';
            this.remaining = framing.body;
          }
          break;
        }
        case 'length': {
          const n = Math.min(this.remaining, buf.length - at);
          this.remaining -= n;
          this.deliver(buf.subarray(at, at + n), this.remaining === 0);
          at += n;
          if (this.remaining === 0) this.done(buf.length > at);
          break;
        }
        case 'close':
          this.deliver(at === 0 ? buf : buf.subarray(at));
          at = buf.length;
          break;
        case 'chunked': {
          const next = this.chunked!.read(buf, at, this.deliverPiece);
          if (next === NEED_MORE) return this.keep(buf, at);
          at = next;
          if (this.chunked!.done) this.done(buf.length > at);
          break;
        }
        case 'done':
          return;
      }
    }
  }

  /** Holds an incomplete line or head until more bytes come. */
  private keep(buf: Buffer, at: number): void {
    // (A chunk line's length is the decoder's to refuse.)
    if (buf.length - at > MAX_HEAD) throw new UpstreamProtocolError('response head too large');
    this.pending = at === 0 ? buf : Buffer.from(buf.subarray(at));
  }

  private readonly deliverPiece = (chunk: Buffer): void => this.deliver(chunk);

  private deliver(chunk: Buffer, last = false): void {
    if (chunk.length > 0 && !this.on.data(chunk, last) && !this.paused && !this.finished) this.pause();
  }

  /** The response is complete; `extra`: bytes followed it, which without pipelining means the connection is out of step. */
  private done(extra: boolean): void {
    this.phase = 'done';
    // An answer before the whole request was sent: the rest of the request cannot go on this connection.
    if (extra || !this.requestDone) this.framing.keepAlive = false;
    if (this.requestDone || !this.framing.keepAlive) this.release();
  }

  /** Hands the connection back to the pool (or closes it), then tells the caller the response ended. */
  private release(): void {
    if (this.finished) return;
    const conn = this.detach();
    if (conn) {
      if (this.framing.keepAlive) {
        if (this.paused) conn.socket.resume();
        this.pool.give(conn);
      } else conn.socket.destroy();
    }
    this.on.end(this.chunked?.trailers);
  }

  ended(): void {
    if (this.phase === 'close') {
      this.done(false);
      return;
    }
    this.failed(Object.assign(new Error('backend closed the connection'), { code: 'ECONNRESET' }));
  }

  failed(e: Error): void {
    if (this.finished) return;
    const conn = this.conn;
    // A pooled socket the backend had closed: nothing of this request reached it.
    if (conn?.reused && !this.gotBytes && this.req.replayable && !this.replayed) {
      this.replayed = true;
      conn.exchange = undefined;
      conn.socket.destroy();
      this.attach(this.pool.open(this.target));
      return;
    }
    this.fail(e);
  }

  private fail(e: Error): void {
    if (this.finished) return;
    this.detach()?.socket.destroy();
    this.on.error(e, this.started);
  }
}

export interface UpstreamPoolOptions {
  /** An idle connection is closed once idle this long (checked every quarter of it, at most every 250 ms; the backend's own keep-alive timeout is usually longer: Node's 5 s, nginx's 75 s). */
  readonly idleMs?: number;
  /** Idle connections kept per target; more are closed when they come back. */
  readonly maxIdle?: number;
}

/** Keep-alive connections per target, shared by one load balancer's listeners. */
export class UpstreamPool {
  private readonly idle = new Map<string, Connection[]>();
  private readonly all = new Set<Connection>();
  private readonly idleMs: number;
  private readonly maxIdle: number;
  private closed = false;
  /** Where every connection's reads land (see open()): one read is handled before the next is made. */
  private readonly readBuffer = Buffer.allocUnsafe(64 * 1024);
  private sweeper: NodeJS.Timeout | undefined;

  constructor(opts: UpstreamPoolOptions = {}) {
    this.idleMs = opts.idleMs ?? 4_000;
    this.maxIdle = opts.maxIdle ?? 256;
  }

  /** Sends a request to target; the handlers get its answer. */
  request(target: UpstreamTarget, req: UpstreamRequest, on: UpstreamHandlers): Exchange {
    return new Exchange(this, target, req, on);
  }

  /** The most recently used idle connection to target (its socket is the likeliest still open), else a new one. */
  take(target: UpstreamTarget): Connection {
    const list = this.idle.get(target.key);
    const conn = list?.pop();
    if (conn) {
      conn.reused = true;
      return conn;
    }
    return this.open(target);
  }

  open(target: UpstreamTarget): Connection {
    // The answer is read into one buffer shared by the pool's connections (net's onread)
    // rather than through the socket's readable stream: no 64 KiB allocation, stream
    // bookkeeping and 'data' event per read, about 1 µs a request on this machine (#21).
    // What the exchange keeps is its own copy, made here, so the next read cannot overwrite it.
    const socket = connect({
      host: target.host,
      port: target.port,
      onread: {
        buffer: this.readBuffer,
        callback: (n: number, buf: Uint8Array): boolean => {
          // (Reads start once connected, after conn below is set.)
          // Bytes no request asked for: the connection is out of step; drop it.
          if (!conn.exchange) socket.destroy();
          else conn.exchange.received(Buffer.from((buf as Buffer).subarray(0, n)));
          return !socket.destroyed;
        },
      },
    });
    const conn = new Connection(socket, this, target.key);
    this.all.add(conn);
    if (this.closed) socket.destroy();
    return conn;
  }

  give(conn: Connection): void {
    if (this.closed || conn.socket.destroyed) {
      conn.socket.destroy();
      return;
    }
    let list = this.idle.get(conn.key);
    if (!list) this.idle.set(conn.key, (list = []));
    if (list.length >= this.maxIdle) {
      conn.socket.destroy();
      return;
    }
    conn.idleSince = performance.now();
    list.push(conn);
    if (!this.sweeper) {
      // One timer for the pool's idle connections, not a timeout on each socket: Node re-arms
      // a socket's timeout on every read and write, which showed in the proxy's profile (#21).
      this.sweeper = setInterval(() => this.sweep(), Math.max(10, Math.min(250, this.idleMs / 4)));
      this.sweeper.unref();
    }
  }

  /** Closes the connections idle for idleMs or more (each list runs oldest first: take() pops the newest). */
  private sweep(): void {
    const before = performance.now() - this.idleMs;
    for (const [key, list] of this.idle) {
      let n = 0;
      while (n < list.length && list[n]!.idleSince <= before) n++;
      if (n === 0) continue;
      for (const c of list.splice(0, n)) c.socket.destroy();
      if (list.length === 0) this.idle.delete(key);
    }
    if (this.idle.size === 0) this.stopSweeping();
  }

  private stopSweeping(): void {
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = undefined;
  }

  forget(conn: Connection): void {
    this.all.delete(conn);
    const list = this.idle.get(conn.key);
    if (!list) return;
    const i = list.indexOf(conn);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.idle.delete(conn.key);
  }

  /** Idle connections now open (for tests and inspection). */
  idleCount(key?: string): number {
    if (key !== undefined) return this.idle.get(key)?.length ?? 0;
    let n = 0;
    for (const l of this.idle.values()) n += l.length;
    return n;
  }

  /** Closes every connection, busy ones included (their exchanges fail). */
  close(): void {
    this.closed = true;
    this.stopSweeping();
    for (const c of [...this.all]) c.socket.destroy();
    this.idle.clear();
  }
}
