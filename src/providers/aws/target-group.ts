// Target groups and their targets. Synthesizer (diffTargetGroups) and manager (the
// ELBv2 calls) for the kind. A target group's protocol, port, target type and VPC cannot
// change; its name hashes them, so a change means a new group next to the old one, the
// listeners switch over, and the old one is deleted once nothing uses it.
import {
  AddTagsCommand,
  CreateTargetGroupCommand,
  DeleteTargetGroupCommand,
  DeregisterTargetsCommand,
  DescribeTargetGroupAttributesCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  ModifyTargetGroupAttributesCommand,
  ModifyTargetGroupCommand,
  RegisterTargetsCommand,
  type ProtocolEnum,
  type TargetDescription,
  type TargetGroup,
  type TargetTypeEnum,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { ProviderError, type Change } from '../types.js';
import type { AwsApi } from './api.js';
import type { DesiredHealthCheck, DesiredTarget, DesiredTargetGroup } from './desired.js';
import { hasCode } from './errors.js';
import { describeTags } from './inventory.js';
import type { ApplyContext, Step } from './plan.js';
import { TAG_CLUSTER } from '../../model/spec.js';
import { ownedBy, refFromTags, TAG_RESOURCE, tagsToAdd, toAwsTags, type Tags } from './tags.js';

export interface ActualTarget extends DesiredTarget {
  /** ELBv2's TargetHealth state: initial, healthy, unhealthy, unused, draining, unavailable. */
  readonly state: string;
}

export interface ActualTargetGroup {
  readonly arn: string;
  readonly name: string;
  readonly protocol: string;
  readonly port: number;
  readonly targetType: string;
  readonly vpcId: string;
  /** ipv4 or ipv6 (dualstack groups report ipv6); absent where not read. */
  readonly ipAddressType?: string;
  /** HTTP and HTTPS groups' (HTTP1, HTTP2, GRPC). */
  readonly protocolVersion?: string;
  readonly targetControlPort?: number;
  readonly healthCheck: Partial<DesiredHealthCheck>;
  readonly loadBalancerArns: readonly string[];
  readonly tags: Tags;
  /** Read only for groups that are still wanted. */
  readonly attributes?: Readonly<Record<string, string>>;
  readonly targets?: readonly ActualTarget[];
}

/** What AWS sets on a new group; lbc writes these only when they differ, saving a call per create. */
const ATTRIBUTE_DEFAULTS: Readonly<Record<string, string>> = {
  'stickiness.enabled': 'false',
  'proxy_protocol_v2.enabled': 'false',
};

const TARGET_BATCH = 200;

function fromAws(tg: TargetGroup, tags: Tags): ActualTargetGroup {
  const hcProtocol = tg.HealthCheckProtocol as DesiredHealthCheck['protocol'] | undefined;
  return {
    arn: tg.TargetGroupArn ?? '',
    name: tg.TargetGroupName ?? '',
    protocol: tg.Protocol ?? '',
    port: tg.Port ?? 0,
    targetType: tg.TargetType ?? '',
    vpcId: tg.VpcId ?? '',
    ...(tg.IpAddressType !== undefined ? { ipAddressType: tg.IpAddressType } : {}),
    ...(tg.ProtocolVersion !== undefined ? { protocolVersion: tg.ProtocolVersion } : {}),
    ...(tg.TargetControlPort !== undefined ? { targetControlPort: tg.TargetControlPort } : {}),
    healthCheck: {
      ...(hcProtocol !== undefined ? { protocol: hcProtocol } : {}),
      ...(tg.HealthCheckPort !== undefined ? { port: tg.HealthCheckPort } : {}),
      ...(tg.HealthCheckPath !== undefined ? { path: tg.HealthCheckPath } : {}),
      ...(tg.HealthCheckIntervalSeconds !== undefined ? { intervalSeconds: tg.HealthCheckIntervalSeconds } : {}),
      ...(tg.HealthCheckTimeoutSeconds !== undefined ? { timeoutSeconds: tg.HealthCheckTimeoutSeconds } : {}),
      ...(tg.HealthyThresholdCount !== undefined ? { healthyThreshold: tg.HealthyThresholdCount } : {}),
      ...(tg.UnhealthyThresholdCount !== undefined ? { unhealthyThreshold: tg.UnhealthyThresholdCount } : {}),
      ...(tg.Matcher?.HttpCode !== undefined ? { matcher: tg.Matcher.HttpCode } : {}),
      ...(tg.Matcher?.GrpcCode !== undefined ? { grpcCodes: tg.Matcher.GrpcCode } : {}),
    },
    loadBalancerArns: tg.LoadBalancerArns ?? [],
    tags,
  };
}

/** The groups behind these ARNs, with the tags given; ARNs that no longer exist are skipped. */
export async function describeTargetGroups(api: AwsApi, arns: readonly string[], tags: ReadonlyMap<string, Tags>, signal?: AbortSignal): Promise<ActualTargetGroup[]> {
  if (arns.length === 0) return [];
  let groups: TargetGroup[];
  try {
    const r = await api.elbv2('DescribeTargetGroups', (c, o) => c.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [...arns] }), o), { signal });
    groups = r.TargetGroups ?? [];
  } catch (e) {
    if (!(e instanceof ProviderError && e.kind === 'notFound')) throw e;
    if (arns.length === 1) return [];
    groups = [];
    for (const arn of arns) groups.push(...(await describeTargetGroupsRaw(api, arn, signal)));
  }
  return groups.map((g) => fromAws(g, tags.get(g.TargetGroupArn ?? '') ?? {}));
}

