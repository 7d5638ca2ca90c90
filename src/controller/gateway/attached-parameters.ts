// Provider parameters objects a Gateway's routes reach besides the Gateway's own
// (infrastructure.ts): those attached to a backend Service by their spec.targetReference
// (capabilities.gatewayBackendParameters; ALBC's TargetGroupConfiguration, which ALBC finds
// by the Service's name in the Service's namespace, docs/guide/gateway/targetgroupconfig.md
// "Configuration Resolution Order"), and those an ExtensionRef filter names
// (capabilities.gatewayFilterExtensions; ALBC's ListenerRuleConfiguration, in the route's
// namespace, docs/guide/gateway/listenerruleconfig.md). The provider says what malformed
// means (parseGatewayParameters); a problem refuses the routes that reach the object, with
// the object and field named, so nothing it configures is served without it.
import type { V1Secret } from '@kubernetes/client-node';
import type { GatewayParameterKind, GatewayParameters, HttpFilter } from '../../model/gateway.js';
import type { TargetType } from '../../model/spec.js';
import { secretData } from '../ingress/provider-secrets.js';
import type { ModelProvider } from '../service-model.js';
import type { GatewayParameterLookup } from './infrastructure.js';

/** The parameters objects of `kind` in `namespace` whose target reference names Service `service`. */
export type BackendParameterLookup = (kind: GatewayParameterKind, namespace: string, service: string) => readonly unknown[];

/** An Opaque Secret a provider's parameters name, as the controller's cache holds it. */
export type ProviderSecretLookup = (namespace: string, name: string) => V1Secret | undefined;

export type BackendParameters = { readonly ok: true; readonly parameters?: GatewayParameters; readonly targetType?: TargetType } | { readonly ok: false; readonly problem: string };

/** The parameters kinds lbc must watch for the providers serving Gateways: the Gateway's own, ExtensionRef filters', backend Services'. */
export function gatewayParameterKinds(providers: readonly Pick<ModelProvider, 'capabilities'>[]): { readonly all: GatewayParameterKind[]; readonly backend: GatewayParameterKind[] } {
  const serving = providers.filter((p) => p.capabilities.layers.includes('Gateway'));
  const backend = serving.flatMap((p) => p.capabilities.gatewayBackendParameters ?? []);
  return { all: [...serving.flatMap((p) => [...(p.capabilities.gatewayParameters ?? []), ...(p.capabilities.gatewayFilterExtensions ?? [])]), ...backend], backend };
}

/**
 * The Service (`ns/name`) a backend parameters object targets: spec.targetReference of kind
 * Service (the CRD's default) in the object's own namespace, as ALBC's TargetGroupConfiguration.
 */
export function parametersTarget(o: { metadata?: { namespace?: string } }): string[] {
  const ref = (o as { spec?: { targetReference?: { name?: unknown; kind?: unknown; group?: unknown } } }).spec?.targetReference;
  if (typeof ref?.name !== 'string' || (ref.kind ?? 'Service') !== 'Service' || (ref.group ?? '') !== '') return [];
  return [`${o.metadata?.namespace ?? ''}/${ref.name}`];
}

const nameOf = (o: unknown): string => String((o as { metadata?: { name?: unknown } } | undefined)?.metadata?.name ?? '');
const sameKind = (a: GatewayParameterKind, b: { group: string; kind: string }): boolean => a.group === b.group && a.kind === b.kind;

/** The backend Service's parameters object, parsed; several of one kind for one Service are refused (which would win is not said). */
export function backendParameters(provider: ModelProvider, lookup: BackendParameterLookup | undefined, namespace: string, service: string): BackendParameters {
  let found: BackendParameters = { ok: true };
  for (const kind of provider.capabilities.gatewayBackendParameters ?? []) {
    const objects = lookup?.(kind, namespace, service) ?? [];
    if (objects.length === 0) continue;
    const names = objects.map(nameOf).sort();
    if (objects.length > 1 || found.parameters) {
      return { ok: false, problem: `Service ${namespace}/${service} is the target of more than one parameters object (${kind.kind} ${names.join(', ')}); lbc will not choose` };
    }
    const [object] = objects;
    const parsed = provider.parseGatewayParameters?.(kind, object) ?? { ok: true as const, value: object };
    if (!parsed.ok) return { ok: false, problem: `${kind.kind} ${namespace}/${names[0] ?? ''} (target of Service ${service}): ${parsed.errors.join('; ')}` };
    found = { ok: true, parameters: { ...kind, namespace, name: names[0] ?? '', value: parsed.value }, ...(parsed.targetType !== undefined ? { targetType: parsed.targetType } : {}) };
  }
  return found;
}

export interface ExtensionRefInput {
  readonly group: string;
  readonly kind: string;
  readonly name: string;
}

/** An ExtensionRef filter as an Extension filter, or why it cannot be served. */
export function extensionFilter(
  provider: ModelProvider,
  lookup: GatewayParameterLookup | undefined,
  readSecret: ProviderSecretLookup | undefined,
  namespace: string,
  ref: ExtensionRefInput,
  field: string,
): { readonly filter: Extract<HttpFilter, { type: 'Extension' }> } | { readonly problem: string } {
  const kind = (provider.capabilities.gatewayFilterExtensions ?? []).find((k) => sameKind(k, ref));
  if (!kind) return { problem: `${field}: ExtensionRef ${ref.kind}.${ref.group} is not a kind provider ${provider.name} reads` };
  if (!lookup) return { problem: `${field}: lbc is not watching ${ref.kind}.${ref.group} objects (is its CRD installed?)` };
  const object = lookup(kind, namespace, ref.name);
  if (object === undefined) return { problem: `${field}: ${ref.kind} ${namespace}/${ref.name} not found` };
  const parsed = provider.parseGatewayParameters?.(kind, object) ?? { ok: true as const, value: object };
  if (!parsed.ok) return { problem: `${field}: ${ref.kind} ${namespace}/${ref.name}: ${parsed.errors.join('; ')}` };
  const secrets: Record<string, Record<string, string>> = {};
  for (const name of parsed.secrets ?? []) {
    const s = readSecret?.(namespace, name);
    // Left out when missing: the provider names it in its refusal, and the Secret's arrival re-syncs the Gateway.
    if (s) secrets[`${namespace}/${name}`] = secretData(s);
  }
  return { filter: { type: 'Extension', parameters: { ...kind, namespace, name: ref.name, value: parsed.value }, secrets } };
}
