// A LoadBalancerConfiguration's listenerConfigurations on an ALB Gateway (aws-load-balancer-
// controller v3.5 docs/guide/gateway/loadbalancerconfig.md "ListenerConfiguration";
// pkg/gateway/model/model_build_listener.go): the parser, a GatewayClass's and a
// Gateway's configurations merged as ALBC's lb_config_merger.go, and the exact ELBv2
// requests of create, update, no-op and removal against the fake.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LOAD_BALANCER_CONFIGURATION, mergeLoadBalancerConfigurations } from '../../../src/providers/aws/load-balancer-configuration.js';
import { parseListenerConfigurations } from '../../../src/providers/aws/listener-configuration.js';
import type { GatewaySpec } from '../../../src/model/spec.js';
import type { AwsLbOptions } from '../../../src/providers/aws/annotations.js';
import type { FakeAws } from './fake-aws.js';
import { backend, gatewaySpec, httpRule, parsedLoadBalancerConfiguration, prefix } from './gateway-support.js';
import { provider, seededFake } from './support.js';

describe('parseListenerConfigurations', () => {
  it('reads protocolPort, certificates (default first), sslPolicy, alpnPolicy and mutualAuthentication; a false quicEnabled asks for nothing', () => {
    expect(
      parseListenerConfigurations([
        {
          protocolPort: 'HTTPS:443',
          defaultCertificate: 'arn:aws:acm:us-east-1:1:certificate/a',
          certificates: ['arn:aws:acm:us-east-1:1:certificate/b'],
          sslPolicy: 'ELBSecurityPolicy-TLS13-1-2-2021-06',
          alpnPolicy: 'None',
          mutualAuthentication: { mode: 'verify', trustStore: 'shop-clients', advertiseTrustStoreCaNames: 'on' },
          quicEnabled: false,
        },
        { protocolPort: ':80' },
      ]),
    ).toEqual({
      ok: true,
      value: [
        {
          protocolPort: 'HTTPS:443',
          protocol: 'HTTPS',
          port: 443,
          defaultCertificate: 'arn:aws:acm:us-east-1:1:certificate/a',
          certificates: ['arn:aws:acm:us-east-1:1:certificate/b'],
          sslPolicy: 'ELBSecurityPolicy-TLS13-1-2-2021-06',
          alpnPolicy: 'None',
          mutualAuthentication: { port: 443, mode: 'verify', trustStore: 'shop-clients', advertiseTrustStoreCaNames: 'on' },
        },
        { protocolPort: ':80', port: 80 },
      ],
    });
  });

  it('refuses by field: a port missing or twice, a certificate that is no ARN, an unknown policy, ALBC\'s mutual TLS rules, what lbc does not implement', () => {
    const r = parseListenerConfigurations([
      { protocolPort: 'HTTPS:' },
      { protocolPort: 'HTTPS:443', defaultCertificate: 'shop-cert', sslPolicy: 'modern', alpnPolicy: 'h2' },
      { protocolPort: 'HTTP:443', mutualAuthentication: { mode: 'passthrough', trustStore: 'shop-clients' } },
      { protocolPort: 'HTTPS:8443', mutualAuthentication: { mode: 'verify' }, listenerAttributes: [{ key: 'server enabled', value: 'x' }, { key: 'a.b', value: '1' }, { key: 'a.b', value: '2' }, { key: 'c' }], targetGroupStickiness: 'yes' },
    ]);
    expect(r).toEqual({
      ok: false,
      errors: [
        'spec.listenerConfigurations[0].protocolPort: HTTPS: is not PROTOCOL:PORT with a port in [1, 65535]',
        'spec.listenerConfigurations[1].defaultCertificate: shop-cert is not a certificate ARN',
        'spec.listenerConfigurations[1].sslPolicy: modern is not a predefined ELB security policy (ELBSecurityPolicy-...)',
        'spec.listenerConfigurations[1].alpnPolicy: h2 is not one of HTTP1Only, HTTP2Only, HTTP2Optional, HTTP2Preferred, None',
        'spec.listenerConfigurations[2].protocolPort: port 443 is configured already by HTTPS:443',
        'spec.listenerConfigurations[2].mutualAuthentication: Mutual Authentication mode passthrough does not support trustStore for port 443',
        'spec.listenerConfigurations[3].targetGroupStickiness: not a boolean',
        'spec.listenerConfigurations[3].mutualAuthentication: trustStore is required when mutualAuthentication mode is verify for port 8443',
        'spec.listenerConfigurations[3].listenerAttributes[0].key: server enabled is not an ELBv2 listener attribute key (letters, digits, "." and "_", at most 256)',
        'spec.listenerConfigurations[3].listenerAttributes[2].key: a.b is given twice',
        'spec.listenerConfigurations[3].listenerAttributes[3]: not a {key, value} pair of strings',
      ],
    });
  });
});

