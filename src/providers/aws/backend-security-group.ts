// The shared backend security group, as aws-load-balancer-controller makes it
// (pkg/networking/backend_sg_provider.go, docs/deploy/security_groups.md): one group per
// cluster, named `k8s-traffic-<cluster>-<hash>`, attached to every load balancer whose
// backend rules lbc manages, and the one source each node security group lets in. With a
// group per load balancer as the source, every load balancer and port adds a rule to
// every node group, and the rules-per-group quota (60 by default) is met after a few
// dozen Services; with this group the node groups carry one rule per protocol.
//
// The node rule opens the node port range (kube-apiserver's --service-node-port-range),
// TCP and UDP, from this group. aws-load-balancer-controller instead spans the lowest to
// the highest port its target groups use (networking_manager.go
// computeRestrictedIngressPermissionsPerSG), which it can compute because it holds every
// TargetGroupBinding in memory; lbc's ensure sees one load balancer, so a range derived
// from all of them would be stale or need a read of all of them. The node port range is
// the declared shape: it never changes with a Service, so it is never stale, and a load
// balancer sends only to the targets lbc registered on it. Ports outside the range (pod
// ports of ip targets, a health check port given by annotation) get one rule per node
// group, protocol and port from this group too, shared by every load balancer that sends
// to that port and kept while some target group of the cluster claims it
// (backend-port-claims.ts). Exact ports rather than ALBC's min-max span: a span would open
// every port between two pods' ports to every load balancer of the cluster.
//
// Without this group (backendSecurityGroup.enabled: false) every port keeps a rule per
// load balancer from the load balancer's own group, as before (backend-rules.ts); with
// the user's groups and manage-backend-security-group-rules off there are no rules at all.
//
// Lifecycle: created when the first load balancer needs it (a node group to allow it on
// and a port to reach), found again by its tags after a restart; released when a
// load balancer is deleted or stops needing it and no other load balancer of the cluster
// has it attached: its node rules revoked (found by their tags), then the group deleted.
// aws-load-balancer-controller deletes it when no Ingress holds its finalizer; lbc asks
// ELBv2, which also counts Services and knows nothing of finalizers left behind.
import { createHash } from 'node:crypto';
import { DescribeSecurityGroupsCommand, type Filter, type IpPermission } from '@aws-sdk/client-ec2';
import { DescribeLoadBalancersCommand, type LoadBalancer } from '@aws-sdk/client-elastic-load-balancing-v2';
import { TAG_CLUSTER, TAG_OWNER_UID } from '../../model/spec.js';
import { ProviderError } from '../types.js';
import type { AwsApi } from './api.js';
import { asClaims, claimed, inventoryClaims, type ClaimedPorts } from './backend-port-claims.js';
import { authorizeTagged, describeSharedRules, revokeStep, type NodeGroup } from './backend-rules.js';
import type { BackendPort, DesiredBackendAccess } from './desired.js';
import { hasCode } from './errors.js';
import type { ApplyContext, Step } from './plan.js';
import { createSecurityGroup, deleteSecurityGroup } from './security-group.js';
import { AWS_LBC_CLUSTER, fromAwsTags, ownedByCluster, TAG_RESOURCE, type Tags } from './tags.js';

/** `lbc.dev/resource` of the group and of its rules on the node groups. */
export const RESOURCE_BACKEND_SG = 'BackendSecurityGroup';
export const RESOURCE_SHARED_BACKEND_RULE = 'SharedBackendSecurityGroupRule';
/** aws-load-balancer-controller's tag for the same group, so that users coming from it recognise it. */
const AWS_LBC_RESOURCE = 'elbv2.k8s.aws/resource';
const AWS_LBC_BACKEND_SG = 'backend-sg';
const PROTOCOLS = ['tcp', 'udp'] as const;

