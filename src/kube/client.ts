// Where lbc's API credentials come from, and the clients built from them: client-node's
// typed clients (lists, reads, the rare writes), and lbc's own connection for the
// requests made once or more per object (finalizer and status patches, Events,
// watches).
//
// Why a connection of its own: a client-node request costs 1.2-1.8 ms of CPU (its
// middleware chain, node-fetch, ObjectSerializer both ways, and by default a new
// https.Agent, hence a TCP and TLS handshake, per request), and at four writes per
// Service that was the controller's largest cost, on cores it shares with the API
// server. kube-apiserver speaks HTTP/2 over TLS, so lbc's requests and watches share
// one multiplexed connection: one handshake, no per-socket bookkeeping, and the frames
// of concurrent requests leave in few writes. Servers without HTTP/2 (devcluster) get
// HTTP/1.1 over keep-alive connections instead.
import type { ConfigurationOptions } from '@kubernetes/client-node';
import { CoordinationV1Api, CoreV1Api, CustomObjectsApi, DiscoveryV1Api, KubeConfig, NetworkingV1Api } from './client-node.js';
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import { isIP, isIPv6 } from 'node:net';
import { delimiter } from 'node:path';
import type { Readable } from 'node:stream';
import tls from 'node:tls';
import { withoutManagedFields, type KubeObject } from './cache.js';
import type { WatchFn, WatchHandle } from './informer.js';
import { parseWithoutManagedFields } from './managed-fields.js';

export interface KubeConfigSource {
  /** `--kubeconfig FILE`; wins over everything else. */
  kubeconfig?: string;
  /** `--context NAME`; the file's current-context when omitted. */
  context?: string;
  /** Defaults to process.env; injectable for tests. */
  env?: NodeJS.ProcessEnv;
  /** Where the service-account token and CA live in a pod; injectable for tests. */
  serviceAccountDir?: string;
}

export type KubeConfigOrigin = 'flag' | 'env' | 'in-cluster';

const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/**
 * Loads credentials from `--kubeconfig`, else the KUBECONFIG variable (a path list,
 * merged as kubectl does), else the pod's service account. Unlike client-node's
 * loadFromDefault it never falls back to ~/.kube/config or to localhost:8080, so a
 * controller started in the wrong place fails instead of managing the wrong cluster.
 */
export function loadKubeConfig(src: KubeConfigSource = {}): { kc: KubeConfig; origin: KubeConfigOrigin } {
  const env = src.env ?? process.env;
  const kc = new KubeConfig();
  let origin: KubeConfigOrigin;
  if (src.kubeconfig) {
    kc.loadFromFile(src.kubeconfig);
    origin = 'flag';
  } else if (env.KUBECONFIG) {
    const files = env.KUBECONFIG.split(delimiter).filter((f) => f && existsSync(f));
    if (files.length === 0) throw new Error(`KUBECONFIG=${env.KUBECONFIG}: no such file`);
    for (const [i, file] of files.entries()) {
      if (i === 0) {
        kc.loadFromFile(file);
      } else {
        const more = new KubeConfig();
        more.loadFromFile(file);
        // As kubectl: the first file that sets current-context decides it.
        kc.mergeConfig(more, true);
      }
    }
    origin = 'env';
  } else if (env.KUBERNETES_SERVICE_HOST && existsSync(`${src.serviceAccountDir ?? SERVICE_ACCOUNT_DIR}/token`)) {
    loadInCluster(kc, env, src.serviceAccountDir ?? SERVICE_ACCOUNT_DIR);
    origin = 'in-cluster';
  } else {
    throw new Error('no Kubernetes credentials: pass --kubeconfig, set KUBECONFIG, or run in a pod with a service account');
  }
  if (src.context) {
    if (!kc.getContextObject(src.context)) throw new Error(`context ${JSON.stringify(src.context)} not found in kubeconfig`);
    kc.setCurrentContext(src.context);
  }
  if (!kc.getCurrentCluster()) throw new Error('kubeconfig has no current cluster');
  return { kc, origin };
}

