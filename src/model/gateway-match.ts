// Which listener, rule and match serve a request on one Gateway port, by the Gateway API
// specification (v1.4 CRD descriptions, ../shared/crds/gateway-api-v1.4.0):
//
// - Listener first (Listener.hostname, "Listeners that are distinct only by Hostname"):
//   an exact hostname beats a wildcard, a wildcard with more labels right of the `*`
//   beats one with fewer, and a listener without hostname comes last. Only the chosen
//   listener's routes are considered (listener isolation, conformance
//   GatewayHTTPListenerIsolation): no rule there means 404, even if a less specific
//   listener has one.
// - Hostnames: `*.example.com` is a suffix match over one or more labels
//   (`a.b.example.com` matches, `example.com` does not); the Host header's port is
//   ignored (HTTPRouteSpec.hostnames).
// - Across every rule of the listener (HTTPRouteRule.matches): an Exact path match, then
//   the PathPrefix with the most characters, then a method match, then the most header
//   matches, then the most query param matches. RegularExpression precedence is left to
//   implementations: lbc ranks it after Exact and before PathPrefix (a regex is written
//   to single out paths a prefix such as `/` would also catch), longer patterns first.
// - Then the route hostname tie-break (HTTPRouteSpec.hostnames: most characters in a
//   matching non-wildcard hostname, then in a matching hostname). The spec text puts it
//   before the match criteria, but conformance HTTPRouteMatchingAcrossRoutes requires
//   `example.com/v2` to reach the `*.com` route's `/v2` rule rather than the
//   `example.com` route's `/` rule, so the hostname only decides between matches the
//   criteria above leave tied (what kuma#3959 and envoyproxy/gateway#483 settled on).
// - Then the oldest route (creationTimestamp), then `namespace/name` alphabetically,
//   then the first rule in the route's list.
// - PathPrefix matches whole path elements, ignoring a trailing `/` in the value
//   (`/abc` matches `/abc`, `/abc/`, `/abc/def`, not `/abcd`).
// - RegularExpression (path, header, query param) uses RE2 syntax (@bufbuild/re2, the
//   engine devcluster already uses for CRD patterns) and must match the whole value, as
//   Envoy's safe_regex does; a pattern RE2 refuses never matches.
//
// The order is a property of each (rule, match, hostname) triple alone, so it is sorted
// once per port and a request takes the first triple that matches among those indexed
// under its host: the cost per request does not grow with routes for other hosts.
import { RE2JS } from '@bufbuild/re2';
import { normalizeRequestHost } from './routes.js';
import type { HttpGatewayListener, HttpRequestMatch, HttpRouteRule, RouteOrigin, TlsGatewayListener, TlsRouteRule } from './gateway.js';

/** What the matcher reads of a request. */
export interface HttpRequestFacts {
  /** The Host header or :authority, as sent (port and case are ignored). */
  readonly host: string;
  /** The request target: path and query string. */
  readonly url: string;
  readonly method: string;
  /** A header's value by lower-case name, repeated values joined with `, `. */
  header(name: string): string | undefined;
  /**
   * On an HTTPS port, the server name the client's TLS handshake sent: it, not Host,
   * selects the listener, whose routes then match by Host (conformance
   * HTTPRouteHTTPSListener: SNI unknown-example.org with Host second-example.org is 404).
   */
  readonly sni?: string | undefined;
}

export interface HttpMatch<L extends HttpGatewayListener = HttpGatewayListener> {
  readonly listener: L;
  readonly rule: HttpRouteRule;
  readonly match: HttpRequestMatch;
}

/** Lower case, without port or trailing dot (the Ingress matcher's rule, which is also the Gateway API's). */
export const normalizeHost = normalizeRequestHost;

/** Whether a Gateway API hostname (exact or `*.` suffix over one or more labels) matches host. */
export function hostnameMatches(pattern: string, host: string): boolean {
  if (pattern.startsWith('*.')) return host.endsWith(pattern.slice(1)) && host.length > pattern.length - 1;
  return pattern === host;
}

