// Model → desired AWS resources. Pure: given the spec, the parsed annotations and what
// was looked up (subnets, the VPC, user security groups, ACM certificates), the same
// answer every time.
// Target groups are referred to by name everywhere (names are deterministic), so the
// diff can compare listeners and rules before any new target group has an ARN.
import { actionServiceKey, type ActionRule, type L4Listener, type L4Spec, type L7Spec, type LoadBalancerSpec, type NodeTarget, type Rule, type TargetSet } from '../../model/spec.js';
import type { PortStatus } from '../../model/status.js';
import { selectorMatches, type LabelSelector } from '../../model/label-selector.js';
import { ProviderError } from '../types.js';
import { INGRESS_PREFIX, SERVICE_PREFIX, type AlbAction, type AlbCondition, type AwsLbOptions, type IpAddressType, type ListenPort, type Scheme } from './annotations.js';
import { desiredAuth, oidcClientsDigest, TAG_OIDC_CLIENTS, type AlbAuth, type DesiredAuth } from './authentication.js';
import { certificatesForHosts, type AcmCertificate } from './certificates.js';
import { desiredMutualAuth, type DesiredMutualAuth, type MutualAuthEntry } from './mutual-authentication.js';
import { groupListenPorts, type GroupListenPorts } from './listen-ports.js';
import { healthCheckFor, type DesiredHealthCheck } from './health-check.js';
import type { AwsOptions } from './options.js';
import { loadBalancerName, securityGroupName, targetGroupName } from './names.js';
import type { ResolvedSubnet } from './subnets.js';
import { RESOURCE_BACKEND_RULE, RESOURCE_LB, RESOURCE_SG, resourceTags, type TagContext } from './tags.js';

export type ElbProtocol = 'TCP' | 'UDP' | 'TCP_UDP' | 'TLS' | 'HTTP' | 'HTTPS';

export type { DesiredHealthCheck } from './health-check.js';

export interface DesiredTarget {
  readonly id: string;
  readonly port: number;
}

export interface DesiredTargetGroup {
  /** The target set name (or two joined, for a TCP_UDP pair): the `lbc.dev/resource` tag. */
  readonly key: string;
  readonly name: string;
  /** The user gave the name (TargetGroupConfiguration targetGroupName): it hashes nothing, and may be another's group. */
  readonly named?: true;
  readonly protocol: ElbProtocol;
  readonly port: number;
  readonly targetType: 'instance' | 'ip';
  readonly vpcId: string;
  readonly healthCheck: DesiredHealthCheck;
  /** ALB only, when asked for; it cannot change in place, so it is part of the name. */
  readonly protocolVersion?: 'HTTP1' | 'HTTP2' | 'GRPC';
  /** ALB ip targets only, when asked for (target optimizer); fixed at creation, so part of the name. */
  readonly targetControlPort?: number;
  /** Only these keys are managed; others keep whatever AWS (or the user) set. */
  readonly attributes: Readonly<Record<string, string>>;
  readonly tags: Readonly<Record<string, string>>;
  readonly targets: readonly DesiredTarget[];
}

/** A target group by lbc's deterministic name, or by ARN (a group the user gave in an action: referenced, never changed). */
export type TargetGroupRef = string;

export interface WeightedTargetGroup {
  readonly targetGroup: TargetGroupRef;
  readonly weight: number;
}

export type DesiredAction =
  | { readonly type: 'forward'; readonly targetGroup: TargetGroupRef }
  | {
      /** Several groups with weights (an `actions.<name>` forwardConfig); one group is a plain forward. */
      readonly type: 'forward-weighted';
      readonly targetGroups: readonly WeightedTargetGroup[];
      /** Target group stickiness across the groups, when enabled. */
      readonly stickinessSeconds?: number;
      /** NLB: target group stickiness enabled, which an NLB takes without a duration (ELBv2: DurationSeconds is an ALB's). */
      readonly sticky?: true;
    }
  | { readonly type: 'fixed-response'; readonly statusCode: string; readonly contentType?: string; readonly messageBody?: string }
  | {
      readonly type: 'redirect';
      readonly statusCode: 'HTTP_301' | 'HTTP_302';
      readonly protocol?: string;
      readonly port?: string;
      readonly host?: string;
      readonly path?: string;
      readonly query?: string;
    };

/** Rule conditions besides host and path (`conditions.<name>`), in a canonical form that compares by value. */
export type DesiredCondition =
  | { readonly field: 'http-request-method' | 'source-ip'; readonly values: readonly string[] }
  | { readonly field: 'http-header'; readonly name: string; readonly values: readonly string[] }
  | { readonly field: 'query-string'; readonly values: readonly { readonly key?: string; readonly value: string }[] }
  // ELBv2's RegexValues (2025): a Gateway route's RegularExpression path and header matches.
  | { readonly field: 'path-pattern-regex'; readonly values: readonly string[] }
  | { readonly field: 'http-header-regex'; readonly name: string; readonly values: readonly string[] };

/** ELBv2 rule transforms (2025): what a Gateway route's URLRewrite filter becomes. */
export interface DesiredTransform {
  readonly type: 'host-header-rewrite' | 'url-rewrite';
  readonly regex: string;
  readonly replace: string;
}

export interface DesiredRule {
  readonly priority: number;
  readonly hosts: readonly string[];
  readonly paths: readonly string[];
  readonly conditions: readonly DesiredCondition[];
  /** Authentication before the action (HTTPS listeners only). */
  readonly auth?: DesiredAuth;
  readonly action: DesiredAction;
  /** Applied to the request before it is forwarded; absent or empty: none. */
  readonly transforms?: readonly DesiredTransform[];
}

