// Nothing under the AWS prefixes is dropped silently (#16): an annotation lbc does not
// read is named in a Warning (with the one a typo meant), and one that protects the
// application and that lbc does not apply (ALBC: waf-acl-id/web-acl-id;
// docs/guide/ingress/annotations.md) stops the object before anything is created.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseAwsOptions } from '../../../src/providers/aws/annotations.js';
import { unreadAnnotationsCondition } from '../../../src/controller/service-model.js';
import { service } from '../../controller/fixtures.js';
import type { FakeAws } from './fake-aws.js';
import { nlbSpec, provider, seededFake } from './support.js';

describe('annotations lbc does not read', () => {
  it('a misspelt Service annotation: warned with the one it meant, the rest applied', () => {
    const r = parseAwsOptions({ 'service.beta.kubernetes.io/aws-load-balancer-healthcheck-pth': '/healthz', 'service.beta.kubernetes.io/aws-load-balancer-scheme': 'internal' }, 'Service');
    expect(r.ok && r.options.ignoredAnnotations).toEqual([
      'service.beta.kubernetes.io/aws-load-balancer-healthcheck-pth: not an annotation lbc reads (did you mean service.beta.kubernetes.io/aws-load-balancer-healthcheck-path?); it is ignored',
    ]);
  });

  it('an Ingress annotation lbc does not implement: warned; group.name/group.order and actions.* are read elsewhere', () => {
    const r = parseAwsOptions(
      {
        'alb.ingress.kubernetes.io/load-balancer-capacity-reservation': 'MinimumLoadBalancerCapacity.CapacityUnits=100',
        'alb.ingress.kubernetes.io/group.name': 'shop',
        'alb.ingress.kubernetes.io/group.order': '10',
        'alb.ingress.kubernetes.io/actions.blue': '{"type":"fixed-response","fixedResponseConfig":{"statusCode":"200"}}',
        'nginx.ingress.kubernetes.io/rewrite-target': '/',
      },
      'Ingress',
    );
    expect(r.ok && r.options.ignoredAnnotations).toEqual(['alb.ingress.kubernetes.io/load-balancer-capacity-reservation: not implemented by lbc; it is ignored']);
  });

  it('no unread annotation: the options carry no list at all', () => {
    const r = parseAwsOptions({ 'alb.ingress.kubernetes.io/scheme': 'internet-facing' }, 'Ingress');
    expect(r.ok && r.options.ignoredAnnotations).toBeUndefined();
  });

  it.each([
    // ALBC lists waf-acl-id (WAF Classic); AWS ended WAF Classic, so lbc says so and points at WAFv2.
    ['Ingress', 'alb.ingress.kubernetes.io/web-acl-id', '0123-abcd', 'AWS WAF Classic has reached its end of support (30 September 2025); migrate the ACL to WAFv2 and set alb.ingress.kubernetes.io/wafv2-acl-arn'],
    ['Ingress', 'alb.ingress.kubernetes.io/waf-acl-id', '0123-abcd', 'AWS WAF Classic has reached its end of support (30 September 2025); migrate the ACL to WAFv2 and set alb.ingress.kubernetes.io/wafv2-acl-arn'],
  ] as const)('%s %s: protective and not applied by lbc, so the object stops with an error naming it', (kind, key, value, reason) => {
    const r = parseAwsOptions({ [key]: value }, kind);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors).toEqual([{ annotation: key, reason: expect.stringContaining(reason) }]);
  });

  it.each([
    ['alb.ingress.kubernetes.io/auth-type', 'oidc', 'is oidc, which needs alb.ingress.kubernetes.io/auth-idp-oidc'],
    ['alb.ingress.kubernetes.io/auth-idp-oidc', '{"issuer":"https://idp.example.com"}', 'authorizationEndpoint'],
    // Implemented now (mutual-authentication.test.ts); verify without a trust store is ALBC's validation error.
    ['alb.ingress.kubernetes.io/mutual-authentication', '[{"port":443,"mode":"verify"}]', 'trustStore is required when mutualAuthentication mode is verify for port 443'],
  ] as const)('Ingress %s incomplete: implemented now, and still stops the object with an error naming it', (key, value, reason) => {
    const r = parseAwsOptions({ [key]: value }, 'Ingress');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors).toEqual([{ annotation: key, reason: expect.stringContaining(reason) }]);
  });
});

describe('the Warning reaches the object', () => {
  let fake: FakeAws;
  beforeEach(() => {
    fake = seededFake();
  });
  afterEach(() => fake.uninstall());

  it('ensure returns it as a Warning notice once, and a resync repeats nothing', async () => {
    const p = provider();
    const spec = nlbSpec({ annotations: { 'service.beta.kubernetes.io/aws-load-balancer-healthcheck-pth': '/healthz' } });
    const first = await p.ensure(spec);
    expect(first.notices?.filter((n) => n.message.includes('healthcheck-pth'))).toEqual([
      {
        type: 'Warning',
        reason: 'EnsuredWithWarnings',
        message:
          'service.beta.kubernetes.io/aws-load-balancer-healthcheck-pth: not an annotation lbc reads (did you mean service.beta.kubernetes.io/aws-load-balancer-healthcheck-path?); it is ignored',
      },
    ]);
    expect((await p.ensure(spec)).notices).toBeUndefined();
  });
});

describe('the Service condition (#16: "and, for Services, the condition")', () => {
  it('lbc.dev/UnreadAnnotations True names what the AWS provider does not read; none: no condition', () => {
    const p = provider();
    const typo = service('web', { type: 'LoadBalancer', ports: [{ port: 80, nodePort: 30080 }] }, { 'service.beta.kubernetes.io/aws-load-balancer-healthcheck-pth': '/healthz' });
    expect(unreadAnnotationsCondition(p, typo)).toEqual({
      type: 'lbc.dev/UnreadAnnotations',
      status: 'True',
      reason: 'AnnotationsNotRead',
      message:
        'service.beta.kubernetes.io/aws-load-balancer-healthcheck-pth: not an annotation lbc reads (did you mean service.beta.kubernetes.io/aws-load-balancer-healthcheck-path?); it is ignored',
    });
    const fine = service('web', { type: 'LoadBalancer', ports: [{ port: 80, nodePort: 30080 }] }, { 'service.beta.kubernetes.io/aws-load-balancer-healthcheck-path': '/healthz' });
    expect(unreadAnnotationsCondition(p, fine)).toBeUndefined();
  });
});
