// The load balancer itself. Synthesizer (diffLoadBalancer) and manager (the ELBv2
// calls) for the kind. Type, scheme and static addresses cannot change in place: such a
// change deletes the old load balancer and creates a new one, and says so in the plan.
import {
  AddTagsCommand,
  CreateLoadBalancerCommand,
  DeleteLoadBalancerCommand,
  DescribeLoadBalancerAttributesCommand,
  DescribeLoadBalancersCommand,
  ModifyLoadBalancerAttributesCommand,
  SetIpAddressTypeCommand,
  SetSecurityGroupsCommand,
  SetSubnetsCommand,
  type LoadBalancer,
  type SubnetMapping as AwsSubnetMapping,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import type { LbRef } from '../../model/ref.js';
import { ProviderError } from '../types.js';
import type { AwsApi } from './api.js';
import type { DesiredLoadBalancer, SubnetMapping } from './desired.js';
import { hasCode } from './errors.js';
import { describeTags } from './inventory.js';
import type { ApplyContext, Step } from './plan.js';
import { ownedBy, tagsToAdd, toAwsTags, type Tags } from './tags.js';

export interface ActualLoadBalancer {
  readonly arn: string;
  readonly name: string;
  readonly dnsName: string;
  readonly type: string;
  readonly scheme: string;
  readonly ipAddressType: string;
  readonly subnets: readonly SubnetMapping[];
  readonly securityGroups: readonly string[];
  readonly state: string;
  readonly tags: Tags;
  /** Read only when some attribute is managed. */
  readonly attributes?: Readonly<Record<string, string>>;
}

function fromAws(lb: LoadBalancer, tags: Tags): ActualLoadBalancer {
  return {
    arn: lb.LoadBalancerArn ?? '',
    name: lb.LoadBalancerName ?? '',
    dnsName: lb.DNSName ?? '',
    type: lb.Type ?? '',
    scheme: lb.Scheme ?? '',
    ipAddressType: lb.IpAddressType ?? 'ipv4',
    subnets: (lb.AvailabilityZones ?? [])
      .map((z) => {
        const addr = z.LoadBalancerAddresses?.[0];
        return {
          subnetId: z.SubnetId ?? '',
          az: z.ZoneName ?? '',
          ...(addr?.AllocationId !== undefined ? { allocationId: addr.AllocationId } : {}),
          ...(addr?.PrivateIPv4Address !== undefined ? { privateIpv4Address: addr.PrivateIPv4Address } : {}),
        };
      })
      .sort((a, b) => (a.subnetId < b.subnetId ? -1 : 1)),
    securityGroups: [...(lb.SecurityGroups ?? [])].sort(),
    state: lb.State?.Code ?? '',
    tags,
  };
}

/** Load balancers by ARN, with the tags given (read together with the target groups'); ARNs that no longer exist are skipped. */
export async function describeLoadBalancers(api: AwsApi, arns: readonly string[], tags: ReadonlyMap<string, Tags>, signal?: AbortSignal): Promise<ActualLoadBalancer[]> {
  const found: LoadBalancer[] = [];
  for (const arn of arns) {
    try {
      const r = await api.elbv2('DescribeLoadBalancers', (c, o) => c.send(new DescribeLoadBalancersCommand({ LoadBalancerArns: [arn] }), o), { signal });
      found.push(...(r.LoadBalancers ?? []));
    } catch (e) {
      if (!(e instanceof ProviderError && e.kind === 'notFound')) throw e;
    }
  }
  return found.map((l) => fromAws(l, tags.get(l.LoadBalancerArn ?? '') ?? {}));
}

/**
 * The load balancer holding `name`, if any. Ours (lost from the inventory, e.g. a
 * create whose answer never came) is returned for adoption; anyone else's is a conflict,
 * never adopted.
 */
export async function findByName(api: AwsApi, name: string, clusterName: string, ref: LbRef, provider: string, signal?: AbortSignal): Promise<ActualLoadBalancer | undefined> {
  let lb: LoadBalancer | undefined;
  try {
    const r = await api.elbv2('DescribeLoadBalancers', (c, o) => c.send(new DescribeLoadBalancersCommand({ Names: [name] }), o), { signal });
    lb = r.LoadBalancers?.[0];
  } catch (e) {
    if (e instanceof ProviderError && e.kind === 'notFound') return undefined;
    throw e;
  }
  if (!lb?.LoadBalancerArn) return undefined;
  const tags = (await describeTags(api, [lb.LoadBalancerArn], signal)).get(lb.LoadBalancerArn) ?? {};
  if (!ownedBy(tags, clusterName, ref)) {
    throw new ProviderError(
      'conflict',
      `load balancer ${name} (${lb.LoadBalancerArn}) exists but is not tagged for this ${ref.kind} in cluster ${clusterName}; lbc does not adopt or change it: delete it or choose another name`,
      { provider },
    );
  }
  return fromAws(lb, tags);
}

export async function loadAttributes(api: AwsApi, lb: ActualLoadBalancer, signal?: AbortSignal): Promise<ActualLoadBalancer> {
  const r = await api.elbv2('DescribeLoadBalancerAttributes', (c, o) => c.send(new DescribeLoadBalancerAttributesCommand({ LoadBalancerArn: lb.arn }), o), { signal });
  const attributes: Record<string, string> = {};
  for (const kv of r.Attributes ?? []) if (kv.Key !== undefined) attributes[kv.Key] = kv.Value ?? '';
  return { ...lb, attributes };
}

function awsSubnetMappings(subnets: readonly SubnetMapping[]): AwsSubnetMapping[] {
  return subnets.map((s) => ({
    SubnetId: s.subnetId,
    ...(s.allocationId !== undefined ? { AllocationId: s.allocationId } : {}),
    ...(s.privateIpv4Address !== undefined ? { PrivateIPv4Address: s.privateIpv4Address } : {}),
  }));
}

function securityGroupsOf(d: DesiredLoadBalancer, ctx: ApplyContext): string[] {
  const backend = (): string[] => {
    if (!d.backendSecurityGroup) return [];
    if (ctx.backendSecurityGroupId === undefined) throw new ProviderError('transient', 'the backend security group has no ID yet', { provider: ctx.provider });
    return [ctx.backendSecurityGroupId];
  };
  if (d.userSecurityGroups.length > 0) return [...d.userSecurityGroups, ...backend()];
  if (ctx.securityGroupId === undefined) throw new ProviderError('transient', 'the managed security group has no ID yet', { provider: ctx.provider });
  return [ctx.securityGroupId, ...backend()];
}

function attributesStep(id: string, changed: Record<string, string>, op: 'create' | 'update'): Step {
  return {
    change: { op, resource: 'LoadBalancer', id, fields: Object.keys(changed).sort().map((k) => `attributes.${k}`) },
    run: async (ctx) => {
      const arn = ctx.lbArn ?? '';
      await ctx.api.elbv2(
        'ModifyLoadBalancerAttributes',
        (c, o) =>
          c.send(
            new ModifyLoadBalancerAttributesCommand({
              LoadBalancerArn: arn,
              Attributes: Object.keys(changed)
                .sort()
                .map((Key) => ({ Key, Value: changed[Key] })),
            }),
            o,
          ),
        { signal: ctx.signal },
      );
    },
  };
}

function createSteps(d: DesiredLoadBalancer, detail: string | undefined): Step[] {
  const steps: Step[] = [
    {
      change: { op: 'create', resource: 'LoadBalancer', id: d.name, detail: detail ?? `${d.type} ${d.scheme} in ${d.subnets.map((s) => s.subnetId).join(', ')}` },
      run: async (ctx) => {
        let out;
        try {
          out = await ctx.api.elbv2(
            'CreateLoadBalancer',
            (c, o) =>
              c.send(
                new CreateLoadBalancerCommand({
                  Name: d.name,
                  Type: d.type,
                  Scheme: d.scheme,
                  IpAddressType: d.ipAddressType,
                  SubnetMappings: awsSubnetMappings(d.subnets),
                  SecurityGroups: securityGroupsOf(d, ctx),
                  Tags: toAwsTags(d.tags),
                }),
                o,
              ),
            { signal: ctx.signal },
          );
        } catch (e) {
          if (e instanceof ProviderError && e.retryable && !hasCode(e, 'DuplicateLoadBalancerName')) ctx.inventory.markUncertain();
          throw e;
        }
        const lb = out.LoadBalancers?.[0];
        if (!lb?.LoadBalancerArn) throw new ProviderError('transient', `CreateLoadBalancer returned no ARN for ${d.name}`, { provider: ctx.provider });
        ctx.lbArn = lb.LoadBalancerArn;
        ctx.dnsName = lb.DNSName;
        ctx.inventory.note(lb.LoadBalancerArn, 'lb', d.tags);
      },
    },
  ];
  if (Object.keys(d.attributes).length > 0) steps.push(attributesStep(d.name, { ...d.attributes }, 'create'));
  return steps;
}

export function deleteLoadBalancerStep(lb: ActualLoadBalancer, why: string): Step {
  return {
    change: { op: 'delete', resource: 'LoadBalancer', id: lb.name, detail: why },
    run: async (ctx) => {
      await ctx.api.elbv2('DeleteLoadBalancer', (c, o) => c.send(new DeleteLoadBalancerCommand({ LoadBalancerArn: lb.arn }), o), { signal: ctx.signal }).catch((e: unknown) => {
        if (!hasCode(e, 'LoadBalancerNotFound')) throw e;
      });
      ctx.inventory.forget(lb.arn);
      if (ctx.lbArn === lb.arn) {
        ctx.lbArn = undefined;
        ctx.dnsName = undefined;
      }
    },
  };
}

/** Why `actual` cannot become `desired` in place, or undefined when it can. */
export function replacementReason(actual: ActualLoadBalancer, desired: DesiredLoadBalancer): string | undefined {
  if (actual.type !== desired.type) return `type is immutable (${actual.type} → ${desired.type})`;
  if (actual.scheme !== desired.scheme) return `scheme is immutable (${actual.scheme} → ${desired.scheme})`;
  const addresses = (s: readonly SubnetMapping[]): string =>
    JSON.stringify(
      s
        .filter((m) => m.allocationId !== undefined || m.privateIpv4Address !== undefined)
        .map((m) => [m.subnetId, m.allocationId ?? '', m.privateIpv4Address ?? ''])
        .sort(),
    );
  const wantsStatic = desired.subnets.some((m) => m.allocationId !== undefined || m.privateIpv4Address !== undefined);
  if (wantsStatic && addresses(actual.subnets) !== addresses(desired.subnets)) return 'EIP allocations and private addresses are fixed at creation';
  return undefined;
}

export interface LoadBalancerDiff {
  /** A replaced load balancer goes first: its name, and its target groups, become free. */
  readonly replace: Step[];
  readonly apply: Step[];
}

/**
 * `actual` is this object's load balancer (found by tags), if any. `managedGroupId` is
 * the managed security group's current ID (undefined when it is about to be created),
 * `backendGroupId` the shared backend group's when desired.backendSecurityGroup.
 */
export function diffLoadBalancer(actual: ActualLoadBalancer | undefined, desired: DesiredLoadBalancer, managedGroupId: string | undefined, backendGroupId?: string): LoadBalancerDiff {
  if (!actual) return { replace: [], apply: createSteps(desired, undefined) };
  const why = replacementReason(actual, desired);
  if (why) {
    // A name the user chose cannot be held by two load balancers; a generated one changes with the scheme.
    return {
      replace: [deleteLoadBalancerStep(actual, `replaced: ${why}`)],
      apply: createSteps(desired, `replaces ${actual.name}: ${why}`),
    };
  }
  const apply: Step[] = [];
  const id = actual.name;
  const wantSubnets = [...desired.subnets.map((s) => s.subnetId)].sort();
  const haveSubnets = actual.subnets.map((s) => s.subnetId);
  if (JSON.stringify(wantSubnets) !== JSON.stringify(haveSubnets)) {
    apply.push({
      change: { op: 'update', resource: 'LoadBalancer', id, fields: ['subnets'], detail: `${haveSubnets.join(',')} → ${wantSubnets.join(',')}` },
      run: async (ctx) => {
        await ctx.api.elbv2('SetSubnets', (c, o) => c.send(new SetSubnetsCommand({ LoadBalancerArn: actual.arn, SubnetMappings: awsSubnetMappings(desired.subnets) }), o), {
          signal: ctx.signal,
        });
      },
    });
  }
  const wantGroups = [
    ...(desired.userSecurityGroups.length > 0 ? desired.userSecurityGroups : managedGroupId !== undefined ? [managedGroupId] : ['(new managed group)']),
    ...(desired.backendSecurityGroup ? [backendGroupId ?? '(new backend group)'] : []),
  ].sort();
  if (JSON.stringify(wantGroups) !== JSON.stringify(actual.securityGroups)) {
    apply.push({
      change: { op: 'update', resource: 'LoadBalancer', id, fields: ['securityGroups'], detail: `${actual.securityGroups.join(',')} → ${wantGroups.join(',')}` },
      run: async (ctx) => {
        await ctx.api.elbv2('SetSecurityGroups', (c, o) => c.send(new SetSecurityGroupsCommand({ LoadBalancerArn: actual.arn, SecurityGroups: securityGroupsOf(desired, ctx) }), o), {
          signal: ctx.signal,
        });
      },
    });
  }
  if (actual.ipAddressType !== desired.ipAddressType) {
    apply.push({
      change: { op: 'update', resource: 'LoadBalancer', id, fields: ['ipAddressType'], detail: `${actual.ipAddressType} → ${desired.ipAddressType}` },
      run: async (ctx) => {
        await ctx.api.elbv2('SetIpAddressType', (c, o) => c.send(new SetIpAddressTypeCommand({ LoadBalancerArn: actual.arn, IpAddressType: desired.ipAddressType }), o), {
          signal: ctx.signal,
        });
      },
    });
  }
  const changed: Record<string, string> = {};
  for (const [k, v] of Object.entries(desired.attributes)) if (actual.attributes?.[k] !== v) changed[k] = v;
  if (Object.keys(changed).length > 0) apply.push(attributesStep(id, changed, 'update'));
  const tags = tagsToAdd(actual.tags, desired.tags);
  if (Object.keys(tags).length > 0) {
    apply.push({
      change: { op: 'update', resource: 'LoadBalancer', id, fields: ['tags'], detail: Object.keys(tags).sort().join(', ') },
      run: async (ctx) => {
        await ctx.api.elbv2('AddTags', (c, o) => c.send(new AddTagsCommand({ ResourceArns: [actual.arn], Tags: toAwsTags(tags) }), o), { signal: ctx.signal });
      },
    });
  }
  return { replace: [], apply };
}
