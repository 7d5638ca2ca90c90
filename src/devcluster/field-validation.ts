// Server-side field validation (the `fieldValidation` query parameter; kubectl create, apply
// and replace send Strict when the server's OpenAPI says it takes it): fields the kind's
// schema does not declare and keys given twice are dropped silently (Ignore), reported in
// Warning headers (Warn, the default) or refuse the write (Strict), worded as kube-apiserver
// v1.26 words them. devcluster knows the schemas of custom resources only; for its built-in
// kinds the parameter is checked but not acted on.
import { ApiError, fieldError, invalid } from './errors.js';
import { duplicateFields } from './duplicate-fields.js';
import { goQuote } from './go-format.js';
import type { KObject } from './objects.js';
import type { ResourceType } from './resources.js';

export type FieldValidation = 'Ignore' | 'Warn' | 'Strict';

const OPTIONS_KIND: Record<string, string> = { POST: 'CreateOptions', PUT: 'UpdateOptions', PATCH: 'PatchOptions' };

/** The request's mode; a value the server does not know is refused before anything else, as the real server does. */
export function fieldValidationMode(method: string, q: URLSearchParams): FieldValidation {
  const v = q.get('fieldValidation') ?? '';
  if (v === 'Ignore' || v === 'Warn' || v === 'Strict') return v;
  if (v === '') return 'Warn';
  const kind = OPTIONS_KIND[method] ?? 'CreateOptions';
  throw invalid(kind, 'meta.k8s.io', '', [fieldError.notSupported('fieldValidation', v, ['', 'Ignore', 'Strict', 'Warn'])], `${kind}.meta.k8s.io`);
}

/**
 * The strict decoding errors of a write: keys given twice in `body` (the object written, or
 * a merge patch), then fields `obj` (the object as it would be stored) carries that its
 * schema does not declare. Empty for kinds without a schema here.
 */
export function strictDecodingErrors(rt: ResourceType, obj: KObject, body: string | undefined): string[] {
  if (!rt.unknownFields) return [];
  const duplicates = body === undefined ? [] : duplicateFields(body);
  return [...duplicates.map((f) => `duplicate field ${goQuote(f)}`), ...unknownFieldErrors(rt, obj)];
}

function unknownFieldErrors(rt: ResourceType, obj: KObject): string[] {
  return (rt.unknownFields?.(obj) ?? []).map((f) => `unknown field ${goQuote(f)}`);
}

/** A JSON pointer's place in `doc` as a field path: /spec/rules/0 is spec.rules[0]. */
function pointerPath(pointer: string, doc: unknown): string {
  let out = '';
  let cur = doc;
  for (const raw of pointer.split('/').slice(1)) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(cur)) {
      const i = seg === '-' ? cur.length - 1 : Number(seg);
      out += `[${i}]`;
      cur = cur[i];
    } else {
      out += out === '' ? seg : `.${seg}`;
      cur = cur !== null && typeof cur === 'object' ? (cur as Record<string, unknown>)[seg] : undefined;
    }
  }
  return out;
}

/**
 * The strict decoding errors of a JSON patch: keys given twice in the patch itself (by their
 * place in it), the same keys again where the patch put them in the object (the server keeps
 * an operation's value as its raw text), then the patched object's unknown fields.
 */
export function strictJsonPatchErrors(rt: ResourceType, patched: KObject, body: string, ops: unknown): string[] {
  if (!rt.unknownFields) return [];
  const inPatch = duplicateFields(body);
  const inObject = inPatch.flatMap((f) => {
    const m = /^\[(\d+)\]\.value(.*)$/.exec(f);
    const op = m && Array.isArray(ops) ? (ops[Number(m[1])] as { op?: unknown; path?: unknown } | undefined) : undefined;
    if (!m || (op?.op !== 'add' && op?.op !== 'replace') || typeof op.path !== 'string') return [];
    return [`${pointerPath(op.path, patched)}${m[2]}`];
  });
  return [
    ...inPatch.map((f) => `json patch duplicate field ${goQuote(f)}`),
    ...inObject.map((f) => `duplicate field ${goQuote(f)}`),
    ...unknownFieldErrors(rt, patched),
  ];
}

/** A created or replaced object with strict decoding errors: 400, as the decoder refuses it. */
export function strictDecodingRefusal(rt: ResourceType, bodyVersion: string, bodyKind: string, errors: string[]): ApiError {
  return new ApiError(400, 'BadRequest', `${bodyKind} in version ${goQuote(bodyVersion)} cannot be handled as a ${rt.kind}: strict decoding error: ${errors.join(', ')}`);
}

/** JSON as Go's encoding/json writes a decoded object: keys sorted at every level. */
function goJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(goJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o).sort().filter((k) => o[k] !== undefined).map((k) => `${JSON.stringify(k)}:${goJson(o[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

/**
 * A patch whose result has strict decoding errors: 422 naming the patched object, as the
 * real server's patcher words it (an Invalid with no kind and one cause on `patch`).
 */
export function strictPatchRefusal(patched: KObject, errors: string[]): ApiError {
  const message = `Invalid value: ${goQuote(goJson(patched))}: strict decoding error: ${errors.join(', ')}`;
  return new ApiError(422, 'Invalid', ` "" is invalid: patch: ${message}`, { causes: [{ reason: 'FieldValueInvalid', message, field: 'patch' }] });
}

/** The Warning header value for one strict decoding error under Warn. */
export function fieldWarning(error: string): string {
  return `299 - ${JSON.stringify(error)}`;
}
