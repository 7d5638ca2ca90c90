// Resource names, as the GCE cloud provider (cloud-provider-gcp gce_loadbalancer_naming.go)
// and ingress-gce (pkg/utils/namer) make them, so users migrating from either recognise
// what they see in the console. Names are also how lbc finds a load balancer's resources
// again after a crash: everything for one object is derived from its UID.
import { createHash } from 'node:crypto';
import type { LbRef } from '../../model/ref.js';
import type { GceScheme } from './annotations.js';

// ---- L4 (Services) ---------------------------------------------------------------

/** cloudprovider.DefaultLoadBalancerName: "a" + the UID without dashes, cut to 32. */
export function l4LoadBalancerName(uid: string): string {
  return `a${uid}`.replace(/-/g, '').slice(0, 32);
}

export interface L4Names {
  /** Address, backend service, forwarding rule and per-Service health check share it, as upstream. */
  readonly lb: string;
  /** The second protocol's forwarding rule and backend service of a TCP+UDP Service. */
  readonly secondary: string;
  /** k8s-fw-<lb>: the Service ports from loadBalancerSourceRanges. */
  readonly firewall: string;
  /** k8s-<cluster-id>-node: kube-proxy's healthz, shared by every externalTrafficPolicy Cluster Service. */
  readonly nodeHealthCheck: string;
  /** k8s-ig--<cluster-id>: one unmanaged group per zone, shared with ingress-gce's naming. */
  readonly instanceGroup: string;
  /** The health-check firewall's name: upstream names it differently for external and internal LBs. */
  healthCheckFirewall(scheme: GceScheme, shared: boolean): string;
}

/**
 * The IPv6 twin of an L4 resource's name. GKE's L4 controllers name their IPv6 forwarding
 * rules and firewalls with a `-ipv6` suffix, cut so the whole fits 63 characters
 * (ingress-gce pkg/namer/l4_namer.go L4IPv6ForwardingRule, L4IPv6HealthCheckFirewall,
 * GetSuffixedName); lbc adds the same suffix to its cloud-provider style names.
 */
export function ipv6Name(name: string): string {
  const suffix = '-ipv6';
  return name.slice(0, 63 - suffix.length) + suffix;
}

export function l4Names(uid: string, clusterId: string): L4Names {
  const lb = l4LoadBalancerName(uid);
  const nodeHealthCheck = `k8s-${clusterId}-node`;
  return {
    lb,
    secondary: `${lb}-udp`,
    firewall: `k8s-fw-${lb}`,
    nodeHealthCheck,
    instanceGroup: instanceGroupName(clusterId),
    healthCheckFirewall: (scheme, shared) => {
      // External: MakeHealthCheckFirewallName; internal: makeHealthCheckFirewallName.
      if (scheme === 'External') return shared ? `${nodeHealthCheck}-http-hc` : `k8s-${lb}-http-hc`;
      return shared ? `${nodeHealthCheck}-hc` : `${lb}-hc`;
    },
  };
}

/** makeInstanceGroupName: ingress-gce and the internal LB share these groups. */
export function instanceGroupName(clusterId: string): string {
  return clusterId === '' ? 'k8s-ig' : `k8s-ig--${clusterId}`;
}

/** Every shared name an L4 LB of this cluster may use, for cleanup after its last user. */
export function sharedHealthCheckFirewalls(clusterId: string): string[] {
  const n = l4Names('', clusterId);
  const v4 = [n.healthCheckFirewall('External', true), n.healthCheckFirewall('Internal', true)];
  return [...v4, ...v4.map(ipv6Name)];
}

// ---- L7 (Ingresses), ingress-gce's v2 frontend naming scheme --------------------

/** common.ContentHash: sha256, each of the first n bytes mapped onto [0-9a-z]. Never change it. */
export function contentHash(s: string, n: number): string {
  const chars = '0123456789abcdefghijklmnopqrstuvwxyz';
  const bytes = createHash('sha256').update(s).digest();
  let out = '';
  for (let i = 0; i < n && i < bytes.length; i++) out += chars[(bytes[i] ?? 0) % chars.length];
  return out;
}

