// planCluster with the real AWS provider (real SDK clients) against the nock-served fake:
// the plan for create, in sync, change, deletion and orphan, and proof that planning sent
// AWS nothing but Describe* requests; Gateways of ALBC's own classes planned as the controller serves them.
import type { V1Secret, V1Service } from '@kubernetes/client-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { exitCodeOf, planCluster, type ObjectPlan } from '../../src/controller/plan.js';
import type { ClassParamsLookups, IngressClassParamsSpec } from '../../src/controller/ingress/class-params.js';
import { FINALIZER } from '../../src/controller/reconcile.js';
import { buildServiceModel } from '../../src/controller/service-model.js';
import type { AwsProvider } from '../../src/providers/aws/provider.js';
import { Cache } from '../../src/kube/cache.js';
import type { Gateway, GatewayClass, TCPRoute } from '../../src/kube/gateway-api.js';
import { FakeAws } from '../providers/aws/fake-aws.js';
import { CLUSTER, provider, seedNetwork } from '../providers/aws/support.js';
import { config as baseConfig, ingress, ingressClass, lbService, node } from './fixtures.js';
import { planInputs, providerSet } from './plan-support.js';
import { gateway, httpListener, INFRA, parent, services as gatewayServices, endpointSlices } from './gateway/fixtures.js';

const config = baseConfig({ clusterName: CLUSTER, providers: [{ name: 'aws', type: 'aws', class: 'lbc.dev/aws', options: {} }], defaultClass: 'lbc.dev/aws' });
const nodes = [node('n1', { ip: '10.0.0.10', providerID: 'aws:///us-east-1a/i-0aaa' }), node('n2', { ip: '10.0.0.11', providerID: 'aws:///us-east-1b/i-0bbb' })];
const web = (ports = [{ name: 'http', port: 80, nodePort: 30080, protocol: 'TCP' }]): V1Service => lbService('web', ports);

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

/** Plans, and fails the test if planning sent AWS anything but a Describe*. */
async function plan(services: V1Service[]): Promise<{ objects: readonly ObjectPlan[]; code: number }> {
  fake.resetLog();
  const p = await planCluster(planInputs(config, providerSet(config, [aws]), { services, nodes }));
  expect(fake.actions().length).toBeGreaterThan(0);
  expect(fake.actions().filter((a) => !a.startsWith('Describe'))).toEqual([]);
  return { objects: p.objects, code: exitCodeOf(p) };
}

async function ensure(svc: V1Service): Promise<void> {
  const built = buildServiceModel({ service: svc, nodes, endpointSlices: [], provider: aws, className: 'lbc.dev/aws', clusterName: CLUSTER });
  if (!built.ok) throw new Error(JSON.stringify(built.errors));
  await aws.ensure(built.spec);
}

const cloud = (o: ObjectPlan | undefined) => (o?.outcome.kind === 'planned' ? o.outcome.cloud.flatMap((c) => c.changes.map((ch) => `${ch.op} ${ch.resource}`)) : []);

describe('lbc plan with the AWS provider', () => {
  it('plans a new NLB with Describe calls only', async () => {
    const { objects, code } = await plan([web()]);
    expect(code).toBe(2);
    expect(objects).toHaveLength(1);
    expect(objects[0]?.intent).toEqual({ kind: 'ensure', provider: 'aws' });
    expect(cloud(objects[0])).toEqual(['create SecurityGroup', 'create TargetGroup', 'update Targets', 'create LoadBalancer', 'create Listener']);
    expect(fake.taggedFor(CLUSTER)).toEqual([]);
  });

  it('finds an ensured NLB in sync, and a new port as a change', async () => {
    await ensure(web());
    const written = fake.taggedFor(CLUSTER);
    expect(written.length).toBeGreaterThan(0);

    const synced = await plan([{ ...web(), metadata: { ...web().metadata, finalizers: [FINALIZER] } }]);
    expect(cloud(synced.objects[0])).toEqual([]);
    expect(synced.code).toBe(0);

    const twoPorts = web([
      { name: 'http', port: 80, nodePort: 30080, protocol: 'TCP' },
      { name: 'https', port: 443, nodePort: 30443, protocol: 'TCP' },
    ]);
    const changed = await plan([{ ...twoPorts, metadata: { ...twoPorts.metadata, finalizers: [FINALIZER] } }]);
    expect(changed.code).toBe(2);
    expect(cloud(changed.objects[0])).toEqual(expect.arrayContaining(['create TargetGroup', 'create Listener']));
    expect(fake.taggedFor(CLUSTER)).toEqual(written);
  });

  it('plans the deletion of a Service being deleted, and an orphan the garbage collector would remove', async () => {
    await ensure(web());
    const lbArn = [...fake.lbs.keys()][0];
    const deleting: V1Service = { ...web(), metadata: { ...web().metadata, finalizers: [FINALIZER], deletionTimestamp: new Date() } };
    const d = await plan([deleting]);
    expect(d.code).toBe(2);
    expect(d.objects).toHaveLength(1);
    expect(d.objects[0]?.intent).toEqual({ kind: 'delete', reason: 'the Service is being deleted' });
    // AWS has no planDeletion: the LB listOwned reports for the ref, with what goes with it.
    expect(d.objects[0]?.outcome).toMatchObject({ kind: 'planned', cloud: [{ provider: 'aws', changes: [{ op: 'delete', resource: 'LoadBalancer', id: lbArn }] }] });

    const gone = await plan([]);
    expect(gone.objects).toEqual([
      expect.objectContaining({
        subject: { kind: 'Orphan', provider: 'aws', ref: { kind: 'Service', namespace: 'default', name: 'web', uid: 'uid-default-web' }, id: lbArn },
        outcome: expect.objectContaining({ cloud: [{ provider: 'aws', changes: [expect.objectContaining({ op: 'delete', id: lbArn })] }] }),
      }),
    ]);
    expect(gone.code).toBe(2);
  });

  it('reports an AWS failure as an error for that object and exits 1', async () => {
    fake.fail({ action: 'DescribeSubnets', code: 'UnauthorizedOperation', status: 403, times: 10 });
    const { objects, code } = await plan([web()]);
    expect(code).toBe(1);
    expect(objects[0]?.outcome).toMatchObject({ kind: 'failed', message: expect.stringContaining('UnauthorizedOperation') });
  });
});

