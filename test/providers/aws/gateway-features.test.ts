// The AWS provider's gatewayFeatures through the Gateway builder: what ALB cannot do is
// refused with the specification's reasons before anything reaches AWS, and what it can
// do goes from Gateway API objects to the ALB's rules (builder → provider → fake ELBv2).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { GatewaySpec } from '../../../src/model/spec.js';
import type { AwsLbOptions } from '../../../src/providers/aws/annotations.js';
import type { TCPRoute } from '../../../src/kube/gateway-api.js';
import { ALB_GATEWAY_FEATURES } from '../../../src/providers/aws/gateway-alb.js';
import { NLB_GATEWAY_FEATURES } from '../../../src/providers/aws/gateway-nlb.js';
import { build, gateway, httpListener, httpRoute, INFRA, listenerConditions, parent, routeConditions } from '../../controller/gateway/fixtures.js';
import type { FakeAws } from './fake-aws.js';
import { CLUSTER, provider, seededFake } from './support.js';

let fake: FakeAws;
beforeEach(() => {
  fake = seededFake();
});
afterEach(() => fake.uninstall());

const ANNOTATIONS = { 'alb.ingress.kubernetes.io/scheme': 'internet-facing', 'alb.ingress.kubernetes.io/target-type': 'ip' };
const gw = (listeners = [httpListener()]) => {
  const g = gateway('edge', listeners);
  return { ...g, metadata: { ...g.metadata, annotations: ANNOTATIONS } };
};
const backendRef = (name: string, weight?: number) => ({ name, port: 8080, ...(weight !== undefined ? { weight } : {}) });

