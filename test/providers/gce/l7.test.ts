// Ingress → global external HTTP(S) load balancer through the real clients and the fake API.
import { describe, expect, it } from 'vitest';
import { l7Names, pathMatcherName } from '../../../src/providers/gce/names.js';
import { gcePaths } from '../../../src/providers/gce/url-map.js';
import { CERT_A, CERT_B, CLUSTER_ID, GROUP_WRITES, KEY_A, KEY_B, l7, rejection, withTls } from './fixtures.js';
import { harnessPerTest } from './lifecycle.js';

const harness = harnessPerTest();

const V1 = 'https://www.googleapis.com/compute/v1/projects/test-project';
const names = l7Names(l7().ref, CLUSTER_ID);
/** The cluster's one Ingress firewall rule, as ingress-gce names it. */
const FIREWALL = `k8s-fw-l7--${CLUSTER_ID}`;
const api = names.backendService('shop/api:80', 'shop', 'api', 80);
const web = names.backendService('shop/web:80', 'shop', 'web', 80);

describe('gce L7: paths as ingress-gce maps them', () => {
  it('Exact, Prefix and ImplementationSpecific', () => {
    expect(gcePaths('/foo', 'Exact')).toEqual(['/foo']);
    expect(gcePaths('/foo', 'Prefix')).toEqual(['/foo', '/foo/*']);
    expect(gcePaths('/foo/', 'Prefix')).toEqual(['/foo', '/foo/*']);
    expect(gcePaths('/', 'Prefix')).toEqual(['/*']);
    expect(gcePaths('/static/*', 'ImplementationSpecific')).toEqual(['/static/*']);
    expect(gcePaths('/', 'ImplementationSpecific')).toEqual(['/*']);
  });
});

