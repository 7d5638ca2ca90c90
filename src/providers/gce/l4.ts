// Services → passthrough load balancers, external or internal. Both are backend-service
// based: forwarding rule(s) → regional backend service → the cluster's instance groups,
// with a regional health check and two firewall rules. (The GCE cloud provider's
// external LB used a target pool, whose healthChecks take only legacy HttpHealthChecks;
// @google-cloud/compute 6.x ships TargetPoolsClient but no HttpHealthChecksClient, and
// its v1 protos have no HttpHealthCheck message, so lbc could not give a target pool a
// health check without hand-made HTTP. It builds the external LB the way GKE's newer
// controller does instead, with the same names where upstream has them.)
//
// One forwarding rule and backend service per protocol: a TCP+UDP Service gets
// `a<uid>` for TCP and `a<uid>-udp` for UDP, both on the same reserved address.
//
// IPv6 (spec.ipFamilies) is built as GKE's L4 controllers build it (ingress-gce
// pkg/loadbalancers/l4ipv6.go, l4netlbipv6.go, forwarding_rules_ipv6.go): a second
// forwarding rule `<name>-ipv6` with ipVersion IPV6 on the same backend service, whose
// address GCE takes from the subnet's internal or external IPv6 range, and IPv6 firewall
// rules of their own (a GCE firewall rule holds one family). A dual-stack Service reports
// both addresses, in the order of its ipFamilies.
//
// With the provider option ilbSubsetting (GKE's --enable-l4-ilb-subsetting), an internal
// LB's backend service sends to GCE_VM_IP NEGs of its own, one per zone, holding the subset
// of nodes GKE's L4 ILB controller would pick (ilb-subset.ts), instead of the cluster's
// instance groups, which it leaves alone; as upstream, its backends balance by CONNECTION
// (ingress-gce pkg/backends/neg_linker.go getBackendsForNEGs: GCE_VM_IP NEGs get CONNECTION).
import type { HealthCheck as SpecHealthCheck, L4Protocol, L4Spec } from '../../model/spec.js';
import { normalizeIp } from '../../model/ip.js';
import type { LoadBalancerStatus } from '../../model/status.js';
import { regionalAddressByIp, regionalAddressKind, type Address } from './address.js';
import type { GceLbOptions, HealthCheckTimingField } from './annotations.js';
import { regionalBackendServiceKind, type BackendService } from './backend-service.js';
import { links, networkProjectOf, networkUrl, subnetworkUrl, type PlanContext } from './context.js';
import { GceError } from './errors.js';
import { firewallKind, L4_HEALTH_CHECK_RANGES, L4_IPV6_HEALTH_CHECK_RANGES, portRanges, type Firewall } from './firewall.js';
import { regionalForwardingRuleKind, ruleAddress, type ForwardingRule } from './forwarding-rule.js';
import { healthCheckBody, L4_SHARED_TIMING, NODE_HEALTH_CHECK_PATH, NODE_HEALTH_CHECK_PORT, regionalHealthCheckKind, timingOf, type HealthCheck } from './health-check.js';
import { instanceGroupKind, observeInstanceGroups, type InstanceGroup } from './instance-group.js';
import type { NetworkEndpointGroup } from './neg.js';
import { capturingAddress, observe, synthesize, type Desired, type Key, type Observed, type RunState, type Step } from './kind.js';
import { nameOf, sameLink, zonalLink } from './links.js';
import { ILB_SUBSET_CLUSTER, ILB_SUBSET_LOCAL, subsetPerZone } from './ilb-subset.js';
import { ipv6Name, l4Names, l4NegName, type L4Names } from './names.js';
import { negLink, negsOf, observeNegsNamed, vmIpNeg, vmIpNegKind } from './neg.js';
import { instanceLink, instancesByZone } from './nodes.js';
import { ownedDescription, ownershipLabels, ownershipOf, sharedDescription } from './ownership.js';

