// More of the Gateway API conformance suite (gateway-api v1.4.0, conformance/tests/*.go and
// *.yaml) repeated on the builder: each describe is named after the upstream test whose
// manifests it reproduces and whose status expectations it asserts. The table of every
// test of the profiles lbc claims, and where each is repeated, is gateway-conformance.md
// beside this file; gateway-model.test.ts holds the first ones.
import { describe, expect, it } from 'vitest';
import type { Gateway, GatewayListener, TLSRoute } from '../../src/kube/gateway-api.js';
import type { GatewayPort, HttpRouteRule } from '../../src/model/gateway.js';
import { GATEWAY_FEATURES } from '../../src/model/gateway-features.js';
import { service, slice } from './fixtures.js';
import { build, gateway, gatewayProvider, grant, httpListener, httpRoute, INFRA, listenerConditions, parent, routeConditions, WEB } from './gateway/fixtures.js';

const toV1 = [{ name: 'infra-backend-v1', port: 8080 }];
const sameNamespace = gateway('same-namespace', [httpListener()]);

function httpRules(ports: readonly GatewayPort[] | undefined, port = 80, listener?: string): HttpRouteRule[] {
  const p = ports?.find((x) => x.port === port && (x.protocol === 'HTTP' || x.protocol === 'HTTPS'));
  if (!p || (p.protocol !== 'HTTP' && p.protocol !== 'HTTPS')) throw new Error(`no HTTP port ${port}`);
  return p.listeners.filter((l) => listener === undefined || l.name === listener).flatMap((l) => l.rules);
}

const tlsRoute = (name: string, spec: NonNullable<TLSRoute['spec']>, namespace = INFRA): TLSRoute => ({
  apiVersion: 'gateway.networking.k8s.io/v1alpha2',
  kind: 'TLSRoute',
  metadata: { name, namespace, uid: `uid-${name}`, generation: 1, creationTimestamp: '2026-01-01T00:00:00Z' as never },
  spec,
});
const tlsBackend = { metadata: { name: 'tls-backend', namespace: INFRA }, spec: { ports: [{ port: 443, protocol: 'TCP' }] } };
const tlsBackendElsewhere = { metadata: { name: 'tls-backend', namespace: WEB }, spec: { ports: [{ port: 443, protocol: 'TCP' }] } };

const bumped = (gw: Gateway, listeners: GatewayListener[]): Gateway => ({ ...gw, metadata: { ...gw.metadata, generation: (gw.metadata?.generation ?? 1) + 1 }, spec: { ...gw.spec, gatewayClassName: gw.spec?.gatewayClassName ?? '', listeners } });

describe('GatewayObservedGenerationBump', () => {
  it('after a listener is added (generation 2) the Gateway and every listener condition carry observedGeneration 2', () => {
    const gw = gateway('gateway-observed-generation-bump', [httpListener({ name: 'http', allowedRoutes: { namespaces: { from: 'All' } } })]);
    const before = build({ gateway: gw });
    expect(before.accepted.observedGeneration).toBe(1);
    const after = build({ gateway: bumped(gw, [...(gw.spec?.listeners ?? []), httpListener({ name: 'http-new', port: 8000, allowedRoutes: { namespaces: { from: 'All' } } })]) });
    expect(after.accepted).toMatchObject({ status: 'True', observedGeneration: 2 });
    expect(after.listeners.flatMap((l) => l.conditions.map((c) => c.observedGeneration))).toEqual(Array(6).fill(2));
  });
});

