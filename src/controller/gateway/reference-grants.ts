// ReferenceGrant (gateway.networking.k8s.io/v1beta1): a reference from an object in one
// namespace to an object in another is allowed only when a ReferenceGrant in the
// target's namespace lists the referrer's group, kind and namespace in `from`, and the
// target's group, kind and (if it names one) name in `to`. A reference within one
// namespace needs none.
import type { ReferenceGrant } from '../../kube/gateway-api.js';

export interface Referrer {
  readonly group: string;
  readonly kind: string;
  readonly namespace: string;
}

export interface Referent {
  /** '' for the core group (Service, Secret). */
  readonly group: string;
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
}

export class ReferenceGrants {
  constructor(private readonly grants: readonly ReferenceGrant[]) {}

  allows(from: Referrer, to: Referent): boolean {
    if (from.namespace === to.namespace) return true;
    return this.grants.some(
      (g) =>
        g.metadata?.namespace === to.namespace &&
        (g.spec?.from ?? []).some((f) => f.group === from.group && f.kind === from.kind && f.namespace === from.namespace) &&
        (g.spec?.to ?? []).some((t) => t.group === to.group && t.kind === to.kind && (t.name === undefined || t.name === '' || t.name === to.name)),
    );
  }
}
