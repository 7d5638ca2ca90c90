// The resource kinds devcluster serves, described once: discovery, routing, naming
// rules and per-kind behaviour (strategies) all read this table.
import type { KObject } from './objects.js';
import type { Store } from './store.js';
import { eventsV1View } from './events.js';

export interface StrategyContext {
  readonly store: Store;
  now(): Date;
}

/**
 * Per-kind behaviour beyond generic storage (what kube-apiserver calls a REST strategy).
 * Hooks run after the generic checks (existence, resourceVersion precondition), so once
 * a hook returns the write always lands; a hook that throws must release anything it
 * allocated first.
 */
export interface Strategy {
  /** Defaults, validation and allocation for a new object. */
  prepareCreate?(obj: KObject, ctx: StrategyContext): void;
  /** A write to the main resource; `obj` already carries the old status. */
  prepareUpdate?(obj: KObject, old: KObject, ctx: StrategyContext): void;
  /** A write to the status subresource; `obj` already carries the old spec and metadata. */
  prepareStatusUpdate?(obj: KObject, old: KObject, ctx: StrategyContext): void;
  /** The object is gone from storage: release what it held. */
  removed?(obj: KObject, ctx: StrategyContext): void;
  /** Finalizers a delete request adds, as kube-apiserver adds customresourcecleanup to a deleted CRD. */
  finalizersOnDelete?(obj: KObject): string[];
  /** Deletion is requested and the object stays for now (finalizers): mark it (e.g. phase Terminating). */
  prepareDelete?(obj: KObject, ctx: StrategyContext): void;
  /** What else, besides metadata.finalizers, keeps a deleted object in storage (Namespace spec.finalizers). */
  pendingFinalizers?(obj: KObject): string[];
}

export interface ResourceView {
  /** group/plural of the stored resource. */
  readonly storage: { group: string; plural: string };
  toStorage(obj: KObject): KObject;
  fromStorage(obj: KObject): KObject;
  /** This view's field selector paths translated to the storage's. */
  readonly fieldPaths: Readonly<Record<string, string>>;
}

/** A CRD's additionalPrinterColumns entry: a `kubectl get` column read from the object by a JSONPath. */
export interface PrinterColumn {
  readonly name: string;
  readonly type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  readonly format?: string;
  readonly description?: string;
  readonly priority?: number;
  readonly jsonPath: string;
}

export type NameRule = 'dns1123-subdomain' | 'dns1123-label' | 'dns1035-label' | 'path-segment';

export interface ResourceType {
  readonly group: string;
  readonly version: string;
  readonly plural: string;
  readonly singular: string;
  readonly kind: string;
  readonly namespaced: boolean;
  readonly shortNames: readonly string[];
  readonly categories?: readonly string[];
  /** Has a /status subresource: status is written there only. */
  readonly statusSubresource: boolean;
  /** metadata.generation is maintained (bumped when the spec changes). */
  readonly generation: boolean;
  /** Status as sent on create is dropped (kube-apiserver resets it for these kinds). */
  readonly resetStatusOnCreate: boolean;
  readonly nameRule: NameRule;
  /** Field selector paths beyond metadata.name / metadata.namespace. */
  readonly fieldSelectors: readonly string[];
  /** Status a new object starts with (kube-apiserver resets status on create for these kinds). */
  readonly initialStatus?: () => unknown;
  /** PUT without metadata.resourceVersion is allowed (false: 422 "must be specified for an update"). */
  readonly unconditionalUpdate: boolean;
  /** PUT of a missing object creates it (201). */
  readonly createOnUpdate: boolean;
  /** DELETE answers with the deleted object; otherwise with a Success Status. */
  readonly returnDeletedObject: boolean;
  /** The Go package kube-apiserver converts this kind through, as its decode errors name it (core, networking, ...). */
  readonly internalGroup: string;
  /** Served as another resource's storage, converted on the way in and out (events.k8s.io Events over core Events). */
  readonly view?: ResourceView;
  /** A CRD version with served: false: stored objects stay reachable through the others, its own paths answer 404. */
  readonly served?: boolean;
  /** Defined by a CustomResourceDefinition (no strategic merge patch, no Go type to decode into). */
  readonly customResource?: boolean;
  /** A deprecated CRD version: every response on it carries this as a Warning header. */
  readonly deprecationWarning?: string;
  /** The CRD version's openAPIV3Schema, published under /openapi/v3 for kubectl explain. */
  readonly openapiSchema?: Readonly<Record<string, unknown>>;
  /** The fields of a written object its schema does not declare, for `fieldValidation`; absent: not checked. */
  readonly unknownFields?: (obj: KObject) => string[];
  /** Table columns besides Name (CRD additionalPrinterColumns). */
  readonly printerColumns?: readonly PrinterColumn[];
  strategy?: Strategy;
}

