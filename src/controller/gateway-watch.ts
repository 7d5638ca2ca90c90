// The Gateway API half of the controller, set up only when the API server serves the
// Gateway API (kube/gateway-resources.ts discoverGatewayApi): lbc keeps working without
// the CRDs. Its informers (GatewayClasses, Gateways, each served route kind,
// ReferenceGrants, Namespaces), the Gateway reconciler, and which news queue which
// Gateway: its own changes, its class's, a route naming it (before or after the change),
// any ReferenceGrant or Namespace change (few, and either may change what attaches), and
// the Services, EndpointSlices and Secrets its last build read.
import type { V1EndpointSlice, V1Namespace, V1Node, V1Secret, V1Service } from '@kubernetes/client-node';
import type { Cache, IndexFunc, KubeObject } from '../kube/cache.js';
import type { AnyRoute, Gateway, GatewayClass } from '../kube/gateway-api.js';
import { Namespaces, type GatewayResourceType, type ServedGatewayApi } from '../kube/gateway-resources.js';
import type { Informer } from '../kube/informer.js';
import type { CustomObject } from '../kube/custom-resources.js';
import type { GatewayParameterResource } from '../kube/gateway-parameter-resources.js';
import type { GatewayApiResource } from '../kube/status.js';
import type { ResourceType } from '../kube/resources.js';
import { GATEWAY_BY_CLASS, GATEWAY_CLASS_KEY_PREFIX, gatewayByClass, GatewayReconciler, ROUTE_BY_GATEWAY, routeByGateway, type GatewayApiStatusWriter } from './gateway-reconciler.js';
import { isOurGatewayClass } from './gateway/gateway-class.js';
import { gatewayControllers, type GatewayControllers } from './gateway/controller-names.js';
import { parameterLookup } from './gateway/infrastructure.js';
import { parametersTarget } from './gateway/attached-parameters.js';
import { OwnWrites } from './own-writes.js';
import { keyOf, type ReconcilerEnv } from './reconcile.js';

export const GATEWAY_KEY_PREFIX = 'gateway/';

export interface GatewayWatchDeps {
  readonly served: ServedGatewayApi;
  /** Makes (and registers) an informer, as the controller does for its other kinds. */
  watch<T extends KubeObject>(kind: { readonly name: string; readonly resource: ResourceType<T>; readonly indexers: Record<string, IndexFunc<T>> }): Informer<T>;
  readonly env: ReconcilerEnv;
  readonly statusWriter: GatewayApiStatusWriter;
  readonly services: Cache<V1Service>;
  readonly endpointSlices: Cache<V1EndpointSlice>;
  readonly secrets: Cache<V1Secret>;
  nodes(): readonly V1Node[];
  /** The Gateway parameters kinds the providers read and the API server serves (kube/gateway-parameter-resources.ts). */
  readonly parameters?: readonly GatewayParameterResource[];
  /** Of those, the kinds attached to a backend Service by spec.targetReference (capabilities.gatewayBackendParameters). */
  readonly backendParameterKinds?: readonly { readonly group: string; readonly kind: string }[];
  /** The Opaque Secrets providers' parameters name (an OIDC client's), when watched. */
  readonly providerSecrets?: Cache<V1Secret>;
  /** Queues a key while the controller runs. */
  enqueue(queueKey: string): void;
  /** The object behind queueKey is going away: stop its provider call. */
  abort(queueKey: string): void;
}

const gatewayQueueKey = (key: string): string => `${GATEWAY_KEY_PREFIX}${key}`;

const PARAMETERS_BY_TARGET = 'parameters-by-target';
const parametersByTarget: IndexFunc<CustomObject> = parametersTarget;
export class GatewayWatch {
  readonly reconciler: GatewayReconciler;
  readonly gateways: Informer<Gateway>;
  readonly gatewayClasses: Informer<GatewayClass>;
  private readonly routeInformers: Informer<AnyRoute>[] = [];
  private readonly fresh = new OwnWrites<Gateway>();
  private readonly freshRoutes = new OwnWrites<AnyRoute>();
  /** Objects (`Kind/ns/name`) whose status lbc is writing right now. */
  private readonly writing = new Set<string>();
  private readonly controllers: GatewayControllers;

