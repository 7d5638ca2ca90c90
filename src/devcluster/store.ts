// In-memory object storage with the semantics of kube-apiserver over etcd: one global
// resourceVersion counter, optimistic concurrency, a bounded per-resource change log
// for watch resume (older versions get 410 Expired), finalizer-aware deletion and
// synchronous change notification for devcluster's own controllers.
import { randomBytes, randomUUID } from 'node:crypto';
import {
  ApiError,
  STALE_OBJECT,
  alreadyExists,
  badRequest,
  conflict,
  expired,
  fieldError,
  invalid,
  notFound,
} from './errors.js';
import { clone, isObject, jsonEqual, timestamp, type KObject } from './objects.js';
import { apiVersionOf, resourceId, type ResourceType, type StrategyContext } from './resources.js';
import { validateName } from './names.js';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoreEvent {
  readonly type: WatchEventType;
  /** The object as stored after the change (for DELETED: its last state, with the deletion RV). */
  readonly object: KObject;
  /** The object before the change (absent for ADDED). */
  readonly old?: KObject;
  readonly rv: number;
}

export type StoreListener = (rt: ResourceType, ev: StoreEvent) => void;

export interface DeleteOptions {
  propagationPolicy?: 'Orphan' | 'Background' | 'Foreground';
  preconditions?: { uid?: string; resourceVersion?: string };
  gracePeriodSeconds?: number;
  dryRun?: boolean;
}

export interface WriteOptions {
  dryRun?: boolean;
}

interface Table {
  /** The type whose strategy and listeners own the objects (a CRD's storage version). */
  rt: ResourceType;
  readonly objects: Map<string, KObject>;
  /** The resourceVersion each stored object was created at: paginated lists leave out later ones. */
  readonly createdAt: Map<string, number>;
  /** Change log, oldest first, at most `watchWindow` entries. */
  readonly log: StoreEvent[];
  /** Highest RV dropped from the log: a watch from below it cannot be served. */
  compactedRV: number;
  readonly watchers: Set<(ev: StoreEvent) => void>;
  /** Told when the resource stops being served (its CRD is gone): watches end. */
  readonly closers: Set<() => void>;
}

const GENERATE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

function key(ns: string | undefined, name: string): string {
  return ns ? `${ns}/${name}` : name;
}

export class Store {
  private rv = 1;
  private readonly tables = new Map<ResourceType, Table>();
  private readonly listeners = new Set<StoreListener>();
  private watchWindow: number;
  readonly ctx: StrategyContext;

  constructor(
    resources: ResourceType[],
    opts: { watchWindow?: number; now?: () => Date } = {},
  ) {
    this.watchWindow = opts.watchWindow ?? 5000;
    for (const rt of resources) {
      this.tables.set(rt, { rt, objects: new Map(), createdAt: new Map(), log: [], compactedRV: 0, watchers: new Set(), closers: new Set() });
    }
    const now = opts.now ?? (() => new Date());
    this.ctx = { store: this, now };
  }

  get resources(): ResourceType[] {
    return [...this.tables.keys()];
  }

  /** With `version`, only that version of the resource (a CRD serves several over one table). */
  find(group: string, plural: string, version?: string): ResourceType | undefined {
    for (const rt of this.tables.keys()) {
      if (rt.group === group && rt.plural === plural && (version === undefined || rt.version === version)) return rt;
    }
    return undefined;
  }

  /**
   * Serves a resource type from now on (CRDs). With `sameStorageAs`, it shares that type's
   * objects, change log and watchers: each CRD version is one type over one table, as
   * kube-apiserver keeps every version of a custom resource in one etcd prefix.
   */
  register(rt: ResourceType, sameStorageAs?: ResourceType): void {
    if (this.tables.has(rt)) return;
    const shared = sameStorageAs ? this.table(sameStorageAs) : undefined;
    this.tables.set(rt, shared ?? { rt, objects: new Map(), createdAt: new Map(), log: [], compactedRV: 0, watchers: new Set(), closers: new Set() });
  }

