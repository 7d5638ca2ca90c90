// Ingress (or a group of Ingresses sharing one LB) → L7 LoadBalancerSpec. Pure.
//
// Grouping: Ingresses with the same `lbc.dev/group.name` (or aws-load-balancer-
// controller's `alb.ingress.kubernetes.io/group.name`) share one LB; the others get one
// each. Members are ordered by group.order (default 0), then namespace, then name, and
// their rules follow in that order. Group-wide annotations (lbc.dev/* and the
// provider's prefixes) are merged across members; two members setting one to different
// values is an error naming both.
//
// Paths: Exact and Prefix as the Ingress API defines them (see model/routes.ts).
// ImplementationSpecific is passed through as declared, and lbc's own matcher treats it
// as Prefix; a provider with a native meaning (ALB wildcards) may use that instead.
//
// Backends: a Service port with a node port gets instance targets (unless ip is asked
// for); a ClusterIP Service gets ip targets from its EndpointSlices when the provider
// can do ip, else a companion NodePort Service (owned by the Ingress, the user's
// Service untouched) is requested. Each choice is reported so the reconciler can say it
// in an Event.
import type { V1EndpointSlice, V1Ingress, V1IngressBackend, V1Node, V1Pod, V1Secret, V1Service, V1ServicePort } from '@kubernetes/client-node';
import { parseAnnotations } from '../model/annotations.js';
import { podTargets, probePodOf, readinessProbePath, slicesOfService, type PodRef } from './endpoints.js';
import { applyHealthCheckOverrides } from './health-check.js';
import { ANNOTATION_TARGET_TYPE, ingressGroupAnnotations, ingressMemberAnnotations } from '../model/lbc-annotations.js';
import { toNodeTargets } from './nodes.js';
import { LEGACY_INGRESS_CLASS_ANNOTATION } from '../config/ownership.js';
import { chooseTargetType, type ModelProvider } from './service-model.js';
import { readTlsSecret } from './tls-secret.js';
import { ingressGroupRef, type LbRef } from '../model/ref.js';
import {
  actionServiceKey,
  ownershipTags,
  type ActionRule,
  type L7Listener,
  type L7Spec,
  type PathType,
  type ProviderOptions,
  type Rule,
  type TargetSet,
  type TargetType,
  type TlsCertificate,
} from '../model/spec.js';
import type { ModelError } from '../model/validation.js';

export { matchRoute, type RouteRule } from '../model/routes.js';

export const HTTP_PORT = 80;
export const HTTPS_PORT = 443;

// ---- grouping ------------------------------------------------------------------

export type IngressGroupIdentity =
  | { readonly explicit: true; readonly name: string; readonly key: string }
  | { readonly explicit: false; readonly namespace: string; readonly name: string; readonly key: string };

// Per-member by design (group.order differs between members; the legacy class is ownership's business).
/** aws-load-balancer-controller's port name for a backend that is an annotation action. */
export const USE_ANNOTATION = 'use-annotation';

const NOT_GROUP_WIDE = new Set([...Object.values(ingressMemberAnnotations).flatMap((f) => f.names), LEGACY_INGRESS_CLASS_ANNOTATION]);

const objectName = (ing: V1Ingress): string => `Ingress ${ing.metadata?.namespace ?? ''}/${ing.metadata?.name ?? ''}`;

/** Which LB an Ingress belongs to; `key` is the work-queue key for the whole group. */
export function ingressGroupOf(ingress: V1Ingress): { ok: true; group: IngressGroupIdentity } | { ok: false; errors: ModelError[] } {
  const r = parseAnnotations(ingressMemberAnnotations, ingress.metadata?.annotations);
  if (!r.ok) return { ok: false, errors: r.errors.map((e) => ({ ...e, object: objectName(ingress) })) };
  const name = r.value.groupName;
  if (name !== undefined) return { ok: true, group: { explicit: true, name, key: `group/${name}` } };
  const namespace = ingress.metadata?.namespace ?? '';
  const own = ingress.metadata?.name ?? '';
  return { ok: true, group: { explicit: false, namespace, name: own, key: `ingress/${namespace}/${own}` } };
}