describe('GatewayModifyListeners', () => {
  const gw = gateway('gateway-add-listener', [httpListener({ name: 'http', allowedRoutes: { namespaces: { from: 'All' } } })]);
  const route = httpRoute('http-route', { parentRefs: [parent('gateway-add-listener')], rules: [{ backendRefs: toV1 }] });

  it('a listener added to the Gateway gets its status (Accepted, ResolvedRefs, supportedKinds) and the route attaches to it too', () => {
    const added = bumped(gw, [...(gw.spec?.listeners ?? []), { name: 'https', port: 443, protocol: 'HTTPS', hostname: 'secure.test.com', allowedRoutes: { namespaces: { from: 'All' } }, tls: { certificateRefs: [{ name: 'tls-validity-checks-certificate' }] } }]);
    const r = build({ gateway: added, routes: { http: [route] } });
    expect(r.listeners.map((l) => l.name)).toEqual(['http', 'https']);
    expect(listenerConditions(r, 'https')).toMatchObject({ Accepted: { status: 'True', reason: 'Accepted' }, ResolvedRefs: { status: 'True', reason: 'ResolvedRefs' } });
    expect(r.listeners[1]?.supportedKinds).toEqual(['HTTPRoute', 'GRPCRoute']);
    expect(Object.fromEntries(r.attachedRoutes)).toEqual({ http: 1, https: 1 });
    expect(r.spec?.ports.map((p) => `${p.protocol}/${p.port}`)).toEqual(['HTTP/80', 'HTTPS/443']);
  });

  it('a listener removed from the Gateway leaves the status and the load balancer', () => {
    const two = gateway('gateway-remove-listener', [httpListener({ name: 'http' }), httpListener({ name: 'http-8080', port: 8080 })]);
    const removed = bumped(two, [httpListener({ name: 'http-8080', port: 8080 })]);
    const r = build({ gateway: removed, routes: { http: [httpRoute('http-route', { parentRefs: [parent('gateway-remove-listener')], rules: [{ backendRefs: toV1 }] })] } });
    expect(r.listeners.map((l) => l.name)).toEqual(['http-8080']);
    expect(Object.fromEntries(r.attachedRoutes)).toEqual({ 'http-8080': 1 });
    expect(r.spec?.ports.map((p) => `${p.protocol}/${p.port}`)).toEqual(['HTTP/8080']);
  });
});

describe('GatewayWithAttachedRoutesWithPort8080', () => {
  it('a route attaches to a listener on port 8080, which is served there', () => {
    const gw = gateway('gateway-with-one-attached-route-on-port-8080', [httpListener({ name: 'http', port: 8080, hostname: 'foo.example.com' })]);
    const r = build({ gateway: gw, routes: { http: [httpRoute('http-route-1', { parentRefs: [parent(gw.metadata?.name ?? '', { sectionName: 'http' })], rules: [{ backendRefs: toV1 }] })] } });
    expect(r.attachedRoutes.get('http')).toBe(1);
    const p = r.spec?.ports.find((x) => x.port === 8080);
    // A rule without hostnames of its own serves the listener's (model/gateway.ts).
    expect(p?.protocol === 'HTTP' && p.listeners.map((l) => [l.hostname, l.rules.map((x) => [x.origin.name, x.hostnames])])).toEqual([['foo.example.com', [['http-route-1', []]]]]);
  });
});

describe('HTTPRouteObservedGenerationBump', () => {
  it("the route's conditions follow its generation", () => {
    const route = httpRoute('observed-generation-bump', { parentRefs: [parent('same-namespace')], rules: [{ backendRefs: toV1 }] });
    const next = { ...route, metadata: { ...route.metadata, generation: 2 }, spec: { ...route.spec, rules: [{ backendRefs: [{ name: 'infra-backend-v2', port: 8080 }] }] } };
    for (const [r, generation] of [[route, 1], [next, 2]] as const) {
      const built = build({ gateway: sameNamespace, routes: { http: [r] } });
      expect(built.routes[0]?.parents[0]?.conditions.map((c) => [c.type, c.status, c.observedGeneration])).toEqual([
        ['Accepted', 'True', generation],
        ['ResolvedRefs', 'True', generation],
      ]);
    }
  });
});

