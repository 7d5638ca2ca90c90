// alb.ingress.kubernetes.io/auth-*: ALB authentication before an Ingress's routes, as
// aws-load-balancer-controller v3.5 builds it (pkg/ingress/auth_config_builder.go for the
// annotations and defaults, model_build_actions.go buildActions/buildAuthenticateOIDCAction
// for the action list and the OIDC client Secret), from the Ingress through the model
// builder to the exact ELBv2 requests the real SDK sends to the stateful fake.
import type { V1Ingress, V1Secret } from '@kubernetes/client-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildIngressModel } from '../../../src/controller/ingress-model.js';
import type { L7Spec } from '../../../src/model/spec.js';
import type { ModelError } from '../../../src/model/validation.js';
import type { AwsLbOptions } from '../../../src/providers/aws/annotations.js';
import { TAG_OIDC_CLIENTS } from '../../../src/providers/aws/authentication.js';
import { ingress, node, service } from '../../controller/fixtures.js';
import type { FakeAws } from './fake-aws.js';
import { CLUSTER, provider, seededFake } from './support.js';

const A = 'alb.ingress.kubernetes.io/';
const CERT = 'arn:aws:acm:us-east-1:123456789012:certificate/abc';
const services = [service('web', { type: 'NodePort', ports: [{ name: 'http', port: 80, nodePort: 30080 }] })];
const nodes = [node('n1', { providerID: 'aws:///us-east-1a/i-0aaa' })];
const oidc = JSON.stringify({
  issuer: 'https://idp.example.com',
  authorizationEndpoint: 'https://idp.example.com/authorize',
  tokenEndpoint: 'https://idp.example.com/token',
  userInfoEndpoint: 'https://idp.example.com/userinfo',
  secretName: 'oidc-client',
});
const cognito = JSON.stringify({ userPoolARN: 'arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_abc', userPoolClientID: 'client1', userPoolDomain: 'auth.example.com' });

function opaque(name: string, data: Record<string, string>): V1Secret {
  return {
    metadata: { name, namespace: 'default' },
    type: 'Opaque',
    data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
  };
}

