// The controller: informers feed a work queue with keys, workers hand each key to the
// Service or the Ingress reconciler, and the outcome decides when the key comes back.
// Keys are `service/<ns>/<name>` for a Service, and `ingress/<ns>/<name>` or
// `group/<name>` for the load balancer of an Ingress group.
import type { V1EndpointSlice, V1Ingress, V1IngressClass, V1Node, V1Secret, V1Service } from '@kubernetes/client-node';
import type { LbcConfig } from '../config/config.js';
import type { KubeClients, WriteClients } from '../kube/client.js';
import { EventRecorder } from '../kube/events.js';
import type { KubeObject } from '../kube/cache.js';
import { endpointSliceByService, INGRESS_BY_BACKEND_SERVICE, INGRESS_BY_TLS_SECRET } from '../kube/indexes.js';
import { newInformer, type Informer, type InformerOptions, type WatchFn } from '../kube/informer.js';
import type { Logger } from '../kube/logger.js';
import { ConflictError, hasFinalizer, StatusWriter, WritesInFlight, type StatusClients } from '../kube/status.js';
import { ExponentialBackoff, WorkQueue } from '../kube/workqueue.js';
import { describeRef, type LbRef } from '../model/ref.js';
import type { ProviderSet } from '../providers/registry.js';
import { companionApi, COMPANION_OF_ANNOTATION, Companions } from './companions.js';
import { EligibleNodes } from './eligible-nodes.js';
import { GarbageCollector, type SweepResult } from './garbage-collector.js';
import { discoverGatewayApi } from '../kube/gateway-resources.js';
import { parameterReaders } from './gateway/gateway-class.js';
import { gatewayControllers } from './gateway/controller-names.js';
import { discoverGatewayParameters, type GatewayParameterResource } from '../kube/gateway-parameter-resources.js';
import { gatewayParameterKinds } from './gateway/attached-parameters.js';
import { GATEWAY_GROUP } from '../kube/gateway-api.js';
import { gatewayQueueKeyOf, gatewayReconcilerKey, GatewayWatch, isGatewayQueueKey } from './gateway-watch.js';
import { MetalLbPools } from './metallb-pools.js';
import { GkeReferences } from './gke-references.js';
import { groupKeysWith, INGRESS_BY_GROUP, IngressReconciler, isIngressGroupKey, type GroupKeyOf } from './ingress-reconciler.js';
import { ClassParamsWatch } from './ingress-class-params.js';
import { classParamsName, paramsClassOf } from './ingress/class-params.js';
import { OwnWrites } from './own-writes.js';
import { podReader } from './probe-pods.js';
import { restoreAddresses } from './held-addresses.js';
import {
  ControllerStoppingError,
  FINALIZER,
  Flight,
  keyOf,
  ObjectGoneError,
  queueKeySubject,
  textArgs,
  type EventSink,
  type LoadBalancerReconciler,
  type ReconcilerEnv,
  type Outcome,
} from './reconcile.js';
import { ServiceReconciler } from './service-reconciler.js';
import { TargetGroupBindingWriter, targetGroupBindingsServed } from '../kube/target-group-bindings.js';
import { bindingProvider, bindingReconcilerKey, isBindingQueueKey, queueKeyOf as bindingQueueKeyOf, TargetGroupBindingWatch } from './target-group-binding-watch.js';
import { selectorsOf, watchedKinds, type WatchedKind } from './watched-kinds.js';
import { ReconcileWatchdog } from './watchdog.js';

export interface ControllerOptions {
  readonly clients: KubeClients;
  readonly config: LbcConfig;
  readonly providers: ProviderSet;
  /**
   * The clients for the writes made once per object (finalizer, status, Events); by
   * default `clients.writes`. Tests wrap them to count or to interfere.
   */
  readonly writes?: WriteClients;
  readonly log?: Logger;
  /** Where Events go; by default an EventRecorder on clients.core, closed by stop(). */
  readonly recorder?: EventRecorder;
  /** Queue workers. Default config.concurrency. */
  readonly workers?: number;
  /** Watch Services, Ingresses, EndpointSlices and Secrets of this namespace only. */
  readonly namespace?: string;
  /** Consider only the Nodes matching this label selector. */
  readonly nodeLabelSelector?: string;
  /** Tests inject a WatchFn to cut or expire watches. */
  readonly watch?: WatchFn;
  readonly informer?: Pick<InformerOptions<V1Service>, 'minWatchTimeoutSeconds' | 'watchdogMs' | 'relistPeriodMs' | 'pageSize' | 'backoff'>;
  /** Node event batching (EligibleNodes). */
  readonly nodeDebounceMs?: number;
  readonly nodeMaxDelayMs?: number;
  /** Upper bound of one provider call. Default 2 min. */
  readonly providerTimeoutMs?: number;
  /**
   * Upper bound of one reconcile: past it the reconcile is aborted and its key retried
   * with backoff (watchdog.ts). Default providerTimeoutMs + 3 min, at least 5 min.
   */
  readonly reconcileTimeoutMs?: number;
  /** A reconcile running this long is logged (once). Default 60 s. */
  readonly slowReconcileMs?: number;
  /** Per-key retry backoff: 5 ms doubling to 5 min by default, as client-go. */
  readonly retry?: { readonly baseMs?: number; readonly maxMs?: number };
  /** Retry of failures only a change can fix (invalid, forbidden): 30 s doubling to 10 min by default. */
  readonly slowRetry?: { readonly baseMs?: number; readonly maxMs?: number };
  /** Overrides config.resyncPeriodMs; 0 disables. */
  readonly resyncPeriodMs?: number;
  /** Overrides config.gc.intervalMs; 0 disables the periodic sweep. */
  readonly gcIntervalMs?: number;
  /** Delay of the first sweep after start. Default min(interval, 60 s). */
  readonly gcInitialDelayMs?: number;
  /** Events in flight at once, when the controller makes its own recorder. Default 8. */
  readonly eventConcurrency?: number;
  /** Told of every reconcile (metrics, tests); called once per key processed, so keep it cheap. */
  readonly observer?: ReconcileObserver;
  /** Serve Gateways when the API server serves the Gateway API (found at start). Default true. */
  readonly gatewayApi?: boolean;
  /** How soon an Ingress whose Google-managed certificates are not Active yet is read again. Default 1 min. */
  readonly certificateRecheckMs?: number;
  /**
   * How long an Ingress group waits after a member is created before it is built, so that
   * members applied together (one `kubectl apply`) are built once, together. Default 1 s.
   */
  readonly groupSettleMs?: number;
}

