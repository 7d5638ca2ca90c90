// Deterministic names, in aws-load-balancer-controller's `k8s-<namespace>-<name>-<hash>`
// shape. The hash covers what makes the resource this resource (cluster, owner uid,
// and for target groups the properties AWS cannot change in place), so a retried create
// after a crash meets its own earlier attempt, and a changed immutable property yields a
// new name: the new resource can exist next to the old one until the switch.
import { createHash } from 'node:crypto';
import type { LbRef } from '../../model/ref.js';

const hash = (parts: readonly unknown[], length: number): string => createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, length);

/** Lower-case letters and digits only, cut to n: safe inside any AWS name. */
function part(s: string, n: number): string {
  return s
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '')
    .slice(0, n);
}

function prefixOf(ref: LbRef): string {
  // An explicit Ingress group has no namespace; its name is the group's.
  return ref.namespace === '' ? `k8s-${part(ref.name, 17)}` : `k8s-${part(ref.namespace, 8)}-${part(ref.name, 8)}`;
}

/** At most 32 characters, as ELBv2 requires for load balancers and target groups. */
export function loadBalancerName(clusterName: string, ref: LbRef, scheme: string): string {
  return `${prefixOf(ref)}-${hash([clusterName, ref.uid, scheme], 10)}`;
}

/**
 * `identity` is what tells the object's target groups apart plus what AWS cannot change
 * in place; for instance targets the node port alone tells them apart, so a Service port
 * edit keeps its group (and the listener is moved, not replaced).
 */
export function targetGroupName(clusterName: string, ref: LbRef, identity: readonly unknown[]): string {
  return `${prefixOf(ref)}-${hash([clusterName, ref.uid, ...identity], 10)}`;
}

export function securityGroupName(clusterName: string, ref: LbRef): string {
  return `${prefixOf(ref)}-${hash([clusterName, ref.uid, 'frontend'], 10)}`;
}
