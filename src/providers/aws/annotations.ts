// The AWS annotations, read as aws-load-balancer-controller reads them (names, value
// formats, defaults), into the options bag the provider finds in spec.providerOptions.
// Parsed by the model builder through parseOptions, so a bad value stops there with a
// Warning Event naming the annotation, and nothing is created.
import { z } from 'zod';
import {
  annotation,
  annotationNames,
  bool,
  cidrList,
  httpPath,
  int,
  json,
  keyValueList,
  oneOf,
  parseAnnotations,
  port,
  string,
  stringList,
  type AnnotationError,
  type Annotations,
  type ValueParser,
} from '../../model/annotations.js';
import { healthCheckPort } from '../../model/lbc-annotations.js';
import { authAnnotationSchema, authOf, type AlbAuth } from './authentication.js';
import { mutualAuthentication, type MutualAuthEntry } from './mutual-authentication.js';
import type { ListenerConfiguration } from './listener-configuration.js';
import { CLASS_PARAMS_SUBNET_TAGS, type SubnetTagSelector } from './subnet-selector.js';
export { CLASS_PARAMS_SUBNET_TAGS, type SubnetTagSelector };
import {
  loadBalancerAttributesProblem,
  logPrefixProblem,
  refined,
  s3BucketNameProblem,
  successCodesProblem,
  tagsProblem,
  targetGroupAttributesProblem,
  type LoadBalancerType,
} from './constraints.js';
import type { LbKind } from '../../model/ref.js';
import type { HealthCheckPort, TargetType } from '../../model/spec.js';
import type { ActionServiceRef, AnnotationScopes, OptionsParseResult } from '../types.js';

export const SERVICE_PREFIX = 'service.beta.kubernetes.io/aws-load-balancer-';
export const INGRESS_PREFIX = 'alb.ingress.kubernetes.io/';
const S = SERVICE_PREFIX;
const A = INGRESS_PREFIX;

/** aws-load-balancer-controller's default for both NLB TLS listeners and ALB HTTPS listeners. */
export const DEFAULT_SSL_POLICY = 'ELBSecurityPolicy-2016-08';

export type Scheme = 'internal' | 'internet-facing';
export type IpAddressType = 'ipv4' | 'dualstack';

export interface HealthCheckOverrides {
  readonly protocol?: 'TCP' | 'HTTP' | 'HTTPS';
  readonly port?: HealthCheckPort;
  readonly path?: string;
  readonly intervalSeconds?: number;
  readonly timeoutSeconds?: number;
  readonly healthyThreshold?: number;
  readonly unhealthyThreshold?: number;
  readonly successCodes?: string;
}

const redirectSchema = z.strictObject({
  host: z.string().min(1).max(128).optional(),
  path: z.string().min(1).max(128).regex(/^(\/|#\{path\})/, 'must start with / (or be #{path})').optional(),
  port: z.string().regex(/^(#\{port\}|[1-9]\d{0,4})$/, 'must be a port 1-65535 or #{port}').refine((p) => p.startsWith('#') || Number(p) <= 65535, 'must be a port 1-65535 or #{port}').optional(),
  protocol: z.enum(['HTTP', 'HTTPS', '#{protocol}']).optional(),
  query: z.string().max(128).optional(),
  statusCode: z.enum(['HTTP_301', 'HTTP_302']),
});

// Lengths and values as ELBv2's RedirectActionConfig, FixedResponseActionConfig and
// RuleCondition types document them (see constraints.ts for the references).
const fixedResponseSchema = z.strictObject({
  contentType: z.enum(['text/plain', 'text/css', 'text/html', 'application/javascript', 'application/json']).optional(),
  messageBody: z.string().max(1024).optional(),
  statusCode: z.string().regex(/^[2-5]\d\d$/, 'must be an HTTP status code 2XX-5XX'),
});

const forwardTargetSchema = z.strictObject({
  targetGroupARN: z.string().optional(),
  targetGroupName: z.string().optional(),
  serviceName: z.string().optional(),
  servicePort: z.union([z.string(), z.number()]).optional(),
  weight: z.number().int().min(0).max(999).optional(),
});

export const albActionSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('fixed-response'), fixedResponseConfig: fixedResponseSchema }),
  z.strictObject({ type: z.literal('redirect'), redirectConfig: redirectSchema }),
  z.strictObject({
    type: z.literal('forward'),
    targetGroupARN: z.string().optional(),
    targetGroupName: z.string().optional(),
    forwardConfig: z
      .strictObject({
        targetGroups: z.array(forwardTargetSchema).min(1),
        targetGroupStickinessConfig: z.strictObject({ enabled: z.boolean().optional(), durationSeconds: z.number().int().optional() }).optional(),
      })
      .optional(),
  }),
]);
export type AlbAction = z.output<typeof albActionSchema>;

/**
 * The Services an `actions.<name>` forward sends to, as written. The one reading of
 * forwardConfig.targetGroups[].serviceName: the Ingress builder (through the provider),
 * the cache index and desired.ts all go through it, so they cannot disagree.
 */
