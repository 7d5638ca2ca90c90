// GKE's ManagedCertificate (networking.gke.io/v1) on an Ingress's target HTTPS proxy: a
// Google-managed SslCertificate (type MANAGED, managed.domains) that Google provisions
// and renews once the domains resolve to the load balancer
// (https://cloud.google.com/kubernetes-engine/docs/how-to/managed-certs). Its name
// carries a hash of the domains, like the Secret certificates' names carry their
// content: a changed domain list is a new certificate, switched to before the old goes.
import type { SslCertificate } from './ssl-certificate.js';

export interface ResolvedManagedCertificate {
  /** `namespace/name` of the ManagedCertificate, for errors. */
  readonly source: string;
  readonly domains: readonly string[];
}

/** GKE's limits: 1 to 100 domains, no wildcard, each at most 63 characters. */
export function managedCertificateProblems(m: ResolvedManagedCertificate): string[] {
  const out: string[] = [];
  if (m.domains.length === 0) out.push('spec.domains is empty');
  if (m.domains.length > 100) out.push(`spec.domains has ${m.domains.length} domains; at most 100`);
  for (const d of m.domains) {
    if (d.includes('*')) out.push(`${d}: wildcard domains are not supported by Google-managed certificates`);
    else if (d.length > 63) out.push(`${d}: longer than 63 characters`);
  }
  return out.map((p) => `ManagedCertificate ${m.source}: ${p}`);
}

/** The content its certificate's name is derived from. */
export const managedCertificateContent = (m: ResolvedManagedCertificate): string => `managed:${[...m.domains].map((d) => d.toLowerCase()).sort().join(',')}`;

export function managedCertificateBody(m: ResolvedManagedCertificate, description: string): SslCertificate {
  return { description, type: 'MANAGED', managed: { domains: [...m.domains] } };
}
