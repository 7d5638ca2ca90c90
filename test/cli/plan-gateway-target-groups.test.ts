// `lbc plan` for an ALB Gateway whose backend Service has ALBC's TargetGroupConfiguration
// with a routeConfigurations entry (aws-load-balancer-controller v3.5
// docs/guide/gateway/targetgroupconfig.md, RouteConfigurations), through the command over
// real HTTP: devcluster with the Gateway API and ALBC v3.5 Gateway CRDs, an aws provider on
// the fake ELBv2/EC2. Two HTTPRoutes to one Service: the plan shows a target group for the
// route the entry names, next to the one the other route shares, each with its own key.
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
  configFile = join(mkdtempSync(join(tmpdir(), 'lbc-plan-tgc-')), 'lbc.yaml');
  writeFileSync(configFile, JSON.stringify({ clusterName: 'prod', providers: [{ name: 'aws', type: 'aws', options: AWS_OPTIONS }] }));
  await clients.custom.createClusterCustomObject({
    group: GROUP,
    version: 'v1',
    plural: 'gatewayclasses',
    body: { apiVersion: `${GROUP}/v1`, kind: 'GatewayClass', metadata: { name: 'lbc-aws' }, spec: { controllerName: 'lbc.dev/gateway-controller', parametersRef: { group: 'lbc.dev', kind: 'Provider', name: 'aws' } } },
  });
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
  await create('gateways', { apiVersion: `${GROUP}/v1`, kind: 'Gateway', metadata: { name: 'gw' }, spec: { gatewayClassName: 'lbc-aws', listeners: [{ name: 'http', port: 80, protocol: 'HTTP' }] } });
  const route = (name: string, path: string) =>
    create('httproutes', { apiVersion: `${GROUP}/v1`, kind: 'HTTPRoute', metadata: { name }, spec: { parentRefs: [{ name: 'gw' }], rules: [{ matches: [{ path: { type: 'PathPrefix', value: path } }], backendRefs: [{ name: 'web', port: 80 }] }] } });
  await route('shop', '/');
  await route('admin', '/admin');
}, 90_000);

afterAll(async () => {
  await dev?.stop();
  fake?.uninstall();
});

describe('lbc plan: a TargetGroupConfiguration routeConfigurations entry', () => {
  it('plans a target group of its own for the route it names, next to the shared one', async () => {
    const p = await plan('gateway/gw');
    expect(p.objects[0]?.outcome.kind).toBe('planned');
    const groups = (p.objects[0]?.outcome.cloud?.[0]?.changes ?? []).filter((c) => c.resource === 'TargetGroup');
    expect(groups.map((c) => [c.op, c.id])).toEqual([
      ['create', `${NS}/web:80@HTTPRoute:${NS}:admin`],
      ['create', `${NS}/web:80`],
    ]);
    expect(groups.map((c) => c.detail)).toEqual([expect.stringMatching(/^k8s-default-gw-[0-9a-f]{10} HTTP:\d+ instance$/), expect.stringMatching(/^k8s-default-gw-[0-9a-f]{10} HTTP:\d+ instance$/)]);
    expect(groups[0]?.detail).not.toBe(groups[1]?.detail);
  });
});
