// Installs MetalLB's upstream CRDs (../shared/crds/metallb-v0.16.1, unmodified) on the
// test cluster, devcluster or real, and writes MetalLB objects as a user's manifests
// would: through the API, in a namespace of the test's own.
import { ApiextensionsV1Api, CustomObjectsApi, type KubeConfig, type V1CustomResourceDefinition } from '@kubernetes/client-node';
import { existsSync, readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';

const DIR = new URL('../../../shared/crds/metallb-v0.16.1/', import.meta.url).pathname;

/** Whether the upstream CRD files are here (they live beside the worktree, not in it). */
export const metallbCrdsPresent = existsSync(DIR);

/** Creates (or replaces) the CRDs of `kinds` (file stems: ipaddresspools, l2advertisements, servicel2statuses) and waits until each is Established. */
export async function installMetalLbCrds(kc: KubeConfig, kinds: readonly string[] = ['ipaddresspools', 'l2advertisements', 'servicel2statuses']): Promise<void> {
  const api = kc.makeApiClient(ApiextensionsV1Api);
  for (const kind of kinds) {
    const crd = parseAllDocuments(readFileSync(`${DIR}metallb.io_${kind}.yaml`, 'utf8'))
      .map((d) => d.toJSON() as V1CustomResourceDefinition)
      .find((d) => d?.kind === 'CustomResourceDefinition');
    if (!crd?.metadata?.name) throw new Error(`no CRD in metallb.io_${kind}.yaml`);
    const name = crd.metadata.name;
    try {
      await api.createCustomResourceDefinition({ body: crd });
    } catch (e) {
      if ((e as { code?: number }).code !== 409) throw e;
    }
    const deadline = Date.now() + 20_000;
    for (;;) {
      const got = await api.readCustomResourceDefinition({ name });
      if (got.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) break;
      if (Date.now() > deadline) throw new Error(`CRD ${name} not Established after 20 s`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** Creates, replaces (spec only) and deletes MetalLB objects of one namespace. */
export class MetalLbObjects {
  private readonly api: CustomObjectsApi;

  constructor(
    kc: KubeConfig,
    readonly namespace: string,
  ) {
    this.api = kc.makeApiClient(CustomObjectsApi);
  }

  async apply(plural: 'ipaddresspools' | 'l2advertisements' | 'bgppeers' | 'bgpadvertisements' | 'bfdprofiles' | 'communities', kind: string, name: string, spec: unknown, labels: Record<string, string> = {}): Promise<void> {
    // BGPPeer's served and storage version is v1beta2 (v1beta1 is deprecated); the others' v1beta1.
    const version = plural === 'bgppeers' ? 'v1beta2' : 'v1beta1';
    const base = { group: 'metallb.io', version, namespace: this.namespace, plural };
    try {
      await this.api.createNamespacedCustomObject({ ...base, body: { apiVersion: `metallb.io/${version}`, kind, metadata: { name, labels }, spec } });
    } catch (e) {
      if ((e as { code?: number }).code !== 409) throw e;
      const current = (await this.api.getNamespacedCustomObject({ ...base, name })) as { metadata: { resourceVersion: string } };
      await this.api.replaceNamespacedCustomObject({
        ...base,
        name,
        body: { apiVersion: `metallb.io/${version}`, kind, metadata: { name, labels, resourceVersion: current.metadata.resourceVersion }, spec },
      });
    }
  }

  pool(name: string, spec: unknown, labels?: Record<string, string>): Promise<void> {
    return this.apply('ipaddresspools', 'IPAddressPool', name, spec, labels);
  }

  advertisement(name: string, spec: unknown): Promise<void> {
    return this.apply('l2advertisements', 'L2Advertisement', name, spec);
  }

  async remove(plural: 'ipaddresspools' | 'l2advertisements', name: string): Promise<void> {
    await this.api.deleteNamespacedCustomObject({ group: 'metallb.io', version: 'v1beta1', namespace: this.namespace, plural, name }).catch((e: { code?: number }) => {
      if (e.code !== 404) throw e;
    });
  }

  async list(plural: 'servicel2statuses' | 'ipaddresspools'): Promise<{ metadata: { name: string; labels?: Record<string, string>; ownerReferences?: unknown[] }; status?: Record<string, unknown> }[]> {
    const r = (await this.api.listNamespacedCustomObject({ group: 'metallb.io', version: 'v1beta1', namespace: this.namespace, plural })) as { items: never[] };
    return r.items;
  }
}
