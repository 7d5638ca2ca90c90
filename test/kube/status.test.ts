import type { V1Condition } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { ingressEqual, mergeConditions, normalizeIngress, planStatusPatch, WritesInFlight, type LoadBalancerIngress } from '../../src/kube/status.js';

describe('ingress comparison', () => {
  it('is exact and order-sensitive after normalising away empty fields', () => {
    const a = [{ ip: '192.0.2.1' }, { hostname: 'lb.example' }];
    expect(ingressEqual(a, [{ ip: '192.0.2.1', hostname: '' }, { hostname: 'lb.example', ports: [] }])).toBe(true);
    expect(ingressEqual(a, [...a].reverse())).toBe(false);
    expect(ingressEqual(undefined, [])).toBe(true);
    expect(ingressEqual([{ ip: '192.0.2.1', ports: [{ port: 80, protocol: 'TCP' }] }], [{ ip: '192.0.2.1' }])).toBe(false);
  });

  it('compares field by field exactly as the normalised JSON of both sides does, with and without dropped fields', () => {
    const variants: LoadBalancerIngress[][] = [
      [],
      [{ ip: '192.0.2.1' }],
      [{ ip: '192.0.2.2' }],
      [{ ip: '192.0.2.1', ipMode: 'VIP' }],
      [{ ip: '192.0.2.1', ipMode: 'Proxy' }],
      [{ ip: '192.0.2.1', ipMode: '' }],
      [{ ip: '192.0.2.1', hostname: 'lb.example' }],
      [{ hostname: 'lb.example' }],
      [{ ip: '192.0.2.1', ports: [{ port: 80, protocol: 'TCP' }] }],
      [{ ip: '192.0.2.1', ports: [{ port: 80, protocol: 'UDP' }] }],
      [{ ip: '192.0.2.1', ports: [{ port: 81, protocol: 'TCP' }] }],
      [{ ip: '192.0.2.1', ports: [{ port: 80, protocol: 'TCP', error: '' }] }],
      [{ ip: '192.0.2.1', ports: [{ port: 80, protocol: 'TCP', error: 'Pending' }] }],
      [{ ip: '192.0.2.1', ports: [{ port: 80, protocol: 'TCP' }, { port: 443, protocol: 'TCP' }] }],
      [{ ip: '192.0.2.1', ports: [] }],
      [{ ip: '192.0.2.1' }, { ip: '192.0.2.2' }],
      [{ ip: '192.0.2.2' }, { ip: '192.0.2.1' }],
    ];
    for (const drop of [undefined, new Set(['ipMode']), new Set(['ports']), new Set(['ipMode', 'ports'])]) {
      for (const a of variants) {
        for (const b of variants) {
          const byJson = JSON.stringify(normalizeIngress(a, drop)) === JSON.stringify(normalizeIngress(b, drop));
          expect(ingressEqual(a, b, drop), `${JSON.stringify(a)} vs ${JSON.stringify(b)}, dropping ${[...(drop ?? [])]}`).toBe(byJson);
        }
      }
    }
  });

  it('normalises ports and can drop fields the server does not store', () => {
    expect(
      normalizeIngress([{ ip: '192.0.2.1', ipMode: 'VIP', ports: [{ port: 80, protocol: 'TCP', error: '' }] }], new Set(['ipMode'])),
    ).toEqual([{ ip: '192.0.2.1', ports: [{ port: 80, protocol: 'TCP' }] }]);
  });
});

