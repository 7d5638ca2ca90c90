// Health checks. L4 load balancers use regional checks (backend-service based network
// and internal LBs require or accept them); Ingress backends use global ones. Every
// field lbc sets can change in place (one PUT), so a health check is never replaced.
//
// The cluster-wide node check (`k8s-<cluster-id>-node`, kube-proxy's /healthz on 10256)
// is shared by every Service with externalTrafficPolicy Cluster, as upstream; a Service
// with Local gets its own check on its healthCheckNodePort, named like the LB.
import type { protos } from '@google-cloud/compute';
import type { HealthCheck as SpecHealthCheck } from '../../model/spec.js';
import { isNotFound } from './errors.js';
import { namesFilter, type Diff, type Kind } from './kind.js';

export type HealthCheck = protos.google.cloud.compute.v1.IHealthCheck;

/** kube-proxy's health endpoint, as GetNodesHealthCheckPort/Path. */
export const NODE_HEALTH_CHECK_PORT = 10256;
export const NODE_HEALTH_CHECK_PATH = '/healthz';
/** The GCE cloud provider's L4 check timing (gceHcCheckIntervalSeconds and friends). */
export const L4_SHARED_TIMING = { checkIntervalSec: 8, timeoutSec: 1, healthyThreshold: 1, unhealthyThreshold: 3 } as const;

interface Shape {
  type: string;
  port: number | undefined;
  portSpecification: string | undefined;
  path: string | undefined;
  checkIntervalSec: number | undefined;
  timeoutSec: number | undefined;
  healthyThreshold: number | undefined;
  unhealthyThreshold: number | undefined;
  description: string;
}

function shape(hc: HealthCheck): Shape {
  const type = String(hc.type ?? '');
  const inner = type === 'HTTPS' ? hc.httpsHealthCheck : type === 'HTTP2' ? hc.http2HealthCheck : type === 'TCP' ? hc.tcpHealthCheck : hc.httpHealthCheck;
  const path = type === 'TCP' ? undefined : ((inner as { requestPath?: string | null } | null | undefined)?.requestPath ?? '/');
  return {
    type,
    port: inner?.port ?? undefined,
    // GCE may answer USE_FIXED_PORT for a check made with a port: the same thing.
    portSpecification: inner?.portSpecification != null && String(inner.portSpecification) !== 'USE_FIXED_PORT' ? String(inner.portSpecification) : undefined,
    path,
    checkIntervalSec: hc.checkIntervalSec ?? undefined,
    timeoutSec: hc.timeoutSec ?? undefined,
    healthyThreshold: hc.healthyThreshold ?? undefined,
    unhealthyThreshold: hc.unhealthyThreshold ?? undefined,
    description: hc.description ?? '',
  };
}

function diffHealthCheck(want: HealthCheck, have: HealthCheck): Diff {
  const a = shape(want);
  const b = shape(have);
  const fields = (Object.keys(a) as (keyof Shape)[]).filter((k) => a[k] !== b[k]);
  return { fields };
}

/**
 * A check body from its parts. Port 'serving': each endpoint is probed on its own port, as
 * ingress-gce checks NEG backends (USE_SERVING_PORT, no port), since pods of one Service may
 * listen on different numbers for a named targetPort.
 */
export function healthCheckBody(p: {
  protocol: 'TCP' | 'HTTP' | 'HTTPS' | 'HTTP2';
  port: number | 'serving';
  path?: string;
  description: string;
  timing: { checkIntervalSec: number; timeoutSec: number; healthyThreshold: number; unhealthyThreshold: number };
}): HealthCheck {
  const base: HealthCheck = { description: p.description, type: p.protocol, ...p.timing };
  const port = p.port === 'serving' ? { portSpecification: 'USE_SERVING_PORT' } : { port: p.port };
  if (p.protocol === 'TCP') return { ...base, tcpHealthCheck: port };
  const http = { ...port, requestPath: p.path ?? '/' };
  if (p.protocol === 'HTTP2') return { ...base, http2HealthCheck: http };
  return p.protocol === 'HTTPS' ? { ...base, httpsHealthCheck: http } : { ...base, httpHealthCheck: http };
}

export function timingOf(hc: SpecHealthCheck): { checkIntervalSec: number; timeoutSec: number; healthyThreshold: number; unhealthyThreshold: number } {
  return { checkIntervalSec: hc.intervalSeconds, timeoutSec: hc.timeoutSeconds, healthyThreshold: hc.healthyThreshold, unhealthyThreshold: hc.unhealthyThreshold };
}

export const regionalHealthCheckKind: Kind<HealthCheck> = {
  resource: 'HealthCheck',
  rank: 20,
  get: ({ compute, signal }, key) =>
    compute.readOptional('regionHealthChecks.get', key.name, signal, (o) =>
      compute.regionHealthChecks.get({ project: compute.project, region: compute.region, healthCheck: key.name }, o),
    ),
  listNamed: ({ compute, signal }, names) =>
    compute.list('regionHealthChecks.list', names.join(','), signal, (o) =>
      compute.regionHealthChecks.list({ project: compute.project, region: compute.region, filter: namesFilter(names) }, o),
    ),
  insert: ({ compute, signal }, key, body) =>
    compute.write('regionHealthChecks.insert', key.name, signal, (o) =>
      compute.regionHealthChecks.insert({ project: compute.project, region: compute.region, healthCheckResource: { ...body, name: key.name } }, o),
    ),
  remove: async ({ compute, signal }, key) => {
    try {
      await compute.write('regionHealthChecks.delete', key.name, signal, (o) =>
        compute.regionHealthChecks.delete({ project: compute.project, region: compute.region, healthCheck: key.name }, o),
      );
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  },
  diff: diffHealthCheck,
  update: ({ compute, signal }, key, want) =>
    compute.write('regionHealthChecks.update', key.name, signal, (o) =>
      compute.regionHealthChecks.update(
        { project: compute.project, region: compute.region, healthCheck: key.name, healthCheckResource: { ...want, name: key.name } },
        o,
      ),
    ),
};

export const globalHealthCheckKind: Kind<HealthCheck> = {
  resource: 'GlobalHealthCheck',
  rank: 20,
  get: ({ compute, signal }, key) =>
    compute.readOptional('healthChecks.get', key.name, signal, (o) => compute.healthChecks.get({ project: compute.project, healthCheck: key.name }, o)),
  insert: ({ compute, signal }, key, body) =>
    compute.write('healthChecks.insert', key.name, signal, (o) =>
      compute.healthChecks.insert({ project: compute.project, healthCheckResource: { ...body, name: key.name } }, o),
    ),
  remove: async ({ compute, signal }, key) => {
    try {
      await compute.write('healthChecks.delete', key.name, signal, (o) => compute.healthChecks.delete({ project: compute.project, healthCheck: key.name }, o));
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  },
  diff: diffHealthCheck,
  update: ({ compute, signal }, key, want) =>
    compute.write('healthChecks.update', key.name, signal, (o) =>
      compute.healthChecks.update({ project: compute.project, healthCheck: key.name, healthCheckResource: { ...want, name: key.name } }, o),
    ),
};
