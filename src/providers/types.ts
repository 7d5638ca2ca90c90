// The provider contract: what the reconciler may ask of a cloud (or bare-metal, or
// in-memory) backend. Providers never see Kubernetes objects; the reconciler never sees
// cloud objects. Everything crosses this line as model types.
import type { HeldAddresses } from '../model/allocation.js';
import type { LbKind, LbRef } from '../model/ref.js';
import type { BackendProtocol, LoadBalancerSpec, ProviderOptions, TargetType } from '../model/spec.js';
import type { LoadBalancerStatus } from '../model/status.js';
import type { TargetBinding, TargetBindingRef, TargetBindingResult } from '../model/target-binding.js';
import type { GatewayFeature } from '../model/gateway-features.js';
import type { GatewayParameterKind } from '../model/gateway.js';
import type { ModelError } from '../model/validation.js';

/** One step a provider would take (plan) or took (ensure) against its API. */
export interface Change {
  readonly op: 'create' | 'update' | 'delete';
  /** The provider's resource kind, e.g. `LoadBalancer`, `Listener`, `TargetGroup`, `FirewallRule`. */
  readonly resource: string;
  /** Stable identifier within the LB: a listener `TCP:80`, a target set name, ... */
  readonly id: string;
  /** For updates: which properties differ. */
  readonly fields?: readonly string[];
  readonly detail?: string;
}

/** What listOwned reports: enough for garbage collection to match against live objects. */
export interface OwnedLoadBalancer {
  readonly ref: LbRef;
  /** The provider's own id for the resource (ARN, self link, pool address, ...). */
  readonly id: string;
}

/** A Service an annotation action forwards to, as the user wrote it: port a number, a numeric string or a port name. */
export interface ActionServiceRef {
  readonly service: string;
  readonly port?: number | string | undefined;
}

/** How values of one annotation set on several members of an Ingress group combine. */
export type MergeKind = 'stringList' | 'stringMap' | 'jsonList';

export interface AnnotationScopes {
  /**
   * Read per member and per backend, never merged: each Ingress's own value applies to
   * the target sets of its backends, and the backend Service's value wins over it.
   */
  readonly perTargetSet: readonly string[];
  /** Set on any members and combined; the others are exclusive (conflicting values are an error). */
  readonly merged: Readonly<Record<string, MergeKind>>;
  /**
   * Read per member and never merged: each Ingress's own value decides where its own rules
   * go (AWS listen-ports: its listeners). The builder parses them, with the member's own
   * `merged` ones, into L7Spec.memberOptions.
   */
  readonly perIngress?: readonly string[];
}

/** A controllerName of another controller's GatewayClasses a provider serves, and what such a class serves. */
export interface GatewayControllerName {
  readonly controllerName: string;
  readonly features: readonly GatewayFeature[];
}

