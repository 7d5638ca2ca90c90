// The controller under load, with an instant in-memory provider, against the cluster
// KUBECONFIG names (else an in-process devcluster). The controller runs in a child
// process of its own, compiled to plain JavaScript as `lbc run` ships, so that its
// peak RSS is its own and it gets the CPU share a deployed controller would; this
// process plays the users (creates, deletes) and the observer (a watch for addresses).
//  - 1000 LoadBalancer Services created at once: time until the watch has seen every
//    address (from the first create and from the last), the controller's API writes
//    per Service (finalizer, status, Events: counted on the clients it uses), its CPU
//    per Service, and every Service's Events listed back from the API afterwards;
//  - 3 resyncs with nothing changed: API and provider writes (goal 0);
//  - a restart with the 1000 Services already served: time to idle, writes;
//  - 100 Nodes joining at once: provider updates per load balancer (goal 1);
//  - 1000 Services waiting when a controller starts (a cold start);
//  - 1000 Services deleted at once;
//  - the controller's peak RSS, per phase and overall (VmHWM).
// On a real cluster one run creates and deletes 1000 Services, which writes ~260 MB of
// ClusterIP-allocator history into etcd until the API server compacts it (every 5 min):
// leave a few minutes between runs on a small shared etcd.
// Knobs (environment): LBC_BENCH_WORKERS (queue workers, 64), LBC_BENCH_EVENTS (Events in
// flight), LBC_BENCH_GC (--expose-gc), LBC_BENCH_PROF=DIR (one CPU profile of the
// controller per measured phase, DIR/<n>-<phase>.cpuprofile; with LBC_BENCH_HEAP_PROF=1
// also a sampled allocation profile beside it, <n>-<phase>.heapprofile, counting what the
// young generation collected too), LBC_BENCH_PHASES=cold (only
// the cold start, on Services created with no controller running: the quick loop for
// profiling the controller's per-Service cost), LBC_BENCH_SERVICES (1000) and LBC_BENCH_NODES
// (100): how many of each; LBC_BENCH_NODE_FLAGS: more node flags for the controller (space-separated); with LBC_BENCH_PHASES=cold the Nodes are created before the
// controller starts, so that its peak RSS is read with every spec targeting them all
// (5000 Services over 500 Nodes is the size the memory limit in deploy/ is checked at).
import type { V1Service } from '@kubernetes/client-node';
import { CoreV1Api, KubeConfig } from '../src/kube/client-node.js';
import { fork, type ChildProcess } from 'node:child_process';
import { Session } from 'node:inspector/promises';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { validateConfig, type LbcConfig } from '../src/config/config.js';
import { Controller } from '../src/controller/controller.js';
import { FINALIZER } from '../src/controller/reconcile.js';
import { CONTROLLER_GC_FLAGS, CONTROLLER_MALLOC_ARENA_MAX } from '../src/install/workloads.js';
import { makeClients, reuseConnections } from '../src/kube/client.js';
import { buildProviders } from '../src/providers/registry.js';
import type { MemoryProvider } from '../src/providers/memory/index.js';
import { AddressWatch } from './address-watch.js';
import { compileBench } from './child.js';
import { countingClients } from './api-writes.js';
import { serviceWatchSource } from './resumable-watch.js';
import type { ControllerFigures } from './headline.js';
import { ms, pool } from './stats.js';

// Set by benchController's size (the `scale` bench) where not by the environment.
let SERVICES = Number(process.env.LBC_BENCH_SERVICES ?? 1000);
let NODES = Number(process.env.LBC_BENCH_NODES ?? 100);
/** Nodes joining after a cold-only run's cold start (the `scale` bench): provider updates per LB. */
let JOINING = 0;
let COLD_ONLY = process.env.LBC_BENCH_PHASES === 'cold';
/**
 * Resyncs the idle phase triggers. Every phase runs with lbc's default resync period
 * (600 s, what users run): a short one for the whole run put 1000-2000 extra resync
 * reconciles into the 6-8 s cold start, so its time and CPU per Service tracked the
 * machine's load (#21). The idle phase instead triggers its resyncs through the child's
 * control channel, on the method the resync timer calls (Controller.enqueueAll).
 */
