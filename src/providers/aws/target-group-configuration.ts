// aws-load-balancer-controller's TargetGroupConfiguration (gateway.k8s.aws/v1,
// ../shared/crds/aws-load-balancer-controller-v3.5.0/gateway; docs/guide/gateway/
// targetgroupconfig.md), attached to a Service by spec.targetReference (the Service's
// name, in the TGC's namespace), → the target group settings of every Gateway backend
// of that Service (ALB and NLB Gateways). Malformed or unimplemented fields are refused by name (the routes using
// the Service are then Accepted=False, UnsupportedValue), never dropped.
//
// As ALBC: healthCheckConfig is one block (its fields replace the Gateway's health-check
// annotations as a whole; a field left out takes ALBC's default), targetGroupAttributes and
// tags merge key by key over the Gateway's. routeConfigurations override defaultConfiguration
// for the routes their routeIdentifier names, matched and merged as ALBC's
// targetGroupConfigConstructorImpl (pkg/gateway/tg_config_constructor.go,
// mergeWithLongestMatch and merge): kind+namespace+name, else kind+namespace, else kind;
// the matched props win field by field, tags and targetGroupAttributes key by key.
//
// Not read (refused when set, each saying why): ipAddressType ipv6 (lbc builds IPv4 target
// groups only), enableMultiCluster (lbc deregisters every target it did not find in the
// Service), a targetReference of kind Gateway, and a route configuration's targetType other
// than defaultConfiguration's (lbc builds one target set, of one target type, per Service
// backend).
import type { RouteKind, RouteOrigin } from '../../model/gateway.js';
import type { GatewayParameterKind } from '../../model/gateway.js';
import type { LabelSelector } from '../../model/label-selector.js';
import type { TargetType } from '../../model/spec.js';
import type { AwsLbOptions, HealthCheckOverrides } from './annotations.js';
import { userTags } from './tags.js';

export const TARGET_GROUP_CONFIGURATION: GatewayParameterKind = { group: 'gateway.k8s.aws', kind: 'TargetGroupConfiguration' };

/** What a TargetGroupProps block sets; absent fields leave the Gateway's (or the defaults'). */
export interface TargetGroupConfigurationOptions {
  readonly targetType?: TargetType;
  readonly backendProtocol?: 'HTTP' | 'HTTPS';
  readonly protocolVersion?: 'HTTP1' | 'HTTP2' | 'GRPC';
  readonly healthCheck?: HealthCheckOverrides;
  readonly targetGroupAttributes?: Readonly<Record<string, string>>;
  /** Instance targets: the nodes registered (in place of the Gateway's target-node-labels). */
  readonly nodeSelector?: LabelSelector;
  /** The target group's name as the user gives it, in place of lbc's hashed one. */
  readonly targetGroupName?: string;
  /** The ALB target optimizer's control port (CreateTargetGroup TargetControlPort); fixed at creation. */
  readonly targetControlPort?: number;
  /** On the target group only (the load balancer's own tags stay the Gateway's). */
  readonly tags?: Readonly<Record<string, string>>;
}

/** spec.routeConfigurations[].routeIdentifier; an absent namespace or name matches any. */
export interface RouteIdentifier {
  readonly kind: RouteKind;
  readonly namespace?: string;
  readonly name?: string;
}

export interface RouteConfiguration {
  readonly routeIdentifier: RouteIdentifier;
  readonly props: TargetGroupConfigurationOptions;
}

/** A parsed TargetGroupConfiguration: what the provider reads of GatewayParameters.value. */
export interface TargetGroupConfiguration {
  readonly defaultConfiguration: TargetGroupConfigurationOptions;
  readonly routeConfigurations: readonly RouteConfiguration[];
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; errors: string[] };

const PROPS = new Set([
  'targetType',
  'protocol',
  'protocolVersion',
  'healthCheckConfig',
  'targetGroupAttributes',
  'tags',
  'nodeSelector',
  'ipAddressType',
  'enableMultiCluster',
  'targetGroupName',
  'targetControlPort',
]);

