// mutual-authentication (#16), as aws-load-balancer-controller v3.5 reads it:
// pkg/shared_utils/mutual_auth_utils.go (validateMutualAuthenticationConfig's error texts,
// ParseMtlsConfigEntries' IgnoreClientCertificateExpiry=false for verify,
// parseMtlsAttributesForTrustStoreNames: names through DescribeTrustStores(Names)) and
// pkg/ingress/model_build_listener.go (computeIngressMutualAuthentication: an entry applies
// to the HTTPS listener of its port). The field is written with CreateListener or
// ModifyListener; a resync that finds it as wanted writes nothing. moto 5.2 has no trust
// stores (no DescribeTrustStores, no MutualAuthentication on listeners), so these run on
// the fake only.
import { DescribeTrustStoresCommand, ElasticLoadBalancingV2Client, ModifyListenerCommand, type MutualAuthenticationAttributes } from '@aws-sdk/client-elastic-load-balancing-v2';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseAwsOptions } from '../../../src/providers/aws/annotations.js';
import { errorCode } from '../../../src/providers/aws/errors.js';
import { ELB_HOST, REGION, type FakeAws } from './fake-aws.js';
import { gatewaySpec } from './gateway-support.js';
import { albSpec, fakeClients, provider, seededFake } from './support.js';

const KEY = 'alb.ingress.kubernetes.io/mutual-authentication';
const CERT = 'arn:aws:acm:us-east-1:123456789012:certificate/11111111-1111-1111-1111-111111111111';
const HTTPS = { 'alb.ingress.kubernetes.io/listen-ports': '[{"HTTP": 80}, {"HTTPS": 443}]', 'alb.ingress.kubernetes.io/certificate-arn': CERT };

let fake: FakeAws;
let STORE: string;
let OTHER: string;
beforeEach(() => {
  fake = seededFake();
  STORE = fake.addTrustStore('shop-clients');
  OTHER = fake.addTrustStore('partners');
});
afterEach(() => fake.uninstall());

const mtls = (entries: unknown[]): Record<string, string> => ({ ...HTTPS, [KEY]: JSON.stringify(entries) });
const listener443 = () => [...fake.listeners.values()].find((l) => l.port === 443);
const parseError = (value: string, extra: Record<string, string> = HTTPS): unknown => {
  const r = parseAwsOptions({ ...extra, [KEY]: value }, 'Ingress');
  return r.ok ? 'parsed' : r.errors;
};

describe('mutual-authentication: ALBC validateMutualAuthenticationConfig, word for word', () => {
  it.each([
    ['[{"port": 443}]', 'mutualAuthentication mode cannot be empty for port 443'],
    ['[{"port": 443, "mode": "strict"}]', 'mutualAuthentication mode value must be among [off, passthrough, verify] for protocol HTTPS port 443 : strict'],
    ['[{"port": 0, "mode": "off"}]', 'listen port must be within [1, 65535]: 0'],
    ['[{"port": 443, "mode": "verify"}]', 'trustStore is required when mutualAuthentication mode is verify for port 443'],
    ['[{"port": 443, "mode": "off", "trustStore": "shop-clients"}]', 'Mutual Authentication mode off does not support trustStore for port 443'],
    ['[{"port": 443, "mode": "passthrough", "trustStore": "shop-clients"}]', 'Mutual Authentication mode passthrough does not support trustStore for port 443'],
    ['[{"port": 443, "mode": "off", "ignoreClientCertificateExpiry": true}]', 'Mutual Authentication mode off does not support ignoring client certificate expiry for port 443'],
    ['[{"port": 443, "mode": "passthrough", "ignoreClientCertificateExpiry": false}]', 'Mutual Authentication mode passthrough does not support ignoring client certificate expiry for port 443'],
    ['[{"port": 443, "mode": "passthrough", "advertiseTrustStoreCaNames": "on"}]', 'Mutual Authentication mode passthrough does not support advertiseTrustStoreCaNames for port 443'],
    ['[{"port": 443, "mode": "verify", "trustStore": "shop-clients", "advertiseTrustStoreCaNames": "yes"}]', 'advertiseTrustStoreCaNames only supports the values "on" and "off" got value yes for port 443'],
    ['[]', 'empty mutualAuthentication configuration from ingress annotation: `[]`'],
  ])('%s → %s', (value, reason) => {
    expect(parseError(value)).toEqual([{ annotation: KEY, reason }]);
  });

  it('not JSON, or a wrong type: ALBC\'s "failed to parse" with the value', () => {
    expect(parseError('port=443')).toEqual([{ annotation: KEY, reason: expect.stringMatching(/^failed to parse mutualAuthentication configuration from ingress annotation: `port=443`: /) as unknown }]);
    expect(parseError('[{"port": "443", "mode": "off"}]')).toEqual([
      { annotation: KEY, reason: expect.stringMatching(/^failed to parse mutualAuthentication configuration from ingress annotation: .*0\.port: /) as unknown },
    ]);
  });

  it('lbc refuses what ALBC drops without a word: a misspelt key, a port twice, a port that is not an HTTPS listen-port', () => {
    expect(parseError('[{"port": 443, "mode": "verify", "truststore": "shop-clients"}]')).toEqual([{ annotation: KEY, reason: expect.stringContaining('truststore') as unknown }]);
    expect(parseError('[{"port": 443, "mode": "off"}, {"port": 443, "mode": "passthrough"}]')).toEqual([{ annotation: KEY, reason: 'port 443 is listed more than once' }]);
    expect(parseError('[{"port": 80, "mode": "passthrough"}]')).toEqual([
      { annotation: KEY, reason: 'port 80 is not an HTTPS port of alb.ingress.kubernetes.io/listen-ports; ALB authenticates clients on HTTPS listeners only' },
    ]);
  });

  it('is no longer refused as unimplemented: a valid value parses into the options', () => {
    const r = parseAwsOptions(mtls([{ port: 443, mode: 'verify', trustStore: 'shop-clients', advertiseTrustStoreCaNames: 'on' }]), 'Ingress');
    expect(r.ok && r.options.mutualAuthentication).toEqual([{ port: 443, mode: 'verify', trustStore: 'shop-clients', advertiseTrustStoreCaNames: 'on' }]);
  });
});

