// A Gateway on AWS through the real SDK clients against the fake: the ALB's listeners from
// the Gateway's ports, HTTPRoute rules as listener rules in precedence order, weighted
// forwards, redirects and URL rewrites (ELBv2 rule transforms), with the exact requests
// of create, update (a weight change is one ModifyRule), no-op (no write) and delete.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ProviderError } from '../../../src/providers/types.js';
import type { FakeAws } from './fake-aws.js';
import { backend, canaryRules, gatewaySpec, GW_REF, httpRule, prefix } from './gateway-support.js';
import { CLUSTER, provider, seededFake } from './support.js';

let fake: FakeAws;
beforeEach(() => {
  fake = seededFake();
});
afterEach(() => fake.uninstall());

const writes = (): string[] => fake.writes().map((r) => r.action);
const tgArnByPort = (port: string): string => [...fake.tgs.values()].find((t) => String(t.port) === port)?.arn ?? '';

describe('ALB Gateway create', () => {
  it('one HTTP listener with a 404 default, one rule per match in precedence order, a weighted forward for the canary', async () => {
    const status = await provider().ensure(gatewaySpec());
    expect(writes()).toEqual([
      'CreateSecurityGroup',
      'AuthorizeSecurityGroupIngress',
      'CreateTargetGroup',
      'CreateTargetGroup',
      'CreateTargetGroup',
      'RegisterTargets',
      'RegisterTargets',
      'RegisterTargets',
      'CreateLoadBalancer',
      'CreateListener',
      'CreateRule',
      'CreateRule',
    ]);
    expect(fake.last('CreateLoadBalancer')?.params).toMatchObject({ Type: 'application', Scheme: 'internet-facing' });
    expect(fake.last('CreateListener')?.params).toMatchObject({
      Port: '80',
      Protocol: 'HTTP',
      'DefaultActions.member.1.Type': 'fixed-response',
      'DefaultActions.member.1.FixedResponseConfig.StatusCode': '404',
    });
    const [api, web] = fake.all('CreateRule').map((r) => r.params);
    // /api is the longer prefix: it comes first whatever the rule order in the route.
    expect(api).toEqual({
      ListenerArn: expect.any(String),
      Priority: '1',
      'Conditions.member.1.Field': 'path-pattern',
      'Conditions.member.1.PathPatternConfig.Values.member.1': '/api',
      'Conditions.member.1.PathPatternConfig.Values.member.2': '/api/*',
      'Actions.member.1.Type': 'forward',
      'Actions.member.1.ForwardConfig.TargetGroups.member.1.TargetGroupArn': tgArnByPort('31081'),
      'Actions.member.1.ForwardConfig.TargetGroups.member.1.Weight': '90',
      'Actions.member.1.ForwardConfig.TargetGroups.member.2.TargetGroupArn': tgArnByPort('31082'),
      'Actions.member.1.ForwardConfig.TargetGroups.member.2.Weight': '10',
      ...Object.fromEntries(Object.entries(api ?? {}).filter(([k]) => k.startsWith('Tags.'))),
    });
    expect(web).toMatchObject({ Priority: '2', 'Conditions.member.1.PathPatternConfig.Values.member.1': '/*', 'Actions.member.1.TargetGroupArn': tgArnByPort('31080') });
    expect(status.ingress).toEqual([{ hostname: expect.stringMatching(/^k8s-shop-edge-[0-9a-f]{10}-/), ports: [{ port: 80, protocol: 'TCP' }] }]);
    const lbTags = fake.tags.get([...fake.lbs.keys()][0] ?? '') ?? {};
    // aws-load-balancer-controller's ALB Gateway tags (pkg/gateway/constants ALBGatewayTagPrefix) next to lbc's.
    expect(lbTags).toMatchObject({ 'gateway.k8s.aws.alb/stack': 'shop/edge', 'gateway.k8s.aws.alb/resource': 'LoadBalancer', 'lbc.dev/owner-uid': 'uid-gw-1' });
  });

  it('header, query-string and method conditions; RegularExpression path and header matches as RegexValues', async () => {
    const match = {
      path: { type: 'RegularExpression' as const, value: '/v[0-9]+/items' },
      headers: [
        { type: 'Exact' as const, name: 'x-canary', value: 'always' },
        { type: 'RegularExpression' as const, name: 'x-team', value: 'pay(ments)?' },
      ],
      queryParams: [{ type: 'Exact' as const, name: 'debug', value: 'a*b' }],
      method: 'POST',
    };
    await provider().ensure(gatewaySpec({ rules: [httpRule(0, [match], [backend('shop/api:8080')])] }));
    expect(fake.last('CreateRule')?.params).toMatchObject({
      'Conditions.member.1.Field': 'path-pattern',
      'Conditions.member.1.RegexValues.member.1': '/v[0-9]+/items',
      'Conditions.member.2.Field': 'http-header',
      'Conditions.member.2.HttpHeaderConfig.HttpHeaderName': 'x-canary',
      'Conditions.member.2.HttpHeaderConfig.Values.member.1': 'always',
      'Conditions.member.3.Field': 'http-header',
      'Conditions.member.3.HttpHeaderConfig.HttpHeaderName': 'x-team',
      'Conditions.member.3.RegexValues.member.1': 'pay(ments)?',
      'Conditions.member.4.Field': 'query-string',
      'Conditions.member.4.QueryStringConfig.Values.member.1.Key': 'debug',
      // A literal * is escaped: ALB reads it as a wildcard otherwise.
      'Conditions.member.4.QueryStringConfig.Values.member.1.Value': 'a\\*b',
      'Conditions.member.5.Field': 'http-request-method',
      'Conditions.member.5.HttpRequestMethodConfig.Values.member.1': 'POST',
    });
    fake.resetLog();
    await provider().ensure(gatewaySpec({ rules: [httpRule(0, [match], [backend('shop/api:8080')])] }));
    expect(writes()).toEqual([]);
  });

  it('RequestRedirect → redirect action with the scheme’s well-known port; URLRewrite → host and URL rewrite transforms', async () => {
    const rules = [
      httpRule(0, [prefix('/old')], [], { filters: [{ type: 'RequestRedirect', scheme: 'https', statusCode: 301 }] }),
      httpRule(1, [prefix('/shop')], [backend('shop/web:80')], { filters: [{ type: 'URLRewrite', hostname: 'internal.example.com', path: { type: 'ReplacePrefixMatch', value: '/store' } }] }),
      httpRule(2, [{ path: { type: 'Exact', value: '/health' }, headers: [], queryParams: [] }], [backend('shop/web:80')], {
        filters: [{ type: 'URLRewrite', path: { type: 'ReplaceFullPath', value: '/healthz' } }],
      }),
    ];
    await provider().ensure(gatewaySpec({ rules }));
    const [health, shop, old] = fake.all('CreateRule').map((r) => r.params);
    expect(health).toMatchObject({
      Priority: '1',
      'Transforms.member.1.Type': 'url-rewrite',
      'Transforms.member.1.UrlRewriteConfig.Rewrites.member.1.Regex': '^([^?]*)',
      'Transforms.member.1.UrlRewriteConfig.Rewrites.member.1.Replace': '/healthz',
    });
    expect(shop).toMatchObject({
      Priority: '2',
      'Transforms.member.1.Type': 'host-header-rewrite',
      'Transforms.member.1.HostHeaderRewriteConfig.Rewrites.member.1.Regex': '.*',
      'Transforms.member.1.HostHeaderRewriteConfig.Rewrites.member.1.Replace': 'internal.example.com',
      'Transforms.member.2.Type': 'url-rewrite',
      'Transforms.member.2.UrlRewriteConfig.Rewrites.member.1.Regex': '^/shop(/?)',
      'Transforms.member.2.UrlRewriteConfig.Rewrites.member.1.Replace': '/store$1',
    });
    expect(old).toMatchObject({
      Priority: '3',
      'Actions.member.1.Type': 'redirect',
      'Actions.member.1.RedirectConfig.Protocol': 'HTTPS',
      'Actions.member.1.RedirectConfig.Port': '443',
      'Actions.member.1.RedirectConfig.StatusCode': 'HTTP_301',
    });
    fake.resetLog();
    await provider().ensure(gatewaySpec({ rules }));
    expect(writes()).toEqual([]);
    // The rewrite dropped: the rule's transforms are reset in the same ModifyRule.
    await provider().ensure(gatewaySpec({ rules: [rules[0], httpRule(1, [prefix('/shop')], [backend('shop/web:80')]), rules[2]].flatMap((r) => (r ? [r] : [])) }));
    expect(writes()).toEqual(['ModifyRule']);
    expect(fake.last('ModifyRule')?.params).toMatchObject({ ResetTransforms: 'true' });
    expect(fake.last('ModifyRule')?.params['Transforms.member.1.Type']).toBeUndefined();
  });

  it('a rule whose backends all fail to resolve answers 500; one that resolves partly forwards to the resolved ones and says so', async () => {
    const p = provider();
    const status = await p.ensure(gatewaySpec({ rules: [httpRule(0, [prefix('/gone')], [backend(undefined)]), httpRule(1, [prefix('/half')], [backend('shop/web:80', 1), backend(undefined, 1)])] }));
    const [gone, half] = fake.all('CreateRule').map((r) => r.params);
    expect(half).toMatchObject({ 'Actions.member.1.Type': 'forward', 'Actions.member.1.TargetGroupArn': tgArnByPort('31080') });
    expect(gone).toMatchObject({ 'Actions.member.1.Type': 'fixed-response', 'Actions.member.1.FixedResponseConfig.StatusCode': '500' });
    expect(status.notices?.map((n) => n.message)).toContainEqual(expect.stringContaining('HTTPRoute shop/canary spec.rules[1]: ALB cannot answer part of a rule'));
  });

  it('listeners sharing a port keep their routes apart: the more specific one first, then a 404 for its host', async () => {
    const listeners = [
      { name: 'any', rules: [httpRule(0, [prefix('/')], [backend('shop/web:80')], { route: 'catch-all' })] },
      { name: 'api', hostname: 'api.example.com', rules: [httpRule(0, [prefix('/v1')], [backend('shop/api:8080')], { route: 'api' })] },
    ];
    await provider().ensure(gatewaySpec({ listeners }));
    const rules = fake.all('CreateRule').map((r) => [r.params['Priority'], r.params['Conditions.member.1.HostHeaderConfig.Values.member.1'], r.params['Actions.member.1.Type'], r.params['Actions.member.1.FixedResponseConfig.StatusCode']]);
    expect(rules).toEqual([
      ['1', 'api.example.com', 'forward', undefined],
      ['2', 'api.example.com', 'fixed-response', '404'],
      ['3', undefined, 'forward', undefined],
    ]);
  });

  it('GRPCRoute backends get a target group of protocol version GRPC', async () => {
    await provider().ensure(gatewaySpec({ rules: [httpRule(0, [{ path: { type: 'Exact', value: '/shop.Cart/Add' }, headers: [], queryParams: [] }], [backend('shop/api:8080')], { grpc: true })] }));
    expect(fake.last('CreateTargetGroup')?.params).toMatchObject({ ProtocolVersion: 'GRPC', HealthCheckPath: '/AWS.ALB/healthcheck', 'Matcher.GrpcCode': '12' });
  });
});

