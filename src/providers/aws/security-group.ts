// Security groups: the frontend group lbc creates for a load balancer (ingress from the
// source ranges to the listener ports), and the user's own groups, which are looked up
// and referenced but never changed. Synthesizer (diffSecurityGroups) and manager (the
// EC2 calls) for the kind.
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  CreateTagsCommand,
  DeleteSecurityGroupCommand,
  DescribeSecurityGroupsCommand,
  RevokeSecurityGroupIngressCommand,
  type Filter,
  type IpPermission,
  type SecurityGroup,
} from '@aws-sdk/client-ec2';
import { TAG_CLUSTER, TAG_OWNER_UID } from '../../model/spec.js';
import { ProviderError } from '../types.js';
import type { AwsApi } from './api.js';
import type { DesiredSecurityGroup } from './desired.js';
import { hasCode } from './errors.js';
import type { ApplyContext, Step } from './plan.js';
import { fromAwsTags, ownedByCluster, tagsToAdd, toAwsTags, type Tags } from './tags.js';

/** One ingress rule as EC2 reports it; protocol may be `-1` or `icmp` for rules lbc did not write. */
export interface ActualPermission {
  readonly protocol: string;
  readonly fromPort: number;
  readonly toPort: number;
  /** A CIDR, or a managed prefix list ID (`pl-…`). */
  readonly source: string;
}

export interface ActualSecurityGroup {
  readonly id: string;
  readonly name: string;
  readonly vpcId: string;
  /** CIDR and prefix list rules only: rules naming other groups are someone else's and left alone. */
  readonly ingress: readonly ActualPermission[];
  readonly tags: Tags;
}

const permKey = (p: ActualPermission): string => `${p.protocol}/${p.fromPort}-${p.toPort}/${p.source}`;
const isPrefixList = (source: string): boolean => source.startsWith('pl-');

function flatten(perms: readonly IpPermission[] | undefined): ActualPermission[] {
  const out: ActualPermission[] = [];
  for (const p of perms ?? []) {
    const base = { protocol: p.IpProtocol ?? '-1', fromPort: p.FromPort ?? -1, toPort: p.ToPort ?? -1 };
    for (const r of p.IpRanges ?? []) if (r.CidrIp) out.push({ ...base, source: r.CidrIp });
    for (const r of p.Ipv6Ranges ?? []) if (r.CidrIpv6) out.push({ ...base, source: r.CidrIpv6 });
    for (const r of p.PrefixListIds ?? []) if (r.PrefixListId) out.push({ ...base, source: r.PrefixListId });
  }
  return out;
}

/** EC2's shape: one IpPermission per protocol and port range, v4 and v6 ranges and prefix lists inside. */
export function toIpPermissions(perms: readonly ActualPermission[]): IpPermission[] {
  const groups = new Map<string, IpPermission>();
  for (const p of perms) {
    const key = `${p.protocol}/${p.fromPort}/${p.toPort}`;
    let g = groups.get(key);
    if (!g) {
      g = { IpProtocol: p.protocol, FromPort: p.fromPort, ToPort: p.toPort };
      groups.set(key, g);
    }
    if (isPrefixList(p.source)) (g.PrefixListIds ??= []).push({ PrefixListId: p.source });
    else if (p.source.includes(':')) (g.Ipv6Ranges ??= []).push({ CidrIpv6: p.source });
    else (g.IpRanges ??= []).push({ CidrIp: p.source });
  }
  return [...groups.values()];
}

function toActual(g: SecurityGroup): ActualSecurityGroup {
  return { id: g.GroupId ?? '', name: g.GroupName ?? '', vpcId: g.VpcId ?? '', ingress: flatten(g.IpPermissions), tags: fromAwsTags(g.Tags) };
}

async function describe(api: AwsApi, input: { GroupIds?: string[]; Filters?: Filter[] }, signal?: AbortSignal): Promise<SecurityGroup[]> {
  const out: SecurityGroup[] = [];
  let NextToken: string | undefined;
  do {
    const page = await api.ec2('DescribeSecurityGroups', (c, o) => c.send(new DescribeSecurityGroupsCommand({ ...input, ...(NextToken ? { NextToken } : {}) }), o), { signal });
    out.push(...(page.SecurityGroups ?? []));
    NextToken = page.NextToken;
  } while (NextToken);
  return out;
}

