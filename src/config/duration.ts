// Durations as users write them in Kubernetes land: Go's time.ParseDuration form
// ("90s", "1m30s", "1.5h", "250ms") or a bare number of seconds, which is what
// cloud annotations such as aws-load-balancer-healthcheck-interval use.

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const GO_DURATION = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h))+$/;
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;
const BARE_SECONDS = /^\d+$/;

export type DurationResult = { readonly ok: true; readonly ms: number } | { readonly ok: false; readonly reason: string };

export function parseDuration(input: string | number): DurationResult {
  if (typeof input === 'number') {
    if (!Number.isFinite(input) || input < 0) return { ok: false, reason: `${input} is not a non-negative number of seconds` };
    return { ok: true, ms: Math.round(input * 1000) };
  }
  const text = input.trim();
  if (BARE_SECONDS.test(text)) return { ok: true, ms: Number(text) * 1000 };
  if (!GO_DURATION.test(text)) {
    return { ok: false, reason: `"${input}" is not a duration (use e.g. 30s, 5m, 1h30m, 250ms, or a number of seconds)` };
  }
  let ms = 0;
  for (const m of text.matchAll(PART)) ms += Number(m[1]) * (UNIT_MS[m[2] ?? ''] ?? 0);
  return { ok: true, ms: Math.round(ms) };
}

/** Prints ms the way parseDuration reads it back, for messages and `lbc plan` output. */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  const parts: string[] = [];
  let rest = ms;
  for (const [unit, size] of [['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  if (rest > 0) parts.push(`${rest}ms`);
  return parts.join('');
}
