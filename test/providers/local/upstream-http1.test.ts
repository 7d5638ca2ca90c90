// The L7 proxy's own HTTP/1.1 client (upstream-http1.ts): its framing edge cases against
// backends that write their answers byte for byte, then the same cases through a listener
// to a real client.
import { createServer as createHttpServer, request, type IncomingHttpHeaders } from 'node:http';
import { createConnection, createServer, type Socket } from 'node:net';
import { Agent } from 'node:http';
import { describe, expect, it } from 'vitest';
import { TargetSetRuntime } from '../../../src/providers/local/target-set.js';
import { UpstreamPool, type UpstreamRequest, type UpstreamTarget } from '../../../src/providers/local/upstream-http1.js';
import { ipSet, onCleanup, proxyListener, waitFor } from './support.js';

const HOST = '127.0.22.1';

/** What one backend connection received, and the socket to answer on. */
interface Conn {
  readonly socket: Socket;
  received: string;
  /** Requests whose head arrived while an earlier one on the same connection was unanswered. */
  overlapped: number;
}

/**
 * A backend that answers each request head (and, when `withBody`, its body up to the end of
 * a chunked one or its Content-Length) with what `answer` returns; answer may also act on
 * the socket itself and return undefined.
 */
async function rawBackend(answer: (req: string, c: Conn, n: number) => string | Buffer[] | undefined, opts: { delayMs?: number } = {}) {
  const conns: Conn[] = [];
  let requests = 0;
  const server = createServer((socket) => {
    const c: Conn = { socket, received: '', overlapped: 0 };
    conns.push(c);
    let buf = '';
    let waiting = 0;
    socket.on('error', () => socket.destroy());
    socket.on('data', (d: Buffer) => {
      c.received += d.toString('latin1');
      buf += d.toString('latin1');
      for (;;) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buf.slice(0, end + 4);
        const len = /content-length: (\d+)/i.exec(head);
        let total = end + 4;
        if (/transfer-encoding: chunked/i.test(head)) {
          const last = buf.indexOf('0\r\n\r\n', end + 4);
          if (last < 0) return;
          total = last + 5;
        } else if (len) {
          total += Number(len[1]);
          if (buf.length < total) return;
        }
        const req = buf.slice(0, total);
        buf = buf.slice(total);
        if (waiting > 0) c.overlapped++;
        waiting++;
        const n = ++requests;
        const reply = (): void => {
          waiting--;
          const out = answer(req, c, n);
          if (typeof out === 'string') socket.write(out);
          else if (out) for (const piece of out) socket.write(piece);
        };
        if (opts.delayMs) setTimeout(reply, opts.delayMs);
        else reply();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, HOST, resolve));
  const port = (server.address() as { port: number }).port;
  onCleanup(
    () =>
      new Promise<void>((resolve) => {
        for (const c of conns) c.socket.destroy();
        server.close(() => resolve());
      }),
  );
  const target: UpstreamTarget = { key: `${HOST}:${port}`, host: HOST, port };
  return { target, conns, port };
}

function pool(): UpstreamPool {
  const p = new UpstreamPool();
  onCleanup(() => p.close());
  return p;
}

interface Answer {
  status: number;
  reason: string;
  rawHeaders: string[];
  hasBody: boolean;
  body: string;
  trailers: string[] | undefined;
}

const get = (path = '/', extra = ''): UpstreamRequest => ({ head: `GET ${path} HTTP/1.1\r\nHost: test\r\n${extra}\r\n`, body: 'none', headRequest: false, replayable: true });

/** One exchange to its end: the answer, or the error and whether the head had come. */
function exchange(p: UpstreamPool, target: UpstreamTarget, req: UpstreamRequest, body?: Buffer[]): Promise<Answer> {
  return new Promise((resolve, reject) => {
    let a: Answer | undefined;
    const chunks: Buffer[] = [];
    const x = p.request(target, req, {
      head: (h, hasBody) => (a = { ...h, hasBody, body: '', trailers: undefined }),
      data: (c) => chunks.push(Buffer.from(c)) > 0,
      end: (trailers) => resolve({ ...a!, body: Buffer.concat(chunks).toString('latin1'), trailers }),
      error: (e, started) => reject(Object.assign(e, { started })),
    });
    for (const b of body ?? []) x.write(b);
    if (body) x.end();
  });
}

const ok = (body: string, extra = ''): string => `HTTP/1.1 200 OK\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`;
const bytes = (s: string): Buffer[] => [...Buffer.from(s, 'latin1')].map((b) => Buffer.from([b]));
const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 30));

