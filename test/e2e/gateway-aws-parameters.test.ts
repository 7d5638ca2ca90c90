// ALBC's LoadBalancerConfiguration named by a Gateway's spec.infrastructure.parametersRef,
// end to end: the Gateway API and aws-load-balancer-controller v3.5 Gateway CRDs installed
// from ../shared/crds on the test cluster (devcluster, or the real API server KUBECONFIG
// names), an aws provider on the fake ELBv2/EC2 (nock). The controller watches the
// configuration, builds the ALB with its scheme and tags, rebuilds when it changes, and
// refuses (InvalidParameters) a field lbc does not implement or a configuration not found.
import { CustomObjectsApi } from '@kubernetes/client-node';
import nock from 'nock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../../src/kube/gateway-api.js';
import type { FakeAws } from '../providers/aws/fake-aws.js';
import { seededFake } from '../providers/aws/support.js';
import { createLbcGatewayClass, deleteGatewaysAndClass, installAlbcGatewayCrds, installGatewayApiCrds, createGateway } from '../support/gateway-crds.js';
import { startAwsOnFake } from './aws-on-fake.js';
import { type E2E, eventually } from './harness.js';

const GROUP = 'gateway.networking.k8s.io';
const LBC = { group: 'gateway.k8s.aws', version: 'v1', plural: 'loadbalancerconfigurations' };

let e: E2E;
let fake: FakeAws;
let custom: CustomObjectsApi;
let className: string;

const gw = (name: string): Promise<Gateway> => custom.getNamespacedCustomObject({ group: GROUP, version: 'v1', namespace: e.ns, plural: 'gateways', name }) as Promise<Gateway>;
const accepted = (g: Gateway) => g.status?.conditions?.find((c) => c.type === 'Accepted');
const createConfiguredGateway = (name: string, config: string) =>
  createGateway(custom, e.ns, name, {
    gatewayClassName: className,
    infrastructure: { parametersRef: { group: LBC.group, kind: 'LoadBalancerConfiguration', name: config } },
    listeners: [{ name: 'http', port: 80, protocol: 'HTTP' }],
  });

beforeAll(async () => {
  fake = seededFake();
  e = await startAwsOnFake();
  custom = e.cluster.kc.makeApiClient(CustomObjectsApi);
  // Both before the controller starts: it discovers the served kinds once. With nock's
  // interception off: passed through it, kube-apiserver's answer to the create of the large
  // HTTPRoute CRD ends early ("Premature close") on the real API server.
  nock.restore();
  try {
    await installGatewayApiCrds(e.cluster.kc);
    await installAlbcGatewayCrds(e.cluster.kc);
  } finally {
    nock.activate();
  }
  await e.controller.start();
  className = `lbc-${e.ns}`;
  await createLbcGatewayClass(custom, className, 'aws');
}, 90_000);

afterAll(async () => {
  await deleteGatewaysAndClass(custom, e.ns, className);
  await e?.stop();
  fake?.uninstall();
});

describe('LoadBalancerConfiguration (gateway.k8s.aws/v1) on an aws Gateway', () => {
  it('the ALB takes its scheme, subnets and tags; a field lbc does not implement makes the Gateway InvalidParameters naming it; a missing one is InvalidParameters', async () => {
    await custom.createNamespacedCustomObject({ ...LBC, namespace: e.ns, body: { apiVersion: `${LBC.group}/v1`, kind: 'LoadBalancerConfiguration', metadata: { name: 'cfg' }, spec: { scheme: 'internal', loadBalancerSubnets: [{ identifier: 'subnet-0a1' }, { identifier: 'subnet-0b1' }], tags: { team: 'shop' } } } });
    await createConfiguredGateway('edge', 'cfg');
    await eventually('ALB created', () => fake.all('CreateLoadBalancer').length === 1 || undefined, 20_000);
    expect(fake.last('CreateLoadBalancer')?.params).toMatchObject({ Type: 'application', Scheme: 'internal' });
    expect(fake.tags.get([...fake.lbs.keys()][0] ?? '')).toMatchObject({ team: 'shop', 'lbc.dev/owner-kind': 'Gateway', 'lbc.dev/owner-name': 'edge' });
    // The status is written after the ensure returns: wait for it rather than race it.
    await eventually('Gateway Programmed', async () => (await gw('edge')).status?.conditions?.some((c) => c.type === 'Programmed' && c.status === 'True') || undefined, 20_000);
    expect(accepted(await gw('edge'))).toMatchObject({ status: 'True' });

    // The informer's news reaches the Gateway that names the configuration.
    const cur = (await custom.getNamespacedCustomObject({ ...LBC, namespace: e.ns, name: 'cfg' })) as { spec: Record<string, unknown> };
    await custom.replaceNamespacedCustomObject({ ...LBC, namespace: e.ns, name: 'cfg', body: { ...cur, spec: { ...cur.spec, wafV2: { webACL: 'arn:aws:wafv2:us-east-1:123456789012:regional/webacl/x/1' } } } });
    const refused = await eventually('Gateway InvalidParameters', async () => {
      const g = await gw('edge');
      return accepted(g)?.status === 'False' ? g : undefined;
    }, 20_000);
    expect(accepted(refused)).toMatchObject({ reason: 'InvalidParameters' });
    expect(accepted(refused)?.message).toContain('spec.wafV2: not implemented by lbc');

    await createConfiguredGateway('lost', 'nowhere');
    const lost = await eventually('missing configuration refused', async () => {
      const g = await gw('lost');
      return accepted(g)?.status === 'False' ? g : undefined;
    }, 20_000);
    expect(accepted(lost)).toMatchObject({ reason: 'InvalidParameters', message: `spec.infrastructure.parametersRef: LoadBalancerConfiguration ${e.ns}/nowhere not found` });
  });
});