// client-node's loadFromCluster reads process.env itself; this is the same config
// built from the injected environment.
function loadInCluster(kc: KubeConfig, env: NodeJS.ProcessEnv, dir: string): void {
  const host = env.KUBERNETES_SERVICE_HOST ?? '';
  const port = env.KUBERNETES_SERVICE_PORT ?? '443';
  const server = `https://${isIPv6(host) ? `[${host}]` : host}:${port}`;
  const namespace = existsSync(`${dir}/namespace`) ? readFileSync(`${dir}/namespace`, 'utf8').trim() : undefined;
  kc.loadFromOptions({
    clusters: [{ name: 'inCluster', server, caFile: `${dir}/ca.crt`, skipTLSVerify: false }],
    // tokenFile re-reads the file, so rotated (bound) service-account tokens are picked up.
    users: [{ name: 'inClusterUser', authProvider: { name: 'tokenFile', config: { tokenFile: `${dir}/token` } } }],
    contexts: [{ name: 'inClusterContext', cluster: 'inCluster', user: 'inClusterUser', namespace }],
    currentContext: 'inClusterContext',
  });
}

// ---- client-node's own requests: keep-alive ----------------------------------------------

type AgentFactory = (cluster: { server?: string; proxyUrl?: string } | null, options: Record<string, unknown>) => http.Agent;

const inline = (file: string | undefined): string | undefined => (file ? readFileSync(file).toString('base64') : undefined);
const reused = new WeakSet<KubeConfig>();

function keyPart(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (Buffer.isBuffer(v)) return v.toString('base64');
  return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? String(v) : JSON.stringify(v);
}

/**
 * Makes client-node's requests on kc share keep-alive connections. client-node builds
 * a new https.Agent for every request, so each API call pays a TCP and TLS handshake
 * (on both sides), and it re-reads certificate files from disk for every request too.
 * Here the files are read once (as client-go does) and requests share one keep-alive
 * agent per set of connection options. Idempotent; returns kc.
 */
export function reuseConnections(kc: KubeConfig, opts: { requestTimeoutMs?: number } = {}): KubeConfig {
  if (reused.has(kc)) return kc;
  reused.add(kc);
  // client-node sets no deadline on its requests: one sent on a connection that died
  // without a reset would wait forever, and with it the worker that made it. Every
  // request it makes passes through the KubeConfig as its auth method, so each gets one
  // there (a caller's own signal wins). Its watches do not pass there, and keep none.
  const timeoutMs = opts.requestTimeoutMs ?? REQUEST_TIMEOUT_MS;
  const authenticate = kc.applySecurityAuthentication.bind(kc);
  kc.applySecurityAuthentication = async (context) => {
    await authenticate(context);
    if (!context.getSignal()) context.setSignal(AbortSignal.timeout(timeoutMs));
  };
  kc.clusters = kc.clusters.map((c) => (c.caFile ? { ...c, caData: inline(c.caFile), caFile: undefined } : c));
  kc.users = kc.users.map((u) =>
    u.certFile || u.keyFile
      ? { ...u, certData: inline(u.certFile) ?? u.certData, keyData: inline(u.keyFile) ?? u.keyData, certFile: undefined, keyFile: undefined }
      : u,
  );
  const target = kc as unknown as { createAgent: AgentFactory };
  const original = target.createAgent.bind(kc);
  const agents = new Map<string, http.Agent>();
  target.createAgent = (cluster, options) => {
    // Proxied clusters keep client-node's own agents (hpagent, socks).
    if (cluster?.proxyUrl) return original(cluster, options);
    const server = cluster?.server ?? '';
    const id = [server, ...Object.keys(options).sort().map((k) => `${k}=${keyPart(options[k])}`)].join('|');
    let agent = agents.get(id);
    if (!agent) {
      const opts = { ...options, keepAlive: true, scheduling: 'lifo' as const };
      agent = server.startsWith('http:') ? new http.Agent(opts) : new https.Agent(opts);
      agents.set(id, agent);
    }
    return agent;
  };
  return kc;
}

// ---- lbc's own connection ---------------------------------------------------------------

/** An API request that failed: `code` is the HTTP status (none when no answer came), `body` the server's Status. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  /** The same as code, under the name client-node's Watch uses, so one check (isGone) serves both. */
  readonly statusCode: number | undefined;
  constructor(
    readonly code: number | undefined,
    readonly body: unknown,
    message: string,
  ) {
    super(message);
    this.statusCode = code;
  }
}