/** How a reconcile ended: its Outcome's kind, or 'error' when it threw. */
export type ReconcileResult = Outcome['kind'] | 'error';

export interface ReconcileObserver {
  started?(key: string): void;
  finished(key: string, result: ReconcileResult, seconds: number): void;
}

export interface ControllerStats {
  readonly queue: ReturnType<WorkQueue['metrics']>;
  readonly reconciles: number;
  readonly failures: number;
  /** Keys put back to be retried after a failure (backoff, throttled, slow). */
  readonly retries: number;
  /** Node batches that changed the eligible set. */
  readonly nodeBatches: number;
  readonly eligibleNodes: number;
  /** How long the oldest reconcile in flight has run, in seconds. */
  readonly longestRunningSeconds: number;
  /** Reconciles aborted at their deadline. */
  readonly stuck: number;
}

const consoleLog: Logger = {
  info: (m, ...a) => console.log(`lbc: ${m}`, ...textArgs(a)),
  warn: (m, ...a) => console.warn(`lbc: ${m}`, ...textArgs(a)),
};

const SERVICE_PREFIX = 'service/';
// After the drain timeout aborts what is in flight, how long a reconcile may take to return.
const SHUTDOWN_GRACE_MS = 1000;
// The longest an Event waits behind a backlog of finalizer and status writes. Long enough
// for a cold start's whole burst, so that the Events never split the API server's time
// with the addresses: 1000 Services take 4-12 s on a loaded 2-core machine, 5000 over 500
// Nodes 32-42 s, and with 30 s here the 10000 Events of the latter were let go during its
// last 11 s (#21). A backlog that stops moving lets them go sooner (EVENT_HOLD_STALL_MS).
const EVENT_MAX_HOLD_MS = 120_000;
// A backlog in which no write has started or ended for this long holds no Event.
const EVENT_HOLD_STALL_MS = 5_000;
// How long after the last write Events wait for its echo on the watch (see holdWhile).
const EVENT_ECHO_WAIT_MS = 1_000;

/** Which reconciler a queue key goes to, and how its keys and the queue's map onto each other. */
interface Route {
  owns(queueKey: string): boolean;
  reconcilerKey(queueKey: string): string;
  queueKey(reconcilerKey: string): string;
  readonly reconciler: LoadBalancerReconciler;
}

const isLoadBalancer = (svc: V1Service): boolean => svc.spec?.type === 'LoadBalancer' || hasFinalizer(svc, FINALIZER);
const specJson = (svc: V1Service): string => JSON.stringify(svc.spec ?? null);
const annotationsJson = (svc: V1Service): string => JSON.stringify(svc.metadata?.annotations ?? null);
const statusCode = (e: unknown): number | undefined => {
  const code = (e as { code?: unknown } | undefined)?.code;
  return typeof code === 'number' ? code : undefined;
};

export class Controller {
  readonly services: Informer<V1Service>;
  readonly ingresses: Informer<V1Ingress>;
  readonly ingressClasses: Informer<V1IngressClass>;
  readonly nodes: Informer<V1Node>;
  readonly endpointSlices: Informer<V1EndpointSlice>;
  readonly secrets: Informer<V1Secret>;
  /** Opaque Secrets a provider's annotations name (AWS OIDC clients); only when some provider reads them. */
  readonly providerSecrets: Informer<V1Secret> | undefined;
  readonly serviceReconciler: ServiceReconciler;
  readonly ingressReconciler: IngressReconciler;
  readonly gc: GarbageCollector;
  readonly eligibleNodes: EligibleNodes;
  readonly recorder: EventRecorder;
  /** MetalLB's IPAddressPools and L2Advertisements, one reader per metal provider that reads them. */
  readonly metallb: readonly MetalLbPools[];
  /** GKE's BackendConfigs, FrontendConfigs and ManagedCertificates, read when a gce provider is configured. */
  readonly gke: GkeReferences | undefined;
  /** aws-load-balancer-controller's IngressClassParams, read when an aws provider is configured. */
  readonly classParams: ClassParamsWatch | undefined;
  /** The queue key of an Ingress's load balancer, its class's params' group included. */
  readonly groupKey: GroupKeyOf;

  private readonly opts: ControllerOptions;
  private readonly config: LbcConfig;
  private readonly log: Logger;
  private readonly queue: WorkQueue<string>;
  private readonly backoff: ExponentialBackoff;
  private readonly slow: ExponentialBackoff;
  /** Unsubscribes from the providers' capacity signals. */
  private readonly unsubscribe: (() => void)[] = [];
  /** Keys a provider freed capacity for while they were in flight: woken once they finish. */
  private readonly wakeAfter = new Set<string>();
  private readonly inflight = new Map<string, Flight>();
  private readonly routes: Route[];
  /** The Gateway API half, once start() found the Gateway API served. */
  gateway: GatewayWatch | undefined;
  /** Set once: a standby's sync and its election's sync may overlap, and both must wait for the Gateway watch. */
  private gatewaySetUp: Promise<void> | undefined;
  /** aws-load-balancer-controller's TargetGroupBindings, once start() found them served and a provider binds targets. */
  bindings: TargetGroupBindingWatch | undefined;
  private bindingsSetUp: Promise<void> | undefined;
  private readonly env: ReconcilerEnv;
  private readonly writes: WriteClients;
  private readonly makeInformer: <T extends KubeObject>(kind: WatchedKind<T>) => Informer<T>;
  /** Every informer, by the watched kind's name, in the order they were made. */
  private readonly watched: { readonly resource: string; readonly informer: Informer<never> }[] = [];
  private readonly watchdog: ReconcileWatchdog;
  private readonly serviceWrites = new OwnWrites<V1Service>();
  private readonly ingressWrites = new OwnWrites<V1Ingress>();
  private readonly ownsRecorder: boolean;
  private readonly writesInFlight: WritesInFlight;
  private readonly timers: NodeJS.Timeout[] = [];
  private workers: Promise<void> | undefined;
  private running = false;
  private stopping: Promise<void> | undefined;
  private reconciles = 0;
  private failures = 0;
  private retries = 0;

