// `lbc demo`: the README's first command. Starts devcluster with three Nodes, backend
// "pods" (HTTP servers on loopback addresses, registered as Pods, one web replica not
// ready) and a server outside the cluster standing in for a database, makes a TLS
// Secret with a fresh certificate, applies the manifests in examples/ through the API,
// runs the controller in-process with the `local` provider (lbc itself proxies the
// traffic), waits for the addresses, and prints what kubectl shows and curl commands
// that work against them. The Gateway API part: the CRDs vendored in
// examples/gateway-api/ and the GatewayClass `lbc manifests --gateway-class` prints, then
// a Gateway with a 90/10 canary HTTPRoute and a TLS passthrough TLSRoute. `--check` makes the requests itself and says per expectation
// whether it held.
import { X509Certificate } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { arch, release, type as osType } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { KubernetesObject, V1Ingress, V1Service } from '@kubernetes/client-node';
import { validateConfig, type LbcConfig } from '../config/config.js';
import { Controller } from '../controller/controller.js';
import { textArgs } from '../controller/reconcile.js';
import { startDevCluster, type DevCluster } from '../devcluster/index.js';
import { printedTable } from '../devcluster/table.js';
import { selfSignedCert } from '../devcluster/tls.js';
import { buildManifests } from '../install/manifests.js';
import { makeClients, type KubeClients } from '../kube/client.js';
import { GATEWAY_GROUP, type Gateway } from '../kube/gateway-api.js';
import type { Logger } from '../kube/logger.js';
import type { LbKind, LbRef } from '../model/ref.js';
import type { AddressMode, LocalProvider } from '../providers/local/provider.js';
import { buildProviders, type ProviderSet } from '../providers/registry.js';
import { runChecks, type CheckResult } from './demo/check.js';
import { demoCommands, type DemoCommand } from './demo/commands.js';
import { installCrds } from './demo/crds.js';
import { DEMO_GATEWAY } from './demo/gateway.js';
import { httpGet, type GetResult } from './demo/http.js';
import { applyManifests, EXAMPLES_DIR, EXAMPLES_SUBNET, loadManifests, relocateEndpoints } from './demo/manifests.js';
import { startPods, type ExternalSpec, type PodSpec, type Pods } from './demo/pods.js';
import { leanWriteClients, reuseConnections } from '../kube/client.js';
import { KubeConfig } from '../kube/client-node.js';
import { untilStopped } from './lifetime.js';

const NODES = ['node-a', 'node-b', 'node-c'];
const NAMESPACE = 'default';
const POD_PORTS = [8080, 8443];

export { DEMO_GATEWAY };

export const DEMO_PODS: readonly PodSpec[] = [
  { name: 'web-1', node: 'node-a', labels: { app: 'web' }, ready: true },
  { name: 'web-2', node: 'node-b', labels: { app: 'web' }, ready: true },
  { name: 'web-3', node: 'node-c', labels: { app: 'web' }, ready: false },
  { name: 'sticky-1', node: 'node-a', labels: { app: 'sticky' }, ready: true },
  { name: 'sticky-2', node: 'node-b', labels: { app: 'sticky' }, ready: true },
  { name: 'api-1', node: 'node-c', labels: { app: 'api' }, ready: true },
  { name: 'fallback-1', node: 'node-a', labels: { app: 'fallback' }, ready: true },
  // examples/07-gateway.yaml's backends: the canary release's two versions, and a server that terminates TLS itself.
  { name: 'stable-1', node: 'node-b', labels: { app: 'stable' }, ready: true },
  { name: 'canary-1', node: 'node-c', labels: { app: 'canary' }, ready: true },
  { name: 'secure-1', node: 'node-a', labels: { app: 'secure' }, ready: true, tlsPort: 8443 },
];

/** The database examples/05-external-db.yaml's Endpoints name (.250 of the pod subnet). */
export const DEMO_EXTERNAL: readonly ExternalSpec[] = [{ name: 'external-db', host: 250, ports: [5432] }];

/** The Secret examples/04-ingress.yaml's TLS entry names, and the hosts its certificate is for. */
export const DEMO_TLS = { secretName: 'shop-tls', hosts: ['shop.example.com'] } as const;

