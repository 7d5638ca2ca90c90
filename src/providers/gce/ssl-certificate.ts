// SSL certificates made from an Ingress's TLS Secrets. A certificate cannot change, so
// its name carries a hash of the certificate (as ingress-gce names them): a renewed
// Secret gives a new certificate, the HTTPS proxy switches to it, and the old one is
// deleted afterwards. Pre-shared certificates (by annotation or lbc.dev/certificate-ids)
// are only referred to, never created or deleted.
import type { protos } from '@google-cloud/compute';
import { isNotFound } from './errors.js';
import type { CallContext, Kind, Observed } from './kind.js';
import { ownershipOf } from './ownership.js';

export type SslCertificate = protos.google.cloud.compute.v1.ISslCertificate;

export const sslCertificateKind: Kind<SslCertificate> = {
  resource: 'SslCertificate',
  rank: 60,
  get: ({ compute, signal }, key) =>
    compute.readOptional('sslCertificates.get', key.name, signal, (o) => compute.sslCertificates.get({ project: compute.project, sslCertificate: key.name }, o)),
  insert: ({ compute, signal }, key, body) =>
    compute.write('sslCertificates.insert', key.name, signal, (o) =>
      compute.sslCertificates.insert({ project: compute.project, sslCertificateResource: { ...body, name: key.name } }, o),
    ),
  remove: async ({ compute, signal }, key) => {
    try {
      await compute.write('sslCertificates.delete', key.name, signal, (o) => compute.sslCertificates.delete({ project: compute.project, sslCertificate: key.name }, o));
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  },
  // The name is the content: same name, same certificate.
  diff: () => ({ fields: [] }),
  update: () => Promise.resolve(),
};

/** This LB's certificates, found by their name prefix (their names change with their content). */
export async function observeSslCertificates(ctx: CallContext, prefix: string, clusterName: string, uid: string): Promise<Observed<SslCertificate>[]> {
  const { compute, signal } = ctx;
  const all = await compute.list('sslCertificates.list', `${prefix}*`, signal, (o) =>
    compute.sslCertificates.list({ project: compute.project, filter: `name eq ${prefix}.*` }, o),
  );
  return all
    .filter((c) => (c.name ?? '').startsWith(prefix))
    .map((c) => ({ key: { name: c.name ?? '' }, resource: c, ownership: ownershipOf(c.description, clusterName, uid) }));
}
