// Target HTTP and HTTPS proxies: between the Ingress's forwarding rules and its URL
// map. The URL map and the certificate list change in place (setUrlMap,
// setSslCertificates), so swapping a certificate never drops the load balancer.
import type { protos } from '@google-cloud/compute';
import { isNotFound } from './errors.js';
import type { Diff, Kind } from './kind.js';
import { linkPath, sameLink } from './links.js';

export type TargetHttpProxy = protos.google.cloud.compute.v1.ITargetHttpProxy;
export type TargetHttpsProxy = protos.google.cloud.compute.v1.ITargetHttpsProxy;

export const targetHttpProxyKind: Kind<TargetHttpProxy> = {
  resource: 'TargetHttpProxy',
  rank: 80,
  get: ({ compute, signal }, key) =>
    compute.readOptional('targetHttpProxies.get', key.name, signal, (o) => compute.targetHttpProxies.get({ project: compute.project, targetHttpProxy: key.name }, o)),
  insert: ({ compute, signal }, key, body) =>
    compute.write('targetHttpProxies.insert', key.name, signal, (o) =>
      compute.targetHttpProxies.insert({ project: compute.project, targetHttpProxyResource: { ...body, name: key.name } }, o),
    ),
  remove: async ({ compute, signal }, key) => {
    try {
      await compute.write('targetHttpProxies.delete', key.name, signal, (o) => compute.targetHttpProxies.delete({ project: compute.project, targetHttpProxy: key.name }, o));
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  },
  diff: (want, have): Diff => ({ fields: sameLink(want.urlMap, have.urlMap) ? [] : ['urlMap'] }),
  update: ({ compute, signal }, key, want) =>
    compute.write('targetHttpProxies.setUrlMap', key.name, signal, (o) =>
      compute.targetHttpProxies.setUrlMap({ project: compute.project, targetHttpProxy: key.name, urlMapReferenceResource: { urlMap: want.urlMap ?? '' } }, o),
    ),
};

const certList = (p: TargetHttpsProxy): string => (p.sslCertificates ?? []).map(linkPath).join(' ');

export const targetHttpsProxyKind: Kind<TargetHttpsProxy> = {
  resource: 'TargetHttpsProxy',
  rank: 80,
  get: ({ compute, signal }, key) =>
    compute.readOptional('targetHttpsProxies.get', key.name, signal, (o) => compute.targetHttpsProxies.get({ project: compute.project, targetHttpsProxy: key.name }, o)),
  insert: ({ compute, signal }, key, body) =>
    compute.write('targetHttpsProxies.insert', key.name, signal, (o) =>
      compute.targetHttpsProxies.insert({ project: compute.project, targetHttpsProxyResource: { ...body, name: key.name } }, o),
    ),
  remove: async ({ compute, signal }, key) => {
    try {
      await compute.write('targetHttpsProxies.delete', key.name, signal, (o) => compute.targetHttpsProxies.delete({ project: compute.project, targetHttpsProxy: key.name }, o));
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  },
  // The order matters: the first certificate is the one served to clients without SNI.
  diff: (want, have): Diff => ({
    fields: [
      ...(sameLink(want.urlMap, have.urlMap) ? [] : ['urlMap']),
      ...(certList(want) === certList(have) ? [] : ['sslCertificates']),
      // A FrontendConfig's sslPolicy; none wanted detaches one a FrontendConfig set before.
      ...(sameLink(want.sslPolicy, have.sslPolicy) ? [] : ['sslPolicy']),
    ],
  }),
  update: async ({ compute, signal }, key, want, _have, fields) => {
    if (fields.includes('sslCertificates')) {
      await compute.write('targetHttpsProxies.setSslCertificates', key.name, signal, (o) =>
        compute.targetHttpsProxies.setSslCertificates(
          {
            project: compute.project,
            targetHttpsProxy: key.name,
            targetHttpsProxiesSetSslCertificatesRequestResource: { sslCertificates: [...(want.sslCertificates ?? [])] },
          },
          o,
        ),
      );
    }
    if (fields.includes('sslPolicy')) {
      await compute.write('targetHttpsProxies.setSslPolicy', key.name, signal, (o) =>
        compute.targetHttpsProxies.setSslPolicy(
          { project: compute.project, targetHttpsProxy: key.name, sslPolicyReferenceResource: want.sslPolicy ? { sslPolicy: want.sslPolicy } : {} },
          o,
        ),
      );
    }
    if (fields.includes('urlMap')) {
      await compute.write('targetHttpsProxies.setUrlMap', key.name, signal, (o) =>
        compute.targetHttpsProxies.setUrlMap({ project: compute.project, targetHttpsProxy: key.name, urlMapReferenceResource: { urlMap: want.urlMap ?? '' } }, o),
      );
    }
  },
};