export interface BackendSecurityGroupConfig {
  readonly enabled: boolean;
  /** A group the user gave: used as is, never created or deleted. */
  readonly id?: string | undefined;
  readonly nodePortRange: { readonly from: number; readonly to: number };
}

/**
 * aws-load-balancer-controller's getBackendSGName: `k8s-traffic-`, the cluster name without
 * its non-alphanumeric characters (at most 232), `-`, the first 10 hex digits of the
 * SHA-256 of the cluster name (255 characters at most, as EC2 allows).
 */
export function backendSecurityGroupName(clusterName: string): string {
  const hash = createHash('sha256').update(clusterName).digest('hex').slice(0, 10);
  return `k8s-traffic-${clusterName.replace(/[^A-Za-z0-9]/g, '').slice(0, 232)}-${hash}`;
}

export const inRange = (p: BackendPort, r: BackendSecurityGroupConfig['nodePortRange']): boolean => r.from <= p.port && p.port <= r.to;
const portKey = (p: { readonly protocol: string; readonly port: number }): string => `${p.protocol}/${p.port}`;

/**
 * An ensure's hold on the group and on the ports it will need per-port rules for, taken
 * before it reads the node groups. `inDoubt`: those of its ports whose rules a release of
 * this process was revoking when the hold was taken, which the node groups may still show.
 */
export interface Hold {
  readonly ports: readonly BackendPort[];
  readonly inDoubt: ReadonlySet<string>;
  done(): void;
}

/**
 * Per provider: the group's ID per VPC once found, created or known absent (lbc is the
 * only one that creates or deletes it, so what it learnt stays true while it runs), and
 * the ensures of this process about to attach it, which a release must not pull it from
 * under.
 */
export class BackendSecurityGroups {
  private readonly ids = new Map<string, string | null>();
  /** Every VPC was read (all()): a VPC not in ids has none. */
  private scanned = false;
  private readonly holds = new Set<Hold>();
  /** Per-port revocations under way, by `protocol/port`. */
  private readonly revoking = new Map<string, Set<Promise<unknown>>>();
  /** Rules from the group on a node group that are not lbc's (untagged): never released, so not looked for again. */
  readonly foreign = new Set<string>();
  /**
   * Objects whose delete has taken their load balancer down and is releasing their ports:
   * their target groups' claims no longer count, so that two deletes of load balancers on
   * one port (a namespace deleted) do not each keep the rule for the other.
   */
  readonly going = new Set<string>();

  constructor(
    readonly clusterName: string,
    readonly config: BackendSecurityGroupConfig,
    private readonly defaultTags: Tags,
  ) {}

  get name(): string {
    return backendSecurityGroupName(this.clusterName);
  }

  tags(): Tags {
    return { ...this.defaultTags, [TAG_CLUSTER]: this.clusterName, [TAG_RESOURCE]: RESOURCE_BACKEND_SG, [AWS_LBC_CLUSTER]: this.clusterName, [AWS_LBC_RESOURCE]: AWS_LBC_BACKEND_SG };
  }

  ruleTags(): Tags {
    return { ...this.defaultTags, [TAG_CLUSTER]: this.clusterName, [TAG_RESOURCE]: RESOURCE_SHARED_BACKEND_RULE, [AWS_LBC_CLUSTER]: this.clusterName };
  }

  /** The group in vpcId: the one given, else lbc's (read once, then remembered); undefined when it does not exist. */
  async find(api: AwsApi, vpcId: string, signal?: AbortSignal): Promise<string | undefined> {
    if (this.config.id !== undefined) return this.config.id;
    const known = this.ids.get(vpcId);
    if (known !== undefined) return known ?? undefined;
    if (this.scanned) return undefined;
    const found = (await this.lookup(api, vpcId, signal))[0];
    this.ids.set(vpcId, found?.id ?? null);
    return found?.id;
  }

