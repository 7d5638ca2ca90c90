// The listeners part of buildIngressModel (aws-load-balancer-controller's
// model_build_listener.go): HTTP on 80 always, HTTPS on 443 when the group has a
// certificate.
import type { L7Listener, TlsCertificate } from '../../model/spec.js';

export const HTTP_PORT = 80;
export const HTTPS_PORT = 443;

export function buildListeners(certificates: readonly TlsCertificate[]): L7Listener[] {
  const listeners: L7Listener[] = [{ protocol: 'HTTP', port: HTTP_PORT }];
  if (certificates.length > 0) listeners.push({ protocol: 'HTTPS', port: HTTPS_PORT, certificates });
  return listeners;
}
