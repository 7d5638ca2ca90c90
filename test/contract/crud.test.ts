// Contract: create/get/list/delete and the metadata the server sets.
import { describe, expect, it } from 'vitest';
import {
  corePath,
  expectOk,
  expectStatus,
  groupPath,
  mergePatch,
  serviceBody,
  uniqueName,
  useContractCluster,
  type Json,
} from './support.js';

const ctx = useContractCluster('crud');

const UID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;

function ingressBody(name: string, host = 'a.example.com'): Json {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name },
    spec: {
      rules: [
        {
          host,
          http: {
            paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } }],
          },
        },
      ],
    },
  };
}

describe('create', () => {
  it('sets uid, creationTimestamp and resourceVersion, echoes kind/apiVersion, and returns 201', async () => {
    const res = await ctx.raw('POST', corePath(ctx.ns, 'services'), { body: serviceBody('meta') });
    const svc = expectOk(res, 201);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(svc.kind).toBe('Service');
    expect(svc.apiVersion).toBe('v1');
    expect(svc.metadata.name).toBe('meta');
    expect(svc.metadata.namespace).toBe(ctx.ns);
    expect(svc.metadata.uid).toMatch(UID);
    expect(svc.metadata.creationTimestamp).toMatch(RFC3339);
    expect(Math.abs(Date.parse(svc.metadata.creationTimestamp) - Date.now())).toBeLessThan(120_000);
    expect(svc.metadata.resourceVersion).toMatch(/^\d+$/);
    // Services carry no metadata.generation on a real server (only kinds whose strategy sets it do).
    expect(svc.metadata.generation).toBeUndefined();
    // The status in a create body is ignored.
    expect(svc.status).toEqual({ loadBalancer: {} });

    const got = expectOk(await ctx.raw('GET', corePath(ctx.ns, 'services', 'meta')), 200);
    expect(got.metadata.uid).toBe(svc.metadata.uid);
    expect(got.metadata.resourceVersion).toBe(svc.metadata.resourceVersion);
  });

  it('ignores status sent with a create', async () => {
    const body = serviceBody('with-status', { type: 'LoadBalancer' });
    body.status = { loadBalancer: { ingress: [{ ip: '192.0.2.1' }] } };
    const svc = expectOk(await ctx.raw('POST', corePath(ctx.ns, 'services'), { body }), 201);
    expect(svc.status).toEqual({ loadBalancer: {} });
  });

  it('gives a fresh uid to an object re-created under the same name', async () => {
    const a = expectOk(await ctx.raw('POST', corePath(ctx.ns, 'configmaps'), { body: { metadata: { name: 'again' } } }));
    expectOk(await ctx.raw('DELETE', corePath(ctx.ns, 'configmaps', 'again')));
    const b = expectOk(await ctx.raw('POST', corePath(ctx.ns, 'configmaps'), { body: { metadata: { name: 'again' } } }));
    expect(b.metadata.uid).not.toBe(a.metadata.uid);
  });

  it('generateName appends a random 5-character suffix', async () => {
    const names = new Set<string>();
    for (let i = 0; i < 3; i++) {
      const cm = expectOk(
        await ctx.raw('POST', corePath(ctx.ns, 'configmaps'), { body: { metadata: { generateName: 'gen-' } } }),
        201,
      );
      expect(cm.metadata.name).toMatch(/^gen-[a-z0-9]{5}$/);
      expect(cm.metadata.generateName).toBe('gen-');
      names.add(cm.metadata.name);
    }
    expect(names.size).toBe(3);
  });

  it('a body without apiVersion/kind is accepted (the URL decides)', async () => {
    const cm = expectOk(
      await ctx.raw('POST', corePath(ctx.ns, 'configmaps'), { body: { metadata: { name: 'nokind' }, data: { a: 'b' } } }),
      201,
    );
    expect(cm.kind).toBe('ConfigMap');
    expect(cm.apiVersion).toBe('v1');
    expect(cm.data).toEqual({ a: 'b' });
  });

  it('AlreadyExists is a 409 Status naming the object and the resource', async () => {
    expectOk(await ctx.raw('POST', corePath(ctx.ns, 'services'), { body: serviceBody('dup') }), 201);
    const st = expectStatus(await ctx.raw('POST', corePath(ctx.ns, 'services'), { body: serviceBody('dup') }), 409, 'AlreadyExists');
    expect(st.metadata).toEqual({});
    expect(st.message).toBe('services "dup" already exists');
    expect(st.details).toEqual({ name: 'dup', kind: 'services' });
  });

  it('AlreadyExists in a named API group also names the group', async () => {
    const path = groupPath('networking.k8s.io/v1', ctx.ns, 'ingresses');
    expectOk(await ctx.raw('POST', path, { body: ingressBody('dup-ing') }), 201);
    const st = expectStatus(await ctx.raw('POST', path, { body: ingressBody('dup-ing') }), 409, 'AlreadyExists');
    expect(st.message).toBe('ingresses.networking.k8s.io "dup-ing" already exists');
    expect(st.details).toEqual({ name: 'dup-ing', group: 'networking.k8s.io', kind: 'ingresses' });
  });
});