async function describeTargetGroupsRaw(api: AwsApi, arn: string, signal?: AbortSignal): Promise<TargetGroup[]> {
  try {
    const r = await api.elbv2('DescribeTargetGroups', (c, o) => c.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [arn] }), o), { signal });
    return r.TargetGroups ?? [];
  } catch (e) {
    if (e instanceof ProviderError && e.kind === 'notFound') return [];
    throw e;
  }
}

/** Attributes (when any are managed) and registered targets of a group that stays. */
export async function loadTargetGroupDetails(api: AwsApi, tg: ActualTargetGroup, wantAttributes: boolean, signal?: AbortSignal): Promise<ActualTargetGroup> {
  const health = await api.elbv2('DescribeTargetHealth', (c, o) => c.send(new DescribeTargetHealthCommand({ TargetGroupArn: tg.arn }), o), { signal });
  const targets: ActualTarget[] = (health.TargetHealthDescriptions ?? []).map((d) => ({
    id: d.Target?.Id ?? '',
    port: d.Target?.Port ?? tg.port,
    state: d.TargetHealth?.State ?? 'unknown',
  }));
  let attributes: Record<string, string> | undefined;
  if (wantAttributes) {
    const a = await api.elbv2('DescribeTargetGroupAttributes', (c, o) => c.send(new DescribeTargetGroupAttributesCommand({ TargetGroupArn: tg.arn }), o), { signal });
    attributes = {};
    for (const kv of a.Attributes ?? []) if (kv.Key !== undefined) attributes[kv.Key] = kv.Value ?? '';
  }
  return { ...tg, targets, ...(attributes ? { attributes } : {}) };
}

function healthCheckInput(h: DesiredHealthCheck) {
  return {
    HealthCheckEnabled: true,
    HealthCheckProtocol: h.protocol as ProtocolEnum,
    HealthCheckPort: h.port,
    ...(h.path !== undefined ? { HealthCheckPath: h.path } : {}),
    HealthCheckIntervalSeconds: h.intervalSeconds,
    HealthCheckTimeoutSeconds: h.timeoutSeconds,
    HealthyThresholdCount: h.healthyThreshold,
    UnhealthyThresholdCount: h.unhealthyThreshold,
    ...(h.matcher !== undefined ? { Matcher: { HttpCode: h.matcher } } : {}),
    ...(h.grpcCodes !== undefined ? { Matcher: { GrpcCode: h.grpcCodes } } : {}),
  };
}

/** Health check fields that differ; path and codes only matter for HTTP(S) checks. */
export function healthCheckDiff(actual: Partial<DesiredHealthCheck>, desired: DesiredHealthCheck): string[] {
  const fields: (keyof DesiredHealthCheck)[] = ['protocol', 'port', 'intervalSeconds', 'timeoutSeconds', 'healthyThreshold', 'unhealthyThreshold'];
  if (desired.protocol !== 'TCP') fields.push('path', 'matcher', 'grpcCodes');
  return fields.filter((f) => actual[f] !== desired[f]).map((f) => `healthCheck.${f}`);
}