  /** For delete, which has no VPC at hand: every one tagged for the cluster (read once, then kept current). */
  async all(api: AwsApi, signal?: AbortSignal): Promise<{ id: string; vpcId: string | undefined }[]> {
    if (this.config.id !== undefined) return [{ id: this.config.id, vpcId: undefined }];
    // A provider serves one VPC: the group found or made there is the one to release.
    if (!this.scanned && ![...this.ids.values()].some((id) => id !== null)) {
      for (const g of await this.lookup(api, undefined, signal)) this.ids.set(g.vpcId, g.id);
      this.scanned = true;
    }
    return [...this.ids].flatMap(([vpcId, id]) => (id !== null ? [{ id, vpcId }] : []));
  }

  remember(vpcId: string, id: string): void {
    this.ids.set(vpcId, id);
  }

  /** Deleted: known absent wherever it was. */
  deleted(id: string): void {
    for (const [vpcId, known] of this.ids) if (known === id) this.ids.set(vpcId, null);
  }

  /** What was known for vpcId is in doubt: the next find reads again. */
  unknown(vpcId: string): void {
    this.ids.delete(vpcId);
    this.scanned = false;
  }

  /** An ensure that may attach the group holds it, and the ports it needs rules for, until it is done. */
  hold(ports: readonly BackendPort[]): Hold {
    const hold: Hold = {
      ports,
      inDoubt: new Set(ports.map(portKey).filter((k) => this.revoking.has(k))),
      done: () => this.holds.delete(hold),
    };
    this.holds.add(hold);
    return hold;
  }

  get busy(): boolean {
    return this.holds.size > 0;
  }

  /** The ports the ensures of this process hold. */
  held(): ClaimedPorts[] {
    return [...this.holds].flatMap((h) => asClaims(h.ports));
  }

  /** Runs a revocation of these ports' rules, known to holds taken meanwhile (Hold.inDoubt). */
  async revokingPorts(ports: readonly { protocol: string; port: number }[], run: () => Promise<void>): Promise<void> {
    const job = run();
    const keys = [...new Set(ports.map(portKey))];
    for (const k of keys) {
      let s = this.revoking.get(k);
      if (!s) this.revoking.set(k, (s = new Set()));
      s.add(job);
    }
    try {
      await job;
    } finally {
      for (const k of keys) {
        const s = this.revoking.get(k);
        s?.delete(job);
        if (s?.size === 0) this.revoking.delete(k);
      }
    }
  }

  /** Once the revocations under way have landed: a rule added before would be taken away by them. */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.revoking.values()].flatMap((s) => [...s]));
  }

  private async lookup(api: AwsApi, vpcId: string | undefined, signal?: AbortSignal): Promise<{ id: string; vpcId: string }[]> {
    const filters: Filter[] = [
      { Name: `tag:${TAG_CLUSTER}`, Values: [this.clusterName] },
      { Name: `tag:${TAG_RESOURCE}`, Values: [RESOURCE_BACKEND_SG] },
      ...(vpcId !== undefined ? [{ Name: 'vpc-id', Values: [vpcId] }] : []),
    ];
    const out: { id: string; vpcId: string }[] = [];
    let NextToken: string | undefined;
    do {
      const page = await api.ec2('DescribeSecurityGroups', (c, o) => c.send(new DescribeSecurityGroupsCommand({ Filters: filters, ...(NextToken ? { NextToken } : {}) }), o), { signal });
      for (const g of page.SecurityGroups ?? []) {
        const tags = fromAwsTags(g.Tags);
        // The filter is AWS's; the check is ours.
        if (g.GroupId && ownedByCluster(tags, this.clusterName) && tags[TAG_RESOURCE] === RESOURCE_BACKEND_SG) out.push({ id: g.GroupId, vpcId: g.VpcId ?? '' });
      }
      NextToken = page.NextToken;
    } while (NextToken);
    return out.sort((a, b) => (a.id < b.id ? -1 : 1));
  }
}

