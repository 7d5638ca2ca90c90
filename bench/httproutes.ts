// HTTPRoutes for the devcluster bench (issue #15): what a custom resource costs beside a
// Service. The Gateway API v1.4.0 standard CRDs are installed through the API, as a user
// installs them, and every route is valid and has several rules, so the schema and the CEL
// rules of the CRD (path values, URL rewrites against their matches, filter kinds, backend
// kinds) are evaluated on each create.
import { ApiException, ApiextensionsV1Api, Observable, type ConfigurationOptions, type CustomObjectsApi, type KubeConfig, type V1CustomResourceDefinition } from '@kubernetes/client-node';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { uncompressed } from './resumable-watch.js';

const STANDARD = new URL('../../shared/crds/gateway-api-v1.4.0/standard/', import.meta.url).pathname;

export const HTTPROUTES = { group: 'gateway.networking.k8s.io', version: 'v1', plural: 'httproutes' } as const;

function standardCrds(): V1CustomResourceDefinition[] {
  return readdirSync(STANDARD)
    .filter((f) => f.endsWith('.yaml'))
    .flatMap((f) => parseAllDocuments(readFileSync(join(STANDARD, f), 'utf8')).map((d) => d.toJSON() as V1CustomResourceDefinition))
    .filter((d) => d?.kind === 'CustomResourceDefinition');
}

/**
 * Creates the standard CRDs the cluster lacks and waits until they are Established; those
 * already there (any version) are used as they are, so a real cluster's Gateway API is not
 * replaced by the bench. Returns the names it created and the Gateway API release of the
 * HTTPRoute CRD that is served, for the bench to say which one it measured.
 */
export async function installGatewayApi(kc: KubeConfig): Promise<{ created: string[]; httpRouteBundle: string }> {
  const ext = kc.makeApiClient(ApiextensionsV1Api);
  const created: string[] = [];
  for (const crd of standardCrds()) {
    const name = crd.metadata!.name!;
    try {
      await ext.createCustomResourceDefinition({ body: crd });
      created.push(name);
    } catch (e) {
      if (!(e instanceof ApiException && e.code === 409)) throw e;
    }
  }
  const deadline = Date.now() + 30_000;
  for (const name of created) {
    for (;;) {
      const crd = await ext.readCustomResourceDefinition({ name });
      if (crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) break;
      if (Date.now() > deadline) throw new Error(`CRD ${name} not Established after 30 s: ${JSON.stringify(crd.status?.conditions ?? [])}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const routes = await ext.readCustomResourceDefinition({ name: `${HTTPROUTES.plural}.${HTTPROUTES.group}` });
  return { created, httpRouteBundle: routes.metadata?.annotations?.['gateway.networking.k8s.io/bundle-version'] ?? 'unknown' };
}

/** A valid route with four rules: prefix and exact paths, a header match, a header modifier, a prefix rewrite and a weighted split. */
export function httpRoute(name: string, backend: string): object {
  const ref = (weight?: number) => ({ name: backend, port: 80, ...(weight === undefined ? {} : { weight }) });
  return {
    apiVersion: `${HTTPROUTES.group}/${HTTPROUTES.version}`,
    kind: 'HTTPRoute',
    metadata: { name },
    spec: {
      parentRefs: [{ name: 'bench-gateway', sectionName: 'http' }],
      hostnames: [`${name}.bench.example.com`],
      rules: [
        {
          matches: [{ path: { type: 'PathPrefix', value: '/api' }, headers: [{ name: 'x-version', value: 'v2' }] }],
          filters: [{ type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'x-route', value: name }], remove: ['x-debug'] } }],
          backendRefs: [ref()],
        },
        { matches: [{ path: { type: 'Exact', value: '/healthz' }, method: 'GET' }], backendRefs: [ref()] },
        {
          matches: [{ path: { type: 'PathPrefix', value: '/old' } }],
          filters: [{ type: 'URLRewrite', urlRewrite: { path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/new' } } }],
          backendRefs: [ref()],
        },
        { matches: [{ path: { type: 'PathPrefix', value: '/' } }], backendRefs: [ref(90), { ...ref(10), name: `${backend}-canary` }] },
      ],
    },
  };
}

export async function createHttpRoute(custom: CustomObjectsApi, namespace: string, name: string, backend: string): Promise<void> {
  await custom.createNamespacedCustomObject({ ...HTTPROUTES, namespace, body: httpRoute(name, backend) });
}

// Deleting 1000 HTTPRoutes in one request took past the 60 s deadline every client-node
// request gets (reuseConnections) on a loaded machine, and `npm run bench devcluster` then
// died after printing its figures, on the deadline's uncaught node-fetch AbortError (#21).
const DELETE_ROUTES_MS = 10 * 60_000;

/** The options with a deadline of their own, which the one reuseConnections sets gives way to. */
export function withDeadline(ms: number, opt: ConfigurationOptions = {}): ConfigurationOptions {
  return {
    ...opt,
    middleware: [
      ...(opt.middleware ?? []),
      {
        pre: (ctx) => {
          ctx.setSignal(AbortSignal.timeout(ms));
          return new Observable(Promise.resolve(ctx));
        },
        post: (res) => new Observable(Promise.resolve(res)),
      },
    ],
    middlewareMergeStrategy: 'append',
  } as ConfigurationOptions;
}

/**
 * Deletes a namespace's HTTPRoutes (one deleteCollection, with time to finish); if that
 * request fails, a LIST says whether the server did the work anyway, and if not, why.
 */
export async function deleteRoutes(custom: CustomObjectsApi, namespace: string, deadlineMs = DELETE_ROUTES_MS): Promise<void> {
  try {
    await custom.deleteCollectionNamespacedCustomObject({ ...HTTPROUTES, namespace }, withDeadline(deadlineMs, uncompressed));
  } catch (e) {
    const left = await custom.listNamespacedCustomObject({ ...HTTPROUTES, namespace, limit: 1 }, withDeadline(60_000, uncompressed)).then(
      (l) => (l as { items: unknown[] }).items.length,
      () => undefined,
    );
    if (left === 0) return;
    const why = e instanceof Error ? e.message : String(e);
    throw new Error(`deleting the HTTPRoutes of ${namespace} failed: ${why}${left === undefined ? ' (and a LIST to check could not be made)' : '; some are left'}`);
  }
}