export interface ProviderCapabilities {
  readonly layers: readonly LoadBalancerSpec['layer'][];
  /** Target types the provider can program; the first is its default. Never empty. */
  readonly targetTypes: readonly [TargetType, ...TargetType[]];
  /**
   * Annotation prefixes the provider reads besides `lbc.dev/`. The Ingress builder merges
   * these across the members of an Ingress group and reports conflicting values.
   */
  readonly annotationPrefixes: readonly string[];
  /**
   * How the provider's Ingress annotations scope within a group, when not all are
   * group-wide (aws-load-balancer-controller's MergeBehavior column).
   */
  readonly annotationScopes?: AnnotationScopes;
  /**
   * The provider finds certificates for an Ingress's hosts itself (AWS: ACM discovery),
   * so a spec.tls entry without secretName is accepted for its hosts (L7Spec.tlsHosts).
   */
  readonly certificatesByHost?: boolean;
  /**
   * Instance targets are only ever the backend Service's own node port, as
   * aws-load-balancer-controller builds them: a backend without one (a ClusterIP Service)
   * whose target type is instance, by default or asked for, is an error naming the
   * annotation that asks for ip targets, never ip targets or a companion NodePort Service
   * in its place.
   */
  readonly instanceTargetsNeedNodePort?: { readonly targetTypeAnnotation: string };
  /**
   * The Service that answers, with 404, the requests no rule of an Ingress matches when the
   * Ingress has no defaultBackend (ingress-gce's kube-system/default-http-backend). The
   * builder resolves it as a backend, so unmatched requests never reach an application;
   * absent: the provider answers 404 itself.
   */
  readonly systemDefaultBackend?: { readonly namespace: string; readonly service: string; readonly port: number | string };
  /**
   * The Gateway API features the provider serves when its layers include 'Gateway'
   * (conformance names, model/gateway-features.ts); its GatewayClass publishes exactly
   * these, and the Gateway builder refuses what is not here.
   */
  readonly gatewayFeatures?: readonly GatewayFeature[];
  /**
   * GatewayClass controllerNames of the controller this provider replaces, each with the
   * features a class of that name serves (a subset of gatewayFeatures): aws-load-balancer-
   * controller's gateway.k8s.aws/alb (ALBs only) and gateway.k8s.aws/nlb (NLBs only), so its
   * users' GatewayClasses work unchanged. lbc serves them where the configuration lets it
   * (gateway.compatibleControllerNames; controller/gateway/controller-names.ts).
   */
  readonly gatewayControllerNames?: readonly GatewayControllerName[];
  /**
   * The provider takes a Gateway's spec.addresses of type NamedAddress: the name of an
   * address reserved in the cloud (GKE's static IP), handed over in GatewaySpec.namedAddresses.
   */
  readonly gatewayNamedAddresses?: boolean;
  /**
   * The parameters kinds a Gateway's spec.infrastructure.parametersRef may name for this
   * provider; a Gateway naming any other is not Accepted (InvalidParameters). Absent: none.
   */
  readonly gatewayParameters?: readonly GatewayParameterKind[];
  /**
   * Parameters kinds attached to a backend Service by their spec.targetReference (the
   * Service's name, same namespace), read for the target set of every route backend of that
   * Service (ALBC's TargetGroupConfiguration). Absent: none.
   */
  readonly gatewayBackendParameters?: readonly GatewayParameterKind[];
  /** Kinds an HTTPRoute or GRPCRoute ExtensionRef filter may name (ALBC's ListenerRuleConfiguration). Absent: none. */
  readonly gatewayFilterExtensions?: readonly GatewayParameterKind[];
  /** Annotations the provider writes on the objects it serves (LoadBalancerStatus.annotations); removed when an object is released. */
  readonly objectAnnotations?: readonly string[];
  /**
   * Its allocation depends on the object's labels (MetalLB's serviceAllocation.serviceSelectors),
   * so they are part of AllocationFacts; for the others they are not, and a label edit changes no spec.
   */
  readonly allocationByLabels?: boolean;
}

/** A parameters object of one of the provider's kinds, validated (parseGatewayParameters). */
export type GatewayParametersParse =
  | {
      readonly ok: true;
      readonly value: unknown;
      /** The target type a backend's parameters ask for (gatewayBackendParameters kinds). */
      readonly targetType?: TargetType;
      /** Secrets (names, in the object's namespace) the controller must read for the provider; their data reaches it with the object. */
      readonly secrets?: readonly string[];
    }
  | { readonly ok: false; readonly errors: readonly string[] };

/** What a provider's own annotation parsing yields. */
export type OptionsParseResult<O extends ProviderOptions> =
  | {
      readonly ok: true;
      readonly options: O;
      /** The target type the provider's own annotations ask for, e.g. aws-load-balancer-nlb-target-type. */
      readonly targetType?: TargetType;
      /** Annotations under its prefixes the provider does not read (unimplemented or misspelt), each with why; a Service carries them in a condition. */
      readonly unread?: readonly string[];
    }
  | { readonly ok: false; readonly errors: readonly ModelError[] };

export type BackendProtocolResult = { readonly ok: true; readonly protocol?: BackendProtocol } | { readonly ok: false; readonly errors: readonly ModelError[] };

