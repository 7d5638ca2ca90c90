// listen-ports in an ALB IngressGroup, through the model builder and the real SDK clients
// against the fake, as aws-load-balancer-controller builds them (pkg/ingress/model_builder.go
// run()): each Ingress has its own listen ports (computeIngressListenPortConfigByPort), the
// ALB listens on all of them, and each port's listener carries the rules of the Ingresses
// that listen there (ingListByPort[port]); one port with two protocols is an error
// (mergeListenPortConfigs "conflicting protocol").
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { L7Spec } from '../../../src/model/spec.js';
import type { AwsLbOptions } from '../../../src/providers/aws/annotations.js';
import type { ProviderError } from '../../../src/providers/types.js';
import { ingress, service } from '../../controller/fixtures.js';
import type { FakeAws } from './fake-aws.js';
import { ingressGroupSpec, provider, seededFake } from './support.js';

const A = 'alb.ingress.kubernetes.io/';
const CERT = 'arn:aws:acm:us-east-1:123456789012:certificate/aaa';

let fake: FakeAws;
beforeEach(() => {
  fake = seededFake();
});
afterEach(() => fake.uninstall());

const member = (name: string, annotations: Record<string, string>, svc = name) =>
  ingress(
    name,
    { rules: [{ host: `${name}.example.com`, http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: svc, port: { number: 80 } } } }] } }] },
    { [`${A}group.name`]: 'shop', [`${A}scheme`]: 'internet-facing', ...annotations },
    'shop',
  );

const groupSpec = (p: ReturnType<typeof provider>, members: ReturnType<typeof member>[]): L7Spec<AwsLbOptions> =>
  ingressGroupSpec(
    p,
    members,
    ['a', 'b', 'c'].map((n, i) => service(n, { type: 'NodePort', ports: [{ port: 80, targetPort: 8080, nodePort: 31080 + i }] }, undefined, 'shop')),
  );

/** Per listener port: its protocol and the hosts of its rules, in priority order, and its default action's type. */
function listenersSeen(): Record<number, { protocol: string; hosts: string[]; defaultAction: string }> {
  const out: Record<number, { protocol: string; hosts: string[]; defaultAction: string }> = {};
  for (const l of fake.listeners.values()) {
    const rules = [...fake.rules.values()].filter((r) => r.listenerArn === l.arn).sort((x, y) => x.priority - y.priority);
    out[l.port] = {
      protocol: l.protocol,
      hosts: rules.flatMap((r) => r.conditions.filter((c) => c.field === 'host-header').flatMap((c) => c.values)),
      defaultAction: l.defaultActions[0]?.type ?? '',
    };
  }
  return out;
}

describe('ALB IngressGroup listen-ports, per Ingress (ALBC model_builder.go ingListByPort)', () => {
  it('each member’s rules go only to its own listeners; a port two members share carries both', async () => {
    const p = provider();
    const spec = groupSpec(p, [
      member('a', { [`${A}listen-ports`]: '[{"HTTP": 80}]' }),
      member('b', { [`${A}listen-ports`]: '[{"HTTP": 8080}]' }),
      member('c', { [`${A}listen-ports`]: '[{"HTTP": 80}, {"HTTP": 8080}]' }),
    ]);
    await p.ensure(spec);
    expect(fake.all('CreateListener').map((r) => [r.params.Port, r.params.Protocol])).toEqual([
      ['80', 'HTTP'],
      ['8080', 'HTTP'],
    ]);
    expect(listenersSeen()).toEqual({
      80: { protocol: 'HTTP', hosts: ['a.example.com', 'c.example.com'], defaultAction: 'fixed-response' },
      8080: { protocol: 'HTTP', hosts: ['b.example.com', 'c.example.com'], defaultAction: 'fixed-response' },
    });
    // Numbered per listener, from 1, as ALBC numbers each listener's rules.
    expect(fake.all('CreateRule').map((r) => r.params.Priority)).toEqual(['1', '2', '1', '2']);
    // The security group opens both ports.
    expect(
      fake
        .all('AuthorizeSecurityGroupIngress')
        .flatMap((r) => Object.entries(r.params).filter(([k]) => /^IpPermissions\.\d+\.FromPort$/.test(k)).map(([, v]) => v))
        .sort(),
    ).toEqual(['80', '8080']);
    fake.resetLog();
    await p.ensure(spec);
    expect(fake.writes()).toEqual([]);
  });

  it('a member without listen-ports listens on HTTPS:443 when it names a certificate itself, else on HTTP:80 (computeIngressListenPorts preferTLS)', async () => {
    const p = provider();
    await p.ensure(groupSpec(p, [member('a', { [`${A}certificate-arn`]: CERT }), member('b', {})]));
    expect(listenersSeen()).toEqual({
      80: { protocol: 'HTTP', hosts: ['b.example.com'], defaultAction: 'fixed-response' },
      443: { protocol: 'HTTPS', hosts: ['a.example.com'], defaultAction: 'fixed-response' },
    });
    expect(fake.all('CreateListener').find((r) => r.params.Port === '443')?.params['Certificates.member.1.CertificateArn']).toBe(CERT);
  });

  it('one port asked as HTTP by one member and HTTPS by another: an error naming both (mergeListenPortConfigs "conflicting protocol"), nothing created', async () => {
    const p = provider();
    const spec = groupSpec(p, [member('a', { [`${A}listen-ports`]: '[{"HTTPS": 443}]', [`${A}certificate-arn`]: CERT }), member('b', { [`${A}listen-ports`]: '[{"HTTP": 443}]' })]);
    const err = (await p.ensure(spec).catch((e: unknown) => e)) as ProviderError;
    expect(err.kind).toBe('invalid');
    expect(err.message).toContain(`${A}listen-ports: port 443 is HTTPS for Ingress shop/a but HTTP for Ingress shop/b (conflicting protocol`);
    expect(fake.writes()).toEqual([]);
  });

  it('a member’s defaultBackend answers on its own ports only; the others answer 404', async () => {
    const p = provider();
    const withDefault = ingress('a', { defaultBackend: { service: { name: 'a', port: { number: 80 } } } }, { [`${A}group.name`]: 'shop', [`${A}listen-ports`]: '[{"HTTP": 8080}]' }, 'shop');
    await p.ensure(groupSpec(p, [withDefault, member('b', {})]));
    expect(listenersSeen()).toEqual({
      80: { protocol: 'HTTP', hosts: ['b.example.com'], defaultAction: 'fixed-response' },
      8080: { protocol: 'HTTP', hosts: [], defaultAction: 'forward' },
    });
  });

  it('ssl-redirect names a port no member listens on with HTTPS: an error (buildSSLRedirectConfig "listener does not exist for SSLRedirect port")', async () => {
    const p = provider();
    const spec = groupSpec(p, [member('a', { [`${A}ssl-redirect`]: '443' }), member('b', { [`${A}listen-ports`]: '[{"HTTP": 8080}]' })]);
    const err = (await p.ensure(spec).catch((e: unknown) => e)) as ProviderError;
    expect(err.message).toContain(`${A}ssl-redirect: port 443 is not an HTTPS port the group listens on (HTTP:80, HTTP:8080)`);
    expect(fake.writes()).toEqual([]);
  });
});
