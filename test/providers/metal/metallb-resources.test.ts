// MetalLB's IPAddressPool and L2Advertisement to pools (metallb-resources.ts), and the
// allocation rules their serviceAllocation brings (allocator.ts), as MetalLB's
// internal/config/config.go and internal/allocator/allocator.go decide them.
import { describe, expect, it } from 'vitest';
import { Allocator, autoAssignOrder, type AllocationRequest } from '../../../src/providers/metal/allocator.js';
import { poolsFromResources, type MetalLbObject, type MetalLbResources } from '../../../src/providers/metal/metallb-resources.js';
import { parseMetalOptions } from '../../../src/providers/metal/options.js';
import { bgpResourceIssues } from '../../../src/providers/metal/speaker/bgp-resources.js';
import type { CustomObject } from '../../../src/kube/custom-resources.js';
import type { Pool } from '../../../src/providers/metal/pools.js';

const NS = 'metallb-system';
let uid = 0;
const obj = (name: string, spec: unknown, o: { labels?: Record<string, string>; created?: string } = {}): MetalLbObject => ({
  metadata: { name, namespace: NS, uid: `uid-${name}-${++uid}`, labels: o.labels ?? {}, creationTimestamp: o.created ?? '2026-01-01T00:00:00Z' },
  spec,
});
const res = (r: Partial<MetalLbResources>): MetalLbResources => ({ ipAddressPools: [], l2Advertisements: [], namespaces: [], ...r });
const CONFIG = parseMetalOptions({ pools: [{ name: 'file', addresses: ['192.0.2.0/28'] }] }).pools;
const names = (pools: readonly Pool[]): string[] => pools.map((p) => p.name);

describe('IPAddressPool to pool', () => {
  it('reads CIDRs and ranges, autoAssign (default true), avoidBuggyIPs, labels and origin', () => {
    const r = poolsFromResources(
      res({ ipAddressPools: [obj('lan', { addresses: ['10.0.0.0/30', '10.0.1.5-10.0.1.9', 'fd00::/126'], avoidBuggyIPs: true }, { labels: { zone: 'a' } }), obj('manual', { addresses: ['10.0.2.0/30'], autoAssign: false })] }),
      CONFIG,
    );
    expect(r.issues).toEqual([]);
    const lan = r.pools.find((p) => p.name === 'lan');
    expect(lan?.ranges.map((x) => x.text)).toEqual(['10.0.0.0/30', '10.0.1.5-10.0.1.9', 'fd00::/126']);
    expect(lan).toMatchObject({ autoAssign: true, avoidBuggyIPs: true, labels: { zone: 'a' }, origin: { kind: 'IPAddressPool', namespace: NS, name: 'lan' }, l2Advertisements: [] });
    expect(lan?.serviceAllocation).toBeUndefined();
    expect(r.pools.find((p) => p.name === 'manual')?.autoAssign).toBe(false);
  });

  it("takes a CIDR with host bits set as its network, as MetalLB's net.ParseCIDR does", () => {
    const r = poolsFromResources(res({ ipAddressPools: [obj('p', { addresses: ['10.0.0.7/30'] })] }), []);
    expect(r.issues).toEqual([]);
    expect(r.pools[0]?.ranges[0]).toMatchObject({ first: 0x0a000004n, last: 0x0a000007n });
  });

  it('refuses only the bad pool: not a CIDR or range, overlapping an older pool or the config file, or a config pool name', () => {
    const r = poolsFromResources(
      res({
        ipAddressPools: [
          obj('old', { addresses: ['10.0.0.0/24'] }, { created: '2026-01-01T00:00:00Z' }),
          obj('newer', { addresses: ['10.0.0.128/25'] }, { created: '2026-02-01T00:00:00Z' }),
          obj('typo', { addresses: ['10.0.300.0/24'] }),
          obj('onfile', { addresses: ['192.0.2.8/29'] }),
          obj('file', { addresses: ['10.9.0.0/24'] }),
          obj('empty', { addresses: [] }),
          obj('good', { addresses: ['10.1.0.0/24'] }),
        ],
      }),
      CONFIG,
    );
    expect(names(r.pools).sort()).toEqual(['good', 'old']);
    const issue = (name: string): string => r.issues.filter((i) => i.object.name === name).map((i) => i.message).join('\n');
    expect(issue('newer')).toContain(`10.0.0.128/25 overlaps 10.0.0.0/24 of IPAddressPool ${NS}/old`);
    expect(issue('typo')).toContain('spec.addresses[0]');
    expect(issue('typo')).toContain('10.0.300.0/24');
    expect(issue('onfile')).toContain(`192.0.2.8/29 overlaps 192.0.2.0/28 of pool "file" of lbc's config file (pools[0])`);
    expect(issue('file')).toContain(`by IPAddressPool ${NS}/file and by lbc's config file (pools[0])`);
    expect(issue('empty')).toContain('no CIDR or range');
    expect(r.issues.every((i) => i.object.kind === 'IPAddressPool' && i.object.apiVersion === 'metallb.io/v1beta1' && i.object.uid.startsWith('uid-'))).toBe(true);
  });

  it('the older of two overlapping pools serves, whichever order the informer lists them in', () => {
    const a = obj('a', { addresses: ['10.0.0.0/24'] }, { created: '2026-03-01T00:00:00Z' });
    const b = obj('b', { addresses: ['10.0.0.0/25'] }, { created: '2026-01-01T00:00:00Z' });
    expect(names(poolsFromResources(res({ ipAddressPools: [a, b] }), []).pools)).toEqual(['b']);
    expect(names(poolsFromResources(res({ ipAddressPools: [b, a] }), []).pools)).toEqual(['b']);
  });

  it('serviceAllocation: namespaces plus the namespaces its namespaceSelectors match now, priority, serviceSelectors', () => {
    const r = poolsFromResources(
      res({
        ipAddressPools: [
          obj('p', {
            addresses: ['10.0.0.0/24'],
            serviceAllocation: { priority: 5, namespaces: ['a'], namespaceSelectors: [{ matchLabels: { team: 'x' } }], serviceSelectors: [{ matchLabels: { app: 'web' } }] },
          }),
          obj('all', { addresses: ['10.0.1.0/24'], serviceAllocation: { priority: 2 } }),
        ],
        namespaces: [
          { name: 'b', labels: { team: 'x' } },
          { name: 'c', labels: { team: 'y' } },
        ],
      }),
      [],
    );
    expect(r.pools.find((p) => p.name === 'p')?.serviceAllocation).toEqual({ priority: 5, namespaces: ['a', 'b'], namespaceBound: true, serviceSelectors: [{ matchLabels: { app: 'web' } }] });
    expect(r.pools.find((p) => p.name === 'all')?.serviceAllocation).toEqual({ priority: 2, namespaces: [], namespaceBound: false, serviceSelectors: [] });
  });
});

