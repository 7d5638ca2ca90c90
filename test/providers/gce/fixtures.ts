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
import type { LbRef } from '../../../src/model/ref.js';
import type { HealthCheck, L4Spec, L7Spec, NodeTarget, PodTarget } from '../../../src/model/spec.js';
import { ownershipTags } from '../../../src/model/spec.js';
import type { ClusterFacts } from '../../../src/providers/types.js';
import { FakeCompute } from './fake-compute.js';

export const PROJECT = 'test-project';
export const REGION = 'us-central1';
export const CLUSTER = 'test';
export const CLUSTER_ID = 'cid1';
export const TOKEN = 'test-token';

export const SVC_UID = '3f1c2b7e-1111-4a2b-9c3d-0123456789ab';
/** a + the UID without dashes, cut to 32. */
export const LB = 'a3f1c2b7e11114a2b9c3d0123456789a';
/** The description keys of a resource the test Service owns, in the order lbc writes them. */
export const SVC_OWNED_KEYS = {
  'kubernetes.io/service-name': 'default/web',
  'lbc.dev/cluster': CLUSTER,
  'lbc.dev/owner-kind': 'Service',
  'lbc.dev/owner-namespace': 'default',
  'lbc.dev/owner-name': 'web',
  'lbc.dev/owner-uid': SVC_UID,
} as const;

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

/** Where the harness's fake lives and who calls it: PROJECT, TOKEN and CLUSTER unless given. */
export interface HarnessInit {
  readonly pendingOperations?: boolean;
  readonly project?: string;
  readonly token?: string;
  readonly clusterName?: string;
  /** What the provider reads of the cluster (kube-system/ingress-uid); absent as in `lbc plan`. */
  readonly cluster?: ClusterFacts;
  /** The fake's other regions and aggregated list page size (FakeComputeOptions). */
  readonly otherRegions?: readonly string[];
  readonly aggregatedPageSize?: number;
  /** Another provider on this fake (say, with other options): the fake stays with the harness that installed it. */
  readonly fake?: FakeCompute;
}

export function harness(over: Partial<GceOptionsInput> = {}, init: HarnessInit = {}): Harness {
  const { project = PROJECT, token = TOKEN, clusterName = CLUSTER, cluster, fake: shared, ...fakeOpts } = init;
  nock.disableNetConnect();
  const fake = shared ?? new FakeCompute({ project, region: REGION, token, ...fakeOpts }).install();
  const auth = new OAuth2Client();
  auth.setCredentials({ access_token: token, expiry_date: Date.now() + 24 * 3600_000 });
  const options = gceOptionsSchema.parse({
    project,
    region: REGION,
    clusterId: CLUSTER_ID,
    subnetwork: 'nodes',
    nodeTags: ['gke-test-node'],
    retry: { retries: 3, minDelayMs: 1, maxDelayMs: 5 },
    ...over,
  });
  const calls: CallRecord[] = [];
  const provider = new GceProvider({ name: 'gce', clusterName, options, clientOptions: { authClient: auth }, onCall: (c) => calls.push(c), ...(cluster ? { cluster } : {}) });
  return {
    fake,
    provider,
    calls,
    done: async () => {
      await provider.close();
      if (!shared) fake.uninstall();
    },
  };
}

/** What every spec of the gce provider carries besides its listeners and backends. */
function owned<R extends LbRef>(ref: R, clusterName: string, opts: Partial<GceLbOptions>) {
  return {
    ref,
    provider: 'gce',
    className: 'lbc.dev/gce',
    clusterName,
    sourceRanges: [],
    requestedAddresses: [],
    ipFamilies: ['IPv4' as const],
    tags: ownershipTags(clusterName, ref),
    providerOptions: { ...DEFAULT_GCE_OPTIONS, ...opts },
  };
}

/** Who the L4 spec is for, where that differs from the tests' default/web in CLUSTER on nodeA and nodeB. */
export interface L4Service {
  readonly ref?: LbRef;
  readonly clusterName?: string;
  readonly nodePort?: number;
  readonly targets?: readonly NodeTarget[];
}

/** A Service on TCP 80 as the builder makes it, with the builder's default check for externalTrafficPolicy Cluster (the cluster's node check). */
export function l4(over: Partial<L4Spec<GceLbOptions>> = {}, opts: Partial<GceLbOptions> = {}, service: L4Service = {}): L4Spec<GceLbOptions> {
  const ref = service.ref ?? { kind: 'Service' as const, namespace: 'default', name: 'web', uid: SVC_UID };
  return {
    layer: 'L4',
    ...owned(ref, service.clusterName ?? CLUSTER, opts),
    listeners: [{ protocol: 'TCP', port: 80, targetSet: 'tcp-80' }],
    targetSets: [
      {
        name: 'tcp-80',
        type: 'instance',
        protocol: 'TCP',
        nodePort: service.nodePort ?? 30080,
        targets: service.targets ?? [nodeA, nodeB],
        healthCheck: TCP_DEFAULT_HC,
        backend: { namespace: ref.namespace, service: ref.name, port: 80 },
      },
    ],
    sessionAffinity: { type: 'None' },
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
    ...owned(ref, CLUSTER, opts),
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
    ...over,
  };
}

