// devcluster: an in-process Kubernetes API server (HTTP on 127.0.0.1, bearer token),
// state in memory, for lbc's demo and tests. It serves the kinds lbc uses with the
// semantics lbc relies on; test/contract holds it to a real kube-apiserver.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { KubeConfig } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { builtinResources } from './resources.js';
import { Store } from './store.js';
import { ApiServer, type ServerOptions } from './server.js';
import { namespaceStrategy } from './namespaces.js';
import { serviceStrategy } from './services.js';
import { startEndpointsController } from './endpoints.js';
import { startGarbageCollector } from './gc.js';
import { selfSignedCert } from './tls.js';
import { secretStrategy } from './secrets.js';
import { coreEventStrategy, eventsV1Strategy } from './events.js';
import { ingressClassStrategy, ingressStrategy } from './ingresses.js';
import { crdStrategy, startCrdController } from './crds.js';
import { endpointAddressStrategy } from './endpoint-addresses.js';

export interface DevClusterOptions {
  /** TCP port on 127.0.0.1; 0 picks a free one. */
  port?: number;
  /** Where to write the kubeconfig; a temp file when omitted. */
  kubeconfigPath?: string;
  /** How many change events each resource keeps for watch resume; older RVs get 410. */
  watchWindow?: number;
  serviceCIDR?: string;
  nodePortRange?: string;
  /** Interval of BOOKMARK events on watches that allow them. */
  bookmarkIntervalMs?: number;
  /** Opt-in: every authenticated request, as RBAC would judge it (see ServerOptions.onRequest). */
  onRequest?: ServerOptions['onRequest'];
  /**
   * Accept loopback addresses (127.0.0.0/8, ::1) in Endpoints and EndpointSlices, which
   * kube-apiserver refuses ("may not be in the loopback range"), and let the endpoint
   * controllers publish Pods with loopback podIPs. Off by default; `lbc demo` turns it on
   * because its backend pods listen on 127.200.0.x.
   */
  allowLoopbackEndpoints?: boolean;
}

export interface DevCluster {
  readonly url: string;
  readonly token: string;
  readonly kubeconfigPath: string;
  readonly store: Store;
  kubeConfig(): KubeConfig;
  kubeconfigYaml(): string;
  /** Shrinks or grows the retained watch window at run time (tests force 410 with it). */
  setWatchWindow(n: number): void;
  stop(): Promise<void>;
}

const INITIAL_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

export async function startDevCluster(opts: DevClusterOptions = {}): Promise<DevCluster> {
  const resources = builtinResources();
  const byKind = (kind: string, group = '') => resources.find((r) => r.group === group && r.kind === kind)!;
  byKind('Namespace').strategy = namespaceStrategy();
  byKind('Secret').strategy = secretStrategy();
  byKind('Event').strategy = coreEventStrategy();
  byKind('Event', 'events.k8s.io').strategy = eventsV1Strategy();
  byKind('Ingress', 'networking.k8s.io').strategy = ingressStrategy();
  byKind('IngressClass', 'networking.k8s.io').strategy = ingressClassStrategy();
  byKind('CustomResourceDefinition', 'apiextensions.k8s.io').strategy = crdStrategy();
  const addressRules = { allowLoopback: opts.allowLoopbackEndpoints ?? false };
  byKind('Endpoints').strategy = endpointAddressStrategy('Endpoints', addressRules);
  byKind('EndpointSlice', 'discovery.k8s.io').strategy = endpointAddressStrategy('EndpointSlice', addressRules);
  byKind('Service').strategy = serviceStrategy({
    serviceCIDR: opts.serviceCIDR ?? '10.96.0.0/12',
    nodePortRange: opts.nodePortRange ?? '30000-32767',
  });
  const store = new Store(resources, { watchWindow: opts.watchWindow });
  for (const name of INITIAL_NAMESPACES) store.create(byKind('Namespace'), { metadata: { name } });

  const stopEndpoints = startEndpointsController(store, { addressRules });
  const stopGc = startGarbageCollector(store);
  const stopCrds = startCrdController(store);
  const token = randomBytes(24).toString('hex');
  const tls = selfSignedCert({ ips: ['127.0.0.1'], dns: ['localhost'] });
  const server = new ApiServer(store, { token, tls, bookmarkIntervalMs: opts.bookmarkIntervalMs, onRequest: opts.onRequest });
  const port = await server.listen(opts.port ?? 0);
  const url = `https://127.0.0.1:${port}`;

  const yaml = stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'devcluster', cluster: { server: url, 'certificate-authority-data': Buffer.from(tls.certPem).toString('base64') } }],
    users: [{ name: 'devcluster-admin', user: { token } }],
    contexts: [{ name: 'devcluster', context: { cluster: 'devcluster', user: 'devcluster-admin', namespace: 'default' } }],
    'current-context': 'devcluster',
  });
  let tempDir: string | undefined;
  let kubeconfigPath = opts.kubeconfigPath;
  if (!kubeconfigPath) {
    tempDir = mkdtempSync(join(tmpdir(), 'lbc-devcluster-'));
    kubeconfigPath = join(tempDir, 'kubeconfig');
  } else {
    mkdirSync(dirname(kubeconfigPath), { recursive: true });
  }
  writeFileSync(kubeconfigPath, yaml, { mode: 0o600 });

  return {
    url,
    token,
    kubeconfigPath,
    store,
    kubeConfig() {
      const kc = new KubeConfig();
      kc.loadFromString(yaml);
      return kc;
    },
    kubeconfigYaml: () => yaml,
    setWatchWindow: (n) => store.setWatchWindow(n),
    async stop() {
      stopEndpoints();
      stopGc();
      stopCrds();
      await server.close();
      if (tempDir) rmSync(tempDir, { recursive: true, force: true });
    },
  };
}
