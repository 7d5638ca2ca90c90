// Container-native load balancing: Ingress backends whose Service asks for NEGs
// (cloud.google.com/neg {"ingress": true}) get zonal GCE_VM_IP_PORT NEGs, as ingress-gce's
// NEG controller builds them, through the real Compute client against the fake, which
// refuses what GCE refuses.
import { describe, expect, it } from 'vitest';
import type { PodTarget } from '../../../src/model/spec.js';
import type { Compute } from '../../../src/providers/gce/compute.js';
import { negName } from '../../../src/providers/gce/names.js';
import { NEG_BATCH } from '../../../src/providers/gce/neg.js';
import { FakeCompute } from './fake-compute.js';
import { CLUSTER_ID, l7, l7Neg, nodeA, nodeB, pod, PROJECT, REGION, rejection, seedVpcNativeNodes } from './fixtures.js';
import { harnessPerTest } from './lifecycle.js';

const harness = harnessPerTest();
const ZA = `${REGION}-a`;
const ZB = `${REGION}-b`;
const WEB_NEG = negName(CLUSTER_ID, 'shop', 'web', 80);
const negPath = (zone: string, name = WEB_NEG) => `zones/${zone}/networkEndpointGroups/${name}`;
const V1 = `https://www.googleapis.com/compute/v1/projects/${PROJECT}`;

describe('NEG names', () => {
  it('are ingress-gce Namer.NEG names: the one GKE gave default/nginx-service:80 in kubernetes/ingress-gce#1463', () => {
    expect(negName('c5d09f7f', 'default', 'nginx-service', 80)).toBe('k8s1-c5d09f7f-default-nginx-service-80-c3aae96e');
  });

  it('fit 63 characters, trimming namespace, name and port evenly (maxNEGDescriptiveLabel 38)', () => {
    const n = negName('0123456789abcdef', 'n'.repeat(40), 's'.repeat(40), 8080);
    expect(n.length).toBeLessThanOrEqual(63);
    expect(n).toMatch(/^k8s1-01234567-n+-s+-\d*-[0-9a-f]{8}$/);
  });
});

