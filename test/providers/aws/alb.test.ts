// The ALB path (Ingress and Ingress groups) through the real SDK clients against the
// fake: listeners, rules from host and path rules, default action, certificates,
// ssl-redirect, and the updates and delete.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildIngressModel } from '../../../src/controller/ingress-model.js';
import type { ProviderError } from '../../../src/providers/types.js';
import { ingress, node, service, slice } from '../../controller/fixtures.js';
import type { FakeAws } from './fake-aws.js';
import { ALB_CREATE_WRITES, albSpec, CLUSTER, ING_REF, ingressGroupSpec, provider, seededFake } from './support.js';

let fake: FakeAws;
beforeEach(() => {
  fake = seededFake();
});
afterEach(() => fake.uninstall());

const writes = (): string[] => fake.writes().map((r) => r.action);
const CERT_A = 'arn:aws:acm:us-east-1:123456789012:certificate/aaa';
const CERT_B = 'arn:aws:acm:us-east-1:123456789012:certificate/bbb';

describe('ALB create', () => {
  it('an HTTP listener with a 404 default and one rule per Ingress path, in order', async () => {
    const p = provider();
    const status = await p.ensure(albSpec());
    expect(writes()).toEqual(ALB_CREATE_WRITES);
    expect(fake.last('CreateLoadBalancer')?.params).toMatchObject({ Type: 'application', Scheme: 'internet-facing', 'SubnetMappings.member.1.SubnetId': 'subnet-0a2' });
    expect(fake.all('CreateTargetGroup')[0]?.params).toMatchObject({
      Protocol: 'HTTP',
      Port: '31080',
      HealthCheckProtocol: 'HTTP',
      HealthCheckPath: '/',
      'Matcher.HttpCode': '200',
    });
    expect(fake.last('CreateListener')?.params).toMatchObject({
      Port: '80',
      Protocol: 'HTTP',
      'DefaultActions.member.1.Type': 'fixed-response',
      'DefaultActions.member.1.FixedResponseConfig.StatusCode': '404',
      'DefaultActions.member.1.FixedResponseConfig.ContentType': 'text/plain',
    });
    const [api, web] = fake.all('CreateRule').map((r) => r.params);
    expect(api).toMatchObject({
      Priority: '1',
      'Conditions.member.1.Field': 'host-header',
      'Conditions.member.1.HostHeaderConfig.Values.member.1': 'shop.example.com',
      'Conditions.member.2.Field': 'path-pattern',
      'Conditions.member.2.PathPatternConfig.Values.member.1': '/api',
      'Conditions.member.2.PathPatternConfig.Values.member.2': '/api/*',
      'Actions.member.1.Type': 'forward',
    });
    expect(web).toMatchObject({ Priority: '2', 'Conditions.member.2.PathPatternConfig.Values.member.1': '/*' });
    expect(web?.['Conditions.member.2.PathPatternConfig.Values.member.2']).toBeUndefined();
    expect(status.ingress).toEqual([{ hostname: expect.stringMatching(/^k8s-shop-[0-9a-f]{10}-/), ports: [{ port: 80, protocol: 'TCP' }] }]);
    const lbTags = fake.tags.get([...fake.lbs.keys()][0] ?? '') ?? {};
    expect(lbTags).toMatchObject({ 'ingress.k8s.aws/stack': 'shop', 'ingress.k8s.aws/resource': 'LoadBalancer', 'lbc.dev/owner-uid': 'ingress-group:shop' });
  });

  it('default backend → forward default action; Exact path → one pattern', async () => {
    const p = provider();
    await p.ensure(
      albSpec({
        defaultBackend: 'shop/web:80',
        rules: [{ path: '/login', pathType: 'Exact', targetSet: 'shop/api:8080', source: 'shop/api' }],
      }),
    );
    expect(fake.last('CreateListener')?.params['DefaultActions.member.1.Type']).toBe('forward');
    const rule = fake.last('CreateRule')?.params ?? {};
    expect(rule).toMatchObject({ 'Conditions.member.1.Field': 'path-pattern', 'Conditions.member.1.PathPatternConfig.Values.member.1': '/login' });
    expect(rule['Conditions.member.1.PathPatternConfig.Values.member.2']).toBeUndefined();
  });

  it('certificate-arn: HTTPS:443 only by default, first certificate default, the rest added; ssl policy', async () => {
    const p = provider();
    await p.ensure(albSpec({ annotations: { 'alb.ingress.kubernetes.io/certificate-arn': `${CERT_A},${CERT_B}`, 'alb.ingress.kubernetes.io/ssl-policy': 'ELBSecurityPolicy-TLS13-1-2-2021-06' } }));
    expect(fake.all('CreateListener').map((r) => [r.params['Port'], r.params['Protocol'], r.params['Certificates.member.1.CertificateArn'], r.params['SslPolicy']])).toEqual([
      ['443', 'HTTPS', CERT_A, 'ELBSecurityPolicy-TLS13-1-2-2021-06'],
    ]);
    expect(fake.last('AddListenerCertificates')?.params).toMatchObject({ 'Certificates.member.1.CertificateArn': CERT_B });
    fake.resetLog();
    await p.ensure(albSpec({ annotations: { 'alb.ingress.kubernetes.io/certificate-arn': CERT_A, 'alb.ingress.kubernetes.io/ssl-policy': 'ELBSecurityPolicy-TLS13-1-2-2021-06' } }));
    expect(writes()).toEqual(['RemoveListenerCertificates']);
  });

  it('listen-ports with ssl-redirect: HTTP redirects to HTTPS and carries no rules', async () => {
    const p = provider();
    await p.ensure(
      albSpec({
        annotations: {
          'alb.ingress.kubernetes.io/listen-ports': '[{"HTTP": 80}, {"HTTPS": 443}]',
          'alb.ingress.kubernetes.io/ssl-redirect': '443',
          'alb.ingress.kubernetes.io/certificate-arn': CERT_A,
        },
      }),
    );
    const [http, https] = fake.all('CreateListener').map((r) => r.params);
    expect(http).toMatchObject({
      Port: '80',
      'DefaultActions.member.1.Type': 'redirect',
      'DefaultActions.member.1.RedirectConfig.Protocol': 'HTTPS',
      'DefaultActions.member.1.RedirectConfig.Port': '443',
      'DefaultActions.member.1.RedirectConfig.StatusCode': 'HTTP_301',
    });
    expect(https).toMatchObject({ Port: '443', Protocol: 'HTTPS' });
    expect(fake.all('CreateRule').map((r) => r.params['ListenerArn'])).toEqual([fake.last('CreateRule')?.params['ListenerArn'], fake.last('CreateRule')?.params['ListenerArn']]);
    expect([...fake.rules.values()].every((r) => fake.listeners.get(r.listenerArn)?.port === 443)).toBe(true);
    fake.resetLog();
    expect(
      await p.plan(
        albSpec({
          annotations: {
            'alb.ingress.kubernetes.io/listen-ports': '[{"HTTP": 80}, {"HTTPS": 443}]',
            'alb.ingress.kubernetes.io/ssl-redirect': '443',
            'alb.ingress.kubernetes.io/certificate-arn': CERT_A,
          },
        }),
      ),
    ).toEqual([]);
  });

  it('an HTTPS listener without any ACM certificate is refused before any write', async () => {
    const p = provider();
    const err = (await p.ensure(albSpec({ annotations: { 'alb.ingress.kubernetes.io/listen-ports': '[{"HTTPS": 443}]' } })).catch((e: unknown) => e)) as ProviderError;
    expect(err.kind).toBe('invalid');
    expect(err.message).toBe(
      'HTTPS listener on port 443: no ISSUED ACM certificate covers host shop.example.com; request or import one, or set alb.ingress.kubernetes.io/certificate-arn',
    );
    expect(writes()).toEqual([]);
  });

  it('an ALB needs two zones: with one candidate, the error lists why the others were turned down', async () => {
    fake.subnets.delete('subnet-0b2');
    fake.addSubnet({ id: 'subnet-0c2', az: 'us-east-1c', tags: { 'kubernetes.io/role/elb': '1', 'kubernetes.io/cluster/other': 'owned' } });
    fake.addSubnet({ id: 'subnet-0d2', az: 'us-east-1d', free: 3, tags: { 'kubernetes.io/role/elb': '1' } });
    const err = (await provider()
      .ensure(albSpec())
      .catch((e: unknown) => e)) as ProviderError;
    expect(err.kind).toBe('invalid');
    expect(err.message).toBe(
      'no usable subnets for an internet-facing load balancer (needs 2 availability zones, only subnet-0a2 (us-east-1a) qualifies); candidates: ' +
        'subnet-0c2 (us-east-1c): tagged for another cluster (other), not prod; subnet-0d2 (us-east-1d): only 3 free addresses (needs 8); ' +
        'tag subnets kubernetes.io/role/elb=1 and kubernetes.io/cluster/prod=shared, or name them in alb.ingress.kubernetes.io/subnets',
    );
  });
});

