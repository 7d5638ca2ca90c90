// Compute calls under lbc's one retry policy (../retry.ts, shared with every provider).
// The clients' own (gax) retries are switched off per call, so throttling is handled
// in one place; this file only says what a Compute failure means to that policy.
import { callWithRetry, type FailureClass } from '../retry.js';
import { GceError } from './errors.js';
import type { RetryOptions } from './options.js';

function failureOf(err: GceError): FailureClass {
  const after = err.retryAfterMs !== undefined ? { retryAfterMs: err.retryAfterMs } : {};
  if (err.kind === 'throttled') return { kind: 'throttled', ...after };
  if (err.kind === 'transient') return { kind: 'transient', ...after };
  return { kind: 'final' };
}

/**
 * Runs one API call (not a whole sequence: a write is retried on its own, then its
 * operation is waited on separately, so a retry never repeats a call that succeeded).
 * `what` is `<call> <target>`; only the call names the metric's operation, since
 * targets are per load balancer and would make the label unbounded.
 */
export async function withRetry<T>(
  what: string,
  provider: string,
  policy: RetryOptions,
  signal: AbortSignal | undefined,
  attempt: () => Promise<T>,
  classify: (e: unknown) => GceError,
): Promise<T> {
  return callWithRetry(
    {
      providerType: 'gce',
      operation: what.split(' ')[0] ?? what,
      policy: { attempts: policy.retries + 1, baseDelayMs: policy.minDelayMs, maxDelayMs: policy.maxDelayMs },
      signal,
      classify: (e) => failureOf(classify(e)),
      toError: (e, exhausted) => {
        const err = classify(e);
        if (err.kind !== 'throttled' || exhausted.retryAfterMs === undefined) return err;
        return new GceError('throttled', `${err.message} (still rate limited after ${exhausted.attempts} attempts)`, {
          provider,
          cause: err,
          retryAfterMs: exhausted.retryAfterMs,
          ...(err.status !== undefined ? { status: err.status } : {}),
          ...(err.reason !== undefined ? { reason: err.reason } : {}),
        });
      },
      aborted: (reason) => new GceError('transient', `${what}: aborted`, { provider, cause: reason }),
    },
    attempt,
  );
}
