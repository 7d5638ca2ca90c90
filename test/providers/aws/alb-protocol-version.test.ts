// alb.ingress.kubernetes.io/backend-protocol-version (ALBC docs/guide/ingress/annotations.md):
// HTTP1 (ELBv2's default), HTTP2 or GRPC on the ALB's target groups; GRPC health checks
// default to path /AWS.ALB/healthcheck and gRPC code 12, and success-codes then takes
// gRPC codes (0-99, API_Matcher). ProtocolVersion cannot change in place: a new group.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseAwsOptions } from '../../../src/providers/aws/annotations.js';
import type { FakeAws } from './fake-aws.js';
import { albSpec, provider, seededFake } from './support.js';

const V = 'alb.ingress.kubernetes.io/backend-protocol-version';
const CODES = 'alb.ingress.kubernetes.io/success-codes';

let fake: FakeAws;
beforeEach(() => {
  fake = seededFake();
});
afterEach(() => fake.uninstall());

describe('backend-protocol-version', () => {
  it('GRPC: the groups are created GRPC with the gRPC health check defaults, and a resync writes nothing', async () => {
    const p = provider();
    const spec = albSpec({ annotations: { [V]: 'grpc' } });
    await p.ensure(spec);
    for (const r of fake.all('CreateTargetGroup')) {
      expect(r.params).toMatchObject({ Protocol: 'HTTP', ProtocolVersion: 'GRPC', HealthCheckPath: '/AWS.ALB/healthcheck', 'Matcher.GrpcCode': '12' });
      expect(r.params['Matcher.HttpCode']).toBeUndefined();
    }
    const before = fake.writes().length;
    await p.ensure(spec);
    expect(fake.writes().slice(before)).toEqual([]);
  });

  it('HTTP2: ProtocolVersion HTTP2 with the HTTP matcher; without the annotation none is sent (HTTP1, ELBv2 default)', async () => {
    await provider().ensure(albSpec({ annotations: { [V]: 'HTTP2' } }));
    expect(fake.last('CreateTargetGroup')?.params).toMatchObject({ ProtocolVersion: 'HTTP2', 'Matcher.HttpCode': '200' });
    fake.uninstall();
    fake = seededFake();
    await provider().ensure(albSpec());
    expect(fake.last('CreateTargetGroup')?.params['ProtocolVersion']).toBeUndefined();
  });

  it('HTTP1 → GRPC: new target groups replace the old ones (ProtocolVersion cannot be modified)', async () => {
    const p = provider();
    await p.ensure(albSpec());
    const old = [...fake.tgs.values()].map((t) => t.name).sort();
    const before = fake.requests.length;
    await p.ensure(albSpec({ annotations: { [V]: 'GRPC' } }));
    const after = fake.requests.slice(before).map((r) => r.action);
    expect(after.filter((a) => a === 'CreateTargetGroup')).toHaveLength(2);
    expect(after.filter((a) => a === 'DeleteTargetGroup')).toHaveLength(2);
    const now = [...fake.tgs.values()];
    expect(now.map((t) => t.protocolVersion)).toEqual(['GRPC', 'GRPC']);
    expect(now.some((t) => old.includes(t.name))).toBe(false);
  });

  it('success-codes: gRPC codes with GRPC, HTTP codes otherwise; the wrong kind is refused naming the annotation', () => {
    expect(parseAwsOptions({ [V]: 'GRPC', [CODES]: '0-99' }, 'Ingress').ok).toBe(true);
    const grpcWithHttp = parseAwsOptions({ [V]: 'GRPC', [CODES]: '200' }, 'Ingress');
    expect(grpcWithHttp.ok ? [] : grpcWithHttp.errors).toEqual([{ annotation: CODES, reason: '"200": gRPC target group health checks take codes 0-99' }]);
    const httpWithGrpc = parseAwsOptions({ [CODES]: '12' }, 'Ingress');
    expect(httpWithGrpc.ok ? [] : httpWithGrpc.errors).toEqual([{ annotation: CODES, reason: '"12": application load balancer health checks take codes 200-499' }]);
    const bad = parseAwsOptions({ [V]: 'HTTP3' }, 'Ingress');
    expect(bad.ok).toBe(false);
  });
});
