// ALBC's TargetGroupConfiguration (gateway.k8s.aws/v1; aws-load-balancer-controller v3.5
// docs/guide/gateway/targetgroupconfig.md) attached to a Gateway backend Service: what the
// aws provider reads of it, what it refuses by field name, and the exact requests an ALB
// Gateway whose backend it configures makes against the fake (create, no-op, change).
import { CreateTargetGroupCommand, ModifyTargetGroupCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ownershipTags, type GatewaySpec, type NodeTarget, type TargetSet } from '../../../src/model/spec.js';
import type { AwsLbOptions } from '../../../src/providers/aws/annotations.js';
import type { RouteKind } from '../../../src/model/gateway.js';
import {
  matchRouteConfiguration,
  mergeTargetGroupProps,
  parseTargetGroupConfiguration,
  targetGroupPropsForRoute,
  withTargetGroupConfiguration,
  type RouteConfiguration,
  type TargetGroupConfiguration,
} from '../../../src/providers/aws/target-group-configuration.js';
import type { FakeAws } from './fake-aws.js';
import { backend, canaryRules, gatewayOptions, gatewaySpec, GW_REF, httpRule, nlbGatewaySpec, prefix, configuredBackend } from './gateway-support.js';
import { CLUSTER, nodes, provider, seededFake } from './support.js';

const tgc = (spec: Record<string, unknown>): unknown => ({ apiVersion: 'gateway.k8s.aws/v1', kind: 'TargetGroupConfiguration', metadata: { name: 'web-tg', namespace: 'shop' }, spec: { targetReference: { name: 'web' }, ...spec } });

