import { createHash } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import { ProviderError } from '../../src/providers/types.js';
import { MemoryProvider, type MemoryLbOptions } from '../../src/providers/memory/index.js';
import type { LbRef } from '../../src/model/ref.js';
import type { L4Spec, LoadBalancerSpec, NodeTarget } from '../../src/model/spec.js';
import { l4Spec, l7Spec, nodeA, nodeB } from '../model/spec-fixtures.js';
import { rejection } from './rejection.js';

const spec = (over: Partial<L4Spec> = {}): LoadBalancerSpec<MemoryLbOptions> => l4Spec({ providerOptions: { tier: 'standard' }, ...over }) as LoadBalancerSpec<MemoryLbOptions>;
const ref2 = { kind: 'Service' as const, namespace: 'default', name: 'other', uid: 'uid-other' };


describe('MemoryProvider: ensure, idempotency, delete', () => {
  it('creates on first ensure, then writes nothing for the same spec', async () => {
    const p = new MemoryProvider({ clusterName: 'test' });
    const status = await p.ensure(spec());
    expect(status).toEqual({
      ingress: [
        {
          ip: '192.0.2.1',
          ipMode: 'VIP',
          ports: [
            { port: 53, protocol: 'UDP' },
            { port: 80, protocol: 'TCP' },
          ],
        },
      ],
    });
    expect(p.writeHistory.map((w) => `${w.op} ${w.resource} ${w.id}`)).toEqual([
      'create LoadBalancer uid-web',
      'create TargetSet tcp-80',
      'create TargetSet udp-53',
      'create Listener UDP:53',
      'create Listener TCP:80',
    ]);
    const writes = p.writes;
    // Same spec in another order: still no write.
    const again = await p.ensure(spec({ listeners: [...l4Spec().listeners].reverse(), sourceRanges: ['192.168.0.0/16', '10.0.0.0/8'] }));
    expect(again).toEqual(status);
    expect(p.writes).toBe(writes);
    expect(p.callsOf('ensure')).toHaveLength(2);
    expect(p.calls.every((c) => c.outcome === 'ok')).toBe(true);
  });

  it('updates only what changed, keeping the address', async () => {
    const p = new MemoryProvider({ clusterName: 'test' });
    await p.ensure(spec());
    p.resetRecording();
    const s = spec();
    const changed = await p.ensure({
      ...s,
      targetSets: s.targetSets.map((t) => (t.type === 'instance' ? { ...t, targets: [nodeA] } : t)),
      listeners: s.layer === 'L4' ? s.listeners.filter((l) => l.protocol === 'TCP') : [],
      sourceRanges: [],
    } as LoadBalancerSpec<MemoryLbOptions>);
    expect(p.writeHistory.map((w) => [w.op, w.resource, w.id, w.fields])).toEqual([
      ['update', 'LoadBalancer', 'uid-web', ['sourceRanges']],
      ['update', 'TargetSet', 'tcp-80', ['targets']],
      ['delete', 'Listener', 'UDP:53', undefined],
    ]);
    expect(changed.ingress[0]).toMatchObject({ ip: '192.0.2.1' });
    expect(p.get(spec().ref)?.generation).toBe(8);
  });

  it('over a shared frozen node list: rebuilt specs write nothing, and a later change is an update of exactly its fields', async () => {
    // As the controller builds them: one frozen list of frozen nodes for every spec, a fresh spec object per reconcile.
    const nodes = (...ns: NodeTarget[]) => Object.freeze(ns.map((n) => Object.freeze(n)));
    const build = (targets: readonly NodeTarget[], over: Partial<L4Spec> = {}) => {
      const s = spec(over);
      return { ...s, targetSets: s.targetSets.map((t) => (t.type === 'instance' ? { ...t, targets } : t)) } as LoadBalancerSpec<MemoryLbOptions>;
    };
    const sortedB = { ...nodeB, addresses: [...nodeB.addresses].sort((a, b) => (a.type < b.type ? -1 : 1)) };
    const shared = nodes(nodeA, sortedB);
    const p = new MemoryProvider({ clusterName: 'test' });
    await p.ensure(build(shared));
    const created = p.get(spec().ref);
    expect(created?.id).toBe(`mem-${createHash('sha256').update('test/uid-web').digest('hex').slice(0, 8)}`);
    expect(created?.generation).toBe(5);
    await p.ensure(build(shared));
    expect(await p.plan(build(shared))).toEqual([]);
    expect(p.writes).toBe(5);
    expect(p.get(spec().ref)).toBe(created);

    p.resetRecording();
    const moved = nodes(nodeA, { ...sortedB, addresses: [{ type: 'InternalIP', address: '10.0.0.9' }] });
    const next = build(moved, { tags: { team: 'b' } });
    const planned = await p.plan(next);
    await p.ensure(next);
    expect(p.writeHistory.map((w) => [w.op, w.resource, w.id, w.fields])).toEqual([
      ['update', 'LoadBalancer', 'uid-web', ['tags']],
      ['update', 'TargetSet', 'tcp-80', ['targets']],
    ]);
    expect(p.writeHistory.map(({ ref: _r, ...c }) => c)).toEqual(planned);
    const updated = p.get(spec().ref);
    expect([updated?.id, updated?.generation, updated?.address]).toEqual([created?.id, 7, created?.address]);
    expect(updated?.spec.targetSets.find((t) => t.type === 'instance')?.targets).toBe(moved);
    expect(updated?.spec.tags).toEqual({ team: 'b' });
    await p.ensure(build(moved, { tags: { team: 'b' } }));
    expect(p.writes).toBe(2);
    // A difference no resource carries (the provider name is not a cloud property) writes nothing and keeps the held spec.
    await p.ensure(build(moved, { tags: { team: 'b' }, provider: 'memory-2' }));
    expect(p.writes).toBe(2);
    expect(p.get(spec().ref)).toBe(updated);
  });

  it('plan reports without writing, and matches what ensure then does', async () => {
    const p = new MemoryProvider({ clusterName: 'test' });
    const planned = await p.plan(spec());
    expect(p.writes).toBe(0);
    expect(p.get(spec().ref)).toBeUndefined();
    await p.ensure(spec());
    expect(p.writeHistory.map(({ ref: _r, ...c }) => c)).toEqual(planned);
    expect(await p.plan(spec())).toEqual([]);
  });

  it('hands out distinct addresses and frees them on delete', async () => {
    const p = new MemoryProvider({ clusterName: 'test', addressPool: '198.51.100.0/30' });
    const a = await p.ensure(spec());
    const b = await p.ensure(spec({ ref: ref2 }));
    expect([a.ingress[0]?.ip, b.ingress[0]?.ip]).toEqual(['198.51.100.1', '198.51.100.2']);
    const third = { kind: 'Service' as const, namespace: 'x', name: 'y', uid: 'u3' };
    expect((await rejection(p.ensure(spec({ ref: third })))).kind).toBe('quota');
    await p.delete(spec().ref);
    expect((await p.ensure(spec({ ref: third }))).ingress[0]?.ip).toBe('198.51.100.1');
  });

  it('honours a requested address, refuses one outside the pool or taken', async () => {
    const p = new MemoryProvider({ clusterName: 'test' });
    expect((await p.ensure(spec({ requestedAddresses: ['192.0.2.77'] }))).ingress[0]?.ip).toBe('192.0.2.77');
    expect((await rejection(p.ensure(spec({ ref: ref2, requestedAddresses: ['192.0.2.77'] })))).kind).toBe('conflict');
    expect((await rejection(p.ensure(spec({ ref: ref2, requestedAddresses: ['10.0.0.1'] })))).kind).toBe('invalid');
    // Moving to another requested address releases the old one.
    await p.ensure(spec({ requestedAddresses: ['192.0.2.78'] }));
    expect((await p.ensure(spec({ ref: ref2, requestedAddresses: ['192.0.2.77'] }))).ingress[0]?.ip).toBe('192.0.2.77');
  });

  it('reports hostnames when configured', async () => {
    const p = new MemoryProvider({ clusterName: 'test', hostnames: true });
    const s = await p.ensure(spec());
    expect(s.ingress[0]?.hostname).toMatch(/^default-web-[0-9a-f]{8}\.memory\.lbc\.dev$/);
    expect(s.ingress[0]?.ip).toBeUndefined();
    expect((await p.ensure(spec())).ingress[0]?.hostname).toBe(s.ingress[0]?.hostname);
    expect((await rejection(p.ensure(spec({ ref: ref2, requestedAddresses: ['192.0.2.9'] })))).kind).toBe('invalid');
  });

  it('serves L7 specs', async () => {
    const p = new MemoryProvider({ clusterName: 'test' });
    const s = await p.ensure(l7Spec() as LoadBalancerSpec<MemoryLbOptions>);
    expect(s.ingress[0]?.ports).toEqual([
      { port: 80, protocol: 'TCP' },
      { port: 443, protocol: 'TCP' },
    ]);
    expect(p.writeHistory.some((w) => w.resource === 'Rules' && w.op === 'create')).toBe(true);
  });

  it('refuses what its capabilities exclude', async () => {
    const p = new MemoryProvider({ clusterName: 'test', layers: ['L4'], targetTypes: ['instance'] });
    expect(p.capabilities.targetTypes).toEqual(['instance']);
    expect((await rejection(p.ensure(l7Spec() as LoadBalancerSpec<MemoryLbOptions>))).message).toMatch(/L7 load balancers are not supported/);
    expect((await rejection(p.ensure(spec()))).message).toMatch(/udp-53: ip targets are not supported/);
    expect((await rejection(p.ensure(spec({ clusterName: 'other' })))).kind).toBe('invalid');
  });

  it('delete removes everything and is a no-op when nothing is there', async () => {
    const p = new MemoryProvider({ clusterName: 'test' });
    await p.ensure(spec());
    p.resetRecording();
    await p.delete(spec().ref);
    expect(p.writeHistory.map((w) => `${w.op} ${w.resource}`)).toEqual([
      'delete Listener',
      'delete Listener',
      'delete TargetSet',
      'delete TargetSet',
      'delete LoadBalancer',
    ]);
    expect(p.loadBalancers()).toEqual([]);
    await p.delete(spec().ref);
    expect(p.writes).toBe(5);
  });

  it('a recreated object (new uid, same name) replaces the LB', async () => {
    const p = new MemoryProvider({ clusterName: 'test' });
    await p.ensure(spec());
    const newer = { ...spec().ref, uid: 'uid-web-2' };
    // Deleting by the old uid after the new object exists must not remove the new LB.
    await p.ensure(spec({ ref: newer }));
    expect(p.get(newer)?.ref.uid).toBe('uid-web-2');
    await p.delete(spec().ref);
    expect(p.get(newer)).toBeDefined();
  });
});

