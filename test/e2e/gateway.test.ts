// Gateways end to end: the Gateway API v1.4.0 CRDs (experimental channel) installed on the
// test cluster (devcluster, or the real control plane KUBECONFIG names), the controller
// in-process with the memory provider serving the Gateway layer. A GatewayClass of lbc's
// is Accepted with its supportedFeatures; a Gateway with an HTTPRoute gets a load balancer,
// the finalizer, Programmed and its address, and the route its parent status; a resync
// writes nothing; deleting the Gateway deletes the load balancer and takes lbc's entry off
// the route.
import { CustomObjectsApi } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteGateways, createLbcGatewayClass, installGatewayApiCrds, createGateway } from '../support/gateway-crds.js';
import type { GatewaySpec } from '../../src/model/spec.js';
import type { Gateway, GatewayClass, HTTPRoute } from '../../src/kube/gateway-api.js';
import { E2E, eventually, hasOurFinalizer } from './harness.js';

const GROUP = 'gateway.networking.k8s.io';

let e: E2E;
let custom: CustomObjectsApi;
let className: string;

const gw = (name: string): Promise<Gateway> => custom.getNamespacedCustomObject({ group: GROUP, version: 'v1', namespace: e.ns, plural: 'gateways', name }) as Promise<Gateway>;
const route = (name: string): Promise<HTTPRoute> => custom.getNamespacedCustomObject({ group: GROUP, version: 'v1', namespace: e.ns, plural: 'httproutes', name }) as Promise<HTTPRoute>;
const cond = (list: { type: string; status: string; reason: string }[] | undefined, type: string) => list?.find((c) => c.type === type);

beforeAll(async () => {
  e = await E2E.start({
    noStart: true,
    config: { providers: [{ name: 'mem', type: 'memory', options: { addressPool: '198.51.100.0/24', layers: ['L4', 'L7', 'Gateway'] } }] },
  });
  custom = e.clients.kc.makeApiClient(CustomObjectsApi);
  await installGatewayApiCrds(e.clients.kc);
  await e.controller.start();
  className = `lbc-${e.ns}`;
  await createLbcGatewayClass(custom, className, 'mem');
  await e.service('web', { type: 'ClusterIP', ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }] });
  await e.endpointSlice('web', ['10.40.0.1'], 8080);
}, 60_000);

afterAll(async () => {
  if (custom) await deleteGateways(custom, e.ns).catch(() => {});
  await custom?.deleteClusterCustomObject({ group: GROUP, version: 'v1', plural: 'gatewayclasses', name: className }).catch(() => {});
  await e?.stop();
});

