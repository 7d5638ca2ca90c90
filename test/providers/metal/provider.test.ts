// The metal provider through the same path the reconciler uses: Services → model builder
// (which calls parseOptions) → ensure, after restore() with what the statuses hold.
import type { V1Service } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { buildServiceModel, heldAddressesOf } from '../../../src/controller/service-model.js';
import type { L4Spec } from '../../../src/model/spec.js';
import { formatModelError } from '../../../src/model/validation.js';
import { IP_ALLOCATED_FROM_POOL } from '../../../src/providers/metal/annotations.js';
import { createMetalProvider, type MetalLbOptions, type MetalProvider } from '../../../src/providers/metal/index.js';
import { parseConfig } from '../../../src/config/config.js';
import { buildProviders } from '../../../src/providers/registry.js';
import { isMetalProvider } from '../../../src/providers/metal/index.js';
import { rejection } from '../rejection.js';

const OPTIONS = {
  pools: [
    { name: 'public', addresses: ['10.20.0.0/30'] },
    { name: 'reserved', addresses: ['10.20.1.0/30'], autoAssign: false },
    { name: 'dual', addresses: ['10.20.2.0/31', 'fd00:20::/127'] },
  ],
};

function provider(): MetalProvider {
  return createMetalProvider({ name: 'metal', clusterName: 'test', options: OPTIONS, configPath: 'providers[0].options' });
}

let seq = 0;
function svc(name: string, opts: { annotations?: Record<string, string>; spec?: V1Service['spec']; status?: string[]; created?: string } = {}): V1Service {
  return {
    metadata: {
      name,
      namespace: 'default',
      uid: `uid-${name}`,
      creationTimestamp: new Date(opts.created ?? `2024-01-01T00:00:${String(seq++ % 60).padStart(2, '0')}Z`),
      ...(opts.annotations ? { annotations: opts.annotations } : {}),
    },
    spec: { type: 'LoadBalancer', loadBalancerClass: 'lbc.dev/metal', ports: [{ port: 80, protocol: 'TCP', targetPort: 8080 }], ...opts.spec },
    ...(opts.status ? { status: { loadBalancer: { ingress: opts.status.map((ip) => ({ ip })) } } } : {}),
  };
}

function specOf(p: MetalProvider, s: V1Service): L4Spec<MetalLbOptions> {
  const r = buildServiceModel({ service: s, nodes: [], endpointSlices: [], provider: p, className: 'lbc.dev/metal', clusterName: 'test' });
  if (!r.ok) throw new Error(r.errors.map(formatModelError).join('; '));
  return r.spec;
}

function modelErrors(p: MetalProvider, s: V1Service): string[] {
  const r = buildServiceModel({ service: s, nodes: [], endpointSlices: [], provider: p, className: 'lbc.dev/metal', clusterName: 'test' });
  return r.ok ? [] : r.errors.map(formatModelError);
}


/** A provider restored from the statuses of the Services of its class, as the controller restores it at start. */
async function restored(services: V1Service[]): Promise<{ p: MetalProvider }> {
  const p = provider();
  await p.restore(services.filter((s) => s.spec?.loadBalancerClass === 'lbc.dev/metal').flatMap((s) => heldAddressesOf(s, p) ?? []));
  return { p };
}