export interface RequestOptions {
  /** Sent as JSON. */
  body?: unknown;
  /** Default application/json. */
  contentType?: string;
  /** Skip parsing a successful answer (the caller does not read it): resolves undefined. */
  discard?: boolean;
  /** The answer is one object, and its metadata.managedFields are not wanted: left out before parsing where they can be (managed-fields.ts), else dropped after. */
  withoutManagedFields?: boolean;
}

/** One answer being received: the status, and the body as it arrives. */
interface Exchange {
  readonly status: number;
  readonly body: Readable;
  cancel(): void;
}

// Bound service-account tokens rotate; re-reading the credentials this often follows them.
const CREDENTIALS_TTL_MS = 30_000;
const REQUEST_TIMEOUT_MS = 60_000;
// An HTTP/2 connection with no request open for this long is closed (client-go: 90 s).
const IDLE_CLOSE_MS = 90_000;
// How often request deadlines are checked: a timeout fires up to this late.
const DEADLINE_SWEEP_MS = 1000;
// After a request timed out, the connection must answer a PING within this or be replaced.
const PING_TIMEOUT_MS = 15_000;
type Headers = Record<string, string>;
const JSON_TYPE = 'application/json';
// http2's request options (it copies them): one object each rather than one per request.
const END_STREAM = { endStream: true } as const;
const MORE_TO_SEND = { endStream: false } as const;
// Watches deliver bursts of large objects: a wide window lets them flow without a round trip per 64 KiB.
const WINDOW_BYTES = 16 << 20;

/**
 * lbc's connection to the API server of kc's current cluster: raw JSON requests and
 * watches, over one HTTP/2 connection when the server offers it (ALPN), else over
 * HTTP/1.1 keep-alive. Objects come back as the server's JSON (timestamps as RFC 3339
 * strings, not Dates).
 */
export class ApiConnection {
  private readonly base: URL;
  private readonly prefix: string;
  private headers: Record<string, string> = {};
  private headersAt = 0;
  private mode: 'h2' | 'h1' | undefined;
  private session: http2.ClientHttp2Session | undefined;
  private connecting: Promise<http2.ClientHttp2Session | undefined> | undefined;
  private agent: http.Agent | undefined;
  private open = 0;
  private closed = false;
  private readonly deadlines = new Map<http2.ClientHttp2Stream, { at: number; session: http2.ClientHttp2Session; timeoutMs: number }>();
  private sweeper: NodeJS.Timeout | undefined;

  /**
   * The connection for kc's current cluster; undefined when it needs a proxy, which only
   * client-node's agents speak. `http2: false` keeps to HTTP/1.1 whatever the server
   * offers; requestTimeoutMs bounds each request but watches (default 60 s).
   */
  static for(kc: KubeConfig, opts: { http2?: boolean; requestTimeoutMs?: number } = {}): ApiConnection | undefined {
    const cluster = kc.getCurrentCluster();
    if (!cluster || cluster.proxyUrl) return undefined;
    return new ApiConnection(kc, cluster.server, opts.http2 ?? true, opts.requestTimeoutMs ?? REQUEST_TIMEOUT_MS);
  }

  private constructor(
    private readonly kc: KubeConfig,
    server: string,
    http2Allowed: boolean,
    private readonly requestTimeoutMs: number,
  ) {
    this.base = new URL(server);
    this.prefix = this.base.pathname.replace(/\/$/, '');
    if (!http2Allowed) this.mode = 'h1';
  }

  /** 'h2' or 'http/1.1' once the first request has connected. */
  get protocol(): 'h2' | 'http/1.1' | undefined {
    return this.mode === undefined ? undefined : this.mode === 'h2' ? 'h2' : 'http/1.1';
  }