  constructor(opts: ControllerOptions) {
    this.opts = opts;
    this.config = opts.config;
    this.log = opts.log ?? consoleLog;
    const { clients, config } = opts;
    this.backoff = new ExponentialBackoff({ baseMs: opts.retry?.baseMs ?? 5, maxMs: opts.retry?.maxMs ?? 5 * 60_000 });
    this.slow = new ExponentialBackoff({ baseMs: opts.slowRetry?.baseMs ?? 30_000, maxMs: opts.slowRetry?.maxMs ?? 10 * 60_000 });
    this.queue = new WorkQueue<string>({ rateLimiter: this.backoff });
    this.ownsRecorder = !opts.recorder;
    const writes: WriteClients = opts.writes ?? clients.writes;
    // Events wait while reconciles wait for a worker or a finalizer or status write is on
    // its way: under a backlog the API server's time goes to finalizers and addresses
    // first, and the Events follow as soon as the backlog drains (none is dropped). A
    // reconcile waiting on a slow provider call writes nothing meanwhile, so its
    // "Ensuring" Event is not held for the call. On a 2-core machine, 2000 Events sent
    // beside the 2000 writes before 1000 addresses put the last address ~1.5× later.
    this.writesInFlight = new WritesInFlight();
    // Only while the backlog moves: a backlog in which no write has started or ended for a
    // while (every worker waiting on a slow provider, an API server that does not answer)
    // holds the Events no longer.
    // And until the watch has carried those writes back (their echoes): the watch events
    // that bring an address to everyone watching (users, kubectl get -w, other controllers)
    // queue behind whatever else the API server is doing, and the 8 Event writes let in
    // as the last status write was answered put the last address ~90 ms later on the
    // 2-core cold-start bench (#21). Bounded: an echo that never comes (the object changed
    // again meanwhile, a write read back after a conflict) holds them EVENT_ECHO_WAIT_MS.
    const echoesPending = (): boolean => this.serviceWrites.size > 0 || this.ingressWrites.size > 0;
    const holdWhile = (): boolean =>
      ((this.queue.len() > 0 || this.writesInFlight.count > 0) && this.writesInFlight.movedWithin(EVENT_HOLD_STALL_MS)) ||
      (echoesPending() && this.writesInFlight.movedWithin(EVENT_ECHO_WAIT_MS));
    this.recorder =
      opts.recorder ?? new EventRecorder({ core: writes.core, concurrency: opts.eventConcurrency ?? 8, logger: this.log, holdWhile, maxHoldMs: EVENT_MAX_HOLD_MS });

    const common = {
      ...opts.informer,
      logger: this.log,
      ...(opts.watch ? { watch: opts.watch } : {}),
    };
    const ns = opts.namespace ? { namespace: opts.namespace } : {};
    // Before the Ingress informer: its group index reads the params.
    this.classParams = ClassParamsWatch.wanted(opts.providers.all)
      ? new ClassParamsWatch({
          clients,
          log: this.log,
          classes: () => this.ingressClasses.cache.list(),
          paramsChanged: (name) => this.regroup((ing) => classParamsName(paramsClassOf(ing, this.ingressClasses.cache.list())) === name),
          namespaceChanged: (ns) => this.regroup((ing) => ing.metadata?.namespace === ns && classParamsName(paramsClassOf(ing, this.ingressClasses.cache.list())) !== undefined),
          ...(opts.watch ? { watch: opts.watch } : {}),
          ...(opts.informer ? { informer: opts.informer } : {}),
        })
      : undefined;
    this.groupKey = groupKeysWith(this.classParams?.lookups);
    const kinds = watchedKinds({
      providers: opts.providers,
      ...(opts.nodeLabelSelector ? { nodeLabelSelector: opts.nodeLabelSelector } : {}),
      ...(this.classParams ? { classParams: this.classParams.lookups } : {}),
    });
    // opts.namespace narrows the namespaced kinds only: Nodes and IngressClasses have no namespace.
    const watch = <T extends KubeObject>(kind: WatchedKind<T>): Informer<T> => {
      const informer = newInformer(clients, kind.resource, { ...common, ...(kind.resource.namespaced ? ns : {}), name: kind.name, indexers: kind.indexers, ...selectorsOf(kind) });
      this.watched.push({ resource: kind.name, informer: informer as unknown as Informer<never> });
      return informer;
    };
    this.makeInformer = watch;
    this.writes = writes;
    this.services = watch(kinds.services);
    this.ingresses = watch(kinds.ingresses);
    this.ingressClasses = watch(kinds.ingressClasses);
    this.nodes = watch(kinds.nodes);
    this.endpointSlices = watch(kinds.endpointSlices);
    this.secrets = watch(kinds.secrets);
    this.providerSecrets = kinds.providerSecrets ? watch(kinds.providerSecrets) : undefined;

    this.eligibleNodes = new EligibleNodes({
      list: () => this.nodes.cache.list(),
      onChange: () => this.nodesChanged(),
      hysteresisMs: config.nodeReadyHysteresisMs,
      ...(opts.nodeDebounceMs !== undefined ? { debounceMs: opts.nodeDebounceMs } : {}),
      ...(opts.nodeMaxDelayMs !== undefined ? { maxDelayMs: opts.nodeMaxDelayMs } : {}),
    });

    const events: EventSink = this.recorder;
    const env: ReconcilerEnv = {
      config,
      providers: opts.providers,
      // StatusWriter calls only the methods WriteClients has.
      writer: new StatusWriter(writes as unknown as StatusClients, { inFlight: this.writesInFlight }),
      events,
      log: this.log,
      providerTimeoutMs: opts.providerTimeoutMs ?? 120_000,
    };
    this.env = env;
    const nodes = (): readonly V1Node[] => this.eligibleNodes.nodes;
    // A gce provider's references name Secrets (IAP), so the Opaque-Secret informer runs with it.
    const providerSecrets = this.providerSecrets?.cache;
    this.gke =
      GkeReferences.wanted(opts.providers.all) && providerSecrets
        ? new GkeReferences({
            clients,
            log: this.log,
            services: this.services.cache,
            ingresses: this.ingresses.cache,
            secrets: providerSecrets,
            ingressChanged: (ing) => {
              if (this.running) this.queue.add(this.groupKey(ing));
            },
            ...(opts.namespace ? { namespace: opts.namespace } : {}),
            ...(opts.watch ? { watch: opts.watch } : {}),
            ...(opts.informer ? { informer: opts.informer } : {}),
          })
        : undefined;
    this.serviceReconciler = new ServiceReconciler({
      ...env,
      services: this.services.cache,
      endpointSlices: this.endpointSlices.cache,
      nodes,
      nodesVersion: () => this.eligibleNodes.version,
      fresh: this.serviceWrites,
    });
    this.ingressReconciler = new IngressReconciler({
      ...env,
      ingresses: this.ingresses.cache,
      ingressClasses: this.ingressClasses.cache,
      services: this.services.cache,
      endpointSlices: this.endpointSlices.cache,
      secrets: this.secrets.cache,
      providerSecrets: this.providerSecrets?.cache,
      nodes,
      fresh: this.ingressWrites,
      companions: new Companions({ services: this.services.cache, api: companionApi(clients.core), fresh: this.serviceWrites }),
      pods: podReader(clients.core),
      ...(this.gke ? { gke: this.gke } : {}),
      ...(this.classParams ? { classParams: this.classParams.lookups } : {}),
      ...(opts.certificateRecheckMs !== undefined ? { certificateRecheckMs: opts.certificateRecheckMs } : {}),
    });
    this.routes = [
      {
        owns: (k) => k.startsWith(SERVICE_PREFIX),
        reconcilerKey: (k) => k.slice(SERVICE_PREFIX.length),
        queueKey: (k) => `${SERVICE_PREFIX}${k}`,
        reconciler: this.serviceReconciler,
      },
      { owns: isIngressGroupKey, reconcilerKey: (k) => k, queueKey: (k) => k, reconciler: this.ingressReconciler },
    ];
    this.gc = new GarbageCollector({
      providers: opts.providers,
      lookups: {
        config,
        services: this.services.cache,
        ingresses: this.ingresses.cache,
        ingressClasses: this.ingressClasses.cache,
        ...(this.classParams ? { classParams: this.classParams.lookups } : {}),
        gateway: () => (this.gateway ? { gateways: this.gateway.gateways.cache, gatewayClasses: this.gateway.gatewayClasses.cache } : undefined),
        parameterReaders: parameterReaders(this.opts.providers.all),
        gatewayControllers: gatewayControllers(config, this.opts.providers.all),
      },
      dryRun: config.gc.dryRun,
      log: this.log,
      providerTimeoutMs: env.providerTimeoutMs,
      ...(opts.namespace ? { namespace: opts.namespace } : {}),
    });
    const reconcileTimeoutMs = opts.reconcileTimeoutMs ?? Math.max(300_000, env.providerTimeoutMs + 180_000);
    this.watchdog = new ReconcileWatchdog({
      deadlineMs: reconcileTimeoutMs,
      slowAfterMs: Math.min(opts.slowReconcileMs ?? 60_000, reconcileTimeoutMs),
      graceMs: Math.min(5000, reconcileTimeoutMs / 10),
      log: this.log,
    });
    this.metallb = MetalLbPools.for(opts.providers.all, (provider) => new MetalLbPools({
      clients,
      provider,
      events,
      log: this.log,
      onChange: () => this.providerChanged(provider.name),
      ...(opts.watch ? { watch: opts.watch } : {}),
      ...(opts.informer ? { informer: opts.informer } : {}),
    }));
    this.registerHandlers();
    for (const p of opts.providers.all) {
      if (p.onCapacityFreed) this.unsubscribe.push(p.onCapacityFreed((waiting) => this.capacityFreed(waiting)));
    }
  }

