// aws-load-balancer-controller's TargetGroupBinding in the controller (#16): the upstream
// CRD installed from ../shared/crds, an aws provider on the fake ELBv2/EC2 (nock), and
// bindings whose Service's endpoints (ip) or nodes (instance) must reach the user's target
// group, with the finalizer elbv2.k8s.aws/resources, status.observedGeneration and ALBC's
// Event reasons; a type mismatch is refused on the object; a deleted binding takes every
// target out before its finalizer goes. Against devcluster, or the cluster KUBECONFIG names.
import { ApiextensionsV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions, type V1CustomResourceDefinition } from '@kubernetes/client-node';
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ObjectSerializer } from '../../src/kube/client-node.js';
import type { FakeAws } from '../providers/aws/fake-aws.js';
import { seededFake } from '../providers/aws/support.js';
import { startAwsOnFake } from './aws-on-fake.js';
import { type E2E, eventually } from './harness.js';

const CRD_FILE = new URL('../../../shared/crds/aws-load-balancer-controller-v3.5.0/elbv2.k8s.aws_targetgroupbindings.yaml', import.meta.url).pathname;
const TGB = { group: 'elbv2.k8s.aws', version: 'v1beta1', plural: 'targetgroupbindings' };

interface Tgb {
  metadata?: { name?: string; finalizers?: string[]; generation?: number; uid?: string };
  status?: { observedGeneration?: number };
}

let e: E2E;
let fake: FakeAws;
let custom: CustomObjectsApi;

async function installCrd(): Promise<void> {
  const api = e.cluster.kc.makeApiClient(ApiextensionsV1Api);
  // The typed client sends its model's fields: the file's JSON names (x-kubernetes-int-or-string
  // on serviceRef.port) must become the model's first, or kube-apiserver refuses the schema.
  const crd = ObjectSerializer.deserialize(parseAllDocuments(readFileSync(CRD_FILE, 'utf8'))[0]?.toJSON(), 'V1CustomResourceDefinition', '') as V1CustomResourceDefinition;
  await api.createCustomResourceDefinition({ body: crd }).catch((err: { code?: number }) => {
    if (err.code !== 409) throw err;
  });
  await eventually(
    `${crd.metadata?.name} Established`,
    async () => (await api.readCustomResourceDefinition({ name: crd.metadata?.name ?? '' })).status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True'),
    20_000,
  );
}

const createTgb = (name: string, spec: Record<string, unknown>) =>
  custom.createNamespacedCustomObject({ ...TGB, namespace: e.ns, body: { apiVersion: 'elbv2.k8s.aws/v1beta1', kind: 'TargetGroupBinding', metadata: { name }, spec } });
const readTgb = (name: string): Promise<Tgb | undefined> =>
  custom.getNamespacedCustomObject({ ...TGB, namespace: e.ns, name }).then(
    (o) => o as Tgb,
    (err: { code?: number }) => {
      if (err.code === 404) return undefined;
      throw err;
    },
  );

const targets = (arn: string): string[] => [...(fake.tgs.get(arn)?.targets.values() ?? [])].map((t) => `${t.id}:${t.port}`).sort();
const clusterTag = (): string => `kubernetes.io/cluster/${e.ns}`;

async function slice(service: string, ips: readonly string[]): Promise<void> {
  const body = {
    metadata: { name: `${service}-manual`, labels: { 'kubernetes.io/service-name': service } },
    addressType: 'IPv4',
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    endpoints: ips.map((ip) => ({ addresses: [ip], conditions: { ready: true } })),
  };
  await e.discovery.replaceNamespacedEndpointSlice({ namespace: e.ns, name: body.metadata.name, body }).catch(async (err: { code?: number }) => {
    if (err.code !== 404) throw err;
    await e.discovery.createNamespacedEndpointSlice({ namespace: e.ns, body });
  });
}

beforeAll(async () => {
  fake = seededFake();
  e = await startAwsOnFake();
  custom = e.cluster.kc.makeApiClient(CustomObjectsApi);
  await installCrd();
  fake.addSecurityGroup({ id: 'sg-0node', name: 'eks-cluster-sg', tags: { [clusterTag()]: 'owned' } });
  fake.addSecurityGroup({ id: 'sg-0alb', name: 'users-alb' });
  for (const [n, id] of [['node-a', 'i-0aaa1111'], ['node-b', 'i-0bbb2222']] as const) {
    await e.core.createNode({
      body: {
        metadata: { name: `${e.ns}-${n}`, labels: { [e.nodeLabel]: 'true', pool: n } },
        spec: { providerID: `aws:///us-east-1a/${id}` },
        status: { conditions: [{ type: 'Ready', status: 'True', reason: 'Test', message: 'test' }], addresses: [{ type: 'InternalIP', address: '10.0.0.1' }] },
      },
    });
  }
  await e.controller.start();
}, 90_000);

