// The URL map of an Ingress: host rules and path matchers built from the Ingress rules
// the way ingress-gce builds them (one path matcher per host, named "host" + md5 of the
// host; rules without a host under "*"), and Exact/Prefix mapped onto GCE's path
// syntax. A rule change updates the map in place with its fingerprint; the load
// balancer around it is never recreated for it.
import type { protos } from '@google-cloud/compute';
import type { L7Spec, PathType } from '../../model/spec.js';
import { updateWithFingerprint } from './backend-service.js';
import { isNotFound } from './errors.js';
import type { CallContext, Diff, Key, Kind } from './kind.js';
import type { L7Scope } from './l7-scope.js';
import { linkPath } from './links.js';
import { pathMatcherName } from './names.js';

export type UrlMap = protos.google.cloud.compute.v1.IUrlMap;

/**
 * GCE matches a path rule exactly unless it ends in `/*`, which matches the prefix up to
 * the slash and everything below it; the longest match wins. So, as ingress-gce does:
 * Exact /foo → /foo; Prefix /foo → /foo and /foo/*; Prefix / → /*. ImplementationSpecific
 * is GCE's own syntax, passed through, except that / means everything (the empty path
 * of the Ingress, which the builder turns into /).
 */
export function gcePaths(path: string, pathType: PathType): string[] {
  if (pathType === 'Exact') return [path];
  if (pathType === 'ImplementationSpecific') return [path === '/' ? '/*' : path];
  const trimmed = path.replace(/\/+$/, '');
  return trimmed === '' ? ['/*'] : [trimmed, `${trimmed}/*`];
}

/** The desired map; `service` turns a target set name into its backend service link. */
export function buildUrlMap(spec: L7Spec, description: string, defaultService: string, service: (targetSet: string) => string): UrlMap {
  const byHost = new Map<string, { path: string; service: string }[]>();
  for (const rule of spec.rules) {
    const host = rule.host ?? '*';
    let rules = byHost.get(host);
    if (!rules) byHost.set(host, (rules = []));
    for (const path of gcePaths(rule.path, rule.pathType)) {
      // The first rule for a path wins (the builder orders them by priority); GCE rejects duplicates.
      if (!rules.some((r) => r.path === path)) rules.push({ path, service: service(rule.targetSet) });
    }
  }
  const hosts = [...byHost.keys()].sort();
  return {
    description,
    defaultService,
    hostRules: hosts.map((host) => ({ hosts: [host], pathMatcher: pathMatcherName(host) })),
    pathMatchers: hosts.map((host) => ({
      name: pathMatcherName(host),
      defaultService,
      pathRules: (byHost.get(host) ?? []).map((r) => ({ paths: [r.path], service: r.service })),
    })),
  };
}

/**
 * A Gateway map's ordered parts (route rules, route actions; gateway-url-map.ts) with
 * links in one form, and empty lists, false and 0 as absent: proto3 defaults, which GCE
 * leaves out of what it returns.
 */
function canonicalRoutes(v: unknown, key?: string): unknown {
  if (typeof v === 'string') return key === 'backendService' || key === 'service' ? linkPath(v) : v;
  if (Array.isArray(v)) return v.length === 0 ? undefined : v.map((x) => canonicalRoutes(x, key));
  if (v && typeof v === 'object') {
    const out = Object.entries(v as Record<string, unknown>)
      // The client's decoded messages name each set optional field again as `_field` (protobuf.js oneof markers).
      .filter(([k]) => !k.startsWith('_'))
      .map(([k, x]) => [k, canonicalRoutes(x, k)] as const)
      .filter(([, x]) => x !== undefined && x !== null && x !== false && x !== 0)
      .sort(([a], [b]) => (a < b ? -1 : 1));
    return out.length === 0 ? undefined : Object.fromEntries(out);
  }
  return v;
}

