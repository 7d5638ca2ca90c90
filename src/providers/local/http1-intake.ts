// The L7 listener's own HTTP/1.1 request intake for the common case (issue #21): Node's
// http.Server (llhttp, IncomingMessage, ServerResponse, a keep-alive timer per request)
// cost the proxy about 18 µs a request on this machine; this reads requests straight off the
// client socket, as upstream-http1.ts writes them to the backend.
//
// It takes only what it can frame without doubt and hands everything else, untouched, to
// Node's http.Server (the caller's `fallback`, at a request boundary, with every byte read
// from that request on put back), so llhttp stays the judge of anything unusual:
// - taken: HTTP/1.1, a method of GET HEAD POST PUT DELETE OPTIONS PATCH, an origin-form
//   target of visible ASCII, a Host, header names that are tokens and values of visible
//   characters, SP, HTAB and obs-text, a body framed by one Content-Length or by
//   `Transfer-Encoding: chunked` alone, no Upgrade, no Expect;
// - handed over: anything else (HTTP/1.0, CONNECT, absolute-form, Upgrade/WebSocket, h2c,
//   Expect: 100-continue, other transfer codings, obs-fold, a bare CR or LF, control
//   characters, a head over 16 KiB), which Node serves, or refuses, as it did before;
// - refused here with the listener's 400 (what llhttp answers too, HPE_* in the tests):
//   framing a request smuggler needs, i.e. a Content-Length that is not a plain number,
//   two Content-Lengths, Content-Length with Transfer-Encoding, a malformed chunked body.
//
// One request at a time per connection: a pipelined request waits in the buffer until the
// response before it has ended (and the socket stops being read past 64 KiB of them).
// Back-pressure both ways: a full backend pauses the client socket, a full client socket
// pauses the backend (the caller's write() returns false; onDrain says when to go on).
import { STATUS_CODES, type IncomingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import { ChunkedBody, NEED_MORE, type ChunkedBodyRules } from './chunked-body.js';

/** Node's maxHeaderSize: a longer head is Node's to refuse (431). */
export const MAX_HEAD = 16 * 1024;
/** Pipelined bytes held while a response is in flight before the socket stops being read. */
const MAX_PIPELINED = 64 * 1024;
/** Node's keepAliveTimeout (5 s) and headersTimeout (60 s), in sweep ticks of a second. */
const IDLE_TICKS = 5;
const HEAD_TICKS = 60;
/** A response body up to this size goes out in one write with its head (one copy; larger ones are written as they are). */
const ONE_WRITE = 16 * 1024;

const CRLF = Buffer.from('\r\n');
const CRLFCRLF = Buffer.from('\r\n\r\n');
const LAST_CHUNK = Buffer.from('0\r\n\r\n');

const REQUEST_LINE = /^(GET|HEAD|POST|PUT|DELETE|OPTIONS|PATCH) (\/[\x21-\x7e]*) HTTP\/1\.1$/;
const FIELD_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const BAD_VALUE = /[^\t\x20-\x7e\x80-\xff]/;
const DIGITS = /^[0-9]{1,15}$/;

/** A request as the route reads it (the fields of IncomingMessage it uses). */
export interface Http1Request {
  readonly method: string;
  readonly url: string;
  readonly httpVersion: '1.1';
  /** As received: [name, value, ...], names in the client's case, repeats kept. */
  readonly rawHeaders: string[];
  /** Built on first use, as IncomingMessage builds it. */
  readonly headers: IncomingHttpHeaders;
  readonly socket: Socket;
}

/** The framing of a request head this intake takes. */
export interface ParsedHead {
  readonly method: string;
  readonly url: string;
  readonly rawHeaders: string[];
  readonly body: 'none' | 'chunked' | number;
  readonly keepAlive: boolean;
}

/** What parseRequestHead makes of a head: taken, Node's to judge, or refused (400). */
export type HeadVerdict = { readonly kind: 'take'; readonly head: ParsedHead } | { readonly kind: 'fallback'; readonly why: string } | { readonly kind: 'refuse'; readonly why: string };

const fallback = (why: string): HeadVerdict => ({ kind: 'fallback', why });
const refuse = (why: string): HeadVerdict => ({ kind: 'refuse', why });

/** Removes SP and HTAB at both ends (String.trim also takes other whitespace, which is not OWS). */
function trimOws(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && (s.charCodeAt(a) === 32 || s.charCodeAt(a) === 9)) a++;
  while (b > a && (s.charCodeAt(b - 1) === 32 || s.charCodeAt(b - 1) === 9)) b--;
  return a === 0 && b === s.length ? s : s.slice(a, b);
}