describe('parseTargetGroupConfiguration (targetgroupconfig.md TargetGroupProps)', () => {
  it('reads defaultConfiguration: targetType, protocol, protocolVersion, healthCheckConfig, targetGroupAttributes, tags, nodeSelector (matchLabels and matchExpressions), targetGroupName, targetControlPort', () => {
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
            nodeSelector: { matchLabels: { role: 'backend' }, matchExpressions: [{ key: 'zone', operator: 'In', values: ['a', 'b'] }, { key: 'spot', operator: 'DoesNotExist' }] },
            ipAddressType: 'ipv4',
            enableMultiCluster: false,
            targetGroupName: 'shop-web-80',
            targetControlPort: 9000,
          },
        }),
      ),
    ).toEqual({
      ok: true,
      value: {
        routeConfigurations: [],
        defaultConfiguration: {
          targetType: 'ip',
          backendProtocol: 'HTTPS',
          protocolVersion: 'HTTP2',
          healthCheck: { healthyThreshold: 5, intervalSeconds: 30, path: '/healthz', port: 8080, protocol: 'HTTP', timeoutSeconds: 5, unhealthyThreshold: 2, successCodes: '200-299' },
          targetGroupAttributes: { 'deregistration_delay.timeout_seconds': '30' },
          tags: { team: 'shop' },
          nodeSelector: { matchLabels: { role: 'backend' }, matchExpressions: [{ key: 'zone', operator: 'In', values: ['a', 'b'] }, { key: 'spot', operator: 'DoesNotExist' }] },
          targetGroupName: 'shop-web-80',
          targetControlPort: 9000,
        },
      },
    });
  });

  it('a configuration without defaultConfiguration sets nothing; a matcher grpcCode is the success codes', () => {
    expect(parseTargetGroupConfiguration(tgc({}))).toEqual({ ok: true, value: { defaultConfiguration: {}, routeConfigurations: [] } });
    expect(parseTargetGroupConfiguration(tgc({ defaultConfiguration: { protocolVersion: 'GRPC', healthCheckConfig: { matcher: { grpcCode: '0-99' } } } }))).toEqual({
      ok: true,
      value: { defaultConfiguration: { protocolVersion: 'GRPC', healthCheck: { successCodes: '0-99' } }, routeConfigurations: [] },
    });
  });

  it('reads routeConfigurations: each routeIdentifier (kind, and namespace and name where given) with its targetGroupProps', () => {
    expect(
      parseTargetGroupConfiguration(
        tgc({
          defaultConfiguration: { targetType: 'ip' },
          routeConfigurations: [
            { routeIdentifier: { kind: 'HTTPRoute', namespace: 'shop', name: 'admin' }, targetGroupProps: { targetType: 'ip', healthCheckConfig: { healthCheckPath: '/admin/health' }, targetGroupName: 'shop-admin' } },
            { routeIdentifier: { kind: 'GRPCRoute', namespace: 'shop' }, targetGroupProps: { protocolVersion: 'GRPC' } },
            { routeIdentifier: { kind: 'HTTPRoute' }, targetGroupProps: { tags: { route: 'any' } } },
          ],
        }),
      ),
    ).toEqual({
      ok: true,
      value: {
        defaultConfiguration: { targetType: 'ip' },
        routeConfigurations: [
          { routeIdentifier: { kind: 'HTTPRoute', namespace: 'shop', name: 'admin' }, props: { targetType: 'ip', healthCheck: { path: '/admin/health' }, targetGroupName: 'shop-admin' } },
          { routeIdentifier: { kind: 'GRPCRoute', namespace: 'shop' }, props: { protocolVersion: 'GRPC' } },
          { routeIdentifier: { kind: 'HTTPRoute' }, props: { tags: { route: 'any' } } },
        ],
      },
    });
  });

  it('refuses every field lbc does not implement by name, never drops it, saying why', () => {
    const r = parseTargetGroupConfiguration({
      spec: {
        targetReference: { kind: 'Gateway', group: 'gateway.networking.k8s.io', name: 'inner' },
        routeConfigurations: [{ routeIdentifier: { kind: 'HTTPRoute' }, targetGroupProps: { targetType: 'ip' } }],
        defaultConfiguration: { enableMultiCluster: true, ipAddressType: 'ipv6', protocol: 'TCP' },
      },
    });
    expect(r).toEqual({
      ok: false,
      errors: [
        'spec.targetReference: Gateway.gateway.networking.k8s.io is not implemented by lbc (a core Service is)',
        "spec.defaultConfiguration.protocol: TCP is not read by lbc: an ALB target group speaks HTTP or HTTPS, an NLB Gateway's target group takes its listener's protocol (TCP, UDP, TCP_UDP; TLS listeners forward as TCP)",
        'spec.defaultConfiguration.ipAddressType: ipv6 is not implemented by lbc, which builds IPv4 target groups only (ipv4 is)',
        "spec.defaultConfiguration.enableMultiCluster: not implemented by lbc: it deregisters every target of its groups that the Service does not have, so another cluster's targets would not stay",
        "spec.routeConfigurations[0].targetGroupProps.targetType: ip differs from defaultConfiguration's (unset); lbc registers one target type per Service backend, so set it in defaultConfiguration",
      ],
    });
  });

  it('refuses route identifiers ALBC could never match, bad target group names and label selector requirements the API server refuses', () => {
    const r = parseTargetGroupConfiguration(
      tgc({
        defaultConfiguration: { targetGroupName: '-web', targetControlPort: 70000, nodeSelector: { matchExpressions: [{ key: 'zone', operator: 'In' }, { key: 'spot', operator: 'Exists', values: ['x'] }, { key: 'k', operator: 'Gt', values: ['1'] }] } },
        routeConfigurations: [
          { routeIdentifier: { namespace: 'shop' }, targetGroupProps: {} },
          { routeIdentifier: { kind: 'Ingress' }, targetGroupProps: {} },
          { routeIdentifier: { kind: 'HTTPRoute', name: 'admin' }, targetGroupProps: { targetGroupName: 'a'.repeat(33) } },
        ],
      }),
    );
    expect(!r.ok && r.errors).toEqual([
      'spec.defaultConfiguration.nodeSelector.matchExpressions[0].values: operator In needs values',
      'spec.defaultConfiguration.nodeSelector.matchExpressions[1].values: operator Exists takes no values',
      'spec.defaultConfiguration.nodeSelector.matchExpressions[2].operator: Gt is not In, NotIn, Exists or DoesNotExist',
      'spec.defaultConfiguration.targetGroupName: -web is not a target group name (1-32 letters, digits and hyphens, not starting or ending with a hyphen)',
      'spec.defaultConfiguration.targetControlPort: 70000 is not a port',
      'spec.routeConfigurations[0].routeIdentifier.kind: required (HTTPRoute, GRPCRoute, TLSRoute, TCPRoute or UDPRoute)',
      'spec.routeConfigurations[1].routeIdentifier.kind: Ingress is not a route kind (HTTPRoute, GRPCRoute, TLSRoute, TCPRoute or UDPRoute)',
      'spec.routeConfigurations[2].routeIdentifier.name: needs namespace too: a route is identified by kind, namespace and name',
      `spec.routeConfigurations[2].targetGroupProps.targetGroupName: ${'a'.repeat(33)} is not a target group name (1-32 letters, digits and hyphens, not starting or ending with a hyphen)`,
    ]);
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

  it('a nodeSelector replaces the Gateway\'s target-node-labels (the target group applies it)', () => {
    const gw = gatewayOptions({ 'alb.ingress.kubernetes.io/target-node-labels': 'role=edge' });
    expect(gw.targetNodeLabels).toEqual({ role: 'edge' });
    expect(withTargetGroupConfiguration(gw, { nodeSelector: { matchLabels: { role: 'backend' } } }).targetNodeLabels).toBeUndefined();
    expect(withTargetGroupConfiguration(gw, { healthCheck: {} }).targetNodeLabels).toEqual({ role: 'edge' });
  });
});

