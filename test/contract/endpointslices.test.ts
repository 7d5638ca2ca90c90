// Contract: the endpoint controllers — EndpointSlices and Endpoints follow the Pods a
// Service selects (Pods on a Node that exists, with podIP and Ready patched on status).
import { beforeAll, describe, expect, it } from 'vitest';
import {
  consistently,
  corePath,
  eventually,
  expectOk,
  expectStatus,
  groupPath,
  PatchStrategy,
  serviceBody,
  uniqueName,
  useContractCluster,
  type Json,
} from './support.js';

const ctx = useContractCluster('eps');

// Controllers usually converge in about a second; the generous bound only matters when a
// shared real cluster's controller-manager is backlogged (its client is rate-limited).
const SETTLE = 45_000;
const TEST_TIMEOUT = 120_000;

const MANAGED_BY = 'endpointslice.kubernetes.io/managed-by';
const SERVICE_NAME = 'kubernetes.io/service-name';
const slicesPath = () => groupPath('discovery.k8s.io/v1', ctx.ns, 'endpointslices');
let node = '';

async function slicesFor(service: string): Promise<Json[]> {
  const list = expectOk(await ctx.raw('GET', slicesPath(), { query: { labelSelector: `${SERVICE_NAME}=${service}` } }));
  return list.items;
}

/** The endpoints of the controller-managed slices of a Service, by address. */
async function endpointsOf(service: string): Promise<Map<string, Json>> {
  const out = new Map<string, Json>();
  for (const s of await slicesFor(service)) {
    if (s.metadata.labels?.[MANAGED_BY] !== 'endpointslice-controller.k8s.io') continue;
    for (const e of s.endpoints ?? []) out.set(e.addresses[0], e);
  }
  return out;
}

async function createPod(name: string, app: string, ip: string, ready: boolean, finalizers?: string[]): Promise<Json> {
  const pod = expectOk(
    await ctx.raw('POST', corePath(ctx.ns, 'pods'), {
      body: {
        metadata: { name, labels: { app }, ...(finalizers ? { finalizers } : {}) },
        spec: {
          nodeName: node,
          containers: [{ name: 'app', image: 'example.invalid/app:1', ports: [{ name: 'web', containerPort: 8080 }] }],
        },
      },
    }),
    201,
  );
  await setPodStatus(name, ip, ready);
  return pod;
}

async function setPodStatus(name: string, ip: string, ready: boolean): Promise<void> {
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  expectOk(
    await ctx.raw('PATCH', corePath(ctx.ns, 'pods', name, 'status'), {
      contentType: PatchStrategy.MergePatch,
      body: {
        status: {
          phase: 'Running',
          podIP: ip,
          podIPs: [{ ip }],
          conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: now }],
        },
      },
    }),
  );
}

async function forceDeletePod(name: string): Promise<void> {
  await ctx.raw('PATCH', corePath(ctx.ns, 'pods', name), {
    body: { metadata: { finalizers: null } },
    contentType: PatchStrategy.MergePatch,
  });
  await ctx.raw('DELETE', corePath(ctx.ns, 'pods', name), { body: { gracePeriodSeconds: 0 } });
}

beforeAll(async () => {
  node = uniqueName('lbc-ct-eps-node');
  ctx.defer(() => ctx.core.deleteNode({ name: node }));
  expectOk(await ctx.raw('POST', '/api/v1/nodes', { body: { metadata: { name: node } } }), 201);
});

