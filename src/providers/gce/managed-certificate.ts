// GKE's ManagedCertificate (networking.gke.io/v1) on an Ingress's target HTTPS proxy: a
// Google-managed SslCertificate (type MANAGED, managed.domains) that Google provisions
// and renews once the domains resolve to the load balancer
// (https://cloud.google.com/kubernetes-engine/docs/how-to/managed-certs). Its name
// carries a hash of the domains, like the Secret certificates' names carry their
// content: a changed domain list is a new certificate, switched to before the old goes.
import type { ManagedCertificateState } from '../../model/status.js';
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

// GKE's managed-certificate controller's words for the SslCertificate's states
// (gke-managed-certs pkg/config/config.go, certificateStatuses and domainStatuses).
const CERTIFICATE_STATUS: Readonly<Record<string, string>> = {
  ACTIVE: 'Active',
  '': '',
  MANAGED_CERTIFICATE_STATUS_UNSPECIFIED: '',
  PROVISIONING: 'Provisioning',
  PROVISIONING_FAILED: 'ProvisioningFailed',
  PROVISIONING_FAILED_PERMANENTLY: 'ProvisioningFailedPermanently',
  RENEWAL_FAILED: 'RenewalFailed',
};
const DOMAIN_STATUS: Readonly<Record<string, string>> = {
  ACTIVE: 'Active',
  FAILED_CAA_CHECKING: 'FailedCaaChecking',
  FAILED_CAA_FORBIDDEN: 'FailedCaaForbidden',
  FAILED_NOT_VISIBLE: 'FailedNotVisible',
  FAILED_RATE_LIMITED: 'FailedRateLimited',
  PROVISIONING: 'Provisioning',
};

// A state GCE adds later is shown as GCE names it rather than hidden (upstream drops the whole status then).
const translate = (table: Readonly<Record<string, string>>, v: string): string => table[v] ?? v;

/** What the ManagedCertificate's status says of its SslCertificate, as GKE's controller copies it (certificates.CopyStatus). */
export function managedCertificateState(m: ResolvedManagedCertificate, name: string, cert: SslCertificate): ManagedCertificateState {
  const managed = cert.managed ?? {};
  const domains = Object.entries(managed.domainStatus ?? {}).sort(([a], [b]) => a.localeCompare(b));
  return {
    source: m.source,
    certificateName: name,
    certificateStatus: translate(CERTIFICATE_STATUS, String(managed.status ?? '')),
    domainStatus: domains.map(([domain, status]) => ({ domain, status: translate(DOMAIN_STATUS, String(status)) })),
    ...(cert.expireTime ? { expireTime: cert.expireTime } : {}),
  };
}
