// What the controller would do now, without doing it: `lbc plan`. For every object in
// scope it takes the reconcilers' own decisions (ownership, the Ingress group decision,
// the model builders, the companions) and asks the provider for plan(spec) instead of
// ensure(spec); for objects leaving lbc it shows what delete(ref) would remove; and it
// runs the garbage collector's test (isWanted) over every provider's listOwned. The only
// provider calls made are plan, listOwned and the optional planDeletion, all reads.
import type { V1EndpointSlice, V1Ingress, V1IngressClass, V1Namespace, V1Node, V1Pod, V1Secret, V1Service } from '@kubernetes/client-node';
import type { LbcConfig } from '../config/config.js';
import { Cache } from '../kube/cache.js';
import { ENDPOINTSLICE_BY_SERVICE } from '../kube/indexes.js';
import { hasFinalizer } from '../kube/status.js';
import { sameRef, type LbKind, type LbRef } from '../model/ref.js';
import { formatModelError, type ModelError } from '../model/validation.js';
import type { ProviderSet } from '../providers/registry.js';
import type { CallOptions, Change, OwnedLoadBalancer, Provider } from '../providers/types.js';
import { COMPANION_BY_GROUP, companionNodePorts, planCompanions, type CompanionChange } from './companions.js';
import { isWanted } from './garbage-collector.js';
import { restoreAddresses } from './held-addresses.js';
import { buildIngressModel, type IngressModelResult } from './ingress-model.js';
import { readsGkeReferences, type GkeReferences } from './gke-references.js';
import { nameParamsField, type ClassParamsLookups } from './ingress/class-params.js';
import type { AnyRoute, Gateway, GatewayClass, ReferenceGrant } from '../kube/gateway-api.js';
import { buildGatewayModel, gatewayRef } from './gateway-model.js';
import { gatewayClassParameters, type GatewayParameterLookup } from './gateway/infrastructure.js';
import { isOurGatewayClass, parameterReaders, providerOfGatewayClass } from './gateway/gateway-class.js';
import { gatewayControllers } from './gateway/controller-names.js';
import type { BackendParameterLookup } from './gateway/attached-parameters.js';
import { gatewaysOfRoute, routeEntries, type GatewayRoutes } from './gateway/routes.js';
import type { RouteStatusUpdate } from './gateway-model.js';
import { companionRequirements, decideGroup, groupKeyOf, INGRESS_BY_GROUP, ingressCacheIndexers, ingressModelInputs, refOf } from './ingress-reconciler.js';
import { ingressOwnership, serviceOwnership } from '../config/ownership.js';
import { withProbePods, type PodReader } from './probe-pods.js';
import { callProvider, FINALIZER, Flight, keyOf, READY_CONDITION } from './reconcile.js';
import { buildServiceModel } from './service-model.js';

/** Which objects to plan: everything, one namespace, or one named object (kubectl's `svc/name`). */
export type PlanScope =
  | { readonly kind: 'all' }
  | { readonly kind: 'namespace'; readonly namespace: string }
  | { readonly kind: 'object'; readonly namespace: string; readonly objectKind: LbKind; readonly name: string };

/** The caches the controller's informers hold, filled the same way (watched-kinds.ts: same kinds, indexers and selectors). */
export interface PlanInputs {
  readonly config: LbcConfig;
  readonly providers: ProviderSet;
  readonly services: Cache<V1Service>;
  readonly ingresses: Cache<V1Ingress>;
  readonly ingressClasses: readonly V1IngressClass[];
  readonly endpointSlices: Cache<V1EndpointSlice>;
  readonly secrets: Cache<V1Secret>;
  /** The Opaque Secrets providers' annotations name, when a provider reads them (watched-kinds.ts). */
  readonly providerSecrets?: Cache<V1Secret>;
  /** The eligible nodes, as the controller's EligibleNodes computes them at start. */
  readonly nodes: readonly V1Node[];
  /** Reads the Pods whose readiness probes Ingress health checks follow, as the reconciler does (GETs only). */
  readonly pods: PodReader;
  /** Upper bound of one provider call. Default 2 min, as the controller. */
  readonly providerTimeoutMs?: number;
  /** The Gateway API objects, when the cluster serves the Gateway API. */
  readonly gateway?: GatewayPlanInputs;
  /** GKE's BackendConfigs, FrontendConfigs and ManagedCertificates, read as the controller reads them (a gce provider configured). */
  readonly gke?: Pick<GkeReferences, 'resolve'>;
  /** aws-load-balancer-controller's IngressClassParams, read as the controller reads them (an aws provider configured). */
  readonly classParams?: ClassParamsLookups;
}

