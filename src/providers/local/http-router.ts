// An L7 listener (HTTP, or HTTPS terminating TLS), shared by Ingresses and Gateways: the
// LB's route decides per request (Ingress: model/routes.ts's matchRoute; Gateway:
// gateway-http.ts over model/gateway-match.ts) either an answer of its own (404, a
// redirect, 500) or a target set plus what to change on the way (path, Host, headers,
// response headers, timeouts, mirrors, HTTP/2 to the backend); this module picks the
// target and proxies.
//
// - The common forward (an HTTP/1.1 backend, no mirror, no upgrade) goes through lbc's own
//   HTTP/1.1 client (upstream-http1.ts), a third of http.request's cost; h2c, upgrades and
//   mirrors keep http.request / node:http2.
// - Bodies stream both ways through pipes: nothing is buffered beyond the socket buffers,
//   so a 20 MB upload or download starts at once and holds no more memory than a small one.
// - An Upgrade (WebSocket) request gets its own connection to the target; once the target
//   answers 101 the two sockets are spliced.
// - A target that refuses or resets before answering gives 502; after the response has
//   started, the client connection is cut (there is no honest way to say 502 then).
// - A timeout (Gateway HTTPRouteTimeouts) before the response starts gives 504, as the
//   specification asks ("MUST return a timeout error"); after, the response is cut.
// - No route: 404 as ingress-nginx's default backend says it. A route to a target set with
//   no targets: 503.
// - HTTP/1.1 requests are read by lbc's own intake (http1-intake.ts) on net/tls sockets;
//   what it does not take (upgrades, CONNECT, Expect, HTTP/1.0, anything unusual) and
//   routes it does not forward itself (h2c or mirrors or timeouts) go, connection and all,
//   to Node's http.Server as before.
// - Gateway listeners also speak HTTP/2: with ALPN `h2` on HTTPS, and h2c with prior
//   knowledge on HTTP (the connection preface is sniffed, so HTTP/1.1 keeps working on the
//   same port); gRPC goes through that way, with its trailers, to h2c backends.
import { createServer as createHttpServer, request, validateHeaderName, validateHeaderValue, type Agent, type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders, type Server as HttpServer, type ServerResponse } from 'node:http';
import {
  connect as h2connect,
  constants as h2constants,
  createServer as createH2Server,
  type ClientHttp2Session,
  type Http2Server,
  type Http2ServerRequest,
  type Http2ServerResponse,
  type Http2Session,
  type IncomingHttpHeaders as H2IncomingHeaders,
} from 'node:http2';
import type { Duplex } from 'node:stream';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { createSecureContext, createServer as createTlsServer, TLSSocket, type SecureContext, type Server as TlsServer } from 'node:tls';
import type { Target } from './balancer.js';
import { listenTcp } from './bind.js';
import { ConnectionTracker } from './connections.js';
import { Http1Connections, incomingHeaders, type Http1Connection, type Http1Request } from './http1-intake.js';
import { PEER_KEYS, replayed } from './replay.js';
import { clientAddress } from './tcp-proxy.js';
import { serverTlsOptions } from './tls.js';
import type { TargetSetRuntime } from './target-set.js';
import type { UpstreamHandlers, UpstreamPool, UpstreamResponseHead } from './upstream-http1.js';
/** A request Node's servers read (the paths the intake hands over). */
type NodeRequest = IncomingMessage | Http2ServerRequest;
export type L7Request = NodeRequest | Http1Request;
type L7Response = ServerResponse | Http2ServerResponse;

/** What to change on the way to and from the backend (Gateway filters and timeouts). */
export interface ForwardEdits {
  /** Replaces the request target (path and query). */
  readonly url?: string;
  /** Replaces the Host header. */
  readonly host?: string;
  /** Edits the headers sent to the backend (names are lower case). */
  readonly requestHeaders?: (h: OutgoingHttpHeaders) => void;
  /** Edits the headers sent back to the client (names are lower case). */
  readonly responseHeaders?: (h: OutgoingHttpHeaders) => void;
  /** Client request to end of response (HTTPRouteTimeouts.request); 0 or absent: none. */
  readonly requestTimeoutMs?: number;
  /** One attempt at the backend (HTTPRouteTimeouts.backendRequest); 0 or absent: none. */
  readonly backendTimeoutMs?: number;
  /** Each gets a copy of the request; their answers are dropped. */
  readonly mirrors?: readonly TargetSetRuntime[];
  /** h2c: HTTP/2 with prior knowledge to the backend (gRPC, appProtocol kubernetes.io/h2c). */
  readonly protocol?: 'http1' | 'h2c';
}

export type L7Decision =
  | { readonly kind: 'respond'; readonly status: number; readonly headers?: OutgoingHttpHeaders; readonly body?: string }
  | ({ readonly kind: 'forward'; readonly targetSet: TargetSetRuntime } & ForwardEdits);

export interface L7Route {
  allow(clientIp: string): boolean;
  /** What serves the request: a target set (with edits) or an answer of the LB's own. */
  resolve(req: L7Request, proto: 'http' | 'https'): L7Decision;
  /** Keep-alive connections to targets, shared by the LB's listeners. */
  readonly agent: Agent;
  /** HTTP/2 sessions to h2c targets, shared the same way. */
  readonly h2c?: H2cSessions;
  /** The lean HTTP/1.1 client's keep-alive connections (the common forward); without it, every forward takes the agent. */
  readonly upstream?: UpstreamPool;
}

/** What an HTTPS listener asks of its certificates: one for clients without SNI, and one per server name. */
export interface CertificateSource {
  readonly fallback: { cert: string; key: string } | undefined;
  select(servername: string): SecureContext | undefined;
}

export const notFound: L7Decision = { kind: 'respond', status: 404, body: 'default backend - 404\n' };