const ROUTE_KINDS: ReadonlySet<string> = new Set<RouteKind>(['HTTPRoute', 'GRPCRoute', 'TLSRoute', 'TCPRoute', 'UDPRoute']);
/** ELBv2 CreateTargetGroup Name: 1-32 letters, digits and hyphens, no hyphen first or last. */
const TARGET_GROUP_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?$/;
const OPERATORS: ReadonlySet<string> = new Set(['In', 'NotIn', 'Exists', 'DoesNotExist']);

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const positiveInt = (v: unknown, min: number, max: number): v is number => typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
/** ELBv2 matcher codes, as the success-codes annotation takes them. */
const CODES = /^\d{1,3}(-\d{1,3})?(,\d{1,3}(-\d{1,3})?)*$/;

/** ELBv2 health check limits (CreateTargetGroup): interval 5-300 s, timeout 2-120 s, thresholds 2-10. */
function healthCheckConfig(h: unknown, at: string, errors: string[]): HealthCheckOverrides | undefined {
  if (!isRecord(h)) {
    errors.push(`${at}: not an object`);
    return undefined;
  }
  const out: { -readonly [K in keyof HealthCheckOverrides]: HealthCheckOverrides[K] } = {};
  const known = new Set(['healthCheckInterval', 'healthCheckPath', 'healthCheckPort', 'healthCheckProtocol', 'healthCheckTimeout', 'healthyThresholdCount', 'unhealthyThresholdCount', 'matcher']);
  for (const f of Object.keys(h).filter((k) => !known.has(k)).sort()) errors.push(`${at}.${f}: not a field of HealthCheckConfiguration`);
  const { healthCheckInterval, healthCheckPath, healthCheckPort, healthCheckProtocol, healthCheckTimeout, healthyThresholdCount, unhealthyThresholdCount, matcher } = h;
  if (healthCheckInterval !== undefined) {
    if (positiveInt(healthCheckInterval, 5, 300)) out.intervalSeconds = healthCheckInterval;
    else errors.push(`${at}.healthCheckInterval: ${String(healthCheckInterval)} is not 5-300 seconds`);
  }
  if (healthCheckTimeout !== undefined) {
    if (positiveInt(healthCheckTimeout, 2, 120)) out.timeoutSeconds = healthCheckTimeout;
    else errors.push(`${at}.healthCheckTimeout: ${String(healthCheckTimeout)} is not 2-120 seconds`);
  }
  if (healthyThresholdCount !== undefined) {
    if (positiveInt(healthyThresholdCount, 2, 10)) out.healthyThreshold = healthyThresholdCount;
    else errors.push(`${at}.healthyThresholdCount: ${String(healthyThresholdCount)} is not 2-10`);
  }
  if (unhealthyThresholdCount !== undefined) {
    if (positiveInt(unhealthyThresholdCount, 2, 10)) out.unhealthyThreshold = unhealthyThresholdCount;
    else errors.push(`${at}.unhealthyThresholdCount: ${String(unhealthyThresholdCount)} is not 2-10`);
  }
  if (healthCheckPath !== undefined) {
    if (typeof healthCheckPath === 'string' && healthCheckPath.startsWith('/') && healthCheckPath.length <= 1024) out.path = healthCheckPath;
    else errors.push(`${at}.healthCheckPath: ${String(healthCheckPath)} is not a path of at most 1024 characters starting with /`);
  }
  if (healthCheckPort !== undefined) {
    // ALBC's healthCheckPort is a string: traffic-port or a port number.
    if (healthCheckPort === 'traffic-port') out.port = 'traffic-port';
    else if (typeof healthCheckPort === 'string' && /^[1-9]\d{0,4}$/.test(healthCheckPort) && Number(healthCheckPort) <= 65535) out.port = Number(healthCheckPort);
    else errors.push(`${at}.healthCheckPort: ${String(healthCheckPort)} is not traffic-port or a port number (named ports are not implemented by lbc)`);
  }
  if (healthCheckProtocol !== undefined) {
    if (healthCheckProtocol === 'HTTP' || healthCheckProtocol === 'HTTPS' || healthCheckProtocol === 'TCP') out.protocol = healthCheckProtocol;
    else errors.push(`${at}.healthCheckProtocol: ${String(healthCheckProtocol)} is not HTTP, HTTPS or TCP`);
  }
  if (matcher !== undefined) {
    const m = isRecord(matcher) ? matcher : {};
    const { httpCode, grpcCode } = m;
    // The CRD's note: only one of httpCode or grpcCode.
    if (httpCode !== undefined && grpcCode !== undefined) errors.push(`${at}.matcher: set httpCode or grpcCode, not both`);
    const codes = httpCode ?? grpcCode;
    if (typeof codes === 'string' && CODES.test(codes)) out.successCodes = codes;
    else errors.push(`${at}.matcher: ${codes === undefined ? 'needs httpCode or grpcCode' : `${String(codes)} is not codes such as 200, 200,202 or 200-299`}`);
  }
  return out;
}

