// The one diff behind plan() and ensure(): observe what exists at every name the load
// balancer may use, compare with what the spec asks for, and return the steps in the
// order GCE needs them. plan() reports the steps' Changes; ensure() runs the steps.
// Running the same plan twice is safe: every step re-checks or tolerates what a crashed
// earlier run left (409 adopts only lbc's own resources, 404 on delete is done).
//
// Deletion needs no spec: every name is derived from the object's UID (a Gateway's
// per-port names are found by its name prefix), so planDelete
// looks at all of them, deletes what this object owns, and tries the cluster-shared
// resources (node health check, instance groups), which GCE keeps while in use.
import type { LbRef } from '../../model/ref.js';
import type { LoadBalancerSpec } from '../../model/spec.js';
import { regionalAddressKind, globalAddressKind } from './address.js';
import { DEFAULT_GCE_OPTIONS, type GceLbOptions } from './annotations.js';
import { globalBackendServiceKind, regionalBackendServiceKind } from './backend-service.js';
import { networkProjectOf, type PlanContext } from './context.js';
import { GceError } from './errors.js';
import { firewallKind } from './firewall.js';
import { planGateway, planGatewayDelete } from './gateway-l7.js';
import { globalForwardingRuleKind, regionalForwardingRuleKind } from './forwarding-rule.js';
import { globalHealthCheckKind, regionalHealthCheckKind } from './health-check.js';
import { deleteUnusedInstanceGroups, observeInstanceGroups } from './instance-group.js';
import { observe, orderSteps, synthesize, type RunState, type Step } from './kind.js';
import { l4Candidates, l4NegNameOf, planL4, sharedHealthCheckCleanup, type LbPlan } from './l4.js';
import { backendPrefix, l7Candidates, l7NamesFor, negCleanup, observeBackends, planL7 } from './l7.js';
import { l7FirewallKey, l7FirewallSteps } from './l7-firewall.js';
import { negsOf, observeNegs, observeNegsNamed, vmIpNegKind } from './neg.js';
import { instanceGroupName, l4Names } from './names.js';
import { sslCertificateKind, observeSslCertificates } from './ssl-certificate.js';
import { targetHttpProxyKind, targetHttpsProxyKind } from './target-proxy.js';
import { urlMapKind } from './url-map.js';

export type { LbPlan } from './l4.js';

/** The spec's options with defaults for anything a hand-made spec left out. */
export function optionsOf(spec: LoadBalancerSpec<Partial<GceLbOptions>>): GceLbOptions {
  return { ...DEFAULT_GCE_OPTIONS, ...spec.providerOptions };
}

export async function planEnsure(pc: PlanContext, spec: LoadBalancerSpec<Partial<GceLbOptions>>): Promise<LbPlan> {
  if (spec.clusterName !== pc.clusterName) {
    throw new GceError('invalid', `spec is for cluster ${spec.clusterName}, this provider serves ${pc.clusterName}`, { provider: pc.call.provider });
  }
  const o = optionsOf(spec);
  const plan =
    spec.layer === 'L4'
      ? await planL4(pc, spec as LoadBalancerSpec<GceLbOptions> & { layer: 'L4' }, o)
      : spec.layer === 'L7'
        ? await planL7(pc, spec as LoadBalancerSpec<GceLbOptions> & { layer: 'L7' }, o)
        : await planGateway(pc, spec as LoadBalancerSpec<GceLbOptions> & { layer: 'Gateway' });
  return { ...plan, steps: orderSteps(plan.steps) };
}

