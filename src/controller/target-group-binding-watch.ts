// The TargetGroupBinding half of the controller, set up only where the API server serves
// elbv2.k8s.aws/v1beta1 TargetGroupBindings and a provider binds targets (aws): its
// informer, its reconciler, and which news queue which binding: its own spec changes
// (not the echoes of lbc's finalizer and status writes), its Service's and that
// Service's EndpointSlices' (by index), and, through the controller's node batching, the
// eligible nodes for bindings with instance targets.
import type { IndexFunc, KubeObject } from '../kube/cache.js';
import type { Informer } from '../kube/informer.js';
import type { ResourceType } from '../kube/resources.js';
import { TargetGroupBindings, type TargetGroupBinding } from '../kube/target-group-bindings.js';
import type { Provider } from '../providers/types.js';
import { keyOf } from './reconcile.js';
import { TargetGroupBindingReconciler, type BindingProvider, type TargetGroupBindingReconcilerDeps } from './target-group-binding-reconciler.js';

export const TGB_KEY_PREFIX = 'targetgroupbinding/';
export const TGB_BY_SERVICE = 'byService';

/** The Service (`namespace/name`) a binding's serviceRef names, as ALBC indexes IndexKeyServiceRefName. */
export const bindingByService: IndexFunc<TargetGroupBinding> = (tgb) => (tgb.spec?.serviceRef?.name ? [`${tgb.metadata?.namespace ?? ''}/${tgb.spec.serviceRef.name}`] : []);

/** The provider that serves TargetGroupBindings: the first configured one that binds targets. */
export function bindingProvider(providers: readonly Provider[]): BindingProvider | undefined {
  return providers.find((p): p is BindingProvider => p.bindTargets !== undefined && p.unbindTargets !== undefined);
}

/** The reconciler's, but the bindings' cache, which the watch makes. */
export interface TargetGroupBindingWatchDeps extends Omit<TargetGroupBindingReconcilerDeps, 'bindings'> {
  /** Makes (and registers) an informer, as the controller does for its other kinds. */
  watch<T extends KubeObject>(kind: { readonly name: string; readonly resource: ResourceType<T>; readonly indexers: Record<string, IndexFunc<T>> }): Informer<T>;
  enqueue(queueKey: string): void;
  abort(queueKey: string): void;
}

export class TargetGroupBindingWatch {
  readonly reconciler: TargetGroupBindingReconciler;
  readonly bindings: Informer<TargetGroupBinding>;

  constructor(private readonly deps: TargetGroupBindingWatchDeps) {
    this.bindings = deps.watch({ name: 'targetgroupbindings', resource: TargetGroupBindings, indexers: { [TGB_BY_SERVICE]: bindingByService } });
    this.reconciler = new TargetGroupBindingReconciler({ ...deps, bindings: this.bindings.cache });
    this.bindings
      .onAdd((tgb) => deps.enqueue(queueKeyOf(keyOf(tgb))))
      .onUpdate((old, tgb) => {
        const key = queueKeyOf(keyOf(tgb));
        if (tgb.metadata?.deletionTimestamp && !old.metadata?.deletionTimestamp) deps.abort(key);
        // lbc's own finalizer and status writes change neither the generation nor the deletion.
        if (old.metadata?.generation !== tgb.metadata?.generation || Boolean(old.metadata?.deletionTimestamp) !== Boolean(tgb.metadata?.deletionTimestamp)) deps.enqueue(key);
      })
      .onDelete((tgb) => {
        deps.abort(queueKeyOf(keyOf(tgb)));
        deps.enqueue(queueKeyOf(keyOf(tgb)));
      });
  }

  /** A Service changed: the bindings naming it, when its spec did (asked only then: the echoes of status writes are many). */
  serviceChanged(serviceKey: string, specChanged: () => boolean): void {
    const users = this.bindings.cache.byIndex(TGB_BY_SERVICE, serviceKey);
    if (users.length === 0 || !specChanged()) return;
    for (const tgb of users) this.deps.enqueue(queueKeyOf(keyOf(tgb)));
  }

  /** Only ip bindings follow the endpoints (and those not bound yet, whose type the group decides). */
  endpointsChanged(serviceKey: string): void {
    for (const tgb of this.bindings.cache.byIndex(TGB_BY_SERVICE, serviceKey)) {
      const key = keyOf(tgb);
      if (this.reconciler.followsEndpoints(key)) this.deps.enqueue(queueKeyOf(key));
    }
  }

  enqueueAll(): void {
    for (const tgb of this.bindings.cache.list()) this.deps.enqueue(queueKeyOf(keyOf(tgb)));
  }
}

export const isBindingQueueKey = (k: string): boolean => k.startsWith(TGB_KEY_PREFIX);
export const bindingReconcilerKey = (k: string): string => k.slice(TGB_KEY_PREFIX.length);
export const queueKeyOf = (k: string): string => `${TGB_KEY_PREFIX}${k}`;
