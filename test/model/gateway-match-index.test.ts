// The indexed Gateway matcher (HttpPortMatcher: by host, then by path) against a linear
// reference that reads the precedence order itself: the listener the specification picks,
// then the first (rule, match, hostname) triple of rankedMatches (the order the ALB and GCE
// providers also write) whose hostname covers the host and whose match criteria all hold,
// each criterion evaluated here from the specification's wording, not from the matcher's
// code. Route sets and requests are generated from a fixed seed, crowded on purpose into
// few hostnames, paths, names and timestamps so that ties and overlaps are the common case.
import { RE2JS } from '@bufbuild/re2';
import { describe, expect, it } from 'vitest';
import type { HttpGatewayListener, HttpRequestMatch, HttpRouteRule } from '../../src/model/gateway.js';
import { hostnameMatches, HttpPortMatcher, listenersBySpecificity, normalizeHost, rankedMatches, type HttpRequestFacts } from '../../src/model/gateway-match.js';

/** mulberry32: small, fast and the same sequence on every run. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Rand = () => number;
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
const some = <T>(r: Rand, xs: readonly T[], max: number): T[] => Array.from({ length: Math.floor(r() * (max + 1)) }, () => pick(r, xs));

const HOSTNAMES = ['example.com', 'foo.example.com', 'a.foo.example.com', 'example.net', '*.example.com', '*.foo.example.com', '*.com', '*.net', 'EXAMPLE.com'];
const LISTENER_HOSTNAMES = [undefined, undefined, 'foo.example.com', '*.example.com', '*.com', 'example.net'];
const PREFIXES = ['/', '/a', '/a/', '/a/b', '/a/b/', '/ab', '/a/b/c', '//', '/a//b', '/v2', '/v2/x', '/A', 'a'];
const EXACTS = ['/', '/a', '/a/', '/a/b', '/ab', '/v2', '/a/b/c', ''];
const REGEXES = ['/a/.*', '/v[0-9]+(/.*)?', '.*b', '/a', '(', '/[a-z]+/[a-z]+'];
const METHODS = ['GET', 'POST', 'PUT'];
// Lower case, as the builder hands header names over (controller/gateway/rules.ts).
const HEADERS = ['version', 'x-env', 'version'];
const HEADER_VALUES = ['one', 'two', 'ONE'];
const QUERY_NAMES = ['q', 'Q', 'page'];
const QUERY_VALUES = ['1', '2', 'x y'];
const TIMES = ['2026-01-01T00:00:00Z', '2026-01-01T00:00:01Z', '2026-01-01T00:00:01.000Z', 'not a time'];
const NAMES = ['a', 'b', 'c'];
const NAMESPACES = ['ns1', 'ns2'];

const REQUEST_PATHS = ['/', '/a', '/a/', '/a/b', '/a/b/', '/a/b/c', '/a/b/c/d', '/ab', '/abc', '/a//b', '/a//b/c', '//', '/v2', '/v22', '/v2/x/y', '/A', '/b', 'a', 'a/b', '', '/x/ab'];
const REQUEST_HOSTS = ['example.com', 'Example.COM:8080', 'example.com.', 'foo.example.com', 'a.foo.example.com', 'b.a.foo.example.com', 'example.net', 'x.example.net', 'other.org', '.example.com', 'com', ''];

function match(r: Rand): HttpRequestMatch {
  const kind = r();
  const path: HttpRequestMatch['path'] =
    kind < 0.15 ? undefined : kind < 0.35 ? { type: 'Exact', value: pick(r, EXACTS) } : kind < 0.5 ? { type: 'RegularExpression', value: pick(r, REGEXES) } : { type: 'PathPrefix', value: pick(r, PREFIXES) };
  const value = (type: string) => (type === 'Exact' ? pick(r, HEADER_VALUES) : pick(r, ['one|two', 'o.*', 't[a-z]+', '[']));
  return {
    ...(path ? { path } : {}),
    headers: some(r, HEADERS, 2).map((name) => {
      const type = r() < 0.7 ? 'Exact' : 'RegularExpression';
      return { type, name, value: value(type) } as const;
    }),
    queryParams: some(r, QUERY_NAMES, 2).map((name) => (r() < 0.7 ? ({ type: 'Exact', name, value: pick(r, QUERY_VALUES) } as const) : ({ type: 'RegularExpression', name, value: pick(r, ['[0-9]', 'x.*', '2|x y']) } as const))),
    ...(r() < 0.2 ? { method: pick(r, METHODS) } : {}),
  };
}

function rules(r: Rand, routes: number): HttpRouteRule[] {
  const out: HttpRouteRule[] = [];
  for (let i = 0; i < routes; i++) {
    const origin = { kind: 'HTTPRoute' as const, namespace: pick(r, NAMESPACES), name: pick(r, NAMES), creationTimestamp: pick(r, TIMES) };
    const hostnames = some(r, HOSTNAMES, 2);
    const ruleCount = 1 + Math.floor(r() * 3);
    for (let ruleIndex = 0; ruleIndex < ruleCount; ruleIndex++) {
      out.push({
        origin: { ...origin, ruleIndex },
        hostnames,
        matches: Array.from({ length: 1 + Math.floor(r() * 3) }, () => match(r)),
        filters: [],
        backends: [{ targetSet: `route${i}-rule${ruleIndex}`, weight: 1, filters: [] }],
        backendProtocol: 'http1',
      });
    }
  }
  return out;
}

function request(r: Rand): HttpRequestFacts & { headers: Record<string, string> } {
  const headers: Record<string, string> = {};
  for (const h of some(r, ['version', 'x-env'], 2)) headers[h] = pick(r, HEADER_VALUES);
  const query = some(r, ['q=1', 'q=2', 'Q=1', 'page=x%20y', 'page=x+y', 'q=2&q=1', 'q'], 2).join('&');
  const path = pick(r, REQUEST_PATHS);
  const url = `${path}${query ? `?${query}` : r() < 0.1 ? '?' : ''}${r() < 0.05 ? '#frag' : ''}`;
  const host = pick(r, REQUEST_HOSTS);
  return { host, url, method: pick(r, METHODS), header: (n) => headers[n], headers, ...(r() < 0.2 ? { sni: pick(r, REQUEST_HOSTS) } : {}) };
}

// ---- The linear reference -----------------------------------------------------------

const compiled = new Map<string, RE2JS | null>();

function wholeValue(pattern: string, value: string | undefined): boolean {
  if (value === undefined) return false;
  if (!compiled.has(pattern)) {
    try {
      compiled.set(pattern, RE2JS.compile(pattern));
    } catch {
      compiled.set(pattern, null); // a pattern RE2 refuses never matches
    }
  }
  return compiled.get(pattern)?.matches(value) ?? false;
}

/** HTTPPathMatch: Exact is the whole path; PathPrefix by whole `/`-separated elements, trailing `/` of the value ignored. */
function pathHolds(m: HttpRequestMatch, path: string): boolean {
  const p = m.path ?? { type: 'PathPrefix', value: '/' };
  if (p.type === 'Exact') return path === p.value;
  if (p.type === 'RegularExpression') return wholeValue(p.value, path);
  let v = p.value;
  while (v.length > 1 && v.endsWith('/')) v = v.slice(0, -1);
  if (v === '/' || v === '') return true;
  return path === v || path.startsWith(`${v}/`);
}

