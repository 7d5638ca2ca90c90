// A Gateway of TCP, UDP and TLS listeners (GatewaySpec) → the desired Network Load
// Balancer, as aws-load-balancer-controller builds the Gateways of its NLB class
// (controllerName gateway.k8s.aws/nlb; pkg/gateway/model/model_build_listener.go
// buildL4ListenerSpec, mapGatewayListenerConfigsByPort, buildL4TargetGroupTuples; target
// groups as model_build_target_group.go inferTargetGroupProtocolFromRoute): one NLB per
// Gateway, one listener per port whose default action forwards to the routes' backends,
// one target group per backend, TCP health checks, and the same managed security group,
// subnets and tags as a Service's NLB. Pure.
//
// - TCP → a TCP listener; UDP → UDP; a TCP and a UDP listener on one port → one TCP_UDP
//   listener and target group (ALBC merges them the same way, mergeProtocols), when both
//   forward to the same backend port.
// - TLS Passthrough → a TCP listener (ALBC: "TLS listener + pass through just means to
//   treat this traffic as tcp"). An NLB does not read SNI, so the route's hostnames do not
//   narrow what reaches the backend: a warning says so.
// - TLS Terminate → a TLS listener with ACM certificates: those of the port's
//   LoadBalancerConfiguration listenerConfigurations entry, else the Gateway's certificate-arn
//   annotation, else discovered by the listeners' (or routes') hostnames, as the ALB path
//   and ALBC's buildCertificates do; the entry's sslPolicy and alpnPolicy too (ALBC
//   buildSSLPolicy, buildListenerALPNPolicy: None where none is given). The target group is TCP: the Gateway API's Terminate
//   hands the backend the decrypted stream (ALBC re-encrypts with a TLS target group).
// - Weighted backendRefs → a weighted forward (NLB weighted target groups, 2025; weights
//   0-999, scaled as the ALB path scales them), as ALBC's buildL4TargetGroupTuples; a port
//   whose backends all fail to resolve or weigh 0 gets no listener, so connections are
//   refused, as the specification asks and ALBC does ("Skipping listener creation").
// - An NLB listener has one default action and no rules: on a TCP or UDP port the oldest
//   route's first rule is served (as the local provider and ALBC's pickOneL4Route) and the
//   others are named in a warning; on a TLS port, where the hostnames tell the routes
//   apart, routes that would need different backends are refused (an NLB cannot choose by SNI).
// - An entry's listenerAttributes go on the listener of its port (TCP takes
//   tcp.idle_timeout.seconds; TLS, UDP and TCP_UDP take none: ELBv2 refuses them, so lbc
//   does first); its targetGroupStickiness enables stickiness on the listener's forward
//   (ALBC buildL4ListenerDefaultActions), without a duration, which only an ALB's has. Its
//   mutualAuthentication is refused unless off: ALBC builds mutual TLS for
//   ALB listeners only (buildL7ListenerSpec) and an NLB has none, and it protects the
//   application, so it is not dropped in silence.
// - A backend Service's TargetGroupConfiguration sets its target groups as on an ALB
//   Gateway (health check, attributes, tags, node selector, name, route configurations);
//   what only an ALB target group has is refused (networkTargetGroupProps).
import type { GatewayFeature } from '../../model/gateway-features.js';
import type { GatewayPort, L4RouteRule, RouteOrigin, TlsGatewayListener, WeightedBackend } from '../../model/gateway.js';
import type { PortStatus } from '../../model/status.js';
import type { GatewaySpec, LoadBalancerSpec, TargetSet } from '../../model/spec.js';
import { INGRESS_PREFIX, type AwsLbOptions } from './annotations.js';
import { certificatesForHosts } from './certificates.js';
import {
  common,
  desiredState,
  frontendSources,
  targetsOf,
  tgPort,
  type Common,
  type DesiredAction,
  type DesiredListener,
  type DesiredState,
  type DesiredTargetGroup,
  type ElbProtocol,
  type SynthesisInput,
} from './desired.js';
import { gatewayCertificateHosts, refuseIngressOnly } from './gateway-alb.js';
import { healthCheckFor } from './health-check.js';
import { configuredAttributes, configuredCertificates, listenerConfigurationFor, type ListenerConfiguration } from './listener-configuration.js';
import { targetGroupName } from './names.js';
import { resourceTags } from './tags.js';
import { TARGET_GROUP_CONFIGURATION, targetGroupPropsForRoute, withTargetGroupConfiguration, type RouteTargetGroupProps, type TargetGroupConfiguration } from './target-group-configuration.js';

