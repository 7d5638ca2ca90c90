// Ingresses → global external HTTP(S) load balancer, as ingress-gce builds it:
// global forwarding rules on 80 and 443 → target HTTP/HTTPS proxies → URL map →
// one backend service (and health check) per Service port → the cluster's instance
// groups, addressed by the named port of the node port; a firewall rule lets Google's
// front ends and health checkers reach those node ports. Frontend names follow
// ingress-gce's v2 scheme. Backend services are per load balancer here (ingress-gce
// shares `k8s-be-<nodeport>--<uid>` across Ingresses), so deleting one Ingress never
// touches another's backends. An ip target set (a backend Service with
// cloud.google.com/neg {"ingress": true}) gets zonal GCE_VM_IP_PORT NEGs instead of the
// instance groups (neg.ts), and its backend service balances across them.
import type { InstanceTargetSet, IpTargetSet, L7Spec, NodeTarget, TargetSet, TlsCertificate } from '../../model/spec.js';
import type { BackendGroup } from '../../model/status.js';
import { globalAddressKind, type Address } from './address.js';
import type { GceLbOptions } from './annotations.js';
import { listBothScopes } from './aggregated-list.js';
import { applyHealthCheckConfig, backendConfigKey, backendConfigProblems, backendServiceFields, type ResolvedBackendConfig } from './backend-config.js';
import { globalBackendServiceKind, regionalBackendServiceKind, type BackendService } from './backend-service.js';
import { frontendConfigProblems, redirectsToHttps, redirectUrlMap } from './frontend-config.js';
import { managedCertificateBody, managedCertificateContent, managedCertificateProblems, managedCertificateState } from './managed-certificate.js';
import { links, networkProjectOf, networkUrl, subnetworkUrl, type PlanContext } from './context.js';
import { GceError } from './errors.js';
import { firewallKind, type Firewall } from './firewall.js';
import { globalForwardingRuleKind, type ForwardingRule } from './forwarding-rule.js';
import { globalHealthCheckKind, healthCheckBody, regionalHealthCheckKind, timingOf, type HealthCheck } from './health-check.js';
import { instanceGroupKind, observeInstanceGroups, type InstanceGroup } from './instance-group.js';
import { l7FirewallKey, l7FirewallSteps, recordedPorts } from './l7-firewall.js';
import { scopedLink, type L7Scope } from './l7-scope.js';
import { capturingAddress, observe, synthesize, type CallContext, type Desired, type Key, type Observed, type RunState, type Step } from './kind.js';
import { igDesired, type LbPlan } from './l4.js';
import { sameLink, zonalLink } from './links.js';
import { instanceGroupName, l7Names, namedPort, type L7Names } from './names.js';
import { deleteUnusedNegs, desiredNegs, negKind, negLink, negsOf, observeNegs, type DesiredNeg, type NetworkEndpointGroup } from './neg.js';
import { instancesByZone } from './nodes.js';
import { ownedDescription, ownershipLabels, ownershipOf } from './ownership.js';
import { sslCertificateKind, observeSslCertificates, type SslCertificate } from './ssl-certificate.js';
import { targetHttpProxyKind, targetHttpsProxyKind, type TargetHttpProxy, type TargetHttpsProxy } from './target-proxy.js';
import { buildUrlMap, urlMapKind, type UrlMap } from './url-map.js';

export const BACKEND_TIMEOUT_SEC = 30;

export function l7NamesFor(pc: PlanContext, ref: L7Spec['ref']): L7Names {
  return l7Names(ref, pc.options.kubeSystemUid ?? pc.identity.clusterId);
}

/** The fixed names of an Ingress LB; backend services and certificates are found by prefix. */
export function l7Candidates(names: L7Names) {
  return {
    address: [{ name: names.address }],
    forwardingRules: [{ name: names.httpForwardingRule }, { name: names.httpsForwardingRule }],
    httpProxy: [{ name: names.httpProxy }],
    httpsProxy: [{ name: names.httpsProxy }],
    urlMap: [{ name: names.urlMap }, { name: names.redirectUrlMap }],
    legacyFirewall: [{ name: names.legacyFirewall }],
  } satisfies Record<string, Key[]>;
}

export type ObservedBackends = { services: Observed<BackendService>[]; checks: Observed<HealthCheck>[]; otherPorts: number[]; otherNegs: Required<Key>[] };

