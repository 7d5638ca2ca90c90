// A Gateway → the global external Application Load Balancer (EXTERNAL_MANAGED) through the
// real Compute clients and the fake API: the exact requests of a create, a weight change
// (ONE urlMaps.update), a no-op (no write) and a delete (nothing left), on NEGs as GKE's
// Gateway controller builds it and on the cluster's instance groups as an Ingress's.
import { OAuth2Client } from 'google-auth-library';
import { describe, expect, it } from 'vitest';
import { Compute } from '../../../src/providers/gce/compute.js';
import { globalForwardingRuleKind } from '../../../src/providers/gce/forwarding-rule.js';
import { gatewayNames, negName } from '../../../src/providers/gce/names.js';
import { gceOptionsSchema } from '../../../src/providers/gce/options.js';
import { CERT_A, CERT_B, CLUSTER_ID, GROUP_WRITES, KEY_A, KEY_B, PROJECT, REGION, rejection, seedVpcNativeNodes, TOKEN } from './fixtures.js';
import { backend, canaryRules, gatewaySpec, GW_REF, GW_UID, httpRule, prefix } from './gateway-fixtures.js';
import { harnessPerTest } from './lifecycle.js';

const harness = harnessPerTest();

const V1 = 'https://www.googleapis.com/compute/v1/projects/test-project';
const names = gatewayNames(GW_REF, CLUSTER_ID, 'default');
const web = names.backendService('shop/web:80', 'shop', 'web', 80);
const api = names.backendService('shop/api:8080', 'shop', 'api', 8080);
const apiV2 = names.backendService('shop/api-v2:8080', 'shop', 'api-v2', 8080);
const ZONES = [`${REGION}-a`, `${REGION}-b`];
/** A backend's NEG in each zone, made with its pod. */
const negsOf = (service: string, port: number): string[] =>
  ZONES.flatMap(() => [`NetworkEndpointGroups.Insert ${negName(CLUSTER_ID, 'shop', service, port)}`, `NetworkEndpointGroups.AttachNetworkEndpoints ${negName(CLUSTER_ID, 'shop', service, port)}`]);

/** The writes of an HTTP Gateway's create, in order, its backends' groups or NEGs being `backends`. */
const createWrites = (backends: readonly string[]): string[] => [
  `GlobalAddresses.Insert ${names.address}`,
  ...[web, api, apiV2].map((s) => `HealthChecks.Insert ${s}`),
  `Firewalls.Insert ${names.firewall}`,
  ...backends,
  ...[web, api, apiV2, names.fallbackService].map((s) => `BackendServices.Insert ${s}`),
  `UrlMaps.Insert ${names.urlMap(80)}`,
  `TargetHttpProxies.Insert ${names.targetProxy(80)}`,
  `GlobalForwardingRules.Insert ${names.forwardingRule(80)}`,
];

describe('gce Gateway names, as GKE Gateway controller gives them', () => {
  it('gkegw1-<4>-<namespace>-<name>-<12> for the frontend, -<service>-<port>- for backends, -l7-<network>-global for the firewall', () => {
    expect(names.address).toMatch(/^gkegw1-[0-9a-z]{4}-shop-edge-[0-9a-z]{12}$/);
    expect(names.urlMap(80)).toMatch(/^gkegw1-[0-9a-z]{4}-shop-edge-[0-9a-z]{12}$/);
    expect(new Set([names.address, names.urlMap(80), names.targetProxy(80), names.forwardingRule(80), names.forwardingRule(443)]).size).toBe(5);
    expect(web).toMatch(/^gkegw1-[0-9a-z]{4}-shop-web-80-[0-9a-z]{12}$/);
    expect(names.fallbackService).toMatch(/^gkegw1-[0-9a-z]{4}-shop-gw-serve404-80-[0-9a-z]{12}$/);
    expect(names.errorService).toMatch(/^gkegw1-[0-9a-z]{4}-shop-gw-serve500-80-[0-9a-z]{12}$/);
    expect(names.firewall).toBe(`${names.prefix}l7-default-global`);
    // As GKE's: the descriptive part cut so the whole fits 63 characters.
    const long = gatewayNames({ ...GW_REF, namespace: 'secrets-manager', name: 'gke-secrets-manager-gateway-external' }, CLUSTER_ID, 'default');
    expect(long.forwardingRule(443)).toHaveLength(63);
    const backend = long.backendService('x', 'llm-d-inference-scheduling', 'qwen2-3b-pattern1-inference-pool', 54321);
    expect(backend).toHaveLength(63);
    expect(backend).toMatch(/^gkegw1-[0-9a-z]{4}-llm-d-infer[a-z-]*-qwen2-3b-pattern1[a-z-]*-54321-[0-9a-z]{12}$/);
  });
});

