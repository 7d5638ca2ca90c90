// Contract: the GKE CRDs lbc ships (deploy/crds/gke: BackendConfig, FrontendConfig,
// ManagedCertificate; GKE publishes no files for them) are structural, install and
// become Established on both servers, serve the objects GKE's documentation shows, and
// refuse what their schemas forbid with the same 422 causes.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { causeFields, eventually, expectOk, expectStatus, useContractCluster, type Json } from './support.js';

const DIR = new URL('../../deploy/crds/gke/', import.meta.url).pathname;
const CRD_PATH = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions';

const ctx = useContractCluster('gkecrds');

const crds: Json[] = readdirSync(DIR)
  .filter((f) => f.endsWith('.yaml'))
  .flatMap((f) => parseAllDocuments(readFileSync(join(DIR, f), 'utf8')).map((d) => d.toJSON() as Json));

const path = (groupVersion: string, plural: string, name?: string, sub?: string) =>
  `/apis/${groupVersion}/namespaces/${ctx.ns}/${plural}${name ? `/${name}` : ''}${sub ? `/${sub}` : ''}`;

// The objects of GKE's how-to pages, field for field.
const backendConfig = {
  apiVersion: 'cloud.google.com/v1',
  kind: 'BackendConfig',
  metadata: { name: 'full' },
  spec: {
    timeoutSec: 40,
    connectionDraining: { drainingTimeoutSec: 60 },
    healthCheck: { checkIntervalSec: 15, timeoutSec: 5, healthyThreshold: 2, unhealthyThreshold: 3, type: 'HTTP', requestPath: '/healthz', port: 8080 },
    sessionAffinity: { affinityType: 'GENERATED_COOKIE', affinityCookieTtlSec: 50 },
    securityPolicy: { name: 'my-policy' },
    customRequestHeaders: { headers: ['X-Client-Region:{client_region}'] },
    customResponseHeaders: { headers: ['Strict-Transport-Security: max-age=28800; includeSubDomains'] },
    logging: { enable: true, sampleRate: 0.5 },
    iap: { enabled: true, oauthclientCredentials: { secretName: 'my-secret' } },
    cdn: { enabled: true, cachePolicy: { includeHost: true, includeProtocol: true, includeQueryString: false } },
  },
};
const frontendConfig = {
  apiVersion: 'networking.gke.io/v1beta1',
  kind: 'FrontendConfig',
  metadata: { name: 'full' },
  spec: { sslPolicy: 'gke-ingress-ssl-policy', redirectToHttps: { enabled: true, responseCodeName: 'PERMANENT_REDIRECT' } },
};
const managedCertificate = {
  apiVersion: 'networking.gke.io/v1',
  kind: 'ManagedCertificate',
  metadata: { name: 'full' },
  spec: { domains: ['foo.example.com', 'bar.example.com'] },
};

describe('GKE CRDs (deploy/crds/gke)', () => {
  beforeAll(async () => {
    for (const crd of crds) {
      const created = await ctx.raw('POST', CRD_PATH, { body: crd });
      if (created.status !== 201) {
        expect(created.status, created.text.slice(0, 300)).toBe(409);
        const current = expectOk(await ctx.raw('GET', `${CRD_PATH}/${crd.metadata.name}`));
        expectOk(await ctx.raw('PUT', `${CRD_PATH}/${crd.metadata.name}`, { body: { ...crd, metadata: { ...crd.metadata, resourceVersion: current.metadata.resourceVersion } } }), 200);
      }
    }
  }, 60_000);

  it('all three install, are Established, and are structural (no NonStructuralSchema condition)', async () => {
    expect(crds.map((c) => c.metadata.name).sort()).toEqual(['backendconfigs.cloud.google.com', 'frontendconfigs.networking.gke.io', 'managedcertificates.networking.gke.io']);
    for (const crd of crds) {
      await eventually(async () => {
        const got = expectOk(await ctx.raw('GET', `${CRD_PATH}/${crd.metadata.name}`));
        const conds = Object.fromEntries((got.status?.conditions ?? []).map((c: Json) => [c.type, c.status]));
        expect(conds).toMatchObject({ NamesAccepted: 'True', Established: 'True' });
        expect(conds.NonStructuralSchema).toBeUndefined();
      }, 20_000);
    }
  });

  it("serves GKE's documented objects with every field kept", async () => {
    for (const [gv, plural, obj] of [
      ['cloud.google.com/v1', 'backendconfigs', backendConfig],
      ['networking.gke.io/v1beta1', 'frontendconfigs', frontendConfig],
      ['networking.gke.io/v1', 'managedcertificates', managedCertificate],
    ] as const) {
      await eventually(async () => expectOk(await ctx.raw('POST', path(gv, plural), { body: obj }), 201), 20_000);
      const got = expectOk(await ctx.raw('GET', path(gv, plural, 'full')));
      expect(got.spec).toEqual(obj.spec);
    }
  });

  it('ManagedCertificate status is written through /status only, as the GKE certificate controller does', async () => {
    const status = { certificateName: 'mcrt-1234', certificateStatus: 'Provisioning', domainStatus: [{ domain: 'foo.example.com', status: 'Provisioning' }] };
    const current = expectOk(await ctx.raw('GET', path('networking.gke.io/v1', 'managedcertificates', 'full')));
    // Status through the main resource is dropped, as for every CRD with the subresource.
    const put = expectOk(await ctx.raw('PUT', path('networking.gke.io/v1', 'managedcertificates', 'full'), { body: { ...current, status } }), 200);
    expect(put.status).toBeUndefined();
    const withStatus = expectOk(await ctx.raw('PUT', path('networking.gke.io/v1', 'managedcertificates', 'full', 'status'), { body: { ...put, status } }), 200);
    expect(withStatus.status).toEqual(status);
  });

  it('refuses what the schemas forbid with 422 and the field named', async () => {
    const cases: Array<[string, string, Json, string]> = [
      ['networking.gke.io/v1', 'managedcertificates', { ...managedCertificate, metadata: { name: 'wild' }, spec: { domains: ['*.example.com'] } }, 'spec.domains[0]'],
      ['networking.gke.io/v1', 'managedcertificates', { ...managedCertificate, metadata: { name: 'none' }, spec: { domains: [] } }, 'spec.domains'],
      ['networking.gke.io/v1beta1', 'frontendconfigs', { ...frontendConfig, metadata: { name: 'code' }, spec: { redirectToHttps: { enabled: true, responseCodeName: '301' } } }, 'spec.redirectToHttps.responseCodeName'],
      ['cloud.google.com/v1', 'backendconfigs', { ...backendConfig, metadata: { name: 'aff' }, spec: { sessionAffinity: { affinityType: 'HEADER_FIELD' } } }, 'spec.sessionAffinity.affinityType'],
      ['cloud.google.com/v1', 'backendconfigs', { ...backendConfig, metadata: { name: 'iap' }, spec: { iap: { oauthclientCredentials: { secretName: 's' } } } }, 'spec.iap.enabled'],
      ['cloud.google.com/v1', 'backendconfigs', { ...backendConfig, metadata: { name: 'rate' }, spec: { logging: { enable: true, sampleRate: 2 } } }, 'spec.logging.sampleRate'],
    ];
    for (const [gv, plural, obj, field] of cases) {
      const body = expectStatus(await ctx.raw('POST', path(gv, plural), { body: obj }), 422, 'Invalid');
      expect(causeFields(body), JSON.stringify(body.details)).toContain(field);
    }
  });
});
