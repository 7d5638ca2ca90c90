// The one retry policy every cloud API call goes through, whichever the provider. Each
// provider switches its SDK's own retries off and hands its calls here, with a
// classifier that says what a failure means (throttled, transient, or final), so that
// throttling is handled in one place and the same way everywhere:
//
// - exponential backoff with full jitter (a random wait between 0 and
//   min(maxDelay, baseDelay * 2^retry)), so that many callers throttled at once spread
//   out instead of coming back together;
// - never sooner than a Retry-After the cloud sent (capped at maxDelay: a header asking
//   for minutes is better answered by the work queue than by a blocked worker);
// - when the budget is spent on throttling, a ProviderError of kind 'throttled' whose
//   retryAfterMs tells the work queue how long to stay away;
// - an abort signal that stops the waiting at once;
// - with attemptTimeoutMs, a deadline per attempt: the attempt's signal aborts and the
//   attempt is retried as a transient failure, so a request lost on a dead connection
//   costs seconds, not the caller's whole budget (an attempt that ignores its signal is
//   left behind rather than waited for);
// - every attempt reported to the cloud-call observer, which `lbc run` connects to the
//   lbc_cloud_api_calls_total metric (observeCloudCalls): the metrics live a floor above
//   the providers, so they are handed in rather than imported.
//
// p-retry runs the loop. Its own delay is switched off (minTimeout 0) because its jitter
// multiplies by 1..2, which keeps synchronised callers synchronised; the wait is taken in
// shouldRetry instead, which p-retry calls only when another attempt will follow.
import pRetry from 'p-retry';
import { sleep as abortableSleep } from '../kube/sleep.js';
import { ProviderError } from './types.js';

export type CloudCallOutcome = 'success' | 'throttled' | 'error';

/** Hears every attempt of every cloud call, whichever provider made it. */
export type CloudCallObserver = (providerType: string, operation: string, outcome: CloudCallOutcome) => void;

// One for the process, like the metrics registry it feeds: providers are built in many
// places (registry, plan, tests), and each would otherwise need it threaded through.
let cloudCallObserver: CloudCallObserver | undefined;

/** Sets (or, with undefined, removes) the observer every later attempt is reported to. */
export function observeCloudCalls(observer: CloudCallObserver | undefined): void {
  cloudCallObserver = observer;
}

/** What a failed attempt means for the next one. */
export type FailureClass =
  /** Rate limited: wait (at least retryAfterMs when given), then try again. */
  | { readonly kind: 'throttled'; readonly retryAfterMs?: number }
  /** 5xx, a dropped connection, or a "not yet" the caller asked to wait out: try again after a backoff. */
  | { readonly kind: 'transient'; readonly retryAfterMs?: number }
  /** Trying again cannot help. */
  | { readonly kind: 'final' };

export interface RetryPolicy {
  /** Attempts in all, the first included. At least 1. */
  readonly attempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

export interface Exhausted {
  /** Attempts made. */
  readonly attempts: number;
  /** Set when the last failure was throttling: how long the caller should stay away. */
  readonly retryAfterMs?: number;
}

export interface CloudCall {
  /** Provider type for the metric: aws, gce, ... (not the configured name, which users choose). */
  readonly providerType: string;
  /** The API operation, low-cardinality (`CreateLoadBalancer`, `forwardingRules.insert`): a metric label. */
  readonly operation: string;
  readonly policy: RetryPolicy;
  readonly signal?: AbortSignal | undefined;
  /**
   * Keep retrying throttled and transient failures past `attempts` until this much time
   * has passed since the first attempt (a dependency that takes a while to let go).
   */
  readonly deadlineMs?: number | undefined;
  /**
   * Deadline of one attempt. The attempt gets a signal that aborts at the deadline (or
   * with `signal`), to hand to the SDK; a timed-out attempt is transient and retried.
   */
  readonly attemptTimeoutMs?: number | undefined;
  /** Waits before each attempt (a client-side rate limiter); outside the attempt's deadline. */
  readonly admit?: ((signal: AbortSignal | undefined) => Promise<void>) | undefined;
  readonly classify: (error: unknown) => FailureClass;
  /** The provider's own error for the failure that ended the call. */
  readonly toError: (error: unknown, exhausted: Exhausted) => ProviderError;
  /** The error for a call given up because the signal fired; default a transient ProviderError. */
  readonly aborted?: (reason: unknown) => ProviderError;
  /** Sees every attempt's outcome (rate limiters drain on throttling, tests count calls). */
  readonly onAttempt?: (outcome: CloudCallOutcome, attempt: number, error?: unknown) => void;
  readonly sleep?: Sleep;
  /** In [0, 1); tests pin it. */
  readonly random?: () => number;
}

/** The wait before retry number `retry` (0 for the first retry): full jitter under an exponential cap. */
export function backoffDelay(policy: RetryPolicy, retry: number, random: () => number = Math.random): number {
  const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** retry);
  return Math.floor(random() * cap);
}