describe('metal provider: annotations (parseOptions via the model builder)', () => {
  it('reads MetalLB annotations under both prefixes and lbc.dev/', () => {
    const p = provider();
    for (const prefix of ['metallb.universe.tf/', 'metallb.io/']) {
      const spec = specOf(p, svc('a', { annotations: { [`${prefix}loadBalancerIPs`]: '10.20.1.2', [`${prefix}address-pool`]: 'reserved', [`${prefix}allow-shared-ip`]: 'k' } }));
      expect(spec.providerOptions).toMatchObject({ addresses: ['10.20.1.2'], pool: 'reserved', sharingKey: 'k' });
    }
    expect(specOf(p, svc('a', { annotations: { 'lbc.dev/load-balancer-ips': 'fd00:20:0::1, 10.20.2.1' } })).providerOptions.addresses).toEqual(['fd00:20::1', '10.20.2.1']);
  });

  it('collects every bad annotation, each by name', () => {
    const p = provider();
    expect(
      modelErrors(
        p,
        svc('a', {
          annotations: {
            'metallb.universe.tf/loadBalancerIPs': '10.20.0.1,10.20.0.2',
            'metallb.universe.tf/address-pool': 'nope',
            'metallb.universe.tf/allow-shared-ip': 'k1',
            'metallb.io/allow-shared-ip': 'k2',
          },
        }),
      ),
    ).toEqual([
      'annotation metallb.universe.tf/loadBalancerIPs: lists two IPv4 addresses; at most one per family',
      'annotation metallb.io/allow-shared-ip: conflicts with metallb.universe.tf/allow-shared-ip, which is set to a different value; set only one',
    ]);
    expect(modelErrors(p, svc('a', { annotations: { 'metallb.universe.tf/address-pool': 'nope' } }))).toEqual([
      'annotation metallb.universe.tf/address-pool: pool "nope" is not configured (pools: public, reserved, dual)',
    ]);
    expect(modelErrors(p, svc('a', { annotations: { 'metallb.universe.tf/loadBalancerIPs': '10.20.0.300' } }))).toEqual([
      'annotation metallb.universe.tf/loadBalancerIPs: "10.20.0.300" is not an IP address',
    ]);
  });
});