/** Answers without a body whatever their headers announce: HEAD, 204, 304; `body` to anything else. */
const noBodyAnswers = (req: string): string => {
  if (req.startsWith('HEAD')) return 'HTTP/1.1 200 OK\r\nContent-Length: 1000\r\nX-Head: yes\r\n\r\n';
  if (req.includes('/204')) return 'HTTP/1.1 204 No Content\r\nContent-Length: 7\r\n\r\n';
  if (req.includes('/304')) return 'HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\nETag: "x"\r\n\r\n';
  return ok('body');
};

describe('upstream HTTP/1.1 client: response framing', () => {
  it('reads a chunked body with chunk extensions and trailers, even one byte per segment, and reuses the connection', async () => {
    const wire = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Case: Kept\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Checksum: abc\r\nX-Checksum: def\r\n\r\n';
    const b = await rawBackend((_r, c) => {
      // One byte per write with Nagle off: the client sees the answer cut at every possible place.
      c.socket.setNoDelay(true);
      return bytes(wire);
    });
    const p = pool();
    const a = await exchange(p, b.target, get());
    expect(a).toMatchObject({ status: 200, reason: 'OK', hasBody: true, body: 'hello world', trailers: ['X-Checksum', 'abc', 'X-Checksum', 'def'] });
    expect(a.rawHeaders).toEqual(['Transfer-Encoding', 'chunked', 'X-Case', 'Kept']);
    expect((await exchange(p, b.target, get())).body).toBe('hello world');
    expect(b.conns).toHaveLength(1);
  });

  it('skips 100 Continue and 103 Early Hints and reads the final answer', async () => {
    const b = await rawBackend(() => `HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n${ok('done')}`);
    const a = await exchange(pool(), b.target, get());
    expect(a).toMatchObject({ status: 200, body: 'done' });
  });

  it('reads no body after HEAD, 204 and 304 whatever their headers say, and the connection carries the next request', async () => {
    const b = await rawBackend(noBodyAnswers);
    const p = pool();
    const head = await exchange(p, b.target, { ...get(), head: 'HEAD / HTTP/1.1\r\nHost: test\r\n\r\n', headRequest: true });
    expect(head).toMatchObject({ status: 200, hasBody: false, body: '' });
    expect(head.rawHeaders).toEqual(['Content-Length', '1000', 'X-Head', 'yes']);
    expect(await exchange(p, b.target, get('/204'))).toMatchObject({ status: 204, hasBody: false, body: '' });
    expect(await exchange(p, b.target, get('/304'))).toMatchObject({ status: 304, hasBody: false, body: '' });
    expect(await exchange(p, b.target, get('/next'))).toMatchObject({ status: 200, body: 'body' });
    expect(b.conns).toHaveLength(1);
  });

  it('reads a body without length until the backend closes, and does not pool that connection', async () => {
    const b = await rawBackend((_r, c) => {
      c.socket.write('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\npart one, ');
      setTimeout(() => c.socket.end('part two'), 20);
      return undefined;
    });
    const p = pool();
    expect(await exchange(p, b.target, get())).toMatchObject({ status: 200, body: 'part one, part two' });
    expect(p.idleCount()).toBe(0);
  });

  it('does not pool a connection the backend said it closes, nor one with bytes after the answer', async () => {
    const b = await rawBackend((req) => (req.includes('/close') ? ok('x', 'Connection: close\r\n') : `${ok('y')}HTTP/1.1 200 OK\r\n`));
    const p = pool();
    expect((await exchange(p, b.target, get('/close'))).body).toBe('x');
    expect(p.idleCount()).toBe(0);
    expect((await exchange(p, b.target, get('/extra'))).body).toBe('y');
    expect(p.idleCount()).toBe(0);
  });

  it('fails a response cut short (before the head: not started; in the body: started) and an unreadable head', async () => {
    const b = await rawBackend((req, c) => {
      if (req.includes('/cut-body')) c.socket.end('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc');
      else if (req.includes('/cut-head')) c.socket.end('HTTP/1.1 200 OK\r\nContent-Le');
      else if (req.includes('/two-lengths')) return 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd';
      else return 'SMTP ready\r\n\r\n';
      return undefined;
    });
    const p = pool();
    await expect(exchange(p, b.target, get('/cut-body'))).rejects.toMatchObject({ started: true });
    await expect(exchange(p, b.target, get('/cut-head'))).rejects.toMatchObject({ started: false });
    await expect(exchange(p, b.target, get('/two-lengths'))).rejects.toMatchObject({ started: false, message: expect.stringMatching(/Content-Length/) });
    await expect(exchange(p, b.target, get('/garbage'))).rejects.toMatchObject({ started: false, message: expect.stringMatching(/status line/) });
  });

  it('fails with the connect error when the target refuses', async () => {
    await new Promise<void>((resolve) => {
      // A port that was just free: nothing listens there.
      const s = createServer().listen(0, HOST, () => {
        const port = (s.address() as { port: number }).port;
        s.close(() => {
          void exchange(pool(), { key: `${HOST}:${port}`, host: HOST, port }, get()).catch((e: NodeJS.ErrnoException & { started: boolean }) => {
            expect(e.code).toBe('ECONNREFUSED');
            expect(e.started).toBe(false);
            resolve();
          });
        });
      });
    });
  });
});

