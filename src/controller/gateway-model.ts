// Gateway (with its listeners and the routes that name it) → GatewaySpec, plus the
// status the specification asks for on the Gateway, each listener and each route's
// parentRefs to it. Pure.
//
// Composed of parts, one per file in ./gateway/ with table tests beside them in
// test/controller/gateway/, as the Ingress builder is: listeners (protocols, kinds,
// certificates, conflicts), routes attached to them (parentRefs, allowedRoutes,
// hostnames), each route's rules (matches, filters, weighted backends) and the backends'
// target sets (shared with Ingresses, ./target-sets.ts).
import type { V1Namespace } from '@kubernetes/client-node';
import type { ConditionInput } from '../kube/status.js';
import type { GatewayFeature } from '../model/gateway-features.js';
import type {
  GatewayPort,
  HttpGatewayListener,
  HttpsGatewayListener,
  L4RouteRule,
  TlsGatewayListener,
  TlsRouteRule,
  GatewayParameters,
} from '../model/gateway.js';
import { isIPv4, isIPv6 } from 'node:net';
import { ownershipTags, type GatewaySpec, type IpFamily, type ProviderOptions } from '../model/spec.js';
import type { LbRef } from '../model/ref.js';
import type { PodRef } from './endpoints.js';
import type { Gateway, ParentReference, ReferenceGrant } from '../kube/gateway-api.js';
import { attachRoute, type ListenerAttachment } from './gateway/attachment.js';
import { GatewayBackends, type RefProblem } from './gateway/backend-refs.js';
import { Accepted, condition, GatewayReason, ResolvedRefs, RouteReason } from './gateway/conditions.js';
import { infrastructureParameters, type GatewayParameterLookup } from './gateway/infrastructure.js';
import { backendParameters, extensionFilter, type BackendParameterLookup, type ProviderSecretLookup } from './gateway/attached-parameters.js';
import { buildListeners, type ListenerState } from './gateway/listeners.js';
import { ReferenceGrants } from './gateway/reference-grants.js';
import { routeEntries, routeKey, type GatewayRoutes, type RouteEntry } from './gateway/routes.js';
import { buildRouteRules, type RouteRules } from './gateway/rules.js';
import { ALL_DEFAULTED, DEFAULT_HEALTH_CHECK_TIMING } from './health-check.js';
import { chooseTargetType } from './service-model.js';
import { buildTargetSets, type BackendDecision, type BackendModelInputs, type CompanionRequest } from './target-sets.js';

export interface GatewayModelInput<O extends ProviderOptions = ProviderOptions> extends BackendModelInputs<O> {
  readonly gateway: Gateway;
  /** Candidate routes: at least those whose parentRefs name the Gateway. */
  readonly routes: GatewayRoutes;
  readonly referenceGrants: readonly ReferenceGrant[];
  /** For allowedRoutes.namespaces.from Selector. */
  readonly namespaces: readonly V1Namespace[];
  /** Finds spec.infrastructure.parametersRef's object, and an ExtensionRef filter's; absent: none can be found. */
  readonly parameters?: GatewayParameterLookup;
  /** The GatewayClass's own parameters object, already found (infrastructure.ts gatewayClassParameters). */
  readonly classParameters?: GatewayParameters;
  /** Finds the parameters objects attached to a backend Service (capabilities.gatewayBackendParameters); absent: none. */
  readonly backendParameters?: BackendParameterLookup;
  /** The Opaque Secrets a provider's parameters name (an OIDC client); absent: none can be read. */
  readonly providerSecrets?: ProviderSecretLookup;
  /**
   * The class is of a compatible controllerName (gateway/controller-names.ts), which serves
   * only these of its provider's features: aws-load-balancer-controller's gateway.k8s.aws/alb
   * takes no TCP listener. Absent: the provider's features.
   */
  readonly classFeatures?: { readonly controllerName: string; readonly features: readonly GatewayFeature[] };
}

/** One route's status entries for the parentRefs that name this Gateway. */
export interface RouteStatusUpdate {
  readonly route: RouteEntry;
  readonly parents: readonly { readonly parentRef: ParentReference; readonly conditions: readonly ConditionInput[] }[];
}