describe('HTTPRouteServiceTypes', () => {
  it('a headless Service, and one whose EndpointSlices are written by hand (no selector), are served through their endpoints', () => {
    const ports = [{ name: 'http', port: 8080, targetPort: 3000 }];
    const headless = service('infra-backend-v1-headless', { clusterIP: 'None', selector: { app: 'infra-backend-v1' }, ports }, undefined, INFRA);
    const manual = service('infra-backend-v1-endpointslice', { ports }, undefined, INFRA);
    const slices = [
      slice('infra-backend-v1-headless', [{ name: 'http', port: 3000 }], [{ ip: '10.0.1.1' }], { namespace: INFRA }),
      slice('infra-backend-v1-endpointslice', [{ name: 'http', port: 3000 }], [{ ip: '10.0.1.2' }], { namespace: INFRA, name: 'manual-slice' }),
    ];
    const route = (n: string, backend: string) => httpRoute(n, { parentRefs: [parent('same-namespace')], rules: [{ matches: [{ path: { type: 'PathPrefix', value: `/${n}` } }], backendRefs: [{ name: backend, port: 8080 }] }] });
    const r = build({ gateway: sameNamespace, services: [headless, manual], endpointSlices: slices, routes: { http: [route('headless', headless.metadata?.name ?? ''), route('manual', manual.metadata?.name ?? '')] } });
    expect(routeConditions(r, 'headless').ResolvedRefs).toEqual({ status: 'True', reason: 'ResolvedRefs' });
    expect(routeConditions(r, 'manual').ResolvedRefs).toEqual({ status: 'True', reason: 'ResolvedRefs' });
    expect(r.spec?.targetSets.map((t) => [t.name, t.type, t.type === 'ip' ? t.targets.map((x) => `${x.ip}:${x.port}`) : []])).toEqual([
      [`${INFRA}/infra-backend-v1-endpointslice:8080`, 'ip', ['10.0.1.2:3000']],
      [`${INFRA}/infra-backend-v1-headless:8080`, 'ip', ['10.0.1.1:3000']],
    ]);
  });
});

describe('HTTPRouteInvalidNonExistentBackendRef', () => {
  it('a backendRef to a Service that does not exist is ResolvedRefs False BackendNotFound; the route is Accepted and its requests answer 500', () => {
    const route = httpRoute('invalid-nonexistent-backend-ref', { parentRefs: [parent('same-namespace')], rules: [{ backendRefs: [{ name: 'nonexistent', port: 8080 }] }] });
    const r = build({ gateway: sameNamespace, routes: { http: [route] } });
    expect(routeConditions(r, 'invalid-nonexistent-backend-ref')).toEqual({ Accepted: { status: 'True', reason: 'Accepted' }, ResolvedRefs: { status: 'False', reason: 'BackendNotFound' } });
    expect(httpRules(r.spec?.ports)[0]?.backends).toEqual([{ weight: 1, filters: [] }]);
  });
});

describe('HTTPRouteInvalidBackendRefUnknownKind', () => {
  it('a backendRef of an unknown group and kind (even across namespaces) is InvalidKind; its requests answer 500', () => {
    const route = httpRoute('invalid-cross-namespace-backend-ref', {
      parentRefs: [parent('same-namespace')],
      rules: [{ backendRefs: [{ group: 'unknownkind.example.com', kind: 'NonExistent', name: 'web-backend', namespace: WEB, port: 8080 }] }],
    });
    const r = build({ gateway: sameNamespace, routes: { http: [route] } });
    expect(routeConditions(r, 'invalid-cross-namespace-backend-ref')).toEqual({ Accepted: { status: 'True', reason: 'Accepted' }, ResolvedRefs: { status: 'False', reason: 'InvalidKind' } });
    expect(httpRules(r.spec?.ports)[0]?.backends[0]?.targetSet).toBeUndefined();
  });
});

describe('HTTPRouteInvalidCrossNamespaceParentRef', () => {
  it('a route in another namespace naming a listener that allows only Same is NotAllowedByListeners and not attached', () => {
    const route = httpRoute('invalid-cross-namespace-parent-ref', { parentRefs: [parent('same-namespace', { namespace: INFRA })], rules: [{ backendRefs: [{ name: 'web-backend', port: 8080 }] }] }, WEB);
    const r = build({ gateway: sameNamespace, routes: { http: [route] } });
    expect(routeConditions(r, 'invalid-cross-namespace-parent-ref').Accepted).toEqual({ status: 'False', reason: 'NotAllowedByListeners' });
    expect(r.attachedRoutes.get('http')).toBe(0);
    expect(httpRules(r.spec?.ports)).toEqual([]);
  });
});

