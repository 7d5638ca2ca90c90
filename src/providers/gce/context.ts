// What planning needs besides the spec: the API, the configuration, and answers that
// cost API calls and rarely change (the nodes' network tags), cached for the
// provider's lifetime.
import type { NodeTarget, TargetSet } from '../../model/spec.js';
import type { ClusterIdentity } from './cluster-id.js';
import { GceError } from './errors.js';
import type { CallContext } from './kind.js';
import { globalLink, networkLink, regionalLink } from './links.js';
import { instanceLink, instanceOf, type GceInstance } from './nodes.js';
import type { GceOptions } from './options.js';

export interface PlanContext {
  readonly call: CallContext;
  readonly options: GceOptions;
  readonly clusterName: string;
  /** The uid shared names carry, configured or GKE's own. */
  readonly identity: ClusterIdentity;
  readonly tags: NodeTagResolver;
}

export function networkProjectOf(options: GceOptions): string {
  return options.networkProject ?? options.project;
}

export function networkUrl(options: GceOptions): string {
  return networkLink(options.network, networkProjectOf(options));
}

export function subnetworkUrl(options: GceOptions, name: string): string {
  return regionalLink(networkProjectOf(options), options.region, 'subnetworks', name);
}

export const links = (options: GceOptions) => ({
  regional: (collection: string, name: string) => regionalLink(options.project, options.region, collection, name),
  global: (collection: string, name: string) => globalLink(options.project, collection, name),
});

/**
 * GKE tags every node of a cluster `gke-<cluster>-<8 hex>-node` (through its node pools'
 * instance templates) and hands that tag to cloud-provider-gcp as the cloud config's
 * node-tags, which GetNodeTags returns before it would compute anything
 * (cloud-provider-gcp providers/gce/gce_instances.go). The tag does not prefix the
 * instance name (`gke-<cluster>-<pool>-<hash>-<suffix>`), so the prefix rule misses it.
 */
const GKE_NODE_TAG = /^gke-[a-z0-9-]+-[0-9a-f]{8}-node$/;

/** The tag firewall rules target for one instance, from its tags; undefined when none fits. */
export function nodeTagOf(instanceName: string, tags: readonly string[]): string | undefined {
  // kube-up: computeHostTags, the longest tag that prefixes the instance name.
  const prefix = tags.filter((t) => instanceName.startsWith(t)).sort((a, b) => b.length - a.length)[0];
  if (prefix !== undefined) return prefix;
  const gke = tags.filter((t) => GKE_NODE_TAG.test(t));
  return gke.length === 1 ? gke[0] : undefined;
}

/**
 * Network tags of the nodes, which firewall rules target. The configured nodeTags when
 * set; otherwise read from the instances: as the GCE cloud provider's computeHostTags, the
 * longest tag of each instance that prefixes its name (kube-up), else GKE's node tag.
 */
export class NodeTagResolver {
  private readonly cache = new Map<string, string>();

  constructor(private readonly options: GceOptions) {}

  async tagsFor(ctx: CallContext, targetSets: readonly TargetSet[], more: readonly NodeTarget[] = []): Promise<string[]> {
    if (this.options.nodeTags) return [...this.options.nodeTags].sort();
    const instances = new Map<string, GceInstance>();
    // `more`: nodes that are no instance target, such as those running a NEG's endpoints.
    const nodes = [...targetSets.flatMap((ts) => (ts.type === 'instance' ? ts.targets : [])), ...more];
    for (const n of nodes) {
      const i = instanceOf(n, this.options.project);
      if (i) instances.set(instanceLink(i), i);
    }
    const tags = new Set<string>();
    for (const [link, i] of instances) {
      let tag = this.cache.get(link);
      if (tag === undefined) {
        const { compute, signal } = ctx;
        const vm = await compute.read('instances.get', `${i.zone}/${i.name}`, signal, (o) =>
          compute.instances.get({ project: i.project, zone: i.zone, instance: i.name }, o),
        );
        tag = nodeTagOf(i.name, vm.tags?.items ?? []);
        if (tag === undefined) {
          const found = (vm.tags?.items ?? []).join(', ') || 'none';
          throw new GceError('invalid', `instance ${i.zone}/${i.name} has no network tag that prefixes its name nor a GKE node tag gke-<cluster>-<hash>-node (tags: ${found}); set the provider's nodeTags option`, {
            provider: ctx.provider,
          });
        }
        this.cache.set(link, tag);
      }
      tags.add(tag);
    }
    // An empty target list would open the rule to every VM of the network.
    if (tags.size === 0) {
      throw new GceError('invalid', 'no node to read network tags from; set the provider\'s nodeTags option', { provider: ctx.provider });
    }
    return [...tags].sort();
  }
}
