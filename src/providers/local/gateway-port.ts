// One Gateway port's routing, compiled from its GatewayPort for the listener that serves
// it. An ensure that changes routes compiles a new state and swaps it in; the listener
// reads the current state on every request or connection, so a route change never
// rebinds the socket or touches an open connection (an HTTP keep-alive connection's next
// request already follows the new routes).
import type { GatewayPort, HttpsGatewayListener, L4RouteRule, TlsGatewayListener, WeightedBackend } from '../../model/gateway.js';
import { listenerForServerName, TlsPortMatcher } from '../../model/gateway-match.js';
import { GatewayHttpRoutes } from './gateway-http.js';
import { ListenerCertificates, type TlsDecision } from './gateway-tls.js';
import type { TargetSetRuntime } from './target-set.js';
import { CertificateStore } from './tls.js';
import { WeightedPicker } from './weighted.js';

export interface GatewayPortState {
  readonly http?: GatewayHttpRoutes;
  /** HTTPS: certificates by SNI through the listener the name selects. */
  readonly certs?: ListenerCertificates;
  readonly tls?: (serverName: string | undefined) => TlsDecision | undefined;
  /** TCP, UDP: the target set for a new connection or session. */
  readonly l4?: () => TargetSetRuntime | undefined;
  /** Per listener name: kept across updates, so a Secret that stops loading keeps serving its last good version. */
  readonly stores: ReadonlyMap<string, CertificateStore>;
}

export interface CompiledPort {
  readonly state: GatewayPortState;
  /** The port as served: certificates as they loaded, so the next diff retries the rest. */
  readonly applied: GatewayPort;
  /** One message per certificate that could not be used. */
  readonly errors: readonly string[];
  /** HTTPS or TLS Terminate listeners left with no certificate at all. */
  readonly uncertified: readonly string[];
}

type Lookup = (name: string) => TargetSetRuntime | undefined;

/** Weighted choice among backends; undefined when all weigh 0 or the chosen one is invalid. */
function backendPicker(backends: readonly WeightedBackend[], targetSet: Lookup): () => TargetSetRuntime | undefined {
  const picker = new WeightedPicker(backends.map((b) => ({ item: b, weight: b.weight })));
  return () => {
    const b = picker.pick();
    return b?.targetSet === undefined ? undefined : targetSet(b.targetSet);
  };
}

function loadStores<L extends { readonly name: string; readonly certificates: HttpsGatewayListener['certificates'] }>(
  listeners: readonly L[],
  prev: GatewayPortState | undefined,
  errors: string[],
): Map<string, CertificateStore> {
  const stores = new Map<string, CertificateStore>();
  for (const l of listeners) {
    const store = prev?.stores.get(l.name) ?? new CertificateStore();
    errors.push(...store.load(l.certificates).map((m) => `listener ${l.name}: ${m}`));
    stores.set(l.name, store);
  }
  return stores;
}

/** The oldest rule serves a TCP or UDP listener (one route per L4 listener; the builder marks the rest). */
function firstRule(rules: readonly L4RouteRule[]): L4RouteRule | undefined {
  return [...rules].sort((a, b) => Date.parse(a.origin.creationTimestamp) - Date.parse(b.origin.creationTimestamp) || (`${a.origin.namespace}/${a.origin.name}` < `${b.origin.namespace}/${b.origin.name}` ? -1 : 1))[0];
}

export function compileGatewayPort(port: GatewayPort, prev: GatewayPortState | undefined, targetSet: Lookup): CompiledPort {
  const errors: string[] = [];
  switch (port.protocol) {
    case 'HTTP':
      return { state: { http: new GatewayHttpRoutes(port, targetSet), stores: new Map() }, applied: port, errors, uncertified: [] };
    case 'HTTPS': {
      const stores = loadStores(port.listeners, prev, errors);
      const listeners = port.listeners.map((l) => ({ ...l, certificates: stores.get(l.name)?.applied() ?? [] }));
      const certs = new ListenerCertificates(port.listeners.map((l) => ({ listener: l, store: stores.get(l.name) ?? new CertificateStore() })));
      return {
        state: { http: new GatewayHttpRoutes(port, targetSet), certs, stores },
        applied: { ...port, listeners },
        errors,
        uncertified: listeners.filter((l) => l.certificates.length === 0).map((l) => l.name),
      };
    }
    case 'TLS': {
      const terminating = port.listeners.filter((l) => l.mode === 'Terminate');
      const https = port.https ?? [];
      const stores = loadStores([...terminating, ...https], prev, errors);
      const matcher = new TlsPortMatcher(port.listeners);
      const pickers = new Map(port.listeners.flatMap((l) => l.rules.map((r) => [r, backendPicker(r.backends, targetSet)] as const)));
      const httpsListeners = new Set<object>(https);
      const tls = (serverName: string | undefined): TlsDecision | undefined => {
        // HTTPS listeners beside the TLS ones: the most specific hostname of either kind owns the name.
        const owner = httpsListeners.size > 0 ? listenerForServerName<TlsGatewayListener | HttpsGatewayListener>([...port.listeners, ...https], serverName) : undefined;
        if (owner !== undefined && httpsListeners.has(owner)) return { mode: 'Https' };
        const m = matcher.match(serverName);
        const ts = m && pickers.get(m.rule)?.();
        if (!m || !ts) return undefined;
        if (m.listener.mode === 'Passthrough') return { mode: 'Passthrough', targetSet: ts };
        const context = stores.get(m.listener.name)?.select(serverName ?? '');
        return context && { mode: 'Terminate', targetSet: ts, context };
      };
      const listeners: TlsGatewayListener[] = port.listeners.map((l) => (l.mode === 'Terminate' ? { ...l, certificates: stores.get(l.name)?.applied() ?? [] } : l));
      const appliedHttps = https.map((l) => ({ ...l, certificates: stores.get(l.name)?.applied() ?? [] }));
      const served =
        https.length > 0
          ? {
              http: new GatewayHttpRoutes({ protocol: 'HTTPS', port: port.port, listeners: https }, targetSet),
              certs: new ListenerCertificates(https.map((l) => ({ listener: l, store: stores.get(l.name) ?? new CertificateStore() }))),
            }
          : {};
      return {
        state: { tls, stores, ...served },
        applied: { ...port, listeners, ...(https.length > 0 ? { https: appliedHttps } : {}) },
        errors,
        uncertified: [...listeners.filter((l) => l.mode === 'Terminate' && l.certificates.length === 0), ...appliedHttps.filter((l) => l.certificates.length === 0)].map((l) => l.name),
      };
    }
    case 'TCP':
    case 'UDP': {
      const rule = firstRule(port.rules);
      return { state: { l4: rule ? backendPicker(rule.backends, targetSet) : () => undefined, stores: new Map() }, applied: port, errors, uncertified: [] };
    }
  }
}