/** The spec with an HTTPS listener on 443 beside HTTP 80, its certificate from the Secret shop/tls. */
export function withTls(spec: L7Spec<GceLbOptions>, cert: string, key: string, hosts: string[] = ['shop.example.com']): L7Spec<GceLbOptions> {
  return {
    ...spec,
    listeners: [
      { protocol: 'HTTP', port: 80 },
      { protocol: 'HTTPS', port: 443, certificates: [{ source: 'secret', secretRef: { namespace: 'shop', name: 'tls' }, hosts, certPem: cert, keyPem: key }] },
    ],
  };
}

export const CERT_A = '-----BEGIN CERTIFICATE-----\nMIIB-A\n-----END CERTIFICATE-----\n';
export const KEY_A = '-----BEGIN PRIVATE KEY-----\nKEY-A\n-----END PRIVATE KEY-----\n';
export const CERT_B = '-----BEGIN CERTIFICATE-----\nMIIB-B\n-----END CERTIFICATE-----\n';
export const KEY_B = '-----BEGIN PRIVATE KEY-----\nKEY-B\n-----END PRIVATE KEY-----\n';

export { rejection } from '../rejection.js';

/** The cluster's instance group in each of nodeA's and nodeB's zones, made with its members. */
export const GROUP_WRITES: readonly string[] = [
  'InstanceGroups.Insert k8s-ig--cid1',
  'InstanceGroups.AddInstances k8s-ig--cid1',
  'InstanceGroups.Insert k8s-ig--cid1',
  'InstanceGroups.AddInstances k8s-ig--cid1',
];

/**
 * The writes of a first l4() create, in order: address, the cluster's node check, the LB's
 * firewall, the node check's firewall (named `nodeCheckFirewall`, which differs by scheme),
 * the groups, backend service, forwarding rule.
 */
export function l4CreateWrites(nodeCheckFirewall: string): string[] {
  return [`Addresses.Insert ${LB}`, 'RegionHealthChecks.Insert k8s-cid1-node', `Firewalls.Insert k8s-fw-${LB}`, `Firewalls.Insert ${nodeCheckFirewall}`, ...GROUP_WRITES, `RegionBackendServices.Insert ${LB}`, `ForwardingRules.Insert ${LB}`];
}

/** The pod range each test node's alias IPs come from: node-a 10.4.0.0/24, node-b 10.4.1.0/24. */
export const POD_RANGES: Readonly<Record<string, string>> = { 'node-a': '10.4.0.0/24', 'node-b': '10.4.1.0/24' };

/** The nodes as VMs of the default network with their pod alias ranges (VPC-native), as NEG endpoints need them. */
export function seedVpcNativeNodes(fake: FakeCompute, nodes: readonly NodeTarget[] = [nodeA, nodeB], project = PROJECT): void {
  for (const n of nodes) {
    fake.seed(`zones/${n.zone ?? ''}/instances/${n.name}`, {
      networkInterfaces: [
        {
          network: `https://www.googleapis.com/compute/v1/projects/${project}/global/networks/default`,
          networkIP: n.addresses[0]?.address ?? '10.0.0.1',
          aliasIpRanges: [{ ipCidrRange: POD_RANGES[n.name] ?? '10.4.9.0/24' }],
        },
      ],
    });
  }
}

/** A pod on node-a (zone a) or node-b (zone b), serving port 8080. */
export function pod(ip: string, onNode: NodeTarget = nodeA, port = 8080): PodTarget {
  return { ip, port, nodeName: onNode.name, ...(onNode.zone !== undefined ? { zone: onNode.zone } : {}) };
}

/** l7() with shop/web:80 backed by NEGs (its Service has cloud.google.com/neg {"ingress": true}). */
export function l7Neg(targets: readonly PodTarget[], opts: Partial<GceLbOptions> = {}): L7Spec<GceLbOptions> {
  const base = l7({}, opts);
  return {
    ...base,
    targetSets: base.targetSets.map((t) =>
      t.name === 'shop/web:80' ? { name: t.name, type: 'ip' as const, protocol: 'HTTP' as const, port: 8080, targets, healthCheck: HTTP_HC, backend: t.backend } : t,
    ),
  };
}
