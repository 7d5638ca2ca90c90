// A Gateway as a provider sees it: Gateway API objects resolved into ports, listeners and
// route rules, with every reference (Secret, Service, ReferenceGrant) already checked.
// The builder (controller/gateway) attaches routes to listeners, intersects hostnames,
// drops what the specification says to drop and records why in status; a provider only
// serves what is left; GatewaySpec (model/spec.ts) holds the ports. Nothing here refers
// to Kubernetes object types.
import type { TlsCertificate } from './certificate.js';

/** The route kinds a listener can carry. */
export type RouteKind = 'HTTPRoute' | 'GRPCRoute' | 'TLSRoute' | 'TCPRoute' | 'UDPRoute';

/** Which route a rule came from: for Events, logs and the specification's tie-breaks. */
export interface RouteOrigin {
  readonly kind: RouteKind;
  readonly namespace: string;
  readonly name: string;
  /** The route's metadata.creationTimestamp (RFC 3339): the oldest route wins a tie. */
  readonly creationTimestamp: string;
  /** The rule's index in the route's spec.rules. */
  readonly ruleIndex: number;
}

/**
 * One backendRef after resolution. `targetSet` absent means the reference is invalid
 * (Service not found, not permitted, wrong kind): its share of requests gets HTTP 500,
 * as the specification asks, and a TCP/TLS connection is closed.
 */
export interface WeightedBackend {
  readonly targetSet?: string;
  /** 0 sends no traffic; the specification's default is 1. */
  readonly weight: number;
  /** Filters that apply only when this backend is chosen (HTTPBackendRef.filters). */
  readonly filters: readonly HttpFilter[];
}

export type StringMatchType = 'Exact' | 'RegularExpression';

export interface HttpPathMatch {
  readonly type: 'Exact' | 'PathPrefix' | 'RegularExpression';
  readonly value: string;
}

export interface HttpHeaderMatch {
  readonly type: StringMatchType;
  /** Header names compare case-insensitively; stored lower case. */
  readonly name: string;
  readonly value: string;
}

export interface HttpQueryParamMatch {
  readonly type: StringMatchType;
  /** Query parameter names compare exactly (case-sensitive). */
  readonly name: string;
  readonly value: string;
}

/** Every field present must match (AND); absent fields match anything. */
export interface HttpRequestMatch {
  readonly path?: HttpPathMatch;
  readonly headers: readonly HttpHeaderMatch[];
  readonly queryParams: readonly HttpQueryParamMatch[];
  /** An HTTP method, upper case. */
  readonly method?: string;
}

export interface HttpHeader {
  readonly name: string;
  readonly value: string;
}

export interface HeaderModifier {
  readonly set: readonly HttpHeader[];
  readonly add: readonly HttpHeader[];
  readonly remove: readonly string[];
}

export type PathModifier =
  | { readonly type: 'ReplaceFullPath'; readonly value: string }
  | { readonly type: 'ReplacePrefixMatch'; readonly value: string };

export type HttpFilter =
  | ({ readonly type: 'RequestHeaderModifier' } & HeaderModifier)
  | ({ readonly type: 'ResponseHeaderModifier' } & HeaderModifier)
  | {
      readonly type: 'RequestRedirect';
      readonly scheme?: 'http' | 'https';
      readonly hostname?: string;
      readonly path?: PathModifier;
      readonly port?: number;
      readonly statusCode: 301 | 302 | 303 | 307 | 308;
    }
  | { readonly type: 'URLRewrite'; readonly hostname?: string; readonly path?: PathModifier }
  | {
      /**
       * An ExtensionRef filter naming a kind the provider reads (capabilities.gatewayFilterExtensions,
       * e.g. ALBC's ListenerRuleConfiguration), found in the route's namespace and parsed by the provider.
       */
      readonly type: 'Extension';
      readonly parameters: GatewayParameters;
      /** The data (decoded) of the Secrets the provider's parse named, by `namespace/name`; absent ones are left out. */
      readonly secrets: Readonly<Record<string, Readonly<Record<string, string>>>>;
    }
  | {
      readonly type: 'RequestMirror';
      /** Absent when the mirror's backendRef did not resolve: nothing is mirrored. */
      readonly targetSet?: string;
      /** Share of requests mirrored, 0-100 (fraction/percent resolved by the builder); default 100. */
      readonly percent: number;
    };

