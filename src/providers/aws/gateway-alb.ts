// A Gateway (GatewaySpec) → the desired ALB: one listener per HTTP or HTTPS port with a
// 404 default (as aws-load-balancer-controller v3.5, model_build_listener.go
// buildL7ListenerDefaultActions), the routes' rules (gateway-rules.ts), a target group
// per backend and protocol version, ACM certificates, and the same managed security
// group, subnets and tags as an Ingress's ALB. Pure.
//
// ALB or NLB: aws-load-balancer-controller tells them apart by GatewayClass
// controllerName (gateway.k8s.aws/alb, gateway.k8s.aws/nlb), each a controller of its
// own. A class of lbc's controllerName names a provider (parametersRef lbc.dev/Provider),
// so the load balancer type follows from the Gateway's listeners instead: HTTP and HTTPS
// make an ALB (here), TCP, UDP and TLS an NLB (gateway-nlb.ts, which refuses a Gateway
// mixing both). lbc also serves ALBC's own classes (ALB_GATEWAY_CONTROLLER,
// NLB_GATEWAY_CONTROLLER), each with only its kind's features, so the builder refuses a
// listener of the other kind before this code sees the Gateway.
//
// Certificates: ALB takes ACM certificates only. A LoadBalancerConfiguration's
// listenerConfigurations entry for the port names them (listener-configuration.ts), else the
// Gateway's certificate-arn annotation; otherwise they are discovered in ACM by the HTTPS
// listeners' hostnames (as ALBC buildInferredTLSCertARNs), or, for a listener without one,
// its routes' hostnames. certificateRefs Secrets are not used, as ALBC does not use them
// (docs/guide/gateway/l7gateway.md: "ListenerTLSConfig - CertificateRefs ❌ -- Use LB
// Config"; model_build_listener.go buildCertificates reads only the configuration and
// discovery): a warning names each listener's field and where the certificate comes from.
//
// Configuration: the Gateway's own alb.ingress.kubernetes.io/ load-balancer annotations
// (scheme, subnets, security groups, attributes, tags, certificate-arn, ssl-policy, target
// type, health checks) apply, the Ingress-only ones are refused, and the fields lbc reads of
// a LoadBalancerConfiguration named by spec.infrastructure.parametersRef replace them
// (load-balancer-configuration.ts, through plan.ts optionsOf). A backend Service's
// TargetGroupConfiguration sets its target groups (target-group-configuration.ts); a route
// rule's ListenerRuleConfiguration its ALB rules (gateway-rules.ts). The routes one
// routeConfigurations entry matches get target groups of their own, named and tagged by the
// entry's identifier, so two configurations of one backend never share a group. (ALBC builds
// a group per route and backend whatever the configuration; lbc keeps one per backend where
// nothing differs, so adding a route configuration replaces no other group.)
import type { GatewayFeature } from '../../model/gateway-features.js';
import type { GatewayPort, HttpGatewayListener, RouteOrigin, TlsGatewayListener } from '../../model/gateway.js';
import type { GatewaySpec, LoadBalancerSpec } from '../../model/spec.js';
import { INGRESS_PREFIX, type AwsLbOptions } from './annotations.js';
import { certificatesForHosts, type AcmCertificate } from './certificates.js';
import {
  albState,
  albTargetGroup,
  common,
  type Common,
  type DesiredListener,
  type DesiredState,
  type DesiredTargetGroup,
  type SynthesisInput,
} from './desired.js';
import { gatewayPortRules, NOT_FOUND } from './gateway-rules.js';
import { configuredAttributes, configuredCertificates, listenerConfigurationFor, type ListenerConfiguration } from './listener-configuration.js';
import { desiredMutualAuth } from './mutual-authentication.js';
import { TARGET_GROUP_CONFIGURATION, targetGroupPropsForRoute, withTargetGroupConfiguration, type TargetGroupConfiguration } from './target-group-configuration.js';

