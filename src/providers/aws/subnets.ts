// Which subnets a load balancer goes in: the ones the object names (IDs or Name tags),
// else discovery as aws-load-balancer-controller does it: subnets tagged
// kubernetes.io/role/elb (internet-facing) or kubernetes.io/role/internal-elb
// (internal), not claimed by another cluster's kubernetes.io/cluster/<name> tag, with at
// least 8 free addresses; one per availability zone, preferring the ones tagged for
// this cluster, then the lowest subnet ID. When nothing fits, the error lists every
// candidate and why it was turned down, since that message becomes the user's Event.
// When no subnet of the VPC carries the role tag, candidates are the subnets whose
// reachability matches the scheme, as aws-load-balancer-controller >= 2.12.1 does
// (docs/deploy/subnet_discovery.md, "Subnet reachability"): public when its route table
// (its own, else the VPC's main one) routes to an internet gateway.
import { DescribeRouteTablesCommand, DescribeSubnetsCommand, type Filter, type RouteTable, type Subnet } from '@aws-sdk/client-ec2';
import { ProviderError } from '../types.js';
import type { AwsApi } from './api.js';
import type { Scheme, SubnetTagSelector } from './annotations.js';
import { fromAwsTags } from './tags.js';

export const ROLE_ELB = 'kubernetes.io/role/elb';
export const ROLE_INTERNAL_ELB = 'kubernetes.io/role/internal-elb';
export const CLUSTER_TAG_PREFIX = 'kubernetes.io/cluster/';
const MIN_FREE_ADDRESSES = 8;

export interface ResolvedSubnet {
  readonly id: string;
  readonly az: string;
  readonly vpcId: string;
}

export interface SubnetQuery {
  readonly clusterName: string;
  readonly scheme: Scheme;
  readonly vpcId?: string | undefined;
  /** IDs or Name tags the user gave; absent: the selector, else discover. */
  readonly requested?: readonly string[] | undefined;
  /** Tag key → values a subnet must have one of, for every key; `field` names where the user set it. */
  readonly selector?: { readonly tags: SubnetTagSelector; readonly field: string } | undefined;
  /** ALBs need two zones, NLBs one. */
  readonly minZones: number;
  /** The annotation to name in errors. */
  readonly annotation: string;
  readonly provider: string;
  readonly signal?: AbortSignal | undefined;
  /** Told when discovery fell back from role tags to route tables, so the log says so. */
  readonly onFallback?: ((message: string) => void) | undefined;
}

async function describeSubnets(api: AwsApi, input: { SubnetIds?: string[]; Filters?: Filter[] }, signal?: AbortSignal): Promise<Subnet[]> {
  const out: Subnet[] = [];
  let NextToken: string | undefined;
  do {
    const page = await api.ec2('DescribeSubnets', (c, o) => c.send(new DescribeSubnetsCommand({ ...input, ...(NextToken ? { NextToken } : {}) }), o), { signal });
    out.push(...(page.Subnets ?? []));
    NextToken = page.NextToken;
  } while (NextToken);
  return out;
}

const toResolved = (s: Subnet): ResolvedSubnet => ({ id: s.SubnetId ?? '', az: s.AvailabilityZone ?? '', vpcId: s.VpcId ?? '' });

const byId = (a: ResolvedSubnet, b: ResolvedSubnet): number => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

export async function resolveSubnets(api: AwsApi, q: SubnetQuery): Promise<ResolvedSubnet[]> {
  if (q.requested !== undefined && q.requested.length > 0) return resolveNamed(api, q, q.requested);
  return q.selector ? resolveSelected(api, q, q.selector) : discover(api, q);
}

