// Reconciles one Service of type LoadBalancer: finalizer, model, provider, status,
// Events. Level-triggered: it reads the object as it is now and converges, so running
// it again with nothing changed makes no provider call and no API write.
import type { V1EndpointSlice, V1Node, V1Service } from '@kubernetes/client-node';
import type { Cache } from '../kube/cache.js';
import { ENDPOINTSLICE_BY_SERVICE } from '../kube/indexes.js';
import { hasFinalizer, type ConditionInput } from '../kube/status.js';
import type { LbRef } from '../model/ref.js';
import type { LoadBalancerStatus } from '../model/status.js';
import { formatModelError, type ModelError } from '../model/validation.js';
import { PartialEnsureError, type Provider } from '../providers/types.js';
import {
  DeletedLoadBalancer,
  DeletingLoadBalancer,
  EnsuredLoadBalancer,
  EnsuringLoadBalancer,
  SyncLoadBalancerFailed,
  UpdatedLoadBalancer,
} from './events.js';
import { serviceOwnership, type ServiceOwnership } from '../config/ownership.js';
import type { OwnWrites } from './own-writes.js';
import {
  abortedForDeletion,
  callProvider,
  classifyProviderFailure,
  currentIngress,
  DONE,
  FINALIZER,
  involved,
  READY_CONDITION,
  RetryGate,
  serviceSubject,
  specDigests,
  targetTypesOf,
  toLoadBalancerIngress,
  type AppliedLb,
  type Flight,
  type Outcome,
  type ReconcilerEnv,
} from './reconcile.js';
import { buildServiceModel } from './service-model.js';

export interface ServiceReconcilerDeps extends ReconcilerEnv {
  readonly services: Pick<Cache<V1Service>, 'get'>;
  readonly endpointSlices: Pick<Cache<V1EndpointSlice>, 'byIndex'>;
  /** The eligible nodes (EligibleNodes.nodes). */
  nodes(): readonly V1Node[];
  /** Changes whenever nodes() does (EligibleNodes.version). */
  nodesVersion(): number;
  readonly fresh: OwnWrites<V1Service>;
}

const READY: ConditionInput = { type: READY_CONDITION, status: 'True', reason: 'LoadBalancerEnsured', message: 'The load balancer is provisioned' };

type EnsureKind =
  /** First ensure for this object (by this process): Ensuring + Ensured. */
  | 'create'
  /** Something other than the targets changed: Ensuring + Ensured, as upstream. */
  | 'update'
  /** Only the targets moved: one UpdatedLoadBalancer, as upstream's node sync. */
  | 'targets'
  /** The object already carried the finalizer when this process first saw it (a restart): quiet unless the status changes. */
  | 'adopt';

/**
 * Holds status writes back until one has reached the API server. The StatusWriter
 * learns from its first write which ingress fields this server stores (ipMode exists
 * from Kubernetes 1.29 on); until it has, every write carries a field the server may
 * drop, so after a restart all workers would rewrite an unchanged status at once.
 */
class FirstWriteGate {
  private learned = false;
  private tail: Promise<unknown> = Promise.resolve();

  run<T extends { written: boolean }>(write: () => Promise<T>): Promise<T> {
    if (this.learned) return write();
    const next = this.tail.then(async () => {
      const r = await write();
      if (r.written) this.learned = true;
      return r;
    });
    this.tail = next.catch(() => {});
    return next;
  }
}

export class ServiceReconciler {
  private readonly applied = new Map<string, AppliedLb>();
  private readonly statusGate = new FirstWriteGate();
  // The last bad-input message reported per key, so a resync does not repeat the Event.
  private readonly reported = new Map<string, string>();
  // Keys whose deletion has been announced (DeletingLoadBalancer) and not yet finished.
  private readonly deleting = new Set<string>();
  private readonly retry = new RetryGate();

  constructor(private readonly deps: ServiceReconcilerDeps) {}

  /** Keys whose load balancer has node targets: they follow the eligible node set. */
  /** The controller's retry schedule for a failed key: reruns before then make no provider call. */
  deferRetry(key: string, atMs: number): void {
    this.retry.deferUntil(key, atMs);
  }

