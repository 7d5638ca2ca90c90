// Real sockets on 127.0.0.0/8 for the local provider's tests: named backends that say who
// answered, clients that can pick their source address, spec builders, and one cleanup
// list so that every test leaves nothing listening.
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { Agent, createServer as createHttpServer, request, type IncomingMessage, type OutgoingHttpHeaders, type Server as HttpServer, type ServerResponse } from 'node:http';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterEach } from 'vitest';
import type { GatewayPort, HttpFilter, HttpRequestMatch, WeightedBackend } from '../../../src/model/gateway.js';
import type { GatewaySpec, HealthCheck, IpTargetSet, L4Spec, L7Spec, PodTarget, TargetSet } from '../../../src/model/spec.js';
import { HttpProxyListener, type HttpListenerOptions, type L7Route } from '../../../src/providers/local/http-router.js';
import { createLocalProvider, type LocalProvider, type LocalProviderInit } from '../../../src/providers/local/index.js';
import { KernelForwarding } from '../../../src/providers/local/kernel-forwarding.js';
import { UpstreamPool } from '../../../src/providers/local/upstream-http1.js';

type Closer = () => Promise<unknown> | unknown;
const closers: Closer[] = [];

export function onCleanup(fn: Closer): void {
  closers.push(fn);
}

afterEach(async () => {
  const fns = closers.splice(0).reverse();
  for (const fn of fns) {
    try {
      await fn();
    } catch {
      // best effort: the next closer must still run
    }
  }
});

export const quiet = { info: () => {}, warn: () => {} };

export type L4Forwarding = 'proxy' | 'kernel';

/**
 * Why the kernel path cannot be tested here (no nft, or no CAP_NET_ADMIN), or undefined
 * when it can: a throwaway table is created and removed to find out.
 */
export async function kernelForwardingUnavailable(): Promise<string | undefined> {
  try {
    const k = await KernelForwarding.open(`lbc_probe_${process.pid}`, { onDisabled: () => {} });
    await k.close();
    return undefined;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

export async function provider(init: Partial<LocalProviderInit> & { addressPool: string }): Promise<LocalProvider> {
  const p = await createLocalProvider({ clusterName: 'test', log: quiet, drainTimeoutMs: 2_000, ...init });
  onCleanup(() => p.close());
  return p;
}

function closeServer(s: Server | HttpServer, sockets: Set<Socket>): Promise<void> {
  for (const c of sockets) c.destroy();
  return new Promise((resolve) => s.close(() => resolve()));
}

function listen(s: Server | HttpServer, host: string, port = 0): Promise<number> {
  return new Promise((resolve, reject) => {
    s.once('error', reject);
    s.listen({ host, port }, () => {
      const a = s.address();
      resolve(a !== null && typeof a === 'object' ? a.port : 0);
    });
  });
}

export interface Backend {
  readonly name: string;
  readonly host: string;
  port: number;
  /** Connections or requests seen. */
  hits: number;
  readonly sockets: Set<Socket>;
  readonly target: PodTarget;
  stop(): Promise<void>;
  /** Listens again on the same port (after stop). */
  start(): Promise<void>;
}

export function backend(name: string, host: string, make: () => Server | HttpServer, onServer: (s: Server | HttpServer, b: Backend) => void): Promise<Backend> {
  let server: Server | HttpServer;
  const b: Backend = {
    name,
    host,
    port: 0,
    hits: 0,
    sockets: new Set(),
    get target() {
      return { ip: host, port: b.port };
    },
    stop: () => closeServer(server, b.sockets),
    start: async () => {
      server = make();
      server.on('connection', (s: Socket) => {
        b.sockets.add(s);
        s.once('close', () => b.sockets.delete(s));
      });
      onServer(server, b);
      b.port = await listen(server, host, b.port);
    },
  };
  onCleanup(() => (server.listening ? b.stop() : undefined));
  return b.start().then(() => b);
}

/** Answers each connection with `<name>\n`, then echoes. */
export function tcpBackend(name: string, host: string): Promise<Backend> {
  return backend(
    name,
    host,
    () => createServer({ allowHalfOpen: true }),
    (s, b) =>
      s.on('connection', (c: Socket) => {
        b.hits++;
        c.on('error', () => c.destroy());
        c.write(`${name}\n`);
        c.pipe(c);
      }),
  );
}

export type Handler = (req: IncomingMessage, res: ServerResponse, b: Backend) => void;

/** Answers with JSON naming the backend and echoing what arrived, unless a handler says otherwise. */
export function httpBackend(name: string, host: string, handler?: Handler): Promise<Backend> {
  return backend(
    name,
    host,
    () => createHttpServer(),
    (s, b) =>
      s.on('request', (req: IncomingMessage, res: ServerResponse) => {
        b.hits++;
        if (handler) return handler(req, res, b);
        req.resume();
        req.on('end', () => {
          res.setHeader('content-type', 'application/json');
          res.end(JSON.stringify({ name, method: req.method, url: req.url, headers: req.headers }));
        });
      }),
  );
}

export interface UdpBackend {
  readonly name: string;
  readonly target: PodTarget;
  readonly socket: UdpSocket;
}

/** Replies `<name>:<datagram>`. */
export async function udpBackend(name: string, host: string): Promise<UdpBackend> {
  const socket = createSocket('udp4');
  socket.on('message', (msg, r) => socket.send(`${name}:${msg.toString()}`, r.port, r.address));
  await new Promise<void>((resolve) => socket.bind({ address: host, port: 0 }, resolve));
  onCleanup(() => new Promise<void>((resolve) => socket.close(() => resolve())));
  return { name, socket, target: { ip: host, port: socket.address().port } };
}

/** Connects (from localAddress when given), reads the backend's name line, closes. */
export function askName(host: string, port: number, localAddress?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = connect({ host, port, ...(localAddress ? { localAddress } : {}) });
    let data = '';
    const timer = setTimeout(() => {
      c.destroy();
      reject(new Error(`no answer from ${host}:${port}`));
    }, 3_000);
    c.on('data', (d) => {
      data += d.toString();
      const nl = data.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(timer);
        c.end();
        resolve(data.slice(0, nl));
      }
    });
    c.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    c.on('close', () => {
      clearTimeout(timer);
      reject(new Error('closed without an answer'));
    });
  });
}

