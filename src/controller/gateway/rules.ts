// A route's rules into the model's rules, independent of the listener (hostnames are
// added per listener by the builder): HTTPRoute matches, filters, weighted backends and
// timeouts; GRPCRoute method matches written as the HTTP/2 paths gRPC uses
// (`/package.Service/Method`, gRPC over HTTP/2's :path) with backendProtocol h2c; and
// TLS, TCP and UDP rules' weighted backends. What the provider cannot serve is collected
// as UnsupportedValue, what does not resolve as ResolvedRefs problems.
import type { GatewayFeature } from '../../model/gateway-features.js';
import type { HttpRequestMatch, HttpRouteRule, L4RouteRule, RouteOrigin, WeightedBackend } from '../../model/gateway.js';
import type { GRPCRouteRule, HTTPBackendRef, HTTPRouteMatch, HTTPRouteRule as HTTPRouteRuleObject, L4RouteRuleObject } from '../../kube/gateway-api.js';
import type { BackendProtocol, GatewayBackends, RefProblem } from './backend-refs.js';
import { parseDuration } from './durations.js';
import { convertFilters, type FilterContext } from './filters.js';
import type { RouteEntry } from './routes.js';

export type ListenerFreeHttpRule = Omit<HttpRouteRule, 'hostnames'>;

export interface RouteRules {
  /** HTTPRoute and GRPCRoute rules. */
  readonly http: readonly ListenerFreeHttpRule[];
  /** TLSRoute, TCPRoute and UDPRoute rules. */
  readonly l4: readonly L4RouteRule[];
  /** Why the route is UnsupportedValue; empty when it is not. */
  readonly unsupported: readonly string[];
  readonly refs: readonly RefProblem[];
}

const ROOT_PREFIX: HttpRequestMatch = { path: { type: 'PathPrefix', value: '/' }, headers: [], queryParams: [] };

function validRegex(source: string): boolean {
  try {
    new RegExp(source);
    return true;
  } catch {
    return false;
  }
}

function origin(route: RouteEntry, ruleIndex: number): RouteOrigin {
  return { kind: route.kind, namespace: route.namespace, name: route.name, creationTimestamp: route.creationTimestamp, ruleIndex };
}

interface Ctx extends FilterContext {
  readonly route: RouteEntry;
  readonly backends: GatewayBackends;
}

function weighted(ctx: Ctx, refs: readonly (HTTPBackendRef | (L4RouteRuleObject['backendRefs'] & object)[number])[] | undefined, protocol: BackendProtocol, field: string): WeightedBackend[] {
  return (refs ?? []).map((ref, j) => {
    const at = `${field}[${j}]`;
    const r = ctx.backends.resolve(ctx.route, ref, protocol, at);
    if ('problem' in r) ctx.refs.push(r.problem);
    if ('unsupported' in r) ctx.unsupported.push(r.unsupported);
    const filters = 'filters' in ref && ref.filters ? convertFilters(ref.filters, `${at}.filters`, ctx, true) : [];
    return { ...('targetSet' in r ? { targetSet: r.targetSet } : {}), weight: ref.weight ?? 1, filters };
  });
}

function httpMatch(m: HTTPRouteMatch, field: string, ctx: Ctx): HttpRequestMatch {
  const path = m.path ? { type: m.path.type ?? 'PathPrefix', value: m.path.value ?? '/' } : ROOT_PREFIX.path;
  if (path?.type === 'RegularExpression' && !validRegex(path.value)) ctx.unsupported.push(`${field}.path.value: ${path.value} is not a regular expression lbc can use`);
  const headers = (m.headers ?? []).map((h, k) => {
    const type = h.type ?? 'Exact';
    if (type === 'RegularExpression' && !validRegex(h.value)) ctx.unsupported.push(`${field}.headers[${k}].value: ${h.value} is not a regular expression lbc can use`);
    return { type, name: h.name.toLowerCase(), value: h.value };
  });
  const queryParams = (m.queryParams ?? []).map((q) => ({ type: q.type ?? 'Exact', name: q.name, value: q.value }));
  if (queryParams.length > 0 && !ctx.features.has('HTTPRouteQueryParamMatching')) ctx.unsupported.push(`${field}.queryParams: not supported by this provider (HTTPRouteQueryParamMatching)`);
  if (m.method !== undefined && !ctx.features.has('HTTPRouteMethodMatching')) ctx.unsupported.push(`${field}.method: not supported by this provider (HTTPRouteMethodMatching)`);
  return { ...(path ? { path } : {}), headers, queryParams, ...(m.method !== undefined ? { method: m.method.toUpperCase() } : {}) };
}

function timeoutsOf(t: HTTPRouteRuleObject['timeouts'], field: string, ctx: Ctx): HttpRouteRule['timeouts'] {
  if (!t) return undefined;
  const out: { requestMs?: number; backendRequestMs?: number } = {};
  const one = (value: string | undefined, name: 'request' | 'backendRequest', feature: GatewayFeature): number | undefined => {
    if (value === undefined) return undefined;
    const ms = parseDuration(value);
    if (ms === undefined) ctx.unsupported.push(`${field}.${name}: ${value} is not a duration`);
    else if (!ctx.features.has(feature)) ctx.unsupported.push(`${field}.${name}: not supported by this provider (${feature})`);
    // Zero disables the timeout, as the specification says.
    return ms === 0 ? undefined : ms;
  };
  const request = one(t.request, 'request', 'HTTPRouteRequestTimeout');
  const backend = one(t.backendRequest, 'backendRequest', 'HTTPRouteBackendTimeout');
  if (request !== undefined) out.requestMs = request;
  if (backend !== undefined) out.backendRequestMs = backend;
  if (request !== undefined && backend !== undefined && backend > request) ctx.unsupported.push(`${field}.backendRequest: ${t.backendRequest ?? ''} is longer than request ${t.request ?? ''}`);
  return Object.keys(out).length > 0 ? out : undefined;
}