export interface DesiredListener {
  readonly port: number;
  readonly protocol: ElbProtocol;
  /** The first is the default certificate. */
  readonly certificates: readonly string[];
  readonly sslPolicy?: string;
  /** ALB HTTPS listeners: their mutual TLS; absent, the listener's is left as it is. */
  readonly mutualAuthentication?: DesiredMutualAuth;
  /** NLB TLS listeners: their ALPN policy ('None' is ELBv2's default); absent, the listener's is left as it is. */
  readonly alpnPolicy?: string;
  /** Listener attributes by key (listener-attributes.ts); only these keys are compared and written. */
  readonly attributes?: Readonly<Record<string, string>>;
  readonly defaultAuth?: DesiredAuth;
  readonly defaultAction: DesiredAction;
  readonly rules: readonly DesiredRule[];
}

export interface Permission {
  readonly protocol: 'tcp' | 'udp';
  readonly fromPort: number;
  readonly toPort: number;
  /** A CIDR, or a managed prefix list ID (`pl-…`) from security-group-prefix-lists. */
  readonly source: string;
}

export interface DesiredSecurityGroup {
  readonly name: string;
  readonly description: string;
  readonly vpcId: string;
  readonly ingress: readonly Permission[];
  readonly tags: Readonly<Record<string, string>>;
}

/** A port the load balancer must reach on the targets (node port, pod port or health check port). */
export interface BackendPort {
  readonly protocol: 'tcp' | 'udp';
  readonly port: number;
}

/** What manage-backend-security-group-rules asks for: these ports, from the load balancer's groups. */
export interface DesiredBackendAccess {
  readonly ports: readonly BackendPort[];
  /** Put on every rule lbc adds, so that it only ever revokes its own. */
  readonly tags: Readonly<Record<string, string>>;
}

export interface SubnetMapping {
  readonly subnetId: string;
  readonly az: string;
  readonly allocationId?: string;
  readonly privateIpv4Address?: string;
}

export interface DesiredLoadBalancer {
  readonly name: string;
  readonly type: 'network' | 'application';
  readonly scheme: Scheme;
  readonly ipAddressType: IpAddressType;
  readonly subnets: readonly SubnetMapping[];
  /** User-given groups, resolved to IDs; when empty the managed group is used. */
  readonly userSecurityGroups: readonly string[];
  /** The shared backend security group is attached too (decided by the plan, which knows the node groups). */
  readonly backendSecurityGroup?: boolean;
  readonly attributes: Readonly<Record<string, string>>;
  readonly tags: Readonly<Record<string, string>>;
}

export interface DesiredState {
  readonly lb: DesiredLoadBalancer;
  readonly targetGroups: readonly DesiredTargetGroup[];
  readonly listeners: readonly DesiredListener[];
  /** Absent when the user gave security groups. */
  readonly securityGroup?: DesiredSecurityGroup;
  /** Absent unless lbc manages the rules on the nodes' security group. */
  readonly backendAccess?: DesiredBackendAccess;
  readonly ports: readonly PortStatus[];
  /** Things the user should hear about that do not stop the load balancer (nodes skipped, ...). */
  readonly warnings: readonly string[];
}

export interface SynthesisInput {
  readonly spec: LoadBalancerSpec<AwsLbOptions>;
  readonly options: AwsLbOptions;
  readonly clusterName: string;
  readonly defaultTags: Readonly<Record<string, string>>;
  /** The provider config's ALBC feature gates; absent: ALBC's defaults (all off). */
  readonly featureGates?: AwsOptions['featureGates'];
  readonly vpcId: string;
  readonly subnets: readonly ResolvedSubnet[];
  readonly userSecurityGroups: readonly string[];
  readonly provider: string;
  /**
   * The ISSUED ACM certificates, read by the adapter when needsCertificateDiscovery says
   * so; certificates for HTTPS listeners are chosen from them by host.
   */
  readonly acmCertificates?: readonly AcmCertificate[];
  /** The mutual-authentication trust stores (names and ARNs) as ARNs, resolved by the adapter. */
  readonly trustStoreArns?: ReadonlyMap<string, string>;
}

const PROVIDER_ID = /^aws:\/\/\/?[^/]*\/(i-[0-9a-zA-Z]+)$/;

/** The EC2 instance ID in a Node's providerID (`aws:///us-east-1a/i-0abc`), if it has one. */
export function instanceIdOf(providerID: string | undefined): string | undefined {
  return providerID === undefined ? undefined : PROVIDER_ID.exec(providerID)?.[1];
}

/** aws-load-balancer-controller's target-node-labels: a node qualifies when it carries every pair. */
function hasLabels(n: NodeTarget, want: Readonly<Record<string, string>> | undefined): boolean {
  return want === undefined || Object.entries(want).every(([k, v]) => n.labels?.[k] === v);
}

/** `nodeSelector`: a Gateway backend's TargetGroupConfiguration nodeSelector, with `nodeLabels` (ALBC's TargetGroupBinding nodeSelector). */
export function targetsOf(ts: TargetSet, warnings: string[], nodeLabels?: Readonly<Record<string, string>>, nodeSelector?: LabelSelector): DesiredTarget[] {
  const out = new Map<string, DesiredTarget>();
  if (ts.type === 'instance') {
    for (const n of ts.targets) {
      if (!hasLabels(n, nodeLabels) || (nodeSelector !== undefined && !selectorMatches(nodeSelector, n.labels))) continue;
      const id = instanceIdOf(n.providerID);
      if (id === undefined) {
        warnings.push(
          n.providerID === undefined
            ? `node ${n.name} skipped: it has no spec.providerID (expected aws:///<zone>/i-...)`
            : `node ${n.name} skipped: providerID ${n.providerID} is not an EC2 instance (aws:///<zone>/i-...)`,
        );
        continue;
      }
      out.set(`${id}:${ts.nodePort}`, { id, port: ts.nodePort });
    }
  } else {
    for (const p of ts.targets) out.set(`${p.ip}:${p.port}`, { id: p.ip, port: p.port });
  }
  return [...out.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : a.port - b.port));
}