/** An open connection that has read its backend's name; `echo` round-trips a line. */
export async function openConnection(host: string, port: number, localAddress?: string): Promise<{ name: string; socket: Socket; echo(s: string): Promise<string> }> {
  const socket = connect({ host, port, ...(localAddress ? { localAddress } : {}) });
  onCleanup(() => socket.destroy());
  socket.setEncoding('utf8');
  let buf = '';
  const waiters: ((line: string) => void)[] = [];
  socket.on('data', (d: string) => {
    buf += d;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      waiters.shift()?.(line);
    }
  });
  socket.on('error', () => {});
  const next = (): Promise<string> =>
    new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('no line')), 3_000);
      waiters.push((l) => {
        clearTimeout(t);
        resolve(l);
      });
    });
  const name = await next();
  return {
    name,
    socket,
    echo: (s) => {
      const p = next();
      socket.write(`${s}\n`);
      return p;
    },
  };
}

export function udpAsk(host: string, port: number, msg: string, opts: { localAddress?: string; timeoutMs?: number } = {}): Promise<{ reply: string; from: { address: string; port: number } } | undefined> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    const done = (v: { reply: string; from: { address: string; port: number } } | undefined): void => {
      clearTimeout(t);
      s.close();
      resolve(v);
    };
    const t = setTimeout(() => done(undefined), opts.timeoutMs ?? 2_000);
    s.on('message', (m, r) => done({ reply: m.toString(), from: { address: r.address, port: r.port } }));
    s.bind({ address: opts.localAddress ?? '127.0.0.1', port: 0 }, () => s.send(msg, port, host));
  });
}

