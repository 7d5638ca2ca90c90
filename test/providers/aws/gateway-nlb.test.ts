// A Gateway of TCP, UDP and TLS listeners on AWS through the real SDK clients against the
// fake: a Network Load Balancer, as aws-load-balancer-controller builds for its NLB
// GatewayClass (gateway.k8s.aws/nlb), with the exact requests of create, a backend change
// (the fewest writes), no-op (no write) and delete, TCP_UDP, TLS Terminate with ACM and
// Passthrough as TCP, and the refusals an NLB calls for.
import { CreateListenerCommand, ModifyListenerCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { GatewayPort } from '../../../src/model/gateway.js';
import type { ProviderError } from '../../../src/providers/types.js';
import type { FakeAws } from './fake-aws.js';
import { backend, gatewaySpec, GW_REF, l4Rule, nlbGatewaySpec, tlsListener } from './gateway-support.js';
import { CLUSTER, provider, seededFake } from './support.js';

let fake: FakeAws;
beforeEach(() => {
  fake = seededFake();
});
afterEach(() => fake.uninstall());

const writes = (): string[] => fake.writes().map((r) => r.action);
const tgArn = (nodePort: number, protocol = 'TCP'): string => [...fake.tgs.values()].find((t) => t.port === nodePort && t.protocol === protocol)?.arn ?? '';
const withoutTags = (p: Record<string, string> | undefined): Record<string, string> => Object.fromEntries(Object.entries(p ?? {}).filter(([k]) => !k.startsWith('Tags.')));
const tcp = (port: number, backends: ReturnType<typeof backend>[], route = 'db'): GatewayPort => ({ protocol: 'TCP', port, listener: `tcp-${port}`, rules: [l4Rule('TCPRoute', route, backends)] });
const udp = (port: number, backends: ReturnType<typeof backend>[]): GatewayPort => ({ protocol: 'UDP', port, listener: `udp-${port}`, rules: [l4Rule('UDPRoute', 'dns', backends)] });

describe('NLB Gateway create', () => {
  it('a TCPRoute: one TCP listener forwarding to one TCP target group, an NLB tagged as ALBC tags its NLB Gateways', async () => {
    const status = await provider().ensure(nlbGatewaySpec());
    expect(writes()).toEqual(['CreateSecurityGroup', 'AuthorizeSecurityGroupIngress', 'CreateTargetGroup', 'RegisterTargets', 'CreateLoadBalancer', 'CreateListener']);
    expect(fake.last('CreateLoadBalancer')?.params).toMatchObject({ Type: 'network', Scheme: 'internet-facing' });
    expect(fake.last('AuthorizeSecurityGroupIngress')?.params).toMatchObject({ 'IpPermissions.1.IpProtocol': 'tcp', 'IpPermissions.1.FromPort': '5432', 'IpPermissions.1.ToPort': '5432' });
    expect(fake.last('CreateTargetGroup')?.params).toMatchObject({ Protocol: 'TCP', Port: '31432', TargetType: 'instance', HealthCheckProtocol: 'TCP', HealthCheckPort: 'traffic-port' });
    expect(withoutTags(fake.last('CreateListener')?.params)).toEqual({
      LoadBalancerArn: expect.any(String),
      Port: '5432',
      Protocol: 'TCP',
      'DefaultActions.member.1.Type': 'forward',
      'DefaultActions.member.1.TargetGroupArn': tgArn(31432),
    });
    expect(status.ingress).toEqual([{ hostname: expect.stringMatching(/^k8s-shop-edge-[0-9a-f]{10}-/), ports: [{ port: 5432, protocol: 'TCP' }] }]);
    const lbTags = fake.tags.get([...fake.lbs.keys()][0] ?? '') ?? {};
    // pkg/gateway/constants NLBGatewayTagPrefix: gateway.k8s.aws.nlb.
    expect(lbTags).toMatchObject({ 'gateway.k8s.aws.nlb/stack': 'shop/edge', 'gateway.k8s.aws.nlb/resource': 'LoadBalancer', 'lbc.dev/owner-kind': 'Gateway', 'lbc.dev/owner-uid': 'uid-gw-1' });
    expect(lbTags['gateway.k8s.aws.alb/stack']).toBeUndefined();
  });

  it('a UDPRoute: a UDP listener, a UDP target group (health checked over TCP), udp in the security group', async () => {
    await provider().ensure(nlbGatewaySpec({ ports: [udp(53, [backend('shop/dns:53/UDP')])] }));
    expect(fake.last('CreateTargetGroup')?.params).toMatchObject({ Protocol: 'UDP', Port: '31053', HealthCheckProtocol: 'TCP' });
    expect(fake.last('CreateListener')?.params).toMatchObject({ Port: '53', Protocol: 'UDP', 'DefaultActions.member.1.TargetGroupArn': tgArn(31053, 'UDP') });
    expect(fake.last('AuthorizeSecurityGroupIngress')?.params).toMatchObject({ 'IpPermissions.1.IpProtocol': 'udp', 'IpPermissions.1.FromPort': '53' });
  });

  it('a TCPRoute and a UDPRoute on one port to one Service port: one TCP_UDP listener and target group (ALBC mergeProtocols)', async () => {
    const status = await provider().ensure(nlbGatewaySpec({ ports: [tcp(53, [backend('shop/dns:53/TCP')], 'dns'), udp(53, [backend('shop/dns:53/UDP')])] }));
    expect(fake.all('CreateTargetGroup').map((r) => r.params['Protocol'])).toEqual(['TCP_UDP']);
    expect(fake.all('CreateListener').map((r) => [r.params['Port'], r.params['Protocol'], r.params['DefaultActions.member.1.TargetGroupArn']])).toEqual([['53', 'TCP_UDP', tgArn(31053, 'TCP_UDP')]]);
    expect(status.ingress?.[0]?.ports).toEqual([
      { port: 53, protocol: 'TCP' },
      { port: 53, protocol: 'UDP' },
    ]);
  });

  it('weighted backendRefs: a weighted forward (NLB weighted target groups), weights scaled into 0-999', async () => {
    await provider().ensure(nlbGatewaySpec({ ports: [tcp(5432, [backend('shop/db:5432/TCP', 9000), backend('shop/db-v2:5432/TCP', 1000)])] }));
    expect(withoutTags(fake.last('CreateListener')?.params)).toMatchObject({
      'DefaultActions.member.1.Type': 'forward',
      'DefaultActions.member.1.ForwardConfig.TargetGroups.member.1.TargetGroupArn': tgArn(31432),
      'DefaultActions.member.1.ForwardConfig.TargetGroups.member.1.Weight': '999',
      'DefaultActions.member.1.ForwardConfig.TargetGroups.member.2.TargetGroupArn': tgArn(31433),
      'DefaultActions.member.1.ForwardConfig.TargetGroups.member.2.Weight': '111',
    });
  });

  it('TLS Terminate: a TLS listener with the certificate-arn certificate and the SSL policy, a TCP target group', async () => {
    const cert = 'arn:aws:acm:us-east-1:123456789012:certificate/db';
    const ports: GatewayPort[] = [{ protocol: 'TLS', port: 5433, listeners: [tlsListener('tls', 'Terminate', [l4Rule('TLSRoute', 'secure', [backend('shop/tls:8443/TCP')])])] }];
    await provider().ensure(nlbGatewaySpec({ ports, annotations: { 'alb.ingress.kubernetes.io/certificate-arn': cert } }));
    expect(fake.actions('acm')).toEqual([]);
    expect(fake.last('CreateTargetGroup')?.params).toMatchObject({ Protocol: 'TCP', Port: '31443' });
    expect(withoutTags(fake.last('CreateListener')?.params)).toEqual({
      LoadBalancerArn: expect.any(String),
      Port: '5433',
      Protocol: 'TLS',
      'Certificates.member.1.CertificateArn': cert,
      SslPolicy: expect.stringMatching(/^ELBSecurityPolicy/),
      'DefaultActions.member.1.Type': 'forward',
      'DefaultActions.member.1.TargetGroupArn': tgArn(31443),
    });
  });

  it('TLS Terminate without a certificate named: discovered in ACM by the listener hostname, as the ALB path does', async () => {
    const arn = fake.addCertificate({ id: 'c-db', domain: 'db.example.com' });
    fake.addCertificate({ id: 'c-other', domain: 'other.example.com' });
    const ports: GatewayPort[] = [{ protocol: 'TLS', port: 5433, listeners: [tlsListener('tls', 'Terminate', [l4Rule('TLSRoute', 'secure', [backend('shop/tls:8443/TCP')])], 'db.example.com')] }];
    await provider().ensure(nlbGatewaySpec({ ports }));
    expect(fake.actions('acm')).toEqual(['ListCertificates']);
    expect(fake.last('CreateListener')?.params).toMatchObject({ Protocol: 'TLS', 'Certificates.member.1.CertificateArn': arn });
    // Nothing covers the hostname: refused before anything is created.
    fake.uninstall();
    fake = seededFake();
    const other: GatewayPort[] = [{ protocol: 'TLS', port: 5433, listeners: [tlsListener('tls', 'Terminate', [l4Rule('TLSRoute', 'secure', [backend('shop/tls:8443/TCP')])], 'nowhere.example.com')] }];
    await expect(provider().ensure(nlbGatewaySpec({ ports: other }))).rejects.toThrow(/TLS listener on port 5433: no ISSUED ACM certificate covers nowhere\.example\.com/);
    expect(writes()).toEqual([]);
  });

  it('TLS Passthrough: a TCP listener, with a warning that an NLB does not read SNI', async () => {
    const ports: GatewayPort[] = [{ protocol: 'TLS', port: 443, listeners: [tlsListener('pass', 'Passthrough', [l4Rule('TLSRoute', 'secure', [backend('shop/tls:8443/TCP')], { hostnames: ['db.example.com'] })], 'db.example.com')] }];
    const status = await provider().ensure(nlbGatewaySpec({ ports }));
    expect(withoutTags(fake.last('CreateListener')?.params)).toMatchObject({ Port: '443', Protocol: 'TCP', 'DefaultActions.member.1.TargetGroupArn': tgArn(31443) });
    expect(fake.last('CreateListener')?.params['Certificates.member.1.CertificateArn']).toBeUndefined();
    expect(status.notices?.map((n) => n.message)).toContainEqual(expect.stringContaining('does not read SNI, so connections for any hostname reach TLSRoute shop/secure'));
  });

  it('two TCPRoutes on one TCP listener: the oldest is served, the other named in a warning', async () => {
    const ports: GatewayPort[] = [
      { protocol: 'TCP', port: 5432, listener: 'pg', rules: [l4Rule('TCPRoute', 'newer', [backend('shop/db-v2:5432/TCP')], { created: '2026-12-02T00:00:00Z' }), l4Rule('TCPRoute', 'older', [backend('shop/db:5432/TCP')])] },
    ];
    const status = await provider().ensure(nlbGatewaySpec({ ports }));
    expect(fake.last('CreateListener')?.params).toMatchObject({ 'DefaultActions.member.1.TargetGroupArn': tgArn(31432) });
    expect(fake.all('CreateTargetGroup')).toHaveLength(1);
    expect(status.notices?.map((n) => n.message)).toContainEqual('TCP port 5432: a Network Load Balancer listener forwards to one route\'s backends; TCPRoute shop/older spec.rules[0] is served, TCPRoute shop/newer spec.rules[0] not');
  });

  it('a port whose backends all fail to resolve gets no listener: connections are refused, as the specification asks', async () => {
    const status = await provider().ensure(nlbGatewaySpec({ ports: [tcp(5432, [backend('shop/db:5432/TCP')]), tcp(6379, [backend(undefined)], 'cache')] }));
    expect(fake.all('CreateListener').map((r) => r.params['Port'])).toEqual(['5432']);
    expect(status.notices?.map((n) => n.message)).toContainEqual(expect.stringContaining('port 6379: no backend to forward to'));
  });
});

describe('NLB Gateway refusals: nothing written', () => {
  const refused = async (spec: ReturnType<typeof nlbGatewaySpec>, message: RegExp): Promise<void> => {
    const err = (await provider()
      .ensure(spec)
      .catch((e: unknown) => e)) as ProviderError;
    expect(err.kind).toBe('invalid');
    expect(err.message).toMatch(message);
    expect(writes()).toEqual([]);
  };

  it('HTTP and TCP listeners in one Gateway (an ALB and an NLB), before any ELBv2 call', async () => {
    const spec = { ...gatewaySpec(), ports: [...gatewaySpec().ports, tcp(5432, [backend('shop/db:5432/TCP')])] };
    await refused(spec, /has HTTP\/HTTPS listeners \(HTTP:80\) and TCP\/UDP\/TLS listeners \(TCP:5432\).*put them in two Gateways/);
    expect(fake.actions('elbv2')).toEqual([]);
  });

  it('two TLS listeners on one port whose routes need different backends (an NLB cannot choose by SNI)', () =>
    refused(
      nlbGatewaySpec({
        ports: [
          {
            protocol: 'TLS',
            port: 443,
            listeners: [
              tlsListener('a', 'Passthrough', [l4Rule('TLSRoute', 'a', [backend('shop/tls:8443/TCP')])], 'a.example.com'),
              tlsListener('b', 'Passthrough', [l4Rule('TLSRoute', 'b', [backend('shop/db:5432/TCP')], { created: '2026-12-02T00:00:00Z' })], 'b.example.com'),
            ],
          },
        ],
      }),
      /TLS port 443: TLSRoute shop\/a spec\.rules\[0\] and TLSRoute shop\/b spec\.rules\[0\] forward to different backends; .*cannot choose by SNI/,
    ));

  it('a TCPRoute and a UDPRoute on one port to different Services (one TCP_UDP group cannot serve both)', () =>
    refused(nlbGatewaySpec({ ports: [tcp(53, [backend('shop/db:5432/TCP')]), udp(53, [backend('shop/dns:53/UDP')])] }), /port 53 is TCP and UDP, which needs one TCP_UDP target group/));

  it('WAF and Shield annotations, which protect ALBs: not served unprotected', async () => {
    await refused(nlbGatewaySpec({ annotations: { 'alb.ingress.kubernetes.io/wafv2-acl-arn': 'arn:aws:wafv2:us-east-1:123456789012:regional/webacl/x/1' } }), /wafv2-acl-arn does not apply to a Gateway of TCP, UDP or TLS listeners/);
    await refused(nlbGatewaySpec({ annotations: { 'alb.ingress.kubernetes.io/shield-advanced-protection': 'true' } }), /shield-advanced-protection does not apply/);
  });
});

describe('NLB Gateway update and delete', () => {
  it('no change: no write; a backend change: the new target group, one ModifyListener, the old group deleted', async () => {
    const p = provider();
    await p.ensure(nlbGatewaySpec());
    fake.resetLog();
    await p.ensure(nlbGatewaySpec());
    expect(writes()).toEqual([]);
    expect(await p.plan(nlbGatewaySpec())).toEqual([]);
    const moved = nlbGatewaySpec({ ports: [tcp(5432, [backend('shop/db-v2:5432/TCP')])] });
    await p.ensure(moved);
    expect(writes()).toEqual(['CreateTargetGroup', 'RegisterTargets', 'ModifyListener', 'DeleteTargetGroup']);
    expect(withoutTags(fake.last('ModifyListener')?.params)).toEqual({ ListenerArn: expect.any(String), 'DefaultActions.member.1.Type': 'forward', 'DefaultActions.member.1.TargetGroupArn': tgArn(31433) });
    fake.resetLog();
    await p.ensure(moved);
    expect(writes()).toEqual([]);
  });

  it('a weight change: exactly one ModifyListener with the new weights', async () => {
    const p = provider();
    const weighted = (a: number, b: number) => nlbGatewaySpec({ ports: [tcp(5432, [backend('shop/db:5432/TCP', a), backend('shop/db-v2:5432/TCP', b)])] });
    await p.ensure(weighted(90, 10));
    fake.resetLog();
    await p.ensure(weighted(50, 50));
    expect(writes()).toEqual(['ModifyListener']);
    expect(fake.last('ModifyListener')?.params).toMatchObject({ 'DefaultActions.member.1.ForwardConfig.TargetGroups.member.1.Weight': '50', 'DefaultActions.member.1.ForwardConfig.TargetGroups.member.2.Weight': '50' });
  });

  it('HTTP listeners replaced by TCP ones: the ALB is replaced by an NLB (the type cannot change in place)', async () => {
    const p = provider();
    await p.ensure(gatewaySpec());
    await p.ensure(nlbGatewaySpec());
    expect([...fake.lbs.values()].map((l) => l.type)).toEqual(['network']);
    expect([...fake.tgs.values()].map((t) => t.protocol)).toEqual(['TCP']);
  });

  it('delete leaves nothing tagged; a fresh process lists the Gateway’s NLB as owned, so the GC can find it', async () => {
    await provider().ensure(nlbGatewaySpec());
    const lb = [...fake.lbs.keys()][0];
    // Fails before Gateways were read back from tags: listOwned skipped them, and the GC never saw a leftover Gateway NLB.
    expect(await provider().listOwned()).toEqual([{ ref: GW_REF, id: lb }]);
    await provider().delete(GW_REF);
    expect(fake.taggedFor(CLUSTER)).toEqual([]);
    expect(await provider().listOwned()).toEqual([]);
  });
});

describe('the fake ELBv2 refuses listeners as ELBv2 does, so a wrong NLB Gateway cannot pass', () => {
  it('an HTTP listener on an NLB (ValidationError); a TCP listener forwarding to a UDP group (IncompatibleProtocols)', async () => {
    const p = provider();
    await p.ensure(nlbGatewaySpec({ ports: [tcp(5432, [backend('shop/db:5432/TCP')]), udp(53, [backend('shop/dns:53/UDP')])] }));
    const lb = [...fake.lbs.keys()][0] ?? '';
    const listener = [...fake.listeners.values()].find((l) => l.port === 5432)?.arn ?? '';
    const forward = (arn: string) => [{ Type: 'forward' as const, TargetGroupArn: arn }];
    await expect(p.api.elbv2Client.send(new CreateListenerCommand({ LoadBalancerArn: lb, Port: 80, Protocol: 'HTTP', DefaultActions: forward(tgArn(31432)) }))).rejects.toMatchObject({
      name: 'ValidationError',
      message: "Listener protocol 'HTTP' must be one of 'TLS, TCP, TCP_UDP, UDP'",
    });
    await expect(p.api.elbv2Client.send(new ModifyListenerCommand({ ListenerArn: listener, DefaultActions: forward(tgArn(31053, 'UDP')) }))).rejects.toMatchObject({ name: 'IncompatibleProtocolsException', message: expect.stringContaining('have incompatible protocols') });
  });
});