/** What the Gateway reconciler reads, listed once. */
export interface GatewayPlanInputs {
  readonly gateways: Cache<Gateway>;
  readonly gatewayClasses: Cache<GatewayClass>;
  /** Every route of every served kind. */
  readonly routes: GatewayRoutes;
  readonly referenceGrants: readonly ReferenceGrant[];
  readonly namespaces: readonly V1Namespace[];
  /** The providers' Gateway parameters objects, as the reconciler reads them. */
  readonly parameters?: GatewayParameterLookup;
  /** Those attached to backend Services (TargetGroupConfiguration), by target. */
  readonly backendParameters?: BackendParameterLookup;
}

export type PlanSubject =
  | { readonly kind: 'Service'; readonly namespace: string; readonly name: string }
  /** An Ingress group: `ingress/<ns>/<name>` for a lone Ingress, `group/<name>` for an explicit group. */
  | { readonly kind: 'IngressGroup'; readonly group: string; readonly members: readonly string[] }
  /** A Gateway, with the routes whose parentRefs name it (`HTTPRoute <ns>/<name>`), as an Ingress group lists its members. */
  | { readonly kind: 'Gateway'; readonly namespace: string; readonly name: string; readonly routes: readonly string[] }
  /** A load balancer a provider owns that no live object wants: the garbage collector's. */
  | { readonly kind: 'Orphan'; readonly provider: string; readonly ref: LbRef; readonly id: string }
  /** A provider whose listOwned failed: its orphans are unknown. */
  | { readonly kind: 'Provider'; readonly provider: string };

export type PlanIntent =
  | { readonly kind: 'ensure'; readonly provider: string }
  | { readonly kind: 'delete'; readonly reason: string }
  /** Not lbc's, nothing held: shown only when the object was named. */
  | { readonly kind: 'ignore'; readonly reason: string };

/** One provider's part of an object's plan. */
export interface ProviderChanges {
  readonly provider: string;
  readonly changes: readonly Change[];
}

export type PlanOutcome =
  | {
      readonly kind: 'planned';
      /** Cloud changes, per provider; empty when the cloud is in sync. */
      readonly cloud: readonly ProviderChanges[];
      /** API writes the controller would make besides status: finalizers, companion Services. */
      readonly kube: readonly Change[];
      readonly notes: readonly string[];
    }
  /** Bad input: the controller would report it on the object and change nothing in the cloud. */
  | { readonly kind: 'invalid'; readonly message: string }
  /** The plan could not be computed (a provider or the API failed). */
  | { readonly kind: 'failed'; readonly message: string };

export interface ObjectPlan {
  readonly subject: PlanSubject;
  readonly intent: PlanIntent;
  readonly outcome: PlanOutcome;
}

export interface ClusterPlan {
  readonly objects: readonly ObjectPlan[];
}

/** A provider that can say what delete(ref) would remove (gce does); the others are planned from listOwned. */
interface DeletionPlanner {
  planDeletion(ref: LbRef, opts?: CallOptions): Promise<readonly Change[]>;
}

function canPlanDeletion(p: Provider): p is Provider & DeletionPlanner {
  return typeof (p as Partial<DeletionPlanner>).planDeletion === 'function';
}

