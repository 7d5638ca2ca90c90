// Gateway API Duration strings (GEP-2257): one to four parts of a 1-5 digit number and
// a unit of h, m, s or ms, e.g. `1h`, `500ms`, `1m30s`. Zero means no timeout.
const DURATION = /^([0-9]{1,5}(h|m|s|ms)){1,4}$/;
const PART = /([0-9]{1,5})(ms|h|m|s)/g;
const UNIT_MS: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1 };

/** Milliseconds, or undefined when `d` is not a Gateway API Duration. */
export function parseDuration(d: string): number | undefined {
  if (!DURATION.test(d)) return undefined;
  let ms = 0;
  for (const [, n, unit] of d.matchAll(PART)) ms += Number(n) * (UNIT_MS[unit ?? 's'] ?? 0);
  return ms;
}
