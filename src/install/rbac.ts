// What lbc's processes may do in the API, and the RBAC objects that grant exactly that.
// test/install/rbac.test.ts holds these tables to the code both ways: it derives the
// (group, resource, verb) set each process uses from its source and from a recorded run,
// so a call the tables miss, or a grant nothing uses, fails the test.
import { DEFAULT_LEADER_ELECTION_ID } from '../config/operations.js';
import type { KubeObject } from './manifests.js';

/** Who makes the calls: the controller Deployment, or the metal speaker DaemonSet. */
export type Component = 'controller' | 'speaker';

export interface Permission {
  readonly apiGroup: string;
  /** `services`, or `services/status` for a subresource. */
  readonly resource: string;
  readonly verbs: readonly string[];
  /** Only these objects (not possible for create and list: the name is not known to RBAC then). */
  readonly resourceNames?: readonly string[];
  /** cluster: a ClusterRole (objects in every namespace); namespace: a Role in lbc's own namespace. */
  readonly scope: 'cluster' | 'namespace';
  /** Which code needs it: for readers of this table, and named when the test finds a grant nothing uses. */
  readonly why: string;
}

export const CONTROLLER_PERMISSIONS: readonly Permission[] = [
  // create/delete: the companion NodePort Services an Ingress gets when its backend has no node port.
  { apiGroup: '', resource: 'services', verbs: ['get', 'list', 'watch', 'create', 'patch', 'delete'], scope: 'cluster', why: 'informer; finalizer patch; re-read on conflict; companion NodePort Services' },
  { apiGroup: '', resource: 'services/status', verbs: ['patch'], scope: 'cluster', why: 'status.loadBalancer and conditions' },
  { apiGroup: '', resource: 'nodes', verbs: ['list', 'watch'], scope: 'cluster', why: 'eligible nodes (instance targets)' },
  // get only: one Pod per Ingress backend, read at reconcile (src/controller/probe-pods.ts); watching all Pods would cost far more.
  { apiGroup: '', resource: 'pods', verbs: ['get'], scope: 'cluster', why: 'the readiness probe an Ingress backend\'s health check follows' },
  // RBAC cannot filter by type: the informers ask only for kubernetes.io/tls Secrets, and
  // for Opaque ones when a provider reads them (AWS auth-idp-oidc's OIDC client); get reads the one a BackendConfig's IAP names.
  { apiGroup: '', resource: 'secrets', verbs: ['list', 'watch'], scope: 'cluster', why: 'Ingress TLS certificates; aws: ALB OIDC clients; gce: IAP OAuth client Secrets BackendConfigs name (all read from the watch)' },
  { apiGroup: '', resource: 'events', verbs: ['create', 'patch'], scope: 'cluster', why: 'Events on Services and Ingresses, aggregated by patching count' },
  { apiGroup: 'networking.k8s.io', resource: 'ingresses', verbs: ['get', 'list', 'watch', 'patch'], scope: 'cluster', why: 'informer; finalizer patch; re-read on conflict' },
  { apiGroup: 'networking.k8s.io', resource: 'ingresses/status', verbs: ['patch'], scope: 'cluster', why: 'status.loadBalancer' },
  { apiGroup: 'networking.k8s.io', resource: 'ingressclasses', verbs: ['list', 'watch'], scope: 'cluster', why: 'which Ingresses are lbc\'s' },
  { apiGroup: 'discovery.k8s.io', resource: 'endpointslices', verbs: ['list', 'watch'], scope: 'cluster', why: 'ip targets' },
  // Only that one (in kube-system): gce names the instance groups it shares with GKE's controllers after its uid.
  { apiGroup: '', resource: 'configmaps', verbs: ['get'], resourceNames: ['ingress-uid'], scope: 'cluster', why: 'gce: GKE\'s cluster uid, as ingress-gce reads it' },
  // Gateway API: listed at start to find which kinds the cluster serves (404 = CRD not installed), then watched.
  { apiGroup: '', resource: 'namespaces', verbs: ['list', 'watch'], scope: 'cluster', why: 'Gateway allowedRoutes Selector; IPAddressPool serviceAllocation.namespaceSelectors; IngressClassParams namespaceSelector' },
  { apiGroup: 'gateway.networking.k8s.io', resource: 'gatewayclasses', verbs: ['list', 'watch', 'patch'], scope: 'cluster', why: 'which Gateways are lbc\'s; the gateway-exists finalizer while Gateways of the class exist' },
  { apiGroup: 'gateway.networking.k8s.io', resource: 'gatewayclasses/status', verbs: ['patch'], scope: 'cluster', why: 'GatewayClass Accepted and supportedFeatures' },
  { apiGroup: 'gateway.networking.k8s.io', resource: 'gateways', verbs: ['get', 'list', 'watch', 'patch'], scope: 'cluster', why: 'informer; finalizer patch; re-read on conflict' },
  { apiGroup: 'gateway.networking.k8s.io', resource: 'gateways/status', verbs: ['patch'], scope: 'cluster', why: 'Gateway and listener conditions, addresses' },
  ...['httproutes', 'grpcroutes', 'tlsroutes', 'tcproutes', 'udproutes'].flatMap((r): Permission[] => [
    { apiGroup: 'gateway.networking.k8s.io', resource: r, verbs: ['list', 'watch'], scope: 'cluster', why: 'routes attached to lbc\'s Gateways' },
    { apiGroup: 'gateway.networking.k8s.io', resource: `${r}/status`, verbs: ['patch'], scope: 'cluster', why: 'route status.parents for lbc\'s Gateways' },
  ]),
  { apiGroup: 'gateway.networking.k8s.io', resource: 'referencegrants', verbs: ['list', 'watch'], scope: 'cluster', why: 'cross-namespace backends and certificates of Gateway routes and listeners' },
  // MetalLB's namespace is not lbc's (metallb-system by default), so these are cluster-wide; the informers list one namespace.
  { apiGroup: 'metallb.io', resource: 'ipaddresspools', verbs: ['list', 'watch'], scope: 'cluster', why: 'metal pools from MetalLB\'s IPAddressPools' },
  { apiGroup: 'metallb.io', resource: 'l2advertisements', verbs: ['list', 'watch'], scope: 'cluster', why: 'which IPAddressPools an L2Advertisement names (Warnings for those that do not exist)' },
  ...['bgppeers', 'bgpadvertisements', 'communities', 'bfdprofiles'].map((r): Permission => ({ apiGroup: 'metallb.io', resource: r, verbs: ['list', 'watch'], scope: 'cluster', why: 'Warning Events on the BGP resources the speakers cannot use' })),
  // GKE's Ingress configuration, read (and ManagedCertificate status written) as GKE's controllers do, where a gce provider is configured and the CRDs are installed.
  { apiGroup: 'cloud.google.com', resource: 'backendconfigs', verbs: ['list', 'watch'], scope: 'cluster', why: 'gce: BackendConfigs named by Ingress backend Services' },
  { apiGroup: 'networking.gke.io', resource: 'frontendconfigs', verbs: ['list', 'watch'], scope: 'cluster', why: 'gce: FrontendConfigs named by Ingresses' },
  { apiGroup: 'networking.gke.io', resource: 'managedcertificates', verbs: ['list', 'watch'], scope: 'cluster', why: 'gce: ManagedCertificates named by Ingresses' },
  { apiGroup: 'networking.gke.io', resource: 'managedcertificates/status', verbs: ['patch'], scope: 'cluster', why: 'gce: the Google-managed certificate\'s state, as GKE writes it' },
  // aws-load-balancer-controller's TargetGroupBindings, where an aws provider is configured and the CRD is installed; patch: the elbv2.k8s.aws/resources finalizer.
  { apiGroup: 'elbv2.k8s.aws', resource: 'targetgroupbindings', verbs: ['list', 'watch', 'patch'], scope: 'cluster', why: 'aws: TargetGroupBinding informer; its finalizer' },
  // aws-load-balancer-controller's Gateway parameters, where a provider reads them (aws) and the CRD is installed.
  { apiGroup: 'gateway.k8s.aws', resource: 'loadbalancerconfigurations', verbs: ['list', 'watch'], scope: 'cluster', why: 'aws: LoadBalancerConfigurations named by Gateways (spec.infrastructure.parametersRef)' },
  { apiGroup: 'gateway.k8s.aws', resource: 'targetgroupconfigurations', verbs: ['list', 'watch'], scope: 'cluster', why: 'aws: TargetGroupConfigurations attached to Gateway backend Services (spec.targetReference)' },
  { apiGroup: 'gateway.k8s.aws', resource: 'listenerruleconfigurations', verbs: ['list', 'watch'], scope: 'cluster', why: 'aws: ListenerRuleConfigurations named by route ExtensionRef filters' },
  { apiGroup: 'elbv2.k8s.aws', resource: 'targetgroupbindings/status', verbs: ['patch'], scope: 'cluster', why: 'aws: TargetGroupBinding status.observedGeneration' },
  // aws-load-balancer-controller's IngressClassParams, read as ALBC reads them, where an aws provider is configured and the CRD is installed.
  { apiGroup: 'elbv2.k8s.aws', resource: 'ingressclassparams', verbs: ['list', 'watch'], scope: 'cluster', why: 'aws: the IngressClassParams an IngressClass names' },
  // The Deployment runs with the default --leader-election-id, so reads and renewals are of that one Lease.
  { apiGroup: 'coordination.k8s.io', resource: 'leases', verbs: ['create'], scope: 'namespace', why: 'leader election: the first replica creates the Lease' },
  { apiGroup: 'coordination.k8s.io', resource: 'leases', verbs: ['get', 'update'], resourceNames: [DEFAULT_LEADER_ELECTION_ID], scope: 'namespace', why: 'leader election: acquire, renew, release' },
];