describe('HTTPRouteInvalidParentRefSectionNameNotMatchingPort', () => {
  it('a parentRef whose sectionName exists but whose port is not that listener\'s is NoMatchingParent', () => {
    const gw = gateway('httproute-listener-not-matching-route-port', [httpListener({ name: 'http', port: 80 }), httpListener({ name: 'http-8080', port: 8080 })]);
    const route = httpRoute('httproute-listener-not-matching-route-port', { parentRefs: [parent(gw.metadata?.name ?? '', { sectionName: 'http', port: 8080 })], rules: [{ backendRefs: toV1 }] });
    const r = build({ gateway: gw, routes: { http: [route] } });
    expect(routeConditions(r, 'httproute-listener-not-matching-route-port').Accepted).toEqual({ status: 'False', reason: 'NoMatchingParent' });
    expect(Object.fromEntries(r.attachedRoutes)).toEqual({ http: 0, 'http-8080': 0 });
  });
});

describe('HTTPRouteListenerPortMatching', () => {
  it('a parentRef with a port attaches to the listeners on that port only', () => {
    const gw = gateway('httproute-listener-port-matching', [
      httpListener({ name: 'http-80', port: 80 }),
      httpListener({ name: 'http-8080', port: 8080, hostname: 'foo.com' }),
      httpListener({ name: 'http-8080-bar', port: 8080, hostname: 'bar.com' }),
      httpListener({ name: 'http-8090', port: 8090 }),
    ]);
    const name = gw.metadata?.name ?? '';
    const routes = [
      httpRoute('backend-v1', { parentRefs: [parent(name, { port: 80 })], rules: [{ backendRefs: toV1 }] }),
      httpRoute('backend-v2', { parentRefs: [parent(name, { port: 8080 })], rules: [{ backendRefs: [{ name: 'infra-backend-v2', port: 8080 }] }] }),
      httpRoute('backend-v3', { parentRefs: [parent(name, { port: 8090, sectionName: 'http-8090' })], rules: [{ backendRefs: [{ name: 'infra-backend-v3', port: 8080 }] }] }),
    ];
    const r = build({ gateway: gw, routes: { http: routes } });
    expect(Object.fromEntries(r.attachedRoutes)).toEqual({ 'http-80': 1, 'http-8080': 1, 'http-8080-bar': 1, 'http-8090': 1 });
    expect(httpRules(r.spec?.ports, 80).map((x) => x.origin.name)).toEqual(['backend-v1']);
    const p8080 = r.spec?.ports.find((x) => x.port === 8080);
    expect(p8080?.protocol === 'HTTP' && p8080.listeners.map((l) => [l.name, l.hostname, l.rules.map((x) => x.origin.name)])).toEqual([
      ['http-8080', 'foo.com', ['backend-v2']],
      ['http-8080-bar', 'bar.com', ['backend-v2']],
    ]);
    expect(httpRules(r.spec?.ports, 8090).map((x) => x.origin.name)).toEqual(['backend-v3']);
  });
});

describe('HTTPRouteDisallowedKind', () => {
  it('an HTTPRoute naming a Gateway whose only listener allows TLSRoutes is NotAllowedByListeners', () => {
    const gw = gateway('tlsroutes-only', [{ name: 'tls', port: 443, protocol: 'TLS', tls: { mode: 'Passthrough' }, allowedRoutes: { namespaces: { from: 'Same' }, kinds: [{ kind: 'TLSRoute' }] } }]);
    const r = build({ gateway: gw, routes: { http: [httpRoute('disallowed-kind', { parentRefs: [parent('tlsroutes-only', { namespace: INFRA })], rules: [{ backendRefs: toV1 }] })] } });
    expect(r.listeners[0]?.supportedKinds).toEqual(['TLSRoute']);
    expect(routeConditions(r, 'disallowed-kind').Accepted).toEqual({ status: 'False', reason: 'NotAllowedByListeners' });
    expect(r.attachedRoutes.get('tls')).toBe(0);
  });
});