  /**
   * Starts the informers (once) and waits for their first lists. A standby replica does
   * only this, so that when it is elected its caches are warm and it reconciles at once.
   */
  async sync(signal?: AbortSignal): Promise<void> {
    // The informers made so far (Services, Nodes, ...) list while the API server is asked
    // whether it serves the Gateway API and TargetGroupBindings: asked first, those two
    // round trips held back the first write of a cold start by ~35 ms (#21). The set-ups
    // only add informers of their own and register their handlers before starting them.
    this.startInformers();
    await (this.gatewaySetUp ??= this.setUpGateway());
    await (this.bindingsSetUp ??= this.setUpTargetGroupBindings());
    this.startInformers();
    const informers = this.informers();
    // MetalLB's pools before restore(): the addresses Services hold are judged against them.
    await Promise.all([...informers.map((inf) => inf.waitForSync(signal)), ...this.metallb.map((m) => m.sync(signal)), ...(this.gke ? [this.gke.sync(signal)] : []), ...(this.classParams ? [this.classParams.sync(signal)] : [])]);
    // Ingresses listed before the params were: filed again under the groups the params name.
    if (this.classParams) this.regroup(() => true);
  }

  /**
   * Watches the Gateway API when the API server serves it; without the CRDs (or without
   * leave to list them) lbc serves Services and Ingresses as before, and says so.
   */
  private async setUpGateway(): Promise<void> {
    if (this.opts.gatewayApi === false) return;
    let served;
    try {
      served = await discoverGatewayApi(this.opts.clients);
    } catch (e) {
      this.log.warn(`cannot tell whether the Gateway API is installed, Gateways are not served: ${e instanceof Error ? e.message : String(e)}`);
      return;
    }
    if (!served) {
      this.log.info(`the Gateway API (${GATEWAY_GROUP}) is not installed: Gateways are not served`);
      return;
    }
    const watch = this.makeInformer;
    const { all: wanted, backend: backendParameterKinds } = gatewayParameterKinds(this.opts.providers.all);
    let parameters: GatewayParameterResource[] = [];
    try {
      parameters = wanted.length > 0 ? await discoverGatewayParameters(this.opts.clients, wanted) : [];
    } catch (e) {
      this.log.warn(`cannot tell whether the Gateway parameters CRDs are installed, Gateways naming them are refused: ${e instanceof Error ? e.message : String(e)}`);
    }
    this.gateway = new GatewayWatch({
      served,
      watch,
      ...(parameters.length > 0 ? { parameters, backendParameterKinds } : {}),
      ...(this.providerSecrets ? { providerSecrets: this.providerSecrets.cache } : {}),
      env: this.env,
      statusWriter: new StatusWriter({ ...this.writes, custom: this.writes.custom ?? this.opts.clients.custom } as unknown as StatusClients, { inFlight: this.writesInFlight }),
      services: this.services.cache,
      endpointSlices: this.endpointSlices.cache,
      secrets: this.secrets.cache,
      nodes: () => this.eligibleNodes.nodes,
      enqueue: (k) => {
        if (this.running) this.queue.add(k);
      },
      abort: (k) => this.abort(k),
    });
    this.routes.push({ owns: isGatewayQueueKey, reconcilerKey: gatewayReconcilerKey, queueKey: gatewayQueueKeyOf, reconciler: this.gateway.reconciler });
  }

