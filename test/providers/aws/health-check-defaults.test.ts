// Target-group health checks as aws-load-balancer-controller v3.5 builds them when the user
// sets nothing (pkg/ingress/model_builder.go, pkg/service/model_builder.go and, for
// Gateways, pkg/gateway/model/model_build_target_group.go defaults,
// docs/guide/ingress/annotations.md and docs/guide/service/annotations.md), from specs the
// real model builders made: the builder marks the values it filled in (healthCheckDefaulted)
// and the AWS provider replaces exactly those with ALBC's, while what the user set through
// lbc.dev/health-check-* or the AWS annotations is sent as set.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { V1Ingress, V1Service, V1ServiceSpec } from '@kubernetes/client-node';
import { buildIngressModel } from '../../../src/controller/ingress-model.js';
import { buildServiceModel } from '../../../src/controller/service-model.js';
import type { L4Spec, L7Spec } from '../../../src/model/spec.js';
import type { AwsLbOptions } from '../../../src/providers/aws/annotations.js';
import { ingress, node, service, slice } from '../../controller/fixtures.js';
import type { FakeAws } from './fake-aws.js';
import { gatewaySpec, nlbGatewaySpec } from './gateway-support.js';
import { CLUSTER, provider, seededFake } from './support.js';

let fake: FakeAws;
beforeEach(() => {
  fake = seededFake();
});
afterEach(() => fake.uninstall());

const S = 'service.beta.kubernetes.io/aws-load-balancer-';
const A = 'alb.ingress.kubernetes.io/';
const nodes = [node('n1', { providerID: 'aws:///us-east-1a/i-0aaa', ip: '10.0.0.10' })];

function nlb(spec: Partial<V1ServiceSpec>, annotations: Record<string, string> = {}): L4Spec<AwsLbOptions> {
  const svc: V1Service = service('web', { type: 'LoadBalancer', ports: [{ port: 80, targetPort: 8080, nodePort: 30080, protocol: 'TCP' }], ...spec }, { [`${S}type`]: 'external', [`${S}nlb-target-type`]: 'instance', ...annotations });
  const r = buildServiceModel({ service: svc, nodes, endpointSlices: [], provider: provider(), className: 'lbc.dev/aws', clusterName: CLUSTER });
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.spec as L4Spec<AwsLbOptions>;
}

function alb(ingAnnotations: Record<string, string> = {}, svcAnnotations: Record<string, string> = {}): L7Spec<AwsLbOptions> {
  const ing: V1Ingress = ingress(
    'site',
    { rules: [{ http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } }] } }] },
    { [`${A}scheme`]: 'internet-facing', ...ingAnnotations },
  );
  const svc = service('web', { type: 'NodePort', ports: [{ port: 80, targetPort: 8080, nodePort: 30080 }] }, svcAnnotations);
  const r = buildIngressModel({
    ingresses: [ing],
    services: [svc],
    endpointSlices: [slice('web', [{ port: 8080 }], [{ ip: '10.1.0.7' }])],
    secrets: [],
    nodes,
    provider: provider(),
    className: 'alb',
    clusterName: CLUSTER,
  });
  if (!r.ok) throw new Error(JSON.stringify(r));
  return r.spec as L7Spec<AwsLbOptions>;
}

/** The health-check fields of the one CreateTargetGroup sent, as sent. */
function sentCheck(): Record<string, string | undefined> {
  const p = fake.all('CreateTargetGroup')[0]?.params ?? {};
  const keys = ['HealthCheckProtocol', 'HealthCheckPort', 'HealthCheckPath', 'HealthCheckIntervalSeconds', 'HealthCheckTimeoutSeconds', 'HealthyThresholdCount', 'UnhealthyThresholdCount', 'Matcher.HttpCode', 'Matcher.GrpcCode'];
  return Object.fromEntries(keys.map((k) => [k, p[k]]));
}

