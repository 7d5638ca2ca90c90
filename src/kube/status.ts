// The API writes the reconciler makes on the objects it manages: its finalizer, and
// status.loadBalancer (plus, on Services, status.conditions). Each helper decides
// first whether anything would change and makes one request only if so, so that a
// reconcile with nothing to do writes nothing.
import { PatchStrategy, setHeaderOptions } from './client-node.js';
import type { V1Condition, V1Ingress, V1Service } from '@kubernetes/client-node';
import type { KubeClients, WriteClients } from './client.js';
import { GATEWAY_GROUP, type Gateway } from './gateway-api.js';
import { MAX_CONDITION_MESSAGE, truncate } from './truncate.js';

/** The kinds whose load balancer lbc manages (finalizer and status). */
export type StatusKind = 'Service' | 'Ingress' | 'Gateway';
export type ObjectOf<K extends StatusKind> = K extends 'Service' ? V1Service : K extends 'Ingress' ? V1Ingress : Gateway;

/** A Gateway API kind whose status lbc writes, as the custom objects API addresses it. */
export interface GatewayApiResource {
  readonly version: string;
  readonly plural: string;
  readonly namespaced: boolean;
}

/** One status.loadBalancer.ingress entry, the shape Service and Ingress share. */
export interface LoadBalancerIngress {
  ip?: string;
  hostname?: string;
  /** Service only, API 1.29+; older servers drop it. */
  ipMode?: string;
  ports?: { port: number; protocol: string; error?: string }[];
}

export interface ConditionInput {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  /** CamelCase, as metav1.Condition requires. */
  reason: string;
  message?: string;
  observedGeneration?: number;
}

export interface WriteResult<T> {
  /** The server's copy after the write, or the object passed in when nothing was written. */
  object: T;
  written: boolean;
}

/** A precondition of a patch failed: the object changed since it was read. Re-read and retry. */
export class ConflictError extends Error {
  constructor(
    message: string,
    readonly status: number,
    override readonly cause: unknown,
  ) {
    super(message);
    this.name = 'ConflictError';
  }
}

type Patch = (clients: StatusClients, obj: { name: string; namespace: string }, body: object, contentType: PatchType) => Promise<unknown>;
type PatchType = typeof PatchStrategy.JsonPatch | typeof PatchStrategy.MergePatch;

// One options object per patch type, made once: setHeaderOptions builds a middleware
// chain, and the write clients read the type from each options object only once.
const PATCH_OPTIONS = {
  [PatchStrategy.JsonPatch]: setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
  [PatchStrategy.MergePatch]: setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
};

interface KindInfo {
  /** PATCH on the object itself (metadata.finalizers). */
  patch: Patch;
  /** PATCH on its status subresource. */
  patchStatus: Patch;
  /** Whether the kind has status.conditions: Ingress has none in networking.k8s.io/v1. */
  hasConditions: boolean;
}

export type StatusClients = Pick<KubeClients, 'core' | 'networking'> & Partial<Pick<WriteClients, 'custom'>>;

function customClient(c: StatusClients): NonNullable<WriteClients['custom']> {
  if (!c.custom) throw new Error('no client for custom resources (Gateway API)');
  return c.custom;
}

const GATEWAYS = { group: GATEWAY_GROUP, version: 'v1', plural: 'gateways' };

const KINDS: Record<StatusKind, KindInfo> = {
  Service: {
    patch: (c, o, body, ct) => c.core.patchNamespacedService({ ...o, body }, PATCH_OPTIONS[ct]),
    patchStatus: (c, o, body, ct) => c.core.patchNamespacedServiceStatus({ ...o, body }, PATCH_OPTIONS[ct]),
    hasConditions: true,
  },
  Ingress: {
    patch: (c, o, body, ct) => c.networking.patchNamespacedIngress({ ...o, body }, PATCH_OPTIONS[ct]),
    patchStatus: (c, o, body, ct) => c.networking.patchNamespacedIngressStatus({ ...o, body }, PATCH_OPTIONS[ct]),
    hasConditions: false,
  },
  // A Gateway's status is not status.loadBalancer: controller/gateway/status.ts plans it
  // and patchGatewayApiStatus writes it; only the finalizer goes through `patch`.
  Gateway: {
    // rbac: gateway.networking.k8s.io/gateways
    patch: (c, o, body, ct) => customClient(c).patchNamespacedCustomObject({ ...GATEWAYS, ...o, body }, PATCH_OPTIONS[ct]),
    // rbac: gateway.networking.k8s.io/gateways
    patchStatus: (c, o, body, ct) => customClient(c).patchNamespacedCustomObjectStatus({ ...GATEWAYS, ...o, body }, PATCH_OPTIONS[ct]),
    hasConditions: false,
  },
};

