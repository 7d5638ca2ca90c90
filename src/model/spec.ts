// The desired load balancer, provider-neutral. Model builders produce it from Kubernetes
// objects; providers turn it into cloud resources. Nothing here refers to Kubernetes
// object types or to any one cloud.
import type { AllocationFacts } from './allocation.js';
import type { TlsCertificate } from './certificate.js';
import type { GatewayParameters, GatewayPort } from './gateway.js';
import type { LbRef } from './ref.js';

export type L4Protocol = 'TCP' | 'UDP';
export type L7Protocol = 'HTTP' | 'HTTPS';
export type ListenerProtocol = L4Protocol | L7Protocol;
export type IpFamily = 'IPv4' | 'IPv6';
export type TargetType = 'instance' | 'ip';
/** What an L7 load balancer speaks to a backend. */
export type BackendProtocol = 'HTTP' | 'HTTPS' | 'HTTP2';

/** Where a provider sends health probes for a target set. */
export type HealthCheck =
  | (HealthCheckTiming & {
      readonly protocol: 'TCP';
      readonly port: HealthCheckPort;
    })
  | (HealthCheckTiming & {
      readonly protocol: 'HTTP' | 'HTTPS';
      readonly port: HealthCheckPort;
      /** Absolute request path, e.g. `/healthz`. */
      readonly path: string;
      /**
       * The path of the backing Pods' HTTP readiness probe, set by the Ingress builder
       * only when the user chose no path. Providers that follow ingress-gce probe it
       * instead of `path`; the others keep `path` (aws-load-balancer-controller's `/`).
       */
      readonly readinessProbePath?: string;
    });

/** 'traffic-port' probes the port traffic goes to (node port or pod port). */
export type HealthCheckPort = 'traffic-port' | number;

export interface HealthCheckTiming {
  readonly intervalSeconds: number;
  readonly timeoutSeconds: number;
  readonly healthyThreshold: number;
  readonly unhealthyThreshold: number;
}

/** A health-check setting the user may choose or leave to the model builder. */
export type HealthCheckField = 'protocol' | 'port' | 'path' | keyof HealthCheckTiming;

/**
 * Provenance of a target set's health check: the fields the model builder filled in itself
 * because the user set none of them, each `true`; a field the user set is not here, nor is
 * `path` for a TCP check. The values stay in the check, so providers whose defaults are
 * lbc's use them as they are; a provider that follows an upstream with other defaults (AWS
 * follows aws-load-balancer-controller, per target type and protocol) replaces exactly these.
 */
export type DefaultedFields<F extends HealthCheckField = HealthCheckField> = { readonly [K in F]?: true };

/**
 * Whether the builder chose kube-proxy's health check node port (externalTrafficPolicy
 * Local with instance targets): the one port it picks besides the traffic port, so a
 * defaulted numeric port is always that one.
 */
export function probesKubeProxy(ts: TargetSet): boolean {
  return ts.healthCheckDefaulted?.port === true && ts.healthCheck.port !== 'traffic-port';
}

export interface NodeAddress {
  /** Kubernetes NodeAddress type: InternalIP, ExternalIP, Hostname, ... */
  readonly type: string;
  readonly address: string;
}

export interface NodeTarget {
  readonly name: string;
  readonly addresses: readonly NodeAddress[];
  /** spec.providerID, e.g. `aws:///us-east-1a/i-0abc`; absent on bare metal. */
  readonly providerID?: string;
  readonly zone?: string;
  /**
   * The Node's labels, for providers that pick targets by label (AWS
   * target-node-labels). Absent when the node has none.
   */
  readonly labels?: Readonly<Record<string, string>>;
}

export interface PodTarget {
  readonly ip: string;
  readonly port: number;
  readonly zone?: string;
  readonly nodeName?: string;
}

