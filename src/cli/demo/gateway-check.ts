// `lbc demo --check` for examples/07-gateway.yaml: the status the Gateway API asks for
// (Gateway and listeners Accepted and Programmed with the address, each route Accepted
// with its refs resolved), the HTTPRoute's 90/10 split measured, its header match, and
// the TLSRoute's passthrough, seen by the certificate the client is shown.
import type { KubeClients } from '../../kube/client.js';
import { DEFAULT_GATEWAY_CONTROLLER } from '../../config/config.js';
import { GATEWAY_GROUP, type Gateway, type GatewayCondition, type RouteStatus } from '../../kube/gateway-api.js';
import { DEMO_GATEWAY } from './gateway.js';
import { gets, httpsGet, tlsHandshake } from './http.js';
import { count, type Outcome } from './outcome.js';

/** Requests for the split: a 90/10 split gives 100 ± 50 canary answers with room to spare even for a random draw (σ ≈ 9.5). */
export const SPLIT_REQUESTS = 1000;
/** How far the measured canary share may be from 10%: 5 to 15% passes; 50/50 and 100/0 (0%) fail. */
export const SPLIT_TOLERANCE = 0.05;
const SPLIT_LANES = 10;
/** Status is written after the data path is up: how long to wait for it. */
const STATUS_WAIT_MS = 10_000;

const isTrue = (conds: readonly GatewayCondition[] | undefined, type: string): boolean => conds?.some((c) => c.type === type && c.status === 'True') ?? false;
const show = (conds: readonly GatewayCondition[] | undefined): string => (conds ?? []).map((c) => `${c.type}=${c.status}`).join(' ');

/** The canary share of `pods` (answers by pod name) and whether it is within tolerance of the weights' 10%. */
export function judgeSplit(pods: readonly string[]): Outcome {
  const g = DEMO_GATEWAY;
  const canary = pods.filter((p) => p === g.canaryPod).length;
  const others = pods.filter((p) => p !== g.canaryPod && p !== g.stablePod);
  const share = pods.length > 0 ? canary / pods.length : 0;
  const ok = pods.length > 0 && others.length === 0 && Math.abs(share - g.canaryShare) <= SPLIT_TOLERANCE;
  const want = `${((g.canaryShare - SPLIT_TOLERANCE) * 100).toFixed(0)}–${((g.canaryShare + SPLIT_TOLERANCE) * 100).toFixed(0)}%`;
  return { ok, detail: `${count(pods)} over ${pods.length} requests: ${(share * 100).toFixed(1)}% ${g.canaryPod} (want ${want})` };
}

/** What the checks need of the running demo. */
export interface GatewayCheckTarget {
  /** The Gateway's address in status, and where each of its ports is bound. */
  readonly edge: { readonly ip: string; readonly endpoints: Readonly<Record<number, string>> };
  readonly clients: Pick<KubeClients, 'custom'>;
  /** The certificate of the Secret lbc serves (shop-tls): the passthrough must not show it. */
  readonly lbcFingerprint: string;
  /** The passthrough backend's own certificate. */
  readonly backendTls: { readonly certPem: string; readonly fingerprint256: string };
}