/** Splits a header line into name and value, or undefined when it is not a plain `token: value` line. */
function fieldLine(line: string): [string, string] | undefined {
  const colon = line.indexOf(':');
  if (colon <= 0) return undefined;
  const name = line.slice(0, colon);
  const value = trimOws(line.slice(colon + 1));
  if (!FIELD_NAME.test(name) || BAD_VALUE.test(value)) return undefined;
  return [name, value];
}

/** Reads a request head (its bytes before CRLF CRLF, as latin1). */
export function parseRequestHead(text: string): HeadVerdict {
  const lines = text.split('\r\n');
  const m = REQUEST_LINE.exec(lines[0]!);
  if (!m) return fallback('request line');
  const raw: string[] = [];
  let length: number | undefined;
  let chunked = false;
  let encodings = 0;
  let host = false;
  let keepAlive = true;
  for (let i = 1; i < lines.length; i++) {
    const f = fieldLine(lines[i]!);
    if (!f) return fallback('header line');
    const [name, value] = f;
    raw.push(name, value);
    switch (name.length) {
      case 4:
        if (name.toLowerCase() === 'host') host = true;
        break;
      case 6:
        if (name.toLowerCase() === 'expect') return fallback('Expect');
        break;
      case 7:
        if (name.toLowerCase() === 'upgrade') return fallback('Upgrade');
        break;
      case 10:
        if (name.toLowerCase() === 'connection') {
          for (const t of value.toLowerCase().split(',')) {
            const token = trimOws(t);
            if (token === 'close') keepAlive = false;
            else if (token === 'upgrade') return fallback('Connection: upgrade');
          }
        }
        break;
      case 14:
        if (name.toLowerCase() === 'content-length') {
          // A second Content-Length, even an equal one, is llhttp's HPE_UNEXPECTED_CONTENT_LENGTH.
          if (length !== undefined) return refuse('duplicate Content-Length');
          if (!DIGITS.test(value)) return value.length > 15 && /^[0-9]+$/.test(value) ? fallback('long Content-Length') : refuse('bad Content-Length');
          length = Number(value);
        }
        break;
      case 17:
        if (name.toLowerCase() === 'transfer-encoding') {
          encodings++;
          chunked = value.toLowerCase() === 'chunked';
        }
        break;
    }
  }
  // Both framings at once is the classic smuggling vector; llhttp refuses it (HPE_INVALID_TRANSFER_ENCODING).
  if (encodings > 0 && length !== undefined) return refuse('Content-Length with Transfer-Encoding');
  if (encodings > 1 || (encodings === 1 && !chunked)) return fallback('transfer coding');
  if (!host) return fallback('no Host');
  const body = chunked ? 'chunked' : length === undefined || length === 0 ? 'none' : length;
  return { kind: 'take', head: { method: m[1]!, url: m[2]!, rawHeaders: raw, body, keepAlive } };
}

/** Headers IncomingMessage keeps only the first of (Node's matchKnownFields). */
const FIRST_ONLY = new Set(['age', 'authorization', 'content-length', 'content-type', 'etag', 'expires', 'from', 'host', 'if-modified-since', 'if-unmodified-since', 'last-modified', 'location', 'max-forwards', 'proxy-authorization', 'referer', 'retry-after', 'server', 'user-agent']);

/** The header object of a raw list, joined as IncomingMessage joins repeats; `keepFirst` false joins every repeat (as the router's response header edits always did). */
export function incomingHeaders(raw: readonly string[], keepFirst = true): IncomingHttpHeaders {
  const out: Record<string, string | string[]> = {};
  for (let i = 0; i < raw.length; i += 2) {
    const k = raw[i]!.toLowerCase();
    const v = raw[i + 1]!;
    const have = out[k];
    if (have === undefined) out[k] = k === 'set-cookie' ? [v] : v;
    else if (Array.isArray(have)) have.push(v);
    else if (!keepFirst || !FIRST_ONLY.has(k)) out[k] = `${have}${k === 'cookie' ? '; ' : ', '}${v}`;
  }
  return out as IncomingHttpHeaders;
}

class Request implements Http1Request {
  readonly httpVersion = '1.1';
  private built: IncomingHttpHeaders | undefined;