export function hasChanges(o: ObjectPlan): boolean {
  return o.outcome.kind === 'planned' && (o.outcome.cloud.some((c) => c.changes.length > 0) || o.outcome.kube.length > 0);
}

/** terraform plan -detailed-exitcode: 0 nothing would change, 2 something would, 1 something could not be planned. */
export function exitCodeOf(plan: ClusterPlan): 0 | 1 | 2 {
  if (plan.objects.some((o) => o.outcome.kind !== 'planned')) return 1;
  return plan.objects.some(hasChanges) ? 2 : 0;
}

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));
const finalizerChange = (op: 'create' | 'delete', kind: string, obj: V1Service | V1Ingress | Gateway): Change => ({ op, resource: 'Finalizer', id: `${kind} ${keyOf(obj)}`, detail: FINALIZER });
const companionChange = (c: CompanionChange): Change => ({
  op: c.op,
  resource: 'Service',
  id: c.service,
  ...(c.fields ? { fields: c.fields } : {}),
  detail: `companion NodePort Service for backend ${c.backend}`,
});
const invalidMessage = (errors: readonly ModelError[], object: string): string => errors.map((e) => formatModelError(e.object ? e : { ...e, object })).join('; ');

class Planner {
  private readonly timeoutMs: number;
  private readonly owned = new Map<string, Promise<readonly OwnedLoadBalancer[]>>();

  constructor(private readonly inputs: PlanInputs) {
    this.timeoutMs = inputs.providerTimeoutMs ?? 120_000;
  }

  private call<T>(provider: Provider, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    return callProvider(provider.name, new Flight(), this.timeoutMs, fn);
  }

  /** listOwned once per provider per plan; both deletions and orphans read it. */
  private listOwned(p: Provider): Promise<readonly OwnedLoadBalancer[]> {
    let list = this.owned.get(p.name);
    if (!list) {
      list = this.call(p, (signal) => p.listOwned({ signal }));
      list.catch(() => {});
      this.owned.set(p.name, list);
    }
    return list;
  }

  /** What delete(ref) on each candidate would remove. */
  private async deletion(ref: LbRef, candidates: readonly Provider[]): Promise<ProviderChanges[]> {
    const out: ProviderChanges[] = [];
    for (const p of candidates) {
      let changes: readonly Change[];
      if (canPlanDeletion(p)) {
        changes = await this.call(p, (signal) => p.planDeletion(ref, { signal }));
      } else {
        // The contract has no plan for delete: listOwned says whether the provider holds anything for ref.
        changes = (await this.listOwned(p))
          .filter((o) => sameRef(o.ref, ref))
          .map((o): Change => ({ op: 'delete', resource: 'LoadBalancer', id: o.id, detail: 'with everything the provider tagged for it' }));
      }
      if (changes.length > 0) out.push({ provider: p.name, changes });
    }
    return out;
  }

