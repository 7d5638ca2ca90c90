// Gateways from the controller to the traffic: the Gateway API v1.4.0 CRDs (experimental
// channel) installed on the test cluster, the controller in-process with the local
// provider, and real requests through the address the controller wrote in the Gateway's
// status reaching the backend each route names: HTTPRoute rules by path and header,
// a TCPRoute, a route change followed by the data path, and a deleted Gateway no longer
// listening. Backends on 127.0.22.x, load balancers from 127.249.0.0/24, ports + 20000 so
// that no privilege is needed.
//
// Devcluster only: a real kube-apiserver refuses loopback addresses in EndpointSlices
// ("may not be in the loopback range"), and loopback is where the local provider's
// backends live on one machine (the status side runs on the real control plane in
// gateway.test.ts).
import { CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway, HTTPRoute } from '../../src/kube/gateway-api.js';
import { installGatewayApiCrds } from '../support/gateway-crds.js';
import { askName, httpBackend, httpGet, tcpBackend, type Backend } from '../providers/local/support.js';
import { E2E, eventually, hasOurFinalizer } from './harness.js';

const GROUP = 'gateway.networking.k8s.io';
const POOL = '127.249.0.0/24';
const OFFSET = 20_000;
const realCluster = Boolean(process.env.KUBECONFIG);
if (realCluster) console.log('test/e2e/gateway-traffic.test.ts: skipped against a real cluster: kube-apiserver refuses loopback endpoint addresses, which these backends use');

type Condition = { type: string; status: string; reason?: string; observedGeneration?: number };
const cond = (list: Condition[] | undefined, type: string): Condition | undefined => list?.find((c) => c.type === type);
const jsonPatch = setHeaderOptions('Content-Type', PatchStrategy.JsonPatch);

describe.skipIf(realCluster)('Gateway API served by the local provider, controller to traffic', () => {
  let e: E2E;
  let custom: CustomObjectsApi;
  let className: string;

  const api = (plural: string, version = 'v1') => ({ group: GROUP, version, namespace: e.ns, plural });
  const gateway = (name: string): Promise<Gateway> => custom.getNamespacedCustomObject({ ...api('gateways'), name }) as Promise<Gateway>;
  const httpRoute = (name: string): Promise<HTTPRoute> => custom.getNamespacedCustomObject({ ...api('httproutes'), name }) as Promise<HTTPRoute>;

  /** Which backend answered `path` on `host` through the Gateway's port 80, or the status code. */
  const nameAt = async (address: string, host: string, path: string, headers: Record<string, string> = {}): Promise<string> => {
    const r = await httpGet(address, 80 + OFFSET, path, { host, ...headers });
    return r.status === 200 ? (JSON.parse(r.body) as { name: string }).name : String(r.status);
  };

  /** A backend behind a selectorless ClusterIP Service of the same name (closed after the test by support.ts). */
  const serviceWithBackend = async (name: string, host: string, port: number, make: (n: string, h: string) => Promise<Backend> = httpBackend): Promise<Backend> => {
    const b = await make(name, host);
    await e.service(name, { type: 'ClusterIP', ports: [{ name: 'p', port, targetPort: b.port, protocol: 'TCP' }] });
    await e.endpointSlice(name, [b.host], b.port, 'p');
    return b;
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
    await e.controller.start();
    className = `lbc-${e.ns}`;
    await custom.createClusterCustomObject({
      group: GROUP,
      version: 'v1',
      plural: 'gatewayclasses',
      body: { apiVersion: `${GROUP}/v1`, kind: 'GatewayClass', metadata: { name: className }, spec: { controllerName: 'lbc.dev/gateway-controller', parametersRef: { group: 'lbc.dev', kind: 'Provider', name: 'local' } } },
    });
    await custom.createNamespacedCustomObject({
      ...api('gateways'),
      body: {
        apiVersion: `${GROUP}/v1`,
        kind: 'Gateway',
        metadata: { name: 'gw' },
        spec: {
          gatewayClassName: className,
          listeners: [
            { name: 'http', port: 80, protocol: 'HTTP' },
            { name: 'db', port: 5432, protocol: 'TCP' },
          ],
        },
      },
    });
  }, 60_000);

  afterAll(async () => {
    await custom?.deleteClusterCustomObject({ group: GROUP, version: 'v1', plural: 'gatewayclasses', name: className }).catch(() => {});
    await e?.stop();
  });

  it('HTTPRoute rules by path and header reach the backends they name at the address in the Gateway status; a backend change reaches the data path', async () => {
    await serviceWithBackend('web', '127.0.22.1', 80);
    await serviceWithBackend('api', '127.0.22.2', 80);
    await serviceWithBackend('canary', '127.0.22.3', 80);
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
    const g = await gateway('gw');
    expect(hasOurFinalizer(g)).toBe(true);
    expect(g.status?.listeners?.find((l) => l.name === 'http')?.attachedRoutes).toBe(1);
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
    await serviceWithBackend('db', '127.0.22.4', 5432, tcpBackend);
    await custom.createNamespacedCustomObject({
      ...api('tcproutes', 'v1alpha2'),
      body: { apiVersion: `${GROUP}/v1alpha2`, kind: 'TCPRoute', metadata: { name: 'db' }, spec: { parentRefs: [{ name: 'gw', sectionName: 'db' }], rules: [{ backendRefs: [{ name: 'db', port: 5432 }] }] } },
    });
    const address = await programmed('gw');
    await eventually('the TCPRoute Accepted', async () => {
      const r = (await custom.getNamespacedCustomObject({ ...api('tcproutes', 'v1alpha2'), name: 'db' })) as { status?: { parents?: { conditions: Condition[] }[] } };
      return cond(r.status?.parents?.[0]?.conditions, 'Accepted')?.status === 'True' || undefined;
    });
    expect(await eventually('the TCP backend', async () => (await askName(address, 5432 + OFFSET).catch(() => undefined)) === 'db' || undefined, 10_000)).toBe(true);
    expect((await gateway('gw')).status?.listeners?.find((l) => l.name === 'db')?.attachedRoutes).toBe(1);
  });

  it('deleting the Gateway stops its listeners and releases it', async () => {
    const address = await programmed('gw');
    await custom.deleteNamespacedCustomObject({ ...api('gateways'), name: 'gw' });
    await eventually('Gateway gone', async () => (await gateway('gw').then(() => false, (err: { code?: number }) => err.code === 404)) || undefined, 20_000);
    const refused = (port: number) =>
      new Promise<string>((resolve) => {
        const c = connect({ host: address, port });
        c.once('connect', () => {
          c.destroy();
          resolve('connected');
        });
        c.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
      });
    await eventually('port 80 closed', async () => (await refused(80 + OFFSET)) === 'ECONNREFUSED' || undefined, 10_000);
    expect(await refused(5432 + OFFSET)).toBe('ECONNREFUSED');
  });
});