describe('L2Advertisement to pools', () => {
  const pools = [obj('a', { addresses: ['10.0.0.0/24'] }, { labels: { zone: 'east' } }), obj('b', { addresses: ['10.0.1.0/24'] }, { labels: { zone: 'west' } })];

  it('no pools and no selectors: every IPAddressPool (not the config file pools, announced by their own settings)', () => {
    const r = poolsFromResources(res({ ipAddressPools: pools, l2Advertisements: [obj('all', {})] }), CONFIG);
    expect(r.pools.map((p) => [p.name, p.l2Advertisements.map((x) => x.name)])).toEqual([
      ['a', ['all']],
      ['b', ['all']],
    ]);
  });

  it('by name and by ipAddressPoolSelectors; nodeSelectors, interfaces and serviceSelectors carried as written', () => {
    const adv = obj('edge', {
      ipAddressPoolSelectors: [{ matchLabels: { zone: 'west' } }],
      nodeSelectors: [{ matchLabels: { edge: 'true' } }],
      interfaces: ['eth1'],
      serviceSelectors: [{ matchLabels: { app: 'web' } }],
    });
    const r = poolsFromResources(res({ ipAddressPools: pools, l2Advertisements: [adv, obj('named', { ipAddressPools: ['a'] })] }), []);
    expect(r.issues).toEqual([]);
    expect(r.pools.find((p) => p.name === 'a')?.l2Advertisements.map((x) => x.name)).toEqual(['named']);
    expect(r.pools.find((p) => p.name === 'b')?.l2Advertisements).toEqual([
      { name: 'edge', nodeSelectors: [{ matchLabels: { edge: 'true' } }], interfaces: ['eth1'], serviceSelectors: [{ matchLabels: { app: 'web' } }] },
    ]);
  });

  it('naming a pool that does not exist, or that was refused, is an issue on the advertisement; it still applies to the others', () => {
    const r = poolsFromResources(
      res({ ipAddressPools: [...pools, obj('bad', { addresses: ['nope'] })], l2Advertisements: [obj('adv', { ipAddressPools: ['a', 'ghost', 'bad', 'file'] })] }),
      CONFIG,
    );
    const adv = r.issues.filter((i) => i.object.kind === 'L2Advertisement');
    expect(adv).toHaveLength(1);
    expect(adv[0]?.message).toContain('"ghost", which is not an IPAddressPool in metallb-system');
    expect(adv[0]?.message).toContain('"bad", which is refused');
    expect(adv[0]?.message).toContain('"file", which is a pool of lbc\'s config file');
    expect(r.pools.find((p) => p.name === 'a')?.l2Advertisements.map((x) => x.name)).toEqual(['adv']);
  });
});

