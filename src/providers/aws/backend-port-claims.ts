// Which of the shared backend group's per-port rules are still needed. With the shared
// backend security group, a port outside the node port range (a pod port of ip targets,
// a health check port given by annotation) is opened once on each node group, from the
// backend group, for every load balancer of the cluster that sends to it: as
// aws-load-balancer-controller does, whose model names the backend group and the target
// port in each TargetGroupBinding's networking (v3.5 pkg/ingress/model_build_target_group.go
// buildTargetGroupBindingNetworking: `From: backendSGIDToken, Port: targetPort`, plus the
// health check port) and whose networking manager aggregates those per endpoint group over
// every binding of the cluster, revoking only once it has computed them all
// (pkg/targetgroupbinding/networking_manager.go reconcileWithIngressPermissionsPerSG,
// WithAuthorizeOnly(!computedForAllTGBs)).
//
// ALBC holds every binding in memory; an lbc ensure sees one load balancer. So each target
// group says what it needs in a tag, `lbc.dev/backend-ports` ("tcp/8080 udp/5353"), written
// with the group (before its rule is added) and kept in the inventory, which holds every
// cluster target group's tags. A rule is revoked only when no target group of the cluster
// names its port and no ensure of this process holds it: that is the reference count,
// and a crash between any two writes leaves at worst a claim without a rule (the next
// ensure adds it) or a rule without a claim (the next ensure or delete that looks revokes it).
import type { BackendPort } from './desired.js';
import type { ElbResourceKind } from './inventory.js';
import { TAG_OWNER_UID } from '../../model/spec.js';
import type { Tags } from './tags.js';

export const TAG_BACKEND_PORTS = 'lbc.dev/backend-ports';
/** ELBv2's limit on a tag value. */
const MAX_TAG_VALUE = 256;

/** A claimed port, or (a claim too long for one tag, folded) a range of them. */
export interface ClaimedPorts {
  readonly protocol: 'tcp' | 'udp';
  readonly from: number;
  readonly to: number;
}

const token = (c: ClaimedPorts): string => `${c.protocol}/${c.from === c.to ? c.from : `${c.from}-${c.to}`}`;

/**
 * The tag value for these ports ('' for none). Past ELBv2's 256 characters (some 25 ports
 * in one target group, only seen with a named targetPort that resolves differently per
 * pod) each protocol folds into one range: a wider claim only keeps rules longer, never
 * lets one go that is needed.
 */
export function encodeClaim(ports: readonly BackendPort[]): string {
  const exact = ports.map((p) => token({ protocol: p.protocol, from: p.port, to: p.port })).join(' ');
  if (exact.length <= MAX_TAG_VALUE) return exact;
  const folded: ClaimedPorts[] = [];
  for (const protocol of ['tcp', 'udp'] as const) {
    const mine = ports.filter((p) => p.protocol === protocol).map((p) => p.port);
    if (mine.length > 0) folded.push({ protocol, from: Math.min(...mine), to: Math.max(...mine) });
  }
  return folded.map(token).join(' ');
}

/** A tag value read back; what does not parse (someone edited the tag) claims nothing. */
export function parseClaim(value: string | undefined): ClaimedPorts[] {
  const out: ClaimedPorts[] = [];
  for (const t of (value ?? '').split(' ')) {
    const m = /^(tcp|udp)\/(\d{1,5})(?:-(\d{1,5}))?$/.exec(t);
    if (!m) continue;
    const from = Number(m[2]);
    const to = m[3] !== undefined ? Number(m[3]) : from;
    if (from <= to) out.push({ protocol: m[1] as 'tcp' | 'udp', from, to });
  }
  return out;
}

/** What the cluster's target groups claim, as the inventory knows their tags; those of the objects `except` (by uid) left out. */
export function inventoryClaims(entries: ReadonlyMap<string, { readonly kind: ElbResourceKind; readonly tags: Tags }>, except: ReadonlySet<string> = new Set()): ClaimedPorts[] {
  const out: ClaimedPorts[] = [];
  for (const e of entries.values()) {
    if (e.kind !== 'tg' || except.has(e.tags[TAG_OWNER_UID] ?? '')) continue;
    out.push(...parseClaim(e.tags[TAG_BACKEND_PORTS]));
  }
  return out;
}

export const asClaims = (ports: readonly BackendPort[]): ClaimedPorts[] => ports.map((p) => ({ protocol: p.protocol, from: p.port, to: p.port }));

/** Whether a rule for protocol from..to is still claimed: some claimed port lies in it. A rule for every protocol (-1) is never lbc's and always kept. */
export function claimed(claims: readonly ClaimedPorts[], protocol: string, from: number, to: number): boolean {
  if (protocol === '-1') return true;
  return claims.some((c) => c.protocol === protocol && c.from <= to && from <= c.to);
}