/**
 * The Services an Ingress's annotation actions forward to (names, in its namespace), as
 * the providers that have actions read them: every `<prefix>actions.<name>` for each
 * prefix such a provider reads, the keys the builder resolves. Every action counts, used
 * by the Ingress's own backends or not: actions are group-wide, so another member may be
 * the one with the `use-annotation` backend. The cache indexes Ingresses before any
 * Ingress's provider is chosen, hence every configured provider's reading.
 */
export function actionServicesOf(providers: readonly Pick<ModelProvider, 'capabilities' | 'actionServices'>[]): (ing: V1Ingress) => string[] {
  const readers = providers.flatMap((provider) =>
    provider.actionServices ? provider.capabilities.annotationPrefixes.map((prefix) => ({ actions: `${prefix}actions.`, provider })) : [],
  );
  return (ing) => {
    const names: string[] = [];
    for (const [key, value] of Object.entries(ing.metadata?.annotations ?? {})) {
      for (const r of readers) if (key.startsWith(r.actions)) names.push(...(r.provider.actionServices?.(value) ?? []).map((ref) => ref.service));
    }
    return names;
  };
}

// ---- building ------------------------------------------------------------------

export interface IngressModelInput<O extends ProviderOptions = ProviderOptions> {
  /**
   * Every live member of one group (same ingressGroupOf key, same provider). Members
   * being deleted should be left out: they are leaving the group.
   */
  readonly ingresses: readonly V1Ingress[];
  readonly services: readonly V1Service[];
  readonly endpointSlices: readonly V1EndpointSlice[];
  readonly secrets: readonly V1Secret[];
  /** Nodes that may receive traffic (trackNodes' eligible set). */
  readonly nodes: readonly V1Node[];
  readonly provider: ModelProvider<O>;
  readonly className: string;
  readonly clusterName: string;
  /** Node ports of companion NodePort Services already in place, by BackendDecision.key. */
  readonly companionNodePorts?: ReadonlyMap<string, number>;
  /**
   * The Pods a previous build named in `probePods`, as the reconciler read them. A
   * backend whose Pod is here and has an HTTP readiness probe gets its path as the
   * health check's readinessProbePath (unless the user set a path).
   */
  readonly pods?: readonly V1Pod[];
}

export interface BackendRef {
  readonly namespace: string;
  readonly service: string;
  /** The Service port number (resolved when the Ingress named the port). */
  readonly port: number;
}

export interface BackendDecision {
  /** `namespace/service:port`; also the target set's name. */
  readonly key: string;
  readonly backend: BackendRef;
  readonly targetType: TargetType;
  /** nodePort: the Service's own; companionNodePort: a companion Service's; endpoints: pod IPs. */
  readonly via: 'nodePort' | 'companionNodePort' | 'endpoints';
  /** One sentence for the Event. */
  readonly reason: string;
}

/** A NodePort Service the reconciler should create (owned by the Ingress) so instance targets have a port. */
export interface CompanionRequest {
  readonly key: string;
  readonly backend: BackendRef;
  readonly servicePort: { readonly name?: string; readonly port: number; readonly targetPort: number | string; readonly protocol: 'TCP' };
}

export type IngressModelResult<O extends ProviderOptions = ProviderOptions> =
  | {
      readonly ok: true;
      readonly spec: L7Spec<O>;
      readonly backends: readonly BackendDecision[];
      readonly group: IngressGroupIdentity;
      /** One ready Pod per backend, whose readiness probe the health check may follow; pass them back as `pods`. */
      readonly probePods: readonly PodRef[];
    }
  | { readonly ok: false; readonly reason: 'invalid'; readonly errors: readonly ModelError[] }
  | {
      readonly ok: false;
      readonly reason: 'needsCompanions';
      readonly companions: readonly CompanionRequest[];
      readonly backends: readonly BackendDecision[];
    };

interface Member {
  readonly ingress: V1Ingress;
  readonly namespace: string;
  readonly name: string;
  readonly order: number;
}

interface ResolvedBackend {
  readonly key: string;
  readonly backend: BackendRef;
  readonly service: V1Service;
  readonly port: V1ServicePort;
}

