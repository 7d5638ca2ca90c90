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
import type { HealthCheck as SpecHealthCheck, L4Protocol, L4Spec } from '../../model/spec.js';
import type { LoadBalancerStatus } from '../../model/status.js';
import { regionalAddressByIp, regionalAddressKind, type Address } from './address.js';
import type { GceLbOptions, HealthCheckTimingField } from './annotations.js';
import { regionalBackendServiceKind, type BackendService } from './backend-service.js';
import { links, networkProjectOf, networkUrl, subnetworkUrl, type PlanContext } from './context.js';
import { GceError } from './errors.js';
import { firewallKind, L4_HEALTH_CHECK_RANGES, portRanges, type Firewall } from './firewall.js';
import { regionalForwardingRuleKind, type ForwardingRule } from './forwarding-rule.js';
import { healthCheckBody, L4_SHARED_TIMING, NODE_HEALTH_CHECK_PATH, NODE_HEALTH_CHECK_PORT, regionalHealthCheckKind, timingOf, type HealthCheck } from './health-check.js';
import { instanceGroupKind, observeInstanceGroups, type InstanceGroup } from './instance-group.js';
import { capturingAddress, observe, synthesize, type Desired, type Key, type Observed, type RunState, type Step } from './kind.js';
import { sameLink, zonalLink } from './links.js';
import { l4Names, type L4Names } from './names.js';
import { instanceLink, instancesByZone } from './nodes.js';
import { ownedDescription, ownershipLabels, ownershipOf, sharedDescription } from './ownership.js';

/** Internal forwarding rules take at most five ports; beyond that, all ports (maxL4ILBPorts). */
export const MAX_L4_PORTS = 5;

export interface LbPlan {
  readonly steps: Step[];
  /** What planning knows of run-time values; ensure starts from it. */
  readonly planned: RunState;
  status(state: RunState): LoadBalancerStatus;
}