export function gatewayChecks(h: GatewayCheckTarget): [string, () => Promise<Outcome>][] {
  const g = DEMO_GATEWAY;
  const { edge } = h;
  const custom = h.clients.custom;
  const route = async (plural: string, version: string, name: string): Promise<RouteStatus | undefined> =>
    ((await custom.getNamespacedCustomObject({ group: GATEWAY_GROUP, version, namespace: 'default', plural, name })) as { status?: RouteStatus }).status;

  /** Gateway, listeners and routes as the specification asks, polled until they are or the wait is over; says what it last saw. */
  const status = async (): Promise<Outcome> => {
    const deadline = Date.now() + STATUS_WAIT_MS;
    for (;;) {
      const gw = (await custom.getNamespacedCustomObject({ group: GATEWAY_GROUP, version: 'v1', namespace: 'default', plural: 'gateways', name: g.name })) as Gateway;
      const routes = [
        [`HTTPRoute ${g.httpRoute}`, await route('httproutes', 'v1', g.httpRoute)],
        [`TLSRoute ${g.tlsRoute}`, await route('tlsroutes', 'v1alpha3', g.tlsRoute)],
      ] as const;
      const address = gw.status?.addresses?.[0]?.value;
      const listeners = gw.status?.listeners ?? [];
      const gwOk = isTrue(gw.status?.conditions, 'Accepted') && isTrue(gw.status?.conditions, 'Programmed') && address === edge.ip;
      const listenersOk = listeners.length === 2 && listeners.every((l) => isTrue(l.conditions, 'Accepted') && isTrue(l.conditions, 'Programmed') && l.attachedRoutes === 1);
      const parents = routes.map(([name, st]) => [name, st?.parents?.find((p) => p.controllerName === DEFAULT_GATEWAY_CONTROLLER && p.parentRef.name === g.name)] as const);
      const routesOk = parents.every(([, p]) => isTrue(p?.conditions, 'Accepted') && isTrue(p?.conditions, 'ResolvedRefs'));
      const ok = gwOk && listenersOk && routesOk;
      if (ok || Date.now() > deadline) {
        const detail = [
          `Gateway ${g.name}: ${show(gw.status?.conditions)}, addresses [${(gw.status?.addresses ?? []).map((a) => a.value).join(', ')}]${address === edge.ip ? '' : ` (want ${edge.ip})`}`,
          `listeners ${listeners.map((l) => `${l.name} (${show(l.conditions)}, attachedRoutes ${l.attachedRoutes})`).join(', ') || 'none'}`,
          ...parents.map(([name, p]) => `${name}: ${p ? show(p.conditions) : 'no status from lbc'}`),
        ];
        return { ok, detail: detail.join('; ') };
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  };

  return [
    [`Gateway ${g.name} (class ${g.className}) and its routes are Accepted and Programmed, with the address in status.addresses`, status],
    [
      `HTTPRoute ${g.httpRoute} splits ${g.httpHost} 90/10 between ${g.stablePod} and ${g.canaryPod} (measured over ${SPLIT_REQUESTS} requests, ±${SPLIT_TOLERANCE * 100}%)`,
      async () => {
        // In lanes at once, for time: the weights are applied per request, whichever connection it comes on.
        const lanes = await Promise.all(Array.from({ length: SPLIT_LANES }, () => gets(edge.endpoints[80], SPLIT_REQUESTS / SPLIT_LANES, '/', g.httpHost)));
        return judgeSplit(lanes.flat().map((r) => (r.status === 200 ? (r.pod ?? 'nobody') : `${r.status}`)));
      },
    ],
    [
      `HTTPRoute ${g.httpRoute} sends every request with ${g.canaryHeader.name}: ${g.canaryHeader.value} to ${g.canaryPod}`,
      async () => {
        const pods = (await gets(edge.endpoints[80], 20, '/', g.httpHost, { [g.canaryHeader.name]: g.canaryHeader.value })).map((r) => r.pod ?? `${r.status}`);
        return { ok: pods.every((p) => p === g.canaryPod), detail: count(pods) };
      },
    ],
    [
      `TLSRoute ${g.tlsRoute} passes TLS for ${g.tlsHost} through to ${g.tlsPod}, which shows its own certificate (not lbc's)`,
      async () => {
        const endpoint = edge.endpoints[443];
        if (!endpoint) return { ok: false, detail: 'no TLS listener' };
        const r = await httpsGet(endpoint, '/', { servername: g.tlsHost, ca: h.backendTls.certPem });
        const own = r.fingerprint256 === h.backendTls.fingerprint256 && r.fingerprint256 !== h.lbcFingerprint;
        const ok = own && r.status === 200 && r.pod === g.tlsPod && r.body.includes('(TLS)');
        return { ok, detail: `certificate verified for ${g.tlsHost}${own ? `, ${g.tlsPod}'s own` : `, NOT ${g.tlsPod}'s`}; ${r.status} from ${r.pod ?? 'nobody'}` };
      },
    ],
    [
      `TLSRoute ${g.tlsRoute} routes by SNI: a handshake for another name reaches no backend`,
      async () => {
        const endpoint = edge.endpoints[443];
        if (!endpoint) return { ok: false, detail: 'no TLS listener' };
        // Trusting any certificate, so that only the Gateway's refusal (not a name mismatch) can end it.
        try {
          const fingerprint = await tlsHandshake(endpoint, 'other.example.com');
          return { ok: false, detail: `other.example.com was answered with ${fingerprint === h.backendTls.fingerprint256 ? `${g.tlsPod}'s certificate` : 'a certificate'}` };
        } catch (e) {
          return { ok: true, detail: `other.example.com: ${(e as Error).message}` };
        }
      },
    ],
  ];
}