describe('gce Gateway: create, weight change, no-op, delete', () => {
  it('on NEGs: address, health checks, firewall, NEGs, EXTERNAL_MANAGED backend services, URL map, proxy and forwarding rule; a weight change is one URL map update', async () => {
    const h = harness({}, { pendingOperations: true });
    seedVpcNativeNodes(h.fake);
    const before = h.fake.paths();
    const status = await h.provider.ensure(gatewaySpec());
    expect(h.fake.violations).toEqual([]);
    expect(status).toEqual({ ingress: [{ ip: '203.0.113.10', ipMode: 'Proxy' }], backendGroups: expect.any(Array) as unknown });
    expect(h.fake.writes()).toEqual(createWrites([...negsOf('web', 80), ...negsOf('api', 8080), ...negsOf('api-v2', 8080)]));
    const body = (rpc: string, target: string) => h.fake.log.find((c) => c.rpc === rpc && c.target === target)?.body;
    expect(body('BackendServices.Insert', api)).toMatchObject({
      loadBalancingScheme: 'EXTERNAL_MANAGED',
      protocol: 'HTTP',
      healthChecks: [`${V1}/global/healthChecks/${api}`],
      backends: ZONES.map((z) => ({ group: `${V1}/zones/${z}/networkEndpointGroups/${negName(CLUSTER_ID, 'shop', 'api', 8080)}`, balancingMode: 'RATE', maxRatePerEndpoint: 1, capacityScaler: 1 })),
    });
    // Each backend's health check: HTTP GET / on the serving port (the NEG endpoint's), as GKE's
    // Gateway controller checks a backend without a HealthCheckPolicy (artifact-keeper/artifact-keeper-iac#125).
    expect(body('HealthChecks.Insert', api)).toMatchObject({ type: 'HTTP', httpHealthCheck: { portSpecification: 'USE_SERVING_PORT', requestPath: '/' } });
    // The fallback the 404 answers stand in front of: no backends, so no health check.
    const fallback = body('BackendServices.Insert', names.fallbackService);
    expect(fallback).toMatchObject({ protocol: 'HTTP', loadBalancingScheme: 'EXTERNAL_MANAGED', timeoutSec: 30 });
    expect(fallback).not.toHaveProperty('backends');
    expect(fallback).not.toHaveProperty('healthChecks');
    expect(JSON.parse(String(body('BackendServices.Insert', api)?.description))).toEqual({
      'lbc.dev/cluster': 'test',
      'lbc.dev/owner-kind': 'Gateway',
      'lbc.dev/owner-namespace': 'shop',
      'lbc.dev/owner-name': 'edge',
      'lbc.dev/owner-uid': GW_UID,
    });
    expect(body('Firewalls.Insert', names.firewall)).toMatchObject({ sourceRanges: ['35.191.0.0/16', '130.211.0.0/22'], targetTags: ['gke-test-node'], allowed: [{ IPProtocol: 'tcp', ports: ['8080'] }] });
    const map = body('UrlMaps.Insert', names.urlMap(80)) as { pathMatchers: { routeRules: { priority: number; routeAction: { weightedBackendServices: { backendService: string; weight: number }[] } }[] }[] };
    expect(map.pathMatchers[0]?.routeRules.map((r) => r.priority)).toEqual([0, 1]);
    expect(map.pathMatchers[0]?.routeRules[0]?.routeAction.weightedBackendServices).toEqual([
      { backendService: `${V1}/global/backendServices/${api}`, weight: 90 },
      { backendService: `${V1}/global/backendServices/${apiV2}`, weight: 10 },
    ]);
    expect(body('TargetHttpProxies.Insert', names.targetProxy(80))).toMatchObject({ urlMap: `${V1}/global/urlMaps/${names.urlMap(80)}` });
    expect(body('GlobalForwardingRules.Insert', names.forwardingRule(80))).toMatchObject({
      IPAddress: '203.0.113.10',
      IPProtocol: 'TCP',
      portRange: '80-80',
      loadBalancingScheme: 'EXTERNAL_MANAGED',
      target: `${V1}/global/targetHttpProxies/${names.targetProxy(80)}`,
    });

    h.fake.clearLog();
    expect(await h.provider.ensure(gatewaySpec())).toEqual(status);
    expect(h.fake.writes()).toEqual([]);

    h.fake.clearLog();
    await h.provider.ensure(gatewaySpec({ rules: canaryRules([50, 50]) }));
    expect(h.fake.writes()).toEqual([`UrlMaps.Update ${names.urlMap(80)}`]);
    const weights = (h.fake.get(`global/urlMaps/${names.urlMap(80)}`) as typeof map).pathMatchers[0]?.routeRules[0]?.routeAction.weightedBackendServices.map((w) => w.weight);
    expect(weights).toEqual([50, 50]);

    h.fake.clearLog();
    await h.provider.delete(GW_REF);
    expect(h.fake.violations).toEqual([]);
    expect(h.fake.paths()).toEqual(before);
  });

  it('on instance groups: EXTERNAL_MANAGED backend services addressing the named node ports', async () => {
    const h = harness();
    await h.provider.ensure(gatewaySpec({ targetType: 'instance' }));
    expect(h.fake.writes()).toEqual(createWrites(GROUP_WRITES));
    expect(h.fake.get(`global/backendServices/${web}`)).toMatchObject({
      loadBalancingScheme: 'EXTERNAL_MANAGED',
      portName: 'port31080',
      backends: ZONES.map((z) => ({ group: `${V1}/zones/${z}/instanceGroups/k8s-ig--cid1`, balancingMode: 'RATE', maxRatePerInstance: 1, capacityScaler: 1 })),
    });
    expect(h.fake.get(`global/firewalls/${names.firewall}`)?.allowed).toEqual([{ IPProtocol: 'tcp', ports: ['31080-31082'] }]);
    await h.provider.delete(GW_REF);
    expect(h.fake.paths()).toEqual([]);
  });

  it('HTTPS: a self-managed SslCertificate from the listener certificateRefs Secret, an HTTPS proxy and a 443 rule on the same address; a renewed Secret switches the proxy', async () => {
    const h = harness();
    seedVpcNativeNodes(h.fake);
    const status = await h.provider.ensure(gatewaySpec({ https: { cert: CERT_A, key: KEY_A } }));
    const cert = names.sslCertificate(CERT_A);
    expect(h.fake.get(`global/sslCertificates/${cert}`)).toMatchObject({ certificate: CERT_A, privateKey: KEY_A });
    expect(h.fake.get(`global/targetHttpsProxies/${names.targetProxy(443)}`)).toMatchObject({
      urlMap: `${V1}/global/urlMaps/${names.urlMap(443)}`,
      sslCertificates: [`${V1}/global/sslCertificates/${cert}`],
    });
    expect(h.fake.get(`global/forwardingRules/${names.forwardingRule(443)}`)).toMatchObject({ portRange: '443-443', IPAddress: status.ingress[0]?.ip, loadBalancingScheme: 'EXTERNAL_MANAGED' });
    expect(h.fake.get(`global/forwardingRules/${names.forwardingRule(80)}`)?.IPAddress).toBe(status.ingress[0]?.ip);

    h.fake.clearLog();
    await h.provider.ensure(gatewaySpec({ https: { cert: CERT_B, key: KEY_B } }));
    expect(h.fake.writes()).toEqual([`SslCertificates.Insert ${names.sslCertificate(CERT_B)}`, `TargetHttpsProxies.SetSslCertificates ${names.targetProxy(443)}`, `SslCertificates.Delete ${cert}`]);

    // The HTTPS listener removed: its rule, proxy, map and certificate go, port 80 stays.
    h.fake.clearLog();
    await h.provider.ensure(gatewaySpec());
    expect(h.fake.writes()).toEqual([
      `GlobalForwardingRules.Delete ${names.forwardingRule(443)}`,
      `TargetHttpsProxies.Delete ${names.targetProxy(443)}`,
      `UrlMaps.Delete ${names.urlMap(443)}`,
      `SslCertificates.Delete ${names.sslCertificate(CERT_B)}`,
    ]);
  });

  it("spec.addresses NamedAddress: the reserved global address is used, never reserved nor deleted; lbc's own goes when the Gateway moves onto it", async () => {
    const h = harness();
    seedVpcNativeNodes(h.fake);
    const first = await h.provider.ensure(gatewaySpec());
    h.fake.seed('global/addresses/shop-ip', { address: '203.0.113.77', description: 'reserved by the user', addressType: 'EXTERNAL' });
    h.fake.clearLog();
    const status = await h.provider.ensure({ ...gatewaySpec(), namedAddresses: ['shop-ip'] });
    expect(status.ingress).toEqual([{ ip: '203.0.113.77', ipMode: 'Proxy' }]);
    expect(first.ingress[0]?.ip).not.toBe('203.0.113.77');
    // The forwarding rule cannot change its IP in place: replaced, then lbc's address goes.
    expect(h.fake.writes()).toEqual([`GlobalForwardingRules.Delete ${names.forwardingRule(80)}`, `GlobalForwardingRules.Insert ${names.forwardingRule(80)}`, `GlobalAddresses.Delete ${names.address}`]);
    expect(h.fake.get(`global/forwardingRules/${names.forwardingRule(80)}`)?.IPAddress).toBe('203.0.113.77');
    await h.provider.delete(GW_REF);
    expect(h.fake.get('global/addresses/shop-ip')).toMatchObject({ address: '203.0.113.77' });

    const missing = await rejection(h.provider.ensure({ ...gatewaySpec(), namedAddresses: ['nope'] }));
    expect(missing).toMatchObject({ kind: 'invalid', message: expect.stringMatching(/global static address nope \(NamedAddress\) does not exist/) as unknown });
  });

  it('lbc plan: the create as one change per write, a weight change as the one URL map update, nothing on a no-op, the deletion as what delete removes; planning writes nothing', async () => {
    const h = harness();
    seedVpcNativeNodes(h.fake);
    const ops = (changes: readonly { op: string; resource: string; id: string }[]) => changes.map((c) => `${c.op} ${c.resource} ${c.id}`);
    const planned = await h.provider.plan(gatewaySpec());
    expect(h.fake.writes()).toEqual([]);
    expect(ops(planned)).toEqual(expect.arrayContaining([`create UrlMap ${names.urlMap(80)}`, `create TargetHttpProxy ${names.targetProxy(80)}`, `create GlobalForwardingRule ${names.forwardingRule(80)}`, `create GlobalBackendService ${names.fallbackService}`]));
    await h.provider.ensure(gatewaySpec());
    expect(await h.provider.plan(gatewaySpec())).toEqual([]);
    const change = await h.provider.plan(gatewaySpec({ rules: canaryRules([50, 50]) }));
    expect(change).toEqual([expect.objectContaining({ op: 'update', resource: 'UrlMap', id: names.urlMap(80) })]);
    h.fake.clearLog();
    const deletion = await h.provider.planDeletion(GW_REF);
    expect(h.fake.writes()).toEqual([]);
    expect(ops(deletion)).toEqual(expect.arrayContaining([`delete UrlMap ${names.urlMap(80)}`, `delete GlobalBackendService ${names.fallbackService}`, `delete GlobalAddress ${names.address}`]));
    expect(deletion.every((c) => c.op === 'delete')).toBe(true);
  });

  it("a rule without a valid backend answers 500 in front of GKE's gw-serve500 backend service, made while a rule needs it and gone after", async () => {
    const h = harness();
    seedVpcNativeNodes(h.fake);
    await h.provider.ensure(gatewaySpec());
    expect(h.fake.get(`global/backendServices/${names.errorService}`)).toBeUndefined();
    h.fake.clearLog();
    const broken = [...canaryRules(), httpRule(2, [prefix('/gone')], [backend(undefined)])];
    await h.provider.ensure(gatewaySpec({ rules: broken }));
    expect(h.fake.writes()).toEqual([`BackendServices.Insert ${names.errorService}`, `UrlMaps.Update ${names.urlMap(80)}`]);
    expect(h.fake.get(`global/backendServices/${names.errorService}`)).toMatchObject({ loadBalancingScheme: 'EXTERNAL_MANAGED', protocol: 'HTTP' });
    type Rule = { matchRules: { fullPathMatch?: string }[]; routeAction?: { weightedBackendServices: { backendService: string }[]; faultInjectionPolicy?: { abort: { httpStatus: number } } } };
    const rules = (h.fake.get(`global/urlMaps/${names.urlMap(80)}`) as { pathMatchers: { routeRules: Rule[] }[] }).pathMatchers[0]?.routeRules ?? [];
    const gone = rules.find((r) => r.matchRules.some((m) => m.fullPathMatch === '/gone'));
    expect(gone?.routeAction).toMatchObject({ weightedBackendServices: [{ backendService: `${V1}/global/backendServices/${names.errorService}` }], faultInjectionPolicy: { abort: { httpStatus: 500 } } });
    h.fake.clearLog();
    await h.provider.ensure(gatewaySpec());
    expect(h.fake.writes()).toEqual([`UrlMaps.Update ${names.urlMap(80)}`, `BackendServices.Delete ${names.errorService}`]);
  });

  it('listOwned reports the Gateway, so garbage collection finds it', async () => {
    const h = harness();
    seedVpcNativeNodes(h.fake);
    await h.provider.ensure(gatewaySpec());
    expect((await h.provider.listOwned()).map((o) => o.ref)).toEqual([GW_REF]);
  });

  it('GKE classes of another load balancer (gke-l7-gxlb, the multi-cluster ones) are refused, naming what lbc builds, before any write', async () => {
    const h = harness();
    for (const className of ['gke-l7-gxlb', 'gke-l7-rilb-mc', 'gke-l7-regional-external-managed-mc']) {
      const err = await rejection(h.provider.ensure(gatewaySpec({ className })));
      expect(err).toMatchObject({ kind: 'invalid' });
      expect(String((err as Error).message)).toMatch(new RegExp(`GatewayClass ${className} asks for .*builds the global external Application Load Balancer \\(EXTERNAL_MANAGED\\)`));
    }
    expect(h.fake.writes()).toEqual([]);
  });
});

