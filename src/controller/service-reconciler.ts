// Reconciles one Service of type LoadBalancer: finalizer, model, provider, status,
// Events. Level-triggered: it reads the object as it is now and converges, so running
// it again with nothing changed makes no provider call and no API write.
import type { V1EndpointSlice, V1Node, V1Service } from '@kubernetes/client-node';
import type { Cache } from '../kube/cache.js';
import { ENDPOINTSLICE_BY_SERVICE } from '../kube/indexes.js';
import { hasFinalizer, type ConditionInput } from '../kube/status.js';
import { jsonEqual } from '../model/canonical.js';
import type { LbRef } from '../model/ref.js';
import type { LoadBalancerStatus } from '../model/status.js';
import type { Provider } from '../providers/types.js';
import { formatModelError } from '../model/validation.js';
import { LoadBalancerLifecycle } from './load-balancer-lifecycle.js';
import { serviceOwnership, type ServiceOwnership } from '../config/ownership.js';
import type { OwnWrites } from './own-writes.js';
import {
  DONE,
  FINALIZER,
  READY_CONDITION,
  serviceSubject,
  toLoadBalancerIngress,
  type AppliedLb,
  type Flight,
  type LoadBalancerReconciler,
  type Outcome,
  type ReconcilerEnv,
} from './reconcile.js';
import { buildServiceModel, UNREAD_ANNOTATIONS_CONDITION, unreadAnnotationsCondition } from './service-model.js';

export interface ServiceReconcilerDeps extends ReconcilerEnv {
  readonly services: Pick<Cache<V1Service>, 'get'>;
  readonly endpointSlices: Pick<Cache<V1EndpointSlice>, 'byIndex'>;
  /** The eligible nodes (EligibleNodes.nodes). */
  nodes(): readonly V1Node[];
  /** Changes whenever nodes() does (EligibleNodes.version). */
  nodesVersion(): number;
  readonly fresh: OwnWrites<V1Service>;
}

const versionOf = (svc: V1Service): string => `${svc.metadata?.uid ?? ''}@${svc.metadata?.resourceVersion ?? ''}`;

/**
 * Whether b, a later version of a, builds the same spec: the finalizer and status writes
 * change neither what buildServiceModel reads (spec, annotations, labels) nor the uid.
 */
export function sameModelInputs(a: V1Service, b: V1Service): boolean {
  const am = a.metadata;
  const bm = b.metadata;
  return am?.uid === bm?.uid && jsonEqual(a.spec, b.spec) && jsonEqual(am?.annotations, bm?.annotations) && jsonEqual(am?.labels, bm?.labels);
}

const READY: ConditionInput = { type: READY_CONDITION, status: 'True', reason: 'LoadBalancerEnsured', message: 'The load balancer is provisioned' };

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

export class ServiceReconciler implements LoadBalancerReconciler {
  private readonly lifecycle: LoadBalancerLifecycle<'Service'>;
  private readonly statusGate = new FirstWriteGate();

  constructor(private readonly deps: ServiceReconcilerDeps) {
    this.lifecycle = new LoadBalancerLifecycle({
      ...deps,
      kind: 'Service',
      readyCondition: READY_CONDITION,
      otherConditions: [UNREAD_ANNOTATIONS_CONDITION],
      latest: (key) => deps.fresh.resolve(key, deps.services.get(key)),
      subject: serviceSubject,
    });
  }

  /** The controller's retry schedule for a failed key: reruns before then make no provider call. */
  deferRetry(key: string, atMs: number): void {
    this.lifecycle.deferRetry(key, atMs);
  }

  /** Something the failed ensure lacked has appeared (a freed address): the next reconcile calls the provider again. */
  retryNow(key: string): void {
    this.lifecycle.retryNow(key);
  }

  /** `provider`'s pools changed: the keys it serves, each to be ensured again (LoadBalancerLifecycle.reensure). */
  reensure(provider: string): string[] {
    return this.lifecycle.reensure(provider);
  }

  /** Keys whose load balancer has node targets: they follow the eligible node set. */
  keysWithInstanceTargets(): string[] {
    return this.lifecycle.keysWithInstanceTargets();
  }

  /** Whether endpoint changes of this Service (`ns/name`) can change its load balancer. */
  usesIpTargets(key: string): boolean {
    return this.lifecycle.usesIpTargets(key);
  }

  /** Whether lbc holds a load balancer (or an attempt at one) for this key. */
  has(key: string): boolean {
    return this.lifecycle.record(key) !== undefined;
  }

  appliedRecord(key: string): Readonly<AppliedLb> | undefined {
    return this.lifecycle.record(key);
  }

