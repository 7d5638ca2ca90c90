// aws-load-balancer-controller's IngressClassParams (elbv2.k8s.aws/v1beta1, cluster-scoped),
// named by an IngressClass's spec.parameters, as its docs/guide/ingress/ingress_class.md
// (v3.5) documents it: the cluster administrator's settings for every Ingress of the class.
// Pure: the caller passes the params, the Ingress and its namespace's labels.
//
// Each field lbc implements is applied as the ALB annotation it overrides ("If the field is
// specified, LBC will ignore the alb.ingress.kubernetes.io/... annotation"), on a copy of
// the Ingress the model builder reads; tags and load-balancer attributes are merged key by
// key with the params winning (ALBC model_build_tags.go and
// model_build_load_balancer_attributes.go: "the Tags specified via IngressClass takes higher
// priority than tags specified via annotation"). group.name puts every Ingress of the class
// in that group, whatever its own group.name annotation says (ALBC group_loader.go
// loadGroupID). namespaceSelector refuses the Ingresses of namespaces it does not select
// (ALBC class_loader.go: "namespaceSelector of IngressClassParams %v mismatch").
//
// subnets.tags has no annotation; it reaches the provider as CLASS_PARAMS_SUBNET_TAGS, which
// the provider resolves as ALBC's pkg/networking/subnet_resolver.go ResolveViaSelector does.
// spec.subnets is checked as ALBC's IngressClassParams webhook checks it
// (webhooks/elbv2/ingressclassparams_validator.go checkSubnetSelectors), since no webhook
// runs for lbc and the CRD's schema leaves "exactly one of ids or tags" to it.
//
// A field lbc does not implement is never dropped silently: one that guards the
// application (wafv2AclName) refuses the Ingress; the others are Warnings naming the field.
import type { V1Ingress, V1IngressClass } from '@kubernetes/client-node';
import { selectorMatches, type LabelSelector } from '../../model/label-selector.js';
import type { ModelError } from '../../model/validation.js';
import { ANNOTATION_ALB_GROUP_NAME, ANNOTATION_GROUP_NAME } from '../../model/lbc-annotations.js';
import { CLASS_PARAMS_API_GROUP, CLASS_PARAMS_KIND, DEFAULT_INGRESS_CLASS_ANNOTATION, LEGACY_INGRESS_CLASS_ANNOTATION } from '../../config/ownership.js';
import { CLASS_PARAMS_SUBNET_TAGS, type SubnetTagSelector } from '../../providers/aws/subnet-selector.js';
import { subnetSelectorProblems } from '../../providers/aws/subnet-selector.js';

export { CLASS_PARAMS_API_GROUP, CLASS_PARAMS_KIND };

const A = 'alb.ingress.kubernetes.io/';

interface KeyValue {
  readonly key: string;
  readonly value: string;
}

/** spec of elbv2.k8s.aws/v1beta1 IngressClassParams, as the v3.5 CRD's schema has it. */
export interface IngressClassParamsSpec {
  readonly namespaceSelector?: { readonly matchLabels?: Record<string, string>; readonly matchExpressions?: readonly { key: string; operator: string; values?: string[] }[] };
  readonly group?: { readonly name: string };
  readonly scheme?: string;
  readonly ipAddressType?: string;
  readonly inboundCIDRs?: readonly string[];
  readonly certificateArn?: readonly string[];
  readonly sslPolicy?: string;
  readonly subnets?: { readonly ids?: readonly string[]; readonly tags?: Readonly<Record<string, readonly string[]>> };
  readonly tags?: readonly KeyValue[];
  readonly loadBalancerAttributes?: readonly KeyValue[];
  readonly prefixListsIDs?: readonly string[];
  /** The CRD's deprecated spelling; the API server refuses both at once. */
  readonly PrefixListsIDs?: readonly string[];
  readonly targetType?: string;
  readonly loadBalancerName?: string;
  readonly sslRedirectPort?: string;
  readonly wafv2AclArn?: string;
  readonly wafv2AclName?: string;
  readonly ipamConfiguration?: { readonly ipv4IPAMPoolId?: string };
  readonly listeners?: readonly unknown[];
  readonly minimumLoadBalancerCapacity?: { readonly capacityUnits: number };
}

export interface ClassParams {
  readonly name: string;
  readonly spec: IngressClassParamsSpec;
}

/** The IngressClassParams an IngressClass names, if its spec.parameters are ALBC's kind. */
export function classParamsName(ic: V1IngressClass | undefined): string | undefined {
  const p = ic?.spec?.parameters;
  return p && p.apiGroup === CLASS_PARAMS_API_GROUP && p.kind === CLASS_PARAMS_KIND ? p.name : undefined;
}

/** Which params field each overridden annotation came from, to name it in errors. */
export type ParamsOrigin = ReadonlyMap<string, string>;

