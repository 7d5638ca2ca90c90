// Contract: optimistic concurrency with metadata.resourceVersion.
import { describe, expect, it } from 'vitest';
import { causeFields, corePath, expectOk, expectStatus, groupPath, serviceBody, useContractCluster } from './support.js';

const ctx = useContractCluster('occ');

describe('optimistic concurrency', () => {
  it('PUT with the current resourceVersion succeeds and returns a new one', async () => {
    const svc = expectOk(await ctx.raw('POST', corePath(ctx.ns, 'services'), { body: serviceBody('fresh') }), 201);
    svc.metadata.labels = { v: '1' };
    const put = expectOk(await ctx.raw('PUT', corePath(ctx.ns, 'services', 'fresh'), { body: svc }), 200);
    expect(put.metadata.labels).toEqual({ v: '1' });
    expect(put.metadata.resourceVersion).not.toBe(svc.metadata.resourceVersion);
  });

  it('PUT with a stale resourceVersion is a 409 Conflict', async () => {
    const svc = expectOk(await ctx.raw('POST', corePath(ctx.ns, 'services'), { body: serviceBody('stale') }), 201);
    const first = { ...svc, metadata: { ...svc.metadata, labels: { v: '1' } } };
    expectOk(await ctx.raw('PUT', corePath(ctx.ns, 'services', 'stale'), { body: first }), 200);
    const second = { ...svc, metadata: { ...svc.metadata, labels: { v: '2' } } };
    const st = expectStatus(await ctx.raw('PUT', corePath(ctx.ns, 'services', 'stale'), { body: second }), 409, 'Conflict');
    expect(st.message).toBe(
      'Operation cannot be fulfilled on services "stale": the object has been modified; please apply your changes to the latest version and try again',
    );
    expect(st.details).toEqual({ name: 'stale', kind: 'services' });
    // The losing write changed nothing.
    const cur = expectOk(await ctx.raw('GET', corePath(ctx.ns, 'services', 'stale')));
    expect(cur.metadata.labels).toEqual({ v: '1' });
  });

  it('a stale resourceVersion in a merge patch is a 409 Conflict too', async () => {
    const cm = expectOk(await ctx.raw('POST', corePath(ctx.ns, 'configmaps'), { body: { metadata: { name: 'patch-rv' } } }));
    expectOk(
      await ctx.raw('PATCH', corePath(ctx.ns, 'configmaps', 'patch-rv'), {
        body: { data: { a: '1' } },
        contentType: 'application/merge-patch+json',
      }),
    );
    const st = expectStatus(
      await ctx.raw('PATCH', corePath(ctx.ns, 'configmaps', 'patch-rv'), {
        body: { metadata: { resourceVersion: cm.metadata.resourceVersion }, data: { a: '2' } },
        contentType: 'application/merge-patch+json',
      }),
      409,
      'Conflict',
    );
    expect(st.details).toEqual({ name: 'patch-rv', kind: 'configmaps' });
  });

  it('a Service accepts an update without resourceVersion (unconditional update)', async () => {
    const svc = expectOk(await ctx.raw('POST', corePath(ctx.ns, 'services'), { body: serviceBody('uncond') }), 201);
    // Someone else writes in between; an unconditional PUT still wins.
    expectOk(
      await ctx.raw('PATCH', corePath(ctx.ns, 'services', 'uncond'), {
        body: { metadata: { labels: { other: 'x' } } },
        contentType: 'application/merge-patch+json',
      }),
    );
    const body = { ...svc, metadata: { name: 'uncond', labels: { mine: 'y' } } };
    const put = expectOk(await ctx.raw('PUT', corePath(ctx.ns, 'services', 'uncond'), { body }), 200);
    expect(put.metadata.labels).toEqual({ mine: 'y' });
    expect(put.metadata.uid).toBe(svc.metadata.uid);
    expect(put.spec.clusterIP).toBe(svc.spec.clusterIP);
  });

  it('ConfigMaps accept an update without resourceVersion', async () => {
    expectOk(await ctx.raw('POST', corePath(ctx.ns, 'configmaps'), { body: { metadata: { name: 'uncond-cm' } } }));
    const put = expectOk(
      await ctx.raw('PUT', corePath(ctx.ns, 'configmaps', 'uncond-cm'), {
        body: { metadata: { name: 'uncond-cm' }, data: { k: 'v' } },
      }),
      200,
    );
    expect(put.data).toEqual({ k: 'v' });
  });

  it('a Lease refuses an update without resourceVersion with 422 on metadata.resourceVersion', async () => {
    const path = groupPath('coordination.k8s.io/v1', ctx.ns, 'leases');
    expectOk(await ctx.raw('POST', path, { body: { metadata: { name: 'l' }, spec: { holderIdentity: 'a' } } }), 201);
    const st = expectStatus(
      await ctx.raw('PUT', `${path}/l`, { body: { metadata: { name: 'l' }, spec: { holderIdentity: 'b' } } }),
      422,
      'Invalid',
    );
    expect(st.message).toBe(
      'leases.coordination.k8s.io "l" is invalid: metadata.resourceVersion: Invalid value: 0x0: must be specified for an update',
    );
    expect(st.details).toMatchObject({ name: 'l', group: 'coordination.k8s.io', kind: 'leases' });
    expect(causeFields(st)).toEqual(['metadata.resourceVersion']);
    expect(st.details.causes[0]).toEqual({
      reason: 'FieldValueInvalid',
      message: 'Invalid value: 0x0: must be specified for an update',
      field: 'metadata.resourceVersion',
    });
  });

  it('PUT of a missing ConfigMap/Secret/Ingress is a 404; Services, Endpoints and Leases are created (201)', async () => {
    const st = expectStatus(
      await ctx.raw('PUT', corePath(ctx.ns, 'configmaps', 'ghost'), { body: { metadata: { name: 'ghost' } } }),
      404,
      'NotFound',
    );
    expect(st.details).toEqual({ name: 'ghost', kind: 'configmaps' });
    expectStatus(
      await ctx.raw('PUT', corePath(ctx.ns, 'secrets', 'ghost'), { body: { metadata: { name: 'ghost' } } }),
      404,
      'NotFound',
    );
    expectStatus(
      await ctx.raw('PUT', groupPath('networking.k8s.io/v1', ctx.ns, 'ingresses', 'ghost'), {
        body: { metadata: { name: 'ghost' }, spec: { defaultBackend: { service: { name: 'a', port: { number: 80 } } } } },
      }),
      404,
      'NotFound',
    );
    // These strategies allow create-on-update.
    const svc = expectOk(await ctx.raw('PUT', corePath(ctx.ns, 'services', 'ghost'), { body: serviceBody('ghost') }), 201);
    expect(svc.metadata.uid).toBeTruthy();
    expect(svc.spec.clusterIP).toBeTruthy();
    expectOk(await ctx.raw('PUT', corePath(ctx.ns, 'endpoints', 'ghost'), { body: { metadata: { name: 'ghost' } } }), 201);
    const lease = expectOk(
      await ctx.raw('PUT', groupPath('coordination.k8s.io/v1', ctx.ns, 'leases', 'ghost'), {
        body: { metadata: { name: 'ghost' }, spec: { holderIdentity: 'me' } },
      }),
      201,
    );
    expect(lease.spec.holderIdentity).toBe('me');
  });

  it('DELETE with a stale resourceVersion precondition is a 409 Conflict and deletes nothing', async () => {
    const cm = expectOk(await ctx.raw('POST', corePath(ctx.ns, 'configmaps'), { body: { metadata: { name: 'pre' } } }));
    expectOk(
      await ctx.raw('PATCH', corePath(ctx.ns, 'configmaps', 'pre'), {
        body: { data: { a: '1' } },
        contentType: 'application/merge-patch+json',
      }),
    );
    const st = expectStatus(
      await ctx.raw('DELETE', corePath(ctx.ns, 'configmaps', 'pre'), {
        body: { preconditions: { resourceVersion: cm.metadata.resourceVersion } },
      }),
      409,
      'Conflict',
    );
    expect(st.details).toMatchObject({ name: 'pre' });
    expectOk(await ctx.raw('GET', corePath(ctx.ns, 'configmaps', 'pre')));
    const cur = expectOk(await ctx.raw('GET', corePath(ctx.ns, 'configmaps', 'pre')));
    expectOk(
      await ctx.raw('DELETE', corePath(ctx.ns, 'configmaps', 'pre'), {
        body: { preconditions: { resourceVersion: cur.metadata.resourceVersion, uid: cur.metadata.uid } },
      }),
    );
    expectStatus(await ctx.raw('GET', corePath(ctx.ns, 'configmaps', 'pre')), 404, 'NotFound');
  });

  it('concurrent read-modify-write: exactly one of two writers from the same version wins', async () => {
    const cm = expectOk(await ctx.raw('POST', corePath(ctx.ns, 'configmaps'), { body: { metadata: { name: 'race' } } }));
    const results = await Promise.all(
      ['a', 'b'].map((w) =>
        ctx.raw('PUT', corePath(ctx.ns, 'configmaps', 'race'), { body: { ...cm, data: { writer: w } } }),
      ),
    );
    expect(results.map((r) => r.status).sort()).toEqual([200, 409]);
    const winner = results.find((r) => r.status === 200)?.body.data.writer;
    const cur = expectOk(await ctx.raw('GET', corePath(ctx.ns, 'configmaps', 'race')));
    expect(cur.data.writer).toBe(winner);
  });
});