/**
 * Backend services and health checks of this cluster's Ingresses (names start
 * k8s2-be-<cluster-uid8>-), ours by description; and the ports lbc's other Ingresses'
 * ones use, which the cluster's firewall rule lets in.
 */
export async function observeBackends(ctx: CallContext, prefix: string, clusterName: string, uid: string): Promise<ObservedBackends> {
  const { compute, signal } = ctx;
  const { project } = compute;
  const filter = `name eq ${prefix}.*`;
  const [services, checks] = await Promise.all([
    compute.list('backendServices.list', `${prefix}*`, signal, (o) => compute.backendServices.list({ project, filter }, o)),
    compute.list('healthChecks.list', `${prefix}*`, signal, (o) => compute.healthChecks.list({ project, filter }, o)),
  ]);
  return classifyBackends(services, checks, prefix, clusterName, uid);
}

/** The same in both scopes at once: one aggregated list per kind (aggregated-list.ts). */
export async function observeBackendsByScope(ctx: CallContext, prefix: string, clusterName: string, uid: string): Promise<Record<L7Scope, ObservedBackends>> {
  const { compute } = ctx;
  const request = { project: compute.project, filter: `name eq ${prefix}.*` };
  const [services, checks] = await Promise.all([
    listBothScopes(ctx, 'backendServices.aggregatedList', `${prefix}*`, (o) => compute.backendServices.aggregatedListAsync(request, o), (l) => l.backendServices),
    listBothScopes(ctx, 'healthChecks.aggregatedList', `${prefix}*`, (o) => compute.healthChecks.aggregatedListAsync(request, o), (l) => l.healthChecks),
  ]);
  return {
    global: classifyBackends(services.global, checks.global, prefix, clusterName, uid),
    region: classifyBackends(services.region, checks.region, prefix, clusterName, uid),
  };
}

function classifyBackends(services: BackendService[], checks: HealthCheck[], prefix: string, clusterName: string, uid: string): ObservedBackends {
  const classified = <R extends { name?: string | null; description?: string | null }>(rs: R[]): Observed<R>[] =>
    rs.filter((r) => (r.name ?? '').startsWith(prefix)).map((r) => ({ key: { name: r.name ?? '' }, resource: r, ownership: ownershipOf(r.description, clusterName, uid) }));
  // Other Ingresses' backends share the prefix; they are neither desired nor leftovers here.
  const mine = <R>(rs: Observed<R>[]): Observed<R>[] => rs.filter((r) => r.ownership === 'ours' || r.ownership === 'foreign');
  const others = <R>(rs: Observed<R>[]): R[] => rs.filter((r) => r.ownership === 'sibling').map((r) => r.resource);
  const [s, c] = [classified(services), classified(checks)];
  // Their NEG backends record no port here (no named port, USE_SERVING_PORT checks): the
  // NEGs themselves do (observeNegs).
  return { services: mine(s), checks: mine(c), otherPorts: recordedPorts(others(s), others(c)), otherNegs: others(s).flatMap((bs) => negsOf(bs.backends)) };
}

export function backendPrefix(names: L7Names): string {
  return `k8s2-be-${names.lb.slice(0, 8)}-`;
}

function certificateLink(pc: PlanContext, id: string): string {
  return id.includes('/') ? id : links(pc.options).global('sslCertificates', id);
}

