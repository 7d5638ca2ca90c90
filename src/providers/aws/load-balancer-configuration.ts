// aws-load-balancer-controller's LoadBalancerConfiguration (gateway.k8s.aws/v1beta1,
// ../shared/crds/aws-load-balancer-controller-v3.5.0/gateway; docs/guide/gateway/
// loadbalancerconfig.md), named by a Gateway's spec.infrastructure.parametersRef or its
// GatewayClass's spec.parametersRef, → the AwsLbOptions fields it sets. lbc implements the
// fields that map onto what an ALB Gateway already builds, and listenerConfigurations
// (listener-configuration.ts); every other field set is refused by name (the Gateway, or
// the GatewayClass, is then Accepted=False, InvalidParameters), never dropped. The values
// replace what the Gateway's alb.ingress.kubernetes.io/ annotations say (attributes and
// tags merge, its keys winning): ALBC reads no annotations on a Gateway, so its users'
// configuration is the one that counts.
//
// A class's and a Gateway's configurations merge as ALBC's loadBalancerConfigMergerImpl
// (pkg/gateway/lb_config_merger.go) merges them: the class's mergingMode (default
// prefer-gateway-class; "only honored for the configuration attached to the GatewayClass")
// says which side wins; each field is taken whole from the winner when it sets it, else
// from the other, except tags and loadBalancerAttributes (merged by key) and
// listenerConfigurations (merged by protocolPort).
import type { GatewayParameterKind } from '../../model/gateway.js';
import type { AwsLbOptions, SubnetTagSelector } from './annotations.js';
import { subnetSelectorProblems } from './subnet-selector.js';
import { parseListenerConfigurations } from './listener-configuration.js';
import { userTags } from './tags.js';

export const LOAD_BALANCER_CONFIGURATION: GatewayParameterKind = { group: 'gateway.k8s.aws', kind: 'LoadBalancerConfiguration' };

/** The options a LoadBalancerConfiguration sets; absent fields leave the annotations' (or defaults') values. */
export type LoadBalancerConfigurationOptions = Partial<
  Pick<AwsLbOptions, 'scheme' | 'ipAddressType' | 'name' | 'subnets' | 'subnetTags' | 'securityGroups' | 'loadBalancerAttributes' | 'tags' | 'manageBackendSecurityGroupRules' | 'listenerConfigurations'>
> & {
  /** Read from a GatewayClass's configuration only (mergeLoadBalancerConfigurations). */
  readonly mergingMode?: MergingMode;
};

export type MergingMode = 'prefer-gateway' | 'prefer-gateway-class';

const IMPLEMENTED = new Set([
  'mergingMode',
  'scheme',
  'ipAddressType',
  'loadBalancerName',
  'loadBalancerSubnets',
  'loadBalancerSubnetsSelector',
  'securityGroups',
  'loadBalancerAttributes',
  'tags',
  'manageBackendSecurityGroupRules',
  'listenerConfigurations',
]);

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const stringList = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string' && x !== '');