export interface GatewayModelResult<O extends ProviderOptions = ProviderOptions> {
  /** Undefined when nothing can be served: see `problem`. */
  readonly spec: GatewaySpec<O> | undefined;
  /** Why the Gateway is not Accepted, or why nothing of it is served. */
  readonly problem: string | undefined;
  /** The Gateway's Accepted condition; Programmed follows the provider (gateway-status.ts). */
  readonly accepted: ConditionInput;
  readonly listeners: readonly ListenerState[];
  /** Routes attached, by listener name. */
  readonly attachedRoutes: ReadonlyMap<string, number>;
  readonly routes: readonly RouteStatusUpdate[];
  readonly backends: readonly BackendDecision[];
  /** Non-empty when some backend needs a companion NodePort Service the provider cannot do without. */
  readonly companions: readonly CompanionRequest[];
  readonly probePods: readonly PodRef[];
}

/** The ref a Gateway's load balancer is owned by. */
export function gatewayRef(gateway: Gateway): LbRef {
  return { kind: 'Gateway', namespace: gateway.metadata?.namespace ?? '', name: gateway.metadata?.name ?? '', uid: gateway.metadata?.uid ?? '' };
}

/**
 * spec.addresses as requested addresses (and, where the provider takes them, names of
 * addresses reserved in the cloud), or why the provider cannot honour them.
 */
function requestedAddresses(gateway: Gateway, features: ReadonlySet<GatewayFeature>, named: boolean): { addresses: string[]; families: IpFamily[]; named: string[] } | { problem: string } {
  const asked = gateway.spec?.addresses ?? [];
  if (asked.length === 0) return { addresses: [], families: ['IPv4'], named: [] };
  if (!named && !features.has('GatewayStaticAddresses')) return { problem: 'spec.addresses: this provider cannot assign requested addresses (GatewayStaticAddresses)' };
  const addresses: string[] = [];
  const names: string[] = [];
  for (const [i, a] of asked.entries()) {
    const type = a.type ?? 'IPAddress';
    if (type === 'NamedAddress' && named) {
      if (!a.value) return { problem: `spec.addresses[${i}].value: a NamedAddress needs the name of a reserved address` };
      names.push(a.value);
      continue;
    }
    if (type !== 'IPAddress') return { problem: `spec.addresses[${i}].type: ${type} is not supported (${named ? 'IPAddress and NamedAddress are' : 'IPAddress is'})` };
    if (!features.has('GatewayStaticAddresses')) return { problem: 'spec.addresses: this provider cannot assign requested addresses (GatewayStaticAddresses)' };
    if (!a.value || (!isIPv4(a.value) && !isIPv6(a.value))) return { problem: `spec.addresses[${i}].value: ${a.value ?? '(empty)'} is not an IP address` };
    addresses.push(a.value);
  }
  const families: IpFamily[] = addresses.length > 0 ? [...new Set(addresses.map((a): IpFamily => (isIPv4(a) ? 'IPv4' : 'IPv6')))] : ['IPv4'];
  return { addresses, families, named: names };
}

interface Attached {
  readonly route: RouteEntry;
  readonly rules: RouteRules;
  readonly listeners: readonly ListenerAttachment[];
}

function gatewayPorts(listeners: readonly ListenerState[], attached: readonly Attached[]): GatewayPort[] {
  const onListener = (l: ListenerState): { a: Attached; hostnames: readonly string[] }[] =>
    attached.flatMap((a) => a.listeners.filter((x) => x.listener === l).map((x) => ({ a, hostnames: x.hostnames })));
  const byPort = new Map<string, ListenerState[]>();
  for (const l of listeners) {
    if (!l.servable || !l.protocol) continue;
    const key = `${l.port}/${l.protocol}`;
    byPort.set(key, [...(byPort.get(key) ?? []), l]);
  }
  const ports: GatewayPort[] = [];
  for (const group of byPort.values()) {
    const [first] = group;
    if (!first?.protocol) continue;
    const { port, protocol } = first;
    const base = (l: ListenerState): { name: string; hostname?: string } => ({ name: l.name, ...(l.hostname !== undefined ? { hostname: l.hostname } : {}) });
    const httpListener = (l: ListenerState): HttpGatewayListener => ({
      ...base(l),
      rules: onListener(l).flatMap(({ a, hostnames }) => a.rules.http.map((r) => ({ ...r, hostnames }))),
    });
    switch (protocol) {
      case 'HTTP':
        ports.push({ protocol, port, listeners: group.map(httpListener) });
        break;
      case 'HTTPS':
        ports.push({ protocol, port, listeners: group.map((l): HttpsGatewayListener => ({ ...httpListener(l), certificates: l.certificates })) });
        break;
      case 'TLS':
        ports.push({
          protocol,
          port,
          listeners: group.map(
            (l): TlsGatewayListener => ({
              ...base(l),
              mode: l.tlsMode ?? 'Passthrough',
              certificates: l.certificates,
              rules: onListener(l).flatMap(({ a, hostnames }) => a.rules.l4.map((r): TlsRouteRule => ({ ...r, hostnames }))),
            }),
          ),
        });
        break;
      case 'TCP':
      case 'UDP':
        ports.push({ protocol, port, listener: first.name, rules: onListener(first).flatMap(({ a }): L4RouteRule[] => [...a.rules.l4]) });
        break;
    }
  }
  return withHttpsBesideTls(ports).sort((a, b) => a.port - b.port || (a.protocol < b.protocol ? -1 : a.protocol > b.protocol ? 1 : 0));
}

