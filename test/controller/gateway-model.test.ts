// Builder tests modelled on the Gateway API conformance suite (gateway-api v1.4.0,
// conformance/tests/*.go and *.yaml): each describe names the conformance test whose
// manifests and expected conditions it repeats.
import { describe, expect, it } from 'vitest';
import type { GatewayPort, HttpRouteRule } from '../../src/model/gateway.js';
import { GCE_GATEWAY_FEATURES } from '../../src/providers/gce/gateway-url-map.js';
import { build, gateway, gatewayProvider, grant, httpListener, httpRoute, INFRA, listenerConditions, ns, parent, routeConditions, WEB, APP } from './gateway/fixtures.js';

const sameNamespace = gateway('same-namespace', [httpListener()]);
const toV1 = [{ name: 'infra-backend-v1', port: 8080 }];

function httpRules(ports: readonly GatewayPort[] | undefined, port = 80, listener?: string): HttpRouteRule[] {
  const p = ports?.find((x) => x.port === port);
  if (!p || (p.protocol !== 'HTTP' && p.protocol !== 'HTTPS')) throw new Error(`no HTTP port ${port}`);
  return p.listeners.filter((l) => listener === undefined || l.name === listener).flatMap((l) => l.rules);
}

describe('HTTPRouteSimpleSameNamespace', () => {
  const route = httpRoute('gateway-conformance-infra-test', { parentRefs: [parent('same-namespace')], rules: [{ backendRefs: toV1 }] });
  const r = build({ gateway: sameNamespace, routes: { http: [route] } });

  it('accepts the route with its references resolved, and the Gateway', () => {
    expect(routeConditions(r, 'gateway-conformance-infra-test')).toEqual({ Accepted: { status: 'True', reason: 'Accepted' }, ResolvedRefs: { status: 'True', reason: 'ResolvedRefs' } });
    expect(r.accepted).toMatchObject({ type: 'Accepted', status: 'True', reason: 'Accepted', observedGeneration: 1 });
    expect(r.attachedRoutes.get('http')).toBe(1);
  });

  it('serves the rule on port 80 with the spec default match (PathPrefix /) and weight 1 to the backend target set', () => {
    expect(r.spec?.ports.map((p) => [p.protocol, p.port])).toEqual([['HTTP', 80]]);
    const [rule] = httpRules(r.spec?.ports);
    expect(rule).toMatchObject({
      origin: { kind: 'HTTPRoute', namespace: INFRA, name: 'gateway-conformance-infra-test', ruleIndex: 0 },
      hostnames: [],
      matches: [{ path: { type: 'PathPrefix', value: '/' }, headers: [], queryParams: [] }],
      backends: [{ targetSet: `${INFRA}/infra-backend-v1:8080`, weight: 1, filters: [] }],
      backendProtocol: 'http1',
    });
    expect(r.spec?.targetSets.map((t) => [t.name, t.type, t.protocol])).toEqual([[`${INFRA}/infra-backend-v1:8080`, 'ip', 'HTTP']]);
    expect(r.spec?.ref).toEqual({ kind: 'Gateway', namespace: INFRA, name: 'same-namespace', uid: 'uid-same-namespace' });
  });
});

describe('GatewayInvalidRouteKind', () => {
  it('a listener allowing only an unknown kind supports none and says InvalidRouteKinds; an HTTPRoute is NotAllowedByListeners', () => {
    const gw = gateway('gateway-only-invalid-route-kind', [httpListener({ allowedRoutes: { kinds: [{ kind: 'FooRoute' }] } })]);
    const route = httpRoute('invalid-route-kind', { parentRefs: [parent(gw.metadata?.name ?? '')], rules: [{ backendRefs: toV1 }] });
    const r = build({ gateway: gw, routes: { http: [route] } });
    expect(r.listeners[0]?.supportedKinds).toEqual([]);
    expect(listenerConditions(r, 'http').ResolvedRefs).toEqual({ status: 'False', reason: 'InvalidRouteKinds' });
    expect(routeConditions(r, 'invalid-route-kind').Accepted).toEqual({ status: 'False', reason: 'NotAllowedByListeners' });
    expect(r.attachedRoutes.get('http')).toBe(0);
  });

  it('a listener allowing HTTPRoute and an unknown kind supports HTTPRoute only', () => {
    const gw = gateway('gateway-supported-and-invalid-route-kind', [httpListener({ allowedRoutes: { kinds: [{ kind: 'FooRoute' }, { kind: 'HTTPRoute' }] } })]);
    const r = build({ gateway: gw });
    expect(r.listeners[0]?.supportedKinds).toEqual(['HTTPRoute']);
    expect(listenerConditions(r, 'http').ResolvedRefs).toEqual({ status: 'False', reason: 'InvalidRouteKinds' });
  });
});