/** Groups lbc created for this object (uid given) or for any object of the cluster. */
export async function describeOwnedSecurityGroups(api: AwsApi, clusterName: string, uid: string | undefined, signal?: AbortSignal): Promise<ActualSecurityGroup[]> {
  const filters: Filter[] = [{ Name: `tag:${TAG_CLUSTER}`, Values: [clusterName] }];
  if (uid !== undefined) filters.push({ Name: `tag:${TAG_OWNER_UID}`, Values: [uid] });
  const groups = await describe(api, { Filters: filters }, signal);
  // The filter is AWS's; the check is ours, so a filter that matched loosely never leads to a change.
  return groups.map(toActual).filter((g) => ownedByCluster(g.tags, clusterName) && (uid === undefined || g.tags[TAG_OWNER_UID] === uid));
}

/** The user's groups (IDs or Name tags) as IDs, in the order given. */
export async function resolveUserSecurityGroups(
  api: AwsApi,
  requested: readonly string[],
  vpcId: string,
  annotation: string,
  provider: string,
  signal?: AbortSignal,
): Promise<string[]> {
  const ids = requested.filter((s) => /^sg-[0-9a-f]+$/.test(s));
  const names = requested.filter((s) => !ids.includes(s));
  const filters: Filter[] = [{ Name: 'vpc-id', Values: [vpcId] }];
  const found: SecurityGroup[] = [];
  if (ids.length > 0) found.push(...(await describe(api, { Filters: [...filters, { Name: 'group-id', Values: ids }] }, signal)));
  if (names.length > 0) found.push(...(await describe(api, { Filters: [...filters, { Name: 'tag:Name', Values: names }] }, signal)));
  const out: string[] = [];
  for (const want of requested) {
    const hits = want.startsWith('sg-') && ids.includes(want) ? found.filter((g) => g.GroupId === want) : found.filter((g) => fromAwsTags(g.Tags)['Name'] === want);
    const unique = [...new Set(hits.map((g) => g.GroupId ?? ''))];
    if (unique.length === 0) throw new ProviderError('invalid', `${annotation}: no security group ${JSON.stringify(want)} in ${vpcId}`, { provider });
    if (unique.length > 1) throw new ProviderError('invalid', `${annotation}: the Name tag ${JSON.stringify(want)} matches ${unique.join(', ')}; use IDs`, { provider });
    const id = unique[0];
    if (id !== undefined && !out.includes(id)) out.push(id);
  }
  return out;
}

async function authorize(ctx: ApplyContext, groupId: string, perms: readonly ActualPermission[]): Promise<void> {
  if (perms.length === 0) return;
  await ctx.api
    .ec2('AuthorizeSecurityGroupIngress', (c, o) => c.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: toIpPermissions(perms) }), o), { signal: ctx.signal })
    .catch((e: unknown) => {
      // A retried call whose first attempt landed: the rules are there, which is the goal.
      if (!hasCode(e, 'InvalidPermission.Duplicate')) throw e;
    });
}

async function revoke(ctx: ApplyContext, groupId: string, perms: readonly ActualPermission[]): Promise<void> {
  if (perms.length === 0) return;
  await ctx.api
    .ec2('RevokeSecurityGroupIngress', (c, o) => c.send(new RevokeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: toIpPermissions(perms) }), o), { signal: ctx.signal })
    .catch((e: unknown) => {
      if (!hasCode(e, 'InvalidPermission.NotFound')) throw e;
    });
}

/** One of lbc's groups, tagged in the create call itself; its ID (undefined if EC2 gave none). */
export async function createSecurityGroup(ctx: ApplyContext, g: { name: string; description: string; vpcId: string; tags: Tags }): Promise<string | undefined> {
  const out = await ctx.api.ec2(
    'CreateSecurityGroup',
    (c, o) =>
      c.send(
        new CreateSecurityGroupCommand({
          GroupName: g.name,
          Description: g.description,
          VpcId: g.vpcId,
          TagSpecifications: [{ ResourceType: 'security-group', Tags: toAwsTags(g.tags) }],
        }),
        o,
      ),
    { signal: ctx.signal },
  );
  return out.GroupId;
}

/** Deletes one of lbc's groups; gone already is the goal. */
export async function deleteSecurityGroup(ctx: ApplyContext, id: string): Promise<void> {
  await ctx.api
    .ec2('DeleteSecurityGroup', (c, o) => c.send(new DeleteSecurityGroupCommand({ GroupId: id }), o), {
      signal: ctx.signal,
      // A deleted load balancer's network interfaces hold the group for a while.
      waitOn: ['DependencyViolation'],
      deadlineMs: ctx.dependencyTimeoutMs,
    })
    .catch((e: unknown) => {
      if (!hasCode(e, 'InvalidGroup.NotFound')) throw e;
    });
}

