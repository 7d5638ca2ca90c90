// lbc's own annotations (prefix lbc.dev/), plus the provider-neutral upstream names it
// honours. Provider-specific ones (AWS, GCE, MetalLB) live with their providers.
import {
  annotation,
  cidrList,
  duration,
  httpPath,
  int,
  keyValueList,
  oneOf,
  port,
  string,
  stringList,
  type ParseOutcome,
  type ValueParser,
} from './annotations.js';
import { RESERVED_TAG_PREFIX, type HealthCheckPort } from './spec.js';

export const ANNOTATION_TARGET_TYPE = 'lbc.dev/target-type';
export const ANNOTATION_SOURCE_RANGES = 'lbc.dev/load-balancer-source-ranges';
/** Upstream's name, read by the in-tree cloud providers. */
export const ANNOTATION_UPSTREAM_SOURCE_RANGES = 'service.beta.kubernetes.io/load-balancer-source-ranges';
export const ANNOTATION_TAGS = 'lbc.dev/tags';
export const ANNOTATION_HC_PROTOCOL = 'lbc.dev/health-check-protocol';
export const ANNOTATION_HC_PORT = 'lbc.dev/health-check-port';
export const ANNOTATION_HC_PATH = 'lbc.dev/health-check-path';
export const ANNOTATION_HC_INTERVAL = 'lbc.dev/health-check-interval';
export const ANNOTATION_HC_TIMEOUT = 'lbc.dev/health-check-timeout';
export const ANNOTATION_HC_HEALTHY = 'lbc.dev/health-check-healthy-threshold';
export const ANNOTATION_HC_UNHEALTHY = 'lbc.dev/health-check-unhealthy-threshold';
export const ANNOTATION_GROUP_NAME = 'lbc.dev/group.name';
export const ANNOTATION_ALB_GROUP_NAME = 'alb.ingress.kubernetes.io/group.name';
export const ANNOTATION_GROUP_ORDER = 'lbc.dev/group.order';
export const ANNOTATION_ALB_GROUP_ORDER = 'alb.ingress.kubernetes.io/group.order';
export const ANNOTATION_CERTIFICATE_IDS = 'lbc.dev/certificate-ids';

/** Whole seconds, written as a duration ("10s", "1m") or a bare number of seconds. */
export function seconds(opts: { min: number; max: number }): ValueParser<number> {
  const asMs = duration({ minMs: opts.min * 1000, maxMs: opts.max * 1000 });
  return (raw): ParseOutcome<number> => {
    const r = asMs(raw);
    if (!r.ok) return r;
    return r.value % 1000 === 0 ? { ok: true, value: r.value / 1000 } : { ok: false, reason: `${JSON.stringify(raw)} is not a whole number of seconds` };
  };
}

export function healthCheckPort(): ValueParser<HealthCheckPort> {
  const numeric = port();
  return (raw) => (raw === 'traffic-port' ? { ok: true, value: 'traffic-port' } : numeric(raw));
}

const TAG_KEY = string({ maxLength: 127, pattern: /^(?!lbc\.dev\/)/, expected: `a key outside the reserved ${RESERVED_TAG_PREFIX} prefix` });

export const healthCheckAnnotations = {
  hcProtocol: annotation(ANNOTATION_HC_PROTOCOL, oneOf(['TCP', 'HTTP', 'HTTPS'] as const)),
  hcPort: annotation(ANNOTATION_HC_PORT, healthCheckPort()),
  hcPath: annotation(ANNOTATION_HC_PATH, httpPath()),
  hcInterval: annotation(ANNOTATION_HC_INTERVAL, seconds({ min: 1, max: 300 })),
  hcTimeout: annotation(ANNOTATION_HC_TIMEOUT, seconds({ min: 1, max: 120 })),
  hcHealthy: annotation(ANNOTATION_HC_HEALTHY, int({ min: 1, max: 10 })),
  hcUnhealthy: annotation(ANNOTATION_HC_UNHEALTHY, int({ min: 1, max: 10 })),
};

export const serviceAnnotations = {
  targetType: annotation(ANNOTATION_TARGET_TYPE, oneOf(['instance', 'ip'] as const)),
  sourceRanges: annotation([ANNOTATION_SOURCE_RANGES, ANNOTATION_UPSTREAM_SOURCE_RANGES], cidrList()),
  tags: annotation(ANNOTATION_TAGS, keyValueList({ key: TAG_KEY })).withDefault({}),
  ...healthCheckAnnotations,
};

const GROUP_NAME = string({
  maxLength: 63,
  pattern: /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/,
  expected: 'a group name (lower-case letters, digits, - and ., starting and ending with a letter or digit)',
});

/** Read per Ingress: which group it joins and where its rules go in the group. */
export const ingressMemberAnnotations = {
  groupName: annotation([ANNOTATION_GROUP_NAME, ANNOTATION_ALB_GROUP_NAME], GROUP_NAME),
  groupOrder: annotation([ANNOTATION_GROUP_ORDER, ANNOTATION_ALB_GROUP_ORDER], int({ min: -1000, max: 1000 })).withDefault(0),
};

/** Read once per group (merged across members; members must not disagree). */
export const ingressGroupAnnotations = {
  targetType: annotation(ANNOTATION_TARGET_TYPE, oneOf(['instance', 'ip'] as const)),
  sourceRanges: annotation(ANNOTATION_SOURCE_RANGES, cidrList()),
  tags: annotation(ANNOTATION_TAGS, keyValueList({ key: TAG_KEY })).withDefault({}),
  certificateIds: annotation(ANNOTATION_CERTIFICATE_IDS, stringList()).withDefault([]),
  ...healthCheckAnnotations,
};