describe('ALB updates', () => {
  it('no change: only Describe calls (rules included)', async () => {
    const p = provider();
    await p.ensure(albSpec());
    fake.resetLog();
    await p.ensure(albSpec());
    expect(writes()).toEqual([]);
    expect(fake.actions()).toContain('DescribeRules');
  });

  it('a rule inserted in front: rules move by priority, one new rule at the end', async () => {
    const p = provider();
    await p.ensure(albSpec());
    fake.resetLog();
    const spec = albSpec({
      rules: [
        { host: 'shop.example.com', path: '/cart', pathType: 'Exact', targetSet: 'shop/api:8080', source: 'shop/api' },
        { host: 'shop.example.com', path: '/api', pathType: 'Prefix', targetSet: 'shop/api:8080', source: 'shop/api' },
        { host: 'shop.example.com', path: '/', pathType: 'Prefix', targetSet: 'shop/web:80', source: 'shop/web' },
      ],
    });
    expect((await p.plan(spec)).map((c) => `${c.op} ${c.resource} ${c.id}`)).toEqual(['update Rule HTTP:80/1', 'update Rule HTTP:80/2', 'create Rule HTTP:80/3']);
    await p.ensure(spec);
    expect(writes()).toEqual(['ModifyRule', 'ModifyRule', 'CreateRule']);
    fake.resetLog();
    await p.ensure(spec);
    expect(writes()).toEqual([]);
  });

  it('a backend gone: its rule deleted, the target group deleted after the rules let go', async () => {
    const p = provider();
    await p.ensure(albSpec());
    fake.resetLog();
    await p.ensure(albSpec({ backends: [{ key: 'shop/web:80', nodePort: 31080 }], rules: [{ path: '/', pathType: 'Prefix', targetSet: 'shop/web:80', source: 'shop/web' }] }));
    expect(writes()).toEqual(['DeleteRule', 'ModifyRule', 'DeleteTargetGroup']);
    expect(fake.tgs.size).toBe(1);
  });

  it('inbound-cidrs replaces the open rule of the managed security group', async () => {
    const p = provider();
    await p.ensure(albSpec());
    fake.resetLog();
    await p.ensure(albSpec({ annotations: { 'alb.ingress.kubernetes.io/inbound-cidrs': '10.0.0.0/8' } }));
    expect(writes()).toEqual(['AuthorizeSecurityGroupIngress', 'RevokeSecurityGroupIngress']);
    expect(fake.last('RevokeSecurityGroupIngress')?.params).toMatchObject({ 'IpPermissions.1.IpRanges.1.CidrIp': '0.0.0.0/0' });
  });

  it('load-balancer-attributes and target-group-attributes: set once, then left alone', async () => {
    const p = provider();
    const spec = albSpec({
      annotations: { 'alb.ingress.kubernetes.io/load-balancer-attributes': 'idle_timeout.timeout_seconds=120', 'alb.ingress.kubernetes.io/target-group-attributes': 'deregistration_delay.timeout_seconds=30' },
    });
    await p.ensure(spec);
    expect(writes().filter((w) => w.startsWith('Modify'))).toEqual(['ModifyTargetGroupAttributes', 'ModifyTargetGroupAttributes', 'ModifyLoadBalancerAttributes']);
    fake.resetLog();
    await p.ensure(spec);
    expect(writes()).toEqual([]);
  });
});

