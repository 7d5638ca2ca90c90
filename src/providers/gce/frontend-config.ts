// GKE's FrontendConfig (networking.gke.io/v1beta1) on an Ingress's frontend, as GKE
// documents it (https://cloud.google.com/kubernetes-engine/docs/how-to/ingress-configuration#configuring_ingress_features_through_frontendconfig_parameters)
// and ingress-gce builds it: sslPolicy names an SslPolicy for the target HTTPS proxy;
// redirectToHttps gives the HTTP proxy its own URL map (k8s2-rm-…) whose default is a
// redirect to HTTPS, so no plain-HTTP request reaches a backend.
import type { protos } from '@google-cloud/compute';

type UrlMap = protos.google.cloud.compute.v1.IUrlMap;

export interface FrontendConfigSpec {
  readonly sslPolicy?: string;
  readonly redirectToHttps?: { readonly enabled?: boolean; readonly responseCodeName?: string };
}

export interface ResolvedFrontendConfig {
  /** `namespace/name` of the FrontendConfig, for errors. */
  readonly source: string;
  readonly spec: FrontendConfigSpec;
}

/** urlMaps HttpRedirectAction.redirectResponseCode; GKE's default is a 301. */
const RESPONSE_CODES = ['MOVED_PERMANENTLY_DEFAULT', 'FOUND', 'SEE_OTHER', 'TEMPORARY_REDIRECT', 'PERMANENT_REDIRECT'] as const;

/** Why the FrontendConfig cannot be applied; empty when it can. */
export function frontendConfigProblems(c: ResolvedFrontendConfig, hasHttps: boolean, hasHttp: boolean): string[] {
  const out: string[] = [];
  const code = c.spec.redirectToHttps?.responseCodeName;
  if (code !== undefined && !(RESPONSE_CODES as readonly string[]).includes(code)) out.push(`redirectToHttps.responseCodeName ${code} is not one of ${RESPONSE_CODES.join(', ')}`);
  if (c.spec.redirectToHttps?.enabled && !hasHttps) out.push('redirectToHttps needs an HTTPS frontend (a TLS certificate on the Ingress)');
  if (c.spec.redirectToHttps?.enabled && !hasHttp) out.push('redirectToHttps needs the HTTP frontend, which kubernetes.io/ingress.allow-http "false" removes');
  if (c.spec.sslPolicy !== undefined && !hasHttps) out.push('sslPolicy needs an HTTPS frontend (a TLS certificate on the Ingress)');
  return out.map((p) => `FrontendConfig ${c.source}: ${p}`);
}

export const redirectsToHttps = (c: ResolvedFrontendConfig | undefined): boolean => c?.spec.redirectToHttps?.enabled === true;

/** The HTTP proxy's URL map when redirecting. */
export function redirectUrlMap(c: ResolvedFrontendConfig, description: string): UrlMap {
  return { description, defaultUrlRedirect: { httpsRedirect: true, redirectResponseCode: c.spec.redirectToHttps?.responseCodeName ?? 'MOVED_PERMANENTLY_DEFAULT' } };
}
