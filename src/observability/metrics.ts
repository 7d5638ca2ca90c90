// Prometheus metrics for lbc, on prom-client's registry. Module-level like the
// controller-runtime metrics registry that aws-load-balancer-controller exposes:
// every part of lbc records into one registry and the metrics server serves it.
//
// Only two things are counted as they happen: cloud API calls (recordCloudCall) and
// reconciles (ControllerMetrics.finished, once per key processed). Everything else
// (queue depth, retries, informer sync, load balancers, leadership) is read from the
// controller when Prometheus scrapes, so the watch and queue paths pay nothing.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ControllerStats, ReconcileObserver, ReconcileResult } from '../controller/controller.js';
import type { CloudCallObserver } from '../providers/retry.js';

export const registry = new Registry();

const cloudApiCalls = new Counter({
  name: 'lbc_cloud_api_calls_total',
  help: 'Calls to cloud APIs, each attempt counted, by provider type, operation and outcome',
  labelNames: ['provider', 'operation', 'outcome'] as const,
  registers: [registry],
});

/** The shared retry policy's observer (providers/retry.ts observeCloudCalls): once per attempt of a cloud API call. */
export const recordCloudCall: CloudCallObserver = (provider, operation, outcome) => {
  cloudApiCalls.inc({ provider, operation, outcome });
};

const processMetrics = new WeakSet<Registry>();

/** prom-client's process_* and nodejs_* metrics (CPU, memory, event loop lag, GC); once per registry. */
export function enableProcessMetrics(target: Registry = registry): void {
  if (processMetrics.has(target)) return;
  processMetrics.add(target);
  collectDefaultMetrics({ register: target });
}

/** What ControllerMetrics reads at scrape time; the Controller is one. */
export interface ControllerSource {
  stats(): ControllerStats;
  informerSync(): readonly { readonly resource: string; readonly synced: boolean }[];
  loadBalancersByProvider(): ReadonlyMap<string, number>;
}

/** Leadership as the leader elector reports it; absent when leader election is off. */
export interface LeaderSource {
  readonly lease: string;
  isLeader(): boolean;
}

export type ReconcileKind = 'Service' | 'Ingress';
const RESULTS: readonly ReconcileResult[] = ['done', 'wait', 'backoff', 'throttled', 'slow', 'error'];
const KINDS: readonly ReconcileKind[] = ['Service', 'Ingress'];

/** The kind a queue key names: `service/ns/name`, or `ingress/…` / `group/…` for an Ingress load balancer. */
export function kindOfKey(key: string): ReconcileKind {
  return key.startsWith('service/') ? 'Service' : 'Ingress';
}

/**
 * The controller's metrics on one registry (the module's by default; tests running
 * two controllers in one process give each its own). It is the controller's
 * ReconcileObserver; bind() attaches the controller and the leader elector it reads
 * at scrape time.
 */
export class ControllerMetrics implements ReconcileObserver {
  readonly registry: Registry;
  private source: ControllerSource | undefined;
  private leader: LeaderSource | undefined;
  // Label children bound once: observing a reconcile allocates nothing.
  private readonly reconcileChildren: Record<ReconcileKind, Record<ReconcileResult, Counter.Internal>>;
  private readonly durationChildren: Record<ReconcileKind, Histogram.Internal<'kind'>>;

