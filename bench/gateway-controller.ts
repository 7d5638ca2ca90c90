// The Gateway controller under load, with the local provider carrying real traffic (issue
// #18, "Performance"): against the cluster KUBECONFIG names, else an in-process
// devcluster, with the Gateway API v1.4.0 standard CRDs installed from ../shared/crds.
// Three processes: this one plays the users (creates, patches) and the observer (a watch
// of the routes' status); one child runs lbc's controller with the local provider, its
// API writes counted on the clients it uses; one child runs the backends (one HTTP server
// per backend Service, answering its name) and the client that checks what is served.
//  - one Gateway, then 1000 HTTPRoutes × 10 rules created at once (each route its own
//    hostname, each rule its own PathPrefix to one of 10 backend Services): time from the
//    last create until every route is Accepted for its current generation (the watch), and
//    until every route is served (a request to one rule of each route, through the
//    Gateway's address, answered by that rule's backend), against the time the API
//    server took to accept the 1000 creates;
//  - the controller's API writes per route (goal: its status once) and for the Gateway;
//  - 3 resync periods with nothing changed: API writes and provider ensures (goal 0);
//  - route update → data path: one rule's backend changed by a patch, time until requests
//    to that rule see the new backend, p50/p99 over 20 updates, against the time the
//    patch takes to reach a watch (what any controller waits for before it can act).
// On a real cluster kube-apiserver refuses loopback addresses in EndpointSlices: both
// children then run in a network namespace of the bench's own, the backends on 198.18.21.2
// there, the controller reaching the API server through a relay
// (test/support/netns-api-relay.ts; needs root), else the data path is not measured.
import { CustomObjectsApi, KubeConfig, PatchStrategy, setHeaderOptions, type CoreV1Api, type DiscoveryV1Api } from '@kubernetes/client-node';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { Agent, createServer as createHttpServer, request } from 'node:http';
import { DEFAULT_GATEWAY_CONTROLLER, validateConfig, type LbcConfig } from '../src/config/config.js';
import { Controller } from '../src/controller/controller.js';
import type { HTTPRoute } from '../src/kube/gateway-api.js';
import { makeClients, reuseConnections } from '../src/kube/client.js';
import type { Provider } from '../src/providers/types.js';
import { buildProviders } from '../src/providers/registry.js';
import { countingClients } from './api-writes.js';
import { PhaseProfiler } from './controller.js';
import { forkRole } from './child.js';
import { HTTPROUTES, installGatewayApi } from './httproutes.js';
import { customObjectWatchSource, ResumableWatch } from './resumable-watch.js';
import { NetnsApiRelay, relayApiInside } from '../test/support/netns-api-relay.js';
import { ms, pool, summarize } from './stats.js';

const ROLE_FLAG = '--lbc-gateway-controller-bench-role';
const STANDARD_CRDS = new URL('../../shared/crds/gateway-api-v1.4.0/standard/', import.meta.url).pathname;
const GROUP = 'gateway.networking.k8s.io';
const ROUTES = Number(process.env.LBC_BENCH_ROUTES ?? 1000);
const RULES = 10;
const BACKENDS = 10;
const BACKEND_HOST = '127.0.21.2';
const NETNS_BACKEND_HOST = '198.18.21.2';
const POOL = '127.247.3.0/24';
const PORT_OFFSET = 20_000;
const RESYNC_MS = 2000;
const UPDATES = 20;
const IN_FLIGHT = 32;
const WAIT_MS = 300_000;

/** Wall-clock milliseconds, comparable between the three processes. */
const wall = (): number => performance.timeOrigin + performance.now();

const backendName = (k: number): string => `be-${k}`;
const routeName = (i: number): string => `route-${i}`;
const host = (i: number): string => `r${i}.gw.bench`;
/** Rule j of route i goes to this backend at first. */
const backendOf = (i: number, j: number): number => (i + j) % BACKENDS;

// ---- the controller child ----------------------------------------------------------------

