// The Gateway API kinds as resources lbc lists and watches (custom resources, read
// through client-node's CustomObjectsApi), which of them a cluster serves, and
// Namespaces (a listener's allowedRoutes selects routes by their namespace's labels).
// lbc does not ship the CRDs: users install the upstream release, and a cluster without
// them has no Gateway API kinds for lbc to watch.
import type { V1Namespace } from '@kubernetes/client-node';
import type { KubeObject } from './cache.js';
import { GATEWAY_GROUP, type Gateway, type GatewayClass, type GRPCRoute, type HTTPRoute, type ReferenceGrant, type TCPRoute, type TLSRoute, type UDPRoute } from './gateway-api.js';
import type { GatewayApiResource } from './status.js';
import type { ListRequest, ObjectList, ResourceType } from './resources.js';
import { probeCustomResource, type ProbeClients } from './custom-resources.js';

export interface GatewayResourceType<T extends KubeObject> extends ResourceType<T>, GatewayApiResource {}

function gatewayResource<T extends KubeObject>(kind: string, plural: string, version: string, namespaced: boolean): GatewayResourceType<T> {
  return {
    kind,
    apiVersion: `${GATEWAY_GROUP}/${version}`,
    namespaced,
    version,
    plural,
    path: `/apis/${GATEWAY_GROUP}/${version}/${plural}`,
    list:
      ({ custom }) =>
      (req: ListRequest) => {
        const { namespace, ...rest } = req;
        const base = { group: GATEWAY_GROUP, version, plural, ...rest };
        // The informers of the kinds discoverGatewayApi found (gateway-watch.ts).
        // rbac: list,watch gateway.networking.k8s.io/gatewayclasses gateway.networking.k8s.io/gateways gateway.networking.k8s.io/httproutes gateway.networking.k8s.io/grpcroutes gateway.networking.k8s.io/tlsroutes gateway.networking.k8s.io/tcproutes gateway.networking.k8s.io/udproutes gateway.networking.k8s.io/referencegrants
        const list = namespace ? custom.listNamespacedCustomObject({ ...base, namespace }) : custom.listClusterCustomObject(base);
        return list as Promise<ObjectList<T>>;
      },
    // Custom objects arrive as plain JSON and are read as such (timestamps stay strings).
    decode: (raw) => raw as T,
  };
}

export const GatewayClasses = gatewayResource<GatewayClass>('GatewayClass', 'gatewayclasses', 'v1', false);
export const Gateways = gatewayResource<Gateway>('Gateway', 'gateways', 'v1', true);
export const HTTPRoutes = gatewayResource<HTTPRoute>('HTTPRoute', 'httproutes', 'v1', true);
export const GRPCRoutes = gatewayResource<GRPCRoute>('GRPCRoute', 'grpcroutes', 'v1', true);
/** v1alpha3 is the storage version of TLSRoute in v1.4.0's experimental channel; v1alpha2 is still served. */
export const TLSRoutes = gatewayResource<TLSRoute>('TLSRoute', 'tlsroutes', 'v1alpha3', true);
export const TLSRoutesV1alpha2 = gatewayResource<TLSRoute>('TLSRoute', 'tlsroutes', 'v1alpha2', true);
export const TCPRoutes = gatewayResource<TCPRoute>('TCPRoute', 'tcproutes', 'v1alpha2', true);
export const UDPRoutes = gatewayResource<UDPRoute>('UDPRoute', 'udproutes', 'v1alpha2', true);
export const ReferenceGrants = gatewayResource<ReferenceGrant>('ReferenceGrant', 'referencegrants', 'v1beta1', true);

export const Namespaces: ResourceType<V1Namespace> = {
  kind: 'Namespace',
  apiVersion: 'v1',
  namespaced: false,
  path: '/api/v1/namespaces',
  list:
    ({ core }) =>
    ({ namespace: _ns, ...req }) =>
      core.listNamespace(req),
  decode: (raw) => raw as V1Namespace,
};

/** The Gateway API kinds a cluster serves; undefined for a kind whose CRD is not installed. */
export interface ServedGatewayApi {
  readonly gatewayClasses: GatewayResourceType<GatewayClass>;
  readonly gateways: GatewayResourceType<Gateway>;
  readonly httpRoutes?: GatewayResourceType<HTTPRoute>;
  readonly grpcRoutes?: GatewayResourceType<GRPCRoute>;
  readonly tlsRoutes?: GatewayResourceType<TLSRoute>;
  readonly tcpRoutes?: GatewayResourceType<TCPRoute>;
  readonly udpRoutes?: GatewayResourceType<UDPRoute>;
  readonly referenceGrants?: GatewayResourceType<ReferenceGrant>;
}

const notFound = (e: unknown): boolean => (e as { code?: unknown }).code === 404;

/**
 * Which Gateway API kinds the API server serves, found by listing one object of each:
 * 404 means the CRD (or that version) is not installed. Undefined when GatewayClass and
 * Gateway are not both served: then lbc serves no Gateways and watches none of it.
 */
export async function discoverGatewayApi(clients: ProbeClients): Promise<ServedGatewayApi | undefined> {
  const served = async <T extends KubeObject>(r: GatewayResourceType<T>): Promise<GatewayResourceType<T> | undefined> => {
    try {
      // rbac: list gateway.networking.k8s.io/gatewayclasses gateway.networking.k8s.io/gateways gateway.networking.k8s.io/httproutes gateway.networking.k8s.io/grpcroutes gateway.networking.k8s.io/tlsroutes gateway.networking.k8s.io/tcproutes gateway.networking.k8s.io/udproutes gateway.networking.k8s.io/referencegrants
      await probeCustomResource(clients, { group: GATEWAY_GROUP, version: r.version, plural: r.plural });
      return r;
    } catch (e) {
      if (notFound(e)) return undefined;
      throw e;
    }
  };
  const [gatewayClasses, gateways, httpRoutes, grpcRoutes, tls3, tls2, tcpRoutes, udpRoutes, referenceGrants] = await Promise.all([
    served(GatewayClasses),
    served(Gateways),
    served(HTTPRoutes),
    served(GRPCRoutes),
    served(TLSRoutes),
    served(TLSRoutesV1alpha2),
    served(TCPRoutes),
    served(UDPRoutes),
    served(ReferenceGrants),
  ]);
  if (!gatewayClasses || !gateways) return undefined;
  const tlsRoutes = tls3 ?? tls2;
  return {
    gatewayClasses,
    gateways,
    ...(httpRoutes ? { httpRoutes } : {}),
    ...(grpcRoutes ? { grpcRoutes } : {}),
    ...(tlsRoutes ? { tlsRoutes } : {}),
    ...(tcpRoutes ? { tcpRoutes } : {}),
    ...(udpRoutes ? { udpRoutes } : {}),
    ...(referenceGrants ? { referenceGrants } : {}),
  };
}
