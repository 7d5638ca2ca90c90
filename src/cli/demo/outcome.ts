// What one `lbc demo --check` expectation saw: held or not, and in a few words what was seen.
export type Outcome = { readonly ok: boolean; readonly detail: string };

/** `web-1×3, web-2×3`: how often each answer came, in order of first appearance. */
export const count = (xs: readonly string[]): string =>
  [...xs.reduce((m, x) => m.set(x, (m.get(x) ?? 0) + 1), new Map<string, number>())].map(([k, n]) => `${k}×${n}`).join(', ');
