// The GKE objects an Ingress served by a gce provider names outside itself, read as
// GKE's controllers read them: the BackendConfig of each backend Service port
// (cloud.google.com/backend-config on the Service, and the IAP OAuth client Secret the
// BackendConfig names, read from the controller's Opaque-Secret informer, the one
// ingress/provider-secrets.ts describes), the Ingress's FrontendConfig (networking.gke.io/v1beta1.FrontendConfig)
// and ManagedCertificates (networking.gke.io/managed-certificates). They reach the
// provider through the spec's options; the provider never reads Kubernetes.
//
// Each is protection a user asked for (IAP, Cloud Armor, the HTTPS redirect, a
// certificate): one that does not exist, or whose CRD is not installed, stops the
// Ingress with a Warning and a retry, and the load balancer stays as it was rather than
// being built without it. Their informers run only where the API server serves the
// kinds; a change to one brings back the Ingresses that use it (by index). The state of
// each Google-managed certificate is written back to its ManagedCertificate's status as
// GKE's managed-certificate controller writes it.
import type { V1Ingress, V1Secret, V1Service } from '@kubernetes/client-node';
import type { Cache, IndexFunc } from '../kube/cache.js';
import type { KubeClients } from '../kube/client.js';
import { customObjects, type CustomObject } from '../kube/custom-resources.js';
import { BackendConfigs, discoverGkeKinds, FrontendConfigs, ManagedCertificates, type GkeKind, type ServedGkeKinds } from '../kube/gke-resources.js';
import { INGRESS_BY_BACKEND_SERVICE } from '../kube/indexes.js';
import { newInformer, type Informer, type InformerOptions, type WatchFn } from '../kube/informer.js';
import type { Logger } from '../kube/logger.js';
import type { L7Spec } from '../model/spec.js';
import type { ManagedCertificateState } from '../model/status.js';
import { formatModelError } from '../model/validation.js';
import {
  ANNOTATION_FRONTEND_CONFIG,
  ANNOTATION_MANAGED_CERTIFICATES,
  unimplementedAnnotations,
  type GceLbOptions,
} from '../providers/gce/annotations.js';
import { backendConfigKey, backendConfigNameFor, backendConfigNames, backendConfigRefs, type BackendConfigSpec, type IapClient, type ResolvedBackendConfig } from '../providers/gce/backend-config.js';
import type { FrontendConfigSpec, ResolvedFrontendConfig } from '../providers/gce/frontend-config.js';
import type { ResolvedManagedCertificate } from '../providers/gce/managed-certificate.js';
import type { Provider } from '../providers/types.js';

export const INGRESS_BY_GKE_CONFIG = 'byGkeConfig';
export const SERVICE_BY_BACKEND_CONFIG = 'byBackendConfig';
export const BACKEND_CONFIG_BY_IAP_SECRET = 'byIapSecret';

/** The Secret (`namespace/name`) a BackendConfig's IAP takes its OAuth client from. */
export const backendConfigByIapSecret: IndexFunc<CustomObject> = (bc) => {
  const name = (bc.spec as BackendConfigSpec | undefined)?.iap?.oauthclientCredentials?.secretName;
  return name ? [`${bc.metadata?.namespace ?? ''}/${name}`] : [];
};

const API_VERSIONS: Readonly<Record<GkeKind, string>> = {
  BackendConfig: BackendConfigs.apiVersion,
  FrontendConfig: FrontendConfigs.apiVersion,
  ManagedCertificate: ManagedCertificates.apiVersion,
};

/** As GKE's managed-certs controller splits the annotation: comma-separated, spaces trimmed. */
const managedCertificateNames = (value: string | undefined): string[] => [
  ...new Set(
    (value ?? '')
      .split(',')
      .map((n) => n.trim())
      .filter(Boolean),
  ),
];

/** An Ingress's FrontendConfig and ManagedCertificates, as `<Kind>/<namespace>/<name>`. */
export const ingressByGkeConfig: IndexFunc<V1Ingress> = (ing) => {
  const ns = ing.metadata?.namespace ?? '';
  const a = ing.metadata?.annotations ?? {};
  const frontend = a[ANNOTATION_FRONTEND_CONFIG]?.trim();
  return [...(frontend ? [`FrontendConfig/${ns}/${frontend}`] : []), ...managedCertificateNames(a[ANNOTATION_MANAGED_CERTIFICATES]).map((n) => `ManagedCertificate/${ns}/${n}`)];
};