/** namer.TrimFieldsEvenly: shortens fields in proportion to their length until they fit max. */
export function trimFieldsEvenly(max: number, ...fields: string[]): string[] {
  const total = fields.reduce((n, f) => n + f.length, 0);
  if (max <= 0 || total <= max) return fields;
  const excess = total - max;
  let remaining = max;
  const lengths = fields.map((f) => {
    const l = f.length - Math.trunc((f.length * excess) / total) - 1;
    remaining -= l;
    return l;
  });
  for (let i = 0; i < remaining && i < lengths.length; i++) lengths[i] = (lengths[i] ?? 0) + 1;
  return fields.map((f, i) => f.slice(0, Math.max(0, lengths[i] ?? 0)));
}

// Ingress names are DNS subdomains and may hold dots, which GCE names may not.
const scrub = (s: string): string => s.toLowerCase().replace(/[^a-z0-9-]/g, '-');

export interface L7Names {
  /** `<cluster-uid8>-<namespace>-<name>-<hash8>`. */
  readonly lb: string;
  readonly httpForwardingRule: string;
  readonly httpsForwardingRule: string;
  readonly httpProxy: string;
  readonly httpsProxy: string;
  readonly urlMap: string;
  /** The HTTP proxy's map when a FrontendConfig asks for redirectToHttps (ingress-gce's RedirectUrlMap, "rm"). */
  readonly redirectUrlMap: string;
  /** ingress-gce reserves the LB's address under the HTTP forwarding rule's name. */
  readonly address: string;
  /**
   * The per-LB firewall rule lbc made before it shared the cluster's one (l7FirewallName):
   * only ever deleted, so that an upgrade leaves no stale rule behind.
   */
  readonly legacyFirewall: string;
  /** One backend service (and its health check, same name) per target set, owned by this LB. */
  backendService(targetSet: string, namespace: string, service: string, port: number): string;
  /** k8s2-cr-<cluster-uid8>-<lb hash16>-<cert hash16>: a new certificate gets a new name. */
  sslCertificate(certPem: string): string;
  /** Prefix every certificate of this LB starts with. */
  readonly sslCertificatePrefix: string;
}

/** maximumAllowedCombinedLength in ingress-gce's frontendnamer.go. */
const MAX_COMBINED = 36;

/**
 * ingress-gce derives these from the kube-system UID; lbc uses the configured
 * kubeSystemUid when given (same names as ingress-gce), else the cluster id.
 */
export function l7Names(ref: LbRef, kubeSystemUid: string): L7Names {
  const clusterUid = contentHash(kubeSystemUid, 8);
  const [ns = '', name = ''] = trimFieldsEvenly(MAX_COMBINED, scrub(ref.namespace), scrub(ref.name));
  const suffix = contentHash([kubeSystemUid, ref.namespace, ref.name].join(';'), 8);
  const lb = `${clusterUid}-${ns}-${name}-${suffix}`;
  const lbHash = contentHash(lb, 16);
  const sslCertificatePrefix = `k8s2-cr-${clusterUid}-${lbHash}-`;
  return {
    lb,
    httpForwardingRule: `k8s2-fr-${lb}`,
    httpsForwardingRule: `k8s2-fs-${lb}`,
    httpProxy: `k8s2-tp-${lb}`,
    httpsProxy: `k8s2-ts-${lb}`,
    urlMap: `k8s2-um-${lb}`,
    redirectUrlMap: `k8s2-rm-${lb}`,
    address: `k8s2-fr-${lb}`,
    legacyFirewall: `k8s2-fw-${lb}`,
    backendService: (targetSet, namespace, service, port) => {
      const fields = trimFieldsEvenly(MAX_COMBINED - 2, scrub(namespace), scrub(service), String(port));
      return `k8s2-be-${clusterUid}-${fields.join('-')}-${contentHash(`${lb};${targetSet}`, 8)}`;
    },
    sslCertificate: (certPem) => `${sslCertificatePrefix}${createHash('sha256').update(certPem).digest('hex').slice(0, 16)}`,
    sslCertificatePrefix,
  };
}

