// The cluster objects the speaker tests (in-process, wire and BGP) write: a metal-class Service
// with the address in its status, as the controller leaves it, and an EndpointSlice
// with endpoints on given nodes.
import type { CoreV1Api, DiscoveryV1Api, V1EndpointSlice, V1Service } from '@kubernetes/client-node';

/** Creates or replaces EndpointSlice `name` of `service` in default. */
export async function writeSlice(discovery: DiscoveryV1Api, name: string, service: string, endpoints: { node: string; ready: boolean }[]): Promise<void> {
  const body: V1EndpointSlice = {
    metadata: { name, namespace: 'default', labels: { 'kubernetes.io/service-name': service } },
    addressType: 'IPv4',
    endpoints: endpoints.map((e, i) => ({ addresses: [`10.200.0.${i + 1}`], nodeName: e.node, conditions: { ready: e.ready } })),
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
  };
  try {
    const cur = await discovery.readNamespacedEndpointSlice({ namespace: 'default', name });
    await discovery.replaceNamespacedEndpointSlice({ namespace: 'default', name, body: { ...body, metadata: { ...body.metadata, resourceVersion: cur.metadata?.resourceVersion } } });
  } catch (e) {
    if ((e as { code?: number }).code !== 404) throw e;
    await discovery.createNamespacedEndpointSlice({ namespace: 'default', body });
  }
}

/** A LoadBalancer Service of the metal class whose status holds `ips`, as the controller would leave it. */
export async function writeService(core: CoreV1Api, name: string, ips: readonly string[], local: boolean): Promise<void> {
  const body: V1Service = {
    metadata: { name, namespace: 'default' },
    spec: {
      type: 'LoadBalancer',
      loadBalancerClass: 'lbc.dev/metal',
      externalTrafficPolicy: local ? 'Local' : 'Cluster',
      ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }],
    },
  };
  const created = await core.createNamespacedService({ namespace: 'default', body });
  await core.replaceNamespacedServiceStatus({ namespace: 'default', name, body: { ...created, status: { loadBalancer: { ingress: ips.map((ip) => ({ ip, ipMode: 'VIP' })) } } } });
}
