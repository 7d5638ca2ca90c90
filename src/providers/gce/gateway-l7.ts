// A Gateway → the global external Application Load Balancer of the EXTERNAL_MANAGED scheme,
// the load balancer GKE's Gateway controller builds for GatewayClass
// gke-l7-global-external-managed: per Gateway port a global forwarding rule → a target HTTP
// or HTTPS proxy (with the SSL certificates of the port's listeners' certificateRefs) → a URL
// map of the port's routes (gateway-url-map.ts); one EXTERNAL_MANAGED backend service and
// health check per backend, on NEGs or the cluster's instance groups as an Ingress's
// (l7Backends), the firewall rule of the cluster's Gateways, and one reserved address the
// ports share (forwarding rules share an IP only through a reserved address). Names as GKE's
// controller gives them (names.ts gatewayNames), ownership in the descriptions as for
// everything else lbc makes.
//
// The regional classes get the same chain from the regional collections of the provider's
// region (l7-scope.ts), as GKE builds them
// (https://cloud.google.com/kubernetes-engine/docs/concepts/gateway-api#gatewayclass):
// gke-l7-rilb the regional internal Application Load Balancer (INTERNAL_MANAGED, its address
// an internal one of the cluster's subnet, the rule in the cluster's network and subnet),
// gke-l7-regional-external-managed the regional external one (EXTERNAL_MANAGED, Standard
// tier). Both need the region's proxy-only subnet (proxy-only-subnet.ts), checked before
// anything is built, and their firewall rule lets that subnet's proxies reach the backends.
//
// Which load balancer a Gateway gets follows its GatewayClass's name, as on GKE: the
// classes of another kind of load balancer (GKE_OTHER_CLASSES) are refused with what lbc
// does build, never served by a load balancer other than the one their name asks for.
import type { GatewayPort, HttpsGatewayListener } from '../../model/gateway.js';
import type { LbRef } from '../../model/ref.js';
import type { GatewaySpec, TargetSet } from '../../model/spec.js';
import type { BackendService } from './backend-service.js';
import { globalBackendServiceKind, regionalBackendServiceKind } from './backend-service.js';
import { listBothScopes } from './aggregated-list.js';
import { globalAddressKind, regionalAddressKind, type Address } from './address.js';
import type { GceLbOptions } from './annotations.js';
import { networkProjectOf, networkUrl, subnetworkUrl, type PlanContext } from './context.js';
import { GceError } from './errors.js';
import { firewallKind, type Firewall } from './firewall.js';
import { globalForwardingRuleKind, regionalForwardingRuleKind, type ForwardingRule } from './forwarding-rule.js';
import { gatewayUrlMap, type UrlMapWarning } from './gateway-url-map.js';
import { globalHealthCheckKind, regionalHealthCheckKind, type HealthCheck } from './health-check.js';
import { observeInstanceGroups } from './instance-group.js';
import { capturingAddress, observe, synthesize, type CallContext, type Desired, type Kind, type Observed, type RunState, type Step } from './kind.js';
import { l7Backends, l7Negs, negCleanup, observeBackendsByScope, BACKEND_TIMEOUT_SEC, type ObservedBackends } from './l7.js';
import { l7FirewallSteps } from './l7-firewall.js';
import { scopedLink, type L7Scope } from './l7-scope.js';
import type { LbPlan } from './l4.js';
import { gatewayNames, instanceGroupName, type GatewayNames } from './names.js';
import { negsOf, observeNegs } from './neg.js';
import { ownedDescription, ownershipLabels, ownershipOf } from './ownership.js';
import { activeProxyOnlySubnet, missingProxyOnlySubnet } from './proxy-only-subnet.js';
import { certificatesByPrefix, regionSslCertificateKind, sslCertificateKind, type SslCertificate } from './ssl-certificate.js';
import {
  regionTargetHttpProxyKind,
  regionTargetHttpsProxyKind,
  targetHttpProxyKind,
  targetHttpsProxyKind,
  type TargetHttpProxy,
  type TargetHttpsProxy,
} from './target-proxy.js';
import { regionUrlMapKind, urlMapKind, type UrlMap } from './url-map.js';

