// The L7 listener's own HTTP/1.1 intake (http1-intake.ts): what it takes, hands to Node's
// server or refuses; the same bytes against a plain Node http.Server must get the same
// status (llhttp is the reference for what a request smuggler may not get through); then
// pipelining, chunked bodies both ways, aborts on either side, keep-alive reuse,
// back-pressure, and the connections it hands over (Upgrade, HTTP/1.0, a route it does not
// forward itself).
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { connect, createServer, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { describe, expect, it } from 'vitest';
import type { L7Decision, L7Request } from '../../../src/providers/local/http-router.js';
import { parseRequestHead } from '../../../src/providers/local/http1-intake.js';
import { TargetSetRuntime } from '../../../src/providers/local/target-set.js';
import { selfSignedCert } from '../../../src/devcluster/tls.js';
import { ipSet, onCleanup, proxyListener, waitFor } from './support.js';

const HOST = '127.0.23.1';
const LB = '127.0.23.2';

/** A Node backend that answers `METHOD URL body=<bytes it read>` and counts requests and connections. */
async function echoBackend(): Promise<{ port: number; requests: string[]; connections: number; server: HttpServer }> {
  const b = { port: 0, requests: [] as string[], connections: 0, server: createHttpServer() };
  const sockets = new Set<Socket>();
  b.server.on('connection', (s: Socket) => {
    b.connections++;
    sockets.add(s);
  });
  b.server.on('request', (req, res) => {
    let n = '';
    req.setEncoding('latin1');
    req.on('data', (d: string) => (n += d));
    req.on('end', () => {
      b.requests.push(`${req.method ?? ''} ${req.url ?? ''} ${n}`);
      res.end(`${req.method ?? ''} ${req.url ?? ''} body=${n}`);
    });
  });
  await new Promise<void>((resolve) => b.server.listen(0, HOST, resolve));
  b.port = (b.server.address() as { port: number }).port;
  onCleanup(() => {
    // Upgraded sockets are no longer the server's: closeAllConnections would miss them.
    for (const s of sockets) s.destroy();
    return new Promise((r) => b.server.close(r));
  });
  return b;
}

/** A listener in front of port; `decide` may change the decision (defaults to a plain forward). */
async function listener(port: number, opts: { decide?: (d: L7Decision, req: L7Request) => L7Decision; tls?: boolean } = {}) {
  const ts = new TargetSetRuntime(ipSet('t', 'HTTP', [{ ip: HOST, port }]), { healthChecks: false });
  const resolved: string[] = [];
  const certs = opts.tls ? selfSignedCert({ ips: [LB], dns: [] }, 'lb.test') : undefined;
  const { listener: l, upstream, accepted } = await proxyListener(
    LB,
    (req) => {
      resolved.push(`${req.method ?? ''} ${req.url ?? ''}`);
      const d: L7Decision = { kind: 'forward', targetSet: ts };
      return opts.decide ? opts.decide(d, req) : d;
    },
    certs ? { certs: { fallback: { cert: certs.certPem, key: certs.keyPem }, select: () => undefined } } : {},
  );
  return { port: l.boundPort, upstream, resolved, accepted, listener: l };
}

/** A byte-level backend on its own port; every connection it took is destroyed at cleanup (a paused one never reads the proxy's close). */
async function rawBackend(onSocket: (s: Socket) => void): Promise<number> {
  const held = new Set<Socket>();
  const backend = createServer((s) => {
    held.add(s);
    s.on('error', () => s.destroy());
    onSocket(s);
  });
  await new Promise<void>((r) => backend.listen(0, HOST, r));
  onCleanup(() => {
    for (const s of held) s.destroy();
    return new Promise((r) => backend.close(r));
  });
  return (backend.address() as { port: number }).port;
}

/** Writes bytes on a new connection, collects what comes back until the server closes or `idleMs` pass without a byte. */
function raw(port: number, bytes: string | Buffer, idleMs = 300, host = LB): Promise<string> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    let got = '';
    let timer = setTimeout(() => s.destroy(), idleMs * 3);
    s.on('data', (d: Buffer) => {
      got += d.toString('latin1');
      clearTimeout(timer);
      timer = setTimeout(() => s.destroy(), idleMs);
    });
    s.on('error', () => undefined);
    s.on('close', () => {
      clearTimeout(timer);
      resolve(got);
    });
    s.write(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes);
  });
}