export function tgPort(ts: TargetSet): number {
  if (ts.type === 'instance') return ts.nodePort;
  // A named targetPort may resolve differently per pod; targets carry their own port anyway.
  return typeof ts.port === 'number' ? ts.port : 1;
}

function defaultCidrs(ipAddressType: IpAddressType): string[] {
  return ipAddressType === 'dualstack' ? ['0.0.0.0/0', '::/0'] : ['0.0.0.0/0'];
}

export function permissions(ports: readonly { port: number; protocols: readonly ('tcp' | 'udp')[] }[], sources: readonly string[]): Permission[] {
  const out: Permission[] = [];
  for (const p of ports) for (const protocol of p.protocols) for (const source of sources) out.push({ protocol, fromPort: p.port, toPort: p.port, source });
  return out;
}

/**
 * Who may reach the listeners: the explicit CIDRs and the managed prefix lists, both when
 * both are given; everyone only when neither is. As aws-load-balancer-controller:
 * pkg/service/model_build_managed_sg.go buildCIDRsFromSourceRanges and
 * pkg/ingress/model_build_load_balancer.go mergeListenPortConfigs leave out 0.0.0.0/0
 * once security-group-prefix-lists is set.
 */
export function frontendSources(explicitCidrs: readonly string[], prefixLists: readonly string[], ipAddressType: IpAddressType): string[] {
  if (explicitCidrs.length === 0 && prefixLists.length === 0) return defaultCidrs(ipAddressType);
  return [...explicitCidrs, ...prefixLists];
}

export interface Common {
  readonly tagCtx: TagContext;
  readonly warnings: string[];
  readonly invalid: (msg: string) => ProviderError;
}

function subnetMappings(input: SynthesisInput, c: Common): SubnetMapping[] {
  const { options: o, subnets } = input;
  const pair = (list: readonly string[] | undefined, annotation: string): readonly string[] | undefined => {
    if (list === undefined) return undefined;
    if (list.length !== subnets.length) throw c.invalid(`${annotation} lists ${list.length} addresses for ${subnets.length} subnets (${subnets.map((s) => s.id).join(', ')}); give one per subnet`);
    return list;
  };
  const eips = pair(o.eipAllocations, `${SERVICE_PREFIX}eip-allocations`);
  const ips = pair(o.privateIpv4Addresses, `${SERVICE_PREFIX}private-ipv4-addresses`);
  return subnets.map((s, i) => ({
    subnetId: s.id,
    az: s.az,
    ...(eips?.[i] !== undefined ? { allocationId: eips[i] } : {}),
    ...(ips?.[i] !== undefined ? { privateIpv4Address: ips[i] } : {}),
  }));
}

export function loadBalancer(input: SynthesisInput, c: Common, type: 'network' | 'application'): DesiredLoadBalancer {
  const { spec, options: o } = input;
  return {
    name: o.name ?? loadBalancerName(input.clusterName, spec.ref, o.scheme),
    type,
    scheme: o.scheme,
    ipAddressType: o.ipAddressType,
    subnets: subnetMappings(input, c),
    userSecurityGroups: input.userSecurityGroups,
    attributes: o.loadBalancerAttributes,
    tags: resourceTags(c.tagCtx, RESOURCE_LB),
  };
}

export function managedSecurityGroup(input: SynthesisInput, c: Common, ingress: Permission[]): DesiredSecurityGroup | undefined {
  if (input.userSecurityGroups.length > 0) {
    // ALBC ignores the prefix lists then; saying so keeps the user from believing them applied.
    if ((input.options.prefixLists ?? []).length > 0) {
      c.warnings.push('security-group-prefix-lists is not applied: the load balancer uses the security groups given in security-groups, whose own rules decide who reaches it');
    }
    return undefined;
  }
  const { spec } = input;
  const what = spec.ref.namespace === '' ? `Ingress group ${spec.ref.name}` : `${spec.ref.kind} ${spec.ref.namespace}/${spec.ref.name}`;
  return {
    name: securityGroupName(input.clusterName, spec.ref),
    description: `[lbc] frontend of the load balancer for ${what}`.slice(0, 255),
    vpcId: input.vpcId,
    ingress,
    tags: resourceTags(c.tagCtx, RESOURCE_SG),
  };
}

/**
 * The ports the load balancer reaches the targets on, as aws-load-balancer-controller
 * computes them for its backend rules: each target group's traffic port (the node port,
 * or every pod port for ip targets) in the group's protocol, plus a health check port
 * that is not the traffic port (always TCP: ELBv2 checks over TCP or HTTP(S)).
 */
export function backendAccess(input: SynthesisInput, c: Common, tgs: readonly DesiredTargetGroup[]): DesiredBackendAccess | undefined {
  if (!input.options.manageBackendSecurityGroupRules) return undefined;
  return { ports: sortedPorts(tgs.flatMap(targetGroupBackendPorts)), tags: resourceTags(c.tagCtx, RESOURCE_BACKEND_RULE) };
}

/** One target group's share of backendAccess: its traffic ports in its protocols, and a health check port that is not the traffic port. */
export function targetGroupBackendPorts(tg: DesiredTargetGroup): BackendPort[] {
  const ports: BackendPort[] = [];
  const add = (protocol: 'tcp' | 'udp', port: number): void => {
    if (port >= 1 && port <= 65535) ports.push({ protocol, port });
  };
  const protocols: ('tcp' | 'udp')[] = tg.protocol === 'UDP' ? ['udp'] : tg.protocol === 'TCP_UDP' ? ['tcp', 'udp'] : ['tcp'];
  const trafficPorts = tg.targetType === 'instance' ? [tg.port] : [...new Set(tg.targets.map((t) => t.port))];
  for (const p of trafficPorts) for (const protocol of protocols) add(protocol, p);
  // A UDP group is health checked over TCP, on the traffic port unless told otherwise.
  const hcPorts = tg.healthCheck.port === 'traffic-port' ? (tg.protocol === 'UDP' ? trafficPorts : []) : [Number(tg.healthCheck.port)];
  for (const p of hcPorts) add('tcp', p);
  return sortedPorts(ports);
}

