// CustomResourceDefinitions: the CRD kind's own rules (names, scope, one storage version,
// status conditions), the resource types a CRD serves (one per version, over one table),
// and the controller that registers them and, on CRD deletion, removes every object first
// (the customresourcecleanup finalizer), as apiextensions-apiserver does.
import { ApiError, fieldError, invalid, type StatusCause } from './errors.js';
import { clone, isObject, jsonEqual, timestamp, type KObject } from './objects.js';
import type { PrinterColumn, ResourceType, Strategy } from './resources.js';
import type { Store } from './store.js';
import { compileCrdVersion, type CrdValidator } from './crd-schema.js';

export const CLEANUP_FINALIZER = 'customresourcecleanup.apiextensions.k8s.io';

type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const DNS_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/**
 * A CRD version's compiled schema, by the version's name and schema: a create or update
 * checks that every version compiles and then registers the same versions, so without
 * this each schema (ajv and CEL, tens of ms for a Gateway API one) compiled twice. Bounded:
 * the schemas of CRDs long gone fall out first.
 */
const compiledVersions = new Map<string, ReturnType<typeof compileCrdVersion>>();
const COMPILED_VERSIONS_KEPT = 256;

function compiledVersion(version: { name: string; schema?: { openAPIV3Schema?: unknown } }): ReturnType<typeof compileCrdVersion> {
  const key = JSON.stringify([version.name, version.schema]);
  const hit = compiledVersions.get(key);
  if (hit) {
    compiledVersions.delete(key);
    compiledVersions.set(key, hit);
    return hit;
  }
  const compiled = compileCrdVersion(version);
  compiledVersions.set(key, compiled);
  if (compiledVersions.size > COMPILED_VERSIONS_KEPT) compiledVersions.delete(compiledVersions.keys().next().value!);
  return compiled;
}

function crdInvalid(name: string, causes: StatusCause[]): ApiError {
  return invalid('CustomResourceDefinition', 'apiextensions.k8s.io', name, causes, 'CustomResourceDefinition.apiextensions.k8s.io');
}

/** The defaults kube-apiserver fills in on a CRD's spec (singular, listKind, conversion, version flags). */
function defaultSpec(spec: Any): void {
  const names = isObject(spec.names) ? (spec.names as Any) : (spec.names = {});
  if (typeof names.kind === 'string') {
    names.singular ??= names.kind.toLowerCase();
    names.listKind ??= `${names.kind}List`;
  }
  spec.conversion ??= { strategy: 'None' };
}

/** apiextensions validation: what would make the CRD unservable (checked on create and update). */
function validateCrd(crd: KObject, old?: KObject): void {
  const name = crd.metadata.name ?? '';
  const spec = (isObject(crd.spec) ? crd.spec : {}) as Any;
  const names = (isObject(spec.names) ? spec.names : {}) as Any;
  const causes: StatusCause[] = [];
  if (typeof spec.group !== 'string' || !spec.group) causes.push(fieldError.required('spec.group'));
  else if (!DNS_SUBDOMAIN.test(spec.group) || !spec.group.includes('.')) causes.push(fieldError.invalid('spec.group', spec.group, 'should be a domain with at least one dot'));
  if (typeof names.plural !== 'string' || !names.plural) causes.push(fieldError.required('spec.names.plural'));
  else if (!DNS_LABEL.test(names.plural)) causes.push(fieldError.invalid('spec.names.plural', names.plural, "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character"));
  if (typeof names.kind !== 'string' || !names.kind) causes.push(fieldError.required('spec.names.kind'));
  if (typeof names.plural === 'string' && typeof spec.group === 'string' && name !== `${names.plural}.${spec.group}`) {
    causes.push(fieldError.invalid('metadata.name', name, 'must be spec.names.plural+"."+spec.group'));
  }
  if (spec.scope !== 'Namespaced' && spec.scope !== 'Cluster') {
    causes.push(spec.scope === undefined ? fieldError.required('spec.scope') : fieldError.notSupported('spec.scope', spec.scope, ['Cluster', 'Namespaced']));
  }
  const versions: Any[] = Array.isArray(spec.versions) ? spec.versions : [];
  if (!versions.length) causes.push(fieldError.required('spec.versions', 'must have exactly one version marked as storage version'));
  else if (versions.filter((v) => v?.storage === true).length !== 1) {
    causes.push({ reason: 'FieldValueInvalid', field: 'spec.versions', message: `Invalid value: ${versions.map((v) => v?.name).join(',')}: must have exactly one version marked as storage version` });
  }
  const seen = new Set<string>();
  versions.forEach((v, i) => {
    if (typeof v?.name !== 'string' || !DNS_LABEL.test(v.name)) causes.push(fieldError.invalid(`spec.versions[${i}].name`, v?.name ?? '', 'must be a valid DNS label'));
    else if (seen.has(v.name)) causes.push(fieldError.duplicate(`spec.versions[${i}].name`, v.name));
    else seen.add(v.name);
    if (typeof v?.served !== 'boolean') causes.push(fieldError.required(`spec.versions[${i}].served`));
    if (typeof v?.storage !== 'boolean') causes.push(fieldError.required(`spec.versions[${i}].storage`));
    // apiextensions.k8s.io/v1 requires a schema per version (v1beta1 did not).
    if (!isObject(v?.schema) || !isObject(v.schema.openAPIV3Schema)) {
      causes.push(fieldError.required(`spec.versions[${i}].schema.openAPIV3Schema`, 'schemas are required'));
    } else {
      // Only a schema that is there is compiled: a missing one is the one Required cause above, as the real server gives.
      const compiled = compiledVersion({ name: String(v?.name), schema: v.schema });
      if (!compiled.ok) for (const e of compiled.errors) causes.push({ reason: 'FieldValueInvalid', field: `spec.versions[${i}].schema.openAPIV3Schema`, message: e });
    }
  });
  const strategy = isObject(spec.conversion) ? spec.conversion.strategy : undefined;
  if (strategy !== 'None') {
    // devcluster runs no webhooks: a CRD that needs one to convert would serve wrong objects.
    causes.push({ reason: 'FieldValueNotSupported', field: 'spec.conversion.strategy', message: `Unsupported value: ${JSON.stringify(strategy)}: supported values: "None" (devcluster calls no conversion webhooks)` });
  }
  if (old) {
    const os = old.spec as Any;
    if (os.scope !== spec.scope) causes.push(fieldError.invalid('spec.scope', spec.scope, 'field is immutable'));
    if (os.group !== spec.group) causes.push(fieldError.invalid('spec.group', spec.group, 'field is immutable'));
  }
  if (causes.length) throw crdInvalid(name, causes);
}