/**
 * What an NLB Gateway serves, by the conformance suite's names. Not
 * GatewayHTTPSAndTLSPassthroughSamePort: one NLB listener per port cannot split HTTPS from
 * TLS by SNI.
 */
export const NLB_GATEWAY_FEATURES: readonly GatewayFeature[] = ['TCPRoute', 'UDPRoute', 'TLSRoute', 'TLSRouteModeTerminate'];

/** aws-load-balancer-controller's NLB GatewayClass controllerName (pkg/gateway/constants NLBGatewayController). */
export const NLB_GATEWAY_CONTROLLER = 'gateway.k8s.aws/nlb';

/**
 * What a class of NLB_GATEWAY_CONTROLLER serves: the Gateway and ReferenceGrant core features
 * and NLB_GATEWAY_FEATURES, no HTTPRoute or GRPCRoute (ALBC's NLB controller loads only
 * TCP, UDP and TLS routes, routeutils/loader.go L4RouteFilter).
 */
export const NLB_CLASS_FEATURES: readonly GatewayFeature[] = ['Gateway', 'ReferenceGrant', ...NLB_GATEWAY_FEATURES];

/** ELBv2 forward weights are 0-999 (NLB as ALB); Gateway API weights go to 1,000,000. */
const MAX_WEIGHT = 999;

type L4Port = Extract<GatewayPort, { protocol: 'TCP' | 'UDP' | 'TLS' }>;
const isL4Port = (p: GatewayPort): p is L4Port => p.protocol === 'TCP' || p.protocol === 'UDP' || p.protocol === 'TLS';

/**
 * Which load balancer a Gateway is: HTTP and HTTPS listeners make an ALB, TCP, UDP and TLS
 * an NLB. One Gateway is one load balancer, so a mix is refused, naming the ports.
 */
export function gatewayLoadBalancerType(spec: GatewaySpec, invalid: (message: string) => Error): 'application' | 'network' {
  const l4 = spec.ports.filter(isL4Port);
  if (l4.length === 0) return 'application';
  const l7 = spec.ports.filter((p) => !isL4Port(p));
  if (l7.length > 0) {
    const list = (ps: readonly GatewayPort[]): string => ps.map((p) => `${p.protocol}:${p.port}`).join(', ');
    throw invalid(
      `Gateway ${spec.ref.namespace}/${spec.ref.name} has HTTP/HTTPS listeners (${list(l7)}) and TCP/UDP/TLS listeners (${list(l4)}): on AWS the first are an Application Load Balancer's, the second a Network Load Balancer's, and a Gateway is one load balancer; put them in two Gateways`,
    );
  }
  return 'network';
}

const terminating = (p: L4Port): p is Extract<L4Port, { protocol: 'TLS' }> => p.protocol === 'TLS' && p.listeners.some((l) => l.mode === 'Terminate');

/** Whether the adapter must read ACM for this Gateway: a TLS Terminate port and no certificate named. */
export function needsNlbGatewayCertificateDiscovery(spec: LoadBalancerSpec<AwsLbOptions>, o: AwsLbOptions): boolean {
  if (spec.layer !== 'Gateway' || o.certificateArns.length > 0) return false;
  return spec.ports.some(
    (p) =>
      isL4Port(p) &&
      terminating(p) &&
      configuredCertificates(listenerConfigurationFor(o.listenerConfigurations, p.port)).length === 0 &&
      !p.listeners.some((l) => l.certificates.some((x) => x.source === 'provider')),
  );
}

