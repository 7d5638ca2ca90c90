// events.k8s.io/v1 Events are another view of the core/v1 Events storage, as in
// kube-apiserver: either API reads what the other wrote. Field names map one to one.
import { fieldError, invalid, type StatusCause } from './errors.js';
import { isObject, type KObject } from './objects.js';
import type { ResourceView, Strategy } from './resources.js';

/** events.k8s.io/v1 field → core/v1 field. */
const RENAMES: ReadonlyArray<readonly [string, string]> = [
  ['regarding', 'involvedObject'],
  ['note', 'message'],
  ['deprecatedSource', 'source'],
  ['deprecatedFirstTimestamp', 'firstTimestamp'],
  ['deprecatedLastTimestamp', 'lastTimestamp'],
  ['deprecatedCount', 'count'],
  ['reportingController', 'reportingComponent'],
];

function rename(obj: KObject, pairs: ReadonlyArray<readonly [string, string]>, apiVersion: string): KObject {
  const out: KObject = { ...obj, apiVersion, kind: 'Event' };
  for (const [from, to] of pairs) {
    delete out[from];
    if (obj[from] !== undefined) out[to] = obj[from];
  }
  return out;
}

export const eventsV1View: ResourceView = {
  storage: { group: '', plural: 'events' },
  toStorage: (o) => rename(o, RENAMES, 'v1'),
  fromStorage: (o) => rename(o, RENAMES.map(([a, b]) => [b, a] as const), 'events.k8s.io/v1'),
  fieldPaths: {
    'regarding.kind': 'involvedObject.kind',
    'regarding.namespace': 'involvedObject.namespace',
    'regarding.name': 'involvedObject.name',
    'regarding.uid': 'involvedObject.uid',
    'regarding.apiVersion': 'involvedObject.apiVersion',
    'regarding.resourceVersion': 'involvedObject.resourceVersion',
    'regarding.fieldPath': 'involvedObject.fieldPath',
    reason: 'reason',
    reportingController: 'reportingComponent',
    type: 'type',
  },
};

/**
 * apimachinery's legacyValidateEvent: an Event without eventTime ("old style") must sit in
 * its involved object's namespace; one with eventTime must name its reporter and action.
 */
function legacyErrors(obj: KObject, f: { ref: string; controller: string }): StatusCause[] {
  const ref = isObject(obj[f.ref]) ? (obj[f.ref] as Record<string, unknown>) : {};
  const refNs = typeof ref.namespace === 'string' ? ref.namespace : '';
  const ns = obj.metadata.namespace ?? '';
  const out: StatusCause[] = [];
  const mismatch = () => fieldError.invalid(`${f.ref}.namespace`, refNs, 'does not match event.namespace');
  if (!obj.eventTime) {
    if (refNs === '' ? ns !== '' && ns !== 'default' : refNs !== ns) out.push(mismatch());
    return out;
  }
  if (refNs === '' && ns !== 'default' && ns !== 'kube-system') out.push(mismatch());
  for (const field of [f.controller, 'reportingInstance', 'action']) {
    if (typeof obj[field] !== 'string' || obj[field] === '') out.push(fieldError.required(field));
  }
  return out;
}

export function coreEventStrategy(): Strategy {
  const check = (obj: KObject) => {
    const causes = legacyErrors(obj, { ref: 'involvedObject', controller: 'reportingComponent' });
    if (causes.length) throw invalid('Event', '', obj.metadata.name!, causes);
  };
  return { prepareCreate: check, prepareUpdate: check };
}

/** events.k8s.io/v1 Events, validated in their own shape before conversion to storage. */
export function eventsV1Strategy(): Strategy {
  return {
    prepareCreate(obj) {
      const causes = legacyErrors(obj, { ref: 'regarding', controller: 'reportingController' });
      if (!obj.eventTime) causes.push(fieldError.required('eventTime'));
      if (obj.type !== 'Normal' && obj.type !== 'Warning') causes.push(fieldError.notSupported('type', obj.type ?? '', ['Normal', 'Warning']));
      if (causes.length) throw invalid('Event', 'events.k8s.io', obj.metadata.name!, causes, 'Event.events.k8s.io');
    },
  };
}