/** The BackendConfigs (`namespace/name`) a Service's annotation names, for any of its ports. */
export const serviceByBackendConfig: IndexFunc<V1Service> = (svc) => {
  const r = backendConfigRefs(svc.metadata?.annotations);
  return r.ok && r.refs ? backendConfigNames(r.refs).map((n) => `${svc.metadata?.namespace ?? ''}/${n}`) : [];
};

export type ReferenceResolution =
  | {
      readonly ok: true;
      readonly spec: L7Spec;
      /** Annotations on backend Services lbc does not implement: Warnings, once per change. */
      readonly warnings: readonly string[];
    }
  /** What is missing or unusable, every item named. */
  | { readonly ok: false; readonly message: string };

export interface GkeReferencesOptions {
  readonly clients: KubeClients;
  readonly log: Logger;
  readonly services: Pick<Cache<V1Service>, 'get' | 'byIndex'>;
  readonly ingresses: Pick<Cache<V1Ingress>, 'byIndex'>;
  /** The Opaque Secrets the controller watches for providers' references (watched-kinds providerSecrets): IAP OAuth clients among them. */
  readonly secrets: Pick<Cache<V1Secret>, 'get'>;
  /** Queues the load balancer of an Ingress whose references changed. */
  readonly ingressChanged: (ing: V1Ingress) => void;
  /** Watch this namespace only (the controller's). */
  readonly namespace?: string;
  readonly watch?: WatchFn;
  readonly informer?: Pick<InformerOptions<CustomObject>, 'minWatchTimeoutSeconds' | 'watchdogMs' | 'relistPeriodMs' | 'pageSize' | 'backoff'>;
}

const specOf = (o: CustomObject | undefined): string => JSON.stringify(o?.spec ?? null);

export class GkeReferences {
  private readonly informers: Readonly<Record<GkeKind, Informer<CustomObject>>>;
  private served: ServedGkeKinds = { BackendConfig: false, FrontendConfig: false, ManagedCertificate: false };
  /** Why a kind is not watched when discovery failed; the CRDs' absence otherwise. */
  private unknown: string | undefined;
  private activation: Promise<void> | undefined;

  constructor(private readonly opts: GkeReferencesOptions) {
    const common = { ...opts.informer, logger: opts.log, ...(opts.watch ? { watch: opts.watch } : {}), ...(opts.namespace ? { namespace: opts.namespace } : {}) };
    this.informers = {
      BackendConfig: newInformer(opts.clients, BackendConfigs, { ...common, name: 'backendconfigs', indexers: { [BACKEND_CONFIG_BY_IAP_SECRET]: backendConfigByIapSecret } }),
      FrontendConfig: newInformer(opts.clients, FrontendConfigs, { ...common, name: 'frontendconfigs' }),
      ManagedCertificate: newInformer(opts.clients, ManagedCertificates, { ...common, name: 'managedcertificates' }),
    };
    // Only a spec change matters: lbc's own status writes on ManagedCertificates come back as updates too.
    const on = (kind: GkeKind, changed: (key: string) => void): void => {
      const key = (o: CustomObject): string => `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
      this.informers[kind]
        .onAdd((o) => changed(key(o)))
        .onUpdate((old, o) => {
          if (specOf(old) !== specOf(o)) changed(key(o));
        })
        .onDelete((o) => changed(key(o)));
    };
    on('BackendConfig', (key) => this.backendConfigChanged(key));
    for (const kind of ['FrontendConfig', 'ManagedCertificate'] as const) {
      on(kind, (key) => {
        for (const ing of opts.ingresses.byIndex(INGRESS_BY_GKE_CONFIG, `${kind}/${key}`)) opts.ingressChanged(ing);
      });
    }
  }

  /** A Secret the controller watches changed: the Ingresses whose BackendConfig's IAP names it are synced again. */
  secretChanged(key: string): void {
    if (!this.served.BackendConfig) return;
    for (const bc of this.informers.BackendConfig.cache.byIndex(BACKEND_CONFIG_BY_IAP_SECRET, key)) {
      this.backendConfigChanged(`${bc.metadata?.namespace ?? ''}/${bc.metadata?.name ?? ''}`);
    }
  }

  private backendConfigChanged(key: string): void {
    for (const svc of this.opts.services.byIndex(SERVICE_BY_BACKEND_CONFIG, key)) {
      for (const ing of this.opts.ingresses.byIndex(INGRESS_BY_BACKEND_SERVICE, `${svc.metadata?.namespace ?? ''}/${svc.metadata?.name ?? ''}`)) this.opts.ingressChanged(ing);
    }
  }

  /** One per controller that has a gce provider: no other provider reads these objects. */
  static wanted(providers: readonly Pick<Provider, 'type'>[]): boolean {
    return providers.some((p) => p.type === 'gce');
  }

  /** Finds which kinds are served (once, however many callers sync together), starts their informers and waits for their lists. */
  async sync(signal?: AbortSignal): Promise<void> {
    this.activation ??= this.activate();
    await this.activation;
    await Promise.all(this.running().map((inf) => inf.waitForSync(signal)));
  }

  informerSync(): { readonly resource: string; readonly synced: boolean }[] {
    return (Object.keys(this.informers) as GkeKind[]).filter((k) => this.served[k]).map((k) => ({ resource: `${k.toLowerCase()}s`, synced: this.informers[k].hasSynced() }));
  }

  async stop(): Promise<void> {
    await Promise.all(this.running().map((inf) => inf.stop()));
  }

  private running(): Informer<CustomObject>[] {
    return (Object.keys(this.informers) as GkeKind[]).filter((k) => this.served[k]).map((k) => this.informers[k]);
  }

  private async activate(): Promise<void> {
    try {
      this.served = await discoverGkeKinds(this.opts.clients);
    } catch (e) {
      this.unknown = `lbc could not tell whether it is installed (${e instanceof Error ? e.message.split('\n')[0] : String(e)})`;
      this.opts.log.warn(`cannot tell whether GKE's BackendConfig, FrontendConfig and ManagedCertificate CRDs are installed: Ingresses naming them are refused: ${this.unknown}`);
      return;
    }
    const missing = (Object.keys(this.served) as GkeKind[]).filter((k) => !this.served[k]);
    if (missing.length > 0) this.opts.log.info(`GKE's ${missing.join(', ')} CRDs are not installed: an Ingress naming one is refused (install them and restart lbc to use them)`);
    for (const inf of this.running()) inf.start();
  }

