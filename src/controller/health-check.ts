// The health check of a target set: a default chosen by the builder from the object
// (e.g. kube-proxy's healthz for externalTrafficPolicy Local), then the user's
// lbc.dev/health-check-* annotations on top. Which fields the builder filled in travels
// with the target set (TargetSet.healthCheckDefaulted), so a provider with other defaults
// can tell them from the user's.
import type { AnnotationValues } from '../model/annotations.js';
import {
  ANNOTATION_HC_INTERVAL,
  ANNOTATION_HC_PATH,
  ANNOTATION_HC_PROTOCOL,
  ANNOTATION_HC_TIMEOUT,
  type healthCheckAnnotations,
} from '../model/lbc-annotations.js';
import type { DefaultedFields, HealthCheck, HealthCheckField, HealthCheckPort, HealthCheckTiming } from '../model/spec.js';
import type { ModelError } from '../model/validation.js';

export const DEFAULT_HEALTH_CHECK_TIMING: HealthCheckTiming = {
  intervalSeconds: 10,
  timeoutSeconds: 5,
  healthyThreshold: 2,
  unhealthyThreshold: 3,
};

export type HealthCheckOverrides = AnnotationValues<typeof healthCheckAnnotations>;

export type HealthCheckBase =
  | { readonly protocol: 'TCP'; readonly port: HealthCheckPort }
  | { readonly protocol: 'HTTP' | 'HTTPS'; readonly port: HealthCheckPort; readonly path: string };

export function applyHealthCheckOverrides(
  base: HealthCheckBase,
  o: HealthCheckOverrides,
): { ok: true; healthCheck: HealthCheck; defaulted: DefaultedFields } | { ok: false; errors: ModelError[] } {
  const errors: ModelError[] = [];
  const protocol = o.hcProtocol ?? base.protocol;
  const port = o.hcPort ?? base.port;
  const timing: HealthCheckTiming = {
    intervalSeconds: o.hcInterval ?? DEFAULT_HEALTH_CHECK_TIMING.intervalSeconds,
    timeoutSeconds: o.hcTimeout ?? DEFAULT_HEALTH_CHECK_TIMING.timeoutSeconds,
    healthyThreshold: o.hcHealthy ?? DEFAULT_HEALTH_CHECK_TIMING.healthyThreshold,
    unhealthyThreshold: o.hcUnhealthy ?? DEFAULT_HEALTH_CHECK_TIMING.unhealthyThreshold,
  };
  if (timing.timeoutSeconds > timing.intervalSeconds) {
    errors.push({
      annotation: o.hcTimeout !== undefined ? ANNOTATION_HC_TIMEOUT : ANNOTATION_HC_INTERVAL,
      reason: `timeout ${timing.timeoutSeconds}s is longer than the interval ${timing.intervalSeconds}s`,
    });
  }
  if (protocol === 'TCP' && o.hcPath !== undefined) {
    errors.push({
      annotation: ANNOTATION_HC_PATH,
      reason: `a path needs an HTTP or HTTPS health check (${ANNOTATION_HC_PROTOCOL} is TCP)`,
    });
  }
  if (errors.length > 0) return { ok: false, errors };
  const defaulted = defaultedOf({
    protocol: o.hcProtocol,
    port: o.hcPort,
    intervalSeconds: o.hcInterval,
    timeoutSeconds: o.hcTimeout,
    healthyThreshold: o.hcHealthy,
    unhealthyThreshold: o.hcUnhealthy,
  });
  if (protocol === 'TCP') return { ok: true, healthCheck: { protocol, port, ...timing }, defaulted };
  const path = o.hcPath ?? (base.protocol === 'TCP' ? '/' : base.path);
  return { ok: true, healthCheck: { protocol, port, path, ...timing }, defaulted: { ...defaulted, ...defaultedOf({ path: o.hcPath }) } };
}

/** The fields the user left unset, as DefaultedFields marks them. */
function defaultedOf<F extends HealthCheckField>(asked: { readonly [K in F]: unknown }): DefaultedFields<F> {
  const out: { [K in F]?: true } = {};
  for (const f of Object.keys(asked) as F[]) if (asked[f] === undefined) out[f] = true;
  return out;
}

/** Every field, for an object whose user chooses nothing about its health check (a Gateway's backends). */
export const ALL_DEFAULTED: DefaultedFields = defaultedOf({
  protocol: undefined,
  port: undefined,
  path: undefined,
  intervalSeconds: undefined,
  timeoutSeconds: undefined,
  healthyThreshold: undefined,
  unhealthyThreshold: undefined,
});

/** A target set's healthCheckDefaulted, left out when the user set every field: one way to say "none". */
export function withDefaulted(defaulted: DefaultedFields | undefined): { healthCheckDefaulted?: DefaultedFields } {
  return defaulted !== undefined && Object.keys(defaulted).length > 0 ? { healthCheckDefaulted: defaulted } : {};
}

/**
 * A TCP or UDP backend is probed by connecting to its traffic port, as a Service's are;
 * the timing the caller chose still applies. Protocol and port are the builder's choice
 * then, whatever the user asked, so they count as defaulted; a TCP check has no path.
 */
export function trafficPortTcp(hc: HealthCheck, defaulted: DefaultedFields | undefined): { healthCheck: HealthCheck; defaulted?: DefaultedFields } {
  const timing: HealthCheckTiming = {
    intervalSeconds: hc.intervalSeconds,
    timeoutSeconds: hc.timeoutSeconds,
    healthyThreshold: hc.healthyThreshold,
    unhealthyThreshold: hc.unhealthyThreshold,
  };
  const healthCheck: HealthCheck = { ...timing, protocol: 'TCP', port: 'traffic-port' };
  if (defaulted === undefined) return { healthCheck };
  const tcp: { [K in HealthCheckField]?: true } = { protocol: true, port: true };
  for (const k of Object.keys(timing) as (keyof HealthCheckTiming)[]) if (defaulted[k]) tcp[k] = true;
  return { healthCheck, defaulted: tcp };
}
