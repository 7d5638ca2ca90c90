// The allocator's rules as tables: each case sets up holders, makes one request, and
// states the outcome (addresses, or the error kind and words the message must contain).
import { describe, expect, it } from 'vitest';
import { Allocator, type AllocationRequest, type Backend, type RestoreEntry } from '../../../src/providers/metal/allocator.js';
import { buildPools, type PoolInput } from '../../../src/providers/metal/pools.js';

const pool = (name: string, addresses: string[], over: Partial<PoolInput> = {}): PoolInput => ({
  name,
  addresses,
  autoAssign: true,
  avoidBuggyIPs: false,
  nodeSelectors: [],
  interfaces: [],
  ...over,
});

function pools(...inputs: PoolInput[]) {
  const r = buildPools(inputs);
  if (!r.ok) throw new Error(r.issues.map((i) => `${i.path}: ${i.message}`).join('; '));
  return r.pools;
}

const CLUSTER: Backend = { policy: 'Cluster', selector: '' };
const localSel = (selector: string): Backend => ({ policy: 'Local', selector });

interface Svc {
  name: string;
  families?: (4 | 6)[];
  ips?: string[];
  ipsFrom?: string;
  pool?: string;
  key?: string;
  ports?: string[];
  backend?: Backend;
  createdAt?: number;
  namespace?: string;
  labels?: Record<string, string>;
}

function req(s: Svc): AllocationRequest {
  return {
    owner: { uid: `uid-${s.name}`, name: `${s.namespace ?? 'default'}/${s.name}`, createdAt: s.createdAt ?? 0 },
    subject: { namespace: s.namespace ?? 'default', labels: s.labels ?? {} },
    families: s.families ?? [4],
    ...(s.ips ? { requested: { value: s.ips, source: s.ipsFrom ?? 'annotation metallb.universe.tf/loadBalancerIPs' } } : {}),
    ...(s.pool ? { pool: { value: s.pool, source: 'annotation metallb.universe.tf/address-pool' } } : {}),
    ...(s.key ? { sharingKey: { value: s.key, source: 'annotation metallb.universe.tf/allow-shared-ip' } } : {}),
    ports: (s.ports ?? ['TCP/80']).map((p) => {
      const [protocol = 'TCP', port = '0'] = p.split('/');
      return { protocol, port: Number(port) };
    }),
    backend: s.backend ?? CLUSTER,
  };
}

const DEFAULT_POOLS = pools(
  pool('a', ['10.0.0.0/30']),
  pool('b', ['10.0.1.10-10.0.1.11', 'fd00::10-fd00::11']),
  pool('manual', ['10.0.2.0/29'], { autoAssign: false }),
  pool('v6', ['fd00:1::/126']),
);

type Expect = { ips: string[]; pool?: string } | { kind: 'invalid' | 'quota' | 'conflict'; says: string[] };

interface Case {
  name: string;
  pools?: ReturnType<typeof pools>;
  before?: Svc[];
  request: Svc;
  expect: Expect;
}

