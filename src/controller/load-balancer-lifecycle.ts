// One load balancer's lifecycle, the same whichever object asks for it (a Service, an
// Ingress group, a Gateway): lbc's finalizer before the first provider call, the
// ensure and what it tells (Ensuring/Ensured/Updated, provider notices), a failure's
// classification, Event, partial status and retry gate, deletion and release of the
// objects, and the record of what was last applied. A reconciler decides what the
// objects ask for (its model builder, its members); this decides how it is carried out,
// so that a third kind of object is a third user of it rather than a third copy.
import { hasFinalizer, type ConditionInput, type ObjectOf, type StatusKind } from '../kube/status.js';
import type { LbRef } from '../model/ref.js';
import type { LoadBalancerSpec } from '../model/spec.js';
import type { InvolvedObject } from '../kube/events.js';
import type { LoadBalancerStatus, ProviderNotice } from '../model/status.js';
import { PartialEnsureError, type Provider } from '../providers/types.js';
import { DeletedLoadBalancer, DeletingLoadBalancer, EnsuredLoadBalancer, EnsuringLoadBalancer, SyncLoadBalancerFailed, UpdatedLoadBalancer } from './events.js';
import type { OwnWrites } from './own-writes.js';
import {
  abortedByLbc,
  callProvider,
  classifyProviderFailure,
  currentIngress,
  DONE,
  FINALIZER,
  involved,
  keyOf,
  RetryGate,
  specDigests,
  targetTypesOf,
  toLoadBalancerIngress,
  type AppliedLb,
  type Flight,
  type LogSubject,
  type Outcome,
  type ReconcilerEnv,
} from './reconcile.js';

export interface LifecycleDeps<K extends StatusKind> extends ReconcilerEnv {
  readonly kind: K;
  /** The status condition this kind carries (Services); Ingress status has none, so its failures are told by Events only. */
  readonly readyCondition?: string;
  /** Other condition types lbc writes on the kind; taken off with the ready one when an object is released. */
  readonly otherConditions?: readonly string[];
  /** The freshest copy of an object by `ns/name` (our last write, else the cache). */
  latest(key: string): ObjectOf<K> | undefined;
  readonly fresh: OwnWrites<ObjectOf<K>>;
  /** The object(s) a lifecycle key names, for logs. */
  subject(key: string, provider?: string): LogSubject;
}

export type EnsureKind =
  /** First ensure for this key (by this process): Ensuring + Ensured. */
  | 'create'
  /** Something other than the targets changed: Ensuring + Ensured, as upstream. */
  | 'update'
  /** Only the targets moved: one UpdatedLoadBalancer, as upstream's node sync. */
  | 'targets'
  /** The objects already carried the finalizer when this process first saw them (a restart): quiet unless the status changes. */
  | 'adopt';

export interface EnsureRequest<K extends StatusKind> {
  /** The objects the load balancer serves; each gets the finalizer before the provider is called. */
  readonly objects: readonly ObjectOf<K>[];
  readonly provider: Provider;
  readonly spec: LoadBalancerSpec;
  /** Whether every object carried the finalizer before this reconcile touched it. */
  readonly adopted: boolean;
  /** Objects a provider notice is told on besides `objects` (a Gateway's notice about one route: that route). */
  readonly noticeTargets?: (notice: ProviderNotice) => readonly InvolvedObject[];
}

export type EnsureResult<K extends StatusKind> =
  | {
      readonly ok: true;
      readonly status: LoadBalancerStatus;
      /** Undefined when nothing changed and the provider was not called. */
      readonly kind: EnsureKind | undefined;
      /** The objects as the finalizer writes returned them. */
      readonly objects: readonly ObjectOf<K>[];
    }
  | {
      readonly ok: false;
      readonly outcome: Outcome;
      /**
       * The provider's refusal while it stands, also while the retry gate holds the next try
       * back: what a Gateway's Programmed condition says (GKE's Gateway controller puts the
       * cloud's error there too).
       */
      readonly failure?: string;
    };