export async function planL7(pc: PlanContext, spec: L7Spec<GceLbOptions>, o: GceLbOptions): Promise<LbPlan> {
  const { options, clusterName, call } = pc;
  const { ref } = spec;
  const invalid = (m: string): GceError => new GceError('invalid', m, { provider: call.provider });
  const names = l7NamesFor(pc, ref);
  const link = links(options);
  const description = ownedDescription(clusterName, ref);

  const targetSets = spec.targetSets.filter((t): t is InstanceTargetSet => t.type === 'instance');
  const negs = l7Negs(pc, spec.targetSets);
  if (spec.sourceRanges.length > 0) {
    // A global HTTP(S) LB filters clients with Cloud Armor, which lbc does not manage; silently ignoring them would open the site.
    throw invalid('source ranges are not supported for Ingresses by the gce provider (they would need a Cloud Armor policy); remove lbc.dev/load-balancer-source-ranges');
  }
  if ((spec.actionRules ?? []).length > 0 || spec.defaultAction !== undefined) {
    // Annotation actions are aws-load-balancer-controller's; a URL map has no equivalent lbc builds, and dropping them would misroute.
    throw invalid('Ingress backends with port use-annotation (annotation actions) are not supported by the gce provider');
  }
  const https = spec.listeners.find((l) => l.protocol === 'HTTPS');
  const secretCerts = (https?.certificates ?? []).filter((c): c is Extract<TlsCertificate, { source: 'secret' }> => c.source === 'secret');
  const providerCerts = (https?.certificates ?? []).filter((c): c is Extract<TlsCertificate, { source: 'provider' }> => c.source === 'provider');
  const managedProblems = (o.managedCertificates ?? []).flatMap(managedCertificateProblems);
  if (managedProblems.length > 0) throw invalid(managedProblems.join('; '));
  const managed = (o.managedCertificates ?? []).map((m) => ({ name: names.sslCertificate(managedCertificateContent(m)), cert: m }));
  // ingress-gce puts pre-shared certificates first (GKE's managed-certificate controller
  // hands its certificates over as pre-shared ones), then those from Secrets.
  const certLinks = [
    ...o.preSharedCerts.map((n) => certificateLink(pc, n)),
    ...managed.map((m) => link.global('sslCertificates', m.name)),
    ...providerCerts.map((c) => certificateLink(pc, c.id)),
    ...secretCerts.map((c) => link.global('sslCertificates', names.sslCertificate(c.certPem))),
  ].filter((l, i, all) => all.indexOf(l) === i);
  const wantHttps = certLinks.length > 0;
  const wantHttp = o.allowHttp;
  if (!wantHttp && !wantHttps) throw invalid('kubernetes.io/ingress.allow-http is "false" and there is no TLS certificate: the load balancer would have no port');
  const frontendProblems = o.frontendConfig ? frontendConfigProblems(o.frontendConfig, wantHttps, wantHttp) : [];
  if (frontendProblems.length > 0) throw invalid(frontendProblems.join('; '));
  const redirect = o.frontendConfig !== undefined && redirectsToHttps(o.frontendConfig) ? redirectUrlMap(o.frontendConfig, description) : undefined;
  const sslPolicy = o.frontendConfig?.spec.sslPolicy;

  const cand = l7Candidates(names);
  const fwKind = firewallKind(networkProjectOf(options));
  const [addresses, forwardingRules, httpProxies, httpsProxies, urlMaps, firewalls, groups, certs, backends, staticAddress] = await Promise.all([
    observe(globalAddressKind, call, cand.address, clusterName, ref.uid),
    observe(globalForwardingRuleKind, call, cand.forwardingRules, clusterName, ref.uid),
    observe(targetHttpProxyKind, call, cand.httpProxy, clusterName, ref.uid),
    observe(targetHttpsProxyKind, call, cand.httpsProxy, clusterName, ref.uid),
    // The redirect map is looked up only when it matters (below): one read less per ensure.
    observe(urlMapKind, call, [{ name: names.urlMap }], clusterName, ref.uid),
    observe(fwKind, call, [...cand.legacyFirewall, l7FirewallKey(pc)], clusterName, ref.uid),
    // Only instance backends need the groups; an Ingress on NEGs alone reads none.
    targetSets.length > 0 ? observeInstanceGroups(call, instanceGroupName(pc.identity.clusterId), clusterName) : Promise.resolve([]),
    observeSslCertificates(call, names.sslCertificatePrefix, clusterName, ref.uid),
    observeBackends(call, backendPrefix(names), clusterName, ref.uid),
    o.staticIpName !== undefined ? globalAddressKind.get(call, { name: o.staticIpName }) : Promise.resolve(undefined),
  ]);
  const redirectLink = link.global('urlMaps', names.redirectUrlMap);
  const proxyOnRedirect = httpProxies.some((p) => sameLink(p.resource.urlMap, redirectLink));
  const redirectMaps = redirect || proxyOnRedirect ? await observe(urlMapKind, call, [{ name: names.redirectUrlMap }], clusterName, ref.uid) : [];

  // ---- address ------------------------------------------------------------------------
  if (o.staticIpName !== undefined && !staticAddress?.address) {
    throw invalid(`the global static address ${o.staticIpName} (kubernetes.io/ingress.global-static-ip-name) does not exist`);
  }
  const own = addresses.find((a) => a.ownership === 'ours')?.resource;
  const wantAddress: Desired<Address>[] = staticAddress
    ? []
    : [{ key: { name: names.address }, body: () => ({ description, ipVersion: 'IPV4', labels: ownershipLabels(clusterName, ref) }) }];
  const addressSteps = capturingAddress(
    synthesize({ kind: globalAddressKind, ctx: call, clusterName, uid: ref.uid, want: wantAddress, have: addresses, plannedState: {} }),
    globalAddressKind,
    call,
    { name: names.address },
  );
  const planned: RunState = {};
  if (staticAddress?.address) planned.ip = staticAddress.address;
  else if (own?.address) planned.ip = own.address;

  // ---- instance groups or NEGs, health checks, backend services, the cluster's firewall rule ----
  const serviceName = new Map(spec.targetSets.map((t) => [t.name, names.backendService(t.name, t.backend.namespace, t.backend.service, t.backend.port)]));
  const serviceLink = (targetSet: string): string => link.global('backendServices', serviceName.get(targetSet) ?? '');
  const configProblems = Object.values(o.backendConfigs ?? {}).flatMap(backendConfigProblems);
  if (configProblems.length > 0) throw invalid(configProblems.join('; '));
  const be = await l7Backends(
    pc,
    {
      uid: ref.uid,
      targetSets: spec.targetSets,
      negs,
      description,
      scheme: 'EXTERNAL',
      serviceName: (t) => serviceName.get(t.name) ?? '',
      config: (t) => o.backendConfigs?.[backendConfigKey(t.backend.namespace, t.backend.service, t.backend.port)],
      firewall: l7FirewallKey(pc),
    },
    { groups, backends, firewall: firewalls.find((f) => f.key.name === l7FirewallKey(pc).name) },
  );

  // ---- certificates, URL map, proxies, forwarding rules -------------------------------------
  const wantCerts: Desired<SslCertificate>[] = [
    ...secretCerts.map((c) => ({
      key: { name: names.sslCertificate(c.certPem) },
      body: (): SslCertificate => ({ description, certificate: c.certPem, privateKey: c.keyPem }),
    })),
    ...managed.map((m) => ({ key: { name: m.name }, body: () => managedCertificateBody(m.cert, description) })),
  ];
  // Requests no rule matches go to the Ingress's defaultBackend, else to the cluster's
  // default backend (the builder resolves kube-system/default-http-backend as one) or the
  // configured backend service, which answer 404: never to an application an Ingress
  // rule names (ingress-gce pkg/loadbalancers url map: the default service is the
  // default backend's).
  const defaultService =
    spec.defaultBackend !== undefined
      ? serviceLink(spec.defaultBackend)
      : options.defaultBackendService !== undefined
        ? link.global('backendServices', options.defaultBackendService)
        : undefined;
  if (defaultService === undefined) {
    throw invalid('the Ingress has no defaultBackend and there is no system default backend to answer unmatched requests with 404 (the defaultBackend or defaultBackendService option)');
  }
  const urlMap = buildUrlMap(spec, description, defaultService, serviceLink);
  const urlMapLink = link.global('urlMaps', names.urlMap);
  const wantUrlMap: Desired<UrlMap>[] = [
    { key: { name: names.urlMap }, body: () => urlMap },
    ...(redirect ? [{ key: { name: names.redirectUrlMap }, body: () => redirect }] : []),
  ];
  const httpMapLink = redirect ? redirectLink : urlMapLink;
  const wantHttpProxy: Desired<TargetHttpProxy>[] = wantHttp ? [{ key: { name: names.httpProxy }, body: () => ({ description, urlMap: httpMapLink }) }] : [];
  const wantHttpsProxy: Desired<TargetHttpsProxy>[] = wantHttps
    ? [
        {
          key: { name: names.httpsProxy },
          body: () => ({ description, urlMap: urlMapLink, sslCertificates: certLinks, ...(sslPolicy ? { sslPolicy: link.global('sslPolicies', sslPolicy) } : {}) }),
        },
      ]
    : [];
  const rule = (port: number, target: string) => (state: RunState): ForwardingRule => ({
    description,
    ...(state.ip !== undefined ? { IPAddress: state.ip } : {}),
    IPProtocol: 'TCP',
    portRange: `${port}-${port}`,
    target,
    loadBalancingScheme: 'EXTERNAL',
    labels: ownershipLabels(clusterName, ref),
  });
  const wantRules: Desired<ForwardingRule>[] = [
    ...(wantHttp ? [{ key: { name: names.httpForwardingRule }, body: rule(80, link.global('targetHttpProxies', names.httpProxy)) }] : []),
    ...(wantHttps ? [{ key: { name: names.httpsForwardingRule }, body: rule(443, link.global('targetHttpsProxies', names.httpsProxy)) }] : []),
  ];

  const common = { ctx: call, clusterName, uid: ref.uid, plannedState: planned };
  const steps: Step[] = [
    ...addressSteps,
    // The per-LB rule of lbc before the cluster's one: it goes once the cluster's lets the ports in.
    ...synthesize({ ...common, kind: fwKind, want: [], have: firewalls.filter((f) => f.key.name === names.legacyFirewall) }),
    ...be.steps,
    ...synthesize({ ...common, kind: sslCertificateKind, want: wantCerts, have: certs }),
    ...synthesize({ ...common, kind: urlMapKind, want: wantUrlMap, have: [...urlMaps, ...redirectMaps] }),
    ...synthesize({ ...common, kind: targetHttpProxyKind, want: wantHttpProxy, have: httpProxies }),
    ...synthesize({ ...common, kind: targetHttpsProxyKind, want: wantHttpsProxy, have: httpsProxies }),
    ...synthesize({ ...common, kind: globalForwardingRuleKind, want: wantRules, have: forwardingRules, leftovers: 'teardown' }),
  ];
  return {
    steps,
    planned,
    status: (state) => ({ ingress: state.ip !== undefined ? [{ ip: state.ip, ipMode: 'Proxy' }] : [], ...(be.backendGroups.length > 0 ? { backendGroups: be.backendGroups } : {}) }),
    // The certificates as they were listed, or read once created: the controller writes their state to each ManagedCertificate.
    ...(managed.length > 0
      ? {
          report: async () => ({
            managedCertificates: (
              await Promise.all(
                managed.map(async (m) => {
                  const cert = certs.find((c) => c.key.name === m.name)?.resource ?? (await sslCertificateKind.get(call, { name: m.name }));
                  return cert ? [managedCertificateState(m.cert, m.name, cert)] : [];
                }),
              )
            ).flat(),
          }),
        }
      : {}),
  };
}