export const SPEAKER_PERMISSIONS: readonly Permission[] = [
  { apiGroup: '', resource: 'services', verbs: ['list', 'watch'], scope: 'cluster', why: 'which addresses to announce' },
  { apiGroup: '', resource: 'nodes', verbs: ['list', 'watch'], scope: 'cluster', why: 'node selectors and peers\' addresses' },
  { apiGroup: 'discovery.k8s.io', resource: 'endpointslices', verbs: ['list', 'watch'], scope: 'cluster', why: 'announce only from nodes with ready endpoints (externalTrafficPolicy: Local)' },
  { apiGroup: '', resource: 'events', verbs: ['create', 'patch'], scope: 'cluster', why: 'nodeAssigned on the Services it announces, as MetalLB\'s speaker' },
  { apiGroup: 'metallb.io', resource: 'ipaddresspools', verbs: ['list', 'watch'], scope: 'cluster', why: 'pools from MetalLB\'s IPAddressPools' },
  { apiGroup: 'metallb.io', resource: 'l2advertisements', verbs: ['list', 'watch'], scope: 'cluster', why: 'which nodes and interfaces announce a pool' },
  { apiGroup: 'metallb.io', resource: 'servicel2statuses', verbs: ['list', 'watch', 'create', 'delete'], scope: 'cluster', why: 'one ServiceL2Status per Service this node announces' },
  { apiGroup: 'metallb.io', resource: 'servicel2statuses/status', verbs: ['patch'], scope: 'cluster', why: 'ServiceL2Status status (node, service, interfaces)' },
  // delete: a speaker stopping withdraws its Lease so the next node takes over at once.
  { apiGroup: 'coordination.k8s.io', resource: 'leases', verbs: ['get', 'list', 'watch', 'create', 'update', 'delete'], scope: 'namespace', why: 'speaker membership Leases' },
  // BGP mode: MetalLB's resources, read (and its status objects written) in MetalLB's namespace (metallb.namespace), as MetalLB's speaker does; cluster-wide as the L2 ones above.
  { apiGroup: 'metallb.io', resource: 'bgppeers', verbs: ['list', 'watch'], scope: 'cluster', why: 'BGP mode: the peers of this node' },
  { apiGroup: 'metallb.io', resource: 'bgpadvertisements', verbs: ['list', 'watch'], scope: 'cluster', why: 'BGP mode: what to advertise' },
  { apiGroup: 'metallb.io', resource: 'communities', verbs: ['list', 'watch'], scope: 'cluster', why: 'BGP mode: named communities' },
  { apiGroup: 'metallb.io', resource: 'bfdprofiles', verbs: ['list', 'watch'], scope: 'cluster', why: 'BGP mode: BFD timers' },
  { apiGroup: 'metallb.io', resource: 'servicebgpstatuses', verbs: ['list', 'watch', 'create', 'delete'], scope: 'cluster', why: 'BGP mode: ServiceBGPStatus per Service advertised' },
  { apiGroup: 'metallb.io', resource: 'servicebgpstatuses/status', verbs: ['patch'], scope: 'cluster', why: 'BGP mode: ServiceBGPStatus status' },
];

