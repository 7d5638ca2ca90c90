// Where the Kubernetes-facing suites run: against a real cluster when KUBECONFIG is
// set (each suite in its own namespace, removed afterwards), otherwise against an
// in-process devcluster started for the suite. Assertions must hold on both.
import { KubeConfig } from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import type { DevCluster } from '../../src/devcluster/index.js';

export interface TestCluster {
  readonly kind: 'devcluster' | 'real';
  readonly kc: KubeConfig;
  /** Path of a kubeconfig file for kubectl and child processes. */
  readonly kubeconfigPath: string;
  /** The in-process server, only when kind === 'devcluster'. */
  readonly dev?: DevCluster;
  stop(): Promise<void>;
}

export interface TestClusterOptions {
  watchWindow?: number;
  /** devcluster's exception for suites whose backends listen on loopback (a real cluster refuses those). */
  allowLoopbackEndpoints?: boolean;
}

export async function startTestCluster(opts: TestClusterOptions = {}): Promise<TestCluster> {
  const path = process.env.KUBECONFIG;
  if (path) {
    const kc = new KubeConfig();
    kc.loadFromFile(path);
    return { kind: 'real', kc, kubeconfigPath: path, stop: async () => {} };
  }
  // Loaded only here, so a run against a real cluster does not depend on devcluster at all.
  const { startDevCluster } = await import('../../src/devcluster/index.js');
  const dev = await startDevCluster({ port: 0, watchWindow: opts.watchWindow, allowLoopbackEndpoints: opts.allowLoopbackEndpoints ?? false });
  return { kind: 'devcluster', kc: dev.kubeConfig(), kubeconfigPath: dev.kubeconfigPath, dev, stop: () => dev.stop() };
}

/** A namespace name unique to one suite run (DNS-1123 label). */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(3).toString('hex')}`;
}
