// In-memory stand-ins for what the reconcilers write to: the API (finalizers, status),
// the Event recorder and the companion Service API. They apply writes the way the API
// server would (resourceVersion bumps, status only through the status call), decide
// "changed or not" with the same planStatusPatch the real StatusWriter uses, and record
// every write so tests can count them.
import type { V1Ingress, V1Pod, V1Service } from '@kubernetes/client-node';
import type { EventType, InvolvedObject } from '../../src/kube/events.js';
import { ConflictError, planStatusPatch, type ConditionInput, type LoadBalancerIngress, type ObjectOf, type StatusKind, type WriteResult } from '../../src/kube/status.js';
import type { CompanionApi } from '../../src/controller/companions.js';
import type { PodReader } from '../../src/controller/probe-pods.js';
import type { EventSink, KubeWriter } from '../../src/controller/reconcile.js';
import type { Cache } from '../../src/kube/cache.js';
import type { Gateway } from '../../src/kube/gateway-api.js';

type Obj = V1Service | V1Ingress | Gateway;

let rv = 100;
export const nextRv = (): string => String(++rv);

const clone = <T>(o: T): T => structuredClone(o);

export class FakeWriter implements KubeWriter {
  readonly writes: string[] = [];
  /** Called before each write with what it is; a test can throw from it (a 409, a 404) or look at the world. */
  before: ((what: string, obj: Obj) => void) | undefined;

  /** The caches the writes land in, as a watch would deliver them. */
  constructor(private readonly caches: { Service: Cache<V1Service>; Ingress: Cache<V1Ingress>; Gateway?: Cache<Gateway> }) {}

  private cacheOf(kind: StatusKind): Cache<Obj> {
    const c = this.caches[kind];
    if (!c) throw new Error(`no ${kind} cache`);
    return c as Cache<Obj>;
  }

  private land<K extends StatusKind>(kind: K, obj: ObjectOf<K>): ObjectOf<K> {
    this.cacheOf(kind).set(obj);
    return obj;
  }

  private check(what: string, kind: StatusKind, obj: Obj): void {
    this.before?.(what, obj);
    const current = this.cacheOf(kind).get(`${obj.metadata?.namespace}/${obj.metadata?.name}`);
    if (!current) throw Object.assign(new Error('not found'), { code: 404 });
  }

  async ensureFinalizer<K extends StatusKind>(kind: K, obj: ObjectOf<K>, finalizer: string): Promise<WriteResult<ObjectOf<K>>> {
    if (obj.metadata?.finalizers?.includes(finalizer)) return { object: obj, written: false };
    this.check('finalizer', kind, obj);
    const current = this.cacheOf(kind).get(`${obj.metadata?.namespace}/${obj.metadata?.name}`) as Obj;
    if (current.metadata?.resourceVersion !== obj.metadata?.resourceVersion) throw new ConflictError('changed', 409, undefined);
    this.writes.push(`${kind} ${obj.metadata?.name}: add finalizer`);
    const next = clone(current) as ObjectOf<K>;
    next.metadata = { ...next.metadata, finalizers: [...(next.metadata?.finalizers ?? []), finalizer], resourceVersion: nextRv() };
    return { object: this.land(kind, next), written: true };
  }

  async removeFinalizer<K extends StatusKind>(kind: K, obj: ObjectOf<K>, finalizer: string): Promise<WriteResult<ObjectOf<K>>> {
    if (!obj.metadata?.finalizers?.includes(finalizer)) return { object: obj, written: false };
    this.check('unfinalize', kind, obj);
    this.writes.push(`${kind} ${obj.metadata?.name}: remove finalizer`);
    const next = clone(obj);
    next.metadata = { ...next.metadata, finalizers: (next.metadata?.finalizers ?? []).filter((f) => f !== finalizer), resourceVersion: nextRv() };
    // As the API server: deleting and no finalizers left means gone.
    if (next.metadata.deletionTimestamp && next.metadata.finalizers?.length === 0) {
      this.cacheOf(kind).delete(`${obj.metadata?.namespace}/${obj.metadata?.name}`);
      return { object: next, written: true };
    }
    return { object: this.land(kind, next), written: true };
  }

  async patchLoadBalancerStatus<K extends StatusKind>(
    kind: K,
    obj: ObjectOf<K>,
    ingress: readonly LoadBalancerIngress[],
    conditions: readonly ConditionInput[] = [],
    removeConditionTypes: readonly string[] = [],
  ): Promise<WriteResult<ObjectOf<K>>> {
    return this.status(kind, obj, ingress, conditions, removeConditionTypes);
  }

  async clearLoadBalancerStatus<K extends StatusKind>(kind: K, obj: ObjectOf<K>, conditionTypes: readonly string[] = []): Promise<WriteResult<ObjectOf<K>>> {
    return this.status(kind, obj, [], [], conditionTypes);
  }

