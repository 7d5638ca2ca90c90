// ALBC's ListenerRuleConfiguration (gateway.k8s.aws/v1; aws-load-balancer-controller v3.5
// docs/guide/gateway/listenerruleconfig.md, pkg/gateway/model/model_build_listener.go
// buildListenerRules, routeutils route_rule_action.go and route_rule_condition.go) named by a
// route rule's ExtensionRef filter: what the aws provider reads of it, what it refuses by
// field name, and the exact CreateRule / ModifyRule requests of the rules it configures.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { HttpFilter, HttpGatewayListener } from '../../../src/model/gateway.js';
import { TAG_OIDC_CLIENTS } from '../../../src/providers/aws/authentication.js';
import { LISTENER_RULE_CONFIGURATION, parseListenerRuleConfiguration } from '../../../src/providers/aws/listener-rule-configuration.js';
import type { ProviderError } from '../../../src/providers/types.js';
import type { FakeAws } from './fake-aws.js';
import { backend, gatewaySpec, httpRule, prefix } from './gateway-support.js';
import { provider, seededFake } from './support.js';

const lrc = (spec: Record<string, unknown>): unknown => ({ apiVersion: 'gateway.k8s.aws/v1', kind: 'ListenerRuleConfiguration', metadata: { name: 'guard', namespace: 'shop' }, spec });
const COGNITO = { userPoolArn: 'arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_abc', userPoolClientId: 'cid', userPoolDomain: 'auth.example.com' };
const OIDC = { issuer: 'https://idp.example.com', authorizationEndpoint: 'https://idp.example.com/authorize', tokenEndpoint: 'https://idp.example.com/token', userInfoEndpoint: 'https://idp.example.com/userinfo', secret: { name: 'oidc-client' } };

