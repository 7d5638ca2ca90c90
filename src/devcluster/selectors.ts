// Label and field selectors with the grammar of k8s.io/apimachinery/pkg/labels and
// pkg/fields: `a=b,c!=d,e in (f,g),h notin (i),j,!k` and `metadata.name=x`.
import { badRequest } from './errors.js';

export type LabelRequirement =
  | { op: 'in'; key: string; values: string[] }
  | { op: 'notin'; key: string; values: string[] }
  | { op: 'exists'; key: string }
  | { op: '!exists'; key: string };

export type LabelSelector = LabelRequirement[];

const KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/;

function checkKey(key: string, whole: string): void {
  if (!KEY.test(key) || key.length > 316) {
    throw badRequest(`unable to parse requirement: invalid label key "${key}": in selector "${whole}"`);
  }
}

function checkValue(v: string, whole: string): void {
  if (!VALUE.test(v) || v.length > 63) {
    throw badRequest(`unable to parse requirement: invalid label value: "${v}": in selector "${whole}"`);
  }
}

/** Splits on commas that are not inside parentheses. */
function splitTop(s: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(cur);
      cur = '';
    } else cur += ch;
  }
  parts.push(cur);
  if (depth !== 0) throw badRequest(`unable to parse requirement: unbalanced parentheses in selector "${s}"`);
  return parts;
}

export function parseLabelSelector(raw: string | undefined): LabelSelector {
  const whole = (raw ?? '').trim();
  if (!whole) return [];
  const reqs: LabelSelector = [];
  for (const part0 of splitTop(whole)) {
    const part = part0.trim();
    if (!part) throw badRequest(`found '', expected: identifier in selector "${whole}"`);
    let m: RegExpMatchArray | null;
    if ((m = part.match(/^(\S+?)\s+(in|notin)\s*\((.*)\)$/))) {
      const key = m[1]!;
      checkKey(key, whole);
      const values = m[3]!.split(',').map((v) => v.trim());
      if (values.length === 1 && values[0] === '') {
        throw badRequest(`unable to parse requirement: for 'in', 'notin' operators, values set can't be empty in selector "${whole}"`);
      }
      values.forEach((v) => checkValue(v, whole));
      reqs.push({ op: m[2] as 'in' | 'notin', key, values });
    } else if ((m = part.match(/^([^!=\s]+)\s*(==|=|!=)\s*(\S*)$/))) {
      const key = m[1]!;
      checkKey(key, whole);
      const value = m[3]!;
      checkValue(value, whole);
      reqs.push({ op: m[2] === '!=' ? 'notin' : 'in', key, values: [value] });
    } else if ((m = part.match(/^!\s*(\S+)$/))) {
      checkKey(m[1]!, whole);
      reqs.push({ op: '!exists', key: m[1]! });
    } else if (/^\S+$/.test(part) && !/[=!()<>]/.test(part)) {
      checkKey(part, whole);
      reqs.push({ op: 'exists', key: part });
    } else {
      throw badRequest(`unable to parse requirement: couldn't parse the selector string "${whole}"`);
    }
  }
  return reqs;
}

export function matchLabels(sel: LabelSelector, labels: Record<string, string> | undefined): boolean {
  const l = labels ?? {};
  return sel.every((r) => {
    const has = Object.prototype.hasOwnProperty.call(l, r.key);
    switch (r.op) {
      case 'exists':
        return has;
      case '!exists':
        return !has;
      case 'in':
        return has && r.values.includes(l[r.key]!);
      case 'notin':
        return !has || !r.values.includes(l[r.key]!);
    }
  });
}

/** A field selector: `path=value` / `path==value` / `path!=value`, ANDed. */
export interface FieldRequirement {
  path: string;
  value: string;
  negate: boolean;
}

export function parseFieldSelector(raw: string | undefined, supported: readonly string[]): FieldRequirement[] {
  const whole = (raw ?? '').trim();
  if (!whole) return [];
  return whole.split(',').map((part) => {
    const m = part.trim().match(/^([^!=]+?)\s*(==|=|!=)\s*(.*)$/);
    if (!m) throw badRequest(`invalid selector: '${whole}'; can't understand '${part}'`);
    const path = m[1]!.trim();
    if (!supported.includes(path)) throw badRequest(`field label not supported: ${path}`);
    return { path, value: m[3]!.trim(), negate: m[2] === '!=' };
  });
}

export function matchFields(reqs: FieldRequirement[], obj: unknown): boolean {
  return reqs.every((r) => {
    const v = fieldValue(obj, r.path);
    return r.negate ? v !== r.value : v === r.value;
  });
}

function fieldValue(obj: unknown, path: string): string {
  let cur: unknown = obj;
  for (const seg of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return '';
    cur = (cur as Record<string, unknown>)[seg];
  }
  if (cur === undefined || cur === null) return '';
  return String(cur);
}
