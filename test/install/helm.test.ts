// deploy/helm/lbc against `lbc manifests`. No Helm renderer runs here (no helm binary, no
// Debian package, no npm package that implements Go templates with sprig), so this does
// not render the chart: it checks what can be checked without pretending to be Helm —
// the chart's metadata, that values.yaml's defaults are the CLI's defaults, that the RBAC
// rules the templates read (.Files.Get) are the generated ones, and that every object
// the CLI prints for any provider has a template of that kind and name.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DEFAULT_METAL_ADDRESSES, DEFAULT_PROJECT, DEFAULT_REGION, INSTALL_PROVIDERS, LOCAL_PORT_OFFSET } from '../../src/install/config-file.js';
import { deployFiles, HELM_CHART_DIR } from '../../src/install/deploy-files.js';
import { buildManifests, DEFAULT_AWS_ROLE_ARN, DEFAULT_CLUSTER_NAME, DEFAULT_IMAGE, DEFAULT_NAMESPACE, DEFAULT_REPLICAS, LBC_VERSION } from '../../src/install/manifests.js';
import { CONTROLLER_RESOURCES, SPEAKER_RESOURCES } from '../../src/install/workloads.js';

const ROOT = join(import.meta.dirname, '../..');
const CHART = join(ROOT, HELM_CHART_DIR);

describe('deploy/helm/lbc', () => {
  it('Chart.yaml: a v2 application chart of this version', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(LBC_VERSION, 'src/install/manifests.ts LBC_VERSION follows package.json').toBe(pkg.version);
    const chart = parse(readFileSync(join(CHART, 'Chart.yaml'), 'utf8')) as Record<string, unknown>;
    expect(chart).toMatchObject({ apiVersion: 'v2', name: 'lbc', type: 'application', version: LBC_VERSION, appVersion: LBC_VERSION });
  });

  it("values.yaml's defaults are `lbc manifests`' defaults", () => {
    const values = parse(readFileSync(join(CHART, 'values.yaml'), 'utf8')) as Record<string, unknown>;
    expect(values).toEqual({
      provider: 'aws',
      namespace: DEFAULT_NAMESPACE,
      clusterName: DEFAULT_CLUSTER_NAME,
      image: DEFAULT_IMAGE,
      replicas: DEFAULT_REPLICAS,
      resources: { controller: CONTROLLER_RESOURCES, speaker: SPEAKER_RESOURCES },
      aws: { region: DEFAULT_REGION.aws, roleArn: DEFAULT_AWS_ROLE_ARN },
      gce: { project: DEFAULT_PROJECT, region: DEFAULT_REGION.gce, serviceAccount: '' },
      metal: { addresses: DEFAULT_METAL_ADDRESSES },
      local: { portOffset: LOCAL_PORT_OFFSET },
    });
  });

  it('the generated files under deploy/ are current (regenerate with `npm run manifests`)', () => {
    for (const [path, content] of deployFiles()) expect(readFileSync(join(ROOT, path), 'utf8'), `${path} is stale: npm run manifests`).toBe(content);
  });

  it('every object `lbc manifests` prints, for every provider, has a template of that kind and name', () => {
    const templates = readdirSync(join(CHART, 'templates'))
      .filter((f) => f.endsWith('.yaml'))
      .flatMap((f) => readFileSync(join(CHART, 'templates', f), 'utf8').split(/^---$/m));
    const has = (kind: string, name: string) => templates.some((t) => new RegExp(`^kind: ${kind}$`, 'm').test(t) && new RegExp(`^  name: ${name}$`, 'm').test(t));
    for (const provider of INSTALL_PROVIDERS) {
      for (const o of buildManifests({ provider })) {
        // The Namespace's name is the namespace value itself.
        const name = o.kind === 'Namespace' ? '\\{\\{ \\.Values\\.namespace \\}\\}' : o.metadata.name;
        expect(has(o.kind, name), `${provider}: ${o.kind} ${o.metadata.name}`).toBe(true);
      }
    }
  });
});
