// Contract: finalizers, graceful deletion of finalized objects, and garbage collection
// through ownerReferences.
import { describe, expect, it } from 'vitest';
import {
  corePath,
  eventually,
  expectOk,
  expectStatus,
  PatchStrategy,
  serviceBody,
  useContractCluster,
  watch,
  type Json,
} from './support.js';

const ctx = useContractCluster('fin');

// The garbage collector usually acts within a second; the generous bound only matters when a
// shared real cluster's controller-manager is backlogged.
const SETTLE = 45_000;
const TEST_TIMEOUT = 120_000;

const LB_CLEANUP = 'service.kubernetes.io/load-balancer-cleanup';

function release(resource: string, name: string) {
  return ctx.raw('PATCH', corePath(ctx.ns, resource, name), {
    body: { metadata: { finalizers: null } },
    contentType: PatchStrategy.MergePatch,
  });
}

describe('finalizers', () => {
  it('DELETE of a Service with a finalizer marks it deleted and keeps it until the finalizer is removed', async () => {
    const created = expectOk(
      await ctx.raw('POST', corePath(ctx.ns, 'services'), {
        body: serviceBody('fin-svc', { type: 'LoadBalancer' }, { finalizers: [LB_CLEANUP] }),
      }),
      201,
    );
    ctx.defer(() => release('services', 'fin-svc'));
    expect(created.metadata.finalizers).toEqual([LB_CLEANUP]);
    const w = await watch(ctx.kc, corePath(ctx.ns, 'services'), {
      resourceVersion: created.metadata.resourceVersion,
      fieldSelector: 'metadata.name=fin-svc',
    });
    try {
      const del = await ctx.raw('DELETE', corePath(ctx.ns, 'services', 'fin-svc'));
      expect(del.status).toBe(200);
      expect(del.body.kind).toBe('Service');
      const dt = del.body.metadata.deletionTimestamp;
      expect(dt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      expect(Math.abs(Date.parse(dt) - Date.now())).toBeLessThan(120_000);
      expect(del.body.metadata.deletionGracePeriodSeconds).toBe(0);
      expect(del.body.metadata.finalizers).toEqual([LB_CLEANUP]);

      const marked = await w.q.next();
      expect(marked.type).toBe('MODIFIED');
      expect(marked.object.metadata.deletionTimestamp).toBe(dt);
      expect(marked.object.metadata.resourceVersion).toBe(del.body.metadata.resourceVersion);

      // Still readable, and listed.
      const got = expectOk(await ctx.raw('GET', corePath(ctx.ns, 'services', 'fin-svc')));
      expect(got.metadata.deletionTimestamp).toBe(dt);

      // A second DELETE changes nothing.
      const again = await ctx.raw('DELETE', corePath(ctx.ns, 'services', 'fin-svc'));
      expect(again.status).toBe(200);
      expect(again.body.metadata.deletionTimestamp).toBe(dt);
      expect(again.body.metadata.resourceVersion).toBe(del.body.metadata.resourceVersion);

      // Other updates still work while the object is being deleted.
      const labelled = expectOk(
        await ctx.raw('PATCH', corePath(ctx.ns, 'services', 'fin-svc'), {
          body: { metadata: { labels: { still: 'writable' } } },
          contentType: PatchStrategy.MergePatch,
        }),
      );
      expect(labelled.metadata.deletionTimestamp).toBe(dt);
      expect((await w.q.next()).type).toBe('MODIFIED');

      const gone = await release('services', 'fin-svc');
      expect(gone.status).toBe(200);
      const deleted = await w.q.next();
      expect(deleted.type).toBe('DELETED');
      expect(deleted.object.metadata.name).toBe('fin-svc');
      expect(deleted.object.metadata.uid).toBe(created.metadata.uid);
      // (A real server's DELETED object is the last stored state, which still lists the finalizer.)
      expect(deleted.object.metadata.deletionTimestamp).toBe(dt);
      expectStatus(await ctx.raw('GET', corePath(ctx.ns, 'services', 'fin-svc')), 404, 'NotFound');
    } finally {
      w.stop();
    }
  });

  it('a ConfigMap with a finalizer: DELETE returns the object (not a Status) with deletionTimestamp', async () => {
    expectOk(
      await ctx.raw('POST', corePath(ctx.ns, 'configmaps'), {
        body: { metadata: { name: 'fin-cm', finalizers: ['lbc.test/hold'] } },
      }),
    );
    ctx.defer(() => release('configmaps', 'fin-cm'));
    const del = await ctx.raw('DELETE', corePath(ctx.ns, 'configmaps', 'fin-cm'));
    expect(del.status).toBe(200);
    expect(del.body.kind).toBe('ConfigMap');
    expect(del.body.metadata.deletionTimestamp).toBeTruthy();
    expect(del.body.metadata.deletionGracePeriodSeconds).toBe(0);
    expectOk(await release('configmaps', 'fin-cm'));
    expectStatus(await ctx.raw('GET', corePath(ctx.ns, 'configmaps', 'fin-cm')), 404, 'NotFound');
  });

  it('no new finalizer can be added to an object being deleted (422 on metadata.finalizers)', async () => {
    expectOk(
      await ctx.raw('POST', corePath(ctx.ns, 'configmaps'), {
        body: { metadata: { name: 'fin-add', finalizers: ['lbc.test/a'] } },
      }),
    );
    ctx.defer(() => release('configmaps', 'fin-add'));
    expectOk(await ctx.raw('DELETE', corePath(ctx.ns, 'configmaps', 'fin-add')));
    const st = expectStatus(
      await ctx.raw('PATCH', corePath(ctx.ns, 'configmaps', 'fin-add'), {
        body: { metadata: { finalizers: ['lbc.test/a', 'lbc.test/b'] } },
        contentType: PatchStrategy.MergePatch,
      }),
      422,
      'Invalid',
    );
    expect(st.details.name).toBe('fin-add');
    expect(st.details.kind).toBe('ConfigMap');
    const fields = (st.details.causes as Json[]).map((c) => [c.field, c.reason]);
    expect(fields.length).toBeGreaterThan(0);
    for (const f of fields) expect(f).toEqual(['metadata.finalizers', 'FieldValueForbidden']);
    expect(st.message).toContain('no new finalizers can be added if the object is being deleted');
    // Removing one of the existing finalizers is allowed.
    const cur = expectOk(await ctx.raw('GET', corePath(ctx.ns, 'configmaps', 'fin-add')));
    expect(cur.metadata.finalizers).toEqual(['lbc.test/a']);
  });
});

describe('garbage collection', () => {
  async function owner(name: string): Promise<Json> {
    return expectOk(await ctx.raw('POST', corePath(ctx.ns, 'configmaps'), { body: { metadata: { name } } }), 201);
  }

  function ownedBy(o: Json): Json {
    return { apiVersion: 'v1', kind: 'ConfigMap', name: o.metadata.name, uid: o.metadata.uid };
  }

  it('deleting an owner removes its dependents in the background', async () => {
    const o = await owner('owner-bg');
    const dep1 = expectOk(
      await ctx.raw('POST', corePath(ctx.ns, 'configmaps'), {
        body: { metadata: { name: 'dep-bg-1', ownerReferences: [ownedBy(o)] } },
      }),
    );
    expect(dep1.metadata.ownerReferences).toEqual([ownedBy(o)]);
    expectOk(
      await ctx.raw('POST', corePath(ctx.ns, 'services'), {
        body: serviceBody('dep-bg-2', {}, { ownerReferences: [{ ...ownedBy(o), controller: true, blockOwnerDeletion: true }] }),
      }),
    );
    const del = await ctx.raw('DELETE', corePath(ctx.ns, 'configmaps', 'owner-bg'));
    expect(del.status).toBe(200);
    expectStatus(await ctx.raw('GET', corePath(ctx.ns, 'configmaps', 'owner-bg')), 404, 'NotFound');
    await eventually(async () => {
      expectStatus(await ctx.raw('GET', corePath(ctx.ns, 'configmaps', 'dep-bg-1')), 404, 'NotFound');
      expectStatus(await ctx.raw('GET', corePath(ctx.ns, 'services', 'dep-bg-2')), 404, 'NotFound');
    }, SETTLE);
  }, TEST_TIMEOUT);

  it('a dependent with another live owner survives', async () => {
    const a = await owner('owner-a');
    const b = await owner('owner-b');
    expectOk(
      await ctx.raw('POST', corePath(ctx.ns, 'configmaps'), {
        body: { metadata: { name: 'dep-two', ownerReferences: [ownedBy(a), ownedBy(b)] } },
      }),
    );
    expectOk(await ctx.raw('DELETE', corePath(ctx.ns, 'configmaps', 'owner-a')));
    // The collector drops the dead owner's reference and keeps the object.
    await eventually(async () => {
      const dep = expectOk(await ctx.raw('GET', corePath(ctx.ns, 'configmaps', 'dep-two')));
      expect(dep.metadata.ownerReferences).toEqual([ownedBy(b)]);
    }, SETTLE);
  }, TEST_TIMEOUT);

  it('propagationPolicy Orphan deletes the owner and keeps the dependents, without the ownerReference', async () => {
    const o = await owner('owner-orphan');
    expectOk(
      await ctx.raw('POST', corePath(ctx.ns, 'configmaps'), {
        body: { metadata: { name: 'dep-orphan', ownerReferences: [ownedBy(o)] } },
      }),
    );
    const del = await ctx.raw('DELETE', corePath(ctx.ns, 'configmaps', 'owner-orphan'), {
      body: { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Orphan' },
    });
    expect(del.status).toBe(200);
    // The owner first carries the "orphan" finalizer; the collector removes it.
    expect(del.body.metadata.finalizers).toEqual(['orphan']);
    expect(del.body.metadata.deletionTimestamp).toBeTruthy();
    await eventually(async () => {
      expectStatus(await ctx.raw('GET', corePath(ctx.ns, 'configmaps', 'owner-orphan')), 404, 'NotFound');
    }, SETTLE);
    const dep = expectOk(await ctx.raw('GET', corePath(ctx.ns, 'configmaps', 'dep-orphan')));
    expect(dep.metadata.ownerReferences ?? []).toEqual([]);
  }, TEST_TIMEOUT);

  it('propagationPolicy as a query parameter works too', async () => {
    const o = await owner('owner-q');
    expectOk(
      await ctx.raw('POST', corePath(ctx.ns, 'configmaps'), {
        body: { metadata: { name: 'dep-q', ownerReferences: [ownedBy(o)] } },
      }),
    );
    expectOk(await ctx.raw('DELETE', corePath(ctx.ns, 'configmaps', 'owner-q'), { query: { propagationPolicy: 'Orphan' } }));
    await eventually(async () => {
      expectStatus(await ctx.raw('GET', corePath(ctx.ns, 'configmaps', 'owner-q')), 404, 'NotFound');
    }, SETTLE);
    const dep = expectOk(await ctx.raw('GET', corePath(ctx.ns, 'configmaps', 'dep-q')));
    expect(dep.metadata.ownerReferences ?? []).toEqual([]);
  }, TEST_TIMEOUT);
});