describe('lbc plan with the AWS provider: the OIDC client Secret of auth-idp-oidc', () => {
  const A = 'alb.ingress.kubernetes.io/';
  const site = ingress(
    'site',
    { ingressClassName: 'alb', rules: [{ http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } }] } }] },
    {
      [`${A}certificate-arn`]: 'arn:aws:acm:us-east-1:123456789012:certificate/abc',
      [`${A}auth-type`]: 'oidc',
      [`${A}auth-idp-oidc`]: JSON.stringify({ issuer: 'https://idp.example.com', authorizationEndpoint: 'https://idp.example.com/a', tokenEndpoint: 'https://idp.example.com/t', userInfoEndpoint: 'https://idp.example.com/u', secretName: 'oidc' }),
    },
  );
  const opaque = (type = 'Opaque'): V1Secret => ({ metadata: { name: 'oidc', namespace: 'default' }, type, data: { clientID: Buffer.from('id').toString('base64'), clientSecret: Buffer.from('sh').toString('base64') } });
  const planIngress = async (secrets: V1Secret[]): Promise<ObjectPlan | undefined> => {
    const inputs = planInputs(config, providerSet(config, [aws]), { services: [lbService('web', [{ name: 'http', port: 80, nodePort: 30080, protocol: 'TCP' }])], nodes, ingresses: [site], ingressClasses: [ingressClass('alb', config.ingress.controllerName, { provider: 'aws' })], secrets });
    // Opaque Secrets are watched (and so planned with) only because a provider reads them.
    expect(inputs.providerSecrets).toBeDefined();
    const objects = (await planCluster(inputs)).objects;
    return objects.find((o) => o.subject.kind === 'IngressGroup');
  };

  it('found among the Opaque Secrets (watched-kinds providerSecrets), it plans the ALB; without it the Ingress is invalid, naming the Secret', async () => {
    expect((await planIngress([opaque()]))?.outcome.kind).toBe('planned');
    const missing = await planIngress([]);
    expect(missing?.outcome).toMatchObject({ kind: 'invalid', message: expect.stringContaining('Secret default/oidc does not exist') });
    // A TLS Secret of the same name is not an OIDC client.
    expect((await planIngress([opaque('kubernetes.io/tls')]))?.outcome.kind).toBe('invalid');
  });
});

