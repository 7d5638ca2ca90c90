// Reconciles one Ingress group (a single Ingress, or every Ingress sharing a
// group.name) into one L7 load balancer: finalizers on the members, companion
// NodePort Services where the backends need them, the provider, each member's status,
// and Events. Members that leave the group (deleted, class changed, group changed)
// keep their finalizer until the load balancer no longer routes for them.
import type { V1EndpointSlice, V1Ingress, V1IngressClass, V1Node, V1Pod, V1Secret, V1Service } from '@kubernetes/client-node';
import type { Cache, IndexFunc } from '../kube/cache.js';
import { ENDPOINTSLICE_BY_SERVICE, INGRESS_BY_TLS_SECRET, ingressByBackendService, ingressByTLSSecret, ingressIndexers } from '../kube/indexes.js';
import { providerSecretKeys } from './ingress/provider-secrets.js';
import { hasFinalizer } from '../kube/status.js';
import { ingressGroupRef, type LbRef } from '../model/ref.js';
import { formatModelError, type ModelError } from '../model/validation.js';
import type { ProviderSet } from '../providers/registry.js';
import type { CompanionRequirement, Companions } from './companions.js';
import { certificatesSettled, INGRESS_BY_GKE_CONFIG, ingressByGkeConfig, readsGkeReferences, type GkeReferences } from './gke-references.js';
import { BackendTargets, ClassParamsRefused, HostClaimRefused, HostClaimRepelled } from './events.js';
import { nameParamsField, resolveClassParams, withParamsGroup, type ClassParamsLookups } from './ingress/class-params.js';
import { NegStatus } from './neg-status.js';
import { actionServicesOf, buildIngressModel, ingressGroupOf, type BackendDecision, type IngressModelInput, type IngressModelResult, type RefusedClaim } from './ingress-model.js';
import { LoadBalancerLifecycle } from './load-balancer-lifecycle.js';
import { ingressOwnership, type OwnershipConfig } from '../config/ownership.js';
import { withProbePods, type PodReader } from './probe-pods.js';
import type { OwnWrites } from './own-writes.js';
import {
  DONE,
  FINALIZER,
  ingressSubject,
  keyOf,
  toLoadBalancerIngress,
  type AppliedLb,
  type Flight,
  type LoadBalancerReconciler,
  type Outcome,
  type ReconcilerEnv,
} from './reconcile.js';

export const INGRESS_BY_GROUP = 'byLoadBalancerGroup';

/**
 * The queue key of the load balancer an Ingress belongs to; its own when its group
 * annotation is unreadable. With `params`, the group its class's IngressClassParams name
 * comes first (ALBC group_loader.go loadGroupID).
 */
export function groupKeyOf(ing: V1Ingress, params?: ClassParamsLookups): string {
  const g = ingressGroupOf(withParamsGroup(ing, params));
  return g.ok ? g.group.key : `ingress/${ing.metadata?.namespace ?? ''}/${ing.metadata?.name ?? ''}`;
}

/** groupKeyOf with the class params lbc reads, if any, as a function of the Ingress alone. */
export type GroupKeyOf = (ing: V1Ingress) => string;

export const groupKeysWith = (params: ClassParamsLookups | undefined): GroupKeyOf => (ing) => groupKeyOf(ing, params);

/** The Services an Ingress routes to as `namespace/name` keys: its backends, and its annotation actions' as the providers read them. */
export function backendServicesOf(providers: Pick<ProviderSet, 'all'>): IndexFunc<V1Ingress> {
  return ingressByBackendService(referencedServicesOf(providers));
}

/**
 * Services an Ingress uses besides its backends: its annotation actions', and, when it has
 * no defaultBackend, the providers' system default backends (`namespace/name`), so that
 * such a Service appearing or changing brings the Ingress back.
 */
