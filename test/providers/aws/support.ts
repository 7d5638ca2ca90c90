// Specs, a provider wired to the fake (or to an endpoint), and the fixtures the AWS tests share.
import type { V1EndpointSlice, V1Ingress, V1Service } from '@kubernetes/client-node';
import { buildIngressModel } from '../../../src/controller/ingress-model.js';
import { node as kubeNode } from '../../controller/fixtures.js';
import { parseAwsOptions, type AwsLbOptions } from '../../../src/providers/aws/annotations.js';
import { awsOptionsSchema, type AwsOptionsInput } from '../../../src/providers/aws/options.js';
import { AwsProvider, type AwsProviderInit } from '../../../src/providers/aws/provider.js';
import type { HealthCheck, L4Spec, L7Spec, NodeTarget, Rule, TargetSet } from '../../../src/model/spec.js';
import { ownershipTags } from '../../../src/model/spec.js';
import { ALL_DEFAULTED } from '../../../src/controller/health-check.js';
import type { LbRef } from '../../../src/model/ref.js';
import { ACM_HOST, SHIELD_HOST, WAFV2_HOST, EC2_HOST, ELB_HOST, FakeAws, IMDS_HOST, REGION } from './fake-aws.js';

export const CLUSTER = 'prod';

/** lbc's generic defaults, as the model builder fills them in (the AWS provider replaces those marked defaulted with ALBC's). */
export const TCP_HC: HealthCheck = { protocol: 'TCP', port: 'traffic-port', intervalSeconds: 10, timeoutSeconds: 5, healthyThreshold: 2, unhealthyThreshold: 3 };
export const HTTP_HC: HealthCheck = { protocol: 'HTTP', port: 'traffic-port', path: '/', intervalSeconds: 10, timeoutSeconds: 5, healthyThreshold: 2, unhealthyThreshold: 3 };

export function nodes(...ids: string[]): NodeTarget[] {
  return ids.map((id, i) => ({ name: `node-${i + 1}`, addresses: [{ type: 'InternalIP', address: `10.0.0.${i + 10}` }], providerID: `aws:///us-east-1a/${id}` }));
}

export function serviceOptions(annotations: Record<string, string> = {}): AwsLbOptions {
  const r = parseAwsOptions(annotations, 'Service');
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.options;
}

export function ingressOptions(annotations: Record<string, string> = {}): AwsLbOptions {
  const r = parseAwsOptions(annotations, 'Ingress');
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.options;
}

export const SVC_REF: LbRef = { kind: 'Service', namespace: 'shop', name: 'web', uid: 'uid-web-1' };

export interface PortSpec {
  port: number;
  nodePort: number;
  protocol?: 'TCP' | 'UDP';
}

/** The seed Service: 80→8080 and 443→8443, instance targets on node ports; `clusterName` for a cluster other than CLUSTER. */
export function nlbSpec(
  opts: { ports?: PortSpec[]; targets?: readonly NodeTarget[]; annotations?: Record<string, string>; ref?: LbRef; sourceRanges?: string[]; affinity?: boolean; healthCheck?: HealthCheck; clusterName?: string } = {},
): L4Spec<AwsLbOptions> {
  const ref = opts.ref ?? SVC_REF;
  const clusterName = opts.clusterName ?? CLUSTER;
  const ports = opts.ports ?? [
    { port: 80, nodePort: 30080 },
    { port: 443, nodePort: 30443 },
  ];
  const targets = opts.targets ?? nodes('i-0aaa', 'i-0bbb');
  const sets: TargetSet[] = ports.map((p) => ({
    name: `${(p.protocol ?? 'TCP').toLowerCase()}-${p.port}`,
    type: 'instance',
    protocol: p.protocol ?? 'TCP',
    healthCheck: opts.healthCheck ?? TCP_HC,
    // As the builder makes it when nothing is asked; a check given here is taken as asked for.
    ...(opts.healthCheck === undefined ? { healthCheckDefaulted: ALL_DEFAULTED } : {}),
    backend: { namespace: ref.namespace, service: ref.name, port: p.port },
    nodePort: p.nodePort,
    targets,
  }));
  return {
    layer: 'L4',
    ref,
    provider: 'aws',
    className: 'lbc.dev/aws',
    clusterName,
    listeners: ports.map((p) => ({ protocol: p.protocol ?? 'TCP', port: p.port, targetSet: `${(p.protocol ?? 'TCP').toLowerCase()}-${p.port}` })),
    targetSets: sets,
    sourceRanges: opts.sourceRanges ?? [],
    sessionAffinity: opts.affinity ? { type: 'ClientIP', timeoutSeconds: 10800 } : { type: 'None' },
    requestedAddresses: [],
    ipFamilies: ['IPv4'],
    tags: ownershipTags(clusterName, ref),
    providerOptions: serviceOptions(opts.annotations),
  };
}

