// GatewayClasses lbc serves: those whose controllerName is lbc's. Which provider serves a
// class's Gateways is named as for IngressClasses (config/ownership.ts): parametersRef
// {group: lbc.dev, kind: Provider, name: <provider>}, else the default class's provider,
// else the only one configured. A parametersRef to a kind a configured provider reads
// (ProviderCapabilities.gatewayParameters: aws-load-balancer-controller's
// LoadBalancerConfiguration, which ALBC users put on their GatewayClass) names that provider
// instead, and its object configures every Gateway of the class (infrastructure.ts
// gatewayClassParameters). Status: Accepted, False with InvalidParameters when the reference
// cannot be followed (as the specification asks of a parametersRef), and supportedFeatures
// listing exactly what that provider declares (ProviderCapabilities.gatewayFeatures).
import { PROVIDER_PARAMETERS_API_GROUP, PROVIDER_PARAMETERS_KIND, type OwnershipConfig } from '../../config/ownership.js';
import type { ConditionInput } from '../../kube/status.js';
import type { GatewayFeature } from '../../model/gateway-features.js';
import type { GatewayParameterKind } from '../../model/gateway.js';
import type { GatewayClass } from '../../kube/gateway-api.js';
import { Accepted, condition, GatewayClassReason } from './conditions.js';

/** Whether this lbc instance serves the class: its controllerName is the configured one (config gateway.controllerName). */
export const isOurGatewayClass = (gc: GatewayClass | undefined, controllerName: string): gc is GatewayClass => gc !== undefined && gc.spec?.controllerName === controllerName;

/** A class's parametersRef to a provider's parameters kind; namespace as written (required for a namespaced kind). */
export interface ClassParametersRef extends GatewayParameterKind {
  readonly name: string;
  readonly namespace?: string;
}

export type GatewayClassProvider = { readonly ok: true; readonly provider: string; readonly parametersRef?: ClassParametersRef } | { readonly ok: false; readonly message: string };

/** The configured providers (by name) that read a parameters kind. */
export type ParameterReaders = (kind: GatewayParameterKind) => readonly string[];

/** ParameterReaders from the providers' capabilities. */
export const parameterReaders =
  (providers: readonly { readonly name: string; readonly capabilities: { readonly layers: readonly string[]; readonly gatewayParameters?: readonly GatewayParameterKind[] } }[]): ParameterReaders =>
  (kind) =>
    providers.filter((p) => p.capabilities.layers.includes('Gateway') && (p.capabilities.gatewayParameters ?? []).some((k) => k.group === kind.group && k.kind === kind.kind)).map((p) => p.name);

function fallbackProvider(config: Pick<OwnershipConfig, 'providers' | 'defaultClass'>): string | undefined {
  return config.defaultClass !== undefined ? config.providers.find((p) => p.class === config.defaultClass)?.name : config.providers.length === 1 ? config.providers[0]?.name : undefined;
}

export function providerOfGatewayClass(gc: GatewayClass, config: Pick<OwnershipConfig, 'providers' | 'defaultClass'>, readers?: ParameterReaders): GatewayClassProvider {
  const name = gc.metadata?.name ?? '';
  const params = gc.spec?.parametersRef;
  if (params) {
    if (params.group !== PROVIDER_PARAMETERS_API_GROUP || params.kind !== PROVIDER_PARAMETERS_KIND) {
      const candidates = readers?.(params) ?? [];
      const fallback = fallbackProvider(config);
      const provider = candidates.length === 1 ? candidates[0] : fallback !== undefined && candidates.includes(fallback) ? fallback : undefined;
      const ref: ClassParametersRef = { group: params.group, kind: params.kind, name: params.name, ...(params.namespace !== undefined ? { namespace: params.namespace } : {}) };
      if (provider !== undefined) return { ok: true, provider, parametersRef: ref };
      if (candidates.length > 1) {
        return { ok: false, message: `spec.parametersRef: ${params.kind}.${params.group} is read by providers ${candidates.join(', ')}, and the defaultClass's provider is none of them: name the provider with {group: ${PROVIDER_PARAMETERS_API_GROUP}, kind: ${PROVIDER_PARAMETERS_KIND}} instead` };
      }
      return { ok: false, message: `spec.parametersRef must be {group: ${PROVIDER_PARAMETERS_API_GROUP}, kind: ${PROVIDER_PARAMETERS_KIND}, name: <provider>}, got {group: ${params.group}, kind: ${params.kind}}` };
    }
    if (!config.providers.some((p) => p.name === params.name)) {
      return { ok: false, message: `spec.parametersRef.name ${params.name} is not a configured provider (${config.providers.map((p) => p.name).join(', ')})` };
    }
    return { ok: true, provider: params.name };
  }
  const fallback = fallbackProvider(config);
  return fallback !== undefined
    ? { ok: true, provider: fallback }
    : { ok: false, message: `GatewayClass ${name} has no spec.parametersRef naming a provider, and there is no defaultClass to fall back on` };
}

export interface GatewayClassStatusWanted {
  readonly conditions: readonly ConditionInput[];
  /** Sorted, as the specification asks. */
  readonly supportedFeatures: readonly { name: string }[];
}

/** `parametersProblem`: why the class's own parameters object cannot be used (infrastructure.ts gatewayClassParameters). */
export function gatewayClassStatus(gc: GatewayClass, provider: GatewayClassProvider, features: readonly GatewayFeature[] | undefined, parametersProblem?: string): GatewayClassStatusWanted {
  const generation = gc.metadata?.generation;
  if (!provider.ok) return { conditions: [condition(Accepted, false, GatewayClassReason.InvalidParameters, provider.message, generation)], supportedFeatures: [] };
  if (parametersProblem !== undefined) return { conditions: [condition(Accepted, false, GatewayClassReason.InvalidParameters, parametersProblem, generation)], supportedFeatures: [] };
  if (features === undefined || features.length === 0) {
    return { conditions: [condition(Accepted, false, GatewayClassReason.InvalidParameters, `provider ${provider.provider} does not serve Gateways`, generation)], supportedFeatures: [] };
  }
  return {
    conditions: [condition(Accepted, true, GatewayClassReason.Accepted, `served by provider ${provider.provider}`, generation)],
    supportedFeatures: [...new Set(features)].sort().map((name) => ({ name })),
  };
}