export interface SharedBackendPlan {
  /** Before the target groups: the group when missing, and the node port range rule on every node group that lacks it. */
  readonly apply: Step[];
  /** After the target groups (whose tags claim the ports) and before the load balancer: per-port rules the node groups lack. */
  readonly portRules: Step[];
  /** After the load balancer has let go of it: per-port rules no target group claims any more, then the group released unless another load balancer has it. */
  readonly cleanup: Step[];
  /** The group to attach to the load balancer: its ID, null while it is still to be created, undefined for none. */
  readonly attach: string | null | undefined;
  /** What the per-load-balancer rules still cover: nothing while the shared group is used. */
  readonly ownAccess: DesiredBackendAccess | undefined;
  /** Whether a port's rule comes from the shared group, so that its target group claims it (undefined: none does). */
  readonly claims: ((p: BackendPort) => boolean) | undefined;
  /** Ends this ensure's hold on the group (see BackendSecurityGroups.hold). */
  readonly done: () => void;
}

export interface SharedBackendInput {
  readonly api: AwsApi;
  readonly signal: AbortSignal | undefined;
  readonly groups: BackendSecurityGroups | undefined;
  readonly vpcId: string;
  readonly access: DesiredBackendAccess | undefined;
  readonly nodeGroups: readonly NodeGroup[];
  /** The load balancer's groups today, when it exists and is kept. */
  readonly attached: readonly string[] | undefined;
  /** The groups the load balancer has besides the backend group (the user's, or the managed one). */
  readonly frontend: readonly string[];
  /** Taken (sharedHold) before the node groups were read. */
  readonly hold: Hold | undefined;
  /** What the cluster's other objects' target groups claim (the inventory's tags). */
  readonly otherClaims: readonly ClaimedPorts[];
  /** What this object's target groups claim today (their tags): when it stops using the group, the rules only they needed go. */
  readonly ownClaims: readonly ClaimedPorts[];
}

const noop = (): void => undefined;

/** The hold an ensure takes before reading the node groups, when the shared group may serve it. */
export function sharedHold(groups: BackendSecurityGroups | undefined, access: DesiredBackendAccess | undefined): Hold | undefined {
  if (!groups?.config.enabled || !access || access.ports.length === 0) return undefined;
  return groups.hold(access.ports.filter((p) => !inRange(p, groups.config.nodePortRange)));
}

