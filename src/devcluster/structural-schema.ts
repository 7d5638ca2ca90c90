// A CRD version's structural schema and what kube-apiserver does with it before validating
// (apiextensions-apiserver pkg/apiserver/schema/{pruning,defaulting}): unknown fields are
// pruned, nulls of non-nullable fields without a default are dropped, then `default`s are
// filled into the objects that exist, recursively into what a default itself brings.
import { isObject } from './objects.js';

export interface StructuralSchema {
  type?: string;
  properties?: Record<string, StructuralSchema>;
  additionalProperties?: StructuralSchema;
  items?: StructuralSchema;
  nullable: boolean;
  preserveUnknownFields: boolean;
  embeddedResource: boolean;
  intOrString: boolean;
  default?: unknown;
  listType?: string;
  listMapKeys?: string[];
  raw: Record<string, unknown>;
}

export function structural(raw: unknown): StructuralSchema {
  const s = isObject(raw) ? raw : {};
  const node: StructuralSchema = {
    nullable: s.nullable === true,
    preserveUnknownFields: s['x-kubernetes-preserve-unknown-fields'] === true,
    embeddedResource: s['x-kubernetes-embedded-resource'] === true,
    intOrString: s['x-kubernetes-int-or-string'] === true,
    raw: s,
  };
  if (typeof s.type === 'string') node.type = s.type;
  if (isObject(s.properties)) {
    node.properties = {};
    for (const [k, v] of Object.entries(s.properties)) node.properties[k] = structural(v);
  }
  if (isObject(s.additionalProperties)) node.additionalProperties = structural(s.additionalProperties);
  if (isObject(s.items)) node.items = structural(s.items);
  if ('default' in s) node.default = s.default;
  if (typeof s['x-kubernetes-list-type'] === 'string') node.listType = s['x-kubernetes-list-type'];
  if (Array.isArray(s['x-kubernetes-list-map-keys'])) node.listMapKeys = s['x-kubernetes-list-map-keys'] as string[];
  return node;
}

// ObjectMeta as its Go struct decodes it: metadata goes through that struct on the real
// server, so anything else in it (at any depth) is dropped whatever the CRD's schema says.
const STR = { type: 'string' };
const STRING_MAP = { type: 'object', additionalProperties: STR };
const OBJECT_META = structural({
  type: 'object',
  properties: {
    ...Object.fromEntries(['name', 'generateName', 'namespace', 'selfLink', 'uid', 'resourceVersion', 'creationTimestamp', 'deletionTimestamp'].map((k) => [k, STR])),
    generation: { type: 'integer' },
    deletionGracePeriodSeconds: { type: 'integer' },
    labels: STRING_MAP,
    annotations: STRING_MAP,
    finalizers: { type: 'array', items: STR },
    ownerReferences: {
      type: 'array',
      items: { type: 'object', properties: { apiVersion: STR, kind: STR, name: STR, uid: STR, controller: { type: 'boolean' }, blockOwnerDeletion: { type: 'boolean' } } },
    },
    managedFields: {
      type: 'array',
      items: {
        type: 'object',
        properties: { manager: STR, operation: STR, apiVersion: STR, time: STR, fieldsType: STR, subresource: STR, fieldsV1: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
      },
    },
  },
});

/** Where pruning reports what it dropped: the field paths kube-apiserver names in "unknown field" errors. */
export interface PruneTrace {
  /** Dropped from metadata (ObjectMeta's strict decoding reports these first). */
  readonly metadata: string[];
  readonly fields: string[];
}

function child(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

/** structuralpruning.Prune: drops what the schema does not declare; apiVersion, kind, metadata survive at the root and in embedded resources. */
export function prune(x: unknown, s: StructuralSchema | undefined, isRoot = false, trace?: PruneTrace, path = ''): void {
  const dropped = trace && (path === 'metadata' || path.startsWith('metadata.') || path.startsWith('metadata[') ? trace.metadata : trace?.fields);
  if (Array.isArray(x)) {
    x.forEach((v, i) => prune(v, s?.items, false, trace, `${path}[${i}]`));
    return;
  }
  if (!isObject(x)) return;
  const embedded = isRoot || s?.embeddedResource === true;
  // Metadata is coerced through ObjectMeta even where unknown fields are preserved.
  if (embedded) prune(x.metadata, OBJECT_META, false, trace, child(path, 'metadata'));
  if (s?.preserveUnknownFields) {
    for (const [k, v] of Object.entries(x)) {
      const prop = s.properties?.[k] ?? s.additionalProperties;
      if (prop && !(embedded && k === 'metadata')) prune(v, prop, false, trace, child(path, k));
    }
    return;
  }
  for (const [k, v] of Object.entries(x)) {
    if (embedded && (k === 'apiVersion' || k === 'kind') && typeof v === 'string') continue;
    if (embedded && k === 'metadata') continue;
    const prop = s?.properties?.[k] ?? s?.additionalProperties;
    if (prop) prune(v, prop, false, trace, child(path, k));
    else {
      delete x[k];
      dropped?.push(child(path, k));
    }
  }
}

/**
 * The fields a write names that pruning would drop, as kube-apiserver reports them for
 * `fieldValidation` (Warn, Strict): metadata's first, then the rest sorted
 * (structuralpruning.PruneWithOptions sorts them).
 */
export function unknownFieldPaths(obj: unknown, s: StructuralSchema): string[] {
  const trace: PruneTrace = { metadata: [], fields: [] };
  prune(structuredClone(obj), s, true, trace);
  return [...trace.metadata.sort(), ...trace.fields.sort()];
}

/** structuraldefaulting.PruneNonNullableNullsWithoutDefaults. */
export function pruneNulls(x: unknown, s: StructuralSchema | undefined): void {
  if (!s) return;
  if (Array.isArray(x)) {
    for (const v of x) pruneNulls(v, s.items);
    return;
  }
  if (!isObject(x)) return;
  for (const [k, v] of Object.entries(x)) {
    const prop = s.properties?.[k] ?? s.additionalProperties;
    if (!prop) continue;
    if (v === null && prop.default === undefined && !prop.nullable) delete x[k];
    else pruneNulls(v, prop);
  }
}

function nonNullableNull(v: unknown, s: StructuralSchema): boolean {
  return v === null && !s.nullable;
}

/** structuraldefaulting.Default: missing (or non-nullable null) fields take a copy of their default. */
export function applyDefaults(x: unknown, s: StructuralSchema | undefined): void {
  if (!s) return;
  if (Array.isArray(x)) {
    const items = s.items;
    if (!items) return;
    x.forEach((v, i) => {
      if (nonNullableNull(v, items) && items.default !== undefined) x[i] = structuredClone(items.default);
      applyDefaults(x[i], items);
    });
    return;
  }
  if (!isObject(x)) return;
  for (const [k, prop] of Object.entries(s.properties ?? {})) {
    if (prop.default === undefined) continue;
    if (!(k in x) || nonNullableNull(x[k], prop)) x[k] = structuredClone(prop.default);
  }
  for (const [k, v] of Object.entries(x)) {
    const prop = s.properties?.[k];
    if (prop) applyDefaults(v, prop);
    else if (s.additionalProperties) {
      const ap = s.additionalProperties;
      if (nonNullableNull(v, ap) && ap.default !== undefined) x[k] = structuredClone(ap.default);
      applyDefaults(x[k], ap);
    }
  }
}
