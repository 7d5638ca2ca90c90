// Firewall rules: the Service ports from loadBalancerSourceRanges to the nodes, and
// Google's health-check ranges to the health-check port. Firewalls live in the
// network's project; on a shared VPC lbc may not be allowed to write them, in which
// case (as the GCE cloud provider does) the error names the exact gcloud command an
// administrator must run, and a rule the administrator created under that name is
// accepted as it is.
import type { protos } from '@google-cloud/compute';
import { GceError, isForbidden, isNotFound } from './errors.js';
import { namesFilter, type Diff, type Kind } from './kind.js';
import { nameOf, sameLink, sameStringSet } from './links.js';

export type Firewall = protos.google.cloud.compute.v1.IFirewall;

/** Where Google's L4 health checks come from (the GCE cloud provider's l4LbSrcRngsFlag). */
export const L4_HEALTH_CHECK_RANGES = ['35.191.0.0/16', '130.211.0.0/22', '209.85.152.0/22', '209.85.204.0/22'] as const;
/**
 * Where Google's L4 health checks come from over IPv6: the internal LB's probers, and the
 * external (NetLB) ones (ingress-gce pkg/healthchecksl4 L4ILBIPv6HCRange, L4NetLBIPv6HCRange).
 */
export const L4_IPV6_HEALTH_CHECK_RANGES = { Internal: ['2600:2d00:1:b029::/64'], External: ['2600:1901:8001::/48'] } as const;
/** The reason of a firewall rule error only an administrator (or the rule's owner) can resolve. */
export const FIREWALL_NEEDS_ADMINISTRATOR = 'firewallNeedsAdministrator';

/** Where Google's L7 (HTTP(S) LB) health checks and proxies come from. */
export const L7_HEALTH_CHECK_RANGES = ['35.191.0.0/16', '130.211.0.0/22'] as const;

function allowedSet(fw: Firewall): string[] {
  return (fw.allowed ?? []).map((a) => `${String(a.IPProtocol ?? '').toLowerCase()}:${[...(a.ports ?? [])].sort().join(',')}`).sort();
}

function diffFirewall(want: Firewall, have: Firewall): Diff {
  if (want.network && !sameLink(want.network, have.network)) return { fields: [], replace: `network ${nameOf(have.network)} → ${nameOf(want.network)}` };
  const fields: string[] = [];
  if ((want.description ?? '') !== (have.description ?? '')) fields.push('description');
  if (!sameStringSet(want.sourceRanges, have.sourceRanges)) fields.push('sourceRanges');
  if (!sameStringSet(want.destinationRanges, have.destinationRanges)) fields.push('destinationRanges');
  if (!sameStringSet(want.targetTags, have.targetTags)) fields.push('targetTags');
  if (allowedSet(want).join(' ') !== allowedSet(have).join(' ')) fields.push('allowed');
  return { fields };
}

const shellQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/** The command upstream's FirewallToGCloudCreateCmd / UpdateCmd print for an administrator. */
export function gcloudCommand(verb: 'create' | 'update', name: string, project: string, fw: Firewall): string {
  const allow = (fw.allowed ?? []).flatMap((a) => {
    const proto = String(a.IPProtocol ?? '').toLowerCase();
    return (a.ports ?? []).length > 0 ? (a.ports ?? []).map((p) => `${proto}:${p}`) : [proto];
  });
  const parts = [`gcloud compute firewall-rules ${verb} ${name}`, `--project ${project}`];
  if (verb === 'create') parts.push(`--network ${nameOf(fw.network)}`);
  parts.push(`--description ${shellQuote(fw.description ?? '')}`, `--allow ${allow.join(',')}`);
  if ((fw.sourceRanges ?? []).length > 0) parts.push(`--source-ranges ${(fw.sourceRanges ?? []).join(',')}`);
  if ((fw.destinationRanges ?? []).length > 0) parts.push(`--destination-ranges ${(fw.destinationRanges ?? []).join(',')}`);
  if ((fw.targetTags ?? []).length > 0) parts.push(`--target-tags ${(fw.targetTags ?? []).join(',')}`);
  return parts.join(' ');
}

