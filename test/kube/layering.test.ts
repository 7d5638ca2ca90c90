// The kube layer (client, informers, caches and their indexes, queue, status) knows no
// provider and no reconciler: what a provider reads (an Ingress's annotation actions)
// reaches the indexes as a function from whoever wires the providers.
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const KUBE = fileURLToPath(new URL('../../src/kube/', import.meta.url));
const SRC = resolve(KUBE, '..');

describe('src/kube', () => {
  it('imports nothing from src/providers or src/controller', () => {
    const files = readdirSync(KUBE).filter((f) => f.endsWith('.ts'));
    expect(files).toContain('indexes.ts');
    const wrong = files.flatMap((f) =>
      [...readFileSync(join(KUBE, f), 'utf8').matchAll(/\bfrom\s+'(\.[^']+)'|\bimport\(\s*'(\.[^']+)'\s*\)/g)]
        .map((m) => resolve(KUBE, m[1] ?? m[2] ?? ''))
        .filter((target) => ['providers', 'controller'].some((layer) => target.startsWith(join(SRC, layer) + '/')))
        .map((target) => `${f} -> ${target.slice(SRC.length + 1)}`),
    );
    expect(wrong).toEqual([]);
  });
});
