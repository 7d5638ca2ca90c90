// Gateways on GCE end to end: the Gateway API v1.4.0 CRDs on devcluster (or the real control
// plane KUBECONFIG names), the controller in-process with a gce provider on the fake Compute
// API. The GatewayClass publishes GCE_GATEWAY_FEATURES; a Gateway with an HTTPRoute canary
// gets a global external Application Load Balancer of the EXTERNAL_MANAGED scheme on NEGs,
// its address in status and Programmed; a weight change is one URL map update; deleting the
// Gateway removes everything it had in the cloud. A Gateway of GKE's regional internal class
// gke-l7-rilb is Programmed False with GCE's reason while the region has no proxy-only
// subnet, nothing built, and gets its regional internal load balancer once there is one.
import { CustomObjectsApi } from '@kubernetes/client-node';
import nock from 'nock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway, GatewayClass, HTTPRoute } from '../../src/kube/gateway-api.js';
import { GCE_GATEWAY_FEATURES } from '../../src/providers/gce/gateway-url-map.js';
import { gatewayNames, negName } from '../../src/providers/gce/names.js';
import type { FakeCompute } from '../providers/gce/fake-compute.js';
import { createGateway, createLbcGatewayClass, deleteGatewaysAndClass, installGatewayApiCrds } from '../support/gateway-crds.js';
import { addVpcNativeNodes, GCE_E2E, GCE_E2E_NODES, gceE2ENodeName, startGceE2E, type GceE2ENode } from './gce-harness.js';
import { eventually, type E2E } from './harness.js';

const GROUP = 'gateway.networking.k8s.io';
/** GKE's regional internal class, by its name (a GatewayClass of lbc's controller named so). */
const RILB = 'gke-l7-rilb';
const GCE_OPTIONS = { project: GCE_E2E.project, region: GCE_E2E.region, clusterId: 'cid1', subnetwork: 'nodes', nodeTags: ['gke-test-node'], retry: { retries: 3, minDelayMs: 1, maxDelayMs: 5 } };

let e: E2E;
let fake: FakeCompute;
let custom: CustomObjectsApi;
let className: string;
let seeded: string[];

const gw = (name: string): Promise<Gateway> => custom.getNamespacedCustomObject({ group: GROUP, version: 'v1', namespace: e.ns, plural: 'gateways', name }) as Promise<Gateway>;
const route = (name: string): Promise<HTTPRoute> => custom.getNamespacedCustomObject({ group: GROUP, version: 'v1', namespace: e.ns, plural: 'httproutes', name }) as Promise<HTTPRoute>;
const cond = (list: readonly { type: string; status: string; reason: string }[] | undefined, type: string) => list?.find((c) => c.type === type);

/** A Service of pods on both nodes, as the EndpointSlice controller lists them. */
async function backend(name: string, ips: Record<GceE2ENode, string>): Promise<void> {
  await e.service(name, { type: 'ClusterIP', ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }] });
  await e.discovery.createNamespacedEndpointSlice({
    namespace: e.ns,
    body: {
      metadata: { name: `${name}-pods`, labels: { 'kubernetes.io/service-name': name } },
      addressType: 'IPv4',
      ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
      endpoints: (Object.keys(ips) as GceE2ENode[]).map((n) => ({ addresses: [ips[n]], conditions: { ready: true }, nodeName: gceE2ENodeName(e, n), zone: GCE_E2E_NODES[n].zone })),
    },
  });
}

const canary = (weights: [number, number]) => ({
  parentRefs: [{ name: 'edge' }],
  rules: [
    { matches: [{ path: { type: 'PathPrefix', value: '/api' } }], backendRefs: [{ name: 'api', port: 80, weight: weights[0] }, { name: 'api-v2', port: 80, weight: weights[1] }] },
    { backendRefs: [{ name: 'web', port: 80 }] },
  ],
});

beforeAll(async () => {
  ({ e, fake } = await startGceE2E(GCE_OPTIONS, { slowRetry: { baseMs: 300, maxMs: 1000 } }));
  custom = e.clients.kc.makeApiClient(CustomObjectsApi);
  // With nock's interception off, as gateway-aws-parameters.test.ts found: passed through it,
  // the real API server's answer to the large HTTPRoute CRD ends early ("Premature close").
  nock.restore();
  try {
    await installGatewayApiCrds(e.clients.kc);
  } finally {
    nock.activate();
  }
  await addVpcNativeNodes(e, fake);
  seeded = fake.paths();
  await e.controller.start();
  className = `gce-${e.ns}`;
  await createLbcGatewayClass(custom, className, 'gce');
  await backend('web', { 'node-a': '10.4.0.5', 'node-b': '10.4.1.5' });
  await backend('api', { 'node-a': '10.4.0.6', 'node-b': '10.4.1.6' });
  await backend('api-v2', { 'node-a': '10.4.0.7', 'node-b': '10.4.1.7' });
}, 90_000);

afterAll(async () => {
  await deleteGatewaysAndClass(custom, e.ns, RILB);
  await deleteGatewaysAndClass(custom, e.ns, className);
  await e?.stop();
  fake?.uninstall();
});