describe('Ingress backends on NEGs', () => {
  it('creates one GCE_VM_IP_PORT NEG per zone with the ready pods, and a RATE backend service on them checked on the serving port', async () => {
    const h = harness();
    seedVpcNativeNodes(h.fake);
    const status = await h.provider.ensure(l7Neg([pod('10.4.0.5'), pod('10.4.0.6'), pod('10.4.1.7', nodeB)]));
    expect(h.fake.violations).toEqual([]);
    // What the controller writes on the Service as cloud.google.com/neg-status.
    expect(status.backendGroups).toEqual([{ namespace: 'shop', service: 'web', port: 80, name: WEB_NEG, zones: [ZA, ZB] }]);

    const negA = h.fake.get(negPath(ZA));
    expect(negA).toMatchObject({ networkEndpointType: 'GCE_VM_IP_PORT', network: `${V1}/global/networks/default`, subnetwork: `${V1}/regions/${REGION}/subnetworks/nodes`, size: 2 });
    expect(JSON.parse(String(negA?.description))).toEqual({ 'cluster-uid': CLUSTER_ID, namespace: 'shop', 'service-name': 'web', port: '80', 'lbc.dev/cluster': 'test' });
    expect(h.fake.endpointsOf(negPath(ZA))).toEqual(['node-a 10.4.0.5:8080', 'node-a 10.4.0.6:8080']);
    expect(h.fake.endpointsOf(negPath(ZB))).toEqual(['node-b 10.4.1.7:8080']);

    const services = h.fake.paths().filter((p) => p.startsWith('global/backendServices/'));
    const web = services.map((p) => h.fake.get(p)).find((s) => String(s?.description).includes('shop/site') && JSON.stringify(s?.backends).includes('networkEndpointGroups'));
    expect(web?.backends).toEqual([
      { group: `${V1}/zones/${ZA}/networkEndpointGroups/${WEB_NEG}`, balancingMode: 'RATE', maxRatePerEndpoint: 1, capacityScaler: 1 },
      { group: `${V1}/zones/${ZB}/networkEndpointGroups/${WEB_NEG}`, balancingMode: 'RATE', maxRatePerEndpoint: 1, capacityScaler: 1 },
    ]);
    expect(web?.portName).toBeUndefined();
    const check = h.fake.get(`global/healthChecks/${String(web?.name)}`);
    expect(check?.httpHealthCheck).toEqual({ portSpecification: 'USE_SERVING_PORT', requestPath: '/' });

    // The instance backend (shop/api) is untouched by the change: instance groups and its node port.
    expect(h.fake.paths()).toContain(`zones/${ZA}/instanceGroups/k8s-ig--cid1`);
    // The pods' port is open to Google's front ends and health checkers on the nodes, beside the node ports.
    const fw = h.fake.paths().find((p) => p.startsWith('global/firewalls/'));
    expect((h.fake.get(fw ?? '')?.allowed as { ports: string[] }[])[0]?.ports).toEqual(['8080', '31001']);
  });

  it('keeps the endpoints in line with the EndpointSlices: attach the new, detach the gone, nothing when nothing changed', async () => {
    const h = harness();
    seedVpcNativeNodes(h.fake);
    await h.provider.ensure(l7Neg([pod('10.4.0.5'), pod('10.4.0.6')]));
    h.fake.clearLog();
    await h.provider.ensure(l7Neg([pod('10.4.0.6'), pod('10.4.0.9')]));
    expect(h.fake.writes()).toEqual([`NetworkEndpointGroups.AttachNetworkEndpoints ${WEB_NEG}`, `NetworkEndpointGroups.DetachNetworkEndpoints ${WEB_NEG}`]);
    expect(h.fake.endpointsOf(negPath(ZA))).toEqual(['node-a 10.4.0.6:8080', 'node-a 10.4.0.9:8080']);
    h.fake.clearLog();
    await h.provider.ensure(l7Neg([pod('10.4.0.6'), pod('10.4.0.9')]));
    expect(h.fake.writes()).toEqual([]);
    expect(h.fake.violations).toEqual([]);
  });

  it(`attaches more than ${NEG_BATCH} endpoints in calls of at most ${NEG_BATCH} (ingress-gce MAX_NETWORK_ENDPOINTS_PER_BATCH)`, async () => {
    const h = harness();
    seedVpcNativeNodes(h.fake);
    h.fake.seed(`zones/${ZA}/instances/node-a`, {
      networkInterfaces: [{ network: `${V1}/global/networks/default`, networkIP: '10.0.0.1', aliasIpRanges: [{ ipCidrRange: '10.8.0.0/20' }] }],
    });
    const pods: PodTarget[] = Array.from({ length: 1201 }, (_, i) => pod(`10.8.${Math.floor(i / 250)}.${(i % 250) + 1}`));
    await h.provider.ensure(l7Neg(pods));
    const attaches = h.fake.log.filter((c) => c.rpc === 'NetworkEndpointGroups.AttachNetworkEndpoints');
    expect(attaches.map((c) => (c.body?.networkEndpoints as unknown[]).length)).toEqual([500, 500, 201]);
    expect(h.fake.get(negPath(ZA))?.size).toBe(1201);
  });

  it('switching a backend from NEGs back to instance groups moves the backend service, then deletes the unused NEGs', async () => {
    const h = harness();
    seedVpcNativeNodes(h.fake);
    await h.provider.ensure(l7Neg([pod('10.4.0.5'), pod('10.4.1.7', nodeB)]));
    await h.provider.ensure(l7());
    expect(h.fake.paths().filter((p) => p.includes('networkEndpointGroups'))).toEqual([]);
    expect(h.fake.violations).toEqual([]);
  });

  it('a NEG another Ingress still uses is kept when one Ingress goes; the last one removes it', async () => {
    const h = harness();
    seedVpcNativeNodes(h.fake);
    const first = l7Neg([pod('10.4.0.5')]);
    const second = { ...l7Neg([pod('10.4.0.5')]), ref: { kind: 'Ingress' as const, namespace: 'shop', name: 'other', uid: '11111111-2222-4333-8444-555555555555' } };
    await h.provider.ensure(first);
    await h.provider.ensure(second);
    await h.provider.delete(first.ref);
    expect(h.fake.get(negPath(ZA))).toBeDefined();
    await h.provider.delete(second.ref);
    expect(h.fake.get(negPath(ZA))).toBeUndefined();
    expect(h.fake.violations).toEqual([]);
  });

  it('an empty zone leaves the backend service and is deleted', async () => {
    const h = harness();
    seedVpcNativeNodes(h.fake);
    await h.provider.ensure(l7Neg([pod('10.4.0.5'), pod('10.4.1.7', nodeB)]));
    await h.provider.ensure(l7Neg([pod('10.4.0.5')]));
    expect(h.fake.get(negPath(ZB))).toBeUndefined();
    expect(h.fake.get(negPath(ZA))).toBeDefined();
  });
});

