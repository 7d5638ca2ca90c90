// `lbc run`: the controller as a long-running process, against the cluster named by
// --kubeconfig (or KUBECONFIG), or the one it runs in (--in-cluster). SIGTERM and
// SIGINT stop it gracefully: no new work is taken, the reconciles in progress finish
// (or are aborted after --drain-timeout), every Event recorded is written, and a
// leader hands its Lease back so a standby takes over at once.
import type { Logger as Pino } from 'pino';
import type { Registry } from 'prom-client';
import type { LbcConfig } from '../config/config.js';
import { resolveOperations, type OperationsFlags, type OperationsSettings } from '../config/operations.js';
import { Controller, type ControllerOptions } from '../controller/controller.js';
import { serviceOwnership } from '../config/ownership.js';
import { makeClients, type KubeClients } from '../kube/client.js';
import { configMapReader } from '../kube/config-maps.js';
import { LeaderElector, type LeaderElectorOptions } from '../kube/leader-election.js';
import { componentLogger, createLogger, redactCredentials, registerCredentials, SecretScrubber, type ComponentLogger, type ObjectFields } from '../observability/log.js';
import { ControllerMetrics, enableProcessMetrics, recordCloudCall, registry as defaultRegistry } from '../observability/metrics.js';
import { parseBindAddress, startObservabilityServer, type ObservabilityServer } from '../observability/server.js';
import { surviveUnhandledRejections } from '../observability/unhandled-rejections.js';
import { buildProviders, type ProviderSet } from '../providers/registry.js';
import { checkCompatibleControllerNames } from '../controller/gateway/controller-names.js';
import { observeCloudCalls } from '../providers/retry.js';
import { configurationFailure, loadControllerConfig, UsageError, type ConfigFlags } from './configuration.js';
import { connectFromFlags, type ClusterFlags } from './connect.js';
import { untilStopped } from './lifetime.js';

export interface RunOptions extends ClusterFlags, OperationsFlags, ConfigFlags {
  namespace?: string;
  /** aws-load-balancer-controller's name for --namespace. */
  watchNamespace?: string;
  workers?: number;
  drainTimeout?: number;
  for?: number;
}

export interface ReplicaInit {
  readonly controller: Controller;
  /** Absent: no leader election, this replica reconciles as soon as its caches are synced. */
  readonly election?: Omit<LeaderElectorOptions, 'onStartedLeading' | 'onStoppedLeading'>;
  readonly log: ComponentLogger;
}

/**
 * One replica of lbc. With leader election its informers run while it stands by
 * (so taking over costs no relist) and its workers start only while it leads; when
 * it loses the Lease it stops reconciling at once, before another replica can start.
 */
export class Replica {
  readonly controller: Controller;
  readonly elector: LeaderElector | undefined;
  /** Resolves with the reason when this replica lost the leadership (it must then exit). */
  readonly lost: Promise<string>;
  private onLost: (reason: string) => void = () => {};
  private readonly log: ComponentLogger;
  private leadSignal: AbortSignal | undefined;

  constructor(init: ReplicaInit) {
    this.controller = init.controller;
    this.log = init.log;
    this.lost = new Promise((resolve) => (this.onLost = resolve));
    this.elector = init.election
      ? new LeaderElector({
          ...init.election,
          onStartedLeading: () => this.lead(),
          onStoppedLeading: (reason) => {
            if (reason === 'stopped') return; // shutdown() stops the controller itself, draining first
            // The successor reports on the same objects from now on: Events this replica
            // still holds would arrive late and contradict it, so they are dropped (counted).
            this.controller.recorder.discard(`lost the Lease (${reason})`);
            void this.controller.stop({ drainTimeoutMs: 0 }).finally(() => this.onLost(reason));
          },
        })
      : undefined;
  }

  async start(signal: AbortSignal): Promise<void> {
    if (!this.elector) {
      await this.controller.start(signal);
      return;
    }
    this.leadSignal = signal;
    const synced = this.controller.sync(signal);
    this.elector.start();
    await synced;
  }

  /** /readyz: caches synced, and leading or standing by (not lost, not stopped). */
  ready(): boolean {
    if (!this.controller.informerSync().every((i) => i.synced)) return false;
    if (!this.elector) return true;
    const phase = this.elector.current.phase;
    return phase === 'leading' || phase === 'standby';
  }

