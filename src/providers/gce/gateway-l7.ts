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
// Which load balancer a Gateway gets follows its GatewayClass's name, as on GKE: the
// classes of another kind of load balancer (GKE_OTHER_CLASSES) are refused with what lbc
// does build, never served by a load balancer other than the one their name asks for.
import type { GatewayPort, HttpsGatewayListener } from '../../model/gateway.js';
import type { LbRef } from '../../model/ref.js';
import type { GatewaySpec, TargetSet } from '../../model/spec.js';
import type { BackendService } from './backend-service.js';
import { globalBackendServiceKind } from './backend-service.js';
import { globalAddressKind, type Address } from './address.js';
import type { GceLbOptions } from './annotations.js';
import type { GaxCallOptions } from './compute.js';
import { links, networkProjectOf, type PlanContext } from './context.js';
import { GceError } from './errors.js';
import { firewallKind, type Firewall } from './firewall.js';
import { globalForwardingRuleKind, type ForwardingRule } from './forwarding-rule.js';
import { gatewayUrlMap, type UrlMapWarning } from './gateway-url-map.js';
import { globalHealthCheckKind } from './health-check.js';
import { observeInstanceGroups } from './instance-group.js';
import { capturingAddress, observe, synthesize, type CallContext, type Desired, type Observed, type RunState, type Step } from './kind.js';
import { l7Backends, l7Negs, negCleanup, observeBackends, BACKEND_TIMEOUT_SEC } from './l7.js';
import { l7FirewallSteps } from './l7-firewall.js';
import type { LbPlan } from './l4.js';
import { gatewayNames, instanceGroupName, type GatewayNames } from './names.js';
import { negsOf, observeNegs } from './neg.js';
import { ownedDescription, ownershipLabels, ownershipOf } from './ownership.js';
import { sslCertificateKind, observeSslCertificates, type SslCertificate } from './ssl-certificate.js';
import { targetHttpProxyKind, targetHttpsProxyKind, type TargetHttpProxy, type TargetHttpsProxy } from './target-proxy.js';
import { urlMapKind, type UrlMap } from './url-map.js';

export const GATEWAY_SCHEME = 'EXTERNAL_MANAGED';

/**
 * GKE's GatewayClasses of load balancers lbc does not build for Gateways, and why
 * (https://cloud.google.com/kubernetes-engine/docs/concepts/gateway-api#gatewayclass).
 * Any other class name (gke-l7-global-external-managed, or lbc's own) gets the global
 * external Application Load Balancer.
 */
const GKE_OTHER_CLASSES: Readonly<Record<string, string>> = {
  'gke-l7-gxlb': 'the classic Application Load Balancer (scheme EXTERNAL), whose URL maps take no route rules (header and query matches, weights, rewrites, header actions)',
  'gke-l7-gxlb-mc': 'a multi-cluster classic Application Load Balancer',
  'gke-l7-rilb': 'a regional internal Application Load Balancer (INTERNAL_MANAGED), which lbc does not build yet',
  'gke-l7-rilb-mc': 'a multi-cluster regional internal Application Load Balancer',
  'gke-l7-regional-external-managed': 'a regional external Application Load Balancer, which lbc does not build yet',
  'gke-l7-regional-external-managed-mc': 'a multi-cluster regional external Application Load Balancer',
  'gke-l7-global-external-managed-mc': 'a multi-cluster Gateway (its backends are ServiceImports of a fleet)',
};

/** Why a Gateway of this class cannot be served, or undefined when it gets the global external managed load balancer. */
export function unsupportedGatewayClass(className: string): string | undefined {
  const what = GKE_OTHER_CLASSES[className];
  return what === undefined
    ? undefined
    : `GatewayClass ${className} asks for ${what}; lbc's gce provider builds the global external Application Load Balancer (EXTERNAL_MANAGED) of class gke-l7-global-external-managed`;
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
  readonly backends: Awaited<ReturnType<typeof observeBackends>>;
  readonly firewall: Observed<Firewall> | undefined;
}

type Listable = { name?: string | null; description?: string | null };

/**
 * The frontend of a Gateway: its per-port resources are named after ports it may no longer
 * have, so they are found by the Gateway's name prefix (one list per kind) and kept by
 * their description's owner.
 */
async function listByPrefix<R extends Listable>(
  ctx: CallContext,
  call: string,
  prefix: string,
  clusterName: string,
  uid: string,
  list: (filter: string, o: GaxCallOptions) => Promise<readonly [R[], ...unknown[]]>,
): Promise<Observed<R>[]> {
  const items = await ctx.compute.list(call, `${prefix}*`, ctx.signal, (o) => list(`name eq ${prefix}.*`, o));
  return items
    .filter((r) => (r.name ?? '').startsWith(prefix))
    .map((r) => ({ key: { name: r.name ?? '' }, resource: r, ownership: ownershipOf(r.description, clusterName, uid) }))
    // Another Gateway whose namespace and name start the same: neither desired nor a leftover here.
    .filter((r) => r.ownership !== 'sibling');
}