/** Hop-by-hop headers (RFC 9110 7.6.1) belong to one connection and are not forwarded. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'http2-settings']);

/** The header names the Connection header lists: they belong to this connection too (RFC 9110 7.6.1). */
function connectionTokens(connection: unknown, keepUpgrade: boolean): Set<string> | undefined {
  // Most requests and responses name nothing, or only keep-alive/close: no set to build then.
  if (connection === undefined) return undefined;
  const named = new Set(
    String(connection)
      .split(',')
      .map((t) => t.trim().toLowerCase())
      .filter((t) => t !== '' && t !== 'keep-alive' && t !== 'close' && !(keepUpgrade && t === 'upgrade')),
  );
  return named.size > 0 ? named : undefined;
}

function withoutHopByHop(headers: IncomingHttpHeaders | H2IncomingHeaders, keepUpgrade = false): OutgoingHttpHeaders {
  const named = connectionTokens(headers.connection, keepUpgrade);
  const out: OutgoingHttpHeaders = {};
  for (const k in headers) {
    const v = headers[k];
    // HTTP/2 pseudo-headers (`:path`, `:status`) are the message's frame, not its headers.
    if (v === undefined || k.charCodeAt(0) === 58 || named?.has(k) || (HOP_BY_HOP.has(k) && !(keepUpgrade && (k === 'upgrade' || k === 'connection')))) continue;
    out[k] = v;
  }
  if (keepUpgrade) out.connection = 'upgrade';
  return out;
}

/**
 * A backend's HTTP/1 response headers for the client as the flat [name, value, ...] list
 * writeHead takes: the raw list as received, less hop-by-hop headers, so that the common
 * response (no header edits) costs no header object either way.
 */
function rawWithoutHopByHop(raw: readonly string[]): string[] {
  let named: Set<string> | undefined;
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.length === 10 && raw[i]!.toLowerCase() === 'connection') named = connectionTokens(raw[i + 1], false);
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const k = raw[i]!.toLowerCase();
    if (HOP_BY_HOP.has(k) || named?.has(k)) continue;
    out.push(raw[i]!, raw[i + 1]!);
  }
  return out;
}

/** A raw header list as the object header edits and HTTP/2 take: names lower case, every repeat joined (Set-Cookie a list). */
function headerObject(raw: readonly string[]): OutgoingHttpHeaders {
  return incomingHeaders(raw, false);
}

/** The Host of a request, whichever HTTP version carried it. */
export function requestHost(req: L7Request): string {
  if (!('stream' in req)) {
    // Read from the raw list: req.headers is built on first use, and the common forward needs it nowhere else.
    const raw = req.rawHeaders;
    for (let i = 0; i < raw.length; i += 2) if (raw[i]!.length === 4 && raw[i]!.toLowerCase() === 'host') return raw[i + 1]!;
    return '';
  }
  const h = req.headers[':authority'] ?? req.headers.host;
  return typeof h === 'string' ? h : '';
}

export function forwardedHeaders(req: L7Request, clientIp: string, proto: 'http' | 'https', keepUpgrade = false): OutgoingHttpHeaders {
  const out = withoutHopByHop(req.headers, keepUpgrade);
  const prior = req.headers['x-forwarded-for'];
  const chain = Array.isArray(prior) ? prior.join(', ') : prior;
  out['x-forwarded-for'] = chain ? `${chain}, ${clientIp}` : clientIp;
  out['x-forwarded-proto'] = proto;
  const host = requestHost(req);
  if (host !== '') {
    out.host = host;
    out['x-forwarded-host'] = host;
  }
  if (req.socket.localPort !== undefined) out['x-forwarded-port'] = String(req.socket.localPort);
  return out;
}

/** A body-less request can be sent again as is when a reused keep-alive connection turns out closed. */
function replayable(req: NodeRequest): boolean {
  const m = req.method ?? 'GET';
  if ('stream' in req) return req.stream.endAfterHeaders && ['GET', 'HEAD', 'OPTIONS'].includes(m);
  const noBody = (req.headers['content-length'] === undefined || req.headers['content-length'] === '0') && req.headers['transfer-encoding'] === undefined;
  return noBody && ['GET', 'HEAD', 'OPTIONS'].includes(m);
}

function rawResponse(status: number, reason: string, body: string, headers: OutgoingHttpHeaders = {}): string {
  const extra = Object.entries(headers).map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(', ') : String(v)}\r\n`);
  return `HTTP/1.1 ${status} ${reason}\r\nContent-Type: text/plain; charset=utf-8\r\n${extra.join('')}Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
}

function isH2(res: L7Response): res is Http2ServerResponse {
  return 'stream' in res;
}

function writeHead(res: L7Response, status: number, headers: OutgoingHttpHeaders, message?: string): void {
  if (isH2(res)) res.writeHead(status, headers);
  else if (message !== undefined) res.writeHead(status, message, headers);
  else res.writeHead(status, headers);
}

function answer(res: L7Response, status: number, body: string, headers: OutgoingHttpHeaders = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  writeHead(res, status, { 'content-type': 'text/plain; charset=utf-8', ...headers });
  res.end(body);
}

/** HTTP/2 sessions to h2c targets, one per target, reopened when one closes. */
export class H2cSessions {
  private readonly sessions = new Map<string, ClientHttp2Session>();

  get(target: Target): ClientHttp2Session {
    const have = this.sessions.get(target.key);
    if (have && !have.closed && !have.destroyed) return have;
    const s = h2connect(`http://${target.host.includes(':') ? `[${target.host}]` : target.host}:${target.port}`);
    s.on('error', () => s.destroy());
    s.once('close', () => {
      if (this.sessions.get(target.key) === s) this.sessions.delete(target.key);
    });
    s.unref();
    this.sessions.set(target.key, s);
    return s;
  }