  /** Sends one request; resolves with the parsed answer, or rejects with an ApiError. */
  async request(method: string, path: string, opts: RequestOptions = {}): Promise<unknown> {
    const data = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    // Awaited only when they are due to be read again: an await per request showed in the profile.
    const credentials = Date.now() - this.headersAt < CREDENTIALS_TTL_MS ? this.headers : await this.credentials();
    const contentType = data === undefined ? undefined : (opts.contentType ?? JSON_TYPE);
    let ex: Exchange;
    try {
      ex = await this.exchange(method, path, credentials, contentType, data, this.requestTimeoutMs);
    } catch (e) {
      throw new ApiError(undefined, undefined, `${method} ${path}: ${(e as Error).message}`);
    }
    let text: string;
    try {
      text = await readAll(ex.body);
    } catch (e) {
      throw new ApiError(undefined, undefined, `${method} ${path}: ${(e as Error).message}`);
    }
    if (ex.status >= 200 && ex.status < 300) return opts.discard ? undefined : opts.withoutManagedFields ? answerWithoutManagedFields(parseWithoutManagedFields(text)) : JSON.parse(text);
    throw apiError(ex.status, text, `${method} ${path}`);
  }

  /** A WatchFn over this connection, for the informers. */
  readonly watch: WatchFn = async (path, query, onEvent, onDone) => {
    const qs = new URLSearchParams({ watch: 'true' });
    for (const [k, v] of Object.entries(query)) if (v !== undefined) qs.set(k, String(v));
    const ex = await this.exchange('GET', `${path}?${qs}`, await this.credentials(), undefined, undefined, 0);
    let ended = false;
    const end = (err?: unknown): void => {
      if (ended) return;
      ended = true;
      ex.cancel();
      onDone(err);
    };
    const handle: WatchHandle = {
      abort: () => {
        // The caller asked for the end, so it hears of none.
        ended = true;
        ex.cancel();
      },
    };
    if (ex.status !== 200) {
      readAll(ex.body).then(
        (text) => end(apiError(ex.status, text, `watch ${path}`)),
        (e: unknown) => end(e),
      );
      return handle;
    }
    // The tail of a line the last chunk cut. Lines are read by their index in the chunk,
    // and only the cut tail is kept: cutting the text after every line, as this did, made
    // a new string per line (the handler was 1.7% of the cold start's samples, #21).
    let tail = '';
    ex.body.setEncoding('utf8');
    ex.body.on('data', (chunk: string) => {
      if (ended) return;
      const text = tail === '' ? chunk : tail + chunk;
      let from = 0;
      let nl: number;
      while (!ended && (nl = text.indexOf('\n', from)) >= 0) {
        const line = text.slice(from, nl);
        from = nl + 1;
        // Events are objects; anything else is a blank line (or a torn one, which JSON.parse reports).
        if (line.charCodeAt(0) !== 0x7b && !line.trim()) continue;
        let ev: { type?: unknown; object?: unknown };
        try {
          // The informers drop managedFields anyway: not parsing them saves a good part of this handler's time (#21).
          ev = parseWithoutManagedFields(line, true) as { type?: unknown; object?: unknown };
        } catch {
          // A torn stream: resuming from the last resourceVersion loses nothing, skipping the line could.
          end(new Error(`watch ${path}: undecodable event`));
          return;
        }
        onEvent(String(ev.type), ev.object);
      }
      tail = from === 0 ? text : text.slice(from);
    });
    ex.body.on('end', () => end());
    ex.body.on('error', (e) => end(e));
    ex.body.on('close', () => end(new Error(`watch ${path}: stream closed`)));
    return handle;
  };

  /** Closes the connection; requests after this fail. */
  close(): void {
    this.closed = true;
    clearInterval(this.sweeper);
    this.session?.close();
    this.session = undefined;
    this.agent?.destroy();
  }