describe('HTTPRouteInvalidCrossNamespaceBackendRef', () => {
  it('a backend in another namespace without a ReferenceGrant is RefNotPermitted; the route stays Accepted and its share answers 500 (no target set)', () => {
    const route = httpRoute('invalid-cross-namespace-backend-ref', { parentRefs: [parent('same-namespace')], rules: [{ backendRefs: [{ name: 'web-backend', namespace: WEB, port: 8080 }] }] });
    const r = build({ gateway: sameNamespace, routes: { http: [route] } });
    expect(routeConditions(r, 'invalid-cross-namespace-backend-ref')).toEqual({ Accepted: { status: 'True', reason: 'Accepted' }, ResolvedRefs: { status: 'False', reason: 'RefNotPermitted' } });
    expect(httpRules(r.spec?.ports)[0]?.backends).toEqual([{ weight: 1, filters: [] }]);
    expect(r.spec?.targetSets).toEqual([]);
  });
});

describe('HTTPRouteReferenceGrant', () => {
  const route = httpRoute('reference-grant', { parentRefs: [parent('same-namespace')], rules: [{ backendRefs: [{ name: 'web-backend', namespace: WEB, port: 8080 }] }] });

  it('a ReferenceGrant in the backend namespace lets the route reach it', () => {
    const r = build({ gateway: sameNamespace, routes: { http: [route] }, referenceGrants: [grant(WEB, { kind: 'HTTPRoute', namespace: INFRA }, { kind: 'Service', name: 'web-backend' })] });
    expect(routeConditions(r, 'reference-grant').ResolvedRefs).toEqual({ status: 'True', reason: 'ResolvedRefs' });
    expect(httpRules(r.spec?.ports)[0]?.backends[0]?.targetSet).toBe(`${WEB}/web-backend:8080`);
  });

  it('a grant for another Service name, kind or namespace does not', () => {
    for (const g of [
      grant(WEB, { kind: 'HTTPRoute', namespace: INFRA }, { kind: 'Service', name: 'other' }),
      grant(WEB, { kind: 'GRPCRoute', namespace: INFRA }, { kind: 'Service' }),
      grant(APP, { kind: 'HTTPRoute', namespace: INFRA }, { kind: 'Service' }),
    ]) {
      const r = build({ gateway: sameNamespace, routes: { http: [route] }, referenceGrants: [g] });
      expect(routeConditions(r, 'reference-grant').ResolvedRefs).toEqual({ status: 'False', reason: 'RefNotPermitted' });
    }
  });
});

describe('HTTPRoutePartiallyInvalidViaInvalidReferenceGrant', () => {
  it('the rule with a permitted backend is served; the other answers 500, and ResolvedRefs says RefNotPermitted', () => {
    const route = httpRoute('invalid-reference-grant', {
      parentRefs: [parent('same-namespace')],
      rules: [
        { matches: [{ path: { type: 'PathPrefix', value: '/v2' } }], backendRefs: [{ name: 'app-backend-v1', namespace: APP, port: 8080 }] },
        { backendRefs: toV1 },
      ],
    });
    const r = build({ gateway: sameNamespace, routes: { http: [route] }, referenceGrants: [grant(APP, { kind: 'HTTPRoute', namespace: INFRA }, { kind: 'Service', name: 'not-app-backend-v1' })] });
    expect(routeConditions(r, 'invalid-reference-grant')).toEqual({ Accepted: { status: 'True', reason: 'Accepted' }, ResolvedRefs: { status: 'False', reason: 'RefNotPermitted' } });
    const rules = httpRules(r.spec?.ports);
    expect(rules.map((x) => x.backends.map((b) => b.targetSet ?? '500'))).toEqual([['500'], [`${INFRA}/infra-backend-v1:8080`]]);
  });
});