/** Without duplicates, by port then protocol. */
export function sortedPorts(ports: readonly BackendPort[]): BackendPort[] {
  const unique = new Map(ports.map((p) => [`${p.protocol}/${p.port}`, p]));
  return [...unique.values()].sort((a, b) => a.port - b.port || (a.protocol < b.protocol ? -1 : 1));
}

/** The load balancer, its managed security group and backend access around what a synthesizer built: the state it returns. */
export function desiredState(
  input: SynthesisInput,
  c: Common,
  type: DesiredLoadBalancer['type'],
  built: { readonly targetGroups: readonly DesiredTargetGroup[]; readonly listeners: readonly DesiredListener[]; readonly sgPorts: Parameters<typeof permissions>[0]; readonly sources: readonly string[]; readonly ports: readonly PortStatus[] },
): DesiredState {
  const sg = managedSecurityGroup(input, c, permissions(built.sgPorts, built.sources));
  const access = backendAccess(input, c, built.targetGroups);
  return {
    lb: loadBalancer(input, c, type),
    targetGroups: built.targetGroups,
    listeners: built.listeners,
    ...(sg ? { securityGroup: sg } : {}),
    ...(access ? { backendAccess: access } : {}),
    ports: built.ports,
    warnings: [...new Set(c.warnings)],
  };
}

export function common(input: SynthesisInput): Common {
  const warnings: string[] = [];
  return {
    warnings,
    invalid: (msg) => new ProviderError('invalid', msg, { provider: input.provider }),
    tagCtx: {
      clusterName: input.clusterName,
      ref: input.spec.ref,
      specTags: input.spec.tags,
      annotationTags: input.options.tags,
      defaultTags: input.defaultTags,
    },
  };
}

// ---- NLB -----------------------------------------------------------------------

function synthesizeNlb(input: SynthesisInput, spec: L4Spec<AwsLbOptions>): DesiredState {
  const c = common(input);
  const o = input.options;
  const sets = new Map(spec.targetSets.map((t) => [t.name, t]));
  const byPort = new Map<number, L4Listener[]>();
  for (const l of spec.listeners) byPort.set(l.port, [...(byPort.get(l.port) ?? []), l]);

  const tgs = new Map<string, DesiredTargetGroup>();
  const listeners: DesiredListener[] = [];
  const sgPorts: { port: number; protocols: ('tcp' | 'udp')[] }[] = [];
  for (const [port, ls] of [...byPort.entries()].sort((a, b) => a[0] - b[0])) {
    const tcp = ls.find((l) => l.protocol === 'TCP');
    const udp = ls.find((l) => l.protocol === 'UDP');
    const main = tcp ?? udp;
    if (!main) continue;
    const ts = sets.get(main.targetSet);
    if (!ts) throw c.invalid(`listener ${main.protocol}:${port} refers to target set ${main.targetSet}, which the spec does not have`);
    let key = ts.name;
    let protocol: ElbProtocol = main.protocol;
    if (tcp && udp) {
      // One port, both protocols: NLB's TCP_UDP, only when asked, as aws-load-balancer-controller
      // v3.5 pkg/service/model_build_listener.go (buildListenersWithTCPUDPSupport): by the
      // Service's annotation, else by the EnableTCPUDPListener feature gate (shouldUseTCPUDP).
      // Without it ALBC builds its listeners port by port under one resource id per port
      // number, so one of the two is dropped unsaid; an NLB takes one listener per port
      // (DuplicateListener), so lbc refuses instead of exposing one protocol only.
      if (!(o.tcpUdpListener ?? input.featureGates?.EnableTCPUDPListener ?? false)) {
        throw c.invalid(
          `port ${port} is both TCP and UDP; an NLB has one listener per port, so they need one TCP_UDP listener: set ${SERVICE_PREFIX}enable-tcp-udp-listener: "true"` +
            (o.tcpUdpListener === false ? ' (it is "false")' : ' (or the provider option featureGates.EnableTCPUDPListener: true)'),
        );
      }
      const other = sets.get(udp.targetSet);
      const samePort = other && (other.type === 'instance' && ts.type === 'instance' ? other.nodePort === ts.nodePort : tgPort(other) === tgPort(ts));
      if (!other || !samePort) throw c.invalid(`port ${port} is TCP and UDP, which needs one TCP_UDP target group, but the two backends use different ports`);
      key = `${ts.name}+${other.name}`;
      protocol = 'TCP_UDP';
    }
    // ssl-ports names Service ports by number or by name, as aws-load-balancer-controller reads it.
    const named = (tcp ?? main).name;
    const tls = protocol === 'TCP' && o.certificateArns.length > 0 && (o.sslPorts === undefined || o.sslPorts.includes(port) || (named !== undefined && o.sslPorts.includes(named)));
    const tgProtocol: ElbProtocol = tls && o.backendProtocol === 'TLS' ? 'TLS' : protocol;
    const targetType = ts.type;
    const portNum = tgPort(ts);
    const attributes: Record<string, string> = { ...o.targetGroupAttributes };
    // Sticky sessions are not offered on TLS target groups.
    if (tgProtocol !== 'TLS' && attributes['stickiness.enabled'] === undefined) {
      if (spec.sessionAffinity.type === 'ClientIP') {
        attributes['stickiness.enabled'] = 'true';
        attributes['stickiness.type'] = 'source_ip';
      } else attributes['stickiness.enabled'] = 'false';
    }
    if (o.proxyProtocol) attributes['proxy_protocol_v2.enabled'] = 'true';
    const tg: DesiredTargetGroup = {
      key,
      name: targetGroupName(input.clusterName, spec.ref, [targetType === 'instance' ? '' : key, tgProtocol, portNum, targetType, input.vpcId]),
      protocol: tgProtocol,
      port: portNum,
      targetType,
      vpcId: input.vpcId,
      healthCheck: healthCheckFor(ts, o, { layer: 'L4' }),
      attributes,
      tags: resourceTags(c.tagCtx, key),
      targets: targetsOf(ts, c.warnings, o.targetNodeLabels),
    };
    tgs.set(key, tg);
    listeners.push({
      port,
      protocol: tls ? 'TLS' : protocol,
      certificates: tls ? o.certificateArns : [],
      ...(tls ? { sslPolicy: o.sslPolicy } : {}),
      defaultAction: { type: 'forward', targetGroup: tg.name },
      rules: [],
    });
    sgPorts.push({ port, protocols: protocol === 'TCP_UDP' ? ['tcp', 'udp'] : protocol === 'UDP' ? ['udp'] : ['tcp'] });
  }
  return desiredState(input, c, 'network', {
    targetGroups: [...tgs.values()],
    listeners,
    sgPorts,
    sources: frontendSources(spec.sourceRanges, o.prefixLists ?? [], o.ipAddressType),
    ports: spec.listeners.map((l) => ({ port: l.port, protocol: l.protocol })),
  });
}