  async reconcile(key: string, flight: Flight): Promise<Outcome> {
    const { deps, lifecycle } = this;
    const svc = deps.fresh.resolve(key, deps.services.get(key));
    // Gone without passing through our finalizer (it was never added, or someone
    // removed it): whatever we may have created for it must go too.
    if (!svc) return lifecycle.forget(key, flight);
    const own = serviceOwnership(svc, deps.config);
    if (!own.ours && own.whose === 'another') return this.handsOff(key, svc, flight);
    if (!own.ours || svc.metadata?.deletionTimestamp) return this.cleanup(key, svc, own, flight);

    const provider = deps.providers.byName(own.provider);
    if (!provider) throw new Error(`provider ${own.provider} is not configured`);
    // Another provider (the class changed) or an older object of the same name: its LB goes first.
    const stale = await lifecycle.replaceStale(key, [svc], provider.name, svc.metadata?.uid ?? '', flight);
    if (stale.kind !== 'done') return stale;

    const endpointSlices = deps.endpointSlices.byIndex(ENDPOINTSLICE_BY_SERVICE, key);
    // Everything the model depends on, by version: equal inputs build an equal spec, so
    // a resync (or the echo of our own write) skips the build and its hashing.
    const others = `|${deps.nodesVersion()}|${endpointSlices.map((e) => `${e.metadata?.name ?? ''}@${e.metadata?.resourceVersion ?? ''}`).join(',')}`;
    const inputs = `${versionOf(svc)}${others}`;
    const same = lifecycle.record(key);
    if (same?.inputs === inputs && same.status && hasFinalizer(svc, FINALIZER)) {
      await this.writeStatus(key, same.status, provider);
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
    if (!built.ok) {
      const message = built.errors.map((e) => formatModelError(e.object ? e : { ...e, object: `Service ${key}` })).join('; ');
      return lifecycle.invalid(key, [svc], message);
    }

    const ensured = await lifecycle.ensure(key, { objects: [svc], provider, spec: built.spec, adopted: hasFinalizer(svc, FINALIZER) }, flight);
    if (!ensured.ok) return ensured.outcome;
    lifecycle.noteInputs(key, inputs);
    lifecycle.resolved(key);

    const w = await this.writeStatus(key, ensured.status, provider);
    if (!w) return DONE;
    // The watch echo of these writes can reach the informer before their answers do, and
    // is then taken for news and queues the key again (a tenth of the Services in a cold
    // start at 1000, #21): noted at the written version too, that rerun skips the build.
    if (w.obj !== svc && sameModelInputs(svc, w.obj)) lifecycle.noteInputs(key, `${versionOf(w.obj)}${others}`);
    const what = built.targetType === 'instance' ? 'hosts' : 'endpoints';
    lifecycle.ensured([w.obj], ensured.kind, w.written, `Updated load balancer with new ${what}`);
    return DONE;
  }

  /**
   * Writes the address and the Ready condition, then the provider's annotations, each
   * if it differs; undefined when the object is gone or going.
   */
  private async writeStatus(key: string, status: LoadBalancerStatus, provider: Provider): Promise<{ obj: V1Service; written: boolean } | undefined> {
    const { deps } = this;
    // Deleted while the provider worked: the deletion's own event has queued this key again.
    const latest = deps.fresh.resolve(key, deps.services.get(key));
    if (!latest || latest.metadata?.deletionTimestamp) return undefined;
    const unread = unreadAnnotationsCondition(provider, latest);
    const w = await this.statusGate.run(() =>
      deps.fresh.write(
        key,
        () => deps.writer.patchLoadBalancerStatus('Service', latest, toLoadBalancerIngress(status, 'Service'), unread ? [READY, unread] : [READY], unread ? [] : [UNREAD_ANNOTATIONS_CONDITION]),
        (r) => (r.written ? r.object : undefined),
      ),
    );
    const managed = provider.capabilities.objectAnnotations ?? [];
    if (managed.length === 0) return { obj: w.object, written: w.written };
    const a = await deps.writer.patchAnnotations('Service', w.object, status.annotations ?? {}, managed);
    if (a.written) deps.fresh.remember(key, a.object);
    return { obj: a.object, written: w.written };
  }

  /** Not ours any more (no controller is addressed), or being deleted: remove the LB, then the status, then the finalizer. */
  private cleanup(key: string, svc: V1Service, own: ServiceOwnership, flight: Flight): Promise<Outcome> {
    const { lifecycle } = this;
    if (!hasFinalizer(svc, FINALIZER)) {
      lifecycle.resolved(key);
      return lifecycle.forget(key, flight, [svc]);
    }
    const ref: LbRef = { kind: 'Service', namespace: svc.metadata?.namespace ?? '', name: svc.metadata?.name ?? '', uid: svc.metadata?.uid ?? '' };
    return lifecycle.teardown(key, { leaving: [svc], ref, why: own.ours ? 'the Service is being deleted' : own.reason }, flight);
  }

  /**
   * Addressed to another controller: not a write, an Event or a provider call for it.
   * Only what this process itself made goes: an LB its record names (for an earlier
   * object of this name, or for this one before it moved elsewhere), and the finalizer
   * on an object it served (see LoadBalancerLifecycle.handOver).
   */
  private async handsOff(key: string, svc: V1Service, flight: Flight): Promise<Outcome> {
    this.lifecycle.resolved(key);
    const out = await this.lifecycle.forget(key, flight);
    if (out.kind !== 'done') return out;
    await this.lifecycle.handOver(svc);
    return DONE;
  }
}