interface ControllerInit {
  readonly kubeconfig: string;
  readonly namespace: string;
  readonly nodeLabel: string;
  readonly config: LbcConfig;
  /** In a network namespace: the Unix socket the bench relays to the API server. */
  readonly apiSocket?: string;
}

type ControllerCmd = { id: number; cmd: 'start' | 'reset' | 'settle' | 'stop' };

export interface GatewaySettled {
  /** Write calls by method. */
  readonly writes: Record<string, number>;
  /** Status writes by object, `plural/name`. */
  readonly statusWrites: Record<string, number>;
  readonly ensures: number;
  readonly reconciles: number;
}

async function runController(init: ControllerInit): Promise<void> {
  if (init.apiSocket) await relayApiInside(init.kubeconfig, init.apiSocket);
  const kc = new KubeConfig();
  kc.loadFromFile(init.kubeconfig);
  const clients = makeClients(kc);
  const statusWrites = new Map<string, number>();
  const onWrite = (method: string, args: readonly unknown[]): void => {
    if (method !== 'patchNamespacedCustomObjectStatus') return;
    const a = args[0] as { plural?: string; name?: string };
    const k = `${a.plural ?? '?'}/${a.name ?? '?'}`;
    statusWrites.set(k, (statusWrites.get(k) ?? 0) + 1);
  };
  const counted = countingClients(clients, new Map(), onWrite);
  const writes = countingClients(clients.writes, counted.writes, onWrite).clients;
  const providers = await buildProviders(init.config);
  const provider = providers.all[0] as Provider;
  let ensures = 0;
  const ensure = provider.ensure.bind(provider);
  provider.ensure = (...args) => {
    ensures++;
    return ensure(...args);
  };
  const controller = new Controller({
    clients: counted.clients,
    writes,
    config: init.config,
    providers,
    namespace: init.namespace,
    nodeLabelSelector: init.nodeLabel,
    log: { info: () => {}, warn: (m: string) => console.warn(`    controller: ${m}`) },
    gcIntervalMs: 0,
  });
  let reconcilesAtReset = 0;
  // LBC_BENCH_PROF=DIR: one CPU profile of the controller per measured phase, as in bench/controller.ts.
  const profiler = new PhaseProfiler(process.env.LBC_BENCH_PROF);
  let phase = 0;
  const handlers: Record<ControllerCmd['cmd'], () => Promise<unknown>> = {
    start: () => controller.start(),
    reset: async () => {
      counted.writes.clear();
      statusWrites.clear();
      ensures = 0;
      reconcilesAtReset = controller.stats().reconciles;
      await profiler.begin();
    },
    settle: async (): Promise<GatewaySettled> => {
      await controller.idle();
      await controller.recorder.flush();
      await profiler.end(`gateway-${++phase}`);
      return { writes: Object.fromEntries(counted.writes), statusWrites: Object.fromEntries(statusWrites), ensures, reconciles: controller.stats().reconciles - reconcilesAtReset };
    },
    stop: async () => {
      await controller.stop({ drainTimeoutMs: 2000 });
      await providers.close();
    },
  };
  process.on('message', (m) => {
    const req = m as ControllerCmd;
    handlers[req.cmd]().then(
      (result) => process.send?.({ id: req.id, result: result ?? null }),
      (e: unknown) => process.send?.({ id: req.id, error: e instanceof Error ? e.message : String(e) }),
    );
  });
  process.on('disconnect', () => process.exit(0));
  process.send?.('ready');
}

// ---- the traffic child: backends and the client -------------------------------------------

/** One request; the body (a backend's name), or `status <code>`, or `error <message>`. */
function get(agent: Agent, endpoint: { host: string; port: number }, hostHeader: string, path: string): Promise<string> {
  return new Promise((resolve) => {
    const req = request({ ...endpoint, path, agent, headers: { host: hostHeader }, timeout: 5000 }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve(res.statusCode === 200 ? body : `status ${res.statusCode ?? 0}`));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e) => resolve(`error ${e.message}`));
    req.end();
  });
}

interface Check {
  readonly host: string;
  readonly path: string;
  readonly want: string;
}

