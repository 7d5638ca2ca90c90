// The Pods whose readiness probes Ingress health checks follow (ingress-gce's
// getHTTPProbe), read with a GET when a reconcile needs them rather than watched: the
// builder wants one Pod per backend, and an informer would hold every Pod of the
// cluster. A Pod's probes cannot change once it exists, and a new Pod changes the
// EndpointSlices, which reconciles the Ingress again, so reading at reconcile misses
// nothing.
import type { CoreV1Api, V1Pod } from '@kubernetes/client-node';
import type { PodRef } from './endpoints.js';
import type { IngressModelResult } from './ingress-model.js';

export interface PodReader {
  /** undefined when the Pod is gone (it can go between the EndpointSlice and the read). */
  read(namespace: string, name: string): Promise<V1Pod | undefined>;
}

export function podReader(core: Pick<CoreV1Api, 'readNamespacedPod'>): PodReader {
  return {
    read: async (namespace, name) => {
      try {
        return await core.readNamespacedPod({ namespace, name });
      } catch (e) {
        if ((e as { code?: unknown }).code === 404) return undefined;
        throw e;
      }
    },
  };
}

/** The named Pods that exist, each read once however many backends name it. */
export async function readProbePods(reader: PodReader, refs: readonly PodRef[]): Promise<V1Pod[]> {
  const unique = new Map(refs.map((r) => [`${r.namespace}/${r.name}`, r]));
  const pods = await Promise.all([...unique.values()].map((r) => reader.read(r.namespace, r.name)));
  return pods.filter((p): p is V1Pod => p !== undefined);
}

/**
 * The build again with the Pods the given one named for their readiness probes (the
 * reconciler's and `lbc plan`'s one way to it); a build that names none is final as is.
 */
export async function withProbePods(
  built: IngressModelResult,
  rebuild: (pods: readonly V1Pod[]) => IngressModelResult,
  reader: PodReader,
): Promise<IngressModelResult> {
  if (!built.ok || built.probePods.length === 0) return built;
  return rebuild(await readProbePods(reader, built.probePods));
}
