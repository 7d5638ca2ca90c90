// A subnet tag selector (IngressClassParams spec.subnets.tags, LoadBalancerConfiguration
// spec.loadBalancerSubnetsSelector) checked without the EC2 SDK: the controller validates
// IngressClassParams, and a run without an aws provider must not load @aws-sdk.

/**
 * IngressClassParams spec.subnets.tags reach the provider as this annotation of the Ingress
 * the params make (class-params.ts), a JSON map of tag key → values, since params travel as
 * the annotations they override and ALBC has no annotation for this one. Its name is no
 * valid annotation key (':' is not allowed in the name part, IsQualifiedName), so the API
 * server keeps users from writing it on an Ingress: only the params set it.
 */
export const CLASS_PARAMS_SUBNET_TAGS = 'alb.ingress.kubernetes.io/IngressClassParams:subnets.tags';

/** Tag key → the values a subnet's tag may have (ALBC's SubnetSelector.Tags, LoadBalancerConfiguration loadBalancerSubnetsSelector). */
export type SubnetTagSelector = Readonly<Record<string, readonly string[]>>;
/**
 * What is wrong with a tag selector, each problem with the path under `field` it is at. As
 * ALBC's IngressClassParams webhook (webhooks/elbv2/ingressclassparams_validator.go
 * checkSubnetSelectors): at least one key ("must have at least one tag key"), no value twice
 * ("Duplicate value"). lbc also refuses a key without values, which selects nothing.
 */
export function subnetSelectorProblems(tags: unknown, field: string): { readonly field: string; readonly reason: string }[] {
  if (typeof tags !== 'object' || tags === null || Array.isArray(tags)) return [{ field, reason: 'not a map of tag keys to lists of values' }];
  const entries = Object.entries(tags as Record<string, unknown>);
  if (entries.length === 0) return [{ field, reason: 'Required value: must have at least one tag key' }];
  const out: { field: string; reason: string }[] = [];
  for (const [key, values] of entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const at = `${field}[${JSON.stringify(key)}]`;
    if (key === '') out.push({ field, reason: 'a tag key is empty' });
    else if (!Array.isArray(values) || !values.every((v) => typeof v === 'string')) out.push({ field: at, reason: 'not a list of tag values' });
    else if (values.length === 0) out.push({ field: at, reason: 'no values: a subnet must have one of the values listed for each key' });
    else for (const [i, v] of values.entries()) if (values.indexOf(v) !== i) out.push({ field: `${at}[${i}]`, reason: `Duplicate value: ${JSON.stringify(v)}` });
  }
  return out;
}