function referencedServicesOf(providers: Pick<ProviderSet, 'all'>): (ing: V1Ingress) => string[] {
  const actions = actionServicesOf(providers.all);
  const defaults = providers.all.flatMap((p) => {
    const d = p.capabilities.systemDefaultBackend;
    return d ? [`${d.namespace}/${d.service}`] : [];
  });
  return (ing) => [...actions(ing), ...(ing.spec?.defaultBackend ? [] : defaults)];
}

/** The indexes of the Ingress cache (the controller's informer, lbc plan's list): kube's, with the providers' actions, and by group. */
export function ingressCacheIndexers(providers: Pick<ProviderSet, 'all'>, params?: ClassParamsLookups): Record<string, IndexFunc<V1Ingress>> {
  // By Secret: the TLS ones, and those the providers' annotations name (AWS OIDC clients), so either's change re-queues the group.
  const bySecret: IndexFunc<V1Ingress> = (ing) => [...new Set([...ingressByTLSSecret(ing), ...providers.all.flatMap((p) => providerSecretKeys(p, ing))])];
  return { ...ingressIndexers(referencedServicesOf(providers)), [INGRESS_BY_GROUP]: (ing) => [groupKeyOf(ing, params)], [INGRESS_BY_TLS_SECRET]: bySecret, [INGRESS_BY_GKE_CONFIG]: ingressByGkeConfig };
}

export function isIngressGroupKey(key: string): boolean {
  return key.startsWith('ingress/') || key.startsWith('group/');
}

/** The LB ref of a group key when no record says it, given one of its (former) members. */
export function refOf(groupKey: string, member: V1Ingress | undefined): LbRef | undefined {
  if (groupKey.startsWith('group/')) return ingressGroupRef(groupKey.slice('group/'.length));
  const uid = member?.metadata?.uid;
  if (!member || !uid) return undefined;
  return { kind: 'Ingress', namespace: member.metadata?.namespace ?? '', name: member.metadata?.name ?? '', uid };
}

export interface IngressReconcilerDeps extends ReconcilerEnv {
  readonly ingresses: Pick<Cache<V1Ingress>, 'get' | 'indexKeys'>;
  readonly ingressClasses: Pick<Cache<V1IngressClass>, 'list'>;
  readonly services: Pick<Cache<V1Service>, 'get'>;
  readonly endpointSlices: Pick<Cache<V1EndpointSlice>, 'byIndex'>;
  readonly secrets: Pick<Cache<V1Secret>, 'get'>;
  readonly providerSecrets?: Pick<Cache<V1Secret>, 'get'> | undefined;
  nodes(): readonly V1Node[];
  readonly fresh: OwnWrites<V1Ingress>;
  readonly companions: Companions;
  /** Reads the Pods whose readiness probes the health checks may follow. */
  readonly pods: PodReader;
  /** GKE's BackendConfigs, FrontendConfigs and ManagedCertificates, where a gce provider is configured. */
  readonly gke?: Pick<GkeReferences, 'resolve' | 'writeStatus'>;
  /** aws-load-balancer-controller's IngressClassParams, where an aws provider is configured. */
  readonly classParams?: ClassParamsLookups;
  /** How soon a load balancer whose managed certificates are still being provisioned is read again. Default 1 min. */
  readonly certificateRecheckMs?: number;
}

/** The Event reason of an annotation lbc does not implement (the gce provider's, for those on its objects). */
const UnsupportedAnnotation = 'UnsupportedAnnotation';
/** The Event reason of an IngressClassParams field lbc does not implement. */
const UnimplementedParams = 'UnsupportedIngressClassParams';

export interface LiveMember {
  readonly ing: V1Ingress;
  readonly provider: string;
  readonly className: string;
  /** The Ingress as its class's IngressClassParams make it (ing itself without params): what the model builder reads. */
  readonly effective: V1Ingress;
  /** Params fields lbc does not implement: Warnings. */
  readonly paramsWarnings: readonly string[];
}

