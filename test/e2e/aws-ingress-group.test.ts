// An ALB IngressGroup built by the whole controller (informers, work queue, reconciler)
// with the real AWS provider against the nock-served fake, on devcluster or the cluster
// KUBECONFIG names: what AWS is asked when a group's members are applied together.
import nock from 'nock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeAws } from '../providers/aws/fake-aws.js';
import { CLUSTER, provider, seedNetwork } from '../providers/aws/support.js';
import { E2E, eventually } from './harness.js';

let fake: FakeAws;
let e: E2E;
let cls: string;

beforeAll(async () => {
  fake = new FakeAws().install();
  seedNetwork(fake);
  // AWS is the fake's; the test cluster is on loopback.
  nock.enableNetConnect((host) => host.startsWith('127.0.0.1') || host.startsWith('localhost') || host.startsWith('[::1]'));
  e = await E2E.start({
    config: { clusterName: CLUSTER, providers: [{ name: 'aws', type: 'aws', options: { region: 'us-east-1', vpcId: 'vpc-1' } }], defaultClass: 'lbc.dev/aws' },
    factories: { aws: (ctx) => provider({ vpcId: 'vpc-1' }, { name: ctx.name, clusterName: ctx.clusterName }) },
  });
  cls = await e.ingressClass('aws', 'aws');
}, 90_000);
afterAll(async () => {
  await e?.stop();
  fake?.uninstall();
});

const writes = (): string[] => fake.actions().filter((a) => !/^(Describe|List|Get)/.test(a));

describe('an ALB IngressGroup applied at once', () => {
  it('is built once from all its members: one CreateTargetGroup per backend, no DeleteTargetGroup, no rule rewritten', async () => {
    const names = ['a', 'b', 'c'];
    for (const s of names) {
      await e.service(s, { type: 'ClusterIP', ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }] });
      await e.endpointSlice(s, ['10.0.0.20'], 8080);
    }
    fake.resetLog();
    // As `kubectl apply -f` sends a file of three Ingresses: one create after the other.
    for (const s of names) {
      await e.networking.createNamespacedIngress({
        namespace: e.ns,
        body: {
          metadata: { name: s, annotations: { 'alb.ingress.kubernetes.io/group.name': `${e.ns}-g`, 'alb.ingress.kubernetes.io/target-type': 'ip' } },
          spec: { ingressClassName: cls, rules: [{ host: `${s}.example.com`, http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: s, port: { number: 80 } } } }] } }] },
        },
      });
    }
    for (const s of names) await eventually(`${s} has the ALB's name`, async () => (await e.getIngress(s))?.status?.loadBalancer?.ingress?.[0]?.hostname);
    await e.settle();
    expect(writes()).toEqual([
      'CreateSecurityGroup',
      'AuthorizeSecurityGroupIngress',
      'CreateTargetGroup',
      'CreateTargetGroup',
      'CreateTargetGroup',
      'RegisterTargets',
      'RegisterTargets',
      'RegisterTargets',
      'CreateLoadBalancer',
      'CreateListener',
      'CreateRule',
      'CreateRule',
      'CreateRule',
    ]);
  }, 60_000);
});