function condition(type: string, reason: string, message: string, now: Date): Any {
  return { type, status: 'True', lastTransitionTime: timestamp(now), reason, message };
}

function storageVersion(crd: KObject): string {
  return ((crd.spec as Any).versions as Any[]).find((v) => v.storage === true)!.name as string;
}

export function isEstablished(crd: KObject): boolean {
  return ((crd.status as Any)?.conditions ?? []).some((c: Any) => c.type === 'Established' && c.status === 'True');
}

/**
 * apiextensions-apiserver's naming controller: each requested name is taken unless another
 * CRD of the group already accepted it (plurals, singulars and short names share one set,
 * kinds and list kinds another); the last conflict found is the condition's reason. A CRD
 * is Established once all its names are accepted, and stays so.
 */
function acceptNames(crd: KObject, store: Store, now: Date): Any {
  const spec = crd.spec as Any;
  const requested = spec.names as Any;
  const status = clone((crd.status ?? {}) as Any);
  const current = (status.acceptedNames ?? { plural: '', kind: '' }) as Any;
  const resources = new Set<string>();
  const kinds = new Set<string>();
  const crdType = store.find('apiextensions.k8s.io', 'customresourcedefinitions')!;
  for (const other of store.listRaw(crdType)) {
    if (other.metadata.name === crd.metadata.name || (other.spec as Any)?.group !== spec.group) continue;
    const an = ((other.status as Any)?.acceptedNames ?? {}) as Any;
    for (const n of [an.plural, an.singular, ...(an.shortNames ?? [])]) if (n) resources.add(n);
    for (const n of [an.kind, an.listKind]) if (n) kinds.add(n);
  }
  const next: Any = { ...clone(current) };
  let conflict: [string, string] | undefined;
  const take = (field: string, used: Set<string>, reason: string) => {
    const want = requested[field];
    if (want === undefined || want === current[field] || !used.has(want)) next[field] = want;
    else conflict = [reason, `"${want}" is already in use`];
  };
  take('plural', resources, 'PluralConflict');
  take('singular', resources, 'SingularConflict');
  const short: string[] = requested.shortNames ?? [];
  const taken = short.find((n) => !(current.shortNames ?? []).includes(n) && resources.has(n));
  if (taken) conflict = ['ShortNamesConflict', `"${taken}" is already in use`];
  else if (requested.shortNames) next.shortNames = short;
  take('kind', kinds, 'KindConflict');
  take('listKind', kinds, 'ListKindConflict');
  if (requested.categories) next.categories = requested.categories;
  const keep = (type: string, reason: string, message: string, ok: boolean): Any => {
    const prior = ((status.conditions ?? []) as Any[]).find((c) => c.type === type);
    const want = { type, status: ok ? 'True' : 'False', reason, message };
    if (prior && prior.status === want.status && prior.reason === reason && prior.message === message) return prior;
    return { ...want, lastTransitionTime: prior?.status === want.status ? prior.lastTransitionTime : timestamp(now) };
  };
  const accepted = conflict === undefined;
  const wasEstablished = isEstablished(crd);
  const conditions = [
    accepted ? keep('NamesAccepted', 'NoConflicts', 'no conflicts found', true) : keep('NamesAccepted', conflict![0], conflict![1], false),
    // devcluster establishes at once: it has no informer lag to wait out.
    wasEstablished ? ((status.conditions as Any[]).find((c) => c.type === 'Established'))
      : accepted ? keep('Established', 'InitialNamesAccepted', 'the initial names have been accepted', true)
        : keep('Established', 'NotAccepted', 'not all names are accepted', false),
    ...((status.conditions ?? []) as Any[]).filter((c) => c.type !== 'NamesAccepted' && c.type !== 'Established'),
  ];
  return { ...status, acceptedNames: next, conditions };
}

