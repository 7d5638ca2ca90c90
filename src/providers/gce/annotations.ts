// The annotations the GCE cloud provider and ingress-gce read, with their semantics,
// parsed with lbc's toolkit so every mistake on an object is reported at once.
//
// Service (cloud-provider-gcp gce_annotations.go):
//   networking.gke.io/load-balancer-type (and the deprecated cloud.google.com/load-balancer-type):
//     "Internal" (or "internal") asks for an internal passthrough LB. Upstream treats any
//     other value as external; lbc accepts "External"/"external" too and rejects the rest,
//     since a typo there would otherwise expose an internal service to the internet.
//     Upstream reads the networking.gke.io name first; so does lbc.
//   networking.gke.io/internal-load-balancer-subnet: subnet name for the internal address.
//   networking.gke.io/internal-load-balancer-allow-global-access: "true" lets clients in any region connect.
//   cloud.google.com/network-tier: "Premium" (default) or "Standard", exact spelling as upstream.
//   cloud.google.com/l4-rbs: "enabled" asks GKE for a backend-service-based external LB
//     (ingress-gce pkg/annotations/service.go RBSAnnotationKey/RBSEnabled), which is how lbc
//     builds every external LB; any other value would ask for a target pool, which lbc
//     cannot build (see l4.ts), so it is refused rather than ignored.
// Ingress (ingress-gce pkg/annotations/ingress.go):
//   kubernetes.io/ingress.global-static-ip-name: a reserved global address to use (never released).
//   kubernetes.io/ingress.allow-http: "false" drops the port 80 forwarding rule and HTTP proxy.
//   ingress.gcp.kubernetes.io/pre-shared-cert: comma-separated SslCertificate names already in the project.
// Ingress backend Service (ingress-gce pkg/annotations/service.go NEGAnnotationKey, NegAnnotation):
//   cloud.google.com/neg: {"ingress": true} puts the Service's pods behind the Ingress in zonal
//     GCE_VM_IP_PORT NEGs (container-native load balancing) instead of instance groups;
//     {"exposed_ports": {...}} asks for standalone NEGs, which lbc does not build.
import { annotation, bool, json, oneOf, parseAnnotations, string, stringList, type Annotations } from '../../model/annotations.js';
import { z } from 'zod';
import { ANNOTATION_HC_HEALTHY, ANNOTATION_HC_INTERVAL, ANNOTATION_HC_TIMEOUT, ANNOTATION_HC_UNHEALTHY } from '../../model/lbc-annotations.js';
import type { LbKind } from '../../model/ref.js';
import type { BackendProtocol, TargetType } from '../../model/spec.js';
import type { BackendProtocolResult } from '../types.js';
import type { ModelError } from '../../model/validation.js';
import { ANNOTATION_BACKEND_CONFIG, ANNOTATION_BACKEND_CONFIG_BETA, type ResolvedBackendConfig } from './backend-config.js';
import type { ResolvedFrontendConfig } from './frontend-config.js';
import type { ResolvedManagedCertificate } from './managed-certificate.js';
import { GCE_NAME } from './options.js';

export const ANNOTATION_LB_TYPE = 'networking.gke.io/load-balancer-type';
export const ANNOTATION_LB_TYPE_DEPRECATED = 'cloud.google.com/load-balancer-type';
export const ANNOTATION_ILB_SUBNET = 'networking.gke.io/internal-load-balancer-subnet';
export const ANNOTATION_ILB_GLOBAL_ACCESS = 'networking.gke.io/internal-load-balancer-allow-global-access';
export const ANNOTATION_NETWORK_TIER = 'cloud.google.com/network-tier';
export const ANNOTATION_L4_RBS = 'cloud.google.com/l4-rbs';
/** On an Ingress backend Service: port name → HTTP, HTTPS or HTTP2 (ingress-gce pkg/annotations/service.go; the alpha key is its legacy spelling). */
export const ANNOTATION_APP_PROTOCOLS = 'cloud.google.com/app-protocols';
export const ANNOTATION_APP_PROTOCOLS_LEGACY = 'service.alpha.kubernetes.io/app-protocols';
export const ANNOTATION_GLOBAL_STATIC_IP = 'kubernetes.io/ingress.global-static-ip-name';
export const ANNOTATION_ALLOW_HTTP = 'kubernetes.io/ingress.allow-http';
export const ANNOTATION_PRE_SHARED_CERT = 'ingress.gcp.kubernetes.io/pre-shared-cert';
/** On an Ingress: the FrontendConfig in its namespace (ingress-gce pkg/annotations/ingress.go FrontendConfigKey). */
export const ANNOTATION_FRONTEND_CONFIG = 'networking.gke.io/v1beta1.FrontendConfig';
/** On an Ingress: comma-separated ManagedCertificates in its namespace (GKE's managed-certs). */
export const ANNOTATION_MANAGED_CERTIFICATES = 'networking.gke.io/managed-certificates';

