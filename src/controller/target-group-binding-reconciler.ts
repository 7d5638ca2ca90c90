// Reconciles one TargetGroupBinding (elbv2.k8s.aws/v1beta1), as aws-load-balancer-controller's
// controllers/elbv2/targetgroupbinding_controller.go: the finalizer elbv2.k8s.aws/resources
// first, then the provider puts the Service's endpoints (ip) or nodes (instance) into the
// user's target group with the networking rules asked for, then status.observedGeneration;
// on delete every target of the group is deregistered and the rules revoked before the
// finalizer goes. Level-triggered: with nothing changed since the last bind it makes no
// provider call and no API write (ALBC skips by its checkpoint annotation the same way).
import type { V1EndpointSlice, V1Node, V1Service } from '@kubernetes/client-node';
import { createHash } from 'node:crypto';
import type { Cache } from '../kube/cache.js';
import { ENDPOINTSLICE_BY_SERVICE } from '../kube/indexes.js';
import type { Logger } from '../kube/logger.js';
import { hasFinalizer } from '../kube/status.js';
import type { TargetGroupBinding, TargetGroupBindingWriter } from '../kube/target-group-bindings.js';
import type { InvolvedObject } from '../kube/events.js';
import type { TargetBinding } from '../model/target-binding.js';
import type { Provider } from '../providers/types.js';

export type BindingProvider = Provider & Required<Pick<Provider, 'bindTargets' | 'unbindTargets'>>;
import { buildTargetBinding } from './target-group-binding-model.js';
import { abortedByLbc, callProvider, classifyProviderFailure, describeError, DONE, RetryGate, type AppliedLb, type EventSink, type Flight, type LoadBalancerReconciler, type Outcome } from './reconcile.js';

/** ALBC's targetGroupBindingFinalizer. */
export const TGB_FINALIZER = 'elbv2.k8s.aws/resources';

/** Event reasons: ALBC's pkg/k8s/events.go, and BackendNotFound from its resource manager. */
export const TGB_REASONS = {
  reconciled: 'SuccessfullyReconciled',
  failedAddFinalizer: 'FailedAddFinalizer',
  failedRemoveFinalizer: 'FailedRemoveFinalizer',
  failedUpdateStatus: 'FailedUpdateStatus',
  failedCleanup: 'FailedCleanup',
  backendNotFound: 'BackendNotFound',
  // ALBC's webhooks refuse a bad binding at admission and its reconcile errors reach only
  // its log; lbc has no webhook, so the object itself says why nothing was bound.
  failedReconcile: 'FailedReconcile',
  // Targets skipped (no providerID, another address family) or rules that cannot be placed.
  warning: 'ReconciledWithWarnings',
} as const;

export interface TargetGroupBindingReconcilerDeps {
  readonly clusterName: string;
  /** The provider that binds targets (the first configured one with bindTargets). */
  readonly provider: BindingProvider;
  readonly bindings: Pick<Cache<TargetGroupBinding>, 'get'>;
  readonly services: Pick<Cache<V1Service>, 'get'>;
  readonly endpointSlices: Pick<Cache<V1EndpointSlice>, 'byIndex'>;
  /** The eligible nodes (EligibleNodes.nodes). */
  nodes(): readonly V1Node[];
  readonly writer: Pick<TargetGroupBindingWriter, 'setFinalizer' | 'observe'>;
  readonly events: EventSink;
  readonly log: Logger;
  readonly providerTimeoutMs: number;
}

interface Applied {
  /** Digest of the binding last bound without error. */
  readonly digest: string;
  readonly targetType: 'ip' | 'instance';
  /** Warnings last told, so a rerun repeats none. */
  readonly warnings: string;
  /** The group bound, as the spec named it. */
  readonly group: TargetBinding['targetGroup'];
}

/** The group the spec names (ARN first, as ALBC); none: a binding that never named one has no targets anywhere, its rules may still exist. */
const groupOf = (tgb: TargetGroupBinding): TargetBinding['targetGroup'] | undefined =>
  tgb.spec?.targetGroupARN ? { arn: tgb.spec.targetGroupARN } : tgb.spec?.targetGroupName ? { name: tgb.spec.targetGroupName } : undefined;

