// The group part of buildIngressModel: which Ingresses share one load balancer, in
// which order, under which ref, and the settings they share.
//
// Ingresses with the same `lbc.dev/group.name` (or aws-load-balancer-controller's
// `alb.ingress.kubernetes.io/group.name`) share one LB; the others get one each.
// Members are ordered by group.order (default 0), then namespace, then name, and their
// rules follow in that order, as aws-load-balancer-controller's group_loader.go sorts
// them. Group-wide annotations (lbc.dev/* and the provider's prefixes) are merged across
// members; two members setting one to different values is an error naming both, except
// where the provider scopes an annotation per backend or merges its values.
import type { V1Ingress, V1Service } from '@kubernetes/client-node';
import { parseAnnotations, type AnnotationValues } from '../../model/annotations.js';
import { applyHealthCheckOverrides } from '../health-check.js';
import { ingressGroupAnnotations, ingressMemberAnnotations } from '../../model/lbc-annotations.js';
import { LEGACY_INGRESS_CLASS_ANNOTATION } from '../../config/ownership.js';
import { chooseTargetType, type ModelProvider } from '../service-model.js';
import { ingressGroupRef, type LbRef } from '../../model/ref.js';
import type { DefaultedFields, HealthCheck, ProviderOptions, TargetType } from '../../model/spec.js';
import type { ModelError } from '../../model/validation.js';
import type { AnnotationScopes, MergeKind } from '../../providers/types.js';
import { codePointOrder } from './order.js';
import { classParamsAnnotations } from './class-params.js';

export type IngressGroupIdentity =
  | { readonly explicit: true; readonly name: string; readonly key: string }
  | { readonly explicit: false; readonly namespace: string; readonly name: string; readonly key: string };

export interface Member {
  readonly ingress: V1Ingress;
  readonly namespace: string;
  readonly name: string;
  readonly order: number;
}

export const objectName = (ing: V1Ingress): string => `Ingress ${ing.metadata?.namespace ?? ''}/${ing.metadata?.name ?? ''}`;

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

export type GroupMembers =
  | {
      readonly ok: true;
      readonly group: IngressGroupIdentity;
      /** In rule order; never empty. */
      readonly members: readonly [Member, ...Member[]];
      readonly ref: LbRef;
    }
  | { readonly ok: false; readonly errors: readonly ModelError[] };

/**
 * The members of one group, sorted, and the ref of their LB: the group's own for an
 * explicit group, else the lone Ingress's (which needs its uid to own cloud resources).
 */