export const GATEWAY_SCHEME = 'EXTERNAL_MANAGED';

/** The load balancer a GatewayClass asks for: where its resources live, and their scheme. */
export interface GatewayLoadBalancer {
  readonly scope: L7Scope;
  readonly scheme: 'EXTERNAL_MANAGED' | 'INTERNAL_MANAGED';
  /** What it is called, for messages. */
  readonly what: string;
}

const GLOBAL_EXTERNAL: GatewayLoadBalancer = { scope: 'global', scheme: GATEWAY_SCHEME, what: 'the global external Application Load Balancer' };

/** GKE's regional single-cluster classes (https://cloud.google.com/kubernetes-engine/docs/concepts/gateway-api#gatewayclass). */
const REGIONAL_CLASSES: Readonly<Record<string, GatewayLoadBalancer>> = {
  'gke-l7-rilb': { scope: 'region', scheme: 'INTERNAL_MANAGED', what: 'a regional internal Application Load Balancer' },
  'gke-l7-regional-external-managed': { scope: 'region', scheme: 'EXTERNAL_MANAGED', what: 'a regional external Application Load Balancer' },
};

/**
 * GKE's GatewayClasses of load balancers lbc does not build for Gateways, and why
 * (https://cloud.google.com/kubernetes-engine/docs/concepts/gateway-api#gatewayclass).
 * The regional ones (REGIONAL_CLASSES) get their regional load balancer; any other class
 * name (gke-l7-global-external-managed, or lbc's own) the global external Application Load
 * Balancer.
 */
const GKE_OTHER_CLASSES: Readonly<Record<string, string>> = {
  'gke-l7-gxlb': 'the classic Application Load Balancer (scheme EXTERNAL), whose URL maps take no route rules (header and query matches, weights, rewrites, header actions)',
  'gke-l7-gxlb-mc': 'a multi-cluster classic Application Load Balancer',
  'gke-l7-rilb-mc': 'a multi-cluster regional internal Application Load Balancer',
  'gke-l7-regional-external-managed-mc': 'a multi-cluster regional external Application Load Balancer',
  'gke-l7-global-external-managed-mc': 'a multi-cluster Gateway (its backends are ServiceImports of a fleet)',
};

/** Why a Gateway of this class cannot be served, or undefined when lbc builds what it asks for. */
export function unsupportedGatewayClass(className: string): string | undefined {
  const what = GKE_OTHER_CLASSES[className];
  return what === undefined
    ? undefined
    : `GatewayClass ${className} asks for ${what}; lbc's gce provider builds the global external Application Load Balancer (EXTERNAL_MANAGED) of class gke-l7-global-external-managed ` +
        'and the regional ones of gke-l7-rilb (internal, INTERNAL_MANAGED) and gke-l7-regional-external-managed (external, EXTERNAL_MANAGED)';
}

export function gatewayLoadBalancerOf(className: string): GatewayLoadBalancer {
  return REGIONAL_CLASSES[className] ?? GLOBAL_EXTERNAL;
}

/** The kinds of one scope's resources: the regional chain is the global one's counterpart, kind for kind. */
interface ScopeKinds {
  readonly address: Kind<Address>;
  readonly forwardingRule: Kind<ForwardingRule>;
  readonly httpProxy: Kind<TargetHttpProxy>;
  readonly httpsProxy: Kind<TargetHttpsProxy>;
  readonly urlMap: Kind<UrlMap>;
  readonly sslCertificate: Kind<SslCertificate>;
  readonly backendService: Kind<BackendService>;
  readonly healthCheck: Kind<HealthCheck>;
}

