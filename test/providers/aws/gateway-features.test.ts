// The AWS provider's gatewayFeatures through the Gateway builder: what ALB cannot do is
// refused with the specification's reasons before anything reaches AWS, and what it can
// do goes from Gateway API objects to the ALB's rules (builder → provider → fake ELBv2).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { GatewaySpec } from '../../../src/model/spec.js';
import type { AwsLbOptions } from '../../../src/providers/aws/annotations.js';
import { ALB_GATEWAY_FEATURES } from '../../../src/providers/aws/gateway-alb.js';
import { build, gateway, httpListener, httpRoute, listenerConditions, parent, routeConditions } from '../../controller/gateway/fixtures.js';
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
  it('the GatewayClass publishes exactly what ALB rules express', () => {
    expect(provider().capabilities.gatewayFeatures).toEqual(ALB_GATEWAY_FEATURES);
    expect(ALB_GATEWAY_FEATURES).not.toContain('HTTPRouteRequestMirror');
    expect(ALB_GATEWAY_FEATURES).not.toContain('TCPRoute');
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

  it('a TCP listener on an ALB Gateway: UnsupportedProtocol, the HTTP listener still served', () => {
    const r = build({ gateway: gw([httpListener(), { name: 'tcp', port: 5432, protocol: 'TCP' }]), provider: provider() });
    expect(listenerConditions(r, 'tcp')['Accepted']).toEqual({ status: 'False', reason: 'UnsupportedProtocol' });
    expect(r.spec?.ports.map((p) => `${p.protocol}:${p.port}`)).toEqual(['HTTP:80']);
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