describe('GatewayWithAttachedRoutes', () => {
  it('counts the routes attached to each listener, and none a listener does not allow', () => {
    const gw = gateway('gateway-with-two-listeners', [httpListener({ name: 'http', port: 80 }), httpListener({ name: 'unused', port: 8080, hostname: 'unused.example.com' })]);
    const routes = [
      httpRoute('http-route-1', { parentRefs: [parent(gw.metadata?.name ?? '', { sectionName: 'http' })], rules: [{ backendRefs: toV1 }] }),
      httpRoute('http-route-2', { parentRefs: [parent(gw.metadata?.name ?? '', { namespace: INFRA })], hostnames: ['other.example.com'], rules: [{ backendRefs: toV1 }] }),
      httpRoute('http-route-elsewhere', { parentRefs: [parent(gw.metadata?.name ?? '', { namespace: INFRA })], rules: [{ backendRefs: toV1 }] }, APP),
    ];
    const r = build({ gateway: gw, routes: { http: routes } });
    expect(Object.fromEntries(r.attachedRoutes)).toEqual({ http: 2, unused: 0 });
    expect(routeConditions(r, 'http-route-elsewhere').Accepted).toEqual({ status: 'False', reason: 'NotAllowedByListeners' });
  });

  it('a route with unresolved backends still counts as attached (attachedRoutes counts Accepted routes)', () => {
    const route = httpRoute('unresolved', { parentRefs: [parent('same-namespace')], rules: [{ backendRefs: [{ name: 'does-not-exist', port: 8080 }] }] });
    const r = build({ gateway: sameNamespace, routes: { http: [route] } });
    expect(routeConditions(r, 'unresolved').ResolvedRefs).toEqual({ status: 'False', reason: 'BackendNotFound' });
    expect(r.attachedRoutes.get('http')).toBe(1);
  });
});

describe('HTTPRouteHostnameIntersection', () => {
  const gw = gateway('httproute-hostname-intersection', [
    httpListener({ name: 'listener-1', hostname: 'very.specific.com' }),
    httpListener({ name: 'listener-2', hostname: '*.wildcard.io' }),
    httpListener({ name: 'listener-3', hostname: '*.anotherwildcard.io' }),
  ]);
  const name = gw.metadata?.name ?? '';
  const routes = [
    httpRoute('specific-host-matches-listener-specific-host', { parentRefs: [parent(name)], hostnames: ['non.matching.com', 'very.specific.com'], rules: [{ backendRefs: toV1 }] }),
    httpRoute('specific-host-matches-listener-wildcard-host', { parentRefs: [parent(name)], hostnames: ['foo.wildcard.io', 'bar.wildcard.io', 'foo.bar.wildcard.io'], rules: [{ backendRefs: toV1 }] }),
    httpRoute('wildcard-host-matches-listener-specific-host', { parentRefs: [parent(name)], hostnames: ['*.specific.com'], rules: [{ backendRefs: toV1 }] }),
    httpRoute('wildcard-host-matches-listener-wildcard-host', { parentRefs: [parent(name)], hostnames: ['*.anotherwildcard.io'], rules: [{ backendRefs: toV1 }] }),
    httpRoute('no-intersecting-hosts', { parentRefs: [parent(name)], hostnames: ['specific.but.wrong.com', 'wildcard.io'], rules: [{ backendRefs: toV1 }] }),
  ];
  const r = build({ gateway: gw, routes: { http: routes } });
  const served = (listener: string): Record<string, readonly string[]> => Object.fromEntries(httpRules(r.spec?.ports, 80, listener).map((x) => [x.origin.name, x.hostnames]));

  it('serves each route on the listeners it shares a hostname with, with the intersection', () => {
    expect(served('listener-1')).toEqual({ 'specific-host-matches-listener-specific-host': ['very.specific.com'], 'wildcard-host-matches-listener-specific-host': ['very.specific.com'] });
    expect(served('listener-2')).toEqual({ 'specific-host-matches-listener-wildcard-host': ['bar.wildcard.io', 'foo.bar.wildcard.io', 'foo.wildcard.io'] });
    expect(served('listener-3')).toEqual({ 'wildcard-host-matches-listener-wildcard-host': ['*.anotherwildcard.io'] });
  });

  it('a route sharing no hostname with any listener is NoMatchingListenerHostname', () => {
    expect(routeConditions(r, 'no-intersecting-hosts').Accepted).toEqual({ status: 'False', reason: 'NoMatchingListenerHostname' });
    expect(Object.fromEntries(r.attachedRoutes)).toEqual({ 'listener-1': 2, 'listener-2': 1, 'listener-3': 1 });
  });
});

