// IPv6 and dual-stack Services (spec.ipFamilies) on external and internal passthrough
// load balancers, built as GKE's L4 controllers build them (ingress-gce
// pkg/loadbalancers/l4ipv6.go, l4netlbipv6.go, forwarding_rules_ipv6.go): the exact
// requests for create, no-op, family removal and delete, and what Compute refuses.
import { ForwardingRulesClient } from '@google-cloud/compute';
import { OAuth2Client } from 'google-auth-library';
import { describe, expect, it } from 'vitest';
import type { IpFamily } from '../../../src/model/spec.js';
import type { GceLbOptions } from '../../../src/providers/gce/annotations.js';
import type { FakeCompute } from './fake-compute.js';
import { CLUSTER, GROUP_WRITES, l4, LB, PROJECT, REGION, rejection, SVC_OWNED_KEYS, SVC_UID, TOKEN, withPorts } from './fixtures.js';
import { harnessPerTest } from './lifecycle.js';

const harness = harnessPerTest();

const V1 = `https://www.googleapis.com/compute/v1/projects/${PROJECT}`;
const SUBNET = `${V1}/regions/${REGION}/subnetworks/nodes`;
const NETWORK = `${V1}/global/networks/default`;
const LB6 = `${LB}-ipv6`;
const labels = { 'lbc-cluster': CLUSTER, 'lbc-owner-uid': SVC_UID };
const owned = SVC_OWNED_KEYS;
const { 'kubernetes.io/service-name': _service, ...lbcKeys } = owned;
const shared = JSON.stringify({ 'kubernetes.io/cluster-id': 'cid1', 'lbc.dev/cluster': CLUSTER });

function dualStackSubnet(fake: FakeCompute, access: 'EXTERNAL' | 'INTERNAL'): void {
  fake.seed(`regions/${REGION}/subnetworks/nodes`, {
    ipCidrRange: '10.128.0.0/20',
    stackType: 'IPV4_IPV6',
    ipv6AccessType: access,
    ...(access === 'EXTERNAL' ? { externalIpv6Prefix: '2600:1900:4000:abcd::/64' } : { internalIpv6Prefix: 'fd20:1:2:3::/64' }),
  });
}

const families = (ipFamilies: IpFamily[], opts: Partial<GceLbOptions> = {}, over: Parameters<typeof l4>[0] = {}) => l4({ ipFamilies, ...over }, opts);
const internal = { scheme: 'Internal' as const };

