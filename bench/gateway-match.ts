// The Gateway lookup alone (issue #21, "the same for 1000 Gateway routes"): CPU per request
// of the matcher (model/gateway-match.ts HttpPortMatcher.match) and of the whole lookup the
// L7 listener runs (providers/local/gateway-http.ts resolve: match, filters, backend pick),
// at 1 route and at 1000 routes × 10 rules in the same run, in this process, no sockets:
//  - the data-path bench's shape: each route its own hostname, each rule its own PathPrefix;
//  - 1000 routes on one hostname, and 1000 routes naming no hostname, each rule a PathPrefix
//    of its own (`/r<route>/p<rule>`): every rule shares the request's host, so only the
//    index by path keeps the cost flat.
// Requests go round-robin over every rule with a stride, as the wrk script does, so caches
// see 10 000 different rules. Each figure is this process's CPU time, the best of 5 rounds;
// the ratios to 1 route are what to read on a busy machine.
import type { IncomingMessage } from 'node:http';
import type { HttpGatewayListener, HttpRouteRule } from '../src/model/gateway.js';
import { HttpPortMatcher, type HttpRequestFacts } from '../src/model/gateway-match.js';
import { GatewayHttpRoutes } from '../src/providers/local/gateway-http.js';
import type { TargetSetRuntime } from '../src/providers/local/target-set.js';
import { host, rule } from './gateway.js';
import { loadLine } from './local.js';

const ROUTES = 1000;
const RULES = 10;
const ROUNDS = 5;
const WARM_UP = 5_000;
const MAX_PER_ROUND = 200_000;
const ROUND_MS = 300;

interface Shape {
  readonly label: string;
  readonly rules: HttpRouteRule[];
  /** Host header and request target of each request. */
  readonly requests: (readonly [string, string])[];
}

/** Route-major with a stride, so consecutive requests hit different routes and rules. */
function spread(routes: number, rules: number, target: (route: number, index: number) => readonly [string, string]): (readonly [string, string])[] {
  const out: (readonly [string, string])[] = [];
  for (let k = 0; k < routes * rules; k++) {
    const n = (k * 7919) % (routes * rules);
    out.push(target(Math.floor(n / rules), n % rules));
  }
  return out;
}

function ownHosts(routes: number, rules: number): Shape {
  const all: HttpRouteRule[] = [];
  for (let r = 0; r < routes; r++) for (let i = 0; i < rules; i++) all.push(rule(r, i, 'a'));
  return { label: 'each route its own hostname', rules: all, requests: spread(routes, rules, (r, i) => [host(r), `/p${i}/item`]) };
}

function sharedHost(routes: number, rules: number, hostnames: string[]): Shape {
  const all: HttpRouteRule[] = [];
  for (let r = 0; r < routes; r++) for (let i = 0; i < rules; i++) all.push({ ...rule(r, i, 'a'), hostnames, matches: [{ path: { type: 'PathPrefix', value: `/r${r}/p${i}` }, headers: [], queryParams: [] }] });
  return { label: hostnames.length > 0 ? 'all routes on one hostname' : 'no route names a hostname', rules: all, requests: spread(routes, rules, (r, i) => ['shared.bench.test', `/r${r}/p${i}/item`]) };
}

/** Best CPU µs per call of fn over the requests, round-robin (CPU time: on a loaded machine wall time mostly counts waiting for a core). */
function time<T>(requests: readonly T[], fn: (r: T) => boolean): number {
  let calls = 0;
  let served = 0;
  const run = (n: number): number => {
    const start = process.cpuUsage();
    for (let i = 0; i < n; i++, calls++) if (fn(requests[calls % requests.length] as T)) served++;
    const used = process.cpuUsage(start);
    return (used.user + used.system) / n;
  };
  // Warm-up, which also sizes the rounds to about ROUND_MS of CPU each: a matcher that is linear in routes stays measurable.
  const probe = run(100);
  const warm = probe > 100 ? probe : run(WARM_UP);
  const perRound = Math.max(50, Math.min(MAX_PER_ROUND, Math.round((ROUND_MS * 1000) / Math.max(warm, 0.01))));
  let best = Infinity;
  for (let round = 0; round < ROUNDS; round++) best = Math.min(best, run(perRound));
  // Every request names a rule: a 404 would mean the bench measures the wrong thing.
  if (served !== calls) throw new Error(`gateway-match bench: ${calls - served} of ${calls} requests found no rule`);
  return best;
}

const targetSet = {} as TargetSetRuntime;

function measure(shape: Shape): { match: number; resolve: number } {
  const listeners: HttpGatewayListener[] = [{ name: 'http', rules: shape.rules }];
  const matcher = new HttpPortMatcher(listeners);
  const facts: HttpRequestFacts[] = shape.requests.map(([h, url]) => ({ host: h, url, method: 'GET', header: () => undefined }));
  const routes = new GatewayHttpRoutes({ protocol: 'HTTP', port: 80, listeners }, () => targetSet);
  // What resolve reads of an IncomingMessage: the raw Host header, the target and the method.
  const reqs = shape.requests.map(([h, url]) => ({ rawHeaders: ['Host', h], url, method: 'GET', headers: { host: h } }) as unknown as IncomingMessage);
  return { match: time(facts, (f) => matcher.match(f).kind === 'rule'), resolve: time(reqs, (r) => routes.resolve(r, 'http').kind === 'forward') };
}

export function benchGatewayMatch(): void {
  console.log(`\ngateway lookup, CPU per request in-process (best of ${ROUNDS} rounds of about ${ROUND_MS} ms, at most ${MAX_PER_ROUND} requests, round-robin over every rule; ${loadLine()}):`);
  // As many distinct request objects as the 1000-route runs use, so both pay the same for reading requests that are not in cache.
  const one = measure({ ...ownHosts(1, 1), requests: spread(ROUTES, RULES, () => [host(0), `/p${0}/item`]) });
  console.log(`  ${'1 route × 1 rule'.padEnd(46)} match ${one.match.toFixed(2)} µs, whole lookup ${one.resolve.toFixed(2)} µs`);
  for (const shape of [ownHosts(ROUTES, RULES), sharedHost(ROUTES, RULES, ['shared.bench.test']), sharedHost(ROUTES, RULES, [])]) {
    const m = measure(shape);
    console.log(
      `  ${`${ROUTES} routes × ${RULES} rules, ${shape.label}`.padEnd(46)} match ${m.match.toFixed(2)} µs (${(m.match / one.match).toFixed(2)}× 1 route), whole lookup ${m.resolve.toFixed(2)} µs (${(m.resolve / one.resolve).toFixed(2)}×)`,
    );
  }
}