  async service(svc: V1Service, named: boolean): Promise<ObjectPlan | undefined> {
    const { config, providers } = this.inputs;
    const subject: PlanSubject = { kind: 'Service', namespace: svc.metadata?.namespace ?? '', name: svc.metadata?.name ?? '' };
    const own = serviceOwnership(svc, config);
    // Addressed to another controller: the controller leaves it alone, whatever finalizer it carries (ownership.ts).
    if (!own.ours && own.whose === 'another') return named ? { subject, intent: { kind: 'ignore', reason: `not lbc's: ${own.reason}` }, outcome: planned([], []) } : undefined;
    if (!own.ours || svc.metadata?.deletionTimestamp) {
      if (!hasFinalizer(svc, FINALIZER)) return named ? { subject, intent: { kind: 'ignore', reason: own.ours ? 'being deleted, without lbc\'s finalizer' : `not lbc's: ${own.reason}` }, outcome: planned([], []) } : undefined;
      const reason = own.ours ? 'the Service is being deleted' : `no longer lbc's: ${own.reason}`;
      const ref: LbRef = { kind: 'Service', namespace: subject.namespace, name: subject.name, uid: svc.metadata?.uid ?? '' };
      try {
        // Which provider holds it is known only to the process that created it: ask them all, as a restarted controller does.
        const cloud = await this.deletion(ref, providers.all);
        const kube = [
          ...(svc.metadata?.deletionTimestamp ? [] : [{ op: 'update' as const, resource: 'Status', id: `Service ${keyOf(svc)}`, detail: `clear status.loadBalancer and ${READY_CONDITION}` }]),
          finalizerChange('delete', 'Service', svc),
        ];
        return { subject, intent: { kind: 'delete', reason }, outcome: planned(cloud, kube) };
      } catch (e) {
        return { subject, intent: { kind: 'delete', reason }, outcome: { kind: 'failed', message: message(e) } };
      }
    }
    const intent: PlanIntent = { kind: 'ensure', provider: own.provider };
    const provider = providers.byName(own.provider);
    if (!provider) return { subject, intent, outcome: { kind: 'failed', message: `provider ${own.provider} is not configured` } };
    const built = buildServiceModel({
      service: svc,
      nodes: this.inputs.nodes,
      endpointSlices: this.inputs.endpointSlices.byIndex(ENDPOINTSLICE_BY_SERVICE, keyOf(svc)),
      provider,
      className: own.className,
      clusterName: config.clusterName,
    });
    if (!built.ok) return { subject, intent, outcome: { kind: 'invalid', message: invalidMessage(built.errors, `Service ${keyOf(svc)}`) } };
    try {
      const changes = await this.call(provider, (signal) => provider.plan(built.spec, { signal }));
      const kube = hasFinalizer(svc, FINALIZER) ? [] : [finalizerChange('create', 'Service', svc)];
      return { subject, intent, outcome: planned([{ provider: provider.name, changes }], kube) };
    } catch (e) {
      return { subject, intent, outcome: { kind: 'failed', message: message(e) } };
    }
  }