type TrafficCmd =
  | { id: number; cmd: 'served'; endpoint: { host: string; port: number }; checks: Check[]; timeoutMs: number }
  | { id: number; cmd: 'until'; endpoint: { host: string; port: number }; check: Check; timeoutMs: number };

async function runTraffic(backendHost: string): Promise<void> {
  const ports: number[] = [];
  for (let k = 0; k < BACKENDS; k++) {
    const name = backendName(k);
    const s = createHttpServer((req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': name.length });
      res.end(name);
    });
    s.keepAliveTimeout = 30_000;
    ports.push(
      await new Promise<number>((resolve, reject) => {
        s.once('error', reject);
        s.listen({ host: backendHost, port: 0 }, () => resolve((s.address() as { port: number }).port));
      }),
    );
  }
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });
  /** When each check first got its backend (wall clock), by index; what the last unserved one answered. */
  const served = async (endpoint: { host: string; port: number }, checks: Check[], timeoutMs: number): Promise<{ at: number[]; last: string }> => {
    const at: number[] = new Array<number>(checks.length).fill(NaN);
    let left = [...checks.keys()];
    let last = '';
    const deadline = wall() + timeoutMs;
    while (left.length > 0 && wall() < deadline) {
      const still: number[] = [];
      await pool(left, 8, async (i) => {
        const c = checks[i]!;
        const got = await get(agent, endpoint, c.host, c.path);
        if (got === c.want) at[i] = wall();
        else {
          still.push(i);
          last = `${c.host}${c.path}: ${got}`;
        }
      });
      left = still;
      if (left.length > 0) await new Promise((r) => setTimeout(r, 2));
    }
    return { at, last };
  };
  process.on('message', (m) => {
    const req = m as TrafficCmd;
    const work = req.cmd === 'served' ? served(req.endpoint, req.checks, req.timeoutMs) : served(req.endpoint, [req.check], req.timeoutMs);
    void work.then((result) => process.send?.({ id: req.id, result }));
  });
  process.on('disconnect', () => process.exit(0));
  process.send?.(ports);
}

// ---- the parent ----------------------------------------------------------------------------

/** Requests to a child by id, answered in any order. */
class Rpc {
  private next = 0;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  constructor(
    readonly proc: ChildProcess,
    what: string,
  ) {
    proc.on('message', (m: { id?: number; result?: unknown; error?: string }) => {
      const p = typeof m === 'object' && m.id !== undefined ? this.pending.get(m.id) : undefined;
      if (!p || m.id === undefined) return;
      this.pending.delete(m.id);
      if (m.error !== undefined) p.reject(new Error(`${what} process: ${m.error}`));
      else p.resolve(m.result);
    });
    proc.on('exit', (code) => {
      for (const p of this.pending.values()) p.reject(new Error(`${what} process exited (${code})`));
      this.pending.clear();
    });
  }

  call<T>(msg: object): Promise<T> {
    const id = this.next++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.proc.send({ ...msg, id });
    });
  }
}

function httpRoute(i: number): object {
  return {
    apiVersion: `${GROUP}/v1`,
    kind: 'HTTPRoute',
    metadata: { name: routeName(i) },
    spec: {
      parentRefs: [{ name: 'gw', sectionName: 'http' }],
      hostnames: [host(i)],
      rules: Array.from({ length: RULES }, (_, j) => ({ matches: [{ path: { type: 'PathPrefix', value: `/p${j}` } }], backendRefs: [{ name: backendName(backendOf(i, j)), port: 80 }] })),
    },
  };
}

/**
 * Notes, per route and generation (`name@generation`), when the watch first saw it, and
 * when it first showed lbc's Accepted=True for that generation.
 */
class RouteWatch {
  readonly seen = new Map<string, number>();
  readonly accepted = new Map<string, number>();
  private watch: ResumableWatch<HTTPRoute> | undefined;

