// ACM certificate discovery for ALB HTTPS listeners without a certificate-arn annotation,
// through the real SDK clients (ACM over JSON 1.1) against the fake: which hosts are
// looked for, how certificates cover them, what is ignored, paging, and the errors.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildIngressModel } from '../../../src/controller/ingress-model.js';
import { ingress, node, service } from '../../controller/fixtures.js';
import { certificateHosts } from '../../../src/providers/aws/desired.js';
import { certificatesForHosts, coversHost } from '../../../src/providers/aws/certificates.js';
import type { ProviderError } from '../../../src/providers/types.js';
import { FakeAws } from './fake-aws.js';
import { albSpec, CLUSTER, provider, seededFake, seedNetwork } from './support.js';

let fake: FakeAws;
beforeEach(() => {
  fake = seededFake();
});
afterEach(() => fake.uninstall());

const HTTPS_ONLY = { 'alb.ingress.kubernetes.io/listen-ports': '[{"HTTPS": 443}]' };
const LIST_REQUEST = {
  CertificateStatuses: ['ISSUED'],
  Includes: { keyTypes: ['RSA_1024', 'RSA_2048', 'RSA_3072', 'RSA_4096', 'EC_prime256v1', 'EC_secp384r1', 'EC_secp521r1'] },
};
const writes = (): string[] => fake.writes().map((r) => r.action);
const listenerCerts = (): [string | undefined, string | undefined][] =>
  fake.all('CreateListener').map((r) => [r.params['Protocol'], r.params['Certificates.member.1.CertificateArn']]);
const added = (): string[] => fake.all('AddListenerCertificates').flatMap((r) => Object.entries(r.params).flatMap(([k, v]) => (k.endsWith('.CertificateArn') ? [v] : [])));
const failure = (p: Promise<unknown>): Promise<ProviderError> => p.then(() => Promise.reject(new Error('expected a failure')), (e: unknown) => e as ProviderError);

describe('ACM discovery: which hosts', () => {
  it('spec.tls hosts when given (rule hosts then ignored): one ListCertificates, first host default, the rest added', async () => {
    const www = fake.addCertificate({ id: 'c-www', domain: 'www.example.com' });
    const api = fake.addCertificate({ id: 'c-api', domain: 'api.example.com' });
    fake.addCertificate({ id: 'c-shop', domain: 'shop.example.com' });
    await provider().ensure(albSpec({ annotations: HTTPS_ONLY, tlsHosts: ['www.example.com', 'api.example.com'] }));
    expect(fake.actions('acm')).toEqual(['ListCertificates']);
    expect(fake.last('ListCertificates')?.body).toEqual(LIST_REQUEST);
    expect(listenerCerts()).toEqual([['HTTPS', api]]);
    expect(added()).toEqual([www]);
  });

  it('the rules hosts when no tls hosts; a certificate naming the host exactly wins over a wildcard', async () => {
    fake.addCertificate({ id: 'aaa-wildcard', domain: '*.example.com' });
    const exact = fake.addCertificate({ id: 'zzz-exact', domain: 'shop.example.org', sans: ['shop.example.com'] });
    await provider().ensure(albSpec({ annotations: HTTPS_ONLY }));
    expect(listenerCerts()).toEqual([['HTTPS', exact]]);
    expect(fake.all('AddListenerCertificates')).toEqual([]);
  });

  it('a wildcard certificate covers the hosts one label below it, through the default listen port too', async () => {
    const wild = fake.addCertificate({ id: 'c-wild', domain: '*.example.com' });
    await provider().ensure(
      albSpec({
        annotations: { 'alb.ingress.kubernetes.io/listen-ports': '[{"HTTP": 80}, {"HTTPS": 443}]' },
        rules: [
          { host: 'a.example.com', path: '/', pathType: 'Prefix', targetSet: 'shop/web:80', source: 'shop/web' },
          { host: 'B.Example.com', path: '/api', pathType: 'Prefix', targetSet: 'shop/api:8080', source: 'shop/api' },
        ],
      }),
    );
    expect(listenerCerts()).toEqual([
      ['HTTP', undefined],
      ['HTTPS', wild],
    ]);
    expect(fake.all('AddListenerCertificates')).toEqual([]);
  });

  it('no HTTPS listener: ACM is not read', async () => {
    fake.addCertificate({ id: 'c-shop', domain: 'shop.example.com' });
    await provider().ensure(albSpec());
    expect(fake.actions('acm')).toEqual([]);
  });

  it('an HTTPS listener and no host to look for: the invalid error says so, and ACM is not read', async () => {
    const err = await failure(provider().ensure(albSpec({ annotations: HTTPS_ONLY, rules: [{ path: '/', pathType: 'Prefix', targetSet: 'shop/web:80', source: 'shop/web' }] })));
    expect(err.kind).toBe('invalid');
    expect(err.message).toBe(
      'HTTPS listener on port 443 needs a certificate: set alb.ingress.kubernetes.io/certificate-arn, or give the Ingress hosts (spec.tls[].hosts or spec.rules[].host) to discover ACM certificates by',
    );
    expect(fake.actions('acm')).toEqual([]);
    expect(writes()).toEqual([]);
  });
});

