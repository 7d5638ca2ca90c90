// CustomResourceDefinitions in devcluster, through @kubernetes/client-node's
// ApiextensionsV1Api and CustomObjectsApi: registration at run time, CRD updates that
// change the served versions, cluster-scoped custom resources, the status subresource,
// CRD deletion held by a custom resource's finalizer, devcluster's refusal of conversion
// webhooks, and the validation hook's refusals as the real server words them.
import { ApiextensionsV1Api, ApiException, CustomObjectsApi, PatchStrategy, setHeaderOptions, type V1CustomResourceDefinition } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { customResourceStrategy } from '../../src/devcluster/crds.js';
import { compareKubeVersions } from '../../src/devcluster/discovery.js';
import { ApiError } from '../../src/devcluster/errors.js';
import { startDevCluster, type DevCluster } from '../../src/devcluster/index.js';
import { evalJsonPath, parseJsonPath } from '../../src/devcluster/jsonpath.js';
import type { KObject } from '../../src/devcluster/objects.js';
import { toTable } from '../../src/devcluster/table.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const GROUP = 'unit.lbc.dev';

let dev: DevCluster;
let ext: ApiextensionsV1Api;
let custom: CustomObjectsApi;

beforeAll(async () => {
  dev = await startDevCluster();
  ext = dev.kubeConfig().makeApiClient(ApiextensionsV1Api);
  custom = dev.kubeConfig().makeApiClient(CustomObjectsApi);
});
afterAll(async () => {
  await dev?.stop();
});

async function failure(p: Promise<unknown>): Promise<{ code: number; body: Json }> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ApiException) {
      // Paths nothing serves under a CRD's group answer plain text, as kube-apiserver's mux does.
      const text = typeof e.body === 'string' ? e.body : undefined;
      return { code: e.code, body: text?.startsWith('{') ? JSON.parse(text) : (text ?? e.body) };
    }
    throw e;
  }
  throw new Error('expected the call to fail');
}