  /**
   * Watches TargetGroupBindings when a provider binds targets (aws) and the API server
   * serves elbv2.k8s.aws/v1beta1 (the user installed aws-load-balancer-controller's CRDs).
   */
  private async setUpTargetGroupBindings(): Promise<void> {
    const provider = bindingProvider(this.opts.providers.all);
    if (!provider) return;
    let served: boolean;
    try {
      served = await targetGroupBindingsServed(this.opts.clients);
    } catch (e) {
      this.log.warn(`cannot tell whether the TargetGroupBinding CRD is installed, TargetGroupBindings are not served: ${e instanceof Error ? e.message : String(e)}`);
      return;
    }
    if (!served) {
      this.log.info('the TargetGroupBinding CRD (elbv2.k8s.aws/v1beta1) is not installed: TargetGroupBindings are not served');
      return;
    }
    this.bindings = new TargetGroupBindingWatch({
      clusterName: this.config.clusterName,
      provider,
      watch: this.makeInformer,
      services: this.services.cache,
      endpointSlices: this.endpointSlices.cache,
      nodes: () => this.eligibleNodes.nodes,
      writer: new TargetGroupBindingWriter(this.writes.custom ?? this.opts.clients.custom),
      events: this.env.events,
      log: this.log,
      providerTimeoutMs: this.env.providerTimeoutMs,
      enqueue: (k) => {
        if (this.running) this.queue.add(k);
      },
      abort: (k) => this.abort(k),
    });
    this.routes.push({ owns: isBindingQueueKey, reconcilerKey: bindingReconcilerKey, queueKey: bindingQueueKeyOf, reconciler: this.bindings.reconciler });
  }

  /** Each informer and whether its first list is in (/readyz, metrics). */
  informerSync(): { readonly resource: string; readonly synced: boolean }[] {
    return [
      ...this.watched.map(({ resource, informer }) => ({ resource, synced: informer.hasSynced() })),
      ...this.metallb.flatMap((m) => m.informerSync()),
      ...(this.gke?.informerSync() ?? []),
      ...(this.classParams?.informerSync() ?? []),
    ];
  }

  /** Load balancers a provider has ensured for this controller, by provider name (metrics; walks the caches). */
  loadBalancersByProvider(): Map<string, number> {
    const counts = new Map<string, number>();
    const count = (rec: { provider: string; status?: unknown } | undefined): void => {
      if (rec?.status) counts.set(rec.provider, (counts.get(rec.provider) ?? 0) + 1);
    };
    for (const svc of this.services.cache.list()) count(this.serviceReconciler.appliedRecord(keyOf(svc)));
    const groups = new Set<string>();
    for (const ing of this.ingresses.cache.list()) groups.add(this.groupKey(ing));
    for (const g of groups) count(this.ingressReconciler.appliedRecord(g));
    return counts;
  }