describe('gce fake: schemes must agree along the load balancer', () => {
  it('refuses a classic (EXTERNAL) forwarding rule in front of EXTERNAL_MANAGED backend services, in GCE words', async () => {
    const h = harness();
    seedVpcNativeNodes(h.fake);
    await h.provider.ensure(gatewaySpec());
    const auth = new OAuth2Client();
    auth.setCredentials({ access_token: TOKEN, expiry_date: Date.now() + 3600_000 });
    const compute = new Compute({ provider: 'gce', options: gceOptionsSchema.parse({ project: PROJECT, region: REGION, clusterId: CLUSTER_ID, retry: { retries: 0, minDelayMs: 1, maxDelayMs: 1 } }), clientOptions: { authClient: auth } });
    try {
      const ctx = { compute, signal: undefined, provider: 'gce' };
      const classic = { IPProtocol: 'TCP', portRange: '8080-8080', target: `${V1}/global/targetHttpProxies/${names.targetProxy(80)}`, loadBalancingScheme: 'EXTERNAL' };
      const err = await rejection(globalForwardingRuleKind.insert(ctx, { name: 'classic' }, classic));
      expect(String((err as Error).message)).toMatch(/Load balancing scheme EXTERNAL does not match the backend service load balancing scheme EXTERNAL_MANAGED/);
      // And setTarget onto the proxy from a classic rule.
      h.fake.seed('global/forwardingRules/classic', { IPProtocol: 'TCP', portRange: '8080-8080', loadBalancingScheme: 'EXTERNAL' });
      const moved = await rejection(globalForwardingRuleKind.update(ctx, { name: 'classic' }, classic, {}, ['target']));
      expect(String((moved as Error).message)).toMatch(/does not match the backend service load balancing scheme EXTERNAL_MANAGED/);
    } finally {
      await compute.close();
    }
  });
});
