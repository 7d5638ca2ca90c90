// Gateway API objects for the Gateway builder tests, shaped after the conformance suite's
// manifests (gateway-api conformance/base/manifests.yaml: namespace
// gateway-conformance-infra, Services infra-backend-v1..v3 on port 8080, Gateway
// same-namespace with one HTTP listener allowing routes From Same).
import type { V1Namespace } from '@kubernetes/client-node';
import { buildGatewayModel, type GatewayModelInput, type GatewayModelResult } from '../../../src/controller/gateway-model.js';
import type { Gateway, GatewayListener, HTTPRoute, ParentReference, ReferenceGrant } from '../../../src/kube/gateway-api.js';
import type { ConditionInput } from '../../../src/kube/status.js';
import { GATEWAY_FEATURES, type GatewayFeature } from '../../../src/model/gateway-features.js';
import type { ModelProvider } from '../../../src/controller/service-model.js';
import { node, service, slice, tlsSecret } from '../fixtures.js';

export const INFRA = 'gateway-conformance-infra';
export const APP = 'gateway-conformance-app-backend';
export const WEB = 'gateway-conformance-web-backend';

export function gatewayProvider(features: readonly GatewayFeature[] = GATEWAY_FEATURES): ModelProvider {
  return { name: 'test', capabilities: { layers: ['L4', 'L7', 'Gateway'], targetTypes: ['ip', 'instance'], annotationPrefixes: [], gatewayFeatures: features } };
}

export function gateway(name: string, listeners: GatewayListener[], over: Partial<NonNullable<Gateway['spec']>> = {}, namespace = INFRA): Gateway {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'Gateway',
    metadata: { name, namespace, uid: `uid-${name}`, generation: 1 },
    spec: { gatewayClassName: 'lbc', listeners, ...over },
  };
}

export const httpListener = (over: Partial<GatewayListener> = {}): GatewayListener => ({ name: 'http', port: 80, protocol: 'HTTP', allowedRoutes: { namespaces: { from: 'Same' } }, ...over });

export function httpRoute(name: string, spec: NonNullable<HTTPRoute['spec']>, namespace = INFRA, created = '2026-01-01T00:00:00Z'): HTTPRoute {
  return { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name, namespace, uid: `uid-${name}`, generation: 1, creationTimestamp: created as never }, spec };
}

export const parent = (name: string, over: Partial<ParentReference> = {}): ParentReference => ({ name, ...over });

export function grant(namespace: string, from: { kind: string; namespace: string }, to: { kind: string; name?: string; group?: string }): ReferenceGrant {
  return {
    metadata: { name: `grant-${from.kind.toLowerCase()}-${to.kind.toLowerCase()}`, namespace },
    spec: { from: [{ group: 'gateway.networking.k8s.io', ...from }], to: [{ group: to.group ?? '', kind: to.kind, ...(to.name !== undefined ? { name: to.name } : {}) }] },
  };
}

export const ns = (name: string, labels: Record<string, string> = {}): V1Namespace => ({ metadata: { name, labels: { 'kubernetes.io/metadata.name': name, ...labels } } });

const backend = (name: string, namespace: string) => service(name, { type: 'ClusterIP', ports: [{ name: 'http', port: 8080, targetPort: 3000 }] }, undefined, namespace);

export const services = [backend('infra-backend-v1', INFRA), backend('infra-backend-v2', INFRA), backend('infra-backend-v3', INFRA), backend('app-backend-v1', APP), backend('web-backend', WEB)];
export const endpointSlices = services.map((s) => slice(s.metadata?.name ?? '', [{ name: 'http', port: 3000 }], [{ ip: `10.0.0.${(s.metadata?.name ?? '').length}` }], { namespace: s.metadata?.namespace ?? '' }));
export const secrets = [tlsSecret('tls-validity-checks-certificate', undefined, undefined, INFRA), tlsSecret('certificate-in-web', undefined, undefined, WEB)];

export function build(over: Partial<GatewayModelInput> & Pick<GatewayModelInput, 'gateway'>): GatewayModelResult {
  return buildGatewayModel({
    routes: {},
    referenceGrants: [],
    namespaces: [ns(INFRA), ns(APP), ns(WEB)],
    services,
    endpointSlices,
    secrets,
    nodes: [node('n1')],
    provider: gatewayProvider(),
    className: 'lbc',
    clusterName: 'test',
    ...over,
  });
}

/** The conditions of a route's status entry for parentRef index `i` of this Gateway, by type. */
export function routeConditions(r: GatewayModelResult, routeName: string, i = 0): Record<string, Pick<ConditionInput, 'status' | 'reason'>> {
  const entry = r.routes.find((x) => x.route.name === routeName)?.parents[i];
  if (!entry) throw new Error(`no status for route ${routeName} parent ${i}`);
  return Object.fromEntries(entry.conditions.map((c) => [c.type, { status: c.status, reason: c.reason }]));
}

export function listenerConditions(r: GatewayModelResult, listener: string): Record<string, Pick<ConditionInput, 'status' | 'reason'>> {
  const l = r.listeners.find((x) => x.name === listener);
  if (!l) throw new Error(`no listener ${listener}`);
  return Object.fromEntries(l.conditions.map((c) => [c.type, { status: c.status, reason: c.reason }]));
}