export function hasFinalizer(obj: { metadata?: { finalizers?: string[] } }, finalizer: string): boolean {
  return obj.metadata?.finalizers?.includes(finalizer) ?? false;
}

// No ingress field dropped: one set for every call, not a new one each.
const NONE: ReadonlySet<string> = new Set();

/**
 * Ingress entries as the API server stores them: no empty fields, ports reduced to
 * port/protocol/error. Order is kept: users and tools read the first address.
 */
export function normalizeIngress(list: readonly LoadBalancerIngress[] | undefined, drop: ReadonlySet<string> = NONE): LoadBalancerIngress[] {
  return (list ?? []).map((e) => {
    const out: LoadBalancerIngress = {};
    if (e.ip) out.ip = e.ip;
    if (e.hostname) out.hostname = e.hostname;
    if (e.ipMode && !drop.has('ipMode')) out.ipMode = e.ipMode;
    if (e.ports?.length && !drop.has('ports')) {
      out.ports = e.ports.map((p) => (p.error ? { port: p.port, protocol: p.protocol, error: p.error } : { port: p.port, protocol: p.protocol }));
    }
    return out;
  });
}

/** Exact, order-sensitive equality after normalising both sides. */
export function ingressEqual(a: readonly LoadBalancerIngress[] | undefined, b: readonly LoadBalancerIngress[] | undefined, drop: ReadonlySet<string> = NONE): boolean {
  // Compared field by field as normalizeIngress keeps them, not as two normalised copies
  // written out as JSON: planStatusPatch runs for every status write (#21).
  const x = a ?? [];
  const y = b ?? [];
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (!entryEqual(x[i] as LoadBalancerIngress, y[i] as LoadBalancerIngress, drop)) return false;
  return true;
}

// A field normalizeIngress keeps only when it is non-empty.
const nonEmpty = <T>(v: T | undefined): T | undefined => (v ? v : undefined);

function entryEqual(a: LoadBalancerIngress, b: LoadBalancerIngress, drop: ReadonlySet<string>): boolean {
  if (nonEmpty(a.ip) !== nonEmpty(b.ip) || nonEmpty(a.hostname) !== nonEmpty(b.hostname)) return false;
  if (!drop.has('ipMode') && nonEmpty(a.ipMode) !== nonEmpty(b.ipMode)) return false;
  if (drop.has('ports')) return true;
  const ap = a.ports?.length ? a.ports : [];
  const bp = b.ports?.length ? b.ports : [];
  if (ap.length !== bp.length) return false;
  for (let i = 0; i < ap.length; i++) {
    const p = ap[i] as NonNullable<LoadBalancerIngress['ports']>[number];
    const q = bp[i] as NonNullable<LoadBalancerIngress['ports']>[number];
    if (p.port !== q.port || p.protocol !== q.protocol || nonEmpty(p.error) !== nonEmpty(q.error)) return false;
  }
  return true;
}

/**
 * Sets the desired conditions (by type) on the existing list, keeping the others and
 * their order. lastTransitionTime moves only when a condition's status changes.
 */
