// A small toolkit for reading annotations into typed values. Every parser reports a bad
// value with the annotation's name and the reason, and a whole schema is parsed at
// once so the user sees every mistake in one Event rather than one per edit.
//
// lbc's own annotations (lbc-annotations.ts) and each provider's (AWS, GCE, MetalLB
// names) are declared with the same toolkit:
//
//   const schema = {
//     targetType: annotation('lbc.dev/target-type', oneOf(['instance', 'ip'] as const)),
//     interval: annotation('lbc.dev/health-check-interval', duration({ minMs: 1000 })).withDefault(10_000),
//   };
//   const r = parseAnnotations(schema, svc.metadata?.annotations);
//   if (r.ok) r.value.targetType; // 'instance' | 'ip' | undefined
import type { z } from 'zod';
import { parseDuration } from '../config/duration.js';
import { parseCidr } from './ip.js';

export type ParseOutcome<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string };

/** Turns one raw (already trimmed) annotation value into a typed one. */
export type ValueParser<T> = (raw: string) => ParseOutcome<T>;

export type AnnotationResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly annotation: string; readonly reason: string };

export interface AnnotationError {
  readonly annotation: string;
  readonly reason: string;
}

export type Annotations = Readonly<Record<string, string>> | undefined;

const ok = <T>(value: T): ParseOutcome<T> => ({ ok: true, value });
const bad = (reason: string): ParseOutcome<never> => ({ ok: false, reason });
const quote = (s: string): string => JSON.stringify(s);

// ---- value parsers -------------------------------------------------------------

/** Go's strconv.ParseBool spellings, since the annotations come from Go projects. */
export function bool(): ValueParser<boolean> {
  const yes = new Set(['1', 't', 'T', 'true', 'TRUE', 'True']);
  const no = new Set(['0', 'f', 'F', 'false', 'FALSE', 'False']);
  return (raw) => (yes.has(raw) ? ok(true) : no.has(raw) ? ok(false) : bad(`${quote(raw)} is not a boolean (use "true" or "false")`));
}

export function int(opts: { min?: number; max?: number } = {}): ValueParser<number> {
  return (raw) => {
    if (!/^-?\d+$/.test(raw)) return bad(`${quote(raw)} is not an integer`);
    const n = Number(raw);
    if (!Number.isSafeInteger(n)) return bad(`${quote(raw)} is out of range`);
    if (opts.min !== undefined && n < opts.min) return bad(`${n} is below the minimum ${opts.min}`);
    if (opts.max !== undefined && n > opts.max) return bad(`${n} is above the maximum ${opts.max}`);
    return ok(n);
  };
}

export function port(): ValueParser<number> {
  return int({ min: 1, max: 65535 });
}

/** A duration in milliseconds; accepts Go durations ("30s", "1m30s") or bare seconds ("30"). */
export function duration(opts: { minMs?: number; maxMs?: number } = {}): ValueParser<number> {
  return (raw) => {
    const d = parseDuration(raw);
    if (!d.ok) return bad(d.reason);
    if (opts.minMs !== undefined && d.ms < opts.minMs) return bad(`${quote(raw)} is shorter than the minimum ${opts.minMs}ms`);
    if (opts.maxMs !== undefined && d.ms > opts.maxMs) return bad(`${quote(raw)} is longer than the maximum ${opts.maxMs}ms`);
    return ok(d.ms);
  };
}

export function oneOf<const V extends string>(values: readonly V[], opts: { caseInsensitive?: boolean } = {}): ValueParser<V> {
  return (raw) => {
    const hit = values.find((v) => (opts.caseInsensitive ? v.toLowerCase() === raw.toLowerCase() : v === raw));
    return hit !== undefined ? ok(hit) : bad(`${quote(raw)} is not one of ${values.map(quote).join(', ')}`);
  };
}

export function string(opts: { pattern?: RegExp; expected?: string; maxLength?: number } = {}): ValueParser<string> {
  return (raw) => {
    if (raw === '') return bad('must not be empty');
    if (opts.maxLength !== undefined && raw.length > opts.maxLength) return bad(`longer than ${opts.maxLength} characters`);
    if (opts.pattern && !opts.pattern.test(raw)) return bad(`${quote(raw)} is not ${opts.expected ?? `of the form ${opts.pattern.source}`}`);
    return ok(raw);
  };
}