  /**
   * Stops reconciling, letting work in progress finish within drainTimeoutMs while the
   * Lease is still renewed (so no one else starts on the same objects), then stops the
   * elector: with release the Lease is handed back; without, others wait for it to
   * expire, as after a crash.
   */
  async shutdown(opts: { drainTimeoutMs: number; release: boolean }): Promise<void> {
    await this.controller.stop({ drainTimeoutMs: opts.drainTimeoutMs });
    await this.elector?.stop({ release: opts.release });
  }

  private lead(): void {
    this.log.info('leading: starting the workers');
    this.controller.start(this.leadSignal).catch((e: unknown) => {
      if (this.leadSignal?.aborted) return;
      this.log.error('controller failed to start', e);
      this.onLost(`controller failed to start: ${(e as Error).message}`);
    });
  }
}

/** The provider serving an object, for log lines that do not say: what was applied, else what its class selects. */
export function providerResolver(controller: () => Controller | undefined, config: LbcConfig): (o: ObjectFields) => string | undefined {
  return (o) => {
    const c = controller();
    if (!c) return undefined;
    if (o.kind === 'Service' && o.namespace !== undefined) {
      const key = `${o.namespace}/${o.name}`;
      const rec = c.serviceReconciler.appliedRecord(key);
      if (rec) return rec.provider;
      const svc = c.services.cache.get(key);
      const own = svc ? serviceOwnership(svc, config) : undefined;
      return own?.ours ? own.provider : undefined;
    }
    if (o.kind === 'Ingress') {
      const ing = o.namespace !== undefined ? c.ingresses.cache.get(`${o.namespace}/${o.name}`) : undefined;
      return c.ingressReconciler.appliedRecord(ing ? c.groupKey(ing) : o.name)?.provider;
    }
    return undefined;
  };
}

export interface RunDeps {
  /** Where log lines go (tests); stdout by default. */
  readonly logger?: Pino;
  readonly scrubber?: SecretScrubber;
  readonly registry?: Registry;
  /** Called once the replica and its endpoints are up (tests). */
  readonly onStarted?: (r: { replica: Replica; server: ObservabilityServer; settings: OperationsSettings }) => void;
  /** Resolves to stop the process as SIGTERM would; default SIGINT/SIGTERM or --for. */
  readonly until?: Promise<string>;
}

/**
 * `lbc run`. A problem with the configuration or the flags is reported as plain text on
 * stderr, every problem at once, and exits 2 (a usage error, as commander's); any other
 * failure is logged (scrubbed) and exits 1.
 */
export async function runController(opts: RunOptions, deps: RunDeps = {}): Promise<void> {
  const scrubber = deps.scrubber ?? new SecretScrubber();
  const logger = deps.logger ?? createLogger({ level: opts.logLevel && isLevel(opts.logLevel) ? opts.logLevel : 'info', scrubber });
  const log = componentLogger(logger, { component: 'run' });
  // One provider's dependency must not take the others' Services down: see unhandled-rejections.ts.
  const stopSurviving = surviveUnhandledRejections(logger.child({ component: 'process' }), deps.registry ?? defaultRegistry);
  try {
    await run(opts, deps, scrubber, logger, log);
  } catch (e) {
    const text = configurationFailure(e);
    if (text !== undefined) {
      process.stderr.write(`lbc: ${scrubber.scrub(text)}\n`);
      process.exitCode = 2;
    } else {
      log.error(`lbc run failed: ${(e as Error).message}`, e);
      process.exitCode = 1;
    }
  } finally {
    stopSurviving();
    logger.flush();
  }
}

const isLevel = (v: string): v is OperationsSettings['logLevel'] => ['trace', 'debug', 'info', 'warn', 'error'].includes(v);

