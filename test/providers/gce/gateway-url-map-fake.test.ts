// A Gateway's URL map (gateway-url-map.ts) written through the real Compute client to the
// fake, which refuses what GCE refuses in an EXTERNAL_MANAGED map: the exact requests of
// create, a weight change (ONE urlMaps.update), a no-op (no write) and delete.
import { OAuth2Client } from 'google-auth-library';
import { describe, expect, it } from 'vitest';
import type { HttpRouteRule } from '../../../src/model/gateway.js';
import { Compute } from '../../../src/providers/gce/compute.js';
import { globalBackendServiceKind } from '../../../src/providers/gce/backend-service.js';
import { gatewayUrlMap } from '../../../src/providers/gce/gateway-url-map.js';
import type { CallContext } from '../../../src/providers/gce/kind.js';
import { gceOptionsSchema } from '../../../src/providers/gce/options.js';
import { urlMapKind, type UrlMap } from '../../../src/providers/gce/url-map.js';
import { backend, canaryRules, httpRule, prefix } from '../aws/gateway-support.js';
import { PROJECT, REGION, TOKEN } from './fixtures.js';
import { harnessPerTest } from './lifecycle.js';

const harness = harnessPerTest();
const BS = `https://www.googleapis.com/compute/v1/projects/${PROJECT}/global/backendServices`;
const MAP = { name: 'gkegw1-test-shop-edge-80' };

function setup(scheme = 'EXTERNAL_MANAGED') {
  const h = harness();
  for (const name of ['fallback', 'error', 'shop-web', 'shop-api', 'shop-api-v2']) h.fake.seed(`global/backendServices/${name}`, { loadBalancingScheme: scheme, protocol: 'HTTP' });
  const auth = new OAuth2Client();
  auth.setCredentials({ access_token: TOKEN, expiry_date: Date.now() + 3600_000 });
  const options = gceOptionsSchema.parse({ project: PROJECT, region: REGION, clusterId: 'cid1', subnetwork: 'nodes', retry: { retries: 0, minDelayMs: 1, maxDelayMs: 1 } });
  const compute = new Compute({ provider: 'gce', options, clientOptions: { authClient: auth } });
  const ctx: CallContext = { compute, signal: undefined, provider: 'gce' };
  return { h, ctx, close: () => compute.close() };
}

const service = (set: string): string => `${BS}/shop-${set.replace(/^shop\//, '').replace(/:\d+$/, '')}`;
const map = (rules: readonly HttpRouteRule[]): UrlMap =>
  gatewayUrlMap([{ name: 'http', rules }], '{"kubernetes.io/gateway-name":"shop/edge"}', { service, fallbackService: `${BS}/fallback`, errorService: `${BS}/error`, protocol: 'HTTP', invalid: (m) => new Error(m), warnings: [] });

async function converge(ctx: CallContext, want: UrlMap): Promise<void> {
  const have = await urlMapKind.get(ctx, MAP);
  if (!have) return urlMapKind.insert(ctx, MAP, want);
  const { fields } = urlMapKind.diff(want, have);
  if (fields.length > 0) await urlMapKind.update(ctx, MAP, want, have, fields);
}

