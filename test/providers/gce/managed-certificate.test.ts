// GKE ManagedCertificate on an Ingress: Google-managed SslCertificates on the target
// HTTPS proxy, through the real clients and the fake API.
import { describe, expect, it } from 'vitest';
import { managedCertificateContent } from '../../../src/providers/gce/managed-certificate.js';
import { l7Names } from '../../../src/providers/gce/names.js';
import { CLUSTER_ID, l7, PROJECT, rejection } from './fixtures.js';
import { harnessPerTest } from './lifecycle.js';

const harness = harnessPerTest();

const V1 = `https://www.googleapis.com/compute/v1/projects/${PROJECT}`;
const names = l7Names(l7().ref, CLUSTER_ID);
const withManaged = (...sets: string[][]) => l7({}, { managedCertificates: sets.map((domains, i) => ({ source: `shop/cert-${i}`, domains })) });

describe('gce ManagedCertificate', () => {
  it('creates a MANAGED certificate per ManagedCertificate and serves HTTPS with them; the second ensure writes nothing', async () => {
    const h = harness();
    await h.provider.ensure(withManaged(['shop.example.com', 'www.shop.example.com']));
    expect(h.fake.violations).toEqual([]);
    const cert = names.sslCertificate(managedCertificateContent({ source: '', domains: ['www.shop.example.com', 'shop.example.com'] }));
    const insert = h.fake.log.find((c) => c.rpc === 'SslCertificates.Insert');
    expect(insert?.target).toBe(cert);
    // domainStatus: {} is the client's encoding of the map field lbc leaves unset.
    expect(insert?.body).toEqual({ name: cert, description: expect.any(String), type: 'MANAGED', managed: { domains: ['shop.example.com', 'www.shop.example.com'], domainStatus: {} } });
    expect(h.fake.get(`global/targetHttpsProxies/${names.httpsProxy}`)?.sslCertificates).toEqual([`${V1}/global/sslCertificates/${cert}`]);
    expect(h.fake.writes()).toContain(`GlobalForwardingRules.Insert ${names.httpsForwardingRule}`);
    h.fake.clearLog();
    await h.provider.ensure(withManaged(['www.shop.example.com', 'shop.example.com']));
    expect(h.fake.writes()).toEqual([]);
  });

  it('a changed domain list is a new certificate, switched to before the old one is deleted', async () => {
    const h = harness();
    await h.provider.ensure(withManaged(['shop.example.com']));
    const old = names.sslCertificate(managedCertificateContent({ source: '', domains: ['shop.example.com'] }));
    const next = names.sslCertificate(managedCertificateContent({ source: '', domains: ['shop.example.com', 'api.example.com'] }));
    h.fake.clearLog();
    await h.provider.ensure(withManaged(['shop.example.com', 'api.example.com']));
    expect(h.fake.violations).toEqual([]);
    expect(h.fake.writes()).toEqual([`SslCertificates.Insert ${next}`, `TargetHttpsProxies.SetSslCertificates ${names.httpsProxy}`, `SslCertificates.Delete ${old}`]);
  });

  it('refuses wildcard and empty domain lists before any write', async () => {
    const h = harness();
    const wild = await rejection(h.provider.ensure(withManaged(['*.example.com'])));
    expect(wild.kind).toBe('invalid');
    expect(wild.message).toContain('ManagedCertificate shop/cert-0: *.example.com: wildcard domains are not supported');
    expect((await rejection(h.provider.ensure(withManaged([])))).message).toContain('ManagedCertificate shop/cert-0: spec.domains is empty');
    expect(h.fake.writes()).toEqual([]);
  });
});
