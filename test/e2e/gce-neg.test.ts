// Container-native load balancing end to end (#17): the controller in-process with a gce
// provider on the fake Compute API, against devcluster or the cluster KUBECONFIG names.
// A ClusterIP Service with cloud.google.com/neg {"ingress": true} behind an Ingress gets
// zonal NEGs holding its EndpointSlice's ready endpoints, no companion NodePort Service,
// and the cloud.google.com/neg-status annotation GKE writes; the endpoints follow the
// slice, and deleting the Ingress removes the NEGs and the annotation.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { negName } from '../../src/providers/gce/names.js';
import type { FakeCompute } from '../providers/gce/fake-compute.js';
import { addVpcNativeNodes, GCE_E2E, GCE_E2E_NODES, gceE2ENodeName, startGceE2E } from './gce-harness.js';
import { eventually, type E2E } from './harness.js';

const { project: PROJECT, region: REGION } = GCE_E2E;
const GCE_OPTIONS = { project: PROJECT, region: REGION, clusterId: 'cid1', subnetwork: 'nodes', nodeTags: ['gke-test-node'], defaultBackendService: 'k8s-default', retry: { retries: 3, minDelayMs: 1, maxDelayMs: 5 } };
const ZONES = { 'node-a': GCE_E2E_NODES['node-a'].zone, 'node-b': GCE_E2E_NODES['node-b'].zone } as const;

let e: E2E;
let fake: FakeCompute;
let className: string;
const node = (n: keyof typeof ZONES) => gceE2ENodeName(e, n);

beforeAll(async () => {
  ({ e, fake } = await startGceE2E(GCE_OPTIONS, { slowRetry: { baseMs: 300, maxMs: 1000 } }));
  className = await e.ingressClass('gce', 'gce');
  await addVpcNativeNodes(e, fake);
  await e.controller.start();
}, 90_000);

afterAll(async () => {
  await e?.stop();
  fake?.uninstall();
});

/** The Service's one EndpointSlice, as the EndpointSlice controller writes it (the Service has no selector, so none other manages it). */
async function endpoints(pods: readonly { ip: string; on: keyof typeof ZONES }[], create = false): Promise<void> {
  const body = {
    metadata: { name: 'web-neg', labels: { 'kubernetes.io/service-name': 'web' } },
    addressType: 'IPv4',
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    endpoints: pods.map((p) => ({ addresses: [p.ip], conditions: { ready: true }, nodeName: node(p.on), zone: ZONES[p.on] })),
  };
  if (create) await e.discovery.createNamespacedEndpointSlice({ namespace: e.ns, body });
  else await e.discovery.replaceNamespacedEndpointSlice({ namespace: e.ns, name: 'web-neg', body });
}

describe('Ingress backends on NEGs (gce)', () => {
  it('a NEG Service gets zonal NEGs with its endpoints, no companion, and cloud.google.com/neg-status; they follow the slice and go with the Ingress', async () => {
    await e.core.createNamespacedService({
      namespace: e.ns,
      body: { metadata: { name: 'web', annotations: { 'cloud.google.com/neg': '{"ingress": true}' } }, spec: { type: 'ClusterIP', ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }] } },
    });
    await endpoints([{ ip: '10.4.0.5', on: 'node-a' }, { ip: '10.4.1.7', on: 'node-b' }], true);
    await e.networking.createNamespacedIngress({
      namespace: e.ns,
      body: { metadata: { name: 'site' }, spec: { ingressClassName: className, defaultBackend: { service: { name: 'web', port: { number: 80 } } } } },
    });
    const neg = negName('cid1', e.ns, 'web', 80);
    const path = (z: string) => `zones/${z}/networkEndpointGroups/${neg}`;
    await eventually('both NEGs with their endpoint', () => (fake.endpointsOf(path(ZONES['node-a'])).length === 1 && fake.endpointsOf(path(ZONES['node-b'])).length === 1) || undefined, 20_000);
    expect(fake.endpointsOf(path(ZONES['node-a']))).toEqual([`${node('node-a')} 10.4.0.5:8080`]);
    const status = await eventually('the neg-status annotation', async () => (await e.core.readNamespacedService({ namespace: e.ns, name: 'web' })).metadata?.annotations?.['cloud.google.com/neg-status'], 15_000);
    expect(JSON.parse(status)).toEqual({ network_endpoint_groups: { '80': neg }, zones: [ZONES['node-a'], ZONES['node-b']] });
    // No companion NodePort Service: the NEGs need no node port.
    expect((await e.core.listNamespacedService({ namespace: e.ns })).items.map((s) => s.metadata?.name)).toEqual(['web']);

    await endpoints([{ ip: '10.4.0.6', on: 'node-a' }, { ip: '10.4.1.7', on: 'node-b' }]);
    await eventually('the new pod attached, the old one detached', () => (fake.endpointsOf(path(ZONES['node-a']))[0] === `${node('node-a')} 10.4.0.6:8080` ? true : undefined), 20_000);

    await e.networking.deleteNamespacedIngress({ namespace: e.ns, name: 'site' });
    await eventually('the NEGs gone', () => (fake.paths().some((p) => p.includes('networkEndpointGroups')) ? undefined : true), 20_000);
    await eventually('the annotation gone', async () =>
      (await e.core.readNamespacedService({ namespace: e.ns, name: 'web' })).metadata?.annotations?.['cloud.google.com/neg-status'] === undefined ? true : undefined,
    );
    expect(fake.violations).toEqual([]);
  }, 90_000);
});
