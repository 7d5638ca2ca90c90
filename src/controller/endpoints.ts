// Pod targets from EndpointSlices, read the way kube-proxy reads them: slices belong to a
// Service by the kubernetes.io/service-name label (so selectorless Services with
// hand-made slices work the same), a slice port belongs to a Service port by NAME, and
// an endpoint serves unless conditions.ready is explicitly false (nil means ready).
import type { V1EndpointSlice } from '@kubernetes/client-node';
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
