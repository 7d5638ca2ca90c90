// Shared helpers for the contract suite: one cluster + one namespace per test file,
// raw HTTP requests that expose exact status codes, headers and Status bodies, watch
// streams collected into queues, and polling helpers for asynchronous controllers.
//
// Every file in test/contract must pass identically against a real kube-apiserver
// (KUBECONFIG set) and against devcluster.
import {
  ApiException,
  CoordinationV1Api,
  CoreV1Api,
  EventsV1Api,
  NetworkingV1Api,
  PatchStrategy,
  Watch,
  setHeaderOptions,
  type KubeConfig,
} from '@kubernetes/client-node';
import { execFile } from 'node:child_process';
import http from 'node:http';
import https from 'node:https';
import { afterAll, beforeAll, expect } from 'vitest';
import { startTestCluster, uniqueName, type TestCluster } from '../support/cluster.js';

/** Decoded JSON from the API server. Tests probe it freely and assert with expect(). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

export { PatchStrategy, uniqueName };

// ---------------------------------------------------------------------------------
// Raw HTTP

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  /** The parsed body, or undefined when it is not JSON. */
  body: Json;
}

export interface RawOptions {
  /** A string is sent verbatim; anything else is JSON-encoded. */
  body?: unknown;
  /** Defaults to application/json when a body is given. */
  contentType?: string;
  accept?: string;
  /** 'none' sends no Authorization header; { token } sends that bearer token instead. */
  auth?: 'kubeconfig' | 'none' | { token: string };
  query?: Record<string, string | number | boolean | undefined>;
}

function serverUrl(kc: KubeConfig, path: string, query?: RawOptions['query']): URL {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('kubeconfig has no current cluster');
  const url = new URL(cluster.server.replace(/\/+$/, '') + path);
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
  return url;
}

async function requestOptions(kc: KubeConfig, method: string, opts: RawOptions): Promise<https.RequestOptions> {
  const ro: https.RequestOptions = {};
  await kc.applyToHTTPSOptions(ro);
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(ro.headers ?? {})) if (v !== undefined) headers[k] = String(v);
  for (const k of Object.keys(headers)) if (k.toLowerCase() === 'authorization') delete headers[k];
  const auth = opts.auth ?? 'kubeconfig';
  if (auth === 'kubeconfig') {
    const token = kc.getCurrentUser()?.token;
    if (token) headers.Authorization = `Bearer ${token}`;
  } else if (auth !== 'none') {
    headers.Authorization = `Bearer ${auth.token}`;
  }
  headers.Accept = opts.accept ?? 'application/json';
  if (opts.body !== undefined) headers['Content-Type'] = opts.contentType ?? 'application/json';
  else if (opts.contentType) headers['Content-Type'] = opts.contentType;
  return { ...ro, method, headers };
}

function encodeBody(body: unknown): string | undefined {
  if (body === undefined) return undefined;
  return typeof body === 'string' ? body : JSON.stringify(body);
}

/** One HTTP request with the kubeconfig's server, CA and token; never throws on HTTP errors. */
export async function raw(kc: KubeConfig, method: string, path: string, opts: RawOptions = {}): Promise<RawResponse> {
  const url = serverUrl(kc, path, opts.query);
  const ro = await requestOptions(kc, method, opts);
  const payload = encodeBody(opts.body);
  // Node sends a DELETE body only with an explicit Content-Length (no chunking for DELETE).
  if (payload !== undefined) (ro.headers as Record<string, string>)['Content-Length'] = String(Buffer.byteLength(payload));
  const mod = url.protocol === 'https:' ? https : http;
  return new Promise<RawResponse>((resolve, reject) => {
    const req = mod.request(url, ro, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: Json;
        try {
          body = JSON.parse(text);
        } catch {
          body = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, body });
      });
    });
    req.on('error', reject);
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

/** Asserts an HTTP failure carrying a metav1.Status body with the given code and reason. */
export function expectStatus(res: RawResponse, code: number, reason?: string): Json {
  expect(res.status, `HTTP status (body: ${res.text.slice(0, 400)})`).toBe(code);
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  expect(res.body).toMatchObject({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code });
  expect(typeof res.body.message).toBe('string');
  if (reason !== undefined) expect(res.body.reason).toBe(reason);
  return res.body;
}

/** Asserts a 2xx response and returns its body. */
export function expectOk(res: RawResponse, code?: number): Json {
  if (code !== undefined) expect(res.status, res.text.slice(0, 400)).toBe(code);
  else expect(res.status >= 200 && res.status < 300, `HTTP ${res.status}: ${res.text.slice(0, 400)}`).toBe(true);
  return res.body;
}

/** The fields named by details.causes of a 422 Invalid Status. */
export function causeFields(status: Json): string[] {
  return ((status?.details?.causes ?? []) as Json[]).map((c) => c.field as string);
}

// ---------------------------------------------------------------------------------
// Watches

export interface WatchEvent {
  type: string;
  object: Json;
}