describe('MemoryProvider: restore', () => {
  const held = (ref: LbRef, address: string, createdAt: number) => ({
    ref,
    addresses: [address],
    allocation: { trafficPolicy: 'Cluster' as const, selector: '', createdAt },
    ports: [{ protocol: 'TCP', port: 80 }],
    requestedAddresses: [],
  });
  const web = spec().ref;

  it('gives each object the address its status holds, not the lowest free; an invalid one is dropped with the reason', async () => {
    const p = new MemoryProvider({ clusterName: 'test' });
    const report = await p.restore([held(web, '192.0.2.9', 2), held(ref2, '192.0.2.9', 1), held({ ...ref2, name: 'far', uid: 'uid-far' }, '10.9.9.9', 3)]);
    expect(report.kept).toBe(1);
    expect(report.dropped.map((d) => `${d.ref.name}: ${d.reason}`)).toEqual([
      'web: 192.0.2.9 is in use by Service default/other, which is older',
      'far: not in the pool 192.0.2.0/24',
    ]);
    expect((await p.ensure(spec({ ref: ref2 }))).ingress[0]?.ip).toBe('192.0.2.9');
    expect((await p.ensure(spec())).ingress[0]?.ip).toBe('192.0.2.1');
  });

  it('a kept address no LB took yet is freed by delete', async () => {
    const p = new MemoryProvider({ clusterName: 'test', addressPool: '192.0.2.0/30' });
    await p.restore([held(ref2, '192.0.2.1', 1)]);
    expect((await p.ensure(spec())).ingress[0]?.ip).toBe('192.0.2.2');
    expect((await rejection(p.ensure(spec({ ref: { ...ref2, name: 'third', uid: 'uid-third' } })))).kind).toBe('quota');
    await p.delete(ref2);
    expect((await p.ensure(spec({ ref: { ...ref2, name: 'third', uid: 'uid-third' } }))).ingress[0]?.ip).toBe('192.0.2.1');
  });
});