/** Internal forwarding rules take at most five ports; beyond that, all ports (maxL4ILBPorts). */
export const MAX_L4_PORTS = 5;

export interface LbPlan {
  readonly steps: Step[];
  /** What planning knows of run-time values; ensure starts from it. */
  readonly planned: RunState;
  status(state: RunState): LoadBalancerStatus;
  /** After the steps ran: what the status says besides the addresses, read from the cloud (managed certificates' states). */
  report?(): Promise<Pick<LoadBalancerStatus, 'managedCertificates'>>;
}

/** Every name an L4 LB may have used, whichever scheme, protocol or traffic policy it had. */
export function l4Candidates(names: L4Names) {
  return {
    addresses: [{ name: names.lb }],
    forwardingRules: [{ name: names.lb }, { name: names.secondary }, { name: ipv6Name(names.lb) }],
    backendServices: [{ name: names.lb }, { name: names.secondary }],
    healthChecks: [{ name: names.lb }, { name: names.nodeHealthCheck }],
    firewalls: [names.firewall, ...hcFirewallNames(names)].flatMap((name) => [{ name }, { name: ipv6Name(name) }]),
  } satisfies Record<string, Key[]>;
}

function hcFirewallNames(names: L4Names): string[] {
  return (['External', 'Internal'] as const).flatMap((scheme) => [names.healthCheckFirewall(scheme, false), names.healthCheckFirewall(scheme, true)]);
}

function invalid(pc: PlanContext, message: string): GceError {
  return new GceError('invalid', message, { provider: pc.call.provider });
}

function protocolsOf(spec: L4Spec): L4Protocol[] {
  const set = new Set(spec.listeners.map((l) => l.protocol));
  return (['TCP', 'UDP'] as const).filter((p) => set.has(p));
}

