// What an AWS error means for lbc: which ProviderError kind, and whether the one retry
// policy may try the call again. AWS names its errors by code (ELBv2 and EC2 differ in
// style: `LoadBalancerNotFound` vs `InvalidGroup.NotFound`), so the mapping is by code.
import { ProviderError, type ProviderErrorKind } from '../types.js';

/** The SDK's own throttling codes (smithy's service-error-classification), plus EC2's. */
const THROTTLING = new Set([
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'RequestThrottled',
  'RequestThrottledException',
  'RequestLimitExceeded',
  'TooManyRequestsException',
  'EC2ThrottledException',
  'SlowDown',
  'PriorRequestNotComplete',
  'BandwidthLimitExceeded',
  'ProvisionedThroughputExceededException',
]);

const TRANSIENT = new Set(['InternalFailure', 'InternalError', 'ServiceUnavailable', 'Unavailable', 'RequestTimeout', 'RequestTimeoutException', 'TimeoutError']);
const NETWORK = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
const FORBIDDEN = new Set(['AccessDenied', 'AccessDeniedException', 'UnauthorizedOperation', 'AuthFailure', 'InvalidClientTokenId', 'SignatureDoesNotMatch', 'ExpiredToken', 'OptInRequired']);
const CONFLICT = new Set([
  'DuplicateLoadBalancerName',
  'DuplicateTargetGroupName',
  'DuplicateListener',
  'DuplicateTagKeys',
  'PriorityInUse',
  'ResourceInUse',
  'DependencyViolation',
  'InvalidGroup.Duplicate',
  'IncorrectState',
  'IncorrectInstanceState',
]);

export interface AwsErrorFacts {
  readonly code: string;
  readonly message: string;
  readonly status?: number;
  readonly retryAfterMs?: number;
}

/** Reads what matters from an SDK exception (or a network error the SDK passed on). */
export function awsErrorFacts(e: unknown): AwsErrorFacts {
  const err = e as {
    name?: string;
    code?: string;
    Code?: string;
    message?: string;
    $metadata?: { httpStatusCode?: number };
    $response?: { headers?: Record<string, string | undefined> };
  };
  const code = err?.Code ?? (typeof err?.code === 'string' ? err.code : undefined) ?? err?.name ?? 'UnknownError';
  const status = err?.$metadata?.httpStatusCode;
  const header = err?.$response?.headers?.['retry-after'];
  let retryAfterMs: number | undefined;
  if (header !== undefined) {
    const secs = Number(header);
    if (Number.isFinite(secs) && secs >= 0) retryAfterMs = secs * 1000;
    else {
      const at = Date.parse(header);
      if (Number.isFinite(at)) retryAfterMs = Math.max(0, at - Date.now());
    }
  }
  return {
    code,
    message: err?.message ?? String(e),
    ...(status !== undefined ? { status } : {}),
    ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
  };
}

export function errorCode(e: unknown): string {
  return awsErrorFacts(e).code;
}

export function isThrottling(f: AwsErrorFacts): boolean {
  return THROTTLING.has(f.code) || f.status === 429;
}

/** Worth the same call again shortly: throttling, 5xx, timeouts, a dropped connection. */
export function isRetryable(f: AwsErrorFacts): boolean {
  return isThrottling(f) || TRANSIENT.has(f.code) || NETWORK.has(f.code) || (f.status !== undefined && f.status >= 500);
}

export function kindOf(f: AwsErrorFacts): ProviderErrorKind {
  if (isThrottling(f)) return 'throttled';
  if (isRetryable(f)) return 'transient';
  if (FORBIDDEN.has(f.code) || f.status === 403) return 'forbidden';
  if (CONFLICT.has(f.code)) return 'conflict';
  if (/NotFound/.test(f.code)) return 'notFound';
  if (/^TooMany|LimitExceeded$|^InsufficientFreeAddresses|AddressLimitExceeded/.test(f.code)) return 'quota';
  // Everything else AWS rejects is about what was asked (ValidationError,
  // InvalidConfigurationRequest, OperationNotPermitted, UnsupportedProtocol, ...).
  if (f.status === undefined || (f.status >= 400 && f.status < 500)) return 'invalid';
  return 'transient';
}

export function toAwsProviderError(action: string, e: unknown, provider: string, retryAfterMs?: number): ProviderError {
  if (e instanceof ProviderError) return e;
  const f = awsErrorFacts(e);
  const after = retryAfterMs ?? f.retryAfterMs;
  return new ProviderError(kindOf(f), `${action}: ${f.code}: ${f.message}`, {
    provider,
    cause: e,
    ...(after !== undefined ? { retryAfterMs: after } : {}),
  });
}

/** Whether an error (raw or already a ProviderError) carries one of the AWS codes. */
export function hasCode(e: unknown, ...codes: string[]): boolean {
  const raw = e instanceof ProviderError ? e.cause : e;
  return codes.includes(errorCode(raw));
}
