// Kubernetes label selectors (matchLabels + matchExpressions) for the pools' node
// selectors, with the API's semantics: every requirement must hold; an empty selector
// matches everything. Pure.
import { z } from 'zod';

export const labelSelectorSchema = z.strictObject({
  matchLabels: z.record(z.string(), z.string()).optional(),
  matchExpressions: z
    .array(
      z
        .strictObject({
          key: z.string().min(1),
          operator: z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist']),
          values: z.array(z.string()).optional(),
        })
        .superRefine((e, ctx) => {
          const needsValues = e.operator === 'In' || e.operator === 'NotIn';
          if (needsValues && (e.values ?? []).length === 0) ctx.addIssue({ code: 'custom', message: `operator ${e.operator} needs values`, path: ['values'] });
          if (!needsValues && (e.values ?? []).length > 0) ctx.addIssue({ code: 'custom', message: `operator ${e.operator} takes no values`, path: ['values'] });
        }),
    )
    .optional(),
});

export type LabelSelector = z.output<typeof labelSelectorSchema>;

export function selectorMatches(sel: LabelSelector, labels: Readonly<Record<string, string>> | undefined): boolean {
  const l = labels ?? {};
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) if (l[k] !== v) return false;
  for (const e of sel.matchExpressions ?? []) {
    const has = Object.hasOwn(l, e.key);
    const value = l[e.key];
    switch (e.operator) {
      case 'In':
        if (!has || !(e.values ?? []).includes(value ?? '')) return false;
        break;
      case 'NotIn':
        if (has && (e.values ?? []).includes(value ?? '')) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
    }
  }
  return true;
}

/** Any of `selectors` matches; no selectors at all matches every node. */
export function anySelectorMatches(selectors: readonly LabelSelector[], labels: Readonly<Record<string, string>> | undefined): boolean {
  return selectors.length === 0 || selectors.some((s) => selectorMatches(s, labels));
}