/** The suffixes a wildcard could name for host: `a.b.c` → `.b.c`, `.c`. */
function wildcardSuffixes(host: string): string[] {
  const out: string[] = [];
  for (let i = host.indexOf('.'); i >= 0; i = host.indexOf('.', i + 1)) out.push(host.slice(i));
  return out;
}

/** Listener specificity: exact, then wildcards by labels then length, then none. Higher is more specific. */
function listenerRank(hostname: string | undefined): [number, number, number] {
  if (hostname === undefined || hostname === '') return [0, 0, 0];
  if (hostname.startsWith('*.')) return [1, hostname.split('.').length, hostname.length];
  return [2, 0, hostname.length];
}

function compareRank(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < a.length; i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (b[i] ?? 0) - (a[i] ?? 0);
  return 0;
}

/** The listeners that can serve host, most specific first. */
function listenersFor<L extends { readonly hostname?: string }>(sorted: readonly L[], host: string): L | undefined {
  return sorted.find((l) => l.hostname === undefined || l.hostname === '' || hostnameMatches(l.hostname, host));
}

function sortListeners<L extends { readonly hostname?: string }>(listeners: readonly L[]): L[] {
  return [...listeners].sort((a, b) => compareRank(listenerRank(a.hostname), listenerRank(b.hostname)));
}

function originOrder(a: RouteOrigin, b: RouteOrigin): number {
  const ta = Date.parse(a.creationTimestamp);
  const tb = Date.parse(b.creationTimestamp);
  if (ta !== tb && !Number.isNaN(ta) && !Number.isNaN(tb)) return ta - tb;
  const na = `${a.namespace}/${a.name}`;
  const nb = `${b.namespace}/${b.name}`;
  if (na !== nb) return na < nb ? -1 : 1;
  if (a.kind !== b.kind) return a.kind < b.kind ? -1 : 1;
  return a.ruleIndex - b.ruleIndex;
}

const regexCache = new Map<string, RE2JS | null>();

/** RE2, whole value; undefined when RE2 refuses the pattern (it then never matches). */
function compileRegex(pattern: string): RE2JS | undefined {
  let re = regexCache.get(pattern);
  if (re === undefined) {
    try {
      re = RE2JS.compile(pattern);
    } catch {
      re = null;
    }
    if (regexCache.size > 10_000) regexCache.clear();
    regexCache.set(pattern, re);
  }
  return re ?? undefined;
}

export function isValidRegex(pattern: string): boolean {
  return compileRegex(pattern) !== undefined;
}

type ValueTest = (value: string | undefined) => boolean;

function valueTest(type: 'Exact' | 'RegularExpression', expected: string): ValueTest {
  if (type === 'Exact') return (v) => v === expected;
  const re = compileRegex(expected);
  return (v) => v !== undefined && re !== undefined && re.matches(v);
}

/** True when the prefix (trailing `/` ignored) covers path by whole elements. */
export function prefixMatches(prefix: string, path: string): boolean {
  const p = prefix.length > 1 && prefix.endsWith('/') ? prefix.replace(/\/+$/, '') : prefix;
  if (p === '/' || p === '') return true;
  return path === p || (path.startsWith(p) && path.charAt(p.length) === '/');
}

interface Entry {
  readonly rule: HttpRouteRule;
  readonly match: HttpRequestMatch;
  /** Position in the port's total order: lower wins. */
  rank: number;
  readonly test: (path: string, query: URLSearchParams | undefined, req: HttpRequestFacts) => boolean;
  readonly needsQuery: boolean;
}

interface Keyed {
  readonly entry: Omit<Entry, 'rank'>;
  /** Match criteria, hostname, then -creation time: higher sorts first. */
  readonly key: readonly number[];
  readonly origin: RouteOrigin;
  /** `namespace/name`, then the rule and match positions, for the last tie-breaks. */
  readonly name: string;
  readonly position: number;
  readonly hostname: string | undefined;
}

