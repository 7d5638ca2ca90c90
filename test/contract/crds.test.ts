// Contract: CustomResourceDefinitions and custom resources — every upstream CRD lbc speaks
// for (Gateway API v1.4.0 standard then experimental, MetalLB v0.16.1,
// aws-load-balancer-controller v3.5.0) installs and becomes Established, CRDs are listed and
// watched, and objects of each project, namespaced and cluster-scoped, are served: CRUD, list
// selectors and pages, watch, merge and JSON patch, the status subresource, printer columns
// through kubectl, finalizers, several versions over one storage, CRD deletion removing its
// objects, and the schemas' validation (invalid objects refused with the real causes, valid
// ones pruned and defaulted as the real server stores them). /openapi/v3 and fieldValidation
// are in crds-openapi.test.ts.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { invalidCases, normalizedCases, validCases, widgetCases, widgetCrd as recordedWidgetCrd, type RecordedCase } from '../devcluster/crd-schema.recorded.js';
import { CRD_PATH, CRDS, crdEstablished, crdFiles, crdsIn, installCrd } from './crds-support.js';
import { eventually, expectOk, expectStatus, kubectlTable, PatchStrategy, rawWatch, runKubectl, uniqueName, useContractCluster, type Json } from './support.js';

const hasKubectl = !spawnSync('kubectl', ['version', '--client'], { stdio: 'ignore' }).error;

const ctx = useContractCluster('crds');
let dir = '';

const install = (crd: Json) => installCrd(ctx, crd);
const established = (name: string) => crdEstablished(ctx, name);

function kubectl(...args: string[]): Promise<string> {
  return runKubectl(ctx.cluster.kubeconfigPath, ['--cache-dir', join(dir, 'cache'), '-n', ctx.ns, ...args]);
}

const table = kubectlTable;

const AGE = /^\d+[smhd](\d+[smh])?$/;
const gw = (name?: string, sub?: string) => `/apis/gateway.networking.k8s.io/v1/namespaces/${ctx.ns}/gateways${name ? `/${name}` : ''}${sub ? `/${sub}` : ''}`;
const gwc = (name?: string) => `/apis/gateway.networking.k8s.io/v1/gatewayclasses${name ? `/${name}` : ''}`;
const pool = (name?: string) => `/apis/metallb.io/v1beta1/namespaces/${ctx.ns}/ipaddresspools${name ? `/${name}` : ''}`;
const tgb = (version: string, name?: string, sub?: string) => `/apis/elbv2.k8s.aws/${version}/namespaces/${ctx.ns}/targetgroupbindings${name ? `/${name}` : ''}${sub ? `/${sub}` : ''}`;

function gateway(name: string, labels: Record<string, string> = {}): Json {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'Gateway',
    metadata: { name, labels },
    spec: { gatewayClassName: 'lbc-ct', listeners: [{ name: 'http', port: 80, protocol: 'HTTP' }] },
  };
}

/** A CRD of this test's own (unique group), to delete and to serve several versions from. */
function widgetCrd(group: string): Json {
  const schema = { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', properties: { size: { type: 'integer' } } }, status: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } } };
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `widgets.${group}` },
    spec: {
      group,
      scope: 'Namespaced',
      names: { plural: 'widgets', singular: 'widget', kind: 'Widget', shortNames: ['wdg'] },
      versions: [
        { name: 'v1', served: true, storage: true, schema, subresources: { status: {} } },
        { name: 'v1beta1', served: true, storage: false, schema, subresources: { status: {} } },
        { name: 'v1alpha1', served: false, storage: false, schema },
      ],
    },
  };
}