async function run(opts: RunOptions, deps: RunDeps, scrubber: SecretScrubber, logger: Pino, log: ComponentLogger): Promise<void> {
  if (opts.inCluster && opts.kubeconfig) throw new UsageError('--in-cluster and --kubeconfig exclude each other');
  if (opts.watchNamespace && opts.namespace && opts.watchNamespace !== opts.namespace) {
    throw new UsageError(`--watch-namespace ${opts.watchNamespace} and --namespace ${opts.namespace} differ: give one`);
  }
  const namespace = opts.watchNamespace ?? opts.namespace;
  const config = await loadControllerConfig(opts);
  registerCredentials(scrubber, undefined, config);
  const settings = resolveOperations(config.operations, opts);
  logger.level = settings.logLevel;
  const metricsAddr = parseBindAddress(settings.metricsBindAddress);
  const healthAddr = parseBindAddress(settings.healthProbeBindAddress);
  log.debug('configuration loaded', { config: redactCredentials(config) });
  const { kc, origin } = connectFromFlags(opts);
  registerCredentials(scrubber, kc, config);

  // The controller logs through providerOf, which reads the controller: built after it.
  const built: { controller?: Controller } = {};
  const providerOf = providerResolver(() => built.controller, config);
  const logOf = (component: string): ComponentLogger => componentLogger(logger, { component, providerOf });
  // Every cloud call is counted, those made while the providers are built included.
  observeCloudCalls(recordCloudCall);
  // Provider warnings go through the same scrubbed JSON logger, not the providers' console default.
  // Its writes and watches go over lbc's own (HTTP/2) connection: see kube/client.ts.
  const clients: KubeClients = makeClients(kc);
  // gce reads GKE's cluster uid (kube-system/ingress-uid) through it, as ingress-gce does.
  const providers: ProviderSet = await buildProviders(config, undefined, { log: logOf('provider'), cluster: configMapReader(clients.core) });
  try {
    checkCompatibleControllerNames(config, providers.all, opts.config);
  } catch (e) {
    await providers.close();
    throw e;
  }
  const target = deps.registry ?? defaultRegistry;
  enableProcessMetrics(target);
  const metrics = new ControllerMetrics(target);
  const options: ControllerOptions = {
    clients,
    config,
    providers,
    log: logOf('controller'),
    observer: metrics,
    ...(namespace ? { namespace } : {}),
    ...(opts.workers ? { workers: opts.workers } : {}),
  };
  const controller = new Controller(options);
  built.controller = controller;
  const le = settings.leaderElection;
  const replica = new Replica({
    controller,
    log: logOf('run'),
    ...(le.enabled
      ? {
          election: {
            api: clients.coordination,
            namespace: le.namespace,
            name: le.id,
            leaseDurationMs: le.leaseDurationMs,
            renewDeadlineMs: le.renewDeadlineMs,
            retryPeriodMs: le.retryPeriodMs,
            log: logOf('leader-election'),
          },
        }
      : {}),
  });
  metrics.bind(controller, replica.elector);
  const server = await startObservabilityServer({
    metrics: metricsAddr,
    health: healthAddr,
    registry: target,
    readiness: [{ name: le.enabled ? 'informers-synced-and-leading-or-standby' : 'informers-synced', check: () => replica.ready() }],
  });
  log.info(
    `cluster ${kc.getCurrentCluster()?.server ?? '?'} (credentials from ${origin}), cluster name ${config.clusterName}, ` +
      `providers ${config.providers.map((p) => `${p.name} (${p.type}, class ${p.class})`).join(', ')}, ` +
      (le.enabled ? `leader election on Lease ${le.namespace}/${le.id} as ${replica.elector?.identity ?? '?'}` : 'no leader election') +
      `, metrics ${server.metricsUrl ?? 'off'}, health ${server.healthUrl ?? 'off'}`,
  );

  const stopped = new AbortController();
  const why = (deps.until ?? untilStopped(opts.for)).then((reason) => {
    stopped.abort(new Error(reason));
    return reason;
  });
  try {
    try {
      await replica.start(stopped.signal);
    } catch (e) {
      if (!stopped.signal.aborted) throw e;
    }
    deps.onStarted?.({ replica, server, settings });
    const outcome = await Promise.race([why.then((reason) => ({ reason, lost: false })), replica.lost.then((reason) => ({ reason, lost: true }))]);
    if (outcome.lost) {
      // As controller-runtime: a replica that lost its Lease exits; its restart stands by.
      throw new Error(`leader election lost: ${outcome.reason}`);
    }
    log.info(`stopping (${outcome.reason}): finishing the work in progress`);
    await replica.shutdown({ drainTimeoutMs: (opts.drainTimeout ?? 30) * 1000, release: true });
    log.info('stopped');
  } finally {
    await replica.shutdown({ drainTimeoutMs: 0, release: true }).catch(() => {});
    await providers.close();
    await server.close();
  }
}
