// Gateway specs for the AWS tests: what the Gateway builder hands the provider for a
// Gateway `shop/edge` with an HTTP listener and an HTTPRoute canary (90/10 between two
// Services on /api, the rest to web).
import { ALL_DEFAULTED } from '../../../src/controller/health-check.js';
import type { GatewayPort, HttpFilter, HttpGatewayListener, HttpRequestMatch, HttpRouteRule, L4RouteRule, RouteKind, TlsGatewayListener, WeightedBackend } from '../../../src/model/gateway.js';
import type { GatewaySpec, NodeTarget, TargetSet } from '../../../src/model/spec.js';
import { ownershipTags } from '../../../src/model/spec.js';
import type { LbRef } from '../../../src/model/ref.js';
import { parseAwsOptions, type AwsLbOptions } from '../../../src/providers/aws/annotations.js';
import { parseLoadBalancerConfiguration, type LoadBalancerConfigurationOptions } from '../../../src/providers/aws/load-balancer-configuration.js';
import { parseTargetGroupConfiguration, TARGET_GROUP_CONFIGURATION } from '../../../src/providers/aws/target-group-configuration.js';
import { CLUSTER, HTTP_HC, nodes } from './support.js';

export const GW_REF: LbRef = { kind: 'Gateway', namespace: 'shop', name: 'edge', uid: 'uid-gw-1' };

export function gatewayOptions(annotations: Record<string, string> = {}): AwsLbOptions {
  const r = parseAwsOptions({ 'alb.ingress.kubernetes.io/scheme': 'internet-facing', ...annotations }, 'Gateway');
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.options;
}

export const prefix = (value: string, extra: Partial<HttpRequestMatch> = {}): HttpRequestMatch => ({ path: { type: 'PathPrefix', value }, headers: [], queryParams: [], ...extra });

export const backend = (targetSet: string | undefined, weight = 1): WeightedBackend => ({ ...(targetSet !== undefined ? { targetSet } : {}), weight, filters: [] });

export function httpRule(ruleIndex: number, matches: HttpRequestMatch[], backends: WeightedBackend[], opts: { filters?: HttpFilter[]; route?: string; hostnames?: string[]; created?: string; grpc?: boolean } = {}): HttpRouteRule {
  return {
    origin: { kind: opts.grpc ? 'GRPCRoute' : 'HTTPRoute', namespace: 'shop', name: opts.route ?? 'canary', creationTimestamp: opts.created ?? '2026-12-01T00:00:00Z', ruleIndex },
    hostnames: opts.hostnames ?? [],
    matches,
    filters: opts.filters ?? [],
    backends,
    backendProtocol: opts.grpc ? 'h2c' : 'http1',
  };
}

/** The canary: /api split 90/10 between api and api-v2, everything else to web. */
export function canaryRules(weights: [number, number] = [90, 10]): HttpRouteRule[] {
  return [httpRule(0, [prefix('/api')], [backend('shop/api:8080', weights[0]), backend('shop/api-v2:8080', weights[1])]), httpRule(1, [prefix('/')], [backend('shop/web:80')])];
}

const SETS: [string, number][] = [
  ['shop/web:80', 31080],
  ['shop/api:8080', 31081],
  ['shop/api-v2:8080', 31082],
];

export function targetSets(targets: readonly NodeTarget[] = nodes('i-0aaa', 'i-0bbb')): TargetSet[] {
  return SETS.map(([name, nodePort]) => ({
    name,
    type: 'instance',
    protocol: 'HTTP',
    healthCheck: HTTP_HC,
    // As the Gateway builder marks them: nothing set by the user.
    healthCheckDefaulted: ALL_DEFAULTED,
    backend: { namespace: 'shop', service: name.split('/')[1]?.split(':')[0] ?? '', port: Number(name.split(':')[1]) },
    nodePort,
    targets,
  }));
}

export function gatewaySpec(
  opts: { listeners?: HttpGatewayListener[]; rules?: HttpRouteRule[]; https?: HttpGatewayListener[]; annotations?: Record<string, string>; clusterName?: string; targets?: readonly NodeTarget[] } = {},
): GatewaySpec<AwsLbOptions> {
  const clusterName = opts.clusterName ?? CLUSTER;
  const http = opts.listeners ?? [{ name: 'http', rules: opts.rules ?? canaryRules() }];
  return {
    layer: 'Gateway',
    ref: GW_REF,
    provider: 'aws',
    className: 'lbc.dev/aws',
    clusterName,
    ports: [
      { protocol: 'HTTP', port: 80, listeners: http },
      ...(opts.https ? [{ protocol: 'HTTPS' as const, port: 443, listeners: opts.https.map((l) => ({ ...l, certificates: [] })) }] : []),
    ],
    targetSets: targetSets(opts.targets),
    sourceRanges: [],
    requestedAddresses: [],
    ipFamilies: ['IPv4'],
    tags: ownershipTags(clusterName, GW_REF),
    providerOptions: gatewayOptions(opts.annotations),
  };
}