export async function planL4(pc: PlanContext, spec: L4Spec<GceLbOptions>, o: GceLbOptions): Promise<LbPlan> {
  const { options, clusterName, call } = pc;
  const { ref } = spec;
  const names = l4Names(ref.uid, pc.identity.clusterId);
  const link = links(options);
  const internal = o.scheme === 'Internal';
  const protocols = protocolsOf(spec);
  if (protocols.length === 0) throw invalid(pc, 'a load balancer needs at least one TCP or UDP port');
  if (internal && protocols.length > 1) {
    throw invalid(pc, 'an internal load balancer carries one protocol; this Service mixes TCP and UDP');
  }
  if (spec.targetSets.some((t) => t.type !== 'instance')) throw invalid(pc, 'GCE passthrough load balancers send traffic to nodes; ip targets are not supported');
  const primary = protocols[0] ?? 'TCP';
  const nameFor = (p: L4Protocol): string => (p === primary ? names.lb : names.secondary);
  const subnetName = o.subnet ?? options.subnetwork;
  if (internal && subnetName === undefined) {
    throw invalid(pc, 'an internal load balancer needs a subnet: set the provider option subnetwork or the annotation networking.gke.io/internal-load-balancer-subnet');
  }
  const subnet = subnetName !== undefined ? subnetworkUrl(options, subnetName) : undefined;
  const families = spec.ipFamilies.length > 0 ? spec.ipFamilies : (['IPv4'] as const);
  const v4 = families.includes('IPv4');
  const v6 = families.includes('IPv6');
  const requestedOf = (family: 'IPv4' | 'IPv6'): string | undefined => {
    const asked = spec.requestedAddresses.filter((a) => a.includes(':') === (family === 'IPv6'));
    if (asked.length > 1) throw invalid(pc, `GCE load balancers take one requested ${family} address; the Service asks for ${asked.join(', ')}`);
    if (asked[0] !== undefined && !families.includes(family)) throw invalid(pc, `requested address ${asked[0]} is ${family}, but the Service's ipFamilies are ${families.join(', ')}`);
    return asked[0];
  };
  const requested = requestedOf('IPv4');
  const requested6 = requestedOf('IPv6');
  if (v6) {
    if (subnet === undefined) {
      throw invalid(pc, 'an IPv6 load balancer takes its address from a dual-stack subnet: set the provider option subnetwork (or, internal, the annotation networking.gke.io/internal-load-balancer-subnet)');
    }
    if (protocols.length > 1) throw invalid(pc, 'an IPv6 load balancer carries one protocol here; this Service mixes TCP and UDP');
    // As ingress-gce's L4NetLB ensureIPv6ForwardingRule: GCE has no IPv6 in the Standard tier.
    if (!internal && o.networkTier === 'STANDARD') throw invalid(pc, 'IPv6 external load balancers are Premium tier only; this Service asks for the Standard network tier');
  }

  const subsetting = internal && options.ilbSubsetting;
  const cand = l4Candidates(names);
  const fwKind = firewallKind(networkProjectOf(options));
  const negName = l4NegNameOf(pc, ref);
  const [addresses, forwardingRules, backendServices, healthChecks, firewalls, groups, reserved] = await Promise.all([
    observe(regionalAddressKind, call, cand.addresses, clusterName, ref.uid),
    observe(regionalForwardingRuleKind, call, cand.forwardingRules, clusterName, ref.uid),
    observe(regionalBackendServiceKind, call, cand.backendServices, clusterName, ref.uid),
    observe(regionalHealthCheckKind, call, cand.healthChecks, clusterName, ref.uid),
    observe(fwKind, call, cand.firewalls, clusterName, ref.uid),
    // The cluster's groups are no business of a subsetting LB: it neither fills nor empties them.
    subsetting ? Promise.resolve([]) : observeInstanceGroups(call, names.instanceGroup, clusterName),
    requested !== undefined ? regionalAddressByIp(call, requested) : Promise.resolve(undefined),
  ]);

  // ---- the address ----------------------------------------------------------------
  const own = addresses.find((a) => a.key.name === names.lb && a.ownership === 'ours')?.resource;
  const currentRule = forwardingRules.find((f) => f.key.name === names.lb && f.ownership === 'ours')?.resource;
  const userOwned = reserved !== undefined && !(reserved.name === names.lb && own !== undefined) ? reserved : undefined;
  const wantType = internal ? 'INTERNAL' : 'EXTERNAL';
  if (userOwned && ownershipOf(userOwned.description, clusterName, ref.uid) === 'sibling') {
    throw new GceError('conflict', `requested address ${requested ?? ''} is held by another load balancer of this cluster (${userOwned.name ?? ''})`, { provider: call.provider });
  }
  if (userOwned) {
    // The user's reservation is used as it is, so it has to fit.
    if ((userOwned.addressType ?? 'EXTERNAL') !== wantType) {
      throw invalid(pc, `requested address ${requested ?? ''} is reserved as ${userOwned.addressType ?? 'EXTERNAL'} (${userOwned.name ?? ''}); this load balancer is ${wantType}`);
    }
    if (!internal && (userOwned.networkTier ?? 'PREMIUM') !== o.networkTier) {
      throw invalid(pc, `requested address ${requested ?? ''} belongs to the ${userOwned.networkTier ?? 'PREMIUM'} network tier; the Service asks for ${o.networkTier}`);
    }
  } else if (requested !== undefined && !internal && own?.address !== requested && currentRule?.IPAddress !== requested) {
    // As upstream's verifyUserRequestedIP: an external IP can only be used if reserved, or already this LB's.
    throw invalid(pc, `requested address ${requested} is neither a static address reserved in ${options.region} nor this load balancer's current address`);
  }
  // Keep the IP a forwarding rule already has when its address has to be reserved again
  // (upstream's ensureStaticIP promotes it the same way), if it can stay where it is.
  let keepIp: string | undefined = requested;
  if (keepIp === undefined && !own && currentRule?.IPAddress) {
    const fits = internal
      ? String(currentRule.loadBalancingScheme) === 'INTERNAL' && sameLink(currentRule.subnetwork, subnet)
      : String(currentRule.loadBalancingScheme ?? 'EXTERNAL') === 'EXTERNAL' && String(currentRule.networkTier ?? 'PREMIUM') === o.networkTier;
    if (fits) keepIp = currentRule.IPAddress;
  }
  const addressBody: Address = {
    description: ownedDescription(clusterName, ref),
    addressType: wantType,
    labels: ownershipLabels(clusterName, ref),
    ...(internal ? { purpose: 'GCE_ENDPOINT', subnetwork: subnet } : { networkTier: o.networkTier }),
    ...(keepIp !== undefined ? { address: keepIp } : {}),
  };
  const wantAddress: Desired<Address>[] = userOwned || !v4 ? [] : [{ key: { name: names.lb }, body: () => addressBody }];
  const addressSteps = capturingAddress(
    synthesize({ kind: regionalAddressKind, ctx: call, clusterName, uid: ref.uid, want: wantAddress, have: addresses, plannedState: {} }),
    regionalAddressKind,
    call,
    { name: names.lb },
  );
  const addressChanges = addressSteps.some((s) => s.phase !== 'cleanup');
  const planned: RunState = {};
  if (!v4) planned.ip = undefined;
  else if (userOwned) planned.ip = requested;
  else if (own && !addressChanges) planned.ip = own.address ?? undefined;
  else if (keepIp !== undefined) planned.ip = keepIp;

  // NEGs are read when they are wanted or a backend service still names some (subsetting was on).
  const usedNegs = backendServices.some((b) => b.ownership === 'ours' && negsOf(b.resource.backends).length > 0);
  const negs = subsetting || usedNegs ? await observeNegsNamed(call, negName, clusterName, ref.uid) : [];

  // ---- instance groups --------------------------------------------------------------
  const byZone = instancesByZone(spec.targetSets, options.project, options.region);
  const wantGroups = igDesired(names.instanceGroup, byZone.zones, groups, clusterName, pc.identity.clusterId, []);
  const groupLinks = [...byZone.zones.keys()].map((zone) => zonalLink(options.project, zone, 'instanceGroups', names.instanceGroup));

  // ---- health check -------------------------------------------------------------------
  const first = spec.targetSets[0];
  const hc = first?.healthCheck;
  // The builder's default for externalTrafficPolicy Cluster (TCP to the traffic port) means
  // the node check upstream uses; anything else (Local's healthCheckNodePort, or the
  // user's lbc.dev/health-check-*) is the Service's own check.
  const sharedHc = hc === undefined || (hc.protocol === 'TCP' && hc.port === 'traffic-port');
  const hcName = sharedHc ? names.nodeHealthCheck : names.lb;
  const hcPort = sharedHc || hc === undefined ? NODE_HEALTH_CHECK_PORT : hc.port === 'traffic-port' ? (first?.type === 'instance' ? first.nodePort : 0) : hc.port;
  const hcBody: HealthCheck = sharedHc
    ? healthCheckBody({ protocol: 'HTTP', port: NODE_HEALTH_CHECK_PORT, path: NODE_HEALTH_CHECK_PATH, description: sharedDescription(clusterName, pc.identity.clusterId), timing: L4_SHARED_TIMING })
    : healthCheckBody({
        protocol: hc.protocol,
        port: hcPort,
        ...(hc.protocol !== 'TCP' ? { path: hc.path } : {}),
        description: ownedDescription(clusterName, ref),
        timing: l4Timing(hc, o.userHealthCheckTiming ?? []),
      });
  const wantHc: Desired<HealthCheck>[] = [{ key: { name: hcName }, shared: sharedHc, body: () => hcBody }];
  const hcLink = link.regional('healthChecks', hcName);

  // ---- GCE_VM_IP NEGs (ILB subsetting) ----------------------------------------------------
  // A NEG endpoint names its instance without a project: one of another project cannot be one.
  const foreign = subsetting ? [...byZone.zones.values()].flat().find((i) => i.project !== options.project) : undefined;
  if (foreign) throw invalid(pc, `ILB subsetting puts nodes in NEGs of project ${options.project}; node ${foreign.name} is in project ${foreign.project}`);
  const current = new Map(negs.filter((n) => n.ownership === 'ours').map((n) => [n.key.zone ?? '', (n.resource.endpoints ?? []).map((e) => nameOf(e.instance))]));
  const subset = subsetting
    ? subsetPerZone(
        new Map([...byZone.zones].map(([zone, instances]) => [zone, instances.map((i) => i.name)])),
        // Cluster's node check means any node may answer (kube-proxy forwards); Local's, only some.
        sharedHc ? ILB_SUBSET_CLUSTER : ILB_SUBSET_LOCAL,
        `${ref.name}/${ref.namespace}`,
        current,
      )
    : new Map<string, string[]>();
  const negOpts = { description: ownedDescription(clusterName, ref), network: networkUrl(options), subnetwork: subnet };
  const wantNegs: Desired<NetworkEndpointGroup>[] = [...subset].map(([zone, instances]) => ({ key: { name: negName, zone }, body: () => vmIpNeg(negOpts, instances) }));
  const backends = subsetting
    ? [...subset.keys()].sort().map((zone) => ({ group: negLink(options.project, { name: negName, zone }), balancingMode: 'CONNECTION' }))
    : groupLinks.map((group) => ({ group, balancingMode: 'CONNECTION' }));

  // ---- firewalls ------------------------------------------------------------------------
  const tags = await pc.tags.tagsFor(call, spec.targetSets);
  const network = networkUrl(options);
  const allowed = protocols.map((p) => ({
    IPProtocol: p.toLowerCase(),
    ports: portRanges(spec.listeners.filter((l) => l.protocol === p).map((l) => l.port)),
  }));
  // A firewall rule holds one family, so each family's rule takes that family's
  // loadBalancerSourceRanges; when the user listed ranges of the other family only, this
  // family lets nobody in and gets no rule (as upstream's IPv4/IPv6ServiceSourceRanges).
  const sourcesOf = (isV6: boolean, everyone: string): string[] | undefined => {
    if (spec.sourceRanges.length === 0) return [everyone];
    const mine = spec.sourceRanges.filter((r) => r.includes(':') === isV6);
    return mine.length > 0 ? mine : undefined;
  };
  const trafficFirewall = (sourceRanges: string[], ip: (state: RunState) => string | undefined) => (state: RunState): Firewall => ({
    description: ownedDescription(clusterName, ref, { 'kubernetes.io/service-ip': ip(state) ?? '' }),
    network,
    sourceRanges,
    ...(ip(state) !== undefined ? { destinationRanges: [ip(state) ?? ''] } : {}),
    targetTags: tags,
    allowed,
  });
  const hcFirewallName = names.healthCheckFirewall(o.scheme, sharedHc);
  const hcFirewall = (sourceRanges: readonly string[]): Firewall => ({
    description: sharedHc ? sharedDescription(clusterName, pc.identity.clusterId) : ownedDescription(clusterName, ref),
    network,
    sourceRanges: [...sourceRanges],
    targetTags: tags,
    allowed: [{ IPProtocol: 'tcp', ports: [String(hcPort)] }],
  });
  const sources4 = sourcesOf(false, '0.0.0.0/0');
  const sources6 = sourcesOf(true, '::/0');
  const wantFirewalls: Desired<Firewall>[] = [
    ...(v4 && sources4 ? [{ key: { name: names.firewall }, body: trafficFirewall(sources4, (s) => s.ip), acceptForeign: true }] : []),
    ...(v4 ? [{ key: { name: hcFirewallName }, body: () => hcFirewall(L4_HEALTH_CHECK_RANGES), shared: sharedHc, acceptForeign: true }] : []),
    ...(v6 ? [{ key: { name: ipv6Name(hcFirewallName) }, body: () => hcFirewall(L4_IPV6_HEALTH_CHECK_RANGES[o.scheme]), shared: sharedHc, acceptForeign: true }] : []),
  ];
  // The IPv6 traffic rule names the address GCE gives the IPv6 forwarding rule, so it is
  // built after that rule (as upstream's ensureIPv6Resources does), hence a later rank.
  const ipv6TrafficName = ipv6Name(names.firewall);
  const ipv6FwKind = { ...fwKind, rank: regionalForwardingRuleKind.rank + 5 };
  const wantIpv6Firewalls: Desired<Firewall>[] =
    v6 && sources6 ? [{ key: { name: ipv6TrafficName }, body: trafficFirewall(sources6, (s) => s.ip6), acceptForeign: true }] : [];

  // ---- backend services and forwarding rules ---------------------------------------------
  const wantServices: Desired<BackendService>[] = protocols.map((p) => ({
    key: { name: nameFor(p) },
    body: () => ({
      description: ownedDescription(clusterName, ref),
      protocol: p,
      loadBalancingScheme: internal ? 'INTERNAL' : 'EXTERNAL',
      healthChecks: [hcLink],
      backends,
      sessionAffinity: spec.sessionAffinity.type === 'ClientIP' ? 'CLIENT_IP' : 'NONE',
    }),
  }));
  const portFieldsOf = (p: L4Protocol): ForwardingRule => {
    const ports = spec.listeners.filter((l) => l.protocol === p).map((l) => l.port);
    return ports.length <= MAX_L4_PORTS
      ? { ports: [...new Set(ports)].sort((a, b) => a - b).map(String) }
      : internal
        ? { allPorts: true }
        : { portRange: `${Math.min(...ports)}-${Math.max(...ports)}` };
  };
  const wantRules: Desired<ForwardingRule>[] = (v4 ? protocols : []).map((p) => ({
    key: { name: nameFor(p) },
    body: (state: RunState): ForwardingRule => ({
      description: ownedDescription(clusterName, ref),
      ...(state.ip !== undefined ? { IPAddress: state.ip } : {}),
      IPProtocol: p,
      loadBalancingScheme: internal ? 'INTERNAL' : 'EXTERNAL',
      backendService: link.regional('backendServices', nameFor(p)),
      ...portFieldsOf(p),
      labels: ownershipLabels(clusterName, ref),
      ...(internal ? { network, subnetwork: subnet, allowGlobalAccess: o.allowGlobalAccess } : { networkTier: o.networkTier }),
    }),
  }));
  // GCE picks the IPv6 address from the subnet's range unless the user asked for one; an
  // external IPv6 rule takes it as a /96 (ingress-gce forwarding_rules_ipv6.go prefix96range).
  const ipv6RuleName = ipv6Name(names.lb);
  const ipv6Rule: ForwardingRule = {
    description: ownedDescription(clusterName, ref),
    ...(requested6 !== undefined ? { IPAddress: internal ? requested6 : `${requested6}/96` } : {}),
    IPProtocol: primary,
    loadBalancingScheme: internal ? 'INTERNAL' : 'EXTERNAL',
    backendService: link.regional('backendServices', names.lb),
    ...portFieldsOf(primary),
    ipVersion: 'IPV6',
    labels: ownershipLabels(clusterName, ref),
    ...(internal ? { network, subnetwork: subnet, allowGlobalAccess: o.allowGlobalAccess } : { networkTier: 'PREMIUM', subnetwork: subnet }),
  };
  if (v6) wantRules.push({ key: { name: ipv6RuleName }, body: () => ipv6Rule });
  const haveIpv6Rule = forwardingRules.find((f) => f.key.name === ipv6RuleName && f.ownership === 'ours')?.resource;
  if (v6 && haveIpv6Rule && regionalForwardingRuleKind.diff(ipv6Rule, haveIpv6Rule).replace === undefined) planned.ip6 = ruleAddress(haveIpv6Rule.IPAddress);
  else if (v6 && requested6 !== undefined) planned.ip6 = normalizeIp(requested6) ?? requested6;

  const common = { ctx: call, clusterName, uid: ref.uid, plannedState: planned };
  const steps: Step[] = [
    ...addressSteps,
    ...synthesize({ ...common, kind: regionalHealthCheckKind, want: wantHc, have: healthChecks }),
    ...synthesize({ ...common, kind: fwKind, want: wantFirewalls, have: firewalls.filter((f) => f.key.name !== ipv6TrafficName) }),
    ...synthesize({ ...common, kind: instanceGroupKind, want: subsetting ? [] : wantGroups, have: groups }),
    // A NEG the backend service stops naming goes after it moved on (cleanup, dependents first).
    ...synthesize({ ...common, kind: vmIpNegKind, want: wantNegs, have: negs }),
    ...synthesize({ ...common, kind: regionalBackendServiceKind, want: wantServices, have: backendServices }),
    ...capturingIpv6(
      synthesize({ ...common, kind: regionalForwardingRuleKind, want: wantRules, have: forwardingRules, leftovers: 'teardown' }),
      pc,
      ipv6RuleName,
    ),
    ...synthesize({ ...common, kind: ipv6FwKind, want: wantIpv6Firewalls, have: firewalls.filter((f) => f.key.name === ipv6TrafficName) }),
  ];
  // Leaving the node check behind (Cluster → Local) is upstream's cue to try deleting it.
  const usedShared = backendServices.some((b) => b.ownership === 'ours' && (b.resource.healthChecks ?? []).some((l) => l.endsWith(`/${names.nodeHealthCheck}`)));
  if (!sharedHc && usedShared) steps.push(...sharedHealthCheckCleanup(pc, names, healthChecks, firewalls));

  return {
    steps,
    planned,
    status: (state) => ({
      ingress: families.flatMap((f) => {
        const ip = f === 'IPv4' ? state.ip : state.ip6;
        return ip !== undefined ? [{ ip, ipMode: 'VIP' as const }] : [];
      }),
    }),
  };
}

