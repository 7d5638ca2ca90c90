// The floors rule file (.dependency-cruiser.mjs), as `npm run lint` applies it. Each rule is
// run on a small tree of modules with one deliberately wrong import and must name that
// import; a right import beside it must pass. Then the real src: clean, apart from the
// recorded circles inside one folder (and those must really be inside one folder).
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cruise, type ICruiseOptions, type IViolation } from 'dependency-cruiser';
import extractDepcruiseOptions from 'dependency-cruiser/config-utl/extract-depcruise-options';
import extractTSConfig from 'dependency-cruiser/config-utl/extract-ts-config';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RULES = join(ROOT, '.dependency-cruiser.mjs');
const KNOWN = join(ROOT, '.dependency-cruiser-known-violations.json');

let options: ICruiseOptions;
let fixture: string;

/** Writes the modules of one fixture tree (paths under src/, `import` lines as given). */
function tree(name: string, files: Record<string, string>): string {
  const dir = join(fixture, name);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), `${text}\nexport const here = 1;\n`);
  }
  writeFileSync(join(dir, 'tsconfig.json'), readFileSync(join(ROOT, 'tsconfig.json')));
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  return dir;
}

/**
 * The rule violations depcruise reports for the tree at `dir` (known ones left out), as
 * `rule: from → to`, or `rule: members of the circle, sorted` for a circle, which
 * depcruise reports once from whichever member it meets first.
 */
async function violations(dir: string, opts: ICruiseOptions = options): Promise<string[]> {
  const result = await cruise(['src'], { ...opts, baseDir: dir }, {}, { tsConfig: extractTSConfig(join(dir, 'tsconfig.json')) });
  if (typeof result.output === 'string') throw new Error(`expected a cruise result, got text: ${result.output}`);
  // A fixture's node_modules is a link to the repository's, which depcruise reports by its real path.
  const module = (path: string): string => path.replace(/^.*?\/?node_modules\//, 'node_modules/');
  return (result.output.summary.violations as IViolation[])
    .filter((v) => v.rule.severity !== 'ignore')
    .map((v) =>
      v.cycle
        ? `${v.rule.name}: ${[...new Set([v.from, ...v.cycle.map((c) => c.name)])].sort().join(', ')}`
        : `${v.rule.name}: ${v.from} → ${module(v.to)}`,
    )
    .sort();
}

beforeAll(async () => {
  options = await extractDepcruiseOptions(RULES);
  fixture = mkdtempSync(join(tmpdir(), 'lbc-layering-'));
});
afterAll(() => rmSync(fixture, { recursive: true, force: true }));

describe('the floors rule file', () => {
  it('refuses an import up a floor, naming the floor and the import; the same import downwards passes', async () => {
    const dir = tree('up', {
      'src/controller/reconciler.ts': "import { here as p } from '../providers/provider.js'; void p;",
      'src/providers/provider.ts': "import { here as m } from '../model/spec.js'; void m;",
      'src/providers/aws/annotations.ts': "import { here as a } from '../../controller/annotations.js'; void a;",
      'src/controller/annotations.ts': '',
      'src/model/spec.ts': '',
    });
    expect(await violations(dir)).toEqual(['floor-providers: src/providers/aws/annotations.ts → src/controller/annotations.ts']);
  });

  it('refuses src/kube importing the controller or a provider (test/kube/layering.test.ts checks the same by hand)', async () => {
    const dir = tree('kube', {
      'src/kube/indexes.ts': "import { here as a } from '../providers/aws/annotations.js'; import { here as c } from '../controller/reconcile.js'; void a, c;",
      'src/providers/aws/annotations.ts': '',
      'src/controller/reconcile.ts': '',
    });
    expect(await violations(dir)).toEqual([
      'floor-kube: src/kube/indexes.ts → src/controller/reconcile.ts',
      'floor-kube: src/kube/indexes.ts → src/providers/aws/annotations.ts',
    ]);
  });

  it('refuses imports between folders of the same floor', async () => {
    const dir = tree('mates', {
      'src/install/manifests.ts': "import { here as l } from '../observability/log.js'; void l;",
      'src/observability/log.ts': '',
    });
    expect(await violations(dir)).toEqual(['floor-install: src/install/manifests.ts → src/observability/log.ts']);
  });

  it('refuses an import circle across folders, as the one through metrics and the retry policy was', async () => {
    const dir = tree('circle', {
      'src/observability/metrics.ts': "import type { here as c } from '../controller/controller.js'; export type C = typeof c;",
      'src/controller/controller.ts': "import { here as r } from '../providers/retry.js'; void r;",
      'src/providers/retry.ts': "import { here as m } from '../observability/metrics.js'; void m;",
    });
    const circle = 'src/controller/controller.ts, src/observability/metrics.ts, src/providers/retry.ts';
    expect(await violations(dir)).toEqual([
      'floor-providers: src/providers/retry.ts → src/observability/metrics.ts',
      `no-circular-across-folders: ${circle}`,
      `no-circular: ${circle}`,
    ]);
  });

  it('refuses a new circle inside one folder too', async () => {
    const dir = tree('local-circle', {
      'src/kube/informer.ts': "import { here as c } from './client.js'; void c;",
      'src/kube/client.ts': "import type { here as i } from './informer.js'; export type I = typeof i;",
    });
    expect(await violations(dir)).toEqual(['no-circular: src/kube/client.ts, src/kube/informer.ts']);
  });

  it('refuses @kubernetes/client-node in a provider, but not in the metal speaker, which talks to the API itself', async () => {
    const dir = tree('client-node', {
      'src/providers/aws/provider.ts': "import type { V1Service } from '@kubernetes/client-node'; export type S = V1Service;",
      'src/providers/metal/speaker/speaker.ts': "import type { V1Node } from '@kubernetes/client-node'; export type N = V1Node;",
    });
    expect(await violations(dir)).toEqual(['providers-no-kubernetes-client: src/providers/aws/provider.ts → node_modules/@kubernetes/client-node/dist/index.js']);
  });

  it("refuses client-node's internals anywhere but kube/client-node.ts", async () => {
    const internal = "import { ObjectSerializer } from '@kubernetes/client-node/dist/gen/models/ObjectSerializer.js'; void ObjectSerializer;";
    const dir = tree('internals', { 'src/kube/client-node.ts': internal, 'src/providers/metal/speaker/speaker.ts': internal });
    expect(await violations(dir)).toEqual([
      'client-node-internals: src/providers/metal/speaker/speaker.ts → node_modules/@kubernetes/client-node/dist/gen/models/ObjectSerializer.js',
    ]);
  });
});

describe('src', () => {
  it('keeps every rule; the circles it is let off are the recorded ones, each inside a single folder', async () => {
    const known = JSON.parse(readFileSync(KNOWN, 'utf8')) as IViolation[];
    expect(known.length).toBeGreaterThan(0);
    for (const v of known) {
      expect(v.rule.name).toBe('no-circular');
      const folders = new Set([v.from, ...(v.cycle ?? []).map((c) => c.name)].map((m) => m.split('/').slice(0, 2).join('/')));
      expect(folders.size, `${v.from}: ${[...folders].join(', ')}`).toBe(1);
    }
    expect(await violations(ROOT, { ...options, knownViolations: known })).toEqual([]);
  });
});
