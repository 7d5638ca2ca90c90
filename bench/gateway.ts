// The local provider's Gateway data path (issues #18 and #21, "Performance"): what 1000
// HTTPRoutes cost per request, and how soon a route change is served. Separate processes:
// this one drives the load (wrk, Debian's), HAProxy runs two HTTP backends (answering their
// name) and, as the peer, the same routing in its own configuration; one child runs a
// LocalProvider with two HTTP Gateways in front of the backends, and two HTTPS ones with
// the same routes (TLS terminated with one certificate; HAProxy's peer terminates it the
// same way, as bench/local.ts's does). The child runs lbc compiled to plain JavaScript,
// as `npm run build` ships it, and so do the L7 workers it starts (not under tsx;
// bench/child.ts's forkCompiled), so the bench measures what users run:
//  - `one`: one HTTPRoute with one rule;
//  - `many`: 1000 HTTPRoutes × 10 rules (each route its own hostname, each rule its own
//    PathPrefix), requests spread over all 10 000 rules.
// Measured in the same run, alternating, so a busy machine weighs on all alike:
//  - L7 requests/s and p99, HTTP and HTTPS, wrk 2 threads, 64 keep-alive connections, 10 s
//    a run, 3 rounds, median: many vs one (goal ≥ 0.8×), vs the backends direct, and each against HAProxy
//    with an equivalent configuration (a map from Host and path prefix to the backend);
//    lbc ≥ 0.5× HAProxy's requests/s with p99 ≤ 2× HAProxy's. Skipped, saying why, where
//    wrk or haproxy is not installed;
//  - route update → data path: the client asks the LB process to ensure the `many` spec
//    with one rule's backend switched, then requests that rule until the other backend
//    answers; p50/p99 over 20 updates (ensure of the whole 10 000-rule spec included).
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Agent, createServer as createHttpServer, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GatewayPort, HttpRouteRule } from '../src/model/gateway.js';
import type { GatewaySpec } from '../src/model/spec.js';
import { selfSignedCert } from '../src/devcluster/tls.js';
import { createLocalProvider } from '../src/providers/local/provider.js';
import { forkCompiled, forkRole } from './child.js';
import { backendsConfig, freePort, startHaproxy, type Haproxy } from './haproxy.js';
import { l7Load, l7Missing, loadLine } from './local.js';
import { summarize } from './stats.js';
import { alternate, peerRatios, rotatingScript, wrkRow } from './wrk.js';

const ROLE_FLAG = '--lbc-gateway-bench-role';
const BACKEND_HOST = '127.0.19.2';
const POOL = '127.246.2.0/24';
const PORT_OFFSET = 20_000;
const ROUTES = 1000;
const RULES = 10;
const PEER_HOST = '127.0.19.4';
const UPDATES = 20;
const ROUNDS = 3;

interface BackendPorts {
  readonly a: number;
  readonly b: number;
}

interface LbInit {
  readonly ports: BackendPorts;
  readonly cert: { readonly certPem: string; readonly keyPem: string };
}

