// Pod targets from EndpointSlices, read the way kube-proxy reads them: slices belong to a
// Service by the kubernetes.io/service-name label (so selectorless Services with
// hand-made slices work the same), a slice port belongs to a Service port by NAME, and
// an endpoint serves unless conditions.ready is explicitly false (nil means ready).
import type { V1EndpointSlice, V1Pod } from '@kubernetes/client-node';
import { normalizeIp } from '../model/ip.js';
import type { PodTarget } from '../model/spec.js';

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

export function slicesOfService(slices: readonly V1EndpointSlice[], namespace: string, service: string): V1EndpointSlice[] {
  return slices.filter((s) => s.metadata?.namespace === namespace && s.metadata.labels?.[SERVICE_NAME_LABEL] === service);
}

/**
 * Ready endpoints for one Service port, de-duplicated (a pod can briefly sit in two
 * slices while the slice controller rebalances) and sorted by ip then port.
 */
export function podTargets(
  slices: readonly V1EndpointSlice[],
  servicePort: { readonly name?: string; readonly protocol?: string },
): PodTarget[] {
  const portName = servicePort.name ?? '';
  const protocol = servicePort.protocol ?? 'TCP';
  const byKey = new Map<string, PodTarget>();
  for (const slice of slices) {
    // FQDN slices name hosts, not pods; no LB can target them.
    if (slice.addressType !== 'IPv4' && slice.addressType !== 'IPv6') continue;
    const port = slice.ports?.find((p) => (p.name ?? '') === portName && (p.protocol ?? 'TCP') === protocol)?.port;
    if (port === undefined) continue;
    for (const ep of slice.endpoints ?? []) {
      if (ep.conditions?.ready === false) continue;
      // The API allows several addresses but says they are fungible; kube-proxy uses the first.
      const first = ep.addresses[0];
      const ip = first === undefined ? undefined : normalizeIp(first);
      if (ip === undefined) continue;
      const target: PodTarget = {
        ip,
        port,
        ...(ep.zone ? { zone: ep.zone } : {}),
        ...(ep.nodeName ? { nodeName: ep.nodeName } : {}),
      };
      byKey.set(`${ip}|${port}`, byKey.get(`${ip}|${port}`) ?? target);
    }
  }
  return [...byKey.values()].sort((a, b) => (a.ip < b.ip ? -1 : a.ip > b.ip ? 1 : a.port - b.port));
}

// ---- the Pod a backend's health check follows (ingress-gce's getHTTPProbe) ----------

export interface PodRef {
  readonly namespace: string;
  readonly name: string;
}

/**
 * The Pod whose readiness probe stands for a Service port's backends: of the ready
 * endpoints serving that port, the one whose Pod name sorts first, so the choice does
 * not move while the set of Pods stays the same. Undefined when no endpoint names a Pod.
 */
export function probePodOf(slices: readonly V1EndpointSlice[], servicePort: { readonly name?: string; readonly protocol?: string }): PodRef | undefined {
  const portName = servicePort.name ?? '';
  const protocol = servicePort.protocol ?? 'TCP';
  let best: PodRef | undefined;
  for (const slice of slices) {
    if (!slice.ports?.some((p) => (p.name ?? '') === portName && (p.protocol ?? 'TCP') === protocol)) continue;
    for (const ep of slice.endpoints ?? []) {
      const ref = ep.targetRef;
      if (ep.conditions?.ready === false || ref?.kind !== 'Pod' || !ref.name) continue;
      const candidate = { namespace: ref.namespace ?? slice.metadata?.namespace ?? '', name: ref.name };
      if (best === undefined || candidate.name < best.name) best = candidate;
    }
  }
  return best;
}

/**
 * The path of the Pod's readiness probe on the container port a Service port targets,
 * as ingress-gce adopts it: only a plain HTTP GET (scheme HTTP, no host, no headers,
 * which a load balancer's checker could not send), on a declared container port matched
 * by number or name, probing that same port. `/` when the probe names no path.
 */
export function readinessProbePath(pod: V1Pod, targetPort: number | string): string | undefined {
  for (const c of pod.spec?.containers ?? []) {
    const get = c.readinessProbe?.httpGet;
    if (!get || (get.scheme ?? 'HTTP').toUpperCase() !== 'HTTP' || (get.host ?? '') !== '' || (get.httpHeaders ?? []).length > 0) continue;
    for (const p of c.ports ?? []) {
      const served = typeof targetPort === 'number' ? p.containerPort === targetPort : p.name === targetPort;
      if (!served) continue;
      const probed = typeof get.port === 'number' ? get.port === p.containerPort : get.port === p.name;
      if (probed) return get.path === undefined || get.path === '' ? '/' : get.path;
    }
  }
  return undefined;
}