/**
 * What an ALB Gateway serves, by the conformance suite's names: the core features, and of
 * the extended ones those ALB rules can express. Left out, so the builder refuses them with
 * the specification's reasons: GatewayStaticAddresses (ALBs have DNS names),
 * HTTPRoutePathRedirect (ALB redirects cannot replace a path prefix), request mirrors,
 * per-rule timeouts and response or per-backend header modification (ALB rules have none).
 * The TLS, TCP and UDP routes an NLB Gateway serves are NLB_GATEWAY_FEATURES (gateway-nlb.ts).
 */
export const ALB_GATEWAY_FEATURES: readonly GatewayFeature[] = [
  'Gateway',
  'HTTPRoute',
  'ReferenceGrant',
  'GatewayPort8080',
  'GatewayHTTPListenerIsolation',
  'HTTPRouteHostRewrite',
  'HTTPRouteMethodMatching',
  'HTTPRouteParentRefPort',
  'HTTPRoutePathRewrite',
  'HTTPRoutePortRedirect',
  'HTTPRouteQueryParamMatching',
  'HTTPRouteSchemeRedirect',
  'GRPCRoute',
];

/** aws-load-balancer-controller's ALB GatewayClass controllerName (pkg/gateway/constants ALBGatewayController). */
export const ALB_GATEWAY_CONTROLLER = 'gateway.k8s.aws/alb';

type HttpPort = Extract<GatewayPort, { protocol: 'HTTP' | 'HTTPS' }>;

const isHttpPort = (p: GatewayPort): p is HttpPort => p.protocol === 'HTTP' || p.protocol === 'HTTPS';

/** The hosts an HTTPS (or TLS) port's certificates are discovered for: each listener's hostname, or its routes' hostnames. */
export function gatewayCertificateHosts(listeners: readonly Pick<HttpGatewayListener | TlsGatewayListener, 'hostname' | 'rules'>[]): string[] {
  const hosts = listeners.flatMap((l) => (l.hostname !== undefined ? [l.hostname] : l.rules.flatMap((r) => r.hostnames)));
  return [...new Set(hosts.map((h) => h.toLowerCase()))].sort();
}

/** Whether the adapter must read ACM for this Gateway: an HTTPS port with no certificate in its listenerConfigurations entry, and no certificate-arn. */
export function needsGatewayCertificateDiscovery(spec: LoadBalancerSpec<AwsLbOptions>, o: AwsLbOptions): boolean {
  return (
    spec.layer === 'Gateway' &&
    o.certificateArns.length === 0 &&
    spec.ports.some((p) => p.protocol === 'HTTPS' && configuredCertificates(listenerConfigurationFor(o.listenerConfigurations, p.port)).length === 0)
  );
}

/** Ingress annotations that mean nothing on a Gateway, or that protect what lbc cannot yet protect there. */
export function refuseIngressOnly(o: AwsLbOptions, c: Common): void {
  const refuse = (annotation: string, why: string): never => {
    throw c.invalid(`${INGRESS_PREFIX}${annotation} does not apply to a Gateway: ${why}`);
  };
  if (o.listenPorts !== undefined) refuse('listen-ports', 'its listeners are spec.listeners');
  if (o.sslRedirect !== undefined) refuse('ssl-redirect', 'write an HTTPRoute with a RequestRedirect filter (scheme https) on the HTTP listener');
  if (Object.keys(o.actions).length > 0) refuse('actions.*', 'route rules and their filters are the actions');
  if (Object.keys(o.conditions).length > 0) refuse('conditions.*', 'route matches are the conditions');
  // Protective: serving the routes without it would expose what the user meant to close.
  if (o.mutualAuthentication !== undefined) refuse('mutual-authentication', 'give mutual TLS in a LoadBalancerConfiguration\'s listenerConfigurations[].mutualAuthentication, as ALBC takes it; lbc will not serve the listeners without it');
  if (o.auth !== undefined) refuse('auth-type', 'a Gateway route authenticates through a ListenerRuleConfiguration (ExtensionRef filter), as ALBC reads it; lbc will not serve the routes unauthenticated');
}

