// Custom resource validation held to kube-apiserver v1.26: every expected cause below was
// answered by the real server (see crd-schema.recorded.ts); the CRDs are the upstream files in
// ../shared/crds (skipped with a message where that folder is absent).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { compileCrdVersion, type CrdValidator } from '../../src/devcluster/crd-schema.js';
import { invalidCases, normalizedCases, validCases, widgetCases, widgetCrd, type RecordedCase } from './crd-schema.recorded.js';

const here = dirname(fileURLToPath(import.meta.url));
const CRDS = resolve(here, '../../../shared/crds');
const haveCrds = existsSync(CRDS);
if (!haveCrds) console.warn(`crd-schema: ${CRDS} is absent; the upstream CRD cases are skipped`);

interface Crd {
  spec: { group: string; names: { plural: string }; versions: { name: string; schema?: { openAPIV3Schema?: unknown } }[] };
}

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? yamlFiles(p) : p.endsWith('.yaml') ? [p] : [];
  });
}

function crdsIn(file: string): Crd[] {
  return parseAllDocuments(readFileSync(file, 'utf8')).map((d) => d.toJS() as Crd & { kind?: string }).filter((c) => c?.kind === 'CustomResourceDefinition');
}

const validators = new Map<string, CrdValidator>();

function validatorFor(c: RecordedCase): CrdValidator {
  const apiVersion = String(c.obj.apiVersion);
  const version = apiVersion.split('/').pop()!;
  const key = `${c.crd ?? 'widget'} ${version}`;
  let v = validators.get(key);
  if (!v) {
    const crd = c.crd ? crdsIn(join(CRDS, c.crd))[0]! : (widgetCrd as unknown as Crd);
    const r = compileCrdVersion(crd.spec.versions.find((x) => x.name === version)!);
    if (!r.ok) throw new Error(r.errors.join('\n'));
    v = r.validator;
    validators.set(key, v);
  }
  return v;
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]));
  return v;
}

function expectCauses(c: RecordedCase): void {
  const { causes } = validatorFor(c).apply(c.obj, c.old);
  const want = c.causes ?? [];
  if (c.unordered) {
    const key = (x: { field: string; message: string }) => `${x.field} ${x.message}`;
    expect([...causes].sort((a, b) => key(a).localeCompare(key(b)))).toEqual([...want].sort((a, b) => key(a).localeCompare(key(b))));
  } else {
    expect(causes).toEqual(want);
  }
}

function expectStored(c: RecordedCase): void {
  const { obj, causes } = validatorFor(c).apply(c.obj, c.old);
  expect(causes).toEqual([]);
  const { metadata, ...rest } = obj;
  expect(sortKeys(rest)).toEqual(c.stored);
  expect(Object.keys(metadata as object).sort()).toEqual(c.storedMetadataKeys);
}

