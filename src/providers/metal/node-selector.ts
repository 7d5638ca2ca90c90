// Kubernetes label selectors (matchLabels + matchExpressions) for the pools' node
// selectors, with the API's semantics: every requirement must hold; an empty selector
// matches everything. Pure.
import { z } from 'zod';
import { selectorMatches } from '../../model/label-selector.js';

export { selectorMatches };

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

/** Any of `selectors` matches; no selectors at all matches every node. */
export function anySelectorMatches(selectors: readonly LabelSelector[], labels: Readonly<Record<string, string>> | undefined): boolean {
  return selectors.length === 0 || selectors.some((s) => selectorMatches(s, labels));
}