describe('AWS gatewayFeatures', () => {
  it('the GatewayClass publishes exactly what ALB rules and NLB listeners express', () => {
    expect(provider().capabilities.gatewayFeatures).toEqual([...ALB_GATEWAY_FEATURES, ...NLB_GATEWAY_FEATURES]);
    expect(ALB_GATEWAY_FEATURES).not.toContain('HTTPRouteRequestMirror');
    expect(ALB_GATEWAY_FEATURES).not.toContain('TCPRoute');
    expect(NLB_GATEWAY_FEATURES).toEqual(['TCPRoute', 'UDPRoute', 'TLSRoute', 'TLSRouteModeTerminate']);
    // One NLB listener per port cannot tell HTTPS from TLS by SNI.
    expect(provider().capabilities.gatewayFeatures).not.toContain('GatewayHTTPSAndTLSPassthroughSamePort');
  });

  it('a RequestMirror and a path redirect: the route is not Accepted (UnsupportedValue), naming the feature', () => {
    const route = httpRoute('mirror', {
      parentRefs: [parent('edge')],
      rules: [
        { filters: [{ type: 'RequestMirror', requestMirror: { backendRef: backendRef('infra-backend-v2') } }], backendRefs: [backendRef('infra-backend-v1')] },
        { filters: [{ type: 'RequestRedirect', requestRedirect: { path: { type: 'ReplaceFullPath', replaceFullPath: '/new' } } }] },
      ],
    });
    const r = build({ gateway: gw(), routes: { http: [route] }, provider: provider() });
    expect(routeConditions(r, 'mirror')['Accepted']).toEqual({ status: 'False', reason: 'UnsupportedValue' });
    const message = r.routes[0]?.parents[0]?.conditions.find((c) => c.type === 'Accepted')?.message ?? '';
    expect(message).toMatch(/HTTPRouteRequestMirror/);
    expect(message).toMatch(/HTTPRoutePathRedirect/);
  });

  it('a TCP listener beside an HTTP one: both accepted by the builder, the provider refuses the mix (an ALB and an NLB) before any ELBv2 call', async () => {
    const p = provider();
    const r = build({ gateway: gw([httpListener(), { name: 'tcp', port: 5432, protocol: 'TCP' }]), provider: p, clusterName: CLUSTER });
    expect(listenerConditions(r, 'tcp')['Accepted']).toEqual({ status: 'True', reason: 'Accepted' });
    expect(r.spec?.ports.map((x) => `${x.protocol}:${x.port}`)).toEqual(['HTTP:80', 'TCP:5432']);
    if (!r.spec) throw new Error(r.problem ?? 'no spec');
    await expect(p.ensure(r.spec as GatewaySpec<AwsLbOptions>)).rejects.toThrow(/HTTP\/HTTPS listeners \(HTTP:80\) and TCP\/UDP\/TLS listeners \(TCP:5432\)/);
    expect(fake.actions('elbv2')).toEqual([]);
  });

  it('Gateway and TCPRoute objects → an NLB: the route Accepted, a TCP listener to the backend (no UnsupportedValue on aws any more)', async () => {
    const p = provider();
    const route: TCPRoute = {
      apiVersion: 'gateway.networking.k8s.io/v1alpha2',
      kind: 'TCPRoute',
      metadata: { name: 'db', namespace: INFRA, creationTimestamp: new Date('2026-01-01T00:00:00Z') },
      spec: { parentRefs: [parent('edge')], rules: [{ backendRefs: [backendRef('infra-backend-v1')] }] },
    };
    const r = build({ gateway: gw([{ name: 'tcp', port: 5432, protocol: 'TCP', allowedRoutes: { namespaces: { from: 'Same' } } }]), routes: { tcp: [route] }, provider: p, clusterName: CLUSTER });
    expect(routeConditions(r, 'db')['Accepted']).toEqual({ status: 'True', reason: 'Accepted' });
    if (!r.spec) throw new Error(r.problem ?? 'no spec');
    await p.ensure(r.spec as GatewaySpec<AwsLbOptions>);
    expect(fake.last('CreateLoadBalancer')?.params).toMatchObject({ Type: 'network' });
    expect(fake.last('CreateTargetGroup')?.params).toMatchObject({ Protocol: 'TCP', TargetType: 'ip' });
    expect(fake.last('CreateListener')?.params).toMatchObject({ Port: '5432', Protocol: 'TCP' });
  });

  it('Gateway and HTTPRoute objects → the ALB rules: a header-matched canary before the plain route', async () => {
    const p = provider();
    const route = httpRoute('canary', {
      parentRefs: [parent('edge')],
      hostnames: ['shop.example.com'],
      rules: [
        { backendRefs: [backendRef('infra-backend-v1')] },
        { matches: [{ path: { type: 'PathPrefix', value: '/' }, headers: [{ name: 'X-Canary', value: 'yes' }] }], backendRefs: [backendRef('infra-backend-v1', 80), backendRef('infra-backend-v2', 20)] },
      ],
    });
    const r = build({ gateway: gw(), routes: { http: [route] }, provider: p, clusterName: CLUSTER });
    expect(routeConditions(r, 'canary')['Accepted']).toEqual({ status: 'True', reason: 'Accepted' });
    if (!r.spec) throw new Error(r.problem ?? 'no spec');
    // The fixtures' build() is not generic over the provider's options; the AWS parser made these.
    await p.ensure(r.spec as GatewaySpec<AwsLbOptions>);
    const rules = fake.all('CreateRule').map((x) => x.params);
    expect(rules.map((x) => [x['Priority'], x['Conditions.member.1.HostHeaderConfig.Values.member.1'], x['Conditions.member.3.HttpHeaderConfig.HttpHeaderName']])).toEqual([
      ['1', 'shop.example.com', 'x-canary'],
      ['2', 'shop.example.com', undefined],
    ]);
    expect(rules[0]).toMatchObject({ 'Actions.member.1.ForwardConfig.TargetGroups.member.1.Weight': '80', 'Actions.member.1.ForwardConfig.TargetGroups.member.2.Weight': '20' });
    expect(fake.all('CreateTargetGroup').map((x) => x.params['TargetType'])).toEqual(['ip', 'ip']);
  });
});
