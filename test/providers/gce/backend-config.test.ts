// GKE BackendConfig on an Ingress backend's backend service and health check, through the
// real Compute clients and the fake API (which stores what Compute stores: the IAP secret
// only as its SHA-256, securityPolicy only through setSecurityPolicy).
import { BackendServicesClient, RegionBackendServicesClient } from '@google-cloud/compute';
import { OAuth2Client } from 'google-auth-library';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { backendConfigKey, type BackendConfigSpec, type ResolvedBackendConfig } from '../../../src/providers/gce/backend-config.js';
import { l7Names } from '../../../src/providers/gce/names.js';
import { CLUSTER_ID, l7, PROJECT, REGION, rejection, TOKEN } from './fixtures.js';
import { harnessPerTest } from './lifecycle.js';

const harness = harnessPerTest();

const V1 = `https://www.googleapis.com/compute/v1/projects/${PROJECT}`;
const names = l7Names(l7().ref, CLUSTER_ID);
const api = names.backendService('shop/api:80', 'shop', 'api', 80);
const web = names.backendService('shop/web:80', 'shop', 'web', 80);
const API_KEY = backendConfigKey('shop', 'api', 80);
const SECRET = 'oauth-client-secret-value';

const FULL: BackendConfigSpec = {
  timeoutSec: 40,
  connectionDraining: { drainingTimeoutSec: 60 },
  healthCheck: { checkIntervalSec: 15, timeoutSec: 4, healthyThreshold: 2, unhealthyThreshold: 5, type: 'HTTP', requestPath: '/healthz', port: 8081 },
  sessionAffinity: { affinityType: 'GENERATED_COOKIE', affinityCookieTtlSec: 50 },
  securityPolicy: { name: 'armor' },
  customRequestHeaders: { headers: ['X-Client-Region:{client_region}'] },
  customResponseHeaders: { headers: ['Strict-Transport-Security: max-age=28800'] },
  logging: { enable: true, sampleRate: 0.5 },
  iap: { enabled: true, oauthclientCredentials: { secretName: 'iap' } },
};

const resolved = (spec: BackendConfigSpec, iapClient?: ResolvedBackendConfig['iapClient']): ResolvedBackendConfig => ({
  source: 'shop/api-config',
  spec,
  ...(iapClient ? { iapClient } : {}),
});
const withConfig = (c: ResolvedBackendConfig) => l7({}, { backendConfigs: { [API_KEY]: c } });
const IAP = { clientId: 'client-1.apps.googleusercontent.com', clientSecret: SECRET };

