// The JSONPath subset CRD printer columns use (`.spec.x`, `.list[*].f`, `.list[0]`,
// `.conditions[?(@.type=="Ready")].status`), evaluated as k8s.io/client-go/util/jsonpath
// does for a column: every match, in order; the table shows the first.
import { isObject } from './objects.js';

type Step = { field: string } | { index: number } | { all: true } | { filter: { path: string[]; value: string } };

const FILTER = /^\?\(@\.([A-Za-z0-9_.-]+)\s*==\s*(?:"([^"]*)"|'([^']*)')\)$/;

/** Parses a simple path; undefined for anything outside the subset. */
export function parseJsonPath(path: string): Step[] | undefined {
  const steps: Step[] = [];
  let rest = path.trim().replace(/^\{(.*)\}$/, '$1').replace(/^\$/, '');
  while (rest) {
    let m = /^\.([A-Za-z0-9_-]+)/.exec(rest);
    if (m) {
      steps.push({ field: m[1]! });
      rest = rest.slice(m[0].length);
      continue;
    }
    m = /^\[([^\]]*)\]/.exec(rest);
    if (!m) return undefined;
    const inner = m[1]!.trim();
    rest = rest.slice(m[0].length);
    if (inner === '*') steps.push({ all: true });
    else if (/^\d+$/.test(inner)) steps.push({ index: Number(inner) });
    else {
      const f = FILTER.exec(inner);
      if (!f) return undefined;
      steps.push({ filter: { path: f[1]!.split('.'), value: f[2] ?? f[3]! } });
    }
  }
  return steps;
}

export function evalJsonPath(steps: Step[], root: unknown): unknown[] {
  let cur: unknown[] = [root];
  for (const s of steps) {
    const next: unknown[] = [];
    for (const v of cur) {
      if ('field' in s) {
        if (isObject(v) && v[s.field] !== undefined) next.push(v[s.field]);
      } else if ('index' in s) {
        if (Array.isArray(v) && s.index < v.length) next.push(v[s.index]);
      } else if ('all' in s) {
        if (Array.isArray(v)) next.push(...v);
        else if (isObject(v)) next.push(...Object.values(v));
      } else if (Array.isArray(v)) {
        for (const el of v) {
          let x: unknown = el;
          for (const p of s.filter.path) x = isObject(x) ? x[p] : undefined;
          if (x !== undefined && String(x) === s.filter.value) next.push(el);
        }
      }
    }
    cur = next;
  }
  return cur;
}