describe('parseListenerRuleConfiguration (listenerruleconfig.md)', () => {
  it('authenticate-cognito with the CRD defaults, a fixed response, source-ip conditions with and without matchIndexes', () => {
    expect(
      parseListenerRuleConfiguration(
        lrc({
          actions: [{ type: 'authenticate-cognito', authenticateCognitoConfig: { ...COGNITO, authenticationRequestExtraParams: { display: 'page' } } }, { type: 'fixed-response', fixedResponseConfig: { statusCode: 404, messageBody: 'gone' } }],
          conditions: [{ field: 'source-ip', sourceIPConfig: { values: ['10.0.0.0/8'] }, matchIndexes: [1] }, { field: 'source-ip', sourceIPConfig: { values: ['192.168.0.0/16', '172.16.0.0/12'] } }],
        }),
      ),
    ).toEqual({
      ok: true,
      value: {
        auth: { type: 'cognito', scope: 'openid', sessionCookieName: 'AWSELBAuthSessionCookie', sessionTimeout: 604800, onUnauthenticatedRequest: 'authenticate', extraParams: { display: 'page' }, userPoolArn: COGNITO.userPoolArn, userPoolClientId: 'cid', userPoolDomain: 'auth.example.com' },
        fixedResponse: { type: 'fixed-response', statusCode: '404', contentType: 'text/plain', messageBody: 'gone' },
        sourceIp: [{ values: ['10.0.0.0/8'], matchIndexes: [1] }, { values: ['172.16.0.0/12', '192.168.0.0/16'] }],
      },
    });
  });

  it('authenticate-oidc names its Secret (the provider asks the controller to read it); forward stickiness; a redirect query defaulting to #{query}', () => {
    expect(parseListenerRuleConfiguration(lrc({ actions: [{ type: 'authenticate-oidc', authenticateOIDCConfig: { ...OIDC, onUnauthenticatedRequest: 'deny', sessionTimeout: 3600 } }] }))).toEqual({
      ok: true,
      value: { auth: { type: 'oidc', scope: 'openid', sessionCookieName: 'AWSELBAuthSessionCookie', sessionTimeout: 3600, onUnauthenticatedRequest: 'deny', issuer: OIDC.issuer, authorizationEndpoint: OIDC.authorizationEndpoint, tokenEndpoint: OIDC.tokenEndpoint, userInfoEndpoint: OIDC.userInfoEndpoint, secretName: 'oidc-client' }, sourceIp: [] },
    });
    expect(provider().parseGatewayParameters(LISTENER_RULE_CONFIGURATION, lrc({ actions: [{ type: 'authenticate-oidc', authenticateOIDCConfig: OIDC }] }))).toMatchObject({ ok: true, secrets: ['oidc-client'] });
    expect(parseListenerRuleConfiguration(lrc({ actions: [{ type: 'forward', forwardConfig: { targetGroupStickinessConfig: { enabled: true } } }] }))).toEqual({ ok: true, value: { stickinessSeconds: 3600, sourceIp: [] } });
    expect(parseListenerRuleConfiguration(lrc({ actions: [{ type: 'redirect', redirectConfig: {} }] }))).toEqual({ ok: true, value: { redirectQuery: '#{query}', sourceIp: [] } });
  });

  it('refuses what lbc does not implement by name: jwt-validation, useExistingClientSecret, tags, a condition field other than source-ip', () => {
    expect(
      parseListenerRuleConfiguration(
        lrc({
          actions: [{ type: 'jwt-validation', jwtValidationConfig: { issuer: 'https://idp.example.com', jwksEndpoint: 'https://idp.example.com/jwks' } }],
          conditions: [{ field: 'host-header', hostHeaderConfig: { values: ['a.example.com'] } }],
          tags: { team: 'shop' },
        }),
      ),
    ).toEqual({
      ok: false,
      errors: [
        "spec.tags: not implemented by lbc (its listener rules carry the load balancer's tags)",
        'spec.actions[0]: jwt-validation is not implemented by lbc, which will not serve the route without it',
        'spec.conditions[0].field: host-header is not source-ip',
      ],
    });
    expect(parseListenerRuleConfiguration(lrc({ actions: [{ type: 'authenticate-oidc', authenticateOIDCConfig: { ...OIDC, useExistingClientSecret: true } }] }))).toEqual({
      ok: false,
      errors: ['spec.actions[0].authenticateOIDCConfig.useExistingClientSecret: not implemented by lbc (it sends the client secret from secret.name)'],
    });
  });

  it('refuses malformed values with the field and what is expected', () => {
    const r = parseListenerRuleConfiguration(
      lrc({ actions: [{ type: 'authenticate-cognito', authenticateCognitoConfig: { ...COGNITO, userPoolArn: 'pool' } }, { type: 'fixed-response', fixedResponseConfig: { statusCode: 302 } }], conditions: [{ field: 'source-ip', sourceIPConfig: { values: ['10.0.0.1'] } }] }),
    );
    expect(!r.ok && r.errors).toEqual([
      'spec.actions[0].authenticateCognitoConfig.userPoolArn: pool is not a Cognito user pool ARN (arn:aws:cognito-idp:...)',
      'spec.actions[1].fixedResponseConfig.statusCode: 302 is not 2XX, 4XX or 5XX',
      'spec.conditions[0].sourceIPConfig.values: a non-empty list of CIDRs',
    ]);
  });
});

