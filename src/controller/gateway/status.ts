// The status writes the Gateway reconciler makes, planned here so that an unchanged
// status is never written (a resync writes nothing): the Gateway's conditions, listeners
// and addresses; each route's entries in status.parents for this Gateway's parentRefs
// (entries of other controllers, and of lbc's other Gateways, are left as they are);
// the GatewayClass's conditions and supportedFeatures. Conditions keep their
// lastTransitionTime while their status stays (kube/status.ts mergeConditions).
import { mergeConditions, type ConditionInput } from '../../kube/status.js';
import type { LoadBalancerStatus } from '../../model/status.js';
import { type GatewayClass, type GatewayCondition, type GatewayObjectStatus, type ListenerStatus, type ParentReference, type RouteParentStatus } from '../../kube/gateway-api.js';
import { condition, GatewayReason, ListenerReason, Programmed } from './conditions.js';
import type { GatewayClassStatusWanted } from './gateway-class.js';
import { namesGateway } from './attachment.js';
import { routeGroupKinds, type ListenerState } from './listeners.js';
import type { Gateway } from '../../kube/gateway-api.js';

/** How the provider call ended, for Programmed. */
export type ProgrammedState =
  | { readonly kind: 'programmed'; readonly status: LoadBalancerStatus }
  | { readonly kind: 'pending'; readonly message: string }
  | { readonly kind: 'invalid'; readonly message: string };

export interface GatewayStatusWanted {
  readonly accepted: ConditionInput;
  readonly listeners: readonly ListenerState[];
  readonly attachedRoutes: ReadonlyMap<string, number>;
  readonly programmed: ProgrammedState;
}

const stamp = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

function merged(existing: readonly GatewayCondition[] | undefined, desired: readonly ConditionInput[], now: Date): { conditions: GatewayCondition[]; changed: boolean } {
  // Only the desired types are kept: a listener or Gateway carries just the conditions lbc sets.
  const types = new Set(desired.map((d) => d.type));
  const kept = (existing ?? []).filter((c) => types.has(c.type));
  const m = mergeConditions(kept as never, desired, now);
  const conditions = m.conditions.map((c) => {
    const t = c.lastTransitionTime as Date | string;
    return { ...c, lastTransitionTime: typeof t === 'string' ? t : stamp(t) } as GatewayCondition;
  });
  return { conditions, changed: m.changed || kept.length !== (existing ?? []).length };
}

/** status.addresses from the provider's status: IPs as IPAddress, names as Hostname. */
export function gatewayAddresses(status: LoadBalancerStatus): { type: string; value: string }[] {
  return status.ingress.flatMap((i) => [...(i.ip !== undefined ? [{ type: 'IPAddress', value: i.ip }] : []), ...(i.hostname !== undefined ? [{ type: 'Hostname', value: i.hostname }] : [])]);
}

/** The Gateway's whole status, or undefined when it already has it. */
export function planGatewayStatus(gateway: Gateway, want: GatewayStatusWanted, now: Date): GatewayObjectStatus | undefined {
  const generation = gateway.metadata?.generation;
  const cur = gateway.status ?? {};
  const p = want.programmed;
  const programmed =
    p.kind === 'programmed'
      ? p.status.ingress.length > 0
        ? condition(Programmed, true, GatewayReason.Programmed, 'Load balancer is programmed', generation)
        : condition(Programmed, false, GatewayReason.AddressNotAssigned, 'the load balancer has no address yet', generation)
      : condition(Programmed, false, p.kind === 'pending' ? GatewayReason.Pending : GatewayReason.Invalid, p.message, generation);
  let changed = false;
  const gw = merged(cur.conditions, [want.accepted, programmed], now);
  changed ||= gw.changed;
  const listeners: ListenerStatus[] = want.listeners.map((l) => {
    const before = cur.listeners?.find((x) => x.name === l.name);
    const lp = !l.servable
      ? condition(Programmed, false, ListenerReason.Invalid, l.problem ?? 'listener is not valid', generation)
      : p.kind === 'programmed'
        ? condition(Programmed, true, ListenerReason.Programmed, 'Listener is programmed', generation)
        : condition(Programmed, false, p.kind === 'pending' ? ListenerReason.Pending : ListenerReason.Invalid, p.message, generation);
    const c = merged(before?.conditions, [...l.conditions, lp], now);
    const supportedKinds = routeGroupKinds(l.supportedKinds);
    const attachedRoutes = want.attachedRoutes.get(l.name) ?? 0;
    if (c.changed || !before || before.attachedRoutes !== attachedRoutes || JSON.stringify(before.supportedKinds ?? []) !== JSON.stringify(supportedKinds)) changed = true;
    return { name: l.name, supportedKinds, attachedRoutes, conditions: c.conditions };
  });
  if ((cur.listeners ?? []).length !== listeners.length || (cur.listeners ?? []).some((x, i) => x.name !== listeners[i]?.name)) changed = true;
  const addresses = p.kind === 'programmed' ? gatewayAddresses(p.status) : (cur.addresses ?? []).map((a) => ({ type: a.type ?? 'IPAddress', value: a.value }));
  if (JSON.stringify((cur.addresses ?? []).map((a) => ({ type: a.type ?? 'IPAddress', value: a.value }))) !== JSON.stringify(addresses)) changed = true;
  return changed ? { addresses, conditions: gw.conditions, listeners } : undefined;
}