describe('routeConfigurations: matched and merged as ALBC v3.5 (pkg/gateway/tg_config_constructor.go mergeWithLongestMatch, merge)', () => {
  const route = (kind: RouteKind, namespace: string, name: string) => ({ kind, namespace, name });
  const rc = (routeIdentifier: RouteConfiguration['routeIdentifier'], tag: string): RouteConfiguration => ({ routeIdentifier, props: { tags: { from: tag } } });
  const CONFIGS = [
    rc({ kind: 'HTTPRoute' }, 'kind'),
    rc({ kind: 'HTTPRoute' }, 'kind, second'),
    rc({ kind: 'HTTPRoute', namespace: 'shop' }, 'kind+namespace'),
    rc({ kind: 'HTTPRoute', namespace: 'shop', name: 'admin' }, 'kind+namespace+name'),
    rc({ kind: 'HTTPRoute', namespace: 'shop', name: 'admin' }, 'kind+namespace+name, second'),
    rc({ kind: 'GRPCRoute', namespace: 'other' }, 'grpc in other'),
  ];
  it.each([
    ['the complete kind:namespace:name, the first of two', route('HTTPRoute', 'shop', 'admin'), 'kind+namespace+name'],
    ['kind and namespace over kind alone, wherever it is listed', route('HTTPRoute', 'shop', 'web'), 'kind+namespace'],
    ['kind alone (the first) for another namespace: a namespace given that is not the route\'s never matches', route('HTTPRoute', 'blog', 'admin'), 'kind'],
    ['a GRPCRoute in another namespace than the one entry of its kind: none', route('GRPCRoute', 'shop', 'admin'), undefined],
    ['a GRPCRoute in its namespace', route('GRPCRoute', 'other', 'x'), 'grpc in other'],
  ])('%s', (_name, r, want) => {
    expect(matchRouteConfiguration(CONFIGS, r)?.props.tags?.from).toBe(want);
  });

  it('the matched props win field by field (healthCheckConfig as one block); tags and targetGroupAttributes merge key by key; the default stands alone when none matches', () => {
    const c: TargetGroupConfiguration = {
      defaultConfiguration: {
        targetType: 'ip',
        healthCheck: { path: '/healthz', intervalSeconds: 30 },
        targetGroupAttributes: { 'deregistration_delay.timeout_seconds': '30', 'stickiness.enabled': 'true' },
        tags: { team: 'shop', tier: 'web' },
        nodeSelector: { matchLabels: { pool: 'web' } },
      },
      routeConfigurations: [
        { routeIdentifier: { kind: 'HTTPRoute', namespace: 'shop', name: 'admin' }, props: { healthCheck: { path: '/admin/health' }, targetGroupAttributes: { 'deregistration_delay.timeout_seconds': '5' }, tags: { tier: 'admin' }, targetGroupName: 'shop-admin' } },
      ],
    };
    expect(targetGroupPropsForRoute(c, route('HTTPRoute', 'shop', 'admin'))).toEqual({
      route: 'HTTPRoute:shop:admin',
      options: {
        targetType: 'ip',
        healthCheck: { path: '/admin/health' },
        targetGroupAttributes: { 'deregistration_delay.timeout_seconds': '5', 'stickiness.enabled': 'true' },
        tags: { team: 'shop', tier: 'admin' },
        nodeSelector: { matchLabels: { pool: 'web' } },
        targetGroupName: 'shop-admin',
      },
    });
    expect(targetGroupPropsForRoute(c, route('HTTPRoute', 'shop', 'canary'))).toEqual({ options: c.defaultConfiguration });
    expect(mergeTargetGroupProps({ protocolVersion: 'HTTP2' }, {})).toEqual({ protocolVersion: 'HTTP2' });
  });
});