/** nlbSpec with its targets pods (target-type ip) on `podPort`, two per port: what the Service builder makes for nlb-target-type ip. */
export function ipNlbSpec(opts: { ref?: LbRef; podPort?: number; annotations?: Record<string, string>; clusterName?: string; podIps?: readonly string[] } = {}): L4Spec<AwsLbOptions> {
  const podPort = opts.podPort ?? 8080;
  const base = nlbSpec({
    ...(opts.ref ? { ref: opts.ref } : {}),
    ...(opts.clusterName !== undefined ? { clusterName: opts.clusterName } : {}),
    ports: [{ port: 80, nodePort: 30080 }],
    annotations: { 'service.beta.kubernetes.io/aws-load-balancer-nlb-target-type': 'ip', ...opts.annotations },
  });
  return {
    ...base,
    targetSets: base.targetSets.map((t) => ({
      name: t.name,
      protocol: t.protocol,
      healthCheck: t.healthCheck,
      healthCheckDefaulted: ALL_DEFAULTED,
      backend: t.backend,
      type: 'ip' as const,
      port: podPort,
      targets: (opts.podIps ?? ['10.0.1.10', '10.0.1.11']).map((ip) => ({ ip, port: podPort })),
    })),
  };
}

export const ING_REF: LbRef = { kind: 'Ingress', namespace: '', name: 'shop', uid: 'ingress-group:shop' };

export function albSpec(
  opts: {
    rules?: Rule[];
    backends?: { key: string; nodePort: number }[];
    defaultBackend?: string;
    annotations?: Record<string, string>;
    targets?: readonly NodeTarget[];
    clusterName?: string;
    tlsHosts?: string[];
  } = {},
): L7Spec<AwsLbOptions> {
  const clusterName = opts.clusterName ?? CLUSTER;
  const backends = opts.backends ?? [
    { key: 'shop/web:80', nodePort: 31080 },
    { key: 'shop/api:8080', nodePort: 31081 },
  ];
  const targets = opts.targets ?? nodes('i-0aaa', 'i-0bbb');
  return {
    layer: 'L7',
    ref: ING_REF,
    provider: 'aws',
    className: 'lbc.dev/aws',
    clusterName,
    listeners: [{ protocol: 'HTTP', port: 80 }],
    rules: opts.rules ?? [
      { host: 'shop.example.com', path: '/api', pathType: 'Prefix', targetSet: 'shop/api:8080', source: 'shop/api' },
      { host: 'shop.example.com', path: '/', pathType: 'Prefix', targetSet: 'shop/web:80', source: 'shop/web' },
    ],
    ...(opts.defaultBackend !== undefined ? { defaultBackend: opts.defaultBackend } : {}),
    ...(opts.tlsHosts !== undefined ? { tlsHosts: opts.tlsHosts } : {}),
    targetSets: backends.map((b) => ({
      name: b.key,
      type: 'instance',
      protocol: 'HTTP',
      healthCheck: HTTP_HC,
      healthCheckDefaulted: ALL_DEFAULTED,
      backend: { namespace: 'shop', service: b.key.split('/')[1]?.split(':')[0] ?? '', port: Number(b.key.split(':')[1]) },
      nodePort: b.nodePort,
      targets,
    })),
    sourceRanges: [],
    requestedAddresses: [],
    ipFamilies: ['IPv4'],
    tags: ownershipTags(clusterName, ING_REF),
    providerOptions: ingressOptions({ 'alb.ingress.kubernetes.io/scheme': 'internet-facing', ...opts.annotations }),
  };
}