export function deleteSecurityGroupStep(g: ActualSecurityGroup, why: string): Step {
  return {
    change: { op: 'delete', resource: 'SecurityGroup', id: g.name, detail: `${g.id}: ${why}` },
    run: async (ctx) => {
      await deleteSecurityGroup(ctx, g.id);
      if (ctx.securityGroupId === g.id) ctx.securityGroupId = undefined;
    },
  };
}

const describePerm = (p: ActualPermission): string => `${p.protocol}/${p.fromPort === p.toPort ? p.fromPort : `${p.fromPort}-${p.toPort}`} from ${p.source}`;

export interface SecurityGroupDiff {
  /** Create or update of the managed group: before the load balancer, which needs its ID. */
  readonly apply: Step[];
  /** Groups no longer wanted: after the load balancer has let go of them. */
  readonly cleanup: Step[];
  /** The managed group when it exists already. */
  readonly existingId?: string;
}

/**
 * The managed group: created if missing (rules in a second call, as EC2 wants), rules
 * made equal to the desired set, tags added. Owned groups that are not the desired one
 * (the user switched to their own groups, or the VPC changed) are deleted last.
 */
export function diffSecurityGroups(actual: readonly ActualSecurityGroup[], desired: DesiredSecurityGroup | undefined): SecurityGroupDiff {
  const apply: Step[] = [];
  const cleanup: Step[] = [];
  const match = desired ? actual.find((g) => g.name === desired.name && g.vpcId === desired.vpcId) : undefined;
  for (const g of actual) if (g !== match) cleanup.push(deleteSecurityGroupStep(g, desired ? 'no longer used' : 'the load balancer uses the groups the user gave'));
  if (!desired) return { apply, cleanup };
  const want = desired.ingress.map((p): ActualPermission => ({ ...p }));
  if (!match) {
    apply.push({
      change: { op: 'create', resource: 'SecurityGroup', id: desired.name, detail: `ingress ${want.map(describePerm).join(', ')}` },
      run: async (ctx) => {
        let groupId: string | undefined;
        try {
          groupId = await createSecurityGroup(ctx, desired);
        } catch (e) {
          if (!hasCode(e, 'InvalidGroup.Duplicate')) throw e;
          // Our own earlier attempt (its answer lost), or someone else's group with our name.
          const mine = await describeOwnedSecurityGroups(ctx.api, desired.tags[TAG_CLUSTER] ?? '', desired.tags[TAG_OWNER_UID], ctx.signal);
          groupId = mine.find((g) => g.name === desired.name && g.vpcId === desired.vpcId)?.id;
          if (groupId === undefined) {
            throw new ProviderError('conflict', `security group ${desired.name} exists in ${desired.vpcId} but is not tagged for this load balancer; lbc leaves it alone`, {
              provider: ctx.provider,
              cause: e,
            });
          }
          const existing = mine.find((g) => g.id === groupId);
          await authorize(ctx, groupId, want.filter((p) => !existing?.ingress.some((x) => permKey(x) === permKey(p))));
          ctx.securityGroupId = groupId;
          return;
        }
        if (groupId === undefined) throw new ProviderError('transient', `CreateSecurityGroup returned no GroupId for ${desired.name}`, { provider: ctx.provider });
        ctx.securityGroupId = groupId;
        await authorize(ctx, groupId, want);
      },
    });
    return { apply, cleanup };
  }
  const have = new Set(match.ingress.map(permKey));
  const wantKeys = new Set(want.map(permKey));
  const add = want.filter((p) => !have.has(permKey(p)));
  const remove = match.ingress.filter((p) => !wantKeys.has(permKey(p)));
  if (add.length > 0 || remove.length > 0) {
    apply.push({
      change: {
        op: 'update',
        resource: 'SecurityGroup',
        id: desired.name,
        fields: ['ingress'],
        detail: [...add.map((p) => `+${describePerm(p)}`), ...remove.map((p) => `-${describePerm(p)}`)].join(', '),
      },
      run: async (ctx) => {
        // Add first: a source range being replaced never leaves a moment with neither.
        await authorize(ctx, match.id, add);
        await revoke(ctx, match.id, remove);
      },
    });
  }
  const tags = tagsToAdd(match.tags, desired.tags);
  if (Object.keys(tags).length > 0) {
    apply.push({
      change: { op: 'update', resource: 'SecurityGroup', id: desired.name, fields: ['tags'], detail: Object.keys(tags).sort().join(', ') },
      run: async (ctx) => {
        await ctx.api.ec2('CreateTags', (c, o) => c.send(new CreateTagsCommand({ Resources: [match.id], Tags: toAwsTags(tags) }), o), { signal: ctx.signal });
      },
    });
  }
  return { apply, cleanup, existingId: match.id };
}