/** The name of an internal L4 LB's GCE_VM_IP NEGs: GKE's, from the kube-system UID when configured. */
export function l4NegNameOf(pc: PlanContext, ref: { readonly namespace: string; readonly name: string }): string {
  return l4NegName(pc.options.kubeSystemUid ?? pc.identity.clusterId, ref.namespace, ref.name);
}

/** Makes the step that (re)creates the IPv6 forwarding rule record the address GCE gave it. */
function capturingIpv6(steps: readonly Step[], pc: PlanContext, name: string): Step[] {
  return steps.map((s) =>
    s.change.op === 'create' && s.change.id === name
      ? {
          ...s,
          run: async (state: RunState) => {
            await s.run(state);
            const ip = ruleAddress((await regionalForwardingRuleKind.get(pc.call, { name }))?.IPAddress);
            if (ip === undefined) throw new GceError('transient', `ForwardingRule ${name} has no IPv6 address yet`, { provider: pc.call.provider });
            state.ip6 = ip;
          },
        }
      : s,
  );
}

/**
 * A Service's own check (externalTrafficPolicy Local's healthCheckNodePort, or the user's
 * lbc.dev/health-check-*) times as upstream's L4 checks do, 8/1/1/3, shared or not
 * (cloud-provider-gcp gce.go gceHcCheckIntervalSeconds and friends; ingress-gce
 * pkg/healthchecksl4 uses the same for Local), except for the fields the user set.
 */