export interface AppliedParams {
  readonly params: string;
  /** Overridden annotation → the params field it came from. */
  readonly origin: ParamsOrigin;
  /** The namespaceSelector that admitted the Ingress, when the params have one. */
  readonly namespaceSelector?: LabelSelector;
  /** The group the params put the Ingress in, when they name one. */
  readonly groupName?: string;
}

// The Ingresses as the params shape them, to what was applied: read by the parts of the
// model builder that must tell a params value from an annotation (per-backend target
// type, cross-namespace host claims). A side table so that V1Ingress stays the builder's input.
const applied = new WeakMap<V1Ingress, AppliedParams>();

/** What IngressClassParams applied to this (effective) Ingress, if any. */
export function appliedClassParams(ing: V1Ingress): AppliedParams | undefined {
  return applied.get(ing);
}

/** The annotations of an Ingress the params set, which no Service annotation overrides (ALBC: the params' targetType comes first). */
export function classParamsAnnotations(ing: V1Ingress): Readonly<Record<string, string>> {
  const a = applied.get(ing);
  if (!a) return {};
  const out: Record<string, string> = {};
  for (const k of a.origin.keys()) {
    const v = ing.metadata?.annotations?.[k];
    if (v !== undefined) out[k] = v;
  }
  return out;
}

export type ClassParamsResult =
  | { readonly ok: true; readonly ingress: V1Ingress; readonly warnings: readonly string[] }
  | { readonly ok: false; readonly refusal: 'namespace' | 'invalid'; readonly errors: readonly ModelError[] };

const kv = (items: readonly KeyValue[] | undefined): string | undefined => (items && items.length > 0 ? items.map((t) => `${t.key}=${t.value}`).join(',') : undefined);

/** `k=v,k=v` annotation merged with params pairs, the params winning per key. */
function mergedPairs(annotation: string | undefined, params: readonly KeyValue[]): string {
  const pairs = new Map<string, string>();
  for (const item of (annotation ?? '').split(',')) {
    const eq = item.indexOf('=');
    if (eq > 0) pairs.set(item.slice(0, eq).trim(), item.slice(eq + 1).trim());
  }
  for (const t of params) pairs.set(t.key, t.value);
  return [...pairs].map(([k, v]) => `${k}=${v}`).join(',');
}

const OPERATORS = new Set(['In', 'NotIn', 'Exists', 'DoesNotExist']);

/**
 * The Ingress as the class's params make it: the fields lbc implements as the annotations
 * they override, or why the Ingress is refused. `namespaceLabels` are the labels of the
 * Ingress's namespace (undefined when it is not known).
 */