describe('an ALB Gateway whose backend Service has a TargetGroupConfiguration', () => {
  let fake: FakeAws;
  beforeEach(() => {
    fake = seededFake();
  });
  afterEach(() => fake.uninstall());

  /** The canary Gateway, web:80's target set carrying the parsed configuration, as the builder hands it over. */
  const configured = (defaultConfiguration: Record<string, unknown>): GatewaySpec<AwsLbOptions> => configuredBackend(gatewaySpec(), { defaultConfiguration });
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
    const spec = gatewaySpec({ rules: [httpRule(0, [prefix('/web')], [backend('shop/web:80')]), httpRule(0, [prefix('/pkg.Svc')], [backend('shop/web:80')], { route: 'g', grpc: true })] });
    await provider().ensure(configuredBackend(spec, { defaultConfiguration: { protocolVersion: 'GRPC' } }));
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

describe('an ALB Gateway: two HTTPRoutes to one Service, a routeConfigurations entry for one of them (ALBC builds a target group per route and backend)', () => {
  let fake: FakeAws;
  beforeEach(() => {
    fake = seededFake();
  });
  afterEach(() => fake.uninstall());

  const ADMIN = httpRule(0, [prefix('/admin')], [backend('shop/web:80')], { route: 'admin' });
  const ROUTE_CONFIG = {
    defaultConfiguration: { healthCheckConfig: { healthCheckPath: '/healthz' } },
    routeConfigurations: [{ routeIdentifier: { kind: 'HTTPRoute', namespace: 'shop', name: 'admin' }, targetGroupProps: { healthCheckConfig: { healthCheckPath: '/admin/health', healthCheckInterval: 10 }, tags: { tier: 'admin' } } }],
  };
  /** The canary and the admin route, web:80's target set carrying the parsed configuration. */
  const twoRoutes = (configuration: Record<string, unknown>, opts: { targets?: NodeTarget[] } = {}): GatewaySpec<AwsLbOptions> =>
    configuredBackend(gatewaySpec({ rules: [...canaryRules(), ADMIN], ...(opts.targets ? { targets: opts.targets } : {}) }), configuration);
  const groupsOf = (port: string) => [...fake.tgs.values()].filter((t) => String(t.port) === port);
  const keyOf = (arn: string): string | undefined => fake.tags.get(arn)?.['lbc.dev/resource'];
  /** What a healthCheckConfig leaves out: ALBC's Gateway defaults (model_build_target_group.go newTargetGroupBuilder; health-check.ts). */
  const ALB_DEFAULTS = { HealthCheckTimeoutSeconds: '5', HealthyThresholdCount: '3', UnhealthyThresholdCount: '3', 'Matcher.HttpCode': '200-399' };

  it('two target groups for web:80, each with its health check, named apart; the admin route forwards to its own, the canary to the default\'s', async () => {
    await provider().ensure(twoRoutes(ROUTE_CONFIG));
    const creates = fake.all('CreateTargetGroup').filter((r) => r.params.Port === '31080');
    expect(creates).toHaveLength(2);
    const [admin, shared] = [...creates].sort((a, b) => (a.params.HealthCheckPath ?? '').localeCompare(b.params.HealthCheckPath ?? '')).map((r) => r.params);
    const common = { Protocol: 'HTTP', Port: '31080', VpcId: 'vpc-1', HealthCheckProtocol: 'HTTP', HealthCheckPort: 'traffic-port', HealthCheckEnabled: 'true', TargetType: 'instance', ...ALB_DEFAULTS };
    const tags = (p: Record<string, string> | undefined) => Object.fromEntries(Object.entries(p ?? {}).filter(([k]) => k.startsWith('Tags.')));
    expect(admin).toEqual({ ...common, Name: expect.stringMatching(/^k8s-shop-edge-[0-9a-f]{10}$/), HealthCheckPath: '/admin/health', HealthCheckIntervalSeconds: '10', ...tags(admin) });
    expect(shared).toEqual({ ...common, Name: expect.stringMatching(/^k8s-shop-edge-[0-9a-f]{10}$/), HealthCheckPath: '/healthz', HealthCheckIntervalSeconds: '15', ...tags(shared) });
    expect(admin?.Name).not.toBe(shared?.Name);
    const byKey = new Map(groupsOf('31080').map((t) => [keyOf(t.arn), t]));
    expect([...byKey.keys()].sort()).toEqual(['shop/web:80', 'shop/web:80@HTTPRoute:shop:admin']);
    const adminArn = byKey.get('shop/web:80@HTTPRoute:shop:admin')?.arn ?? '';
    const sharedArn = byKey.get('shop/web:80')?.arn ?? '';
    expect(fake.tags.get(adminArn)).toMatchObject({ tier: 'admin' });
    expect(fake.tags.get(sharedArn)).not.toHaveProperty('tier');
    // Both registered with the nodes on web's node port.
    expect(fake.all('RegisterTargets').filter((r) => r.params.TargetGroupArn === adminArn || r.params.TargetGroupArn === sharedArn)).toHaveLength(2);
    const forwards = fake.all('CreateRule').map((r) => [r.params['Conditions.member.1.PathPatternConfig.Values.member.1'], r.params['Actions.member.1.TargetGroupArn']]);
    expect(forwards).toContainEqual(['/admin', adminArn]);
    expect(forwards).toContainEqual(['/*', sharedArn]);
  });

  it('an ensure again writes nothing; a changed route health check is one ModifyTargetGroup, on the route\'s group alone', async () => {
    await provider().ensure(twoRoutes(ROUTE_CONFIG));
    let before = fake.writes().length;
    await provider().ensure(twoRoutes(ROUTE_CONFIG));
    expect(fake.writes().slice(before)).toEqual([]);
    before = fake.writes().length;
    const changed = { ...ROUTE_CONFIG, routeConfigurations: [{ ...ROUTE_CONFIG.routeConfigurations[0], targetGroupProps: { healthCheckConfig: { healthCheckPath: '/admin/ready', healthCheckInterval: 10 }, tags: { tier: 'admin' } } }] };
    await provider().ensure(twoRoutes(changed));
    const writes = fake.writes().slice(before);
    const adminArn = groupsOf('31080').find((t) => keyOf(t.arn) === 'shop/web:80@HTTPRoute:shop:admin')?.arn;
    expect(writes.map((r) => [r.action, r.params.TargetGroupArn])).toEqual([['ModifyTargetGroup', adminArn]]);
    expect(writes[0]?.params).toMatchObject({ HealthCheckPath: '/admin/ready', HealthCheckIntervalSeconds: '10' });
  });

  it('the route configuration removed: its rule moves to the shared group, and its own group is deleted', async () => {
    await provider().ensure(twoRoutes(ROUTE_CONFIG));
    const adminArn = groupsOf('31080').find((t) => keyOf(t.arn) === 'shop/web:80@HTTPRoute:shop:admin')?.arn;
    const sharedArn = groupsOf('31080').find((t) => keyOf(t.arn) === 'shop/web:80')?.arn;
    const before = fake.writes().length;
    await provider().ensure(twoRoutes({ defaultConfiguration: ROUTE_CONFIG.defaultConfiguration }));
    const writes = fake.writes().slice(before);
    expect(writes.map((r) => r.action)).toEqual(['ModifyRule', 'DeleteTargetGroup']);
    expect(writes[0]?.params).toMatchObject({ 'Actions.member.1.TargetGroupArn': sharedArn });
    expect(writes[1]?.params).toEqual({ TargetGroupArn: adminArn });
  });

  it('nodeSelector matchExpressions: the route\'s group registers only the nodes it selects', async () => {
    const labelled = nodes('i-0aaa', 'i-0bbb', 'i-0ccc').map((n, i) => ({ ...n, labels: { zone: ['a', 'b', 'c'][i] ?? '', ...(i === 0 ? { spot: 'true' } : {}) } }));
    const config = { routeConfigurations: [{ routeIdentifier: { kind: 'HTTPRoute', namespace: 'shop' }, targetGroupProps: { nodeSelector: { matchExpressions: [{ key: 'zone', operator: 'In', values: ['a', 'b'] }, { key: 'spot', operator: 'DoesNotExist' }] } } }] };
    await provider().ensure(twoRoutes(config, { targets: labelled }));
    // Both routes are HTTPRoutes in shop: one group for web:80, of the route configuration.
    const [web] = groupsOf('31080');
    expect(groupsOf('31080').map((t) => keyOf(t.arn))).toEqual(['shop/web:80@HTTPRoute:shop:']);
    expect(fake.all('RegisterTargets').find((r) => r.params.TargetGroupArn === web?.arn)?.params).toEqual({ TargetGroupArn: web?.arn, 'Targets.member.1.Id': 'i-0bbb', 'Targets.member.1.Port': '31080' });
    // The other Services' groups keep every node.
    expect(fake.all('RegisterTargets').find((r) => r.params.TargetGroupArn === groupsOf('31081')[0]?.arn)?.params).toMatchObject({ 'Targets.member.3.Id': 'i-0ccc' });
  });
});

describe('an ALB Gateway: targetGroupName', () => {
  let fake: FakeAws;
  beforeEach(() => {
    fake = seededFake();
  });
  afterEach(() => fake.uninstall());

  const gatewayWith = (configuration: Record<string, unknown>, ref = GW_REF): GatewaySpec<AwsLbOptions> => ({
    ...configuredBackend(gatewaySpec({ rules: [...canaryRules(), httpRule(0, [prefix('/admin')], [backend('shop/web:80')], { route: 'admin' })] }), configuration),
    ref,
    tags: ownershipTags(CLUSTER, ref),
  });
  const ADMIN_ID = { kind: 'HTTPRoute', namespace: 'shop', name: 'admin' };

  it('names the group as the user says; the route configuration names its own', async () => {
    await provider().ensure(gatewayWith({ defaultConfiguration: { targetGroupName: 'shop-web' }, routeConfigurations: [{ routeIdentifier: ADMIN_ID, targetGroupProps: { targetGroupName: 'shop-web-admin' } }] }));
    expect(
      fake
        .all('CreateTargetGroup')
        .filter((r) => r.params.Port === '31080')
        .map((r) => r.params.Name)
        .sort(),
    ).toEqual(['shop-web', 'shop-web-admin']);
    // A named create reads the group's tags: ELBv2 answers a create like an existing group's with that group.
    for (const name of ['shop-web', 'shop-web-admin']) {
      const arn = [...fake.tgs.values()].find((t) => t.name === name)?.arn ?? '';
      const created = fake.requests.findIndex((r) => r.action === 'CreateTargetGroup' && r.params.Name === name);
      expect(fake.requests.slice(created).some((r) => r.action === 'DescribeTags' && Object.values(r.params).includes(arn)), name).toBe(true);
    }
  });

  it('one name for two groups (the route configuration inherits the default\'s name) is refused before any write', async () => {
    await expect(provider().ensure(gatewayWith({ defaultConfiguration: { targetGroupName: 'shop-web' }, routeConfigurations: [{ routeIdentifier: ADMIN_ID, targetGroupProps: { healthCheckConfig: { healthCheckPath: '/admin' } } }] }))).rejects.toThrow(
      'TargetGroupConfiguration shop/web-tg: targetGroupName shop-web would name two target groups (shop/web:80@HTTPRoute:shop:admin and shop/web:80); give each route configuration or protocol version its own name',
    );
    expect(fake.writes()).toEqual([]);
  });

  it('a name another Gateway\'s group already has is refused, though ELBv2 answers the create with that group; nothing is registered in it', async () => {
    const config = { defaultConfiguration: { targetGroupName: 'shop-web' } };
    await provider().ensure(gatewayWith(config));
    const theirs = [...fake.tgs.values()].find((t) => t.name === 'shop-web');
    const targetsBefore = theirs?.targets.size;
    const before = fake.writes().length;
    const other = { ...GW_REF, name: 'edge-2', uid: 'uid-gw-2' };
    await expect(provider().ensure(gatewayWith(config, other))).rejects.toThrow('target group shop-web exists but is not tagged for this load balancer; lbc leaves it alone (targetGroupName names a group of its own)');
    const writes = fake.writes().slice(before);
    expect(writes.filter((w) => w.params.TargetGroupArn === theirs?.arn)).toEqual([]);
    expect(theirs?.targets.size).toBe(targetsBefore);
    expect(fake.tags.get(theirs?.arn ?? '')).toMatchObject({ 'lbc.dev/owner-uid': 'uid-gw-1' });
  });

  it('a named group whose protocol would change is refused, not left as it was', async () => {
    await provider().ensure(gatewayWith({ defaultConfiguration: { targetGroupName: 'shop-web' } }));
    const before = fake.writes().length;
    await expect(provider().ensure(gatewayWith({ defaultConfiguration: { targetGroupName: 'shop-web', protocol: 'HTTPS' } }))).rejects.toThrow(
      'target group shop-web has protocol HTTP (wanted HTTPS), which cannot change in place, and the group keeps the name it was given: give it a new targetGroupName',
    );
    expect(fake.writes().slice(before)).toEqual([]);
  });
});

// ALBC applies a TargetGroupConfiguration to the target groups of an NLB Gateway too
// (pkg/gateway/model/model_build_target_group.go, its L4 path: buildL4TargetGroupProtocol,
// buildTargetGroupHealthCheckConfig, buildTargetGroupAttributes; tags and nodeSelector on
// the group and its binding; routeConfigurations by the route's kind, namespace and name).
describe('an NLB Gateway whose backend Service has a TargetGroupConfiguration (ALBC model_build_target_group.go, L4)', () => {
  let fake: FakeAws;
  beforeEach(() => {
    fake = seededFake();
  });
  afterEach(() => fake.uninstall());

  const nlbWith = (configuration: Record<string, unknown>, targets?: NodeTarget[]): GatewaySpec<AwsLbOptions> =>
    configuredBackend(nlbGatewaySpec(targets ? { targets } : {}), configuration, { set: 'shop/db:5432/TCP', service: 'db', name: 'db-tg' });
  const CONFIG = {
    healthCheckConfig: { healthCheckProtocol: 'HTTP', healthCheckPath: '/healthz', healthCheckPort: '8080', healthCheckInterval: 10, healthyThresholdCount: 5, matcher: { httpCode: '200-299' } },
    targetGroupAttributes: [{ key: 'deregistration_delay.timeout_seconds', value: '30' }],
    tags: { team: 'db' },
  };
  const withConfig = (over: Record<string, unknown> = {}): GatewaySpec<AwsLbOptions> => nlbWith({ defaultConfiguration: { ...CONFIG, ...over } });
  const dbArn = (): string => [...fake.tgs.values()][0]?.arn ?? '';

  it('CreateTargetGroup carries its HTTP health check (what it leaves out takes ALBC\'s Gateway defaults) and tags; ModifyTargetGroupAttributes its attributes', async () => {
    await provider().ensure(withConfig());
    const creates = fake.all('CreateTargetGroup');
    expect(creates).toHaveLength(1);
    const db = creates[0]?.params;
    expect(db).toEqual({
      Name: expect.stringMatching(/^k8s-shop-edge-[0-9a-f]{10}$/),
      Protocol: 'TCP',
      Port: '31432',
      VpcId: 'vpc-1',
      HealthCheckProtocol: 'HTTP',
      HealthCheckPort: '8080',
      HealthCheckEnabled: 'true',
      HealthCheckPath: '/healthz',
      HealthCheckIntervalSeconds: '10',
      HealthCheckTimeoutSeconds: '5',
      HealthyThresholdCount: '5',
      UnhealthyThresholdCount: '3',
      'Matcher.HttpCode': '200-299',
      TargetType: 'instance',
      ...Object.fromEntries(Object.entries(db ?? {}).filter(([k]) => k.startsWith('Tags.'))),
    });
    expect(fake.tags.get(dbArn())).toMatchObject({ team: 'db', 'lbc.dev/resource': 'shop/db:5432/TCP' });
    expect(fake.all('ModifyTargetGroupAttributes').map((r) => r.params)).toEqual([
      { TargetGroupArn: dbArn(), 'Attributes.member.1.Key': 'deregistration_delay.timeout_seconds', 'Attributes.member.1.Value': '30' },
    ]);
    // The load balancer keeps the Gateway's tags: the configuration's are the group's alone.
    expect(fake.all('CreateLoadBalancer')[0]?.params).not.toHaveProperty('Tags.member.1.Value', 'db');
    expect(Object.values(fake.tags.get([...fake.lbs.keys()][0] ?? '') ?? {})).not.toContain('db');
  });

  it('an ensure again with the same configuration writes nothing', async () => {
    await provider().ensure(withConfig());
    const before = fake.writes().length;
    await provider().ensure(withConfig());
    expect(fake.writes().slice(before)).toEqual([]);
  });

  it('a changed health check path is one ModifyTargetGroup, a changed attribute one ModifyTargetGroupAttributes, the group kept', async () => {
    await provider().ensure(withConfig());
    const before = fake.writes().length;
    await provider().ensure(withConfig({ healthCheckConfig: { ...CONFIG.healthCheckConfig, healthCheckPath: '/ready' }, targetGroupAttributes: [{ key: 'deregistration_delay.timeout_seconds', value: '10' }] }));
    const changed = fake.writes().slice(before);
    expect(changed.map((r) => r.action)).toEqual(['ModifyTargetGroup', 'ModifyTargetGroupAttributes']);
    expect(changed[0]?.params).toMatchObject({ TargetGroupArn: dbArn(), HealthCheckPath: '/ready' });
    expect(changed[1]?.params).toEqual({ TargetGroupArn: dbArn(), 'Attributes.member.1.Key': 'deregistration_delay.timeout_seconds', 'Attributes.member.1.Value': '10' });
    expect(fake.tgs.size).toBe(1);
  });

  it('targetType alone is served (the builder chose the target set\'s type by it)', async () => {
    await provider().ensure(nlbWith({ defaultConfiguration: { targetType: 'instance' } }));
    expect(fake.all('CreateTargetGroup').map((r) => [r.params.Protocol, r.params.TargetType])).toEqual([['TCP', 'instance']]);
  });

  it('nodeSelector: only the nodes it selects are registered', async () => {
    const [a, b] = nodes('i-0aaa', 'i-0bbb');
    const labelled = [{ ...(a as NodeTarget), labels: { pool: 'db' } }, { ...(b as NodeTarget), labels: { pool: 'web' } }];
    await provider().ensure(nlbWith({ defaultConfiguration: { nodeSelector: { matchLabels: { pool: 'db' } } } }, labelled));
    expect(fake.all('RegisterTargets').map((r) => r.params)).toEqual([{ TargetGroupArn: dbArn(), 'Targets.member.1.Id': 'i-0aaa', 'Targets.member.1.Port': '31432' }]);
  });

  it('a routeConfigurations entry for the TCPRoute gives its backend a group of its own, with the merged settings', async () => {
    await provider().ensure(
      nlbWith({
        defaultConfiguration: { healthCheckConfig: { healthCheckInterval: 20 } },
        routeConfigurations: [{ routeIdentifier: { kind: 'TCPRoute', namespace: 'shop', name: 'db' }, targetGroupProps: { healthCheckConfig: { healthCheckInterval: 30 }, tags: { route: 'db' } } }],
      }),
    );
    expect(fake.all('CreateTargetGroup').map((r) => [r.params.HealthCheckProtocol, r.params.HealthCheckIntervalSeconds])).toEqual([['TCP', '30']]);
    expect(fake.tags.get(dbArn())).toMatchObject({ route: 'db', 'lbc.dev/resource': 'shop/db:5432/TCP@TCPRoute:shop:db' });
  });

  it('a matcher or path on a TCP health check is refused before any write (ELBv2: not supported for TCP health checks)', async () => {
    await expect(provider().ensure(nlbWith({ defaultConfiguration: { healthCheckConfig: { healthCheckPath: '/healthz', matcher: { httpCode: '200' } } } }))).rejects.toThrow(
      'TargetGroupConfiguration shop/db-tg: healthCheckConfig.matcher and healthCheckPath need healthCheckProtocol HTTP or HTTPS: the target group of shop/db:5432/TCP is checked over TCP, which has no path or status codes',
    );
    expect(fake.writes()).toEqual([]);
  });

  it('what only an ALB target group has (protocol HTTP, protocolVersion, targetControlPort) is refused before any write, by the CRD\'s names', async () => {
    await expect(provider().ensure(nlbWith({ defaultConfiguration: { protocol: 'HTTP', protocolVersion: 'HTTP2', targetControlPort: 9000 } }))).rejects.toThrow(
      "TargetGroupConfiguration shop/db-tg: protocol HTTP (an Application Load Balancer's; lbc infers TCP or UDP from the route), protocolVersion HTTP2 (an NLB target group has none), targetControlPort (the ALB target optimizer's) not applicable to the target groups of a Gateway of TCP, UDP or TLS listeners (a Network Load Balancer); lbc will not serve its backend without them",
    );
    expect(fake.writes()).toEqual([]);
  });
});

describe('the fake ELBv2 refuses target group health checks as ELBv2 does (API_CreateTargetGroup, API_ModifyTargetGroup)', () => {
  let fake: FakeAws;
  beforeEach(() => {
    fake = seededFake();
  });
  afterEach(() => fake.uninstall());

  it('a matcher or path on a TCP check (InvalidConfigurationRequest), a threshold above 10 or an interval under 5 (ValidationError)', async () => {
    const p = provider();
    await p.ensure(nlbGatewaySpec());
    const arn = [...fake.tgs.keys()][0] ?? '';
    const tcpGroup = { Name: 'tcp-check', Protocol: 'TCP' as const, Port: 5432, VpcId: 'vpc-1', TargetType: 'instance' as const };
    await expect(p.api.elbv2Client.send(new CreateTargetGroupCommand({ ...tcpGroup, Matcher: { HttpCode: '200' } }))).rejects.toMatchObject({ name: 'InvalidConfigurationRequestException', message: 'Health check matchers are not supported for TCP health checks' });
    await expect(p.api.elbv2Client.send(new ModifyTargetGroupCommand({ TargetGroupArn: arn, HealthCheckPath: '/healthz' }))).rejects.toMatchObject({ name: 'InvalidConfigurationRequestException', message: 'Health check paths are not supported for TCP health checks' });
    await expect(p.api.elbv2Client.send(new ModifyTargetGroupCommand({ TargetGroupArn: arn, HealthyThresholdCount: 11 }))).rejects.toMatchObject({
      name: 'ValidationError',
      message: "1 validation error detected: Value '11' at 'healthyThresholdCount' failed to satisfy constraint: Member must have value less than or equal to 10",
    });
    await expect(p.api.elbv2Client.send(new CreateTargetGroupCommand({ ...tcpGroup, HealthCheckIntervalSeconds: 4 }))).rejects.toMatchObject({
      name: 'ValidationError',
      message: "1 validation error detected: Value '4' at 'healthCheckIntervalSeconds' failed to satisfy constraint: Member must have value greater than or equal to 5",
    });
    // An HTTP check on a TCP group takes both.
    await expect(p.api.elbv2Client.send(new ModifyTargetGroupCommand({ TargetGroupArn: arn, HealthCheckProtocol: 'HTTP', HealthCheckPath: '/healthz', Matcher: { HttpCode: '200' } }))).resolves.toBeDefined();
  });
});

describe('an ALB Gateway: targetControlPort (the target optimizer\'s control port, fixed at creation; ALBC buildTargetControlPort)', () => {
  let fake: FakeAws;
  beforeEach(() => {
    fake = seededFake();
  });
  afterEach(() => fake.uninstall());

  /** web:80 with ip targets (a pod on 8080), configured. */
  const ipWeb = (defaultConfiguration: Record<string, unknown>, type: 'ip' | 'instance' = 'ip'): GatewaySpec<AwsLbOptions> => {
    const spec = configuredBackend(gatewaySpec(), { defaultConfiguration });
    if (type === 'instance') return spec;
    return {
      ...spec,
      targetSets: spec.targetSets.map((ts): TargetSet => {
        if (ts.name !== 'shop/web:80') return ts;
        const { name, protocol, healthCheck, healthCheckDefaulted, backend: origin, parameters } = ts;
        return { name, protocol, healthCheck, ...(healthCheckDefaulted ? { healthCheckDefaulted } : {}), ...(parameters ? { parameters } : {}), backend: origin, type: 'ip', port: 8080, targets: [{ ip: '10.0.1.5', port: 8080 }] };
      }),
    };
  };
  const webCreate = () => fake.all('CreateTargetGroup').find((r) => r.params.Port === '8080')?.params;

  it('CreateTargetGroup carries TargetControlPort; a resync writes nothing', async () => {
    await provider().ensure(ipWeb({ targetType: 'ip', targetControlPort: 9000 }));
    expect(webCreate()).toMatchObject({ Port: '8080', TargetType: 'ip', TargetControlPort: '9000' });
    expect(fake.all('CreateTargetGroup').filter((r) => r.params.TargetControlPort !== undefined)).toHaveLength(1);
    const before = fake.writes().length;
    await provider().ensure(ipWeb({ targetType: 'ip', targetControlPort: 9000 }));
    expect(fake.writes().slice(before)).toEqual([]);
  });

  it('a changed port replaces the group: a new one (new name) is created, the rule moved, the old one deleted', async () => {
    await provider().ensure(ipWeb({ targetType: 'ip', targetControlPort: 9000 }));
    const old = [...fake.tgs.values()].find((t) => t.port === 8080);
    const before = fake.writes().length;
    await provider().ensure(ipWeb({ targetType: 'ip', targetControlPort: 9001 }));
    const writes = fake.writes().slice(before);
    expect(writes.map((w) => w.action)).toEqual(['CreateTargetGroup', 'RegisterTargets', 'ModifyRule', 'DeleteTargetGroup']);
    expect(writes[0]?.params).toMatchObject({ TargetControlPort: '9001' });
    expect(writes[0]?.params.Name).not.toBe(old?.name);
    expect(writes[3]?.params).toEqual({ TargetGroupArn: old?.arn });
  });

  it('with instance targets it is refused before any write, as ALBC refuses it', async () => {
    await expect(provider().ensure(ipWeb({ targetControlPort: 9000 }, 'instance'))).rejects.toThrow('target set shop/web:80: targetControlPort needs ip targets (as aws-load-balancer-controller); its target type is instance');
    expect(fake.writes()).toEqual([]);
  });
});
