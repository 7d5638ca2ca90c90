// x-kubernetes-validations: CEL rules compiled with @bufbuild/cel and run as kube-apiserver
// runs them (apiextensions-apiserver pkg/apiserver/schema/cel): `self` is the value the rule
// sits on, typed by its schema; `oldSelf` only on update and only where the old value can be
// correlated; a failed rule is FieldValueInvalid with the schema type as the value.
import { celEnv, celList, celMap, celMethod, CelScalar, isCelError, objectType, parse, plan, type CelFunc, type CelInput, type CelResult } from '@bufbuild/cel';
import { create } from '@bufbuild/protobuf';
import { DurationSchema, TimestampSchema } from '@bufbuild/protobuf/wkt';
import { strings } from '@bufbuild/cel/ext';
import { RE2JS } from '@bufbuild/re2';
import type { StructuralSchema } from './structural-schema.js';

type ParsedExpr = ReturnType<typeof parse>;
type Expr = ParsedExpr['expr'];

export interface ValidationRule {
  rule: string;
  message?: string;
  messageExpression?: string;
  reason?: string;
  fieldPath?: string;
}

export interface CompiledRule {
  source: ValidationRule;
  usesOldSelf: boolean;
  program: (vars: Record<string, unknown>) => CelResult;
  messageProgram?: (vars: Record<string, unknown>) => CelResult;
}

// Kubernetes 1.26 enables cel-go's strings extension at version 0: these ten functions, not
// the later format/quote/reverse the library also offers.
const K8S_STRING_FUNCTIONS = new Set(['charAt', 'indexOf', 'lastIndexOf', 'lowerAscii', 'upperAscii', 'replace', 'split', 'substring', 'trim', 'join']);

// matches() compiles its pattern at every call unless given an engine; rule patterns are
// constants, so each is compiled once. Bounded, since a pattern may also come from the object.
const compiledPatterns = new Map<string, RE2JS>();
const re2 = {
  compile(pattern: string): RE2JS {
    let re = compiledPatterns.get(pattern);
    if (!re) {
      re = RE2JS.compile(pattern);
      if (compiledPatterns.size >= 1000) compiledPatterns.clear();
      compiledPatterns.set(pattern, re);
    }
    return re;
  },
};

// cel-go (what kube-apiserver runs) answers duration.getMilliseconds() with the whole
// duration in milliseconds (Go's Duration.Milliseconds()); @bufbuild/cel answers the
// millisecond part only. MetalLB's BGPPeer connectTime rule calls it; checked on v1.26:
// duration('2500ms').getMilliseconds() < 1000 is false there.
const durationMilliseconds = celMethod('getMilliseconds', objectType(DurationSchema), [], CelScalar.INT, function () {
  const d = this.message as { seconds: bigint; nanos: number };
  return d.seconds * 1000n + BigInt(Math.trunc(d.nanos / 1e6));
});

const env = celEnv({ funcs: [...strings.filter((f: CelFunc) => K8S_STRING_FUNCTIONS.has(f.name)), durationMilliseconds], re2 });

// Macros the parser expands (has, all, exists, exists_one, map, filter) never reach here as calls.
const OPERATORS = /^(_.*_|_\[_\]|!_|-_|@in|@not_strictly_false)$/;

function isDeclared(name: string): boolean {
  return OPERATORS.test(name) || env.funcs.find(name) !== undefined;
}

/** Refuses what cel-go's checker would: unknown functions and variables other than self/oldSelf and loop variables. */
function checkExpr(e: Expr | undefined, scope: Set<string>, problems: string[], used: { oldSelf: boolean }): void {
  if (!e) return;
  const k = e.exprKind;
  switch (k.case) {
    case 'identExpr':
      if (k.value.name === 'oldSelf') used.oldSelf = true;
      if (!scope.has(k.value.name)) problems.push(`undeclared reference to '${k.value.name}'`);
      return;
    case 'selectExpr':
      checkExpr(k.value.operand, scope, problems, used);
      return;
    case 'callExpr':
      if (!isDeclared(k.value.function)) problems.push(`undeclared reference to '${k.value.function}'`);
      checkExpr(k.value.target, scope, problems, used);
      for (const a of k.value.args) checkExpr(a, scope, problems, used);
      return;
    case 'listExpr':
      for (const a of k.value.elements) checkExpr(a, scope, problems, used);
      return;
    case 'structExpr':
      if (k.value.messageName) problems.push(`undeclared reference to '${k.value.messageName}'`);
      for (const entry of k.value.entries) {
        if (entry.keyKind.case === 'mapKey') checkExpr(entry.keyKind.value, scope, problems, used);
        checkExpr(entry.value, scope, problems, used);
      }
      return;
    case 'comprehensionExpr': {
      const c = k.value;
      checkExpr(c.iterRange, scope, problems, used);
      checkExpr(c.accuInit, scope, problems, used);
      const inner = new Set(scope);
      inner.add(c.iterVar);
      if (c.iterVar2) inner.add(c.iterVar2);
      inner.add(c.accuVar);
      checkExpr(c.loopCondition, inner, problems, used);
      checkExpr(c.loopStep, inner, problems, used);
      const result = new Set(scope);
      result.add(c.accuVar);
      checkExpr(c.result, result, problems, used);
      return;
    }
    default:
      return;
  }
}

