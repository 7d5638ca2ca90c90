// devcluster's allowLoopbackEndpoints: the one exception to kube-apiserver's refusal of
// loopback endpoint addresses (test/contract/endpoint-addresses.test.ts holds the refusal
// to the real server). Link-local stays refused: only loopback is excepted.
import { ApiException, CoreV1Api, DiscoveryV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevCluster, type DevCluster } from '../../src/devcluster/index.js';

const NS = 'default';
let dev: DevCluster;
let core: CoreV1Api;
let discovery: DiscoveryV1Api;

beforeAll(async () => {
  dev = await startDevCluster({ port: 0, allowLoopbackEndpoints: true });
  core = dev.kubeConfig().makeApiClient(CoreV1Api);
  discovery = dev.kubeConfig().makeApiClient(DiscoveryV1Api);
});
afterAll(() => dev.stop());

async function statusOf(p: Promise<unknown>): Promise<{ code: number; body: { details: { causes: unknown[] } } }> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ApiException) return { code: e.code, body: JSON.parse(e.body as string) };
    throw e;
  }
  throw new Error('the request succeeded');
}

describe('devcluster with allowLoopbackEndpoints', () => {
  it('accepts loopback addresses in Endpoints and EndpointSlices, IPv4 and IPv6', async () => {
    const ep = await core.createNamespacedEndpoints({
      namespace: NS,
      body: { metadata: { name: 'lo' }, subsets: [{ addresses: [{ ip: '127.200.0.1' }], notReadyAddresses: [{ ip: '::1' }], ports: [{ port: 80 }] }] },
    });
    expect(ep.subsets?.[0]?.addresses?.[0]?.ip).toBe('127.200.0.1');
    const slice = await discovery.createNamespacedEndpointSlice({
      namespace: NS,
      body: { metadata: { name: 'lo' }, addressType: 'IPv4', endpoints: [{ addresses: ['127.200.0.1'] }], ports: [{ port: 80 }] },
    });
    expect(slice.endpoints[0]?.addresses).toEqual(['127.200.0.1']);
  });

  it('still refuses link-local addresses, with the real server causes', async () => {
    const res = await statusOf(
      discovery.createNamespacedEndpointSlice({
        namespace: NS,
        body: { metadata: { name: 'll' }, addressType: 'IPv4', endpoints: [{ addresses: ['169.254.1.1'] }], ports: [{ port: 80 }] },
      }),
    );
    expect(res.code).toBe(422);
    expect(res.body.details.causes).toEqual([
      { reason: 'FieldValueInvalid', field: 'endpoints[0].addresses[0]', message: 'Invalid value: "169.254.1.1": may not be in the link-local range (169.254.0.0/16, fe80::/10)' },
    ]);
  });

  it('publishes a Pod with a loopback podIP in the Service slice and Endpoints', async () => {
    await core.createNode({ body: { metadata: { name: 'n1' } } });
    await core.createNamespacedService({ namespace: NS, body: { metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ port: 80 }] } } });
    await core.createNamespacedPod({
      namespace: NS,
      body: { metadata: { name: 'web-1', labels: { app: 'web' } }, spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'x' }] } },
    });
    await core.replaceNamespacedPodStatus({
      namespace: NS,
      name: 'web-1',
      body: {
        ...(await core.readNamespacedPod({ namespace: NS, name: 'web-1' })),
        status: { phase: 'Running', podIP: '127.200.0.7', podIPs: [{ ip: '127.200.0.7' }], conditions: [{ type: 'Ready', status: 'True' }] },
      },
    });
    await expect
      .poll(async () => {
        const slices = await discovery.listNamespacedEndpointSlice({ namespace: NS, labelSelector: 'kubernetes.io/service-name=web' });
        return slices.items.flatMap((s) => s.endpoints.flatMap((e) => e.addresses));
      }, { timeout: 5000 })
      .toEqual(['127.200.0.7']);
    await expect
      .poll(async () => (await core.readNamespacedEndpoints({ namespace: NS, name: 'web' })).subsets?.[0]?.addresses?.map((a) => a.ip), { timeout: 5000 })
      .toEqual(['127.200.0.7']);
  });
});
