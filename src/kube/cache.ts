// The indexed store an informer fills. Objects are keyed `namespace/name` (or `name`
// for cluster-scoped kinds), as client-go's MetaNamespaceKeyFunc does, so that keys
// from the store, the work queue and Events all agree.

/** The part of a Kubernetes object the store relies on. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: {
    name?: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    generation?: number;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    finalizers?: string[];
    deletionTimestamp?: Date | string;
  };
}

/** Maps an object to the index values it should be found under (none is fine). */
export type IndexFunc<T> = (obj: T) => string[];

/**
 * Drops metadata.managedFields from an object entering the cache (or held as the answer
 * to a write of lbc's). lbc never reads them (its writes are patches naming their
 * fieldManager), and on a real API server they are often the largest part of a Service
 * or Node, kept for every object the process holds. controller-runtime offers the same as
 * cache.TransformStripManagedFields. A write made from a cached object without them
 * leaves the server's managedFields as they are.
 */
export function withoutManagedFields<T extends KubeObject>(obj: T): T {
  if (obj.metadata && 'managedFields' in obj.metadata) delete (obj.metadata as { managedFields?: unknown }).managedFields;
  return obj;
}

export function objectKey(obj: KubeObject): string {
  const name = obj.metadata?.name;
  if (!name) throw new Error('object has no metadata.name');
  const ns = obj.metadata?.namespace;
  return ns ? `${ns}/${name}` : name;
}

export function splitKey(key: string): { namespace?: string; name: string } {
  const i = key.indexOf('/');
  return i < 0 ? { name: key } : { namespace: key.slice(0, i), name: key.slice(i + 1) };
}

/**
 * Objects handed out are the store's own: callers must treat them as read-only, since
 * copying every object on every read would cost more than the reconciler ever saves.
 */
export class Cache<T extends KubeObject> {
  private readonly items = new Map<string, T>();
  private readonly indexers: ReadonlyMap<string, IndexFunc<T>>;
  // index name -> index value -> keys
  private readonly indices = new Map<string, Map<string, Set<string>>>();
  // key -> index name -> values it was filed under. Kept so that removal does not
  // depend on the old object being unchanged since it was stored.
  private readonly filed = new Map<string, Map<string, string[]>>();

  constructor(indexers: Record<string, IndexFunc<T>> = {}) {
    this.indexers = new Map(Object.entries(indexers));
    for (const name of this.indexers.keys()) this.indices.set(name, new Map());
  }

  get size(): number {
    return this.items.size;
  }

  get(key: string): T | undefined {
    return this.items.get(key);
  }

  has(key: string): boolean {
    return this.items.has(key);
  }

  keys(): string[] {
    return [...this.items.keys()];
  }

  list(): T[] {
    return [...this.items.values()];
  }

  /** Objects whose index function returned `value`. Throws on an unknown index name. */
  byIndex(indexName: string, value: string): T[] {
    return this.indexKeys(indexName, value).map((k) => this.items.get(k) as T);
  }

  indexKeys(indexName: string, value: string): string[] {
    const keys = this.index(indexName).get(value);
    return keys ? [...keys] : [];
  }

  /** The indexes this cache keeps, so that two caches of one kind can be held to the same lookups. */
  indexNames(): string[] {
    return [...this.indexers.keys()];
  }

  /** Every value present in an index, e.g. all node ports in use. */
  indexValues(indexName: string): string[] {
    return [...this.index(indexName).keys()];
  }

  /** Stores `obj` under its key and returns what it replaced. */
  set(obj: T): T | undefined {
    const key = objectKey(obj);
    const old = this.items.get(key);
    this.items.set(key, obj);
    this.refile(key, obj);
    return old;
  }

  /**
   * Files the object at `key` again, for index functions that read more than the object
   * (an Ingress's group comes from its class's params too); returns the values it was
   * filed under in `indexName` before.
   */
  reindex(key: string, indexName: string): string[] {
    const obj = this.items.get(key);
    if (!obj) return [];
    const before = this.filed.get(key)?.get(indexName) ?? [];
    this.unindex(key);
    this.indexObject(key, obj);
    return before;
  }

  delete(key: string): T | undefined {
    const old = this.items.get(key);
    if (!old) return undefined;
    this.unindex(key);
    this.items.delete(key);
    return old;
  }

  clear(): void {
    this.items.clear();
    this.filed.clear();
    for (const idx of this.indices.values()) idx.clear();
  }

  private index(name: string): Map<string, Set<string>> {
    const idx = this.indices.get(name);
    if (!idx) throw new Error(`unknown index ${JSON.stringify(name)}`);
    return idx;
  }

  private indexObject(key: string, obj: T): void {
    const filed = new Map<string, string[]>();
    for (const [name, fn] of this.indexers) {
      const idx = this.index(name);
      const values = distinct(fn(obj));
      filed.set(name, values);
      for (const value of values) {
        let keys = idx.get(value);
        if (!keys) idx.set(value, (keys = new Set()));
        keys.add(key);
      }
    }
    this.filed.set(key, filed);
  }

  // Files a stored object again, touching only the indexes whose values changed: most
  // updates (a finalizer, a status) leave every indexed value as it was, and unfiling and
  // refiling all of them was most of set's time (1.3% of the cold start's samples, #21).
  private refile(key: string, obj: T): void {
    const filed = this.filed.get(key);
    if (!filed) {
      this.indexObject(key, obj);
      return;
    }
    for (const [name, fn] of this.indexers) {
      const found = fn(obj);
      const before = filed.get(name) ?? NONE;
      // before has no value twice, so found equal to it has none either.
      if (sameValues(before, found)) continue;
      const values = distinct(found);
      const idx = this.index(name);
      for (const value of before) this.unfile(idx, value, key);
      for (const value of values) {
        let keys = idx.get(value);
        if (!keys) idx.set(value, (keys = new Set()));
        keys.add(key);
      }
      // A new array, not the old one changed: reindex's caller holds the old one.
      filed.set(name, values);
    }
  }

  private unfile(idx: Map<string, Set<string>>, value: string, key: string): void {
    const keys = idx.get(value);
    if (!keys) return;
    keys.delete(key);
    // Empty buckets would make indexValues() report values no object has.
    if (keys.size === 0) idx.delete(value);
  }

  private unindex(key: string): void {
    const filed = this.filed.get(key);
    if (!filed) return;
    this.filed.delete(key);
    for (const [name, values] of filed) {
      const idx = this.index(name);
      for (const value of values) this.unfile(idx, value, key);
    }
  }
}

const NONE: readonly string[] = Object.freeze([]);

/** The values once each, in their first order; never the index function's own array, which it may reuse. */
function distinct(values: readonly string[]): string[] {
  if (values.length === 0) return NONE as string[];
  if (values.length === 1) return [values[0] as string];
  return [...new Set(values)];
}

function sameValues(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
