// Custom resources validated as kube-apiserver v1.26 validates them: pruning and defaulting
// by the structural schema (structural-schema.ts), the OpenAPI v3 checks (ajv, its errors
// reworded as kube-openapi words them and mapped to field causes as apiextensions-apiserver's
// ValidateCustomResource maps them), x-kubernetes-list-type uniqueness, then the CEL rules
// (crd-cel.ts), skipped with the server's own notice when an earlier error would make them
// unreliable. Texts were checked against a real kube-apiserver v1.26.
import AjvModule, { type ErrorObject, type ValidateFunction } from 'ajv';
import { RE2JS } from '@bufbuild/re2';
import { compileRules, isCelError, toCel, type CompiledRule, type ValidationRule } from './crd-cel.js';
import { goBadValue, goQuote, goSyntax } from './go-format.js';
import { isObject } from './objects.js';
import { KUBE_FORMATS } from './openapi-formats.js';
import { applyDefaults, prune, pruneNulls, structural, unknownFieldPaths, type StructuralSchema } from './structural-schema.js';

export interface CrdCause {
  reason: string;
  message: string;
  field: string;
}

export interface CrdValidator {
  apply(obj: Record<string, unknown>, old?: Record<string, unknown>): { obj: Record<string, unknown>; causes: CrdCause[] };
  /** The fields of obj its schema does not declare (pruning would drop them), as `unknown field` errors name them. */
  unknownFields(obj: Record<string, unknown>): string[];
}

// ajv is CommonJS; under NodeNext its class is the default export's default.
const Ajv = AjvModule.default;

// Schema patterns are Go regular expressions (RE2) on the real server, so they are run by an RE2 engine here.
const re2Engine = Object.assign((pattern: string) => RE2JS.compile(pattern), { code: 're2' });

const ajv = new Ajv({ allErrors: true, strict: false, logger: false, verbose: true, code: { regExp: re2Engine, optimize: false } });
for (const [name, check] of Object.entries(KUBE_FORMATS)) ajv.addFormat(name, check);
for (const name of ['int32', 'int64', 'float', 'double']) ajv.addFormat(name, { type: 'number', validate: () => true });

const COPIED = ['enum', 'format', 'pattern', 'minLength', 'maxLength', 'minItems', 'maxItems', 'uniqueItems', 'minProperties', 'maxProperties', 'multipleOf', 'required'];

/** The kube schema as a JSON-schema draft-07 document for ajv: OpenAPI's nullable, boolean exclusives and int-or-string made explicit. */
function toAjv(raw: unknown): Record<string, unknown> {
  const s = isObject(raw) ? raw : {};
  const out: Record<string, unknown> = {};
  for (const k of COPIED) if (k in s) out[k] = s[k];
  if (s['x-kubernetes-int-or-string'] === true) out.type = ['integer', 'string'];
  else if (typeof s.type === 'string') out.type = s.nullable === true ? [s.type, 'null'] : s.type;
  if (typeof s.minimum === 'number') out[s.exclusiveMinimum === true ? 'exclusiveMinimum' : 'minimum'] = s.minimum;
  if (typeof s.maximum === 'number') out[s.exclusiveMaximum === true ? 'exclusiveMaximum' : 'maximum'] = s.maximum;
  if (isObject(s.properties)) out.properties = Object.fromEntries(Object.entries(s.properties).map(([k, v]) => [k, toAjv(v)]));
  if (isObject(s.additionalProperties)) out.additionalProperties = toAjv(s.additionalProperties);
  if (isObject(s.items)) out.items = toAjv(s.items);
  for (const k of ['allOf', 'anyOf', 'oneOf']) if (Array.isArray(s[k])) out[k] = (s[k] as unknown[]).map(toAjv);
  if (isObject(s.not)) out.not = toAjv(s.not);
  return out;
}

// ---------------------------------------------------------------------------------------
// ajv errors → kube causes

/** A JSON pointer into the object, as a field path: spec.rules[0].matches[0].path. */
function fieldPath(pointer: string, root: unknown): string {
  if (pointer === '') return '';
  let out = '';
  let cur: unknown = root;
  for (const raw of pointer.slice(1).split('/')) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(cur)) {
      out += `[${seg}]`;
      cur = cur[Number(seg)];
    } else {
      out += out === '' ? seg : `.${seg}`;
      cur = isObject(cur) ? cur[seg] : undefined;
    }
  }
  return out;
}