export async function planSharedBackend(input: SharedBackendInput): Promise<SharedBackendPlan> {
  const { groups, access, hold } = input;
  const range = groups?.config.nodePortRange;
  if (groups === undefined || range === undefined || access === undefined || hold === undefined || input.nodeGroups.length === 0) {
    hold?.done();
    // Not (or no longer) used here: pulled from the load balancer if it still has it, then released.
    const extra = (input.attached ?? []).filter((g) => !input.frontend.includes(g));
    const id = groups && extra.length > 0 ? await groups.find(input.api, input.vpcId, input.signal) : undefined;
    const cleanup: Step[] = [];
    // Its target groups' claims are cleared with this ensure; the rules only they needed go.
    if (groups && input.ownClaims.length > 0) cleanup.push(releasePortRulesStep(groups, 'the load balancer no longer uses the backend group', { ports: input.ownClaims }));
    if (groups && id !== undefined && extra.includes(id)) cleanup.push(releaseStep(groups, id, 'the load balancer no longer uses it'));
    return { apply: [], portRules: [], cleanup, attach: undefined, ownAccess: access, claims: undefined, done: noop };
  }
  const done = hold.done;
  try {
    const id = await groups.find(input.api, input.vpcId, input.signal);
    const apply: Step[] = [];
    const portRules: Step[] = [];
    if (id === undefined) apply.push(createStep(groups, input.vpcId));
    const needsRange = access.ports.some((p) => inRange(p, range));
    const fromGroup = (g: NodeGroup) => g.fromGroups.filter((r) => id !== undefined && r.sourceGroupId === id);
    for (const g of input.nodeGroups) {
      const mine = fromGroup(g);
      const missing = needsRange ? PROTOCOLS.filter((p) => !mine.some((r) => r.protocol === '-1' || (r.protocol === p && r.fromPort <= range.from && range.to <= r.toPort))) : [];
      if (missing.length > 0) apply.push(nodeRuleStep(groups, g.id, missing, id));
      // A rule a revocation of this process may be taking away as we look is missing too.
      const ports = hold.ports.filter(
        (p) => hold.inDoubt.has(`${p.protocol}/${p.port}`) || !mine.some((r) => r.protocol === '-1' || (r.protocol === p.protocol && r.fromPort <= p.port && p.port <= r.toPort)),
      );
      if (ports.length > 0) portRules.push(portRulesStep(groups, g.id, ports, id));
    }
    // Per-port rules of the group that nothing claims (this load balancer's old ports, or left by a crash) show on the node groups: released after the load balancer.
    const claims = [...input.otherClaims, ...asClaims(hold.ports), ...groups.held()];
    const seen: PortRuleSeen[] = input.nodeGroups.flatMap((g) =>
      fromGroup(g)
        .filter((r) => !isRangeRule(r, range) && !groups.foreign.has(foreignKey(g.id, r)) && !claimed(claims, r.protocol, r.fromPort, r.toPort))
        .map((r) => ({ groupId: g.id, protocol: r.protocol, fromPort: r.fromPort, toPort: r.toPort })),
    );
    const cleanup = seen.length > 0 ? [releasePortRulesStep(groups, 'no target group of the cluster claims them', { known: id, seen })] : [];
    return { apply, portRules, cleanup, attach: id ?? null, ownAccess: { ...access, ports: [] }, claims: (p) => !inRange(p, range), done };
  } catch (e) {
    done();
    throw e;
  }
}

interface PortRuleSeen {
  readonly groupId: string;
  readonly protocol: string;
  readonly fromPort: number;
  readonly toPort: number;
}

const isRangeRule = (r: { protocol: string; fromPort: number; toPort: number }, range: BackendSecurityGroupConfig['nodePortRange']): boolean =>
  (r.protocol === 'tcp' || r.protocol === 'udp') && r.fromPort === range.from && r.toPort === range.to;
const foreignKey = (nodeGroupId: string, r: { protocol: string; fromPort: number; toPort: number }): string => `${nodeGroupId}|${r.protocol}/${r.fromPort}-${r.toPort}`;

/**
 * Revokes the group's per-port rules (tagged as lbc's shared rules, on any node group) that
 * no target group of the cluster claims, the object `except`'s left out (a delete, its load
 * balancer gone, before its target groups go; see `going`), and no ensure of this process
 * holds. Claims are the inventory's
 * tags, which lbc's own writes keep current. `seen`: the unclaimed rules the node groups
 * showed; one that is not lbc's (untagged) is remembered and never looked for again.
 */