function certificatesFor(port: HttpPort, spec: GatewaySpec<AwsLbOptions>, input: SynthesisInput, c: Common, configured: ListenerConfiguration | undefined): string[] {
  if (port.protocol !== 'HTTPS') return [];
  const o = input.options;
  const explicit = configuredCertificates(configured);
  for (const l of port.listeners.filter((x) => x.certificates.some((y) => y.source === 'secret'))) {
    const from =
      explicit.length > 0
        ? `it takes listenerConfigurations ${configured?.protocolPort ?? ''}'s certificates`
        : `give ACM certificate ARNs in a LoadBalancerConfiguration's listenerConfigurations (protocolPort HTTPS:${port.port}, defaultCertificate and certificates) or ${INGRESS_PREFIX}certificate-arn, or let lbc discover them in ACM by the listener's hostname`;
    c.warnings.push(`listener ${l.name}: tls.certificateRefs are not used: an ALB serves ACM certificates only, and aws-load-balancer-controller ignores certificateRefs too; ${from}`);
  }
  if (explicit.length > 0) return explicit;
  const named = [...new Set([...o.certificateArns, ...port.listeners.flatMap((l) => l.certificates.flatMap((x) => (x.source === 'provider' ? [x.id] : [])))])];
  if (named.length > 0) return named;
  const hosts = gatewayCertificateHosts(port.listeners);
  if (hosts.length === 0) {
    throw c.invalid(
      `HTTPS listener on port ${port.port} needs a certificate: set ${INGRESS_PREFIX}certificate-arn on Gateway ${spec.ref.namespace}/${spec.ref.name}, or give the listener a hostname to discover ACM certificates by`,
    );
  }
  const found = certificatesForHosts(hosts, input.acmCertificates ?? ([] as readonly AcmCertificate[]));
  if (found.missing.length > 0) {
    throw c.invalid(`HTTPS listener on port ${port.port}: no ISSUED ACM certificate covers ${found.missing.join(', ')}; request or import one, or set ${INGRESS_PREFIX}certificate-arn`);
  }
  return found.arns;
}

