// What a Gateway with many routes costs the controller in API round trips and rebuilds
// (issue #18, "writes per route: status once"; `npm run bench gateway` measures it at 1000
// routes): the routes' status entries are written several at a time, not one round trip
// after another before the load balancer is ensured; each route's status is written once;
// and the echo of lbc's own route status write does not rebuild the Gateway. Against
// devcluster, or the real cluster KUBECONFIG names; the memory provider.
import { CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HTTPRoute } from '../../src/kube/gateway-api.js';
import type { WriteClients } from '../../src/kube/client.js';
import { deleteGateways, createLbcGatewayClass, installGatewayApiCrds, createGateway } from '../support/gateway-crds.js';
import { E2E, eventually } from './harness.js';

const GROUP = 'gateway.networking.k8s.io';
const ROUTES = 8;
/** Each route status write is held this long, so that writes made one after another cannot overlap. */
const HOLD_MS = 150;

let e: E2E;
let custom: CustomObjectsApi;
let className: string;
let inFlight = 0;
let maxInFlight = 0;
/** Route status writes by route name. */
const routeWrites = new Map<string, number>();
/** Reconciles of the Gateway's key. */
let gatewayReconciles = 0;

/** Holds and counts route status writes. */
function holdRouteWrites(w: WriteClients): WriteClients {
  const c = w.custom;
  if (!c) throw new Error('the write clients have no custom-objects client');
  return {
    ...w,
    custom: {
      ...c,
      patchNamespacedCustomObject: c.patchNamespacedCustomObject.bind(c),
      patchClusterCustomObjectStatus: c.patchClusterCustomObjectStatus.bind(c),
      patchNamespacedCustomObjectStatus: async (...args: Parameters<typeof c.patchNamespacedCustomObjectStatus>) => {
        const { plural, name } = args[0];
        if (plural !== 'httproutes') return c.patchNamespacedCustomObjectStatus(...args);
        routeWrites.set(name, (routeWrites.get(name) ?? 0) + 1);
        maxInFlight = Math.max(maxInFlight, ++inFlight);
        try {
          await new Promise((r) => setTimeout(r, HOLD_MS));
          return await c.patchNamespacedCustomObjectStatus(...args);
        } finally {
          inFlight--;
        }
      },
    },
  };
}

const route = (name: string): Promise<HTTPRoute> => custom.getNamespacedCustomObject({ group: GROUP, version: 'v1', namespace: e.ns, plural: 'httproutes', name }) as Promise<HTTPRoute>;
const acceptedGeneration = async (name: string): Promise<number | undefined> =>
  (await route(name)).status?.parents?.find((p) => p.controllerName === 'lbc.dev/gateway-controller')?.conditions.find((c) => c.type === 'Accepted' && c.status === 'True')?.observedGeneration;

beforeAll(async () => {
  e = await E2E.start({
    noStart: true,
    config: { providers: [{ name: 'mem', type: 'memory', options: { addressPool: '198.51.100.0/24', layers: ['L4', 'L7', 'Gateway'] } }] },
    wrapWrites: holdRouteWrites,
    controller: {
      observer: {
        finished: (key) => {
          if (key === `gateway/${e.ns}/gw`) gatewayReconciles++;
        },
      },
    },
  });
  custom = e.clients.kc.makeApiClient(CustomObjectsApi);
  await installGatewayApiCrds(e.clients.kc);
  className = `lbc-${e.ns}`;
  await createLbcGatewayClass(custom, className, 'mem');
  await e.service('web', { type: 'ClusterIP', ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }] });
  await e.endpointSlice('web', ['10.40.0.1'], 8080);
}, 60_000);

afterAll(async () => {
  await custom?.patchNamespacedCustomObject(
    { group: GROUP, version: 'v1', namespace: e.ns, plural: 'gateways', name: 'gw', body: [{ op: 'remove', path: '/metadata/finalizers' }] },
    setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
  ).catch(() => {});
  if (custom) await deleteGateways(custom, e.ns).catch(() => {});
  await custom?.deleteClusterCustomObject({ group: GROUP, version: 'v1', plural: 'gatewayclasses', name: className }).catch(() => {});
  await e?.stop();
});

describe('a Gateway with many routes', () => {
  it('writes its routes\' status several at a time, each once', async () => {
    // Routes waiting when the controller starts: one reconcile finds them all.
    await createGateway(custom, e.ns, 'gw', { gatewayClassName: className, listeners: [{ name: 'http', port: 80, protocol: 'HTTP' }] });
    for (let i = 0; i < ROUTES; i++) {
      await custom.createNamespacedCustomObject({
        group: GROUP,
        version: 'v1',
        namespace: e.ns,
        plural: 'httproutes',
        body: {
          apiVersion: `${GROUP}/v1`,
          kind: 'HTTPRoute',
          metadata: { name: `r${i}` },
          spec: { parentRefs: [{ name: 'gw' }], hostnames: [`r${i}.example.com`], rules: [{ backendRefs: [{ name: 'web', port: 80 }] }] },
        },
      });
    }
    await e.controller.start();
    for (let i = 0; i < ROUTES; i++) await eventually(`r${i} Accepted`, async () => (await acceptedGeneration(`r${i}`)) === 1 || undefined, 20_000);
    await e.settle();
    expect(maxInFlight).toBeGreaterThan(1);
    expect([...routeWrites.values()]).toEqual(Array<number>(ROUTES).fill(1));
  });

  it('a route change rebuilds the Gateway once: the echo of the status write it makes is not news', async () => {
    // Let any echo of the first test's writes arrive before counting.
    await new Promise((r) => setTimeout(r, 500));
    await e.settle();
    gatewayReconciles = 0;
    routeWrites.clear();
    await custom.patchNamespacedCustomObject(
      { group: GROUP, version: 'v1', namespace: e.ns, plural: 'httproutes', name: 'r0', body: [{ op: 'replace', path: '/spec/hostnames', value: ['r0.example.net'] }] },
      setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
    );
    await eventually('r0 Accepted for generation 2', async () => (await acceptedGeneration('r0')) === 2 || undefined, 20_000);
    // Time for the status write's watch event to come back and, were it news, be reconciled.
    await new Promise((r) => setTimeout(r, 500));
    await e.settle();
    expect(Object.fromEntries(routeWrites)).toEqual({ r0: 1 });
    expect(gatewayReconciles).toBe(1);
  });
});
