// wafv2-acl-arn (#16), as aws-load-balancer-controller manages it
// (pkg/ingress/model_build_load_balancer_addons.go buildWAFv2WebACLAssociation): an ARN
// associates that regional web ACL with the ALB, before any listener takes traffic;
// `none` removes the association; without the annotation lbc never calls WAFv2, so an
// association made outside Kubernetes stays.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseAwsOptions } from '../../../src/providers/aws/annotations.js';
import type { FakeAws } from './fake-aws.js';
import { albSpec, provider, seededFake } from './support.js';

const KEY = 'alb.ingress.kubernetes.io/wafv2-acl-arn';
const ACL_A = 'arn:aws:wafv2:us-east-1:123456789012:regional/webacl/shop-a/11111111-1111-1111-1111-111111111111';
const ACL_B = 'arn:aws:wafv2:us-east-1:123456789012:regional/webacl/shop-b/22222222-2222-2222-2222-222222222222';

let fake: FakeAws;
beforeEach(() => {
  fake = seededFake();
  fake.webAcls.add(ACL_A);
  fake.webAcls.add(ACL_B);
});
afterEach(() => fake.uninstall());

const lbArn = (): string => [...fake.lbs.keys()][0] ?? '';
const wafCalls = (): { action: string; body: unknown }[] => fake.requests.filter((r) => r.service === 'wafv2').map((r) => ({ action: r.action, body: r.body }));

describe('wafv2-acl-arn', () => {
  it('a new ALB: AssociateWebACL with the ACL and the load balancer, after it exists and before its listeners', async () => {
    const p = provider();
    await p.ensure(albSpec({ annotations: { [KEY]: ACL_A } }));
    expect(wafCalls()).toEqual([{ action: 'AssociateWebACL', body: { WebACLArn: ACL_A, ResourceArn: lbArn() } }]);
    const order = fake.writes().map((r) => r.action);
    expect(order.indexOf('AssociateWebACL')).toBeGreaterThan(order.indexOf('CreateLoadBalancer'));
    expect(order.indexOf('AssociateWebACL')).toBeLessThan(order.indexOf('CreateListener'));
    expect(fake.webAclOf.get(lbArn())).toBe(ACL_A);
  });

  it('a resync reads the association and writes nothing', async () => {
    const p = provider();
    const spec = albSpec({ annotations: { [KEY]: ACL_A } });
    await p.ensure(spec);
    fake.resetLog();
    await p.ensure(spec);
    expect(fake.writes()).toEqual([]);
    expect(wafCalls()).toEqual([{ action: 'GetWebACLForResource', body: { ResourceArn: lbArn() } }]);
  });

  it('another ARN: one AssociateWebACL, which replaces the association', async () => {
    const p = provider();
    await p.ensure(albSpec({ annotations: { [KEY]: ACL_A } }));
    fake.resetLog();
    await p.ensure(albSpec({ annotations: { [KEY]: ACL_B } }));
    expect(fake.writes().map((r) => r.action)).toEqual(['AssociateWebACL']);
    expect(fake.webAclOf.get(lbArn())).toBe(ACL_B);
  });

  it('none: DisassociateWebACL, then nothing on resync', async () => {
    const p = provider();
    await p.ensure(albSpec({ annotations: { [KEY]: ACL_A } }));
    fake.resetLog();
    await p.ensure(albSpec({ annotations: { [KEY]: 'none' } }));
    expect(wafCalls()).toEqual([
      { action: 'GetWebACLForResource', body: { ResourceArn: lbArn() } },
      { action: 'DisassociateWebACL', body: { ResourceArn: lbArn() } },
    ]);
    expect(fake.webAclOf.has(lbArn())).toBe(false);
    fake.resetLog();
    await p.ensure(albSpec({ annotations: { [KEY]: 'none' } }));
    expect(fake.writes()).toEqual([]);
  });

  it('no annotation: WAFv2 is never called, and an association made outside stays', async () => {
    const p = provider();
    await p.ensure(albSpec());
    fake.webAclOf.set(lbArn(), ACL_B);
    await p.ensure(albSpec());
    expect(wafCalls()).toEqual([]);
    expect(fake.webAclOf.get(lbArn())).toBe(ACL_B);
  });

  it('WAFv2 not seeing the new load balancer yet (WAFUnavailableEntityException): retried until associated', async () => {
    fake.fail({ action: 'AssociateWebACL', code: 'WAFUnavailableEntityException', times: 2 });
    const p = provider();
    await p.ensure(albSpec({ annotations: { [KEY]: ACL_A } }));
    expect(wafCalls().map((c) => c.action)).toEqual(['AssociateWebACL', 'AssociateWebACL', 'AssociateWebACL']);
    expect(fake.webAclOf.get(lbArn())).toBe(ACL_A);
  });

  it('a web ACL WAFv2 does not have: ensure fails with its error and no listener is made', async () => {
    const p = provider();
    const missing = 'arn:aws:wafv2:us-east-1:123456789012:regional/webacl/gone/33333333-3333-3333-3333-333333333333';
    await expect(p.ensure(albSpec({ annotations: { [KEY]: missing } }))).rejects.toThrow(/WAFNonexistentItemException|doesn't exist/);
    expect(fake.all('CreateListener')).toEqual([]);
  });

  it.each([['arn:aws:wafv2:us-east-1:123456789012:global/webacl/cf/44444444-4444-4444-4444-444444444444'], ['shop-acl'], ['arn:aws:waf-regional:us-east-1:123456789012:webacl/1']])(
    '%s: not a regional WAFv2 web ACL ARN, invalid input naming the annotation',
    (value) => {
      const r = parseAwsOptions({ [KEY]: value }, 'Ingress');
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.errors).toEqual([{ annotation: KEY, reason: expect.stringContaining('regional WAFv2 web ACL ARN') }]);
    },
  );
});
