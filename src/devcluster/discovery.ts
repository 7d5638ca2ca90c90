// Discovery documents (/version, /api, /apis, resource lists) built from the resource
// table, so kubectl and client libraries find every kind devcluster serves.
import { isServed, type ResourceType } from './resources.js';

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
    if (!isServed(rt)) continue;
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

const KUBE_VERSION = /^v(\d+)(?:(alpha|beta)(\d+))?$/;

/**
 * apimachinery's version.CompareKubeAwareVersionStrings as a sort key: GA before beta
 * before alpha, higher numbers first, anything else last in lexical order. A group's
 * first version is its preferred one, which kubectl uses for a kind both versions serve.
 */
export function compareKubeVersions(a: string, b: string): number {
  const rank = (v: string): [number, number, number] => {
    const m = KUBE_VERSION.exec(v);
    if (!m) return [3, 0, 0];
    return [m[2] === undefined ? 0 : m[2] === 'beta' ? 1 : 2, -Number(m[1]), -Number(m[3] ?? 0)];
  };
  const ra = rank(a);
  const rb = rank(b);
  for (let i = 0; i < 3; i++) if (ra[i] !== rb[i]) return ra[i]! - rb[i]!;
  return a < b ? -1 : a > b ? 1 : 0;
}

function groupEntry(resources: ResourceType[], group: string): Record<string, unknown> | undefined {
  const versions = [...new Set(resources.filter((r) => r.group === group && isServed(r)).map((r) => r.version))].sort(compareKubeVersions);
  if (!versions.length) return undefined;
  const entries = versions.map((version) => ({ groupVersion: `${group}/${version}`, version }));
  return { name: group, versions: entries, preferredVersion: entries[0] };
}

export function apiGroupList(resources: ResourceType[]): Record<string, unknown> {
  const groups = [...new Set(resources.filter((r) => r.group && isServed(r)).map((r) => r.group))].sort();
  return {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: groups.map((g) => groupEntry(resources, g)!),
  };
}

export function apiGroup(resources: ResourceType[], group: string): Record<string, unknown> | undefined {
  const entry = groupEntry(resources, group);
  return entry && { kind: 'APIGroup', apiVersion: 'v1', ...entry };
}

export function apiResourceList(resources: ResourceType[], groupVersion: string): Record<string, unknown> | undefined {
  const rts = groupVersions(resources).get(groupVersion);
  if (!rts) return undefined;
  const list: Record<string, unknown>[] = [];
  for (const rt of rts) {
    list.push({
      name: rt.plural,
      // kube-apiserver names the singular only for custom resources (v1.26).
      singularName: rt.customResource ? rt.singular : '',
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
