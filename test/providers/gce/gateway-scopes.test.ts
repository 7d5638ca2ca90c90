// A Gateway's two scopes looked at through Compute's aggregated lists (aggregated-list.ts):
// the fake answers aggregatedList as GCE does (items keyed by scope, a NO_RESULTS_ON_PAGE
// warning for each scope with nothing, pages, a malformed filter refused in GCE's words);
// an ensure and a delete read each kind with an aggregated list once for both scopes; what
// is in another region, or is not lbc's, is never touched; a scope of the provider's that
// GCE could not read is retried, never taken for empty.
import { OAuth2Client } from 'google-auth-library';
import { describe, expect, it } from 'vitest';
import { Compute } from '../../../src/providers/gce/compute.js';
import { gatewayNames } from '../../../src/providers/gce/names.js';
import { gceOptionsSchema } from '../../../src/providers/gce/options.js';
import { isWrite } from './fake-compute.js';
import { CLUSTER_ID, PROJECT, REGION, rejection, seedVpcNativeNodes, TOKEN } from './fixtures.js';
import { gatewaySpec, GW_REF, seedProxyOnlySubnet } from './gateway-fixtures.js';
import { harnessPerTest } from './lifecycle.js';

const harness = harnessPerTest();

const R = `regions/${REGION}`;
const OTHER = 'europe-west1';
const names = gatewayNames(GW_REF, CLUSTER_ID, 'default');
const RILB = 'gke-l7-rilb';

function compute(): Compute {
  const auth = new OAuth2Client();
  auth.setCredentials({ access_token: TOKEN, expiry_date: Date.now() + 3600_000 });
  return new Compute({
    provider: 'gce',
    options: gceOptionsSchema.parse({ project: PROJECT, region: REGION, clusterId: CLUSTER_ID, retry: { retries: 0, minDelayMs: 1, maxDelayMs: 1 } }),
    clientOptions: { authClient: auth },
  });
}

async function entries<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const e of it) out.push(e);
  return out;
}

describe('gce fake: aggregatedList as GCE answers it', () => {
  it('items keyed by scope (global and every region), a NO_RESULTS_ON_PAGE warning for each scope with nothing, and pages the client follows', async () => {
    const h = harness({}, { otherRegions: [OTHER], aggregatedPageSize: 1 });
    h.fake.seed('global/urlMaps/gw-a', { description: 'x' });
    h.fake.seed(`${R}/urlMaps/gw-b`, { description: 'x' });
    h.fake.seed(`regions/${OTHER}/urlMaps/gw-c`, { description: 'x' });
    h.fake.seed(`${R}/urlMaps/other`, { description: 'x' });
    const c = compute();
    try {
      const got = await entries(c.urlMaps.aggregatedListAsync({ project: PROJECT, filter: 'name eq gw-.*' }));
      const byScope = new Map<string, string[]>();
      const warnings = new Map<string, string>();
      for (const [scope, list] of got) {
        if (list.warning) warnings.set(scope, String(list.warning.code));
        byScope.set(scope, [...(byScope.get(scope) ?? []), ...(list.urlMaps ?? []).map((m) => m.name ?? '')]);
      }
      expect(Object.fromEntries([...byScope].filter(([, v]) => v.length > 0))).toEqual({ global: ['gw-a'], [R]: ['gw-b'], [`regions/${OTHER}`]: ['gw-c'] });
      // Each scope had a match: no warning.
      expect(Object.fromEntries(warnings)).toEqual({});
      // Three matches, one a page: three requests, the later ones with the page token.
      expect(h.fake.log.filter((l) => l.rpc === 'UrlMaps.AggregatedList').map((l) => l.query.pageToken)).toEqual([undefined, '1', '2']);

      const empty = await entries(c.backendServices.aggregatedListAsync({ project: PROJECT, filter: 'name eq gw-.*' }));
      expect(empty.map(([scope, list]) => [scope, list.warning?.code, list.warning?.message])).toEqual(
        ['global', R, `regions/${OTHER}`].map((scope) => [scope, 'NO_RESULTS_ON_PAGE', `There are no results for scope '${scope}' on this page.`]),
      );
    } finally {
      await c.close();
    }
  });

  it("refuses a malformed filter with GCE's 400, on lists and aggregated lists alike", async () => {
    const h = harness();
    const c = compute();
    try {
      const filters = ['name eq "gw-', 'name eq (gw-', 'name equals gw'];
      for (const filter of filters) {
        for (const call of [
          () => c.collect('healthChecks.aggregatedList', 'gw', undefined, (o) => c.healthChecks.aggregatedListAsync({ project: PROJECT, filter }, o)),
          () => c.list('healthChecks.list', 'gw', undefined, (o) => c.healthChecks.list({ project: PROJECT, filter }, o)),
        ]) {
          // Not retried: the caller's mistake.
          const err = await rejection(call());
          expect(err).toMatchObject({ kind: 'invalid', status: 400, reason: 'invalid' });
          expect(err.message).toContain(`Invalid value for field 'filter': '${filter}'. Invalid list filter expression.`);
        }
      }
      expect(h.fake.log.map((l) => `${l.rpc} ${l.status}`)).toEqual(filters.flatMap(() => ['HealthChecks.AggregatedList 400', 'HealthChecks.List 400']));
    } finally {
      await c.close();
    }
  });
});