  async ingressGroup(groupKey: string, named: boolean): Promise<ObjectPlan | undefined> {
    const { config, providers, ingresses, services } = this.inputs;
    const params = this.inputs.classParams;
    const members = ingresses
      .indexKeys(INGRESS_BY_GROUP, groupKey)
      .sort()
      .flatMap((k) => ingresses.get(k) ?? [])
      .filter((ing) => groupKeyOf(ing, params) === groupKey);
    const subject: PlanSubject = { kind: 'IngressGroup', group: groupKey, members: members.map(keyOf) };
    const decision = decideGroup(members, this.inputs.ingressClasses, config, params);
    if (decision.kind === 'misconfigured') {
      return { subject, intent: { kind: 'ignore', reason: 'misconfigured: lbc keeps its load balancer as it is' }, outcome: { kind: 'invalid', message: decision.message } };
    }
    const release = (ings: readonly V1Ingress[]): Change[] =>
      ings.flatMap((ing) => [
        ...(ing.metadata?.deletionTimestamp ? [] : [{ op: 'update' as const, resource: 'Status', id: `Ingress ${keyOf(ing)}`, detail: 'clear status.loadBalancer' }]),
        finalizerChange('delete', 'Ingress', ing),
      ]);
    if (decision.kind === 'teardown') {
      const prune = planCompanions(services, groupKey, [], [], new Set()).map(companionChange);
      const first = members[0];
      if (decision.leaving.length === 0 && prune.length === 0) {
        if (!named || !first) return undefined;
        const own = ingressOwnership(first, this.inputs.ingressClasses, config);
        return { subject, intent: { kind: 'ignore', reason: own.ours ? 'being deleted, without lbc\'s finalizer' : `not lbc's: ${own.reason}` }, outcome: planned([], []) };
      }
      const intent: PlanIntent = { kind: 'delete', reason: 'no member of the group is lbc\'s any more, or all are being deleted' };
      const ref = refOf(groupKey, decision.leaving[0]);
      try {
        const cloud = ref && decision.leaving.length > 0 ? await this.deletion(ref, providers.all) : [];
        return { subject, intent, outcome: planned(cloud, [...prune, ...release(decision.leaving)]) };
      } catch (e) {
        return { subject, intent, outcome: { kind: 'failed', message: message(e) } };
      }
    }

    const { first, mine, foreign, leaving } = decision;
    const intent: PlanIntent = { kind: 'ensure', provider: first.provider };
    const provider = providers.byName(first.provider);
    if (!provider) return { subject, intent, outcome: { kind: 'failed', message: `provider ${first.provider} is not configured` } };
    const group = mine.map((m) => m.ing);
    const build = (pods?: readonly V1Pod[]): IngressModelResult =>
      buildIngressModel({
        // As the reconciler: the members as their classes' params make them.
        ...ingressModelInputs(
          mine.map((m) => m.effective),
          { ...this.inputs, nodes: () => this.inputs.nodes },
        ),
        provider,
        className: first.className,
        clusterName: config.clusterName,
        companionNodePorts: companionNodePorts(services.byIndex(COMPANION_BY_GROUP, groupKey)),
        ...(pods ? { pods } : {}),
      });
    let built: IngressModelResult;
    try {
      // Health checks follow the backing Pods' readiness probes: read them as the reconciler does.
      built = await withProbePods(build(), build, this.inputs.pods);
    } catch (e) {
      return { subject, intent, outcome: { kind: 'failed', message: message(e) } };
    }
    if (!built.ok && built.reason === 'invalid') {
      const object = group.length === 1 ? `Ingress ${keyOf(group[0] ?? {})}` : `Ingress group ${groupKey}`;
      const errors = built.errors.map((e) => nameParamsField(e, mine.map((m) => m.effective)));
      return { subject, intent, outcome: { kind: 'invalid', message: invalidMessage(errors, object) } };
    }
    const notes = [
      ...(foreign.length > 0 ? [`left out of the load balancer: ${decision.foreignMessage}`] : []),
      ...decision.refused.map((r) => `left out of the load balancer: Ingress ${keyOf(r.ing)}: ${r.errors.map(formatModelError).join('; ')}`),
      ...mine.flatMap((m) => m.paramsWarnings),
      // Whether lbc's finalizer on them is this instance's is known only to the controller that served them (LoadBalancerLifecycle.handOver).
      ...(decision.elsewhere.length > 0 ? [`addressed to another controller, left alone: ${decision.elsewhere.map((i) => `Ingress ${keyOf(i)}`).join(', ')}`] : []),
    ];
    try {
      const keep = new Set(built.backends.filter((b) => b.via === 'companionNodePort').map((b) => b.key));
      const companions = planCompanions(services, groupKey, group, companionRequirements(built.backends, services), keep).map(companionChange);
      const kube = [...group.filter((i) => !hasFinalizer(i, FINALIZER)).map((i) => finalizerChange('create', 'Ingress', i)), ...companions, ...release(leaving)];
      if (!built.ok) {
        // The API server allocates the companions' node ports when they are created; the target groups depend on them.
        const wanted = built.companions.map((c) => c.key).join(', ');
        return { subject, intent, outcome: planned([], kube, [...notes, `the load balancer itself is planned once the companion Services for ${wanted} exist and have node ports`]) };
      }
      let spec = built.spec;
      if (this.inputs.gke && readsGkeReferences(provider)) {
        // As the reconciler: a missing BackendConfig, FrontendConfig, ManagedCertificate or IAP Secret stops the Ingress.
        const refs = await this.inputs.gke.resolve(group, spec);
        if (!refs.ok) return { subject, intent, outcome: { kind: 'invalid', message: refs.message } };
        spec = refs.spec;
      }
      const changes = await this.call(provider, (signal) => provider.plan(spec, { signal }));
      return { subject, intent, outcome: planned([{ provider: provider.name, changes }], kube, notes) };
    } catch (e) {
      return { subject, intent, outcome: { kind: 'failed', message: message(e) } };
    }
  }

