// Unmanaged instance groups, one per zone, named k8s-ig--<cluster-id> as ingress-gce and
// the GCE cloud provider name them. A VM can be in only one load-balanced unmanaged
// group, so every load balancer of the cluster (internal, external, Ingress) shares
// them: they hold every eligible node of their zone, and carry the named ports
// (`port<nodePort>`) Ingress backend services address. Named ports are only ever added
// (another Ingress may use one this one dropped). A group is deleted only when no
// backend service uses it any more (GCE refuses otherwise), which delete() tries.
import type { protos } from '@google-cloud/compute';
import { isFingerprintConflict, isInUse, isNotFound } from './errors.js';
import type { CallContext, Diff, Key, Kind, Observed } from './kind.js';
import { nameOf } from './links.js';
import { comparableInstance } from './nodes.js';
import { ownershipOf } from './ownership.js';

/**
 * The group plus its members (instance links), which GCE keeps apart. keepOthers: the
 * group is someone else's (GKE's ingress-gce or L4 controller made it), so members lbc
 * does not want are not lbc's to remove.
 */
export type InstanceGroup = protos.google.cloud.compute.v1.IInstanceGroup & { members?: string[]; keepOthers?: boolean };
type NamedPort = protos.google.cloud.compute.v1.INamedPort;

const CHUNK = 500;
const chunks = <T>(xs: readonly T[]): T[][] => Array.from({ length: Math.ceil(xs.length / CHUNK) }, (_, i) => xs.slice(i * CHUNK, (i + 1) * CHUNK));

function missingPorts(want: readonly NamedPort[], have: readonly NamedPort[]): NamedPort[] {
  return want.filter((w) => !have.some((h) => h.name === w.name && h.port === w.port));
}

function membership(want: InstanceGroup, have: InstanceGroup): { add: string[]; remove: string[] } {
  const wantSet = new Map((want.members ?? []).map((m) => [comparableInstance(m), m]));
  const haveSet = new Map((have.members ?? []).map((m) => [comparableInstance(m), m]));
  return {
    add: [...wantSet.entries()].filter(([k]) => !haveSet.has(k)).map(([, v]) => v),
    remove: want.keepOthers ? [] : [...haveSet.entries()].filter(([k]) => !wantSet.has(k)).map(([, v]) => v),
  };
}

async function listMembers(ctx: CallContext, key: Key): Promise<string[]> {
  const { compute, signal } = ctx;
  const zone = key.zone ?? '';
  const items = await compute.list('instanceGroups.listInstances', `${zone}/${key.name}`, signal, (o) =>
    compute.instanceGroups.listInstances(
      { project: compute.project, zone, instanceGroup: key.name, instanceGroupsListInstancesRequestResource: { instanceState: 'ALL' } },
      o,
    ),
  );
  return items.map((i) => i.instance ?? '').filter((s) => s !== '');
}

async function changeMembers(ctx: CallContext, key: Key, add: readonly string[], remove: readonly string[]): Promise<void> {
  const { compute, signal } = ctx;
  const zone = key.zone ?? '';
  const target = `${zone}/${key.name}`;
  for (const part of chunks(remove)) {
    try {
      await compute.write('instanceGroups.removeInstances', target, signal, (o) =>
        compute.instanceGroups.removeInstances(
          {
            project: compute.project,
            zone,
            instanceGroup: key.name,
            instanceGroupsRemoveInstancesRequestResource: { instances: part.map((instance) => ({ instance })) },
          },
          o,
        ),
      );
    } catch (e) {
      // An instance deleted meanwhile is already out of the group.
      if (!isNotFound(e)) throw e;
    }
  }
  for (const part of chunks(add)) {
    await compute.write('instanceGroups.addInstances', target, signal, (o) =>
      compute.instanceGroups.addInstances(
        { project: compute.project, zone, instanceGroup: key.name, instanceGroupsAddInstancesRequestResource: { instances: part.map((instance) => ({ instance })) } },
        o,
      ),
    );
  }
}