  constructor(target: Registry = registry) {
    this.registry = target;
    // Capture for the collect callbacks, which prom-client calls with the metric as `this`.
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const self = this;
    const registers = [target];

    const reconciles = new Counter({
      name: 'lbc_reconcile_total',
      help: 'Reconciles by object kind and result (done, wait, backoff, throttled, slow = invalid or forbidden, error = threw)',
      labelNames: ['kind', 'result'] as const,
      registers,
    });
    const duration = new Histogram({
      name: 'lbc_reconcile_duration_seconds',
      help: 'Time one reconcile took, provider calls and API writes included, by object kind',
      labelNames: ['kind'] as const,
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
      registers,
    });
    this.reconcileChildren = Object.fromEntries(
      KINDS.map((kind) => [kind, Object.fromEntries(RESULTS.map((result) => [result, reconciles.labels({ kind, result })]))]),
    ) as ControllerMetrics['reconcileChildren'];
    this.durationChildren = Object.fromEntries(KINDS.map((kind) => [kind, duration.labels({ kind })])) as ControllerMetrics['durationChildren'];
    // Every series exists from the start at 0, so rate() and absent() see the first one.
    for (const kind of KINDS) {
      for (const result of RESULTS) reconciles.inc({ kind, result }, 0);
      duration.zero({ kind });
    }

    new Gauge({
      name: 'lbc_workqueue_depth',
      help: 'Keys waiting for a worker',
      registers,
      collect() {
        const s = self.source?.stats();
        this.set(s ? s.queue.depth : 0);
      },
    });
    new Gauge({
      name: 'lbc_workqueue_in_flight',
      help: 'Keys a worker is reconciling now',
      registers,
      collect() {
        const s = self.source?.stats();
        this.set(s ? s.queue.processing : 0);
      },
    });
    new Gauge({
      name: 'lbc_workqueue_waiting_retry',
      help: 'Keys waiting for their retry (or requeue) delay to pass',
      registers,
      collect() {
        const s = self.source?.stats();
        this.set(s ? s.queue.delayed : 0);
      },
    });
    new Counter({
      name: 'lbc_workqueue_retries_total',
      help: 'Keys put back with backoff after a failed reconcile',
      registers,
      collect() {
        this.reset();
        this.inc(self.source?.stats().retries ?? 0);
      },
    });
    new Gauge({
      // client-go's workqueue_longest_running_processor_seconds: a key stuck in flight shows here.
      name: 'lbc_workqueue_longest_running_seconds',
      help: 'How long the longest-running reconcile in flight has been running',
      registers,
      collect() {
        this.set(self.source?.stats().longestRunningSeconds ?? 0);
      },
    });
    new Counter({
      name: 'lbc_reconcile_stuck_total',
      help: 'Reconciles aborted for running past the reconcile deadline (their keys are retried with backoff)',
      registers,
      collect() {
        this.reset();
        this.inc(self.source?.stats().stuck ?? 0);
      },
    });
    new Gauge({
      name: 'lbc_load_balancers',
      help: 'Load balancers this replica has ensured and still tracks, by provider (0 on a standby)',
      labelNames: ['provider'] as const,
      registers,
      collect() {
        this.reset();
        for (const [provider, n] of self.source?.loadBalancersByProvider() ?? []) this.set({ provider }, n);
      },
    });
    new Gauge({
      name: 'lbc_informer_synced',
      help: '1 once the informer for the resource has its first full list',
      labelNames: ['resource'] as const,
      registers,
      collect() {
        this.reset();
        for (const { resource, synced } of self.source?.informerSync() ?? []) this.set({ resource }, synced ? 1 : 0);
      },
    });
    new Gauge({
      name: 'lbc_leader',
      help: '1 while this replica holds the leader election Lease (always 1 without leader election)',
      labelNames: ['lease'] as const,
      registers,
      collect() {
        this.reset();
        if (self.leader) this.set({ lease: self.leader.lease }, self.leader.isLeader() ? 1 : 0);
        else this.set({ lease: '' }, 1);
      },
    });
  }

  /** The controller (and leader elector) to read at scrape time. */
  bind(source: ControllerSource, leader?: LeaderSource): this {
    this.source = source;
    this.leader = leader;
    return this;
  }

  finished(key: string, result: ReconcileResult, seconds: number): void {
    const kind = kindOfKey(key);
    this.reconcileChildren[kind][result].inc();
    this.durationChildren[kind].observe(seconds);
  }
}
