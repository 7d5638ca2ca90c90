// How an L7 listener finds its routing, the same in the controller's process and in each
// L7 worker (l7-workers.ts): the listener holds a route that reads its load balancer's
// current state on every request, so an ensure swaps state and never the listener.
import type { Agent } from 'node:http';
import { cidrContains } from '../../model/ip.js';
import { matchRoute } from '../../model/routes.js';
import type { Rule } from '../../model/spec.js';
import type { GatewayPortState } from './gateway-port.js';
import { notFound, requestHost, type H2cSessions, type L7Route } from './http-router.js';
import type { TargetSetRuntime } from './target-set.js';
import type { UpstreamPool } from './upstream-http1.js';

/** What of a load balancer its L7 routes read per request. */
export interface L7LbView {
  sourceRanges: readonly string[];
  rules: readonly Rule[];
  defaultBackend: string | undefined;
  readonly targetSets: ReadonlyMap<string, TargetSetRuntime>;
  readonly agent: Agent;
  readonly h2c: H2cSessions;
  readonly upstream: UpstreamPool;
}

export function sourceRangeAllow(lb: Pick<L7LbView, 'sourceRanges'>): (ip: string) => boolean {
  return (ip) => lb.sourceRanges.length === 0 || lb.sourceRanges.some((c) => cidrContains(c, ip));
}

/** An Ingress's (or L7 Service's) listener: the first rule that matches Host and path, else the default backend. */
export function ingressRoute(lb: L7LbView): L7Route {
  return {
    allow: sourceRangeAllow(lb),
    resolve: (req) => {
      const name = matchRoute(lb.rules, requestHost(req), req.url ?? '/')?.targetSet ?? lb.defaultBackend;
      const ts = name === undefined ? undefined : lb.targetSets.get(name);
      return ts ? { kind: 'forward', targetSet: ts } : notFound;
    },
    agent: lb.agent,
    upstream: lb.upstream,
  };
}

/** A Gateway HTTP or HTTPS port: its compiled state, swapped on each ensure. */
export function gatewayRoute(lb: L7LbView, holder: { state: GatewayPortState }): L7Route {
  return { allow: sourceRangeAllow(lb), agent: lb.agent, h2c: lb.h2c, upstream: lb.upstream, resolve: (req, proto) => holder.state.http?.resolve(req, proto) ?? notFound };
}

/** SNI reads the port's current state, so certificate changes need no new server. */
export function liveCertificates(holder: { state: GatewayPortState }) {
  return {
    get fallback() {
      return holder.state.certs?.fallback;
    },
    select: (n: string) => holder.state.certs?.select(n),
  };
}