/** A metav1.LabelSelector, with the API server's rules for operators and values. */
function labelSelector(s: unknown, at: string, errors: string[]): LabelSelector | undefined {
  if (!isRecord(s)) {
    errors.push(`${at}: not a label selector`);
    return undefined;
  }
  for (const f of Object.keys(s).filter((k) => k !== 'matchLabels' && k !== 'matchExpressions').sort()) errors.push(`${at}.${f}: not a field of a label selector`);
  const out: { matchLabels?: Record<string, string>; matchExpressions?: NonNullable<LabelSelector['matchExpressions']>[number][] } = {};
  if (s.matchLabels !== undefined) {
    if (isRecord(s.matchLabels) && Object.values(s.matchLabels).every((v) => typeof v === 'string')) out.matchLabels = s.matchLabels as Record<string, string>;
    else errors.push(`${at}.matchLabels: not a map of strings`);
  }
  if (s.matchExpressions !== undefined) {
    if (!Array.isArray(s.matchExpressions)) errors.push(`${at}.matchExpressions: not a list`);
    out.matchExpressions = [];
    for (const [i, e] of (Array.isArray(s.matchExpressions) ? s.matchExpressions : []).entries()) {
      const where = `${at}.matchExpressions[${i}]`;
      if (!isRecord(e) || typeof e.key !== 'string' || e.key === '') {
        errors.push(`${where}: needs a key`);
        continue;
      }
      const operator = e.operator;
      if (typeof operator !== 'string' || !OPERATORS.has(operator)) {
        errors.push(`${where}.operator: ${String(operator)} is not In, NotIn, Exists or DoesNotExist`);
        continue;
      }
      const values = e.values ?? [];
      if (!Array.isArray(values) || !values.every((v) => typeof v === 'string')) {
        errors.push(`${where}.values: not a list of strings`);
        continue;
      }
      // As the API server validates a LabelSelectorRequirement.
      const needsValues = operator === 'In' || operator === 'NotIn';
      if (needsValues && values.length === 0) errors.push(`${where}.values: operator ${operator} needs values`);
      else if (!needsValues && values.length > 0) errors.push(`${where}.values: operator ${operator} takes no values`);
      else out.matchExpressions.push({ key: e.key, operator: operator as 'In' | 'NotIn' | 'Exists' | 'DoesNotExist', ...(needsValues ? { values: values as string[] } : {}) });
    }
  }
  return out;
}

