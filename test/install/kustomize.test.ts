// deploy/kustomize against `lbc manifests`: each overlay, built by kustomize itself
// (`kubectl kustomize`), yields exactly the objects the CLI prints for its provider, object
// by object; the base holds only what every provider's install shares. Whether the API
// server accepts them (`kubectl apply -k --dry-run=server`) is test/install/cluster.test.ts.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { INSTALL_PROVIDERS } from '../../src/install/config-file.js';
import { deployFiles, KUSTOMIZE_DIR } from '../../src/install/deploy-files.js';
import { buildManifests, type KubeObject } from '../../src/install/manifests.js';

const ROOT = join(import.meta.dirname, '../..');
const HAS_KUBECTL = spawnSync('kubectl', ['version', '--client'], { stdio: 'ignore' }).status === 0;

const keyOf = (o: KubeObject): string => `${o.kind} ${o.metadata.namespace ?? ''}/${o.metadata.name}`;

function objectsOf(yaml: string): KubeObject[] {
  const docs = parseAllDocuments(yaml);
  for (const d of docs) expect(d.errors, String(d.errors)).toEqual([]);
  return docs.map((d) => d.toJS() as KubeObject).filter((o) => o !== null);
}

function kustomize(dir: string): KubeObject[] {
  const r = spawnSync('kubectl', ['kustomize', dir], { encoding: 'utf8' });
  expect(r.status, `kubectl kustomize ${dir}: ${r.stderr}`).toBe(0);
  return objectsOf(r.stdout);
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : [relative(ROOT, join(dir, e.name))]));
}

describe('deploy/kustomize', () => {
  it('holds the generated files and nothing else (regenerate with `npm run manifests`)', () => {
    const generated = [...deployFiles().keys()].filter((p) => p.startsWith(`${KUSTOMIZE_DIR}/`));
    expect(filesUnder(join(ROOT, KUSTOMIZE_DIR)).sort()).toEqual(generated.sort());
    expect(generated).toEqual(expect.arrayContaining(INSTALL_PROVIDERS.map((p) => `${KUSTOMIZE_DIR}/overlays/${p}/kustomization.yaml`)));
  });

  it("the base is what every provider's install shares, byte for byte: no object of one provider only", () => {
    const base = objectsOf(deployFiles().get(`${KUSTOMIZE_DIR}/base/lbc.yaml`)!);
    expect(base.map(keyOf)).toEqual(['Namespace /lbc-system', 'ClusterRole /lbc-controller', 'ClusterRoleBinding /lbc-controller', 'Role lbc-system/lbc-controller', 'RoleBinding lbc-system/lbc-controller', 'Deployment lbc-system/lbc-controller']);
    for (const provider of INSTALL_PROVIDERS) {
      const all = new Map(buildManifests({ provider }).map((o) => [keyOf(o), o]));
      for (const o of base) expect(all.get(keyOf(o)), `${provider}: ${keyOf(o)}`).toEqual(o);
    }
  });

  describe.skipIf(!HAS_KUBECTL)(HAS_KUBECTL ? 'kubectl kustomize' : 'kubectl kustomize — SKIPPED: kubectl is not on PATH', () => {
    for (const provider of INSTALL_PROVIDERS) {
      it(`overlays/${provider} builds exactly the objects of \`lbc manifests --provider ${provider}\``, () => {
        const built = kustomize(join(ROOT, KUSTOMIZE_DIR, 'overlays', provider));
        const printed = buildManifests({ provider });
        expect(built.map(keyOf).sort()).toEqual(printed.map(keyOf).sort());
        const byKey = new Map(built.map((o) => [keyOf(o), o]));
        for (const o of printed) expect(byKey.get(keyOf(o)), keyOf(o)).toEqual(o);
      });
    }
  });
});