export function isServed(rt: ResourceType): boolean {
  return rt.served !== false;
}

export function apiVersionOf(rt: ResourceType): string {
  return rt.group ? `${rt.group}/${rt.version}` : rt.version;
}

export function resourceId(rt: ResourceType): string {
  return rt.group ? `${rt.plural}.${rt.group}` : rt.plural;
}

function rt(r: Partial<ResourceType> & Pick<ResourceType, 'plural' | 'kind' | 'namespaced'>): ResourceType {
  return {
    group: '',
    version: 'v1',
    singular: r.kind.toLowerCase(),
    shortNames: [],
    statusSubresource: false,
    generation: false,
    resetStatusOnCreate: false,
    nameRule: 'dns1123-subdomain',
    fieldSelectors: [],
    unconditionalUpdate: true,
    createOnUpdate: false,
    returnDeletedObject: false,
    internalGroup: r.group ? r.group.split('.')[0]! : 'core',
    ...r,
  };
}

const loadBalancerStatus = () => ({ loadBalancer: {} });

/** A fresh table per devcluster, since strategies hold per-cluster allocation state. */
export function builtinResources(): ResourceType[] {
  return [
    rt({ plural: 'namespaces', kind: 'Namespace', namespaced: false, shortNames: ['ns'], statusSubresource: true, nameRule: 'dns1123-label', fieldSelectors: ['status.phase'], returnDeletedObject: true }),
    rt({ plural: 'services', kind: 'Service', namespaced: true, shortNames: ['svc'], categories: ['all'], statusSubresource: true, resetStatusOnCreate: true, initialStatus: loadBalancerStatus, nameRule: 'dns1035-label', createOnUpdate: true, returnDeletedObject: true }),
    rt({ plural: 'endpoints', singular: 'endpoints', kind: 'Endpoints', namespaced: true, shortNames: ['ep'], createOnUpdate: true }),
    rt({ plural: 'pods', kind: 'Pod', namespaced: true, shortNames: ['po'], categories: ['all'], statusSubresource: true, returnDeletedObject: true, fieldSelectors: ['spec.nodeName', 'status.phase', 'status.podIP'] }),
    rt({ plural: 'nodes', kind: 'Node', namespaced: false, shortNames: ['no'], statusSubresource: true, fieldSelectors: ['spec.unschedulable'] }),
    rt({ plural: 'secrets', kind: 'Secret', namespaced: true, fieldSelectors: ['type'] }),
    rt({ plural: 'configmaps', kind: 'ConfigMap', namespaced: true, shortNames: ['cm'] }),
    rt({
      plural: 'events', kind: 'Event', namespaced: true, shortNames: ['ev'], nameRule: 'path-segment', createOnUpdate: true,
      fieldSelectors: ['involvedObject.kind', 'involvedObject.namespace', 'involvedObject.name', 'involvedObject.uid', 'involvedObject.apiVersion', 'involvedObject.resourceVersion', 'involvedObject.fieldPath', 'reason', 'reportingComponent', 'source', 'type'],
    }),
    rt({ group: 'discovery.k8s.io', plural: 'endpointslices', kind: 'EndpointSlice', namespaced: true, generation: true, fieldSelectors: ['addressType'] }),
    rt({ group: 'networking.k8s.io', plural: 'ingresses', kind: 'Ingress', namespaced: true, shortNames: ['ing'], statusSubresource: true, generation: true, resetStatusOnCreate: true, initialStatus: loadBalancerStatus }),
    rt({ group: 'networking.k8s.io', plural: 'ingressclasses', kind: 'IngressClass', namespaced: false, generation: true }),
    rt({ group: 'coordination.k8s.io', plural: 'leases', kind: 'Lease', namespaced: true, unconditionalUpdate: false, createOnUpdate: true }),
    rt({
      group: 'apiextensions.k8s.io', plural: 'customresourcedefinitions', kind: 'CustomResourceDefinition', namespaced: false,
      shortNames: ['crd', 'crds'], categories: ['api-extensions'], statusSubresource: true, generation: true, resetStatusOnCreate: true, returnDeletedObject: true,
    }),
    rt({ group: 'events.k8s.io', plural: 'events', kind: 'Event', namespaced: true, shortNames: ['ev'], nameRule: 'path-segment', createOnUpdate: true, view: eventsV1View, fieldSelectors: Object.keys(eventsV1View.fieldPaths) }),
  ];
}