describe('gce L4 IPv6: external', () => {
  it('dual-stack: an IPV6 forwarding rule <lb>-ipv6 on the same backend service, IPv6 firewalls, both addresses in ipFamilies order; then no writes', async () => {
    const h = harness();
    dualStackSubnet(h.fake, 'EXTERNAL');
    const spec = families(['IPv6', 'IPv4']);
    const status = await h.provider.ensure(spec);
    // GCE answers 2600:1900:4000:abcd:a:0:0:0/96; the status holds the address in canonical form.
    expect(status).toEqual({
      ingress: [
        { ip: '2600:1900:4000:abcd:b::', ipMode: 'VIP' },
        { ip: '203.0.113.10', ipMode: 'VIP' },
      ],
    });
    expect(h.fake.writes()).toEqual([
      `Addresses.Insert ${LB}`,
      'RegionHealthChecks.Insert k8s-cid1-node',
      `Firewalls.Insert k8s-fw-${LB}`,
      'Firewalls.Insert k8s-cid1-node-http-hc',
      'Firewalls.Insert k8s-cid1-node-http-hc-ipv6',
      ...GROUP_WRITES,
      `RegionBackendServices.Insert ${LB}`,
      `ForwardingRules.Insert ${LB}`,
      `ForwardingRules.Insert ${LB6}`,
      `Firewalls.Insert k8s-fw-${LB6}`,
    ]);
    const body = (rpc: string, name: string) => h.fake.log.find((c) => c.rpc === rpc && c.target === name)?.body;
    expect(body('ForwardingRules.Insert', LB6)).toEqual({
      name: LB6,
      description: JSON.stringify(owned),
      IPProtocol: 'TCP',
      loadBalancingScheme: 'EXTERNAL',
      backendService: `${V1}/regions/${REGION}/backendServices/${LB}`,
      ports: ['80'],
      ipVersion: 'IPV6',
      labels,
      networkTier: 'PREMIUM',
      subnetwork: SUBNET,
    });
    expect(h.fake.get(`regions/${REGION}/forwardingRules/${LB6}`)?.IPAddress).toBe('2600:1900:4000:abcd:b:0:0:0/96');
    expect(body('Firewalls.Insert', `k8s-fw-${LB6}`)).toEqual({
      name: `k8s-fw-${LB6}`,
      // The GCE cloud provider's keys first (service name, then IP), then lbc's.
      description: JSON.stringify({ 'kubernetes.io/service-name': 'default/web', 'kubernetes.io/service-ip': '2600:1900:4000:abcd:b::', ...lbcKeys }),
      network: NETWORK,
      sourceRanges: ['::/0'],
      destinationRanges: ['2600:1900:4000:abcd:b::'],
      targetTags: ['gke-test-node'],
      allowed: [{ IPProtocol: 'tcp', ports: ['80'] }],
    });
    // ingress-gce pkg/healthchecksl4 L4NetLBIPv6HCRange.
    expect(body('Firewalls.Insert', 'k8s-cid1-node-http-hc-ipv6')).toEqual({
      name: 'k8s-cid1-node-http-hc-ipv6',
      description: shared,
      network: NETWORK,
      sourceRanges: ['2600:1901:8001::/48'],
      targetTags: ['gke-test-node'],
      allowed: [{ IPProtocol: 'tcp', ports: ['10256'] }],
    });
    // The IPv4 traffic rule keeps to IPv4.
    expect(body('Firewalls.Insert', `k8s-fw-${LB}`)).toMatchObject({ sourceRanges: ['0.0.0.0/0'], destinationRanges: ['203.0.113.10'] });

    h.fake.clearLog();
    expect(await h.provider.plan(spec)).toEqual([]);
    expect(await h.provider.ensure(spec)).toEqual(status);
    expect(h.fake.writes()).toEqual([]);
  });

  it('each family takes its own loadBalancerSourceRanges; a family with none of the listed ranges lets nobody in', async () => {
    const h = harness();
    dualStackSubnet(h.fake, 'EXTERNAL');
    await h.provider.ensure(families(['IPv4', 'IPv6'], {}, { sourceRanges: ['192.0.2.0/24', '2001:db8::/32'] }));
    expect(h.fake.get(`global/firewalls/k8s-fw-${LB}`)?.sourceRanges).toEqual(['192.0.2.0/24']);
    expect(h.fake.get(`global/firewalls/k8s-fw-${LB6}`)?.sourceRanges).toEqual(['2001:db8::/32']);
    h.fake.clearLog();
    await h.provider.ensure(families(['IPv4', 'IPv6'], {}, { sourceRanges: ['2001:db8::/32'] }));
    expect(h.fake.writes()).toEqual([`Firewalls.Delete k8s-fw-${LB}`]);
  });

  it('a requested IPv6 address goes to the IPv6 rule as a /96 and is reported as asked', async () => {
    const h = harness();
    dualStackSubnet(h.fake, 'EXTERNAL');
    const status = await h.provider.ensure(families(['IPv4', 'IPv6'], {}, { requestedAddresses: ['2600:1900:4000:abcd:8000::'] }));
    expect(h.fake.log.find((c) => c.rpc === 'ForwardingRules.Insert' && c.target === LB6)?.body?.IPAddress).toBe('2600:1900:4000:abcd:8000::/96');
    expect(status.ingress.map((i) => i.ip)).toEqual(['203.0.113.10', '2600:1900:4000:abcd:8000::']);
    h.fake.clearLog();
    await h.provider.ensure(families(['IPv4', 'IPv6'], {}, { requestedAddresses: ['2600:1900:4000:abcd:8000::'] }));
    expect(h.fake.writes()).toEqual([]);
  });

  it('removing IPv6 deletes the IPv6 rule and traffic firewall; the shared IPv6 health-check firewall stays until the Service goes', async () => {
    const h = harness();
    dualStackSubnet(h.fake, 'EXTERNAL');
    await h.provider.ensure(families(['IPv4', 'IPv6']));
    h.fake.clearLog();
    const status = await h.provider.ensure(families(['IPv4']));
    expect(status).toEqual({ ingress: [{ ip: '203.0.113.10', ipMode: 'VIP' }] });
    expect(h.fake.writes()).toEqual([`ForwardingRules.Delete ${LB6}`, `Firewalls.Delete k8s-fw-${LB6}`]);
    expect(h.fake.get('global/firewalls/k8s-cid1-node-http-hc-ipv6')).toBeDefined();
    h.fake.clearLog();
    await h.provider.delete(l4().ref);
    expect(h.fake.writes()).toContain('Firewalls.Delete k8s-cid1-node-http-hc-ipv6');
    expect(h.fake.paths().filter((p) => !p.includes('subnetworks'))).toEqual([]);
  });

  it('deleting a dual-stack Service deletes both families, dependents first', async () => {
    const h = harness();
    dualStackSubnet(h.fake, 'EXTERNAL');
    await h.provider.ensure(families(['IPv4', 'IPv6']));
    h.fake.clearLog();
    await h.provider.delete(l4().ref);
    expect(h.fake.writes()).toEqual([
      `ForwardingRules.Delete ${LB}`,
      `ForwardingRules.Delete ${LB6}`,
      `RegionBackendServices.Delete ${LB}`,
      'InstanceGroups.Delete k8s-ig--cid1',
      'InstanceGroups.Delete k8s-ig--cid1',
      `Firewalls.Delete k8s-fw-${LB}`,
      `Firewalls.Delete k8s-fw-${LB6}`,
      'RegionHealthChecks.Delete k8s-cid1-node',
      'Firewalls.Delete k8s-cid1-node-http-hc',
      'Firewalls.Delete k8s-cid1-node-http-hc-ipv6',
      `Addresses.Delete ${LB}`,
    ]);
    expect(h.fake.paths().filter((p) => !p.includes('subnetworks'))).toEqual([]);
  });

  it('IPv6 only: no IPv4 address, rule or firewall; switching from IPv4 removes them', async () => {
    const h = harness();
    dualStackSubnet(h.fake, 'EXTERNAL');
    await h.provider.ensure(families(['IPv4']));
    h.fake.clearLog();
    const status = await h.provider.ensure(families(['IPv6']));
    expect(status).toEqual({ ingress: [{ ip: '2600:1900:4000:abcd:b::', ipMode: 'VIP' }] });
    expect(h.fake.writes()).toEqual([
      `ForwardingRules.Delete ${LB}`,
      'Firewalls.Insert k8s-cid1-node-http-hc-ipv6',
      `ForwardingRules.Insert ${LB6}`,
      `Firewalls.Insert k8s-fw-${LB6}`,
      `Firewalls.Delete k8s-fw-${LB}`,
      `Addresses.Delete ${LB}`,
    ]);
    h.fake.clearLog();
    await h.provider.ensure(families(['IPv6']));
    expect(h.fake.writes()).toEqual([]);
    await h.provider.delete(l4().ref);
    expect(h.fake.paths().filter((p) => !p.includes('subnetworks') && !p.includes('instanceGroups'))).toEqual([]);
  });

  it('refuses what GCE cannot build, with clear errors', async () => {
    const h = harness();
    dualStackSubnet(h.fake, 'EXTERNAL');
    expect((await rejection(h.provider.ensure(families(['IPv4', 'IPv6'], { networkTier: 'STANDARD' })))).message).toContain('Premium tier only');
    expect((await rejection(h.provider.ensure(families(['IPv4'], {}, { requestedAddresses: ['2600:1900:4000:abcd:8000::'] })))).message).toContain(
      "requested address 2600:1900:4000:abcd:8000:: is IPv6, but the Service's ipFamilies are IPv4",
    );
    const mixed = withPorts(families(['IPv4', 'IPv6']), [
      { protocol: 'TCP', port: 53, nodePort: 30053 },
      { protocol: 'UDP', port: 53, nodePort: 30054 },
    ]);
    expect((await rejection(h.provider.ensure(mixed))).message).toContain('mixes TCP and UDP');
    expect(h.fake.writes()).toEqual([]);
  });

  it('a single-stack subnet: Compute refuses the IPv6 rule with its error, and nothing IPv6 is reported', async () => {
    const h = harness();
    h.fake.seed(`regions/${REGION}/subnetworks/nodes`, { ipCidrRange: '10.128.0.0/20', stackType: 'IPV4_ONLY' });
    const err = await rejection(h.provider.ensure(families(['IPv4', 'IPv6'])));
    expect(err.message).toContain(`Invalid value for field 'resource.subnetwork': '${SUBNET}'. Subnetwork does not have an external IPv6 IP space`);
    expect(h.fake.get(`regions/${REGION}/forwardingRules/${LB6}`)).toBeUndefined();
  });
});

