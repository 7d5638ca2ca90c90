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
    { provider: (e as GceError).provider ?? 'gce', cause: e, reason: 'firewallNeedsAdministrator', status: 403 },
  );
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
            reason: 'firewallNeedsAdministrator',
            status: 403,
          });
        }
        throw e;
      }
    },
    diff: diffFirewall,
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
