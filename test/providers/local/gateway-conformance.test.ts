// The requests of Gateway API conformance tests (gateway-api v1.4.0, conformance/tests)
// for extended features lbc claims, sent through the local provider over real sockets:
// each describe is named after the upstream test and sends its requests with its expected
// answers. Rules are GatewaySpec as controller/gateway builds them (the builder side of the
// same tests is in test/controller/gateway-conformance.test.ts). LB pool 127.241.67.0/24,
// backends on 127.0.67.x.
import * as grpc from '@grpc/grpc-js';
import { request as httpsRequest } from 'node:https';
import { connect as tlsConnect, createServer as createTlsServer } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { selfSignedCert } from '../../../src/devcluster/tls.js';
import type { GatewayPort, HttpFilter, HttpRouteRule, WeightedBackend } from '../../../src/model/gateway.js';
import type { TargetSet } from '../../../src/model/spec.js';
import { gatewaySpec, httpBackend, httpGet, ipOf, ipSet, onCleanup, prefix, provider, to, waitFor, type Backend } from './support.js';
import { APP, build, services as baseServices, gateway as gatewayObject, httpListener, httpRoute, INFRA, ns, parent, WEB } from '../../controller/gateway/fixtures.js';
import { service, slice, tlsSecret } from '../../controller/fixtures.js';
import type { GatewayModelInput } from '../../../src/controller/gateway-model.js';
import type { V1Secret } from '@kubernetes/client-node';
import type { GatewayListener } from '../../../src/kube/gateway-api.js';
import type { LocalProvider } from '../../../src/providers/local/index.js';

const POOL = '127.241.67.0/24';
let nextIp = 1;
const backendIp = (): string => `127.0.67.${nextIp++}`;

const gateway = gatewaySpec;
const rule = (name: string, path: string, backends: WeightedBackend[], filters: HttpFilter[] = []): HttpRouteRule => ({
  origin: { kind: 'HTTPRoute', namespace: 'gateway-conformance-infra', name, creationTimestamp: '2026-01-01T00:00:00Z', ruleIndex: 0 },
  hostnames: [],
  matches: [prefix(path)],
  filters,
  backends,
  backendProtocol: 'http1',
});
const http = (port: number, rules: HttpRouteRule[]): GatewayPort => ({ protocol: 'HTTP', port, listeners: [{ name: 'http', rules }] });

async function httpSet(name: string): Promise<{ b: Backend; ts: TargetSet }> {
  const b = await httpBackend(name, backendIp());
  return { b, ts: ipSet(name, 'HTTP', [b.target]) };
}

/**
 * Runs the suite's manifests through the Gateway builder, with each base Service's
 * EndpointSlice pointing at a real backend here, and serves the result: the same path
 * from manifests to answers the suite exercises, minus the cluster.
 */
async function serveManifests(
  input: Partial<GatewayModelInput> & Pick<GatewayModelInput, 'gateway'>,
  backendNames: readonly string[],
  p?: LocalProvider,
): Promise<{ ip: string; backends: Map<string, Backend> }> {
  const backends = new Map<string, Backend>();
  const endpointSlices = [];
  for (const key of backendNames) {
    const [namespace, name] = key.includes('/') ? (key.split('/') as [string, string]) : [INFRA, key];
    const b = await httpBackend(name, backendIp());
    backends.set(key, b);
    endpointSlices.push(slice(name, [{ name: 'http', port: b.port }], [{ ip: b.host }], { namespace }));
  }
  const r = build({ ...input, endpointSlices });
  if (!r.spec) throw new Error(`the builder serves nothing: ${r.problem}`);
  return { ip: ipOf(await (p ?? (await provider({ addressPool: POOL }))).ensure(r.spec)), backends };
}

// The Gateways of the suite's base/manifests.yaml.
const sameNamespace = gatewayObject('same-namespace', [httpListener()]);
const backendNamespaces = gatewayObject('backend-namespaces', [httpListener({ allowedRoutes: { namespaces: { from: 'Selector', selector: { matchLabels: { 'gateway-conformance': 'backend' } } } } })]);
const tlsListener = (name: string, over: Partial<GatewayListener> = {}): GatewayListener =>
  httpListener({ name, port: 443, protocol: 'HTTPS', tls: { certificateRefs: [{ group: '', kind: 'Secret', name: 'tls-validity-checks-certificate' }] }, ...over });