export function mergeConditions(
  existing: readonly V1Condition[] | undefined,
  desired: readonly ConditionInput[],
  now: Date,
): { conditions: V1Condition[]; changed: boolean } {
  const out = (existing ?? []).map((c) => ({ ...c }));
  let changed = false;
  for (const d of desired) {
    const want: V1Condition = {
      type: d.type,
      status: d.status,
      reason: d.reason,
      // Messages quote user input (annotation values): a condition must stay within its schema.
      message: truncate(d.message ?? '', MAX_CONDITION_MESSAGE),
      lastTransitionTime: now,
      ...(d.observedGeneration !== undefined ? { observedGeneration: d.observedGeneration } : {}),
    };
    const i = out.findIndex((c) => c.type === d.type);
    const cur = out[i];
    if (!cur) {
      out.push(want);
      changed = true;
    } else if (cur.status !== want.status) {
      out[i] = want;
      changed = true;
    } else if (cur.reason !== want.reason || (cur.message ?? '') !== want.message || cur.observedGeneration !== want.observedGeneration) {
      out[i] = { ...want, lastTransitionTime: cur.lastTransitionTime };
      changed = true;
    }
  }
  return { conditions: out, changed };
}

export interface DesiredStatus {
  ingress: readonly LoadBalancerIngress[];
  conditions?: readonly ConditionInput[];
  /** Condition types to take off (Service only). */
  removeConditionTypes?: readonly string[];
}

/**
 * The merge patch (for the status subresource) that takes `obj` to the desired
 * status, or undefined when it already has it: the single place that decides whether
 * a status write is needed. `drop` names ingress fields the server does not store.
 */
export function planStatusPatch(
  kind: StatusKind,
  obj: V1Service | V1Ingress | Gateway,
  want: DesiredStatus,
  now: Date,
  drop: ReadonlySet<string> = NONE,
): { status: Record<string, unknown> } | undefined {
  if (kind === 'Gateway') return planGatewayClear(obj as Gateway, want);
  const status: Record<string, unknown> = {};
  const desired = normalizeIngress(want.ingress, drop);
  const current = (obj as V1Service | V1Ingress).status?.loadBalancer?.ingress as LoadBalancerIngress[] | undefined;
  if (!ingressEqual(current, desired, drop)) status.loadBalancer = { ingress: desired.length ? desired : null };
  if (KINDS[kind].hasConditions) {
    const existing = (obj as V1Service).status?.conditions;
    const remove = want.removeConditionTypes ?? [];
    const kept = existing?.filter((c) => !remove.includes(c.type));
    const merged = mergeConditions(kept, want.conditions ?? [], now);
    if (merged.changed || kept?.length !== existing?.length) {
      status.conditions = merged.conditions.length ? merged.conditions.map(serializeCondition) : null;
    }
  }
  return Object.keys(status).length ? { status } : undefined;
}

/**
 * A Gateway carries no status.loadBalancer: what the load-balancer lifecycle asks to
 * write there is not written (the Gateway reconciler writes addresses and conditions
 * itself, controller/gateway/status.ts). Clearing (the Gateway is no longer lbc's) takes
 * away the addresses, listeners and conditions lbc wrote.
 */
function planGatewayClear(obj: Gateway, want: DesiredStatus): { status: Record<string, unknown> } | undefined {
  const cur = obj.status ?? {};
  const clearing = want.ingress.length === 0 && want.removeConditionTypes !== undefined;
  if (!clearing || ((cur.addresses ?? []).length === 0 && (cur.listeners ?? []).length === 0 && (cur.conditions ?? []).length === 0)) return undefined;
  return { status: { addresses: null, listeners: null, conditions: null } };
}

/**
 * How many of lbc's finalizer, status and annotation writes are waiting for the API
 * server. The Event recorder holds its writes while any are (controller.ts): the
 * addresses users wait for get the API server first, the Events follow.
 */
export class WritesInFlight {
  private n = 0;
  private movedAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly now: () => number = Date.now) {}

  get count(): number {
    return this.n;
  }

  /** Whether a write started or ended within the last ms: a backlog still draining, not a stuck one. */
  movedWithin(ms: number): boolean {
    return this.now() - this.movedAt < ms;
  }

  async track<T>(write: () => Promise<T>): Promise<T> {
    this.n++;
    this.movedAt = this.now();
    try {
      return await write();
    } finally {
      this.n--;
      this.movedAt = this.now();
    }
  }
}