/** Status codes of every response in a byte stream, in order. */
const statuses = (text: string): number[] => [...text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));

/** A plain Node server with the listener's clientError answer: what llhttp makes of the same bytes. */
async function nodeReference(): Promise<number> {
  const s = createHttpServer({ requestTimeout: 0 }, (req, res) => {
    req.resume();
    req.on('end', () => res.end('ok'));
  });
  s.on('clientError', (_e, socket: Socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });
  await new Promise<void>((resolve) => s.listen(0, HOST, resolve));
  onCleanup(() => {
    s.closeAllConnections();
    return new Promise((r) => s.close(r));
  });
  return (s.address() as { port: number }).port;
}

const POST = 'POST / HTTP/1.1\r\nHost: a\r\n';
const SMUGGLED = 'GET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n';

/** Requests llhttp refuses (its error code in the name) or takes, each followed by a request a smuggler would hide in it. */
const CASES: Record<string, string> = {
  'HPE_UNEXPECTED_CONTENT_LENGTH: two equal Content-Lengths': `${POST}Content-Length: 1\r\nContent-Length: 1\r\n\r\nx${SMUGGLED}`,
  'HPE_INVALID_CONTENT_LENGTH: a list': `${POST}Content-Length: 1, 1\r\n\r\nx${SMUGGLED}`,
  'HPE_INVALID_CONTENT_LENGTH: a sign': `${POST}Content-Length: +1\r\n\r\nx${SMUGGLED}`,
  'HPE_INVALID_CONTENT_LENGTH: empty': `${POST}Content-Length: \r\n\r\n${SMUGGLED}`,
  'HPE_INVALID_TRANSFER_ENCODING: Content-Length and chunked (CL.TE)': `${POST}Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${SMUGGLED}`,
  'HPE_INVALID_TRANSFER_ENCODING: chunked and Content-Length (TE.CL)': `${POST}Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n${(SMUGGLED.length + 2).toString(16)}\r\n${SMUGGLED}\r\n0\r\n\r\n`,
  'HPE_INVALID_TRANSFER_ENCODING: a coding other than chunked last': `${POST}Transfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n${SMUGGLED}`,
  'HPE_INVALID_TRANSFER_ENCODING: chunked twice': `${POST}Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${SMUGGLED}`,
  'HPE_INVALID_HEADER_TOKEN: space before the colon': `${POST}Transfer-Encoding : chunked\r\nContent-Length: 1\r\n\r\nx${SMUGGLED}`,
  'HPE_INVALID_HEADER_TOKEN: obs-fold': `GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n${SMUGGLED}`,
  'HPE_CR_EXPECTED: a bare LF ending a header': `GET / HTTP/1.1\r\nHost: a\nContent-Length: 1\r\n\r\nx${SMUGGLED}`,
  'HPE_LF_EXPECTED: a bare CR in a header': `GET / HTTP/1.1\r\nHost: a\rContent-Length: 1\r\n\r\nx${SMUGGLED}`,
  'HPE_INVALID_HEADER_TOKEN: NUL in a value': `GET / HTTP/1.1\r\nHost: a\r\nX: a\x00b\r\n\r\n${SMUGGLED}`,
  'HPE_INVALID_METHOD: an unknown method': `FOO / HTTP/1.1\r\nHost: a\r\n\r\n${SMUGGLED}`,
  'HPE_INVALID_VERSION: HTTP/1.2': `GET / HTTP/1.2\r\nHost: a\r\n\r\n${SMUGGLED}`,
  // Node answers 400 and closes, yet still serves a request pipelined behind (not framing, so no smuggling): nothing after it here.
  'no Host in HTTP/1.1 (Node: 400)': `GET / HTTP/1.1\r\nX: a\r\n\r\n`,
  'HPE_INVALID_CHUNK_SIZE: a space after the size': `${POST}Transfer-Encoding: chunked\r\n\r\n1 \r\nx\r\n0\r\n\r\n${SMUGGLED}`,
  'HPE_INVALID_CHUNK_SIZE: overflow': `${POST}Transfer-Encoding: chunked\r\n\r\nfffffffffffffffffff\r\nx\r\n0\r\n\r\n${SMUGGLED}`,
  'HPE_STRICT: chunk data not followed by CRLF': `${POST}Transfer-Encoding: chunked\r\n\r\n1\r\nxy\r\n0\r\n\r\n${SMUGGLED}`,
  'HPE_CR_EXPECTED: LF alone after a chunk size': `${POST}Transfer-Encoding: chunked\r\n\r\n1\nx\r\n0\r\n\r\n${SMUGGLED}`,
  'HPE_HEADER_OVERFLOW: a head over 16 KiB': `GET / HTTP/1.1\r\nHost: a\r\nX: ${'a'.repeat(17 * 1024)}\r\n\r\n${SMUGGLED}`,
  'taken: chunk extensions and trailers': `${POST}Transfer-Encoding: chunked\r\n\r\n1;ext=1\r\nx\r\n0\r\nX-T: 1\r\n\r\n${SMUGGLED}`,
  'taken: empty lines before a request line, obs-text in a value': `\r\nGET / HTTP/1.1\r\nHost: a\r\nX: caf\xe9\r\n\r\n${SMUGGLED}`,
  'taken: Transfer-Encoding gzip, chunked (handed to Node, which takes it)': `${POST}Transfer-Encoding: gzip, chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n${SMUGGLED}`,
};

