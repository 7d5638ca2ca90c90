// ALBC's TargetGroupConfiguration (gateway.k8s.aws/v1; aws-load-balancer-controller v3.5
// docs/guide/gateway/targetgroupconfig.md) attached to a Gateway backend Service: what the
// aws provider reads of it, what it refuses by field name, and the exact requests an ALB
// Gateway whose backend it configures makes against the fake (create, no-op, change).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { GatewaySpec } from '../../../src/model/spec.js';
import type { AwsLbOptions } from '../../../src/providers/aws/annotations.js';
import { parseTargetGroupConfiguration, TARGET_GROUP_CONFIGURATION, withTargetGroupConfiguration } from '../../../src/providers/aws/target-group-configuration.js';
import type { FakeAws } from './fake-aws.js';
import { backend, gatewayOptions, gatewaySpec, httpRule, prefix } from './gateway-support.js';
import { provider, seededFake } from './support.js';

const tgc = (spec: Record<string, unknown>): unknown => ({ apiVersion: 'gateway.k8s.aws/v1', kind: 'TargetGroupConfiguration', metadata: { name: 'web-tg', namespace: 'shop' }, spec: { targetReference: { name: 'web' }, ...spec } });

describe('parseTargetGroupConfiguration (targetgroupconfig.md TargetGroupProps)', () => {
  it('reads defaultConfiguration: targetType, protocol, protocolVersion, healthCheckConfig, targetGroupAttributes, tags, nodeSelector.matchLabels', () => {
    expect(
      parseTargetGroupConfiguration(
        tgc({
          defaultConfiguration: {
            targetType: 'ip',
            protocol: 'HTTPS',
            protocolVersion: 'HTTP2',
            healthCheckConfig: { healthyThresholdCount: 5, healthCheckInterval: 30, healthCheckPath: '/healthz', healthCheckPort: '8080', healthCheckProtocol: 'HTTP', healthCheckTimeout: 5, unhealthyThresholdCount: 2, matcher: { httpCode: '200-299' } },
            targetGroupAttributes: [{ key: 'deregistration_delay.timeout_seconds', value: '30' }],
            tags: { team: 'shop' },
            nodeSelector: { matchLabels: { role: 'backend' } },
            ipAddressType: 'ipv4',
            enableMultiCluster: false,
          },
        }),
      ),
    ).toEqual({
      ok: true,
      value: {
        targetType: 'ip',
        backendProtocol: 'HTTPS',
        protocolVersion: 'HTTP2',
        healthCheck: { healthyThreshold: 5, intervalSeconds: 30, path: '/healthz', port: 8080, protocol: 'HTTP', timeoutSeconds: 5, unhealthyThreshold: 2, successCodes: '200-299' },
        targetGroupAttributes: { 'deregistration_delay.timeout_seconds': '30' },
        tags: { team: 'shop' },
        targetNodeLabels: { role: 'backend' },
      },
    });
  });

  it('a configuration without defaultConfiguration sets nothing; a matcher grpcCode is the success codes', () => {
    expect(parseTargetGroupConfiguration(tgc({}))).toEqual({ ok: true, value: {} });
    expect(parseTargetGroupConfiguration(tgc({ defaultConfiguration: { protocolVersion: 'GRPC', healthCheckConfig: { matcher: { grpcCode: '0-99' } } } }))).toEqual({
      ok: true,
      value: { protocolVersion: 'GRPC', healthCheck: { successCodes: '0-99' } },
    });
  });

  it('refuses every field lbc does not implement by name, never drops it', () => {
    const r = parseTargetGroupConfiguration({
      spec: {
        targetReference: { kind: 'Gateway', group: 'gateway.networking.k8s.io', name: 'inner' },
        routeConfigurations: [{ routeIdentifier: { kind: 'HTTPRoute' }, targetGroupProps: { targetType: 'ip' } }],
        defaultConfiguration: { targetGroupName: 'mine', targetControlPort: 100, enableMultiCluster: true, ipAddressType: 'ipv6', nodeSelector: { matchExpressions: [{ key: 'a', operator: 'Exists' }] }, protocol: 'TCP' },
      },
    });
    expect(r).toEqual({
      ok: false,
      errors: [
        'spec.targetReference: Gateway.gateway.networking.k8s.io is not implemented by lbc (a core Service is)',
        'spec.routeConfigurations: not implemented by lbc (defaultConfiguration applies to every route of the Service)',
        'spec.defaultConfiguration.protocol: TCP is not HTTP or HTTPS, the protocols of an ALB target group',
        'spec.defaultConfiguration.nodeSelector.matchExpressions: not implemented by lbc (matchLabels is)',
        'spec.defaultConfiguration.ipAddressType: ipv6 is not implemented by lbc (ipv4 is)',
        'spec.defaultConfiguration.enableMultiCluster: not implemented by lbc',
        'spec.defaultConfiguration.targetGroupName: not implemented by lbc (it names target groups itself, so that a change replaces them safely)',
        'spec.defaultConfiguration.targetControlPort: not implemented by lbc',
      ],
    });
  });

  it('refuses malformed values with the field and what is expected', () => {
    const r = parseTargetGroupConfiguration(tgc({ defaultConfiguration: { targetType: 'pod', healthCheckConfig: { healthCheckInterval: 1, healthCheckPort: 'http', matcher: { httpCode: '200', grpcCode: '0' } }, tags: { 'aws:x': 'y' } } }));
    expect(!r.ok && r.errors).toEqual([
      'spec.defaultConfiguration.targetType: pod is not instance or ip',
      'spec.defaultConfiguration.healthCheckConfig.healthCheckInterval: 1 is not 5-300 seconds',
      'spec.defaultConfiguration.healthCheckConfig.healthCheckPort: http is not traffic-port or a port number (named ports are not implemented by lbc)',
      'spec.defaultConfiguration.healthCheckConfig.matcher: set httpCode or grpcCode, not both',
      'spec.defaultConfiguration.tags: aws:x: keys are at most 128 characters, outside the reserved lbc.dev/ and aws: prefixes',
    ]);
  });
});