export interface TeardownRequest<K extends StatusKind> {
  /** Objects that still hold the finalizer: told, then released once the LB is gone. */
  readonly leaving: readonly ObjectOf<K>[];
  /** The LB to delete when no record says it (a restart); undefined when nothing identifies one. */
  readonly ref: LbRef | undefined;
  /** Why, for the log line. */
  readonly why: string;
  /** Runs after the provider deleted the LB and before the objects are released (an Ingress's companions). */
  readonly beforeRelease?: () => Promise<unknown>;
}

export class LoadBalancerLifecycle<K extends StatusKind> {
  private readonly applied = new Map<string, AppliedLb>();
  // The last problem reported per key, so a resync does not repeat the Event.
  private readonly reported = new Map<string, string>();
  // Keys whose deletion has been announced (DeletingLoadBalancer) and not yet finished.
  private readonly deleting = new Set<string>();
  /**
   * UIDs of the objects this process has served while they carried lbc's finalizer.
   * Every lbc instance uses the same finalizer name, so on an object that is now
   * addressed to another controller the finalizer alone cannot say whose it is; this
   * can, for the objects this process served. See ownership.ts.
   */
  private readonly held = new Set<string>();
  /**
   * UIDs of the objects whose finalizer this process put on and whose load balancer it
   * has not yet ensured. A reconcile may add the finalizer and then stop before the
   * provider (a missing BackendConfig, a failed call): the next one sees the finalizer,
   * but the object was never served, so its first success is a creation, not an adoption.
   */
  private readonly finalizedHere = new Set<string>();
  private readonly retry = new RetryGate();
  /** The last ensure failure per key, until an ensure or delete succeeds. */
  private readonly failures = new Map<string, string>();

  constructor(private readonly deps: LifecycleDeps<K>) {}

  record(key: string): Readonly<AppliedLb> | undefined {
    return this.applied.get(key);
  }

  /** The versions of everything the key's spec was built from, when they alone decide it (a resync then skips the build). */
  noteInputs(key: string, inputs: string): void {
    const rec = this.applied.get(key);
    if (rec) rec.inputs = inputs;
  }

  /**
   * Something the provider decides from has changed (its address pools): every key it
   * serves calls it again at its next reconcile, even with an unchanged spec, and stays
   * quiet unless its status changes (as after a restart). Returns those keys.
   */
  reensure(provider: string): string[] {
    const keys: string[] = [];
    for (const [key, rec] of this.applied) {
      if (rec.provider !== provider) continue;
      delete rec.hash;
      delete rec.inputs;
      keys.push(key);
    }
    return keys;
  }

  keysWithInstanceTargets(): string[] {
    return [...this.applied].filter(([, a]) => a.usesInstanceTargets).map(([k]) => k);
  }

  usesIpTargets(key: string): boolean {
    return this.applied.get(key)?.usesIpTargets ?? false;
  }

  deferRetry(key: string, atMs: number): void {
    this.retry.deferUntil(key, atMs);
  }

  retryNow(key: string): void {
    this.retry.clear(key);
  }

  /** Whether this process served the object while it carried lbc's finalizer. */
  holds(obj: ObjectOf<K>): boolean {
    return this.held.has(obj.metadata?.uid ?? '');
  }

  tell(objects: readonly ObjectOf<K>[], type: 'Normal' | 'Warning', reason: string, message: string): void {
    for (const obj of objects) this.deps.events.event(involved(this.deps.kind, obj), type, reason, message);
  }

  /** A Warning (and a log line) once per distinct problem, so a resync does not repeat it. */
  report(key: string, objects: readonly ObjectOf<K>[], message: string): void {
    if (this.reported.get(key) === message) return;
    this.reported.set(key, message);
    this.tell(objects, 'Warning', SyncLoadBalancerFailed, `Error syncing load balancer: ${message}`);
    this.deps.log.warn(`${this.deps.kind} ${key}: ${message}`, this.deps.subject(key, this.applied.get(key)?.provider));
  }

  /** The next ensure of key calls the provider though the spec is the same, to read what the provider reports now. */
  recheck(key: string): void {
    const rec = this.applied.get(key);
    if (rec) rec.recheck = true;
  }

  /** The key's last problem is over: the next one is reported again. */
  resolved(key: string): void {
    this.reported.delete(key);
  }

