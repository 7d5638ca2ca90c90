// Discovery documents (/version, /api, /apis, resource lists) built from the resource
// table, so kubectl and client libraries find every kind devcluster serves.
import type { ResourceType } from './resources.js';

export const SERVER_VERSION = {
  major: '1',
  minor: '30',
  gitVersion: 'v1.30.0+lbc.devcluster',
  gitCommit: '0000000000000000000000000000000000000000',
  gitTreeState: 'clean',
  buildDate: '2026-01-01T00:00:00Z',
  goVersion: 'node',
  compiler: 'lbc',
  platform: `${process.platform}/${process.arch === 'x64' ? 'amd64' : process.arch}`,
};

const VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

export function groupVersions(resources: ResourceType[]): Map<string, ResourceType[]> {
  const m = new Map<string, ResourceType[]>();
  for (const rt of resources) {
    const gv = rt.group ? `${rt.group}/${rt.version}` : rt.version;
    m.set(gv, [...(m.get(gv) ?? []), rt]);
  }
  return m;
}

export function apiVersions(): Record<string, unknown> {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '127.0.0.1' }],
  };
}

function groupEntry(group: string, version: string): Record<string, unknown> {
  const gv = { groupVersion: `${group}/${version}`, version };
  return { name: group, versions: [gv], preferredVersion: gv };
}

export function apiGroupList(resources: ResourceType[]): Record<string, unknown> {
  const groups = [...new Set(resources.filter((r) => r.group).map((r) => r.group))].sort();
  return {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: groups.map((g) => groupEntry(g, resources.find((r) => r.group === g)!.version)),
  };
}

export function apiGroup(resources: ResourceType[], group: string): Record<string, unknown> | undefined {
  const rt = resources.find((r) => r.group === group);
  if (!rt) return undefined;
  return { kind: 'APIGroup', apiVersion: 'v1', ...groupEntry(group, rt.version) };
}

export function apiResourceList(resources: ResourceType[], groupVersion: string): Record<string, unknown> | undefined {
  const rts = groupVersions(resources).get(groupVersion);
  if (!rts) return undefined;
  const list: Record<string, unknown>[] = [];
  for (const rt of rts) {
    list.push({
      name: rt.plural,
      singularName: '',
      namespaced: rt.namespaced,
      kind: rt.kind,
      // Namespaces cannot be deleted as a collection.
      verbs: rt.kind === 'Namespace' && rt.group === '' ? VERBS.filter((v) => v !== 'deletecollection') : VERBS,
      ...(rt.shortNames.length ? { shortNames: rt.shortNames } : {}),
      ...(rt.categories ? { categories: rt.categories } : {}),
    });
    if (rt.statusSubresource) {
      list.push({ name: `${rt.plural}/status`, singularName: '', namespaced: rt.namespaced, kind: rt.kind, verbs: ['get', 'patch', 'update'] });
    }
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion, resources: list };
}
