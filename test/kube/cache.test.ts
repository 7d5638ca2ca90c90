import type { V1EndpointSlice, V1Ingress, V1Service } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { Cache, objectKey, splitKey } from '../../src/kube/cache.js';
import {
  ENDPOINTSLICE_BY_SERVICE,
  INGRESS_BY_BACKEND_SERVICE,
  INGRESS_BY_TLS_SECRET,
  SERVICE_BY_NODE_PORT,
  endpointSliceIndexers,
  ingressIndexers,
  serviceIndexers,
} from '../../src/kube/indexes.js';

const svc = (name: string, nodePorts: number[], rv = '1'): V1Service => ({
  metadata: { name, namespace: 'ns', resourceVersion: rv },
  spec: { type: 'LoadBalancer', ports: nodePorts.map((p, i) => ({ port: 80 + i, nodePort: p })) },
});

describe('keys', () => {
  it('are namespace/name, or name for cluster-scoped objects', () => {
    expect(objectKey({ metadata: { name: 'a', namespace: 'ns' } })).toBe('ns/a');
    expect(objectKey({ metadata: { name: 'node-1' } })).toBe('node-1');
    expect(() => objectKey({ metadata: {} })).toThrow();
    expect(splitKey('ns/a')).toEqual({ namespace: 'ns', name: 'a' });
    expect(splitKey('node-1')).toEqual({ name: 'node-1' });
  });
});

describe('Cache', () => {
  it('stores, replaces and deletes by key', () => {
    const c = new Cache<V1Service>();
    expect(c.set(svc('a', []))).toBeUndefined();
    const old = c.set(svc('a', [], '2'));
    expect(old?.metadata?.resourceVersion).toBe('1');
    expect(c.get('ns/a')?.metadata?.resourceVersion).toBe('2');
    expect(c.size).toBe(1);
    expect(c.list()).toHaveLength(1);
    expect(c.delete('ns/a')?.metadata?.name).toBe('a');
    expect(c.delete('ns/a')).toBeUndefined();
    expect(c.size).toBe(0);
  });

  it('keeps indexes in step with updates and deletes', () => {
    const c = new Cache<V1Service>(serviceIndexers);
    c.set(svc('a', [30001, 30002]));
    c.set(svc('b', [30003]));
    expect(c.byIndex(SERVICE_BY_NODE_PORT, '30002').map(objectKey)).toEqual(['ns/a']);
    expect(c.indexValues(SERVICE_BY_NODE_PORT).sort()).toEqual(['30001', '30002', '30003']);
    c.set(svc('a', [30005]));
    expect(c.byIndex(SERVICE_BY_NODE_PORT, '30002')).toEqual([]);
    expect(c.byIndex(SERVICE_BY_NODE_PORT, '30005').map(objectKey)).toEqual(['ns/a']);
    c.delete('ns/b');
    expect(c.indexValues(SERVICE_BY_NODE_PORT)).toEqual(['30005']);
    expect(() => c.byIndex('nope', 'x')).toThrow(/unknown index/);
  });

  it('names the indexes it keeps, and none when given none', () => {
    expect(new Cache<V1Service>({ ...serviceIndexers, other: () => [] }).indexNames()).toEqual([SERVICE_BY_NODE_PORT, 'other']);
    expect(new Cache<V1Service>().indexNames()).toEqual([]);
  });

  it('on an update, refiles only the indexes whose values changed, and files duplicates once', () => {
    const calls: string[] = [];
    const byPort = (o: V1Service): string[] => {
      calls.push('port');
      return serviceIndexers[SERVICE_BY_NODE_PORT]!(o);
    };
    const byType = (o: V1Service): string[] => [o.spec?.type ?? '', o.spec?.type ?? ''];
    const c = new Cache<V1Service>({ port: byPort, type: byType });
    c.set(svc('a', [30001, 30002]));
    c.set(svc('b', [30001]));
    // Same values (a status change): the new object is found under them, the old is gone.
    const a2 = svc('a', [30001, 30002], '2');
    c.set(a2);
    expect(c.byIndex('port', '30002')).toEqual([a2]);
    expect(c.byIndex('port', '30001').map(objectKey).sort()).toEqual(['ns/a', 'ns/b']);
    expect(c.byIndex('type', 'LoadBalancer')).toHaveLength(2);
    // One index changes, the other does not.
    const a3: V1Service = { ...svc('a', [30001, 30003], '3'), spec: { type: 'NodePort', ports: [{ port: 80, nodePort: 30001 }, { port: 81, nodePort: 30003 }] } };
    c.set(a3);
    expect(c.indexValues('port').sort()).toEqual(['30001', '30003']);
    expect(c.byIndex('port', '30003')).toEqual([a3]);
    expect(c.indexValues('type').sort()).toEqual(['LoadBalancer', 'NodePort']);
    expect(c.byIndex('type', 'LoadBalancer').map(objectKey)).toEqual(['ns/b']);
    expect(c.reindex('ns/a', 'type')).toEqual(['NodePort']);
    c.delete('ns/a');
    c.delete('ns/b');
    expect([...c.indexValues('port'), ...c.indexValues('type')]).toEqual([]);
    expect(calls).toHaveLength(5);
  });

  it("keeps what it filed when an index function reuses and changes the array it returned", () => {
    const shared: string[] = [];
    const c = new Cache<V1Service>({
      port: (o) => {
        shared.length = 0;
        for (const p of o.spec?.ports ?? []) shared.push(String(p.nodePort));
        return shared;
      },
    });
    c.set(svc('a', [30001]));
    c.set(svc('b', [30002]));
    c.set(svc('a', [30003], '2'));
    expect(c.indexValues('port').sort()).toEqual(['30002', '30003']);
    c.delete('ns/b');
    expect(c.indexValues('port')).toEqual(['30003']);
  });

  it('removes index entries even if the stored object was mutated in place', () => {
    const c = new Cache<V1Service>(serviceIndexers);
    const a = svc('a', [30001]);
    c.set(a);
    a.spec!.ports![0]!.nodePort = 30009;
    c.delete('ns/a');
    expect(c.indexValues(SERVICE_BY_NODE_PORT)).toEqual([]);
  });
});