/** A member its class's IngressClassParams refuse (namespace not selected, a field lbc will not do without). */
export interface RefusedMember {
  readonly ing: V1Ingress;
  readonly errors: readonly ModelError[];
}

/** Where no IngressClassParams are read (no aws provider): a class that names them cannot be served as they say. */
const NO_CLASS_PARAMS: ClassParamsLookups = {
  classes: () => [],
  params: () => undefined,
  unavailable: () => 'lbc reads IngressClassParams only for an aws provider',
  namespaceLabels: () => undefined,
};

/**
 * What a group's members ask of lbc, before anything is written: the reconciler acts on
 * it and `lbc plan` reports it. Pure.
 */
export type GroupDecision =
  /**
   * A member is addressed to lbc but names no usable provider, or IngressClassParams that
   * cannot be read (`retry`: they may appear): the LB stays as it is.
   */
  | { readonly kind: 'misconfigured'; readonly problems: readonly { readonly ing: V1Ingress; readonly message: string }[]; readonly message: string; readonly retry: boolean }
  /** No member wants the LB any more; `leaving` still hold the finalizer. */
  | { readonly kind: 'teardown'; readonly leaving: readonly V1Ingress[]; readonly elsewhere: readonly V1Ingress[]; readonly refused: readonly RefusedMember[] }
  | {
      readonly kind: 'serve';
      /** Members their class's params refuse: left out (released if they held the finalizer) and told why. */
      readonly refused: readonly RefusedMember[];
      /** The first live member decides the provider and class for the group. */
      readonly first: LiveMember;
      readonly mine: readonly LiveMember[];
      /** Members that select another provider: left out of the LB and reported. */
      readonly foreign: readonly LiveMember[];
      readonly foreignMessage: string;
      readonly leaving: readonly V1Ingress[];
      /**
       * Members addressed to another controller that carry lbc's finalizer: not lbc's to
       * release (another lbc instance may have put it there), only to hand over if this
       * process served them (LoadBalancerLifecycle.handOver).
       */
      readonly elsewhere: readonly V1Ingress[];
    };

export function decideGroup(members: readonly V1Ingress[], classes: readonly V1IngressClass[], config: OwnershipConfig, params?: ClassParamsLookups): GroupDecision {
  const live: LiveMember[] = [];
  const leaving: V1Ingress[] = [];
  const elsewhere: V1Ingress[] = [];
  const refused: RefusedMember[] = [];
  const problems: { ing: V1Ingress; message: string }[] = [];
  let retry = false;
  const lookups: ClassParamsLookups = params ?? { ...NO_CLASS_PARAMS, classes: () => classes };
  for (const ing of members) {
    const own = ingressOwnership(ing, classes, config);
    if (!own.ours && own.whose === 'another') {
      if (hasFinalizer(ing, FINALIZER)) elsewhere.push(ing);
    } else if (ing.metadata?.deletionTimestamp || !own.ours) {
      if (hasFinalizer(ing, FINALIZER)) leaving.push(ing);
    } else if (own.provider === null) {
      problems.push({ ing, message: own.reason });
    } else {
      const p = resolveClassParams(ing, lookups);
      if (p.kind === 'missing') {
        // As ALBC's class loader, an error: nothing is built, the LB stays as it is, and the key is retried.
        problems.push({ ing, message: p.message });
        retry = true;
      } else if (p.kind === 'refused') {
        refused.push({ ing, errors: p.errors });
        if (hasFinalizer(ing, FINALIZER)) leaving.push(ing);
      } else {
        const effective = p.kind === 'applied' ? p.ingress : ing;
        live.push({ ing, provider: own.provider, className: own.className, effective, paramsWarnings: p.kind === 'applied' ? p.warnings : [] });
      }
    }
  }
  if (problems.length > 0) return { kind: 'misconfigured', problems, message: problems.map((p) => `Ingress ${keyOf(p.ing)}: ${p.message}`).join('; '), retry };
  const first = live[0];
  if (!first) return { kind: 'teardown', leaving, elsewhere, refused };
  const foreign = live.filter((m) => m.provider !== first.provider);
  return {
    kind: 'serve',
    first,
    mine: live.filter((m) => m.provider === first.provider),
    foreign,
    foreignMessage: foreign
      .map((m) => `Ingress ${keyOf(m.ing)} selects provider ${m.provider}, but its group is served by ${first.provider} (from Ingress ${keyOf(first.ing)})`)
      .join('; '),
    leaving,
    elsewhere,
    refused,
  };
}