/** What restore() did with the addresses it was handed. */
export interface RestoreReport {
  /** How many load balancers keep the addresses their objects hold. */
  readonly kept: number;
  /** Those that cannot, and why (outside every pool, held by an older object); their next ensure gives them others. */
  readonly dropped: readonly { readonly ref: LbRef; readonly addresses: readonly string[]; readonly reason: string }[];
}

/**
 * What a provider may read of the cluster beyond the objects it serves, without a
 * Kubernetes client type: GKE's controllers keep facts every load balancer of the
 * cluster must agree on in kube-system ConfigMaps (ingress-gce's `ingress-uid`).
 */
export interface ClusterFacts {
  /** A ConfigMap's data; undefined when it does not exist. */
  configMap(namespace: string, name: string): Promise<Readonly<Record<string, string>> | undefined>;
}

export interface CallOptions {
  /** Aborts waiting; the provider stops as soon as it safely can and rejects with a transient error. */
  readonly signal?: AbortSignal;
}

export interface Provider<O extends ProviderOptions = ProviderOptions> {
  /** The configured provider name (config `providers[].name`). */
  readonly name: string;
  /** The provider type (config `providers[].type`): memory, local, aws, gce, metal. */
  readonly type: string;
  readonly capabilities: ProviderCapabilities;
  /**
   * Validates the provider's own annotations on a Service or Ingress into its typed
   * options bag. Pure. Absent means the provider reads no annotations (options `{}`).
   */
  parseOptions?(annotations: Readonly<Record<string, string>>, kind: LbKind): OptionsParseResult<O>;
  /**
   * The Services an annotation action (the value of `<prefix>actions.<name>`) forwards
   * to, so that the Ingress builder resolves them into target sets as it does rule
   * backends. Pure. Absent: the provider's actions name no Services.
   */
  actionServices?(actionValue: string): readonly ActionServiceRef[];
  /**
   * The Secrets (names, in the object's own namespace) an object's annotations ask the
   * controller to read for the provider (AWS auth-idp-oidc's secretName); their data
   * reaches the provider in L7Spec.secrets. Pure. Absent: none.
   */
  secretNames?(annotations: Readonly<Record<string, string>>): readonly string[];
  /**
   * Validates a parameters object of a kind in capabilities.gatewayParameters (its whole
   * object as the API server holds it) into what the provider reads from GatewaySpec.parameters.
   * Pure. Errors name the field; the Gateway is then not Accepted (InvalidParameters).
   */
  parseGatewayParameters?(kind: GatewayParameterKind, object: unknown): GatewayParametersParse;
  /**
   * The protocol the load balancer speaks to an Ingress backend, read from the backend
   * Service's own annotations (GKE: cloud.google.com/app-protocols) for the port the
   * Ingress uses. Pure. Absent, or no protocol in the result: HTTP.
   */
  backendProtocol?(serviceAnnotations: Readonly<Record<string, string>>, port: { readonly name?: string; readonly port: number }): BackendProtocolResult;
  /** The changes ensure(spec) would make now, without making them. */
  plan(spec: LoadBalancerSpec<O>, opts?: CallOptions): Promise<readonly Change[]>;
  /**
   * Converges the cloud on spec and reports the addresses. Idempotent: with nothing
   * changed it makes no write. Touches only resources tagged with the spec's cluster and
   * ref uid.
   */
  ensure(spec: LoadBalancerSpec<O>, opts?: CallOptions): Promise<LoadBalancerStatus>;
  /** Removes everything owned for ref. Succeeds when nothing is there (no notFound). */
  delete(ref: LbRef, opts?: CallOptions): Promise<void>;
  /** Every LB this provider owns for this cluster, found by its ownership tags. */
  listOwned(opts?: CallOptions): Promise<readonly OwnedLoadBalancer[]>;
  /**
   * After a (re)start: the addresses the objects this provider serves already hold in
   * their status. A provider that hands addresses out itself keeps each for its object
   * while it is still valid (in a pool, not held by an older object), so a restart moves
   * no address, rewrites no status and tells no client anything new. The controller calls
   * it once its caches have synced and before its first ensure, with every object of this
   * provider whose status has an address; a second call starts over from its list (what
   * the provider holds live stays). A provider may refuse ensure and plan as transient
   * until it has been called, where handing out an address sooner could give one twice.
   * Absent: the provider's addresses do not depend on the order it is asked in (a cloud's).
   */
  restore?(held: readonly HeldAddresses<O>[], opts?: CallOptions): Promise<RestoreReport>;
  /**
   * Subscribes to released capacity: when something the provider held is released, the
   * listener hears which load balancers it refused since for want of it (a full address
   * pool, an address in use), so that they are retried now rather than at their slow
   * retry. Returns the unsubscribe.
   */
  onCapacityFreed?(listener: (waiting: readonly LbRef[]) => void): () => void;
  /**
   * Puts a binding's targets into the user's target group (aws-load-balancer-controller's
   * TargetGroupBinding): registers what is missing, deregisters what is no longer wanted,
   * and converges the access rules it tagged for the binding. Never changes the group.
   * Absent: the provider has no such groups.
   */
  bindTargets?(binding: TargetBinding, opts?: CallOptions): Promise<TargetBindingResult>;
  /** Deregisters every target of the group and revokes the rules tagged for ref; succeeds when the group is gone. */
  unbindTargets?(ref: TargetBindingRef, targetGroup: TargetBinding['targetGroup'] | undefined, opts?: CallOptions): Promise<void>;
  /** Releases clients and timers at shutdown. */
  close?(): Promise<void>;
}

