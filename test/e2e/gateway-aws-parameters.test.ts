// ALBC's LoadBalancerConfiguration named by a Gateway's spec.infrastructure.parametersRef,
// its TargetGroupConfiguration attached to a backend Service and its
// ListenerRuleConfiguration named by a route's ExtensionRef filter, end to end: the Gateway API and aws-load-balancer-controller v3.5 Gateway CRDs installed
// from ../shared/crds on the test cluster (devcluster, or the real API server KUBECONFIG
// names), an aws provider on the fake ELBv2/EC2 (nock). The controller watches the
// configuration, builds the ALB with its scheme and tags, rebuilds when it changes, and
// refuses (InvalidParameters) a field lbc does not implement or a configuration not found.
// A GatewayClass naming a LoadBalancerConfiguration (as ALBC users attach one to a class)
// is served by the aws provider; its configuration merges with the Gateway's by the
// class's mergingMode, its changes reach the class's Gateways, and a bad one is the
// class's Accepted=False, InvalidParameters.
import type { CustomObjectsApi } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway, HTTPRoute } from '../../src/kube/gateway-api.js';
import type { FakeAws } from '../providers/aws/fake-aws.js';
import { seededFake } from '../providers/aws/support.js';
import { deleteGatewaysAndClass, createGateway } from '../support/gateway-crds.js';
import { startAwsGatewayOnFake } from './aws-on-fake.js';
import { CERT_PEM, KEY_PEM } from '../controller/fixtures.js';
import { type E2E, eventually } from './harness.js';

const GROUP = 'gateway.networking.k8s.io';
const LBC = { group: 'gateway.k8s.aws', version: 'v1', plural: 'loadbalancerconfigurations' };
const TGC = { group: 'gateway.k8s.aws', version: 'v1', plural: 'targetgroupconfigurations' };
const LRC = { group: 'gateway.k8s.aws', version: 'v1', plural: 'listenerruleconfigurations' };
const ROUTES = { group: GROUP, version: 'v1', plural: 'httproutes' };

let e: E2E;
let fake: FakeAws;
let custom: CustomObjectsApi;
let className: string;

const gw = (name: string): Promise<Gateway> => custom.getNamespacedCustomObject({ group: GROUP, version: 'v1', namespace: e.ns, plural: 'gateways', name }) as Promise<Gateway>;
const accepted = (g: Gateway) => g.status?.conditions?.find((c) => c.type === 'Accepted');
const routeAccepted = async (name: string) =>
  ((await custom.getNamespacedCustomObject({ ...ROUTES, namespace: e.ns, name })) as HTTPRoute).status?.parents?.[0]?.conditions?.find((c) => c.type === 'Accepted');
const createConfiguredGatewayOn = (name: string, spec: object, config = 'nets') =>
  createGateway(custom, e.ns, name, { gatewayClassName: className, infrastructure: { parametersRef: { group: LBC.group, kind: 'LoadBalancerConfiguration', name: config } }, ...spec });
const createConfiguredGateway = (name: string, config: string) => createConfiguredGatewayOn(name, { listeners: [{ name: 'http', port: 80, protocol: 'HTTP' }] }, config);

beforeAll(async () => {
  fake = seededFake();
  ({ e, custom, className } = await startAwsGatewayOnFake({ albcCrds: true }));
}, 90_000);