describe('mergeConditions', () => {
  const t0 = new Date('2026-01-01T00:00:00Z');
  const t1 = new Date('2026-01-01T01:00:00Z');
  const ready = (status: string, reason = 'Provisioned', message = ''): V1Condition => ({
    type: 'LoadBalancerReady',
    status,
    reason,
    message,
    lastTransitionTime: t0,
  });

  it('adds a missing condition, keeping others and their order', () => {
    const other: V1Condition = { type: 'Other', status: 'True', reason: 'X', message: '', lastTransitionTime: t0 };
    const r = mergeConditions([other], [{ type: 'LoadBalancerReady', status: 'True', reason: 'Provisioned' }], t1);
    expect(r.changed).toBe(true);
    expect(r.conditions.map((c) => c.type)).toEqual(['Other', 'LoadBalancerReady']);
    expect(r.conditions[1]!.lastTransitionTime).toEqual(t1);
  });

  it('is unchanged when status, reason, message and generation match', () => {
    const r = mergeConditions([ready('True')], [{ type: 'LoadBalancerReady', status: 'True', reason: 'Provisioned' }], t1);
    expect(r.changed).toBe(false);
  });

  it('moves lastTransitionTime only when the status changes', () => {
    const reasonOnly = mergeConditions([ready('False', 'Pending')], [{ type: 'LoadBalancerReady', status: 'False', reason: 'Throttled', message: 'retrying' }], t1);
    expect(reasonOnly.changed).toBe(true);
    expect(reasonOnly.conditions[0]).toMatchObject({ reason: 'Throttled', message: 'retrying', lastTransitionTime: t0 });
    const flipped = mergeConditions([ready('False', 'Pending')], [{ type: 'LoadBalancerReady', status: 'True', reason: 'Provisioned' }], t1);
    expect(flipped.conditions[0]).toMatchObject({ status: 'True', lastTransitionTime: t1 });
  });
});

describe('planStatusPatch', () => {
  const now = new Date('2026-01-01T02:00:00Z');
  const t0 = new Date('2026-01-01T00:00:00Z');
  const ready = { type: 'LoadBalancerReady', status: 'True' as const, reason: 'Provisioned' };
  const svc = {
    metadata: { name: 'a', namespace: 'ns' },
    status: {
      loadBalancer: { ingress: [{ ip: '192.0.2.1' }] },
      conditions: [
        { ...ready, message: '', lastTransitionTime: t0 },
        { type: 'Other', status: 'True', reason: 'X', message: '', lastTransitionTime: t0 },
      ],
    },
  };

  it('is undefined when the object already has the desired status', () => {
    expect(planStatusPatch('Service', svc, { ingress: [{ ip: '192.0.2.1' }], conditions: [ready] }, now)).toBeUndefined();
  });

  it('patches only the part that differs', () => {
    expect(planStatusPatch('Service', svc, { ingress: [{ ip: '192.0.2.2' }], conditions: [ready] }, now)).toEqual({
      status: { loadBalancer: { ingress: [{ ip: '192.0.2.2' }] } },
    });
  });

  it('clears the ingress list and removes only the named conditions', () => {
    expect(planStatusPatch('Service', svc, { ingress: [], removeConditionTypes: ['LoadBalancerReady'] }, now)).toEqual({
      status: {
        loadBalancer: { ingress: null },
        conditions: [{ type: 'Other', status: 'True', reason: 'X', message: '', lastTransitionTime: '2026-01-01T00:00:00Z' }],
      },
    });
  });

  it('ignores conditions for an Ingress', () => {
    const ing = { metadata: { name: 'a', namespace: 'ns' }, status: { loadBalancer: { ingress: [{ hostname: 'h' }] } } };
    expect(planStatusPatch('Ingress', ing, { ingress: [{ hostname: 'h' }], conditions: [ready] }, now)).toBeUndefined();
  });
});

describe('WritesInFlight', () => {
  it('counts writes in flight and says whether one started or ended lately (a backlog still draining, for the Event hold)', async () => {
    let now = 1000;
    const w = new WritesInFlight(() => now);
    expect(w.movedWithin(5000)).toBe(false);
    let answer: (v: string) => void = () => {};
    const pending = w.track(() => new Promise<string>((r) => (answer = r)));
    expect(w.count).toBe(1);
    now += 4999;
    expect(w.movedWithin(5000)).toBe(true);
    now += 1;
    // Started 5 s ago and not answered since: stuck.
    expect(w.movedWithin(5000)).toBe(false);
    answer('ok');
    await expect(pending).resolves.toBe('ok');
    expect(w.count).toBe(0);
    expect(w.movedWithin(5000)).toBe(true);
  });
});
