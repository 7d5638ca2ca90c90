// Backend services: regional for L4 (scheme EXTERNAL for a network LB, INTERNAL for an
// internal one) and global for Ingress backends (EXTERNAL, HTTP, addressing the node
// port through the instance groups' named port). Backends, health checks, session
// affinity, port name, timeout and an L7 protocol change in place with the fingerprint
// GCE handed out (a stale one is re-read and retried); scheme and an L4 protocol cannot,
// and replace the service together with the forwarding rules in front of it.
import type { protos } from '@google-cloud/compute';
import { createHash } from 'node:crypto';
import { isFingerprintConflict, isNotFound } from './errors.js';
import { namesFilter, type CallContext, type Diff, type Key, type Kind } from './kind.js';
import { sameLink, sameLinkSet } from './links.js';

export type BackendService = protos.google.cloud.compute.v1.IBackendService;

function diffBackendService(want: BackendService, have: BackendService): Diff {
  const scheme = (b: BackendService): string => String(b.loadBalancingScheme ?? 'EXTERNAL');
  if (scheme(want) !== scheme(have)) return { fields: [], replace: `load balancing scheme ${scheme(have)} → ${scheme(want)}` };
  const fields: string[] = [];
  if (want.protocol && String(want.protocol) !== String(have.protocol ?? '')) {
    // Between HTTP, HTTPS and HTTP2 a PUT changes it, as ingress-gce's backend syncer updates
    // a backend's protocol in place; TCP ↔ UDP (L4) is another service.
    const l7 = (p: unknown): boolean => ['HTTP', 'HTTPS', 'HTTP2'].includes(String(p));
    if (!l7(want.protocol) || !l7(have.protocol)) return { fields: [], replace: `protocol ${String(have.protocol ?? '')} → ${String(want.protocol)}` };
    fields.push('protocol');
  }
  if ((want.description ?? '') !== (have.description ?? '')) fields.push('description');
  if (!sameLinkSet(want.healthChecks, have.healthChecks)) fields.push('healthChecks');
  if (!sameLinkSet((want.backends ?? []).map((b) => b.group), (have.backends ?? []).map((b) => b.group))) fields.push('backends');
  if (String(want.sessionAffinity ?? 'NONE') !== String(have.sessionAffinity ?? 'NONE')) fields.push('sessionAffinity');
  if ((want.portName ?? '') !== (have.portName ?? '')) fields.push('portName');
  if (want.timeoutSec != null && want.timeoutSec !== have.timeoutSec) fields.push('timeoutSec');
  // The fields a BackendConfig sets (backend-config.ts); unset on both sides is no change.
  for (const f of CONFIG_FIELDS) if (canonical(want[f]) !== canonical(have[f])) fields.push(f);
  if (!sameIap(want.iap, have.iap)) fields.push('iap');
  // Absent: lbc leaves whatever policy is attached (GKE: removing securityPolicy from a BackendConfig does not detach it).
  if (want.securityPolicy != null && !sameLink(want.securityPolicy, have.securityPolicy)) fields.push('securityPolicy');
  return { fields };
}

const CONFIG_FIELDS = ['connectionDraining', 'affinityCookieTtlSec', 'customRequestHeaders', 'customResponseHeaders', 'logConfig', 'enableCDN', 'cdnPolicy'] as const;

const EMPTY = new Set(['', '0', 'false', '[]', '{}', 'null']);

/**
 * JSON with sorted keys, where the zero values GCE omits or fills in compare equal to
 * absent; the decoded messages' `_field` oneof markers are not data.
 */
function canonical(v: unknown): string {
  const norm = (x: unknown): unknown => {
    if (Array.isArray(x)) return x.map(norm);
    if (x && typeof x === 'object') {
      const entries = Object.entries(x)
        .filter(([k]) => !k.startsWith('_'))
        .map(([k, y]) => [k, norm(y)] as const)
        .filter(([, y]) => !EMPTY.has(JSON.stringify(y ?? null)))
        .sort(([a], [b]) => (a < b ? -1 : 1));
      return Object.fromEntries(entries);
    }
    return x;
  };
  const s = JSON.stringify(norm(v) ?? null);
  return EMPTY.has(s) ? '' : s;
}

/** GCE never returns the OAuth secret, only its SHA-256; compare against that. */
function sameIap(want: BackendService['iap'], have: BackendService['iap']): boolean {
  if (!want) return true;
  if (Boolean(want.enabled) !== Boolean(have?.enabled) || (want.oauth2ClientId ?? '') !== (have?.oauth2ClientId ?? '')) return false;
  return want.oauth2ClientSecret == null || createHash('sha256').update(want.oauth2ClientSecret).digest('hex') === (have?.oauth2ClientSecretSha256 ?? '');
}

/** securityPolicy is output-only on the resource: GCE attaches a policy only through setSecurityPolicy. */
function withoutPolicy(body: BackendService): BackendService {
  const { securityPolicy: _policy, ...rest } = body;
  return rest;
}

