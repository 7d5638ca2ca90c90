// The operator's HTTP endpoints: /metrics (Prometheus exposition) on the metrics
// address, /healthz and /readyz on the health-probe address, as controller-runtime
// serves them (same flag names, same defaults :8080 and :8081, "0" turns one off).
// When both addresses are the same, one listener serves all three paths.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

/** `host:port`, `:port` (every interface), or off. */
export type BindAddress = { readonly kind: 'off' } | { readonly kind: 'listen'; readonly host: string | undefined; readonly port: number };

/** Parses controller-runtime's bind address syntax: `:8080`, `127.0.0.1:8080`, `[::1]:8080`, or `0` for off. */
export function parseBindAddress(text: string): BindAddress {
  const t = text.trim();
  if (t === '0') return { kind: 'off' };
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(t);
  const port = Number(m?.[3]);
  if (!m || !Number.isInteger(port) || port > 65535) {
    throw new Error(`${JSON.stringify(text)} is not a bind address (use host:port, :port, or 0 to disable)`);
  }
  const host = m[1] ?? m[2];
  return { kind: 'listen', host: host ? host : undefined, port };
}

/** One check of /readyz: its name and whether it passes now. */
export interface ReadinessCheck {
  readonly name: string;
  check(): boolean;
}

export interface ObservabilityServerOptions {
  readonly metrics: BindAddress;
  readonly health: BindAddress;
  readonly registry: Registry;
  /** /readyz passes when every check does. */
  readonly readiness: readonly ReadinessCheck[];
}

export interface ObservabilityServer {
  /** `http://host:port` of the metrics listener, when on. */
  readonly metricsUrl: string | undefined;
  /** `http://host:port` of the health listener, when on. */
  readonly healthUrl: string | undefined;
  close(): Promise<void>;
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

export async function startObservabilityServer(opts: ObservabilityServerOptions): Promise<ObservabilityServer> {
  const metrics: Handler = async (_req, res) => {
    try {
      const body = await opts.registry.metrics();
      res.writeHead(200, { 'content-type': opts.registry.contentType });
      res.end(body);
    } catch (e) {
      res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(`collecting metrics failed: ${(e as Error).message}\n`);
    }
  };
  const healthz: Handler = (_req, res) => {
    // The process answers: that is all liveness means. A stuck controller is not
    // restarted for being slow; leadership loss already exits the process.
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
    res.end('ok\n');
  };
  const readyz: Handler = (req, res) => {
    const results = opts.readiness.map((c) => ({ name: c.name, ok: safeCheck(c) }));
    const ok = results.every((r) => r.ok);
    const verbose = new URL(req.url ?? '/', 'http://x').searchParams.has('verbose');
    res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain; charset=utf-8' });
    // As kube-apiserver's /readyz?verbose: one [+]/[-] line per check.
    const lines = results.map((r) => `[${r.ok ? '+' : '-'}]${r.name} ${r.ok ? 'ok' : 'failed'}`);
    res.end(ok && !verbose ? 'ok\n' : `${lines.join('\n')}\n${ok ? 'readyz check passed' : 'readyz check failed'}\n`);
  };

  const routes = new Map<string, Map<string, Handler>>();
  // Port 0 asks for a free port each: two such addresses are two listeners, not one.
  const keyOf = (addr: BindAddress & { kind: 'listen' }, which: string): string => `${addr.host ?? ''}|${addr.port}${addr.port === 0 ? `|${which}` : ''}`;
  // What each listener serves, to name it when it cannot listen.
  const serves = new Map<string, string[]>();
  const mount = (addr: BindAddress, which: string, what: string, paths: Record<string, Handler>): void => {
    if (addr.kind === 'off') return;
    const key = keyOf(addr, which);
    const table = routes.get(key) ?? new Map<string, Handler>();
    for (const [p, h] of Object.entries(paths)) table.set(p, h);
    routes.set(key, table);
    serves.set(key, [...(serves.get(key) ?? []), what]);
  };
  mount(opts.metrics, 'metrics', 'metrics', { '/metrics': metrics });
  mount(opts.health, 'health', 'health probes', { '/healthz': healthz, '/readyz': readyz });

  const servers: Server[] = [];
  const urls = new Map<string, string>();
  try {
    for (const [key, table] of routes) {
      const [host, port] = key.split('|');
      const server = createServer((req, res) => {
        const path = (req.url ?? '/').split('?')[0] ?? '/';
        const handler = req.method === 'GET' || req.method === 'HEAD' ? table.get(path) : undefined;
        if (!handler) {
          res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
          res.end('not found\n');
          return;
        }
        void Promise.resolve(handler(req, res)).catch(() => res.destroy());
      });
      await new Promise<void>((resolve, reject) => {
        const fail = (e: Error) => reject(new ListenError(host, Number(port), serves.get(key) ?? [], e));
        server.once('error', fail);
        server.listen({ port: Number(port), ...(host ? { host } : {}) }, () => {
          server.off('error', fail);
          resolve();
        });
      });
      servers.push(server);
      const a = server.address() as AddressInfo;
      const shown = !host ? '127.0.0.1' : a.family === 'IPv6' ? `[${a.address}]` : a.address;
      urls.set(key, `http://${shown}:${a.port}`);
    }
  } catch (e) {
    await Promise.all(servers.map(closeServer));
    throw e;
  }
  const urlOf = (addr: BindAddress, which: string): string | undefined => (addr.kind === 'off' ? undefined : urls.get(keyOf(addr, which)));
  return {
    metricsUrl: urlOf(opts.metrics, 'metrics'),
    healthUrl: urlOf(opts.health, 'health'),
    close: () => Promise.all(servers.map(closeServer)).then(() => undefined),
  };
}

/**
 * `cannot listen on 127.0.0.1:8080 (metrics): address already in use`. Node's own
 * message (`listen EADDRINUSE: address already in use 127.0.0.1:8080`) is not kept as
 * the cause: pino's err serializer appends every cause's message to the error's, so
 * the log line would say the same thing twice. The errno stays on `code`.
 */
export class ListenError extends Error {
  readonly code: string | undefined;
  constructor(host: string | undefined, port: number, serves: readonly string[], e: NodeJS.ErrnoException) {
    const where = `${host?.includes(':') ? `[${host}]` : (host ?? '')}:${port}`;
    super(`cannot listen on ${where} (${serves.join(' and ')}): ${listenFailure(e)}`);
    this.name = 'ListenError';
    this.code = e.code;
  }
}

function listenFailure(e: NodeJS.ErrnoException): string {
  switch (e.code) {
    case 'EADDRINUSE':
      return 'address already in use';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE)';
    case 'EADDRNOTAVAIL':
      return 'address not available on this host';
    default:
      return e.message;
  }
}

function safeCheck(c: ReadinessCheck): boolean {
  try {
    return c.check();
  } catch {
    return false;
  }
}

function closeServer(s: Server): Promise<void> {
  return new Promise((resolve) => {
    s.close(() => resolve());
    s.closeAllConnections();
  });
}