describe('ALB Gateway refusals, with the route and rule named', () => {
  const refused = async (rules: Parameters<typeof gatewaySpec>[0], message: RegExp): Promise<void> => {
    const err = (await provider()
      .ensure(gatewaySpec(rules))
      .catch((e: unknown) => e)) as ProviderError;
    expect(err.kind).toBe('invalid');
    expect(err.message).toMatch(message);
    expect(writes()).toEqual([]);
  };

  it('RequestHeaderModifier (core, but ALB rules cannot change headers)', () =>
    refused({ rules: [httpRule(0, [prefix('/')], [backend('shop/web:80')], { filters: [{ type: 'RequestHeaderModifier', set: [{ name: 'x', value: '1' }], add: [], remove: [] }] })] }, /HTTPRoute shop\/canary spec\.rules\[0\]: RequestHeaderModifier/));

  it('a 307 redirect (ELBv2 redirects with 301 and 302 only)', () =>
    refused({ rules: [httpRule(0, [prefix('/')], [], { filters: [{ type: 'RequestRedirect', hostname: 'example.org', statusCode: 307 }] })] }, /statusCode 307: ALB redirects with 301 or 302 only/));

  it('a regular expression query parameter match', () =>
    refused({ rules: [httpRule(0, [prefix('/', { queryParams: [{ type: 'RegularExpression', name: 'q', value: 'a.*' }] })], [backend('shop/web:80')])] }, /query parameter q/));

  it('Ingress-only annotations on the Gateway', () => refused({ annotations: { 'alb.ingress.kubernetes.io/listen-ports': '[{"HTTP": 8080}]' } }, /listen-ports does not apply to a Gateway/));
});

