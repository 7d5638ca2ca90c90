// Contract: the other kinds lbc reads and writes — Namespaces, Nodes, Secrets, ConfigMaps,
// core/v1 and events.k8s.io/v1 Events, Leases, Ingresses, IngressClasses, Endpoints.
import { V1MicroTime } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import {
  apiError,
  causeFields,
  corePath,
  eventually,
  expectOk,
  expectStatus,
  groupPath,
  mergePatch,
  uniqueName,
  useContractCluster,
  type Json,
} from './support.js';

const ctx = useContractCluster('kinds');

describe('Namespaces', () => {
  it('a new namespace is Active, labelled with its name and finalized by "kubernetes"', async () => {
    const name = uniqueName('lbc-ct-kinds-ns');
    ctx.defer(() => ctx.core.deleteNamespace({ name }));
    const ns = expectOk(await ctx.raw('POST', '/api/v1/namespaces', { body: { metadata: { name } } }), 201);
    expect(ns.kind).toBe('Namespace');
    expect(ns.metadata.namespace).toBeUndefined();
    expect(ns.metadata.labels).toEqual({ 'kubernetes.io/metadata.name': name });
    expect(ns.spec).toEqual({ finalizers: ['kubernetes'] });
    expect(ns.status).toEqual({ phase: 'Active' });
    const list = await ctx.core.listNamespace({ labelSelector: `kubernetes.io/metadata.name=${name}` });
    expect(list.items.map((n) => n.metadata?.name)).toEqual([name]);
  });

  it('deleting a namespace makes it Terminating, refuses new content, and removes it with its content', async () => {
    const name = uniqueName('lbc-ct-kinds-del');
    ctx.defer(() => ctx.core.deleteNamespace({ name }));
    expectOk(await ctx.raw('POST', '/api/v1/namespaces', { body: { metadata: { name } } }), 201);
    expectOk(await ctx.raw('POST', corePath(name, 'configmaps'), { body: { metadata: { name: 'inside' } } }), 201);
    const del = await ctx.raw('DELETE', `/api/v1/namespaces/${name}`);
    expect(del.status).toBe(200);
    expect(del.body.kind).toBe('Namespace');
    expect(del.body.metadata.deletionTimestamp).toBeTruthy();
    expect(del.body.status.phase).toBe('Terminating');

    const st = expectStatus(
      await ctx.raw('POST', corePath(name, 'configmaps'), { body: { metadata: { name: 'late' } } }),
      403,
      'Forbidden',
    );
    expect(st.message).toBe(
      `configmaps "late" is forbidden: unable to create new content in namespace ${name} because it is being terminated`,
    );
    expect(st.details).toEqual({
      name: 'late',
      kind: 'configmaps',
      causes: [{ reason: 'NamespaceTerminating', message: `namespace ${name} is being terminated`, field: 'metadata.namespace' }],
    });
    await eventually(async () => {
      expectStatus(await ctx.raw('GET', `/api/v1/namespaces/${name}`), 404, 'NotFound');
    }, 60_000, 250);
    expectStatus(await ctx.raw('GET', corePath(name, 'configmaps', 'inside')), 404, 'NotFound');
  }, 90_000);
});

describe('Nodes', () => {
  it('are cluster-scoped; status given at create is kept; /status updates conditions', async () => {
    const name = uniqueName('lbc-ct-kinds-node');
    ctx.defer(() => ctx.core.deleteNode({ name }));
    const node = expectOk(
      await ctx.raw('POST', '/api/v1/nodes', {
        body: {
          metadata: { name, labels: { 'topology.kubernetes.io/zone': 'zone-a', 'lbc.test/node': name } },
          status: { addresses: [{ type: 'InternalIP', address: '192.0.2.5' }] },
        },
      }),
      201,
    );
    expect(node.metadata.namespace).toBeUndefined();
    expect(node.status.addresses).toEqual([{ type: 'InternalIP', address: '192.0.2.5' }]);

    const patched = await ctx.core.patchNodeStatus(
      {
        name,
        body: {
          status: {
            addresses: [
              { type: 'InternalIP', address: '192.0.2.5' },
              { type: 'ExternalIP', address: '198.51.100.5' },
            ],
            conditions: [{ type: 'Ready', status: 'True' }],
          },
        },
      },
      mergePatch,
    );
    expect(patched.status?.addresses?.map((a) => a.address)).toEqual(['192.0.2.5', '198.51.100.5']);
    expect(patched.status?.conditions?.map((c) => [c.type, c.status])).toEqual([['Ready', 'True']]);

    const list = await ctx.core.listNode({ labelSelector: `lbc.test/node=${name}` });
    expect(list.items.map((n) => n.metadata?.labels?.['topology.kubernetes.io/zone'])).toEqual(['zone-a']);
    const byName = await ctx.core.listNode({ fieldSelector: `metadata.name=${name}` });
    expect(byName.items).toHaveLength(1);

    await ctx.core.deleteNode({ name });
    expect((await apiError(ctx.core.readNode({ name }))).code).toBe(404);
  });
});