function crd(plural: string, kind: string, scope: 'Namespaced' | 'Cluster', versions: Json[], extra: Json = {}): V1CustomResourceDefinition {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.${GROUP}` },
    spec: { group: GROUP, scope, names: { plural, kind }, versions, ...extra },
  } as V1CustomResourceDefinition;
}

// client-node's typed body: its serializer writes x_kubernetes_preserve_unknown_fields as the
// wire's x-kubernetes-preserve-unknown-fields (and drops the wire name given as a key).
const open = { openAPIV3Schema: { type: 'object', x_kubernetes_preserve_unknown_fields: true } };
const version = (name: string, storage: boolean, more: Json = {}) => ({ name, served: true, storage, schema: open, ...more });

async function eventually<T>(fn: () => T | Promise<T>, ms = 5000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

describe('CustomResourceDefinitions through ApiextensionsV1Api', () => {
  it('a new CRD is Established at once, with defaulted names and its storage version recorded', async () => {
    const created = await ext.createCustomResourceDefinition({ body: crd('things', 'Thing', 'Namespaced', [version('v1', true, { subresources: { status: {} } })]) });
    expect(created.spec.names).toMatchObject({ plural: 'things', kind: 'Thing', singular: 'thing', listKind: 'ThingList' });
    expect(created.spec.conversion).toEqual({ strategy: 'None' });
    expect(created.status?.storedVersions).toEqual(['v1']);
    expect(created.status?.conditions?.map((c) => [c.type, c.status, c.reason])).toEqual([
      ['NamesAccepted', 'True', 'NoConflicts'],
      ['Established', 'True', 'InitialNamesAccepted'],
    ]);
    const listed = await ext.listCustomResourceDefinition();
    expect(listed.items.map((c) => c.metadata?.name)).toContain(`things.${GROUP}`);
  });

  it('namespaced custom resources: create, get, list, merge patch, replace, status, generation, delete', async () => {
    const obj = await custom.createNamespacedCustomObject({ group: GROUP, version: 'v1', namespace: 'default', plural: 'things', body: { apiVersion: `${GROUP}/v1`, kind: 'Thing', metadata: { name: 't1', labels: { a: '1' } }, spec: { n: 1 }, status: { ignored: true } } });
    expect(obj).toMatchObject({ kind: 'Thing', metadata: { name: 't1', namespace: 'default', generation: 1 } });
    expect(obj.status).toBeUndefined();
    const got = await custom.getNamespacedCustomObject({ group: GROUP, version: 'v1', namespace: 'default', plural: 'things', name: 't1' });
    expect(got.metadata.uid).toBe(obj.metadata.uid);
    const list = await custom.listNamespacedCustomObject({ group: GROUP, version: 'v1', namespace: 'default', plural: 'things', labelSelector: 'a=1' });
    expect(list.items.map((i: Json) => i.metadata.name)).toEqual(['t1']);
    const patched = await custom.patchNamespacedCustomObject({ group: GROUP, version: 'v1', namespace: 'default', plural: 'things', name: 't1', body: { spec: { n: 2 } } }, merge);
    expect([patched.spec.n, patched.metadata.generation]).toEqual([2, 2]);
    const status = await custom.patchNamespacedCustomObjectStatus({ group: GROUP, version: 'v1', namespace: 'default', plural: 'things', name: 't1', body: { status: { ready: true } } }, merge);
    expect([status.status, status.metadata.generation]).toEqual([{ ready: true }, 2]);
    const replaced = await custom.replaceNamespacedCustomObject({ group: GROUP, version: 'v1', namespace: 'default', plural: 'things', name: 't1', body: { ...status, spec: { n: 3 }, status: { ready: false } } });
    // PUT of the main resource keeps the stored status.
    expect([replaced.spec.n, replaced.status, replaced.metadata.generation]).toEqual([3, { ready: true }, 3]);
    await custom.deleteNamespacedCustomObject({ group: GROUP, version: 'v1', namespace: 'default', plural: 'things', name: 't1' });
    expect((await failure(custom.getNamespacedCustomObject({ group: GROUP, version: 'v1', namespace: 'default', plural: 'things', name: 't1' }))).body).toMatchObject({ reason: 'NotFound', message: `things.${GROUP} "t1" not found` });
  });

  it('cluster-scoped custom resources live outside namespaces', async () => {
    await ext.createCustomResourceDefinition({ body: crd('realms', 'Realm', 'Cluster', [version('v1', true)]) });
    const r = await custom.createClusterCustomObject({ group: GROUP, version: 'v1', plural: 'realms', body: { apiVersion: `${GROUP}/v1`, kind: 'Realm', metadata: { name: 'r1', namespace: 'ignored' }, spec: {} } });
    expect(r.metadata.namespace).toBeUndefined();
    const list = await custom.listClusterCustomObject({ group: GROUP, version: 'v1', plural: 'realms' });
    expect(list.items.map((i: Json) => i.metadata.name)).toEqual(['r1']);
    // Without a status subresource, /status does not exist, status is written with the rest,
    // and a status change bumps the generation as a spec change does (as on kube-apiserver v1.26).
    expect((await failure(custom.getClusterCustomObjectStatus({ group: GROUP, version: 'v1', plural: 'realms', name: 'r1' }))).code).toBe(404);
    const withStatus = await custom.patchClusterCustomObject({ group: GROUP, version: 'v1', plural: 'realms', name: 'r1', body: { status: { s: 1 } } }, merge);
    expect([withStatus.status, withStatus.metadata.generation]).toEqual([{ s: 1 }, 2]);
    const labelled = await custom.patchClusterCustomObject({ group: GROUP, version: 'v1', plural: 'realms', name: 'r1', body: { metadata: { labels: { a: 'b' } } } }, merge);
    expect(labelled.metadata.generation).toBe(2);
  });

  it('a CRD update adds a served version over the same objects, and one turned unserved answers 404', async () => {
    await ext.createCustomResourceDefinition({ body: crd('knobs', 'Knob', 'Namespaced', [version('v1beta1', true)]) });
    await custom.createNamespacedCustomObject({ group: GROUP, version: 'v1beta1', namespace: 'default', plural: 'knobs', body: { apiVersion: `${GROUP}/v1beta1`, kind: 'Knob', metadata: { name: 'k1' }, spec: { x: 1 } } });
    const cur = await ext.readCustomResourceDefinition({ name: `knobs.${GROUP}` });
    cur.spec.versions = [version('v1', true), version('v1beta1', false, { served: false })];
    const updated = await ext.replaceCustomResourceDefinition({ name: `knobs.${GROUP}`, body: cur });
    expect(updated.status?.storedVersions).toEqual(['v1beta1', 'v1']);
    const asV1 = await eventually(() => custom.getNamespacedCustomObject({ group: GROUP, version: 'v1', namespace: 'default', plural: 'knobs', name: 'k1' }));
    expect(asV1).toMatchObject({ apiVersion: `${GROUP}/v1`, spec: { x: 1 } });
    expect((await failure(custom.getNamespacedCustomObject({ group: GROUP, version: 'v1beta1', namespace: 'default', plural: 'knobs', name: 'k1' }))).code).toBe(404);
    const group = dev.store.resources.filter((r) => r.group === GROUP && r.plural === 'knobs').map((r) => [r.version, r.served]);
    expect(group).toEqual([['v1', true], ['v1beta1', false]]);
  });

  it('deleting a CRD waits for its objects: one held by a finalizer keeps the CRD Terminating until released', async () => {
    await ext.createCustomResourceDefinition({ body: crd('locks', 'Lock', 'Namespaced', [version('v1', true)]) });
    const base = { group: GROUP, version: 'v1', namespace: 'default', plural: 'locks' };
    await custom.createNamespacedCustomObject({ ...base, body: { apiVersion: `${GROUP}/v1`, kind: 'Lock', metadata: { name: 'held', finalizers: ['lbc.dev/hold'] } } });
    await custom.createNamespacedCustomObject({ ...base, body: { apiVersion: `${GROUP}/v1`, kind: 'Lock', metadata: { name: 'free' } } });
    await ext.deleteCustomResourceDefinition({ name: `locks.${GROUP}` });
    const deleting = await ext.readCustomResourceDefinition({ name: `locks.${GROUP}` });
    expect(deleting.metadata?.finalizers).toEqual(['customresourcecleanup.apiextensions.k8s.io']);
    expect(deleting.status?.conditions?.find((c) => c.type === 'Terminating')).toMatchObject({ status: 'True', reason: 'InstanceDeletionPending' });
    await eventually(async () => expect((await failure(custom.getNamespacedCustomObject({ ...base, name: 'free' }))).code).toBe(404));
    const held = await custom.getNamespacedCustomObject({ ...base, name: 'held' });
    expect(held.metadata.deletionTimestamp).toBeTruthy();
    expect((await ext.readCustomResourceDefinition({ name: `locks.${GROUP}` })).metadata?.deletionTimestamp).toBeTruthy();
    await custom.patchNamespacedCustomObject({ ...base, name: 'held', body: { metadata: { finalizers: null } } }, merge);
    await eventually(async () => expect((await failure(ext.readCustomResourceDefinition({ name: `locks.${GROUP}` }))).code).toBe(404));
    expect(dev.store.find(GROUP, 'locks')).toBeUndefined();
  });

  it('a CRD asking for a conversion webhook is refused: devcluster calls no webhooks', async () => {
    const body = crd('hooks', 'Hook', 'Namespaced', [version('v1', true), version('v2', false)], {
      conversion: { strategy: 'Webhook', webhook: { conversionReviewVersions: ['v1'], clientConfig: { url: 'https://127.0.0.1:1/convert' } } },
    });
    const { code, body: st } = await failure(ext.createCustomResourceDefinition({ body }));
    expect(code).toBe(422);
    expect(st.details.causes).toEqual([
      { reason: 'FieldValueNotSupported', field: 'spec.conversion.strategy', message: 'Unsupported value: "Webhook": supported values: "None" (devcluster calls no conversion webhooks)' },
    ]);
  });

  it('a write that leaves the CRD spec alone keeps its resource types (requests in flight keep working)', async () => {
    const before = dev.store.find(GROUP, 'things', 'v1');
    await ext.patchCustomResourceDefinition({ name: `things.${GROUP}`, body: { metadata: { labels: { touched: 'yes' } } } }, merge);
    expect(dev.store.find(GROUP, 'things', 'v1')).toBe(before);
    await ext.patchCustomResourceDefinition({ name: `things.${GROUP}`, body: { spec: { names: { shortNames: ['thg'] } } } }, merge);
    const after = dev.store.find(GROUP, 'things', 'v1');
    expect(after).not.toBe(before);
    expect(after?.shortNames).toEqual(['thg']);
  });

  it('a deprecated version without its own warning gets the default one', async () => {
    await ext.createCustomResourceDefinition({ body: crd('olds', 'Old', 'Namespaced', [version('v1', true), version('v1beta1', false, { deprecated: true })]) });
    const rt = dev.store.find(GROUP, 'olds', 'v1beta1');
    expect(rt?.deprecationWarning).toBe(`${GROUP}/v1beta1 Old is deprecated`);
    expect(dev.store.find(GROUP, 'olds', 'v1')?.deprecationWarning).toBeUndefined();
  });

  it('a CRD update may not change its scope', async () => {
    const cur = await ext.readCustomResourceDefinition({ name: `things.${GROUP}` });
    cur.spec.scope = 'Cluster';
    const { code, body } = await failure(ext.replaceCustomResourceDefinition({ name: `things.${GROUP}`, body: cur }));
    expect(code).toBe(422);
    expect(body.details.causes.map((c: Json) => c.field)).toEqual(['spec.scope']);
  });
});

describe('the validation hook', () => {
  const widget = (spec: Json): KObject => ({ apiVersion: 'probe.lbc.dev/v1', kind: 'Widget', metadata: { name: 'w1', namespace: 'default' }, spec }) as KObject;

  it('causes become a 422 Invalid Status worded as kube-apiserver words a schema refusal', () => {
    const strategy = customResourceStrategy('Widget', 'probe.lbc.dev', {
      apply: (obj) => ({ obj, causes: [{ reason: 'FieldValueInvalid', message: 'Invalid value: -1: spec.size in body should be greater than or equal to 0', field: 'spec.size' }] }),
    });
    let err: unknown;
    try {
      strategy.prepareCreate!(widget({ size: -1 }), dev.store.ctx);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ApiError);
    // Taken from kube-apiserver v1.26 refusing the same object.
    expect((err as ApiError).toStatus()).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'Widget.probe.lbc.dev "w1" is invalid: spec.size: Invalid value: -1: spec.size in body should be greater than or equal to 0',
      reason: 'Invalid',
      details: { name: 'w1', group: 'probe.lbc.dev', kind: 'Widget', causes: [{ reason: 'FieldValueInvalid', message: 'Invalid value: -1: spec.size in body should be greater than or equal to 0', field: 'spec.size' }] },
      code: 422,
    });
  });

  it('the object the hook returns (pruned, defaulted) is what gets stored; the old object is passed on updates', () => {
    const seen: Json[] = [];
    const strategy = customResourceStrategy('Widget', 'probe.lbc.dev', {
      apply: (obj, old) => {
        seen.push(old);
        const { spec, ...rest } = obj as Json;
        return { obj: { ...rest, spec: { size: spec.size ?? 1 } }, causes: [] };
      },
    });
    const o = widget({ unknown: 'x' });
    strategy.prepareCreate!(o, dev.store.ctx);
    expect(o.spec).toEqual({ size: 1 });
    expect(o.metadata.name).toBe('w1');
    const next = widget({ size: 2 });
    strategy.prepareUpdate!(next, o, dev.store.ctx);
    expect(seen).toEqual([undefined, o]);
  });
});

describe('printer columns and version order', () => {
  it('evaluates the JSONPaths the upstream CRDs print: fields, filters, [*], absent values', () => {
    const o = { status: { conditions: [{ type: 'Accepted', status: 'False' }, { type: 'Programmed', status: 'True' }], addresses: [{ value: 'a' }, { value: 'b' }] }, spec: { hostnames: ['x', 'y'] } };
    expect(evalJsonPath(parseJsonPath('.status.conditions[?(@.type=="Programmed")].status')!, o)).toEqual(['True']);
    expect(evalJsonPath(parseJsonPath('.status.addresses[*].value')!, o)).toEqual(['a', 'b']);
    expect(evalJsonPath(parseJsonPath('.spec.hostnames')!, o)).toEqual([['x', 'y']]);
    expect(evalJsonPath(parseJsonPath('.spec.missing.deeper')!, o)).toEqual([]);
    expect(parseJsonPath('.items[?(@.a > 1)]')).toBeUndefined();
  });

  it('a CR table has Name, then the columns typed as declared (first match; absent = null)', () => {
    const rt = dev.store.find(GROUP, 'things', 'v1')!;
    const typed = { ...rt, printerColumns: [
      { name: 'N', type: 'integer' as const, jsonPath: '.spec.n' },
      { name: 'Hosts', type: 'string' as const, jsonPath: '.spec.hosts' },
      { name: 'First', type: 'string' as const, jsonPath: '.spec.hosts[*]' },
      { name: 'On', type: 'boolean' as const, jsonPath: '.spec.on', priority: 1 },
      { name: 'Gone', type: 'string' as const, jsonPath: '.spec.gone' },
    ] };
    const obj = { apiVersion: `${GROUP}/v1`, kind: 'Thing', metadata: { name: 'x', creationTimestamp: '2026-01-01T00:00:00Z' }, spec: { n: 4, hosts: ['a', 'b'], on: false } } as KObject;
    const t = toTable(typed, [obj], {}, 'None') as Json;
    expect(t.columnDefinitions.map((c: Json) => [c.name, c.type, c.priority])).toEqual([['Name', 'string', 0], ['N', 'integer', 0], ['Hosts', 'string', 0], ['First', 'string', 0], ['On', 'boolean', 1], ['Gone', 'string', 0]]);
    expect(t.columnDefinitions[1].description).toBe('Custom resource definition column (in JSONPath format): .spec.n');
    expect(t.rows[0].cells).toEqual(['x', 4, '["a","b"]', 'a', false, null]);
    // No printer columns: Name and Age, as kube-apiserver defaults a CRD version's columns.
    const plain = toTable({ ...rt, printerColumns: [] }, [obj], {}, 'None', new Date('2026-01-01T00:00:42Z')) as Json;
    expect(plain.columnDefinitions.map((c: Json) => [c.name, c.type])).toEqual([['Name', 'string'], ['Age', 'date']]);
    expect(plain.rows[0].cells).toEqual(['x', '42s']);
  });

  it('orders versions as kube-aware version strings: GA, beta, alpha, then the rest', () => {
    expect(['v1alpha2', 'v1beta1', 'foo', 'v2', 'v1', 'v2beta3', 'v1alpha10'].sort(compareKubeVersions)).toEqual(['v2', 'v1', 'v2beta3', 'v1beta1', 'v1alpha10', 'v1alpha2', 'foo']);
  });
});