function matchKey(m: HttpRequestMatch): number[] {
  const path = m.path ?? { type: 'PathPrefix' as const, value: '/' };
  const kind = path.type === 'Exact' ? 2 : path.type === 'RegularExpression' ? 1 : 0;
  return [kind, path.value.length, m.method !== undefined ? 1 : 0, firstByName(m.headers).length, firstByName(m.queryParams).length];
}

/** Only the first entry of a name counts (HTTPHeaderMatch.name, HTTPQueryParamMatch.name). */
function firstByName<T extends { readonly name: string }>(items: readonly T[]): T[] {
  const seen = new Set<string>();
  return items.filter((i) => (seen.has(i.name) ? false : (seen.add(i.name), true)));
}

function hostnameKey(hostname: string | undefined): [number, number] {
  if (hostname === undefined) return [0, 0];
  return hostname.startsWith('*.') ? [0, hostname.length] : [hostname.length, hostname.length];
}

function compileMatch(m: HttpRequestMatch): Pick<Entry, 'test' | 'needsQuery'> {
  const path = m.path;
  let pathTest: (p: string) => boolean = () => true;
  if (path?.type === 'Exact') pathTest = (p) => p === path.value;
  else if (path?.type === 'PathPrefix') pathTest = (p) => prefixMatches(path.value, p);
  else if (path?.type === 'RegularExpression') {
    const t = valueTest('RegularExpression', path.value);
    pathTest = (p) => t(p);
  }
  const headers = firstByName(m.headers).map((h) => ({ name: h.name.toLowerCase(), test: valueTest(h.type, h.value) }));
  const query = firstByName(m.queryParams).map((q) => ({ name: q.name, test: valueTest(q.type, q.value) }));
  const method = m.method;
  return {
    needsQuery: query.length > 0,
    test: (p, params, req) => {
      if (method !== undefined && req.method !== method) return false;
      if (!pathTest(p)) return false;
      for (const h of headers) if (!h.test(req.header(h.name))) return false;
      // The first value of a repeated parameter, as the specification recommends.
      for (const q of query) if (!q.test(params?.get(q.name) ?? undefined)) return false;
      return true;
    },
  };
}

/** Every (rule, match, hostname) triple of a listener, in the order requests try them. */
function rankedKeys(listener: HttpGatewayListener): Keyed[] {
  const keyed: Keyed[] = [];
  for (const rule of listener.rules) {
    // A rule without hostnames serves the listener's hostname (or any host).
    const hostnames: (string | undefined)[] = rule.hostnames.length > 0 ? [...new Set(rule.hostnames.map((h) => h.toLowerCase()))] : [undefined];
    const created = Date.parse(rule.origin.creationTimestamp);
    const name = `${rule.origin.namespace}/${rule.origin.name}\u0000${rule.origin.kind}`;
    rule.matches.forEach((match, mi) => {
      const compiled = compileMatch(match);
      for (const hostname of hostnames) {
        const effective = hostname ?? listener.hostname;
        keyed.push({
          entry: { rule, match, ...compiled },
          key: [...matchKey(match), ...hostnameKey(effective), Number.isNaN(created) ? 0 : -created],
          origin: rule.origin,
          name,
          position: rule.origin.ruleIndex * 1_000 + mi,
          hostname,
        });
      }
    });
  }
  // Keys are computed once per entry: the sort compares numbers and one string, never parses dates.
  return keyed.sort((a, b) => compareRank(a.key, b.key) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0) || a.position - b.position);
}

/** One step of a listener's precedence order: the route hostname is absent when the rule names none. */
export interface RankedMatch {
  readonly rule: HttpRouteRule;
  readonly match: HttpRequestMatch;
  readonly hostname: string | undefined;
}

/**
 * A listener's (rule, match, hostname) triples in the order requests try them: what a
 * provider that evaluates rules by priority (ALB) writes its priorities from.
 */
export function rankedMatches(listener: HttpGatewayListener): RankedMatch[] {
  return rankedKeys(listener).map((k) => ({ rule: k.entry.rule, match: k.entry.match, hostname: k.hostname }));
}