describe('Secrets and ConfigMaps', () => {
  it('Secret data is base64; stringData is merged into data and not stored; type defaults to Opaque', async () => {
    const s = expectOk(
      await ctx.raw('POST', corePath(ctx.ns, 'secrets'), {
        body: { metadata: { name: 'sec' }, data: { a: Buffer.from('hello').toString('base64') }, stringData: { b: 'world' } },
      }),
      201,
    );
    expect(s.type).toBe('Opaque');
    expect(s.data).toEqual({ a: 'aGVsbG8=', b: 'd29ybGQ=' });
    expect(s.stringData).toBeUndefined();
    const viaClient = await ctx.core.readNamespacedSecret({ name: 'sec', namespace: ctx.ns });
    expect(Buffer.from(viaClient.data?.b ?? '', 'base64').toString()).toBe('world');
  });

  it('Secret data that is not base64 is a 400 BadRequest', async () => {
    const st = expectStatus(
      await ctx.raw('POST', corePath(ctx.ns, 'secrets'), { body: { metadata: { name: 'bad' }, data: { a: '!!!' } } }),
      400,
      'BadRequest',
    );
    expect(st.message).toMatch(/^Secret in version "v1" cannot be handled as a Secret: illegal base64 data at input byte 0$/);
  });

  it('ConfigMaps keep data and binaryData', async () => {
    const cm = await ctx.core.createNamespacedConfigMap({
      namespace: ctx.ns,
      body: { metadata: { name: 'cfg' }, data: { 'lbc.yaml': 'a: 1\n' }, binaryData: { blob: 'AAEC' } },
    });
    expect(cm.data).toEqual({ 'lbc.yaml': 'a: 1\n' });
    expect(cm.binaryData).toEqual({ blob: 'AAEC' });
    const replaced = await ctx.core.replaceNamespacedConfigMap({
      name: 'cfg',
      namespace: ctx.ns,
      body: { ...cm, data: { 'lbc.yaml': 'a: 2\n' } },
    });
    expect(replaced.data).toEqual({ 'lbc.yaml': 'a: 2\n' });
    expect(replaced.metadata?.resourceVersion).not.toBe(cm.metadata?.resourceVersion);
  });
});