describe('BGPAdvertisement pools and the BGP resources the speaker refuses (Warnings from the controller)', () => {
  const pools = [obj('a', { addresses: ['10.0.0.0/24'] })];

  it('a BGPAdvertisement naming a pool that does not exist or was refused is an issue; config-file pools are selectable by name in BGP mode', () => {
    const r = poolsFromResources(
      res({ ipAddressPools: [...pools, obj('bad', { addresses: ['nope'] })], bgpAdvertisements: [obj('bgp', { ipAddressPools: ['a', 'ghost', 'bad', 'file'] }), obj('ok', { ipAddressPools: ['a', 'file'] })] }),
      CONFIG,
    );
    const bgp = r.issues.filter((i) => i.object.kind === 'BGPAdvertisement');
    expect(bgp.map((i) => i.object.name)).toEqual(['bgp']);
    expect(bgp[0]?.object.apiVersion).toBe('metallb.io/v1beta1');
    expect(bgp[0]?.message).toContain('"ghost", which is not an IPAddressPool in metallb-system');
    expect(bgp[0]?.message).toContain('"bad", which is refused');
    expect(bgp[0]?.message).not.toContain('"file"');
    expect(bgp[0]?.message).not.toContain('"a"');
  });

  it('bgpResourceIssues: refused peer fields, a missing or unusable BFDProfile, bad communities, each on its own object', () => {
    const issues = bgpResourceIssues({
      peers: [
        obj('vrf', { myASN: 1, peerASN: 2, peerAddress: '192.0.2.1', vrf: 'red' }),
        obj('nobfd', { myASN: 1, peerASN: 2, peerAddress: '192.0.2.1', bfdProfile: 'ghost' }),
        obj('echo', { myASN: 1, peerASN: 2, peerAddress: '192.0.2.1', bfdProfile: 'echo' }),
        obj('good', { myASN: 1, peerASN: 2, peerAddress: '192.0.2.1', bfdProfile: 'fast' }),
      ] as CustomObject[],
      bfdProfiles: [obj('fast', { receiveInterval: 100 }), obj('echo', { echoMode: true })] as CustomObject[],
      communities: [obj('c1', { communities: [{ name: 'x', value: '1:1' }, { name: 'broken', value: '70000:1' }] }), obj('c2', { communities: [{ name: 'x', value: '1:2' }] })] as CustomObject[],
      advertisements: [obj('unknown-community', { communities: ['nope'] }), obj('fine', { communities: ['x', '65000:1'] })] as CustomObject[],
    });
    const by = (kind: string, name: string): string[] => issues.filter((i) => i.object.kind === kind && i.object.name === name).map((i) => i.message);
    expect(by('BGPPeer', 'vrf')).toEqual(["BGPPeer vrf: spec.vrf is not supported by lbc's BGP speaker; lbc does not peer with it until this is fixed"]);
    expect(issues.find((i) => i.object.name === 'vrf')?.object.apiVersion).toBe('metallb.io/v1beta2');
    expect(by('BGPPeer', 'nobfd')).toEqual(['spec.bfdProfile: BFDProfile ghost does not exist; lbc does not peer with it until this is fixed']);
    expect(by('BGPPeer', 'echo')).toEqual([expect.stringContaining('spec.echoMode is not supported')]);
    expect(by('BFDProfile', 'echo')).toEqual([expect.stringContaining('spec.echoMode is not supported')]);
    expect(by('Community', 'c2')).toEqual(['community "x" is defined by Community c1 and Community c2']);
    expect(by('Community', 'c1')).toEqual([expect.stringContaining('spec.communities[1] (broken): "70000:1" is not a community')]);
    expect(by('BGPAdvertisement', 'unknown-community')).toEqual([expect.stringContaining('"nope" is neither a community')]);
    // One issue per bad object; the good ones have none.
    expect(issues).toHaveLength(7);
  });
});

