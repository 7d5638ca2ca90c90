// SSL certificates made from an Ingress's TLS Secrets. A certificate cannot change, so
// its name carries a hash of the certificate (as ingress-gce names them): a renewed
// Secret gives a new certificate, the HTTPS proxy switches to it, and the old one is
// deleted afterwards. Pre-shared certificates (by annotation or lbc.dev/certificate-ids)
// are only referred to, never created or deleted.
import type { protos } from '@google-cloud/compute';
import { isNotFound } from './errors.js';
import type { CallContext, Kind, Observed } from './kind.js';
import type { L7Scope } from './l7-scope.js';
import { ownershipOf } from './ownership.js';

export type SslCertificate = protos.google.cloud.compute.v1.ISslCertificate;

function sslCertificateKindOf(scope: L7Scope): Kind<SslCertificate> {
  const region = scope === 'region';
  return {
    resource: region ? 'RegionSslCertificate' : 'SslCertificate',
    rank: 60,
    get: ({ compute, signal }, key) =>
      region
        ? compute.readOptional('regionSslCertificates.get', key.name, signal, (o) =>
            compute.regionSslCertificates.get({ project: compute.project, region: compute.region, sslCertificate: key.name }, o),
          )
        : compute.readOptional('sslCertificates.get', key.name, signal, (o) => compute.sslCertificates.get({ project: compute.project, sslCertificate: key.name }, o)),
    insert: ({ compute, signal }, key, body) => {
      const sslCertificateResource = { ...body, name: key.name };
      return region
        ? compute.write('regionSslCertificates.insert', key.name, signal, (o) =>
            compute.regionSslCertificates.insert({ project: compute.project, region: compute.region, sslCertificateResource }, o),
          )
        : compute.write('sslCertificates.insert', key.name, signal, (o) => compute.sslCertificates.insert({ project: compute.project, sslCertificateResource }, o));
    },
    remove: async ({ compute, signal }, key) => {
      try {
        if (region) {
          await compute.write('regionSslCertificates.delete', key.name, signal, (o) =>
            compute.regionSslCertificates.delete({ project: compute.project, region: compute.region, sslCertificate: key.name }, o),
          );
        } else {
          await compute.write('sslCertificates.delete', key.name, signal, (o) => compute.sslCertificates.delete({ project: compute.project, sslCertificate: key.name }, o));
        }
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
    },
    // The name is the content: same name, same certificate.
    diff: () => ({ fields: [] }),
    update: () => Promise.resolve(),
  };
}

export const sslCertificateKind = sslCertificateKindOf('global');
export const regionSslCertificateKind = sslCertificateKindOf('region');

/** This LB's certificates, found by their name prefix (their names change with their content). */
export async function observeSslCertificates(ctx: CallContext, prefix: string, clusterName: string, uid: string): Promise<Observed<SslCertificate>[]> {
  const { compute, signal } = ctx;
  const filter = `name eq ${prefix}.*`;
  const all = await compute.list('sslCertificates.list', `${prefix}*`, signal, (o) => compute.sslCertificates.list({ project: compute.project, filter }, o));
  return certificatesByPrefix(all, prefix, clusterName, uid);
}

/** Of listed certificates, those of the LB whose certificates' names start with `prefix`, by owner. */
export function certificatesByPrefix(items: readonly SslCertificate[], prefix: string, clusterName: string, uid: string): Observed<SslCertificate>[] {
  return items
    .filter((c) => (c.name ?? '').startsWith(prefix))
    .map((c) => ({ key: { name: c.name ?? '' }, resource: c, ownership: ownershipOf(c.description, clusterName, uid) }));
}
