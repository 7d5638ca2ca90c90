// What a Compute API failure means for lbc. The REST transport surfaces HTTP errors as
// GaxiosError (status plus the JSON error body) and transport failures with a string
// code; long-running operations end with their own error list. All of them become a
// GceError: a ProviderError whose kind drives the reconciler's retry policy, which
// also keeps the HTTP status and Compute's reason for the decisions made here (404 on
// delete is success, 409 may be adoption, 412 means re-read, in-use means shared).
import { ProviderError, type ProviderErrorKind } from '../types.js';

export class GceError extends ProviderError {
  declare readonly status?: number;
  declare readonly reason?: string;

  constructor(kind: ProviderErrorKind, message: string, opts: { status?: number; reason?: string; retryAfterMs?: number; provider?: string; cause?: unknown }) {
    super(kind, message, opts);
    if (opts.status !== undefined) Object.defineProperty(this, 'status', { value: opts.status, enumerable: true });
    if (opts.reason !== undefined) Object.defineProperty(this, 'reason', { value: opts.reason, enumerable: true });
  }
}

interface ErrorBody {
  readonly message?: string;
  readonly reason?: string;
}

const RATE_LIMIT_REASONS = new Set(['rateLimitExceeded', 'userRateLimitExceeded', 'RATE_LIMIT_EXCEEDED']);
const QUOTA_REASONS = new Set(['quotaExceeded', 'QUOTA_EXCEEDED', 'limitExceeded']);
const IN_USE_REASONS = new Set(['resourceInUseByAnotherResource', 'RESOURCE_IN_USE_BY_ANOTHER_RESOURCE']);
// google-auth-library's token client (gtoken) refusing a key file before any request:
// only the operator can fix it, so it is forbidden, not transient.
const CREDENTIAL_CODES = new Set(['MISSING_CREDENTIALS', 'UNKNOWN_CERTIFICATE_TYPE']);
const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ENOTFOUND', 'ECONNABORTED', 'UND_ERR_SOCKET', 'TimeoutError']);

function asRecord(v: unknown): Record<string, unknown> | undefined {
  return v !== null && typeof v === 'object' ? (v as Record<string, unknown>) : undefined;
}

/** The `{"error": {...}}` body, wherever this error kept it. */
function errorBody(e: Record<string, unknown>): ErrorBody {
  const candidates: unknown[] = [asRecord(e.response)?.data, e.message];
  for (const c of candidates) {
    let v = c;
    if (typeof v === 'string') {
      try {
        v = JSON.parse(v);
      } catch {
        continue;
      }
    }
    const err = asRecord(asRecord(v)?.error);
    if (!err) continue;
    const first = asRecord((err.errors as unknown[] | undefined)?.[0]);
    const details = (err.details as unknown[] | undefined)?.map(asRecord).find((d) => typeof d?.reason === 'string');
    const reason = (first?.reason as string | undefined) ?? (details?.reason as string | undefined);
    return { ...(typeof err.message === 'string' ? { message: err.message } : {}), ...(reason !== undefined ? { reason } : {}) };
  }
  return {};
}

function headerOf(headers: unknown, name: string): string | undefined {
  if (!headers) return undefined;
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  const h = asRecord(headers);
  const hit = h && Object.keys(h).find((k) => k.toLowerCase() === name);
  const v = hit !== undefined ? h?.[hit] : undefined;
  return typeof v === 'string' ? v : undefined;
}

