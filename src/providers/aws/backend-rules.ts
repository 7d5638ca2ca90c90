// Backend rules (`manage-backend-security-group-rules`): ingress rules on the nodes'
// security group that let the load balancer's security group reach the node ports (or
// pod ports), as aws-load-balancer-controller adds them. Synthesizer (diffBackendRules)
// and manager (the EC2 calls) for the kind.
//
// The node security group is not lbc's, so lbc is careful with it:
// - it writes only to groups carrying `kubernetes.io/cluster/<cluster>` (the cluster
//   owner opts in by tagging; EKS tags its cluster security group so);
// - every rule it adds carries lbc's ownership tags (security-group-rule tags, set in
//   the AuthorizeSecurityGroupIngress call itself), and it only ever revokes rules
//   carrying its tags for this load balancer;
// - a rule someone else made that already allows the same traffic is left alone and
//   not duplicated.
import {
  AuthorizeSecurityGroupIngressCommand,
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  RevokeSecurityGroupIngressCommand,
  type Filter,
  type IpPermission,
  type SecurityGroupRule,
} from '@aws-sdk/client-ec2';
import { TAG_CLUSTER, TAG_OWNER_UID } from '../../model/spec.js';
import { ProviderError } from '../types.js';
import type { AwsApi } from './api.js';
import type { BackendPort, DesiredBackendAccess } from './desired.js';
import { hasCode } from './errors.js';
import type { ApplyContext, Step } from './plan.js';
import { CLUSTER_TAG_PREFIX } from './subnets.js';
import { fromAwsTags, ownedByCluster, TAG_RESOURCE, toAwsTags, type Tags } from './tags.js';

export interface ActualBackendRule {
  readonly id: string;
  /** The node security group the rule is on. */
  readonly groupId: string;
  readonly protocol: string;
  readonly fromPort: number;
  readonly toPort: number;
  /** The security group traffic is allowed from; undefined for CIDR or prefix-list rules. */
  readonly sourceGroupId: string | undefined;
  /** The CIDR block traffic is allowed from (a TargetGroupBinding's ipBlock); undefined for group rules. */
  readonly sourceCidr?: string | undefined;
  readonly tags: Tags;
}

function toActual(r: SecurityGroupRule): ActualBackendRule {
  return {
    id: r.SecurityGroupRuleId ?? '',
    groupId: r.GroupId ?? '',
    protocol: r.IpProtocol ?? '-1',
    fromPort: r.FromPort ?? -1,
    toPort: r.ToPort ?? -1,
    sourceGroupId: r.ReferencedGroupInfo?.GroupId,
    sourceCidr: r.CidrIpv4 ?? r.CidrIpv6,
    tags: fromAwsTags(r.Tags),
  };
}

async function describeRules(api: AwsApi, filters: Filter[], signal?: AbortSignal): Promise<ActualBackendRule[]> {
  const out: ActualBackendRule[] = [];
  let NextToken: string | undefined;
  do {
    const page = await api.ec2('DescribeSecurityGroupRules', (c, o) => c.send(new DescribeSecurityGroupRulesCommand({ Filters: filters, ...(NextToken ? { NextToken } : {}) }), o), {
      signal,
    });
    for (const r of page.SecurityGroupRules ?? []) if (!r.IsEgress) out.push(toActual(r));
    NextToken = page.NextToken;
  } while (NextToken);
  return out;
}

/** The cluster's rules carrying tag `key` = `value`, on whatever group they are. */
async function describeClusterRules(api: AwsApi, clusterName: string, key: string, value: string, signal?: AbortSignal): Promise<ActualBackendRule[]> {
  const rules = await describeRules(
    api,
    [
      { Name: `tag:${TAG_CLUSTER}`, Values: [clusterName] },
      { Name: `tag:${key}`, Values: [value] },
    ],
    signal,
  );
  // The filter is AWS's; the check is ours, so a loosely matched rule is never revoked.
  return rules.filter((r) => ownedByCluster(r.tags, clusterName) && r.tags[key] === value);
}