export function releasePortRulesStep(
  groups: BackendSecurityGroups,
  why: string,
  opts: {
    readonly known?: string | undefined;
    readonly except?: string;
    readonly seen?: readonly PortRuleSeen[];
    /** The ports let go of; when another target group still claims each, there is nothing to look for. */
    readonly ports?: readonly ClaimedPorts[];
  } = {},
): Step {
  return {
    change: { op: 'delete', resource: 'BackendSecurityGroupRule', id: opts.known ?? groups.name, detail: `per-port rules from ${groups.name} that no target group claims: ${why}` },
    run: async (ctx) => {
      const range = groups.config.nodePortRange;
      const inventory = await ctx.inventory.all(ctx.signal);
      // A delete that finished took its target groups (and so its claims) with it.
      for (const uid of groups.going) if (![...inventory.values()].some((e) => e.tags[TAG_OWNER_UID] === uid)) groups.going.delete(uid);
      if (opts.except !== undefined) groups.going.add(opts.except);
      const claims = [...inventoryClaims(inventory, groups.going), ...groups.held()];
      if (opts.ports?.every((p) => claimed(claims, p.protocol, p.from, p.to))) return;
      const rules = (await describeSharedRules(ctx.api, groups.clusterName, RESOURCE_SHARED_BACKEND_RULE, ctx.signal)).filter((r) => !isRangeRule(r, range));
      for (const r of opts.seen ?? []) {
        if (!rules.some((x) => x.groupId === r.groupId && x.protocol === r.protocol && x.fromPort === r.fromPort && x.toPort === r.toPort)) groups.foreign.add(foreignKey(r.groupId, r));
      }
      const loose = rules.filter((r) => !claimed(claims, r.protocol, r.fromPort, r.toPort));
      if (loose.length === 0) return;
      await groups.revokingPorts(
        loose.map((r) => ({ protocol: r.protocol, port: r.fromPort })),
        async () => {
          for (const g of [...new Set(loose.map((r) => r.groupId))].sort()) {
            await revokeStep(
              g,
              loose.filter((r) => r.groupId === g).map((r) => r.id),
              why,
            ).run(ctx);
          }
        },
      );
    },
  };
}

function createStep(groups: BackendSecurityGroups, vpcId: string): Step {
  const name = groups.name;
  return {
    change: { op: 'create', resource: 'SecurityGroup', id: name, detail: `shared backend group of the cluster's load balancers, in ${vpcId}` },
    run: async (ctx) => {
      let id: string | undefined;
      try {
        id = await createSecurityGroup(ctx, {
          name,
          description: `[lbc] shared backend group of the load balancers of cluster ${groups.clusterName}`.slice(0, 255),
          vpcId,
          tags: groups.tags(),
        });
      } catch (e) {
        if (!hasCode(e, 'InvalidGroup.Duplicate')) throw e;
        // Our own earlier attempt (its answer lost, or another process), or someone else's group of that name.
        groups.unknown(vpcId);
        id = await groups.find(ctx.api, vpcId, ctx.signal);
        if (id === undefined) {
          throw new ProviderError(
            'conflict',
            `security group ${name} exists in ${vpcId} but is not tagged ${TAG_CLUSTER}=${groups.clusterName}, so lbc leaves it alone; give it as backendSecurityGroup.id to use it (aws-load-balancer-controller's own backend group is named so), or delete it`,
            { provider: ctx.provider, cause: e },
          );
        }
      }
      if (id === undefined) throw new ProviderError('transient', `CreateSecurityGroup returned no GroupId for ${name}`, { provider: ctx.provider });
      groups.remember(vpcId, id);
      ctx.backendSecurityGroupId = id;
    },
  };
}

function nodeRuleStep(groups: BackendSecurityGroups, nodeGroupId: string, protocols: readonly ('tcp' | 'udp')[], known: string | undefined): Step {
  const { from, to } = groups.config.nodePortRange;
  return {
    change: {
      op: 'create',
      resource: 'BackendSecurityGroupRule',
      id: nodeGroupId,
      detail: protocols.map((p) => `${p}/${from}-${to} from ${known ?? groups.name}`).join(', '),
    },
    run: async (ctx) => {
      const source = ctx.backendSecurityGroupId;
      if (source === undefined) throw new ProviderError('transient', 'the backend security group has no ID yet', { provider: ctx.provider });
      const perms: IpPermission[] = protocols.map((p) => ({
        IpProtocol: p,
        FromPort: from,
        ToPort: to,
        UserIdGroupPairs: [{ GroupId: source, Description: 'lbc: load balancers to node ports' }],
      }));
      await authorizeTagged(ctx, nodeGroupId, perms, groups.ruleTags());
    },
  };
}

