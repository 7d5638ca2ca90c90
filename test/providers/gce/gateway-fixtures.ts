// Gateway specs for the gce tests: what the Gateway builder hands the provider for a
// Gateway shop/edge with an HTTP listener and an HTTPRoute canary (90/10 between two
// Services on /api, the rest to web), its backends on NEGs as GKE's Gateway controller
// builds them (or on the cluster's instance groups). No vitest here: the benchmarks import it.
import { ALL_DEFAULTED } from '../../../src/controller/health-check.js';
import type { HttpGatewayListener, HttpRouteRule } from '../../../src/model/gateway.js';
import type { LbRef } from '../../../src/model/ref.js';
import type { GatewaySpec, TargetSet } from '../../../src/model/spec.js';
import { ownershipTags } from '../../../src/model/spec.js';
import { DEFAULT_GCE_OPTIONS, type GceLbOptions } from '../../../src/providers/gce/annotations.js';
import { canaryRules } from '../aws/gateway-support.js';
import type { FakeCompute } from './fake-compute.js';
import { CLUSTER, HTTP_HC, nodeA, nodeB, pod, PROJECT, REGION } from './fixtures.js';

export { backend, canaryRules, httpRule, prefix } from '../aws/gateway-support.js';

export const GW_UID = '5e4d3c2b-3333-4f5e-8a9b-0123456789ab';
export const GW_REF: LbRef = { kind: 'Gateway', namespace: 'shop', name: 'edge', uid: GW_UID };

/** The canary's backends: web on 80, api and api-v2 on 8080, each a pod per zone. */
const SETS: readonly { name: string; nodePort: number; ips: [string, string] }[] = [
  { name: 'shop/web:80', nodePort: 31080, ips: ['10.4.0.10', '10.4.1.10'] },
  { name: 'shop/api:8080', nodePort: 31081, ips: ['10.4.0.11', '10.4.1.11'] },
  { name: 'shop/api-v2:8080', nodePort: 31082, ips: ['10.4.0.12', '10.4.1.12'] },
];

export function gatewayTargetSets(type: 'ip' | 'instance' = 'ip'): TargetSet[] {
  return SETS.map(({ name, nodePort, ips }) => {
    const backend = { namespace: 'shop', service: name.split('/')[1]?.split(':')[0] ?? '', port: Number(name.split(':')[1]) };
    const common = { name, protocol: 'HTTP' as const, healthCheck: HTTP_HC, healthCheckDefaulted: ALL_DEFAULTED, backend };
    return type === 'ip'
      ? { ...common, type: 'ip' as const, port: 8080, targets: [pod(ips[0], nodeA), pod(ips[1], nodeB)] }
      : { ...common, type: 'instance' as const, nodePort, targets: [nodeA, nodeB] };
  });
}

export interface GatewayFixture {
  readonly rules?: readonly HttpRouteRule[];
  /** An HTTPS listener on 443 with these routes, its certificate from the Secret shop/tls. */
  readonly https?: { readonly cert: string; readonly key: string; readonly rules?: readonly HttpRouteRule[] };
  readonly className?: string;
  readonly targetType?: 'ip' | 'instance';
  readonly providerOptions?: Partial<GceLbOptions>;
}

export function gatewaySpec(f: GatewayFixture = {}): GatewaySpec<GceLbOptions> {
  const http: HttpGatewayListener[] = [{ name: 'http', rules: [...(f.rules ?? canaryRules())] }];
  return {
    layer: 'Gateway',
    ref: GW_REF,
    provider: 'gce',
    className: f.className ?? 'gke-l7-global-external-managed',
    clusterName: CLUSTER,
    ports: [
      { protocol: 'HTTP', port: 80, listeners: http },
      ...(f.https
        ? [
            {
              protocol: 'HTTPS' as const,
              port: 443,
              listeners: [
                {
                  name: 'https',
                  rules: [...(f.https.rules ?? canaryRules())],
                  certificates: [{ source: 'secret' as const, secretRef: { namespace: 'shop', name: 'tls' }, hosts: ['shop.example.com'], certPem: f.https.cert, keyPem: f.https.key }],
                },
              ],
            },
          ]
        : []),
    ],
    targetSets: gatewayTargetSets(f.targetType),
    sourceRanges: [],
    requestedAddresses: [],
    ipFamilies: ['IPv4'],
    tags: ownershipTags(CLUSTER, GW_REF),
    providerOptions: { ...DEFAULT_GCE_OPTIONS, ...f.providerOptions },
  };
}

/** The proxy-only subnet a regional Gateway needs, as a network administrator makes it (REGIONAL_MANAGED_PROXY, ACTIVE). */
export const PROXY_ONLY_RANGE = '10.129.0.0/23';

export function seedProxyOnlySubnet(fake: FakeCompute, over: Record<string, unknown> = {}): void {
  fake.seed(`regions/${REGION}/subnetworks/proxy-only`, {
    network: `https://www.googleapis.com/compute/v1/projects/${PROJECT}/global/networks/default`,
    ipCidrRange: PROXY_ONLY_RANGE,
    purpose: 'REGIONAL_MANAGED_PROXY',
    role: 'ACTIVE',
    ...over,
  });
}
