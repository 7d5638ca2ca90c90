// GCE_GATEWAY_FEATURES through the Gateway builder: what a URL map cannot do is refused
// with the specification's reasons before anything reaches Compute, and routes of a kind
// the provider serves on no listener (TCPRoute, UDPRoute, as GKE's Gateway controller)
// are not Accepted, with reason UnsupportedValue and a message naming the kind.
import { describe, expect, it } from 'vitest';
import { GCE_GATEWAY_FEATURES } from '../../../src/providers/gce/gateway-url-map.js';
import { build, gateway, gatewayProvider, httpListener, httpRoute, INFRA, listenerConditions, parent, routeConditions } from '../../controller/gateway/fixtures.js';

const provider = gatewayProvider(GCE_GATEWAY_FEATURES);
const backendRef = (name: string) => ({ name, port: 8080 });
const acceptedMessage = (r: ReturnType<typeof build>, route: string): string =>
  r.routes.find((x) => x.route.name === route)?.parents[0]?.conditions.find((c) => c.type === 'Accepted')?.message ?? '';

describe('GCE gatewayFeatures', () => {
  it('TCPRoute and UDPRoute: Accepted=False UnsupportedValue naming the kind; the listeners UnsupportedProtocol; HTTP still served', () => {
    const gw = gateway('edge', [httpListener(), { name: 'tcp', port: 5432, protocol: 'TCP' }, { name: 'udp', port: 53, protocol: 'UDP' }]);
    const meta = (name: string) => ({ name, namespace: INFRA, uid: `uid-${name}`, generation: 1, creationTimestamp: new Date('2026-01-01T00:00:00Z') });
    const r = build({
      gateway: gw,
      provider,
      routes: {
        http: [httpRoute('web', { parentRefs: [parent('edge')], rules: [{ backendRefs: [backendRef('infra-backend-v1')] }] })],
        tcp: [{ metadata: meta('db'), spec: { parentRefs: [parent('edge')], rules: [{ backendRefs: [backendRef('infra-backend-v1')] }] } }],
        udp: [{ metadata: meta('dns'), spec: { parentRefs: [parent('edge')], rules: [{ backendRefs: [backendRef('infra-backend-v1')] }] } }],
      },
    });
    expect(routeConditions(r, 'db')['Accepted']).toEqual({ status: 'False', reason: 'UnsupportedValue' });
    expect(acceptedMessage(r, 'db')).toMatch(/does not serve TCPRoute/);
    expect(routeConditions(r, 'dns')['Accepted']).toEqual({ status: 'False', reason: 'UnsupportedValue' });
    expect(acceptedMessage(r, 'dns')).toMatch(/does not serve UDPRoute/);
    expect(listenerConditions(r, 'tcp')['Accepted']).toEqual({ status: 'False', reason: 'UnsupportedProtocol' });
    expect(routeConditions(r, 'web')['Accepted']).toEqual({ status: 'True', reason: 'Accepted' });
    expect(r.spec?.ports.map((p) => `${p.protocol}:${p.port}`)).toEqual(['HTTP:80']);
  });

  it('a RequestMirror and a port redirect (urlRedirect has no port): UnsupportedValue naming the features', () => {
    const route = httpRoute('mirror', {
      parentRefs: [parent('edge')],
      rules: [
        { filters: [{ type: 'RequestMirror', requestMirror: { backendRef: backendRef('infra-backend-v2') } }], backendRefs: [backendRef('infra-backend-v1')] },
        { filters: [{ type: 'RequestRedirect', requestRedirect: { port: 8443 } }] },
      ],
    });
    const r = build({ gateway: gateway('edge', [httpListener()]), routes: { http: [route] }, provider });
    expect(routeConditions(r, 'mirror')['Accepted']).toEqual({ status: 'False', reason: 'UnsupportedValue' });
    expect(acceptedMessage(r, 'mirror')).toMatch(/HTTPRouteRequestMirror/);
    expect(acceptedMessage(r, 'mirror')).toMatch(/HTTPRoutePortRedirect/);
  });
});

describe('GCE_GATEWAY_FEATURES', () => {
  it('is what the URL map builder serves: core HTTP, listener isolation, matches, rewrites, path and scheme redirects, header modification', () => {
    expect([...GCE_GATEWAY_FEATURES].sort()).toEqual(
      [
        'Gateway',
        'HTTPRoute',
        'ReferenceGrant',
        'GatewayPort8080',
        'GatewayHTTPListenerIsolation',
        'HTTPRouteHostRewrite',
        'HTTPRouteMethodMatching',
        'HTTPRouteParentRefPort',
        'HTTPRoutePathRedirect',
        'HTTPRoutePathRewrite',
        'HTTPRouteQueryParamMatching',
        'HTTPRouteResponseHeaderModification',
        'HTTPRouteBackendRequestHeaderModification',
        'HTTPRouteSchemeRedirect',
      ].sort(),
    );
  });
});