describe('metal provider: ensure', () => {
  it('refuses to allocate before restore has told it the addresses in use', async () => {
    const p = provider();
    const e = await rejection(p.ensure(specOf(p, svc('a'))));
    expect(e.kind).toBe('transient');
    expect(e.message).toContain('the addresses in use are not known yet (restore has not run)');
  });

  it('returns the address with ipMode VIP, the same one every time', async () => {
    const a = svc('a');
    const { p } = await restored([a]);
    const status = await p.ensure(specOf(p, a));
    expect(status).toEqual({ ingress: [{ ip: '10.20.0.0', ipMode: 'VIP' }], annotations: { [IP_ALLOCATED_FROM_POOL]: 'public' } });
    expect(await p.ensure(specOf(p, a))).toEqual(status);
    expect(await p.plan(specOf(p, a))).toEqual([]);
    expect(await p.listOwned()).toEqual([{ ref: { kind: 'Service', namespace: 'default', name: 'a', uid: 'uid-a' }, id: '10.20.0.0' }]);
  });

  it('dual-stack Services get one address of each family', async () => {
    const a = svc('a', { spec: { ipFamilies: ['IPv6', 'IPv4'], ipFamilyPolicy: 'RequireDualStack' } });
    const { p } = await restored([a]);
    expect(await p.ensure(specOf(p, a))).toEqual({ ingress: [{ ip: 'fd00:20::', ipMode: 'VIP' }, { ip: '10.20.2.0', ipMode: 'VIP' }], annotations: { [IP_ALLOCATED_FROM_POOL]: 'dual' } });
  });

  it('honours spec.loadBalancerIP, and refuses it together with the annotation', async () => {
    const a = svc('a', { spec: { loadBalancerIP: '10.20.1.3' } });
    const b = svc('b', { spec: { loadBalancerIP: '10.20.1.3' }, annotations: { 'metallb.universe.tf/loadBalancerIPs': '10.20.1.3' } });
    const { p } = await restored([a, b]);
    expect(await p.ensure(specOf(p, a))).toEqual({ ingress: [{ ip: '10.20.1.3', ipMode: 'VIP' }], annotations: { [IP_ALLOCATED_FROM_POOL]: 'reserved' } });
    const e = await rejection(p.ensure(specOf(p, b)));
    expect(e.kind).toBe('invalid');
    expect(e.message).toBe('Service default/b: field spec.loadBalancerIP and annotation metallb.universe.tf/loadBalancerIPs are both set; set only the annotation');
  });

  it('names the address and the annotation when it is outside every pool; other Services are unaffected', async () => {
    const a = svc('a', { annotations: { 'metallb.universe.tf/loadBalancerIPs': '192.168.9.9' } });
    const b = svc('b');
    const { p } = await restored([a, b]);
    const e = await rejection(p.ensure(specOf(p, a)));
    expect(e.kind).toBe('invalid');
    expect(e.provider).toBe('metal');
    expect(e.message).toContain('Service default/a: 192.168.9.9 (annotation metallb.universe.tf/loadBalancerIPs) is not in any address pool');
    expect(await p.ensure(specOf(p, b))).toEqual({ ingress: [{ ip: '10.20.0.0', ipMode: 'VIP' }], annotations: { [IP_ALLOCATED_FROM_POOL]: 'public' } });
  });

  it('an exhausted pool is refused as invalid (the controller puts it in the condition), naming the pool', async () => {
    const services = ['a', 'b', 'c', 'd', 'e'].map((n) => svc(n, { annotations: { 'lbc.dev/address-pool': 'public' } }));
    const { p } = await restored(services);
    for (const s of services.slice(0, 4)) await p.ensure(specOf(p, s));
    const e = await rejection(p.ensure(specOf(p, services[4] as V1Service)));
    expect(e.kind).toBe('invalid');
    expect(e.message).toBe('Service default/e: pool "public" has no free IPv4 address');
  });

  it('sharing follows externalTrafficPolicy and the selector, read from the Service', async () => {
    const ann = { 'metallb.universe.tf/allow-shared-ip': 'web', 'metallb.universe.tf/loadBalancerIPs': '10.20.0.2' };
    const http = svc('http', { annotations: ann, spec: { externalTrafficPolicy: 'Local', selector: { app: 'web' } } });
    const https = svc('https', { annotations: ann, spec: { externalTrafficPolicy: 'Local', selector: { app: 'web' }, ports: [{ port: 443, protocol: 'TCP' }] } });
    const other = svc('other', { annotations: ann, spec: { externalTrafficPolicy: 'Local', selector: { app: 'api' }, ports: [{ port: 8443, protocol: 'TCP' }] } });
    const cluster = svc('cluster', { annotations: ann, spec: { ports: [{ port: 9443, protocol: 'TCP' }] } });
    const { p } = await restored([http, https, other, cluster]);
    await p.ensure(specOf(p, http));
    expect(await p.ensure(specOf(p, https))).toEqual({ ingress: [{ ip: '10.20.0.2', ipMode: 'VIP' }], annotations: { [IP_ALLOCATED_FROM_POOL]: 'public' } });
    const e1 = await rejection(p.ensure(specOf(p, other)));
    expect(e1.kind).toBe('invalid');
    expect(e1.message).toContain('selector {app=web} differs from {app=api}');
    const e2 = await rejection(p.ensure(specOf(p, cluster)));
    expect(e2.message).toContain('externalTrafficPolicy is Local, not Cluster');
  });

  it('delete frees the address for the next Service; a stale uid frees nothing', async () => {
    const a = svc('a');
    const b = svc('b');
    const { p } = await restored([a, b]);
    await p.ensure(specOf(p, a));
    await p.delete({ kind: 'Service', namespace: 'default', name: 'a', uid: 'someone-else' });
    expect(await p.listOwned()).toHaveLength(1);
    expect(await p.plan(specOf(p, b))).toEqual([{ op: 'create', resource: 'Address', id: '10.20.0.1', detail: 'pool public' }]);
    await p.delete({ kind: 'Service', namespace: 'default', name: 'a', uid: 'uid-a' });
    expect(await p.listOwned()).toEqual([]);
    expect(await p.ensure(specOf(p, b))).toEqual({ ingress: [{ ip: '10.20.0.0', ipMode: 'VIP' }], annotations: { [IP_ALLOCATED_FROM_POOL]: 'public' } });
  });
});

