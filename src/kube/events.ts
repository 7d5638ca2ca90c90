// Records core/v1 Events about the objects lbc manages. Repeats of the same Event
// (same object, type, reason and message) within a window update the count of the
// Event already written, as client-go's recorder does, instead of adding another one.
// Unlike client-go's recorder, which drops Events once its 1000-entry buffer is full,
// nothing is dropped under load: every Event waits in a queue (repeats coalesce into
// one pending write) and is written with bounded concurrency and retries. Under a
// backlog they can also wait their turn (holdWhile), so that the API server's time goes
// to the writes users wait for (finalizers, addresses) first.
//
// What is guaranteed (README, Operations):
// - the Events of one object are written one at a time, in the order they were
//   recorded: a later one is never written before an earlier one is written or given
//   up, so a crash loses an object's latest Events, never an "Ensuring" whose
//   "Ensured" made it;
// - an Event waits for status writes at most maxHoldMs, then is written;
// - after discard() (the replica lost its Lease) nothing more is sent: pending and
//   later Events are dropped and counted in one log line;
// - close() flushes for at most its timeout, then drops what is left, with a log line.
import { PatchStrategy, setHeaderOptions } from './client-node.js';
import type { CoreV1Api, CoreV1Event } from '@kubernetes/client-node';
import { hostname } from 'node:os';
import type { KubeObject } from './cache.js';
import type { Logger } from './logger.js';
import { truncate } from './truncate.js';
import { ExponentialBackoff, WorkQueue } from './workqueue.js';

export type EventType = 'Normal' | 'Warning';

/** The object an Event is about (core/v1 ObjectReference). */
export interface InvolvedObject {
  kind: string;
  apiVersion?: string;
  namespace?: string;
  name: string;
  uid?: string;
  resourceVersion?: string;
}

export interface EventRecorderOptions {
  core: Pick<CoreV1Api, 'createNamespacedEvent' | 'patchNamespacedEvent'>;
  /** source.component. Default 'lbc'. */
  component?: string;
  /** reportingComponent (core/v1's name for reportingController). Default 'lbc.dev/controller'. */
  reportingController?: string;
  /** Default: the host name (the pod name in a cluster). */
  reportingInstance?: string;
  /** Repeats closer than this to the previous one update the same Event. Default 10 min. */
  aggregationWindowMs?: number;
  /** API requests in flight at once. Default 5. */
  concurrency?: number;
  /** Attempts per write before a transiently failing Event is given up. Default 15. */
  maxAttempts?: number;
  /** Retry backoff. Default 100 ms doubling to 30 s. */
  retry?: { baseMs?: number; maxMs?: number };
  /**
   * While this returns true, Event writes wait, each at most maxHoldMs after it was
   * recorded; the controller passes "reconciles are waiting for a worker". Nothing is
   * dropped, and flush() waits for held Events too.
   */
  holdWhile?: () => boolean;
  /** Default 5 s. */
  maxHoldMs?: number;
  now?: () => Date;
  logger?: Pick<Logger, 'warn'>;
}

/** The longest Event message lbc writes; longer ones are cut with a marker (truncate.ts). */
export const MAX_EVENT_MESSAGE = 1024;

export interface EventRecorderStats {
  /** event() calls. */
  recorded: number;
  /** Events created. */
  created: number;
  /** Count updates patched onto existing Events. */
  patched: number;
  /** Writes retried after a transient error. */
  retried: number;
  /** Events given up: a permanent error, or transient errors past maxAttempts. */
  failed: number;
  /** Events not written because discard() or a close() timeout came first. */
  dropped: number;
}

// One Event object as lbc will have written it once its queue entry is processed.
interface Pending {
  readonly name: string;
  readonly namespace: string;
  readonly aggKey: string;
  /** The queue key: the object the Event is about; its Events are written in order. */
  readonly objectKey: string;
  readonly involved: InvolvedObject;
  readonly type: EventType;
  readonly reason: string;
  readonly message: string;
  readonly first: Date;
  last: Date;
  count: number;
  /** The count the API server has; 0 until created. */
  written: number;
  /** Date.now() when its latest write was queued: holdWhile holds it until queuedAt + maxHoldMs. */
  queuedAt: number;
  /** In its object's list of Events waiting for a write. */
  queued: boolean;
  /** Failed attempts of the write now pending. */
  attempts: number;
}

// Event names are `<object name>.<hex nanoseconds>` as client-go makes them; they must
// stay within the 253 characters of a DNS subdomain.
const MAX_NAME = 253;
// Made once: the write clients read the patch type from each options object once.
const MERGE_PATCH = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
// How often a held write looks again whether it may go.
const HOLD_POLL_MS = 20;