describe.skipIf(!haveCrds)('upstream CRDs (Gateway API v1.4.0, MetalLB v0.16.1, ALBC v3.5.0)', () => {
  it('compiles every version of every CRD, in a few seconds', () => {
    const t0 = performance.now();
    let n = 0;
    for (const file of yamlFiles(CRDS)) {
      for (const crd of crdsIn(file)) {
        for (const v of crd.spec.versions) {
          const r = compileCrdVersion(v);
          expect(r.ok ? [] : r.errors, `${crd.spec.names.plural}.${crd.spec.group} ${v.name}`).toEqual([]);
          n++;
        }
      }
    }
    const ms = performance.now() - t0;
    console.log(`crd-schema: compiled ${n} CRD versions in ${ms.toFixed(0)} ms`);
    expect(n).toBe(46);
    expect(ms).toBeLessThan(15_000);
  }, 30_000);

  describe('refuses what kube-apiserver refuses, with its causes', () => {
    it.each(invalidCases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
      expect(c.causes?.length ?? 0).toBeGreaterThan(0);
      expectCauses(c);
    });
  });

  describe('prunes and defaults as kube-apiserver stores', () => {
    it.each(normalizedCases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
      if (c.stored) expectStored(c);
      else expectCauses(c);
    });
  });

  describe('objects shaped like the projects\' examples pass, stored as the real server stores them', () => {
    it.each(validCases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
      expectStored(c);
      // Already complete: validating what was stored changes nothing.
      const v = validatorFor(c);
      const once = v.apply(c.obj).obj;
      expect(v.apply(once)).toEqual({ obj: once, causes: [] });
    });
  });

  it('an HTTPRoute path with // is refused with the CRD\'s own CEL message', () => {
    const c = invalidCases.find((x) => x.name === 'path//')!;
    expect(validatorFor(c).apply(c.obj).causes).toEqual([
      { reason: 'FieldValueInvalid', message: `Invalid value: "object": must not contain '//' when type one of ['Exact', 'PathPrefix']`, field: 'spec.rules[0].matches[0].path' },
    ]);
  });

  it('validates an HTTPRoute in well under a millisecond on average', () => {
    const c = validCases.find((x) => x.obj.kind === 'HTTPRoute')!;
    const v = validatorFor(c);
    for (let i = 0; i < 50; i++) v.apply(c.obj);
    const runs = 500;
    const t0 = performance.now();
    for (let i = 0; i < runs; i++) v.apply(c.obj);
    const each = (performance.now() - t0) / runs;
    console.log(`crd-schema: one HTTPRoute validated in ${(each * 1000).toFixed(0)} µs on average`);
    expect(each).toBeLessThan(5);
  });
});

describe('schema features beyond the shipped CRDs (Widget CRD, answers of the real server)', () => {
  it.each(widgetCases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    if (c.stored) expectStored(c);
    else expectCauses(c);
  });

  it('compiles the Widget CRD', () => {
    expect(compileCrdVersion(widgetCrd.spec.versions[0] as never).ok).toBe(true);
  });
});

describe('rules that cannot be compiled are refused, naming the rule and why', () => {
  const withRule = (rule: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
    name: 'v1',
    schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', properties: { a: { type: 'string' }, ...extra }, 'x-kubernetes-validations': [rule] } } } },
  });

  it('a function kube-apiserver has but this module does not (isURL, from the Kubernetes URL library)', () => {
    const r = compileCrdVersion(withRule({ rule: 'isURL(self.a)' }));
    expect(r).toEqual({ ok: false, errors: [`spec.versions[v1].schema.openAPIV3Schema.properties[spec].x-kubernetes-validations[0].rule: Invalid value: "isURL(self.a)": compilation failed: undeclared reference to 'isURL'`] });
  });

  it('a syntax error', () => {
    const r = compileCrdVersion(withRule({ rule: 'self.a ==' }));
    expect(r.ok).toBe(false);
    expect(!r.ok && r.errors[0]).toMatch(/x-kubernetes-validations\[0\]\.rule: Invalid value: "self\.a ==": compilation failed: syntax error/);
  });

  it('a variable other than self and oldSelf', () => {
    const r = compileCrdVersion(withRule({ rule: 'other == self.a' }));
    expect(!r.ok && r.errors[0]).toMatch(/undeclared reference to 'other'$/);
  });

  it('a strings-extension function newer than Kubernetes 1.26 (reverse)', () => {
    const r = compileCrdVersion(withRule({ rule: 'self.a.reverse() == self.a' }));
    expect(!r.ok && r.errors[0]).toMatch(/undeclared reference to 'reverse'$/);
  });

  it('oldSelf inside the items of a list that is not a map list', () => {
    const r = compileCrdVersion({
      name: 'v1',
      schema: { openAPIV3Schema: { type: 'object', properties: { l: { type: 'array', items: { type: 'string', 'x-kubernetes-validations': [{ rule: 'self == oldSelf' }] } } } } },
    });
    expect(!r.ok && r.errors[0]).toMatch(/properties\[l\]\.items\.x-kubernetes-validations\[0\]\.rule: .*oldSelf cannot be used on the uncorrelatable portion of the schema within a list$/);
  });

  it('a missing schema', () => {
    expect(compileCrdVersion({ name: 'v1' })).toEqual({ ok: false, errors: ['spec.versions[v1].schema.openAPIV3Schema: Required value: schemas are required'] });
  });
});