function compileExpr(source: string, allowOldSelf: boolean): { ok: true; program: CompiledRule['program']; usesOldSelf: boolean } | { ok: false; why: string } {
  let parsed: ParsedExpr;
  try {
    parsed = parse(source);
  } catch (err) {
    return { ok: false, why: `syntax error: ${err instanceof Error ? err.message : String(err)}` };
  }
  const problems: string[] = [];
  const used = { oldSelf: false };
  checkExpr(parsed.expr, new Set(allowOldSelf ? ['self', 'oldSelf'] : ['self']), problems, used);
  if (problems.length > 0) return { ok: false, why: [...new Set(problems)].join('; ') };
  return { ok: true, program: plan(env, parsed) as CompiledRule['program'], usesOldSelf: used.oldSelf };
}

/** Compiles one schema node's rules; errors name the rule and why, as the CRD would be refused for them. */
export function compileRules(rules: ValidationRule[], path: string, correlatable: boolean): { compiled: CompiledRule[]; errors: string[] } {
  const compiled: CompiledRule[] = [];
  const errors: string[] = [];
  rules.forEach((r, i) => {
    const where = `${path}.x-kubernetes-validations[${i}]`;
    if (typeof r.rule !== 'string' || r.rule.trim() === '') {
      errors.push(`${where}.rule: Required value`);
      return;
    }
    const c = compileExpr(r.rule, true);
    if (!c.ok) {
      errors.push(`${where}.rule: Invalid value: ${JSON.stringify(r.rule)}: compilation failed: ${c.why}`);
      return;
    }
    if (c.usesOldSelf && !correlatable) {
      errors.push(`${where}.rule: Invalid value: ${JSON.stringify(r.rule)}: oldSelf cannot be used on the uncorrelatable portion of the schema within a list`);
      return;
    }
    const rule: CompiledRule = { source: r, usesOldSelf: c.usesOldSelf, program: c.program };
    if (r.messageExpression !== undefined) {
      const m = compileExpr(r.messageExpression, true);
      if (!m.ok) {
        errors.push(`${where}.messageExpression: Invalid value: ${JSON.stringify(r.messageExpression)}: compilation failed: ${m.why}`);
        return;
      }
      rule.messageProgram = m.program;
    }
    if (r.reason !== undefined && !['FieldValueInvalid', 'FieldValueForbidden', 'FieldValueRequired', 'FieldValueDuplicate'].includes(r.reason)) {
      errors.push(`${where}.reason: Unsupported value: ${JSON.stringify(r.reason)}: supported values: "FieldValueDuplicate", "FieldValueForbidden", "FieldValueInvalid", "FieldValueRequired"`);
      return;
    }
    compiled.push(rule);
  });
  return { compiled, errors };
}

// Property names as CEL sees them (apiserver/pkg/cel escaping): reserved words become
// __word__, and `__`, `.`, `-`, `/` are spelled out; names that cannot be escaped are not visible.
const RESERVED = new Set(['true', 'false', 'null', 'in', 'as', 'break', 'const', 'continue', 'else', 'for', 'function', 'if', 'import', 'let', 'loop', 'package', 'namespace', 'return', 'var', 'void', 'while']);

export function escapeCelName(name: string): string | undefined {
  if (name === '' || /^[0-9]/.test(name)) return undefined;
  if (RESERVED.has(name)) return `__${name}__`;
  let ok = true;
  const out = name.replace(/__|[-./]|[^a-zA-Z0-9_]/g, (s) => {
    switch (s) {
      case '__': return '__underscores__';
      case '.': return '__dot__';
      case '-': return '__dash__';
      case '/': return '__slash__';
      default: ok = false; return '';
    }
  });
  return ok ? out : undefined;
}

// A `format: date-time` string is a google.protobuf.Timestamp in Kubernetes' CEL, to the nanosecond.
function timestamp(text: string): unknown {
  const m = /^(.*?:\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})$/.exec(text);
  const ms = m ? Date.parse(`${m[1]}${m[3]}`) : NaN;
  if (!m || Number.isNaN(ms)) return undefined;
  return create(TimestampSchema, { seconds: BigInt(ms / 1000), nanos: Number((m[2] ?? '').padEnd(9, '0')) });
}

/**
 * The value as CEL sees it under its schema: integers as int (bigint), object fields escaped.
 * Built as CEL lists and maps once per request (the library would otherwise rebuild a map
 * from a plain object at every access), and cached so nested rules share the conversion.
 */
export function toCel(value: unknown, s: StructuralSchema | undefined, cache: WeakMap<object, unknown>): unknown {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number') {
    if (s?.type === 'number') return value;
    return Number.isInteger(value) ? BigInt(value) : value;
  }
  if (typeof value === 'string' && s?.type === 'string' && s.raw.format === 'date-time') return timestamp(value) ?? value;
  if (typeof value !== 'object') return value;
  const hit = cache.get(value);
  if (hit !== undefined) return hit;
  let out: unknown;
  if (Array.isArray(value)) {
    out = celList(value.map((v) => toCel(v, s?.items, cache) as CelInput));
  } else {
    const o = new Map<string, CelInput>();
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      const prop = s?.properties?.[k];
      if (prop) {
        const name = escapeCelName(k);
        if (name !== undefined) o.set(name, toCel(v, prop, cache) as CelInput);
      } else {
        o.set(k, toCel(v, s?.additionalProperties, cache) as CelInput);
      }
    }
    out = celMap(o);
  }
  cache.set(value, out);
  return out;
}

export { isCelError };
