// Contract: discovery documents — /version, /api, /apis, group versions, and the OpenAPI v3
// index that kubectl consults before apply.
import { describe, expect, it } from 'vitest';
import { expectOk, useContractCluster, type Json } from './support.js';

const ctx = useContractCluster('disc');

const RW = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
const STATUS = ['get', 'patch', 'update'];

function resource(list: Json, name: string): Json {
  const r = list.resources.find((x: Json) => x.name === name);
  expect(r, `resource ${name} in ${list.groupVersion}`).toBeTruthy();
  return r;
}

function expectResource(list: Json, name: string, kind: string, namespaced: boolean, verbs: string[]): Json {
  const r = resource(list, name);
  expect(r.kind).toBe(kind);
  expect(r.namespaced).toBe(namespaced);
  expect([...r.verbs].sort()).toEqual([...verbs].sort());
  expect(r.singularName).toBe('');
  return r;
}

describe('discovery', () => {
  it('/version reports a Kubernetes version', async () => {
    const v = expectOk(await ctx.raw('GET', '/version'));
    expect(v.major).toMatch(/^\d+$/);
    expect(v.minor).toMatch(/^\d+/);
    expect(v.gitVersion).toMatch(/^v\d+\.\d+\.\d+/);
    expect(typeof v.platform).toBe('string');
  });

  it('/api lists the core version', async () => {
    const res = await ctx.raw('GET', '/api');
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    const api = expectOk(res);
    expect(api.kind).toBe('APIVersions');
    expect(api.versions).toEqual(['v1']);
  });

  it('/apis lists the groups lbc uses with v1 preferred', async () => {
    const apis = expectOk(await ctx.raw('GET', '/apis'));
    expect(apis.kind).toBe('APIGroupList');
    expect(apis.apiVersion).toBe('v1');
    for (const group of ['networking.k8s.io', 'discovery.k8s.io', 'coordination.k8s.io', 'events.k8s.io']) {
      const g = apis.groups.find((x: Json) => x.name === group);
      expect(g, group).toBeTruthy();
      expect(g.versions).toContainEqual({ groupVersion: `${group}/v1`, version: 'v1' });
      expect(g.preferredVersion).toEqual({ groupVersion: `${group}/v1`, version: 'v1' });
    }
  });

  it('/apis/networking.k8s.io is an APIGroup', async () => {
    const g = expectOk(await ctx.raw('GET', '/apis/networking.k8s.io'));
    expect(g.kind).toBe('APIGroup');
    expect(g.name).toBe('networking.k8s.io');
    expect(g.preferredVersion).toEqual({ groupVersion: 'networking.k8s.io/v1', version: 'v1' });
  });

  it('/api/v1 lists the core resources lbc uses', async () => {
    const list = expectOk(await ctx.raw('GET', '/api/v1'));
    expect(list.kind).toBe('APIResourceList');
    expect(list.groupVersion).toBe('v1');
    expect(expectResource(list, 'services', 'Service', true, RW).shortNames).toEqual(['svc']);
    expectResource(list, 'services/status', 'Service', true, STATUS);
    expectResource(list, 'endpoints', 'Endpoints', true, RW);
    expectResource(list, 'pods', 'Pod', true, RW);
    expectResource(list, 'pods/status', 'Pod', true, STATUS);
    expectResource(list, 'nodes', 'Node', false, RW);
    expectResource(list, 'nodes/status', 'Node', false, STATUS);
    expectResource(list, 'namespaces', 'Namespace', false, ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch']);
    expectResource(list, 'secrets', 'Secret', true, RW);
    expectResource(list, 'configmaps', 'ConfigMap', true, RW);
    expectResource(list, 'events', 'Event', true, RW);
  });

  it('/apis/networking.k8s.io/v1 lists Ingresses (namespaced, with status) and IngressClasses (cluster)', async () => {
    const list = expectOk(await ctx.raw('GET', '/apis/networking.k8s.io/v1'));
    expect(list.kind).toBe('APIResourceList');
    expect(list.apiVersion).toBe('v1');
    expect(list.groupVersion).toBe('networking.k8s.io/v1');
    expect(expectResource(list, 'ingresses', 'Ingress', true, RW).shortNames).toEqual(['ing']);
    expectResource(list, 'ingresses/status', 'Ingress', true, STATUS);
    expectResource(list, 'ingressclasses', 'IngressClass', false, RW);
  });

  it('/apis/{discovery,coordination,events}.k8s.io/v1 list EndpointSlices, Leases and Events', async () => {
    const d = expectOk(await ctx.raw('GET', '/apis/discovery.k8s.io/v1'));
    expectResource(d, 'endpointslices', 'EndpointSlice', true, RW);
    const c = expectOk(await ctx.raw('GET', '/apis/coordination.k8s.io/v1'));
    expectResource(c, 'leases', 'Lease', true, RW);
    const e = expectOk(await ctx.raw('GET', '/apis/events.k8s.io/v1'));
    expectResource(e, 'events', 'Event', true, RW);
  });

  it('an unknown group version is a 404', async () => {
    expect((await ctx.raw('GET', '/apis/networking.k8s.io/v7')).status).toBe(404);
  });

  it('/openapi/v3 indexes per-group-version documents whose PATCH operations accept fieldValidation', async () => {
    const index = expectOk(await ctx.raw('GET', '/openapi/v3'));
    for (const gv of ['api/v1', 'apis/networking.k8s.io/v1']) {
      const entry = index.paths[gv];
      expect(entry, gv).toBeTruthy();
      expect(entry.serverRelativeURL).toMatch(new RegExp(`^/openapi/v3/${gv.replace(/\./g, '\\.')}(\\?|$)`));
    }
    // kubectl apply --validate=strict (the default) checks this before sending fieldValidation=Strict.
    const doc = expectOk(await ctx.raw('GET', index.paths['api/v1'].serverRelativeURL));
    expect(doc.openapi).toMatch(/^3\./);
    const patchOps = Object.values(doc.paths as Record<string, Json>)
      .map((p) => p.patch)
      .filter((op) => op?.['x-kubernetes-group-version-kind']?.kind === 'Service');
    expect(patchOps.length).toBeGreaterThan(0);
    const params = patchOps.flatMap((op: Json) => (op.parameters ?? []) as Json[]);
    const resolved = params.map((p: Json) =>
      p.$ref ? doc.components.parameters[String(p.$ref).split('/').pop() as string] : p,
    );
    expect(resolved).toContainEqual(expect.objectContaining({ name: 'fieldValidation', in: 'query' }));
  });
});