  /** Starts the informers, waits for their first lists, then starts the workers and the timers. */
  async start(signal?: AbortSignal): Promise<void> {
    await this.sync(signal);
    // Stopped while syncing (a replica that lost its Lease meanwhile): start no workers.
    if (this.stopping) return;
    await this.restore(signal);
    this.eligibleNodes.refresh();
    this.running = true;
    this.enqueueAll();
    const n = this.opts.workers ?? this.config.concurrency;
    this.workers = Promise.all(Array.from({ length: n }, () => this.worker())).then(() => undefined);

    const resync = this.opts.resyncPeriodMs ?? this.config.resyncPeriodMs;
    if (resync > 0) this.every(resync, () => this.enqueueAll());
    const gcInterval = this.opts.gcIntervalMs ?? this.config.gc.intervalMs;
    if (gcInterval > 0) {
      const first = setTimeout(() => {
        void this.collectGarbage();
        this.every(gcInterval, () => void this.collectGarbage());
      }, this.opts.gcInitialDelayMs ?? Math.min(gcInterval, 60_000));
      first.unref();
      this.timers.push(first);
    }
    this.log.info(`controller started: ${this.services.cache.size} Services, ${this.ingresses.cache.size} Ingresses, ${this.eligibleNodes.nodes.length} eligible Nodes, ${n} workers`);
  }

  /**
   * Stops taking work, lets the keys in progress finish (aborting them after
   * drainTimeoutMs), stops the watches and flushes the Events.
   */
  stop(opts: { drainTimeoutMs?: number } = {}): Promise<void> {
    this.stopping ??= this.shutdown(opts.drainTimeoutMs ?? 30_000);
    return this.stopping;
  }

  /** Resolves when nothing is queued, waiting for a retry, or in progress (tests, benchmarks). */
  idle(): Promise<void> {
    return this.queue.idle();
  }

  collectGarbage(): Promise<SweepResult> {
    return this.gc.sweep().catch((e: unknown) => {
      this.log.warn(`garbage collection failed: ${(e as Error).message}`);
      return { owned: 0, orphans: [], deleted: 0, failed: 1 };
    });
  }

  /** Queues every object lbc may have business with, as the periodic resync does. */
  enqueueAll(): void {
    for (const svc of this.services.cache.list()) if (isLoadBalancer(svc)) this.queue.add(`${SERVICE_PREFIX}${keyOf(svc)}`);
    for (const ing of this.ingresses.cache.list()) this.queue.add(this.groupKey(ing));
    this.gateway?.enqueueAll();
    this.bindings?.enqueueAll();
  }

  stats(): ControllerStats {
    return {
      queue: this.queue.metrics(),
      reconciles: this.reconciles,
      failures: this.failures,
      retries: this.retries,
      nodeBatches: this.eligibleNodes.changes,
      eligibleNodes: this.eligibleNodes.nodes.length,
      longestRunningSeconds: this.watchdog.longestRunningSeconds(),
      stuck: this.watchdog.stuck,
    };
  }