function criteriaHold(m: HttpRequestMatch, path: string, query: URLSearchParams, req: HttpRequestFacts): boolean {
  if (m.method !== undefined && m.method !== req.method) return false;
  if (!pathHolds(m, path)) return false;
  const seenHeaders = new Set<string>();
  for (const h of m.headers) {
    // Only the first match of a name counts (HTTPHeaderMatch.name).
    const name = h.name;
    if (seenHeaders.has(name)) continue;
    seenHeaders.add(name);
    const v = req.header(name);
    if (h.type === 'Exact' ? v !== h.value : !wholeValue(h.value, v)) return false;
  }
  const seenQuery = new Set<string>();
  for (const q of m.queryParams) {
    if (seenQuery.has(q.name)) continue;
    seenQuery.add(q.name);
    const v = query.get(q.name) ?? undefined;
    if (q.type === 'Exact' ? v !== q.value : !wholeValue(q.value, v)) return false;
  }
  return true;
}

type Outcome = 'no-listener' | 'no-rule' | { rule: HttpRouteRule; match: HttpRequestMatch };

const orders = new WeakMap<HttpGatewayListener, ReturnType<typeof rankedMatches>>();
function order(listener: HttpGatewayListener): ReturnType<typeof rankedMatches> {
  let o = orders.get(listener);
  if (o === undefined) orders.set(listener, (o = rankedMatches(listener)));
  return o;
}

function linear(listeners: readonly HttpGatewayListener[], req: HttpRequestFacts): Outcome {
  const host = normalizeHost(req.host);
  const selector = req.sni ? normalizeHost(req.sni) : host;
  const listener = listenersBySpecificity(listeners).find((l) => !l.hostname || hostnameMatches(l.hostname, selector));
  if (!listener) return 'no-listener';
  const cut = req.url.split('?');
  const path = (cut[0] ?? '').split('#')[0] || '/';
  const query = new URLSearchParams(cut.length > 1 ? cut.slice(1).join('?') : '');
  for (const t of order(listener)) {
    if (t.hostname !== undefined && !hostnameMatches(t.hostname, host)) continue;
    if (criteriaHold(t.match, path, query, req)) return { rule: t.rule, match: t.match };
  }
  return 'no-rule';
}

function indexed(matcher: HttpPortMatcher, req: HttpRequestFacts): Outcome {
  const got = matcher.match(req);
  return got.kind === 'rule' ? { rule: got.rule, match: got.match } : got.kind;
}

const describeOutcome = (o: Outcome) => (typeof o === 'string' ? o : `${o.rule.backends[0]?.targetSet ?? '?'} ${JSON.stringify(o.match)}`);