  private async credentials(): Promise<Record<string, string>> {
    if (Date.now() - this.headersAt < CREDENTIALS_TTL_MS) return this.headers;
    const opts: https.RequestOptions = {};
    await this.kc.applyToHTTPSOptions(opts);
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(opts.headers ?? {})) if (v !== undefined) headers[k.toLowerCase()] = String(v);
    if (opts.auth) headers.authorization = `Basic ${Buffer.from(opts.auth).toString('base64')}`;
    this.headers = headers;
    this.headersAt = Date.now();
    return headers;
  }

  // Read at every (re)connect, so rotated client certificates are picked up too.
  private async tlsOptions(): Promise<tls.ConnectionOptions> {
    const opts: https.RequestOptions = {};
    await this.kc.applyToHTTPSOptions(opts);
    const host = this.base.hostname.replace(/^\[|\]$/g, '');
    const servername = opts.servername ?? (isIP(host) ? undefined : host);
    return {
      ...(opts.ca ? { ca: opts.ca } : {}),
      ...(opts.cert ? { cert: opts.cert } : {}),
      ...(opts.key ? { key: opts.key } : {}),
      ...(opts.rejectUnauthorized !== undefined ? { rejectUnauthorized: opts.rejectUnauthorized } : {}),
      ...(servername ? { servername } : {}),
    };
  }

  /** Starts a request and resolves once the answer's headers are in; contentType is data's; timeoutMs 0 means none (watches). */
  // Not async: on an open session it hands back h2Exchange's own promise, where an async
  // function would wrap it in another, two microtasks more per request (#21).
  private exchange(method: string, path: string, credentials: Headers, contentType: string | undefined, data: string | undefined, timeoutMs: number): Promise<Exchange> {
    try {
      if (this.closed) throw new Error('connection closed');
      const open = this.session;
      if (open && !open.closed && !open.destroyed) return this.h2Exchange(open, method, path, credentials, contentType, data, timeoutMs);
    } catch (e) {
      return Promise.reject(e as Error);
    }
    return this.h2().then((session) =>
      session
        ? this.h2Exchange(session, method, path, credentials, contentType, data, timeoutMs)
        : this.h1Exchange(method, path, credentials, contentType, data, timeoutMs),
    );
  }

  private h2Exchange(
    session: http2.ClientHttp2Session,
    method: string,
    path: string,
    credentials: Headers,
    contentType: string | undefined,
    data: string | undefined,
    timeoutMs: number,
  ): Promise<Exchange> {
    // One object literal per request: built as a spread and then a key added at a time, as
    // they were, the headers cost ~1.7 us a request against ~0.03 us in a microbenchmark (#21).
    const p = `${this.prefix}${path}`;
    const headers =
      contentType === undefined
        ? { ':method': method, ':path': p, ...credentials, accept: JSON_TYPE }
        : { ':method': method, ':path': p, ...credentials, accept: JSON_TYPE, 'content-type': contentType };
    const stream = session.request(headers, data === undefined ? END_STREAM : MORE_TO_SEND);
    if (this.open++ === 0) session.ref();
    if (timeoutMs > 0) this.deadline(stream, session, timeoutMs);
    stream.once('close', () => {
      this.deadlines.delete(stream);
      if (--this.open === 0 && !session.destroyed) session.unref();
    });
    if (data !== undefined) stream.end(data);
    const cancel = (): void => {
      if (!stream.closed) stream.close(http2.constants.NGHTTP2_CANCEL);
    };
    return new Promise((resolve, reject) => {
      stream.once('response', (h) => resolve({ status: Number(h[':status']), body: stream, cancel }));
      stream.once('error', reject);
    });
  }

  private h1Exchange(method: string, path: string, credentials: Headers, contentType: string | undefined, data: string | undefined, timeoutMs: number): Promise<Exchange> {
    const headers: Headers = { ...credentials, accept: JSON_TYPE };
    if (contentType !== undefined) headers['content-type'] = contentType;
    if (data !== undefined) headers['content-length'] = String(Buffer.byteLength(data));
    const plain = this.base.protocol === 'http:';
    const request = plain ? http.request : https.request;
    const agent = this.agent as http.Agent;
    return new Promise((resolve, reject) => {
      const req = request(
        {
          protocol: this.base.protocol,
          hostname: this.base.hostname,
          port: this.base.port,
          path: `${this.prefix}${path}`,
          method,
          agent,
          headers,
        },
        (res) => resolve({ status: res.statusCode ?? 0, body: res, cancel: () => req.destroy() }),
      );
      if (timeoutMs > 0) req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      req.on('error', reject);
      req.end(data);
    });
  }

  /**
   * The HTTP/2 session, connecting if needed; undefined when the server speaks only
   * HTTP/1.1 (then this.agent is set). The first connection asks for h2 or http/1.1
   * by ALPN, and the answer is kept for the connection's life.
   */
  private h2(): Promise<http2.ClientHttp2Session | undefined> {
    if (this.mode === 'h1' && this.agent) return Promise.resolve(undefined);
    if (this.session && !this.session.closed && !this.session.destroyed) return Promise.resolve(this.session);
    this.connecting ??= this.connect().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  private async connect(): Promise<http2.ClientHttp2Session | undefined> {
    const options = await this.tlsOptions();
    if (this.base.protocol === 'http:' || this.mode === 'h1') return this.useH1(options);
    const socket = await new Promise<tls.TLSSocket>((resolve, reject) => {
      const s = tls.connect({
        host: this.base.hostname.replace(/^\[|\]$/g, ''),
        port: Number(this.base.port || 443),
        ...options,
        ALPNProtocols: ['h2', 'http/1.1'],
      });
      // A server that takes the connection but never finishes the handshake (a load
      // balancer in front of a restarting API server) would hold every request, since
      // they all wait for this one connection: the handshake has the request deadline.
      s.setTimeout(this.requestTimeoutMs, () => s.destroy(new Error(`TLS handshake not done within ${this.requestTimeoutMs} ms`)));
      s.once('secureConnect', () => {
        s.setTimeout(0);
        resolve(s);
      });
      s.once('error', reject);
    });
    if (socket.alpnProtocol !== 'h2') {
      socket.destroy();
      return this.useH1(options);
    }
    socket.setKeepAlive(true, 30_000);
    const session = http2.connect(this.base.origin, {
      createConnection: () => socket,
      settings: { enablePush: false, initialWindowSize: WINDOW_BYTES },
      maxSessionMemory: 64,
    });
    session.setLocalWindowSize(WINDOW_BYTES);
    session.unref();
    // Streams in flight end with their own errors; the next request connects anew.
    const forget = (): void => {
      if (this.session === session) this.session = undefined;
    };
    session.on('error', forget);
    session.on('goaway', forget);
    session.on('close', forget);
    session.setTimeout(IDLE_CLOSE_MS, () => {
      if (this.open === 0) session.close();
    });
    this.mode = 'h2';
    this.session = session;
    return session;
  }

  private useH1(options: tls.ConnectionOptions): undefined {
    const opts = { keepAlive: true, scheduling: 'lifo' as const, ...options };
    this.agent = this.base.protocol === 'http:' ? new http.Agent(opts) : new https.Agent(opts);
    this.mode = 'h1';
    return undefined;
  }

  // One timer for every request's deadline: a timer per request (stream.setTimeout, which
  // also re-arms on every chunk) showed in the profile.
  private deadline(stream: http2.ClientHttp2Stream, session: http2.ClientHttp2Session, timeoutMs: number): void {
    this.deadlines.set(stream, { at: Date.now() + timeoutMs, session, timeoutMs });
    this.sweeper ??= setInterval(() => {
      const now = Date.now();
      for (const [s, d] of this.deadlines) {
        if (d.at > now) continue;
        this.deadlines.delete(s);
        s.destroy(new Error(`no answer within ${d.timeoutMs} ms`));
        this.checkAlive(d.session);
      }
      if (this.deadlines.size === 0) {
        clearInterval(this.sweeper);
        this.sweeper = undefined;
      }
    }, DEADLINE_SWEEP_MS);
    this.sweeper.unref();
  }

  // A request that timed out may be the first sign of a dead connection (no RST ever
  // came): unless it answers a PING, it is replaced.
  private checkAlive(session: http2.ClientHttp2Session): void {
    if (session.destroyed) return;
    const timer = setTimeout(() => session.destroy(new Error('connection did not answer a PING')), PING_TIMEOUT_MS);
    timer.unref();
    session.ping((err) => {
      if (!err) clearTimeout(timer);
    });
  }
}