/** The objects buildIngressModel reads for a group, minus the provider and class. */
export type IngressGroupInputs = Pick<IngressModelInput, 'ingresses' | 'services' | 'endpointSlices' | 'secrets' | 'nodes'>;

export interface IngressInputLookups {
  /** Whose reading of annotation actions names Services besides the backends. */
  readonly providers: Pick<ProviderSet, 'all'>;
  readonly services: Pick<Cache<V1Service>, 'get'>;
  readonly endpointSlices: Pick<Cache<V1EndpointSlice>, 'byIndex'>;
  readonly secrets: Pick<Cache<V1Secret>, 'get'>;
  /** The Opaque Secrets providers' annotations name (watched-kinds.ts providerSecrets), when watched. */
  readonly providerSecrets?: Pick<Cache<V1Secret>, 'get'> | undefined;
  nodes(): readonly V1Node[];
}

/** The backend Services, their EndpointSlices and the TLS Secrets the members name, from the caches. */
export function ingressModelInputs(ingresses: readonly V1Ingress[], l: IngressInputLookups): IngressGroupInputs {
  const serviceKeys = new Set(ingresses.flatMap(backendServicesOf(l.providers)));
  const secretKeys = new Set(ingresses.flatMap(ingressByTLSSecret));
  const providerKeys = new Set<string>();
  for (const p of l.providers.all) for (const ing of ingresses) for (const k of providerSecretKeys(p, ing)) providerKeys.add(k);
  const services: V1Service[] = [];
  const endpointSlices: V1EndpointSlice[] = [];
  for (const k of serviceKeys) {
    const svc = l.services.get(k);
    if (svc) services.push(svc);
    endpointSlices.push(...l.endpointSlices.byIndex(ENDPOINTSLICE_BY_SERVICE, k));
  }
  for (const p of l.providers.all) for (const svc of services) for (const k of providerSecretKeys(p, svc)) providerKeys.add(k);
  const secrets = [...[...secretKeys].flatMap((k) => l.secrets.get(k) ?? []), ...[...providerKeys].flatMap((k) => l.providerSecrets?.get(k) ?? [])];
  return { ingresses, services, endpointSlices, secrets, nodes: l.nodes() };
}

/** The companion NodePort Services the builder's decisions call for (backends whose Service exists). */
export function companionRequirements(backends: readonly BackendDecision[], services: Pick<Cache<V1Service>, 'get'>): CompanionRequirement[] {
  return backends
    .filter((b) => b.via === 'companionNodePort')
    .flatMap((b) => {
      const service = services.get(`${b.backend.namespace}/${b.backend.service}`);
      return service ? [{ backend: b.backend, service }] : [];
    });
}

export class IngressReconciler implements LoadBalancerReconciler {
  private readonly lifecycle: LoadBalancerLifecycle<'Ingress'>;
  // Per group: the backend decisions last announced, so resyncs stay silent.
  private readonly announced = new Map<string, string>();
  // Per group: the refused host claims last told, so resyncs stay silent.
  private readonly refusalsTold = new Map<string, string>();
  // Per group: the backend Services' unimplemented annotations last told.
  private readonly warningsTold = new Map<string, string>();
  // Per group: the members their class's params refuse, last told.
  private readonly refusedTold = new Map<string, string>();
  private readonly backendServices: IndexFunc<V1Ingress>;
  private readonly negStatus: NegStatus;