export function l4Timing(hc: SpecHealthCheck, userSet: readonly HealthCheckTimingField[]): ReturnType<typeof timingOf> {
  const spec = timingOf(hc);
  const pick = (f: HealthCheckTimingField, key: keyof typeof spec) => (userSet.includes(f) ? spec[key] : L4_SHARED_TIMING[key]);
  const timeoutSec = pick('timeout', 'timeoutSec');
  // GCE refuses a timeout longer than the interval; a user's long timeout stretches upstream's interval.
  const checkIntervalSec = userSet.includes('interval') ? spec.checkIntervalSec : Math.max(L4_SHARED_TIMING.checkIntervalSec, timeoutSec);
  return { checkIntervalSec, timeoutSec, healthyThreshold: pick('healthy', 'healthyThreshold'), unhealthyThreshold: pick('unhealthy', 'unhealthyThreshold') };
}

/** The desired groups: every zone with nodes, and emptied groups in zones that have none left. */
export function igDesired(
  name: string,
  zones: ReadonlyMap<string, readonly { project: string; zone: string; name: string }[]>,
  existing: readonly Observed<InstanceGroup>[],
  clusterName: string,
  clusterId: string,
  namedPorts: readonly { name: string; port: number }[],
): Desired<InstanceGroup>[] {
  const description = sharedDescription(clusterName, clusterId);
  // GKE's ingress-gce and L4 controllers make and fill the same k8s-ig--<uid> groups, and
  // one instance may be in only one load-balanced group (ingress-gce pkg/backends/ig_linker.go),
  // so theirs are used as they are: lbc adds its nodes and named ports, and neither removes
  // their members nor deletes their groups (as ingress-gce's ensureInstanceGroupAndPorts
  // carries on with a group another controller created).
  const out: Desired<InstanceGroup>[] = [...zones.entries()].map(([zone, instances]) => ({
    key: { name, zone },
    shared: true,
    useForeign: true,
    body: () => ({ description, namedPorts: [...namedPorts], members: instances.map(instanceLink) }),
  }));
  for (const g of existing) {
    if (g.key.zone !== undefined && !zones.has(g.key.zone) && g.ownership === 'shared') {
      out.push({ key: g.key, shared: true, body: () => ({ description, namedPorts: [], members: [] }) });
    }
  }
  return out;
}