const KINDS: Readonly<Record<L7Scope, ScopeKinds>> = {
  global: {
    address: globalAddressKind,
    forwardingRule: globalForwardingRuleKind,
    httpProxy: targetHttpProxyKind,
    httpsProxy: targetHttpsProxyKind,
    urlMap: urlMapKind,
    sslCertificate: sslCertificateKind,
    backendService: globalBackendServiceKind,
    healthCheck: globalHealthCheckKind,
  },
  region: {
    address: regionalAddressKind,
    forwardingRule: regionalForwardingRuleKind,
    httpProxy: regionTargetHttpProxyKind,
    httpsProxy: regionTargetHttpsProxyKind,
    urlMap: regionUrlMapKind,
    sslCertificate: regionSslCertificateKind,
    backendService: regionalBackendServiceKind,
    healthCheck: regionalHealthCheckKind,
  },
};

/** The firewall rule of the cluster's Gateways of a scope: the regional ones' also lets the proxy-only subnet in. */
function firewallName(pc: PlanContext, names: GatewayNames, scope: L7Scope): string {
  return scope === 'region' ? names.regionalFirewall(pc.options.region) : names.firewall;
}

export function gatewayNamesFor(pc: PlanContext, ref: LbRef): GatewayNames {
  return gatewayNames(ref, pc.options.kubeSystemUid ?? pc.identity.clusterId, pc.options.network);
}

interface GatewayObserved {
  readonly addresses: Observed<Address>[];
  readonly rules: Observed<ForwardingRule>[];
  readonly httpProxies: Observed<TargetHttpProxy>[];
  readonly httpsProxies: Observed<TargetHttpsProxy>[];
  readonly urlMaps: Observed<UrlMap>[];
  readonly certs: Observed<SslCertificate>[];
  readonly backends: ObservedBackends;
  readonly firewall: Observed<Firewall> | undefined;
}

type Listable = { name?: string | null; description?: string | null };

/**
 * The frontend of a Gateway: its per-port resources are named after ports it may no longer
 * have, so they are found by the Gateway's name prefix (one list per kind) and kept by
 * their description's owner.
 */
function byPrefix<R extends Listable>(items: readonly R[], prefix: string, clusterName: string, uid: string): Observed<R>[] {
  return (
    items
      .filter((r) => (r.name ?? '').startsWith(prefix))
      .map((r) => ({ key: { name: r.name ?? '' }, resource: r, ownership: ownershipOf(r.description, clusterName, uid) }))
      // Another Gateway whose namespace and name start the same: neither desired nor a leftover here.
      .filter((r) => r.ownership !== 'sibling')
  );
}

/** The common part of `<prefix><namespace>-<name>-`: what this Gateway's address, URL maps, proxies and forwarding rules start with. */
function frontendPrefix(names: GatewayNames): string {
  return names.address.slice(0, names.address.length - 12);
}

/** A scope's forwarding rules by name prefix: no aggregated list has the global ones (aggregated-list.ts). */
function listRules(ctx: CallContext, scope: L7Scope, prefix: string): Promise<ForwardingRule[]> {
  const { compute, signal } = ctx;
  const { project, region } = compute;
  const filter = `name eq ${prefix}.*`;
  return scope === 'region'
    ? compute.list('forwardingRules.list', `${prefix}*`, signal, (o) => compute.forwardingRules.list({ project, region, filter }, o))
    : compute.list('globalForwardingRules.list', `${prefix}*`, signal, (o) => compute.globalForwardingRules.list({ project, filter }, o));
}

/**
 * What the Gateway has in `scopes`. The kinds with an aggregated list (proxies, URL maps,
 * certificates, backend services, health checks) are one read each for both scopes
 * whichever are asked for, so each scope gets those; the address, forwarding rules and
 * firewall rule are read only in `scopes`, and a scope not asked for has none of them.
 */