async function addNamedPorts(ctx: CallContext, key: Key, want: readonly NamedPort[], have: InstanceGroup): Promise<void> {
  const { compute, signal } = ctx;
  const zone = key.zone ?? '';
  let current = have;
  for (let attempt = 0; ; attempt++) {
    const missing = missingPorts(want, current.namedPorts ?? []);
    if (missing.length === 0) return;
    const namedPorts = [...(current.namedPorts ?? []).map((p) => ({ name: p.name, port: p.port })), ...missing].sort((a, b) =>
      (a.name ?? '') < (b.name ?? '') ? -1 : 1,
    );
    try {
      await compute.write('instanceGroups.setNamedPorts', `${zone}/${key.name}`, signal, (o) =>
        compute.instanceGroups.setNamedPorts(
          {
            project: compute.project,
            zone,
            instanceGroup: key.name,
            instanceGroupsSetNamedPortsRequestResource: { namedPorts, ...(current.fingerprint ? { fingerprint: current.fingerprint } : {}) },
          },
          o,
        ),
      );
      return;
    } catch (e) {
      // Someone else set ports since we read them: read again and merge again.
      if (!isFingerprintConflict(e) || attempt >= 2) throw e;
      const fresh = await getGroup(ctx, key);
      if (!fresh) throw e;
      current = fresh;
    }
  }
}

async function getGroup(ctx: CallContext, key: Key): Promise<InstanceGroup | undefined> {
  const { compute, signal } = ctx;
  const zone = key.zone ?? '';
  return compute.readOptional('instanceGroups.get', `${zone}/${key.name}`, signal, (o) =>
    compute.instanceGroups.get({ project: compute.project, zone, instanceGroup: key.name }, o),
  );
}

export const instanceGroupKind: Kind<InstanceGroup> = {
  resource: 'InstanceGroup',
  rank: 40,
  get: async (ctx, key) => {
    const group = await getGroup(ctx, key);
    return group ? { ...group, members: await listMembers(ctx, key) } : undefined;
  },
  insert: async (ctx, key, body) => {
    const { compute, signal } = ctx;
    const zone = key.zone ?? '';
    const { members = [], keepOthers: _, ...resource } = body;
    await compute.write('instanceGroups.insert', `${zone}/${key.name}`, signal, (o) =>
      compute.instanceGroups.insert({ project: compute.project, zone, instanceGroupResource: { ...resource, name: key.name } }, o),
    );
    await changeMembers(ctx, key, members, []);
  },
  remove: async ({ compute, signal }, key) => {
    const zone = key.zone ?? '';
    try {
      await compute.write('instanceGroups.delete', `${zone}/${key.name}`, signal, (o) =>
        compute.instanceGroups.delete({ project: compute.project, zone, instanceGroup: key.name }, o),
      );
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  },
  diff: (want, have): Diff => {
    const fields: string[] = [];
    const m = membership(want, have);
    if (m.add.length > 0 || m.remove.length > 0) fields.push('instances');
    if (missingPorts(want.namedPorts ?? [], have.namedPorts ?? []).length > 0) fields.push('namedPorts');
    return { fields };
  },
  asGuest: (body) => ({ ...body, keepOthers: true }),
  update: async (ctx, key, want, have, fields) => {
    if (fields.includes('instances')) {
      const m = membership(want, have);
      await changeMembers(ctx, key, m.add, m.remove);
    }
    if (fields.includes('namedPorts')) await addNamedPorts(ctx, key, want.namedPorts ?? [], have);
  },
};

/**
 * Every zone of the region holding the cluster's group: one aggregated list, then one
 * member list per group, which deletion (it only needs to know where groups are) skips.
 */
export async function observeInstanceGroups(
  ctx: CallContext,
  name: string,
  clusterName: string,
  opts: { readonly members: boolean } = { members: true },
): Promise<Observed<InstanceGroup>[]> {
  const { compute, signal } = ctx;
  const scoped = await compute.collect('instanceGroups.aggregatedList', name, signal, (o) =>
    compute.instanceGroups.aggregatedListAsync({ project: compute.project, filter: `name eq ${name}` }, o),
  );
  const groups = scoped
    .flatMap(([, list]) => list.instanceGroups ?? [])
    .filter((g) => g.name === name && nameOf(g.zone).startsWith(`${compute.region}-`));
  return Promise.all(
    groups.map(async (g) => {
      const key: Key = { name, zone: nameOf(g.zone) };
      const members = opts.members ? { members: await listMembers(ctx, key) } : {};
      return { key, resource: { ...g, ...members }, ownership: ownershipOf(g.description, clusterName) };
    }),
  );
}

/** Tries to delete the cluster's groups; those a backend service still uses stay. */
export async function deleteUnusedInstanceGroups(ctx: CallContext, groups: readonly Observed<InstanceGroup>[]): Promise<string[]> {
  const deleted: string[] = [];
  for (const g of groups) {
    if (g.ownership !== 'shared') continue;
    try {
      await instanceGroupKind.remove(ctx, g.key);
      deleted.push(`${g.key.zone ?? ''}/${g.key.name}`);
    } catch (e) {
      if (!isInUse(e)) throw e;
    }
  }
  return deleted;
}
