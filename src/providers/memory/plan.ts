// The memory provider's diff: desired spec against what it holds, per resource, the way
// a cloud provider's synthesizer would. ensure applies exactly these changes, so a plan
// that is empty means ensure writes nothing.
import { canonicalEqual, canonicalSpec } from '../../model/canonical.js';
import { listeningPorts, type LoadBalancerSpec } from '../../model/spec.js';
import type { Change } from '../types.js';

/** Properties of the LB itself (everything but listeners, target sets and rules). */
function lbProperties(spec: LoadBalancerSpec): Record<string, unknown> {
  const base = {
    layer: spec.layer,
    className: spec.className,
    sourceRanges: spec.sourceRanges,
    requestedAddresses: spec.requestedAddresses,
    ipFamilies: spec.ipFamilies,
    tags: spec.tags,
    providerOptions: spec.providerOptions,
  };
  if (spec.layer === 'Gateway') return base;
  return spec.layer === 'L4' ? { ...base, sessionAffinity: spec.sessionAffinity } : { ...base, defaultBackend: spec.defaultBackend };
}

function diffCollection<T extends object>(resource: string, before: Map<string, T>, after: Map<string, T>): Change[] {
  const changes: Change[] = [];
  for (const [id, want] of after) {
    const have = before.get(id);
    if (have === undefined) changes.push({ op: 'create', resource, id });
    else if (!canonicalEqual(have, want)) {
      const fields = Object.keys({ ...have, ...want }).filter(
        (k) => !canonicalEqual((have as Record<string, unknown>)[k], (want as Record<string, unknown>)[k]),
      );
      changes.push({ op: 'update', resource, id, fields: fields.sort() });
    }
  }
  for (const id of before.keys()) if (!after.has(id)) changes.push({ op: 'delete', resource, id });
  return changes;
}

const listenerId = (l: { protocol: string; port: number }): string => `${l.protocol}:${l.port}`;

/**
 * Changes that take `current` (undefined: nothing exists) to `desired` (undefined:
 * delete). Ordered as a cloud needs them: target sets before the listeners that point
 * at them on create, listeners before target sets on delete.
 */
export function diffSpecs(currentSpec: LoadBalancerSpec | undefined, desiredSpec: LoadBalancerSpec | undefined): Change[] {
  // Orders that mean nothing (targets, CIDRs, ...) must not read as updates.
  return diffCanonical(currentSpec && canonicalSpec(currentSpec), desiredSpec && canonicalSpec(desiredSpec));
}

/**
 * diffSpecs for specs already in canonical form (canonicalSpec's output, as the memory
 * provider holds them): canonicalising them again was half the ensure path's
 * canonicalSpec time in the cold start (#21).
 */
export function diffCanonical(current: LoadBalancerSpec | undefined, desired: LoadBalancerSpec | undefined): Change[] {
  const lbId = (desired ?? current)?.ref.uid ?? '';
  const rulesOf = (sp: LoadBalancerSpec | undefined): Map<string, object> =>
    sp?.layer === 'L7' && sp.rules.length > 0
      ? new Map([['rules', { rules: sp.rules }]])
      : sp?.layer === 'Gateway'
        ? new Map(sp.ports.map((p) => [`routes ${listenerId(p)}`, p]))
        : new Map();
  const listenersOf = (sp: LoadBalancerSpec | undefined): Map<string, object> =>
    new Map((sp ? listeningPorts(sp) : []).map((l) => [listenerId(l), l]));
  const targetSetsOf = (sp: LoadBalancerSpec | undefined): Map<string, object> => new Map((sp?.targetSets ?? []).map((t) => [t.name, t]));

  const lb: Change[] = [];
  if (!current && desired) lb.push({ op: 'create', resource: 'LoadBalancer', id: lbId });
  else if (current && !desired) lb.push({ op: 'delete', resource: 'LoadBalancer', id: lbId });
  else if (current && desired) lb.push(...diffCollection('LoadBalancer', new Map([[lbId, lbProperties(current)]]), new Map([[lbId, lbProperties(desired)]])));

  const targetSets = diffCollection('TargetSet', targetSetsOf(current), targetSetsOf(desired));
  const listeners = diffCollection('Listener', listenersOf(current), listenersOf(desired));
  const rules = diffCollection('Rules', rulesOf(current), rulesOf(desired));
  // Nothing held (every ensure of a cold start) or nothing wanted: each list holds only
  // creates, or only deletes, so no filtering is needed to put them in order (#21).
  if (!current) return [...lb, ...targetSets, ...listeners, ...rules];
  if (!desired) return [...rules, ...listeners, ...targetSets, ...lb];
  const creates = (cs: Change[]) => cs.filter((c) => c.op !== 'delete');
  const deletes = (cs: Change[]) => cs.filter((c) => c.op === 'delete');
  return [
    ...creates(lb),
    ...creates(targetSets),
    ...creates(listeners),
    ...creates(rules),
    ...deletes(rules),
    ...deletes(listeners),
    ...deletes(targetSets),
    ...deletes(lb),
  ];
}
