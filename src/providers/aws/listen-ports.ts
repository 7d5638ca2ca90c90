// The ports an ALB listens on and whose rules each port carries, as
// aws-load-balancer-controller builds them for an IngressGroup (pkg/ingress/model_builder.go
// run()): each Ingress has its own listen ports (computeIngressListenPortConfigByPort,
// computeIngressListenPorts: its listen-ports, else HTTPS:443 when it names a certificate,
// else HTTP:80), the load balancer listens on all of them, and the listener on a port gets
// the rules of the Ingresses that listen there (ingListByPort[port]). Two Ingresses giving
// one port two protocols fail the build (mergeListenPortConfigs: "conflicting protocol").
import type { L7Spec } from '../../model/spec.js';
import { INGRESS_PREFIX, type AwsLbOptions, type ListenPort } from './annotations.js';

export interface GroupListenPorts {
  /** Sorted by port. */
  readonly ports: readonly ListenPort[];
  /** Whether the listener on `port` carries the rules of member `source` (undefined: not one member's). */
  carries(port: number, source: string | undefined): boolean;
}

function ownListenPorts(listenPorts: readonly ListenPort[] | undefined, preferTls: boolean): readonly ListenPort[] {
  return listenPorts ?? (preferTls ? [{ protocol: 'HTTPS', port: 443 }] : [{ protocol: 'HTTP', port: 80 }]);
}

/**
 * The group's ports from each member's own options (L7Spec.memberOptions); without them
 * (a spec built before, or by hand), the group-wide options' for every rule. `certs` are
 * the group's certificates; `specCerts` the ones every member names (not annotations').
 * A string is the error: one port asked with two protocols.
 */
export function groupListenPorts(spec: L7Spec<AwsLbOptions>, o: AwsLbOptions, certs: readonly string[], specCerts: readonly string[]): GroupListenPorts | string {
  const members = Object.entries((spec.memberOptions ?? {}) as Readonly<Record<string, AwsLbOptions>>);
  if (members.length === 0) {
    return { ports: ownListenPorts(o.listenPorts, certs.length > 0), carries: () => true };
  }
  const byPort = new Map<number, { protocol: ListenPort['protocol']; source: string }>();
  const bySource = new Map<string, ReadonlySet<number>>();
  for (const [source, mo] of members.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const own = ownListenPorts(mo.listenPorts, mo.certificateArns.length > 0 || specCerts.length > 0);
    for (const p of own) {
      const first = byPort.get(p.port);
      if (!first) byPort.set(p.port, { protocol: p.protocol, source });
      else if (first.protocol !== p.protocol) {
        return `${INGRESS_PREFIX}listen-ports: port ${p.port} is ${first.protocol} for Ingress ${first.source} but ${p.protocol} for Ingress ${source} (conflicting protocol; one listener has one protocol)`;
      }
    }
    bySource.set(source, new Set(own.map((p) => p.port)));
  }
  const ports = [...byPort].map(([port, { protocol }]) => ({ protocol, port })).sort((a, b) => a.port - b.port);
  return { ports, carries: (port, source) => source === undefined || (bySource.get(source)?.has(port) ?? true) };
}
