// TargetGroupBinding on AWS: a Service's pods (ip) or nodes (instance) registered into a
// target group the user made, and the networking rules the binding asks for on the
// nodes' security groups, as aws-load-balancer-controller's pkg/targetgroupbinding does
// (resource_manager.go: networking first, then deregister and register the difference
// against DescribeTargetHealth, draining targets left alone; Cleanup deregisters every
// target of the group). The group is the user's: lbc reads it and moves targets in and
// out, and never modifies, tags or deletes it. Target steps and rules are the same code
// the load balancers use (target-group.ts, backend-rules.ts).
import { DescribeTargetGroupsCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { TAG_CLUSTER, TAG_OWNER_KIND, TAG_OWNER_NAME, TAG_OWNER_NAMESPACE, TAG_OWNER_UID } from '../../model/spec.js';
import type { TargetBinding, TargetBindingRef, TargetBindingResult } from '../../model/target-binding.js';
import { parseIp } from '../../model/ip.js';
import { ProviderError } from '../types.js';
import type { AwsApi } from './api.js';
import {
  describeNodeSecurityGroups,
  describeOwnedBackendRules,
  describeRulesOfGroups,
  diffRules,
  missingRules,
  revokeAllSteps,
  type WantedRule,
} from './backend-rules.js';
import { instanceIdOf, type DesiredTarget } from './desired.js';
import type { Step } from './plan.js';
import { CLUSTER_TAG_PREFIX } from './subnets.js';
import { RESOURCE_BACKEND_RULE, TAG_RESOURCE } from './tags.js';
import { describeTargetGroups, diffTargets, loadTargetGroupDetails, targetsStep, type ActualTargetGroup } from './target-group.js';

/** lbc.dev/owner-kind of the rules made for a binding. */
export const BINDING_KIND = 'TargetGroupBinding';

export interface BindEnv {
  readonly api: AwsApi;
  readonly clusterName: string;
  readonly provider: string;
  /** The cluster's VPC (options or discovery); undefined when it cannot be told (no nodes to ask). */
  readonly clusterVpcId: string | undefined;
  readonly signal: AbortSignal | undefined;
}

export interface BindPlan {
  readonly steps: readonly Step[];
  readonly targetGroupArn: string;
  readonly result: TargetBindingResult;
}

const invalid = (env: Pick<BindEnv, 'provider'>, message: string): ProviderError => new ProviderError('invalid', message, { provider: env.provider });
const describeGroup = (t: TargetBinding['targetGroup']): string => ('arn' in t ? t.arn : `named ${t.name}`);
const bindingKey = (ref: TargetBindingRef): string => `${BINDING_KIND} ${ref.namespace}/${ref.name}`;

function ruleTags(clusterName: string, ref: TargetBindingRef): Record<string, string> {
  return {
    [TAG_CLUSTER]: clusterName,
    [TAG_OWNER_KIND]: BINDING_KIND,
    [TAG_OWNER_NAMESPACE]: ref.namespace,
    [TAG_OWNER_NAME]: ref.name,
    [TAG_OWNER_UID]: ref.uid,
    [TAG_RESOURCE]: RESOURCE_BACKEND_RULE,
  };
}

/** The user's group, by ARN or by name; undefined when it does not exist. */
async function findTargetGroup(env: BindEnv, t: TargetBinding['targetGroup']): Promise<ActualTargetGroup | undefined> {
  if ('arn' in t) return (await describeTargetGroups(env.api, [t.arn], new Map(), env.signal))[0];
  try {
    const r = await env.api.elbv2('DescribeTargetGroups', (c, o) => c.send(new DescribeTargetGroupsCommand({ Names: [t.name] }), o), { signal: env.signal });
    const arn = r.TargetGroups?.[0]?.TargetGroupArn;
    return arn === undefined ? undefined : (await describeTargetGroups(env.api, [arn], new Map(), env.signal))[0];
  } catch (e) {
    if (e instanceof ProviderError && e.kind === 'notFound') return undefined;
    throw e;
  }
}

/**
 * What aws-load-balancer-controller's TargetGroupBinding webhooks refuse, refused here
 * with the field named (webhooks/elbv2/targetgroupbinding_validator.go and _mutator.go):
 * a targetType, ipAddressType, vpcID or targetGroupProtocol other than the group's, and a
 * group in another VPC than the cluster's unless spec.vpcID names it.
 */
function checkGroup(b: TargetBinding, tg: ActualTargetGroup, env: BindEnv): 'ip' | 'instance' {
  const where = `target group ${tg.arn}`;
  if (tg.targetType !== 'ip' && tg.targetType !== 'instance') throw invalid(env, `${where} has target type ${tg.targetType}; a TargetGroupBinding registers ip or instance targets only`);
  if (b.targetType !== undefined && b.targetType !== tg.targetType) {
    throw invalid(env, `spec.targetType is ${b.targetType} but ${where} has target type ${tg.targetType}: ELBv2 refuses ${b.targetType} targets in it; set spec.targetType to ${tg.targetType} or bind a group of type ${b.targetType}`);
  }
  const family = tg.ipAddressType === 'ipv6' ? 'ipv6' : 'ipv4';
  if (b.ipAddressType !== undefined && b.ipAddressType !== family) throw invalid(env, `spec.ipAddressType is ${b.ipAddressType} but ${where} is ${family}`);
  if (b.protocol !== undefined && b.protocol !== tg.protocol) throw invalid(env, `spec.targetGroupProtocol is ${b.protocol} but ${where} is ${tg.protocol}`);
  if (b.vpcId !== undefined && b.vpcId !== tg.vpcId) throw invalid(env, `spec.vpcID ${b.vpcId} does not match the VPC of ${where}, ${tg.vpcId}`);
  if (env.clusterVpcId !== undefined && tg.vpcId !== env.clusterVpcId) {
    if (b.vpcId === undefined) throw invalid(env, `${where} is in ${tg.vpcId}, the cluster in ${env.clusterVpcId}; set spec.vpcID: ${tg.vpcId} to bind pods (ip targets) across VPCs`);
    if (tg.targetType === 'instance') throw invalid(env, `${where} is in ${tg.vpcId}, not the cluster's VPC ${env.clusterVpcId}: the nodes cannot be its instance targets`);
  }
  return tg.targetType;
}

function desiredTargets(b: TargetBinding, type: 'ip' | 'instance', family: 4 | 6, env: BindEnv): { targets: DesiredTarget[]; warnings: string[] } {
  const warnings: string[] = [];
  const targets: DesiredTarget[] = [];
  if (type === 'ip') {
    const other = b.podTargets.filter((p) => parseIp(p.ip)?.family !== family);
    if (other.length > 0) warnings.push(`${other.length} endpoint(s) skipped: not IPv${family}, the target group's address family (${other.map((p) => p.ip).join(', ')})`);
    for (const p of b.podTargets) if (parseIp(p.ip)?.family === family) targets.push({ id: p.ip, port: p.port });
  } else {
    if (!b.nodeTargets) throw invalid(env, `Service ${b.ref.namespace}/${b.service} has no node port for this port: instance targets need one (a NodePort or LoadBalancer Service), or bind an ip target group`);
    for (const n of b.nodeTargets.nodes) {
      const id = instanceIdOf(n.providerID);
      if (id === undefined) warnings.push(`node ${n.name} skipped: ${n.providerID === undefined ? 'it has no spec.providerID' : `providerID ${n.providerID} is not an EC2 instance`} (expected aws:///<zone>/i-...)`);
      else targets.push({ id, port: b.nodeTargets.nodePort });
    }
  }
  targets.sort((x, y) => (x.id < y.id ? -1 : x.id > y.id ? 1 : x.port - y.port));
  return { targets, warnings };
}

/**
 * The networking rules a binding asks for, on every node security group of the cluster
 * (tagged kubernetes.io/cluster/<cluster>, as aws-load-balancer-controller's
 * fetchEndpointSGsFromAWS finds them), tagged for the binding so that only its own are
 * ever revoked.
 */
async function planAccess(b: TargetBinding, env: BindEnv, vpcId: string): Promise<{ steps: Step[]; cleanup: Step[]; warnings: string[] }> {
  const owned = await describeOwnedBackendRules(env.api, env.clusterName, b.ref.uid, env.signal);
  const nodeGroups = b.access.length > 0 ? await describeNodeSecurityGroups(env.api, env.clusterName, vpcId, env.signal) : [];
  const wanted: WantedRule[] = [];
  for (const groupId of nodeGroups) {
    for (const r of b.access) {
      wanted.push({
        groupId,
        port: { protocol: r.protocol, port: r.fromPort, ...(r.toPort !== r.fromPort ? { toPort: r.toPort } : {}) },
        source: 'securityGroup' in r.from ? { kind: 'group', id: r.from.securityGroup } : { kind: 'cidr', id: r.from.cidr },
      });
    }
  }
  const missing = missingRules(wanted, owned);
  const foreign = missing.length > 0 ? await describeRulesOfGroups(env.api, nodeGroups, env.signal) : [];
  const diff = diffRules(wanted, ruleTags(env.clusterName, b.ref), owned, foreign);
  const warnings =
    b.access.length > 0 && nodeGroups.length === 0
      ? [`spec.networking: no security group in ${vpcId} is tagged ${CLUSTER_TAG_PREFIX}${env.clusterName}, so lbc adds none of its rules; tag the nodes' security group ${CLUSTER_TAG_PREFIX}${env.clusterName}=owned (or shared)`]
      : [];
  return { steps: diff.apply, cleanup: diff.cleanup, warnings };
}

/** Rules first (targets are reachable when they go in), then the targets, then rules no longer wanted. */
export async function planBind(b: TargetBinding, env: BindEnv): Promise<BindPlan> {
  const tg = await findTargetGroup(env, b.targetGroup);
  if (!tg) throw invalid(env, `target group ${describeGroup(b.targetGroup)} does not exist; a TargetGroupBinding binds a group the user made`);
  const type = checkGroup(b, tg, env);
  const { targets, warnings } = desiredTargets(b, type, tg.ipAddressType === 'ipv6' ? 6 : 4, env);
  const current = await loadTargetGroupDetails(env.api, tg, false, env.signal);
  const { register, deregister } = diffTargets(current.targets ?? [], targets);
  const access = await planAccess(b, env, env.clusterVpcId ?? tg.vpcId);
  const move = targetsStep(tg.arn, bindingKey(b.ref), register, deregister, []);
  return {
    steps: [...access.steps, ...(move ? [move] : []), ...access.cleanup],
    targetGroupArn: tg.arn,
    result: { targetGroupArn: tg.arn, targetType: type, registered: register.length, deregistered: deregister.length, targets: targets.length, warnings: [...warnings, ...access.warnings] },
  };
}

/** Every target of the group out (aws-load-balancer-controller's cleanupTargets), then the binding's rules; a group already gone has no targets to take out. */
export async function planUnbind(ref: TargetBindingRef, group: TargetBinding['targetGroup'] | undefined, env: BindEnv): Promise<{ steps: Step[]; targetGroupArn: string | undefined }> {
  // An ARN ELBv2 calls invalid holds no targets of ours: ALBC's cleanupTargets lets it go too (isELBV2TargetGroupARNInvalidError).
  const tg = group
    ? await findTargetGroup(env, group).catch((e: unknown) => {
        if (e instanceof ProviderError && e.kind === 'invalid') return undefined;
        throw e;
      })
    : undefined;
  const steps: Step[] = [];
  if (tg) {
    const current = await loadTargetGroupDetails(env.api, tg, false, env.signal);
    const { deregister } = diffTargets(current.targets ?? [], []);
    const step = targetsStep(tg.arn, bindingKey(ref), [], deregister, []);
    if (step) steps.push(step);
  }
  steps.push(...revokeAllSteps(await describeOwnedBackendRules(env.api, env.clusterName, ref.uid, env.signal), 'the TargetGroupBinding is gone'));
  return { steps, targetGroupArn: tg?.arn };
}
