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

// ObjectMeta's JSON fields: metadata goes through the Go struct on the real server, so
// anything else in it is dropped whatever the schema says.
const OBJECT_META_FIELDS = new Set([
  'name', 'generateName', 'namespace', 'selfLink', 'uid', 'resourceVersion', 'generation', 'creationTimestamp',
  'deletionTimestamp', 'deletionGracePeriodSeconds', 'labels', 'annotations', 'ownerReferences', 'finalizers', 'managedFields',
]);

function pruneMetadata(meta: unknown): void {
  if (!isObject(meta)) return;
  for (const k of Object.keys(meta)) if (!OBJECT_META_FIELDS.has(k)) delete meta[k];
}

/** structuralpruning.Prune: drops what the schema does not declare; apiVersion, kind, metadata survive at the root and in embedded resources. */
export function prune(x: unknown, s: StructuralSchema | undefined, isRoot = false): void {
  if (Array.isArray(x)) {
    for (const v of x) prune(v, s?.items);
    return;
  }
  if (!isObject(x)) return;
  const embedded = isRoot || s?.embeddedResource === true;
  // Metadata is coerced through ObjectMeta even where unknown fields are preserved.
  if (embedded) pruneMetadata(x.metadata);
  if (s?.preserveUnknownFields) {
    for (const [k, v] of Object.entries(x)) {
      const prop = s.properties?.[k] ?? s.additionalProperties;
      if (prop && !(embedded && k === 'metadata')) prune(v, prop);
    }
    return;
  }
  for (const [k, v] of Object.entries(x)) {
    if (embedded && (k === 'apiVersion' || k === 'kind') && typeof v === 'string') continue;
    if (embedded && k === 'metadata') continue;
    const prop = s?.properties?.[k] ?? s?.additionalProperties;
    if (prop) prune(v, prop);
    else delete x[k];
  }
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
