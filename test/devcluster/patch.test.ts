import { describe, expect, it } from 'vitest';
import { jsonPatch, mergePatch, strategicMergePatch } from '../../src/devcluster/patch.js';
import { builtinResources } from '../../src/devcluster/resources.js';
import { ApiError } from '../../src/devcluster/errors.js';

const service = builtinResources().find((r) => r.kind === 'Service')!;
const who = { kind: 'Service', group: '', name: 'web' };

describe('merge patch (RFC 7386)', () => {
  it('merges objects, replaces lists, deletes on null', () => {
    const doc = { a: { b: 1, c: 2 }, l: [1, 2], keep: true };
    expect(mergePatch(doc, { a: { b: null, d: 3 }, l: [3] })).toEqual({ a: { c: 2, d: 3 }, l: [3], keep: true });
  });
});

describe('JSON patch (RFC 6902)', () => {
  const doc = { metadata: { finalizers: ['a'] }, spec: { ports: [{ port: 80 }] } };
  it('adds, replaces, removes, moves and copies', () => {
    const out = jsonPatch(doc, [
      { op: 'add', path: '/metadata/finalizers/-', value: 'b' },
      { op: 'replace', path: '/spec/ports/0/port', value: 81 },
      { op: 'copy', from: '/spec/ports/0', path: '/spec/ports/1' },
      { op: 'remove', path: '/metadata/finalizers/0' },
      { op: 'move', from: '/spec/ports', path: '/spec/moved' },
    ], who);
    expect(out).toEqual({ metadata: { finalizers: ['b'] }, spec: { moved: [{ port: 81 }, { port: 81 }] } });
    expect(doc.metadata.finalizers).toEqual(['a']);
  });
  it('a failing test op is 422 and changes nothing', () => {
    try {
      jsonPatch(doc, [{ op: 'test', path: '/metadata/finalizers', value: [] }, { op: 'add', path: '/x', value: 1 }], who);
      expect.fail('no error');
    } catch (e) {
      expect((e as ApiError).code).toBe(422);
    }
  });
  it('a non-array body is 400', () => {
    expect(() => jsonPatch(doc, { op: 'add' }, who)).toThrow(ApiError);
  });
  it('escapes ~0 and ~1 in pointers', () => {
    const out = jsonPatch({ metadata: { annotations: { 'lbc.dev/x': '1' } } }, [{ op: 'replace', path: '/metadata/annotations/lbc.dev~1x', value: '2' }], who);
    expect(out).toEqual({ metadata: { annotations: { 'lbc.dev/x': '2' } } });
  });
});

describe('strategic merge patch', () => {
  const svc = {
    metadata: { name: 'web', finalizers: ['a'] },
    spec: { ports: [{ name: 'http', port: 80, targetPort: 8080 }, { name: 'https', port: 443 }], selector: { app: 'web' } },
    status: { conditions: [{ type: 'A', status: 'True' }] },
  };
  it('merges Service ports by port, in the order apimachinery gives (patch order, server-only items interleaved)', () => {
    const out = strategicMergePatch(service, svc, { spec: { ports: [{ port: 80, targetPort: 9090 }, { port: 8443, name: 'alt' }] } }) as typeof svc;
    expect(out.spec.ports).toEqual([
      { name: 'http', port: 80, targetPort: 9090 },
      { port: 8443, name: 'alt' },
      { name: 'https', port: 443 },
    ]);
  });
  it('deletes list elements with $patch: delete and primitives with $deleteFromPrimitiveList', () => {
    const out = strategicMergePatch(service, svc, {
      metadata: { '$deleteFromPrimitiveList/finalizers': ['a'] },
      spec: { ports: [{ port: 443, $patch: 'delete' }] },
    }) as typeof svc;
    expect(out.metadata.finalizers).toBeUndefined();
    expect(out.spec.ports.map((p) => p.port)).toEqual([80]);
  });
  it('adds finalizers as a set and merges conditions by type', () => {
    const out = strategicMergePatch(service, svc, {
      metadata: { finalizers: ['a', 'b'] },
      status: { conditions: [{ type: 'A', status: 'False' }, { type: 'B', status: 'True' }] },
    }) as typeof svc;
    expect(out.metadata.finalizers).toEqual(['a', 'b']);
    expect(out.status.conditions).toEqual([{ type: 'A', status: 'False' }, { type: 'B', status: 'True' }]);
  });
  it('replaces lists without a merge key (selector map merges, atomic lists replace)', () => {
    const out = strategicMergePatch(service, { spec: { selector: { app: 'web' }, loadBalancerSourceRanges: ['1.0.0.0/8'] } }, {
      spec: { selector: { tier: 'x' }, loadBalancerSourceRanges: ['2.0.0.0/8'] },
    });
    expect(out).toEqual({ spec: { selector: { app: 'web', tier: 'x' }, loadBalancerSourceRanges: ['2.0.0.0/8'] } });
  });
  it('orders by $setElementOrder and refuses elements without the merge key', () => {
    const out = strategicMergePatch(service, svc, { spec: { '$setElementOrder/ports': [{ port: 443 }, { port: 80 }] } }) as typeof svc;
    expect(out.spec.ports.map((p) => p.port)).toEqual([443, 80]);
    expect(() => strategicMergePatch(service, svc, { spec: { ports: [{ name: 'x' }] } })).toThrow(/merge key/);
  });
});