const cases: Case[] = [
  // ---- auto-assignment ----
  { name: 'first address of the first autoAssign pool', request: { name: 's' }, expect: { ips: ['10.0.0.0'], pool: 'a' } },
  { name: 'next free address', before: [{ name: 'x' }], request: { name: 's' }, expect: { ips: ['10.0.0.1'], pool: 'a' } },
  {
    name: 'spills into the next autoAssign pool when the first is full',
    before: [{ name: 'w' }, { name: 'x' }, { name: 'y' }, { name: 'z' }],
    request: { name: 's' },
    expect: { ips: ['10.0.1.10'], pool: 'b' },
  },
  {
    name: 'never auto-assigns from an autoAssign: false pool',
    before: ['w', 'x', 'y', 'z', 'q', 'r'].map((name) => ({ name })),
    request: { name: 's' },
    expect: { kind: 'quota', says: ['"a"', '"b"', 'no free IPv4'] },
  },
  { name: 'a named pool, even without autoAssign', request: { name: 's', pool: 'manual' }, expect: { ips: ['10.0.2.0'], pool: 'manual' } },
  {
    name: 'a named pool that is full is quota, naming it',
    pools: pools(pool('tiny', ['10.9.0.1/32'])),
    before: [{ name: 'x' }],
    request: { name: 's', pool: 'tiny' },
    expect: { kind: 'quota', says: ['pool "tiny"', 'no free IPv4'] },
  },
  {
    name: 'a named pool that does not exist',
    request: { name: 's', pool: 'nope' },
    expect: { kind: 'invalid', says: ['pool "nope"', 'address-pool', 'not configured'] },
  },
  { name: 'IPv6 only', request: { name: 's', families: [6] }, expect: { ips: ['fd00::10'], pool: 'b' } },
  { name: 'dual-stack takes both families from one pool', request: { name: 's', families: [4, 6] }, expect: { ips: ['10.0.1.10', 'fd00::10'], pool: 'b' } },
  { name: 'dual-stack reports in ipFamilies order', request: { name: 's', families: [6, 4] }, expect: { ips: ['fd00::10', '10.0.1.10'], pool: 'b' } },
  {
    name: 'dual-stack from a single-family pool is invalid',
    request: { name: 's', families: [4, 6], pool: 'a' },
    expect: { kind: 'invalid', says: ['pool "a"', 'no IPv4 and IPv6', 'dual-stack'] },
  },
  {
    name: 'no pool of the family',
    pools: pools(pool('only4', ['10.0.0.0/30'])),
    request: { name: 's', families: [6] },
    expect: { kind: 'invalid', says: ['no address pool with autoAssign has IPv6'] },
  },
  {
    name: 'no autoAssign pool at all',
    pools: pools(pool('m', ['10.0.0.0/30'], { autoAssign: false })),
    request: { name: 's' },
    expect: { kind: 'invalid', says: ['autoAssign', 'm'] },
  },
  {
    name: 'avoidBuggyIPs skips .0 and .255',
    pools: pools(pool('p', ['10.0.0.255-10.0.1.1'], { avoidBuggyIPs: true })),
    request: { name: 's' },
    expect: { ips: ['10.0.1.1'], pool: 'p' },
  },
  {
    name: 'without avoidBuggyIPs .0 is handed out (as MetalLB)',
    pools: pools(pool('p', ['10.0.0.255-10.0.1.1'])),
    request: { name: 's' },
    expect: { ips: ['10.0.0.255'], pool: 'p' },
  },
  {
    name: 'avoidBuggyIPs does not apply to IPv6',
    pools: pools(pool('p', ['fd00::ff/128'], { avoidBuggyIPs: true })),
    request: { name: 's', families: [6] },
    expect: { ips: ['fd00::ff'], pool: 'p' },
  },
  {
    name: 'a huge IPv6 pool is walked by what is allocated, not by size',
    pools: pools(pool('big', ['fd00::/64'])),
    before: [{ name: 'x', families: [6] }],
    request: { name: 's', families: [6] },
    expect: { ips: ['fd00::1'], pool: 'big' },
  },

  // ---- requests ----
  { name: 'requested address', request: { name: 's', ips: ['10.0.0.2'] }, expect: { ips: ['10.0.0.2'], pool: 'a' } },
  { name: 'requested address in an autoAssign: false pool', request: { name: 's', ips: ['10.0.2.5'] }, expect: { ips: ['10.0.2.5'], pool: 'manual' } },
  {
    name: 'requested address outside every pool names the address, its source and the pools',
    request: { name: 's', ips: ['192.168.1.1'], ipsFrom: 'field spec.loadBalancerIP' },
    expect: { kind: 'invalid', says: ['192.168.1.1', 'field spec.loadBalancerIP', 'not in any address pool', 'a (10.0.0.0/30)'] },
  },
  {
    name: 'requested address in another pool than the one named',
    request: { name: 's', ips: ['10.0.0.1'], pool: 'manual' },
    expect: { kind: 'invalid', says: ['10.0.0.1', 'pool "a"', 'not in pool "manual"'] },
  },
  {
    name: 'requested .0 in an avoidBuggyIPs pool',
    pools: pools(pool('p', ['10.0.0.0/24'], { avoidBuggyIPs: true })),
    request: { name: 's', ips: ['10.0.0.0'] },
    expect: { kind: 'invalid', says: ['10.0.0.0', 'avoidBuggyIPs', '"p"'] },
  },
  {
    name: 'requested family differs from ipFamilies',
    request: { name: 's', ips: ['fd00::10'], families: [4] },
    expect: { kind: 'invalid', says: ['asks for IPv6', 'ipFamilies are IPv4'] },
  },
  {
    name: 'dual-stack request missing a family',
    request: { name: 's', ips: ['10.0.1.10'], families: [4, 6] },
    expect: { kind: 'invalid', says: ['asks for IPv4', 'IPv4, IPv6'] },
  },
  { name: 'dual-stack request', request: { name: 's', ips: ['fd00::11', '10.0.1.11'], families: [4, 6] }, expect: { ips: ['10.0.1.11', 'fd00::11'], pool: 'b' } },
  {
    name: 'dual-stack request across two pools',
    request: { name: 's', ips: ['10.0.0.1', 'fd00::10'], families: [4, 6] },
    expect: { kind: 'invalid', says: ['two pools', '"a"', '"b"'] },
  },
  {
    name: 'requested address taken by a Service that does not share',
    before: [{ name: 'x', ips: ['10.0.0.2'] }],
    request: { name: 's', ips: ['10.0.0.2'] },
    expect: { kind: 'conflict', says: ['10.0.0.2', 'default/x', 'does not allow sharing'] },
  },

  // ---- sharing ----
  {
    name: 'same key, other port: shares',
    before: [{ name: 'x', ips: ['10.0.0.2'], key: 'k', ports: ['TCP/80'] }],
    request: { name: 's', ips: ['10.0.0.2'], key: 'k', ports: ['TCP/443'] },
    expect: { ips: ['10.0.0.2'], pool: 'a' },
  },
  {
    name: 'same key, same port number, other protocol: shares (DNS over TCP and UDP)',
    before: [{ name: 'x', ips: ['10.0.0.2'], key: 'k', ports: ['TCP/53'] }],
    request: { name: 's', ips: ['10.0.0.2'], key: 'k', ports: ['UDP/53'] },
    expect: { ips: ['10.0.0.2'], pool: 'a' },
  },
  {
    name: 'same key, same port and protocol: conflict naming the port',
    before: [{ name: 'x', ips: ['10.0.0.2'], key: 'k', ports: ['TCP/80'] }],
    request: { name: 's', ips: ['10.0.0.2'], key: 'k', ports: ['TCP/80'] },
    expect: { kind: 'conflict', says: ['10.0.0.2', 'default/x', 'port TCP/80'] },
  },
  {
    name: 'other key: conflict naming both keys',
    before: [{ name: 'x', ips: ['10.0.0.2'], key: 'k1' }],
    request: { name: 's', ips: ['10.0.0.2'], key: 'k2', ports: ['TCP/443'] },
    expect: { kind: 'conflict', says: ['"k1"', '"k2"', 'allow-shared-ip'] },
  },
  {
    name: 'holder shares, requester has no key',
    before: [{ name: 'x', ips: ['10.0.0.2'], key: 'k1' }],
    request: { name: 's', ips: ['10.0.0.2'], ports: ['TCP/443'] },
    expect: { kind: 'conflict', says: ['default/x', 'sharing key "k1"'] },
  },
  {
    name: 'different externalTrafficPolicy',
    before: [{ name: 'x', ips: ['10.0.0.2'], key: 'k', backend: localSel('app=a') }],
    request: { name: 's', ips: ['10.0.0.2'], key: 'k', ports: ['TCP/443'] },
    expect: { kind: 'conflict', says: ['externalTrafficPolicy is Local, not Cluster'] },
  },
  {
    name: 'Cluster does not share with Local even when Local has no selector (MetalLB would)',
    before: [{ name: 'x', ips: ['10.0.0.2'], key: 'k', backend: localSel('') }],
    request: { name: 's', ips: ['10.0.0.2'], key: 'k', ports: ['TCP/443'] },
    expect: { kind: 'conflict', says: ['externalTrafficPolicy'] },
  },
  {
    name: 'Local with the same selector shares',
    before: [{ name: 'x', ips: ['10.0.0.2'], key: 'k', backend: localSel('app=a') }],
    request: { name: 's', ips: ['10.0.0.2'], key: 'k', ports: ['TCP/443'], backend: localSel('app=a') },
    expect: { ips: ['10.0.0.2'], pool: 'a' },
  },
  {
    name: 'Local with another selector does not',
    before: [{ name: 'x', ips: ['10.0.0.2'], key: 'k', backend: localSel('app=a') }],
    request: { name: 's', ips: ['10.0.0.2'], key: 'k', ports: ['TCP/443'], backend: localSel('app=b') },
    expect: { kind: 'conflict', says: ['selector', 'app=a', 'app=b'] },
  },
  {
    name: 'Cluster Services with different selectors share',
    before: [{ name: 'x', ips: ['10.0.0.2'], key: 'k', backend: { policy: 'Cluster', selector: 'app=a' } }],
    request: { name: 's', ips: ['10.0.0.2'], key: 'k', ports: ['TCP/443'], backend: { policy: 'Cluster', selector: 'app=b' } },
    expect: { ips: ['10.0.0.2'], pool: 'a' },
  },
  {
    name: 'a third sharer must fit with both holders',
    before: [
      { name: 'x', ips: ['10.0.0.2'], key: 'k', ports: ['TCP/80'] },
      { name: 'y', ips: ['10.0.0.2'], key: 'k', ports: ['TCP/443'] },
    ],
    request: { name: 's', ips: ['10.0.0.2'], key: 'k', ports: ['TCP/443'] },
    expect: { kind: 'conflict', says: ['default/y', 'TCP/443'] },
  },
  {
    name: 'auto-assignment joins the lowest shareable address',
    before: [{ name: 'x', key: 'k', ports: ['TCP/80'] }],
    request: { name: 's', key: 'k', ports: ['TCP/443'] },
    expect: { ips: ['10.0.0.0'], pool: 'a' },
  },
  {
    name: 'auto-assignment skips an address it may not share',
    before: [{ name: 'x', key: 'k', ports: ['TCP/80'] }],
    request: { name: 's', key: 'k', ports: ['TCP/80'] },
    expect: { ips: ['10.0.0.1'], pool: 'a' },
  },
  {
    name: 'a full pool still has room for a sharer',
    pools: pools(pool('tiny', ['10.9.0.1/32'])),
    before: [{ name: 'x', key: 'k', ports: ['TCP/80'] }],
    request: { name: 's', key: 'k', ports: ['TCP/443'] },
    expect: { ips: ['10.9.0.1'], pool: 'tiny' },
  },
  {
    name: 'a full pool with an unshareable holder is quota, mentioning the key',
    pools: pools(pool('tiny', ['10.9.0.1/32'])),
    before: [{ name: 'x', key: 'other', ports: ['TCP/80'] }],
    request: { name: 's', key: 'k', ports: ['TCP/443'] },
    expect: { kind: 'quota', says: ['"tiny"', 'under key "k"'] },
  },
];

