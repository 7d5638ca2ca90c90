// Reconciles one Gateway into one load balancer, as the third user of the shared
// lifecycle (finalizer, ensure, Events, failure classification and retries, delete and
// release): the builder (gateway-model.ts) turns the Gateway, its GatewayClass and the
// routes that name it into a GatewaySpec and the specification's status; this writes
// that status (the Gateway's after the provider answered, each route's entries for this
// Gateway at once) only where it changed. GatewayClasses of the controllerNames lbc serves
// (gateway/controller-names.ts) are reconciled here too (queue key `gatewayclass/<name>`):
// Accepted and supportedFeatures.
import type { V1EndpointSlice, V1Namespace, V1Node, V1Secret, V1Service } from '@kubernetes/client-node';
import type { Cache, IndexFunc } from '../kube/cache.js';
import { GATEWAY_CLASS_FINALIZER, type AnyRoute, type Gateway, type GatewayClass, type ReferenceGrant } from '../kube/gateway-api.js';
import type { InvolvedObject } from '../kube/events.js';
import type { GatewayResourceType } from '../kube/gateway-resources.js';
import { ENDPOINTSLICE_BY_SERVICE } from '../kube/indexes.js';
import { hasFinalizer, type GatewayApiResource, type WriteResult } from '../kube/status.js';
import type { ProviderNotice } from '../model/status.js';
import { buildGatewayModel, gatewayRef, type GatewayModelResult, type RouteStatusUpdate } from './gateway-model.js';
import { Accepted, condition, GatewayReason } from './gateway/conditions.js';
import { classFeatures, gatewayClassStatus, isOurGatewayClass, parameterReaders, providerOfGatewayClass } from './gateway/gateway-class.js';
import type { GatewayControllers } from './gateway/controller-names.js';
import { gatewayClassParameters, type GatewayParameterLookup } from './gateway/infrastructure.js';
import type { BackendParameterLookup } from './gateway/attached-parameters.js';
import { gatewaysOfRoute, routeEntries, routeKey, servicesOfRoute, type GatewayRoutes } from './gateway/routes.js';
import { planGatewayClassStatus, planGatewayStatus, planRouteParents, type ProgrammedState } from './gateway/status.js';
import { LoadBalancerLifecycle } from './load-balancer-lifecycle.js';
import type { OwnWrites } from './own-writes.js';
import { DONE, FINALIZER, keyOf, type AppliedLb, type Flight, type LoadBalancerReconciler, type LogSubject, type Outcome, type ReconcilerEnv } from './reconcile.js';

export const GATEWAY_CLASS_KEY_PREFIX = 'gatewayclass/';
/** Route caches: by the Gateways (`ns/name`) a route names or carries lbc's status for. */
export const ROUTE_BY_GATEWAY = 'byGateway';
/** Gateway cache: by GatewayClass name. */
export const GATEWAY_BY_CLASS = 'byClass';

/** The route index for the instance that serves GatewayClasses of `controllerNames`. */
export const routeByGateway =
  (controllerNames: readonly string[]): IndexFunc<AnyRoute> =>
  (route) =>
    gatewaysOfRoute(route, controllerNames);
export const gatewayByClass: IndexFunc<Gateway> = (gw) => [gw.spec?.gatewayClassName ?? ''];

/** Writes a Gateway API object's whole status (kube/status.ts StatusWriter.patchGatewayApiStatus). */
export interface GatewayApiStatusWriter {
  patchGatewayApiStatus<T extends { metadata?: { name?: string; namespace?: string; resourceVersion?: string } }>(resource: GatewayApiResource, obj: T, status: object): Promise<WriteResult<T>>;
  /** Adds or removes a finalizer on a cluster-scoped object (kube/status.ts StatusWriter.setClusterFinalizer). */
  setClusterFinalizer<T extends { metadata?: { name?: string; resourceVersion?: string; finalizers?: string[]; deletionTimestamp?: unknown } }>(
    resource: GatewayApiResource,
    obj: T,
    finalizer: string,
    present: boolean,
  ): Promise<WriteResult<T>>;
}

type RouteCache<T extends AnyRoute> = { readonly resource: GatewayApiResource; readonly cache: Pick<Cache<T>, 'byIndex'> };