describe('GRPCRouteListenerHostnameMatching', () => {
  it('GRPCRoutes bound by sectionName take each listener hostname, as HTTPRoutes do', () => {
    const gw = gateway('grpcroute-listener-hostname-matching', [
      httpListener({ name: 'listener-1', hostname: 'bar.com' }),
      httpListener({ name: 'listener-2', hostname: 'foo.bar.com' }),
      httpListener({ name: 'listener-3', hostname: '*.bar.com' }),
      httpListener({ name: 'listener-4', hostname: '*.foo.com' }),
    ]);
    const name = gw.metadata?.name ?? '';
    const grpc = (n: string, sections: string[], backend: string) => ({
      metadata: { name: n, namespace: INFRA, generation: 1, creationTimestamp: '2026-01-01T00:00:00Z' as never },
      spec: { parentRefs: sections.map((s) => parent(name, { sectionName: s })), rules: [{ backendRefs: [{ name: backend, port: 8080 }] }] },
    });
    const r = build({ gateway: gw, routes: { grpc: [grpc('backend-v1', ['listener-1'], 'infra-backend-v1'), grpc('backend-v2', ['listener-2'], 'infra-backend-v2'), grpc('backend-v3', ['listener-3', 'listener-4'], 'infra-backend-v3')] } });
    const p = r.spec?.ports[0];
    expect(p?.protocol === 'HTTP' && p.listeners.map((l) => [l.name, l.rules.map((x) => [x.origin.name, x.backendProtocol])])).toEqual([
      ['listener-1', [['backend-v1', 'h2c']]],
      ['listener-2', [['backend-v2', 'h2c']]],
      ['listener-3', [['backend-v3', 'h2c']]],
      ['listener-4', [['backend-v3', 'h2c']]],
    ]);
  });
});

describe('GRPCRouteHeaderMatching', () => {
  it('metadata matches become header matches (names lower case), ANDed within a match, ORed across matches, beside the method match', () => {
    const route = {
      metadata: { name: 'grpc-header-matching', namespace: INFRA, generation: 1, creationTimestamp: '2026-01-01T00:00:00Z' as never },
      spec: {
        parentRefs: [parent('same-namespace')],
        rules: [
          { matches: [{ headers: [{ name: 'version', value: 'one' }] }], backendRefs: toV1 },
          { matches: [{ headers: [{ name: 'version', value: 'two' }] }], backendRefs: [{ name: 'infra-backend-v2', port: 8080 }] },
          { matches: [{ headers: [{ name: 'Version', value: 'three' }, { name: 'color', value: 'orange' }] }, { method: { service: 'echo.Echo' }, headers: [{ name: 'color', type: 'RegularExpression' as const, value: 'gr(e|a)y' }] }], backendRefs: [{ name: 'infra-backend-v3', port: 8080 }] },
        ],
      },
    };
    const rules = httpRules(build({ gateway: sameNamespace, routes: { grpc: [route] } }).spec?.ports);
    expect(rules.map((x) => x.matches.map((m) => [m.path?.value ?? '*', m.headers.map((h) => `${h.type}:${h.name}=${h.value}`)]))).toEqual([
      [['/', ['Exact:version=one']]],
      [['/', ['Exact:version=two']]],
      [
        ['/', ['Exact:version=three', 'Exact:color=orange']],
        ['/echo.Echo', ['RegularExpression:color=gr(e|a)y']],
      ],
    ]);
  });
});

