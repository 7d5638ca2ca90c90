// The kinds a provider may read from a Gateway's spec.infrastructure.parametersRef
// (ProviderCapabilities.gatewayParameters), from its routes' ExtensionRef filters
// (gatewayFilterExtensions) and attached to its backend Services (gatewayBackendParameters),
// as lbc lists and watches them, and which of them the API server serves. A kind whose CRD
// is not installed is not watched; what names it is then refused, never served without it.
import { asCustomObject, listCustomObjects, probeCustomResource, type CustomObject, type ProbeClients } from './custom-resources.js';
import type { ResourceType } from './resources.js';

/** model/gateway.ts GatewayParameterKind, by shape: kube/ stands below the model. */
interface GatewayParameterKind {
  readonly group: string;
  readonly kind: string;
}

export interface GatewayParameterResource {
  readonly kind: GatewayParameterKind;
  readonly version: string;
  readonly plural: string;
  readonly resource: ResourceType<CustomObject>;
}

// Literal paths, as resources.ts's: test/install/code-permissions.ts reads them to derive RBAC.
const LoadBalancerConfigurationType: ResourceType<CustomObject> = {
  kind: 'LoadBalancerConfiguration',
  apiVersion: 'gateway.k8s.aws/v1',
  namespaced: true,
  path: '/apis/gateway.k8s.aws/v1/loadbalancerconfigurations',
  list: listCustomObjects('/apis/gateway.k8s.aws/v1/loadbalancerconfigurations'),
  decode: asCustomObject,
};

const TargetGroupConfigurationType: ResourceType<CustomObject> = {
  kind: 'TargetGroupConfiguration',
  apiVersion: 'gateway.k8s.aws/v1',
  namespaced: true,
  path: '/apis/gateway.k8s.aws/v1/targetgroupconfigurations',
  list: listCustomObjects('/apis/gateway.k8s.aws/v1/targetgroupconfigurations'),
  decode: asCustomObject,
};

const ListenerRuleConfigurationType: ResourceType<CustomObject> = {
  kind: 'ListenerRuleConfiguration',
  apiVersion: 'gateway.k8s.aws/v1',
  namespaced: true,
  path: '/apis/gateway.k8s.aws/v1/listenerruleconfigurations',
  list: listCustomObjects('/apis/gateway.k8s.aws/v1/listenerruleconfigurations'),
  decode: asCustomObject,
};

/** One of aws-load-balancer-controller v3.5's Gateway kinds (config/crd/gateway); v1 is each one's storage version. */
const albcGatewayKind = ({ resource, plural }: { resource: ResourceType<CustomObject>; plural: string }): GatewayParameterResource => ({ kind: { group: 'gateway.k8s.aws', kind: resource.kind }, version: 'v1', plural, resource });

/** ALBC's LoadBalancerConfiguration, named by a Gateway's spec.infrastructure.parametersRef. */
export const LoadBalancerConfigurations = albcGatewayKind({ resource: LoadBalancerConfigurationType, plural: 'loadbalancerconfigurations' });
/** ALBC's TargetGroupConfiguration, attached to a backend Service by spec.targetReference. */
export const TargetGroupConfigurations = albcGatewayKind({ resource: TargetGroupConfigurationType, plural: 'targetgroupconfigurations' });
/** ALBC's ListenerRuleConfiguration, named by route ExtensionRef filters. */
export const ListenerRuleConfigurations = albcGatewayKind({ resource: ListenerRuleConfigurationType, plural: 'listenerruleconfigurations' });

const KNOWN: readonly GatewayParameterResource[] = [LoadBalancerConfigurations, TargetGroupConfigurations, ListenerRuleConfigurations];

const notFound = (e: unknown): boolean => (e as { code?: unknown }).code === 404;

/** Of the kinds the configured providers read, those lbc knows and the API server serves (listing one object: 404 means no CRD). */
export async function discoverGatewayParameters(clients: ProbeClients, wanted: readonly GatewayParameterKind[]): Promise<GatewayParameterResource[]> {
  const known = KNOWN.filter((r) => wanted.some((k) => k.group === r.kind.group && k.kind === r.kind.kind));
  const served = await Promise.all(
    known.map(async (r) => {
      try {
        // rbac: list gateway.k8s.aws/loadbalancerconfigurations gateway.k8s.aws/targetgroupconfigurations gateway.k8s.aws/listenerruleconfigurations
        await probeCustomResource(clients, { group: r.kind.group, version: r.version, plural: r.plural });
        return r;
      } catch (e) {
        if (notFound(e)) return undefined;
        throw e;
      }
    }),
  );
  return served.filter((r): r is GatewayParameterResource => r !== undefined);
}