export type ProviderErrorKind =
  /** Rate limited: wait retryAfterMs (or back off), then retry. */
  | 'throttled'
  /** Timeouts, 5xx, aborted calls: retry with backoff. */
  | 'transient'
  /** The spec cannot be realised as asked (bad option, unsupported protocol): retrying will not help until the object changes. */
  | 'invalid'
  /** Something the call needed is gone. */
  | 'notFound'
  /** Someone else holds what we asked for (an address taken, a name in use). */
  | 'conflict'
  /** Out of addresses or over a cloud quota. */
  | 'quota'
  /** Credentials lack a permission. */
  | 'forbidden';

const RETRYABLE: ReadonlySet<ProviderErrorKind> = new Set(['throttled', 'transient', 'notFound', 'conflict', 'quota']);

export class ProviderError extends Error {
  override readonly name = 'ProviderError';
  readonly kind: ProviderErrorKind;
  // `declare` so an absent value is absent, not an own property set to undefined.
  declare readonly retryAfterMs?: number;
  /** The provider that raised it, for Events and metrics. */
  declare readonly provider?: string;

  constructor(kind: ProviderErrorKind, message: string, opts: { retryAfterMs?: number; provider?: string; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.kind = kind;
    if (opts.retryAfterMs !== undefined) Object.defineProperty(this, 'retryAfterMs', { value: opts.retryAfterMs, enumerable: true });
    if (opts.provider !== undefined) Object.defineProperty(this, 'provider', { value: opts.provider, enumerable: true });
  }

  /** Whether the same call may succeed later without the user changing anything. */
  get retryable(): boolean {
    return RETRYABLE.has(this.kind);
  }
}

/**
 * ensure converged part of the load balancer and failed the rest (a listener that cannot
 * bind, a certificate that does not load): what serves is in `status`, what failed in the
 * message. The reconciler publishes the status, so clients reach the parts that work,
 * reports the failure on the object, and retries as `kind` says.
 */
export class PartialEnsureError extends ProviderError {
  constructor(
    kind: ProviderErrorKind,
    message: string,
    readonly status: LoadBalancerStatus,
    opts: { retryAfterMs?: number; provider?: string; cause?: unknown } = {},
  ) {
    super(kind, message, opts);
  }
}

export function isProviderError(e: unknown): e is ProviderError {
  return e instanceof ProviderError;
}

/** Treats anything a provider throws that is not a ProviderError as transient, since its cause is unknown. */
export function toProviderError(e: unknown, provider?: string): ProviderError {
  if (isProviderError(e)) return e;
  const message = e instanceof Error ? e.message : String(e);
  return new ProviderError('transient', message, { cause: e, ...(provider !== undefined ? { provider } : {}) });
}