  constructor(private readonly deps: GatewayWatchDeps) {
    const { served } = deps;
    const controllers = gatewayControllers(deps.env.config, deps.env.providers.all);
    this.controllers = controllers;
    const byGateway = routeByGateway(controllers.names);
    this.gatewayClasses = deps.watch({ name: 'gatewayclasses', resource: served.gatewayClasses, indexers: {} });
    this.gateways = deps.watch({ name: 'gateways', resource: served.gateways, indexers: { [GATEWAY_BY_CLASS]: gatewayByClass } });
    const route = <T extends AnyRoute>(name: string, r: GatewayResourceType<T> | undefined): { resource: GatewayApiResource; cache: Cache<T> } | undefined => {
      if (!r) return undefined;
      const informer = deps.watch({ name, resource: r, indexers: { [ROUTE_BY_GATEWAY]: byGateway as IndexFunc<T> } });
      this.routeInformers.push(informer as unknown as Informer<AnyRoute>);
      return { resource: r, cache: informer.cache };
    };
    const routes = {
      http: route('httproutes', served.httpRoutes),
      grpc: route('grpcroutes', served.grpcRoutes),
      tls: route('tlsroutes', served.tlsRoutes),
      tcp: route('tcproutes', served.tcpRoutes),
      udp: route('udproutes', served.udpRoutes),
    };
    const grants = served.referenceGrants ? deps.watch({ name: 'referencegrants', resource: served.referenceGrants, indexers: {} }) : undefined;
    const namespaces: Informer<V1Namespace> = deps.watch({ name: 'namespaces', resource: Namespaces, indexers: {} });
    const attachedToService = (p: GatewayParameterResource): boolean => (deps.backendParameterKinds ?? []).some((k) => k.group === p.kind.group && k.kind === p.kind.kind);
    const parameters = (deps.parameters ?? []).map((p) => ({
      kind: p.kind,
      byTarget: attachedToService(p),
      informer: deps.watch({ name: p.plural, resource: p.resource, indexers: attachedToService(p) ? { [PARAMETERS_BY_TARGET]: parametersByTarget } : {} }),
    }));
    this.reconciler = new GatewayReconciler({
      ...deps.env,
      gateways: this.gateways.cache,
      gatewayClasses: this.gatewayClasses.cache,
      routes: Object.fromEntries(Object.entries(routes).filter(([, v]) => v !== undefined)),
      ...(grants ? { referenceGrants: grants.cache } : {}),
      namespaces: namespaces.cache,
      services: deps.services,
      endpointSlices: deps.endpointSlices,
      secrets: deps.secrets,
      nodes: () => deps.nodes(),
      ...(parameters.length > 0
        ? {
            gatewayParameters: parameterLookup(parameters.map((p) => ({ kind: p.kind, get: (key: string) => p.informer.cache.get(key) }))),
            backendParameters: (kind, namespace, service) =>
              parameters.find((p) => p.byTarget && p.kind.group === kind.group && p.kind.kind === kind.kind)?.informer.cache.byIndex(PARAMETERS_BY_TARGET, `${namespace}/${service}`) ?? [],
          }
        : {}),
      ...(deps.providerSecrets ? { providerSecrets: deps.providerSecrets } : {}),
      fresh: this.fresh,
      freshRoutes: this.freshRoutes,
      statusWriter: {
        patchGatewayApiStatus: async (resource, obj, status) => {
          const key = `${(obj as { kind?: string }).kind ?? ''}/${keyOf(obj)}`;
          this.writing.add(key);
          try {
            return await deps.statusWriter.patchGatewayApiStatus(resource, obj, status);
          } finally {
            this.writing.delete(key);
          }
        },
        setClusterFinalizer: (resource, obj, finalizer, keep) => deps.statusWriter.setClusterFinalizer(resource, obj, finalizer, keep),
      },
      resources: { gateways: served.gateways, gatewayClasses: served.gatewayClasses },
      controllers,
    });

    this.gateways
      .onAdd((gw) => this.gatewayChanged(undefined, gw))
      .onUpdate((old, gw) => this.gatewayChanged(old, gw))
      .onDelete((gw) => this.gatewayChanged(gw, undefined));
    const classChanged = (gc: GatewayClass): void => {
      const name = gc.metadata?.name ?? '';
      if (isOurGatewayClass(gc, controllers)) deps.enqueue(`${GATEWAY_CLASS_KEY_PREFIX}${name}`);
      for (const gw of this.gateways.cache.byIndex(GATEWAY_BY_CLASS, name)) deps.enqueue(gatewayQueueKey(keyOf(gw)));
    };
    this.gatewayClasses.onAdd(classChanged).onUpdate((_o, gc) => classChanged(gc)).onDelete(classChanged);
    for (const inf of this.routeInformers) {
      const changed = (...objs: (AnyRoute | undefined)[]): void => {
        for (const k of new Set(objs.flatMap((o) => (o ? byGateway(o) : [])))) deps.enqueue(gatewayQueueKey(k));
      };
      // The echo of lbc's own route status write is news to no Gateway: rebuilding one with
      // a thousand routes for each of their echoes cost a second of CPU apiece (bench gateway).
      // It is known by its resourceVersion once the write has returned; before that (the
      // watch can be first), by a status-only change to a route whose status lbc is writing.
      const echo = (o: AnyRoute, r: AnyRoute): boolean => {
        const key = `${r.kind ?? ''}/${keyOf(r)}`;
        if (this.writing.has(key) && o.metadata?.generation === r.metadata?.generation) return true;
        return this.freshRoutes.observe(key, r);
      };
      inf.onAdd((r) => changed(r)).onUpdate((o, r) => (echo(o, r) ? undefined : changed(o, r))).onDelete((r) => changed(r));
    }
    const everyGateway = (): void => {
      for (const gw of this.gateways.cache.list()) deps.enqueue(gatewayQueueKey(keyOf(gw)));
    };
    grants?.onAdd(everyGateway).onUpdate(everyGateway).onDelete(everyGateway);
    // A parameters object is news to the Gateways of its namespace that name it, to those
    // whose routes' ExtensionRefs named it at their last build, to the GatewayClasses that
    // name it (their Accepted condition) with every Gateway of theirs, and, attached to a
    // Service, to those whose last build read that Service (the one it targeted before an edit too).
    for (const p of parameters) {
      const changed = (o: CustomObject): void => {
        for (const gw of this.gateways.cache.list()) {
          const ref = gw.spec?.infrastructure?.parametersRef;
          if (ref && ref.group === p.kind.group && ref.kind === p.kind.kind && ref.name === o.metadata?.name && gw.metadata?.namespace === o.metadata?.namespace) deps.enqueue(gatewayQueueKey(keyOf(gw)));
        }
        for (const gc of this.gatewayClasses.cache.list()) {
          const ref = gc.spec?.parametersRef;
          if (!ref || ref.group !== p.kind.group || ref.kind !== p.kind.kind || ref.name !== o.metadata?.name || ref.namespace !== o.metadata?.namespace) continue;
          if (isOurGatewayClass(gc, controllers)) classChanged(gc);
        }
        for (const g of this.reconciler.gatewaysUsingParameters(`${p.kind.kind}/${keyOf(o)}`)) deps.enqueue(gatewayQueueKey(g));
        if (p.byTarget) for (const target of parametersByTarget(o)) this.serviceChanged(target);
      };
      p.informer.onAdd(changed).onUpdate((o, n) => (changed(o), changed(n))).onDelete(changed);
    }
    namespaces.onUpdate((old, n) => {
      if (JSON.stringify(old.metadata?.labels ?? {}) !== JSON.stringify(n.metadata?.labels ?? {})) everyGateway();
    });
  }

