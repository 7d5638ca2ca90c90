// aws-load-balancer-controller's IngressClassParams (issue #16) in the controller: the
// upstream CRD from ../shared/crds installed on the test cluster, an aws provider on the
// fake AWS APIs, and an IngressClass whose spec.parameters name the params. As ALBC's
// docs/guide/ingress/ingress_class.md says: params that do not exist stop the Ingress;
// a namespaceSelector that does not select its namespace refuses it ("namespaceSelector of
// IngressClassParams %v mismatch", class_loader.go); once allowed, the params' scheme wins
// over the Ingress's annotation, their tags are on the load balancer, and their group.name
// is the load balancer's group; their subnets.tags choose its subnets. Against devcluster, or
// the cluster KUBECONFIG names.
import { CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import nock from 'nock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AwsProvider } from '../../src/providers/aws/provider.js';
import { awsOptionsSchema } from '../../src/providers/aws/options.js';
import { FakeAws, REGION } from '../providers/aws/fake-aws.js';
import { FAST_RATE_LIMITS, fakeClients, fastSleep } from '../providers/aws/support.js';
import { E2E, eventually } from './harness.js';

const CRD_FILE = new URL('../../../shared/crds/aws-load-balancer-controller-v3.5.0/elbv2.k8s.aws_ingressclassparams.yaml', import.meta.url).pathname;
const ICP = { group: 'elbv2.k8s.aws', version: 'v1beta1', plural: 'ingressclassparams' } as const;
const A = 'alb.ingress.kubernetes.io/';

let e: E2E;
let fake: FakeAws;
let custom: CustomObjectsApi;
let className: string;
let paramsName: string;
let groupName: string;

const warningOn = (name: string, ...parts: string[]) => e.warningOn(name, ...parts);

const albsOfCluster = (): string[] => fake.taggedFor(e.ns).filter((arn) => arn.includes(':loadbalancer/'));

beforeAll(async () => {
  fake = new FakeAws().install();
  // The AWS APIs are the fake's; the test cluster is on loopback.
  nock.enableNetConnect((host) => host.startsWith('127.0.0.1') || host.startsWith('localhost') || host.startsWith('[::1]'));
  fake.addSubnet({ id: 'subnet-0a1', az: 'us-east-1a', tags: { 'kubernetes.io/role/internal-elb': '1' } });
  fake.addSubnet({ id: 'subnet-0b1', az: 'us-east-1b', tags: { 'kubernetes.io/role/internal-elb': '1' } });
  fake.addSubnet({ id: 'subnet-0a2', az: 'us-east-1a', tags: { 'kubernetes.io/role/elb': '1' } });
  fake.addSubnet({ id: 'subnet-0b2', az: 'us-east-1b', tags: { 'kubernetes.io/role/elb': '1' } });
  fake.addInstance({ id: 'i-0aaa' });
  const options = { region: REGION, rateLimits: FAST_RATE_LIMITS, retry: { attempts: 6, minDelay: '1ms', maxDelay: '10ms' } };
  e = await E2E.start({
    config: { providers: [{ name: 'aws', type: 'aws', options: { region: REGION } }], defaultClass: 'lbc.dev/aws' },
    factories: {
      aws: (ctx) => new AwsProvider({ name: ctx.name, clusterName: ctx.clusterName, options: awsOptionsSchema.parse(options), clients: fakeClients(), sleep: fastSleep, logger: { warn: () => undefined } }),
    },
    controller: { slowRetry: { baseMs: 300, maxMs: 1000 } },
    noStart: true,
  });
  custom = e.cluster.kc.makeApiClient(CustomObjectsApi);
  await e.installCrds([CRD_FILE]);
  paramsName = `${e.ns}-params`;
  groupName = `${e.ns}-shared`;
  className = `${e.ns}-alb`;
  await e.networking.createIngressClass({
    body: { metadata: { name: className }, spec: { controller: e.config.ingress.controllerName, parameters: { apiGroup: 'elbv2.k8s.aws', kind: 'IngressClassParams', name: paramsName } } },
  });
  await e.core.createNode({
    body: {
      metadata: { name: `${e.ns}-node-a`, labels: { [e.nodeLabel]: 'true' } },
      spec: { providerID: 'aws:///us-east-1a/i-0aaa' },
      status: { conditions: [{ type: 'Ready', status: 'True', reason: 'Test', message: 'test' }], addresses: [{ type: 'InternalIP', address: '10.0.0.10' }] },
    },
  });
  await e.controller.start();
}, 90_000);

afterAll(async () => {
  await e?.stop();
  // Cluster-scoped: this suite's own, by name.
  await custom?.deleteClusterCustomObject({ ...ICP, name: paramsName }).catch(() => {});
  await e?.networking.deleteIngressClass({ name: className }).catch(() => {});
  fake?.uninstall();
});

describe('IngressClassParams in the controller (aws)', () => {
  it('params that do not exist stop the Ingress; a namespace the selector does not pick is refused; once labelled, the params\' scheme, tags and group make the ALB', async () => {
    await e.service('web', { type: 'NodePort', selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP', nodePort: 31081 }] });
    await e.networking.createNamespacedIngress({
      namespace: e.ns,
      body: {
        metadata: { name: 'site', annotations: { [`${A}scheme`]: 'internet-facing', [`${A}group.name`]: 'mine', [`${A}tags`]: 'org=ingress,team=web' } },
        spec: { ingressClassName: className, rules: [{ host: 'site.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } }] } }] },
      },
    });

    // No params yet: a Warning naming them, and nothing built.
    await warningOn('site', `IngressClassParams ${paramsName}, which does not exist`);
    expect(albsOfCluster()).toEqual([]);

    // Params selecting a label the namespace does not have: refused, named.
    await custom.createClusterCustomObject({
      ...ICP,
      body: {
        apiVersion: 'elbv2.k8s.aws/v1beta1',
        kind: 'IngressClassParams',
        metadata: { name: paramsName },
        spec: { scheme: 'internal', group: { name: groupName }, tags: [{ key: 'org', value: 'platform' }], namespaceSelector: { matchLabels: { 'lbc-e2e/team': e.ns } } },
      },
    });
    await warningOn('site', `namespace ${e.ns} is not allowed: namespaceSelector of IngressClassParams ${paramsName} mismatch`);
    await e.settle();
    expect(albsOfCluster()).toEqual([]);

    // The namespace gets the label: the namespace's change brings the Ingress back, and the params shape its ALB.
    await e.core.patchNamespace({ name: e.ns, body: { metadata: { labels: { 'lbc-e2e/team': e.ns } } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    const hostname = await eventually('the Ingress has its ALB\'s hostname', async () => (await e.getIngress('site'))?.status?.loadBalancer?.ingress?.[0]?.hostname, 30_000);
    expect(hostname).toBeTruthy();
    const create = fake.last('CreateLoadBalancer');
    expect(create?.params.Scheme).toBe('internal');
    const subnets = Object.entries(create?.params ?? {}).filter(([k]) => /^Subnet(s|Mappings)\.member\.\d+(\.SubnetId)?$/.test(k)).map(([, v]) => v).sort();
    expect(subnets).toEqual(['subnet-0a1', 'subnet-0b1']);
    const tags = Object.fromEntries(
      Object.entries(create?.params ?? {})
        .filter(([k]) => /^Tags\.member\.\d+\.Key$/.test(k))
        .map(([k, key]) => [key, create?.params[k.replace(/Key$/, 'Value')]]),
    );
    // The params' tag wins over the annotation's; the annotation's other tag stays; the group is the params'.
    expect(tags).toMatchObject({ org: 'platform', team: 'web', 'lbc.dev/owner-name': groupName });
  }, 120_000);

  it('a change to the params brings the class\'s Ingresses back: a field lbc does not implement is a Warning naming it; params deleted stop the Ingress and the ALB stays', async () => {
    const albs = albsOfCluster();
    expect(albs).toHaveLength(1);
    await custom.patchClusterCustomObject(
      { ...ICP, name: paramsName, body: { spec: { listeners: [{ port: 80, protocol: 'HTTP', listenerAttributes: [{ key: 'routing.http.response.server.enabled', value: 'false' }] }] } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    await warningOn('site', `IngressClassParams ${paramsName}: field spec.listeners (listener attributes) is not implemented by lbc and has no effect`);
    expect((await e.events('site')).find((ev) => ev.message?.includes('spec.listeners'))?.reason).toBe('UnsupportedIngressClassParams');

    await custom.deleteClusterCustomObject({ ...ICP, name: paramsName });
    await warningOn('site', `IngressClassParams ${paramsName}, which does not exist`);
    // The key is retried (slowRetry: at most 1 s apart) rather than settled: let a few retries pass.
    await new Promise((r) => setTimeout(r, 2500));
    // Nothing is torn down for params that went away: the ALB, and the Ingress's address, stay.
    expect(albsOfCluster()).toEqual(albs);
    expect((await e.getIngress('site'))?.status?.loadBalancer?.ingress?.[0]?.hostname).toBeTruthy();
  }, 120_000);

  // ALBC ingress_class.md spec.subnets.tags, pkg/networking/subnet_resolver.go ResolveViaSelector,
  // and its webhook (ingressclassparams_validator.go: "may not have both `ids` and `tags` set"),
  // which lbc applies itself since the CRD's schema accepts both.
  it('spec.subnets.tags: ids and tags together are refused as ALBC\'s webhook refuses them; tags alone put the ALB in one matching subnet per zone', async () => {
    fake.addSubnet({ id: 'subnet-0c5', az: 'us-east-1c', tags: { tier: 'edge' } });
    fake.addSubnet({ id: 'subnet-0d5', az: 'us-east-1d', tags: { tier: 'edge-canary' } });
    fake.addSubnet({ id: 'subnet-0d4', az: 'us-east-1d', tags: { tier: 'db' } });
    const name = `${e.ns}-tagged`;
    await custom.createClusterCustomObject({
      ...ICP,
      body: { apiVersion: 'elbv2.k8s.aws/v1beta1', kind: 'IngressClassParams', metadata: { name }, spec: { subnets: { ids: ['subnet-0c5'], tags: { tier: ['edge', 'edge-canary'] } } } },
    });
    await e.networking.createIngressClass({ body: { metadata: { name }, spec: { controller: e.config.ingress.controllerName, parameters: { apiGroup: 'elbv2.k8s.aws', kind: 'IngressClassParams', name } } } });
    try {
      await e.service('edge', { type: 'NodePort', selector: { app: 'edge' }, ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP', nodePort: 31082 }] });
      await e.networking.createNamespacedIngress({
        namespace: e.ns,
        body: { metadata: { name: 'edge' }, spec: { ingressClassName: name, rules: [{ host: 'edge.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'edge', port: { number: 80 } } } }] } }] } },
      });
      await warningOn('edge', 'spec.subnets.tags', 'Forbidden: may not have both `ids` and `tags` set');
      expect((await e.getIngress('edge'))?.status?.loadBalancer?.ingress ?? []).toEqual([]);

      await custom.patchClusterCustomObject({ ...ICP, name, body: { spec: { subnets: { ids: null } } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
      await eventually('the Ingress has its ALB\'s hostname', async () => (await e.getIngress('edge'))?.status?.loadBalancer?.ingress?.[0]?.hostname, 30_000);
      // No VPC is known in this suite (no vpcId, none found), so no vpc-id filter: the tag filter alone.
      expect(fake.all('DescribeSubnets').map((r) => r.params)).toContainEqual({ 'Filter.1.Name': 'tag:tier', 'Filter.1.Value.1': 'edge', 'Filter.1.Value.2': 'edge-canary' });
      const create = fake.all('CreateLoadBalancer').at(-1);
      const subnets = Object.entries(create?.params ?? {}).filter(([k]) => /^Subnet(s|Mappings)\.member\.\d+(\.SubnetId)?$/.test(k)).map(([, v]) => v).sort();
      expect(subnets).toEqual(['subnet-0c5', 'subnet-0d5']);
    } finally {
      await e.networking.deleteNamespacedIngress({ namespace: e.ns, name: 'edge' }).catch(() => {});
      await e.networking.deleteIngressClass({ name }).catch(() => {});
      await custom.deleteClusterCustomObject({ ...ICP, name }).catch(() => {});
    }
  }, 120_000);
});