function jsonType(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function child(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

const invalid = (field: string, value: unknown, detail: string): CrdCause => ({ reason: 'FieldValueInvalid', message: `Invalid value: ${goBadValue(value)}: ${detail}`, field });
const typeInvalid = (field: string, value: unknown, detail: string): CrdCause => ({ reason: 'FieldValueTypeInvalid', message: `Invalid value: ${goBadValue(value)}: ${detail}`, field });
/** An error kube-openapi returns outside its Validation type (composition keywords): no field, value "". */
const unplaced = (detail: string): CrdCause => ({ reason: 'FieldValueInvalid', message: `Invalid value: "": ${detail}`, field: '<nil>' });

function num(v: unknown): string {
  return typeof v === 'number' ? goBadValue(v) : String(v);
}

/** One ajv keyword error as kube-openapi and ValidateCustomResource word it; undefined for the ones kube has no counterpart for. */
function mapError(e: ErrorObject, root: unknown): CrdCause | undefined {
  const path = fieldPath(e.instancePath, root);
  const body = `${path} in body`;
  const data = e.data;
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'required':
      return { reason: 'FieldValueRequired', message: 'Required value', field: child(path, String(p.missingProperty)) };
    case 'type': {
      const t = jsonType(data);
      const want = Array.isArray(e.schema) ? (e.schema as string[]).filter((x) => x !== 'null').join(',') : String(e.schema);
      return typeInvalid(path, t, `${body} must be of type ${want}: ${goQuote(t)}`);
    }
    case 'format':
      return typeInvalid(path, data, `${body} must be of type ${String(p.format)}: ${goQuote(String(data))}`);
    case 'enum': {
      const values = (p.allowedValues as unknown[]).map((v) => goQuote(typeof v === 'string' ? v : JSON.stringify(v)));
      return { reason: 'FieldValueNotSupported', message: `Unsupported value: ${goBadValue(data)}: supported values: ${values.join(', ')}`, field: path };
    }
    case 'maxLength':
      return { reason: 'FieldValueTooLong', message: `Too long: may not be longer than ${num(p.limit)}`, field: path };
    case 'maxItems':
      return { reason: 'FieldValueTooMany', message: `Too many: ${(data as unknown[]).length}: must have at most ${num(p.limit)} items`, field: path };
    case 'maxProperties':
      return { reason: 'FieldValueTooMany', message: `Too many: ${Object.keys(data as object).length}: must have at most ${num(p.limit)} items`, field: path };
    case 'minLength':
      return invalid(path, data, `${body} should be at least ${num(p.limit)} chars long`);
    case 'minItems':
      return invalid(path, (data as unknown[]).length, `${body} should have at least ${num(p.limit)} items`);
    case 'minProperties':
      return invalid(path, Object.keys(data as object).length, `${body} should have at least ${num(p.limit)} properties`);
    case 'pattern':
      return invalid(path, data, `${body} should match '${String(p.pattern)}'`);
    case 'minimum':
      return invalid(path, data, `${body} should be greater than or equal to ${num(p.limit)}`);
    case 'exclusiveMinimum':
      return invalid(path, data, `${body} should be greater than ${num(p.limit)}`);
    case 'maximum':
      return invalid(path, data, `${body} should be less than or equal to ${num(p.limit)}`);
    case 'exclusiveMaximum':
      return invalid(path, data, `${body} should be less than ${num(p.limit)}`);
    case 'multipleOf':
      return invalid(path, data, `${body} should be a multiple of ${num(p.multipleOf)}`);
    case 'uniqueItems':
      return invalid(path, data, `${body} shouldn't contain duplicates`);
    case 'not':
      return unplaced(`${goQuote(path)} must not validate the schema (not)`);
    default:
      return undefined;
  }
}

/**
 * kube-openapi reports a failed anyOf/oneOf as one message plus the errors of a single
 * "best" alternative (the one with most successful checks); ajv reports every
 * alternative. The alternative kept here is the one whose declared properties present in
 * the value validate the most, the first on a tie, which is kube-openapi's MatchCount
 * choice for the schemas the shipped CRDs use (Gateway addresses, int-or-string).
 */
function mapErrors(errors: ErrorObject[], root: unknown): CrdCause[] {
  const causes: CrdCause[] = [];
  const consumed = new Set<ErrorObject>();
  for (const e of errors) {
    if (!COMPOSITE.has(e.keyword)) continue;
    const prefix = `${e.schemaPath}/`;
    const branches = new Map<number, ErrorObject[]>();
    for (const sub of errors) {
      if (sub === e || !sub.schemaPath.startsWith(prefix)) continue;
      consumed.add(sub);
      const i = Number(sub.schemaPath.slice(prefix.length).split('/')[0]);
      branches.set(i, [...(branches.get(i) ?? []), sub]);
    }
    (e as ErrorObject & { branches?: Map<number, ErrorObject[]> }).branches = branches;
  }
  const emit = (e: ErrorObject): void => {
    const path = fieldPath(e.instancePath, root);
    const branches = (e as ErrorObject & { branches?: Map<number, ErrorObject[]> }).branches;
    if (branches) {
      if (e.keyword === 'allOf') {
        for (const list of branches.values()) for (const sub of outermost(list)) emit(sub);
        const n = (e.schema as unknown[]).length;
        causes.push(unplaced(`${goQuote(path)} must validate all the schemas (allOf)${branches.size === n ? '. None validated' : ''}`));
        return;
      }
      if (e.keyword === 'anyOf') causes.push(unplaced(`${goQuote(path)} must validate at least one schema (anyOf)`));
      else {
        const passing = (e.params as { passingSchemas?: number[] | null }).passingSchemas;
        const found = passing ? `Found ${passing.length} valid alternatives` : 'Found none valid';
        causes.push(unplaced(`${goQuote(path)} must validate one and only one schema (oneOf). ${found}`));
        if (passing) return;
      }
      for (const sub of outermost(bestBranch(e, branches))) emit(sub);
      return;
    }
    const c = mapError(e, root);
    if (c) causes.push(c);
  };
  for (const e of errors) if (!consumed.has(e)) emit(e);
  return causes;
}

const COMPOSITE = new Set(['anyOf', 'oneOf', 'allOf']);

/** The errors of a list that are not inside a composition reported in the same list (that one reports them). */
function outermost(list: ErrorObject[]): ErrorObject[] {
  const composites = list.filter((e) => COMPOSITE.has(e.keyword));
  return list.filter((e) => !composites.some((c) => c !== e && e.schemaPath.startsWith(`${c.schemaPath}/`)));
}

function bestBranch(e: ErrorObject, branches: Map<number, ErrorObject[]>): ErrorObject[] {
  const alternatives = e.schema as Record<string, unknown>[];
  let best: ErrorObject[] = [];
  let bestScore = -1;
  alternatives.forEach((alt, i) => {
    const errs = branches.get(i) ?? [];
    const props = isObject(alt.properties) ? Object.keys(alt.properties) : [];
    const data = isObject(e.data) ? e.data : {};
    const bad = new Set(errs.map((x) => x.schemaPath.split('/properties/')[1]?.split('/')[0]));
    const score = props.filter((p) => p in data && !bad.has(p)).length;
    if (score > bestScore) {
      best = errs;
      bestScore = score;
    }
  });
  return best;
}

// ---------------------------------------------------------------------------------------
// x-kubernetes-list-type

function listTypeErrors(x: unknown, s: StructuralSchema | undefined, path: string, causes: CrdCause[]): void {
  if (!s) return;
  if (Array.isArray(x)) {
    if (s.listType === 'set') {
      // Each duplicated value is reported once, at its first repetition.
      const seen = new Set<string>();
      const reported = new Set<string>();
      x.forEach((v, i) => {
        const key = JSON.stringify(v);
        if (seen.has(key) && !reported.has(key)) {
          causes.push({ reason: 'FieldValueDuplicate', message: `Duplicate value: ${goBadValue(v)}`, field: `${path}[${i}]` });
          reported.add(key);
        }
        seen.add(key);
      });
    } else if (s.listType === 'map' && s.listMapKeys) {
      const keys = s.listMapKeys;
      const seen = new Set<string>();
      const reported = new Set<string>();
      x.forEach((v, i) => {
        if (!isObject(v)) return;
        const k: Record<string, unknown> = {};
        for (const name of keys) if (name in v) k[name] = v[name];
        const id = JSON.stringify(keys.map((n) => v[n]));
        if (seen.has(id) && !reported.has(id)) {
          causes.push({ reason: 'FieldValueDuplicate', message: `Duplicate value: ${goSyntax(k)}`, field: `${path}[${i}]` });
          reported.add(id);
        }
        seen.add(id);
      });
    }
    x.forEach((v, i) => listTypeErrors(v, s.items, `${path}[${i}]`, causes));
    return;
  }
  if (!isObject(x)) return;
  for (const [k, v] of Object.entries(x)) {
    const prop = s.properties?.[k];
    if (prop) listTypeErrors(v, prop, child(path, k), causes);
    else if (s.additionalProperties) listTypeErrors(v, s.additionalProperties, child(path, k), causes);
  }
}

// ---------------------------------------------------------------------------------------
// CEL rules, per schema node

interface RuleNode {
  schema: StructuralSchema;
  rules: CompiledRule[];
  properties?: Record<string, RuleNode>;
  additionalProperties?: RuleNode;
  items?: RuleNode;
}

/** The schema tree pruned to the branches that hold rules, compiling them on the way. */
function ruleTree(s: StructuralSchema, path: string, correlatable: boolean, errors: string[]): RuleNode | undefined {
  const raw = s.raw['x-kubernetes-validations'];
  const compiled = Array.isArray(raw) ? compileRules(raw as ValidationRule[], path, correlatable) : { compiled: [], errors: [] };
  errors.push(...compiled.errors);
  const node: RuleNode = { schema: s, rules: compiled.compiled };
  let any = node.rules.length > 0;
  for (const [k, p] of Object.entries(s.properties ?? {})) {
    const c = ruleTree(p, `${path}.properties[${k}]`, correlatable, errors);
    if (c) (node.properties ??= {})[k] = c;
    any ||= !!c;
  }
  if (s.additionalProperties) {
    node.additionalProperties = ruleTree(s.additionalProperties, `${path}.additionalProperties`, correlatable, errors);
    any ||= !!node.additionalProperties;
  }
  if (s.items) {
    // Items of a list are correlated with their old selves only in a map list (by its keys).
    node.items = ruleTree(s.items, `${path}.items`, correlatable && s.listType === 'map', errors);
    any ||= !!node.items;
  }
  return any ? node : undefined;
}

function ruleFieldPath(base: string, fieldPathExpr: string | undefined): string {
  if (!fieldPathExpr) return base;
  // fieldPath is a JSON path of field and map-key selections relative to the rule's value.
  let out = base;
  for (const m of fieldPathExpr.matchAll(/\.([^.[]+)|\['([^']*)'\]/g)) {
    const name = m[1] ?? m[2] ?? '';
    out = out === '' ? name : `${out}.${name}`;
  }
  return out;
}

/** cel-go's wording of the runtime errors @bufbuild/cel words differently (the real server prints cel-go's). */
function celGoMessage(message: string): string {
  return message.replace(/^field not found: /, 'no such key: ');
}

function evalRules(node: RuleNode, x: unknown, old: unknown, hasOld: boolean, path: string, causes: CrdCause[], cache: WeakMap<object, unknown>, oldCache: WeakMap<object, unknown>): void {
  if (x === undefined) return;
  if (node.rules.length > 0) {
    const self = toCel(x, node.schema, cache);
    const vars: Record<string, unknown> = { self };
    if (hasOld) vars.oldSelf = toCel(old, node.schema, oldCache);
    // An int-or-string schema has no type: the real server prints "" as the value.
    const type = node.schema.type ?? '';
    for (const rule of node.rules) {
      if (rule.usesOldSelf && !hasOld) continue;
      const r = rule.program(vars);
      const src = rule.source;
      const ruleText = (src.message ?? '').trim() || src.rule.trim();
      if (isCelError(r)) {
        causes.push(invalid(path, type, celGoMessage(r.message).startsWith('unbound function') || r.message.startsWith('no such overload')
          ? `'${r.message}': call arguments did not match a supported operator, function or macro signature for rule: ${ruleText}`
          : `${celGoMessage(r.message)} evaluating rule: ${ruleText}`));
        continue;
      }
      if (r === true) continue;
      let detail = src.message?.trim() ? src.message : `failed rule: ${ruleText}`;
      if (rule.messageProgram) {
        // A messageExpression that fails, is blank, multi-line or too long falls back to message.
        const m = rule.messageProgram(vars);
        if (typeof m === 'string' && m.trim() !== '' && !m.includes('\n') && m.length <= 5000) detail = m;
      }
      const field = ruleFieldPath(path, src.fieldPath);
      switch (src.reason) {
        case 'FieldValueForbidden':
          causes.push({ reason: 'FieldValueForbidden', message: `Forbidden: ${detail}`, field });
          break;
        case 'FieldValueRequired':
          causes.push({ reason: 'FieldValueRequired', message: `Required value: ${detail}`, field });
          break;
        case 'FieldValueDuplicate':
          causes.push({ reason: 'FieldValueDuplicate', message: `Duplicate value: ${goBadValue(type)}`, field });
          break;
        default:
          causes.push(invalid(field, type, detail));
      }
    }
  }
  if (Array.isArray(x)) {
    const items = node.items;
    if (!items) return;
    const keys = node.schema.listMapKeys;
    const oldItems = hasOld && Array.isArray(old) && node.schema.listType === 'map' && keys ? old : undefined;
    x.forEach((v, i) => {
      const prev = oldItems?.find((o) => isObject(o) && isObject(v) && keys!.every((k) => JSON.stringify(o[k]) === JSON.stringify(v[k])));
      evalRules(items, v, prev, prev !== undefined, `${path}[${i}]`, causes, cache, oldCache);
    });
    return;
  }
  if (!isObject(x)) return;
  const oldObj = hasOld && isObject(old) ? old : undefined;
  for (const [k, v] of Object.entries(x)) {
    const c = node.properties?.[k];
    const sub = c ?? (node.schema.properties?.[k] ? undefined : node.additionalProperties);
    if (!sub) continue;
    const has = oldObj !== undefined && k in oldObj;
    // Map values are addressed by key on the real server: spec.labels[key]; properties by name.
    const p = c ? child(path, k) : `${path}[${k}]`;
    evalRules(sub, v, has ? oldObj[k] : undefined, has, p, causes, cache, oldCache);
  }
}

// ---------------------------------------------------------------------------------------

const BLOCKING = new Set(['FieldValueRequired', 'FieldValueTooLong', 'FieldValueTooMany', 'FieldValueTypeInvalid']);

class Validator implements CrdValidator {
  constructor(
    private readonly schema: StructuralSchema,
    private readonly check: ValidateFunction,
    private readonly rules: RuleNode | undefined,
  ) {}

  apply(input: Record<string, unknown>, old?: Record<string, unknown>): { obj: Record<string, unknown>; causes: CrdCause[] } {
    const obj = structuredClone(input);
    prune(obj, this.schema, true);
    pruneNulls(obj, this.schema);
    applyDefaults(obj, this.schema);
    const causes = this.check(obj) ? [] : mapErrors(this.check.errors ?? [], obj);
    listTypeErrors(obj, this.schema, '', causes);
    if (this.rules) {
      if (causes.some((c) => BLOCKING.has(c.reason))) {
        causes.push({ reason: 'FieldValueInvalid', message: 'Invalid value: "null": some validation rules were not checked because the object was invalid; correct the existing errors to complete validation', field: '<nil>' });
      } else {
        let prev: Record<string, unknown> | undefined;
        if (old) {
          // The old object is read from storage, so it is pruned and defaulted the same way.
          prev = structuredClone(old);
          prune(prev, this.schema, true);
          applyDefaults(prev, this.schema);
        }
        evalRules(this.rules, obj, prev, prev !== undefined, '', causes, new WeakMap(), new WeakMap());
      }
    }
    return { obj, causes };
  }

  unknownFields(obj: Record<string, unknown>): string[] {
    return unknownFieldPaths(obj, this.schema);
  }
}

export function compileCrdVersion(version: { name: string; schema?: { openAPIV3Schema?: unknown } }):
  { ok: true; validator: CrdValidator } | { ok: false; errors: string[] } {
  const raw = version.schema?.openAPIV3Schema;
  const where = `spec.versions[${version.name}].schema.openAPIV3Schema`;
  if (!isObject(raw)) return { ok: false, errors: [`${where}: Required value: schemas are required`] };
  const errors: string[] = [];
  let check: ValidateFunction;
  try {
    check = ajv.compile(toAjv(raw));
  } catch (err) {
    return { ok: false, errors: [`${where}: ${err instanceof Error ? err.message : String(err)}`] };
  }
  const schema = structural(raw);
  const rules = ruleTree(schema, where, true, errors);
  if (errors.length > 0) return { ok: false, errors };
  return { ok: true, validator: new Validator(schema, check, rules) };
}