/** The zonal NEGs of each ip target set, by target set name. */
export function l7Negs(pc: PlanContext, targetSets: readonly TargetSet[]): Map<string, DesiredNeg[]> {
  const { options } = pc;
  const negOpts = {
    clusterName: pc.clusterName,
    clusterUid: pc.identity.clusterId,
    network: networkUrl(options),
    subnetwork: options.subnetwork !== undefined ? subnetworkUrl(options, options.subnetwork) : undefined,
    region: options.region,
  };
  return new Map(targetSets.filter((t): t is IpTargetSet => t.type === 'ip').map((t) => [t.name, desiredNegs(t, negOpts)]));
}

/** What the backends of an L7 load balancer (an Ingress's or a Gateway's) are made of, whatever serves in front of them. */
export interface L7BackendsInput {
  /** The owning object's uid. */
  readonly uid: string;
  readonly targetSets: readonly TargetSet[];
  /** l7Negs of the target sets. */
  readonly negs: ReadonlyMap<string, readonly DesiredNeg[]>;
  readonly description: string;
  /**
   * EXTERNAL for an Ingress's classic load balancer; EXTERNAL_MANAGED for a Gateway's, whose
   * URL map has route rules, or INTERNAL_MANAGED for an internal Gateway's.
   */
  readonly scheme: 'EXTERNAL' | 'EXTERNAL_MANAGED' | 'INTERNAL_MANAGED';
  /** Global (Ingresses, the global Gateway class) or regional backend services and health checks. */
  readonly scope?: L7Scope;
  /**
   * Sources the firewall rule lets in besides Google's health checkers: a regional load
   * balancer's proxy-only subnet, whose Envoy proxies connect to the backends.
   */
  readonly proxySourceRanges?: readonly string[];
  /** The name of a target set's backend service and health check. */
  readonly serviceName: (t: TargetSet) => string;
  /** The BackendConfig of a target set's Service port (Ingresses only). */
  readonly config?: (t: TargetSet) => ResolvedBackendConfig | undefined;
  /** The cluster's firewall rule these load balancers share. */
  readonly firewall: { readonly name: string };
  /** Backend services of the load balancer's own besides the target sets' (a Gateway's fallback). */
  readonly extraServices?: readonly Desired<BackendService>[];
}

