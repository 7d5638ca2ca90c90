// A LoadBalancerConfiguration's listenerConfigurations[].listenerAttributes on ALB and NLB
// Gateways, the TLS settings of an NLB Gateway's TLS listeners (certificates, sslPolicy,
// alpnPolicy) and an NLB listener's targetGroupStickiness, as aws-load-balancer-controller
// v3.5 builds them (model_build_listener.go buildListenerAttributes, buildCertificates,
// buildSSLPolicy, buildListenerALPNPolicy, buildL4ListenerDefaultActions) and
// writes them (pkg/deploy/elbv2/listener_attributes_reconciler.go: the keys given, compared
// with DescribeListenerAttributes, the differing ones in one ModifyListenerAttributes):
// the exact ELBv2 requests of create, change (the fewest writes) and no-op (none), the
// refusals before anything is built, and the fake refusing what ELBv2 refuses.
import { CreateListenerCommand, ModifyListenerAttributesCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { GatewayPort } from '../../../src/model/gateway.js';
import type { GatewaySpec } from '../../../src/model/spec.js';
import type { AwsLbOptions } from '../../../src/providers/aws/annotations.js';
import { listenerAttributesProblems } from '../../../src/providers/aws/listener-attributes.js';
import { LOAD_BALANCER_CONFIGURATION } from '../../../src/providers/aws/load-balancer-configuration.js';
import type { ProviderError } from '../../../src/providers/types.js';
import type { FakeAws } from './fake-aws.js';
import { backend, gatewaySpec, httpRule, l4Rule, nlbGatewaySpec, parsedLoadBalancerConfiguration, prefix, tlsListener } from './gateway-support.js';
import { provider, seededFake } from './support.js';

const withConfiguration = (spec: GatewaySpec<AwsLbOptions>, listenerConfigurations: unknown[]): GatewaySpec<AwsLbOptions> => ({
  ...spec,
  parameters: { ...LOAD_BALANCER_CONFIGURATION, namespace: 'shop', name: 'cfg', value: parsedLoadBalancerConfiguration({ listenerConfigurations }) },
});
const attr = (key: string, value: string) => ({ key, value });
const HSTS = 'routing.http.response.strict_transport_security.header_value';
const SERVER = 'routing.http.response.server.enabled';
const IDLE = 'tcp.idle_timeout.seconds';

let fake: FakeAws;
beforeEach(() => {
  fake = seededFake();
});
afterEach(() => fake.uninstall());

const writes = (): [string, Record<string, string>][] => fake.writes().map((r) => [r.action, r.params]);
const listenerArn = (port: number): string => [...fake.listeners.values()].find((l) => l.port === port)?.arn ?? '';

describe('which listener attributes ELBv2 takes, by listener protocol', () => {
  it('TCP: the idle timeout, 60-6000 s; TLS, UDP, TCP_UDP: none; HTTP: the response headers; HTTPS: the mTLS/TLS header names too', () => {
    expect(listenerAttributesProblems('TCP', { [IDLE]: '600' })).toEqual([]);
    expect(listenerAttributesProblems('TCP', { [IDLE]: '30' })).toEqual(['tcp.idle_timeout.seconds: 30 is not a whole number of seconds in [60, 6000]']);
    expect(listenerAttributesProblems('TLS', { [IDLE]: '600' })).toEqual(['tcp.idle_timeout.seconds is not an attribute of a TLS listener (it takes none)']);
    expect(listenerAttributesProblems('UDP', { [IDLE]: '600' })).toEqual(['tcp.idle_timeout.seconds is not an attribute of a UDP listener (it takes none)']);
    expect(listenerAttributesProblems('HTTP', { [SERVER]: 'false', [HSTS]: 'max-age=31536000' })).toEqual([]);
    expect(listenerAttributesProblems('HTTP', { [SERVER]: 'no', 'routing.http.request.x_amzn_tls_version.header_name': 'X-Tls' })).toEqual([
      'routing.http.response.server.enabled: no is not true or false',
      'routing.http.request.x_amzn_tls_version.header_name is not an attribute of an HTTP listener (it takes the routing.http.* header attributes)',
    ]);
    expect(listenerAttributesProblems('HTTPS', { 'routing.http.request.x_amzn_mtls_clientcert.header_name': 'X-Client-Cert', [IDLE]: '600' })).toEqual([
      'tcp.idle_timeout.seconds is not an attribute of an HTTPS listener (it takes the routing.http.* header attributes)',
    ]);
  });
});

describe('listenerAttributes on an ALB Gateway', () => {
  const https = [{ name: 'https', rules: [httpRule(0, [prefix('/')], [backend('shop/web:80')], { route: 'secure' })] }];
  let cert: string;
  beforeEach(() => {
    cert = fake.addCertificate({ id: 'a', domain: 'shop.example.com' });
  });
  const spec = (http: unknown[], secure: unknown[]): GatewaySpec<AwsLbOptions> =>
    withConfiguration(gatewaySpec({ https }), [
      { protocolPort: 'HTTP:80', listenerAttributes: http },
      { protocolPort: 'HTTPS:443', defaultCertificate: cert, listenerAttributes: secure },
    ]);

  it('create: each listener, then one ModifyListenerAttributes with its keys; again: read, nothing written; one value changed: one call with that key only', async () => {
    await provider().ensure(spec([attr(SERVER, 'false')], [attr(HSTS, 'max-age=31536000'), attr(SERVER, 'false')]));
    const w = writes().map(([a]) => a);
    // Each listener's attributes follow its CreateListener (CreateListener takes none).
    expect(w.filter((a) => a === 'CreateListener' || a === 'ModifyListenerAttributes')).toEqual(['CreateListener', 'ModifyListenerAttributes', 'CreateListener', 'ModifyListenerAttributes']);
    expect(fake.all('ModifyListenerAttributes').map((r) => r.params)).toEqual([
      { ListenerArn: listenerArn(80), 'Attributes.member.1.Key': SERVER, 'Attributes.member.1.Value': 'false' },
      {
        ListenerArn: listenerArn(443),
        'Attributes.member.1.Key': SERVER,
        'Attributes.member.1.Value': 'false',
        'Attributes.member.2.Key': HSTS,
        'Attributes.member.2.Value': 'max-age=31536000',
      },
    ]);
    fake.resetLog();
    await provider().ensure(spec([attr(SERVER, 'false')], [attr(HSTS, 'max-age=31536000'), attr(SERVER, 'false')]));
    expect(writes()).toEqual([]);
    expect(fake.all('DescribeListenerAttributes').map((r) => r.params['ListenerArn']).sort()).toEqual([listenerArn(80), listenerArn(443)].sort());
    fake.resetLog();
    await provider().ensure(spec([attr(SERVER, 'false')], [attr(HSTS, 'max-age=63072000'), attr(SERVER, 'false')]));
    expect(writes()).toEqual([['ModifyListenerAttributes', { ListenerArn: listenerArn(443), 'Attributes.member.1.Key': HSTS, 'Attributes.member.1.Value': 'max-age=63072000' }]]);
  });

  it('a listener without listenerAttributes is never read for them', async () => {
    await provider().ensure(spec([], [attr(SERVER, 'false')]));
    fake.resetLog();
    await provider().ensure(spec([], [attr(SERVER, 'false')]));
    expect(fake.all('DescribeListenerAttributes').map((r) => r.params)).toEqual([{ ListenerArn: listenerArn(443) }]);
  });

  it('an mTLS header name on the HTTP listener (ELBv2 takes it on HTTPS only): refused by entry before anything is made', async () => {
    await expect(provider().ensure(spec([attr('routing.http.request.x_amzn_mtls_clientcert.header_name', 'X-Cert')], []))).rejects.toMatchObject({
      kind: 'invalid',
      message: 'listenerConfigurations HTTP:80: listenerAttributes: routing.http.request.x_amzn_mtls_clientcert.header_name is not an attribute of an HTTP listener (it takes the routing.http.* header attributes)',
    } satisfies Partial<ProviderError>);
    expect(writes()).toEqual([]);
  });
});

describe('listenerConfigurations on an NLB Gateway', () => {
  const tcp = (port: number): GatewayPort => ({ protocol: 'TCP', port, listener: `tcp-${port}`, rules: [l4Rule('TCPRoute', 'db', [backend('shop/db:5432/TCP')])] });
  const tls = (port: number, hostname?: string): GatewayPort => ({ protocol: 'TLS', port, listeners: [tlsListener('tls', 'Terminate', [l4Rule('TLSRoute', 'secure', [backend('shop/tls:8443/TCP')])], hostname)] });
  const udp = (port: number): GatewayPort => ({ protocol: 'UDP', port, listener: `udp-${port}`, rules: [l4Rule('UDPRoute', 'dns', [backend('shop/dns:53/UDP')])] });
  let certA: string;
  let certB: string;
  beforeEach(() => {
    certA = fake.addCertificate({ id: 'a', domain: 'db.example.com' });
    certB = fake.addCertificate({ id: 'b', domain: 'db2.example.com' });
  });

  it('TCP: the idle timeout after CreateListener; a TLS listener: its certificates (no ACM discovery), SSL policy and ALPN policy; again: nothing written', async () => {
    const entries = [
      { protocolPort: 'TCP:5432', listenerAttributes: [attr(IDLE, '600')] },
      { protocolPort: 'TLS:5433', defaultCertificate: certA, certificates: [certB], sslPolicy: 'ELBSecurityPolicy-TLS13-1-2-2021-06', alpnPolicy: 'HTTP2Preferred' },
    ];
    const spec = withConfiguration(nlbGatewaySpec({ ports: [tcp(5432), tls(5433, 'db.example.com')] }), entries);
    await provider().ensure(spec);
    expect(fake.actions('acm')).toEqual([]);
    const tlsCreate = fake.all('CreateListener').find((r) => r.params['Port'] === '5433')?.params ?? {};
    expect(Object.fromEntries(Object.entries(tlsCreate).filter(([k]) => !k.startsWith('Tags.') && !k.startsWith('DefaultActions.')))).toEqual({
      LoadBalancerArn: expect.any(String),
      Port: '5433',
      Protocol: 'TLS',
      'Certificates.member.1.CertificateArn': certA,
      SslPolicy: 'ELBSecurityPolicy-TLS13-1-2-2021-06',
      'AlpnPolicy.member.1': 'HTTP2Preferred',
    });
    expect(fake.all('AddListenerCertificates').map((r) => r.params)).toEqual([{ ListenerArn: listenerArn(5433), 'Certificates.member.1.CertificateArn': certB }]);
    expect(fake.all('ModifyListenerAttributes').map((r) => r.params)).toEqual([{ ListenerArn: listenerArn(5432), 'Attributes.member.1.Key': IDLE, 'Attributes.member.1.Value': '600' }]);
    fake.resetLog();
    await provider().ensure(spec);
    expect(writes()).toEqual([]);
    expect(fake.all('DescribeListenerAttributes').map((r) => r.params)).toEqual([{ ListenerArn: listenerArn(5432) }]);
  });

  it('a changed ALPN policy is one ModifyListener with it; a changed idle timeout one ModifyListenerAttributes; back to no ALPN policy: None', async () => {
    const spec = (alpnPolicy: string | undefined, idle: string): GatewaySpec<AwsLbOptions> =>
      withConfiguration(nlbGatewaySpec({ ports: [tcp(5432), tls(5433)] }), [
        { protocolPort: 'TCP:5432', listenerAttributes: [attr(IDLE, idle)] },
        { protocolPort: 'TLS:5433', defaultCertificate: certA, ...(alpnPolicy !== undefined ? { alpnPolicy } : {}) },
      ]);
    await provider().ensure(spec('HTTP2Only', '600'));
    fake.resetLog();
    await provider().ensure(spec('HTTP1Only', '900'));
    expect(writes()).toEqual([
      ['ModifyListenerAttributes', { ListenerArn: listenerArn(5432), 'Attributes.member.1.Key': IDLE, 'Attributes.member.1.Value': '900' }],
      ['ModifyListener', { ListenerArn: listenerArn(5433), 'AlpnPolicy.member.1': 'HTTP1Only' }],
    ]);
    fake.resetLog();
    await provider().ensure(spec(undefined, '900'));
    expect(writes()).toEqual([['ModifyListener', { ListenerArn: listenerArn(5433), 'AlpnPolicy.member.1': 'None' }]]);
  });

  it('TLS settings on a UDP port are ignored with a warning naming them', async () => {
    const status = await provider().ensure(withConfiguration(nlbGatewaySpec({ ports: [udp(53)] }), [{ protocolPort: 'UDP:53', sslPolicy: 'ELBSecurityPolicy-TLS13-1-2-2021-06', alpnPolicy: 'HTTP2Only' }]));
    expect(fake.last('CreateListener')?.params).not.toHaveProperty('AlpnPolicy.member.1');
    expect(status.notices?.map((n) => n.message)).toContain('listenerConfigurations UDP:53: sslPolicy, alpnPolicy ignored: port 53 is a UDP listener, without TLS termination');
  });

  it('refused before anything is made: an idle timeout on a TLS listener (fixed at 350 s), mutual TLS (an ALB\'s, which protects)', async () => {
    await expect(provider().ensure(withConfiguration(nlbGatewaySpec({ ports: [tls(5433)] }), [{ protocolPort: 'TLS:5433', defaultCertificate: certA, listenerAttributes: [attr(IDLE, '600')] }]))).rejects.toMatchObject({
      kind: 'invalid',
      message: 'listenerConfigurations TLS:5433: listenerAttributes: tcp.idle_timeout.seconds is not an attribute of a TLS listener (it takes none)',
    });
    await expect(provider().ensure(withConfiguration(nlbGatewaySpec({ ports: [tcp(5432)] }), [{ protocolPort: 'TCP:5432', mutualAuthentication: { mode: 'passthrough' } }]))).rejects.toMatchObject({
      kind: 'invalid',
      message: expect.stringMatching(/^listenerConfigurations TCP:5432: mutualAuthentication mode passthrough is for the HTTPS listeners of an Application Load Balancer; a Network Load Balancer has no mutual TLS/),
    });
    expect(writes()).toEqual([]);
  });
});

describe('targetGroupStickiness (ALBC buildL4ListenerDefaultActions)', () => {
  const weighted = (): GatewayPort => ({ protocol: 'TCP', port: 5432, listener: 'tcp', rules: [l4Rule('TCPRoute', 'db', [backend('shop/db:5432/TCP', 9), backend('shop/db-v2:5432/TCP', 1)])] });
  const spec = (sticky: boolean | undefined): GatewaySpec<AwsLbOptions> =>
    withConfiguration(nlbGatewaySpec({ ports: [weighted()] }), sticky === undefined ? [] : [{ protocolPort: 'TCP:5432', targetGroupStickiness: sticky }]);
  const tg = (nodePort: number): string => [...fake.tgs.values()].find((t) => t.port === nodePort)?.arn ?? '';
  const forward = (key: string) => Object.fromEntries(Object.entries(fake.all(key).at(-1)?.params ?? {}).filter(([k]) => k.startsWith('DefaultActions.')));

  it('on an NLB listener: its weighted forward with stickiness enabled and no duration; again: nothing written; off again: one ModifyListener', async () => {
    await provider().ensure(spec(true));
    expect(forward('CreateListener')).toEqual({
      'DefaultActions.member.1.Type': 'forward',
      'DefaultActions.member.1.ForwardConfig.TargetGroups.member.1.TargetGroupArn': tg(31432),
      'DefaultActions.member.1.ForwardConfig.TargetGroups.member.1.Weight': '9',
      'DefaultActions.member.1.ForwardConfig.TargetGroups.member.2.TargetGroupArn': tg(31433),
      'DefaultActions.member.1.ForwardConfig.TargetGroups.member.2.Weight': '1',
      'DefaultActions.member.1.ForwardConfig.TargetGroupStickinessConfig.Enabled': 'true',
    });
    fake.resetLog();
    await provider().ensure(spec(true));
    expect(writes()).toEqual([]);
    await provider().ensure(spec(false));
    expect(writes().map(([a]) => a)).toEqual(['ModifyListener']);
    expect(Object.keys(forward('ModifyListener')).filter((k) => k.includes('Stickiness'))).toEqual([]);
    fake.resetLog();
    await provider().ensure(spec(undefined));
    expect(writes()).toEqual([]);
  });

  it('one backend, sticky: a forward config of one group with stickiness (ELBv2 reads it back alike, so again writes nothing)', async () => {
    const one = withConfiguration(nlbGatewaySpec(), [{ protocolPort: 'TCP:5432', targetGroupStickiness: true }]);
    await provider().ensure(one);
    expect(forward('CreateListener')).toMatchObject({ 'DefaultActions.member.1.ForwardConfig.TargetGroupStickinessConfig.Enabled': 'true', 'DefaultActions.member.1.ForwardConfig.TargetGroups.member.1.Weight': '1' });
    fake.resetLog();
    await provider().ensure(one);
    expect(writes()).toEqual([]);
  });

  it('on an ALB Gateway: ignored with a warning (its listeners forward by rules)', async () => {
    const status = await provider().ensure(withConfiguration(gatewaySpec(), [{ protocolPort: 'HTTP:80', targetGroupStickiness: true }]));
    expect(status.notices?.map((n) => n.message)).toContain(
      'listenerConfigurations HTTP:80: targetGroupStickiness is ignored: it is for the forward of a Network Load Balancer listener; an ALB Gateway forwards by rules, whose stickiness a ListenerRuleConfiguration sets (as aws-load-balancer-controller)',
    );
  });
});

describe('the fake ELBv2 refuses listener attributes and ALPN policies as ELBv2 does', () => {
  it('an ALB attribute on an NLB TCP listener, an idle timeout out of range (ValidationError); an ALPN policy on a TCP listener (ValidationError)', async () => {
    const p = provider();
    await p.ensure(nlbGatewaySpec());
    const arn = [...fake.listeners.values()][0]?.arn ?? '';
    const elbv2 = p.api.elbv2Client;
    await expect(elbv2.send(new ModifyListenerAttributesCommand({ ListenerArn: arn, Attributes: [{ Key: SERVER, Value: 'false' }] }))).rejects.toMatchObject({ name: 'ValidationError', message: `Listener attribute key '${SERVER}' is not recognized` });
    await expect(elbv2.send(new ModifyListenerAttributesCommand({ ListenerArn: arn, Attributes: [{ Key: IDLE, Value: '7000' }] }))).rejects.toMatchObject({ name: 'ValidationError' });
    const lb = [...fake.lbs.keys()][0] ?? '';
    await expect(
      elbv2.send(new CreateListenerCommand({ LoadBalancerArn: lb, Port: 9000, Protocol: 'TCP', AlpnPolicy: ['HTTP2Only'], DefaultActions: [{ Type: 'forward', TargetGroupArn: [...fake.tgs.keys()][0] ?? '' }] })),
    ).rejects.toMatchObject({ name: 'ValidationError', message: 'An ALPN policy can only be specified for TLS listeners, not TCP' });
    // DurationSeconds is an ALB's ("[Application Load Balancers]" in the ELBv2 API reference).
    const tgArn = [...fake.tgs.keys()][0] ?? '';
    await expect(
      elbv2.send(
        new CreateListenerCommand({
          LoadBalancerArn: lb,
          Port: 9001,
          Protocol: 'TCP',
          DefaultActions: [{ Type: 'forward', ForwardConfig: { TargetGroups: [{ TargetGroupArn: tgArn }], TargetGroupStickinessConfig: { Enabled: true, DurationSeconds: 60 } } }],
        }),
      ),
    ).rejects.toMatchObject({ name: 'ValidationError' });
  });
});
