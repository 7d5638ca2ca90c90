// The certificates of an HTTPS listener, chosen per connection by SNI: a certificate whose
// hosts (the Ingress `tls[].hosts`) name the server exactly, else one with a matching
// `*.` wildcard, else the first, which also serves clients that send no SNI at all.
//
// A certificate that does not load (not PEM, key missing or not matching) is reported and
// skipped; if an earlier version of the same Secret loaded, that one stays in service, so
// a bad edit to a Secret does not take HTTPS down for the hosts it already served.
import { createSecureContext, type SecureContext } from 'node:tls';
import type { SecretRef, TlsCertificate } from '../../model/spec.js';

interface Loaded {
  /** `namespace/name` of the Secret. */
  readonly id: string;
  readonly secretRef: SecretRef;
  readonly hosts: readonly string[];
  readonly certPem: string;
  readonly keyPem: string;
  readonly context: SecureContext;
}

export function wildcardMatches(pattern: string, host: string): boolean {
  if (!pattern.startsWith('*.')) return false;
  const suffix = pattern.slice(1).toLowerCase();
  if (!host.endsWith(suffix)) return false;
  const label = host.slice(0, -suffix.length);
  return label !== '' && !label.includes('.');
}

export class CertificateStore {
  private loaded: Loaded[] = [];

  get size(): number {
    return this.loaded.length;
  }

  get ids(): readonly string[] {
    return this.loaded.map((l) => l.id);
  }

  /** Takes the listener's certificates; returns one message per certificate that could not be used. */
  load(certs: readonly TlsCertificate[]): string[] {
    const errors: string[] = [];
    const next: Loaded[] = [];
    for (const c of certs) {
      if (c.source === 'provider') {
        errors.push(`certificate ${c.id} lives in a cloud provider; the local provider serves only certificates from Secrets`);
        continue;
      }
      const id = `${c.secretRef.namespace}/${c.secretRef.name}`;
      const prev = this.loaded.find((l) => l.id === id);
      if (prev && prev.certPem === c.certPem && prev.keyPem === c.keyPem) {
        next.push({ ...prev, hosts: c.hosts });
        continue;
      }
      try {
        next.push({ id, secretRef: c.secretRef, hosts: c.hosts, certPem: c.certPem, keyPem: c.keyPem, context: createSecureContext({ cert: c.certPem, key: c.keyPem }) });
      } catch (e) {
        const reason = e instanceof Error ? e.message : String(e);
        errors.push(`Secret ${id}: certificate or key cannot be used (${reason})${prev ? '; still serving its previous version' : ''}`);
        if (prev) next.push(prev);
      }
    }
    this.loaded = next;
    return errors;
  }

  /** What is in service, in the spec's terms, so that the next diff sees what did not load. */
  applied(): TlsCertificate[] {
    return this.loaded.map((l) => ({ source: 'secret', secretRef: l.secretRef, hosts: l.hosts, certPem: l.certPem, keyPem: l.keyPem }));
  }

  /** The certificate for clients that send no SNI, as PEM for the server's default context. */
  get fallback(): { cert: string; key: string } | undefined {
    const first = this.loaded[0];
    return first && { cert: first.certPem, key: first.keyPem };
  }

  select(servername: string): SecureContext | undefined {
    const name = servername.toLowerCase().replace(/\.$/, '');
    const exact = this.loaded.find((l) => l.hosts.some((h) => h.toLowerCase() === name));
    const wild = exact ?? this.loaded.find((l) => l.hosts.some((h) => wildcardMatches(h, name)));
    return (wild ?? this.loaded[0])?.context;
  }
}
