// Contract: what kubectl needs of a server besides CRUD to work with custom resources —
// `/openapi/v3` publishing each CRD version's schema (kubectl explain reads it; kubectl apply
// reads which patch types and parameters the kind takes), and server-side field validation
// (`fieldValidation` Strict, Warn, Ignore; kubectl apply sends Strict unless told otherwise):
// unknown and duplicate fields are refused, warned about or dropped with kube-apiserver's words.
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CRD_PATH, crdEstablished, crdFiles, crdsIn, installCrd } from './crds-support.js';
import { eventually, expectOk, expectStatus, PatchStrategy, uniqueName, useContractCluster, type Json } from './support.js';

const hasKubectl = !spawnSync('kubectl', ['version', '--client'], { stdio: 'ignore' }).error;
const ctx = useContractCluster('crdapi');
let dir = '';

const installed: Json[] = [];
const pool = (name?: string, sub?: string) => `/apis/metallb.io/v1beta1/namespaces/${ctx.ns}/ipaddresspools${name ? `/${name}` : ''}${sub ? `/${sub}` : ''}`;
const routes = () => `/apis/gateway.networking.k8s.io/v1/namespaces/${ctx.ns}/httproutes`;

function poolBody(name: string, spec: Json = {}, metadata: Json = {}): Json {
  return { apiVersion: 'metallb.io/v1beta1', kind: 'IPAddressPool', metadata: { name, ...metadata }, spec: { addresses: ['192.0.2.0/28'], ...spec } };
}

