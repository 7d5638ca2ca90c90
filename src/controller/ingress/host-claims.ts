// Which namespace a host of an Ingress group belongs to, so that a member from another
// namespace cannot take over a host by joining the group (issue #16's hijack: with a lower
// group.order it would otherwise win the host's paths). The host belongs to the namespace
// of the oldest member serving it; a member from another namespace naming it is refused for
// that host alone (its other rules, and the owner's, stay) and both are told.
//
// aws-load-balancer-controller has no such check (group_loader.go merges every member of a
// group name); its guard is IngressClassParams group/namespaceSelector, which restricts who
// may join at all. This one holds within a group that is already shared across namespaces,
// unless the administrator allowed the sharing: a member that joined through its class's
// IngressClassParams group.name with a namespaceSelector that selects its namespace
// (./class-params.ts) is allowed to route any host of the group, as ALBC would.
import { codePointOrder } from './order.js';
import { timeOf } from '../service-model.js';
import type { Member } from './group.js';
import { appliedClassParams } from './class-params.js';

export interface RefusedClaim {
  readonly host: string;
  /** The member from another namespace that named the host. */
  readonly intruder: Member;
  /** The oldest member serving the host, whose namespace owns it. */
  readonly owner: Member;
}

// The informers keep the server's JSON (RFC 3339 strings); typed clients and fixtures give Dates.
// valueOf() of a string is the string, and string - string is NaN: the sort then fell through
// to namespace order and could hand an older namespace's host to a younger intruder.
const created = (m: Member): number => {
  const t = m.ingress.metadata?.creationTimestamp as Date | string | undefined;
  return t === undefined ? Number.POSITIVE_INFINITY : timeOf(t) || Number.POSITIVE_INFINITY;
};
const hostsOf = (m: Member): Set<string> =>
  new Set((m.ingress.spec?.rules ?? []).flatMap((r) => (r.host === undefined || r.host === '' ? [] : [r.host.toLowerCase()])));

/** Joined its group through IngressClassParams that name the group and select its namespace: the administrator shares the group's hosts with it. */
function allowedAcrossNamespaces(m: Member): boolean {
  const p = appliedClassParams(m.ingress);
  return p?.groupName !== undefined && p.namespaceSelector !== undefined;
}

export class HostClaims {
  private readonly refusedByMember = new Map<Member, Set<string>>();
  readonly refused: readonly RefusedClaim[];

  constructor(members: readonly Member[]) {
    const oldestFirst = [...members].sort((a, b) => created(a) - created(b) || codePointOrder(a.namespace, b.namespace) || codePointOrder(a.name, b.name));
    const owners = new Map<string, Member>();
    const refused: RefusedClaim[] = [];
    for (const m of oldestFirst) {
      for (const host of hostsOf(m)) {
        const owner = owners.get(host);
        if (owner === undefined) owners.set(host, m);
        else if (owner.namespace !== m.namespace && !allowedAcrossNamespaces(m)) {
          refused.push({ host, intruder: m, owner });
          const set = this.refusedByMember.get(m) ?? new Set<string>();
          set.add(host);
          this.refusedByMember.set(m, set);
        }
      }
    }
    this.refused = refused;
  }

  /** Whether member m may route for host (undefined: any host, which is not a claim). */
  admits(m: Member, host: string | undefined): boolean {
    return host === undefined || !this.refusedByMember.get(m)?.has(host);
  }
}