  close(): void {
    for (const s of this.sessions.values()) s.destroy();
    this.sessions.clear();
  }
}

export interface HttpListenerOptions {
  /** HTTPS: terminate TLS with these certificates (by SNI). */
  readonly certs?: CertificateSource;
  /** Also serve HTTP/2 (h2 by ALPN on HTTPS, h2c by prior knowledge on HTTP): Gateway listeners. */
  readonly http2?: boolean;
}

const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
/** A TLS handshake over a connection handed over by accept() is cut after this long, as Node's tls.Server default. */
const HANDSHAKE_TIMEOUT_MS = 120_000;

export class HttpProxyListener {
  /** The server that owns the listening socket. */
  readonly server: NetServer | TlsServer;
  /** Node's HTTP/1 server for what the intake hands over. */
  private readonly http1: HttpServer;
  private readonly h2?: Http2Server;
  private readonly intake: Http1Connections;
  /** A decision made by the intake for a request it then handed over, so that Node's server does not route it twice (a mirror's percent is a coin toss). */
  private readonly decided = new WeakMap<object, L7Decision>();
  private readonly conns = new ConnectionTracker();
  private readonly sessions = new Set<Http2Session>();
  private readonly proto: 'http' | 'https';
  private adopted: NetServer | undefined;
  /** HTTPS: completes the handshake over a connection accepted elsewhere (accept()) and serves it. */
  private readonly handshake?: (connection: Duplex) => void;
  /** HTTPS: the certificate for clients without SNI (or with a name no certificate has), as the server's own. */
  private fallback?: { cert: string; key: string };
  /** Its context for accept()'s handshakes, made at the first one after each refresh (most listeners never get one). */
  private fallbackContext?: SecureContext;

  constructor(
    readonly host: string,
    readonly port: number,
    private readonly route: L7Route,
    opts: HttpListenerOptions = {},
  ) {
    // requestTimeout 0: an upload through a proxy may legitimately take longer than Node's 300 s default.
    const common = { requestTimeout: 0 };
    const certs = opts.certs;
    // As Node's http.Server: a client's half-close still gets its answer, and small writes are not held back (Nagle).
    const sockets = { allowHalfOpen: true, noDelay: true };
    this.http1 = createHttpServer(common);
    const intake = (this.intake = new Http1Connections(this.intakeHandler()));
    const h2 = opts.http2 ? (this.h2 = createH2Server()) : undefined;
    // Plain connections: the intake, or first the sniff for h2c; TLS ones are served once the handshake is done.
    let serve: ((socket: Socket) => void) | undefined;
    if (certs) {
      const fallback = certs.fallback;
      if (!fallback) throw new Error('an HTTPS listener needs at least one certificate');
      this.proto = 'https';
      const SNICallback = (servername: string, cb: (e: Error | null, ctx?: SecureContext) => void): void => cb(null, certs.select(servername));
      const tls = { ...fallback, ...serverTlsOptions(), SNICallback };
      const ALPNProtocols = h2 ? ['h2', 'http/1.1'] : ['http/1.1'];
      // HTTP/1.1 (by ALPN, or with none) goes to the intake, HTTP/2 (ALPN h2) to the HTTP/2 server over the same TLS socket.
      const secured = (socket: TLSSocket): void => {
        if (h2 && socket.alpnProtocol === 'h2') h2.emit('connection', socket);
        else intake.serve(socket);
      };
      const secure = createTlsServer({ ...tls, ...sockets, ALPNProtocols });
      secure.on('secureConnection', secured);
      this.server = secure;
      this.fallback = fallback;
      // Node's tls.Server would wrap a handed-over stream in a TLSSocket whose remoteAddress
      // is empty (its handle has no peer), losing the client for X-Forwarded-For and
      // everything else that reads clientAddress(req.socket); the TLSSocket made here is
      // given the client's address, and the handshake is the server's: same certificates
      // by SNI, ALPN, TLS options.
      this.handshake = (connection) => {
        const secureContext = (this.fallbackContext ??= createSecureContext({ ...this.fallback, ...serverTlsOptions() }));
        const socket = new TLSSocket(connection as Socket, { isServer: true, secureContext, SNICallback, ALPNProtocols });
        for (const key of PEER_KEYS) Object.defineProperty(socket, key, { value: (connection as Partial<Socket>)[key], enumerable: true });
        const timer = setTimeout(() => socket.destroy(), HANDSHAKE_TIMEOUT_MS);
        timer.unref();
        // Before the handshake is done a TLSSocket not made by a server reports its errors
        // only by closing; after it, what serves the socket handles them.
        socket.on('error', () => socket.destroy());
        socket.once('close', () => {
          clearTimeout(timer);
          connection.destroy();
        });
        connection.once('close', () => socket.destroy());
        // The client stopped sending before the handshake was done (e.g. it refused the
        // certificate): half-open (allowHalfOpen) the socket would stay open for good.
        const cut = (): void => void socket.destroy();
        socket.once('end', cut);
        socket.once('secure', () => {
          clearTimeout(timer);
          socket.off('end', cut);
          // What Node's tls.Server does before it emits secureConnection (a public, untyped field):
          // while it is set, an HTTP/2 session waits for 'secureConnect', a client's event.
          (socket as TLSSocket & { secureConnecting: boolean }).secureConnecting = false;
          if (!socket.destroyed) secured(socket);
        });
      };
    } else {
      this.proto = 'http';
      this.server = createNetServer(sockets);
      // Plain HTTP/2 (h2c) has no ALPN: the first bytes say which protocol the client speaks.
      serve = h2 ? (socket) => this.sniff(socket) : (socket) => intake.serve(socket);
    }
    if (h2) this.serve(h2);
    this.server.on('connection', (socket: Socket) => {
      if (this.admit(socket)) serve?.(socket);
    });
    this.serve(this.http1);
    this.server.on('error', () => {
      // After listen, errors belong to single connections.
    });
  }

