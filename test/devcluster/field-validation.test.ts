// What fieldValidation rests on: the duplicate keys of a JSON body and the fields pruning
// drops, each by the path kube-apiserver v1.26 names it with (the contract suite holds the
// whole requests to the real server; these pin the edge cases of the two scanners).
import { describe, expect, it } from 'vitest';
import { duplicateFields } from '../../src/devcluster/duplicate-fields.js';
import { structural, unknownFieldPaths } from '../../src/devcluster/structural-schema.js';

describe('duplicate fields of a JSON body', () => {
  it('names each repeated key by its path, in the order met, through arrays and nested objects', () => {
    const text = '{"metadata":{"name":"r","name":"s"},"spec":{"rules":[{"a":1},{"matches":[{"path":{"type":"A","value":"/","type":"B"}}]}]},"spec":{}}';
    expect(duplicateFields(text)).toEqual(['metadata.name', 'spec.rules[1].matches[0].path.type', 'spec']);
  });

  it('compares keys as decoded strings, and is not fooled by braces, quotes or escapes inside strings', () => {
    expect(duplicateFields('{"a\\u0062":1,"ab":2}')).toEqual(['ab']);
    expect(duplicateFields('{ "x" : "}{\\"x\\":1,", "y": ["{", "\\\\"], "z": {"x": 1} }')).toEqual([]);
    expect(duplicateFields(' {"n": -1.5e3, "t": true, "f": false, "z": null, "n": 0 } ')).toEqual(['n']);
  });

  it('finds none in a body without objects or without repeats', () => {
    expect(duplicateFields('[{"op":"add"},{"op":"remove"}]')).toEqual([]);
    expect(duplicateFields('{}')).toEqual([]);
    expect(duplicateFields('{"a":[],"b":{}}')).toEqual([]);
  });
});

describe('unknown fields pruning would drop', () => {
  const schema = structural({
    type: 'object',
    properties: {
      spec: {
        type: 'object',
        properties: {
          list: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' } } } },
          free: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true, properties: { typed: { type: 'object', properties: { a: { type: 'string' } } } } },
          labels: { type: 'object', additionalProperties: { type: 'string' } },
        },
      },
    },
  });

  it('reports metadata fields ObjectMeta lacks (at any depth) first, then the rest sorted, and leaves the object as it was', () => {
    const obj = {
      apiVersion: 'x/v1',
      kind: 'X',
      zz: 1,
      metadata: { name: 'a', labels: { k: 'v' }, zeta: 1, ownerReferences: [{ uid: 'u', extra: 1 }], alpha: 2 },
      spec: { list: [{ name: 'n' }, { name: 'm', other: 1 }], free: { anything: { goes: 1 }, typed: { a: 'x', b: 'y' } }, labels: { any: 'thing' }, bad: true },
    };
    const before = structuredClone(obj);
    expect(unknownFieldPaths(obj, schema)).toEqual([
      'metadata.alpha', 'metadata.ownerReferences[0].extra', 'metadata.zeta',
      'spec.bad', 'spec.free.typed.b', 'spec.list[1].other', 'zz',
    ]);
    expect(obj).toEqual(before);
  });

  it('reports nothing for an object its schema declares wholly', () => {
    expect(unknownFieldPaths({ apiVersion: 'x/v1', kind: 'X', metadata: { name: 'a', annotations: { b: 'c' } }, spec: { list: [], labels: {} } }, schema)).toEqual([]);
  });
});
