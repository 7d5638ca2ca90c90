// The health check of a target set: a default chosen by the builder from the object
// (e.g. kube-proxy's healthz for externalTrafficPolicy Local), then the user's
// lbc.dev/health-check-* annotations on top.
import type { AnnotationValues } from '../model/annotations.js';
import {
  ANNOTATION_HC_INTERVAL,
  ANNOTATION_HC_PATH,
  ANNOTATION_HC_PROTOCOL,
  ANNOTATION_HC_TIMEOUT,
  type healthCheckAnnotations,
} from '../model/lbc-annotations.js';
import type { HealthCheck, HealthCheckPort, HealthCheckTiming } from '../model/spec.js';
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
): { ok: true; healthCheck: HealthCheck } | { ok: false; errors: ModelError[] } {
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
  if (protocol === 'TCP') return { ok: true, healthCheck: { protocol, port, ...timing } };
  const path = o.hcPath ?? (base.protocol === 'TCP' ? '/' : base.path);
  return { ok: true, healthCheck: { protocol, port, path, ...timing } };
}