export function applyClassParams(ing: V1Ingress, params: ClassParams, namespaceLabels: Readonly<Record<string, string>> | undefined): ClassParamsResult {
  const { spec, name } = params;
  const object = `IngressClassParams ${name}`;
  const namespace = ing.metadata?.namespace ?? '';
  let selector: LabelSelector | undefined;
  if (spec.namespaceSelector) {
    const bad = (spec.namespaceSelector.matchExpressions ?? []).find((e) => !OPERATORS.has(e.operator));
    if (bad) return { ok: false, refusal: 'invalid', errors: [{ object, field: 'spec.namespaceSelector.matchExpressions', reason: `operator ${JSON.stringify(bad.operator)} is not In, NotIn, Exists or DoesNotExist` }] };
    selector = spec.namespaceSelector as LabelSelector;
    // As ALBC's class loader: the namespace's labels against the selector; a namespace lbc cannot read is not selected.
    if (!selectorMatches(selector, namespaceLabels) || namespaceLabels === undefined) {
      return {
        ok: false,
        refusal: 'namespace',
        errors: [{ object: `Ingress ${namespace}/${ing.metadata?.name ?? ''}`, field: 'metadata.namespace', reason: `namespace ${namespace} is not allowed: namespaceSelector of ${object} mismatch` }],
      };
    }
  }

  const errors: ModelError[] = [];
  const warnings: string[] = [];
  const refuse = (field: string, reason: string): void => {
    errors.push({ object, field, reason });
  };
  const warn = (field: string, what: string): void => {
    warnings.push(`${object}: field ${field} (${what}) is not implemented by lbc and has no effect`);
  };
  if (spec.wafv2AclName !== undefined) {
    refuse('spec.wafv2AclName', 'lbc does not look web ACLs up by name; the Ingress is not exposed without the WAF it asks for (give the ACL\'s ARN in spec.wafv2AclArn)');
  }
  if (spec.subnets) checkSubnets(spec.subnets, refuse);
  if (spec.ipamConfiguration !== undefined) warn('spec.ipamConfiguration', 'IPAM pool for the load balancer\'s addresses');
  if (spec.listeners !== undefined && spec.listeners.length > 0) warn('spec.listeners', 'listener attributes');
  if (spec.minimumLoadBalancerCapacity !== undefined) warn('spec.minimumLoadBalancerCapacity', 'load balancer capacity reservation');
  if (errors.length > 0) return { ok: false, refusal: 'invalid', errors };

  const annotations: Record<string, string> = { ...ing.metadata?.annotations };
  const origin = new Map<string, string>();
  const set = (annotation: string, field: string, value: string | undefined): void => {
    if (value === undefined) return;
    annotations[annotation] = value;
    origin.set(annotation, field);
  };
  if (spec.group) {
    // Params come first (ALBC loadGroupID): neither of the Ingress's group.name annotations counts.
    delete annotations[ANNOTATION_GROUP_NAME];
    set(ANNOTATION_ALB_GROUP_NAME, 'spec.group.name', spec.group.name);
  }
  set(`${A}scheme`, 'spec.scheme', spec.scheme);
  set(`${A}ip-address-type`, 'spec.ipAddressType', spec.ipAddressType);
  set(`${A}inbound-cidrs`, 'spec.inboundCIDRs', spec.inboundCIDRs?.join(','));
  set(`${A}certificate-arn`, 'spec.certificateArn', spec.certificateArn && spec.certificateArn.length > 0 ? spec.certificateArn.join(',') : undefined);
  set(`${A}ssl-policy`, 'spec.sslPolicy', spec.sslPolicy);
  set(`${A}subnets`, 'spec.subnets.ids', spec.subnets?.ids?.join(','));
  if (spec.subnets?.tags) {
    // The params' choice, not the Ingress's subnets annotation (ALBC: a member whose params set subnets is not read for it).
    delete annotations[`${A}subnets`];
    set(CLASS_PARAMS_SUBNET_TAGS, 'spec.subnets.tags', canonicalTags(spec.subnets.tags));
  }
  const prefixLists = spec.prefixListsIDs ?? spec.PrefixListsIDs;
  set(`${A}security-group-prefix-lists`, spec.prefixListsIDs ? 'spec.prefixListsIDs' : 'spec.PrefixListsIDs', prefixLists?.join(','));
  set(`${A}target-type`, 'spec.targetType', spec.targetType);
  set(`${A}load-balancer-name`, 'spec.loadBalancerName', spec.loadBalancerName);
  set(`${A}ssl-redirect`, 'spec.sslRedirectPort', spec.sslRedirectPort);
  set(`${A}wafv2-acl-arn`, 'spec.wafv2AclArn', spec.wafv2AclArn);
  if (kv(spec.tags) !== undefined) set(`${A}tags`, 'spec.tags', mergedPairs(annotations[`${A}tags`], spec.tags ?? []));
  if (kv(spec.loadBalancerAttributes) !== undefined) {
    set(`${A}load-balancer-attributes`, 'spec.loadBalancerAttributes', mergedPairs(annotations[`${A}load-balancer-attributes`], spec.loadBalancerAttributes ?? []));
  }

  const ingress: V1Ingress = { ...ing, metadata: { ...ing.metadata, annotations } };
  applied.set(ingress, {
    params: name,
    origin,
    ...(selector ? { namespaceSelector: selector } : {}),
    ...(spec.group ? { groupName: spec.group.name } : {}),
  });
  return { ok: true, ingress, warnings };
}

/** As ALBC's webhook: exactly one of ids and tags, no ID and no value of one key twice, at least one key. */
function checkSubnets(subnets: NonNullable<IngressClassParamsSpec['subnets']>, refuse: (field: string, reason: string) => void): void {
  const { ids, tags } = subnets;
  if (ids === undefined && tags === undefined) return refuse('spec.subnets', 'Required value: must have either `ids` or `tags`');
  if (ids !== undefined && tags !== undefined) return refuse('spec.subnets.tags', 'Forbidden: may not have both `ids` and `tags` set');
  for (const [i, id] of (ids ?? []).entries()) if (ids?.indexOf(id) !== i) refuse(`spec.subnets.ids[${i}]`, `Duplicate value: ${JSON.stringify(id)}`);
  if (tags !== undefined) for (const p of subnetSelectorProblems(tags, 'spec.subnets.tags')) refuse(p.field, p.reason);
}

/** Keys sorted: two classes with the same selector give one value, which the group merge does not call a conflict. */
const canonicalTags = (tags: SubnetTagSelector): string => JSON.stringify(Object.fromEntries(Object.keys(tags).sort().map((k) => [k, tags[k]])));

