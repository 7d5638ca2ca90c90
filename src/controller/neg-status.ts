// The NEG status GKE's controller keeps on a Service whose ports have NEGs
// (cloud.google.com/neg-status), written here from what the providers report
// (LoadBalancerStatus.backendGroups): the providers never touch Kubernetes objects.
//
// ingress-gce pkg/annotations/service.go NegStatus: {"network_endpoint_groups": {"<service
// port>": "<neg name>"}, "zones": [...]}. Several Ingresses may share a Service's NEGs, so
// the value is the union of what every load balancer last reported for the Service; the
// annotation goes when none reports any.
import type { V1Service } from '@kubernetes/client-node';
import type { Cache } from '../kube/cache.js';
import type { KubeWriter } from './reconcile.js';
import type { BackendGroup } from '../model/status.js';

export const NEG_STATUS_ANNOTATION = 'cloud.google.com/neg-status';

/** The annotation's value for one Service's groups, as ingress-gce marshals NegStatus (map keys sorted); undefined for none. */
export function negStatusValue(groups: readonly BackendGroup[]): string | undefined {
  if (groups.length === 0) return undefined;
  const ports = [...groups].sort((a, b) => a.port - b.port);
  const network_endpoint_groups = Object.fromEntries(ports.map((g) => [String(g.port), g.name]));
  const zones = [...new Set(groups.flatMap((g) => g.zones))].sort();
  return JSON.stringify({ network_endpoint_groups, zones });
}

const serviceKey = (g: BackendGroup): string => `${g.namespace}/${g.service}`;

export class NegStatus {
  /** Per load balancer (work-queue key): the groups its last ensure reported. */
  private readonly byLb = new Map<string, readonly BackendGroup[]>();

  constructor(private readonly deps: { readonly writer: Pick<KubeWriter, 'patchAnnotations'>; readonly services: Pick<Cache<V1Service>, 'get'> }) {}

  /** What one load balancer's ensure reported (undefined: it is gone); the Services it touches now or did before are brought up to date. */
  async record(lbKey: string, groups: readonly BackendGroup[] | undefined): Promise<void> {
    const before = this.byLb.get(lbKey) ?? [];
    if (groups === undefined || groups.length === 0) this.byLb.delete(lbKey);
    else this.byLb.set(lbKey, groups);
    const touched = new Set([...before, ...(groups ?? [])].map(serviceKey));
    for (const key of [...touched].sort()) await this.write(key);
  }

  private async write(key: string): Promise<void> {
    const svc = this.deps.services.get(key);
    if (!svc) return;
    // One port reported by two load balancers is one NEG (its name is the port's): keep one entry.
    const byPort = new Map<number, BackendGroup>();
    for (const groups of this.byLb.values()) for (const g of groups) if (serviceKey(g) === key) byPort.set(g.port, { ...g, zones: [...new Set([...(byPort.get(g.port)?.zones ?? []), ...g.zones])] });
    const value = negStatusValue([...byPort.values()]);
    await this.deps.writer.patchAnnotations('Service', svc, value !== undefined ? { [NEG_STATUS_ANNOTATION]: value } : {}, [NEG_STATUS_ANNOTATION]);
  }
}