describe('HTTP/1.1 intake: the request head', () => {
  it('takes the common request, hands the unusual to Node, refuses framing a smuggler needs', () => {
    const take = parseRequestHead('POST /a?b HTTP/1.1\r\nHost: x\r\nContent-Length: 12\r\nConnection: close');
    expect(take).toEqual({ kind: 'take', head: { method: 'POST', url: '/a?b', rawHeaders: ['Host', 'x', 'Content-Length', '12', 'Connection', 'close'], body: 12, keepAlive: false } });
    expect(parseRequestHead('GET / HTTP/1.1\r\nhost: x\r\ntransfer-encoding: Chunked')).toMatchObject({ kind: 'take', head: { body: 'chunked', keepAlive: true } });
    for (const head of [
      'GET / HTTP/1.0\r\nHost: x',
      'CONNECT a:443 HTTP/1.1\r\nHost: a:443',
      'GET http://a/ HTTP/1.1\r\nHost: a',
      'GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade',
      'GET / HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, Upgrade',
      'POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 1',
      'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked',
      'GET / HTTP/1.1\r\nHost: x\r\nX: a\r\n b',
      'GET / HTTP/1.1\r\nX: a',
      'GET /\xe9 HTTP/1.1\r\nHost: x',
    ]) {
      expect(parseRequestHead(head), head).toMatchObject({ kind: 'fallback' });
    }
    for (const head of ['POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 1', 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked', 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0x1']) {
      expect(parseRequestHead(head), head).toMatchObject({ kind: 'refuse' });
    }
  });

  it.each(Object.entries(CASES))('%s: the same answer as Node’s own server, and nothing smuggled to the backend', async (_name, bytes) => {
    const b = await echoBackend();
    const l = await listener(b.port);
    const node = await nodeReference();
    const [ours, theirs] = await Promise.all([raw(l.port, bytes), raw(node, bytes, 300, HOST)]);
    expect(statuses(ours)[0]).toBe(statuses(theirs)[0]);
    expect(statuses(ours)).toHaveLength(statuses(theirs).length);
    if (statuses(theirs)[0] === 400) expect(b.requests).toEqual([]);
  });
});