describe('HTTPRouteListenerHostnameMatching', () => {
  it('routes bound by sectionName get the listener hostname; a wildcard listener stays the most specific match for its names', () => {
    const gw = gateway('httproute-listener-hostname-matching', [
      httpListener({ name: 'listener-1', hostname: 'bar.com' }),
      httpListener({ name: 'listener-2', hostname: 'foo.bar.com' }),
      httpListener({ name: 'listener-3', hostname: '*.bar.com' }),
      httpListener({ name: 'listener-4', hostname: '*.foo.com' }),
    ]);
    const name = gw.metadata?.name ?? '';
    const routes = [
      httpRoute('backend-v1', { parentRefs: [parent(name, { sectionName: 'listener-1' })], rules: [{ backendRefs: toV1 }] }),
      httpRoute('backend-v2', { parentRefs: [parent(name, { sectionName: 'listener-2' })], rules: [{ backendRefs: [{ name: 'infra-backend-v2', port: 8080 }] }] }),
      httpRoute('backend-v3', { parentRefs: [parent(name, { sectionName: 'listener-3' }), parent(name, { sectionName: 'listener-4' })], rules: [{ backendRefs: [{ name: 'infra-backend-v3', port: 8080 }] }] }),
    ];
    const r = build({ gateway: gw, routes: { http: routes } });
    const p = r.spec?.ports[0];
    expect(p?.protocol === 'HTTP' && p.listeners.map((l) => [l.name, l.hostname, l.rules.map((x) => x.origin.name)])).toEqual([
      ['listener-1', 'bar.com', ['backend-v1']],
      ['listener-2', 'foo.bar.com', ['backend-v2']],
      ['listener-3', '*.bar.com', ['backend-v3']],
      ['listener-4', '*.foo.com', ['backend-v3']],
    ]);
    expect(r.routes.find((x) => x.route.name === 'backend-v3')?.parents.map((x) => x.conditions[0]?.status)).toEqual(['True', 'True']);
  });
});

describe('GatewayInvalidTLSConfiguration', () => {
  const cases: [string, { group?: string; kind?: string; name: string }][] = [
    ['gateway-certificate-nonexistent-secret', { name: 'nonexistent-certificate' }],
    ['gateway-certificate-unsupported-group', { group: 'wrong.group.company.io', kind: 'Secret', name: 'tls-validity-checks-certificate' }],
    ['gateway-certificate-unsupported-kind', { group: '', kind: 'WrongKind', name: 'tls-validity-checks-certificate' }],
    ['gateway-certificate-malformed-secret', { name: 'malformed-certificate' }],
  ];
  for (const [name, ref] of cases) {
    it(`${name}: the listener's ResolvedRefs is False with InvalidCertificateRef, and it is not programmed`, () => {
      const gw = gateway(name, [{ name: 'https', port: 443, protocol: 'HTTPS', hostname: 'secure.test.com', tls: { certificateRefs: [ref] } }]);
      const malformed = { metadata: { name: 'malformed-certificate', namespace: INFRA }, type: 'kubernetes.io/tls', data: { 'tls.crt': 'bm90IGEgY2VydA==', 'tls.key': 'bm90IGEga2V5' } };
      const r = build({ gateway: gw, secrets: [malformed] });
      expect(listenerConditions(r, 'https').ResolvedRefs).toEqual({ status: 'False', reason: 'InvalidCertificateRef' });
      expect(r.listeners[0]?.servable).toBe(false);
      expect(r.spec).toBeUndefined();
      expect(r.accepted).toMatchObject({ status: 'False', reason: 'ListenersNotValid' });
    });
  }

  it('a valid certificate is served on the HTTPS port with the listener hostname', () => {
    const gw = gateway('tls', [{ name: 'https', port: 443, protocol: 'HTTPS', hostname: 'secure.test.com', tls: { certificateRefs: [{ name: 'tls-validity-checks-certificate' }] } }]);
    const p = build({ gateway: gw }).spec?.ports[0];
    expect(p?.protocol).toBe('HTTPS');
    expect(p?.protocol === 'HTTPS' && p.listeners[0]?.certificates.map((c) => [c.source, c.hosts])).toEqual([['secret', ['secure.test.com']]]);
  });
});

