// One aggregated list in place of a kind's global list and its list in the provider's
// region. Compute's aggregatedList of urlMaps, targetHttpProxies, targetHttpsProxies,
// sslCertificates, backendServices and healthChecks "retrieves the list of all ...
// resources, regional and global, available to the specified project"
// (https://cloud.google.com/compute/docs/reference/rest/v1/backendServices/aggregatedList,
// and the same sentence in @google-cloud/compute 6's aggregatedListAsync of each of those
// clients): GET projects/{project}/aggregated/<kind>?filter=..., answering
// `{"items": {"global": {"<kind>": [...]}, "regions/us-central1": {"<kind>": [...]}, ...}}`
// with, for a scope holding nothing that matched, `{"warning": {"code": "NO_RESULTS_ON_PAGE",
// ...}}` in place of the list, and `nextPageToken` when there is more (the client's
// aggregatedListAsync pages on its own and yields [scope, scopedList] pairs; a scope may
// come on several pages). The filter is the lists' own (`name eq <RE2>`), so a Gateway's
// resources of both scopes are one read per kind where lbc looks in both: the Gateway
// moved between a global and a regional class leaves nothing behind, and a delete, which
// has no class to go by, finds both.
//
// Addresses and forwardingRules also have an aggregatedList, but their reference says only
// "an aggregated list of addresses/forwarding rules", no global ones; globalAddresses and
// globalForwardingRules have none. Those stay one read per scope.
//
// returnPartialSuccess stays off: with it, GCE answers a scope it cannot read by leaving it
// out and naming it in the response's `unreachables`, which aggregatedListAsync does not
// hand back, so an unreadable region would look like an empty one and lbc would take a
// Gateway's leftovers there for gone. Without it the whole list fails and is retried
// (retry.ts). A scope of the provider's answering UNREACHABLE anyway is retried the same way.
import type { GaxCallOptions } from './compute.js';
import { GceError } from './errors.js';
import type { CallContext } from './kind.js';
import type { L7Scope } from './l7-scope.js';

export type ByScope<R> = Readonly<Record<L7Scope, R[]>>;

interface ScopedList {
  readonly warning?: { readonly code?: unknown; readonly message?: string | null } | null;
}

/**
 * The items of the global scope and of the provider's region; other regions' are not this
 * provider's (every regional kind works in options.region) and are left out.
 */
export async function listBothScopes<S extends ScopedList, R>(
  ctx: CallContext,
  call: string,
  target: string,
  fn: (o: GaxCallOptions) => AsyncIterable<[string, S]>,
  itemsOf: (list: S) => readonly R[] | null | undefined,
): Promise<ByScope<R>> {
  const { compute, signal, provider } = ctx;
  const regionKey = `regions/${compute.region}`;
  const scopeOf = (key: string): L7Scope | undefined => (key === 'global' ? 'global' : key === regionKey ? 'region' : undefined);
  async function* checked(o: GaxCallOptions): AsyncIterable<[string, S]> {
    for await (const [key, list] of fn(o)) {
      if (scopeOf(key) !== undefined && String(list.warning?.code ?? '') === 'UNREACHABLE') {
        throw new GceError('transient', `${call} ${target}: scope ${key} could not be read: ${list.warning?.message ?? 'UNREACHABLE'}`, { provider, reason: 'UNREACHABLE' });
      }
      yield [key, list];
    }
  }
  const scoped = await compute.collect(call, target, signal, checked);
  const out: Record<L7Scope, R[]> = { global: [], region: [] };
  for (const [key, list] of scoped) {
    const scope = scopeOf(key);
    if (scope !== undefined) out[scope].push(...(itemsOf(list) ?? []));
  }
  return out;
}