export function crdStrategy(): Strategy {
  return {
    prepareCreate(crd, ctx) {
      if (isObject(crd.spec)) defaultSpec(crd.spec as Any);
      validateCrd(crd);
      delete crd.status;
      crd.status = { ...acceptNames(crd, ctx.store, ctx.now()), storedVersions: [storageVersion(crd)] };
    },
    prepareUpdate(crd, old, ctx) {
      if (isObject(crd.spec)) defaultSpec(crd.spec as Any);
      validateCrd(crd, old);
      crd.status = clone(old.status);
      const status = acceptNames(crd, ctx.store, ctx.now());
      // Objects may still be stored in any version ever stored: dropping one would strand them.
      const names = ((crd.spec as Any).versions as Any[]).map((v) => v.name);
      const stranded = ((status.storedVersions ?? []) as string[]).flatMap((sv, i) => (names.includes(sv) ? [] : [fieldError.invalid(`status.storedVersions[${i}]`, sv, 'must appear in spec.versions')]));
      if (stranded.length) throw crdInvalid(crd.metadata.name ?? '', stranded);
      status.storedVersions = [...new Set([...(status.storedVersions ?? []), storageVersion(crd)])];
      crd.status = status;
    },
    finalizersOnDelete: () => [CLEANUP_FINALIZER],
    prepareDelete(crd, ctx) {
      const status = (crd.status ?? (crd.status = {})) as Any;
      const conditions: Any[] = (status.conditions ?? []).filter((c: Any) => c.type !== 'Terminating');
      conditions.push(condition('Terminating', 'InstanceDeletionPending', 'CustomResourceDefinition marked for deletion; CustomResource deletion will begin soon', ctx.now()));
      status.conditions = conditions;
    },
  };
}

/** Validation of a custom resource against its version's schema; refusals carry the real Invalid Status. */
export function customResourceStrategy(kind: string, group: string, validator: Pick<CrdValidator, 'apply'>): Strategy {
  const run = (obj: KObject, old?: KObject) => {
    const { obj: out, causes } = validator.apply(obj as unknown as Record<string, unknown>, old as unknown as Record<string, unknown> | undefined);
    if (causes.length) throw invalid(kind, group, obj.metadata.name ?? '', causes, `${kind}.${group}`);
    if (out !== (obj as unknown)) {
      for (const k of Object.keys(obj)) if (k !== 'metadata') delete (obj as Any)[k];
      // The metadata object stays the one the store holds; what pruning dropped from it goes.
      const meta = obj.metadata as Any;
      const pruned = (isObject(out.metadata) ? out.metadata : {}) as Any;
      for (const k of Object.keys(meta)) {
        if (k in pruned) meta[k] = pruned[k];
        else delete meta[k];
      }
      Object.assign(obj, { ...out, metadata: meta });
    }
  };
  return {
    prepareCreate: (obj) => run(obj),
    prepareUpdate: (obj, old) => run(obj, old),
    prepareStatusUpdate: (obj, old) => run(obj, old),
  };
}