/** One TargetGroupProps block (spec.defaultConfiguration, or a route configuration's targetGroupProps). */
function targetGroupProps(props: unknown, at: string, errors: string[]): TargetGroupConfigurationOptions {
  if (!isRecord(props)) {
    errors.push(`${at}: not an object`);
    return {};
  }
  const out: { -readonly [K in keyof TargetGroupConfigurationOptions]: TargetGroupConfigurationOptions[K] } = {};
  for (const f of Object.keys(props).filter((k) => !PROPS.has(k)).sort()) errors.push(`${at}.${f}: not a field of TargetGroupProps`);
  const { targetType, protocol, protocolVersion, healthCheckConfig: hc, targetGroupAttributes, tags, nodeSelector, ipAddressType, enableMultiCluster, targetGroupName, targetControlPort } = props;
  if (targetType !== undefined) {
    if (targetType === 'instance' || targetType === 'ip') out.targetType = targetType;
    else errors.push(`${at}.targetType: ${String(targetType)} is not instance or ip`);
  }
  if (protocol !== undefined) {
    // An ALB target group speaks HTTP or HTTPS. An NLB Gateway's target groups take their
    // listener's protocol (TCP, UDP, TCP_UDP; a TLS listener forwards as TCP): lbc does not set
    // it from here, so the message says so rather than calling TCP an ALB's mistake.
    if (protocol === 'HTTP' || protocol === 'HTTPS') out.backendProtocol = protocol;
    else errors.push(`${at}.protocol: ${String(protocol)} is not read by lbc: an ALB target group speaks HTTP or HTTPS, an NLB Gateway's target group takes its listener's protocol (TCP, UDP, TCP_UDP; TLS listeners forward as TCP)`);
  }
  if (protocolVersion !== undefined) {
    if (protocolVersion === 'HTTP1' || protocolVersion === 'HTTP2' || protocolVersion === 'GRPC') out.protocolVersion = protocolVersion;
    else errors.push(`${at}.protocolVersion: ${String(protocolVersion)} is not HTTP1, HTTP2 or GRPC`);
  }
  if (hc !== undefined) {
    const h = healthCheckConfig(hc, `${at}.healthCheckConfig`, errors);
    if (h) out.healthCheck = h;
  }
  if (targetGroupAttributes !== undefined) {
    const attrs: Record<string, string> = {};
    if (!Array.isArray(targetGroupAttributes)) errors.push(`${at}.targetGroupAttributes: not a list of {key, value}`);
    for (const [i, a] of (Array.isArray(targetGroupAttributes) ? targetGroupAttributes : []).entries()) {
      if (isRecord(a) && typeof a.key === 'string' && a.key !== '' && typeof a.value === 'string') attrs[a.key] = a.value;
      else errors.push(`${at}.targetGroupAttributes[${i}]: needs a key and a string value`);
    }
    out.targetGroupAttributes = attrs;
  }
  if (tags !== undefined) {
    const t = userTags(tags, `${at}.tags`, errors);
    if (t) out.tags = t;
  }
  if (nodeSelector !== undefined) {
    const s = labelSelector(nodeSelector, `${at}.nodeSelector`, errors);
    if (s) out.nodeSelector = s;
  }
  if (targetGroupName !== undefined) {
    if (typeof targetGroupName === 'string' && TARGET_GROUP_NAME.test(targetGroupName)) out.targetGroupName = targetGroupName;
    else errors.push(`${at}.targetGroupName: ${String(targetGroupName)} is not a target group name (1-32 letters, digits and hyphens, not starting or ending with a hyphen)`);
  }
  // ipv4 is ELBv2's default; an IPv6 group needs IPv6 pod targets and a dualstack load balancer (ALBC buildTargetGroupIPAddressType).
  if (ipAddressType !== undefined && ipAddressType !== 'ipv4') errors.push(`${at}.ipAddressType: ${String(ipAddressType)} is not implemented by lbc, which builds IPv4 target groups only (ipv4 is)`);
  if (enableMultiCluster !== undefined && enableMultiCluster !== false) {
    errors.push(`${at}.enableMultiCluster: not implemented by lbc: it deregisters every target of its groups that the Service does not have, so another cluster's targets would not stay`);
  }
  if (targetControlPort !== undefined) {
    if (positiveInt(targetControlPort, 1, 65535)) out.targetControlPort = targetControlPort;
    else errors.push(`${at}.targetControlPort: ${String(targetControlPort)} is not a port`);
  }
  return out;
}