/** Carries the raw error through p-retry, which would give up at once on a plain TypeError. */
class AttemptFailed extends Error {
  constructor(
    readonly raw: unknown,
    readonly failure: FailureClass,
  ) {
    super(raw instanceof Error ? raw.message : String(raw));
  }
}

const outcomeOf = (f: FailureClass): CloudCallOutcome => (f.kind === 'throttled' ? 'throttled' : 'error');

/** An attempt given up at its deadline; named as fetch's and the SDKs' own timeouts are. */
export class AttemptTimeoutError extends Error {
  override readonly name = 'TimeoutError';
}

/** A signal for one attempt: aborts at timeoutMs or with the call's signal; `expired` once the deadline passed. */
function attemptDeadline(timeoutMs: number, outer: AbortSignal | undefined) {
  const ac = new AbortController();
  let reject: (e: unknown) => void = () => {};
  const timedOut = new Promise<never>((_, r) => (reject = r));
  timedOut.catch(() => {});
  const onOuter = (): void => ac.abort(outer?.reason);
  if (outer?.aborted) onOuter();
  else outer?.addEventListener('abort', onOuter, { once: true });
  const timer = setTimeout(() => {
    const err = new AttemptTimeoutError(`no answer within ${timeoutMs} ms`);
    ac.abort(err);
    reject(err);
  }, timeoutMs);
  return {
    signal: ac.signal,
    get expired(): boolean {
      return ac.signal.reason instanceof AttemptTimeoutError;
    },
    run<T>(p: Promise<T>): Promise<T> {
      p.catch(() => {});
      return Promise.race([p, timedOut]);
    },
    clear(): void {
      clearTimeout(timer);
      outer?.removeEventListener('abort', onOuter);
    },
  };
}

/** Runs one API call (one request, never a sequence) under the policy. */
export async function callWithRetry<T>(call: CloudCall, attempt: (n: number, signal: AbortSignal | undefined) => Promise<T>): Promise<T> {
  const { policy, signal } = call;
  const sleep = call.sleep ?? abortableSleep;
  const random = call.random ?? Math.random;
  const started = performance.now();
  let attempts = 0;
  let last: AttemptFailed | undefined;
  const record = (outcome: CloudCallOutcome, n: number, error?: unknown): void => {
    cloudCallObserver?.(call.providerType, call.operation, outcome);
    call.onAttempt?.(outcome, n, error);
  };
  try {
    return await pRetry(
      async (n) => {
        attempts = n;
        let out: T;
        await call.admit?.(signal);
        const deadline = call.attemptTimeoutMs !== undefined ? attemptDeadline(call.attemptTimeoutMs, signal) : undefined;
        try {
          out = deadline ? await deadline.run(attempt(n, deadline.signal)) : await attempt(n, signal);
        } catch (e) {
          const failure: FailureClass = signal?.aborted ? { kind: 'final' } : deadline?.expired ? { kind: 'transient' } : call.classify(e);
          record(outcomeOf(failure), n, e);
          last = new AttemptFailed(deadline?.expired && !signal?.aborted ? deadline.signal.reason : e, failure);
          throw last;
        } finally {
          deadline?.clear();
        }
        record('success', n);
        return out;
      },
      {
        retries: call.deadlineMs !== undefined ? Number.POSITIVE_INFINITY : Math.max(0, policy.attempts - 1),
        ...(call.deadlineMs !== undefined ? { maxRetryTime: call.deadlineMs } : {}),
        minTimeout: 0,
        maxTimeout: 0,
        ...(signal ? { signal } : {}),
        shouldRetry: async ({ error, retriesConsumed }) => {
          if (!(error instanceof AttemptFailed) || error.failure.kind === 'final') return false;
          let wait = backoffDelay(policy, retriesConsumed, random);
          const after = error.failure.retryAfterMs;
          if (after !== undefined && after > 0) wait = Math.max(wait, Math.min(after, policy.maxDelayMs));
          if (call.deadlineMs !== undefined) wait = Math.min(wait, Math.max(0, call.deadlineMs - (performance.now() - started)));
          if (wait > 0) await sleep(wait, signal);
          return true;
        },
      },
    );
  } catch (e) {
    if (signal?.aborted) {
      throw call.aborted?.(signal.reason) ?? new ProviderError('transient', `${call.operation}: aborted`, { cause: signal.reason });
    }
    const failed = e instanceof AttemptFailed ? e : last;
    const raw = failed ? failed.raw : e;
    if (failed?.failure.kind !== 'throttled') throw call.toError(raw, { attempts });
    // Still throttled when the budget ran out: the queue should wait at least as long
    // as the cloud asked, and never less than our own longest backoff.
    const retryAfterMs = Math.max(failed.failure.retryAfterMs ?? 0, policy.maxDelayMs);
    const err = call.toError(raw, { attempts, retryAfterMs });
    if (err.kind === 'throttled' && err.retryAfterMs !== undefined) throw err;
    throw new ProviderError('throttled', err.message, { cause: err, retryAfterMs, ...(err.provider !== undefined ? { provider: err.provider } : {}) });
  }
}