const targetKey = (t: DesiredTarget): string => `${t.id}:${t.port}`;

async function inBatches(targets: readonly DesiredTarget[], send: (batch: TargetDescription[]) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < targets.length; i += TARGET_BATCH) {
    await send(targets.slice(i, i + TARGET_BATCH).map((t) => ({ Id: t.id, Port: t.port })));
  }
}

/** What to register and deregister so that the group holds exactly `want`. */
export function diffTargets(have: readonly ActualTarget[], want: readonly DesiredTarget[]): { register: DesiredTarget[]; deregister: DesiredTarget[] } {
  // A draining target is on its way out: if it is wanted again it must be registered again.
  const registered = new Set(have.filter((t) => t.state !== 'draining').map(targetKey));
  const wanted = new Set(want.map(targetKey));
  return {
    register: want.filter((t) => !registered.has(targetKey(t))),
    deregister: have.filter((t) => t.state !== 'draining' && !wanted.has(targetKey(t))).map((t) => ({ id: t.id, port: t.port })),
  };
}

/** The (de)registration of one group's targets; `name` is how ctx.tgArns knows the group. */
export function targetsStep(name: string, key: string, register: readonly DesiredTarget[], deregister: readonly DesiredTarget[], warnings: readonly string[]): Step | undefined {
  if (register.length === 0 && deregister.length === 0) return undefined;
  const fmt = (ts: readonly DesiredTarget[]) => ts.map(targetKey).join(' ');
  const detail = [
    register.length > 0 ? `register ${fmt(register)}` : '',
    deregister.length > 0 ? `deregister ${fmt(deregister)}` : '',
    ...warnings,
  ]
    .filter((s) => s !== '')
    .join('; ');
  return {
    change: { op: 'update', resource: 'Targets', id: key, fields: ['targets'], detail },
    run: async (ctx) => {
      const arn = ctx.tgArns.get(name);
      if (arn === undefined) throw new ProviderError('transient', `target group ${name} has no ARN yet`, { provider: ctx.provider });
      await inBatches(register, (Targets) =>
        ctx.api.elbv2('RegisterTargets', (c, o) => c.send(new RegisterTargetsCommand({ TargetGroupArn: arn, Targets }), o), { signal: ctx.signal }),
      );
      await inBatches(deregister, (Targets) =>
        ctx.api.elbv2('DeregisterTargets', (c, o) => c.send(new DeregisterTargetsCommand({ TargetGroupArn: arn, Targets }), o), { signal: ctx.signal }),
      );
    },
  };
}