/** Retry-After is seconds or an HTTP date. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

function kindFor(status: number | undefined, reason: string | undefined): ProviderErrorKind {
  if (status === 429 || (reason !== undefined && RATE_LIMIT_REASONS.has(reason))) return 'throttled';
  if (reason !== undefined && QUOTA_REASONS.has(reason)) return 'quota';
  if (reason !== undefined && IN_USE_REASONS.has(reason)) return 'conflict';
  if (status === undefined || status >= 500) return 'transient';
  if (status === 404) return 'notFound';
  if (status === 409 || status === 412) return 'conflict';
  if (status === 401 || status === 403) return 'forbidden';
  if (status === 408) return 'transient';
  return 'invalid';
}

/** Turns whatever a client call threw into a GceError naming the call. */
export function toGceError(e: unknown, what: string, provider: string): GceError {
  if (e instanceof GceError) return e;
  if (e instanceof ProviderError) return new GceError(e.kind, e.message, { provider, cause: e, ...(e.retryAfterMs !== undefined ? { retryAfterMs: e.retryAfterMs } : {}) });
  const rec = asRecord(e) ?? {};
  const response = asRecord(rec.response);
  const rawStatus = rec.status ?? response?.status ?? (typeof rec.code === 'number' && rec.code >= 100 ? rec.code : undefined);
  const status = typeof rawStatus === 'number' ? rawStatus : undefined;
  const body = errorBody(rec);
  const code = typeof rec.code === 'string' ? rec.code : undefined;
  const network = status === undefined && (code === undefined || NETWORK_CODES.has(code) || e instanceof TypeError);
  const kind = code !== undefined && CREDENTIAL_CODES.has(code) ? 'forbidden' : network ? 'transient' : kindFor(status, body.reason);
  const retryAfterMs = parseRetryAfter(headerOf(response?.headers, 'retry-after'));
  const detail = body.message ?? (e instanceof Error ? e.message : String(e));
  const label = status !== undefined ? `HTTP ${status}${body.reason ? ` ${body.reason}` : ''}` : (code ?? 'error');
  return new GceError(kind, `${what}: ${label}: ${detail}`, {
    provider,
    cause: e,
    ...(status !== undefined ? { status } : {}),
    ...(body.reason !== undefined ? { reason: body.reason } : {}),
    ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
  });
}

/** An operation that finished with errors (the call itself had succeeded). */
export function operationError(
  what: string,
  provider: string,
  op: { error?: { errors?: readonly { code?: string | null; message?: string | null }[] | null } | null; httpErrorStatusCode?: number | null; httpErrorMessage?: string | null },
): GceError {
  const errors = op.error?.errors ?? [];
  const first = errors[0];
  const code = first?.code ?? undefined;
  const status = op.httpErrorStatusCode ?? undefined;
  let kind: ProviderErrorKind = kindFor(status ?? undefined, code);
  if (code === 'RESOURCE_NOT_FOUND') kind = 'notFound';
  else if (code === 'ALREADY_EXISTS' || code === 'RESOURCE_ALREADY_EXISTS' || code === 'IP_IN_USE_BY_ANOTHER_RESOURCE') kind = 'conflict';
  else if (code !== undefined && /INVALID|BAD_REQUEST|UNSUPPORTED/.test(code)) kind = 'invalid';
  else if (code !== undefined && /PERMISSION|FORBIDDEN/.test(code)) kind = 'forbidden';
  const text = errors.map((x) => `${x.code ?? 'ERROR'}: ${x.message ?? ''}`).join('; ') || op.httpErrorMessage || 'operation failed';
  return new GceError(kind, `${what}: operation failed: ${text}`, {
    provider,
    ...(status !== undefined ? { status } : {}),
    ...(code !== undefined ? { reason: code } : {}),
  });
}

export const isNotFound = (e: unknown): boolean => e instanceof GceError && (e.status === 404 || e.reason === 'RESOURCE_NOT_FOUND' || e.reason === 'notFound');
export const isAlreadyExists = (e: unknown): boolean =>
  e instanceof GceError && (e.status === 409 || e.reason === 'alreadyExists' || e.reason === 'ALREADY_EXISTS' || e.reason === 'RESOURCE_ALREADY_EXISTS');
export const isInUse = (e: unknown): boolean => e instanceof GceError && e.reason !== undefined && IN_USE_REASONS.has(e.reason);
/** 412 conditionNotMet: the fingerprint sent is stale; re-read and try again. */
export const isFingerprintConflict = (e: unknown): boolean => e instanceof GceError && (e.status === 412 || e.reason === 'conditionNotMet');
export const isForbidden = (e: unknown): boolean => e instanceof GceError && e.kind === 'forbidden';
