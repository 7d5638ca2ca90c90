// Each provider checks its own options block (#14): config/ knows none of them, the
// registry's builtinOptionsChecks hands each type's schema to validateConfig, and the file
// is reported whole, provider options with the top-level problems (#22).
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../src/config/config.js';
import { builtinOptionsChecks } from '../../src/providers/options.js';
import { PROVIDER_TYPES } from '../../src/config/config.js';

function issuesOf(text: string): string[] {
  try {
    parseConfig(text, undefined, builtinOptionsChecks);
  } catch (e) {
    if (e instanceof ConfigError) return e.issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message));
    throw e;
  }
  throw new Error('expected a ConfigError');
}

describe('provider options, checked by each provider while the file is validated', () => {
  it('has a check for every provider type', () => {
    expect(Object.keys(builtinOptionsChecks).sort()).toEqual([...PROVIDER_TYPES].sort());
  });

  it.each<[string, string, RegExp]>([
    ['memory option unknown', 'clusterName: c\nproviders: [{name: m, type: memory, options: {pool: x}}]', /^providers\[0\]\.options\.pool: unknown key$/m],
    ['memory option bad pool', 'clusterName: c\nproviders: [{name: m, type: memory, options: {addressPool: 10.0.0.0/8}}]', /^providers\[0\]\.options\.addressPool: must be \/16 or smaller$/m],
    ['memory option bad type', 'clusterName: c\nproviders: [{name: m, type: memory, options: {latencyMs: -1}}]', /^providers\[0\]\.options\.latencyMs: Too small/m],
    ['aws region', 'clusterName: c\nproviders: [{name: a, type: aws, options: {region: mars}}]', /^providers\[0\]\.options\.region: must be an AWS region such as us-east-1$/m],
    ['aws region missing', 'clusterName: c\nproviders: [{name: a, type: aws}]', /^providers\[0\]\.options\.region: is required$/m],
    ['aws nested unknown key', 'clusterName: c\nproviders: [{name: a, type: aws, options: {region: eu-west-1, retry: {tries: 3}}}]', /^providers\[0\]\.options\.retry\.tries: unknown key$/m],
    ['gce project', 'clusterName: c\nproviders: [{name: g, type: gce, options: {project: X, region: us-central1, clusterId: c}}]', /^providers\[0\]\.options\.project: must be a GCP project id$/m],
    ['local mode', 'clusterName: c\nproviders: [{name: l, type: local, options: {addressMode: magic}}]', /^providers\[0\]\.options\.addressMode: expected one of/m],
    [
      'metal overlapping pools (beyond the schema)',
      'clusterName: c\nproviders: [{name: x, type: memory}, {name: m, type: metal, options: {pools: [{name: a, addresses: [10.0.0.0/24]}, {name: b, addresses: [10.0.0.128/25]}]}}]',
      /^providers\[1\]\.options\.pools\[1\]\.addresses\[0\]: 10\.0\.0\.128\/25 of pool "b" overlaps pool "a"/m,
    ],
  ])('%s', (_name, text, want) => {
    expect(issuesOf(text).join('\n')).toMatch(want);
  });

  it('reports provider options with the top-level problems and the cross checks, in one go', () => {
    const issues = issuesOf(
      [
        'clusterName: Bad_Name',
        'concurrency: 0',
        'defaultClass: lbc.dev/nobody',
        'providers:',
        '  - { name: a, type: aws, options: { region: mars, vpcId: nope } }',
        '  - { name: m, type: metal, options: { pools: [], metallb: { namespace: Metal_LB } } }',
      ].join('\n'),
    );
    expect(issues).toEqual([
      expect.stringMatching(/^clusterName: must be a DNS label/),
      expect.stringMatching(/^concurrency: Too small/),
      'providers[0].options.region: must be an AWS region such as us-east-1',
      'providers[0].options.vpcId: must be a VPC id (vpc-...)',
      'providers[1].options.metallb.namespace: must be a namespace name',
      'defaultClass: "lbc.dev/nobody" is not the class of any provider (lbc.dev/a, lbc.dev/m)',
    ]);
  });

  it('leaves options alone when the caller gives no checks (the factory checks them when it builds)', () => {
    expect(parseConfig('clusterName: c\nproviders: [{name: a, type: aws, options: {region: mars}}]').providers[0]?.options).toEqual({ region: 'mars' });
  });
});

// What a module imports, transitively, within src/ (relative specifiers) and outside it (packages).
function importGraph(entry: string): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string): void => {
    if (files.has(file)) return;
    files.add(file);
    const text = readFileSync(file, 'utf8');
    // Static imports and re-exports only: a dynamic import() is exactly what stays unloaded.
    for (const m of text.matchAll(/^(?:import|export)\s[^;]*?from\s+'([^']+)'/gms)) {
      const spec = m[1] ?? '';
      if (/^import\s+type\s/.test(m[0]) || /^export\s+type\s/.test(m[0])) continue;
      if (spec.startsWith('.')) visit(resolve(dirname(file), spec.replace(/\.js$/, '.ts')));
      else packages.add(spec);
    }
  };
  visit(entry);
  return { files, packages };
}

describe('validating the options', () => {
  const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

  it('loads no cloud SDK (each provider keeps its schema in a light module)', () => {
    const { files, packages } = importGraph(join(SRC, 'providers/options.ts'));
    expect(files.size).toBeGreaterThan(5);
    expect([...packages].filter((p) => /^@aws-sdk\/|^@google-cloud\/|^google-auth-library/.test(p))).toEqual([]);
    expect([...files].map((f) => f.slice(SRC.length)).filter((f) => /^providers\/(aws|gce)\/(?!options\.ts$)/.test(f))).toEqual([]);
  });
});
