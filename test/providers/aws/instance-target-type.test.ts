// alb.ingress.kubernetes.io/target-type defaults to instance (aws-load-balancer-controller
// v3.5 docs/guide/ingress/annotations.md "target-type": instance mode needs a Service of type
// NodePort or LoadBalancer), and a ClusterIP backend then fails the model with
// pkg/ingress/model_build_target_group.go buildTargetGroupSpec's "TargetGroup port is empty"
// error. On AWS lbc gives that error instead of ip targets or a companion NodePort Service.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { V1Ingress, V1Service } from '@kubernetes/client-node';
import { buildIngressModel } from '../../../src/controller/ingress-model.js';
import { ingress, node, service, slice } from '../../controller/fixtures.js';
import type { FakeAws } from './fake-aws.js';
import { CLUSTER, provider, seededFake } from './support.js';

let fake: FakeAws;
beforeEach(() => {
  fake = seededFake();
});
afterEach(() => fake.uninstall());

const T = 'alb.ingress.kubernetes.io/target-type';
const site = (annotations: Record<string, string> = {}): V1Ingress =>
  ingress(
    'site',
    { rules: [{ http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } }] } }] },
    { 'alb.ingress.kubernetes.io/scheme': 'internet-facing', ...annotations },
  );
const clusterIp = (annotations?: Record<string, string>): V1Service => service('web', { type: 'ClusterIP', ports: [{ port: 80, targetPort: 8080 }] }, annotations);
const slices = [slice('web', [{ port: 8080 }], [{ ip: '10.1.0.7' }])];
const build = (ing: V1Ingress, svc: V1Service) =>
  buildIngressModel({
    ingresses: [ing],
    services: [svc],
    endpointSlices: slices,
    secrets: [],
    nodes: [node('n1', { providerID: 'aws:///us-east-1a/i-0aaa', ip: '10.0.0.10' })],
    provider: provider(),
    className: 'alb',
    clusterName: CLUSTER,
  });

const ALBC_ERROR = "TargetGroup port is empty. When using Instance targets, your service must be of type 'NodePort' or 'LoadBalancer'";

describe('AWS: a ClusterIP backend with target type instance is an error, as ALBC model_build_target_group.go gives it', () => {
  it('by default (ALBC annotations.md: target-type defaults to instance): the error names the Service and the ip annotation; nothing is sent', () => {
    const r = build(site(), clusterIp());
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason === 'invalid' && r.errors).toEqual([
      {
        field: 'spec.type',
        object: 'Service default/web',
        reason: `is ClusterIP: ${ALBC_ERROR} (target type instance is the default; set ${T}: ip for pod IP targets)`,
      },
    ]);
    expect(fake.requests).toEqual([]);
  });

  it('when instance is asked for: the same error, no companion NodePort Service requested', () => {
    const r = build(site({ [T]: 'instance' }), clusterIp());
    expect(!r.ok && r.reason).toBe('invalid');
    expect(!r.ok && r.reason === 'invalid' && r.errors.map((e) => e.reason)).toEqual([`is ClusterIP: ${ALBC_ERROR} (target type instance is asked for; set ${T}: ip for pod IP targets)`]);
    expect(fake.requests).toEqual([]);
  });

  it('target-type ip, on the Ingress or on the Service (which wins, annotations.md), gives pod IP targets', () => {
    for (const r of [build(site({ [T]: 'ip' }), clusterIp()), build(site({ [T]: 'instance' }), clusterIp({ [T]: 'ip' }))]) {
      if (!r.ok) throw new Error(JSON.stringify(r));
      expect(r.spec.targetSets.map((t) => [t.type, t.type === 'ip' ? t.targets : undefined])).toEqual([['ip', [{ ip: '10.1.0.7', port: 8080 }]]]);
    }
  });

  it('a NodePort backend gets instance targets on its node port by default', () => {
    const r = build(site(), service('web', { type: 'NodePort', ports: [{ port: 80, targetPort: 8080, nodePort: 31080 }] }));
    if (!r.ok) throw new Error(JSON.stringify(r));
    expect(r.spec.targetSets.map((t) => [t.type, t.type === 'instance' ? t.nodePort : undefined])).toEqual([['instance', 31080]]);
  });

  it('the rule is declared in the AWS capabilities only (the other providers\' ip fallback: test/controller/ingress-model.test.ts)', () => {
    expect(provider().capabilities.instanceTargetsNeedNodePort).toEqual({ targetTypeAnnotation: T });
  });
});