export interface GatewayReconcilerDeps extends ReconcilerEnv {
  readonly gateways: Pick<Cache<Gateway>, 'get' | 'byIndex'>;
  readonly gatewayClasses: Pick<Cache<GatewayClass>, 'get'>;
  readonly routes: {
    readonly http?: RouteCache<NonNullable<GatewayRoutes['http']>[number]>;
    readonly grpc?: RouteCache<NonNullable<GatewayRoutes['grpc']>[number]>;
    readonly tls?: RouteCache<NonNullable<GatewayRoutes['tls']>[number]>;
    readonly tcp?: RouteCache<NonNullable<GatewayRoutes['tcp']>[number]>;
    readonly udp?: RouteCache<NonNullable<GatewayRoutes['udp']>[number]>;
  };
  readonly referenceGrants?: Pick<Cache<ReferenceGrant>, 'list'>;
  readonly namespaces: Pick<Cache<V1Namespace>, 'list'>;
  readonly services: Pick<Cache<V1Service>, 'get'>;
  readonly endpointSlices: Pick<Cache<V1EndpointSlice>, 'byIndex'>;
  readonly secrets: Pick<Cache<V1Secret>, 'get'>;
  nodes(): readonly V1Node[];
  /** The providers' Gateway parameters objects (spec.infrastructure.parametersRef, ExtensionRef filters); absent: none is watched, so none is found. */
  readonly gatewayParameters?: GatewayParameterLookup;
  /** Parameters objects attached to backend Services (TargetGroupConfiguration); absent: none is watched. */
  readonly backendParameters?: BackendParameterLookup;
  /** The Opaque Secrets providers' parameters name; absent: not watched. */
  readonly providerSecrets?: Pick<Cache<V1Secret>, 'get'>;
  readonly fresh: OwnWrites<Gateway>;
  /** Routes as lbc's status writes returned them, by `Kind/ns/name`, until the caches catch up. */
  readonly freshRoutes: OwnWrites<AnyRoute>;
  readonly statusWriter: GatewayApiStatusWriter;
  readonly resources: { readonly gateways: GatewayApiResource; readonly gatewayClasses: GatewayApiResource };
  /** The controllerNames served (gateway/controller-names.ts gatewayControllers). */
  readonly controllers: GatewayControllers;
}

export function gatewaySubject(key: string, provider?: string): LogSubject {
  const slash = key.indexOf('/');
  return { kind: 'Gateway', namespace: key.slice(0, slash), name: key.slice(slash + 1), ...(provider !== undefined ? { provider } : {}) };
}

/**
 * Route status writes one Gateway's reconcile makes at once. One at a time, a Gateway's
 * 1000 new routes took a minute of round trips on a real control plane before its load
 * balancer was even ensured (`npm run bench gateway`).
 */
const ROUTE_STATUS_WRITES_IN_FLIGHT = 16;