const RESYNCS = 3;
const CHILD_FLAG = '--lbc-controller-bench-child';

// ---- the child: one controller, driven over IPC -----------------------------------------

interface ChildInit {
  readonly kubeconfig: string;
  readonly namespace: string;
  readonly nodeLabel: string;
  readonly config: LbcConfig;
  readonly eventConcurrency?: number;
}

type Request = { id: number; cmd: 'start' | 'settle' | 'reset' | 'restart' | 'resync' | 'lbs' | 'stop'; label?: string };

export interface Settled {
  writes: Record<string, number>;
  reconciles: number;
  ensureCalls: number;
  ensureCallsPerLb: number[];
  providerWrites: number;
  nodeBatches: number;
  recorderFailed: number;
  /** Peak RSS since the last reset. */
  rssMb: number;
  heapMb: number;
  /** CPU time (user + system) the controller process used since the last reset. */
  cpuMs: number;
  sysMs: number;
  /** Per write method: when its first call started and its last call ended, in ms since the last reset. */
  timeline: Record<string, { first: number; last: number }>;
  ms?: number;
}

/** When each write method's calls began and ended, to show which writes held up which. */
class WriteTimeline {
  private readonly spans = new Map<string, { first: number; last: number }>();
  private origin = performance.now();
  reset(): void {
    this.spans.clear();
    this.origin = performance.now();
  }
  begin(method: string): () => void {
    const t = performance.now() - this.origin;
    let s = this.spans.get(method);
    if (!s) this.spans.set(method, (s = { first: t, last: t }));
    const span = s;
    return () => void (span.last = Math.max(span.last, performance.now() - this.origin));
  }
  toJSON(): Record<string, { first: number; last: number }> {
    return Object.fromEntries(this.spans);
  }
}

/**
 * CPU profiles of the measured phases only (reset to settle), so that start-up, module
 * loading and the phases in between do not blur them.
 */
export class PhaseProfiler {
  private session: Session | undefined;
  private running = false;
  private n = 0;
  constructor(private readonly dir: string | undefined) {}

  async begin(): Promise<void> {
    if (!this.dir) return;
    if (!this.session) {
      this.session = new Session();
      this.session.connect();
      await this.session.post('Profiler.enable');
      await this.session.post('Profiler.setSamplingInterval', { interval: 200 });
    }
    if (this.running) await this.session.post('Profiler.stop');
    if (process.env.LBC_BENCH_HEAP_PROF) {
      await this.session.post('HeapProfiler.startSampling', { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true } as never);
    }
    await this.session.post('Profiler.start');
    this.running = true;
  }

  async end(label: string): Promise<void> {
    if (!this.dir || !this.session || !this.running) return;
    this.running = false;
    const { profile } = await this.session.post('Profiler.stop');
    const file = join(this.dir, `${++this.n}-${label.replace(/[^a-z0-9]+/gi, '-')}.cpuprofile`);
    mkdirSync(this.dir, { recursive: true });
    writeFileSync(file, JSON.stringify(profile));
    if (process.env.LBC_BENCH_HEAP_PROF) {
      const { profile: heap } = await this.session.post('HeapProfiler.stopSampling');
      writeFileSync(file.replace(/cpuprofile$/, 'heapprofile'), JSON.stringify(heap));
    }
    console.log(`    CPU profile of the controller: ${file}`);
  }
}

function peakRssMb(): number {
  // The kernel's high-water mark catches peaks between samples.
  const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return Math.round((hwm ? Number(hwm[1]) * 1024 : process.memoryUsage.rss()) / 1024 / 1024);
}

