// Ingress (or a group of Ingresses sharing one LB) → L7 LoadBalancerSpec. Pure.
//
// The build is composed of parts, one per file in ./ingress/ with its table tests beside
// it in test/controller/ingress/, as aws-load-balancer-controller splits its model
// builder into model_build_* steps: the group (members, order, ref, group-wide
// settings), the rules and the annotation actions they name, TLS, the backends' target
// sets, and the listeners. Every part reports into one error list, member by member, so
// the user sees every problem of the group in one result.
import type { V1Ingress } from '@kubernetes/client-node';
import type { PodRef } from './endpoints.js';
import { GroupActions } from './ingress/actions.js';
import { BackendResolver, buildTargetSets, type BackendDecision, type CompanionRequest } from './ingress/backends.js';
import { backendSettings, groupMembers, groupSettings, memberOptions, objectName, type IngressGroupIdentity } from './ingress/group.js';
import { HostClaims, type RefusedClaim } from './ingress/host-claims.js';
import { providerSecrets } from './ingress/provider-secrets.js';
import { buildListeners } from './ingress/listeners.js';
import { RouteTable } from './ingress/rules.js';
import { GroupTls } from './ingress/tls.js';
import type { BackendModelInputs } from './target-sets.js';
import { ownershipTags, type L7Spec, type ProviderOptions } from '../model/spec.js';
import type { ModelError } from '../model/validation.js';

export { matchRoute, type RouteRule } from '../model/routes.js';
export { actionServicesOf, USE_ANNOTATION } from './ingress/actions.js';
export type { BackendDecision, BackendRef, CompanionRequest } from './ingress/backends.js';
export type { RefusedClaim } from './ingress/host-claims.js';
export { ingressGroupOf, type IngressGroupIdentity } from './ingress/group.js';
export { HTTP_PORT, HTTPS_PORT } from './ingress/listeners.js';

export interface IngressModelInput<O extends ProviderOptions = ProviderOptions> extends BackendModelInputs<O> {
  /**
   * Every live member of one group (same ingressGroupOf key, same provider). Members
   * being deleted should be left out: they are leaving the group.
   */
  readonly ingresses: readonly V1Ingress[];
}

export type IngressModelResult<O extends ProviderOptions = ProviderOptions> =
  | {
      readonly ok: true;
      readonly spec: L7Spec<O>;
      readonly backends: readonly BackendDecision[];
      readonly group: IngressGroupIdentity;
      /** One ready Pod per backend, whose readiness probe the health check may follow; pass them back as `pods`. */
      readonly probePods: readonly PodRef[];
      /** Hosts members named but another namespace owns in this group: left out of the spec. */
      readonly refusedHosts: readonly RefusedClaim[];
    }
  | { readonly ok: false; readonly reason: 'invalid'; readonly errors: readonly ModelError[] }
  | {
      readonly ok: false;
      readonly reason: 'needsCompanions';
      readonly companions: readonly CompanionRequest[];
      readonly backends: readonly BackendDecision[];
    };