export interface StatusWriterOptions {
  now?: () => Date;
  /** Counts this writer's requests while they are in flight; shared by the writers of one controller. */
  inFlight?: WritesInFlight;
}

export class StatusWriter {
  private readonly clients: StatusClients;
  private readonly now: () => Date;
  // Ingress entry fields this API server turned out not to store (ipMode before 1.29).
  // Left in, they would make every later comparison differ and every reconcile write.
  private readonly unsupported: Record<StatusKind, Set<string>> = { Service: new Set(), Ingress: new Set(), Gateway: new Set() };

  private readonly inFlight: WritesInFlight;

  constructor(clients: StatusClients, opts: StatusWriterOptions = {}) {
    this.clients = clients;
    this.now = opts.now ?? (() => new Date());
    this.inFlight = opts.inFlight ?? new WritesInFlight();
  }

  /**
   * Adds `finalizer` unless present. The JSON patch tests resourceVersion, so if the
   * object changed since it was read the write fails with ConflictError instead of
   * overwriting someone else's finalizer list.
   */
  async ensureFinalizer<K extends StatusKind>(kind: K, obj: ObjectOf<K>, finalizer: string): Promise<WriteResult<ObjectOf<K>>> {
    if (hasFinalizer(obj, finalizer)) return { object: obj, written: false };
    if (obj.metadata?.deletionTimestamp) {
      throw new Error(`${kind} ${ref(obj)} is being deleted; the API server refuses new finalizers`);
    }
    const add = obj.metadata?.finalizers?.length
      ? { op: 'add', path: '/metadata/finalizers/-', value: finalizer }
      : { op: 'add', path: '/metadata/finalizers', value: [finalizer] };
    const object = await this.jsonPatch(kind, obj, [precondition(obj), add]);
    return { object, written: true };
  }

  /** Removes `finalizer` if present, with the same precondition as ensureFinalizer. */
  async removeFinalizer<K extends StatusKind>(kind: K, obj: ObjectOf<K>, finalizer: string): Promise<WriteResult<ObjectOf<K>>> {
    const i = obj.metadata?.finalizers?.indexOf(finalizer) ?? -1;
    if (i < 0) return { object: obj, written: false };
    const object = await this.jsonPatch(kind, obj, [
      precondition(obj),
      { op: 'test', path: `/metadata/finalizers/${i}`, value: finalizer },
      { op: 'remove', path: `/metadata/finalizers/${i}` },
    ]);
    return { object, written: true };
  }

  /**
   * Writes status.loadBalancer.ingress and, on Services, the given conditions, as one
   * merge patch to the status subresource, only if either differs from `obj`.
   * Ingress (networking.k8s.io/v1) has no status.conditions: conditions passed for an
   * Ingress are ignored, and belong in Events instead.
   */
  async patchLoadBalancerStatus<K extends StatusKind>(
    kind: K,
    obj: ObjectOf<K>,
    ingress: readonly LoadBalancerIngress[],
    conditions: readonly ConditionInput[] = [],
    removeConditionTypes: readonly string[] = [],
  ): Promise<WriteResult<ObjectOf<K>>> {
    return this.writeStatus(kind, obj, { ingress, conditions, removeConditionTypes });
  }

  /**
   * Empties status.loadBalancer and removes lbc's conditions, for an object that is no
   * longer lbc's or whose load balancer is gone; one request, only if needed.
   */
  async clearLoadBalancerStatus<K extends StatusKind>(
    kind: K,
    obj: ObjectOf<K>,
    conditionTypes: readonly string[] = [],
  ): Promise<WriteResult<ObjectOf<K>>> {
    return this.writeStatus(kind, obj, { ingress: [], removeConditionTypes: conditionTypes });
  }

