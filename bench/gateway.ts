// The local provider's Gateway data path (issue #18, "Performance"): what 1000 HTTPRoutes
// cost per request, and how soon a route change is served. Three processes, as in
// bench/local.ts: this one is the client, one child runs two HTTP backends (answering
// their name), one child runs a LocalProvider with two Gateways in front of them:
//  - `one`: one HTTPRoute with one rule;
//  - `many`: 1000 HTTPRoutes × 10 rules (each route its own hostname, each rule its own
//    PathPrefix), requests spread over all 10 000 rules.
// Measured in the same run, alternating, so a busy machine weighs on all alike:
//  - L7 requests/s, 16 keep-alive clients for 3 s, 3 rounds alternating, median: many vs
//    one (goal ≥ 0.8×) and vs the backends direct;
//  - route update → data path: the client asks the LB process to ensure the `many` spec
//    with one rule's backend switched, then requests that rule until the other backend
//    answers; p50/p99 over 20 updates (ensure of the whole 10 000-rule spec included).
import type { ChildProcess } from 'node:child_process';
import { Agent, createServer as createHttpServer, request } from 'node:http';
import type { GatewayPort, HttpRouteRule } from '../src/model/gateway.js';
import type { GatewaySpec } from '../src/model/spec.js';
import { createLocalProvider } from '../src/providers/local/provider.js';
import { forkRole } from './child.js';
import { summarize } from './stats.js';

const ROLE_FLAG = '--lbc-gateway-bench-role';
const BACKEND_HOST = '127.0.19.2';
const POOL = '127.246.2.0/24';
const PORT_OFFSET = 20_000;
const ROUTES = 1000;
const RULES = 10;
const HTTP_CLIENTS = 16;
const HTTP_SECONDS = 3;
const UPDATES = 20;
const ROUNDS = 3;

interface Run {
  readonly rps: number;
  readonly latencies: number[];
}

const medianRun = (runs: Run[]): Run => [...runs].sort((a, b) => a.rps - b.rps)[Math.floor(runs.length / 2)] ?? { rps: NaN, latencies: [] };

interface BackendPorts {
  readonly a: number;
  readonly b: number;
}

interface LbEndpoints {
  readonly one: string;
  readonly many: string;
}

/** Two HTTP servers that answer with their name. */
async function runBackends(): Promise<void> {
  const server = (name: string) => {
    const s = createHttpServer((req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': name.length });
      res.end(name);
    });
    s.keepAliveTimeout = 30_000;
    return new Promise<number>((resolve, reject) => {
      s.once('error', reject);
      s.listen({ host: BACKEND_HOST, port: 0 }, () => resolve((s.address() as { port: number }).port));
    });
  };
  const ports: BackendPorts = { a: await server('a'), b: await server('b') };
  process.send?.(ports);
  process.on('disconnect', () => process.exit(0));
}

const check = { protocol: 'TCP', port: 'traffic-port', intervalSeconds: 10, timeoutSeconds: 5, healthyThreshold: 2, unhealthyThreshold: 3 } as const;

const host = (route: number): string => `r${route}.bench.test`;

function rule(route: number, index: number, backend: string): HttpRouteRule {
  return {
    origin: { kind: 'HTTPRoute', namespace: 'bench', name: `route-${route}`, creationTimestamp: new Date(Date.UTC(2026, 0, 1, 0, 0, route)).toISOString(), ruleIndex: index },
    hostnames: [host(route)],
    matches: [{ path: { type: 'PathPrefix', value: `/p${index}` }, headers: [], queryParams: [] }],
    filters: [],
    backends: [{ targetSet: backend, weight: 1, filters: [] }],
    backendProtocol: 'http1',
  };
}