export function forwardServices(a: AlbAction): ActionServiceRef[] {
  if (a.type !== 'forward') return [];
  return (a.forwardConfig?.targetGroups ?? []).flatMap((t) => (t.serviceName !== undefined ? [{ service: t.serviceName, port: t.servicePort }] : []));
}

/** forwardServices of a raw annotation value; a value that does not parse names nothing (parseOptions reports it). */
export function forwardServicesOf(raw: string): ActionServiceRef[] {
  const r = json(albActionSchema)(raw.trim());
  return r.ok ? forwardServices(r.value) : [];
}

const conditionValue = z.string().min(1).max(128);
const valuesConfig = z.strictObject({ values: z.array(conditionValue).min(1) });
export const albConditionSchema = z.array(
  z.strictObject({
    field: z.enum(['host-header', 'path-pattern', 'http-header', 'http-request-method', 'query-string', 'source-ip']),
    hostHeaderConfig: valuesConfig.optional(),
    pathPatternConfig: valuesConfig.optional(),
    httpHeaderConfig: z.strictObject({ httpHeaderName: z.string().min(1).max(40), values: z.array(conditionValue).min(1) }).optional(),
    httpRequestMethodConfig: z.strictObject({ values: z.array(z.string().max(40).regex(/^[A-Z_-]+$/, 'must be an HTTP method (A-Z, _ and -)')).min(1) }).optional(),
    queryStringConfig: z.strictObject({ values: z.array(z.strictObject({ key: conditionValue.optional(), value: conditionValue })).min(1) }).optional(),
    sourceIpConfig: valuesConfig.optional(),
  }),
);
export type AlbCondition = z.output<typeof albConditionSchema>[number];

export interface ListenPort {
  readonly protocol: 'HTTP' | 'HTTPS';
  readonly port: number;
}

/** What the provider reads from a Service's or Ingress's annotations. Plain data: it is hashed with the spec. */
export interface AwsLbOptions {
  readonly kind: LbKind;
  readonly scheme: Scheme;
  /** Annotations under the AWS prefixes that lbc does not read (unimplemented or misspelt): each is warned about. */
  readonly ignoredAnnotations?: readonly string[];
  /** Asked-for LB name; only used when the LB is created (as aws-load-balancer-controller). */
  readonly name?: string;
  /** Subnet IDs or Name tags; absent means subnetTags, else discovery. */
  readonly subnets?: readonly string[];
  /**
   * Subnets by tags (IngressClassParams spec.subnets.tags, a Gateway's LoadBalancerConfiguration
   * loadBalancerSubnetsSelector): the VPC's subnets with one of the values of every key, one per zone.
   */
  readonly subnetTags?: SubnetTagSelector;
  readonly ipAddressType: IpAddressType;
  readonly eipAllocations?: readonly string[];
  readonly privateIpv4Addresses?: readonly string[];
  /** ACM (or IAM) certificate ARNs; the first is the listener's default. */
  readonly certificateArns: readonly string[];
  /** NLB: listener ports (numbers, or Service port names) that terminate TLS; absent means all when certificates are given. */
  readonly sslPorts?: readonly (number | string)[];
  readonly sslPolicy: string;
  /** Target group protocol override: NLB `ssl` → TLS; ALB HTTP or HTTPS. */
  readonly backendProtocol?: 'TCP' | 'TLS' | 'HTTP' | 'HTTPS';
  /** ALB target groups: ALBC's backend-protocol-version (HTTP1 is ELBv2's default). */
  readonly protocolVersion?: 'HTTP1' | 'HTTP2' | 'GRPC';
  readonly proxyProtocol: boolean;
  readonly targetGroupAttributes: Readonly<Record<string, string>>;
  readonly loadBalancerAttributes: Readonly<Record<string, string>>;
  readonly healthCheck: HealthCheckOverrides;
  readonly tags: Readonly<Record<string, string>>;
  /** Frontend security groups given by the user (IDs or Name tags): used as they are, never changed. */
  readonly securityGroups?: readonly string[];
  readonly manageBackendSecurityGroupRules: boolean;
  /** Managed prefix lists (pl-…) the managed security group opens the listeners to, instead of everyone. */
  readonly prefixLists?: readonly string[];
  readonly targetNodeLabels?: Readonly<Record<string, string>>;
  /**
   * enable-tcp-udp-listener: a TCP and a UDP Service port on one port number become one
   * TCP_UDP listener only when asked (aws-load-balancer-controller v3.5
   * pkg/service/model_build_listener.go shouldUseTCPUDP: the annotation, else the
   * EnableTCPUDPListener feature gate, which is off by default).
   */
  readonly tcpUdpListener?: boolean;
  // Ingress only.
  readonly listenPorts?: readonly ListenPort[];
  readonly sslRedirect?: number;
  readonly inboundCidrs?: readonly string[];
  /** WAFv2 web ACL ARN, or `none` to remove the association; absent leaves it as it is (as ALBC). */
  readonly wafv2AclArn?: string;
  /** Shield Advanced protection wanted (true) or not (false); absent leaves it as it is (as ALBC). */
  readonly shieldProtection?: boolean;
  /** ALB authentication before the routes of HTTPS listeners (auth-type oidc or cognito). */
  readonly auth?: AlbAuth;
  /** mutual-authentication: mutual TLS per HTTPS listener port; absent, every HTTPS listener's is off. */
  readonly mutualAuthentication?: readonly MutualAuthEntry[];
  /** Gateway only: a LoadBalancerConfiguration's spec.listenerConfigurations (listener-configuration.ts); never from an annotation. */
  readonly listenerConfigurations?: readonly ListenerConfiguration[];
  readonly actions: Readonly<Record<string, AlbAction>>;
  readonly conditions: Readonly<Record<string, readonly AlbCondition[]>>;
}

