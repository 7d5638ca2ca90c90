// listOwned: every load balancer this cluster's lbc owns, found by the descriptions of
// every resource kind it creates, not only forwarding rules, so that what a crash
// left half-built (an address without its forwarding rule) is found and collected too.
import { refKey, type LbRef } from '../../model/ref.js';
import type { OwnedLoadBalancer } from '../types.js';
import { networkProjectOf, type PlanContext } from './context.js';
import { clusterFilter, ownerRef } from './ownership.js';

interface Listed {
  readonly description?: string | null;
  readonly selfLink?: string | null;
}

export async function listOwned(pc: PlanContext): Promise<OwnedLoadBalancer[]> {
  const { compute, signal } = pc.call;
  const project = compute.project;
  const region = compute.region;
  const filter = clusterFilter(pc.clusterName);
  const fwProject = networkProjectOf(pc.options);
  // Forwarding rules first: their self link is the id reported for the LB.
  const lists: Promise<Listed[]>[] = [
    compute.list('forwardingRules.list', region, signal, (o) => compute.forwardingRules.list({ project, region, filter }, o)),
    compute.list('globalForwardingRules.list', 'global', signal, (o) => compute.globalForwardingRules.list({ project, filter }, o)),
    compute.list('addresses.list', region, signal, (o) => compute.addresses.list({ project, region, filter }, o)),
    compute.list('globalAddresses.list', 'global', signal, (o) => compute.globalAddresses.list({ project, filter }, o)),
    compute.list('regionBackendServices.list', region, signal, (o) => compute.regionBackendServices.list({ project, region, filter }, o)),
    compute.list('backendServices.list', 'global', signal, (o) => compute.backendServices.list({ project, filter }, o)),
    compute.list('regionHealthChecks.list', region, signal, (o) => compute.regionHealthChecks.list({ project, region, filter }, o)),
    compute.list('healthChecks.list', 'global', signal, (o) => compute.healthChecks.list({ project, filter }, o)),
    compute.list('firewalls.list', fwProject, signal, (o) => compute.firewalls.list({ project: fwProject, filter }, o)),
    compute.list('urlMaps.list', 'global', signal, (o) => compute.urlMaps.list({ project, filter }, o)),
    compute.list('targetHttpProxies.list', 'global', signal, (o) => compute.targetHttpProxies.list({ project, filter }, o)),
    compute.list('targetHttpsProxies.list', 'global', signal, (o) => compute.targetHttpsProxies.list({ project, filter }, o)),
    compute.list('sslCertificates.list', 'global', signal, (o) => compute.sslCertificates.list({ project, filter }, o)),
    // A regional Gateway's (gke-l7-rilb, gke-l7-regional-external-managed).
    compute.list('regionUrlMaps.list', region, signal, (o) => compute.regionUrlMaps.list({ project, region, filter }, o)),
    compute.list('regionTargetHttpProxies.list', region, signal, (o) => compute.regionTargetHttpProxies.list({ project, region, filter }, o)),
    compute.list('regionTargetHttpsProxies.list', region, signal, (o) => compute.regionTargetHttpsProxies.list({ project, region, filter }, o)),
    compute.list('regionSslCertificates.list', region, signal, (o) => compute.regionSslCertificates.list({ project, region, filter }, o)),
  ];
  const found = new Map<string, OwnedLoadBalancer>();
  for (const items of await Promise.all(lists)) {
    for (const item of items) {
      const ref: LbRef | undefined = ownerRef(item.description, pc.clusterName);
      if (!ref) continue;
      const key = `${refKey(ref)}|${ref.uid}`;
      if (!found.has(key)) found.set(key, { ref, id: item.selfLink ?? '' });
    }
  }
  return [...found.values()].sort((a, b) => (refKey(a.ref) < refKey(b.ref) ? -1 : 1));
}
