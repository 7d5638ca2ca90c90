// TLS certificates as load balancers take them: key material from a Secret, or one the
// provider already holds.

export interface SecretRef {
  readonly namespace: string;
  readonly name: string;
}

export type TlsCertificate =
  | {
      /** Key material read from a kubernetes.io/tls Secret. */
      readonly source: 'secret';
      readonly secretRef: SecretRef;
      readonly hosts: readonly string[];
      readonly certPem: string;
      readonly keyPem: string;
    }
  | {
      /** A certificate that already lives in the provider (an ACM ARN, a GCE SslCertificate name). */
      readonly source: 'provider';
      readonly id: string;
      readonly hosts: readonly string[];
    };