  /** Every Gateway and every GatewayClass of lbc's, for the first reconcile and the resync. */
  enqueueAll(): void {
    for (const gc of this.gatewayClasses.cache.list()) if (isOurGatewayClass(gc, this.controllers)) this.deps.enqueue(`${GATEWAY_CLASS_KEY_PREFIX}${gc.metadata?.name ?? ''}`);
    for (const gw of this.gateways.cache.list()) this.deps.enqueue(gatewayQueueKey(keyOf(gw)));
  }

  serviceChanged(key: string): void {
    for (const g of this.reconciler.gatewaysUsingService(key)) this.deps.enqueue(gatewayQueueKey(g));
  }

  secretChanged(key: string): void {
    for (const g of this.reconciler.gatewaysUsingSecret(key)) this.deps.enqueue(gatewayQueueKey(g));
  }

  /** After a conflict: the Gateway as the API server has it now, not as the cache last saw it. */
  async refresh(queueKey: string, read: (resource: GatewayApiResource, namespace: string, name: string) => Promise<unknown>): Promise<void> {
    if (!queueKey.startsWith(GATEWAY_KEY_PREFIX)) return;
    const key = queueKey.slice(GATEWAY_KEY_PREFIX.length);
    const [namespace = '', name = ''] = key.split('/');
    this.fresh.remember(key, (await read(this.deps.served.gateways, namespace, name)) as Gateway);
  }

  private gatewayChanged(old: Gateway | undefined, gw: Gateway | undefined): void {
    const obj = (gw ?? old) as Gateway;
    const key = keyOf(obj);
    let echo = false;
    if (gw) echo = this.fresh.observe(key, gw);
    else this.fresh.forget(key);
    if (!gw || (gw.metadata?.deletionTimestamp && !old?.metadata?.deletionTimestamp)) this.deps.abort(gatewayQueueKey(key));
    if (!echo) this.deps.enqueue(gatewayQueueKey(key));
    // The class holds its gateway-exists finalizer by whether Gateways name it: the first
    // Gateway of a class and the last one leaving it (deleted, or moved) change that.
    const before = old?.spec?.gatewayClassName;
    const after = gw?.spec?.gatewayClassName;
    if (before === after) return;
    for (const name of [before, after]) {
      if (name !== undefined && isOurGatewayClass(this.gatewayClasses.cache.get(name), this.controllers)) this.deps.enqueue(`${GATEWAY_CLASS_KEY_PREFIX}${name}`);
    }
  }
}

export const isGatewayQueueKey = (k: string): boolean => k.startsWith(GATEWAY_KEY_PREFIX) || k.startsWith(GATEWAY_CLASS_KEY_PREFIX);
export const gatewayReconcilerKey = (k: string): string => (k.startsWith(GATEWAY_KEY_PREFIX) ? k.slice(GATEWAY_KEY_PREFIX.length) : k);
export const gatewayQueueKeyOf = (k: string): string => (k.startsWith(GATEWAY_CLASS_KEY_PREFIX) ? k : gatewayQueueKey(k));