/** What planning observed of them, with the rest of its load balancer. */
export interface L7BackendsObserved {
  readonly groups: readonly Observed<InstanceGroup>[];
  readonly backends: Awaited<ReturnType<typeof observeBackends>>;
  readonly firewall: Observed<Firewall> | undefined;
}

/**
 * The steps that build an L7 load balancer's backends: health checks, the cluster's
 * firewall rule with this LB's ports and every sibling's, the cluster's instance groups
 * with the node ports named (or the target sets' NEGs), and one backend service per target set.
 */
export async function l7Backends(pc: PlanContext, input: L7BackendsInput, observed: L7BackendsObserved): Promise<{ steps: Step[]; backendGroups: BackendGroup[] }> {
  const { options, clusterName, call } = pc;
  const { description, negs } = input;
  const { groups, backends } = observed;
  const link = links(options);
  const scope = input.scope ?? 'global';
  const targetSets = input.targetSets.filter((t): t is InstanceTargetSet => t.type === 'instance');
  const wantNegs = [...negs.values()].flat();
  const { have: haveNegs, otherPorts: otherNegPorts } = await observeNegs(call, wantNegs.map((n) => n.key), clusterName, backends.otherNegs);

  // ---- instance groups with the node ports named -----------------------------------------
  const byZone = instancesByZone(targetSets, options.project, options.region);
  const ports = [...new Set(targetSets.map((t) => t.nodePort))].sort((a, b) => a - b);
  const igName = instanceGroupName(pc.identity.clusterId);
  const wantGroups = igDesired(igName, byZone.zones, groups, clusterName, pc.identity.clusterId, ports.map((p) => ({ name: namedPort(p), port: p })));
  const groupLinks = [...byZone.zones.keys()].map((zone) => zonalLink(options.project, zone, 'instanceGroups', igName));

  // ---- backends -------------------------------------------------------------------------
  const wantChecks: Desired<HealthCheck>[] = [];
  const wantServices: Desired<BackendService>[] = [];
  const hcPorts: number[] = [];
  for (const t of input.targetSets) {
    const name = input.serviceName(t);
    const hc = t.healthCheck;
    const config = input.config?.(t);
    // cloud.google.com/app-protocols: the backend service and, as ingress-gce's health
    // checks follow the backend's protocol, an HTTP check become HTTPS or HTTP2.
    const backendProtocol = t.backendProtocol ?? 'HTTP';
    const checkProtocol = hc.protocol === 'HTTP' ? backendProtocol : hc.protocol;
    // As ingress-gce: the backing Pods' HTTP readiness probe path, when the builder found one.
    const defaultCheck = healthCheckBody({
      protocol: checkProtocol,
      port: hc.port !== 'traffic-port' ? hc.port : t.type === 'instance' ? t.nodePort : 'serving',
      ...(hc.protocol !== 'TCP' ? { path: hc.readinessProbePath ?? hc.path } : {}),
      description,
      timing: timingOf(hc),
    });
    // A BackendConfig's healthCheck overrides what the Service implies (GKE's BackendConfig).
    const check = applyHealthCheckConfig(defaultCheck, config);
    const checkPort = (check.httpHealthCheck ?? check.httpsHealthCheck ?? check.http2HealthCheck ?? check.tcpHealthCheck)?.port;
    if (checkPort != null) hcPorts.push(checkPort);
    wantChecks.push({ key: { name }, body: () => check });
    wantServices.push({
      key: { name },
      body: () => ({
        description,
        protocol: backendProtocol,
        loadBalancingScheme: input.scheme,
        ...(t.type === 'instance' ? { portName: namedPort(t.nodePort) } : {}),
        timeoutSec: BACKEND_TIMEOUT_SEC,
        healthChecks: [scopedLink(options, scope, 'healthChecks', name)],
        backends:
          t.type === 'instance'
            ? groupLinks.map((group) => ({ group, balancingMode: 'RATE', maxRatePerInstance: 1, capacityScaler: 1 }))
            : // ingress-gce pkg/backends/neg_linker.go getBackendsForNEGs: RATE, maxRatePerEndpoint maxRPS (1).
              (negs.get(t.name) ?? []).map((n) => ({ group: negLink(options.project, n.key), balancingMode: 'RATE', maxRatePerEndpoint: 1, capacityScaler: 1 })),
        ...(config ? backendServiceFields(config, (policy) => link.global('securityPolicies', policy)) : {}),
      }),
    });
  }

  // ---- the cluster's firewall rule, with this LB's ports and every sibling's ----------------
  // NEG endpoints are pods on the nodes: their ports are opened on the nodes' tags, as
  // ingress-gce's L7 firewall opens the NEGs' target ports.
  const endpointNodes: NodeTarget[] = wantNegs.flatMap((n) => (n.body.endpoints ?? []).map((e) => ({ name: e.instance ?? '', addresses: [], zone: n.key.zone })));
  const endpointPorts = wantNegs.flatMap((n) => (n.body.endpoints ?? []).map((e) => e.port ?? 0)).filter((p) => p > 0);
  const tags = await pc.tags.tagsFor(call, targetSets, endpointNodes);
  const firewallSteps = l7FirewallSteps(pc, {
    key: input.firewall,
    rule: observed.firewall,
    ports: [...new Set([...ports, ...hcPorts, ...endpointPorts, ...backends.otherPorts, ...otherNegPorts])],
    tags,
    ...(input.proxySourceRanges ? { extraSourceRanges: input.proxySourceRanges } : {}),
  });

  // What the controller writes on each NEG Service (cloud.google.com/neg-status).
  const backendGroups: BackendGroup[] = input.targetSets.flatMap((t) => {
    const zonal = t.type === 'ip' ? (negs.get(t.name) ?? []) : [];
    const first = zonal[0];
    return first ? [{ ...t.backend, name: first.key.name, zones: zonal.map((n) => n.key.zone).sort() }] : [];
  });
  const common = { ctx: call, clusterName, uid: input.uid, plannedState: {} };
  const steps: Step[] = [
    ...synthesize({ ...common, kind: scope === 'region' ? regionalHealthCheckKind : globalHealthCheckKind, want: wantChecks, have: backends.checks }),
    ...firewallSteps,
    ...synthesize({ ...common, kind: instanceGroupKind, want: wantGroups, have: groups }),
    ...synthesize({ ...common, kind: negKind, want: wantNegs.map((n) => ({ key: n.key, shared: true, body: (): NetworkEndpointGroup => n.body })), have: haveNegs }),
    ...negCleanup(call, clusterName, backends.services.filter((s) => s.ownership === 'ours').flatMap((s) => negsOf(s.resource.backends)), wantNegs),
    ...synthesize({
      ...common,
      kind: scope === 'region' ? regionalBackendServiceKind : globalBackendServiceKind,
      want: [...wantServices, ...(input.extraServices ?? [])],
      have: backends.services,
    }),
  ];
  return { steps, backendGroups };
}

/**
 * The NEGs this LB's backend services used and no longer want, tried after the services
 * moved on: shared by the cluster, so GCE keeps those another Ingress still uses.
 */
export function negCleanup(call: CallContext, clusterName: string, used: readonly Required<Key>[], want: readonly DesiredNeg[]): Step[] {
  const wanted = new Set(want.map((n) => `${n.key.zone}/${n.key.name}`));
  const gone = used.filter((k, i) => !wanted.has(`${k.zone}/${k.name}`) && used.findIndex((x) => x.zone === k.zone && x.name === k.name) === i);
  if (gone.length === 0) return [];
  return [
    {
      phase: 'cleanup',
      rank: negKind.rank,
      shared: true,
      change: { op: 'delete', resource: negKind.resource, id: gone.map((k) => `${k.zone}/${k.name}`).join(','), detail: 'shared by the cluster: kept while another load balancer uses it' },
      run: () => deleteUnusedNegs(call, gone, clusterName),
    },
  ];
}