describe('Events', () => {
  const regarding = () => ({ apiVersion: 'v1', kind: 'Service', namespace: ctx.ns, name: 'web' });

  it('core/v1 Events: create, list, field selectors on involvedObject', async () => {
    const ev = await ctx.core.createNamespacedEvent({
      namespace: ctx.ns,
      body: {
        metadata: { name: 'web.core' },
        involvedObject: regarding(),
        reason: 'Synced',
        message: 'load balancer ready',
        type: 'Normal',
        source: { component: 'lbc' },
        count: 1,
        firstTimestamp: new Date('2024-01-01T00:00:00Z'),
        lastTimestamp: new Date('2024-01-01T00:00:00Z'),
      },
    });
    expect(ev.metadata?.uid).toBeTruthy();
    const list = await ctx.core.listNamespacedEvent({ namespace: ctx.ns, fieldSelector: 'involvedObject.name=web' });
    expect(list.items.map((e) => e.metadata?.name)).toContain('web.core');
    const none = await ctx.core.listNamespacedEvent({ namespace: ctx.ns, fieldSelector: 'involvedObject.name=other' });
    expect(none.items).toEqual([]);
    const byReason = await ctx.core.listNamespacedEvent({ namespace: ctx.ns, fieldSelector: 'reason=Synced,type=Normal' });
    expect(byReason.items.map((e) => e.metadata?.name)).toContain('web.core');
  });

  it('core/v1 Events must name an involved object in the same namespace', async () => {
    const st = expectStatus(
      await ctx.raw('POST', corePath(ctx.ns, 'events'), {
        body: { metadata: { name: 'bad' }, involvedObject: { kind: 'Service', name: 'web' }, reason: 'R', message: 'm' },
      }),
      422,
      'Invalid',
    );
    expect(st.details.causes).toContainEqual({
      reason: 'FieldValueInvalid',
      message: 'Invalid value: "": does not match event.namespace',
      field: 'involvedObject.namespace',
    });
  });

  it('events.k8s.io/v1 Events: create, list, and they share storage with core/v1 Events', async () => {
    const created = await ctx.events.createNamespacedEvent({
      namespace: ctx.ns,
      body: {
        metadata: { name: 'web.events' },
        eventTime: new V1MicroTime('2024-01-01T00:00:00.000Z'),
        reportingController: 'lbc.test/controller',
        reportingInstance: 'lbc-0',
        action: 'Reconcile',
        reason: 'Provisioned',
        note: 'hello',
        type: 'Normal',
        regarding: regarding(),
      },
    });
    expect(created.metadata?.uid).toBeTruthy();
    const list = await ctx.events.listNamespacedEvent({ namespace: ctx.ns });
    expect(list.items.map((e) => e.metadata?.name)).toEqual(expect.arrayContaining(['web.core', 'web.events']));

    // Written through events.k8s.io/v1, read through core/v1 ...
    const asCore = expectOk(await ctx.raw('GET', corePath(ctx.ns, 'events', 'web.events')));
    expect(asCore).toMatchObject({
      kind: 'Event',
      apiVersion: 'v1',
      involvedObject: regarding(),
      reason: 'Provisioned',
      message: 'hello',
      type: 'Normal',
      action: 'Reconcile',
      reportingComponent: 'lbc.test/controller',
      reportingInstance: 'lbc-0',
      eventTime: '2024-01-01T00:00:00.000000Z',
    });
    expect(asCore.metadata.uid).toBe(created.metadata?.uid);
    // ... and the other way round.
    const asNew = expectOk(await ctx.raw('GET', groupPath('events.k8s.io/v1', ctx.ns, 'events', 'web.core')));
    expect(asNew).toMatchObject({
      kind: 'Event',
      apiVersion: 'events.k8s.io/v1',
      regarding: regarding(),
      reason: 'Synced',
      note: 'load balancer ready',
      type: 'Normal',
      deprecatedSource: { component: 'lbc' },
      deprecatedCount: 1,
      deprecatedFirstTimestamp: '2024-01-01T00:00:00Z',
      deprecatedLastTimestamp: '2024-01-01T00:00:00Z',
    });
  });

  it('events.k8s.io/v1 Events need eventTime, reportingController, reportingInstance and action', async () => {
    const noTime = expectStatus(
      await ctx.raw('POST', groupPath('events.k8s.io/v1', ctx.ns, 'events'), {
        body: { metadata: { name: 'bad1' }, regarding: regarding(), reason: 'R', note: 'n', type: 'Normal' },
      }),
      422,
      'Invalid',
    );
    expect(causeFields(noTime)).toEqual(['eventTime']);
    const st = expectStatus(
      await ctx.raw('POST', groupPath('events.k8s.io/v1', ctx.ns, 'events'), {
        body: {
          metadata: { name: 'bad2' },
          regarding: regarding(),
          reason: 'R',
          note: 'n',
          type: 'Normal',
          eventTime: '2024-01-01T00:00:00.000000Z',
        },
      }),
      422,
      'Invalid',
    );
    expect(new Set(causeFields(st))).toEqual(new Set(['reportingController', 'reportingInstance', 'action']));
  });
});

describe('Leases', () => {
  const leases = () => groupPath('coordination.k8s.io/v1', ctx.ns, 'leases');

  it('create and renew with optimistic concurrency; MicroTime has 6 fractional digits', async () => {
    const lease = await ctx.coordination.createNamespacedLease({
      namespace: ctx.ns,
      body: {
        metadata: { name: 'leader' },
        spec: {
          holderIdentity: 'lbc-a',
          leaseDurationSeconds: 15,
          acquireTime: new V1MicroTime('2024-01-01T00:00:00.000Z'),
          renewTime: new V1MicroTime('2024-01-01T00:00:01.500Z'),
          leaseTransitions: 0,
        },
      },
    });
    expect(lease.spec?.holderIdentity).toBe('lbc-a');
    const rawLease = expectOk(await ctx.raw('GET', `${leases()}/leader`));
    expect(rawLease.spec.acquireTime).toBe('2024-01-01T00:00:00.000000Z');
    expect(rawLease.spec.renewTime).toBe('2024-01-01T00:00:01.500000Z');
    expect(rawLease.metadata.generation).toBeUndefined();

    const renewed = await ctx.coordination.replaceNamespacedLease({
      name: 'leader',
      namespace: ctx.ns,
      body: { ...lease, spec: { ...lease.spec, renewTime: new V1MicroTime('2024-01-01T00:00:05.000Z') } },
    });
    expect(renewed.metadata?.resourceVersion).not.toBe(lease.metadata?.resourceVersion);

    // A second candidate holding the old version loses.
    const err = await apiError(
      ctx.coordination.replaceNamespacedLease({
        name: 'leader',
        namespace: ctx.ns,
        body: { ...lease, spec: { ...lease.spec, holderIdentity: 'lbc-b' } },
      }),
    );
    expect(err.code).toBe(409);
    expect(err.body).toMatchObject({ kind: 'Status', reason: 'Conflict', code: 409 });
    const cur = await ctx.coordination.readNamespacedLease({ name: 'leader', namespace: ctx.ns });
    expect(cur.spec?.holderIdentity).toBe('lbc-a');
  });

  it('a MicroTime without 6 fractional digits is a 400 BadRequest', async () => {
    const st = expectStatus(
      await ctx.raw('POST', leases(), {
        body: { metadata: { name: 'bad-time' }, spec: { holderIdentity: 'x', renewTime: '2024-01-01T00:00:00Z' } },
      }),
      400,
      'BadRequest',
    );
    expect(st.message).toMatch(/^Lease in version "v1" cannot be handled as a Lease: parsing time /);
  });
});

