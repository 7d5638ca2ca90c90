// GKE's Ingress configuration kinds (BackendConfig, FrontendConfig, ManagedCertificate) as
// lbc lists, watches and writes them, and which of them the API server serves. GKE
// publishes no CRD files for them (lbc's are in deploy/crds/gke); a cluster without them
// has none for lbc to watch, and an Ingress naming one is then refused, never served
// without it.
import { asCustomObject, listCustomObjects, probeCustomResource, type CustomObject, type ProbeClients } from './custom-resources.js';
import type { ResourceType } from './resources.js';

// Literal paths, as resources.ts's: test/install/code-permissions.ts reads them to derive RBAC.
export const BackendConfigs: ResourceType<CustomObject> = {
  kind: 'BackendConfig',
  apiVersion: 'cloud.google.com/v1',
  namespaced: true,
  path: '/apis/cloud.google.com/v1/backendconfigs',
  list: listCustomObjects('/apis/cloud.google.com/v1/backendconfigs'),
  decode: asCustomObject,
};

export const FrontendConfigs: ResourceType<CustomObject> = {
  kind: 'FrontendConfig',
  apiVersion: 'networking.gke.io/v1beta1',
  namespaced: true,
  path: '/apis/networking.gke.io/v1beta1/frontendconfigs',
  list: listCustomObjects('/apis/networking.gke.io/v1beta1/frontendconfigs'),
  decode: asCustomObject,
};

export const ManagedCertificates: ResourceType<CustomObject> = {
  kind: 'ManagedCertificate',
  apiVersion: 'networking.gke.io/v1',
  namespaced: true,
  path: '/apis/networking.gke.io/v1/managedcertificates',
  list: listCustomObjects('/apis/networking.gke.io/v1/managedcertificates'),
  decode: asCustomObject,
};

export type GkeKind = 'BackendConfig' | 'FrontendConfig' | 'ManagedCertificate';

/** Whether each kind is served (its CRD installed). */
export type ServedGkeKinds = Readonly<Record<GkeKind, boolean>>;

const notFound = (e: unknown): boolean => (e as { code?: unknown }).code === 404;

/** Which GKE kinds the API server serves, found by listing one object of each: 404 means the CRD (or that version) is not installed. */
export async function discoverGkeKinds(clients: ProbeClients): Promise<ServedGkeKinds> {
  const served = async (group: string, version: string, plural: string): Promise<boolean> => {
    try {
      // rbac: list cloud.google.com/backendconfigs networking.gke.io/frontendconfigs networking.gke.io/managedcertificates
      await probeCustomResource(clients, { group, version, plural });
      return true;
    } catch (e) {
      if (notFound(e)) return false;
      throw e;
    }
  };
  const [backend, frontend, managed] = await Promise.all([
    served('cloud.google.com', 'v1', 'backendconfigs'),
    served('networking.gke.io', 'v1beta1', 'frontendconfigs'),
    served('networking.gke.io', 'v1', 'managedcertificates'),
  ]);
  return { BackendConfig: backend, FrontendConfig: frontend, ManagedCertificate: managed };
}