  /** A Gateway as the Gateway reconciler would take it: its load balancer's changes, or why it is invalid. */
  async gateway(gw: Gateway, named: boolean): Promise<ObjectPlan | undefined> {
    const { config, providers } = this.inputs;
    const g = this.inputs.gateway;
    if (!g) return undefined;
    const key = keyOf(gw);
    const controllers = gatewayControllers(config, providers.all);
    const naming = <T extends AnyRoute>(list: readonly T[] | undefined): T[] => (list ?? []).filter((r) => gatewaysOfRoute(r, controllers.names).includes(key));
    const routes: GatewayRoutes = { http: naming(g.routes.http), grpc: naming(g.routes.grpc), tls: naming(g.routes.tls), tcp: naming(g.routes.tcp), udp: naming(g.routes.udp) };
    const subject: PlanSubject = {
      kind: 'Gateway',
      namespace: gw.metadata?.namespace ?? '',
      name: gw.metadata?.name ?? '',
      routes: routeEntries(routes).map((r) => `${r.kind} ${r.namespace}/${r.name}`),
    };
    const cls = g.gatewayClasses.get(gw.spec?.gatewayClassName ?? '');
    const held = hasFinalizer(gw, FINALIZER);
    try {
      if (!isOurGatewayClass(cls, controllers) || gw.metadata?.deletionTimestamp) {
        if (!held) return named ? { subject, intent: { kind: 'ignore', reason: `GatewayClass ${gw.spec?.gatewayClassName ?? ''} is not lbc's` }, outcome: planned([], []) } : undefined;
        const intent: PlanIntent = { kind: 'delete', reason: gw.metadata?.deletionTimestamp ? 'the Gateway is being deleted' : "the Gateway's class is not lbc's" };
        return { subject, intent, outcome: planned(await this.deletion(gatewayRef(gw), providers.all), [finalizerChange('delete', 'Gateway', gw)]) };
      }
      const owner = providerOfGatewayClass(cls, config, parameterReaders(providers.all), controllers);
      const provider = owner.ok ? providers.byName(owner.provider) : undefined;
      if (!owner.ok || !provider) return { subject, intent: { kind: 'ignore', reason: 'misconfigured' }, outcome: { kind: 'invalid', message: owner.ok ? `provider ${owner.provider} is not configured` : owner.message } };
      const classParams = gatewayClassParameters(owner, provider, g.parameters);
      if (!classParams.ok) return { subject, intent: { kind: 'ignore', reason: 'misconfigured' }, outcome: { kind: 'invalid', message: `GatewayClass ${cls.metadata?.name ?? ''}: ${classParams.problem}` } };
      const intent: PlanIntent = { kind: 'ensure', provider: provider.name };
      const built = buildGatewayModel({
        gateway: gw,
        routes,
        referenceGrants: g.referenceGrants,
        ...(g.parameters ? { parameters: g.parameters } : {}),
        ...(g.backendParameters ? { backendParameters: g.backendParameters } : {}),
        ...(this.inputs.providerSecrets ? { providerSecrets: (namespace: string, name: string) => this.inputs.providerSecrets?.get(`${namespace}/${name}`) } : {}),
        namespaces: g.namespaces,
        services: this.inputs.services.list(),
        endpointSlices: this.inputs.endpointSlices.list(),
        secrets: this.inputs.secrets.list(),
        nodes: this.inputs.nodes,
        provider,
        className: cls.metadata?.name ?? '',
        clusterName: config.clusterName,
        ...(classParams.parameters ? { classParameters: classParams.parameters } : {}),
        ...(owner.features ? { classFeatures: { controllerName: cls.spec?.controllerName ?? '', features: owner.features } } : {}),
      });
      if (!built.spec) return { subject, intent, outcome: { kind: 'invalid', message: built.problem ?? 'backends need node ports the provider cannot do without' } };
      const spec = built.spec;
      const kube = held ? [] : [finalizerChange('create', 'Gateway', gw)];
      const changes = await this.call(provider, (signal) => provider.plan(spec, { signal }));
      return { subject, intent, outcome: planned([{ provider: provider.name, changes }], kube, [...(built.problem ? [built.problem] : []), ...built.routes.flatMap(routeNotes)]) };
    } catch (e) {
      return { subject, intent: { kind: 'ignore', reason: 'failed' }, outcome: { kind: 'failed', message: message(e) } };
    }
  }