// ---- ALB -----------------------------------------------------------------------

/** Ingress paths as ALB path patterns: Prefix `/p` matches `/p` and `/p/*`, Exact only `/p`. */
export function pathPatterns(path: string, pathType: 'Exact' | 'Prefix' | 'ImplementationSpecific'): string[] {
  if (pathType === 'Exact' || pathType === 'ImplementationSpecific') return [path];
  const p = path.replace(/\/+$/, '');
  return p === '' ? ['/*'] : [p, `${p}/*`];
}

const ACTIONS = `${INGRESS_PREFIX}actions.`;
const CONDITIONS = `${INGRESS_PREFIX}conditions.`;

/** An `actions.<name>` annotation as an ALB action; the Services it forwards to are target sets the builder resolved (spec.actionTargetSets). */
function albAction(name: string, a: AlbAction, spec: L7Spec<AwsLbOptions>, tgName: (set: string) => string, c: Common): DesiredAction {
  const where = `${ACTIONS}${name}`;
  if (a.type === 'fixed-response') {
    const f = a.fixedResponseConfig;
    return {
      type: 'fixed-response',
      statusCode: f.statusCode,
      ...(f.contentType !== undefined ? { contentType: f.contentType } : {}),
      ...(f.messageBody !== undefined ? { messageBody: f.messageBody } : {}),
    };
  }
  if (a.type === 'redirect') {
    const r = a.redirectConfig;
    return {
      type: 'redirect',
      statusCode: r.statusCode,
      ...(r.protocol !== undefined ? { protocol: r.protocol } : {}),
      ...(r.port !== undefined ? { port: r.port } : {}),
      ...(r.host !== undefined ? { host: r.host } : {}),
      ...(r.path !== undefined ? { path: r.path } : {}),
      ...(r.query !== undefined ? { query: r.query } : {}),
    };
  }
  const entries = a.forwardConfig?.targetGroups ?? (a.targetGroupARN !== undefined ? [{ targetGroupARN: a.targetGroupARN }] : []);
  if (entries.length === 0) throw c.invalid(`${where}: a forward action needs forwardConfig.targetGroups or targetGroupARN`);
  const groups: WeightedTargetGroup[] = entries.map((t) => {
    const weight = 'weight' in t && t.weight !== undefined ? t.weight : 1;
    if (t.targetGroupARN !== undefined) return { targetGroup: t.targetGroupARN, weight };
    if ('serviceName' in t && t.serviceName !== undefined) {
      // The Ingress builder resolved each Service (and a port given by name) into a target set.
      const set = spec.actionTargetSets?.[name]?.[actionServiceKey(t.serviceName, t.servicePort)];
      if (set === undefined) throw c.invalid(`${where}: forwards to Service ${t.serviceName} port ${String(t.servicePort ?? '?')}, which the Ingress model did not resolve`);
      return { targetGroup: tgName(set), weight };
    }
    throw c.invalid(`${where}: each target group needs targetGroupARN or serviceName (targetGroupName is not supported: give the ARN)`);
  });
  const sticky = a.forwardConfig?.targetGroupStickinessConfig;
  const stickinessSeconds = sticky?.enabled === true ? (sticky.durationSeconds ?? 3600) : undefined;
  const first = groups[0];
  if (groups.length === 1 && first && stickinessSeconds === undefined) return { type: 'forward', targetGroup: first.targetGroup };
  return { type: 'forward-weighted', targetGroups: groups, ...(stickinessSeconds !== undefined ? { stickinessSeconds } : {}) };
}

/** A rule's host and paths with its `conditions.<name>`; host-header and path-pattern join the Ingress's own. */
function withConditions(name: string, hosts: string[], paths: string[], list: readonly AlbCondition[], c: Common): { hosts: string[]; paths: string[]; conditions: DesiredCondition[] } {
  const where = `${CONDITIONS}${name}`;
  const conditions: DesiredCondition[] = [];
  let h = hosts;
  let p = paths;
  for (const cond of list) {
    const missing = (): ProviderError => c.invalid(`${where}: field ${cond.field} needs its ${cond.field.replace(/-(\w)/g, (_m, x: string) => x.toUpperCase())}Config`);
    switch (cond.field) {
      case 'host-header': {
        const v = cond.hostHeaderConfig?.values;
        if (!v) throw missing();
        // ALB takes one host-header condition per rule: the Ingress rule's host and this one cannot both apply.
        if (h.length > 0) throw c.invalid(`${where}: host-header on a rule whose Ingress host is already ${h.join(', ')}; ALB takes one host-header condition per rule`);
        h = [...v];
        break;
      }
      case 'path-pattern': {
        const v = cond.pathPatternConfig?.values;
        if (!v) throw missing();
        if (!(p.length === 1 && p[0] === '/*')) throw c.invalid(`${where}: path-pattern on a rule whose Ingress path is already ${p.join(', ')}; give the Ingress path / (Prefix) to use the annotation's`);
        p = [...v];
        break;
      }
      case 'http-header': {
        const cfg = cond.httpHeaderConfig;
        if (!cfg) throw missing();
        conditions.push({ field: 'http-header', name: cfg.httpHeaderName, values: [...cfg.values].sort() });
        break;
      }
      case 'http-request-method': {
        const v = cond.httpRequestMethodConfig?.values;
        if (!v) throw missing();
        conditions.push({ field: 'http-request-method', values: [...v].sort() });
        break;
      }
      case 'source-ip': {
        const v = cond.sourceIpConfig?.values;
        if (!v) throw missing();
        conditions.push({ field: 'source-ip', values: [...v].sort() });
        break;
      }
      case 'query-string': {
        const v = cond.queryStringConfig?.values;
        if (!v) throw missing();
        conditions.push({ field: 'query-string', values: v.map((kv) => ({ ...(kv.key !== undefined ? { key: kv.key } : {}), value: kv.value })) });
        break;
      }
    }
  }
  return { hosts: h, paths: p, conditions };
}