describe('indexed Gateway matcher = the linear precedence order', () => {
  it('on 400 generated listener sets × 200 requests each (seeded), one to three listeners', () => {
    const r = random(20261207);
    let compared = 0;
    let served = 0;
    let unserved = 0;
    for (let set = 0; set < 400; set++) {
      const listenerCount = 1 + Math.floor(r() * 3);
      const listeners: HttpGatewayListener[] = [];
      for (let l = 0; l < listenerCount; l++) {
        const hostname = pick(r, LISTENER_HOSTNAMES);
        listeners.push({ name: `l${l}`, rules: rules(r, 1 + Math.floor(r() * 12)), ...(hostname ? { hostname } : {}) });
      }
      const matcher = new HttpPortMatcher(listeners);
      for (let i = 0; i < 200; i++) {
        const req = request(r);
        const want = linear(listeners, req);
        const got = indexed(matcher, req);
        if (describeOutcome(got) !== describeOutcome(want) || (typeof want !== 'string' && typeof got !== 'string' && (got.rule !== want.rule || got.match !== want.match))) {
          expect.fail(`set ${set} request ${JSON.stringify({ host: req.host, sni: req.sni, url: req.url, method: req.method, headers: req.headers })}: indexed ${describeOutcome(got)}, linear ${describeOutcome(want)}\nlisteners: ${JSON.stringify(listeners)}`);
        }
        compared++;
        if (typeof want === 'string') unserved++;
        else served++;
      }
    }
    expect(compared).toBe(80_000);
    // The generator must exercise both outcomes substantially, or the comparison proves little.
    expect(served).toBeGreaterThan(20_000);
    expect(unserved).toBeGreaterThan(5_000);
  });

  it('on many routes sharing one hostname and paths many elements deep (the index by path element)', () => {
    const r = random(7);
    const segments = ['a', 'b', 'ab', 'v1', 'v2', ''];
    const deepPath = () => `/${Array.from({ length: Math.floor(r() * 5) }, () => pick(r, segments)).join('/')}${r() < 0.3 ? '/' : ''}`;
    for (let set = 0; set < 20; set++) {
      const all: HttpRouteRule[] = [];
      for (let i = 0; i < 300; i++) {
        const type = r() < 0.6 ? 'PathPrefix' : r() < 0.8 ? 'Exact' : 'RegularExpression';
        all.push({
          origin: { kind: 'HTTPRoute', namespace: 'ns', name: `r${Math.floor(r() * 50)}`, creationTimestamp: pick(r, TIMES), ruleIndex: i % 3 },
          hostnames: r() < 0.5 ? ['example.com'] : r() < 0.5 ? ['*.com'] : [],
          matches: [{ path: { type, value: type === 'RegularExpression' ? `${deepPath()}.*` : deepPath() }, headers: r() < 0.2 ? [{ type: 'Exact', name: 'version', value: 'one' }] : [], queryParams: [] }],
          filters: [],
          backends: [{ targetSet: `t${i}`, weight: 1, filters: [] }],
          backendProtocol: 'http1',
        });
      }
      const listeners = [{ name: 'http', rules: all }];
      const matcher = new HttpPortMatcher(listeners);
      for (let i = 0; i < 500; i++) {
        const headers: Record<string, string> = r() < 0.3 ? { version: 'one' } : {};
        const req: HttpRequestFacts = { host: pick(r, ['example.com', 'x.com', 'example.org']), url: deepPath(), method: 'GET', header: (n) => headers[n] };
        expect(describeOutcome(indexed(matcher, req)), `${req.host}${req.url}`).toBe(describeOutcome(linear(listeners, req)));
      }
    }
  });

  it('a rule without hostnames still serves a host another rule names (main answered 404 here)', () => {
    const rule = (name: string, hostnames: string[], path: string): HttpRouteRule => ({
      origin: { kind: 'HTTPRoute', namespace: 'ns', name, creationTimestamp: '2026-01-01T00:00:00Z', ruleIndex: 0 },
      hostnames,
      matches: [{ path: { type: 'PathPrefix', value: path }, headers: [], queryParams: [] }],
      filters: [],
      backends: [{ targetSet: name, weight: 1, filters: [] }],
      backendProtocol: 'http1',
    });
    // HTTPRouteSpec.hostnames: a route that names no hostname matches every host its listener accepts.
    const matcher = new HttpPortMatcher([{ name: 'http', rules: [rule('named', ['a.example.com'], '/a'), rule('wild', ['*.example.com'], '/w'), rule('any', [], '/b')] }]);
    const serve = (host: string, url: string) => {
      const got = matcher.match({ host, url, method: 'GET', header: () => undefined });
      return got.kind === 'rule' ? got.rule.origin.name : got.kind;
    };
    expect(serve('a.example.com', '/b')).toBe('any');
    expect(serve('b.example.com', '/b')).toBe('any');
    expect(serve('a.example.com', '/w')).toBe('wild');
    expect(serve('a.example.com', '/a')).toBe('named');
    expect(serve('b.example.com', '/a')).toBe('no-rule');
  });
});