  private serve(server: HttpServer | Http2Server): void {
    server.on('request', (req: NodeRequest, res: L7Response) => this.handle(req, res));
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.upgrade(req, socket, head));
    server.on('session', (session: Http2Session) => {
      this.sessions.add(session);
      session.once('close', () => this.sessions.delete(session));
    });
    server.on('clientError', (_e: unknown, socket: Duplex) => {
      if (socket.writable) socket.end(rawResponse(400, 'Bad Request', 'bad request\n'));
      else socket.destroy();
    });
  }

  /** Counts the connection, and resets it unless sourceRanges let its client in. */
  private admit(socket: Socket): boolean {
    this.conns.add(socket);
    const ip = clientAddress(socket);
    if (ip !== undefined && this.route.allow(ip)) return true;
    // A connection handed over by accept() is a stream over the socket, which has no RST of its own.
    if (typeof socket.resetAndDestroy === 'function') socket.resetAndDestroy();
    else socket.destroy();
    return false;
  }

  /** Hands the connection to the HTTP/1 or the HTTP/2 server by its first bytes. */
  private sniff(socket: Socket): void {
    if (socket.destroyed) return;
    let seen = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      seen = Buffer.concat([seen, chunk]);
      const n = Math.min(seen.length, H2_PREFACE.length);
      const h2 = seen.subarray(0, n).equals(H2_PREFACE.subarray(0, n));
      if (h2 && n < H2_PREFACE.length) return;
      socket.off('data', onData);
      socket.pause();
      if (h2) {
        this.h2?.emit('connection', replayed(socket, seen));
        return;
      }
      this.intake.serve(socket, seen);
      socket.resume();
    };
    socket.on('data', onData);
    socket.on('error', () => socket.destroy());
  }

  async listen(): Promise<void> {
    await listenTcp(this.server, this.host, this.port, this.proto.toUpperCase());
  }

  /** A connection accepted elsewhere (a Gateway TLS port that gave this name to HTTPS), served as if accepted here. */
  accept(connection: Duplex): void {
    if (!this.handshake) {
      this.server.emit('connection', connection);
      return;
    }
    if (this.admit(connection as Socket)) this.handshake(connection);
  }

  /** Serves the connections another process's listening socket hands this one (an L7 worker). */
  adopt(listening: NetServer): void {
    this.adopted = listening;
    listening.on('connection', (socket: Socket) => {
      // The listening socket came over IPC as a plain net.Server, without the options this listener's own server has.
      socket.allowHalfOpen = true;
      socket.setNoDelay(true);
      this.server.emit('connection', socket);
    });
    listening.on('error', () => undefined);
  }

  get boundPort(): number {
    const a = this.server.address();
    return a !== null && typeof a === 'object' ? a.port : this.port;
  }

  get connections(): number {
    return this.conns.size;
  }

  /** Puts the store's current first certificate in place for clients without SNI; SNI reads the store live. */
  refreshCertificates(certs: CertificateSource): void {
    const fallback = certs.fallback;
    if (fallback && 'setSecureContext' in this.server) {
      this.server.setSecureContext(fallback);
      this.fallback = fallback;
      this.fallbackContext = undefined;
    }
  }

  async close(graceMs: number): Promise<void> {
    this.server.close();
    this.adopted?.close();
    // HTTP/2 clients get GOAWAY: streams in flight finish, new ones go to a new connection.
    for (const s of this.sessions) s.close();
    await this.conns.drain(graceMs, () => {
      this.intake.closeIdle();
      for (const srv of [this.server, this.http1]) if (srv && 'closeIdleConnections' in srv) srv.closeIdleConnections();
    });
  }

  /** Cuts every connection now, ending a drain early (shutdown). */
  abort(): void {
    this.server.close();
    this.adopted?.close();
    for (const s of this.sessions) s.destroy();
    this.conns.destroyAll();
  }

  private handle(req: NodeRequest, res: L7Response): void {
    const ip = clientAddress(req.socket) ?? '';
    const d = this.decided.get(req.socket) ?? this.resolve(req);
    this.decided.delete(req.socket);
    if (d.kind === 'respond') {
      req.resume();
      answer(res, d.status, d.body ?? '', d.headers);
      return;
    }
    const ts = d.targetSet;
    const target = ts.choose(ip);
    if (!target) {
      req.resume();
      answer(res, 503, '503 Service Unavailable: no endpoints\n');
      return;
    }
    const release = ts.connected(ip, target);
    if (d.requestTimeoutMs) this.deadline(res, d.requestTimeoutMs, () => undefined);
    if (this.route.upstream && d.protocol !== 'h2c' && !d.mirrors?.length) {
      this.forwardHttp1(this.route.upstream, req, res, ip, target, d, release);
      return;
    }
    res.once('close', release);
    for (const m of d.mirrors ?? []) this.mirror(req, ip, m, d);
    if (d.protocol === 'h2c') this.forwardH2c(req, res, ip, target, d);
    else this.forward(req, res, ip, target, d, false);
  }

  private resolve(req: L7Request): L7Decision {
    try {
      return this.route.resolve(req, this.proto);
    } catch {
      return { kind: 'respond', status: 500, body: '500 Internal Server Error\n' };
    }
  }

  /** What the intake asks of this listener. */
  private intakeHandler(): ConstructorParameters<typeof Http1Connections>[0] {
    return {
      request: (conn, req, body) => this.serveHttp1(conn, req, body),
      fallback: (socket, bytes, decision) => {
        if (decision) this.decided.set(socket, decision as L7Decision);
        socket.pause();
        socket.unshift(bytes);
        this.http1.emit('connection', socket);
        socket.resume();
      },
      refused: (socket) => {
        if (socket.writable) socket.end(rawResponse(400, 'Bad Request', 'bad request\n'));
        else socket.destroy();
      },
    };
  }

  /** A request the intake read: answered here, forwarded over the lean client, or handed to Node's server with the decision made. */
  private serveHttp1(conn: Http1Connection, req: Http1Request, body: 'none' | 'chunked' | number): void {
    const d = this.resolve(req);
    if (d.kind === 'respond') {
      ownAnswer(conn, d.status, d.body ?? '', d.headers);
      return;
    }
    const pool = this.route.upstream;
    if (!pool || d.protocol === 'h2c' || d.mirrors?.length || d.requestTimeoutMs || d.backendTimeoutMs) {
      conn.fallback(undefined, d);
      return;
    }
    const ip = clientAddress(req.socket) ?? '';
    const ts = d.targetSet;
    const target = ts.choose(ip);
    if (!target) {
      ownAnswer(conn, 503, '503 Service Unavailable: no endpoints\n');
      return;
    }
    const release = ts.connected(ip, target);
    let out: { head: string; body: 'none' | 'chunked' | number } | undefined;
    try {
      out = d.host === undefined && d.requestHeaders === undefined ? rawRequestHead(req, d.url, ip, this.proto, target) : undefined;
      out ??= this.editedRequestHead(req, ip, target, d);
    } catch {
      release();
      ownAnswer(conn, 500, '500 Internal Server Error\n');
      return;
    }
    let complete = false;
    let released = false;
    const done = (): void => {
      complete = true;
      if (released) return;
      released = true;
      release();
    };
    const on: UpstreamHandlers = {
      head: (h, hasBody, length) => {
        if (!conn.open || conn.responseStarted) return exchange.abort();
        const head = responseHead(h, hasBody, d);
        if (head === undefined) {
          // A header or status text Node would not send either (a control character): the backend's answer is unusable.
          exchange.abort();
          done();
          ownAnswer(conn, 502, '502 Bad Gateway\n');
          return;
        }
        conn.start(head.text, !hasBody ? 'none' : (length ?? 'chunked'), head.hasDate);
      },
      data: (chunk, last) => {
        if (last) {
          done();
          conn.end(chunk);
          return true;
        }
        if (conn.write(chunk)) return true;
        conn.onDrain(() => exchange.resume());
        return false;
      },
      end: (trailers) => {
        if (complete) return;
        done();
        conn.end(undefined, trailers && validHeaders(rawWithoutHopByHop(trailers)));
      },
      error: () => {
        done();
        if (conn.responseStarted) conn.abort();
        else ownAnswer(conn, 502, '502 Bad Gateway\n', undefined, true);
      },
    };
    const method = req.method;
    const idempotent = method === 'GET' || method === 'HEAD' || method === 'OPTIONS';
    const exchange = pool.request(target, { head: out.head, body: out.body, headRequest: method === 'HEAD', replayable: idempotent && out.body === 'none' }, on);
    conn.onAbort(() => {
      // The client left (or its body was malformed): the backend's answer has nowhere to go.
      if (!complete) exchange.abort();
      done();
    });
    if (body === 'none') return;
    conn.readBody(
      (chunk) => {
        if (exchange.write(chunk)) return true;
        exchange.onDrain(() => conn.resumeBody());
        return false;
      },
      () => exchange.end(),
    );
  }

  /** Answers 504 (or cuts a response already started) when ms pass before the response ends. */
  private deadline(res: L7Response, ms: number, onFire: () => void): () => void {
    const timer = setTimeout(() => {
      onFire();
      answer(res, 504, '504 Gateway Timeout\n');
    }, ms);
    const stop = (): void => clearTimeout(timer);
    res.once('close', stop);
    res.once('finish', stop);
    return stop;
  }

  private upstreamHeaders(req: L7Request, ip: string, d: ForwardEdits, keepUpgrade = false): OutgoingHttpHeaders {
    const headers = forwardedHeaders(req, ip, this.proto, keepUpgrade);
    if (d.host !== undefined) headers.host = d.host;
    d.requestHeaders?.(headers);
    return headers;
  }

  /** Sends a copy of the request to one target of ts and drops its answer (RequestMirror). */
  private mirror(req: NodeRequest, ip: string, ts: TargetSetRuntime, d: ForwardEdits): void {
    const target = ts.choose(ip);
    if (!target) return;
    const release = ts.connected(ip, target);
    const copy = request({ host: target.host, port: target.port, method: req.method, path: d.url ?? req.url, headers: this.upstreamHeaders(req, ip, d), agent: this.route.agent });
    copy.on('response', (r) => r.resume());
    copy.on('error', () => undefined);
    copy.once('close', release);
    if (replayable(req)) copy.end();
    else req.pipe(copy);
  }

  private forward(req: NodeRequest, res: L7Response, ip: string, target: Target, d: ForwardEdits, retried: boolean): void {
    const upstream = request({
      host: target.host,
      port: target.port,
      method: req.method,
      path: d.url ?? req.url,
      headers: this.upstreamHeaders(req, ip, d),
      agent: this.route.agent,
    });
    const stopBackendTimer = d.backendTimeoutMs ? this.deadline(res, d.backendTimeoutMs, () => upstream.destroy()) : undefined;
    let complete = false;
    // The client left, or a timeout answered for the backend: the backend's answer has nowhere to go.
    const abort = (): void => {
      if (!complete) upstream.destroy();
    };
    res.once('close', abort);
    upstream.on('response', (pres) => {
      if (res.headersSent || res.writableEnded) {
        upstream.destroy();
        return;
      }
      pres.once('end', () => (complete = true));
      if (d.responseHeaders || isH2(res)) {
        const headers = withoutHopByHop(pres.headers);
        d.responseHeaders?.(headers);
        writeHead(res, pres.statusCode ?? 502, headers, pres.statusMessage);
      } else res.writeHead(pres.statusCode ?? 502, pres.statusMessage, rawWithoutHopByHop(pres.rawHeaders));
      pres.on('error', () => res.destroy());
      pres.on('aborted', () => res.destroy());
      pres.on('end', () => stopBackendTimer?.());
      pres.pipe(res);
    });
    upstream.on('error', (e: NodeJS.ErrnoException) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (!retried && upstream.reusedSocket && e.code === 'ECONNRESET' && replayable(req)) {
        res.off('close', abort);
        stopBackendTimer?.();
        this.forward(req, res, ip, target, d, true);
        return;
      }
      answer(res, 502, '502 Bad Gateway\n', isH2(res) ? {} : { connection: 'close' });
    });
    if (replayable(req)) upstream.end();
    else req.pipe(upstream);
  }

  /** The common forward, over the lean HTTP/1.1 client (upstream-http1.ts). */
  private forwardHttp1(pool: UpstreamPool, req: NodeRequest, res: L7Response, ip: string, target: Target, d: ForwardEdits, release: () => void): void {
    let out: { head: string; body: 'none' | 'chunked' | number } | undefined;
    try {
      out = d.host === undefined && d.requestHeaders === undefined && !('stream' in req) ? rawRequestHead(req, d.url, ip, this.proto, target) : undefined;
      out ??= this.editedRequestHead(req, ip, target, d);
    } catch {
      req.resume();
      answer(res, 500, '500 Internal Server Error\n');
      return;
    }
    const { head, body } = out;
    let complete = false;
    const on: UpstreamHandlers = {
      head: (h) => this.relayHead(res, h, d, () => exchange.abort()),
      data: (chunk, last) => {
        if (last) {
          // The whole of a small answer usually arrives with its head: one end() is one write to the client.
          complete = true;
          stopBackendTimer?.();
          (res as ServerResponse).end(chunk);
          return true;
        }
        const more = (res as ServerResponse).write(chunk);
        if (!more) res.once('drain', () => exchange.resume());
        return more;
      },
      end: (trailers) => {
        if (complete) return;
        complete = true;
        stopBackendTimer?.();
        if (trailers) {
          const t = headerObject(rawWithoutHopByHop(trailers));
          try {
            res.addTrailers(t);
          } catch {
            // A trailer Node refuses to send is dropped, as Node's own client would drop it.
          }
        }
        res.end();
      },
      error: () => {
        complete = true;
        if (res.headersSent) res.destroy();
        else answer(res, 502, '502 Bad Gateway\n', isH2(res) ? {} : { connection: 'close' });
      },
    };
    const method = req.method;
    const idempotent = method === 'GET' || method === 'HEAD' || method === 'OPTIONS';
    const exchange = pool.request(target, { head, body, headRequest: method === 'HEAD', replayable: idempotent && body === 'none' }, on);
    const stopBackendTimer = d.backendTimeoutMs ? this.deadline(res, d.backendTimeoutMs, () => exchange.abort()) : undefined;
    res.once('close', () => {
      release();
      // The client left, or a timeout answered for the backend: the backend's answer has nowhere to go.
      if (!complete) exchange.abort();
    });
    if (body === 'none') return;
    req.on('data', (chunk: Buffer) => {
      if (exchange.write(chunk)) return;
      req.pause();
      exchange.onDrain(() => req.resume());
    });
    req.on('end', () => exchange.end());
  }

  /** The request head through the header object, where the route edits headers or the request came over HTTP/2. */
  private editedRequestHead(req: L7Request, ip: string, target: Target, d: ForwardEdits): { head: string; body: 'none' | 'chunked' | number } {
    const headers = this.upstreamHeaders(req, ip, d);
    const body = requestFraming(req);
    if (body === 'chunked') {
      delete headers['content-length'];
      headers['transfer-encoding'] = 'chunked';
    } else if (body === 'none' && headers['content-length'] === undefined && bodyExpected(req.method)) headers['content-length'] = '0';
    headers.host ??= targetAuthority(target);
    // Filters and rewrites put strings of their own in the head; what came from the client, Node's parser has checked.
    return { head: requestHead(req.method ?? 'GET', d.url ?? req.url ?? '/', headers, d.url !== undefined || d.host !== undefined || d.requestHeaders !== undefined), body };
  }

  /** Starts the client's response with the backend's status and headers (less hop-by-hop ones, edited as the route says). */
  private relayHead(res: L7Response, h: UpstreamResponseHead, d: ForwardEdits, abort: () => void): void {
    // A timeout already answered 504.
    if (res.headersSent || res.writableEnded) {
      abort();
      return;
    }
    try {
      if (d.responseHeaders || isH2(res)) {
        const headers = headerObject(rawWithoutHopByHop(h.rawHeaders));
        d.responseHeaders?.(headers);
        writeHead(res, h.status, headers, h.reason);
      } else res.writeHead(h.status, h.reason, rawWithoutHopByHop(h.rawHeaders));
    } catch {
      // A header or status text Node will not send (a control character): the backend's answer is unusable.
      abort();
      answer(res, 502, '502 Bad Gateway\n');
    }
  }

  /** HTTP/2 to the backend, trailers included (gRPC's status travels in them). */
  private forwardH2c(req: NodeRequest, res: L7Response, ip: string, target: Target, d: ForwardEdits): void {
    const sessions = this.route.h2c;
    if (!sessions) {
      answer(res, 502, '502 Bad Gateway\n');
      return;
    }
    const headers = this.upstreamHeaders(req, ip, d);
    const authority = String(headers.host ?? requestHost(req));
    delete headers.host;
    // `te: trailers` is the one TE value HTTP/2 allows, and gRPC servers expect it.
    if (req.headers.te === 'trailers') headers.te = 'trailers';
    let upstream: ReturnType<ClientHttp2Session['request']>;
    try {
      upstream = sessions.get(target).request({ ...headers, ':method': req.method ?? 'GET', ':path': d.url ?? req.url ?? '/', ':authority': authority, ':scheme': 'http' }, { endStream: replayable(req) });
    } catch {
      answer(res, 502, '502 Bad Gateway\n');
      return;
    }
    const stopBackendTimer = d.backendTimeoutMs ? this.deadline(res, d.backendTimeoutMs, () => upstream.close(h2constants.NGHTTP2_CANCEL)) : undefined;
    let complete = false;
    upstream.once('end', () => (complete = true));
    res.once('close', () => {
      if (!complete) upstream.close(h2constants.NGHTTP2_CANCEL);
    });
    upstream.on('response', (h, flags) => {
      if (res.headersSent || res.writableEnded) {
        upstream.close(h2constants.NGHTTP2_CANCEL);
        return;
      }
      const status = Number(h[':status'] ?? 502);
      const out = withoutHopByHop(h);
      d.responseHeaders?.(out);
      // gRPC's trailers-only answer (an error status and no body) must stay one HEADERS frame.
      if (flags & h2constants.NGHTTP2_FLAG_END_STREAM && isH2(res)) {
        stopBackendTimer?.();
        res.stream.respond({ ...out, ':status': status }, { endStream: true });
        return;
      }
      writeHead(res, status, out);
      upstream.pipe(res);
    });
    upstream.on('trailers', (t) => {
      if (isH2(res)) res.addTrailers(withoutHopByHop(t));
    });
    upstream.on('end', () => stopBackendTimer?.());
    upstream.on('error', () => {
      if (res.headersSent) res.destroy();
      else answer(res, 502, '502 Bad Gateway\n');
    });
    if (!replayable(req)) req.pipe(upstream);
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    const ip = clientAddress(req.socket) ?? '';
    const d = this.route.resolve(req, this.proto);
    if (d.kind === 'respond') {
      socket.end(rawResponse(d.status, d.status === 404 ? 'Not Found' : 'Response', d.body ?? '', d.headers));
      return;
    }
    const ts = d.targetSet;
    const target = ts.choose(ip);
    if (!target) {
      socket.end(rawResponse(503, 'Service Unavailable', '503 Service Unavailable: no endpoints\n'));
      return;
    }
    const release = ts.connected(ip, target);
    socket.once('close', release);
    const upstream = request({
      host: target.host,
      port: target.port,
      method: req.method,
      path: d.url ?? req.url,
      headers: this.upstreamHeaders(req, ip, d, true),
      agent: false,
    });
    socket.once('close', () => upstream.destroy());
    upstream.on('upgrade', (pres: IncomingMessage, psocket: Socket, phead: Buffer) => {
      psocket.on('error', () => socket.destroy());
      socket.on('error', () => psocket.destroy());
      psocket.once('close', () => socket.destroy());
      socket.once('close', () => psocket.destroy());
      socket.write(statusAndHeaders(pres));
      if (phead.length > 0) socket.write(phead);
      if (head.length > 0) psocket.write(head);
      psocket.pipe(socket);
      socket.pipe(psocket);
    });
    upstream.on('response', (pres) => {
      // The target declined the upgrade: relay its answer as a plain response.
      socket.write(statusAndHeaders(pres, true));
      pres.pipe(socket);
    });
    upstream.on('error', () => {
      if (socket.writable) socket.end(rawResponse(502, 'Bad Gateway', '502 Bad Gateway\n'));
    });
    upstream.end();
  }
}