/** Two private and two public subnets in vpc-1, tagged for the cluster as EKS tags them. */
export function seedNetwork(fake: FakeAws): void {
  fake.addSubnet({ id: 'subnet-0a1', az: 'us-east-1a', tags: { 'kubernetes.io/role/internal-elb': '1', 'kubernetes.io/cluster/prod': 'shared' } });
  fake.addSubnet({ id: 'subnet-0b1', az: 'us-east-1b', tags: { 'kubernetes.io/role/internal-elb': '1', 'kubernetes.io/cluster/prod': 'owned' } });
  fake.addSubnet({ id: 'subnet-0a2', az: 'us-east-1a', tags: { 'kubernetes.io/role/elb': '1', 'kubernetes.io/cluster/prod': 'shared' } });
  fake.addSubnet({ id: 'subnet-0b2', az: 'us-east-1b', tags: { 'kubernetes.io/role/elb': '' } });
}

/** A FakeAws intercepting ELBv2, EC2 and ACM, seeded (by default with seedNetwork); the caller uninstalls it. */
export function seededFake(seed: (fake: FakeAws) => void = seedNetwork): FakeAws {
  const fake = new FakeAws().install();
  seed(fake);
  return fake;
}

/** What a clean create of the default nlbSpec or albSpec writes before its listeners: the managed SG and its rules, two target groups and their targets, the load balancer. */
const CREATE_WRITES_BEFORE_LISTENERS = ['CreateSecurityGroup', 'AuthorizeSecurityGroupIngress', 'CreateTargetGroup', 'CreateTargetGroup', 'RegisterTargets', 'RegisterTargets', 'CreateLoadBalancer'];

/** The writes of a clean create of the default nlbSpec, in order: then a listener per port. */
export const NLB_CREATE_WRITES: readonly string[] = [...CREATE_WRITES_BEFORE_LISTENERS, 'CreateListener', 'CreateListener'];

/** The writes of a clean create of the default albSpec, in order: then the HTTP listener and a rule per path. */
export const ALB_CREATE_WRITES: readonly string[] = [...CREATE_WRITES_BEFORE_LISTENERS, 'CreateListener', 'CreateRule', 'CreateRule'];

export const fastSleep = (): Promise<void> => new Promise((r) => setImmediate(r));

/** Rate limits out of the way, for runs that count calls rather than time them. */
const FAST = { perSecond: 1000, burst: 1000 };
export const FAST_RATE_LIMITS = { elbv2Read: FAST, elbv2Write: FAST, ec2Read: FAST, ec2Write: FAST, acmRead: FAST, wafv2: FAST, shield: FAST };

/**
 * The SDK clients aimed at the fake, with fixed credentials. Explicit endpoints: the SDK
 * would otherwise follow AWS_ENDPOINT_URL, which the emulator suite sets.
 */
export function fakeClients(): NonNullable<AwsProviderInit['clients']> {
  return {
    clientConfig: { credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' } },
    elbv2Config: { endpoint: ELB_HOST },
    ec2Config: { endpoint: EC2_HOST },
    acmConfig: { endpoint: ACM_HOST },
    wafv2Config: { endpoint: WAFV2_HOST },
    shieldConfig: { endpoint: SHIELD_HOST },
    imdsConfig: { endpoint: IMDS_HOST },
  };
}

export function provider(extra: Partial<AwsOptionsInput> = {}, init: Partial<AwsProviderInit> = {}): AwsProvider {
  const options = awsOptionsSchema.parse({ region: REGION, rateLimits: FAST_RATE_LIMITS, retry: { attempts: 6, minDelay: '1ms', maxDelay: '10ms' }, ...extra });
  return new AwsProvider({
    name: 'aws',
    clusterName: CLUSTER,
    options,
    clients: fakeClients(),
    sleep: fastSleep,
    logger: { warn: () => undefined },
    ...init,
  });
}

/** The spec the Ingress model builds for these members with provider p, on one node (i-0aaa); a build error fails the test. */
export function ingressGroupSpec(p: AwsProvider, ingresses: V1Ingress[], services: V1Service[], endpointSlices: V1EndpointSlice[] = []): L7Spec<AwsLbOptions> {
  const built = buildIngressModel({
    ingresses,
    services,
    endpointSlices,
    secrets: [],
    nodes: [kubeNode('n1', { providerID: 'aws:///us-east-1a/i-0aaa', ip: '10.0.0.10' })],
    provider: p,
    className: 'alb',
    clusterName: CLUSTER,
  });
  if (!built.ok) throw new Error(JSON.stringify(built));
  return built.spec as L7Spec<AwsLbOptions>;
}