/** spec.routeConfigurations[i].routeIdentifier; one ALBC could never match is refused (it would configure nothing). */
function routeIdentifier(id: unknown, at: string, errors: string[]): RouteIdentifier | undefined {
  if (!isRecord(id)) {
    errors.push(`${at}: not an object`);
    return undefined;
  }
  for (const f of Object.keys(id).filter((k) => k !== 'kind' && k !== 'namespace' && k !== 'name').sort()) errors.push(`${at}.${f}: not a field of a route identifier`);
  const { kind, namespace, name } = id;
  const str = (v: unknown): v is string => typeof v === 'string' && v !== '';
  let ok = true;
  if (!str(kind) || !ROUTE_KINDS.has(kind)) {
    // ALBC compares the kind with the route's and matches nothing without one.
    errors.push(`${at}.kind: ${kind === undefined ? 'required' : `${String(kind)} is not a route kind`} (HTTPRoute, GRPCRoute, TLSRoute, TCPRoute or UDPRoute)`);
    ok = false;
  }
  for (const [f, v] of [['namespace', namespace], ['name', name]] as const) {
    if (v !== undefined && typeof v !== 'string') {
      errors.push(`${at}.${f}: not a string`);
      ok = false;
    }
  }
  // A name is matched only together with its namespace (the complete kind:namespace:name).
  if (str(name) && !str(namespace)) {
    errors.push(`${at}.name: needs namespace too: a route is identified by kind, namespace and name`);
    ok = false;
  }
  if (!ok) return undefined;
  return { kind: kind as RouteKind, ...(str(namespace) ? { namespace } : {}), ...(str(name) ? { name } : {}) };
}

export function parseTargetGroupConfiguration(object: unknown): Parsed<TargetGroupConfiguration> {
  const spec = isRecord(object) ? (object.spec ?? {}) : undefined;
  if (!isRecord(spec)) return { ok: false, errors: ['spec: not an object'] };
  const errors: string[] = [];
  for (const f of Object.keys(spec).filter((k) => k !== 'targetReference' && k !== 'defaultConfiguration' && k !== 'routeConfigurations').sort()) errors.push(`spec.${f}: not a field of TargetGroupConfiguration`);
  const ref = spec.targetReference;
  if (isRecord(ref)) {
    // The CRD's defaults: group "" (core), kind Service. Gateway (ALBC's Gateway-as-backend) is not a backend lbc resolves.
    if ((ref.group ?? '') !== '' || (ref.kind ?? 'Service') !== 'Service') errors.push(`spec.targetReference: ${String(ref.kind ?? 'Service')}.${String(ref.group ?? '')} is not implemented by lbc (a core Service is)`);
  }
  const defaultConfiguration = spec.defaultConfiguration === undefined ? {} : targetGroupProps(spec.defaultConfiguration, 'spec.defaultConfiguration', errors);
  const routeConfigurations: RouteConfiguration[] = [];
  if (spec.routeConfigurations !== undefined && !Array.isArray(spec.routeConfigurations)) errors.push('spec.routeConfigurations: not a list');
  for (const [i, rc] of (Array.isArray(spec.routeConfigurations) ? spec.routeConfigurations : []).entries()) {
    const at = `spec.routeConfigurations[${i}]`;
    if (!isRecord(rc)) {
      errors.push(`${at}: not an object`);
      continue;
    }
    for (const f of Object.keys(rc).filter((k) => k !== 'routeIdentifier' && k !== 'targetGroupProps').sort()) errors.push(`${at}.${f}: not a field of RouteConfiguration`);
    const id = routeIdentifier(rc.routeIdentifier, `${at}.routeIdentifier`, errors);
    const props = targetGroupProps(rc.targetGroupProps ?? {}, `${at}.targetGroupProps`, errors);
    // The controller builds one target set per Service backend, of the default's target type.
    if (props.targetType !== undefined && props.targetType !== defaultConfiguration.targetType) {
      errors.push(
        `${at}.targetGroupProps.targetType: ${props.targetType} differs from defaultConfiguration's (${defaultConfiguration.targetType ?? 'unset'}); lbc registers one target type per Service backend, so set it in defaultConfiguration`,
      );
    }
    if (id) routeConfigurations.push({ routeIdentifier: id, props });
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, value: { defaultConfiguration, routeConfigurations } };
}