/** What only an ALB has, or what would protect an NLB Gateway that lbc cannot protect: stopped before anything is built. */
function refuseAlbOnly(o: AwsLbOptions, c: Common): void {
  refuseIngressOnly(o, c);
  const refuse = (annotation: string, why: string): never => {
    throw c.invalid(`${INGRESS_PREFIX}${annotation} does not apply to a Gateway of TCP, UDP or TLS listeners (a Network Load Balancer): ${why}`);
  };
  if (o.wafv2AclArn !== undefined) refuse('wafv2-acl-arn', 'AWS WAF protects Application Load Balancers only, and lbc will not serve the routes unprotected');
  if (o.shieldProtection !== undefined) refuse('shield-advanced-protection', 'Shield Advanced protects a Network Load Balancer through its Elastic IPs, which lbc does not manage for Gateways');
  if (o.backendProtocol !== undefined) refuse('backend-protocol', 'its target groups are TCP or UDP; TLS Terminate hands the backends the decrypted stream, as the Gateway API says');
  if (o.protocolVersion !== undefined) refuse('backend-protocol-version', 'an NLB target group has no HTTP protocol version');
}

const origin = (o: RouteOrigin): string => `${o.kind} ${o.namespace}/${o.name} spec.rules[${o.ruleIndex}]`;

/** Oldest route first, then namespace/name, then rule index: the specification's tie-break. */
function byAge(a: RouteOrigin, b: RouteOrigin): number {
  const t = Date.parse(a.creationTimestamp) - Date.parse(b.creationTimestamp);
  if (t !== 0) return t;
  const an = `${a.namespace}/${a.name}`;
  const bn = `${b.namespace}/${b.name}`;
  return an < bn ? -1 : an > bn ? 1 : a.ruleIndex - b.ruleIndex;
}

/** The backends a port serves: one rule's, as an NLB listener has one default action. */
function servedRule(port: L4Port, c: Common): L4RouteRule | undefined {
  const rules = (port.protocol === 'TLS' ? port.listeners.flatMap((l) => l.rules) : port.rules).filter((r) => r.backends.length > 0);
  const [first, ...rest] = [...rules].sort((a, b) => byAge(a.origin, b.origin));
  if (!first) return undefined;
  const same = (r: L4RouteRule): boolean => JSON.stringify(r.backends) === JSON.stringify(first.backends);
  const others = rest.filter((r) => !same(r));
  if (others.length === 0) return first;
  const names = others.map((r) => origin(r.origin)).join(', ');
  if (port.protocol === 'TLS') {
    throw c.invalid(
      `TLS port ${port.port}: ${origin(first.origin)} and ${names} forward to different backends; a Network Load Balancer listener forwards every connection on its port to one set of target groups and cannot choose by SNI; give each its own port or Gateway`,
    );
  }
  c.warnings.push(`${port.protocol} port ${port.port}: a Network Load Balancer listener forwards to one route's backends; ${origin(first.origin)} is served, ${names} not`);
  return first;
}

/** Weighted target groups from a rule's backends, sticky when the port's configuration asks; undefined when nothing can be forwarded to. */
function forwardOf(port: number, backends: readonly WeightedBackend[], tgOf: (set: string) => string, c: Common, sticky = false): DesiredAction | undefined {
  const weights = new Map<string, number>();
  let unresolved = 0;
  for (const b of backends) {
    if (b.targetSet === undefined) unresolved += b.weight > 0 ? 1 : 0;
    else weights.set(tgOf(b.targetSet), (weights.get(tgOf(b.targetSet)) ?? 0) + b.weight);
  }
  const top = Math.max(0, ...weights.values());
  if (top === 0) {
    c.warnings.push(`port ${port}: no backend to forward to (unresolved, or weight 0), so the Network Load Balancer has no listener there and connections are refused`);
    return undefined;
  }
  if (unresolved > 0) c.warnings.push(`port ${port}: a Network Load Balancer cannot refuse part of a port's connections; the share of its ${unresolved} unresolved backendRef(s) goes to the resolved ones`);
  const groups = [...weights.entries()].map(([targetGroup, w]) => ({ targetGroup, weight: top <= MAX_WEIGHT || w === 0 ? w : Math.max(1, Math.round((w * MAX_WEIGHT) / top)) }));
  const [only] = groups;
  if (sticky) return { type: 'forward-weighted', targetGroups: groups, sticky: true };
  return groups.length === 1 && only ? { type: 'forward', targetGroup: only.targetGroup } : { type: 'forward-weighted', targetGroups: groups };
}

