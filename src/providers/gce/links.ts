// Resource URLs. lbc writes full self links; GCE may answer with another host or API
// version (www.googleapis.com vs compute.googleapis.com, v1 vs beta), so links are
// compared by their path from `projects/` on.

const BASE = 'https://www.googleapis.com/compute/v1/';

export function globalLink(project: string, collection: string, name: string): string {
  return `${BASE}projects/${project}/global/${collection}/${name}`;
}

export function regionalLink(project: string, region: string, collection: string, name: string): string {
  return `${BASE}projects/${project}/regions/${region}/${collection}/${name}`;
}

export function zonalLink(project: string, zone: string, collection: string, name: string): string {
  return `${BASE}projects/${project}/zones/${zone}/${collection}/${name}`;
}

/** `projects/p/regions/r/backendServices/x` from any form of the link; the input when it has no projects/ part. */
export function linkPath(link: string | null | undefined): string {
  if (!link) return '';
  const i = link.indexOf('projects/');
  return i < 0 ? link : link.slice(i);
}

export function sameLink(a: string | null | undefined, b: string | null | undefined): boolean {
  return linkPath(a) === linkPath(b);
}

export function sameLinkSet(a: readonly (string | null | undefined)[] | null | undefined, b: readonly (string | null | undefined)[] | null | undefined): boolean {
  const x = new Set((a ?? []).map(linkPath));
  const y = new Set((b ?? []).map(linkPath));
  return x.size === y.size && [...x].every((v) => y.has(v));
}

/** The resource name: the last path segment. */
export function nameOf(link: string | null | undefined): string {
  return link?.split('/').filter(Boolean).pop() ?? '';
}

/** The network URL from the configured name or URL. */
export function networkLink(network: string, project: string): string {
  return network.includes('/') ? `${BASE}${linkPath(network)}` : globalLink(project, 'networks', network);
}

export function sameStringSet(a: readonly (string | null | undefined)[] | null | undefined, b: readonly (string | null | undefined)[] | null | undefined): boolean {
  const x = new Set(a ?? []);
  const y = new Set(b ?? []);
  return x.size === y.size && [...x].every((v) => y.has(v));
}