describe('Allocator.allocate', () => {
  it.each(cases)('$name', (c) => {
    const a = new Allocator(c.pools ?? DEFAULT_POOLS);
    for (const b of c.before ?? []) {
      const r = a.allocate(req(b));
      if (!r.ok) throw new Error(`setup ${b.name}: ${r.message}`);
    }
    const snapshot = JSON.stringify(a.all());
    const out = a.allocate(req(c.request));
    if ('ips' in c.expect) {
      if (!out.ok) throw new Error(`expected addresses, got ${out.kind}: ${out.message}`);
      expect(out.allocation.ips).toEqual(c.expect.ips);
      if (c.expect.pool) expect(out.allocation.pool).toBe(c.expect.pool);
      expect(a.get(`uid-${c.request.name}`)?.ips).toEqual(c.expect.ips);
    } else {
      expect(out.ok).toBe(false);
      if (out.ok) return;
      expect(out.kind).toBe(c.expect.kind);
      for (const s of c.expect.says) expect(out.message).toContain(s);
      // A refused request changes nothing.
      expect(JSON.stringify(a.all())).toBe(snapshot);
    }
  });
});

describe('Allocator: keeping, moving and releasing', () => {
  it('keeps what a Service holds while it still fits, and reports no change', () => {
    const a = new Allocator(DEFAULT_POOLS);
    expect(a.allocate(req({ name: 'x' }))).toMatchObject({ ok: true, changed: true, allocation: { ips: ['10.0.0.0'] } });
    a.allocate(req({ name: 'y' }));
    a.release('uid-x');
    // 10.0.0.0 is free again, but y keeps 10.0.0.1.
    expect(a.allocate(req({ name: 'y', ports: ['TCP/8080'] }))).toMatchObject({ ok: true, changed: false, allocation: { ips: ['10.0.0.1'] } });
  });

  it('dry runs leave the state alone', () => {
    const a = new Allocator(DEFAULT_POOLS);
    expect(a.allocate(req({ name: 'x' }), { dryRun: true })).toMatchObject({ ok: true, allocation: { ips: ['10.0.0.0'] } });
    expect(a.all()).toEqual([]);
  });

  it('moves to a requested address and frees the old one', () => {
    const a = new Allocator(DEFAULT_POOLS);
    a.allocate(req({ name: 'x' }));
    expect(a.allocate(req({ name: 'x', ips: ['10.0.0.3'] }))).toMatchObject({ ok: true, changed: true, allocation: { ips: ['10.0.0.3'] } });
    expect(a.holders('10.0.0.0')).toEqual([]);
    // Dropping the request keeps the address: nothing moves without a reason.
    expect(a.allocate(req({ name: 'x' }))).toMatchObject({ ok: true, changed: false, allocation: { ips: ['10.0.0.3'], requested: false } });
  });

  it('moves to the named pool when the annotation changes', () => {
    const a = new Allocator(DEFAULT_POOLS);
    a.allocate(req({ name: 'x' }));
    expect(a.allocate(req({ name: 'x', pool: 'manual' }))).toMatchObject({ ok: true, changed: true, allocation: { ips: ['10.0.2.0'], pool: 'manual' } });
  });

  it('moves an auto-assigned sharer whose ports now clash, keeps the one that did not change', () => {
    const a = new Allocator(DEFAULT_POOLS);
    a.allocate(req({ name: 'x', key: 'k', ports: ['TCP/80'] }));
    a.allocate(req({ name: 'y', key: 'k', ports: ['TCP/443'] }));
    expect(a.get('uid-y')?.ips).toEqual(['10.0.0.0']);
    expect(a.allocate(req({ name: 'y', key: 'k', ports: ['TCP/80'] }))).toMatchObject({ ok: true, changed: true, allocation: { ips: ['10.0.0.1'] } });
    expect(a.get('uid-x')?.ips).toEqual(['10.0.0.0']);
  });

  it('refuses a requested sharer whose ports now clash, and keeps its old state', () => {
    const a = new Allocator(DEFAULT_POOLS);
    a.allocate(req({ name: 'x', ips: ['10.0.0.2'], key: 'k', ports: ['TCP/80'] }));
    a.allocate(req({ name: 'y', ips: ['10.0.0.2'], key: 'k', ports: ['TCP/443'] }));
    const out = a.allocate(req({ name: 'y', ips: ['10.0.0.2'], key: 'k', ports: ['TCP/80'] }));
    expect(out).toMatchObject({ ok: false, kind: 'conflict' });
    expect(a.get('uid-y')?.ports).toEqual([{ protocol: 'TCP', port: 443 }]);
  });

  it('a released shared address stays with the other holder', () => {
    const a = new Allocator(DEFAULT_POOLS);
    a.allocate(req({ name: 'x', key: 'k', ports: ['TCP/80'] }));
    a.allocate(req({ name: 'y', key: 'k', ports: ['TCP/443'] }));
    expect(a.holders('10.0.0.0').map((h) => h.owner.name)).toEqual(['default/x', 'default/y']);
    expect(a.release('uid-x')).toBe(true);
    expect(a.release('uid-x')).toBe(false);
    expect(a.holders('10.0.0.0').map((h) => h.owner.name)).toEqual(['default/y']);
    // y's sharing does not make the address free for a non-sharer.
    expect(a.allocate(req({ name: 'z' }))).toMatchObject({ ok: true, allocation: { ips: ['10.0.0.1'] } });
  });
});