/** A TLS Terminate port's ACM certificates: its listenerConfigurations entry's, else named ones, else discovered by hostname. */
function tlsCertificates(port: Extract<L4Port, { protocol: 'TLS' }>, spec: GatewaySpec<AwsLbOptions>, input: SynthesisInput, c: Common, configured: ListenerConfiguration | undefined): string[] {
  const listeners: readonly TlsGatewayListener[] = port.listeners;
  if (listeners.some((l) => l.certificates.some((x) => x.source === 'secret'))) {
    c.warnings.push(`TLS Secrets in certificateRefs are not used: a Network Load Balancer takes ACM certificates (a LoadBalancerConfiguration's listenerConfigurations, ${INGRESS_PREFIX}certificate-arn on the Gateway, or discovered by listener hostname)`);
  }
  const explicit = configuredCertificates(configured);
  if (explicit.length > 0) return explicit;
  const named = [...new Set([...input.options.certificateArns, ...listeners.flatMap((l) => l.certificates.flatMap((x) => (x.source === 'provider' ? [x.id] : [])))])];
  if (named.length > 0) return named;
  const hosts = gatewayCertificateHosts(listeners);
  if (hosts.length === 0) {
    throw c.invalid(`TLS listener on port ${port.port} needs a certificate: set ${INGRESS_PREFIX}certificate-arn on Gateway ${spec.ref.namespace}/${spec.ref.name}, or give the listener a hostname to discover ACM certificates by`);
  }
  const found = certificatesForHosts(hosts, input.acmCertificates ?? []);
  if (found.missing.length > 0) {
    throw c.invalid(`TLS listener on port ${port.port}: no ISSUED ACM certificate covers ${found.missing.join(', ')}; request or import one, or set ${INGRESS_PREFIX}certificate-arn`);
  }
  return found.arns;
}