/** Every name an L4 LB may have used, whichever scheme, protocol or traffic policy it had. */
export function l4Candidates(names: L4Names) {
  return {
    addresses: [{ name: names.lb }],
    forwardingRules: [{ name: names.lb }, { name: names.secondary }],
    backendServices: [{ name: names.lb }, { name: names.secondary }],
    healthChecks: [{ name: names.lb }, { name: names.nodeHealthCheck }],
    firewalls: [
      { name: names.firewall },
      { name: names.healthCheckFirewall('External', false) },
      { name: names.healthCheckFirewall('Internal', false) },
      { name: names.healthCheckFirewall('External', true) },
      { name: names.healthCheckFirewall('Internal', true) },
    ],
  } satisfies Record<string, Key[]>;
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
  const requested = spec.requestedAddresses[0];
  if (spec.requestedAddresses.length > 1) throw invalid(pc, 'GCE load balancers take one requested address');
  if (requested !== undefined && requested.includes(':')) throw invalid(pc, `requested address ${requested}: IPv6 is not supported by this provider`);

  const cand = l4Candidates(names);
  const fwKind = firewallKind(networkProjectOf(options));
  const [addresses, forwardingRules, backendServices, healthChecks, firewalls, groups, reserved] = await Promise.all([
    observe(regionalAddressKind, call, cand.addresses, clusterName, ref.uid),
    observe(regionalForwardingRuleKind, call, cand.forwardingRules, clusterName, ref.uid),
    observe(regionalBackendServiceKind, call, cand.backendServices, clusterName, ref.uid),
    observe(regionalHealthCheckKind, call, cand.healthChecks, clusterName, ref.uid),
    observe(fwKind, call, cand.firewalls, clusterName, ref.uid),
    observeInstanceGroups(call, names.instanceGroup, clusterName),
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
  const wantAddress: Desired<Address>[] = userOwned ? [] : [{ key: { name: names.lb }, body: () => addressBody }];
  const addressSteps = capturingAddress(
    synthesize({ kind: regionalAddressKind, ctx: call, clusterName, uid: ref.uid, want: wantAddress, have: addresses, plannedState: {} }),
    regionalAddressKind,
    call,
    { name: names.lb },
  );
  const addressChanges = addressSteps.some((s) => s.phase !== 'cleanup');
  const planned: RunState = {};
  if (userOwned) planned.ip = requested;
  else if (own && !addressChanges) planned.ip = own.address ?? undefined;
  else if (keepIp !== undefined) planned.ip = keepIp;

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

  // ---- firewalls ------------------------------------------------------------------------
  const tags = await pc.tags.tagsFor(call, spec.targetSets);
  const network = networkUrl(options);
  const allowed = protocols.map((p) => ({
    IPProtocol: p.toLowerCase(),
    ports: portRanges(spec.listeners.filter((l) => l.protocol === p).map((l) => l.port)),
  }));
  const trafficFirewall = (state: RunState): Firewall => ({
    description: ownedDescription(clusterName, ref, { 'kubernetes.io/service-ip': state.ip ?? '' }),
    network,
    sourceRanges: spec.sourceRanges.length > 0 ? [...spec.sourceRanges] : ['0.0.0.0/0'],
    ...(state.ip !== undefined ? { destinationRanges: [state.ip] } : {}),
    targetTags: tags,
    allowed,
  });
  const hcFirewallName = names.healthCheckFirewall(o.scheme, sharedHc);
  const hcFirewall: Firewall = {
    description: sharedHc ? sharedDescription(clusterName, pc.identity.clusterId) : ownedDescription(clusterName, ref),
    network,
    sourceRanges: [...L4_HEALTH_CHECK_RANGES],
    targetTags: tags,
    allowed: [{ IPProtocol: 'tcp', ports: [String(hcPort)] }],
  };
  const wantFirewalls: Desired<Firewall>[] = [
    { key: { name: names.firewall }, body: trafficFirewall, acceptForeign: true },
    { key: { name: hcFirewallName }, body: () => hcFirewall, shared: sharedHc, acceptForeign: true },
  ];

  // ---- backend services and forwarding rules ---------------------------------------------
  const wantServices: Desired<BackendService>[] = protocols.map((p) => ({
    key: { name: nameFor(p) },
    body: () => ({
      description: ownedDescription(clusterName, ref),
      protocol: p,
      loadBalancingScheme: internal ? 'INTERNAL' : 'EXTERNAL',
      healthChecks: [hcLink],
      backends: groupLinks.map((group) => ({ group, balancingMode: 'CONNECTION' })),
      sessionAffinity: spec.sessionAffinity.type === 'ClientIP' ? 'CLIENT_IP' : 'NONE',
    }),
  }));
  const wantRules: Desired<ForwardingRule>[] = protocols.map((p) => {
    const ports = spec.listeners.filter((l) => l.protocol === p).map((l) => l.port);
    const portFields: ForwardingRule =
      ports.length <= MAX_L4_PORTS
        ? { ports: [...new Set(ports)].sort((a, b) => a - b).map(String) }
        : internal
          ? { allPorts: true }
          : { portRange: `${Math.min(...ports)}-${Math.max(...ports)}` };
    return {
      key: { name: nameFor(p) },
      body: (state: RunState): ForwardingRule => ({
        description: ownedDescription(clusterName, ref),
        ...(state.ip !== undefined ? { IPAddress: state.ip } : {}),
        IPProtocol: p,
        loadBalancingScheme: internal ? 'INTERNAL' : 'EXTERNAL',
        backendService: link.regional('backendServices', nameFor(p)),
        ...portFields,
        labels: ownershipLabels(clusterName, ref),
        ...(internal ? { network, subnetwork: subnet, allowGlobalAccess: o.allowGlobalAccess } : { networkTier: o.networkTier }),
      }),
    };
  });

  const common = { ctx: call, clusterName, uid: ref.uid, plannedState: planned };
  const steps: Step[] = [
    ...addressSteps,
    ...synthesize({ ...common, kind: regionalHealthCheckKind, want: wantHc, have: healthChecks }),
    ...synthesize({ ...common, kind: fwKind, want: wantFirewalls, have: firewalls }),
    ...synthesize({ ...common, kind: instanceGroupKind, want: wantGroups, have: groups }),
    ...synthesize({ ...common, kind: regionalBackendServiceKind, want: wantServices, have: backendServices }),
    ...synthesize({ ...common, kind: regionalForwardingRuleKind, want: wantRules, have: forwardingRules, leftovers: 'teardown' }),
  ];
  // Leaving the node check behind (Cluster → Local) is upstream's cue to try deleting it.
  const usedShared = backendServices.some((b) => b.ownership === 'ours' && (b.resource.healthChecks ?? []).some((l) => l.endsWith(`/${names.nodeHealthCheck}`)));
  if (!sharedHc && usedShared) steps.push(...sharedHealthCheckCleanup(pc, names, healthChecks, firewalls));

  return {
    steps,
    planned,
    status: (state) => (state.ip !== undefined ? { ingress: [{ ip: state.ip, ipMode: 'VIP' }] } : { ingress: [] }),
  };
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
  const sharedFirewalls = firewalls.filter(
    (f) => f.ownership === 'shared' && (f.key.name === names.healthCheckFirewall('External', true) || f.key.name === names.healthCheckFirewall('Internal', true)),
  );
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
