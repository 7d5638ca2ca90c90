// sameModelInputs walks the two Services' spec, annotations and labels instead of
// writing each out as JSON (#21); its answer must stay the one the JSON comparison gave.
import type { V1Service } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { sameModelInputs } from '../../src/controller/service-reconciler.js';

const svc = (spec: unknown, annotations?: unknown, labels?: unknown, uid = 'u1'): V1Service =>
  ({ metadata: { name: 'web', namespace: 'default', uid, ...(annotations !== undefined ? { annotations } : {}), ...(labels !== undefined ? { labels } : {}) }, spec }) as V1Service;

const byJson = (a: V1Service, b: V1Service): boolean =>
  a.metadata?.uid === b.metadata?.uid &&
  JSON.stringify(a.spec) === JSON.stringify(b.spec) &&
  JSON.stringify(a.metadata?.annotations) === JSON.stringify(b.metadata?.annotations) &&
  JSON.stringify(a.metadata?.labels) === JSON.stringify(b.metadata?.labels);

const base = { type: 'LoadBalancer', ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080, nodePort: 30080 }], selector: { app: 'web' } };

describe('sameModelInputs', () => {
  const cases: [string, V1Service, V1Service, boolean][] = [
    ['equal copies', svc(base, { a: '1' }, { l: 'x' }), svc(structuredClone(base), { a: '1' }, { l: 'x' }), true],
    ['another uid', svc(base), svc(base, undefined, undefined, 'u2'), false],
    ['a port changed', svc(base), svc({ ...base, ports: [{ ...base.ports[0], port: 81 }] }), false],
    ['a port more', svc(base), svc({ ...base, ports: [...base.ports, { port: 82 }] }), false],
    ['an annotation changed', svc(base, { a: '1' }), svc(base, { a: '2' }), false],
    ['an annotation added', svc(base, { a: '1' }), svc(base, { a: '1', b: '2' }), false],
    ['no annotations and none', svc(base, {}), svc(base), false],
    ['a label changed', svc(base, undefined, { l: 'x' }), svc(base, undefined, { l: 'y' }), false],
    // What JSON writes decides, as before: key order counts, an undefined member does not.
    ['the same keys in another order', svc({ ports: base.ports, type: 'LoadBalancer', selector: base.selector }), svc(base), false],
    ['an undefined member', svc({ ...base, loadBalancerIP: undefined }), svc(base), true],
    ['a Date and its ISO string', svc(base, { at: new Date(0) }), svc(base, { at: new Date(0).toISOString() }), true],
    ['a number and a string', svc({ ...base, ports: [{ ...base.ports[0], targetPort: '8080' }] }), svc(base), false],
    ['null and an empty object', svc({ ...base, selector: null }), svc({ ...base, selector: {} }), false],
    ['an array and an object', svc({ ...base, ports: { 0: base.ports[0] } }), svc(base), false],
  ];
  for (const [name, a, b, want] of cases) {
    it(`${name}: ${want ? 'same' : 'not the same'}, as their JSON says`, () => {
      expect(byJson(a, b)).toBe(want);
      expect(sameModelInputs(a, b)).toBe(want);
      expect(sameModelInputs(b, a)).toBe(want);
    });
  }
});
