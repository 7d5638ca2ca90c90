// The three patch formats kube-apiserver accepts for built-in kinds: JSON merge patch
// (RFC 7386), JSON patch (RFC 6902) and strategic merge patch, whose list handling
// follows the patchStrategy/patchMergeKey tags of the Kubernetes Go types.
import { ApiError, badRequest, invalid } from './errors.js';
import { clone, isObject, jsonEqual } from './objects.js';
import type { ResourceType } from './resources.js';

type Json = unknown;

export function mergePatch(target: Json, patch: Json): Json {
  if (!isObject(patch)) return clone(patch);
  const out: Record<string, unknown> = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

interface JsonPatchOp {
  op: string;
  path: string;
  from?: string;
  value?: unknown;
}

function pointer(path: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/')) throw badRequest(`the server rejected our request due to an error in our request: invalid JSON pointer ${JSON.stringify(path)}`);
  return path.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** A failing `test` op or a missing path is a 422 in kube-apiserver, not a 400. */
function jsonPatchFailure(kind: string, group: string, name: string, message: string): ApiError {
  const err = invalid(kind, group, name, []);
  return new ApiError(422, 'Invalid', message, err.details);
}

export function jsonPatch(doc: Json, ops: unknown, who: { kind: string; group: string; name: string }): Json {
  if (!Array.isArray(ops)) throw badRequest(`error decoding patch: json: cannot unmarshal ${ops === null ? 'null' : typeof ops === 'object' ? 'object' : typeof ops} into Go value of type jsonpatch.Patch`);
  let root = clone(doc);
  const fail = (m: string) => jsonPatchFailure(who.kind, who.group, who.name, m);
  const parentOf = (segs: string[]): { parent: unknown; last: string } => {
    let cur: unknown = root;
    for (const s of segs.slice(0, -1)) {
      if (Array.isArray(cur)) cur = cur[Number(s)];
      else if (isObject(cur)) cur = cur[s];
      else cur = undefined;
      if (cur === undefined) throw fail(`the server rejected our request due to an error in our request`);
    }
    return { parent: cur, last: segs[segs.length - 1]! };
  };
  const get = (segs: string[]): unknown => {
    let cur: unknown = root;
    for (const s of segs) {
      if (Array.isArray(cur)) cur = /^\d+$/.test(s) ? cur[Number(s)] : undefined;
      else if (isObject(cur)) cur = Object.prototype.hasOwnProperty.call(cur, s) ? cur[s] : undefined;
      else cur = undefined;
      if (cur === undefined) return undefined;
    }
    return cur;
  };
  const remove = (segs: string[]): unknown => {
    if (segs.length === 0) throw fail('the server rejected our request due to an error in our request');
    const { parent, last } = parentOf(segs);
    if (Array.isArray(parent)) {
      const i = Number(last);
      if (!/^\d+$/.test(last) || i >= parent.length) throw fail(`the server rejected our request due to an error in our request`);
      return parent.splice(i, 1)[0];
    }
    if (isObject(parent) && Object.prototype.hasOwnProperty.call(parent, last)) {
      const v = parent[last];
      delete parent[last];
      return v;
    }
    throw fail(`the server rejected our request due to an error in our request`);
  };
  const add = (segs: string[], value: unknown, replace: boolean): void => {
    if (segs.length === 0) {
      root = clone(value);
      return;
    }
    const { parent, last } = parentOf(segs);
    if (Array.isArray(parent)) {
      if (last === '-' && !replace) parent.push(clone(value));
      else {
        const i = Number(last);
        if (!/^\d+$/.test(last) || i > parent.length || (replace && i >= parent.length)) {
          throw fail('the server rejected our request due to an error in our request');
        }
        parent.splice(i, replace ? 1 : 0, clone(value));
      }
    } else if (isObject(parent)) {
      if (replace && !Object.prototype.hasOwnProperty.call(parent, last)) {
        throw fail('the server rejected our request due to an error in our request');
      }
      parent[last] = clone(value);
    } else throw fail('the server rejected our request due to an error in our request');
  };
  for (const raw of ops) {
    if (!isObject(raw) || typeof raw.op !== 'string' || typeof raw.path !== 'string') {
      throw badRequest('the server rejected our request due to an error in our request');
    }
    const op = raw as unknown as JsonPatchOp;
    const segs = pointer(op.path);
    switch (op.op) {
      case 'add':
        add(segs, op.value, false);
        break;
      case 'replace':
        add(segs, op.value, true);
        break;
      case 'remove':
        remove(segs);
        break;
      case 'test':
        if (!jsonEqual(get(segs), op.value)) {
          throw fail(`the server rejected our request due to an error in our request`);
        }
        break;
      case 'move': {
        const v = remove(pointer(op.from ?? ''));
        add(segs, v, false);
        break;
      }
      case 'copy': {
        const v = get(pointer(op.from ?? ''));
        if (v === undefined) throw fail('the server rejected our request due to an error in our request');
        add(segs, v, false);
        break;
      }
      default:
        throw fail(`the server rejected our request due to an error in our request`);
    }
  }
  return root;
}

/** How a list at a path merges under strategic merge patch; absent = atomic (replaced whole). */
type ListStrategy = { mergeKey: string } | { primitiveSet: true };

const COMMON: Record<string, ListStrategy> = {
  'metadata.finalizers': { primitiveSet: true },
  'metadata.ownerReferences': { mergeKey: 'uid' },
  'status.conditions': { mergeKey: 'type' },
};

const BY_KIND: Record<string, Record<string, ListStrategy>> = {
  Service: { 'spec.ports': { mergeKey: 'port' } },
  Pod: {
    'spec.containers': { mergeKey: 'name' },
    'spec.initContainers': { mergeKey: 'name' },
    'spec.containers.ports': { mergeKey: 'containerPort' },
    'spec.containers.env': { mergeKey: 'name' },
    'spec.containers.volumeMounts': { mergeKey: 'mountPath' },
    'spec.volumes': { mergeKey: 'name' },
    'spec.imagePullSecrets': { mergeKey: 'name' },
    'status.podIPs': { mergeKey: 'ip' },
    'status.containerStatuses': { mergeKey: 'name' },
  },
  Node: {
    'status.addresses': { mergeKey: 'type' },
    'spec.podCIDRs': { primitiveSet: true },
  },
  Namespace: {},
};

function listStrategy(kind: string, path: string[]): ListStrategy | undefined {
  const p = path.join('.');
  return BY_KIND[kind]?.[p] ?? COMMON[p];
}

const DIRECTIVE = '$patch';
const SET_ORDER = '$setElementOrder/';
const DELETE_PRIMITIVE = '$deleteFromPrimitiveList/';
const RETAIN_KEYS = '$retainKeys';

export function strategicMergePatch(rt: ResourceType, target: Json, patch: Json): Json {
  return smpValue(rt.kind, [], target, patch);
}

function smpValue(kind: string, path: string[], target: Json, patch: Json): Json {
  if (!isObject(patch)) return clone(patch);
  const directive = patch[DIRECTIVE];
  if (directive === 'replace') {
    const { [DIRECTIVE]: _d, ...rest } = patch;
    return clone(rest);
  }
  if (directive === 'delete') return undefined;
  if (directive !== undefined && directive !== 'merge') {
    throw badRequest(`Unknown patch type: ${String(directive)}`);
  }
  const out: Record<string, unknown> = isObject(target) ? { ...target } : {};
  const retain = patch[RETAIN_KEYS];
  for (const [k, v] of Object.entries(patch)) {
    if (k === DIRECTIVE || k === RETAIN_KEYS || k.startsWith(SET_ORDER)) continue;
    if (k.startsWith(DELETE_PRIMITIVE)) {
      const field = k.slice(DELETE_PRIMITIVE.length);
      if (Array.isArray(out[field]) && Array.isArray(v)) {
        out[field] = (out[field] as unknown[]).filter((x) => !v.some((d) => jsonEqual(d, x)));
        if ((out[field] as unknown[]).length === 0) delete out[field];
      }
      continue;
    }
    const childPath = [...path, k];
    if (v === null) {
      delete out[k];
    } else if (Array.isArray(v)) {
      const strategy = listStrategy(kind, childPath);
      const merged = strategy ? mergeList(kind, childPath, out[k], v, strategy) : clone(v);
      out[k] = merged;
    } else if (isObject(v)) {
      const merged = smpValue(kind, childPath, out[k], v);
      if (merged === undefined) delete out[k];
      else out[k] = merged;
    } else {
      out[k] = v;
    }
  }
  if (Array.isArray(retain)) {
    for (const k of Object.keys(out)) if (!retain.includes(k)) delete out[k];
  }
  // $setElementOrder gives the order the patch author saw; the patched items follow it.
  for (const [k, order] of Object.entries(patch)) {
    if (!k.startsWith(SET_ORDER) || !Array.isArray(order)) continue;
    const field = k.slice(SET_ORDER.length);
    const list = out[field];
    const strategy = listStrategy(kind, [...path, field]);
    if (!Array.isArray(list) || !strategy) continue;
    const original = isObject(target) && Array.isArray(target[field]) ? (target[field] as unknown[]) : [];
    out[field] = normalizeOrder(list, order, original, strategy);
  }
  return out;
}

function mergeList(kind: string, path: string[], target: unknown, patch: unknown[], strategy: ListStrategy): unknown[] {
  const base = Array.isArray(target) ? [...target] : [];
  if ('primitiveSet' in strategy) {
    for (const v of patch) if (!base.some((b) => jsonEqual(b, v))) base.push(clone(v));
    return normalizeOrder(base, patch, Array.isArray(target) ? target : [], strategy);
  }
  const key = strategy.mergeKey;
  // A `$patch: replace` element replaces the whole list with the other elements.
  if (patch.some((p) => isObject(p) && p[DIRECTIVE] === 'replace')) {
    return patch.filter((p) => !(isObject(p) && p[DIRECTIVE] === 'replace')).map(clone);
  }
  for (const p of patch) {
    if (!isObject(p)) throw badRequest(`unable to find api field in struct for the merge key ${key} of list ${path.join('.')}`);
    if (!(key in p)) {
      throw badRequest(`map: ${JSON.stringify(p)} does not contain declared merge key: ${key}`);
    }
    const i = base.findIndex((b) => isObject(b) && jsonEqual(b[key], p[key]));
    if (p[DIRECTIVE] === 'delete') {
      if (i >= 0) base.splice(i, 1);
      continue;
    }
    if (i >= 0) base[i] = smpValue(kind, path, base[i], p);
    else {
      const { [DIRECTIVE]: _d, ...rest } = p;
      base.push(smpValue(kind, path, {}, rest));
    }
  }
  const kept = patch.filter((p) => !(isObject(p) && p[DIRECTIVE] === 'delete'));
  return normalizeOrder(base, kept, Array.isArray(target) ? target : [], strategy);
}

/**
 * The order apimachinery's strategic merge gives a merged list (normalizeElementOrder):
 * items the patch names keep the patch's order, items only the server had keep theirs,
 * and the two are interleaved by the server's order where both are known.
 */
function normalizeOrder(merged: unknown[], patchOrder: unknown[], serverOrder: unknown[], strategy: ListStrategy): unknown[] {
  const keyOf = (x: unknown) => ('mergeKey' in strategy ? (isObject(x) ? x[strategy.mergeKey] : undefined) : x);
  const indexIn = (list: unknown[], x: unknown) => list.findIndex((y) => jsonEqual(keyOf(y), keyOf(x)));
  const inPatch = (x: unknown) => indexIn(patchOrder, x) >= 0;
  const right = merged.filter(inPatch).sort((a, b) => indexIn(patchOrder, a) - indexIn(patchOrder, b));
  const left = merged.filter((x) => !inPatch(x)).sort((a, b) => indexIn(serverOrder, a) - indexIn(serverOrder, b));
  const out: unknown[] = [];
  let i = 0;
  let j = 0;
  while (i < left.length || j < right.length) {
    if (i >= left.length) out.push(right[j++]);
    else if (j >= right.length) out.push(left[i++]);
    else {
      const li = indexIn(serverOrder, left[i]);
      const ri = indexIn(serverOrder, right[j]);
      if (li >= 0 && ri >= 0 && li < ri) out.push(left[i++]);
      else out.push(right[j++]);
    }
  }
  return out;
}

