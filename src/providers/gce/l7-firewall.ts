// The cluster's one Ingress firewall rule, named and shaped as ingress-gce keeps it
// (pkg/firewalls/firewalls.go Sync, pkg/firewalls/controller.go sync): `k8s-fw-l7--<uid>`,
// from Google's front ends and health checkers (130.211.0.0/22, 35.191.0.0/16) to the
// nodes' tags, on the ports the cluster's Ingress backends use, deleted when the last
// Ingress goes. ingress-gce opens the whole node-port range once any backend is a node
// port, plus each NEG port and BackendConfig health-check port; lbc opens exactly the ports
// of its own L7 load balancers: the one being ensured from its spec, every other one from
// what lbc recorded of it in the cloud (the named port each of its backend services
// addresses, its health checks' ports, and the defaultPort of the NEGs its backend
// services name: their pods' port, which ingress-gce opens as the NEG's target port from
// the Services it lists, pkg/firewalls; neg.ts observeNegs), so no list of Ingresses is
// needed and a crash after any write converges at the next ensure or delete of any of them.
//
// Who made the rule decides what lbc does with it:
// - lbc (its description names lbc's cluster): lbc's alone; set to exactly the union,
//   deleted with lbc's last L7 load balancer.
// - someone else, and the uid is GKE's own (read from kube-system/ingress-uid): it is
//   ingress-gce's rule for GKE's own Ingresses. lbc co-owns it as a guest: it adds the
//   ports, ranges and tags it lacks and never removes anything nor deletes it, since
//   whatever lbc did not add may be what a GKE Ingress needs. The two do not fight:
//   ingress-gce opens the whole node-port range whenever it serves a node-port backend,
//   which covers lbc's node ports, so lbc has nothing to add; where it does not (GKE
//   Ingresses on NEGs only), ingress-gce's next sync sets the rule back to its own view
//   and lbc adds its ports again at its next ensure. lbc's ports stay in the rule after
//   its last load balancer is gone, until ingress-gce next resets it.
// - someone else, and the uid was configured: lbc cannot tell an administrator's rule
//   (a shared VPC, made from the gcloud command lbc printed) from another cluster's, so it
//   is never changed nor deleted; it is used when it lets in what lbc needs, and otherwise
//   the error names what is missing and the command its owner must run.
import type { BackendService } from './backend-service.js';
import { networkProjectOf, networkUrl, type PlanContext } from './context.js';
import { GceError } from './errors.js';
import { FIREWALL_NEEDS_ADMINISTRATOR, firewallKind, firewallShortfall, gcloudCommand, L7_HEALTH_CHECK_RANGES, portRanges, type Firewall } from './firewall.js';
import type { HealthCheck } from './health-check.js';
import { synthesize, type Observed, type Step } from './kind.js';
import { l7FirewallName } from './names.js';
import { sharedDescription } from './ownership.js';

export function l7FirewallKey(pc: PlanContext): { name: string } {
  return { name: l7FirewallName(pc.identity.firewall) };
}

/** The node port a backend service addresses (its named port `port<n>`, namer.NamedPort). */
function namedPortOf(bs: BackendService): number | undefined {
  const m = /^port(\d+)$/.exec(bs.portName ?? '');
  return m ? Number(m[1]) : undefined;
}

function checkPortOf(hc: HealthCheck): number | undefined {
  const port = (hc.httpHealthCheck ?? hc.httpsHealthCheck ?? hc.http2HealthCheck ?? hc.tcpHealthCheck)?.port;
  return port ?? undefined;
}

/** The ports lbc's other L7 load balancers use, from their backend services and health checks. */
export function recordedPorts(services: readonly BackendService[], checks: readonly HealthCheck[]): number[] {
  return [...services.map(namedPortOf), ...checks.map(checkPortOf)].filter((p): p is number => p !== undefined);
}

export interface L7FirewallInput {
  /** The rule's name: the cluster's Ingresses' (l7FirewallKey) unless given. */
  readonly key?: { readonly name: string };
  /** What exists under the cluster rule's name. */
  readonly rule: Observed<Firewall> | undefined;
  /** Every port of lbc's L7 load balancers that stay; none when the last one goes. */
  readonly ports: readonly number[];
  /** The nodes' tags; undefined on deletion, which keeps the rule's own. */
  readonly tags: readonly string[] | undefined;
  /**
   * A load balancer is being deleted: only lbc's own rule is touched (its ports taken out).
   * Someone else's is none of a deletion's business, and must not hold it up.
   */
  readonly deleting?: boolean;
  /**
   * Sources besides Google's health checkers (L7_HEALTH_CHECK_RANGES): a regional load
   * balancer's proxy-only subnet, from which its Envoy proxies reach the backends
   * (https://cloud.google.com/load-balancing/docs/firewall-rules). On deletion, the rule's own.
   */
  readonly extraSourceRanges?: readonly string[];
}

export function l7FirewallSteps(pc: PlanContext, input: L7FirewallInput): Step[] {
  const { rule, ports } = input;
  const key = input.key ?? l7FirewallKey(pc);
  const fwKind = firewallKind(networkProjectOf(pc.options));
  const common = { kind: fwKind, ctx: pc.call, clusterName: pc.clusterName, uid: '', plannedState: {} };
  if (ports.length === 0) {
    // lbc's last L7 load balancer is gone. GCE has no reference to refuse on: it goes now.
    if (rule?.ownership !== 'shared') return [];
    return [{ phase: 'cleanup', rank: fwKind.rank, shared: true, change: { op: 'delete', resource: fwKind.resource, id: key.name }, run: () => fwKind.remove(pc.call, key) }];
  }
  if (input.deleting && rule?.ownership !== 'shared') return [];
  const tags = input.tags ?? rule?.resource.targetTags ?? undefined;
  if (tags === undefined || tags.length === 0) return [];
  const body: Firewall = {
    description: sharedDescription(pc.clusterName, pc.identity.clusterId),
    network: networkUrl(pc.options),
    sourceRanges: [...new Set([...L7_HEALTH_CHECK_RANGES, ...(input.extraSourceRanges ?? [])])],
    targetTags: [...tags],
    allowed: [{ IPProtocol: 'tcp', ports: portRanges(ports) }],
  };
  if (rule?.ownership === 'foreign' && !pc.identity.gke) {
    const short = firewallShortfall(body, rule.resource);
    if (short.length === 0) return [];
    const project = networkProjectOf(pc.options);
    // What lbc would write as a guest: the rule as it is, with what it lacks added.
    const update = gcloudCommand('update', key.name, project, fwKind.asGuest?.(body, rule.resource) ?? body);
    const message = `firewall rule ${key.name} is not lbc's (the clusterId is configured, so it may be an administrator's or another cluster's) and lacks ${short.join('; ')}; lbc will not change it: its owner must run: ${update}`;
    return [
      {
        phase: 'build',
        rank: fwKind.rank,
        shared: true,
        change: { op: 'update', resource: fwKind.resource, id: key.name, fields: ['allowed'], detail: `not lbc's: lacks ${short.join('; ')}` },
        run: () => Promise.reject(new GceError('forbidden', message, { provider: pc.call.provider, reason: FIREWALL_NEEDS_ADMINISTRATOR, status: 403 })),
      },
    ];
  }
  // useForeign: ingress-gce's own rule (found now, or made by it between this look and the insert).
  return synthesize({ ...common, want: [{ key, shared: true, useForeign: pc.identity.gke, body: () => body }], have: rule ? [rule] : [] });
}