interface TargetSetBase {
  /** Unique within the spec; listeners, rules and defaultBackend refer to it. */
  readonly name: string;
  /** What the backends speak; L7 target sets are HTTP. */
  readonly protocol: L4Protocol | 'HTTP';
  /**
   * L7 only: HTTPS or HTTP2 to the backend when the provider's reading of the backend
   * Service's annotations asks for it (ProviderCapabilities' backendProtocol); absent: HTTP.
   */
  readonly backendProtocol?: BackendProtocol;
  readonly healthCheck: HealthCheck;
  /** Which of healthCheck's values the builder chose (see DefaultedFields). Absent: every one was asked for (a spec written by hand). */
  readonly healthCheckDefaulted?: DefaultedFields;
  /** The Kubernetes Service port this set serves, for naming, Events and debugging. */
  readonly backend: BackendOrigin;
  /**
   * `namespace/name` of the Ingress group member this set belongs to, where the provider
   * gives each member its own set per Service port (AnnotationScopes); absent: the set is
   * shared by every route to the backend.
   */
  readonly ingress?: string;
  /**
   * The provider's options for this set alone, where they differ in scope from the LB's
   * (an Ingress group member's and its Service's target-group annotations). Absent: the
   * spec's providerOptions apply.
   */
  readonly providerOptions?: ProviderOptions;
  /**
   * The backend Service's own parameters object (capabilities.gatewayBackendParameters, e.g.
   * ALBC's TargetGroupConfiguration), found by its target reference and parsed by the provider.
   */
  readonly parameters?: GatewayParameters;
}

export interface BackendOrigin {
  readonly namespace: string;
  readonly service: string;
  readonly port: number;
}

/** Traffic goes to every target node on one node port; kube-proxy forwards it on. */
export interface InstanceTargetSet extends TargetSetBase {
  readonly type: 'instance';
  readonly nodePort: number;
  readonly targets: readonly NodeTarget[];
}

/** Traffic goes straight to pod IPs. */
export interface IpTargetSet extends TargetSetBase {
  readonly type: 'ip';
  /**
   * The Service's targetPort as declared (a number or a container port name); each
   * target carries the resolved number, which may differ between pods for a name.
   */
  readonly port: number | string;
  readonly targets: readonly PodTarget[];
}

export type TargetSet = InstanceTargetSet | IpTargetSet;

export type { SecretRef, TlsCertificate } from './certificate.js';

export interface L4Listener {
  readonly protocol: L4Protocol;
  readonly port: number;
  readonly targetSet: string;
  /** The Service port's name, for annotations that name ports (AWS ssl-ports). */
  readonly name?: string;
}

export interface HttpListener {
  readonly protocol: 'HTTP';
  readonly port: number;
}

export interface HttpsListener {
  readonly protocol: 'HTTPS';
  readonly port: number;
  readonly certificates: readonly TlsCertificate[];
}

export type L7Listener = HttpListener | HttpsListener;
export type Listener = L4Listener | L7Listener;

/**
 * Ingress path semantics. ImplementationSpecific is kept as declared so a provider with
 * a native meaning for it can use that; lbc's own matcher treats it as Prefix.
 */
export type PathType = 'Exact' | 'Prefix' | 'ImplementationSpecific';

export interface Rule {
  /** Exact host (`shop.example.com`) or one-label wildcard (`*.example.com`); absent matches any host. */
  readonly host?: string;
  readonly path: string;
  readonly pathType: PathType;
  readonly targetSet: string;
  /** `namespace/name` of the Ingress that declared the rule, for Events. */
  readonly source: string;
}

/**
 * A rule whose backend is an action the provider defines in an annotation (AWS
 * `alb.ingress.kubernetes.io/actions.<name>`, reached by an Ingress backend with
 * `port.name: use-annotation`) rather than a target set. Only built for providers whose
 * annotation prefixes define that action.
 */
export interface ActionRule {
  readonly host?: string;
  readonly path: string;
  readonly pathType: PathType;
  /** The action's name: the backend's `service.name`. */
  readonly action: string;
  readonly source: string;
  /** Its place in the priority order: right before `rules[before]` (`rules.length`: after them all). */
  readonly before: number;
}

export type SessionAffinity = { readonly type: 'None' } | { readonly type: 'ClientIP'; readonly timeoutSeconds: number };

/** Per-provider parsed annotations; providers define the shape, the reconciler never looks inside. */
export type ProviderOptions = object;

export interface SpecBase<O extends ProviderOptions> {
  readonly ref: LbRef;
  /** The provider that should serve this spec (configured provider name). */
  readonly provider: string;
  /** The class that selected the provider, e.g. `lbc.dev/aws`. */
  readonly className: string;
  readonly clusterName: string;
  readonly targetSets: readonly TargetSet[];
  /** Client CIDRs allowed in; empty means everyone. Normalised (network address). */
  readonly sourceRanges: readonly string[];
  /** Addresses the user asked for; empty lets the provider choose. */
  readonly requestedAddresses: readonly string[];
  readonly ipFamilies: readonly IpFamily[];
  /** Ownership tags (see TAG_*) plus user tags. */
  readonly tags: Readonly<Record<string, string>>;
  readonly providerOptions: O;
}

