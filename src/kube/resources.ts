// The API resources lbc lists and watches, each with its REST path, its typed list
// call and its decoder, in one place.
import type {
  V1EndpointSlice,
  V1Ingress,
  V1IngressClass,
  V1Lease,
  V1Namespace,
  V1Node,
  V1Secret,
  V1Service,
} from '@kubernetes/client-node';
// Where the typed list is used (a cluster behind a proxy: no connection of lbc's own),
// client-node's ObjectSerializer gives objects arriving on a watch (plain JSON) the same
// shape, Date fields included, as objects from that list (see client-node.ts).
import { ObjectSerializer } from './client-node.js';
import type { KubeObject } from './cache.js';
import type { ApiConnection, KubeClients } from './client.js';

export interface ListRequest {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  _continue?: string;
  /** "0": any version the server has at hand (its watch cache); absent: the current state. */
  resourceVersion?: '0';
}

export interface ObjectList<T> {
  metadata?: { resourceVersion?: string; _continue?: string };
  items: T[];
}

export type ListFn<T> = (req: ListRequest) => Promise<ObjectList<T>>;

export interface ResourceType<T extends KubeObject> {
  readonly kind: string;
  readonly apiVersion: string;
  readonly namespaced: boolean;
  /** Collection path across all namespaces, e.g. `/api/v1/services`. */
  readonly path: string;
  list(clients: KubeClients): ListFn<T>;
  /** Turns a watch event's plain JSON object into the typed model. */
  decode(raw: unknown): T;
}

/**
 * The collection path for one namespace, or all namespaces when none is given:
 * `/api/v1/services` → `/api/v1/namespaces/ns/services`.
 */
export function collectionPath(path: string, namespace?: string): string {
  if (!namespace) return path;
  const i = path.lastIndexOf('/');
  return `${path.slice(0, i)}/namespaces/${encodeURIComponent(namespace)}${path.slice(i)}`;
}

/**
 * How lbc reads a resource type: over its own connection where there is one, as the
 * server's JSON (timestamps stay RFC 3339 strings), which is also what the watch on that
 * connection delivers, so list and watch objects look alike with no decoding at all;
 * else the typed list, with watch objects decoded to its models.
 * Why: decoding every listed and watched object into client-node's models (a class
 * instance with every field of the schema, a Date per timestamp) was 2-3% of the
 * controller's CPU in the profile of a cold start of 1000 Services and 6% of what it
 * allocated, and held ~4 MB of its peak RSS; every reader of a timestamp takes either
 * form (cache.ts KubeObject).
 */
export function readerOf<T extends KubeObject>(clients: KubeClients, resource: ResourceType<T>): { list: ListFn<T>; decode: (raw: unknown) => T } {
  return clients.api ? { list: listOver(clients.api, resource), decode: (raw) => raw as T } : { list: resource.list(clients), decode: (raw) => resource.decode(raw) };
}

/** A collection's pages as the server's JSON, over lbc's connection. */
function listOver<T extends KubeObject>(api: ApiConnection, resource: ResourceType<T>): ListFn<T> {
  return async (req) => {
    const q = new URLSearchParams();
    if (req.labelSelector) q.set('labelSelector', req.labelSelector);
    if (req.fieldSelector) q.set('fieldSelector', req.fieldSelector);
    if (req.limit) q.set('limit', String(req.limit));
    if (req._continue) q.set('continue', req._continue);
    if (req.resourceVersion) q.set('resourceVersion', req.resourceVersion);
    const query = q.size > 0 ? `?${q}` : '';
    const page = (await api.request('GET', `${collectionPath(resource.path, resource.namespaced ? req.namespace : undefined)}${query}`)) as {
      metadata?: { resourceVersion?: string; continue?: string };
      items?: T[] | null;
    };
    // `continue` is `_continue` in client-node's ListMeta, which the informer reads.
    return { metadata: { resourceVersion: page.metadata?.resourceVersion, _continue: page.metadata?.continue }, items: page.items ?? [] };
  };
}

function decoder<T>(model: string): (raw: unknown) => T {
  return (raw) => ObjectSerializer.deserialize(raw, model, '') as T;
}

export const Services: ResourceType<V1Service> = {
  kind: 'Service',
  apiVersion: 'v1',
  namespaced: true,
  path: '/api/v1/services',
  list: ({ core }) => (req) =>
    req.namespace
      ? core.listNamespacedService({ ...req, namespace: req.namespace })
      : core.listServiceForAllNamespaces(req),
  decode: decoder('V1Service'),
};

export const Ingresses: ResourceType<V1Ingress> = {
  kind: 'Ingress',
  apiVersion: 'networking.k8s.io/v1',
  namespaced: true,
  path: '/apis/networking.k8s.io/v1/ingresses',
  list: ({ networking }) => (req) =>
    req.namespace
      ? networking.listNamespacedIngress({ ...req, namespace: req.namespace })
      : networking.listIngressForAllNamespaces(req),
  decode: decoder('V1Ingress'),
};

export const IngressClasses: ResourceType<V1IngressClass> = {
  kind: 'IngressClass',
  apiVersion: 'networking.k8s.io/v1',
  namespaced: false,
  path: '/apis/networking.k8s.io/v1/ingressclasses',
  list: ({ networking }) => ({ namespace: _ns, ...req }) => networking.listIngressClass(req),
  decode: decoder('V1IngressClass'),
};

export const EndpointSlices: ResourceType<V1EndpointSlice> = {
  kind: 'EndpointSlice',
  apiVersion: 'discovery.k8s.io/v1',
  namespaced: true,
  path: '/apis/discovery.k8s.io/v1/endpointslices',
  list: ({ discovery }) => (req) =>
    req.namespace
      ? discovery.listNamespacedEndpointSlice({ ...req, namespace: req.namespace })
      : discovery.listEndpointSliceForAllNamespaces(req),
  decode: decoder('V1EndpointSlice'),
};

export const Nodes: ResourceType<V1Node> = {
  kind: 'Node',
  apiVersion: 'v1',
  namespaced: false,
  path: '/api/v1/nodes',
  list: ({ core }) => ({ namespace: _ns, ...req }) => core.listNode(req),
  decode: decoder('V1Node'),
};

export const Secrets: ResourceType<V1Secret> = {
  kind: 'Secret',
  apiVersion: 'v1',
  namespaced: true,
  path: '/api/v1/secrets',
  list: ({ core }) => (req) =>
    req.namespace
      ? core.listNamespacedSecret({ ...req, namespace: req.namespace })
      : core.listSecretForAllNamespaces(req),
  decode: decoder('V1Secret'),
};

/** Namespaces, for the labels MetalLB's IPAddressPool namespaceSelectors match. */
export const Namespaces: ResourceType<V1Namespace> = {
  kind: 'Namespace',
  apiVersion: 'v1',
  namespaced: false,
  path: '/api/v1/namespaces',
  list: ({ core }) => ({ namespace: _ns, ...req }) => core.listNamespace(req),
  decode: decoder('V1Namespace'),
};

/** The metal speakers' Leases (the controller's own election Lease is read by name, not watched). */
export const Leases: ResourceType<V1Lease> = {
  kind: 'Lease',
  apiVersion: 'coordination.k8s.io/v1',
  namespaced: true,
  path: '/apis/coordination.k8s.io/v1/leases',
  list: ({ coordination }) => (req) =>
    req.namespace
      ? coordination.listNamespacedLease({ ...req, namespace: req.namespace })
      : coordination.listLeaseForAllNamespaces(req),
  decode: decoder('V1Lease'),
};