  /** The garbage collector's sweep, as a plan: what listOwned returns that no live object wants. */
  async orphans(scope: PlanScope): Promise<ObjectPlan[]> {
    const { config, providers } = this.inputs;
    const g = this.inputs.gateway;
    const lookups = {
      config,
      services: this.inputs.services,
      ingresses: this.inputs.ingresses,
      ingressClasses: { list: () => [...this.inputs.ingressClasses] },
      ...(this.inputs.classParams ? { classParams: this.inputs.classParams } : {}),
      gateway: () => (g ? { gateways: g.gateways, gatewayClasses: g.gatewayClasses } : undefined),
      parameterReaders: parameterReaders(providers.all),
      gatewayControllers: gatewayControllers(config, providers.all),
    };
    const out: ObjectPlan[] = [];
    for (const p of providers.all) {
      let owned: readonly OwnedLoadBalancer[];
      try {
        owned = await this.listOwned(p);
      } catch (e) {
        out.push({
          subject: { kind: 'Provider', provider: p.name },
          intent: { kind: 'delete', reason: 'garbage collection' },
          outcome: { kind: 'failed', message: `provider ${p.name} could not list what it owns: ${message(e)}` },
        });
        continue;
      }
      for (const { ref, id } of owned) {
        if (!refInScope(ref, scope) || isWanted(ref, p.name, lookups)) continue;
        const subject: PlanSubject = { kind: 'Orphan', provider: p.name, ref, id };
        const intent: PlanIntent = { kind: 'delete', reason: 'no live object wants it (garbage collection)' };
        const off =
          config.gc.dryRun ? 'gc.dryRun is set: the garbage collector only logs it' : config.gc.intervalMs === 0 ? 'gc.interval is 0: the garbage collector does not run' : undefined;
        if (off) {
          out.push({ subject, intent, outcome: planned([], [], [off]) });
          continue;
        }
        try {
          out.push({ subject, intent, outcome: planned(await this.deletion(ref, [p]), []) });
        } catch (e) {
          out.push({ subject, intent, outcome: { kind: 'failed', message: message(e) } });
        }
      }
    }
    return out;
  }
}

/** A route the Gateway does not fully take, as its status will say: which condition is not True, and why. */
function routeNotes(u: RouteStatusUpdate): string[] {
  const off = u.parents.flatMap((p) => p.conditions.filter((c) => c.status !== 'True').map((c) => `${c.type} ${c.status} (${c.reason}${c.message ? `: ${c.message}` : ''})`));
  return off.length > 0 ? [`${u.route.kind} ${u.route.namespace}/${u.route.name}: ${[...new Set(off)].join('; ')}`] : [];
}

function planned(cloud: readonly ProviderChanges[], kube: readonly Change[], notes: readonly string[] = []): PlanOutcome {
  return { kind: 'planned', cloud, kube, notes };
}

