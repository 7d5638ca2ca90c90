// The low floors know nothing above them. The kube layer (client, informers, caches and
// their indexes, queue, status) knows no provider and no reconciler: what a provider reads
// (an Ingress's annotation actions) reaches the indexes as a function from whoever wires
// the providers. The config layer knows no provider, not even one provider's options (#14):
// each provider's check reaches validateConfig from the layer that knows the providers.
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

/** `file -> target` for every relative import of a src/ folder into one of `above`. */
function importsInto(folder: string, above: readonly string[]): string[] {
  const dir = join(SRC, folder);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.ts'))
    .flatMap((f) =>
      [...readFileSync(join(dir, f), 'utf8').matchAll(/\bfrom\s+'(\.[^']+)'|\bimport\(\s*'(\.[^']+)'\s*\)/g)]
        .map((m) => resolve(dir, m[1] ?? m[2] ?? ''))
        .filter((target) => above.some((layer) => target.startsWith(join(SRC, layer) + '/')))
        .map((target) => `${f} -> ${target.slice(SRC.length)}`),
    );
}

describe('src/kube', () => {
  it('imports nothing from src/providers or src/controller', () => {
    expect(readdirSync(join(SRC, 'kube'))).toContain('indexes.ts');
    expect(importsInto('kube', ['providers', 'controller'])).toEqual([]);
  });
});

describe('src/config', () => {
  it('imports nothing from the floors above it', () => {
    expect(readdirSync(join(SRC, 'config'))).toContain('config.ts');
    expect(importsInto('config', ['providers', 'model', 'controller', 'observability', 'install', 'cli'])).toEqual([]);
  });
});