async function child(): Promise<void> {
  const init = await new Promise<ChildInit>((r) => process.once('message', (m) => r(m as ChildInit)));
  const kc = new KubeConfig();
  kc.loadFromFile(init.kubeconfig);
  const clients = makeClients(kc);
  // Every write goes through the typed clients or the per-object write clients, and both are counted.
  const timeline = new WriteTimeline();
  const onWrite = (method: string): (() => void) => timeline.begin(method);
  const counted = countingClients(clients, undefined, onWrite);
  const writes = countingClients(clients.writes, counted.writes, onWrite).clients;
  // One provider for both controller lifetimes: a cloud outlives the process that drives it.
  const providers = await buildProviders(init.config);
  const provider = providers.all[0] as MemoryProvider;
  const log = { info: () => {}, warn: (m: string) => console.warn(`    controller: ${m}`) };
  const make = (): Controller =>
    new Controller({
      clients: counted.clients,
      writes,
      config: init.config,
      providers,
      namespace: init.namespace,
      nodeLabelSelector: init.nodeLabel,
      log,
      gcIntervalMs: 0,
      ...(init.eventConcurrency ? { eventConcurrency: init.eventConcurrency } : {}),
    });
  let controller = make();
  let reconcilesAtReset = 0;
  const cpuMs = (): number => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  let cpuAtReset = cpuMs();
  let sysAtReset = process.cpuUsage().system / 1000;
  const settle = async (): Promise<Settled> => {
    await controller.idle();
    await controller.recorder.flush();
    (globalThis as { gc?: () => void }).gc?.();
    const perLb = provider.ensureCountsByLb();
    return {
      writes: Object.fromEntries(counted.writes),
      reconciles: controller.stats().reconciles - reconcilesAtReset,
      ensureCalls: provider.callCount('ensure'),
      ensureCallsPerLb: [...perLb.values()],
      providerWrites: provider.writes,
      nodeBatches: controller.stats().nodeBatches,
      recorderFailed: controller.recorder.stats().failed,
      rssMb: peakRssMb(),
      cpuMs: cpuMs() - cpuAtReset,
      sysMs: process.cpuUsage().system / 1000 - sysAtReset,
      heapMb: Math.round(process.memoryUsage().heapUsed / 1048576),
      timeline: timeline.toJSON(),
    };
  };
  let overallPeak = 0;
  const profiler = new PhaseProfiler(process.env.LBC_BENCH_PROF);
  const reset = async (): Promise<void> => {
    overallPeak = Math.max(overallPeak, peakRssMb());
    // Resets the kernel's peak-RSS mark, so each phase reports its own peak.
    try {
      writeFileSync('/proc/self/clear_refs', '5');
    } catch {
      // Not Linux, or not allowed: the peak then covers the whole run.
    }
    counted.writes.clear();
    timeline.reset();
    provider.resetRecording();
    reconcilesAtReset = controller.stats().reconciles;
    await profiler.begin();
    cpuAtReset = cpuMs();
    sysAtReset = process.cpuUsage().system / 1000;
  };
  const handlers: Record<Request['cmd'], (label?: string) => Promise<unknown>> = {
    start: async () => controller.start(),
    settle: async (label) => {
      const out = await settle();
      await profiler.end(label ?? 'phase');
      return out;
    },
    reset,
    restart: async (label) => {
      await controller.stop();
      controller = make();
      await reset();
      const t0 = performance.now();
      await controller.start();
      const out = await settle();
      await profiler.end(label ?? 'restart');
      return { ...out, ms: performance.now() - t0 };
    },
    // One resync period's work: what the resync timer does when it fires, then idle.
    resync: async () => {
      controller.enqueueAll();
      await controller.idle();
    },
    lbs: async () => {
      const counts = provider.loadBalancers().flatMap((lb) => lb.spec.targetSets.map((t) => t.targets.length));
      return { count: provider.loadBalancers().length, minTargets: Math.min(...counts), maxTargets: Math.max(...counts) };
    },
    stop: async () => {
      await controller.stop({ drainTimeoutMs: 5000 });
      await providers.close();
      return { peakRssMb: Math.max(overallPeak, peakRssMb()) };
    },
  };
  process.on('message', (m) => {
    const req = m as Request;
    handlers[req.cmd](req.label).then(
      (result) => {
        process.send?.({ id: req.id, result });
        if (req.cmd === 'stop') process.disconnect();
      },
      (e: unknown) => process.send?.({ id: req.id, error: e instanceof Error ? e.message : String(e) }),
    );
  });
  const rssMb = Math.round(process.memoryUsage.rss() / 1048576);
  console.log(`    controller process RSS after loading: ${rssMb} MB`);
  process.send?.({ ready: true, rssMb });
}

