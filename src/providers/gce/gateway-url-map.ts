// One Gateway port's HTTPRoute rules as the URL map of a global external Application Load
// Balancer of the EXTERNAL_MANAGED scheme, the load balancer GKE's Gateway controller
// builds for GatewayClass gke-l7-global-external-managed. Only that scheme's URL maps take
// route rules with header, query and regular-expression matches, weighted backends,
// rewrites and header actions (https://cloud.google.com/load-balancing/docs/url-map-concepts,
// "Route rules"); the classic scheme lbc builds for Ingresses has path rules only. Pure.
//
// The mapping (URL map reference, compute v1 UrlMap / HttpRouteRule / HttpRouteRuleMatch):
// - one host rule and path matcher per host a request can carry: every listener hostname,
//   every route hostname, and `*`; a host's path matcher holds the rules of the most
//   specific listener claiming it (listener isolation: a less specific listener never
//   serves it), filtered to the route hostnames covering it, in the specification's
//   precedence order (model/gateway-match.ts rankedMatches). GCE picks one host rule per
//   request, so a rule naming a wildcard hostname is repeated under each more specific host;
// - route rule priorities 0, 1, … in that order, unique within the path matcher as GCE
//   requires (lower evaluates first);
// - one route rule per match (matchRules OR; a match's path, headers, query parameters
//   and method are one matchRule, ANDed). PathPrefix /foo is whole path elements:
//   fullPathMatch /foo or prefixMatch /foo/; the method is the `:method` pseudo-header;
// - backends as routeAction.weightedBackendServices, weights scaled into GCE's 0-1000;
// - RequestRedirect as urlRedirect, URLRewrite as routeAction.urlRewrite (pathPrefixRewrite
//   replaces what prefixMatch/fullPathMatch matched; a full-path replacement under a prefix
//   uses pathTemplateMatch `/foo/**` with a literal pathTemplateRewrite), header modifiers
//   as headerAction, on the rule or per weighted backend service;
// - what no rule matches, and every path of a host no listener claims, answers 404; a rule
//   without a valid backend answers 500. A URL map has no fixed response, so both are a
//   routeAction.faultInjectionPolicy abort (100%) in front of a backend service that is never
//   reached: the proxy (Envoy) answers before choosing a backend, with the body "fault filter
//   abort". GKE's Gateway controller answers unmatched requests the same way: users of
//   gke-l7-global-external-managed see a 404 "fault filter abort", and the load balancer's
//   request logs put those 404s on its `…-gw-serve404-80-…` backend service (the one
//   gatewayNames().fallbackService mirrors; the 500s stand in front of errorService, as GKE's
//   Gateways list a `…-gw-serve500-80-…` beside it in networking.gke.io/backend-services). EXTERNAL_MANAGED URL maps take the whole
//   HttpRouteAction in defaultRouteAction and in a path matcher's (only the classic scheme is
//   limited to urlRewrite there: compute v1 UrlMap.defaultRouteAction); HttpFaultAbort takes
//   a status of 200-599 and a share of 0-100. (defaultCustomErrorResponsePolicy is no
//   alternative: it applies "when BackendService or BackendBucket responds with an error",
//   serving its body from a backend bucket; it makes no error of its own.)
import type { protos } from '@google-cloud/compute';
import type { HttpFilter, HttpGatewayListener, HttpHeaderMatch, HttpRequestMatch, HttpRouteRule, RouteOrigin } from '../../model/gateway.js';
import type { RouteRef } from '../../model/status.js';
import { GATEWAY_FEATURES, type GatewayFeature } from '../../model/gateway-features.js';
import { listenersBySpecificity, rankedMatches } from '../../model/gateway-match.js';
import { pathMatcherName } from './names.js';
import type { UrlMap } from './url-map.js';

type RouteRule = protos.google.cloud.compute.v1.IHttpRouteRule;
type MatchRule = protos.google.cloud.compute.v1.IHttpRouteRuleMatch;
type RouteAction = protos.google.cloud.compute.v1.IHttpRouteAction;
type HeaderAction = protos.google.cloud.compute.v1.IHttpHeaderAction;
type UrlRedirect = protos.google.cloud.compute.v1.IHttpRedirectAction;