async function resolveNamed(api: AwsApi, q: SubnetQuery, requested: readonly string[]): Promise<ResolvedSubnet[]> {
  const invalid = (msg: string): ProviderError => new ProviderError('invalid', `${q.annotation}: ${msg}`, { provider: q.provider });
  const ids = requested.filter((s) => /^subnet-[0-9a-f]+$/.test(s));
  const names = requested.filter((s) => !ids.includes(s));
  const byRequest = new Map<string, ResolvedSubnet>();
  if (ids.length > 0) {
    const subnets = await describeSubnets(api, { SubnetIds: ids }, q.signal).catch((e: unknown) => {
      if (e instanceof ProviderError && e.kind === 'notFound') throw invalid(`${e.message}`);
      throw e;
    });
    for (const s of subnets) byRequest.set(s.SubnetId ?? '', toResolved(s));
  }
  if (names.length > 0) {
    const filters: Filter[] = [{ Name: 'tag:Name', Values: names }];
    if (q.vpcId) filters.push({ Name: 'vpc-id', Values: [q.vpcId] });
    const subnets = await describeSubnets(api, { Filters: filters }, q.signal);
    for (const name of names) {
      const hits = subnets.filter((s) => fromAwsTags(s.Tags)['Name'] === name);
      if (hits.length === 0) throw invalid(`no subnet has the Name tag ${JSON.stringify(name)}${q.vpcId ? ` in ${q.vpcId}` : ''}`);
      if (hits.length > 1) throw invalid(`the Name tag ${JSON.stringify(name)} matches ${hits.map((s) => s.SubnetId).join(', ')}; use subnet IDs`);
      const hit = hits[0];
      if (hit) byRequest.set(name, toResolved(hit));
    }
  }
  // In the order given: EIP allocations and private addresses pair with subnets by position.
  const found: ResolvedSubnet[] = [];
  for (const r of requested) {
    const s = byRequest.get(r);
    if (!s) throw invalid(`subnet ${r} does not exist`);
    if (!found.some((f) => f.id === s.id)) found.push(s);
  }
  const vpcs = [...new Set(found.map((s) => s.vpcId))];
  if (vpcs.length > 1) throw invalid(`the subnets are in different VPCs (${vpcs.join(', ')})`);
  if (q.vpcId && vpcs[0] !== undefined && vpcs[0] !== q.vpcId) throw invalid(`the subnets are in ${vpcs[0]}, not the cluster's ${q.vpcId}`);
  const perZone = new Map<string, ResolvedSubnet>();
  for (const s of found) {
    const other = perZone.get(s.az);
    if (other && other.id !== s.id) throw invalid(`${other.id} and ${s.id} are both in ${s.az}; give one subnet per availability zone`);
    perZone.set(s.az, s);
  }
  const chosen = [...perZone.values()];
  if (chosen.length < q.minZones) throw invalid(`needs subnets in at least ${q.minZones} availability zones, got ${chosen.length}`);
  return chosen;
}

/** Discovery's rules, with the role tag when candidates came by it (not by reachability); else a selector's. */
type Rules = { readonly discovery: true; readonly roleTag?: string } | { readonly discovery: false; readonly roleTag?: undefined };

type Rejection = { readonly kind: 'role' | 'clusterValue' | 'otherCluster' | 'addresses'; readonly why: string };

/**
 * Why a candidate is turned down, or undefined when it qualifies. Discovery also checks the
 * role tag's value and this cluster's tag's value; a selector chose the tags itself, and
 * ALBC checks only the other clusters' tags and the free addresses then
 * (categorizeSubnetsByEligibility).
 */
function rejection(tags: Record<string, string>, rules: Rules, clusterName: string, free: number | undefined): Rejection | undefined {
  const { roleTag } = rules;
  if (roleTag !== undefined) {
    const role = tags[roleTag];
    if (role !== '' && role !== '1') return { kind: 'role', why: `${roleTag} is ${JSON.stringify(role)} (must be "1" or empty)` };
  }
  const clusterTags = Object.keys(tags).filter((k) => k.startsWith(CLUSTER_TAG_PREFIX));
  const ours = `${CLUSTER_TAG_PREFIX}${clusterName}`;
  if (clusterTags.length > 0 && !clusterTags.includes(ours)) {
    return { kind: 'otherCluster', why: `tagged for another cluster (${clusterTags.map((k) => k.slice(CLUSTER_TAG_PREFIX.length)).join(', ')}), not ${clusterName}` };
  }
  const mine = tags[ours];
  if (rules.discovery && mine !== undefined && mine !== 'owned' && mine !== 'shared') return { kind: 'clusterValue', why: `${ours} is ${JSON.stringify(mine)} (must be owned or shared)` };
  if (free !== undefined && free < MIN_FREE_ADDRESSES) return { kind: 'addresses', why: `only ${free} free addresses (needs ${MIN_FREE_ADDRESSES})` };
  return undefined;
}

interface Choice {
  /** One per zone, by subnet ID. */
  readonly chosen: ResolvedSubnet[];
  /** Every candidate not chosen, as `id (zone): why`. */
  readonly reasons: string[];
  readonly rejected: Rejection[];
  /** The VPCs of the qualifying candidates. */
  readonly vpcs: string[];
}

