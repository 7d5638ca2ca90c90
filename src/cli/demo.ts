// `lbc demo`: the README's first command. Starts devcluster with three Nodes, backend
// "pods" (HTTP servers on loopback addresses, registered as Pods, one web replica not
// ready), applies the manifests in examples/ through the API, runs the controller
// in-process with the `local` provider (lbc itself proxies the traffic), waits for the
// addresses, shows real requests going through them, and prints kubectl and curl
// commands that work against them.
import { resolve } from 'node:path';
import type { V1Ingress, V1Service } from '@kubernetes/client-node';
import { validateConfig, type LbcConfig } from '../config/config.js';
import { Controller } from '../controller/controller.js';
import type { Logger } from '../controller/reconcile.js';
import { leanWriteClients } from '../controller/write-client.js';
import { startDevCluster, type DevCluster } from '../devcluster/index.js';
import { makeClients, type KubeClients } from '../kube/client.js';
import type { LbRef } from '../model/ref.js';
import type { LocalProvider } from '../providers/local/provider.js';
import { buildProviders, type ProviderSet } from '../providers/registry.js';
import { httpGet, type GetResult } from './demo/http.js';
import { applyManifests, EXAMPLES_DIR, loadManifests } from './demo/manifests.js';
import { startPods, type PodSpec, type Pods } from './demo/pods.js';
import { reuseConnections } from './keep-alive.js';
import { untilStopped } from './lifetime.js';

const NODES = ['node-a', 'node-b', 'node-c'];
const NAMESPACE = 'default';
const POD_PORTS = [8080, 8443];

export const DEMO_PODS: readonly PodSpec[] = [
  { name: 'web-1', node: 'node-a', labels: { app: 'web' }, ready: true },
  { name: 'web-2', node: 'node-b', labels: { app: 'web' }, ready: true },
  { name: 'web-3', node: 'node-c', labels: { app: 'web' }, ready: false },
  { name: 'sticky-1', node: 'node-a', labels: { app: 'sticky' }, ready: true },
  { name: 'sticky-2', node: 'node-b', labels: { app: 'sticky' }, ready: true },
  { name: 'api-1', node: 'node-c', labels: { app: 'api' }, ready: true },
  { name: 'fallback-1', node: 'node-a', labels: { app: 'fallback' }, ready: true },
];

export interface DemoOptions {
  /** devcluster port; 0 picks a free one. */
  readonly port?: number;
  /** Where to write the kubeconfig; a temp file when omitted. */
  readonly kubeconfig?: string;
  /** The local provider's address pool. Default 127.240.0.0/16. */
  readonly addressPool?: string;
  /** First three octets of the pods' addresses (pod i gets `${podSubnet}.${i + 1}`). Default 127.200.0. */
  readonly podSubnet?: string;
  /** Added to the LB ports when binding; default 0 as root, else 8000 (80 → 8080). */
  readonly portOffset?: number;
  /** Directory of the manifests to apply. Default examples/. */
  readonly examplesDir?: string;
  /** How long to wait for the addresses. Default 30 s. */
  readonly timeoutMs?: number;
  /** Progress lines; default none. */
  readonly log?: (line: string) => void;
  /** Show the controller's info lines too (its warnings are always shown). */
  readonly verbose?: boolean;
}

export interface DemoRequest {
  readonly url: string;
  readonly host?: string;
  readonly result: GetResult | { readonly error: string };
}