  static async start(kc: KubeConfig, custom: CustomObjectsApi, namespace: string): Promise<RouteWatch> {
    const w = new RouteWatch();
    w.watch = await ResumableWatch.start(customObjectWatchSource<HTTPRoute>(kc, custom, HTTPROUTES, namespace), (type, r) => {
      if (type !== 'DELETED') w.note(r);
    });
    return w;
  }

  private note(r: HTTPRoute): void {
    const gen = r.metadata?.generation ?? 0;
    const key = `${r.metadata?.name ?? ''}@${gen}`;
    if (!this.seen.has(key)) this.seen.set(key, wall());
    if (this.accepted.has(key)) return;
    const ours = r.status?.parents?.find((p) => p.controllerName === DEFAULT_GATEWAY_CONTROLLER);
    const accepted = ours?.conditions.find((c) => c.type === 'Accepted');
    if (accepted?.status === 'True' && accepted.observedGeneration === gen) this.accepted.set(key, wall());
  }

  /** When each of `keys` was first seen (`seen`) or Accepted (`accepted`). */
  async waitFor(what: 'seen' | 'accepted', keys: readonly string[], timeoutMs: number): Promise<number[]> {
    const times = this[what];
    const deadline = wall() + timeoutMs;
    for (;;) {
      const missing = keys.filter((k) => !times.has(k));
      if (missing.length === 0) return keys.map((k) => times.get(k)!);
      if (wall() > deadline) throw new Error(`timed out waiting for ${missing.length} route generation(s) to be ${what} (e.g. ${missing.slice(0, 5).join(', ')})`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  stop(): void {
    this.watch?.stop();
  }
}

const ratio = (x: number, ref: number): string => `${(x / ref).toFixed(2)}×`;
const jsonPatch = setHeaderOptions('Content-Type', PatchStrategy.JsonPatch);

export async function benchGatewayController(): Promise<void> {
  const real = process.env.KUBECONFIG;
  console.log(`\ngateway controller (${real ? `real cluster ${real}` : 'devcluster in the bench process'}; controller with the local provider in its own process; backends and client in another)`);
  if (!existsSync(STANDARD_CRDS)) {
    console.log(`  skipped: the Gateway API CRDs are not at ${STANDARD_CRDS}`);
    return;
  }
  const dev = real ? undefined : await (await import('../src/devcluster/index.js')).startDevCluster({ port: 0, allowLoopbackEndpoints: true, watchWindow: 50_000 });
  const kubeconfig = real ?? (dev as NonNullable<typeof dev>).kubeconfigPath;
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  reuseConnections(kc);
  const clients = makeClients(kc);
  try {
    await run(kc, kubeconfig, clients.core, clients.discovery, Boolean(real));
  } finally {
    await dev?.stop();
  }
}

async function run(kc: KubeConfig, kubeconfig: string, core: CoreV1Api, discovery: DiscoveryV1Api, real: boolean): Promise<void> {
  const custom = kc.makeApiClient(CustomObjectsApi);
  const { created } = await installGatewayApi(kc);
  if (created.length) console.log(`  Gateway API v1.4.0 standard CRDs installed: ${created.length}`);
  const id = randomBytes(3).toString('hex');
  const namespace = `bench-gw-${id}`;
  const className = `lbc-bench-${id}`;
  const config = validateConfig({
    clusterName: `bench-${id}`,
    providers: [{ name: 'local', type: 'local', options: { addressPool: POOL, addressMode: 'pool', portOffset: PORT_OFFSET, healthChecks: false, drainTimeoutMs: 1000 } }],
    defaultClass: 'lbc.dev/local',
    concurrency: 16,
    resyncPeriod: `${RESYNC_MS}ms`,
    nodeReadyHysteresis: 0,
  });
  const unavailable = real ? NetnsApiRelay.unavailable(kubeconfig) : undefined;
  if (unavailable) console.log(`  (kube-apiserver refuses loopback addresses in EndpointSlices, and a network namespace cannot be used: ${unavailable}; the data path is not measured)`);
  const netns = real && !unavailable ? await NetnsApiRelay.create(kubeconfig, [NETNS_BACKEND_HOST]) : undefined;
  if (netns) console.log(`  (the controller, backends and client in network namespace ${netns.ns}, backends on ${NETNS_BACKEND_HOST})`);
  const data = !real || netns !== undefined;
  const backendHost = netns ? NETNS_BACKEND_HOST : BACKEND_HOST;
  const forkWith = netns ? (path: string, args: string[]) => netns.fork(path, args) : undefined;
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  const traffic = await forkRole<number[]>(import.meta.url, ROLE_FLAG, 'traffic', backendHost, forkWith);
  const trafficRpc = new Rpc(traffic.proc, 'traffic');
  const init: ControllerInit = { kubeconfig, namespace, nodeLabel: `lbc-bench-gw-${id}`, config, ...(netns ? { apiSocket: netns.apiSocket } : {}) };
  const ctl = await forkRole<string>(import.meta.url, ROLE_FLAG, 'controller', init, forkWith);
  const ctlRpc = new Rpc(ctl.proc, 'controller');
  const gwApi = (plural: string) => ({ group: GROUP, version: 'v1', namespace, plural });
  let routes: RouteWatch | undefined;
  try {
    for (let k = 0; k < BACKENDS; k++) {
      const name = backendName(k);
      await core.createNamespacedService({ namespace, body: { metadata: { name }, spec: { type: 'ClusterIP', ports: [{ name: 'http', port: 80, targetPort: traffic.reply[k], protocol: 'TCP' }] } } });
      if (!data) continue;
      await discovery.createNamespacedEndpointSlice({
        namespace,
        body: {
          metadata: { name: `${name}-manual`, labels: { 'kubernetes.io/service-name': name } },
          addressType: 'IPv4',
          ports: [{ name: 'http', port: traffic.reply[k], protocol: 'TCP' }],
          endpoints: [{ addresses: [backendHost], conditions: { ready: true } }],
        },
      });
    }
    await custom.createClusterCustomObject({
      group: GROUP,
      version: 'v1',
      plural: 'gatewayclasses',
      body: { apiVersion: `${GROUP}/v1`, kind: 'GatewayClass', metadata: { name: className }, spec: { controllerName: DEFAULT_GATEWAY_CONTROLLER, parametersRef: { group: 'lbc.dev', kind: 'Provider', name: 'local' } } },
    });
    await ctlRpc.call({ cmd: 'start' });
    await custom.createNamespacedCustomObject({
      ...gwApi('gateways'),
      body: { apiVersion: `${GROUP}/v1`, kind: 'Gateway', metadata: { name: 'gw' }, spec: { gatewayClassName: className, listeners: [{ name: 'http', port: 80, protocol: 'HTTP' }] } },
    });
    const endpoint = await gatewayEndpoint(custom, namespace);

    // ---- 1000 routes at once ------------------------------------------------------------
    await ctlRpc.call({ cmd: 'reset' });
    routes = await RouteWatch.start(kc, custom, namespace);
    const checks: Check[] = Array.from({ length: ROUTES }, (_, i) => ({ host: host(i), path: `/p${i % RULES}/x`, want: backendName(backendOf(i, i % RULES)) }));
    const servedP = !data ? undefined : trafficRpc.call<{ at: number[]; last: string }>({ cmd: 'served', endpoint, checks, timeoutMs: WAIT_MS });
    const firstAt = wall();
    await pool([...Array(ROUTES).keys()], IN_FLIGHT, async (i) => {
      await custom.createNamespacedCustomObject({ ...gwApi('httproutes'), body: httpRoute(i) });
    });
    const lastAt = wall();
    const createMs = lastAt - firstAt;
    const acceptedAt = await routes.waitFor('accepted', [...Array(ROUTES).keys()].map((i) => `${routeName(i)}@1`), WAIT_MS);
    const acceptedMs = Math.max(...acceptedAt) - lastAt;
    console.log(`  ${ROUTES} HTTPRoutes × ${RULES} rules created at once on one Gateway (${IN_FLIGHT} creates in flight; the API server took ${ms(createMs)} to accept them)`);
    console.log(`    every route Accepted (its generation observed) ${ms(acceptedMs)} after the last create = ${ratio(acceptedMs, createMs)} the creates' time`);
    if (servedP) {
      const served = await servedP;
      const missing = served.at.filter((t) => Number.isNaN(t)).length;
      if (missing) throw new Error(`${missing} route(s) never served by the right backend (last answer: ${served.last})`);
      const servedMs = Math.max(...served.at) - lastAt;
      const bothMs = Math.max(servedMs, acceptedMs);
      console.log(`    every route served (a request to one rule of each answered by that rule's backend) ${ms(servedMs)} after the last create = ${ratio(servedMs, createMs)}`);
      console.log(`    Accepted and served: ${ms(bothMs)} after the last create = ${ratio(bothMs, createMs)} the creates' time`);
    }
    const burst = await ctlRpc.call<GatewaySettled>({ cmd: 'settle' });
    printWrites(burst, namespace);

    // ---- idle resyncs -------------------------------------------------------------------
    await ctlRpc.call({ cmd: 'reset' });
    await new Promise((r) => setTimeout(r, 3 * RESYNC_MS + 200));
    const quiet = await ctlRpc.call<GatewaySettled>({ cmd: 'settle' });
    const quietWrites = Object.values(quiet.writes).reduce((a, b) => a + b, 0);
    console.log(`  3 resync periods (${RESYNC_MS} ms) with nothing changed: ${quiet.reconciles} reconciles, ${quietWrites} API writes (goal 0), ${quiet.ensures} provider ensures (goal 0)`);

    // ---- route update → data path -------------------------------------------------------
    await ctlRpc.call({ cmd: 'reset' });
    const toData: number[] = [];
    const toStatus: number[] = [];
    const toWatch: number[] = [];
    for (let u = 0; u < UPDATES; u++) {
      const i = (u * 37) % ROUTES;
      const j = u % RULES;
      const name = routeName(i);
      const before = (await custom.getNamespacedCustomObject({ ...gwApi('httproutes'), name })) as HTTPRoute;
      const current = Number(/\d+$/.exec(before.spec?.rules?.[j]?.backendRefs?.[0]?.name ?? '')?.[0] ?? 0);
      const next = (current + 1 + (u % (BACKENDS - 1))) % BACKENDS;
      const gen = (before.metadata?.generation ?? 1) + 1;
      const t0 = wall();
      const seenP = !data ? undefined : trafficRpc.call<{ at: number[]; last: string }>({ cmd: 'until', endpoint, check: { host: host(i), path: `/p${j}/x`, want: backendName(next) }, timeoutMs: 60_000 });
      await custom.patchNamespacedCustomObject({ ...gwApi('httproutes'), name, body: [{ op: 'replace', path: `/spec/rules/${j}/backendRefs/0/name`, value: backendName(next) }] }, jsonPatch);
      toWatch.push((await routes.waitFor('seen', [`${name}@${gen}`], 60_000))[0]! - t0);
      toStatus.push((await routes.waitFor('accepted', [`${name}@${gen}`], 60_000))[0]! - t0);
      if (seenP) {
        const seen = await seenP;
        if (Number.isNaN(seen.at[0])) throw new Error(`update ${u}: ${host(i)}/p${j} never answered by ${backendName(next)} (last: ${seen.last})`);
        toData.push(seen.at[0]! - t0);
      }
    }
    const updates = await ctlRpc.call<GatewaySettled>({ cmd: 'settle' });
    const w = summarize(toWatch);
    const s = summarize(toStatus);
    console.log(`  route update (one rule's backend changed by a patch, in the ${ROUTES * RULES}-rule Gateway; ${UPDATES} updates, one at a time):`);
    console.log(`    patch → a watch sees it (the floor for any controller): p50 ${ms(w.p50)}   p99 ${ms(w.p99)}`);
    console.log(`    patch → Accepted for the new generation:                p50 ${ms(s.p50)}   p99 ${ms(s.p99)}   (${ratio(s.p50, w.p50)} / ${ratio(s.p99, w.p99)} the watch)`);
    if (toData.length) {
      const d = summarize(toData);
      console.log(`    patch → requests see the new backend:                   p50 ${ms(d.p50)}   p99 ${ms(d.p99)}   (${ratio(d.p50, w.p50)} / ${ratio(d.p99, w.p99)} the watch)`);
    }
    const routeWrites = Object.entries(updates.statusWrites).filter(([k]) => k.startsWith('httproutes/')).reduce((a, [, n]) => a + n, 0);
    const total = Object.values(updates.writes).reduce((a, b) => a + b, 0);
    console.log(
      `    API writes: ${total} for ${UPDATES} updates (${Object.entries(updates.writes).map(([m, n]) => `${m} ${n}`).join(', ')}), ` +
        `route status ${routeWrites} (goal ${UPDATES}: once per update), Gateway status ${updates.statusWrites['gateways/gw'] ?? 0}; provider ensures ${updates.ensures}, ${updates.reconciles} reconciles`,
    );
  } finally {
    routes?.stop();
    await ctlRpc.call({ cmd: 'stop' }).catch(() => {});
    ctl.proc.disconnect();
    traffic.proc.disconnect();
    await netns?.close();
    // The controller is gone: its finalizer would hold the Gateway, and so the namespace.
    await custom.patchNamespacedCustomObject({ ...gwApi('gateways'), name: 'gw', body: [{ op: 'remove', path: '/metadata/finalizers' }] }, jsonPatch).catch(() => {});
    await core.deleteNamespace({ name: namespace }).catch(() => {});
    await custom.deleteClusterCustomObject({ group: GROUP, version: 'v1', plural: 'gatewayclasses', name: className }).catch(() => {});
  }
}

/** The Gateway's address and bound port, once it is Programmed. */
async function gatewayEndpoint(custom: CustomObjectsApi, namespace: string): Promise<{ host: string; port: number }> {
  const deadline = wall() + 60_000;
  for (;;) {
    const gw = (await custom.getNamespacedCustomObject({ group: GROUP, version: 'v1', namespace, plural: 'gateways', name: 'gw' })) as {
      status?: { addresses?: { value: string }[]; conditions?: { type: string; status: string; message?: string }[] };
    };
    const programmed = gw.status?.conditions?.find((c) => c.type === 'Programmed');
    const address = gw.status?.addresses?.[0]?.value;
    if (programmed?.status === 'True' && address) return { host: address, port: 80 + PORT_OFFSET };
    if (wall() > deadline) throw new Error(`the Gateway was not Programmed within 60 s: ${JSON.stringify(gw.status?.conditions ?? [])}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function printWrites(settled: GatewaySettled, namespace: string): void {
  const total = Object.values(settled.writes).reduce((a, b) => a + b, 0);
  const perRoute = new Map<number, number>();
  let routeWrites = 0;
  for (let i = 0; i < ROUTES; i++) {
    const n = settled.statusWrites[`httproutes/${routeName(i)}`] ?? 0;
    routeWrites += n;
    perRoute.set(n, (perRoute.get(n) ?? 0) + 1);
  }
  const histogram = [...perRoute].sort(([a], [b]) => a - b).map(([n, c]) => `${c} route${c === 1 ? '' : 's'} ${n}×`).join(', ');
  const gw = settled.statusWrites['gateways/gw'] ?? 0;
  console.log(
    `    API writes by the controller: ${total} (${Object.entries(settled.writes).map(([m, n]) => `${m} ${n}`).join(', ')}); ` +
      `route status ${routeWrites} = ${(routeWrites / ROUTES).toFixed(2)} per route (goal 1; ${histogram}); Gateway status ${gw}; ` +
      `provider ensures ${settled.ensures}; ${settled.reconciles} reconciles (namespace ${namespace})`,
  );
}

const role = process.argv.indexOf(ROLE_FLAG);
if (role >= 0) {
  const which = process.argv[role + 1];
  if (which === 'traffic') process.once('message', (host) => void runTraffic(host as string));
  else if (which === 'controller') process.once('message', (init) => void runController(init as ControllerInit));
}

