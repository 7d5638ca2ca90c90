// The API calls a reconcile makes once per object, in bulk (finalizer and status
// patches, Events), over plain node:https with keep-alive instead of through
// client-node's generated layer. Measured on the 2-core test machine, a client-node
// request costs 1.2-1.8 ms of CPU (middleware chain, node-fetch, ObjectSerializer both
// ways) against 0.4-0.6 ms here; at 4 writes per Service that is the controller's
// largest cost, and the API server shares those cores. Objects come back as the API
// server's JSON (timestamps as RFC 3339 strings, not Dates), which is all the status
// writer and the reconcilers read. Errors carry `code` and `body` as client-node's
// ApiException does, so callers tell a 404 or a 409 apart the same way.
import type { ConfigurationOptions, CoreV1Api, KubeConfig, NetworkingV1Api } from '@kubernetes/client-node';
import http from 'node:http';
import https from 'node:https';

/** Exactly the calls StatusWriter and EventRecorder make. */
export interface WriteClients {
  readonly core: Pick<CoreV1Api, 'patchNamespacedService' | 'patchNamespacedServiceStatus' | 'createNamespacedEvent' | 'patchNamespacedEvent'>;
  readonly networking: Pick<NetworkingV1Api, 'patchNamespacedIngress' | 'patchNamespacedIngressStatus'>;
}

export class WriteError extends Error {
  override readonly name = 'WriteError';
  constructor(
    readonly code: number | undefined,
    readonly body: unknown,
    message: string,
  ) {
    super(message);
  }
}

interface Target {
  readonly url: URL;
  readonly agent: http.Agent;
  headers: Record<string, string>;
  headersAt: number;
}

// Bound service-account tokens rotate; re-reading the credentials this often follows them.
const CREDENTIALS_TTL_MS = 30_000;
const REQUEST_TIMEOUT_MS = 60_000;

/** The header values the caller set through client-node middleware (setHeaderOptions). */
function headersOf(options: ConfigurationOptions | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  const ctx = { setHeaderParam: (k: string, v: string) => (out[k.toLowerCase()] = v) };
  for (const m of (options?.middleware ?? []) as { pre?: (c: unknown) => unknown }[]) m.pre?.(ctx);
  return out;
}

/**
 * Write clients over kc's current cluster; undefined when it needs a proxy, which only
 * client-node's own agents speak.
 */
export async function leanWriteClients(kc: KubeConfig): Promise<WriteClients | undefined> {
  const cluster = kc.getCurrentCluster();
  if (!cluster || cluster.proxyUrl) return undefined;
  const tls: https.RequestOptions = {};
  await kc.applyToHTTPSOptions(tls);
  const url = new URL(cluster.server);
  const agentOptions = {
    keepAlive: true,
    scheduling: 'lifo' as const,
    ...(tls.ca ? { ca: tls.ca } : {}),
    ...(tls.cert ? { cert: tls.cert } : {}),
    ...(tls.key ? { key: tls.key } : {}),
    ...(cluster.skipTLSVerify ? { rejectUnauthorized: false } : {}),
    ...(cluster.tlsServerName ? { servername: cluster.tlsServerName } : {}),
  };
  const target: Target = {
    url,
    agent: url.protocol === 'http:' ? new http.Agent(agentOptions) : new https.Agent(agentOptions),
    headers: {},
    headersAt: 0,
  };

  const credentials = async (): Promise<Record<string, string>> => {
    if (Date.now() - target.headersAt < CREDENTIALS_TTL_MS) return target.headers;
    const opts: https.RequestOptions = {};
    await kc.applyToHTTPSOptions(opts);
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(opts.headers ?? {})) if (v !== undefined) headers[k] = String(v);
    if (opts.auth) headers.authorization = `Basic ${Buffer.from(opts.auth).toString('base64')}`;
    target.headers = headers;
    target.headersAt = Date.now();
    return headers;
  };

  const send = async (method: string, path: string, body: unknown, contentType: string): Promise<unknown> => {
    const data = JSON.stringify(body);
    const headers = {
      ...(await credentials()),
      accept: 'application/json',
      'content-type': contentType,
      'content-length': String(Buffer.byteLength(data)),
    };
    const request = url.protocol === 'http:' ? http.request : https.request;
    return new Promise((resolve, reject) => {
      const req = request(
        { protocol: url.protocol, hostname: url.hostname, port: url.port, path: `${url.pathname.replace(/\/$/, '')}${path}`, method, agent: target.agent, headers },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown = text;
            try {
              parsed = JSON.parse(text);
            } catch {
              // Not JSON: keep the text for the error.
            }
            const code = res.statusCode ?? 0;
            if (code >= 200 && code < 300) resolve(parsed);
            else {
              const message = (parsed as { message?: unknown } | undefined)?.message;
              reject(new WriteError(code, parsed, `${method} ${path}: ${code} ${typeof message === 'string' ? message : text.slice(0, 200)}`));
            }
          });
        },
      );
      req.setTimeout(REQUEST_TIMEOUT_MS, () => req.destroy(new Error(`${method} ${path}: no answer within ${REQUEST_TIMEOUT_MS} ms`)));
      req.on('error', (e) => reject(new WriteError(undefined, undefined, e.message)));
      req.end(data);
    });
  };

  // The status writer sets the patch type with setHeaderOptions; without one, a list is a JSON patch.
  const patchType = (body: unknown, options: ConfigurationOptions | undefined): string =>
    headersOf(options)['content-type'] ?? (Array.isArray(body) ? 'application/json-patch+json' : 'application/merge-patch+json');
  const ns = (namespace: string): string => encodeURIComponent(namespace);
  const nm = (name: string): string => encodeURIComponent(name);
  type Patch = { name: string; namespace: string; body: unknown };

  const core = {
    patchNamespacedService: (p: Patch, o?: ConfigurationOptions) =>
      send('PATCH', `/api/v1/namespaces/${ns(p.namespace)}/services/${nm(p.name)}`, p.body, patchType(p.body, o)),
    patchNamespacedServiceStatus: (p: Patch, o?: ConfigurationOptions) =>
      send('PATCH', `/api/v1/namespaces/${ns(p.namespace)}/services/${nm(p.name)}/status`, p.body, patchType(p.body, o)),
    createNamespacedEvent: (p: { namespace: string; body: unknown }) =>
      send('POST', `/api/v1/namespaces/${ns(p.namespace)}/events`, p.body, 'application/json'),
    patchNamespacedEvent: (p: Patch, o?: ConfigurationOptions) =>
      send('PATCH', `/api/v1/namespaces/${ns(p.namespace)}/events/${nm(p.name)}`, p.body, patchType(p.body, o)),
  };
  const networking = {
    patchNamespacedIngress: (p: Patch, o?: ConfigurationOptions) =>
      send('PATCH', `/apis/networking.k8s.io/v1/namespaces/${ns(p.namespace)}/ingresses/${nm(p.name)}`, p.body, patchType(p.body, o)),
    patchNamespacedIngressStatus: (p: Patch, o?: ConfigurationOptions) =>
      send('PATCH', `/apis/networking.k8s.io/v1/namespaces/${ns(p.namespace)}/ingresses/${nm(p.name)}/status`, p.body, patchType(p.body, o)),
  };
  // The generated signatures promise typed models; these are their JSON, which is what callers read.
  return { core, networking } as unknown as WriteClients;
}
