// Installs the Gateway API v1.4.0 CRDs (experimental channel: every route kind) from
// ../shared/crds on a test cluster, devcluster or real, as a user installs the upstream
// release; lbc does not ship them.
import { ApiextensionsV1Api, type CustomObjectsApi, type KubeConfig, type V1CustomResourceDefinition } from '@kubernetes/client-node';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { ObjectSerializer } from '../../src/kube/client-node.js';

const CRDS = new URL('../../../shared/crds/gateway-api-v1.4.0/experimental/', import.meta.url).pathname;
const GROUP = 'gateway.networking.k8s.io';

export async function installGatewayApiCrds(kc: KubeConfig, timeoutMs = 20_000): Promise<void> {
  await installCrdFiles(
    kc,
    readdirSync(CRDS)
      .filter((f) => f.startsWith(`${GROUP}_`))
      .map((f) => join(CRDS, f)),
    timeoutMs,
  );
}

/** aws-load-balancer-controller v3.5's Gateway parameters CRDs (gateway.k8s.aws), as its users install them. */
export async function installAlbcGatewayCrds(kc: KubeConfig, timeoutMs = 20_000): Promise<void> {
  await installCrdFiles(kc, readdirSync(ALBC_GATEWAY_CRDS).map((f) => join(ALBC_GATEWAY_CRDS, f)), timeoutMs);
}

const ALBC_GATEWAY_CRDS = new URL('../../../shared/crds/aws-load-balancer-controller-v3.5.0/gateway/', import.meta.url).pathname;

async function installCrdFiles(kc: KubeConfig, files: readonly string[], timeoutMs: number): Promise<void> {
  const ext = kc.makeApiClient(ApiextensionsV1Api);
  const crds = files
    .flatMap((f) => parseAllDocuments(readFileSync(f, 'utf8')).map((d) => d.toJSON() as { kind?: string }))
    .filter((d) => d.kind === 'CustomResourceDefinition')
    // The typed client sends its model's fields: the files' JSON names (x-kubernetes-int-or-string)
    // must become the model's first, or kube-apiserver refuses the schema (as target-group-binding.test.ts found).
    .map((d) => ObjectSerializer.deserialize(d, 'V1CustomResourceDefinition', '') as V1CustomResourceDefinition);
  for (const crd of crds) {
    await ext.createCustomResourceDefinition({ body: crd }).catch((err: { code?: number }) => {
      // Another suite (or an earlier run on a real cluster) installed it already.
      if (err.code !== 409) throw err;
    });
  }
  const deadline = Date.now() + timeoutMs;
  for (const crd of crds) {
    for (;;) {
      const c = await ext.readCustomResourceDefinition({ name: crd.metadata?.name ?? '' });
      if (c.status?.conditions?.some((x) => x.type === 'Established' && x.status === 'True')) break;
      if (Date.now() > deadline) throw new Error(`CRD ${crd.metadata?.name ?? ''} not Established within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** A GatewayClass of lbc's controllerName whose parametersRef names the lbc provider `provider`. */
/**
 * Deletes the namespace's Gateways and waits until they are gone (lbc released them), so that
 * deleting their GatewayClass afterwards leaves no Gateway without a class for every lbc
 * running on the cluster (other suites' too) to wonder about.
 */
export async function deleteGateways(custom: CustomObjectsApi, namespace: string, timeoutMs = 20_000): Promise<void> {
  const api = { group: GROUP, version: 'v1', namespace, plural: 'gateways' };
  const list = async (): Promise<string[]> => ((await custom.listNamespacedCustomObject(api)) as { items: { metadata?: { name?: string } }[] }).items.map((g) => g.metadata?.name ?? '');
  for (const name of await list()) await custom.deleteNamespacedCustomObject({ ...api, name }).catch(() => {});
  const deadline = Date.now() + timeoutMs;
  while ((await list()).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
}

/** A suite's teardown: its namespace's Gateways released and gone, then its GatewayClass deleted. */
export async function deleteGatewaysAndClass(custom: CustomObjectsApi | undefined, namespace: string, className: string): Promise<void> {
  if (!custom) return;
  await deleteGateways(custom, namespace).catch(() => {});
  await custom.deleteClusterCustomObject({ group: GROUP, version: 'v1', plural: 'gatewayclasses', name: className }).catch(() => {});
}

/** A Gateway in `namespace`, as a user's manifest makes it. */
export async function createGateway(custom: CustomObjectsApi, namespace: string, name: string, spec: object): Promise<void> {
  await custom.createNamespacedCustomObject({ group: GROUP, version: 'v1', namespace, plural: 'gateways', body: { apiVersion: `${GROUP}/v1`, kind: 'Gateway', metadata: { name }, spec } });
}

export async function createLbcGatewayClass(custom: CustomObjectsApi, name: string, provider: string): Promise<void> {
  await custom.createClusterCustomObject({
    group: GROUP,
    version: 'v1',
    plural: 'gatewayclasses',
    body: { apiVersion: `${GROUP}/v1`, kind: 'GatewayClass', metadata: { name }, spec: { controllerName: 'lbc.dev/gateway-controller', parametersRef: { group: 'lbc.dev', kind: 'Provider', name: provider } } },
  });
}