interface LbEndpoints {
  readonly one: string;
  readonly many: string;
  readonly oneHttps: string;
  readonly manyHttps: string;
  /** Processes serving lbc's L7 listeners. */
  readonly workers: number;
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

export const host = (route: number): string => `r${route}.bench.test`;

export function rule(route: number, index: number, backend: string): HttpRouteRule {
  return {
    origin: { kind: 'HTTPRoute', namespace: 'bench', name: `route-${route}`, creationTimestamp: new Date(Date.UTC(2026, 0, 1, 0, 0, route)).toISOString(), ruleIndex: index },
    hostnames: [host(route)],
    matches: [{ path: { type: 'PathPrefix', value: `/p${index}` }, headers: [], queryParams: [] }],
    filters: [],
    backends: [{ targetSet: backend, weight: 1, filters: [] }],
    backendProtocol: 'http1',
  };
}

/** A Gateway on port 80 (HTTP) or 443 (HTTPS) with routes × rules, every rule to `a` except those `switched` names (route:rule) to `b`. */
function gatewaySpec(name: string, routes: number, rules: number, init: LbInit, tls: boolean, switched = new Set<string>()): GatewaySpec {
  const { ports, cert } = init;
  const all: HttpRouteRule[] = [];
  for (let r = 0; r < routes; r++) for (let i = 0; i < rules; i++) all.push(rule(r, i, switched.has(`${r}:${i}`) ? 'b' : 'a'));
  const http: GatewayPort = { protocol: 'HTTP', port: 80, listeners: [{ name: 'http', rules: all }] };
  const certificates = [{ source: 'secret' as const, secretRef: { namespace: 'bench', name: 'tls' }, hosts: [], ...cert }];
  const https: GatewayPort = { protocol: 'HTTPS', port: 443, listeners: [{ name: 'https', rules: all, certificates }] };
  const set = (n: 'a' | 'b') => ({ name: n, type: 'ip' as const, port: ports[n], protocol: 'HTTP' as const, targets: [{ ip: BACKEND_HOST, port: ports[n] }], healthCheck: check, backend: { namespace: 'bench', service: n, port: 80 } });
  return {
    layer: 'Gateway',
    ref: { kind: 'Gateway', namespace: 'bench', name, uid: `uid-${name}` },
    provider: 'local',
    className: 'lbc.dev/local',
    clusterName: 'bench',
    ports: [tls ? https : http],
    targetSets: [set('a'), set('b')],
    sourceRanges: [],
    requestedAddresses: [],
    ipFamilies: ['IPv4'],
    tags: {},
    providerOptions: {},
  };
}

/** The two Gateways; then ensures `many` with the rule a message names switched to `b`, answering when ensure returns. */
async function runLoadBalancers(init: LbInit): Promise<void> {
  const provider = await createLocalProvider({ clusterName: 'bench', addressPool: POOL, addressMode: 'pool', portOffset: PORT_OFFSET, healthChecks: false, log: { info: () => {}, warn: (m) => console.error(m) } });
  const at = (s: { ingress: readonly { ip?: string }[] }, port: number) => `${s.ingress[0]?.ip ?? '?'}:${port + PORT_OFFSET}`;
  const endpoints: LbEndpoints = {
    one: at(await provider.ensure(gatewaySpec('one', 1, 1, init, false)), 80),
    many: at(await provider.ensure(gatewaySpec('many', ROUTES, RULES, init, false)), 80),
    oneHttps: at(await provider.ensure(gatewaySpec('one-tls', 1, 1, init, true)), 443),
    manyHttps: at(await provider.ensure(gatewaySpec('many-tls', ROUTES, RULES, init, true)), 443),
    workers: provider.l7Processes,
  };
  await provider.l7WorkersReady();
  process.on('message', (m: { switched: string[] }) => {
    void provider.ensure(gatewaySpec('many', ROUTES, RULES, init, false, new Set(m.switched))).then(() => process.send?.('ensured'));
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

const child = async <T>(role: string, payload?: unknown): Promise<{ proc: ChildProcess; reply: T }> => forkRole<T>(import.meta.url, ROLE_FLAG, role, payload, await forkCompiled());

const f1 = (n: number) => n.toFixed(1);

/** HAProxy doing what a Gateway does here: Host and path prefix to the backend, through a map (as HAProxy-based ingress controllers route); the HTTPS frontend terminates TLS with `crt` and routes the same way. */
function peerGatewayConfig(name: string, port: { http: number; https: number }, mapFile: string, ports: BackendPorts, crt: string): string {
  const frontend = (suffix: string, bind: string) => `frontend ${name}${suffix}
  bind ${bind}
  option forwardfor
  use_backend %[base,map_beg(${mapFile},${name}-none)]
`;
  return `${frontend('', `${PEER_HOST}:${port.http}`)}${frontend('-https', `${PEER_HOST}:${port.https} ssl crt ${crt}`)}backend ${name}-a
  server a ${BACKEND_HOST}:${ports.a}
backend ${name}-b
  server b ${BACKEND_HOST}:${ports.b}
backend ${name}-none
  http-request return status 404
`;
}

export async function benchGatewayDataPath(): Promise<void> {
  console.log(`\ngateway data path: the local provider with ${ROUTES} HTTPRoutes × ${RULES} rules (load generator, load balancers and backends in separate processes, on loopback)`);
  const missing = l7Missing();
  const dir = await mkdtemp(join(tmpdir(), 'lbc-bench-gateway-'));
  const stops: Haproxy[] = [];
  let nodeBackends: ChildProcess | undefined;
  let backendsPid: number | undefined;
  let lbs: { proc: ChildProcess; reply: LbEndpoints } | undefined;
  try {
    let ports: BackendPorts;
    if (missing) {
      const b = await child<BackendPorts>('backends');
      nodeBackends = b.proc;
      ports = b.reply;
    } else {
      ports = { a: await freePort(BACKEND_HOST), b: await freePort(BACKEND_HOST) };
      const servers = [
        { port: ports.a, body: 'a' },
        { port: ports.b, body: 'b' },
      ];
      const haproxyBackends = await startHaproxy(dir, 'gateway-backends', backendsConfig(BACKEND_HOST, servers), servers.map((s) => ({ host: BACKEND_HOST, port: s.port })));
      stops.push(haproxyBackends);
      backendsPid = haproxyBackends.pid;
    }
    const cert = selfSignedCert({ ips: [], dns: ['*.bench.test'] }, 'bench.test');
    const started = await child<LbEndpoints>('lbs', { ports, cert } satisfies LbInit);
    lbs = started;
    const spread: [string, string][] = [];
    // Route-major with a stride so consecutive requests hit different routes and rules.
    for (let k = 0; k < ROUTES * RULES; k++) {
      const n = (k * 7919) % (ROUTES * RULES);
      spread.push([host(Math.floor(n / RULES)), `/p${n % RULES}/item`]);
    }
    if (missing) console.log(`  L7 requests/s: skipped, ${missing}`);
    else {
      const single = await rotatingScript(dir, [[host(0), '/p0/item']]);
      const spreadScript = await rotatingScript(await mkdtemp(join(dir, 'spread-')), spread);
      const oneMap = join(dir, 'one.map');
      const manyMap = join(dir, 'many.map');
      await writeFile(oneMap, `${host(0)}/p0/ peer-one-a\n`);
      const lines: string[] = [];
      for (let r = 0; r < ROUTES; r++) for (let i = 0; i < RULES; i++) lines.push(`${host(r)}/p${i}/ peer-many-a`);
      await writeFile(manyMap, `${lines.join('\n')}\n`);
      const pem = join(dir, 'peer.pem');
      await writeFile(pem, cert.certPem + cert.keyPem);
      const peer = {
        one: { http: await freePort(PEER_HOST), https: await freePort(PEER_HOST) },
        many: { http: await freePort(PEER_HOST), https: await freePort(PEER_HOST) },
      };
      const peerProc = await startHaproxy(
        dir,
        'gateway-peer',
        peerGatewayConfig('peer-one', peer.one, oneMap, ports, pem) + peerGatewayConfig('peer-many', peer.many, manyMap, ports, pem),
        [peer.one, peer.many].flatMap((p) => [p.http, p.https].map((port) => ({ host: PEER_HOST, port }))),
      );
      stops.push(peerProc);
      const load = l7Load();
      console.log(`  L7 HTTP and HTTPS, wrk ${load.threads} threads, ${load.connections} keep-alive connections, ${load.seconds} s a run, ${ROUNDS} rounds alternating (median run; ${loadLine()} at start):`);
      const runs = await alternate(
        [
          { label: 'direct to the backend', url: `http://${BACKEND_HOST}:${ports.a}/`, script: single, pid: backendsPid },
          { label: 'lbc, a Gateway with 1 route', url: `http://${lbs.reply.one}/`, script: single, pid: started.proc.pid },
          { label: `lbc, ${ROUTES} routes × ${RULES} rules`, url: `http://${lbs.reply.many}/`, script: spreadScript, pid: started.proc.pid },
          { label: 'HAProxy, 1 route', url: `http://${PEER_HOST}:${peer.one.http}/`, script: single, pid: peerProc.pid },
          { label: `HAProxy, ${ROUTES} routes × ${RULES} rules`, url: `http://${PEER_HOST}:${peer.many.http}/`, script: spreadScript, pid: peerProc.pid },
          { label: 'HTTPS lbc, 1 route', url: `https://${lbs.reply.oneHttps}/`, script: single, pid: started.proc.pid },
          { label: `HTTPS lbc, ${ROUTES} routes × ${RULES} rules`, url: `https://${lbs.reply.manyHttps}/`, script: spreadScript, pid: started.proc.pid },
          { label: 'HTTPS HAProxy, 1 route', url: `https://${PEER_HOST}:${peer.one.https}/`, script: single, pid: peerProc.pid },
          { label: `HTTPS HAProxy, ${ROUTES} routes × ${RULES} rules`, url: `https://${PEER_HOST}:${peer.many.https}/`, script: spreadScript, pid: peerProc.pid },
        ],
        ROUNDS,
        load,
      );
      for (const [label, r] of runs) console.log(wrkRow(label, r));
      const get = (label: string) => runs.get(label) ?? [];
      const med = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] ?? NaN;
      const rpsRatio = (x: string, y: string) => med(get(x).map((r, i) => r.rps / (get(y)[i]?.rps ?? NaN)));
      const lbcMany = `lbc, ${ROUTES} routes × ${RULES} rules`;
      console.log(`    ${ROUTES} routes vs 1 route: ${rpsRatio(lbcMany, 'lbc, a Gateway with 1 route').toFixed(2)}× (goal ≥ 0.8×); vs direct: 1 route ${rpsRatio('lbc, a Gateway with 1 route', 'direct to the backend').toFixed(2)}×, ${ROUTES} routes ${rpsRatio(lbcMany, 'direct to the backend').toFixed(2)}×`);
      for (const [lbc, peerLabel, what] of [
        ['lbc, a Gateway with 1 route', 'HAProxy, 1 route', 'HTTP  1 route'],
        [lbcMany, `HAProxy, ${ROUTES} routes × ${RULES} rules`, `HTTP  ${ROUTES} routes`],
        ['HTTPS lbc, 1 route', 'HTTPS HAProxy, 1 route', 'HTTPS 1 route'],
        [`HTTPS lbc, ${ROUTES} routes × ${RULES} rules`, `HTTPS HAProxy, ${ROUTES} routes × ${RULES} rules`, `HTTPS ${ROUTES} routes`],
      ] as const) {
        const r = peerRatios(get(lbc), get(peerLabel));
        console.log(`    ${what.padEnd(16)} lbc vs HAProxy: requests/s ${r.rps.toFixed(2)}× (goal ≥ 0.5×), p99 ${r.p99.toFixed(2)}× (goal ≤ 2×)`);
      }
      console.log(`    (${loadLine()} at end; lbc serves L7 in ${lbs.reply.workers ?? 1} processes)`);
    }

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
      const ensured = new Promise<void>((resolve) => started.proc.once('message', () => resolve()));
      started.proc.send({ switched });
      let seen = '';
      // Probe while the ensure runs, as a client would, until the new backend answers.
      while (seen !== want) {
        seen = await get(agent, started.reply.many, probe[0], probe[1]);
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
    lbs?.proc.disconnect();
    nodeBackends?.disconnect();
    await Promise.all(stops.map((h) => h.stop()));
    await rm(dir, { recursive: true, force: true });
  }
}

const role = process.argv.indexOf(ROLE_FLAG);
if (role >= 0) {
  const which = process.argv[role + 1];
  if (which === 'backends') await runBackends();
  else if (which === 'lbs') process.once('message', (init) => void runLoadBalancers(init as LbInit));
}
