// Backend services: regional for L4 (scheme EXTERNAL for a network LB, INTERNAL for an
// internal one) and global for Ingress backends (EXTERNAL, HTTP, addressing the node
// port through the instance groups' named port). Backends, health checks, session
// affinity, port name, timeout and an L7 protocol change in place with the fingerprint
// GCE handed out (a stale one is re-read and retried); scheme and an L4 protocol cannot,
// and replace the service together with the forwarding rules in front of it.
import type { protos } from '@google-cloud/compute';
import { isFingerprintConflict, isNotFound } from './errors.js';
import { namesFilter, type CallContext, type Diff, type Key, type Kind } from './kind.js';
import { sameLinkSet } from './links.js';

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
  return { fields };
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
    insert: async ({ compute, signal }, key, body) => {
      const backendServiceResource = { ...body, name: key.name };
      if (scope.regional) {
        await compute.write('regionBackendServices.insert', key.name, signal, (o) =>
          compute.regionBackendServices.insert({ project: compute.project, region: compute.region, backendServiceResource }, o),
        );
      } else {
        await compute.write('backendServices.insert', key.name, signal, (o) => compute.backendServices.insert({ project: compute.project, backendServiceResource }, o));
      }
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
    update: (ctx, key, want, have) =>
      updateWithFingerprint(
        () => getService(ctx, scope, key),
        (fingerprint) => putService(ctx, scope, key, { ...want, ...(fingerprint !== undefined ? { fingerprint } : {}) }),
        have,
      ),
  };
}

export const regionalBackendServiceKind = backendServiceKind({ regional: true });
export const globalBackendServiceKind = backendServiceKind({ regional: false });
