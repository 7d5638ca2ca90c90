// `lbc plan` for Gateways of aws-load-balancer-controller's own GatewayClasses
// (controllerName gateway.k8s.aws/nlb), with the real AWS provider against the nock-served
// fake: planned as the controller serves them (the aws provider, the class's features), and
// not at all where the configuration leaves ALBC its classes.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { planCluster, type ObjectPlan } from '../../src/controller/plan.js';
import { Cache } from '../../src/kube/cache.js';
import type { Gateway, GatewayClass, TCPRoute } from '../../src/kube/gateway-api.js';
import type { AwsProvider } from '../../src/providers/aws/provider.js';
import { FakeAws } from '../providers/aws/fake-aws.js';
import { CLUSTER, provider, seedNetwork } from '../providers/aws/support.js';
import { config as baseConfig, node } from './fixtures.js';
import { gateway, httpListener, INFRA, parent, services, endpointSlices } from './gateway/fixtures.js';
import { planInputs, providerSet } from './plan-support.js';

const nlbClass: GatewayClass = { metadata: { name: 'aws-nlb-gateway-class' }, spec: { controllerName: 'gateway.k8s.aws/nlb' } };
const fill = <T extends object>(items: readonly T[]): Cache<T> => {
  const c = new Cache<T>({});
  for (const i of items) c.set(i);
  return c;
};
const onClass = (gw: Gateway): Gateway => ({ ...gw, metadata: { ...gw.metadata, annotations: { 'alb.ingress.kubernetes.io/target-type': 'ip' } }, spec: { ...gw.spec, gatewayClassName: nlbClass.metadata?.name ?? '', listeners: gw.spec?.listeners ?? [] } });
const db: TCPRoute = { metadata: { name: 'db', namespace: INFRA, creationTimestamp: '2026-01-01T00:00:00Z' as never }, spec: { parentRefs: [parent('db')], rules: [{ backendRefs: [{ name: 'infra-backend-v1', port: 8080 }] }] } };

let fake: FakeAws;
let aws: AwsProvider;
beforeEach(() => {
  fake = new FakeAws().install();
  seedNetwork(fake);
  aws = provider();
});
afterEach(async () => {
  await aws.close();
  fake.uninstall();
});

async function plan(gateways: Gateway[], gatewayConfig: object = {}): Promise<readonly ObjectPlan[]> {
  const config = baseConfig({ clusterName: CLUSTER, providers: [{ name: 'aws', type: 'aws', class: 'lbc.dev/aws', options: {} }], defaultClass: 'lbc.dev/aws', gateway: { controllerName: 'lbc.dev/gateway-controller', ...gatewayConfig } });
  const inputs = planInputs(config, providerSet(config, [aws]), { services, endpointSlices, nodes: [node('n1')] });
  const p = await planCluster({ ...inputs, gateway: { gateways: fill(gateways), gatewayClasses: fill([nlbClass]), routes: { tcp: [db] }, referenceGrants: [], namespaces: [] } });
  expect(fake.actions().filter((a) => !a.startsWith('Describe'))).toEqual([]);
  return p.objects;
}

describe('lbc plan: a Gateway of ALBC\'s gateway.k8s.aws/nlb class', () => {
  it('is planned with the aws provider as an NLB', async () => {
    const [o] = await plan([onClass(gateway('db', [{ name: 'pg', port: 5432, protocol: 'TCP' }]))]);
    expect(o?.intent).toEqual({ kind: 'ensure', provider: 'aws' });
    expect(o?.outcome.kind === 'planned' && o.outcome.cloud[0]?.changes.find((c) => c.resource === 'LoadBalancer')).toMatchObject({ op: 'create' });
    expect(o?.subject).toMatchObject({ routes: [`TCPRoute ${INFRA}/db`] });
  });

  it('with only an HTTP listener is invalid, as the controller refuses it (UnsupportedProtocol): nothing planned with the provider', async () => {
    const [o] = await plan([onClass(gateway('db', [httpListener()]))]);
    expect(o?.outcome).toEqual({ kind: 'invalid', message: 'no listener is valid: http: Unsupported protocol HTTP: GatewayClasses of gateway.k8s.aws/nlb serve TLS, TCP, UDP listeners only' });
  });

  it('is not lbc\'s where gateway.compatibleControllerNames is []', async () => {
    expect(await plan([onClass(gateway('db', [{ name: 'pg', port: 5432, protocol: 'TCP' }]))], { compatibleControllerNames: [] })).toEqual([]);
  });
});
