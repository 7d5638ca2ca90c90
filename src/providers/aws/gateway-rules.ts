// A Gateway port's HTTPRoute and GRPCRoute rules as ALB listener rules, as
// aws-load-balancer-controller v3.5 writes them (pkg/gateway/model/model_build_listener.go
// buildListenerRules; pkg/gateway/routeutils route_rule_condition.go, route_rule_action.go,
// route_rule_transform.go): one ALB rule per match (ALB ANDs a rule's conditions, a route
// rule ORs its matches), priorities 1, 2, … in the specification's precedence order, a
// weighted forward to one target group per backend, RequestRedirect as a redirect action,
// URLRewrite as the rule's transforms, and 404 where no rule matches.
//
// Where lbc differs, it is towards the specification, and said here:
// - one ALB rule per (match, route hostname), so the hostname tie-break of the precedence
//   order (model/gateway-match.ts) holds on ALB too;
// - listeners that share a port keep their routes apart (GatewayHTTPListenerIsolation): a
//   listener's rules come before those of less specific listeners, followed by a 404 for
//   its hostname, so a less specific listener never serves its host;
// - a rule whose backends all fail to resolve, or all weigh 0, answers 500 (ALBC leaves the
//   action out); header values are compared literally (ALBC splits them at commas);
// - what ALB cannot do is refused with the route and rule named, never dropped.
//
// A rule's ListenerRuleConfiguration (ExtensionRef filter; listener-rule-configuration.ts)
// adds its authenticate action, fixed response, stickiness, redirect query and source-ip
// conditions as ALBC's buildListenerRules does.
import type { HttpFilter, HttpGatewayListener, HttpHeaderMatch, HttpRequestMatch, HttpRouteRule, RouteOrigin } from '../../model/gateway.js';
import { listenersBySpecificity, matchedPrefix, rankedMatches } from '../../model/gateway-match.js';
import { desiredAuth, type DesiredAuth } from './authentication.js';
import { pathPatterns, type DesiredAction, type DesiredCondition, type DesiredRule, type DesiredTransform } from './desired.js';
import { LISTENER_RULE_CONFIGURATION, type ListenerRuleConfigurationOptions } from './listener-rule-configuration.js';

export interface GatewayRuleContext {
  /** The name of the target group serving `targetSet` for `route`'s rule; `grpc` for GRPCRoute backends (protocol version GRPC). */
  readonly targetGroup: (targetSet: string, grpc: boolean, route: RouteOrigin) => string;
  readonly invalid: (message: string) => Error;
  readonly warnings: string[];
  /** Whether the port is an HTTPS listener: ALB authenticates on HTTPS listeners only. */
  readonly https: boolean;
}

type ExtensionFilter = Extract<HttpFilter, { type: 'Extension' }>;

export const NOT_FOUND: DesiredAction = { type: 'fixed-response', statusCode: '404', contentType: 'text/plain' };
/** The specification's answer for a rule without a valid backend. */
const NO_BACKEND: DesiredAction = { type: 'fixed-response', statusCode: '500', contentType: 'text/plain' };
/** ELBv2 ForwardConfig weights are 0-999; Gateway API weights go to 1,000,000. */
const ALB_MAX_WEIGHT = 999;
/** ALB reads these as wildcards in path patterns and header values. */
const WILDCARDS = /[*?]/;

const escapeRegex = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function where(o: RouteOrigin): string {
  return `${o.kind} ${o.namespace}/${o.name} spec.rules[${o.ruleIndex}]`;
}

/** Only the first entry of a name counts (HTTPHeaderMatch.name). */
function firstByName<T extends { readonly name: string }>(items: readonly T[]): T[] {
  const seen = new Set<string>();
  return items.filter((i) => (seen.has(i.name) ? false : (seen.add(i.name), true)));
}

function pathConditions(match: HttpRequestMatch, at: string, ctx: GatewayRuleContext): { paths: string[]; conditions: DesiredCondition[] } {
  const p = match.path ?? { type: 'PathPrefix' as const, value: '/' };
  if (p.type === 'RegularExpression') return { paths: [], conditions: [{ field: 'path-pattern-regex', values: [p.value] }] };
  // As ALBC (buildHttpPathCondition): a literal * or ? would be a wildcard in a path pattern.
  if (WILDCARDS.test(p.value)) throw ctx.invalid(`${at}: path ${p.value} contains * or ?, which ALB path patterns read as wildcards`);
  // PathPrefix /abc is ALB's /abc and /abc/* (whole path elements); / is /*.
  return { paths: p.type === 'Exact' ? [p.value] : pathPatterns(p.value, 'Prefix'), conditions: [] };
}