export interface HttpReply {
  readonly status: number;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

export function httpGet(host: string, port: number, path: string, headers: OutgoingHttpHeaders = {}, method = 'GET'): Promise<HttpReply> {
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path, method, headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.setTimeout(5_000, () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

/** Polls until fn returns true; fails after timeoutMs. */
/**
 * An L7 listener on host (its port picked) that lets every client in and routes with
 * `resolve`, over a keep-alive agent and a lean upstream pool of its own; it counts the
 * connections it accepts, and all of it is closed at cleanup.
 */
export async function proxyListener(host: string, resolve: L7Route['resolve'], opts: HttpListenerOptions = {}): Promise<{ listener: HttpProxyListener; upstream: UpstreamPool; accepted(): number }> {
  const agent = new Agent({ keepAlive: true });
  const upstream = new UpstreamPool();
  const listener = new HttpProxyListener(host, 0, { allow: () => true, resolve, agent, upstream }, opts);
  await listener.listen();
  let accepted = 0;
  listener.server.on('connection', () => accepted++);
  onCleanup(() => {
    listener.abort();
    agent.destroy();
    upstream.close();
  });
  return { listener, upstream, accepted: () => accepted };
}

export async function waitFor(fn: () => boolean | Promise<boolean>, timeoutMs = 3_000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

export const fastTcpCheck: HealthCheck = { protocol: 'TCP', port: 'traffic-port', intervalSeconds: 0.05, timeoutSeconds: 0.05, healthyThreshold: 2, unhealthyThreshold: 2 };
export const slowTcpCheck: HealthCheck = { protocol: 'TCP', port: 'traffic-port', intervalSeconds: 10, timeoutSeconds: 5, healthyThreshold: 2, unhealthyThreshold: 3 };

export function ipSet(name: string, protocol: 'TCP' | 'UDP' | 'HTTP', targets: readonly PodTarget[], healthCheck: HealthCheck = slowTcpCheck): IpTargetSet {
  return { name, type: 'ip', port: targets[0]?.port ?? 80, protocol, targets, healthCheck, backend: { namespace: 'default', service: name, port: 80 } };
}

export function l4(over: Partial<L4Spec> = {}): L4Spec {
  return {
    layer: 'L4',
    ref: { kind: 'Service', namespace: 'default', name: 'web', uid: 'uid-web' },
    provider: 'local',
    className: 'lbc.dev/local',
    clusterName: 'test',
    listeners: [],
    targetSets: [],
    sourceRanges: [],
    sessionAffinity: { type: 'None' },
    requestedAddresses: [],
    ipFamilies: ['IPv4'],
    tags: {},
    providerOptions: {},
    ...over,
  };
}

export function l7(over: Partial<L7Spec> = {}): L7Spec {
  return {
    layer: 'L7',
    ref: { kind: 'Ingress', namespace: 'default', name: 'site', uid: 'uid-site' },
    provider: 'local',
    className: 'lbc.dev/local',
    clusterName: 'test',
    listeners: [{ protocol: 'HTTP', port: 80 }],
    rules: [],
    targetSets: [],
    sourceRanges: [],
    requestedAddresses: [],
    ipFamilies: ['IPv4'],
    tags: {},
    providerOptions: {},
    ...over,
  };
}

export function ipOf(status: { ingress: readonly { ip?: string }[] }): string {
  const ip = status.ingress[0]?.ip;
  if (ip === undefined) throw new Error('no ip in status');
  return ip;
}

/** A GatewaySpec as controller/gateway builds one, for the Gateway data-path tests. */
export function gatewaySpec(ports: GatewayPort[], targetSets: TargetSet[]): GatewaySpec {
  return {
    layer: 'Gateway',
    ref: { kind: 'Gateway', namespace: 'default', name: 'gw', uid: 'uid-gw' },
    provider: 'local',
    className: 'lbc.dev/local',
    clusterName: 'test',
    ports,
    targetSets,
    sourceRanges: [],
    requestedAddresses: [],
    ipFamilies: ['IPv4'],
    tags: {},
    providerOptions: {},
  };
}

/** A weighted backendRef; no target set is an invalid reference (its share answers 500). */
export const to = (targetSet: string | undefined, weight = 1, filters: HttpFilter[] = []): WeightedBackend => ({ ...(targetSet !== undefined ? { targetSet } : {}), weight, filters });
export const prefix = (value: string): HttpRequestMatch => ({ path: { type: 'PathPrefix', value }, headers: [], queryParams: [] });