describe('gce L4 IPv6: internal', () => {
  it('dual-stack: an INTERNAL IPV6 rule in the subnet, the ILB IPv6 health-check range; then no writes', async () => {
    const h = harness();
    dualStackSubnet(h.fake, 'INTERNAL');
    const spec = families(['IPv4', 'IPv6'], internal);
    const status = await h.provider.ensure(spec);
    expect(status.ingress.map((i) => i.ip)).toEqual(['10.128.0.10', 'fd20:1:2:3:b::']);
    expect(h.fake.log.find((c) => c.rpc === 'ForwardingRules.Insert' && c.target === LB6)?.body).toEqual({
      name: LB6,
      description: JSON.stringify(owned),
      IPProtocol: 'TCP',
      loadBalancingScheme: 'INTERNAL',
      backendService: `${V1}/regions/${REGION}/backendServices/${LB}`,
      ports: ['80'],
      ipVersion: 'IPV6',
      labels,
      network: NETWORK,
      subnetwork: SUBNET,
      allowGlobalAccess: false,
    });
    // ingress-gce pkg/healthchecksl4 L4ILBIPv6HCRange, on the internal LB's firewall name.
    expect(h.fake.get('global/firewalls/k8s-cid1-node-hc-ipv6')?.sourceRanges).toEqual(['2600:2d00:1:b029::/64']);
    h.fake.clearLog();
    expect(await h.provider.ensure(spec)).toEqual(status);
    expect(h.fake.writes()).toEqual([]);
    // Global access changes both rules in place.
    await h.provider.ensure(families(['IPv4', 'IPv6'], { ...internal, allowGlobalAccess: true }));
    expect(h.fake.writes()).toEqual([`ForwardingRules.Patch ${LB}`, `ForwardingRules.Patch ${LB6}`]);
  });

  it('an internal IPv6 rule on a subnet with only external IPv6: the error GCE gives (kubernetes/ingress-gce#1897)', async () => {
    const h = harness();
    dualStackSubnet(h.fake, 'EXTERNAL');
    const err = await rejection(h.provider.ensure(families(['IPv6'], internal)));
    expect(err.message).toContain(
      `Invalid value for field 'resource.subnetwork': '${SUBNET}'. Subnetwork does not have an internal IPv6 IP space which is required for IPv6 L4 ILB forwarding rules.`,
    );
  });
});