describe('upstream HTTP/1.1 client: connections', () => {
  it('drops a pooled connection the backend closes while it is idle', async () => {
    const b = await rawBackend((_r, c) => {
      setTimeout(() => c.socket.end(), 20);
      return ok('a');
    });
    const p = pool();
    await exchange(p, b.target, get());
    expect(p.idleCount(b.target.key)).toBe(1);
    await waitFor(() => p.idleCount(b.target.key) === 0, 2_000, 'idle connection dropped');
    expect((await exchange(p, b.target, get())).body).toBe('a');
    expect(b.conns).toHaveLength(2);
  });

  it('closes a connection idle in the pool for idleMs (not before), and never one busy with a slow answer', async () => {
    const b = await rawBackend((req) => ok(req.split(' ')[1]!), { delayMs: 250 });
    const p = new UpstreamPool({ idleMs: 100 });
    onCleanup(() => p.close());
    // Busy 250 ms, longer than idleMs: the answer still comes on the same connection.
    expect((await exchange(p, b.target, get('/slow'))).body).toBe('/slow');
    expect(p.idleCount(b.target.key)).toBe(1);
    const closed = new Promise<number>((resolve) => b.conns[0]!.socket.once('close', () => resolve(performance.now())));
    const idleFrom = performance.now();
    await new Promise((r) => setTimeout(r, 60));
    expect(p.idleCount(b.target.key)).toBe(1);
    const at = await closed;
    expect(at - idleFrom).toBeGreaterThanOrEqual(90);
    expect(at - idleFrom).toBeLessThan(400);
    expect(p.idleCount(b.target.key)).toBe(0);
    // The next request opens a new connection.
    expect((await exchange(p, b.target, get('/next'))).body).toBe('/next');
    expect(b.conns).toHaveLength(2);
  });

  it('sends a request without a body once more on a new connection when the pooled one turns out closed; one with a body fails', async () => {
    // The backend answers the first request on each connection and closes the connection on the second, unread.
    const b = await rawBackend((req, c) => {
      const count = c.received.split(' HTTP/1.1\r\n').length - 1;
      if (count > 1) {
        c.socket.destroy();
        return undefined;
      }
      return ok(req.startsWith('POST') ? 'posted' : 'got');
    });
    const p = pool();
    expect((await exchange(p, b.target, get())).body).toBe('got');
    expect((await exchange(p, b.target, get())).body).toBe('got');
    expect(b.conns).toHaveLength(2);
    // A POST on the pooled connection: its body may have been read, so it is not sent again.
    const post: UpstreamRequest = { head: 'POST / HTTP/1.1\r\nHost: test\r\nContent-Length: 2\r\n\r\n', body: 2, headRequest: false, replayable: false };
    await expect(exchange(p, b.target, post, [Buffer.from('hi')])).rejects.toMatchObject({ started: false });
    expect(b.conns).toHaveLength(2);
  });

  it('never pipelines: concurrent requests each get their own connection, and come back to the pool for the next ones', async () => {
    const b = await rawBackend((req) => ok(req.split(' ')[1]!), { delayMs: 30 });
    const p = pool();
    const answers = await Promise.all(Array.from({ length: 5 }, (_, i) => exchange(p, b.target, get(`/${i}`))));
    expect(answers.map((a) => a.body)).toEqual(['/0', '/1', '/2', '/3', '/4']);
    expect(b.conns).toHaveLength(5);
    expect(p.idleCount(b.target.key)).toBe(5);
    await Promise.all(Array.from({ length: 5 }, (_, i) => exchange(p, b.target, get(`/again${i}`))));
    expect(b.conns).toHaveLength(5);
    expect(b.conns.map((c) => c.overlapped)).toEqual([0, 0, 0, 0, 0]);
  });

  it('frames request bodies: chunked as chunks with the last chunk, Content-Length as is; the head goes in one write', async () => {
    const b = await rawBackend(() => ok('ok'));
    const p = pool();
    const chunked: UpstreamRequest = { head: 'POST /c HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n', body: 'chunked', headRequest: false, replayable: false };
    await exchange(p, b.target, chunked, [Buffer.from('hello'), Buffer.from(' world!')]);
    expect(b.conns[0]!.received).toBe('POST /c HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n7\r\n world!\r\n0\r\n\r\n');
    const sized: UpstreamRequest = { head: 'PUT /s HTTP/1.1\r\nHost: test\r\nContent-Length: 4\r\n\r\n', body: 4, headRequest: false, replayable: false };
    await exchange(p, b.target, sized, [Buffer.from('ab'), Buffer.from('cd')]);
    expect(b.conns[0]!.received.endsWith('PUT /s HTTP/1.1\r\nHost: test\r\nContent-Length: 4\r\n\r\nabcd')).toBe(true);
    expect(b.conns).toHaveLength(1);
  });

  it('pauses the backend while the caller cannot take more, and resumes', async () => {
    const size = 4 * 1024 * 1024;
    const b = await rawBackend(() => [Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: ${size}\r\n\r\n`), Buffer.alloc(size, 0x61)]);
    const p = pool();
    let got = 0;
    let paused = 0;
    await new Promise<void>((resolve, reject) => {
      const x = p.request(b.target, get(), {
        head: () => undefined,
        data: (c) => {
          got += c.length;
          if (paused > 0) return true;
          paused++;
          // Ask for a pause once, and check that nothing arrives until resume.
          const at = got;
          setTimeout(() => {
            try {
              expect(got).toBe(at);
            } catch (e) {
              reject(e);
            }
            x.resume();
          }, 50);
          return false;
        },
        end: () => resolve(),
        error: reject,
      });
    });
    expect(got).toBe(size);
    await settle();
    expect(p.idleCount(b.target.key)).toBe(1);
  });
});

/** A listener whose every request goes to target over the lean client. */
async function proxyTo(port: number): Promise<number> {
  const ts = new TargetSetRuntime(ipSet('t', 'HTTP', [{ ip: HOST, port }]), { healthChecks: false });
  const { listener } = await proxyListener('127.0.22.2', () => ({ kind: 'forward', targetSet: ts }));
  return listener.boundPort;
}

function ask(port: number, opts: { method?: string; path?: string; headers?: Record<string, string>; body?: string; agent?: Agent }): Promise<{ status: number; headers: IncomingHttpHeaders; body: string; trailers: Record<string, string | undefined>; continued: boolean }> {
  return new Promise((resolve, reject) => {
    let continued = false;
    const req = request({ host: '127.0.22.2', port, method: opts.method ?? 'GET', path: opts.path ?? '/', headers: opts.headers, agent: opts.agent ?? false }, (res) => {
      let body = '';
      res.setEncoding('latin1');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body, trailers: res.trailers, continued }));
    });
    req.on('error', reject);
    req.on('continue', () => {
      continued = true;
      req.end(opts.body);
    });
    if (opts.headers?.expect === undefined) req.end(opts.body);
  });
}

describe('upstream HTTP/1.1 client through a listener', () => {
  it('passes chunked trailers on to an HTTP/1.1 client, less hop-by-hop ones', async () => {
    const b = await rawBackend(() => 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n3\r\nabc\r\n0\r\nX-Sum: 42\r\nConnection: close\r\n\r\n');
    const port = await proxyTo(b.port);
    const r = await ask(port, {});
    expect(r.body).toBe('abc');
    expect(r.trailers).toEqual({ 'x-sum': '42' });
  });

  it('answers Expect: 100-continue, then relays the body and the final answer', async () => {
    const server = createHttpServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (d: string) => (body += d));
      req.on('end', () => res.end(`got ${body} (${req.headers['content-length']})`));
    });
    await new Promise<void>((resolve) => server.listen(0, HOST, resolve));
    onCleanup(() => {
      server.closeAllConnections();
      server.close();
    });
    const port = await proxyTo((server.address() as { port: number }).port);
    const r = await ask(port, { method: 'POST', headers: { expect: '100-continue', 'content-length': '5' }, body: 'hello' });
    expect(r).toMatchObject({ status: 200, body: 'got hello (5)', continued: true });
    // Chunked from the client: the backend gets the same bytes, chunked.
    const c = await ask(port, { method: 'POST', headers: { 'transfer-encoding': 'chunked' }, body: 'streamed' });
    expect(c.body).toBe('got streamed (undefined)');
  });

  it('HEAD, 204 and 304 through the listener leave its keep-alive connection usable', async () => {
    const b = await rawBackend(noBodyAnswers);
    const port = await proxyTo(b.port);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    onCleanup(() => agent.destroy());
    const head = await ask(port, { method: 'HEAD', agent });
    expect(head).toMatchObject({ status: 200, body: '' });
    expect(head.headers).toMatchObject({ 'content-length': '1000', 'x-head': 'yes' });
    expect(await ask(port, { path: '/204', agent })).toMatchObject({ status: 204, body: '' });
    expect(await ask(port, { path: '/304', agent })).toMatchObject({ status: 304, body: '' });
    expect(await ask(port, { path: '/', agent })).toMatchObject({ status: 200, body: 'body' });
    expect(b.conns).toHaveLength(1);
  });

  it('gives 502 when the backend answers garbage, and a body without length reaches the client whole', async () => {
    const b = await rawBackend((req, c) => {
      if (req.includes('/garbage')) return 'HTTP/1.1 2000 Huge\r\n\r\n';
      c.socket.end('HTTP/1.1 200 OK\r\n\r\nuntil close');
      return undefined;
    });
    const port = await proxyTo(b.port);
    expect((await ask(port, { path: '/garbage' })).status).toBe(502);
    expect(await ask(port, { path: '/eof' })).toMatchObject({ status: 200, body: 'until close' });
  });
});

/** Sends one raw request to the listener on a new connection and waits for the answer's body `ok`. */
function rawAsk(port: number, request: Buffer): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const s = createConnection(port, '127.0.22.2');
    s.on('error', reject);
    let got = '';
    s.on('data', (d: Buffer) => {
      got += d.toString('latin1');
      if (!got.includes('\r\n\r\nok')) return;
      s.destroy();
      resolve();
    });
    s.write(request);
  });
}

describe('upstream HTTP/1.1 client: the request head', () => {
  it('keeps header bytes as sent (obs-text), drops hop-by-hop and Connection-named headers, sets X-Forwarded-* over the client’s', async () => {
    const b = await rawBackend(() => ok('ok'));
    const port = await proxyTo(b.port);
    const heads: string[] = [];
    // With a Connection header naming another header (the header-object path), and without (the one-pass path).
    for (const connection of ['keep-alive, X-Drop', 'keep-alive']) {
      const before = b.conns.reduce((n, c) => n + c.received.length, 0);
      await rawAsk(
        port,
        Buffer.concat([
          Buffer.from('GET /p?q=1 HTTP/1.1\r\nHost: site.test\r\nX-Name: caf'),
          Buffer.from([0xe9]),
          Buffer.from(`\r\nX-Forwarded-For: 10.0.0.1\r\nx-forwarded-for: 10.0.0.2\r\nX-Forwarded-Proto: https\r\nKeep-Alive: timeout=5\r\nTE: trailers\r\nConnection: ${connection}\r\nX-Drop: secret\r\n\r\n`),
        ]),
      );
      heads.push(b.conns.map((c) => c.received).join('').slice(before));
    }
    for (const head of heads) {
      expect(head.startsWith('GET /p?q=1 HTTP/1.1\r\n')).toBe(true);
      const lower = head.toLowerCase();
      expect(lower).toContain('x-name: caf\xe9\r\n');
      expect(lower).toContain('x-forwarded-for: 10.0.0.1, 10.0.0.2, 127.0.0.1\r\n');
      expect(lower).toContain('x-forwarded-proto: http\r\n');
      expect(lower).toContain('x-forwarded-host: site.test\r\n');
      expect(lower).not.toMatch(/keep-alive|\r\nte:|connection|https/);
      expect(lower.match(/\r\nhost: /g)).toHaveLength(1);
    }
    expect(heads[0]!.toLowerCase()).not.toContain('x-drop');
    expect(heads[1]).toContain('X-Drop: secret\r\n');
  });
});

describe('upstream HTTP/1.1 client: an answer before the whole upload', () => {
  it('the backend refuses an 8 MB upload at its head: the client gets the answer, the rest of its body is drained, its connection serves the next request', async () => {
    const b = await rawBackend(() => ok('ok'));
    // This backend answers 413 to the head and closes without reading the body.
    const held = new Set<Socket>();
    const refusing = createServer((s) => {
      held.add(s);
      s.on('error', () => s.destroy());
      s.once('data', () => {
        // Not reading on, and answering only once the proxy's writes to it have backed up.
        s.pause();
        setTimeout(() => s.end('HTTP/1.1 413 Payload Too Large\r\nContent-Length: 4\r\nConnection: close\r\n\r\nbig!'), 300);
      });
    });
    await new Promise<void>((resolve) => refusing.listen(0, HOST, resolve));
    onCleanup(
      () =>
        new Promise<void>((resolve) => {
          // A paused socket never reads the peer's close: end them here.
          for (const h of held) h.destroy();
          refusing.close(() => resolve());
        }),
    );
    const ts = new TargetSetRuntime(ipSet('t', 'HTTP', [{ ip: HOST, port: (refusing.address() as { port: number }).port }]), { healthChecks: false });
    const other = new TargetSetRuntime(ipSet('o', 'HTTP', [{ ip: HOST, port: b.port }]), { healthChecks: false });
    const { listener: l, accepted } = await proxyListener('127.0.22.2', (req) => ({ kind: 'forward', targetSet: req.method === 'POST' ? ts : other }));
    const client = new Agent({ keepAlive: true, maxSockets: 1 });
    onCleanup(() => client.destroy());
    const size = 8 * 1024 * 1024;
    const refused = await ask(l.boundPort, { method: 'POST', headers: { 'content-length': String(size) }, body: 'x'.repeat(size), agent: client });
    expect(refused).toMatchObject({ status: 413, body: 'big!' });
    // The same client connection (maxSockets 1) carries the next request once the upload is through.
    expect(await ask(l.boundPort, { path: '/next', agent: client })).toMatchObject({ status: 200, body: 'ok' });
    expect(accepted()).toBe(1);
  });
});
