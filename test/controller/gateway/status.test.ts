import { describe, expect, it } from 'vitest';
import type { GatewayClass, RouteParentStatus } from '../../../src/kube/gateway-api.js';
import { gatewayClassStatus, providerOfGatewayClass } from '../../../src/controller/gateway/gateway-class.js';
import { planGatewayClassStatus, planGatewayStatus, planRouteParents } from '../../../src/controller/gateway/status.js';
import { build, gateway, httpListener, httpRoute, INFRA, parent } from './fixtures.js';

const t0 = new Date('2026-12-07T00:00:00Z');
const t1 = new Date('2026-12-07T01:00:00Z');
const programmed = { kind: 'programmed' as const, status: { ingress: [{ ip: '192.0.2.1' }] } };

describe('planGatewayStatus', () => {
  const gw = gateway('same-namespace', [httpListener()]);
  const r = build({ gateway: gw });
  const want = { accepted: r.accepted, listeners: r.listeners, attachedRoutes: r.attachedRoutes, programmed };

  it('writes Accepted, Programmed, the listeners and the address; the same status again is no write (resync)', () => {
    const status = planGatewayStatus(gw, want, t0);
    expect(status?.addresses).toEqual([{ type: 'IPAddress', value: '192.0.2.1' }]);
    expect(status?.conditions?.map((c) => [c.type, c.status, c.reason, c.observedGeneration, c.lastTransitionTime])).toEqual([
      ['Accepted', 'True', 'Accepted', 1, '2026-12-07T00:00:00Z'],
      ['Programmed', 'True', 'Programmed', 1, '2026-12-07T00:00:00Z'],
    ]);
    expect(status?.listeners?.[0]).toMatchObject({ name: 'http', attachedRoutes: 0, supportedKinds: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute' }, { group: 'gateway.networking.k8s.io', kind: 'GRPCRoute' }] });
    expect(status?.listeners?.[0]?.conditions.map((c) => `${c.type}=${c.status}`)).toEqual(['Accepted=True', 'ResolvedRefs=True', 'Conflicted=False', 'Programmed=True']);
    expect(planGatewayStatus({ ...gw, status }, want, t1)).toBeUndefined();
  });

  it('a provider still working is Programmed False Pending, and keeps the addresses written before', () => {
    const status = planGatewayStatus(gw, want, t0);
    const pending = planGatewayStatus({ ...gw, status }, { ...want, programmed: { kind: 'pending', message: 'provider failed: throttled' } }, t1);
    expect(pending?.conditions?.find((c) => c.type === 'Programmed')).toMatchObject({ status: 'False', reason: 'Pending', lastTransitionTime: '2026-12-07T01:00:00Z' });
    expect(pending?.addresses).toEqual([{ type: 'IPAddress', value: '192.0.2.1' }]);
    // Accepted did not change status: its time stays.
    expect(pending?.conditions?.find((c) => c.type === 'Accepted')?.lastTransitionTime).toBe('2026-12-07T00:00:00Z');
  });
});

describe('planRouteParents', () => {
  const LBC = { controllerName: 'lbc.dev/gateway-controller', names: ['lbc.dev/gateway-controller'] };
  const gw = gateway('same-namespace', [httpListener()]);
  const route = httpRoute('r', { parentRefs: [parent('same-namespace'), parent('theirs')], rules: [] });
  const foreign: RouteParentStatus = {
    parentRef: { name: 'theirs' },
    controllerName: 'example.com/other-controller',
    conditions: [{ type: 'Accepted', status: 'True', reason: 'Accepted', message: '', lastTransitionTime: '2026-01-01T00:00:00Z' }],
  };
  const wanted = [{ parentRef: { name: 'same-namespace' }, conditions: [{ type: 'Accepted', status: 'True' as const, reason: 'Accepted', message: 'ok', observedGeneration: 1 }] }];

  it("adds lbc's entry beside another controller's, which it leaves as it is; unchanged is no write", () => {
    const parents = planRouteParents([foreign], INFRA, gw, wanted, t0, LBC);
    expect(parents?.[0]).toBe(foreign);
    expect(parents?.[1]).toMatchObject({ parentRef: { name: 'same-namespace' }, controllerName: 'lbc.dev/gateway-controller' });
    expect(planRouteParents(parents, INFRA, gw, wanted, t1, LBC)).toBeUndefined();
    expect(route.spec?.parentRefs).toHaveLength(2);
  });

  it('drops the entry for a parentRef of this Gateway no longer wanted, not for another Gateway of lbc', () => {
    const otherGw: RouteParentStatus = { parentRef: { name: 'other-lbc-gateway' }, controllerName: 'lbc.dev/gateway-controller', conditions: [] };
    const parents = planRouteParents([foreign, otherGw], INFRA, gw, wanted, t0, LBC) ?? [];
    expect(planRouteParents(parents, INFRA, gw, [], t1, LBC)).toEqual([foreign, otherGw]);
  });

  it("writes under the Gateway's class controllerName (gateway.k8s.aws/alb), replaces what lbc wrote under another name it serves, and leaves a name it does not serve alone", () => {
    const albc = { controllerName: 'gateway.k8s.aws/alb', names: ['lbc.dev/gateway-controller', 'gateway.k8s.aws/alb', 'gateway.k8s.aws/nlb'] };
    const underOwn: RouteParentStatus = { parentRef: { name: 'same-namespace' }, controllerName: 'lbc.dev/gateway-controller', conditions: [] };
    const parents = planRouteParents([foreign, underOwn], INFRA, gw, wanted, t0, albc);
    expect(parents).toEqual([foreign, expect.objectContaining({ parentRef: { name: 'same-namespace' }, controllerName: 'gateway.k8s.aws/alb' })]);
    expect(planRouteParents(parents, INFRA, gw, wanted, t1, albc)).toBeUndefined();
    // An instance told not to serve ALBC's names (compatibleControllerNames: []) keeps ALBC's entry as another controller's.
    const albcEntry = parents?.[1] as RouteParentStatus;
    expect(planRouteParents([albcEntry], INFRA, gw, [], t1, LBC)).toBeUndefined();
    // Released by lbc (no longer its Gateway): the entry under the compatible name goes too.
    expect(planRouteParents(parents, INFRA, gw, [], t1, { ...albc, controllerName: 'lbc.dev/gateway-controller' })).toEqual([foreign]);
  });
});

describe('GatewayClassObservedGenerationBump', () => {
  const gc: GatewayClass = { metadata: { name: 'lbc', generation: 1 }, spec: { controllerName: 'lbc.dev/gateway-controller', parametersRef: { group: 'lbc.dev', kind: 'Provider', name: 'aws' } } };
  const config = { providers: [{ name: 'aws', type: 'aws' as const, class: 'lbc.dev/aws', options: {} }], defaultClass: undefined };

  it('Accepted carries the generation, and a generation bump rewrites it; supportedFeatures are sorted', () => {
    const want = gatewayClassStatus(gc, providerOfGatewayClass(gc, config), ['ReferenceGrant', 'HTTPRoute', 'Gateway']);
    const status = planGatewayClassStatus(gc, want, t0);
    expect(status?.conditions?.[0]).toMatchObject({ type: 'Accepted', status: 'True', reason: 'Accepted', observedGeneration: 1 });
    expect(status?.supportedFeatures).toEqual([{ name: 'Gateway' }, { name: 'HTTPRoute' }, { name: 'ReferenceGrant' }]);
    expect(planGatewayClassStatus({ ...gc, status }, want, t1)).toBeUndefined();
    const bumped = { ...gc, metadata: { ...gc.metadata, generation: 2 }, status };
    const again = planGatewayClassStatus(bumped, gatewayClassStatus(bumped, providerOfGatewayClass(bumped, config), ['Gateway', 'HTTPRoute', 'ReferenceGrant']), t1);
    expect(again?.conditions?.[0]).toMatchObject({ observedGeneration: 2, lastTransitionTime: '2026-12-07T00:00:00Z' });
  });

  it('a parametersRef to something other than an lbc Provider is InvalidParameters', () => {
    const bad = { ...gc, spec: { controllerName: 'lbc.dev/gateway-controller', parametersRef: { group: 'example.com', kind: 'Config', name: 'x' } } };
    expect(gatewayClassStatus(bad, providerOfGatewayClass(bad, config), ['Gateway']).conditions[0]).toMatchObject({ status: 'False', reason: 'InvalidParameters' });
  });
});
