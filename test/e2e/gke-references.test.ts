// GKE's Ingress configuration objects, read by the controller as GKE's controllers read
// them (#17): the CRDs of deploy/crds/gke installed on the test cluster, a gce provider on
// the fake Compute API, and an Ingress whose BackendConfig (through its backend Service's
// cloud.google.com/backend-config), FrontendConfig and ManagedCertificates must reach the
// backend service, URL maps and HTTPS proxy — or stop the Ingress, named in a Warning,
// while they do not exist. Against devcluster, or the cluster KUBECONFIG names.
import { CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { l7Names } from '../../src/providers/gce/names.js';
import type { FakeCompute } from '../providers/gce/fake-compute.js';
import { startGceE2E } from './gce-harness.js';
import { eventually, type E2E } from './harness.js';

const CRD_DIR = new URL('../../deploy/crds/gke/', import.meta.url).pathname;
const PROJECT = 'test-project';
const REGION = 'us-central1';
const GCE_OPTIONS = { project: PROJECT, region: REGION, clusterId: 'cid1', subnetwork: 'nodes', nodeTags: ['gke-test-node'], retry: { retries: 3, minDelayMs: 1, maxDelayMs: 5 } };

let e: E2E;
let fake: FakeCompute;
let custom: CustomObjectsApi;
let className: string;

const KINDS = {
  BackendConfig: { group: 'cloud.google.com', version: 'v1', plural: 'backendconfigs' },
  FrontendConfig: { group: 'networking.gke.io', version: 'v1beta1', plural: 'frontendconfigs' },
  ManagedCertificate: { group: 'networking.gke.io', version: 'v1', plural: 'managedcertificates' },
} as const;
type Kind = keyof typeof KINDS;

const create = (kind: Kind, name: string, spec: unknown) =>
  custom.createNamespacedCustomObject({ ...KINDS[kind], namespace: e.ns, body: { apiVersion: `${KINDS[kind].group}/${KINDS[kind].version}`, kind, metadata: { name }, spec } });
const patchSpec = (kind: Kind, name: string, spec: unknown) =>
  custom.patchNamespacedCustomObject({ ...KINDS[kind], namespace: e.ns, name, body: { spec } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
const read = async (kind: Kind, name: string) => (await custom.getNamespacedCustomObject({ ...KINDS[kind], namespace: e.ns, name })) as { status?: Record<string, unknown> };

async function backend(name: string, nodePort: number, annotations: Record<string, string> = {}): Promise<void> {
  await e.core.createNamespacedService({
    namespace: e.ns,
    body: { metadata: { name, annotations }, spec: { type: 'NodePort', selector: { app: name }, ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP', nodePort }] } },
  });
}

async function ingress(name: string, service: string, annotations: Record<string, string> = {}): Promise<string> {
  const ing = await e.networking.createNamespacedIngress({
    namespace: e.ns,
    body: { metadata: { name, annotations }, spec: { ingressClassName: className, defaultBackend: { service: { name: service, port: { number: 80 } } } } },
  });
  return ing.metadata?.uid ?? '';
}

const warningOn = (name: string, ...parts: string[]) => e.warningOn(name, ...parts);

const namesOf = (name: string, uid: string) => l7Names({ kind: 'Ingress', namespace: e.ns, name, uid }, 'cid1');

beforeAll(async () => {
  ({ e, fake } = await startGceE2E(GCE_OPTIONS, { certificateRecheckMs: 200, slowRetry: { baseMs: 300, maxMs: 1000 } }));
  custom = e.cluster.kc.makeApiClient(CustomObjectsApi);
  await e.installCrds(readdirSync(CRD_DIR).filter((n) => n.endsWith('.yaml')).map((n) => join(CRD_DIR, n)));
  className = await e.ingressClass('gce', 'gce');
  for (const [n, zone] of [['node-a', `${REGION}-a`], ['node-b', `${REGION}-b`]] as const) {
    await e.core.createNode({
      body: {
        metadata: { name: `${e.ns}-${n}`, labels: { [e.nodeLabel]: 'true', 'topology.kubernetes.io/zone': zone } },
        spec: { providerID: `gce://${PROJECT}/${zone}/${e.ns}-${n}` },
        status: { conditions: [{ type: 'Ready', status: 'True', reason: 'Test', message: 'test' }], addresses: [{ type: 'InternalIP', address: '10.0.0.1' }] },
      },
    });
  }
  await e.controller.start();
}, 90_000);

afterAll(async () => {
  await e?.stop();
  fake?.uninstall();
});

describe('GKE BackendConfig, FrontendConfig and ManagedCertificate in the controller (gce)', () => {
  it('an Ingress naming a FrontendConfig and a ManagedCertificate that do not exist gets a Warning naming both and no load balancer; once they exist it is built with the redirect and the managed certificate', async () => {
    await backend('site', 31011);
    const uid = await ingress('secure', 'site', { 'networking.gke.io/v1beta1.FrontendConfig': 'fe', 'networking.gke.io/managed-certificates': 'cert' });
    const names = namesOf('secure', uid);
    const w = await warningOn('secure', `FrontendConfig ${e.ns}/fe does not exist`, `ManagedCertificate ${e.ns}/cert does not exist`);
    expect(w.reason).toBe('SyncLoadBalancerFailed');
    expect(fake.paths().filter((p) => p.includes(names.urlMap) || p.includes(names.httpsProxy) || p.includes(names.httpProxy))).toEqual([]);

    await create('ManagedCertificate', 'cert', { domains: ['secure.example.com'] });
    await create('FrontendConfig', 'fe', { redirectToHttps: { enabled: true } });
    const https = await eventually('the HTTPS proxy', () => fake.get(`global/targetHttpsProxies/${names.httpsProxy}`), 15_000);
    const certs = (https.sslCertificates as string[]).map((l) => l.split('/').pop() ?? '');
    expect(certs).toHaveLength(1);
    expect(fake.get(`global/sslCertificates/${certs[0]}`)).toMatchObject({ type: 'MANAGED', managed: { domains: ['secure.example.com'] } });
    // redirectToHttps: plain HTTP goes to the redirect map, never to the site.
    expect(fake.get(`global/targetHttpProxies/${names.httpProxy}`)?.urlMap).toContain(`urlMaps/${names.redirectUrlMap}`);
    expect(fake.get(`global/urlMaps/${names.redirectUrlMap}`)).toMatchObject({ defaultUrlRedirect: { httpsRedirect: true, redirectResponseCode: 'MOVED_PERMANENTLY_DEFAULT' } });

    // The ManagedCertificate's status as GKE writes it, from the SslCertificate's state...
    const provisioning = await eventually('the ManagedCertificate status', async () => ((await read('ManagedCertificate', 'cert')).status?.certificateName ? (await read('ManagedCertificate', 'cert')).status : undefined));
    expect(provisioning).toEqual({ certificateName: certs[0], certificateStatus: 'Provisioning', domainStatus: [{ domain: 'secure.example.com', status: 'Provisioning' }] });
    // ...and followed until Google has provisioned it.
    const path = `global/sslCertificates/${certs[0]}`;
    const cert = fake.get(path) ?? {};
    fake.seed(path, { ...cert, managed: { domains: ['secure.example.com'], status: 'ACTIVE', domainStatus: { 'secure.example.com': 'ACTIVE' } }, expireTime: '2027-03-01T00:00:00.000-08:00' });
    const active = await eventually('the ManagedCertificate Active', async () => {
      const s = (await read('ManagedCertificate', 'cert')).status;
      return s?.certificateStatus === 'Active' ? s : undefined;
    });
    expect(active).toEqual({ certificateName: certs[0], certificateStatus: 'Active', domainStatus: [{ domain: 'secure.example.com', status: 'Active' }], expireTime: '2027-03-01T00:00:00.000-08:00' });
    // Reading the certificates again changed nothing the user asked for: no Event says it did.
    await e.controller.recorder.flush();
    const changes = (await e.events('secure')).filter((ev) => ['EnsuringLoadBalancer', 'EnsuredLoadBalancer', 'UpdatedLoadBalancer'].includes(ev.reason ?? ''));
    // The finalizers went on in the refused reconciles, yet the first ensure is a creation, told as one.
    expect(changes.map((ev) => [ev.reason, ev.count ?? 1])).toEqual([
      ['EnsuringLoadBalancer', 1],
      ['EnsuredLoadBalancer', 1],
    ]);
  }, 60_000);

  it("a backend Service's BackendConfig (by port name) with IAP waits for its OAuth Secret, then reaches the backend service; a change of the BackendConfig re-syncs the Ingress", async () => {
    fake.seed('global/securityPolicies/armor', {});
    await create('BackendConfig', 'bc', { timeoutSec: 40, securityPolicy: { name: 'armor' }, iap: { enabled: true, oauthclientCredentials: { secretName: 'iap-client' } } });
    await backend('app', 31012, { 'cloud.google.com/backend-config': '{"default":"other","ports":{"http":"bc"}}', 'networking.gke.io/weighted-load-balancing': 'pods-per-node' });
    const uid = await ingress('guarded', 'app');
    const names = namesOf('guarded', uid);
    const bsName = names.backendService(`${e.ns}/app:80`, e.ns, 'app', 80);
    await warningOn('guarded', `Secret ${e.ns}/iap-client`, 'does not exist');
    expect(fake.get(`global/backendServices/${bsName}`)).toBeUndefined();
    expect(e.warnings.join('\n')).not.toContain('s3cret');

    await e.core.createNamespacedSecret({ namespace: e.ns, body: { metadata: { name: 'iap-client' }, stringData: { client_id: 'id-1.apps.googleusercontent.com', client_secret: 's3cret' } } });
    // Cloud Armor is attached by setSecurityPolicy, after the backend service is made.
    const bs = await eventually('the backend service with the BackendConfig and its policy', () => {
      const b = fake.get(`global/backendServices/${bsName}`);
      return b?.securityPolicy ? b : undefined;
    }, 15_000);
    expect(bs).toMatchObject({ timeoutSec: 40, iap: { enabled: true, oauth2ClientId: 'id-1.apps.googleusercontent.com' } });
    expect(bs.securityPolicy).toContain('securityPolicies/armor');
    // An annotation lbc does not implement on the backend Service is named, not dropped.
    await warningOn('guarded', `Service ${e.ns}/app: annotation networking.gke.io/weighted-load-balancing is not implemented`);

    await patchSpec('BackendConfig', 'bc', { timeoutSec: 55 });
    await eventually('the new timeout', () => fake.get(`global/backendServices/${bsName}`)?.timeoutSec === 55, 15_000);
    expect(e.warnings.join('\n')).not.toContain('s3cret');

    // A rotated OAuth client reaches IAP at once: the Secret is watched, not read again only at a resync (there is none here).
    await e.core.replaceNamespacedSecret({
      namespace: e.ns,
      name: 'iap-client',
      body: { metadata: { name: 'iap-client' }, stringData: { client_id: 'id-2.apps.googleusercontent.com', client_secret: 'r0tated' } },
    });
    const rotated = createHash('sha256').update('r0tated').digest('hex');
    await eventually('the rotated OAuth client on the backend service', () => (fake.get(`global/backendServices/${bsName}`)?.iap as { oauth2ClientSecretSha256?: string } | undefined)?.oauth2ClientSecretSha256 === rotated, 10_000);
    expect(fake.get(`global/backendServices/${bsName}`)?.iap).toMatchObject({ enabled: true, oauth2ClientId: 'id-2.apps.googleusercontent.com' });
    expect(e.warnings.join('\n')).not.toContain('r0tated');
  }, 60_000);

  it('a malformed cloud.google.com/backend-config stops the Ingress with the annotation named', async () => {
    await backend('broken', 31013, { 'cloud.google.com/backend-config': '{"ports":' });
    await ingress('broken', 'broken');
    await warningOn('broken', `Service ${e.ns}/broken`, 'annotation cloud.google.com/backend-config', 'is not JSON');
  }, 30_000);
});