  constructor(private readonly deps: IngressReconcilerDeps) {
    this.backendServices = backendServicesOf(deps.providers);
    this.negStatus = new NegStatus({ writer: deps.writer, services: deps.services });
    this.lifecycle = new LoadBalancerLifecycle({
      ...deps,
      kind: 'Ingress',
      latest: (key) => deps.fresh.resolve(key, deps.ingresses.get(key)),
      subject: ingressSubject,
    });
  }

  /** The controller's retry schedule for a failed key: reruns before then make no provider call. */
  deferRetry(key: string, atMs: number): void {
    this.lifecycle.deferRetry(key, atMs);
  }

  keysWithInstanceTargets(): string[] {
    return this.lifecycle.keysWithInstanceTargets();
  }

  usesIpTargets(groupKey: string): boolean {
    return this.lifecycle.usesIpTargets(groupKey);
  }

  appliedRecord(groupKey: string): Readonly<AppliedLb> | undefined {
    return this.lifecycle.record(groupKey);
  }

  async reconcile(groupKey: string, flight: Flight): Promise<Outcome> {
    const { deps, lifecycle } = this;
    const members: V1Ingress[] = [];
    for (const k of deps.ingresses.indexKeys(INGRESS_BY_GROUP, groupKey).sort()) {
      const ing = deps.fresh.resolve(k, deps.ingresses.get(k));
      if (ing && groupKeyOf(ing, deps.classParams) === groupKey) members.push(ing);
    }
    const decision = decideGroup(members, deps.ingressClasses.list(), deps.config, deps.classParams);
    if (decision.kind === 'misconfigured') {
      // Cannot tell which provider should serve it, or its class's params are not there:
      // keep whatever LB exists as it is, since a typo in an IngressClass must not tear
      // load balancers down, nor a load balancer be built without what the params ask.
      lifecycle.report(groupKey, decision.problems.map((p) => p.ing), decision.message);
      return decision.retry ? { kind: 'slow' } : DONE;
    }
    const { leaving, elsewhere } = decision;
    this.announceRefusedMembers(groupKey, decision.refused);
    if (decision.kind === 'teardown') return this.teardown(groupKey, leaving, elsewhere, flight);
    const { first, foreign, mine } = decision;
    if (foreign.length > 0) lifecycle.report(groupKey, foreign.map((m) => m.ing), decision.foreignMessage);
    const provider = deps.providers.byName(first.provider);
    if (!provider) throw new Error(`provider ${first.provider} is not configured`);

    let ingresses = mine.map((m) => m.ing);
    // The builder reads the members as their classes' params make them; finalizers and status go to the objects themselves.
    const params = deps.classParams;
    const asParamsSay = (ing: V1Ingress): V1Ingress => {
      const p = params ? resolveClassParams(ing, params) : undefined;
      return p?.kind === 'applied' ? p.ingress : ing;
    };
    const build = (companionNodePorts: ReadonlyMap<string, number>, pods?: readonly V1Pod[]): IngressModelResult =>
      buildIngressModel({ ...this.inputs(ingresses.map(asParamsSay)), provider, className: first.className, clusterName: deps.config.clusterName, companionNodePorts, ...(pods ? { pods } : {}) });
    let ports: ReadonlyMap<string, number> = deps.companions.nodePorts(groupKey);
    let built = build(ports);
    if (!built.ok && built.reason === 'invalid') return this.invalid(groupKey, ingresses, built.errors.map((e) => nameParamsField(e, mine.map((m) => m.effective))));
    this.announceWarnings(`${groupKey} params`, ingresses, mine.flatMap((m) => m.paramsWarnings), UnimplementedParams);
    if (foreign.length === 0) lifecycle.resolved(groupKey);

    const hadFinalizers = ingresses.every((i) => hasFinalizer(i, FINALIZER));
    // Before any provider call (companions included): deleting a member now waits for us.
    ingresses = await lifecycle.ensureFinalizers(ingresses);

    const wanted = this.companionsWanted(built.backends);
    if (wanted.length > 0 || !built.ok) {
      ports = await deps.companions.ensure(groupKey, ingresses, wanted);
      built = build(ports);
    }
    built = await withProbePods(built, (pods) => build(ports, pods), deps.pods);
    if (!built.ok) {
      if (built.reason === 'invalid') return this.invalid(groupKey, ingresses, built.errors);
      throw new Error(`companion node ports for ${built.companions.map((c) => c.key).join(', ')} are not available yet`);
    }
    let spec = built.spec;
    if (deps.gke && readsGkeReferences(provider)) {
      // What the members name outside themselves; a missing one leaves the load balancer as it is.
      const refs = await deps.gke.resolve(ingresses, spec);
      if (!refs.ok) {
        lifecycle.report(groupKey, ingresses, refs.message);
        return { kind: 'slow' };
      }
      spec = refs.spec;
      this.announceWarnings(groupKey, ingresses, refs.warnings);
    }

    const stale = await lifecycle.replaceStale(groupKey, ingresses, provider.name, spec.ref.uid, flight);
    if (stale.kind !== 'done') return stale;
    const ensured = await lifecycle.ensure(groupKey, { objects: ingresses, provider, spec, adopted: hadFinalizers }, flight);
    if (!ensured.ok) return ensured.outcome;

    let statusWritten = false;
    for (const ing of ingresses) {
      const key = keyOf(ing);
      const latest = deps.fresh.resolve(key, deps.ingresses.get(key));
      if (!latest || latest.metadata?.deletionTimestamp) continue;
      const w = await deps.writer.patchLoadBalancerStatus('Ingress', latest, toLoadBalancerIngress(ensured.status, 'Ingress'));
      if (w.written) {
        deps.fresh.remember(key, w.object);
        statusWritten = true;
      }
    }
    lifecycle.ensured(ingresses, ensured.kind, statusWritten, 'Updated load balancer with new targets');
    this.announceBackends(groupKey, ingresses, built.backends);
    this.announceRefusals(groupKey, built.refusedHosts);

    const certificates = ensured.status.managedCertificates;
    if (certificates && deps.gke) await deps.gke.writeStatus(certificates);
    await this.negStatus.record(groupKey, ensured.status.backendGroups);

    await deps.companions.prune(groupKey, new Set(built.backends.filter((b) => b.via === 'companionNodePort').map((b) => b.key)));
    // The LB no longer routes for members that left: release them.
    for (const ing of leaving) await lifecycle.release(ing);
    for (const ing of elsewhere) await lifecycle.handOver(ing);
    if (!certificatesSettled(certificates)) {
      // Google provisions a managed certificate once its domains point here, minutes to an hour later: its state is read again until it is Active.
      lifecycle.recheck(groupKey);
      return { kind: 'wait', afterMs: deps.certificateRecheckMs ?? 60_000 };
    }
    return DONE;
  }

