// lbc's own connection (kube/client.ts) against small local servers: HTTP/2 when the
// server offers it, HTTP/1.1 when it does not, the API server's errors as ApiError,
// watch streams split anywhere, and the write clients' paths and patch types.
import { KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { IncomingMessage, ServerResponse } from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { selfSignedCert } from '../../src/devcluster/tls.js';
import { ApiConnection, ApiError, reuseConnections, writeClients } from '../../src/kube/client.js';
import { CoreV1Api } from '@kubernetes/client-node';
import net from 'node:net';

const cert = selfSignedCert({ ips: ['127.0.0.1'], dns: ['localhost'] });

interface Seen {
  method: string;
  path: string;
  contentType: string | undefined;
  authorization: string | undefined;
  accept: string | undefined;
  body: string;
  protocol: string;
}

type Handler = (req: Seen, res: { status(code: number): void; write(s: string | Buffer): void; end(s?: string | Buffer): void }) => void;

interface TestServer {
  readonly seen: Seen[];
  /** TLS connections accepted. */
  connections: number;
  kc(): KubeConfig;
  close(): Promise<void>;
}

/** An HTTPS server answering through `handler`, with HTTP/2 (and HTTP/1.1) or HTTP/1.1 only. */
async function serve(h2: boolean, handler: Handler): Promise<TestServer> {
  const seen: Seen[] = [];
  const onRequest = (req: http2.Http2ServerRequest | IncomingMessage, res: http2.Http2ServerResponse | ServerResponse): void => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const s: Seen = {
        method: req.method ?? '',
        path: req.url ?? '',
        contentType: req.headers['content-type'],
        authorization: req.headers.authorization,
        accept: req.headers.accept,
        body: Buffer.concat(chunks).toString('utf8'),
        protocol: req.httpVersion,
      };
      seen.push(s);
      let status = 200;
      let started = false;
      const start = (): void => {
        if (started) return;
        started = true;
        (res as ServerResponse).writeHead(status, { 'content-type': 'application/json' });
      };
      handler(s, {
        status: (code) => (status = code),
        write: (chunk) => {
          start();
          (res as ServerResponse).write(chunk);
        },
        end: (chunk) => {
          start();
          (res as ServerResponse).end(chunk);
        },
      });
    });
  };
  const server = h2
    ? http2.createSecureServer({ cert: cert.certPem, key: cert.keyPem, allowHTTP1: true }, onRequest)
    : https.createServer({ cert: cert.certPem, key: cert.keyPem }, onRequest);
  const out: TestServer = {
    seen,
    connections: 0,
    kc: () => {
      const kc = new KubeConfig();
      kc.loadFromOptions({
        clusters: [{ name: 'c', server: `https://127.0.0.1:${(server.address() as AddressInfo).port}`, caData: Buffer.from(cert.certPem).toString('base64'), skipTLSVerify: false }],
        users: [{ name: 'u', token: 'secret-token' }],
        contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
        currentContext: 'x',
      });
      return kc;
    },
    close: () =>
      new Promise<void>((resolve) => {
        (server as { closeAllConnections?: () => void }).closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
  server.on('secureConnection', () => out.connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return out;
}

const opened: { api: ApiConnection; server: TestServer }[] = [];
async function connect(h2: boolean, handler: Handler): Promise<{ api: ApiConnection; server: TestServer }> {
  const server = await serve(h2, handler);
  const api = ApiConnection.for(server.kc());
  if (!api) throw new Error('no connection');
  opened.push({ api, server });
  return { api, server };
}

afterEach(async () => {
  for (const { api, server } of opened.splice(0)) {
    api.close();
    await server.close();
  }
});

const echo: Handler = (req, res) => res.end(JSON.stringify({ method: req.method, path: req.path, body: req.body ? JSON.parse(req.body) : null }));

describe('ApiConnection', () => {
  it('speaks HTTP/2 to a server that offers it, all requests over one connection, with the credentials', async () => {
    const { api, server } = await connect(true, echo);
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => api.request('POST', `/api/v1/things/${i}`, { body: { i } })));
    expect(api.protocol).toBe('h2');
    expect(server.connections).toBe(1);
    expect(answers[7]).toEqual({ method: 'POST', path: '/api/v1/things/7', body: { i: 7 } });
    expect(server.seen.every((s) => s.protocol === '2.0' && s.authorization === 'Bearer secret-token' && s.contentType === 'application/json')).toBe(true);
  });

  it('falls back to HTTP/1.1 keep-alive where the server has no HTTP/2', async () => {
    const { api, server } = await connect(false, echo);
    for (let i = 0; i < 5; i++) expect(await api.request('GET', `/api/v1/things/${i}`)).toEqual({ method: 'GET', path: `/api/v1/things/${i}`, body: null });
    expect(api.protocol).toBe('http/1.1');
    expect(server.seen.map((s) => s.protocol)).toEqual(['1.1', '1.1', '1.1', '1.1', '1.1']);
    // Sequential requests reuse the connection.
    expect(server.connections).toBe(1);
  });

  for (const h2 of [true, false]) {
    it(`sends the credentials and accept on every request, and a content type only with a body (${h2 ? 'HTTP/2' : 'HTTP/1.1'})`, async () => {
      const { api, server } = await connect(h2, echo);
      expect(await api.request('GET', '/api/v1/things/a')).toEqual({ method: 'GET', path: '/api/v1/things/a', body: null });
      const body = { note: 'ünïcödé, longer in bytes than in characters' };
      expect(await api.request('PATCH', '/api/v1/things/b', { body, contentType: 'application/merge-patch+json' })).toEqual({ method: 'PATCH', path: '/api/v1/things/b', body });
      expect(server.seen.map((s) => [s.method, s.authorization, s.accept, s.contentType])).toEqual([
        ['GET', 'Bearer secret-token', 'application/json', undefined],
        ['PATCH', 'Bearer secret-token', 'application/json', 'application/merge-patch+json'],
      ]);
    });
  }

  it("turns the server's error answers into ApiError with the status and the Status body", async () => {
    const { api } = await connect(true, (_req, res) => {
      res.status(409);
      res.end(JSON.stringify({ kind: 'Status', code: 409, reason: 'Conflict', message: 'the object has been modified' }));
    });
    const err = (await api.request('PATCH', '/api/v1/namespaces/a/services/b', { body: [] }).catch((e: unknown) => e)) as ApiError;
    expect(err).toBeInstanceOf(ApiError);
    expect(err.code).toBe(409);
    expect(err.statusCode).toBe(409);
    expect(err.body).toMatchObject({ reason: 'Conflict' });
    expect(err.message).toContain('the object has been modified');
  });

  it('reports a server that cannot be reached as an ApiError without status (transient)', async () => {
    const { api, server } = await connect(true, echo);
    await server.close();
    const err = (await api.request('GET', '/api/v1/x').catch((e: unknown) => e)) as ApiError;
    expect(err).toBeInstanceOf(ApiError);
    expect(err.code).toBeUndefined();
  });

  it('gives up on a request with no answer after requestTimeoutMs, and keeps a connection that still answers PINGs', async () => {
    const server = await serve(true, (req, res) => {
      if (req.path !== '/hang') echo(req, res);
    });
    const api = ApiConnection.for(server.kc(), { requestTimeoutMs: 300 });
    if (!api) throw new Error('no connection');
    opened.push({ api, server });
    const t0 = Date.now();
    const err = (await api.request('GET', '/hang').catch((e: unknown) => e)) as ApiError;
    expect(err).toBeInstanceOf(ApiError);
    expect(err.code).toBeUndefined();
    expect(err.message).toMatch(/no answer within 300 ms/);
    expect(Date.now() - t0).toBeLessThan(3000);
    await expect(api.request('GET', '/after')).resolves.toMatchObject({ path: '/after' });
    expect(server.connections).toBe(1);
  });

  it('gives up on a server that takes the connection but never finishes the TLS handshake, failing every request that waited on it', async () => {
    // As a load balancer in front of a restarting API server does: every request waited on this one connect.
    const sockets: net.Socket[] = [];
    const silent = net.createServer((sock) => sockets.push(sock));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', () => resolve()));
    const server = await serve(true, echo);
    const kc = server.kc();
    kc.clusters = [{ ...kc.clusters[0]!, server: `https://127.0.0.1:${(silent.address() as AddressInfo).port}` }];
    const api = ApiConnection.for(kc, { requestTimeoutMs: 300 });
    if (!api) throw new Error('no connection');
    opened.push({ api, server });
    try {
      const t0 = Date.now();
      const [a, b] = await Promise.all([api.request('GET', '/one').catch((e: unknown) => e), api.request('GET', '/two').catch((e: unknown) => e)]);
      expect(Date.now() - t0).toBeLessThan(3000);
      for (const err of [a, b] as ApiError[]) {
        expect(err).toBeInstanceOf(ApiError);
        expect(err.code).toBeUndefined();
        expect(err.message).toMatch(/TLS handshake not done within 300 ms/);
      }
      expect(sockets.length).toBe(1);
    } finally {
      for (const sock of sockets) sock.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  it("gives client-node's own requests a deadline: one with no answer fails instead of holding its caller", async () => {
    const server = await serve(false, (req, res) => {
      if (!req.path.includes('/hang')) echo(req, res);
    });
    opened.push({ api: ApiConnection.for(server.kc())!, server });
    const kc = reuseConnections(server.kc(), { requestTimeoutMs: 300 });
    const core = kc.makeApiClient(CoreV1Api);
    const t0 = Date.now();
    const err = await core.readNamespacedService({ namespace: 'hang', name: 'web' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
    expect(Date.now() - t0).toBeLessThan(3000);
    // The same client still gets its answers from a server that gives them.
    await expect(core.readNamespacedService({ namespace: 'shop', name: 'web' })).resolves.toBeDefined();
  });

  it('resolves nothing for a discarded answer', async () => {
    const { api } = await connect(true, echo);
    await expect(api.request('POST', '/api/v1/namespaces/a/events', { body: {}, discard: true })).resolves.toBeUndefined();
  });
});

describe('ApiConnection.watch', () => {
  const line = (type: string, name: string): string => `${JSON.stringify({ type, object: { metadata: { name, resourceVersion: name.length.toString() } } })}\n`;

  for (const h2 of [true, false]) {
    it(`delivers events split anywhere in the stream, in order, then the clean end (${h2 ? 'HTTP/2' : 'HTTP/1.1'})`, async () => {
      const stream = line('ADDED', 'a') + line('MODIFIED', 'é-multibyte') + line('DELETED', 'c');
      const { api, server } = await connect(h2, (_req, res) => {
        // Cut inside a line and inside a multi-byte character.
        const bytes = Buffer.from(stream);
        const cut = bytes.indexOf(Buffer.from('é')) + 1;
        res.write(bytes.subarray(0, 10));
        setTimeout(() => res.write(bytes.subarray(10, cut)), 5);
        setTimeout(() => res.end(bytes.subarray(cut)), 10);
      });
      const events: [string, string][] = [];
      const done = await new Promise<unknown>((resolve) => {
        void api.watch('/api/v1/services', { resourceVersion: '5', allowWatchBookmarks: true, labelSelector: undefined }, (type, obj) => events.push([type, (obj as { metadata: { name: string } }).metadata.name]), resolve);
      });
      expect(done).toBeUndefined();
      expect(events).toEqual([
        ['ADDED', 'a'],
        ['MODIFIED', 'é-multibyte'],
        ['DELETED', 'c'],
      ]);
      expect(server.seen[0]?.path).toBe('/api/v1/services?watch=true&resourceVersion=5&allowWatchBookmarks=true');
    });
  }

  it('delivers several events from one chunk and from chunks of one byte, skipping blank lines, without managedFields', async () => {
    const managed = { name: 'm', resourceVersion: '9', managedFields: [{ manager: 'lbc', operation: 'Update', fieldsV1: { 'f:metadata': {} } }] };
    const many = line('ADDED', 'one') + line('ADDED', 'two') + '\n  \n' + `${JSON.stringify({ type: 'MODIFIED', object: { metadata: managed } })}\n` + line('MODIFIED', 'ü-über');
    const { api } = await connect(true, (_req, res) => {
      const bytes = Buffer.from(many);
      // The first three lines at once, then the rest a byte at a time.
      const first = bytes.indexOf('\n  \n') + 4;
      res.write(bytes.subarray(0, first));
      let i = first;
      const next = (): void => {
        if (i === bytes.length) return res.end();
        res.write(bytes.subarray(i, ++i));
        setImmediate(next);
      };
      setTimeout(next, 5);
    });
    const events: [string, unknown][] = [];
    const done = await new Promise<unknown>((resolve) => void api.watch('/api/v1/services', {}, (type, obj) => events.push([type, (obj as { metadata: unknown }).metadata]), resolve));
    expect(done).toBeUndefined();
    expect(events).toEqual([
      ['ADDED', { name: 'one', resourceVersion: '3' }],
      ['ADDED', { name: 'two', resourceVersion: '3' }],
      ['MODIFIED', { name: 'm', resourceVersion: '9' }],
      ['MODIFIED', { name: 'ü-über', resourceVersion: '6' }],
    ]);
  });

  it('ends with the HTTP status when the server refuses the watch (410 Gone)', async () => {
    const { api } = await connect(true, (_req, res) => {
      res.status(410);
      res.end(JSON.stringify({ kind: 'Status', code: 410, reason: 'Expired', message: 'too old resource version' }));
    });
    const err = await new Promise<unknown>((resolve) => void api.watch('/api/v1/services', { resourceVersion: '1' }, () => {}, resolve));
    expect(err).toMatchObject({ statusCode: 410, code: 410 });
  });

  it('ends with an error on an undecodable line rather than skip an event', async () => {
    const { api } = await connect(true, (_req, res) => res.write(`${line('ADDED', 'a')}{not json\n${line('ADDED', 'b')}`));
    const events: string[] = [];
    const err = await new Promise<unknown>((resolve) => void api.watch('/api/v1/services', {}, (t) => events.push(t), resolve));
    expect(events).toEqual(['ADDED']);
    expect(String(err)).toMatch(/undecodable/);
  });

  it('stops delivering, and reports no end, once aborted', async () => {
    let write: ((s: string) => void) | undefined;
    const { api } = await connect(true, (_req, res) => {
      write = (s) => res.write(s);
      res.write(line('ADDED', 'a'));
    });
    const events: string[] = [];
    let ended = false;
    const handle = await api.watch('/api/v1/services', {}, (_t, o) => events.push((o as { metadata: { name: string } }).metadata.name), () => (ended = true));
    await expect.poll(() => events).toEqual(['a']);
    handle.abort();
    write?.(line('ADDED', 'late'));
    await new Promise((r) => setTimeout(r, 50));
    expect(events).toEqual(['a']);
    expect(ended).toBe(false);
  });
});

describe('writeClients', () => {
  it('sends each write to its path as fieldManager lbc, with the patch type the caller set, and no body back for Events', async () => {
    const { api, server } = await connect(true, echo);
    const w = writeClients(api);
    const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
    await w.core.patchNamespacedServiceStatus({ namespace: 'n s', name: 'web', body: { status: {} } }, merge);
    await w.core.patchNamespacedService({ namespace: 'n', name: 'web', body: [{ op: 'test', path: '/metadata/resourceVersion', value: '1' }] });
    await w.networking.patchNamespacedIngressStatus({ namespace: 'n', name: 'shop', body: { status: {} } }, merge);
    const created = await w.core.createNamespacedEvent({ namespace: 'n', body: { metadata: { name: 'e' }, involvedObject: { kind: 'Service', name: 'web' } } });
    expect(created).toBeUndefined();
    expect(server.seen.map((s) => [s.method, s.path, s.contentType])).toEqual([
      ['PATCH', '/api/v1/namespaces/n%20s/services/web/status?fieldManager=lbc', 'application/merge-patch+json'],
      ['PATCH', '/api/v1/namespaces/n/services/web?fieldManager=lbc', 'application/json-patch+json'],
      ['PATCH', '/apis/networking.k8s.io/v1/namespaces/n/ingresses/shop/status?fieldManager=lbc', 'application/merge-patch+json'],
      ['POST', '/api/v1/namespaces/n/events?fieldManager=lbc', 'application/json'],
    ]);
  });

  it('answers a patch with the object as the server sent it but its managedFields, which lbc holds no copy of (as its informer cache)', async () => {
    const object = { metadata: { name: 'web', namespace: 'n', resourceVersion: '7', managedFields: [{ manager: 'lbc', operation: 'Update' }] }, status: { loadBalancer: {} } };
    const { api } = await connect(true, (_req, res) => res.end(JSON.stringify(object)));
    const w = writeClients(api);
    const answer = await w.core.patchNamespacedServiceStatus({ namespace: 'n', name: 'web', body: { status: {} } });
    expect(answer).toEqual({ metadata: { name: 'web', namespace: 'n', resourceVersion: '7' }, status: { loadBalancer: {} } });
  });

  it('drops the managedFields of an answer they could not be cut from before parsing (not compact JSON)', async () => {
    const object = { metadata: { name: 'web', managedFields: [{ manager: 'lbc', operation: 'Update' }] }, status: {} };
    const { api } = await connect(true, (_req, res) => res.end(JSON.stringify(object, null, 2)));
    const answer = await writeClients(api).core.patchNamespacedService({ namespace: 'n', name: 'web', body: {} });
    expect(answer).toEqual({ metadata: { name: 'web' }, status: {} });
  });
});