  async patchAnnotations<K extends StatusKind>(kind: K, obj: ObjectOf<K>, want: Readonly<Record<string, string>>, managed: readonly string[]): Promise<WriteResult<ObjectOf<K>>> {
    const have = obj.metadata?.annotations ?? {};
    const changes = managed.filter((n) => (want[n] === undefined ? n in have : have[n] !== want[n]));
    if (changes.length === 0) return { object: obj, written: false };
    this.check('annotations', kind, obj);
    this.writes.push(`${kind} ${obj.metadata?.name}: annotations`);
    const current = this.cacheOf(kind).get(`${obj.metadata?.namespace}/${obj.metadata?.name}`) as Obj;
    const next = clone(current) as ObjectOf<K>;
    const annotations = { ...(next.metadata?.annotations ?? {}) };
    for (const n of changes) {
      const v = want[n];
      if (v === undefined) delete annotations[n];
      else annotations[n] = v;
    }
    next.metadata = { ...next.metadata, annotations, resourceVersion: nextRv() };
    return { object: this.land(kind, next), written: true };
  }

  private status<K extends StatusKind>(kind: K, obj: ObjectOf<K>, ingress: readonly LoadBalancerIngress[], conditions: readonly ConditionInput[], remove: readonly string[]): WriteResult<ObjectOf<K>> {
    const patch = planStatusPatch(kind, obj, { ingress, conditions, removeConditionTypes: remove }, new Date());
    if (!patch) return { object: obj, written: false };
    this.check('status', kind, obj);
    this.writes.push(`${kind} ${obj.metadata?.name}: status`);
    const current = this.cacheOf(kind).get(`${obj.metadata?.namespace}/${obj.metadata?.name}`) as Obj;
    const next = clone(current) as ObjectOf<K>;
    const status = { ...(next.status ?? {}) } as Record<string, unknown>;
    for (const [k, v] of Object.entries(patch.status)) {
      if (v === null) delete status[k];
      else status[k] = v;
    }
    (next as { status?: unknown }).status = status;
    next.metadata = { ...next.metadata, resourceVersion: nextRv() };
    return { object: this.land(kind, next), written: true };
  }
}

export interface RecordedEvent {
  readonly kind: string;
  readonly name: string;
  readonly type: EventType;
  readonly reason: string;
  readonly message: string;
}

export class FakeEvents implements EventSink {
  readonly list: RecordedEvent[] = [];
  event(target: InvolvedObject, type: EventType, reason: string, message: string): void {
    this.list.push({ kind: target.kind, name: target.name, type, reason, message });
  }
  reasons(name?: string): string[] {
    return this.list.filter((e) => name === undefined || e.name === name).map((e) => e.reason);
  }
}

/** Companion Services created into the Service cache, with node ports handed out from 31000. */
export class FakeCompanionApi implements CompanionApi {
  readonly calls: string[] = [];
  private port = 31000;
  constructor(private readonly services: Cache<V1Service>) {}

  async create(namespace: string, body: V1Service): Promise<V1Service> {
    this.calls.push(`create ${body.metadata?.name}`);
    const svc: V1Service = {
      ...clone(body),
      metadata: { ...clone(body.metadata), namespace, uid: `uid-${body.metadata?.name}`, resourceVersion: nextRv() },
      spec: { ...clone(body.spec), ports: (body.spec?.ports ?? []).map((p) => ({ ...p, nodePort: this.port++ })) },
    };
    this.services.set(svc);
    return svc;
  }

  async read(namespace: string, name: string): Promise<V1Service> {
    const svc = this.services.get(`${namespace}/${name}`);
    if (!svc) throw Object.assign(new Error('not found'), { code: 404 });
    return svc;
  }

  async patch(namespace: string, name: string, ops: object[]): Promise<V1Service> {
    this.calls.push(`patch ${name} ${JSON.stringify(ops.map((o) => (o as { path: string }).path))}`);
    return this.read(namespace, name);
  }

  async delete(namespace: string, name: string): Promise<void> {
    this.calls.push(`delete ${name}`);
    if (!this.services.delete(`${namespace}/${name}`)) throw Object.assign(new Error('not found'), { code: 404 });
  }
}

/** Pods by `ns/name`, read as the API would answer a GET (undefined for a 404); every read is logged. */
export class FakePods implements PodReader {
  readonly pods = new Map<string, V1Pod>();
  readonly reads: string[] = [];

  put(pod: V1Pod): void {
    this.pods.set(`${pod.metadata?.namespace}/${pod.metadata?.name}`, pod);
  }

  async read(namespace: string, name: string): Promise<V1Pod | undefined> {
    this.reads.push(`${namespace}/${name}`);
    return this.pods.get(`${namespace}/${name}`);
  }
}

export const quietLog = { info: () => {}, warn: () => {}, debug: () => {} };