export function buildIngressModel<O extends ProviderOptions>(input: IngressModelInput<O>): IngressModelResult<O> {
  const { provider } = input;
  const group = groupMembers(input.ingresses);
  if (!group.ok) return { ok: false, reason: 'invalid', errors: group.errors };
  const { members, ref } = group;

  const shared = groupSettings(members, provider);
  const errors: ModelError[] = [...shared.errors];
  const ownOptions = memberOptions(members, provider, errors);
  const scopes = provider.capabilities.annotationScopes;
  const backends = new BackendResolver(input.services, errors, { protocolOf: provider.backendProtocol?.bind(provider), scopes, perMember: scopes !== undefined && group.group.explicit });
  const actions = new GroupActions(provider, shared.annotations, backends.resolve, errors);
  const claims = new HostClaims(members);
  const routes = new RouteTable(
    actions,
    backends.resolve,
    errors,
    (m, host) => claims.admits(m, host),
    (t) => backends.backendOf(t),
  );
  const tls = new GroupTls(input.secrets, provider, errors);
  // Member by member, rules before TLS, so the errors read in the order of the manifests.
  for (const m of members) {
    routes.add(m);
    tls.add(m);
  }
  if (errors.length === 0 && routes.isEmpty()) {
    errors.push({ field: 'spec', object: objectName(members[0].ingress), reason: 'no rule has a path and there is no defaultBackend: nothing to route' });
  }
  // As ingress-gce: requests no rule matches go to the system default backend (404), not to an application.
  const system = provider.capabilities.systemDefaultBackend;
  const named = routes.routes();
  const systemDefault =
    errors.length === 0 && system && named.defaultBackend === undefined && named.defaultAction === undefined ? backends.resolveSystemDefault(members[0], system) : undefined;
  const { settings } = shared;
  const secrets = providerSecrets(
    provider,
    [
      ...members.map((m) => ({ obj: m.ingress, what: objectName(m.ingress) })),
      ...input.services.map((s) => ({ obj: s, what: `Service ${s.metadata?.namespace ?? ''}/${s.metadata?.name ?? ''}` })),
    ],
    input.secrets,
    errors,
  );
  if (errors.length > 0 || !settings) return { ok: false, reason: 'invalid', errors };
  const resolved = backends.resolved();
  const perBackend = backendSettings(resolved, shared, provider, errors);
  if (errors.length > 0) return { ok: false, reason: 'invalid', errors };

  const sets = buildTargetSets(resolved, {
    endpointSlices: input.endpointSlices,
    nodes: input.nodes,
    supportsIp: provider.capabilities.targetTypes.includes('ip'),
    targetType: settings.targetType,
    explicitTargetType: settings.explicitTargetType,
    healthCheck: settings.healthCheck,
    healthCheckDefaulted: settings.healthCheckDefaulted,
    followReadinessProbes: settings.lbc.hcPath === undefined && settings.healthCheck.protocol === 'HTTP',
    ...(input.companionNodePorts ? { companionNodePorts: input.companionNodePorts } : {}),
    ...(input.pods ? { pods: input.pods } : {}),
    perBackend,
    ...(provider.capabilities.instanceTargetsNeedNodePort ? { instanceTargetsNeedNodePort: provider.capabilities.instanceTargetsNeedNodePort } : {}),
  });
  if (sets.errors.length > 0) return { ok: false, reason: 'invalid', errors: sets.errors };
  if (sets.companions.length > 0) return { ok: false, reason: 'needsCompanions', companions: sets.companions, backends: sets.decisions };

  const { rules, actionRules, defaultAction } = named;
  const defaultBackend = named.defaultBackend ?? systemDefault;
  const tlsHosts = tls.hosts();
  const actionTargetSets = actions.targetSets();
  return {
    ok: true,
    group: group.group,
    backends: sets.decisions,
    probePods: sets.probePods,
    refusedHosts: claims.refused,
    spec: {
      layer: 'L7',
      ref,
      provider: provider.name,
      className: input.className,
      clusterName: input.clusterName,
      listeners: buildListeners(tls.certificates(settings.lbc.certificateIds)),
      rules,
      ...(defaultBackend !== undefined ? { defaultBackend } : {}),
      ...(actionRules.length > 0 ? { actionRules } : {}),
      ...(defaultAction !== undefined ? { defaultAction } : {}),
      ...(tlsHosts.length > 0 ? { tlsHosts } : {}),
      ...(actionTargetSets ? { actionTargetSets } : {}),
      ...(secrets ? { secrets } : {}),
      ...(ownOptions ? { memberOptions: ownOptions } : {}),
      targetSets: sets.targetSets,
      sourceRanges: settings.lbc.sourceRanges ?? [],
      requestedAddresses: [],
      ipFamilies: ['IPv4'],
      tags: { ...settings.lbc.tags, ...ownershipTags(input.clusterName, ref) },
      providerOptions: settings.options,
    },
  };
}