export function synthesizeGatewayNlb(input: SynthesisInput, spec: GatewaySpec<AwsLbOptions>): DesiredState {
  const base = common(input);
  const c: Common = { ...base, tagCtx: { ...base.tagCtx, networkGateway: true } };
  const o = input.options;
  refuseAlbOnly(o, c);
  const sets = new Map(spec.targetSets.map((t) => [t.name, t]));
  const tgs = new Map<string, DesiredTargetGroup>();
  // One group per backend, and one more per route a routeConfigurations entry of the
  // backend's TargetGroupConfiguration matches (ALBC: a target group per route and backend).
  const targetGroup = (set: string, protocol: ElbProtocol, route: RouteOrigin, key: string = set): string => {
    const ts = sets.get(set);
    if (!ts) throw c.invalid(`a route refers to target set ${set}, which the spec does not have`);
    const forRoute = networkTargetGroupProps(ts, route, c);
    const tgc = forRoute?.options;
    const scoped = `${key}${forRoute?.route !== undefined ? `@${forRoute.route}` : ''}`;
    const have = tgs.get(scoped);
    if (have) return have.name;
    const t = withTargetGroupConfiguration((ts.providerOptions as AwsLbOptions | undefined) ?? o, tgc);
    const port = tgPort(ts);
    const healthCheck = healthCheckFor(ts, t, { layer: 'L4', gateway: true });
    if (tgc?.healthCheck && healthCheck.protocol === 'TCP') {
      // ELBv2: "Health check matchers (paths) are not supported for TCP health checks".
      const http = [tgc.healthCheck.successCodes !== undefined ? 'matcher' : '', tgc.healthCheck.path !== undefined ? 'healthCheckPath' : ''].filter((f) => f !== '');
      if (http.length > 0) throw c.invalid(`${parametersName(ts)}: healthCheckConfig.${http.join(' and ')} need healthCheckProtocol HTTP or HTTPS: the target group of ${set} is checked over TCP, which has no path or status codes`);
    }
    const tg: DesiredTargetGroup = {
      key: scoped,
      ...(tgc?.targetGroupName !== undefined ? { named: true as const } : {}),
      name: tgc?.targetGroupName ?? targetGroupName(input.clusterName, spec.ref, [scoped, protocol, port, ts.type, input.vpcId]),
      protocol,
      port,
      targetType: ts.type,
      vpcId: input.vpcId,
      healthCheck,
      attributes: { ...t.targetGroupAttributes },
      tags: resourceTags(tgc?.tags ? { ...c.tagCtx, annotationTags: { ...c.tagCtx.annotationTags, ...tgc.tags } } : c.tagCtx, scoped),
      targets: targetsOf(ts, c.warnings, t.targetNodeLabels, tgc?.nodeSelector),
    };
    // ELBv2 names are unique in the account: one name cannot be two groups.
    const same = [...tgs.values()].find((x) => x.name === tg.name);
    if (same) throw c.invalid(`${parametersName(ts)}: targetGroupName ${tg.name} would name two target groups (${same.key} and ${scoped}); give each route configuration its own name`);
    tgs.set(scoped, tg);
    return tg.name;
  };

  const byNumber = new Map<number, L4Port[]>();
  for (const p of spec.ports.filter(isL4Port)) byNumber.set(p.port, [...(byNumber.get(p.port) ?? []), p]);
  const listeners: DesiredListener[] = [];
  const ports: PortStatus[] = [];
  const sgPorts: { port: number; protocols: ('tcp' | 'udp')[] }[] = [];
  for (const [number, group] of [...byNumber.entries()].sort((a, b) => a[0] - b[0])) {
    const tcp = group.find((p) => p.protocol !== 'UDP');
    const udp = group.find((p) => p.protocol === 'UDP');
    const listener = tcp && udp ? tcpUdpListener(number, tcp, udp, sets, targetGroup, o, c) : l4Listener((tcp ?? udp) as L4Port, spec, input, targetGroup, c);
    if (!listener) continue;
    listeners.push(listener);
    const transports: ('tcp' | 'udp')[] = listener.protocol === 'TCP_UDP' ? ['tcp', 'udp'] : listener.protocol === 'UDP' ? ['udp'] : ['tcp'];
    sgPorts.push({ port: number, protocols: transports });
    for (const t of transports) ports.push({ port: number, protocol: t === 'udp' ? 'UDP' : 'TCP' });
  }
  const sources = frontendSources(o.inboundCidrs ?? spec.sourceRanges, o.prefixLists ?? [], o.ipAddressType);
  return desiredState(input, c, 'network', { targetGroups: [...tgs.values()], listeners, sgPorts, sources, ports });
}

type TargetGroupOf = (set: string, protocol: ElbProtocol, route: RouteOrigin, key?: string) => string;

const parametersName = (ts: TargetSet): string => `${ts.parameters?.kind ?? ''} ${ts.parameters?.namespace ?? ''}/${ts.parameters?.name ?? ''}`;

/**
 * What the backend's TargetGroupConfiguration sets for this route's target group, as ALBC's
 * L4 target groups take it (model_build_target_group.go): health check, attributes, tags,
 * node selector, name, route configurations. What an NLB target group cannot have is
 * refused by name rather than dropped: an ALB's HTTP(S) protocol, a protocol version (ALBC's
 * buildTargetGroupProtocolVersion leaves it out for an NLB) and the ALB target optimizer's
 * control port.
 */