/** A route's `kind:namespace:name` as ALBC writes a route identifier, empty parts left empty. */
export const routeIdentifierText = (id: RouteIdentifier): string => `${id.kind}:${id.namespace ?? ''}:${id.name ?? ''}`;

/**
 * The route configuration ALBC's mergeWithLongestMatch picks for a route: the first whose
 * kind, namespace and name are all the route's; else the first of kind and namespace alone;
 * else the first of kind alone. A namespace or name given that is not the route's never matches.
 */
export function matchRouteConfiguration(configurations: readonly RouteConfiguration[], route: Pick<RouteOrigin, 'kind' | 'namespace' | 'name'>): RouteConfiguration | undefined {
  let best: RouteConfiguration | undefined;
  let rank = 0;
  for (const rc of configurations) {
    const { kind, namespace, name } = rc.routeIdentifier;
    if (kind !== route.kind) continue;
    if (name !== undefined) {
      if (namespace === route.namespace && name === route.name) return rc;
      continue;
    }
    const r = namespace === undefined ? 1 : namespace === route.namespace ? 2 : 0;
    if (r > rank) {
      best = rc;
      rank = r;
    }
  }
  return best;
}

/** ALBC's merge: each field of `high` that is set wins over `low`'s, as one block; tags and targetGroupAttributes merge key by key. */
export function mergeTargetGroupProps(high: TargetGroupConfigurationOptions, low: TargetGroupConfigurationOptions): TargetGroupConfigurationOptions {
  // The parse leaves an unset field out, so a spread takes exactly the fields `high` sets.
  const merged: { -readonly [K in keyof TargetGroupConfigurationOptions]: TargetGroupConfigurationOptions[K] } = { ...low, ...high };
  if (high.tags !== undefined || low.tags !== undefined) merged.tags = { ...low.tags, ...high.tags };
  if (high.targetGroupAttributes !== undefined || low.targetGroupAttributes !== undefined) merged.targetGroupAttributes = { ...low.targetGroupAttributes, ...high.targetGroupAttributes };
  return merged;
}

/** What applies to one route's backend: the merged props, and the identifier of the route configuration in them (absent: defaultConfiguration alone). */
export interface RouteTargetGroupProps {
  readonly options: TargetGroupConfigurationOptions;
  readonly route?: string;
}

export function targetGroupPropsForRoute(c: TargetGroupConfiguration, route: Pick<RouteOrigin, 'kind' | 'namespace' | 'name'>): RouteTargetGroupProps {
  const matched = matchRouteConfiguration(c.routeConfigurations, route);
  if (!matched) return { options: c.defaultConfiguration };
  return { options: mergeTargetGroupProps(matched.props, c.defaultConfiguration), route: routeIdentifierText(matched.routeIdentifier) };
}

/** A backend's options with its TargetGroupConfiguration's fields in place of the Gateway's (tags, node selector and name aside: they go to the target group alone). */
export function withTargetGroupConfiguration(options: AwsLbOptions, c: TargetGroupConfigurationOptions | undefined): AwsLbOptions {
  if (!c) return options;
  return {
    ...options,
    // The configuration's node selector replaces the Gateway's target-node-labels (albTargetGroup applies it).
    ...(c.nodeSelector !== undefined ? { targetNodeLabels: undefined } : {}),
    ...(c.backendProtocol !== undefined ? { backendProtocol: c.backendProtocol } : {}),
    ...(c.protocolVersion !== undefined ? { protocolVersion: c.protocolVersion } : {}),
    ...(c.healthCheck !== undefined ? { healthCheck: c.healthCheck } : {}),
    ...(c.targetGroupAttributes !== undefined ? { targetGroupAttributes: { ...options.targetGroupAttributes, ...c.targetGroupAttributes } } : {}),
  };
}