async function observeGateway(pc: PlanContext, ref: LbRef, names: GatewayNames, scopes: readonly L7Scope[]): Promise<Record<L7Scope, GatewayObserved>> {
  const { call, clusterName } = pc;
  const { compute } = call;
  const { uid } = ref;
  const prefix = frontendPrefix(names);
  const request = (p: string) => ({ project: compute.project, filter: `name eq ${p}.*` });
  const fwKind = firewallKind(networkProjectOf(pc.options));
  const asked = (scope: L7Scope): boolean => scopes.includes(scope);
  const [globalAddresses, regionAddresses, globalRules, regionRules, httpProxies, httpsProxies, urlMaps, certs, backends, firewalls] = await Promise.all([
    asked('global') ? observe(KINDS.global.address, call, [{ name: names.address }], clusterName, uid) : [],
    asked('region') ? observe(KINDS.region.address, call, [{ name: names.address }], clusterName, uid) : [],
    asked('global') ? listRules(call, 'global', prefix) : [],
    asked('region') ? listRules(call, 'region', prefix) : [],
    listBothScopes(call, 'targetHttpProxies.aggregatedList', `${prefix}*`, (o) => compute.targetHttpProxies.aggregatedListAsync(request(prefix), o), (l) => l.targetHttpProxies),
    listBothScopes(call, 'targetHttpsProxies.aggregatedList', `${prefix}*`, (o) => compute.targetHttpsProxies.aggregatedListAsync(request(prefix), o), (l) => l.targetHttpsProxies),
    listBothScopes(call, 'urlMaps.aggregatedList', `${prefix}*`, (o) => compute.urlMaps.aggregatedListAsync(request(prefix), o), (l) => l.urlMaps),
    listBothScopes(call, 'sslCertificates.aggregatedList', `${names.sslCertificatePrefix}*`, (o) =>
      compute.sslCertificates.aggregatedListAsync(request(names.sslCertificatePrefix), o), (l) => l.sslCertificates),
    observeBackendsByScope(call, names.prefix, clusterName, uid),
    // Both scopes' rules in one list when both are asked for (firewall rules are global).
    observe(fwKind, call, scopes.map((scope) => ({ name: firewallName(pc, names, scope) })), clusterName, uid),
  ]);
  const of = (scope: L7Scope, addresses: Observed<Address>[], rules: ForwardingRule[]): GatewayObserved => ({
    addresses,
    rules: byPrefix(rules, prefix, clusterName, uid),
    httpProxies: byPrefix(httpProxies[scope], prefix, clusterName, uid),
    httpsProxies: byPrefix(httpsProxies[scope], prefix, clusterName, uid),
    urlMaps: byPrefix(urlMaps[scope], prefix, clusterName, uid),
    certs: certificatesByPrefix(certs[scope], names.sslCertificatePrefix, clusterName, uid),
    backends: backends[scope],
    firewall: asked(scope) ? firewalls.find((f) => f.key.name === firewallName(pc, names, scope)) : undefined,
  });
  return { global: of('global', globalAddresses, globalRules), region: of('region', regionAddresses, regionRules) };
}

type HttpPort = Extract<GatewayPort, { protocol: 'HTTP' | 'HTTPS' }>;

