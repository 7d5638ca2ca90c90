// Namespace behaviour: phase Active, the `kubernetes` spec finalizer that holds a deleted
// namespace (phase Terminating) until the namespace controller has emptied it.
import type { KObject } from './objects.js';
import type { Strategy } from './resources.js';

type NamespaceLike = KObject & { spec?: { finalizers?: string[] }; status?: { phase?: string } };

export function namespaceStrategy(): Strategy {
  return {
    prepareCreate(obj) {
      const ns = obj as NamespaceLike;
      ns.spec = { ...(ns.spec ?? {}), finalizers: ns.spec?.finalizers ?? ['kubernetes'] };
      ns.status = { phase: 'Active' };
      ns.metadata.labels = { ...(ns.metadata.labels ?? {}), 'kubernetes.io/metadata.name': ns.metadata.name! };
    },
    prepareUpdate(obj) {
      obj.metadata.labels = { ...(obj.metadata.labels ?? {}), 'kubernetes.io/metadata.name': obj.metadata.name! };
    },
    prepareDelete(obj) {
      (obj as NamespaceLike).status = { ...((obj as NamespaceLike).status ?? {}), phase: 'Terminating' };
    },
    pendingFinalizers(obj) {
      return (obj as NamespaceLike).spec?.finalizers ?? [];
    },
  };
}