describe('GatewaySecretInvalidReferenceGrant / GatewaySecretMissingReferenceGrant / GatewaySecretReferenceGrantSpecific', () => {
  const gw = gateway('gateway-secret-reference-grant', [{ name: 'https', port: 443, protocol: 'HTTPS', tls: { certificateRefs: [{ name: 'certificate-in-web', namespace: WEB }] } }]);
  it('without a grant, or with one naming another Secret, the listener is RefNotPermitted', () => {
    for (const referenceGrants of [[], [grant(WEB, { kind: 'Gateway', namespace: INFRA }, { kind: 'Secret', name: 'not-the-certificate' })]]) {
      expect(listenerConditions(build({ gateway: gw, referenceGrants }), 'https').ResolvedRefs).toEqual({ status: 'False', reason: 'RefNotPermitted' });
    }
  });
  it('a grant naming the Secret (or every Secret) resolves it', () => {
    for (const to of [{ kind: 'Secret', name: 'certificate-in-web' }, { kind: 'Secret' }]) {
      const r = build({ gateway: gw, referenceGrants: [grant(WEB, { kind: 'Gateway', namespace: INFRA }, to)] });
      expect(listenerConditions(r, 'https').ResolvedRefs).toEqual({ status: 'True', reason: 'ResolvedRefs' });
    }
  });
});

describe('listener conflicts (GatewayModifyListeners, ListenerConditionConflicted)', () => {
  it('a second listener with the same port and hostname is HostnameConflict; another protocol on the port is ProtocolConflict; TCP and UDP share a port number', () => {
    const gw = gateway('conflicts', [
      httpListener({ name: 'a', hostname: 'x.example.com' }),
      httpListener({ name: 'b', hostname: 'x.example.com' }),
      { name: 'c', port: 80, protocol: 'TCP' },
      { name: 'd', port: 53, protocol: 'TCP' },
      { name: 'e', port: 53, protocol: 'UDP' },
    ]);
    const r = build({ gateway: gw });
    expect(listenerConditions(r, 'a').Conflicted).toEqual({ status: 'False', reason: 'NoConflicts' });
    expect(listenerConditions(r, 'b').Conflicted).toEqual({ status: 'True', reason: 'HostnameConflict' });
    expect(listenerConditions(r, 'c').Conflicted).toEqual({ status: 'True', reason: 'ProtocolConflict' });
    expect(r.spec?.ports.map((p) => `${p.protocol}/${p.port}`)).toEqual(['TCP/53', 'UDP/53', 'HTTP/80']);
    expect(r.accepted).toMatchObject({ status: 'True', reason: 'ListenersNotValid' });
  });

  it('an unsupported protocol is UnsupportedProtocol', () => {
    const r = build({ gateway: gateway('sctp', [httpListener(), { name: 's', port: 9, protocol: 'SCTP' }]) });
    expect(listenerConditions(r, 's').Accepted).toEqual({ status: 'False', reason: 'UnsupportedProtocol' });
  });
});

describe('parentRefs (HTTPRouteInvalidParentRefNotMatchingSectionName, HTTPRouteInvalidParentRefNotMatchingListenerPort)', () => {
  it('a sectionName or port no listener has is NoMatchingParent', () => {
    const routes = [
      httpRoute('bad-section', { parentRefs: [parent('same-namespace', { sectionName: 'not-a-listener' })], rules: [{ backendRefs: toV1 }] }),
      httpRoute('bad-port', { parentRefs: [parent('same-namespace', { port: 81 })], rules: [{ backendRefs: toV1 }] }),
      httpRoute('good-port', { parentRefs: [parent('same-namespace', { port: 80 })], rules: [{ backendRefs: toV1 }] }),
    ];
    const r = build({ gateway: sameNamespace, routes: { http: routes } });
    expect(routeConditions(r, 'bad-section').Accepted).toEqual({ status: 'False', reason: 'NoMatchingParent' });
    expect(routeConditions(r, 'bad-port').Accepted).toEqual({ status: 'False', reason: 'NoMatchingParent' });
    expect(routeConditions(r, 'good-port').Accepted).toEqual({ status: 'True', reason: 'Accepted' });
  });

  it("parentRefs to another Gateway get no status from this one", () => {
    const route = httpRoute('elsewhere', { parentRefs: [parent('other-gateway')], rules: [{ backendRefs: toV1 }] });
    expect(build({ gateway: sameNamespace, routes: { http: [route] } }).routes).toEqual([]);
  });
});

