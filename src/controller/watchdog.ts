// The reconcile watchdog: nothing a reconcile waits for may hold its worker forever.
// Every API request and cloud call has a deadline of its own, but a reconcile makes
// several, and a call that ignores its deadline (or one lbc forgot to give one) would
// hold the key, which then never reconciles again, and the drain at SIGTERM, which
// waits for it. So each reconcile has a deadline as a whole:
// - past slowAfterMs, one warn line names the key (the watch client-go's workqueue keeps
//   as workqueue_longest_running_processor_seconds, here lbc_workqueue_longest_running_seconds);
// - past deadlineMs its Flight is aborted (provider calls stop at once), counted in
//   lbc_reconcile_stuck_total, and if it has still not returned graceMs later its
//   worker is let go with a ReconcileTimeoutError, so the key is retried with backoff.
// A reconcile let go may still be waiting on a request; its late writes are those of a
// stale reconcile, which the next one corrects, as after any conflict.
import type { Logger } from '../kube/logger.js';
import { queueKeySubject, type Flight } from './reconcile.js';

/** A reconcile given up at its deadline: transient, the key is retried with backoff. */
export class ReconcileTimeoutError extends Error {
  override readonly name = 'ReconcileTimeoutError';
}

export interface WatchdogOptions {
  /** A reconcile running this long is logged once. */
  readonly slowAfterMs: number;
  /** A reconcile running this long is aborted. */
  readonly deadlineMs: number;
  /** How long an aborted reconcile may take to return before its worker is let go. */
  readonly graceMs: number;
  readonly log: Logger;
}

interface Running {
  readonly key: string;
  readonly flight: Flight;
  readonly since: number;
  warned: boolean;
  aborted: boolean;
  letGo: NodeJS.Timeout | undefined;
  readonly release: (e: Error) => void;
}

export class ReconcileWatchdog {
  private readonly opts: WatchdogOptions;
  private readonly running = new Set<Running>();
  private sweeper: NodeJS.Timeout | undefined;
  private exceeded = 0;

  constructor(opts: WatchdogOptions) {
    if (opts.deadlineMs <= 0 || opts.slowAfterMs <= 0) throw new RangeError('reconcile deadlines must be positive');
    this.opts = opts;
  }

  /** Reconciles that passed their deadline. */
  get stuck(): number {
    return this.exceeded;
  }

  /** Resolves or rejects as `work` does, or rejects with a ReconcileTimeoutError once the worker is let go. */
  run<T>(key: string, flight: Flight, work: Promise<T>): Promise<T> {
    // A reconcile let go settles later, with no one listening.
    work.catch(() => {});
    let release: (e: Error) => void = () => {};
    const letGo = new Promise<never>((_, reject) => (release = reject));
    letGo.catch(() => {});
    const r: Running = { key, flight, since: performance.now(), warned: false, aborted: false, letGo: undefined, release };
    this.running.add(r);
    this.arm();
    return Promise.race([work, letGo]).finally(() => {
      clearTimeout(r.letGo);
      this.running.delete(r);
      if (this.running.size === 0) this.disarm();
    });
  }

  /** How long the oldest reconcile in flight has been running, in seconds; 0 with none. */
  longestRunningSeconds(): number {
    let oldest = Infinity;
    for (const r of this.running) oldest = Math.min(oldest, r.since);
    return oldest === Infinity ? 0 : (performance.now() - oldest) / 1000;
  }

  /**
   * Lets go of every worker whose reconcile has not returned within graceMs (the
   * caller has aborted their flights): at shutdown, after the drain timeout.
   */
  letGoAll(reason: string, graceMs: number): void {
    for (const r of this.running) this.expire(r, new ReconcileTimeoutError(`${r.key}: ${reason}`), graceMs);
  }

  private expire(r: Running, err: ReconcileTimeoutError, graceMs: number): void {
    if (r.aborted) return;
    r.aborted = true;
    r.flight.abort(err);
    r.letGo = setTimeout(() => {
      this.opts.log.warn(`${r.key}: reconcile did not return within ${graceMs} ms of its abort; its worker goes on without it`, ...subject(r.key));
      r.release(err);
    }, graceMs);
    r.letGo.unref();
  }

  private sweep(): void {
    const now = performance.now();
    const { slowAfterMs, deadlineMs, graceMs, log } = this.opts;
    for (const r of this.running) {
      const age = now - r.since;
      if (!r.warned && age >= slowAfterMs) {
        r.warned = true;
        log.warn(`${r.key}: reconcile in flight for ${(age / 1000).toFixed(1)} s (deadline ${deadlineMs / 1000} s)`, ...subject(r.key));
      }
      if (!r.aborted && age >= deadlineMs) {
        this.exceeded++;
        log.warn(`${r.key}: reconcile passed its deadline of ${deadlineMs / 1000} s: aborting it; the key is retried with backoff`, ...subject(r.key));
        this.expire(r, new ReconcileTimeoutError(`reconcile passed its deadline of ${deadlineMs / 1000} s`), graceMs);
      }
    }
  }

  // One timer for every reconcile, armed only while some run: a timer per reconcile
  // would cost as much as the cheapest reconciles themselves.
  private arm(): void {
    if (this.sweeper) return;
    const every = Math.max(10, Math.min(1000, this.opts.slowAfterMs / 4, this.opts.deadlineMs / 4));
    this.sweeper = setInterval(() => this.sweep(), every);
    this.sweeper.unref();
  }

  private disarm(): void {
    clearInterval(this.sweeper);
    this.sweeper = undefined;
  }
}

function subject(key: string): unknown[] {
  const about = queueKeySubject(key);
  return about ? [about] : [];
}