  /** Something the failed ensure lacked has appeared (a freed address): the next reconcile calls the provider again. */
  retryNow(key: string): void {
    this.retry.clear(key);
  }

  keysWithInstanceTargets(): string[] {
    return [...this.applied].filter(([, a]) => a.usesInstanceTargets).map(([k]) => k);
  }

  /** Whether endpoint changes of this Service (`ns/name`) can change its load balancer. */
  usesIpTargets(key: string): boolean {
    return this.applied.get(key)?.usesIpTargets ?? false;
  }

  /** Whether lbc holds a load balancer (or an attempt at one) for this key. */
  has(key: string): boolean {
    return this.applied.has(key);
  }

  appliedRecord(key: string): Readonly<AppliedLb> | undefined {
    return this.applied.get(key);
  }

  async reconcile(key: string, flight: Flight): Promise<Outcome> {
    const { deps } = this;
    const svc = deps.fresh.resolve(key, deps.services.get(key));
    const rec = this.applied.get(key);
    if (!svc) {
      // Gone without passing through our finalizer (it was never added, or someone
      // removed it): whatever we may have created for it must go too.
      if (!rec) return DONE;
      return this.deleteFromProviders(key, undefined, rec.ref, [rec.provider], flight);
    }
    const own = serviceOwnership(svc, deps.config);
    if (!own.ours || svc.metadata?.deletionTimestamp) return this.cleanup(key, svc, own, rec, flight);

    const provider = deps.providers.byName(own.provider);
    if (!provider) throw new Error(`provider ${own.provider} is not configured`);
    const ref: LbRef = { kind: 'Service', namespace: svc.metadata?.namespace ?? '', name: svc.metadata?.name ?? '', uid: svc.metadata?.uid ?? '' };
    if (rec && (rec.provider !== provider.name || rec.ref.uid !== ref.uid)) {
      // Another provider (the class changed) or an older object of the same name: its LB goes first.
      const out = await this.deleteFromProviders(key, svc, rec.ref, [rec.provider], flight);
      if (out.kind !== 'done') return out;
    }

    const endpointSlices = deps.endpointSlices.byIndex(ENDPOINTSLICE_BY_SERVICE, key);
    // Everything the model depends on, by version: equal inputs build an equal spec, so
    // a resync (or the echo of our own write) skips the build and its hashing.
    const inputs = `${svc.metadata?.uid ?? ''}@${svc.metadata?.resourceVersion ?? ''}|${deps.nodesVersion()}|${endpointSlices.map((e) => `${e.metadata?.name ?? ''}@${e.metadata?.resourceVersion ?? ''}`).join(',')}`;
    const same = this.applied.get(key);
    if (same?.inputs === inputs && same.status && hasFinalizer(svc, FINALIZER)) {
      await this.writeStatus(key, same.status);
      return DONE;
    }

    const built = buildServiceModel({
      service: svc,
      nodes: deps.nodes(),
      endpointSlices,
      provider,
      className: own.className,
      clusterName: deps.config.clusterName,
    });
    if (!built.ok) return this.invalid(key, svc, built.errors);
    const spec = built.spec;
    const { hash, shape } = specDigests(spec);
    const prev = this.applied.get(key);

    let obj = svc;
    let status: LoadBalancerStatus;
    let kind: EnsureKind | undefined;
    if (prev?.hash === hash && prev.status && hasFinalizer(svc, FINALIZER)) {
      status = prev.status;
    } else {
      const wait = this.retry.wait(key, `ensure:${hash}`);
      if (wait > 0) return { kind: 'wait', afterMs: wait };
      kind = !prev?.hash ? (hasFinalizer(svc, FINALIZER) ? 'adopt' : 'create') : prev.shape === shape ? 'targets' : 'update';
      if (!hasFinalizer(obj, FINALIZER)) {
        // Before the first provider call: from here on, deleting the Service waits for us.
        const r = await deps.writer.ensureFinalizer('Service', obj, FINALIZER);
        obj = r.object;
        deps.fresh.remember(key, obj);
      }
      if (kind === 'create' || kind === 'update') deps.events.event(involved('Service', obj), 'Normal', EnsuringLoadBalancer, 'Ensuring load balancer');
      // Recorded before the call: if the object vanishes meanwhile, the record is how we find what to delete.
      const rec: AppliedLb = { ref, provider: provider.name, ...targetTypesOf(spec) };
      this.applied.set(key, rec);
      try {
        status = await callProvider(provider.name, flight, deps.providerTimeoutMs, (s) => provider.ensure(spec, { signal: s }));
      } catch (e) {
        return this.providerFailed(key, obj, provider, e, flight, `ensure:${hash}`);
      }
      this.retry.clear(key);
      rec.hash = hash;
      rec.shape = shape;
      rec.status = status;
      // Told here, before the status write can fail, and only here: a resync reuses the
      // recorded status, whose notices have been told already.
      for (const n of status.notices ?? []) deps.events.event(involved('Service', obj), n.type, n.reason, n.message);
    }
    const applied = this.applied.get(key);
    if (applied) applied.inputs = inputs;
    this.reported.delete(key);

    const w = await this.writeStatus(key, status);
    if (!w) return DONE;
    obj = w.obj;

    if (kind === 'create' || kind === 'update' || (kind === 'adopt' && w.written)) {
      deps.events.event(involved('Service', obj), 'Normal', EnsuredLoadBalancer, 'Ensured load balancer');
    } else if (kind === 'targets') {
      const what = built.targetType === 'instance' ? 'hosts' : 'endpoints';
      deps.events.event(involved('Service', obj), 'Normal', UpdatedLoadBalancer, `Updated load balancer with new ${what}`);
    }
    return DONE;
  }