describe('ALB delete', () => {
  it('removes everything tagged for the group', async () => {
    const p = provider();
    await p.ensure(albSpec());
    await p.delete(ING_REF);
    expect(fake.taggedFor(CLUSTER)).toEqual([]);
    expect(fake.listeners.size + fake.rules.size).toBe(0);
  });
});

describe('ALB for an IngressGroup whose members set their own target-group annotations', () => {
  // aws-load-balancer-controller annotations.md: target-type and healthcheck-* are
  // "Ingress,Service" annotations with no group MergeBehavior: each Ingress's apply to its own backends.
  it('one target group per member backend, each with its own target type and health check, each created once', async () => {
    const p = provider();
    const member = (name: string, svc: string, annotations: Record<string, string>) =>
      ingress(
        name,
        { rules: [{ host: `${name}.example.com`, http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: svc, port: { number: 80 } } } }] } }] },
        { 'alb.ingress.kubernetes.io/group.name': 'shop', 'alb.ingress.kubernetes.io/scheme': 'internet-facing', ...annotations },
        'shop',
      );
    const built = buildIngressModel({
      ingresses: [
        member('a', 'web', { 'alb.ingress.kubernetes.io/target-type': 'ip', 'alb.ingress.kubernetes.io/healthcheck-path': '/a' }),
        member('b', 'api', { 'alb.ingress.kubernetes.io/target-type': 'instance', 'alb.ingress.kubernetes.io/healthcheck-path': '/b' }),
      ],
      services: [
        service('web', { type: 'ClusterIP', ports: [{ port: 80, targetPort: 8080 }] }, undefined, 'shop'),
        service('api', { type: 'NodePort', ports: [{ port: 80, targetPort: 8080, nodePort: 31081 }] }, undefined, 'shop'),
      ],
      endpointSlices: [{ ...slice('web', [{ port: 8080 }], [{ ip: '10.0.1.5' }]), metadata: { name: 'web-1', namespace: 'shop', labels: { 'kubernetes.io/service-name': 'web' } } }],
      secrets: [],
      nodes: [node('n1', { providerID: 'aws:///us-east-1a/i-0aaa', ip: '10.0.0.10' })],
      provider: p,
      className: 'alb',
      clusterName: CLUSTER,
    });
    if (!built.ok) throw new Error(JSON.stringify(built));
    await p.ensure(built.spec);
    const created = fake.all('CreateTargetGroup').map((r) => [r.params.TargetType, r.params.HealthCheckPath, r.params.Port]);
    expect(created.sort()).toEqual([
      ['instance', '/b', '31081'],
      ['ip', '/a', '8080'],
    ]);
    expect(fake.all('DeleteTargetGroup')).toEqual([]);
    const registered = fake.all('RegisterTargets').map((r) => r.params['Targets.member.1.Id']).sort();
    expect(registered).toEqual(['10.0.1.5', 'i-0aaa']);
  });
});