// ---- value parsers -------------------------------------------------------------

const LB_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?$/;

function lbName(): ValueParser<string> {
  return (raw) => {
    if (raw.length > 32) return { ok: false, reason: `${JSON.stringify(raw)} is longer than 32 characters` };
    if (!LB_NAME.test(raw)) return { ok: false, reason: `${JSON.stringify(raw)} must be letters, digits and hyphens, not starting or ending with a hyphen` };
    if (raw.toLowerCase().startsWith('internal-')) return { ok: false, reason: `${JSON.stringify(raw)} must not start with "internal-"` };
    return { ok: true, value: raw };
  };
}

const arn = (service: string) =>
  string({ pattern: new RegExp(`^arn:aws[a-z-]*:${service}:`), expected: `an ARN (arn:aws:${service}:...)` });

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** ELBv2 matcher codes: `200`, `200,202`, `200-299`, within the range the load balancer type takes. */
const CODES = /^\d{1,3}(-\d{1,3})?(,\d{1,3}(-\d{1,3})?)*$/;
function successCodes(type: LoadBalancerType): ValueParser<string> {
  return refined(string({ pattern: CODES, expected: 'HTTP codes such as 200, 200,202 or 200-299' }), (codes) => successCodesProblem(type, codes));
}

const TAG_KEY = string({ maxLength: 128, pattern: /^(?!lbc\.dev\/|aws:)/, expected: 'a key outside the reserved lbc.dev/ and aws: prefixes' });
const tags = () => refined(keyValueList({ key: TAG_KEY }), tagsProblem);
const lbAttributes = (type: LoadBalancerType) => refined(keyValueList(), (a) => loadBalancerAttributesProblem(type, a));
const tgAttributes = (type: LoadBalancerType) => refined(keyValueList(), (a) => targetGroupAttributesProblem(type, a));
/** CreateTargetGroup's HealthCheckPath: 1-1024 characters. */
const hcPath = () => refined(httpPath(), (p) => (p.length > 1024 ? 'longer than 1024 characters' : undefined));
// Predefined ELBv2 security policies only (ELBSecurityPolicy-…); there are no custom ones.
const sslPolicy = () => string({ maxLength: 255, pattern: /^ELBSecurityPolicy-[A-Za-z0-9-]+$/, expected: 'a predefined ELB security policy (ELBSecurityPolicy-...)' });
/** Subnet and security group IDs, or their Name tags (EC2 tag values: at most 256 characters). */
const idsOrNames = () => stringList(string({ maxLength: 256 }));
const prefixListIds = () => stringList(string({ pattern: /^pl-[0-9a-f]+$/, expected: 'a managed prefix list ID (pl-...)' }));

/** Deprecated spellings, as aws-load-balancer-controller still honours them. */
function ports(): ValueParser<{ all: boolean; ports: number[]; names: string[] }> {
  const list = stringList();
  const numeric = port();
  return (raw) => {
    const r = list(raw);
    if (!r.ok) return r;
    const out = { all: false, ports: [] as number[], names: [] as string[] };
    for (const item of r.value) {
      if (item === '*') out.all = true;
      else if (/^\d+$/.test(item)) {
        const p = numeric(item);
        if (!p.ok) return p;
        out.ports.push(p.value);
      } else out.names.push(item);
    }
    return { ok: true, value: out };
  };
}

const listenPortsSchema = z
  .array(z.record(z.string(), z.number().int().min(1).max(65535)))
  .min(1)
  .superRefine((items, ctx) => {
    items.forEach((m, i) => {
      const keys = Object.keys(m);
      if (keys.length !== 1 || (keys[0] !== 'HTTP' && keys[0] !== 'HTTPS')) {
        ctx.addIssue({ code: 'custom', path: [i], message: 'each item must be one {"HTTP": port} or {"HTTPS": port}' });
      }
    });
  });

// ---- schemas -------------------------------------------------------------------

const hcProtocol = oneOf(['TCP', 'HTTP', 'HTTPS'] as const, { caseInsensitive: true });