  constructor(
    readonly method: string,
    readonly url: string,
    readonly rawHeaders: string[],
    readonly socket: Socket,
  ) {}

  get headers(): IncomingHttpHeaders {
    return (this.built ??= incomingHeaders(this.rawHeaders));
  }
}

let date: string | undefined;
/** The Date header's value, made once a second (as Node's utcDate does). */
export function httpDate(): string {
  if (date === undefined) {
    date = new Date().toUTCString();
    setTimeout(() => (date = undefined), 1000 - (Date.now() % 1000)).unref();
  }
  return date;
}

/** A response of the listener's own (404, 503, a redirect): head and body, framed by Content-Length. */
export function ownResponse(status: number, body: string, headers: readonly (readonly [string, string])[], opts: { headRequest: boolean; close: boolean }): string {
  let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Unknown'}\r\n`;
  for (const [k, v] of headers) head += `${k}: ${v}\r\n`;
  head += `Date: ${httpDate()}\r\nConnection: ${opts.close ? 'close' : 'keep-alive'}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`;
  return opts.headRequest || status === 204 || status === 304 ? head : head + body;
}

/** What the listener does with the requests of a connection. */
export interface IntakeHandler {
  /** A request head was read; answer through conn (respond, or start/write/end), or conn.fallback() before returning. */
  request(conn: Http1Connection, req: Http1Request, body: 'none' | 'chunked' | number): void;
  /** The connection goes to Node's server from here, these bytes first. */
  fallback(socket: Socket, bytes: Buffer, state: unknown): void;
  /** The client sent what no server may take (the listener's 400, as Node's clientError handler answers). */
  refused(socket: Socket): void;
}

type Phase = 'idle' | 'head' | 'handling' | 'closed';
type BodyPhase = 'none' | 'length' | 'chunked' | 'done';

/** A request body is held to llhttp's rules; its trailers are checked as headers are and not forwarded (Node's client did not forward them either). */
export const REQUEST_CHUNKS: ChunkedBodyRules = { strict: true, maxLine: MAX_HEAD, field: fieldLine, keepTrailers: false, error: (m) => new Error(m) };