describe('ALB for an IngressGroup whose members share one Service port', () => {
  // aws-load-balancer-controller pkg/ingress/model_build_target_group.go: one target group
  // per Ingress, Service and port (buildTargetGroupResourceID "<ns>/<ingress>-<service>:<port>";
  // buildTargetGroupName hashes the Ingress's namespace and name), built from
  // svcAndIngAnnotations, so each Ingress's target-group annotations shape its own group.
  it('a target group per member, each with its own target type and health check, each created once; each rule forwards to its member’s', async () => {
    const p = provider();
    const member = (name: string, annotations: Record<string, string>) =>
      ingress(
        name,
        { rules: [{ host: `${name}.example.com`, http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } }] } }] },
        { 'alb.ingress.kubernetes.io/group.name': 'shop', ...annotations },
        'shop',
      );
    const spec = ingressGroupSpec(
      p,
      [
        member('a', { 'alb.ingress.kubernetes.io/target-type': 'ip', 'alb.ingress.kubernetes.io/healthcheck-path': '/a' }),
        member('b', { 'alb.ingress.kubernetes.io/target-type': 'instance', 'alb.ingress.kubernetes.io/healthcheck-path': '/b' }),
        member('c', { 'alb.ingress.kubernetes.io/target-type': 'instance', 'alb.ingress.kubernetes.io/success-codes': '200-399' }),
      ],
      [service('web', { type: 'NodePort', ports: [{ port: 80, targetPort: 8080, nodePort: 31080 }] }, undefined, 'shop')],
      [{ ...slice('web', [{ port: 8080 }], [{ ip: '10.0.1.5' }]), metadata: { name: 'web-1', namespace: 'shop', labels: { 'kubernetes.io/service-name': 'web' } } }],
    );
    await p.ensure(spec);
    const created = fake.all('CreateTargetGroup').map((r) => [r.params.TargetType, r.params.Port, r.params.HealthCheckPath, r.params['Matcher.HttpCode']]);
    expect(created.sort()).toEqual([
      ['instance', '31080', '/', '200-399'],
      ['instance', '31080', '/b', '200'],
      ['ip', '8080', '/a', '200'],
    ]);
    const names = fake.all('CreateTargetGroup').map((r) => r.params.Name);
    expect(new Set(names).size).toBe(3);
    expect(fake.all('DeleteTargetGroup')).toEqual([]);
    // Each member's rule forwards to its own group.
    const arnByName = new Map([...fake.tgs.values()].map((tg) => [tg.name, tg.arn]));
    const tgOf = (set: string): string | undefined => {
      const tags = fake.all('CreateTargetGroup').find((r) => Object.entries(r.params).some(([k, v]) => k.endsWith('.Value') && v === set));
      return tags ? arnByName.get(tags.params.Name ?? '') : undefined;
    };
    expect(new Set(['a', 'b', 'c'].map((m) => tgOf(`shop/web:80@${m}`))).size).toBe(3);
    expect(tgOf('shop/web:80@a')).toMatch(/^arn:aws:elasticloadbalancing:/);
    const forwards = fake.all('CreateRule').map((r) => [r.params['Conditions.member.1.Values.member.1'] ?? r.params['Conditions.member.1.HostHeaderConfig.Values.member.1'], r.params['Actions.member.1.TargetGroupArn']]);
    expect(forwards.sort()).toEqual([
      ['a.example.com', tgOf('shop/web:80@a')],
      ['b.example.com', tgOf('shop/web:80@b')],
      ['c.example.com', tgOf('shop/web:80@c')],
    ]);
    fake.resetLog();
    await p.ensure(spec);
    expect(writes()).toEqual([]);
  });
});