export const serviceAnnotationSchema = {
  type: annotation(`${S}type`, oneOf(['external', 'nlb', 'nlb-ip'] as const)),
  targetType: annotation(`${S}nlb-target-type`, oneOf(['instance', 'ip'] as const)),
  scheme: annotation(`${S}scheme`, oneOf(['internal', 'internet-facing'] as const)),
  internal: annotation(`${S}internal`, bool()),
  name: annotation(`${S}name`, lbName()),
  subnets: annotation(`${S}subnets`, idsOrNames()),
  ipAddressType: annotation(`${S}ip-address-type`, oneOf(['ipv4', 'dualstack'] as const)).withDefault('ipv4'),
  eipAllocations: annotation(`${S}eip-allocations`, stringList(string({ pattern: /^eipalloc-[0-9a-f]+$/, expected: 'an EIP allocation id (eipalloc-...)' }))),
  privateIpv4Addresses: annotation(`${S}private-ipv4-addresses`, stringList(string({ pattern: IPV4, expected: 'an IPv4 address' }))),
  sslCert: annotation(`${S}ssl-cert`, stringList(string({ pattern: /^arn:aws[a-z-]*:(acm|iam):/, expected: 'an ACM or IAM certificate ARN' }))),
  sslPorts: annotation(`${S}ssl-ports`, ports()),
  sslPolicy: annotation(`${S}ssl-negotiation-policy`, sslPolicy()).withDefault(DEFAULT_SSL_POLICY),
  backendProtocol: annotation(`${S}backend-protocol`, oneOf(['tcp', 'ssl'] as const, { caseInsensitive: true })),
  proxyProtocol: annotation(`${S}proxy-protocol`, oneOf(['*'] as const)),
  targetGroupAttributes: annotation(`${S}target-group-attributes`, tgAttributes('network')).withDefault({}),
  attributes: annotation(`${S}attributes`, lbAttributes('network')).withDefault({}),
  accessLogEnabled: annotation(`${S}access-log-enabled`, bool()),
  accessLogBucket: annotation(`${S}access-log-s3-bucket-name`, refined(string(), s3BucketNameProblem)),
  accessLogPrefix: annotation(`${S}access-log-s3-bucket-prefix`, refined(string(), logPrefixProblem)),
  crossZone: annotation(`${S}cross-zone-load-balancing-enabled`, bool()),
  hcProtocol: annotation(`${S}healthcheck-protocol`, hcProtocol),
  hcPort: annotation(`${S}healthcheck-port`, healthCheckPort()),
  hcPath: annotation(`${S}healthcheck-path`, hcPath()),
  hcInterval: annotation(`${S}healthcheck-interval`, int({ min: 5, max: 300 })),
  hcTimeout: annotation(`${S}healthcheck-timeout`, int({ min: 2, max: 120 })),
  hcHealthy: annotation(`${S}healthcheck-healthy-threshold`, int({ min: 2, max: 10 })),
  hcUnhealthy: annotation(`${S}healthcheck-unhealthy-threshold`, int({ min: 2, max: 10 })),
  hcSuccessCodes: annotation(`${S}healthcheck-success-codes`, successCodes('network')),
  tags: annotation(`${S}additional-resource-tags`, tags()).withDefault({}),
  securityGroups: annotation(`${S}security-groups`, idsOrNames()),
  manageBackendSecurityGroupRules: annotation(`${S}manage-backend-security-group-rules`, bool()),
  prefixLists: annotation(`${S}security-group-prefix-lists`, prefixListIds()),
  targetNodeLabels: annotation(`${S}target-node-labels`, keyValueList()),
  tcpUdpListener: annotation(`${S}enable-tcp-udp-listener`, bool()),
};