  /**
   * Hands the providers that allocate addresses what the Services already hold, before
   * the first ensure. A failure is logged and the controller goes on: such a provider
   * refuses its calls (transient) until it knows, which every affected Service shows.
   */
  private async restore(signal?: AbortSignal): Promise<void> {
    try {
      const objects = {
        services: this.services.cache.list(),
        ingresses: this.ingresses.cache.list(),
        ingressClasses: this.ingressClasses.cache.list(),
        ...(this.classParams ? { classParams: this.classParams.lookups } : {}),
      };
      const reports = await restoreAddresses(this.opts.providers, objects, this.config, signal ? { signal } : {});
      for (const [provider, r] of reports) {
        this.log.info(`provider ${provider}: ${r.kept} load balancers keep the addresses in their status${r.dropped.length > 0 ? `, ${r.dropped.length} get new ones` : ''}`);
        for (const d of r.dropped) this.log.warn(`provider ${provider}: ${describeRef(d.ref)} cannot keep ${d.addresses.join(', ')}: ${d.reason}`);
      }
    } catch (e) {
      this.log.warn(`restoring the addresses in use failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  private informers(): Informer<never>[] {
    return this.watched.map((w) => w.informer);
  }

  private startInformers(): void {
    for (const inf of this.informers()) if (!inf.isStarted()) inf.start();
  }

  private every(ms: number, fn: () => void): void {
    const t = setInterval(fn, ms);
    t.unref();
    this.timers.push(t);
  }

  private async shutdown(drainTimeoutMs: number): Promise<void> {
    this.running = false;
    for (const off of this.unsubscribe.splice(0)) off();
    for (const t of this.timers.splice(0)) clearTimeout(t);
    this.eligibleNodes.stop();
    const drained = this.queue.shutDown();
    const timer = setTimeout(() => {
      for (const flight of this.inflight.values()) flight.abort(new ControllerStoppingError('controller shutting down'));
      // A reconcile deaf to its abort must not hold the shutdown (nor the Lease) forever.
      this.watchdog.letGoAll('controller shutting down', SHUTDOWN_GRACE_MS);
    }, drainTimeoutMs);
    await drained;
    await this.workers;
    clearTimeout(timer);
    await Promise.all([...this.informers().map((inf) => inf.stop()), ...this.metallb.map((m) => m.stop()), ...(this.gke ? [this.gke.stop()] : []), ...(this.classParams ? [this.classParams.stop()] : [])]);
    if (this.ownsRecorder) await this.recorder.close();
    else await this.recorder.flush();
  }

  // ---- event handlers ------------------------------------------------------------

  /**
   * A provider released capacity (an address): what it refused for want of it retries now
   * rather than at its slow backoff, up to 10 min later. A key in flight is woken once it
   * has finished, or its failure, recorded after this, would put it back to sleep. An
   * Ingress key is requeued, but the Ingress reconciler has no retryNow, so a failed
   * ensure still waits for its retry; no provider refuses an Ingress for capacity today.
   */
  private capacityFreed(waiting: readonly LbRef[]): void {
    if (!this.running) return;
    for (const ref of waiting) {
      const key =
        ref.kind === 'Service'
          ? `${SERVICE_PREFIX}${ref.namespace}/${ref.name}`
          : ref.kind === 'Gateway'
            ? gatewayQueueKeyOf(`${ref.namespace}/${ref.name}`)
            : ref.namespace === ''
              ? `group/${ref.name}`
              : `ingress/${ref.namespace}/${ref.name}`;
      if (this.inflight.has(key)) this.wakeAfter.add(key);
      else this.wake(key);
    }
  }

  /** A provider's pools changed: what it serves is ensured again now, and what it refused is tried again. */
  private providerChanged(provider: string): void {
    if (!this.running) return;
    for (const key of this.serviceReconciler.reensure(provider)) this.wake(`${SERVICE_PREFIX}${key}`);
    this.enqueueAll();
  }

  private wake(key: string): void {
    this.slow.forget(key);
    this.backoff.forget(key);
    if (key.startsWith(SERVICE_PREFIX)) this.serviceReconciler.retryNow(key.slice(SERVICE_PREFIX.length));
    this.queue.add(key);
  }

  private registerHandlers(): void {
    this.services
      .onAdd((svc) => this.serviceChanged(undefined, svc))
      .onUpdate((old, svc) => this.serviceChanged(old, svc))
      .onDelete((svc) => this.serviceChanged(svc, undefined));
    this.ingresses
      .onAdd((ing) => this.ingressChanged(undefined, ing))
      .onUpdate((old, ing) => this.ingressChanged(old, ing))
      .onDelete((ing) => this.ingressChanged(ing, undefined));
    const classesChanged = (): void => {
      // Which Ingresses are ours, and which params (and group) their class names, may have changed; there are few classes and they rarely change.
      if (this.classParams) this.regroup(() => true);
      else if (this.running) for (const ing of this.ingresses.cache.list()) this.queue.add(this.groupKey(ing));
    };
    this.ingressClasses.onAdd(classesChanged).onUpdate(classesChanged).onDelete(classesChanged);
    this.nodes
      .onAdd((n) => this.eligibleNodes.observe(undefined, n))
      .onUpdate((old, n) => this.eligibleNodes.observe(old, n))
      .onDelete((n) => this.eligibleNodes.observe(n, undefined));
    const sliceChanged = (slice: V1EndpointSlice): void => this.endpointsChanged(slice);
    this.endpointSlices.onAdd(sliceChanged).onUpdate((_old, s) => sliceChanged(s)).onDelete(sliceChanged);
    const secretChanged = (secret: V1Secret): void => {
      for (const ing of this.ingresses.cache.byIndex(INGRESS_BY_TLS_SECRET, keyOf(secret))) this.queue.add(this.groupKey(ing));
      this.gateway?.secretChanged(keyOf(secret));
      this.gke?.secretChanged(keyOf(secret));
    };
    this.secrets.onAdd(secretChanged).onUpdate((_old, s) => secretChanged(s)).onDelete(secretChanged);
    this.providerSecrets?.onAdd(secretChanged).onUpdate((_old, s) => secretChanged(s)).onDelete(secretChanged);
  }

  /**
   * Files the Ingresses `which` selects again under the groups their class's params name
   * now, and queues the groups they leave and join: a params change can move every
   * Ingress of a class into (or out of) a group, or refuse its namespace.
   */
  private regroup(which: (ing: V1Ingress) => boolean): void {
    const cache = this.ingresses.cache;
    for (const ing of cache.list()) {
      if (!which(ing)) continue;
      const before = cache.reindex(keyOf(ing), INGRESS_BY_GROUP);
      if (!this.running) continue;
      for (const k of before) this.queue.add(k);
      this.queue.add(this.groupKey(ing));
    }
  }

  private serviceChanged(old: V1Service | undefined, svc: V1Service | undefined): void {
    const obj = (svc ?? old) as V1Service;
    const key = keyOf(obj);
    const queueKey = `${SERVICE_PREFIX}${key}`;
    // What a change lbc did not make itself asks for: a reconcile of the Service, and of the
    // Ingress group it is a companion of. Held while a write of ours is on its way (observe).
    const news = (): void => {
      if ((old && isLoadBalancer(old)) || (svc && isLoadBalancer(svc)) || this.serviceReconciler.has(key)) this.queue.add(queueKey);
      for (const s of [old, svc]) {
        const group = s?.metadata?.annotations?.[COMPANION_OF_ANNOTATION];
        if (group) this.queue.add(group);
      }
    };
    let echo = false;
    if (svc) echo = this.serviceWrites.observe(key, svc, news);
    else this.serviceWrites.forget(key);
    if (!svc || (svc.metadata?.deletionTimestamp && !old?.metadata?.deletionTimestamp)) this.abort(queueKey);
    if (!echo) news();
    // Ingress backends: the spec (ports, node ports, type, selector) and the annotations
    // (GKE's backend-config and app-protocols) matter to them; Gateway routes: the spec.
    // Compared only when one may care: writing out both specs on every Service event showed
    // in the cold-start profile.
    const users = this.ingresses.cache.byIndex(INGRESS_BY_BACKEND_SERVICE, key);
    if (users.length > 0 || this.gateway) {
      const specChanged = !old || !svc || specJson(old) !== specJson(svc);
      if (users.length > 0 && (specChanged || annotationsJson(old) !== annotationsJson(svc))) for (const ing of users) this.queue.add(this.groupKey(ing));
      if (specChanged) this.gateway?.serviceChanged(key);
    }
    this.bindings?.serviceChanged(key, () => !old || !svc || specJson(old) !== specJson(svc));
  }

  private ingressChanged(old: V1Ingress | undefined, ing: V1Ingress | undefined): void {
    const obj = (ing ?? old) as V1Ingress;
    const key = keyOf(obj);
    let echo = false;
    if (ing) echo = this.ingressWrites.observe(key, ing);
    else this.ingressWrites.forget(key);
    const group = this.groupKey(obj);
    if (!ing || (ing.metadata?.deletionTimestamp && !old?.metadata?.deletionTimestamp)) this.abort(group);
    if (echo) return;
    // A new member of an explicit group: the others applied with it are still arriving.
    // Built now, the group would be built from some of them first, then again from all.
    if (!old && ing && this.running && group.startsWith('group/')) this.queue.hold(group, this.opts.groupSettleMs ?? 1000);
    else this.queue.add(group);
    if (old && ing) {
      const before = this.groupKey(old);
      if (before !== group) this.queue.add(before);
    }
  }

  private endpointsChanged(slice: V1EndpointSlice): void {
    const [key] = endpointSliceByService(slice);
    if (!key) return;
    // Only pod (ip) targets follow the endpoints; node targets reach pods through kube-proxy.
    // A key with no record yet, or in flight, may be about to use them: it is queued too.
    const svcKey = `${SERVICE_PREFIX}${key}`;
    const svc = this.services.cache.get(key);
    if (svc && isLoadBalancer(svc) && (!this.serviceReconciler.appliedRecord(key) || this.serviceReconciler.usesIpTargets(key) || this.inflight.has(svcKey))) {
      this.queue.add(svcKey);
    }
    for (const ing of this.ingresses.cache.byIndex(INGRESS_BY_BACKEND_SERVICE, key)) {
      const group = this.groupKey(ing);
      const ingressRecord = this.ingressReconciler.appliedRecord(group);
      if (!ingressRecord || ingressRecord.usesIpTargets || this.inflight.has(group)) this.queue.add(group);
    }
    this.bindings?.endpointsChanged(key);
    const gateways = this.gateway?.reconciler;
    for (const g of gateways?.gatewaysUsingService(key) ?? []) {
      const queueKey = gatewayQueueKeyOf(g);
      const rec = gateways?.appliedRecord(g);
      if (!rec || rec.usesIpTargets || this.inflight.has(queueKey)) this.queue.add(queueKey);
    }
  }

  private nodesChanged(): void {
    if (!this.running) return;
    for (const route of this.routes) for (const key of route.reconciler.keysWithInstanceTargets()) this.queue.add(route.queueKey(key));
    // A reconcile in flight may have built its spec from the old set before recording it.
    for (const key of this.inflight.keys()) this.queue.add(key);
  }

  /** The object is going away: a provider call in flight for it should stop rather than finish. */
  private abort(queueKey: string): void {
    this.inflight.get(queueKey)?.abort(new ObjectGoneError(`${queueKey} is being deleted`));
  }

  // ---- workers ---------------------------------------------------------------------

  private async worker(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      const flight = new Flight();
      this.inflight.set(key, flight);
      const observer = this.opts.observer;
      const t0 = observer ? performance.now() : 0;
      let result: ReconcileResult = 'error';
      observer?.started?.(key);
      try {
        this.reconciles++;
        const out = await this.watchdog.run(key, flight, this.dispatch(key, flight));
        result = out.kind;
        this.settle(key, out);
      } catch (e) {
        this.failures++;
        await this.failed(key, e);
      } finally {
        this.inflight.delete(key);
        this.queue.done(key);
        if (this.wakeAfter.delete(key)) this.wake(key);
        observer?.finished(key, result, (performance.now() - t0) / 1000);
      }
    }
  }

  private route(key: string): Route {
    const route = this.routes.find((r) => r.owns(key));
    if (!route) throw new Error(`unknown queue key ${key}`);
    return route;
  }

  // async: an unknown key rejects like any failed reconcile.
  private async dispatch(key: string, flight: Flight): Promise<Outcome> {
    const route = this.route(key);
    return route.reconciler.reconcile(route.reconcilerKey(key), flight);
  }

  private settle(key: string, out: Outcome): void {
    let delay: number;
    switch (out.kind) {
      case 'done':
        this.backoff.forget(key);
        this.slow.forget(key);
        return;
      case 'wait':
        this.queue.addAfter(key, out.afterMs);
        return;
      case 'backoff':
        delay = this.backoff.when(key);
        break;
      case 'throttled':
        // What the provider asked for, and never a tight loop if it asked for nothing.
        delay = Math.max(out.afterMs, this.backoff.when(key));
        break;
      case 'slow':
        this.backoff.forget(key);
        delay = this.slow.when(key);
        break;
    }
    this.retries++;
    this.queue.addAfter(key, delay);
    const route = this.routes.find((r) => r.owns(key));
    route?.reconciler.deferRetry(route.reconcilerKey(key), Date.now() + delay);
  }

  private async failed(key: string, e: unknown): Promise<void> {
    const code = e instanceof ConflictError ? 409 : statusCode(e);
    if (code === 404) {
      // The object went away under the write; its delete event queues the key again.
      this.settle(key, { kind: 'done' });
      return;
    }
    if (code === 409) {
      // Someone else wrote first: retry on the object as it is now, not as the cache last saw it.
      await this.refresh(key).catch(() => {});
    } else {
      const about = queueKeySubject(key);
      this.log.warn(`${key}: reconcile failed, retrying: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`, ...(about ? [about] : []));
    }
    this.settle(key, { kind: 'backoff' });
  }

  private async refresh(key: string): Promise<void> {
    const { core, networking, custom } = this.opts.clients;
    if (isGatewayQueueKey(key)) {
      await this.gateway?.refresh(key, (r, namespace, name) =>
        // rbac: gateway.networking.k8s.io/gateways
        custom.getNamespacedCustomObject({ group: GATEWAY_GROUP, version: r.version, plural: r.plural, namespace, name }));
      return;
    }
    if (key.startsWith(SERVICE_PREFIX)) {
      const k = key.slice(SERVICE_PREFIX.length);
      const [namespace = '', name = ''] = k.split('/');
      this.serviceWrites.remember(k, await core.readNamespacedService({ namespace, name }));
      return;
    }
    for (const ing of this.ingresses.cache.byIndex(INGRESS_BY_GROUP, key)) {
      const namespace = ing.metadata?.namespace ?? '';
      const name = ing.metadata?.name ?? '';
      this.ingressWrites.remember(`${namespace}/${name}`, await networking.readNamespacedIngress({ namespace, name }));
    }
  }
}
