// The TLS part of buildIngressModel: each member's spec.tls, in member order, into the
// group's certificates and TLS hosts (aws-load-balancer-controller's
// model_build_certificates.go). A Secret named by several entries or members is one
// certificate for the union of their hosts; certificates the provider already holds
// (lbc.dev/certificate-ids) join them. A provider that finds certificates by host
// (ACM) needs no Secret, only the hosts.
import type { V1Secret } from '@kubernetes/client-node';
import type { ModelProvider } from '../service-model.js';
import { readTlsSecret } from '../tls-secret.js';
import type { TlsCertificate } from '../../model/spec.js';
import type { ModelError } from '../../model/validation.js';
import { objectName, type Member } from './group.js';
import { codePointOrder } from './order.js';

export class GroupTls {
  private readonly secrets: ReadonlyMap<string, V1Secret>;
  /** By `namespace/secret`, or `provider:<id>`: the keys that order the certificates. */
  private readonly certs = new Map<string, TlsCertificate>();
  private readonly tlsHosts = new Set<string>();

  constructor(
    secrets: readonly V1Secret[],
    private readonly provider: Pick<ModelProvider, 'capabilities'>,
    private readonly errors: ModelError[],
  ) {
    this.secrets = new Map(secrets.map((s) => [`${s.metadata?.namespace ?? ''}/${s.metadata?.name ?? ''}`, s]));
  }

  /** Adds one member's spec.tls; members come in group order. */
  add(m: Member): void {
    const object = objectName(m.ingress);
    (m.ingress.spec?.tls ?? []).forEach((t, i) => {
      const hosts = (t.hosts ?? []).map((h) => h.toLowerCase());
      for (const h of hosts) this.tlsHosts.add(h);
      if (!t.secretName) {
        if (!this.provider.capabilities.certificatesByHost) this.errors.push({ field: `spec.tls[${i}].secretName`, object, reason: 'is required (lbc has no default certificate)' });
        return;
      }
      const id = `${m.namespace}/${t.secretName}`;
      const seen = this.certs.get(id);
      if (seen) {
        this.certs.set(id, { ...seen, hosts: [...new Set([...seen.hosts, ...hosts])].sort() });
        return;
      }
      const s = readTlsSecret(this.secrets.get(id), m.namespace, t.secretName);
      if (!s.ok) {
        // A provider that takes certificates by host (ACM) never reads the Secret, as
        // aws-load-balancer-controller ignores spec.tls[].secretName: it need not exist.
        if (this.provider.capabilities.certificatesByHost) return;
        this.errors.push({ field: `spec.tls[${i}].secretName`, object, reason: s.reason });
        return;
      }
      this.certs.set(id, {
        source: 'secret',
        secretRef: { namespace: m.namespace, name: t.secretName },
        hosts: [...new Set(hosts)].sort(),
        certPem: s.certPem,
        keyPem: s.keyPem,
      });
    });
  }

  /** The Secrets' certificates and the provider's (by id, from lbc.dev/certificate-ids), in a stable order. */
  certificates(providerCertificateIds: readonly string[]): TlsCertificate[] {
    const all = new Map(this.certs);
    for (const id of providerCertificateIds) all.set(`provider:${id}`, { source: 'provider', id, hosts: [] });
    return [...all.entries()].sort(([a], [b]) => codePointOrder(a, b)).map(([, c]) => c);
  }

  /** Every spec.tls host of the group, lower-case and sorted. */
  hosts(): string[] {
    return [...this.tlsHosts].sort();
  }
}