export const ingressAnnotationSchema = {
  scheme: annotation(`${A}scheme`, oneOf(['internal', 'internet-facing'] as const)).withDefault('internal'),
  name: annotation(`${A}load-balancer-name`, lbName()),
  subnets: annotation(`${A}subnets`, idsOrNames()),
  subnetTags: annotation(CLASS_PARAMS_SUBNET_TAGS, json(z.record(z.string(), z.array(z.string())))),
  ipAddressType: annotation(`${A}ip-address-type`, oneOf(['ipv4', 'dualstack'] as const)).withDefault('ipv4'),
  securityGroups: annotation(`${A}security-groups`, idsOrNames()),
  manageBackendSecurityGroupRules: annotation(`${A}manage-backend-security-group-rules`, bool()),
  prefixLists: annotation(`${A}security-group-prefix-lists`, prefixListIds()),
  attributes: annotation(`${A}load-balancer-attributes`, lbAttributes('application')).withDefault({}),
  listenPorts: annotation(`${A}listen-ports`, json(listenPortsSchema)),
  sslRedirect: annotation(`${A}ssl-redirect`, port()),
  inboundCidrs: annotation(`${A}inbound-cidrs`, cidrList()),
  // ALBC: only regional web ACLs attach to an ALB; `none` is its sentinel for "remove".
  wafv2AclArn: annotation(
    `${A}wafv2-acl-arn`,
    string({ pattern: /^(none|arn:aws[a-z-]*:wafv2:[a-z0-9-]+:\d{12}:regional\/webacl\/[^/]+\/[^/]+)$/, expected: 'a regional WAFv2 web ACL ARN (arn:aws:wafv2:<region>:<account>:regional/webacl/<name>/<id>) or none' }),
  ),
  shieldProtection: annotation(`${A}shield-advanced-protection`, bool()),
  mutualAuthentication: annotation(`${A}mutual-authentication`, mutualAuthentication()),
  certificateArn: annotation(`${A}certificate-arn`, stringList(arn('(acm|iam)'))),
  sslPolicy: annotation(`${A}ssl-policy`, sslPolicy()).withDefault(DEFAULT_SSL_POLICY),
  targetType: annotation(`${A}target-type`, oneOf(['instance', 'ip'] as const)),
  backendProtocol: annotation(`${A}backend-protocol`, oneOf(['HTTP', 'HTTPS'] as const, { caseInsensitive: true })),
  targetGroupAttributes: annotation(`${A}target-group-attributes`, tgAttributes('application')).withDefault({}),
  hcPort: annotation(`${A}healthcheck-port`, healthCheckPort()),
  hcProtocol: annotation(`${A}healthcheck-protocol`, oneOf(['HTTP', 'HTTPS'] as const, { caseInsensitive: true })),
  hcPath: annotation(`${A}healthcheck-path`, hcPath()),
  hcInterval: annotation(`${A}healthcheck-interval-seconds`, int({ min: 5, max: 300 })),
  hcTimeout: annotation(`${A}healthcheck-timeout-seconds`, int({ min: 2, max: 120 })),
  hcHealthy: annotation(`${A}healthy-threshold-count`, int({ min: 2, max: 10 })),
  hcUnhealthy: annotation(`${A}unhealthy-threshold-count`, int({ min: 2, max: 10 })),
  // Checked in parseIngress: HTTP codes, or gRPC codes with backend-protocol-version GRPC.
  hcSuccessCodes: annotation(`${A}success-codes`, string({ pattern: CODES, expected: 'codes such as 200, 200,202 or 200-299 (gRPC: 0-99)' })),
  protocolVersion: annotation(`${A}backend-protocol-version`, oneOf(['HTTP1', 'HTTP2', 'GRPC'] as const, { caseInsensitive: true })),
  tags: annotation(`${A}tags`, tags()).withDefault({}),
  targetNodeLabels: annotation(`${A}target-node-labels`, keyValueList()),
  ...authAnnotationSchema,
};

/**
 * Scope of the ALB annotations in an IngressGroup, from aws-load-balancer-controller's
 * docs/guide/ingress/annotations.md (v3.5): the target-group annotations (location
 * "Ingress,Service", MergeBehavior N/A) apply per Ingress and per backend, the Service's
 * value first; tags, listen-ports and certificate-arn are "Merge"; the rest "Exclusive".
 */
export const ingressAnnotationScopes: AnnotationScopes = {
  perTargetSet: [
    ingressAnnotationSchema.targetType,
    ingressAnnotationSchema.backendProtocol,
    ingressAnnotationSchema.protocolVersion,
    ingressAnnotationSchema.targetGroupAttributes,
    ingressAnnotationSchema.hcPort,
    ingressAnnotationSchema.hcProtocol,
    ingressAnnotationSchema.hcPath,
    ingressAnnotationSchema.hcInterval,
    ingressAnnotationSchema.hcTimeout,
    ingressAnnotationSchema.hcHealthy,
    ingressAnnotationSchema.hcUnhealthy,
    ingressAnnotationSchema.hcSuccessCodes,
    ingressAnnotationSchema.targetNodeLabels,
    // ALBC reads the auth annotations from svcAndIngAnnotations (auth_config_builder.go Build),
    // so they are per backend, the Service's value first, like the target-group ones.
    ...Object.values(authAnnotationSchema),
  ].flatMap((f) => f.names),
  merged: {
    [`${A}tags`]: 'stringMap',
    [`${A}certificate-arn`]: 'stringList',
  },
  // The group's listeners are the union of its members' ports, but each member's rules go
  // to its own ports only: model_builder.go run() computes listen ports per Ingress
  // (computeIngressListenPortConfigByPort) and gives each port's listener the rules of
  // ingListByPort[port]; one port with two protocols fails in mergeListenPortConfigs.
  perIngress: [`${A}listen-ports`],
};

const ACTIONS = `${A}actions.`;
const CONDITIONS = `${A}conditions.`;

/** The `actions.<name>` and `conditions.<name>` families, whose names the user chooses. */
function parseNamed<T>(annotations: Annotations, prefix: string, parse: ValueParser<T>, errors: AnnotationError[]): Record<string, T> {
  const out: Record<string, T> = {};
  for (const [key, raw] of Object.entries(annotations ?? {})) {
    if (!key.startsWith(prefix)) continue;
    const name = key.slice(prefix.length);
    if (name === '') {
      errors.push({ annotation: key, reason: 'needs a name after the dot' });
      continue;
    }
    const r = parse(raw.trim());
    if (r.ok) out[name] = r.value;
    else errors.push({ annotation: key, reason: r.reason });
  }
  return out;
}