describe('EndpointSlices for a Service with a selector', () => {
  let svc: Json;
  let pod: Json;

  it('a slice labelled with the service name appears, owned by the Service, with the ready Pod', async () => {
    svc = expectOk(
      await ctx.raw('POST', corePath(ctx.ns, 'services'), {
        body: serviceBody('web', { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] }),
      }),
      201,
    );
    pod = await createPod('web-1', 'web', '10.244.1.11', true);

    const slice = await eventually(async () => {
      const slices = (await slicesFor('web')).filter((s) => (s.endpoints ?? []).length > 0);
      expect(slices).toHaveLength(1);
      return slices[0];
    }, SETTLE);
    expect(slice.kind).toBeUndefined(); // list items carry no kind
    expect(slice.addressType).toBe('IPv4');
    expect(slice.metadata.name.startsWith('web-')).toBe(true);
    expect(slice.metadata.generateName).toBe('web-');
    expect(slice.metadata.labels).toMatchObject({
      [SERVICE_NAME]: 'web',
      [MANAGED_BY]: 'endpointslice-controller.k8s.io',
    });
    expect(slice.metadata.ownerReferences).toEqual([
      { apiVersion: 'v1', kind: 'Service', name: 'web', uid: svc.metadata.uid, controller: true, blockOwnerDeletion: true },
    ]);
    expect(slice.ports).toEqual([{ name: 'http', protocol: 'TCP', port: 8080 }]);
    expect(slice.endpoints).toHaveLength(1);
    const ep = slice.endpoints[0];
    expect(ep.addresses).toEqual(['10.244.1.11']);
    expect(ep.conditions).toEqual({ ready: true, serving: true, terminating: false });
    expect(ep.nodeName).toBe(node);
    expect(ep.targetRef).toEqual({ kind: 'Pod', namespace: ctx.ns, name: 'web-1', uid: pod.metadata.uid });
  }, TEST_TIMEOUT);

  it('the Endpoints object of the same name lists the ready address', async () => {
    const eps = await eventually(async () => {
      const e = expectOk(await ctx.raw('GET', corePath(ctx.ns, 'endpoints', 'web')));
      expect(e.subsets?.[0]?.addresses).toHaveLength(1);
      return e;
    }, SETTLE);
    expect(eps.subsets).toEqual([
      {
        addresses: [
          {
            ip: '10.244.1.11',
            nodeName: node,
            targetRef: { kind: 'Pod', namespace: ctx.ns, name: 'web-1', uid: pod.metadata.uid },
          },
        ],
        ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
      },
    ]);
  }, TEST_TIMEOUT);

  it('a Pod turning NotReady flips ready and serving to false (and moves to notReadyAddresses)', async () => {
    await setPodStatus('web-1', '10.244.1.11', false);
    await eventually(async () => {
      const ep = (await endpointsOf('web')).get('10.244.1.11');
      expect(ep?.conditions).toEqual({ ready: false, serving: false, terminating: false });
    }, SETTLE);
    await eventually(async () => {
      const e = expectOk(await ctx.raw('GET', corePath(ctx.ns, 'endpoints', 'web')));
      expect(e.subsets).toHaveLength(1);
      expect(e.subsets[0].addresses).toBeUndefined();
      expect(e.subsets[0].notReadyAddresses.map((a: Json) => a.ip)).toEqual(['10.244.1.11']);
    }, SETTLE);
    await setPodStatus('web-1', '10.244.1.11', true);
    await eventually(async () => {
      expect((await endpointsOf('web')).get('10.244.1.11')?.conditions.ready).toBe(true);
    }, SETTLE);
  }, TEST_TIMEOUT);

  it('a second Pod joins the slice; a deleted Pod leaves it', async () => {
    await createPod('web-2', 'web', '10.244.1.12', true);
    await eventually(async () => {
      expect([...(await endpointsOf('web')).keys()].sort()).toEqual(['10.244.1.11', '10.244.1.12']);
    }, SETTLE);
    expectOk(await ctx.raw('DELETE', corePath(ctx.ns, 'pods', 'web-2'), { body: { gracePeriodSeconds: 0 } }));
    await eventually(async () => {
      expect([...(await endpointsOf('web')).keys()]).toEqual(['10.244.1.11']);
      const e = expectOk(await ctx.raw('GET', corePath(ctx.ns, 'endpoints', 'web')));
      expect(e.subsets[0].addresses.map((a: Json) => a.ip)).toEqual(['10.244.1.11']);
    }, SETTLE);
  }, TEST_TIMEOUT);

  it('a terminating Pod stays in the slice as terminating, not ready, serving; Endpoints drops it', async () => {
    await createPod('web-3', 'web', '10.244.1.13', true, ['lbc.test/hold']);
    ctx.defer(() => forceDeletePod('web-3'));
    await eventually(async () => {
      expect((await endpointsOf('web')).get('10.244.1.13')?.conditions.ready).toBe(true);
    }, SETTLE);
    const del = await ctx.raw('DELETE', corePath(ctx.ns, 'pods', 'web-3'));
    expect(del.status).toBe(200);
    expect(del.body.metadata.deletionTimestamp).toBeTruthy();
    await eventually(async () => {
      const ep = (await endpointsOf('web')).get('10.244.1.13');
      expect(ep?.conditions).toEqual({ ready: false, serving: true, terminating: true });
    }, SETTLE);
    await eventually(async () => {
      const e = expectOk(await ctx.raw('GET', corePath(ctx.ns, 'endpoints', 'web')));
      const ips = (e.subsets ?? []).flatMap((s: Json) => [...(s.addresses ?? []), ...(s.notReadyAddresses ?? [])]);
      expect(ips.map((a: Json) => a.ip)).toEqual(['10.244.1.11']);
    }, SETTLE);
    await forceDeletePod('web-3');
    await eventually(async () => {
      expect([...(await endpointsOf('web')).keys()]).toEqual(['10.244.1.11']);
    }, SETTLE);
  }, TEST_TIMEOUT);

  it('Pods that do not match the selector, or have no IP, are not endpoints', async () => {
    await createPod('other-1', 'other', '10.244.1.20', true);
    expectOk(
      await ctx.raw('POST', corePath(ctx.ns, 'pods'), {
        body: {
          metadata: { name: 'web-noip', labels: { app: 'web' } },
          spec: { nodeName: node, containers: [{ name: 'app', image: 'example.invalid/app:1' }] },
        },
      }),
      201,
    );
    // A change that the controller does act on, to know it has caught up.
    await createPod('web-4', 'web', '10.244.1.14', true);
    await eventually(async () => {
      expect([...(await endpointsOf('web')).keys()].sort()).toEqual(['10.244.1.11', '10.244.1.14']);
    }, SETTLE);
  }, TEST_TIMEOUT);

  it('deleting the Service removes its slices (owner reference) and its Endpoints', async () => {
    expectOk(await ctx.raw('DELETE', corePath(ctx.ns, 'services', 'web')));
    await eventually(async () => {
      expect(await slicesFor('web')).toEqual([]);
      expectStatus(await ctx.raw('GET', corePath(ctx.ns, 'endpoints', 'web')), 404, 'NotFound');
    }, SETTLE);
  }, TEST_TIMEOUT);
});

