// Contract: PATCH content types — JSON merge patch, JSON patch, strategic merge patch
// (list merge keys and directives) — and their errors.
import { beforeEach, describe, expect, it } from 'vitest';
import { corePath, expectOk, expectStatus, PatchStrategy, serviceBody, useContractCluster, type Json } from './support.js';

const ctx = useContractCluster('patch');

let n = 0;
let name = '';

async function patch(type: string, body: unknown, sub?: string, target = name): Promise<Json> {
  return ctx.raw('PATCH', corePath(ctx.ns, 'services', target, sub), { body, contentType: type });
}

async function patchOk(type: string, body: unknown, sub?: string): Promise<Json> {
  return expectOk(await patch(type, body, sub), 200);
}

const ports = (svc: Json) => svc.spec.ports.map((p: Json) => [p.port, p.name, p.protocol]);

beforeEach(async () => {
  name = `p${++n}`;
  expectOk(
    await ctx.raw('POST', corePath(ctx.ns, 'services'), {
      body: serviceBody(
        name,
        {
          selector: { app: 'a' },
          ports: [
            { name: 'a', port: 1, targetPort: 1001 },
            { name: 'b', port: 2, targetPort: 1002 },
            { name: 'c', port: 3, targetPort: 1003 },
          ],
        },
        { labels: { keep: 'k', drop: 'd' } },
      ),
    }),
    201,
  );
});

describe('application/merge-patch+json', () => {
  it('merges maps, deletes keys set to null and replaces lists wholesale', async () => {
    const svc = await patchOk(PatchStrategy.MergePatch, {
      metadata: { labels: { drop: null, add: 'x' } },
      spec: { ports: [{ name: 'only', port: 9 }] },
    });
    expect(svc.metadata.labels).toEqual({ keep: 'k', add: 'x' });
    expect(ports(svc)).toEqual([[9, 'only', 'TCP']]);
    expect(svc.spec.selector).toEqual({ app: 'a' });
  });
});

describe('application/json-patch+json', () => {
  it('applies add, replace and remove operations in order', async () => {
    const svc = await patchOk(PatchStrategy.JsonPatch, [
      { op: 'add', path: '/metadata/labels/added', value: 'yes' },
      { op: 'replace', path: '/spec/ports/0/port', value: 10 },
      { op: 'remove', path: '/metadata/labels/drop' },
      { op: 'test', path: '/metadata/labels/keep', value: 'k' },
    ]);
    expect(svc.metadata.labels).toEqual({ keep: 'k', added: 'yes' });
    expect(ports(svc)[0]).toEqual([10, 'a', 'TCP']);
  });

  it('a failing test op is a 422 and applies nothing', async () => {
    const before = expectOk(await ctx.raw('GET', corePath(ctx.ns, 'services', name)));
    const st = expectStatus(
      await patch(PatchStrategy.JsonPatch, [
        { op: 'add', path: '/metadata/labels/added', value: 'yes' },
        { op: 'test', path: '/metadata/labels/keep', value: 'not-k' },
      ]),
      422,
      'Invalid',
    );
    expect(st.message).toBe('the server rejected our request due to an error in our request');
    const after = expectOk(await ctx.raw('GET', corePath(ctx.ns, 'services', name)));
    expect(after.metadata.resourceVersion).toBe(before.metadata.resourceVersion);
    expect(after.metadata.labels).toEqual({ keep: 'k', drop: 'd' });
  });

  it('removing a missing path or an unknown op is a 422', async () => {
    expectStatus(await patch(PatchStrategy.JsonPatch, [{ op: 'remove', path: '/metadata/labels/none' }]), 422, 'Invalid');
    expectStatus(await patch(PatchStrategy.JsonPatch, [{ op: 'frob', path: '/x' }]), 422, 'Invalid');
  });

  it('a patch that is not a JSON array is a 400', async () => {
    const st = expectStatus(await patch(PatchStrategy.JsonPatch, { op: 'add' }), 400, 'BadRequest');
    expect(st.message).toMatch(/^error decoding patch: /);
  });
});

