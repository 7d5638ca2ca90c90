// Event reasons, as the upstream service controller (k8s.io/cloud-provider
// controllers/service) emits them, so that dashboards and alerts written for it keep
// working; plus the one reason lbc adds for how an Ingress backend is reached.
export const EnsuringLoadBalancer = 'EnsuringLoadBalancer';
export const EnsuredLoadBalancer = 'EnsuredLoadBalancer';
export const UpdatedLoadBalancer = 'UpdatedLoadBalancer';
export const SyncLoadBalancerFailed = 'SyncLoadBalancerFailed';
export const DeletingLoadBalancer = 'DeletingLoadBalancer';
export const DeletedLoadBalancer = 'DeletedLoadBalancer';
/** Which targets an Ingress backend gets (node port, companion node port, pod IPs), and why. */
export const BackendTargets = 'BackendTargets';
/** On an Ingress whose rules for a host were left out: another namespace's member of its group serves that host. */
export const HostClaimRefused = 'HostClaimRefused';
/** On the Ingress that owns a host, naming the member from another namespace that tried to route for it. */
export const HostClaimRepelled = 'HostClaimRepelled';
/** On an Ingress its class's IngressClassParams refuse (namespace not selected, a field lbc will not do without): it is not served. */
export const ClassParamsRefused = 'IngressClassParamsRefused';
