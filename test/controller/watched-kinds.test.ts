// `lbc plan` sees the cluster as the controller's caches hold it: it lists exactly the
// kinds the controller watches, with the same selectors, into caches with the same
// indexes. Held through the API requests each makes (recorded at the clients, against a
// real API server: devcluster, or the cluster KUBECONFIG names) and what each then holds,
// so a kind, a selector or an index given to one and not the other fails here.
import type { CoreV1Api, V1Node } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCluster, type ClusterSnapshot } from '../../src/cli/plan.js';
import { validateConfig } from '../../src/config/config.js';
import { COMPANION_OF_ANNOTATION } from '../../src/controller/companions.js';
import { Controller } from '../../src/controller/controller.js';
import type { Cache, KubeObject } from '../../src/kube/cache.js';
import { makeClients, type KubeClients } from '../../src/kube/client.js';
import { buildProviders, type ProviderSet } from '../../src/providers/registry.js';
import { startTestCluster, uniqueName, type TestCluster } from '../support/cluster.js';
import { CERT_PEM, KEY_PEM } from './fixtures.js';

/**
 * The clients, with every list each makes written down: which call (a typed one, or a GET
 * over lbc's own connection, as the informers list where there is one), in which
 * namespace, with which selectors.
 */
function recordingLists(clients: KubeClients, calls: Set<string>): KubeClients {
  const wrap = <A extends object>(api: A, name: string): A =>
    new Proxy(api, {
      get(target, prop) {
        const v: unknown = Reflect.get(target, prop, target);
        if (typeof v !== 'function' || !String(prop).startsWith('list')) return v;
        return (req: { namespace?: string; labelSelector?: string; fieldSelector?: string } = {}, ...rest: unknown[]) => {
          calls.add(`${name}.${String(prop)} namespace=${req.namespace ?? ''} labelSelector=${req.labelSelector ?? ''} fieldSelector=${req.fieldSelector ?? ''}`);
          return (v as (...a: unknown[]) => unknown).call(target, req, ...rest);
        };
      },
    });
  const api = clients.api;
  const request = api?.request.bind(api);
  const listing =
    api &&
    request &&
    Object.assign(Object.create(api) as typeof api, {
      request: (method: string, path: string, opts?: Parameters<typeof api.request>[2]) => {
        if (method === 'GET') {
          const url = new URL(path, 'https://x');
          const q = (k: string): string => url.searchParams.get(k) ?? '';
          calls.add(`GET ${url.pathname} labelSelector=${q('labelSelector')} fieldSelector=${q('fieldSelector')}`);
        }
        return request(method, path, opts);
      },
    });
  return { ...clients, core: wrap(clients.core, 'core'), networking: wrap(clients.networking, 'networking'), discovery: wrap(clients.discovery, 'discovery'), api: listing };
}

let cluster: TestCluster;
let clients: KubeClients;
let core: CoreV1Api;
let providers: ProviderSet;
let ns: string;
let nodeLabel: string;
let className: string;
const controllerCalls = new Set<string>();
const planCalls = new Set<string>();
let controller: Controller;
let snapshot: ClusterSnapshot;

