// A self-signed serving certificate made at start: kubectl and client-go send bearer
// tokens only over TLS, so devcluster serves HTTPS and puts this certificate in its
// kubeconfig as the cluster's CA.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import forge from 'node-forge';

export interface ServingCert {
  certPem: string;
  keyPem: string;
}

export function selfSignedCert(hosts: { ips: string[]; dns: string[] }, commonName = 'devcluster'): ServingCert {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }) as string);
  // Positive serial: a leading 0x00-0x7f byte keeps the DER integer from reading as negative.
  cert.serialNumber = `01${randomBytes(15).toString('hex')}`;
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + 365 * 24 * 3600_000);
  const subject = [{ name: 'commonName', value: commonName }];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    {
      name: 'subjectAltName',
      altNames: [...hosts.ips.map((ip) => ({ type: 7, ip })), ...hosts.dns.map((value) => ({ type: 2, value }))],
    },
  ]);
  const keyPem = privateKey.export({ type: 'pkcs1', format: 'pem' }) as string;
  cert.sign(forge.pki.privateKeyFromPem(keyPem), forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem };
}