/** The resource types a CRD serves, its storage version first. */
export function customResourceTypes(crd: KObject): ResourceType[] {
  const spec = crd.spec as Any;
  // Served under the names the CRD was accepted with (a later conflicting rename is not taken).
  const names = { ...(spec.names as Any), ...((crd.status as Any)?.acceptedNames ?? {}) } as Any;
  const versions = [...(spec.versions as Any[])].sort((a, b) => Number(b.storage === true) - Number(a.storage === true));
  return versions.map((v): ResourceType => {
    const compiled = compiledVersion({ name: v.name, schema: v.schema });
    if (!compiled.ok) throw new Error(`CRD ${crd.metadata.name} version ${v.name}: ${compiled.errors.join('; ')}`);
    const status = isObject(v.subresources) && isObject(v.subresources.status);
    return {
      group: spec.group,
      version: v.name,
      plural: names.plural,
      singular: names.singular ?? names.kind.toLowerCase(),
      kind: names.kind,
      namespaced: spec.scope === 'Namespaced',
      shortNames: names.shortNames ?? [],
      ...(names.categories ? { categories: names.categories } : {}),
      statusSubresource: status,
      generation: true,
      resetStatusOnCreate: status,
      nameRule: 'dns1123-subdomain',
      fieldSelectors: [],
      unconditionalUpdate: true,
      createOnUpdate: false,
      returnDeletedObject: false,
      internalGroup: spec.group,
      served: v.served === true,
      ...(v.deprecated === true ? { deprecationWarning: v.deprecationWarning ?? `${spec.group}/${v.name} ${names.kind} is deprecated` } : {}),
      customResource: true,
      printerColumns: (v.additionalPrinterColumns ?? []) as PrinterColumn[],
      openapiSchema: v.schema.openAPIV3Schema,
      unknownFields: (obj) => compiled.validator.unknownFields(obj as unknown as Record<string, unknown>),
      strategy: customResourceStrategy(names.kind, spec.group, compiled.validator),
    };
  });
}

/**
 * Keeps the store's resource types in step with the stored CRDs: registers a CRD's
 * versions when it is created or changed, and on deletion deletes its objects, drops
 * the cleanup finalizer once none is left, and unregisters the types.
 */
export function startCrdController(store: Store): () => void {
  const crdType = store.find('apiextensions.k8s.io', 'customresourcedefinitions')!;
  const served = new Map<string, ResourceType[]>();
  /** The spec each CRD's types were built from: status and metadata writes leave them be. */
  const builtFrom = new Map<string, unknown>();

  const sync = (crd: KObject) => {
    const name = crd.metadata.name!;
    if (!isEstablished(crd)) return;
    const basis = { spec: crd.spec, names: (crd.status as Any)?.acceptedNames };
    if (served.has(name) && jsonEqual(builtFrom.get(name), basis)) return;
    builtFrom.set(name, clone(basis));
    const before = served.get(name) ?? [];
    const next = customResourceTypes(crd);
    store.register(next[0]!, before[0]);
    for (const rt of next.slice(1)) store.register(rt, next[0]);
    store.own(next[0]!);
    for (const rt of before) store.unregister(rt);
    served.set(name, next);
  };

  const cleanup = (name: string) => {
    const crd = store.peek(crdType, undefined, name);
    const types = served.get(name);
    if (!crd?.metadata.deletionTimestamp || !types) return;
    for (const o of store.listRaw(types[0]!)) {
      if (o.metadata.deletionTimestamp) continue;
      try {
        store.delete(types[0]!, o.metadata.namespace, o.metadata.name!);
      } catch (err) {
        if (!(err instanceof ApiError && err.code === 404)) throw err;
      }
    }
    if (store.listRaw(types[0]!).length) return;
    const finalizers = (crd.metadata.finalizers ?? []).filter((f) => f !== CLEANUP_FINALIZER);
    store.update(crdType, { ...clone(crd), metadata: { ...clone(crd.metadata), finalizers } });
  };

  const scheduled = new Set<string>();
  const later = (name: string) => {
    if (scheduled.has(name)) return;
    scheduled.add(name);
    // Store listeners run inside a commit: the writes they cause come after it.
    setImmediate(() => {
      scheduled.delete(name);
      cleanup(name);
    });
  };

  const ownerOf = (rt: ResourceType) => `${rt.plural}.${rt.group}`;
  for (const crd of store.listRaw(crdType)) sync(crd);
  const unsubscribe = store.subscribe((rt, ev) => {
    if (rt === crdType) {
      const name = ev.object.metadata.name!;
      if (ev.type === 'DELETED') {
        for (const t of served.get(name) ?? []) store.unregister(t);
        served.delete(name);
        builtFrom.delete(name);
        // Its names are free again: CRDs of the group that wanted them get them now.
        const group = (ev.object.spec as Any)?.group;
        setImmediate(() => {
          for (const mate of store.listRaw(crdType)) {
            if ((mate.spec as Any)?.group === group && !isEstablished(mate) && !mate.metadata.deletionTimestamp) store.update(crdType, clone(mate));
          }
        });
        return;
      }
      sync(ev.object);
      if (ev.object.metadata.deletionTimestamp) later(name);
      return;
    }
    if (rt.customResource && ev.type === 'DELETED' && served.has(ownerOf(rt))) later(ownerOf(rt));
  });
  return unsubscribe;
}