describe('gce Gateway: both scopes through aggregated lists', () => {
  it('a no-op ensure reads the other scope with one address get more; a delete reads each aggregated kind once for both scopes', async () => {
    const h = harness({}, { otherRegions: [OTHER] });
    seedVpcNativeNodes(h.fake);
    seedProxyOnlySubnet(h.fake);
    await h.provider.ensure(gatewaySpec());
    h.fake.clearLog();
    await h.provider.ensure(gatewaySpec());
    expect(h.fake.writes()).toEqual([]);
    const aggregated = ['BackendServices', 'HealthChecks', 'SslCertificates', 'TargetHttpProxies', 'TargetHttpsProxies', 'UrlMaps'].map((k) => `${k}.AggregatedList`);
    // Each Compute read but the operation waits, by method.
    const reads = (): string[] =>
      h.fake
        .reads()
        .map((r) => r.split(' ')[0] ?? '')
        .filter((rpc) => !rpc.endsWith('Operations.Wait'))
        .sort();
    expect(reads().filter((r) => r !== 'NetworkEndpointGroups.ListNetworkEndpoints')).toEqual(
      [
        ...aggregated,
        // This scope's address and the other's, the only kind of the other scope read on its own.
        'GlobalAddresses.Get',
        'Addresses.Get',
        'GlobalForwardingRules.List',
        'Firewalls.Get',
        'NetworkEndpointGroups.AggregatedList',
      ].sort(),
    );
    h.fake.clearLog();
    await h.provider.delete(GW_REF);
    expect(reads()).toEqual(
      [
        ...aggregated,
        // Neither kind has an aggregated list with the global ones: one read a scope.
        'GlobalAddresses.Get',
        'Addresses.Get',
        'GlobalForwardingRules.List',
        'ForwardingRules.List',
        // Both scopes' firewall rules in one list.
        'Firewalls.List',
        // The NEGs' owners, read before they go.
        'NetworkEndpointGroups.AggregatedList',
        // Whether the cluster's instance groups are still used (a Gateway's backends may have been on them).
        'InstanceGroups.AggregatedList',
      ].sort(),
    );
    expect(h.fake.paths().filter((p) => !p.includes('/instances/') && !p.includes('/subnetworks/'))).toEqual([]);
  });

  it("what has the Gateway's names in another region, or is not lbc's, is left alone: by a delete and by a class change", async () => {
    const h = harness({}, { otherRegions: [OTHER] });
    seedVpcNativeNodes(h.fake);
    seedProxyOnlySubnet(h.fake);
    // Made by an lbc of the same cluster serving another region (same names, same owner).
    const ours = (await (async () => {
      await h.provider.ensure(gatewaySpec());
      return h.fake.get(`global/urlMaps/${names.urlMap(80)}`)?.description;
    })()) as string;
    const elsewhere = [`regions/${OTHER}/urlMaps/${names.urlMap(80)}`, `regions/${OTHER}/backendServices/${names.fallbackService}`, `regions/${OTHER}/healthChecks/${names.fallbackService}`];
    for (const p of elsewhere) h.fake.seed(p, { description: ours });
    // Someone else's, under the Gateway's prefix, in both scopes of this provider.
    const foreign = [`global/urlMaps/${names.urlMap(8080)}`, `${R}/urlMaps/${names.urlMap(8080)}`, `${R}/backendServices/${names.prefix}someone`];
    for (const p of foreign) h.fake.seed(p, { description: 'made by hand' });
    // Moved to the regional class: the global load balancer goes, the rest stays.
    await h.provider.ensure(gatewaySpec({ className: RILB }));
    expect(h.fake.get(`global/urlMaps/${names.urlMap(80)}`)).toBeUndefined();
    expect(h.fake.get(`${R}/urlMaps/${names.urlMap(80)}`)).toBeDefined();
    await h.provider.delete(GW_REF);
    expect(h.fake.violations).toEqual([]);
    expect(h.fake.paths().filter((p) => !p.includes('/instances/') && !p.includes('/subnetworks/'))).toEqual([...elsewhere, ...foreign].sort());
    // Not even tried: no write went to any of them.
    const untouched = [...elsewhere, ...foreign].map((p) => `projects/${PROJECT}/${p}`);
    expect(h.fake.log.filter((l) => isWrite(l) && untouched.some((p) => l.path.startsWith(p)))).toEqual([]);
  });

  it("a scope of the provider's that GCE could not read (UNREACHABLE) is read again, never taken for empty; another region's is no matter", async () => {
    const h = harness({}, { otherRegions: [OTHER] });
    seedVpcNativeNodes(h.fake);
    seedProxyOnlySubnet(h.fake);
    await h.provider.ensure(gatewaySpec({ className: RILB }));
    const unreachable = (scope: string) => ({
      status: 200,
      body: { items: { [scope]: { warning: { code: 'UNREACHABLE', message: `Scope '${scope}' is unreachable.`, data: [{ key: 'scope', value: scope }] } } } },
    });
    h.fake.failNext((c) => c.rpc === 'BackendServices.AggregatedList', unreachable(R));
    h.fake.clearLog();
    await h.provider.delete(GW_REF);
    // Read twice, and the regional backend services found the second time are gone.
    expect(h.fake.log.filter((l) => l.rpc === 'BackendServices.AggregatedList')).toHaveLength(2);
    expect(h.fake.paths().filter((p) => !p.includes('/instances/') && !p.includes('/subnetworks/'))).toEqual([]);

    // Nothing left: another region unreadable changes nothing here, so one read.
    h.fake.failNext((c) => c.rpc === 'BackendServices.AggregatedList', unreachable(`regions/${OTHER}`));
    h.fake.clearLog();
    await h.provider.delete(GW_REF);
    expect(h.fake.log.filter((l) => l.rpc === 'BackendServices.AggregatedList')).toHaveLength(1);
  });
});
