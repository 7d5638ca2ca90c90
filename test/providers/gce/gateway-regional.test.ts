// GKE's regional GatewayClasses → regional Application Load Balancers, through the real
// Compute clients and the fake API: gke-l7-rilb the regional internal one (INTERNAL_MANAGED),
// gke-l7-regional-external-managed the regional external one (EXTERNAL_MANAGED, Standard
// tier), each from the regional collections (regionUrlMaps, regionTargetHttp(s)Proxies,
// regionBackendServices, regionHealthChecks, regionSslCertificates, a regional forwarding
// rule and address). The exact requests of a create, a weight change (ONE regionUrlMaps
// update), a no-op (no write) and a delete (nothing left); the region's proxy-only subnet
// checked before anything is built; the Gateway found by garbage collection; a class change
// between the global and a regional class leaving nothing of the old load balancer.
import { OAuth2Client } from 'google-auth-library';
import { describe, expect, it } from 'vitest';
import { Compute } from '../../../src/providers/gce/compute.js';
import { regionalForwardingRuleKind } from '../../../src/providers/gce/forwarding-rule.js';
import { gatewayNames, negName } from '../../../src/providers/gce/names.js';
import { gceOptionsSchema } from '../../../src/providers/gce/options.js';
import { CERT_A, CERT_B, CLUSTER_ID, GROUP_WRITES, KEY_A, KEY_B, PROJECT, REGION, rejection, seedVpcNativeNodes, TOKEN } from './fixtures.js';
import { canaryRules, gatewaySpec, GW_REF, PROXY_ONLY_RANGE, seedProxyOnlySubnet } from './gateway-fixtures.js';
import { harnessPerTest } from './lifecycle.js';

const harness = harnessPerTest();

const V1 = `https://www.googleapis.com/compute/v1/projects/${PROJECT}`;
const R = `regions/${REGION}`;
const RV1 = `${V1}/${R}`;
const NETWORK = `${V1}/global/networks/default`;
const SUBNET = `${RV1}/subnetworks/nodes`;
const names = gatewayNames(GW_REF, CLUSTER_ID, 'default');
const web = names.backendService('shop/web:80', 'shop', 'web', 80);
const api = names.backendService('shop/api:8080', 'shop', 'api', 8080);
const apiV2 = names.backendService('shop/api-v2:8080', 'shop', 'api-v2', 8080);
const firewall = names.regionalFirewall(REGION);
const ZONES = [`${REGION}-a`, `${REGION}-b`];
const RILB = 'gke-l7-rilb';
const REGIONAL_EXTERNAL = 'gke-l7-regional-external-managed';

const negsOf = (service: string, port: number): string[] =>
  ZONES.flatMap(() => [`NetworkEndpointGroups.Insert ${negName(CLUSTER_ID, 'shop', service, port)}`, `NetworkEndpointGroups.AttachNetworkEndpoints ${negName(CLUSTER_ID, 'shop', service, port)}`]);
const NEG_WRITES = [...negsOf('web', 80), ...negsOf('api', 8080), ...negsOf('api-v2', 8080)];

/** The writes of an HTTP Gateway's regional create, in order. */
const createWrites = (backends: readonly string[]): string[] => [
  `Addresses.Insert ${names.address}`,
  ...[web, api, apiV2].map((s) => `RegionHealthChecks.Insert ${s}`),
  `Firewalls.Insert ${firewall}`,
  ...backends,
  ...[web, api, apiV2, names.fallbackService].map((s) => `RegionBackendServices.Insert ${s}`),
  `RegionUrlMaps.Insert ${names.urlMap(80)}`,
  `RegionTargetHttpProxies.Insert ${names.targetProxy(80)}`,
  `ForwardingRules.Insert ${names.forwardingRule(80)}`,
];

