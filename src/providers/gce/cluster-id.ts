// The cluster uid GKE's load-balancing controllers name their shared resources after:
// `k8s-ig--<uid>` instance groups, the `k8s-<uid>-node` health check, the
// `k8s-fw-l7--<firewall>` Ingress firewall rule. ingress-gce keeps it in the kube-system
// ConfigMap `ingress-uid` (key `uid`; `provider-uid` names the firewall rule, and falls
// back to the uid), and cloud-provider-gcp reads the same ConfigMap (gce_clusterid.go),
// so every controller of a GKE cluster shares one family of instance groups. lbc does
// the same; a configured clusterId wins, as ingress-gce's --cluster-uid flag does
// (ingress-gce cmd/glbc/app/namer.go, useDefaultOrLookupVault).
import type { ClusterFacts } from '../types.js';
import { GceError } from './errors.js';
import type { GceOptions } from './options.js';

export const UID_NAMESPACE = 'kube-system';
export const UID_CONFIG_MAP = 'ingress-uid';
export const UID_KEY = 'uid';
export const FIREWALL_KEY = 'provider-uid';

export interface ClusterIdentity {
  /** The uid in `k8s-ig--<uid>` and `k8s-<uid>-node`; may be empty (ingress-gce's oldest clusters). */
  readonly clusterId: string;
  /** The suffix of the Ingress firewall rule `k8s-fw-l7--<firewall>`. */
  readonly firewall: string;
  /**
   * Read from GKE's ConfigMap, not configured: GKE's own controllers name their shared
   * resources after the same uid, so a resource under such a name that lbc did not make
   * is theirs (ingress-gce's L7 firewall rule), not an administrator's or another cluster's.
   */
  readonly gke: boolean;
}

// ingress-gce re-reads the ConfigMap every 5 s; a uid changes only when an administrator
// changes it, so a minute is soon enough and costs one GET a minute at most.
const REFRESH_MS = 60_000;

export class ClusterIdResolver {
  private cached: { identity: ClusterIdentity; at: number } | undefined;

  constructor(
    private readonly options: Pick<GceOptions, 'clusterId'>,
    private readonly cluster: ClusterFacts | undefined,
    private readonly now: () => number = Date.now,
  ) {}

  async identity(provider: string): Promise<ClusterIdentity> {
    const configured = this.options.clusterId;
    if (configured !== undefined) return { clusterId: configured, firewall: configured, gke: false };
    if (this.cached && this.now() - this.cached.at < REFRESH_MS) return this.cached.identity;
    const missing = (why: string): GceError =>
      new GceError(
        'invalid',
        `no cluster id: ${why}; GKE's ingress-gce writes it, or set the gce provider's clusterId option (the uid of the cluster's k8s-ig--<uid> instance groups)`,
        { provider },
      );
    if (!this.cluster) throw missing('this process cannot read the cluster (ConfigMap kube-system/ingress-uid)');
    let data: Readonly<Record<string, string>> | undefined;
    try {
      data = await this.cluster.configMap(UID_NAMESPACE, UID_CONFIG_MAP);
    } catch (e) {
      // As ingress-gce: an API server that did not answer is no reason to guess a uid.
      throw new GceError('transient', `reading ConfigMap ${UID_NAMESPACE}/${UID_CONFIG_MAP}: ${(e as Error).message}`, { provider, cause: e });
    }
    if (data === undefined) throw missing(`ConfigMap ${UID_NAMESPACE}/${UID_CONFIG_MAP} does not exist`);
    const uid = data[UID_KEY];
    if (uid === undefined) throw missing(`ConfigMap ${UID_NAMESPACE}/${UID_CONFIG_MAP} has no key ${UID_KEY}`);
    const firewall = data[FIREWALL_KEY] || uid;
    const identity = { clusterId: uid, firewall, gke: true };
    this.cached = { identity, at: this.now() };
    return identity;
  }
}
