// The periodic sweep that makes "a crash between any two cloud calls leaks nothing"
// true: every provider lists what it owns for this cluster (by its ownership tags),
// and whatever no live object lbc serves still wants is deleted (or, in dry-run, only
// logged). The reconcilers already delete what they know about; this catches what no
// reconcile will ever see again: objects deleted while lbc was down without its
// finalizer, a class moved to another provider across a restart, a hung call that
// completed after its object was gone.
import type { V1Ingress, V1IngressClass, V1Service } from '@kubernetes/client-node';
import type { LbcConfig } from '../config/config.js';
import type { Cache } from '../kube/cache.js';
import type { Logger } from '../kube/logger.js';
import { hasFinalizer } from '../kube/status.js';
import { describeRef, isIngressGroupRef, type LbRef } from '../model/ref.js';
import type { ProviderSet } from '../providers/registry.js';
import { INGRESS_BY_GROUP, groupKeyOf } from './ingress-reconciler.js';
import { someParamsUnreadable, type ClassParamsLookups } from './ingress/class-params.js';
import type { Gateway, GatewayClass } from '../kube/gateway-api.js';
import { isOurGatewayClass, providerOfGatewayClass, type ParameterReaders } from './gateway/gateway-class.js';
import type { GatewayControllers } from './gateway/controller-names.js';
import { ingressOwnership, serviceOwnership } from '../config/ownership.js';
import { callProvider, FINALIZER, Flight, type LogSubject } from './reconcile.js';

export interface OwnerLookups {
  readonly config: LbcConfig;
  readonly services: Pick<Cache<V1Service>, 'get'>;
  readonly ingresses: Pick<Cache<V1Ingress>, 'get' | 'byIndex' | 'list'>;
  readonly ingressClasses: Pick<Cache<V1IngressClass>, 'list'>;
  /** IngressClassParams, where they are read: their group.name decides which LB an Ingress wants. */
  readonly classParams?: ClassParamsLookups;
  /** The Gateway caches, once the controller watches the Gateway API; undefined before (or without it). */
  gateway?(): { readonly gateways: Pick<Cache<Gateway>, 'get'>; readonly gatewayClasses: Pick<Cache<GatewayClass>, 'get'> } | undefined;
  /** The GatewayClass controllerNames served (gateway/controller-names.ts): a Gateway of a compatible class wants its LB too. */
  readonly gatewayControllers: Pick<GatewayControllers, 'names' | 'compatible'>;
  /** Which providers read a GatewayClass's parametersRef kind (a LoadBalancerConfiguration names the aws provider); absent: such a class is misconfigured, its LBs kept. */
  readonly parameterReaders?: ParameterReaders;
}

/**
 * Whether a live object still wants the LB `ref` that `provider` holds: it exists with
 * that uid and lbc serves it with that provider, or it still carries lbc's finalizer,
 * in which case its reconcile is responsible for the cleanup.
 */
export function isWanted(ref: LbRef, provider: string, l: OwnerLookups): boolean {
  if (ref.kind === 'Gateway') {
    // Without the Gateway caches (the API not found, or not yet) nothing can be judged: keep it.
    const g = l.gateway?.();
    if (!g) return true;
    const gw = g.gateways.get(`${ref.namespace}/${ref.name}`);
    if (!gw || gw.metadata?.uid !== ref.uid) return false;
    const gc = g.gatewayClasses.get(gw.spec?.gatewayClassName ?? '');
    if (isOurGatewayClass(gc, l.gatewayControllers) && !gw.metadata?.deletionTimestamp) {
      const owner = providerOfGatewayClass(gc, l.config, l.parameterReaders, l.gatewayControllers);
      // Misconfigured: the reconciler keeps such LBs as they are.
      return !owner.ok || owner.provider === provider;
    }
    return hasFinalizer(gw, FINALIZER);
  }
  if (ref.kind === 'Service') {
    const svc = l.services.get(`${ref.namespace}/${ref.name}`);
    if (!svc || svc.metadata?.uid !== ref.uid) return false;
    const own = serviceOwnership(svc, l.config);
    if (own.ours && !svc.metadata?.deletionTimestamp) return own.provider === provider;
    return hasFinalizer(svc, FINALIZER);
  }
  const classes = l.ingressClasses.list();
  // An Ingress whose class's params cannot be read may belong to any group: nothing can be judged, keep it.
  if (l.classParams && someParamsUnreadable(l.ingresses.list(), l.classParams)) return true;
  const wants = (ing: V1Ingress): boolean => {
    const own = ingressOwnership(ing, classes, l.config);
    // provider null: misconfigured, and the reconciler keeps such LBs as they are.
    if (own.ours && !ing.metadata?.deletionTimestamp) return own.provider === provider || own.provider === null;
    return hasFinalizer(ing, FINALIZER);
  };
  if (isIngressGroupRef(ref)) return l.ingresses.byIndex(INGRESS_BY_GROUP, `group/${ref.name}`).some(wants);
  const ing = l.ingresses.get(`${ref.namespace}/${ref.name}`);
  if (!ing || ing.metadata?.uid !== ref.uid) return false;
  return groupKeyOf(ing, l.classParams) === `ingress/${ref.namespace}/${ref.name}` && wants(ing);
}