export interface DemoHandle {
  readonly dev: DevCluster;
  readonly clients: KubeClients;
  readonly kubeconfigPath: string;
  readonly pods: Pods;
  readonly controller: Controller;
  readonly providers: ProviderSet;
  /** `address:port` to connect to, by object and spec port: `web` → {80: '127.240.0.1:80', 443: …}. */
  readonly endpoints: { readonly web: Readonly<Record<number, string>>; readonly sticky: Readonly<Record<number, string>>; readonly ingress: Readonly<Record<number, string>> };
  /** The status addresses: Service web, Service sticky, Ingress shop. */
  readonly addresses: { readonly web: string; readonly sticky: string; readonly ingress: string };
  /** Ready-to-paste shell commands that work against this demo. */
  readonly commands: readonly string[];
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const isRoot = (): boolean => typeof process.getuid === 'function' && process.getuid() === 0;

/** `http://127.240.0.1` or `http://127.0.0.1:41234`: the port only when not the default. */
export function urlOf(endpoint: string, path = '/', scheme = 'http'): string {
  const defaultPort = scheme === 'https' ? ':443' : ':80';
  return `${scheme}://${endpoint.endsWith(defaultPort) ? endpoint.slice(0, -defaultPort.length) : endpoint}${path}`;
}

function demoConfig(addressPool: string, portOffset: number): LbcConfig {
  return validateConfig({
    clusterName: 'lbc-demo',
    providers: [{ name: 'local', type: 'local', options: { addressPool, portOffset, drainTimeoutMs: 2000 } }],
    defaultClass: 'lbc.dev/local',
    concurrency: 4,
    nodeReadyHysteresis: 0,
  });
}

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`lbc demo: timed out waiting for ${what}${last ? ` (${(last as Error).message})` : ''}`);
    await sleep(100);
  }
}

const refOf = (kind: LbRef['kind'], o: V1Service | V1Ingress): LbRef => ({
  kind,
  namespace: o.metadata?.namespace ?? NAMESPACE,
  name: o.metadata?.name ?? '',
  uid: o.metadata?.uid ?? '',
});