/** On a Service: which of its ports get NEGs (ingress-gce NEGAnnotationKey). */
export const ANNOTATION_NEG = 'cloud.google.com/neg';
/** Written on the Service: the NEG of each port and their zones (ingress-gce NEGStatusKey). */
export const ANNOTATION_NEG_STATUS = 'cloud.google.com/neg-status';

/** What the Ingress builder merges across a group's members (see capabilities.annotationPrefixes). */
export const GCE_ANNOTATION_PREFIXES = ['networking.gke.io/', 'cloud.google.com/', 'kubernetes.io/ingress.', 'ingress.gcp.kubernetes.io/'] as const;

export type GceScheme = 'External' | 'Internal';
export type HealthCheckTimingField = 'interval' | 'timeout' | 'healthy' | 'unhealthy';

const TIMING_ANNOTATIONS: Readonly<Record<HealthCheckTimingField, string>> = {
  interval: ANNOTATION_HC_INTERVAL,
  timeout: ANNOTATION_HC_TIMEOUT,
  healthy: ANNOTATION_HC_HEALTHY,
  unhealthy: ANNOTATION_HC_UNHEALTHY,
};
export type GceNetworkTier = 'PREMIUM' | 'STANDARD';

/** The gce provider's per-object options (LoadBalancerSpec.providerOptions). */
export interface GceLbOptions {
  readonly scheme: GceScheme;
  readonly networkTier: GceNetworkTier;
  /** Internal only: subnet name from the annotation; the configured subnetwork when absent. */
  readonly subnet?: string;
  readonly allowGlobalAccess: boolean;
  /**
   * Service only: which health-check timing fields the user set (lbc.dev/health-check-*).
   * The others take upstream's L4 values rather than the builder's generic defaults.
   */
  readonly userHealthCheckTiming?: readonly HealthCheckTimingField[];
  /** Annotations under GKE's prefixes lbc does not implement: each one a Warning notice at ensure. */
  readonly unimplemented?: readonly string[];
  /** Ingress only. */
  readonly staticIpName?: string;
  readonly preSharedCerts: readonly string[];
  readonly allowHttp: boolean;
  /**
   * Ingress only: the BackendConfig of each backend Service port that names one, keyed by
   * backendConfigKey; the controller reads them (providers read no Kubernetes objects).
   */
  readonly backendConfigs?: Readonly<Record<string, ResolvedBackendConfig>>;
  /** Ingress only: the FrontendConfig its networking.gke.io/v1beta1.FrontendConfig annotation names, as the controller read it. */
  readonly frontendConfig?: ResolvedFrontendConfig;
  /** Ingress only: the ManagedCertificates its networking.gke.io/managed-certificates annotation names, as the controller read them. */
  readonly managedCertificates?: readonly ResolvedManagedCertificate[];
}

export const DEFAULT_GCE_OPTIONS: GceLbOptions = {
  scheme: 'External',
  networkTier: 'PREMIUM',
  allowGlobalAccess: false,
  preSharedCerts: [],
  allowHttp: true,
};

const gceName = (what: string) => string({ maxLength: 63, pattern: GCE_NAME, expected: `a GCE ${what} name (lower-case letters, digits and -)` });
const lbType = oneOf(['Internal', 'internal', 'External', 'external'] as const);

const serviceSchema = {
  lbType: annotation(ANNOTATION_LB_TYPE, lbType),
  lbTypeDeprecated: annotation(ANNOTATION_LB_TYPE_DEPRECATED, lbType),
  subnet: annotation(ANNOTATION_ILB_SUBNET, gceName('subnetwork')),
  allowGlobalAccess: annotation(ANNOTATION_ILB_GLOBAL_ACCESS, bool()).withDefault(false),
  networkTier: annotation(ANNOTATION_NETWORK_TIER, oneOf(['Premium', 'Standard'] as const)).withDefault('Premium'),
  rbs: annotation(ANNOTATION_L4_RBS, oneOf(['enabled'] as const)),
};