/** Listeners most specific first (exact, wildcards by labels then length, none last): the order they claim a host. */
export function listenersBySpecificity<L extends { readonly hostname?: string }>(listeners: readonly L[]): L[] {
  return sortListeners(listeners);
}

/** One listener's rules, ordered and indexed by hostname. */
class CompiledListener<L extends HttpGatewayListener> {
  private readonly exact = new Map<string, Entry[]>();
  private readonly wildcard = new Map<string, Entry[]>();
  private readonly any: Entry[] = [];

  constructor(readonly listener: L) {
    rankedKeys(listener).forEach((k, rank) => {
      const entry: Entry = { ...k.entry, rank };
      if (k.hostname === undefined) this.any.push(entry);
      else if (k.hostname.startsWith('*.')) push(this.wildcard, k.hostname.slice(1), entry);
      else push(this.exact, k.hostname, entry);
    });
  }

  private first(list: readonly Entry[], path: string, rawQuery: string | undefined, req: HttpRequestFacts): Entry | undefined {
    let params: URLSearchParams | undefined;
    let parsed = false;
    for (const e of list) {
      if (e.needsQuery && !parsed) {
        parsed = true;
        params = rawQuery === undefined ? undefined : new URLSearchParams(rawQuery);
      }
      if (e.test(path, params, req)) return e;
    }
    return undefined;
  }

  /** The highest-ranked entry among those indexed under host that matches. */
  find(host: string, path: string, rawQuery: string | undefined, req: HttpRequestFacts): Entry | undefined {
    const lists: Entry[][] = [];
    const ex = this.exact.get(host);
    if (ex) lists.push(ex);
    if (this.wildcard.size > 0) {
      for (const s of wildcardSuffixes(host)) {
        const w = this.wildcard.get(s);
        if (w) lists.push(w);
      }
    }
    // One list (the common case: one host's routes): no merge needed.
    if (lists.length === 1) return this.first(lists[0] ?? [], path, rawQuery, req);
    if (this.any.length > 0) lists.push(this.any);
    let params: URLSearchParams | undefined;
    let parsed = false;
    const heads = lists.map(() => 0);
    for (;;) {
      let best = -1;
      for (let i = 0; i < lists.length; i++) {
        const e = lists[i]?.[heads[i] ?? 0];
        if (e && (best < 0 || e.rank < (lists[best]?.[heads[best] ?? 0]?.rank ?? Infinity))) best = i;
      }
      if (best < 0) return undefined;
      const e = lists[best]?.[heads[best] ?? 0];
      heads[best] = (heads[best] ?? 0) + 1;
      if (!e) return undefined;
      if (e.needsQuery && !parsed) {
        parsed = true;
        params = rawQuery === undefined ? undefined : new URLSearchParams(rawQuery);
      }
      if (e.test(path, params, req)) return e;
    }
  }
}

function push<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const list = m.get(k);
  if (list) list.push(v);
  else m.set(k, [v]);
}

export type HttpPortMatch<L extends HttpGatewayListener> =
  /** No listener on this port serves the host: 404. */
  | { readonly kind: 'no-listener' }
  /** The listener serves the host but none of its rules match: 404. */
  | { readonly kind: 'no-rule'; readonly listener: L }
  | ({ readonly kind: 'rule' } & HttpMatch<L>);

/** An HTTP or HTTPS port's listeners compiled for matching; build once per spec, match per request. */
export class HttpPortMatcher<L extends HttpGatewayListener = HttpGatewayListener> {
  private readonly listeners: { readonly hostname?: string; readonly c: CompiledListener<L> }[];

  constructor(listeners: readonly L[]) {
    this.listeners = sortListeners(listeners).map((l) => ({ ...(l.hostname !== undefined ? { hostname: l.hostname } : {}), c: new CompiledListener(l) }));
  }