describe('Gateway API', () => {
  it('the GatewayClass is Accepted and lists the provider features (GatewayClassObservedGenerationBump: observedGeneration follows)', async () => {
    const gc = await eventually('GatewayClass accepted', async () => {
      const c = (await custom.getClusterCustomObject({ group: GROUP, version: 'v1', plural: 'gatewayclasses', name: className })) as GatewayClass;
      return cond(c.status?.conditions, 'Accepted')?.status === 'True' ? c : undefined;
    });
    expect(cond(gc.status?.conditions, 'Accepted')).toMatchObject({ reason: 'Accepted', observedGeneration: gc.metadata?.generation });
    expect(gc.status?.supportedFeatures?.map((f) => f.name)).toEqual(expect.arrayContaining(['Gateway', 'HTTPRoute', 'ReferenceGrant', 'GRPCRoute']));
  });

  it('a Gateway with an HTTPRoute gets a load balancer, Programmed and its address; the route is Accepted (HTTPRouteSimpleSameNamespace)', async () => {
    await createGateway(custom, e.ns, 'gw', { gatewayClassName: className, listeners: [{ name: 'http', port: 80, protocol: 'HTTP' }] });
    await custom.createNamespacedCustomObject({
      group: GROUP,
      version: 'v1',
      namespace: e.ns,
      plural: 'httproutes',
      body: {
        apiVersion: `${GROUP}/v1`,
        kind: 'HTTPRoute',
        metadata: { name: 'web' },
        spec: { parentRefs: [{ name: 'gw' }], hostnames: ['web.example.com'], rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/app' } }], backendRefs: [{ name: 'web', port: 80 }] }] },
      },
    });
    const g = await eventually('Gateway programmed', async () => {
      const x = await gw('gw');
      return cond(x.status?.conditions, 'Programmed')?.status === 'True' && x.status?.listeners?.[0]?.attachedRoutes === 1 ? x : undefined;
    }, 20_000);
    expect(hasOurFinalizer(g)).toBe(true);
    expect(g.status?.addresses?.[0]?.type).toBe('IPAddress');
    expect(g.status?.addresses?.[0]?.value).toMatch(/^198\.51\.100\./);
    expect(cond(g.status?.conditions, 'Accepted')).toMatchObject({ status: 'True', reason: 'Accepted' });
    expect(g.status?.listeners?.[0]?.conditions.map((c) => `${c.type}=${c.status}`)).toEqual(['Accepted=True', 'ResolvedRefs=True', 'Conflicted=False', 'Programmed=True']);

    const r = await eventually('route status', async () => {
      const x = await route('web');
      return x.status?.parents?.length ? x : undefined;
    });
    expect(r.status?.parents).toEqual([
      expect.objectContaining({ parentRef: { group: GROUP, kind: 'Gateway', name: 'gw' }, controllerName: 'lbc.dev/gateway-controller' }),
    ]);
    expect(r.status?.parents?.[0]?.conditions.map((c) => [c.type, c.status, c.reason, c.observedGeneration])).toEqual([
      ['Accepted', 'True', 'Accepted', 1],
      ['ResolvedRefs', 'True', 'ResolvedRefs', 1],
    ]);

    const lb = e.provider('mem').loadBalancers().find((l) => l.ref.kind === 'Gateway' && l.ref.name === 'gw');
    const spec = lb?.spec as GatewaySpec | undefined;
    expect(spec?.ports).toMatchObject([
      { protocol: 'HTTP', port: 80, listeners: [{ name: 'http', rules: [{ hostnames: ['web.example.com'], matches: [{ path: { type: 'PathPrefix', value: '/app' } }], backends: [{ targetSet: `${e.ns}/web:80`, weight: 1 }] }] }] },
    ]);
    expect(spec?.targetSets).toMatchObject([{ name: `${e.ns}/web:80`, type: 'ip', targets: [{ ip: '10.40.0.1', port: 8080 }] }]);
  });

  it('a resync writes nothing: the Gateway and the route keep their resourceVersion', async () => {
    const before = [(await gw('gw')).metadata?.resourceVersion, (await route('web')).metadata?.resourceVersion];
    e.controller.enqueueAll();
    await e.controller.idle();
    expect([(await gw('gw')).metadata?.resourceVersion, (await route('web')).metadata?.resourceVersion]).toEqual(before);
  });

  it('deleting the Gateway deletes the load balancer, releases the Gateway and takes lbc off the route', async () => {
    await custom.deleteNamespacedCustomObject({ group: GROUP, version: 'v1', namespace: e.ns, plural: 'gateways', name: 'gw' });
    await eventually('Gateway gone', async () => (await gw('gw').then(() => false, (err: { code?: number }) => err.code === 404)) || undefined, 20_000);
    expect(e.provider('mem').loadBalancers().some((l) => l.ref.kind === 'Gateway')).toBe(false);
    await eventually('route status cleared', async () => ((await route('web')).status?.parents ?? []).length === 0 || undefined);
  });

  it('a Gateway whose infrastructure.parametersRef names a kind the provider does not read is Accepted=False InvalidParameters, with no load balancer (GatewayInfrastructure.ParametersRef)', async () => {
    await createGateway(custom, e.ns, 'params', {
      gatewayClassName: className,
      infrastructure: { parametersRef: { group: 'example.com', kind: 'Params', name: 'p' } },
      listeners: [{ name: 'http', port: 80, protocol: 'HTTP' }],
    });
    const g = await eventually('Gateway refused', async () => {
      const x = await gw('params');
      return cond(x.status?.conditions, 'Accepted')?.status === 'False' ? x : undefined;
    }, 20_000);
    expect(cond(g.status?.conditions, 'Accepted')).toMatchObject({ reason: 'InvalidParameters' });
    expect((g.status?.conditions ?? []).find((c) => c.type === 'Accepted')?.message).toContain('kind Params.example.com is not one provider mem reads (supported: none)');
    expect(e.provider('mem').loadBalancers().some((l) => l.ref.kind === 'Gateway' && l.ref.name === 'params')).toBe(false);
  });
});