describe('ALB Gateway update and delete', () => {
  it('no change: no write; a canary weight change: exactly one ModifyRule with the new weights', async () => {
    const p = provider();
    await p.ensure(gatewaySpec());
    fake.resetLog();
    await p.ensure(gatewaySpec());
    expect(writes()).toEqual([]);
    expect(await p.plan(gatewaySpec())).toEqual([]);
    await p.ensure(gatewaySpec({ rules: canaryRules([80, 20]) }));
    expect(writes()).toEqual(['ModifyRule']);
    expect(fake.last('ModifyRule')?.params).toMatchObject({
      'Actions.member.1.ForwardConfig.TargetGroups.member.1.TargetGroupArn': tgArnByPort('31081'),
      'Actions.member.1.ForwardConfig.TargetGroups.member.1.Weight': '80',
      'Actions.member.1.ForwardConfig.TargetGroups.member.2.Weight': '20',
    });
    expect(fake.last('ModifyRule')?.params['ResetTransforms']).toBeUndefined();
  });

  it('Gateway API weights above ELBv2’s 999 are scaled, in proportion', async () => {
    await provider().ensure(gatewaySpec({ rules: canaryRules([9000, 1000]) }));
    expect(fake.all('CreateRule')[0]?.params).toMatchObject({ 'Actions.member.1.ForwardConfig.TargetGroups.member.1.Weight': '999', 'Actions.member.1.ForwardConfig.TargetGroups.member.2.Weight': '111' });
  });

  it('delete removes the load balancer, its target groups and security group', async () => {
    const p = provider();
    await p.ensure(gatewaySpec());
    fake.resetLog();
    await p.delete(GW_REF);
    expect(writes()).toEqual(['DeleteLoadBalancer', 'DeleteTargetGroup', 'DeleteTargetGroup', 'DeleteTargetGroup', 'DeleteSecurityGroup']);
    expect(fake.taggedFor(CLUSTER)).toEqual([]);
    expect(fake.listeners.size + fake.rules.size).toBe(0);
  });
});