function networkTargetGroupProps(ts: TargetSet, route: RouteOrigin, c: Common): RouteTargetGroupProps | undefined {
  if (ts.parameters?.kind !== TARGET_GROUP_CONFIGURATION.kind) return undefined;
  const forRoute = targetGroupPropsForRoute(ts.parameters.value as TargetGroupConfiguration, route);
  const { backendProtocol, protocolVersion, targetControlPort } = forRoute.options;
  const alb = [
    backendProtocol !== undefined ? `protocol ${backendProtocol} (an Application Load Balancer's; lbc infers TCP or UDP from the route)` : '',
    protocolVersion !== undefined ? `protocolVersion ${protocolVersion} (an NLB target group has none)` : '',
    targetControlPort !== undefined ? 'targetControlPort (the ALB target optimizer\'s)' : '',
  ].filter((x) => x !== '');
  if (alb.length > 0) {
    throw c.invalid(`${parametersName(ts)}${forRoute.route !== undefined ? ` (for ${forRoute.route})` : ''}: ${alb.join(', ')} not applicable to the target groups of a Gateway of TCP, UDP or TLS listeners (a Network Load Balancer); lbc will not serve its backend without them`);
  }
  return forRoute;
}

function l4Listener(port: L4Port, spec: GatewaySpec<AwsLbOptions>, input: SynthesisInput, targetGroup: TargetGroupOf, c: Common): DesiredListener | undefined {
  if (port.protocol === 'TLS' && port.listeners.some((l) => l.mode === 'Terminate') && port.listeners.some((l) => l.mode === 'Passthrough')) {
    throw c.invalid(`TLS port ${port.port}: listeners ${port.listeners.map((l) => `${l.name} (${l.mode})`).join(', ')} mix Terminate and Passthrough; a Network Load Balancer listener either terminates TLS or passes it through`);
  }
  const rule = servedRule(port, c);
  if (port.protocol === 'TLS' && port.listeners.some((l) => l.mode === 'Passthrough') && rule && rule.origin.kind === 'TLSRoute') {
    c.warnings.push(`TLS port ${port.port} (Passthrough) is a TCP listener: a Network Load Balancer does not read SNI, so connections for any hostname reach ${origin(rule.origin)}'s backends`);
  }
  const tgProtocol: ElbProtocol = port.protocol === 'UDP' ? 'UDP' : 'TCP';
  const tls = port.protocol === 'TLS' && terminating(port);
  const configured = nlbListenerConfiguration(port.port, port.protocol, tls ? 'TLS' : tgProtocol, input.options, c);
  const action = rule && forwardOf(port.port, rule.backends, (set) => targetGroup(set, tgProtocol, rule.origin), c, configured?.targetGroupStickiness === true);
  if (!action) return undefined;
  if (port.protocol === 'TLS' && tls) {
    return {
      port: port.port,
      protocol: 'TLS',
      certificates: tlsCertificates(port, spec, input, c, configured),
      sslPolicy: configured?.sslPolicy ?? input.options.sslPolicy,
      alpnPolicy: configured?.alpnPolicy ?? 'None',
      ...configuredAttributes(configured, 'TLS', c),
      defaultAction: action,
      rules: [],
    };
  }
  return { port: port.port, protocol: tgProtocol, certificates: [], ...configuredAttributes(configured, tgProtocol, c), defaultAction: action, rules: [] };
}

/**
 * The port's listenerConfigurations entry, with what an NLB listener of this protocol cannot
 * take refused (mutual TLS, which protects) or said to be ignored (TLS settings on a listener
 * without TLS), as the ALB path says it.
 */
function nlbListenerConfiguration(port: number, gatewayProtocol: string, protocol: ElbProtocol, o: AwsLbOptions, c: Common): ListenerConfiguration | undefined {
  const configured = listenerConfigurationFor(o.listenerConfigurations, port);
  if (!configured) return undefined;
  if (configured.mutualAuthentication && configured.mutualAuthentication.mode !== 'off') {
    throw c.invalid(
      `listenerConfigurations ${configured.protocolPort}: mutualAuthentication mode ${configured.mutualAuthentication.mode} is for the HTTPS listeners of an Application Load Balancer; a Network Load Balancer has no mutual TLS (aws-load-balancer-controller builds it for ALB Gateways only), and lbc will not serve port ${port} without it`,
    );
  }
  if (configured.protocol !== undefined && configured.protocol !== gatewayProtocol) {
    c.warnings.push(`listenerConfigurations ${configured.protocolPort} applies to the ${gatewayProtocol} listener on port ${port}: entries are matched by port, as aws-load-balancer-controller matches them`);
  }
  if (protocol !== 'TLS') {
    const tls = [configuredCertificates(configured).length > 0 ? 'certificates' : '', configured.sslPolicy !== undefined ? 'sslPolicy' : '', configured.alpnPolicy !== undefined && configured.alpnPolicy !== 'None' ? 'alpnPolicy' : ''].filter((x) => x !== '');
    if (tls.length > 0) c.warnings.push(`listenerConfigurations ${configured.protocolPort}: ${tls.join(', ')} ignored: port ${port} is a ${protocol} listener, without TLS termination`);
  }
  return configured;
}