describe('HTTP/1.1 intake: connections', () => {
  it('serves pipelined requests in order on one connection (GET, Content-Length and chunked bodies), one backend connection kept alive', async () => {
    const b = await echoBackend();
    const l = await listener(b.port);
    const got = await raw(l.port, `GET /1 HTTP/1.1\r\nHost: a\r\n\r\n${POST.replace('/', '/2')}Content-Length: 3\r\n\r\nabc${POST.replace('/', '/3')}Transfer-Encoding: chunked\r\n\r\n2\r\nde\r\n1\r\nf\r\n0\r\n\r\nGET /4 HTTP/1.1\r\nHost: a\r\n\r\n`);
    expect(statuses(got)).toEqual([200, 200, 200, 200]);
    expect(got.split(/(?=HTTP\/1\.1 )/).map((r) => r.slice(r.indexOf('\r\n\r\n') + 4))).toEqual(['GET /1 body=', 'POST /2 body=abc', 'POST /3 body=def', 'GET /4 body=']);
    expect(b.requests).toEqual(['GET /1 ', 'POST /2 abc', 'POST /3 def', 'GET /4 ']);
    expect(b.connections).toBe(1);
    expect(l.accepted()).toBe(1);
  });

  it('relays a chunked response (no Content-Length) chunked, trailers included, and a Content-Length one with its length', async () => {
    const port = await rawBackend((s) => {
      let seen = '';
      s.on('data', (d: Buffer) => {
        seen += d.toString('latin1');
        while (seen.includes('\r\n\r\n')) {
          const path = /^GET (\S+)/.exec(seen)?.[1];
          seen = seen.slice(seen.indexOf('\r\n\r\n') + 4);
          if (path === '/chunked') s.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\nX-Sum: 5\r\n\r\n');
          else s.write('HTTP/1.1 200 OK\r\nContent-Length: 5\r\nDate: Mon, 07 Dec 2026 00:00:00 GMT\r\n\r\nabcde');
        }
      });
    });
    const l = await listener(port);
    const got = await raw(l.port, 'GET /chunked HTTP/1.1\r\nHost: a\r\n\r\nGET /length HTTP/1.1\r\nHost: a\r\n\r\n');
    const [first, second] = got.split(/(?=HTTP\/1\.1 200)/);
    expect(first).toMatch(/\r\nTransfer-Encoding: chunked\r\n/);
    expect(first).not.toMatch(/content-length/i);
    expect(first!.endsWith('\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\nX-Sum: 5\r\n\r\n')).toBe(true);
    expect(second).toMatch(/\r\nContent-Length: 5\r\n/);
    // The backend's Date is kept, not doubled.
    expect(second!.match(/\r\ndate: /gi)).toHaveLength(1);
    expect(second!.endsWith('\r\n\r\nabcde')).toBe(true);
  });

  it('a client that leaves mid-response: the backend connection is dropped, not pooled; the listener serves on', async () => {
    let closed = 0;
    const l = await listener(
      await rawBackend((s) => {
        s.on('close', () => closed++);
        s.once('data', () => s.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nfirst part'));
      }),
    );
    const c = connect({ host: LB, port: l.port });
    await new Promise<void>((resolve) => {
      c.once('data', () => resolve());
      c.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    });
    c.destroy();
    await waitFor(() => closed === 1, 3_000, 'the backend connection closed');
    expect(l.upstream.idleCount()).toBe(0);
  });

  it('a backend that fails before answering: 502 and Connection: close; after the head: the client connection is cut', async () => {
    const l = await listener(
      await rawBackend((s) =>
        s.once('data', (d: Buffer) => {
          if (d.toString().startsWith('GET /late')) s.end('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial');
          else s.destroy();
        }),
      ),
    );
    const early = await raw(l.port, 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhi');
    expect(statuses(early)).toEqual([502]);
    expect(early).toMatch(/\r\nConnection: close\r\n/);
    const late = await raw(l.port, 'GET /late HTTP/1.1\r\nHost: a\r\n\r\nGET /next HTTP/1.1\r\nHost: a\r\n\r\n');
    expect(statuses(late)).toEqual([200]);
    expect(late.endsWith('partial')).toBe(true);
  });

  it('keep-alive: 50 requests over one client connection use one backend connection', async () => {
    const b = await echoBackend();
    const l = await listener(b.port);
    const s = connect({ host: LB, port: l.port });
    onCleanup(() => s.destroy());
    let got = '';
    s.on('data', (d: Buffer) => (got += d.toString('latin1')));
    for (let i = 0; i < 50; i++) {
      s.write(`GET /${i} HTTP/1.1\r\nHost: a\r\n\r\n`);
      await waitFor(() => statuses(got).length === i + 1, 3_000, `answer ${i}`);
    }
    expect(b.connections).toBe(1);
    expect(l.accepted()).toBe(1);
    expect(l.upstream.idleCount()).toBe(1);
  });

  it('back-pressure: a client that does not read holds the backend’s writes; one that does not drain its upload is held', async () => {
    const size = 64 * 1024 * 1024;
    let pushed = 0;
    let uploadRead = 0;
    const chunk = Buffer.alloc(64 * 1024, 120);
    const port = await rawBackend((s) => {
      s.on('data', (d: Buffer) => {
        const start = d.toString('latin1', 0, 4);
        if (start === 'POST') {
          // Reads nothing more: the upload must stall at the proxy, not pile up in it.
          s.pause();
          uploadRead = d.length;
          return;
        }
        if (start !== 'GET ') return;
        s.write(`HTTP/1.1 200 OK\r\nContent-Length: ${size}\r\n\r\n`);
        const pump = (): void => {
          while (pushed < size) {
            pushed += chunk.length;
            if (!s.write(chunk)) return void s.once('drain', pump);
          }
        };
        pump();
      });
    });
    const l = await listener(port);
    const c = connect({ host: LB, port: l.port });
    onCleanup(() => c.destroy());
    c.pause();
    c.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    await new Promise((r) => setTimeout(r, 500));
    expect(pushed).toBeLessThan(24 * 1024 * 1024);
    let received = 0;
    c.on('data', (d: Buffer) => (received += d.length));
    c.resume();
    await waitFor(() => received > size, 20_000, 'the whole response');

    const u = connect({ host: LB, port: l.port });
    onCleanup(() => u.destroy());
    u.write(`POST / HTTP/1.1\r\nHost: a\r\nContent-Length: ${size}\r\n\r\n`);
    let sent = 0;
    await new Promise<void>((resolve) => {
      const pump = (): void => {
        while (sent < size) {
          sent += chunk.length;
          if (!u.write(chunk)) {
            u.once('drain', pump);
            break;
          }
        }
      };
      pump();
      setTimeout(resolve, 500);
    });
    expect(uploadRead).toBeGreaterThan(0);
    expect(sent).toBeLessThan(24 * 1024 * 1024);
  });
});

describe('HTTP/1.1 intake: what goes to Node’s server', () => {
  it('an Upgrade after a request served by the intake, on the same connection: spliced to the backend', async () => {
    const b = await echoBackend();
    b.server.on('upgrade', (_req, socket: Socket) => {
      socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n');
      socket.on('data', (d: Buffer) => socket.write(`echo:${d.toString()}`));
    });
    const l = await listener(b.port);
    const got = await raw(l.port, 'GET /first HTTP/1.1\r\nHost: a\r\n\r\nGET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\nhello');
    expect(statuses(got)).toEqual([200, 101]);
    expect(got).toContain('GET /first body=');
    expect(got.endsWith('echo:hello')).toBe(true);
  });

  it('HTTP/1.0 is served by Node (and closed after the answer); a route the intake does not forward itself is resolved once', async () => {
    const b = await echoBackend();
    const l = await listener(b.port, { decide: (d, req) => (req.url === '/timed' && d.kind === 'forward' ? { ...d, requestTimeoutMs: 5_000 } : d) });
    const old = await raw(l.port, 'GET /old HTTP/1.0\r\nHost: a\r\n\r\n');
    expect(old).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\nGET \/old body=$/);
    const timed = await raw(l.port, 'GET /timed HTTP/1.1\r\nHost: a\r\n\r\nGET /after HTTP/1.1\r\nHost: a\r\n\r\n');
    expect(statuses(timed)).toEqual([200, 200]);
    expect(l.resolved).toEqual(['GET /old', 'GET /timed', 'GET /after']);
  });

  it('HTTPS: the intake serves over TLS, and hands an Upgrade over the same TLS connection to Node', async () => {
    const b = await echoBackend();
    b.server.on('upgrade', (_req, socket: Socket) => {
      socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n');
      socket.on('data', (d: Buffer) => socket.write(`echo:${d.toString()}`));
    });
    const l = await listener(b.port, { tls: true });
    let cipher = '';
    const got = await new Promise<string>((resolve) => {
      const s = tlsConnect({ host: LB, port: l.port, rejectUnauthorized: false });
      s.on('secureConnect', () => (cipher = s.getCipher().name));
      let text = '';
      s.on('data', (d: Buffer) => {
        text += d.toString('latin1');
        if (text.endsWith('echo:hello')) s.destroy();
      });
      s.on('close', () => resolve(text));
      s.write('POST /tls HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nokGET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\nhello');
    });
    expect(statuses(got)).toEqual([200, 101]);
    expect(got).toContain('POST /tls body=ok');
    // The server's order, not OpenSSL's client order (AES-256-GCM first).
    expect(cipher).toBe('TLS_AES_128_GCM_SHA256');
  });
});
