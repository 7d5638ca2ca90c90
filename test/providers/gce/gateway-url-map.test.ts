// A Gateway port's HTTPRoute rules as an EXTERNAL_MANAGED URL map (gateway-url-map.ts):
// route rules in the specification's precedence order with unique priorities per path
// matcher, whole-element PathPrefix matching, weights scaled into 0-1000, redirects,
// rewrites, header actions, 404 where nothing matches and 500 where no backend is valid.
import { describe, expect, it } from 'vitest';
import type { HttpGatewayListener } from '../../../src/model/gateway.js';
import { gatewayUrlMap, type GatewayUrlMapContext } from '../../../src/providers/gce/gateway-url-map.js';
import { pathMatcherName } from '../../../src/providers/gce/names.js';
import { backend, canaryRules, httpRule, prefix } from '../aws/gateway-support.js';

const svc = (set: string): string => `global/backendServices/${set.replace(/[/:]/g, '-')}`;
const FALLBACK = 'global/backendServices/fallback';
const ERROR = 'global/backendServices/error';

function ctx(protocol: 'HTTP' | 'HTTPS' = 'HTTP'): GatewayUrlMapContext {
  return { service: svc, fallbackService: FALLBACK, errorService: ERROR, protocol, invalid: (m) => new Error(m), warnings: [] };
}

/** 404 in front of the fallback (GKE's gw-serve404), 500 in front of the error service (gw-serve500). */
const abort = (status: 404 | 500) => ({ weightedBackendServices: [{ backendService: status === 404 ? FALLBACK : ERROR, weight: 100 }], faultInjectionPolicy: { abort: { httpStatus: status, percentage: 100 } } });

const one = (rules: HttpGatewayListener['rules'], c = ctx()) => gatewayUrlMap([{ name: 'http', rules }], 'd', c);

