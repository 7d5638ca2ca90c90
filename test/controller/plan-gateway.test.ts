// `lbc plan` for Gateways: the Gateway reconciler's decisions (class, provider, builder)
// without a write, as for Services and Ingresses.
import { describe, expect, it } from 'vitest';
import type { LbcConfig } from '../../src/config/config.js';
import { planCluster } from '../../src/controller/plan.js';
import { FINALIZER } from '../../src/controller/reconcile.js';
import { Cache } from '../../src/kube/cache.js';
import type { Gateway, GatewayClass, HTTPRoute } from '../../src/kube/gateway-api.js';
import { createMemoryProvider } from '../../src/providers/memory/index.js';
import { config as baseConfig, node } from './fixtures.js';
import { gateway, httpListener, httpRoute, INFRA, parent, services, endpointSlices } from './gateway/fixtures.js';
import { planInputs, providerSet } from './plan-support.js';

const config: LbcConfig = { ...baseConfig(), providers: [{ name: 'mem', type: 'memory', class: 'lbc.dev/mem', options: {} }] };
const gc: GatewayClass = { metadata: { name: 'lbc' }, spec: { controllerName: 'lbc.dev/gateway-controller', parametersRef: { group: 'lbc.dev', kind: 'Provider', name: 'mem' } } };
const fill = <T extends object>(items: readonly T[]): Cache<T> => {
  const c = new Cache<T>({});
  for (const i of items) c.set(i);
  return c;
};

async function plan(gateways: Gateway[], more: HTTPRoute[] = []) {
  const mem = createMemoryProvider({ name: 'mem', clusterName: 'test', layers: ['L4', 'L7', 'Gateway'] });
  const inputs = planInputs(config, providerSet(config, [mem]), { services, endpointSlices, nodes: [node('n1')] });
  const route = httpRoute('web', { parentRefs: [parent('gw')], rules: [{ backendRefs: [{ name: 'infra-backend-v1', port: 8080 }] }] });
  return planCluster({
    ...inputs,
    gateway: { gateways: fill(gateways), gatewayClasses: fill([gc]), routes: { http: [route, ...more] }, referenceGrants: [], namespaces: [] },
  });
}

describe('lbc plan: Gateways', () => {
  it('a new Gateway of an lbc class: the provider creates its load balancer, and the finalizer is added', async () => {
    const p = await plan([{ ...gateway('gw', [httpListener()]), spec: { gatewayClassName: 'lbc', listeners: [httpListener()] } }]);
    const [o] = p.objects;
    expect(o?.subject).toEqual({ kind: 'Gateway', namespace: INFRA, name: 'gw', routes: [`HTTPRoute ${INFRA}/web`] });
    expect(o?.intent).toEqual({ kind: 'ensure', provider: 'mem' });
    expect(o?.outcome.kind === 'planned' && o.outcome.cloud[0]?.changes.some((c) => c.op === 'create')).toBe(true);
    expect(o?.outcome.kind === 'planned' && o.outcome.kube).toEqual([{ op: 'create', resource: 'Finalizer', id: `Gateway ${INFRA}/gw`, detail: FINALIZER }]);
  });

  it('a Gateway with no valid listener is invalid, naming why', async () => {
    const p = await plan([gateway('gw', [{ name: 'x', port: 9, protocol: 'SCTP' }])]);
    expect(p.objects[0]?.outcome).toMatchObject({ kind: 'invalid', message: expect.stringContaining('protocol SCTP is not supported') });
  });

  it('a Gateway of another controller is not shown; one that still holds lbc\'s finalizer is planned for deletion', async () => {
    const other = { ...gateway('other', [httpListener()]), spec: { gatewayClassName: 'theirs', listeners: [httpListener()] } };
    expect((await plan([other])).objects).toEqual([]);
    const held = { ...other, metadata: { ...other.metadata, finalizers: [FINALIZER] } };
    const [o] = (await plan([held])).objects;
    expect(o?.intent).toMatchObject({ kind: 'delete' });
    expect(o?.outcome.kind === 'planned' && o.outcome.kube[0]).toMatchObject({ op: 'delete', resource: 'Finalizer' });
  });

  it('lists the routes that name the Gateway, and notes each one it would not take with the condition and reason its status gets', async () => {
    const gw = { ...gateway('gw', [httpListener()]), spec: { gatewayClassName: 'lbc', listeners: [httpListener()] } };
    const stray = httpRoute('stray', { parentRefs: [parent('gw', { sectionName: 'nope' })], rules: [{ backendRefs: [{ name: 'infra-backend-v1', port: 8080 }] }] }, INFRA, '2026-01-02T00:00:00Z');
    const elsewhere = httpRoute('elsewhere', { parentRefs: [parent('other-gw')], rules: [] });
    const [o] = (await plan([gw], [stray, elsewhere])).objects;
    expect(o?.subject).toEqual({ kind: 'Gateway', namespace: INFRA, name: 'gw', routes: [`HTTPRoute ${INFRA}/web`, `HTTPRoute ${INFRA}/stray`] });
    expect(o?.outcome.kind === 'planned' && o.outcome.notes).toEqual([expect.stringMatching(new RegExp(`^HTTPRoute ${INFRA}/stray: Accepted False \\(NoMatchingParent`))]);
  });
});