const sameNamespaceWithHttps = gatewayObject('same-namespace-with-https-listener', [tlsListener('https'), tlsListener('https-with-hostname', { hostname: 'second-example.org' })]);
/** tls-validity-checks-certificate with a usable key pair: the fixture's PEM is only parsed by the builder. */
function validityChecksSecret(): V1Secret[] {
  const cert = selfSignedCert({ ips: [], dns: ['example.org', 'second-example.org'] }, 'tls-validity-checks-certificate');
  return [tlsSecret('tls-validity-checks-certificate', { crt: cert.certPem, key: cert.keyPem }, undefined, INFRA)];
}

/** One HTTPS request with its own SNI and Host, as the suite's tls.MakeTLSRequest… sends. */
function httpsGet(ip: string, path: string, servername: string, host: string): Promise<{ status: number; location: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest({ host: ip, port: 443, path, servername, headers: { host }, rejectUnauthorized: false, agent: false }, (res) => {
      let body = '';
      res.on('data', (x: Buffer) => (body += x.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, location: res.headers.location, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const baseNamespaces = [ns(INFRA, { 'gateway-conformance': 'infra' }), ns(APP, { 'gateway-conformance': 'backend' }), ns(WEB, { 'gateway-conformance': 'backend' })];

const seenBy = (body: string): { name: string; headers: Record<string, string> } => JSON.parse(body) as { name: string; headers: Record<string, string> };

describe('HTTPRouteRedirectPortAndScheme (HTTPRoutePortRedirect, HTTPRouteSchemeRedirect)', () => {
  it('the Location port is the asked one, else the scheme\'s well-known port, else the listener\'s; 80 with http and 443 with https are left out', async () => {
    const p = await provider({ addressPool: POOL });
    const redirect = (path: string, over: { scheme?: 'http' | 'https'; port?: number }): HttpRouteRule =>
      rule(path.slice(1), path, [], [{ type: 'RequestRedirect', hostname: 'example.org', statusCode: 302, ...over }]);
    const rules = [
      redirect('/scheme-nil-and-port-nil', {}),
      redirect('/scheme-nil-and-port-80', { port: 80 }),
      redirect('/scheme-nil-and-port-8080', { port: 8080 }),
      redirect('/scheme-http-and-port-nil', { scheme: 'http' }),
      redirect('/scheme-https-and-port-nil', { scheme: 'https' }),
      redirect('/scheme-https-and-port-443', { scheme: 'https', port: 443 }),
      redirect('/scheme-https-and-port-8443', { scheme: 'https', port: 8443 }),
    ];
    // The listener is on 8090: a port lbc must not mistake for a well-known one.
    const ip = ipOf(await p.ensure(gateway([http(8090, rules)], [])));
    const location = async (path: string): Promise<[number, string | undefined]> => {
      const r = await httpGet(ip, 8090, path, { host: 'redirect.example' });
      return [r.status, r.headers.location];
    };
    expect(await location('/scheme-nil-and-port-nil')).toEqual([302, 'http://example.org:8090/scheme-nil-and-port-nil']);
    expect(await location('/scheme-nil-and-port-80')).toEqual([302, 'http://example.org/scheme-nil-and-port-80']);
    expect(await location('/scheme-nil-and-port-8080')).toEqual([302, 'http://example.org:8080/scheme-nil-and-port-8080']);
    expect(await location('/scheme-http-and-port-nil')).toEqual([302, 'http://example.org/scheme-http-and-port-nil']);
    expect(await location('/scheme-https-and-port-nil')).toEqual([302, 'https://example.org/scheme-https-and-port-nil']);
    expect(await location('/scheme-https-and-port-443')).toEqual([302, 'https://example.org/scheme-https-and-port-443']);
    expect(await location('/scheme-https-and-port-8443')).toEqual([302, 'https://example.org:8443/scheme-https-and-port-8443']);
  });
});

describe('HTTPRouteRedirectPath (HTTPRoutePathRedirect)', () => {
  it('ReplacePrefixMatch keeps the rest of the path, ReplaceFullPath replaces it all, with the hostname and status asked', async () => {
    const p = await provider({ addressPool: POOL });
    const rules = [
      rule('prefix', '/original-prefix', [], [{ type: 'RequestRedirect', path: { type: 'ReplacePrefixMatch', value: '/replacement-prefix' }, statusCode: 302 }]),
      rule('full', '/full', [], [{ type: 'RequestRedirect', path: { type: 'ReplaceFullPath', value: '/full-path-replacement' }, statusCode: 302 }]),
      rule('path-and-host', '/path-and-host', [], [{ type: 'RequestRedirect', hostname: 'example.org', path: { type: 'ReplacePrefixMatch', value: '/replacement-prefix' }, statusCode: 302 }]),
      rule('path-and-status', '/path-and-status', [], [{ type: 'RequestRedirect', path: { type: 'ReplaceFullPath', value: '/replacement-full' }, statusCode: 301 }]),
    ];
    const ip = ipOf(await p.ensure(gateway([http(8090, rules)], [])));
    const location = async (path: string): Promise<[number, string | undefined]> => {
      const r = await httpGet(ip, 8090, path, { host: 'redirect.example:8090' });
      return [r.status, r.headers.location];
    };
    expect(await location('/original-prefix/lemon')).toEqual([302, 'http://redirect.example:8090/replacement-prefix/lemon']);
    expect(await location('/full/path/original')).toEqual([302, 'http://redirect.example:8090/full-path-replacement']);
    expect(await location('/path-and-host')).toEqual([302, 'http://example.org:8090/replacement-prefix']);
    expect(await location('/path-and-status')).toEqual([301, 'http://redirect.example:8090/replacement-full']);
  });
});

describe('HTTPRouteRequestMultipleMirrors', () => {
  it('every mirror backend sees each request; the client gets the primary answer', async () => {
    const p = await provider({ addressPool: POOL });
    const [primary, m1, m2] = await Promise.all(['infra-backend-v1', 'infra-backend-v2', 'infra-backend-v3'].map(httpSet));
    const rules = [
      rule('mirror', '/multi-mirror', [to('infra-backend-v1')], [
        { type: 'RequestMirror', targetSet: 'infra-backend-v2', percent: 100 },
        { type: 'RequestMirror', targetSet: 'infra-backend-v3', percent: 100 },
      ]),
    ];
    const ip = ipOf(await p.ensure(gateway([http(8080, rules)], [primary!.ts, m1!.ts, m2!.ts])));
    for (let i = 0; i < 5; i++) {
      const r = await httpGet(ip, 8080, '/multi-mirror', { host: 'mirror.example' });
      expect([r.status, seenBy(r.body).name]).toEqual([200, 'infra-backend-v1']);
    }
    await waitFor(() => m1!.b.hits === 5 && m2!.b.hits === 5, 3_000, 'both mirrors to see the 5 requests');
    expect(primary!.b.hits).toBe(5);
  });
});

describe('HTTPRouteRequestPercentageMirror', () => {
  it('a mirror at 50% sees about half the requests, one at 0% none (within ±10% over 200)', async () => {
    const p = await provider({ addressPool: POOL });
    const [primary, half, none] = await Promise.all(['infra-backend-v1', 'infra-backend-v2', 'infra-backend-v3'].map(httpSet));
    const rules = [
      rule('half', '/percent-mirror', [to('infra-backend-v1')], [{ type: 'RequestMirror', targetSet: 'infra-backend-v2', percent: 50 }]),
      rule('none', '/zero-mirror', [to('infra-backend-v1')], [{ type: 'RequestMirror', targetSet: 'infra-backend-v3', percent: 0 }]),
    ];
    const ip = ipOf(await p.ensure(gateway([http(8080, rules)], [primary!.ts, half!.ts, none!.ts])));
    for (let i = 0; i < 200; i += 20) await Promise.all(Array.from({ length: 20 }, () => httpGet(ip, 8080, '/percent-mirror', { host: 'mirror.example' })));
    for (let i = 0; i < 20; i++) await httpGet(ip, 8080, '/zero-mirror', { host: 'mirror.example' });
    // Mirrored requests are fire-and-forget: wait until the count stops moving.
    let last = -1;
    await waitFor(async () => {
      const now = half!.b.hits;
      const settled = now === last;
      last = now;
      await new Promise((r) => setTimeout(r, 250));
      return settled;
    }, 10_000, 'the mirrored count to settle');
    expect(Math.abs(half!.b.hits / 200 - 0.5)).toBeLessThanOrEqual(0.1);
    expect(none!.b.hits).toBe(0);
    expect(primary!.b.hits).toBe(220);
  });
});

describe('HTTPRouteBackendRequestHeaderModifier', () => {
  it('a backendRef filter modifies the request only when that backend is chosen; the rule filter applies to both', async () => {
    const p = await provider({ addressPool: POOL });
    const [v1, v2] = await Promise.all(['infra-backend-v1', 'infra-backend-v2'].map(httpSet));
    const rules = [
      rule(
        'backend-filter',
        '/',
        [
          to('infra-backend-v1', 1, [{ type: 'RequestHeaderModifier', set: [{ name: 'X-Backend', value: 'v1' }], add: [], remove: [] }]),
          to('infra-backend-v2', 1, [{ type: 'RequestHeaderModifier', set: [], add: [], remove: ['x-drop'] }]),
        ],
        [{ type: 'RequestHeaderModifier', set: [{ name: 'X-Rule', value: 'both' }], add: [], remove: [] }],
      ),
    ];
    const ip = ipOf(await p.ensure(gateway([http(8080, rules)], [v1!.ts, v2!.ts])));
    const seen = new Map<string, Record<string, string>>();
    for (let i = 0; i < 40 && seen.size < 2; i++) {
      const s = seenBy((await httpGet(ip, 8080, '/', { host: 'b.example', 'x-drop': 'here', 'x-backend': 'client' })).body);
      seen.set(s.name, s.headers);
    }
    expect(seen.get('infra-backend-v1')).toMatchObject({ 'x-backend': 'v1', 'x-drop': 'here', 'x-rule': 'both' });
    expect(seen.get('infra-backend-v2')).toMatchObject({ 'x-backend': 'client', 'x-rule': 'both' });
    expect(seen.get('infra-backend-v2')?.['x-drop']).toBeUndefined();
  });
});

describe('GatewayHTTPSAndTLSPassthroughSamePort', () => {
  it('one port: SNI other.example.com is terminated by the HTTPS listener (*.example.com) and routed; abc.example.com passes through to the backend\'s own certificate', async () => {
    const p = await provider({ addressPool: POOL });
    const gatewayCert = selfSignedCert({ ips: [], dns: ['other.example.com'] }, 'tls-checks-certificate');
    const backendCert = selfSignedCert({ ips: [], dns: ['abc.example.com'] }, 'tcp-backend-own');
    const web = await httpSet('infra-backend-v1');
    const tlsBackendIp = backendIp();
    const tlsServer = createTlsServer({ cert: backendCert.certPem, key: backendCert.keyPem }, (s) => {
      s.on('data', (d: Buffer) => s.write(`tcp-backend:${d.toString()}`));
      s.on('error', () => s.destroy());
    });
    await new Promise<void>((resolve) => tlsServer.listen(0, tlsBackendIp, resolve));
    onCleanup(() => new Promise((resolve) => tlsServer.close(resolve)));
    const tlsPort = (tlsServer.address() as { port: number }).port;
    const port: GatewayPort = {
      protocol: 'TLS',
      port: 8884,
      listeners: [
        {
          name: 'tls-passthrough',
          hostname: 'abc.example.com',
          mode: 'Passthrough',
          certificates: [],
          rules: [{ origin: { kind: 'TLSRoute', namespace: 'gateway-conformance-infra', name: 'gateway-conformance-tls-passthrough', creationTimestamp: '2026-01-01T00:00:00Z', ruleIndex: 0 }, hostnames: ['abc.example.com'], backends: [to('tcp-backend')] }],
        },
      ],
      https: [
        {
          name: 'https-terminate',
          hostname: '*.example.com',
          certificates: [{ source: 'secret', secretRef: { namespace: 'gateway-conformance-infra', name: 'tls-checks-certificate' }, hosts: ['*.example.com'], certPem: gatewayCert.certPem, keyPem: gatewayCert.keyPem }],
          rules: [rule('gateway-conformance-https-terminate', '/', [to('infra-backend-v1')])],
        },
      ],
    };
    const ip = ipOf(await p.ensure(gateway([port], [web!.ts, ipSet('tcp-backend', 'TCP', [{ ip: tlsBackendIp, port: tlsPort }])])));

    const https = await new Promise<{ cn: string; status: number; backend: string }>((resolve, reject) => {
      const req = httpsRequest({ host: ip, port: 8884, path: '/', servername: 'other.example.com', headers: { host: 'other.example.com' }, rejectUnauthorized: false, agent: false }, (res) => {
        const cn = String((res.socket as unknown as { getPeerCertificate(): { subject?: { CN?: string } } }).getPeerCertificate().subject?.CN);
        let body = '';
        res.on('data', (x: Buffer) => (body += x.toString()));
        res.on('end', () => resolve({ cn, status: res.statusCode ?? 0, backend: seenBy(body).name }));
      });
      req.on('error', reject);
      req.end();
    });
    expect(https).toEqual({ cn: 'tls-checks-certificate', status: 200, backend: 'infra-backend-v1' });

    const passthrough = await new Promise<{ cn: string; line: string }>((resolve, reject) => {
      const s = tlsConnect({ host: ip, port: 8884, servername: 'abc.example.com', rejectUnauthorized: false }, () => {
        const cn = String(s.getPeerCertificate().subject?.CN);
        s.once('data', (d: Buffer) => {
          s.end();
          resolve({ cn, line: d.toString() });
        });
        s.write('hello');
      });
      s.on('error', reject);
    });
    expect(passthrough).toEqual({ cn: 'tcp-backend-own', line: 'tcp-backend:hello' });
  });
});

describe('HTTPRouteCrossNamespace', () => {
  it('a route in gateway-conformance-web-backend attached to backend-namespaces sends / to web-backend in its own namespace', async () => {
    const route = httpRoute('cross-namespace', { parentRefs: [parent('backend-namespaces', { namespace: INFRA })], rules: [{ backendRefs: [{ name: 'web-backend', port: 8080 }] }] }, WEB);
    const { ip } = await serveManifests({ gateway: backendNamespaces, routes: { http: [route] }, namespaces: baseNamespaces }, [`${WEB}/web-backend`]);
    const r = await httpGet(ip, 80, '/');
    expect([r.status, seenBy(r.body).name]).toEqual([200, 'web-backend']);
  });
});

describe('HTTPRouteExactPathMatching (upstream short name HTTPExactPathMatching)', () => {
  it('exact-matching: /one and /two reach v1 and v2; /, /one/example, /two/ and /Two are 404', async () => {
    const route = httpRoute('exact-matching', {
      parentRefs: [parent('same-namespace')],
      rules: [
        { matches: [{ path: { type: 'Exact', value: '/one' } }], backendRefs: [{ name: 'infra-backend-v1', port: 8080 }] },
        { matches: [{ path: { type: 'Exact', value: '/two' } }], backendRefs: [{ name: 'infra-backend-v2', port: 8080 }] },
      ],
    });
    const { ip } = await serveManifests({ gateway: sameNamespace, routes: { http: [route] }, namespaces: baseNamespaces }, ['infra-backend-v1', 'infra-backend-v2']);
    const answer = async (path: string): Promise<[number, string | undefined]> => {
      const r = await httpGet(ip, 80, path);
      return [r.status, r.status === 200 ? seenBy(r.body).name : undefined];
    };
    expect(await answer('/one')).toEqual([200, 'infra-backend-v1']);
    expect(await answer('/two')).toEqual([200, 'infra-backend-v2']);
    for (const path of ['/', '/one/example', '/two/', '/Two']) expect([path, ...(await answer(path))]).toEqual([path, 404, undefined]);
  });
});

describe('HTTPRouteRedirectPortAndScheme, the suite\'s three Gateways (same-namespace, …-with-http-listener-on-8080, …-with-https-listener)', () => {
  it('each route\'s Location: the asked port, else the scheme\'s well-known one, else the listener\'s; 80 with http and 443 with https left out', async () => {
    const p = await provider({ addressPool: POOL });
    const redirects = (route: string, gw: string, cases: [string, { scheme?: 'http' | 'https'; port?: number }][]) =>
      httpRoute(route, {
        parentRefs: [parent(gw)],
        rules: cases.map(([path, over]) => ({ matches: [{ path: { type: 'PathPrefix', value: path } }], filters: [{ type: 'RequestRedirect', requestRedirect: { hostname: 'example.org', ...over } }] })),
      });
    const on80 = redirects('http-route-for-listener-on-port-80', 'same-namespace', [
      ['/scheme-nil-and-port-nil', {}],
      ['/scheme-nil-and-port-80', { port: 80 }],
      ['/scheme-nil-and-port-8080', { port: 8080 }],
      ['/scheme-https-and-port-nil', { scheme: 'https' }],
      ['/scheme-https-and-port-443', { scheme: 'https', port: 443 }],
      ['/scheme-https-and-port-8443', { scheme: 'https', port: 8443 }],
    ]);
    const on8080 = redirects('http-route-for-listener-on-port-8080', 'same-namespace-with-http-listener-on-8080', [
      ['/scheme-nil-and-port-nil', {}],
      ['/scheme-nil-and-port-80', { port: 80 }],
      ['/scheme-https-and-port-nil', { scheme: 'https' }],
    ]);
    const on443 = redirects('http-route-for-listener-on-port-443', 'same-namespace-with-https-listener', [
      ['/scheme-nil-and-port-nil', {}],
      ['/scheme-nil-and-port-443', { port: 443 }],
      ['/scheme-nil-and-port-8443', { port: 8443 }],
      ['/scheme-http-and-port-nil', { scheme: 'http' }],
      ['/scheme-http-and-port-80', { scheme: 'http', port: 80 }],
      ['/scheme-http-and-port-8080', { scheme: 'http', port: 8080 }],
    ]);
    const gw8080 = gatewayObject('same-namespace-with-http-listener-on-8080', [httpListener({ port: 8080 })]);
    const ip80 = (await serveManifests({ gateway: sameNamespace, routes: { http: [on80] } }, [], p)).ip;
    const ip8080 = (await serveManifests({ gateway: gw8080, routes: { http: [on8080] } }, [], p)).ip;
    const ip443 = (await serveManifests({ gateway: sameNamespaceWithHttps, routes: { http: [on443] }, secrets: validityChecksSecret() }, [], p)).ip;

    const location = async (ip: string, port: number, path: string): Promise<[number, string | undefined]> => {
      const r = await httpGet(ip, port, path);
      return [r.status, r.headers.location];
    };
    expect(await location(ip80, 80, '/scheme-nil-and-port-nil')).toEqual([302, 'http://example.org/scheme-nil-and-port-nil']);
    expect(await location(ip80, 80, '/scheme-nil-and-port-80')).toEqual([302, 'http://example.org/scheme-nil-and-port-80']);
    expect(await location(ip80, 80, '/scheme-nil-and-port-8080')).toEqual([302, 'http://example.org:8080/scheme-nil-and-port-8080']);
    expect(await location(ip80, 80, '/scheme-https-and-port-nil')).toEqual([302, 'https://example.org/scheme-https-and-port-nil']);
    expect(await location(ip80, 80, '/scheme-https-and-port-443')).toEqual([302, 'https://example.org/scheme-https-and-port-443']);
    expect(await location(ip80, 80, '/scheme-https-and-port-8443')).toEqual([302, 'https://example.org:8443/scheme-https-and-port-8443']);

    expect(await location(ip8080, 8080, '/scheme-nil-and-port-nil')).toEqual([302, 'http://example.org:8080/scheme-nil-and-port-nil']);
    expect(await location(ip8080, 8080, '/scheme-nil-and-port-80')).toEqual([302, 'http://example.org/scheme-nil-and-port-80']);
    expect(await location(ip8080, 8080, '/scheme-https-and-port-nil')).toEqual([302, 'https://example.org/scheme-https-and-port-nil']);

    // The suite sends these over TLS with SNI and Host example.org.
    const tlsLocation = async (path: string): Promise<[number, string | undefined]> => {
      const r = await httpsGet(ip443, path, 'example.org', 'example.org');
      return [r.status, r.location];
    };
    expect(await tlsLocation('/scheme-nil-and-port-nil')).toEqual([302, 'https://example.org/scheme-nil-and-port-nil']);
    expect(await tlsLocation('/scheme-nil-and-port-443')).toEqual([302, 'https://example.org/scheme-nil-and-port-443']);
    expect(await tlsLocation('/scheme-nil-and-port-8443')).toEqual([302, 'https://example.org:8443/scheme-nil-and-port-8443']);
    expect(await tlsLocation('/scheme-http-and-port-nil')).toEqual([302, 'http://example.org/scheme-http-and-port-nil']);
    expect(await tlsLocation('/scheme-http-and-port-80')).toEqual([302, 'http://example.org/scheme-http-and-port-80']);
    expect(await tlsLocation('/scheme-http-and-port-8080')).toEqual([302, 'http://example.org:8080/scheme-http-and-port-8080']);
  });
});

describe('HTTPRouteHTTPSListener', () => {
  it('httproute-https-test (hostname example.org) and httproute-https-test-no-hostname (sectionName https-with-hostname) answer over TLS by SNI and Host; an unknown host is 404', async () => {
    const routes = [
      httpRoute('httproute-https-test', { parentRefs: [parent('same-namespace-with-https-listener')], hostnames: ['example.org'], rules: [{ backendRefs: [{ name: 'infra-backend-v1', port: 8080 }] }] }),
      httpRoute('httproute-https-test-no-hostname', { parentRefs: [parent('same-namespace-with-https-listener', { sectionName: 'https-with-hostname' })], rules: [{ backendRefs: [{ name: 'infra-backend-v1', port: 8080 }] }] }),
    ];
    const { ip } = await serveManifests({ gateway: sameNamespaceWithHttps, routes: { http: routes }, secrets: validityChecksSecret() }, ['infra-backend-v1']);
    const answer = async (sni: string, host: string): Promise<[number, string | undefined]> => {
      const r = await httpsGet(ip, '/', sni, host);
      return [r.status, r.status === 200 ? seenBy(r.body).name : undefined];
    };
    expect(await answer('example.org', 'example.org')).toEqual([200, 'infra-backend-v1']);
    // SNI selects the listener, Host the route within it: the catch-all listener has no route for second-example.org.
    expect(await answer('unknown-example.org', 'second-example.org')).toEqual([404, undefined]);
    expect(await answer('second-example.org', 'second-example.org')).toEqual([200, 'infra-backend-v1']);
    expect(await answer('unknown-example.org', 'unknown-example.org')).toEqual([404, undefined]);
  });
});

describe('GRPCRouteHeaderMatching', () => {
  // The suite's echo service; the body is JSON here since only the path and metadata route.
  const echo = '/gateway_api_conformance.echo_basic.grpcecho.GrpcEcho/Echo';
  const json = { serialize: (v: unknown) => Buffer.from(JSON.stringify(v)), deserialize: (b: Buffer) => JSON.parse(b.toString()) as { backend?: string } };

  async function grpcBackend(name: string): Promise<{ ip: string; port: number }> {
    const server = new grpc.Server();
    server.addService(
      { Echo: { path: echo, requestStream: false, responseStream: false, requestSerialize: json.serialize, requestDeserialize: json.deserialize, responseSerialize: json.serialize, responseDeserialize: json.deserialize } },
      { Echo: (_call: unknown, cb: grpc.sendUnaryData<unknown>) => cb(null, { backend: name }) },
    );
    const ip = backendIp();
    const port = await new Promise<number>((resolve, reject) => server.bindAsync(`${ip}:0`, grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
    onCleanup(() => new Promise<void>((resolve) => server.tryShutdown(() => resolve())));
    return { ip, port };
  }

  it('grpc-header-matching: each metadata set of the suite reaches its backend, or is Unimplemented when no rule matches', async () => {
    const to1 = [{ name: 'grpc-infra-backend-v1', port: 8080 }];
    const to2 = [{ name: 'grpc-infra-backend-v2', port: 8080 }];
    const h = (pairs: [string, string][]) => ({ headers: pairs.map(([name, value]) => ({ name, value })) });
    // grpcroute-header-matching.yaml: the rules of httproute-header-matching.yaml as metadata
    // matches, to grpc-infra-backend-v1/v2.
    const route = {
      metadata: { name: 'grpc-header-matching', namespace: INFRA, generation: 1, creationTimestamp: '2026-01-01T00:00:00Z' as never },
      spec: {
        parentRefs: [parent('same-namespace')],
        rules: [
          { matches: [h([['version', 'one']])], backendRefs: to1 },
          { matches: [h([['version', 'two']])], backendRefs: to2 },
          { matches: [h([['version', 'two'], ['color', 'orange']])], backendRefs: to1 },
          { matches: [h([['color', 'blue']]), h([['color', 'green']])], backendRefs: to1 },
          { matches: [h([['color', 'red']]), h([['color', 'yellow']])], backendRefs: to2 },
        ],
      },
    };
    const [v1, v2] = await Promise.all([grpcBackend('grpc-infra-backend-v1'), grpcBackend('grpc-infra-backend-v2')]);
    const grpcService = (name: string) => service(name, { type: 'ClusterIP', ports: [{ name: 'grpc', port: 8080, targetPort: 3000 as never, appProtocol: 'kubernetes.io/h2c' }] }, undefined, INFRA);
    const r = build({
      gateway: sameNamespace,
      routes: { grpc: [route] },
      services: [...baseServices, grpcService('grpc-infra-backend-v1'), grpcService('grpc-infra-backend-v2')],
      endpointSlices: [
        slice('grpc-infra-backend-v1', [{ name: 'grpc', port: v1!.port }], [{ ip: v1!.ip }], { namespace: INFRA }),
        slice('grpc-infra-backend-v2', [{ name: 'grpc', port: v2!.port }], [{ ip: v2!.ip }], { namespace: INFRA }),
      ],
    });
    if (!r.spec) throw new Error(`the builder serves nothing: ${r.problem}`);
    const ip = ipOf(await (await provider({ addressPool: POOL })).ensure(r.spec));
    const client = new grpc.Client(`${ip}:80`, grpc.credentials.createInsecure());
    onCleanup(() => client.close());
    const answer = (md: Record<string, string>) =>
      new Promise<string>((resolve) => {
        const metadata = new grpc.Metadata();
        for (const [k, v] of Object.entries(md)) metadata.set(k, v);
        client.makeUnaryRequest(echo, json.serialize, json.deserialize, {}, metadata, (e, v) => resolve(e ? `code ${grpc.status[e.code]}` : String(v?.backend)));
      });
    const cases: [Record<string, string>, string][] = [
      [{ Version: 'one' }, 'grpc-infra-backend-v1'],
      [{ Version: 'two' }, 'grpc-infra-backend-v2'],
      [{ Version: 'two', Color: 'orange' }, 'grpc-infra-backend-v1'],
      [{ Version: 'two', Color: 'blue' }, 'grpc-infra-backend-v2'],
      [{ Color: 'orange' }, 'code UNIMPLEMENTED'],
      [{ 'Some-Other-Header': 'one' }, 'code UNIMPLEMENTED'],
      [{ Color: 'blue' }, 'grpc-infra-backend-v1'],
      [{ Color: 'green' }, 'grpc-infra-backend-v1'],
      [{ Color: 'red' }, 'grpc-infra-backend-v2'],
      [{ Color: 'yellow' }, 'grpc-infra-backend-v2'],
      [{ Color: 'purple' }, 'code UNIMPLEMENTED'],
    ];
    for (const [md, expected] of cases) expect([md, await answer(md)]).toEqual([md, expected]);
  });
});

describe('HTTPRouteServiceTypes', () => {
  it('service-types: headless, manual Endpoints and manual EndpointSlices, with and without a cluster IP, all answer from infra-backend-v1', async () => {
    const names = ['manual-endpoints', 'manual-endpointslices', 'headless', 'headless-manual-endpoints', 'headless-manual-endpointslices'];
    const route = httpRoute('service-types', {
      parentRefs: [parent('same-namespace')],
      rules: names.map((n) => ({ matches: [{ path: { type: 'Exact' as const, value: `/${n}` } }], backendRefs: [{ name: n, port: 8080 }] })),
    });
    const ports = [{ name: 'first-port', protocol: 'TCP', port: 8080, targetPort: 3000 as never }];
    const svcs = names.map((n) => service(n, { ...(n.startsWith('headless') ? { clusterIP: 'None' } : {}), ...(n === 'headless' ? { selector: { app: 'infra-backend-v1' } } : {}), ports }, undefined, INFRA));
    const v1 = await httpBackend('infra-backend-v1', backendIp());
    // The pod's address in every slice: the EndpointSlice controller writes headless's, the
    // test writes the two manual slices, and the Endpoints of the *-manual-endpoints Services
    // reach lbc as the slices kube-controller-manager's endpointslice-mirroring writes from
    // them (lbc, like kube-proxy, reads EndpointSlices only).
    const slices = names.map((n) =>
      slice(n, [{ name: 'first-port', port: v1.port }], [{ ip: v1.host, ready: true }], { namespace: INFRA, name: n.endsWith('endpointslices') ? n : `${n}-x7k2q` }),
    );
    const r = build({ gateway: sameNamespace, routes: { http: [route] }, services: [...baseServices, ...svcs], endpointSlices: slices });
    if (!r.spec) throw new Error(`the builder serves nothing: ${r.problem}`);
    const ip = ipOf(await (await provider({ addressPool: POOL })).ensure(r.spec));
    for (const n of names) {
      const res = await httpGet(ip, 80, `/${n}`);
      expect([n, res.status, seenBy(res.body).name]).toEqual([n, 200, 'infra-backend-v1']);
    }
  });
});
