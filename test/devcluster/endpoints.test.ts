// The endpoints, endpointslice and endpointslicemirroring controllers on a bare Store.
// Expected shapes and orders were recorded from kube-controller-manager v1.26.
import { afterEach, describe, expect, it } from 'vitest';
import { sortCorePorts, sortSlicePorts, sortSubsets, type EndpointSubset } from '../../src/devcluster/deep-hash.js';
import { startEndpointsController, type EndpointsControllerOptions } from '../../src/devcluster/endpoints.js';
import type { KObject } from '../../src/devcluster/objects.js';
import { builtinResources } from '../../src/devcluster/resources.js';
import { serviceStrategy } from '../../src/devcluster/services.js';
import { Store, type StoreEvent } from '../../src/devcluster/store.js';

const NS = 'ns1';
const stops: Array<() => void> = [];
afterEach(() => {
  while (stops.length) stops.pop()!();
});

function setup(opts: EndpointsControllerOptions = {}) {
  const resources = builtinResources();
  resources.find((r) => r.plural === 'services')!.strategy = serviceStrategy();
  const store = new Store(resources);
  const t = {
    ns: store.find('', 'namespaces')!,
    svc: store.find('', 'services')!,
    pod: store.find('', 'pods')!,
    node: store.find('', 'nodes')!,
    ep: store.find('', 'endpoints')!,
    slice: store.find('discovery.k8s.io', 'endpointslices')!,
  };
  store.create(t.ns, { metadata: { name: NS } });
  stops.push(startEndpointsController(store, opts));
  const events: Array<{ kind: string; ev: StoreEvent }> = [];
  stops.push(store.subscribe((rt, ev) => events.push({ kind: rt.kind, ev })));

  const h = {
    store,
    t,
    events,
    node(name: string, zone?: string): KObject {
      return store.create(t.node, { metadata: { name, ...(zone ? { labels: { 'topology.kubernetes.io/zone': zone } } : {}) } });
    },
    service(name: string, spec: unknown, labels?: Record<string, string>): KObject {
      return store.create(t.svc, { metadata: { name, namespace: NS, ...(labels ? { labels } : {}) }, spec });
    },
    pod(name: string, labels: Record<string, string>, nodeName: string, ports: unknown[] = [], status?: Record<string, unknown>, spec: Record<string, unknown> = {}): KObject {
      store.create(t.pod, { metadata: { name, namespace: NS, labels }, spec: { nodeName, containers: [{ name: 'c', image: 'x', ports }], ...spec } });
      return status ? h.status(name, status) : store.get(t.pod, NS, name)!;
    },
    status(name: string, status: Record<string, unknown>): KObject {
      const cur = store.get(t.pod, NS, name)!;
      cur.status = { ...(cur.status as object), ...status };
      return store.update(t.pod, cur, { subresource: 'status' });
    },
    slices(service: string): KObject[] {
      return store.list(t.slice, NS).filter((s) => s.metadata.labels?.['kubernetes.io/service-name'] === service);
    },
    endpoints(name: string): KObject | undefined {
      return store.get(t.ep, NS, name);
    },
    /** Lets the controllers' batch run (they never write inside a store listener). */
    async settle(): Promise<void> {
      for (let i = 0; i < 4; i++) await new Promise((r) => setImmediate(r));
    },
  };
  return h;
}

const running = (ip: string, ready = true, extra: Record<string, unknown> = {}) => ({
  podIP: ip,
  podIPs: [{ ip }],
  conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }],
  ...extra,
});

interface EndpointJson {
  addresses: string[];
  conditions: Record<string, boolean>;
  targetRef: { name: string };
  [k: string]: unknown;
}
const sliceEndpoints = (s: KObject) => (s.endpoints as EndpointJson[] | null) ?? [];
const names = (s: KObject) => sliceEndpoints(s).map((e) => e.targetRef.name).sort();