describe('gce L7: create, no-op, update, delete', () => {
  it('builds address, groups with named ports, health checks, backend services, firewall, URL map, proxy and forwarding rule', async () => {
    const h = harness({}, { pendingOperations: true });
    const status = await h.provider.ensure(l7());
    expect(h.fake.violations).toEqual([]);
    expect(status).toEqual({ ingress: [{ ip: '203.0.113.10', ipMode: 'Proxy' }] });
    expect(h.fake.writes()).toEqual([
      `GlobalAddresses.Insert ${names.address}`,
      `HealthChecks.Insert ${api}`,
      `HealthChecks.Insert ${web}`,
      `Firewalls.Insert ${FIREWALL}`,
      ...GROUP_WRITES,
      `BackendServices.Insert ${api}`,
      `BackendServices.Insert ${web}`,
      `UrlMaps.Insert ${names.urlMap}`,
      `TargetHttpProxies.Insert ${names.httpProxy}`,
      `GlobalForwardingRules.Insert ${names.httpForwardingRule}`,
    ]);
    expect(names.httpForwardingRule).toMatch(/^k8s2-fr-[0-9a-z]{8}-shop-site-[0-9a-z]{8}$/);
    expect(h.fake.log.find((c) => c.rpc === 'InstanceGroups.Insert')?.body).toMatchObject({
      namedPorts: [
        { name: 'port31001', port: 31001 },
        { name: 'port31002', port: 31002 },
      ],
    });
    expect(h.fake.log.find((c) => c.rpc === 'HealthChecks.Insert' && c.target === api)?.body).toMatchObject({ type: 'HTTP', httpHealthCheck: { port: 31001, requestPath: '/' } });
    expect(h.fake.log.find((c) => c.rpc === 'BackendServices.Insert' && c.target === api)?.body).toMatchObject({
      protocol: 'HTTP',
      loadBalancingScheme: 'EXTERNAL',
      portName: 'port31001',
      timeoutSec: 30,
      healthChecks: [`${V1}/global/healthChecks/${api}`],
      backends: [
        { group: `${V1}/zones/us-central1-a/instanceGroups/k8s-ig--cid1`, balancingMode: 'RATE', maxRatePerInstance: 1, capacityScaler: 1 },
        { group: `${V1}/zones/us-central1-b/instanceGroups/k8s-ig--cid1`, balancingMode: 'RATE', maxRatePerInstance: 1, capacityScaler: 1 },
      ],
    });
    expect(h.fake.log.find((c) => c.rpc === 'Firewalls.Insert')?.body).toMatchObject({
      sourceRanges: ['35.191.0.0/16', '130.211.0.0/22'],
      allowed: [{ IPProtocol: 'tcp', ports: ['31001-31002'] }],
    });
    const webLink = `${V1}/global/backendServices/${web}`;
    const apiLink = `${V1}/global/backendServices/${api}`;
    expect(h.fake.log.find((c) => c.rpc === 'UrlMaps.Insert')?.body).toMatchObject({
      defaultService: webLink,
      hostRules: [
        { hosts: ['*'], pathMatcher: pathMatcherName('*') },
        { hosts: ['shop.example.com'], pathMatcher: pathMatcherName('shop.example.com') },
      ],
      pathMatchers: [
        { name: pathMatcherName('*'), defaultService: webLink, pathRules: [{ paths: ['/*'], service: webLink }] },
        {
          name: pathMatcherName('shop.example.com'),
          defaultService: webLink,
          pathRules: [
            { paths: ['/api'], service: apiLink },
            { paths: ['/api/*'], service: apiLink },
          ],
        },
      ],
    });
    expect(h.fake.log.find((c) => c.rpc === 'GlobalForwardingRules.Insert')?.body).toMatchObject({
      IPAddress: '203.0.113.10',
      IPProtocol: 'TCP',
      portRange: '80-80',
      target: `${V1}/global/targetHttpProxies/${names.httpProxy}`,
    });

    h.fake.clearLog();
    expect(await h.provider.ensure(l7())).toEqual(status);
    expect(h.fake.writes()).toEqual([]);
  });

  it('a rule change updates the URL map in place, with its fingerprint, and nothing else', async () => {
    const h = harness();
    await h.provider.ensure(l7());
    h.fake.clearLog();
    const spec = l7();
    await h.provider.ensure({ ...spec, rules: [...spec.rules, { host: 'shop.example.com', path: '/cart', pathType: 'Exact', targetSet: 'shop/web:80', source: 'shop/site' }] });
    expect(h.fake.writes()).toEqual([`UrlMaps.Update ${names.urlMap}`]);
    const put = h.fake.log.find((c) => c.rpc === 'UrlMaps.Update');
    expect(put?.verb).toBe('PUT');
    expect(put?.body?.fingerprint).toBeDefined();
  });

  it('TLS: an SSL certificate from the Secret, an HTTPS proxy and a 443 forwarding rule on the same address', async () => {
    const h = harness();
    const status = await h.provider.ensure(withTls(l7(), CERT_A, KEY_A));
    const certName = names.sslCertificate(CERT_A);
    expect(certName).toMatch(/^k8s2-cr-[0-9a-z]{8}-[0-9a-z]{16}-[0-9a-f]{16}$/);
    expect(h.fake.get(`global/sslCertificates/${certName}`)).toMatchObject({ certificate: CERT_A, privateKey: KEY_A });
    expect(h.fake.get(`global/targetHttpsProxies/${names.httpsProxy}`)?.sslCertificates).toEqual([`${V1}/global/sslCertificates/${certName}`]);
    expect(h.fake.get(`global/forwardingRules/${names.httpsForwardingRule}`)).toMatchObject({ portRange: '443-443', IPAddress: status.ingress[0]?.ip });

    // A renewed Secret: new certificate, proxy switched in place, old certificate deleted last.
    h.fake.clearLog();
    await h.provider.ensure(withTls(l7(), CERT_B, KEY_B));
    expect(h.fake.writes()).toEqual([
      `SslCertificates.Insert ${names.sslCertificate(CERT_B)}`,
      `TargetHttpsProxies.SetSslCertificates ${names.httpsProxy}`,
      `SslCertificates.Delete ${certName}`,
    ]);
  });

  it('pre-shared certificates and allow-http false: no port 80, and the named certificates are used, never created', async () => {
    const h = harness();
    await h.provider.ensure(l7());
    h.fake.seed('global/sslCertificates/shared-cert', { description: 'uploaded by the user', certificate: CERT_A });
    h.fake.clearLog();
    await h.provider.ensure(l7({}, { allowHttp: false, preSharedCerts: ['shared-cert'] }));
    expect(h.fake.writes()).toEqual([
      `GlobalForwardingRules.Delete ${names.httpForwardingRule}`,
      `TargetHttpsProxies.Insert ${names.httpsProxy}`,
      `GlobalForwardingRules.Insert ${names.httpsForwardingRule}`,
      `TargetHttpProxies.Delete ${names.httpProxy}`,
    ]);
    expect(h.fake.get(`global/targetHttpsProxies/${names.httpsProxy}`)?.sslCertificates).toEqual([`${V1}/global/sslCertificates/shared-cert`]);
  });

  it('the static IP annotation: the user address is used and the own one released', async () => {
    const h = harness();
    await h.provider.ensure(l7());
    h.fake.seed('global/addresses/web-ip', { address: '192.0.2.80', description: 'reserved by a user' });
    h.fake.clearLog();
    const status = await h.provider.ensure(l7({}, { staticIpName: 'web-ip' }));
    expect(status.ingress[0]?.ip).toBe('192.0.2.80');
    expect(h.fake.writes()).toEqual([
      `GlobalForwardingRules.Delete ${names.httpForwardingRule}`,
      `GlobalForwardingRules.Insert ${names.httpForwardingRule}`,
      `GlobalAddresses.Delete ${names.address}`,
    ]);
    const missing = await rejection(h.provider.ensure(l7({}, { staticIpName: 'nope' })));
    expect(missing.kind).toBe('invalid');
    expect(missing.message).toContain('nope');
    await h.provider.delete(l7().ref);
    expect(h.fake.paths()).toEqual(['global/addresses/web-ip']);
  });

  it('a backend leaving the rules is deleted after the URL map stops using it', async () => {
    const h = harness();
    await h.provider.ensure(l7());
    h.fake.clearLog();
    const spec = l7();
    await h.provider.ensure({ ...spec, rules: spec.rules.filter((r) => r.targetSet === 'shop/web:80'), targetSets: spec.targetSets.filter((t) => t.name === 'shop/web:80') });
    expect(h.fake.writes()).toEqual([`Firewalls.Update ${FIREWALL}`, `UrlMaps.Update ${names.urlMap}`, `BackendServices.Delete ${api}`, `HealthChecks.Delete ${api}`]);
  });

  it('refuses source ranges (they would need Cloud Armor) and a load balancer with no port', async () => {
    const h = harness();
    expect((await rejection(h.provider.ensure(l7({ sourceRanges: ['10.0.0.0/8'] })))).message).toContain('Cloud Armor');
    expect((await rejection(h.provider.ensure(l7({}, { allowHttp: false })))).message).toContain('allow-http');
    const withAction = l7({ actionRules: [{ path: '/old', pathType: 'Prefix', action: 'redirect', source: 'shop/site', before: 0 }] });
    expect((await rejection(h.provider.ensure(withAction))).kind).toBe('invalid');
    expect(h.fake.writes()).toEqual([]);
  });

  it('unmatched requests never go to an application: the system default backend, a configured backend service, or a refusal', async () => {
    // Without a defaultBackend (and no system default backend resolved by the builder) there is nothing that answers 404.
    const h = harness();
    const { defaultBackend: _, ...noDefault } = l7();
    const e = await rejection(h.provider.ensure(noDefault));
    expect(e.kind).toBe('invalid');
    expect(e.message).toContain('404');
    expect(h.fake.writes()).toEqual([]);
    // The builder resolves kube-system/default-http-backend into a target set: the URL map's default everywhere.
    const system = { ...l7().targetSets[1], name: 'kube-system/default-http-backend:80', nodePort: 30999, backend: { namespace: 'kube-system', service: 'default-http-backend', port: 80 } } as (typeof noDefault.targetSets)[number];
    await h.provider.ensure({ ...noDefault, defaultBackend: system.name, targetSets: [...noDefault.targetSets, system] });
    const systemLink = `${V1}/global/backendServices/${names.backendService(system.name, 'kube-system', 'default-http-backend', 80)}`;
    const urlMap = h.fake.log.find((c) => c.rpc === 'UrlMaps.Insert')?.body as { defaultService: string; pathMatchers: { defaultService: string }[] };
    expect(urlMap.defaultService).toBe(systemLink);
    expect(urlMap.pathMatchers.map((m) => m.defaultService)).toEqual([systemLink, systemLink]);
    await h.done();
    // A configured backend service (defaultBackendService) answers instead, and the provider offers no system Service then.
    const g = harness({ defaultBackendService: 'my-404' });
    expect(g.provider.capabilities.systemDefaultBackend).toBeUndefined();
    expect(harness().provider.capabilities.systemDefaultBackend).toEqual({ namespace: 'kube-system', service: 'default-http-backend', port: 'http' });
    g.fake.seed('global/backendServices/my-404', { protocol: 'HTTP' });
    await g.provider.ensure(noDefault);
    expect(g.fake.log.find((c) => c.rpc === 'UrlMaps.Insert')?.body).toMatchObject({ defaultService: `${V1}/global/backendServices/my-404` });
  });

  it('cloud.google.com/app-protocols: HTTPS and HTTP2 to the backend, the health check following; a change is made in place', async () => {
    const h = harness();
    const base = l7();
    const withProtocol = (p: 'HTTPS' | 'HTTP2') => ({ ...base, targetSets: base.targetSets.map((t) => (t.name === 'shop/api:80' ? { ...t, backendProtocol: p } : t)) });
    await h.provider.ensure(withProtocol('HTTPS'));
    expect(h.fake.violations).toEqual([]);
    expect(h.fake.log.find((c) => c.rpc === 'BackendServices.Insert' && c.target === api)?.body).toMatchObject({ protocol: 'HTTPS', portName: 'port31001' });
    expect(h.fake.log.find((c) => c.rpc === 'BackendServices.Insert' && c.target === web)?.body).toMatchObject({ protocol: 'HTTP' });
    expect(h.fake.log.find((c) => c.rpc === 'HealthChecks.Insert' && c.target === api)?.body).toMatchObject({ type: 'HTTPS', httpsHealthCheck: { port: 31001, requestPath: '/' } });
    h.fake.clearLog();
    await h.provider.ensure(withProtocol('HTTP2'));
    expect(h.fake.writes()).toEqual([`HealthChecks.Update ${api}`, `BackendServices.Update ${api}`]);
    expect(h.fake.get(`global/backendServices/${api}`)).toMatchObject({ protocol: 'HTTP2' });
    expect(h.fake.get(`global/healthChecks/${api}`)).toMatchObject({ type: 'HTTP2', http2HealthCheck: { port: 31001, requestPath: '/' } });
    h.fake.clearLog();
    await h.provider.ensure(withProtocol('HTTP2'));
    expect(h.fake.writes()).toEqual([]);
  });

  it('plans a deletion without writing', async () => {
    const h = harness();
    await h.provider.ensure(l7());
    h.fake.clearLog();
    const changes = await h.provider.planDeletion(l7().ref);
    expect(changes.filter((c) => c.op === 'delete').length).toBeGreaterThanOrEqual(10);
    expect(h.fake.writes()).toEqual([]);
  });

  it('delete removes everything in dependency order', async () => {
    const h = harness();
    await h.provider.ensure(withTls(l7(), CERT_A, KEY_A));
    h.fake.clearLog();
    await h.provider.delete(l7().ref);
    expect(h.fake.writes()).toEqual([
      `GlobalForwardingRules.Delete ${names.httpForwardingRule}`,
      `GlobalForwardingRules.Delete ${names.httpsForwardingRule}`,
      `TargetHttpProxies.Delete ${names.httpProxy}`,
      `TargetHttpsProxies.Delete ${names.httpsProxy}`,
      `UrlMaps.Delete ${names.urlMap}`,
      `SslCertificates.Delete ${names.sslCertificate(CERT_A)}`,
      `BackendServices.Delete ${api}`,
      `BackendServices.Delete ${web}`,
      'InstanceGroups.Delete k8s-ig--cid1',
      'InstanceGroups.Delete k8s-ig--cid1',
      `Firewalls.Delete ${FIREWALL}`,
      `HealthChecks.Delete ${api}`,
      `HealthChecks.Delete ${web}`,
      `GlobalAddresses.Delete ${names.address}`,
    ]);
    expect(h.fake.paths()).toEqual([]);
  });

  it('an Ingress and a Service share the instance groups; deleting the Ingress keeps them', async () => {
    const { l4 } = await import('./fixtures.js');
    const h = harness();
    await h.provider.ensure(l4());
    await h.provider.ensure(l7());
    await h.provider.delete(l7().ref);
    expect(h.fake.paths().filter((p) => p.includes('instanceGroups'))).toHaveLength(2);
    // The named ports the Ingress added stay: another Ingress may use them.
    expect(h.fake.get('zones/us-central1-a/instanceGroups/k8s-ig--cid1')?.namedPorts).toHaveLength(2);
  });
});