const answerWithoutManagedFields = (obj: unknown): unknown => (obj !== null && typeof obj === 'object' ? withoutManagedFields(obj as KubeObject) : obj);

function readAll(body: Readable): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    body.on('data', (c: Buffer) => chunks.push(c));
    body.once('end', () => resolve(chunks.length === 1 ? (chunks[0] as Buffer).toString('utf8') : Buffer.concat(chunks).toString('utf8')));
    body.once('error', reject);
  });
}

function apiError(status: number, text: string, what: string): ApiError {
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Not JSON: keep the text for the error.
  }
  const message = (parsed as { message?: unknown } | undefined)?.message;
  return new ApiError(status, parsed, `${what}: ${status} ${typeof message === 'string' ? message : text.slice(0, 200)}`);
}

// ---- the per-object writes --------------------------------------------------------------

/** Exactly the calls StatusWriter and EventRecorder make, with client-node's signatures. */
export interface WriteClients {
  readonly core: Pick<CoreV1Api, 'patchNamespacedService' | 'patchNamespacedServiceStatus' | 'createNamespacedEvent' | 'patchNamespacedEvent'>;
  readonly networking: Pick<NetworkingV1Api, 'patchNamespacedIngress' | 'patchNamespacedIngressStatus'>;
  /**
   * Custom resources (Gateway API): the finalizers of Gateways and GatewayClasses, and the
   * status of Gateways, routes and GatewayClasses. Optional so that a test's wrapper of the two above still
   * fits; StatusWriter falls back to client-node's CustomObjectsApi.
   */
  readonly custom?: Pick<CustomObjectsApi, 'patchNamespacedCustomObject' | 'patchNamespacedCustomObjectStatus' | 'patchClusterCustomObject' | 'patchClusterCustomObjectStatus'>;
}