/**
 * The features, by the conformance suite's names, an EXTERNAL_MANAGED URL map cannot serve
 * or lbc does not build yet; GCE_GATEWAY_FEATURES is the rest, so the builder refuses these
 * with the specification's reasons:
 * GatewayStaticAddresses (lbc reserves the address), HTTPRoutePortRedirect (urlRedirect
 * has no port), request mirrors and timeouts (not built yet), GRPCRoute (a backend service
 * speaks HTTP/2 to instance groups over TLS only, not the h2c a GRPCRoute backend is
 * given), and TLSRoute, TCPRoute and UDPRoute (an Application Load Balancer is HTTP only;
 * GKE's Gateway controller does not serve them either).
 */
const GCE_UNSUPPORTED: ReadonlySet<GatewayFeature> = new Set<GatewayFeature>([
  'GatewayStaticAddresses',
  'HTTPRoutePortRedirect',
  'HTTPRouteRequestMirror',
  'HTTPRouteRequestMultipleMirrors',
  'HTTPRouteRequestPercentageMirror',
  'HTTPRouteRequestTimeout',
  'HTTPRouteBackendTimeout',
  'GRPCRoute',
  'TLSRoute',
  'TLSRouteModeTerminate',
  'GatewayHTTPSAndTLSPassthroughSamePort',
  'TCPRoute',
  'UDPRoute',
]);
export const GCE_GATEWAY_FEATURES: readonly GatewayFeature[] = GATEWAY_FEATURES.filter((f) => !GCE_UNSUPPORTED.has(f));

export interface GatewayUrlMapContext {
  /** The link of the backend service serving a target set. */
  readonly service: (targetSet: string) => string;
  /** The backend service the 404 answers stand in front of (never reached): GKE's gw-serve404. */
  readonly fallbackService: string;
  /** The one the 500 answers stand in front of, so the load balancer's logs tell them apart: GKE's gw-serve500. */
  readonly errorService: string;
  /** HTTP or HTTPS: a redirect to scheme http is a no-op on HTTP and impossible on HTTPS. */
  readonly protocol: 'HTTP' | 'HTTPS';
  readonly invalid: (message: string) => Error;
  /** What the map serves otherwise than the route asked, for Events on the Gateway and the route. */
  readonly warnings: UrlMapWarning[];
}

export interface UrlMapWarning {
  readonly message: string;
  readonly route: RouteRef;
}

const routeOf = (o: RouteOrigin): RouteRef => ({ kind: o.kind, namespace: o.namespace, name: o.name });

/** GCE WeightedBackendService.weight is 0-1000; Gateway API weights go to 1,000,000. */
export const GCE_MAX_WEIGHT = 1000;

const REDIRECT_CODES: Record<number, string> = {
  301: 'MOVED_PERMANENTLY_DEFAULT',
  302: 'FOUND',
  303: 'SEE_OTHER',
  307: 'TEMPORARY_REDIRECT',
  308: 'PERMANENT_REDIRECT',
};

function where(o: RouteOrigin): string {
  return `${o.kind} ${o.namespace}/${o.name} spec.rules[${o.ruleIndex}]`;
}

/** A status answered by aborting every request before a (never reached) fallback service. */
function abort(status: 404 | 500, ctx: GatewayUrlMapContext): RouteAction {
  const backendService = status === 404 ? ctx.fallbackService : ctx.errorService;
  return { weightedBackendServices: [{ backendService, weight: 100 }], faultInjectionPolicy: { abort: { httpStatus: status, percentage: 100 } } };
}

/** Only the first entry of a name counts (HTTPHeaderMatch.name). */
function firstByName<T extends { readonly name: string }>(items: readonly T[]): T[] {
  const seen = new Set<string>();
  return items.filter((i) => (seen.has(i.name) ? false : (seen.add(i.name), true)));
}

const headerMatch = (h: HttpHeaderMatch) => (h.type === 'RegularExpression' ? { headerName: h.name, regexMatch: h.value } : { headerName: h.name, exactMatch: h.value });

/** The matchRule fields other than the path: headers, query parameters and the method (`:method`). */
function conditions(m: HttpRequestMatch): MatchRule {
  const headers = firstByName(m.headers).map(headerMatch);
  if (m.method !== undefined) headers.push({ headerName: ':method', exactMatch: m.method });
  const query = firstByName(m.queryParams).map((q) => (q.type === 'RegularExpression' ? { name: q.name, regexMatch: q.value } : { name: q.name, exactMatch: q.value }));
  return { ...(headers.length > 0 ? { headerMatches: headers } : {}), ...(query.length > 0 ? { queryParameterMatches: query } : {}) };
}

