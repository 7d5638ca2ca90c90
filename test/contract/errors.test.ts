// Contract: HTTP-level errors — unknown paths, methods, authentication, bad bodies.
import { describe, expect, it } from 'vitest';
import { corePath, expectOk, expectStatus, groupPath, raw, serviceBody, useContractCluster } from './support.js';

const ctx = useContractCluster('err');

describe('unknown paths and methods', () => {
  it('an unknown resource in a known group version is a 404 NotFound Status', async () => {
    const st = expectStatus(await ctx.raw('GET', corePath(ctx.ns, 'widgets')), 404, 'NotFound');
    expect(st.message).toBe('the server could not find the requested resource');
    expect(st.details).toEqual({});
    expectStatus(await ctx.raw('GET', groupPath('networking.k8s.io/v1', ctx.ns, 'widgets')), 404, 'NotFound');
  });

  it('an unknown API group or path is a 404', async () => {
    expect((await ctx.raw('GET', '/apis/nope.example.com/v1/things')).status).toBe(404);
    expect((await ctx.raw('GET', '/not-an-api')).status).toBe(404);
  });

  it('POST to a named object is a 405 MethodNotAllowed Status', async () => {
    expectOk(await ctx.raw('POST', corePath(ctx.ns, 'services'), { body: serviceBody('m') }), 201);
    const st = expectStatus(
      await ctx.raw('POST', corePath(ctx.ns, 'services', 'm'), { body: serviceBody('m') }),
      405,
      'MethodNotAllowed',
    );
    expect(st.message).toBe('the server does not allow this method on the requested resource');
    expect(st.details).toEqual({});
  });

  it('PUT to a collection and POST to an all-namespaces collection are 405', async () => {
    expectStatus(await ctx.raw('PUT', corePath(ctx.ns, 'services'), { body: serviceBody('x') }), 405, 'MethodNotAllowed');
    expectStatus(await ctx.raw('POST', '/api/v1/services', { body: serviceBody('x') }), 405, 'MethodNotAllowed');
  });
});

describe('authentication', () => {
  it('a wrong bearer token is a 401 Unauthorized Status', async () => {
    const res = await raw(ctx.kc, 'GET', corePath(ctx.ns, 'services'), { auth: { token: 'not-a-valid-token' } });
    const st = expectStatus(res, 401, 'Unauthorized');
    expect(st.message).toBe('Unauthorized');
  });

  it('no credentials at all is an anonymous request, which is a 403 Forbidden Status', async () => {
    const res = await raw(ctx.kc, 'GET', corePath(ctx.ns, 'services'), { auth: 'none' });
    const st = expectStatus(res, 403, 'Forbidden');
    expect(st.message).toBe(
      `services is forbidden: User "system:anonymous" cannot list resource "services" in API group "" in the namespace "${ctx.ns}"`,
    );
    expect(st.details).toEqual({ kind: 'services' });
  });
});

describe('bad request bodies', () => {
  it('malformed JSON is a 400 BadRequest', async () => {
    const st = expectStatus(
      await ctx.raw('POST', corePath(ctx.ns, 'configmaps'), { body: '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x"}' }),
      400,
      'BadRequest',
    );
    expect(st.message.length).toBeGreaterThan(0);
    expectStatus(await ctx.raw('POST', corePath(ctx.ns, 'configmaps'), { body: 'not json' }), 400, 'BadRequest');
  });

  it('a body of another kind is a 400 BadRequest', async () => {
    const st = expectStatus(
      await ctx.raw('POST', corePath(ctx.ns, 'configmaps'), {
        body: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'x' } },
      }),
      400,
      'BadRequest',
    );
    expect(st.message).toBe(
      'Secret in version "v1" cannot be handled as a ConfigMap: converting (v1.Secret) to (core.ConfigMap): unknown conversion',
    );
  });

  it('a body with an unknown apiVersion is a 400 BadRequest', async () => {
    const st = expectStatus(
      await ctx.raw('POST', corePath(ctx.ns, 'configmaps'), {
        body: { apiVersion: 'v2', kind: 'ConfigMap', metadata: { name: 'x' } },
      }),
      400,
      'BadRequest',
    );
    expect(st.message).toMatch(/^ConfigMap in version "v2" cannot be handled as a ConfigMap: /);
  });

  it('a field of the wrong JSON type is a 400 BadRequest', async () => {
    const st = expectStatus(
      await ctx.raw('POST', corePath(ctx.ns, 'configmaps'), { body: { metadata: { name: 'x' }, data: { a: 1 } } }),
      400,
      'BadRequest',
    );
    expect(st.message).toMatch(/^ConfigMap in version "v1" cannot be handled as a ConfigMap: /);
  });

  it('a body namespace that differs from the URL is a 400 BadRequest', async () => {
    const st = expectStatus(
      await ctx.raw('POST', corePath(ctx.ns, 'configmaps'), { body: { metadata: { name: 'x', namespace: 'elsewhere' } } }),
      400,
      'BadRequest',
    );
    expect(st.message).toBe('the namespace of the provided object does not match the namespace sent on the request');
  });

  it('a body name that differs from the URL on PUT is a 400 BadRequest', async () => {
    expectOk(await ctx.raw('POST', corePath(ctx.ns, 'configmaps'), { body: { metadata: { name: 'named' } } }));
    const st = expectStatus(
      await ctx.raw('PUT', corePath(ctx.ns, 'configmaps', 'named'), { body: { metadata: { name: 'other' } } }),
      400,
      'BadRequest',
    );
    expect(st.message).toBe('the name of the object (other) does not match the name on the URL (named)');
  });

  it('creating in a namespace that does not exist is a 404 naming the namespace', async () => {
    const st = expectStatus(
      await ctx.raw('POST', corePath(`${ctx.ns}-missing`, 'configmaps'), { body: { metadata: { name: 'x' } } }),
      404,
      'NotFound',
    );
    expect(st.message).toBe(`namespaces "${ctx.ns}-missing" not found`);
    expect(st.details).toEqual({ name: `${ctx.ns}-missing`, kind: 'namespaces' });
  });

  it('an unsupported request Content-Type on POST is a 415', async () => {
    expectStatus(
      await ctx.raw('POST', corePath(ctx.ns, 'configmaps'), {
        body: JSON.stringify({ metadata: { name: 'x' } }),
        contentType: 'text/plain',
      }),
      415,
      'UnsupportedMediaType',
    );
  });
});