describe('MemoryProvider: listOwned and foreign resources', () => {
  it('lists only this cluster’s LBs and never deletes another cluster’s', async () => {
    const p = new MemoryProvider({ clusterName: 'test' });
    await p.ensure(spec());
    await p.ensure(spec({ ref: ref2 }));
    p.seedForeign(spec().ref, 'other-cluster');
    const owned = await p.listOwned();
    expect(owned.map((o) => o.ref.name)).toEqual(['other', 'web']);
    expect(owned[0]?.id).toMatch(/^mem-[0-9a-f]{8}$/);
    await p.delete(spec().ref);
    await p.delete(ref2);
    expect(await p.listOwned()).toEqual([]);
    expect(p.writes).toBeGreaterThan(0);
    expect(p.loadBalancers()).toEqual([]);
  });
});

describe('MemoryProvider: faults', () => {
  it('fails the next N calls with the given kind, then recovers', async () => {
    const p = new MemoryProvider({ clusterName: 'test' });
    const h = p.failNext(2, 'transient');
    expect((await rejection(p.ensure(spec()))).kind).toBe('transient');
    expect(h.remaining).toBe(1);
    const e = await rejection(p.ensure(spec()));
    expect(e).toMatchObject({ kind: 'transient', provider: 'memory', retryable: true });
    expect(await p.ensure(spec())).toBeDefined();
    expect(p.calls.map((c) => c.outcome)).toEqual(['error', 'error', 'ok']);
    expect(p.writes).toBe(5);
  });

  it('invalid errors are not retryable', async () => {
    const p = new MemoryProvider({ clusterName: 'test' });
    p.failNext(1, 'invalid');
    const e = await rejection(p.ensure(spec()));
    expect(e.kind).toBe('invalid');
    expect(e.retryable).toBe(false);
  });

  it('throttles with retryAfterMs', async () => {
    const p = new MemoryProvider({ clusterName: 'test' });
    p.throttleNext(1, 2500);
    const e = await rejection(p.ensure(spec()));
    expect(e).toMatchObject({ kind: 'throttled', retryAfterMs: 2500 });
    expect(e).toBeInstanceOf(ProviderError);
  });

  it('limits a fault to methods and to a ref', async () => {
    const p = new MemoryProvider({ clusterName: 'test' });
    const h = p.failFor(ref2, 'invalid', ['ensure']);
    await p.ensure(spec());
    expect((await rejection(p.ensure(spec({ ref: ref2 })))).kind).toBe('invalid');
    expect((await rejection(p.ensure(spec({ ref: ref2 })))).kind).toBe('invalid');
    await p.delete(ref2);
    await p.listOwned();
    h.remove();
    await p.ensure(spec({ ref: ref2 }));
    p.failNext(1, 'transient', { methods: ['listOwned'] });
    await p.ensure(spec());
    expect((await rejection(p.listOwned())).kind).toBe('transient');
  });

  it('hangs until released, then carries on', async () => {
    const p = new MemoryProvider({ clusterName: 'test' });
    p.hangNext(1);
    let settled = false;
    const call = p.ensure(spec()).then((s) => {
      settled = true;
      return s;
    });
    await new Promise((r) => setTimeout(r, 20));
    expect(settled).toBe(false);
    expect(p.hungCount).toBe(1);
    expect(p.inFlight).toBe(1);
    expect(p.calls[0]?.outcome).toBe('pending');
    expect(p.writes).toBe(0);
    expect(p.releaseHung()).toBe(1);
    expect((await call).ingress[0]?.ip).toBe('192.0.2.1');
    expect(p.inFlight).toBe(0);
    expect(p.writes).toBe(5);
  });

  it('a hung call gives up when its signal aborts', async () => {
    const p = new MemoryProvider({ clusterName: 'test' });
    p.hangNext(1);
    const ac = new AbortController();
    const call = p.ensure(spec(), { signal: ac.signal });
    await Promise.resolve();
    ac.abort();
    expect(await rejection(call)).toMatchObject({ kind: 'transient', message: 'call aborted' });
    expect(p.hungCount).toBe(0);
    expect(p.writes).toBe(0);
  });
});