const TEXT_PLAIN: readonly [string, string] = ['content-type', 'text/plain; charset=utf-8'];

/** An answer of the listener's own through the intake, with the headers `answer` would send. */
function ownAnswer(conn: Http1Connection, status: number, body: string, headers: OutgoingHttpHeaders = {}, close = false): void {
  if (!conn.open) return;
  if (conn.responseStarted) return conn.abort();
  const list: [string, string][] = [];
  if (headers['content-type'] === undefined) list.push([...TEXT_PLAIN]);
  for (const k in headers) {
    const v = headers[k];
    if (v === undefined) continue;
    for (const one of Array.isArray(v) ? v : [String(v)]) list.push([k, one]);
  }
  try {
    for (const [k, v] of list) {
      validateHeaderName(k);
      validateHeaderValue(k, v);
    }
  } catch {
    // What a route put in a header Node refuses to send (writeHead threw on the other path).
    conn.respond(500, '500 Internal Server Error\n', [TEXT_PLAIN], close);
    return;
  }
  conn.respond(status, body, list, close);
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const BAD_TEXT = /[^\t\x20-\x7e\x80-\xff]/;

/** The pairs of a raw list that Node's writeHead would send (a token name, a value without control characters). */
function validHeaders(raw: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) if (TOKEN.test(raw[i]!) && !BAD_TEXT.test(raw[i + 1]!)) out.push(raw[i]!, raw[i + 1]!);
  return out;
}

