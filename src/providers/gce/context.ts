// What planning needs besides the spec: the API, the configuration, and answers that
// cost API calls and rarely change (the nodes' network tags), cached for the
// provider's lifetime.
import type { NodeTarget, TargetSet } from '../../model/spec.js';
import { GceError } from './errors.js';
import type { CallContext } from './kind.js';
import { globalLink, networkLink, regionalLink } from './links.js';
import { instanceLink, instanceOf, type GceInstance } from './nodes.js';
import type { GceOptions } from './options.js';

export interface PlanContext {
  readonly call: CallContext;
  readonly options: GceOptions;
  readonly clusterName: string;
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
 * Network tags of the nodes, which firewall rules target. The configured nodeTags when
 * set; otherwise, as the GCE cloud provider's computeHostTags, the longest tag of each
 * instance that prefixes its name (GKE and kube-up tag nodes that way).
 */
export class NodeTagResolver {
  private readonly cache = new Map<string, string>();

  constructor(private readonly options: GceOptions) {}

  async tagsFor(ctx: CallContext, targetSets: readonly TargetSet[]): Promise<string[]> {
    if (this.options.nodeTags) return [...this.options.nodeTags].sort();
    const instances = new Map<string, GceInstance>();
    for (const ts of targetSets) {
      if (ts.type !== 'instance') continue;
      for (const n of ts.targets) {
        const i = instanceOf(n as NodeTarget, this.options.project);
        if (i) instances.set(instanceLink(i), i);
      }
    }
    const tags = new Set<string>();
    for (const [link, i] of instances) {
      let tag = this.cache.get(link);
      if (tag === undefined) {
        const { compute, signal } = ctx;
        const vm = await compute.read('instances.get', `${i.zone}/${i.name}`, signal, (o) =>
          compute.instances.get({ project: i.project, zone: i.zone, instance: i.name }, o),
        );
        tag = (vm.tags?.items ?? []).filter((t) => i.name.startsWith(t)).sort((a, b) => b.length - a.length)[0];
        if (tag === undefined) {
          throw new GceError('invalid', `instance ${i.zone}/${i.name} has no network tag that prefixes its name; set the provider's nodeTags option`, {
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
