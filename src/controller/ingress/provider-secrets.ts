// The Secrets a provider's references name besides TLS ones, watched by one Opaque-Secret
// informer (watched-kinds providerSecrets) whose every change re-syncs their users:
// - named by a provider's annotations (AWS auth-idp-oidc's secretName), read for it from
//   the group's members and their backend Services, each in the object's own namespace, as
//   aws-load-balancer-controller reads the OIDC Secret in the Ingress's namespace
//   (pkg/ingress/model_build_actions.go buildAuthenticateOIDCAction); their users are
//   found by the Ingress index by Secret;
// - named by a GKE BackendConfig's iap.oauthclientCredentials.secretName, for a gce
//   provider (gke-references.ts); their users are found through the BackendConfigs that
//   name them.
// A missing Secret stops the group with an error naming it; its arrival, change or
// deletion re-queues the group, so the build is retried then.
import type { V1Ingress, V1Secret, V1Service } from '@kubernetes/client-node';
import type { ModelError } from '../../model/validation.js';
import type { Provider } from '../../providers/types.js';
import { readsGkeReferences } from '../gke-references.js';

/** Whether any provider's references name Opaque Secrets, so that lbc watches them. */
export function readsProviderSecrets(providers: readonly Pick<Provider, 'secretNames' | 'type'>[]): boolean {
  return providers.some((p) => p.secretNames !== undefined || readsGkeReferences(p));
}

type Named = V1Ingress | V1Service;

const keyOf = (o: { metadata?: { namespace?: string; name?: string } }): string => `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;

/** `namespace/name` of each Secret the object's annotations name for the provider. */
export function providerSecretKeys(provider: Pick<Provider, 'secretNames'>, obj: Named): string[] {
  const names = provider.secretNames?.(obj.metadata?.annotations ?? {}) ?? [];
  return names.map((n) => `${obj.metadata?.namespace ?? ''}/${n}`);
}

/** A Secret's data, decoded (base64 in `data`, as the API serves it). Never logged: it holds credentials. */
export function secretData(s: V1Secret): Record<string, string> {
  return Object.fromEntries(Object.entries(s.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
}

/** The named Secrets' data, decoded; undefined when nothing names one. Never logged: it holds credentials. */
export function providerSecrets(
  provider: Pick<Provider, 'secretNames'>,
  objects: readonly { readonly obj: Named; readonly what: string }[],
  secrets: readonly V1Secret[],
  errors: ModelError[],
): Record<string, Record<string, string>> | undefined {
  const byKey = new Map(secrets.map((s) => [keyOf(s), s]));
  const out: Record<string, Record<string, string>> = {};
  for (const { obj, what } of objects) {
    for (const key of providerSecretKeys(provider, obj)) {
      const s = byKey.get(key);
      if (!s) {
        errors.push({ field: 'metadata.annotations', object: what, reason: `Secret ${key} does not exist; the object is not exposed until it does` });
        continue;
      }
      out[key] = secretData(s);
    }
  }
  return Object.keys(out).length > 0 ? out : undefined;
}