describe('application/strategic-merge-patch+json', () => {
  it('merges Service ports by port; protocol is not part of the merge key', async () => {
    const svc = await patchOk(PatchStrategy.StrategicMergePatch, {
      spec: { ports: [{ port: 2, name: 'bb', protocol: 'UDP' }] },
    });
    expect(svc.spec.ports).toHaveLength(3);
    expect(ports(svc)).toEqual([
      [1, 'a', 'TCP'],
      [2, 'bb', 'UDP'],
      [3, 'c', 'TCP'],
    ]);
    // Unmentioned fields of the merged entry stay.
    expect(svc.spec.ports[1].targetPort).toBe(1002);
  });

  it('new list entries come before the live entries the patch does not mention', async () => {
    const one = await patchOk(PatchStrategy.StrategicMergePatch, { spec: { ports: [{ port: 9, name: 'n' }] } });
    expect(ports(one).map((p: Json[]) => p[0])).toEqual([9, 1, 2, 3]);
    // Mentioned live entries keep their live position; new ones follow the patch order around them.
    const two = await patchOk(PatchStrategy.StrategicMergePatch, {
      spec: { ports: [{ port: 2, name: 'b2' }, { port: 8, name: 'm' }] },
    });
    expect(ports(two).map((p: Json[]) => p[0])).toEqual([9, 1, 2, 8, 3]);
  });

  it('$setElementOrder reorders the list', async () => {
    const svc = await patchOk(PatchStrategy.StrategicMergePatch, {
      spec: { '$setElementOrder/ports': [{ port: 3 }, { port: 1 }, { port: 2 }], ports: [{ port: 1, name: 'aa' }] },
    });
    expect(ports(svc)).toEqual([
      [3, 'c', 'TCP'],
      [1, 'aa', 'TCP'],
      [2, 'b', 'TCP'],
    ]);
  });

  it('$patch: delete removes the entry with that merge key; $patch: replace replaces the list', async () => {
    const del = await patchOk(PatchStrategy.StrategicMergePatch, { spec: { ports: [{ port: 2, $patch: 'delete' }] } });
    expect(ports(del).map((p: Json[]) => p[0])).toEqual([1, 3]);
    const rep = await patchOk(PatchStrategy.StrategicMergePatch, {
      spec: { ports: [{ $patch: 'replace' }, { port: 7, name: 'z' }] },
    });
    expect(ports(rep)).toEqual([[7, 'z', 'TCP']]);
  });

  it('maps merge, null deletes a key, and $patch: replace replaces a map', async () => {
    const svc = await patchOk(PatchStrategy.StrategicMergePatch, {
      metadata: { labels: { drop: null, add: 'x' } },
      spec: { selector: { $patch: 'replace', only: 'this' } },
    });
    expect(svc.metadata.labels).toEqual({ keep: 'k', add: 'x' });
    expect(svc.spec.selector).toEqual({ only: 'this' });
  });

  it('metadata.finalizers merge as a set; $deleteFromPrimitiveList removes entries', async () => {
    await patchOk(PatchStrategy.MergePatch, { metadata: { finalizers: ['lbc.test/x', 'lbc.test/y'] } });
    const merged = await patchOk(PatchStrategy.StrategicMergePatch, {
      metadata: { finalizers: ['lbc.test/z', 'lbc.test/x'] },
    });
    expect(merged.metadata.finalizers).toEqual(['lbc.test/z', 'lbc.test/x', 'lbc.test/y']);
    const removed = await patchOk(PatchStrategy.StrategicMergePatch, {
      metadata: { '$deleteFromPrimitiveList/finalizers': ['lbc.test/x', 'lbc.test/z'] },
    });
    expect(removed.metadata.finalizers).toEqual(['lbc.test/y']);
    // An empty list in a strategic patch merges nothing; merge patch null clears.
    const same = await patchOk(PatchStrategy.StrategicMergePatch, { metadata: { finalizers: [] } });
    expect(same.metadata.finalizers).toEqual(['lbc.test/y']);
    const cleared = await patchOk(PatchStrategy.MergePatch, { metadata: { finalizers: null } });
    expect(cleared.metadata.finalizers).toBeUndefined();
  });

  it('status.conditions merge by type on /status', async () => {
    const cond = (type: string, status: string) => ({
      type,
      status,
      reason: 'Test',
      message: `${type} is ${status}`,
      lastTransitionTime: '2024-01-01T00:00:00Z',
    });
    const first = await patchOk(
      PatchStrategy.StrategicMergePatch,
      { status: { conditions: [cond('A', 'True'), cond('B', 'False')] } },
      'status',
    );
    expect(first.status.conditions.map((c: Json) => [c.type, c.status])).toEqual([
      ['A', 'True'],
      ['B', 'False'],
    ]);
    const second = await patchOk(
      PatchStrategy.StrategicMergePatch,
      { status: { conditions: [{ type: 'B', status: 'True' }, cond('C', 'True')] } },
      'status',
    );
    expect(second.status.conditions.map((c: Json) => [c.type, c.status])).toEqual([
      ['A', 'True'],
      ['B', 'True'],
      ['C', 'True'],
    ]);
    // Fields the patch does not mention survive the merge.
    expect(second.status.conditions[1].message).toBe('B is False');
    const third = await patchOk(
      PatchStrategy.StrategicMergePatch,
      { status: { conditions: [{ type: 'A', $patch: 'delete' }] } },
      'status',
    );
    expect(third.status.conditions.map((c: Json) => c.type)).toEqual(['B', 'C']);
  });

  it('status.loadBalancer.ingress is atomic: a strategic patch replaces the whole list', async () => {
    await patchOk(
      PatchStrategy.StrategicMergePatch,
      { status: { loadBalancer: { ingress: [{ ip: '192.0.2.1' }, { ip: '192.0.2.2' }] } } },
      'status',
    );
    const svc = await patchOk(
      PatchStrategy.StrategicMergePatch,
      { status: { loadBalancer: { ingress: [{ ip: '192.0.2.3' }] } } },
      'status',
    );
    expect(svc.status.loadBalancer.ingress).toEqual([{ ip: '192.0.2.3' }]);
  });

  it('removing the last port is a 422 on spec.ports', async () => {
    await patchOk(PatchStrategy.MergePatch, { spec: { ports: [{ name: 'a', port: 1 }] } });
    const st = expectStatus(
      await patch(PatchStrategy.StrategicMergePatch, { spec: { ports: [{ port: 1, $patch: 'delete' }] } }),
      422,
      'Invalid',
    );
    expect(st.details.causes).toEqual([{ reason: 'FieldValueRequired', message: 'Required value', field: 'spec.ports' }]);
  });
});

describe('patch errors', () => {
  it.each(['text/plain', 'application/json', 'application/xml'])('Content-Type %s is a 415 UnsupportedMediaType', async (type) => {
    const st = expectStatus(await patch(type, '{}'), 415, 'UnsupportedMediaType');
    expect(st.message).toBe('415: Unsupported Media Type');
  });

  it.each([PatchStrategy.MergePatch, PatchStrategy.JsonPatch, PatchStrategy.StrategicMergePatch])(
    'malformed JSON with %s is a 400 BadRequest',
    async (type) => {
      const st = expectStatus(await patch(type, '{bad'), 400, 'BadRequest');
      expect(st.message).toMatch(/invalid character/);
    },
  );

  it('patching a missing object is a 404', async () => {
    const st = expectStatus(await patch(PatchStrategy.MergePatch, {}, undefined, 'missing'), 404, 'NotFound');
    expect(st.details).toEqual({ name: 'missing', kind: 'services' });
  });
});