describe('EXTERNAL_MANAGED URL map against the fake', () => {
  it('create is one UrlMaps.Insert; a weight change is ONE UrlMaps.Update; the same map again writes nothing; delete is one UrlMaps.Delete', async () => {
    const { h, ctx, close } = setup();
    await converge(ctx, map(canaryRules([90, 10])));
    expect(h.fake.writes()).toEqual([`UrlMaps.Insert ${MAP.name}`]);
    const stored = h.fake.get(`global/urlMaps/${MAP.name}`);
    expect((stored?.pathMatchers as { routeRules: unknown[] }[])[0]?.routeRules).toHaveLength(2);

    h.fake.clearLog();
    await converge(ctx, map(canaryRules([50, 50])));
    expect(h.fake.writes()).toEqual([`UrlMaps.Update ${MAP.name}`]);
    const weights = (h.fake.get(`global/urlMaps/${MAP.name}`)?.pathMatchers as { routeRules: { routeAction: { weightedBackendServices: { weight: number }[] } }[] }[])[0]?.routeRules[0]
      ?.routeAction.weightedBackendServices.map((w) => w.weight);
    expect(weights).toEqual([50, 50]);

    h.fake.clearLog();
    await converge(ctx, map(canaryRules([50, 50])));
    expect(h.fake.writes()).toEqual([]);

    await urlMapKind.remove(ctx, MAP);
    expect(h.fake.writes()).toEqual([`UrlMaps.Delete ${MAP.name}`]);
    await close();
  });

  it('refuses route rules in front of a classic (EXTERNAL) backend service, in GCE words', async () => {
    const { ctx, close } = setup('EXTERNAL');
    await expect(urlMapKind.insert(ctx, MAP, map(canaryRules()))).rejects.toThrow(/Advanced routing rules are not supported for scheme EXTERNAL/);
    await close();
  });

  it('refuses a priority used twice in a path matcher and a weight above 1000', async () => {
    const { ctx, close } = setup();
    const twice = map([httpRule(0, [prefix('/a')], [backend('shop/web:80')]), httpRule(1, [prefix('/b')], [backend('shop/web:80')])]);
    for (const pm of twice.pathMatchers ?? []) for (const r of pm.routeRules ?? []) r.priority = 7;
    await expect(urlMapKind.insert(ctx, MAP, twice)).rejects.toThrow(/routeRules\[1\]\.priority.*unique/);
    const heavy = map(canaryRules());
    const w = heavy.pathMatchers?.[0]?.routeRules?.[0]?.routeAction?.weightedBackendServices?.[0];
    if (w) w.weight = 1001;
    await expect(urlMapKind.insert(ctx, MAP, heavy)).rejects.toThrow(/weight.*0 and 1000/);
    await close();
  });
});

describe('the fallback backend service unmatched requests stand in front of, against the fake', () => {
  // GCE asks a backend service for a health check only once it has instance group or zonal
  // NEG backends (compute v1 BackendService.healthChecks), so the backendless one lbc puts
  // behind the URL map's 404/500 fault aborts is accepted without one.
  it('accepts an EXTERNAL_MANAGED backend service with neither backends nor health check; refuses a zonal NEG or instance group backend without one, in GCE words', async () => {
    const { h, ctx, close } = setup();
    await globalBackendServiceKind.insert(ctx, { name: 'gw-serve404' }, { protocol: 'HTTP', loadBalancingScheme: 'EXTERNAL_MANAGED', timeoutSec: 30 });
    expect(h.fake.get('global/backendServices/gw-serve404')).toMatchObject({ loadBalancingScheme: 'EXTERNAL_MANAGED' });
    const V1 = `https://www.googleapis.com/compute/v1/projects/${PROJECT}`;
    h.fake.seed(`zones/${REGION}-a/networkEndpointGroups/neg-a`, { networkEndpointType: 'GCE_VM_IP_PORT' });
    h.fake.seed(`zones/${REGION}-a/instanceGroups/ig-a`, {});
    for (const group of [`${V1}/zones/${REGION}-a/networkEndpointGroups/neg-a`, `${V1}/zones/${REGION}-a/instanceGroups/ig-a`]) {
      const body = { protocol: 'HTTP', loadBalancingScheme: 'EXTERNAL_MANAGED', backends: [{ group, balancingMode: 'RATE', maxRatePerEndpoint: 1 }] };
      await expect(globalBackendServiceKind.insert(ctx, { name: 'no-check' }, body)).rejects.toThrow("Invalid value for field 'resource.healthChecks': ''. At least one health check needs to be specified.");
    }
    expect(h.fake.get('global/backendServices/no-check')).toBeUndefined();
    await close();
  });

  it('refuses a fault abort whose status is outside 200-599 or whose share is outside 0-100 (HttpFaultAbort)', async () => {
    const { ctx, close } = setup();
    const bad = map(canaryRules());
    bad.defaultRouteAction = { ...bad.defaultRouteAction, faultInjectionPolicy: { abort: { httpStatus: 600, percentage: 100 } } };
    await expect(urlMapKind.insert(ctx, MAP, bad)).rejects.toThrow(/resource\.defaultRouteAction\.faultInjectionPolicy\.abort\.httpStatus.*200 to 599/);
    const share = map(canaryRules());
    const pm = share.pathMatchers?.[0];
    if (pm) pm.defaultRouteAction = { ...pm.defaultRouteAction, faultInjectionPolicy: { abort: { httpStatus: 404, percentage: 101 } } };
    await expect(urlMapKind.insert(ctx, MAP, share)).rejects.toThrow(/pathMatchers\[0\]\.defaultRouteAction\.faultInjectionPolicy\.abort\.percentage.*0\.0 to 100\.0/);
    // What lbc writes (404 and 500 at 100%) is accepted.
    await urlMapKind.insert(ctx, MAP, map(canaryRules()));
    await close();
  });
});
