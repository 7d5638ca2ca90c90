// The proxy-only subnet a regional Application Load Balancer's Envoy proxies take their
// addresses from. GCE requires one (purpose REGIONAL_MANAGED_PROXY, role ACTIVE) in the
// load balancer's region and VPC network before it accepts the forwarding rule ("You must
// create a proxy-only subnet before you create forwarding rules",
// https://cloud.google.com/load-balancing/docs/proxy-only-subnets), and GKE's Gateway
// controller requires it for its regional GatewayClasses
// (https://cloud.google.com/kubernetes-engine/docs/how-to/deploying-gateways, "GKE Gateway
// controller requirements") but never creates it: it is the network administrator's, shared
// by every regional load balancer of the region, so lbc only reads it. Its range is also
// where the proxies connect to the backends from, which the firewall rule must let in
// (https://cloud.google.com/load-balancing/docs/firewall-rules).
import type { protos } from '@google-cloud/compute';
import { networkProjectOf, networkUrl, type PlanContext } from './context.js';
import { GceError } from './errors.js';
import { nameOf, sameLink } from './links.js';

export type Subnetwork = protos.google.cloud.compute.v1.ISubnetwork;

export const PROXY_ONLY_PURPOSE = 'REGIONAL_MANAGED_PROXY';

/** The active proxy-only subnet of the provider's region and network, if there is one. */
export async function activeProxyOnlySubnet(pc: PlanContext): Promise<Subnetwork | undefined> {
  const { compute, signal } = pc.call;
  // On a shared VPC the subnets are the host project's.
  const project = networkProjectOf(pc.options);
  const region = compute.region;
  const subnets = await compute.list('subnetworks.list', `${region} ${PROXY_ONLY_PURPOSE}`, signal, (o) =>
    compute.subnetworks.list({ project, region, filter: `purpose eq ${PROXY_ONLY_PURPOSE}` }, o),
  );
  const network = networkUrl(pc.options);
  return subnets.find((s) => String(s.purpose) === PROXY_ONLY_PURPOSE && String(s.role) === 'ACTIVE' && sameLink(s.network, network));
}

/**
 * Refused before anything is built: GCE would take the address, backends, URL map and
 * proxies, then refuse the forwarding rule. notFound, so the Gateway is tried again and
 * programmed once an administrator has made the subnet.
 */
export function missingProxyOnlySubnet(pc: PlanContext, className: string): GceError {
  const { options } = pc;
  const region = options.region;
  const network = nameOf(networkUrl(options));
  const project = networkProjectOf(options);
  return new GceError(
    'notFound',
    `GatewayClass ${className} builds a regional Application Load Balancer, which needs an active proxy-only subnet (purpose ${PROXY_ONLY_PURPOSE}, role ACTIVE) ` +
      `in region ${region} of network ${network}, and there is none: GCE refuses the forwarding rule without it ` +
      `("An active proxy-only subnetwork is required in the same region and VPC as the forwarding rule"). lbc builds nothing until it exists; ` +
      `a network administrator creates it with: gcloud compute networks subnets create proxy-only-${region} --purpose=${PROXY_ONLY_PURPOSE} --role=ACTIVE ` +
      `--region=${region} --network=${network} --project=${project} --range=<an unused /23 (at least /26)>`,
    { provider: pc.call.provider, reason: 'proxyOnlySubnetMissing' },
  );
}