export class EventRecorder {
  private readonly core: EventRecorderOptions['core'];
  private readonly component: string;
  private readonly reportingController: string;
  private readonly reportingInstance: string;
  private readonly windowMs: number;
  private readonly maxAttempts: number;
  private readonly now: () => Date;
  private readonly log: Pick<Logger, 'warn'>;
  private readonly holdWhile: (() => boolean) | undefined;
  private closing = false;
  private readonly maxHoldMs: number;
  private readonly queue: WorkQueue<string>;
  private readonly running: Promise<void>;
  // aggregation key -> the Event repeats go to now
  private readonly current = new Map<string, Pending>();
  // object key -> its Events with a write queued or in flight, oldest first
  private readonly byObject = new Map<string, Pending[]>();
  private lastNanos = 0n;
  /**
   * Events recorded while holdWhile says the API server's time is wanted elsewhere, taken
   * in (aggregated, named, queued) only once that ends: in a cold start of 1000 Services
   * that bookkeeping of 2000 Events ran in the burst, beside the writes before the
   * addresses, for Events held until after it anyway (#21). Their times are when recorded.
   */
  private deferred: { involved: InvolvedObject; type: EventType; reason: string; message: string; at: Date; atMs: number }[] = [];
  private deferTimer: NodeJS.Timeout | undefined;
  private lastSweep = 0;
  private closed = false;
  private discarded: string | undefined;
  private droppedSinceDiscard = 0;
  private readonly counters: EventRecorderStats = { recorded: 0, created: 0, patched: 0, retried: 0, failed: 0, dropped: 0 };

  constructor(opts: EventRecorderOptions) {
    this.core = opts.core;
    this.component = opts.component ?? 'lbc';
    this.reportingController = opts.reportingController ?? 'lbc.dev/controller';
    this.reportingInstance = opts.reportingInstance ?? hostname();
    this.windowMs = opts.aggregationWindowMs ?? 10 * 60_000;
    this.maxAttempts = opts.maxAttempts ?? 15;
    this.now = opts.now ?? (() => new Date());
    this.log = opts.logger ?? console;
    this.holdWhile = opts.holdWhile;
    this.maxHoldMs = opts.maxHoldMs ?? 5000;
    this.queue = new WorkQueue<string>({
      rateLimiter: new ExponentialBackoff({ baseMs: opts.retry?.baseMs ?? 100, maxMs: opts.retry?.maxMs ?? 30_000 }),
    });
    this.running = this.queue.run(opts.concurrency ?? 5, (key) => this.writeObject(key));
  }

  /** Queues an Event; never throws for API trouble and never blocks the caller. */
  event(target: InvolvedObject | (KubeObject & { kind?: string }), type: EventType, reason: string, message: string): void {
    if (this.closed) throw new Error('event recorder is closed');
    const involved = toInvolvedObject(target);
    this.counters.recorded++;
    if (this.discarded !== undefined) {
      this.counters.dropped++;
      this.droppedSinceDiscard++;
      return;
    }
    // Once one is deferred, every later one is too, until they are taken in: in order.
    if (this.deferred.length > 0 || (this.holdWhile?.() && !this.closing)) {
      this.deferred.push({ involved, type, reason, message, at: this.now(), atMs: Date.now() });
      this.deferTimer ??= setInterval(() => this.takeInIfDue(), HOLD_POLL_MS);
      return;
    }
    this.takeIn(involved, type, reason, message, this.now(), Date.now());
  }

  // Files one recorded Event: aggregated into the Event of its repeats, queued for its write.
  private takeIn(involved: InvolvedObject, type: EventType, reason: string, message: string, now: Date, nowMs: number): void {
    message = truncate(message, MAX_EVENT_MESSAGE);
    const aggKey = JSON.stringify([
      involved.kind,
      involved.apiVersion ?? '',
      involved.namespace ?? '',
      involved.name,
      involved.uid ?? '',
      type,
      reason,
      message,
    ]);
    let ev = this.current.get(aggKey);
    if (ev && now.getTime() - ev.last.getTime() <= this.windowMs) {
      ev.count++;
      if (now > ev.last) ev.last = now;
    } else {
      ev = {
        name: this.eventName(involved.name, now),
        namespace: involved.namespace || 'default',
        aggKey,
        objectKey: JSON.stringify([involved.kind, involved.namespace ?? '', involved.name]),
        involved,
        type,
        reason,
        message,
        first: now,
        last: now,
        count: 1,
        written: 0,
        queuedAt: 0,
        queued: false,
        attempts: 0,
      };
      this.current.set(aggKey, ev);
    }
    if (ev.written === ev.count - 1) ev.queuedAt = nowMs;
    if (!ev.queued) {
      ev.queued = true;
      const list = this.byObject.get(ev.objectKey);
      if (list) list.push(ev);
      else this.byObject.set(ev.objectKey, [ev]);
    }
    this.queue.add(ev.objectKey);
    this.sweep(now);
  }