export async function planGateway(pc: PlanContext, spec: GatewaySpec<GceLbOptions>): Promise<LbPlan> {
  const { options, clusterName, call } = pc;
  const { ref } = spec;
  const invalid = (m: string): GceError => new GceError('invalid', m, { provider: call.provider });
  const refused = unsupportedGatewayClass(spec.className);
  if (refused !== undefined) throw invalid(refused);
  if (spec.sourceRanges.length > 0) throw invalid('source ranges are not supported for Gateways by the gce provider (they would need a Cloud Armor policy)');
  const ports: HttpPort[] = [];
  for (const p of spec.ports) {
    if (p.protocol !== 'HTTP' && p.protocol !== 'HTTPS') throw invalid(`port ${p.port}: a ${p.protocol} listener needs a proxy Network Load Balancer; lbc builds Gateways on GCE as Application Load Balancers (HTTP and HTTPS) only`);
    ports.push(p);
  }
  const lb = gatewayLoadBalancerOf(spec.className);
  const { scope, scheme } = lb;
  const kinds = KINDS[scope];
  const internal = scheme === 'INTERNAL_MANAGED';
  // The address and rule of an internal load balancer are in the cluster's subnet.
  if (internal && options.subnetwork === undefined) throw invalid(`GatewayClass ${spec.className}: ${lb.what} takes its address from the cluster's subnet: set the provider option subnetwork`);
  const subnet = internal && options.subnetwork !== undefined ? subnetworkUrl(options, options.subnetwork) : undefined;
  const names = gatewayNamesFor(pc, ref);
  const link = (collection: string, name: string): string => scopedLink(options, scope, collection, name);
  const description = ownedDescription(clusterName, ref);
  const negs = l7Negs(pc, spec.targetSets);
  const serviceName = (t: TargetSet): string => names.backendService(t.name, t.backend.namespace, t.backend.service, t.backend.port);
  const byName = new Map(spec.targetSets.map((t) => [t.name, serviceName(t)]));
  const serviceLink = (set: string): string => {
    const name = byName.get(set);
    if (name === undefined) throw invalid(`a route rule refers to target set ${set}, which the spec does not have`);
    return link('backendServices', name);
  };
  const instanceSets = spec.targetSets.filter((t) => t.type === 'instance');

  const named = spec.namedAddresses ?? [];
  if (named.length > 1) throw invalid(`spec.addresses: ${lb.what} has one address; ${named.length} NamedAddresses are given`);
  const other: L7Scope = scope === 'region' ? 'global' : 'region';
  const [byScope, otherAddress, groups, staticAddress, proxyOnly] = await Promise.all([
    observeGateway(pc, ref, names, [scope]),
    observe(KINDS[other].address, call, [{ name: names.address }], clusterName, ref.uid),
    // Only instance backends need the groups; a Gateway on NEGs alone reads none.
    instanceSets.length > 0 ? observeInstanceGroups(call, instanceGroupName(pc.identity.clusterId), clusterName) : Promise.resolve([]),
    named[0] !== undefined ? kinds.address.get(call, { name: named[0] }) : Promise.resolve(undefined),
    scope === 'region' ? activeProxyOnlySubnet(pc) : Promise.resolve(undefined),
  ]);
  const observed = byScope[scope];
  const leftBehind = holdsResources(byScope[other], otherAddress);
  if (scope === 'region' && !proxyOnly?.ipCidrRange) throw missingProxyOnlySubnet(pc, spec.className);

  // ---- address: the user's reserved one (NamedAddress, GKE's static IP), else one lbc
  // reserves, so every port's forwarding rule has the same IP ----------------------------------
  if (named[0] !== undefined && !staticAddress?.address) {
    const where = scope === 'region' ? `regional static address ${named[0]} (NamedAddress) does not exist in project ${options.project} region ${options.region}` : `global static address ${named[0]} (NamedAddress) does not exist in project ${options.project}`;
    throw invalid(`spec.addresses: the ${where}`);
  }
  const own = observed.addresses.find((a) => a.ownership === 'ours')?.resource;
  const addressKey = { name: names.address };
  const addressSteps = capturingAddress(
    synthesize({
      kind: kinds.address,
      ctx: call,
      clusterName,
      uid: ref.uid,
      // With the user's address, one lbc reserved before goes once the rules moved off it.
      want: staticAddress ? [] : [{ key: addressKey, body: () => ({ description, ...addressShape(lb, subnet), labels: ownershipLabels(clusterName, ref) }) }],
      have: observed.addresses,
      plannedState: {},
    }),
    kinds.address,
    call,
    addressKey,
  );
  const planned: RunState = staticAddress?.address ? { ip: staticAddress.address } : own?.address ? { ip: own.address } : {};

  // ---- the URL maps (pure), then the backends: the fallbacks the maps' 404 and 500 answers
  // stand in front of, GKE's gw-serve404 and gw-serve500, the latter only where a rule answers 500
  const warnings: UrlMapWarning[] = [];
  const serve500 = link('backendServices', names.errorService);
  const urlMaps = new Map(
    ports.map((port) => [
      port.port,
      gatewayUrlMap(port.listeners, description, {
        service: serviceLink,
        fallbackService: link('backendServices', names.fallbackService),
        errorService: serve500,
        protocol: port.protocol,
        invalid,
        warnings,
      }),
    ]),
  );
  // Read off the maps themselves: only a 500 answer a map kept needs its service.
  const answers500 = [...urlMaps.values()].some((m) => JSON.stringify(m).includes(JSON.stringify(serve500)));
  // No backends, so no health check: the URL map aborts every request before them
  // (gateway-url-map.ts). GCE asks for a health check only of a backend service with
  // instance group or zonal NEG backends ("Backend services with instance group or zonal NEG
  // backends must have a health check", compute v1 BackendService.healthChecks), and
  // creates a global one with neither (terraform-provider-google's backend_service_external_iap
  // example; gcloud backend-services create without --health-checks). GKE gives its
  // gw-serve404 service a health check of the same name (the networking.gke.io/health-checks
  // annotation lists it); probing no backend, it would only be one more write here.
  const fallbackBody = (): BackendService => ({ description, protocol: 'HTTP', loadBalancingScheme: scheme, timeoutSec: BACKEND_TIMEOUT_SEC });
  const fallbacks: Desired<BackendService>[] = [
    { key: { name: names.fallbackService }, body: fallbackBody },
    ...(answers500 ? [{ key: { name: names.errorService }, body: fallbackBody }] : []),
  ];
  const be = await l7Backends(
    pc,
    {
      uid: ref.uid,
      targetSets: spec.targetSets,
      negs,
      description,
      scheme,
      scope,
      serviceName,
      firewall: { name: firewallName(pc, names, scope) },
      extraServices: fallbacks,
      ...(proxyOnly?.ipCidrRange ? { proxySourceRanges: [proxyOnly.ipCidrRange] } : {}),
    },
    { groups, backends: observed.backends, firewall: observed.firewall },
  );

  // ---- per port: certificates, URL map, target proxy, forwarding rule ----------------------
  const wantCerts = new Map<string, Desired<SslCertificate>>();
  const wantMaps: Desired<UrlMap>[] = [];
  const wantHttp: Desired<TargetHttpProxy>[] = [];
  const wantHttps: Desired<TargetHttpsProxy>[] = [];
  const wantRules: Desired<ForwardingRule>[] = [];
  for (const port of ports) {
    const mapName = names.urlMap(port.port);
    const proxyName = names.targetProxy(port.port);
    const urlMap = urlMaps.get(port.port) as UrlMap;
    wantMaps.push({ key: { name: mapName }, body: () => urlMap });
    const mapLink = link('urlMaps', mapName);
    let target: string;
    if (port.protocol === 'HTTPS') {
      const certLinks = certificateLinks(pc, scope, port.listeners, names, description, wantCerts);
      if (certLinks.length === 0) throw invalid(`HTTPS port ${port.port} has no certificate: its listeners' certificateRefs name none that resolved`);
      wantHttps.push({ key: { name: proxyName }, body: () => ({ description, urlMap: mapLink, sslCertificates: certLinks }) });
      target = link('targetHttpsProxies', proxyName);
    } else {
      wantHttp.push({ key: { name: proxyName }, body: () => ({ description, urlMap: mapLink }) });
      target = link('targetHttpProxies', proxyName);
    }
    wantRules.push({
      key: { name: names.forwardingRule(port.port) },
      body: (state) => ({
        description,
        ...(state.ip !== undefined ? { IPAddress: state.ip } : {}),
        IPProtocol: 'TCP',
        portRange: `${port.port}-${port.port}`,
        target,
        loadBalancingScheme: scheme,
        ...ruleShape(pc, lb, subnet),
        labels: ownershipLabels(clusterName, ref),
      }),
    });
  }

  const common = { ctx: call, clusterName, uid: ref.uid, plannedState: planned };
  const steps: Step[] = [
    ...addressSteps,
    ...be.steps,
    ...synthesize({ ...common, kind: kinds.sslCertificate, want: [...wantCerts.values()], have: observed.certs }),
    ...synthesize({ ...common, kind: kinds.urlMap, want: wantMaps, have: observed.urlMaps }),
    ...synthesize({ ...common, kind: kinds.httpProxy, want: wantHttp, have: observed.httpProxies }),
    ...synthesize({ ...common, kind: kinds.httpsProxy, want: wantHttps, have: observed.httpsProxies }),
    ...synthesize({ ...common, kind: kinds.forwardingRule, want: wantRules, have: observed.rules, leftovers: 'teardown' }),
    // The Gateway's class moved it between a global and a regional class: the other scope's load balancer goes.
    ...(leftBehind ? await planScopeDelete(pc, ref, names, other, (await observeGateway(pc, ref, names, [other]))[other]) : []),
  ];
  // Once each (a rule repeated under several hosts or ports warns for each), on the Gateway and its route.
  const notices = [...new Map(warnings.map((w) => [w.message, w])).values()].map((w) => ({ type: 'Warning' as const, reason: 'UnsupportedRouteValue', message: w.message, route: w.route }));
  return {
    steps,
    planned,
    status: (state) => ({
      ingress: state.ip !== undefined ? [{ ip: state.ip, ipMode: 'Proxy' as const }] : [],
      ...(be.backendGroups.length > 0 ? { backendGroups: be.backendGroups } : {}),
      ...(notices.length > 0 ? { notices } : {}),
    }),
  };
}