/** A Gateway on port 80 with routes × rules, every rule to `a` except those `switched` names (route:rule) to `b`. */
function gatewaySpec(name: string, routes: number, rules: number, ports: BackendPorts, switched = new Set<string>()): GatewaySpec {
  const all: HttpRouteRule[] = [];
  for (let r = 0; r < routes; r++) for (let i = 0; i < rules; i++) all.push(rule(r, i, switched.has(`${r}:${i}`) ? 'b' : 'a'));
  const port: GatewayPort = { protocol: 'HTTP', port: 80, listeners: [{ name: 'http', rules: all }] };
  const set = (n: 'a' | 'b') => ({ name: n, type: 'ip' as const, port: ports[n], protocol: 'HTTP' as const, targets: [{ ip: BACKEND_HOST, port: ports[n] }], healthCheck: check, backend: { namespace: 'bench', service: n, port: 80 } });
  return {
    layer: 'Gateway',
    ref: { kind: 'Gateway', namespace: 'bench', name, uid: `uid-${name}` },
    provider: 'local',
    className: 'lbc.dev/local',
    clusterName: 'bench',
    ports: [port],
    targetSets: [set('a'), set('b')],
    sourceRanges: [],
    requestedAddresses: [],
    ipFamilies: ['IPv4'],
    tags: {},
    providerOptions: {},
  };
}

/** The two Gateways; then ensures `many` with the rule a message names switched to `b`, answering when ensure returns. */
async function runLoadBalancers(ports: BackendPorts): Promise<void> {
  const provider = await createLocalProvider({ clusterName: 'bench', addressPool: POOL, addressMode: 'pool', portOffset: PORT_OFFSET, healthChecks: false, log: { info: () => {}, warn: () => {} } });
  const at = (s: { ingress: readonly { ip?: string; ports?: readonly { port: number }[] }[] }) => `${s.ingress[0]?.ip ?? '?'}:${s.ingress[0]?.ports?.[0]?.port ?? '?'}`;
  const endpoints: LbEndpoints = { one: at(await provider.ensure(gatewaySpec('one', 1, 1, ports))), many: at(await provider.ensure(gatewaySpec('many', ROUTES, RULES, ports))) };
  process.on('message', (m: { switched: string[] }) => {
    void provider.ensure(gatewaySpec('many', ROUTES, RULES, ports, new Set(m.switched))).then(() => process.send?.('ensured'));
  });
  process.send?.(endpoints);
  process.on('disconnect', () => void provider.close().then(() => process.exit(0)));
}

function split(endpoint: string): { host: string; port: number } {
  const i = endpoint.lastIndexOf(':');
  return { host: endpoint.slice(0, i), port: Number(endpoint.slice(i + 1)) };
}

function get(agent: Agent, endpoint: string, hostHeader: string, path: string): Promise<string> {
  const { host: h, port } = split(endpoint);
  return new Promise((resolve, reject) => {
    const req = request({ host: h, port, path, agent, headers: { host: hostHeader } }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`${endpoint} ${hostHeader}${path}: ${res.statusCode ?? 0}`))));
    });
    req.on('error', reject);
    req.end();
  });
}

/** HTTP_CLIENTS keep-alive clients for HTTP_SECONDS, each request to the next of `targets` (host, path). */
async function hammer(endpoint: string, targets: readonly [string, string][]): Promise<Run> {
  const agent = new Agent({ keepAlive: true, maxSockets: HTTP_CLIENTS });
  const latencies: number[] = [];
  let next = 0;
  const until = performance.now() + HTTP_SECONDS * 1000;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: HTTP_CLIENTS }, async () => {
      while (performance.now() < until) {
        const [h, p] = targets[next++ % targets.length]!;
        const s = performance.now();
        await get(agent, endpoint, h, p);
        latencies.push(performance.now() - s);
      }
    }),
  );
  agent.destroy();
  return { rps: latencies.length / ((performance.now() - t0) / 1000), latencies };
}

const child = <T>(role: string, payload?: unknown): Promise<{ proc: ChildProcess; reply: T }> => forkRole<T>(import.meta.url, ROLE_FLAG, role, payload);

const f1 = (n: number) => n.toFixed(1);

