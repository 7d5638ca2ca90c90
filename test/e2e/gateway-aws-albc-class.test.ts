// An aws-load-balancer-controller user's GatewayClass, unchanged, end to end: the Gateway API
// CRDs from ../shared/crds on the test cluster (devcluster, or the real API server KUBECONFIG
// names), an aws provider on the fake ELBv2/EC2 (nock), no lbc-specific configuration for
// Gateways. The class is written as ALBC's docs/guide/gateway/l7gateway.md writes it
// (aws-alb-gateway-class, controllerName gateway.k8s.aws/alb): lbc accepts it with the ALB's
// supportedFeatures, its Gateway with an HTTPRoute becomes an ALB with an address, and the
// route's status entry carries the class's controllerName. A TCP listener on that class is
// refused on the listener (UnsupportedProtocol, as ALBC) and no load balancer is made for it.
import type { CustomObjectsApi } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway, GatewayClass, HTTPRoute } from '../../src/kube/gateway-api.js';
import type { FakeAws } from '../providers/aws/fake-aws.js';
import { seededFake } from '../providers/aws/support.js';
import { deleteGateways, deleteGatewaysAndClass } from '../support/gateway-crds.js';
import { startAwsGatewayOnFake } from './aws-on-fake.js';
import { type E2E, eventually } from './harness.js';

const GROUP = 'gateway.networking.k8s.io';
const ALB_CONTROLLER = 'gateway.k8s.aws/alb';
const CLASSES = { group: GROUP, version: 'v1', plural: 'gatewayclasses' };
const ROUTES = { group: GROUP, version: 'v1', plural: 'httproutes' };

let e: E2E;
let fake: FakeAws;
let custom: CustomObjectsApi;
let lbcClass: string;
// ALBC's docs name it aws-alb-gateway-class; the namespace keeps suites sharing one API server apart.
let albClass: string;

const gw = (name: string): Promise<Gateway> => custom.getNamespacedCustomObject({ group: GROUP, version: 'v1', namespace: e.ns, plural: 'gateways', name }) as Promise<Gateway>;
const condition = <C extends { type: string }>(conditions: readonly C[] | undefined, type: string): C | undefined => conditions?.find((c) => c.type === type);
// The fake's subnets are tagged for another cluster name, and the Services have no selector: named, ip targets.
const ANNOTATIONS = { 'alb.ingress.kubernetes.io/target-type': 'ip', 'alb.ingress.kubernetes.io/subnets': 'subnet-0a1,subnet-0b1' };
const gateway = (name: string, listeners: object[]) => ({ apiVersion: `${GROUP}/v1`, kind: 'Gateway', metadata: { name, annotations: ANNOTATIONS }, spec: { gatewayClassName: albClass, listeners } });

beforeAll(async () => {
  fake = seededFake();
  ({ e, custom, className: lbcClass } = await startAwsGatewayOnFake());
  albClass = `aws-alb-gateway-class-${e.ns}`;
  await e.service('web', { ports: [{ name: 'http', port: 8080, protocol: 'TCP' }] });
  await e.endpointSlice('web', ['10.0.1.7'], 8080, 'http');
  await custom.createClusterCustomObject({ ...CLASSES, body: { apiVersion: `${GROUP}/v1`, kind: 'GatewayClass', metadata: { name: albClass }, spec: { controllerName: ALB_CONTROLLER } } });
}, 90_000);

afterAll(async () => {
  await deleteGatewaysAndClass(custom, e.ns, albClass);
  await custom?.deleteClusterCustomObject({ ...CLASSES, name: lbcClass }).catch(() => {});
  await e?.stop();
  fake?.uninstall();
});

