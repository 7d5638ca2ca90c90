// Which listeners of a Gateway a route attaches to, parentRef by parentRef, and the
// Accepted condition of each (the specification's RouteConditionAccepted reasons): a
// parentRef's sectionName and port narrow the listeners; of those, the route attaches
// to the ones that allow its kind and namespace (allowedRoutes) and share a hostname
// with it. A parentRef that names another Gateway is not this builder's to judge.
import type { V1Namespace } from '@kubernetes/client-node';
import type { ConditionInput } from '../../kube/status.js';
import { selectorMatches } from '../../model/label-selector.js';
import { GATEWAY_GROUP, type Gateway, type ParentReference } from '../../kube/gateway-api.js';
import { Accepted, condition, RouteReason } from './conditions.js';
import { routeHostnamesFor } from './hostnames.js';
import type { ListenerState } from './listeners.js';
import type { RouteEntry } from './routes.js';

export interface ListenerAttachment {
  readonly listener: ListenerState;
  /** route ∩ listener hostnames; empty: the listener's. */
  readonly hostnames: readonly string[];
}

export interface ParentAttachment {
  /** As written in the route's spec.parentRefs: status.parents repeats it. */
  readonly parentRef: ParentReference;
  readonly accepted: ConditionInput;
  /** Empty unless accepted. */
  readonly listeners: readonly ListenerAttachment[];
}

/** Whether a parentRef of a route in `routeNamespace` names this Gateway. */
export function namesGateway(ref: ParentReference, routeNamespace: string, gateway: Gateway): boolean {
  return (
    (ref.group ?? GATEWAY_GROUP) === GATEWAY_GROUP &&
    (ref.kind ?? 'Gateway') === 'Gateway' &&
    (ref.namespace ?? routeNamespace) === gateway.metadata?.namespace &&
    ref.name === gateway.metadata?.name
  );
}

function namespaceAllowed(l: ListenerState, routeNamespace: string, gatewayNamespace: string, namespaces: ReadonlyMap<string, V1Namespace>): boolean {
  const from = l.listener.allowedRoutes?.namespaces;
  switch (from?.from ?? 'Same') {
    case 'All':
      return true;
    case 'Same':
      return routeNamespace === gatewayNamespace;
    case 'Selector':
      // A Selector without a selector selects nothing: the API has no "empty means all" here.
      return from?.selector !== undefined && selectorMatches(from.selector, namespaces.get(routeNamespace)?.metadata?.labels);
    default:
      return false;
  }
}

const HOSTNAMED = new Set(['HTTPRoute', 'GRPCRoute', 'TLSRoute']);

/** The route's parentRefs that name this Gateway, each with the listeners it attaches to. */
export function attachRoute(route: RouteEntry, gateway: Gateway, listeners: readonly ListenerState[], namespaces: ReadonlyMap<string, V1Namespace>): ParentAttachment[] {
  const gwNamespace = gateway.metadata?.namespace ?? '';
  const generation = route.generation;
  const out: ParentAttachment[] = [];
  for (const parentRef of route.parentRefs) {
    if (!namesGateway(parentRef, route.namespace, gateway)) continue;
    const refused = (reason: string, message: string): void => {
      out.push({ parentRef, accepted: condition(Accepted, false, reason, message, generation), listeners: [] });
    };
    const named = listeners.filter((l) => (parentRef.sectionName === undefined || l.name === parentRef.sectionName) && (parentRef.port === undefined || l.port === parentRef.port));
    if (named.length === 0) {
      const what = [parentRef.sectionName !== undefined ? `named ${parentRef.sectionName}` : '', parentRef.port !== undefined ? `on port ${parentRef.port}` : ''].filter(Boolean).join(' ');
      refused(RouteReason.NoMatchingParent, `Gateway ${gwNamespace}/${gateway.metadata?.name ?? ''} has no listener${what ? ` ${what}` : ''}`);
      continue;
    }
    const allowed = named.filter((l) => l.attachable && l.supportedKinds.includes(route.kind) && namespaceAllowed(l, route.namespace, gwNamespace, namespaces));
    if (allowed.length === 0) {
      refused(RouteReason.NotAllowedByListeners, `no listener allows a ${route.kind} from namespace ${route.namespace}`);
      continue;
    }
    const attached: ListenerAttachment[] = [];
    for (const l of allowed) {
      const hostnames = HOSTNAMED.has(route.kind) ? routeHostnamesFor(route.hostnames, l.hostname) : [];
      if (hostnames !== undefined) attached.push({ listener: l, hostnames });
    }
    if (attached.length === 0) {
      refused(RouteReason.NoMatchingListenerHostname, `no listener hostname matches ${route.hostnames.join(', ')}`);
      continue;
    }
    out.push({ parentRef, accepted: condition(Accepted, true, RouteReason.Accepted, 'Route is accepted', generation), listeners: attached });
  }
  return out;
}
