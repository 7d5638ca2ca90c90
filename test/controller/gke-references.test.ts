// The controller's reading of GKE's Ingress objects where the cluster lacks them: an
// Ingress that names a FrontendConfig, ManagedCertificate or BackendConfig whose CRD is
// not installed is refused with each one named, never served without it; an Ingress
// naming none is served as built. (With the CRDs installed: test/e2e/gke-references.test.ts.)
import type { V1Ingress, V1Secret, V1Service } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { backendConfigByIapSecret, GkeReferences, ingressByGkeConfig, serviceByBackendConfig } from '../../src/controller/gke-references.js';
import { readsProviderSecrets } from '../../src/controller/ingress/provider-secrets.js';
import { Cache } from '../../src/kube/cache.js';
import type { KubeClients } from '../../src/kube/client.js';
import type { WatchFn } from '../../src/kube/informer.js';
import { l7 } from '../providers/gce/fixtures.js';

const notServed = Object.assign(new Error('the server could not find the requested resource'), { code: 404 });
const clients = { custom: { listClusterCustomObject: () => Promise.reject(notServed) } } as unknown as KubeClients;
const neverWatch: WatchFn = () => new Promise(() => {});

function refs(services: V1Service[] = []): GkeReferences {
  const svcCache = new Cache<V1Service>({ byBackendConfig: serviceByBackendConfig });
  for (const s of services) svcCache.set(s);
  return new GkeReferences({ clients, log: { info: () => {}, warn: () => {} }, services: svcCache, ingresses: new Cache<V1Ingress>(), secrets: new Cache<V1Secret>(), ingressChanged: () => {}, watch: neverWatch });
}

const ing = (annotations: Record<string, string>): V1Ingress => ({ metadata: { namespace: 'shop', name: 'site', annotations } });

describe('GKE references where the CRDs are not installed', () => {
  it('refuses an Ingress naming a FrontendConfig, a ManagedCertificate or (on a backend Service) a BackendConfig, each named', async () => {
    const api: V1Service = { metadata: { namespace: 'shop', name: 'api', annotations: { 'cloud.google.com/backend-config': '{"default":"armor"}' } }, spec: { ports: [{ port: 80 }] } };
    const r = refs([api]);
    await r.sync();
    expect(r.informerSync()).toEqual([]);
    const out = await r.resolve([ing({ 'networking.gke.io/v1beta1.FrontendConfig': 'fe', 'networking.gke.io/managed-certificates': 'a, b' })], l7());
    expect(out.ok).toBe(false);
    if (out.ok) return;
    for (const part of [
      'FrontendConfig shop/fe: the FrontendConfig CRD (networking.gke.io/v1beta1) is not installed',
      'ManagedCertificate shop/a: the ManagedCertificate CRD (networking.gke.io/v1) is not installed',
      'ManagedCertificate shop/b:',
      'BackendConfig shop/armor: the BackendConfig CRD (cloud.google.com/v1) is not installed',
    ]) {
      expect(out.message).toContain(part);
    }
  });

  it('serves an Ingress that names none as built', async () => {
    const r = refs();
    await r.sync();
    const spec = l7();
    expect(await r.resolve([ing({})], spec)).toEqual({ ok: true, spec, warnings: [] });
  });

  it("one Opaque-Secret informer serves every provider's references: AWS OIDC (secretNames) and a gce provider's IAP clients; a BackendConfig is found by its IAP Secret", () => {
    expect(readsProviderSecrets([{ type: 'gce' }])).toBe(true);
    expect(readsProviderSecrets([{ type: 'aws', secretNames: () => [] }])).toBe(true);
    expect(readsProviderSecrets([{ type: 'memory' }])).toBe(false);
    const bc = (spec: Record<string, unknown>) => ({ apiVersion: 'cloud.google.com/v1', kind: 'BackendConfig', metadata: { namespace: 'shop', name: 'bc' }, spec });
    expect(backendConfigByIapSecret(bc({ iap: { enabled: true, oauthclientCredentials: { secretName: 'iap-client' } } }))).toEqual(['shop/iap-client']);
    expect(backendConfigByIapSecret(bc({ timeoutSec: 40 }))).toEqual([]);
  });

  it('indexes an Ingress by its FrontendConfig and ManagedCertificates, and a Service by every BackendConfig it names', () => {
    expect(ingressByGkeConfig(ing({ 'networking.gke.io/v1beta1.FrontendConfig': 'fe', 'networking.gke.io/managed-certificates': 'a,b, a' }))).toEqual([
      'FrontendConfig/shop/fe',
      'ManagedCertificate/shop/a',
      'ManagedCertificate/shop/b',
    ]);
    expect(serviceByBackendConfig({ metadata: { namespace: 'shop', annotations: { 'cloud.google.com/backend-config': '{"default":"d","ports":{"http":"h","80":"d"}}' } } })).toEqual(['shop/d', 'shop/h']);
  });
});