  /**
   * The spec with the referenced objects in its gce options, or why it cannot be built:
   * every missing or unusable object named. The IAP Secrets' values never reach a
   * message or a log.
   */
  async resolve(ingresses: readonly V1Ingress[], spec: L7Spec): Promise<ReferenceResolution> {
    const problems: string[] = [];
    const warnings: string[] = [];
    const lookup = (kind: GkeKind, namespace: string, name: string): CustomObject | undefined => {
      const what = `${kind} ${namespace}/${name}`;
      if (!this.served[kind]) {
        problems.push(`${what}: ${this.unknown ?? `the ${kind} CRD (${API_VERSIONS[kind]}) is not installed`}`);
        return undefined;
      }
      const obj = this.informers[kind].cache.get(`${namespace}/${name}`);
      if (!obj) problems.push(`${what} does not exist`);
      return obj;
    };

    // FrontendConfig: one per load balancer; members of a group that name different ones cannot all have theirs.
    const frontendRefs = [...new Set(ingresses.flatMap((ing) => ingressByGkeConfig(ing).filter((k) => k.startsWith('FrontendConfig/'))))];
    let frontendConfig: ResolvedFrontendConfig | undefined;
    if (frontendRefs.length > 1) {
      problems.push(`the group's Ingresses name different FrontendConfigs (${frontendRefs.map((r) => r.slice('FrontendConfig/'.length)).join(', ')}); its one load balancer has one frontend`);
    } else if (frontendRefs[0]) {
      const [, namespace = '', name = ''] = frontendRefs[0].split('/');
      const obj = lookup('FrontendConfig', namespace, name);
      if (obj) frontendConfig = { source: `${namespace}/${name}`, spec: (obj.spec ?? {}) as FrontendConfigSpec };
    }

    const managedCertificates: ResolvedManagedCertificate[] = [];
    for (const ref of new Set(ingresses.flatMap((ing) => ingressByGkeConfig(ing).filter((k) => k.startsWith('ManagedCertificate/'))))) {
      const [, namespace = '', name = ''] = ref.split('/');
      const obj = lookup('ManagedCertificate', namespace, name);
      if (obj) managedCertificates.push({ source: `${namespace}/${name}`, domains: ((obj.spec as { domains?: string[] } | undefined)?.domains ?? []).slice() });
    }

    const backendConfigs: Record<string, ResolvedBackendConfig> = {};
    const seenServices = new Set<string>();
    for (const t of spec.targetSets) {
      const { namespace, service, port } = t.backend;
      const svcKey = `${namespace}/${service}`;
      const svc = this.opts.services.get(svcKey);
      if (!svc) continue;
      if (!seenServices.has(svcKey)) {
        seenServices.add(svcKey);
        for (const a of unimplementedAnnotations(svc.metadata?.annotations, 'Service')) {
          warnings.push(`Service ${svcKey}: annotation ${a} is not implemented by lbc's gce provider and has no effect`);
        }
      }
      const refs = backendConfigRefs(svc.metadata?.annotations);
      if (!refs.ok) {
        problems.push(formatModelError({ ...refs.error, object: `Service ${svcKey}` }));
        continue;
      }
      if (!refs.refs) continue;
      const name = backendConfigNameFor(refs.refs, { name: svc.spec?.ports?.find((p) => p.port === port)?.name, port });
      if (name === undefined) continue;
      const obj = lookup('BackendConfig', namespace, name);
      if (!obj) continue;
      const bcSpec = (obj.spec ?? {}) as BackendConfigSpec;
      const iapClient = this.iapClient(namespace, name, bcSpec, problems);
      backendConfigs[backendConfigKey(namespace, service, port)] = { source: `${namespace}/${name}`, spec: bcSpec, ...(iapClient ? { iapClient } : {}) };
    }

    if (problems.length > 0) return { ok: false, message: [...new Set(problems)].join('; ') };
    const options = spec.providerOptions as GceLbOptions;
    return {
      ok: true,
      warnings,
      spec: {
        ...spec,
        providerOptions: {
          ...options,
          ...(Object.keys(backendConfigs).length > 0 ? { backendConfigs } : {}),
          ...(frontendConfig ? { frontendConfig } : {}),
          ...(managedCertificates.length > 0 ? { managedCertificates } : {}),
        },
      },
    };
  }