/** The load balancers the examples ask for, by the name of their object. */
export const DEMO_LBS = {
  web: { kind: 'Service', name: 'web' },
  sticky: { kind: 'Service', name: 'sticky' },
  db: { kind: 'Service', name: 'db' },
  shop: { kind: 'Ingress', name: 'shop' },
  legacy: { kind: 'Ingress', name: 'legacy' },
  edge: { kind: 'Gateway', name: DEMO_GATEWAY.name },
} as const satisfies Record<string, { kind: LbKind; name: string }>;
export type DemoLb = keyof typeof DEMO_LBS;

export interface DemoOptions {
  /** devcluster port; 0 picks a free one. */
  readonly port?: number;
  /** Where to write the kubeconfig (the demo's certificate goes beside it); a temp file when omitted. */
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
  readonly headers?: Readonly<Record<string, string>>;
  readonly result: GetResult | { readonly error: string };
}

export interface DemoLbView {
  readonly kind: LbKind;
  readonly name: string;
  /** The address in status. */
  readonly ip: string;
  /** `address:port` to connect to, by spec port (80 → '127.240.0.1:80', or 127.0.0.1:41234 in ports mode). */
  readonly endpoints: Readonly<Record<number, string>>;
}

export interface DemoCertificate {
  readonly certPem: string;
  readonly certFile: string;
  readonly fingerprint256: string;
}

export interface DemoHandle {
  readonly dev: DevCluster;
  readonly clients: KubeClients;
  readonly kubeconfigPath: string;
  readonly pods: Pods;
  readonly controller: Controller;
  readonly providers: ProviderSet;
  /** `pool`: one loopback address per LB; `ports`: this host cannot bind the pool, every LB is on 127.0.0.1 with ports of its own. */
  readonly mode: AddressMode;
  readonly lbs: Readonly<Record<DemoLb, DemoLbView>>;
  /** The certificate in the TLS Secret (PEM), and the file it was written to for `curl --cacert`. */
  readonly tls: DemoCertificate;
  /** The certificate the TLS passthrough backend (secure-1) presents itself; lbc never holds it. */
  readonly backendTls: DemoCertificate;
  /** Ready-to-paste shell commands that work against this demo. */
  readonly commands: readonly DemoCommand[];
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
    providers: [{ name: 'local', type: 'local', options: { addressPool, portOffset, drainTimeoutMs: 2000, l4Forwarding: 'auto' } }],
    defaultClass: 'lbc.dev/local',
    // examples/06-legacy-ingress.yaml's `kubernetes.io/ingress.class: lbc`.
    ingress: { classAnnotationMap: { lbc: 'local' } },
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

const refOf = (kind: LbKind, o: V1Service | V1Ingress | Gateway): LbRef => ({
  kind,
  namespace: o.metadata?.namespace ?? NAMESPACE,
  name: o.metadata?.name ?? '',
  uid: o.metadata?.uid ?? '',
});

/** A Gateway as the API server has it (custom objects arrive as plain JSON). */
export async function readGateway(clients: KubeClients, name: string, namespace = NAMESPACE): Promise<Gateway> {
  return (await clients.custom.getNamespacedCustomObject({ group: GATEWAY_GROUP, version: 'v1', namespace, plural: 'gateways', name })) as Gateway;
}

/** Starts everything and waits until every load balancer has an address that answers. */
export async function startDemo(opts: DemoOptions = {}): Promise<DemoHandle> {
  const log = opts.log ?? (() => {});
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const addressPool = opts.addressPool ?? '127.240.0.0/16';
  const podSubnet = opts.podSubnet ?? EXAMPLES_SUBNET;
  const portOffset = opts.portOffset ?? (isRoot() ? 0 : 8000);
  // Loopback only: the pods must bind their addresses without any interface configuration.
  if (!/^127\.(\d{1,3})\.(\d{1,3})$/.test(podSubnet) || podSubnet.split('.').some((o) => Number(o) > 255)) {
    throw new Error(`lbc demo: pod subnet ${podSubnet} must be three octets inside 127.0.0.0/8, such as 127.200.0`);
  }
  const cleanups: (() => Promise<void>)[] = [];
  const cleanup = async () => {
    for (const c of cleanups.splice(0).reverse()) await c().catch((e: unknown) => console.warn(`lbc demo: while stopping: ${(e as Error).message}`));
  };
  try {
    // 1. The cluster and its Nodes.
    // The backend pods listen on loopback addresses, which kube-apiserver refuses as endpoints.
    const dev = await startDevCluster({ port: opts.port ?? 0, allowLoopbackEndpoints: true, ...(opts.kubeconfig ? { kubeconfigPath: resolve(opts.kubeconfig) } : {}) });
    cleanups.push(() => dev.stop());
    const nodes = dev.store.find('', 'nodes')!;
    NODES.forEach((name, i) => {
      dev.store.create(nodes, {
        metadata: { name, labels: { 'kubernetes.io/hostname': name, 'topology.kubernetes.io/zone': `zone-${'abc'[i]}` } },
        spec: { providerID: `lbc-demo://${name}` },
        status: {
          addresses: [{ type: 'InternalIP', address: `127.0.10.${i + 1}` }, { type: 'Hostname', address: name }],
          conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'demo node', lastHeartbeatTime: new Date().toISOString(), lastTransitionTime: new Date().toISOString() }],
          // The pods are servers in this process, not containers: the node says so where kubectl shows its runtime.
          nodeInfo: { kubeletVersion: 'v1.30.0-lbc-demo', osImage: `${osType()} (lbc demo)`, kernelVersion: release(), containerRuntimeVersion: 'lbc-demo://in-process', operatingSystem: 'linux', architecture: arch() === 'x64' ? 'amd64' : arch() },
        },
      });
    });
    log(`devcluster is serving the Kubernetes API at ${dev.url} with ${NODES.length} Nodes`);