describe('NLB (Service) health-check defaults, as ALBC pkg/service/model_builder.go', () => {
  it('externalTrafficPolicy Cluster: TCP to the traffic port, 10 s interval, 10 s timeout, healthy and unhealthy after 3', async () => {
    await provider().ensure(nlb({ externalTrafficPolicy: 'Cluster' }));
    expect(sentCheck()).toEqual({
      HealthCheckProtocol: 'TCP',
      HealthCheckPort: 'traffic-port',
      HealthCheckPath: undefined,
      HealthCheckIntervalSeconds: '10',
      HealthCheckTimeoutSeconds: '10',
      HealthyThresholdCount: '3',
      UnhealthyThresholdCount: '3',
      'Matcher.HttpCode': undefined,
      'Matcher.GrpcCode': undefined,
    });
  });

  it('externalTrafficPolicy Local, instance targets: HTTP /healthz on the healthCheckNodePort, 10 s, 6 s, 2 and 2 (buildTargetGroupHealthCheckConfigForInstanceModeLocal)', async () => {
    await provider().ensure(nlb({ externalTrafficPolicy: 'Local', healthCheckNodePort: 32000 }));
    expect(sentCheck()).toEqual({
      HealthCheckProtocol: 'HTTP',
      HealthCheckPort: '32000',
      HealthCheckPath: '/healthz',
      HealthCheckIntervalSeconds: '10',
      HealthCheckTimeoutSeconds: '6',
      HealthyThresholdCount: '2',
      UnhealthyThresholdCount: '2',
      'Matcher.HttpCode': '200-399',
      'Matcher.GrpcCode': undefined,
    });
  });

  it('externalTrafficPolicy Local with ip targets: the Cluster defaults (pods are probed directly)', async () => {
    await provider().ensure(nlb({ externalTrafficPolicy: 'Local', healthCheckNodePort: 32000 }, { [`${S}nlb-target-type`]: 'ip' }));
    expect(sentCheck()).toMatchObject({ HealthCheckProtocol: 'TCP', HealthCheckPort: 'traffic-port', HealthCheckTimeoutSeconds: '10', HealthyThresholdCount: '3' });
  });

  it('HTTP asked for by annotation: path / and codes 200-399, the timing still ALBC\'s', async () => {
    await provider().ensure(nlb({}, { [`${S}healthcheck-protocol`]: 'http' }));
    expect(sentCheck()).toMatchObject({ HealthCheckProtocol: 'HTTP', HealthCheckPath: '/', 'Matcher.HttpCode': '200-399', HealthCheckIntervalSeconds: '10', HealthCheckTimeoutSeconds: '10' });
  });

  it("the user's lbc.dev/health-check-* values are kept; only the fields left unset take ALBC's defaults", async () => {
    await provider().ensure(nlb({}, { 'lbc.dev/health-check-interval': '30s', 'lbc.dev/health-check-unhealthy-threshold': '5' }));
    expect(sentCheck()).toMatchObject({ HealthCheckIntervalSeconds: '30', HealthCheckTimeoutSeconds: '10', HealthyThresholdCount: '3', UnhealthyThresholdCount: '5' });
  });

  it('an AWS annotation wins over the lbc.dev one', async () => {
    await provider().ensure(nlb({}, { 'lbc.dev/health-check-interval': '30s', [`${S}healthcheck-interval`]: '20' }));
    expect(sentCheck()).toMatchObject({ HealthCheckIntervalSeconds: '20' });
  });
});

describe('ALB (Ingress) health-check defaults, as ALBC pkg/ingress/model_builder.go', () => {
  it('HTTP to the traffic port, path /, 15 s interval, 5 s timeout, healthy and unhealthy after 2, code 200', async () => {
    await provider().ensure(alb());
    expect(sentCheck()).toEqual({
      HealthCheckProtocol: 'HTTP',
      HealthCheckPort: 'traffic-port',
      HealthCheckPath: '/',
      HealthCheckIntervalSeconds: '15',
      HealthCheckTimeoutSeconds: '5',
      HealthyThresholdCount: '2',
      UnhealthyThresholdCount: '2',
      'Matcher.HttpCode': '200',
      'Matcher.GrpcCode': undefined,
    });
  });

  it('backend-protocol HTTPS: the health check speaks HTTPS too (buildTargetGroupHealthCheckProtocol defaults to the target group protocol)', async () => {
    await provider().ensure(alb({ [`${A}backend-protocol`]: 'HTTPS' }));
    expect(fake.all('CreateTargetGroup')[0]?.params).toMatchObject({ Protocol: 'HTTPS', HealthCheckProtocol: 'HTTPS' });
  });

  it('backend-protocol-version GRPC: path /AWS.ALB/healthcheck and gRPC code 12', async () => {
    await provider().ensure(alb({ [`${A}backend-protocol-version`]: 'GRPC' }));
    expect(sentCheck()).toMatchObject({ HealthCheckPath: '/AWS.ALB/healthcheck', 'Matcher.GrpcCode': '12', 'Matcher.HttpCode': undefined, HealthCheckIntervalSeconds: '15' });
  });

  it('GRPC with a path the user set through lbc.dev/health-check-path: that path, not the gRPC default', async () => {
    await provider().ensure(alb({ [`${A}backend-protocol-version`]: 'GRPC', 'lbc.dev/health-check-path': '/grpc.health.v1.Health/Check' }));
    expect(sentCheck()).toMatchObject({ HealthCheckPath: '/grpc.health.v1.Health/Check', 'Matcher.GrpcCode': '12' });
  });

  it("lbc.dev values the user set stay; the Service's AWS annotation wins over the Ingress's", async () => {
    await provider().ensure(alb({ 'lbc.dev/health-check-timeout': '3', [`${A}healthy-threshold-count`]: '4' }, { [`${A}healthy-threshold-count`]: '5' }));
    expect(sentCheck()).toMatchObject({ HealthCheckIntervalSeconds: '15', HealthCheckTimeoutSeconds: '3', HealthyThresholdCount: '5', UnhealthyThresholdCount: '2' });
  });
});