function httpRules(ctx: Ctx, rules: readonly HTTPRouteRuleObject[]): ListenerFreeHttpRule[] {
  return rules.map((rule, i) => {
    const field = `spec.rules[${i}]`;
    const matches = rule.matches && rule.matches.length > 0 ? rule.matches.map((m, j) => httpMatch(m, `${field}.matches[${j}]`, ctx)) : [ROOT_PREFIX];
    const filters = convertFilters(rule.filters, `${field}.filters`, ctx);
    // The specification: ReplacePrefixMatch only with PathPrefix matches, else the route is not Accepted.
    const replacesPrefix = filters.some((f) => (f.type === 'URLRewrite' || f.type === 'RequestRedirect') && f.path?.type === 'ReplacePrefixMatch');
    if (replacesPrefix && matches.some((m) => m.path?.type !== 'PathPrefix')) ctx.unsupported.push(`${field}: ReplacePrefixMatch needs every match to be a PathPrefix match`);
    const timeouts = timeoutsOf(rule.timeouts, `${field}.timeouts`, ctx);
    return {
      origin: origin(ctx.route, i),
      matches,
      filters,
      backends: weighted(ctx, rule.backendRefs, 'HTTP', `${field}.backendRefs`),
      backendProtocol: 'http1' as const,
      ...(timeouts ? { timeouts } : {}),
    };
  });
}

const escapeRegex = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A GRPCMethodMatch as a path match: Exact service and method is an Exact path; a missing part matches any. */
function grpcPath(m: NonNullable<NonNullable<GRPCRouteRule['matches']>[number]['method']>, field: string, ctx: Ctx): HttpRequestMatch['path'] {
  const type = m.type ?? 'Exact';
  if (type === 'RegularExpression') {
    for (const [part, v] of [['service', m.service], ['method', m.method]] as const) {
      if (v !== undefined && !validRegex(v)) ctx.unsupported.push(`${field}.${part}: ${v} is not a regular expression lbc can use`);
    }
    return { type: 'RegularExpression', value: `/${m.service ?? '[^/]+'}/${m.method ?? '[^/]+'}` };
  }
  if (m.service !== undefined && m.method !== undefined) return { type: 'Exact', value: `/${m.service}/${m.method}` };
  if (m.service !== undefined) return { type: 'PathPrefix', value: `/${m.service}` };
  if (m.method !== undefined) return { type: 'RegularExpression', value: `/[^/]+/${escapeRegex(m.method)}` };
  return { type: 'PathPrefix', value: '/' };
}

function grpcRules(ctx: Ctx, rules: readonly GRPCRouteRule[]): ListenerFreeHttpRule[] {
  return rules.map((rule, i) => {
    const field = `spec.rules[${i}]`;
    const matches: HttpRequestMatch[] =
      rule.matches && rule.matches.length > 0
        ? rule.matches.map((m, j) => {
            const path = m.method ? grpcPath(m.method, `${field}.matches[${j}].method`, ctx) : ROOT_PREFIX.path;
            return { ...(path ? { path } : {}), headers: (m.headers ?? []).map((h) => ({ type: h.type ?? 'Exact', name: h.name.toLowerCase(), value: h.value })), queryParams: [] };
          })
        : [ROOT_PREFIX];
    return {
      origin: origin(ctx.route, i),
      matches,
      filters: convertFilters(rule.filters, `${field}.filters`, ctx),
      backends: weighted(ctx, rule.backendRefs, 'HTTP', `${field}.backendRefs`),
      backendProtocol: 'h2c' as const,
    };
  });
}

function l4Rules(ctx: Ctx, rules: readonly L4RouteRuleObject[], protocol: BackendProtocol): L4RouteRule[] {
  return rules.map((rule, i) => ({ origin: origin(ctx.route, i), backends: weighted(ctx, rule.backendRefs, protocol, `spec.rules[${i}].backendRefs`) }));
}

export function buildRouteRules(route: RouteEntry, backends: GatewayBackends, features: ReadonlySet<GatewayFeature>, resolveExtension?: FilterContext['resolveExtension']): RouteRules {
  const unsupported: string[] = [];
  const refs: RefProblem[] = [];
  const ctx: Ctx = {
    route,
    backends,
    features,
    unsupported,
    refs,
    resolveMirror: (ref, field) => backends.resolve(route, ref, 'HTTP', field),
    ...(resolveExtension ? { resolveExtension } : {}),
  };
  switch (route.kind) {
    case 'HTTPRoute':
      return { http: httpRules(ctx, route.route.spec?.rules ?? []), l4: [], unsupported, refs };
    case 'GRPCRoute':
      return { http: grpcRules(ctx, route.route.spec?.rules ?? []), l4: [], unsupported, refs };
    case 'TLSRoute':
    case 'TCPRoute':
      return { http: [], l4: l4Rules(ctx, route.route.spec?.rules ?? [], 'TCP'), unsupported, refs };
    case 'UDPRoute':
      return { http: [], l4: l4Rules(ctx, route.route.spec?.rules ?? [], 'UDP'), unsupported, refs };
  }
}