describe('fake Compute: IPv6 forwarding rules', () => {
  const client = () => {
    const auth = new OAuth2Client();
    auth.setCredentials({ access_token: TOKEN, expiry_date: Date.now() + 3600_000 });
    return new ForwardingRulesClient({ authClient: auth, fallback: true });
  };
  /** The message Compute answers an insert with (the raw SDK call, so no provider error around it). */
  const insert = async (c: ForwardingRulesClient, fr: Record<string, unknown>): Promise<string> => {
    try {
      await c.insert({ project: PROJECT, region: REGION, forwardingRuleResource: { name: 'fr', loadBalancingScheme: 'EXTERNAL', IPProtocol: 'TCP', ports: ['80'], ...fr } });
    } catch (e) {
      return (e as Error).message;
    }
    throw new Error('expected Compute to refuse the insert');
  };

  it('refuses an IPv6 address in an IPv4 rule, an IPv4 address in an IPv6 rule, a bare external IPv6 address, and an IPv6 rule without a subnet', async () => {
    const h = harness();
    dualStackSubnet(h.fake, 'EXTERNAL');
    const c = client();
    try {
      expect(await insert(c, { IPAddress: '2600:1900:4000:abcd:8000::/96' })).toContain("'resource.IPAddress'");
      expect(await insert(c, { ipVersion: 'IPV6', subnetwork: SUBNET, IPAddress: '203.0.113.5' })).toContain('needs an IPv6 address');
      expect(await insert(c, { ipVersion: 'IPV6', subnetwork: SUBNET, IPAddress: '2600:1900:4000:abcd:8000::' })).toContain(
        'IPv6 addresses must be in the form of a /96 range for regional EXTERNAL forwarding rules.',
      );
      expect(await insert(c, { ipVersion: 'IPV6' })).toContain("'resource.subnetwork'");
      expect(await insert(c, { ipVersion: 'IPV6', subnetwork: SUBNET, networkTier: 'STANDARD' })).toContain("'resource.networkTier'");
      expect(h.fake.paths().filter((p) => p.includes('forwardingRules'))).toEqual([]);
    } finally {
      await c.close();
    }
  });
});
