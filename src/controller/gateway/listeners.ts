// The listeners part of the Gateway builder: each listener of spec.listeners checked on
// its own (protocol, route kinds, TLS certificates) and against the others on its port
// (conflicts), with the conditions the specification asks for on each. Only listeners
// that come out valid are served; routes attach to every accepted, unconflicted one.
import type { V1Secret } from '@kubernetes/client-node';
import type { ConditionInput } from '../../kube/status.js';
import type { GatewayFeature } from '../../model/gateway-features.js';
import type { RouteKind } from '../../model/gateway.js';
import type { TlsCertificate } from '../../model/certificate.js';
import { readTlsSecret } from '../tls-secret.js';
import { GATEWAY_GROUP, type Gateway, type GatewayListener, type RouteGroupKind } from '../../kube/gateway-api.js';
import { Accepted, condition, Conflicted, ListenerReason, ResolvedRefs } from './conditions.js';
import type { ReferenceGrants } from './reference-grants.js';

export type ListenerProtocol = 'HTTP' | 'HTTPS' | 'TLS' | 'TCP' | 'UDP';

/** A listener as the builder carries it on: what it accepts and what it serves. */
export interface ListenerState {
  readonly listener: GatewayListener;
  readonly name: string;
  readonly port: number;
  /** Undefined when the protocol is not one lbc serves. */
  readonly protocol: ListenerProtocol | undefined;
  /** Lower case; undefined matches every host. */
  readonly hostname: string | undefined;
  readonly supportedKinds: readonly RouteKind[];
  /** Routes may attach: accepted and not conflicted. */
  readonly attachable: boolean;
  /** Attachable and every reference resolved: its port is configured. */
  readonly servable: boolean;
  readonly tlsMode: 'Terminate' | 'Passthrough' | undefined;
  readonly certificates: readonly TlsCertificate[];
  /** Accepted, ResolvedRefs and Conflicted; Programmed follows the provider (gateway-status.ts). */
  readonly conditions: readonly ConditionInput[];
  /** Why the listener is not served, for Programmed and Events. */
  readonly problem: string | undefined;
}

const KINDS_BY_PROTOCOL: Record<ListenerProtocol, readonly RouteKind[]> = {
  HTTP: ['HTTPRoute', 'GRPCRoute'],
  HTTPS: ['HTTPRoute', 'GRPCRoute'],
  TLS: ['TLSRoute'],
  TCP: ['TCPRoute'],
  UDP: ['UDPRoute'],
};

const isProtocol = (p: string): p is ListenerProtocol => p in KINDS_BY_PROTOCOL;

/** The route kinds a listener of `protocol` (and TLS mode) can carry on a provider with `features`. */
export function kindsFor(protocol: ListenerProtocol, mode: 'Terminate' | 'Passthrough' | undefined, features: ReadonlySet<GatewayFeature>): RouteKind[] {
  if (protocol === 'TLS' && mode === 'Terminate' && !features.has('TLSRouteModeTerminate')) return [];
  return KINDS_BY_PROTOCOL[protocol].filter((k) => features.has(k));
}

export const routeGroupKinds = (kinds: readonly RouteKind[]): RouteGroupKind[] => kinds.map((kind) => ({ group: GATEWAY_GROUP, kind }));

export interface ListenerInputs {
  readonly gateway: Gateway;
  readonly secrets: ReadonlyMap<string, V1Secret>;
  readonly grants: ReferenceGrants;
  readonly features: ReadonlySet<GatewayFeature>;
  /**
   * Who narrowed `features` below the provider's, for the refusal of a listener whose protocol
   * they leave out: `GatewayClasses of gateway.k8s.aws/alb` (a compatible controllerName's).
   */
  readonly servedBy?: string;
}

const PROTOCOLS: readonly ListenerProtocol[] = ['HTTP', 'HTTPS', 'TLS', 'TCP', 'UDP'];

/** Why a listener of `protocol` is not accepted when `features` leave it no route kind. */
function noKindsOver(protocol: ListenerProtocol, mode: 'Terminate' | 'Passthrough' | undefined, inputs: ListenerInputs): string {
  if (inputs.servedBy === undefined) return `this provider serves no route kind over ${protocol}${mode ? ` (TLS ${mode})` : ''}`;
  const served = PROTOCOLS.filter((p) => kindsFor(p, p === 'TLS' ? 'Passthrough' : undefined, inputs.features).length > 0);
  // As ALBC's listener validation words it (routeutils/listener_utils.go: "Unsupported protocol %s for listener %s").
  return `Unsupported protocol ${protocol}${mode && served.includes(protocol) ? ` (TLS ${mode})` : ''}: ${inputs.servedBy} serve ${served.join(', ')} listeners only`;
}

