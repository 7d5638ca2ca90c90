// MetalLB's custom resources (metallb.io), as lbc lists, watches and writes them: the
// configuration users already have (IPAddressPool, L2Advertisement) and the status
// objects MetalLB's speaker writes (ServiceL2Status). client-node has no models for
// custom resources, so their objects stay the server's JSON; the metal provider reads
// their specs (providers/metal/metallb-resources.ts).
import type { V1OwnerReference } from '@kubernetes/client-node';
import { CustomObjectsApi } from './client-node.js';
import type { KubeObject } from './cache.js';
import type { KubeClients } from './client.js';
import type { ListRequest, ObjectList, ResourceType } from './resources.js';

export const METALLB_GROUP = 'metallb.io';
/** The version of every kind lbc reads or writes here (the CRDs' storage version, v0.16.1). */
export const METALLB_VERSION = 'v1beta1';

/** A custom resource as the server sends it: metadata, and a spec and status lbc reads as plain JSON. */
export interface CustomObject extends KubeObject {
  metadata?: KubeObject['metadata'] & { creationTimestamp?: string | Date; ownerReferences?: V1OwnerReference[]; generateName?: string };
  spec?: unknown;
  status?: unknown;
}

/** The list call of one metallb.io plural, through client-node's CustomObjectsApi. */
function listOf(plural: string): ResourceType<CustomObject>['list'] {
  const base = { group: METALLB_GROUP, version: METALLB_VERSION, plural };
  return ({ kc }: KubeClients) => {
    const api = kc.makeApiClient(CustomObjectsApi);
    return async (req: ListRequest) =>
      (await (req.namespace
        ? api.listNamespacedCustomObject({ ...base, ...req, namespace: req.namespace })
        : api.listCustomObjectForAllNamespaces({ ...base, ...req }))) as ObjectList<CustomObject>;
  };
}

const asCustomObject = (raw: unknown): CustomObject => raw as CustomObject;

// Literal paths, as resources.ts's: test/install/code-permissions.ts reads them to derive RBAC.
export const IPAddressPools: ResourceType<CustomObject> = {
  kind: 'IPAddressPool',
  apiVersion: 'metallb.io/v1beta1',
  namespaced: true,
  path: '/apis/metallb.io/v1beta1/ipaddresspools',
  list: listOf('ipaddresspools'),
  decode: asCustomObject,
};

export const L2Advertisements: ResourceType<CustomObject> = {
  kind: 'L2Advertisement',
  apiVersion: 'metallb.io/v1beta1',
  namespaced: true,
  path: '/apis/metallb.io/v1beta1/l2advertisements',
  list: listOf('l2advertisements'),
  decode: asCustomObject,
};

export const ServiceL2Statuses: ResourceType<CustomObject> = {
  kind: 'ServiceL2Status',
  apiVersion: 'metallb.io/v1beta1',
  namespaced: true,
  path: '/apis/metallb.io/v1beta1/servicel2statuses',
  list: listOf('servicel2statuses'),
  decode: asCustomObject,
};

/**
 * Whether the server serves MetalLB's IPAddressPools (its CRDs are installed): one list
 * of at most one object in `namespace`, a call the informer makes anyway (so no
 * permission beyond its own), 404 where the resource is not served.
 */
export async function metallbServed(clients: Pick<KubeClients, 'kc'>, namespace: string): Promise<boolean> {
  try {
    await IPAddressPools.list(clients as KubeClients)({ namespace, limit: 1 });
    return true;
  } catch (e) {
    if ((e as { code?: unknown }).code === 404) return false;
    throw e;
  }
}
