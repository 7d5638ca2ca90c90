// Gateways through the local provider over real sockets: GatewaySpec objects built by hand
// (what controller/gateway builds from Gateway API objects), real clients, real backends.
// One test per data-path feature of issue #18. LB pool 127.241.66.0/24, backends on 127.0.66.x.
import * as grpc from '@grpc/grpc-js';
import { Agent, createServer as createHttpServer, request, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { connect as http2Connect } from 'node:http2';
import { createServer as createNetServer, type Socket } from 'node:net';
import { connect as tlsConnect, createSecureContext, createServer as createTlsServer, type ConnectionOptions } from 'node:tls';
import { beforeAll, describe, expect, it } from 'vitest';
import { selfSignedCert, type ServingCert } from '../../../src/devcluster/tls.js';
import type { GatewayPort, HttpRequestMatch, HttpRouteRule, WeightedBackend } from '../../../src/model/gateway.js';
import type { TargetSet, TlsCertificate } from '../../../src/model/spec.js';
import { TlsProxyListener } from '../../../src/providers/local/gateway-tls.js';
import { HttpProxyListener, type CertificateSource } from '../../../src/providers/local/http-router.js';
import { UpstreamPool } from '../../../src/providers/local/upstream-http1.js';
import { askName, backend, gatewaySpec, httpBackend, httpGet, ipOf, ipSet, onCleanup, openConnection, prefix, provider, tcpBackend, to, udpAsk, udpBackend, waitFor, type Backend } from './support.js';

const POOL = '127.241.66.0/24';
let nextIp = 1;
const backendIp = (): string => `127.0.66.${nextIp++}`;

const gateway = gatewaySpec;

function rule(name: string, backends: WeightedBackend[], over: Partial<HttpRouteRule> = {}): HttpRouteRule {
  return {
    origin: { kind: 'HTTPRoute', namespace: 'default', name, creationTimestamp: '2026-01-01T00:00:00Z', ruleIndex: 0 },
    hostnames: [],
    matches: [prefix('/')],
    filters: [],
    backends,
    backendProtocol: 'http1',
    ...over,
  };
}

const http = (port: number, rules: HttpRouteRule[], hostname?: string): GatewayPort => ({ protocol: 'HTTP', port, listeners: [{ name: 'http', rules, ...(hostname ? { hostname } : {}) }] });

interface Seen {
  name: string;
  method: string;
  url: string;
  headers: Record<string, string>;
}

async function ask(ip: string, port: number, path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<{ status: number; headers: IncomingMessage['headers']; seen?: Seen }> {
  const r = await httpGet(ip, port, path, headers, method);
  let seen: Seen | undefined;
  try {
    seen = JSON.parse(r.body) as Seen;
  } catch {
    seen = undefined;
  }
  return { status: r.status, headers: r.headers, ...(seen ? { seen } : {}) };
}

async function httpSet(name: string): Promise<{ b: Backend; ts: TargetSet }> {
  const b = await httpBackend(name, backendIp());
  return { b, ts: ipSet(name, 'HTTP', [b.target]) };
}

describe('local provider, Gateway HTTP', () => {
  it('routes by path, header, query and method with the specification precedence; no listener or rule is 404', async () => {
    const p = await provider({ addressPool: POOL });
    const [a, b, c, d] = await Promise.all(['a', 'b', 'c', 'd'].map(httpSet));
    const rules = [
      rule('r1', [to('a')], { matches: [prefix('/')] }),
      rule('r2', [to('b')], { matches: [{ path: { type: 'Exact', value: '/exact' }, headers: [], queryParams: [] }] }),
      rule('r3', [to('c')], { matches: [{ path: { type: 'PathPrefix', value: '/' }, headers: [{ type: 'Exact', name: 'x-env', value: 'canary' }], queryParams: [] }] }),
      rule('r4', [to('d')], { matches: [{ path: { type: 'PathPrefix', value: '/' }, headers: [], queryParams: [{ type: 'Exact', name: 'v', value: '2' }], method: 'POST' }] }),
    ];
    const ip = ipOf(await p.ensure(gateway([http(8080, rules, '*.example.com')], [a!.ts, b!.ts, c!.ts, d!.ts])));
    const who = async (path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<string> => {
      const r = await ask(ip, 8080, path, { host: 'www.example.com', ...headers }, method);
      return r.seen?.name ?? String(r.status);
    };
    expect(await who('/x')).toBe('a');
    expect(await who('/exact')).toBe('b');
    expect(await who('/exact', { 'x-env': 'canary' })).toBe('b');
    expect(await who('/x', { 'x-env': 'canary' })).toBe('c');
    expect(await who('/x?v=2', { 'x-env': 'canary' }, 'POST')).toBe('d');
    expect(await who('/x?v=2', {}, 'GET')).toBe('a');
    expect((await ask(ip, 8080, '/', { host: 'example.org' })).status).toBe(404);
  });

  it('splits by weight within ±5% over 1000 requests; weight 0 gets nothing; an invalid backend share gets 500', async () => {
    const p = await provider({ addressPool: POOL });
    const [stable, canary, never] = await Promise.all(['stable', 'canary', 'never'].map(httpSet));
    const spec = gateway(
      [
        http(8080, [
          rule('split', [to('stable', 90), to('canary', 10), to('never', 0)], { matches: [prefix('/split')] }),
          rule('broken', [to('stable', 1), to(undefined, 1)], { matches: [prefix('/broken')] }),
          rule('none', [to(undefined, 1)], { matches: [prefix('/none')] }),
        ]),
      ],
      [stable!.ts, canary!.ts, never!.ts],
    );
    const ip = ipOf(await p.ensure(spec));
    const agent = new Agent({ keepAlive: true, maxSockets: 8 });
    onCleanup(() => agent.destroy());
    const get = (path: string): Promise<string> =>
      new Promise((resolve, reject) => {
        const req = request({ host: ip, port: 8080, path, agent }, (res) => {
          let body = '';
          res.on('data', (x: Buffer) => (body += x.toString()));
          res.on('end', () => resolve(res.statusCode === 200 ? (JSON.parse(body) as Seen).name : String(res.statusCode)));
        });
        req.on('error', reject);
        req.end();
      });
    const count = async (path: string, n: number): Promise<Record<string, number>> => {
      const out: Record<string, number> = {};
      for (let i = 0; i < n; i += 20) {
        const batch = await Promise.all(Array.from({ length: 20 }, () => get(path)));
        for (const k of batch) out[k] = (out[k] ?? 0) + 1;
      }
      return out;
    };
    const split = await count('/split', 1000);
    expect(Math.abs((split.stable ?? 0) / 1000 - 0.9)).toBeLessThanOrEqual(0.05);
    expect(Math.abs((split.canary ?? 0) / 1000 - 0.1)).toBeLessThanOrEqual(0.05);
    expect(split.never ?? 0).toBe(0);
    expect(never!.b.hits).toBe(0);
    const broken = await count('/broken', 200);
    expect(Math.abs((broken['500'] ?? 0) / 200 - 0.5)).toBeLessThanOrEqual(0.05);
    expect((broken.stable ?? 0) + (broken['500'] ?? 0)).toBe(200);
    expect(await count('/none', 20)).toEqual({ '500': 20 });
  });

  it('filters: request and response header modifiers, URLRewrite (full path, prefix, hostname), RequestRedirect', async () => {
    const p = await provider({ addressPool: POOL });
    const { ts } = (await httpSet('web'))!;
    const rules = [
      rule('headers', [to('web')], {
        matches: [prefix('/headers')],
        filters: [
          { type: 'RequestHeaderModifier', set: [{ name: 'X-Set', value: 'set' }], add: [{ name: 'X-Add', value: 'two' }], remove: ['x-remove'] },
          { type: 'ResponseHeaderModifier', set: [{ name: 'X-Resp', value: 'yes' }], add: [], remove: ['content-type'] },
        ],
      }),
      rule('full', [to('web')], { matches: [prefix('/full')], filters: [{ type: 'URLRewrite', hostname: 'rewritten.example', path: { type: 'ReplaceFullPath', value: '/replaced' } }] }),
      rule('prefix', [to('web')], { matches: [prefix('/api/v1')], filters: [{ type: 'URLRewrite', path: { type: 'ReplacePrefixMatch', value: '/v2' } }] }),
      rule('redirect', [], { matches: [prefix('/old')], filters: [{ type: 'RequestRedirect', scheme: 'https', hostname: 'new.example', path: { type: 'ReplacePrefixMatch', value: '/new' }, statusCode: 301 }] }),
      rule('redirect-port', [], { matches: [prefix('/port')], filters: [{ type: 'RequestRedirect', statusCode: 302 }] }),
    ];
    const ip = ipOf(await p.ensure(gateway([http(8080, rules)], [ts])));
    const h = await ask(ip, 8080, '/headers', { host: 'site.example', 'x-add': 'one', 'x-remove': 'gone', 'x-set': 'old' });
    expect(h.seen?.headers['x-set']).toBe('set');
    expect(h.seen?.headers['x-add']).toBe('one,two');
    expect(h.seen?.headers['x-remove']).toBeUndefined();
    expect(h.headers['x-resp']).toBe('yes');
    expect(h.headers['content-type']).toBeUndefined();

    const full = await ask(ip, 8080, '/full/deep?q=1', { host: 'site.example' });
    expect(full.seen?.url).toBe('/replaced?q=1');
    expect(full.seen?.headers.host).toBe('rewritten.example');
    expect((await ask(ip, 8080, '/api/v1/users/7', { host: 'site.example' })).seen?.url).toBe('/v2/users/7');
    expect((await ask(ip, 8080, '/api/v1', { host: 'site.example' })).seen?.url).toBe('/v2');

    const r = await ask(ip, 8080, '/old/page?x=y', { host: 'site.example' });
    expect([r.status, r.headers.location]).toEqual([301, 'https://new.example/new/page?x=y']);
    // No scheme, no port: the listener's port, the request's scheme and host.
    const r2 = await ask(ip, 8080, '/port/a', { host: 'site.example:8080' });
    expect([r2.status, r2.headers.location]).toEqual([302, 'http://site.example:8080/port/a']);
  });

  it('RequestMirror: the mirror backend sees the request, the client gets the primary answer', async () => {
    const p = await provider({ addressPool: POOL });
    const primary = (await httpSet('primary'))!;
    const mirrored: Seen[] = [];
    const mirror = await httpBackend('mirror', backendIp(), (req, res) => {
      let body = '';
      req.on('data', (x: Buffer) => (body += x.toString()));
      req.on('end', () => {
        mirrored.push({ name: body, method: req.method ?? '', url: req.url ?? '', headers: req.headers as Record<string, string> });
        res.writeHead(418).end('mirror answer');
      });
    });
    const rules = [rule('mirror', [to('primary')], { filters: [{ type: 'RequestMirror', targetSet: 'mirror', percent: 100 }] })];
    const ip = ipOf(await p.ensure(gateway([http(8080, rules)], [primary.ts, ipSet('mirror', 'HTTP', [mirror.target])])));
    const r = await ask(ip, 8080, '/copy?me=1', { host: 'm.example', 'x-trace': 't1' });
    expect([r.status, r.seen?.name]).toEqual([200, 'primary']);
    const post = await new Promise<number>((resolve, reject) => {
      const req = request({ host: ip, port: 8080, path: '/upload', method: 'POST', headers: { host: 'm.example' }, agent: false }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.end('payload');
    });
    expect(post).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(mirrored.map((m) => [m.method, m.url, m.headers['x-trace'] ?? '', m.name])).toEqual([
      ['GET', '/copy?me=1', 't1', ''],
      ['POST', '/upload', '', 'payload'],
    ]);
  });

  it('timeouts: request and backendRequest answer 504 when the backend is slower', async () => {
    const p = await provider({ addressPool: POOL });
    const slow = await httpBackend('slow', backendIp(), (req, res) => {
      const delay = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('ms') ?? '0');
      setTimeout(() => res.end('late'), delay);
    });
    const rules = [
      rule('req', [to('slow')], { matches: [prefix('/req')], timeouts: { requestMs: 200 } }),
      rule('be', [to('slow')], { matches: [prefix('/be')], timeouts: { backendRequestMs: 200 } }),
    ];
    const ip = ipOf(await p.ensure(gateway([http(8080, rules)], [ipSet('slow', 'HTTP', [slow.target])])));
    const t0 = Date.now();
    expect((await ask(ip, 8080, '/req?ms=1000')).status).toBe(504);
    expect(Date.now() - t0).toBeLessThan(900);
    expect((await ask(ip, 8080, '/be?ms=1000')).status).toBe(504);
    expect((await httpGet(ip, 8080, '/req?ms=10')).body).toBe('late');
    expect((await httpGet(ip, 8080, '/be?ms=10')).body).toBe('late');
  });

  it('passes WebSocket upgrades on an HTTP port (HTTP/1.1 beside h2c), with the rule\'s URLRewrite applied', async () => {
    const p = await provider({ addressPool: POOL });
    let seenUrl = '';
    const ws = await backend('ws', backendIp(), () => createHttpServer((_req, res) => res.end('plain')), (s) =>
      s.on('upgrade', (req: IncomingMessage, socket: Socket) => {
        seenUrl = req.url ?? '';
        socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
        socket.pipe(socket);
      }),
    );
    const rules = [rule('ws', [to('ws')], { matches: [prefix('/chat')], filters: [{ type: 'URLRewrite', path: { type: 'ReplacePrefixMatch', value: '/socket' } }] })];
    const ip = ipOf(await p.ensure(gateway([http(8080, rules)], [ipSet('ws', 'HTTP', [ws.target])])));
    const socket = await new Promise<Socket>((resolve, reject) => {
      const req = request({ host: ip, port: 8080, path: '/chat/room', agent: false, headers: { connection: 'Upgrade', upgrade: 'websocket' } });
      req.on('upgrade', (_r: IncomingMessage, sock: Socket) => resolve(sock));
      req.on('response', (r) => reject(new Error(`no upgrade: ${r.statusCode}`)));
      req.on('error', reject);
      req.end();
    });
    onCleanup(() => socket.destroy());
    const echoed = await new Promise<string>((resolve) => {
      socket.once('data', (d: Buffer) => resolve(d.toString()));
      socket.write('ping');
    });
    expect([seenUrl, echoed]).toEqual(['/socket/room', 'ping']);
  });

  it('a route update reaches the data path without dropping open connections (HTTP keep-alive, TCP)', async () => {
    const p = await provider({ addressPool: POOL });
    const [one, two] = await Promise.all(['one', 'two'].map(httpSet));
    const echo = await tcpBackend('echo', backendIp());
    const tcpPort = (set: string): GatewayPort => ({ protocol: 'TCP', port: 9000, listener: 'tcp', rules: [{ origin: { kind: 'TCPRoute', namespace: 'default', name: 't', creationTimestamp: '2026-01-01T00:00:00Z', ruleIndex: 0 }, backends: [to(set)] }] });
    const sets = [one!.ts, two!.ts, ipSet('echo', 'TCP', [echo.target])];
    const ip = ipOf(await p.ensure(gateway([http(8080, [rule('r', [to('one')])]), tcpPort('echo')], sets)));
    const binds = p.bindCount;

    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    onCleanup(() => agent.destroy());
    const sockets = new Set<Socket>();
    const get = (): Promise<string> =>
      new Promise((resolve, reject) => {
        const req = request({ host: ip, port: 8080, path: '/', agent }, (res) => {
          sockets.add(res.socket);
          let body = '';
          res.on('data', (x: Buffer) => (body += x.toString()));
          res.on('end', () => resolve((JSON.parse(body) as Seen).name));
        });
        req.on('error', reject);
        req.end();
      });
    expect(await get()).toBe('one');
    const conn = await openConnection(ip, 9000);
    expect(await conn.echo('before')).toBe('before');

    await p.ensure(gateway([http(8080, [rule('r', [to('two')])]), tcpPort('echo')], sets));
    expect(await get()).toBe('two');
    expect(sockets.size).toBe(1);
    expect(await conn.echo('after')).toBe('after');
    expect(p.bindCount).toBe(binds);
  });
});

describe('local provider, Gateway TLS', () => {
  let certA: ServingCert;
  let certB: ServingCert;
  let certBackend: ServingCert;
  beforeAll(() => {
    certA = selfSignedCert({ ips: [], dns: ['a.example.com'] }, 'a.example.com');
    certB = selfSignedCert({ ips: [], dns: ['*.b.example.com'] }, 'wildcard.b.example.com');
    certBackend = selfSignedCert({ ips: [], dns: ['pass.example.com'] }, 'backend-own');
  });
  const secret = (name: string, c: ServingCert, hosts: string[]): TlsCertificate => ({ source: 'secret', secretRef: { namespace: 'default', name }, hosts, certPem: c.certPem, keyPem: c.keyPem });

  function peer(ip: string, port: number, servername: string): Promise<{ cn: string; line: string }> {
    return new Promise((resolve, reject) => {
      const s = tlsConnect({ host: ip, port, servername, rejectUnauthorized: false }, () => {
        const cn = String(s.getPeerCertificate().subject?.CN);
        s.once('data', (d: Buffer) => {
          s.end();
          resolve({ cn, line: d.toString().trim() });
        });
        s.write('hello\n');
      });
      s.on('error', reject);
    });
  }

  it('HTTPS terminates with the certificate of the listener SNI selects', async () => {
    const p = await provider({ addressPool: POOL });
    const { ts } = (await httpSet('web'))!;
    const port: GatewayPort = {
      protocol: 'HTTPS',
      port: 8443,
      listeners: [
        { name: 'a', hostname: 'a.example.com', certificates: [secret('a', certA, [])], rules: [rule('ra', [to('web')])] },
        { name: 'b', hostname: '*.b.example.com', certificates: [secret('b', certB, [])], rules: [rule('rb', [to('web')])] },
      ],
    };
    const ip = ipOf(await p.ensure(gateway([port], [ts])));
    const cnFor = (servername: string): Promise<string> =>
      new Promise((resolve, reject) => {
        const req = httpsRequest({ host: ip, port: 8443, path: '/', servername, headers: { host: servername }, rejectUnauthorized: false, agent: false }, (res) => {
          const cn = String((res.socket as unknown as { getPeerCertificate(): { subject?: { CN?: string } } }).getPeerCertificate().subject?.CN);
          let body = '';
          res.on('data', (x: Buffer) => (body += x.toString()));
          res.on('end', () => resolve(`${cn} ${res.statusCode} ${(JSON.parse(body) as Seen).headers['x-forwarded-proto']}`));
        });
        req.on('error', reject);
        req.end();
      });
    expect(await cnFor('a.example.com')).toBe('a.example.com 200 https');
    expect(await cnFor('x.b.example.com')).toBe('wildcard.b.example.com 200 https');
  });

  /** A TLS backend with its own certificate that echoes what it reads, prefixed `backend-tls:`. */
  async function tlsEchoBackend(): Promise<{ ip: string; port: number }> {
    const ip = backendIp();
    const server = createTlsServer({ cert: certBackend.certPem, key: certBackend.keyPem }, (s) => {
      s.on('data', (d: Buffer) => s.write(`backend-tls:${d.toString()}`));
      s.on('error', () => s.destroy());
    });
    await new Promise<void>((resolve) => server.listen(0, ip, resolve));
    onCleanup(() => new Promise((resolve) => server.close(resolve)));
    return { ip, port: (server.address() as { port: number }).port };
  }

  it('TLS Passthrough by SNI reaches the backend with its own certificate; Terminate forwards plain TCP', async () => {
    const p = await provider({ addressPool: POOL });
    const tlsBackend = await tlsEchoBackend();
    const plain = await backend('plain', backendIp(), () => createNetServer(), (s) =>
      s.on('connection', (c: Socket) => {
        c.on('data', (d: Buffer) => c.write(`plain:${d.toString()}`));
        c.on('error', () => c.destroy());
      }),
    );
    const origin = (name: string) => ({ kind: 'TLSRoute' as const, namespace: 'default', name, creationTimestamp: '2026-01-01T00:00:00Z', ruleIndex: 0 });
    const port: GatewayPort = {
      protocol: 'TLS',
      port: 9443,
      listeners: [
        { name: 'pass', hostname: 'pass.example.com', mode: 'Passthrough', certificates: [], rules: [{ origin: origin('pass'), hostnames: [], backends: [to('pass')] }] },
        { name: 'term', hostname: 'a.example.com', mode: 'Terminate', certificates: [secret('a', certA, [])], rules: [{ origin: origin('term'), hostnames: [], backends: [to('plain')] }] },
      ],
    };
    const sets = [ipSet('pass', 'TCP', [tlsBackend]), ipSet('plain', 'TCP', [plain.target])];
    const ip = ipOf(await p.ensure(gateway([port], sets)));
    expect(await peer(ip, 9443, 'pass.example.com')).toEqual({ cn: 'backend-own', line: 'backend-tls:hello' });
    expect(await peer(ip, 9443, 'a.example.com')).toEqual({ cn: 'a.example.com', line: 'plain:hello' });
    // No listener for the name: the connection is refused.
    await expect(peer(ip, 9443, 'other.example.com')).rejects.toThrow();
  });

  it('HTTPS listeners sharing a TLS port: their names get HTTP/1.1 over TLS (keep-alive, X-Forwarded-Proto) with their certificate; Passthrough names keep the backend', async () => {
    const p = await provider({ addressPool: POOL });
    const { ts } = (await httpSet('web'))!;
    const tlsBackend = await tlsEchoBackend();
    const origin = { kind: 'TLSRoute' as const, namespace: 'default', name: 'pass', creationTimestamp: '2026-01-01T00:00:00Z', ruleIndex: 0 };
    const port: GatewayPort = {
      protocol: 'TLS',
      port: 9444,
      listeners: [{ name: 'pass', hostname: 'pass.example.com', mode: 'Passthrough', certificates: [], rules: [{ origin, hostnames: [], backends: [to('pass')] }] }],
      https: [{ name: 'web', hostname: 'a.example.com', certificates: [secret('a', certA, [])], rules: [rule('rw', [to('web')])] }],
    };
    const sets = [ts, ipSet('pass', 'TCP', [tlsBackend])];
    const ip = ipOf(await p.ensure(gateway([port], sets)));
    const agent = new HttpsAgent({ keepAlive: true, maxSockets: 1, rejectUnauthorized: false });
    onCleanup(() => agent.destroy());
    const sockets = new Set<unknown>();
    const get = (path: string): Promise<string> =>
      new Promise((resolve, reject) => {
        const req = httpsRequest({ host: ip, port: 9444, path, servername: 'a.example.com', headers: { host: 'a.example.com' }, agent }, (res) => {
          sockets.add(res.socket);
          const cn = String((res.socket as unknown as { getPeerCertificate(): { subject?: { CN?: string } } }).getPeerCertificate().subject?.CN);
          let body = '';
          res.on('data', (x: Buffer) => (body += x.toString()));
          res.on('end', () => {
            const seen = JSON.parse(body) as Seen;
            resolve(`${cn} ${res.statusCode} ${seen.url} ${seen.headers['x-forwarded-proto']}`);
          });
        });
        req.on('error', reject);
        req.end();
      });
    expect(await get('/one')).toBe('a.example.com 200 /one https');
    expect(await get('/two')).toBe('a.example.com 200 /two https');
    // Both requests on one TLS connection: the second one was read off the same socket.
    expect(sockets.size).toBe(1);
    expect(await peer(ip, 9444, 'pass.example.com')).toEqual({ cn: 'backend-own', line: 'backend-tls:hello' });
  });

  it('HTTPS listeners sharing a TLS port see the client address: X-Forwarded-For over HTTP/1.1 and over HTTP/2 (ALPN h2); Terminate names still forward', async () => {
    const p = await provider({ addressPool: POOL });
    const { ts } = (await httpSet('web'))!;
    const plain = await backend('plain', backendIp(), () => createNetServer(), (s) =>
      s.on('connection', (c: Socket) => {
        c.on('data', (d: Buffer) => c.write(`plain:${d.toString()}`));
        c.on('error', () => c.destroy());
      }),
    );
    const origin = { kind: 'TLSRoute' as const, namespace: 'default', name: 'term', creationTimestamp: '2026-01-01T00:00:00Z', ruleIndex: 0 };
    const port: GatewayPort = {
      protocol: 'TLS',
      port: 9445,
      listeners: [{ name: 'term', hostname: 'term.b.example.com', mode: 'Terminate', certificates: [secret('b', certB, [])], rules: [{ origin, hostnames: [], backends: [to('plain')] }] }],
      https: [{ name: 'web', hostname: 'a.example.com', certificates: [secret('a', certA, [])], rules: [rule('rw', [to('web')])] }],
    };
    const ip = ipOf(await p.ensure(gateway([port], [ts, ipSet('plain', 'TCP', [plain.target])])));
    const h1 = await new Promise<Seen>((resolve, reject) => {
      const req = httpsRequest({ host: ip, port: 9445, path: '/h1', servername: 'a.example.com', headers: { host: 'a.example.com' }, rejectUnauthorized: false, agent: false }, (res) => {
        let body = '';
        res.on('data', (x: Buffer) => (body += x.toString()));
        res.on('end', () => resolve(JSON.parse(body) as Seen));
      });
      req.on('error', reject);
      req.end();
    });
    expect([h1.url, h1.headers['x-forwarded-for'], h1.headers['x-forwarded-proto']]).toEqual(['/h1', '127.0.0.1', 'https']);
    const session = http2Connect(`https://${ip}:9445`, { servername: 'a.example.com', rejectUnauthorized: false });
    onCleanup(() => void session.close());
    session.on('error', () => undefined);
    const h2 = await new Promise<{ alpn: string | false | undefined; seen: Seen }>((resolve, reject) => {
      const stream = session.request({ ':path': '/h2', ':authority': 'a.example.com' });
      let body = '';
      stream.on('data', (x: Buffer) => (body += x.toString()));
      stream.on('end', () => resolve({ alpn: session.alpnProtocol, seen: JSON.parse(body) as Seen }));
      stream.on('error', reject);
      stream.end();
    });
    expect([h2.alpn, h2.seen.url, h2.seen.headers['x-forwarded-for'], h2.seen.headers['x-forwarded-proto']]).toEqual(['h2', '/h2', '127.0.0.1', 'https']);
    expect(await peer(ip, 9445, 'term.b.example.com')).toEqual({ cn: 'wildcard.b.example.com', line: 'plain:hello' });
  });

  it('a connection a TLS port hands to its HTTPS server: the refreshed fallback certificate, cleaned up when its handshake fails, refused outside sourceRanges', async () => {
    const ctx = createSecureContext({ cert: certA.certPem, key: certA.keyPem });
    const certs: CertificateSource = { fallback: { cert: certA.certPem, key: certA.keyPem }, select: () => ctx };
    let allowed = true;
    const agent = new Agent({ keepAlive: true });
    const upstream = new UpstreamPool();
    const https = new HttpProxyListener('127.0.0.1', 0, { allow: () => allowed, resolve: () => ({ kind: 'respond', status: 200, body: 'ok\n' }), agent, upstream }, { certs, http2: true });
    const tlsPort = new TlsProxyListener('127.0.0.1', 0, { allow: () => true, resolve: () => ({ mode: 'Https' }) }, { connectTimeoutMs: 1_000 });
    tlsPort.serveHttpsWith(https);
    await tlsPort.listen();
    onCleanup(() => {
      tlsPort.abort();
      agent.destroy();
      upstream.close();
    });
    const hello = (opts: ConnectionOptions): Promise<string> =>
      new Promise((resolve) => {
        const s = tlsConnect({ host: '127.0.0.1', port: tlsPort.boundPort, servername: 'a.example.com', ...opts }, () => {
          s.once('data', (d: Buffer) => resolve(d.toString().split('\r\n')[0]!));
          s.write('GET / HTTP/1.1\r\nhost: a.example.com\r\nconnection: close\r\n\r\n');
        });
        s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
        s.on('close', () => resolve('closed'));
      });
    const released = (what: string): Promise<void> =>
      waitFor(() => https.connections === 0 && tlsPort.connections === 0, 3_000, what).catch(() => {
        throw new Error(`${what}: still open ${https.connections} on the HTTPS server, ${tlsPort.connections} on the TLS port`);
      });
    expect(await hello({ rejectUnauthorized: false })).toBe('HTTP/1.1 200 OK');
    await released('the served connection to close');
    // A client without SNI gets the fallback certificate, the current one after a refresh.
    const fallbackName = (): Promise<string> =>
      new Promise((resolve, reject) => {
        const s = tlsConnect({ host: '127.0.0.1', port: tlsPort.boundPort, rejectUnauthorized: false }, () => {
          resolve(String(s.getPeerCertificate().subject?.CN));
          s.destroy();
        });
        s.on('error', reject);
      });
    expect(await fallbackName()).toBe('a.example.com');
    https.refreshCertificates({ fallback: { cert: certB.certPem, key: certB.keyPem }, select: () => undefined });
    expect(await fallbackName()).toBe('wildcard.b.example.com');
    await released('the connections that only looked at the certificate to close');
    // The client refuses the self-signed certificate and closes before the handshake is done (on main: left half-open for good).
    expect(await hello({})).toBe('DEPTH_ZERO_SELF_SIGNED_CERT');
    await released('the handshake the client aborted to be cleaned up');
    // No cipher in common with an RSA certificate: the server's side of the handshake fails.
    expect(await hello({ rejectUnauthorized: false, maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256' })).toMatch(/^ERR_SSL|^ECONNRESET$|^closed$/);
    await released('the handshake the server failed to be cleaned up');
    allowed = false;
    expect(await hello({ rejectUnauthorized: false })).toMatch(/^ECONNRESET$|^closed$/);
    await released('the refused connection to be cleaned up');
  });
});

describe('local provider, Gateway TCP and UDP', () => {
  it('TCP and UDP ports split connections and sessions by backend weight', async () => {
    const p = await provider({ addressPool: POOL });
    const [t1, t2] = await Promise.all([tcpBackend('t1', backendIp()), tcpBackend('t2', backendIp())]);
    const [u1, u2] = await Promise.all([udpBackend('u1', backendIp()), udpBackend('u2', backendIp())]);
    const origin = (kind: 'TCPRoute' | 'UDPRoute') => ({ kind, namespace: 'default', name: 'r', creationTimestamp: '2026-01-01T00:00:00Z', ruleIndex: 0 });
    const ports: GatewayPort[] = [
      { protocol: 'TCP', port: 9000, listener: 'tcp', rules: [{ origin: origin('TCPRoute'), backends: [to('t1', 3), to('t2', 1)] }] },
      { protocol: 'UDP', port: 9053, listener: 'udp', rules: [{ origin: origin('UDPRoute'), backends: [to('u1', 1), to('u2', 1)] }] },
    ];
    const sets = [ipSet('t1', 'TCP', [t1.target]), ipSet('t2', 'TCP', [t2.target]), ipSet('u1', 'UDP', [u1.target]), ipSet('u2', 'UDP', [u2.target])];
    const status = await p.ensure(gateway(ports, sets));
    const ip = ipOf(status);
    expect(status.ingress[0]?.ports).toEqual([
      { port: 9000, protocol: 'TCP' },
      { port: 9053, protocol: 'UDP' },
    ]);
    const names: Record<string, number> = {};
    for (let i = 0; i < 40; i++) {
      const n = await askName(ip, 9000);
      names[n] = (names[n] ?? 0) + 1;
    }
    expect(names).toEqual({ t1: 30, t2: 10 });
    const replies: string[] = [];
    for (let i = 0; i < 10; i++) replies.push((await udpAsk(ip, 9053, 'ping'))?.reply ?? 'none');
    expect(replies.filter((r) => r === 'u1:ping').length).toBe(5);
    expect(replies.filter((r) => r === 'u2:ping').length).toBe(5);
  });
});

describe('local provider, Gateway gRPC', () => {
  let cert: ServingCert;
  beforeAll(() => {
    cert = selfSignedCert({ ips: [], dns: ['grpc.example.com'] }, 'grpc.example.com');
  });

  const json = {
    serialize: (v: unknown) => Buffer.from(JSON.stringify(v)),
    deserialize: (b: Buffer) => JSON.parse(b.toString()) as Record<string, unknown>,
  };
  const method = (name: string) => ({ path: `/lbc.test.Echo/${name}`, requestStream: false, responseStream: false, requestSerialize: json.serialize, requestDeserialize: json.deserialize, responseSerialize: json.serialize, responseDeserialize: json.deserialize });
  const service = { Say: method('Say'), Fail: method('Fail') };

  async function grpcBackend(name: string): Promise<{ ip: string; port: number }> {
    const server = new grpc.Server();
    server.addService(service, {
      Say: (call: grpc.ServerUnaryCall<Record<string, unknown>, unknown>, cb: grpc.sendUnaryData<unknown>) => cb(null, { from: name, said: call.request.text, authority: call.getPath() }),
      Fail: (_call: unknown, cb: grpc.sendUnaryData<unknown>) => cb({ code: grpc.status.NOT_FOUND, details: 'no such thing' }),
    });
    const ip = backendIp();
    const port = await new Promise<number>((resolve, reject) => server.bindAsync(`${ip}:0`, grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
    onCleanup(() => new Promise<void>((resolve) => server.tryShutdown(() => resolve())));
    return { ip, port };
  }

  function call(client: grpc.Client, name: 'Say' | 'Fail', req: Record<string, unknown>): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) =>
      client.makeUnaryRequest(`/lbc.test.Echo/${name}`, json.serialize, json.deserialize, req, (e, v) => (e ? reject(e) : resolve(v ?? {}))),
    );
  }

  it('routes gRPC by service/method over h2c (HTTP) and h2 by ALPN (HTTPS) to h2c backends, status in trailers', async () => {
    const p = await provider({ addressPool: POOL });
    const [g1, g2] = await Promise.all([grpcBackend('g1'), grpcBackend('g2')]);
    // A GRPCRoute rule arrives with its method match written as a path match.
    const grpcRule = (name: string, path: HttpRequestMatch['path'], set: string): HttpRouteRule => ({
      ...rule(name, [to(set)], { matches: [{ path: path!, headers: [], queryParams: [] }], backendProtocol: 'h2c' }),
      origin: { kind: 'GRPCRoute', namespace: 'default', name, creationTimestamp: '2026-01-01T00:00:00Z', ruleIndex: 0 },
    });
    const rules = [grpcRule('say', { type: 'Exact', value: '/lbc.test.Echo/Say' }, 'g1'), grpcRule('rest', { type: 'PathPrefix', value: '/lbc.test.Echo' }, 'g2')];
    const ports: GatewayPort[] = [
      http(8080, rules),
      { protocol: 'HTTPS', port: 8443, listeners: [{ name: 'https', certificates: [{ source: 'secret', secretRef: { namespace: 'default', name: 'g' }, hosts: [], certPem: cert.certPem, keyPem: cert.keyPem }], rules }] },
    ];
    const sets = [ipSet('g1', 'HTTP', [{ ip: g1.ip, port: g1.port }]), ipSet('g2', 'HTTP', [{ ip: g2.ip, port: g2.port }])];
    const ip = ipOf(await p.ensure(gateway(ports, sets)));

    const plainClient = new grpc.Client(`${ip}:8080`, grpc.credentials.createInsecure());
    const tlsClient = new grpc.Client(`${ip}:8443`, grpc.credentials.createSsl(Buffer.from(cert.certPem)), { 'grpc.ssl_target_name_override': 'grpc.example.com', 'grpc.default_authority': 'grpc.example.com' });
    onCleanup(() => {
      plainClient.close();
      tlsClient.close();
    });
    for (const client of [plainClient, tlsClient]) {
      expect(await call(client, 'Say', { text: 'hi' })).toMatchObject({ from: 'g1', said: 'hi' });
      await expect(call(client, 'Fail', {})).rejects.toMatchObject({ code: grpc.status.NOT_FOUND, details: 'no such thing' });
    }
    // HTTP/1.1 still works on the same HTTP port (the h2c preface is sniffed).
    expect((await httpGet(ip, 8080, '/other')).status).toBe(404);
  });
});
