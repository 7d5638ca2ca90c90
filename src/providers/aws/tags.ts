// Ownership on AWS is tags: lbc's own (`lbc.dev/*`), which decide what lbc may touch,
// and aws-load-balancer-controller's, so users migrating from it recognise the
// resources in the console and in their cost reports. Every resource lbc creates gets
// them in the create call itself, so nothing ever exists untagged.
import type { LbKind, LbRef } from '../../model/ref.js';
import { TAG_CLUSTER, TAG_OWNER_KIND, TAG_OWNER_NAME, TAG_OWNER_NAMESPACE, TAG_OWNER_UID } from '../../model/spec.js';

/** `Kind/namespace/name`, the single owner tag next to the model's split ones. */
export const TAG_OWNER = 'lbc.dev/owner';
/** Which part of the load balancer: `LoadBalancer`, `ManagedLBSecurityGroup`, or a target set name. */
export const TAG_RESOURCE = 'lbc.dev/resource';

export const AWS_LBC_CLUSTER = 'elbv2.k8s.aws/cluster';
export const SERVICE_STACK = 'service.k8s.aws/stack';
export const SERVICE_RESOURCE = 'service.k8s.aws/resource';
export const INGRESS_STACK = 'ingress.k8s.aws/stack';
export const INGRESS_RESOURCE = 'ingress.k8s.aws/resource';
// aws-load-balancer-controller's ALB Gateway tag prefix (pkg/gateway/constants ALBGatewayTagPrefix).
export const ALB_GATEWAY_STACK = 'gateway.k8s.aws.alb/stack';
export const ALB_GATEWAY_RESOURCE = 'gateway.k8s.aws.alb/resource';
// And its NLB Gateway one (NLBGatewayTagPrefix, gateway.k8s.aws.nlb).
export const NLB_GATEWAY_STACK = 'gateway.k8s.aws.nlb/stack';
export const NLB_GATEWAY_RESOURCE = 'gateway.k8s.aws.nlb/resource';

export const RESOURCE_LB = 'LoadBalancer';
export const RESOURCE_SG = 'ManagedLBSecurityGroup';
/** A rule lbc added to the nodes' security group (manage-backend-security-group-rules). */
export const RESOURCE_BACKEND_RULE = 'BackendSecurityGroupRule';

export type Tags = Readonly<Record<string, string>>;

/** aws-load-balancer-controller's stack id: `namespace/name`, or the group name for an explicit group. */
export function stackId(ref: LbRef): string {
  return ref.namespace === '' ? ref.name : `${ref.namespace}/${ref.name}`;
}

export interface TagContext {
  readonly clusterName: string;
  readonly ref: LbRef;
  /** The spec's tags: ownership plus the user's lbc.dev/tags. */
  readonly specTags: Tags;
  /** additional-resource-tags / alb tags annotation. */
  readonly annotationTags: Tags;
  /** The provider config's defaultTags. */
  readonly defaultTags: Tags;
  /** A Gateway's Network Load Balancer: ALBC's NLB Gateway stack tags instead of its ALB ones. */
  readonly networkGateway?: boolean;
}

/**
 * The full tag set of one resource. Precedence, lowest first: the annotation's, the
 * spec's, the config's defaultTags (as aws-load-balancer-controller's --default-tags,
 * which "takes highest priority": MergeStringMap(defaultTags, annotationTags) in its
 * model builders keeps the first map's value), then lbc's and aws-load-balancer-controller's
 * ownership tags, which nothing may override.
 */
export function resourceTags(ctx: TagContext, resource: string): Record<string, string> {
  const { ref } = ctx;
  const gatewayStack = ctx.networkGateway ? NLB_GATEWAY_STACK : ALB_GATEWAY_STACK;
  const gatewayResource = ctx.networkGateway ? NLB_GATEWAY_RESOURCE : ALB_GATEWAY_RESOURCE;
  const stackTag = ref.kind === 'Service' ? SERVICE_STACK : ref.kind === 'Gateway' ? gatewayStack : INGRESS_STACK;
  const resourceTag = ref.kind === 'Service' ? SERVICE_RESOURCE : ref.kind === 'Gateway' ? gatewayResource : INGRESS_RESOURCE;
  return {
    ...ctx.annotationTags,
    ...ctx.specTags,
    ...ctx.defaultTags,
    [TAG_CLUSTER]: ctx.clusterName,
    [TAG_OWNER_KIND]: ref.kind,
    [TAG_OWNER_NAMESPACE]: ref.namespace,
    [TAG_OWNER_NAME]: ref.name,
    [TAG_OWNER_UID]: ref.uid,
    [TAG_OWNER]: `${ref.kind}/${ref.namespace}/${ref.name}`,
    [TAG_RESOURCE]: resource,
    [AWS_LBC_CLUSTER]: ctx.clusterName,
    [stackTag]: stackId(ref),
    [resourceTag]: resource,
  };
}

/** Whether a resource is this cluster's and this object's: the only ones lbc changes or deletes for it. */
export function ownedBy(tags: Tags, clusterName: string, ref: LbRef): boolean {
  return tags[TAG_CLUSTER] === clusterName && tags[TAG_OWNER_UID] === ref.uid;
}

export function ownedByCluster(tags: Tags, clusterName: string): boolean {
  return tags[TAG_CLUSTER] === clusterName;
}

/** The ref a resource was tagged for, if its tags say enough to rebuild it. */
export function refFromTags(tags: Tags): LbRef | undefined {
  const kind = tags[TAG_OWNER_KIND];
  const namespace = tags[TAG_OWNER_NAMESPACE];
  const name = tags[TAG_OWNER_NAME];
  const uid = tags[TAG_OWNER_UID];
  // Gateways too: without them the GC never sees a Gateway's load balancer left behind, and a
  // target group whose create answer was lost is taken for someone else's (adoptOrConflict).
  if ((kind !== 'Service' && kind !== 'Ingress' && kind !== 'Gateway') || namespace === undefined || name === undefined || uid === undefined) return undefined;
  return { kind: kind satisfies LbKind, namespace, name, uid };
}

export function toAwsTags(tags: Tags): { Key: string; Value: string }[] {
  return Object.keys(tags)
    .sort()
    .map((Key) => ({ Key, Value: tags[Key] ?? '' }));
}

export function fromAwsTags(tags: readonly { Key?: string | undefined; Value?: string | undefined }[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const t of tags ?? []) if (t.Key !== undefined) out[t.Key] = t.Value ?? '';
  return out;
}

/**
 * Tags to add or change so that `actual` carries `desired`. Tags lbc did not set (added
 * in the console, say) are left alone, so this never removes anything.
 */
export function tagsToAdd(actual: Tags, desired: Tags): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(desired)) if (actual[k] !== v) out[k] = v;
  return out;
}

/** A configuration's `tags`, as the tags annotation takes them (annotations.ts TAG_KEY): lbc's ownership tags and AWS's own are not the user's to set. */
export function userTags(tags: unknown, field: string, errors: string[]): Record<string, string> | undefined {
  if (typeof tags !== 'object' || tags === null || Array.isArray(tags) || !Object.values(tags as object).every((v) => typeof v === 'string')) {
    errors.push(`${field}: not a map of strings`);
    return undefined;
  }
  const reserved = Object.keys(tags as object).filter((k) => k.startsWith('lbc.dev/') || k.startsWith('aws:') || k.length > 128);
  if (reserved.length > 0) {
    errors.push(`${field}: ${reserved.join(', ')}: keys are at most 128 characters, outside the reserved lbc.dev/ and aws: prefixes`);
    return undefined;
  }
  return tags as Record<string, string>;
}