describe('lbc indexes', () => {
  it('finds Ingresses by backend Service and by TLS Secret', () => {
    const c = new Cache<V1Ingress>(ingressIndexers(() => []));
    c.set({
      metadata: { name: 'web', namespace: 'shop' },
      spec: {
        defaultBackend: { service: { name: 'fallback', port: { number: 80 } } },
        tls: [{ secretName: 'cert', hosts: ['a.example'] }, { hosts: ['b.example'] }],
        rules: [
          {
            host: 'a.example',
            http: {
              paths: [
                { path: '/', pathType: 'Prefix', backend: { service: { name: 'front', port: { number: 80 } } } },
                { path: '/api', pathType: 'Prefix', backend: { service: { name: 'api', port: { name: 'http' } } } },
                { path: '/r', pathType: 'Prefix', backend: { resource: { kind: 'Bucket', name: 'b' } } },
                { path: '/x', pathType: 'Prefix', backend: { service: { name: 'front', port: { number: 81 } } } },
              ],
            },
          },
        ],
      },
    });
    expect(c.indexValues(INGRESS_BY_BACKEND_SERVICE).sort()).toEqual(['shop/api', 'shop/fallback', 'shop/front']);
    expect(c.byIndex(INGRESS_BY_BACKEND_SERVICE, 'shop/front').map(objectKey)).toEqual(['shop/web']);
    expect(c.indexValues(INGRESS_BY_TLS_SECRET)).toEqual(['shop/cert']);
  });

  it('finds an Ingress by the Services its wiring says it names besides its backends, in its namespace', () => {
    // The kube layer reads no annotation itself: whoever wires the providers says (see
    // test/controller/ingress-reconciler.test.ts for the alb actions the AWS provider reads).
    const referenced = (ing: V1Ingress): string[] => (ing.metadata?.annotations?.['test.example/also'] ?? '').split(',').filter(Boolean);
    const c = new Cache<V1Ingress>(ingressIndexers(referenced));
    c.set({
      metadata: { name: 'canary', namespace: 'shop', annotations: { 'test.example/also': 'web-v1,web-v2,canary-split' } },
      spec: { rules: [{ http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'canary-split', port: { name: 'use-annotation' } } } }] } }] },
    });
    expect(c.indexValues(INGRESS_BY_BACKEND_SERVICE).sort()).toEqual(['shop/canary-split', 'shop/web-v1', 'shop/web-v2']);
    expect(c.byIndex(INGRESS_BY_BACKEND_SERVICE, 'shop/web-v2').map(objectKey)).toEqual(['shop/canary']);
  });

  it('finds EndpointSlices by their Service label', () => {
    const c = new Cache<V1EndpointSlice>(endpointSliceIndexers);
    const slice = (name: string, svcName?: string): V1EndpointSlice => ({
      addressType: 'IPv4',
      endpoints: [],
      metadata: { name, namespace: 'ns', labels: svcName ? { 'kubernetes.io/service-name': svcName } : {} },
    });
    c.set(slice('web-abc', 'web'));
    c.set(slice('web-def', 'web'));
    c.set(slice('orphan'));
    expect(c.byIndex(ENDPOINTSLICE_BY_SERVICE, 'ns/web').map(objectKey).sort()).toEqual(['ns/web-abc', 'ns/web-def']);
    expect(c.indexValues(ENDPOINTSLICE_BY_SERVICE)).toEqual(['ns/web']);
  });
});