function inScope(obj: { metadata?: { namespace?: string; name?: string } }, kind: LbKind, scope: PlanScope): boolean {
  switch (scope.kind) {
    case 'all':
      return true;
    case 'namespace':
      return obj.metadata?.namespace === scope.namespace;
    case 'object':
      return scope.objectKind === kind && obj.metadata?.namespace === scope.namespace && obj.metadata.name === scope.name;
  }
}

/** Explicit Ingress groups span namespaces (their ref has none): only an unscoped plan shows their orphans. */
function refInScope(ref: LbRef, scope: PlanScope): boolean {
  return inScope({ metadata: { namespace: ref.namespace, name: ref.name } }, ref.kind, scope);
}

/** The listed Ingresses filed again with the group index that reads the class params, as the controller's informer files them. */
function regrouped(listed: Cache<V1Ingress>, providers: ProviderSet, params: ClassParamsLookups): Cache<V1Ingress> {
  const c = new Cache<V1Ingress>(ingressCacheIndexers(providers, params));
  for (const ing of listed.list()) c.set(ing);
  return c;
}

/** Services first, then Ingress groups, then Gateways, then orphans, each in key order. */
export async function planCluster(given: PlanInputs, scope: PlanScope = { kind: 'all' }): Promise<ClusterPlan> {
  const inputs = given.classParams ? { ...given, ingresses: regrouped(given.ingresses, given.providers, given.classParams) } : given;
  // As the controller does at start: the providers that hand addresses out learn which
  // ones the Services hold, so that the plan keeps them as a restarted controller would.
  await restoreAddresses(
    inputs.providers,
    { services: inputs.services.list(), ingresses: inputs.ingresses.list(), ingressClasses: inputs.ingressClasses, ...(inputs.classParams ? { classParams: inputs.classParams } : {}) },
    inputs.config,
  );
  const planner = new Planner(inputs);
  const named = scope.kind === 'object';
  const objects: ObjectPlan[] = [];
  const services = inputs.services
    .list()
    .filter((s) => inScope(s, 'Service', scope))
    .sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : 1));
  for (const svc of services) {
    const p = await planner.service(svc, named);
    if (p) objects.push(p);
  }
  const groups = [...new Set(inputs.ingresses.list().filter((i) => inScope(i, 'Ingress', scope)).map((i) => groupKeyOf(i, inputs.classParams)))].sort();
  for (const g of groups) {
    const p = await planner.ingressGroup(g, named);
    if (p) objects.push(p);
  }
  const gateways = (inputs.gateway?.gateways.list() ?? []).filter((gw) => inScope(gw, 'Gateway', scope)).sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : 1));
  for (const gw of gateways) {
    const p = await planner.gateway(gw, named);
    if (p) objects.push(p);
  }
  const exists = (key: string): boolean =>
    scope.kind === 'object' &&
    (scope.objectKind === 'Service' ? inputs.services.has(key) : scope.objectKind === 'Ingress' ? inputs.ingresses.has(key) : (inputs.gateway?.gateways.has(key) ?? false));
  if (scope.kind === 'object' && objects.length === 0 && !exists(`${scope.namespace}/${scope.name}`)) {
    const subject: PlanSubject =
      scope.objectKind === 'Service'
        ? { kind: 'Service', namespace: scope.namespace, name: scope.name }
        : scope.objectKind === 'Ingress'
          ? { kind: 'IngressGroup', group: `ingress/${scope.namespace}/${scope.name}`, members: [] }
          : { kind: 'Gateway', namespace: scope.namespace, name: scope.name, routes: [] };
    const orphans = await planner.orphans(scope);
    // A name with no object may still have an orphaned load balancer; only both missing is an error.
    if (orphans.length === 0) return { objects: [{ subject, intent: { kind: 'ignore', reason: 'not found' }, outcome: { kind: 'failed', message: `${scope.objectKind} ${scope.namespace}/${scope.name} not found` } }] };
    return { objects: orphans };
  }
  objects.push(...(await planner.orphans(scope)));
  return { objects };
}