const bindingDigest = (b: TargetBinding): string => createHash('sha256').update(JSON.stringify(b)).digest('hex').slice(0, 16);

export class TargetGroupBindingReconciler implements LoadBalancerReconciler {
  private readonly applied = new Map<string, Applied>();
  /** The problem last told per key, so a resync repeats no Event. */
  private readonly told = new Map<string, string>();
  private readonly gate = new RetryGate();

  constructor(private readonly deps: TargetGroupBindingReconcilerDeps) {}

  deferRetry(key: string, atMs: number): void {
    this.gate.deferUntil(key, atMs);
  }

  keysWithInstanceTargets(): string[] {
    return [...this.applied].filter(([, a]) => a.targetType === 'instance').map(([k]) => k);
  }

  usesIpTargets(key: string): boolean {
    return this.applied.get(key)?.targetType === 'ip';
  }

  /** Whether endpoint changes may change this binding: ip targets, or not bound yet (the group's type decides). */
  followsEndpoints(key: string): boolean {
    return this.applied.get(key)?.targetType !== 'instance';
  }

  /** Bindings are no load balancers: nothing for the load-balancer metrics. */
  appliedRecord(): Readonly<AppliedLb> | undefined {
    return undefined;
  }

  async reconcile(key: string, flight: Flight): Promise<Outcome> {
    const tgb = this.deps.bindings.get(key);
    if (!tgb) {
      this.forget(key);
      return DONE;
    }
    if (tgb.metadata?.deletionTimestamp) return this.cleanup(key, tgb, flight);

    const spec = tgb.spec ?? {};
    const svcKey = `${tgb.metadata?.namespace ?? ''}/${spec.serviceRef?.name ?? ''}`;
    const service = this.deps.services.get(svcKey);
    const built = buildTargetBinding(tgb, {
      clusterName: this.deps.clusterName,
      service,
      endpointSlices: this.deps.endpointSlices.byIndex(ENDPOINTSLICE_BY_SERVICE, svcKey),
      nodes: this.deps.nodes(),
    });
    if (!built.ok && built.problems.length > 0) {
      this.applied.delete(key);
      this.tell(key, tgb, 'Warning', TGB_REASONS.failedReconcile, built.problems.join('; '));
      return { kind: 'slow' };
    }

    let current = tgb;
    try {
      current = await this.deps.writer.setFinalizer(tgb, TGB_FINALIZER, true);
    } catch (e) {
      this.event(tgb, 'Warning', TGB_REASONS.failedAddFinalizer, `Failed add finalizer due to ${describeError(e)}`);
      throw e;
    }

    if (!service || !built.ok) {
      // As ALBC's resource manager: the Service is gone, so are its targets (Cleanup), and the user hears why.
      const message = `Service ${svcKey} not found`;
      if (this.told.get(key) === message) return DONE;
      const out = await this.unbind(key, tgb, flight);
      if (out) return out;
      this.applied.delete(key);
      this.tell(key, tgb, 'Warning', TGB_REASONS.backendNotFound, message);
      return DONE;
    }

    const digest = bindingDigest(built.binding);
    const before = this.applied.get(key);
    if (before?.digest === digest) return this.observe(current);
    const wait = this.gate.wait(key, digest);
    if (wait > 0) return { kind: 'wait', afterMs: wait };

    // ALBC's webhook refuses a change of spec.targetGroupARN; lbc has none, so it moves the
    // binding instead: the group it last filled (while this process knows it) is emptied
    // first, or its targets would stay there with nothing to take them out.
    if (before && JSON.stringify(before.group) !== JSON.stringify(built.binding.targetGroup)) {
      const out = await this.unbind(key, tgb, flight, before.group);
      if (out) return out;
      this.applied.delete(key);
    }

    let result;
    try {
      result = await callProvider(this.deps.provider.name, flight, this.deps.providerTimeoutMs, (signal) => this.deps.provider.bindTargets(built.binding, { signal }));
    } catch (e) {
      if (abortedByLbc(flight)) return DONE;
      const f = classifyProviderFailure(e, this.deps.provider.name);
      this.gate.failed(key, digest);
      this.applied.delete(key);
      this.tell(key, tgb, 'Warning', TGB_REASONS.failedReconcile, f.error.message);
      return f.outcome;
    }
    this.gate.clear(key);
    const warnings = result.warnings.join('; ');
    this.applied.set(key, { digest, targetType: result.targetType, warnings, group: built.binding.targetGroup });
    this.told.delete(key);
    if (warnings !== '' && warnings !== before?.warnings) this.event(tgb, 'Warning', TGB_REASONS.warning, warnings);
    this.deps.log.info(
      `TargetGroupBinding ${key}: ${result.targets} ${result.targetType} target(s) in ${result.targetGroupArn} (${result.registered} registered, ${result.deregistered} deregistered)`,
    );
    const out = await this.observe(current);
    this.event(tgb, 'Normal', TGB_REASONS.reconciled, 'Successfully reconciled');
    return out;
  }

