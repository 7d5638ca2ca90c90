// One status object per Service a node announces, as MetalLB's speaker keeps its
// ServiceL2Status and ServiceBGPStatus objects (internal/k8s/controllers/
// layer2_status_controller.go and bgp_status_controller.go): in MetalLB's namespace, named by
// generateName (`l2-`, `bgp-`), labelled metallb.io/node, metallb.io/service-name and
// metallb.io/service-namespace, owned by the speaker's Pod; its status written through the
// status subresource and only when it differs; deleted when the node stops announcing the
// Service (and a second object for one Service is deleted too).
//
// Both protocols write the same way, so one writer serves both: writes are serialised, a
// change that comes while a pass runs is taken by one more pass, and a failed pass is told
// to the caller and retried at the next change, so nothing is lost.
import type { V1OwnerReference } from '@kubernetes/client-node';
import type { CustomObject } from '../../../kube/metallb.js';
import type { ResourceType } from '../../../kube/resources.js';

/** MetalLB's labels on its status objects (internal/k8s/controllers: LabelAnnounceNode, LabelServiceName, LabelServiceNamespace). */
export const LABEL_ANNOUNCE_NODE = 'metallb.io/node';
export const LABEL_SERVICE_NAME = 'metallb.io/service-name';
export const LABEL_SERVICE_NAMESPACE = 'metallb.io/service-namespace';

/** A Service as `namespace/name`. */
export type ServiceKey = string;

/** A ServiceL2Status or ServiceBGPStatus as the server sends it. */
export type StatusObject = CustomObject;

/**
 * The writes on one kind, each a call of kube/custom-resources.ts's customObjects at the caller,
 * where test/install/code-permissions.ts sees which resource they reach.
 */
export interface StatusObjectWrites {
  create(namespace: string, body: StatusObject): Promise<StatusObject>;
  patchStatus(namespace: string, name: string, status: unknown): Promise<unknown>;
  delete(namespace: string, name: string): Promise<void>;
}

export interface ServiceStatusObjectsInit<V> {
  readonly type: Pick<ResourceType<CustomObject>, 'apiVersion' | 'kind'>;
  readonly writes: StatusObjectWrites;
  readonly generateName: 'l2-' | 'bgp-';
  readonly node: string;
  readonly namespace: string;
  /** The speaker's Pod, owner of the objects (downward API); absent outside a Pod. */
  readonly pod?: { readonly name: string; readonly uid: string } | undefined;
  /** This node's objects as the informer holds them (after a restart, what the previous run left). */
  readonly existing: () => readonly CustomObject[];
  /** The status of one Service's object. */
  readonly status: (service: { readonly namespace: string; readonly name: string }, value: V) => Record<string, unknown>;
  /** A pass failed; the next update retries it. */
  readonly failed: (e: Error) => void;
}

export class ServiceStatusObjects<V> {
  private want: ReadonlyMap<ServiceKey, V> = new Map();
  /** Service key → the object this process created or saw for it, until the informer holds it (no second create). */
  private readonly known = new Map<ServiceKey, string>();
  private running: Promise<void> | undefined;
  private again = false;

  constructor(private readonly init: ServiceStatusObjectsInit<V>) {}

  /** The Services this node announces now; the writes follow in the background, one pass at a time. */
  update(want: ReadonlyMap<ServiceKey, V>): void {
    this.want = want;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.loop().finally(() => (this.running = undefined));
  }

  /** Waits for the writes in progress (tests, shutdown). */
  async settled(): Promise<void> {
    while (this.running) await this.running;
  }

  private async loop(): Promise<void> {
    do {
      this.again = false;
      try {
        await this.pass(this.want);
      } catch (e) {
        this.init.failed(e as Error);
      }
    } while (this.again);
  }

  private async pass(want: ReadonlyMap<ServiceKey, V>): Promise<void> {
    const { init } = this;
    const api = init.writes;
    const mine: { key: ServiceKey; name: string; status?: unknown }[] = [];
    for (const o of init.existing()) {
      const l = o.metadata?.labels ?? {};
      if (l[LABEL_ANNOUNCE_NODE] !== init.node) continue;
      mine.push({ key: `${l[LABEL_SERVICE_NAMESPACE] ?? ''}/${l[LABEL_SERVICE_NAME] ?? ''}`, name: o.metadata?.name ?? '', status: o.status });
    }
    for (const [key, name] of this.known) if (!mine.some((m) => m.name === name)) mine.push({ key, name });
    const kept = new Set<ServiceKey>();
    for (const m of mine) {
      if (!want.has(m.key) || kept.has(m.key)) {
        await api.delete(init.namespace, m.name).catch(notFoundIsFine);
        if (this.known.get(m.key) === m.name) this.known.delete(m.key);
        continue;
      }
      kept.add(m.key);
      this.known.set(m.key, m.name);
      const status = this.statusOf(m.key, want.get(m.key) as V);
      if (JSON.stringify(m.status ?? {}) !== JSON.stringify(status)) await api.patchStatus(init.namespace, m.name, status);
    }
    for (const [key, value] of want) {
      if (kept.has(key)) continue;
      const [namespace = '', name = ''] = key.split('/');
      const owner: V1OwnerReference[] = init.pod ? [{ apiVersion: 'v1', kind: 'Pod', name: init.pod.name, uid: init.pod.uid }] : [];
      const created = await api.create(init.namespace, {
        apiVersion: init.type.apiVersion,
        kind: init.type.kind,
        metadata: {
          generateName: init.generateName,
          namespace: init.namespace,
          labels: { [LABEL_ANNOUNCE_NODE]: init.node, [LABEL_SERVICE_NAME]: name, [LABEL_SERVICE_NAMESPACE]: namespace },
          ...(owner.length > 0 ? { ownerReferences: owner } : {}),
        },
      });
      const objName = created.metadata?.name ?? '';
      this.known.set(key, objName);
      // The status subresource ignores status on create, as MetalLB's CreateOrPatch finds too.
      await api.patchStatus(init.namespace, objName, this.statusOf(key, value));
    }
  }

  private statusOf(key: ServiceKey, value: V): Record<string, unknown> {
    const [namespace = '', name = ''] = key.split('/');
    return this.init.status({ namespace, name }, value);
  }
}

function notFoundIsFine(e: unknown): void {
  if ((e as { code?: number }).code !== 404) throw e;
}
