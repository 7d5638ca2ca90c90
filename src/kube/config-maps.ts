// Reading one ConfigMap by name, for facts other controllers keep there (ingress-gce's
// kube-system/ingress-uid). A missing ConfigMap is an answer (undefined), not an error.
import type { CoreV1Api } from '@kubernetes/client-node';

export interface ConfigMapReader {
  configMap(namespace: string, name: string): Promise<Readonly<Record<string, string>> | undefined>;
}

export function configMapReader(core: Pick<CoreV1Api, 'readNamespacedConfigMap'>): ConfigMapReader {
  return {
    async configMap(namespace, name) {
      try {
        const cm = await core.readNamespacedConfigMap({ namespace, name });
        return { ...(cm.data ?? {}) };
      } catch (e) {
        if ((e as { code?: unknown }).code === 404) return undefined;
        throw e;
      }
    },
  };
}