/**
 * The certificates of an HTTPS port, in its listeners' order (the first is what a client
 * without SNI gets): each Secret's as a self-managed SslCertificate named after its
 * content (a renewed Secret is a new certificate, the proxy switches, the old one goes), as
 * an Ingress's spec.tls; a provider certificate by its name or link.
 */
function certificateLinks(
  pc: PlanContext,
  scope: L7Scope,
  listeners: readonly HttpsGatewayListener[],
  names: GatewayNames,
  description: string,
  want: Map<string, Desired<SslCertificate>>,
): string[] {
  const link = (name: string): string => scopedLink(pc.options, scope, 'sslCertificates', name);
  const out: string[] = [];
  for (const c of listeners.flatMap((l) => l.certificates)) {
    if (c.source === 'secret') {
      const name = names.sslCertificate(c.certPem);
      want.set(name, { key: { name }, body: () => ({ description, certificate: c.certPem, privateKey: c.keyPem }) });
      out.push(link(name));
    } else {
      out.push(c.id.includes('/') ? c.id : link(c.id));
    }
  }
  return [...new Set(out)];
}

/**
 * Everything the Gateway owns, dependents first, in both scopes: deletion has no spec, so
 * no class to tell which. The cluster's Gateway firewall rule of each scope keeps the other
 * Gateways' ports.
 */