/** Target-set rules and action rules in one priority order (an action rule sits before rules[before]). */
function orderedRules(spec: L7Spec<AwsLbOptions>): (Rule | ActionRule)[] {
  const actions = spec.actionRules ?? [];
  const out: (Rule | ActionRule)[] = [];
  for (let i = 0; i <= spec.rules.length; i++) {
    out.push(...actions.filter((a) => a.before === i || (i === spec.rules.length && a.before > i)));
    const r = spec.rules[i];
    if (r) out.push(r);
  }
  return out;
}

/** Provider certificates in the spec (not the certificate-arn annotation's). */
function specCertificates(spec: L7Spec<AwsLbOptions>): string[] {
  return spec.listeners.flatMap((l) => (l.protocol === 'HTTPS' ? l.certificates : [])).flatMap((x) => (x.source === 'provider' ? [x.id] : []));
}

/** Certificates the user named: the certificate-arn annotation, then provider certificates in the spec. */
function explicitCertificates(spec: L7Spec<AwsLbOptions>, o: AwsLbOptions): string[] {
  return [...new Set([...o.certificateArns, ...specCertificates(spec)])];
}

function listenPorts(spec: L7Spec<AwsLbOptions>, o: AwsLbOptions, certs: readonly string[], c?: Common): GroupListenPorts {
  const ports = groupListenPorts(spec, o, certs, specCertificates(spec));
  if (typeof ports !== 'string') return ports;
  throw c ? c.invalid(ports) : new ProviderError('invalid', ports, { provider: spec.provider });
}

/**
 * The hosts ACM certificates are discovered for, as aws-load-balancer-controller takes
 * them: spec.tls[].hosts of the group's Ingresses, or, when they name none, the rules' hosts.
 */
export function certificateHosts(spec: L7Spec): string[] {
  const tls = spec.tlsHosts ?? [];
  const hosts = tls.length > 0 ? tls : [...spec.rules, ...(spec.actionRules ?? [])].flatMap((r) => (r.host !== undefined ? [r.host] : []));
  return [...new Set(hosts.map((h) => h.toLowerCase()))].sort();
}

/** Whether the ALB for this spec has an HTTPS listener, no certificate given and hosts to look for: the adapter then reads ACM. */
export function needsCertificateDiscovery(spec: LoadBalancerSpec<AwsLbOptions>, o: AwsLbOptions): boolean {
  if (spec.layer !== 'L7') return false;
  const certs = explicitCertificates(spec, o);
  return certs.length === 0 && listenPorts(spec, o, certs).ports.some((p) => p.protocol === 'HTTPS') && certificateHosts(spec).length > 0;
}

function discoveredCertificates(spec: L7Spec<AwsLbOptions>, acm: readonly AcmCertificate[], ports: readonly ListenPort[], c: Common): string[] {
  const port = ports.find((p) => p.protocol === 'HTTPS')?.port ?? 443;
  const hosts = certificateHosts(spec);
  if (hosts.length === 0) {
    throw c.invalid(`HTTPS listener on port ${port} needs a certificate: set ${INGRESS_PREFIX}certificate-arn, or give the Ingress hosts (spec.tls[].hosts or spec.rules[].host) to discover ACM certificates by`);
  }
  const found = certificatesForHosts(hosts, acm);
  if (found.missing.length > 0) {
    throw c.invalid(
      `HTTPS listener on port ${port}: no ISSUED ACM certificate covers ${found.missing.length === 1 ? 'host' : 'hosts'} ${found.missing.join(', ')}; request or import one, or set ${INGRESS_PREFIX}certificate-arn`,
    );
  }
  return found.arns;
}

/** What a Gateway backend's TargetGroupConfiguration gives one target group alone (target-group-configuration.ts). */
export interface OwnTargetGroupSettings {
  /** Over the load balancer's tags. */
  readonly tags?: Readonly<Record<string, string>>;
  readonly nodeSelector?: LabelSelector;
  /** The user's name for the group, in place of the hashed one. */
  readonly name?: string;
  /** What tells this group apart from the target set's other groups (a route configuration's identifier), hashed into the name. */
  readonly scope?: string;
  readonly targetControlPort?: number;
}