describe('MemoryProvider: latency and concurrency', () => {
  it('waits latencyMs before answering and counts calls in flight', async () => {
    vi.useFakeTimers();
    try {
      const p = new MemoryProvider({ clusterName: 'test', latencyMs: 100 });
      let done = 0;
      const calls = [p.ensure(spec()), p.ensure(spec({ ref: ref2 })), p.listOwned()].map((c) => c.then(() => done++));
      await vi.advanceTimersByTimeAsync(99);
      expect(done).toBe(0);
      expect(p.inFlight).toBe(3);
      await vi.advanceTimersByTimeAsync(1);
      await Promise.all(calls);
      expect(done).toBe(3);
      expect(p.maxInFlight).toBe(3);
      p.setLatency(0);
      await p.listOwned();
    } finally {
      vi.useRealTimers();
    }
  });

  it('aborts during latency', async () => {
    const p = new MemoryProvider({ clusterName: 'test', latencyMs: 10_000 });
    const ac = new AbortController();
    const call = p.ensure(spec(), { signal: ac.signal });
    ac.abort();
    expect((await rejection(call)).message).toBe('call aborted');
  });
});

describe('MemoryProvider: options', () => {
  it('parses its annotations, defaults included, and reports bad ones', () => {
    const p = new MemoryProvider({ clusterName: 'test' });
    expect(p.parseOptions({}, 'Service')).toEqual({ ok: true, options: { tier: 'standard' } });
    expect(p.parseOptions({ 'memory.lbc.dev/tier': 'premium', 'memory.lbc.dev/target-type': 'ip' }, 'Ingress')).toEqual({ ok: true, options: { tier: 'premium' }, targetType: 'ip' });
    expect(p.parseOptions({ 'memory.lbc.dev/tier': 'gold' }, 'Service')).toEqual({
      ok: false,
      errors: [{ annotation: 'memory.lbc.dev/tier', reason: '"gold" is not one of "standard", "premium"' }],
    });
  });

  it('rejects bad construction options', () => {
    expect(() => new MemoryProvider({ clusterName: 'test', addressPool: '10.0.0.0/8' })).toThrow(/16 or smaller/);
    expect(() => new MemoryProvider({ clusterName: 'test', addressPool: '2001:db8::/120' })).toThrow(/IPv4/);
  });
});
