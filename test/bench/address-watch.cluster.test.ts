// The bench's address watch against a real API server (devcluster, or the cluster KUBECONFIG
// names) that ends the watch by itself mid-run, cleanly, as kube-apiserver does at a watch's
// timeout: the cold starts of #21 that waited out 120 s on a finished run. Each end is
// followed by a reopen from the last resourceVersion, and every address is seen on the watch
// (none only by the LIST that confirms a quiet spell).
import { CoreV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AddressWatch } from '../../bench/address-watch.js';
import { serviceWatchSource } from '../../bench/resumable-watch.js';
import { reuseConnections } from '../../src/kube/client.js';
import { startTestCluster, uniqueName, type TestCluster } from '../support/cluster.js';

let cluster: TestCluster;
let core: CoreV1Api;
const namespace = uniqueName('bench-watch');

beforeAll(async () => {
  cluster = await startTestCluster();
  core = reuseConnections(cluster.kc).makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: namespace } } });
});

afterAll(async () => {
  await core?.deleteNamespace({ name: namespace }).catch(() => {});
  await cluster?.stop();
});

describe('bench address watch on a server that ends its watches (#21)', () => {
  it('sees every address though the server closed the watch between them', async () => {
    const names = ['w-0', 'w-1', 'w-2', 'w-3'];
    for (const name of names) {
      await core.createNamespacedService({ namespace, body: { metadata: { name }, spec: { type: 'LoadBalancer', ports: [{ port: 80, targetPort: 8080 }] } } });
    }
    const log: string[] = [];
    // No LIST before 60 s of quiet: only the reopened watches can see the addresses in time.
    const watch = await AddressWatch.start(serviceWatchSource(cluster.kc, core, namespace, { timeoutSeconds: 1 }), { confirmAfterMs: 60_000, reopenMs: 50, log: (l) => log.push(l) });
    const waiting = watch.waitFor(names.length, 30_000);
    for (const [i, name] of names.entries()) {
      // 1.3 s apart: each address arrives on a watch opened after the previous one was closed.
      await new Promise((r) => setTimeout(r, 1300));
      await core.patchNamespacedServiceStatus({ namespace, name, body: [{ op: 'add', path: '/status/loadBalancer/ingress', value: [{ ip: `192.0.2.${i + 1}` }] }] });
    }
    await waiting;
    expect([...watch.seen.keys()].sort()).toEqual(names);
    expect(watch.confirmedByList).toBe(0);
    expect(watch.reopened).toBeGreaterThanOrEqual(names.length - 1);
    expect(log).toEqual([]);
  }, 40_000);
});
