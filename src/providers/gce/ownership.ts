// Who owns a GCE resource, recorded where every resource kind has room for it: the
// description, as JSON. The keys the GCE cloud provider and ingress-gce write come
// first (`kubernetes.io/service-name`, `kubernetes.io/ingress-name`,
// `kubernetes.io/cluster-id`), so tools that read those keep working; lbc adds its
// cluster and the owning object's identity. lbc changes or deletes a resource only when
// its description names lbc's cluster (and, for per-object resources, the object's UID).
import { isIngressGroupRef, type LbRef } from '../../model/ref.js';
import { TAG_CLUSTER, TAG_OWNER_KIND, TAG_OWNER_NAME, TAG_OWNER_NAMESPACE, TAG_OWNER_UID } from '../../model/spec.js';

export const KEY_SERVICE_NAME = 'kubernetes.io/service-name';
export const KEY_SERVICE_IP = 'kubernetes.io/service-ip';
export const KEY_INGRESS_NAME = 'kubernetes.io/ingress-name';
export const KEY_CLUSTER_ID = 'kubernetes.io/cluster-id';

export type Description = Readonly<Record<string, string>>;

/**
 * The description of a resource that belongs to one Service, Ingress or Gateway. What GKE's
 * Gateway controller writes in its descriptions is not known (it is not open source), so a
 * Gateway's resources carry lbc's keys alone.
 */
export function ownedDescription(clusterName: string, ref: LbRef, extra: Description = {}): string {
  const upstreamName = isIngressGroupRef(ref) ? ref.name : `${ref.namespace}/${ref.name}`;
  const upstream = ref.kind === 'Service' ? { [KEY_SERVICE_NAME]: upstreamName } : ref.kind === 'Ingress' ? { [KEY_INGRESS_NAME]: upstreamName } : {};
  return JSON.stringify({
    ...upstream,
    ...extra,
    [TAG_CLUSTER]: clusterName,
    [TAG_OWNER_KIND]: ref.kind,
    [TAG_OWNER_NAMESPACE]: ref.namespace,
    [TAG_OWNER_NAME]: ref.name,
    [TAG_OWNER_UID]: ref.uid,
  });
}

/** The description of a resource every load balancer of the cluster may use (node health check, instance groups). */
export function sharedDescription(clusterName: string, clusterId: string): string {
  return JSON.stringify({ [KEY_CLUSTER_ID]: clusterId, [TAG_CLUSTER]: clusterName });
}

export function parseDescription(description: string | null | undefined): Description | undefined {
  if (!description) return undefined;
  try {
    const v: unknown = JSON.parse(description);
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return undefined;
    const out: Record<string, string> = {};
    for (const [k, x] of Object.entries(v)) if (typeof x === 'string') out[k] = x;
    return out;
  } catch {
    return undefined;
  }
}

export type Ownership =
  /** Made by lbc of this cluster for this very object. */
  | 'ours'
  /** Made by lbc of this cluster, shared by its load balancers. */
  | 'shared'
  /** lbc of this cluster, but another object (a recreated Service under the same name has a new UID). */
  | 'sibling'
  /** Anything else: a user's, another cluster's, the GCE cloud provider's. Never touched. */
  | 'foreign';

export function ownershipOf(description: string | null | undefined, clusterName: string, uid?: string): Ownership {
  const d = parseDescription(description);
  if (!d || d[TAG_CLUSTER] !== clusterName) return 'foreign';
  const owner = d[TAG_OWNER_UID];
  if (owner === undefined) return 'shared';
  return uid !== undefined && owner === uid ? 'ours' : 'sibling';
}

/** The object a description names, for listOwned. */
export function ownerRef(description: string | null | undefined, clusterName: string): LbRef | undefined {
  const d = parseDescription(description);
  if (!d || d[TAG_CLUSTER] !== clusterName) return undefined;
  const kind = d[TAG_OWNER_KIND];
  const uid = d[TAG_OWNER_UID];
  const name = d[TAG_OWNER_NAME];
  const namespace = d[TAG_OWNER_NAMESPACE];
  if ((kind !== 'Service' && kind !== 'Ingress' && kind !== 'Gateway') || uid === undefined || name === undefined || namespace === undefined) return undefined;
  return { kind, namespace, name, uid };
}

/**
 * Labels, on the kinds that have them (addresses, forwarding rules): a console filter
 * for lbc's resources. Advisory only; the description decides ownership. GCE label
 * values allow only [a-z0-9_-], up to 63 characters.
 */
export function ownershipLabels(clusterName: string, ref: LbRef): Record<string, string> {
  const value = (s: string): string => s.toLowerCase().replace(/[^a-z0-9_-]/g, '_').slice(0, 63);
  return { 'lbc-cluster': value(clusterName), 'lbc-owner-uid': value(ref.uid) };
}

/**
 * A list filter matching descriptions that may name this cluster; the result is still
 * checked with ownershipOf, since the filter is a coarse regular expression.
 */
export function clusterFilter(clusterName: string): string {
  // No backslashes: how the filter language passes them on to RE2 is not worth relying on.
  return `description eq ".*lbc.dev/cluster.{3}${clusterName}.*"`;
}
