// GatewayClasses lbc serves: those whose controllerName is one this instance serves
// (controller-names.ts: lbc's own, and the compatible names of the controllers its providers
// replace, such as aws-load-balancer-controller's). Which provider serves a
// class's Gateways is named as for IngressClasses (config/ownership.ts): parametersRef
// {group: lbc.dev, kind: Provider, name: <provider>}, else the default class's provider,
// else the only one configured. A parametersRef to a kind a configured provider reads
// (ProviderCapabilities.gatewayParameters: aws-load-balancer-controller's
// LoadBalancerConfiguration, which ALBC users put on their GatewayClass) names that provider
// instead, and its object configures every Gateway of the class (infrastructure.ts
// gatewayClassParameters). Status: Accepted, False with InvalidParameters when the reference
// cannot be followed (as the specification asks of a parametersRef), and supportedFeatures
// listing exactly what that provider declares (ProviderCapabilities.gatewayFeatures).
// A class of a compatible controllerName is served only by a provider declaring that name
// (the only one, or the defaultClass's, or the one its parametersRef names), with that name's
// features: what the class publishes and what its Gateways may use.
import { PROVIDER_PARAMETERS_API_GROUP, PROVIDER_PARAMETERS_KIND, type OwnershipConfig } from '../../config/ownership.js';
import type { ConditionInput } from '../../kube/status.js';
import type { GatewayFeature } from '../../model/gateway-features.js';
import type { GatewayParameterKind } from '../../model/gateway.js';
import type { GatewayClass } from '../../kube/gateway-api.js';
import { Accepted, condition, GatewayClassReason } from './conditions.js';
import type { CompatibleServer, GatewayControllers } from './controller-names.js';

/** Whether this lbc instance serves the class: its controllerName is one of those it serves (controller-names.ts). */
export const isOurGatewayClass = (gc: GatewayClass | undefined, controllers: Pick<GatewayControllers, 'names'>): gc is GatewayClass =>
  gc !== undefined && controllers.names.includes(gc.spec?.controllerName ?? '');

/** A class's parametersRef to a provider's parameters kind; namespace as written (required for a namespaced kind). */
export interface ClassParametersRef extends GatewayParameterKind {
  readonly name: string;
  readonly namespace?: string;
}

export type GatewayClassProvider =
  | {
      readonly ok: true;
      readonly provider: string;
      readonly parametersRef?: ClassParametersRef;
      /** A compatible controllerName's class: what it serves, narrower than its provider (classFeatures). */
      readonly features?: readonly GatewayFeature[];
    }
  | { readonly ok: false; readonly message: string };

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

const classRef = (params: NonNullable<NonNullable<GatewayClass['spec']>['parametersRef']>): ClassParametersRef => ({
  group: params.group,
  kind: params.kind,
  name: params.name,
  ...(params.namespace !== undefined ? { namespace: params.namespace } : {}),
});

const isProviderRef = (params: { readonly group: string; readonly kind: string }): boolean => params.group === PROVIDER_PARAMETERS_API_GROUP && params.kind === PROVIDER_PARAMETERS_KIND;

/**
 * `controllers`: which controllerNames are compatible ones (absent: the class is of lbc's
 * own name); a class of one is served as compatibleClassProvider says.
 */
export function providerOfGatewayClass(
  gc: GatewayClass,
  config: Pick<OwnershipConfig, 'providers' | 'defaultClass'>,
  readers?: ParameterReaders,
  controllers?: Pick<GatewayControllers, 'compatible'>,
): GatewayClassProvider {
  const servers = controllers?.compatible(gc.spec?.controllerName);
  if (servers) return compatibleClassProvider(gc, servers, config, readers);
  const name = gc.metadata?.name ?? '';
  const params = gc.spec?.parametersRef;
  if (params) {
    if (!isProviderRef(params)) {
      const candidates = readers?.(params) ?? [];
      const fallback = fallbackProvider(config);
      const provider = candidates.length === 1 ? candidates[0] : fallback !== undefined && candidates.includes(fallback) ? fallback : undefined;
      if (provider !== undefined) return { ok: true, provider, parametersRef: classRef(params) };
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

/**
 * A class of a compatible controllerName: among the providers declaring that name, the one
 * its parametersRef names (an lbc Provider, or a parameters kind only one of them reads), else
 * the only one, else the defaultClass's.
 */
function compatibleClassProvider(
  gc: GatewayClass,
  servers: readonly CompatibleServer[],
  config: Pick<OwnershipConfig, 'providers' | 'defaultClass'>,
  readers: ParameterReaders | undefined,
): GatewayClassProvider {
  const controllerName = gc.spec?.controllerName ?? '';
  const names = servers.map((s) => s.provider);
  const servedBy = `GatewayClasses of ${controllerName} are served by provider${names.length > 1 ? 's' : ''} ${names.join(', ')}`;
  const fallback = fallbackProvider(config);
  const choose = (among: readonly string[]): string | undefined => (among.length === 1 ? among[0] : fallback !== undefined && among.includes(fallback) ? fallback : undefined);
  const params = gc.spec?.parametersRef;
  const ok = (provider: string, parametersRef?: ClassParametersRef): GatewayClassProvider => ({
    ok: true,
    provider,
    features: servers.find((s) => s.provider === provider)?.features ?? [],
    ...(parametersRef ? { parametersRef } : {}),
  });
  if (!params) {
    const provider = choose(names);
    return provider !== undefined ? ok(provider) : { ok: false, message: `${servedBy}, and the defaultClass's provider is none of them: name one with spec.parametersRef {group: ${PROVIDER_PARAMETERS_API_GROUP}, kind: ${PROVIDER_PARAMETERS_KIND}}` };
  }
  if (isProviderRef(params)) return names.includes(params.name) ? ok(params.name) : { ok: false, message: `spec.parametersRef.name ${params.name}: ${servedBy}` };
  const readersOf = readers?.(params) ?? [];
  const among = names.filter((n) => readersOf.includes(n));
  const provider = choose(among);
  if (provider !== undefined) return ok(provider, classRef(params));
  const kind = `${params.kind}.${params.group}`;
  return {
    ok: false,
    message:
      among.length === 0
        ? `spec.parametersRef: ${kind} is not a kind ${names.join(' or ')} reads (${servedBy})`
        : `spec.parametersRef: ${kind} is read by providers ${among.join(', ')}, and the defaultClass's provider is none of them: name the provider with {group: ${PROVIDER_PARAMETERS_API_GROUP}, kind: ${PROVIDER_PARAMETERS_KIND}} instead`,
  };
}

/** What the class's Gateways may use and its status publishes: a compatible class's own features, else its provider's; undefined when the provider serves no Gateways. */
export function classFeatures(owner: GatewayClassProvider, provider: { readonly capabilities: { readonly layers: readonly string[]; readonly gatewayFeatures?: readonly GatewayFeature[] } } | undefined): readonly GatewayFeature[] | undefined {
  if (!owner.ok || !provider?.capabilities.layers.includes('Gateway')) return undefined;
  return owner.features ?? provider.capabilities.gatewayFeatures;
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
