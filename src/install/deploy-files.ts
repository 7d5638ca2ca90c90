// The files under deploy/ that are generated, not written: each provider's lbc.yaml and
// the RBAC rules the Helm chart reads with .Files.Get, so neither can drift from the
// code. `npm run manifests` writes them; test/install holds the checked-in copies equal.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { stringify } from 'yaml';
import { INSTALL_PROVIDERS } from './config-file.js';
import { manifestsYaml } from './manifests.js';
import { permissionsOf, rulesOf, type Component } from './rbac.js';

export const HELM_CHART_DIR = 'deploy/helm/lbc';

/** deploy-relative path -> content. */
export function deployFiles(): Map<string, string> {
  const files = new Map<string, string>();
  for (const provider of INSTALL_PROVIDERS) files.set(`deploy/${provider}/lbc.yaml`, manifestsYaml({ provider }));
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