/** One piece of a match's path: GCE path matching, and the path rewrite that piece needs. */
interface PathPart {
  readonly match: MatchRule;
  readonly rewrite?: { pathPrefixRewrite: string } | { pathTemplateRewrite: string };
}

/** A PathPrefix as whole path elements: the prefix itself, and everything below it. */
function pathParts(m: HttpRequestMatch, rewrite: HttpFilter | undefined): PathPart[] {
  const p = m.path ?? { type: 'PathPrefix' as const, value: '/' };
  const path = rewrite?.type === 'URLRewrite' ? rewrite.path : undefined;
  if (p.type === 'RegularExpression') return [{ match: { regexMatch: p.value } }];
  if (p.type === 'Exact') return [{ match: { fullPathMatch: p.value }, ...(path ? { rewrite: { pathPrefixRewrite: path.value || '/' } } : {}) }];
  const prefix = p.value.replace(/\/+$/, '');
  const below = `${prefix}/`;
  if (path?.type === 'ReplaceFullPath') {
    const to = path.value || '/';
    return [
      ...(prefix !== '' ? [{ match: { fullPathMatch: prefix }, rewrite: { pathPrefixRewrite: to } }] : []),
      { match: { pathTemplateMatch: `${below}**` }, rewrite: { pathTemplateRewrite: to } },
    ];
  }
  if (path?.type === 'ReplacePrefixMatch') {
    // As the specification's examples: /foo/bar with prefix /foo replaced by /xyz is /xyz/bar, by / is /bar.
    const to = path.value.replace(/\/+$/, '');
    return [
      ...(prefix !== '' ? [{ match: { fullPathMatch: prefix }, rewrite: { pathPrefixRewrite: to || '/' } }] : []),
      { match: { prefixMatch: below }, rewrite: { pathPrefixRewrite: `${to}/` } },
    ];
  }
  return prefix === '' ? [{ match: { prefixMatch: '/' } }] : [{ match: { fullPathMatch: prefix } }, { match: { prefixMatch: below } }];
}

/**
 * The urlRedirect of one path part. ReplacePrefixMatch is per part, as a rewrite's: GCE's
 * prefixRedirect replaces what prefixMatch matched, `/foo/` of /foo/bar, so the part below
 * the prefix is redirected to `<value>/` (the specification's /foo/bar with /foo replaced by
 * /xyz is /xyz/bar, not /xyzbar), and the prefix itself, a fullPathMatch, to `<value>`.
 */
function redirectOf(f: Extract<HttpFilter, { type: 'RequestRedirect' }>, m: HttpRequestMatch, at: string, ctx: GatewayUrlMapContext, part?: PathPart): UrlRedirect {
  if (f.port !== undefined) throw ctx.invalid(`${at}: RequestRedirect port: a URL map redirect cannot set the port`);
  if (f.scheme === 'http' && ctx.protocol === 'HTTPS') throw ctx.invalid(`${at}: RequestRedirect scheme http: a URL map redirects to https or keeps the scheme, it cannot downgrade`);
  const path = f.path;
  if (path?.type === 'ReplacePrefixMatch' && m.path?.type !== 'PathPrefix' && m.path !== undefined) {
    throw ctx.invalid(`${at}: RequestRedirect ReplacePrefixMatch needs a PathPrefix match`);
  }
  return {
    ...(f.hostname !== undefined ? { hostRedirect: f.hostname } : {}),
    ...(f.scheme === 'https' ? { httpsRedirect: true } : {}),
    ...(path?.type === 'ReplaceFullPath' ? { pathRedirect: path.value || '/' } : {}),
    ...(path?.type === 'ReplacePrefixMatch' ? prefixRedirectOf(part) : {}),
    redirectResponseCode: REDIRECT_CODES[f.statusCode] ?? 'FOUND',
    stripQuery: false,
  };
}

function prefixRedirectOf(part: PathPart | undefined): UrlRedirect {
  const to = part?.rewrite && 'pathPrefixRewrite' in part.rewrite ? part.rewrite.pathPrefixRewrite : '/';
  return part?.match.fullPathMatch !== undefined ? { pathRedirect: to } : { prefixRedirect: to };
}