// lbc plan resolves a class's IngressClassParams as the controller does (ALBC
// docs/guide/ingress/ingress_class.md): their group.name is the group planned, a namespace
// their namespaceSelector does not pick is left out and named, params that do not exist
// make the Ingress invalid.
describe('lbc plan with the AWS provider: IngressClassParams', () => {
  const rules = (host: string) => ({ ingressClassName: 'alb', rules: [{ host, http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } }] } }] });
  const shop = ingress('site', rules('shop.example.com'), { 'alb.ingress.kubernetes.io/group.name': 'own' });
  const other = ingress('grab', rules('other.example.com'), {}, 'mallory');
  const classes = [ingressClass('alb', config.ingress.controllerName, { parameters: { apiGroup: 'elbv2.k8s.aws', kind: 'IngressClassParams', name: 'team' } })];
  const lookups = (spec: IngressClassParamsSpec | undefined): ClassParamsLookups => ({
    classes: () => classes,
    params: (n) => (n === 'team' && spec ? { name: n, spec } : undefined),
    unavailable: () => undefined,
    namespaceLabels: (ns): Record<string, string> => (ns === 'default' ? { team: 'shop' } : {}),
  });
  const planWith = async (spec: IngressClassParamsSpec | undefined) => {
    const services = [lbService('web', [{ name: 'http', port: 80, nodePort: 30080, protocol: 'TCP' }]), { ...lbService('web', [{ name: 'http', port: 80, nodePort: 30081, protocol: 'TCP' }]), metadata: { name: 'web', namespace: 'mallory', uid: 'uid-mallory-web' } }];
    const inputs = planInputs(config, providerSet(config, [aws]), { services, nodes, ingresses: [shop, other], ingressClasses: classes });
    return (await planCluster({ ...inputs, classParams: lookups(spec) })).objects.filter((o) => o.subject.kind === 'IngressGroup');
  };

  it('plans the params\' group, over the group.name annotation, and leaves out (naming it) the Ingress of a namespace their namespaceSelector does not pick', async () => {
    const groups = await planWith({ group: { name: 'shared' }, scheme: 'internal', namespaceSelector: { matchLabels: { team: 'shop' } } });
    expect(groups.map((o) => o.subject)).toEqual([{ kind: 'IngressGroup', group: 'group/shared', members: ['default/site', 'mallory/grab'] }]);
    const outcome = groups[0]?.outcome;
    expect(outcome?.kind).toBe('planned');
    expect(outcome?.kind === 'planned' ? outcome.notes : []).toContain(
      'left out of the load balancer: Ingress mallory/grab: Ingress mallory/grab: field metadata.namespace: namespace mallory is not allowed: namespaceSelector of IngressClassParams team mismatch',
    );
    expect(cloud(groups[0])).toContain('create LoadBalancer');
  });

  it('params that do not exist: the Ingresses of the class are invalid, naming them', async () => {
    const groups = await planWith(undefined);
    expect(groups.map((o) => o.outcome)).toEqual([
      { kind: 'invalid', message: 'Ingress default/site: IngressClass alb names IngressClassParams team, which does not exist' },
      { kind: 'invalid', message: 'Ingress mallory/grab: IngressClass alb names IngressClassParams team, which does not exist' },
    ]);
  });
});

// `lbc plan` for Gateways of aws-load-balancer-controller's own GatewayClasses
// (controllerName gateway.k8s.aws/nlb): planned as the controller serves them (the aws
// provider, the class's features), and not at all where the configuration leaves ALBC its classes.
describe('lbc plan: a Gateway of ALBC\'s gateway.k8s.aws/nlb class', () => {
  const nlbClass: GatewayClass = { metadata: { name: 'aws-nlb-gateway-class' }, spec: { controllerName: 'gateway.k8s.aws/nlb' } };
  const fillCache = <T extends object>(items: readonly T[]): Cache<T> => {
    const c = new Cache<T>({});
    for (const i of items) c.set(i);
    return c;
  };
  const onClass = (gw: Gateway): Gateway => ({ ...gw, metadata: { ...gw.metadata, annotations: { 'alb.ingress.kubernetes.io/target-type': 'ip' } }, spec: { ...gw.spec, gatewayClassName: nlbClass.metadata?.name ?? '', listeners: gw.spec?.listeners ?? [] } });
  const db: TCPRoute = { metadata: { name: 'db', namespace: INFRA, creationTimestamp: '2026-01-01T00:00:00Z' as never }, spec: { parentRefs: [parent('db')], rules: [{ backendRefs: [{ name: 'infra-backend-v1', port: 8080 }] }] } };

  async function planGateways(gateways: Gateway[], gatewayConfig: object = {}): Promise<readonly ObjectPlan[]> {
    const gatewayAwsConfig = { ...config, gateway: { ...config.gateway, ...gatewayConfig } };
    const inputs = planInputs(gatewayAwsConfig, providerSet(gatewayAwsConfig, [aws]), { services: gatewayServices, endpointSlices, nodes: [node('n1')] });
    const p = await planCluster({ ...inputs, gateway: { gateways: fillCache(gateways), gatewayClasses: fillCache([nlbClass]), routes: { tcp: [db] }, referenceGrants: [], namespaces: [] } });
    expect(fake.actions().filter((a) => !a.startsWith('Describe'))).toEqual([]);
    return p.objects;
  }

  it('is planned with the aws provider as an NLB', async () => {
    const [o] = await planGateways([onClass(gateway('db', [{ name: 'pg', port: 5432, protocol: 'TCP' }]))]);
    expect(o?.intent).toEqual({ kind: 'ensure', provider: 'aws' });
    expect(o?.outcome.kind === 'planned' && o.outcome.cloud[0]?.changes.find((c) => c.resource === 'LoadBalancer')).toMatchObject({ op: 'create' });
    expect(o?.subject).toMatchObject({ routes: [`TCPRoute ${INFRA}/db`] });
  });

  it('with only an HTTP listener is invalid, as the controller refuses it (UnsupportedProtocol): nothing planned with the provider', async () => {
    const [o] = await planGateways([onClass(gateway('db', [httpListener()]))]);
    expect(o?.outcome).toEqual({ kind: 'invalid', message: 'no listener is valid: http: Unsupported protocol HTTP: GatewayClasses of gateway.k8s.aws/nlb serve TLS, TCP, UDP listeners only' });
  });

  it('is not lbc\'s where gateway.compatibleControllerNames is []', async () => {
    expect(await planGateways([onClass(gateway('db', [{ name: 'pg', port: 5432, protocol: 'TCP' }]))], { compatibleControllerNames: [] })).toEqual([]);
  });
});