/** Runs the tasks, at most `limit` at once; every task runs, then the first failure is thrown. */
async function inFlight(tasks: readonly (() => Promise<void>)[], limit: number): Promise<void> {
  let next = 0;
  const failures: unknown[] = [];
  const worker = async (): Promise<void> => {
    while (next < tasks.length) {
      const task = tasks[next++] as () => Promise<void>;
      await task().catch((e: unknown) => void failures.push(e));
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  if (failures.length > 0) throw failures[0];
}

const PENDING = 'the provider has not programmed the load balancer yet (see the Gateway\'s Events)';

export class GatewayReconciler implements LoadBalancerReconciler {
  private readonly lifecycle: LoadBalancerLifecycle<'Gateway'>;
  /** What each Gateway's last build read, so Service, EndpointSlice and Secret news reach it. */
  private readonly uses = new Map<string, { services: Set<string>; secrets: Set<string>; parameters: Set<string> }>();

  constructor(private readonly deps: GatewayReconcilerDeps) {
    this.lifecycle = new LoadBalancerLifecycle({ ...deps, kind: 'Gateway', latest: (key) => deps.fresh.resolve(key, deps.gateways.get(key)), subject: gatewaySubject });
  }

  deferRetry(key: string, atMs: number): void {
    this.lifecycle.deferRetry(key, atMs);
  }

  keysWithInstanceTargets(): string[] {
    return this.lifecycle.keysWithInstanceTargets();
  }

  usesIpTargets(key: string): boolean {
    return this.lifecycle.usesIpTargets(key);
  }

  appliedRecord(key: string): Readonly<AppliedLb> | undefined {
    return this.lifecycle.record(key);
  }

  /** Gateways whose last build read the Service (`ns/name`). */
  gatewaysUsingService(key: string): string[] {
    return [...this.uses].filter(([, u]) => u.services.has(key)).map(([k]) => k);
  }

  /** Gateways whose last build read (or looked for) the Secret (`ns/name`). */
  gatewaysUsingSecret(key: string): string[] {
    return [...this.uses].filter(([, u]) => u.secrets.has(key)).map(([k]) => k);
  }

  /** Gateways whose last build read (or looked for) the parameters object (`Kind/ns/name`), an ExtensionRef's. */
  gatewaysUsingParameters(key: string): string[] {
    return [...this.uses].filter(([, u]) => u.parameters.has(key)).map(([k]) => k);
  }

  async reconcile(key: string, flight: Flight): Promise<Outcome> {
    if (key.startsWith(GATEWAY_CLASS_KEY_PREFIX)) return this.reconcileClass(key.slice(GATEWAY_CLASS_KEY_PREFIX.length));
    const { deps, lifecycle } = this;
    const gw = deps.fresh.resolve(key, deps.gateways.get(key));
    const cls = gw ? deps.gatewayClasses.get(gw.spec?.gatewayClassName ?? '') : undefined;
    const ours = isOurGatewayClass(cls, deps.controllers);
    // A class naming another controller (another lbc install's too, which puts the same
    // finalizer): its Gateways are not this process's to release, unless it served them
    // (the class moved away), as Ingresses addressed elsewhere (LoadBalancerLifecycle.handOver).
    if (gw && cls && !ours && !lifecycle.holds(gw)) return DONE;
    if (!gw || !ours || gw.metadata?.deletionTimestamp) return this.teardown(key, gw, flight);
    const owner = providerOfGatewayClass(cls, deps.config, parameterReaders(deps.providers.all), deps.controllers);
    const provider = owner.ok ? deps.providers.byName(owner.provider) : undefined;
    // As ALBC's config_resolver.go: no Gateway of a class whose configuration cannot be read is materialized.
    const classParams = provider ? gatewayClassParameters(owner, provider, deps.gatewayParameters) : undefined;
    if (!owner.ok || !provider || !classParams?.ok) {
      const message = !owner.ok
        ? `GatewayClass ${cls.metadata?.name ?? ''}: ${owner.message}`
        : !provider
          ? `provider ${owner.provider} is not configured`
          : `GatewayClass ${cls.metadata?.name ?? ''}: ${classParams && !classParams.ok ? classParams.problem : ''}`;
      lifecycle.report(key, [gw], message);
      await this.writeGateway(gw, { accepted: condition(Accepted, false, GatewayReason.Invalid, message, gw.metadata?.generation), listeners: [], attachedRoutes: new Map(), programmed: { kind: 'invalid', message } });
      return DONE;
    }

    const routes = this.candidateRoutes(key);
    const controllerName = cls.spec?.controllerName ?? deps.controllers.own;
    const built = buildGatewayModel({
      ...this.inputs(gw, routes),
      provider,
      className: cls.metadata?.name ?? '',
      clusterName: deps.config.clusterName,
      ...(classParams.parameters ? { classParameters: classParams.parameters } : {}),
      ...(owner.features ? { classFeatures: { controllerName, features: owner.features } } : {}),
    });
    await this.writeRoutes(gw, routes, built.routes, controllerName);
    const spec = built.spec;
    if (!spec) {
      const message =
        built.companions.length > 0
          ? `backends ${built.companions.map((c) => c.key).join(', ')} have no node port, and provider ${provider.name} cannot target pods: give the Services type NodePort`
          : (built.problem ?? 'the Gateway is not valid');
      lifecycle.report(key, [gw], message);
      await this.writeGateway(gw, { ...statusOf(built), programmed: { kind: 'invalid', message } });
      return DONE;
    }
    if (built.problem) lifecycle.report(key, [gw], built.problem);
    else lifecycle.resolved(key);

    const adopted = hasFinalizer(gw, FINALIZER);
    const stale = await lifecycle.replaceStale(key, [gw], provider.name, spec.ref.uid, flight);
    if (stale.kind !== 'done') return stale;
    const ensured = await lifecycle.ensure(key, { objects: [gw], provider, spec, adopted, noticeTargets: routeOfNotice(routes) }, flight);
    if (!ensured.ok) {
      const latest = deps.fresh.resolve(key, deps.gateways.get(key));
      // The provider's refusal when there is one (a regional class without its proxy-only subnet), else still at work.
      if (latest && !latest.metadata?.deletionTimestamp) await this.writeGateway(latest, { ...statusOf(built), programmed: { kind: 'pending', message: ensured.failure ?? PENDING } });
      return ensured.outcome;
    }
    const [current = gw] = ensured.objects;
    const written = await this.writeGateway(current, { ...statusOf(built), programmed: { kind: 'programmed', status: ensured.status } });
    lifecycle.ensured([current], ensured.kind, written, 'Updated load balancer with new targets');
    return DONE;
  }

  /** Routes of every served kind that name the Gateway or carry lbc's status for it. */
  private candidateRoutes(key: string): GatewayRoutes {
    const { routes } = this.deps;
    const of = <T extends AnyRoute>(r: RouteCache<T> | undefined): T[] => (r ? r.cache.byIndex(ROUTE_BY_GATEWAY, key) : []);
    return { http: of(routes.http), grpc: of(routes.grpc), tls: of(routes.tls), tcp: of(routes.tcp), udp: of(routes.udp) };
  }

  private inputs(gw: Gateway, routes: GatewayRoutes): Omit<Parameters<typeof buildGatewayModel>[0], 'provider' | 'className' | 'clusterName'> {
    const { deps } = this;
    const all = [...(routes.http ?? []), ...(routes.grpc ?? []), ...(routes.tls ?? []), ...(routes.tcp ?? []), ...(routes.udp ?? [])];
    const serviceKeys = new Set(all.flatMap(servicesOfRoute));
    const gwNamespace = gw.metadata?.namespace ?? '';
    const secretKeys = new Set(
      (gw.spec?.listeners ?? []).flatMap((l) => (l.tls?.certificateRefs ?? []).filter((r) => (r.kind ?? 'Secret') === 'Secret').map((r) => `${r.namespace ?? gwNamespace}/${r.name}`)),
    );
    const parameterKeys = new Set<string>();
    this.uses.set(keyOf(gw), { services: serviceKeys, secrets: secretKeys, parameters: parameterKeys });
    // The build's reads are recorded as it makes them: what it looked for and did not find too, so its arrival is news.
    const gatewayParameters = deps.gatewayParameters;
    const providerSecrets = deps.providerSecrets;
    const services: V1Service[] = [];
    const endpointSlices: V1EndpointSlice[] = [];
    for (const k of serviceKeys) {
      const svc = deps.services.get(k);
      if (svc) services.push(svc);
      endpointSlices.push(...deps.endpointSlices.byIndex(ENDPOINTSLICE_BY_SERVICE, k));
    }
    return {
      gateway: gw,
      routes,
      referenceGrants: deps.referenceGrants?.list() ?? [],
      namespaces: deps.namespaces.list(),
      services,
      endpointSlices,
      secrets: [...secretKeys].flatMap((k) => deps.secrets.get(k) ?? []),
      nodes: deps.nodes(),
      ...(gatewayParameters
        ? {
            parameters: (kind, namespace, name) => {
              parameterKeys.add(`${kind.kind}/${namespace}/${name}`);
              return gatewayParameters(kind, namespace, name);
            },
          }
        : {}),
      ...(deps.backendParameters ? { backendParameters: deps.backendParameters } : {}),
      ...(providerSecrets
        ? {
            providerSecrets: (namespace, name) => {
              secretKeys.add(`${namespace}/${name}`);
              return providerSecrets.get(`${namespace}/${name}`);
            },
          }
        : {}),
    };
  }

  /** Writes the Gateway's status if it changed; whether it wrote. */
  private async writeGateway(gw: Gateway, want: Parameters<typeof planGatewayStatus>[1]): Promise<boolean> {
    const status = planGatewayStatus(gw, want, new Date());
    if (!status) return false;
    const w = await this.deps.statusWriter.patchGatewayApiStatus(this.deps.resources.gateways, gw, status);
    this.deps.fresh.remember(keyOf(gw), w.object);
    return true;
  }

  /** Each route's entries for this Gateway, as the build says, under its class's `controllerName`; routes that no longer name it lose theirs. */
  private async writeRoutes(gw: Gateway | { metadata: { namespace: string; name: string } }, routes: GatewayRoutes, updates: readonly RouteStatusUpdate[], controllerName = this.deps.controllers.own): Promise<void> {
    const { deps } = this;
    const kinds = [
      [routes.http, deps.routes.http],
      [routes.grpc, deps.routes.grpc],
      [routes.tls, deps.routes.tls],
      [routes.tcp, deps.routes.tcp],
      [routes.udp, deps.routes.udp],
    ] as const;
    const now = new Date();
    const byRoute = new Map(updates.map((u) => [u.route.route, u]));
    const writes: (() => Promise<void>)[] = [];
    for (const [list, cache] of kinds) {
      if (!cache) continue;
      for (const cached of list ?? []) {
        const key = `${cached.kind ?? ''}/${keyOf(cached)}`;
        const route = deps.freshRoutes.resolve(key, cached) ?? cached;
        const parents = planRouteParents(route.status?.parents, route.metadata?.namespace ?? '', gw, byRoute.get(cached)?.parents ?? [], now, { controllerName, names: deps.controllers.names });
        if (!parents) continue;
        writes.push(async () => {
          const w = await deps.statusWriter.patchGatewayApiStatus(cache.resource, route, { parents });
          deps.freshRoutes.remember(key, w.object);
        });
      }
    }
    await inFlight(writes, ROUTE_STATUS_WRITES_IN_FLIGHT);
  }

  private async teardown(key: string, gw: Gateway | undefined, flight: Flight): Promise<Outcome> {
    const leaving = gw && hasFinalizer(gw, FINALIZER) ? [gw] : [];
    const out = await this.lifecycle.teardown(key, { leaving, ref: gw ? gatewayRef(gw) : undefined, why: gw ? 'the Gateway is no longer lbc\'s, or is being deleted' : 'the Gateway is gone' }, flight);
    if (out.kind !== 'done') return out;
    this.uses.delete(key);
    // Routes keep no status from a Gateway lbc does not serve.
    const slash = key.indexOf('/');
    await this.writeRoutes({ metadata: { namespace: key.slice(0, slash), name: key.slice(slash + 1) } }, this.candidateRoutes(key), []);
    return DONE;
  }

  private async reconcileClass(name: string): Promise<Outcome> {
    const { deps } = this;
    const cached = deps.gatewayClasses.get(name);
    if (!isOurGatewayClass(cached, deps.controllers)) return DONE;
    // The class keeps the finalizer while any Gateway names it, being deleted or not: the
    // specification's gateway-exists-finalizer, so the class cannot go from under them.
    // A class already being deleted cannot take a new finalizer (the API server refuses it).
    const inUse = deps.gateways.byIndex(GATEWAY_BY_CLASS, name).length > 0;
    const deleting = cached.metadata?.deletionTimestamp !== undefined;
    const keep = inUse && (!deleting || hasFinalizer(cached, GATEWAY_CLASS_FINALIZER));
    const gc = (await deps.statusWriter.setClusterFinalizer(deps.resources.gatewayClasses, cached, GATEWAY_CLASS_FINALIZER, keep)).object;
    if (deleting) return DONE;
    const owner = providerOfGatewayClass(gc, deps.config, parameterReaders(deps.providers.all), deps.controllers);
    const provider = owner.ok ? deps.providers.byName(owner.provider) : undefined;
    const features = classFeatures(owner, provider);
    const params = provider ? gatewayClassParameters(owner, provider, deps.gatewayParameters) : undefined;
    const status = planGatewayClassStatus(gc, gatewayClassStatus(gc, owner, features, params && !params.ok ? params.problem : undefined), new Date());
    if (status) await deps.statusWriter.patchGatewayApiStatus(deps.resources.gatewayClasses, gc, status);
    return DONE;
  }
}

/** The route a provider notice names, among the Gateway's candidate routes, as an Event's object. */
function routeOfNotice(routes: GatewayRoutes): (n: ProviderNotice) => InvolvedObject[] {
  const byKey = new Map(routeEntries(routes).map((e) => [routeKey(e), e.route]));
  return (n) => {
    const route = n.route ? byKey.get(routeKey(n.route)) : undefined;
    if (!n.route || !route) return [];
    const { uid } = route.metadata ?? {};
    return [{ kind: n.route.kind, ...(route.apiVersion ? { apiVersion: route.apiVersion } : {}), namespace: n.route.namespace, name: n.route.name, ...(uid !== undefined ? { uid } : {}) }];
  };
}

function statusOf(built: GatewayModelResult): Omit<Parameters<typeof planGatewayStatus>[1], 'programmed'> {
  return { accepted: built.accepted, listeners: built.listeners, attachedRoutes: built.attachedRoutes };
}

export type { ProgrammedState, GatewayResourceType };