/** One ALB target group for a target set, with the options that apply to it (`t`); `key` is its lbc.dev/resource tag. */
export function albTargetGroup(input: SynthesisInput, c: Common, ts: TargetSet, t: AwsLbOptions, key: string, own: OwnTargetGroupSettings = {}): DesiredTargetGroup {
  const protocol: ElbProtocol = t.backendProtocol === 'HTTPS' ? 'HTTPS' : 'HTTP';
  const portNum = tgPort(ts);
  // As ALBC's buildTargetControlPort: the control agent runs beside the pod, not on the node port.
  if (own.targetControlPort !== undefined && ts.type !== 'ip') throw c.invalid(`target set ${ts.name}: targetControlPort needs ip targets (as aws-load-balancer-controller); its target type is ${ts.type}`);
  return {
    key,
    // HTTP1 is ELBv2's default: only another version changes the name (and so replaces the group).
    // An instance set is told apart by its node port, and, as ALBC's buildTargetGroupName
    // hashes the Ingress, by the group member whose own set it is.
    ...(own.name !== undefined ? { named: true as const } : {}),
    name:
      own.name ??
      targetGroupName(input.clusterName, input.spec.ref, [
        ts.type === 'instance' ? (ts.ingress ?? '') : ts.name,
        protocol,
        portNum,
        ts.type,
        input.vpcId,
        ...(t.protocolVersion !== undefined && t.protocolVersion !== 'HTTP1' ? [t.protocolVersion] : []),
        ...(own.scope !== undefined ? [own.scope] : []),
        ...(own.targetControlPort !== undefined ? [`control:${own.targetControlPort}`] : []),
      ]),
    protocol,
    port: portNum,
    targetType: ts.type,
    vpcId: input.vpcId,
    healthCheck: healthCheckFor(ts, t, { layer: 'L7', protocol, gateway: input.spec.layer === 'Gateway' }),
    ...(t.protocolVersion !== undefined ? { protocolVersion: t.protocolVersion } : {}),
    ...(own.targetControlPort !== undefined ? { targetControlPort: own.targetControlPort } : {}),
    attributes: { ...t.targetGroupAttributes },
    tags: resourceTags(own.tags ? { ...c.tagCtx, annotationTags: { ...c.tagCtx.annotationTags, ...own.tags } } : c.tagCtx, key),
    targets: targetsOf(ts, c.warnings, t.targetNodeLabels, own.nodeSelector),
  };
}

/**
 * An Ingress HTTPS listener's mutual TLS: its annotation entry, else off, so that removing
 * the annotation turns it off (ALBC up to v2.7 defaulted port 443 to off the same way;
 * v3.5 leaves an unlisted listener's as it is).
 */
function listenerMutualAuth(entry: MutualAuthEntry | undefined, trustStoreArns: ReadonlyMap<string, string> | undefined): DesiredMutualAuth {
  return entry ? desiredMutualAuth(entry, trustStoreArns ?? new Map()) : { mode: 'off' };
}

/** What an ALB listener answers when no rule matches and no default backend is its. */
const NOT_FOUND: DesiredAction = { type: 'fixed-response', statusCode: '404', contentType: 'text/plain' };

