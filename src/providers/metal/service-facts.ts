// What the metal provider and the speaker read from a Service beyond the provider-neutral
// spec: its traffic policy and selector (MetalLB's sharing rules compare them), its age
// (the older keeps a disputed address) and the addresses its status holds (the
// allocation state is rebuilt from them; the speaker announces them).
import type { V1Service } from '@kubernetes/client-node';
import { normalizeIp } from '../../model/ip.js';
import type { Backend, Owner, PortUse } from './allocator.js';

export function serviceKey(svc: V1Service): string {
  return `${svc.metadata?.namespace ?? ''}/${svc.metadata?.name ?? ''}`;
}

export function selectorText(selector: Readonly<Record<string, string>> | undefined): string {
  return Object.entries(selector ?? {})
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

export function backendOf(svc: V1Service): Backend {
  return { policy: svc.spec?.externalTrafficPolicy === 'Local' ? 'Local' : 'Cluster', selector: selectorText(svc.spec?.selector) };
}

function timeOf(t: Date | string | undefined): number {
  if (t === undefined) return 0;
  const ms = t instanceof Date ? t.getTime() : Date.parse(t);
  return Number.isFinite(ms) ? ms : 0;
}

export function ownerOf(svc: V1Service): Owner {
  return { uid: svc.metadata?.uid ?? '', name: serviceKey(svc), createdAt: timeOf(svc.metadata?.creationTimestamp) };
}

export function portsOf(svc: V1Service): PortUse[] {
  return (svc.spec?.ports ?? []).map((p) => ({ protocol: p.protocol ?? 'TCP', port: p.port }));
}

/** The IP addresses in status.loadBalancer.ingress, canonical, without duplicates. */
export function statusIps(svc: V1Service): string[] {
  const out: string[] = [];
  for (const i of svc.status?.loadBalancer?.ingress ?? []) {
    const ip = i.ip === undefined ? undefined : normalizeIp(i.ip);
    if (ip !== undefined && !out.includes(ip)) out.push(ip);
  }
  return out;
}