/** Every listener of the Gateway, in spec order, with its conditions. */
export function buildListeners(inputs: ListenerInputs): ListenerState[] {
  const { gateway } = inputs;
  const generation = gateway.metadata?.generation;
  const listeners = gateway.spec?.listeners ?? [];
  const conflicts = findConflicts(listeners, inputs.features.has('GatewayHTTPSAndTLSPassthroughSamePort'));
  return listeners.map((l, i) => {
    const conditions: ConditionInput[] = [];
    const problems: string[] = [];
    const protocol = isProtocol(l.protocol) ? l.protocol : undefined;
    const tlsMode = protocol === 'HTTPS' || protocol === 'TLS' ? (l.tls?.mode ?? 'Terminate') : undefined;
    const possible = protocol ? kindsFor(protocol, tlsMode, inputs.features) : [];
    // Accepted
    let accepted = true;
    if (!protocol || possible.length === 0) {
      accepted = false;
      const why = !protocol ? `protocol ${l.protocol} is not supported` : noKindsOver(protocol, tlsMode, inputs);
      conditions.push(condition(Accepted, false, ListenerReason.UnsupportedProtocol, why, generation));
      problems.push(why);
    } else if (protocol === 'HTTPS' && tlsMode === 'Passthrough') {
      accepted = false;
      const why = 'an HTTPS listener terminates TLS; use protocol TLS for Passthrough';
      conditions.push(condition(Accepted, false, ListenerReason.UnsupportedProtocol, why, generation));
      problems.push(why);
    } else {
      conditions.push(condition(Accepted, true, ListenerReason.Accepted, 'Listener is accepted', generation));
    }
    // ResolvedRefs: route kinds, then certificates.
    const kinds = allowedKinds(l, possible);
    const refProblems: { reason: string; message: string }[] = [];
    if (kinds.invalid.length > 0) {
      refProblems.push({ reason: ListenerReason.InvalidRouteKinds, message: `route kinds not supported on this listener: ${kinds.invalid.join(', ')}` });
    }
    const certs = tlsMode === 'Terminate' && accepted ? certificatesOf(l, i, inputs) : { certificates: [], problems: [] };
    refProblems.push(...certs.problems);
    const [firstRef] = refProblems;
    if (firstRef) {
      conditions.push(condition(ResolvedRefs, false, firstRef.reason, refProblems.map((p) => p.message).join('; '), generation));
    } else {
      conditions.push(condition(ResolvedRefs, true, ListenerReason.ResolvedRefs, 'All references are resolved', generation));
    }
    // Conflicted
    const conflict = conflicts[i];
    if (conflict) {
      conditions.push(condition(Conflicted, true, conflict.reason, conflict.message, generation));
      problems.push(conflict.message);
    } else {
      conditions.push(condition(Conflicted, false, ListenerReason.NoConflicts, 'No conflicts', generation));
    }
    const attachable = accepted && !conflict;
    // A listener whose certificates do not resolve is not served: serving it without them
    // would answer with no certificate at all. Unknown route kinds only narrow it.
    const servable = attachable && certs.problems.length === 0;
    if (certs.problems.length > 0) problems.push(...certs.problems.map((p) => p.message));
    return {
      listener: l,
      name: l.name,
      port: l.port,
      protocol,
      hostname: l.hostname?.toLowerCase(),
      supportedKinds: kinds.valid,
      attachable,
      servable,
      tlsMode,
      certificates: certs.certificates,
      conditions,
      problem: problems.length > 0 ? problems.join('; ') : undefined,
    };
  });
}

/** allowedRoutes.kinds narrowed to what the listener can carry; unset means all it can. */
function allowedKinds(l: GatewayListener, possible: readonly RouteKind[]): { valid: RouteKind[]; invalid: string[] } {
  const asked = l.allowedRoutes?.kinds;
  if (asked === undefined || asked.length === 0) return { valid: [...possible], invalid: [] };
  const valid: RouteKind[] = [];
  const invalid: string[] = [];
  for (const k of asked) {
    const match = (k.group ?? GATEWAY_GROUP) === GATEWAY_GROUP ? possible.find((p) => p === k.kind) : undefined;
    if (match) {
      if (!valid.includes(match)) valid.push(match);
    } else {
      invalid.push(`${k.group ?? GATEWAY_GROUP}/${k.kind}`);
    }
  }
  return { valid, invalid };
}

