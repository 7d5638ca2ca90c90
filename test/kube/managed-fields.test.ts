// managedFields left out of an answer or a watch event's text before it is parsed: the
// same objects as parsing all of it and dropping them after (withoutManagedFields), and
// the text left whole wherever the walk is not sure what it is looking at.
import { describe, expect, it } from 'vitest';
import { withoutManagedFields, type KubeObject } from '../../src/kube/cache.js';
import { cutManagedFields, parseWithoutManagedFields } from '../../src/kube/managed-fields.js';

const entries = [
  {
    manager: 'kubectl-create',
    operation: 'Update',
    apiVersion: 'v1',
    time: '2026-12-07T17:00:00Z',
    fieldsType: 'FieldsV1',
    fieldsV1: { 'f:spec': { 'f:ports': { '.': {}, 'k:{"port":80,"protocol":"TCP"}': { '.': {}, 'f:port': {} } }, 'f:type': {} } },
  },
  {
    manager: 'lbc "quoted" ] [ } { \\',
    operation: 'Update',
    apiVersion: 'v1',
    time: '2026-12-07T17:00:01Z',
    fieldsType: 'FieldsV1',
    fieldsV1: { 'f:metadata': { 'f:finalizers': { '.': {}, 'v:"service.k8s.lbc.io/resources"': {} } } },
    subresource: 'status',
  },
];

const service = (metadata: Record<string, unknown>): Record<string, unknown> => ({
  kind: 'Service',
  apiVersion: 'v1',
  metadata,
  spec: { type: 'LoadBalancer', ports: [{ port: 80, protocol: 'TCP', nodePort: 30080 }] },
  status: { loadBalancer: { ingress: [{ ip: '192.0.2.1' }] } },
});

/** What the cut must give: all of it parsed, managedFields dropped after. */
const expected = (text: string, watchEvent: boolean): unknown => {
  const parsed = JSON.parse(text) as { object?: KubeObject } & KubeObject;
  if (watchEvent) withoutManagedFields(parsed.object as KubeObject);
  else withoutManagedFields(parsed);
  return parsed;
};

const metadatas: Record<string, Record<string, unknown>> = {
  'managedFields last, as kube-apiserver writes them': {
    name: 'web',
    namespace: 'shop',
    uid: 'u-1',
    resourceVersion: '7',
    labels: { app: 'web' },
    annotations: { note: 'a "quote", a \\ and ] } { [ in a value', 'kubectl.kubernetes.io/last-applied-configuration': '{"metadata":{"managedFields":[]}}' },
    finalizers: ['service.k8s.lbc.io/resources'],
    ownerReferences: [{ apiVersion: 'v1', kind: 'X', name: 'x', uid: 'u', controller: true }],
    managedFields: entries,
  },
  'managedFields first': { managedFields: entries, name: 'web', namespace: 'shop' },
  'managedFields between': { name: 'web', managedFields: entries, generation: 3, deletionTimestamp: null },
  'managedFields alone': { managedFields: entries },
  'no managedFields': { name: 'web', namespace: 'shop', labels: { managedFields: 'x' } },
  'an empty managedFields': { name: 'web', managedFields: [] },
};

describe('parseWithoutManagedFields', () => {
  for (const [what, metadata] of Object.entries(metadatas)) {
    it(`gives what parsing all of it and dropping them gives: ${what}`, () => {
      const answer = JSON.stringify(service(metadata));
      expect(parseWithoutManagedFields(answer)).toEqual(expected(answer, false));
      const event = JSON.stringify({ type: 'MODIFIED', object: service(metadata) });
      expect(parseWithoutManagedFields(event, true)).toEqual(expected(event, true));
      expect(parseWithoutManagedFields(`${event}\r`, true)).toEqual(expected(event, true));
      // Cut before parsing wherever there were any, not dropped after.
      const cut = 'managedFields' in metadata;
      expect(cutManagedFields(answer, false) !== answer).toBe(cut);
      expect(cutManagedFields(event, true) !== event).toBe(cut);
    });
  }

  it('cuts the text, not only the object: managedFields are never parsed', () => {
    const answer = JSON.stringify(service(metadatas['managedFields last, as kube-apiserver writes them'] as Record<string, unknown>));
    const cut = cutManagedFields(answer, false);
    expect(cut.length).toBeLessThan(answer.length);
    expect(cut).not.toContain('kubectl-create');
    expect(cut).toContain('last-applied-configuration');
    expect(cutManagedFields(JSON.stringify({ type: 'ADDED', object: JSON.parse(answer) as unknown }), true)).toBe(JSON.stringify({ type: 'ADDED', object: JSON.parse(cut) as unknown }));
  });

  it('leaves alone a managedFields that is not the object’s metadata.managedFields', () => {
    const texts = [
      // A custom resource's spec and status may have a member of that name.
      JSON.stringify({ kind: 'Thing', metadata: { name: 'a' }, spec: { managedFields: [{ a: 1 }] } }),
      JSON.stringify({ kind: 'Thing', spec: { metadata: { managedFields: [{ a: 1 }] } }, metadata: { name: 'a' } }),
      JSON.stringify({ kind: 'Thing', metadata: { name: 'a', annotations: { x: '"managedFields":[1]' } } }),
    ];
    for (const text of texts) {
      expect(cutManagedFields(text, false)).toBe(text);
      expect(cutManagedFields(text, true)).toBe(text);
      expect(parseWithoutManagedFields(text)).toEqual(JSON.parse(text));
    }
    // A watch event's own member, outside its object.
    const event = JSON.stringify({ type: 'ADDED', metadata: { managedFields: [{ a: 1 }] }, object: { metadata: { name: 'a' } } });
    expect(cutManagedFields(event, true)).toBe(event);
    expect(parseWithoutManagedFields(event, true)).toEqual(JSON.parse(event));
  });

  it('parses all of it where the walk is unsure (spaces, metadata after a nested member, an array in an entry), for the caller to drop them', () => {
    const texts = [
      JSON.stringify(service(metadatas['managedFields last, as kube-apiserver writes them'] as Record<string, unknown>), null, 2),
      JSON.stringify({ spec: { a: { b: 1 } }, metadata: { name: 'a', managedFields: entries } }),
      JSON.stringify({ metadata: { name: 'a', managedFields: [{ manager: 'm', fieldsV1: { 'f:x': [1] } }] } }),
      JSON.stringify({ metadata: { name: 'a', spec: { nested: {} }, managedFields: entries } }),
    ];
    for (const text of texts) {
      expect(cutManagedFields(text, false)).toBe(text);
      const parsed = parseWithoutManagedFields(text) as KubeObject;
      expect(parsed).toEqual(JSON.parse(text));
      expect(withoutManagedFields(parsed)).toEqual(expected(text, false));
    }
  });

  it('throws as JSON.parse does on text that is not JSON', () => {
    for (const text of ['', '{', '{"metadata":{"managedFields":[{"a":1}],', '{"metadata":{"managedFields":[]}} x', 'nope']) {
      expect(() => parseWithoutManagedFields(text)).toThrow(SyntaxError);
      expect(() => parseWithoutManagedFields(text, true)).toThrow(SyntaxError);
    }
  });
});
