// `npm run bench devcluster` died after printing its figures on an uncaught node-fetch
// AbortError (#21): deleting 1000 HTTPRoutes in one request outlasted the deadline every
// client-node request gets (reuseConnections, 60 s) on a loaded machine. Here the deadline
// is short enough that the plain request is cut off, and deleteRoutes still finishes.
import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpRoute, deleteRoutes, HTTPROUTES, installGatewayApi } from '../../bench/httproutes.js';
import { uncompressed } from '../../bench/resumable-watch.js';
import { startDevCluster, type DevCluster } from '../../src/devcluster/index.js';
import { reuseConnections } from '../../src/kube/client.js';

let dev: DevCluster;
let custom: CustomObjectsApi;
let quick: CustomObjectsApi;
const namespace = 'bench-routes';
const ROUTES = 150;

beforeAll(async () => {
  dev = await startDevCluster({ port: 0 });
  const kc = reuseConnections(dev.kubeConfig());
  await installGatewayApi(kc);
  await kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: namespace } } });
  custom = kc.makeApiClient(CustomObjectsApi);
  // The same cluster through a client whose every request has a 1 ms deadline.
  quick = reuseConnections(dev.kubeConfig(), { requestTimeoutMs: 1 }).makeApiClient(CustomObjectsApi);
  for (let i = 0; i < ROUTES; i++) await createHttpRoute(custom, namespace, `route-${i}`, `svc-${i}`);
}, 120_000);

afterAll(async () => {
  await dev?.stop();
});

const remaining = async (): Promise<number> => ((await custom.listNamespacedCustomObject({ ...HTTPROUTES, namespace }, uncompressed)) as { items: unknown[] }).items.length;

describe('bench devcluster: deleting the HTTPRoutes', () => {
  it('outlasts the per-request deadline that cuts the plain deleteCollection off', async () => {
    await expect(quick.deleteCollectionNamespacedCustomObject({ ...HTTPROUTES, namespace, labelSelector: 'none=none' }, uncompressed)).rejects.toThrow(/aborted/);
    await deleteRoutes(quick, namespace);
    expect(await remaining()).toBe(0);
  }, 60_000);
});