/**
 * One HTTPRoute or GRPCRoute rule attached to one listener. A GRPCRoute rule arrives
 * with its method matches already written as path matches (`/service/method`) and
 * `backendProtocol: 'h2c'`.
 */
export interface HttpRouteRule {
  readonly origin: RouteOrigin;
  /**
   * The route's hostnames intersected with the listener's, lower case; empty means the
   * listener's hostname (or any host when the listener has none).
   */
  readonly hostnames: readonly string[];
  /** ORed; never empty (a rule without matches gets the specification's PathPrefix `/`). */
  readonly matches: readonly HttpRequestMatch[];
  /** In the order declared; the builder has already refused invalid combinations. */
  readonly filters: readonly HttpFilter[];
  /** Empty with no redirect filter means the rule answers 500 (no valid backend). */
  readonly backends: readonly WeightedBackend[];
  readonly backendProtocol: 'http1' | 'h2c';
  readonly timeouts?: {
    /** The whole request, client to last byte of the response (HTTPRouteTimeouts.request). */
    readonly requestMs?: number;
    /** One attempt to a backend (HTTPRouteTimeouts.backendRequest). */
    readonly backendRequestMs?: number;
  };
}

/** A listener's routes and hostname; requests pick the most specific listener first (listener isolation). */
interface GatewayListenerBase {
  /** The Gateway listener's name (unique within the Gateway). */
  readonly name: string;
  /** Exact or `*.` wildcard, lower case; absent matches every host. */
  readonly hostname?: string;
}

export interface HttpGatewayListener extends GatewayListenerBase {
  readonly rules: readonly HttpRouteRule[];
}

export interface HttpsGatewayListener extends HttpGatewayListener {
  /** TLS Terminate: the certificates from certificateRefs, chosen by SNI. */
  readonly certificates: readonly TlsCertificate[];
}

export interface TlsRouteRule {
  readonly origin: RouteOrigin;
  /** SNI names (route ∩ listener), lower case; empty means the listener's hostname or any. */
  readonly hostnames: readonly string[];
  readonly backends: readonly WeightedBackend[];
}

export interface TlsGatewayListener extends GatewayListenerBase {
  /** Passthrough forwards the TLS stream by SNI untouched; Terminate decrypts and forwards plain TCP. */
  readonly mode: 'Passthrough' | 'Terminate';
  /** Only for Terminate. */
  readonly certificates: readonly TlsCertificate[];
  readonly rules: readonly TlsRouteRule[];
}

export interface L4RouteRule {
  readonly origin: RouteOrigin;
  readonly backends: readonly WeightedBackend[];
}

/**
 * What listens on one port. Listeners of the same protocol may share a port when their
 * hostnames differ (HTTP, HTTPS, TLS); TCP and UDP take a port alone. HTTPS and TLS
 * listeners may also share one, when the provider declares
 * GatewayHTTPSAndTLSPassthroughSamePort: the port is then a TLS port whose `https`
 * listeners terminate the names they are the most specific listener for (SNI decides),
 * and serve them by their HTTP routes. The builder has already marked conflicting
 * listeners Conflicted and left them out.
 */
export type GatewayPort =
  | { readonly protocol: 'HTTP'; readonly port: number; readonly listeners: readonly HttpGatewayListener[] }
  | { readonly protocol: 'HTTPS'; readonly port: number; readonly listeners: readonly HttpsGatewayListener[] }
  | { readonly protocol: 'TLS'; readonly port: number; readonly listeners: readonly TlsGatewayListener[]; readonly https?: readonly HttpsGatewayListener[] }
  | { readonly protocol: 'TCP' | 'UDP'; readonly port: number; readonly listener: string; readonly rules: readonly L4RouteRule[] };

export type GatewayPortProtocol = GatewayPort['protocol'];

/** A kind of parameters object a provider reads (Gateway infrastructure.parametersRef). */
export interface GatewayParameterKind {
  readonly group: string;
  readonly kind: string;
}

/** A parameters object the builder found and the provider parsed; the provider reads `value` only. */
export interface GatewayParameters extends GatewayParameterKind {
  readonly name: string;
  readonly namespace: string;
  readonly value: unknown;
}