describe('get and delete', () => {
  it('NotFound is a 404 Status naming the object and the resource', async () => {
    const st = expectStatus(await ctx.raw('GET', corePath(ctx.ns, 'services', 'nope')), 404, 'NotFound');
    expect(st.message).toBe('services "nope" not found');
    expect(st.details).toEqual({ name: 'nope', kind: 'services' });

    const ing = expectStatus(
      await ctx.raw('GET', groupPath('networking.k8s.io/v1', ctx.ns, 'ingresses', 'nope')),
      404,
      'NotFound',
    );
    expect(ing.message).toBe('ingresses.networking.k8s.io "nope" not found');
    expect(ing.details).toEqual({ name: 'nope', group: 'networking.k8s.io', kind: 'ingresses' });
  });

  it('DELETE of a missing object is a 404 Status', async () => {
    const st = expectStatus(await ctx.raw('DELETE', corePath(ctx.ns, 'configmaps', 'nope')), 404, 'NotFound');
    expect(st.details).toEqual({ name: 'nope', kind: 'configmaps' });
  });

  it('DELETE of a ConfigMap returns a Success Status with the uid; a Service returns the object', async () => {
    const cm = expectOk(await ctx.raw('POST', corePath(ctx.ns, 'configmaps'), { body: { metadata: { name: 'del-cm' } } }));
    const res = await ctx.raw('DELETE', corePath(ctx.ns, 'configmaps', 'del-cm'));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      kind: 'Status',
      apiVersion: 'v1',
      status: 'Success',
      details: { name: 'del-cm', kind: 'configmaps', uid: cm.metadata.uid },
    });
    expectStatus(await ctx.raw('GET', corePath(ctx.ns, 'configmaps', 'del-cm')), 404, 'NotFound');

    const svc = expectOk(await ctx.raw('POST', corePath(ctx.ns, 'services'), { body: serviceBody('del-svc') }));
    const del = await ctx.raw('DELETE', corePath(ctx.ns, 'services', 'del-svc'));
    expect(del.status).toBe(200);
    expect(del.body.kind).toBe('Service');
    expect(del.body.metadata.uid).toBe(svc.metadata.uid);
    expectStatus(await ctx.raw('GET', corePath(ctx.ns, 'services', 'del-svc')), 404, 'NotFound');
  });
});

describe('generation', () => {
  it('starts at 1 and bumps on spec changes only (Ingress)', async () => {
    const path = groupPath('networking.k8s.io/v1', ctx.ns, 'ingresses');
    const ing = expectOk(await ctx.raw('POST', path, { body: ingressBody('gen') }), 201);
    expect(ing.metadata.generation).toBe(1);

    const labelled = await ctx.net.patchNamespacedIngress(
      { name: 'gen', namespace: ctx.ns, body: { metadata: { labels: { a: 'b' }, annotations: { c: 'd' } } } },
      mergePatch,
    );
    expect(labelled.metadata?.generation).toBe(1);
    expect(labelled.metadata?.resourceVersion).not.toBe(ing.metadata.resourceVersion);

    const withStatus = await ctx.net.patchNamespacedIngressStatus(
      { name: 'gen', namespace: ctx.ns, body: { status: { loadBalancer: { ingress: [{ ip: '192.0.2.7' }] } } } },
      mergePatch,
    );
    expect(withStatus.metadata?.generation).toBe(1);

    const specChanged = await ctx.net.patchNamespacedIngress(
      { name: 'gen', namespace: ctx.ns, body: { spec: { rules: ingressBody('x', 'b.example.com').spec.rules } } },
      mergePatch,
    );
    expect(specChanged.metadata?.generation).toBe(2);

    // PUT with an unchanged spec does not bump it either.
    const cur = expectOk(await ctx.raw('GET', `${path}/gen`));
    cur.metadata.labels = { a: 'c' };
    const put = expectOk(await ctx.raw('PUT', `${path}/gen`, { body: cur }), 200);
    expect(put.metadata.generation).toBe(2);
  });

  it('a write that changes nothing keeps the resourceVersion', async () => {
    const cm = expectOk(
      await ctx.raw('POST', corePath(ctx.ns, 'configmaps'), { body: { metadata: { name: 'noop' }, data: { a: '1' } } }),
    );
    const same = await ctx.core.patchNamespacedConfigMap(
      { name: 'noop', namespace: ctx.ns, body: { data: { a: '1' } } },
      mergePatch,
    );
    expect(same.metadata?.resourceVersion).toBe(cm.metadata.resourceVersion);
    const changed = await ctx.core.patchNamespacedConfigMap(
      { name: 'noop', namespace: ctx.ns, body: { data: { a: '2' } } },
      mergePatch,
    );
    expect(changed.metadata?.resourceVersion).not.toBe(cm.metadata.resourceVersion);
  });

  it('creationTimestamp and uid cannot be changed by an update', async () => {
    const cm = expectOk(await ctx.raw('POST', corePath(ctx.ns, 'configmaps'), { body: { metadata: { name: 'immut' } } }));
    const body = structuredClone(cm);
    body.metadata.creationTimestamp = '2001-01-01T00:00:00Z';
    body.data = { x: 'y' };
    const put = expectOk(await ctx.raw('PUT', corePath(ctx.ns, 'configmaps', 'immut'), { body }), 200);
    expect(put.metadata.creationTimestamp).toBe(cm.metadata.creationTimestamp);
    expect(put.data).toEqual({ x: 'y' });

    const wrongUid = structuredClone(put);
    wrongUid.metadata.uid = '00000000-0000-0000-0000-000000000000';
    const st = expectStatus(await ctx.raw('PUT', corePath(ctx.ns, 'configmaps', 'immut'), { body: wrongUid }), 409, 'Conflict');
    expect(st.details).toMatchObject({ name: 'immut', kind: 'configmaps' });
  });
});