/** One call per node group: a rule per port, from the backend group, tagged as the cluster's (no owner: every load balancer on the port shares it). */
function portRulesStep(groups: BackendSecurityGroups, nodeGroupId: string, ports: readonly BackendPort[], known: string | undefined): Step {
  return {
    change: {
      op: 'create',
      resource: 'BackendSecurityGroupRule',
      id: nodeGroupId,
      detail: ports.map((p) => `${p.protocol}/${p.port} from ${known ?? groups.name}`).join(', '),
    },
    run: async (ctx) => {
      const source = ctx.backendSecurityGroupId;
      if (source === undefined) throw new ProviderError('transient', 'the backend security group has no ID yet', { provider: ctx.provider });
      // A revocation of this process still under way would take the rule away again.
      await groups.settled();
      const perms: IpPermission[] = ports.map((p) => ({
        IpProtocol: p.protocol,
        FromPort: p.port,
        ToPort: p.port,
        UserIdGroupPairs: [{ GroupId: source, Description: 'lbc: load balancers to target ports' }],
      }));
      await authorizeTagged(ctx, nodeGroupId, perms, groups.ruleTags());
    },
  };
}

const DESCRIBE_LB_BATCH = 20;

/** Whether a load balancer of the cluster (the inventory's, read fresh from ELBv2) has the group attached. */
async function attachedAnywhere(ctx: ApplyContext, groupId: string): Promise<boolean> {
  const arns = [...(await ctx.inventory.all(ctx.signal))].filter(([, e]) => e.kind === 'lb').map(([arn]) => arn);
  const describe = async (batch: string[]): Promise<LoadBalancer[]> => {
    try {
      return (await ctx.api.elbv2('DescribeLoadBalancers', (c, o) => c.send(new DescribeLoadBalancersCommand({ LoadBalancerArns: batch }), o), { signal: ctx.signal })).LoadBalancers ?? [];
    } catch (e) {
      // One deleted since the scan fails the whole batch: ask one by one and skip the gone.
      if (!(e instanceof ProviderError && e.kind === 'notFound')) throw e;
      if (batch.length === 1) return [];
      const out: LoadBalancer[] = [];
      for (const arn of batch) out.push(...(await describe([arn])));
      return out;
    }
  };
  for (let i = 0; i < arns.length; i += DESCRIBE_LB_BATCH) {
    for (const lb of await describe(arns.slice(i, i + DESCRIBE_LB_BATCH))) if (lb.SecurityGroups?.includes(groupId)) return true;
  }
  return false;
}

/**
 * Release: nothing while another load balancer of the cluster has the group or an ensure
 * of this process is about to attach it; else its rules on the node groups revoked (they
 * name it, so EC2 would refuse the delete), then the group deleted, waiting while the
 * deleted load balancer's network interfaces still hold it. A run cut short anywhere is
 * finished by the next release, and an ensure that needs the group meanwhile adds back
 * what is missing.
 */
export function releaseStep(groups: BackendSecurityGroups, id: string, why: string): Step {
  const given = groups.config.id === id;
  return {
    change: {
      op: 'delete',
      resource: given ? 'BackendSecurityGroupRule' : 'SecurityGroup',
      id: given ? id : groups.name,
      detail: `${given ? 'the rules naming the given backend group' : id}: ${why}, unless another load balancer of the cluster has it`,
    },
    run: async (ctx) => {
      if (groups.busy || (await attachedAnywhere(ctx, id))) return;
      const rules = (await describeSharedRules(ctx.api, groups.clusterName, RESOURCE_SHARED_BACKEND_RULE, ctx.signal)).filter((r) => r.sourceGroupId === id);
      for (const g of [...new Set(rules.map((r) => r.groupId))].sort()) {
        await revokeStep(
          g,
          rules.filter((r) => r.groupId === g).map((r) => r.id),
          'the backend group is released',
        ).run(ctx);
      }
      if (given) return;
      await deleteSecurityGroup(ctx, id);
      groups.deleted(id);
      if (ctx.backendSecurityGroupId === id) ctx.backendSecurityGroupId = undefined;
    },
  };
}