  /** The OAuth client of a BackendConfig's IAP, from the Secret it names (keys client_id, client_secret). */
  private iapClient(namespace: string, config: string, spec: BackendConfigSpec, problems: string[]): IapClient | undefined {
    const secretName = spec.iap?.oauthclientCredentials?.secretName;
    if (!secretName) return undefined;
    const key = `${namespace}/${secretName}`;
    const secret = this.opts.secrets.get(key);
    const where = `Secret ${key} (iap.oauthclientCredentials.secretName of BackendConfig ${namespace}/${config})`;
    if (!secret) {
      // GKE documents it as a generic (Opaque) Secret; those are the ones lbc watches.
      problems.push(`${where} does not exist (as an Opaque Secret)`);
      return undefined;
    }
    const value = (k: string): string | undefined => {
      const v = secret.data?.[k] ?? secret.stringData?.[k];
      if (v === undefined) return undefined;
      return secret.data?.[k] !== undefined ? Buffer.from(v, 'base64').toString('utf8') : v;
    };
    const clientId = value('client_id');
    const clientSecret = value('client_secret');
    const lacking = [...(clientId ? [] : ['client_id']), ...(clientSecret ? [] : ['client_secret'])];
    if (lacking.length > 0 || !clientId || !clientSecret) {
      problems.push(`${where} has no ${lacking.join(' and ')}`);
      return undefined;
    }
    return { clientId, clientSecret };
  }

  /** Writes each managed certificate's state to its ManagedCertificate's status, where it differs (GKE's certificates.CopyStatus). */
  async writeStatus(states: readonly ManagedCertificateState[]): Promise<void> {
    if (!this.served.ManagedCertificate) return;
    for (const s of states) {
      const obj = this.informers.ManagedCertificate.cache.get(s.source);
      if (!obj) continue;
      const status = {
        certificateName: s.certificateName,
        certificateStatus: s.certificateStatus,
        domainStatus: s.domainStatus.map((d) => ({ domain: d.domain, status: d.status })),
        ...(s.expireTime !== undefined ? { expireTime: s.expireTime } : {}),
      };
      const current = (obj.status ?? {}) as Record<string, unknown>;
      if ((Object.keys(status) as (keyof typeof status)[]).every((k) => JSON.stringify(current[k]) === JSON.stringify(status[k]))) continue;
      const [namespace = '', name = ''] = s.source.split('/');
      await customObjects(this.opts.clients, ManagedCertificates).patchStatus(namespace, name, status);
    }
  }
}

/** Whether the provider is one whose Ingresses carry GKE references. */
export const readsGkeReferences = (provider: Pick<Provider, 'type'>): boolean => provider.type === 'gce';

/** Still being provisioned (or failed, and GCE keeps trying): the status should be read again. */
export const certificatesSettled = (states: readonly ManagedCertificateState[] | undefined): boolean => (states ?? []).every((s) => s.certificateStatus === 'Active');
