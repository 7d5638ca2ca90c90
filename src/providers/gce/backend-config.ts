// GKE's BackendConfig (cloud.google.com/v1) applied to an Ingress backend's backend
// service and health check, field for field as ingress-gce's pkg/backends/features do and
// as GKE documents them (https://cloud.google.com/kubernetes-engine/docs/how-to/ingress-configuration).
// The controller reads the BackendConfig a Service names in cloud.google.com/backend-config
// (and the IAP OAuth client from the Secret it names) and hands it here through the
// Ingress's provider options; the provider never reads Kubernetes itself.
//
// Every documented field either reaches GCE or is refused with a clear error, never
// dropped: a BackendConfig usually asks for protection (IAP, Cloud Armor) and a load
// balancer built without it would be open.
import type { Annotations } from '../../model/annotations.js';
import type { ModelError } from '../../model/validation.js';
import type { BackendService } from './backend-service.js';
import type { HealthCheck } from './health-check.js';

/** The fields of a BackendConfig's spec that lbc applies (the CRD in deploy/crds/gke). */
export interface BackendConfigSpec {
  readonly timeoutSec?: number;
  readonly connectionDraining?: { readonly drainingTimeoutSec?: number };
  readonly healthCheck?: {
    readonly checkIntervalSec?: number;
    readonly timeoutSec?: number;
    readonly healthyThreshold?: number;
    readonly unhealthyThreshold?: number;
    readonly type?: string;
    readonly requestPath?: string;
    readonly port?: number;
  };
  readonly sessionAffinity?: { readonly affinityType?: string; readonly affinityCookieTtlSec?: number };
  readonly securityPolicy?: { readonly name: string };
  readonly customRequestHeaders?: { readonly headers?: readonly string[] };
  readonly customResponseHeaders?: { readonly headers?: readonly string[] };
  readonly logging?: { readonly enable?: boolean; readonly sampleRate?: number };
  readonly iap?: { readonly enabled: boolean; readonly oauthclientCredentials?: { readonly secretName: string } };
  readonly cdn?: {
    readonly enabled: boolean;
    readonly cachePolicy?: {
      readonly includeHost?: boolean;
      readonly includeProtocol?: boolean;
      readonly includeQueryString?: boolean;
      readonly queryStringBlacklist?: readonly string[];
      readonly queryStringWhitelist?: readonly string[];
    };
    readonly cacheMode?: string;
    readonly clientTtl?: number;
    readonly defaultTtl?: number;
    readonly maxTtl?: number;
    readonly negativeCaching?: boolean;
    readonly negativeCachingPolicy?: readonly { readonly code?: number; readonly ttl?: number }[];
    readonly requestCoalescing?: boolean;
    readonly serveWhileStale?: number;
    readonly signedUrlCacheMaxAgeSec?: number;
    readonly signedUrlKeys?: readonly unknown[];
    readonly bypassCacheOnRequestHeaders?: readonly { readonly headerName?: string }[];
  };
}

/** The OAuth client of oauthclientCredentials.secretName (keys client_id, client_secret). Never logged. */
export interface IapClient {
  readonly clientId: string;
  readonly clientSecret: string;
}

/** A BackendConfig as the controller resolved it for one Service port. */
export interface ResolvedBackendConfig {
  /** `namespace/name` of the BackendConfig, for errors. */
  readonly source: string;
  readonly spec: BackendConfigSpec;
  /** Set when spec.iap.oauthclientCredentials names a Secret; the controller read it. */
  readonly iapClient?: IapClient;
}

/** The key of GceLbOptions.backendConfigs for an Ingress backend: `namespace/service/port`. */
export const backendConfigKey = (namespace: string, service: string, port: number): string => `${namespace}/${service}/${port}`;

/** On an Ingress backend Service: the BackendConfig of each port (ingress-gce pkg/annotations/service.go BackendConfigKey; the beta key is read when the GA one is absent). */
export const ANNOTATION_BACKEND_CONFIG = 'cloud.google.com/backend-config';
export const ANNOTATION_BACKEND_CONFIG_BETA = 'beta.cloud.google.com/backend-config';

/** A Service's cloud.google.com/backend-config: the BackendConfig for every port, and by port name or number. */
export interface BackendConfigRefs {
  readonly default?: string;
  readonly ports: Readonly<Record<string, string>>;
}

export type BackendConfigRefsResult = { readonly ok: true; readonly refs?: BackendConfigRefs } | { readonly ok: false; readonly error: ModelError };

/**
 * The BackendConfigs a Service names, as ingress-gce reads them (pkg/annotations/service.go
 * GetBackendConfigs): the GA key, else the beta one; JSON with `default` and/or `ports`;
 * naming none is an error there too. No annotation: no refs.
 */