describe('ACM discovery: what covers a host', () => {
  it('wildcards cover exactly one label', () => {
    expect(coversHost('*.example.com', 'a.example.com')).toBe(true);
    expect(coversHost('*.example.com', 'A.EXAMPLE.COM')).toBe(true);
    expect(coversHost('*.example.com', 'example.com')).toBe(false);
    expect(coversHost('*.example.com', 'a.b.example.com')).toBe(false);
    expect(coversHost('*.example.com', '.example.com')).toBe(false);
    expect(coversHost('*.example.com', '*.example.com')).toBe(true);
    expect(coversHost('example.com', 'a.example.com')).toBe(false);
    expect(coversHost('a.example.com', 'a.example.com')).toBe(true);
  });

  it('one certificate per host, deterministic: exact before wildcard, then the lowest ARN; hosts in sorted order', () => {
    const certs = [
      { arn: 'arn:c', domains: ['*.example.com'] },
      { arn: 'arn:b', domains: ['*.example.com'] },
      { arn: 'arn:z', domains: ['b.example.com'] },
    ];
    expect(certificatesForHosts(['c.example.com', 'b.example.com', 'a.example.com'], certs)).toEqual({ arns: ['arn:b', 'arn:z'], missing: [] });
    expect(certificatesForHosts(['x.y.example.com', 'example.com'], certs)).toEqual({ arns: [], missing: ['example.com', 'x.y.example.com'] });
  });

  it('tls hosts first, else rule and action rule hosts, lower case and sorted', () => {
    expect(certificateHosts(albSpec({ tlsHosts: ['b.example.com', 'a.example.com'] }))).toEqual(['a.example.com', 'b.example.com']);
    expect(certificateHosts(albSpec({ tlsHosts: [] }))).toEqual(['shop.example.com']);
    expect(certificateHosts(albSpec({ rules: [{ path: '/', pathType: 'Prefix', targetSet: 'shop/web:80', source: 'shop/web' }] }))).toEqual([]);
  });

  it('a wildcard does not cover the apex nor two labels down: the invalid error names each such host, before any write', async () => {
    fake.addCertificate({ id: 'c-wild', domain: '*.example.com' });
    const err = await failure(provider().ensure(albSpec({ annotations: HTTPS_ONLY, tlsHosts: ['example.com', 'a.b.example.com', 'c.example.com'] })));
    expect(err.kind).toBe('invalid');
    expect(err.message).toBe(
      'HTTPS listener on port 443: no ISSUED ACM certificate covers hosts a.b.example.com, example.com; request or import one, or set alb.ingress.kubernetes.io/certificate-arn',
    );
    expect(writes()).toEqual([]);
  });

  it('only ISSUED certificates count', async () => {
    fake.addCertificate({ id: 'a-pending', domain: 'shop.example.com', status: 'PENDING_VALIDATION' });
    fake.addCertificate({ id: 'b-expired', domain: 'shop.example.com', status: 'EXPIRED' });
    const issued = fake.addCertificate({ id: 'c-issued', domain: 'shop.example.com' });
    await provider().ensure(albSpec({ annotations: HTTPS_ONLY }));
    expect(listenerCerts()).toEqual([['HTTPS', issued]]);

    const other = seededFake(seedNetwork);
    try {
      other.addCertificate({ id: 'only-pending', domain: 'www.example.com', status: 'PENDING_VALIDATION' });
      const err = await failure(provider().ensure(albSpec({ annotations: HTTPS_ONLY, tlsHosts: ['www.example.com'] })));
      expect(err.kind).toBe('invalid');
      expect(err.message).toMatch(/no ISSUED ACM certificate covers host www\.example\.com;/);
    } finally {
      other.uninstall();
    }
  });

  it('certificates with other key types (ECDSA) are listed too', async () => {
    const ec = fake.addCertificate({ id: 'c-ec', domain: 'shop.example.com', keyAlgorithm: 'EC_prime256v1' });
    await provider().ensure(albSpec({ annotations: HTTPS_ONLY }));
    expect(listenerCerts()).toEqual([['HTTPS', ec]]);
  });
});