function needsAdministrator(e: unknown, verb: 'create' | 'update', name: string, project: string, fw: Firewall): unknown {
  if (!isForbidden(e)) return e;
  return new GceError(
    'forbidden',
    `firewall rule ${name} cannot be ${verb}d with lbc's credentials (shared VPC?); an administrator must run: ${gcloudCommand(verb, name, project, fw)}`,
    { provider: (e as GceError).provider ?? 'gce', cause: e, reason: FIREWALL_NEEDS_ADMINISTRATOR, status: 403 },
  );
}

/** A port spec of a firewall rule ("80", "30000-32767") as its first and last port. */
function portSpan(spec: string): [number, number] | undefined {
  const m = /^(\d+)(?:-(\d+))?$/.exec(spec);
  if (!m) return undefined;
  return [Number(m[1]), Number(m[2] ?? m[1])];
}

/**
 * Of `ports`, those the rule does not let in over `protocol`. An allowed entry without
 * ports lets every port in (the Firewall resource's allowed[].ports: "If not specified,
 * this rule applies to connections through any port").
 */
export function portsNotAllowed(fw: Firewall, protocol: string, ports: readonly number[]): number[] {
  const entries = (fw.allowed ?? []).filter((a) => String(a.IPProtocol ?? '').toLowerCase() === protocol);
  if (entries.some((a) => (a.ports ?? []).length === 0)) return [];
  const spans = entries.flatMap((a) => (a.ports ?? []).map(portSpan)).filter((s): s is [number, number] => s !== undefined);
  return [...new Set(ports)].filter((p) => !spans.some(([from, to]) => p >= from && p <= to)).sort((a, b) => a - b);
}

const portsOf = (specs: readonly string[]): number[] =>
  specs.flatMap((s) => {
    const span = portSpan(s);
    return span ? Array.from({ length: span[1] - span[0] + 1 }, (_, i) => span[0] + i) : [];
  });

/**
 * What the rule lacks of `want` (ports, source ranges, target tags), for a rule lbc uses
 * but did not make; empty when it lets in everything `want` would.
 */
export function firewallShortfall(want: Firewall, have: Firewall): string[] {
  const out: string[] = [];
  for (const a of want.allowed ?? []) {
    const protocol = String(a.IPProtocol ?? '').toLowerCase();
    const missing = portsNotAllowed(have, protocol, portsOf(a.ports ?? []));
    if (missing.length > 0) out.push(`${protocol}:${portRanges(missing).join(',')}`);
  }
  // No source ranges nor tags: from anywhere. No target tags: to every instance.
  const openSources = (have.sourceRanges ?? []).length === 0 && (have.sourceTags ?? []).length === 0;
  const sources = openSources ? [] : (want.sourceRanges ?? []).filter((r) => !(have.sourceRanges ?? []).includes(r));
  if (sources.length > 0) out.push(`from ${sources.join(',')}`);
  const tags = (have.targetTags ?? []).length === 0 ? [] : (want.targetTags ?? []).filter((t) => !(have.targetTags ?? []).includes(t));
  if (tags.length > 0) out.push(`to tags ${tags.join(',')}`);
  return out;
}

/** The fields of a Firewall a client writes; the rest are GCE's own. */
const WRITABLE = [
  'description',
  'network',
  'priority',
  'direction',
  'sourceRanges',
  'destinationRanges',
  'sourceTags',
  'targetTags',
  'sourceServiceAccounts',
  'targetServiceAccounts',
  'allowed',
  'denied',
  'logConfig',
  'disabled',
] as const satisfies readonly (keyof Firewall)[];

/**
 * Someone else's rule with what `want` adds and nothing taken away: the ports it does not
 * let in yet, the sources and tags it lacks where it names some (a rule without target
 * tags already reaches every instance; adding one would narrow it).
 */