export function backendConfigRefs(annotations: Annotations): BackendConfigRefsResult {
  const key = annotations?.[ANNOTATION_BACKEND_CONFIG] !== undefined ? ANNOTATION_BACKEND_CONFIG : ANNOTATION_BACKEND_CONFIG_BETA;
  const raw = annotations?.[key];
  if (raw === undefined) return { ok: true };
  const bad = (reason: string): BackendConfigRefsResult => ({ ok: false, error: { annotation: key, reason } });
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    return bad(`${JSON.stringify(raw)} is not JSON (expected e.g. {"default":"my-config"} or {"ports":{"80":"my-config"}})`);
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return bad('must be a JSON object with "default" and/or "ports"');
  const { default: def, ports = {}, ...rest } = v as { default?: unknown; ports?: unknown };
  const extra = Object.keys(rest);
  if (extra.length > 0) return bad(`unknown field ${extra.map((k) => JSON.stringify(k)).join(', ')} (expected "default" and/or "ports")`);
  if (def !== undefined && typeof def !== 'string') return bad('"default" must be a BackendConfig name');
  if (ports === null || typeof ports !== 'object' || Array.isArray(ports) || Object.values(ports).some((n) => typeof n !== 'string' || n === '')) {
    return bad('"ports" must map port names or numbers to BackendConfig names');
  }
  const portMap = ports as Record<string, string>;
  if (!def && Object.keys(portMap).length === 0) return bad('names no BackendConfig (neither "default" nor "ports")');
  return { ok: true, refs: { ...(def ? { default: def } : {}), ports: portMap } };
}

/** The BackendConfig for one Service port: by its name, else its number, else the default (ingress-gce pkg/backendconfig/utils.go BackendConfigName). */
export function backendConfigNameFor(refs: BackendConfigRefs, port: { readonly name?: string | undefined; readonly port: number }): string | undefined {
  return (port.name !== undefined ? refs.ports[port.name] : undefined) ?? refs.ports[String(port.port)] ?? refs.default;
}

/** Every BackendConfig name the refs mention. */
export const backendConfigNames = (refs: BackendConfigRefs): string[] => [...new Set([...(refs.default ? [refs.default] : []), ...Object.values(refs.ports)])];

const HC_TYPES = ['HTTP', 'HTTPS', 'HTTP2'] as const;
const AFFINITIES = ['NONE', 'CLIENT_IP', 'GENERATED_COOKIE'] as const;

/** Why this BackendConfig cannot be applied as written; empty when it can. */
export function backendConfigProblems(c: ResolvedBackendConfig): string[] {
  const s = c.spec;
  const out: string[] = [];
  const hcType = s.healthCheck?.type;
  if (hcType !== undefined && !(HC_TYPES as readonly string[]).includes(hcType)) out.push(`healthCheck.type ${hcType} is not one of ${HC_TYPES.join(', ')}`);
  const affinity = s.sessionAffinity?.affinityType;
  if (affinity !== undefined && !(AFFINITIES as readonly string[]).includes(affinity)) out.push(`sessionAffinity.affinityType ${affinity} is not one of ${AFFINITIES.join(', ')}`);
  if (s.sessionAffinity?.affinityCookieTtlSec !== undefined && affinity !== 'GENERATED_COOKIE') {
    out.push('sessionAffinity.affinityCookieTtlSec needs affinityType GENERATED_COOKIE');
  }
  if (s.iap?.enabled && !c.iapClient) {
    // The Compute API refuses IAP without both (iap/docs/reference/compute-engine-apis).
    out.push('iap.enabled needs oauthclientCredentials.secretName, a Secret with client_id and client_secret');
  }
  // IAP's documentation: it is not compatible with Cloud CDN on one backend service.
  if (s.iap?.enabled && s.cdn?.enabled) out.push('iap and cdn cannot both be enabled on one backend');
  // Signed URL keys are separate Compute calls (addSignedUrlKey) lbc does not make; refusing beats serving unsigned.
  if ((s.cdn?.signedUrlKeys ?? []).length > 0) out.push('cdn.signedUrlKeys is not supported by lbc');
  return out.map((p) => `BackendConfig ${c.source}: ${p}`);
}

