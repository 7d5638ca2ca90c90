// The Gateway API CRDs of the demo's Gateway example, installed on its devcluster from
// examples/gateway-api/: upstream's v1.4.0 files, unmodified, vendored because a user's
// fresh clone has no ../shared. Installed before the controller starts, since it finds
// the Gateway API kinds a cluster serves once, at start (kube/gateway-resources.ts).
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { KubeConfig, V1CustomResourceDefinition } from '@kubernetes/client-node';
import { ApiextensionsV1Api } from '../../kube/client-node.js';
import { parseAllDocuments } from 'yaml';
import { EXAMPLES_DIR } from './manifests.js';

export const GATEWAY_API_CRDS_DIR = join(EXAMPLES_DIR, 'gateway-api');

/** Creates every CRD of the *.yaml files in dir and waits until each is Established; returns their names. */
export async function installCrds(kc: KubeConfig, dir: string = GATEWAY_API_CRDS_DIR, timeoutMs = 20_000): Promise<string[]> {
  const ext = kc.makeApiClient(ApiextensionsV1Api);
  let files: string[];
  try {
    files = (await readdir(dir)).filter((n) => /\.ya?ml$/.test(n)).sort();
  } catch (e) {
    throw new Error(`cannot read the demo's CRDs in ${dir}: ${(e as Error).message}`);
  }
  const crds: V1CustomResourceDefinition[] = [];
  for (const f of files) {
    for (const doc of parseAllDocuments(await readFile(join(dir, f), 'utf8'))) {
      const o = doc.toJS() as V1CustomResourceDefinition | null;
      if (o?.kind === 'CustomResourceDefinition') crds.push(o);
    }
  }
  for (const crd of crds) await ext.createCustomResourceDefinition({ body: crd });
  const names = crds.map((c) => c.metadata?.name ?? '');
  const deadline = Date.now() + timeoutMs;
  for (const name of names) {
    for (;;) {
      const c = await ext.readCustomResourceDefinition({ name });
      if (c.status?.conditions?.some((x) => x.type === 'Established' && x.status === 'True')) break;
      if (Date.now() > deadline) throw new Error(`lbc demo: CRD ${name} not Established within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return names;
}