/** Global only: BackendConfig (the one source of a policy) applies to Ingress backends. */
async function setSecurityPolicy(ctx: CallContext, key: Key, policy: string): Promise<void> {
  const { compute, signal } = ctx;
  const securityPolicyReferenceResource = policy === '' ? {} : { securityPolicy: policy };
  await compute.write('backendServices.setSecurityPolicy', key.name, signal, (o) =>
    compute.backendServices.setSecurityPolicy({ project: compute.project, backendService: key.name, securityPolicyReferenceResource }, o),
  );
}

type Scope = { readonly regional: true } | { readonly regional: false };

async function getService(ctx: CallContext, scope: Scope, key: Key): Promise<BackendService | undefined> {
  const { compute, signal } = ctx;
  return scope.regional
    ? compute.readOptional('regionBackendServices.get', key.name, signal, (o) =>
        compute.regionBackendServices.get({ project: compute.project, region: compute.region, backendService: key.name }, o),
      )
    : compute.readOptional('backendServices.get', key.name, signal, (o) => compute.backendServices.get({ project: compute.project, backendService: key.name }, o));
}

async function putService(ctx: CallContext, scope: Scope, key: Key, body: BackendService): Promise<void> {
  const { compute, signal } = ctx;
  const backendServiceResource = { ...body, name: key.name };
  if (scope.regional) {
    await compute.write('regionBackendServices.update', key.name, signal, (o) =>
      compute.regionBackendServices.update({ project: compute.project, region: compute.region, backendService: key.name, backendServiceResource }, o),
    );
  } else {
    await compute.write('backendServices.update', key.name, signal, (o) =>
      compute.backendServices.update({ project: compute.project, backendService: key.name, backendServiceResource }, o),
    );
  }
}

/** Updates with the fingerprint of what was read; a 412 means someone wrote since, so read again. */
export async function updateWithFingerprint<R extends { fingerprint?: string | null }>(
  read: () => Promise<R | undefined>,
  write: (fingerprint: string | undefined) => Promise<void>,
  first: R,
): Promise<void> {
  let have: R | undefined = first;
  for (let attempt = 0; ; attempt++) {
    try {
      await write(have?.fingerprint ?? undefined);
      return;
    } catch (e) {
      if (!isFingerprintConflict(e) || attempt >= 2) throw e;
      have = await read();
      if (!have) throw e;
    }
  }
}

function backendServiceKind(scope: Scope): Kind<BackendService> {
  return {
    resource: scope.regional ? 'BackendService' : 'GlobalBackendService',
    rank: 50,
    get: (ctx, key) => getService(ctx, scope, key),
    listNamed: ({ compute, signal }, names) => {
      const filter = namesFilter(names);
      return scope.regional
        ? compute.list('regionBackendServices.list', names.join(','), signal, (o) =>
            compute.regionBackendServices.list({ project: compute.project, region: compute.region, filter }, o),
          )
        : compute.list('backendServices.list', names.join(','), signal, (o) => compute.backendServices.list({ project: compute.project, filter }, o));
    },
    insert: async (ctx, key, body) => {
      const { compute, signal } = ctx;
      const backendServiceResource = { ...withoutPolicy(body), name: key.name };
      if (scope.regional) {
        await compute.write('regionBackendServices.insert', key.name, signal, (o) =>
          compute.regionBackendServices.insert({ project: compute.project, region: compute.region, backendServiceResource }, o),
        );
      } else {
        await compute.write('backendServices.insert', key.name, signal, (o) => compute.backendServices.insert({ project: compute.project, backendServiceResource }, o));
      }
      if (body.securityPolicy) await setSecurityPolicy(ctx, key, body.securityPolicy);
    },
    remove: async ({ compute, signal }, key) => {
      try {
        if (scope.regional) {
          await compute.write('regionBackendServices.delete', key.name, signal, (o) =>
            compute.regionBackendServices.delete({ project: compute.project, region: compute.region, backendService: key.name }, o),
          );
        } else {
          await compute.write('backendServices.delete', key.name, signal, (o) => compute.backendServices.delete({ project: compute.project, backendService: key.name }, o));
        }
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
    },
    diff: diffBackendService,
    update: async (ctx, key, want, have, fields) => {
      if (fields.some((f) => f !== 'securityPolicy')) {
        // The PUT leaves the attached policy alone (output-only there); it changes only below.
        await updateWithFingerprint(
          () => getService(ctx, scope, key),
          (fingerprint) => putService(ctx, scope, key, { ...withoutPolicy(want), ...(fingerprint !== undefined ? { fingerprint } : {}) }),
          have,
        );
      }
      if (fields.includes('securityPolicy')) await setSecurityPolicy(ctx, key, want.securityPolicy ?? '');
    },
  };
}

export const regionalBackendServiceKind = backendServiceKind({ regional: true });
export const globalBackendServiceKind = backendServiceKind({ regional: false });
