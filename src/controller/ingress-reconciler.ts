// Reconciles one Ingress group (a single Ingress, or every Ingress sharing a
// group.name) into one L7 load balancer: finalizers on the members, companion
// NodePort Services where the backends need them, the provider, each member's status,
// and Events. Members that leave the group (deleted, class changed, group changed)
// keep their finalizer until the load balancer no longer routes for them.
import type { V1EndpointSlice, V1Ingress, V1IngressClass, V1Node, V1Pod, V1Secret, V1Service } from '@kubernetes/client-node';
import type { Cache, IndexFunc } from '../kube/cache.js';
import { ENDPOINTSLICE_BY_SERVICE, ingressByBackendService, ingressByTLSSecret, ingressIndexers } from '../kube/indexes.js';
import { hasFinalizer } from '../kube/status.js';
import { ingressGroupRef, type LbRef } from '../model/ref.js';
import type { LoadBalancerStatus } from '../model/status.js';
import { formatModelError, type ModelError } from '../model/validation.js';
import type { ProviderSet } from '../providers/registry.js';
import { PartialEnsureError, type Provider } from '../providers/types.js';
import type { CompanionRequirement, Companions } from './companions.js';
import {
  BackendTargets,
  DeletedLoadBalancer,
  DeletingLoadBalancer,
  EnsuredLoadBalancer,
  EnsuringLoadBalancer,
  SyncLoadBalancerFailed,
  UpdatedLoadBalancer,
} from './events.js';
import { actionServicesOf, buildIngressModel, ingressGroupOf, type BackendDecision, type IngressModelInput, type IngressModelResult } from './ingress-model.js';
import { ingressOwnership, type OwnershipConfig } from '../config/ownership.js';
import { withProbePods, type PodReader } from './probe-pods.js';
import type { OwnWrites } from './own-writes.js';
import {
  abortedForDeletion,
  callProvider,
  classifyProviderFailure,
  DONE,
  FINALIZER,
  ingressSubject,
  involved,
  keyOf,
  RetryGate,
  specDigests,
  targetTypesOf,
  toLoadBalancerIngress,
  type AppliedLb,
  type Flight,
  type Outcome,
  type ReconcilerEnv,
} from './reconcile.js';

export const INGRESS_BY_GROUP = 'byLoadBalancerGroup';

/** The queue key of the load balancer an Ingress belongs to; its own when its group annotation is unreadable. */
export function groupKeyOf(ing: V1Ingress): string {
  const g = ingressGroupOf(ing);
  return g.ok ? g.group.key : `ingress/${ing.metadata?.namespace ?? ''}/${ing.metadata?.name ?? ''}`;
}

export const ingressByGroup: IndexFunc<V1Ingress> = (ing) => [groupKeyOf(ing)];

/** The Services an Ingress routes to as `namespace/name` keys: its backends, and its annotation actions' as the providers read them. */
export function backendServicesOf(providers: Pick<ProviderSet, 'all'>): IndexFunc<V1Ingress> {
  return ingressByBackendService(actionServicesOf(providers.all));
}

/** The indexes of the Ingress cache (the controller's informer, lbc plan's list): kube's, with the providers' actions, and by group. */
export function ingressCacheIndexers(providers: Pick<ProviderSet, 'all'>): Record<string, IndexFunc<V1Ingress>> {
  return { ...ingressIndexers(actionServicesOf(providers.all)), [INGRESS_BY_GROUP]: ingressByGroup };
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
  nodes(): readonly V1Node[];
  readonly fresh: OwnWrites<V1Ingress>;
  readonly companions: Companions;
  /** Reads the Pods whose readiness probes the health checks may follow. */
  readonly pods: PodReader;
}

export interface LiveMember {
  readonly ing: V1Ingress;
  readonly provider: string;
  readonly className: string;
}

/**
 * What a group's members ask of lbc, before anything is written: the reconciler acts on
 * it and `lbc plan` reports it. Pure.
 */
