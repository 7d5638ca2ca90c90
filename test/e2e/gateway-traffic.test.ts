// Gateways from the controller to the traffic: the Gateway API v1.4.0 CRDs (experimental
// channel) installed on the test cluster (devcluster, or the real control plane KUBECONFIG
// names), the controller with the local provider, and real requests through the address
// the controller wrote in the Gateway's status reaching the backend each route names:
// HTTPRoute rules by path and header, a TCPRoute, a route change followed by the data
// path, and a deleted Gateway no longer listening. Load balancers from 127.249.0.0/24,
// ports + 20000 so that no privilege is needed. On a real cluster the controller,
// backends and client run in a network namespace of the suite's own (data-plane.ts):
// kube-apiserver refuses the loopback addresses backends listen on here.
import { CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway, HTTPRoute } from '../../src/kube/gateway-api.js';
import { createLbcGatewayClass, installGatewayApiCrds, createGateway } from '../support/gateway-crds.js';
import { dataPlane, dataPlaneUnavailable, type DataPlane } from './data-plane.js';
import { E2E, eventually, hasOurFinalizer } from './harness.js';

const GROUP = 'gateway.networking.k8s.io';
const POOL = '127.249.0.0/24';
const OFFSET = 20_000;
const unavailable = dataPlaneUnavailable();
if (unavailable) console.log(`test/e2e/gateway-traffic.test.ts: skipped: ${unavailable}`);

type Condition = { type: string; status: string; reason?: string; observedGeneration?: number };
const cond = (list: Condition[] | undefined, type: string): Condition | undefined => list?.find((c) => c.type === type);
const jsonPatch = setHeaderOptions('Content-Type', PatchStrategy.JsonPatch);

