// Contract: the status subresource of Services and Ingresses.
import { describe, expect, it } from 'vitest';
import { corePath, expectOk, groupPath, mergePatch, serviceBody, useContractCluster, type Json } from './support.js';

const ctx = useContractCluster('status');

const ingPath = (name?: string, sub?: string) => groupPath('networking.k8s.io/v1', ctx.ns, 'ingresses', name, sub);

function ingressBody(name: string): Json {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name },
    spec: { defaultBackend: { service: { name: 'web', port: { number: 80 } } } },
  };
}

describe('Service status', () => {
  it('PUT /status changes status and ignores spec changes in the body', async () => {
    const svc = expectOk(
      await ctx.raw('POST', corePath(ctx.ns, 'services'), { body: serviceBody('put-st', { type: 'LoadBalancer', selector: { app: 'a' } }) }),
      201,
    );
    const body = structuredClone(svc);
    body.spec.selector = { app: 'changed' };
    body.spec.ports[0].port = 81;
    body.status = { loadBalancer: { ingress: [{ ip: '192.0.2.10' }] } };
    const put = expectOk(await ctx.raw('PUT', corePath(ctx.ns, 'services', 'put-st', 'status'), { body }), 200);
    expect(put.status.loadBalancer.ingress).toEqual([{ ip: '192.0.2.10' }]);
    expect(put.spec.selector).toEqual({ app: 'a' });
    expect(put.spec.ports[0].port).toBe(80);
    expect(put.metadata.resourceVersion).not.toBe(svc.metadata.resourceVersion);

    const got = expectOk(await ctx.raw('GET', corePath(ctx.ns, 'services', 'put-st')));
    expect(got.spec).toEqual(svc.spec);
    expect(got.status.loadBalancer.ingress).toEqual([{ ip: '192.0.2.10' }]);
  });

  it('PATCH /status changes status and ignores spec in the patch', async () => {
    expectOk(await ctx.raw('POST', corePath(ctx.ns, 'services'), { body: serviceBody('patch-st', { type: 'LoadBalancer' }) }));
    const patched = await ctx.core.patchNamespacedServiceStatus(
      {
        name: 'patch-st',
        namespace: ctx.ns,
        body: { spec: { selector: { app: 'x' } }, status: { loadBalancer: { ingress: [{ hostname: 'lb.example.com' }] } } },
      },
      mergePatch,
    );
    expect(patched.status?.loadBalancer?.ingress).toEqual([{ hostname: 'lb.example.com' }]);
    expect(patched.spec?.selector).toBeUndefined();
  });

  it('GET /status returns the whole object', async () => {
    expectOk(await ctx.raw('POST', corePath(ctx.ns, 'services'), { body: serviceBody('get-st') }));
    const st = expectOk(await ctx.raw('GET', corePath(ctx.ns, 'services', 'get-st', 'status')));
    expect(st.kind).toBe('Service');
    expect(st.metadata.name).toBe('get-st');
    expect(st.spec.ports[0].port).toBe(80);
  });

  it('writes to the main resource ignore status', async () => {
    const svc = expectOk(
      await ctx.raw('POST', corePath(ctx.ns, 'services'), { body: serviceBody('main-st', { type: 'LoadBalancer' }) }),
    );
    await ctx.core.patchNamespacedServiceStatus(
      { name: 'main-st', namespace: ctx.ns, body: { status: { loadBalancer: { ingress: [{ ip: '192.0.2.1' }] } } } },
      mergePatch,
    );
    const cur = expectOk(await ctx.raw('GET', corePath(ctx.ns, 'services', 'main-st')));

    const body = structuredClone(cur);
    body.status = { loadBalancer: { ingress: [{ ip: '192.0.2.99' }] } };
    body.metadata.labels = { touched: 'yes' };
    const put = expectOk(await ctx.raw('PUT', corePath(ctx.ns, 'services', 'main-st'), { body }), 200);
    expect(put.metadata.labels).toEqual({ touched: 'yes' });
    expect(put.status.loadBalancer.ingress).toEqual([{ ip: '192.0.2.1' }]);

    const patched = await ctx.core.patchNamespacedService(
      { name: 'main-st', namespace: ctx.ns, body: { status: { loadBalancer: { ingress: [{ ip: '192.0.2.98' }] } } } },
      mergePatch,
    );
    expect(patched.status?.loadBalancer?.ingress).toEqual([{ ip: '192.0.2.1' }]);
    // A patch that only touches status on the main resource is a no-op write.
    expect(patched.metadata?.resourceVersion).toBe(put.metadata.resourceVersion);
    expect(svc.metadata.uid).toBe(patched.metadata?.uid);
  });

  it('status.loadBalancer.ingress can be cleared through /status', async () => {
    expectOk(await ctx.raw('POST', corePath(ctx.ns, 'services'), { body: serviceBody('clear-st', { type: 'LoadBalancer' }) }));
    await ctx.core.patchNamespacedServiceStatus(
      { name: 'clear-st', namespace: ctx.ns, body: { status: { loadBalancer: { ingress: [{ ip: '192.0.2.1' }] } } } },
      mergePatch,
    );
    const cleared = await ctx.core.patchNamespacedServiceStatus(
      { name: 'clear-st', namespace: ctx.ns, body: { status: { loadBalancer: { ingress: null } } } },
      mergePatch,
    );
    expect(cleared.status?.loadBalancer?.ingress).toBeUndefined();
  });
});

