import { describe, expect, it } from 'vitest';
import { Store, type StoreEvent } from '../../src/devcluster/store.js';
import { builtinResources } from '../../src/devcluster/resources.js';
import { namespaceStrategy } from '../../src/devcluster/namespaces.js';
import { ApiError } from '../../src/devcluster/errors.js';

function setup(watchWindow = 100) {
  const resources = builtinResources();
  const ns = resources.find((r) => r.kind === 'Namespace')!;
  ns.strategy = namespaceStrategy();
  const store = new Store(resources, { watchWindow });
  store.create(ns, { metadata: { name: 'default' } });
  const cm = resources.find((r) => r.kind === 'ConfigMap')!;
  const ing = resources.find((r) => r.kind === 'Ingress')!;
  return { store, cm, ing, ns };
}

function code(fn: () => unknown): number {
  try {
    fn();
  } catch (e) {
    if (e instanceof ApiError) return e.code;
    throw e;
  }
  return 0;
}

describe('store', () => {
  it('sets server fields on create and refuses duplicates and missing namespaces', () => {
    const { store, cm } = setup();
    const o = store.create(cm, { metadata: { name: 'a', namespace: 'default' }, data: { x: '1' } });
    expect(o.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(o.metadata.resourceVersion).toMatch(/^\d+$/);
    expect(o.metadata.creationTimestamp).toMatch(/Z$/);
    expect(o.kind).toBe('ConfigMap');
    expect(code(() => store.create(cm, { metadata: { name: 'a', namespace: 'default' } }))).toBe(409);
    expect(code(() => store.create(cm, { metadata: { name: 'a', namespace: 'nope' } }))).toBe(404);
    expect(code(() => store.create(cm, { metadata: { name: 'Bad_Name', namespace: 'default' } }))).toBe(422);
    const g = store.create(cm, { metadata: { generateName: 'gen-', namespace: 'default' } });
    expect(g.metadata.name).toMatch(/^gen-[a-z0-9]{5}$/);
  });

  it('updates with optimistic concurrency, skips no-op writes, bumps generation on spec change only', () => {
    const { store, ing } = setup();
    const o = store.create(ing, { metadata: { name: 'i', namespace: 'default' }, spec: { ingressClassName: 'a' } });
    expect(o.metadata.generation).toBe(1);
    const same = store.update(ing, o);
    expect(same.metadata.resourceVersion).toBe(o.metadata.resourceVersion);
    const labelled = store.update(ing, { ...o, metadata: { ...o.metadata, labels: { a: 'b' } } });
    expect(labelled.metadata.generation).toBe(1);
    expect(Number(labelled.metadata.resourceVersion)).toBeGreaterThan(Number(o.metadata.resourceVersion));
    expect(code(() => store.update(ing, { ...o, spec: { ingressClassName: 'b' } }))).toBe(409);
    const changed = store.update(ing, { ...labelled, spec: { ingressClassName: 'b' } });
    expect(changed.metadata.generation).toBe(2);
  });

  it('keeps status out of main writes and spec out of status writes', () => {
    const { store, ing } = setup();
    const o = store.create(ing, { metadata: { name: 'i', namespace: 'default' }, spec: { ingressClassName: 'a' }, status: { loadBalancer: { ingress: [{ ip: '1.1.1.1' }] } } });
    expect(o.status).toEqual({ loadBalancer: {} });
    const s = store.update(ing, { ...o, spec: { ingressClassName: 'zzz' }, status: { loadBalancer: { ingress: [{ ip: '2.2.2.2' }] } } }, { subresource: 'status' });
    expect(s.spec).toEqual({ ingressClassName: 'a' });
    expect(s.status).toEqual({ loadBalancer: { ingress: [{ ip: '2.2.2.2' }] } });
    const m = store.update(ing, { ...s, status: { loadBalancer: {} } });
    expect(m.status).toEqual({ loadBalancer: { ingress: [{ ip: '2.2.2.2' }] } });
  });

  it('holds deleted objects with finalizers until the last one goes', () => {
    const { store, cm } = setup();
    const events: StoreEvent[] = [];
    store.watch(cm, undefined, (e) => events.push(e));
    const o = store.create(cm, { metadata: { name: 'f', namespace: 'default', finalizers: ['lbc.dev/x'] } });
    const marked = store.delete(cm, 'default', 'f');
    expect(marked.deleted).toBe(false);
    expect(marked.object.metadata.deletionTimestamp).toBeTruthy();
    expect(code(() => store.update(cm, { ...marked.object, metadata: { ...marked.object.metadata, finalizers: ['lbc.dev/x', 'new'] } }))).toBe(422);
    store.update(cm, { ...marked.object, metadata: { ...marked.object.metadata, finalizers: [] } });
    expect(store.get(cm, 'default', 'f')).toBeUndefined();
    expect(events.map((e) => e.type)).toEqual(['ADDED', 'MODIFIED', 'DELETED']);
    expect(events[2]!.object.metadata.uid).toBe(o.metadata.uid);
  });

  it('wants a built-in kind\'s finalizer fully qualified (prefix/name), not a custom resource\'s (gateway-exists-finalizer.gateway.networking.k8s.io), as kube-apiserver', () => {
    const resources = builtinResources();
    const cm = resources.find((r) => r.kind === 'ConfigMap')!;
    const cr = { ...cm, group: 'unit.lbc.dev', kind: 'Lock', plural: 'locks', customResource: true };
    const store = new Store([...resources, cr], { watchWindow: 100 });
    store.create(resources.find((r) => r.kind === 'Namespace')!, { metadata: { name: 'default' } });
    const unqualified = 'gateway-exists-finalizer.gateway.networking.k8s.io';
    expect(code(() => store.create(cm, { metadata: { name: 'q', namespace: 'default', finalizers: [unqualified] } }))).toBe(422);
    expect(store.create(cr, { metadata: { name: 'q', namespace: 'default', finalizers: [unqualified] } }).metadata.finalizers).toEqual([unqualified]);
    // The qualified-name rule still holds for both.
    expect(code(() => store.create(cr, { metadata: { name: 'r', namespace: 'default', finalizers: ['not a name'] } }))).toBe(422);
  });

  it('resumes watches from a resourceVersion and answers 410 once the window has moved past it', () => {
    const { store, cm } = setup(3);
    const first = store.create(cm, { metadata: { name: 'w0', namespace: 'default' } });
    const rv0 = Number(first.metadata.resourceVersion);
    store.create(cm, { metadata: { name: 'w1', namespace: 'default' } });
    const seen: string[] = [];
    const stop = store.watch(cm, rv0, (e) => seen.push(e.object.metadata.name!));
    expect(seen).toEqual(['w1']);
    stop();
    for (let i = 2; i < 6; i++) store.create(cm, { metadata: { name: `w${i}`, namespace: 'default' } });
    expect(code(() => store.watch(cm, rv0, () => {}))).toBe(410);
  });
});
