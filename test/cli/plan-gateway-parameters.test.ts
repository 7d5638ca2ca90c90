// `lbc plan` for a Gateway configured by ALBC's LoadBalancerConfiguration, through the
// command over real HTTP: devcluster with the Gateway API and aws-load-balancer-controller
// v3.5 Gateway CRDs, an aws provider on the fake ELBv2/EC2. The plan reads the
// configurations once (one list per kind, as the controller's informer would hold them), so
// a Gateway naming one through spec.infrastructure.parametersRef, or through its
// GatewayClass's spec.parametersRef, is planned with it instead of "not watching"; a backend
// Service's TargetGroupConfiguration is planned in too.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nock from 'nock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPlan } from '../../src/cli/plan.js';
import { startDevCluster, type DevCluster } from '../../src/devcluster/index.js';
import { makeClients, type KubeClients } from '../../src/kube/client.js';
import { AwsProvider } from '../../src/providers/aws/provider.js';
import { awsOptionsSchema } from '../../src/providers/aws/options.js';
import type { FakeAws } from '../providers/aws/fake-aws.js';
import { fakeClients, FAST_RATE_LIMITS, fastSleep, seededFake } from '../providers/aws/support.js';
import { installAlbcGatewayCrds, installGatewayApiCrds } from '../support/gateway-crds.js';

const GROUP = 'gateway.networking.k8s.io';
const LBC = { group: 'gateway.k8s.aws', version: 'v1', plural: 'loadbalancerconfigurations' };
const NS = 'default';
const AWS_OPTIONS = { region: 'us-east-1', vpcId: 'vpc-1', rateLimits: FAST_RATE_LIMITS, retry: { attempts: 3, minDelay: '1ms', maxDelay: '5ms' } };

let dev: DevCluster;
let clients: KubeClients;
let fake: FakeAws;
let configFile: string;

interface Planned {
  objects: { subject: { name: string }; outcome: { kind: string; message?: string; cloud?: { changes: { op: string; resource: string; id: string; detail?: string }[] }[] } }[];
}

async function plan(target: string): Promise<Planned> {
  let out = '';
  let err = '';
  await runPlan(
    { kubeconfig: dev.kubeconfigPath, config: configFile, target, namespace: NS, output: 'json' },
    {
      out: (t) => (out += t),
      err: (t) => (err += t),
      factories: {
        aws: (ctx) => new AwsProvider({ name: ctx.name, clusterName: ctx.clusterName, options: awsOptionsSchema.parse(AWS_OPTIONS), clients: fakeClients(), sleep: fastSleep, logger: { warn: () => undefined } }),
      },
    },
  );
  expect(err).toBe('');
  return JSON.parse(out) as Planned;
}

beforeAll(async () => {
  fake = seededFake();
  nock.enableNetConnect((host) => host.startsWith('127.0.0.1') || host.startsWith('localhost') || host.startsWith('[::1]'));
  dev = await startDevCluster({ port: 0 });
  clients = makeClients(dev.kubeConfig());
  nock.restore();
  try {
    await installGatewayApiCrds(dev.kubeConfig());
    await installAlbcGatewayCrds(dev.kubeConfig());
  } finally {
    nock.activate();
  }
  configFile = join(mkdtempSync(join(tmpdir(), 'lbc-plan-lbconfig-')), 'lbc.yaml');
  writeFileSync(configFile, JSON.stringify({ clusterName: 'prod', providers: [{ name: 'aws', type: 'aws', options: AWS_OPTIONS }] }));
  const gatewayClass = (name: string, parametersRef: object) =>
    clients.custom.createClusterCustomObject({ group: GROUP, version: 'v1', plural: 'gatewayclasses', body: { apiVersion: `${GROUP}/v1`, kind: 'GatewayClass', metadata: { name }, spec: { controllerName: 'lbc.dev/gateway-controller', parametersRef } } });
  await gatewayClass('lbc-aws', { group: 'lbc.dev', kind: 'Provider', name: 'aws' });
  await gatewayClass('platform', { group: LBC.group, kind: 'LoadBalancerConfiguration', name: 'platform', namespace: NS });
  const configuration = (name: string, spec: object) => clients.custom.createNamespacedCustomObject({ ...LBC, namespace: NS, body: { apiVersion: `${LBC.group}/v1`, kind: 'LoadBalancerConfiguration', metadata: { name }, spec } });
  await configuration('cfg', { scheme: 'internal', loadBalancerName: 'shop-edge' });
  await configuration('platform', { scheme: 'internal', loadBalancerName: 'platform-edge' });
  const gateway = (name: string, spec: object) => clients.custom.createNamespacedCustomObject({ group: GROUP, version: 'v1', namespace: NS, plural: 'gateways', body: { apiVersion: `${GROUP}/v1`, kind: 'Gateway', metadata: { name }, spec } });
  const listeners = [{ name: 'http', port: 80, protocol: 'HTTP' }];
  await gateway('own', { gatewayClassName: 'lbc-aws', infrastructure: { parametersRef: { group: LBC.group, kind: 'LoadBalancerConfiguration', name: 'cfg' } }, listeners });
  await gateway('of-class', { gatewayClassName: 'platform', listeners });
}, 90_000);