describe('Ingresses and IngressClasses', () => {
  it('an IngressClass is cluster-scoped with generation; an Ingress references it', async () => {
    const cls = uniqueName('lbc-ct-kinds-class');
    ctx.defer(() => ctx.net.deleteIngressClass({ name: cls }));
    const ic = expectOk(
      await ctx.raw('POST', '/apis/networking.k8s.io/v1/ingressclasses', {
        body: { metadata: { name: cls }, spec: { controller: 'lbc.test/ingress' } },
      }),
      201,
    );
    expect(ic.metadata.namespace).toBeUndefined();
    expect(ic.metadata.generation).toBe(1);
    expect(ic.spec).toEqual({ controller: 'lbc.test/ingress' });

    const ing = await ctx.net.createNamespacedIngress({
      namespace: ctx.ns,
      body: {
        metadata: { name: 'site' },
        spec: {
          ingressClassName: cls,
          tls: [{ hosts: ['a.example.com'], secretName: 'tls' }],
          rules: [
            {
              host: 'a.example.com',
              http: {
                paths: [
                  { path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } },
                  { path: '/api', pathType: 'Exact', backend: { service: { name: 'api', port: { name: 'http' } } } },
                ],
              },
            },
          ],
        },
      },
    });
    expect(ing.metadata?.generation).toBe(1);
    expect(ing.spec?.ingressClassName).toBe(cls);
    expect(ing.status).toEqual({ loadBalancer: {} });
    const list = await ctx.net.listIngressForAllNamespaces({ fieldSelector: `metadata.namespace=${ctx.ns}` });
    expect(list.items.map((i) => i.metadata?.name)).toContain('site');
  });

  it('an Ingress path without pathType is a 422 on that path', async () => {
    const st = expectStatus(
      await ctx.raw('POST', groupPath('networking.k8s.io/v1', ctx.ns, 'ingresses'), {
        body: {
          metadata: { name: 'no-type' },
          spec: { rules: [{ http: { paths: [{ path: '/', backend: { service: { name: 'a', port: { number: 80 } } } }] } }] },
        },
      }),
      422,
      'Invalid',
    );
    expect(st.details.causes).toEqual([
      {
        reason: 'FieldValueRequired',
        message: 'Required value: pathType must be specified',
        field: 'spec.rules[0].http.paths[0].pathType',
      },
    ]);
  });

  it('an Ingress with neither defaultBackend nor rules is a 422 on spec', async () => {
    const st = expectStatus(
      await ctx.raw('POST', groupPath('networking.k8s.io/v1', ctx.ns, 'ingresses'), {
        body: { metadata: { name: 'empty' }, spec: {} },
      }),
      422,
      'Invalid',
    );
    expect(causeFields(st)).toEqual(['spec']);
  });

  it('an IngressClass controller must be a domain-prefixed path', async () => {
    const name = uniqueName('lbc-ct-kinds-badclass');
    const st = expectStatus(
      await ctx.raw('POST', '/apis/networking.k8s.io/v1/ingressclasses', {
        body: { metadata: { name }, spec: { controller: 'plain' } },
      }),
      422,
      'Invalid',
    );
    expect(st.details.causes).toEqual([
      {
        reason: 'FieldValueInvalid',
        message: 'Invalid value: "plain": must be a domain-prefixed path (such as "acme.io/foo")',
        field: 'spec.controller',
      },
    ]);
  });
});

describe('Endpoints', () => {
  it('user-written Endpoints round-trip', async () => {
    const body: Json = {
      metadata: { name: 'manual' },
      subsets: [
        {
          addresses: [{ ip: '192.0.2.1' }, { ip: '192.0.2.2' }],
          notReadyAddresses: [{ ip: '192.0.2.3' }],
          ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
        },
      ],
    };
    const eps = expectOk(await ctx.raw('POST', corePath(ctx.ns, 'endpoints'), { body }), 201);
    expect(eps.subsets).toEqual(body.subsets);
    const list = expectOk(await ctx.raw('GET', corePath(ctx.ns, 'endpoints')));
    expect(list.kind).toBe('EndpointsList');
    expect(list.items.map((e: Json) => e.metadata.name)).toContain('manual');
  });
});