// The content type callers set through client-node middleware (setHeaderOptions), per
// options object: StatusWriter reuses one per patch type, so this runs once per type.
const contentTypes = new WeakMap<ConfigurationOptions, string | undefined>();
function contentTypeOf(options: ConfigurationOptions | undefined): string | undefined {
  if (!options) return undefined;
  if (contentTypes.has(options)) return contentTypes.get(options);
  const out: Record<string, string> = {};
  const ctx = { setHeaderParam: (k: string, v: string) => (out[k.toLowerCase()] = v) };
  for (const m of (options.middleware ?? []) as { pre?: (c: unknown) => unknown }[]) m.pre?.(ctx);
  contentTypes.set(options, out['content-type']);
  return out['content-type'];
}

/**
 * The name lbc's writes carry (`fieldManager`), so managedFields say who set a finalizer,
 * a status or a Lease; without it kube-apiserver records the User-Agent, or "unknown".
 */
export const FIELD_MANAGER = 'lbc';

/** Write clients over kc's current cluster; undefined when it needs a proxy, which only client-node's own agents speak. */
export async function leanWriteClients(kc: KubeConfig, fieldManager = FIELD_MANAGER): Promise<WriteClients | undefined> {
  const api = ApiConnection.for(kc);
  return api ? writeClients(api, fieldManager) : undefined;
}

// The client-node calls that write: each takes `fieldManager` among its parameters.
const WRITE_CALL = /^(create|patch|replace)[A-Z]/;

/** client-node's client, with fieldManager set on every create, patch and replace that does not set its own. */
function managedBy<T extends object>(client: T, fieldManager: string): T {
  return new Proxy(client, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function' || typeof prop !== 'string' || !WRITE_CALL.test(prop)) return value;
      return (params: object, ...rest: unknown[]) => (value as (...a: unknown[]) => unknown).call(target, { fieldManager, ...params }, ...rest);
    },
  });
}

/**
 * The write calls over lbc's connection. The patches resolve to the object as the
 * server's JSON; Event writes resolve to nothing, since no caller reads them.
 */
