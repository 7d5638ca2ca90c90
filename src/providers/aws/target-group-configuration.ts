// aws-load-balancer-controller's TargetGroupConfiguration (gateway.k8s.aws/v1,
// ../shared/crds/aws-load-balancer-controller-v3.5.0/gateway; docs/guide/gateway/
// targetgroupconfig.md), attached to a Service by spec.targetReference (the Service's
// name, in the TGC's namespace), → the target group settings of every ALB Gateway backend
// of that Service. lbc implements the TargetGroupProps that map onto the target groups it
// already builds; any other field set is refused by name (the routes using the Service are
// then Accepted=False, UnsupportedValue), never dropped.
//
// As ALBC: healthCheckConfig is one block (its fields replace the Gateway's health-check
// annotations as a whole; a field left out takes ALBC's default), targetGroupAttributes and
// tags merge key by key over the Gateway's. Not read (refused when set): routeConfigurations
// (per-route target groups), targetGroupName, targetControlPort, ipAddressType ipv6,
// enableMultiCluster, nodeSelector.matchExpressions, a targetReference of kind Gateway.
import type { GatewayParameterKind } from '../../model/gateway.js';
import type { TargetType } from '../../model/spec.js';
import type { AwsLbOptions, HealthCheckOverrides } from './annotations.js';
import { userTags } from './tags.js';

export const TARGET_GROUP_CONFIGURATION: GatewayParameterKind = { group: 'gateway.k8s.aws', kind: 'TargetGroupConfiguration' };

/** What a TargetGroupConfiguration sets; absent fields leave the Gateway's (or the defaults'). */
export interface TargetGroupConfigurationOptions {
  readonly targetType?: TargetType;
  readonly backendProtocol?: 'HTTP' | 'HTTPS';
  readonly protocolVersion?: 'HTTP1' | 'HTTP2' | 'GRPC';
  readonly healthCheck?: HealthCheckOverrides;
  readonly targetGroupAttributes?: Readonly<Record<string, string>>;
  readonly targetNodeLabels?: Readonly<Record<string, string>>;
  /** On the target group only (the load balancer's own tags stay the Gateway's). */
  readonly tags?: Readonly<Record<string, string>>;
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

/** One TargetGroupProps block (spec.defaultConfiguration). */
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
    // An ALB target group speaks HTTP or HTTPS; TCP, TLS, UDP and TCP_UDP are an NLB's.
    if (protocol === 'HTTP' || protocol === 'HTTPS') out.backendProtocol = protocol;
    else errors.push(`${at}.protocol: ${String(protocol)} is not HTTP or HTTPS, the protocols of an ALB target group`);
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
    const s = isRecord(nodeSelector) ? nodeSelector : {};
    if (s.matchExpressions !== undefined) errors.push(`${at}.nodeSelector.matchExpressions: not implemented by lbc (matchLabels is)`);
    for (const f of Object.keys(s).filter((k) => k !== 'matchLabels' && k !== 'matchExpressions').sort()) errors.push(`${at}.nodeSelector.${f}: not a field of a label selector`);
    if (s.matchLabels !== undefined) {
      if (isRecord(s.matchLabels) && Object.values(s.matchLabels).every((v) => typeof v === 'string')) out.targetNodeLabels = s.matchLabels as Record<string, string>;
      else errors.push(`${at}.nodeSelector.matchLabels: not a map of strings`);
    }
  }
  // ELBv2's default for an IPv4 target group; an IPv6 one needs ip targets in a dual-stack VPC, which lbc does not build.
  if (ipAddressType !== undefined && ipAddressType !== 'ipv4') errors.push(`${at}.ipAddressType: ${String(ipAddressType)} is not implemented by lbc (ipv4 is)`);
  if (enableMultiCluster !== undefined && enableMultiCluster !== false) errors.push(`${at}.enableMultiCluster: not implemented by lbc`);
  if (targetGroupName !== undefined) errors.push(`${at}.targetGroupName: not implemented by lbc (it names target groups itself, so that a change replaces them safely)`);
  if (targetControlPort !== undefined) errors.push(`${at}.targetControlPort: not implemented by lbc`);
  return out;
}

export function parseTargetGroupConfiguration(object: unknown): Parsed<TargetGroupConfigurationOptions> {
  const spec = isRecord(object) ? (object.spec ?? {}) : undefined;
  if (!isRecord(spec)) return { ok: false, errors: ['spec: not an object'] };
  const errors: string[] = [];
  for (const f of Object.keys(spec).filter((k) => k !== 'targetReference' && k !== 'defaultConfiguration' && k !== 'routeConfigurations').sort()) errors.push(`spec.${f}: not a field of TargetGroupConfiguration`);
  const ref = spec.targetReference;
  if (isRecord(ref)) {
    // The CRD's defaults: group "" (core), kind Service. Gateway (ALBC's Gateway-as-backend) is not a backend lbc resolves.
    if ((ref.group ?? '') !== '' || (ref.kind ?? 'Service') !== 'Service') errors.push(`spec.targetReference: ${String(ref.kind ?? 'Service')}.${String(ref.group ?? '')} is not implemented by lbc (a core Service is)`);
  }
  if (spec.routeConfigurations !== undefined && !(Array.isArray(spec.routeConfigurations) && spec.routeConfigurations.length === 0)) {
    errors.push('spec.routeConfigurations: not implemented by lbc (defaultConfiguration applies to every route of the Service)');
  }
  const value = spec.defaultConfiguration === undefined ? {} : targetGroupProps(spec.defaultConfiguration, 'spec.defaultConfiguration', errors);
  return errors.length > 0 ? { ok: false, errors } : { ok: true, value };
}

/** A backend's options with its TargetGroupConfiguration's fields in place of the Gateway's (tags aside: they go on the target group alone). */
export function withTargetGroupConfiguration(options: AwsLbOptions, c: TargetGroupConfigurationOptions | undefined): AwsLbOptions {
  if (!c) return options;
  return {
    ...options,
    ...(c.backendProtocol !== undefined ? { backendProtocol: c.backendProtocol } : {}),
    ...(c.protocolVersion !== undefined ? { protocolVersion: c.protocolVersion } : {}),
    ...(c.healthCheck !== undefined ? { healthCheck: c.healthCheck } : {}),
    ...(c.targetGroupAttributes !== undefined ? { targetGroupAttributes: { ...options.targetGroupAttributes, ...c.targetGroupAttributes } } : {}),
    ...(c.targetNodeLabels !== undefined ? { targetNodeLabels: c.targetNodeLabels } : {}),
  };
}