/** Starts everything and waits until the Services and the Ingress have addresses that answer. */
export async function startDemo(opts: DemoOptions = {}): Promise<DemoHandle> {
  const log = opts.log ?? (() => {});
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const addressPool = opts.addressPool ?? '127.240.0.0/16';
  const portOffset = opts.portOffset ?? (isRoot() ? 0 : 8000);
  const cleanups: (() => Promise<void>)[] = [];
  const cleanup = async () => {
    for (const c of cleanups.splice(0).reverse()) await c().catch((e: unknown) => console.warn(`lbc demo: while stopping: ${(e as Error).message}`));
  };
  try {
    // 1. The cluster and its Nodes.
    const dev = await startDevCluster({ port: opts.port ?? 0, ...(opts.kubeconfig ? { kubeconfigPath: resolve(opts.kubeconfig) } : {}) });
    cleanups.push(() => dev.stop());
    const nodes = dev.store.find('', 'nodes')!;
    NODES.forEach((name, i) => {
      dev.store.create(nodes, {
        metadata: { name, labels: { 'kubernetes.io/hostname': name, 'topology.kubernetes.io/zone': `zone-${'abc'[i]}` } },
        spec: { providerID: `lbc-demo://${name}` },
        status: {
          addresses: [{ type: 'InternalIP', address: `127.0.10.${i + 1}` }, { type: 'Hostname', address: name }],
          conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'demo node', lastHeartbeatTime: new Date().toISOString(), lastTransitionTime: new Date().toISOString() }],
          nodeInfo: { kubeletVersion: 'v1.30.0-lbc-demo' },
        },
      });
    });
    log(`devcluster is serving the Kubernetes API at ${dev.url} with ${NODES.length} Nodes`);

    // 2. The pods.
    const pods = await startPods(dev.store, { subnet: opts.podSubnet ?? '127.200.0', namespace: NAMESPACE, ports: POD_PORTS, pods: DEMO_PODS });
    cleanups.push(() => pods.close());
    log(`${pods.pods.length} pods answering on ${POD_PORTS.join(' and ')}: ${pods.pods.map((p) => `${p.name} ${p.ip}${p.ready ? '' : ' (NOT ready)'}`).join(', ')}`);

    // 3. The manifests, through the API.
    const kc = reuseConnections(dev.kubeConfig());
    const clients = makeClients(kc);
    const dir = opts.examplesDir ?? EXAMPLES_DIR;
    const applied = await applyManifests(clients, await loadManifests(dir), NAMESPACE);
    log(`applied ${dir}: ${applied.join(', ')}`);

    // 4. The controller, with the local provider as the default class.
    const config = demoConfig(addressPool, portOffset);
    const providers = await buildProviders(config);
    cleanups.push(() => providers.close());
    const writes = await leanWriteClients(kc);
    const controllerLog: Logger = {
      info: (m, ...a) => {
        if (opts.verbose) console.log(`lbc: ${m}`, ...a);
      },
      warn: (m, ...a) => console.warn(`lbc: ${m}`, ...a),
      debug: () => {},
    };
    const controller = new Controller({ clients, ...(writes ? { writes } : {}), config, providers, log: controllerLog, nodeDebounceMs: 50, nodeMaxDelayMs: 200 });
    cleanups.push(() => controller.stop({ drainTimeoutMs: 5000 }));
    await controller.start();
    log(`controller running with the local provider (addresses from ${addressPool}${portOffset ? `, ports + ${portOffset} since binding below 1024 needs root` : ''})`);

    // 5. Addresses in status, and listeners that answer.
    const local = providers.byName('local') as LocalProvider;
    const lbOf = async (kind: LbRef['kind'], name: string): Promise<{ ip: string; endpoints: Record<number, string> }> =>
      until(`the address of ${kind} ${name}`, timeoutMs, async () => {
        const o =
          kind === 'Service'
            ? await clients.core.readNamespacedService({ namespace: NAMESPACE, name })
            : await clients.networking.readNamespacedIngress({ namespace: NAMESPACE, name });
        const ip = o.status?.loadBalancer?.ingress?.[0]?.ip;
        const view = ip ? local.inspect(refOf(kind, o)) : undefined;
        if (!ip || !view) return undefined;
        return { ip, endpoints: Object.fromEntries(view.listeners.map((l) => [l.port, l.endpoint])) };
      });
    const [web, sticky, ingress] = [await lbOf('Service', 'web'), await lbOf('Service', 'sticky'), await lbOf('Ingress', 'shop')];
    const answers = (endpoint: string | undefined, path: string, host?: string) =>
      until(`${host ?? ''}${path} at ${endpoint ?? '?'} to answer`, timeoutMs, async () => {
        if (!endpoint) throw new Error('no listener');
        const r = await httpGet(endpoint, path, host ? { host } : {});
        return r.status === 200 && r.pod ? r : undefined;
      });
    await answers(web.endpoints[80], '/');
    await answers(sticky.endpoints[80], '/');
    await answers(ingress.endpoints[80], '/cart', 'shop.example.com');

    const webUrl = urlOf(web.endpoints[80] ?? '');
    const ingUrl = (path: string) => urlOf(ingress.endpoints[80] ?? '', path);
    const commands = [
      `export KUBECONFIG=${dev.kubeconfigPath}`,
      'kubectl get nodes,pods -o wide',
      'kubectl get svc,ingress',
      `curl ${webUrl}`,
      `curl ${urlOf(web.endpoints[443] ?? '', '/', 'http')}   # port 443 forwards TCP to the pods' 8443 (plain HTTP in this demo)`,
      `curl ${urlOf(sticky.endpoints[80] ?? '')}   # sessionAffinity: ClientIP, always the same pod`,
      `curl -H 'Host: shop.example.com' ${ingUrl('/cart')}`,
      `curl -H 'Host: shop.example.com' ${ingUrl('/api/orders')}`,
      `curl -H 'Host: api.example.com' ${ingUrl('/')}`,
      `curl ${ingUrl('/anything')}   # no rule matches: the defaultBackend`,
    ];
    let stopped: Promise<void> | undefined;
    return {
      dev,
      clients,
      kubeconfigPath: dev.kubeconfigPath,
      pods,
      controller,
      providers,
      endpoints: { web: web.endpoints, sticky: sticky.endpoints, ingress: ingress.endpoints },
      addresses: { web: web.ip, sticky: sticky.ip, ingress: ingress.ip },
      commands,
      stop: () => (stopped ??= cleanup()),
    };
  } catch (e) {
    await cleanup();
    throw e;
  }
}