function firewallAsGuest(want: Firewall, have: Firewall): Firewall {
  const out: Firewall = Object.fromEntries(WRITABLE.filter((k) => have[k] != null).map((k) => [k, have[k]]));
  const allowed = (have.allowed ?? []).map((a) => ({ IPProtocol: a.IPProtocol, ports: [...(a.ports ?? [])] }));
  for (const a of want.allowed ?? []) {
    const protocol = String(a.IPProtocol ?? '').toLowerCase();
    const missing = portsNotAllowed(have, protocol, portsOf(a.ports ?? []));
    if (missing.length === 0) continue;
    const entry = allowed.find((x) => String(x.IPProtocol ?? '').toLowerCase() === protocol);
    if (entry) entry.ports.push(...portRanges(missing));
    else allowed.push({ IPProtocol: protocol, ports: portRanges(missing) });
  }
  out.allowed = allowed;
  const union = (a: readonly string[] | null | undefined, b: readonly string[] | null | undefined): string[] => [...new Set([...(a ?? []), ...(b ?? [])])];
  if ((have.sourceRanges ?? []).length > 0 || (have.sourceTags ?? []).length > 0) out.sourceRanges = union(have.sourceRanges, want.sourceRanges);
  if ((have.targetTags ?? []).length > 0) out.targetTags = union(have.targetTags, want.targetTags);
  return out;
}

export function firewallKind(project: string): Kind<Firewall> {
  return {
    resource: 'Firewall',
    rank: 30,
    get: ({ compute, signal }, key) => compute.readOptional('firewalls.get', key.name, signal, (o) => compute.firewalls.get({ project, firewall: key.name }, o)),
    listNamed: ({ compute, signal }, names) =>
      compute.list('firewalls.list', names.join(','), signal, (o) => compute.firewalls.list({ project, filter: namesFilter(names) }, o)),
    insert: async ({ compute, signal }, key, body) => {
      try {
        await compute.write('firewalls.insert', key.name, signal, (o) => compute.firewalls.insert({ project, firewallResource: { ...body, name: key.name } }, o));
      } catch (e) {
        throw needsAdministrator(e, 'create', key.name, project, body);
      }
    },
    remove: async ({ compute, signal }, key) => {
      try {
        await compute.write('firewalls.delete', key.name, signal, (o) => compute.firewalls.delete({ project, firewall: key.name }, o));
      } catch (e) {
        if (isNotFound(e)) return;
        if (isForbidden(e)) {
          throw new GceError('forbidden', `firewall rule ${key.name} cannot be deleted with lbc's credentials; an administrator must run: gcloud compute firewall-rules delete ${key.name} --project ${project}`, {
            provider: (e as GceError).provider ?? 'gce',
            cause: e,
            reason: FIREWALL_NEEDS_ADMINISTRATOR,
            status: 403,
          });
        }
        throw e;
      }
    },
    diff: diffFirewall,
    asGuest: firewallAsGuest,
    // PUT, not PATCH: a range or tag that is no longer wanted must go.
    update: async ({ compute, signal }, key, want) => {
      try {
        await compute.write('firewalls.update', key.name, signal, (o) => compute.firewalls.update({ project, firewall: key.name, firewallResource: { ...want, name: key.name } }, o));
      } catch (e) {
        throw needsAdministrator(e, 'update', key.name, project, want);
      }
    },
  };
}

/** Consecutive ports collapsed into ranges, as upstream's getPortRanges. */
export function portRanges(ports: readonly number[]): string[] {
  const sorted = [...new Set(ports)].sort((a, b) => a - b);
  const out: string[] = [];
  let start: number | undefined;
  let prev: number | undefined;
  for (const p of sorted) {
    if (start === undefined || prev === undefined) {
      start = prev = p;
      continue;
    }
    if (p === prev + 1) {
      prev = p;
      continue;
    }
    out.push(start === prev ? String(start) : `${start}-${prev}`);
    start = prev = p;
  }
  if (start !== undefined && prev !== undefined) out.push(start === prev ? String(start) : `${start}-${prev}`);
  return out;
}
