// The files under deploy/ that are generated, not written: each provider's lbc.yaml, the
// kustomize base and overlays, and the RBAC rules the Helm chart reads with .Files.Get, so
// none can drift from the code. `npm run manifests` writes them; test/install holds the
// checked-in copies equal.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { stringify } from 'yaml';
import { INSTALL_PROVIDERS } from './config-file.js';
import { buildManifests, LBC_VERSION, manifestsYaml, type KubeObject } from './manifests.js';
import { permissionsOf, rulesOf, type Component } from './rbac.js';

export const HELM_CHART_DIR = 'deploy/helm/lbc';
export const KUSTOMIZE_DIR = 'deploy/kustomize';

const GENERATED = `# Generated from src/install/manifests.ts by \`npm run manifests\`: edit an overlay of your own, not this.\n`;
const yamlStream = (objects: readonly KubeObject[]): string => objects.map((o) => `---\n${stringify(o, { lineWidth: 0, aliasDuplicateObjects: false })}`).join('');
const kustomization = (resources: readonly string[]): string =>
  `${GENERATED}${stringify({ apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', resources: [...resources] })}`;

/**
 * The kustomize packaging of `lbc manifests`: base/ holds the objects every provider's
 * install has byte for byte (Namespace, the controller's RBAC, its Deployment), and
 * overlays/<provider>/ adds that provider's own (ServiceAccount with its cloud identity
 * annotation, ConfigMap, IngressClass; the speaker on metal). An overlay builds exactly
 * the objects `lbc manifests --provider <provider>` prints.
 */
function kustomizeFiles(): Map<string, string> {
  const files = new Map<string, string>();
  const byProvider = INSTALL_PROVIDERS.map((provider) => ({ provider, objects: buildManifests({ provider }) }));
  const text = (o: KubeObject) => stringify(o);
  const shared = byProvider[0]!.objects.filter((o) => byProvider.every((p) => p.objects.some((x) => text(x) === text(o))));
  const inBase = new Set(shared.map(text));
  files.set(`${KUSTOMIZE_DIR}/base/kustomization.yaml`, kustomization(['lbc.yaml']));
  files.set(`${KUSTOMIZE_DIR}/base/lbc.yaml`, `# lbc ${LBC_VERSION}: what every provider's install holds.\n${GENERATED}${yamlStream(shared)}`);
  for (const { provider, objects } of byProvider) {
    files.set(`${KUSTOMIZE_DIR}/overlays/${provider}/kustomization.yaml`, kustomization(['../../base', `${provider}.yaml`]));
    files.set(
      `${KUSTOMIZE_DIR}/overlays/${provider}/${provider}.yaml`,
      `# lbc ${LBC_VERSION}: what the ${provider} provider adds to the base.\n${GENERATED}${yamlStream(objects.filter((o) => !inBase.has(text(o))))}`,
    );
  }
  return files;
}

/** deploy-relative path -> content. */
export function deployFiles(): Map<string, string> {
  const files = new Map<string, string>();
  for (const provider of INSTALL_PROVIDERS) files.set(`deploy/${provider}/lbc.yaml`, manifestsYaml({ provider }));
  for (const [path, content] of kustomizeFiles()) files.set(path, content);
  for (const component of ['controller', 'speaker'] as Component[]) {
    for (const scope of ['cluster', 'namespace'] as const) {
      const rules = rulesOf(permissionsOf(component).filter((p) => p.scope === scope));
      files.set(`${HELM_CHART_DIR}/files/${component}-${scope}-rules.yaml`, `# Generated from src/install/rbac.ts by \`npm run manifests\`.\n${stringify(rules)}`);
    }
  }
  return files;
}

function writeAll(root: string): void {
  for (const [path, content] of deployFiles()) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  writeAll(join(dirname(fileURLToPath(import.meta.url)), '../..'));
}
