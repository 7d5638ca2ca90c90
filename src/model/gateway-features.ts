// The Gateway API features a provider serves, named as the Gateway API conformance suite
// names them (gateway-api pkg/features, v1.4.0): the GatewayClass publishes them in
// status.supportedFeatures, and the Gateway builder refuses what the provider does not
// list, with the specification's reasons, instead of dropping it.

/** Core features of the profiles lbc implements: GATEWAY-HTTP, GATEWAY-GRPC, GATEWAY-TLS. */
export const CORE_GATEWAY_FEATURES = ['Gateway', 'HTTPRoute', 'ReferenceGrant'] as const;

export const GATEWAY_FEATURES = [
  ...CORE_GATEWAY_FEATURES,
  'GatewayPort8080',
  'GatewayStaticAddresses',
  'GatewayHTTPListenerIsolation',
  'HTTPRouteHostRewrite',
  'HTTPRouteMethodMatching',
  'HTTPRouteParentRefPort',
  'HTTPRoutePathRedirect',
  'HTTPRoutePathRewrite',
  'HTTPRoutePortRedirect',
  'HTTPRouteQueryParamMatching',
  'HTTPRouteRequestMirror',
  'HTTPRouteRequestMultipleMirrors',
  'HTTPRouteRequestPercentageMirror',
  'HTTPRouteRequestTimeout',
  'HTTPRouteBackendTimeout',
  'HTTPRouteResponseHeaderModification',
  'HTTPRouteBackendRequestHeaderModification',
  'HTTPRouteSchemeRedirect',
  'GRPCRoute',
  'TLSRoute',
  'TLSRouteModeTerminate',
  // Upstream's provisional GatewayHTTPSAndTLSPassthroughSamePort (after v1.4): HTTPS and TLS listeners on one port, by SNI.
  'GatewayHTTPSAndTLSPassthroughSamePort',
  'TCPRoute',
  'UDPRoute',
] as const;

export type GatewayFeature = (typeof GATEWAY_FEATURES)[number];

export function isGatewayFeature(name: string): name is GatewayFeature {
  return (GATEWAY_FEATURES as readonly string[]).includes(name);
}