/**
 * A backend's response head for the client, less hop-by-hop headers and framing (the intake
 * frames the body itself: Content-Length when the backend gave one, else chunked), edited as
 * the route says; undefined when a name, value or the reason is not something Node would send.
 */
function responseHead(h: UpstreamResponseHead, hasBody: boolean, d: ForwardEdits): { text: string; hasDate: boolean } | undefined {
  if (BAD_TEXT.test(h.reason)) return undefined;
  let raw = rawWithoutHopByHop(h.rawHeaders);
  if (d.responseHeaders) {
    const obj = headerObject(raw);
    d.responseHeaders(obj);
    raw = [];
    for (const k in obj) {
      const v = obj[k];
      if (v === undefined) continue;
      for (const one of Array.isArray(v) ? v : [String(v)]) raw.push(k, one);
    }
  }
  let text = `HTTP/1.1 ${h.status} ${h.reason}\r\n`;
  let hasDate = false;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const value = raw[i + 1]!;
    if (!TOKEN.test(name) || BAD_TEXT.test(value)) return undefined;
    if (name.length === 14 && hasBody && name.toLowerCase() === 'content-length') continue;
    if (name.length === 4 && name.toLowerCase() === 'date') hasDate = true;
    text += `${name}: ${value}\r\n`;
  }
  return { text, hasDate };
}