// ingress-gce's NegAnnotation: `ingress` and `exposed_ports` (port → {name}); json.Unmarshal
// ignores other keys, lbc refuses them, since a misspelt `ingress` would silently mean instance groups.
const negAnnotation = json(
  z
    .object({
      ingress: z.boolean().optional(),
      exposed_ports: z.record(z.string().regex(/^[0-9]+$/, 'a port number'), z.object({ name: z.string().optional() }).strict()).optional(),
    })
    .strict(),
);

const negSchema = { neg: annotation(ANNOTATION_NEG, negAnnotation) };

const ingressSchema = {
  staticIpName: annotation(ANNOTATION_GLOBAL_STATIC_IP, gceName('address')),
  allowHttp: annotation(ANNOTATION_ALLOW_HTTP, bool()).withDefault(true),
  preSharedCerts: annotation(ANNOTATION_PRE_SHARED_CERT, stringList(gceName('SSL certificate'))).withDefault([]),
};

/**
 * What GKE writes itself (status, not requests) or what lbc's controller reads before
 * any provider (the legacy class annotation): never warned about.
 */
const NOT_REQUESTS: ReadonlySet<string> = new Set(['kubernetes.io/ingress.class', ANNOTATION_NEG_STATUS]);

const IMPLEMENTED: Readonly<Record<LbKind, ReadonlySet<string>>> = {
  // app-protocols and backend-config are read where the Service backs an Ingress (backendProtocolOf; the controller's GKE references).
  Service: new Set([
    ANNOTATION_LB_TYPE,
    ANNOTATION_LB_TYPE_DEPRECATED,
    ANNOTATION_ILB_SUBNET,
    ANNOTATION_ILB_GLOBAL_ACCESS,
    ANNOTATION_NETWORK_TIER,
    ANNOTATION_L4_RBS,
    ANNOTATION_APP_PROTOCOLS,
    ANNOTATION_BACKEND_CONFIG,
    ANNOTATION_BACKEND_CONFIG_BETA,
    // {"ingress": true} concerns the Ingresses the Service backs; exposed_ports is reported apart (parseGceAnnotations).
    ANNOTATION_NEG,
  ]),
  // The FrontendConfig and ManagedCertificates are read by the controller (controller/gke-references.ts) and reach the provider as options.
  // cloud.google.com/neg reaches an Ingress's parse only from a backend Service (capabilities.annotationScopes).
  Ingress: new Set([ANNOTATION_GLOBAL_STATIC_IP, ANNOTATION_ALLOW_HTTP, ANNOTATION_PRE_SHARED_CERT, ANNOTATION_FRONTEND_CONFIG, ANNOTATION_MANAGED_CERTIFICATES, ANNOTATION_NEG]),
  // GKE configures a Gateway through its spec and policies, not annotations: an Ingress's
  // (a static IP, pre-shared certificates) on a Gateway is named as having no effect.
  Gateway: new Set(),
};

/** The object's annotations under GKE's prefixes that lbc's gce provider does not implement for its kind, sorted. */
export function unimplementedAnnotations(annotations: Annotations, kind: LbKind): string[] {
  const implemented = IMPLEMENTED[kind];
  return Object.keys(annotations ?? {})
    .filter((k) => GCE_ANNOTATION_PREFIXES.some((p) => k.startsWith(p)) && !implemented.has(k) && !NOT_REQUESTS.has(k))
    .sort();
}

export type GceOptionsResult =
  | {
      readonly ok: true;
      readonly options: GceLbOptions;
      /** Ingress only: ip (NEGs) when the backend Service's cloud.google.com/neg asks for them, else instance. */
      readonly targetType?: TargetType;
    }
  | { readonly ok: false; readonly errors: readonly ModelError[] };

/** What lbc says of standalone NEGs, wherever it meets them. */
const STANDALONE_NEGS = `${ANNOTATION_NEG} exposed_ports (standalone NEGs)`;