function mergedHealthCheck(v: {
  hcProtocol?: 'TCP' | 'HTTP' | 'HTTPS' | undefined;
  hcPort?: HealthCheckPort | undefined;
  hcPath?: string | undefined;
  hcInterval?: number | undefined;
  hcTimeout?: number | undefined;
  hcHealthy?: number | undefined;
  hcUnhealthy?: number | undefined;
  hcSuccessCodes?: string | undefined;
}): HealthCheckOverrides {
  return {
    ...(v.hcProtocol !== undefined ? { protocol: v.hcProtocol } : {}),
    ...(v.hcPort !== undefined ? { port: v.hcPort } : {}),
    ...(v.hcPath !== undefined ? { path: v.hcPath } : {}),
    ...(v.hcInterval !== undefined ? { intervalSeconds: v.hcInterval } : {}),
    ...(v.hcTimeout !== undefined ? { timeoutSeconds: v.hcTimeout } : {}),
    ...(v.hcHealthy !== undefined ? { healthyThreshold: v.hcHealthy } : {}),
    ...(v.hcUnhealthy !== undefined ? { unhealthyThreshold: v.hcUnhealthy } : {}),
    ...(v.hcSuccessCodes !== undefined ? { successCodes: v.hcSuccessCodes } : {}),
  };
}

function parseService(annotations: Annotations): OptionsParseResult<AwsLbOptions> {
  const r = parseAnnotations(serviceAnnotationSchema, annotations);
  if (!r.ok) return { ok: false, errors: r.errors };
  const v = r.value;
  const errors: AnnotationError[] = [];
  // The deprecated -internal loses to -scheme when both are set, as upstream documents.
  // The in-tree value `nlb` keeps the in-tree default: cloud-provider-aws
  // (pkg/providers/v1/aws.go EnsureLoadBalancer) makes an internet-facing NLB unless
  // -internal says otherwise, so a Service moved from it is not made private by surprise;
  // ALBC's own `external`/`nlb-ip` default to internal.
  const byDefault: Scheme = v.type === 'nlb' ? 'internet-facing' : 'internal';
  const scheme: Scheme = v.scheme ?? (v.internal === undefined ? byDefault : v.internal ? 'internal' : 'internet-facing');
  let targetType: TargetType | undefined = v.targetType;
  if (v.type === 'nlb-ip') {
    if (v.targetType === 'instance') errors.push({ annotation: `${S}nlb-target-type`, reason: `is instance, but ${S}type nlb-ip means ip targets` });
    targetType = 'ip';
  } else if (v.type === 'nlb') targetType ??= 'instance';
  if (v.sslPorts && !v.sslCert) errors.push({ annotation: `${S}ssl-ports`, reason: `needs ${S}ssl-cert` });
  if (v.eipAllocations && scheme !== 'internet-facing') errors.push({ annotation: `${S}eip-allocations`, reason: 'needs an internet-facing load balancer' });
  if (v.privateIpv4Addresses && scheme !== 'internal') errors.push({ annotation: `${S}private-ipv4-addresses`, reason: 'needs an internal load balancer' });
  const hc = mergedHealthCheck(v);
  if (hc.protocol === 'TCP' && hc.path !== undefined) errors.push({ annotation: `${S}healthcheck-path`, reason: `needs ${S}healthcheck-protocol http or https` });
  if (errors.length > 0) return { ok: false, errors };

  // The single-attribute annotations predate -attributes and win ties, as upstream says.
  const lbAttributes: Record<string, string> = { ...v.attributes };
  if (v.accessLogEnabled !== undefined) lbAttributes['access_logs.s3.enabled'] = String(v.accessLogEnabled);
  if (v.accessLogBucket !== undefined) lbAttributes['access_logs.s3.bucket'] = v.accessLogBucket;
  if (v.accessLogPrefix !== undefined) lbAttributes['access_logs.s3.prefix'] = v.accessLogPrefix;
  if (v.crossZone !== undefined) lbAttributes['load_balancing.cross_zone.enabled'] = String(v.crossZone);

  const options: AwsLbOptions = {
    kind: 'Service',
    scheme,
    ...(v.name !== undefined ? { name: v.name } : {}),
    ...(v.subnets !== undefined && v.subnets.length > 0 ? { subnets: v.subnets } : {}),
    ipAddressType: v.ipAddressType,
    ...(v.eipAllocations !== undefined ? { eipAllocations: v.eipAllocations } : {}),
    ...(v.privateIpv4Addresses !== undefined ? { privateIpv4Addresses: v.privateIpv4Addresses } : {}),
    certificateArns: v.sslCert ?? [],
    // `*` matches no port in aws-load-balancer-controller (its docs say so); numbers do.
    ...(v.sslPorts !== undefined ? { sslPorts: [...v.sslPorts.ports, ...v.sslPorts.names] } : {}),
    sslPolicy: v.sslPolicy,
    ...(v.backendProtocol !== undefined ? { backendProtocol: v.backendProtocol === 'ssl' ? ('TLS' as const) : ('TCP' as const) } : {}),
    proxyProtocol: v.proxyProtocol === '*',
    targetGroupAttributes: v.targetGroupAttributes,
    loadBalancerAttributes: lbAttributes,
    healthCheck: hc,
    tags: v.tags,
    ...(v.securityGroups !== undefined && v.securityGroups.length > 0 ? { securityGroups: v.securityGroups } : {}),
    // As aws-load-balancer-controller: on by default with lbc's own frontend group, off
    // by default with the user's groups (their rules are the user's business then).
    manageBackendSecurityGroupRules: v.manageBackendSecurityGroupRules ?? !(v.securityGroups !== undefined && v.securityGroups.length > 0),
    ...(v.prefixLists !== undefined && v.prefixLists.length > 0 ? { prefixLists: v.prefixLists } : {}),
    ...(v.targetNodeLabels !== undefined ? { targetNodeLabels: v.targetNodeLabels } : {}),
    ...(v.tcpUdpListener !== undefined ? { tcpUdpListener: v.tcpUdpListener } : {}),
    actions: {},
    conditions: {},
  };
  return { ok: true, options, ...(targetType !== undefined ? { targetType } : {}) };
}