/** The status line and headers of a response, as raw bytes for a socket taken over from the HTTP server. */
function statusAndHeaders(res: IncomingMessage, close = false): string {
  const lines = [`HTTP/1.1 ${res.statusCode ?? 502} ${res.statusMessage ?? ''}`];
  const raw = res.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const k = raw[i] ?? '';
    if (close && HOP_BY_HOP.has(k.toLowerCase())) continue;
    lines.push(`${k}: ${raw[i + 1] ?? ''}`);
  }
  if (close) lines.push('Connection: close');
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/** How a request's body goes to the backend: none, as many bytes as its Content-Length, or chunked (its length unknown). */
function requestFraming(req: L7Request): 'none' | 'chunked' | number {
  const cl = req.headers['content-length'];
  if ('stream' in req) {
    if (req.stream.endAfterHeaders) return 'none';
    return cl !== undefined ? Number(cl) : 'chunked';
  }
  if (req.headers['transfer-encoding'] !== undefined) return 'chunked';
  if (cl === undefined) return 'none';
  const n = Number(cl);
  return n === 0 ? 'none' : n;
}

/** What Node's http.request refuses in a request target (a space or control character would split the request line). */
const BAD_PATH = /[^\u0021-\u00ff]/;

/** The request line and headers as one string, for one write. `check`: validate names and values (edited ones). */
function requestHead(method: string, path: string, headers: OutgoingHttpHeaders, check: boolean): string {
  if (check && BAD_PATH.test(path)) throw new Error(`invalid request target ${JSON.stringify(path)}`);
  let head = `${method} ${path} HTTP/1.1\r\n`;
  for (const k in headers) {
    const v = headers[k];
    if (v === undefined) continue;
    if (check) validateHeaderName(k);
    if (Array.isArray(v)) {
      for (const one of v) {
        if (check) validateHeaderValue(k, one);
        head += `${k}: ${one}\r\n`;
      }
    } else {
      if (check) validateHeaderValue(k, String(v));
      head += `${k}: ${String(v)}\r\n`;
    }
  }
  return `${head}\r\n`;
}