function site(annotations: Record<string, string>): V1Ingress {
  return ingress(
    'site',
    { rules: [{ host: 'shop.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } }] } }] },
    { [`${A}scheme`]: 'internet-facing', [`${A}certificate-arn`]: CERT, ...annotations },
  );
}

function build(ings: V1Ingress[], secrets: V1Secret[] = []): { ok: true; spec: L7Spec<AwsLbOptions> } | { ok: false; errors: readonly ModelError[] } {
  const r = buildIngressModel({ ingresses: ings, services, endpointSlices: [], secrets, nodes, provider: provider(), className: 'lbc.dev/aws', clusterName: CLUSTER });
  if (r.ok) return { ok: true, spec: r.spec as L7Spec<AwsLbOptions> };
  if (r.reason !== 'invalid') throw new Error(`unexpected ${r.reason}`);
  return { ok: false, errors: r.errors };
}

let fake: FakeAws;
beforeEach(() => {
  fake = seededFake();
});
afterEach(() => fake.uninstall());

describe('ALB authentication (ALBC auth_config_builder.go, model_build_actions.go)', () => {
  it('auth-type oidc: authenticate-oidc (Order 1) before the forward (Order 2) on the HTTPS rule, the client from the Secret, ALBC defaults; a rotated secret is sent again', async () => {
    const secret = opaque('oidc-client', { clientID: 'my-client \n', clientSecret: 's3cr3t-value' });
    const b = build([site({ [`${A}auth-type`]: 'oidc', [`${A}auth-idp-oidc`]: oidc })], [secret]);
    if (!b.ok) throw new Error(JSON.stringify(b.errors));
    const p = provider();
    await p.ensure(b.spec);
    const create = fake.all('CreateRule')[0]?.params ?? {};
    expect(create).toMatchObject({
      'Actions.member.1.Type': 'authenticate-oidc',
      'Actions.member.1.Order': '1',
      'Actions.member.1.AuthenticateOidcConfig.Issuer': 'https://idp.example.com',
      'Actions.member.1.AuthenticateOidcConfig.AuthorizationEndpoint': 'https://idp.example.com/authorize',
      'Actions.member.1.AuthenticateOidcConfig.TokenEndpoint': 'https://idp.example.com/token',
      'Actions.member.1.AuthenticateOidcConfig.UserInfoEndpoint': 'https://idp.example.com/userinfo',
      // ALBC trims trailing space off the client id (strings.TrimRightFunc), not off the secret.
      'Actions.member.1.AuthenticateOidcConfig.ClientId': 'my-client',
      'Actions.member.1.AuthenticateOidcConfig.ClientSecret': 's3cr3t-value',
      'Actions.member.1.AuthenticateOidcConfig.Scope': 'openid',
      'Actions.member.1.AuthenticateOidcConfig.SessionCookieName': 'AWSELBAuthSessionCookie',
      'Actions.member.1.AuthenticateOidcConfig.SessionTimeout': '604800',
      'Actions.member.1.AuthenticateOidcConfig.OnUnauthenticatedRequest': 'authenticate',
      'Actions.member.2.Type': 'forward',
      'Actions.member.2.Order': '2',
    });
    const lbArn = [...fake.lbs.values()][0]?.arn ?? '';
    const digest = fake.tags.get(lbArn)?.[TAG_OIDC_CLIENTS];
    expect(digest).toMatch(/^[0-9a-f]{32}$/);
    expect(JSON.stringify(fake.tags.get(lbArn))).not.toContain('s3cr3t-value');

    // Nothing changed: ELBv2 never returns the secret, yet nothing is rewritten.
    fake.resetLog();
    await p.ensure(b.spec);
    expect(fake.writes()).toEqual([]);

    // A rotated secret: the rule is sent again with it, then the digest moves.
    const rotated = build([site({ [`${A}auth-type`]: 'oidc', [`${A}auth-idp-oidc`]: oidc })], [opaque('oidc-client', { clientID: 'my-client', clientSecret: 'new-secret' })]);
    if (!rotated.ok) throw new Error('expected a spec');
    fake.resetLog();
    await p.ensure(rotated.spec);
    expect(fake.writes().map((w) => w.action)).toEqual(['ModifyRule', 'AddTags']);
    expect(fake.writes()[0]?.params['Actions.member.1.AuthenticateOidcConfig.ClientSecret']).toBe('new-secret');
    expect(fake.tags.get(lbArn)?.[TAG_OIDC_CLIENTS]).not.toBe(digest);
    fake.resetLog();
    await p.ensure(rotated.spec);
    expect(fake.writes()).toEqual([]);

    await p.delete(b.spec.ref);
    expect(fake.taggedFor(CLUSTER)).toEqual([]);
  });

  it('auth-type cognito with scope, session and on-unauthenticated-request: authenticate-cognito as written', async () => {
    const b = build([
      site({
        [`${A}auth-type`]: 'cognito',
        [`${A}auth-idp-cognito`]: cognito,
        [`${A}auth-scope`]: 'openid email',
        [`${A}auth-session-cookie`]: 'my-cookie',
        [`${A}auth-session-timeout`]: '3600',
        [`${A}auth-on-unauthenticated-request`]: 'deny',
      }),
    ]);
    if (!b.ok) throw new Error(JSON.stringify(b.errors));
    await provider().ensure(b.spec);
    expect(fake.all('CreateRule')[0]?.params).toMatchObject({
      'Actions.member.1.Type': 'authenticate-cognito',
      'Actions.member.1.AuthenticateCognitoConfig.UserPoolArn': 'arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_abc',
      'Actions.member.1.AuthenticateCognitoConfig.UserPoolClientId': 'client1',
      'Actions.member.1.AuthenticateCognitoConfig.UserPoolDomain': 'auth.example.com',
      'Actions.member.1.AuthenticateCognitoConfig.Scope': 'openid email',
      'Actions.member.1.AuthenticateCognitoConfig.SessionCookieName': 'my-cookie',
      'Actions.member.1.AuthenticateCognitoConfig.SessionTimeout': '3600',
      'Actions.member.1.AuthenticateCognitoConfig.OnUnauthenticatedRequest': 'deny',
      'Actions.member.2.Type': 'forward',
    });
  });

  it('an HTTP listener that would serve the routes unauthenticated is refused before any write (ALBC adds auth on HTTPS only); with ssl-redirect it is fine', async () => {
    const both = { [`${A}auth-type`]: 'cognito', [`${A}auth-idp-cognito`]: cognito, [`${A}listen-ports`]: '[{"HTTP":80},{"HTTPS":443}]' };
    const b = build([site(both)]);
    if (!b.ok) throw new Error(JSON.stringify(b.errors));
    await expect(provider().ensure(b.spec)).rejects.toMatchObject({ kind: 'invalid', message: expect.stringContaining('HTTP listener on port 80') });
    expect(fake.writes()).toEqual([]);

    const redirected = build([site({ ...both, [`${A}ssl-redirect`]: '443' })]);
    if (!redirected.ok) throw new Error(JSON.stringify(redirected.errors));
    await provider().ensure(redirected.spec);
    const http = [...fake.listeners.values()].find((l) => l.port === 80);
    expect(http?.defaultActions.map((a) => a.type)).toEqual(['redirect']);
    expect(fake.all('CreateRule').every((r) => r.params['Actions.member.1.Type'] === 'authenticate-cognito')).toBe(true);
  });

  it('a missing Secret (or one without clientSecret) stops the Ingress at the builder, naming it; the secret never appears in an error', () => {
    const ann = { [`${A}auth-type`]: 'oidc', [`${A}auth-idp-oidc`]: oidc };
    const missing = build([site(ann)]);
    expect(!missing.ok && missing.errors).toContainEqual(expect.objectContaining({ object: 'Ingress default/site', reason: expect.stringContaining('Secret default/oidc-client does not exist') }));
    const partial = build([site(ann)], [opaque('oidc-client', { clientID: 'id-only', password: 'hunter22' })]);
    if (!partial.ok) throw new Error('the builder reads the Secret; the provider checks its keys');
    return expect(provider().ensure(partial.spec)).rejects.toSatisfy((e: Error) => e.message.includes('has no clientSecret key') && !e.message.includes('hunter22'));
  });

  it('auth-type oidc without auth-idp-oidc, or a bad value, is an annotation error', () => {
    const b = build([site({ [`${A}auth-type`]: 'oidc' })]);
    expect(!b.ok && b.errors).toContainEqual(expect.objectContaining({ annotation: `${A}auth-type`, reason: expect.stringContaining('auth-idp-oidc') }));
    const c = build([site({ [`${A}auth-type`]: 'cognito', [`${A}auth-idp-cognito`]: cognito, [`${A}auth-session-timeout`]: '604801' })]);
    expect(!c.ok && c.errors).toContainEqual(expect.objectContaining({ annotation: `${A}auth-session-timeout` }));
  });

  it('waf-acl-id / web-acl-id (WAF Classic, ended by AWS) are refused, pointing at wafv2-acl-arn', () => {
    const b = build([site({ [`${A}waf-acl-id`]: 'abc-123' })]);
    expect(!b.ok && b.errors).toContainEqual(expect.objectContaining({ annotation: `${A}waf-acl-id`, reason: expect.stringContaining('wafv2-acl-arn') }));
  });
});