function parseIngress(annotations: Annotations): OptionsParseResult<AwsLbOptions> {
  const r = parseAnnotations(ingressAnnotationSchema, annotations);
  const errors: AnnotationError[] = r.ok ? [] : [...r.errors];
  const actions = parseNamed(annotations, ACTIONS, json(albActionSchema), errors);
  const conditions = parseNamed(annotations, CONDITIONS, json(albConditionSchema), errors);
  if (!r.ok) return { ok: false, errors };
  const v = r.value;
  const listenPorts: ListenPort[] | undefined = v.listenPorts?.flatMap((m) =>
    Object.entries(m).map(([protocol, p]) => ({ protocol: protocol as ListenPort['protocol'], port: p })),
  );
  if (listenPorts) {
    const seen = new Set<number>();
    for (const l of listenPorts) {
      if (seen.has(l.port)) errors.push({ annotation: `${A}listen-ports`, reason: `port ${l.port} is listed twice` });
      seen.add(l.port);
    }
  }
  if (v.hcSuccessCodes !== undefined) {
    const problem = successCodesProblem(v.protocolVersion === 'GRPC' ? 'grpc' : 'application', v.hcSuccessCodes);
    if (problem) errors.push({ annotation: `${A}success-codes`, reason: problem });
  }
  if (v.sslRedirect !== undefined && listenPorts && !listenPorts.some((l) => l.protocol === 'HTTPS' && l.port === v.sslRedirect)) {
    errors.push({ annotation: `${A}ssl-redirect`, reason: `port ${v.sslRedirect} is not an HTTPS port of ${A}listen-ports` });
  }
  // ALBC sets an entry only on an HTTPS listener of that port (computeIngressListenPortConfigByPort)
  // and drops the others without a word; lbc refuses them, as asking for mutual TLS where
  // none can be is not something to ignore. The group's own ports are checked at synthesis.
  for (const m of v.mutualAuthentication ?? []) {
    if (listenPorts && !listenPorts.some((l) => l.protocol === 'HTTPS' && l.port === m.port)) {
      errors.push({ annotation: `${A}mutual-authentication`, reason: `port ${m.port} is not an HTTPS port of ${A}listen-ports; ALB authenticates clients on HTTPS listeners only` });
    }
  }
  // One group member's class params select subnets by tags, another member names them (ALBC
  // model_build_load_balancer.go buildLoadBalancerSubnetMappings refuses the same).
  if (v.subnets !== undefined && v.subnetTags !== undefined) {
    errors.push({ annotation: `${A}subnets`, reason: 'conflicting subnet specifications: IngressClassParams versus annotation (the class\'s spec.subnets.tags selects the subnets of this group)' });
  }
  const auth = authOf(v, errors);
  if (errors.length > 0) return { ok: false, errors };
  const options: AwsLbOptions = {
    kind: 'Ingress',
    scheme: v.scheme,
    ...(v.name !== undefined ? { name: v.name } : {}),
    ...(v.subnets !== undefined && v.subnets.length > 0 ? { subnets: v.subnets } : {}),
    ...(v.subnetTags !== undefined ? { subnetTags: v.subnetTags } : {}),
    ipAddressType: v.ipAddressType,
    certificateArns: v.certificateArn ?? [],
    sslPolicy: v.sslPolicy,
    ...(v.backendProtocol !== undefined ? { backendProtocol: v.backendProtocol } : {}),
    ...(v.protocolVersion !== undefined ? { protocolVersion: v.protocolVersion } : {}),
    proxyProtocol: false,
    targetGroupAttributes: v.targetGroupAttributes,
    loadBalancerAttributes: v.attributes,
    healthCheck: mergedHealthCheck(v),
    tags: v.tags,
    ...(v.securityGroups !== undefined && v.securityGroups.length > 0 ? { securityGroups: v.securityGroups } : {}),
    // As aws-load-balancer-controller: on by default with lbc's own frontend group, off
    // by default with the user's groups (their rules are the user's business then).
    manageBackendSecurityGroupRules: v.manageBackendSecurityGroupRules ?? !(v.securityGroups !== undefined && v.securityGroups.length > 0),
    ...(v.prefixLists !== undefined && v.prefixLists.length > 0 ? { prefixLists: v.prefixLists } : {}),
    ...(v.targetNodeLabels !== undefined ? { targetNodeLabels: v.targetNodeLabels } : {}),
    ...(listenPorts !== undefined ? { listenPorts } : {}),
    ...(v.sslRedirect !== undefined ? { sslRedirect: v.sslRedirect } : {}),
    ...(v.inboundCidrs !== undefined ? { inboundCidrs: v.inboundCidrs } : {}),
    ...(v.wafv2AclArn !== undefined ? { wafv2AclArn: v.wafv2AclArn } : {}),
    ...(v.shieldProtection !== undefined ? { shieldProtection: v.shieldProtection } : {}),
    ...(auth !== undefined ? { auth } : {}),
    ...(v.mutualAuthentication !== undefined ? { mutualAuthentication: v.mutualAuthentication } : {}),
    actions,
    conditions,
  };
  return { ok: true, options, ...(v.targetType !== undefined ? { targetType: v.targetType } : {}) };
}