export async function planGatewayDelete(pc: PlanContext, ref: LbRef): Promise<Step[]> {
  const names = gatewayNamesFor(pc, ref);
  const observed = await observeGateway(pc, ref, names, ['global', 'region']);
  const [global, region] = await Promise.all([planScopeDelete(pc, ref, names, 'global', observed.global), planScopeDelete(pc, ref, names, 'region', observed.region)]);
  return [...global, ...region];
}

/** Everything the Gateway owns in a scope, dependents first; `observed` must have looked in it (observeGateway's scopes). */
async function planScopeDelete(pc: PlanContext, ref: LbRef, names: GatewayNames, scope: L7Scope, observed: GatewayObserved): Promise<Step[]> {
  const { call, clusterName } = pc;
  const kinds = KINDS[scope];
  const { otherPorts: otherNegPorts } = await observeNegs(call, [], clusterName, observed.backends.otherNegs);
  const common = { ctx: call, clusterName, uid: ref.uid, plannedState: {} as RunState, want: [] };
  return [
    ...synthesize({ ...common, kind: kinds.address, have: observed.addresses }),
    ...synthesize({ ...common, kind: kinds.forwardingRule, have: observed.rules }),
    ...synthesize({ ...common, kind: kinds.httpProxy, have: observed.httpProxies }),
    ...synthesize({ ...common, kind: kinds.httpsProxy, have: observed.httpsProxies }),
    ...synthesize({ ...common, kind: kinds.urlMap, have: observed.urlMaps }),
    ...synthesize({ ...common, kind: kinds.sslCertificate, have: observed.certs }),
    ...l7FirewallSteps(pc, {
      key: { name: firewallName(pc, names, scope) },
      rule: observed.firewall,
      ports: [...new Set([...observed.backends.otherPorts, ...otherNegPorts])],
      tags: undefined,
      deleting: true,
      // The proxy-only subnet's range stays open for the scope's other Gateways.
      ...(observed.firewall ? { extraSourceRanges: observed.firewall.resource.sourceRanges ?? [] } : {}),
    }),
    ...synthesize({ ...common, kind: kinds.backendService, have: observed.backends.services }),
    ...synthesize({ ...common, kind: kinds.healthCheck, have: observed.backends.checks }),
    ...negCleanup(call, clusterName, observed.backends.services.filter((s) => s.ownership === 'ours').flatMap((s) => negsOf(s.resource.backends)), []),
  ];
}