afterAll(async () => {
  await deleteGatewaysAndClass(custom, e.ns, className);
  await custom?.deleteClusterCustomObject({ group: GROUP, version: 'v1', plural: 'gatewayclasses', name: `${className}-platform` }).catch(() => {});
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

describe('LoadBalancerConfiguration named by a GatewayClass (spec.parametersRef)', () => {
  const gatewayClass = (name: string) => custom.getClusterCustomObject({ group: GROUP, version: 'v1', plural: 'gatewayclasses', name }) as Promise<{ status?: Gateway['status'] }>;
  const configuration = (name: string, spec: object) => ({ apiVersion: `${LBC.group}/v1`, kind: 'LoadBalancerConfiguration', metadata: { name }, spec });
  const replaceSpec = async (name: string, spec: Record<string, unknown>) => {
    const cur = (await custom.getNamespacedCustomObject({ ...LBC, namespace: e.ns, name })) as { spec: Record<string, unknown> };
    await custom.replaceNamespacedCustomObject({ ...LBC, namespace: e.ns, name, body: { ...cur, spec } });
  };
  // The fake's subnets are tagged for another cluster name: named, not discovered.
  const SUBNETS = [{ identifier: 'subnet-0a1' }, { identifier: 'subnet-0b1' }];
  const lbOf = (gateway: string): string | undefined => [...fake.lbs.keys()].find((arn) => fake.tags.get(arn)?.['lbc.dev/owner-name'] === gateway);

  it('serves the class with the aws provider, merges the class\'s configuration with the Gateway\'s (prefer-gateway-class), follows its changes, and refuses a bad one on the class', async () => {
    const platform = `${className}-platform`;
    await custom.createNamespacedCustomObject({ ...LBC, namespace: e.ns, body: configuration('platform', { scheme: 'internal', loadBalancerSubnets: SUBNETS, tags: { team: 'platform', tier: 'edge' } }) });
    await custom.createNamespacedCustomObject({ ...LBC, namespace: e.ns, body: configuration('own', { scheme: 'internet-facing', tags: { team: 'shop', app: 'web' } }) });
    await custom.createClusterCustomObject({
      group: GROUP,
      version: 'v1',
      plural: 'gatewayclasses',
      body: { apiVersion: `${GROUP}/v1`, kind: 'GatewayClass', metadata: { name: platform }, spec: { controllerName: 'lbc.dev/gateway-controller', parametersRef: { group: LBC.group, kind: 'LoadBalancerConfiguration', name: 'platform', namespace: e.ns } } },
    });
    const classAccepted = async (status: string) => {
      const gc = await gatewayClass(platform);
      const c = gc.status?.conditions?.find((x) => x.type === 'Accepted');
      return c?.status === status ? c : undefined;
    };
    expect(await eventually('class Accepted', () => classAccepted('True'), 20_000)).toMatchObject({ reason: 'Accepted', message: 'served by provider aws' });

    await createGateway(custom, e.ns, 'merged', {
      gatewayClassName: platform,
      infrastructure: { parametersRef: { group: LBC.group, kind: 'LoadBalancerConfiguration', name: 'own' } },
      listeners: [{ name: 'http', port: 80, protocol: 'HTTP' }],
    });
    const arn = await eventually('ALB of the class\'s Gateway', () => lbOf('merged'), 20_000);
    // The class wins each conflict (scheme, tags.team); the Gateway's other keys stay.
    expect(fake.lbs.get(arn)).toMatchObject({ scheme: 'internal' });
    expect(fake.tags.get(arn)).toMatchObject({ team: 'platform', tier: 'edge', app: 'web' });

    // A change of the class's configuration reaches the class's Gateways.
    await replaceSpec('platform', { scheme: 'internal', loadBalancerSubnets: SUBNETS, tags: { team: 'platform', tier: 'core' } });
    await eventually('tag from the class\'s new configuration', () => fake.tags.get(arn)?.tier === 'core' || undefined, 20_000);

    // A field lbc does not implement: the class is not Accepted, naming it, and neither are its Gateways.
    await replaceSpec('platform', { scheme: 'internal', wafV2: { webACL: 'arn:aws:wafv2:us-east-1:123456789012:regional/webacl/x/1' } });
    const refused = await eventually('class InvalidParameters', () => classAccepted('False'), 20_000);
    expect(refused).toMatchObject({ reason: 'InvalidParameters', message: `spec.parametersRef: LoadBalancerConfiguration ${e.ns}/platform: spec.wafV2: not implemented by lbc` });
    const stopped = await eventually('Gateway not Accepted', async () => {
      const g = await gw('merged');
      return accepted(g)?.status === 'False' ? g : undefined;
    }, 20_000);
    expect(accepted(stopped)?.message).toBe(`GatewayClass ${platform}: spec.parametersRef: LoadBalancerConfiguration ${e.ns}/platform: spec.wafV2: not implemented by lbc`);

    // Gone: not found, said on the class.
    await custom.deleteNamespacedCustomObject({ ...LBC, namespace: e.ns, name: 'platform' });
    await eventually('class says not found', async () => ((await classAccepted('False'))?.message === `spec.parametersRef: LoadBalancerConfiguration ${e.ns}/platform not found` ? true : undefined), 20_000);
  });
});

describe('TargetGroupConfiguration and ListenerRuleConfiguration (gateway.k8s.aws/v1) on an aws Gateway\'s routes', () => {
  // The fake's subnets are tagged for another cluster: the Gateways name theirs.
  const subnetsOnly = { apiVersion: `${LBC.group}/v1`, kind: 'LoadBalancerConfiguration', metadata: { name: 'nets' }, spec: { loadBalancerSubnets: [{ identifier: 'subnet-0a1' }, { identifier: 'subnet-0b1' }] } };
  beforeAll(async () => {
    await custom.createNamespacedCustomObject({ ...LBC, namespace: e.ns, body: subnetsOnly });
  });
  it('the backend Service\'s configuration sets its target group, and a change to it reaches the target group; a field lbc does not implement refuses the route by name', async () => {
    await e.service('web', { type: 'ClusterIP', ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }] });
    const tgcBody = (defaultConfiguration: Record<string, unknown>) => ({ apiVersion: `${TGC.group}/v1`, kind: 'TargetGroupConfiguration', metadata: { name: 'web-tg' }, spec: { targetReference: { name: 'web' }, defaultConfiguration } });
    await custom.createNamespacedCustomObject({ ...TGC, namespace: e.ns, body: tgcBody({ targetType: 'ip', healthCheckConfig: { healthCheckPath: '/healthz', healthCheckInterval: 30 } }) });
    await createConfiguredGatewayOn('shop', { listeners: [{ name: 'http', port: 80, protocol: 'HTTP' }] });
    await custom.createNamespacedCustomObject({
      ...ROUTES,
      namespace: e.ns,
      body: { apiVersion: `${GROUP}/v1`, kind: 'HTTPRoute', metadata: { name: 'web' }, spec: { parentRefs: [{ name: 'shop' }], rules: [{ backendRefs: [{ name: 'web', port: 80 }] }] } },
    });
    const created = await eventually('target group of web created', () => fake.all('CreateTargetGroup').find((r) => r.params.HealthCheckPath === '/healthz'), 20_000);
    expect(created.params).toMatchObject({ TargetType: 'ip', Port: '8080', HealthCheckPath: '/healthz', HealthCheckIntervalSeconds: '30' });
    await eventually('route Accepted', async () => ((await routeAccepted('web'))?.status === 'True' ? true : undefined), 20_000);

    // The informer's news reaches the Gateway whose route's backend the configuration targets.
    const cur = (await custom.getNamespacedCustomObject({ ...TGC, namespace: e.ns, name: 'web-tg' })) as { metadata: object };
    await custom.replaceNamespacedCustomObject({ ...TGC, namespace: e.ns, name: 'web-tg', body: { ...tgcBody({ targetType: 'ip', healthCheckConfig: { healthCheckPath: '/ready', healthCheckInterval: 30 } }), metadata: cur.metadata } });
    const modified = await eventually('health check path changed', () => fake.all('ModifyTargetGroup').find((r) => r.params.HealthCheckPath === '/ready'), 20_000);
    expect(modified.params).toMatchObject({ TargetGroupArn: [...fake.tgs.values()].find((t) => t.name === created.params.Name)?.arn });

    const again = (await custom.getNamespacedCustomObject({ ...TGC, namespace: e.ns, name: 'web-tg' })) as { metadata: object };
    await custom.replaceNamespacedCustomObject({ ...TGC, namespace: e.ns, name: 'web-tg', body: { ...tgcBody({ targetType: 'ip', enableMultiCluster: true }), metadata: again.metadata } });
    const refused = await eventually('route refused', async () => {
      const a = await routeAccepted('web');
      return a?.status === 'False' ? a : undefined;
    }, 20_000);
    expect(refused).toMatchObject({ reason: 'UnsupportedValue' });
    expect(refused.message).toContain(`TargetGroupConfiguration ${e.ns}/web-tg (target of Service web): spec.defaultConfiguration.enableMultiCluster: not implemented by lbc`);
  });

  it('a route rule\'s ListenerRuleConfiguration answers with its fixed response; one not found refuses the route', async () => {
    await e.service('api', { type: 'ClusterIP', ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }] });
    await custom.createNamespacedCustomObject({
      ...LRC,
      namespace: e.ns,
      body: { apiVersion: `${LRC.group}/v1`, kind: 'ListenerRuleConfiguration', metadata: { name: 'maintenance' }, spec: { actions: [{ type: 'fixed-response', fixedResponseConfig: { statusCode: 503, messageBody: 'back soon' } }] } },
    });
    await createConfiguredGatewayOn('api', { listeners: [{ name: 'http', port: 8080, protocol: 'HTTP' }] });
    const routeBody = (name: string, config: string) => ({
      apiVersion: `${GROUP}/v1`,
      kind: 'HTTPRoute',
      metadata: { name },
      spec: {
        parentRefs: [{ name: 'api' }],
        rules: [{ matches: [{ path: { type: 'PathPrefix', value: `/${name}` } }], filters: [{ type: 'ExtensionRef', extensionRef: { group: LRC.group, kind: 'ListenerRuleConfiguration', name: config } }], backendRefs: [{ name: 'api', port: 80 }] }],
      },
    });
    await custom.createNamespacedCustomObject({ ...ROUTES, namespace: e.ns, body: routeBody('down', 'maintenance') });
    await custom.createNamespacedCustomObject({ ...ROUTES, namespace: e.ns, body: routeBody('lost', 'nowhere') });
    const rule = await eventually('fixed-response rule', () => fake.all('CreateRule').find((r) => r.params['Conditions.member.1.PathPatternConfig.Values.member.1'] === '/down'), 20_000);
    expect(rule.params).toMatchObject({ 'Actions.member.1.Type': 'fixed-response', 'Actions.member.1.FixedResponseConfig.StatusCode': '503', 'Actions.member.1.FixedResponseConfig.MessageBody': 'back soon' });
    expect(fake.all('CreateRule').some((r) => r.params['Conditions.member.1.PathPatternConfig.Values.member.1'] === '/lost')).toBe(false);
    const lost = await eventually('route lost refused', async () => {
      const a = await routeAccepted('lost');
      return a?.status === 'False' ? a : undefined;
    }, 20_000);
    expect(lost).toMatchObject({ reason: 'UnsupportedValue', message: `spec.rules[0].filters[0].extensionRef: ListenerRuleConfiguration ${e.ns}/nowhere not found` });

    // The informer's news reaches the Gateway whose route names the configuration: one ModifyRule.
    const cur = (await custom.getNamespacedCustomObject({ ...LRC, namespace: e.ns, name: 'maintenance' })) as { metadata: object; spec: object };
    await custom.replaceNamespacedCustomObject({ ...LRC, namespace: e.ns, name: 'maintenance', body: { ...cur, spec: { actions: [{ type: 'fixed-response', fixedResponseConfig: { statusCode: 502 } }] } } });
    const modified = await eventually('rule modified', () => fake.all('ModifyRule').find((r) => r.params['Actions.member.1.FixedResponseConfig.StatusCode'] === '502'), 20_000);
    expect(modified.params.RuleArn).toBe([...fake.rules.values()].find((r) => r.priority === Number(rule.params.Priority) && r.listenerArn === rule.params.ListenerArn)?.arn);
  });

  it('authenticate-oidc on an HTTPS route takes its client from the Opaque Secret the configuration names; a rotated Secret is sent again', async () => {
    fake.addCertificate({ id: 'secure', domain: 'secure.example.com' });
    await e.service('portal', { type: 'ClusterIP', ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }] });
    await e.core.createNamespacedSecret({ namespace: e.ns, body: { metadata: { name: 'tls' }, type: 'kubernetes.io/tls', data: { 'tls.crt': Buffer.from(CERT_PEM).toString('base64'), 'tls.key': Buffer.from(KEY_PEM).toString('base64') } } });
    const client = (secret: string) => ({ metadata: { name: 'oidc-client' }, type: 'Opaque', data: { clientID: Buffer.from('my-client').toString('base64'), clientSecret: Buffer.from(secret).toString('base64') } });
    await e.core.createNamespacedSecret({ namespace: e.ns, body: client('first-secret') });
    await custom.createNamespacedCustomObject({
      ...LRC,
      namespace: e.ns,
      body: {
        apiVersion: `${LRC.group}/v1`,
        kind: 'ListenerRuleConfiguration',
        metadata: { name: 'login' },
        spec: { actions: [{ type: 'authenticate-oidc', authenticateOIDCConfig: { issuer: 'https://idp.example.com', authorizationEndpoint: 'https://idp.example.com/a', tokenEndpoint: 'https://idp.example.com/t', userInfoEndpoint: 'https://idp.example.com/u', secret: { name: 'oidc-client' } } }] },
      },
    });
    await createConfiguredGatewayOn('secure', { listeners: [{ name: 'https', port: 443, protocol: 'HTTPS', hostname: 'secure.example.com', tls: { mode: 'Terminate', certificateRefs: [{ name: 'tls' }] } }] });
    await custom.createNamespacedCustomObject({
      ...ROUTES,
      namespace: e.ns,
      body: {
        apiVersion: `${GROUP}/v1`,
        kind: 'HTTPRoute',
        metadata: { name: 'login' },
        spec: { parentRefs: [{ name: 'secure' }], rules: [{ filters: [{ type: 'ExtensionRef', extensionRef: { group: LRC.group, kind: 'ListenerRuleConfiguration', name: 'login' } }], backendRefs: [{ name: 'portal', port: 80 }] }] },
      },
    });
    const created = await eventually('authenticating rule', () => fake.all('CreateRule').find((r) => r.params['Actions.member.1.Type'] === 'authenticate-oidc'), 20_000);
    expect(created.params).toMatchObject({ 'Actions.member.1.AuthenticateOidcConfig.ClientId': 'my-client', 'Actions.member.1.AuthenticateOidcConfig.ClientSecret': 'first-secret', 'Actions.member.2.Type': 'forward' });

    await e.core.replaceNamespacedSecret({ namespace: e.ns, name: 'oidc-client', body: client('rotated-secret') });
    await eventually('rotated client sent', () => fake.all('ModifyRule').find((r) => r.params['Actions.member.1.AuthenticateOidcConfig.ClientSecret'] === 'rotated-secret'), 20_000);
  });
});