describe('TLSRouteSimpleSameNamespace', () => {
  it('a TLSRoute with one hostname attaches to the Passthrough listener and is served by that SNI to the backend', () => {
    const gw = gateway('gateway-tlsroute', [{ name: 'https', port: 443, protocol: 'TLS', tls: { mode: 'Passthrough' }, allowedRoutes: { namespaces: { from: 'Same' } } }]);
    const route = tlsRoute('gateway-conformance-infra-test', { parentRefs: [parent('gateway-tlsroute')], hostnames: ['abc.example.com'], rules: [{ backendRefs: [{ name: 'tls-backend', port: 443 }] }] });
    const r = build({ gateway: gw, services: [tlsBackend], routes: { tls: [route] } });
    expect(routeConditions(r, 'gateway-conformance-infra-test')).toEqual({ Accepted: { status: 'True', reason: 'Accepted' }, ResolvedRefs: { status: 'True', reason: 'ResolvedRefs' } });
    expect(r.attachedRoutes.get('https')).toBe(1);
    expect(r.spec?.ports).toMatchObject([{ protocol: 'TLS', port: 443, listeners: [{ name: 'https', mode: 'Passthrough', rules: [{ hostnames: ['abc.example.com'], backends: [{ targetSet: `${INFRA}/tls-backend:443/TCP` }] }] }] }]);
  });
});

describe('TLSRouteInvalidReferenceGrant', () => {
  const gw = gateway('gateway-tlsroute-referencegrant', [{ name: 'https', port: 443, protocol: 'TLS', tls: { mode: 'Passthrough' }, allowedRoutes: { namespaces: { from: 'Same' } } }]);
  const route = tlsRoute('gateway-conformance-infra-test', {
    parentRefs: [parent('gateway-tlsroute-referencegrant')],
    hostnames: ['abc.example.com'],
    rules: [{ backendRefs: [{ name: 'tls-backend', namespace: WEB, port: 443 }] }],
  });

  it('a backend in another namespace with no ReferenceGrant for it is ResolvedRefs False RefNotPermitted; the route stays Accepted', () => {
    // The suite's grant is in the right namespace but for another Service.
    const r = build({ gateway: gw, services: [tlsBackendElsewhere], routes: { tls: [route] }, referenceGrants: [grant(WEB, { kind: 'TLSRoute', namespace: INFRA }, { kind: 'Service', name: 'not-tls-backend' })] });
    expect(routeConditions(r, 'gateway-conformance-infra-test')).toEqual({ Accepted: { status: 'True', reason: 'Accepted' }, ResolvedRefs: { status: 'False', reason: 'RefNotPermitted' } });
  });

  it('a grant for it resolves it', () => {
    const r = build({ gateway: gw, services: [tlsBackendElsewhere], routes: { tls: [route] }, referenceGrants: [grant(WEB, { kind: 'TLSRoute', namespace: INFRA }, { kind: 'Service', name: 'tls-backend' })] });
    expect(routeConditions(r, 'gateway-conformance-infra-test').ResolvedRefs).toEqual({ status: 'True', reason: 'ResolvedRefs' });
  });
});

describe('TLSRouteTerminateSimpleSameNamespace (TLSRouteModeTerminate)', () => {
  it('a TLSRoute on a Terminate listener is served with the listener certificate, to the backend as plain TCP', () => {
    const gw = gateway('gateway-tlsroute-terminate', [
      { name: 'tls', port: 443, protocol: 'TLS', hostname: 'abc.example.com', tls: { mode: 'Terminate', certificateRefs: [{ name: 'tls-validity-checks-certificate' }] }, allowedRoutes: { namespaces: { from: 'Same' } } },
    ]);
    const route = tlsRoute('tlsroute-terminated-test', { parentRefs: [parent('gateway-tlsroute-terminate')], hostnames: ['abc.example.com'], rules: [{ backendRefs: [{ name: 'tls-backend', port: 443 }] }] });
    const r = build({ gateway: gw, services: [tlsBackend], routes: { tls: [route] } });
    expect(routeConditions(r, 'tlsroute-terminated-test').Accepted).toEqual({ status: 'True', reason: 'Accepted' });
    const p = r.spec?.ports[0];
    expect(p?.protocol === 'TLS' && p.listeners.map((l) => [l.mode, l.certificates.length, l.rules.map((x) => x.backends[0]?.targetSet)])).toEqual([['Terminate', 1, [`${INFRA}/tls-backend:443/TCP`]]]);
  });
});

