// The one retry policy every Compute call goes through. The clients' own (gax) retries
// are switched off per call, so that throttling is handled in one place, the same way
// for every call: exponential backoff with jitter, at least as long as Retry-After asks,
// and when the budget is spent on rate limiting, a throttled ProviderError that tells
// the work queue how long to stay away.
import pRetry from 'p-retry';
import { GceError } from './errors.js';
import type { RetryOptions } from './options.js';

const RETRIED: ReadonlySet<string> = new Set(['throttled', 'transient']);

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Runs one API call (not a whole sequence: a write is retried on its own, then its
 * operation is waited on separately, so a retry never repeats a call that succeeded).
 */
export async function withRetry<T>(
  what: string,
  provider: string,
  policy: RetryOptions,
  signal: AbortSignal | undefined,
  attempt: () => Promise<T>,
  classify: (e: unknown) => GceError,
): Promise<T> {
  let last: GceError | undefined;
  try {
    return await pRetry(
      async () => {
        try {
          return await attempt();
        } catch (e) {
          last = classify(e);
          throw last;
        }
      },
      {
        retries: policy.retries,
        factor: 2,
        minTimeout: policy.minDelayMs,
        maxTimeout: policy.maxDelayMs,
        randomize: true,
        ...(signal ? { signal } : {}),
        shouldRetry: ({ error }) => error instanceof GceError && RETRIED.has(error.kind),
        onFailedAttempt: async ({ error, retriesLeft }) => {
          const wait = error instanceof GceError ? error.retryAfterMs : undefined;
          if (wait !== undefined && wait > 0 && retriesLeft > 0 && RETRIED.has((error as GceError).kind)) {
            await sleep(Math.min(wait, policy.maxDelayMs), signal);
          }
        },
      },
    );
  } catch (e) {
    if (signal?.aborted && !(e instanceof GceError)) {
      throw new GceError('transient', `${what}: aborted`, { provider, cause: e });
    }
    const err = e instanceof GceError ? e : classify(e);
    if (err.kind === 'throttled' && err === last) {
      // Budget spent on rate limiting: tell the queue how long to wait, never less than our own backoff cap.
      throw new GceError('throttled', `${err.message} (still rate limited after ${policy.retries + 1} attempts)`, {
        provider,
        cause: err,
        retryAfterMs: Math.max(err.retryAfterMs ?? 0, policy.maxDelayMs),
        ...(err.status !== undefined ? { status: err.status } : {}),
        ...(err.reason !== undefined ? { reason: err.reason } : {}),
      });
    }
    throw err;
  }
}