function headerActionOf(filters: readonly HttpFilter[]): HeaderAction | undefined {
  const a: HeaderAction = {};
  for (const f of filters) {
    if (f.type !== 'RequestHeaderModifier' && f.type !== 'ResponseHeaderModifier') continue;
    // set replaces the header, add appends a value (HttpHeaderOption.replace).
    const adds = [...f.set.map((h) => ({ headerName: h.name, headerValue: h.value, replace: true })), ...f.add.map((h) => ({ headerName: h.name, headerValue: h.value, replace: false }))];
    if (f.type === 'RequestHeaderModifier') {
      if (adds.length > 0) a.requestHeadersToAdd = [...(a.requestHeadersToAdd ?? []), ...adds];
      if (f.remove.length > 0) a.requestHeadersToRemove = [...(a.requestHeadersToRemove ?? []), ...f.remove];
    } else {
      if (adds.length > 0) a.responseHeadersToAdd = [...(a.responseHeadersToAdd ?? []), ...adds];
      if (f.remove.length > 0) a.responseHeadersToRemove = [...(a.responseHeadersToRemove ?? []), ...f.remove];
    }
  }
  return Object.keys(a).length > 0 ? a : undefined;
}

/** The weighted backend services of a rule, or undefined when none resolved or all weigh 0 (the rule answers 500). */
function weightedBackends(rule: HttpRouteRule, at: string, ctx: GatewayUrlMapContext): RouteAction['weightedBackendServices'] | undefined {
  const byService = new Map<string, { weight: number; filters: HttpFilter[] }>();
  let unresolved = 0;
  for (const b of rule.backends) {
    if (b.targetSet === undefined) {
      if (b.weight > 0) unresolved++;
      continue;
    }
    for (const f of b.filters) {
      if (f.type !== 'RequestHeaderModifier' && f.type !== 'ResponseHeaderModifier') throw ctx.invalid(`${at}: backendRefs[].filters ${f.type}: a weighted backend service takes header actions only`);
    }
    const service = ctx.service(b.targetSet);
    const have = byService.get(service);
    if (have && JSON.stringify(have.filters) !== JSON.stringify(b.filters)) throw ctx.invalid(`${at}: two backendRefs to one backend with different filters: GCE weighs one backend service once`);
    byService.set(service, { weight: (have?.weight ?? 0) + b.weight, filters: [...b.filters] });
  }
  const total = [...byService.values()].reduce((n, b) => n + b.weight, 0);
  if (total === 0) return undefined;
  if (unresolved > 0) {
    ctx.warnings.push({
      message: `${at}: a URL map cannot answer part of a rule's requests with 500; the share of its ${unresolved} unresolved backendRef(s) goes to the resolved ones`,
      route: routeOf(rule.origin),
    });
  }
  const max = Math.max(...[...byService.values()].map((b) => b.weight));
  const scale = (w: number): number => (max <= GCE_MAX_WEIGHT || w === 0 ? w : Math.max(1, Math.round((w * GCE_MAX_WEIGHT) / max)));
  const weighted = [...byService.entries()].map(([backendService, b]) => {
    const headerAction = headerActionOf(b.filters);
    return { backendService, weight: scale(b.weight), ...(headerAction ? { headerAction } : {}) };
  });
  // Scaled into 0-1000, the weights keep their ratios only when the rounding is exact.
  const asked = [...byService.values()].map((b) => b.weight);
  if (weighted.some((w, i) => w.weight * max !== (asked[i] ?? 0) * scale(max))) {
    ctx.warnings.push({
      message: `${at}: backendRefs weights ${asked.join(':')} are served as ${weighted.map((w) => w.weight).join(':')}: a URL map weighs backend services 0-${GCE_MAX_WEIGHT}`,
      route: routeOf(rule.origin),
    });
  }
  return weighted;
}

