// OpenAPI v3, one document per group-version, as kubectl reads it:
// - `kubectl apply`/`create`/`edit` look up the PATCH operation of a kind to learn that the
//   server takes `fieldValidation` (then they send it instead of validating on the client),
//   and its request body types to choose a patch type;
// - `kubectl explain` finds the kind's schema by `x-kubernetes-group-version-kind`.
// A CRD group-version's document is built as apiextensions-apiserver builds it (its
// controller/openapi/builder): the CRD version's schema with apiVersion, kind and metadata
// replaced by the standard ones, a list schema, and the operations of every path. devcluster
// keeps no schemas for its built-in kinds: their documents hold the PATCH operation only, so
// kubectl patches them by its compiled-in types and explains none of them.
import { createHash } from 'node:crypto';
import type { ResourceType } from './resources.js';
import { groupVersions } from './discovery.js';
import { META_SCHEMAS } from './openapi-meta.js';

type Doc = Record<string, unknown>;

function gvPath(gv: string): string {
  return gv.includes('/') ? `apis/${gv}` : `api/${gv}`;
}

function builtinDoc(rts: ResourceType[], gv: string): Doc {
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

// ---------------------------------------------------------------------------------------
// CRD group-versions

const META = 'io.k8s.apimachinery.pkg.apis.meta.v1.';
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const API_VERSION = {
  description: 'APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources',
  type: 'string',
};
const KIND = {
  description: 'Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds',
  type: 'string',
};
const OBJECT_META = { description: "Standard object's metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata", allOf: [ref(`${META}ObjectMeta`)] };
const LIST_META = { description: 'Standard list metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds', allOf: [ref(`${META}ListMeta`)] };

/** The definition name kube-openapi gives a CRD kind: the group reversed, then version and kind (io.metallb.v1beta1.IPAddressPool). */
function definitionName(rt: ResourceType, kind = rt.kind): string {
  return [...rt.group.split('.').reverse(), rt.version, kind].join('.');
}

/** The kind's published schema: its CRD schema with the standard apiVersion, kind and metadata. */
function kindSchema(rt: ResourceType): Doc {
  const schema = structuredClone((rt.openapiSchema ?? { type: 'object' }) as Doc);
  schema.properties = { ...(schema.properties as Doc | undefined), apiVersion: API_VERSION, kind: KIND, metadata: OBJECT_META };
  schema['x-kubernetes-group-version-kind'] = [{ group: rt.group, kind: rt.kind, version: rt.version }];
  return schema;
}

function listSchema(rt: ResourceType): Doc {
  return {
    description: `${rt.kind}List is a list of ${rt.kind}`,
    required: ['items'],
    properties: {
      apiVersion: API_VERSION,
      items: { description: `List of ${rt.plural}. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md`, type: 'array', items: ref(definitionName(rt)) },
      kind: KIND,
      metadata: LIST_META,
    },
    'x-kubernetes-group-version-kind': [{ group: rt.group, kind: `${rt.kind}List`, version: rt.version }],
  };
}

const query = (name: string, type = 'string') => ({ name, in: 'query', schema: { type, uniqueItems: true } });
const pathParam = (name: string) => ({ name, in: 'path', required: true, schema: { type: 'string', uniqueItems: true } });
const WRITE_PARAMS = ['dryRun', 'fieldManager', 'fieldValidation'].map((n) => query(n));
const LIST_PARAMS = [query('allowWatchBookmarks', 'boolean'), query('continue'), query('fieldSelector'), query('labelSelector'), query('limit', 'integer'), query('resourceVersion'), query('resourceVersionMatch'), query('timeoutSeconds', 'integer'), query('watch', 'boolean')];
const DELETE_PARAMS = [query('dryRun'), query('gracePeriodSeconds', 'integer'), query('orphanDependents', 'boolean'), query('propagationPolicy')];
// A custom resource takes no strategic merge patch: kubectl reads that here and sends a merge patch.
const PATCH_TYPES = ['application/apply-patch+yaml', 'application/json-patch+json', 'application/merge-patch+json'];

function content(schemaName: string, types = ['application/json', 'application/yaml']): Doc {
  return { content: Object.fromEntries(types.map((t) => [t, { schema: ref(schemaName) }])) };
}

/** The operations of one CRD version's paths, as apiextensions-apiserver lists them. */
function crdPaths(rt: ResourceType, gv: string): Record<string, unknown> {
  const tag = `${rt.group.replace(/\.k8s\.io$/, '').split('.').map((p, i) => (i ? p[0]!.toUpperCase() + p.slice(1) : p)).join('')}_${rt.version}`;
  const idBase = `${tag.split('_')[0]![0]!.toUpperCase()}${tag.split('_')[0]!.slice(1)}${rt.version[0]!.toUpperCase()}${rt.version.slice(1)}`;
  const ns = rt.namespaced ? 'Namespaced' : '';
  const gvk = { group: rt.group, version: rt.version, kind: rt.kind };
  const def = definitionName(rt);
  const op = (verb: string, action: string, id: string, responses: Record<string, string>, extra: Doc = {}, schema = def): Doc => ({
    tags: [tag],
    operationId: `${verb}${idBase}${id}`,
    ...extra,
    responses: {
      ...Object.fromEntries(Object.entries(responses).map(([code, description]) => [code, { description, ...content(schema) }])),
      '401': { description: 'Unauthorized' },
    },
    'x-kubernetes-action': action,
    'x-kubernetes-group-version-kind': gvk,
  });
  const collection = `/${gvPath(gv)}${rt.namespaced ? '/namespaces/{namespace}' : ''}/${rt.plural}`;
  const item = `${collection}/{name}`;
  const scope = rt.namespaced ? [pathParam('namespace')] : [];
  const paths: Record<string, unknown> = {
    [collection]: {
      get: op('list', 'list', `${ns}${rt.kind}`, { '200': 'OK' }, { parameters: LIST_PARAMS }, definitionName(rt, `${rt.kind}List`)),
      post: op('create', 'post', `${ns}${rt.kind}`, { '200': 'OK', '201': 'Created', '202': 'Accepted' }, { parameters: WRITE_PARAMS, requestBody: content(def) }),
      delete: op('delete', 'deletecollection', `Collection${ns}${rt.kind}`, { '200': 'OK' }, { parameters: LIST_PARAMS }, `${META}Status`),
      parameters: [...scope, query('pretty')],
    },
    [item]: {
      get: op('read', 'get', `${ns}${rt.kind}`, { '200': 'OK' }, { parameters: [query('resourceVersion')] }),
      put: op('replace', 'put', `${ns}${rt.kind}`, { '200': 'OK', '201': 'Created' }, { parameters: WRITE_PARAMS, requestBody: content(def) }),
      delete: op('delete', 'delete', `${ns}${rt.kind}`, { '200': 'OK', '202': 'Accepted' }, { parameters: DELETE_PARAMS, requestBody: content(`${META}DeleteOptions`) }, `${META}Status`),
      patch: op('patch', 'patch', `${ns}${rt.kind}`, { '200': 'OK' }, { parameters: WRITE_PARAMS, requestBody: content(`${META}Patch`, PATCH_TYPES) }),
      parameters: [pathParam('name'), ...scope, query('pretty')],
    },
  };
  if (rt.namespaced) {
    paths[`/${gvPath(gv)}/${rt.plural}`] = {
      get: op('list', 'list', `${rt.kind}ForAllNamespaces`, { '200': 'OK' }, {}, definitionName(rt, `${rt.kind}List`)),
      parameters: [...LIST_PARAMS, query('pretty')],
    };
  }
  if (rt.statusSubresource) {
    paths[`${item}/status`] = {
      get: op('read', 'get', `${ns}${rt.kind}Status`, { '200': 'OK' }, { parameters: [query('resourceVersion')] }),
      put: op('replace', 'put', `${ns}${rt.kind}Status`, { '200': 'OK', '201': 'Created' }, { parameters: WRITE_PARAMS, requestBody: content(def) }),
      patch: op('patch', 'patch', `${ns}${rt.kind}Status`, { '200': 'OK' }, { parameters: WRITE_PARAMS, requestBody: content(`${META}Patch`, PATCH_TYPES) }),
      parameters: [pathParam('name'), ...scope, query('pretty')],
    };
  }
  return paths;
}

function crdDoc(rts: ResourceType[], gv: string): Doc {
  const paths: Record<string, unknown> = {};
  const schemas: Record<string, unknown> = { ...META_SCHEMAS };
  for (const rt of rts) {
    Object.assign(paths, crdPaths(rt, gv));
    schemas[definitionName(rt)] = kindSchema(rt);
    schemas[definitionName(rt, `${rt.kind}List`)] = listSchema(rt);
  }
  return { openapi: '3.0.0', info: { title: 'Kubernetes CRD Swagger', version: 'v0.1.0' }, paths, components: { schemas } };
}

// ---------------------------------------------------------------------------------------
// Serving, with each group-version's document built once per set of resource types

interface Built {
  rts: ResourceType[];
  doc: Doc;
  hash: string;
}

export class OpenApiV3 {
  private readonly built = new Map<string, Built>();

  private docs(resources: ResourceType[]): Map<string, Built> {
    const out = new Map<string, Built>();
    for (const [gv, rts] of groupVersions(resources)) {
      const prior = this.built.get(gv);
      // A CRD change registers new ResourceType objects, so identity says whether to rebuild.
      if (prior && prior.rts.length === rts.length && prior.rts.every((rt, i) => rt === rts[i])) {
        out.set(gv, prior);
        continue;
      }
      const doc = rts.some((rt) => rt.customResource) ? crdDoc(rts, gv) : builtinDoc(rts, gv);
      // As kube-apiserver does: the hash of the document in its URL, so clients cache by URL.
      const hash = createHash('sha512').update(JSON.stringify(doc)).digest('hex').toUpperCase();
      out.set(gv, { rts, doc, hash });
    }
    this.built.clear();
    for (const [gv, b] of out) this.built.set(gv, b);
    return out;
  }

  root(resources: ResourceType[]): Doc {
    const paths: Record<string, unknown> = {};
    for (const [gv, b] of this.docs(resources)) paths[gvPath(gv)] = { serverRelativeURL: `/openapi/v3/${gvPath(gv)}?hash=${b.hash}` };
    return { paths };
  }

  groupVersion(resources: ResourceType[], path: string): Doc | undefined {
    for (const [gv, b] of this.docs(resources)) if (gvPath(gv) === path) return b.doc;
    return undefined;
  }
}