/** An absolute HTTP request path, as health checks need. */
export function httpPath(): ValueParser<string> {
  return (raw) => {
    if (!raw.startsWith('/')) return bad(`${quote(raw)} is not an absolute path (must start with /)`);
    if (/[\s?#]/.test(raw)) return bad(`${quote(raw)} must not contain whitespace, ? or #`);
    return ok(raw);
  };
}

function splitList(raw: string): ParseOutcome<string[]> {
  if (raw === '') return ok([]);
  const items = raw.split(',').map((s) => s.trim());
  const empty = items.findIndex((s) => s === '');
  return empty >= 0 ? bad(`item ${empty + 1} of ${quote(raw)} is empty`) : ok(items);
}

/** Comma-separated items, each optionally checked by `item`. Empty text is the empty list. */
export function stringList(item?: ValueParser<string>): ValueParser<string[]> {
  return (raw) => {
    const items = splitList(raw);
    if (!items.ok || !item) return items;
    const out: string[] = [];
    for (const [i, s] of items.value.entries()) {
      const r = item(s);
      if (!r.ok) return bad(`item ${i + 1}: ${r.reason}`);
      out.push(r.value);
    }
    return ok(out);
  };
}

/**
 * Comma-separated CIDRs, IPv4 or IPv6, normalised to their network address and
 * de-duplicated. Empty text is the empty list (no restriction), as upstream reads it.
 */
export function cidrList(opts: { family?: 4 | 6 } = {}): ValueParser<string[]> {
  return (raw) => {
    const items = splitList(raw);
    if (!items.ok) return items;
    const out: string[] = [];
    const errors: string[] = [];
    for (const s of items.value) {
      const c = parseCidr(s);
      if (!c.ok) errors.push(c.reason);
      else if (opts.family !== undefined && c.family !== opts.family) errors.push(`${quote(s)} is not an IPv${opts.family} CIDR`);
      else if (!out.includes(c.cidr)) out.push(c.cidr);
    }
    return errors.length > 0 ? bad(errors.join('; ')) : ok(out);
  };
}

/** `k1=v1,k2=v2`: keys non-empty and unique, values may be empty and may contain '='. */
export function keyValueList(opts: { key?: ValueParser<string> } = {}): ValueParser<Record<string, string>> {
  return (raw) => {
    const items = splitList(raw);
    if (!items.ok) return items;
    const out: Record<string, string> = {};
    for (const item of items.value) {
      const eq = item.indexOf('=');
      if (eq < 0) return bad(`${quote(item)} is not key=value`);
      const key = item.slice(0, eq).trim();
      const value = item.slice(eq + 1).trim();
      if (key === '') return bad(`${quote(item)} has an empty key`);
      if (opts.key) {
        const k = opts.key(key);
        if (!k.ok) return bad(`key ${quote(key)}: ${k.reason}`);
      }
      if (Object.hasOwn(out, key)) return bad(`key ${quote(key)} appears twice`);
      out[key] = value;
    }
    return ok(out);
  };
}

/** JSON text, checked against a zod schema when one is given. */
export function json<T = unknown>(schema?: z.ZodType<T>): ValueParser<T> {
  return (raw) => {
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (e) {
      return bad(`not valid JSON: ${(e as Error).message}`);
    }
    if (!schema) return ok(value as T);
    const r = schema.safeParse(value);
    if (r.success) return ok(r.data);
    const issues = r.error.issues.map((i) => `${i.path.length > 0 ? `${i.path.join('.')}: ` : ''}${i.message}`);
    return bad(issues.join('; '));
  };
}

// ---- one annotation ------------------------------------------------------------

/** Reads one annotation; absent gives value undefined, present-but-bad names the annotation. */
export function parseAnnotation<T>(annotations: Annotations, name: string, parser: ValueParser<T>): AnnotationResult<T | undefined> {
  const raw = annotations?.[name];
  if (raw === undefined) return { ok: true, value: undefined };
  const r = parser(raw.trim());
  return r.ok ? r : { ok: false, annotation: name, reason: r.reason };
}

// ---- schemas -------------------------------------------------------------------

export interface AnnotationField<Out> {
  /** The names this field is read from; later names are aliases (e.g. a provider's spelling). */
  readonly names: readonly string[];
  read(annotations: Annotations): AnnotationResult<Out>;
}

export interface OptionalAnnotationField<T> extends AnnotationField<T | undefined> {
  withDefault(value: T): AnnotationField<T>;
}

/**
 * Declares one schema entry. With several names, any one may be set; setting two to
 * different values is an error rather than a silent precedence rule.
 */
export function annotation<T>(names: string | readonly string[], parse: ValueParser<T>): OptionalAnnotationField<T> {
  const list = typeof names === 'string' ? [names] : [...names];
  const read = (annotations: Annotations): AnnotationResult<T | undefined> => {
    // Most objects set none of a schema's names: found so, without the list of those
    // present (parseAnnotations of every Service model, #21).
    if (!list.some((n) => annotations?.[n] !== undefined)) return { ok: true, value: undefined };
    const present = list.filter((n) => annotations?.[n] !== undefined);
    const first = present[0];
    if (first === undefined) return { ok: true, value: undefined };
    const firstRaw = annotations?.[first]?.trim();
    const clash = present.find((n) => annotations?.[n]?.trim() !== firstRaw);
    if (clash !== undefined) {
      return { ok: false, annotation: first, reason: `conflicts with ${clash}, which is set to a different value; set only one` };
    }
    return parseAnnotation(annotations, first, parse);
  };
  return {
    names: list,
    read,
    withDefault: (value: T): AnnotationField<T> => ({
      names: list,
      read: (annotations) => {
        const r = read(annotations);
        return r.ok && r.value === undefined ? { ok: true, value } : (r as AnnotationResult<T>);
      },
    }),
  };
}

export type AnnotationSchema = Readonly<Record<string, AnnotationField<unknown>>>;

export type AnnotationValues<S extends AnnotationSchema> = {
  -readonly [K in keyof S]: S[K] extends AnnotationField<infer O> ? O : never;
};

export type SchemaResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly errors: readonly AnnotationError[] };

/** Parses every field, collecting all errors rather than stopping at the first. */
export function parseAnnotations<S extends AnnotationSchema>(schema: S, annotations: Annotations): SchemaResult<AnnotationValues<S>> {
  const value: Record<string, unknown> = {};
  const errors: AnnotationError[] = [];
  for (const key of Object.keys(schema)) {
    const r = (schema[key] as AnnotationField<unknown>).read(annotations);
    if (r.ok) value[key] = r.value;
    else errors.push({ annotation: r.annotation, reason: r.reason });
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, value: value as AnnotationValues<S> };
}

/** Every annotation name a schema reads, e.g. to list them in docs or spot typos. */
export function annotationNames(schema: AnnotationSchema): string[] {
  return Object.values(schema).flatMap((f) => f.names);
}