describe('a Service without a selector', () => {
  it('keeps the EndpointSlice and Endpoints the user creates', async () => {
    expectOk(
      await ctx.raw('POST', corePath(ctx.ns, 'services'), {
        body: serviceBody('external', { ports: [{ name: 'http', port: 80 }] }),
      }),
      201,
    );
    const slice = expectOk(
      await ctx.raw('POST', slicesPath(), {
        body: {
          apiVersion: 'discovery.k8s.io/v1',
          kind: 'EndpointSlice',
          metadata: { name: 'external-manual', labels: { [SERVICE_NAME]: 'external', [MANAGED_BY]: 'lbc.test-contract' } },
          addressType: 'IPv4',
          endpoints: [{ addresses: ['192.0.2.10'], conditions: { ready: true } }],
          ports: [{ name: 'http', port: 80, protocol: 'TCP' }],
        },
      }),
      201,
    );
    expect(slice.metadata.generation).toBe(1);
    const eps = expectOk(
      await ctx.raw('POST', corePath(ctx.ns, 'endpoints'), {
        body: {
          metadata: { name: 'external' },
          subsets: [{ addresses: [{ ip: '192.0.2.20' }], ports: [{ name: 'http', port: 80, protocol: 'TCP' }] }],
        },
      }),
      201,
    );
    // Touch the Service so controllers look at it again.
    expectOk(
      await ctx.raw('PATCH', corePath(ctx.ns, 'services', 'external'), {
        body: { metadata: { labels: { touched: 'yes' } } },
        contentType: PatchStrategy.MergePatch,
      }),
    );
    await consistently(async () => {
      const s = expectOk(await ctx.raw('GET', groupPath('discovery.k8s.io/v1', ctx.ns, 'endpointslices', 'external-manual')));
      expect(s.metadata.resourceVersion).toBe(slice.metadata.resourceVersion);
      expect(s.endpoints).toEqual([{ addresses: ['192.0.2.10'], conditions: { ready: true } }]);
      const e = expectOk(await ctx.raw('GET', corePath(ctx.ns, 'endpoints', 'external')));
      expect(e.metadata.resourceVersion).toBe(eps.metadata.resourceVersion);
      expect(e.subsets).toEqual([
        { addresses: [{ ip: '192.0.2.20' }], ports: [{ name: 'http', port: 80, protocol: 'TCP' }] },
      ]);
    }, 2000);
  }, TEST_TIMEOUT);
});