/** Events of one watch stream, consumed in order by the test. */
export class EventQueue {
  readonly events: WatchEvent[] = [];
  ended = false;
  endedAt = 0;
  error: unknown;
  private cursor = 0;
  private wakers: Array<() => void> = [];

  push(e: WatchEvent): void {
    this.events.push(e);
    this.wake();
  }

  end(err?: unknown): void {
    if (this.ended) return;
    this.ended = true;
    this.endedAt = Date.now();
    this.error = err;
    this.wake();
  }

  private wake(): void {
    const w = this.wakers;
    this.wakers = [];
    for (const f of w) f();
  }

  private async waitChange(deadline: number): Promise<boolean> {
    const left = deadline - Date.now();
    if (left <= 0) return false;
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, left);
      this.wakers.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
    return true;
  }

  /** The next unconsumed event; fails if none arrives in time or the stream ends first. */
  async next(timeoutMs = 5000): Promise<WatchEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const e = this.events[this.cursor];
      if (e) {
        this.cursor++;
        return e;
      }
      if (this.ended) throw new Error(`watch ended (${String(this.error ?? 'cleanly')}) while waiting for an event`);
      if (!(await this.waitChange(deadline))) throw new Error(`no watch event within ${timeoutMs} ms`);
    }
  }

  /** Consumes events until one satisfies pred; returns it. */
  async until(pred: (e: WatchEvent) => boolean, timeoutMs = 5000): Promise<WatchEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const e = await this.next(Math.max(1, deadline - Date.now()));
      if (pred(e)) return e;
    }
  }

  /** Waits until the server closes the stream. */
  async waitEnd(timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.ended) {
      if (!(await this.waitChange(deadline))) throw new Error(`watch still open after ${timeoutMs} ms`);
    }
  }

  /** Unconsumed events received so far. */
  pending(): WatchEvent[] {
    return this.events.slice(this.cursor);
  }
}

export interface WatchHandle {
  q: EventQueue;
  stop(): void;
}

/** A watch through @kubernetes/client-node's Watch class; resolves once the stream is open. */
export async function watch(
  kc: KubeConfig,
  path: string,
  query: Record<string, string | number | boolean | undefined> = {},
): Promise<WatchHandle> {
  const q = new EventQueue();
  const ctl = await new Watch(kc).watch(
    path,
    query,
    (type, object) => q.push({ type, object }),
    (err) => q.end(err ?? undefined),
  );
  return { q, stop: () => ctl.abort() };
}

export interface RawWatch extends WatchHandle {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** The whole body when the server refused the watch with a non-200 status. */
  errorBody?: Json;
}

/** A watch over plain HTTP, exposing the response status and headers and ERROR events verbatim. */
export async function rawWatch(
  kc: KubeConfig,
  path: string,
  query: Record<string, string | number | boolean | undefined> = {},
  opts: Pick<RawOptions, 'accept'> = {},
): Promise<RawWatch> {
  const url = serverUrl(kc, path, { ...query, watch: 'true' });
  const ro = await requestOptions(kc, 'GET', { accept: opts.accept });
  const mod = url.protocol === 'https:' ? https : http;
  const q = new EventQueue();
  return new Promise<RawWatch>((resolve, reject) => {
    const req = mod.request(url, ro, (res) => {
      const status = res.statusCode ?? 0;
      const stop = () => {
        req.destroy();
        q.end('stopped');
      };
      if (status !== 200) {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let errorBody: Json = text;
          try {
            errorBody = JSON.parse(text);
          } catch {
            /* not JSON */
          }
          q.end(`HTTP ${status}`);
          resolve({ status, headers: res.headers, q, stop, errorBody });
        });
        return;
      }
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buf += chunk;
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl).trim();
          buf = buf.slice(nl + 1);
          if (line) q.push(JSON.parse(line) as WatchEvent);
        }
      });
      res.on('end', () => {
        if (buf.trim()) q.push(JSON.parse(buf) as WatchEvent);
        q.end();
      });
      res.on('error', (e) => q.end(e));
      resolve({ status, headers: res.headers, q, stop });
    });
    req.on('error', (e) => {
      if (!q.ended) reject(e);
    });
    req.end();
  });
}

// ---------------------------------------------------------------------------------
// Polling

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Retries fn (which may assert with expect) until it stops throwing; rethrows the last failure. */
export async function eventually<T>(fn: () => T | Promise<T>, timeoutMs = 10_000, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() >= deadline) throw err;
      await sleep(intervalMs);
    }
  }
}

/** Runs fn repeatedly for durationMs; fails as soon as it throws. */
export async function consistently(fn: () => unknown, durationMs = 1500, intervalMs = 150): Promise<void> {
  const deadline = Date.now() + durationMs;
  do {
    await fn();
    await sleep(intervalMs);
  } while (Date.now() < deadline);
}

/** Awaits a client-node call that must fail; returns the HTTP code and the parsed Status body. */
export async function apiError(p: Promise<unknown>): Promise<{ code: number; body: Json }> {
  try {
    await p;
  } catch (err) {
    if (err instanceof ApiException) {
      let body: Json = err.body;
      if (typeof body === 'string') {
        try {
          body = JSON.parse(body);
        } catch {
          /* keep text */
        }
      }
      return { code: err.code, body };
    }
    throw err;
  }
  throw new Error('expected the API call to fail, but it succeeded');
}