describe('gce BackendConfig', () => {
  it('sets every documented field on the backend service and health check, attaches Cloud Armor by setSecurityPolicy, and is a no-op the second time', async () => {
    const h = harness();
    h.fake.seed('global/securityPolicies/armor', {});
    await h.provider.ensure(withConfig(resolved(FULL, IAP)));
    expect(h.fake.violations).toEqual([]);
    const insert = h.fake.log.find((c) => c.rpc === 'BackendServices.Insert' && c.target === api);
    expect(insert?.body).toEqual({
      name: api,
      description: expect.any(String),
      protocol: 'HTTP',
      loadBalancingScheme: 'EXTERNAL',
      portName: 'port31001',
      timeoutSec: 40,
      healthChecks: [`${V1}/global/healthChecks/${api}`],
      backends: expect.any(Array),
      connectionDraining: { drainingTimeoutSec: 60 },
      sessionAffinity: 'GENERATED_COOKIE',
      affinityCookieTtlSec: 50,
      customRequestHeaders: ['X-Client-Region:{client_region}'],
      customResponseHeaders: ['Strict-Transport-Security: max-age=28800'],
      logConfig: { enable: true, sampleRate: 0.5 },
      iap: { enabled: true, oauth2ClientId: IAP.clientId, oauth2ClientSecret: SECRET },
      // What the client encodes for the map field lbc never sets.
      metadatas: {},
    });
    // The other Service has no BackendConfig: lbc's defaults only.
    const other = h.fake.log.find((c) => c.rpc === 'BackendServices.Insert' && c.target === web)?.body;
    expect(other).not.toHaveProperty('iap');
    expect(other).toMatchObject({ timeoutSec: 30 });
    expect(h.fake.log.find((c) => c.rpc === 'HealthChecks.Insert' && c.target === api)?.body).toMatchObject({
      type: 'HTTP',
      checkIntervalSec: 15,
      timeoutSec: 4,
      healthyThreshold: 2,
      unhealthyThreshold: 5,
      httpHealthCheck: { port: 8081, requestPath: '/healthz' },
    });
    const policyCalls = h.fake.log.filter((c) => c.rpc === 'BackendServices.SetSecurityPolicy');
    expect(policyCalls.map((c) => [c.target, c.body])).toEqual([[api, { securityPolicy: `${V1}/global/securityPolicies/armor` }]]);
    // The firewall lets the health checkers reach the BackendConfig's port too.
    expect(h.fake.log.find((c) => c.rpc === 'Firewalls.Insert')?.body).toMatchObject({ allowed: [{ IPProtocol: 'tcp', ports: ['8081', '31001-31002'] }] });
    const stored = h.fake.get(`global/backendServices/${api}`) as { iap: unknown; securityPolicy: unknown };
    expect(stored.iap).toEqual({ enabled: true, oauth2ClientId: IAP.clientId, oauth2ClientSecretSha256: createHash('sha256').update(SECRET).digest('hex') });
    expect(stored.securityPolicy).toBe(`${V1}/global/securityPolicies/armor`);

    h.fake.clearLog();
    await h.provider.ensure(withConfig(resolved(FULL, IAP)));
    expect(h.fake.writes()).toEqual([]);
  });

  it('a changed field is one update that keeps Cloud Armor; a rotated IAP secret is seen through its SHA-256', async () => {
    const h = harness();
    h.fake.seed('global/securityPolicies/armor', {});
    await h.provider.ensure(withConfig(resolved(FULL, IAP)));
    h.fake.clearLog();
    await h.provider.ensure(withConfig(resolved({ ...FULL, connectionDraining: { drainingTimeoutSec: 120 } }, IAP)));
    expect(h.fake.writes()).toEqual([`BackendServices.Update ${api}`]);
    expect(h.fake.get(`global/backendServices/${api}`)).toMatchObject({ connectionDraining: { drainingTimeoutSec: 120 }, securityPolicy: `${V1}/global/securityPolicies/armor` });

    h.fake.clearLog();
    await h.provider.ensure(withConfig(resolved({ ...FULL, connectionDraining: { drainingTimeoutSec: 120 } }, { ...IAP, clientSecret: 'rotated' })));
    expect(h.fake.writes()).toEqual([`BackendServices.Update ${api}`]);
    expect((h.fake.get(`global/backendServices/${api}`) as { iap: { oauth2ClientSecretSha256: string } }).iap.oauth2ClientSecretSha256).toBe(createHash('sha256').update('rotated').digest('hex'));
  });

  it('a new policy is one setSecurityPolicy; an empty name detaches it; a missing policy fails with the 404 Compute answers', async () => {
    const h = harness();
    h.fake.seed('global/securityPolicies/armor', {});
    h.fake.seed('global/securityPolicies/armor2', {});
    const spec = { securityPolicy: { name: 'armor' } };
    await h.provider.ensure(withConfig(resolved(spec)));
    h.fake.clearLog();
    await h.provider.ensure(withConfig(resolved({ securityPolicy: { name: 'armor2' } })));
    expect(h.fake.writes()).toEqual([`BackendServices.SetSecurityPolicy ${api}`]);
    expect(h.fake.get(`global/backendServices/${api}`)?.securityPolicy).toBe(`${V1}/global/securityPolicies/armor2`);
    h.fake.clearLog();
    await h.provider.ensure(withConfig(resolved({ securityPolicy: { name: '' } })));
    expect(h.fake.writes()).toEqual([`BackendServices.SetSecurityPolicy ${api}`]);
    expect(h.fake.get(`global/backendServices/${api}`)?.securityPolicy).toBeUndefined();

    const err = await rejection(h.provider.ensure(withConfig(resolved({ securityPolicy: { name: 'nope' } }))));
    expect(err.message).toContain('securityPolicies/nope');
  });

  it('CDN with its cache key policy on the global external backend service', async () => {
    const h = harness();
    const cdn = { enabled: true, cachePolicy: { includeHost: true, includeProtocol: true, includeQueryString: false }, cacheMode: 'CACHE_ALL_STATIC', defaultTtl: 3600 };
    await h.provider.ensure(withConfig(resolved({ cdn })));
    expect(h.fake.log.find((c) => c.rpc === 'BackendServices.Insert' && c.target === api)?.body).toMatchObject({
      enableCDN: true,
      cdnPolicy: { cacheKeyPolicy: { includeHost: true, includeProtocol: true, includeQueryString: false }, cacheMode: 'CACHE_ALL_STATIC', defaultTtl: 3600 },
    });
    h.fake.clearLog();
    await h.provider.ensure(withConfig(resolved({ cdn })));
    expect(h.fake.writes()).toEqual([]);
  });

  it('refuses, before any write, IAP without its OAuth client, IAP with CDN, signed URL keys and a cookie TTL without GENERATED_COOKIE', async () => {
    const h = harness();
    const cases: Array<[BackendConfigSpec, string]> = [
      [{ iap: { enabled: true } }, 'iap.enabled needs oauthclientCredentials.secretName'],
      [{ iap: { enabled: true, oauthclientCredentials: { secretName: 'x' } }, cdn: { enabled: true } }, 'iap and cdn'],
      [{ cdn: { enabled: true, signedUrlKeys: [{ keyName: 'k' }] } }, 'cdn.signedUrlKeys'],
      [{ sessionAffinity: { affinityType: 'CLIENT_IP', affinityCookieTtlSec: 5 } }, 'affinityCookieTtlSec'],
    ];
    for (const [spec, words] of cases) {
      const iap = spec.iap?.oauthclientCredentials ? IAP : undefined;
      const err = await rejection(h.provider.ensure(withConfig(resolved(spec, iap))));
      expect(err.kind).toBe('invalid');
      expect(err.message).toContain('BackendConfig shop/api-config');
      expect(err.message).toContain(words);
    }
    expect(h.fake.writes()).toEqual([]);
  });

  it('the fake refuses what Compute refuses: IAP enabled without client id and secret, CDN on a regional backend service', async () => {
    const h = harness();
    const authClient = new OAuth2Client();
    authClient.setCredentials({ access_token: TOKEN, expiry_date: Date.now() + 3600_000 });
    const global = new BackendServicesClient({ authClient });
    const regional = new RegionBackendServicesClient({ authClient });
    try {
      await expect(global.insert({ project: PROJECT, backendServiceResource: { name: 'iap-bare', iap: { enabled: true } } })).rejects.toThrow(/oauth2ClientId and oauth2ClientSecret must be set/);
      await expect(
        regional.insert({ project: PROJECT, region: REGION, backendServiceResource: { name: 'cdn-regional', loadBalancingScheme: 'EXTERNAL', enableCDN: true } }),
      ).rejects.toThrow(/Cloud CDN can only be enabled/);
      expect(h.fake.paths().filter((p) => p.includes('backendServices'))).toEqual([]);
    } finally {
      await Promise.all([global.close(), regional.close()]);
    }
  });
});