describe.skipIf(Boolean(unavailable))('Gateway API served by the local provider, controller to traffic', () => {
  let e: E2E;
  let dp: DataPlane;
  let custom: CustomObjectsApi;
  let className: string;

  const api = (plural: string, version = 'v1') => ({ group: GROUP, version, namespace: e.ns, plural });
  const gateway = (name: string): Promise<Gateway> => custom.getNamespacedCustomObject({ ...api('gateways'), name }) as Promise<Gateway>;
  const httpRoute = (name: string): Promise<HTTPRoute> => custom.getNamespacedCustomObject({ ...api('httproutes'), name }) as Promise<HTTPRoute>;

  /** Which backend answered `path` on `host` through the Gateway's port 80, or the status code. */
  const nameAt = (address: string, host: string, path: string, headers: Record<string, string> = {}): Promise<string> => dp.httpName(address, 80 + OFFSET, host, path, headers);

  /** Backend number i behind a selectorless ClusterIP Service of its name. */
  const serviceWithBackend = async (name: string, i: number, port: number, kind: 'http' | 'tcp' = 'http'): Promise<void> => {
    const host = dp.backendHost(i);
    const at = kind === 'http' ? await dp.httpBackend(name, host) : await dp.tcpBackend(name, host);
    await e.service(name, { type: 'ClusterIP', ports: [{ name: 'p', port, targetPort: at, protocol: 'TCP' }] });
    await e.endpointSlice(name, [host], at, 'p');
  };

  /** The Gateway's address once it is Programmed. */
  const programmed = (name: string): Promise<string> =>
    eventually(
      `Gateway ${name} programmed`,
      async () => {
        const g = await gateway(name);
        return cond(g.status?.conditions, 'Programmed')?.status === 'True' ? g.status?.addresses?.[0]?.value : undefined;
      },
      20_000,
    );

  beforeAll(async () => {
    e = await E2E.start({
      noStart: true,
      allowLoopbackEndpoints: true,
      config: {
        providers: [{ name: 'local', type: 'local', options: { addressPool: POOL, addressMode: 'pool', portOffset: OFFSET, drainTimeoutMs: 500, healthChecks: false } }],
        defaultClass: 'lbc.dev/local',
      },
      controller: { retry: { baseMs: 50, maxMs: 500 } },
    });
    custom = e.clients.kc.makeApiClient(CustomObjectsApi);
    await installGatewayApiCrds(e.clients.kc);
    dp = await dataPlane(e);
    await dp.startController();
    className = `lbc-${e.ns}`;
    await createLbcGatewayClass(custom, className, 'local');
    await createGateway(custom, e.ns, 'gw', {
      gatewayClassName: className,
      listeners: [
        { name: 'http', port: 80, protocol: 'HTTP' },
        { name: 'db', port: 5432, protocol: 'TCP' },
      ],
    });
  }, 90_000);

  afterAll(async () => {
    await dp?.close();
    // With no controller left, lbc's finalizer would hold the Gateway, and so the namespace.
    await custom?.patchNamespacedCustomObject({ ...api('gateways'), name: 'gw', body: [{ op: 'remove', path: '/metadata/finalizers' }] }, jsonPatch).catch(() => {});
    await custom?.deleteClusterCustomObject({ group: GROUP, version: 'v1', plural: 'gatewayclasses', name: className }).catch(() => {});
    await e?.stop();
  });

  it('HTTPRoute rules by path and header reach the backends they name at the address in the Gateway status; a backend change reaches the data path', async () => {
    await serviceWithBackend('web', 0, 80);
    await serviceWithBackend('api', 1, 80);
    await serviceWithBackend('canary', 2, 80);
    await custom.createNamespacedCustomObject({
      ...api('httproutes'),
      body: {
        apiVersion: `${GROUP}/v1`,
        kind: 'HTTPRoute',
        metadata: { name: 'shop' },
        spec: {
          parentRefs: [{ name: 'gw', sectionName: 'http' }],
          hostnames: ['shop.test'],
          rules: [
            { matches: [{ path: { type: 'PathPrefix', value: '/api' } }], backendRefs: [{ name: 'api', port: 80 }] },
            { matches: [{ path: { type: 'PathPrefix', value: '/' }, headers: [{ name: 'x-canary', value: 'yes' }] }], backendRefs: [{ name: 'canary', port: 80 }] },
            { matches: [{ path: { type: 'PathPrefix', value: '/' } }], backendRefs: [{ name: 'web', port: 80 }] },
          ],
        },
      },
    });
    const address = await programmed('gw');
    expect(address).toMatch(/^127\.249\.0\./);
    // The Gateway was Programmed before the route came: wait for the route to be counted.
    const g = await eventually('the route attached', async () => {
      const x = await gateway('gw');
      return x.status?.listeners?.find((l) => l.name === 'http')?.attachedRoutes === 1 ? x : undefined;
    });
    expect(hasOurFinalizer(g)).toBe(true);
    const accepted = await eventually('the route Accepted', async () => {
      const r = await httpRoute('shop');
      const parent = r.status?.parents?.find((p) => p.controllerName === 'lbc.dev/gateway-controller');
      return cond(parent?.conditions, 'Accepted')?.status === 'True' ? parent : undefined;
    });
    expect(cond(accepted.conditions, 'ResolvedRefs')).toMatchObject({ status: 'True', observedGeneration: 1 });

    await eventually('the route served', async () => (await nameAt(address, 'shop.test', '/api/items')) === 'api', 10_000);
    expect(await nameAt(address, 'shop.test', '/')).toBe('web');
    expect(await nameAt(address, 'shop.test', '/cart', { 'x-canary': 'yes' })).toBe('canary');
    // The path rule precedes the header rule (the longer prefix wins), header or not.
    expect(await nameAt(address, 'shop.test', '/api/items', { 'x-canary': 'yes' })).toBe('api');
    // No route for this host on the listener.
    expect(await nameAt(address, 'other.test', '/')).toBe('404');

    // The /api rule moves to the canary: the controller rebuilds, the data path follows.
    await custom.patchNamespacedCustomObject({ ...api('httproutes'), name: 'shop', body: [{ op: 'replace', path: '/spec/rules/0/backendRefs/0/name', value: 'canary' }] }, jsonPatch);
    await eventually('the change served', async () => (await nameAt(address, 'shop.test', '/api/items')) === 'canary', 10_000);
    expect(await nameAt(address, 'shop.test', '/')).toBe('web');
    await eventually('the route Accepted for generation 2', async () => {
      const r = await httpRoute('shop');
      return cond(r.status?.parents?.[0]?.conditions, 'Accepted')?.observedGeneration === 2 || undefined;
    });
  });

  it('a TCPRoute on the TCP listener reaches its backend at the same address', async () => {
    await serviceWithBackend('db', 3, 5432, 'tcp');
    await custom.createNamespacedCustomObject({
      ...api('tcproutes', 'v1alpha2'),
      body: { apiVersion: `${GROUP}/v1alpha2`, kind: 'TCPRoute', metadata: { name: 'db' }, spec: { parentRefs: [{ name: 'gw', sectionName: 'db' }], rules: [{ backendRefs: [{ name: 'db', port: 5432 }] }] } },
    });
    const address = await programmed('gw');
    await eventually('the TCPRoute Accepted', async () => {
      const r = (await custom.getNamespacedCustomObject({ ...api('tcproutes', 'v1alpha2'), name: 'db' })) as { status?: { parents?: { conditions: Condition[] }[] } };
      return cond(r.status?.parents?.[0]?.conditions, 'Accepted')?.status === 'True' || undefined;
    });
    expect(await eventually('the TCP backend', async () => (await dp.tcpName(address, 5432 + OFFSET).catch(() => undefined)) === 'db' || undefined, 10_000)).toBe(true);
    await eventually('the TCPRoute attached', async () => (await gateway('gw')).status?.listeners?.find((l) => l.name === 'db')?.attachedRoutes === 1 || undefined);
  });

  it('deleting the Gateway stops its listeners and releases it', async () => {
    const address = await programmed('gw');
    await custom.deleteNamespacedCustomObject({ ...api('gateways'), name: 'gw' });
    await eventually('Gateway gone', async () => (await gateway('gw').then(() => false, (err: { code?: number }) => err.code === 404)) || undefined, 20_000);
    const refused = (port: number): Promise<string> => dp.connect(address, port + OFFSET);
    await eventually('port 80 closed', async () => (await refused(80)) === 'ECONNREFUSED' || undefined, 10_000);
    expect(await refused(5432)).toBe('ECONNREFUSED');
  });
});
