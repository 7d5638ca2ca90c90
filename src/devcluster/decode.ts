// Decoding checks: what kube-apiserver refuses with 400 BadRequest before validation even
// runs, because the JSON does not fit the Go types (a number where a string belongs, bad
// base64 in []byte fields, a MicroTime without microseconds).
import { ApiError } from './errors.js';
import { isObject, type KObject } from './objects.js';
import type { ResourceType } from './resources.js';

const MICRO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}(Z|[+-]\d{2}:\d{2})$/;
const TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
const B64 = /^[A-Za-z0-9+/]$/;

function fail(rt: ResourceType, version: string, kind: string, detail: string): ApiError {
  return new ApiError(400, 'BadRequest', `${kind} in version "${version}" cannot be handled as a ${rt.kind}: ${detail}`);
}

/** Index of the first byte Go's base64.StdEncoding rejects, or -1. */
export function illegalBase64At(s: string): number {
  let i = 0;
  for (; i < s.length; i++) {
    const c = s[i]!;
    if (c === '=') break;
    if (!B64.test(c)) return i;
  }
  const pad = s.length - i;
  if (pad > 2 || !/^=*$/.test(s.slice(i))) return i;
  if (s.length % 4 !== 0) return pad ? i : s.length - (s.length % 4);
  return -1;
}

function stringMap(o: unknown, field: string, goField: string, err: (d: string) => ApiError): void {
  if (o === undefined || o === null) return;
  if (!isObject(o)) throw err(`json: cannot unmarshal ${jsonType(o)} into Go struct field ${goField} of type map[string]string`);
  for (const v of Object.values(o)) {
    if (typeof v !== 'string') throw err(`json: cannot unmarshal ${jsonType(v)} into Go struct field ${goField} of type string`);
  }
  void field;
}

function base64Map(o: unknown, goField: string, err: (d: string) => ApiError): void {
  if (o === undefined || o === null) return;
  if (!isObject(o)) throw err(`json: cannot unmarshal ${jsonType(o)} into Go struct field ${goField} of type map[string][]uint8`);
  for (const v of Object.values(o)) {
    if (typeof v !== 'string') throw err(`json: cannot unmarshal ${jsonType(v)} into Go struct field ${goField} of type []uint8`);
    const at = illegalBase64At(v);
    if (at >= 0) throw err(`illegal base64 data at input byte ${at}`);
  }
}

function microTime(v: unknown, err: (d: string) => ApiError): void {
  if (v === undefined || v === null) return;
  if (typeof v !== 'string' || !MICRO_TIME.test(v)) {
    throw err(`parsing time ${JSON.stringify(String(v))} as "2006-01-02T15:04:05.000000Z07:00": cannot parse ${JSON.stringify(String(v).slice(19))} as ".000000"`);
  }
}

function time(v: unknown, err: (d: string) => ApiError): void {
  if (v === undefined || v === null) return;
  if (typeof v !== 'string' || !TIME.test(v)) {
    throw err(`parsing time ${JSON.stringify(String(v))} as "2006-01-02T15:04:05Z07:00": cannot parse ${JSON.stringify(String(v))} as "2006"`);
  }
}

function jsonType(v: unknown): string {
  if (typeof v === 'number') return 'number';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'string') return 'string';
  if (Array.isArray(v)) return 'array';
  if (v === null) return 'null';
  return 'object';
}

/** Throws 400 when the body cannot be decoded as rt's kind. `obj` is in the resource's own version. */
export function checkDecodable(rt: ResourceType, obj: KObject): void {
  const version = typeof obj.apiVersion === 'string' ? obj.apiVersion.split('/').pop()! : rt.version;
  const kind = typeof obj.kind === 'string' ? obj.kind : rt.kind;
  const err = (d: string) => fail(rt, version, kind, d);
  const meta = obj.metadata;
  stringMap(meta.labels, 'metadata.labels', 'ObjectMeta.metadata.labels', err);
  stringMap(meta.annotations, 'metadata.annotations', 'ObjectMeta.metadata.annotations', err);
  if (meta.finalizers !== undefined && meta.finalizers !== null && (!Array.isArray(meta.finalizers) || meta.finalizers.some((f) => typeof f !== 'string'))) {
    throw err('json: cannot unmarshal into Go struct field ObjectMeta.metadata.finalizers of type []string');
  }
  for (const f of ['name', 'namespace', 'generateName', 'resourceVersion', 'uid'] as const) {
    if (meta[f] !== undefined && meta[f] !== null && typeof meta[f] !== 'string') {
      throw err(`json: cannot unmarshal ${jsonType(meta[f])} into Go struct field ObjectMeta.metadata.${f} of type string`);
    }
  }
  time(meta.creationTimestamp, err);
  normalizeTimes(rt, obj);
  const spec = isObject(obj.spec) ? obj.spec : {};
  switch (`${rt.group}/${rt.kind}`) {
    case '/ConfigMap':
      stringMap(obj.data, 'data', 'ConfigMap.data', err);
      base64Map(obj.binaryData, 'ConfigMap.binaryData', err);
      break;
    case '/Secret':
      base64Map(obj.data, 'Secret.data', err);
      stringMap(obj.stringData, 'stringData', 'Secret.stringData', err);
      break;
    case 'coordination.k8s.io/Lease':
      microTime(spec.acquireTime, err);
      microTime(spec.renewTime, err);
      break;
    case '/Event':
      microTime(obj.eventTime, err);
      time(obj.firstTimestamp, err);
      time(obj.lastTimestamp, err);
      break;
    case 'events.k8s.io/Event':
      microTime(obj.eventTime, err);
      break;
    case '/Service':
      if (Array.isArray(spec.ports)) {
        for (const p of spec.ports) {
          if (!isObject(p)) throw err('json: cannot unmarshal into Go struct field ServiceSpec.spec.ports of type v1.ServicePort');
          for (const f of ['port', 'nodePort'] as const) {
            if (p[f] !== undefined && p[f] !== null && typeof p[f] !== 'number') {
              throw err(`json: cannot unmarshal ${jsonType(p[f])} into Go struct field ServicePort.spec.ports.${f} of type int32`);
            }
          }
        }
      }
      break;
  }
}

/** metav1.Time serialises with second precision: what a client sends with milliseconds comes back without. */
function normTime(v: unknown): unknown {
  if (typeof v !== 'string' || !TIME.test(v)) return v;
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? v : d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

const TIME_FIELDS_IN_CONDITIONS = ['lastTransitionTime', 'lastHeartbeatTime', 'lastProbeTime', 'lastUpdateTime'];

/** Rewrites the metav1.Time fields lbc's kinds carry as kube-apiserver would store them. */
export function normalizeTimes(rt: ResourceType, obj: KObject): void {
  const conditions = isObject(obj.status) && Array.isArray(obj.status.conditions) ? obj.status.conditions : [];
  for (const c of conditions) {
    if (!isObject(c)) continue;
    for (const f of TIME_FIELDS_IN_CONDITIONS) if (c[f] !== undefined) c[f] = normTime(c[f]);
  }
  if (rt.kind === 'Event' && rt.group === '') {
    for (const f of ['firstTimestamp', 'lastTimestamp'] as const) if (obj[f] !== undefined) obj[f] = normTime(obj[f]);
  }
  if (rt.kind === 'Event' && rt.group === 'events.k8s.io') {
    for (const f of ['deprecatedFirstTimestamp', 'deprecatedLastTimestamp'] as const) if (obj[f] !== undefined) obj[f] = normTime(obj[f]);
  }
}