    // 2. The pods, and the host outside the cluster. The passthrough backend's certificate is its own: no Secret, lbc never sees it.
    const certDir = dirname(dev.kubeconfigPath);
    const backendCert = selfSignedCert({ ips: [], dns: [DEMO_GATEWAY.tlsHost] }, DEMO_GATEWAY.tlsHost);
    const backendCertFile = join(certDir, `${DEMO_GATEWAY.tlsPod}.crt`);
    await writeFile(backendCertFile, backendCert.certPem);
    const pods = await startPods(dev.store, {
      subnet: podSubnet,
      namespace: NAMESPACE,
      ports: POD_PORTS,
      pods: DEMO_PODS,
      external: DEMO_EXTERNAL,
      certificates: { [DEMO_GATEWAY.tlsPod]: backendCert },
    });
    cleanups.push(() => pods.close());
    log(`${pods.pods.length} pods answering on ${POD_PORTS.join(' and ')}: ${pods.pods.map((p) => `${p.name} ${p.ip}${p.ready ? '' : ' (NOT ready)'}`).join(', ')}`);
    log(`${DEMO_GATEWAY.tlsPod} terminates TLS on 8443 itself, with its own certificate for ${DEMO_GATEWAY.tlsHost} (in ${backendCertFile})`);
    log(`outside the cluster: ${pods.external.map((x) => `${x.name} ${x.ip}:${x.ports.join(',')}`).join(', ')} (reached through hand-written Endpoints)`);

    // 3. The TLS Secret, with a certificate made now (the examples cannot ship a private key).
    // From lbc's own (bundled) client-node, not devcluster's: in the build they are two
    // copies, and the clients made from a KubeConfig must be of the copy that made it.
    const kc = new KubeConfig();
    kc.loadFromString(dev.kubeconfigYaml());
    reuseConnections(kc);
    const clients = makeClients(kc);
    const cert = selfSignedCert({ ips: [], dns: [...DEMO_TLS.hosts] }, DEMO_TLS.hosts[0]);
    const certFile = join(certDir, `${DEMO_TLS.secretName}.crt`);
    await writeFile(certFile, cert.certPem);
    await clients.core.createNamespacedSecret({
      namespace: NAMESPACE,
      body: {
        metadata: { name: DEMO_TLS.secretName },
        type: 'kubernetes.io/tls',
        data: { 'tls.crt': Buffer.from(cert.certPem).toString('base64'), 'tls.key': Buffer.from(cert.keyPem).toString('base64') },
      },
    });
    log(`Secret ${DEMO_TLS.secretName}: a self-signed certificate for ${DEMO_TLS.hosts.join(', ')} (also in ${certFile})`);