/** kubectl's stdout, stderr and exit code (a refusal is what some cases expect). */
function kubectl(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('kubectl', ['--cache-dir', join(dir, 'cache'), '-n', ctx.ns, ...args], { env: { ...process.env, KUBECONFIG: ctx.cluster.kubeconfigPath }, timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** The kind definition's name in an OpenAPI document: the group reversed, version, kind. */
function definitionName(group: string, version: string, kind: string): string {
  return [...group.split('.').reverse(), version, kind].join('.');
}

const META = '#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.';
const API_VERSION_TEXT = 'APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources';
const KIND_TEXT = 'Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds';

async function openapiDoc(gv: string): Promise<Json> {
  const index = expectOk(await ctx.raw('GET', '/openapi/v3'));
  const entry = index.paths[`apis/${gv}`];
  expect(entry, `apis/${gv} in the /openapi/v3 index`).toBeTruthy();
  expect(entry.serverRelativeURL).toMatch(new RegExp(`^/openapi/v3/apis/${gv.replace(/\./g, '\\.')}\\?hash=[0-9A-F]+$`));
  return expectOk(await ctx.raw('GET', entry.serverRelativeURL));
}

/** Asserts that every served version of crd is published as kube-apiserver publishes it; returns how many. */
async function checkPublished(crd: Json): Promise<number> {
  let kinds = 0;
  const { group, names } = crd.spec;
  for (const v of crd.spec.versions.filter((x: Json) => x.served)) {
    const doc = await openapiDoc(`${group}/${v.name}`);
    expect(doc.openapi).toMatch(/^3\./);
    const schemas = doc.components.schemas;
    const name = definitionName(group, v.name, names.kind);
    const expected = structuredClone(v.schema.openAPIV3Schema);
    expected.properties = {
      ...expected.properties,
      apiVersion: { description: API_VERSION_TEXT, type: 'string' },
      kind: { description: KIND_TEXT, type: 'string' },
      metadata: { description: "Standard object's metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata", allOf: [{ $ref: `${META}ObjectMeta` }] },
    };
    expected['x-kubernetes-group-version-kind'] = [{ group, kind: names.kind, version: v.name }];
    expect(schemas[name], `${name}`).toEqual(expected);
    const list = schemas[definitionName(group, v.name, `${names.kind}List`)];
    expect(list['x-kubernetes-group-version-kind']).toEqual([{ group, kind: `${names.kind}List`, version: v.name }]);
    expect(list.properties.items).toMatchObject({ type: 'array', items: { $ref: `#/components/schemas/${name}` } });
    // ObjectMeta is there for kubectl explain to resolve metadata through.
    expect(schemas['io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta'].properties).toHaveProperty('ownerReferences');

    const scope = crd.spec.scope === 'Namespaced' ? '/namespaces/{namespace}' : '';
    const item = doc.paths[`/apis/${group}/${v.name}${scope}/${names.plural}/{name}`];
    expect(item.patch['x-kubernetes-group-version-kind']).toEqual({ group, version: v.name, kind: names.kind });
    // No strategic merge patch: kubectl apply computes a JSON merge patch for these kinds.
    expect(Object.keys(item.patch.requestBody.content).sort()).toEqual(['application/apply-patch+yaml', 'application/json-patch+json', 'application/merge-patch+json']);
    expect(item.patch.parameters.map((p: Json) => p.name)).toContain('fieldValidation');
    expect(Object.keys(item).filter((k) => k !== 'parameters').sort()).toEqual(['delete', 'get', 'patch', 'put']);
    const status = doc.paths[`/apis/${group}/${v.name}${scope}/${names.plural}/{name}/status`];
    expect(status !== undefined, `${name} status path`).toBe(v.subresources?.status !== undefined);
    kinds++;
  }
  return kinds;
}

describe('CRDs through /openapi/v3 and server-side field validation', () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lbc-ct-crdapi-'));
    // Gateway API's experimental channel: the state the other CRD contract file leaves too.
    const files = [...crdFiles('metallb-v0.16.1'), ...crdFiles('aws-load-balancer-controller-v3.5.0'), ...crdFiles('gateway-api-v1.4.0/experimental').filter((f) => /_(httproutes|gateways)\.yaml$/.test(f))];
    for (const file of files) {
      for (const crd of crdsIn(file)) {
        await installCrd(ctx, crd);
        installed.push(crd);
      }
    }
    for (const crd of installed) await crdEstablished(ctx, crd.metadata.name);
  }, 120_000);
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('each served CRD version is published: its schema with the standard apiVersion, kind and metadata, its list, its operations', async () => {
    expect(installed.length).toBeGreaterThanOrEqual(12);
    let kinds = 0;
    for (const file of installed) {
      // Checked against the CRD as the cluster serves it now: against a real cluster the other
      // CRD contract file may be moving Gateway API between its channels meanwhile, and the
      // real server publishes a CRD change a moment after it.
      await eventually(async () => {
        kinds += await checkPublished(expectOk(await ctx.raw('GET', `${CRD_PATH}/${file.metadata.name}`)));
      }, 20_000);
    }
    expect(kinds).toBeGreaterThanOrEqual(15);
  });

  it('the /openapi/v3 index follows CRDs: a new group-version appears, its hash changes with its kinds, and it goes with its last CRD', async () => {
    const group = `${uniqueName('oa')}.lbc.dev`;
    const crd = (plural: string, kind: string) => ({
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: `${plural}.${group}` },
      spec: { group, scope: 'Namespaced', names: { plural, kind }, versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', description: `${kind} spec`, properties: { size: { type: 'integer' } } } } } } }] },
    });
    const entry = async () => (expectOk(await ctx.raw('GET', '/openapi/v3')).paths[`apis/${group}/v1`] as Json)?.serverRelativeURL as string | undefined;
    expect(await entry()).toBeUndefined();
    expectOk(await ctx.raw('POST', CRD_PATH, { body: crd('alphas', 'Alpha') }), 201);
    const first = await eventually(async () => {
      const url = await entry();
      expect(url).toMatch(/\?hash=[0-9A-F]+$/);
      return url!;
    }, 20_000);
    expect(expectOk(await ctx.raw('GET', first)).components.schemas[definitionName(group, 'v1', 'Alpha')].properties.spec.description).toBe('Alpha spec');
    expectOk(await ctx.raw('POST', CRD_PATH, { body: crd('betas', 'Beta') }), 201);
    const second = await eventually(async () => {
      const url = await entry();
      expect(url).not.toBe(first);
      const doc = expectOk(await ctx.raw('GET', url!));
      expect(Object.keys(doc.components.schemas)).toEqual(expect.arrayContaining([definitionName(group, 'v1', 'Alpha'), definitionName(group, 'v1', 'Beta')]));
      return url!;
    }, 20_000);
    expect(second).toMatch(/\?hash=[0-9A-F]+$/);
    expectOk(await ctx.raw('DELETE', `${CRD_PATH}/alphas.${group}`));
    expectOk(await ctx.raw('DELETE', `${CRD_PATH}/betas.${group}`));
    await eventually(async () => expect(await entry()).toBeUndefined(), 30_000);
  });

  it.skipIf(!hasKubectl)('kubectl explain reads a CRD kind and its fields from the published schema', async () => {
    const crd = installed.find((c) => c.metadata.name === 'ipaddresspools.metallb.io');
    const spec = crd.spec.versions.find((v: Json) => v.name === 'v1beta1').schema.openAPIV3Schema.properties.spec;
    const out = await kubectl('explain', 'ipaddresspools.spec');
    expect(out.stderr).toBe('');
    const lines = out.stdout.split('\n');
    expect(lines.slice(0, 5)).toEqual(['GROUP:      metallb.io', 'KIND:       IPAddressPool', 'VERSION:    v1beta1', '', 'FIELD: spec <Object>']);
    expect(lines).toContain(`    ${spec.description}`);
    const fields = lines.flatMap((l) => /^ {2}(\S+)\t(<.*)$/.exec(l)?.slice(1, 3).join(' ') ?? []);
    expect(fields).toEqual(['addresses <[]string> -required-', 'autoAssign <boolean>', 'avoidBuggyIPs <boolean>', 'serviceAllocation <Object>']);

    // Against the HTTPRoute CRD as served now (the other CRD contract file may be changing its channel).
    await eventually(async () => {
      const route = await kubectl('explain', 'httproute.spec.rules');
      expect(route.stdout.split('\n').slice(0, 5)).toEqual(['GROUP:      gateway.networking.k8s.io', 'KIND:       HTTPRoute', 'VERSION:    v1', '', 'FIELD: rules <[]Object>']);
      const served = expectOk(await ctx.raw('GET', `${CRD_PATH}/httproutes.gateway.networking.k8s.io`));
      const rules = served.spec.versions.find((v: Json) => v.name === 'v1').schema.openAPIV3Schema.properties.spec.properties.rules.items.properties;
      const ruleFields = route.stdout.split('\n').flatMap((l) => /^ {2}(\S+)\t</.exec(l)?.[1] ?? []);
      expect(ruleFields).toEqual(Object.keys(rules).sort());
    }, 20_000);

    // metadata resolves through the published ObjectMeta.
    const top = await kubectl('explain', 'httproute');
    expect(top.stdout).toMatch(/^ {2}metadata\t<ObjectMeta>$/m);
    const meta = await kubectl('explain', 'ipaddresspool.metadata.ownerReferences');
    expect(meta.stdout).toMatch(/^FIELD: ownerReferences <\[\]OwnerReference>$/m);
    expect(meta.stdout).toMatch(/^ {2}uid\t<string> -required-$/m);
  });

  it('fieldValidation=Strict refuses a create or replace naming unknown fields (metadata first, then sorted) or a key given twice, before validating', async () => {
    const body = { ...poolBody('strict-a', { foo: 1, serviceAllocation: { bar: 2 } }, { bogus: 1, ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'c', uid: 'u', zzz: 1 }] }), top: 3 };
    const st = expectStatus(await ctx.raw('POST', pool(), { body, query: { fieldValidation: 'Strict' } }), 400, 'BadRequest');
    expect(st.message).toBe('IPAddressPool in version "v1beta1" cannot be handled as a IPAddressPool: strict decoding error: unknown field "metadata.bogus", unknown field "metadata.ownerReferences[0].zzz", unknown field "spec.foo", unknown field "spec.serviceAllocation.bar", unknown field "top"');
    expect(st.details).toBeUndefined();

    // An unknown field is reported before the object is validated (spec.addresses is required).
    const noAddresses = { apiVersion: 'metallb.io/v1beta1', kind: 'IPAddressPool', metadata: { name: 'strict-b' }, spec: { foo: 1 } };
    expect(expectStatus(await ctx.raw('POST', pool(), { body: noAddresses, query: { fieldValidation: 'Strict' } }), 400, 'BadRequest').message)
      .toBe('IPAddressPool in version "v1beta1" cannot be handled as a IPAddressPool: strict decoding error: unknown field "spec.foo"');

    const twice = '{"apiVersion":"gateway.networking.k8s.io/v1","kind":"HTTPRoute","metadata":{"name":"r","name":"dup"},"spec":{"rules":[{"matches":[{"path":{"type":"PathPrefix","value":"/","type":"Exact"}}],"y":2}]},"spec":{}}';
    expect(expectStatus(await ctx.raw('POST', routes(), { body: twice, query: { fieldValidation: 'Strict', dryRun: 'All' } }), 400, 'BadRequest').message)
      .toBe('HTTPRoute in version "v1" cannot be handled as a HTTPRoute: strict decoding error: duplicate field "metadata.name", duplicate field "spec.rules[0].matches[0].path.type", duplicate field "spec"');

    const created = expectOk(await ctx.raw('POST', pool(), { body: poolBody('strict-c'), query: { fieldValidation: 'Strict' } }), 201);
    const replaced = { ...poolBody('strict-c', { foo: 1 }), metadata: { name: 'strict-c', resourceVersion: created.metadata.resourceVersion } };
    expect(expectStatus(await ctx.raw('PUT', pool('strict-c'), { body: replaced, query: { fieldValidation: 'Strict' } }), 400, 'BadRequest').message)
      .toBe('IPAddressPool in version "v1beta1" cannot be handled as a IPAddressPool: strict decoding error: unknown field "spec.foo"');
    expect(expectOk(await ctx.raw('GET', pool('strict-c'))).metadata.resourceVersion).toBe(created.metadata.resourceVersion);
  });

  it('fieldValidation=Strict refuses a patch whose result has unknown or duplicate fields with 422 on "patch", the status subresource included', async () => {
    expectOk(await ctx.raw('POST', pool(), { body: poolBody('strict-p') }), 201);
    const refused = (res: Awaited<ReturnType<typeof ctx.raw>>, errors: string) => {
      const st = expectStatus(res, 422, 'Invalid');
      // The value is the patched object as the server serializes it (with its managedFields on a real one).
      const message = new RegExp(`^Invalid value: "\\{\\\\"apiVersion\\\\":\\\\"metallb.io/v1beta1\\\\",\\\\"kind\\\\":\\\\"IPAddressPool\\\\",\\\\"metadata\\\\":\\{.*\\}": strict decoding error: ${errors.replace(/[[\]]/g, '\\$&')}$`);
      expect(st.message.startsWith(' "" is invalid: patch: ')).toBe(true);
      expect(st.message.slice(' "" is invalid: patch: '.length)).toMatch(message);
      expect(st.details.causes).toHaveLength(1);
      expect(st.details.causes[0]).toMatchObject({ reason: 'FieldValueInvalid', field: 'patch' });
      expect(st.details.causes[0].message).toMatch(message);
      expect(Object.keys(st.details)).toEqual(['causes']);
    };
    refused(await ctx.raw('PATCH', pool('strict-p'), { body: { spec: { foo: 1 } }, contentType: PatchStrategy.MergePatch, query: { fieldValidation: 'Strict' } }), 'unknown field "spec.foo"');
    refused(await ctx.raw('PATCH', pool('strict-p'), { body: [{ op: 'add', path: '/spec/foo', value: 1 }], contentType: PatchStrategy.JsonPatch, query: { fieldValidation: 'Strict' } }), 'unknown field "spec.foo"');
    refused(await ctx.raw('PATCH', pool('strict-p'), { body: '{"spec":{"autoAssign":true,"autoAssign":false}}', contentType: PatchStrategy.MergePatch, query: { fieldValidation: 'Strict' } }), 'duplicate field "spec.autoAssign"');
    // A JSON patch's values are kept as sent: a key given twice is reported in the patch and where it lands.
    refused(await ctx.raw('PATCH', pool('strict-p'), { body: '[{"op":"add","path":"/spec/serviceAllocation","value":{"priority":1,"priority":2}}]', contentType: PatchStrategy.JsonPatch, query: { fieldValidation: 'Strict' } }),
      'json patch duplicate field "[0].value.priority", duplicate field "spec.serviceAllocation.priority"');
    // Through /status the whole object is decoded: an unknown spec field is refused there too.
    refused(await ctx.raw('PATCH', pool('strict-p', 'status'), { body: { spec: { foo: 1 } }, contentType: PatchStrategy.MergePatch, query: { fieldValidation: 'Strict' } }), 'unknown field "spec.foo"');
    refused(await ctx.raw('PATCH', pool('strict-p', 'status'), { body: { status: { foo: 1 } }, contentType: PatchStrategy.MergePatch, query: { fieldValidation: 'Strict' } }), 'unknown field "status.foo"');
  });

  it('fieldValidation=Warn (and no fieldValidation) accepts and warns once per field, even when validation then refuses; Ignore drops silently', async () => {
    const body = { ...poolBody('warn-a', { foo: 1 }, { bogus: 1 }), top: 3 };
    const warnings = ['299 - "unknown field \\"metadata.bogus\\""', '299 - "unknown field \\"spec.foo\\""', '299 - "unknown field \\"top\\""'];
    for (const fieldValidation of ['Warn', undefined]) {
      const res = await ctx.raw('POST', pool(), { body, query: { fieldValidation, dryRun: 'All' } });
      const created = expectOk(res, 201);
      expect(res.headers.warning?.split(', ')).toEqual(warnings);
      expect(created.spec).toEqual({ addresses: ['192.0.2.0/28'], autoAssign: true, avoidBuggyIPs: false });
      expect(created.top).toBeUndefined();
      expect(created.metadata.bogus).toBeUndefined();
    }
    const ignored = await ctx.raw('POST', pool(), { body, query: { fieldValidation: 'Ignore', dryRun: 'All' } });
    expect(expectOk(ignored, 201).spec).toEqual({ addresses: ['192.0.2.0/28'], autoAssign: true, avoidBuggyIPs: false });
    expect(ignored.headers.warning).toBeUndefined();

    const route = '{"apiVersion":"gateway.networking.k8s.io/v1","kind":"HTTPRoute","metadata":{"name":"r"},"spec":{"rules":[{"matches":[{"path":{"type":"PathPrefix","value":"//","type":"PathPrefix"}}],"y":2}]}}';
    const invalid = await ctx.raw('POST', routes(), { body: route, query: { fieldValidation: 'Warn', dryRun: 'All' } });
    expect(expectStatus(invalid, 422, 'Invalid').message).toBe(`HTTPRoute.gateway.networking.k8s.io "r" is invalid: spec.rules[0].matches[0].path: Invalid value: "object": must not contain '//' when type one of ['Exact', 'PathPrefix']`);
    expect(invalid.headers.warning?.split(', ')).toEqual(['299 - "duplicate field \\"spec.rules[0].matches[0].path.type\\""', '299 - "unknown field \\"spec.rules[0].y\\""']);

    expectOk(await ctx.raw('POST', pool(), { body: poolBody('warn-p') }), 201);
    const patched = await ctx.raw('PATCH', pool('warn-p'), { body: { spec: { foo: 1 } }, contentType: PatchStrategy.MergePatch });
    expect(expectOk(patched).spec.foo).toBeUndefined();
    expect(patched.headers.warning).toBe('299 - "unknown field \\"spec.foo\\""');
  });

  it('an unknown fieldValidation value is refused with 422 naming the request options, for any kind', async () => {
    const cases: Array<[string, string, string, Json?]> = [
      ['POST', 'CreateOptions', pool(), poolBody('opt-a')],
      ['PUT', 'UpdateOptions', pool('never-made'), poolBody('never-made')],
      ['PATCH', 'PatchOptions', pool('never-made'), {}],
      ['POST', 'CreateOptions', `/api/v1/namespaces/${ctx.ns}/configmaps`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'opt-c' } }],
    ];
    for (const [method, kind, path, body] of cases) {
      const res = await ctx.raw(method, path, { body, query: { fieldValidation: 'strict', dryRun: 'All' }, contentType: method === 'PATCH' ? PatchStrategy.MergePatch : undefined });
      const st = expectStatus(res, 422, 'Invalid');
      expect(st.message).toBe(`${kind}.meta.k8s.io "" is invalid: fieldValidation: Unsupported value: "strict": supported values: "", "Ignore", "Strict", "Warn"`);
      expect(st.details).toEqual({ group: 'meta.k8s.io', kind, causes: [{ reason: 'FieldValueNotSupported', message: 'Unsupported value: "strict": supported values: "", "Ignore", "Strict", "Warn"', field: 'fieldValidation' }] });
    }
  });

  it.skipIf(!hasKubectl)('kubectl apply refuses a custom resource with an unknown field (server-side Strict), --validate=warn warns, --validate=false drops it', async () => {
    const file = join(dir, 'pool-unknown.json');
    const manifest = (spec: Json) => JSON.stringify({ apiVersion: 'metallb.io/v1beta1', kind: 'IPAddressPool', metadata: { name: 'applied-u', namespace: ctx.ns }, spec: { addresses: ['192.0.2.64/28'], autoAssign: true, avoidBuggyIPs: false, ...spec } });
    writeFileSync(file, manifest({ foo: 1 }));
    const strict = await kubectl('apply', '-f', file);
    expect(strict.code).not.toBe(0);
    expect(strict.stderr.trim()).toBe(`Error from server (BadRequest): error when creating "${file}": IPAddressPool in version "v1beta1" cannot be handled as a IPAddressPool: strict decoding error: unknown field "spec.foo"`);
    expect((await ctx.raw('GET', pool('applied-u'))).status).toBe(404);

    const warned = await kubectl('apply', '--validate=warn', '-f', file);
    expect(warned.code, warned.stderr).toBe(0);
    expect(warned.stdout.trim()).toBe('ipaddresspool.metallb.io/applied-u created');
    expect(warned.stderr.trim()).toBe('Warning: unknown field "spec.foo"');
    expect(expectOk(await ctx.raw('GET', pool('applied-u'))).spec.foo).toBeUndefined();

    // An update of the applied object goes as a merge patch: refused under Strict as a patch is.
    writeFileSync(file, manifest({ bar: 2 }));
    const patch = await kubectl('apply', '-f', file);
    expect(patch.code).not.toBe(0);
    expect(patch.stderr.trim()).toMatch(/^The request is invalid: patch: Invalid value: "\{.*\}": strict decoding error: unknown field "spec.bar"$/s);

    const ignored = await kubectl('apply', '--validate=false', '-f', file);
    expect(ignored.code, ignored.stderr).toBe(0);
    expect(ignored.stderr).toBe('');
    expect(ignored.stdout.trim()).toBe('ipaddresspool.metallb.io/applied-u configured');
    expect(expectOk(await ctx.raw('GET', pool('applied-u'))).spec).toEqual({ addresses: ['192.0.2.64/28'], autoAssign: true, avoidBuggyIPs: false });
  });
});