/**
 * The one firewall rule of every Ingress of the cluster, as ingress-gce's namer.FirewallRule
 * names it: `k8s-fw-l7--<firewall>` (the ingress-uid ConfigMap's provider-uid, else the
 * uid), `k8s-fw-l7` for a cluster without one (ingress-gce pkg/utils/namer/namer.go
 * firewallRuleSuffix). Upstream cuts only the suffix (truncate: 62 characters and a
 * trailing 0), which leaves a name GCE refuses for a suffix over 56 characters; lbc cuts
 * the whole name the same way, so every name upstream can make is the same here.
 */
export function l7FirewallName(firewall: string): string {
  const name = firewall === '' ? 'k8s-fw-l7' : `k8s-fw-l7--${firewall}`;
  return name.length > 63 ? `${name.slice(0, 62)}0` : name;
}

/** ingress-gce's getNameForPathMatcher: "host" + md5 of the host rule. */
export function pathMatcherName(host: string): string {
  return `host${createHash('md5').update(host).digest('hex')}`;
}

/** namer.NamedPort: the instance group port name backend services address node ports by. */
export function namedPort(nodePort: number): string {
  return `port${nodePort}`;
}

// ---- NEGs (container-native load balancing) -----------------------------------------

/** maxNEGDescriptiveLabel in ingress-gce's namer.go: 63 - "k8s1-" - uid8 - hash8 - four hyphens. */
const MAX_NEG_DESCRIPTIVE = 38;

/**
 * ingress-gce pkg/utils/namer/namer.go Namer.NEG: `k8s1-<cluster-uid8>-<namespace>-<name>-<port>-<hash8>`,
 * the hash the hex SHA-256 of `uid8;namespace;name;port` (negSuffix). One NEG per Service
 * port and zone, so every Ingress of the cluster that names the port shares it, as GKE's.
 */
export function negName(clusterUid: string, namespace: string, service: string, port: number): string {
  const uid = clusterUid.slice(0, 8);
  const portStr = String(port);
  const [ns = '', name = '', p = ''] = trimFieldsEvenly(MAX_NEG_DESCRIPTIVE, namespace, service, portStr);
  const hash = createHash('sha256').update([uid, namespace, service, portStr].join(';')).digest('hex').slice(0, 8);
  return `k8s1-${uid}-${ns}-${name}-${p}-${hash}`;
}

/** maximumL4CombinedLength in ingress-gce's l4_namer.go: 63 - "k8s2" - four hyphens - uid8 - hash8. */
const MAX_L4_COMBINED = 39;

/**
 * ingress-gce pkg/utils/namer/l4_namer.go L4Backend: `k8s2-<uid8>-<namespace>-<name>-<hash8>`,
 * uid8 the content hash of the kube-system UID and hash8 that of `uid8;namespace;name`
 * (getClusterSuffix). GKE's L4 ILB controller gives this name to the Service's GCE_VM_IP
 * NEG in every zone (and to its backend service, which lbc names as cloud-provider-gcp does).
 */
export function l4NegName(kubeSystemUid: string, namespace: string, service: string): string {
  const uid = contentHash(kubeSystemUid, 8);
  return ['k8s2', uid, trimFieldsEvenly(MAX_L4_COMBINED, namespace, service).join('-'), contentHash([uid, namespace, service].join(';'), 8)].join('-');
}

// ---- Gateways, as GKE's Gateway controller names them ---------------------------------
// GKE's Gateway controller is not open source; its names are known from what it makes
// (users' gcloud output and the networking.gke.io/* annotations it writes on a Gateway):
// `gkegw1-<4>-<namespace>-<gateway>-<12>` for the address, URL map, target proxy and
// forwarding rule (each with its own 12-character suffix), `gkegw1-<4>-<namespace>-<service>-<port>-<12>`
// for backend services and their health checks, `gkegw1-<4>-<gateway namespace>-gw-serve404-80-<12>`
// for the backend service unmatched requests go to (and `…-gw-serve500-80-…` for the 500s
// of rules without a valid backend), and `gkegw1-<4>-l7-<network>-global` for
// the firewall rule of the cluster's Gateways; the descriptive part is cut to 38 characters
// so the whole fits 63. How GKE derives the 4- and 12-character parts is not known: lbc
// takes content hashes of the cluster uid, and of the cluster uid, the Gateway, the
// resource and the port, so every name is found again from the Gateway's UID alone.
// SSL certificates from certificateRefs are lbc's own `gkegw1-<4>-cr-<lb16>-<cert16>` (GKE
// takes certificates from Certificate Manager or pre-shared ones instead).

