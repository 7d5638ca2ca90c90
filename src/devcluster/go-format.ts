// Go's fmt rendering of decoded JSON values, because kube-apiserver prints field errors
// with it: `%v` for numbers and booleans, `%q` for strings and `%#v` for the rest
// (apimachinery's field.Error.ErrorBody), so a duplicate list-map key reads
// `map[string]interface {}{"name":"http"}` on the real server and must read so here.

/** Go's `%q` for a string: strconv.Quote, which escapes what JSON.stringify escapes plus non-printables. */
export function goQuote(s: string): string {
  return JSON.stringify(s).replace(/[\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Go's `%v` of a float64/int64 decoded from JSON. */
function goNumber(n: number): string {
  if (Number.isInteger(n) && Math.abs(n) < 1e21) return String(n);
  // %v of a float64 is %g with the shortest representation: exponent form from 1e21 on.
  return String(n).replace(/e\+?/, 'e+').replace('e+-', 'e-');
}

/** `%#v` of an interface{} holding a decoded JSON value. */
export function goSyntax(value: unknown): string {
  if (value === null || value === undefined) return 'interface {}(nil)';
  if (typeof value === 'string') return goQuote(value);
  if (typeof value === 'boolean') return String(value);
  if (typeof value === 'number') return goNumber(value);
  if (Array.isArray(value)) return `[]interface {}{${value.map(goSyntax).join(', ')}}`;
  const obj = value as Record<string, unknown>;
  // fmt prints map keys sorted.
  const keys = Object.keys(obj).sort();
  return `map[string]interface {}{${keys.map((k) => `${goQuote(k)}:${goSyntax(obj[k])}`).join(', ')}}`;
}

/** The bad value as field.Error.ErrorBody prints it after `Invalid value: `. */
export function goBadValue(value: unknown): string {
  if (value === null || value === undefined) return '"null"';
  if (typeof value === 'string') return goQuote(value);
  if (typeof value === 'number') return goNumber(value);
  if (typeof value === 'boolean') return String(value);
  return goSyntax(value);
}