export interface SweepResult {
  /** LBs the providers reported. */
  readonly owned: number;
  /** Those no live object wants. */
  readonly orphans: readonly { readonly provider: string; readonly ref: LbRef }[];
  readonly deleted: number;
  readonly failed: number;
}

export interface GarbageCollectorOptions {
  readonly providers: ProviderSet;
  readonly lookups: OwnerLookups;
  readonly dryRun: boolean;
  readonly log: Logger;
  readonly providerTimeoutMs: number;
  /**
   * The one namespace lbc watches (--watch-namespace), when it watches one: the caches hold
   * nothing of the others, so their load balancers (and Ingress groups, which may span
   * namespaces) look unwanted here without being so, and are left alone.
   */
  readonly namespace?: string;
}

export class GarbageCollector {
  private running: Promise<SweepResult> | undefined;

  constructor(private readonly opts: GarbageCollectorOptions) {}

  /** One sweep; concurrent callers share the sweep in progress. */
  sweep(): Promise<SweepResult> {
    this.running ??= this.run().finally(() => (this.running = undefined));
    return this.running;
  }

  private async run(): Promise<SweepResult> {
    const { providers, lookups, dryRun, log, providerTimeoutMs } = this.opts;
    let owned = 0;
    let deleted = 0;
    let failed = 0;
    const orphans: { provider: string; ref: LbRef }[] = [];
    for (const provider of providers.all) {
      let list;
      try {
        list = await callProvider(provider.name, new Flight(), providerTimeoutMs, (s) => provider.listOwned({ signal: s }));
      } catch (e) {
        failed++;
        log.warn(`garbage collection: provider ${provider.name} could not list what it owns: ${(e as Error).message}`, { provider: provider.name });
        continue;
      }
      owned += list.length;
      for (const { ref, id } of list) {
        if (this.opts.namespace !== undefined && ref.namespace !== this.opts.namespace) continue;
        if (isWanted(ref, provider.name, lookups)) continue;
        orphans.push({ provider: provider.name, ref });
        if (dryRun) {
          log.info(`garbage collection (dry run): would delete ${provider.name} load balancer ${id} of ${describeRef(ref)} (uid ${ref.uid}): no live object wants it`, refSubject(ref, provider.name));
          continue;
        }
        try {
          await callProvider(provider.name, new Flight(), providerTimeoutMs, (s) => provider.delete(ref, { signal: s }));
          deleted++;
          log.info(`garbage collection: deleted ${provider.name} load balancer ${id} of ${describeRef(ref)} (uid ${ref.uid}): no live object wants it`, refSubject(ref, provider.name));
        } catch (e) {
          failed++;
          log.warn(`garbage collection: deleting ${provider.name} load balancer ${id} of ${describeRef(ref)} failed: ${(e as Error).message}`, refSubject(ref, provider.name));
        }
      }
    }
    return { owned, orphans, deleted, failed };
  }
}

/** The object an LB ref was made for, in the shape the reconcilers log it (a group as `group/<name>`). */
function refSubject(ref: LbRef, provider: string): LogSubject {
  if (ref.kind === 'Ingress' && isIngressGroupRef(ref)) return { kind: 'Ingress', name: `group/${ref.name}`, provider };
  return { kind: ref.kind, namespace: ref.namespace, name: ref.name, provider };
}