// ---- the parent: users and observer ------------------------------------------------------

/**
 * Compiles src/ and bench/ to JavaScript (transpile only, as tsc would emit them) in a
 * temporary directory, so the child runs without a TypeScript loader in its heap.
 */
async function compileForChild(): Promise<{ dir: string; entry: string }> {
  const dir = await compileBench();
  return { dir, entry: join(dir, 'bench', 'controller.js') };
}

class ChildController {
  private next = 0;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  /** The process's RSS once loaded, before its controller starts. */
  rssAfterLoadMb = NaN;
  private constructor(private readonly proc: ChildProcess) {
    proc.on('message', (m: { id?: number; result?: unknown; error?: string }) => {
      const p = m.id === undefined ? undefined : this.pending.get(m.id);
      if (!p || m.id === undefined) return;
      this.pending.delete(m.id);
      if (m.error !== undefined) p.reject(new Error(`controller process: ${m.error}`));
      else p.resolve(m.result);
    });
    proc.on('exit', (code) => {
      for (const p of this.pending.values()) p.reject(new Error(`controller process exited (${code})`));
      this.pending.clear();
    });
  }

  static async spawn(entry: string, init: ChildInit): Promise<ChildController> {
    // node's flags as the manifests run the controller with (the heap limit aside: the bench has no pod limit).
    const execArgv = [...CONTROLLER_GC_FLAGS, ...(process.env.LBC_BENCH_GC ? ['--expose-gc'] : []), ...(process.env.LBC_BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean)];
    // The image's environment too (Dockerfile ENV MALLOC_ARENA_MAX).
    const env = { ...process.env, MALLOC_ARENA_MAX: String(CONTROLLER_MALLOC_ARENA_MAX) };
    const proc = fork(entry, [CHILD_FLAG], { execArgv, env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const c = new ChildController(proc);
    await new Promise<void>((resolve, reject) => {
      proc.once('message', (m: { rssMb?: number }) => {
        c.rssAfterLoadMb = m.rssMb ?? NaN;
        resolve();
      });
      proc.once('exit', (code) => reject(new Error(`controller process exited (${code}) before it was ready`)));
      proc.send(init);
    });
    return c;
  }

  call<T>(cmd: Request['cmd'], label?: string): Promise<T> {
    const id = this.next++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.proc.send({ id, cmd, ...(label ? { label } : {}) });
    });
  }

  /** Waits a moment for the process to end on its own, then ends it. */
  async kill(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.proc.kill();
        resolve();
      }, 3000);
      this.proc.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}

