// What a provider reports back once a load balancer exists: the shape of
// status.loadBalancer.ingress, without the Kubernetes types.
import type { L4Protocol } from './spec.js';

export interface PortStatus {
  readonly port: number;
  readonly protocol: L4Protocol;
}

/** VIP: traffic arrives with the LB address as destination; Proxy: the LB terminates it. */
export type IpMode = 'VIP' | 'Proxy';

interface IngressPointBase {
  readonly ports?: readonly PortStatus[];
  readonly ipMode?: IpMode;
}

export type IngressPoint =
  | (IngressPointBase & { readonly ip: string; readonly hostname?: never })
  | (IngressPointBase & { readonly hostname: string; readonly ip?: never });

export interface LoadBalancerStatus {
  readonly ingress: readonly IngressPoint[];
}

export const EMPTY_STATUS: LoadBalancerStatus = { ingress: [] };

function pointKey(p: IngressPoint): string {
  const ports = [...(p.ports ?? [])].map((x) => `${x.protocol}/${x.port}`).sort();
  return JSON.stringify([p.ip ?? '', p.hostname ?? '', p.ipMode ?? '', ports]);
}

/** Order-insensitive, so a provider that lists addresses in a different order causes no status write. */
export function statusEqual(a: LoadBalancerStatus, b: LoadBalancerStatus): boolean {
  if (a.ingress.length !== b.ingress.length) return false;
  const ka = a.ingress.map(pointKey).sort();
  const kb = b.ingress.map(pointKey).sort();
  return ka.every((k, i) => k === kb[i]);
}
