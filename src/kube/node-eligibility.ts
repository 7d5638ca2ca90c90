// Which nodes may receive load-balancer traffic at one instant: the upstream service
// controller's static predicates (kubernetes/cloud-provider controllers/service): the
// exclude-from-external-load-balancers label, the cluster autoscaler's deletion taint,
// a node already being deleted, and the Ready condition. Here, below the controller,
// because the metal speaker (a separate program) applies the same ones to the same Nodes.
import type { V1Node } from '@kubernetes/client-node';

export const EXCLUDE_FROM_LB_LABEL = 'node.kubernetes.io/exclude-from-external-load-balancers';
export const TO_BE_DELETED_TAINT = 'ToBeDeletedByClusterAutoscaler';

/** Why a node may never be a target right now, regardless of readiness; undefined when it may. */
export function nodeExclusion(node: V1Node): string | undefined {
  if (node.metadata?.labels?.[EXCLUDE_FROM_LB_LABEL] !== undefined) return `labelled ${EXCLUDE_FROM_LB_LABEL}`;
  if (node.spec?.taints?.some((t) => t.key === TO_BE_DELETED_TAINT)) return `tainted ${TO_BE_DELETED_TAINT}`;
  if (node.metadata?.deletionTimestamp !== undefined) return 'being deleted';
  return undefined;
}

/** Ready=True; a node with no Ready condition, or Unknown, is not ready (as upstream). */
export function isNodeReady(node: V1Node): boolean {
  const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
  return ready?.status === 'True';
}

/** Upstream's all-predicates check at one instant, without hysteresis. */
export function isNodeEligible(node: V1Node): boolean {
  return nodeExclusion(node) === undefined && isNodeReady(node);
}