export function parseGceAnnotations(annotations: Annotations, kind: LbKind): GceOptionsResult {
  const negs = parseAnnotations(negSchema, annotations);
  if (!negs.ok) return { ok: false, errors: negs.errors };
  const exposed = Object.keys(negs.value.neg?.exposed_ports ?? {}).length > 0;
  const unimplemented = [...unimplementedAnnotations(annotations, kind), ...(exposed && kind === 'Service' ? [STANDALONE_NEGS] : [])].sort();
  const noted = unimplemented.length > 0 ? { unimplemented } : {};
  if (kind === 'Service') {
    const r = parseAnnotations(serviceSchema, annotations);
    if (!r.ok) return { ok: false, errors: r.errors };
    const v = r.value;
    // As upstream: the networking.gke.io spelling wins when both are set.
    const type = v.lbType ?? v.lbTypeDeprecated ?? 'External';
    const scheme: GceScheme = type.toLowerCase() === 'internal' ? 'Internal' : 'External';
    const userTiming = (Object.keys(TIMING_ANNOTATIONS) as HealthCheckTimingField[]).filter((f) => annotations?.[TIMING_ANNOTATIONS[f]] !== undefined);
    return {
      ok: true,
      options: {
        ...DEFAULT_GCE_OPTIONS,
        scheme,
        // Internal passthrough LBs have no tier; upstream ignores the annotation for them.
        networkTier: scheme === 'External' && v.networkTier === 'Standard' ? 'STANDARD' : 'PREMIUM',
        // Upstream ignores subnet and global access on external LBs; so does lbc.
        ...(scheme === 'Internal' && v.subnet !== undefined ? { subnet: v.subnet } : {}),
        allowGlobalAccess: scheme === 'Internal' && v.allowGlobalAccess,
        ...(userTiming.length > 0 ? { userHealthCheckTiming: userTiming } : {}),
        ...noted,
      },
    };
  }
  if (kind === 'Gateway') {
    // As GKE's Gateway controller, whose backends are always NEGs (container-native load
    // balancing; GKE serves Gateways on VPC-native clusters only).
    return { ok: true, targetType: 'ip', options: { ...DEFAULT_GCE_OPTIONS, ...noted } };
  }
  const r = parseAnnotations(ingressSchema, annotations);
  if (!r.ok) return { ok: false, errors: r.errors };
  if (exposed) {
    // A backend Service's own request: building its Ingress while dropping the NEGs it asks for would hide that they are missing.
    return { ok: false, errors: [{ annotation: ANNOTATION_NEG, reason: `exposed_ports asks for standalone NEGs, which lbc's gce provider does not build; remove exposed_ports (keep "ingress": true for the Ingress's NEGs)` }] };
  }
  return {
    ok: true,
    // Explicit either way: a ClusterIP backend without NEGs keeps its companion NodePort Service, as before NEGs.
    targetType: negs.value.neg?.ingress === true ? 'ip' : 'instance',
    options: {
      ...DEFAULT_GCE_OPTIONS,
      ...noted,
      ...(r.value.staticIpName !== undefined ? { staticIpName: r.value.staticIpName } : {}),
      allowHttp: r.value.allowHttp,
      preSharedCerts: [...new Set(r.value.preSharedCerts)],
    },
  };
}

const APP_PROTOCOLS: readonly BackendProtocol[] = ['HTTP', 'HTTPS', 'HTTP2'];

/**
 * What the load balancer speaks to one port of an Ingress backend Service: the value of
 * its port name in cloud.google.com/app-protocols (ingress-gce pkg/translator keys it by
 * port name: `appProtocols[port.Name]`), HTTP otherwise. A value GCE cannot speak is an
 * error on the Service, never a silent HTTP.
 */
export function backendProtocolOf(annotations: Annotations, port: { readonly name?: string; readonly port: number }): BackendProtocolResult {
  const name = annotations?.[ANNOTATION_APP_PROTOCOLS] !== undefined ? ANNOTATION_APP_PROTOCOLS : ANNOTATION_APP_PROTOCOLS_LEGACY;
  const raw = annotations?.[name];
  if (raw === undefined) return { ok: true };
  const bad = (reason: string): BackendProtocolResult => ({ ok: false, errors: [{ annotation: name, reason }] });
  let map: unknown;
  try {
    map = JSON.parse(raw);
  } catch {
    return bad(`${JSON.stringify(raw)} is not JSON (expected e.g. {"my-port":"HTTPS"})`);
  }
  if (map === null || typeof map !== 'object' || Array.isArray(map)) return bad('must be a JSON object of port name to HTTP, HTTPS or HTTP2');
  for (const [k, v] of Object.entries(map)) {
    if (typeof v !== 'string' || !(APP_PROTOCOLS as readonly string[]).includes(v)) return bad(`port ${k}: ${JSON.stringify(v)} is not HTTP, HTTPS or HTTP2`);
  }
  const v = port.name !== undefined ? (map as Record<string, BackendProtocol>)[port.name] : undefined;
  return v !== undefined ? { ok: true, protocol: v } : { ok: true };
}