  /** A Warning on the members for each annotation on their backend Services lbc does not implement; once per change. */
  private announceWarnings(groupKey: string, ingresses: readonly V1Ingress[], warnings: readonly string[], reason = UnsupportedAnnotation): void {
    const digest = warnings.join('\n');
    if ((this.warningsTold.get(groupKey) ?? '') === digest) return;
    this.warningsTold.set(groupKey, digest);
    for (const w of warnings) this.lifecycle.tell(ingresses, 'Warning', reason, w);
  }

  /** A Warning on each member its class's params refuse, once per change; they are left out of the load balancer. */
  private announceRefusedMembers(groupKey: string, refused: readonly RefusedMember[]): void {
    const digest = refused.map((r) => `${keyOf(r.ing)} ${r.errors.map(formatModelError).join('; ')}`).join('\n');
    if ((this.refusedTold.get(groupKey) ?? '') === digest) return;
    this.refusedTold.set(groupKey, digest);
    for (const r of refused) {
      const message = `${r.errors.map(formatModelError).join('; ')}; this Ingress is not served`;
      this.lifecycle.tell([r.ing], 'Warning', ClassParamsRefused, message);
      this.deps.log.warn(`Ingress ${keyOf(r.ing)}: ${message}`, ingressSubject(groupKey));
    }
  }