  /**
   * Bad input: reported once, and on kinds with a condition, the condition says so on
   * every object. No provider call; the existing LB stays. Nothing will change until
   * an object does, and that change queues the key.
   */
  async invalid(key: string, objects: readonly ObjectOf<K>[], message: string): Promise<Outcome> {
    this.report(key, objects, message);
    const type = this.deps.readyCondition;
    if (type) for (const obj of objects) await this.patchStatus(obj, currentIngress(obj), [{ type, status: 'False', reason: 'InvalidConfiguration', message }]);
    return DONE;
  }

  /** Adds the finalizer where it is missing: from here on, deleting an object waits for lbc. */
  async ensureFinalizers(objects: readonly ObjectOf<K>[]): Promise<ObjectOf<K>[]> {
    const out: ObjectOf<K>[] = [];
    for (const obj of objects) {
      let o = obj;
      if (!hasFinalizer(o, FINALIZER)) {
        const before = o;
        o = (await this.deps.fresh.write(keyOf(before), () => this.deps.writer.ensureFinalizer(this.deps.kind, before, FINALIZER), (w) => w.object)).object;
        this.finalizedHere.add(o.metadata?.uid ?? '');
      }
      this.held.add(o.metadata?.uid ?? '');
      out.push(o);
    }
    return out;
  }

  /**
   * Ensures the LB for key unless the spec is the one last ensured: finalizers first,
   * the record before the call (if the objects vanish meanwhile, it is how we find
   * what to delete), then the provider, bounded by the timeout and the retry gate.
   */
  async ensure(key: string, req: EnsureRequest<K>, flight: Flight): Promise<EnsureResult<K>> {
    const { deps } = this;
    const { provider, spec } = req;
    const { hash, shape } = specDigests(spec);
    const prev = this.applied.get(key);
    const recheck = prev?.hash === hash && prev.recheck === true;
    if (prev?.hash === hash && prev.status && !recheck && req.objects.every((o) => hasFinalizer(o, FINALIZER))) {
      for (const o of req.objects) this.held.add(o.metadata?.uid ?? '');
      return { ok: true, status: prev.status, kind: undefined, objects: req.objects };
    }
    const digest = `ensure:${hash}`;
    const wait = this.retry.wait(key, digest);
    if (wait > 0) {
      const failure = this.failures.get(key);
      return { ok: false, outcome: { kind: 'wait', afterMs: wait }, ...(failure !== undefined ? { failure } : {}) };
    }
    // A recheck changes nothing the user asked for: it tells no Event of a change.
    const adopted = req.adopted && !req.objects.some((o) => this.finalizedHere.has(o.metadata?.uid ?? ''));
    const kind: EnsureKind | undefined = recheck ? undefined : !prev?.hash ? (adopted ? 'adopt' : 'create') : prev.shape === shape ? 'targets' : 'update';
    const objects = await this.ensureFinalizers(req.objects);
    if (kind === 'create' || kind === 'update') this.tell(objects, 'Normal', EnsuringLoadBalancer, 'Ensuring load balancer');
    const rec: AppliedLb = { ref: spec.ref, provider: provider.name, ...targetTypesOf(spec) };
    this.applied.set(key, rec);
    let status: LoadBalancerStatus;
    try {
      status = await callProvider(provider.name, flight, deps.providerTimeoutMs, (s) => provider.ensure(spec, { signal: s }));
    } catch (e) {
      const outcome = await this.ensureFailed(key, objects, provider, e, flight, digest);
      const failure = this.failures.get(key);
      return { ok: false, outcome, ...(failure !== undefined ? { failure } : {}) };
    }
    this.retry.clear(key);
    this.failures.delete(key);
    for (const o of objects) this.finalizedHere.delete(o.metadata?.uid ?? '');
    rec.hash = hash;
    rec.shape = shape;
    rec.status = status;
    // Told here, before a status write can fail, and only here: a resync reuses the
    // recorded status, whose notices have been told already.
    for (const n of status.notices ?? []) {
      this.tell(objects, n.type, n.reason, n.message);
      for (const t of req.noticeTargets?.(n) ?? []) deps.events.event(t, n.type, n.reason, n.message);
    }
    return { ok: true, status, kind, objects };
  }

