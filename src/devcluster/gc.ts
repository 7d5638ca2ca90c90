// The two controllers devcluster needs for deletion to behave as in a real cluster: the
// garbage collector (ownerReferences: background deletion of dependents, orphaning) and
// the namespace controller (deleting a namespace deletes its content first).
import type { KObject } from './objects.js';
import type { ResourceType } from './resources.js';
import type { Store } from './store.js';
import { ApiError } from './errors.js';

const NAMESPACE_DELAY_MS = 300;

export function startGarbageCollector(store: Store): () => void {
  const timers = new Set<NodeJS.Timeout>();
  let pending = false;
  const dirtyOwners = new Set<string>();
  const dirtyNamespaces = new Set<string>();
  let stopped = false;

  const schedule = () => {
    if (pending || stopped) return;
    pending = true;
    setImmediate(() => {
      pending = false;
      if (stopped) return;
      run();
    });
  };

  const unsubscribe = store.subscribe((rt, ev) => {
    const o = ev.object;
    if (ev.type === 'DELETED' && o.metadata.uid) dirtyOwners.add(o.metadata.uid);
    if (o.metadata.deletionTimestamp && o.metadata.uid) dirtyOwners.add(o.metadata.uid);
    if (rt.kind === 'Namespace' && rt.group === '' && o.metadata.deletionTimestamp) dirtyNamespaces.add(o.metadata.name!);
    if (o.metadata.namespace && ev.type === 'DELETED') {
      const nsType = store.find('', 'namespaces');
      const ns = nsType && store.peek(nsType, undefined, o.metadata.namespace);
      if (ns?.metadata.deletionTimestamp) dirtyNamespaces.add(o.metadata.namespace);
    }
    if (dirtyOwners.size || dirtyNamespaces.size) schedule();
  });

  function exists(uid: string): KObject | undefined {
    for (const rt of store.resources) for (const o of store.listRaw(rt)) if (o.metadata.uid === uid) return o;
    return undefined;
  }

  function quietly(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      if (!(e instanceof ApiError && (e.code === 404 || e.code === 409))) throw e;
    }
  }

  function dependentsOf(uids: Set<string>): Array<{ rt: ResourceType; o: KObject }> {
    const out: Array<{ rt: ResourceType; o: KObject }> = [];
    for (const rt of store.resources) {
      for (const o of store.listRaw(rt)) {
        if (o.metadata.ownerReferences?.some((r) => uids.has(r.uid))) out.push({ rt, o });
      }
    }
    return out;
  }

  function run(): void {
    if (dirtyOwners.size) {
      const uids = new Set(dirtyOwners);
      dirtyOwners.clear();
      const owners = new Map<string, KObject | undefined>();
      for (const uid of uids) owners.set(uid, exists(uid));
      for (const { rt, o } of dependentsOf(uids)) {
        const refs = o.metadata.ownerReferences ?? [];
        const orphaningOwners = refs.filter((r) => owners.get(r.uid)?.metadata.finalizers?.includes('orphan'));
        if (orphaningOwners.length) {
          const keep = refs.filter((r) => !orphaningOwners.includes(r));
          quietly(() => store.update(rt, { ...o, metadata: { ...o.metadata, ownerReferences: keep.length ? keep : undefined } }));
          continue;
        }
        // Deleted only when no owner is left alive (or every remaining owner is being deleted in the foreground).
        const alive = refs.filter((r) => {
          const owner = owners.has(r.uid) ? owners.get(r.uid) : exists(r.uid);
          return owner && !owner.metadata.finalizers?.includes('foregroundDeletion');
        });
        if (alive.length === 0) {
          if (!o.metadata.deletionTimestamp) {
            quietly(() => store.delete(rt, o.metadata.namespace, o.metadata.name!, { propagationPolicy: 'Background' }));
          }
        } else {
          // References to owners that are gone are dropped; the dependent stays with its live owners.
          const live = refs.filter((r) => (owners.has(r.uid) ? owners.get(r.uid) : exists(r.uid)));
          if (live.length !== refs.length) {
            quietly(() => store.update(rt, { ...o, metadata: { ...o.metadata, ownerReferences: live } }));
          }
        }
      }
      // Finalizers the collector owns come off once their work is done.
      for (const [uid, owner] of owners) {
        if (!owner?.metadata.deletionTimestamp) continue;
        const fins = owner.metadata.finalizers ?? [];
        const remaining = dependentsOf(new Set([uid]));
        let next = fins;
        if (fins.includes('orphan')) next = next.filter((f) => f !== 'orphan');
        if (fins.includes('foregroundDeletion') && remaining.length === 0) next = next.filter((f) => f !== 'foregroundDeletion');
        if (next.length !== fins.length) {
          const rt = store.resources.find((r) => store.peek(r, owner.metadata.namespace, owner.metadata.name!)?.metadata.uid === uid);
          if (rt) quietly(() => store.update(rt, { ...owner, metadata: { ...owner.metadata, finalizers: next } }));
        }
      }
    }
    for (const ns of [...dirtyNamespaces]) {
      dirtyNamespaces.delete(ns);
      // The namespace controller works in the background (seconds in a real cluster): a
      // Terminating namespace is observable, and refuses new content, before it empties.
      const t = setTimeout(() => {
        timers.delete(t);
        if (!stopped) finishNamespace(ns);
      }, NAMESPACE_DELAY_MS);
      timers.add(t);
    }
  }

  function finishNamespace(ns: string): void {
    const nsType = store.find('', 'namespaces')!;
    const nsObj = store.peek(nsType, undefined, ns);
    if (!nsObj?.metadata.deletionTimestamp) return;
    let left = 0;
    for (const rt of store.resources) {
      if (!rt.namespaced) continue;
      for (const o of store.listRaw(rt, ns)) {
        left++;
        if (!o.metadata.deletionTimestamp) {
          quietly(() => store.delete(rt, ns, o.metadata.name!, { propagationPolicy: 'Background', gracePeriodSeconds: 0 }));
        }
      }
    }
    if (left === 0) {
      const spec = (nsObj.spec ?? {}) as { finalizers?: string[] };
      if (spec.finalizers?.length) {
        quietly(() => store.update(nsType, { ...nsObj, spec: { ...spec, finalizers: [] } }));
      }
      const again = store.peek(nsType, undefined, ns);
      if (again?.metadata.finalizers?.includes('kubernetes')) {
        quietly(() => store.update(nsType, { ...again, metadata: { ...again.metadata, finalizers: again.metadata.finalizers!.filter((f) => f !== 'kubernetes') } }));
      }
    }
  }

  return () => {
    stopped = true;
    timers.forEach(clearTimeout);
    unsubscribe();
  };
}