  /** Resolves when every Event recorded so far has been written (or given up). */
  flush(): Promise<void> {
    this.takeInDeferred();
    return this.queue.idle();
  }

  // The deferred Events are taken in once the hold ends, or once the oldest of them has
  // waited maxHoldMs (as a queued one would), or on flush.
  private takeInIfDue(): void {
    const oldest = this.deferred[0];
    if (!oldest || !this.holdWhile?.() || this.closing || Date.now() - oldest.atMs >= this.maxHoldMs) this.takeInDeferred();
  }

  private takeInDeferred(): void {
    if (this.deferTimer) clearInterval(this.deferTimer);
    this.deferTimer = undefined;
    const list = this.deferred;
    this.deferred = [];
    for (const d of list) this.takeIn(d.involved, d.type, d.reason, d.message, d.at, d.atMs);
  }

  /**
   * Sends nothing more: the Events waiting to be written, and any recorded from now on,
   * are dropped and counted in a log line. For a replica that lost its Lease: its
   * successor reports on the same objects, and late Events from the old leader would
   * contradict it. Writes already sent (at most `concurrency`) cannot be called back.
   */
  discard(reason: string): void {
    if (this.discarded !== undefined) return;
    this.discarded = reason;
    const n = this.drop();
    this.log.warn(`events: ${n} Events not written: ${reason}`);
  }

  /** Flushes for at most timeoutMs (default 5 s), drops what is left, then stops the workers. */
  async close(opts: { timeoutMs?: number } = {}): Promise<void> {
    if (this.closed) return;
    this.closing = true;
    const timeoutMs = opts.timeoutMs ?? 5000;
    let timer: NodeJS.Timeout | undefined;
    const late = await Promise.race([
      this.flush().then(() => false),
      new Promise<boolean>((r) => (timer = setTimeout(() => r(true), timeoutMs))),
    ]);
    clearTimeout(timer);
    if (late) this.discard(`not written within ${timeoutMs} ms of shutdown`);
    this.closed = true;
    if (this.droppedSinceDiscard > 0) this.log.warn(`events: ${this.droppedSinceDiscard} more Events recorded after that were not written`);
    await this.queue.shutDown();
    await this.running;
  }

  stats(): EventRecorderStats & { pending: number } {
    let pending = this.deferred.length;
    for (const list of this.byObject.values()) for (const ev of list) if (ev.written < ev.count) pending++;
    return { ...this.counters, pending };
  }

  private drop(): number {
    let n = this.deferred.length;
    this.deferred = [];
    if (this.deferTimer) clearInterval(this.deferTimer);
    this.deferTimer = undefined;
    for (const list of this.byObject.values()) {
      for (const ev of list) {
        if (ev.written < ev.count) n++;
        ev.queued = false;
      }
    }
    this.byObject.clear();
    this.current.clear();
    this.counters.dropped += n;
    return n;
  }

  // Writes the object's Events oldest first. A transient failure throws, so the queue
  // retries the object with backoff and the Events after the failing one wait for it.
  private async writeObject(key: string): Promise<void> {
    for (;;) {
      const list = this.byObject.get(key);
      const ev = list?.[0];
      if (!list || !ev || this.discarded !== undefined) return;
      if (ev.written < ev.count) {
        await this.hold(ev.queuedAt + this.maxHoldMs);
        if (this.discarded !== undefined) return;
        await this.write(ev);
        // Settled (written or given up): the next Event of the object starts its own backoff.
        this.queue.forget(key);
      }
      if (ev.written === ev.count || !ev.queued) {
        ev.queued = false;
        list.shift();
        if (list.length === 0 && this.byObject.get(key) === list) this.byObject.delete(key);
      }
    }
  }

