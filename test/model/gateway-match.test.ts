// The Gateway API matcher against the conformance suite's matching cases
// (kubernetes-sigs/gateway-api conformance/tests/*.yaml and *.go): the same manifests,
// written as the rules the builder hands the provider, and the same expectations.
import { describe, expect, it } from 'vitest';
import type { HttpGatewayListener, HttpHeaderMatch, HttpQueryParamMatch, HttpRequestMatch, HttpRouteRule, TlsGatewayListener } from '../../src/model/gateway.js';
import { HttpPortMatcher, prefixMatches, replacePrefix, TlsPortMatcher, type HttpRequestFacts } from '../../src/model/gateway-match.js';

type MatchInput = {
  path?: HttpRequestMatch['path'];
  headers?: [string, string][];
  regexHeaders?: [string, string][];
  query?: [string, string][];
  method?: string;
};

const m = (x: MatchInput = {}): HttpRequestMatch => ({
  ...(x.path ? { path: x.path } : {}),
  headers: [
    ...(x.headers ?? []).map(([name, value]): HttpHeaderMatch => ({ type: 'Exact', name: name.toLowerCase(), value })),
    ...(x.regexHeaders ?? []).map(([name, value]): HttpHeaderMatch => ({ type: 'RegularExpression', name: name.toLowerCase(), value })),
  ],
  queryParams: (x.query ?? []).map(([name, value]): HttpQueryParamMatch => ({ type: 'Exact', name, value })),
  ...(x.method ? { method: x.method } : {}),
});
const prefix = (value: string): HttpRequestMatch['path'] => ({ type: 'PathPrefix', value });
const exact = (value: string): HttpRequestMatch['path'] => ({ type: 'Exact', value });

let clock = 0;
/** A route's rules; each rule is [matches, backend name]. Routes made later are younger. */
function route(name: string, rules: [HttpRequestMatch[], string][], opts: { hostnames?: string[]; created?: string; namespace?: string } = {}): HttpRouteRule[] {
  const created = opts.created ?? new Date(Date.UTC(2026, 0, 1, 0, 0, clock++)).toISOString();
  return rules.map(([matches, backend], ruleIndex) => ({
    origin: { kind: 'HTTPRoute', namespace: opts.namespace ?? 'gateway-conformance-infra', name, creationTimestamp: created, ruleIndex },
    hostnames: opts.hostnames ?? [],
    matches: matches.length > 0 ? matches : [m({ path: prefix('/') })],
    filters: [],
    backends: [{ targetSet: backend, weight: 1, filters: [] }],
    backendProtocol: 'http1',
  }));
}

const listener = (name: string, rules: HttpRouteRule[], hostname?: string): HttpGatewayListener => ({ name, rules, ...(hostname ? { hostname } : {}) });

