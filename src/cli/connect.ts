// How the long-running commands (run, speaker) pick their cluster from the command line:
// --kubeconfig, KUBECONFIG, or --in-cluster (which ignores KUBECONFIG so a stray variable
// in the pod cannot redirect it), with keep-alive connections.
import type { KubeConfig } from '@kubernetes/client-node';
import { loadKubeConfig, type KubeConfigOrigin } from '../kube/client.js';
import { reuseConnections } from '../kube/client.js';

export interface ClusterFlags {
  kubeconfig?: string;
  inCluster?: boolean;
  context?: string;
}

export function connectFromFlags(opts: ClusterFlags): { kc: KubeConfig; origin: KubeConfigOrigin } {
  const env = opts.inCluster
    ? { KUBERNETES_SERVICE_HOST: process.env.KUBERNETES_SERVICE_HOST, KUBERNETES_SERVICE_PORT: process.env.KUBERNETES_SERVICE_PORT }
    : process.env;
  const { kc, origin } = loadKubeConfig({
    ...(opts.kubeconfig ? { kubeconfig: opts.kubeconfig } : {}),
    ...(opts.context ? { context: opts.context } : {}),
    env,
  });
  reuseConnections(kc);
  return { kc, origin };
}
