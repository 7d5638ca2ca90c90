import { describe, expect, it } from 'vitest';
import { canonicalJson, canonicalSpec, jsonEqual, specEqual, specHash } from '../../src/model/canonical.js';
import type { L4Spec, L7Spec, TargetSet } from '../../src/model/spec.js';
import { statusEqual } from '../../src/model/status.js';
import { l4Spec, l7Spec, nodeA, nodeB } from './spec-fixtures.js';

const reversed = <T>(xs: readonly T[]): T[] => [...xs].reverse();

describe('canonicalJson', () => {
  it('sorts keys at every depth and drops undefined members', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { z: 1, y: undefined, x: 0 }], c: undefined } })).toBe('{"a":{"d":[2,{"x":0,"z":1}]},"b":1}');
  });

  it('orders keys as Array#sort does (code units), for few keys and for many, index-like, upper case and non-ASCII ones', () => {
    const keys = ['b', 'a', '10', '9', 'B', 'é', 'Z', 'aa', '_', 'a-b', 'a.b', '0', 'zz', 'y', 'x1', 'x10', 'x2', 'Ω', 'c', 'd'];
    for (const n of [1, 2, 3, 5, 16, 17, keys.length]) {
      for (const order of [keys.slice(0, n), reversed(keys.slice(0, n))]) {
        const obj = Object.fromEntries(order.map((k, i) => [k, i]));
        // What canonicalJson did with Array#sort: an object built in sorted key order, which
        // JSON.stringify writes with index-like keys first in numeric order, as any object.
        const bySort = JSON.stringify(Object.fromEntries(Object.keys(obj).sort().map((k) => [k, obj[k]])));
        expect(canonicalJson(obj)).toBe(bySort);
      }
    }
  });
});

describe('specEqual / specHash', () => {
  const base = l4Spec();

  it('ignores the order of listeners, target sets, targets, node addresses, CIDRs and tags', () => {
    const shuffled: L4Spec = {
      ...base,
      listeners: reversed(base.listeners),
      targetSets: reversed(base.targetSets).map((ts): TargetSet =>
        ts.type === 'instance'
          ? { ...ts, targets: [{ ...nodeB, addresses: reversed(nodeB.addresses) }, nodeA] }
          : { ...ts, targets: reversed(ts.targets) },
      ),
      sourceRanges: [...reversed(base.sourceRanges), '10.0.0.0/8'],
      tags: { team: 'a', 'lbc.dev/cluster': 'test' },
    };
    expect(specEqual(base, shuffled)).toBe(true);
    expect(specHash(base)).toBe(specHash(shuffled));
  });

  it.each<[string, (s: L4Spec) => L4Spec]>([
    ['a node port', (s) => ({ ...s, targetSets: s.targetSets.map((t) => (t.type === 'instance' ? { ...t, nodePort: 30099 } : t)) })],
    ['a target', (s) => ({ ...s, targetSets: s.targetSets.map((t) => (t.type === 'instance' ? { ...t, targets: [nodeA] } : t)) })],
    ['a health check', (s) => ({ ...s, targetSets: s.targetSets.map((t) => ({ ...t, healthCheck: { ...t.healthCheck, intervalSeconds: 30 } })) })],
    ['session affinity', (s) => ({ ...s, sessionAffinity: { type: 'ClientIP', timeoutSeconds: 10800 } })],
    ['a source range', (s) => ({ ...s, sourceRanges: ['10.0.0.0/8'] })],
    ['a tag value', (s) => ({ ...s, tags: { ...s.tags, team: 'b' } })],
    ['provider options', (s) => ({ ...s, providerOptions: { tier: 'premium' } })],
    ['the uid', (s) => ({ ...s, ref: { ...s.ref, uid: 'other' } })],
    ['the order of ipFamilies (primary family)', (s) => ({ ...s, ipFamilies: ['IPv6', 'IPv4'] })],
    ['requested addresses', (s) => ({ ...s, requestedAddresses: ['192.0.2.7'] })],
  ])('sees a change in %s', (_what, change) => {
    const changed = change(base);
    expect(specEqual(base, changed)).toBe(false);
    expect(specHash(base)).not.toBe(specHash(changed));
  });

  it('keeps rule order (it is priority) but not certificate or cert-host order', () => {
    const s = l7Spec();
    const https = s.listeners[1];
    if (https?.protocol !== 'HTTPS') throw new Error('fixture');
    const certsShuffled: L7Spec = {
      ...s,
      listeners: [{ ...https, certificates: reversed(https.certificates).map((c) => ({ ...c, hosts: reversed(c.hosts) })) }, { protocol: 'HTTP', port: 80 }],
    };
    expect(specEqual(s, certsShuffled)).toBe(true);
    expect(specEqual(s, { ...s, rules: reversed(s.rules) })).toBe(false);
  });

  it('keeps a frozen canonical node list as it is, and checks a list that is not frozen every time', () => {
    const instanceTargets = (s: L4Spec) => s.targetSets.find((t) => t.type === 'instance')?.targets;
    const addressesSorted = [...nodeB.addresses].sort((a, b) => (a.type < b.type ? -1 : 1));
    const nodeBSorted = { ...nodeB, addresses: addressesSorted };
    const frozen = Object.freeze([Object.freeze({ ...nodeA }), Object.freeze(nodeBSorted)]);
    const s = l4Spec({ targetSets: l4Spec().targetSets.map((t) => (t.type === 'instance' ? { ...t, targets: frozen } : t)) });
    expect(instanceTargets(canonicalSpec(s))).toBe(frozen);
    expect(instanceTargets(canonicalSpec(s))).toBe(frozen);

    // Sorted when first seen, then sorted in place wrongly by its owner: the next call sorts it again.
    const open = [nodeA, nodeBSorted];
    const t = l4Spec({ targetSets: l4Spec().targetSets.map((ts) => (ts.type === 'instance' ? { ...ts, targets: open } : ts)) });
    expect(instanceTargets(canonicalSpec(t))).toBe(open);
    open.reverse();
    expect(instanceTargets(canonicalSpec(t))?.map((n) => n.name)).toEqual(['node-a', 'node-b']);
    // A frozen list of nodes that are not: a node may still change, so it is checked again too.
    const loose = { ...nodeBSorted };
    const frozenLoose = Object.freeze([nodeA, loose]);
    const v = l4Spec({ targetSets: l4Spec().targetSets.map((ts) => (ts.type === 'instance' ? { ...ts, targets: frozenLoose } : ts)) });
    expect(instanceTargets(canonicalSpec(v))).toBe(frozenLoose);
    loose.addresses = reversed(addressesSorted);
    expect(instanceTargets(canonicalSpec(v))?.[1]?.addresses).toEqual(addressesSorted);
    // A node's addresses out of order make the list not canonical either.
    const unsortedAddresses = [nodeA, { ...nodeB, addresses: reversed(addressesSorted) }];
    const u = l4Spec({ targetSets: l4Spec().targetSets.map((ts) => (ts.type === 'instance' ? { ...ts, targets: unsortedAddresses } : ts)) });
    expect(instanceTargets(canonicalSpec(u))?.[1]?.addresses).toEqual(addressesSorted);
  });

  it('does not mutate its input', () => {
    const s = l4Spec();
    const before = JSON.stringify(s);
    canonicalSpec({ ...s, listeners: reversed(s.listeners) });
    specHash(s);
    expect(JSON.stringify(s)).toBe(before);
  });
});