describe('ALB rules of a route rule with a ListenerRuleConfiguration (model_build_listener.go buildListenerRules)', () => {
  let fake: FakeAws;
  beforeEach(() => {
    fake = seededFake();
    fake.addCertificate({ id: 'shop', domain: 'shop.example.com' });
  });
  afterEach(() => fake.uninstall());

  const extension = (spec: Record<string, unknown>, secrets: Record<string, Record<string, string>> = {}): HttpFilter => {
    const parsed = parseListenerRuleConfiguration(lrc(spec));
    if (!parsed.ok) throw new Error(parsed.errors.join('; '));
    return { type: 'Extension', parameters: { ...LISTENER_RULE_CONFIGURATION, namespace: 'shop', name: 'guard', value: parsed.value }, secrets };
  };
  /** An HTTPS listener for shop.example.com whose one route rule (two matches) has the filters given. */
  const secured = (filters: HttpFilter[]): HttpGatewayListener[] => [
    { name: 'https', hostname: 'shop.example.com', rules: [httpRule(0, [prefix('/admin'), prefix('/ops')], [backend('shop/web:80')], { route: 'secure', filters })] },
  ];
  const httpsRules = (): Record<string, string>[] => {
    const listener = [...fake.listeners.values()].find((l) => String(l.port) === '443');
    return fake.all('CreateRule').filter((r) => r.params.ListenerArn === listener?.arn).map((r) => r.params);
  };
  const tags = (p: Record<string, string> | undefined): Record<string, string> => Object.fromEntries(Object.entries(p ?? {}).filter(([k]) => k.startsWith('Tags.')));

  it('authenticate-cognito (Order 1) before the forward (Order 2), and the source-ip condition on the match its matchIndexes name', async () => {
    const spec = gatewaySpec({
      rules: [],
      https: secured([extension({ actions: [{ type: 'authenticate-cognito', authenticateCognitoConfig: COGNITO }], conditions: [{ field: 'source-ip', sourceIPConfig: { values: ['10.0.0.0/8'] }, matchIndexes: [1] }] })]),
    });
    await provider().ensure(spec);
    const webArn = [...fake.tgs.values()].find((t) => String(t.port) === '31080')?.arn ?? '';
    const [admin, ops] = httpsRules();
    const cognito = {
      'Actions.member.1.Type': 'authenticate-cognito',
      'Actions.member.1.Order': '1',
      'Actions.member.1.AuthenticateCognitoConfig.UserPoolArn': COGNITO.userPoolArn,
      'Actions.member.1.AuthenticateCognitoConfig.UserPoolClientId': 'cid',
      'Actions.member.1.AuthenticateCognitoConfig.UserPoolDomain': 'auth.example.com',
      'Actions.member.1.AuthenticateCognitoConfig.Scope': 'openid',
      'Actions.member.1.AuthenticateCognitoConfig.SessionCookieName': 'AWSELBAuthSessionCookie',
      'Actions.member.1.AuthenticateCognitoConfig.SessionTimeout': '604800',
      'Actions.member.1.AuthenticateCognitoConfig.OnUnauthenticatedRequest': 'authenticate',
      'Actions.member.2.Type': 'forward',
      'Actions.member.2.Order': '2',
      'Actions.member.2.TargetGroupArn': webArn,
    };
    expect(admin).toEqual({
      ListenerArn: expect.any(String),
      Priority: '1',
      'Conditions.member.1.Field': 'host-header',
      'Conditions.member.1.HostHeaderConfig.Values.member.1': 'shop.example.com',
      'Conditions.member.2.Field': 'path-pattern',
      'Conditions.member.2.PathPatternConfig.Values.member.1': '/admin',
      'Conditions.member.2.PathPatternConfig.Values.member.2': '/admin/*',
      ...cognito,
      ...tags(admin),
    });
    expect(ops).toEqual({
      ListenerArn: expect.any(String),
      Priority: '2',
      'Conditions.member.1.Field': 'host-header',
      'Conditions.member.1.HostHeaderConfig.Values.member.1': 'shop.example.com',
      'Conditions.member.2.Field': 'path-pattern',
      'Conditions.member.2.PathPatternConfig.Values.member.1': '/ops',
      'Conditions.member.2.PathPatternConfig.Values.member.2': '/ops/*',
      'Conditions.member.3.Field': 'source-ip',
      'Conditions.member.3.SourceIpConfig.Values.member.1': '10.0.0.0/8',
      ...cognito,
      ...tags(ops),
    });
  });

  it('authenticate-oidc takes its client from the Secret, the load balancer records the digest; the same again writes nothing; a fixed response added is one ModifyRule per rule', async () => {
    const secrets = { 'shop/oidc-client': { clientID: 'my-client', clientSecret: 's3cr3t-value' } };
    const spec = gatewaySpec({ rules: [], https: secured([extension({ actions: [{ type: 'authenticate-oidc', authenticateOIDCConfig: OIDC }] }, secrets)]) });
    const p = provider();
    await p.ensure(spec);
    const [admin] = httpsRules();
    expect(admin).toMatchObject({
      'Actions.member.1.Type': 'authenticate-oidc',
      'Actions.member.1.AuthenticateOidcConfig.Issuer': OIDC.issuer,
      'Actions.member.1.AuthenticateOidcConfig.ClientId': 'my-client',
      'Actions.member.1.AuthenticateOidcConfig.ClientSecret': 's3cr3t-value',
      'Actions.member.2.Type': 'forward',
    });
    const lbArn = [...fake.lbs.values()][0]?.arn ?? '';
    expect(fake.tags.get(lbArn)?.[TAG_OIDC_CLIENTS]).toMatch(/^[0-9a-f]{32}$/);

    fake.resetLog();
    await p.ensure(spec);
    expect(fake.writes()).toEqual([]);

    const answered = gatewaySpec({ rules: [], https: secured([extension({ actions: [{ type: 'authenticate-oidc', authenticateOIDCConfig: OIDC }, { type: 'fixed-response', fixedResponseConfig: { statusCode: 503, contentType: 'text/plain', messageBody: 'maintenance' } }] }, secrets)]) });
    fake.resetLog();
    await p.ensure(answered);
    expect(fake.writes().map((w) => w.action)).toEqual(['ModifyRule', 'ModifyRule']);
    expect(fake.writes()[0]?.params).toMatchObject({
      'Actions.member.1.Type': 'authenticate-oidc',
      'Actions.member.2.Type': 'fixed-response',
      'Actions.member.2.FixedResponseConfig.StatusCode': '503',
      'Actions.member.2.FixedResponseConfig.MessageBody': 'maintenance',
    });
  });

  it('an authenticating configuration on an HTTP listener is refused before anything is created (ALBC would serve the rule unauthenticated)', async () => {
    const err = (await provider()
      .ensure(gatewaySpec({ rules: [httpRule(0, [prefix('/admin')], [backend('shop/web:80')], { route: 'open', filters: [extension({ actions: [{ type: 'authenticate-cognito', authenticateCognitoConfig: COGNITO }] })] })] }))
      .catch((e: unknown) => e)) as ProviderError;
    expect(err.message).toContain('HTTPRoute shop/open spec.rules[0]: ListenerRuleConfiguration shop/guard authenticates (cognito), which ALB does on HTTPS listeners only; lbc will not serve the rule unauthenticated on an HTTP listener');
    expect(fake.writes()).toEqual([]);
  });

  it('an OIDC Secret that is missing stops the Gateway, the Secret named, nothing created', async () => {
    const err = (await provider()
      .ensure(gatewaySpec({ rules: [], https: secured([extension({ actions: [{ type: 'authenticate-oidc', authenticateOIDCConfig: OIDC }] })]) }))
      .catch((e: unknown) => e)) as ProviderError;
    expect(err.message).toContain('ListenerRuleConfiguration shop/guard authenticateOIDCConfig.secret: Secret shop/oidc-client does not exist');
    expect(fake.writes()).toEqual([]);
  });

  it('redirectConfig.query goes on the RequestRedirect; without one it is refused, as ALBC refuses it; forward stickiness is a ForwardConfig', async () => {
    const redirect: HttpFilter = { type: 'RequestRedirect', scheme: 'https', statusCode: 301 };
    await provider().ensure(gatewaySpec({ rules: [httpRule(0, [prefix('/old')], [], { filters: [redirect, extension({ actions: [{ type: 'redirect', redirectConfig: { query: 'from=old' } }] })] }), httpRule(1, [prefix('/')], [backend('shop/web:80')], { filters: [extension({ actions: [{ type: 'forward', forwardConfig: { targetGroupStickinessConfig: { enabled: true, durationSeconds: 120 } } }] })] })] }));
    const [old, web] = fake.all('CreateRule').map((r) => r.params);
    expect(old).toMatchObject({ 'Actions.member.1.Type': 'redirect', 'Actions.member.1.RedirectConfig.Protocol': 'HTTPS', 'Actions.member.1.RedirectConfig.Query': 'from=old', 'Actions.member.1.RedirectConfig.StatusCode': 'HTTP_301' });
    expect(web).toMatchObject({
      'Actions.member.1.Type': 'forward',
      'Actions.member.1.ForwardConfig.TargetGroups.member.1.Weight': '1',
      'Actions.member.1.ForwardConfig.TargetGroupStickinessConfig.Enabled': 'true',
      'Actions.member.1.ForwardConfig.TargetGroupStickinessConfig.DurationSeconds': '120',
    });

    fake.resetLog();
    const err = (await provider()
      .ensure(gatewaySpec({ rules: [httpRule(0, [prefix('/')], [backend('shop/web:80')], { filters: [extension({ actions: [{ type: 'redirect', redirectConfig: { query: 'x=1' } }] })] })] }))
      .catch((e: unknown) => e)) as ProviderError;
    expect(err.message).toContain('HTTPRoute shop/canary spec.rules[0]: a ListenerRuleConfiguration redirectConfig needs a RequestRedirect filter on the rule (as ALBC)');
    expect(fake.writes()).toEqual([]);
  });
});