// ---------------------------------------------------------------------------------
// Per-file cluster and namespace

/** Client-library call options that send a JSON merge patch. */
export const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

export interface Ctx {
  cluster: TestCluster;
  kind: TestCluster['kind'];
  kc: KubeConfig;
  /** The namespace this file owns (created in beforeAll, deleted in afterAll). */
  ns: string;
  core: CoreV1Api;
  net: NetworkingV1Api;
  coordination: CoordinationV1Api;
  events: EventsV1Api;
  raw(method: string, path: string, opts?: RawOptions): Promise<RawResponse>;
  /** Runs in afterAll before the namespace is deleted (errors ignored): release finalizers, cluster-scoped objects. */
  defer(fn: () => unknown): void;
}

/**
 * Registers beforeAll/afterAll that start the cluster and create a namespace named
 * `${prefix}-xxxxxx`; the returned object is filled in by beforeAll.
 */
export function useContractCluster(prefix: string, opts: { watchWindow?: number } = {}): Ctx {
  const deferred: Array<() => unknown> = [];
  const ctx = {
    defer: (fn: () => unknown) => {
      deferred.push(fn);
    },
  } as unknown as Ctx;
  beforeAll(async () => {
    const cluster = await startTestCluster(opts);
    const kc = cluster.kc;
    const core = kc.makeApiClient(CoreV1Api);
    const ns = uniqueName(`lbc-ct-${prefix}`);
    await core.createNamespace({ body: { metadata: { name: ns, labels: { 'lbc.test/contract': 'true' } } } });
    Object.assign(ctx, {
      cluster,
      kind: cluster.kind,
      kc,
      ns,
      core,
      net: kc.makeApiClient(NetworkingV1Api),
      coordination: kc.makeApiClient(CoordinationV1Api),
      events: kc.makeApiClient(EventsV1Api),
      raw: (method: string, path: string, o?: RawOptions) => raw(kc, method, path, o),
    });
  });
  afterAll(async () => {
    if (!ctx.cluster) return;
    for (const fn of deferred.reverse()) {
      try {
        await fn();
      } catch {
        /* best effort */
      }
    }
    try {
      // Pods on a Node without a kubelet never finish graceful deletion; force them.
      const pods = await ctx.core.listNamespacedPod({ namespace: ctx.ns });
      for (const p of pods.items) {
        const name = p.metadata?.name ?? '';
        if (p.metadata?.finalizers?.length) {
          await ctx.raw('PATCH', `/api/v1/namespaces/${ctx.ns}/pods/${name}`, {
            body: { metadata: { finalizers: null } },
            contentType: PatchStrategy.MergePatch,
          });
        }
        await ctx.raw('DELETE', `/api/v1/namespaces/${ctx.ns}/pods/${name}`, { body: { gracePeriodSeconds: 0 } });
      }
      await ctx.core.deleteNamespace({ name: ctx.ns });
    } catch {
      /* best effort */
    }
    await ctx.cluster.stop();
  });
  return ctx;
}

/** Path of a namespaced core/v1 collection or object. */
export function corePath(ns: string, resource: string, name?: string, sub?: string): string {
  return `/api/v1/namespaces/${ns}/${resource}${name ? `/${name}` : ''}${sub ? `/${sub}` : ''}`;
}

/** Path of a namespaced group/version collection or object. */
export function groupPath(gv: string, ns: string, resource: string, name?: string, sub?: string): string {
  return `/apis/${gv}/namespaces/${ns}/${resource}${name ? `/${name}` : ''}${sub ? `/${sub}` : ''}`;
}

/** A minimal ClusterIP Service body. */
export function serviceBody(name: string, spec: Json = {}, metadata: Json = {}): Json {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, ...metadata },
    spec: { ports: [{ name: 'http', port: 80, targetPort: 8080 }], ...spec },
  };
}


// ---------------------------------------------------------------------------------
// kubectl

/** Runs kubectl against the given kubeconfig; rejects with its stderr on failure. */
export function runKubectl(kubeconfigPath: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('kubectl', args, { env: { ...process.env, KUBECONFIG: kubeconfigPath }, timeout: 20_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`kubectl ${args.join(' ')} failed: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

/** Splits kubectl's aligned table output into rows of cells, using the header's column starts. */
export function kubectlTable(out: string): { header: string[]; rows: string[][] } {
  const lines = out.split('\n').filter((l) => l.trim() !== '');
  const head = lines[0] ?? '';
  const cols = [...head.matchAll(/\S+(?: \S+)*/g)].map((m) => ({ name: m[0], start: m.index ?? 0 }));
  const rows = lines.slice(1).map((line) =>
    cols.map((c, i) => line.slice(c.start, i + 1 < cols.length ? cols[i + 1]?.start : undefined).trim()),
  );
  return { header: cols.map((c) => c.name), rows };
}
