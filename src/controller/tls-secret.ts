// Certificates from kubernetes.io/tls Secrets, checked enough that a wrong Secret is
// reported against the Ingress instead of failing somewhere inside a cloud API call.
import type { V1Secret } from '@kubernetes/client-node';

export const TLS_SECRET_TYPE = 'kubernetes.io/tls';

export type TlsSecretResult =
  | { readonly ok: true; readonly certPem: string; readonly keyPem: string }
  | { readonly ok: false; readonly reason: string };

function decodePem(data: Readonly<Record<string, string>>, key: string, marker: RegExp): string | { missing: string } {
  const b64 = data[key];
  if (b64 === undefined || b64 === '') return { missing: `has no ${key}` };
  const text = Buffer.from(b64, 'base64').toString('utf8');
  return marker.test(text) ? text : { missing: `${key} is not PEM (${marker.source.replace(/\\/g, '')} not found)` };
}

/** Reads tls.crt and tls.key (base64 in `data`, as the API serves them). */
export function readTlsSecret(secret: V1Secret | undefined, namespace: string, name: string): TlsSecretResult {
  const id = `Secret ${namespace}/${name}`;
  if (!secret) return { ok: false, reason: `${id} does not exist` };
  if (secret.type !== TLS_SECRET_TYPE) return { ok: false, reason: `${id} is of type ${secret.type ?? 'Opaque'}, not ${TLS_SECRET_TYPE}` };
  const data = secret.data ?? {};
  const cert = decodePem(data, 'tls.crt', /-----BEGIN CERTIFICATE-----/);
  const key = decodePem(data, 'tls.key', /-----BEGIN [A-Z ]*PRIVATE KEY-----/);
  const problems = [cert, key].filter((x): x is { missing: string } => typeof x !== 'string').map((x) => x.missing);
  if (problems.length > 0 || typeof cert !== 'string' || typeof key !== 'string') return { ok: false, reason: `${id} ${problems.join(' and ')}` };
  return { ok: true, certPem: cert, keyPem: key };
}