/** An error about an annotation the params set, renamed to the params field it came from. */
export function nameParamsField(e: ModelError, ingresses: readonly V1Ingress[]): ModelError {
  if (!('annotation' in e)) return e;
  for (const ing of ingresses) {
    const a = applied.get(ing);
    const field = a?.origin.get(e.annotation);
    if (a && field !== undefined && (e.object === undefined || e.object === `Ingress ${ing.metadata?.namespace ?? ''}/${ing.metadata?.name ?? ''}`)) {
      return { object: `IngressClassParams ${a.params} (class of Ingress ${ing.metadata?.namespace ?? ''}/${ing.metadata?.name ?? ''})`, field, reason: e.reason };
    }
  }
  return e;
}

/** What the class's params are to lbc now, and the namespaces' labels the selectors read. */
export interface ClassParamsLookups {
  readonly classes: () => readonly V1IngressClass[];
  /** An IngressClassParams by name; undefined when there is none. */
  params(name: string): ClassParams | undefined;
  /** Why no IngressClassParams can be read at all (its CRD not installed), else undefined. */
  unavailable(): string | undefined;
  /**
   * The group.name the params last had while they existed, once they are gone: their
   * Ingresses stay keyed under that group, so that its load balancer is kept (nothing is
   * built or torn down while the params are missing) rather than left without members.
   */
  lastGroup?(name: string): string | undefined;
  namespaceLabels(namespace: string): Readonly<Record<string, string>> | undefined;
}

/**
 * The IngressClass an Ingress uses for its params: the one spec.ingressClassName names, or
 * the single default class when it names none. The legacy annotation selects no
 * IngressClass, so no params (ALBC classifyIngress).
 */
export function paramsClassOf(ing: V1Ingress, classes: readonly V1IngressClass[]): V1IngressClass | undefined {
  const named = ing.spec?.ingressClassName;
  if (named) return classes.find((c) => c.metadata?.name === named);
  if (ing.metadata?.annotations?.[LEGACY_INGRESS_CLASS_ANNOTATION]) return undefined;
  const defaults = classes.filter((c) => c.metadata?.annotations?.[DEFAULT_INGRESS_CLASS_ANNOTATION] === 'true');
  return defaults.length === 1 ? defaults[0] : undefined;
}

export type MemberParams =
  /** The Ingress's class names no IngressClassParams. */
  | { readonly kind: 'none' }
  /** They cannot be read (absent, or the CRD is not served): nothing is built, and the key is retried. */
  | { readonly kind: 'missing'; readonly message: string }
  /** Its namespace is not selected, or the params ask what lbc refuses to do without. */
  | { readonly kind: 'refused'; readonly errors: readonly ModelError[] }
  | { readonly kind: 'applied'; readonly ingress: V1Ingress; readonly warnings: readonly string[] };

export function resolveClassParams(ing: V1Ingress, lookups: ClassParamsLookups): MemberParams {
  const ic = paramsClassOf(ing, lookups.classes());
  const name = classParamsName(ic);
  if (name === undefined) return { kind: 'none' };
  const why = lookups.unavailable();
  const what = `IngressClass ${ic?.metadata?.name ?? ''} names ${CLASS_PARAMS_KIND} ${name}`;
  if (why !== undefined) return { kind: 'missing', message: `${what}, but ${why}` };
  const params = lookups.params(name);
  if (!params) return { kind: 'missing', message: `${what}, which does not exist` };
  const r = applyClassParams(ing, params, lookups.namespaceLabels(ing.metadata?.namespace ?? ''));
  return r.ok ? { kind: 'applied', ingress: r.ingress, warnings: r.warnings } : { kind: 'refused', errors: r.errors };
}

/** The Ingress whose group annotation the class's params set, when they name a group: what groupKeyOf reads. */
export function withParamsGroup(ing: V1Ingress, lookups: ClassParamsLookups | undefined): V1Ingress {
  if (!lookups) return ing;
  const name = classParamsName(paramsClassOf(ing, lookups.classes()));
  const params = name !== undefined && lookups.unavailable() === undefined ? lookups.params(name) : undefined;
  const group = name === undefined ? undefined : params ? params.spec.group?.name : lookups.lastGroup?.(name);
  if (group === undefined) return ing;
  const annotations: Record<string, string> = { ...ing.metadata?.annotations, [ANNOTATION_ALB_GROUP_NAME]: group };
  delete annotations[ANNOTATION_GROUP_NAME];
  return { ...ing, metadata: { ...ing.metadata, annotations } };
}

/** Whether some Ingress's class names params lbc cannot read now: which group it is in, and so which load balancers are wanted, is not known. */
export function someParamsUnreadable(ingresses: readonly V1Ingress[], lookups: ClassParamsLookups): boolean {
  const classes = lookups.classes();
  return ingresses.some((ing) => {
    const name = classParamsName(paramsClassOf(ing, classes));
    return name !== undefined && (lookups.unavailable() !== undefined || lookups.params(name) === undefined);
  });
}