describe('Allocator.restore', () => {
  const entry = (name: string, ips: string[], over: Partial<RestoreEntry> = {}): RestoreEntry => ({
    owner: { uid: `uid-${name}`, name: `default/${name}`, createdAt: 0 },
    subject: { namespace: 'default', labels: {} },
    ips,
    ports: [{ protocol: 'TCP', port: 80 }],
    backend: CLUSTER,
    requested: false,
    ...over,
  });
  const aged = (name: string, createdAt: number, ips: string[], over: Partial<RestoreEntry> = {}): RestoreEntry =>
    entry(name, ips, { owner: { uid: `uid-${name}`, name: `default/${name}`, createdAt }, ...over });

  it('loads the statuses, and auto-assignment continues after them', () => {
    const a = new Allocator(DEFAULT_POOLS);
    const r = a.restore([entry('x', ['10.0.0.0']), entry('y', ['10.0.1.10', 'fd00::10'])]);
    expect(r.restored.map((x) => x.owner.name)).toEqual(['default/x', 'default/y']);
    expect(r.conflicts).toEqual([]);
    expect(a.get('uid-y')?.pool).toBe('b');
    expect(a.allocate(req({ name: 'z' }))).toMatchObject({ ok: true, allocation: { ips: ['10.0.0.1'] } });
    // The restored Service's own ensure finds its address kept.
    expect(a.allocate(req({ name: 'x' }))).toMatchObject({ ok: true, changed: false, allocation: { ips: ['10.0.0.0'] } });
  });

  it('on a dispute the older Service keeps the address and the newer is reported, whatever the list order', () => {
    for (const order of [0, 1]) {
      const a = new Allocator(DEFAULT_POOLS);
      const entries = [aged('newer', 2000, ['10.0.0.1']), aged('older', 1000, ['10.0.0.1'])];
      const r = a.restore(order ? entries.reverse() : entries);
      expect(a.holders('10.0.0.1').map((h) => h.owner.name)).toEqual(['default/older']);
      expect(r.conflicts).toHaveLength(1);
      expect(r.conflicts[0]?.owner.name).toBe('default/newer');
      expect(r.conflicts[0]?.message).toContain('default/newer claims 10.0.0.1');
      expect(r.conflicts[0]?.message).toContain('default/older');
    }
  });

  it('sharers that may share are both restored; a port clash is a dispute', () => {
    const a = new Allocator(DEFAULT_POOLS);
    const r = a.restore([
      aged('x', 1, ['10.0.0.2'], { sharingKey: 'k' }),
      aged('y', 2, ['10.0.0.2'], { sharingKey: 'k', ports: [{ protocol: 'TCP', port: 443 }] }),
      aged('z', 3, ['10.0.0.2'], { sharingKey: 'k' }),
    ]);
    expect(r.restored.map((x) => x.owner.name)).toEqual(['default/x', 'default/y']);
    expect(r.conflicts.map((c) => c.owner.name)).toEqual(['default/z']);
    expect(r.conflicts[0]?.message).toContain('TCP/80');
  });

  it('addresses outside every pool (a pool removed from the config) are not restored', () => {
    const a = new Allocator(DEFAULT_POOLS);
    const r = a.restore([entry('x', ['192.168.0.1']), entry('y', ['10.0.0.1', 'fd00:1::1'])]);
    expect(r.outsidePools.map((o) => o.owner.name)).toEqual(['default/x', 'default/y']);
    expect(a.all()).toEqual([]);
  });
});
