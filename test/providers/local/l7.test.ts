// L7 through the local provider over real sockets: Ingress routing, TLS by SNI,
// X-Forwarded-*, WebSocket, streaming, and failing backends. Backends on 127.0.13.x.
import { createHash, randomBytes } from 'node:crypto';
import { createServer as createHttpServer, request, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect, createServer, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { beforeAll, describe, expect, it } from 'vitest';
import { selfSignedCert, type ServingCert } from '../../../src/devcluster/tls.js';
import type { L7Spec, Rule, TlsCertificate } from '../../../src/model/spec.js';
import { isProviderError } from '../../../src/providers/types.js';
import { backend, httpBackend, httpGet, ipOf, ipSet, l7, onCleanup, provider, type Backend } from './support.js';

const POOL = '127.241.13.0/24';

const rule = (host: string | undefined, path: string, pathType: Rule['pathType'], targetSet: string): Rule => ({
  ...(host !== undefined ? { host } : {}),
  path,
  pathType,
  targetSet,
  source: 'default/site',
});

async function nameAt(ip: string, host: string, path: string, port = 80): Promise<string> {
  const r = await httpGet(ip, port, path, { host });
  if (r.status !== 200) return String(r.status);
  return (JSON.parse(r.body) as { name: string }).name;
}

describe('local provider, L7 routing', () => {
  it('routes by host (exact, wildcard, any) and path (Exact, Prefix by element, longest wins), else default backend', async () => {
    const p = await provider({ addressPool: POOL });
    const names = ['api', 'apiv2', 'exact', 'wild', 'web', 'default', 'root'];
    const backends = await Promise.all(names.map((n, i) => httpBackend(n, `127.0.13.${i + 1}`)));
    const set = (n: string): ReturnType<typeof ipSet> => ipSet(n, 'HTTP', [backends[names.indexOf(n)]!.target]);
    const spec = l7({
      rules: [
        rule('foo.example.com', '/api', 'Prefix', 'api'),
        rule('foo.example.com', '/api/v2/', 'Prefix', 'apiv2'),
        rule('foo.example.com', '/exact', 'Exact', 'exact'),
        rule('*.example.com', '/', 'Prefix', 'wild'),
        rule(undefined, '/web', 'Prefix', 'web'),
        rule('root.example.org', '/', 'Prefix', 'root'),
      ],
      defaultBackend: 'default',
      targetSets: names.map(set),
    });
    const ip = ipOf(await p.ensure(spec));
    const table: [string, string, string][] = [
      ['foo.example.com', '/api', 'api'],
      ['foo.example.com', '/api/', 'api'],
      ['foo.example.com', '/api/users?x=1', 'api'],
      ['FOO.example.com:80', '/api/users', 'api'],
      ['foo.example.com', '/apix', 'default'],
      ['foo.example.com', '/api/v2', 'apiv2'],
      ['foo.example.com', '/api/v2/items', 'apiv2'],
      ['foo.example.com', '/api/v22', 'api'],
      ['foo.example.com', '/exact', 'exact'],
      ['foo.example.com', '/exact/', 'default'],
      // The exact host tier matched: no fall-through to the wildcard's '/'.
      ['foo.example.com', '/', 'default'],
      ['bar.example.com', '/', 'wild'],
      ['bar.example.com', '/web', 'wild'],
      ['a.b.example.com', '/web/page', 'web'],
      ['example.com', '/web', 'web'],
      ['other.test', '/webx', 'default'],
      ['other.test', '/', 'default'],
      ['root.example.org', '/anything/at/all', 'root'],
    ];
    const got: [string, string, string][] = [];
    for (const [host, path] of table) got.push([host, path, await nameAt(ip, host, path)]);
    expect(got).toEqual(table);
  });

  it("serves the Kubernetes Ingress docs' path and host examples over real sockets (404 where nothing matches)", async () => {
    const p = await provider({ addressPool: POOL });
    const a = await httpBackend('a', '127.0.13.31');
    const b = await httpBackend('b', '127.0.13.32');
    const targetSets = [ipSet('a', 'HTTP', [a.target]), ipSet('b', 'HTTP', [b.target])];
    type Row = [rules: [string, string, Rule['pathType'], string?][], host: string, path: string, want: string];
    // docs: concepts/services-networking/ingress, "Examples" (paths) and "Hostname wildcards".
    const table: Row[] = [
      [[['a', '/', 'Prefix']], 'example.com', '/anything', 'a'],
      [[['a', '/foo', 'Exact']], 'example.com', '/foo', 'a'],
      [[['a', '/foo', 'Exact']], 'example.com', '/bar', '404'],
      [[['a', '/foo', 'Exact']], 'example.com', '/foo/', '404'],
      [[['a', '/foo/', 'Exact']], 'example.com', '/foo', '404'],
      [[['a', '/foo', 'Prefix']], 'example.com', '/foo', 'a'],
      [[['a', '/foo', 'Prefix']], 'example.com', '/foo/', 'a'],
      [[['a', '/foo/', 'Prefix']], 'example.com', '/foo', 'a'],
      [[['a', '/aaa/bb', 'Prefix']], 'example.com', '/aaa/bbb', '404'],
      [[['a', '/aaa/bbb', 'Prefix']], 'example.com', '/aaa/bbb', 'a'],
      [[['a', '/aaa/bbb/', 'Prefix']], 'example.com', '/aaa/bbb', 'a'],
      [[['a', '/aaa/bbb', 'Prefix']], 'example.com', '/aaa/bbb/', 'a'],
      [[['a', '/aaa/bbb', 'Prefix']], 'example.com', '/aaa/bbb/ccc', 'a'],
      [[['a', '/aaa/bbb', 'Prefix']], 'example.com', '/aaa/bbbxyz', '404'],
      [[['a', '/', 'Prefix'], ['b', '/aaa', 'Prefix']], 'example.com', '/aaa/ccc', 'b'],
      [[['a', '/aaa', 'Prefix'], ['b', '/aaa/bbb', 'Prefix']], 'example.com', '/aaa/bbb', 'b'],
      [[['a', '/aaa', 'Prefix'], ['b', '/aaa/bbb', 'Prefix']], 'example.com', '/aaa/ccc', 'a'],
      [[['a', '/', 'Prefix'], ['b', '/aaa', 'Prefix']], 'example.com', '/ccc', 'a'],
      [[['a', '/aaa', 'Prefix']], 'example.com', '/ccc', '404'],
      [[['a', '/aaa', 'Prefix'], ['b', '/aaa', 'Exact']], 'example.com', '/aaa', 'b'],
      [[['a', '/aaa', 'Prefix'], ['b', '/aaa', 'Exact']], 'example.com', '/aaa/x', 'a'],
      [[['a', '/', 'Prefix', '*.foo.com']], 'bar.foo.com', '/', 'a'],
      [[['a', '/', 'Prefix', '*.foo.com']], 'baz.bar.foo.com', '/', '404'],
      [[['a', '/', 'Prefix', '*.foo.com']], 'foo.com', '/', '404'],
      [[['a', '/', 'Prefix', '*.foo.com'], ['b', '/', 'Prefix', 'bar.foo.com']], 'bar.foo.com', '/', 'b'],
    ];
    const got: string[] = [];
    const want: string[] = [];
    let ip = '';
    for (const [rules, host, path, expected] of table) {
      const spec = l7({ rules: rules.map(([ts, pth, type, h]) => rule(h, pth, type, ts)), targetSets });
      ip = ipOf(await p.ensure(spec));
      got.push(`${host}${path} -> ${await nameAt(ip, host, path)}`);
      want.push(`${host}${path} -> ${expected}`);
    }
    expect(got).toEqual(want);
  });

  it('answers 404 when nothing matches and there is no default backend, 503 for a backend with no endpoints', async () => {
    const p = await provider({ addressPool: POOL });
    const web = await httpBackend('web', '127.0.13.10');
    const ip = ipOf(
      await p.ensure(
        l7({
          rules: [rule('a.test', '/', 'Prefix', 'web'), rule('b.test', '/', 'Prefix', 'empty')],
          targetSets: [ipSet('web', 'HTTP', [web.target]), ipSet('empty', 'HTTP', [])],
        }),
      ),
    );
    expect(await nameAt(ip, 'a.test', '/')).toBe('web');
    expect((await httpGet(ip, 80, '/', { host: 'c.test' })).status).toBe(404);
    expect((await httpGet(ip, 80, '/', { host: 'b.test' })).status).toBe(503);
  });

  it('round-robins over the target set and sets X-Forwarded-For (appending), -Proto, -Host', async () => {
    const p = await provider({ addressPool: POOL });
    const [a, b] = await Promise.all([httpBackend('web-a', '127.0.13.11'), httpBackend('web-b', '127.0.13.12')]);
    const ip = ipOf(await p.ensure(l7({ defaultBackend: 'web', targetSets: [ipSet('web', 'HTTP', [a.target, b.target])] })));
    const seen: string[] = [];
    for (let i = 0; i < 4; i++) seen.push(await nameAt(ip, 'shop.test', '/'));
    expect(seen.sort()).toEqual(['web-a', 'web-a', 'web-b', 'web-b']);
    const r = await httpGet(ip, 80, '/x', { host: 'shop.test:80', 'x-forwarded-for': '203.0.113.7', connection: 'x-secret', 'x-secret': 'hop' });
    const h = (JSON.parse(r.body) as { headers: Record<string, string> }).headers;
    expect(h['x-forwarded-for']).toBe('203.0.113.7, 127.0.0.1');
    expect(h['x-forwarded-proto']).toBe('http');
    expect(h['x-forwarded-host']).toBe('shop.test:80');
    expect(h['x-forwarded-port']).toBe('80');
    expect(h.host).toBe('shop.test:80');
    // Headers the client marked hop-by-hop stay on its own connection.
    expect(h['x-secret']).toBeUndefined();
  });

  it("passes the backend's response headers as they came (repeats, case) less its hop-by-hop ones", async () => {
    const p = await provider({ addressPool: POOL });
    const web = await httpBackend('web', '127.0.13.61', (req, res) => {
      req.resume();
      res.writeHead(200, [
        ['X-App', 'one'],
        ['Set-Cookie', 'a=1'],
        ['Set-Cookie', 'b=2'],
        ['Connection', 'X-Private, keep-alive'],
        ['X-Private', 'hop'],
        ['Keep-Alive', 'timeout=99'],
        ['Content-Length', '2'],
      ].flat());
      res.end('ok');
    });
    const ip = ipOf(await p.ensure(l7({ defaultBackend: 'web', targetSets: [ipSet('web', 'HTTP', [web.target])] })));
    const r = await httpGet(ip, 80, '/', { host: 'shop.test' });
    expect(r.status).toBe(200);
    expect(r.body).toBe('ok');
    expect(r.headers['x-app']).toBe('one');
    expect(r.headers['set-cookie']).toEqual(['a=1', 'b=2']);
    expect(r.headers['x-private']).toBeUndefined();
    expect(r.headers['keep-alive']).not.toBe('timeout=99');
  });

  it('gives 502 when the backend refuses, and keeps serving', async () => {
    const p = await provider({ addressPool: POOL });
    const good = await httpBackend('good', '127.0.13.13');
    const probe = createServer();
    await new Promise<void>((r) => probe.listen({ host: '127.0.13.14', port: 0 }, r));
    const deadPort = (probe.address() as { port: number }).port;
    await new Promise((r) => probe.close(r));
    const ip = ipOf(
      await p.ensure(
        l7({
          rules: [rule('dead.test', '/', 'Prefix', 'dead'), rule('good.test', '/', 'Prefix', 'good')],
          targetSets: [ipSet('dead', 'HTTP', [{ ip: '127.0.13.14', port: deadPort }]), ipSet('good', 'HTTP', [good.target])],
        }),
      ),
    );
    const r = await httpGet(ip, 80, '/', { host: 'dead.test' });
    expect(r.status).toBe(502);
    expect(await nameAt(ip, 'good.test', '/')).toBe('good');
  });

  it('lets an in-flight request finish after delete while refusing new connections', async () => {
    const p = await provider({ addressPool: POOL, drainTimeoutMs: 5_000 });
    let finish!: () => void;
    const gate = new Promise<void>((r) => (finish = r));
    const slow = await httpBackend('slow', '127.0.13.17', (_req, res) => {
      res.writeHead(200);
      res.write('started;');
      void gate.then(() => res.end('finished'));
    });
    const spec = l7({ defaultBackend: 'slow', targetSets: [ipSet('slow', 'HTTP', [slow.target])] });
    const ip = ipOf(await p.ensure(spec));
    let started!: () => void;
    const firstBytes = new Promise<void>((r) => (started = r));
    const inflight = new Promise<string>((done, reject) => {
      const req = request({ host: ip, port: 80, path: '/', agent: false }, (res) => {
        let b = '';
        res.on('data', (d: Buffer) => {
          b += d.toString();
          started();
        });
        res.on('end', () => done(b));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end();
    });
    await firstBytes;
    await p.delete(spec.ref);
    await expect(httpGet(ip, 80, '/')).rejects.toThrow(/ECONNREFUSED/);
    finish();
    expect(await inflight).toBe('started;finished');
    await p.drained();
  });

  it('cuts the client when the backend resets after the response started', async () => {
    const p = await provider({ addressPool: POOL });
    const bad = await httpBackend('bad', '127.0.13.15', (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('partial');
      setTimeout(() => res.socket?.destroy(), 20);
    });
    const good = await httpBackend('good', '127.0.13.16');
    const ip = ipOf(
      await p.ensure(
        l7({
          rules: [rule('bad.test', '/', 'Prefix', 'bad'), rule('good.test', '/', 'Prefix', 'good')],
          targetSets: [ipSet('bad', 'HTTP', [bad.target]), ipSet('good', 'HTTP', [good.target])],
        }),
      ),
    );
    await expect(httpGet(ip, 80, '/', { host: 'bad.test' })).rejects.toThrow();
    expect(await nameAt(ip, 'good.test', '/')).toBe('good');
  });
});

describe('local provider, L7 TLS', () => {
  let certA: ServingCert;
  let certB: ServingCert;
  beforeAll(() => {
    certA = selfSignedCert({ ips: [], dns: ['a.example.com'] }, 'a.example.com');
    certB = selfSignedCert({ ips: [], dns: ['*.b.example.com'] }, 'wildcard.b.example.com');
  });

  const secret = (name: string, c: ServingCert, hosts: string[]): TlsCertificate & { source: 'secret' } => ({
    source: 'secret',
    secretRef: { namespace: 'default', name },
    hosts,
    certPem: c.certPem,
    keyPem: c.keyPem,
  });

  function peerCn(ip: string, servername?: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const s = tlsConnect({ host: ip, port: 443, rejectUnauthorized: false, ...(servername ? { servername } : {}) }, () => {
        const cn = s.getPeerCertificate().subject?.CN;
        s.end();
        resolve(String(cn));
      });
      s.on('error', reject);
    });
  }

  function spec(certs: TlsCertificate[], web: Backend): L7Spec {
    return l7({
      listeners: [
        { protocol: 'HTTP', port: 80 },
        { protocol: 'HTTPS', port: 443, certificates: certs },
      ],
      defaultBackend: 'web',
      targetSets: [ipSet('web', 'HTTP', [web.target])],
    });
  }

  it('terminates TLS with the certificate SNI selects (exact, then wildcard, else the first)', async () => {
    const p = await provider({ addressPool: POOL });
    const web = await httpBackend('web', '127.0.13.20');
    const both = spec([secret('a-tls', certA, ['a.example.com']), secret('b-tls', certB, ['*.b.example.com'])], web);
    const status = await p.ensure(both);
    const ip = ipOf(status);
    const binds = p.bindCount;
    expect(await p.plan(both)).toEqual([]);
    expect(await p.ensure(both)).toEqual(status);
    expect(p.bindCount).toBe(binds);
    expect(status.ingress[0]?.ports).toEqual([
      { port: 80, protocol: 'TCP' },
      { port: 443, protocol: 'TCP' },
    ]);
    expect(await peerCn(ip, 'a.example.com')).toBe('a.example.com');
    expect(await peerCn(ip, 'x.b.example.com')).toBe('wildcard.b.example.com');
    expect(await peerCn(ip, 'unknown.test')).toBe('a.example.com');
    expect(await peerCn(ip)).toBe('a.example.com');

    const body = await new Promise<string>((resolve, reject) => {
      const req = httpsRequest({ host: ip, port: 443, path: '/', servername: 'a.example.com', headers: { host: 'a.example.com' }, ca: certA.certPem, agent: false }, (res) => {
        let b = '';
        res.on('data', (d: Buffer) => (b += d.toString()));
        res.on('end', () => resolve(b));
      });
      req.on('error', reject);
      req.end();
    });
    const h = (JSON.parse(body) as { headers: Record<string, string> }).headers;
    expect(h['x-forwarded-proto']).toBe('https');
    expect(h['x-forwarded-host']).toBe('a.example.com');
  });

  it('rotates a certificate in place, without rebinding', async () => {
    const p = await provider({ addressPool: POOL });
    const web = await httpBackend('web', '127.0.13.24');
    const ip = ipOf(await p.ensure(spec([secret('a-tls', certA, ['a.example.com'])], web)));
    const binds = p.bindCount;
    const rotated = spec([{ ...secret('a-tls', certB, ['a.example.com']) }], web);
    expect((await p.plan(rotated)).map((c) => `${c.op} ${c.resource} ${c.id}`)).toEqual(['update Listener HTTPS:443']);
    await p.ensure(rotated);
    expect(p.bindCount).toBe(binds);
    expect(await peerCn(ip, 'a.example.com')).toBe('wildcard.b.example.com');
    expect(await peerCn(ip)).toBe('wildcard.b.example.com');
  });

  it('reports a bad Secret as invalid, naming it, and leaves HTTP and the good certificates serving', async () => {
    const p = await provider({ addressPool: POOL });
    const web = await httpBackend('web', '127.0.13.21');
    const good = spec([secret('a-tls', certA, ['a.example.com'])], web);
    const ip = ipOf(await p.ensure(good));
    const binds = p.bindCount;
    const broken = spec([secret('a-tls', certA, ['a.example.com']), { ...secret('bad-tls', certB, ['x.b.example.com']), keyPem: 'not a key' }], web);
    const err = await p.ensure(broken).catch((e: unknown) => e);
    expect(isProviderError(err) && err.kind).toBe('invalid');
    expect(String((err as Error).message)).toContain('Secret default/bad-tls');
    expect(p.bindCount).toBe(binds);
    expect(await peerCn(ip, 'a.example.com')).toBe('a.example.com');
    expect(await nameAt(ip, 'x.b.example.com', '/')).toBe('web');
    // The broken certificate is not in service, so plan still shows the listener to update.
    expect((await p.plan(broken)).map((c) => `${c.op} ${c.resource} ${c.id}`)).toEqual(['update Listener HTTPS:443']);
    // A bad edit to a Secret that already served keeps its previous version in service.
    const edited = spec([{ ...secret('a-tls', certA, ['a.example.com']), certPem: '-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----\n' }], web);
    await expect(p.ensure(edited)).rejects.toThrow(/Secret default\/a-tls.*previous version/);
    expect(await peerCn(ip, 'a.example.com')).toBe('a.example.com');
  });

  it('refuses HTTP and HTTPS clients from outside sourceRanges, and survives a garbage handshake', async () => {
    const p = await provider({ addressPool: POOL });
    const web = await httpBackend('web', '127.0.13.23');
    const ip = ipOf(await p.ensure({ ...spec([secret('a-tls', certA, ['a.example.com'])], web), sourceRanges: ['127.0.0.0/24'] }));
    const from = (localAddress: string, tls: boolean): Promise<number> =>
      new Promise((resolve, reject) => {
        const opts = { host: ip, port: tls ? 443 : 80, path: '/', localAddress, agent: false as const, headers: { host: 'a.example.com' } };
        const req = tls ? httpsRequest({ ...opts, rejectUnauthorized: false, servername: 'a.example.com' }) : request(opts);
        req.on('response', (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end();
      });
    expect(await from('127.0.0.5', false)).toBe(200);
    expect(await from('127.0.0.5', true)).toBe(200);
    await expect(from('127.0.13.99', false)).rejects.toThrow();
    await expect(from('127.0.13.99', true)).rejects.toThrow();
    const garbage = await new Promise<string>((resolve) => {
      const s = connect({ host: ip, port: 443, localAddress: '127.0.0.5' });
      s.on('error', () => resolve('error'));
      s.on('close', () => resolve('closed'));
      s.write('this is not a TLS ClientHello\r\n\r\n');
    });
    expect(['error', 'closed']).toContain(garbage);
    expect(await from('127.0.0.5', true)).toBe(200);
  });

  it('does not start HTTPS when no certificate loads, and HTTP still works', async () => {
    const p = await provider({ addressPool: POOL });
    const web = await httpBackend('web', '127.0.13.22');
    const err = await p.ensure(spec([{ ...secret('bad-tls', certA, []), keyPem: 'garbage' }], web)).catch((e: unknown) => e);
    expect(isProviderError(err) && err.kind).toBe('invalid');
    const ip = p.inspect({ kind: 'Ingress', namespace: 'default', name: 'site', uid: 'uid-site' })!.address;
    expect(await nameAt(ip, 'a.test', '/')).toBe('web');
    await expect(peerCn(ip, 'a.example.com')).rejects.toThrow(/ECONNREFUSED/);
  });
});

describe('local provider, L7 streams', () => {
  it('passes WebSocket upgrades through and splices the sockets', async () => {
    const p = await provider({ addressPool: POOL });
    let seenHeaders: IncomingMessage['headers'] = {};
    const ws = await backend(
      'ws',
      '127.0.13.30',
      () => createHttpServer((_req, res) => res.end('plain')),
      (s) =>
        s.on('upgrade', (req: IncomingMessage, socket: Socket) => {
          seenHeaders = req.headers;
          const accept = createHash('sha1')
            .update(`${String(req.headers['sec-websocket-key'])}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`)
            .digest('base64');
          socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
          socket.pipe(socket);
        }),
    );
    const ip = ipOf(await p.ensure(l7({ defaultBackend: 'ws', targetSets: [ipSet('ws', 'HTTP', [ws.target])] })));
    const key = randomBytes(16).toString('base64');
    const { res, socket } = await new Promise<{ res: IncomingMessage; socket: Socket }>((resolve, reject) => {
      const req = request({
        host: ip,
        port: 80,
        path: '/chat',
        agent: false,
        headers: { host: 'chat.test', connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-key': key, 'sec-websocket-version': '13' },
      });
      req.on('upgrade', (r: IncomingMessage, s: Socket) => resolve({ res: r, socket: s }));
      req.on('response', (r) => reject(new Error(`no upgrade: ${r.statusCode}`)));
      req.on('error', reject);
      req.end();
    });
    onCleanup(() => socket.destroy());
    expect(res.statusCode).toBe(101);
    expect(res.headers['sec-websocket-accept']).toBe(createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64'));
    expect(seenHeaders.upgrade).toBe('websocket');
    expect(seenHeaders['x-forwarded-for']).toBe('127.0.0.1');
    const echoed = await new Promise<string>((resolve) => {
      let got = '';
      socket.on('data', (d: Buffer) => {
        got += d.toString();
        if (got.length >= 11) resolve(got);
      });
      socket.write('hello there');
    });
    expect(echoed).toBe('hello there');
  });

  const MB = 1024 * 1024;
  const TOTAL = 20 * MB;

  it('streams a 20 MB response: the first megabyte arrives before the backend writes the rest', async () => {
    const p = await provider({ addressPool: POOL });
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    const big = await httpBackend('big', '127.0.13.31', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.write(Buffer.alloc(MB, 1));
      void released.then(async () => {
        for (let sent = MB; sent < TOTAL; sent += MB) {
          if (!res.write(Buffer.alloc(MB, 2))) await new Promise((r) => res.once('drain', r));
        }
        res.end();
      });
    });
    const ip = ipOf(await p.ensure(l7({ defaultBackend: 'big', targetSets: [ipSet('big', 'HTTP', [big.target])] })));
    const received = await new Promise<number>((resolve, reject) => {
      const req = request({ host: ip, port: 80, path: '/big', agent: false }, (res) => {
        let n = 0;
        res.on('data', (d: Buffer) => {
          n += d.length;
          // The backend holds the rest back until the client has seen bytes: a buffering proxy would hang here.
          if (n >= MB) release();
        });
        res.on('end', () => resolve(n));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end();
    });
    expect(received).toBe(TOTAL);
  });

  it('streams a 20 MB upload: the backend sees the first megabyte before the client sends the rest', async () => {
    const p = await provider({ addressPool: POOL });
    let gotFirst!: () => void;
    const firstArrived = new Promise<void>((r) => (gotFirst = r));
    const sink = await httpBackend('sink', '127.0.13.32', (req, res) => {
      let n = 0;
      req.on('data', (d: Buffer) => {
        n += d.length;
        if (n >= MB) gotFirst();
      });
      req.on('end', () => res.end(String(n)));
    });
    const ip = ipOf(await p.ensure(l7({ defaultBackend: 'sink', targetSets: [ipSet('sink', 'HTTP', [sink.target])] })));
    const reply = new Promise<string>((resolve, reject) => {
      const req = request({ host: ip, port: 80, path: '/upload', method: 'POST', agent: false }, (res) => {
        let b = '';
        res.on('data', (d: Buffer) => (b += d.toString()));
        res.on('end', () => resolve(b));
      });
      req.on('error', reject);
      void (async () => {
        req.write(Buffer.alloc(MB, 1));
        await firstArrived;
        for (let sent = MB; sent < TOTAL; sent += MB) {
          if (!req.write(Buffer.alloc(MB, 2))) await new Promise((r) => req.once('drain', r));
        }
        req.end();
      })();
    });
    expect(await reply).toBe(String(TOTAL));
  });
});