describe('mutual-authentication on the ALB', () => {
  it('verify with a trust store name: DescribeTrustStores(Names) resolves it, CreateListener carries the ARN and IgnoreClientCertificateExpiry=false', async () => {
    await provider().ensure(albSpec({ annotations: mtls([{ port: 443, mode: 'verify', trustStore: 'shop-clients' }]) }));
    expect(fake.all('DescribeTrustStores').map((r) => r.params)).toEqual([{ 'Names.member.1': 'shop-clients' }]);
    const create = fake.all('CreateListener').find((r) => r.params['Port'] === '443');
    expect(Object.fromEntries(Object.entries(create?.params ?? {}).filter(([k]) => k.startsWith('MutualAuthentication.')))).toEqual({
      'MutualAuthentication.Mode': 'verify',
      'MutualAuthentication.TrustStoreArn': STORE,
      'MutualAuthentication.IgnoreClientCertificateExpiry': 'false',
    });
    // The HTTP listener is created as before, without the field.
    expect(Object.keys(fake.all('CreateListener').find((r) => r.params['Port'] === '80')?.params ?? {}).some((k) => k.startsWith('MutualAuthentication'))).toBe(false);
    expect(listener443()?.mutualAuthentication).toEqual({ mode: 'verify', trustStoreArn: STORE, ignoreClientCertificateExpiry: false, advertiseTrustStoreCaNames: 'off' });
  });

  it('a trust store ARN: checked with DescribeTrustStores(TrustStoreArns), sent as given, with the options the user set', async () => {
    await provider().ensure(albSpec({ annotations: mtls([{ port: 443, mode: 'verify', trustStore: OTHER, ignoreClientCertificateExpiry: true, advertiseTrustStoreCaNames: 'on' }]) }));
    expect(fake.all('DescribeTrustStores').map((r) => r.params)).toEqual([{ 'TrustStoreArns.member.1': OTHER }]);
    expect(listener443()?.mutualAuthentication).toEqual({ mode: 'verify', trustStoreArn: OTHER, ignoreClientCertificateExpiry: true, advertiseTrustStoreCaNames: 'on' });
  });

  it('a resync with the same value writes nothing (ELBv2 reports AdvertiseTrustStoreCaNames "off" that was never set)', async () => {
    const spec = albSpec({ annotations: mtls([{ port: 443, mode: 'verify', trustStore: 'shop-clients' }]) });
    await provider().ensure(spec);
    fake.resetLog();
    await provider().ensure(spec);
    expect(fake.writes()).toEqual([]);
  });

  it('no annotation: an HTTPS listener ELBv2 reports as "off" is left alone, and nothing is looked up', async () => {
    const spec = albSpec({ annotations: HTTPS });
    await provider().ensure(spec);
    expect(fake.all('DescribeTrustStores')).toEqual([]);
    expect(Object.keys(fake.all('CreateListener').find((r) => r.params['Port'] === '443')?.params ?? {}).some((k) => k.startsWith('MutualAuthentication'))).toBe(false);
    fake.resetLog();
    await provider().ensure(spec);
    expect(fake.writes()).toEqual([]);
  });

  it('a mode change is one ModifyListener with the whole field, nothing else', async () => {
    await provider().ensure(albSpec({ annotations: mtls([{ port: 443, mode: 'passthrough' }]) }));
    expect(listener443()?.mutualAuthentication).toEqual({ mode: 'passthrough' });
    fake.resetLog();
    await provider().ensure(albSpec({ annotations: mtls([{ port: 443, mode: 'verify', trustStore: 'partners' }]) }));
    expect(fake.writes().map((r) => [r.action, r.params])).toEqual([
      [
        'ModifyListener',
        {
          ListenerArn: listener443()?.arn,
          'MutualAuthentication.Mode': 'verify',
          'MutualAuthentication.TrustStoreArn': OTHER,
          'MutualAuthentication.IgnoreClientCertificateExpiry': 'false',
        },
      ],
    ]);
  });

  it('the annotation removed: one ModifyListener turns mutual TLS off', async () => {
    await provider().ensure(albSpec({ annotations: mtls([{ port: 443, mode: 'verify', trustStore: 'shop-clients' }]) }));
    fake.resetLog();
    await provider().ensure(albSpec({ annotations: HTTPS }));
    expect(fake.writes().map((r) => [r.action, r.params])).toEqual([['ModifyListener', { ListenerArn: listener443()?.arn, 'MutualAuthentication.Mode': 'off' }]]);
    expect(listener443()?.mutualAuthentication).toEqual({ mode: 'off' });
  });

  it('an unknown trust store name: ALBC\'s "couldn\'t find TrustStore", and nothing is created', async () => {
    await expect(provider().ensure(albSpec({ annotations: mtls([{ port: 443, mode: 'verify', trustStore: 'nobody' }]) }))).rejects.toMatchObject({
      kind: 'invalid',
      message: expect.stringMatching(/^couldn't find TrustStore with names \[nobody\]: .*One or more trust stores not found/) as unknown,
    });
    expect(fake.writes()).toEqual([]);
  });

  it('an unknown trust store ARN: stopped before anything is created (ELBv2 TrustStoreNotFound)', async () => {
    const gone = STORE.replace(/[0-9a-f]{16}$/, '0000000000000000');
    await expect(provider().ensure(albSpec({ annotations: mtls([{ port: 443, mode: 'verify', trustStore: gone }]) }))).rejects.toMatchObject({ kind: 'invalid', message: expect.stringContaining(gone) as unknown });
    expect(fake.writes()).toEqual([]);
  });

  it('a port the load balancer has no HTTPS listener on (no listen-ports: HTTP 80 only): refused at synthesis, nothing created', async () => {
    await expect(provider().ensure(albSpec({ annotations: { [KEY]: '[{"port": 443, "mode": "passthrough"}]' } }))).rejects.toMatchObject({
      kind: 'invalid',
      message: expect.stringContaining('alb.ingress.kubernetes.io/mutual-authentication: port 443 is not an HTTPS listener of this load balancer (HTTP:80)') as unknown,
    });
    expect(fake.writes()).toEqual([]);
  });
});

describe('mutual-authentication on a Gateway', () => {
  it('refused, pointing to where ALBC takes a Gateway listener\'s mutual TLS (a LoadBalancerConfiguration\'s listenerConfigurations): nothing created', async () => {
    await expect(provider().ensure(gatewaySpec({ annotations: { [KEY]: '[{"port": 443, "mode": "passthrough"}]' } }))).rejects.toMatchObject({
      kind: 'invalid',
      message: expect.stringMatching(/alb\.ingress\.kubernetes\.io\/mutual-authentication does not apply to a Gateway: .*listenerConfigurations\[\]\.mutualAuthentication/) as unknown,
    });
    expect(fake.writes()).toEqual([]);
  });
});

describe('the fake refuses what ELBv2 refuses', () => {
  it('ValidationError for mutual TLS on an HTTP listener, verify without a trust store, options of verify in another mode; TrustStoreNotFound for an unknown one', async () => {
    await provider().ensure(albSpec({ annotations: HTTPS }));
    const http = [...fake.listeners.values()].find((l) => l.port === 80)?.arn ?? '';
    const https = listener443()?.arn ?? '';
    const client = new ElasticLoadBalancingV2Client({ region: REGION, endpoint: ELB_HOST, ...fakeClients().clientConfig, maxAttempts: 1 });
    const modify = (ListenerArn: string, MutualAuthentication: MutualAuthenticationAttributes) =>
      client.send(new ModifyListenerCommand({ ListenerArn, MutualAuthentication })).then(
        () => 'accepted',
        (e: unknown) => errorCode(e),
      );
    expect(await modify(http, { Mode: 'passthrough' })).toBe('ValidationError');
    expect(await modify(https, { Mode: 'verify' })).toBe('ValidationError');
    expect(await modify(https, { Mode: 'passthrough', TrustStoreArn: STORE })).toBe('ValidationError');
    // ELBv2's own refusal, as hashicorp/terraform-provider-aws#34861 quotes it.
    expect(await modify(https, { Mode: 'passthrough', IgnoreClientCertificateExpiry: false })).toBe('ValidationError');
    expect(await modify(https, { Mode: 'verify', TrustStoreArn: `${STORE}0` })).toBe('TrustStoreNotFound');
    expect(await client.send(new DescribeTrustStoresCommand({ Names: ['nobody'] })).then(() => 'found', (e: unknown) => errorCode(e))).toBe('TrustStoreNotFound');
    expect(await modify(https, { Mode: 'verify', TrustStoreArn: STORE })).toBe('accepted');
    client.destroy();
  });
});