describe('jsonEqual', () => {
  it('answers as JSON.stringify(a) === JSON.stringify(b): key order counts, toJSON, undefined members and class instances as JSON writes them', () => {
    const when = new Date(Date.UTC(2026, 0, 1));
    const pairs: [unknown, unknown][] = [
      [{ a: 1, b: [1, { c: 'x' }] }, { a: 1, b: [1, { c: 'x' }] }],
      [{ a: 1, b: 2 }, { b: 2, a: 1 }],
      [{ a: 1, u: undefined }, { a: 1 }],
      [[undefined], [null]],
      [undefined, undefined],
      [undefined, null],
      [null, null],
      [when, new Date(when.getTime())],
      [when, when.toISOString()],
      [{ toJSON: () => 'x' }, 'x'],
      [new Map([[1, 2]]), {}],
      [{ a: [1, 2] }, { a: [2, 1] }],
      [{ a: '1' }, { a: 1 }],
      [[1, 2], { 0: 1, 1: 2 }],
    ];
    for (const [a, b] of pairs) {
      expect(jsonEqual(a, b), JSON.stringify([a, b])).toBe(JSON.stringify(a) === JSON.stringify(b));
      expect(jsonEqual(b, a), JSON.stringify([b, a])).toBe(JSON.stringify(a) === JSON.stringify(b));
    }
  });
});

describe('statusEqual', () => {
  it('ignores order of points and ports', () => {
    expect(
      statusEqual(
        { ingress: [{ ip: '1.1.1.1', ports: [{ port: 80, protocol: 'TCP' }, { port: 53, protocol: 'UDP' }] }, { hostname: 'x' }] },
        { ingress: [{ hostname: 'x' }, { ip: '1.1.1.1', ports: [{ port: 53, protocol: 'UDP' }, { port: 80, protocol: 'TCP' }] }] },
      ),
    ).toBe(true);
  });
  it.each([
    [{ ingress: [{ ip: '1.1.1.1' }] }, { ingress: [{ ip: '1.1.1.2' }] }],
    [{ ingress: [{ ip: '1.1.1.1' }] }, { ingress: [] }],
    [{ ingress: [{ ip: '1.1.1.1', ipMode: 'VIP' as const }] }, { ingress: [{ ip: '1.1.1.1', ipMode: 'Proxy' as const }] }],
    [{ ingress: [{ hostname: 'a' }] }, { ingress: [{ ip: 'a' }] }],
  ])('sees a difference %#', (a, b) => {
    expect(statusEqual(a, b)).toBe(false);
  });
});