/** A TCP and a UDP listener on one port: NLB's TCP_UDP, to one TCP_UDP target group per backend port. */
function tcpUdpListener(number: number, tcp: L4Port, udp: L4Port, sets: ReadonlyMap<string, TargetSet>, targetGroup: TargetGroupOf, o: AwsLbOptions, c: Common): DesiredListener | undefined {
  if (tcp.protocol === 'TLS') throw c.invalid(`port ${number} is TLS and UDP; a Network Load Balancer merges TCP and UDP on one port (TCP_UDP), not TLS and UDP`);
  const t = servedRule(tcp, c);
  const u = servedRule(udp, c);
  const setsOf = (r: L4RouteRule | undefined): string[] => (r?.backends ?? []).filter((b) => b.targetSet !== undefined && b.weight > 0).map((b) => b.targetSet ?? '');
  const [ts, us] = [setsOf(t), setsOf(u)];
  // One TCP_UDP group carries both: the TCP route's and the UDP route's backend must be the same pods on the same port.
  if (ts.length !== 1 || us.length !== 1) {
    throw c.invalid(`port ${number} is TCP and UDP, which a Network Load Balancer serves as one TCP_UDP listener forwarding to one TCP_UDP target group: the TCPRoute and the UDPRoute need one backendRef each`);
  }
  const [tcpSet, udpSet] = [ts[0] ?? '', us[0] ?? ''];
  const [a, b] = [sets.get(tcpSet), sets.get(udpSet)];
  // As the Service path: instance targets are reached on the node port, ip targets on the pod port.
  const samePort = a && b && a.backend.namespace === b.backend.namespace && a.backend.service === b.backend.service && (a.type === 'instance' && b.type === 'instance' ? a.nodePort === b.nodePort : tgPort(a) === tgPort(b));
  if (!samePort) {
    throw c.invalid(
      `port ${number} is TCP and UDP, which needs one TCP_UDP target group, but the TCPRoute forwards to ${tcpSet} and the UDPRoute to ${udpSet}; both need one Service whose TCP and UDP ports reach the same ${a?.type === 'instance' ? 'node port' : 'pod port'}`,
    );
  }
  const configured = nlbListenerConfiguration(number, 'TCP_UDP', 'TCP_UDP', o, c);
  // setsOf found one backend of each, so both rules are there.
  const [tcpRoute, udpRoute] = [(t as L4RouteRule).origin, (u as L4RouteRule).origin];
  // One group for both routes: their TargetGroupConfiguration settings must agree.
  if (JSON.stringify(networkTargetGroupProps(a, tcpRoute, c)?.options) !== JSON.stringify(networkTargetGroupProps(a, udpRoute, c)?.options)) {
    throw c.invalid(`port ${number} is TCP and UDP, served by one TCP_UDP target group, but ${parametersName(a)} configures it differently for ${origin(tcpRoute)} and ${origin(udpRoute)}; give both routes the same routeConfigurations`);
  }
  const name = targetGroup(tcpSet, 'TCP_UDP', tcpRoute, `${tcpSet}+UDP`);
  const defaultAction: DesiredAction = configured?.targetGroupStickiness === true ? { type: 'forward-weighted', targetGroups: [{ targetGroup: name, weight: 1 }], sticky: true } : { type: 'forward', targetGroup: name };
  return { port: number, protocol: 'TCP_UDP', certificates: [], ...configuredAttributes(configured, 'TCP_UDP', c), defaultAction, rules: [] };
}