describe('allocation by serviceAllocation (MetalLB allocator.go)', () => {
  const built = poolsFromResources(
    res({
      ipAddressPools: [
        obj('plain', { addresses: ['10.0.9.0/30'] }),
        obj('prio2', { addresses: ['10.0.2.0/30'], serviceAllocation: { priority: 2 } }),
        obj('noprio', { addresses: ['10.0.3.0/30'], serviceAllocation: { serviceSelectors: [{ matchLabels: { app: 'web' } }] } }),
        obj('prio1-web', { addresses: ['10.0.1.0/30'], serviceAllocation: { priority: 1, serviceSelectors: [{ matchLabels: { app: 'web' } }] } }),
        obj('team-a', { addresses: ['10.0.4.0/30'], serviceAllocation: { priority: 1, namespaces: ['a'] } }),
        obj('manual', { addresses: ['10.0.5.0/30'], autoAssign: false, serviceAllocation: { priority: 1 } }),
      ],
    }),
    [],
  );
  const pools = built.pools;
  const subject = (namespace: string, labels: Record<string, string> = {}) => ({ namespace, labels });

  it('order: matching pools by priority (unset last), then pools without serviceAllocation; autoAssign false never', () => {
    expect(names(autoAssignOrder(pools, subject('x', { app: 'web' })))).toEqual(['prio1-web', 'prio2', 'noprio', 'plain']);
    expect(names(autoAssignOrder(pools, subject('a')))).toEqual(['team-a', 'prio2', 'plain']);
    expect(names(autoAssignOrder(pools, subject('x')))).toEqual(['prio2', 'plain']);
  });

  const req = (name: string, namespace: string, labels: Record<string, string>, extra: Partial<AllocationRequest> = {}): AllocationRequest => ({
    owner: { uid: `u-${name}`, name: `${namespace}/${name}`, createdAt: 0 },
    subject: subject(namespace, labels),
    families: [4],
    ports: [{ protocol: 'TCP', port: 80 }],
    backend: { policy: 'Cluster', selector: '' },
    ...extra,
  });

  it('a Service gets the highest-priority pool that takes it, and falls through when it is full', () => {
    const a = new Allocator(pools);
    const ips = (name: string, ns = 'x', labels: Record<string, string> = { app: 'web' }) => {
      const out = a.allocate(req(name, ns, labels));
      return out.ok ? `${out.allocation.pool} ${out.allocation.ips.join()}` : out.message;
    };
    for (const n of ['w1', 'w2', 'w3', 'w4']) expect(ips(n)).toBe(`prio1-web 10.0.1.${['w1', 'w2', 'w3', 'w4'].indexOf(n)}`);
    expect(ips('w5')).toBe('prio2 10.0.2.0');
    expect(ips('other', 'x', {})).toBe('prio2 10.0.2.1');
  });

  it('a pool that does not take the Service refuses it by name and by requested address; a named pool that does is used', () => {
    const a = new Allocator(pools);
    const byName = a.allocate(req('s', 'x', {}, { pool: { value: 'team-a', source: 'annotation metallb.io/address-pool' } }));
    expect(byName).toMatchObject({ ok: false, kind: 'invalid' });
    if (!byName.ok) expect(byName.message).toContain('pool "team-a" serves only namespaces a (serviceAllocation), not x');
    const byIp = a.allocate(req('s', 'x', {}, { requested: { value: ['10.0.1.1'], source: 'annotation metallb.io/loadBalancerIPs' } }));
    expect(byIp.ok).toBe(false);
    if (!byIp.ok) expect(byIp.message).toContain('serviceSelectors');
    expect(a.allocate(req('s', 'x', {}, { pool: { value: 'manual', source: 'annotation metallb.io/address-pool' } }))).toMatchObject({ ok: true, allocation: { pool: 'manual' } });
  });

  it('a Service whose labels stop matching its pool moves to one that takes it (MetalLB clears and reallocates)', () => {
    const a = new Allocator(pools);
    expect(a.allocate(req('s', 'x', { app: 'web' }))).toMatchObject({ ok: true, allocation: { pool: 'prio1-web' } });
    expect(a.allocate(req('s', 'x', { app: 'db' }))).toMatchObject({ ok: true, allocation: { pool: 'prio2', ips: ['10.0.2.0'] }, changed: true });
  });

  it('pools replaced while running: what still fits stays, what does not moves', () => {
    const a = new Allocator(pools);
    expect(a.allocate(req('s', 'x', {}))).toMatchObject({ ok: true, allocation: { pool: 'prio2' } });
    a.setPools(pools.filter((p) => p.name !== 'prio2'));
    expect(a.allocate(req('s', 'x', {}))).toMatchObject({ ok: true, allocation: { pool: 'plain', ips: ['10.0.9.0'] }, changed: true });
  });

  it('restore drops an address whose pool no longer takes the Service, saying why', () => {
    const a = new Allocator(pools);
    const r = a.restore([{ owner: { uid: 'u', name: 'x/s', createdAt: 0 }, subject: subject('x'), ips: ['10.0.4.1'], ports: [], backend: { policy: 'Cluster', selector: '' }, requested: false }]);
    expect(r.restored).toEqual([]);
    expect(r.outsidePools[0]?.reason).toContain('serves only namespaces a');
  });
});
