// Zonal network endpoint groups: container-native load balancing, as ingress-gce's NEG
// controller (pkg/neg) builds it. One NEG per Service port and zone, named by the port
// (names.ts negName), holding the ready endpoints of that zone: GCE_VM_IP_PORT (pod IP and
// port on its node's instance) for Ingress backends. The endpoints are kept in line with
// the EndpointSlices the builder read, by attach and detach calls of at most 500
// endpoints each (ingress-gce pkg/neg/syncers/utils.go MAX_NETWORK_ENDPOINTS_PER_BATCH;
// GCE itself takes up to 1000).
//
// A NEG belongs to the cluster, not to one Ingress (every Ingress naming the port uses
// it, as on GKE): its description is ingress-gce's NegDescription plus lbc's cluster, so
// it is 'shared'. A load balancer deletes the NEGs its backend services stop using, and
// GCE keeps one another backend service still uses (resourceInUseByAnotherResource).
import type { protos } from '@google-cloud/compute';
import type { IpTargetSet, PodTarget } from '../../model/spec.js';
import { TAG_CLUSTER } from '../../model/spec.js';
import { isInUse, isNotFound } from './errors.js';
import { namesFilter, type CallContext, type Diff, type Key, type Kind, type Observed } from './kind.js';
import { linkPath, nameOf, sameLink, zonalLink } from './links.js';
import { negName } from './names.js';
import { ownershipOf } from './ownership.js';

type NetworkEndpoint = protos.google.cloud.compute.v1.INetworkEndpoint;
/** The NEG plus its endpoints, which GCE keeps apart (listNetworkEndpoints). */
export type NetworkEndpointGroup = protos.google.cloud.compute.v1.INetworkEndpointGroup & { endpoints?: NetworkEndpoint[] };

/** ingress-gce MAX_NETWORK_ENDPOINTS_PER_BATCH. */
export const NEG_BATCH = 500;

const batches = <T>(xs: readonly T[]): T[][] => Array.from({ length: Math.ceil(xs.length / NEG_BATCH) }, (_, i) => xs.slice(i * NEG_BATCH, (i + 1) * NEG_BATCH));

// GCE answers the instance as a name or a link, whichever it was given.
const endpointKey = (e: NetworkEndpoint): string => `${nameOf(e.instance)}|${e.ipAddress ?? ''}|${e.port ?? ''}`;

function endpointDiff(want: NetworkEndpointGroup, have: NetworkEndpointGroup): { attach: NetworkEndpoint[]; detach: NetworkEndpoint[] } {
  const w = new Map((want.endpoints ?? []).map((e) => [endpointKey(e), e]));
  const h = new Map((have.endpoints ?? []).map((e) => [endpointKey(e), e]));
  return {
    attach: [...w].filter(([k]) => !h.has(k)).map(([, e]) => e),
    detach: [...h].filter(([k]) => !w.has(k)).map(([, e]) => e),
  };
}

/** What GCE cannot change on a NEG: another one must be made. */
function immutableDiff(want: NetworkEndpointGroup, have: NetworkEndpointGroup): string | undefined {
  if (String(want.networkEndpointType ?? '') !== String(have.networkEndpointType ?? '')) return `type ${String(have.networkEndpointType ?? '')} → ${String(want.networkEndpointType ?? '')}`;
  if (!sameLink(want.network, have.network)) return `network ${nameOf(have.network)} → ${nameOf(want.network)}`;
  if (want.subnetwork != null && !sameLink(want.subnetwork, have.subnetwork)) return `subnetwork ${nameOf(have.subnetwork)} → ${nameOf(want.subnetwork)}`;
  return undefined;
}

async function listEndpoints(ctx: CallContext, key: Key): Promise<NetworkEndpoint[]> {
  const { compute, signal } = ctx;
  const zone = key.zone ?? '';
  const items = await compute.list('networkEndpointGroups.listNetworkEndpoints', `${zone}/${key.name}`, signal, (o) =>
    compute.networkEndpointGroups.listNetworkEndpoints(
      // SKIP: the endpoints only; their health is the backend service's business.
      { project: compute.project, zone, networkEndpointGroup: key.name, networkEndpointGroupsListEndpointsRequestResource: { healthStatus: 'SKIP' } },
      o,
    ),
  );
  // Only the fields lbc attaches: the decoded message also carries oneof markers (`_port`), which are no request fields.
  return items.flatMap((i) => {
    const e = i.networkEndpoint;
    if (!e) return [];
    return [{ ...(e.instance != null ? { instance: e.instance } : {}), ...(e.ipAddress != null ? { ipAddress: e.ipAddress } : {}), ...(e.port != null ? { port: e.port } : {}) }];
  });
}