beforeAll(async () => {
  cluster = await startTestCluster();
  clients = makeClients(cluster.kc);
  core = clients.core;
  ns = uniqueName('lbc-watched');
  nodeLabel = `lbc-watched-${ns}`;
  className = ns;
  const config = validateConfig({ clusterName: ns, providers: [{ name: 'mem', type: 'memory', options: { addressPool: '198.51.100.0/24' } }], ingress: { controllerName: `lbc.dev/${ns}` } });
  providers = await buildProviders(config);

  // Objects for every kind, and on each side of every selector.
  await core.createNamespace({ body: { metadata: { name: ns } } });
  const node = (name: string, labels: Record<string, string>): V1Node => ({ metadata: { name, labels } });
  await core.createNode({ body: node(`${ns}-in`, { [nodeLabel]: 'true' }) });
  await core.createNode({ body: node(`${ns}-out`, { [`${nodeLabel}-other`]: 'true' }) });
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  await core.createNamespacedSecret({ namespace: ns, body: { metadata: { name: 'site-tls' }, type: 'kubernetes.io/tls', data: { 'tls.crt': b64(CERT_PEM), 'tls.key': b64(KEY_PEM) } } });
  await core.createNamespacedSecret({ namespace: ns, body: { metadata: { name: 'opaque' }, type: 'Opaque', data: { a: b64('b') } } });
  await core.createNamespacedService({ namespace: ns, body: { metadata: { name: 'web' }, spec: { type: 'NodePort', ports: [{ port: 80, targetPort: 8080, protocol: 'TCP' }] } } });
  await core.createNamespacedService({
    namespace: ns,
    body: { metadata: { name: 'web-companion', annotations: { [COMPANION_OF_ANNOTATION]: `group/${ns}` } }, spec: { type: 'NodePort', ports: [{ port: 80, protocol: 'TCP' }] } },
  });
  await clients.discovery.createNamespacedEndpointSlice({
    namespace: ns,
    body: { metadata: { name: 'web-x', labels: { 'kubernetes.io/service-name': 'web' } }, addressType: 'IPv4', ports: [{ name: '', port: 8080, protocol: 'TCP' }], endpoints: [{ addresses: ['10.1.0.1'] }] },
  });
  await clients.networking.createIngressClass({ body: { metadata: { name: className }, spec: { controller: `lbc.dev/${ns}` } } });
  await clients.networking.createNamespacedIngress({
    namespace: ns,
    body: {
      metadata: { name: 'site', annotations: { 'lbc.dev/group.name': ns } },
      spec: {
        ingressClassName: className,
        tls: [{ hosts: ['a.example.com'], secretName: 'site-tls' }],
        rules: [{ host: 'a.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } }] } }],
      },
    },
  });

  // The controller's informers, listed and synced; it reconciles nothing.
  controller = new Controller({ clients: recordingLists(clients, controllerCalls), config, providers, nodeLabelSelector: nodeLabel, log: { info: () => {}, warn: () => {} }, gcIntervalMs: 0, resyncPeriodMs: 0 });
  await controller.sync();
  snapshot = await readCluster(recordingLists(clients, planCalls), providers, nodeLabel);
}, 60_000);

afterAll(async () => {
  await controller?.stop({ drainTimeoutMs: 1000 });
  if (core) {
    await core.deleteNamespace({ name: ns }).catch(() => {});
    for (const n of ['in', 'out']) await core.deleteNode({ name: `${ns}-${n}` }).catch(() => {});
    await clients.networking.deleteIngressClass({ name: className }).catch(() => {});
  }
  await providers?.close();
  await cluster?.stop();
});

/** This suite's objects (a real cluster may hold others, coming and going between the two reads), by key. */
const keys = (objects: readonly KubeObject[]): string[] =>
  objects
    .filter((o) => o.metadata?.namespace === ns || o.metadata?.name?.startsWith(ns))
    .map((o) => `${o.metadata?.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata?.name ?? ''}`)
    .sort();

/** Every index of a cache with what it finds of this suite's objects: index → value → keys. */
function indexes(cache: Pick<Cache<KubeObject>, 'indexNames' | 'indexValues' | 'indexKeys'>): Record<string, Record<string, string[]>> {
  const found = (name: string, value: string): string[] => cache.indexKeys(name, value).filter((k) => k.startsWith(`${ns}/`)).sort();
  return Object.fromEntries(
    cache
      .indexNames()
      .sort()
      .map((name) => [name, Object.fromEntries(cache.indexValues(name).sort().flatMap((v) => (found(name, v).length > 0 ? [[v, found(name, v)]] : [])))]),
  );
}

describe('lbc plan and the controller watch the same kinds', () => {
  it('plan lists exactly what the controller lists: the same kinds, with the same selectors', () => {
    expect([...planCalls].sort()).toEqual([...controllerCalls].sort());
    // What the selectors are there for, so that both sides having none cannot pass.
    expect([...controllerCalls]).toContain(`GET /api/v1/nodes labelSelector=${nodeLabel} fieldSelector=`);
    expect([...controllerCalls]).toContain('GET /api/v1/secrets labelSelector= fieldSelector=type=kubernetes.io/tls');
  });

  it("plan's caches hold what the controller's hold", () => {
    expect({
      services: keys(snapshot.services.list()),
      ingresses: keys(snapshot.ingresses.list()),
      ingressClasses: keys(snapshot.ingressClasses),
      endpointSlices: keys(snapshot.endpointSlices.list()),
      secrets: keys(snapshot.secrets.list()),
      nodes: keys(snapshot.nodes),
    }).toEqual({
      services: keys(controller.services.cache.list()),
      ingresses: keys(controller.ingresses.cache.list()),
      ingressClasses: keys(controller.ingressClasses.cache.list()),
      endpointSlices: keys(controller.endpointSlices.cache.list()),
      secrets: keys(controller.secrets.cache.list()),
      nodes: keys(controller.nodes.cache.list()),
    });
    expect(keys(snapshot.secrets.list())).toContain(`${ns}/site-tls`);
    expect(keys(snapshot.secrets.list())).not.toContain(`${ns}/opaque`);
    expect(keys(snapshot.nodes)).toEqual([`${ns}-in`]);
  });

  it("plan's caches are indexed as the controller's, and find the same objects", () => {
    const plan = { services: indexes(snapshot.services), ingresses: indexes(snapshot.ingresses), endpointSlices: indexes(snapshot.endpointSlices), secrets: indexes(snapshot.secrets) };
    expect(plan).toEqual({
      services: indexes(controller.services.cache),
      ingresses: indexes(controller.ingresses.cache),
      endpointSlices: indexes(controller.endpointSlices.cache),
      secrets: indexes(controller.secrets.cache),
    });
    expect(plan.ingresses).toMatchObject({ byBackendService: { [`${ns}/web`]: [`${ns}/site`] }, byTLSSecret: { [`${ns}/site-tls`]: [`${ns}/site`] } });
    // Plan keeps IngressClasses and Nodes as plain lists: the controller may look nothing up by index in them.
    expect([controller.ingressClasses.cache.indexNames(), controller.nodes.cache.indexNames()]).toEqual([[], []]);
  });
});