describe('Gateway API on gce', () => {
  it('the GatewayClass is Accepted with supportedFeatures GCE_GATEWAY_FEATURES', async () => {
    const gc = await eventually('GatewayClass accepted', async () => {
      const c = (await custom.getClusterCustomObject({ group: GROUP, version: 'v1', plural: 'gatewayclasses', name: className })) as GatewayClass;
      return cond(c.status?.conditions, 'Accepted')?.status === 'True' ? c : undefined;
    });
    expect(gc.status?.supportedFeatures?.map((f) => f.name)).toEqual([...GCE_GATEWAY_FEATURES].sort());
  });

  it('a Gateway with an HTTPRoute canary gets an EXTERNAL_MANAGED load balancer on NEGs and its address; a weight change is one URL map update; delete leaves nothing', async () => {
    await createGateway(custom, e.ns, 'edge', { gatewayClassName: className, listeners: [{ name: 'http', port: 80, protocol: 'HTTP' }] });
    await custom.createNamespacedCustomObject({ group: GROUP, version: 'v1', namespace: e.ns, plural: 'httproutes', body: { apiVersion: `${GROUP}/v1`, kind: 'HTTPRoute', metadata: { name: 'canary' }, spec: canary([90, 10]) } });
    const g = await eventually(
      'Gateway programmed with its address',
      async () => {
        const x = await gw('edge');
        return cond(x.status?.conditions, 'Programmed')?.status === 'True' && x.status?.addresses?.length ? x : undefined;
      },
      30_000,
    );
    expect(g.status?.addresses).toEqual([{ type: 'IPAddress', value: expect.stringMatching(/^203\.0\.113\./) as unknown }]);
    const r = await route('canary');
    expect(cond(r.status?.parents?.[0]?.conditions, 'Accepted')).toMatchObject({ status: 'True', reason: 'Accepted' });

    const names = gatewayNames({ kind: 'Gateway', namespace: e.ns, name: 'edge', uid: g.metadata?.uid ?? '' }, 'cid1', 'default');
    expect(fake.get(`global/addresses/${names.address}`)?.address).toBe(g.status?.addresses?.[0]?.value);
    expect(fake.get(`global/forwardingRules/${names.forwardingRule(80)}`)).toMatchObject({ loadBalancingScheme: 'EXTERNAL_MANAGED', portRange: '80-80', IPAddress: g.status?.addresses?.[0]?.value });
    const api = names.backendService(`${e.ns}/api:80`, e.ns, 'api', 80);
    const apiV2 = names.backendService(`${e.ns}/api-v2:80`, e.ns, 'api-v2', 80);
    type Map = { pathMatchers: { routeRules: { routeAction: { weightedBackendServices: { backendService: string; weight: number }[] } }[] }[] };
    const weights = () =>
      (fake.get(`global/urlMaps/${names.urlMap(80)}`) as Map | undefined)?.pathMatchers[0]?.routeRules[0]?.routeAction.weightedBackendServices.map((w) => `${w.backendService.split('/').pop() ?? ''}=${w.weight}`);
    // The route may attach after the Gateway was first programmed.
    await eventually('the canary in the URL map', () => weights(), 20_000);
    expect(weights()).toEqual([`${api}=90`, `${apiV2}=10`]);
    expect(fake.get(`global/backendServices/${api}`)).toMatchObject({ loadBalancingScheme: 'EXTERNAL_MANAGED' });
    expect(fake.endpointsOf(`zones/${GCE_E2E_NODES['node-a'].zone}/networkEndpointGroups/${negName('cid1', e.ns, 'api', 80)}`)).toEqual([`${gceE2ENodeName(e, 'node-a')} 10.4.0.6:8080`]);

    // The controller is idle: a weight change is one URL map update and nothing else.
    await e.controller.idle();
    fake.clearLog();
    await custom.patchNamespacedCustomObject({ group: GROUP, version: 'v1', namespace: e.ns, plural: 'httproutes', name: 'canary', body: [{ op: 'replace', path: '/spec', value: canary([50, 50]) }] });
    await eventually('the new weights', () => (weights()?.[0] === `${api}=50` ? true : undefined), 20_000);
    await e.controller.idle();
    expect(fake.writes()).toEqual([`UrlMaps.Update ${names.urlMap(80)}`]);

    await custom.deleteNamespacedCustomObject({ group: GROUP, version: 'v1', namespace: e.ns, plural: 'gateways', name: 'edge' });
    await eventually('everything the Gateway had is gone', () => (fake.paths().length === seeded.length ? true : undefined), 30_000);
    expect(fake.paths()).toEqual(seeded);
    expect(fake.violations).toEqual([]);
  }, 120_000);

  it(`a Gateway of ${RILB} without the region's proxy-only subnet is Programmed False with GCE's reason and builds nothing; once the subnet exists it gets its regional internal load balancer`, async () => {
    await createLbcGatewayClass(custom, RILB, 'gce');
    await e.controller.idle();
    fake.clearLog();
    await createGateway(custom, e.ns, 'inner', { gatewayClassName: RILB, listeners: [{ name: 'http', port: 80, protocol: 'HTTP' }] });
    await custom.createNamespacedCustomObject({ group: GROUP, version: 'v1', namespace: e.ns, plural: 'httproutes', body: { apiVersion: `${GROUP}/v1`, kind: 'HTTPRoute', metadata: { name: 'inner-web' }, spec: { parentRefs: [{ name: 'inner' }], rules: [{ backendRefs: [{ name: 'web', port: 80 }] }] } } });
    const refused = await eventually(
      'Gateway not programmed, saying why',
      async () => {
        const p = cond((await gw('inner')).status?.conditions, 'Programmed') as { status: string; reason: string; message?: string } | undefined;
        return p?.status === 'False' && p.message?.includes('proxy-only') ? p : undefined;
      },
      30_000,
    );
    expect(refused).toMatchObject({ reason: 'Pending' });
    expect(refused.message).toContain('An active proxy-only subnetwork is required in the same region and VPC as the forwarding rule');
    expect(refused.message).toContain('gcloud compute networks subnets create');
    expect(fake.writes()).toEqual([]);

    // A network administrator makes the subnet: the next try builds the load balancer.
    fake.seed(`regions/${GCE_E2E.region}/subnetworks/proxy-only`, {
      network: `https://www.googleapis.com/compute/v1/projects/${GCE_E2E.project}/global/networks/default`,
      ipCidrRange: '10.129.0.0/23',
      purpose: 'REGIONAL_MANAGED_PROXY',
      role: 'ACTIVE',
    });
    const g = await eventually(
      'Gateway programmed with its internal address',
      async () => {
        const x = await gw('inner');
        return cond(x.status?.conditions, 'Programmed')?.status === 'True' && x.status?.addresses?.length ? x : undefined;
      },
      30_000,
    );
    expect(g.status?.addresses).toEqual([{ type: 'IPAddress', value: expect.stringMatching(/^10\.128\.0\./) as unknown }]);
    const names = gatewayNames({ kind: 'Gateway', namespace: e.ns, name: 'inner', uid: g.metadata?.uid ?? '' }, 'cid1', 'default');
    expect(fake.get(`regions/${GCE_E2E.region}/forwardingRules/${names.forwardingRule(80)}`)).toMatchObject({ loadBalancingScheme: 'INTERNAL_MANAGED', IPAddress: g.status?.addresses?.[0]?.value });

    await custom.deleteNamespacedCustomObject({ group: GROUP, version: 'v1', namespace: e.ns, plural: 'gateways', name: 'inner' });
    const left = () => fake.paths().filter((p) => !p.includes('/subnetworks/'));
    await eventually('everything the Gateway had is gone', () => (left().length === seeded.length ? true : undefined), 30_000);
    expect(left()).toEqual(seeded);
    expect(fake.violations).toEqual([]);
    // The subnet was this test's seed: the next tests count the project's resources against what they found.
    fake.remove(`regions/${GCE_E2E.region}/subnetworks/proxy-only`);
    expect(fake.paths()).toEqual(seeded);
  }, 120_000);

  it('what the URL map cannot serve as asked (weights past 0-1000 losing their ratio) is a Warning on the Gateway and on the HTTPRoute that asked', async () => {
    await createGateway(custom, e.ns, 'scaled', { gatewayClassName: className, listeners: [{ name: 'http', port: 80, protocol: 'HTTP' }] });
    const spec = { parentRefs: [{ name: 'scaled' }], rules: [{ backendRefs: [{ name: 'api', port: 80, weight: 1 }, { name: 'api-v2', port: 80, weight: 3000 }] }] };
    await custom.createNamespacedCustomObject({ group: GROUP, version: 'v1', namespace: e.ns, plural: 'httproutes', body: { apiVersion: `${GROUP}/v1`, kind: 'HTTPRoute', metadata: { name: 'heavy' }, spec } });
    const said = `HTTPRoute ${e.ns}/heavy spec.rules[0]: backendRefs weights 1:3000 are served as 1:1000`;
    const onGateway = await e.warningOn('scaled', said);
    expect(onGateway).toMatchObject({ reason: 'UnsupportedRouteValue', involvedObject: { kind: 'Gateway', name: 'scaled' } });
    const heavy = await route('heavy');
    const onRoute = await e.warningOn('heavy', said);
    expect(onRoute).toMatchObject({ reason: 'UnsupportedRouteValue', involvedObject: { kind: 'HTTPRoute', apiVersion: `${GROUP}/v1`, namespace: e.ns, name: 'heavy', uid: heavy.metadata?.uid } });

    await custom.deleteNamespacedCustomObject({ group: GROUP, version: 'v1', namespace: e.ns, plural: 'gateways', name: 'scaled' });
    await eventually('everything the Gateway had is gone', () => (fake.paths().length === seeded.length ? true : undefined), 30_000);
  }, 120_000);
});