function headerCondition(h: HttpHeaderMatch, at: string, ctx: GatewayRuleContext): DesiredCondition {
  if (h.type === 'RegularExpression') return { field: 'http-header-regex', name: h.name, values: [h.value] };
  if (WILDCARDS.test(h.value)) throw ctx.invalid(`${at}: header ${h.name} value ${h.value} contains * or ?, which ALB reads as wildcards in header values; use a RegularExpression match`);
  return { field: 'http-header', name: h.name, values: [h.value] };
}

function matchConditions(match: HttpRequestMatch, at: string, ctx: GatewayRuleContext): { paths: string[]; conditions: DesiredCondition[] } {
  const { paths, conditions } = pathConditions(match, at, ctx);
  for (const h of firstByName(match.headers)) conditions.push(headerCondition(h, at, ctx));
  for (const q of firstByName(match.queryParams)) {
    if (q.type === 'RegularExpression') throw ctx.invalid(`${at}: query parameter ${q.name}: ALB matches query strings by value or wildcard, not by regular expression`);
    // A literal * or ? in a query-string condition is escaped with \ (ELBv2 QueryStringKeyValuePair).
    conditions.push({ field: 'query-string', values: [{ key: q.name, value: q.value.replace(/[*?\\]/g, '\\$&') }] });
  }
  if (match.method !== undefined) conditions.push({ field: 'http-request-method', values: [match.method] });
  return { paths, conditions };
}

/** A RequestRedirect filter as ALB's redirect action (ELBv2 takes 301 and 302 only). */
function redirectAction(f: Extract<HttpFilter, { type: 'RequestRedirect' }>, at: string, ctx: GatewayRuleContext): DesiredAction {
  if (f.statusCode !== 301 && f.statusCode !== 302) throw ctx.invalid(`${at}: RequestRedirect statusCode ${f.statusCode}: ALB redirects with 301 or 302 only`);
  if (f.path !== undefined) throw ctx.invalid(`${at}: RequestRedirect path: ALB cannot rewrite the path of a redirect by prefix (HTTPRoutePathRedirect)`);
  // HTTPRequestRedirectFilter.port: with a scheme and no port, the scheme's well-known port;
  // without either, the listener's (ALB's #{port}).
  const port = f.port ?? (f.scheme === 'https' ? 443 : f.scheme === 'http' ? 80 : undefined);
  // As ALBC (buildHttpRedirectAction): a redirect changing nothing would loop, and ELBv2 refuses it.
  if (f.scheme === undefined && f.hostname === undefined && port === undefined) {
    throw ctx.invalid(`${at}: RequestRedirect changes neither scheme, hostname nor port: the redirect would loop, and ALB refuses it`);
  }
  return {
    type: 'redirect',
    statusCode: f.statusCode === 301 ? 'HTTP_301' : 'HTTP_302',
    ...(f.scheme !== undefined ? { protocol: f.scheme.toUpperCase() } : {}),
    ...(port !== undefined ? { port: String(port) } : {}),
    ...(f.hostname !== undefined ? { host: f.hostname } : {}),
  };
}

/** The backends as a forward action; 500 when none resolved or all weigh 0. */
function forwardAction(rule: HttpRouteRule, at: string, ctx: GatewayRuleContext): DesiredAction {
  const grpc = rule.backendProtocol === 'h2c';
  const weights = new Map<string, number>();
  let unresolved = 0;
  for (const b of rule.backends) {
    if (b.targetSet === undefined) {
      if (b.weight > 0) unresolved++;
      continue;
    }
    const tg = ctx.targetGroup(b.targetSet, grpc, rule.origin);
    weights.set(tg, (weights.get(tg) ?? 0) + b.weight);
  }
  const total = [...weights.values()].reduce((n, w) => n + w, 0);
  if (total === 0) return NO_BACKEND;
  if (unresolved > 0) {
    ctx.warnings.push(`${at}: ALB cannot answer part of a rule's requests with 500; the share of its ${unresolved} unresolved backendRef(s) goes to the resolved ones`);
  }
  const max = Math.max(...weights.values());
  const scale = (w: number): number => (max <= ALB_MAX_WEIGHT || w === 0 ? w : Math.max(1, Math.round((w * ALB_MAX_WEIGHT) / max)));
  const groups = [...weights.entries()].map(([targetGroup, w]) => ({ targetGroup, weight: scale(w) }));
  const [only] = groups;
  return groups.length === 1 && only ? { type: 'forward', targetGroup: only.targetGroup } : { type: 'forward-weighted', targetGroups: groups };
}