describe('mergeLoadBalancerConfigurations (ALBC lb_config_merger.go)', () => {
  const ofClass = parsedLoadBalancerConfiguration({
    scheme: 'internal',
    tags: { team: 'platform', tier: 'edge' },
    loadBalancerAttributes: [{ key: 'idle_timeout.timeout_seconds', value: '60' }],
    listenerConfigurations: [{ protocolPort: 'HTTPS:443', defaultCertificate: 'arn:aws:acm:us-east-1:1:certificate/class' }, { protocolPort: 'HTTPS:8443', sslPolicy: 'ELBSecurityPolicy-TLS13-1-2-2021-06' }],
  });
  const ofGateway = parsedLoadBalancerConfiguration({
    scheme: 'internet-facing',
    loadBalancerName: 'shop-edge',
    tags: { team: 'shop' },
    loadBalancerAttributes: [{ key: 'deletion_protection.enabled', value: 'true' }, { key: 'idle_timeout.timeout_seconds', value: '120' }],
    listenerConfigurations: [{ protocolPort: 'HTTPS:443', defaultCertificate: 'arn:aws:acm:us-east-1:1:certificate/gw' }],
  });

  it('prefer-gateway-class (the default): the class wins each conflict; tags and attributes by key, listener entries by protocolPort', () => {
    expect(mergeLoadBalancerConfigurations(ofClass, ofGateway)).toEqual({
      scheme: 'internal',
      name: 'shop-edge',
      tags: { team: 'platform', tier: 'edge' },
      loadBalancerAttributes: { 'deletion_protection.enabled': 'true', 'idle_timeout.timeout_seconds': '60' },
      listenerConfigurations: [
        { protocolPort: 'HTTPS:443', protocol: 'HTTPS', port: 443, defaultCertificate: 'arn:aws:acm:us-east-1:1:certificate/class' },
        { protocolPort: 'HTTPS:8443', protocol: 'HTTPS', port: 8443, sslPolicy: 'ELBSecurityPolicy-TLS13-1-2-2021-06' },
      ],
    });
  });

  it('prefer-gateway, set on the class: the Gateway wins; a Gateway\'s own mergingMode is not honoured', () => {
    const merged = mergeLoadBalancerConfigurations({ ...ofClass, mergingMode: 'prefer-gateway' }, ofGateway);
    expect(merged).toMatchObject({ scheme: 'internet-facing', tags: { team: 'shop', tier: 'edge' }, loadBalancerAttributes: { 'idle_timeout.timeout_seconds': '120' } });
    expect(merged.listenerConfigurations?.map((c) => c.defaultCertificate ?? c.sslPolicy)).toEqual(['arn:aws:acm:us-east-1:1:certificate/gw', 'ELBSecurityPolicy-TLS13-1-2-2021-06']);
    expect(mergeLoadBalancerConfigurations(ofClass, { ...ofGateway, mergingMode: 'prefer-gateway' })).toMatchObject({ scheme: 'internal' });
  });
});