    // 4. The Gateway API CRDs and lbc's GatewayClass (before the controller starts: it looks for the kinds once), then the manifests, through the API.
    const started = Date.now();
    const crds = await installCrds(kc);
    log(`installed the Gateway API v1.4.0 CRDs (examples/gateway-api/, as upstream ships them) in ${((Date.now() - started) / 1000).toFixed(1)} s: ${crds.map((c) => c.split('.')[0]).join(', ')}`);
    const gatewayClass = buildManifests({ provider: 'local', gatewayClass: true }).filter((o) => o.kind === 'GatewayClass');
    await applyManifests(clients, gatewayClass.map((object) => ({ file: 'lbc manifests --provider local --gateway-class', object: object as KubernetesObject })), NAMESPACE);
    log(`GatewayClass ${DEMO_GATEWAY.className}, as \`lbc manifests --provider local --gateway-class\` prints it`);
    const dir = opts.examplesDir ?? EXAMPLES_DIR;
    const applied = await applyManifests(clients, relocateEndpoints(await loadManifests(dir), EXAMPLES_SUBNET, podSubnet), NAMESPACE);
    log(`applied ${dir}: ${applied.join(', ')}`);

    // 5. The controller, with the local provider as the default class.
    const config = demoConfig(addressPool, portOffset);
    const providers = await buildProviders(config);
    cleanups.push(() => providers.close());
    const local = providers.byName('local') as LocalProvider;
    const writes = await leanWriteClients(kc);
    const controllerLog: Logger = {
      info: (m, ...a) => {
        if (opts.verbose) console.log(`lbc: ${m}`, ...textArgs(a));
      },
      warn: (m, ...a) => console.warn(`lbc: ${m}`, ...textArgs(a)),
      debug: () => {},
    };
    const controller = new Controller({ clients, ...(writes ? { writes } : {}), config, providers, log: controllerLog, nodeDebounceMs: 50, nodeMaxDelayMs: 200 });
    cleanups.push(() => controller.stop({ drainTimeoutMs: 5000 }));
    await controller.start();
    log(
      local.mode === 'pool'
        ? `controller running with the local provider (addresses from ${addressPool}${portOffset ? `, ports + ${portOffset} since binding below 1024 needs root` : ''})`
        : `controller running with the local provider: this host cannot bind addresses of ${addressPool}, so every load balancer is on 127.0.0.1 with ports of its own (see PORT(S) below)`,
    );
    log(
      local.kernelForwarding
        ? 'TCP load balancers: the kernel forwards connections from this host (nftables rules lbc keeps in line with endpoints, health and affinity); HTTP(S) and UDP go through lbc'
        : 'TCP load balancers: proxied by lbc in user space (kernel forwarding needs nft and root or CAP_NET_ADMIN)',
    );