function modifyAttributesStep(tg: DesiredTargetGroup, changed: Record<string, string>, op: Change['op']): Step {
  return {
    change: { op, resource: 'TargetGroup', id: tg.key, fields: Object.keys(changed).sort().map((k) => `attributes.${k}`) },
    run: async (ctx) => {
      const arn = ctx.tgArns.get(tg.name) ?? '';
      await ctx.api.elbv2(
        'ModifyTargetGroupAttributes',
        (c, o) =>
          c.send(
            new ModifyTargetGroupAttributesCommand({
              TargetGroupArn: arn,
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

async function adoptOrConflict(ctx: ApplyContext, tg: DesiredTargetGroup, cause: unknown): Promise<string> {
  // Our own earlier create whose answer was lost, or a group someone else named the same.
  const r = await ctx.api.elbv2('DescribeTargetGroups', (c, o) => c.send(new DescribeTargetGroupsCommand({ Names: [tg.name] }), o), { signal: ctx.signal });
  const found = r.TargetGroups?.[0]?.TargetGroupArn;
  if (found !== undefined) {
    const tags = (await describeTags(ctx.api, [found], ctx.signal)).get(found) ?? {};
    const ref = refFromTags(tg.tags);
    if (ref && ownedBy(tags, tg.tags[TAG_CLUSTER] ?? '', ref)) return found;
  }
  throw new ProviderError('conflict', `target group ${tg.name} exists but is not tagged for this load balancer; lbc leaves it alone`, { provider: ctx.provider, cause });
}

function createStep(tg: DesiredTargetGroup, replaces: ActualTargetGroup | undefined): Step {
  const detail = [
    `${tg.name} ${tg.protocol}:${tg.port} ${tg.targetType}`,
    replaces ? `replaces ${replaces.name} (${replaces.protocol}:${replaces.port} ${replaces.targetType}): protocol, port, target type and VPC cannot change in place` : '',
  ]
    .filter((s) => s !== '')
    .join('; ');
  return {
    change: { op: 'create', resource: 'TargetGroup', id: tg.key, detail },
    run: async (ctx) => {
      let arn: string | undefined;
      try {
        const out = await ctx.api.elbv2(
          'CreateTargetGroup',
          (c, o) =>
            c.send(
              new CreateTargetGroupCommand({
                Name: tg.name,
                Protocol: tg.protocol as ProtocolEnum,
                Port: tg.port,
                VpcId: tg.vpcId,
                TargetType: tg.targetType as TargetTypeEnum,
                ...(tg.protocolVersion !== undefined ? { ProtocolVersion: tg.protocolVersion } : {}),
                ...(tg.targetControlPort !== undefined ? { TargetControlPort: tg.targetControlPort } : {}),
                ...healthCheckInput(tg.healthCheck),
                Tags: toAwsTags(tg.tags),
              }),
              o,
            ),
          { signal: ctx.signal },
        );
        arn = out.TargetGroups?.[0]?.TargetGroupArn;
      } catch (e) {
        if (!hasCode(e, 'DuplicateTargetGroupName')) {
          if (e instanceof ProviderError && e.retryable) ctx.inventory.markUncertain();
          throw e;
        }
        arn = await adoptOrConflict(ctx, tg, e);
      }
      if (arn === undefined) throw new ProviderError('transient', `CreateTargetGroup returned no ARN for ${tg.name}`, { provider: ctx.provider });
      // ELBv2 answers a create with the settings of an existing group by returning that group:
      // a name the user chose may be someone else's.
      if (tg.named) {
        const tags = (await describeTags(ctx.api, [arn], ctx.signal)).get(arn) ?? {};
        const ref = refFromTags(tg.tags);
        if (!ref || !ownedBy(tags, tg.tags[TAG_CLUSTER] ?? '', ref)) {
          throw new ProviderError('conflict', `target group ${tg.name} exists but is not tagged for this load balancer; lbc leaves it alone (targetGroupName names a group of its own)`, { provider: ctx.provider });
        }
      }
      ctx.tgArns.set(tg.name, arn);
      ctx.inventory.note(arn, 'tg', tg.tags);
      const attrs: Record<string, string> = {};
      for (const [k, v] of Object.entries(tg.attributes)) if (ATTRIBUTE_DEFAULTS[k] !== v) attrs[k] = v;
      if (Object.keys(attrs).length > 0) await modifyAttributesStep(tg, attrs, 'create').run(ctx);
    },
  };
}

export function deleteTargetGroupStep(tg: ActualTargetGroup, why: string): Step {
  return {
    change: { op: 'delete', resource: 'TargetGroup', id: tg.tags[TAG_RESOURCE] ?? tg.name, detail: `${tg.name}: ${why}` },
    run: async (ctx) => {
      await ctx.api
        .elbv2('DeleteTargetGroup', (c, o) => c.send(new DeleteTargetGroupCommand({ TargetGroupArn: tg.arn }), o), {
          signal: ctx.signal,
          // In use until the listener (or the deleted load balancer) lets go of it.
          waitOn: ['ResourceInUse'],
          deadlineMs: ctx.dependencyTimeoutMs,
        })
        .catch((e: unknown) => {
          if (!hasCode(e, 'TargetGroupNotFound')) throw e;
        });
      ctx.inventory.forget(tg.arn);
      ctx.tgArns.delete(tg.name);
    },
  };
}

export interface TargetGroupDiff {
  /** Creates and in-place updates: before the listeners that forward to them. */
  readonly apply: Step[];
  /** Target (de)registration: before the listeners switch, so a new group has its targets when traffic comes. */
  readonly targets: Step[];
  /** Groups no longer wanted: after the listeners have switched away from them. */
  readonly cleanup: Step[];
}

export function diffTargetGroups(actual: readonly ActualTargetGroup[], desired: readonly DesiredTargetGroup[], warnings: readonly string[] = []): TargetGroupDiff {
  const apply: Step[] = [];
  const targets: Step[] = [];
  const cleanup: Step[] = [];
  const byName = new Map(actual.map((t) => [t.name, t]));
  const wanted = new Set(desired.map((d) => d.name));
  let warned = false;
  for (const tg of desired) {
    const have = byName.get(tg.name);
    const note: readonly string[] = warned ? [] : warnings;
    if (!have) {
      const replaces = actual.find((a) => a.tags[TAG_RESOURCE] === tg.key && !wanted.has(a.name));
      apply.push(createStep(tg, replaces));
      const step = targetsStep(tg.name, tg.key, tg.targets, [], note);
      if (step) {
        targets.push(step);
        warned ||= note.length > 0;
      }
      continue;
    }
    // Only a name the user gave (TargetGroupConfiguration targetGroupName) outlives these: lbc's own hash them.
    if (tg.named) {
      const wantVersion = tg.protocolVersion ?? (tg.protocol === 'HTTP' || tg.protocol === 'HTTPS' ? 'HTTP1' : undefined);
      const fixed = [
        ...(['protocol', 'port', 'targetType', 'vpcId'] as const).filter((f) => String(have[f]) !== String(tg[f])).map((f) => `${f} ${String(have[f])} (wanted ${String(tg[f])})`),
        ...(have.protocolVersion !== undefined && wantVersion !== undefined && have.protocolVersion !== wantVersion ? [`protocolVersion ${have.protocolVersion} (wanted ${wantVersion})`] : []),
        ...(have.targetControlPort !== tg.targetControlPort ? [`targetControlPort ${String(have.targetControlPort ?? 'none')} (wanted ${String(tg.targetControlPort ?? 'none')})`] : []),
      ];
      if (fixed.length > 0) {
        throw new ProviderError('invalid', `target group ${tg.name} has ${fixed.join(', ')}, which cannot change in place, and the group keeps the name it was given: give it a new targetGroupName`);
      }
    }
    const hc = healthCheckDiff(have.healthCheck, tg.healthCheck);
    if (hc.length > 0) {
      apply.push({
        change: { op: 'update', resource: 'TargetGroup', id: tg.key, fields: hc },
        run: async (ctx) => {
          await ctx.api.elbv2('ModifyTargetGroup', (c, o) => c.send(new ModifyTargetGroupCommand({ TargetGroupArn: have.arn, ...healthCheckInput(tg.healthCheck) }), o), {
            signal: ctx.signal,
          });
        },
      });
    }
    const changedAttrs: Record<string, string> = {};
    for (const [k, v] of Object.entries(tg.attributes)) if (have.attributes?.[k] !== v) changedAttrs[k] = v;
    if (Object.keys(changedAttrs).length > 0) apply.push(modifyAttributesStep(tg, changedAttrs, 'update'));
    const addTags = tagsToAdd(have.tags, tg.tags);
    if (Object.keys(addTags).length > 0) {
      apply.push({
        change: { op: 'update', resource: 'TargetGroup', id: tg.key, fields: ['tags'], detail: Object.keys(addTags).sort().join(', ') },
        run: async (ctx) => {
          await ctx.api.elbv2('AddTags', (c, o) => c.send(new AddTagsCommand({ ResourceArns: [have.arn], Tags: toAwsTags(addTags) }), o), { signal: ctx.signal });
          // The inventory's tags are the cluster's port claims (backend-port-claims.ts): kept current by lbc's own writes.
          ctx.inventory.note(have.arn, 'tg', { ...have.tags, ...addTags });
        },
      });
    }
    const { register, deregister } = diffTargets(have.targets ?? [], tg.targets);
    const step = targetsStep(tg.name, tg.key, register, deregister, note);
    if (step) {
      targets.push(step);
      warned ||= note.length > 0;
    }
  }
  for (const a of actual) {
    if (wanted.has(a.name)) continue;
    const successor = desired.find((d) => d.key === a.tags[TAG_RESOURCE]);
    cleanup.push(deleteTargetGroupStep(a, successor ? `replaced by ${successor.name}` : 'no longer in the spec'));
  }
  return { apply, targets, cleanup };
}