/** Order-insensitive and link-form-insensitive view of a map, for comparison. */
function canonical(m: UrlMap): string {
  const pathMatchers = (m.pathMatchers ?? [])
    .map((pm) => ({
      name: pm.name ?? '',
      defaultService: linkPath(pm.defaultService),
      defaultRouteAction: canonicalRoutes(pm.defaultRouteAction),
      // Route rules keep their order: a priority is part of what they mean.
      routeRules: canonicalRoutes(pm.routeRules),
      pathRules: (pm.pathRules ?? [])
        .map((r) => ({ paths: [...(r.paths ?? [])].sort(), service: linkPath(r.service) }))
        .sort((a, b) => ((a.paths[0] ?? '') < (b.paths[0] ?? '') ? -1 : 1)),
    }))
    .sort((a, b) => (a.name < b.name ? -1 : 1));
  const hostRules = (m.hostRules ?? [])
    .map((h) => ({ hosts: [...(h.hosts ?? [])].sort(), pathMatcher: h.pathMatcher ?? '' }))
    .sort((a, b) => (a.pathMatcher < b.pathMatcher ? -1 : 1));
  const r = m.defaultUrlRedirect;
  const redirect = r ? { httpsRedirect: Boolean(r.httpsRedirect), code: String(r.redirectResponseCode ?? 'MOVED_PERMANENTLY_DEFAULT') } : undefined;
  return JSON.stringify({ defaultService: linkPath(m.defaultService), defaultRouteAction: canonicalRoutes(m.defaultRouteAction), hostRules, pathMatchers, redirect });
}

async function getMap(ctx: CallContext, scope: L7Scope, key: Key): Promise<UrlMap | undefined> {
  const { compute, signal } = ctx;
  return scope === 'region'
    ? compute.readOptional('regionUrlMaps.get', key.name, signal, (o) => compute.regionUrlMaps.get({ project: compute.project, region: compute.region, urlMap: key.name }, o))
    : compute.readOptional('urlMaps.get', key.name, signal, (o) => compute.urlMaps.get({ project: compute.project, urlMap: key.name }, o));
}

async function putMap(ctx: CallContext, scope: L7Scope, key: Key, urlMapResource: UrlMap): Promise<void> {
  const { compute, signal } = ctx;
  if (scope === 'region') {
    await compute.write('regionUrlMaps.update', key.name, signal, (o) =>
      compute.regionUrlMaps.update({ project: compute.project, region: compute.region, urlMap: key.name, urlMapResource }, o),
    );
  } else {
    await compute.write('urlMaps.update', key.name, signal, (o) => compute.urlMaps.update({ project: compute.project, urlMap: key.name, urlMapResource }, o));
  }
}

function urlMapKindOf(scope: L7Scope): Kind<UrlMap> {
  return {
    resource: scope === 'region' ? 'RegionUrlMap' : 'UrlMap',
    rank: 70,
    get: (ctx, key) => getMap(ctx, scope, key),
    insert: async ({ compute, signal }, key, body) => {
      const urlMapResource = { ...body, name: key.name };
      if (scope === 'region') {
        await compute.write('regionUrlMaps.insert', key.name, signal, (o) => compute.regionUrlMaps.insert({ project: compute.project, region: compute.region, urlMapResource }, o));
      } else {
        await compute.write('urlMaps.insert', key.name, signal, (o) => compute.urlMaps.insert({ project: compute.project, urlMapResource }, o));
      }
    },
    remove: async ({ compute, signal }, key) => {
      try {
        if (scope === 'region') {
          await compute.write('regionUrlMaps.delete', key.name, signal, (o) => compute.regionUrlMaps.delete({ project: compute.project, region: compute.region, urlMap: key.name }, o));
        } else {
          await compute.write('urlMaps.delete', key.name, signal, (o) => compute.urlMaps.delete({ project: compute.project, urlMap: key.name }, o));
        }
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
    },
    diff: (want, have): Diff => {
      const fields: string[] = [];
      if (canonical(want) !== canonical(have)) fields.push('rules');
      if ((want.description ?? '') !== (have.description ?? '')) fields.push('description');
      return { fields };
    },
    // One PUT of the whole map with the fingerprint read, in either scope: a route change is one call.
    update: (ctx, key, want, have) =>
      updateWithFingerprint(
        () => getMap(ctx, scope, key),
        (fingerprint) => putMap(ctx, scope, key, { ...want, name: key.name, ...(fingerprint !== undefined ? { fingerprint } : {}) }),
        have,
      ),
  };
}

export const urlMapKind = urlMapKindOf('global');
export const regionUrlMapKind = urlMapKindOf('region');