describe('endpointslice controller', () => {
  it('builds the slice and the Endpoints the real controllers build', async () => {
    const h = setup();
    h.node('n1', 'z1');
    const svc = h.service('web', { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] }, { tier: 'fe' });
    const p1 = h.pod('p1', { app: 'web' }, 'n1', [{ name: 'http', containerPort: 8080 }], running('10.244.0.11'));
    await h.settle();

    const [slice, ...more] = h.slices('web');
    expect(more).toEqual([]);
    expect(slice!.metadata).toMatchObject({
      generateName: 'web-',
      namespace: NS,
      labels: { tier: 'fe', 'kubernetes.io/service-name': 'web', 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' },
      annotations: { 'endpoints.kubernetes.io/last-change-trigger-time': svc.metadata.creationTimestamp },
      ownerReferences: [{ apiVersion: 'v1', kind: 'Service', name: 'web', uid: svc.metadata.uid, controller: true, blockOwnerDeletion: true }],
    });
    expect(slice!.metadata.name).toMatch(/^web-[a-z0-9]{5}$/);
    expect(slice).toMatchObject({
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      addressType: 'IPv4',
      endpoints: [{
        addresses: ['10.244.0.11'],
        conditions: { ready: true, serving: true, terminating: false },
        targetRef: { kind: 'Pod', namespace: NS, name: 'p1', uid: p1.metadata.uid },
        nodeName: 'n1',
        zone: 'z1',
      }],
      ports: [{ name: 'http', protocol: 'TCP', port: 8080 }],
    });

    const ep = h.endpoints('web')!;
    expect(ep.metadata.labels).toEqual({ tier: 'fe' });
    expect(ep.subsets).toEqual([{
      addresses: [{ ip: '10.244.0.11', nodeName: 'n1', targetRef: { kind: 'Pod', namespace: NS, name: 'p1', uid: p1.metadata.uid } }],
      ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    }]);
  });

  it('does not write from inside the store listener', async () => {
    const h = setup();
    h.node('n1');
    h.service('web', { selector: { app: 'web' }, ports: [{ port: 80 }] });
    expect(h.slices('web')).toEqual([]);
    await h.settle();
    expect(h.slices('web')).toHaveLength(1);
    h.pod('p1', { app: 'web' }, 'n1', [], running('10.1.1.1'));
    expect(sliceEndpoints(h.slices('web')[0]!)).toEqual([]);
    await h.settle();
    expect(names(h.slices('web')[0]!)).toEqual(['p1']);
  });

  const conditions: Array<[string, { ready: boolean; terminating?: boolean; publish?: boolean }, Record<string, boolean>, 'addresses' | 'notReadyAddresses' | undefined]> = [
    ['ready', { ready: true }, { ready: true, serving: true, terminating: false }, 'addresses'],
    ['not ready', { ready: false }, { ready: false, serving: false, terminating: false }, 'notReadyAddresses'],
    ['terminating, still ready', { ready: true, terminating: true }, { ready: false, serving: true, terminating: true }, undefined],
    ['terminating, not ready', { ready: false, terminating: true }, { ready: false, serving: false, terminating: true }, undefined],
    ['not ready, published anyway', { ready: false, publish: true }, { ready: true, serving: false, terminating: false }, 'addresses'],
    ['terminating, published anyway', { ready: true, terminating: true, publish: true }, { ready: true, serving: true, terminating: true }, 'addresses'],
  ];
  it.each(conditions)('endpoint conditions: %s', async (_t, c, want, endpointsList) => {
    const h = setup();
    h.node('n1');
    h.service('web', { selector: { app: 'web' }, publishNotReadyAddresses: !!c.publish, ports: [{ port: 80 }] });
    h.pod('p1', { app: 'web' }, 'n1', [], running('10.1.1.1', c.ready));
    if (c.terminating) h.store.delete(h.t.pod, NS, 'p1');
    await h.settle();
    expect(sliceEndpoints(h.slices('web')[0]!)[0]!.conditions).toEqual(want);
    const subsets = (h.endpoints('web')!.subsets ?? []) as EndpointSubset[];
    if (endpointsList) expect(subsets[0]?.[endpointsList]?.map((a) => a.ip)).toEqual(['10.1.1.1']);
    else expect(subsets).toEqual([]);
  });

  it('follows a pod through not ready, terminating and deletion, updating in place', async () => {
    const h = setup();
    h.node('n1');
    h.service('web', { selector: { app: 'web' }, ports: [{ port: 80 }] });
    h.pod('p1', { app: 'web' }, 'n1', [], running('10.1.1.1'));
    h.pod('p2', { app: 'web' }, 'n1', [], running('10.1.1.2'));
    await h.settle();
    const name = h.slices('web')[0]!.metadata.name;
    const sliceWrites = () => h.events.filter((e) => e.kind === 'EndpointSlice' && e.ev.type === 'MODIFIED').length;

    let before = sliceWrites();
    h.status('p1', { conditions: [{ type: 'Ready', status: 'False' }] });
    await h.settle();
    expect(sliceWrites() - before).toBe(1);
    let slice = h.slices('web')[0]!;
    expect(slice.metadata.name).toBe(name);
    expect(sliceEndpoints(slice).find((e) => e.targetRef.name === 'p1')!.conditions).toEqual({ ready: false, serving: false, terminating: false });
    expect((h.endpoints('web')!.subsets as EndpointSubset[])[0]).toMatchObject({ addresses: [{ ip: '10.1.1.2' }], notReadyAddresses: [{ ip: '10.1.1.1' }] });

    h.store.delete(h.t.pod, NS, 'p2');
    await h.settle();
    slice = h.slices('web')[0]!;
    expect(sliceEndpoints(slice).find((e) => e.targetRef.name === 'p2')!.conditions).toEqual({ ready: false, serving: true, terminating: true });
    expect(h.endpoints('web')!.subsets).toEqual([expect.not.objectContaining({ addresses: expect.anything() })]);

    before = sliceWrites();
    h.store.delete(h.t.pod, NS, 'p2', { gracePeriodSeconds: 0 });
    await h.settle();
    expect(sliceWrites() - before).toBe(1);
    expect(names(h.slices('web')[0]!)).toEqual(['p1']);
  });

  it('writes nothing when nothing it publishes changed', async () => {
    const h = setup();
    h.node('n1');
    h.service('web', { selector: { app: 'web' }, ports: [{ port: 80 }] });
    h.pod('p1', { app: 'web' }, 'n1', [], running('10.1.1.1'));
    await h.settle();
    const rvs = () => [h.slices('web')[0]!.metadata.resourceVersion, h.endpoints('web')!.metadata.resourceVersion];
    const before = rvs();
    const cur = h.store.get(h.t.pod, NS, 'p1')!;
    cur.metadata.annotations = { touched: 'yes' };
    h.store.update(h.t.pod, cur);
    h.store.update(h.t.node, { ...h.store.get(h.t.node, undefined, 'n1')!, metadata: { name: 'n1', labels: { other: 'x' } } });
    await h.settle();
    expect(rvs()).toEqual(before);
  });

  const skipped: Array<[string, (h: ReturnType<typeof setup>) => void]> = [
    ['no pod IP yet', (h) => h.pod('p', { app: 'web' }, 'n1', [], { conditions: [{ type: 'Ready', status: 'True' }] })],
    ['finished pod', (h) => h.pod('p', { app: 'web' }, 'n1', [], running('10.1.1.9', true, { phase: 'Succeeded' }))],
    ['other labels', (h) => h.pod('p', { app: 'other' }, 'n1', [], running('10.1.1.9'))],
    ['other namespace', (h) => {
      h.store.create(h.t.ns, { metadata: { name: 'ns2' } });
      h.store.create(h.t.pod, { metadata: { name: 'p', namespace: 'ns2', labels: { app: 'web' } }, spec: { nodeName: 'n1', containers: [] }, status: running('10.1.1.9') });
    }],
  ];
  it.each(skipped)('leaves out a pod: %s', async (_t, make) => {
    const h = setup();
    h.node('n1');
    h.service('web', { selector: { app: 'web' }, ports: [{ port: 80 }] });
    make(h);
    await h.settle();
    expect(h.slices('web')).toHaveLength(1);
    expect(sliceEndpoints(h.slices('web')[0]!)).toEqual([]);
    expect(h.endpoints('web')!.subsets).toBeUndefined();
  });

  it('includes a pod once its Node exists (Endpoints never waited for it)', async () => {
    const h = setup();
    h.service('web', { selector: { app: 'web' }, ports: [{ port: 80 }] });
    h.pod('p1', { app: 'web' }, 'late', [], running('10.1.1.1'));
    await h.settle();
    expect(sliceEndpoints(h.slices('web')[0]!)).toEqual([]);
    expect((h.endpoints('web')!.subsets as EndpointSubset[])[0]!.addresses![0]!.nodeName).toBe('late');
    h.node('late', 'z9');
    await h.settle();
    expect(sliceEndpoints(h.slices('web')[0]!)).toMatchObject([{ nodeName: 'late', zone: 'z9' }]);
  });

  it('groups pods by resolved ports and orders ports as the real controller does', async () => {
    const h = setup();
    h.node('n1');
    h.service('web', {
      selector: { app: 'web' },
      ports: [{ name: 'http', port: 80, targetPort: 'http' }, { name: 'metrics', port: 9090 }, { name: 'dns', port: 53, protocol: 'UDP', targetPort: 'dns' }],
    });
    for (const [i, p] of [8081, 8082, 8083, 8081].entries()) {
      h.pod(`p${i}`, { app: 'web' }, 'n1', [{ name: 'http', containerPort: p }, { name: 'dns', containerPort: 5353, protocol: 'UDP' }], running(`10.1.1.${i}`));
    }
    // A named port with the wrong protocol does not resolve.
    h.pod('p9', { app: 'web' }, 'n1', [{ name: 'http', containerPort: 8081 }, { name: 'dns', containerPort: 5353 }], running('10.1.1.9'));
    await h.settle();
    const byPorts = Object.fromEntries(h.slices('web').map((s) => [
      (s.ports as Array<{ name: string; port: number }>).map((p) => `${p.name}:${p.port}`).join(','),
      names(s),
    ]));
    expect(byPorts).toEqual({
      'http:8081,metrics:9090,dns:5353': ['p0', 'p3'],
      'http:8082,metrics:9090,dns:5353': ['p1'],
      'metrics:9090,http:8083,dns:5353': ['p2'],
      'http:8081,metrics:9090': ['p9'],
    });
  });

  it('splits beyond the slice size and packs changes into existing slices', async () => {
    const h = setup({ maxEndpointsPerSlice: 3 });
    h.node('n1');
    h.service('web', { selector: { app: 'web' }, ports: [{ port: 80 }] });
    for (let i = 0; i < 7; i++) h.pod(`p${i}`, { app: 'web' }, 'n1', [], running(`10.1.1.${i}`));
    await h.settle();
    expect(h.slices('web').map((s) => sliceEndpoints(s).length).sort()).toEqual([1, 3, 3]);
    const before = new Set(h.slices('web').map((s) => s.metadata.name));
    h.pod('p7', { app: 'web' }, 'n1', [], running('10.1.1.7'));
    await h.settle();
    // The new endpoint goes into the slice with room, not a new one.
    expect(h.slices('web').map((s) => sliceEndpoints(s).length).sort()).toEqual([2, 3, 3]);
    expect(new Set(h.slices('web').map((s) => s.metadata.name))).toEqual(before);
  });

  it('holds at most 100 endpoints per slice by default', async () => {
    const h = setup();
    h.node('n1');
    h.service('web', { selector: { app: 'web' }, ports: [{ port: 80 }] });
    for (let i = 0; i < 150; i++) h.pod(`p${i}`, { app: 'web' }, 'n1', [], running(`10.1.${i >> 8}.${i & 255}`));
    await h.settle();
    expect(h.slices('web').map((s) => sliceEndpoints(s).length).sort()).toEqual([100, 50]);
  });

  it('keeps one placeholder slice, reused in place, when nothing is left', async () => {
    const h = setup();
    h.node('n1');
    h.service('web', { selector: { app: 'web' }, ports: [{ port: 80 }] });
    h.pod('p1', { app: 'web' }, 'n1', [], running('10.1.1.1'));
    await h.settle();
    const name = h.slices('web')[0]!.metadata.name;
    h.store.delete(h.t.pod, NS, 'p1', { gracePeriodSeconds: 0 });
    await h.settle();
    const [slice, ...rest] = h.slices('web');
    expect(rest).toEqual([]);
    expect(slice!.metadata.name).toBe(name);
    expect(slice).toMatchObject({ endpoints: null, ports: null });
  });

  it('removes slices and Endpoints with the Service', async () => {
    const h = setup();
    h.node('n1');
    h.service('web', { selector: { app: 'web' }, ports: [{ port: 80 }] });
    h.pod('p1', { app: 'web' }, 'n1', [], running('10.1.1.1'));
    await h.settle();
    h.store.delete(h.t.svc, NS, 'web');
    await h.settle();
    expect(h.slices('web')).toEqual([]);
    expect(h.endpoints('web')).toBeUndefined();
  });

  it('puts back a managed slice someone else changed or deleted', async () => {
    const h = setup();
    h.node('n1');
    h.service('web', { selector: { app: 'web' }, ports: [{ port: 80 }] });
    h.pod('p1', { app: 'web' }, 'n1', [], running('10.1.1.1'));
    await h.settle();
    const slice = h.slices('web')[0]!;
    h.store.update(h.t.slice, { ...slice, endpoints: [] });
    await h.settle();
    expect(names(h.slices('web')[0]!)).toEqual(['p1']);
    h.store.delete(h.t.slice, NS, slice.metadata.name!);
    await h.settle();
    expect(names(h.slices('web')[0]!)).toEqual(['p1']);
  });

  it('labels headless Services and publishes no ports for them', async () => {
    const h = setup();
    h.node('n1');
    h.service('hl', { clusterIP: 'None', selector: { app: 'web' } }, { x: 'z' });
    h.pod('p1', { app: 'web' }, 'n1', [], running('10.1.1.1'));
    await h.settle();
    const slice = h.slices('hl')[0]!;
    expect(slice.metadata.labels).toEqual({ x: 'z', 'service.kubernetes.io/headless': '', 'kubernetes.io/service-name': 'hl', 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' });
    expect(slice.ports).toBeNull();
    const ep = h.endpoints('hl')!;
    expect(ep.metadata.labels).toEqual({ x: 'z', 'service.kubernetes.io/headless': '' });
    expect(ep.subsets).toEqual([{ addresses: [expect.objectContaining({ ip: '10.1.1.1' })] }]);
  });

  it('copies Service labels to slices except the reserved ones, and all of them to Endpoints', async () => {
    const h = setup();
    h.node('n1');
    h.service('web', { selector: { app: 'web' }, ports: [{ port: 80 }] }, { tier: 'fe', 'kubernetes.io/service-name': 'evil' });
    await h.settle();
    expect(h.slices('web')[0]!.metadata.labels).toEqual({ tier: 'fe', 'kubernetes.io/service-name': 'web', 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' });
    expect(h.endpoints('web')!.metadata.labels).toEqual({ tier: 'fe', 'kubernetes.io/service-name': 'evil' });
  });

  it('gives ExternalName and selectorless Services nothing', async () => {
    const h = setup();
    h.service('ext', { type: 'ExternalName', externalName: 'a.b', selector: { app: 'web' } });
    h.service('nosel', { ports: [{ port: 80 }] });
    await h.settle();
    expect(h.store.list(h.t.slice, NS)).toEqual([]);
    expect(h.store.list(h.t.ep, NS)).toEqual([]);
  });

  it('truncates Endpoints beyond capacity, keeping ready addresses, and says so', async () => {
    const h = setup({ maxEndpointsCapacity: 3 });
    h.node('n1');
    h.service('web', { selector: { app: 'web' }, ports: [{ port: 80 }] });
    for (let i = 0; i < 5; i++) h.pod(`p${i}`, { app: 'web' }, 'n1', [], running(`10.1.1.${i}`, i < 2));
    await h.settle();
    const ep = h.endpoints('web')!;
    expect(ep.metadata.annotations?.['endpoints.kubernetes.io/over-capacity']).toBe('truncated');
    const [subset] = ep.subsets as EndpointSubset[];
    expect(subset!.addresses!.map((a) => a.ip)).toEqual(['10.1.1.0', '10.1.1.1']);
    expect(subset!.notReadyAddresses).toHaveLength(1);
    // Slices are not capped that way.
    expect(sliceEndpoints(h.slices('web')[0]!)).toHaveLength(5);
  });

  it('removes Endpoints left behind by Services deleted before it started, except leader locks', async () => {
    const resources = builtinResources();
    const store = new Store(resources);
    const ep = store.find('', 'endpoints')!;
    store.create(store.find('', 'namespaces')!, { metadata: { name: NS } });
    store.create(ep, { metadata: { name: 'stale', namespace: NS } });
    store.create(ep, { metadata: { name: 'lock', namespace: NS, annotations: { 'control-plane.alpha.kubernetes.io/leader': '{}' } } });
    stops.push(startEndpointsController(store));
    for (let i = 0; i < 4; i++) await new Promise((r) => setImmediate(r));
    expect(store.list(ep, NS).map((e) => e.metadata.name)).toEqual(['lock']);
  });

  it('stamps the trigger time: Service creation first, then Ready transitions, none without', async () => {
    const h = setup();
    h.node('n1');
    const svc = h.service('web', { selector: { app: 'web' }, ports: [{ port: 80 }] });
    await h.settle();
    const trigger = () => [h.slices('web')[0]!.metadata.annotations?.['endpoints.kubernetes.io/last-change-trigger-time'], h.endpoints('web')!.metadata.annotations?.['endpoints.kubernetes.io/last-change-trigger-time']];
    expect(trigger()).toEqual([svc.metadata.creationTimestamp, svc.metadata.creationTimestamp]);
    h.pod('p1', { app: 'web' }, 'n1', [], { podIP: '10.1.1.1', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: '2030-01-02T03:04:05Z' }] });
    await h.settle();
    expect(trigger()).toEqual(['2030-01-02T03:04:05Z', '2030-01-02T03:04:05Z']);
    h.pod('p2', { app: 'web' }, 'n1', [], running('10.1.1.2'));
    await h.settle();
    expect(trigger()).toEqual([undefined, undefined]);
  });
});

describe('selectorless Services and mirroring', () => {
  const userEndpoints = (h: ReturnType<typeof setup>, extra: Record<string, string> = {}) =>
    h.store.create(h.t.ep, {
      metadata: { name: 'ext', namespace: NS, labels: { foo: 'bar', ...extra }, annotations: { a: 'b', 'kubectl.kubernetes.io/last-applied-configuration': '{}' } },
      subsets: [
        { addresses: [{ ip: '1.2.3.4', nodeName: 'n1' }, { ip: '1.2.3.5', hostname: 'h5' }], notReadyAddresses: [{ ip: '1.2.3.6' }], ports: [{ name: 'http', port: 8080, protocol: 'TCP' }, { name: 'https', port: 8443, protocol: 'TCP' }] },
        { addresses: [{ ip: '2.2.2.2' }], ports: [{ name: 'other', port: 9999, protocol: 'UDP' }] },
      ],
    });

  it('mirrors user Endpoints into slices as the mirroring controller does', async () => {
    const h = setup();
    h.service('ext', { ports: [{ name: 'http', port: 80, targetPort: 8080 }, { name: 'https', port: 443 }] });
    const ep = userEndpoints(h);
    await h.settle();
    const slices = h.slices('ext').sort((a, b) => sliceEndpoints(a).length - sliceEndpoints(b).length);
    expect(slices).toHaveLength(2);
    for (const s of slices) {
      expect(s.metadata).toMatchObject({
        generateName: 'ext-',
        labels: { foo: 'bar', 'kubernetes.io/service-name': 'ext', 'endpointslice.kubernetes.io/managed-by': 'endpointslicemirroring-controller.k8s.io' },
        annotations: { a: 'b' },
        ownerReferences: [{ apiVersion: 'v1', kind: 'Endpoints', name: 'ext', uid: ep.metadata.uid, controller: true, blockOwnerDeletion: true }],
      });
      expect(s.metadata.annotations).not.toHaveProperty('kubectl.kubernetes.io/last-applied-configuration');
      expect(s.addressType).toBe('IPv4');
    }
    expect(slices[0]).toMatchObject({ endpoints: [{ addresses: ['2.2.2.2'], conditions: { ready: true } }], ports: [{ name: 'other', protocol: 'UDP', port: 9999 }] });
    expect(sliceEndpoints(slices[1]!).sort((a, b) => (a.addresses[0]! < b.addresses[0]! ? -1 : 1))).toEqual([
      { addresses: ['1.2.3.4'], conditions: { ready: true }, nodeName: 'n1' },
      { addresses: ['1.2.3.5'], conditions: { ready: true }, hostname: 'h5' },
      { addresses: ['1.2.3.6'], conditions: { ready: false } },
    ]);
    expect(slices[1]!.ports).toEqual([{ name: 'http', protocol: 'TCP', port: 8080 }, { name: 'https', protocol: 'TCP', port: 8443 }]);
    // The user's Endpoints are theirs.
    expect(h.endpoints('ext')!.metadata.resourceVersion).toBe(ep.metadata.resourceVersion);
  });

  it('follows changes to the Endpoints and drops the mirror when they go', async () => {
    const h = setup();
    h.service('ext', { ports: [{ port: 80 }] });
    userEndpoints(h);
    await h.settle();
    const cur = h.endpoints('ext')!;
    cur.subsets = [{ addresses: [{ ip: '3.3.3.3' }], ports: [{ name: 'http', port: 8080, protocol: 'TCP' }] }];
    h.store.update(h.t.ep, cur);
    await h.settle();
    const slices = h.slices('ext');
    expect(slices.map((s) => sliceEndpoints(s).map((e) => e.addresses[0]))).toEqual([['3.3.3.3']]);
    h.store.delete(h.t.ep, NS, 'ext');
    await h.settle();
    expect(h.slices('ext')).toEqual([]);
  });

  const noMirror: Array<[string, (h: ReturnType<typeof setup>) => void]> = [
    ['skip-mirror label', (h) => { h.service('ext', { ports: [{ port: 80 }] }); userEndpoints(h, { 'endpointslice.kubernetes.io/skip-mirror': 'true' }); }],
    ['no Service', (h) => { userEndpoints(h); }],
    ['Service with a selector', (h) => { h.service('ext', { selector: { app: 'x' }, ports: [{ port: 80 }] }); userEndpoints(h); }],
  ];
  it.each(noMirror)('does not mirror: %s', async (_t, make) => {
    const h = setup();
    make(h);
    await h.settle();
    expect(h.slices('ext').filter((s) => s.metadata.labels?.['endpointslice.kubernetes.io/managed-by'] === 'endpointslicemirroring-controller.k8s.io')).toEqual([]);
  });

  it('leaves user slices alone, and user Endpoints until their Service is deleted', async () => {
    const h = setup();
    h.service('ext', { ports: [{ port: 80 }] });
    const own = h.store.create(h.t.slice, {
      metadata: { name: 'ext-mine', namespace: NS, labels: { 'kubernetes.io/service-name': 'ext' } },
      addressType: 'IPv4', endpoints: [{ addresses: ['9.9.9.9'] }], ports: [{ port: 80 }],
    });
    userEndpoints(h);
    const orphan = h.store.create(h.t.ep, { metadata: { name: 'orphan', namespace: NS }, subsets: [{ addresses: [{ ip: '4.4.4.4' }] }] });
    await h.settle();
    expect(h.store.get(h.t.slice, NS, 'ext-mine')!.metadata.resourceVersion).toBe(own.metadata.resourceVersion);
    expect(h.endpoints('orphan')!.metadata.resourceVersion).toBe(orphan.metadata.resourceVersion);
    h.store.delete(h.t.svc, NS, 'ext');
    await h.settle();
    expect(h.endpoints('ext')).toBeUndefined();
    expect(h.slices('ext').map((s) => s.metadata.name)).toEqual(['ext-mine']);
  });

  it('takes over from the mirror when a selector is added', async () => {
    const h = setup();
    h.node('n1');
    h.service('ext', { ports: [{ port: 80 }] });
    userEndpoints(h);
    h.pod('p1', { app: 'x' }, 'n1', [], running('10.1.1.1'));
    await h.settle();
    const cur = h.store.get(h.t.svc, NS, 'ext')!;
    (cur.spec as Record<string, unknown>).selector = { app: 'x' };
    h.store.update(h.t.svc, cur);
    await h.settle();
    expect(h.slices('ext').map((s) => s.metadata.labels?.['endpointslice.kubernetes.io/managed-by'])).toEqual(['endpointslice-controller.k8s.io']);
    expect((h.endpoints('ext')!.subsets as EndpointSubset[])[0]!.addresses!.map((a) => a.ip)).toEqual(['10.1.1.1']);
  });
});

describe('Go hash orderings (values recorded from a real cluster)', () => {
  it('sorts slice ports as NewPortMapKey does', () => {
    const ports = (http: number) => [
      { name: 'http', protocol: 'TCP', port: http },
      { name: 'metrics', protocol: 'TCP', port: 9090 },
      { name: 'dns', protocol: 'UDP', port: 5353 },
    ];
    const order = (http: number) => sortSlicePorts(ports(http).reverse()).map((p) => p.name);
    expect(order(8081)).toEqual(['http', 'metrics', 'dns']);
    expect(order(8082)).toEqual(['http', 'metrics', 'dns']);
    expect(order(8083)).toEqual(['metrics', 'http', 'dns']);
    expect(sortCorePorts([{ name: 'dns', port: 5353, protocol: 'UDP' }, { name: 'metrics', port: 9090, protocol: 'TCP' }]).map((p) => p.name)).toEqual(['metrics', 'dns']);
  });

  it('sorts Endpoints subsets as SortSubsets does', () => {
    const ns = 'svcw-32092';
    const addr = (name: string, ip: string, node: string, uid: string) => ({ ip, nodeName: node, targetRef: { kind: 'Pod', namespace: ns, name, uid } });
    const p1 = addr('p1', '10.244.0.11', 'svcw-n1', '503c1ab0-fe88-46c1-8b24-d09dafb3a97c');
    const p2 = addr('p2', '10.244.0.12', 'svcw-n1', 'a5a26828-7104-49df-9f71-ee6c59ad37bc');
    const p3 = addr('p3', '10.244.1.13', 'svcw-n2', 'c0f03e88-4135-4c8a-9eec-6c8b8d878384');
    const real: EndpointSubset[] = [
      { notReadyAddresses: [p2], ports: [{ name: 'http', port: 8082, protocol: 'TCP' }] },
      { addresses: [p1, p3], notReadyAddresses: [p2], ports: [{ name: 'metrics', port: 9090, protocol: 'TCP' }, { name: 'dns', port: 5353, protocol: 'UDP' }] },
      { addresses: [p1], ports: [{ name: 'http', port: 8081, protocol: 'TCP' }] },
      { addresses: [p3], ports: [{ name: 'http', port: 8083, protocol: 'TCP' }] },
    ];
    const shuffled = structuredClone([real[2]!, real[0]!, real[3]!, real[1]!]);
    shuffled[3]!.ports!.reverse();
    shuffled[3]!.addresses!.reverse();
    expect(sortSubsets(shuffled)).toEqual(real);
  });
});

describe('scale', () => {
  it('handles 1000 Services and 5000 EndpointSlices, touching only what a change affects', async () => {
    const h = setup();
    h.node('n1');
    const started = Date.now();
    for (let s = 0; s < 1000; s++) {
      h.service(`s${s}`, { selector: { svc: `s${s}` }, ports: [{ name: 'p', port: 80, targetPort: 'p' }] });
      for (let i = 0; i < 5; i++) {
        // Each pod resolves the named port differently, so each gets its own slice. Status is
        // written with the pod (a bare Store allows it) to keep the test quick.
        h.store.create(h.t.pod, {
          metadata: { name: `s${s}-p${i}`, namespace: NS, labels: { svc: `s${s}` } },
          spec: { nodeName: 'n1', containers: [{ name: 'c', ports: [{ name: 'p', containerPort: 8000 + i }] }] },
          status: running(`10.${s >> 8}.${s & 255}.${i + 1}`),
        });
      }
    }
    await h.settle();
    const setupMs = Date.now() - started;
    expect(h.store.list(h.t.slice).length).toBe(5000);

    const mark = h.events.length;
    const t0 = performance.now();
    h.status('s500-p3', { conditions: [{ type: 'Ready', status: 'False' }] });
    await h.settle();
    const changeMs = performance.now() - t0;
    const writes = h.events.slice(mark).filter((e) => e.kind !== 'Pod');
    expect(writes.map((e) => [e.kind, e.ev.type])).toEqual([['Endpoints', 'MODIFIED'], ['EndpointSlice', 'MODIFIED']]);
    expect(writes[1]!.ev.object.metadata.labels?.['kubernetes.io/service-name']).toBe('s500');
    expect(changeMs).toBeLessThan(100);
    expect(setupMs).toBeLessThan(20_000);
  }, 60_000);
});
