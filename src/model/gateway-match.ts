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
// once per port; a request then takes the first triple in that order that matches among
// those indexed under its host and path (see "The per-request index" below): the cost per
// request does not grow with routes for other hosts or other paths.
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

/** A PathPrefix value as it compares: trailing `/` ignored; '' when it covers every path. */
function normalizedPrefix(prefix: string): string {
  const p = prefix.length > 1 && prefix.endsWith('/') ? prefix.replace(/\/+$/, '') : prefix;
  return p === '/' ? '' : p;
}

/** True when the prefix (trailing `/` ignored) covers path by whole elements. */
export function prefixMatches(prefix: string, path: string): boolean {
  const p = normalizedPrefix(prefix);
  if (p === '') return true;
  return path === p || (path.startsWith(p) && path.charAt(p.length) === '/');
}

/** One (rule, match, hostname) triple with its position in the listener's total order. */
interface Keyed {
  readonly rule: HttpRouteRule;
  readonly match: HttpRequestMatch;
  readonly hostname: string | undefined;
  /** Match criteria, hostname, then -creation time: higher sorts first. */
  readonly key: readonly number[];
  /** `namespace/name`, then the rule and match positions, for the last tie-breaks. */
  readonly name: string;
  readonly position: number;
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

/** Every (rule, match, hostname) triple of a listener, in the order requests try them. */
function rankedKeys(listener: HttpGatewayListener): Keyed[] {
  const keyed: Keyed[] = [];
  for (const rule of listener.rules) {
    // A rule without hostnames serves the listener's hostname (or any host).
    const hostnames: (string | undefined)[] = rule.hostnames.length > 0 ? [...new Set(rule.hostnames.map((h) => h.toLowerCase()))] : [undefined];
    const created = Date.parse(rule.origin.creationTimestamp);
    const name = `${rule.origin.namespace}/${rule.origin.name}\u0000${rule.origin.kind}`;
    rule.matches.forEach((match, mi) => {
      const criteria = matchKey(match);
      for (const hostname of hostnames) {
        keyed.push({
          rule,
          match,
          hostname,
          key: [...criteria, ...hostnameKey(hostname ?? listener.hostname), Number.isNaN(created) ? 0 : -created],
          name,
          position: rule.origin.ruleIndex * 1_000 + mi,
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
  return rankedKeys(listener).map((k) => ({ rule: k.rule, match: k.match, hostname: k.hostname }));
}

/** Listeners most specific first (exact, wildcards by labels then length, none last): the order they claim a host. */
export function listenersBySpecificity<L extends { readonly hostname?: string }>(listeners: readonly L[]): L[] {
  return sortListeners(listeners);
}

// ---- The per-request index ----------------------------------------------------------------
//
// The first triple in the listener's order that matches a request is the one whose rank
// (position in that order) is lowest among the triples that match. Rather than try the
// triples in order, a request looks only at those that can match its host and path: by
// host (the exact hostname, each wildcard suffix of the host, and the rules without
// hostname), then by path (the Exact value, every PathPrefix that is a whole-element
// prefix of the path, found by cutting the path at each `/`; the regular expressions and
// the prefixes covering every path). Each of those lists is in rank order, so within one
// list the first entry whose method, headers and query match is its best, and a list is
// abandoned at the first entry ranked below the best found so far. The cost is the number
// of `/` in the path plus the entries that share the request's host and path, however many
// routes the listener has.

/** What a request must also satisfy once its host and path have selected an entry. */
type RestTest = (probe: { params(): URLSearchParams | undefined }, req: HttpRequestFacts) => boolean;

interface Entry<L extends HttpGatewayListener> {
  /** Position in the listener's total order: lower wins. */
  readonly rank: number;
  /** Only for a RegularExpression path, which the index cannot decide. */
  readonly path: ((path: string) => boolean) | undefined;
  /** Method, headers and query params; undefined when the match names none. */
  readonly rest: RestTest | undefined;
  /** The answer, built once so a request allocates none. */
  readonly result: { readonly kind: 'rule' } & HttpMatch<L>;
}

/** How the index files a match by its path. */
type PathKey = { readonly kind: 'exact' | 'prefix'; readonly value: string } | { readonly kind: 'all' } | { readonly kind: 'regex'; readonly test: (path: string) => boolean };

function pathKey(m: HttpRequestMatch): PathKey {
  const path = m.path;
  if (path === undefined) return { kind: 'all' };
  if (path.type === 'Exact') return { kind: 'exact', value: path.value };
  if (path.type === 'RegularExpression') return { kind: 'regex', test: valueTest('RegularExpression', path.value) };
  const p = normalizedPrefix(path.value);
  return p === '' ? { kind: 'all' } : { kind: 'prefix', value: p };
}

function restTest(m: HttpRequestMatch): RestTest | undefined {
  const headers = firstByName(m.headers).map((h) => ({ name: h.name.toLowerCase(), test: valueTest(h.type, h.value) }));
  const query = firstByName(m.queryParams).map((q) => ({ name: q.name, test: valueTest(q.type, q.value) }));
  const method = m.method;
  if (method === undefined && headers.length === 0 && query.length === 0) return undefined;
  return (probe, req) => {
    if (method !== undefined && req.method !== method) return false;
    for (const h of headers) if (!h.test(req.header(h.name))) return false;
    if (query.length === 0) return true;
    // The first value of a repeated parameter, as the specification recommends.
    const q = probe.params();
    for (const x of query) if (!x.test(q?.get(x.name) ?? undefined)) return false;
    return true;
  };
}

/** One host's entries by path, each list in rank order. */
class PathIndex<L extends HttpGatewayListener> {
  private readonly exact = new Map<string, Entry<L>[]>();
  private readonly prefix = new Map<string, Entry<L>[]>();
  /** The longest PathPrefix value: no shorter cut of the path is looked up. */
  private longest = 0;
  /** RegularExpression paths and prefixes covering every path: tried for every request. */
  private readonly always: Entry<L>[] = [];

  add(key: PathKey, entry: Entry<L>): void {
    if (key.kind === 'exact') push(this.exact, key.value, entry);
    else if (key.kind === 'prefix') {
      push(this.prefix, key.value, entry);
      this.longest = Math.max(this.longest, key.value.length);
    } else this.always.push(entry);
  }

  search(probe: Probe<L>): void {
    const path = probe.path;
    const ex = this.exact.get(path);
    if (ex) probe.scan(ex);
    if (this.longest > 0) {
      // A PathPrefix matches by whole elements: it is the path itself or the path cut before one of its `/`.
      if (path.length <= this.longest) {
        const p = this.prefix.get(path);
        if (p) probe.scan(p);
      }
      for (let i = path.lastIndexOf('/', Math.min(this.longest, path.length - 1)); i > 0; i = path.lastIndexOf('/', i - 1)) {
        const p = this.prefix.get(path.slice(0, i));
        if (p) probe.scan(p);
      }
    }
    if (this.always.length > 0) probe.scan(this.always);
  }
}

/**
 * One request's search: the best entry so far, and its query string parsed at most once.
 * A listener reuses one (a search runs to its end synchronously), so a request allocates none.
 */
class Probe<L extends HttpGatewayListener> {
  best: Entry<L> | undefined;
  path = '';
  private rawQuery: string | undefined;
  private req: HttpRequestFacts | undefined;
  private query: URLSearchParams | undefined;
  private parsed = false;

  start(path: string, rawQuery: string | undefined, req: HttpRequestFacts): this {
    this.best = undefined;
    this.path = path;
    this.rawQuery = rawQuery;
    this.req = req;
    this.query = undefined;
    this.parsed = false;
    return this;
  }

  /** Drops the request, so the probe holds no request between searches. */
  finish(): Entry<L> | undefined {
    const best = this.best;
    this.best = undefined;
    this.req = undefined;
    this.query = undefined;
    return best;
  }

  params(): URLSearchParams | undefined {
    if (!this.parsed) {
      this.parsed = true;
      this.query = this.rawQuery === undefined ? undefined : new URLSearchParams(this.rawQuery);
    }
    return this.query;
  }

  /** The first entry of a rank-ordered list that matches, if it outranks the best so far. */
  scan(list: readonly Entry<L>[]): void {
    for (const e of list) {
      if (this.best !== undefined && e.rank >= this.best.rank) return;
      if (e.path !== undefined && !e.path(this.path)) continue;
      if (e.rest !== undefined && !e.rest(this, this.req as HttpRequestFacts)) continue;
      this.best = e;
      return;
    }
  }
}

/** One listener's rules, ordered and indexed by hostname, then path. */
class CompiledListener<L extends HttpGatewayListener> {
  private readonly exact = new Map<string, PathIndex<L>>();
  /** By the suffix a wildcard names: `*.example.com` under `.example.com`. */
  private readonly wildcard = new Map<string, PathIndex<L>>();
  /** Rules without hostnames: they serve every host the listener does. */
  private readonly any = new PathIndex<L>();
  private readonly probe = new Probe<L>();
  readonly noRule: { readonly kind: 'no-rule'; readonly listener: L };

  constructor(readonly listener: L) {
    this.noRule = { kind: 'no-rule', listener };
    // A match is compiled once however many hostnames file it.
    const compiled = new Map<HttpRequestMatch, { key: PathKey; rest: RestTest | undefined }>();
    rankedKeys(listener).forEach((k, rank) => {
      let c = compiled.get(k.match);
      if (c === undefined) compiled.set(k.match, (c = { key: pathKey(k.match), rest: restTest(k.match) }));
      const entry: Entry<L> = { rank, path: c.key.kind === 'regex' ? c.key.test : undefined, rest: c.rest, result: { kind: 'rule', listener, rule: k.rule, match: k.match } };
      this.index(k.hostname).add(c.key, entry);
    });
  }

  private index(hostname: string | undefined): PathIndex<L> {
    if (hostname === undefined) return this.any;
    const [map, key] = hostname.startsWith('*.') ? [this.wildcard, hostname.slice(1)] : [this.exact, hostname];
    let idx = map.get(key);
    if (idx === undefined) map.set(key, (idx = new PathIndex<L>()));
    return idx;
  }

  /** The highest-ranked entry among those whose hostname covers host that matches. */
  find(host: string, path: string, rawQuery: string | undefined, req: HttpRequestFacts): Entry<L> | undefined {
    const probe = this.probe.start(path, rawQuery, req);
    this.exact.get(host)?.search(probe);
    if (this.wildcard.size > 0) {
      // `*.b.c` covers `a.b.c` and `x.a.b.c`, never `.b.c` nor `b.c`: a label must precede the suffix.
      for (let i = host.indexOf('.', 1); i > 0; i = host.indexOf('.', i + 1)) this.wildcard.get(host.slice(i))?.search(probe);
    }
    this.any.search(probe);
    return probe.finish();
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

const noListener = { kind: 'no-listener' } as const;

/** An HTTP or HTTPS port's listeners compiled for matching; build once per spec, match per request. */
export class HttpPortMatcher<L extends HttpGatewayListener = HttpGatewayListener> {
  private readonly listeners: { readonly hostname?: string; readonly c: CompiledListener<L> }[];

  constructor(listeners: readonly L[]) {
    this.listeners = sortListeners(listeners).map((l) => ({ ...(l.hostname !== undefined ? { hostname: l.hostname } : {}), c: new CompiledListener(l) }));
  }

  match(req: HttpRequestFacts): HttpPortMatch<L> {
    const host = normalizeHost(req.host);
    const compiled = (this.listeners.length === 1 && !this.listeners[0]?.hostname ? this.listeners[0] : listenersFor(this.listeners, req.sni ? normalizeHost(req.sni) : host))?.c;
    if (!compiled) return noListener;
    const q = req.url.indexOf('?');
    const rawPath = q >= 0 ? req.url.slice(0, q) : req.url;
    const hash = rawPath.indexOf('#');
    const path = (hash >= 0 ? rawPath.slice(0, hash) : rawPath) || '/';
    return compiled.find(host, path, q >= 0 ? req.url.slice(q + 1) : undefined, req)?.result ?? compiled.noRule;
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