export interface L4Spec<O extends ProviderOptions = ProviderOptions> extends SpecBase<O> {
  readonly layer: 'L4';
  readonly listeners: readonly L4Listener[];
  readonly sessionAffinity: SessionAffinity;
  /** What an address allocator weighs besides the listeners; the Service builder always sets it. */
  readonly allocation?: AllocationFacts;
}

export interface L7Spec<O extends ProviderOptions = ProviderOptions> extends SpecBase<O> {
  readonly layer: 'L7';
  readonly listeners: readonly L7Listener[];
  /** In priority order for providers that evaluate rules in order; matchRoute picks by specificity. */
  readonly rules: readonly Rule[];
  /** Target set for requests no rule matches; absent means the provider answers 404. */
  readonly defaultBackend?: string;
  /** Rules that lead to provider actions; absent or empty for most specs. */
  readonly actionRules?: readonly ActionRule[];
  /** An action (see ActionRule) for requests no rule matches; only when defaultBackend is absent. */
  readonly defaultAction?: string;
  /**
   * The target sets the builder resolved for Services an action forwards to: action name →
   * actionServiceKey(service, port as written) → target set name. The provider reads the
   * action's own annotation but cannot resolve a port name, so the builder does it here.
   */
  readonly actionTargetSets?: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /**
   * spec.tls[].hosts of the group's Ingresses, lower case, sorted, whether or not the
   * entry names a Secret: what a provider that finds certificates by host (AWS ACM) looks for.
   */
  readonly tlsHosts?: readonly string[];
  /**
   * The data (decoded) of the Secrets the provider's annotations name besides TLS ones (AWS
   * auth-idp-oidc's secretName), by `namespace/name`: read by the builder, so the provider
   * never reads Kubernetes, and part of the spec, so a changed Secret is a changed spec.
   */
  readonly secrets?: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /**
   * Each member's own provider options (by `namespace/name`, as Rule.source), where the
   * provider reads some annotations per Ingress (AnnotationScopes.perIngress); absent: the
   * spec's providerOptions apply to every rule.
   */
  readonly memberOptions?: Readonly<Record<string, ProviderOptions>>;
}

/** The key of one forward target in L7Spec.actionTargetSets. */
export const actionServiceKey = (service: string, port: number | string | undefined): string => `${service}:${port === undefined ? '' : String(port)}`;

/** A Gateway resolved into what each port serves (model/gateway.ts). */
export interface GatewaySpec<O extends ProviderOptions = ProviderOptions> extends SpecBase<O> {
  readonly layer: 'Gateway';
  /** Sorted by port. */
  readonly ports: readonly GatewayPort[];
  /** spec.addresses of type NamedAddress, where the provider takes them (ProviderCapabilities.gatewayNamedAddresses); absent: none. */
  readonly namedAddresses?: readonly string[];
  /** spec.infrastructure.parametersRef, found and parsed by the provider (parseGatewayParameters); absent when the Gateway names none. */
  readonly parameters?: GatewayParameters;
  /** Its GatewayClass's spec.parametersRef when it names a kind of the provider's (not lbc.dev/Provider), found and parsed alike; the provider merges it with `parameters`. */
  readonly classParameters?: GatewayParameters;
}

export type LoadBalancerSpec<O extends ProviderOptions = ProviderOptions> = L4Spec<O> | L7Spec<O> | GatewaySpec<O>;

/** Tag keys every provider writes so that it can find what it owns. */
export const TAG_CLUSTER = 'lbc.dev/cluster';
export const TAG_OWNER_KIND = 'lbc.dev/owner-kind';
export const TAG_OWNER_NAMESPACE = 'lbc.dev/owner-namespace';
export const TAG_OWNER_NAME = 'lbc.dev/owner-name';
export const TAG_OWNER_UID = 'lbc.dev/owner-uid';

export const RESERVED_TAG_PREFIX = 'lbc.dev/';

export function ownershipTags(clusterName: string, ref: LbRef): Record<string, string> {
  return {
    [TAG_CLUSTER]: clusterName,
    [TAG_OWNER_KIND]: ref.kind,
    [TAG_OWNER_NAMESPACE]: ref.namespace,
    [TAG_OWNER_NAME]: ref.name,
    [TAG_OWNER_UID]: ref.uid,
  };
}

/** What a load balancer listens on, whatever its layer: for status ports and plans. */
export function listeningPorts(spec: LoadBalancerSpec): readonly { readonly protocol: ListenerProtocol | 'TLS'; readonly port: number }[] {
  return spec.layer === 'Gateway' ? spec.ports.map((p) => ({ protocol: p.protocol, port: p.port })) : spec.listeners;
}
