// GatewayClasses lbc serves: those whose controllerName is lbc's. Which provider serves a
// class's Gateways is named as for IngressClasses (config/ownership.ts): parametersRef
// {group: lbc.dev, kind: Provider, name: <provider>}, else the default class's provider,
// else the only one configured. Status: Accepted, and supportedFeatures listing exactly
// what that provider declares (ProviderCapabilities.gatewayFeatures).
import { PROVIDER_PARAMETERS_API_GROUP, PROVIDER_PARAMETERS_KIND, type OwnershipConfig } from '../../config/ownership.js';
import type { ConditionInput } from '../../kube/status.js';
import type { GatewayFeature } from '../../model/gateway-features.js';
import type { GatewayClass } from '../../kube/gateway-api.js';
import { Accepted, condition, GatewayClassReason } from './conditions.js';

/** Whether this lbc instance serves the class: its controllerName is the configured one (config gateway.controllerName). */
export const isOurGatewayClass = (gc: GatewayClass | undefined, controllerName: string): gc is GatewayClass => gc !== undefined && gc.spec?.controllerName === controllerName;

export type GatewayClassProvider = { readonly ok: true; readonly provider: string } | { readonly ok: false; readonly message: string };

export function providerOfGatewayClass(gc: GatewayClass, config: Pick<OwnershipConfig, 'providers' | 'defaultClass'>): GatewayClassProvider {
  const name = gc.metadata?.name ?? '';
  const params = gc.spec?.parametersRef;
  if (params) {
    if (params.group !== PROVIDER_PARAMETERS_API_GROUP || params.kind !== PROVIDER_PARAMETERS_KIND) {
      return { ok: false, message: `spec.parametersRef must be {group: ${PROVIDER_PARAMETERS_API_GROUP}, kind: ${PROVIDER_PARAMETERS_KIND}, name: <provider>}, got {group: ${params.group}, kind: ${params.kind}}` };
    }
    if (!config.providers.some((p) => p.name === params.name)) {
      return { ok: false, message: `spec.parametersRef.name ${params.name} is not a configured provider (${config.providers.map((p) => p.name).join(', ')})` };
    }
    return { ok: true, provider: params.name };
  }
  const fallback = config.defaultClass !== undefined ? config.providers.find((p) => p.class === config.defaultClass)?.name : config.providers.length === 1 ? config.providers[0]?.name : undefined;
  return fallback !== undefined
    ? { ok: true, provider: fallback }
    : { ok: false, message: `GatewayClass ${name} has no spec.parametersRef naming a provider, and there is no defaultClass to fall back on` };
}

export interface GatewayClassStatusWanted {
  readonly conditions: readonly ConditionInput[];
  /** Sorted, as the specification asks. */
  readonly supportedFeatures: readonly { name: string }[];
}

export function gatewayClassStatus(gc: GatewayClass, provider: GatewayClassProvider, features: readonly GatewayFeature[] | undefined): GatewayClassStatusWanted {
  const generation = gc.metadata?.generation;
  if (!provider.ok) return { conditions: [condition(Accepted, false, GatewayClassReason.InvalidParameters, provider.message, generation)], supportedFeatures: [] };
  if (features === undefined || features.length === 0) {
    return { conditions: [condition(Accepted, false, GatewayClassReason.InvalidParameters, `provider ${provider.provider} does not serve Gateways`, generation)], supportedFeatures: [] };
  }
  return {
    conditions: [condition(Accepted, true, GatewayClassReason.Accepted, `served by provider ${provider.provider}`, generation)],
    supportedFeatures: [...new Set(features)].sort().map((name) => ({ name })),
  };
}