describe('list', () => {
  it('lists a namespace with a List kind, a resourceVersion and items without kind/apiVersion', async () => {
    const ns = uniqueName('lbc-ct-crud-list');
    await ctx.core.createNamespace({ body: { metadata: { name: ns } } });
    ctx.defer(() => ctx.core.deleteNamespace({ name: ns }));
    for (const n of ['b', 'a', 'c']) {
      expectOk(await ctx.raw('POST', corePath(ns, 'services'), { body: serviceBody(n) }), 201);
    }
    const list = expectOk(await ctx.raw('GET', corePath(ns, 'services')), 200);
    expect(list.kind).toBe('ServiceList');
    expect(list.apiVersion).toBe('v1');
    expect(list.metadata.resourceVersion).toMatch(/^\d+$/);
    expect(list.metadata.continue).toBeUndefined();
    // Items come back sorted by name (the server's storage order).
    expect(list.items.map((s: Json) => s.metadata.name)).toEqual(['a', 'b', 'c']);
    for (const item of list.items) {
      expect(item.kind).toBeUndefined();
      expect(item.apiVersion).toBeUndefined();
      expect(item.metadata.namespace).toBe(ns);
    }
  });

  it('an empty list has items: []', async () => {
    const list = expectOk(await ctx.raw('GET', groupPath('coordination.k8s.io/v1', ctx.ns, 'leases')), 200);
    expect(list.kind).toBe('LeaseList');
    expect(list.apiVersion).toBe('coordination.k8s.io/v1');
    expect(list.items).toEqual([]);
  });

  it('lists across all namespaces at /api/v1/services, sorted by namespace then name', async () => {
    const other = uniqueName('lbc-ct-crud-other');
    await ctx.core.createNamespace({ body: { metadata: { name: other } } });
    ctx.defer(() => ctx.core.deleteNamespace({ name: other }));
    const label = uniqueName('all');
    for (const ns of [ctx.ns, other]) {
      for (const n of ['y', 'x']) {
        expectOk(
          await ctx.raw('POST', corePath(ns, 'services'), { body: serviceBody(`all-${n}`, {}, { labels: { all: label } }) }),
          201,
        );
      }
    }
    const list = expectOk(await ctx.raw('GET', '/api/v1/services', { query: { labelSelector: `all=${label}` } }), 200);
    expect(list.kind).toBe('ServiceList');
    const got = list.items.map((s: Json) => `${s.metadata.namespace}/${s.metadata.name}`);
    const want = [ctx.ns, other].sort().flatMap((ns) => [`${ns}/all-x`, `${ns}/all-y`]);
    expect(got).toEqual(want);

    // The client library's all-namespaces call sees the same objects.
    const viaClient = await ctx.core.listServiceForAllNamespaces({ labelSelector: `all=${label}` });
    expect(viaClient.items.map((s) => `${s.metadata?.namespace}/${s.metadata?.name}`)).toEqual(want);
  });

  it('cluster-scoped objects have no namespace', async () => {
    const name = uniqueName('lbc-ct-crud-node');
    ctx.defer(() => ctx.core.deleteNode({ name }));
    const node = expectOk(await ctx.raw('POST', '/api/v1/nodes', { body: { metadata: { name, labels: { t: name } } } }), 201);
    expect(node.metadata.namespace).toBeUndefined();
    const list = expectOk(await ctx.raw('GET', '/api/v1/nodes', { query: { labelSelector: `t=${name}` } }));
    expect(list.kind).toBe('NodeList');
    expect(list.items.map((n: Json) => n.metadata.name)).toEqual([name]);
  });
});
