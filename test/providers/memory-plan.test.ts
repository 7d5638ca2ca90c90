import { describe, expect, it } from 'vitest';
import { canonicalJson, canonicalSpec } from '../../src/model/canonical.js';
import type { L4Spec } from '../../src/model/spec.js';
import { diffCanonical, diffSpecs, sameJson } from '../../src/providers/memory/plan.js';
import { l4Spec, l7Spec, nodeA, nodeB } from '../model/spec-fixtures.js';

describe('sameJson', () => {
  // Each against each: sameJson must answer what comparing the canonical JSON answers.
  const shared = { x: [1, 2] };
  const values: unknown[] = [
    undefined, null, 0, -0, 1, NaN, Infinity, '', '1', 'a', true, false, () => 1, Symbol('s'), new Date(0),
    [], [undefined], [null], [() => 1], [1, 2], [2, 1], [[1], 2], {}, { a: undefined }, { a: () => 1 }, { a: null },
    { a: 1 }, { a: '1' }, { b: 1 }, { a: 1, b: 2 }, { b: 2, a: 1 }, { a: 1, b: undefined }, { a: [1, { c: 2, d: 3 }] },
    { a: [1, { d: 3, c: 2 }] }, { a: [1, { c: 2 }] }, { s: shared }, { s: { x: [1, 2] } }, { s: { x: [1, 2, 3] } }, [{ a: 1 }], { 0: 1 },
  ];
  it.each(values.map((a, i) => [i, a] as const))('agrees with canonicalJson for value %i against all', (_i, a) => {
    for (const b of values) expect([a, b, sameJson(a, b)]).toEqual([a, b, canonicalJson(a) === canonicalJson(b)]);
  });
});

describe('diffCanonical', () => {
  const frozenNodes = Object.freeze([nodeA, { ...nodeB, addresses: [...nodeB.addresses].reverse() }].map((n) => Object.freeze(n)));
  const withNodes = (s: L4Spec, targets: L4Spec['targetSets'][number]['targets']): L4Spec =>
    ({ ...s, targetSets: s.targetSets.map((t) => (t.type === 'instance' ? { ...t, targets } : t)) }) as L4Spec;

  it('gives what diffSpecs gives, for creates, no-ops, updates and deletes', () => {
    const base = withNodes(l4Spec(), frozenNodes);
    const cases: [L4Spec | undefined, L4Spec | undefined][] = [
      [undefined, base],
      [base, undefined],
      [base, withNodes(l4Spec(), frozenNodes)],
      [base, withNodes(l4Spec({ tags: { team: 'b' } }), [nodeA])],
      [base, { ...base, listeners: [...base.listeners].reverse(), sourceRanges: [...base.sourceRanges].reverse() }],
      [base, { ...base, listeners: base.listeners.slice(1), sessionAffinity: { type: 'ClientIP', timeoutSeconds: 60 } }],
    ];
    for (const [a, b] of cases) expect(diffCanonical(a && canonicalSpec(a), b && canonicalSpec(b))).toEqual(diffSpecs(a, b));
    expect(diffSpecs(base, withNodes(l4Spec({ tags: { team: 'b' } }), [nodeA]))).toEqual([
      { op: 'update', resource: 'LoadBalancer', id: 'uid-web', fields: ['tags'] },
      { op: 'update', resource: 'TargetSet', id: 'tcp-80', fields: ['targets'] },
    ]);
    const l7 = l7Spec();
    expect(diffCanonical(canonicalSpec(l7), canonicalSpec({ ...l7, rules: [...l7.rules].reverse() }))).toEqual(
      diffSpecs(l7, { ...l7, rules: [...l7.rules].reverse() }),
    );
  });
});
