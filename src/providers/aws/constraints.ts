// What AWS accepts for each value lbc hands it from an annotation, as AWS documents it,
// so that a value AWS would refuse (or silently misuse) stops at the model builder with
// a Warning naming the annotation, before any call. Sources, by section below:
//   S3 bucket naming rules: https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
//   S3 object keys (safe characters, 1024 bytes): https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-keys.html
//   ELB access logs, "The prefix that you specify must not include AWSLogs":
//     https://docs.aws.amazon.com/elasticloadbalancing/latest/network/enable-access-logs.html
//     https://docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-access-logging.html
//   ELBv2 Tag (key 1-128, value 0-256, ^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$):
//     https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_Tag.html
//   Load balancer and target group attributes, their values and ranges:
//     https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_LoadBalancerAttribute.html
//     https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_TargetGroupAttribute.html
//   Health check matcher (ALB 200-499, NLB 200-599, gRPC 0-99), path length 1-1024:
//     https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_Matcher.html
//     https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateTargetGroup.html
//   Rule conditions and actions (lengths, content types):
//     https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_RuleCondition.html
//     https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_FixedResponseActionConfig.html
//     https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_RedirectActionConfig.html
import type { ParseOutcome, ValueParser } from '../../model/annotations.js';

const bad = (reason: string): ParseOutcome<never> => ({ ok: false, reason });
const quote = (s: string): string => JSON.stringify(s.length > 80 ? `${s.slice(0, 77)}...` : s);

/** A parser whose result must also pass `check` (a reason when it does not). */
export function refined<T>(parse: ValueParser<T>, check: (v: T) => string | undefined): ValueParser<T> {
  return (raw) => {
    const r = parse(raw);
    if (!r.ok) return r;
    const reason = check(r.value);
    return reason === undefined ? r : bad(reason);
  };
}

// ---- S3 ------------------------------------------------------------------------------

const IPV4_FORM = /^\d{1,3}(\.\d{1,3}){3}$/;

/** Why `name` is not a general purpose S3 bucket name, or undefined when it is one. */
export function s3BucketNameProblem(name: string): string | undefined {
  const q = quote(name);
  if (name.length < 3 || name.length > 63) return `${q} is not an S3 bucket name: 3 to 63 characters`;
  if (!/^[a-z0-9.-]+$/.test(name)) return `${q} is not an S3 bucket name: lower-case letters, digits, dots and hyphens only`;
  if (!/^[a-z0-9].*[a-z0-9]$/.test(name)) return `${q} is not an S3 bucket name: must begin and end with a letter or digit`;
  if (name.includes('..')) return `${q} is not an S3 bucket name: two adjacent dots`;
  if (IPV4_FORM.test(name)) return `${q} is not an S3 bucket name: formatted as an IP address`;
  for (const p of ['xn--', 'sthree-', 'amzn-s3-demo-']) if (name.startsWith(p)) return `${q} is not an S3 bucket name: the prefix ${p} is reserved`;
  for (const s of ['-s3alias', '--ol-s3', '.mrap', '--x-s3']) if (name.endsWith(s)) return `${q} is not an S3 bucket name: the suffix ${s} is reserved`;
  return undefined;
}