export async function benchGatewayDataPath(): Promise<void> {
  console.log(`\ngateway data path: the local provider with ${ROUTES} HTTPRoutes × ${RULES} rules (client, load balancer and backends in three processes, on loopback)`);
  const backends = await child<BackendPorts>('backends');
  const lbs = await child<LbEndpoints>('lbs', backends.reply);
  try {
    const direct = `${BACKEND_HOST}:${backends.reply.a}`;
    const spread: [string, string][] = [];
    // Route-major with a stride so consecutive requests hit different routes and rules.
    for (let k = 0; k < ROUTES * RULES; k++) {
      const n = (k * 7919) % (ROUTES * RULES);
      spread.push([host(Math.floor(n / RULES)), `/p${n % RULES}/item`]);
    }
    const single: [string, string][] = [[host(0), '/p0/item']];
    // Warm every path (connections, JIT) before measuring.
    await hammer(direct, single);
    await hammer(lbs.reply.one, single);
    await hammer(lbs.reply.many, spread);
    const runs = { direct: [] as Run[], one: [] as Run[], many: [] as Run[] };
    for (let i = 0; i < ROUNDS; i++) {
      runs.direct.push(await hammer(direct, single));
      runs.one.push(await hammer(lbs.reply.one, single));
      runs.many.push(await hammer(lbs.reply.many, spread));
    }
    const d = medianRun(runs.direct);
    const one = medianRun(runs.one);
    const many = medianRun(runs.many);
    const row = (label: string, r: Run, all: Run[]): string => {
      const s = summarize(r.latencies);
      return `    ${label.padEnd(44)}${String(Math.round(r.rps)).padStart(6)} req/s   p50 ${f1(s.p50)} ms   p99 ${f1(s.p99)} ms   (runs: ${all.map((x) => Math.round(x.rps)).join(', ')})`;
    };
    console.log(`  L7 HTTP, ${HTTP_CLIENTS} keep-alive clients for ${HTTP_SECONDS} s, ${ROUNDS} rounds alternating (median run):`);
    console.log(row('direct to the backend', d, runs.direct));
    console.log(row('through a Gateway with 1 route', one, runs.one));
    console.log(row(`through a Gateway with ${ROUTES} routes × ${RULES} rules`, many, runs.many));
    console.log(`    ${ROUTES} routes vs 1 route: ${(many.rps / one.rps).toFixed(2)}× (goal ≥ 0.8×); 1 route vs direct: ${(one.rps / d.rps).toFixed(2)}×; ${ROUTES} routes vs direct: ${(many.rps / d.rps).toFixed(2)}×`);

    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const latencies: number[] = [];
    let probe: [string, string] = [host(0), '/p0/x'];
    for (let u = 0; u < UPDATES; u++) {
      // Even updates switch one rule to b; odd ones switch it back (all rules to a).
      const want = u % 2 === 0 ? 'b' : 'a';
      const route = (u * 37) % ROUTES;
      const index = (u / 2) % RULES;
      if (want === 'b') probe = [host(route), `/p${index}/x`];
      const switched = want === 'b' ? [`${route}:${index}`] : [];
      const t0 = performance.now();
      const ensured = new Promise<void>((resolve) => lbs.proc.once('message', () => resolve()));
      lbs.proc.send({ switched });
      let seen = '';
      // Probe while the ensure runs, as a client would, until the new backend answers.
      while (seen !== want) {
        seen = await get(agent, lbs.reply.many, probe[0], probe[1]);
        if (seen !== want) await new Promise((r) => setTimeout(r, 1));
      }
      latencies.push(performance.now() - t0);
      await ensured;
    }
    agent.destroy();
    const s = summarize(latencies);
    console.log(`  route update → data path (one rule's backend switched in the ${ROUTES * RULES}-rule Gateway, ensure of the whole spec included; ${s.n} updates):`);
    console.log(`    p50 ${f1(s.p50)} ms   p99 ${f1(s.p99)} ms   max ${f1(s.max)} ms`);
  } finally {
    lbs.proc.disconnect();
    backends.proc.disconnect();
  }
}

const role = process.argv.indexOf(ROLE_FLAG);
if (role >= 0) {
  const which = process.argv[role + 1];
  if (which === 'backends') await runBackends();
  else if (which === 'lbs') process.once('message', (ports) => void runLoadBalancers(ports as BackendPorts));
}