const GATEWAY_PREFIX = 'gkegw1';
/** 63 - "gkegw1-" - 4 - "-" - "-" - 12. */
const MAX_GATEWAY_DESCRIPTIVE = 38;

export interface GatewayNames {
  /** `gkegw1-<4>-`: every name of the cluster's Gateways starts with it. */
  readonly prefix: string;
  readonly address: string;
  /** One URL map, target proxy and forwarding rule per Gateway port. */
  urlMap(port: number): string;
  targetProxy(port: number): string;
  forwardingRule(port: number): string;
  /** One backend service (and its health check, same name) per target set, owned by this Gateway. */
  backendService(targetSet: string, namespace: string, service: string, port: number): string;
  /** The backend service in front of which the URL map answers 404 (never reached). */
  readonly fallbackService: string;
  /** The one in front of which it answers 500, for a rule without a valid backend. */
  readonly errorService: string;
  sslCertificate(certPem: string): string;
  readonly sslCertificatePrefix: string;
  /** The firewall rule of every Gateway of the cluster on the network. */
  readonly firewall: string;
  /** The same for the cluster's regional Gateways (gke-l7-rilb, gke-l7-regional-external-managed) in a region. */
  regionalFirewall(region: string): string;
}

/**
 * The descriptive fields joined, the namespace and name cut evenly so the whole fits the
 * 38 characters GKE's names leave them; a port is never cut (GKE's
 * `gkegw1-pzx5-llm-d-infere-qwen2-3b-pattern1-i-54321-…` keeps all of 54321).
 */
function gatewayFields(namespace: string, name: string, port?: number): string {
  const tail = port === undefined ? [] : [String(port)];
  // trimFieldsEvenly counts the fields, not the hyphens between them.
  const budget = MAX_GATEWAY_DESCRIPTIVE - tail.length - 1 - tail.reduce((n, p) => n + p.length, 0);
  return [...trimFieldsEvenly(budget, scrub(namespace), scrub(name)), ...tail].join('-');
}

const cut63 = (name: string): string => (name.length > 63 ? name.slice(0, 63).replace(/-+$/, '') : name);

export function gatewayNames(ref: LbRef, kubeSystemUid: string, network: string): GatewayNames {
  const cluster = contentHash(kubeSystemUid, 4);
  const prefix = `${GATEWAY_PREFIX}-${cluster}-`;
  const gateway = gatewayFields(ref.namespace, ref.name);
  const of = (what: string): string => `${prefix}${gateway}-${contentHash([kubeSystemUid, ref.namespace, ref.name, what].join(';'), 12)}`;
  const fallback = (what: string): string => `${prefix}${gatewayFields(ref.namespace, what, 80)}-${contentHash([kubeSystemUid, ref.namespace, ref.name, what].join(';'), 12)}`;
  const lbHash = contentHash(`${kubeSystemUid};${ref.namespace};${ref.name}`, 16);
  const sslCertificatePrefix = `${prefix}cr-${lbHash}-`;
  const firewall = `${prefix}l7-${scrub(network)}-global`;
  return {
    prefix,
    address: of('address'),
    urlMap: (port) => of(`url-map:${port}`),
    targetProxy: (port) => of(`target-proxy:${port}`),
    forwardingRule: (port) => of(`forwarding-rule:${port}`),
    backendService: (targetSet, namespace, service, port) =>
      `${prefix}${gatewayFields(namespace, service, port)}-${contentHash([kubeSystemUid, ref.namespace, ref.name, targetSet].join(';'), 12)}`,
    fallbackService: fallback('gw-serve404'),
    errorService: fallback('gw-serve500'),
    sslCertificate: (certPem) => `${sslCertificatePrefix}${createHash('sha256').update(certPem).digest('hex').slice(0, 16)}`,
    sslCertificatePrefix,
    firewall: cut63(firewall),
    // lbc's guess, after the global rule's `-global`: the rule opens the region's proxy-only subnet.
    regionalFirewall: (region) => cut63(`${prefix}l7-${scrub(network)}-${region}`),
  };
}