  match(req: HttpRequestFacts): HttpPortMatch<L> {
    const host = normalizeHost(req.host);
    const compiled = (this.listeners.length === 1 && !this.listeners[0]?.hostname ? this.listeners[0] : listenersFor(this.listeners, req.sni ? normalizeHost(req.sni) : host))?.c;
    if (!compiled) return { kind: 'no-listener' };
    const q = req.url.indexOf('?');
    const rawPath = q >= 0 ? req.url.slice(0, q) : req.url;
    const hash = rawPath.indexOf('#');
    const path = (hash >= 0 ? rawPath.slice(0, hash) : rawPath) || '/';
    const e = compiled.find(host, path, q >= 0 ? req.url.slice(q + 1) : undefined, req);
    return e ? { kind: 'rule', listener: compiled.listener, rule: e.rule, match: e.match } : { kind: 'no-rule', listener: compiled.listener };
  }
}

/** The prefix a ReplacePrefixMatch replaces: the matched PathPrefix value, trailing `/` ignored. */
export function matchedPrefix(match: HttpRequestMatch): string | undefined {
  if (match.path?.type !== 'PathPrefix') return undefined;
  const v = match.path.value;
  return v.length > 1 ? v.replace(/\/+$/, '') : v;
}

/**
 * ReplacePrefixMatch by whole elements (HTTPPathModifier.replacePrefixMatch): `/foo/bar`
 * with prefix `/foo` and replacement `/xyz` is `/xyz/bar`; a trailing `/` of the request
 * stays and the join never doubles the `/` between replacement and rest.
 */
export function replacePrefix(path: string, prefix: string, replacement: string): string {
  const rest = prefix === '/' ? path : path.slice(prefix.length);
  if (rest === '') return replacement === '' ? '/' : replacement;
  return `${replacement.replace(/\/+$/, '')}${rest}`;
}

// ---- TLS (Passthrough and Terminate) by SNI ---------------------------------------------

export interface TlsMatch {
  readonly listener: TlsGatewayListener;
  readonly rule: TlsRouteRule;
}

/**
 * A TLS port's listeners by SNI: the most specific listener, then among its rules the
 * most specific matching hostname (exact, then longer wildcard, then none), then the
 * oldest route, then `namespace/name`, then rule order. No SNI: only a listener without
 * hostname and rules without hostnames serve it.
 */
/**
 * The listener a TLS server name belongs to: the most specific hostname that matches it
 * (exact, then the longest wildcard, then none), as requests pick theirs; without a name,
 * the listener without a hostname. On a port where HTTPS and TLS listeners meet, this
 * decides which of them gets the connection.
 */
export function listenerForServerName<L extends { readonly hostname?: string }>(listeners: readonly L[], serverName: string | undefined): L | undefined {
  const host = serverName === undefined ? '' : normalizeHost(serverName);
  const sorted = sortListeners(listeners);
  return host === '' ? sorted.find((l) => l.hostname === undefined || l.hostname === '') : listenersFor(sorted, host);
}

export class TlsPortMatcher {
  private readonly listeners: { readonly hostname?: string; readonly listener: TlsGatewayListener; readonly rules: readonly { rule: TlsRouteRule; hostname: string | undefined }[] }[];

  constructor(listeners: readonly TlsGatewayListener[]) {
    this.listeners = sortListeners(listeners).map((listener) => {
      const rules = listener.rules.flatMap((rule) => (rule.hostnames.length > 0 ? rule.hostnames.map((h) => ({ rule, hostname: h.toLowerCase() as string | undefined })) : [{ rule, hostname: undefined }]));
      rules.sort((a, b) => compareRank(hostnameKey(a.hostname ?? listener.hostname), hostnameKey(b.hostname ?? listener.hostname)) || originOrder(a.rule.origin, b.rule.origin));
      return { ...(listener.hostname !== undefined ? { hostname: listener.hostname } : {}), listener, rules };
    });
  }

  match(serverName: string | undefined): TlsMatch | undefined {
    const host = serverName === undefined ? '' : normalizeHost(serverName);
    const l = host === '' ? this.listeners.find((x) => x.hostname === undefined || x.hostname === '') : listenersFor(this.listeners, host);
    if (!l) return undefined;
    const r = l.rules.find((x) => x.hostname === undefined || (host !== '' && hostnameMatches(x.hostname, host)));
    return r && { listener: l.listener, rule: r.rule };
  }
}