/** The common part of `<prefix><namespace>-<name>-`: what this Gateway's address, URL maps, proxies and forwarding rules start with. */
function frontendPrefix(names: GatewayNames): string {
  return names.address.slice(0, names.address.length - 12);
}

async function observeGateway(pc: PlanContext, ref: LbRef, names: GatewayNames): Promise<GatewayObserved> {
  const { call, clusterName } = pc;
  const { compute } = call;
  const project = compute.project;
  const prefix = frontendPrefix(names);
  const fwKind = firewallKind(networkProjectOf(pc.options));
  const [addresses, rules, httpProxies, httpsProxies, urlMaps, certs, backends, firewall] = await Promise.all([
    observe(globalAddressKind, call, [{ name: names.address }], clusterName, ref.uid),
    listByPrefix(call, 'globalForwardingRules.list', prefix, clusterName, ref.uid, (filter, o) => compute.globalForwardingRules.list({ project, filter }, o)),
    listByPrefix(call, 'targetHttpProxies.list', prefix, clusterName, ref.uid, (filter, o) => compute.targetHttpProxies.list({ project, filter }, o)),
    listByPrefix(call, 'targetHttpsProxies.list', prefix, clusterName, ref.uid, (filter, o) => compute.targetHttpsProxies.list({ project, filter }, o)),
    listByPrefix(call, 'urlMaps.list', prefix, clusterName, ref.uid, (filter, o) => compute.urlMaps.list({ project, filter }, o)),
    observeSslCertificates(call, names.sslCertificatePrefix, clusterName, ref.uid),
    observeBackends(call, names.prefix, clusterName, ref.uid),
    observe(fwKind, call, [{ name: names.firewall }], clusterName, ref.uid),
  ]);
  return { addresses, rules, httpProxies, httpsProxies, urlMaps, certs, backends, firewall: firewall[0] };
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
  const names = gatewayNamesFor(pc, ref);
  const link = links(options);
  const description = ownedDescription(clusterName, ref);
  const negs = l7Negs(pc, spec.targetSets);
  const serviceName = (t: TargetSet): string => names.backendService(t.name, t.backend.namespace, t.backend.service, t.backend.port);
  const byName = new Map(spec.targetSets.map((t) => [t.name, serviceName(t)]));
  const serviceLink = (set: string): string => {
    const name = byName.get(set);
    if (name === undefined) throw invalid(`a route rule refers to target set ${set}, which the spec does not have`);
    return link.global('backendServices', name);
  };
  const instanceSets = spec.targetSets.filter((t) => t.type === 'instance');

  const named = spec.namedAddresses ?? [];
  if (named.length > 1) throw invalid(`spec.addresses: a global external Application Load Balancer has one address; ${named.length} NamedAddresses are given`);
  const [observed, groups, staticAddress] = await Promise.all([
    observeGateway(pc, ref, names),
    // Only instance backends need the groups; a Gateway on NEGs alone reads none.
    instanceSets.length > 0 ? observeInstanceGroups(call, instanceGroupName(pc.identity.clusterId), clusterName) : Promise.resolve([]),
    named[0] !== undefined ? globalAddressKind.get(call, { name: named[0] }) : Promise.resolve(undefined),
  ]);

  // ---- address: the user's reserved one (NamedAddress, GKE's static IP), else one lbc
  // reserves, so every port's forwarding rule has the same IP ----------------------------------
  if (named[0] !== undefined && !staticAddress?.address) throw invalid(`spec.addresses: the global static address ${named[0]} (NamedAddress) does not exist in project ${options.project}`);
  const own = observed.addresses.find((a) => a.ownership === 'ours')?.resource;
  const addressKey = { name: names.address };
  const addressSteps = capturingAddress(
    synthesize({
      kind: globalAddressKind,
      ctx: call,
      clusterName,
      uid: ref.uid,
      // With the user's address, one lbc reserved before goes once the rules moved off it.
      want: staticAddress ? [] : [{ key: addressKey, body: () => ({ description, ipVersion: 'IPV4', labels: ownershipLabels(clusterName, ref) }) }],
      have: observed.addresses,
      plannedState: {},
    }),
    globalAddressKind,
    call,
    addressKey,
  );
  const planned: RunState = staticAddress?.address ? { ip: staticAddress.address } : own?.address ? { ip: own.address } : {};

  // ---- the URL maps (pure), then the backends: the fallbacks the maps' 404 and 500 answers
  // stand in front of, GKE's gw-serve404 and gw-serve500, the latter only where a rule answers 500
  const warnings: UrlMapWarning[] = [];
  const serve500 = link.global('backendServices', names.errorService);
  const urlMaps = new Map(
    ports.map((port) => [
      port.port,
      gatewayUrlMap(port.listeners, description, {
        service: serviceLink,
        fallbackService: link.global('backendServices', names.fallbackService),
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
  const fallbackBody = (): BackendService => ({ description, protocol: 'HTTP', loadBalancingScheme: GATEWAY_SCHEME, timeoutSec: BACKEND_TIMEOUT_SEC });
  const fallbacks: Desired<BackendService>[] = [
    { key: { name: names.fallbackService }, body: fallbackBody },
    ...(answers500 ? [{ key: { name: names.errorService }, body: fallbackBody }] : []),
  ];
  const be = await l7Backends(
    pc,
    { uid: ref.uid, targetSets: spec.targetSets, negs, description, scheme: GATEWAY_SCHEME, serviceName, firewall: { name: names.firewall }, extraServices: fallbacks },
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
    const mapLink = link.global('urlMaps', mapName);
    let target: string;
    if (port.protocol === 'HTTPS') {
      const certLinks = certificateLinks(pc, port.listeners, names, description, wantCerts);
      if (certLinks.length === 0) throw invalid(`HTTPS port ${port.port} has no certificate: its listeners' certificateRefs name none that resolved`);
      wantHttps.push({ key: { name: proxyName }, body: () => ({ description, urlMap: mapLink, sslCertificates: certLinks }) });
      target = link.global('targetHttpsProxies', proxyName);
    } else {
      wantHttp.push({ key: { name: proxyName }, body: () => ({ description, urlMap: mapLink }) });
      target = link.global('targetHttpProxies', proxyName);
    }
    wantRules.push({
      key: { name: names.forwardingRule(port.port) },
      body: (state) => ({
        description,
        ...(state.ip !== undefined ? { IPAddress: state.ip } : {}),
        IPProtocol: 'TCP',
        portRange: `${port.port}-${port.port}`,
        target,
        loadBalancingScheme: GATEWAY_SCHEME,
        labels: ownershipLabels(clusterName, ref),
      }),
    });
  }

  const common = { ctx: call, clusterName, uid: ref.uid, plannedState: planned };
  const steps: Step[] = [
    ...addressSteps,
    ...be.steps,
    ...synthesize({ ...common, kind: sslCertificateKind, want: [...wantCerts.values()], have: observed.certs }),
    ...synthesize({ ...common, kind: urlMapKind, want: wantMaps, have: observed.urlMaps }),
    ...synthesize({ ...common, kind: targetHttpProxyKind, want: wantHttp, have: observed.httpProxies }),
    ...synthesize({ ...common, kind: targetHttpsProxyKind, want: wantHttps, have: observed.httpsProxies }),
    ...synthesize({ ...common, kind: globalForwardingRuleKind, want: wantRules, have: observed.rules, leftovers: 'teardown' }),
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
function certificateLinks(pc: PlanContext, listeners: readonly HttpsGatewayListener[], names: GatewayNames, description: string, want: Map<string, Desired<SslCertificate>>): string[] {
  const link = links(pc.options);
  const out: string[] = [];
  for (const c of listeners.flatMap((l) => l.certificates)) {
    if (c.source === 'secret') {
      const name = names.sslCertificate(c.certPem);
      want.set(name, { key: { name }, body: () => ({ description, certificate: c.certPem, privateKey: c.keyPem }) });
      out.push(link.global('sslCertificates', name));
    } else {
      out.push(c.id.includes('/') ? c.id : link.global('sslCertificates', c.id));
    }
  }
  return [...new Set(out)];
}

/** Everything the Gateway owns, dependents first; the cluster's Gateway firewall rule keeps the other Gateways' ports. */
export async function planGatewayDelete(pc: PlanContext, ref: LbRef): Promise<Step[]> {
  const { call, clusterName } = pc;
  const names = gatewayNamesFor(pc, ref);
  const observed = await observeGateway(pc, ref, names);
  const { otherPorts: otherNegPorts } = await observeNegs(call, [], clusterName, observed.backends.otherNegs);
  const common = { ctx: call, clusterName, uid: ref.uid, plannedState: {} as RunState, want: [] };
  return [
    ...synthesize({ ...common, kind: globalAddressKind, have: observed.addresses }),
    ...synthesize({ ...common, kind: globalForwardingRuleKind, have: observed.rules }),
    ...synthesize({ ...common, kind: targetHttpProxyKind, have: observed.httpProxies }),
    ...synthesize({ ...common, kind: targetHttpsProxyKind, have: observed.httpsProxies }),
    ...synthesize({ ...common, kind: urlMapKind, have: observed.urlMaps }),
    ...synthesize({ ...common, kind: sslCertificateKind, have: observed.certs }),
    ...l7FirewallSteps(pc, {
      key: { name: names.firewall },
      rule: observed.firewall,
      ports: [...new Set([...observed.backends.otherPorts, ...otherNegPorts])],
      tags: undefined,
      deleting: true,
    }),
    ...synthesize({ ...common, kind: globalBackendServiceKind, have: observed.backends.services }),
    ...synthesize({ ...common, kind: globalHealthCheckKind, have: observed.backends.checks }),
    ...negCleanup(call, clusterName, observed.backends.services.filter((s) => s.ownership === 'ours').flatMap((s) => negsOf(s.resource.backends)), []),
  ];
}
