// Shared setup for the gce provider tests: a provider wired to the fake Compute API
// with a fixed bearer token (no token endpoint is ever called, no network is used),
// and specs shaped like the model builders make them.
import { OAuth2Client } from 'google-auth-library';
import nock from 'nock';
import type { GceLbOptions } from '../../../src/providers/gce/annotations.js';
import { DEFAULT_GCE_OPTIONS } from '../../../src/providers/gce/annotations.js';
import type { CallRecord } from '../../../src/providers/gce/compute.js';
import { gceOptionsSchema, type GceOptionsInput } from '../../../src/providers/gce/options.js';
import { GceProvider } from '../../../src/providers/gce/provider.js';
import type { HealthCheck, L4Spec, L7Spec, NodeTarget } from '../../../src/model/spec.js';
import { ownershipTags } from '../../../src/model/spec.js';
import { FakeCompute } from './fake-compute.js';

export const PROJECT = 'test-project';
export const REGION = 'us-central1';
export const CLUSTER = 'test';
export const CLUSTER_ID = 'cid1';
export const TOKEN = 'test-token';

export const SVC_UID = '3f1c2b7e-1111-4a2b-9c3d-0123456789ab';
/** a + the UID without dashes, cut to 32. */
export const LB = 'a3f1c2b7e11114a2b9c3d0123456789a';

export function node(name: string, zone = `${REGION}-a`): NodeTarget {
  return { name, addresses: [{ type: 'InternalIP', address: '10.0.0.1' }], providerID: `gce://${PROJECT}/${zone}/${name}`, zone };
}

export const nodeA = node('node-a');
export const nodeB = node('node-b', `${REGION}-b`);

export const TCP_DEFAULT_HC: HealthCheck = { protocol: 'TCP', port: 'traffic-port', intervalSeconds: 10, timeoutSeconds: 5, healthyThreshold: 2, unhealthyThreshold: 3 };

export interface Harness {
  readonly fake: FakeCompute;
  readonly provider: GceProvider;
  readonly calls: CallRecord[];
  done(): Promise<void>;
}

export function harness(over: Partial<GceOptionsInput> = {}, fakeOpts: { pendingOperations?: boolean } = {}): Harness {
  nock.disableNetConnect();
  const fake = new FakeCompute({ project: PROJECT, region: REGION, token: TOKEN, ...fakeOpts }).install();
  const auth = new OAuth2Client();
  auth.setCredentials({ access_token: TOKEN, expiry_date: Date.now() + 24 * 3600_000 });
  const options = gceOptionsSchema.parse({
    project: PROJECT,
    region: REGION,
    clusterId: CLUSTER_ID,
    subnetwork: 'nodes',
    nodeTags: ['gke-test-node'],
    retry: { retries: 3, minDelayMs: 1, maxDelayMs: 5 },
    ...over,
  });
  const calls: CallRecord[] = [];
  const provider = new GceProvider({ name: 'gce', clusterName: CLUSTER, options, clientOptions: { authClient: auth }, onCall: (c) => calls.push(c) });
  return {
    fake,
    provider,
    calls,
    done: async () => {
      await provider.close();
      fake.uninstall();
    },
  };
}

export function l4(over: Partial<L4Spec<GceLbOptions>> = {}, opts: Partial<GceLbOptions> = {}): L4Spec<GceLbOptions> {
  const ref = { kind: 'Service' as const, namespace: 'default', name: 'web', uid: SVC_UID };
  return {
    layer: 'L4',
    ref,
    provider: 'gce',
    className: 'lbc.dev/gce',
    clusterName: CLUSTER,
    listeners: [{ protocol: 'TCP', port: 80, targetSet: 'tcp-80' }],
    targetSets: [
      {
        name: 'tcp-80',
        type: 'instance',
        protocol: 'TCP',
        nodePort: 30080,
        targets: [nodeA, nodeB],
        healthCheck: TCP_DEFAULT_HC,
        backend: { namespace: 'default', service: 'web', port: 80 },
      },
    ],
    sourceRanges: [],
    requestedAddresses: [],
    ipFamilies: ['IPv4'],
    sessionAffinity: { type: 'None' },
    tags: ownershipTags(CLUSTER, ref),
    providerOptions: { ...DEFAULT_GCE_OPTIONS, ...opts },
    ...over,
  };
}

/** Ports as the Service builder makes them: one listener and target set per port. */
export function withPorts(spec: L4Spec<GceLbOptions>, ports: readonly { protocol: 'TCP' | 'UDP'; port: number; nodePort: number }[]): L4Spec<GceLbOptions> {
  const first = spec.targetSets[0];
  if (first?.type !== 'instance') throw new Error('instance target set expected');
  return {
    ...spec,
    listeners: ports.map((p) => ({ protocol: p.protocol, port: p.port, targetSet: `${p.protocol.toLowerCase()}-${p.port}` })),
    targetSets: ports.map((p) => ({ ...first, name: `${p.protocol.toLowerCase()}-${p.port}`, protocol: p.protocol, nodePort: p.nodePort, backend: { ...first.backend, port: p.port } })),
  };
}

export const ING_UID = '9a8b7c6d-2222-4e5f-8a9b-abcdefabcdef';

export const HTTP_HC: HealthCheck = { protocol: 'HTTP', port: 'traffic-port', path: '/', intervalSeconds: 10, timeoutSeconds: 5, healthyThreshold: 2, unhealthyThreshold: 3 };

export function l7(over: Partial<L7Spec<GceLbOptions>> = {}, opts: Partial<GceLbOptions> = {}): L7Spec<GceLbOptions> {
  const ref = { kind: 'Ingress' as const, namespace: 'shop', name: 'site', uid: ING_UID };
  return {
    layer: 'L7',
    ref,
    provider: 'gce',
    className: 'lbc.dev/gce',
    clusterName: CLUSTER,
    listeners: [{ protocol: 'HTTP', port: 80 }],
    rules: [
      { host: 'shop.example.com', path: '/api', pathType: 'Prefix', targetSet: 'shop/api:80', source: 'shop/site' },
      { path: '/', pathType: 'Prefix', targetSet: 'shop/web:80', source: 'shop/site' },
    ],
    defaultBackend: 'shop/web:80',
    targetSets: [
      { name: 'shop/api:80', type: 'instance', protocol: 'HTTP', nodePort: 31001, targets: [nodeA, nodeB], healthCheck: HTTP_HC, backend: { namespace: 'shop', service: 'api', port: 80 } },
      { name: 'shop/web:80', type: 'instance', protocol: 'HTTP', nodePort: 31002, targets: [nodeA, nodeB], healthCheck: HTTP_HC, backend: { namespace: 'shop', service: 'web', port: 80 } },
    ],
    sourceRanges: [],
    requestedAddresses: [],
    ipFamilies: ['IPv4'],
    tags: ownershipTags(CLUSTER, ref),
    providerOptions: { ...DEFAULT_GCE_OPTIONS, ...opts },
    ...over,
  };
}

export const CERT_A = '-----BEGIN CERTIFICATE-----\nMIIB-A\n-----END CERTIFICATE-----\n';
export const KEY_A = '-----BEGIN PRIVATE KEY-----\nKEY-A\n-----END PRIVATE KEY-----\n';
export const CERT_B = '-----BEGIN CERTIFICATE-----\nMIIB-B\n-----END CERTIFICATE-----\n';
export const KEY_B = '-----BEGIN PRIVATE KEY-----\nKEY-B\n-----END PRIVATE KEY-----\n';