const sameParent = (a: ParentReference, b: ParentReference): boolean =>
  (a.group ?? '') === (b.group ?? '') && (a.kind ?? '') === (b.kind ?? '') && (a.namespace ?? '') === (b.namespace ?? '') && a.name === b.name && (a.sectionName ?? '') === (b.sectionName ?? '') && (a.port ?? 0) === (b.port ?? 0);

/**
 * A route's status.parents with this Gateway's entries as `wanted` says, written under
 * `writer.controllerName` (the controllerName of the Gateway's class: the specification's
 * RouteParentStatus.controllerName is the controller that wrote the entry): entries lbc
 * wrote for parentRefs of this Gateway under any name it serves (`writer.names`) that are
 * not wanted under that one go; everything else stays. Undefined when nothing changes.
 */
export function planRouteParents(
  current: readonly RouteParentStatus[] | undefined,
  routeNamespace: string,
  gateway: Gateway,
  wanted: readonly { readonly parentRef: ParentReference; readonly conditions: readonly ConditionInput[] }[],
  now: Date,
  writer: { readonly controllerName: string; readonly names: readonly string[] },
): RouteParentStatus[] | undefined {
  const cur = current ?? [];
  const { controllerName } = writer;
  const ours = (p: RouteParentStatus): boolean => writer.names.includes(p.controllerName) && namesGateway(p.parentRef, routeNamespace, gateway);
  const out: RouteParentStatus[] = [];
  let changed = false;
  for (const p of cur) {
    if (!ours(p)) out.push(p);
    else if (p.controllerName !== controllerName || !wanted.some((w) => sameParent(w.parentRef, p.parentRef))) changed = true;
  }
  for (const w of wanted) {
    const before = cur.find((p) => ours(p) && p.controllerName === controllerName && sameParent(p.parentRef, w.parentRef));
    const m = merged(before?.conditions, w.conditions, now);
    if (!before || m.changed) changed = true;
    out.push({ parentRef: w.parentRef, controllerName, conditions: m.conditions });
  }
  return changed ? out : undefined;
}

/** The GatewayClass's status, or undefined when it already has it. */
export function planGatewayClassStatus(gc: GatewayClass, want: GatewayClassStatusWanted, now: Date): GatewayClass['status'] | undefined {
  const cur = gc.status ?? {};
  // Other types (SupportedVersion, set by whoever checks the CRD versions) are kept.
  const kept = (cur.conditions ?? []).filter((c) => !want.conditions.some((d) => d.type === c.type));
  const m = merged((cur.conditions ?? []).filter((c) => want.conditions.some((d) => d.type === c.type)), want.conditions, now);
  const features = JSON.stringify(cur.supportedFeatures ?? []) !== JSON.stringify(want.supportedFeatures);
  return m.changed || features ? { conditions: [...kept, ...m.conditions], supportedFeatures: [...want.supportedFeatures] } : undefined;
}