export function synthesizeGatewayAlb(input: SynthesisInput, spec: GatewaySpec<AwsLbOptions>): DesiredState {
  const c = common(input);
  const o = input.options;
  refuseIngressOnly(o, c);
  const sets = new Map(spec.targetSets.map((t) => [t.name, t]));
  const tgs = new Map<string, DesiredTargetGroup>();
  // Only the target groups some rule forwards to; a GRPCRoute backend gets its own, of protocol
  // version GRPC (one group when the Service's TargetGroupConfiguration already says GRPC), and
  // a route its own where a routeConfigurations entry of the configuration matches it.
  const targetGroup = (set: string, grpc: boolean, route: RouteOrigin): string => {
    const ts = sets.get(set);
    if (!ts) throw c.invalid(`a route rule refers to target set ${set}, which the spec does not have`);
    const parsed = ts.parameters?.kind === TARGET_GROUP_CONFIGURATION.kind ? (ts.parameters.value as TargetGroupConfiguration) : undefined;
    const forRoute = parsed ? targetGroupPropsForRoute(parsed, route) : undefined;
    const tgc = forRoute?.options;
    const configured = withTargetGroupConfiguration((ts.providerOptions as AwsLbOptions | undefined) ?? o, tgc);
    const t: AwsLbOptions = grpc ? { ...configured, protocolVersion: 'GRPC' } : configured;
    const key = `${set}${forRoute?.route !== undefined ? `@${forRoute.route}` : ''}${grpc || tgc?.protocolVersion === 'GRPC' ? '#grpc' : ''}`;
    const have = tgs.get(key);
    if (have) return have.name;
    const tg = albTargetGroup(input, c, ts, t, key, {
      ...(tgc?.tags ? { tags: tgc.tags } : {}),
      ...(tgc?.nodeSelector ? { nodeSelector: tgc.nodeSelector } : {}),
      ...(tgc?.targetGroupName !== undefined ? { name: tgc.targetGroupName } : {}),
      ...(forRoute?.route !== undefined ? { scope: forRoute.route } : {}),
      ...(tgc?.targetControlPort !== undefined ? { targetControlPort: tgc.targetControlPort } : {}),
    });
    // ELBv2 names are unique in the account: one name cannot be two groups.
    const same = [...tgs.values()].find((x) => x.name === tg.name);
    if (same) {
      throw c.invalid(
        `${ts.parameters?.kind ?? ''} ${ts.parameters?.namespace ?? ''}/${ts.parameters?.name ?? ''}: targetGroupName ${tg.name} would name two target groups (${same.key} and ${key}); give each route configuration or protocol version its own name`,
      );
    }
    tgs.set(key, tg);
    return tg.name;
  };
  const listeners: DesiredListener[] = spec.ports.map((port) => {
    if (!isHttpPort(port)) {
      throw c.invalid(`port ${port.port}: a ${port.protocol} listener needs a Network Load Balancer; lbc builds Gateways on AWS as Application Load Balancers (HTTP and HTTPS) only`);
    }
    const https = port.protocol === 'HTTPS';
    const configured = listenerConfigurationFor(o.listenerConfigurations, port.port);
    if (configured?.alpnPolicy !== undefined && configured.alpnPolicy !== 'None') {
      c.warnings.push(`listenerConfigurations ${configured.protocolPort}: alpnPolicy ${configured.alpnPolicy} is ignored: ALPN policies are for the TLS listeners of a Network Load Balancer, not an ALB's (as aws-load-balancer-controller)`);
    }
    if (configured?.targetGroupStickiness === true) {
      c.warnings.push(`listenerConfigurations ${configured.protocolPort}: targetGroupStickiness is ignored: it is for the forward of a Network Load Balancer listener; an ALB Gateway forwards by rules, whose stickiness a ListenerRuleConfiguration sets (as aws-load-balancer-controller)`);
    }
    if (configured?.protocol !== undefined && configured.protocol !== port.protocol) {
      c.warnings.push(`listenerConfigurations ${configured.protocolPort} applies to the ${port.protocol} listener on port ${port.port}: entries are matched by port, as aws-load-balancer-controller matches them`);
    }
    // Protective, so it works or stops the Gateway (ALBC skips it on a plaintext listener).
    if (!https && configured?.mutualAuthentication && configured.mutualAuthentication.mode !== 'off') {
      throw c.invalid(`listenerConfigurations ${configured.protocolPort}: mutualAuthentication mode ${configured.mutualAuthentication.mode} needs an HTTPS listener; port ${port.port} is ${port.protocol}`);
    }
    if (configured && !https) {
      const tls = [configured.defaultCertificate !== undefined || (configured.certificates ?? []).length > 0 ? 'certificates' : '', configured.sslPolicy ? 'sslPolicy' : '', configured.mutualAuthentication ? 'mutualAuthentication' : ''].filter((x) => x !== '');
      if (tls.length > 0) c.warnings.push(`listenerConfigurations ${configured.protocolPort}: ${tls.join(', ')} ignored: port ${port.port} is an HTTP listener, without TLS`);
    }
    // As ALBC buildMutualAuthenticationAttributes: an HTTPS listener without a configuration is set to off, so that removing one turns it off.
    const mtls = configured?.mutualAuthentication ? desiredMutualAuth(configured.mutualAuthentication, input.trustStoreArns ?? new Map<string, string>()) : { mode: 'off' as const };
    return {
      port: port.port,
      protocol: port.protocol,
      certificates: certificatesFor(port, spec, input, c, configured),
      ...(https ? { sslPolicy: configured?.sslPolicy ?? o.sslPolicy, mutualAuthentication: mtls } : {}),
      ...configuredAttributes(configured, port.protocol, c),
      defaultAction: NOT_FOUND,
      rules: gatewayPortRules(port.listeners, { targetGroup, invalid: c.invalid, warnings: c.warnings, https }),
    };
  });
  return albState(input, c, { listeners, targetGroups: [...tgs.values()], sourceRanges: spec.sourceRanges, auths: listeners.flatMap((l) => l.rules.map((r) => r.auth)) });
}