afterAll(async () => {
  await dev?.stop();
  fake?.uninstall();
});

// A TargetGroupConfiguration with a routeConfigurations entry (targetgroupconfig.md,
// RouteConfigurations) on the Service two HTTPRoutes share: the plan shows a target group for
// the route the entry names, next to the one the other route uses, each with its own key.
describe('lbc plan: a TargetGroupConfiguration routeConfigurations entry', () => {
  beforeAll(async () => {
    await clients.core.createNamespacedService({ namespace: NS, body: { metadata: { name: 'web' }, spec: { type: 'NodePort', ports: [{ port: 80, targetPort: 8080, protocol: 'TCP' }] } } });
    await clients.custom.createNamespacedCustomObject({
      group: 'gateway.k8s.aws',
      version: 'v1',
      namespace: NS,
      plural: 'targetgroupconfigurations',
      body: {
        apiVersion: 'gateway.k8s.aws/v1',
        kind: 'TargetGroupConfiguration',
        metadata: { name: 'web-tg' },
        spec: {
          targetReference: { name: 'web' },
          defaultConfiguration: { healthCheckConfig: { healthCheckPath: '/healthz' } },
          routeConfigurations: [{ routeIdentifier: { kind: 'HTTPRoute', namespace: NS, name: 'admin' }, targetGroupProps: { healthCheckConfig: { healthCheckPath: '/admin/health' } } }],
        },
      },
    });
    const create = (plural: string, body: object) => clients.custom.createNamespacedCustomObject({ group: GROUP, version: 'v1', namespace: NS, plural, body });
    await create('gateways', { apiVersion: `${GROUP}/v1`, kind: 'Gateway', metadata: { name: 'routed' }, spec: { gatewayClassName: 'lbc-aws', listeners: [{ name: 'http', port: 80, protocol: 'HTTP' }] } });
    const route = (name: string, path: string) =>
      create('httproutes', { apiVersion: `${GROUP}/v1`, kind: 'HTTPRoute', metadata: { name }, spec: { parentRefs: [{ name: 'routed' }], rules: [{ matches: [{ path: { type: 'PathPrefix', value: path } }], backendRefs: [{ name: 'web', port: 80 }] }] } });
    await route('shop', '/');
    await route('admin', '/admin');
  }, 30_000);

  it('plans a target group of its own for the route it names, next to the shared one', async () => {
    const p = await plan('gateway/routed');
    expect(p.objects[0]?.outcome.kind).toBe('planned');
    const groups = (p.objects[0]?.outcome.cloud?.[0]?.changes ?? []).filter((c) => c.resource === 'TargetGroup');
    expect(groups.map((c) => [c.op, c.id])).toEqual([
      ['create', `${NS}/web:80@HTTPRoute:${NS}:admin`],
      ['create', `${NS}/web:80`],
    ]);
    expect(groups.map((c) => c.detail)).toEqual([expect.stringMatching(/^k8s-default-routed-[0-9a-f]{10} HTTP:\d+ instance$/), expect.stringMatching(/^k8s-default-routed-[0-9a-f]{10} HTTP:\d+ instance$/)]);
    expect(groups[0]?.detail).not.toBe(groups[1]?.detail);
  });
});

describe('lbc plan: Gateways configured by a LoadBalancerConfiguration', () => {
  const loadBalancer = (p: Planned) => p.objects[0]?.outcome.cloud?.[0]?.changes.find((c) => c.resource === 'LoadBalancer');

  it('spec.infrastructure.parametersRef: the real plan, with the configured name and scheme', async () => {
    const p = await plan('gateway/own');
    expect(p.objects[0]?.outcome.kind).toBe('planned');
    expect(loadBalancer(p)).toEqual({ op: 'create', resource: 'LoadBalancer', id: 'shop-edge', detail: 'application internal in subnet-0a1, subnet-0b1' });
  });

  it('a GatewayClass\'s spec.parametersRef: the class is served by the aws provider and its configuration planned in', async () => {
    const p = await plan('gateway/of-class');
    expect(p.objects[0]?.outcome.kind).toBe('planned');
    expect(loadBalancer(p)).toEqual({ op: 'create', resource: 'LoadBalancer', id: 'platform-edge', detail: 'application internal in subnet-0a1, subnet-0b1' });
  });
});
