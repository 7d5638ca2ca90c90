// Which Kubernetes object (or Ingress group) a load balancer belongs to. Providers see
// only this, never the object itself, and tag what they create with it.

export type LbKind = 'Service' | 'Ingress' | 'Gateway';

export interface LbRef {
  readonly kind: LbKind;
  /**
   * The object's namespace. An explicit Ingress group can span namespaces, so its
   * ref has the empty namespace, which no real namespace can have.
   */
  readonly namespace: string;
  /** The object's name, or the group name for an explicit Ingress group. */
  readonly name: string;
  /** The object's UID, or `ingress-group:<name>` for an explicit Ingress group. */
  readonly uid: string;
}

const GROUP_UID_PREFIX = 'ingress-group:';

export function ingressGroupRef(groupName: string): LbRef {
  return { kind: 'Ingress', namespace: '', name: groupName, uid: `${GROUP_UID_PREFIX}${groupName}` };
}

export function isIngressGroupRef(ref: LbRef): boolean {
  return ref.kind === 'Ingress' && ref.namespace === '';
}

/** One string per ref, usable as a map key and a work-queue key. */
export function refKey(ref: LbRef): string {
  return `${ref.kind}/${ref.namespace}/${ref.name}`;
}

/** The uid is part of identity: a Service deleted and recreated under the same name is a new LB. */
export function sameRef(a: LbRef, b: LbRef): boolean {
  return a.kind === b.kind && a.namespace === b.namespace && a.name === b.name && a.uid === b.uid;
}

export function describeRef(ref: LbRef): string {
  return isIngressGroupRef(ref) ? `Ingress group ${ref.name}` : `${ref.kind} ${ref.namespace}/${ref.name}`;
}
