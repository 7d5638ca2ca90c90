// Which nodes an internal passthrough load balancer sends to when ILB subsetting is on:
// GKE's L4 ILB controller puts a subset of the nodes in the Service's per-zone GCE_VM_IP
// NEGs (kubernetes/ingress-gce pkg/neg/syncers/subsets.go getSubsetPerZone and
// pickSubsetsMinRemovals), and lbc picks the same nodes the same way, so the subset is
// deterministic: a function of the node names, the Service and what the NEGs hold now.
//
// - The limit is for all zones together: 25 nodes for externalTrafficPolicy Cluster
//   (maxSubsetSizeDefault), 250 for Local (maxSubsetSizeLocal), where any node may
//   answer for the Service and kube-proxy forwards.
// - Zones are visited from the fewest nodes up (name breaking ties), each taking an even
//   share of what is left, so a small zone's unused share goes to the larger ones.
// - In a zone, nodes are ranked by the hex SHA-256 of `<node>:<salt>`, the salt the
//   Service's `<name>/<namespace>` (transaction.go getEndpointsCalculator's serviceKey),
//   so different Services spread over different nodes.
// - Nodes already in the NEG stay while they exist and fit the zone's share; new ones come
//   from the top of the ranking. A node change thus moves as few endpoints as it can.
import { createHash } from 'node:crypto';

/** maxSubsetSizeDefault: externalTrafficPolicy Cluster. */
export const ILB_SUBSET_CLUSTER = 25;
/** maxSubsetSizeLocal: externalTrafficPolicy Local. */
export const ILB_SUBSET_LOCAL = 250;

const rankOf = (node: string, salt: string): string => createHash('sha256').update(`${node}:${salt}`).digest('hex');

/** pickSubsetsMinRemovals: `count` of `nodes`, keeping those of `current` that are still there. */
export function pickZoneSubset(nodes: readonly string[], salt: string, count: number, current: readonly string[]): string[] {
  if (nodes.length < count) return [...nodes];
  const ranked = [...nodes].sort((a, b) => (rankOf(a, salt) < rankOf(b, salt) ? -1 : rankOf(a, salt) > rankOf(b, salt) ? 1 : 0));
  const present = new Set(nodes);
  // Upstream walks the current endpoints sorted by node name (sortEndpoints).
  const kept = [...new Set(current)].filter((n) => present.has(n)).sort();
  if (kept.length >= count) return kept.slice(0, count);
  const keptSet = new Set(kept);
  return [...kept, ...ranked.filter((n) => !keptSet.has(n)).slice(0, count - kept.length)];
}

/**
 * getSubsetPerZone: the nodes of each zone the Service's NEGs hold, `limit` in all.
 * `current` is what each zone's NEG holds now (instance names).
 */
export function subsetPerZone(
  nodesByZone: ReadonlyMap<string, readonly string[]>,
  limit: number,
  salt: string,
  current: ReadonlyMap<string, readonly string[]>,
): Map<string, string[]> {
  const zones = [...nodesByZone.entries()].sort(([za, a], [zb, b]) => a.length - b.length || (za < zb ? -1 : za > zb ? 1 : 0));
  const out = new Map<string, string[]>();
  let left = limit;
  zones.forEach(([zone, nodes], i) => {
    const share = Math.floor(left / (zones.length - i));
    const picked = pickZoneSubset(nodes, salt, share, current.get(zone) ?? []);
    out.set(zone, picked);
    left -= picked.length;
  });
  return out;
}
