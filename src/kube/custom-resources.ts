// Custom resources (objects of a CRD: MetalLB's BGPPeer, BGPAdvertisement, ...) as
// informer resource types: listed through client-node's CustomObjectsApi, decoded as
// the plain JSON they are (client-node has no model for them).
import { CustomObjectsApi } from '@kubernetes/client-node';
import type { KubeObject } from './cache.js';
import type { KubeClients } from './client.js';
import type { ObjectList, ResourceType } from './resources.js';

/** A custom object: metadata, and spec/status as the CRD's schema has them. */
export interface CustomObject<Spec = Record<string, unknown>, Status = Record<string, unknown>> extends KubeObject {
  spec?: Spec;
  status?: Status;
}

const apis = new WeakMap<object, CustomObjectsApi>();

/** One CustomObjectsApi per KubeConfig. */
export function customObjectsApi(clients: Pick<KubeClients, 'kc'>): CustomObjectsApi {
  let api = apis.get(clients.kc);
  if (!api) apis.set(clients.kc, (api = clients.kc.makeApiClient(CustomObjectsApi)));
  return api;
}

export function customResource<T extends CustomObject>(r: { group: string; version: string; plural: string; kind: string; namespaced: boolean }): ResourceType<T> {
  return {
    kind: r.kind,
    apiVersion: `${r.group}/${r.version}`,
    namespaced: r.namespaced,
    path: `/apis/${r.group}/${r.version}/${r.plural}`,
    list: (clients) => async (req) => {
      const api = customObjectsApi(clients);
      const common = { group: r.group, version: r.version, plural: r.plural, ...(req.labelSelector ? { labelSelector: req.labelSelector } : {}), ...(req.fieldSelector ? { fieldSelector: req.fieldSelector } : {}), ...(req.limit ? { limit: req.limit } : {}), ...(req._continue ? { _continue: req._continue } : {}) };
      const out = (req.namespace
        ? await api.listNamespacedCustomObject({ ...common, namespace: req.namespace })
        : r.namespaced
          ? await api.listCustomObjectForAllNamespaces(common)
          : await api.listClusterCustomObject(common)) as ObjectList<T>;
      return out;
    },
    decode: (raw) => raw as T,
  };
}
