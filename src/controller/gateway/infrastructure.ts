// A Gateway's spec.infrastructure.parametersRef (apis/v1 GatewayInfrastructure): the
// specification says a Gateway whose reference cannot be found, names an unsupported kind,
// or holds malformed data SHOULD be rejected with Accepted=False, reason InvalidParameters.
// Which kinds are supported is the provider's to say (capabilities.gatewayParameters), and
// so is what malformed means (parseGatewayParameters); the builder only finds the object.
// A GatewayClass's spec.parametersRef to such a kind (gateway-class.ts) is followed alike
// (gatewayClassParameters); being cluster-scoped, the class must name the namespace, as
// aws-load-balancer-controller requires ("Namespace must be specified in ParametersRef",
// pkg/gateway/gatewayutils/lb_config_utils.go ResolveLoadBalancerConfig).
import type { Gateway } from '../../kube/gateway-api.js';
import type { GatewayParameterKind, GatewayParameters } from '../../model/gateway.js';
import type { ModelProvider } from '../service-model.js';
import type { GatewayClassProvider } from './gateway-class.js';

/** A parameters object by kind, namespace and name, as the controller's caches hold it; undefined when absent. */
export type GatewayParameterLookup = (kind: GatewayParameterKind, namespace: string, name: string) => unknown;

export type InfrastructureParameters = { readonly ok: true; readonly parameters?: GatewayParameters } | { readonly ok: false; readonly problem: string };

const sameKind = (a: GatewayParameterKind, b: GatewayParameterKind): boolean => a.group === b.group && a.kind === b.kind;

/** A lookup over the objects of each kind, held by `namespace/name`. */
export const parameterLookup =
  (held: readonly { readonly kind: GatewayParameterKind; get(key: string): unknown }[]): GatewayParameterLookup =>
  (kind, namespace, name) =>
    held.find((h) => sameKind(h.kind, kind))?.get(`${namespace}/${name}`);

export function infrastructureParameters(gateway: Gateway, provider: ModelProvider, lookup: GatewayParameterLookup | undefined): InfrastructureParameters {
  const ref = gateway.spec?.infrastructure?.parametersRef;
  if (!ref) return { ok: true };
  return follow('spec.infrastructure.parametersRef', ref, gateway.metadata?.namespace ?? '', provider, lookup);
}

/** The class's parameters object, when its parametersRef names a kind of its provider's (providerOfGatewayClass). */
export function gatewayClassParameters(owner: GatewayClassProvider, provider: ModelProvider, lookup: GatewayParameterLookup | undefined): InfrastructureParameters {
  const ref = owner.ok ? owner.parametersRef : undefined;
  if (!ref) return { ok: true };
  if (ref.namespace === undefined || ref.namespace === '') return { ok: false, problem: `spec.parametersRef.namespace: ${ref.kind} is namespaced, so a GatewayClass must name its namespace` };
  return follow('spec.parametersRef', ref, ref.namespace, provider, lookup);
}

function follow(field: string, ref: GatewayParameterKind & { readonly name: string }, namespace: string, provider: ModelProvider, lookup: GatewayParameterLookup | undefined): InfrastructureParameters {
  const kinds = provider.capabilities.gatewayParameters ?? [];
  if (!kinds.some((k) => sameKind(k, ref))) {
    const supported = kinds.length > 0 ? kinds.map((k) => `${k.kind}.${k.group}`).join(', ') : 'none';
    return { ok: false, problem: `${field}: kind ${ref.kind}.${ref.group} is not one provider ${provider.name} reads (supported: ${supported})` };
  }
  if (!lookup) return { ok: false, problem: `${field}: lbc is not watching ${ref.kind}.${ref.group} objects (is its CRD installed?)` };
  const object = lookup(ref, namespace, ref.name);
  if (object === undefined) return { ok: false, problem: `${field}: ${ref.kind} ${namespace}/${ref.name} not found` };
  const parsed = provider.parseGatewayParameters?.(ref, object) ?? { ok: true as const, value: object };
  if (!parsed.ok) return { ok: false, problem: `${field}: ${ref.kind} ${namespace}/${ref.name}: ${parsed.errors.join('; ')}` };
  return { ok: true, parameters: { group: ref.group, kind: ref.kind, namespace, name: ref.name, value: parsed.value } };
}