describe('CustomResourceDefinitions', () => {
  const installed: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lbc-ct-crds-'));
    // Standard first, then experimental over it (an update of the same CRDs), as users upgrade.
    const files = [
      ...crdFiles('gateway-api-v1.4.0/standard'),
      ...crdFiles('gateway-api-v1.4.0/experimental'),
      ...crdFiles('metallb-v0.16.1'),
      ...crdFiles('aws-load-balancer-controller-v3.5.0'),
      ...crdFiles('aws-load-balancer-controller-v3.5.0/gateway'),
    ];
    for (const file of files) {
      for (const crd of crdsIn(file)) {
        await install(crd);
        installed.push(crd.metadata.name);
      }
    }
    expectOk(await ctx.raw('POST', gwc(), { body: { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'GatewayClass', metadata: { name: 'lbc-ct' }, spec: { controllerName: 'lbc.dev/contract' } } }).then((r) => (r.status === 409 ? { ...r, status: 201 } : r)));
  }, 120_000);
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('every upstream CRD becomes Established with its names accepted and its storage version recorded', async () => {
    expect(installed.length).toBeGreaterThanOrEqual(25);
    for (const name of new Set(installed)) {
      const crd = await established(name);
      const storage = crd.spec.versions.find((v: Json) => v.storage).name;
      expect(crd.status.storedVersions).toContain(storage);
      expect(crd.status.acceptedNames).toMatchObject({ plural: crd.spec.names.plural, kind: crd.spec.names.kind });
    }
  });

  it('discovery lists the custom resources with short names, categories and every served version', async () => {
    const group = expectOk(await ctx.raw('GET', '/apis/gateway.networking.k8s.io'));
    expect(group.versions.map((v: Json) => v.version)).toEqual(expect.arrayContaining(['v1', 'v1beta1', 'v1alpha2']));
    expect(group.preferredVersion.version).toBe('v1');
    const list = expectOk(await ctx.raw('GET', '/apis/gateway.networking.k8s.io/v1'));
    const gateways = list.resources.find((r: Json) => r.name === 'gateways');
    expect(gateways).toMatchObject({ kind: 'Gateway', namespaced: true, singularName: 'gateway', shortNames: ['gtw'], categories: ['gateway-api'] });
    expect(list.resources.map((r: Json) => r.name)).toContain('gateways/status');
    const classes = list.resources.find((r: Json) => r.name === 'gatewayclasses');
    expect(classes).toMatchObject({ kind: 'GatewayClass', namespaced: false });
  });

  it('Gateway API: create, get, list by label and name, page, merge and JSON patch, delete', async () => {
    const created = expectOk(await ctx.raw('POST', gw(), { body: gateway('gw-a', { tier: 'a' }) }), 201);
    expect(created).toMatchObject({ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', metadata: { name: 'gw-a', namespace: ctx.ns, generation: 1 } });
    expectOk(await ctx.raw('POST', gw(), { body: gateway('gw-b', { tier: 'b' }) }), 201);
    expectOk(await ctx.raw('POST', gw(), { body: gateway('gw-c', { tier: 'b' }) }), 201);

    const got = expectOk(await ctx.raw('GET', gw('gw-a')));
    expect(got.metadata.uid).toBe(created.metadata.uid);
    expect(got.spec.gatewayClassName).toBe('lbc-ct');

    const byLabel = expectOk(await ctx.raw('GET', gw(), { query: { labelSelector: 'tier=b' } }));
    expect(byLabel.kind).toBe('GatewayList');
    expect(byLabel.items.map((i: Json) => i.metadata.name)).toEqual(['gw-b', 'gw-c']);
    const byName = expectOk(await ctx.raw('GET', gw(), { query: { fieldSelector: 'metadata.name=gw-c' } }));
    expect(byName.items.map((i: Json) => i.metadata.name)).toEqual(['gw-c']);
    const byNs = expectOk(await ctx.raw('GET', '/apis/gateway.networking.k8s.io/v1/gateways', { query: { fieldSelector: `metadata.namespace=${ctx.ns}` } }));
    expect(byNs.items.map((i: Json) => i.metadata.name)).toEqual(['gw-a', 'gw-b', 'gw-c']);
    const badField = expectStatus(await ctx.raw('GET', gw(), { query: { fieldSelector: 'spec.gatewayClassName=lbc-ct' } }), 400, 'BadRequest');
    expect(badField.message).toContain('spec.gatewayClassName');

    const page1 = expectOk(await ctx.raw('GET', gw(), { query: { limit: 2 } }));
    expect(page1.items.map((i: Json) => i.metadata.name)).toEqual(['gw-a', 'gw-b']);
    expect(page1.metadata.continue).toBeTruthy();
    const page2 = expectOk(await ctx.raw('GET', gw(), { query: { limit: 2, continue: page1.metadata.continue } }));
    expect(page2.items.map((i: Json) => i.metadata.name)).toEqual(['gw-c']);
    expect(page2.metadata.continue ?? '').toBe('');

    const merged = expectOk(await ctx.raw('PATCH', gw('gw-a'), { body: { metadata: { labels: { tier: 'z' } }, spec: { listeners: [{ name: 'http', port: 8080, protocol: 'HTTP' }] } }, contentType: PatchStrategy.MergePatch }));
    expect(merged.metadata.labels).toEqual({ tier: 'z' });
    expect(merged.spec.listeners[0].port).toBe(8080);
    expect(merged.metadata.generation).toBe(2);
    const labelOnly = expectOk(await ctx.raw('PATCH', gw('gw-a'), { body: { metadata: { labels: { tier: 'y' } } }, contentType: PatchStrategy.MergePatch }));
    expect(labelOnly.metadata.generation).toBe(2);
    const jsonPatched = expectOk(await ctx.raw('PATCH', gw('gw-a'), { body: [{ op: 'replace', path: '/spec/listeners/0/port', value: 8081 }], contentType: PatchStrategy.JsonPatch }));
    expect(jsonPatched.spec.listeners[0].port).toBe(8081);
    expect(jsonPatched.metadata.generation).toBe(3);

    const deleted = expectOk(await ctx.raw('DELETE', gw('gw-b')));
    expect(deleted).toMatchObject({ kind: 'Status', status: 'Success', details: { name: 'gw-b', group: 'gateway.networking.k8s.io', kind: 'gateways' } });
    expectStatus(await ctx.raw('GET', gw('gw-b')), 404, 'NotFound');
  });

  it('a cluster-scoped custom resource (GatewayClass): get, list, merge patch, delete, outside any namespace', async () => {
    const name = uniqueName('gwc');
    const made = expectOk(await ctx.raw('POST', gwc(), { body: { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'GatewayClass', metadata: { name, labels: { probe: name } }, spec: { controllerName: 'lbc.dev/contract' } } }), 201);
    expect(made.metadata.namespace).toBeUndefined();
    const listed = expectOk(await ctx.raw('GET', gwc(), { query: { labelSelector: `probe=${name}` } }));
    expect(listed.items.map((i: Json) => i.metadata.name)).toEqual([name]);
    const patched = expectOk(await ctx.raw('PATCH', gwc(name), { body: { spec: { description: 'probe' } }, contentType: PatchStrategy.MergePatch }));
    expect(patched.spec).toMatchObject({ controllerName: 'lbc.dev/contract', description: 'probe' });
    expect(patched.metadata.generation).toBe(2);
    // No namespaced path for it.
    expect((await ctx.raw('GET', `/apis/gateway.networking.k8s.io/v1/namespaces/${ctx.ns}/gatewayclasses/${name}`)).status).toBe(404);
    expectOk(await ctx.raw('DELETE', gwc(name)));
    expectStatus(await ctx.raw('GET', gwc(name)), 404, 'NotFound');
  });

  it('a deprecated version answers with its deprecation warning (MetalLB BGPPeer v1beta1), the others with none', async () => {
    const old = await ctx.raw('GET', `/apis/metallb.io/v1beta1/namespaces/${ctx.ns}/bgppeers`);
    expect(old.status).toBe(200);
    expect(old.headers.warning).toBe('299 - "v1beta1 is deprecated, please use v1beta2"');
    const current = await ctx.raw('GET', `/apis/metallb.io/v1beta2/namespaces/${ctx.ns}/bgppeers`);
    expect(current.status).toBe(200);
    expect(current.headers.warning).toBeUndefined();
  });

  it('a custom resource refuses a strategic merge patch with 415, as it has no patch strategies', async () => {
    const res = await ctx.raw('PATCH', gw('gw-c'), { body: { spec: { gatewayClassName: 'x' } }, contentType: PatchStrategy.StrategicMergePatch });
    const st = expectStatus(res, 415, 'UnsupportedMediaType');
    expect(st.message).toBe('the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml');
  });

  it('a body of another kind or version is refused', async () => {
    const other = expectStatus(await ctx.raw('POST', gw(), { body: { ...gateway('gw-x'), kind: 'HTTPRoute' } }), 422, 'Invalid');
    expect(other.message).toBe('HTTPRoute.gateway.networking.k8s.io "gw-x" is invalid: kind: Invalid value: "HTTPRoute": must be Gateway');
    const version = expectStatus(await ctx.raw('POST', gw(), { body: { ...gateway('gw-x'), apiVersion: 'gateway.networking.k8s.io/v1beta1' } }), 400, 'BadRequest');
    expect(version.message).toBe('the API version in the data (gateway.networking.k8s.io/v1beta1) does not match the expected API version (gateway.networking.k8s.io/v1)');
  });

  it('watch: ADDED, MODIFIED, DELETED of a MetalLB IPAddressPool, and BOOKMARKs when allowed', async () => {
    const list = expectOk(await ctx.raw('GET', pool()));
    const w = await rawWatch(ctx.kc, pool(), { resourceVersion: list.metadata.resourceVersion, allowWatchBookmarks: true, timeoutSeconds: 7 });
    expect(w.status).toBe(200);
    const body = { apiVersion: 'metallb.io/v1beta1', kind: 'IPAddressPool', metadata: { name: 'pool-a' }, spec: { addresses: ['192.0.2.0/28'], autoAssign: true, avoidBuggyIPs: false } };
    const created = expectOk(await ctx.raw('POST', pool(), { body }), 201);
    expectOk(await ctx.raw('PATCH', pool('pool-a'), { body: { spec: { addresses: ['192.0.2.0/27'] } }, contentType: PatchStrategy.MergePatch }));
    expectOk(await ctx.raw('DELETE', pool('pool-a')));
    await w.q.waitEnd(10_000);
    const events = w.q.events;
    expect(events.filter((e) => e.type !== 'BOOKMARK').map((e) => [e.type, e.object.metadata.name])).toEqual([
      ['ADDED', 'pool-a'],
      ['MODIFIED', 'pool-a'],
      ['DELETED', 'pool-a'],
    ]);
    expect(events[0]?.object).toMatchObject({ apiVersion: 'metallb.io/v1beta1', kind: 'IPAddressPool', metadata: { uid: created.metadata.uid } });
    const bookmarks = events.filter((e) => e.type === 'BOOKMARK');
    expect(bookmarks.length).toBeGreaterThanOrEqual(1);
    expect(bookmarks[0]?.object).toMatchObject({ apiVersion: 'metallb.io/v1beta1', kind: 'IPAddressPool' });
  });

  it('status subresource (aws-load-balancer-controller TargetGroupBinding): status only through /status, spec never', async () => {
    const body = {
      apiVersion: 'elbv2.k8s.aws/v1beta1',
      kind: 'TargetGroupBinding',
      metadata: { name: 'tgb-a' },
      spec: { serviceRef: { name: 'web', port: 80 }, targetGroupARN: 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web/0123456789abcdef', targetType: 'ip' },
      status: { observedGeneration: 7 },
    };
    const created = expectOk(await ctx.raw('POST', tgb('v1beta1'), { body }), 201);
    // Status as sent on create is dropped.
    expect(created.status ?? {}).toEqual({});
    const viaMain = expectOk(await ctx.raw('PATCH', tgb('v1beta1', 'tgb-a'), { body: { status: { observedGeneration: 1 } }, contentType: PatchStrategy.MergePatch }));
    expect(viaMain.status ?? {}).toEqual({});
    expect(viaMain.metadata.resourceVersion).toBe(created.metadata.resourceVersion);
    const viaStatus = expectOk(await ctx.raw('PATCH', tgb('v1beta1', 'tgb-a', 'status'), { body: { spec: { targetType: 'instance' }, status: { observedGeneration: 1 } }, contentType: PatchStrategy.MergePatch }));
    expect(viaStatus.status).toEqual({ observedGeneration: 1 });
    expect(viaStatus.spec.targetType).toBe('ip');
    expect(viaStatus.metadata.generation).toBe(1);
    // The same object through the other served version: one storage, apiVersion rewritten.
    const alpha = expectOk(await ctx.raw('GET', tgb('v1alpha1', 'tgb-a')));
    expect(alpha).toMatchObject({ apiVersion: 'elbv2.k8s.aws/v1alpha1', kind: 'TargetGroupBinding', metadata: { uid: created.metadata.uid }, status: { observedGeneration: 1 } });
  });

  it.skipIf(!hasKubectl)('kubectl get prints the CRD printer columns, finds kinds by short name and category', async () => {
    expectOk(await ctx.raw('PATCH', gw('gw-a', 'status'), {
      body: { status: { addresses: [{ type: 'IPAddress', value: '192.0.2.10' }], conditions: [{ type: 'Programmed', status: 'True', reason: 'Programmed', message: 'ok', lastTransitionTime: '2026-01-01T00:00:00Z', observedGeneration: 3 }] } },
      contentType: PatchStrategy.MergePatch,
    }));
    const t = table(await kubectl('get', 'gtw', 'gw-a'));
    expect(t.header).toEqual(['NAME', 'CLASS', 'ADDRESS', 'PROGRAMMED', 'AGE']);
    expect(t.rows[0]?.slice(0, 4)).toEqual(['gw-a', 'lbc-ct', '192.0.2.10', 'True']);
    expect(t.rows[0]?.[4]).toMatch(AGE);

    // No address yet: an empty cell; PROGRAMMED is what the schema defaults status.conditions to.
    const unprogrammed = table(await kubectl('get', 'gateways', 'gw-c'));
    expect(unprogrammed.rows[0]?.slice(0, 4)).toEqual(['gw-c', 'lbc-ct', '', 'Unknown']);

    expectOk(await ctx.raw('POST', pool(), { body: { apiVersion: 'metallb.io/v1beta1', kind: 'IPAddressPool', metadata: { name: 'pool-b' }, spec: { addresses: ['198.51.100.0/28', '203.0.113.1-203.0.113.9'], autoAssign: false, avoidBuggyIPs: true } } }), 201);
    const pools = table(await kubectl('get', 'ipaddresspools.metallb.io'));
    expect(pools.header).toEqual(['NAME', 'AUTO ASSIGN', 'AVOID BUGGY IPS', 'ADDRESSES']);
    expect(pools.rows).toEqual([['pool-b', 'false', 'true', '["198.51.100.0/28","203.0.113.1-203.0.113.9"]']]);

    const bindings = table(await kubectl('get', 'targetgroupbindings'));
    expect(bindings.header).toEqual(['NAME', 'SERVICE-NAME', 'SERVICE-PORT', 'TARGET-TYPE', 'AGE']);
    expect(bindings.rows[0]?.slice(0, 4)).toEqual(['tgb-a', 'web', '80', 'ip']);

    const category = await kubectl('get', 'gateway-api');
    expect(category).toContain('gateway.gateway.networking.k8s.io/gw-a');
    expect(category).toContain('gateway.gateway.networking.k8s.io/gw-c');
  });

  it.skipIf(!hasKubectl)('kubectl apply creates, configures and leaves unchanged a custom resource (fieldValidation=Strict)', async () => {
    // A MetalLB pool with every defaulted field given: a list the schema defaults into (Gateway
    // listeners) would differ from the manifest and make every re-apply "configured".
    const manifest = (addresses: string[]) => JSON.stringify({
      apiVersion: 'metallb.io/v1beta1',
      kind: 'IPAddressPool',
      metadata: { name: 'pool-applied', namespace: ctx.ns },
      spec: { addresses, autoAssign: true, avoidBuggyIPs: false },
    });
    const file = join(dir, 'pool.json');
    writeFileSync(file, manifest(['192.0.2.64/28']));
    expect((await kubectl('apply', '-f', file)).trim()).toBe('ipaddresspool.metallb.io/pool-applied created');
    writeFileSync(file, manifest(['192.0.2.64/28', '192.0.2.96/28']));
    expect((await kubectl('apply', '-f', file)).trim()).toBe('ipaddresspool.metallb.io/pool-applied configured');
    expect((await kubectl('apply', '-f', file)).trim()).toBe('ipaddresspool.metallb.io/pool-applied unchanged');
    const applied = expectOk(await ctx.raw('GET', pool('pool-applied')));
    expect(applied.spec.addresses).toEqual(['192.0.2.64/28', '192.0.2.96/28']);
    expect(applied.metadata.generation).toBe(2);
  });

  it('finalizers hold a deleted custom resource until they are removed', async () => {
    expectOk(await ctx.raw('POST', gw(), { body: { ...gateway('gw-fin'), metadata: { name: 'gw-fin', finalizers: ['lbc.dev/hold'] } } }), 201);
    const marked = expectOk(await ctx.raw('DELETE', gw('gw-fin')));
    expect(marked.metadata.deletionTimestamp).toBeTruthy();
    expect(marked.metadata.finalizers).toEqual(['lbc.dev/hold']);
    expect(expectOk(await ctx.raw('GET', gw('gw-fin'))).metadata.deletionTimestamp).toBe(marked.metadata.deletionTimestamp);
    expectOk(await ctx.raw('PATCH', gw('gw-fin'), { body: { metadata: { finalizers: null } }, contentType: PatchStrategy.MergePatch }));
    expectStatus(await ctx.raw('GET', gw('gw-fin')), 404, 'NotFound');
  });

  it('a CRD serves each served version over one storage, answers 404 for an unserved one, and its deletion removes its objects', async () => {
    const group = `${uniqueName('ct')}.lbc.dev`;
    const crd = widgetCrd(group);
    expectOk(await ctx.raw('POST', CRD_PATH, { body: crd }), 201);
    await established(crd.metadata.name);
    const path = (v: string, name?: string) => `/apis/${group}/${v}/namespaces/${ctx.ns}/widgets${name ? `/${name}` : ''}`;
    const made = await eventually(async () => expectOk(await ctx.raw('POST', path('v1beta1'), { body: { apiVersion: `${group}/v1beta1`, kind: 'Widget', metadata: { name: 'w1' }, spec: { size: 1 } } }), 201));
    expect(made.apiVersion).toBe(`${group}/v1beta1`);
    const asV1 = expectOk(await ctx.raw('GET', path('v1', 'w1')));
    expect(asV1).toMatchObject({ apiVersion: `${group}/v1`, metadata: { uid: made.metadata.uid }, spec: { size: 1 } });
    const listed = expectOk(await ctx.raw('GET', path('v1')));
    expect(listed).toMatchObject({ apiVersion: `${group}/v1`, kind: 'WidgetList' });
    // Like any path outside the built-in groups that nothing serves: the mux's plain-text 404.
    const unserved = await ctx.raw('GET', path('v1alpha1', 'w1'));
    expect([unserved.status, unserved.headers['content-type'], unserved.text]).toEqual([404, 'text/plain; charset=utf-8', '404 page not found\n']);
    const disc = expectOk(await ctx.raw('GET', `/apis/${group}`));
    expect(disc.versions.map((v: Json) => v.version)).toEqual(['v1', 'v1beta1']);

    expectOk(await ctx.raw('POST', path('v1'), { body: { apiVersion: `${group}/v1`, kind: 'Widget', metadata: { name: 'w2' } } }), 201);
    const w = await rawWatch(ctx.kc, path('v1'), { resourceVersion: asV1.metadata.resourceVersion });
    try {
      const deleting = expectOk(await ctx.raw('DELETE', `${CRD_PATH}/${crd.metadata.name}`));
      expect(deleting.metadata.deletionTimestamp).toBeTruthy();
      const gone = [await w.q.until((e) => e.type === 'DELETED'), await w.q.until((e) => e.type === 'DELETED', 20_000)];
      expect(gone.map((e) => e.object.metadata.name).sort()).toEqual(['w1', 'w2']);
      // The resource is gone, and so are its watches.
      await w.q.waitEnd(30_000);
    } finally {
      w.stop();
    }
    await eventually(async () => expectStatus(await ctx.raw('GET', `${CRD_PATH}/${crd.metadata.name}`), 404, 'NotFound'), 30_000);
    await eventually(async () => expect((await ctx.raw('GET', path('v1', 'w1'))).text).toBe('404 page not found\n'), 30_000);
  });

  it('CRDs themselves: list by label, watch ADDED, Established, MODIFIED on update and DELETED, get after delete 404', async () => {
    const group = `${uniqueName('watched')}.lbc.dev`;
    const crd = widgetCrd(group);
    crd.metadata.labels = { 'lbc.test/crd': group };
    const listed = expectOk(await ctx.raw('GET', CRD_PATH));
    const w = await rawWatch(ctx.kc, CRD_PATH, { resourceVersion: listed.metadata.resourceVersion, fieldSelector: `metadata.name=${crd.metadata.name}` });
    try {
      expectOk(await ctx.raw('POST', CRD_PATH, { body: crd }), 201);
      const isEstablished = (o: Json) => (o.status?.conditions ?? []).some((c: Json) => c.type === 'Established' && c.status === 'True');
      const added = await w.q.next(10_000);
      expect(added.type).toBe('ADDED');
      // devcluster establishes in the create itself; the real server a moment later.
      const ready = isEstablished(added.object) ? added : await w.q.until((e) => isEstablished(e.object), 20_000);
      expect(ready.object.metadata.name).toBe(crd.metadata.name);
      const byLabel = expectOk(await ctx.raw('GET', CRD_PATH, { query: { labelSelector: `lbc.test/crd=${group}` } }));
      expect(byLabel.items.map((i: Json) => i.metadata.name)).toEqual([crd.metadata.name]);
      expectOk(await ctx.raw('PATCH', `${CRD_PATH}/${crd.metadata.name}`, { body: { metadata: { labels: { tier: 'x' } } }, contentType: PatchStrategy.MergePatch }));
      const labelled = await w.q.until((e) => e.object.metadata.labels?.tier === 'x', 10_000);
      expect(labelled.type).toBe('MODIFIED');
      expectOk(await ctx.raw('DELETE', `${CRD_PATH}/${crd.metadata.name}`));
      await w.q.until((e) => e.type === 'DELETED', 30_000);
    } finally {
      w.stop();
    }
    expectStatus(await ctx.raw('GET', `${CRD_PATH}/${crd.metadata.name}`), 404, 'NotFound');
  });

  it('a CRD whose names another CRD of the group holds is not Established until they are free', async () => {
    const group = `${uniqueName('names')}.lbc.dev`;
    const named = (plural: string) => ({
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: `${plural}.${group}` },
      spec: { group, scope: 'Namespaced', names: { plural, kind: 'Alpha', shortNames: ['al'] }, versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object' } } }] },
    });
    expectOk(await ctx.raw('POST', CRD_PATH, { body: named('alphas') }), 201);
    await established(`alphas.${group}`);
    expectOk(await ctx.raw('POST', CRD_PATH, { body: named('betas') }), 201);
    const refused = await eventually(async () => {
      const crd = expectOk(await ctx.raw('GET', `${CRD_PATH}/betas.${group}`));
      const conds = Object.fromEntries((crd.status?.conditions ?? []).map((c: Json) => [c.type, c]));
      expect(conds.NamesAccepted).toMatchObject({ status: 'False', reason: 'ListKindConflict', message: '"AlphaList" is already in use' });
      return crd;
    });
    expect(Object.fromEntries(refused.status.conditions.map((c: Json) => [c.type, [c.status, c.reason, c.message]]))).toMatchObject({ Established: ['False', 'NotAccepted', 'not all names are accepted'] });
    expect(refused.status.acceptedNames).toEqual({ plural: 'betas', kind: '' });
    const disc = expectOk(await ctx.raw('GET', `/apis/${group}/v1`));
    expect(disc.resources.map((r: Json) => r.name)).toEqual(['alphas']);
    expect((await ctx.raw('GET', `/apis/${group}/v1/namespaces/${ctx.ns}/betas`)).status).toBe(404);

    expectOk(await ctx.raw('DELETE', `${CRD_PATH}/alphas.${group}`));
    const accepted = await established(`betas.${group}`);
    expect(accepted.status.acceptedNames).toMatchObject({ plural: 'betas', kind: 'Alpha', shortNames: ['al'] });
    await eventually(async () => expectOk(await ctx.raw('GET', `/apis/${group}/v1/namespaces/${ctx.ns}/betas`)), 20_000);
    expectOk(await ctx.raw('DELETE', `${CRD_PATH}/betas.${group}`));
  });

  // The objects crd-schema's own tests take from kube-apiserver v1.26's answers, sent here to
  // devcluster and to the real server alike (dry run): the upstream CRDs, and a Widget CRD made
  // to reach the schema features they do not use (nullable, multipleOf, exclusive bounds, set
  // lists, formats, CEL on durations, timestamps and int-or-string).
  const crdOf = (c: RecordedCase): Json => (c.crd ? crdsIn(join(CRDS, c.crd))[0] : recordedWidgetCrd);
  const pathOf = (c: RecordedCase): string => {
    const crd = crdOf(c);
    const [group, version] = String(c.obj.apiVersion).split('/');
    expect(group).toBe(crd.spec.group);
    const scope = crd.spec.scope === 'Namespaced' ? `namespaces/${ctx.ns}/` : '';
    return `/apis/${group}/${version}/${scope}${crd.spec.names.plural}`;
  };
  /** The case's object, in this file's namespace when its kind is namespaced. */
  const bodyOf = (c: RecordedCase): Json => {
    const { namespace: _ns, ...metadata } = (c.obj.metadata ?? {}) as Json;
    return { ...c.obj, metadata };
  };
  const widgetInstalled = async () => {
    await install(recordedWidgetCrd);
    await established(recordedWidgetCrd.metadata.name);
  };

  const refusals = [...invalidCases, ...widgetCases].filter((c) => c.old === undefined && c.causes !== undefined);
  it(`the CRDs' own schemas and CEL rules refuse ${refusals.length} invalid objects with the real server's causes`, async () => {
    expect(refusals.length).toBeGreaterThanOrEqual(30);
    await widgetInstalled();
    const order = (causes: readonly Json[]) => [...causes].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
    for (const c of refusals) {
      const res = await ctx.raw('POST', pathOf(c), { body: bodyOf(c), query: { dryRun: 'All' } });
      expect(res.status, `${c.name}: ${res.text.slice(0, 300)}`).toBe(422);
      const causes = (JSON.parse(res.text) as Json).details?.causes ?? [];
      if (c.unordered) expect(order(causes), c.name).toEqual(order(c.causes!));
      else expect(causes, c.name).toEqual(c.causes);
    }
  });

  const normalized = [...validCases, ...normalizedCases, ...widgetCases].filter((c) => c.old === undefined && c.stored !== undefined);
  it(`${normalized.length} valid objects are stored pruned (metadata included) and defaulted as the real server stores them`, async () => {
    expect(normalized.length).toBeGreaterThanOrEqual(12);
    await widgetInstalled();
    for (const c of normalized) {
      const res = await ctx.raw('POST', pathOf(c), { body: bodyOf(c), query: { dryRun: 'All', fieldValidation: 'Ignore' } });
      const { metadata, ...stored } = expectOk(res, 201);
      expect(stored, c.name).toEqual(c.stored);
      const dropped = Object.keys((c.obj.metadata ?? {}) as Json).filter((k) => !c.storedMetadataKeys!.includes(k));
      for (const k of dropped) expect(metadata, `${c.name}: metadata.${k}`).not.toHaveProperty(k);
      expect(res.headers.warning, c.name).toBeUndefined();
    }
  });

  it('a CRD whose name is not plural.group, or without one storage version, is refused with 422', async () => {
    const crd = widgetCrd('bad.lbc.dev');
    const misnamed = expectStatus(await ctx.raw('POST', CRD_PATH, { body: { ...crd, metadata: { name: 'gadgets.bad.lbc.dev' } } }), 422, 'Invalid');
    expect(misnamed.details.causes).toContainEqual({ reason: 'FieldValueInvalid', field: 'metadata.name', message: 'Invalid value: "gadgets.bad.lbc.dev": must be spec.names.plural+"."+spec.group' });
    const noStorage = { ...crd, spec: { ...crd.spec, versions: crd.spec.versions.map((v: Json) => ({ ...v, storage: false })) } };
    const st = expectStatus(await ctx.raw('POST', CRD_PATH, { body: noStorage }), 422, 'Invalid');
    const cause = st.details.causes.find((c: Json) => c.field === 'spec.versions');
    expect(cause.message).toMatch(/must have exactly one version marked as storage version$/);
    const noSchema = { ...crd, spec: { ...crd.spec, versions: [{ name: 'v1', served: true, storage: true }] } };
    const schemaless = expectStatus(await ctx.raw('POST', CRD_PATH, { body: noSchema }), 422, 'Invalid');
    expect(schemaless.details.causes).toEqual([{ reason: 'FieldValueRequired', message: 'Required value: schemas are required', field: 'spec.versions[0].schema.openAPIV3Schema' }]);

    // An update may not drop a version objects may still be stored in.
    const group = `${uniqueName('stored')}.lbc.dev`;
    const stored = widgetCrd(group);
    stored.spec.versions = [{ ...stored.spec.versions[1], storage: true }];
    expectOk(await ctx.raw('POST', CRD_PATH, { body: stored }), 201);
    const made = await established(stored.metadata.name);
    try {
      const dropped = { ...made, spec: { ...made.spec, versions: [{ ...stored.spec.versions[0], name: 'v1' }] } };
      const st2 = expectStatus(await ctx.raw('PUT', `${CRD_PATH}/${made.metadata.name}`, { body: dropped }), 422, 'Invalid');
      expect(st2.message).toBe(`CustomResourceDefinition.apiextensions.k8s.io "widgets.${group}" is invalid: status.storedVersions[0]: Invalid value: "v1beta1": must appear in spec.versions`);
    } finally {
      await ctx.raw('DELETE', `${CRD_PATH}/${made.metadata.name}`);
    }
  });
});
