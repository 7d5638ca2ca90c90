// GKE FrontendConfig on an Ingress's frontend through the real clients and the fake API:
// redirectToHttps as ingress-gce builds it (a k8s2-rm- URL map for the HTTP proxy) and
// sslPolicy on the target HTTPS proxy.
import { describe, expect, it } from 'vitest';
import { DEFAULT_GCE_OPTIONS, parseGceAnnotations } from '../../../src/providers/gce/annotations.js';
import type { FrontendConfigSpec } from '../../../src/providers/gce/frontend-config.js';
import { l7Names } from '../../../src/providers/gce/names.js';
import { CERT_A, CLUSTER_ID, KEY_A, l7, PROJECT, rejection, withTls } from './fixtures.js';
import { harnessPerTest } from './lifecycle.js';

const harness = harnessPerTest();

const V1 = `https://www.googleapis.com/compute/v1/projects/${PROJECT}`;
const names = l7Names(l7().ref, CLUSTER_ID);
const withFrontend = (spec: FrontendConfigSpec, tls = true) => {
  const base = l7({}, { frontendConfig: { source: 'shop/fe', spec } });
  return tls ? withTls(base, CERT_A, KEY_A) : base;
};

describe('gce FrontendConfig', () => {
  it('redirectToHttps gives the HTTP proxy a redirect map, sslPolicy goes on the HTTPS proxy; the second ensure writes nothing', async () => {
    const h = harness();
    h.fake.seed('global/sslPolicies/modern', {});
    await h.provider.ensure(withFrontend({ sslPolicy: 'modern', redirectToHttps: { enabled: true, responseCodeName: 'PERMANENT_REDIRECT' } }));
    expect(h.fake.violations).toEqual([]);
    expect(names.redirectUrlMap).toMatch(/^k8s2-rm-/);
    expect(h.fake.log.find((c) => c.rpc === 'UrlMaps.Insert' && c.target === names.redirectUrlMap)?.body).toMatchObject({
      defaultUrlRedirect: { httpsRedirect: true, redirectResponseCode: 'PERMANENT_REDIRECT' },
    });
    expect(h.fake.get(`global/targetHttpProxies/${names.httpProxy}`)?.urlMap).toBe(`${V1}/global/urlMaps/${names.redirectUrlMap}`);
    expect(h.fake.get(`global/targetHttpsProxies/${names.httpsProxy}`)).toMatchObject({
      urlMap: `${V1}/global/urlMaps/${names.urlMap}`,
      sslPolicy: `${V1}/global/sslPolicies/modern`,
    });
    h.fake.clearLog();
    await h.provider.ensure(withFrontend({ sslPolicy: 'modern', redirectToHttps: { enabled: true, responseCodeName: 'PERMANENT_REDIRECT' } }));
    expect(h.fake.writes()).toEqual([]);
  });

  it('turning both off points the HTTP proxy back at the main map before the redirect map goes, and detaches the policy', async () => {
    const h = harness();
    h.fake.seed('global/sslPolicies/modern', {});
    await h.provider.ensure(withFrontend({ sslPolicy: 'modern', redirectToHttps: { enabled: true } }));
    expect(h.fake.get(`global/urlMaps/${names.redirectUrlMap}`)?.defaultUrlRedirect).toMatchObject({ redirectResponseCode: 'MOVED_PERMANENTLY_DEFAULT' });
    h.fake.clearLog();
    await h.provider.ensure(withFrontend({}));
    expect(h.fake.violations).toEqual([]);
    expect(h.fake.writes()).toEqual([
      `TargetHttpProxies.SetUrlMap ${names.httpProxy}`,
      `TargetHttpsProxies.SetSslPolicy ${names.httpsProxy}`,
      `UrlMaps.Delete ${names.redirectUrlMap}`,
    ]);
    expect(h.fake.get(`global/targetHttpsProxies/${names.httpsProxy}`)?.sslPolicy).toBeUndefined();
    expect(h.fake.get(`global/urlMaps/${names.redirectUrlMap}`)).toBeUndefined();
  });

  it('refuses a redirect or an SSL policy without HTTPS and an unknown response code before any write; a missing SslPolicy fails as Compute fails', async () => {
    const h = harness();
    for (const [spec, tls, words] of [
      [{ redirectToHttps: { enabled: true } }, false, 'redirectToHttps needs an HTTPS frontend'],
      [{ sslPolicy: 'modern' }, false, 'sslPolicy needs an HTTPS frontend'],
      [{ redirectToHttps: { enabled: true, responseCodeName: '301' } }, true, 'redirectToHttps.responseCodeName 301 is not one of'],
    ] as const) {
      const err = await rejection(h.provider.ensure(withFrontend(spec, tls)));
      expect(err.kind).toBe('invalid');
      expect(err.message).toContain(`FrontendConfig shop/fe: ${words}`);
    }
    expect(h.fake.writes()).toEqual([]);
    const err = await rejection(h.provider.ensure(withFrontend({ sslPolicy: 'nope' })));
    expect(err.message).toContain('sslPolicies/nope');
    expect(h.fake.get(`global/targetHttpsProxies/${names.httpsProxy}`)).toBeUndefined();
  });
});

describe('gce: an Ingress naming a FrontendConfig or ManagedCertificate', () => {
  it('parses: the controller reads those objects into the options (test/controller/gke-references.test.ts), so the annotations are neither refused nor warned about', () => {
    const r = parseGceAnnotations({ 'networking.gke.io/v1beta1.FrontendConfig': 'fe', 'networking.gke.io/managed-certificates': 'a,b' }, 'Ingress');
    expect(r).toEqual({ ok: true, targetType: 'instance', options: { ...DEFAULT_GCE_OPTIONS } });
  });
});