/** A few requests through each load balancer, as the printed curl commands make them. */
export async function demoRequests(h: DemoHandle): Promise<DemoRequest[]> {
  const plan: { endpoint: string | undefined; path: string; host?: string }[] = [
    ...Array.from({ length: 4 }, () => ({ endpoint: h.endpoints.web[80], path: '/' })),
    ...Array.from({ length: 2 }, () => ({ endpoint: h.endpoints.web[443], path: '/' })),
    ...Array.from({ length: 3 }, () => ({ endpoint: h.endpoints.sticky[80], path: '/' })),
    { endpoint: h.endpoints.ingress[80], path: '/cart', host: 'shop.example.com' },
    { endpoint: h.endpoints.ingress[80], path: '/cart/checkout', host: 'shop.example.com' },
    { endpoint: h.endpoints.ingress[80], path: '/api/orders', host: 'shop.example.com' },
    { endpoint: h.endpoints.ingress[80], path: '/', host: 'api.example.com' },
    { endpoint: h.endpoints.ingress[80], path: '/anything' },
  ];
  const out: DemoRequest[] = [];
  for (const p of plan) {
    const url = urlOf(p.endpoint ?? '?', p.path);
    try {
      out.push({ url, ...(p.host ? { host: p.host } : {}), result: await httpGet(p.endpoint ?? '', p.path, p.host ? { host: p.host } : {}) });
    } catch (e) {
      out.push({ url, ...(p.host ? { host: p.host } : {}), result: { error: (e as Error).message } });
    }
  }
  return out;
}

const pad = (rows: string[][]): string[] => {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('   ').trimEnd());
};

/** What `kubectl get svc,ingress` shows, from the API. */
async function getTable(clients: KubeClients): Promise<string[]> {
  const svcs = (await clients.core.listNamespacedService({ namespace: NAMESPACE })).items;
  const ings = (await clients.networking.listNamespacedIngress({ namespace: NAMESPACE })).items;
  const svcRows = svcs.map((s) => [
    `service/${s.metadata?.name ?? ''}`,
    s.spec?.type ?? '',
    s.spec?.clusterIP ?? '',
    s.status?.loadBalancer?.ingress?.map((i) => i.ip ?? i.hostname).join(',') || (s.spec?.type === 'LoadBalancer' ? '<pending>' : '<none>'),
    (s.spec?.ports ?? []).map((p) => `${p.port}${p.nodePort ? `:${p.nodePort}` : ''}/${p.protocol ?? 'TCP'}`).join(','),
  ]);
  const ingRows = ings.map((i) => [
    `ingress/${i.metadata?.name ?? ''}`,
    i.spec?.ingressClassName ?? '<none>',
    (i.spec?.rules ?? []).map((r) => r.host ?? '*').join(','),
    i.status?.loadBalancer?.ingress?.map((x) => x.ip ?? x.hostname).join(',') ?? '',
    (i.spec?.tls?.length ? '80, 443' : '80'),
  ]);
  return [...pad([['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)'], ...svcRows]), '', ...pad([['NAME', 'CLASS', 'HOSTS', 'ADDRESS', 'PORTS'], ...ingRows])];
}

export async function runDemo(opts: { port: number; kubeconfig: string; for?: number }): Promise<void> {
  const say = (line = '') => console.log(line ? `lbc demo: ${line}` : '');
  const h = await startDemo({ port: opts.port, kubeconfig: opts.kubeconfig, log: say });
  try {
    console.log(`\n$ kubectl get svc,ingress\n${(await getTable(h.clients)).map((l) => `  ${l}`).join('\n')}\n`);
    console.log(`Requests made by the demo (each on a new connection, as curl makes them):`);
    for (const r of await demoRequests(h)) {
      const what = 'error' in r.result ? `failed: ${r.result.error}` : r.result.pod ? `${r.result.status} ${r.result.body.split(':')[0] ?? ''}` : `${r.result.status} ${r.result.body.trim()}`;
      console.log(`  GET ${r.url}${r.host ? ` (Host: ${r.host})` : ''} -> ${what}`);
    }
    const notReady = h.pods.pods.filter((p) => !p.ready);
    for (const p of notReady) console.log(`  ${p.name} is not ready: it answered ${h.pods.hits(p.name)} requests`);
    console.log(`\nState is in memory and gone when this process ends. In another terminal:\n\n${h.commands.map((c) => `  ${c}`).join('\n')}\n`);
    const why = await untilStopped(opts.for);
    say(`stopping (${why}): the controller finishes its work, listeners and pods close`);
  } finally {
    await h.stop();
  }
  say('stopped');
}
