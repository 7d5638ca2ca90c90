// An L7 listener (HTTP, or HTTPS terminating TLS): picks a target set per request with the
// Ingress rules (model/routes.ts's matchRoute, the same matcher the cloud providers'
// rules are held to), then a target in it, and proxies the request to it.
//
// - Bodies stream both ways through pipes: nothing is buffered beyond the socket buffers,
//   so a 20 MB upload or download starts at once and holds no more memory than a small one.
// - An Upgrade (WebSocket) request gets its own connection to the target; once the target
//   answers 101 the two sockets are spliced.
// - A target that refuses or resets before answering gives 502; after the response has
//   started, the client connection is cut (there is no honest way to say 502 then).
// - No route: 404 as ingress-nginx's default backend says it. A route to a target set with
//   no targets: 503.
import { createServer as createHttpServer, request, type Agent, type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders, type Server as HttpServer, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import type { Target } from './balancer.js';
import { listenTcp } from './bind.js';
import { ConnectionTracker } from './connections.js';
import { clientAddress } from './tcp-proxy.js';
import type { TargetSetRuntime } from './target-set.js';
import type { CertificateStore } from './tls.js';

export interface L7Route {
  allow(clientIp: string): boolean;
  /** The target set that serves host + path (the default backend when no rule matches), or undefined for 404. */
  resolve(host: string, path: string): TargetSetRuntime | undefined;
  /** Keep-alive connections to targets, shared by the LB's listeners. */
  readonly agent: Agent;
}

/** Hop-by-hop headers (RFC 9110 7.6.1) belong to one connection and are not forwarded. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

function withoutHopByHop(headers: IncomingHttpHeaders, keepUpgrade = false): OutgoingHttpHeaders {
  const named = new Set(
    String(headers.connection ?? '')
      .split(',')
      .map((t) => t.trim().toLowerCase())
      .filter((t) => t !== '' && !(keepUpgrade && t === 'upgrade')),
  );
  const out: OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined || named.has(k) || (HOP_BY_HOP.has(k) && !(keepUpgrade && (k === 'upgrade' || k === 'connection')))) continue;
    out[k] = v;
  }
  if (keepUpgrade) out.connection = 'upgrade';
  return out;
}

export function forwardedHeaders(req: IncomingMessage, clientIp: string, proto: 'http' | 'https', keepUpgrade = false): OutgoingHttpHeaders {
  const out = withoutHopByHop(req.headers, keepUpgrade);
  const prior = req.headers['x-forwarded-for'];
  const chain = Array.isArray(prior) ? prior.join(', ') : prior;
  out['x-forwarded-for'] = chain ? `${chain}, ${clientIp}` : clientIp;
  out['x-forwarded-proto'] = proto;
  if (req.headers.host !== undefined) out['x-forwarded-host'] = req.headers.host;
  if (req.socket.localPort !== undefined) out['x-forwarded-port'] = String(req.socket.localPort);
  return out;
}

/** A body-less request can be sent again as is when a reused keep-alive connection turns out closed. */
function replayable(req: IncomingMessage): boolean {
  const m = req.method ?? 'GET';
  const noBody = (req.headers['content-length'] === undefined || req.headers['content-length'] === '0') && req.headers['transfer-encoding'] === undefined;
  return noBody && ['GET', 'HEAD', 'OPTIONS'].includes(m);
}

function rawResponse(status: number, reason: string, body: string): string {
  return `HTTP/1.1 ${status} ${reason}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
}

export class HttpProxyListener {
  readonly server: HttpServer | HttpsServer;
  private readonly conns = new ConnectionTracker();
  private readonly proto: 'http' | 'https';

  constructor(
    readonly host: string,
    readonly port: number,
    private readonly route: L7Route,
    certs?: CertificateStore,
  ) {
    // requestTimeout 0: an upload through a proxy may legitimately take longer than Node's 300 s default.
    const common = { requestTimeout: 0 };
    if (certs) {
      const fallback = certs.fallback;
      if (!fallback) throw new Error('an HTTPS listener needs at least one certificate');
      this.proto = 'https';
      this.server = createHttpsServer({
        ...common,
        ...fallback,
        SNICallback: (servername, cb) => cb(null, certs.select(servername)),
      });
    } else {
      this.proto = 'http';
      this.server = createHttpServer(common);
    }
    this.server.on('connection', (socket: Socket) => {
      this.conns.add(socket);
      const ip = clientAddress(socket);
      if (ip === undefined || !this.route.allow(ip)) socket.resetAndDestroy();
    });
    this.server.on('request', (req: IncomingMessage, res: ServerResponse) => this.handle(req, res));
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.upgrade(req, socket, head));
    this.server.on('clientError', (_e, socket: Duplex) => {
      if (socket.writable) socket.end(rawResponse(400, 'Bad Request', 'bad request\n'));
      else socket.destroy();
    });
    this.server.on('error', () => {
      // After listen, errors belong to single connections.
    });
  }

  async listen(): Promise<void> {
    await listenTcp(this.server, this.host, this.port, this.proto.toUpperCase());
  }

  get boundPort(): number {
    const a = this.server.address();
    return a !== null && typeof a === 'object' ? a.port : this.port;
  }

  get connections(): number {
    return this.conns.size;
  }

  /** Puts the store's current first certificate in place for clients without SNI; SNI reads the store live. */
  refreshCertificates(certs: CertificateStore): void {
    const fallback = certs.fallback;
    if (fallback && 'setSecureContext' in this.server) this.server.setSecureContext(fallback);
  }

  async close(graceMs: number): Promise<void> {
    this.server.close();
    await this.conns.drain(graceMs, () => this.server.closeIdleConnections());
  }

  /** Cuts every connection now, ending a drain early (shutdown). */
  abort(): void {
    this.server.close();
    this.conns.destroyAll();
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const ip = clientAddress(req.socket) ?? '';
    const ts = this.route.resolve(req.headers.host ?? '', req.url ?? '/');
    if (!ts) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('default backend - 404\n');
      return;
    }
    const target = ts.choose(ip);
    if (!target) {
      res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8' }).end('503 Service Unavailable: no endpoints\n');
      return;
    }
    const release = ts.connected(ip, target);
    res.once('close', release);
    this.forward(req, res, ip, target, false);
  }

  private forward(req: IncomingMessage, res: ServerResponse, ip: string, target: Target, retried: boolean): void {
    const upstream = request({
      host: target.host,
      port: target.port,
      method: req.method,
      path: req.url,
      headers: forwardedHeaders(req, ip, this.proto),
      agent: this.route.agent,
    });
    const abort = (): void => {
      if (!res.writableFinished) upstream.destroy();
    };
    res.once('close', abort);
    upstream.on('response', (pres) => {
      res.writeHead(pres.statusCode ?? 502, pres.statusMessage, withoutHopByHop(pres.headers));
      pres.on('error', () => res.destroy());
      pres.on('aborted', () => res.destroy());
      pres.pipe(res);
    });
    upstream.on('error', (e: NodeJS.ErrnoException) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (!retried && upstream.reusedSocket && e.code === 'ECONNRESET' && replayable(req)) {
        res.off('close', abort);
        this.forward(req, res, ip, target, true);
        return;
      }
      res.writeHead(502, { 'content-type': 'text/plain; charset=utf-8', connection: 'close' }).end('502 Bad Gateway\n');
    });
    if (replayable(req)) upstream.end();
    else req.pipe(upstream);
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    const ip = clientAddress(req.socket) ?? '';
    const ts = this.route.resolve(req.headers.host ?? '', req.url ?? '/');
    if (!ts) {
      socket.end(rawResponse(404, 'Not Found', 'default backend - 404\n'));
      return;
    }
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
      path: req.url,
      headers: forwardedHeaders(req, ip, this.proto, true),
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