  private inputs(ingresses: readonly V1Ingress[]): IngressGroupInputs {
    return ingressModelInputs(ingresses, this.deps);
  }

  private companionsWanted(backends: readonly BackendDecision[]): CompanionRequirement[] {
    return companionRequirements(backends, this.deps.services);
  }

  /** A Warning on each member refused a host, a Normal Event on the host's owner naming it; once per change. */
  private announceRefusals(groupKey: string, refused: readonly RefusedClaim[]): void {
    const digest = refused.map((r) => `${r.host} ${r.intruder.namespace}/${r.intruder.name} ${r.owner.namespace}/${r.owner.name}`).join('\n');
    if ((this.refusalsTold.get(groupKey) ?? '') === digest) return;
    this.refusalsTold.set(groupKey, digest);
    for (const r of refused) {
      const owner = `Ingress ${r.owner.namespace}/${r.owner.name}`;
      this.lifecycle.tell(
        [r.intruder.ingress],
        'Warning',
        HostClaimRefused,
        `host ${r.host} is served in this group by namespace ${r.owner.namespace} (${owner}); this Ingress's rules for it are left out`,
      );
      this.lifecycle.tell([r.owner.ingress], 'Normal', HostClaimRepelled, `Ingress ${r.intruder.namespace}/${r.intruder.name} from namespace ${r.intruder.namespace} tried to route host ${r.host}; refused, this Ingress's rules stay`);
    }
  }

  /** One Event per backend decision, on the members that route to it, when the decisions change. */
  private announceBackends(groupKey: string, ingresses: readonly V1Ingress[], backends: readonly BackendDecision[]): void {
    const digest = backends.map((b) => b.reason).join('\n');
    if (this.announced.get(groupKey) === digest) return;
    this.announced.set(groupKey, digest);
    for (const b of backends) {
      const svcKey = `${b.backend.namespace}/${b.backend.service}`;
      const users = ingresses.filter((i) => this.backendServices(i).includes(svcKey));
      this.lifecycle.tell(users.length > 0 ? users : ingresses, 'Normal', BackendTargets, b.reason);
    }
  }

  private invalid(groupKey: string, ingresses: readonly V1Ingress[], errors: readonly ModelError[]): Promise<Outcome> {
    const fallback = ingresses.length === 1 ? `Ingress ${keyOf(ingresses[0] ?? {})}` : `Ingress group ${groupKey}`;
    return this.lifecycle.invalid(groupKey, ingresses, errors.map((e) => formatModelError(e.object ? e : { ...e, object: fallback })).join('; '));
  }

  /** No member wants the LB: delete it, its companions, then release the members; hand over those now another controller's. */
  private async teardown(groupKey: string, leaving: readonly V1Ingress[], elsewhere: readonly V1Ingress[], flight: Flight): Promise<Outcome> {
    const { deps, lifecycle } = this;
    this.announced.delete(groupKey);
    this.warningsTold.delete(groupKey);
    const out = await lifecycle.teardown(
      groupKey,
      { leaving, ref: refOf(groupKey, leaving[0]), why: 'no Ingress of the group wants it', beforeRelease: () => deps.companions.prune(groupKey, new Set()) },
      flight,
    );
    if (out.kind !== 'done') return out;
    await this.negStatus.record(groupKey, undefined);
    for (const ing of elsewhere) await lifecycle.handOver(ing);
    return DONE;
  }
}