export function writeClients(api: ApiConnection, fieldManager = FIELD_MANAGER): WriteClients {
  const managed = `?fieldManager=${encodeURIComponent(fieldManager)}`;
  // Without a type set by the caller, a list is a JSON patch.
  const patchType = (body: unknown, o: ConfigurationOptions | undefined): string =>
    contentTypeOf(o) ?? (Array.isArray(body) ? 'application/json-patch+json' : 'application/merge-patch+json');
  const ns = (namespace: string): string => encodeURIComponent(namespace);
  const nm = (name: string): string => encodeURIComponent(name);
  type Patch = { name: string; namespace: string; body: unknown };
  // The answers are held (OwnWrites) until the informer catches up: without managedFields, as the cache holds objects.
  const patch = (path: string, p: Patch, o?: ConfigurationOptions, discard = false): Promise<unknown> =>
    api.request('PATCH', `${path}${managed}`, { body: p.body, contentType: patchType(p.body, o), discard, withoutManagedFields: true });

  const core = {
    patchNamespacedService: (p: Patch, o?: ConfigurationOptions) => patch(`/api/v1/namespaces/${ns(p.namespace)}/services/${nm(p.name)}`, p, o),
    patchNamespacedServiceStatus: (p: Patch, o?: ConfigurationOptions) => patch(`/api/v1/namespaces/${ns(p.namespace)}/services/${nm(p.name)}/status`, p, o),
    createNamespacedEvent: (p: { namespace: string; body: unknown }) =>
      api.request('POST', `/api/v1/namespaces/${ns(p.namespace)}/events${managed}`, { body: p.body, discard: true }),
    patchNamespacedEvent: (p: Patch, o?: ConfigurationOptions) => patch(`/api/v1/namespaces/${ns(p.namespace)}/events/${nm(p.name)}`, p, o, true),
  };
  const networking = {
    patchNamespacedIngress: (p: Patch, o?: ConfigurationOptions) =>
      patch(`/apis/networking.k8s.io/v1/namespaces/${ns(p.namespace)}/ingresses/${nm(p.name)}`, p, o),
    patchNamespacedIngressStatus: (p: Patch, o?: ConfigurationOptions) =>
      patch(`/apis/networking.k8s.io/v1/namespaces/${ns(p.namespace)}/ingresses/${nm(p.name)}/status`, p, o),
  };
  type CustomPatch = { group: string; version: string; plural: string; name: string; namespace?: string; body: unknown };
  const customPath = (p: CustomPatch): string =>
    `/apis/${p.group}/${p.version}${p.namespace !== undefined ? `/namespaces/${ns(p.namespace)}` : ''}/${p.plural}/${nm(p.name)}`;
  const custom = {
    patchNamespacedCustomObject: (p: CustomPatch, o?: ConfigurationOptions) => patch(customPath(p), { ...p, namespace: p.namespace ?? '' }, o),
    patchNamespacedCustomObjectStatus: (p: CustomPatch, o?: ConfigurationOptions) => patch(`${customPath(p)}/status`, { ...p, namespace: p.namespace ?? '' }, o),
    patchClusterCustomObject: (p: CustomPatch, o?: ConfigurationOptions) => patch(customPath({ ...p, namespace: undefined }), { ...p, namespace: '' }, o),
    patchClusterCustomObjectStatus: (p: CustomPatch, o?: ConfigurationOptions) => patch(`${customPath({ ...p, namespace: undefined })}/status`, { ...p, namespace: '' }, o),
  };
  // The generated signatures promise typed models; these are their JSON, which is what callers read.
  return { core, networking, custom } as unknown as WriteClients;
}

// ---- all of it --------------------------------------------------------------------------

/** The API groups lbc talks to, all from one KubeConfig. */
export interface KubeClients {
  readonly kc: KubeConfig;
  readonly core: CoreV1Api;
  readonly networking: NetworkingV1Api;
  readonly discovery: DiscoveryV1Api;
  readonly coordination: CoordinationV1Api;
  /** Custom resources (the Gateway API kinds). */
  readonly custom: CustomObjectsApi;
  /** lbc's own connection (writes and watches); undefined for a cluster behind a proxy. */
  readonly api: ApiConnection | undefined;
  /** The per-object writes: over `api`, else client-node's clients. */
  readonly writes: WriteClients;
}

/**
 * The clients for kc's current cluster. Makes client-node reuse its connections
 * (reuseConnections). Every write is recorded as fieldManager's (the speaker: lbc-speaker).
 */
export function makeClients(kc: KubeConfig, opts: { fieldManager?: string } = {}): KubeClients {
  const fieldManager = opts.fieldManager ?? FIELD_MANAGER;
  reuseConnections(kc);
  const core = managedBy(kc.makeApiClient(CoreV1Api), fieldManager);
  const networking = managedBy(kc.makeApiClient(NetworkingV1Api), fieldManager);
  const custom = managedBy(kc.makeApiClient(CustomObjectsApi), fieldManager);
  const api = ApiConnection.for(kc);
  return {
    kc,
    core,
    networking,
    discovery: kc.makeApiClient(DiscoveryV1Api),
    coordination: managedBy(kc.makeApiClient(CoordinationV1Api), fieldManager),
    custom,
    api,
    writes: api ? writeClients(api, fieldManager) : { core, networking, custom },
  };
}