    // 6. Addresses in status, and listeners that answer.
    const lbOf = async (id: DemoLb): Promise<DemoLbView> => {
      const { kind, name } = DEMO_LBS[id];
      return until(`the address of ${kind} ${name}`, timeoutMs, async () => {
        const o =
          kind === 'Service'
            ? await clients.core.readNamespacedService({ namespace: NAMESPACE, name })
            : kind === 'Ingress'
              ? await clients.networking.readNamespacedIngress({ namespace: NAMESPACE, name })
              : await readGateway(clients, name);
        const ip = kind === 'Gateway' ? (o as Gateway).status?.addresses?.[0]?.value : (o as V1Service | V1Ingress).status?.loadBalancer?.ingress?.[0]?.ip;
        const view = ip ? local.inspect(refOf(kind, o)) : undefined;
        if (!ip || !view) return undefined;
        return { kind, name, ip, endpoints: Object.fromEntries(view.listeners.map((l) => [l.port, l.endpoint])) };
      });
    };
    const lbs: Record<DemoLb, DemoLbView> = {
      web: await lbOf('web'),
      sticky: await lbOf('sticky'),
      db: await lbOf('db'),
      shop: await lbOf('shop'),
      legacy: await lbOf('legacy'),
      edge: await lbOf('edge'),
    };
    const answers = (lb: DemoLbView, port: number, path: string, host?: string) =>
      until(`${host ?? ''}${path} at ${lb.kind} ${lb.name} port ${port} to answer`, timeoutMs, async () => {
        const endpoint = lb.endpoints[port];
        if (!endpoint) throw new Error(`no listener for port ${port}`);
        const r = await httpGet(endpoint, path, host ? { host } : {});
        return r.status === 200 && r.pod ? r : undefined;
      });
    await answers(lbs.web, 80, '/');
    await answers(lbs.sticky, 80, '/');
    await answers(lbs.db, 5432, '/');
    await answers(lbs.shop, 80, '/web', 'shop.example.com');
    await answers(lbs.legacy, 80, '/', 'legacy.example.com');
    await answers(lbs.edge, 80, '/', DEMO_GATEWAY.httpHost);
    log(`ready ${((Date.now() - started) / 1000).toFixed(1)} s after the CRDs were installed`);

    let stopped: Promise<void> | undefined;
    return {
      dev,
      clients,
      kubeconfigPath: dev.kubeconfigPath,
      pods,
      controller,
      providers,
      mode: local.mode,
      lbs,
      tls: { certPem: cert.certPem, certFile, fingerprint256: new X509Certificate(cert.certPem).fingerprint256 },
      backendTls: { certPem: backendCert.certPem, certFile: backendCertFile, fingerprint256: new X509Certificate(backendCert.certPem).fingerprint256 },
      commands: demoCommands({
        kubeconfigPath: dev.kubeconfigPath,
        namespace: NAMESPACE,
        nodes: NODES,
        pods: pods.pods,
        dbEndpoint: pods.external.map((x) => `${x.ip}:${x.ports[0]}`)[0] ?? '',
        lbs,
        certFile,
        backendCertFile,
      }),
      stop: () => (stopped ??= cleanup()),
    };
  } catch (e) {
    await cleanup();
    throw e;
  }
}

/** A few requests through each load balancer, as the printed curl commands make them. */
export async function demoRequests(h: DemoHandle): Promise<DemoRequest[]> {
  const { web, sticky, db, shop, legacy, edge } = h.lbs;
  const g = DEMO_GATEWAY;
  const plan: { endpoint: string | undefined; path: string; host?: string; headers?: Record<string, string> }[] = [
    ...Array.from({ length: 4 }, () => ({ endpoint: web.endpoints[80], path: '/' })),
    ...Array.from({ length: 2 }, () => ({ endpoint: web.endpoints[443], path: '/' })),
    ...Array.from({ length: 3 }, () => ({ endpoint: sticky.endpoints[80], path: '/' })),
    { endpoint: db.endpoints[5432], path: '/' },
    { endpoint: shop.endpoints[80], path: '/web', host: 'shop.example.com' },
    { endpoint: shop.endpoints[80], path: '/web/cart', host: 'shop.example.com' },
    { endpoint: shop.endpoints[80], path: '/api/orders', host: 'shop.example.com' },
    { endpoint: shop.endpoints[80], path: '/', host: 'api.example.com' },
    { endpoint: shop.endpoints[80], path: '/anything' },
    { endpoint: legacy.endpoints[80], path: '/', host: 'legacy.example.com' },
    // Ten through the 90/10 canary route: nine to stable, one to canary.
    ...Array.from({ length: 10 }, () => ({ endpoint: edge.endpoints[80], path: '/', host: g.httpHost })),
    { endpoint: edge.endpoints[80], path: '/', host: g.httpHost, headers: { [g.canaryHeader.name]: g.canaryHeader.value } },
  ];
  const out: DemoRequest[] = [];
  for (const p of plan) {
    const url = urlOf(p.endpoint ?? '?', p.path);
    const asked = { url, ...(p.host ? { host: p.host } : {}), ...(p.headers ? { headers: p.headers } : {}) };
    try {
      out.push({ ...asked, result: await httpGet(p.endpoint ?? '', p.path, { ...(p.host ? { host: p.host } : {}), ...(p.headers ? { headers: p.headers } : {}) }) });
    } catch (e) {
      out.push({ ...asked, result: { error: (e as Error).message } });
    }
  }
  return out;
}