afterAll(async () => {
  // A binding still holding lbc's finalizer would keep the namespace Terminating.
  const strip = setHeaderOptions('Content-Type', PatchStrategy.JsonPatch);
  const list = (await custom?.listNamespacedCustomObject({ ...TGB, namespace: e.ns }).catch(() => ({ items: [] }))) as { items: Tgb[] } | undefined;
  await e?.stop();
  for (const t of list?.items ?? []) {
    if (t.metadata?.finalizers?.length) await custom.patchNamespacedCustomObject({ ...TGB, namespace: e.ns, name: t.metadata.name ?? '', body: [{ op: 'remove', path: '/metadata/finalizers' }] }, strip).catch(() => {});
  }
  fake?.uninstall();
});

describe('TargetGroupBinding (elbv2.k8s.aws/v1beta1) in the controller (aws)', () => {
  it('ip: the endpoints go into the group with the finalizer, observedGeneration and SuccessfullyReconciled; they follow the EndpointSlice; a resync writes nothing to AWS; delete takes them out before the finalizer goes', async () => {
    const arn = fake.addTargetGroup({ name: `${e.ns}-ip`.slice(0, 32), targetType: 'ip', port: 8080 });
    await e.service('web', { type: 'ClusterIP', ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }] });
    await slice('web', ['10.0.1.10', '10.0.1.11']);
    await createTgb('web', {
      serviceRef: { name: 'web', port: 80 },
      targetGroupARN: arn,
      targetType: 'ip',
      networking: { ingress: [{ from: [{ securityGroup: { groupID: 'sg-0alb' } }], ports: [{ protocol: 'TCP', port: 8080 }] }] },
    });
    await eventually('both endpoints registered', () => JSON.stringify(targets(arn)) === JSON.stringify(['10.0.1.10:8080', '10.0.1.11:8080']), 15_000);
    const tgb = await eventually('finalizer and observedGeneration', async () => {
      const t = await readTgb('web');
      return t?.metadata?.finalizers?.includes('elbv2.k8s.aws/resources') && t.status?.observedGeneration === t.metadata.generation ? t : undefined;
    });
    expect(tgb.status?.observedGeneration).toBe(1);
    await eventually('SuccessfullyReconciled', async () => (await e.reasons('web')).includes('SuccessfullyReconciled'));
    const rules = fake.securityGroups.get('sg-0node')?.ingress ?? [];
    expect(rules.map((r) => `${r.protocol}/${r.from} from ${r.source ?? ''}`)).toEqual(['tcp/8080 from sg-0alb']);
    expect(rules[0]?.tags).toMatchObject({ 'lbc.dev/owner-kind': 'TargetGroupBinding', 'lbc.dev/owner-uid': tgb.metadata?.uid });

    await slice('web', ['10.0.1.11', '10.0.1.12']);
    await eventually('the endpoint change followed', () => JSON.stringify(targets(arn)) === JSON.stringify(['10.0.1.11:8080', '10.0.1.12:8080']), 15_000);

    await e.controller.idle();
    fake.resetLog();
    e.controller.enqueueAll();
    await e.controller.idle();
    expect(fake.writes()).toEqual([]);

    await custom.deleteNamespacedCustomObject({ ...TGB, namespace: e.ns, name: 'web' });
    await eventually('the binding gone once its targets are out', async () => (await readTgb('web')) === undefined, 15_000);
    expect(targets(arn)).toEqual([]);
    expect(fake.securityGroups.get('sg-0node')?.ingress).toEqual([]);
    // The user's group stays, untouched.
    expect(fake.tgs.has(arn)).toBe(true);
    expect(fake.actions().filter((a) => ['DeleteTargetGroup', 'ModifyTargetGroup', 'AddTags'].includes(a))).toEqual([]);
  });

  it('instance, targetType from the group: the selected nodes on the Service\'s node port', async () => {
    const arn = fake.addTargetGroup({ name: `${e.ns}-in`.slice(0, 32), targetType: 'instance' });
    await e.service('np', { type: 'NodePort', ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP', nodePort: 31080 }] });
    await createTgb('np', { serviceRef: { name: 'np', port: 'http' }, targetGroupARN: arn, nodeSelector: { matchLabels: { pool: 'node-a' } } });
    await eventually('node-a registered on the node port', () => JSON.stringify(targets(arn)) === JSON.stringify(['i-0aaa1111:31080']), 15_000);
  });

  it('spec.targetType ip on an instance group: a Warning naming both types, nothing registered', async () => {
    const arn = fake.addTargetGroup({ name: `${e.ns}-mm`.slice(0, 32), targetType: 'instance' });
    await e.service('mm', { type: 'NodePort', ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP', nodePort: 31081 }] });
    await createTgb('mm', { serviceRef: { name: 'mm', port: 80 }, targetGroupARN: arn, targetType: 'ip' });
    const warning = await eventually(
      'a FailedReconcile Warning',
      async () => {
        await e.controller.recorder.flush();
        return (await e.events('mm')).find((ev) => ev.type === 'Warning' && ev.reason === 'FailedReconcile');
      },
      15_000,
    );
    expect(warning.message).toMatch(/spec\.targetType is ip but target group .* has target type instance/);
    expect(warning.involvedObject).toMatchObject({ kind: 'TargetGroupBinding', apiVersion: 'elbv2.k8s.aws/v1beta1' });
    expect(targets(arn)).toEqual([]);
  });
});