export type GroupDecision =
  /** A member is addressed to lbc but names no usable provider: the LB stays as it is. */
  | { readonly kind: 'misconfigured'; readonly problems: readonly { readonly ing: V1Ingress; readonly message: string }[]; readonly message: string }
  /** No member wants the LB any more; `leaving` still hold the finalizer. */
  | { readonly kind: 'teardown'; readonly leaving: readonly V1Ingress[] }
  | {
      readonly kind: 'serve';
      /** The first live member decides the provider and class for the group. */
      readonly first: LiveMember;
      readonly mine: readonly LiveMember[];
      /** Members that select another provider: left out of the LB and reported. */
      readonly foreign: readonly LiveMember[];
      readonly foreignMessage: string;
      readonly leaving: readonly V1Ingress[];
    };

export function decideGroup(members: readonly V1Ingress[], classes: readonly V1IngressClass[], config: OwnershipConfig): GroupDecision {
  const live: LiveMember[] = [];
  const leaving: V1Ingress[] = [];
  const problems: { ing: V1Ingress; message: string }[] = [];
  for (const ing of members) {
    const own = ingressOwnership(ing, classes, config);
    if (ing.metadata?.deletionTimestamp || !own.ours) {
      if (hasFinalizer(ing, FINALIZER)) leaving.push(ing);
    } else if (own.provider === null) {
      problems.push({ ing, message: own.reason });
    } else {
      live.push({ ing, provider: own.provider, className: own.className });
    }
  }
  if (problems.length > 0) return { kind: 'misconfigured', problems, message: problems.map((p) => `Ingress ${keyOf(p.ing)}: ${p.message}`).join('; ') };
  const first = live[0];
  if (!first) return { kind: 'teardown', leaving };
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
  nodes(): readonly V1Node[];
}