describe('ALB Gateway HTTPS', () => {
  it('certificates discovered in ACM by listener hostname; the certificateRefs Secrets are said not to be used', async () => {
    const cert = fake.addCertificate({ id: 'shop', domain: 'shop.example.com' });
    const https = [{ name: 'https', hostname: 'shop.example.com', rules: [httpRule(0, [prefix('/')], [backend('shop/web:80')], { route: 'secure' })] }];
    const spec = gatewaySpec({ https });
    const port = spec.ports[1];
    if (port?.protocol !== 'HTTPS') throw new Error('HTTPS port expected');
    const withSecret = {
      ...spec,
      ports: [spec.ports[0], { ...port, listeners: port.listeners.map((l) => ({ ...l, certificates: [{ source: 'secret' as const, secretRef: { namespace: 'shop', name: 'tls' }, hosts: ['shop.example.com'], certPem: 'c', keyPem: 'k' }] })) }].flatMap((p) => (p ? [p] : [])),
    };
    const status = await provider().ensure(withSecret);
    const listener = fake.all('CreateListener').find((r) => r.params['Port'] === '443')?.params;
    expect(listener).toMatchObject({ Protocol: 'HTTPS', 'Certificates.member.1.CertificateArn': cert });
    // As ALBC (docs/guide/gateway/l7gateway.md: ListenerTLSConfig CertificateRefs "❌ -- Use LB Config"): the field, and where certificates come from instead.
    expect(status.notices?.map((n) => n.message)).toContainEqual(
      expect.stringMatching(/^listener https: tls\.certificateRefs are not used: .*listenerConfigurations \(protocolPort HTTPS:443, defaultCertificate and certificates\).*discover them in ACM by the listener's hostname$/),
    );
  });

  it('no certificate-arn, no ISSUED certificate for the hostname: refused, nothing created', async () => {
    const err = (await provider()
      .ensure(gatewaySpec({ https: [{ name: 'https', hostname: 'nowhere.example.com', rules: [] }] }))
      .catch((e: unknown) => e)) as ProviderError;
    expect(err.message).toMatch(/no ISSUED ACM certificate covers nowhere\.example\.com/);
    expect(writes()).toEqual([]);
  });
});
