import type { V1Node } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import {
  EMPTY_NODE_TRACKER,
  nodeChangeMatters,
  nodeTargetsChanged,
  toNodeTarget,
  toNodeTargets,
  trackNodes,
  type NodeTrackerState,
} from '../../src/controller/nodes.js';
import { isNodeEligible, nodeExclusion } from '../../src/kube/node-eligibility.js';
import { node } from './fixtures.js';

describe('node eligibility (upstream predicates)', () => {
  it.each<[string, V1Node, string | undefined, boolean]>([
    ['ready', node('n'), undefined, true],
    ['not ready', node('n', { ready: 'False' }), undefined, false],
    ['ready unknown', node('n', { ready: 'Unknown' }), undefined, false],
    ['no Ready condition', node('n', { ready: 'missing' }), undefined, false],
    ['exclude label (any value)', node('n', { labels: { 'node.kubernetes.io/exclude-from-external-load-balancers': '' } }), 'labelled node.kubernetes.io/exclude-from-external-load-balancers', false],
    ['autoscaler deletion taint', node('n', { taints: ['ToBeDeletedByClusterAutoscaler'] }), 'tainted ToBeDeletedByClusterAutoscaler', false],
    ['other taint', node('n', { taints: ['node.kubernetes.io/unschedulable'] }), undefined, true],
    ['being deleted', node('n', { deleting: true }), 'being deleted', false],
    ['control-plane label alone does not exclude', node('n', { labels: { 'node-role.kubernetes.io/control-plane': '' } }), undefined, true],
  ])('%s', (_name, n, exclusion, eligible) => {
    expect(nodeExclusion(n)).toBe(exclusion);
    expect(isNodeEligible(n)).toBe(eligible);
  });
});

describe('trackNodes (hysteresis)', () => {
  const H = 60_000;
  const names = (r: { eligible: readonly V1Node[] }): string[] => r.eligible.map((n) => n.metadata?.name ?? '');

  type Step = [at: number, nodes: V1Node[], want: string[], changed: boolean, nextCheckAt?: number];
  it.each<[string, Step[]]>([
    ['admits only ready nodes', [[0, [node('a'), node('b', { ready: 'False' })], ['a'], true]]],
    [
      'keeps a NotReady member inside the window, drops it after',
      [
        [0, [node('a'), node('b')], ['a', 'b'], true],
        [1000, [node('a'), node('b', { ready: 'False' })], ['a', 'b'], false, 61_000],
        [60_999, [node('a'), node('b', { ready: 'False' })], ['a', 'b'], false, 61_000],
        [61_000, [node('a'), node('b', { ready: 'False' })], ['a'], true],
      ],
    ],
    [
      'a flap shorter than the window changes nothing, and the clock restarts',
      [
        [0, [node('a')], ['a'], true],
        [10_000, [node('a', { ready: 'False' })], ['a'], false, 70_000],
        [20_000, [node('a')], ['a'], false],
        [30_000, [node('a', { ready: 'False' })], ['a'], false, 90_000],
        [80_000, [node('a', { ready: 'False' })], ['a'], false, 90_000],
      ],
    ],
    [
      'a dropped node comes back only when Ready',
      [
        [0, [node('a')], ['a'], true],
        [1, [node('a', { ready: 'False' })], ['a'], false, 60_001],
        [70_000, [node('a', { ready: 'False' })], [], true],
        [80_000, [node('a', { ready: 'Unknown' })], [], false],
        [90_000, [node('a')], ['a'], true],
      ],
    ],
    [
      'exclusion and deletion act at once, whatever the window',
      [
        [0, [node('a'), node('b'), node('c')], ['a', 'b', 'c'], true],
        [1, [node('a', { labels: { 'node.kubernetes.io/exclude-from-external-load-balancers': 'true' } }), node('b', { taints: ['ToBeDeletedByClusterAutoscaler'] }), node('c')], ['c'], true],
        [2, [node('c', { deleting: true })], [], true],
      ],
    ],
    ['a vanished node leaves at once', [[0, [node('a'), node('b')], ['a', 'b'], true], [1, [node('b')], ['b'], true]]],
    ['sorts by name', [[0, [node('c'), node('a'), node('b')], ['a', 'b', 'c'], true]]],
  ])('%s', (_name, steps) => {
    let state: NodeTrackerState = EMPTY_NODE_TRACKER;
    for (const [at, nodes, want, changed, nextCheckAt] of steps) {
      const r = trackNodes(state, nodes, at, H);
      expect({ at, names: names(r), changed: r.changed, next: r.nextCheckAtMs }).toEqual({ at, names: want, changed, next: nextCheckAt });
      state = r.state;
    }
  });

  it('with a zero window drops a NotReady node at once', () => {
    const s1 = trackNodes(EMPTY_NODE_TRACKER, [node('a')], 0, 0);
    const s2 = trackNodes(s1.state, [node('a', { ready: 'False' })], 0, 0);
    expect(s2.eligible).toEqual([]);
    expect(s2.changed).toBe(true);
  });

  it('does not mutate the previous state', () => {
    const s1 = trackNodes(EMPTY_NODE_TRACKER, [node('a')], 0, H);
    trackNodes(s1.state, [], 1, H);
    expect([...s1.state.members.keys()]).toEqual(['a']);
  });
});