describe('ACM discovery: reading ACM', () => {
  it('pages through ListCertificates with NextToken', async () => {
    fake.acmPageSize = 1;
    fake.addCertificate({ id: 'a', domain: 'one.example.org' });
    fake.addCertificate({ id: 'b', domain: 'two.example.org' });
    const last = fake.addCertificate({ id: 'c', domain: 'shop.example.com' });
    await provider().ensure(albSpec({ annotations: HTTPS_ONLY }));
    expect(fake.all('ListCertificates').map((r) => r.body)).toEqual([LIST_REQUEST, { ...LIST_REQUEST, NextToken: 'page-1' }, { ...LIST_REQUEST, NextToken: 'page-2' }]);
    expect(listenerCerts()).toEqual([['HTTPS', last]]);
  });

  it('DescribeCertificate only for a certificate whose summary leaves names out', async () => {
    fake.acmSummaryNames = 1;
    fake.addCertificate({ id: 'a-single', domain: 'one.example.org' });
    const many = fake.addCertificate({ id: 'b-many', domain: 'two.example.org', sans: ['shop.example.com'] });
    await provider().ensure(albSpec({ annotations: HTTPS_ONLY }));
    expect(fake.actions('acm')).toEqual(['ListCertificates', 'DescribeCertificate']);
    expect(fake.last('DescribeCertificate')?.body).toEqual({ CertificateArn: many });
    expect(listenerCerts()).toEqual([['HTTPS', many]]);
  });

  it('a throttled ListCertificates is retried through the provider policy', async () => {
    const cert = fake.addCertificate({ id: 'c-shop', domain: 'shop.example.com' });
    fake.fail({ action: 'ListCertificates', code: 'ThrottlingException', status: 400 });
    await provider().ensure(albSpec({ annotations: HTTPS_ONLY }));
    expect(fake.actions('acm')).toEqual(['ListCertificates', 'ListCertificates']);
    expect(listenerCerts()).toEqual([['HTTPS', cert]]);
  });

  it('the certificate-arn annotation wins: no ACM call', async () => {
    fake.addCertificate({ id: 'c-shop', domain: 'shop.example.com' });
    const given = 'arn:aws:acm:us-east-1:123456789012:certificate/given';
    await provider().ensure(albSpec({ annotations: { ...HTTPS_ONLY, 'alb.ingress.kubernetes.io/certificate-arn': given } }));
    expect(fake.actions('acm')).toEqual([]);
    expect(listenerCerts()).toEqual([['HTTPS', given]]);
  });

  it('a second ensure with nothing changed lists ACM again and writes nothing', async () => {
    fake.addCertificate({ id: 'c-www', domain: 'www.example.com' });
    fake.addCertificate({ id: 'c-wild', domain: '*.example.com' });
    const p = provider();
    const spec = albSpec({ annotations: HTTPS_ONLY, tlsHosts: ['www.example.com', 'shop.example.com'] });
    await p.ensure(spec);
    expect(fake.all('AddListenerCertificates')).toHaveLength(1);
    fake.resetLog();
    await p.ensure(spec);
    expect(writes()).toEqual([]);
    expect(fake.actions('acm')).toEqual(['ListCertificates']);
    expect(await p.plan(spec)).toEqual([]);
  });

  it('a certificate that disappears from ACM is replaced on the listener by the next ensure', async () => {
    const wild = fake.addCertificate({ id: 'a-wild', domain: '*.example.com' });
    const exact = fake.addCertificate({ id: 'b-shop', domain: 'shop.example.com' });
    const p = provider();
    await p.ensure(albSpec({ annotations: HTTPS_ONLY }));
    expect(listenerCerts()).toEqual([['HTTPS', exact]]);
    fake.certificates.delete(exact);
    fake.resetLog();
    await p.ensure(albSpec({ annotations: HTTPS_ONLY }));
    expect(writes()).toEqual(['ModifyListener']);
    expect(fake.last('ModifyListener')?.params['Certificates.member.1.CertificateArn']).toBe(wild);
  });
});

describe('ACM discovery through one endpoint override', () => {
  it('options.endpoint reaches ACM as it reaches ELBv2 and EC2', async () => {
    fake.uninstall();
    const endpoint = 'https://aws.lbc.test';
    fake = new FakeAws().install(endpoint);
    seedNetwork(fake);
    const cert = fake.addCertificate({ id: 'c-shop', domain: 'shop.example.com' });
    const p = provider({ endpoint }, { clients: { clientConfig: { credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' } } } });
    await p.ensure(albSpec({ annotations: HTTPS_ONLY }));
    expect(fake.actions('acm')).toEqual(['ListCertificates']);
    expect(listenerCerts()).toEqual([['HTTPS', cert]]);
  });
});

describe('ACM discovery from an Ingress', () => {
  it('spec.tls hosts without a secretName reach ACM discovery through the Ingress model', async () => {
    const cert = fake.addCertificate({ id: 'c-www', domain: 'www.example.com' });
    const p = provider();
    const built = buildIngressModel({
      ingresses: [
        ingress(
          'site',
          { tls: [{ hosts: ['www.example.com'] }], rules: [{ host: 'shop.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } }] } }] },
          { 'alb.ingress.kubernetes.io/listen-ports': '[{"HTTPS": 443}]', 'alb.ingress.kubernetes.io/target-type': 'instance' },
        ),
      ],
      services: [service('web', { type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }] })],
      endpointSlices: [],
      secrets: [],
      nodes: [node('n1', { ip: '10.0.0.10', providerID: 'aws:///us-east-1a/i-0aaa' })],
      provider: p,
      className: 'lbc.dev/aws',
      clusterName: CLUSTER,
    });
    if (!built.ok) throw new Error(JSON.stringify(built));
    expect(built.spec.tlsHosts).toEqual(['www.example.com']);
    await p.ensure(built.spec);
    expect(listenerCerts()).toEqual([['HTTPS', cert]]);
  });
});