  /**
   * Writes a Gateway API object's whole status (planned by controller/gateway/status.ts)
   * with its resourceVersion as a precondition: a route's status.parents is shared with
   * other Gateways and controllers, so a write over a newer copy would drop their entries.
   * A conflict comes back as ConflictError.
   */
  async patchGatewayApiStatus<T extends { metadata?: { name?: string; namespace?: string; resourceVersion?: string } }>(
    resource: GatewayApiResource,
    obj: T,
    status: object,
  ): Promise<WriteResult<T>> {
    const c = customClient(this.clients);
    const name = obj.metadata?.name ?? '';
    const body = { metadata: { resourceVersion: obj.metadata?.resourceVersion }, status };
    const target = { group: GATEWAY_GROUP, version: resource.version, plural: resource.plural, name, body };
    try {
      const object = (await this.inFlight.track(() =>
        resource.namespaced
          ? // rbac: gateway.networking.k8s.io/gateways gateway.networking.k8s.io/httproutes gateway.networking.k8s.io/grpcroutes gateway.networking.k8s.io/tlsroutes gateway.networking.k8s.io/tcproutes gateway.networking.k8s.io/udproutes
            c.patchNamespacedCustomObjectStatus({ ...target, namespace: obj.metadata?.namespace ?? '' }, PATCH_OPTIONS[PatchStrategy.MergePatch])
          : // rbac: gateway.networking.k8s.io/gatewayclasses
            c.patchClusterCustomObjectStatus(target, PATCH_OPTIONS[PatchStrategy.MergePatch]),
      )) as T;
      return { object, written: true };
    } catch (err) {
      if ((err as { code?: unknown }).code === 409) throw new ConflictError(`${resource.plural} ${ref(obj)} changed since resourceVersion ${obj.metadata?.resourceVersion}`, 409, err);
      throw err;
    }
  }

  /**
   * Adds (`present`) or removes `finalizer` on a cluster-scoped Gateway API object (a
   * GatewayClass), one JSON patch tested against its resourceVersion as ensureFinalizer
   * does; no request when it already is as asked. A conflict comes back as ConflictError.
   */
  async setClusterFinalizer<T extends { metadata?: { name?: string; resourceVersion?: string; finalizers?: string[]; deletionTimestamp?: unknown } }>(
    resource: GatewayApiResource,
    obj: T,
    finalizer: string,
    present: boolean,
  ): Promise<WriteResult<T>> {
    const list = obj.metadata?.finalizers ?? [];
    const i = list.indexOf(finalizer);
    if (present === i >= 0) return { object: obj, written: false };
    const name = obj.metadata?.name ?? '';
    if (present && obj.metadata?.deletionTimestamp) throw new Error(`${resource.plural} ${name} is being deleted; the API server refuses new finalizers`);
    const ops = present
      ? [precondition(obj), list.length > 0 ? { op: 'add', path: '/metadata/finalizers/-', value: finalizer } : { op: 'add', path: '/metadata/finalizers', value: [finalizer] }]
      : [precondition(obj), { op: 'test', path: `/metadata/finalizers/${i}`, value: finalizer }, { op: 'remove', path: `/metadata/finalizers/${i}` }];
    try {
      // rbac: gateway.networking.k8s.io/gatewayclasses
      const object = (await customClient(this.clients).patchClusterCustomObject({ group: GATEWAY_GROUP, version: resource.version, plural: resource.plural, name, body: ops }, PATCH_OPTIONS[PatchStrategy.JsonPatch])) as T;
      return { object, written: true };
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (code === 409 || (code === 422 && !hasCauses(err))) throw new ConflictError(`${resource.plural} ${name} changed since resourceVersion ${obj.metadata?.resourceVersion}`, code, err);
      throw err;
    }
  }

  /**
   * Sets the `managed` annotations to `want` (one absent from `want` is removed), as one
   * merge patch on the object, only if any differs. Annotations outside `managed` are
   * not touched, so a user's own stay as they are.
   */
  async patchAnnotations<K extends StatusKind>(kind: K, obj: ObjectOf<K>, want: Readonly<Record<string, string>>, managed: readonly string[]): Promise<WriteResult<ObjectOf<K>>> {
    const have = obj.metadata?.annotations ?? {};
    const patch: Record<string, string | null> = {};
    for (const name of managed) {
      const value = want[name];
      if (value === undefined ? name in have : have[name] !== value) patch[name] = value ?? null;
    }
    if (Object.keys(patch).length === 0) return { object: obj, written: false };
    const object = (await this.inFlight.track(() => KINDS[kind].patch(this.clients, nameOf(obj), { metadata: { annotations: patch } }, PatchStrategy.MergePatch))) as ObjectOf<K>;
    return { object, written: true };
  }