  /** The Events that close an ensure, once its status is written (statusWritten: whether that changed anything). */
  ensured(objects: readonly ObjectOf<K>[], kind: EnsureKind | undefined, statusWritten: boolean, updatedMessage: string): void {
    if (kind === 'create' || kind === 'update' || (kind === 'adopt' && statusWritten)) {
      this.tell(objects, 'Normal', EnsuredLoadBalancer, 'Ensured load balancer');
    } else if (kind === 'targets') {
      this.tell(objects, 'Normal', UpdatedLoadBalancer, updatedMessage);
    }
  }

  private async ensureFailed(key: string, objects: readonly ObjectOf<K>[], provider: Provider, e: unknown, flight: Flight, digest: string): Promise<Outcome> {
    const { deps } = this;
    // Cut short by lbc (the object is going, or this replica stops or lost its Lease):
    // not the object's failure, so no Warning, no condition and no retry gate; the key's
    // next reconcile (queued by the deletion, or run by the next leader) carries on.
    if (abortedByLbc(flight)) return DONE;
    this.retry.failed(key, digest);
    const f = classifyProviderFailure(e, provider.name);
    const message = `Error syncing load balancer: failed to ensure load balancer: ${f.error.message}`;
    this.failures.set(key, message);
    this.tell(objects, 'Warning', SyncLoadBalancerFailed, message);
    deps.log.warn(`${deps.kind} ${key}: ${message} (${f.error.kind})`, deps.subject(key, provider.name));
    const type = deps.readyCondition;
    if (f.error instanceof PartialEnsureError) {
      // Part of the load balancer serves: publish where, so clients reach it, and say on
      // the object what does not (on an Ingress, which has no conditions, the Event says it).
      const ingress = toLoadBalancerIngress(f.error.status, deps.kind);
      const conditions = type ? [{ type, status: 'False', reason: 'PartiallyEnsured', message: f.error.message } as const] : [];
      for (const obj of objects) await this.patchStatus(obj, ingress, conditions);
    } else if (!f.retryable && type) {
      for (const obj of objects) await this.patchStatus(obj, currentIngress(obj), [{ type, status: 'False', reason: 'ProviderRejected', message: f.error.message }]);
    }
    return f.outcome;
  }

  private async patchStatus(obj: ObjectOf<K>, ingress: ReturnType<typeof currentIngress>, conditions: readonly ConditionInput[]): Promise<void> {
    const w = await this.deps.writer.patchLoadBalancerStatus(this.deps.kind, obj, ingress, conditions);
    if (w.written) this.deps.fresh.remember(keyOf(obj), w.object);
  }

  /**
   * The LB the record names belongs to something else now (another provider, or an
   * older object of the same name): it goes before the new one is ensured.
   */
  replaceStale(key: string, tellTo: readonly ObjectOf<K>[], provider: string, uid: string, flight: Flight): Promise<Outcome> {
    const rec = this.applied.get(key);
    if (!rec || (rec.provider === provider && rec.ref.uid === uid)) return Promise.resolve(DONE);
    return this.deleteFromProviders(key, tellTo, rec.ref, [rec.provider], flight);
  }

  /**
   * Nothing of the key's asks for an LB any more, and none holds the finalizer: delete
   * what the record says, if anything; a failure is told to tellTo.
   */
  forget(key: string, flight: Flight, tellTo: readonly ObjectOf<K>[] = []): Promise<Outcome> {
    const rec = this.applied.get(key);
    if (!rec) return Promise.resolve(DONE);
    return this.deleteFromProviders(key, tellTo, rec.ref, [rec.provider], flight);
  }

  /**
   * No object wants the LB: delete it (the recorded provider, or after a restart every
   * provider, since only a process that created or adopted it knows which holds it),
   * then release the objects that still hold the finalizer.
   */
  async teardown(key: string, req: TeardownRequest<K>, flight: Flight): Promise<Outcome> {
    const { deps } = this;
    const { leaving } = req;
    const rec = this.applied.get(key);
    this.reported.delete(key);
    const ref = rec?.ref ?? req.ref;
    if (ref && (rec || leaving.length > 0)) {
      if (leaving.length > 0 && !this.deleting.has(key)) {
        this.deleting.add(key);
        this.tell(leaving, 'Normal', DeletingLoadBalancer, 'Deleting load balancer');
      }
      const candidates = rec ? [rec.provider] : deps.providers.all.map((p) => p.name);
      const out = await this.deleteFromProviders(key, leaving, ref, candidates, flight);
      if (out.kind !== 'done') return out;
    }
    await req.beforeRelease?.();
    const released: ObjectOf<K>[] = [];
    for (const obj of leaving) released.push(await this.release(obj));
    if (this.deleting.delete(key)) {
      deps.log.debug?.(`${deps.kind} ${key}: load balancer deleted (${req.why})`, deps.subject(key, rec?.provider));
      this.tell(released, 'Normal', DeletedLoadBalancer, 'Deleted load balancer');
    }
    return DONE;
  }