describe('GatewayHTTPSAndTLSPassthroughSamePort (provisional, after v1.4)', () => {
  const gw = gateway('gateway-https-tls-passthrough-same-port', [
    { name: 'https-terminate', port: 8884, protocol: 'HTTPS', hostname: '*.example.com', allowedRoutes: { namespaces: { from: 'Same' }, kinds: [{ kind: 'HTTPRoute' }] }, tls: { mode: 'Terminate', certificateRefs: [{ name: 'tls-validity-checks-certificate' }] } },
    { name: 'tls-passthrough', port: 8884, protocol: 'TLS', hostname: 'abc.example.com', allowedRoutes: { namespaces: { from: 'Same' }, kinds: [{ kind: 'TLSRoute' }] }, tls: { mode: 'Passthrough' } },
  ]);
  const routes = {
    http: [httpRoute('gateway-conformance-https-terminate', { parentRefs: [parent('gateway-https-tls-passthrough-same-port', { namespace: INFRA, sectionName: 'https-terminate' })], rules: [{ backendRefs: toV1 }] })],
    tls: [tlsRoute('gateway-conformance-tls-passthrough', { parentRefs: [parent('gateway-https-tls-passthrough-same-port', { namespace: INFRA, sectionName: 'tls-passthrough' })], hostnames: ['abc.example.com'], rules: [{ backendRefs: [{ name: 'tls-backend', port: 443 }] }] })],
  };

  it('both listeners are Accepted with one route each, and the port is one TLS port carrying the HTTPS listener', () => {
    const r = build({ gateway: gw, services: [tlsBackend, { metadata: { name: 'infra-backend-v1', namespace: INFRA }, spec: { ports: [{ port: 8080 }] } }], routes });
    expect(listenerConditions(r, 'https-terminate')).toMatchObject({ Accepted: { status: 'True', reason: 'Accepted' }, Conflicted: { status: 'False', reason: 'NoConflicts' } });
    expect(listenerConditions(r, 'tls-passthrough')).toMatchObject({ Accepted: { status: 'True', reason: 'Accepted' }, Conflicted: { status: 'False', reason: 'NoConflicts' } });
    expect(r.listeners.map((l) => [l.name, l.supportedKinds])).toEqual([
      ['https-terminate', ['HTTPRoute']],
      ['tls-passthrough', ['TLSRoute']],
    ]);
    expect(Object.fromEntries(r.attachedRoutes)).toEqual({ 'https-terminate': 1, 'tls-passthrough': 1 });
    expect(r.spec?.ports).toMatchObject([
      {
        protocol: 'TLS',
        port: 8884,
        listeners: [{ name: 'tls-passthrough', mode: 'Passthrough', rules: [{ hostnames: ['abc.example.com'] }] }],
        https: [{ name: 'https-terminate', hostname: '*.example.com', rules: [{ origin: { name: 'gateway-conformance-https-terminate' } }] }],
      },
    ]);
  });

  it('a provider that does not declare the feature keeps one protocol per port: the TLS listener is ProtocolConflict', () => {
    const r = build({ gateway: gw, provider: gatewayProvider(GATEWAY_FEATURES.filter((f) => f !== 'GatewayHTTPSAndTLSPassthroughSamePort')), services: [tlsBackend], routes });
    expect(listenerConditions(r, 'tls-passthrough').Conflicted).toEqual({ status: 'True', reason: 'ProtocolConflict' });
    expect(r.spec?.ports.map((p) => p.protocol)).toEqual(['HTTPS']);
  });

  it('the same hostname on both is still HostnameConflict', () => {
    const same = gateway('same-host', [
      { name: 'https', port: 8884, protocol: 'HTTPS', hostname: 'abc.example.com', tls: { certificateRefs: [{ name: 'tls-validity-checks-certificate' }] } },
      { name: 'tls', port: 8884, protocol: 'TLS', hostname: 'abc.example.com', tls: { mode: 'Passthrough' } },
    ]);
    expect(listenerConditions(build({ gateway: same }), 'tls').Conflicted).toEqual({ status: 'True', reason: 'HostnameConflict' });
  });
});