const HOST = /^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const PATH_TYPES: readonly PathType[] = ['Exact', 'Prefix', 'ImplementationSpecific'];
const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function sortMembers(members: Member[]): Member[] {
  return members.sort((a, b) => a.order - b.order || cmp(a.namespace, b.namespace) || cmp(a.name, b.name));
}

/** The group-wide annotations: union over members of the keys lbc and the provider read. */
function mergeGroupAnnotations(members: readonly Member[], prefixes: readonly string[]): { merged: Record<string, string>; errors: ModelError[] } {
  const merged: Record<string, string> = {};
  const setBy: Record<string, Member> = {};
  const errors: ModelError[] = [];
  for (const m of members) {
    for (const [k, v] of Object.entries(m.ingress.metadata?.annotations ?? {})) {
      if (NOT_GROUP_WIDE.has(k) || !prefixes.some((p) => k.startsWith(p))) continue;
      const first = setBy[k];
      if (first === undefined) {
        merged[k] = v;
        setBy[k] = m;
      } else if (merged[k]?.trim() !== v.trim()) {
        errors.push({
          annotation: k,
          object: objectName(m.ingress),
          reason: `conflicts within the group: ${objectName(first.ingress)} sets ${JSON.stringify(merged[k])}, this one ${JSON.stringify(v)}`,
        });
      }
    }
  }
  return { merged, errors };
}