export function permissionsOf(component: Component): readonly Permission[] {
  return component === 'controller' ? CONTROLLER_PERMISSIONS : SPEAKER_PERMISSIONS;
}

export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  resourceNames?: string[];
  verbs: string[];
}

/** One rule per (group, verbs, names), resources merged, in table order: short roles that diff well. */
export function rulesOf(perms: readonly Permission[]): PolicyRule[] {
  const rules: PolicyRule[] = [];
  for (const p of perms) {
    const names = p.resourceNames?.join() ?? '';
    const same = rules.find((r) => r.apiGroups[0] === p.apiGroup && r.verbs.join() === p.verbs.join() && (r.resourceNames?.join() ?? '') === names);
    if (same) same.resources.push(p.resource);
    else rules.push({ apiGroups: [p.apiGroup], resources: [p.resource], ...(p.resourceNames ? { resourceNames: [...p.resourceNames] } : {}), verbs: [...p.verbs] });
  }
  return rules;
}

/** ClusterRole, Role and their bindings for one component's ServiceAccount. */
export function rbacObjects(component: Component, namespace: string, serviceAccount: string, labels: Record<string, string>): KubeObject[] {
  const perms = permissionsOf(component);
  const name = `lbc-${component}`;
  const subjects = [{ kind: 'ServiceAccount', name: serviceAccount, namespace }];
  const out: KubeObject[] = [];
  const cluster = perms.filter((p) => p.scope === 'cluster');
  if (cluster.length > 0) {
    out.push(
      { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name, labels }, rules: rulesOf(cluster) },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRoleBinding',
        metadata: { name, labels },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name },
        subjects,
      },
    );
  }
  const local = perms.filter((p) => p.scope === 'namespace');
  if (local.length > 0) {
    out.push(
      { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name, namespace, labels }, rules: rulesOf(local) },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata: { name, namespace, labels },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
        subjects,
      },
    );
  }
  return out;
}