async function changeEndpoints(ctx: CallContext, key: Key, attach: readonly NetworkEndpoint[], detach: readonly NetworkEndpoint[]): Promise<void> {
  const { compute, signal } = ctx;
  const zone = key.zone ?? '';
  const target = `${zone}/${key.name}`;
  // New pods first, so a rollout never leaves the NEG emptier than it has to be.
  for (const networkEndpoints of batches(attach)) {
    await compute.write('networkEndpointGroups.attachNetworkEndpoints', target, signal, (o) =>
      compute.networkEndpointGroups.attachNetworkEndpoints(
        { project: compute.project, zone, networkEndpointGroup: key.name, networkEndpointGroupsAttachEndpointsRequestResource: { networkEndpoints } },
        o,
      ),
    );
  }
  for (const networkEndpoints of batches(detach)) {
    await compute.write('networkEndpointGroups.detachNetworkEndpoints', target, signal, (o) =>
      compute.networkEndpointGroups.detachNetworkEndpoints(
        { project: compute.project, zone, networkEndpointGroup: key.name, networkEndpointGroupsDetachEndpointsRequestResource: { networkEndpoints } },
        o,
      ),
    );
  }
}

export const negKind: Kind<NetworkEndpointGroup> = {
  resource: 'NetworkEndpointGroup',
  // After instance groups, before the backend services that name them.
  rank: 45,
  get: async (ctx, key) => {
    const { compute, signal } = ctx;
    const zone = key.zone ?? '';
    const neg = await compute.readOptional('networkEndpointGroups.get', `${zone}/${key.name}`, signal, (o) =>
      compute.networkEndpointGroups.get({ project: compute.project, zone, networkEndpointGroup: key.name }, o),
    );
    return neg ? { ...neg, endpoints: await listEndpoints(ctx, key) } : undefined;
  },
  insert: async (ctx, key, body) => {
    const { compute, signal } = ctx;
    const zone = key.zone ?? '';
    const { endpoints = [], ...resource } = body;
    await compute.write('networkEndpointGroups.insert', `${zone}/${key.name}`, signal, (o) =>
      compute.networkEndpointGroups.insert({ project: compute.project, zone, networkEndpointGroupResource: { ...resource, name: key.name } }, o),
    );
    await changeEndpoints(ctx, key, endpoints, []);
  },
  remove: async ({ compute, signal }, key) => {
    const zone = key.zone ?? '';
    try {
      await compute.write('networkEndpointGroups.delete', `${zone}/${key.name}`, signal, (o) =>
        compute.networkEndpointGroups.delete({ project: compute.project, zone, networkEndpointGroup: key.name }, o),
      );
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  },
  diff: (want, have): Diff => {
    const replace = immutableDiff(want, have);
    if (replace !== undefined) return { fields: [], replace };
    const d = endpointDiff(want, have);
    return { fields: d.attach.length > 0 || d.detach.length > 0 ? ['endpoints'] : [] };
  },
  update: async (ctx, key, want, have) => {
    const d = endpointDiff(want, have);
    await changeEndpoints(ctx, key, d.attach, d.detach);
  },
};

/** ingress-gce's NegDescription, plus lbc's cluster: no owner uid, so the cluster's ('shared'). */
export function negDescription(clusterName: string, clusterUid: string, set: IpTargetSet): string {
  return JSON.stringify({
    'cluster-uid': clusterUid,
    namespace: set.backend.namespace,
    'service-name': set.backend.service,
    port: String(set.backend.port),
    [TAG_CLUSTER]: clusterName,
  });
}

/** One zone's NEG of a target set. */
export interface DesiredNeg {
  readonly key: Required<Key>;
  readonly targetSet: string;
  readonly body: NetworkEndpointGroup;
}

/**
 * The NEGs of one ip target set, one per zone its ready endpoints are in. An endpoint
 * without a node or zone cannot be attached (GCE needs the instance, in the NEG's zone);
 * the EndpointSlice controller sets both wherever the Node carries its zone label, which
 * every GCE node does, so such an endpoint is a pod not yet scheduled and waits.
 */
export function desiredNegs(
  set: IpTargetSet,
  opts: { readonly clusterName: string; readonly clusterUid: string; readonly network: string; readonly subnetwork: string | undefined; readonly region: string },
): DesiredNeg[] {
  const byZone = new Map<string, PodTarget[]>();
  for (const t of set.targets) {
    if (t.zone === undefined || t.nodeName === undefined || !t.zone.startsWith(`${opts.region}-`)) continue;
    byZone.set(t.zone, [...(byZone.get(t.zone) ?? []), t]);
  }
  const name = negName(opts.clusterUid, set.backend.namespace, set.backend.service, set.backend.port);
  const description = negDescription(opts.clusterName, opts.clusterUid, set);
  return [...byZone.keys()].sort().map((zone) => ({
    key: { name, zone },
    targetSet: set.name,
    body: {
      description,
      networkEndpointType: 'GCE_VM_IP_PORT',
      network: opts.network,
      // The record of the pods' port that the cluster's L7 firewall rule reads for the
      // other Ingresses (l7-firewall.ts): a numeric targetPort is every pod's port, and
      // the NEG is already in the one aggregated list each ensure makes, so no endpoint
      // list is needed. The endpoints still carry their port, so it routes nothing.
      // GCE cannot change it, and a NEG in use cannot be replaced: a numeric targetPort
      // changed under an existing NEG leaves the old port recorded until the NEG is made anew.
      ...(typeof set.port === 'number' ? { defaultPort: set.port } : {}),
      ...(opts.subnetwork !== undefined ? { subnetwork: opts.subnetwork } : {}),
      endpoints: (byZone.get(zone) ?? []).map((t) => ({ instance: t.nodeName, ipAddress: t.ip, port: t.port })),
    },
  }));
}

export function negLink(project: string, key: Required<Key>): string {
  return zonalLink(project, key.zone, 'networkEndpointGroups', key.name);
}

/** The zonal NEGs a backend service's backends name. */
export function negsOf(backends: readonly { group?: string | null }[] | null | undefined): Required<Key>[] {
  return (backends ?? []).flatMap((b) => {
    const m = /zones\/([^/]+)\/networkEndpointGroups\/([^/]+)$/.exec(linkPath(b.group));
    return m ? [{ zone: m[1] ?? '', name: m[2] ?? '' }] : [];
  });
}

/** The NEGs of these names in any zone of the region: one aggregated list, as the instance groups are found. */
async function listNegs(ctx: CallContext, names: readonly string[]): Promise<NetworkEndpointGroup[]> {
  if (names.length === 0) return [];
  const { compute, signal } = ctx;
  const unique = [...new Set(names)].sort();
  const scoped = await compute.collect('networkEndpointGroups.aggregatedList', unique.join(','), signal, (o) =>
    compute.networkEndpointGroups.aggregatedListAsync({ project: compute.project, filter: namesFilter(unique) }, o),
  );
  return scoped.flatMap(([, list]) => list.networkEndpointGroups ?? []).filter((n) => unique.includes(n.name ?? '') && nameOf(n.zone).startsWith(`${compute.region}-`));
}

/**
 * Each desired NEG as it exists now, and the pods' ports of `others` (the NEGs lbc's other
 * Ingresses' backend services name): one aggregated list for both, then the endpoints of
 * each desired one (GCE keeps them apart). An other NEG gives its port by its defaultPort;
 * only one without (made before lbc recorded it, or on a named targetPort whose pods may
 * differ) has its endpoints listed.
 */
export async function observeNegs(
  ctx: CallContext,
  keys: readonly Required<Key>[],
  clusterName: string,
  others: readonly Required<Key>[] = [],
): Promise<{ have: Observed<NetworkEndpointGroup>[]; otherPorts: number[] }> {
  const id = (k: { zone?: string | null; name?: string | null }): string => `${nameOf(k.zone)}/${k.name ?? ''}`;
  const wanted = new Set(keys.map(id));
  const other = new Set(others.map(id).filter((k) => !wanted.has(k)));
  const listed = await listNegs(ctx, [...keys, ...others].map((k) => k.name));
  const [have, otherPorts] = await Promise.all([
    Promise.all(
      listed
        .filter((n) => wanted.has(id(n)))
        .map(async (n) => {
          const key = { name: n.name ?? '', zone: nameOf(n.zone) };
          return { key, resource: { ...n, endpoints: await listEndpoints(ctx, key) }, ownership: ownershipOf(n.description, clusterName) };
        }),
    ),
    Promise.all(
      listed
        .filter((n) => other.has(id(n)))
        .map(async (n) => (n.defaultPort != null ? [n.defaultPort] : (await listEndpoints(ctx, { name: n.name ?? '', zone: nameOf(n.zone) })).map((e) => e.port ?? 0))),
    ),
  ]);
  return { have, otherPorts: [...new Set(otherPorts.flat())].filter((p) => p > 0) };
}

/**
 * Deletes NEGs a load balancer no longer uses, unless another backend service of the
 * cluster still does (GCE refuses that delete) or they are not the cluster's.
 */
export async function deleteUnusedNegs(ctx: CallContext, keys: readonly Required<Key>[], clusterName: string): Promise<void> {
  const gone = new Set(keys.map((k) => `${k.zone}/${k.name}`));
  for (const neg of await listNegs(ctx, keys.map((k) => k.name))) {
    const key = { name: neg.name ?? '', zone: nameOf(neg.zone) };
    if (!gone.has(`${key.zone}/${key.name}`) || ownershipOf(neg.description, clusterName) !== 'shared') continue;
    try {
      await negKind.remove(ctx, key);
    } catch (e) {
      if (!isInUse(e)) throw e;
    }
  }
}

// ---- GCE_VM_IP NEGs of internal L4 load balancers (ILB subsetting) -------------------
// GKE's L4 ILB controller with ILB subsetting gives an internal LoadBalancer Service one
// GCE_VM_IP NEG per zone (ingress-gce pkg/l4lb, pkg/neg), all named l4NegName, whose
// endpoints are instances: a GCE_VM_IP endpoint takes no port, and without an IP GCE uses
// the instance's primary address. Unlike the Ingress NEGs above these belong to one
// Service (its owned description), so they go with it.

/** Every zone's NEG of one name, with their endpoints (unless a delete needs none) and ownership by this LB's uid. */
export async function observeNegsNamed(ctx: CallContext, name: string, clusterName: string, uid: string, opts: { readonly endpoints: boolean } = { endpoints: true }): Promise<Observed<NetworkEndpointGroup>[]> {
  const found = await listNegs(ctx, [name]);
  return Promise.all(
    found.map(async (n) => {
      const key = { name, zone: nameOf(n.zone) };
      const endpoints = opts.endpoints ? await listEndpoints(ctx, key) : [];
      return { key, resource: { ...n, endpoints }, ownership: ownershipOf(n.description, clusterName, uid) };
    }),
  );
}

/** One zone's GCE_VM_IP NEG holding these instances. */
export function vmIpNeg(opts: { readonly description: string; readonly network: string; readonly subnetwork: string | undefined }, instances: readonly string[]): NetworkEndpointGroup {
  return {
    description: opts.description,
    networkEndpointType: 'GCE_VM_IP',
    network: opts.network,
    ...(opts.subnetwork !== undefined ? { subnetwork: opts.subnetwork } : {}),
    endpoints: [...instances].sort().map((instance) => ({ instance })),
  };
}

/**
 * A GCE_VM_IP endpoint is its instance: GCE fills in the primary address of one attached
 * without it, so endpoints are told apart by instance alone, and one is detached as GCE
 * lists it.
 */
function instanceDiff(want: NetworkEndpointGroup, have: NetworkEndpointGroup): { attach: NetworkEndpoint[]; detach: NetworkEndpoint[] } {
  const w = new Map((want.endpoints ?? []).map((e) => [nameOf(e.instance), e]));
  const h = new Map((have.endpoints ?? []).map((e) => [nameOf(e.instance), e]));
  return {
    attach: [...w].filter(([k]) => !h.has(k)).map(([, e]) => e),
    detach: [...h].filter(([k]) => !w.has(k)).map(([, e]) => e),
  };
}

export const vmIpNegKind: Kind<NetworkEndpointGroup> = {
  ...negKind,
  diff: (want, have): Diff => {
    const replace = immutableDiff(want, have);
    if (replace !== undefined) return { fields: [], replace };
    const d = instanceDiff(want, have);
    return { fields: d.attach.length > 0 || d.detach.length > 0 ? ['endpoints'] : [] };
  },
  update: async (ctx, key, want, have) => {
    const d = instanceDiff(want, have);
    await changeEndpoints(ctx, key, d.attach, d.detach);
  },
};