describe("an ALBC GatewayClass (controllerName gateway.k8s.aws/alb) served by lbc's aws provider", () => {
  it('is Accepted with the ALB features only; its Gateway and HTTPRoute become an ALB with an address; the route status carries gateway.k8s.aws/alb', async () => {
    const cls = await eventually('class Accepted', async () => {
      const c = (await custom.getClusterCustomObject({ ...CLASSES, name: albClass })) as GatewayClass;
      return condition(c.status?.conditions, 'Accepted')?.status === 'True' ? c : undefined;
    }, 20_000);
    const features = (cls.status?.supportedFeatures ?? []).map((f) => (typeof f === 'string' ? f : f.name));
    expect(features).toEqual(expect.arrayContaining(['Gateway', 'HTTPRoute', 'GRPCRoute', 'ReferenceGrant']));
    expect(features).not.toContain('TCPRoute');
    expect(features).not.toContain('TLSRoute');

    await custom.createNamespacedCustomObject({
      ...ROUTES,
      namespace: e.ns,
      body: { apiVersion: `${GROUP}/v1`, kind: 'HTTPRoute', metadata: { name: 'my-http-app-route' }, spec: { parentRefs: [{ name: 'my-alb-gateway', sectionName: 'http' }], rules: [{ backendRefs: [{ name: 'web', port: 8080 }] }] } },
    });
    await custom.createNamespacedCustomObject({ group: GROUP, version: 'v1', namespace: e.ns, plural: 'gateways', body: gateway('my-alb-gateway', [{ name: 'http', port: 80, protocol: 'HTTP' }]) });

    const programmed = await eventually('Gateway Programmed', async () => {
      const g = await gw('my-alb-gateway');
      return condition(g.status?.conditions, 'Programmed')?.status === 'True' ? g : undefined;
    }, 30_000);
    expect(fake.all('CreateLoadBalancer')).toHaveLength(1);
    expect(fake.last('CreateLoadBalancer')?.params).toMatchObject({ Type: 'application' });
    expect(programmed.status?.addresses).toEqual([{ type: 'Hostname', value: [...fake.lbs.values()][0]?.dnsName }]);
    expect(fake.last('CreateListener')?.params).toMatchObject({ Port: '80', Protocol: 'HTTP' });

    const parents = await eventually('route status', async () => {
      const r = (await custom.getNamespacedCustomObject({ ...ROUTES, namespace: e.ns, name: 'my-http-app-route' })) as HTTPRoute;
      return r.status?.parents?.length ? r.status.parents : undefined;
    }, 20_000);
    expect(parents).toHaveLength(1);
    expect(parents[0]).toMatchObject({ controllerName: ALB_CONTROLLER, parentRef: { name: 'my-alb-gateway', sectionName: 'http' } });
    expect(condition(parents[0]?.conditions, 'Accepted')).toMatchObject({ status: 'True', reason: 'Accepted' });
  }, 120_000);

  it('refuses a TCP listener on the class (UnsupportedProtocol, as ALBC) with no load balancer for it; deleting the Gateways removes the ALB', async () => {
    const before = fake.all('CreateLoadBalancer').length;
    await custom.createNamespacedCustomObject({ group: GROUP, version: 'v1', namespace: e.ns, plural: 'gateways', body: gateway('db-on-alb', [{ name: 'postgres', port: 5432, protocol: 'TCP' }]) });
    const refused = await eventually('Gateway not Accepted', async () => {
      const g = await gw('db-on-alb');
      return condition(g.status?.conditions, 'Accepted')?.status === 'False' ? g : undefined;
    }, 20_000);
    expect(condition(refused.status?.conditions, 'Accepted')).toMatchObject({ reason: 'ListenersNotValid' });
    const listener = refused.status?.listeners?.find((l) => l.name === 'postgres');
    expect(condition(listener?.conditions, 'Accepted')).toMatchObject({
      status: 'False',
      reason: 'UnsupportedProtocol',
      message: 'Unsupported protocol TCP: GatewayClasses of gateway.k8s.aws/alb serve HTTP, HTTPS listeners only',
    });
    expect(fake.all('CreateLoadBalancer')).toHaveLength(before);

    await deleteGateways(custom, e.ns, 30_000);
    await eventually('ALB deleted', () => fake.lbs.size === 0 || undefined, 20_000);
    const route = (await custom.getNamespacedCustomObject({ ...ROUTES, namespace: e.ns, name: 'my-http-app-route' })) as HTTPRoute;
    expect(route.status?.parents ?? []).toEqual([]);
  }, 120_000);
});