/** The route rules (without priority) of one ranked match. */
function routeRules(rule: HttpRouteRule, m: HttpRequestMatch, ctx: GatewayUrlMapContext): RouteRule[] {
  const at = where(rule.origin);
  if (rule.backendProtocol !== 'http1') throw ctx.invalid(`${at}: ${rule.origin.kind} backends speak h2c, which a GCE backend service on instance groups cannot (HTTP/2 to backends is over TLS)`);
  if (rule.timeouts !== undefined) throw ctx.invalid(`${at}: timeouts are not built by lbc on GCE yet`);
  let redirect: Extract<HttpFilter, { type: 'RequestRedirect' }> | undefined;
  let rewrite: Extract<HttpFilter, { type: 'URLRewrite' }> | undefined;
  for (const f of rule.filters) {
    if (f.type === 'RequestRedirect') redirect = f;
    else if (f.type === 'URLRewrite') rewrite = f;
    else if (f.type === 'RequestMirror') throw ctx.invalid(`${at}: RequestMirror is not built by lbc on GCE yet`);
  }
  const headerAction = headerActionOf(rule.filters);
  const extra = conditions(m);
  const parts = pathParts(m, redirect ? undefined : rewrite);
  const common = { ...(headerAction ? { headerAction } : {}) };
  if (redirect?.path?.type === 'ReplacePrefixMatch') {
    // The path parts as a ReplacePrefixMatch rewrite cuts them, one route rule each.
    const cut = pathParts(m, { type: 'URLRewrite', path: redirect.path });
    return cut.map((p) => ({ matchRules: [{ ...p.match, ...extra }], urlRedirect: redirectOf(redirect, m, at, ctx, p), ...common }));
  }
  if (redirect) {
    return [{ matchRules: parts.map((p) => ({ ...p.match, ...extra })), urlRedirect: redirectOf(redirect, m, at, ctx), ...common }];
  }
  const backends = weightedBackends(rule, at, ctx);
  if (!backends) return [{ matchRules: parts.map((p) => ({ ...p.match, ...extra })), routeAction: abort(500, ctx) }];
  const action = (p?: PathPart): RouteAction => {
    const urlRewrite = { ...(rewrite?.hostname !== undefined ? { hostRewrite: rewrite.hostname } : {}), ...(p?.rewrite ?? {}) };
    return { weightedBackendServices: backends, ...(Object.keys(urlRewrite).length > 0 ? { urlRewrite } : {}) };
  };
  // Parts with their own path rewrite need a route rule each; otherwise the matchRules OR in one.
  if (parts.some((p) => p.rewrite !== undefined)) return parts.map((p) => ({ matchRules: [{ ...p.match, ...extra }], routeAction: action(p), ...common }));
  return [{ matchRules: parts.map((p) => ({ ...p.match, ...extra })), routeAction: action(), ...common }];
}

/** Whether a hostname pattern (absent: any) covers every host a host key stands for. */
function covers(pattern: string | undefined, key: string): boolean {
  if (pattern === undefined) return true;
  if (key === '*') return false;
  if (key.startsWith('*.')) return pattern.startsWith('*.') && (key === pattern || key.endsWith(pattern.slice(1)));
  return pattern === key || (pattern.startsWith('*.') && key.endsWith(pattern.slice(1)) && key.length > pattern.length - 1);
}

/** The URL map of one HTTP or HTTPS Gateway port. */
export function gatewayUrlMap(listeners: readonly HttpGatewayListener[], description: string, ctx: GatewayUrlMapContext): UrlMap {
  const ordered = listenersBySpecificity(listeners);
  const keys = new Set<string>();
  for (const l of ordered) {
    keys.add(l.hostname ?? '*');
    for (const r of l.rules) for (const h of r.hostnames) keys.add(h);
  }
  const notFound = abort(404, ctx);
  const hosts = [...keys].sort();
  const pathMatchers = hosts.map((host) => {
    // The listener claiming the host: the most specific one whose hostname covers it.
    const listener = ordered.find((l) => covers(l.hostname, host));
    const matches = listener ? rankedMatches(listener).filter((m) => covers(m.hostname ?? listener.hostname, host)) : [];
    const rules = matches.flatMap((m) => routeRules(m.rule, m.match, ctx));
    return { host, name: pathMatcherName(host), defaultRouteAction: notFound, routeRules: rules.map((r, i) => ({ priority: i, ...r })) };
  });
  // A host without rules needs its own 404 only where a broader host with rules would otherwise take it.
  const served = pathMatchers.filter((p) => p.routeRules.length > 0);
  const kept = pathMatchers.filter((p) => p.routeRules.length > 0 || served.some((s) => s.host !== p.host && covers(s.host === '*' ? undefined : s.host, p.host)));
  return {
    description,
    defaultRouteAction: notFound,
    hostRules: kept.map((p) => ({ hosts: [p.host], pathMatcher: p.name })),
    pathMatchers: kept.map(({ host: _host, ...p }) => p),
  };
}