/** The health-check fields of each CreateTargetGroup sent, as sent. */
function sentChecks(): Record<string, string | undefined>[] {
  const keys = ['HealthCheckProtocol', 'HealthCheckPort', 'HealthCheckPath', 'HealthCheckIntervalSeconds', 'HealthCheckTimeoutSeconds', 'HealthyThresholdCount', 'UnhealthyThresholdCount', 'Matcher.HttpCode', 'Matcher.GrpcCode'];
  return fake.all('CreateTargetGroup').map((r) => Object.fromEntries(keys.map((k) => [k, r.params[k]])));
}

// ALBC's Gateway builder has its own defaults, not the Ingress's or the Service's:
// pkg/gateway/model/model_build_target_group.go newTargetGroupBuilder (matcher 200-399,
// thresholds 3 and 3, timeout 5, interval 15), for ALB and NLB Gateways alike.
describe('Gateway health-check defaults, as ALBC pkg/gateway/model/model_build_target_group.go newTargetGroupBuilder', () => {
  const GATEWAY_TIMING = { HealthCheckIntervalSeconds: '15', HealthCheckTimeoutSeconds: '5', HealthyThresholdCount: '3', UnhealthyThresholdCount: '3' };

  it('ALB Gateway: HTTP to the traffic port, path /, 15 s interval, 5 s timeout, healthy and unhealthy after 3, codes 200-399', async () => {
    await provider().ensure(gatewaySpec());
    const checks = sentChecks();
    expect(checks).toHaveLength(3);
    for (const c of checks) expect(c).toEqual({ HealthCheckProtocol: 'HTTP', HealthCheckPort: 'traffic-port', HealthCheckPath: '/', ...GATEWAY_TIMING, 'Matcher.HttpCode': '200-399', 'Matcher.GrpcCode': undefined });
  });

  it('NLB Gateway: TCP to the traffic port (buildTargetGroupHealthCheckProtocol), 15 s interval, 5 s timeout, healthy and unhealthy after 3', async () => {
    await provider().ensure(nlbGatewaySpec());
    expect(sentChecks()).toEqual([{ HealthCheckProtocol: 'TCP', HealthCheckPort: 'traffic-port', HealthCheckPath: undefined, ...GATEWAY_TIMING, 'Matcher.HttpCode': undefined, 'Matcher.GrpcCode': undefined }]);
  });

  // A Gateway lbc made before the correction has the Ingress's (ALB) or the Service's (NLB)
  // defaults: a resync moves each group to ALBC's Gateway ones in place.
  it('an ALB Gateway made with the Ingress defaults converges with one ModifyTargetGroup per group, nothing created or deleted', async () => {
    await provider().ensure(gatewaySpec());
    for (const tg of fake.tgs.values()) Object.assign(tg.hc, { HealthyThresholdCount: '2', UnhealthyThresholdCount: '2', Matcher: '200' });
    const before = fake.writes().length;
    await provider().ensure(gatewaySpec());
    const writes = fake.writes().slice(before);
    expect(writes.map((w) => w.action)).toEqual(['ModifyTargetGroup', 'ModifyTargetGroup', 'ModifyTargetGroup']);
    expect(new Set(writes.map((w) => w.params.TargetGroupArn))).toEqual(new Set([...fake.tgs.keys()]));
    for (const w of writes) expect(w.params).toMatchObject({ HealthyThresholdCount: '3', UnhealthyThresholdCount: '3', 'Matcher.HttpCode': '200-399' });
    const after = fake.writes().length;
    await provider().ensure(gatewaySpec());
    expect(fake.writes().slice(after)).toEqual([]);
  });

  it('an NLB Gateway made with the Service defaults converges with one ModifyTargetGroup, nothing created or deleted', async () => {
    await provider().ensure(nlbGatewaySpec());
    for (const tg of fake.tgs.values()) Object.assign(tg.hc, { HealthCheckIntervalSeconds: '10', HealthCheckTimeoutSeconds: '10' });
    const before = fake.writes().length;
    await provider().ensure(nlbGatewaySpec());
    const writes = fake.writes().slice(before);
    expect(writes.map((w) => w.action)).toEqual(['ModifyTargetGroup']);
    expect(writes[0]?.params).toMatchObject({ HealthCheckIntervalSeconds: '15', HealthCheckTimeoutSeconds: '5' });
  });
});