/** Methods whose requests normally carry a body: without one, they say Content-Length: 0 (as Node's client does with end()). */
function bodyExpected(method: string | undefined): boolean {
  return method === 'POST' || method === 'PUT' || method === 'PATCH';
}

function targetAuthority(target: Target): string {
  return target.host.includes(':') ? `[${target.host}]:${target.port}` : `${target.host}:${target.port}`;
}

/**
 * The upstream head of an HTTP/1 request the route does not edit, in one pass over its raw
 * headers (names in the client's case, repeats as sent), with what forwardedHeaders would
 * set: X-Forwarded-For appended to, X-Forwarded-Proto/-Host/-Port. Undefined when the
 * Connection header names other headers to drop (rare): the header object path does that.
 */
function rawRequestHead(req: IncomingMessage | Http1Request, url: string | undefined, ip: string, proto: 'http' | 'https', target: Target): { head: string; body: 'none' | 'chunked' | number } | undefined {
  const raw = req.rawHeaders;
  const method = req.method ?? 'GET';
  let lines = `${method} ${url ?? req.url ?? '/'} HTTP/1.1\r\n`;
  let host: string | undefined;
  let prior: string | undefined;
  let clientFwdHost: string | undefined;
  let clientFwdPort: string | undefined;
  let length: string | undefined;
  let chunked = false;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const value = raw[i + 1]!;
    const k = name.toLowerCase();
    if (HOP_BY_HOP.has(k)) {
      if (k === 'transfer-encoding') chunked = true;
      else if (k === 'connection' && connectionTokens(value, false) !== undefined) return undefined;
      continue;
    }
    switch (k) {
      case 'host':
        host ??= value;
        continue;
      case 'x-forwarded-for':
        prior = prior === undefined ? value : `${prior}, ${value}`;
        continue;
      case 'x-forwarded-proto':
        continue;
      case 'x-forwarded-host':
        clientFwdHost ??= value;
        continue;
      case 'x-forwarded-port':
        clientFwdPort ??= value;
        continue;
      case 'content-length':
        length = value;
        if (chunked) continue;
        break;
    }
    lines += `${name}: ${value}\r\n`;
  }
  let body: 'none' | 'chunked' | number = 'none';
  if (chunked) {
    // Transfer-Encoding wins over a Content-Length the client also sent (RFC 9112 6.3); the length line must not go.
    if (length !== undefined) lines = lines.replace(/^content-length:.*\r\n/im, '');
    lines += 'Transfer-Encoding: chunked\r\n';
    body = 'chunked';
  } else if (length !== undefined && Number(length) > 0) body = Number(length);
  else if (length === undefined && bodyExpected(method)) lines += 'Content-Length: 0\r\n';
  lines += `Host: ${host ?? targetAuthority(target)}\r\nX-Forwarded-For: ${prior ? `${prior}, ${ip}` : ip}\r\nX-Forwarded-Proto: ${proto}\r\n`;
  const fwdHost = host ? host : clientFwdHost;
  if (fwdHost !== undefined) lines += `X-Forwarded-Host: ${fwdHost}\r\n`;
  const port = req.socket.localPort ?? clientFwdPort;
  if (port !== undefined) lines += `X-Forwarded-Port: ${port}\r\n`;
  return { head: `${lines}\r\n`, body };
}