async function until(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const ADDRESS_WAIT_MS = 120_000;
/** The wait for every address, longer for more Services than the default 1000. */
const addressWaitMs = (): number => ADDRESS_WAIT_MS * Math.max(1, SERVICES / 1000);
const byList = (w: AddressWatch): string => (w.confirmedByList ? ` (${w.confirmedByList} of them only by a LIST: the time is an upper bound)` : '');

async function listAll(core: CoreV1Api, namespace: string): Promise<V1Service[]> {
  const out: V1Service[] = [];
  let cont: string | undefined;
  do {
    const page = await core.listNamespacedService({ namespace, limit: 500, _continue: cont });
    out.push(...page.items);
    cont = page.metadata?._continue || undefined;
  } while (cont);
  return out;
}

function breakdown(writes: Readonly<Record<string, number>>): { total: number; text: string } {
  const entries = Object.entries(writes);
  const total = entries.reduce((a, [, n]) => a + n, 0);
  return { total, text: entries.length === 0 ? '' : ` (${entries.map(([m, n]) => `${m} ${n}`).join(', ')})` };
}

const EXPECTED_REASONS = ['EnsuringLoadBalancer', 'EnsuredLoadBalancer'];

async function countEvents(core: CoreV1Api, namespace: string, prefix: string): Promise<{ total: number; byReason: Map<string, number>; complete: number; missing: number }> {
  const byReason = new Map<string, number>();
  const perService = new Map<string, Set<string>>();
  let total = 0;
  let cont: string | undefined;
  do {
    const page = await core.listNamespacedEvent({ namespace, limit: 500, _continue: cont });
    for (const e of page.items) {
      if (e.involvedObject.kind !== 'Service' || !e.involvedObject.name?.startsWith(prefix) || e.source?.component !== 'lbc') continue;
      total++;
      byReason.set(e.reason ?? '', (byReason.get(e.reason ?? '') ?? 0) + 1);
      const name = e.involvedObject.name ?? '';
      let set = perService.get(name);
      if (!set) perService.set(name, (set = new Set()));
      set.add(e.reason ?? '');
    }
    cont = page.metadata?._continue || undefined;
  } while (cont);
  const complete = [...perService.values()].filter((s) => EXPECTED_REASONS.every((r) => s.has(r))).length;
  // Services with no Event at all are in no set: count their Events as missing too.
  const present = [...perService.values()].reduce((n, s) => n + EXPECTED_REASONS.filter((r) => s.has(r)).length, 0);
  return { total, byReason, complete, missing: EXPECTED_REASONS.length * SERVICES - present };
}

/**
 * The `scale` bench: only the cold start, at this size (Nodes created before the
 * controller starts), then `joining` more Nodes at once.
 */
export interface ScaleSize {
  readonly services: number;
  readonly nodes: number;
  readonly joining: number;
}

export async function benchController(scale?: ScaleSize): Promise<ControllerFigures> {
  if (scale) {
    SERVICES = scale.services;
    NODES = scale.nodes;
    JOINING = scale.joining;
    COLD_ONLY = true;
  }
  const real = process.env.KUBECONFIG;
  const dev = real ? undefined : await (await import('../src/devcluster/index.js')).startDevCluster({
        port: 0,
        // Every Service takes a node port: past the default range's 2768, widen it, as a
        // cluster with that many LoadBalancer Services sets --service-node-port-range.
        ...(SERVICES > 2500 ? { nodePortRange: `30000-${30000 + 2 * SERVICES}` } : {}),
      });
  const kubeconfigPath = real ?? (dev as NonNullable<typeof dev>).kubeconfigPath;
  console.log(`controller (${real ? `real cluster ${real}` : 'devcluster in the bench process'}; controller in its own process; memory provider, instant)`);
  const build = await compileForChild();
  try {
    return await run(kubeconfigPath, build.entry);
  } finally {
    rmSync(build.dir, { recursive: true, force: true });
    await dev?.stop();
  }
}

async function run(kubeconfigPath: string, entry: string): Promise<ControllerFigures> {
  const id = randomBytes(3).toString('hex');
  const namespace = `bench-lbc-${id}`;
  const nodeLabel = `lbc-bench-${id}`;
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  reuseConnections(kc);
  const core = kc.makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  const config = validateConfig({
    clusterName: `bench-${id}`,
    providers: [{ name: 'memory', type: 'memory', options: { addressPool: '10.200.0.0/16' } }],
    defaultClass: 'lbc.dev/memory',
    concurrency: Number(process.env.LBC_BENCH_WORKERS ?? 64),
    nodeReadyHysteresis: 0,
  });
  console.log(
    `  resync period ${config.resyncPeriodMs / 1000} s (lbc's default) in every phase, so no periodic resync competes with the ones measured; ` +
      `the idle phase triggers its ${RESYNCS} resyncs as the resync timer fires them`,
  );
  const createAll = async (prefix: string): Promise<{ firstAt: number; lastAt: number }> => {
    const firstAt = performance.now();
    await pool([...Array(SERVICES).keys()], 32, async (i) => {
      await core.createNamespacedService({
        namespace,
        body: { metadata: { name: `${prefix}-${i}` }, spec: { type: 'LoadBalancer', ports: [{ name: 'http', port: 80, targetPort: 8080 }] } },
      });
    });
    return { firstAt, lastAt: performance.now() };
  };
  const report = async (label: string, settled: Settled, prefix: string): Promise<{ writesPerService: number; eventsMissing: number; cpuMs: number }> => {
    const w = breakdown(settled.writes);
    console.log(`    API writes by the controller: ${w.total} = ${(w.total / SERVICES).toFixed(2)} per Service${w.text}`);
    const spans = Object.entries(settled.timeline).sort(([, a], [, b]) => a.first - b.first);
    if (spans.length) console.log(`    when (first call started - last call answered, since the phase began): ${spans.map(([m, t]) => `${m} ${(t.first / 1000).toFixed(2)}-${(t.last / 1000).toFixed(2)} s`).join(', ')}`);
    console.log(
      `    controller CPU: ${ms(settled.cpuMs)} (${ms(settled.sysMs)} of it in the kernel) = ${(settled.cpuMs / SERVICES).toFixed(2)} ms per Service; ` +
        `${settled.reconciles} reconciles; peak RSS ${settled.rssMb} MB`,
    );
    const events = await countEvents(core, namespace, prefix);
    console.log(
      `    Events listed back: ${events.total} (${[...events.byReason].map(([r, n]) => `${r} ${n}`).join(', ')}); ` +
        `Services missing an Ensuring or Ensured Event: ${SERVICES - events.complete}; Events given up: ${settled.recorderFailed}`,
    );
    return { writesPerService: w.total / SERVICES, eventsMissing: events.missing, cpuMs: settled.cpuMs };
  };
  const deleteAll = async (ctl: ChildController, label: string): Promise<void> => {
    await ctl.call('reset');
    const t0 = performance.now();
    // One by one, as users would; devcluster also blocks its event loop for seconds on a large deleteCollection.
    await pool(await listAll(core, namespace), 32, async (svc) => {
      await core.deleteNamespacedService({ namespace, name: svc.metadata?.name ?? '' });
    });
    await until('every Service gone', async () => (await core.listNamespacedService({ namespace, limit: 1 })).items.length === 0);
    await until('every LB deleted', async () => (await ctl.call<{ count: number }>('lbs')).count === 0);
    const t1 = performance.now();
    const del = breakdown((await ctl.call<Settled>('settle', 'delete')).writes);
    console.log(`  ${label}: all gone (LB deleted, finalizer removed) in ${ms(t1 - t0)}; ${del.total} API writes${del.text}`);
  };

  // client-node's fetch can fail reading the large (gzip) answer of a deleteCollection
  // ('Premature close') after the server has done the work: a list says whether it did.
  const deleteEvents = async (): Promise<void> => {
    for (let attempt = 0; attempt < 5; attempt++) {
      await core.deleteCollectionNamespacedEvent({ namespace }).catch(() => {});
      if ((await core.listNamespacedEvent({ namespace, limit: 1 })).items.length === 0) return;
    }
    throw new Error(`the Events of ${namespace} would not go`);
  };

  /**
   * The phases with the controller running from the start: Services created at once,
   * idle resyncs, a restart, Nodes joining. Leaves the Services waiting for a new
   * controller (finalizer and status taken off) and returns the peak RSS.
   */
  const phasesWithRunningController = async (ctl: ChildController): Promise<number> => {
    await ctl.call('start');
    await ctl.call('reset');
    const watch = await AddressWatch.start(serviceWatchSource(kc, core, namespace));
    const b = await createAll('svc');
    await watch.waitFor(SERVICES, addressWaitMs());
    const tbLast = Math.max(...watch.seen.values());
    console.log(`  ${SERVICES} LoadBalancer Services created at once (32 creates in flight; the API server took ${ms(b.lastAt - b.firstAt)} to create them)`);
    console.log(`    every address seen by a watch ${ms(tbLast - b.firstAt)} after the first create, ${ms(Math.max(0, tbLast - b.lastAt))} after the last${byList(watch)}`);
    await report('at once', await ctl.call<Settled>('settle', 'at-once'), 'svc-');

    // ---- nothing changes for 3 resyncs ---------------------------------------------
    await ctl.call('reset');
    for (let i = 0; i < RESYNCS; i++) await ctl.call('resync');
    const quiet = await ctl.call<Settled>('settle', 'resync');
    console.log(
      `  ${RESYNCS} resyncs with nothing changed (each triggered as the resync timer fires it, then idle): ${quiet.reconciles} reconciles, ` +
        `${breakdown(quiet.writes).total} API writes, ${quiet.providerWrites} provider writes, ${quiet.ensureCalls} provider calls`,
    );

    // ---- a restart: the controller finds 1000 Services already served ----------------
    const restart = await ctl.call<Settled>('restart', 'restart');
    const rw = breakdown(restart.writes);
    console.log(
      `  restart with ${SERVICES} Services already served: idle ${ms(restart.ms ?? NaN)} after start (initial lists included); ` +
        `${rw.total} API writes${rw.text}, ${restart.ensureCalls} ensure calls, ${restart.providerWrites} provider writes`,
    );

    // ---- 100 Nodes join at once -----------------------------------------------------
    await ctl.call('reset');
    const tn0 = performance.now();
    await createNodes();
    const tnCreated = performance.now();
    const targets = async (n: number): Promise<boolean> => {
      const lbs = await ctl.call<{ count: number; minTargets: number; maxTargets: number }>('lbs');
      return lbs.count >= SERVICES && lbs.minTargets === n && lbs.maxTargets === n;
    };
    await until('every LB to target the new Nodes', () => targets(NODES));
    const tnAll = performance.now();
    const nodes = await ctl.call<Settled>('settle', 'nodes');
    const per = nodes.ensureCallsPerLb;
    console.log(
      `  ${NODES} Nodes joining at once (created in ${ms(tnCreated - tn0)}): every LB targets them ${ms(tnAll - tnCreated)} after the last create; ` +
        `provider updates per LB: mean ${(per.reduce((x, y) => x + y, 0) / Math.max(1, per.length)).toFixed(2)}, max ${Math.max(0, ...per)} ` +
        `(${nodes.ensureCalls} ensure calls, ${nodes.nodeBatches} node batch${nodes.nodeBatches === 1 ? '' : 'es'}); peak RSS ${nodes.rssMb} MB`,
    );
    await core.deleteCollectionNode({ labelSelector: nodeLabel });
    nodesCreated = false;
    await until('every LB to drop the Nodes', () => targets(0));

    // ---- the Services made to wait for a new controller -------------------------------
    // By taking lbc's finalizer and status off the same Services with the controller
    // stopped (creating 1000 more would cost the API server's etcd another 130 MB of
    // ClusterIP-bitmap history); the next controller process starts with an empty provider.
    const peak = (await ctl.call<{ peakRssMb: number }>('stop')).peakRssMb;
    await ctl.kill();
    await pool(await listAll(core, namespace), 32, async (svc) => {
      const name = svc.metadata?.name ?? '';
      await core.patchNamespacedServiceStatus({ namespace, name, body: [{ op: 'replace', path: '/status', value: {} }] });
      await core.patchNamespacedService({ namespace, name, body: [{ op: 'remove', path: '/metadata/finalizers' }] });
    });
    await deleteEvents();
    return peak;
  };

  const init: ChildInit = {
    kubeconfig: kubeconfigPath,
    namespace,
    nodeLabel,
    config,
    ...(process.env.LBC_BENCH_EVENTS ? { eventConcurrency: Number(process.env.LBC_BENCH_EVENTS) } : {}),
  };
  const coldOnly = COLD_ONLY;
  async function createNodes(from = 0, count = NODES): Promise<void> {
    await pool([...Array(count).keys()].map((k) => from + k), 16, async (i) => {
      await core.createNode({
        body: {
          metadata: { name: `${nodeLabel}-${i}`, labels: { [nodeLabel]: 'true' } },
          status: {
            conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'bench' }],
            addresses: [{ type: 'InternalIP', address: `10.250.${Math.floor(i / 250)}.${(i % 250) + 1}` }],
          },
        },
      });
    });
    nodesCreated = true;
  }
  /** JOINING more Nodes at once after the cold start: the provider updates each LB gets. */
  async function nodesJoining(c: ChildController): Promise<NonNullable<ControllerFigures['joined']>> {
    // The controller counts node batches since its start: the join's are the difference.
    const batchesBefore = (await c.call<Settled>('settle', 'before-join')).nodeBatches;
    await c.call('reset');
    const t0 = performance.now();
    await createNodes(NODES, JOINING);
    const tCreated = performance.now();
    await until(
      `every LB to target the ${JOINING} new Nodes`,
      async () => {
        const lbs = await c.call<{ count: number; minTargets: number; maxTargets: number }>('lbs');
        return lbs.count >= SERVICES && lbs.minTargets === NODES + JOINING && lbs.maxTargets === NODES + JOINING;
      },
      addressWaitMs(),
    );
    const tAll = performance.now();
    const s = await c.call<Settled>('settle', 'join');
    const per = s.ensureCallsPerLb;
    const batches = s.nodeBatches - batchesBefore;
    const joined = { nodes: JOINING, batches, maxUpdatesPerLb: Math.max(0, ...per), meanUpdatesPerLb: per.reduce((x, y) => x + y, 0) / Math.max(1, per.length) };
    console.log(
      `  ${JOINING} Nodes joining ${NODES} (created in ${ms(tCreated - t0)}): every LB targets them ${ms(tAll - tCreated)} after the last create; ` +
        `provider updates per LB: mean ${joined.meanUpdatesPerLb.toFixed(2)}, max ${joined.maxUpdatesPerLb} ` +
        `(${s.ensureCalls} ensure calls, ${batches} node batch${batches === 1 ? '' : 'es'}); peak RSS ${s.rssMb} MB`,
    );
    return joined;
  }
  let ctl: ChildController | undefined;
  let peakRss = 0;
  let nodesCreated = false;
  try {
    if (coldOnly) {
      const c = await createAll('svc');
      await createNodes();
      console.log(`  ${SERVICES} LoadBalancer Services and ${NODES} Nodes created with no controller running (${ms(c.lastAt - c.firstAt)} for the Services)`);
    } else {
      ctl = await ChildController.spawn(entry, init);
      peakRss = await phasesWithRunningController(ctl);
    }

    // ---- 1000 Services waiting for a load balancer when the controller starts -------
    const watch = await AddressWatch.start(serviceWatchSource(kc, core, namespace));
    ctl = await ChildController.spawn(entry, init);
    await ctl.call('reset');
    const ta = performance.now();
    await ctl.call('start');
    await watch.waitFor(SERVICES, addressWaitMs());
    const coldStartMs = Math.max(...watch.seen.values()) - ta;
    console.log(
      `  ${SERVICES} LoadBalancer Services waiting when the controller starts: every address seen by a watch ` +
        `${ms(coldStartMs)} after start (initial lists included)${byList(watch)}`,
    );
    const cold = await report('cold start', await ctl.call<Settled>('settle', 'cold-start'), 'svc-');
    const joined = JOINING > 0 ? await nodesJoining(ctl) : undefined;

    if (!coldOnly) await deleteAll(ctl, `${SERVICES} Services deleted at once`);
    peakRss = Math.max(peakRss, (await ctl.call<{ peakRssMb: number }>('stop')).peakRssMb);
    console.log(`  controller process peak RSS over the whole run: ${peakRss} MB`);
    return { services: SERVICES, nodes: NODES, coldStartMs, ...cold, peakRssMb: peakRss, rssAfterStartMb: ctl.rssAfterLoadMb, ...(joined ? { joined } : {}) };
  } finally {
    await ctl?.kill();
    if (nodesCreated) await core.deleteCollectionNode({ labelSelector: nodeLabel }).catch(() => {});
    // Anything left holds our finalizer and the controller is gone: take it off.
    // In pages, as listAll reads: one answer with every Service could fail as deleteEvents' does
    // ('Premature close'), and the catch then left every finalizer on, the namespace Terminating
    // and its node ports taken for the next run.
    const left = await listAll(core, namespace).catch(() => [] as V1Service[]);
    await pool(
      left.filter((s) => s.metadata?.finalizers?.includes(FINALIZER)),
      16,
      async (s) => {
        await core.patchNamespacedService({ namespace, name: s.metadata?.name ?? '', body: [{ op: 'remove', path: '/metadata/finalizers' }] }).catch(() => {});
      },
    );
    await core.deleteNamespace({ name: namespace }).catch(() => {});
  }
}

if (process.argv.includes(CHILD_FLAG)) await child();