/** Everything the object owns, deleted dependents first; then the shared resources it may have been the last user of. */
export async function planDelete(pc: PlanContext, ref: LbRef): Promise<LbPlan> {
  const { call, clusterName, options } = pc;
  const common = { ctx: call, clusterName, uid: ref.uid, plannedState: {} as RunState, want: [] };
  const fwKind = firewallKind(networkProjectOf(options));
  const steps: Step[] = [];
  if (ref.kind === 'Service') {
    const names = l4Names(ref.uid, pc.identity.clusterId);
    const cand = l4Candidates(names);
    const [addresses, rules, services, checks, firewalls, groups] = await Promise.all([
      observe(regionalAddressKind, call, cand.addresses, clusterName, ref.uid),
      observe(regionalForwardingRuleKind, call, cand.forwardingRules, clusterName, ref.uid),
      observe(regionalBackendServiceKind, call, cand.backendServices, clusterName, ref.uid),
      observe(regionalHealthCheckKind, call, cand.healthChecks, clusterName, ref.uid),
      observe(fwKind, call, cand.firewalls, clusterName, ref.uid),
      observeInstanceGroups(call, names.instanceGroup, clusterName, { members: false }),
    ]);
    // ILB subsetting's NEGs: where the option is on (a crash may have left NEGs no backend
    // service names yet), or a backend service still names some (it was on).
    const namesNegs = services.some((s) => s.ownership === 'ours' && negsOf(s.resource.backends).length > 0);
    const negs = options.ilbSubsetting || namesNegs ? await observeNegsNamed(call, l4NegNameOf(pc, ref), clusterName, ref.uid, { endpoints: false }) : [];
    steps.push(
      ...synthesize({ ...common, kind: regionalAddressKind, have: addresses }),
      ...synthesize({ ...common, kind: regionalForwardingRuleKind, have: rules }),
      ...synthesize({ ...common, kind: regionalBackendServiceKind, have: services }),
      ...synthesize({ ...common, kind: vmIpNegKind, have: negs }),
      ...synthesize({ ...common, kind: regionalHealthCheckKind, have: checks }),
      ...synthesize({ ...common, kind: fwKind, have: firewalls }),
      ...sharedHealthCheckCleanup(pc, names, checks, firewalls),
    );
    if (groups.some((g) => g.ownership === 'shared')) steps.push(groupCleanup(pc, groups));
  } else if (ref.kind === 'Gateway') {
    const [gateway, groups] = await Promise.all([
      planGatewayDelete(pc, ref),
      observeInstanceGroups(call, instanceGroupName(pc.identity.clusterId), clusterName, { members: false }),
    ]);
    steps.push(...gateway);
    if (groups.some((g) => g.ownership === 'shared')) steps.push(groupCleanup(pc, groups));
  } else {
    const names = l7NamesFor(pc, ref);
    const cand = l7Candidates(names);
    const [addresses, rules, httpProxies, httpsProxies, urlMaps, firewalls, certs, backends, groups] = await Promise.all([
      observe(globalAddressKind, call, cand.address, clusterName, ref.uid),
      observe(globalForwardingRuleKind, call, cand.forwardingRules, clusterName, ref.uid),
      observe(targetHttpProxyKind, call, cand.httpProxy, clusterName, ref.uid),
      observe(targetHttpsProxyKind, call, cand.httpsProxy, clusterName, ref.uid),
      observe(urlMapKind, call, cand.urlMap, clusterName, ref.uid),
      observe(fwKind, call, [...cand.legacyFirewall, l7FirewallKey(pc)], clusterName, ref.uid),
      observeSslCertificates(call, names.sslCertificatePrefix, clusterName, ref.uid),
      observeBackends(call, backendPrefix(names), clusterName, ref.uid),
      observeInstanceGroups(call, instanceGroupName(pc.identity.clusterId), clusterName, { members: false }),
    ]);
    // The pods' ports of the other Ingresses' NEGs: no call when none is on NEGs.
    const { otherPorts: otherNegPorts } = await observeNegs(call, [], clusterName, backends.otherNegs);
    steps.push(
      ...synthesize({ ...common, kind: globalAddressKind, have: addresses }),
      ...synthesize({ ...common, kind: globalForwardingRuleKind, have: rules }),
      ...synthesize({ ...common, kind: targetHttpProxyKind, have: httpProxies }),
      ...synthesize({ ...common, kind: targetHttpsProxyKind, have: httpsProxies }),
      ...synthesize({ ...common, kind: urlMapKind, have: urlMaps }),
      ...synthesize({ ...common, kind: fwKind, have: firewalls.filter((f) => f.key.name === names.legacyFirewall) }),
      // The cluster's rule keeps the ports of lbc's other Ingresses, and goes with the last.
      ...l7FirewallSteps(pc, { rule: firewalls.find((f) => f.key.name === l7FirewallKey(pc).name), ports: [...new Set([...backends.otherPorts, ...otherNegPorts])], tags: options.nodeTags, deleting: true }),
      ...synthesize({ ...common, kind: sslCertificateKind, have: certs }),
      ...synthesize({ ...common, kind: globalBackendServiceKind, have: backends.services }),
      ...synthesize({ ...common, kind: globalHealthCheckKind, have: backends.checks }),
      ...negCleanup(call, clusterName, backends.services.filter((s) => s.ownership === 'ours').flatMap((s) => negsOf(s.resource.backends)), []),
    );
    if (groups.some((g) => g.ownership === 'shared')) steps.push(groupCleanup(pc, groups));
  }
  return { steps: orderSteps(steps), planned: {}, status: () => ({ ingress: [] }) };
}

function groupCleanup(pc: PlanContext, groups: Awaited<ReturnType<typeof observeInstanceGroups>>): Step {
  return {
    phase: 'cleanup',
    rank: 40,
    shared: true,
    change: {
      op: 'delete',
      resource: 'InstanceGroup',
      id: groups.map((g) => `${g.key.zone ?? ''}/${g.key.name}`).join(','),
      detail: 'shared by the cluster: kept while another load balancer uses it',
    },
    run: async () => {
      await deleteUnusedInstanceGroups(pc.call, groups);
    },
  };
}