/**
 * URLRewrite as ALB transforms, the regular expressions ALBC writes
 * (route_rule_transform.go): the whole Host header; the path without the query for
 * ReplaceFullPath; the matched prefix with the `/` after it for ReplacePrefixMatch, kept
 * unless the replacement ends in one (`/foo/bar` → `/xyz/bar`, as replacePrefix).
 */
function rewriteTransforms(f: Extract<HttpFilter, { type: 'URLRewrite' }>, match: HttpRequestMatch): DesiredTransform[] {
  const out: DesiredTransform[] = [];
  if (f.hostname !== undefined) out.push({ type: 'host-header-rewrite', regex: '.*', replace: f.hostname });
  const path = f.path;
  if (path?.type === 'ReplaceFullPath') out.push({ type: 'url-rewrite', regex: '^([^?]*)', replace: path.value });
  if (path?.type === 'ReplacePrefixMatch') {
    const prefix = matchedPrefix(match) ?? '/';
    if (prefix === '/') out.push({ type: 'url-rewrite', regex: '^/', replace: `${path.value.replace(/\/+$/, '')}/` });
    else out.push({ type: 'url-rewrite', regex: `^${escapeRegex(prefix)}(/?)`, replace: path.value === '' ? '/' : path.value.endsWith('/') ? path.value : `${path.value}$1` });
  }
  return out;
}

type UnprioritizedRule = Omit<DesiredRule, 'priority'>;

/** The rule's authenticate action, as ALBC's BuildRulePreRoutingAction, or why it cannot be honoured (nothing is then served). */
function ruleAuth(lrc: ExtensionFilter, cfg: ListenerRuleConfigurationOptions, at: string, ctx: GatewayRuleContext): DesiredAuth | undefined {
  if (!cfg.auth) return undefined;
  const name = `${lrc.parameters.kind} ${lrc.parameters.namespace}/${lrc.parameters.name}`;
  // ALBC skips the action on a plain HTTP listener and serves the rule open; lbc will not expose it so.
  if (!ctx.https) throw ctx.invalid(`${at}: ${name} authenticates (${cfg.auth.type}), which ALB does on HTTPS listeners only; lbc will not serve the rule unauthenticated on an HTTP listener`);
  const d = desiredAuth(cfg.auth, lrc.parameters.namespace, lrc.secrets);
  // desiredAuth words its problem for the Ingress annotation; here the Secret is the configuration's.
  if (typeof d === 'string') throw ctx.invalid(`${at}: ${name} authenticateOIDCConfig.secret: ${d.replace(/^[^:]*: /, '')}`);
  return d;
}

/** The configuration's routing action in place of (or on) the route's, as ALBC's BuildRuleRoutingAction. */
function configuredAction(action: DesiredAction, redirected: boolean, cfg: ListenerRuleConfigurationOptions | undefined, at: string, ctx: GatewayRuleContext): DesiredAction {
  if (!cfg) return action;
  if (cfg.fixedResponse) return cfg.fixedResponse;
  if (cfg.redirectQuery !== undefined) {
    if (!redirected || action.type !== 'redirect') throw ctx.invalid(`${at}: a ListenerRuleConfiguration redirectConfig needs a RequestRedirect filter on the rule (as ALBC)`);
    return { ...action, query: cfg.redirectQuery };
  }
  if (cfg.stickinessSeconds !== undefined) {
    if (action.type === 'forward') return { type: 'forward-weighted', targetGroups: [{ targetGroup: action.targetGroup, weight: 1 }], stickinessSeconds: cfg.stickinessSeconds };
    if (action.type === 'forward-weighted') return { ...action, stickinessSeconds: cfg.stickinessSeconds };
  }
  return action;
}