/**
 * An HTTPS and a TLS port with the same number (only possible when the listeners were not
 * Conflicted, i.e. the provider declares GatewayHTTPSAndTLSPassthroughSamePort) become one
 * TLS port carrying the HTTPS listeners: one socket, SNI chooses.
 */
function withHttpsBesideTls(ports: readonly GatewayPort[]): GatewayPort[] {
  const out: GatewayPort[] = [];
  for (const p of ports) {
    if (p.protocol === 'HTTPS' && ports.some((q) => q.protocol === 'TLS' && q.port === p.port)) continue;
    const https = p.protocol === 'TLS' ? ports.find((q) => q.protocol === 'HTTPS' && q.port === p.port) : undefined;
    out.push(p.protocol === 'TLS' && https?.protocol === 'HTTPS' ? { ...p, https: https.listeners } : p);
  }
  return out;
}

function resolvedRefs(problems: readonly RefProblem[], generation: number | undefined): ConditionInput {
  const [first] = problems;
  return first
    ? condition(ResolvedRefs, false, first.reason, problems.map((p) => p.message).join('; '), generation)
    : condition(ResolvedRefs, true, RouteReason.ResolvedRefs, 'All references are resolved', generation);
}

export function buildGatewayModel<O extends ProviderOptions>(input: GatewayModelInput<O>): GatewayModelResult<O> {
  const { gateway, provider } = input;
  const generation = gateway.metadata?.generation;
  const narrowed = input.classFeatures;
  const features = new Set<GatewayFeature>(
    (provider.capabilities.layers.includes('Gateway') ? (provider.capabilities.gatewayFeatures ?? []) : []).filter((f) => !narrowed || narrowed.features.includes(f)),
  );
  const servedBy = narrowed ? `GatewayClasses of ${narrowed.controllerName}` : undefined;
  const grants = new ReferenceGrants(input.referenceGrants);
  const secrets = new Map(input.secrets.map((s) => [`${s.metadata?.namespace ?? ''}/${s.metadata?.name ?? ''}`, s]));
  const namespaces = new Map(input.namespaces.map((n) => [n.metadata?.name ?? '', n]));
  const listeners = buildListeners({ gateway, secrets, grants, features, ...(servedBy !== undefined ? { servedBy } : {}) });
  const backends = new GatewayBackends(input.services, grants, (namespace, service) => backendParameters(provider, input.backendParameters, namespace, service));

  const attached: Attached[] = [];
  const routes: RouteStatusUpdate[] = [];
  const attachedRoutes = new Map<string, number>(listeners.map((l) => [l.name, 0]));
  for (const route of routeEntries(input.routes)) {
    const parents = attachRoute(route, gateway, listeners, namespaces);
    if (parents.length === 0) continue;
    const rules = buildRouteRules(route, backends, features, (ref, field) => extensionFilter(provider, input.parameters, input.providerSecrets, route.namespace, ref, field));
    const refs = resolvedRefs(rules.refs, route.generation);
    // A kind the provider serves on no listener at all (TCPRoute, UDPRoute on GCE, as GKE's
    // Gateway controller): said as such on the route, not as the listeners' choice (NotAllowedByListeners).
    const problems =
      provider.capabilities.layers.includes('Gateway') && !features.has(route.kind) ? [`${servedBy ?? `provider ${provider.name}`} do${servedBy ? '' : 'es'} not serve ${route.kind}`, ...rules.unsupported] : rules.unsupported;
    const unsupported = problems.length > 0 ? condition(Accepted, false, RouteReason.UnsupportedValue, problems.join('; '), route.generation) : undefined;
    const seen = new Set<ListenerState>();
    const on: ListenerAttachment[] = [];
    routes.push({
      route,
      parents: parents.map((p) => {
        if (unsupported || p.listeners.length === 0) return { parentRef: p.parentRef, conditions: [unsupported ?? p.accepted, refs] };
        for (const la of p.listeners) {
          if (seen.has(la.listener)) continue;
          seen.add(la.listener);
          on.push(la);
          attachedRoutes.set(la.listener.name, (attachedRoutes.get(la.listener.name) ?? 0) + 1);
        }
        return { parentRef: p.parentRef, conditions: [p.accepted, refs] };
      }),
    });
    if (on.length > 0) attached.push({ route, rules, listeners: on });
  }

  const base = { listeners, attachedRoutes, routes, backends: [] as BackendDecision[], companions: [] as CompanionRequest[], probePods: [] as PodRef[] };
  const refuse = (reason: string, problem: string): GatewayModelResult<O> => ({ ...base, spec: undefined, problem, accepted: condition(Accepted, false, reason, problem, generation) });
  if (!provider.capabilities.layers.includes('Gateway')) return refuse(GatewayReason.Invalid, `provider ${provider.name} does not serve Gateways`);
  const infra = infrastructureParameters(gateway, provider, input.parameters);
  if (!infra.ok) return refuse(GatewayReason.InvalidParameters, infra.problem);
  const addresses = requestedAddresses(gateway, features, provider.capabilities.gatewayNamedAddresses === true);
  if ('problem' in addresses) return refuse(GatewayReason.UnsupportedAddress, addresses.problem);
  const parsed = provider.parseOptions ? provider.parseOptions(gateway.metadata?.annotations ?? {}, 'Gateway') : { ok: true as const, options: {} as O };
  if (!parsed.ok) return refuse(GatewayReason.Invalid, parsed.errors.map((e) => ('field' in e ? `${e.field}: ${e.reason}` : `annotation ${e.annotation}: ${e.reason}`)).join('; '));
  const choice = chooseTargetType(provider, undefined, parsed.targetType);
  if (!choice.ok) return refuse(GatewayReason.Invalid, choice.error.reason);
  const invalid = listeners.filter((l) => !l.servable);
  if (invalid.length === listeners.length) return refuse(GatewayReason.ListenersNotValid, `no listener is valid: ${invalid.map((l) => `${l.name}: ${l.problem ?? 'invalid'}`).join('; ')}`);
  const accepted =
    invalid.length > 0
      ? condition(Accepted, true, GatewayReason.ListenersNotValid, `some listeners are not valid: ${invalid.map((l) => `${l.name}: ${l.problem ?? 'invalid'}`).join('; ')}`, generation)
      : condition(Accepted, true, GatewayReason.Accepted, 'Gateway is accepted', generation);

  const sets = buildTargetSets(backends.resolved(), {
    endpointSlices: input.endpointSlices,
    nodes: input.nodes,
    supportsIp: provider.capabilities.targetTypes.includes('ip'),
    targetType: choice.targetType,
    explicitTargetType: choice.explicit,
    healthCheck: { protocol: 'HTTP', port: 'traffic-port', path: '/', ...DEFAULT_HEALTH_CHECK_TIMING },
    healthCheckDefaulted: ALL_DEFAULTED,
    followReadinessProbes: true,
    ...(input.companionNodePorts ? { companionNodePorts: input.companionNodePorts } : {}),
    ...(input.pods ? { pods: input.pods } : {}),
  });
  const ref = gatewayRef(gateway);
  return {
    ...base,
    backends: sets.decisions,
    companions: sets.companions,
    probePods: sets.probePods,
    problem: invalid.length > 0 ? (accepted.message ?? undefined) : undefined,
    accepted,
    spec:
      sets.companions.length > 0
        ? undefined
        : {
            layer: 'Gateway',
            ref,
            provider: provider.name,
            className: input.className,
            clusterName: input.clusterName,
            ports: gatewayPorts(listeners, attached),
            targetSets: sets.targetSets,
            sourceRanges: [],
            requestedAddresses: addresses.addresses,
            ipFamilies: addresses.families,
            ...(addresses.named.length > 0 ? { namedAddresses: addresses.named } : {}),
            tags: ownershipTags(input.clusterName, ref),
            providerOptions: parsed.options,
            ...(infra.parameters ? { parameters: infra.parameters } : {}),
            ...(input.classParameters ? { classParameters: input.classParameters } : {}),
          },
  };
}

export { routeKey };