// S3's "safe characters" for object keys; anything else may need encoding or be refused
// by tools reading the logs, and ELB prepends nothing, so the prefix is the key's start.
const SAFE_KEY = /^[A-Za-z0-9!_.*'()/-]+$/;

/** Why `prefix` cannot be an ELB access log prefix, or undefined when it can. */
export function logPrefixProblem(prefix: string): string | undefined {
  const q = quote(prefix);
  // ELB appends /AWSLogs/<account>/elasticloadbalancing/<region>/<yyyy/mm/dd>/<file>, about
  // 200 characters, to the prefix; the whole key must stay within S3's 1024 bytes.
  if (Buffer.byteLength(prefix) > 800) return `${q} is too long for an access log prefix: S3 keys are at most 1024 bytes and ELB appends about 200`;
  if (!SAFE_KEY.test(prefix)) return `${q} is not an access log prefix: S3's safe key characters only (letters, digits and ! - _ . * ' ( ) /)`;
  if (prefix.includes('AWSLogs')) return `${q} must not include AWSLogs (ELB adds that part of the key itself)`;
  return undefined;
}

// ---- tags ----------------------------------------------------------------------------

const TAG_CHARS = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;

export function tagKeyProblem(key: string): string | undefined {
  if (key.length < 1 || key.length > 128) return `tag key ${quote(key)} must be 1 to 128 characters`;
  if (!TAG_CHARS.test(key)) return `tag key ${quote(key)} may hold letters, digits, spaces and _ . : / = + - @ only`;
  if (key.startsWith('aws:')) return `tag key ${quote(key)}: the aws: prefix is reserved by AWS`;
  return undefined;
}

export function tagValueProblem(key: string, value: string): string | undefined {
  if (value.length > 256) return `tag ${quote(key)}: the value must be at most 256 characters`;
  if (!TAG_CHARS.test(value)) return `tag ${quote(key)}: the value may hold letters, digits, spaces and _ . : / = + - @ only`;
  return undefined;
}

/** Every tag's key and value, as the ELBv2 Tag type allows them. */
export function tagsProblem(tags: Readonly<Record<string, string>>): string | undefined {
  for (const [k, v] of Object.entries(tags)) {
    const p = tagKeyProblem(k) ?? tagValueProblem(k, v);
    if (p !== undefined) return p;
  }
  return undefined;
}

// ---- attributes ----------------------------------------------------------------------

type Check = (value: string) => string | undefined;

const boolean: Check = (v) => (v === 'true' || v === 'false' ? undefined : 'must be true or false');
const among =
  (...values: string[]): Check =>
  (v) =>
    values.includes(v) ? undefined : `must be one of ${values.join(', ')}`;
const range =
  (min: number, max: number, ...also: number[]): Check =>
  (v) => {
    if (!/^\d+$/.test(v)) return `must be a whole number ${min}-${max}`;
    const n = Number(v);
    return (n >= min && n <= max) || also.includes(n) ? undefined : `must be ${min}-${max}${also.length > 0 ? ` or ${also.join(', ')}` : ''}`;
  };
const bucket: Check = (v) => s3BucketNameProblem(v);
const logPrefix: Check = (v) => (v === '' ? undefined : logPrefixProblem(v));
const countOrOff: Check = (v) => (v === 'off' || /^[1-9]\d{0,8}$/.test(v) ? undefined : 'must be off or a whole number from 1');
const percentOrOff: Check = (v) => (v === 'off' ? undefined : range(1, 100)(v) === undefined ? undefined : 'must be off or 1-100');
const cookieName: Check = (v) =>
  // RFC 6265 token, and AWS reserves the AWSALB* names for its own cookies.
  v.length === 0 || v.length > 256 || !/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(v) ? 'must be a cookie name (RFC 6265 token, at most 256 characters)' : /^AWSALB/i.test(v) ? 'AWSALB, AWSALBAPP and AWSALBTG are reserved' : undefined;

export type LoadBalancerType = 'application' | 'network';
interface Attribute {
  readonly check: Check;
  /** The only load balancer type that has it; both when absent. */
  readonly only?: LoadBalancerType;
}

const LB_ATTRIBUTES: Readonly<Record<string, Attribute>> = {
  'deletion_protection.enabled': { check: boolean },
  'load_balancing.cross_zone.enabled': { check: boolean },
  'access_logs.s3.enabled': { check: boolean },
  'access_logs.s3.bucket': { check: bucket },
  'access_logs.s3.prefix': { check: logPrefix },
  'ipv6.deny_all_igw_traffic': { check: boolean },
  'zonal_shift.config.enabled': { check: boolean },
  'idle_timeout.timeout_seconds': { check: range(1, 4000), only: 'application' },
  'client_keep_alive.seconds': { check: range(60, 604800), only: 'application' },
  'connection_logs.s3.enabled': { check: boolean, only: 'application' },
  'connection_logs.s3.bucket': { check: bucket, only: 'application' },
  'connection_logs.s3.prefix': { check: logPrefix, only: 'application' },
  'health_check_logs.s3.enabled': { check: boolean, only: 'application' },
  'health_check_logs.s3.bucket': { check: bucket, only: 'application' },
  'health_check_logs.s3.prefix': { check: logPrefix, only: 'application' },
  'routing.http.desync_mitigation_mode': { check: among('monitor', 'defensive', 'strictest'), only: 'application' },
  'routing.http.drop_invalid_header_fields.enabled': { check: boolean, only: 'application' },
  'routing.http.preserve_host_header.enabled': { check: boolean, only: 'application' },
  'routing.http.x_amzn_tls_version_and_cipher_suite.enabled': { check: boolean, only: 'application' },
  'routing.http.xff_client_port.enabled': { check: boolean, only: 'application' },
  'routing.http.xff_header_processing.mode': { check: among('append', 'preserve', 'remove'), only: 'application' },
  'routing.http2.enabled': { check: boolean, only: 'application' },
  'waf.fail_open.enabled': { check: boolean, only: 'application' },
  'dns_record.client_routing_policy': { check: among('availability_zone_affinity', 'partial_availability_zone_affinity', 'any_availability_zone'), only: 'network' },
  'secondary_ips.auto_assigned.per_subnet': { check: range(0, 7), only: 'network' },
};

const TG_ATTRIBUTES: Readonly<Record<string, Attribute>> = {
  'deregistration_delay.timeout_seconds': { check: range(0, 3600) },
  'stickiness.enabled': { check: boolean },
  'stickiness.type': { check: among('lb_cookie', 'app_cookie', 'source_ip', 'source_ip_dest_ip', 'source_ip_dest_ip_proto') },
  'load_balancing.cross_zone.enabled': { check: among('true', 'false', 'use_load_balancer_configuration') },
  'target_group_health.dns_failover.minimum_healthy_targets.count': { check: countOrOff },
  'target_group_health.dns_failover.minimum_healthy_targets.percentage': { check: percentOrOff },
  'target_group_health.unhealthy_state_routing.minimum_healthy_targets.count': { check: countOrOff },
  'target_group_health.unhealthy_state_routing.minimum_healthy_targets.percentage': { check: percentOrOff },
  'load_balancing.algorithm.type': { check: among('round_robin', 'least_outstanding_requests', 'weighted_random'), only: 'application' },
  'load_balancing.algorithm.anomaly_mitigation': { check: among('on', 'off'), only: 'application' },
  'slow_start.duration_seconds': { check: range(30, 900, 0), only: 'application' },
  'stickiness.app_cookie.cookie_name': { check: cookieName, only: 'application' },
  'stickiness.app_cookie.duration_seconds': { check: range(1, 604800), only: 'application' },
  'stickiness.lb_cookie.duration_seconds': { check: range(1, 604800), only: 'application' },
  'lambda.multi_value_headers.enabled': { check: boolean, only: 'application' },
  'deregistration_delay.connection_termination.enabled': { check: boolean, only: 'network' },
  'preserve_client_ip.enabled': { check: boolean, only: 'network' },
  'proxy_protocol_v2.enabled': { check: boolean, only: 'network' },
  'target_health_state.unhealthy.connection_termination.enabled': { check: boolean, only: 'network' },
  'target_health_state.unhealthy.draining_interval_seconds': { check: range(0, 360000), only: 'network' },
};

function attributesProblem(table: Readonly<Record<string, Attribute>>, what: string, type: LoadBalancerType, attrs: Readonly<Record<string, string>>): string | undefined {
  for (const [key, value] of Object.entries(attrs)) {
    const a = Object.hasOwn(table, key) ? table[key] : undefined;
    // AWS refuses a key it does not know (ValidationError); one added since this table was
    // written is added here, not passed on unchecked.
    if (!a) return `${quote(key)} is not a ${what} attribute AWS documents`;
    if (a.only !== undefined && a.only !== type) return `${quote(key)} is an attribute of ${a.only} load balancers only`;
    const p = a.check(value);
    if (p !== undefined) return `${key}=${quote(value)}: ${p}`;
  }
  return undefined;
}

export const loadBalancerAttributesProblem = (type: LoadBalancerType, attrs: Readonly<Record<string, string>>): string | undefined =>
  attributesProblem(LB_ATTRIBUTES, `${type} load balancer`, type, attrs);

export const targetGroupAttributesProblem = (type: LoadBalancerType, attrs: Readonly<Record<string, string>>): string | undefined =>
  attributesProblem(TG_ATTRIBUTES, 'target group', type, attrs);

// ---- health checks -------------------------------------------------------------------

/**
 * ELBv2 matcher codes (`200`, `200,202`, `200-299`) within what the load balancer type
 * allows: ALB 200-499, NLB 200-599. Ranges run low to high.
 */
export function successCodesProblem(type: LoadBalancerType | 'grpc', codes: string): string | undefined {
  // gRPC target groups (backend-protocol-version GRPC) match gRPC status codes: 0-99 (API_Matcher).
  const [min, max] = type === 'application' ? [200, 499] : type === 'grpc' ? [0, 99] : [200, 599];
  for (const part of codes.split(',')) {
    const [lo, hi = lo] = part.split('-').map(Number) as [number, number?];
    if (lo < min || hi > max) return `${quote(codes)}: ${type === 'grpc' ? 'gRPC target group' : `${type} load balancer`} health checks take codes ${min}-${max}`;
    if (lo > hi) return `${quote(codes)}: the range ${part} runs backwards`;
  }
  return undefined;
}
