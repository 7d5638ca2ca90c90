// A Gateway of TCP listeners on AWS end to end: the Gateway API CRDs installed from
// ../shared/crds on the test cluster (devcluster, or the real API server KUBECONFIG names),
// an aws provider on the fake ELBv2/EC2 (nock). A TCPRoute attached to a TCP listener
// becomes a Network Load Balancer with a TCP listener forwarding to the backend's target
// group (as aws-load-balancer-controller does for its gateway.k8s.aws/nlb class); the
// route is Accepted, the Gateway Programmed with the NLB's name; moving the route to
// another Service is one ModifyListener; deleting the Gateway removes the NLB.
import type { CustomObjectsApi } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway, TCPRoute } from '../../src/kube/gateway-api.js';
import type { FakeAws } from '../providers/aws/fake-aws.js';
import { seededFake } from '../providers/aws/support.js';
import { deleteGateways } from '../support/gateway-crds.js';
import { startAwsGatewayOnFake } from './aws-on-fake.js';
import { type E2E, eventually } from './harness.js';

const GROUP = 'gateway.networking.k8s.io';
const TCP_ROUTES = { group: GROUP, version: 'v1alpha2', plural: 'tcproutes' };

let e: E2E;
let fake: FakeAws;
let custom: CustomObjectsApi;
let className: string;

const gw = (name: string): Promise<Gateway> => custom.getNamespacedCustomObject({ group: GROUP, version: 'v1', namespace: e.ns, plural: 'gateways', name }) as Promise<Gateway>;
const route = (name: string): Promise<TCPRoute> => custom.getNamespacedCustomObject({ ...TCP_ROUTES, namespace: e.ns, name }) as Promise<TCPRoute>;
const tcpRoute = (name: string, service: string) => ({
  apiVersion: `${GROUP}/v1alpha2`,
  kind: 'TCPRoute',
  metadata: { name },
  spec: { parentRefs: [{ name: 'db-gw', sectionName: 'postgres' }], rules: [{ backendRefs: [{ name: service, port: 5432 }] }] },
});

beforeAll(async () => {
  fake = seededFake();
  ({ e, custom, className } = await startAwsGatewayOnFake());
  // Selectorless Services with hand-written endpoints: ip targets need no node port.
  for (const [name, ip] of [
    ['db', '10.0.1.5'],
    ['db-v2', '10.0.1.6'],
  ] as const) {
    await e.service(name, { ports: [{ name: 'pg', port: 5432, protocol: 'TCP' }] });
    await e.endpointSlice(name, [ip], 5432, 'pg');
  }
}, 90_000);

afterAll(async () => {
  if (custom) await deleteGateways(custom, e.ns).catch(() => {});
  await custom?.deleteClusterCustomObject({ group: GROUP, version: 'v1', plural: 'gatewayclasses', name: className }).catch(() => {});
  await e?.stop();
  fake?.uninstall();
});

describe('a TCPRoute Gateway on aws', () => {
  it('becomes an NLB with a TCP listener to the backend; a backend change is one ModifyListener; delete removes the NLB', async () => {
    await custom.createNamespacedCustomObject({ ...TCP_ROUTES, namespace: e.ns, body: tcpRoute('pg', 'db') });
    // target-type ip and the subnets (the fake's are tagged for another cluster), as a user
    // writes them on the Gateway: the ALBC annotations lbc reads there.
    await custom.createNamespacedCustomObject({
      group: GROUP,
      version: 'v1',
      namespace: e.ns,
      plural: 'gateways',
      body: {
        apiVersion: `${GROUP}/v1`,
        kind: 'Gateway',
        metadata: { name: 'db-gw', annotations: { 'alb.ingress.kubernetes.io/target-type': 'ip', 'alb.ingress.kubernetes.io/subnets': 'subnet-0a1' } },
        spec: { gatewayClassName: className, listeners: [{ name: 'postgres', port: 5432, protocol: 'TCP', allowedRoutes: { kinds: [{ kind: 'TCPRoute' }] } }] },
      },
    });
    await eventually('TCP listener created', () => fake.all('CreateListener').length === 1 || undefined, 30_000);
    expect(fake.last('CreateLoadBalancer')?.params).toMatchObject({ Type: 'network' });
    const tg = [...fake.tgs.values()][0];
    expect(tg).toMatchObject({ protocol: 'TCP', targetType: 'ip' });
    expect([...(tg?.targets.values() ?? [])]).toEqual([{ id: '10.0.1.5', port: 5432 }]);
    expect(fake.last('CreateListener')?.params).toMatchObject({ Port: '5432', Protocol: 'TCP', 'DefaultActions.member.1.TargetGroupArn': tg?.arn });

    const programmed = await eventually('Gateway Programmed', async () => {
      const cur = await gw('db-gw');
      return cur.status?.conditions?.some((c) => c.type === 'Programmed' && c.status === 'True') ? cur : undefined;
    }, 20_000);
    expect(programmed.status?.addresses?.[0]).toMatchObject({ type: 'Hostname', value: [...fake.lbs.values()][0]?.dnsName });
    const parents = (await route('pg')).status?.parents ?? [];
    expect(parents.find((p) => p.parentRef.name === 'db-gw')?.conditions?.find((c) => c.type === 'Accepted')).toMatchObject({ status: 'True' });
    expect(programmed.status?.listeners?.find((l) => l.name === 'postgres')?.attachedRoutes).toBe(1);

    // The route moves to db-v2: its target group, one ModifyListener, the old group gone.
    fake.resetLog();
    const cur = await route('pg');
    await custom.replaceNamespacedCustomObject({ ...TCP_ROUTES, namespace: e.ns, name: 'pg', body: { ...cur, spec: tcpRoute('pg', 'db-v2').spec } });
    await eventually('listener moved', () => fake.all('DeleteTargetGroup').length === 1 || undefined, 30_000);
    expect(fake.writes().map((w) => w.action)).toEqual(['CreateTargetGroup', 'RegisterTargets', 'ModifyListener', 'DeleteTargetGroup']);
    expect([...(([...fake.tgs.values()][0])?.targets.values() ?? [])]).toEqual([{ id: '10.0.1.6', port: 5432 }]);

    await deleteGateways(custom, e.ns, 30_000);
    await eventually('NLB deleted', () => fake.lbs.size === 0 || undefined, 20_000);
    expect(fake.tgs.size).toBe(0);
  }, 120_000);
});
