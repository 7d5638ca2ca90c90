// The ConfigMap reader gce uses for GKE's cluster uid (kube-system/ingress-uid), against a
// real API server (or devcluster): the data as stored, and a missing one as undefined.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeClients, type KubeClients } from '../../src/kube/client.js';
import { configMapReader } from '../../src/kube/config-maps.js';
import { startTestCluster, uniqueName, type TestCluster } from '../support/cluster.js';

let cluster: TestCluster;
let clients: KubeClients;
let ns: string;

beforeAll(async () => {
  cluster = await startTestCluster();
  clients = makeClients(cluster.kc);
  ns = uniqueName('lbc-kube-cm');
  await clients.core.createNamespace({ body: { metadata: { name: ns } } });
});

afterAll(async () => {
  await clients?.core.deleteNamespace({ name: ns }).catch(() => {});
  await cluster?.stop();
});

describe('configMapReader', () => {
  it('reads a ConfigMap\'s data as ingress-gce writes ingress-uid, and answers undefined for one that does not exist', async () => {
    await clients.core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'ingress-uid' }, data: { uid: 'e1a2b3c4d5f60718', 'provider-uid': 'e1a2b3c4d5f60718' } } });
    const reader = configMapReader(clients.core);
    expect(await reader.configMap(ns, 'ingress-uid')).toEqual({ uid: 'e1a2b3c4d5f60718', 'provider-uid': 'e1a2b3c4d5f60718' });
    expect(await reader.configMap(ns, 'no-such-map')).toBeUndefined();
  });

  it('an API error other than 404 is thrown, not taken for a missing ConfigMap', async () => {
    const reader = configMapReader({ readNamespacedConfigMap: () => Promise.reject(Object.assign(new Error('Forbidden'), { code: 403 })) });
    await expect(reader.configMap(ns, 'ingress-uid')).rejects.toThrow('Forbidden');
  });
});