/**
 * Whether the Gateway still owns anything in a scope its class no longer asks for. The
 * address is the last to go when a load balancer is deleted (kind ranks), so an interrupted
 * deletion is found too; the aggregated lists' kinds of that scope come with the ensure's
 * own look (observeGateway), so only the address costs a read.
 */
function holdsResources(aggregated: GatewayObserved, address: readonly Observed<Address>[]): boolean {
  const { backends, urlMaps, httpProxies, httpsProxies, certs } = aggregated;
  return [...backends.services, ...backends.checks, ...urlMaps, ...httpProxies, ...httpsProxies, ...certs, ...address].some((r) => r.ownership === 'ours');
}

/** The address the ports share: internal in the cluster's subnet (one address for several rules, SHARED_LOADBALANCER_VIP), or external. */
function addressShape(lb: GatewayLoadBalancer, subnet: string | undefined): Address {
  if (lb.scheme === 'INTERNAL_MANAGED') return { addressType: 'INTERNAL', purpose: 'SHARED_LOADBALANCER_VIP', ...(subnet ? { subnetwork: subnet } : {}) };
  return lb.scope === 'region' ? { addressType: 'EXTERNAL', ipVersion: 'IPV4', networkTier: REGIONAL_EXTERNAL_TIER } : { ipVersion: 'IPV4' };
}

/** A regional Application Load Balancer's rule names its VPC network, an internal one its subnet too; global access stays off (GCE's default). */
function ruleShape(pc: PlanContext, lb: GatewayLoadBalancer, subnet: string | undefined): ForwardingRule {
  if (lb.scope !== 'region') return {};
  const network = networkUrl(pc.options);
  return lb.scheme === 'INTERNAL_MANAGED' ? { network, ...(subnet ? { subnetwork: subnet } : {}) } : { network, networkTier: REGIONAL_EXTERNAL_TIER };
}

/** The regional external load balancer's tier (Standard, as lbc was asked to build it; GCE also offers Premium). */
const REGIONAL_EXTERNAL_TIER = 'STANDARD';