export function buildIngressModel<O extends ProviderOptions>(input: IngressModelInput<O>): IngressModelResult<O> {
  const { provider } = input;
  const errors: ModelError[] = [];
  const invalid = (): IngressModelResult<O> => ({ ok: false, reason: 'invalid', errors });

  if (input.ingresses.length === 0) {
    errors.push({ field: 'ingresses', reason: 'a group needs at least one Ingress' });
    return invalid();
  }

  // Membership and order.
  let group: IngressGroupIdentity | undefined;
  const members: Member[] = [];
  for (const ing of input.ingresses) {
    const g = ingressGroupOf(ing);
    const m = parseAnnotations(ingressMemberAnnotations, ing.metadata?.annotations);
    if (!g.ok || !m.ok) {
      if (!g.ok) errors.push(...g.errors);
      continue;
    }
    if (group === undefined) group = g.group;
    else if (group.key !== g.group.key) {
      errors.push({ field: 'metadata.annotations', object: objectName(ing), reason: `belongs to ${g.group.key}, not ${group.key}` });
    }
    members.push({ ingress: ing, namespace: ing.metadata?.namespace ?? '', name: ing.metadata?.name ?? '', order: m.value.groupOrder });
  }
  if (group === undefined || errors.length > 0) return invalid();
  sortMembers(members);
  const first = members[0];
  if (!first) return invalid();
  if (!group.explicit && first.ingress.metadata?.uid === undefined) {
    errors.push({ field: 'metadata.uid', object: objectName(first.ingress), reason: 'is required' });
    return invalid();
  }
  const ref: LbRef = group.explicit
    ? ingressGroupRef(group.name)
    : { kind: 'Ingress', namespace: first.namespace, name: first.name, uid: first.ingress.metadata?.uid ?? '' };

  if (!provider.capabilities.layers.includes('L7')) {
    errors.push({ field: 'spec.ingressClassName', object: objectName(first.ingress), reason: `provider ${provider.name} does not serve Ingresses (no L7 support)` });
  }

  // Group-wide settings.
  const merge = mergeGroupAnnotations(members, ['lbc.dev/', ...provider.capabilities.annotationPrefixes]);
  errors.push(...merge.errors);
  const lbc = parseAnnotations(ingressGroupAnnotations, merge.merged);
  if (!lbc.ok) errors.push(...lbc.errors);
  const parsed = provider.parseOptions ? provider.parseOptions(merge.merged, 'Ingress') : { ok: true as const, options: {} as O };
  if (!parsed.ok) errors.push(...parsed.errors);
  const choice = chooseTargetType(provider, lbc.ok ? lbc.value.targetType : undefined, parsed.ok ? parsed.targetType : undefined);
  if (!choice.ok) errors.push(choice.error);
  const hc = lbc.ok ? applyHealthCheckOverrides({ protocol: 'HTTP', port: 'traffic-port', path: '/' }, lbc.value) : undefined;
  if (hc && !hc.ok) errors.push(...hc.errors);

  // Rules, default backend and TLS, member by member.
  const services = new Map(input.services.map((s) => [`${s.metadata?.namespace ?? ''}/${s.metadata?.name ?? ''}`, s]));
  const secrets = new Map(input.secrets.map((s) => [`${s.metadata?.namespace ?? ''}/${s.metadata?.name ?? ''}`, s]));
  const backends = new Map<string, ResolvedBackend>();
  const rules: Rule[] = [];
  const ruleOwner = new Map<string, Rule>();
  let defaultBackend: { key: string; source: string } | undefined;
  // Backends `port.name: use-annotation` name an action the provider defines in an
  // annotation (aws-load-balancer-controller's `actions.<name>`), not a Service.
  const actionRules: ActionRule[] = [];
  const actionOwner = new Map<string, ActionRule>();
  let defaultAction: { action: string; source: string } | undefined;
  const actionOf = (b: V1IngressBackend | undefined, field: string, object: string): string | undefined | null => {
    if (b?.service?.port?.name !== USE_ANNOTATION) return null;
    const name = b.service.name;
    const keys = provider.capabilities.annotationPrefixes.map((p) => `${p}actions.${name}`);
    if (keys.some((k) => merge.merged[k] !== undefined)) return name;
    // Name the prefix the group already uses for actions, if any, rather than every prefix the provider reads.
    const used = keys.filter((k) => Object.keys(merge.merged).some((m) => m.startsWith(k.slice(0, k.length - name.length))));
    const named = used.length > 0 ? used : keys;
    errors.push({
      field: `${field}.service.name`,
      object,
      reason: named.length > 0 ? `port ${USE_ANNOTATION} refers to the action ${name}, but no ${named.join(' or ')} annotation defines it` : `port ${USE_ANNOTATION} needs a provider with annotation actions; ${provider.name} has none`,
    });
    return undefined;
  };
  const certs = new Map<string, TlsCertificate>();
  const tlsHosts = new Set<string>();
  // Services an action forwards to become target sets exactly as rule backends do
  // (resolve below), in the namespace of the Ingress that uses the action, as
  // aws-load-balancer-controller does. Only the provider reads its action format.
  const actionTargetSets = new Map<string, { namespace: string; sets: Record<string, string> }>();
  const resolveActionServices = (m: Member, action: string, object: string): void => {
    const key = provider.capabilities.annotationPrefixes.map((p) => `${p}actions.${action}`).find((k) => merge.merged[k] !== undefined);
    const value = key === undefined ? undefined : merge.merged[key];
    if (key === undefined || value === undefined || !provider.actionServices) return;
    const earlier = actionTargetSets.get(action);
    if (earlier && earlier.namespace !== m.namespace) {
      errors.push({ annotation: key, object, reason: `forwards to Services by name, and Ingresses of namespaces ${earlier.namespace} and ${m.namespace} both use it; give each namespace its own action` });
      return;
    }
    if (earlier) return; // resolved (or reported) when another rule used it
    const sets: Record<string, string> = {};
    provider.actionServices(value).forEach((ref, i) => {
      // aws-load-balancer-controller's servicePort is an int-or-string; "80" is meant as the number.
      const port = typeof ref.port === 'number' || (ref.port !== undefined && /^\d+$/.test(ref.port)) ? { number: Number(ref.port) } : ref.port !== undefined ? { name: ref.port } : undefined;
      const set = resolve(m, { service: { name: ref.service, ...(port ? { port } : {}) } }, `metadata.annotations[${key}].forwardConfig.targetGroups[${i}]`);
      if (set !== undefined) sets[actionServiceKey(ref.service, ref.port)] = set;
    });
    actionTargetSets.set(action, { namespace: m.namespace, sets });
  };

  const resolve = (m: Member, b: V1IngressBackend, field: string): string | undefined => {
    const object = objectName(m.ingress);
    if (!b.service) {
      errors.push({ field, object, reason: 'only Service backends are supported (resource backends are not)' });
      return undefined;
    }
    const svc = services.get(`${m.namespace}/${b.service.name}`);
    if (!svc) {
      errors.push({ field: `${field}.service.name`, object, reason: `Service ${m.namespace}/${b.service.name} does not exist` });
      return undefined;
    }
    const want = b.service.port;
    const port =
      want?.number !== undefined
        ? svc.spec?.ports?.find((p) => p.port === want.number)
        : want?.name !== undefined
          ? svc.spec?.ports?.find((p) => p.name === want.name)
          : undefined;
    if (!port) {
      const asked = want?.number ?? want?.name;
      errors.push({
        field: `${field}.service.port`,
        object,
        reason: asked === undefined ? 'a port number or name is required' : `Service ${m.namespace}/${b.service.name} has no port ${asked}`,
      });
      return undefined;
    }
    if ((port.protocol ?? 'TCP') !== 'TCP') {
      errors.push({ field: `${field}.service.port`, object, reason: `Service port ${port.port} is ${port.protocol ?? ''}; HTTP needs TCP` });
      return undefined;
    }
    const key = `${m.namespace}/${b.service.name}:${port.port}`;
    backends.set(key, { key, backend: { namespace: m.namespace, service: b.service.name, port: port.port }, service: svc, port });
    return key;
  };

  for (const m of members) {
    const object = objectName(m.ingress);
    const source = `${m.namespace}/${m.name}`;
    const spec = m.ingress.spec ?? {};
    (spec.rules ?? []).forEach((r, i) => {
      const host = r.host === undefined || r.host === '' ? undefined : r.host.toLowerCase();
      if (host !== undefined && !HOST.test(host)) {
        errors.push({ field: `spec.rules[${i}].host`, object, reason: `${JSON.stringify(r.host)} is not a host name or *.wildcard` });
        return;
      }
      (r.http?.paths ?? []).forEach((p, j) => {
        const field = `spec.rules[${i}].http.paths[${j}]`;
        const pathType = p.pathType as PathType;
        if (!PATH_TYPES.includes(pathType)) {
          errors.push({ field: `${field}.pathType`, object, reason: `${JSON.stringify(p.pathType)} is not one of ${PATH_TYPES.join(', ')}` });
          return;
        }
        const path = p.path === undefined || p.path === '' ? '/' : p.path;
        if (!path.startsWith('/')) {
          errors.push({ field: `${field}.path`, object, reason: `${JSON.stringify(p.path)} must start with /` });
          return;
        }
        const action = actionOf(p.backend, `${field}.backend`, object);
        if (action === undefined) return;
        if (action !== null) {
          resolveActionServices(m, action, object);
          const id = JSON.stringify([host ?? '', path, pathType]);
          const earlier = ruleOwner.get(id) ?? actionOwner.get(id);
          const rule: ActionRule = { ...(host !== undefined ? { host } : {}), path, pathType, action, source, before: rules.length };
          if (!earlier) {
            actionOwner.set(id, rule);
            actionRules.push(rule);
          } else if (!('action' in earlier) || earlier.action !== action) {
            errors.push({ field, object, reason: `${host ?? '*'} ${path} (${pathType}) already routes elsewhere (from Ingress ${earlier.source})` });
          }
          return;
        }
        const key = resolve(m, p.backend, `${field}.backend`);
        if (key === undefined) return;
        const rule: Rule = { ...(host !== undefined ? { host } : {}), path, pathType, targetSet: key, source };
        const id = JSON.stringify([host ?? '', path, pathType]);
        const earlier = ruleOwner.get(id);
        const earlierAction = actionOwner.get(id);
        if (earlierAction) {
          errors.push({ field, object, reason: `${host ?? '*'} ${path} (${pathType}) already routes to the action ${earlierAction.action} (from Ingress ${earlierAction.source})` });
        } else if (!earlier) {
          ruleOwner.set(id, rule);
          rules.push(rule);
        } else if (earlier.targetSet !== key) {
          errors.push({
            field,
            object,
            reason: `${host ?? '*'} ${path} (${pathType}) already routes to ${earlier.targetSet} (from Ingress ${earlier.source})`,
          });
        }
      });
    });
    const defaultActionName = spec.defaultBackend ? actionOf(spec.defaultBackend, 'spec.defaultBackend', object) : null;
    if (typeof defaultActionName === 'string') {
      if ((defaultAction && defaultAction.action !== defaultActionName) || defaultBackend) {
        errors.push({ field: 'spec.defaultBackend', object, reason: `the group already has a default backend (from Ingress ${(defaultAction ?? defaultBackend)?.source ?? ''})` });
      } else {
        defaultAction = { action: defaultActionName, source };
        resolveActionServices(m, defaultActionName, object);
      }
    } else if (spec.defaultBackend && defaultActionName === null) {
      const key = resolve(m, spec.defaultBackend, 'spec.defaultBackend');
      if (key !== undefined) {
        if ((defaultBackend && defaultBackend.key !== key) || defaultAction) {
          errors.push({
            field: 'spec.defaultBackend',
            object,
            reason: `the group already has default backend ${defaultBackend?.key ?? defaultAction?.action ?? ''} (from Ingress ${(defaultBackend ?? defaultAction)?.source ?? ''})`,
          });
        } else defaultBackend = { key, source };
      }
    }
    (spec.tls ?? []).forEach((t, i) => {
      const hosts = (t.hosts ?? []).map((h) => h.toLowerCase());
      for (const h of hosts) tlsHosts.add(h);
      if (!t.secretName) {
        // A provider that finds certificates by host needs only the hosts.
        if (!provider.capabilities.certificatesByHost) errors.push({ field: `spec.tls[${i}].secretName`, object, reason: 'is required (lbc has no default certificate)' });
        return;
      }
      const id = `${m.namespace}/${t.secretName}`;
      const seen = certs.get(id);
      if (seen) {
        certs.set(id, { ...seen, hosts: [...new Set([...seen.hosts, ...hosts])].sort() });
        return;
      }
      const s = readTlsSecret(secrets.get(id), m.namespace, t.secretName);
      if (!s.ok) {
        errors.push({ field: `spec.tls[${i}].secretName`, object, reason: s.reason });
        return;
      }
      certs.set(id, {
        source: 'secret',
        secretRef: { namespace: m.namespace, name: t.secretName },
        hosts: [...new Set(hosts)].sort(),
        certPem: s.certPem,
        keyPem: s.keyPem,
      });
    });
  }
  if (errors.length === 0 && rules.length === 0 && actionRules.length === 0 && !defaultBackend && !defaultAction) {
    errors.push({ field: 'spec', object: objectName(first.ingress), reason: 'no rule has a path and there is no defaultBackend: nothing to route' });
  }

  if (errors.length > 0 || !lbc.ok || !parsed.ok || !choice.ok || !hc?.ok) return invalid();

  // Target sets: one per backend Service port.
  const decisions: BackendDecision[] = [];
  const companions: CompanionRequest[] = [];
  const targetSets: TargetSet[] = [];
  const nodeTargets = toNodeTargets(input.nodes);
  const supportsIp = provider.capabilities.targetTypes.includes('ip');
  const pods = new Map((input.pods ?? []).map((p) => [`${p.metadata?.namespace ?? ''}/${p.metadata?.name ?? ''}`, p]));
  const probePods: PodRef[] = [];
  for (const b of [...backends.values()].sort((x, y) => cmp(x.key, y.key))) {
    const svcType = b.service.spec?.type ?? 'ClusterIP';
    const ownNodePort = svcType === 'NodePort' || svcType === 'LoadBalancer' ? b.port.nodePort : undefined;
    const companionPort = input.companionNodePorts?.get(b.key);
    // A path the user chose wins over the probe's, as with ingress-gce's BackendConfig;
    // then the Pod is not named, so the reconciler does not read it for nothing.
    const probeUsable = lbc.value.hcPath === undefined && hc.healthCheck.protocol === 'HTTP';
    const probePod = probeUsable ? probePodOf(slicesOfService(input.endpointSlices, b.backend.namespace, b.backend.service), b.port) : undefined;
    if (probePod) probePods.push(probePod);
    const pod = probePod && pods.get(`${probePod.namespace}/${probePod.name}`);
    const probePath = pod ? readinessProbePath(pod, b.port.targetPort ?? b.port.port) : undefined;
    const healthCheck = probePath !== undefined ? { ...hc.healthCheck, readinessProbePath: probePath } : hc.healthCheck;
    const common = { name: b.key, protocol: 'HTTP' as const, healthCheck, backend: b.backend };
    const ipSet = (): TargetSet => ({
      ...common,
      type: 'ip',
      port: b.port.targetPort ?? b.port.port,
      targets: podTargets(slicesOfService(input.endpointSlices, b.backend.namespace, b.backend.service), b.port),
    });
    const wantIp = choice.targetType === 'ip';
    if (wantIp) {
      targetSets.push(ipSet());
      decisions.push({ key: b.key, backend: b.backend, targetType: 'ip', via: 'endpoints', reason: `${b.key}: ip targets (target type ip)` });
    } else if (ownNodePort !== undefined) {
      targetSets.push({ ...common, type: 'instance', nodePort: ownNodePort, targets: nodeTargets });
      decisions.push({ key: b.key, backend: b.backend, targetType: 'instance', via: 'nodePort', reason: `${b.key}: instance targets on the Service's node port ${ownNodePort}` });
    } else if (!choice.explicit && supportsIp) {
      targetSets.push(ipSet());
      decisions.push({
        key: b.key,
        backend: b.backend,
        targetType: 'ip',
        via: 'endpoints',
        reason: `${b.key}: ip targets, because the Service is ${svcType} and has no node port`,
      });
    } else if (companionPort !== undefined) {
      targetSets.push({ ...common, type: 'instance', nodePort: companionPort, targets: nodeTargets });
      decisions.push({
        key: b.key,
        backend: b.backend,
        targetType: 'instance',
        via: 'companionNodePort',
        reason: `${b.key}: instance targets on companion NodePort Service port ${companionPort}, because the Service is ${svcType}`,
      });
    } else {
      companions.push({
        key: b.key,
        backend: b.backend,
        servicePort: {
          ...(b.port.name !== undefined ? { name: b.port.name } : {}),
          port: b.port.port,
          targetPort: b.port.targetPort ?? b.port.port,
          protocol: 'TCP',
        },
      });
      decisions.push({
        key: b.key,
        backend: b.backend,
        targetType: 'instance',
        via: 'companionNodePort',
        reason: `${b.key}: needs a companion NodePort Service, because the Service is ${svcType} and ${ANNOTATION_TARGET_TYPE} (or the provider) asks for instance targets`,
      });
    }
  }
  if (companions.length > 0) return { ok: false, reason: 'needsCompanions', companions, backends: decisions };

  for (const id of lbc.value.certificateIds) certs.set(`provider:${id}`, { source: 'provider', id, hosts: [] });
  const certificates = [...certs.entries()].sort(([a], [b]) => cmp(a, b)).map(([, c]) => c);
  const listeners: L7Listener[] = [{ protocol: 'HTTP', port: HTTP_PORT }];
  if (certificates.length > 0) listeners.push({ protocol: 'HTTPS', port: HTTPS_PORT, certificates });

  const tags: Record<string, string> = { ...lbc.value.tags, ...ownershipTags(input.clusterName, ref) };
  return {
    ok: true,
    group,
    backends: decisions,
    probePods,
    spec: {
      layer: 'L7',
      ref,
      provider: provider.name,
      className: input.className,
      clusterName: input.clusterName,
      listeners,
      rules,
      ...(defaultBackend ? { defaultBackend: defaultBackend.key } : {}),
      ...(actionRules.length > 0 ? { actionRules } : {}),
      ...(defaultAction ? { defaultAction: defaultAction.action } : {}),
      ...(tlsHosts.size > 0 ? { tlsHosts: [...tlsHosts].sort() } : {}),
      ...(actionTargetSets.size > 0
        ? { actionTargetSets: Object.fromEntries([...actionTargetSets.entries()].sort(([x], [y]) => cmp(x, y)).map(([k, v]) => [k, v.sets])) }
        : {}),
      targetSets,
      sourceRanges: lbc.value.sourceRanges ?? [],
      requestedAddresses: [],
      ipFamilies: ['IPv4'],
      tags,
      providerOptions: parsed.options,
    },
  };
}