function req(path: string, opts: { host?: string; headers?: Record<string, string>; method?: string } = {}): HttpRequestFacts {
  const headers = Object.fromEntries(Object.entries(opts.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  return { host: opts.host ?? 'example.com', url: path, method: opts.method ?? 'GET', header: (n) => headers[n] };
}

/** The backend that serves the request, or 404. */
function serve(matcher: HttpPortMatcher, r: HttpRequestFacts): string {
  const got = matcher.match(r);
  return got.kind === 'rule' ? (got.rule.backends[0]?.targetSet ?? '500') : '404';
}

describe('Gateway API matching (conformance cases)', () => {
  it('HTTPRouteMatching: path prefix and header matches in one route', () => {
    const rules = route('matching', [
      [[m({ path: prefix('/') }), m({ headers: [['version', 'one']] })], 'v1'],
      [[m({ path: prefix('/v2') }), m({ headers: [['version', 'two']] })], 'v2'],
    ]);
    const p = new HttpPortMatcher([listener('http', rules)]);
    expect(serve(p, req('/'))).toBe('v1');
    expect(serve(p, req('/example'))).toBe('v1');
    expect(serve(p, req('/', { headers: { Version: 'one' } }))).toBe('v1');
    expect(serve(p, req('/v2'))).toBe('v2');
    expect(serve(p, req('/v2/example'))).toBe('v2');
    expect(serve(p, req('/', { headers: { Version: 'two' } }))).toBe('v2');
  });

  it('HTTPRouteMatchingAcrossRoutes: a longer path on a wildcard route beats `/` on an exact-host route', () => {
    const rules = [
      ...route('matching-part1', [[[m({ path: prefix('/') }), m({ headers: [['version', 'one']] })], 'v1']], { hostnames: ['example.com', 'example.net'] }),
      ...route('matching-part2', [[[m({ path: prefix('/v2') }), m({ headers: [['version', 'two']] })], 'v2']], { hostnames: ['*.com'] }),
    ];
    const p = new HttpPortMatcher([listener('http', rules)]);
    const cases: [string, string, Record<string, string>, string][] = [
      ['example.com', '/', {}, 'v1'],
      ['example.com', '/example', {}, 'v1'],
      ['example.net', '/example', {}, 'v1'],
      ['example.com', '/example', { Version: 'one' }, 'v1'],
      ['example.com', '/v2', {}, 'v2'],
      ['example.net', '/v2', {}, 'v1'],
      ['example.com', '/v2/example', {}, 'v2'],
      ['example.com', '/', { Version: 'two' }, 'v2'],
    ];
    expect(cases.map(([host, path, headers]) => serve(p, req(path, { host, headers })))).toEqual(cases.map((c) => c[3]));
  });

  it('HTTPRouteHeaderMatching: ANDed headers outrank one header; ORed matches; no match is 404', () => {
    const rules = route('header-matching', [
      [[m({ headers: [['version', 'one']] })], 'v1'],
      [[m({ headers: [['version', 'two']] })], 'v2'],
      [[m({ headers: [['version', 'two'], ['color', 'orange']] })], 'v1'],
      [[m({ headers: [['color', 'blue']] }), m({ headers: [['color', 'green']] })], 'v1'],
      [[m({ headers: [['color', 'red']] }), m({ headers: [['color', 'yellow']] })], 'v2'],
    ]);
    const p = new HttpPortMatcher([listener('http', rules)]);
    const cases: [Record<string, string>, string][] = [
      [{ Version: 'one' }, 'v1'],
      [{ Version: 'two' }, 'v2'],
      [{ Version: 'two', Color: 'orange' }, 'v1'],
      [{ Version: 'two', Color: 'blue' }, 'v2'],
      [{ Color: 'orange' }, '404'],
      [{ 'Some-Other-Header': 'one' }, '404'],
      [{ Color: 'blue' }, 'v1'],
      [{ Color: 'green' }, 'v1'],
      [{ Color: 'red' }, 'v2'],
      [{ Color: 'yellow' }, 'v2'],
      [{ Color: 'purple' }, '404'],
    ];
    expect(cases.map(([headers]) => serve(p, req('/', { headers })))).toEqual(cases.map((c) => c[1]));
  });

  it('HTTPRouteQueryParamMatching: names are case-sensitive, values exact, precedence path > query, query > header', () => {
    const rules = route('query-param-matching', [
      [[m({ query: [['animal', 'whale']] })], 'v1'],
      [[m({ query: [['animal', 'dolphin']] })], 'v2'],
      [[m({ query: [['animal', 'dolphin'], ['color', 'blue']] }), m({ query: [['ANIMAL', 'Whale']] })], 'v3'],
      [[m({ path: prefix('/path1'), query: [['animal', 'whale']] })], 'v1'],
      [[m({ headers: [['version', 'one']], query: [['animal', 'whale']] })], 'v2'],
      [[m({ path: prefix('/path2'), headers: [['version', 'two']], query: [['animal', 'whale']] })], 'v3'],
      [[m({ path: prefix('/path3'), query: [['animal', 'shark']] }), m({ path: prefix('/path4'), headers: [['version', 'three']], query: [['animal', 'kraken']] })], 'v1'],
      [[m({ path: prefix('/path5') })], 'v1'],
      [[m({ query: [['animal', 'hydra']] })], 'v2'],
      [[m({ headers: [['version', 'four']] })], 'v3'],
    ]);
    const p = new HttpPortMatcher([listener('http', rules)]);
    const cases: [string, Record<string, string>, string][] = [
      ['/?animal=whale', {}, 'v1'],
      ['/?animal=dolphin', {}, 'v2'],
      ['/?animal=dolphin&color=blue', {}, 'v3'],
      ['/?ANIMAL=Whale', {}, 'v3'],
      ['/?animal=whale&otherparam=irrelevant', {}, 'v1'],
      ['/?animal=dolphin&color=yellow', {}, 'v2'],
      ['/?color=blue', {}, '404'],
      ['/?animal=dog', {}, '404'],
      ['/?animal=whaledolphin', {}, '404'],
      ['/', {}, '404'],
      ['/path1?animal=whale', {}, 'v1'],
      ['/?animal=whale', { version: 'one' }, 'v2'],
      ['/path2?animal=whale', { version: 'two' }, 'v3'],
      ['/path3?animal=shark', {}, 'v1'],
      ['/path4?animal=kraken', { version: 'three' }, 'v1'],
      ['/?animal=shark', {}, '404'],
      ['/path4?animal=kraken', {}, '404'],
      ['/path5?animal=hydra', {}, 'v1'],
      ['/?animal=hydra', { version: 'four' }, 'v3'],
    ];
    expect(cases.map(([path, headers]) => serve(p, req(path, { headers })))).toEqual(cases.map((c) => c[2]));
  });

  it('HTTPRouteMethodMatching: method outranks headers, path outranks method', () => {
    const rules = route('method-matching', [
      [[m({ method: 'POST' })], 'v1'],
      [[m({ method: 'GET' })], 'v2'],
      [[m({ path: prefix('/path1'), method: 'GET' })], 'v1'],
      [[m({ headers: [['version', 'one']], method: 'PUT' })], 'v2'],
      [[m({ path: prefix('/path2'), headers: [['version', 'two']], method: 'POST' })], 'v3'],
      [[m({ path: prefix('/path3'), method: 'PATCH' }), m({ path: prefix('/path4'), headers: [['version', 'three']], method: 'DELETE' })], 'v1'],
      [[m({ path: prefix('/path5') })], 'v1'],
      [[m({ method: 'PATCH' })], 'v2'],
      [[m({ headers: [['version', 'four']] })], 'v3'],
    ]);
    const p = new HttpPortMatcher([listener('http', rules)]);
    const cases: [string, string, Record<string, string>, string][] = [
      ['POST', '/', {}, 'v1'],
      ['GET', '/', {}, 'v2'],
      ['HEAD', '/', {}, '404'],
      ['GET', '/path1', {}, 'v1'],
      ['PUT', '/', { version: 'one' }, 'v2'],
      ['POST', '/path2', { version: 'two' }, 'v3'],
      ['PATCH', '/path3', {}, 'v1'],
      ['DELETE', '/path4', { version: 'three' }, 'v1'],
      ['PUT', '/', {}, '404'],
      ['DELETE', '/path4', {}, '404'],
      ['PATCH', '/path5', {}, 'v1'],
      ['PATCH', '/', { version: 'four' }, 'v2'],
    ];
    expect(cases.map(([method, path, headers]) => serve(p, req(path, { method, headers })))).toEqual(cases.map((c) => c[3]));
  });

  it('HTTPRoutePathMatchOrder: Exact beats PathPrefix, longer prefix beats shorter, by path element', () => {
    const rules = route('path-matching-order', [
      [[m({ path: exact('/match') })], 'v1'],
      [[m({ path: exact('/match/exact') })], 'v2'],
      [[m({ path: exact('/match/exact/one') })], 'v3'],
      [[m({ path: prefix('/match/') })], 'v3'],
      [[m({ path: prefix('/match/prefix/') })], 'v1'],
      [[m({ path: prefix('/match/prefix/one') })], 'v2'],
    ]);
    const p = new HttpPortMatcher([listener('http', rules)]);
    const cases: [string, string][] = [
      ['/match/exact/one', 'v3'],
      ['/match/exact', 'v2'],
      ['/match', 'v1'],
      ['/match/prefix/one/any', 'v2'],
      ['/match/prefix/any', 'v1'],
      ['/match/any', 'v3'],
    ];
    expect(cases.map(([path]) => serve(p, req(path)))).toEqual(cases.map((c) => c[1]));
  });

  it('HTTPRouteListenerHostnameMatching: exact listener, then the wildcard over one or more labels; no listener is 404', () => {
    const p = new HttpPortMatcher([
      listener('listener-1', route('backend-v1', [[[], 'v1']]), 'bar.com'),
      listener('listener-2', route('backend-v2', [[[], 'v2']]), 'foo.bar.com'),
      listener('listener-3', route('backend-v3', [[[], 'v3']]), '*.bar.com'),
      listener('listener-4', route('backend-v3b', [[[], 'v3']]), '*.foo.com'),
    ]);
    const cases: [string, string][] = [
      ['bar.com', 'v1'],
      ['foo.bar.com', 'v2'],
      ['baz.bar.com', 'v3'],
      ['boo.bar.com', 'v3'],
      ['multiple.prefixes.bar.com', 'v3'],
      ['multiple.prefixes.foo.com', 'v3'],
      ['foo.com', '404'],
      ['no.matching.host', '404'],
    ];
    expect(cases.map(([host]) => serve(p, req('/', { host })))).toEqual(cases.map((c) => c[1]));
    expect(p.match(req('/', { host: 'foo.com' })).kind).toBe('no-listener');
  });

  it('HTTPRouteHostnameIntersection: only the intersected hostnames serve; the Host port is ignored', () => {
    // The builder intersects route and listener hostnames; these are its results for the suite's manifests.
    const p = new HttpPortMatcher([
      listener('listener-1', [...route('specific-host-matches-listener-specific-host', [[[m({ path: prefix('/s1') })], 'v1']], { hostnames: ['very.specific.com'] }), ...route('wildcard-host-matches-listener-specific-host', [[[m({ path: prefix('/s3') })], 'v3']], { hostnames: ['very.specific.com'] })], 'very.specific.com'),
      listener('listener-2', route('specific-host-matches-listener-wildcard-host', [[[m({ path: prefix('/s2') })], 'v2']], { hostnames: ['foo.wildcard.io', 'bar.wildcard.io', 'foo.bar.wildcard.io'] }), '*.wildcard.io'),
      listener('listener-3', route('wildcard-host-matches-listener-wildcard-host', [[[m({ path: prefix('/s4') })], 'v1']], { hostnames: ['*.anotherwildcard.io'] }), '*.anotherwildcard.io'),
    ]);
    const cases: [string, string, string][] = [
      ['very.specific.com', '/s1', 'v1'],
      ['very.specific.com:1234', '/s1', 'v1'],
      ['non.matching.com', '/s1', '404'],
      ['foo.nonmatchingwildcard.io', '/s1', '404'],
      ['foo.wildcard.io', '/s1', '404'],
      ['very.specific.com', '/non-matching-prefix', '404'],
      ['foo.wildcard.io', '/s2', 'v2'],
      ['bar.wildcard.io', '/s2', 'v2'],
      ['foo.bar.wildcard.io', '/s2', 'v2'],
      ['non.matching.com', '/s2', '404'],
      ['wildcard.io', '/s2', '404'],
      ['very.specific.com', '/s2', '404'],
      ['baz.wildcard.io', '/s2', '404'],
      ['very.specific.com', '/s3', 'v3'],
      ['foo.specific.com', '/s3', '404'],
      ['foo.anotherwildcard.io', '/s4', 'v1'],
      ['foo.bar.anotherwildcard.io', '/s4', 'v1'],
      ['anotherwildcard.io', '/s4', '404'],
      ['foo.anotherwildcard.io', '/non-matching-prefix', '404'],
    ];
    expect(cases.map(([host, path]) => serve(p, req(path, { host })))).toEqual(cases.map((c) => c[2]));

    // "HTTPRoutes intersects with an unspecified hostname listener"
    const all = new HttpPortMatcher([listener('http', route('httproute-hostname-intersection-all', [[[], 'v2']], { hostnames: ['first.com', '*.first.com', 'second.com', '*.second.com'] }))]);
    const rows: [string, string][] = [
      ['first.com', 'v2'],
      ['sub.first.com', 'v2'],
      ['second.com', 'v2'],
      ['sub.second.com', 'v2'],
      ['third.com', '404'],
      ['sub.third.com', '404'],
    ];
    expect(rows.map(([host]) => serve(all, req('/', { host })))).toEqual(rows.map((r) => r[1]));
  });

  it('GatewayHTTPListenerIsolation: a request is served only by its most specific listener', () => {
    const p = new HttpPortMatcher([
      listener('empty-hostname', route('attaches-to-empty-hostname', [[[m({ path: prefix('/empty-hostname') })], 'v1']])),
      listener('wildcard-example-com', route('attaches-to-wildcard-example-com', [[[m({ path: prefix('/wildcard-example-com') })], 'v1']]), '*.example.com'),
      listener('wildcard-foo-example-com', route('attaches-to-wildcard-foo-example-com', [[[m({ path: prefix('/wildcard-foo-example-com') })], 'v1']]), '*.foo.example.com'),
      listener('abc-foo-example-com', route('attaches-to-abc-foo-example-com', [[[m({ path: prefix('/abc-foo-example-com') })], 'v1']]), 'abc.foo.example.com'),
    ]);
    const paths = ['/empty-hostname', '/wildcard-example-com', '/wildcard-foo-example-com', '/abc-foo-example-com'];
    const hosts = ['bar.com', 'bar.example.com', 'bar.foo.example.com', 'abc.foo.example.com'];
    // Each host reaches only the path of its own listener (the diagonal).
    const grid = hosts.map((host) => paths.map((path) => serve(p, req(path, { host }))));
    expect(grid).toEqual(hosts.map((_, i) => paths.map((_p, j) => (i === j ? 'v1' : '404'))));
  });

  it('ties: the more specific route hostname, then the oldest route, then namespace/name, then rule order', () => {
    const older = '2026-01-01T00:00:00Z';
    const newer = '2026-02-01T00:00:00Z';
    const p = new HttpPortMatcher([
      listener('http', [
        ...route('wild', [[[], 'wild']], { hostnames: ['*.example.com'], created: older }),
        ...route('exact', [[[], 'exact']], { hostnames: ['a.example.com'], created: newer }),
        ...route('any', [[[], 'any']], { created: older }),
        ...route('b-young', [[[m({ path: prefix('/t') })], 'b-young']], { created: newer }),
        ...route('b-old', [[[m({ path: prefix('/t') })], 'b-old']], { created: older }),
        ...route('z', [[[m({ path: prefix('/n') })], 'z']], { created: older, namespace: 'a' }),
        ...route('a', [[[m({ path: prefix('/n') })], 'a']], { created: older, namespace: 'b' }),
        ...route('order', [
          [[m({ path: prefix('/o') })], 'first'],
          [[m({ path: prefix('/o') })], 'second'],
        ]),
      ]),
    ]);
    expect(serve(p, req('/', { host: 'a.example.com' }))).toBe('exact');
    expect(serve(p, req('/', { host: 'b.example.com' }))).toBe('wild');
    expect(serve(p, req('/', { host: 'other.org' }))).toBe('any');
    expect(serve(p, req('/t', { host: 'other.org' }))).toBe('b-old');
    expect(serve(p, req('/n', { host: 'other.org' }))).toBe('z');
    expect(serve(p, req('/o', { host: 'other.org' }))).toBe('first');
  });

  it('RegularExpression: RE2 over the whole path or header value, ranked after Exact and before PathPrefix', () => {
    const p = new HttpPortMatcher([
      listener(
        'http',
        route('regex', [
          [[m({ path: { type: 'RegularExpression', value: '/users/[0-9]+' } })], 'user'],
          [[m({ path: prefix('/') })], 'root'],
          [[m({ path: exact('/users/42') })], 'exact'],
          [[m({ path: prefix('/h'), regexHeaders: [['x-id', 'a+b']] })], 'hdr'],
          [[m({ path: { type: 'RegularExpression', value: '/(a' } })], 'bad'],
        ]),
      ),
    ]);
    expect(serve(p, req('/users/7'))).toBe('user');
    expect(serve(p, req('/users/42'))).toBe('exact');
    // Whole-value match: a regex that matches only part of the path does not serve it.
    expect(serve(p, req('/users/7/posts'))).toBe('root');
    expect(serve(p, req('/h', { headers: { 'x-id': 'aaab' } }))).toBe('hdr');
    expect(serve(p, req('/h', { headers: { 'x-id': 'aaabc' } }))).toBe('root');
    expect(serve(p, req('/(a'))).toBe('root');
  });

  it('PathPrefix by element and ReplacePrefixMatch joins as HTTPPathModifier documents', () => {
    expect([prefixMatches('/abc', '/abc'), prefixMatches('/abc', '/abc/'), prefixMatches('/abc', '/abc/def'), prefixMatches('/abc', '/abcd'), prefixMatches('/abc/', '/abc')]).toEqual([true, true, true, false, true]);
    // The table in the HTTPPathModifier.replacePrefixMatch description.
    const table: [string, string, string, string][] = [
      ['/foo/bar', '/foo', '/xyz', '/xyz/bar'],
      ['/foo/bar', '/foo', '/xyz/', '/xyz/bar'],
      ['/foo/bar', '/foo/', '/xyz', '/xyz/bar'],
      ['/foo/bar', '/foo/', '/xyz/', '/xyz/bar'],
      ['/foo', '/foo', '/xyz', '/xyz'],
      ['/foo/', '/foo', '/xyz', '/xyz/'],
      ['/foo/bar', '/foo', '', '/bar'],
      ['/foo/', '/foo', '', '/'],
      ['/foo', '/foo', '', '/'],
      ['/foo/', '/foo', '/', '/'],
      ['/foo', '/foo', '/', '/'],
    ];
    const got = table.map(([path, pfx, repl]) => replacePrefix(path, pfx.length > 1 ? pfx.replace(/\/+$/, '') : pfx, repl));
    expect(got).toEqual(table.map((r) => r[3]));
  });

  it('TLS by SNI: the most specific listener, then the most specific route hostname, then the oldest route', () => {
    const tls = (name: string, hostnames: string[], created: string) => ({
      origin: { kind: 'TLSRoute' as const, namespace: 'ns', name, creationTimestamp: created, ruleIndex: 0 },
      hostnames,
      backends: [{ targetSet: name, weight: 1, filters: [] }],
    });
    const l = (name: string, hostname: string | undefined, rules: TlsGatewayListener['rules']): TlsGatewayListener => ({ name, mode: 'Passthrough', certificates: [], rules, ...(hostname ? { hostname } : {}) });
    const p = new TlsPortMatcher([
      l('wild', '*.example.com', [tls('wild-route', [], '2026-01-01T00:00:00Z'), tls('abc', ['abc.example.com'], '2026-03-01T00:00:00Z')]),
      l('exact', 'x.example.com', [tls('x-route', [], '2026-01-01T00:00:00Z')]),
      l('any', undefined, [tls('young', ['*.org'], '2026-02-01T00:00:00Z'), tls('old', ['*.org'], '2026-01-01T00:00:00Z')]),
    ]);
    const who = (sni: string | undefined): string => p.match(sni)?.rule.origin.name ?? 'none';
    expect([who('abc.example.com'), who('q.example.com'), who('x.example.com'), who('a.org'), who('a.net'), who(undefined)]).toEqual(['abc', 'wild-route', 'x-route', 'old', 'none', 'none']);
  });
});