  private async writeStatus<K extends StatusKind>(kind: K, obj: ObjectOf<K>, want: DesiredStatus): Promise<WriteResult<ObjectOf<K>>> {
    const patch = planStatusPatch(kind, obj, want, this.now(), this.unsupported[kind]);
    if (!patch) return { object: obj, written: false };
    const object = (await this.inFlight.track(() => KINDS[kind].patchStatus(this.clients, nameOf(obj), patch, PatchStrategy.MergePatch))) as ObjectOf<K>;
    if (kind !== 'Gateway') {
      const stored = (object as V1Service | V1Ingress).status?.loadBalancer?.ingress as LoadBalancerIngress[] | undefined;
      this.learnDropped(kind, normalizeIngress(want.ingress, this.unsupported[kind]), stored);
    }
    // The API server stores nothing for a patch that changes nothing it keeps (ipMode
    // before 1.29, sent once until it has been learned) and leaves the resourceVersion
    // where it was: no write happened, and no Event may say one did.
    const rv = obj.metadata?.resourceVersion;
    return { object, written: rv === undefined || object.metadata?.resourceVersion !== rv };
  }

  private async jsonPatch<K extends StatusKind>(kind: K, obj: ObjectOf<K>, ops: object[]): Promise<ObjectOf<K>> {
    try {
      return (await this.inFlight.track(() => KINDS[kind].patch(this.clients, nameOf(obj), ops, PatchStrategy.JsonPatch))) as ObjectOf<K>;
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      // A failed JSON-patch `test` comes back as a bare 422 Invalid, and 409 when the
      // object changed between the server's read and its write. A 422 that lists
      // causes is a real validation error (say, a malformed finalizer name).
      if (code === 409 || (code === 422 && !hasCauses(err))) {
        throw new ConflictError(`${kind} ${ref(obj)} changed since resourceVersion ${obj.metadata?.resourceVersion}`, code, err);
      }
      throw err;
    }
  }

  private learnDropped(kind: StatusKind, sent: LoadBalancerIngress[], stored: LoadBalancerIngress[] | undefined): void {
    const got = normalizeIngress(stored);
    if (got.length !== sent.length) return;
    sent.forEach((e, i) => {
      for (const field of Object.keys(e)) {
        if (!(field in (got[i] ?? {}))) this.unsupported[kind].add(field);
      }
    });
  }
}

export function hasCauses(err: unknown): boolean {
  let body = (err as { body?: unknown }).body;
  if (typeof body === 'string') {
    try {
      body = JSON.parse(body);
    } catch {
      return false;
    }
  }
  const causes = (body as { details?: { causes?: unknown[] } } | undefined)?.details?.causes;
  return Array.isArray(causes) && causes.length > 0;
}

export function precondition(obj: { metadata?: { resourceVersion?: string } }): object {
  const rv = obj.metadata?.resourceVersion;
  if (!rv) throw new Error('object has no resourceVersion to patch against');
  return { op: 'test', path: '/metadata/resourceVersion', value: rv };
}

function nameOf(obj: { metadata?: { name?: string; namespace?: string } }): { name: string; namespace: string } {
  const name = obj.metadata?.name;
  const namespace = obj.metadata?.namespace;
  if (!name || !namespace) throw new Error('object needs metadata.name and metadata.namespace');
  return { name, namespace };
}

function ref(obj: { metadata?: { name?: string; namespace?: string } }): string {
  return `${obj.metadata?.namespace ?? ''}/${obj.metadata?.name ?? ''}`;
}

// metav1.Time has second precision; sending milliseconds would not round-trip.
function serializeCondition(c: V1Condition): Record<string, unknown> {
  const t = c.lastTransitionTime as Date | string;
  // toISOString always ends in `.sssZ`: cut, where a regular expression replaced it (#21).
  return { ...c, lastTransitionTime: typeof t === 'string' ? t : `${t.toISOString().slice(0, -5)}Z` };
}
