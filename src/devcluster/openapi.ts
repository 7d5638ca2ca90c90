// Just enough OpenAPI v3 for kubectl: it reads the PATCH operation of each kind to learn
// that the server takes `fieldValidation`, and otherwise refuses to send objects. No
// schemas are published, so kubectl falls back to its built-in types for patch strategy.
// Custom resources get the same operation (enough for `kubectl apply`); publishing their CRD
// schemas is left for later (issue #15): until then kubectl cannot report unknown fields.
import { createHash } from 'node:crypto';
import type { ResourceType } from './resources.js';
import { groupVersions } from './discovery.js';

function gvPath(gv: string): string {
  return gv.includes('/') ? `apis/${gv}` : `api/${gv}`;
}

function docFor(rts: ResourceType[], gv: string): Record<string, unknown> {
  const paths: Record<string, unknown> = {};
  const params = ['dryRun', 'fieldManager', 'fieldValidation', 'force'].map((name) => ({
    name,
    in: 'query',
    schema: { type: name === 'force' ? 'boolean' : 'string', uniqueItems: true },
  }));
  for (const rt of rts) {
    const base = `/${gvPath(gv)}${rt.namespaced ? '/namespaces/{namespace}' : ''}/${rt.plural}/{name}`;
    const gvk = { group: rt.group, version: rt.version, kind: rt.kind };
    paths[base] = {
      patch: {
        operationId: `patch${rt.namespaced ? 'Namespaced' : ''}${rt.kind}`,
        'x-kubernetes-action': 'patch',
        'x-kubernetes-group-version-kind': gvk,
        parameters: params,
        responses: { '200': { description: 'OK' } },
      },
    };
  }
  return { openapi: '3.0.0', info: { title: 'Kubernetes', version: 'v1.30.0' }, paths, components: { schemas: {} } };
}

export function openapiV3Root(resources: ResourceType[]): Record<string, unknown> {
  const paths: Record<string, unknown> = {};
  for (const [gv, rts] of groupVersions(resources)) {
    const hash = createHash('sha512').update(JSON.stringify(docFor(rts, gv))).digest('hex').slice(0, 64).toUpperCase();
    paths[gvPath(gv)] = { serverRelativeURL: `/openapi/v3/${gvPath(gv)}?hash=${hash}` };
  }
  return { paths };
}

export function openapiV3GroupVersion(resources: ResourceType[], path: string): Record<string, unknown> | undefined {
  for (const [gv, rts] of groupVersions(resources)) if (gvPath(gv) === path) return docFor(rts, gv);
  return undefined;
}
