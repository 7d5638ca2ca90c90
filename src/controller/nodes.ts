// Which nodes receive load-balancer traffic. The static predicates are upstream's
// (kube/node-eligibility.ts, shared with the metal speaker). Readiness is upstream's
// Ready condition, softened by a hysteresis window so a flapping node does not rewrite
// every cloud LB each time its kubelet misses a heartbeat.
import type { V1Node } from '@kubernetes/client-node';
import { isNodeReady, nodeExclusion } from '../kube/node-eligibility.js';
import type { NodeAddress, NodeTarget } from '../model/spec.js';

export const ZONE_LABEL = 'topology.kubernetes.io/zone';
export const LEGACY_ZONE_LABEL = 'failure-domain.beta.kubernetes.io/zone';

export interface NodeMembership {
  /** When the tracker first saw this member NotReady; absent while Ready. */
  readonly notReadySince?: number;
}

export interface NodeTrackerState {
  readonly members: ReadonlyMap<string, NodeMembership>;
}

export const EMPTY_NODE_TRACKER: NodeTrackerState = { members: new Map() };

export interface NodeTrackerResult {
  readonly state: NodeTrackerState;
  /** The nodes to use as targets, sorted by name. */
  readonly eligible: readonly V1Node[];
  /** Whether the set of names differs from the previous state's. */
  readonly changed: boolean;
  /** When a NotReady member's window runs out; call again then, since nothing else may wake the tracker. */
  readonly nextCheckAtMs?: number;
}

/**
 * Advances the eligible-node set to `nowMs`:
 * - excluded (label, taint, deleting) or vanished nodes leave at once;
 * - a member that turns NotReady stays until it has been NotReady for hysteresisMs
 *   (0: leaves at once), and its clock resets if it is Ready again before then;
 * - a node joins only while Ready.
 */
export function trackNodes(prev: NodeTrackerState, nodes: readonly V1Node[], nowMs: number, hysteresisMs: number): NodeTrackerResult {
  const members = new Map<string, NodeMembership>();
  const eligible: V1Node[] = [];
  let nextCheckAtMs: number | undefined;
  for (const node of nodes) {
    const name = node.metadata?.name;
    if (name === undefined || nodeExclusion(node) !== undefined) continue;
    const was = prev.members.get(name);
    if (isNodeReady(node)) {
      members.set(name, {});
      eligible.push(node);
      continue;
    }
    if (!was) continue;
    const since = was.notReadySince ?? nowMs;
    const due = since + hysteresisMs;
    if (nowMs >= due) continue;
    members.set(name, { notReadySince: since });
    eligible.push(node);
    nextCheckAtMs = nextCheckAtMs === undefined ? due : Math.min(nextCheckAtMs, due);
  }
  eligible.sort((a, b) => byName(a.metadata?.name, b.metadata?.name));
  const changed = members.size !== prev.members.size || [...members.keys()].some((n) => !prev.members.has(n));
  return { state: { members }, eligible, changed, ...(nextCheckAtMs !== undefined ? { nextCheckAtMs } : {}) };
}

const byName = (a = '', b = ''): number => (a < b ? -1 : a > b ? 1 : 0);

function zoneOf(node: V1Node): string | undefined {
  return node.metadata?.labels?.[ZONE_LABEL] ?? node.metadata?.labels?.[LEGACY_ZONE_LABEL];
}

export function toNodeTarget(node: V1Node): NodeTarget {
  const addresses: NodeAddress[] = (node.status?.addresses ?? [])
    .map((a) => ({ type: a.type, address: a.address }))
    .sort((a, b) => byName(a.type, b.type) || byName(a.address, b.address));
  const zone = zoneOf(node);
  const providerID = node.spec?.providerID;
  const labels = node.metadata?.labels;
  return {
    name: node.metadata?.name ?? '',
    addresses,
    ...(providerID ? { providerID } : {}),
    ...(zone ? { zone } : {}),
    ...(labels && Object.keys(labels).length > 0 ? { labels: { ...labels } } : {}),
  };
}

// One target list per set of eligible nodes (EligibleNodes keeps the array until the set
// changes), shared by every spec built from it: at 5000 load balancers over 500 nodes,
// a list per spec held 2.5 million copies of the same targets. Frozen, because it is shared.
const sharedTargets = new WeakMap<readonly V1Node[], readonly NodeTarget[]>();

/** Node targets sorted by name, as the model builders want them; the same (frozen) list for the same nodes array. */
export function toNodeTargets(nodes: readonly V1Node[]): readonly NodeTarget[] {
  let targets = sharedTargets.get(nodes);
  if (!targets) {
    targets = Object.freeze(nodes.map((n) => Object.freeze(toNodeTarget(n))).sort((a, b) => byName(a.name, b.name)));
    sharedTargets.set(nodes, targets);
  }
  return targets;
}

function targetKey(t: NodeTarget): string {
  // Labels are left out on purpose: nodes are relabelled often and for many reasons, and
  // requeueing every LB for each would cost more than a label-selected target set
  // (AWS target-node-labels) catching up at the next periodic resync.
  return JSON.stringify([t.name, t.providerID ?? '', t.zone ?? '', [...t.addresses].map((a) => `${a.type}=${a.address}`).sort()]);
}

/** Whether two target lists differ in anything a load balancer cares about (order aside). */
export function nodeTargetsChanged(a: readonly NodeTarget[], b: readonly NodeTarget[]): boolean {
  if (a.length !== b.length) return true;
  const ka = a.map(targetKey).sort();
  const kb = b.map(targetKey).sort();
  return ka.some((k, i) => k !== kb[i]);
}

/**
 * Whether a node event can change any LB: its arrival or departure, or a change to
 * exclusion, readiness, providerID, addresses or zone. Heartbeats and other status
 * churn answer false, which is what keeps a large cluster from requeueing every LB
 * every few seconds.
 */
export function nodeChangeMatters(before: V1Node | undefined, after: V1Node | undefined): boolean {
  if (!before || !after) return before !== after;
  if (nodeExclusion(before) !== nodeExclusion(after)) return true;
  if (isNodeReady(before) !== isNodeReady(after)) return true;
  return targetKey(toNodeTarget(before)) !== targetKey(toNodeTarget(after));
}