/** The backend Services, their EndpointSlices and the TLS Secrets the members name, from the caches. */
export function ingressModelInputs(ingresses: readonly V1Ingress[], l: IngressInputLookups): IngressGroupInputs {
  const serviceKeys = new Set(ingresses.flatMap(backendServicesOf(l.providers)));
  const secretKeys = new Set(ingresses.flatMap(ingressByTLSSecret));
  const services: V1Service[] = [];
  const endpointSlices: V1EndpointSlice[] = [];
  for (const k of serviceKeys) {
    const svc = l.services.get(k);
    if (svc) services.push(svc);
    endpointSlices.push(...l.endpointSlices.byIndex(ENDPOINTSLICE_BY_SERVICE, k));
  }
  const secrets = [...secretKeys].flatMap((k) => l.secrets.get(k) ?? []);
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

type EnsureKind = 'create' | 'update' | 'targets' | 'adopt';

export class IngressReconciler {
  private readonly applied = new Map<string, AppliedLb>();
  // Per group: the last problem reported and the backend decisions last announced, so resyncs stay silent.
  private readonly reported = new Map<string, string>();
  private readonly announced = new Map<string, string>();
  private readonly deleting = new Set<string>();
  private readonly retry = new RetryGate();
  private readonly backendServices: IndexFunc<V1Ingress>;

  constructor(private readonly deps: IngressReconcilerDeps) {
    this.backendServices = backendServicesOf(deps.providers);
  }

  /** The controller's retry schedule for a failed key: reruns before then make no provider call. */
  deferRetry(key: string, atMs: number): void {
    this.retry.deferUntil(key, atMs);
  }

  keysWithInstanceTargets(): string[] {
    return [...this.applied].filter(([, a]) => a.usesInstanceTargets).map(([k]) => k);
  }

  usesIpTargets(groupKey: string): boolean {
    return this.applied.get(groupKey)?.usesIpTargets ?? false;
  }

  appliedRecord(groupKey: string): Readonly<AppliedLb> | undefined {
    return this.applied.get(groupKey);
  }

  async reconcile(groupKey: string, flight: Flight): Promise<Outcome> {
    const { deps } = this;
    const members: V1Ingress[] = [];
    for (const k of deps.ingresses.indexKeys(INGRESS_BY_GROUP, groupKey).sort()) {
      const ing = deps.fresh.resolve(k, deps.ingresses.get(k));
      if (ing && groupKeyOf(ing) === groupKey) members.push(ing);
    }
    const decision = decideGroup(members, deps.ingressClasses.list(), deps.config);
    if (decision.kind === 'misconfigured') {
      // Cannot tell which provider should serve it: keep whatever LB exists as it is,
      // since a typo in an IngressClass must not tear load balancers down.
      this.report(groupKey, decision.problems.map((p) => p.ing), decision.message);
      return DONE;
    }
    const { leaving } = decision;
    if (decision.kind === 'teardown') return this.teardown(groupKey, leaving, flight);
    const { first, foreign, mine } = decision;
    if (foreign.length > 0) this.report(groupKey, foreign.map((m) => m.ing), decision.foreignMessage);
    const provider = deps.providers.byName(first.provider);
    if (!provider) throw new Error(`provider ${first.provider} is not configured`);

    const ingresses = mine.map((m) => m.ing);
    const build = (companionNodePorts: ReadonlyMap<string, number>, pods?: readonly V1Pod[]): IngressModelResult =>
      buildIngressModel({ ...this.inputs(ingresses), provider, className: first.className, clusterName: deps.config.clusterName, companionNodePorts, ...(pods ? { pods } : {}) });
    let ports: ReadonlyMap<string, number> = deps.companions.nodePorts(groupKey);
    let built = build(ports);
    if (!built.ok && built.reason === 'invalid') return this.invalid(groupKey, ingresses, built.errors);
    if (foreign.length === 0) this.reported.delete(groupKey);

    const hadFinalizers = ingresses.every((i) => hasFinalizer(i, FINALIZER));
    // Before any provider call (companions included): deleting a member now waits for us.
    for (const [i, ing] of ingresses.entries()) {
      if (hasFinalizer(ing, FINALIZER)) continue;
      const w = await deps.writer.ensureFinalizer('Ingress', ing, FINALIZER);
      deps.fresh.remember(keyOf(ing), w.object);
      ingresses[i] = w.object;
    }

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
    const spec = built.spec;
    const { hash, shape } = specDigests(spec);

    const old = this.applied.get(groupKey);
    if (old && (old.provider !== provider.name || old.ref.uid !== spec.ref.uid)) {
      const out = await this.deleteFromProviders(groupKey, ingresses, old.ref, [old.provider], flight);
      if (out.kind !== 'done') return out;
    }
    const prev = this.applied.get(groupKey);
    let status: LoadBalancerStatus;
    let kind: EnsureKind | undefined;
    if (prev?.hash === hash && prev.status) {
      status = prev.status;
    } else {
      const wait = this.retry.wait(groupKey, `ensure:${hash}`);
      if (wait > 0) return { kind: 'wait', afterMs: wait };
      kind = !prev?.hash ? (hadFinalizers ? 'adopt' : 'create') : prev.shape === shape ? 'targets' : 'update';
      if (kind === 'create' || kind === 'update') this.tell(ingresses, 'Normal', EnsuringLoadBalancer, 'Ensuring load balancer');
      const rec: AppliedLb = { ref: spec.ref, provider: provider.name, ...targetTypesOf(spec) };
      this.applied.set(groupKey, rec);
      try {
        status = await callProvider(provider.name, flight, deps.providerTimeoutMs, (s) => provider.ensure(spec, { signal: s }));
      } catch (e) {
        return this.providerFailed(groupKey, ingresses, provider, e, flight, `ensure:${hash}`);
      }
      this.retry.clear(groupKey);
      rec.hash = hash;
      rec.shape = shape;
      rec.status = status;
      // Told here, before a status write can fail, and only here: a resync reuses the
      // recorded status, whose notices have been told already.
      for (const n of status.notices ?? []) this.tell(ingresses, n.type, n.reason, n.message);
    }

    let statusWritten = false;
    for (const ing of ingresses) {
      const key = keyOf(ing);
      const latest = deps.fresh.resolve(key, deps.ingresses.get(key));
      if (!latest || latest.metadata?.deletionTimestamp) continue;
      const w = await deps.writer.patchLoadBalancerStatus('Ingress', latest, toLoadBalancerIngress(status, 'Ingress'));
      if (w.written) {
        deps.fresh.remember(key, w.object);
        statusWritten = true;
      }
    }
    if (kind === 'create' || kind === 'update' || (kind === 'adopt' && statusWritten)) {
      this.tell(ingresses, 'Normal', EnsuredLoadBalancer, 'Ensured load balancer');
    } else if (kind === 'targets') {
      this.tell(ingresses, 'Normal', UpdatedLoadBalancer, 'Updated load balancer with new targets');
    }
    this.announceBackends(groupKey, ingresses, built.backends);

    await deps.companions.prune(groupKey, new Set(built.backends.filter((b) => b.via === 'companionNodePort').map((b) => b.key)));
    // The LB no longer routes for members that left: release them.
    for (const ing of leaving) await this.release(ing);
    return DONE;
  }

  private inputs(ingresses: readonly V1Ingress[]): IngressGroupInputs {
    return ingressModelInputs(ingresses, this.deps);
  }

  private companionsWanted(backends: readonly BackendDecision[]): CompanionRequirement[] {
    return companionRequirements(backends, this.deps.services);
  }

  /** One Event per backend decision, on the members that route to it, when the decisions change. */
  private announceBackends(groupKey: string, ingresses: readonly V1Ingress[], backends: readonly BackendDecision[]): void {
    const digest = backends.map((b) => b.reason).join('\n');
    if (this.announced.get(groupKey) === digest) return;
    this.announced.set(groupKey, digest);
    for (const b of backends) {
      const svcKey = `${b.backend.namespace}/${b.backend.service}`;
      const users = ingresses.filter((i) => this.backendServices(i).includes(svcKey));
      this.tell(users.length > 0 ? users : ingresses, 'Normal', BackendTargets, b.reason);
    }
  }

  private tell(ingresses: readonly V1Ingress[], type: 'Normal' | 'Warning', reason: string, message: string): void {
    for (const ing of ingresses) this.deps.events.event(involved('Ingress', ing), type, reason, message);
  }

  /** A Warning once per distinct problem, so a resync does not repeat it. */
  private report(groupKey: string, ingresses: readonly V1Ingress[], message: string): void {
    if (this.reported.get(groupKey) === message) return;
    this.reported.set(groupKey, message);
    this.tell(ingresses, 'Warning', SyncLoadBalancerFailed, `Error syncing load balancer: ${message}`);
    this.deps.log.warn(`Ingress ${groupKey}: ${message}`, ingressSubject(groupKey, this.applied.get(groupKey)?.provider));
  }

  private invalid(groupKey: string, ingresses: readonly V1Ingress[], errors: readonly ModelError[]): Outcome {
    const fallback = ingresses.length === 1 ? `Ingress ${keyOf(ingresses[0] ?? {})}` : `Ingress group ${groupKey}`;
    this.report(groupKey, ingresses, errors.map((e) => formatModelError(e.object ? e : { ...e, object: fallback })).join('; '));
    return DONE;
  }

  private async providerFailed(groupKey: string, ingresses: readonly V1Ingress[], provider: Provider, e: unknown, flight: Flight, digest: string): Promise<Outcome> {
    if (abortedForDeletion(flight)) return DONE;
    this.retry.failed(groupKey, digest);
    const f = classifyProviderFailure(e, provider.name);
    const message = `Error syncing load balancer: failed to ensure load balancer: ${f.error.message}`;
    this.tell(ingresses, 'Warning', SyncLoadBalancerFailed, message);
    this.deps.log.warn(`Ingress ${groupKey}: ${message} (${f.error.kind})`, ingressSubject(groupKey, provider.name));
    if (f.error instanceof PartialEnsureError) {
      // Part of the load balancer serves (Ingress status has no conditions: the Event says what does not).
      for (const ing of ingresses) {
        const w = await this.deps.writer.patchLoadBalancerStatus('Ingress', ing, toLoadBalancerIngress(f.error.status, 'Ingress'));
        if (w.written) this.deps.fresh.remember(keyOf(ing), w.object);
      }
    }
    return f.outcome;
  }

  /** No member wants the LB: delete it, its companions, then release the members. */
  private async teardown(groupKey: string, leaving: readonly V1Ingress[], flight: Flight): Promise<Outcome> {
    const { deps } = this;
    const rec = this.applied.get(groupKey);
    this.reported.delete(groupKey);
    this.announced.delete(groupKey);
    const ref = rec?.ref ?? refOf(groupKey, leaving[0]);
    if (ref && (rec || leaving.length > 0)) {
      if (leaving.length > 0 && !this.deleting.has(groupKey)) {
        this.deleting.add(groupKey);
        this.tell(leaving, 'Normal', DeletingLoadBalancer, 'Deleting load balancer');
      }
      const candidates = rec ? [rec.provider] : deps.providers.all.map((p) => p.name);
      const out = await this.deleteFromProviders(groupKey, leaving, ref, candidates, flight);
      if (out.kind !== 'done') return out;
    }
    await deps.companions.prune(groupKey, new Set());
    for (const ing of leaving) await this.release(ing);
    if (this.deleting.delete(groupKey)) this.tell(leaving, 'Normal', DeletedLoadBalancer, 'Deleted load balancer');
    return DONE;
  }

  /** Clears a departing member's status (unless it is being deleted) and drops its finalizer. */
  private async release(ing: V1Ingress): Promise<void> {
    const { deps } = this;
    const key = keyOf(ing);
    let obj = deps.fresh.resolve(key, deps.ingresses.get(key)) ?? ing;
    if (!obj.metadata?.deletionTimestamp) {
      const w = await deps.writer.clearLoadBalancerStatus('Ingress', obj);
      obj = w.object;
      if (w.written) deps.fresh.remember(key, obj);
    }
    const w = await deps.writer.removeFinalizer('Ingress', obj, FINALIZER);
    if (w.written) deps.fresh.remember(key, w.object);
  }

  private async deleteFromProviders(groupKey: string, tellTo: readonly V1Ingress[], ref: LbRef, candidates: readonly string[], flight: Flight): Promise<Outcome> {
    const { deps } = this;
    const digest = `delete:${ref.uid}:${candidates.join(',')}`;
    const wait = this.retry.wait(groupKey, digest);
    if (wait > 0) return { kind: 'wait', afterMs: wait };
    for (const name of candidates) {
      const provider = deps.providers.byName(name);
      if (!provider) continue;
      try {
        await callProvider(provider.name, flight, deps.providerTimeoutMs, (s) => provider.delete(ref, { signal: s }));
      } catch (e) {
        this.retry.failed(groupKey, digest);
        const f = classifyProviderFailure(e, provider.name);
        const message = `Error deleting load balancer: ${f.error.message}`;
        this.tell(tellTo, 'Warning', SyncLoadBalancerFailed, message);
        deps.log.warn(`Ingress ${groupKey}: ${message} (${f.error.kind})`, ingressSubject(groupKey, provider.name));
        return f.outcome;
      }
    }
    this.retry.clear(groupKey);
    this.applied.delete(groupKey);
    return DONE;
  }
}
