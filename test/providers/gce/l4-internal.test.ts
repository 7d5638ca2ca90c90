// Internal passthrough load balancers, and switching a Service between internal and external.
import { describe, expect, it } from 'vitest';
import { l4, l4CreateWrites, LB, REGION, rejection, withPorts } from './fixtures.js';
import { harnessPerTest } from './lifecycle.js';

const harness = harnessPerTest();

const V1 = 'https://www.googleapis.com/compute/v1/projects/test-project';
const internal = { scheme: 'Internal' as const };

describe('gce L4 internal', () => {
  it('reserves an internal address in the subnet and builds an INTERNAL backend service and forwarding rule', async () => {
    const h = harness();
    const status = await h.provider.ensure(l4({}, internal));
    expect(status.ingress[0]?.ip).toMatch(/^10\.128\.0\./);
    // The internal LB's name for the node health-check firewall (makeHealthCheckFirewallName).
    expect(h.fake.writes()).toEqual(l4CreateWrites('k8s-cid1-node-hc'));
    expect(h.fake.log.find((c) => c.rpc === 'Addresses.Insert')?.body).toMatchObject({
      addressType: 'INTERNAL',
      purpose: 'GCE_ENDPOINT',
      subnetwork: `${V1}/regions/${REGION}/subnetworks/nodes`,
    });
    expect(h.fake.log.find((c) => c.rpc === 'RegionBackendServices.Insert')?.body).toMatchObject({ loadBalancingScheme: 'INTERNAL', protocol: 'TCP' });
    expect(h.fake.log.find((c) => c.rpc === 'ForwardingRules.Insert')?.body).toMatchObject({
      loadBalancingScheme: 'INTERNAL',
      IPAddress: status.ingress[0]?.ip,
      ports: ['80'],
      network: `${V1}/global/networks/default`,
      subnetwork: `${V1}/regions/${REGION}/subnetworks/nodes`,
      allowGlobalAccess: false,
    });
    h.fake.clearLog();
    expect(await h.provider.ensure(l4({}, internal))).toEqual(status);
    expect(h.fake.writes()).toEqual([]);
  });

  it('more than five ports: all ports', async () => {
    const h = harness();
    const spec = withPorts(l4({}, internal), [1, 2, 3, 4, 5, 6].map((i) => ({ protocol: 'TCP' as const, port: 8000 + i, nodePort: 30000 + i })));
    await h.provider.ensure(spec);
    const fr = h.fake.get(`regions/${REGION}/forwardingRules/${LB}`);
    expect(fr?.allPorts).toBe(true);
    expect(fr?.ports).toBeUndefined();
  });

  it('global access changes in place with a patch', async () => {
    const h = harness();
    await h.provider.ensure(l4({}, internal));
    h.fake.clearLog();
    await h.provider.ensure(l4({}, { ...internal, allowGlobalAccess: true }));
    expect(h.fake.writes()).toEqual([`ForwardingRules.Patch ${LB}`]);
    const patch = h.fake.log.find((c) => c.rpc === 'ForwardingRules.Patch');
    expect(patch?.verb).toBe('PATCH');
    // The client adds the empty labels map itself; the API treats it as absent.
    expect(patch?.body).toEqual({ allowGlobalAccess: true, labels: {} });
    expect(h.fake.get(`regions/${REGION}/forwardingRules/${LB}`)).toMatchObject({ allowGlobalAccess: true, labels: { 'lbc-cluster': 'test' } });
  });

  it('a subnet change moves the address: forwarding rule and address are replaced', async () => {
    const h = harness();
    await h.provider.ensure(l4({}, internal));
    h.fake.clearLog();
    const planned = await h.provider.plan(l4({}, { ...internal, subnet: 'other' }));
    expect(planned.filter((c) => c.detail !== undefined).map((c) => `${c.op} ${c.resource}: ${c.detail ?? ''}`)).toEqual([
      `delete ForwardingRule: replaced: subnetwork nodes → other`,
      `delete Address: replaced: subnetwork nodes → other`,
      `create Address: replaced: subnetwork nodes → other`,
      `create ForwardingRule: replaced: subnetwork nodes → other`,
    ]);
    await h.provider.ensure(l4({}, { ...internal, subnet: 'other' }));
    expect(h.fake.get(`regions/${REGION}/forwardingRules/${LB}`)?.subnetwork).toBe(`${V1}/regions/${REGION}/subnetworks/other`);
  });

  it('refuses TCP and UDP together, and a missing subnet', async () => {
    const h = harness({ subnetwork: undefined });
    const mixed = withPorts(l4({}, internal), [
      { protocol: 'TCP', port: 53, nodePort: 30053 },
      { protocol: 'UDP', port: 53, nodePort: 30054 },
    ]);
    expect((await rejection(h.provider.ensure(mixed))).message).toContain('one protocol');
    const noSubnet = await rejection(h.provider.ensure(l4({}, internal)));
    expect(noSubnet.kind).toBe('invalid');
    expect(noSubnet.message).toContain('networking.gke.io/internal-load-balancer-subnet');
    expect(h.fake.writes()).toEqual([]);
  });
});

describe('gce L4: switching between external and internal', () => {
  it('removes the old forwarding rule, backend service and address first, then builds the new ones', async () => {
    const h = harness();
    await h.provider.ensure(l4());
    h.fake.clearLog();
    const status = await h.provider.ensure(l4({}, internal));
    expect(h.fake.writes()).toEqual([
      `ForwardingRules.Delete ${LB}`,
      `RegionBackendServices.Delete ${LB}`,
      `Addresses.Delete ${LB}`,
      `Addresses.Insert ${LB}`,
      `Firewalls.Update k8s-fw-${LB}`,
      'Firewalls.Insert k8s-cid1-node-hc',
      `RegionBackendServices.Insert ${LB}`,
      `ForwardingRules.Insert ${LB}`,
    ]);
    expect(h.fake.get(`regions/${REGION}/forwardingRules/${LB}`)).toMatchObject({ loadBalancingScheme: 'INTERNAL', IPAddress: status.ingress[0]?.ip });
    expect(status.notices).toHaveLength(1);
    expect(status.notices?.[0]).toMatchObject({ type: 'Normal', reason: 'UpdatedLoadBalancer' });
    for (const what of [`Address ${LB} (address type EXTERNAL → INTERNAL)`, `BackendService ${LB} (load balancing scheme EXTERNAL → INTERNAL)`, `ForwardingRule ${LB} (`]) {
      expect(status.notices?.[0]?.message).toContain(what);
    }
    // And back: nothing internal is left behind except what is shared.
    await h.provider.ensure(l4());
    expect(h.fake.get(`regions/${REGION}/forwardingRules/${LB}`)).toMatchObject({ loadBalancingScheme: 'EXTERNAL' });
    await h.provider.delete(l4().ref);
    expect(h.fake.paths()).toEqual([]);
  });
});