  /** Clears an object's status (unless it is being deleted: no one will read it) and drops the finalizer. */
  async release(obj: ObjectOf<K>): Promise<ObjectOf<K>> {
    const { deps } = this;
    const key = keyOf(obj);
    let o = deps.latest(key) ?? obj;
    if (!o.metadata?.deletionTimestamp) {
      const w = await deps.writer.clearLoadBalancerStatus(deps.kind, o, [...(deps.readyCondition ? [deps.readyCondition] : []), ...(deps.otherConditions ?? [])]);
      o = w.object;
      if (w.written) deps.fresh.remember(key, o);
      // What a provider wrote beside the status (MetalLB's pool annotation) goes with it, as MetalLB's clearServiceState.
      const managed = deps.providers.all.flatMap((p) => p.capabilities.objectAnnotations ?? []);
      if (managed.length > 0) {
        const a = await deps.writer.patchAnnotations(deps.kind, o, {}, managed);
        o = a.object;
        if (a.written) deps.fresh.remember(key, o);
      }
    }
    return this.unfinalize(o);
  }

  /**
   * An object this process served that is now addressed to another controller (an
   * Ingress moved to another IngressClass): released once, as one that left, since that
   * controller may not know lbc's finalizer (the object could never be deleted) and
   * lbc's address in its status names an LB that is gone. Not an object this process
   * did not serve: its finalizer may be another lbc instance's. If the new controller is
   * another lbc instance, it puts the finalizer and status back, once; this process no
   * longer holds the object, so neither side undoes the other again. No Event: the
   * object is not lbc's.
   */
  async handOver(obj: ObjectOf<K>): Promise<void> {
    if (this.holds(obj)) await this.release(obj);
  }

  private async unfinalize(obj: ObjectOf<K>): Promise<ObjectOf<K>> {
    const w = await this.deps.writer.removeFinalizer(this.deps.kind, obj, FINALIZER);
    if (w.written) this.deps.fresh.remember(keyOf(obj), w.object);
    this.held.delete(obj.metadata?.uid ?? '');
    this.finalizedHere.delete(obj.metadata?.uid ?? '');
    return w.object;
  }

  /** provider.delete(ref) on each candidate; the record goes once all succeeded. */
  private async deleteFromProviders(key: string, tellTo: readonly ObjectOf<K>[], ref: LbRef, candidates: readonly string[], flight: Flight): Promise<Outcome> {
    const { deps } = this;
    const digest = `delete:${ref.uid}:${candidates.join(',')}`;
    const wait = this.retry.wait(key, digest);
    if (wait > 0) return { kind: 'wait', afterMs: wait };
    for (const name of candidates) {
      const provider = deps.providers.byName(name);
      if (!provider) continue;
      try {
        await callProvider(provider.name, flight, deps.providerTimeoutMs, (s) => provider.delete(ref, { signal: s }));
      } catch (e) {
        if (abortedByLbc(flight)) return DONE;
        this.retry.failed(key, digest);
        const f = classifyProviderFailure(e, provider.name);
        const message = `Error deleting load balancer: ${f.error.message}`;
        // Said on every retry: a deletion that cannot finish must never wait silently.
        this.tell(tellTo, 'Warning', SyncLoadBalancerFailed, message);
        deps.log.warn(`${deps.kind} ${key}: ${message} (${f.error.kind})`, deps.subject(key, provider.name));
        return f.outcome;
      }
    }
    this.retry.clear(key);
    this.failures.delete(key);
    this.applied.delete(key);
    return DONE;
  }
}