describe('gatewayUrlMap', () => {
  it('the canary: /api (longer prefix) first as /api or /api/…, weighted 90/10, then / to web; 404 elsewhere', () => {
    expect(one(canaryRules())).toEqual({
      description: 'd',
      defaultRouteAction: abort(404),
      hostRules: [{ hosts: ['*'], pathMatcher: pathMatcherName('*') }],
      pathMatchers: [
        {
          name: pathMatcherName('*'),
          defaultRouteAction: abort(404),
          routeRules: [
            {
              priority: 0,
              matchRules: [{ fullPathMatch: '/api' }, { prefixMatch: '/api/' }],
              routeAction: {
                weightedBackendServices: [
                  { backendService: svc('shop/api:8080'), weight: 90 },
                  { backendService: svc('shop/api-v2:8080'), weight: 10 },
                ],
              },
            },
            { priority: 1, matchRules: [{ prefixMatch: '/' }], routeAction: { weightedBackendServices: [{ backendService: svc('shop/web:80'), weight: 1 }] } },
          ],
        },
      ],
    });
  });

  it('weights above 1000 are scaled into GCE WeightedBackendService 0-1000, keeping a non-zero share non-zero', () => {
    const m = one([httpRule(0, [prefix('/')], [backend('a', 1_000_000), backend('b', 1), backend('c', 0)])]);
    expect(m.pathMatchers?.[0]?.routeRules?.[0]?.routeAction?.weightedBackendServices?.map((b) => b.weight)).toEqual([1000, 1, 0]);
  });

  it('weights whose ratio the scaling changes are told, naming the route and rule; weights it keeps exactly, or that need no scaling, are not', () => {
    const c = ctx();
    one([httpRule(0, [prefix('/')], [backend('a', 1_000_000), backend('b', 1), backend('c', 0)])], c);
    expect(c.warnings).toEqual([
      {
        message: 'HTTPRoute shop/canary spec.rules[0]: backendRefs weights 1000000:1:0 are served as 1000:1:0: a URL map weighs backend services 0-1000',
        route: { kind: 'HTTPRoute', namespace: 'shop', name: 'canary' },
      },
    ]);
    const exact = ctx();
    one([httpRule(0, [prefix('/')], [backend('a', 4000), backend('b', 2000)]), httpRule(1, [prefix('/x')], [backend('a', 9), backend('b', 1)])], exact);
    expect(exact.warnings).toEqual([]);
  });

  it('an unresolved backendRef beside resolved ones: its share goes to them (no partial 500 in a URL map), told with the route', () => {
    const c = ctx();
    const m = one([httpRule(2, [prefix('/')], [backend('a', 1), backend(undefined, 1)], { route: 'half' })], c);
    expect(m.pathMatchers?.[0]?.routeRules?.[0]?.routeAction?.weightedBackendServices).toEqual([{ backendService: svc('a'), weight: 1 }]);
    expect(c.warnings).toEqual([{ message: expect.stringMatching(/^HTTPRoute shop\/half spec\.rules\[2\]: .*1 unresolved backendRef/) as unknown, route: { kind: 'HTTPRoute', namespace: 'shop', name: 'half' } }]);
  });

  it('no valid backend (unresolved, or all weight 0) answers 500', () => {
    const m = one([httpRule(0, [prefix('/x')], [backend(undefined)]), httpRule(1, [prefix('/y')], [backend('a', 0)])]);
    expect(m.pathMatchers?.[0]?.routeRules?.map((r) => r.routeAction)).toEqual([abort(500), abort(500)]);
  });

  it('headers, query parameters and the method (:method) are one matchRule per path piece, first header of a name only', () => {
    const m = one([
      httpRule(
        0,
        [
          prefix('/', {
            headers: [
              { type: 'Exact', name: 'x-env', value: 'canary' },
              { type: 'Exact', name: 'x-env', value: 'ignored' },
              { type: 'RegularExpression', name: 'x-id', value: '[0-9]+' },
            ],
            queryParams: [{ type: 'Exact', name: 'v', value: '2' }],
            method: 'POST',
          }),
        ],
        [backend('a')],
      ),
    ]);
    expect(m.pathMatchers?.[0]?.routeRules?.[0]?.matchRules).toEqual([
      {
        prefixMatch: '/',
        headerMatches: [
          { headerName: 'x-env', exactMatch: 'canary' },
          { headerName: 'x-id', regexMatch: '[0-9]+' },
          { headerName: ':method', exactMatch: 'POST' },
        ],
        queryParameterMatches: [{ name: 'v', exactMatch: '2' }],
      },
    ]);
  });

  it('listener isolation: a host a specific listener claims gets only its rules and 404 otherwise; the catch-all listener serves *', () => {
    const m = gatewayUrlMap(
      [
        { name: 'all', rules: [httpRule(0, [prefix('/')], [backend('web')])] },
        { name: 'api', hostname: 'api.example.com', rules: [httpRule(0, [prefix('/v1')], [backend('api')], { route: 'api' })] },
      ],
      'd',
      ctx(),
    );
    expect(m.hostRules).toEqual([
      { hosts: ['*'], pathMatcher: pathMatcherName('*') },
      { hosts: ['api.example.com'], pathMatcher: pathMatcherName('api.example.com') },
    ]);
    const byName = new Map((m.pathMatchers ?? []).map((p) => [p.name, p.routeRules?.map((r) => r.matchRules)]));
    expect(byName.get(pathMatcherName('api.example.com'))).toEqual([[{ fullPathMatch: '/v1' }, { prefixMatch: '/v1/' }]]);
    expect(byName.get(pathMatcherName('*'))).toEqual([[{ prefixMatch: '/' }]]);
  });

  it('a route hostname under a wildcard route gets both routes, in precedence order, with priorities unique per path matcher', () => {
    const m = one([
      httpRule(0, [prefix('/')], [backend('any')], { route: 'wild', hostnames: ['*.example.com'] }),
      httpRule(0, [prefix('/shop')], [backend('shop')], { route: 'exact', hostnames: ['www.example.com'] }),
    ]);
    const www = m.pathMatchers?.find((p) => p.name === pathMatcherName('www.example.com'));
    expect(www?.routeRules?.map((r) => [r.priority, r.routeAction?.weightedBackendServices?.[0]?.backendService])).toEqual([
      [0, svc('shop')],
      [1, svc('any')],
    ]);
    const wild = m.pathMatchers?.find((p) => p.name === pathMatcherName('*.example.com'));
    expect(wild?.routeRules?.map((r) => r.routeAction?.weightedBackendServices?.[0]?.backendService)).toEqual([svc('any')]);
    // No listener or route claims other hosts: they fall to the map's 404.
    expect(m.hostRules?.map((h) => h.hosts?.[0])).toEqual(['*.example.com', 'www.example.com']);
  });

  it('RequestRedirect ReplacePrefixMatch: /old → /new and /old/… → /new/… (prefixRedirect replaces the matched `/old/`, so its replacement keeps the slash); https, host and the status code; the query kept', () => {
    const m = one([
      httpRule(0, [prefix('/old')], [], { filters: [{ type: 'RequestRedirect', scheme: 'https', hostname: 'new.example.com', path: { type: 'ReplacePrefixMatch', value: '/new' }, statusCode: 308 }] }),
    ]);
    const redirect = { hostRedirect: 'new.example.com', httpsRedirect: true, redirectResponseCode: 'PERMANENT_REDIRECT', stripQuery: false };
    expect(m.pathMatchers?.[0]?.routeRules).toEqual([
      { priority: 0, matchRules: [{ fullPathMatch: '/old' }], urlRedirect: { ...redirect, pathRedirect: '/new' } },
      // /old/page is redirected to /new/page, as the specification's /foo/bar → /xyz/bar (not /newpage).
      { priority: 1, matchRules: [{ prefixMatch: '/old/' }], urlRedirect: { ...redirect, prefixRedirect: '/new/' } },
    ]);
    // The prefix / replaced by /: the path kept; prefix / by /v2: /page → /v2/page.
    const root = one([httpRule(0, [prefix('/')], [], { filters: [{ type: 'RequestRedirect', path: { type: 'ReplacePrefixMatch', value: '/v2' }, statusCode: 302 }] })]);
    expect(root.pathMatchers?.[0]?.routeRules?.map((r) => [r.matchRules, r.urlRedirect?.prefixRedirect])).toEqual([[[{ prefixMatch: '/' }], '/v2/']]);
    const same = one([httpRule(0, [prefix('/a')], [], { filters: [{ type: 'RequestRedirect', path: { type: 'ReplacePrefixMatch', value: '/' }, statusCode: 302 }] })]);
    expect(same.pathMatchers?.[0]?.routeRules?.map((r) => r.urlRedirect?.pathRedirect ?? r.urlRedirect?.prefixRedirect)).toEqual(['/', '/']);
  });

  it('refuses what a URL map redirect cannot do: a port, and a downgrade to http on HTTPS', () => {
    expect(() => one([httpRule(0, [prefix('/')], [], { filters: [{ type: 'RequestRedirect', port: 8443, statusCode: 302 }] })])).toThrow(/cannot set the port/);
    expect(() => one([httpRule(0, [prefix('/')], [], { filters: [{ type: 'RequestRedirect', scheme: 'http', statusCode: 302 }] })], ctx('HTTPS'))).toThrow(/cannot downgrade/);
  });

  it('URLRewrite ReplacePrefixMatch: /foo → /xyz and /foo/… → /xyz/… as two route rules; host rewrite on both', () => {
    const m = one([httpRule(0, [prefix('/foo')], [backend('a')], { filters: [{ type: 'URLRewrite', hostname: 'in.example.com', path: { type: 'ReplacePrefixMatch', value: '/xyz' } }] })]);
    expect(m.pathMatchers?.[0]?.routeRules?.map((r) => [r.priority, r.matchRules, r.routeAction?.urlRewrite])).toEqual([
      [0, [{ fullPathMatch: '/foo' }], { hostRewrite: 'in.example.com', pathPrefixRewrite: '/xyz' }],
      [1, [{ prefixMatch: '/foo/' }], { hostRewrite: 'in.example.com', pathPrefixRewrite: '/xyz/' }],
    ]);
  });

  it('URLRewrite ReplaceFullPath under a prefix: the prefix itself, and a path template for everything below', () => {
    const m = one([httpRule(0, [prefix('/')], [backend('a')], { filters: [{ type: 'URLRewrite', path: { type: 'ReplaceFullPath', value: '/one' } }] })]);
    expect(m.pathMatchers?.[0]?.routeRules?.map((r) => [r.matchRules, r.routeAction?.urlRewrite])).toEqual([[[{ pathTemplateMatch: '/**' }], { pathTemplateRewrite: '/one' }]]);
  });

  it('header modifiers: set replaces, add appends, remove removes; per backend on the weighted backend service', () => {
    const m = one([
      httpRule(0, [prefix('/')], [{ targetSet: 'a', weight: 1, filters: [{ type: 'RequestHeaderModifier', set: [], add: [{ name: 'x-b', value: '1' }], remove: [] }] }], {
        filters: [
          { type: 'RequestHeaderModifier', set: [{ name: 'x-s', value: 'v' }], add: [{ name: 'x-a', value: 'w' }], remove: ['x-r'] },
          { type: 'ResponseHeaderModifier', set: [], add: [], remove: ['server'] },
        ],
      }),
    ]);
    const r = m.pathMatchers?.[0]?.routeRules?.[0];
    expect(r?.headerAction).toEqual({
      requestHeadersToAdd: [
        { headerName: 'x-s', headerValue: 'v', replace: true },
        { headerName: 'x-a', headerValue: 'w', replace: false },
      ],
      requestHeadersToRemove: ['x-r'],
      responseHeadersToRemove: ['server'],
    });
    expect(r?.routeAction?.weightedBackendServices?.[0]?.headerAction).toEqual({ requestHeadersToAdd: [{ headerName: 'x-b', headerValue: '1', replace: false }] });
  });

  it('refuses GRPCRoute backends (h2c), timeouts and mirrors with the route and rule named', () => {
    expect(() => one([httpRule(2, [prefix('/')], [backend('a')], { grpc: true })])).toThrow(/GRPCRoute shop\/canary spec.rules\[2\]: .*h2c/);
    expect(() => one([{ ...httpRule(0, [prefix('/')], [backend('a')]), timeouts: { requestMs: 1000 } }])).toThrow(/timeouts/);
    expect(() => one([httpRule(0, [prefix('/')], [backend('a')], { filters: [{ type: 'RequestMirror', targetSet: 'b', percent: 100 }] })])).toThrow(/RequestMirror/);
  });
});

describe('gatewayUrlMap host rules', () => {
  it('a listener hostname without routes keeps its own 404 path matcher when a broader host has rules, so the catch-all never serves it', () => {
    const m = gatewayUrlMap(
      [
        { name: 'all', rules: [httpRule(0, [prefix('/')], [backend('web')])] },
        { name: 'quiet', hostname: 'quiet.example.com', rules: [] },
      ],
      'd',
      ctx(),
    );
    expect(m.hostRules?.map((h) => h.hosts?.[0])).toEqual(['*', 'quiet.example.com']);
    expect(m.pathMatchers?.find((p) => p.name === pathMatcherName('quiet.example.com'))).toEqual({ name: pathMatcherName('quiet.example.com'), defaultRouteAction: abort(404), routeRules: [] });
  });
});
