// MetalLB's custom resources (metallb.io), as lbc lists, watches and writes them: the
// configuration users already have (IPAddressPool, L2Advertisement) and the status
// objects MetalLB's speaker writes (ServiceL2Status). client-node has no models for
// custom resources, so their objects stay the server's JSON; the metal provider reads
// their specs (providers/metal/metallb-resources.ts).
import { CustomObjectsApi } from '@kubernetes/client-node';
import type { KubeObject } from './cache.js';
import type { KubeClients } from './client.js';
import type { ListRequest, ObjectList, ResourceType } from './resources.js';

export const METALLB_GROUP = 'metallb.io';
/** The version of every kind lbc reads or writes here (the CRDs' storage version, v0.16.1). */
export const METALLB_VERSION = 'v1beta1';

/** A custom resource as the server sends it: metadata, and a spec and status lbc reads as plain JSON. */
export interface CustomObject extends KubeObject {
  metadata?: KubeObject['metadata'] & { creationTimestamp?: string | Date; ownerReferences?: OwnerReference[]; generateName?: string };
  spec?: unknown;
  status?: unknown;
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

function customResource(kind: string, plural: string): ResourceType<CustomObject> {
  const base = { group: METALLB_GROUP, version: METALLB_VERSION, plural };
  return {
    kind,
    apiVersion: `${METALLB_GROUP}/${METALLB_VERSION}`,
    namespaced: true,
    path: `/apis/${METALLB_GROUP}/${METALLB_VERSION}/${plural}`,
    list: ({ kc }: KubeClients) => {
      const api = kc.makeApiClient(CustomObjectsApi);
      return async (req: ListRequest) =>
        (await (req.namespace
          ? api.listNamespacedCustomObject({ ...base, ...req, namespace: req.namespace })
          : api.listCustomObjectForAllNamespaces({ ...base, ...req }))) as ObjectList<CustomObject>;
    },
    decode: (raw) => raw as CustomObject,
  };
}

export const IPAddressPools = customResource('IPAddressPool', 'ipaddresspools');
export const L2Advertisements = customResource('L2Advertisement', 'l2advertisements');
export const ServiceL2Statuses = customResource('ServiceL2Status', 'servicel2statuses');

/** Whether the server serves metallb.io/v1beta1 at all (MetalLB's CRDs are installed). */
export async function metallbServed(clients: Pick<KubeClients, 'kc'>): Promise<boolean> {
  try {
    await clients.kc.makeApiClient(CustomObjectsApi).getAPIResources({ group: METALLB_GROUP, version: METALLB_VERSION });
    return true;
  } catch (e) {
    if ((e as { code?: unknown }).code === 404) return false;
    throw e;
  }
}