function certificatesOf(
  l: GatewayListener,
  index: number,
  inputs: ListenerInputs,
): { certificates: TlsCertificate[]; problems: { reason: string; message: string }[] } {
  const gwNamespace = inputs.gateway.metadata?.namespace ?? '';
  const refs = l.tls?.certificateRefs ?? [];
  const problems: { reason: string; message: string }[] = [];
  const certificates: TlsCertificate[] = [];
  if (refs.length === 0) problems.push({ reason: ListenerReason.InvalidCertificateRef, message: `listener ${l.name}: TLS Terminate needs at least one certificateRef` });
  refs.forEach((ref, j) => {
    const field = `spec.listeners[${index}].tls.certificateRefs[${j}]`;
    const group = ref.group ?? '';
    const kind = ref.kind ?? 'Secret';
    const namespace = ref.namespace ?? gwNamespace;
    if (group !== '' || kind !== 'Secret') {
      problems.push({ reason: ListenerReason.InvalidCertificateRef, message: `${field}: ${group === '' ? 'core' : group}/${kind} is not supported (only core Secrets)` });
      return;
    }
    if (!inputs.grants.allows({ group: GATEWAY_GROUP, kind: 'Gateway', namespace: gwNamespace }, { group: '', kind: 'Secret', namespace, name: ref.name })) {
      problems.push({ reason: ListenerReason.RefNotPermitted, message: `${field}: Secret ${namespace}/${ref.name} is in another namespace and no ReferenceGrant allows it` });
      return;
    }
    const s = readTlsSecret(inputs.secrets.get(`${namespace}/${ref.name}`), namespace, ref.name);
    if (!s.ok) {
      problems.push({ reason: ListenerReason.InvalidCertificateRef, message: `${field}: ${s.reason}` });
      return;
    }
    certificates.push({ source: 'secret', secretRef: { namespace, name: ref.name }, hosts: l.hostname ? [l.hostname.toLowerCase()] : [], certPem: s.certPem, keyPem: s.keyPem });
  });
  return { certificates, problems };
}

/**
 * Listeners that cannot share their port as written: on one port the first listener's
 * protocol holds it (TCP and UDP being different transports, both may), a listener of
 * another protocol there is ProtocolConflict; among the same protocol a hostname (or its
 * absence) already taken by an earlier listener is HostnameConflict, and TCP and UDP,
 * which have no hostname, take their port alone. With `httpsBesideTls` (the provider's
 * GatewayHTTPSAndTLSPassthroughSamePort) HTTPS and TLS count as one protocol here, the
 * specification's compatible pair: SNI tells their hostnames apart, which must differ.
 */
function findConflicts(listeners: readonly GatewayListener[], httpsBesideTls: boolean): ({ reason: string; message: string } | undefined)[] {
  const transport = (p: string): string => (p === 'UDP' ? 'UDP' : 'TCP');
  const family = (p: string): string => (httpsBesideTls && (p === 'HTTPS' || p === 'TLS') ? 'HTTPS/TLS' : p);
  const firstProtocol = new Map<string, string>();
  const taken = new Set<string>();
  return listeners.map((l) => {
    const slot = `${transport(l.protocol)}/${l.port}`;
    const holder = firstProtocol.get(slot);
    if (holder === undefined) firstProtocol.set(slot, l.protocol);
    else if (family(holder) !== family(l.protocol)) {
      return { reason: ListenerReason.ProtocolConflict, message: `port ${l.port} is already served by a ${holder} listener` };
    }
    const host = l.protocol === 'TCP' || l.protocol === 'UDP' ? '' : (l.hostname ?? '').toLowerCase();
    const key = `${slot}/${host}`;
    if (taken.has(key)) {
      return {
        reason: ListenerReason.HostnameConflict,
        message: host === '' ? `another ${l.protocol} listener on port ${l.port} already has no hostname` : `another listener on port ${l.port} already has hostname ${host}`,
      };
    }
    taken.add(key);
    return undefined;
  });
}