function synthesizeAlb(input: SynthesisInput, spec: L7Spec<AwsLbOptions>): DesiredState {
  const c = common(input);
  const o = input.options;
  const tgs = new Map<string, DesiredTargetGroup>();
  for (const ts of spec.targetSets) {
    // A group member's (or its Service's) target-group annotations, parsed for this set alone.
    tgs.set(ts.name, albTargetGroup(input, c, ts, (ts.providerOptions as AwsLbOptions | undefined) ?? o, ts.name));
  }
  const tgName = (set: string): string => {
    const tg = tgs.get(set);
    if (!tg) throw c.invalid(`a rule refers to target set ${set}, which the spec does not have`);
    return tg.name;
  };

  const certs = explicitCertificates(spec, o);
  if (spec.listeners.some((l) => l.protocol === 'HTTPS' && l.certificates.some((x) => x.source === 'secret'))) {
    c.warnings.push(`TLS Secrets in spec.tls are not used: ALB takes ACM certificates (${INGRESS_PREFIX}certificate-arn, or discovered by host)`);
  }
  const listen = listenPorts(spec, o, certs, c);
  const { ports } = listen;
  if (o.sslRedirect !== undefined && !ports.some((p) => p.protocol === 'HTTPS' && p.port === o.sslRedirect)) {
    // model_builder.go buildSSLRedirectConfig: "listener does not exist for SSLRedirect port".
    throw c.invalid(`${INGRESS_PREFIX}ssl-redirect: port ${o.sslRedirect} is not an HTTPS port the group listens on (${ports.map((p) => `${p.protocol}:${p.port}`).join(', ')})`);
  }
  if (certs.length === 0 && ports.some((p) => p.protocol === 'HTTPS')) certs.push(...discoveredCertificates(spec, input.acmCertificates ?? [], ports, c));
  const mtls = new Map((o.mutualAuthentication ?? []).map((m) => [m.port, m]));
  for (const port of mtls.keys()) {
    if (!ports.some((p) => p.protocol === 'HTTPS' && p.port === port)) {
      throw c.invalid(
        `${INGRESS_PREFIX}mutual-authentication: port ${port} is not an HTTPS listener of this load balancer (${ports.map((p) => `${p.protocol}:${p.port}`).join(', ')}); ALB authenticates clients on HTTPS listeners only`,
      );
    }
  }
  const namedAction = (name: string): DesiredAction => {
    const a = o.actions[name];
    if (!a) throw c.invalid(`an Ingress backend uses the action ${name}, but there is no ${ACTIONS}${name} annotation`);
    return albAction(name, a, spec, tgName, c);
  };
  const defaultAction: DesiredAction =
    spec.defaultBackend !== undefined
      ? { type: 'forward', targetGroup: tgName(spec.defaultBackend) }
      : spec.defaultAction !== undefined
        ? namedAction(spec.defaultAction)
        : NOT_FOUND;
  const sets = new Map(spec.targetSets.map((t) => [t.name, t]));
  // ALBC reads the auth annotations per backend (the Service's first, then its Ingress's)
  // and the OIDC Secret in the Ingress's namespace (model_build_actions.go buildAuthAction).
  const authFor = (auth: AlbAuth | undefined, namespace: string): DesiredAuth | undefined => {
    if (!auth) return undefined;
    const d = desiredAuth(auth, namespace, spec.secrets);
    if (typeof d === 'string') throw c.invalid(d);
    return d;
  };
  const setAuth = (set: string): DesiredAuth | undefined => {
    const ts = sets.get(set);
    return ts ? authFor(((ts.providerOptions as AwsLbOptions | undefined) ?? o).auth, ts.backend.namespace) : undefined;
  };
  const sourceNamespace = (source: string): string => source.split('/')[0] ?? '';
  const defaultAuth =
    spec.defaultBackend !== undefined
      ? setAuth(spec.defaultBackend)
      : spec.defaultAction !== undefined
        ? authFor(o.auth, spec.ref.namespace !== '' ? spec.ref.namespace : sourceNamespace([...spec.rules, ...(spec.actionRules ?? [])][0]?.source ?? ''))
        : undefined;
  const ordered = orderedRules(spec);
  const rules: DesiredRule[] = ordered.map((r, i) => {
    // conditions.<name> is keyed as aws-load-balancer-controller keys it: the backend's service.name.
    const name = 'action' in r ? r.action : (sets.get(r.targetSet)?.backend.service ?? '');
    const matched = withConditions(name, r.host !== undefined ? [r.host] : [], pathPatterns(r.path, r.pathType), o.conditions[name] ?? [], c);
    const auth = 'action' in r ? authFor(o.auth, sourceNamespace(r.source)) : setAuth(r.targetSet);
    return {
      priority: i + 1,
      ...matched,
      ...(auth ? { auth } : {}),
      action: 'action' in r ? namedAction(r.action) : { type: 'forward', targetGroup: tgName(r.targetSet) },
    };
  });
  // The default backend is its member's (an explicit group's sets name it); an action's applies on every port.
  const defaultSource = spec.defaultBackend !== undefined ? sets.get(spec.defaultBackend)?.ingress : undefined;
  const listeners: DesiredListener[] = ports.map((p) => {
    const redirect = o.sslRedirect !== undefined && p.protocol === 'HTTP';
    // Numbered per listener, as ALBC numbers each listener's rules.
    const own = rules.filter((_, i) => listen.carries(p.port, ordered[i]?.source)).map((r, i) => ({ ...r, priority: i + 1 }));
    const ownDefault = listen.carries(p.port, defaultSource);
    const authenticated = (ownDefault && defaultAuth !== undefined) || own.some((r) => r.auth !== undefined);
    // ALBC puts the authenticate action on HTTPS listeners only (model_build_actions.go
    // buildActions) and serves the same routes unauthenticated on an HTTP one; lbc refuses
    // that, since it would expose what the user meant to protect.
    if (authenticated && p.protocol === 'HTTP' && !redirect) {
      throw c.invalid(
        `${INGRESS_PREFIX}auth-type: the HTTP listener on port ${p.port} would serve the authenticated routes without authentication (ALB authenticates on HTTPS listeners only); listen on HTTPS only, or set ${INGRESS_PREFIX}ssl-redirect`,
      );
    }
    const https = p.protocol === 'HTTPS';
    return {
      port: p.port,
      protocol: p.protocol,
      certificates: https ? certs : [],
      ...(https ? { sslPolicy: o.sslPolicy } : {}),
      ...(https ? { mutualAuthentication: listenerMutualAuth(mtls.get(p.port), input.trustStoreArns) } : {}),
      ...(https && defaultAuth && ownDefault ? { defaultAuth } : {}),
      defaultAction: redirect ? { type: 'redirect', protocol: 'HTTPS', port: String(o.sslRedirect), statusCode: 'HTTP_301' } : ownDefault ? defaultAction : NOT_FOUND,
      rules: redirect ? [] : own,
    };
  });
  return albState(input, c, { listeners, targetGroups: [...tgs.values()], sourceRanges: spec.sourceRanges, auths: [defaultAuth, ...rules.map((r) => r.auth)] });
}

/**
 * An Application Load Balancer's desired state around its listeners and target groups, built
 * alike for an Ingress group and a Gateway: the managed frontend security group, open on the
 * listener ports to the inbound CIDRs and prefix lists (else to everyone, or the spec's
 * source ranges); the backend access for the target groups; the load balancer, tagged with a
 * digest of the OIDC clients its actions were given so that a rotated client Secret is sent
 * again.
 */
export function albState(
  input: SynthesisInput,
  c: Common,
  alb: { listeners: DesiredListener[]; targetGroups: DesiredTargetGroup[]; sourceRanges: readonly string[]; auths: readonly (DesiredAuth | undefined)[] },
): DesiredState {
  const o = input.options;
  const sg = managedSecurityGroup(
    input,
    c,
    permissions(
      alb.listeners.map((l) => ({ port: l.port, protocols: ['tcp'] })),
      frontendSources(o.inboundCidrs ?? alb.sourceRanges, o.prefixLists ?? [], o.ipAddressType),
    ),
  );
  const access = backendAccess(input, c, alb.targetGroups);
  const lb = loadBalancer(input, c, 'application');
  const oidcDigest = oidcClientsDigest(alb.auths);
  return {
    lb: oidcDigest !== undefined ? { ...lb, tags: { ...lb.tags, [TAG_OIDC_CLIENTS]: oidcDigest } } : lb,
    targetGroups: alb.targetGroups,
    listeners: alb.listeners,
    ...(sg ? { securityGroup: sg } : {}),
    ...(access ? { backendAccess: access } : {}),
    ports: alb.listeners.map((l) => ({ port: l.port, protocol: 'TCP' as const })),
    warnings: [...new Set(c.warnings)],
  };
}

export function synthesize(input: SynthesisInput): DesiredState {
  const spec = input.spec;
  // Gateways have their own synthesizers (gateway-alb.ts, gateway-nlb.ts, which build on this file); plan.ts chooses.
  if (spec.layer === 'Gateway') throw new Error('a Gateway spec is synthesized by synthesizeGatewayAlb or synthesizeGatewayNlb (gateway-alb.ts, gateway-nlb.ts)');
  return spec.layer === 'L4' ? synthesizeNlb(input, spec) : synthesizeAlb(input, spec);
}