/** The backend service fields the BackendConfig sets, over lbc's defaults. */
export function backendServiceFields(c: ResolvedBackendConfig, securityPolicyLink: (name: string) => string): Partial<BackendService> {
  const s = c.spec;
  const out: BackendService = {};
  if (s.timeoutSec !== undefined) out.timeoutSec = s.timeoutSec;
  if (s.connectionDraining?.drainingTimeoutSec !== undefined) out.connectionDraining = { drainingTimeoutSec: s.connectionDraining.drainingTimeoutSec };
  if (s.sessionAffinity?.affinityType !== undefined) out.sessionAffinity = s.sessionAffinity.affinityType;
  if (s.sessionAffinity?.affinityCookieTtlSec !== undefined) out.affinityCookieTtlSec = s.sessionAffinity.affinityCookieTtlSec;
  if (s.customRequestHeaders?.headers !== undefined) out.customRequestHeaders = [...s.customRequestHeaders.headers];
  if (s.customResponseHeaders?.headers !== undefined) out.customResponseHeaders = [...s.customResponseHeaders.headers];
  if (s.logging !== undefined) {
    out.logConfig = { enable: s.logging.enable ?? false, ...(s.logging.enable && s.logging.sampleRate !== undefined ? { sampleRate: s.logging.sampleRate } : {}) };
  }
  if (s.iap !== undefined) {
    out.iap = { enabled: s.iap.enabled, ...(c.iapClient ? { oauth2ClientId: c.iapClient.clientId, oauth2ClientSecret: c.iapClient.clientSecret } : {}) };
  }
  if (s.cdn !== undefined) {
    out.enableCDN = s.cdn.enabled;
    if (s.cdn.enabled) out.cdnPolicy = cdnPolicy(s.cdn);
  }
  // '' detaches the policy; an absent field leaves whatever is attached, as GKE documents.
  if (s.securityPolicy !== undefined) out.securityPolicy = s.securityPolicy.name === '' ? '' : securityPolicyLink(s.securityPolicy.name);
  return out;
}

function cdnPolicy(cdn: NonNullable<BackendConfigSpec['cdn']>): NonNullable<BackendService['cdnPolicy']> {
  const cp = cdn.cachePolicy;
  return {
    ...(cp !== undefined
      ? {
          cacheKeyPolicy: {
            ...(cp.includeHost !== undefined ? { includeHost: cp.includeHost } : {}),
            ...(cp.includeProtocol !== undefined ? { includeProtocol: cp.includeProtocol } : {}),
            ...(cp.includeQueryString !== undefined ? { includeQueryString: cp.includeQueryString } : {}),
            ...(cp.queryStringBlacklist !== undefined ? { queryStringBlacklist: [...cp.queryStringBlacklist] } : {}),
            ...(cp.queryStringWhitelist !== undefined ? { queryStringWhitelist: [...cp.queryStringWhitelist] } : {}),
          },
        }
      : {}),
    ...(cdn.cacheMode !== undefined ? { cacheMode: cdn.cacheMode } : {}),
    ...(cdn.clientTtl !== undefined ? { clientTtl: cdn.clientTtl } : {}),
    ...(cdn.defaultTtl !== undefined ? { defaultTtl: cdn.defaultTtl } : {}),
    ...(cdn.maxTtl !== undefined ? { maxTtl: cdn.maxTtl } : {}),
    ...(cdn.negativeCaching !== undefined ? { negativeCaching: cdn.negativeCaching } : {}),
    ...(cdn.negativeCachingPolicy !== undefined ? { negativeCachingPolicy: cdn.negativeCachingPolicy.map((p) => ({ ...p })) } : {}),
    ...(cdn.requestCoalescing !== undefined ? { requestCoalescing: cdn.requestCoalescing } : {}),
    ...(cdn.serveWhileStale !== undefined ? { serveWhileStale: cdn.serveWhileStale } : {}),
    ...(cdn.signedUrlCacheMaxAgeSec !== undefined ? { signedUrlCacheMaxAgeSec: String(cdn.signedUrlCacheMaxAgeSec) } : {}),
    ...(cdn.bypassCacheOnRequestHeaders !== undefined ? { bypassCacheOnRequestHeaders: cdn.bypassCacheOnRequestHeaders.map((h) => ({ ...h })) } : {}),
  };
}

/** The health check with the BackendConfig's healthCheck over lbc's (ingress-gce's applyHealthCheckSettings). */
export function applyHealthCheckConfig(check: HealthCheck, c: ResolvedBackendConfig | undefined): HealthCheck {
  const hc = c?.spec.healthCheck;
  if (!hc) return check;
  const from = check.httpsHealthCheck ?? check.http2HealthCheck ?? check.httpHealthCheck ?? {};
  const type = hc.type ?? String(check.type ?? 'HTTP');
  const requestPath = hc.requestPath ?? from.requestPath ?? '/';
  // A NEG backend's check probes each endpoint's serving port until the BackendConfig names a port.
  const inner =
    hc.port == null && from.portSpecification != null ? { portSpecification: from.portSpecification, requestPath } : { port: hc.port ?? from.port ?? null, requestPath };
  const base: HealthCheck = {
    description: check.description ?? null,
    type,
    checkIntervalSec: hc.checkIntervalSec ?? check.checkIntervalSec ?? null,
    timeoutSec: hc.timeoutSec ?? check.timeoutSec ?? null,
    healthyThreshold: hc.healthyThreshold ?? check.healthyThreshold ?? null,
    unhealthyThreshold: hc.unhealthyThreshold ?? check.unhealthyThreshold ?? null,
  };
  if (type === 'HTTPS') return { ...base, httpsHealthCheck: inner };
  if (type === 'HTTP2') return { ...base, http2HealthCheck: inner };
  return { ...base, httpHealthCheck: inner };
}
