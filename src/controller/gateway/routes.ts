// The routes a Gateway builder weighs, of every kind, in the specification's order of
// precedence between routes: oldest creationTimestamp first, then namespace/name
// (HTTPRoute rule precedence, "tie-breaks"). The order reaches the provider through each
// rule's RouteOrigin and the order of the rules.
import type { RouteKind } from '../../model/gateway.js';
import { codePointOrder } from '../ingress/order.js';
import {
  GATEWAY_GROUP,
  type AnyRoute,
  type BackendObjectReference,
  type GRPCRoute,
  type HTTPBackendRef,
  type HTTPRoute,
  type HTTPRouteFilter,
  type ParentReference,
  type TCPRoute,
  type TLSRoute,
  type UDPRoute,
} from '../../kube/gateway-api.js';

/** The candidate routes of one Gateway, by kind (those whose parentRefs may name it). */
export interface GatewayRoutes {
  readonly http?: readonly HTTPRoute[];
  readonly grpc?: readonly GRPCRoute[];
  readonly tls?: readonly TLSRoute[];
  readonly tcp?: readonly TCPRoute[];
  readonly udp?: readonly UDPRoute[];
}

export type RouteEntry =
  | (RouteCommon & { readonly kind: 'HTTPRoute'; readonly route: HTTPRoute })
  | (RouteCommon & { readonly kind: 'GRPCRoute'; readonly route: GRPCRoute })
  | (RouteCommon & { readonly kind: 'TLSRoute'; readonly route: TLSRoute })
  | (RouteCommon & { readonly kind: 'TCPRoute'; readonly route: TCPRoute })
  | (RouteCommon & { readonly kind: 'UDPRoute'; readonly route: UDPRoute });

interface RouteCommon {
  readonly namespace: string;
  readonly name: string;
  readonly generation: number | undefined;
  /** RFC 3339, as the API serves it. */
  readonly creationTimestamp: string;
  /** spec.hostnames, for the kinds that have them. */
  readonly hostnames: readonly string[];
  readonly parentRefs: readonly ParentReference[];
}

const timestamp = (t: unknown): string => (t instanceof Date ? t.toISOString().replace(/\.\d{3}Z$/, 'Z') : typeof t === 'string' ? t : '');

function common(route: AnyRoute): RouteCommon {
  const spec = route.spec as { hostnames?: string[]; parentRefs?: ParentReference[] } | undefined;
  return {
    namespace: route.metadata?.namespace ?? '',
    name: route.metadata?.name ?? '',
    generation: route.metadata?.generation,
    creationTimestamp: timestamp(route.metadata?.creationTimestamp),
    hostnames: spec?.hostnames ?? [],
    parentRefs: spec?.parentRefs ?? [],
  };
}

/** Every route, of every kind, in precedence order (a route being deleted is left out). */
export function routeEntries(routes: GatewayRoutes): RouteEntry[] {
  const live = <T extends AnyRoute>(list: readonly T[] | undefined): T[] => (list ?? []).filter((r) => !r.metadata?.deletionTimestamp);
  const out: RouteEntry[] = [
    ...live(routes.http).map((route) => ({ ...common(route), kind: 'HTTPRoute' as const, route })),
    ...live(routes.grpc).map((route) => ({ ...common(route), kind: 'GRPCRoute' as const, route })),
    ...live(routes.tls).map((route) => ({ ...common(route), kind: 'TLSRoute' as const, route })),
    ...live(routes.tcp).map((route) => ({ ...common(route), kind: 'TCPRoute' as const, route })),
    ...live(routes.udp).map((route) => ({ ...common(route), kind: 'UDPRoute' as const, route })),
  ];
  return out.sort(
    (a, b) => codePointOrder(a.creationTimestamp, b.creationTimestamp) || codePointOrder(a.namespace, b.namespace) || codePointOrder(a.name, b.name) || codePointOrder(a.kind, b.kind),
  );
}

export const routeKey = (r: Pick<RouteEntry, 'kind' | 'namespace' | 'name'>): string => `${r.kind}/${r.namespace}/${r.name}`;

export const isKind = (k: string): k is RouteKind => k === 'HTTPRoute' || k === 'GRPCRoute' || k === 'TLSRoute' || k === 'TCPRoute' || k === 'UDPRoute';

/**
 * The Gateways (`namespace/name`) a route names in spec.parentRefs, or this lbc instance
 * has written status for under one of the controllerNames it serves: what it may change.
 */
export function gatewaysOfRoute(route: AnyRoute, controllerNames: readonly string[]): string[] {
  const ns = route.metadata?.namespace ?? '';
  const keys = new Set<string>();
  const add = (p: ParentReference): void => {
    if ((p.group ?? GATEWAY_GROUP) === GATEWAY_GROUP && (p.kind ?? 'Gateway') === 'Gateway') keys.add(`${p.namespace ?? ns}/${p.name}`);
  };
  for (const p of (route.spec as { parentRefs?: ParentReference[] } | undefined)?.parentRefs ?? []) add(p);
  for (const p of route.status?.parents ?? []) if (controllerNames.includes(p.controllerName)) add(p.parentRef);
  return [...keys];
}

/** The Services (`namespace/name`) a route's backendRefs and mirrors name. */
export function servicesOfRoute(route: AnyRoute): string[] {
  const ns = route.metadata?.namespace ?? '';
  const keys = new Set<string>();
  const add = (b: BackendObjectReference): void => {
    if ((b.group ?? '') === '' && (b.kind ?? 'Service') === 'Service') keys.add(`${b.namespace ?? ns}/${b.name}`);
  };
  const rules = (route.spec as { rules?: { backendRefs?: HTTPBackendRef[]; filters?: HTTPRouteFilter[] }[] } | undefined)?.rules ?? [];
  for (const r of rules) {
    for (const b of r.backendRefs ?? []) {
      add(b);
      for (const f of b.filters ?? []) if (f.requestMirror) add(f.requestMirror.backendRef);
    }
    for (const f of r.filters ?? []) if (f.requestMirror) add(f.requestMirror.backendRef);
  }
  return [...keys];
}