  /** Writes the address and the Ready condition if they differ; undefined when the object is gone or going. */
  private async writeStatus(key: string, status: LoadBalancerStatus): Promise<{ obj: V1Service; written: boolean } | undefined> {
    const { deps } = this;
    // Deleted while the provider worked: the deletion's own event has queued this key again.
    const latest = deps.fresh.resolve(key, deps.services.get(key));
    if (!latest || latest.metadata?.deletionTimestamp) return undefined;
    const w = await this.statusGate.run(() => deps.writer.patchLoadBalancerStatus('Service', latest, toLoadBalancerIngress(status, 'Service'), [READY]));
    if (w.written) deps.fresh.remember(key, w.object);
    return { obj: w.object, written: w.written };
  }

  /** Bad input: say what and where, in an Event and the condition; no provider call, the existing LB stays. */
  private async invalid(key: string, svc: V1Service, errors: readonly ModelError[]): Promise<Outcome> {
    const name = `Service ${key}`;
    const message = errors.map((e) => formatModelError(e.object ? e : { ...e, object: name })).join('; ');
    if (this.reported.get(key) !== message) {
      this.reported.set(key, message);
      this.deps.events.event(involved('Service', svc), 'Warning', SyncLoadBalancerFailed, `Error syncing load balancer: ${message}`);
    }
    const w = await this.deps.writer.patchLoadBalancerStatus('Service', svc, currentIngress(svc), [
      { type: READY_CONDITION, status: 'False', reason: 'InvalidConfiguration', message },
    ]);
    if (w.written) this.deps.fresh.remember(key, w.object);
    // Nothing will change until the object does, and that change queues the key.
    return DONE;
  }

  private async providerFailed(key: string, obj: V1Service, provider: Provider, e: unknown, flight: Flight, digest: string): Promise<Outcome> {
    if (abortedForDeletion(flight)) return DONE;
    this.retry.failed(key, digest);
    const f = classifyProviderFailure(e, provider.name);
    const message = `Error syncing load balancer: failed to ensure load balancer: ${f.error.message}`;
    this.deps.events.event(involved('Service', obj), 'Warning', SyncLoadBalancerFailed, message);
    this.deps.log.warn(`Service ${key}: ${message} (${f.error.kind})`, serviceSubject(key, provider.name));
    if (f.error instanceof PartialEnsureError) {
      // Part of the load balancer serves: publish where, so clients reach it, and say on the object what does not.
      const w = await this.deps.writer.patchLoadBalancerStatus('Service', obj, toLoadBalancerIngress(f.error.status, 'Service'), [
        { type: READY_CONDITION, status: 'False', reason: 'PartiallyEnsured', message: f.error.message },
      ]);
      if (w.written) this.deps.fresh.remember(key, w.object);
    } else if (!f.retryable) {
      const w = await this.deps.writer.patchLoadBalancerStatus('Service', obj, currentIngress(obj), [
        { type: READY_CONDITION, status: 'False', reason: 'ProviderRejected', message: f.error.message },
      ]);
      if (w.written) this.deps.fresh.remember(key, w.object);
    }
    return f.outcome;
  }