/** One subnet per zone among the candidates that qualify: tagged for this cluster first, then the lowest ID (ALBC chooseSubnetsPerAZ). */
function choosePerZone(subnets: readonly Subnet[], rules: Rules, q: SubnetQuery): Choice {
  const ours = `${CLUSTER_TAG_PREFIX}${q.clusterName}`;
  const reasons: string[] = [];
  const rejected: Rejection[] = [];
  const ok: { s: ResolvedSubnet; tagged: boolean }[] = [];
  for (const sub of subnets) {
    const tags = fromAwsTags(sub.Tags);
    const no = rejection(tags, rules, q.clusterName, sub.AvailableIpAddressCount);
    const r = toResolved(sub);
    if (no) {
      reasons.push(`${r.id} (${r.az}): ${no.why}`);
      rejected.push(no);
    } else ok.push({ s: r, tagged: tags[ours] !== undefined });
  }
  const perZone = new Map<string, { s: ResolvedSubnet; tagged: boolean }>();
  for (const c of ok.sort((a, b) => Number(b.tagged) - Number(a.tagged) || byId(a.s, b.s))) {
    const chosen = perZone.get(c.s.az);
    if (!chosen) perZone.set(c.s.az, c);
    else reasons.push(`${c.s.id} (${c.s.az}): ${chosen.s.id} preferred in the same zone`);
  }
  return { chosen: [...perZone.values()].map((c) => c.s).sort(byId), reasons, rejected, vpcs: [...new Set(ok.map((c) => c.s.vpcId))].sort() };
}

const qualifying = (chosen: readonly ResolvedSubnet[]): string =>
  chosen.length === 0 ? 'none qualifies' : `only ${chosen.map((s) => `${s.id} (${s.az})`).join(', ')} qualif${chosen.length === 1 ? 'ies' : 'y'}`;

/** `key` in (v1, v2) and ...: what the selector asks, for errors. */
const describeSelector = (tags: SubnetTagSelector): string =>
  Object.keys(tags)
    .sort()
    .map((k) => `${k} in (${(tags[k] ?? []).join(', ')})`)
    .join(' and ');

/**
 * The subnets a tag selector picks (ALBC ResolveViaSelector with tags). The errors start as
 * ALBC's do ("unable to resolve at least one subnet. Evaluated %d subnets: %d are tagged for
 * other clusters, and %d have insufficient available IP addresses"; "subnets count less
 * than minimal required count: %v < %v") and go on with each candidate and why.
 */
async function resolveSelected(api: AwsApi, q: SubnetQuery, selector: NonNullable<SubnetQuery['selector']>): Promise<ResolvedSubnet[]> {
  const invalid = (msg: string): ProviderError => new ProviderError('invalid', `${selector.field}: ${msg}`, { provider: q.provider });
  const filters: Filter[] = q.vpcId ? [{ Name: 'vpc-id', Values: [q.vpcId] }] : [];
  for (const key of Object.keys(selector.tags).sort()) filters.push({ Name: `tag:${key}`, Values: [...(selector.tags[key] ?? [])] });
  const subnets = await describeSubnets(api, { Filters: filters }, q.signal);
  const where = q.vpcId ? ` in ${q.vpcId}` : '';
  const asked = describeSelector(selector.tags);
  if (subnets.length === 0) throw invalid(`unable to resolve at least one subnet: no subnet${where} has ${asked}`);
  const c = choosePerZone(subnets, { discovery: false }, q);
  if (!q.vpcId && c.vpcs.length > 1) throw invalid(`the subnets with ${asked} are in several VPCs (${c.vpcs.join(', ')}); set vpcId in the provider options`);
  const candidates = `subnets${where} with ${asked}: ${c.reasons.join('; ')}`;
  if (c.chosen.length === 0) {
    const count = (kind: Rejection['kind']): number => c.rejected.filter((r) => r.kind === kind).length;
    throw invalid(
      `unable to resolve at least one subnet. Evaluated ${subnets.length} subnets: ${count('otherCluster')} are tagged for other clusters, and ${count('addresses')} have insufficient available IP addresses (${candidates})`,
    );
  }
  if (c.chosen.length < q.minZones) {
    throw invalid(`subnets count less than minimal required count: ${c.chosen.length} < ${q.minZones} (one per availability zone; ${qualifying(c.chosen)}${c.reasons.length > 0 ? `; ${candidates}` : ''})`);
  }
  return c.chosen;
}