/**
 * Deleting the cluster's node check (and its firewall rules) once this LB no longer
 * uses it. GCE refuses while another backend service uses it, which is the answer
 * wanted: then it stays.
 */
export function sharedHealthCheckCleanup(
  pc: PlanContext,
  names: L4Names,
  healthChecks: readonly Observed<HealthCheck>[],
  firewalls: readonly Observed<Firewall>[],
): Step[] {
  const hc = healthChecks.find((h) => h.key.name === names.nodeHealthCheck && h.ownership === 'shared');
  const sharedNames = (['External', 'Internal'] as const).flatMap((scheme) => [names.healthCheckFirewall(scheme, true), ipv6Name(names.healthCheckFirewall(scheme, true))]);
  const sharedFirewalls = firewalls.filter((f) => f.ownership === 'shared' && sharedNames.includes(f.key.name));
  if (!hc && sharedFirewalls.length === 0) return [];
  const fwKind = firewallKind(networkProjectOf(pc.options));
  return [
    {
      phase: 'cleanup',
      rank: 20,
      shared: true,
      change: { op: 'delete', resource: 'HealthCheck', id: names.nodeHealthCheck, detail: 'shared by the cluster: kept while another load balancer uses it' },
      run: async () => {
        if (hc) {
          try {
            await regionalHealthCheckKind.remove(pc.call, hc.key);
          } catch (e) {
            if (e instanceof GceError && e.kind === 'conflict') return;
            throw e;
          }
        }
        for (const f of sharedFirewalls) await fwKind.remove(pc.call, f.key);
      },
    },
  ];
}