/**
 * `spec` with target set `set` (the Service `service`) carrying the TargetGroupConfiguration
 * `shop/<name>` whose spec is `configuration` (targetReference added), parsed as the builder hands it over.
 */
export function configuredBackend(spec: GatewaySpec<AwsLbOptions>, configuration: Record<string, unknown>, opts: { set?: string; service?: string; name?: string } = {}): GatewaySpec<AwsLbOptions> {
  const { set = 'shop/web:80', service = 'web', name = 'web-tg' } = opts;
  const parsed = parseTargetGroupConfiguration({ metadata: { name, namespace: 'shop' }, spec: { targetReference: { name: service }, ...configuration } });
  if (!parsed.ok) throw new Error(parsed.errors.join('; '));
  const parameters = { ...TARGET_GROUP_CONFIGURATION, namespace: 'shop', name, value: parsed.value };
  return { ...spec, targetSets: spec.targetSets.map((ts) => (ts.name === set ? { ...ts, parameters } : ts)) };
}

/** A LoadBalancerConfiguration's spec, parsed as the builder hands it over; one the parser refuses fails the test with its errors. */
export function parsedLoadBalancerConfiguration(spec: Record<string, unknown>): LoadBalancerConfigurationOptions {
  const r = parseLoadBalancerConfiguration({ spec });
  if (!r.ok) throw new Error(r.errors.join('; '));
  return r.value;
}

// ---- NLB Gateways: `shop/edge` with TCP, UDP and TLS listeners -------------------

/** A TCPRoute, UDPRoute or TLSRoute rule (hostnames for a TLSRoute). */
export function l4Rule(kind: RouteKind, route: string, backends: WeightedBackend[], opts: { created?: string; ruleIndex?: number; hostnames?: string[] } = {}): L4RouteRule & { hostnames: string[] } {
  return { origin: { kind, namespace: 'shop', name: route, creationTimestamp: opts.created ?? '2026-12-01T00:00:00Z', ruleIndex: opts.ruleIndex ?? 0 }, backends, hostnames: opts.hostnames ?? [] };
}

/** Postgres on 5432 and DNS on 53 (TCP and UDP), as the Gateway builder resolves TCPRoute and UDPRoute backends. */
const L4_SETS: [string, number, 'TCP' | 'UDP'][] = [
  ['shop/db:5432/TCP', 31432, 'TCP'],
  ['shop/db-v2:5432/TCP', 31433, 'TCP'],
  ['shop/dns:53/TCP', 31053, 'TCP'],
  ['shop/dns:53/UDP', 31053, 'UDP'],
  ['shop/tls:8443/TCP', 31443, 'TCP'],
];

export function l4TargetSets(targets: readonly NodeTarget[] = nodes('i-0aaa', 'i-0bbb')): TargetSet[] {
  return L4_SETS.map(([name, nodePort, protocol]) => {
    const [ns, rest = ''] = name.split('/');
    const [service = '', port = '0'] = rest.split(':');
    return {
      name,
      type: 'instance',
      protocol,
      healthCheck: HTTP_HC,
      healthCheckDefaulted: ALL_DEFAULTED,
      backend: { namespace: ns ?? '', service, port: Number(port.split('/')[0]) },
      nodePort,
      targets,
    };
  });
}

export const tlsListener = (name: string, mode: 'Terminate' | 'Passthrough', rules: TlsGatewayListener['rules'], hostname?: string): TlsGatewayListener => ({
  name,
  mode,
  certificates: [],
  rules,
  ...(hostname !== undefined ? { hostname } : {}),
});

/** One TCP listener on 5432 forwarding to db, unless `ports` says otherwise. */
export function nlbGatewaySpec(opts: { ports?: GatewayPort[]; annotations?: Record<string, string>; targets?: readonly NodeTarget[]; clusterName?: string } = {}): GatewaySpec<AwsLbOptions> {
  const ports = opts.ports ?? [{ protocol: 'TCP', port: 5432, listener: 'postgres', rules: [l4Rule('TCPRoute', 'db', [backend('shop/db:5432/TCP')])] }];
  return { ...gatewaySpec({ annotations: opts.annotations ?? {}, ...(opts.clusterName !== undefined ? { clusterName: opts.clusterName } : {}) }), ports, targetSets: l4TargetSets(opts.targets) };
}