describe('allowedRoutes namespaces (HTTPRouteCrossNamespace, GatewayWithAllowedRoutesSelector)', () => {
  it('Selector admits routes from namespaces whose labels match, All admits every namespace', () => {
    const gw = gateway('selector', [
      httpListener({ name: 'sel', allowedRoutes: { namespaces: { from: 'Selector', selector: { matchLabels: { team: 'web' } } } } }),
      httpListener({ name: 'all', port: 8080, allowedRoutes: { namespaces: { from: 'All' } } }),
    ]);
    const route = (n: string, namespace: string) => httpRoute(n, { parentRefs: [parent('selector', { namespace: INFRA })], rules: [{ backendRefs: [{ name: 'web-backend', namespace: WEB, port: 8080 }] }] }, namespace);
    const r = build({ gateway: gw, routes: { http: [route('from-web', WEB), route('from-app', APP)] }, namespaces: [ns(INFRA), ns(APP), ns(WEB, { team: 'web' })] });
    expect(Object.fromEntries(r.attachedRoutes)).toEqual({ sel: 1, all: 2 });
  });
});

describe('HTTPRoute matching, filters, weights and timeouts into the model', () => {
  it('headers lower-cased, method upper-cased, filters in order, weights kept (0 included), timeouts in ms', () => {
    const route = httpRoute('features', {
      parentRefs: [parent('same-namespace')],
      rules: [
        {
          matches: [{ path: { type: 'Exact', value: '/exact' }, headers: [{ name: 'X-Version', value: 'two' }], queryParams: [{ name: 'q', value: 'v', type: 'RegularExpression' }], method: 'get' }],
          filters: [
            { type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'X-A', value: '1' }], remove: ['X-B'] } },
            { type: 'RequestMirror', requestMirror: { backendRef: { name: 'infra-backend-v3', port: 8080 }, fraction: { numerator: 1, denominator: 4 } } },
            { type: 'URLRewrite', urlRewrite: { hostname: 'rewritten.example.com' } },
          ],
          backendRefs: [
            { name: 'infra-backend-v1', port: 8080, weight: 90 },
            { name: 'infra-backend-v2', port: 8080, weight: 10, filters: [{ type: 'ResponseHeaderModifier', responseHeaderModifier: { add: [{ name: 'X-Canary', value: 'yes' }] } }] },
            { name: 'infra-backend-v3', port: 8080, weight: 0 },
          ],
          timeouts: { request: '10s', backendRequest: '1m30s' },
        },
      ],
    });
    const r = build({ gateway: sameNamespace, routes: { http: [route] } });
    expect(routeConditions(r, 'features').Accepted?.reason).toBe('UnsupportedValue');
    const ok = httpRoute('features', { ...route.spec, rules: [{ ...route.spec?.rules?.[0], timeouts: { request: '1m30s', backendRequest: '10s' } }] });
    const rule = httpRules(build({ gateway: sameNamespace, routes: { http: [ok] } }).spec?.ports)[0];
    expect(rule?.matches).toEqual([{ path: { type: 'Exact', value: '/exact' }, headers: [{ type: 'Exact', name: 'x-version', value: 'two' }], queryParams: [{ type: 'RegularExpression', name: 'q', value: 'v' }], method: 'GET' }]);
    expect(rule?.filters).toEqual([
      { type: 'RequestHeaderModifier', set: [{ name: 'X-A', value: '1' }], add: [], remove: ['X-B'] },
      { type: 'RequestMirror', percent: 25, targetSet: `${INFRA}/infra-backend-v3:8080` },
      { type: 'URLRewrite', hostname: 'rewritten.example.com' },
    ]);
    expect(rule?.backends.map((b) => [b.weight, b.filters.length])).toEqual([[90, 0], [10, 1], [0, 0]]);
    expect(rule?.timeouts).toEqual({ requestMs: 90_000, backendRequestMs: 10_000 });
  });

  it('a feature the provider does not declare makes the route UnsupportedValue, and it is not attached', () => {
    const route = httpRoute('query', { parentRefs: [parent('same-namespace')], rules: [{ matches: [{ queryParams: [{ name: 'a', value: 'b' }] }], backendRefs: toV1 }] });
    const r = build({ gateway: sameNamespace, routes: { http: [route] }, provider: gatewayProvider(['Gateway', 'HTTPRoute', 'ReferenceGrant']) });
    expect(routeConditions(r, 'query').Accepted).toEqual({ status: 'False', reason: 'UnsupportedValue' });
    expect(r.attachedRoutes.get('http')).toBe(0);
    expect(httpRules(r.spec?.ports)).toEqual([]);
  });

  it('ReplacePrefixMatch with an Exact match is UnsupportedValue, as the specification asks', () => {
    const route = httpRoute('rewrite', {
      parentRefs: [parent('same-namespace')],
      rules: [{ matches: [{ path: { type: 'Exact', value: '/a' } }], filters: [{ type: 'URLRewrite', urlRewrite: { path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/b' } } }], backendRefs: toV1 }],
    });
    expect(routeConditions(build({ gateway: sameNamespace, routes: { http: [route] } }), 'rewrite').Accepted?.reason).toBe('UnsupportedValue');
  });

  it('routes come in precedence order: oldest first, then namespace/name', () => {
    const older = httpRoute('z-older', { parentRefs: [parent('same-namespace')], rules: [{ backendRefs: toV1 }] }, INFRA, '2025-01-01T00:00:00Z');
    const newer = httpRoute('a-newer', { parentRefs: [parent('same-namespace')], rules: [{ backendRefs: toV1 }] }, INFRA, '2026-01-01T00:00:00Z');
    const r = build({ gateway: sameNamespace, routes: { http: [newer, older] } });
    expect(httpRules(r.spec?.ports).map((x) => x.origin.name)).toEqual(['z-older', 'a-newer']);
  });
});

describe('GRPCRoute, TLSRoute, TCPRoute, UDPRoute', () => {
  it('GRPC method matches become HTTP/2 paths and the backend protocol h2c', () => {
    const gw = gateway('grpc', [httpListener()]);
    const route = {
      metadata: { name: 'grpc', namespace: INFRA, generation: 2, creationTimestamp: '2026-01-01T00:00:00Z' as never },
      spec: {
        parentRefs: [parent('grpc')],
        rules: [
          {
            matches: [{ method: { service: 'echo.Echo', method: 'Say' } }, { method: { service: 'echo.Echo' } }, { method: { method: 'Say' } }, { method: { type: 'RegularExpression' as const, service: 'echo\\..*' } }],
            backendRefs: toV1,
          },
        ],
      },
    };
    const r = build({ gateway: gw, routes: { grpc: [route] } });
    const [rule] = httpRules(r.spec?.ports);
    expect(rule?.backendProtocol).toBe('h2c');
    expect(rule?.matches.map((m) => m.path)).toEqual([
      { type: 'Exact', value: '/echo.Echo/Say' },
      { type: 'PathPrefix', value: '/echo.Echo' },
      { type: 'RegularExpression', value: '/[^/]+/Say' },
      { type: 'RegularExpression', value: '/echo\\..*/[^/]+' },
    ]);
    expect(r.routes[0]?.parents[0]?.conditions[0]).toMatchObject({ status: 'True', observedGeneration: 2 });
  });

  it('TLS passthrough by SNI, TCP and UDP routes each reach their port, with TCP/UDP target sets', () => {
    const gw = gateway('l4', [
      { name: 'tls', port: 443, protocol: 'TLS', hostname: '*.example.com', tls: { mode: 'Passthrough' } },
      { name: 'tcp', port: 5432, protocol: 'TCP' },
      { name: 'udp', port: 53, protocol: 'UDP' },
    ]);
    const dns = { metadata: { name: 'dns', namespace: INFRA }, spec: { ports: [{ port: 53, protocol: 'UDP' }] } };
    const meta = (name: string) => ({ name, namespace: INFRA, creationTimestamp: '2026-01-01T00:00:00Z' as never });
    const r = build({
      gateway: gw,
      services: [{ metadata: { name: 'infra-backend-v1', namespace: INFRA }, spec: { ports: [{ port: 8080 }] } }, dns],
      routes: {
        tls: [{ metadata: meta('tls'), spec: { parentRefs: [parent('l4')], hostnames: ['a.example.com'], rules: [{ backendRefs: toV1 }] } }],
        tcp: [{ metadata: meta('tcp'), spec: { parentRefs: [parent('l4')], rules: [{ backendRefs: toV1 }] } }],
        udp: [
          { metadata: meta('udp'), spec: { parentRefs: [parent('l4')], rules: [{ backendRefs: [{ name: 'dns', port: 53 }] }] } },
          { metadata: meta('udp-to-tcp'), spec: { parentRefs: [parent('l4')], rules: [{ backendRefs: toV1 }] } },
        ],
      },
    });
    expect(r.spec?.ports).toMatchObject([
      { protocol: 'UDP', port: 53, listener: 'udp', rules: [{ backends: [{ targetSet: `${INFRA}/dns:53/UDP` }] }, { backends: [{ weight: 1 }] }] },
      { protocol: 'TLS', port: 443, listeners: [{ name: 'tls', mode: 'Passthrough', rules: [{ hostnames: ['a.example.com'], backends: [{ targetSet: `${INFRA}/infra-backend-v1:8080/TCP` }] }] }] },
      { protocol: 'TCP', port: 5432, listener: 'tcp', rules: [{ backends: [{ targetSet: `${INFRA}/infra-backend-v1:8080/TCP` }] }] },
    ]);
    expect(routeConditions(r, 'udp-to-tcp').ResolvedRefs).toEqual({ status: 'False', reason: 'UnsupportedProtocol' });
    expect(r.spec?.targetSets.map((t) => [t.name, t.protocol, t.healthCheck.protocol])).toEqual([
      [`${INFRA}/dns:53/UDP`, 'UDP', 'TCP'],
      [`${INFRA}/infra-backend-v1:8080/TCP`, 'TCP', 'TCP'],
    ]);
  });
});

describe('spec.addresses (GatewayStaticAddresses)', () => {
  it('IP addresses become requestedAddresses; a Hostname address is UnsupportedAddress', () => {
    expect(build({ gateway: gateway('a', [httpListener()], { addresses: [{ type: 'IPAddress', value: '192.0.2.10' }] }) }).spec?.requestedAddresses).toEqual(['192.0.2.10']);
    const r = build({ gateway: gateway('a', [httpListener()], { addresses: [{ type: 'Hostname', value: 'lb.example.com' }] }) });
    expect(r.accepted).toMatchObject({ status: 'False', reason: 'UnsupportedAddress' });
    expect(r.spec).toBeUndefined();
  });

  it('a NamedAddress (GKE: a reserved static IP by name) reaches a provider that takes them as namedAddresses, and is UnsupportedAddress for one that does not', () => {
    const named = gateway('a', [httpListener()], { addresses: [{ type: 'NamedAddress', value: 'shop-ip' }] });
    const base = gatewayProvider(GCE_GATEWAY_FEATURES);
    const taker = { ...base, capabilities: { ...base.capabilities, gatewayNamedAddresses: true } };
    const r = build({ gateway: named, provider: taker });
    expect(r.accepted).toMatchObject({ status: 'True' });
    expect(r.spec).toMatchObject({ namedAddresses: ['shop-ip'], requestedAddresses: [], ipFamilies: ['IPv4'] });
    // Without GatewayStaticAddresses an IP address is still refused, NamedAddress or not.
    const ip = build({ gateway: gateway('a', [httpListener()], { addresses: [{ type: 'IPAddress', value: '192.0.2.10' }] }), provider: taker });
    expect(ip.accepted).toMatchObject({ status: 'False', reason: 'UnsupportedAddress', message: expect.stringMatching(/GatewayStaticAddresses/) as unknown });
    const refused = build({ gateway: named, provider: base });
    expect(refused.accepted).toMatchObject({ status: 'False', reason: 'UnsupportedAddress' });
    expect(refused.spec).toBeUndefined();
  });
});