/** Read by the controller itself (IngressGroup membership), not by the options. */
const READ_ELSEWHERE = [`${A}group.name`, `${A}group.order`];

/**
 * Annotations that protect the application but that lbc does not apply, each with why:
 * exposing the object without them would open to everyone what the user meant to close,
 * so the object stops here instead.
 */
const PROTECTIVE: Readonly<Record<string, string>> = {
  // ALBC still lists waf-acl-id (WAF Classic regional, wafregional:AssociateWebACL), but AWS
  // ended WAF Classic on 30 September 2025: no web ACL of it can be made or associated now.
  [`${A}waf-acl-id`]: `names a WAF Classic web ACL, and AWS WAF Classic has reached its end of support (30 September 2025); migrate the ACL to WAFv2 and set ${A}wafv2-acl-arn`,
  [`${A}web-acl-id`]: `names a WAF Classic web ACL (the old spelling of waf-acl-id), and AWS WAF Classic has reached its end of support (30 September 2025); migrate the ACL to WAFv2 and set ${A}wafv2-acl-arn`,
};

/** Levenshtein distance, bounded: enough to name the annotation a typo meant. */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0] ?? 0;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j] ?? 0;
      row[j] = Math.min(cur + 1, (row[j - 1] ?? 0) + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length] ?? 0;
}

/** The known annotation a key most likely meant (edit distance at most 2), if any. */
function meant(key: string, known: readonly string[]): string | undefined {
  let best: { k: string; d: number } | undefined;
  for (const k of known) {
    const d = distance(key, k);
    if (d <= 2 && (!best || d < best.d)) best = { k, d };
  }
  return best?.k;
}

/**
 * Keys under the object kind's AWS prefix that nothing reads: protective ones are errors
 * (above), the rest are returned to be warned about, with the annotation a typo meant.
 */
function unread(annotations: Readonly<Record<string, string>>, kind: LbKind): { ignored: string[]; errors: AnnotationError[] } {
  const prefix = kind === 'Service' ? S : A;
  const schema = kind === 'Service' ? serviceAnnotationSchema : ingressAnnotationSchema;
  const known = [...annotationNames(schema), ...(kind === 'Ingress' ? READ_ELSEWHERE : [])];
  const ignored: string[] = [];
  const errors: AnnotationError[] = [];
  for (const key of Object.keys(annotations).sort()) {
    if (!key.startsWith(prefix) || known.includes(key)) continue;
    if (kind === 'Ingress' && (key.startsWith(ACTIONS) || key.startsWith(CONDITIONS))) continue;
    const refusal = PROTECTIVE[key];
    if (refusal !== undefined) {
      errors.push({ annotation: key, reason: refusal });
      continue;
    }
    const guess = meant(key, known);
    ignored.push(guess ? `${key}: not an annotation lbc reads (did you mean ${guess}?); it is ignored` : `${key}: not implemented by lbc; it is ignored`);
  }
  return { ignored, errors };
}

/** The provider's parseOptions: Service annotations for Services, ALB ones for Ingresses. */
export function parseAwsOptions(annotations: Readonly<Record<string, string>>, kind: LbKind): OptionsParseResult<AwsLbOptions> {
  // A Gateway's ALB reads the Ingress (alb.ingress.kubernetes.io/) load-balancer annotations
  // on the Gateway; what only an Ingress can mean is refused by the Gateway synthesizer.
  const parsed = kind === 'Service' ? parseService(annotations) : parseIngress(annotations);
  const r = kind === 'Gateway' && parsed.ok ? { ...parsed, options: { ...parsed.options, kind } } : parsed;
  const u = unread(annotations, kind);
  if (!r.ok) return u.errors.length > 0 ? { ok: false, errors: [...r.errors, ...u.errors] } : r;
  if (u.errors.length > 0) return { ok: false, errors: u.errors };
  return u.ignored.length > 0 ? { ...r, options: { ...r.options, ignoredAnnotations: u.ignored }, unread: u.ignored } : r;
}

/** Options as if no annotation were set, for specs built without the provider's parser. */
export function defaultAwsOptions(kind: LbKind): AwsLbOptions {
  const r = parseAwsOptions({}, kind);
  if (!r.ok) throw new Error('default AWS options must parse');
  return r.options;
}
