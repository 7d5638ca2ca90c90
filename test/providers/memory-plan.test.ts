import { describe, expect, it } from 'vitest';
import { canonicalJson, canonicalSpec } from '../../src/model/canonical.js';
import type { L4Spec } from '../../src/model/spec.js';
import { canonicalEqual } from '../../src/model/canonical.js';
import { diffCanonical, diffSpecs } from '../../src/providers/memory/plan.js';
import { l4Spec, l7Spec, nodeA, nodeB } from '../model/spec-fixtures.js';

describe('canonicalEqual', () => {
  // Each against each: canonicalEqual must answer what comparing the canonical JSON answers.
  const shared = { x: [1, 2] };
  const values: unknown[] = [
    undefined, null, 0, -0, 1, NaN, Infinity, '', '1', 'a', true, false, () => 1, Symbol('s'), new Date(0),
    [], [undefined], [null], [() => 1], [1, 2], [2, 1], [[1], 2], {}, { a: undefined }, { a: () => 1 }, { a: null },
    { a: 1 }, { a: '1' }, { b: 1 }, { a: 1, b: 2 }, { b: 2, a: 1 }, { a: 1, b: undefined }, { a: [1, { c: 2, d: 3 }] },
    { a: [1, { d: 3, c: 2 }] }, { a: [1, { c: 2 }] }, { s: shared }, { s: { x: [1, 2] } }, { s: { x: [1, 2, 3] } }, [{ a: 1 }], { 0: 1 },
  ];
  it.each(values.map((a, i) => [i, a] as const))('agrees with canonicalJson for value %i against all', (_i, a) => {
    for (const b of values) expect([a, b, canonicalEqual(a, b)]).toEqual([a, b, canonicalJson(a) === canonicalJson(b)]);
  });
});

describe('diffCanonical', () => {
  const frozenNodes = Object.freeze([nodeA, { ...nodeB, addresses: [...nodeB.addresses].reverse() }].map((n) => Object.freeze(n)));
  const withNodes = (s: L4Spec, targets: L4Spec['targetSets'][number]['targets']): L4Spec =>
    ({ ...s, targetSets: s.targetSets.map((t) => (t.type === 'instance' ? { ...t, targets } : t)) }) as L4Spec;

  const c = (op: 'create' | 'delete', resource: string, id: string) => ({ op, resource, id });

  it('orders creates target sets first and deletes listeners first, all in one list', () => {
    const l7 = l7Spec();
    const created = [c('create', 'LoadBalancer', 'uid-site'), c('create', 'TargetSet', 'default/api:80'), c('create', 'TargetSet', 'default/web:80')];
    expect(diffCanonical(undefined, canonicalSpec(l7))).toEqual([...created, c('create', 'Listener', 'HTTP:80'), c('create', 'Listener', 'HTTPS:443'), c('create', 'Rules', 'rules')]);
    expect(diffCanonical(canonicalSpec(l7), undefined)).toEqual([
      c('delete', 'Rules', 'rules'),
      c('delete', 'Listener', 'HTTP:80'),
      c('delete', 'Listener', 'HTTPS:443'),
      c('delete', 'TargetSet', 'default/api:80'),
      c('delete', 'TargetSet', 'default/web:80'),
      c('delete', 'LoadBalancer', 'uid-site'),
    ]);
    expect(diffCanonical(canonicalSpec(l7), canonicalSpec({ ...l7, rules: [...l7.rules].reverse() }))).toEqual([
      { op: 'update', resource: 'Rules', id: 'rules', fields: ['rules'] },
    ]);
    expect(diffCanonical(undefined, undefined)).toEqual([]);
  });

  it('diffs canonical specs as diffSpecs diffs any: orders that mean nothing are no change', () => {
    const base = withNodes(l4Spec(), frozenNodes);
    const shuffled = { ...base, listeners: [...base.listeners].reverse(), sourceRanges: [...base.sourceRanges].reverse() };
    expect(diffSpecs(base, shuffled)).toEqual([]);
    expect(diffCanonical(canonicalSpec(base), canonicalSpec(shuffled))).toEqual([]);
    expect(diffCanonical(canonicalSpec(base), canonicalSpec(withNodes(l4Spec(), frozenNodes)))).toEqual([]);
    const changed = { ...base, listeners: base.listeners.slice(1), sessionAffinity: { type: 'ClientIP', timeoutSeconds: 60 } } as L4Spec;
    expect(diffCanonical(canonicalSpec(base), canonicalSpec(changed))).toEqual([
      { op: 'update', resource: 'LoadBalancer', id: 'uid-web', fields: ['sessionAffinity'] },
      c('delete', 'Listener', 'TCP:80'),
    ]);
    expect(diffSpecs(base, withNodes(l4Spec({ tags: { team: 'b' } }), [nodeA]))).toEqual([
      { op: 'update', resource: 'LoadBalancer', id: 'uid-web', fields: ['tags'] },
      { op: 'update', resource: 'TargetSet', id: 'tcp-80', fields: ['targets'] },
    ]);
  });
});