  /** Writes ev's count; false when it was given up; throws a transient error to be retried. */
  private async write(ev: Pending): Promise<boolean> {
    const count = ev.count;
    try {
      if (ev.written === 0) {
        await this.create(ev, count);
      } else {
        try {
          await this.core.patchNamespacedEvent(
            { name: ev.name, namespace: ev.namespace, body: { count, lastTimestamp: rfc3339(ev.last) } },
            MERGE_PATCH,
          );
          this.counters.patched++;
        } catch (err) {
          // Events expire (the API server's event TTL, 1 h by default); start it over.
          if (statusOf(err) !== 404) throw err;
          await this.create(ev, count);
        }
      }
      ev.written = count;
      ev.attempts = 0;
      return true;
    } catch (err) {
      const status = statusOf(err);
      if (isTransient(status) && ++ev.attempts < this.maxAttempts) {
        this.counters.retried++;
        throw err;
      }
      this.counters.failed++;
      this.log.warn(`event ${ev.namespace}/${ev.name} (${ev.reason}) not written`, describe(err));
      // Given up: later repeats start a new Event rather than patch one never created.
      if (this.current.get(ev.aggKey) === ev) this.current.delete(ev.aggKey);
      ev.queued = false;
      return false;
    }
  }

  private async create(ev: Pending, count: number): Promise<void> {
    const body: CoreV1Event = {
      metadata: { name: ev.name, namespace: ev.namespace },
      involvedObject: { ...ev.involved },
      reason: ev.reason,
      message: ev.message,
      type: ev.type,
      source: { component: this.component },
      firstTimestamp: ev.first,
      lastTimestamp: ev.last,
      count,
      reportingComponent: this.reportingController,
      reportingInstance: this.reportingInstance,
    };
    try {
      await this.core.createNamespacedEvent({ namespace: ev.namespace, body });
      this.counters.created++;
    } catch (err) {
      // An earlier attempt that timed out may have created it after all.
      if (statusOf(err) !== 409) throw err;
      await this.core.patchNamespacedEvent(
        { name: ev.name, namespace: ev.namespace, body: { count, lastTimestamp: rfc3339(ev.last) } },
        MERGE_PATCH,
      );
      this.counters.patched++;
    }
  }

  private async hold(until: number): Promise<void> {
    // Once closing, nothing is worth waiting for: the writes held for may never end (a
    // reconcile deaf to its abort), and close() gives the Events only its own timeout.
    while (this.holdWhile?.() && !this.closing && this.discarded === undefined) {
      const left = until - Date.now();
      if (left <= 0) return;
      await new Promise((r) => setTimeout(r, Math.min(HOLD_POLL_MS, left)));
    }
  }

  private eventName(objectName: string, now: Date): string {
    // Nanoseconds from the wall clock, bumped to stay unique within this process.
    let nanos = BigInt(now.getTime()) * 1_000_000n + (process.hrtime.bigint() % 1_000_000n);
    if (nanos <= this.lastNanos) nanos = this.lastNanos + 1n;
    this.lastNanos = nanos;
    const suffix = nanos.toString(16);
    return `${objectName.slice(0, MAX_NAME - suffix.length - 1)}.${suffix}`;
  }

  // Aggregation state of Events whose window has passed is dropped, so memory follows
  // the recent Event rate rather than every Event ever recorded.
  private sweep(now: Date): void {
    const t = now.getTime();
    if (t - this.lastSweep < Math.min(this.windowMs, 60_000)) return;
    this.lastSweep = t;
    for (const [key, ev] of this.current) {
      if (t - ev.last.getTime() > this.windowMs && ev.written === ev.count) this.current.delete(key);
    }
  }
}

/** The reference an Event names, from a reference or from the object itself. */
export function toInvolvedObject(target: InvolvedObject | (KubeObject & { kind?: string })): InvolvedObject {
  if ('metadata' in target && target.metadata) {
    const m = target.metadata;
    if (!target.kind || !m.name) throw new TypeError('event target needs kind and metadata.name (list items carry no kind)');
    return {
      kind: target.kind,
      apiVersion: target.apiVersion,
      namespace: m.namespace,
      name: m.name,
      uid: m.uid,
      resourceVersion: m.resourceVersion,
    };
  }
  const ref = target as InvolvedObject;
  if (!ref.kind || !ref.name) throw new TypeError('event target needs kind and name');
  return { ...ref };
}

function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function statusOf(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'number' ? code : undefined;
}

// No status: the request never got an answer (reset, refused, timeout).
function isTransient(status: number | undefined): boolean {
  return status === undefined || status === 429 || status >= 500;
}

function describe(err: unknown): string {
  const status = statusOf(err);
  const msg = err instanceof Error ? err.message : String(err);
  return status === undefined ? msg : `${status} ${msg}`;
}
