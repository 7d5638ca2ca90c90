// The controller in-process with a gce provider on the fake Compute API (the real
// Compute clients, a fixed token), for the gce end-to-end suites; not started, so a
// suite can install what it needs first.
import nock from 'nock';
import { OAuth2Client } from 'google-auth-library';
import { GceProvider } from '../../src/providers/gce/provider.js';
import { gceOptionsSchema, type GceOptionsInput } from '../../src/providers/gce/options.js';
import { FakeCompute } from '../providers/gce/fake-compute.js';
import { E2E } from './harness.js';

export const GCE_E2E = { project: 'test-project', region: 'us-central1', token: 'test-token' } as const;

export async function startGceE2E(options: GceOptionsInput, controller: NonNullable<Parameters<typeof E2E.start>[0]>['controller']): Promise<{ e: E2E; fake: FakeCompute }> {
  const fake = new FakeCompute({ project: GCE_E2E.project, region: GCE_E2E.region, token: GCE_E2E.token }).install();
  // The Compute API is the fake's; the test cluster is on loopback.
  nock.enableNetConnect((host) => host.startsWith('127.0.0.1') || host.startsWith('localhost') || host.startsWith('[::1]'));
  const auth = new OAuth2Client();
  auth.setCredentials({ access_token: GCE_E2E.token, expiry_date: Date.now() + 24 * 3600_000 });
  const e = await E2E.start({
    config: { providers: [{ name: 'gce', type: 'gce', options: options as Record<string, unknown> }], defaultClass: 'lbc.dev/gce' },
    factories: { gce: (ctx) => new GceProvider({ name: ctx.name, clusterName: ctx.clusterName, options: gceOptionsSchema.parse(options), clientOptions: { authClient: auth } }) },
    ...(controller ? { controller } : {}),
    noStart: true,
  });
  return { e, fake };
}

/** The test nodes' zones and the pod range each one's alias IPs come from. */
export const GCE_E2E_NODES = {
  'node-a': { zone: `${GCE_E2E.region}-a`, range: '10.4.0.0/24' },
  'node-b': { zone: `${GCE_E2E.region}-b`, range: '10.4.1.0/24' },
} as const;
export type GceE2ENode = keyof typeof GCE_E2E_NODES;

/** The Node object's name for a test node in the suite's namespace. */
export const gceE2ENodeName = (e: E2E, n: GceE2ENode): string => `${e.ns}-${n}`;

/**
 * Ready Nodes node-a and node-b (one per zone) and their VMs in the fake, of a VPC-native
 * cluster: pod IPs come from each node's alias range, as NEG endpoints need them.
 */
export async function addVpcNativeNodes(e: E2E, fake: FakeCompute): Promise<void> {
  for (const n of Object.keys(GCE_E2E_NODES) as GceE2ENode[]) {
    const { zone, range } = GCE_E2E_NODES[n];
    const name = gceE2ENodeName(e, n);
    await e.core.createNode({
      body: {
        metadata: { name, labels: { [e.nodeLabel]: 'true', 'topology.kubernetes.io/zone': zone } },
        spec: { providerID: `gce://${GCE_E2E.project}/${zone}/${name}` },
        status: { conditions: [{ type: 'Ready', status: 'True', reason: 'Test', message: 'test' }], addresses: [{ type: 'InternalIP', address: '10.0.0.1' }] },
      },
    });
    fake.seed(`zones/${zone}/instances/${name}`, {
      networkInterfaces: [{ network: `https://www.googleapis.com/compute/v1/projects/${GCE_E2E.project}/global/networks/default`, networkIP: '10.0.0.1', aliasIpRanges: [{ ipCidrRange: range }] }],
    });
  }
}