describe('Ingress status', () => {
  it('PUT /status changes status.loadBalancer.ingress and ignores spec', async () => {
    const ing = expectOk(await ctx.raw('POST', ingPath(), { body: ingressBody('ing-put') }), 201);
    const body = structuredClone(ing);
    body.spec.defaultBackend.service.name = 'other';
    body.status = { loadBalancer: { ingress: [{ ip: '192.0.2.20' }, { hostname: 'ing.example.com' }] } };
    const put = expectOk(await ctx.raw('PUT', ingPath('ing-put', 'status'), { body }), 200);
    expect(put.status.loadBalancer.ingress).toEqual([{ ip: '192.0.2.20' }, { hostname: 'ing.example.com' }]);
    expect(put.spec.defaultBackend.service.name).toBe('web');
    expect(put.metadata.generation).toBe(1);
  });

  it('PATCH /status through the client library', async () => {
    expectOk(await ctx.raw('POST', ingPath(), { body: ingressBody('ing-patch') }), 201);
    const patched = await ctx.net.patchNamespacedIngressStatus(
      {
        name: 'ing-patch',
        namespace: ctx.ns,
        body: {
          spec: { defaultBackend: { service: { name: 'x', port: { number: 1 } } } },
          status: { loadBalancer: { ingress: [{ ip: '192.0.2.21', ports: [{ port: 443, protocol: 'TCP' }] }] } },
        },
      },
      mergePatch,
    );
    expect(patched.status?.loadBalancer?.ingress).toEqual([{ ip: '192.0.2.21', ports: [{ port: 443, protocol: 'TCP' }] }]);
    expect(patched.spec?.defaultBackend?.service?.name).toBe('web');
  });

  it('writes to the main Ingress resource ignore status', async () => {
    const ing = expectOk(await ctx.raw('POST', ingPath(), { body: { ...ingressBody('ing-main'), status: { loadBalancer: { ingress: [{ ip: '192.0.2.1' }] } } } }), 201);
    expect(ing.status).toEqual({ loadBalancer: {} });
    const body = structuredClone(ing);
    body.status = { loadBalancer: { ingress: [{ ip: '192.0.2.2' }] } };
    body.spec.defaultBackend.service.name = 'changed';
    const put = expectOk(await ctx.raw('PUT', ingPath('ing-main'), { body }), 200);
    expect(put.status).toEqual({ loadBalancer: {} });
    expect(put.spec.defaultBackend.service.name).toBe('changed');
    expect(put.metadata.generation).toBe(2);
  });
});
