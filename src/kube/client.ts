// Where lbc's API credentials come from, and the typed clients built from them.
import {
  CoordinationV1Api,
  CoreV1Api,
  DiscoveryV1Api,
  KubeConfig,
  NetworkingV1Api,
} from '@kubernetes/client-node';
import { existsSync, readFileSync } from 'node:fs';
import { isIPv6 } from 'node:net';
import { delimiter } from 'node:path';

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

/** The API groups lbc talks to, all from one KubeConfig. */
export interface KubeClients {
  readonly kc: KubeConfig;
  readonly core: CoreV1Api;
  readonly networking: NetworkingV1Api;
  readonly discovery: DiscoveryV1Api;
  readonly coordination: CoordinationV1Api;
}

export function makeClients(kc: KubeConfig): KubeClients {
  return {
    kc,
    core: kc.makeApiClient(CoreV1Api),
    networking: kc.makeApiClient(NetworkingV1Api),
    discovery: kc.makeApiClient(DiscoveryV1Api),
    coordination: kc.makeApiClient(CoordinationV1Api),
  };
}