/** Rules lbc added for this load balancer (owner uid). */
export function describeOwnedBackendRules(api: AwsApi, clusterName: string, uid: string, signal?: AbortSignal): Promise<ActualBackendRule[]> {
  return describeClusterRules(api, clusterName, TAG_OWNER_UID, uid, signal);
}

/** Rules lbc added for the whole cluster (no owner), of one kind (`lbc.dev/resource`). */
export function describeSharedRules(api: AwsApi, clusterName: string, resource: string, signal?: AbortSignal): Promise<ActualBackendRule[]> {
  return describeClusterRules(api, clusterName, TAG_RESOURCE, resource, signal);
}

/** A rule on a node group that names a source group, as DescribeSecurityGroups lists it (no rule ID, no tags). */
export interface GroupPermission {
  readonly protocol: string;
  readonly fromPort: number;
  readonly toPort: number;
  readonly sourceGroupId: string;
}

export interface NodeGroup {
  readonly id: string;
  /** Its ingress rules from other groups: enough to see whether a source group is already let in. */
  readonly fromGroups: readonly GroupPermission[];
}

/** The node security groups the cluster owner opted in (tagged kubernetes.io/cluster/<cluster>), with their rules from other groups. */
export async function describeNodeGroups(api: AwsApi, clusterName: string, vpcId: string, signal?: AbortSignal): Promise<NodeGroup[]> {
  const out: NodeGroup[] = [];
  let NextToken: string | undefined;
  do {
    const page = await api.ec2(
      'DescribeSecurityGroups',
      (c, o) =>
        c.send(
          new DescribeSecurityGroupsCommand({
            Filters: [
              { Name: 'tag-key', Values: [`${CLUSTER_TAG_PREFIX}${clusterName}`] },
              { Name: 'vpc-id', Values: [vpcId] },
            ],
            ...(NextToken ? { NextToken } : {}),
          }),
          o,
        ),
      { signal },
    );
    for (const g of page.SecurityGroups ?? []) {
      const tags = fromAwsTags(g.Tags);
      // lbc's own groups (frontend, backend) are never node groups, whatever tags someone added.
      if (!g.GroupId || tags[`${CLUSTER_TAG_PREFIX}${clusterName}`] === undefined || tags[TAG_CLUSTER] !== undefined) continue;
      const fromGroups: GroupPermission[] = [];
      for (const p of g.IpPermissions ?? []) {
        for (const pair of p.UserIdGroupPairs ?? []) {
          if (pair.GroupId) fromGroups.push({ protocol: p.IpProtocol ?? '-1', fromPort: p.FromPort ?? -1, toPort: p.ToPort ?? -1, sourceGroupId: pair.GroupId });
        }
      }
      out.push({ id: g.GroupId, fromGroups });
    }
    NextToken = page.NextToken;
  } while (NextToken);
  return out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** The node security groups' IDs (see describeNodeGroups). */
export async function describeNodeSecurityGroups(api: AwsApi, clusterName: string, vpcId: string, signal?: AbortSignal): Promise<string[]> {
  return (await describeNodeGroups(api, clusterName, vpcId, signal)).map((g) => g.id);
}

/** The source the rules name: the user's groups, lbc's managed frontend group, or a CIDR block (id is the CIDR). */
export type RuleSource = { readonly kind: 'group'; readonly id: string } | { readonly kind: 'managed'; readonly id: string | undefined } | { readonly kind: 'cidr'; readonly id: string };

/** One port, or the range port..toPort (a TargetGroupBinding rule without a port is 0-65535). */
export type RulePorts = BackendPort & { readonly toPort?: number };

export interface WantedRule {
  readonly groupId: string;
  readonly port: RulePorts;
  readonly source: RuleSource;
}

const MANAGED_PENDING = '(managed frontend group)';
const sourceId = (s: RuleSource): string => s.id ?? MANAGED_PENDING;
const toPortOf = (p: RulePorts): number => p.toPort ?? p.port;
const portKey = (from: number, to: number): string => (from === to ? `${from}` : `${from}-${to}`);
const wantedKey = (r: WantedRule): string => `${r.groupId}|${r.port.protocol}|${portKey(r.port.port, toPortOf(r.port))}|${sourceId(r.source)}`;
const actualKey = (r: ActualBackendRule): string => `${r.groupId}|${r.protocol}|${portKey(r.fromPort, r.toPort)}|${r.sourceGroupId ?? r.sourceCidr ?? ''}`;

/** Whether an existing rule (anyone's) already lets this traffic in: same source, ports inside its range. */
function covers(a: ActualBackendRule, w: WantedRule): boolean {
  const source = w.source.kind === 'cidr' ? a.sourceCidr : a.sourceGroupId;
  if (a.groupId !== w.groupId || source === undefined || source !== w.source.id) return false;
  if (a.protocol === '-1') return true;
  return a.protocol === w.port.protocol && a.fromPort <= w.port.port && toPortOf(w.port) <= a.toPort;
}

export interface BackendRulesInput {
  readonly access: DesiredBackendAccess | undefined;
  readonly nodeGroups: readonly string[];
  readonly sources: readonly RuleSource[];
  readonly owned: readonly ActualBackendRule[];
  /** Every ingress rule of the node groups; read only when some wanted rule is not owned yet. */
  readonly foreign: readonly ActualBackendRule[];
}

export interface BackendRulesDiff {
  /** Rules to add: after the managed group exists (it is their source). */
  readonly apply: Step[];
  /** Rules no longer wanted: before the managed group they name can be deleted. */
  readonly cleanup: Step[];
}

/** The rules wanted, for the planner to decide whether foreign rules must be read. */
export function wantedRules(access: DesiredBackendAccess | undefined, nodeGroups: readonly string[], sources: readonly RuleSource[]): WantedRule[] {
  if (!access) return [];
  const out: WantedRule[] = [];
  for (const groupId of nodeGroups) for (const source of sources) for (const port of access.ports) out.push({ groupId, port, source });
  return out;
}

export function missingRules(wanted: readonly WantedRule[], owned: readonly ActualBackendRule[]): WantedRule[] {
  const have = new Set(owned.map(actualKey));
  return wanted.filter((w) => !have.has(wantedKey(w)));
}

const describePort = (p: RulePorts): string => `${p.protocol}/${portKey(p.port, toPortOf(p))}`;

export function diffBackendRules(input: BackendRulesInput): BackendRulesDiff {
  return diffRules(wantedRules(input.access, input.nodeGroups, input.sources), input.access?.tags ?? {}, input.owned, input.foreign);
}

/**
 * The rules to add and revoke so that the owned ones are exactly `wanted`; `foreign` are
 * the groups' other rules (read only when some wanted rule is missing). Shared by the
 * load balancers' backend rules and TargetGroupBindings' networking rules.
 */
export function diffRules(wanted: readonly WantedRule[], tags: Tags, owned: readonly ActualBackendRule[], foreign: readonly ActualBackendRule[]): BackendRulesDiff {
  const wantedKeys = new Set(wanted.map(wantedKey));
  // Someone else's rule already allowing the traffic: nothing to add, and never ours to revoke.
  const add = missingRules(wanted, owned).filter((w) => !foreign.some((f) => !owned.some((o) => o.id === f.id) && covers(f, w)));
  const remove = owned.filter((r) => !wantedKeys.has(actualKey(r)));
  const apply: Step[] = [];
  const cleanup: Step[] = [];
  for (const groupId of [...new Set(add.map((w) => w.groupId))].sort()) {
    const mine = add.filter((w) => w.groupId === groupId);
    apply.push({
      change: {
        op: 'create',
        resource: 'BackendSecurityGroupRule',
        id: groupId,
        detail: mine.map((w) => `${describePort(w.port)} from ${sourceId(w.source)}`).join(', '),
      },
      run: async (ctx) => authorize(ctx, groupId, mine, tags),
    });
  }
  for (const groupId of [...new Set(remove.map((r) => r.groupId))].sort()) {
    const ids = remove.filter((r) => r.groupId === groupId).map((r) => r.id);
    cleanup.push(revokeStep(groupId, ids, 'no longer needed'));
  }
  return { apply, cleanup };
}

export function revokeStep(groupId: string, ruleIds: readonly string[], why: string): Step {
  return {
    change: { op: 'delete', resource: 'BackendSecurityGroupRule', id: groupId, detail: `${ruleIds.join(', ')}: ${why}` },
    run: async (ctx) => {
      await ctx.api
        .ec2('RevokeSecurityGroupIngress', (c, o) => c.send(new RevokeSecurityGroupIngressCommand({ GroupId: groupId, SecurityGroupRuleIds: [...ruleIds] }), o), { signal: ctx.signal })
        .catch((e: unknown) => {
          // Gone already (an earlier attempt, or the group itself deleted): the goal.
          if (!hasCode(e, 'InvalidSecurityGroupRuleId.NotFound', 'InvalidPermission.NotFound', 'InvalidGroup.NotFound')) throw e;
        });
    },
  };
}

const DESCRIPTION = 'lbc: load balancer to backends';

function permissions(rules: readonly WantedRule[], sourceOf: (s: RuleSource) => string): IpPermission[] {
  return rules.map((w) => ({
    IpProtocol: w.port.protocol,
    FromPort: w.port.port,
    ToPort: toPortOf(w.port),
    ...(w.source.kind !== 'cidr'
      ? { UserIdGroupPairs: [{ GroupId: sourceOf(w.source), Description: DESCRIPTION }] }
      : w.source.id.includes(':')
        ? { Ipv6Ranges: [{ CidrIpv6: w.source.id, Description: DESCRIPTION }] }
        : { IpRanges: [{ CidrIp: w.source.id, Description: DESCRIPTION }] }),
  }));
}

async function authorize(ctx: ApplyContext, groupId: string, rules: readonly WantedRule[], tags: Tags): Promise<void> {
  const sourceOf = (s: RuleSource): string => {
    const id = s.kind === 'managed' ? ctx.securityGroupId : s.id;
    if (id === undefined) throw new ProviderError('transient', 'the managed security group has no ID yet', { provider: ctx.provider });
    return id;
  };
  await authorizeTagged(ctx, groupId, permissions(rules, sourceOf), tags);
}

/**
 * Adds rules to a group that is not lbc's, each tagged (in the call itself) so that lbc
 * only ever revokes its own. A rule already there is the goal, not an error.
 */
export async function authorizeTagged(ctx: ApplyContext, groupId: string, perms: readonly IpPermission[], tags: Tags): Promise<void> {
  const send = (batch: IpPermission[]): Promise<unknown> =>
    ctx.api.ec2(
      'AuthorizeSecurityGroupIngress',
      (c, o) =>
        c.send(
          new AuthorizeSecurityGroupIngressCommand({
            GroupId: groupId,
            IpPermissions: batch,
            TagSpecifications: [{ ResourceType: 'security-group-rule', Tags: toAwsTags(tags) }],
          }),
          o,
        ),
      { signal: ctx.signal },
    );
  try {
    await send([...perms]);
  } catch (e) {
    if (!hasCode(e, 'InvalidPermission.Duplicate')) throw e;
    // One of them appeared since the plan (our own earlier attempt whose answer was lost,
    // or someone else's): EC2 refuses the whole call, so add the others one by one.
    for (const p of perms) {
      await send([p]).catch((err: unknown) => {
        if (!hasCode(err, 'InvalidPermission.Duplicate')) throw err;
      });
    }
  }
}

/** For delete: every rule lbc added for this load balancer, grouped per node group. */
export function revokeAllSteps(owned: readonly ActualBackendRule[], why: string): Step[] {
  return [...new Set(owned.map((r) => r.groupId))].sort().map((g) =>
    revokeStep(
      g,
      owned.filter((r) => r.groupId === g).map((r) => r.id),
      why,
    ),
  );
}

/** Every ingress rule on the node groups, to find rules someone else made for the same traffic. */
export function describeRulesOfGroups(api: AwsApi, groupIds: readonly string[], signal?: AbortSignal): Promise<ActualBackendRule[]> {
  return describeRules(api, [{ Name: 'group-id', Values: [...groupIds] }], signal);
}