export function parseLoadBalancerConfiguration(object: unknown): { ok: true; value: LoadBalancerConfigurationOptions } | { ok: false; errors: string[] } {
  const spec = isRecord(object) ? (object.spec ?? {}) : undefined;
  if (!isRecord(spec)) return { ok: false, errors: ['spec: not an object'] };
  const errors: string[] = [];
  const out: { -readonly [K in keyof LoadBalancerConfigurationOptions]: LoadBalancerConfigurationOptions[K] } = {};
  for (const field of Object.keys(spec).sort()) {
    if (!IMPLEMENTED.has(field)) errors.push(`spec.${field}: not implemented by lbc`);
  }
  const { scheme, ipAddressType, loadBalancerName, loadBalancerSubnets, loadBalancerSubnetsSelector, securityGroups, loadBalancerAttributes, tags, manageBackendSecurityGroupRules, mergingMode, listenerConfigurations } = spec;
  if (mergingMode !== undefined) {
    if (mergingMode === 'prefer-gateway' || mergingMode === 'prefer-gateway-class') out.mergingMode = mergingMode;
    else errors.push(`spec.mergingMode: ${String(mergingMode)} is not prefer-gateway or prefer-gateway-class`);
  }
  if (listenerConfigurations !== undefined) {
    const parsed = parseListenerConfigurations(listenerConfigurations);
    if (parsed.ok) out.listenerConfigurations = parsed.value;
    else errors.push(...parsed.errors);
  }
  if (scheme !== undefined) {
    if (scheme === 'internal' || scheme === 'internet-facing') out.scheme = scheme;
    else errors.push(`spec.scheme: ${String(scheme)} is not internal or internet-facing`);
  }
  if (ipAddressType !== undefined) {
    if (ipAddressType === 'ipv4' || ipAddressType === 'dualstack') out.ipAddressType = ipAddressType;
    else errors.push(`spec.ipAddressType: ${String(ipAddressType)} is not ipv4 or dualstack (dualstack-without-public-ipv4 is not implemented by lbc)`);
  }
  if (loadBalancerName !== undefined) {
    // ELBv2 CreateLoadBalancer Name: at most 32 alphanumerics or hyphens, not starting or ending with a hyphen.
    if (typeof loadBalancerName === 'string' && /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?$/.test(loadBalancerName)) out.name = loadBalancerName;
    else errors.push(`spec.loadBalancerName: ${String(loadBalancerName)} is not 1-32 letters, digits or hyphens (not at either end)`);
  }
  if (loadBalancerSubnets !== undefined) {
    const subnets = Array.isArray(loadBalancerSubnets) ? loadBalancerSubnets : [];
    if (!Array.isArray(loadBalancerSubnets)) errors.push('spec.loadBalancerSubnets: not a list');
    const ids: string[] = [];
    for (const [i, s] of subnets.entries()) {
      if (!isRecord(s) || typeof s.identifier !== 'string' || s.identifier === '') {
        errors.push(`spec.loadBalancerSubnets[${i}].identifier: a subnet ID or Name tag is required`);
        continue;
      }
      for (const f of Object.keys(s).filter((k) => k !== 'identifier').sort()) errors.push(`spec.loadBalancerSubnets[${i}].${f}: not implemented by lbc`);
      ids.push(s.identifier);
    }
    if (ids.length > 0) out.subnets = ids;
  }
  // ALBC (pkg/gateway/model/model_build_subnet.go resolveEC2Subnets): identifiers first, then
  // a non-empty selector (subnet_resolver.go ResolveViaSelector), else discovery; the CRD
  // says so too ("takes precedence over loadBalancerSubnetsSelector if both are selected").
  if (loadBalancerSubnetsSelector !== undefined && (!isRecord(loadBalancerSubnetsSelector) || Object.keys(loadBalancerSubnetsSelector).length > 0)) {
    const problems = subnetSelectorProblems(loadBalancerSubnetsSelector, 'spec.loadBalancerSubnetsSelector');
    errors.push(...problems.map((p) => `${p.field}: ${p.reason}`));
    if (problems.length === 0 && out.subnets === undefined) out.subnetTags = loadBalancerSubnetsSelector as SubnetTagSelector;
  }
  if (securityGroups !== undefined) {
    if (stringList(securityGroups)) out.securityGroups = securityGroups;
    else errors.push('spec.securityGroups: not a list of security group IDs or Name tags');
  }
  if (loadBalancerAttributes !== undefined) {
    const list = Array.isArray(loadBalancerAttributes) ? loadBalancerAttributes : undefined;
    const attrs: Record<string, string> = {};
    for (const [i, a] of (list ?? []).entries()) {
      if (isRecord(a) && typeof a.key === 'string' && a.key !== '' && typeof a.value === 'string') attrs[a.key] = a.value;
      else errors.push(`spec.loadBalancerAttributes[${i}]: needs a key and a string value`);
    }
    if (!list) errors.push('spec.loadBalancerAttributes: not a list of {key, value}');
    out.loadBalancerAttributes = attrs;
  }
  if (tags !== undefined) {
    const t = userTags(tags, 'spec.tags', errors);
    if (t) out.tags = t;
  }
  if (manageBackendSecurityGroupRules !== undefined) {
    if (typeof manageBackendSecurityGroupRules === 'boolean') out.manageBackendSecurityGroupRules = manageBackendSecurityGroupRules;
    else errors.push('spec.manageBackendSecurityGroupRules: not a boolean');
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, value: out };
}

/**
 * A GatewayClass's and a Gateway's configurations as one, as ALBC's Merge: the class's
 * mergingMode (default prefer-gateway-class) picks the winner of every conflict.
 */
export function mergeLoadBalancerConfigurations(gatewayClass: LoadBalancerConfigurationOptions, gateway: LoadBalancerConfigurationOptions): LoadBalancerConfigurationOptions {
  const [high, low] = gatewayClass.mergingMode === 'prefer-gateway' ? [gateway, gatewayClass] : [gatewayClass, gateway];
  const { mergingMode: _h, ...taken } = { ...low, ...high };
  const byPort = new Map((low.listenerConfigurations ?? []).map((c) => [c.protocolPort, c]));
  for (const c of high.listenerConfigurations ?? []) byPort.set(c.protocolPort, c);
  const listeners = [...byPort.values()].sort((a, b) => (a.protocolPort < b.protocolPort ? -1 : a.protocolPort > b.protocolPort ? 1 : 0));
  return {
    ...taken,
    ...(low.tags || high.tags ? { tags: { ...low.tags, ...high.tags } } : {}),
    ...(low.loadBalancerAttributes || high.loadBalancerAttributes ? { loadBalancerAttributes: { ...low.loadBalancerAttributes, ...high.loadBalancerAttributes } } : {}),
    ...(listeners.length > 0 ? { listenerConfigurations: listeners } : {}),
  };
}

/** A Gateway's options with its LoadBalancerConfiguration's fields in place of the annotations'. */
export function withLoadBalancerConfiguration(options: AwsLbOptions, { mergingMode: _m, ...configuration }: LoadBalancerConfigurationOptions): AwsLbOptions {
  // Subnets by the configuration's tags replace the annotation's subnets, as its IDs would.
  const { subnets: _annotated, ...withoutSubnets } = options;
  return {
    ...(configuration.subnetTags ? withoutSubnets : options),
    ...configuration,
    ...(configuration.loadBalancerAttributes ? { loadBalancerAttributes: { ...options.loadBalancerAttributes, ...configuration.loadBalancerAttributes } } : {}),
    ...(configuration.tags ? { tags: { ...options.tags, ...configuration.tags } } : {}),
  };
}