describe('node targets', () => {
  it('carries name, addresses, providerID, zone and labels', () => {
    const n = node('n', { ip: '10.0.0.9', providerID: 'aws:///us-east-1a/i-1', labels: { 'topology.kubernetes.io/zone': 'us-east-1a' } });
    expect(toNodeTarget(n)).toEqual({
      name: 'n',
      addresses: [{ type: 'InternalIP', address: '10.0.0.9' }],
      providerID: 'aws:///us-east-1a/i-1',
      zone: 'us-east-1a',
      labels: { 'topology.kubernetes.io/zone': 'us-east-1a' },
    });
    expect(toNodeTarget(node('m', { labels: { 'failure-domain.beta.kubernetes.io/zone': 'old' } })).zone).toBe('old');
  });

  it.each<[string, V1Node[], V1Node[], boolean]>([
    ['same set, other order', [node('a'), node('b', { ip: '10.0.0.2' })], [node('b', { ip: '10.0.0.2' }), node('a')], false],
    ['readiness alone is not a target change', [node('a')], [node('a', { ready: 'False' })], false],
    ['added node', [node('a')], [node('a'), node('b')], true],
    ['address change', [node('a')], [node('a', { ip: '10.9.9.9' })], true],
    ['providerID change', [node('a')], [node('a', { providerID: 'x' })], true],
    ['zone change', [node('a')], [node('a', { labels: { 'topology.kubernetes.io/zone': 'z' } })], true],
  ])('nodeTargetsChanged: %s → %s', (_name, a, b, want) => {
    expect(nodeTargetsChanged(toNodeTargets(a), toNodeTargets(b))).toBe(want);
  });
});

describe('nodeChangeMatters', () => {
  const heartbeat = (n: V1Node): V1Node => ({
    ...n,
    metadata: { ...n.metadata, resourceVersion: '2' },
    status: { ...n.status, conditions: n.status?.conditions?.map((c) => ({ ...c, lastHeartbeatTime: new Date(5) })) },
  });
  it.each<[string, V1Node | undefined, V1Node | undefined, boolean]>([
    ['added', undefined, node('a'), true],
    ['removed', node('a'), undefined, true],
    ['heartbeat only', node('a'), heartbeat(node('a')), false],
    ['unrelated label', node('a'), node('a', { labels: { team: 'x' } }), false],
    ['became NotReady', node('a'), node('a', { ready: 'False' }), true],
    ['excluded', node('a'), node('a', { labels: { 'node.kubernetes.io/exclude-from-external-load-balancers': '' } }), true],
    ['tainted for deletion', node('a'), node('a', { taints: ['ToBeDeletedByClusterAutoscaler'] }), true],
    ['providerID set', node('a'), node('a', { providerID: 'gce://p/z/a' }), true],
    ['address changed', node('a'), node('a', { ip: '10.0.0.7' }), true],
  ])('%s → %s', (_name, before, after, want) => {
    expect(nodeChangeMatters(before, after)).toBe(want);
  });
});