/** kubectl's tabwriter: each column as wide as its widest cell, three spaces between, nothing after the last. */
const pad = (rows: string[][]): string[] => {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('   ').trimEnd());
};

/**
 * What `kubectl get svc,ingress` prints: devcluster's server-side Tables (the columns
 * kubectl shows), laid out as kubectl lays out several kinds: one table per kind, a
 * blank line between, each name prefixed with its kind (and group, outside core).
 */
export function getTable(dev: DevCluster, now = new Date()): string[] {
  const kinds = [dev.store.find('', 'services')!, dev.store.find('networking.k8s.io', 'ingresses')!];
  return kinds.flatMap((rt, i) => {
    const { header, rows } = printedTable(rt, dev.store.list(rt, NAMESPACE), now);
    const prefix = `${rt.kind.toLowerCase()}${rt.group ? `.${rt.group}` : ''}/`;
    return [...(i > 0 ? [''] : []), ...pad([header, ...rows.map(([name, ...rest]) => [`${prefix}${name ?? ''}`, ...rest])])];
  });
}

const describeResult = (r: DemoRequest['result']): string =>
  'error' in r ? `failed: ${r.error}` : r.pod ? `${r.status} ${r.body.split(' port ')[0] ?? ''}` : `${r.status} ${r.body.trim()}`;

/** Prints the table, and either the checks (returning whether all held) or the demo's requests and commands. */
export async function runDemo(opts: {
  port: number;
  kubeconfig: string;
  for?: number;
  check?: boolean;
  addressPool?: string;
  podSubnet?: string;
  examples?: string;
}): Promise<boolean> {
  const say = (line = '') => console.log(line ? `lbc demo: ${line}` : '');
  const h = await startDemo({
    port: opts.port,
    kubeconfig: opts.kubeconfig,
    log: say,
    ...(opts.addressPool ? { addressPool: opts.addressPool } : {}),
    ...(opts.podSubnet ? { podSubnet: opts.podSubnet } : {}),
    ...(opts.examples ? { examplesDir: resolve(opts.examples) } : {}),
  });
  try {
    console.log(`\n$ kubectl get svc,ingress\n${getTable(h.dev).map((l) => `  ${l}`).join('\n')}\n`);
    if (opts.check) {
      const results = await runChecks(h);
      console.log(formatChecks(results));
      const failed = results.filter((r) => !r.ok).length;
      say(failed === 0 ? `all ${results.length} checks passed` : `${failed} of ${results.length} checks FAILED`);
      return failed === 0;
    }
    console.log(`Requests made by the demo (each on a new connection, as curl makes them):`);
    for (const r of await demoRequests(h)) {
      const sent = [...(r.host ? [`Host: ${r.host}`] : []), ...Object.entries(r.headers ?? {}).map(([k, v]) => `${k}: ${v}`)];
      console.log(`  GET ${r.url}${sent.length ? ` (${sent.join(', ')})` : ''} -> ${describeResult(r.result)}`);
    }
    for (const p of h.pods.pods.filter((x) => !x.ready)) console.log(`  ${p.name} is not ready: it answered ${h.pods.hits(p.name)} requests`);
    const lines = h.commands.map((c) => `  ${c.line}${c.note ? `   # ${c.note}` : ''}`);
    console.log(`\nState is in memory and gone when this process ends. In another terminal:\n\n${lines.join('\n')}\n`);
    const why = await untilStopped(opts.for);
    say(`stopping (${why}): the controller finishes its work, listeners and pods close`);
    return true;
  } finally {
    await h.stop();
    say('stopped');
  }
}

export function formatChecks(results: readonly CheckResult[]): string {
  return results.map((r) => `${r.ok ? 'PASS' : 'FAIL'}  ${r.name}: ${r.detail}`).join('\n');
}