describe(`gce Gateway ${RILB}: the regional internal Application Load Balancer`, () => {
  it('create on NEGs: an internal address in the cluster subnet, regional INTERNAL_MANAGED backends, URL map, proxy and rule; a weight change is one regionUrlMaps update; no-op; delete', async () => {
    const h = harness({}, { pendingOperations: true });
    seedVpcNativeNodes(h.fake);
    seedProxyOnlySubnet(h.fake);
    const before = h.fake.paths();
    const status = await h.provider.ensure(gatewaySpec({ className: RILB }));
    expect(h.fake.violations).toEqual([]);
    expect(h.fake.writes()).toEqual(createWrites(NEG_WRITES));
    const body = (rpc: string, target: string) => h.fake.log.find((c) => c.rpc === rpc && c.target === target)?.body;
    // One internal address the ports share, from the cluster's subnet.
    expect(body('Addresses.Insert', names.address)).toMatchObject({ addressType: 'INTERNAL', purpose: 'SHARED_LOADBALANCER_VIP', subnetwork: SUBNET });
    const ip = h.fake.get(`${R}/addresses/${names.address}`)?.address as string;
    expect(ip).toMatch(/^10\.128\.0\.\d+$/);
    expect(status).toEqual({ ingress: [{ ip, ipMode: 'Proxy' }], backendGroups: expect.any(Array) as unknown });
    expect(body('RegionHealthChecks.Insert', api)).toMatchObject({ type: 'HTTP', httpHealthCheck: { portSpecification: 'USE_SERVING_PORT', requestPath: '/' } });
    expect(body('RegionBackendServices.Insert', api)).toMatchObject({
      loadBalancingScheme: 'INTERNAL_MANAGED',
      protocol: 'HTTP',
      healthChecks: [`${RV1}/healthChecks/${api}`],
      backends: ZONES.map((z) => ({ group: `${V1}/zones/${z}/networkEndpointGroups/${negName(CLUSTER_ID, 'shop', 'api', 8080)}`, balancingMode: 'RATE', maxRatePerEndpoint: 1, capacityScaler: 1 })),
    });
    expect(body('RegionBackendServices.Insert', names.fallbackService)).toMatchObject({ loadBalancingScheme: 'INTERNAL_MANAGED', protocol: 'HTTP' });
    // Health checkers and the proxy-only subnet's Envoy proxies to the pods' port.
    expect(body('Firewalls.Insert', firewall)).toMatchObject({
      network: NETWORK,
      sourceRanges: ['35.191.0.0/16', '130.211.0.0/22', PROXY_ONLY_RANGE],
      targetTags: ['gke-test-node'],
      allowed: [{ IPProtocol: 'tcp', ports: ['8080'] }],
    });
    expect(firewall).toBe(`${names.prefix}l7-default-${REGION}`);
    const map = body('RegionUrlMaps.Insert', names.urlMap(80)) as { pathMatchers: { routeRules: { routeAction: { weightedBackendServices: { backendService: string; weight: number }[] } }[] }[] };
    expect(map.pathMatchers[0]?.routeRules[0]?.routeAction.weightedBackendServices).toEqual([
      { backendService: `${RV1}/backendServices/${api}`, weight: 90 },
      { backendService: `${RV1}/backendServices/${apiV2}`, weight: 10 },
    ]);
    expect(body('RegionTargetHttpProxies.Insert', names.targetProxy(80))).toMatchObject({ urlMap: `${RV1}/urlMaps/${names.urlMap(80)}` });
    const rule = body('ForwardingRules.Insert', names.forwardingRule(80));
    expect(rule).toMatchObject({
      IPAddress: ip,
      IPProtocol: 'TCP',
      portRange: '80-80',
      loadBalancingScheme: 'INTERNAL_MANAGED',
      target: `${RV1}/targetHttpProxies/${names.targetProxy(80)}`,
      network: NETWORK,
      subnetwork: SUBNET,
    });
    // Global access stays off: GCE's default, so not sent.
    expect(rule).not.toHaveProperty('allowGlobalAccess');
    // Nothing global but the firewall rule (firewall rules are global resources).
    expect(h.fake.paths().filter((p) => p.startsWith('global/'))).toEqual([...before.filter((p) => p.startsWith('global/')), `global/firewalls/${firewall}`].sort());

    h.fake.clearLog();
    expect(await h.provider.ensure(gatewaySpec({ className: RILB }))).toEqual(status);
    expect(h.fake.writes()).toEqual([]);

    h.fake.clearLog();
    await h.provider.ensure(gatewaySpec({ className: RILB, rules: canaryRules([50, 50]) }));
    expect(h.fake.writes()).toEqual([`RegionUrlMaps.Update ${names.urlMap(80)}`]);
    const stored = h.fake.get(`${R}/urlMaps/${names.urlMap(80)}`) as typeof map;
    expect(stored.pathMatchers[0]?.routeRules[0]?.routeAction.weightedBackendServices.map((w) => w.weight)).toEqual([50, 50]);

    h.fake.clearLog();
    await h.provider.delete(GW_REF);
    expect(h.fake.violations).toEqual([]);
    expect(h.fake.writes()).toEqual([
      `ForwardingRules.Delete ${names.forwardingRule(80)}`,
      `RegionTargetHttpProxies.Delete ${names.targetProxy(80)}`,
      `RegionUrlMaps.Delete ${names.urlMap(80)}`,
      // In the order the lists answer: by name.
      ...[api, apiV2, names.fallbackService, web].map((s) => `RegionBackendServices.Delete ${s}`),
      // The NEGs are the cluster's: each goes once no backend service uses it; zone by zone, by name, as the aggregated list answers.
      ...ZONES.flatMap(() => [['api', 8080] as const, ['api-v2', 8080] as const, ['web', 80] as const].map(([s, p]) => `NetworkEndpointGroups.Delete ${negName(CLUSTER_ID, 'shop', s, p)}`)),
      `Firewalls.Delete ${firewall}`,
      ...[api, apiV2, web].map((s) => `RegionHealthChecks.Delete ${s}`),
      `Addresses.Delete ${names.address}`,
    ]);
    expect(h.fake.paths()).toEqual(before);
  });

  it('HTTPS: a regional SslCertificate from the certificateRefs Secret, a regional HTTPS proxy and a 443 rule on the shared address; a renewed Secret switches the proxy', async () => {
    const h = harness();
    seedVpcNativeNodes(h.fake);
    seedProxyOnlySubnet(h.fake);
    const status = await h.provider.ensure(gatewaySpec({ className: RILB, https: { cert: CERT_A, key: KEY_A } }));
    const cert = names.sslCertificate(CERT_A);
    expect(h.fake.get(`${R}/sslCertificates/${cert}`)).toMatchObject({ certificate: CERT_A, privateKey: KEY_A });
    expect(h.fake.get(`${R}/targetHttpsProxies/${names.targetProxy(443)}`)).toMatchObject({
      urlMap: `${RV1}/urlMaps/${names.urlMap(443)}`,
      sslCertificates: [`${RV1}/sslCertificates/${cert}`],
    });
    const ip = status.ingress[0]?.ip;
    expect(h.fake.get(`${R}/forwardingRules/${names.forwardingRule(443)}`)).toMatchObject({ portRange: '443-443', IPAddress: ip, loadBalancingScheme: 'INTERNAL_MANAGED' });
    expect(h.fake.get(`${R}/forwardingRules/${names.forwardingRule(80)}`)?.IPAddress).toBe(ip);

    h.fake.clearLog();
    await h.provider.ensure(gatewaySpec({ className: RILB, https: { cert: CERT_B, key: KEY_B } }));
    expect(h.fake.writes()).toEqual([
      `RegionSslCertificates.Insert ${names.sslCertificate(CERT_B)}`,
      `RegionTargetHttpsProxies.SetSslCertificates ${names.targetProxy(443)}`,
      `RegionSslCertificates.Delete ${cert}`,
    ]);
    await h.provider.delete(GW_REF);
    expect(h.fake.paths().filter((p) => p.startsWith(R) && !p.includes('/subnetworks/'))).toEqual([]);
  });

  it('without an active proxy-only subnet in the region and network: refused before any write, saying what is missing and how to make it; built once it exists', async () => {
    const h = harness();
    seedVpcNativeNodes(h.fake);
    const before = h.fake.paths();
    const missing = async (): Promise<void> => {
      h.fake.clearLog();
      const err = await rejection(h.provider.ensure(gatewaySpec({ className: RILB })));
      // notFound: retried, so the Gateway is programmed once an administrator made the subnet.
      expect(err).toMatchObject({ kind: 'notFound', reason: 'proxyOnlySubnetMissing' });
      const message = String((err as Error).message);
      expect(message).toContain(`GatewayClass ${RILB} builds a regional Application Load Balancer, which needs an active proxy-only subnet (purpose REGIONAL_MANAGED_PROXY, role ACTIVE) in region ${REGION} of network default`);
      expect(message).toContain('An active proxy-only subnetwork is required in the same region and VPC as the forwarding rule');
      expect(message).toContain(`gcloud compute networks subnets create proxy-only-${REGION} --purpose=REGIONAL_MANAGED_PROXY --role=ACTIVE --region=${REGION} --network=default`);
      expect(h.fake.writes()).toEqual([]);
      expect(h.fake.paths().filter((p) => !p.includes('/subnetworks/'))).toEqual(before);
      expect(h.fake.reads()).toContain(`Subnetworks.List subnetworks`);
    };
    await missing();
    // A BACKUP one (it becomes active only when promoted) does not count, nor one of another network.
    seedProxyOnlySubnet(h.fake, { role: 'BACKUP' });
    await missing();
    seedProxyOnlySubnet(h.fake, { network: `${V1}/global/networks/other` });
    await missing();
    seedProxyOnlySubnet(h.fake);
    await h.provider.ensure(gatewaySpec({ className: RILB }));
    expect(h.fake.get(`${R}/forwardingRules/${names.forwardingRule(80)}`)).toMatchObject({ loadBalancingScheme: 'INTERNAL_MANAGED' });
  });

  it('an internal Gateway without the provider option subnetwork is refused before any call', async () => {
    const h = harness({ subnetwork: undefined });
    const err = await rejection(h.provider.ensure(gatewaySpec({ className: RILB })));
    expect(err).toMatchObject({ kind: 'invalid', message: expect.stringMatching(/gke-l7-rilb: a regional internal Application Load Balancer takes its address from the cluster's subnet: set the provider option subnetwork/) as unknown });
    expect(h.fake.log).toEqual([]);
  });

  it("garbage collection: listOwned finds a regional Gateway, and deleting it (lbc's delete for a vanished Gateway) leaves nothing, also after a crash half-way", async () => {
    const h = harness();
    seedVpcNativeNodes(h.fake);
    seedProxyOnlySubnet(h.fake);
    const before = h.fake.paths();
    await h.provider.ensure(gatewaySpec({ className: RILB, https: { cert: CERT_A, key: KEY_A } }));
    const owned = await h.provider.listOwned();
    expect(owned.map((o) => o.ref)).toEqual([GW_REF]);
    // Reported by one of its forwarding rules, the regional ones.
    expect([80, 443].map((p) => `${RV1}/forwardingRules/${names.forwardingRule(p)}`)).toContain(owned[0]?.id);
    h.fake.crashAfterWrites(4);
    await expect(h.provider.delete(GW_REF)).rejects.toThrow();
    h.fake.healed();
    // What the crash left is still found by its owner, and the delete finishes it.
    expect((await h.provider.listOwned()).map((o) => o.ref)).toEqual([GW_REF]);
    await h.provider.delete(GW_REF);
    expect(h.fake.paths()).toEqual(before);
    expect(await h.provider.listOwned()).toEqual([]);
  });

  it('a class change between the global and the regional class builds the new load balancer and deletes the old one', async () => {
    const h = harness();
    seedVpcNativeNodes(h.fake);
    seedProxyOnlySubnet(h.fake);
    const before = h.fake.paths();
    await h.provider.ensure(gatewaySpec());
    expect(h.fake.get(`global/forwardingRules/${names.forwardingRule(80)}`)).toBeDefined();
    await h.provider.ensure(gatewaySpec({ className: RILB }));
    expect(h.fake.paths().filter((p) => p.startsWith('global/'))).toEqual([...before.filter((p) => p.startsWith('global/')), `global/firewalls/${firewall}`].sort());
    expect(h.fake.get(`${R}/forwardingRules/${names.forwardingRule(80)}`)).toMatchObject({ loadBalancingScheme: 'INTERNAL_MANAGED' });
    // And back; then a no-op reads the other scope's remains, finds none, writes nothing.
    await h.provider.ensure(gatewaySpec());
    expect(h.fake.paths().filter((p) => p.startsWith(R) && !p.includes('/subnetworks/'))).toEqual([]);
    h.fake.clearLog();
    await h.provider.ensure(gatewaySpec());
    expect(h.fake.writes()).toEqual([]);
    await h.provider.delete(GW_REF);
    expect(h.fake.paths()).toEqual(before);
  });
});

describe(`gce Gateway ${REGIONAL_EXTERNAL}: the regional external Application Load Balancer`, () => {
  it('on instance groups: a Standard tier regional address and rule in the network, EXTERNAL_MANAGED regional backends addressing the named node ports', async () => {
    const h = harness();
    seedProxyOnlySubnet(h.fake);
    const status = await h.provider.ensure(gatewaySpec({ className: REGIONAL_EXTERNAL, targetType: 'instance' }));
    expect(h.fake.writes()).toEqual(createWrites(GROUP_WRITES));
    const address = h.fake.get(`${R}/addresses/${names.address}`);
    expect(address).toMatchObject({ addressType: 'EXTERNAL', networkTier: 'STANDARD' });
    expect(status.ingress).toEqual([{ ip: address?.address, ipMode: 'Proxy' }]);
    expect(h.fake.get(`${R}/forwardingRules/${names.forwardingRule(80)}`)).toMatchObject({
      loadBalancingScheme: 'EXTERNAL_MANAGED',
      networkTier: 'STANDARD',
      network: NETWORK,
      IPAddress: address?.address,
      target: `${RV1}/targetHttpProxies/${names.targetProxy(80)}`,
    });
    expect(h.fake.get(`${R}/forwardingRules/${names.forwardingRule(80)}`)).not.toHaveProperty('subnetwork');
    expect(h.fake.get(`${R}/backendServices/${web}`)).toMatchObject({
      loadBalancingScheme: 'EXTERNAL_MANAGED',
      portName: 'port31080',
      healthChecks: [`${RV1}/healthChecks/${web}`],
      backends: ZONES.map((z) => ({ group: `${V1}/zones/${z}/instanceGroups/k8s-ig--cid1`, balancingMode: 'RATE', maxRatePerInstance: 1, capacityScaler: 1 })),
    });
    expect(h.fake.get(`global/firewalls/${firewall}`)).toMatchObject({ sourceRanges: ['35.191.0.0/16', '130.211.0.0/22', PROXY_ONLY_RANGE], allowed: [{ IPProtocol: 'tcp', ports: ['31080-31082'] }] });
    h.fake.clearLog();
    await h.provider.ensure(gatewaySpec({ className: REGIONAL_EXTERNAL, targetType: 'instance' }));
    expect(h.fake.writes()).toEqual([]);
    await h.provider.delete(GW_REF);
    expect(h.fake.paths()).toEqual([`${R}/subnetworks/proxy-only`]);
  });

  it('spec.addresses NamedAddress: the reserved regional address, never reserved nor released', async () => {
    const h = harness();
    seedProxyOnlySubnet(h.fake);
    h.fake.seed(`${R}/addresses/shop-ip`, { address: '203.0.113.77', description: 'reserved by the user', addressType: 'EXTERNAL', networkTier: 'STANDARD' });
    const status = await h.provider.ensure({ ...gatewaySpec({ className: REGIONAL_EXTERNAL, targetType: 'instance' }), namedAddresses: ['shop-ip'] });
    expect(status.ingress).toEqual([{ ip: '203.0.113.77', ipMode: 'Proxy' }]);
    expect(h.fake.get(`${R}/addresses/${names.address}`)).toBeUndefined();
    await h.provider.delete(GW_REF);
    expect(h.fake.get(`${R}/addresses/shop-ip`)).toMatchObject({ address: '203.0.113.77' });
    const missing = await rejection(h.provider.ensure({ ...gatewaySpec({ className: REGIONAL_EXTERNAL }), namedAddresses: ['nope'] }));
    expect(missing).toMatchObject({ kind: 'invalid', message: expect.stringMatching(/regional static address nope \(NamedAddress\) does not exist in project test-project region us-central1/) as unknown });
  });
});

describe('gce fake: a regional Application Load Balancer needs the proxy-only subnet', () => {
  it("refuses the forwarding rule in GCE's words when the region and network have no active one", async () => {
    const h = harness();
    seedVpcNativeNodes(h.fake);
    seedProxyOnlySubnet(h.fake);
    await h.provider.ensure(gatewaySpec({ className: RILB }));
    h.fake.remove(`${R}/subnetworks/proxy-only`);
    const auth = new OAuth2Client();
    auth.setCredentials({ access_token: TOKEN, expiry_date: Date.now() + 3600_000 });
    const compute = new Compute({ provider: 'gce', options: gceOptionsSchema.parse({ project: PROJECT, region: REGION, clusterId: CLUSTER_ID, retry: { retries: 0, minDelayMs: 1, maxDelayMs: 1 } }), clientOptions: { authClient: auth } });
    try {
      const ctx = { compute, signal: undefined, provider: 'gce' };
      const rule = { IPProtocol: 'TCP', portRange: '8080-8080', target: `${RV1}/targetHttpProxies/${names.targetProxy(80)}`, loadBalancingScheme: 'INTERNAL_MANAGED', network: NETWORK, subnetwork: SUBNET };
      const err = await rejection(regionalForwardingRuleKind.insert(ctx, { name: 'another' }, rule));
      expect(String((err as Error).message)).toContain(
        `Invalid value for field 'resource.target': '${R}/targetHttpProxies/${names.targetProxy(80)}'. An active proxy-only subnetwork is required in the same region and VPC as the forwarding rule.`,
      );
    } finally {
      await compute.close();
    }
  });
});
