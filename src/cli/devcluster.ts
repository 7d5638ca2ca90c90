// `lbc devcluster`: the in-process API server as a standalone process.
import { resolve } from 'node:path';
import { startDevCluster } from '../devcluster/index.js';
import { untilStopped } from './lifetime.js';

export interface DevclusterCliOptions {
  port: number;
  kubeconfig: string;
  for?: number;
  allowLoopbackEndpoints?: boolean;
}

export async function runDevcluster(opts: DevclusterCliOptions): Promise<void> {
  const dev = await startDevCluster({
    port: opts.port,
    kubeconfigPath: resolve(opts.kubeconfig),
    allowLoopbackEndpoints: opts.allowLoopbackEndpoints ?? false,
  });
  console.log(`devcluster: serving the Kubernetes API at ${dev.url} (state in memory, gone when this process ends)`);
  console.log(`devcluster: kubeconfig written to ${dev.kubeconfigPath}`);
  console.log(`\n  export KUBECONFIG=${dev.kubeconfigPath}\n  kubectl get namespaces\n`);
  const why = await untilStopped(opts.for);
  console.log(`devcluster: stopping (${why})`);
  await dev.stop();
}
