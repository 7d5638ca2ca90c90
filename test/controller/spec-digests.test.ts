// specDigests remembers the JSON of a frozen (shared) node-target list instead of writing
// it out for every spec built from it (#21's cold-start profile): the digest must be the
// one the same targets would give unshared, and follow any change of the targets.
import { describe, expect, it } from 'vitest';
import { buildServiceModel } from '../../src/controller/service-model.js';
import { specDigests } from '../../src/controller/reconcile.js';
import type { L4Spec, NodeTarget } from '../../src/model/spec.js';
import { lbService, modelProvider, node } from './fixtures.js';

function spec(name: string, nodes = [node('node-a', { ip: '10.0.0.1' }), node('node-b', { ip: '10.0.0.2' })]): L4Spec {
  const r = buildServiceModel({
    service: lbService(name, [{ name: 'http', port: 80, targetPort: 8080, nodePort: 30080 }]),
    nodes,
    endpointSlices: [],
    provider: modelProvider(['instance']),
    className: 'lbc.dev/test',
    clusterName: 'test',
  });
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.spec as L4Spec;
}

const unshared = (s: L4Spec): L4Spec => ({ ...s, targetSets: s.targetSets.map((ts) => ({ ...ts, targets: structuredClone(ts.targets) })) as L4Spec['targetSets'] });

describe('specDigests', () => {
  it('gives a spec over the shared frozen target list the digest of the same targets unshared', () => {
    const shared = spec('web');
    expect(Object.isFrozen(shared.targetSets[0]?.targets)).toBe(true);
    const first = specDigests(shared);
    // Asked again (the remembered JSON), and for a copy nobody shares.
    expect(specDigests(shared)).toEqual(first);
    expect(specDigests(unshared(shared))).toEqual(first);
  });

  it('changes with the targets and not with the shape when only the nodes differ', () => {
    const a = specDigests(spec('web'));
    const b = specDigests(spec('web', [node('node-a', { ip: '10.0.0.1' }), node('node-c', { ip: '10.0.0.3' })]));
    expect(b.hash).not.toBe(a.hash);
    expect(b.shape).toBe(a.shape);
  });

  it('remembers a digest per frozen list: a new list with other targets changes the hash, one with the same targets does not', () => {
    const base = spec('web');
    const list = base.targetSets[0]?.targets as readonly NodeTarget[];
    const first = specDigests(base).hash;
    const withSet = (targets: readonly NodeTarget[]): L4Spec => ({ ...base, targetSets: base.targetSets.map((ts) => ({ ...ts, targets })) as L4Spec['targetSets'] });
    // The same targets in another frozen list: the digest remembered for the first list is not the only way to it.
    expect(specDigests(withSet(Object.freeze(structuredClone([...list])))).hash).toBe(first);
    // One node fewer, frozen and unfrozen: both lists are digested, not taken for the remembered one.
    expect(specDigests(withSet(Object.freeze(list.slice(1)))).hash).not.toBe(first);
    expect(specDigests(withSet(list.slice(1))).hash).not.toBe(first);
    // And the first list still gives what it gave.
    expect(specDigests(base).hash).toBe(first);
  });

  it('changes with a target set\'s name even when its targets stay', () => {
    const base = spec('web');
    const renamed: L4Spec = { ...base, targetSets: base.targetSets.map((ts) => ({ ...ts, name: 'tcp-81' })) as L4Spec['targetSets'] };
    expect(specDigests(renamed).hash).not.toBe(specDigests(base).hash);
  });
});
