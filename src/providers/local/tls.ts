// The certificates of an HTTPS listener, chosen per connection by SNI: a certificate whose
// hosts (the Ingress `tls[].hosts`) name the server exactly, else one with a matching
// `*.` wildcard, else the first, which also serves clients that send no SNI at all.
//
// A certificate that does not load (not PEM, key missing or not matching) is reported and
// skipped; if an earlier version of the same Secret loaded, that one stays in service, so
// a bad edit to a Secret does not take HTTPS down for the hosts it already served.
import { randomBytes } from 'node:crypto';
import { createSecureContext, DEFAULT_CIPHERS, type SecureContext } from 'node:tls';
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
        next.push({ id, secretRef: c.secretRef, hosts: c.hosts, certPem: c.certPem, keyPem: c.keyPem, context: createSecureContext({ cert: c.certPem, key: c.keyPem, ...serverTlsOptions() }) });
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

/**
 * TLS session ticket keys of this controller's HTTPS listeners, the same in every L7 worker
 * (l7-workers.ts hands them over): each Node TLS server otherwise draws its own, and a
 * client that resumes on a connection another process accepts would get a full handshake.
 * Like a Node server's own keys, they live as long as the process.
 */
let ticketKeys: Buffer = randomBytes(48);

export function sessionTicketKeys(): Buffer {
  return ticketKeys;
}

/** A worker takes its controller's keys before it serves any HTTPS listener. */
export function adoptSessionTicketKeys(keys: Buffer): void {
  if (keys.length !== 48) throw new Error(`session ticket keys must be 48 bytes, got ${keys.length}`);
  ticketKeys = keys;
}

/**
 * The server's cipher order: Node's default list with TLS 1.3's AES-128-GCM first (clients
 * such as OpenSSL's put AES-256-GCM first; with AES-NI the 128-bit key is the cheaper of the
 * two and no weaker in practice), then Node's order. Key exchange groups stay Node's: a
 * server preferring P-256 over the X25519 share a client sends would cost a HelloRetryRequest.
 */
export const SERVER_CIPHERS = ['TLS_AES_128_GCM_SHA256', ...DEFAULT_CIPHERS.split(':').filter((c) => c !== 'TLS_AES_128_GCM_SHA256')].join(':');

/**
 * OpenSSL resumes a session only under the session ID context it began in; Node's default is a
 * hash of the process's argv, which differs between the controller and its workers.
 */
const SESSION_ID_CONTEXT = 'lbc-l7';

/** What every HTTPS listener's TLS server, and each certificate's context SNI switches to, sets besides its certificates. */
export function serverTlsOptions(): { ticketKeys: Buffer; sessionIdContext: string; ciphers: string; honorCipherOrder: true } {
  return { ticketKeys, sessionIdContext: SESSION_ID_CONTEXT, ciphers: SERVER_CIPHERS, honorCipherOrder: true };
}
