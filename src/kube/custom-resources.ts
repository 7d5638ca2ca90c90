// Custom resources (objects of a CRD: MetalLB's BGPPeer, BGPAdvertisement, ...): informer
// resource types listed through client-node's CustomObjectsApi and decoded as the plain
// JSON they are (client-node has no model for them), and the few writes on them. Each
// resource type is written out with its literal path, as those of resources.ts, so that
// test/install/code-permissions.ts can tell which resources a process touches.
import { CustomObjectsApi, PatchStrategy, setHeaderOptions } from './client-node.js';
import type { KubeObject } from './cache.js';
import type { KubeClients } from './client.js';
import type { ListFn, ObjectList } from './resources.js';

/** A custom object: metadata, and spec/status as the CRD's schema has them. */
export interface CustomObject<Spec = Record<string, unknown>, Status = Record<string, unknown>> extends KubeObject {
  spec?: Spec;
  status?: Status;
}

const apis = new WeakMap<object, CustomObjectsApi>();

function customObjectsApi(clients: Pick<KubeClients, 'kc'>): CustomObjectsApi {
  let api = apis.get(clients.kc);
  if (!api) apis.set(clients.kc, (api = clients.kc.makeApiClient(CustomObjectsApi)));
  return api;
}

/** The clients a probe of a custom resource type needs: lbc's own connection where there is one. */
export type ProbeClients = Pick<KubeClients, 'custom'> & { readonly api?: KubeClients['api'] };

/**
 * Lists one object of a custom resource type across namespaces, to learn whether the API
 * server serves it: a 404 (an error whose `code` is 404, from either client) says the CRD
 * or that version is not installed. Over lbc's own connection where there is one: through
 * client-node, the Gateway API's nine probes at start-up opened a TLS connection of their
 * own beside the informers' lists, before a cold start's first write (#21).
 */
export async function probeCustomResource(clients: ProbeClients, r: { group: string; version: string; plural: string }): Promise<void> {
  if (clients.api) {
    await clients.api.request('GET', `/apis/${r.group}/${r.version}/${r.plural}?limit=1`, { discard: true });
    return;
  }
  await clients.custom.listClusterCustomObject({ group: r.group, version: r.version, plural: r.plural, limit: 1 });
}

/** `/apis/metallb.io/v1beta2/bgppeers` → its group, version and plural. */
function parts(path: string): { group: string; version: string; plural: string } {
  const [, apis, group, version, plural] = path.split('/');
  if (apis !== 'apis' || !group || !version || !plural) throw new Error(`${path} is not a custom resource collection path`);
  return { group, version, plural };
}

/** The `list` of a namespaced custom resource type at `path`. */
export function listCustomObjects<T extends CustomObject>(path: string): (clients: KubeClients) => ListFn<T> {
  const p = parts(path);
  return (clients) => async (req) => {
    const api = customObjectsApi(clients);
    const common = {
      ...p,
      ...(req.labelSelector ? { labelSelector: req.labelSelector } : {}),
      ...(req.fieldSelector ? { fieldSelector: req.fieldSelector } : {}),
      ...(req.limit ? { limit: req.limit } : {}),
      ...(req._continue ? { _continue: req._continue } : {}),
      ...(req.resourceVersion ? { resourceVersion: req.resourceVersion } : {}),
    };
    return (req.namespace ? await api.listNamespacedCustomObject({ ...common, namespace: req.namespace }) : await api.listCustomObjectForAllNamespaces(common)) as ObjectList<T>;
  };
}

export function asCustomObject<T extends CustomObject>(raw: unknown): T {
  return raw as T;
}

const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

/** The writes lbc makes on a namespaced custom resource (named at each call, for the RBAC scan). */
export function customObjects<T extends CustomObject<unknown, unknown> = CustomObject>(clients: Pick<KubeClients, 'kc'>, type: { path: string }) {
  const p = parts(type.path);
  const api = customObjectsApi(clients);
  return {
    list: async (namespace: string, opts: { limit?: number } = {}): Promise<ObjectList<T>> => (await api.listNamespacedCustomObject({ ...p, namespace, ...opts })) as ObjectList<T>,
    create: async (namespace: string, body: T): Promise<T> => (await api.createNamespacedCustomObject({ ...p, namespace, body })) as T,
    /** A merge patch of the status subresource (a create ignores status when the CRD has that subresource). */
    patchStatus: async (namespace: string, name: string, status: unknown): Promise<T> => (await api.patchNamespacedCustomObjectStatus({ ...p, namespace, name, body: { status } }, mergePatch)) as T,
    delete: async (namespace: string, name: string): Promise<void> => {
      await api.deleteNamespacedCustomObject({ ...p, namespace, name });
    },
  };
}