  /** The table's owner becomes `rt` (a CRD update changed its storage version or strategy). */
  own(rt: ResourceType): void {
    this.table(rt).rt = rt;
  }

  /** Stops serving a type; its objects go with the last type over the same table (callers delete them first). */
  unregister(rt: ResourceType): void {
    const t = this.tables.get(rt);
    if (!t) return;
    this.tables.delete(rt);
    const heir = [...this.tables].find(([, ot]) => ot === t)?.[0];
    if (heir && t.rt === rt) t.rt = heir;
    if (!heir) for (const close of [...t.closers]) close();
  }

  findKind(group: string, kind: string): ResourceType | undefined {
    for (const rt of this.tables.keys()) if (rt.group === group && rt.kind === kind) return rt;
    return undefined;
  }

  currentRV(): number {
    return this.rv;
  }

  setWatchWindow(n: number): void {
    this.watchWindow = Math.max(1, n);
    for (const t of this.tables.values()) this.trim(t, true);
  }

  /** In-process observers (devcluster's controllers). Called synchronously after each commit. */
  subscribe(listener: StoreListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private table(rt: ResourceType): Table {
    const t = this.tables.get(rt);
    if (!t) throw new Error(`unknown resource ${resourceId(rt)}`);
    return t;
  }

  /** The stored object itself: callers must not mutate it. */
  peek(rt: ResourceType, ns: string | undefined, name: string): KObject | undefined {
    return this.table(rt).objects.get(key(rt.namespaced ? ns : undefined, name));
  }

  get(rt: ResourceType, ns: string | undefined, name: string): KObject | undefined {
    const o = this.peek(rt, ns, name);
    return o && clone(o);
  }

  /** Stored objects (not copies), ordered as etcd orders keys: by namespace, then name. */
  listRaw(rt: ResourceType, ns?: string): KObject[] {
    const t = this.table(rt);
    const out: KObject[] = [];
    if (rt.namespaced && ns) {
      const prefix = `${ns}/`;
      for (const [k, o] of t.objects) if (k.startsWith(prefix)) out.push(o);
    } else {
      out.push(...t.objects.values());
    }
    return out.sort((a, b) => {
      const ka = key(a.metadata.namespace, a.metadata.name!);
      const kb = key(b.metadata.namespace, b.metadata.name!);
      return ka < kb ? -1 : ka > kb ? 1 : 0;
    });
  }

  /** The resourceVersion at which a stored object was created. */
  createdRV(rt: ResourceType, o: KObject): number {
    return this.table(rt).createdAt.get(key(rt.namespaced ? o.metadata.namespace : undefined, o.metadata.name!)) ?? 0;
  }

  list(rt: ResourceType, ns?: string): KObject[] {
    return this.listRaw(rt, ns).map(clone);
  }

  private commit(t: Table, type: WatchEventType, object: KObject, old: KObject | undefined, rv: number): void {
    const ev: StoreEvent = old ? { type, object, old, rv } : { type, object, rv };
    t.log.push(ev);
    this.trim(t);
    for (const w of t.watchers) w(ev);
    for (const l of this.listeners) l(t.rt, ev);
  }

  /** Drops the oldest log entries in batches (a splice per commit would cost O(window) each time). */
  private trim(t: Table, force = false): void {
    const excess = t.log.length - this.watchWindow;
    if (excess > 0 && (force || excess >= Math.max(1, Math.ceil(this.watchWindow / 8)))) {
      const dropped = t.log.splice(0, excess);
      t.compactedRV = dropped[dropped.length - 1]!.rv;
    }
  }

  private stamp(obj: KObject, rt: ResourceType): void {
    obj.apiVersion = apiVersionOf(rt);
    obj.kind = rt.kind;
  }

  create(rt: ResourceType, input: KObject, opts: WriteOptions = {}): KObject {
    const t = this.table(rt);
    const obj = clone(input);
    if (!isObject(obj.metadata)) obj.metadata = {};
    const meta = obj.metadata;
    this.stamp(obj, rt);
    if (!rt.namespaced) delete meta.namespace;
    if (!meta.name && meta.generateName) {
      let name: string;
      do {
        const bytes = randomBytes(5);
        name = meta.generateName + [...bytes].map((b) => GENERATE_ALPHABET[b % GENERATE_ALPHABET.length]).join('');
      } while (t.objects.has(key(meta.namespace, name)));
      meta.name = name;
    }
    if (!meta.name) {
      throw invalid(rt.kind, rt.group, '', [fieldError.required('metadata.name', 'name or generateName is required')]);
    }
    const nameErrors = validateName(rt.nameRule, meta.name, 'metadata.name');
    if (nameErrors.length) throw invalid(rt.kind, rt.group, meta.name, nameErrors);
    if (t.objects.has(key(meta.namespace, meta.name))) throw alreadyExists({ group: rt.group, plural: rt.plural }, meta.name);
    if (rt.namespaced) this.requireLiveNamespace(meta.namespace!, rt, meta.name);

    delete meta.deletionTimestamp;
    delete meta.deletionGracePeriodSeconds;
    delete meta.managedFields;
    meta.uid = randomUUID();
    meta.creationTimestamp = timestamp(this.ctx.now());
    if (rt.generation) meta.generation = 1;
    else delete meta.generation;
    if (rt.resetStatusOnCreate) {
      if (rt.initialStatus) obj.status = rt.initialStatus();
      else delete obj.status;
    }
    this.validateMeta(rt, obj);
    rt.strategy?.prepareCreate?.(obj, this.ctx);
    if (opts.dryRun) {
      meta.resourceVersion = undefined;
      return obj;
    }
    const rv = ++this.rv;
    meta.resourceVersion = String(rv);
    t.objects.set(key(meta.namespace, meta.name), obj);
    t.createdAt.set(key(meta.namespace, meta.name), rv);
    this.commit(t, 'ADDED', obj, undefined, rv);
    return clone(obj);
  }

  private requireLiveNamespace(ns: string, rt: ResourceType, name: string): void {
    const nsType = this.find('', 'namespaces');
    if (!nsType) return;
    const n = this.peek(nsType, undefined, ns);
    if (!n) throw notFound({ group: '', plural: 'namespaces' }, ns);
    if (n.metadata.deletionTimestamp) {
      throw new ApiError(403, 'Forbidden', `${resourceId(rt)} "${name}" is forbidden: unable to create new content in namespace ${ns} because it is being terminated`, {
        name,
        ...(rt.group ? { group: rt.group } : {}),
        kind: rt.plural,
        causes: [{ reason: 'NamespaceTerminating', message: `namespace ${ns} is being terminated`, field: 'metadata.namespace' }],
      });
    }
  }

  private validateMeta(rt: ResourceType, obj: KObject): void {
    const causes = [];
    const meta = obj.metadata;
    for (const [field, map] of [['labels', meta.labels], ['annotations', meta.annotations]] as const) {
      if (map === undefined || map === null) continue;
      if (!isObject(map)) {
        throw badRequest(`${rt.kind} in version "${rt.version}" cannot be handled as a ${rt.kind}: metadata.${field} must be an object`);
      }
      for (const [k, v] of Object.entries(map)) {
        if (typeof v !== 'string') {
          throw badRequest(`${rt.kind} in version "${rt.version}" cannot be handled as a ${rt.kind}: json: cannot unmarshal ${typeof v} into Go struct field ObjectMeta.metadata.${field} of type string`);
        }
        if (field === 'labels' && !/^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/.test(v)) {
          causes.push(fieldError.invalid(`metadata.labels`, v, "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"));
        }
        if (!/^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/.test(k)) {
          causes.push(fieldError.invalid(`metadata.${field}`, k, "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"));
        }
      }
    }
    if (meta.finalizers !== undefined && !Array.isArray(meta.finalizers)) {
      throw badRequest(`${rt.kind} in version "${rt.version}" cannot be handled as a ${rt.kind}: metadata.finalizers must be an array`);
    }
    (meta.finalizers ?? []).forEach((f, i) => {
      const why = finalizerNameError(f, rt.customResource === true);
      if (why) causes.push(fieldError.invalid(`metadata.finalizers[${i}]`, f, why));
    });
    if (causes.length) throw invalid(rt.kind, rt.group, meta.name ?? '', causes);
  }

  /**
   * PUT semantics. `subresource: 'status'` writes only status; otherwise status is kept
   * from the stored object. An unchanged object is not written again (no new RV, no event),
   * as kube-apiserver skips no-op updates.
   */
  update(rt: ResourceType, input: KObject, opts: WriteOptions & { subresource?: 'status'; ns?: string; name?: string } = {}): KObject {
    const t = this.table(rt);
    const name = opts.name ?? input.metadata?.name;
    const ns = rt.namespaced ? (opts.ns ?? input.metadata?.namespace) : undefined;
    const gr = { group: rt.group, plural: rt.plural };
    if (!name) throw badRequest('name is required');
    const old = t.objects.get(key(ns, name));
    if (!old) throw notFound(gr, name);
    const obj = clone(input);
    if (!isObject(obj.metadata)) obj.metadata = {};
    const meta = obj.metadata;
    this.stamp(obj, rt);
    const wantRV = meta.resourceVersion;
    if (wantRV && wantRV !== old.metadata.resourceVersion) throw conflict(gr, name, STALE_OBJECT);
    if (!wantRV && !rt.unconditionalUpdate) {
      const cause = fieldError.invalid('metadata.resourceVersion', '0x0', 'must be specified for an update');
      cause.message = 'Invalid value: 0x0: must be specified for an update';
      throw invalid(rt.kind, rt.group, name, [cause], resourceId(rt), rt.plural);
    }
    if (meta.uid && meta.uid !== old.metadata.uid) {
      throw conflict(gr, name, `Precondition failed: UID in precondition: ${meta.uid}, UID in object meta: ${old.metadata.uid}`);
    }

    let next: KObject;
    if (opts.subresource === 'status') {
      next = { ...clone(old), status: obj.status };
      if (obj.status === undefined) delete next.status;
    } else {
      next = obj;
      if (rt.statusSubresource) {
        if (old.status === undefined) delete next.status;
        else next.status = clone(old.status);
      }
      // Immutable and server-managed metadata.
      const om = old.metadata;
      meta.name = om.name;
      if (rt.namespaced) meta.namespace = om.namespace;
      else delete meta.namespace;
      meta.uid = om.uid;
      meta.creationTimestamp = om.creationTimestamp;
      if (om.deletionTimestamp) {
        meta.deletionTimestamp = om.deletionTimestamp;
        meta.deletionGracePeriodSeconds = om.deletionGracePeriodSeconds;
      } else {
        delete meta.deletionTimestamp;
        delete meta.deletionGracePeriodSeconds;
      }
      delete meta.generateName;
      if (om.generateName) meta.generateName = om.generateName;
      delete meta.managedFields;
      if (rt.generation) meta.generation = om.generation;
      else delete meta.generation;
      this.validateMeta(rt, next);
      if (om.deletionTimestamp) {
        const added = (meta.finalizers ?? []).filter((f) => !(om.finalizers ?? []).includes(f));
        if (added.length) {
          throw invalid(rt.kind, rt.group, name, [
            fieldError.forbidden('metadata.finalizers', 'no new finalizers can be added if the object is being deleted, found new finalizers []string{' + added.map((f) => JSON.stringify(f)).join(', ') + '}'),
          ]);
        }
      }
      if (meta.finalizers && meta.finalizers.length === 0) delete meta.finalizers;
    }
    next.metadata.resourceVersion = old.metadata.resourceVersion;

    if (opts.subresource === 'status') rt.strategy?.prepareStatusUpdate?.(next, old, this.ctx);
    else {
      if (rt.generation && !jsonEqual(specOf(rt, next), specOf(rt, old))) next.metadata.generation = (old.metadata.generation ?? 0) + 1;
      rt.strategy?.prepareUpdate?.(next, old, this.ctx);
    }
    if (jsonEqual(next, old)) return clone(old);
    if (opts.dryRun) return next;

    if (next.metadata.deletionTimestamp && !this.blocked(rt, next)) {
      return this.remove(t, next, old);
    }
    const rv = ++this.rv;
    next.metadata.resourceVersion = String(rv);
    t.objects.set(key(ns, name), next);
    this.commit(t, 'MODIFIED', next, old, rv);
    return clone(next);
  }

  /** Whether something still holds a deleted object in storage. */
  private blocked(rt: ResourceType, o: KObject): boolean {
    return (o.metadata.finalizers?.length ?? 0) > 0 || (rt.strategy?.pendingFinalizers?.(o).length ?? 0) > 0;
  }

  private remove(t: Table, last: KObject, old: KObject): KObject {
    const rv = ++this.rv;
    const gone = { ...last, metadata: { ...last.metadata, resourceVersion: String(rv) } };
    t.objects.delete(key(gone.metadata.namespace, gone.metadata.name!));
    t.createdAt.delete(key(gone.metadata.namespace, gone.metadata.name!));
    t.rt.strategy?.removed?.(gone, this.ctx);
    this.commit(t, 'DELETED', gone, old, rv);
    return clone(gone);
  }

  /**
   * DELETE semantics: an object with finalizers (or whose propagation policy adds one) is
   * only marked (deletionTimestamp) and stays until its finalizers are gone. Returns the
   * object and whether it is gone from storage.
   */
  delete(rt: ResourceType, ns: string | undefined, name: string, opts: DeleteOptions = {}): { object: KObject; deleted: boolean } {
    const t = this.table(rt);
    const k = key(rt.namespaced ? ns : undefined, name);
    const old = t.objects.get(k);
    const gr = { group: rt.group, plural: rt.plural };
    if (!old) throw notFound(gr, name);
    const pre = opts.preconditions;
    if (pre?.uid && pre.uid !== old.metadata.uid) {
      throw conflict(gr, name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${old.metadata.uid}`);
    }
    if (pre?.resourceVersion && pre.resourceVersion !== old.metadata.resourceVersion) {
      throw conflict(gr, name, `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${old.metadata.resourceVersion}`);
    }
    const finalizers = [...(old.metadata.finalizers ?? [])];
    if (opts.propagationPolicy === 'Orphan' && !finalizers.includes('orphan')) finalizers.push('orphan');
    for (const f of rt.strategy?.finalizersOnDelete?.(old) ?? []) if (!finalizers.includes(f)) finalizers.push(f);
    if (opts.propagationPolicy === 'Foreground' && !finalizers.includes('foregroundDeletion')) finalizers.push('foregroundDeletion');
    const graceful = rt.kind === 'Pod' && rt.group === '' && typeof (old.spec as { nodeName?: string } | undefined)?.nodeName === 'string'
      && (old.spec as { nodeName?: string }).nodeName !== '' && opts.gracePeriodSeconds !== 0;
    const pending = rt.strategy?.pendingFinalizers?.(old) ?? [];
    if (finalizers.length === 0 && pending.length === 0 && !graceful) {
      if (opts.dryRun) return { object: clone(old), deleted: true };
      return { object: this.remove(t, old, old), deleted: true };
    }
    if (old.metadata.deletionTimestamp) {
      if (jsonEqual(finalizers, old.metadata.finalizers ?? []) && !(graceful && opts.gracePeriodSeconds !== undefined)) {
        return { object: clone(old), deleted: false };
      }
    }
    const next = clone(old);
    const now = this.ctx.now();
    if (graceful) {
      const grace = opts.gracePeriodSeconds ?? ((old.spec as { terminationGracePeriodSeconds?: number }).terminationGracePeriodSeconds ?? 30);
      if (!old.metadata.deletionTimestamp) {
        next.metadata.deletionTimestamp = timestamp(new Date(now.getTime() + grace * 1000));
        next.metadata.deletionGracePeriodSeconds = grace;
      }
    } else if (!old.metadata.deletionTimestamp) {
      next.metadata.deletionTimestamp = timestamp(now);
      next.metadata.deletionGracePeriodSeconds = 0;
    }
    if (finalizers.length) next.metadata.finalizers = finalizers;
    rt.strategy?.prepareDelete?.(next, this.ctx);
    if (opts.dryRun) return { object: next, deleted: false };
    const rv = ++this.rv;
    next.metadata.resourceVersion = String(rv);
    t.objects.set(k, next);
    this.commit(t, 'MODIFIED', next, old, rv);
    return { object: clone(next), deleted: false };
  }

  /**
   * Subscribes to one resource's changes after `fromRV` (exclusive). Throws 410 Expired when
   * the log no longer reaches back that far. With `fromRV` undefined, only new changes.
   * `onGone` runs when the resource stops being served (its CRD was deleted).
   */
  watch(rt: ResourceType, fromRV: number | undefined, listener: (ev: StoreEvent) => void, onGone?: () => void): () => void {
    const t = this.table(rt);
    if (fromRV !== undefined) {
      if (fromRV < t.compactedRV) {
        throw expired(`too old resource version: ${fromRV} (${t.compactedRV + 1})`);
      }
      for (const ev of t.log) if (ev.rv > fromRV) listener(ev);
    }
    t.watchers.add(listener);
    if (onGone) t.closers.add(onGone);
    return () => {
      t.watchers.delete(listener);
      if (onGone) t.closers.delete(onGone);
    };
  }
}

const STANDARD_FINALIZERS = new Set(['kubernetes', 'orphan', 'foregroundDeletion']);
const QUALIFIED_PREFIX = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const QUALIFIED_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

/**
 * apimachinery's finalizer rule: a qualified name. Built-in kinds must also be fully
 * qualified (prefix/name) unless standard (kubernetes' validateKubeFinalizerName); a
 * custom resource need not: apiextensions-apiserver validates with apimachinery's rule
 * alone, so Gateway API's own `gateway-exists-finalizer.gateway.networking.k8s.io` is
 * accepted on a GatewayClass (as kube-apiserver v1.26 does, test/e2e/gateway-class.test.ts).
 */
function finalizerNameError(f: string, customResource: boolean): string | undefined {
  const slash = f.indexOf('/');
  const prefix = slash >= 0 ? f.slice(0, slash) : '';
  const name = slash >= 0 ? f.slice(slash + 1) : f;
  if (slash >= 0 && (!prefix || prefix.length > 253 || !QUALIFIED_PREFIX.test(prefix))) {
    return "prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
  }
  if (!name || name.length > 63 || !QUALIFIED_NAME.test(name)) {
    return "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
  }
  if (slash < 0 && !customResource && !STANDARD_FINALIZERS.has(f)) return 'name is neither a standard finalizer name nor is it fully qualified';
  return undefined;
}

/**
 * Everything a generation tracks: all top-level fields but metadata, status and type info;
 * status too for a custom resource without a status subresource (apiextensions-apiserver's
 * strategy compares all but metadata).
 */
function specOf(rt: ResourceType, o: KObject): Record<string, unknown> {
  const { metadata: _m, status, apiVersion: _a, kind: _k, ...rest } = o;
  return rt.customResource && !rt.statusSubresource ? { ...rest, status } : rest;
}

export { ApiError };