  private async observe(tgb: TargetGroupBinding): Promise<Outcome> {
    try {
      await this.deps.writer.observe(tgb);
    } catch (e) {
      this.event(tgb, 'Warning', TGB_REASONS.failedUpdateStatus, `Failed update status due to ${describeError(e)}`);
      throw e;
    }
    return DONE;
  }

  private async cleanup(key: string, tgb: TargetGroupBinding, flight: Flight): Promise<Outcome> {
    if (!hasFinalizer(tgb, TGB_FINALIZER)) {
      this.forget(key);
      return DONE;
    }
    const out = await this.unbind(key, tgb, flight);
    if (out) return out;
    try {
      await this.deps.writer.setFinalizer(tgb, TGB_FINALIZER, false);
    } catch (e) {
      this.event(tgb, 'Warning', TGB_REASONS.failedRemoveFinalizer, `Failed remove finalizer due to ${describeError(e)}`);
      throw e;
    }
    this.forget(key);
    return DONE;
  }

  /** Every target out of `group` (by default the spec's) and the rules revoked; an Outcome when that failed. */
  private async unbind(key: string, tgb: TargetGroupBinding, flight: Flight, group = groupOf(tgb)): Promise<Outcome | undefined> {
    const ref = { namespace: tgb.metadata?.namespace ?? '', name: tgb.metadata?.name ?? '', uid: tgb.metadata?.uid ?? '' };
    try {
      await callProvider(this.deps.provider.name, flight, this.deps.providerTimeoutMs, (signal) => this.deps.provider.unbindTargets(ref, group, { signal }));
    } catch (e) {
      if (abortedByLbc(flight) && !tgb.metadata?.deletionTimestamp) return DONE;
      const f = classifyProviderFailure(e, this.deps.provider.name);
      this.event(tgb, 'Warning', TGB_REASONS.failedCleanup, `Failed cleanup due to ${f.error.message}`);
      this.deps.log.warn(`TargetGroupBinding ${key}: cleanup failed: ${f.error.message}`);
      return f.outcome;
    }
    return undefined;
  }

  /** A Warning about the same problem once, however often the key comes back. */
  private tell(key: string, tgb: TargetGroupBinding, type: 'Normal' | 'Warning', reason: string, message: string): void {
    if (this.told.get(key) === message) return;
    this.told.set(key, message);
    this.deps.log.warn(`TargetGroupBinding ${key}: ${message}`);
    this.event(tgb, type, reason, message);
  }

  private event(tgb: TargetGroupBinding, type: 'Normal' | 'Warning', reason: string, message: string): void {
    const target: InvolvedObject = {
      kind: 'TargetGroupBinding',
      apiVersion: 'elbv2.k8s.aws/v1beta1',
      name: tgb.metadata?.name ?? '',
      ...(tgb.metadata?.namespace !== undefined ? { namespace: tgb.metadata.namespace } : {}),
      ...(tgb.metadata?.uid !== undefined ? { uid: tgb.metadata.uid } : {}),
    };
    this.deps.events.event(target, type, reason, message);
  }

  private forget(key: string): void {
    this.applied.delete(key);
    this.told.delete(key);
    this.gate.clear(key);
  }
}