describe('metal provider: state rebuilt from the statuses at start', () => {
  it('keeps every Service on its address across a restart, and new ones avoid them', async () => {
    const a = svc('a', { status: ['10.20.0.1'] });
    const b = svc('b', { status: ['10.20.0.0'] });
    const fresh = svc('fresh');
    const foreign = { ...svc('foreign', { status: ['10.20.0.2'] }), spec: { type: 'LoadBalancer' as const, loadBalancerClass: 'example.com/other' } };
    const { p } = await restored([a, b, fresh, foreign]);
    expect(await p.ensure(specOf(p, a))).toEqual({ ingress: [{ ip: '10.20.0.1', ipMode: 'VIP' }], annotations: { [IP_ALLOCATED_FROM_POOL]: 'public' } });
    expect(await p.ensure(specOf(p, fresh))).toEqual({ ingress: [{ ip: '10.20.0.2', ipMode: 'VIP' }], annotations: { [IP_ALLOCATED_FROM_POOL]: 'public' } });
    expect(p.restored?.restored.map((r) => r.owner.name).sort()).toEqual(['default/a', 'default/b']);
  });

  it('two Services claiming one address: the older keeps it, the newer is reported once, then moves', async () => {
    const older = svc('older', { status: ['10.20.0.1'], created: '2023-01-01T00:00:00Z' });
    const newer = svc('newer', { status: ['10.20.0.1'], created: '2024-01-01T00:00:00Z' });
    const { p } = await restored([newer, older]);
    const e = await rejection(p.ensure(specOf(p, newer)));
    expect(e.kind).toBe('conflict');
    expect(e.message).toContain('default/newer claims 10.20.0.1 in its status, but is in use by Service default/older');
    expect(await p.ensure(specOf(p, older))).toEqual({ ingress: [{ ip: '10.20.0.1', ipMode: 'VIP' }], annotations: { [IP_ALLOCATED_FROM_POOL]: 'public' } });
    expect(await p.ensure(specOf(p, newer))).toEqual({ ingress: [{ ip: '10.20.0.0', ipMode: 'VIP' }], annotations: { [IP_ALLOCATED_FROM_POOL]: 'public' } });
  });

  it('the newer Service that asked for the disputed address by name stays in conflict', async () => {
    const ann = { 'metallb.universe.tf/loadBalancerIPs': '10.20.0.1' };
    const older = svc('older', { status: ['10.20.0.1'], created: '2023-01-01T00:00:00Z', annotations: ann });
    const newer = svc('newer', { status: ['10.20.0.1'], created: '2024-01-01T00:00:00Z', annotations: ann });
    const { p } = await restored([older, newer]);
    // First the dispute found at restore (retryable: it moves on the next attempt, unless it asked for the address)...
    expect((await rejection(p.ensure(specOf(p, newer)))).kind).toBe('conflict');
    // ...then a sharing rule broken, which only a change fixes.
    const again = await rejection(p.ensure(specOf(p, newer)));
    expect(again.kind).toBe('invalid');
    expect(again.message).toContain('10.20.0.1 (annotation metallb.universe.tf/loadBalancerIPs) is in use by Service default/older');
  });
});

describe('metal provider: factory', () => {
  it('refuses overlapping pools at start, naming both', () => {
    expect(() =>
      createMetalProvider({
        name: 'metal',
        clusterName: 'test',
        configPath: 'providers[2].options',
        options: { pools: [{ name: 'a', addresses: ['10.0.0.0/24'] }, { name: 'b', addresses: ['10.0.0.200-10.0.1.10'] }] },
      }),
    ).toThrow('providers[2].options.pools[1].addresses[0]: 10.0.0.200-10.0.1.10 of pool "b" overlaps pool "a" (pools[0].addresses[0]: 10.0.0.0/24)');
  });

  it('is registered as type metal', async () => {
    const set = await buildProviders(
      parseConfig(`
clusterName: c
providers:
  - name: lan
    type: metal
    options: { pools: [{ name: p, addresses: [192.0.2.0/28] }] }
`),
    );
    expect(isMetalProvider(set.byName('lan'))).toBe(true);
    expect(set.byClass('lbc.dev/lan')?.type).toBe('metal');
    await expect(
      buildProviders(
        parseConfig(`
clusterName: c
providers:
  - name: lan
    type: metal
    options: { pools: [{ name: a, addresses: [192.0.2.0/28] }, { name: b, addresses: [192.0.2.8/29] }] }
`),
      ),
    ).rejects.toThrow('providers[0] (lan): providers[0].options.pools[1].addresses[0]: 192.0.2.8/29 of pool "b" overlaps pool "a" (pools[0].addresses[0]: 192.0.2.0/28)');
  });
});
