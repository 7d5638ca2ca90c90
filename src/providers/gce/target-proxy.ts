// Target HTTP and HTTPS proxies, global or regional: between a load balancer's forwarding
// rules and its URL map. The URL map and the certificate list change in place (setUrlMap,
// setSslCertificates), so swapping a certificate never drops the load balancer.
import type { protos } from '@google-cloud/compute';
import { isNotFound } from './errors.js';
import type { CallContext, Diff, Kind } from './kind.js';
import type { L7Scope } from './l7-scope.js';
import { linkPath, sameLink } from './links.js';

export type TargetHttpProxy = protos.google.cloud.compute.v1.ITargetHttpProxy;
export type TargetHttpsProxy = protos.google.cloud.compute.v1.ITargetHttpsProxy;

function targetHttpProxyKindOf(scope: L7Scope): Kind<TargetHttpProxy> {
  const region = scope === 'region';
  return {
    resource: region ? 'RegionTargetHttpProxy' : 'TargetHttpProxy',
    rank: 80,
    get: ({ compute, signal }, key) =>
      region
        ? compute.readOptional('regionTargetHttpProxies.get', key.name, signal, (o) =>
            compute.regionTargetHttpProxies.get({ project: compute.project, region: compute.region, targetHttpProxy: key.name }, o),
          )
        : compute.readOptional('targetHttpProxies.get', key.name, signal, (o) => compute.targetHttpProxies.get({ project: compute.project, targetHttpProxy: key.name }, o)),
    insert: ({ compute, signal }, key, body) => {
      const targetHttpProxyResource = { ...body, name: key.name };
      return region
        ? compute.write('regionTargetHttpProxies.insert', key.name, signal, (o) =>
            compute.regionTargetHttpProxies.insert({ project: compute.project, region: compute.region, targetHttpProxyResource }, o),
          )
        : compute.write('targetHttpProxies.insert', key.name, signal, (o) => compute.targetHttpProxies.insert({ project: compute.project, targetHttpProxyResource }, o));
    },
    remove: async ({ compute, signal }, key) => {
      try {
        if (region) {
          await compute.write('regionTargetHttpProxies.delete', key.name, signal, (o) =>
            compute.regionTargetHttpProxies.delete({ project: compute.project, region: compute.region, targetHttpProxy: key.name }, o),
          );
        } else {
          await compute.write('targetHttpProxies.delete', key.name, signal, (o) => compute.targetHttpProxies.delete({ project: compute.project, targetHttpProxy: key.name }, o));
        }
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
    },
    diff: (want, have): Diff => ({ fields: sameLink(want.urlMap, have.urlMap) ? [] : ['urlMap'] }),
    update: ({ compute, signal }, key, want) => {
      const urlMapReferenceResource = { urlMap: want.urlMap ?? '' };
      return region
        ? compute.write('regionTargetHttpProxies.setUrlMap', key.name, signal, (o) =>
            compute.regionTargetHttpProxies.setUrlMap({ project: compute.project, region: compute.region, targetHttpProxy: key.name, urlMapReferenceResource }, o),
          )
        : compute.write('targetHttpProxies.setUrlMap', key.name, signal, (o) =>
            compute.targetHttpProxies.setUrlMap({ project: compute.project, targetHttpProxy: key.name, urlMapReferenceResource }, o),
          );
    },
  };
}

export const targetHttpProxyKind = targetHttpProxyKindOf('global');
export const regionTargetHttpProxyKind = targetHttpProxyKindOf('region');

const certList = (p: TargetHttpsProxy): string => (p.sslCertificates ?? []).map(linkPath).join(' ');

function targetHttpsProxyKindOf(scope: L7Scope): Kind<TargetHttpsProxy> {
  const region = scope === 'region';
  return {
    resource: region ? 'RegionTargetHttpsProxy' : 'TargetHttpsProxy',
    rank: 80,
    get: ({ compute, signal }, key) =>
      region
        ? compute.readOptional('regionTargetHttpsProxies.get', key.name, signal, (o) =>
            compute.regionTargetHttpsProxies.get({ project: compute.project, region: compute.region, targetHttpsProxy: key.name }, o),
          )
        : compute.readOptional('targetHttpsProxies.get', key.name, signal, (o) => compute.targetHttpsProxies.get({ project: compute.project, targetHttpsProxy: key.name }, o)),
    insert: ({ compute, signal }, key, body) => {
      const targetHttpsProxyResource = { ...body, name: key.name };
      return region
        ? compute.write('regionTargetHttpsProxies.insert', key.name, signal, (o) =>
            compute.regionTargetHttpsProxies.insert({ project: compute.project, region: compute.region, targetHttpsProxyResource }, o),
          )
        : compute.write('targetHttpsProxies.insert', key.name, signal, (o) => compute.targetHttpsProxies.insert({ project: compute.project, targetHttpsProxyResource }, o));
    },
    remove: async ({ compute, signal }, key) => {
      try {
        if (region) {
          await compute.write('regionTargetHttpsProxies.delete', key.name, signal, (o) =>
            compute.regionTargetHttpsProxies.delete({ project: compute.project, region: compute.region, targetHttpsProxy: key.name }, o),
          );
        } else {
          await compute.write('targetHttpsProxies.delete', key.name, signal, (o) => compute.targetHttpsProxies.delete({ project: compute.project, targetHttpsProxy: key.name }, o));
        }
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
    },
    // The order matters: the first certificate is the one served to clients without SNI.
    diff: (want, have): Diff => ({
      fields: [
        ...(sameLink(want.urlMap, have.urlMap) ? [] : ['urlMap']),
        ...(certList(want) === certList(have) ? [] : ['sslCertificates']),
        // A FrontendConfig's sslPolicy (Ingresses, so global only); none wanted detaches one a FrontendConfig set before.
        ...(region || sameLink(want.sslPolicy, have.sslPolicy) ? [] : ['sslPolicy']),
      ],
    }),
    update: async (ctx, key, want, _have, fields) => {
      if (fields.includes('sslCertificates')) await setCertificates(ctx, region, key.name, [...(want.sslCertificates ?? [])]);
      if (fields.includes('sslPolicy')) await setSslPolicy(ctx, key.name, want.sslPolicy);
      if (fields.includes('urlMap')) await setHttpsUrlMap(ctx, region, key.name, want.urlMap ?? '');
    },
  };
}

async function setCertificates({ compute, signal }: CallContext, region: boolean, targetHttpsProxy: string, sslCertificates: string[]): Promise<void> {
  if (region) {
    await compute.write('regionTargetHttpsProxies.setSslCertificates', targetHttpsProxy, signal, (o) =>
      compute.regionTargetHttpsProxies.setSslCertificates(
        { project: compute.project, region: compute.region, targetHttpsProxy, regionTargetHttpsProxiesSetSslCertificatesRequestResource: { sslCertificates } },
        o,
      ),
    );
  } else {
    await compute.write('targetHttpsProxies.setSslCertificates', targetHttpsProxy, signal, (o) =>
      compute.targetHttpsProxies.setSslCertificates({ project: compute.project, targetHttpsProxy, targetHttpsProxiesSetSslCertificatesRequestResource: { sslCertificates } }, o),
    );
  }
}

/** Global only: a FrontendConfig, the one source of a policy, applies to Ingresses. */
async function setSslPolicy({ compute, signal }: CallContext, targetHttpsProxy: string, sslPolicy: string | null | undefined): Promise<void> {
  await compute.write('targetHttpsProxies.setSslPolicy', targetHttpsProxy, signal, (o) =>
    compute.targetHttpsProxies.setSslPolicy({ project: compute.project, targetHttpsProxy, sslPolicyReferenceResource: sslPolicy ? { sslPolicy } : {} }, o),
  );
}

async function setHttpsUrlMap({ compute, signal }: CallContext, region: boolean, targetHttpsProxy: string, urlMap: string): Promise<void> {
  if (region) {
    await compute.write('regionTargetHttpsProxies.setUrlMap', targetHttpsProxy, signal, (o) =>
      compute.regionTargetHttpsProxies.setUrlMap({ project: compute.project, region: compute.region, targetHttpsProxy, urlMapReferenceResource: { urlMap } }, o),
    );
  } else {
    await compute.write('targetHttpsProxies.setUrlMap', targetHttpsProxy, signal, (o) =>
      compute.targetHttpsProxies.setUrlMap({ project: compute.project, targetHttpsProxy, urlMapReferenceResource: { urlMap } }, o),
    );
  }
}

export const targetHttpsProxyKind = targetHttpsProxyKindOf('global');
export const regionTargetHttpsProxyKind = targetHttpsProxyKindOf('region');
