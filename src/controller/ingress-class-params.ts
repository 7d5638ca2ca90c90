// The IngressClassParams (aws-load-balancer-controller's elbv2.k8s.aws/v1beta1 kind) lbc
// reads where an aws provider is configured, and the Namespaces whose labels their
// namespaceSelectors match, as GKE's kinds are read in gke-references.ts: informers only
// where the API server serves the kind; a change to one (or to a namespace's labels)
// brings back the Ingresses whose class names it. What they mean for an Ingress is
// ./ingress/class-params.ts's business.
import type { V1IngressClass, V1Namespace } from '@kubernetes/client-node';
import type { KubeClients } from '../kube/client.js';
import type { CustomObject } from '../kube/custom-resources.js';
import { discoverIngressClassParams, IngressClassParamsResource } from '../kube/ingress-class-params.js';
import { newInformer, type Informer, type InformerOptions, type WatchFn } from '../kube/informer.js';
import type { Logger } from '../kube/logger.js';
import { Namespaces } from '../kube/resources.js';
import type { Provider } from '../providers/types.js';
import { CLASS_PARAMS_KIND, type ClassParams, type ClassParamsLookups, type IngressClassParamsSpec } from './ingress/class-params.js';

export interface ClassParamsWatchOptions {
  readonly clients: KubeClients;
  readonly log: Logger;
  /** The IngressClasses lbc knows (the controller's cache). */
  readonly classes: () => readonly V1IngressClass[];
  /** An IngressClassParams changed (added, spec changed, deleted): by name. */
  readonly paramsChanged: (name: string) => void;
  /** A namespace's labels changed (or it came or went). */
  readonly namespaceChanged: (namespace: string) => void;
  readonly watch?: WatchFn;
  readonly informer?: Pick<InformerOptions<CustomObject>, 'minWatchTimeoutSeconds' | 'watchdogMs' | 'relistPeriodMs' | 'pageSize' | 'backoff'>;
}

const specOf = (o: CustomObject | undefined): string => JSON.stringify(o?.spec ?? null);
const labelsOf = (n: V1Namespace | undefined): string => JSON.stringify(n?.metadata?.labels ?? {});

export class ClassParamsWatch {
  private readonly params: Informer<CustomObject>;
  private readonly namespaces: Informer<V1Namespace>;
  private served = false;
  /** Why the kind cannot be read, once discovery has run; undefined while it is served. */
  private why: string | undefined = 'lbc has not yet found whether the IngressClassParams CRD is installed';
  private activation: Promise<void> | undefined;
  /** By params name: the group.name each last had, kept when it is deleted (ClassParamsLookups.lastGroup). */
  private readonly lastGroups = new Map<string, string>();
  readonly lookups: ClassParamsLookups;

  constructor(private readonly opts: ClassParamsWatchOptions) {
    const common = { ...opts.informer, logger: opts.log, ...(opts.watch ? { watch: opts.watch } : {}) };
    this.params = newInformer(opts.clients, IngressClassParamsResource, { ...common, name: 'ingressclassparams' });
    this.namespaces = newInformer(opts.clients, Namespaces, { ...common, name: 'namespaces-for-ingressclassparams' });
    const seen = (o: CustomObject): string => {
      const name = o.metadata?.name ?? '';
      const group = (o.spec as IngressClassParamsSpec | undefined)?.group?.name;
      if (group === undefined) this.lastGroups.delete(name);
      else this.lastGroups.set(name, group);
      return name;
    };
    this.params
      .onAdd((o) => opts.paramsChanged(seen(o)))
      .onUpdate((old, o) => {
        if (specOf(old) !== specOf(o)) opts.paramsChanged(seen(o));
      })
      .onDelete((o) => opts.paramsChanged(o.metadata?.name ?? ''));
    this.namespaces
      .onAdd((n) => opts.namespaceChanged(n.metadata?.name ?? ''))
      .onUpdate((old, n) => {
        if (labelsOf(old) !== labelsOf(n)) opts.namespaceChanged(n.metadata?.name ?? '');
      })
      .onDelete((n) => opts.namespaceChanged(n.metadata?.name ?? ''));
    this.lookups = {
      classes: opts.classes,
      params: (name) => {
        const o = this.params.cache.get(name);
        return o ? ({ name, spec: (o.spec ?? {}) as IngressClassParamsSpec } satisfies ClassParams) : undefined;
      },
      unavailable: () => this.why,
      lastGroup: (name) => this.lastGroups.get(name),
      namespaceLabels: (ns) => {
        const n = this.namespaces.cache.get(ns);
        return n ? (n.metadata?.labels ?? {}) : undefined;
      },
    };
  }

  /** One per controller that has an aws provider: no other provider reads these objects. */
  static wanted(providers: readonly Pick<Provider, 'type'>[]): boolean {
    return providers.some((p) => p.type === 'aws');
  }

  /** Finds whether the kind is served (once), starts the informers and waits for their lists. */
  async sync(signal?: AbortSignal): Promise<void> {
    this.activation ??= this.activate();
    await this.activation;
    await Promise.all(this.running().map((inf) => inf.waitForSync(signal)));
  }

  informerSync(): { readonly resource: string; readonly synced: boolean }[] {
    return this.served ? [{ resource: 'ingressclassparams', synced: this.params.hasSynced() }, { resource: 'namespaces-for-ingressclassparams', synced: this.namespaces.hasSynced() }] : [];
  }

  async stop(): Promise<void> {
    await Promise.all(this.running().map((inf) => inf.stop()));
  }

  private running(): Informer<never>[] {
    return this.served ? [this.params as unknown as Informer<never>, this.namespaces as unknown as Informer<never>] : [];
  }

  private async activate(): Promise<void> {
    try {
      this.served = await discoverIngressClassParams(this.opts.clients);
    } catch (e) {
      this.why = `lbc could not tell whether the ${CLASS_PARAMS_KIND} CRD is installed (${e instanceof Error ? e.message.split('\n')[0] : String(e)})`;
      this.opts.log.warn(`${this.why}: Ingresses whose class names one are not served`);
      return;
    }
    if (!this.served) {
      this.why = `the ${CLASS_PARAMS_KIND} CRD (elbv2.k8s.aws/v1beta1) is not installed`;
      this.opts.log.info(`${this.why}: an Ingress whose class names one is not served (install the CRD and restart lbc to use them)`);
      return;
    }
    this.why = undefined;
    for (const inf of this.running()) inf.start();
  }
}