describe('the fake refuses what GCE refuses in NEG calls', () => {
  const endpoints = (n: number, base = '10.4.0.') => Array.from({ length: n }, (_, i) => ({ instance: 'node-a', ipAddress: `${base}${(i % 250) + 1}`, port: 8080 + Math.floor(i / 250) }));
  async function withNeg(h: ReturnType<typeof harness>) {
    seedVpcNativeNodes(h.fake);
    const { compute } = h.provider as unknown as { compute: Compute };
    await compute.write('networkEndpointGroups.insert', 'n', undefined, (o) =>
      compute.networkEndpointGroups.insert(
        { project: PROJECT, zone: ZA, networkEndpointGroupResource: { name: 'n', networkEndpointType: 'GCE_VM_IP_PORT', network: `${V1}/global/networks/default` } },
        o,
      ),
    );
    const attach = (networkEndpoints: object[]) =>
      compute.write('networkEndpointGroups.attachNetworkEndpoints', 'n', undefined, (o) =>
        compute.networkEndpointGroups.attachNetworkEndpoints({ project: PROJECT, zone: ZA, networkEndpointGroup: 'n', networkEndpointGroupsAttachEndpointsRequestResource: { networkEndpoints } }, o),
      );
    const detach = (networkEndpoints: object[]) =>
      compute.write('networkEndpointGroups.detachNetworkEndpoints', 'n', undefined, (o) =>
        compute.networkEndpointGroups.detachNetworkEndpoints({ project: PROJECT, zone: ZA, networkEndpointGroup: 'n', networkEndpointGroupsDetachEndpointsRequestResource: { networkEndpoints } }, o),
      );
    return { attach, detach };
  }

  it(`more than ${FakeCompute.MAX_ENDPOINTS_PER_CALL} endpoints in one call`, async () => {
    const { attach } = await withNeg(harness());
    expect((await rejection(attach(endpoints(1001)))).message).toMatch(/At most 1000 network endpoints/);
  });

  it('an instance outside the NEG zone, and a pod IP that is not the instance\'s (the message of ingress-gce#1463)', async () => {
    const { attach } = await withNeg(harness());
    expect((await rejection(attach([{ instance: 'node-b', ipAddress: '10.4.1.5', port: 8080 }]))).message).toMatch(/Instance 'node-b' does not exist in zone us-central1-a/);
    expect((await rejection(attach([{ instance: 'node-a', ipAddress: '10.4.1.5', port: 8080 }]))).message).toMatch(
      /Specified IP address 10\.4\.1\.5 doesn't belong to the \(sub\)network default or to the instance node-a/,
    );
  });

  it('an endpoint attached twice, one detached that is not attached', async () => {
    const { attach, detach } = await withNeg(harness());
    await attach([{ instance: 'node-a', ipAddress: '10.4.0.5', port: 8080 }]);
    expect((await rejection(attach([{ instance: 'node-a', ipAddress: '10.4.0.5', port: 8080 }]))).message).toMatch(/already a member/);
    expect((await rejection(detach([{ instance: 'node-a', ipAddress: '10.4.0.6', port: 8080 }]))).message).toMatch(/is not a member/);
  });

  it('deleting a NEG a backend service uses', async () => {
    const h = harness();
    seedVpcNativeNodes(h.fake);
    await h.provider.ensure(l7Neg([pod('10.4.0.5')]));
    const { compute } = h.provider as unknown as { compute: Compute };
    const del = compute.write('networkEndpointGroups.delete', WEB_NEG, undefined, (o) => compute.networkEndpointGroups.delete({ project: PROJECT, zone: ZA, networkEndpointGroup: WEB_NEG }, o));
    expect((await rejection(del)).message).toMatch(/The network_endpoint_group resource '.*' is already being used by '.*backendServices/);
  });
});

describe('nodeA', () => {
  it('is in zone a, node-b in zone b', () => {
    expect([nodeA.zone, nodeB.zone]).toEqual([ZA, ZB]);
  });
});

describe("the cluster's L7 firewall rule keeps every Ingress's NEG pod ports", () => {
  const RULE = `global/firewalls/k8s-fw-l7--${CLUSTER_ID}`;
  /** An Ingress on NEGs alone: its one backend Service's pods on `podPort`, its targetPort as declared. */
  const negIngress = (name: string, uid: string, service: string, targetPort: number | string, podPort: number) => {
    const base = l7Neg([pod('10.4.0.5', nodeA, podPort), pod('10.4.1.7', nodeB, podPort)]);
    const web = base.targetSets.find((t) => t.type === 'ip');
    if (web?.type !== 'ip') throw new Error('l7Neg has an ip target set');
    const set = { ...web, name: `shop/${service}:80`, port: targetPort, backend: { namespace: 'shop', service, port: 80 } };
    return {
      ...base,
      ref: { kind: 'Ingress' as const, namespace: 'shop', name, uid },
      rules: [{ path: '/', pathType: 'Prefix' as const, targetSet: set.name, source: `shop/${name}` }],
      defaultBackend: set.name,
      targetSets: [set],
    };
  };
  /** A on shop/web, its pods and targetPort 8080; B on shop/admin, its pods on 9090 and the targetPort given. */
  const twoIngresses = (bTargetPort: number | string) => {
    const h = harness();
    seedVpcNativeNodes(h.fake);
    return {
      h,
      a: negIngress('a', '1a1a1a1a-0000-4000-8000-00000000000a', 'web', 8080, 8080),
      b: negIngress('b', '2b2b2b2b-0000-4000-8000-00000000000b', 'admin', bTargetPort, 9090),
    };
  };
  const ports = (h: ReturnType<typeof harness>) => (h.fake.get(RULE)?.allowed as { ports: string[] }[] | undefined)?.[0]?.ports;
  const endpointLists = (h: ReturnType<typeof harness>, neg: string) => h.fake.log.filter((c) => c.rpc === 'NetworkEndpointGroups.ListNetworkEndpoints' && c.path.includes(neg)).length;

  // ingress-gce opens every NEG's target port in its L7 rule (pkg/firewalls, fed by the
  // translator's endpoint ports of all Ingresses): ensuring one Ingress must not drop another's.
  it('ensure A, B, A again, delete A: both pod ports after each ensure, B’s after the delete (B on a named targetPort: its endpoints are read)', async () => {
    const { h, a, b } = twoIngresses('http');
    await h.provider.ensure(a);
    expect(ports(h)).toEqual(['8080']);
    await h.provider.ensure(b);
    expect(ports(h)).toEqual(['8080', '9090']);
    h.fake.clearLog();
    await h.provider.ensure(a);
    expect(ports(h)).toEqual(['8080', '9090']);
    // B's NEGs record no port (its pods may differ): their endpoints, one list per zone.
    expect(endpointLists(h, negName(CLUSTER_ID, 'shop', 'admin', 80))).toBe(2);
    await h.provider.delete(a.ref);
    expect(ports(h)).toEqual(['9090']);
    expect(h.fake.violations).toEqual([]);
  });

  it("a numeric targetPort is the NEG's defaultPort: the other Ingresses read it from the one NEG list, none of its endpoints", async () => {
    const { h, a, b } = twoIngresses(9090);
    await h.provider.ensure(a);
    await h.provider.ensure(b);
    const adminNeg = negName(CLUSTER_ID, 'shop', 'admin', 80);
    expect(h.fake.get(negPath(ZA, adminNeg))?.defaultPort).toBe(9090);
    h.fake.clearLog();
    await h.provider.ensure(a);
    expect(ports(h)).toEqual(['8080', '9090']);
    expect(endpointLists(h, adminNeg)).toBe(0);
    expect(h.fake.log.filter((c) => c.rpc === 'NetworkEndpointGroups.AggregatedList')).toHaveLength(1);
    h.fake.clearLog();
    await h.provider.delete(a.ref);
    expect(ports(h)).toEqual(['9090']);
    expect(endpointLists(h, adminNeg)).toBe(0);
  });

  it("B's create and delete, crashed after each write and followed by A's ensure, leave the rule with exactly the pod ports of the Ingresses there are", async () => {
    const { h, a, b } = twoIngresses(9090);
    await h.provider.ensure(a);
    const alone = h.fake.paths();
    h.fake.clearLog();
    await h.provider.ensure(b);
    const both = h.fake.paths();
    const createWrites = h.fake.writes().length;
    await h.provider.delete(b.ref);
    expect(createWrites).toBeGreaterThan(5);
    for (let n = 0; n < createWrites; n++) {
      h.fake.crashAfterWrites(n);
      await expect(h.provider.ensure(b)).rejects.toThrow();
      h.fake.healed();
      // A, ensured while B is half made, neither fails nor keeps B from converging.
      await h.provider.ensure(a);
      await h.provider.ensure(b);
      expect(h.fake.paths(), `after a crash following write ${n}`).toEqual(both);
      expect(ports(h), `after a crash following write ${n}`).toEqual(['8080', '9090']);
      await h.provider.ensure(a);
      expect(ports(h), `A ensured after a crash following write ${n}`).toEqual(['8080', '9090']);
      h.fake.crashAfterWrites(n % 4);
      await expect(h.provider.delete(b.ref)).rejects.toThrow();
      h.fake.healed();
      await h.provider.ensure(a);
      await h.provider.delete(b.ref);
      expect(h.fake.paths(), `delete after a crash following write ${n}`).toEqual(alone);
      expect(ports(h), `delete after a crash following write ${n}`).toEqual(['8080']);
    }
    expect(h.fake.violations).toEqual([]);
  }, 300_000);

  it('GCE refuses a defaultPort on a GCE_VM_IP NEG, whose endpoints have no port', async () => {
    const h = harness();
    const { compute } = h.provider as unknown as { compute: Compute };
    const insert = compute.write('networkEndpointGroups.insert', 'neg-ip', undefined, (o) =>
      compute.networkEndpointGroups.insert(
        { project: PROJECT, zone: ZA, networkEndpointGroupResource: { name: 'neg-ip', networkEndpointType: 'GCE_VM_IP', network: `${V1}/global/networks/default`, defaultPort: 80 } },
        o,
      ),
    );
    expect(await rejection(insert)).toMatchObject({ message: expect.stringContaining("Invalid value for field 'resource.defaultPort'") });
  });
});