  /** Not ours any more, or being deleted: remove the LB, then the status, then the finalizer. */
  private async cleanup(key: string, svc: V1Service, own: ServiceOwnership, rec: AppliedLb | undefined, flight: Flight): Promise<Outcome> {
    const { deps } = this;
    if (!hasFinalizer(svc, FINALIZER)) {
      this.reported.delete(key);
      if (!rec) return DONE;
      return this.deleteFromProviders(key, svc, rec.ref, [rec.provider], flight);
    }
    const ref: LbRef = rec?.ref ?? { kind: 'Service', namespace: svc.metadata?.namespace ?? '', name: svc.metadata?.name ?? '', uid: svc.metadata?.uid ?? '' };
    // Which provider holds it is known only to a process that created or adopted it; after a restart, ask them all.
    const candidates = rec ? [rec.provider] : deps.providers.all.map((p) => p.name);
    if (!this.deleting.has(key)) {
      this.deleting.add(key);
      deps.events.event(involved('Service', svc), 'Normal', DeletingLoadBalancer, 'Deleting load balancer');
    }
    const out = await this.deleteFromProviders(key, svc, ref, candidates, flight);
    if (out.kind !== 'done') return out;

    let obj = svc;
    if (!svc.metadata?.deletionTimestamp) {
      // Still there, just no longer ours: leave no stale address or condition behind.
      const w = await deps.writer.clearLoadBalancerStatus('Service', obj, [READY_CONDITION]);
      obj = w.object;
      if (w.written) deps.fresh.remember(key, obj);
    }
    const w = await deps.writer.removeFinalizer('Service', obj, FINALIZER);
    if (w.written) deps.fresh.remember(key, w.object);
    this.deleting.delete(key);
    this.reported.delete(key);
    const why = own.ours ? 'the Service is being deleted' : own.reason;
    deps.log.debug?.(`Service ${key}: load balancer deleted (${why})`, serviceSubject(key, rec?.provider));
    deps.events.event(involved('Service', obj), 'Normal', DeletedLoadBalancer, 'Deleted load balancer');
    return DONE;
  }

  /** provider.delete(ref) on each candidate; the record goes once all succeeded. */
  private async deleteFromProviders(key: string, svc: V1Service | undefined, ref: LbRef, candidates: readonly string[], flight: Flight): Promise<Outcome> {
    const { deps } = this;
    const digest = `delete:${ref.uid}:${candidates.join(',')}`;
    const wait = this.retry.wait(key, digest);
    if (wait > 0) return { kind: 'wait', afterMs: wait };
    for (const name of candidates) {
      const provider = deps.providers.byName(name);
      if (!provider) continue;
      try {
        await callProvider(provider.name, flight, deps.providerTimeoutMs, (s) => provider.delete(ref, { signal: s }));
      } catch (e) {
        this.retry.failed(key, digest);
        const f = classifyProviderFailure(e, provider.name);
        const message = `Error deleting load balancer: ${f.error.message}`;
        // Said on every retry: a deletion that cannot finish must never wait silently.
        if (svc) deps.events.event(involved('Service', svc), 'Warning', SyncLoadBalancerFailed, message);
        deps.log.warn(`Service ${key}: ${message} (${f.error.kind})`, serviceSubject(key, provider.name));
        return f.outcome;
      }
    }
    this.retry.clear(key);
    this.applied.delete(key);
    return DONE;
  }
}