function albRule(rule: HttpRouteRule, match: HttpRequestMatch, host: string | undefined, ctx: GatewayRuleContext): UnprioritizedRule {
  const at = where(rule.origin);
  if (rule.timeouts !== undefined) throw ctx.invalid(`${at}: timeouts: ALB has one idle timeout per load balancer, not per rule`);
  let redirect: DesiredAction | undefined;
  let lrc: ExtensionFilter | undefined;
  const transforms: DesiredTransform[] = [];
  for (const f of rule.filters) {
    switch (f.type) {
      case 'RequestRedirect':
        redirect = redirectAction(f, at, ctx);
        break;
      case 'Extension':
        if (f.parameters.group !== LISTENER_RULE_CONFIGURATION.group || f.parameters.kind !== LISTENER_RULE_CONFIGURATION.kind) throw ctx.invalid(`${at}: ExtensionRef ${f.parameters.kind}: not supported by ALB`);
        if (lrc) throw ctx.invalid(`${at}: ExtensionRef: one ListenerRuleConfiguration per rule (${lrc.parameters.name} and ${f.parameters.name})`);
        lrc = f;
        break;
      case 'URLRewrite':
        transforms.push(...rewriteTransforms(f, match));
        break;
      case 'RequestHeaderModifier':
        // Core, so the builder never refuses it; ALB rules have no header actions (ALBC refuses it too).
        throw ctx.invalid(`${at}: RequestHeaderModifier: ALB listener rules cannot add, set or remove request headers`);
      default:
        throw ctx.invalid(`${at}: ${f.type}: not supported by ALB`);
    }
  }
  if (rule.backends.some((b) => b.filters.length > 0)) throw ctx.invalid(`${at}: backendRefs[].filters: ALB applies no filter per backend`);
  const { paths, conditions } = matchConditions(match, at, ctx);
  const cfg = lrc?.parameters.value as ListenerRuleConfigurationOptions | undefined;
  // As ALBC's BuildSourceIpInCondition: a condition lists the matches it is for (by index), or is for all.
  const matchIndex = rule.matches.indexOf(match);
  const sourceIp = (cfg?.sourceIp ?? []).filter((s) => s.matchIndexes === undefined || s.matchIndexes.includes(matchIndex));
  // ELBv2 takes one source-ip condition per rule; two would be ANDed by ALBC and refused by ELBv2.
  if (sourceIp.length > 1) throw ctx.invalid(`${at}: matches[${matchIndex}]: ${sourceIp.length} source-ip conditions of ListenerRuleConfiguration ${lrc?.parameters.name ?? ''} apply; ALB takes one per rule`);
  for (const s of sourceIp) conditions.push({ field: 'source-ip', values: s.values });
  const auth = lrc && cfg ? ruleAuth(lrc, cfg, at, ctx) : undefined;
  const action = configuredAction(redirect ?? forwardAction(rule, at, ctx), redirect !== undefined, cfg, at, ctx);
  return {
    hosts: host !== undefined ? [host] : [],
    paths,
    conditions: conditions.map((c) => ('values' in c && c.field !== 'query-string' ? { ...c, values: [...c.values].sort() } : c)),
    ...(auth ? { auth } : {}),
    action,
    ...(transforms.length > 0 && action.type !== 'redirect' && action.type !== 'fixed-response' ? { transforms } : {}),
  };
}

/** The ALB rules of one HTTP or HTTPS Gateway port, prioritised 1, 2, … */
export function gatewayPortRules(listeners: readonly HttpGatewayListener[], ctx: GatewayRuleContext): DesiredRule[] {
  const ordered = listenersBySpecificity(listeners);
  const rules: UnprioritizedRule[] = [];
  ordered.forEach((l, i) => {
    for (const m of rankedMatches(l)) rules.push(albRule(m.rule, m.match, m.hostname ?? l.hostname, ctx));
    // Listener isolation: once this listener's rules are passed, its hostname is answered 404.
    if (l.hostname !== undefined && ordered.slice(i + 1).some((x) => x.rules.length > 0)) rules.push({ hosts: [l.hostname], paths: ['/*'], conditions: [], action: NOT_FOUND });
  });
  return rules.map((r, i) => ({ ...r, priority: i + 1 }));
}
