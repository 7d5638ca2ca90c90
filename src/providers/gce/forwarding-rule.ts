// Forwarding rules: the load balancer's front door and the resource status reports the
// IP of. Address, protocol, ports, tier, scheme, subnet and backend service cannot
// change in place, so a change to any of them replaces the rule (the Change says which,
// and the reconciler turns that into an Event). What can change in place does: an
// internal rule's global access (patch) and an Application Load Balancer's target proxy
// (setTarget, global or regional).
import type { protos } from '@google-cloud/compute';
import { normalizeIp } from '../../model/ip.js';
import { isNotFound } from './errors.js';
import { namesFilter, type Diff, type Kind } from './kind.js';
import { nameOf, sameLink } from './links.js';

export type ForwardingRule = protos.google.cloud.compute.v1.IForwardingRule;

const portsOf = (fr: ForwardingRule): string =>
  fr.allPorts ? 'all' : (fr.ports ?? []).length > 0 ? [...(fr.ports ?? [])].sort((a, b) => Number(a) - Number(b)).join(',') : (fr.portRange ?? '');

/**
 * The address a forwarding rule holds. GCE answers an IPv6 rule's address as a /96 range in
 * its long form (2600:1900:4000:45f3:8000:0:0:0/96), as ingress-gce's l4ipv6.go notes
 * when it takes the first address of it.
 */
export function ruleAddress(ipAddress: string | null | undefined): string | undefined {
  if (!ipAddress) return undefined;
  const ip = ipAddress.split('/')[0] ?? '';
  return normalizeIp(ip) ?? ip;
}

const sameAddress = (a: string, b: string | null | undefined): boolean => ruleAddress(a) === ruleAddress(b);

function immutableChange(want: ForwardingRule, have: ForwardingRule): string | undefined {
  if (want.IPAddress && !sameAddress(want.IPAddress, have.IPAddress)) return `IP address ${have.IPAddress ?? ''} → ${want.IPAddress}`;
  if (String(want.ipVersion ?? 'IPV4') !== String(have.ipVersion ?? 'IPV4')) return `IP version ${String(have.ipVersion ?? 'IPV4')} → ${String(want.ipVersion)}`;
  if (String(want.IPProtocol ?? 'TCP') !== String(have.IPProtocol ?? 'TCP')) return `protocol ${String(have.IPProtocol)} → ${String(want.IPProtocol)}`;
  if (String(want.loadBalancingScheme ?? 'EXTERNAL') !== String(have.loadBalancingScheme ?? 'EXTERNAL')) {
    return `load balancing scheme ${String(have.loadBalancingScheme)} → ${String(want.loadBalancingScheme)}`;
  }
  if (portsOf(want) !== portsOf(have)) return `ports ${portsOf(have)} → ${portsOf(want)}`;
  if (want.networkTier && String(want.networkTier) !== String(have.networkTier ?? 'PREMIUM')) return `network tier ${String(have.networkTier)} → ${String(want.networkTier)}`;
  if (want.subnetwork && !sameLink(want.subnetwork, have.subnetwork)) return `subnetwork ${nameOf(have.subnetwork)} → ${nameOf(want.subnetwork)}`;
  if (want.backendService && !sameLink(want.backendService, have.backendService)) return `backend service ${nameOf(have.backendService)} → ${nameOf(want.backendService)}`;
  return undefined;
}

export const regionalForwardingRuleKind: Kind<ForwardingRule> = {
  resource: 'ForwardingRule',
  rank: 90,
  get: ({ compute, signal }, key) =>
    compute.readOptional('forwardingRules.get', key.name, signal, (o) =>
      compute.forwardingRules.get({ project: compute.project, region: compute.region, forwardingRule: key.name }, o),
    ),
  listNamed: ({ compute, signal }, names) =>
    compute.list('forwardingRules.list', names.join(','), signal, (o) =>
      compute.forwardingRules.list({ project: compute.project, region: compute.region, filter: namesFilter(names) }, o),
    ),
  insert: ({ compute, signal }, key, body) =>
    compute.write('forwardingRules.insert', key.name, signal, (o) =>
      compute.forwardingRules.insert({ project: compute.project, region: compute.region, forwardingRuleResource: { ...body, name: key.name } }, o),
    ),
  remove: async ({ compute, signal }, key) => {
    try {
      await compute.write('forwardingRules.delete', key.name, signal, (o) =>
        compute.forwardingRules.delete({ project: compute.project, region: compute.region, forwardingRule: key.name }, o),
      );
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  },
  diff: (want, have): Diff => {
    const replace = immutableChange(want, have);
    if (replace !== undefined) return { fields: [], replace };
    return {
      fields: [
        ...(Boolean(want.allowGlobalAccess) !== Boolean(have.allowGlobalAccess) ? ['allowGlobalAccess'] : []),
        // A regional Application Load Balancer's rule points at its target proxy (a Gateway port that turns HTTPS).
        ...(want.target && !sameLink(want.target, have.target) ? ['target'] : []),
      ],
    };
  },
  update: async ({ compute, signal }, key, want, _have, fields) => {
    if (fields.includes('allowGlobalAccess')) {
      await compute.write('forwardingRules.patch', key.name, signal, (o) =>
        compute.forwardingRules.patch(
          {
            project: compute.project,
            region: compute.region,
            forwardingRule: key.name,
            forwardingRuleResource: { allowGlobalAccess: Boolean(want.allowGlobalAccess) },
          },
          o,
        ),
      );
    }
    if (fields.includes('target')) {
      await compute.write('forwardingRules.setTarget', key.name, signal, (o) =>
        compute.forwardingRules.setTarget(
          { project: compute.project, region: compute.region, forwardingRule: key.name, targetReferenceResource: { target: want.target ?? '' } },
          o,
        ),
      );
    }
  },
};

export const globalForwardingRuleKind: Kind<ForwardingRule> = {
  resource: 'GlobalForwardingRule',
  rank: 90,
  get: ({ compute, signal }, key) =>
    compute.readOptional('globalForwardingRules.get', key.name, signal, (o) => compute.globalForwardingRules.get({ project: compute.project, forwardingRule: key.name }, o)),
  listNamed: ({ compute, signal }, names) =>
    compute.list('globalForwardingRules.list', names.join(','), signal, (o) =>
      compute.globalForwardingRules.list({ project: compute.project, filter: namesFilter(names) }, o),
    ),
  insert: ({ compute, signal }, key, body) =>
    compute.write('globalForwardingRules.insert', key.name, signal, (o) =>
      compute.globalForwardingRules.insert({ project: compute.project, forwardingRuleResource: { ...body, name: key.name } }, o),
    ),
  remove: async ({ compute, signal }, key) => {
    try {
      await compute.write('globalForwardingRules.delete', key.name, signal, (o) =>
        compute.globalForwardingRules.delete({ project: compute.project, forwardingRule: key.name }, o),
      );
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  },
  diff: (want, have): Diff => {
    const replace = immutableChange(want, have);
    if (replace !== undefined) return { fields: [], replace };
    return { fields: want.target && !sameLink(want.target, have.target) ? ['target'] : [] };
  },
  update: ({ compute, signal }, key, want) =>
    compute.write('globalForwardingRules.setTarget', key.name, signal, (o) =>
      compute.globalForwardingRules.setTarget({ project: compute.project, forwardingRule: key.name, targetReferenceResource: { target: want.target ?? '' } }, o),
    ),
};
