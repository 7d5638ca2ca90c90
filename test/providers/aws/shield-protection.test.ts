// shield-advanced-protection (#16), as aws-load-balancer-controller manages it
// (pkg/ingress/model_build_load_balancer_addons.go buildShieldProtection): true protects
// the ALB (before its listeners take traffic), false removes lbc's protection and leaves
// anyone else's with a Warning, and without the annotation Shield is never called.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseAwsOptions } from '../../../src/providers/aws/annotations.js';
import { PROTECTION_NAME } from '../../../src/providers/aws/shield-protection.js';
import type { FakeAws } from './fake-aws.js';
import { albSpec, provider, seededFake } from './support.js';

const KEY = 'alb.ingress.kubernetes.io/shield-advanced-protection';

let fake: FakeAws;
beforeEach(() => {
  fake = seededFake();
});
afterEach(() => fake.uninstall());

const lbArn = (): string => [...fake.lbs.keys()][0] ?? '';
const shieldCalls = (): { action: string; body: unknown }[] => fake.requests.filter((r) => r.service === 'shield').map((r) => ({ action: r.action, body: r.body }));

describe('shield-advanced-protection', () => {
  it('true on a new ALB: CreateProtection named by lbc for it, after it exists and before its listeners', async () => {
    const p = provider();
    await p.ensure(albSpec({ annotations: { [KEY]: 'true' } }));
    expect(shieldCalls()).toEqual([{ action: 'CreateProtection', body: { Name: PROTECTION_NAME, ResourceArn: lbArn() } }]);
    const order = fake.writes().map((r) => r.action);
    expect(order.indexOf('CreateProtection')).toBeGreaterThan(order.indexOf('CreateLoadBalancer'));
    expect(order.indexOf('CreateProtection')).toBeLessThan(order.indexOf('CreateListener'));
    expect([...fake.protections.values()].map((x) => x.resourceArn)).toEqual([lbArn()]);
  });

  it('a resync reads the protection and writes nothing', async () => {
    const p = provider();
    const spec = albSpec({ annotations: { [KEY]: 'true' } });
    await p.ensure(spec);
    fake.resetLog();
    await p.ensure(spec);
    expect(fake.writes()).toEqual([]);
    expect(shieldCalls()).toEqual([{ action: 'DescribeProtection', body: { ResourceArn: lbArn() } }]);
  });

  it('false after true: DeleteProtection of lbc\'s protection', async () => {
    const p = provider();
    await p.ensure(albSpec({ annotations: { [KEY]: 'true' } }));
    const id = [...fake.protections.keys()][0];
    fake.resetLog();
    await p.ensure(albSpec({ annotations: { [KEY]: 'false' } }));
    expect(shieldCalls()).toEqual([
      { action: 'DescribeProtection', body: { ResourceArn: lbArn() } },
      { action: 'DeleteProtection', body: { ProtectionId: id } },
    ]);
    expect(fake.protections.size).toBe(0);
  });

  it('false with a protection someone else made: left alone, and a Warning says so', async () => {
    const p = provider();
    await p.ensure(albSpec());
    fake.protections.set('p-user', { id: 'p-user', name: 'security-team', resourceArn: lbArn() });
    const status = await p.ensure(albSpec({ annotations: { [KEY]: 'false' } }));
    expect(fake.protections.has('p-user')).toBe(true);
    expect(fake.all('DeleteProtection')).toEqual([]);
    expect(status.notices?.map((n) => n.message).filter((m) => m.includes('shield'))).toEqual([
      'shield-advanced-protection is false, but the load balancer\'s Shield protection p-user ("security-team") was not made by lbc; it is left alone',
    ]);
  });

  it('no annotation: Shield is never called', async () => {
    const p = provider();
    await p.ensure(albSpec());
    await p.ensure(albSpec());
    expect(shieldCalls()).toEqual([]);
  });

  it('a value that is not a boolean: invalid input naming the annotation', () => {
    const r = parseAwsOptions({ [KEY]: 'yes please' }, 'Ingress');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors.map((e) => ('annotation' in e ? e.annotation : ''))).toEqual([KEY]);
  });
});