async function describeRouteTables(api: AwsApi, vpcId: string, signal?: AbortSignal): Promise<RouteTable[]> {
  const out: RouteTable[] = [];
  let NextToken: string | undefined;
  do {
    const page = await api.ec2(
      'DescribeRouteTables',
      (c, o) => c.send(new DescribeRouteTablesCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }], ...(NextToken ? { NextToken } : {}) }), o),
      { signal },
    );
    out.push(...(page.RouteTables ?? []));
    NextToken = page.NextToken;
  } while (NextToken);
  return out;
}

/** The subnets of the VPC whose reachability fits the scheme (ALBC's SubnetDiscoveryByReachability). */
async function reachableSubnets(api: AwsApi, q: SubnetQuery, vpcId: string): Promise<Subnet[]> {
  const [subnets, tables] = await Promise.all([describeSubnets(api, { Filters: [{ Name: 'vpc-id', Values: [vpcId] }] }, q.signal), describeRouteTables(api, vpcId, q.signal)]);
  const toIgw = (t: RouteTable | undefined): boolean => (t?.Routes ?? []).some((r) => r.GatewayId?.startsWith('igw-') === true);
  const main = tables.find((t) => (t.Associations ?? []).some((a) => a.Main === true));
  const own = new Map<string, RouteTable>();
  for (const t of tables) for (const a of t.Associations ?? []) if (a.SubnetId) own.set(a.SubnetId, t);
  const wantPublic = q.scheme === 'internet-facing';
  return subnets.filter((s) => toIgw(own.get(s.SubnetId ?? '') ?? main) === wantPublic);
}

async function discover(api: AwsApi, q: SubnetQuery): Promise<ResolvedSubnet[]> {
  const roleTag = q.scheme === 'internet-facing' ? ROLE_ELB : ROLE_INTERNAL_ELB;
  const filters: Filter[] = [{ Name: 'tag-key', Values: [roleTag] }];
  if (q.vpcId) filters.push({ Name: 'vpc-id', Values: [q.vpcId] });
  let subnets = await describeSubnets(api, { Filters: filters }, q.signal);
  const where = q.vpcId ? ` in ${q.vpcId}` : '';
  const hint = `tag subnets ${roleTag}=1 and ${CLUSTER_TAG_PREFIX}${q.clusterName}=shared, or name them in ${q.annotation}`;
  let byReachability = false;
  if (subnets.length === 0 && q.vpcId) {
    subnets = await reachableSubnets(api, q, q.vpcId);
    byReachability = true;
    q.onFallback?.(
      `no subnet in ${q.vpcId} is tagged ${roleTag}: ${q.scheme} load balancers go in its ${q.scheme === 'internet-facing' ? 'public' : 'private'} subnets ` +
        `(route to an internet gateway${q.scheme === 'internet-facing' ? '' : ' absent'}), as aws-load-balancer-controller >= 2.12.1 does; ${hint} to choose them`,
    );
  }
  if (subnets.length === 0) {
    const reach = q.scheme === 'internet-facing' ? 'public (with a route to an internet gateway)' : 'private (without a route to an internet gateway)';
    const what = byReachability ? `is tagged ${roleTag}, nor is any ${reach},` : `is tagged ${roleTag}`;
    throw new ProviderError('invalid', `no subnet${where} ${what} for an ${q.scheme} load balancer; ${hint}`, { provider: q.provider });
  }
  const c = choosePerZone(subnets, byReachability ? { discovery: true } : { discovery: true, roleTag }, q);
  if (!q.vpcId && c.vpcs.length > 1) {
    throw new ProviderError('invalid', `subnets tagged ${roleTag} are in several VPCs (${c.vpcs.join(', ')}); set vpcId in the provider options or name the subnets in ${q.annotation}`, {
      provider: q.provider,
    });
  }
  if (c.chosen.length < q.minZones) {
    throw new ProviderError(
      'invalid',
      `no usable subnets${where} for an ${q.scheme} load balancer (needs ${q.minZones} availability zone${q.minZones > 1 ? 's' : ''}, ${qualifying(c.chosen)}); candidates: ${c.reasons.join('; ')}; ${hint}`,
      { provider: q.provider },
    );
  }
  return c.chosen;
}