describe('withTargetGroupConfiguration (targetgroupconfig.md: healthCheckConfig is one block; tags and targetGroupAttributes merge by key)', () => {
  it('replaces the Gateway health check as a whole and merges the attributes, the configuration\'s keys winning', () => {
    const gw = gatewayOptions({ 'alb.ingress.kubernetes.io/healthcheck-path': '/ping', 'alb.ingress.kubernetes.io/healthcheck-interval-seconds': '20', 'alb.ingress.kubernetes.io/target-group-attributes': 'stickiness.enabled=true,deregistration_delay.timeout_seconds=60' });
    const o = withTargetGroupConfiguration(gw, { healthCheck: { path: '/healthz' }, targetGroupAttributes: { 'deregistration_delay.timeout_seconds': '30' } });
    expect(o.healthCheck).toEqual({ path: '/healthz' });
    expect(o.targetGroupAttributes).toEqual({ 'stickiness.enabled': 'true', 'deregistration_delay.timeout_seconds': '30' });
    expect(withTargetGroupConfiguration(gw, undefined)).toBe(gw);
  });
});

describe('an ALB Gateway whose backend Service has a TargetGroupConfiguration', () => {
  let fake: FakeAws;
  beforeEach(() => {
    fake = seededFake();
  });
  afterEach(() => fake.uninstall());

  /** The canary Gateway, web:80's target set carrying the parsed configuration, as the builder hands it over. */
  const configured = (defaultConfiguration: Record<string, unknown>): GatewaySpec<AwsLbOptions> => {
    const parsed = parseTargetGroupConfiguration(tgc({ defaultConfiguration }));
    if (!parsed.ok) throw new Error(parsed.errors.join('; '));
    const spec = gatewaySpec();
    return {
      ...spec,
      targetSets: spec.targetSets.map((ts) => (ts.name === 'shop/web:80' ? { ...ts, parameters: { ...TARGET_GROUP_CONFIGURATION, namespace: 'shop', name: 'web-tg', value: parsed.value } } : ts)),
    };
  };
  const CONFIG = {
    protocolVersion: 'HTTP2',
    healthCheckConfig: { healthCheckPath: '/healthz', healthCheckInterval: 30, healthCheckTimeout: 6, healthyThresholdCount: 3, unhealthyThresholdCount: 4, matcher: { httpCode: '200-299' } },
    targetGroupAttributes: [{ key: 'deregistration_delay.timeout_seconds', value: '30' }],
    tags: { team: 'shop' },
  };
  const webGroup = (): Record<string, string> | undefined => fake.all('CreateTargetGroup').find((r) => r.params.Port === '31080')?.params;

  it('CreateTargetGroup carries its protocol version, health check and tags; ModifyTargetGroupAttributes its attributes; the other groups keep the Gateway\'s', async () => {
    await provider().ensure(configured(CONFIG));
    const web = webGroup();
    expect(web).toEqual({
      Name: expect.stringMatching(/^k8s-shop-edge-[0-9a-f]{10}$/),
      Protocol: 'HTTP',
      ProtocolVersion: 'HTTP2',
      Port: '31080',
      VpcId: 'vpc-1',
      HealthCheckProtocol: 'HTTP',
      HealthCheckPort: 'traffic-port',
      HealthCheckEnabled: 'true',
      HealthCheckPath: '/healthz',
      HealthCheckIntervalSeconds: '30',
      HealthCheckTimeoutSeconds: '6',
      HealthyThresholdCount: '3',
      UnhealthyThresholdCount: '4',
      'Matcher.HttpCode': '200-299',
      TargetType: 'instance',
      ...Object.fromEntries(Object.entries(web ?? {}).filter(([k]) => k.startsWith('Tags.'))),
    });
    const webArn = [...fake.tgs.values()].find((t) => String(t.port) === '31080')?.arn ?? '';
    expect(fake.tags.get(webArn)).toMatchObject({ team: 'shop', 'lbc.dev/resource': 'shop/web:80' });
    expect(fake.all('ModifyTargetGroupAttributes').map((r) => r.params)).toEqual([
      { TargetGroupArn: webArn, 'Attributes.member.1.Key': 'deregistration_delay.timeout_seconds', 'Attributes.member.1.Value': '30' },
    ]);
    const api = fake.all('CreateTargetGroup').find((r) => r.params.Port === '31081')?.params;
    expect(api).toMatchObject({ HealthCheckPath: '/', HealthCheckIntervalSeconds: '15' });
    expect(api?.ProtocolVersion).toBeUndefined();
    expect(fake.tags.get([...fake.tgs.values()].find((t) => String(t.port) === '31081')?.arn ?? '')).not.toHaveProperty('team');
  });

  it('protocolVersion GRPC: an HTTPRoute and a GRPCRoute to the Service share its one GRPC target group', async () => {
    const parsed = parseTargetGroupConfiguration(tgc({ defaultConfiguration: { protocolVersion: 'GRPC' } }));
    if (!parsed.ok) throw new Error(parsed.errors.join('; '));
    const spec = gatewaySpec({ rules: [httpRule(0, [prefix('/web')], [backend('shop/web:80')]), httpRule(0, [prefix('/pkg.Svc')], [backend('shop/web:80')], { route: 'g', grpc: true })] });
    await provider().ensure({ ...spec, targetSets: spec.targetSets.map((ts) => (ts.name === 'shop/web:80' ? { ...ts, parameters: { ...TARGET_GROUP_CONFIGURATION, namespace: 'shop', name: 'web-tg', value: parsed.value } } : ts)) });
    expect(fake.all('CreateTargetGroup').map((r) => [r.params.Port, r.params.ProtocolVersion])).toEqual([['31080', 'GRPC']]);
  });

  it('an ensure again with the same configuration writes nothing', async () => {
    await provider().ensure(configured(CONFIG));
    const before = fake.writes().length;
    await provider().ensure(configured(CONFIG));
    expect(fake.writes().slice(before).map((r) => r.action)).toEqual([]);
  });

  it('a changed health check path is one ModifyTargetGroup, a changed attribute one ModifyTargetGroupAttributes', async () => {
    await provider().ensure(configured(CONFIG));
    const before = fake.writes().length;
    await provider().ensure(configured({ ...CONFIG, healthCheckConfig: { ...CONFIG.healthCheckConfig, healthCheckPath: '/ready' }, targetGroupAttributes: [{ key: 'deregistration_delay.timeout_seconds', value: '10' }] }));
    const changed = fake.writes().slice(before);
    expect(changed.map((r) => r.action)).toEqual(['ModifyTargetGroup', 'ModifyTargetGroupAttributes']);
    expect(changed[0]?.params).toMatchObject({ HealthCheckPath: '/ready' });
    expect(changed[1]?.params).toMatchObject({ 'Attributes.member.1.Key': 'deregistration_delay.timeout_seconds', 'Attributes.member.1.Value': '10' });
  });
});
