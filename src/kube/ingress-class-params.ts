// aws-load-balancer-controller's IngressClassParams (elbv2.k8s.aws/v1beta1, cluster-scoped)
// as lbc lists and watches it, and whether the API server serves it. lbc does not ship the
// CRD: users install ALBC's (../shared/crds in the tests); without it there is nothing to
// watch, and an IngressClass naming one is not served.
import { asCustomObject, listCustomObjects, probeCustomResource, type CustomObject, type ProbeClients } from './custom-resources.js';
import type { ResourceType } from './resources.js';

// Literal path, as resources.ts's: test/install/code-permissions.ts reads it to derive RBAC.
export const IngressClassParamsResource: ResourceType<CustomObject> = {
  kind: 'IngressClassParams',
  apiVersion: 'elbv2.k8s.aws/v1beta1',
  namespaced: false,
  path: '/apis/elbv2.k8s.aws/v1beta1/ingressclassparams',
  list: listCustomObjects('/apis/elbv2.k8s.aws/v1beta1/ingressclassparams'),
  decode: asCustomObject,
};

/** Whether the API server serves IngressClassParams, found by listing one: 404 means the CRD (or that version) is not installed. */
export async function discoverIngressClassParams(clients: ProbeClients): Promise<boolean> {
  try {
    // rbac: list elbv2.k8s.aws/ingressclassparams
    await probeCustomResource(clients, { group: 'elbv2.k8s.aws', version: 'v1beta1', plural: 'ingressclassparams' });
    return true;
  } catch (e) {
    if ((e as { code?: unknown }).code === 404) return false;
    throw e;
  }
}