/** Every intake connection of a listener, for idle timeouts and closing. */
export class Http1Connections {
  private readonly open = new Set<Http1Connection>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly handler: IntakeHandler) {}

  /** Starts reading requests on socket. */
  serve(socket: Socket, pending?: Buffer): Http1Connection {
    const conn = new Http1Connection(socket, this.handler, this);
    this.open.add(conn);
    if (!this.timer) {
      // One sweep a second for every connection rather than a timer per request (Node's server keeps one per socket, refreshed per request).
      this.timer = setInterval(() => this.sweep(), 1000);
      this.timer.unref();
    }
    if (pending && pending.length > 0) conn.received(pending);
    return conn;
  }

  forget(conn: Http1Connection): void {
    this.open.delete(conn);
    if (this.open.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  /** Closes the idle ones now; busy ones close after their response (a listener draining). */
  closeIdle(): void {
    for (const c of this.open) c.closeWhenIdle();
  }

  get size(): number {
    return this.open.size;
  }

  private sweep(): void {
    for (const c of this.open) c.tick();
  }
}

/** One client connection read by the intake. */
export class Http1Connection {
  private phase: Phase = 'idle';
  private buf: Buffer | undefined;
  private ticks = 0;
  private closing = false;
  private peerEnded = false;
  // The request in flight.
  private bodyPhase: BodyPhase = 'none';
  private remaining = 0;
  private chunked: ChunkedBody | undefined;
  private onData: ((chunk: Buffer) => boolean) | undefined;
  private onEnd: (() => void) | undefined;
  private onGone: (() => void) | undefined;
  private keepAlive = true;
  private headRequest = false;
  private started = false;
  private responseDone = false;
  private chunkedOut = false;
  private pendingHead: string | undefined;
  /** The bytes from the current head on, while the handler may still hand the connection over. */
  private handOver: Buffer | undefined;
  private handedOver = false;
  private bodyPaused = false;

  constructor(
    readonly socket: Socket,
    private readonly handler: IntakeHandler,
    private readonly all: Http1Connections,
  ) {
    // The client's FIN is handled here (endListener), not by the socket ending itself meanwhile.
    socket.allowHalfOpen = true;
    socket.on('data', this.dataListener);
    socket.on('end', this.endListener);
    socket.on('error', this.errorListener);
    socket.once('close', this.closeListener);
  }

  private readonly dataListener = (chunk: Buffer): void => this.received(chunk);
  private readonly endListener = (): void => {
    // As Node's server (httpAllowHalfOpen false): the client's FIN aborts what it has not been answered yet.
    this.peerEnded = true;
    if (this.phase === 'handling' && !this.responseDone) this.gone();
    this.close();
  };
  private readonly errorListener = (): void => {
    this.socket.destroy();
  };
  private readonly closeListener = (): void => {
    const wasHandling = this.phase === 'handling' && !this.responseDone;
    this.phase = 'closed';
    this.all.forget(this);
    if (wasHandling) this.gone();
  };

  tick(): void {
    if (this.phase === 'idle' && ++this.ticks >= IDLE_TICKS) this.close();
    else if (this.phase === 'head' && ++this.ticks >= HEAD_TICKS) {
      // Node's headersTimeout: a head still incomplete after a minute (slowloris).
      this.phase = 'closed';
      this.socket.end('HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    }
  }

  closeWhenIdle(): void {
    this.closing = true;
    if (this.phase === 'idle') this.close();
  }

  private close(): void {
    if (this.phase === 'closed') return;
    this.phase = 'closed';
    if (this.socket.writableLength > 0) this.socket.end();
    else this.socket.destroy();
  }

  /** Bytes from the client. */
  received(chunk: Buffer): void {
    if (this.phase === 'closed') return;
    const buf = this.buf ? Buffer.concat([this.buf, chunk]) : chunk;
    if (this.phase === 'handling' && this.bodyPhase !== 'none') {
      this.buf = undefined;
      this.body(buf, 0);
      return;
    }
    this.buf = buf;
    if (this.phase === 'handling') {
      if (buf.length > MAX_PIPELINED) this.socket.pause();
      return;
    }
    this.serveBuffered();
  }

  /** Serves the requests waiting in the buffer, one after another, as long as each is answered at once (a loop, not a recursion, for a long pipeline of 404s). */
  private serveBuffered(): void {
    if (this.looping) {
      this.again = true;
      return;
    }
    this.looping = true;
    do {
      this.again = false;
      this.next();
    } while (this.again);
    this.looping = false;
  }

  private looping = false;
  private again = false;
  private inRequest = false;

  /** Reads the next request head from the buffer, if it is all there. */
  private next(): void {
    const buf = this.buf;
    if (!buf) {
      this.phase = 'idle';
      this.ticks = 0;
      return;
    }
    let at = 0;
    // RFC 9112 2.2: empty lines before a request line are ignored (some clients send CRLF after a body).
    while (at + 1 < buf.length && buf[at] === 13 && buf[at + 1] === 10) at += 2;
    const end = buf.indexOf(CRLFCRLF, at);
    if (end < 0 || end - at > MAX_HEAD) {
      if (end >= 0 || buf.length - at > MAX_HEAD) return this.fallback(buf.subarray(at), undefined);
      if (this.phase === 'idle') this.ticks = 0;
      this.phase = 'head';
      return;
    }
    const verdict = parseRequestHead(buf.toString('latin1', at, end));
    if (verdict.kind === 'fallback') return this.fallback(buf.subarray(at), undefined);
    if (verdict.kind === 'refuse') {
      this.phase = 'closed';
      this.socket.removeListener('data', this.dataListener);
      this.handler.refused(this.socket);
      return;
    }
    const head = verdict.head;
    this.phase = 'handling';
    this.keepAlive = head.keepAlive && !this.closing;
    this.headRequest = head.method === 'HEAD';
    this.started = false;
    this.responseDone = false;
    this.pendingHead = undefined;
    this.onData = this.onEnd = this.onGone = undefined;
    this.chunked = undefined;
    if (head.body === 'none') this.bodyPhase = 'none';
    else if (head.body === 'chunked') {
      this.bodyPhase = 'chunked';
      this.chunked = new ChunkedBody(REQUEST_CHUNKS);
    } else {
      this.bodyPhase = 'length';
      this.remaining = head.body;
    }
    this.buf = undefined;
    this.handOver = buf.subarray(at);
    this.inRequest = true;
    this.handler.request(this, new Request(head.method, head.url, head.rawHeaders, this.socket), head.body);
    this.inRequest = false;
    this.handOver = undefined;
    // The handler may have answered and closed the connection meanwhile.
    if (this.handedOver || (this.phase as Phase) === 'closed') return;
    const rest = end + 4;
    if (this.bodyPhase !== 'none') {
      if (rest < buf.length) this.body(buf, rest);
      return;
    }
    if (rest < buf.length) this.buf = buf.subarray(rest);
    if (this.responseDone) this.finished();
  }

  /** Hands the connection, from the current request on, to Node's server. Only during IntakeHandler.request, or for a head this intake does not take. */
  fallback(bytes: Buffer | undefined = this.handOver, state?: unknown): void {
    if (!bytes) throw new Error('the connection can only be handed over before its request is answered');
    this.handedOver = true;
    this.phase = 'closed';
    this.all.forget(this);
    const s = this.socket;
    s.removeListener('data', this.dataListener);
    s.removeListener('end', this.endListener);
    s.removeListener('error', this.errorListener);
    s.removeListener('close', this.closeListener);
    this.buf = undefined;
    this.handler.fallback(s, bytes, state);
  }

  /** The request body: chunks to `data` (false pauses the client until resumeBody()), then `end`. Without it, the body is read and dropped. */
  readBody(data: (chunk: Buffer) => boolean, end: () => void): void {
    this.onData = data;
    this.onEnd = end;
  }

  resumeBody(): void {
    if (!this.bodyPaused) return;
    this.bodyPaused = false;
    if (this.phase !== 'closed') this.socket.resume();
  }

  /** Called once if the client goes (or the request turns out malformed) before the response ended. */
  onAbort(fn: () => void): void {
    this.onGone = fn;
  }

  private body(buf: Buffer, from: number): void {
    let at = from;
    try {
      while (at < buf.length) {
        switch (this.bodyPhase) {
          case 'length': {
            const n = Math.min(this.remaining, buf.length - at);
            this.remaining -= n;
            this.deliver(at === 0 && n === buf.length ? buf : buf.subarray(at, at + n));
            at += n;
            if (this.remaining === 0) this.bodyPhase = 'done';
            break;
          }
          case 'chunked': {
            const next = this.chunked!.read(buf, at, this.deliverPiece);
            if (next === NEED_MORE) return this.keep(buf, at);
            at = next;
            if (this.chunked!.done) this.bodyPhase = 'done';
            break;
          }
          case 'none':
          case 'done':
            break;
        }
        if (this.bodyPhase === 'done') {
          this.bodyPhase = 'none';
          const end = this.onEnd;
          this.onData = this.onEnd = undefined;
          if (at < buf.length) this.buf = buf.subarray(at);
          end?.();
          if (this.responseDone) this.finished();
          return;
        }
      }
    } catch {
      this.malformedBody();
    }
  }

  /** Holds an incomplete chunk line until more bytes come. */
  private keep(buf: Buffer, at: number): void {
    this.buf = Buffer.from(buf.subarray(at));
  }

  private readonly deliverPiece = (chunk: Buffer): void => this.deliver(chunk);

  private deliver(chunk: Buffer): void {
    if (chunk.length === 0 || !this.onData) return;
    if (!this.onData(chunk) && !this.bodyPaused) {
      this.bodyPaused = true;
      this.socket.pause();
    }
  }

  private malformedBody(): void {
    this.bodyPhase = 'none';
    this.gone();
    if (!this.started && this.phase !== 'closed') {
      this.phase = 'closed';
      this.handler.refused(this.socket);
    } else this.socket.destroy();
  }

  private gone(): void {
    const fn = this.onGone;
    this.onGone = undefined;
    this.onData = this.onEnd = undefined;
    fn?.();
  }

  /** Ends the request badly: the client connection is cut (the backend failed after the response started, or the body was cut short). */
  abort(): void {
    this.gone();
    this.socket.destroy();
  }

  /** Whether a response head has been sent (or is on its way). */
  get responseStarted(): boolean {
    return this.started;
  }

  /** Whether the response to the current request can still be written. */
  get open(): boolean {
    return this.phase === 'handling' && !this.responseDone;
  }

  /** Whether the response goes out with Connection: close. */
  get closeAfter(): boolean {
    return !this.keepAlive || this.closing || this.peerEnded;
  }

  get isHeadRequest(): boolean {
    return this.headRequest;
  }

  /** An answer of the listener's own, whole. */
  respond(status: number, body: string, headers: readonly (readonly [string, string])[] = [], close = false): void {
    if (close) this.keepAlive = false;
    this.started = true;
    this.socket.write(ownResponse(status, body, headers, { headRequest: this.headRequest, close: this.closeAfter }), 'latin1');
    this.responseEnded();
  }

  /**
   * Starts a response: `head` is the status line and headers, CRLF-terminated lines without
   * the empty line, and without Connection or framing headers, which this adds (and Date
   * unless `hasDate`): `body`
   * 'chunked' encodes what follows, a number is its Content-Length, 'none' sends none (and
   * leaves a Content-Length in head alone, as for HEAD and 304).
   */
  start(head: string, body: 'none' | 'chunked' | number, hasDate = false): void {
    this.started = true;
    this.chunkedOut = body === 'chunked';
    const framing = body === 'chunked' ? 'Transfer-Encoding: chunked\r\n' : body === 'none' ? '' : `Content-Length: ${body}\r\n`;
    this.pendingHead = `${head}${hasDate ? '' : `Date: ${httpDate()}\r\n`}Connection: ${this.closeAfter ? 'close' : 'keep-alive'}\r\n${framing}\r\n`;
    // The head goes with the first piece of the body; one that arrives alone goes out once this turn of the loop is done.
    queueMicrotask(this.flushHead);
  }

  private readonly flushHead = (): void => {
    const head = this.pendingHead;
    if (head === undefined) return;
    this.pendingHead = undefined;
    if (this.phase !== 'closed') this.socket.write(head, 'latin1');
  };

  /** A piece of the response body; false when the client's socket is full (wait for onDrain). */
  write(chunk: Buffer): boolean {
    if (this.headRequest || chunk.length === 0) return true;
    const s = this.socket;
    const head = this.pendingHead;
    this.pendingHead = undefined;
    if (head === undefined && !this.chunkedOut) return s.write(chunk);
    s.cork();
    if (head !== undefined) s.write(head, 'latin1');
    if (this.chunkedOut) s.write(`${chunk.length.toString(16)}\r\n`, 'latin1');
    s.write(chunk);
    const more = this.chunkedOut ? s.write(CRLF) : true;
    s.uncork();
    return more && !s.writableNeedDrain;
  }

  onDrain(fn: () => void): void {
    this.socket.once('drain', fn);
  }

  /** The response is complete; `trailers` as [name, value, ...] for a chunked one. */
  end(chunk?: Buffer, trailers?: readonly string[]): void {
    if (!this.open) return;
    const s = this.socket;
    const head = this.pendingHead;
    if (chunk && head !== undefined && !this.chunkedOut && !this.headRequest && chunk.length <= ONE_WRITE) {
      // A small answer whole, as most are: head and body in one buffer, one write, rather than a corked writev of two.
      this.pendingHead = undefined;
      const out = Buffer.allocUnsafe(head.length + chunk.length);
      out.write(head, 0, 'latin1');
      chunk.copy(out, head.length);
      s.write(out);
      this.responseEnded();
      return;
    }
    s.cork();
    if (chunk) this.write(chunk);
    this.flushHead();
    if (this.chunkedOut && !this.headRequest) {
      if (trailers && trailers.length > 0) {
        let t = '0\r\n';
        for (let i = 0; i < trailers.length; i += 2) t += `${trailers[i]!}: ${trailers[i + 1]!}\r\n`;
        s.write(`${t}\r\n`, 'latin1');
      } else s.write(LAST_CHUNK);
    }
    s.uncork();
    this.responseEnded();
  }

  private responseEnded(): void {
    this.responseDone = true;
    this.onGone = undefined;
    if (this.closeAfter) {
      this.phase = 'closed';
      this.socket.end();
      return;
    }
    // The rest of the request body still comes: read it (and drop it) before the next request.
    if (this.bodyPhase === 'none') this.finished();
    else {
      this.onData = undefined;
      this.resumeBody();
    }
  }

  /** Request and response both complete: on to the next request, pipelined or not yet sent. */
  private finished(): void {
    // Inside IntakeHandler.request: next() goes on once it returns.
    if (this.phase !== 'handling' || this.inRequest) return;
    if (this.peerEnded && !this.buf) return this.close();
    if (this.socket.isPaused()) this.socket.resume();
    this.phase = 'idle';
    this.ticks = 0;
    if (!this.buf) return;
    // A pipelined request waits for the exchange that just ended to give its backend connection back (it does once this call returns).
    if (this.looping) this.serveBuffered();
    else queueMicrotask(this.serveLater);
  }

  private readonly serveLater = (): void => {
    if (this.phase === 'idle') this.serveBuffered();
  };
}
