// The Gateway API objects (gateway.networking.k8s.io, v1.4.0) as lbc reads them. client-node
// has no models for custom resources, so these interfaces hold the fields lbc reads and
// writes, named as in the upstream Go types (apis/v1/*_types.go); everything else an
// object carries passes through untouched.
import type { V1ObjectMeta } from '@kubernetes/client-node';

export const GATEWAY_GROUP = 'gateway.networking.k8s.io';

/**
 * Kept on a GatewayClass while Gateways of it exist, so it is not deleted from under them
 * (the specification's recommendation; apis/v1 GatewayClassFinalizerGatewaysExist).
 */
export const GATEWAY_CLASS_FINALIZER = 'gateway-exists-finalizer.gateway.networking.k8s.io';

export interface GatewayCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  observedGeneration?: number;
  lastTransitionTime: string;
}

interface GatewayObject<S, St> {
  apiVersion?: string;
  kind?: string;
  metadata?: V1ObjectMeta;
  spec?: S;
  status?: St;
}

export interface ParametersReference {
  group: string;
  kind: string;
  name: string;
  namespace?: string;
}

export interface GatewayClassSpec {
  controllerName: string;
  parametersRef?: ParametersReference;
  description?: string;
}

export interface GatewayClassStatus {
  conditions?: GatewayCondition[];
  supportedFeatures?: { name: string }[];
}

export type GatewayClass = GatewayObject<GatewayClassSpec, GatewayClassStatus>;

export interface SecretObjectReference {
  group?: string;
  kind?: string;
  name: string;
  namespace?: string;
}

export interface RouteGroupKind {
  group?: string;
  kind: string;
}

export interface GatewayListener {
  name: string;
  hostname?: string;
  port: number;
  protocol: string;
  tls?: {
    mode?: 'Terminate' | 'Passthrough';
    certificateRefs?: SecretObjectReference[];
    options?: Record<string, string>;
  };
  allowedRoutes?: {
    namespaces?: {
      from?: 'All' | 'Same' | 'Selector' | 'None';
      selector?: LabelSelector;
    };
    kinds?: RouteGroupKind[];
  };
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values?: string[] }[];
}

export interface GatewaySpecAddress {
  type?: string;
  value?: string;
}

export interface GatewayObjectSpec {
  gatewayClassName: string;
  listeners: GatewayListener[];
  addresses?: GatewaySpecAddress[];
  infrastructure?: GatewayInfrastructure;
}

/** apis/v1 GatewayInfrastructure; parametersRef is a LocalParametersReference (the Gateway's namespace). */
export interface GatewayInfrastructure {
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  parametersRef?: { group: string; kind: string; name: string };
}

export interface ListenerStatus {
  name: string;
  supportedKinds: RouteGroupKind[];
  attachedRoutes: number;
  conditions: GatewayCondition[];
}

export interface GatewayObjectStatus {
  addresses?: { type?: string; value: string }[];
  conditions?: GatewayCondition[];
  listeners?: ListenerStatus[];
}

export type Gateway = GatewayObject<GatewayObjectSpec, GatewayObjectStatus>;

export interface ParentReference {
  group?: string;
  kind?: string;
  namespace?: string;
  name: string;
  sectionName?: string;
  port?: number;
}

export interface BackendObjectReference {
  group?: string;
  kind?: string;
  name: string;
  namespace?: string;
  port?: number;
}

export interface HTTPHeaderFilter {
  set?: { name: string; value: string }[];
  add?: { name: string; value: string }[];
  remove?: string[];
}

export interface HTTPPathModifier {
  type: 'ReplaceFullPath' | 'ReplacePrefixMatch';
  replaceFullPath?: string;
  replacePrefixMatch?: string;
}

export interface HTTPRouteFilter {
  type: string;
  requestHeaderModifier?: HTTPHeaderFilter;
  responseHeaderModifier?: HTTPHeaderFilter;
  requestRedirect?: {
    scheme?: string;
    hostname?: string;
    path?: HTTPPathModifier;
    port?: number;
    statusCode?: number;
  };
  urlRewrite?: { hostname?: string; path?: HTTPPathModifier };
  requestMirror?: {
    backendRef: BackendObjectReference;
    percent?: number;
    fraction?: { numerator: number; denominator?: number };
  };
  extensionRef?: { group: string; kind: string; name: string };
}

export interface HTTPBackendRef extends BackendObjectReference {
  weight?: number;
  filters?: HTTPRouteFilter[];
}

export interface HTTPRouteMatch {
  path?: { type?: 'Exact' | 'PathPrefix' | 'RegularExpression'; value?: string };
  headers?: { type?: 'Exact' | 'RegularExpression'; name: string; value: string }[];
  queryParams?: { type?: 'Exact' | 'RegularExpression'; name: string; value: string }[];
  method?: string;
}

export interface HTTPRouteRule {
  name?: string;
  matches?: HTTPRouteMatch[];
  filters?: HTTPRouteFilter[];
  backendRefs?: HTTPBackendRef[];
  timeouts?: { request?: string; backendRequest?: string };
}

export interface RouteParentStatus {
  parentRef: ParentReference;
  controllerName: string;
  conditions: GatewayCondition[];
}

export interface RouteStatus {
  parents?: RouteParentStatus[];
}

export interface CommonRouteSpec {
  parentRefs?: ParentReference[];
}

export type HTTPRoute = GatewayObject<CommonRouteSpec & { hostnames?: string[]; rules?: HTTPRouteRule[] }, RouteStatus>;

export interface GRPCMethodMatch {
  type?: 'Exact' | 'RegularExpression';
  service?: string;
  method?: string;
}

export interface GRPCRouteRule {
  name?: string;
  matches?: { method?: GRPCMethodMatch; headers?: { type?: 'Exact' | 'RegularExpression'; name: string; value: string }[] }[];
  filters?: HTTPRouteFilter[];
  backendRefs?: HTTPBackendRef[];
}

export type GRPCRoute = GatewayObject<CommonRouteSpec & { hostnames?: string[]; rules?: GRPCRouteRule[] }, RouteStatus>;

export interface L4RouteRuleObject {
  name?: string;
  backendRefs?: (BackendObjectReference & { weight?: number })[];
}

export type TLSRoute = GatewayObject<CommonRouteSpec & { hostnames?: string[]; rules?: L4RouteRuleObject[] }, RouteStatus>;
export type TCPRoute = GatewayObject<CommonRouteSpec & { rules?: L4RouteRuleObject[] }, RouteStatus>;
export type UDPRoute = GatewayObject<CommonRouteSpec & { rules?: L4RouteRuleObject[] }, RouteStatus>;

export type AnyRoute = HTTPRoute | GRPCRoute | TLSRoute | TCPRoute | UDPRoute;

export interface ReferenceGrantSpec {
  from: { group: string; kind: string; namespace: string }[];
  to: { group: string; kind: string; name?: string }[];
}

export type ReferenceGrant = GatewayObject<ReferenceGrantSpec, never>;