// messageExpression, reason and fieldPath arrived after v1.26 (1.27/1.28): the real server here
// drops them from the CRD, so these follow apiextensions-apiserver's later code
// (pkg/apiserver/schema/cel/validation.go: fieldErrorForReason, messageExpression fallbacks).
describe('rule fields newer than v1.26', () => {
  const validator = (rule: Record<string, unknown>) => {
    const r = compileCrdVersion({
      name: 'v1',
      schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', properties: { min: { type: 'integer' }, max: { type: 'integer' }, labels: { type: 'object', additionalProperties: { type: 'string' } } }, 'x-kubernetes-validations': [rule] } } } },
    });
    if (!r.ok) throw new Error(r.errors.join('\n'));
    return r.validator;
  };
  const bad = { spec: { min: 5, max: 1, labels: { a: 'b' } } };

  it('messageExpression words the failure', () => {
    const v = validator({ rule: 'self.min <= self.max', message: 'static', messageExpression: "'min ' + string(self.min) + ' exceeds max ' + string(self.max)" });
    expect(v.apply(bad).causes).toEqual([{ reason: 'FieldValueInvalid', message: 'Invalid value: "object": min 5 exceeds max 1', field: 'spec' }]);
  });

  it('a blank messageExpression result falls back to message', () => {
    const v = validator({ rule: 'self.min <= self.max', message: 'static', messageExpression: "' '" });
    expect(v.apply(bad).causes).toEqual([{ reason: 'FieldValueInvalid', message: 'Invalid value: "object": static', field: 'spec' }]);
  });

  it('reason and fieldPath place and type the cause', () => {
    const v = validator({ rule: 'self.min <= self.max', message: 'too small', reason: 'FieldValueForbidden', fieldPath: '.max' });
    expect(v.apply(bad).causes).toEqual([{ reason: 'FieldValueForbidden', message: 'Forbidden: too small', field: 'spec.max' }]);
  });

  it('an unknown reason is refused at compile time', () => {
    const r = compileCrdVersion({ name: 'v1', schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-validations': [{ rule: 'true', reason: 'Nope' }] } } });
    expect(r.ok).toBe(false);
  });

  it('transition rules run only when an old object is given', () => {
    const v = validator({ rule: 'self.min == oldSelf.min', message: 'min is immutable' });
    expect(v.apply(bad).causes).toEqual([]);
    expect(v.apply(bad, { spec: { min: 4, max: 9 } }).causes).toEqual([{ reason: 'FieldValueInvalid', message: 'Invalid value: "object": min is immutable', field: 'spec' }]);
    expect(v.apply(bad, { spec: { min: 5, max: 9 } }).causes).toEqual([]);
  });
});

// apiextensions-apiserver's unstructuredSchemaCoercer round-trips root metadata through
// ObjectMeta whatever the schema preserves (pkg/apiserver/customresource_handler.go).
describe('x-kubernetes-preserve-unknown-fields', () => {
  it('keeps unknown fields but still cuts metadata to ObjectMeta', () => {
    const r = compileCrdVersion({ name: 'v1', schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true, properties: { spec: { type: 'object', properties: { n: { type: 'integer', default: 3 } } } } } } });
    if (!r.ok) throw new Error(r.errors.join('\n'));
    const out = r.validator.apply({ apiVersion: 'x/v1', kind: 'K', metadata: { name: 'a', junk: 1 }, anything: { deep: [1] }, spec: { other: true } });
    expect(out).toEqual({ obj: { apiVersion: 'x/v1', kind: 'K', metadata: { name: 'a' }, anything: { deep: [1] }, spec: { n: 3 } }, causes: [] });
  });
});
