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
// Ingress (ingress-gce pkg/annotations/ingress.go):
//   kubernetes.io/ingress.global-static-ip-name: a reserved global address to use (never released).
//   kubernetes.io/ingress.allow-http: "false" drops the port 80 forwarding rule and HTTP proxy.
//   ingress.gcp.kubernetes.io/pre-shared-cert: comma-separated SslCertificate names already in the project.
import { annotation, bool, oneOf, parseAnnotations, string, stringList, type Annotations } from '../../model/annotations.js';
import type { LbKind } from '../../model/ref.js';
import type { ModelError } from '../../model/validation.js';
import type { ResolvedBackendConfig } from './backend-config.js';
import type { ResolvedFrontendConfig } from './frontend-config.js';
import type { ResolvedManagedCertificate } from './managed-certificate.js';
import { GCE_NAME } from './options.js';

export const ANNOTATION_LB_TYPE = 'networking.gke.io/load-balancer-type';
export const ANNOTATION_LB_TYPE_DEPRECATED = 'cloud.google.com/load-balancer-type';
export const ANNOTATION_ILB_SUBNET = 'networking.gke.io/internal-load-balancer-subnet';
export const ANNOTATION_ILB_GLOBAL_ACCESS = 'networking.gke.io/internal-load-balancer-allow-global-access';
export const ANNOTATION_NETWORK_TIER = 'cloud.google.com/network-tier';
export const ANNOTATION_GLOBAL_STATIC_IP = 'kubernetes.io/ingress.global-static-ip-name';
export const ANNOTATION_ALLOW_HTTP = 'kubernetes.io/ingress.allow-http';
export const ANNOTATION_PRE_SHARED_CERT = 'ingress.gcp.kubernetes.io/pre-shared-cert';

/** What the Ingress builder merges across a group's members (see capabilities.annotationPrefixes). */
export const GCE_ANNOTATION_PREFIXES = ['networking.gke.io/', 'cloud.google.com/', 'kubernetes.io/ingress.', 'ingress.gcp.kubernetes.io/'] as const;

export type GceScheme = 'External' | 'Internal';
export type GceNetworkTier = 'PREMIUM' | 'STANDARD';

/** The gce provider's per-object options (LoadBalancerSpec.providerOptions). */
export interface GceLbOptions {
  readonly scheme: GceScheme;
  readonly networkTier: GceNetworkTier;
  /** Internal only: subnet name from the annotation; the configured subnetwork when absent. */
  readonly subnet?: string;
  readonly allowGlobalAccess: boolean;
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
};

const ingressSchema = {
  staticIpName: annotation(ANNOTATION_GLOBAL_STATIC_IP, gceName('address')),
  allowHttp: annotation(ANNOTATION_ALLOW_HTTP, bool()).withDefault(true),
  preSharedCerts: annotation(ANNOTATION_PRE_SHARED_CERT, stringList(gceName('SSL certificate'))).withDefault([]),
};

export const ANNOTATION_FRONTEND_CONFIG = 'networking.gke.io/v1beta1.FrontendConfig';
export const ANNOTATION_MANAGED_CERTIFICATES = 'networking.gke.io/managed-certificates';

/**
 * The provider applies FrontendConfig and ManagedCertificate objects (frontend-config.ts,
 * managed-certificate.ts) once the controller hands them over in the options; until the
 * controller reads them, an Ingress naming one is refused, never built without the
 * redirect, SSL policy or certificate it asks for.
 */
function unreadGkeObjects(annotations: Annotations): ModelError[] {
  return [ANNOTATION_FRONTEND_CONFIG, ANNOTATION_MANAGED_CERTIFICATES]
    .filter((a) => annotations?.[a] !== undefined)
    .map((annotation) => ({ annotation, reason: 'lbc does not read the objects this annotation names yet; the Ingress is held rather than built without them' }));
}

export type GceOptionsResult = { readonly ok: true; readonly options: GceLbOptions } | { readonly ok: false; readonly errors: readonly ModelError[] };

export function parseGceAnnotations(annotations: Annotations, kind: LbKind): GceOptionsResult {
  if (kind === 'Service') {
    const r = parseAnnotations(serviceSchema, annotations);
    if (!r.ok) return { ok: false, errors: r.errors };
    const v = r.value;
    // As upstream: the networking.gke.io spelling wins when both are set.
    const type = v.lbType ?? v.lbTypeDeprecated ?? 'External';
    const scheme: GceScheme = type.toLowerCase() === 'internal' ? 'Internal' : 'External';
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
      },
    };
  }
  const r = parseAnnotations(ingressSchema, annotations);
  if (!r.ok) return { ok: false, errors: r.errors };
  const unread = unreadGkeObjects(annotations);
  if (unread.length > 0) return { ok: false, errors: unread };
  return {
    ok: true,
    options: {
      ...DEFAULT_GCE_OPTIONS,
      ...(r.value.staticIpName !== undefined ? { staticIpName: r.value.staticIpName } : {}),
      allowHttp: r.value.allowHttp,
      preSharedCerts: [...new Set(r.value.preSharedCerts)],
    },
  };
}