export function groupMembers(ingresses: readonly V1Ingress[]): GroupMembers {
  if (ingresses.length === 0) return { ok: false, errors: [{ field: 'ingresses', reason: 'a group needs at least one Ingress' }] };
  const errors: ModelError[] = [];
  let group: IngressGroupIdentity | undefined;
  const members: Member[] = [];
  for (const ing of ingresses) {
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
  members.sort((a, b) => a.order - b.order || codePointOrder(a.namespace, b.namespace) || codePointOrder(a.name, b.name));
  const [first, ...rest] = members;
  if (group === undefined || errors.length > 0 || !first) return { ok: false, errors };
  if (group.explicit) return { ok: true, group, members: [first, ...rest], ref: ingressGroupRef(group.name) };
  const uid = first.ingress.metadata?.uid;
  if (uid === undefined) return { ok: false, errors: [{ field: 'metadata.uid', object: objectName(first.ingress), reason: 'is required' }] };
  return { ok: true, group, members: [first, ...rest], ref: { kind: 'Ingress', namespace: first.namespace, name: first.name, uid } };
}

// Per member by design: group.order differs between members, and the legacy class is ownership's business.
const NOT_GROUP_WIDE = new Set([...Object.values(ingressMemberAnnotations).flatMap((f) => f.names), LEGACY_INGRESS_CLASS_ANNOTATION]);

/**
 * The group-wide annotations: union over members of the keys under `prefixes`.
 *
 * As aws-load-balancer-controller's annotations.md MergeBehavior column: an Exclusive
 * annotation set on several members must have one value (else an error naming both); a
 * Merge one (`scopes.merged`: tags, certificate-arn) is combined; the per-target-set ones
 * (location "Ingress,Service", MergeBehavior N/A) are not group-wide at all:
 * targetSetAnnotations reads them per member and backend; nor are the per-Ingress ones
 * (listen-ports): memberOptions reads them per member.
 */
export function mergeGroupAnnotations(
  members: readonly Member[],
  prefixes: readonly string[],
  scopes?: AnnotationScopes,
): { merged: Record<string, string>; errors: ModelError[] } {
  const perTarget = new Set([...(scopes?.perTargetSet ?? []), ...(scopes?.perIngress ?? [])]);
  const merged: Record<string, string> = {};
  const setBy: Record<string, Member> = {};
  const combined = new Map<string, { kind: MergeKind; values: { member: Member; value: string }[] }>();
  const errors: ModelError[] = [];
  for (const m of members) {
    for (const [k, v] of Object.entries(m.ingress.metadata?.annotations ?? {})) {
      if (NOT_GROUP_WIDE.has(k) || perTarget.has(k) || !prefixes.some((p) => k.startsWith(p))) continue;
      const kind = scopes?.merged[k];
      if (kind !== undefined) {
        const entry = combined.get(k) ?? { kind, values: [] };
        entry.values.push({ member: m, value: v });
        combined.set(k, entry);
        continue;
      }
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
  for (const [k, { kind, values }] of combined) merged[k] = combineValues(k, kind, values, errors);
  return { merged, errors };
}

/** One annotation's values from several members as one value; a value that does not parse is passed on for the provider to report. */
function combineValues(annotation: string, kind: MergeKind, values: readonly { member: Member; value: string }[], errors: ModelError[]): string {
  if (values.length === 1) return values[0]?.value ?? '';
  if (kind === 'stringList') {
    return [...new Set(values.flatMap((x) => x.value.split(',').map((s) => s.trim()).filter((s) => s !== '')))].join(',');
  }
  if (kind === 'jsonList') {
    const items = new Map<string, unknown>();
    for (const x of values) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(x.value);
      } catch {
        return x.value;
      }
      if (!Array.isArray(parsed)) return x.value;
      for (const item of parsed) items.set(JSON.stringify(item), item);
    }
    return JSON.stringify([...items.values()]);
  }
  // stringMap: keys union; one key with two values is the same conflict as an Exclusive annotation's.
  const pairs = new Map<string, { value: string; member: Member }>();
  for (const x of values) {
    for (const item of x.value.split(',')) {
      const eq = item.indexOf('=');
      if (item.trim() === '') continue;
      if (eq < 0) return x.value;
      const key = item.slice(0, eq).trim();
      const value = item.slice(eq + 1).trim();
      const first = pairs.get(key);
      if (first === undefined) pairs.set(key, { value, member: x.member });
      else if (first.value !== value) {
        errors.push({
          annotation,
          object: objectName(x.member.ingress),
          reason: `key ${JSON.stringify(key)} conflicts within the group: ${objectName(first.member.ingress)} sets ${JSON.stringify(first.value)}, this one ${JSON.stringify(value)}`,
        });
      }
    }
  }
  return [...pairs].map(([k, { value }]) => `${k}=${value}`).join(',');
}

/**
 * The per-target-set annotations of one backend: the member Ingress's, each overridden by
 * the backend Service's ("Annotations applied to Service have higher priority over
 * annotations applied to Ingress", aws-load-balancer-controller annotations.md).
 */
export function targetSetAnnotations(member: Member, service: V1Service, scopes: AnnotationScopes): Record<string, string> {
  const out: Record<string, string> = {};
  const fromIngress = member.ingress.metadata?.annotations ?? {};
  const fromService = service.metadata?.annotations ?? {};
  // Except what the class's IngressClassParams set (targetType): the administrator's setting comes first.
  const fromParams = classParamsAnnotations(member.ingress);
  for (const k of scopes.perTargetSet) {
    const v = fromParams[k] ?? fromService[k] ?? fromIngress[k];
    if (v !== undefined) out[k] = v;
  }
  return out;
}

/** What the members' merged annotations ask of the whole LB. */
export interface GroupSettings<O extends ProviderOptions = ProviderOptions> {
  readonly lbc: AnnotationValues<typeof ingressGroupAnnotations>;
  readonly options: O;
  readonly targetType: TargetType;
  /** Whether an annotation (lbc's or the provider's) chose the target type, rather than the provider's default. */
  readonly explicitTargetType: boolean;
  /** Of every target set, before a backend's readiness probe lends its path. */
  readonly healthCheck: HealthCheck;
  /** Which of healthCheck's values the builder chose. */
  readonly healthCheckDefaulted: DefaultedFields;
}

export interface GroupSettingsResult<O extends ProviderOptions> {
  /** The merged group-wide annotations, even when some do not parse: the rules read the actions in them. */
  readonly annotations: Readonly<Record<string, string>>;
  readonly errors: readonly ModelError[];
  /** Undefined when any error was found. */
  readonly settings: GroupSettings<O> | undefined;
}

/** The provider must serve L7; then lbc's group annotations and the provider's, parsed once over the merged set. */
export function groupSettings<O extends ProviderOptions>(members: readonly [Member, ...Member[]], provider: ModelProvider<O>): GroupSettingsResult<O> {
  const errors: ModelError[] = [];
  if (!provider.capabilities.layers.includes('L7')) {
    errors.push({ field: 'spec.ingressClassName', object: objectName(members[0].ingress), reason: `provider ${provider.name} does not serve Ingresses (no L7 support)` });
  }
  const merge = mergeGroupAnnotations(members, ['lbc.dev/', ...provider.capabilities.annotationPrefixes], provider.capabilities.annotationScopes);
  errors.push(...merge.errors);
  const lbc = parseAnnotations(ingressGroupAnnotations, merge.merged);
  if (!lbc.ok) errors.push(...lbc.errors);
  const parsed = provider.parseOptions ? provider.parseOptions(merge.merged, 'Ingress') : { ok: true as const, options: {} as O };
  if (!parsed.ok) errors.push(...parsed.errors);
  const choice = chooseTargetType(provider, lbc.ok ? lbc.value.targetType : undefined, parsed.ok ? parsed.targetType : undefined);
  if (!choice.ok) errors.push(choice.error);
  const hc = lbc.ok ? applyHealthCheckOverrides({ protocol: 'HTTP', port: 'traffic-port', path: '/' }, lbc.value) : undefined;
  if (hc && !hc.ok) errors.push(...hc.errors);
  const settings =
    errors.length === 0 && lbc.ok && parsed.ok && choice.ok && hc?.ok
      ? { lbc: lbc.value, options: parsed.options, targetType: choice.targetType, explicitTargetType: choice.explicit, healthCheck: hc.healthCheck, healthCheckDefaulted: hc.defaulted }
      : undefined;
  return { annotations: merge.merged, errors, settings };
}

/**
 * Each backend's own target-group settings, where the provider scopes annotations per
 * target set: the group-wide annotations overlaid with the backend's (targetSetAnnotations),
 * parsed by the provider as one Ingress's would be. Errors name the member, or the Service
 * when the value came from it.
 */
export function backendSettings<O extends ProviderOptions>(
  backends: readonly { readonly key: string; readonly member: Member; readonly service: V1Service; readonly annotations: Readonly<Record<string, string>> }[],
  group: GroupSettingsResult<O>,
  provider: ModelProvider<O>,
  errors: ModelError[],
): Map<string, { targetType: TargetType; explicitTargetType: boolean; providerOptions: O }> {
  const out = new Map<string, { targetType: TargetType; explicitTargetType: boolean; providerOptions: O }>();
  const settings = group.settings;
  if (!settings || !provider.capabilities.annotationScopes || !provider.parseOptions) return out;
  for (const b of backends) {
    const parsed = provider.parseOptions({ ...group.annotations, ...b.annotations }, 'Ingress');
    if (!parsed.ok) {
      const fromService = new Set(Object.keys(b.service.metadata?.annotations ?? {}));
      for (const e of parsed.errors) {
        const onService = 'annotation' in e && fromService.has(e.annotation);
        errors.push({ ...e, object: onService ? `Service ${b.service.metadata?.namespace ?? ''}/${b.service.metadata?.name ?? ''}` : objectName(b.member.ingress) });
      }
      continue;
    }
    const choice = chooseTargetType(provider, settings.lbc.targetType, parsed.targetType);
    if (!choice.ok) {
      errors.push({ ...choice.error, object: objectName(b.member.ingress) });
      continue;
    }
    out.set(b.key, { targetType: choice.targetType, explicitTargetType: choice.explicit, providerOptions: parsed.options });
  }
  return out;
}

/**
 * Each member's own provider options, where the provider reads annotations per Ingress
 * (scopes.perIngress): parsed from the member's own values of those and of the `merged`
 * ones (what it asks for itself, before the group's are combined). Errors name the member.
 */
export function memberOptions<O extends ProviderOptions>(members: readonly Member[], provider: ModelProvider<O>, errors: ModelError[]): Record<string, O> | undefined {
  const scopes = provider.capabilities.annotationScopes;
  if (!scopes?.perIngress?.length || !provider.parseOptions) return undefined;
  const read = new Set([...scopes.perIngress, ...Object.keys(scopes.merged)]);
  const out: Record<string, O> = {};
  for (const m of members) {
    const own = Object.fromEntries(Object.entries(m.ingress.metadata?.annotations ?? {}).filter(([k]) => read.has(k)));
    const parsed = provider.parseOptions(own, 'Ingress');
    if (parsed.ok) out[`${m.namespace}/${m.name}`] = parsed.options;
    // The merged values are reported once, from the group-wide parse.
    else errors.push(...parsed.errors.filter((e) => !('annotation' in e) || !(e.annotation in scopes.merged)).map((e) => ({ ...e, object: objectName(m.ingress) })));
  }
  return out;
}