describe('listenerConfigurations on an ALB Gateway', () => {
  let fake: FakeAws;
  let certA: string;
  let certB: string;
  let store: string;
  beforeEach(() => {
    fake = seededFake();
    certA = fake.addCertificate({ id: 'a', domain: 'shop.example.com' });
    certB = fake.addCertificate({ id: 'b', domain: 'api.example.com' });
    store = fake.addTrustStore('shop-clients');
  });
  afterEach(() => fake.uninstall());

  const https = [{ name: 'https', rules: [httpRule(0, [prefix('/')], [backend('shop/web:80')], { route: 'secure' })] }];
  const configured = (spec: Record<string, unknown>, extra: Partial<GatewaySpec<AwsLbOptions>> = {}): GatewaySpec<AwsLbOptions> => ({
    ...gatewaySpec({ https }),
    parameters: { ...LOAD_BALANCER_CONFIGURATION, namespace: 'shop', name: 'cfg', value: parsedLoadBalancerConfiguration(spec) },
    ...extra,
  });
  const listener = (port: number) => fake.all('CreateListener').find((r) => r.params['Port'] === String(port))?.params;
  const arnOf443 = (): string => [...fake.listeners.values()].find((l) => l.port === 443)?.arn ?? '';

  it('create: the default certificate on CreateListener, the others in one AddListenerCertificates, its SSL policy, mutual TLS with the trust store resolved by name; no ACM discovery', async () => {
    await provider().ensure(
      configured({
        listenerConfigurations: [
          { protocolPort: 'HTTPS:443', defaultCertificate: certA, certificates: [certB], sslPolicy: 'ELBSecurityPolicy-TLS13-1-2-2021-06', alpnPolicy: 'None', mutualAuthentication: { mode: 'verify', trustStore: 'shop-clients' } },
        ],
      }),
    );
    expect(fake.all('ListCertificates')).toEqual([]);
    expect(fake.all('DescribeTrustStores').map((r) => r.params)).toEqual([{ 'Names.member.1': 'shop-clients' }]);
    expect(listener(443)).toEqual({
      LoadBalancerArn: expect.any(String),
      Port: '443',
      Protocol: 'HTTPS',
      SslPolicy: 'ELBSecurityPolicy-TLS13-1-2-2021-06',
      'Certificates.member.1.CertificateArn': certA,
      'DefaultActions.member.1.Type': 'fixed-response',
      'DefaultActions.member.1.FixedResponseConfig.StatusCode': '404',
      'DefaultActions.member.1.FixedResponseConfig.ContentType': 'text/plain',
      'MutualAuthentication.Mode': 'verify',
      'MutualAuthentication.TrustStoreArn': store,
      'MutualAuthentication.IgnoreClientCertificateExpiry': 'false',
      ...Object.fromEntries(Object.entries(listener(443) ?? {}).filter(([k]) => k.startsWith('Tags.'))),
    });
    expect(fake.all('AddListenerCertificates').map((r) => r.params)).toEqual([{ ListenerArn: arnOf443(), 'Certificates.member.1.CertificateArn': certB }]);
    // The HTTP listener takes nothing of the HTTPS entry.
    expect(Object.keys(listener(80) ?? {}).filter((k) => k.startsWith('Certificates') || k.startsWith('SslPolicy') || k.startsWith('MutualAuthentication'))).toEqual([]);
  });

  it('an ensure again writes nothing; a changed SSL policy is one ModifyListener; removing mutual TLS is one ModifyListener to off', async () => {
    const entry = { protocolPort: 'HTTPS:443', defaultCertificate: certA, mutualAuthentication: { mode: 'passthrough' } };
    await provider().ensure(configured({ listenerConfigurations: [entry] }));
    fake.resetLog();
    await provider().ensure(configured({ listenerConfigurations: [entry] }));
    expect(fake.writes()).toEqual([]);
    await provider().ensure(configured({ listenerConfigurations: [{ ...entry, sslPolicy: 'ELBSecurityPolicy-TLS13-1-2-2021-06' }] }));
    expect(fake.writes().map((r) => [r.action, r.params])).toEqual([['ModifyListener', { ListenerArn: arnOf443(), SslPolicy: 'ELBSecurityPolicy-TLS13-1-2-2021-06' }]]);
    fake.resetLog();
    await provider().ensure(configured({ listenerConfigurations: [{ protocolPort: 'HTTPS:443', defaultCertificate: certA, sslPolicy: 'ELBSecurityPolicy-TLS13-1-2-2021-06' }] }));
    expect(fake.writes().map((r) => [r.action, r.params])).toEqual([['ModifyListener', { ListenerArn: arnOf443(), 'MutualAuthentication.Mode': 'off' }]]);
  });

  it('a GatewayClass\'s configuration (spec.classParameters) merged with the Gateway\'s: prefer-gateway-class picks the class\'s certificate', async () => {
    const spec = configured(
      { listenerConfigurations: [{ protocolPort: 'HTTPS:443', defaultCertificate: certB }] },
      { classParameters: { ...LOAD_BALANCER_CONFIGURATION, namespace: 'infra', name: 'platform', value: parsedLoadBalancerConfiguration({ scheme: 'internal', listenerConfigurations: [{ protocolPort: 'HTTPS:443', defaultCertificate: certA }] }) } },
    );
    await provider().ensure(spec);
    expect(fake.last('CreateLoadBalancer')?.params).toMatchObject({ Scheme: 'internal' });
    expect(listener(443)).toMatchObject({ 'Certificates.member.1.CertificateArn': certA });
    expect(fake.all('AddListenerCertificates')).toEqual([]);
  });

  it('said, not dropped: certificateRefs beside configured certificates, an ALPN policy (an NLB\'s), a protocol other than the listener\'s', async () => {
    const spec = configured({ listenerConfigurations: [{ protocolPort: 'TLS:443', defaultCertificate: certA, alpnPolicy: 'HTTP2Preferred' }] });
    const port = spec.ports[1];
    if (port?.protocol !== 'HTTPS') throw new Error('HTTPS port expected');
    const withSecret = { ...spec, ports: [spec.ports[0], { ...port, listeners: port.listeners.map((l) => ({ ...l, certificates: [{ source: 'secret' as const, secretRef: { namespace: 'shop', name: 'tls' }, hosts: [], certPem: 'c', keyPem: 'k' }] })) }].flatMap((p) => (p ? [p] : [])) };
    const status = await provider().ensure(withSecret);
    expect(listener(443)).toMatchObject({ 'Certificates.member.1.CertificateArn': certA });
    expect(status.notices?.map((n) => n.message).filter((m) => m.startsWith('listener')).sort()).toEqual([
      'listener https: tls.certificateRefs are not used: an ALB serves ACM certificates only, and aws-load-balancer-controller ignores certificateRefs too; it takes listenerConfigurations TLS:443\'s certificates',
      'listenerConfigurations TLS:443 applies to the HTTPS listener on port 443: entries are matched by port, as aws-load-balancer-controller matches them',
      'listenerConfigurations TLS:443: alpnPolicy HTTP2Preferred is ignored: ALPN policies are for the TLS listeners of a Network Load Balancer, not an ALB\'s (as aws-load-balancer-controller)',
    ]);
  });

  it('mutual TLS asked for on an HTTP listener stops the Gateway before anything is made (it protects the application)', async () => {
    await expect(provider().ensure(configured({ listenerConfigurations: [{ protocolPort: 'HTTP:80', mutualAuthentication: { mode: 'passthrough' } }] }))).rejects.toMatchObject({
      kind: 'invalid',
      message: 'listenerConfigurations HTTP:80: mutualAuthentication mode passthrough needs an HTTPS listener; port 80 is HTTP',
    });
    expect(fake.writes()).toEqual([]);
  });
});
