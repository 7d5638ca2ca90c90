// ACM certificate discovery for ALB HTTPS listeners, as aws-load-balancer-controller does
// it when no certificate-arn annotation is given: the Ingress hosts are matched against
// the domain names (DomainName and SubjectAlternativeNames) of the account's ISSUED
// certificates. Two halves: listIssuedCertificates reads ACM (once per ensure, through
// the provider's rate limit and retry policy); certificatesForHosts is the pure choice
// desired.ts makes from that list.
import { DescribeCertificateCommand, ListCertificatesCommand, type KeyAlgorithm } from '@aws-sdk/client-acm';
import type { AwsApi } from './api.js';

export interface AcmCertificate {
  readonly arn: string;
  /** DomainName and SubjectAlternativeNames, lower case. */
  readonly domains: readonly string[];
}

/**
 * Every key type an ALB listener takes. ListCertificates without `Includes.keyTypes`
 * returns only RSA_1024 and RSA_2048 certificates; asking for more needs no other IAM
 * permission than acm:ListCertificates.
 */
const KEY_TYPES: KeyAlgorithm[] = ['RSA_1024', 'RSA_2048', 'RSA_3072', 'RSA_4096', 'EC_prime256v1', 'EC_secp384r1', 'EC_secp521r1'];

const lower = (names: readonly (string | undefined)[]): string[] => [...new Set(names.filter((n): n is string => n !== undefined && n !== '').map((n) => n.toLowerCase()))];

/**
 * The account's ISSUED certificates in the provider's region with their domain names,
 * sorted by ARN. One paged ListCertificates; DescribeCertificate only for a certificate
 * whose summary does not carry all its names (more than ListCertificates returns, or an
 * endpoint that returns none).
 */
export async function listIssuedCertificates(api: AwsApi, signal: AbortSignal | undefined): Promise<AcmCertificate[]> {
  const out: AcmCertificate[] = [];
  let token: string | undefined;
  do {
    const page = await api.acm(
      'ListCertificates',
      (c, o) => c.send(new ListCertificatesCommand({ CertificateStatuses: ['ISSUED'], Includes: { keyTypes: KEY_TYPES }, ...(token !== undefined ? { NextToken: token } : {}) }), o),
      { signal },
    );
    for (const s of page.CertificateSummaryList ?? []) {
      const arn = s.CertificateArn;
      if (arn === undefined) continue;
      // The filter asked for ISSUED only; an endpoint that ignores it must not change the answer.
      if (s.Status !== undefined && s.Status !== 'ISSUED') continue;
      if (s.SubjectAlternativeNameSummaries !== undefined && s.HasAdditionalSubjectAlternativeNames !== true) {
        out.push({ arn, domains: lower([s.DomainName, ...s.SubjectAlternativeNameSummaries]) });
        continue;
      }
      const d = await api.acm('DescribeCertificate', (c, o) => c.send(new DescribeCertificateCommand({ CertificateArn: arn }), o), { signal });
      const cert = d.Certificate;
      if (cert?.Status !== 'ISSUED') continue;
      out.push({ arn, domains: lower([cert.DomainName ?? s.DomainName, ...(cert.SubjectAlternativeNames ?? [])]) });
    }
    token = page.NextToken !== undefined && page.NextToken !== '' ? page.NextToken : undefined;
  } while (token !== undefined);
  return out.sort((a, b) => (a.arn < b.arn ? -1 : a.arn > b.arn ? 1 : 0));
}

/**
 * Whether a certificate name covers a host, as TLS matches them: equal ignoring case, or
 * `*.example.com` for exactly one more label (`a.example.com`, never `example.com` nor
 * `a.b.example.com`).
 */
export function coversHost(domain: string, host: string): boolean {
  const d = domain.toLowerCase();
  const h = host.toLowerCase();
  if (d === h) return true;
  if (!d.startsWith('*.')) return false;
  const dot = h.indexOf('.');
  return dot > 0 && !h.slice(0, dot).includes('*') && h.slice(dot + 1) === d.slice(2);
}

/**
 * One certificate per host, hosts in sorted order: a certificate naming the host exactly
 * before one covering it by wildcard, then the lowest ARN. The result is deduplicated in
 * host order, so the first host's certificate is the listener's default. `missing` lists
 * the hosts no certificate covers.
 */
export function certificatesForHosts(hosts: readonly string[], certs: readonly AcmCertificate[]): { arns: string[]; missing: string[] } {
  const arns: string[] = [];
  const missing: string[] = [];
  const byArn = [...certs].sort((a, b) => (a.arn < b.arn ? -1 : a.arn > b.arn ? 1 : 0));
  for (const host of [...new Set(hosts.map((h) => h.toLowerCase()))].sort()) {
    const exact = byArn.find((c) => c.domains.includes(host));
    const chosen = exact ?? byArn.find((c) => c.domains.some((d) => coversHost(d, host)));
    if (!chosen) missing.push(host);
    else if (!arns.includes(chosen.arn)) arns.push(chosen.arn);
  }
  return { arns, missing };
}
