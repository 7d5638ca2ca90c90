// `lbc demo`: the README's first command. Starts devcluster with a few Nodes so that a
// newcomer has a cluster to point kubectl at; the local provider and the controller
// join it as they land.
import { resolve } from 'node:path';
import { startDevCluster } from '../devcluster/index.js';
import { untilStopped } from './lifetime.js';

const NODES = ['node-a', 'node-b', 'node-c'];

export async function runDemo(opts: { port: number; kubeconfig: string; for?: number }): Promise<void> {
  const dev = await startDevCluster({ port: opts.port, kubeconfigPath: resolve(opts.kubeconfig) });
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
  console.log(`lbc demo: devcluster is serving the Kubernetes API at ${dev.url} with ${NODES.length} Nodes`);
  console.log(`lbc demo: state is in memory and gone when this process ends (Ctrl-C to stop)`);
  console.log(`\nIn another terminal:\n\n  export KUBECONFIG=${dev.kubeconfigPath}\n  kubectl get nodes\n  kubectl get svc -A\n`);
  const why = await untilStopped(opts.for);
  console.log(`lbc demo: stopping (${why})`);
  await dev.stop();
}
