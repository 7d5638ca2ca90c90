// What a speaker tells the cluster about the Services it announces in layer 2, as
// MetalLB's speaker does:
// - one ServiceL2Status (metallb.io/v1beta1) per announced Service, in MetalLB's
//   namespace, named `l2-<random>` (generateName), labelled metallb.io/node,
//   metallb.io/service-name and metallb.io/service-namespace, owned by the speaker's Pod,
//   its status naming the node, the Service and the interfaces (none listed when every
//   interface may announce); deleted when this node stops announcing the Service
//   (internal/k8s/controllers/layer2_status_controller.go);
// - a `nodeAssigned` Event on the Service, `announcing from node "<node>" with protocol
//   "layer2"`, when this node starts announcing it (speaker/main.go handleService).
// Writes are serialised and retried at the next update, so a failed one is not lost.
import type { KubeConfig, V1OwnerReference } from '@kubernetes/client-node';
import { CustomObjectsApi, PatchStrategy, setHeaderOptions } from '../../../kube/client-node.js';
import type { EventRecorder } from '../../../kube/events.js';
import type { Logger } from '../../../kube/logger.js';
import type { CustomObject } from '../../../kube/metallb.js';

export const LABEL_ANNOUNCE_NODE = 'metallb.io/node';
export const LABEL_SERVICE_NAME = 'metallb.io/service-name';
export const LABEL_SERVICE_NAMESPACE = 'metallb.io/service-namespace';
export const NODE_ASSIGNED = 'nodeAssigned';

/** A Service this node announces: `namespace/name` → the interfaces it is announced on, undefined for "any interface". */
export type Announced = ReadonlyMap<string, readonly string[] | undefined>;

export interface L2StatusOptions {
  readonly kc: KubeConfig;
  readonly node: string;
  readonly namespace: string;
  /** The speaker's Pod, owner of its status objects (downward API); absent outside a Pod. */
  readonly pod?: { readonly name: string; readonly uid: string };
  readonly events: Pick<EventRecorder, 'event'>;
  readonly log: Logger;
  /** This node's ServiceL2Statuses as the informer holds them (after a restart, what the previous run left). */
  readonly existing: () => readonly CustomObject[];
  /** Whether to write ServiceL2Statuses now (MetalLB's CRDs served); the Events are told either way. */
  readonly writeStatuses: () => boolean;
}

// Literal, so that test/install/code-permissions.ts can tell which resource the calls write.
const CUSTOM_RESOURCE = { group: 'metallb.io', version: 'v1beta1', plural: 'servicel2statuses' } as const;
const MERGE = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

export class L2Status {
  private readonly api: CustomObjectsApi;
  private readonly base: typeof CUSTOM_RESOURCE & { namespace: string };
  private last = new Map<string, string>();
  /** Service key → the status object this process created or saw for it, until the informer holds it. */
  private readonly known = new Map<string, string>();
  private want: Announced = new Map();
  private running: Promise<void> | undefined;
  private again = false;

  constructor(private readonly opts: L2StatusOptions) {
    this.api = opts.kc.makeApiClient(CustomObjectsApi);
    this.base = { ...CUSTOM_RESOURCE, namespace: opts.namespace };
  }

  /** What this node announces now; the writes follow in the background, one pass at a time. */
  update(announced: Announced): void {
    for (const key of announced.keys()) {
      if (this.last.has(key)) continue;
      const [namespace = '', name = ''] = key.split('/');
      this.opts.events.event({ kind: 'Service', apiVersion: 'v1', namespace, name }, 'Normal', NODE_ASSIGNED, `announcing from node "${this.opts.node}" with protocol "layer2"`);
    }
    this.last = new Map([...announced].map(([k, v]) => [k, JSON.stringify(v ?? null)]));
    this.want = announced;
    if (!this.opts.writeStatuses()) return;
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
        await this.sync(this.want);
      } catch (e) {
        this.opts.log.warn(`writing ServiceL2Status in ${this.opts.namespace}: ${(e as Error).message}; retried at the next change`, { event: 'l2-status-failed' });
      }
    } while (this.again);
  }

  private async sync(want: Announced): Promise<void> {
    const mine: { key: string; name: string; status?: unknown }[] = [];
    for (const o of this.opts.existing()) {
      const l = o.metadata?.labels ?? {};
      if (l[LABEL_ANNOUNCE_NODE] !== this.opts.node) continue;
      mine.push({ key: `${l[LABEL_SERVICE_NAMESPACE] ?? ''}/${l[LABEL_SERVICE_NAME] ?? ''}`, name: o.metadata?.name ?? '', status: o.status });
    }
    // Created by this process and not in the informer yet: not to be created twice.
    for (const [key, name] of this.known) if (!mine.some((m) => m.name === name)) mine.push({ key, name });
    const kept = new Set<string>();
    for (const m of mine) {
      // Not announced any more, or a second object for the same Service: delete it.
      if (!want.has(m.key) || kept.has(m.key)) {
        await this.api.deleteNamespacedCustomObject({ ...this.base, name: m.name }).catch(notFoundIsFine);
        if (this.known.get(m.key) === m.name) this.known.delete(m.key);
        continue;
      }
      kept.add(m.key);
      this.known.set(m.key, m.name);
      const status = this.statusFor(m.key, want.get(m.key));
      if (JSON.stringify(m.status ?? {}) !== JSON.stringify(status)) await this.api.patchNamespacedCustomObjectStatus({ ...this.base, name: m.name, body: { status } }, MERGE);
    }
    for (const key of want.keys()) {
      if (kept.has(key)) continue;
      const [namespace = '', name = ''] = key.split('/');
      const owner: V1OwnerReference[] = this.opts.pod ? [{ apiVersion: 'v1', kind: 'Pod', name: this.opts.pod.name, uid: this.opts.pod.uid }] : [];
      const created = (await this.api.createNamespacedCustomObject({
        ...this.base,
        body: {
          apiVersion: `${CUSTOM_RESOURCE.group}/${CUSTOM_RESOURCE.version}`,
          kind: 'ServiceL2Status',
          metadata: {
            generateName: 'l2-',
            namespace: this.opts.namespace,
            labels: { [LABEL_ANNOUNCE_NODE]: this.opts.node, [LABEL_SERVICE_NAME]: name, [LABEL_SERVICE_NAMESPACE]: namespace },
            ...(owner.length > 0 ? { ownerReferences: owner } : {}),
          },
        },
      })) as CustomObject;
      const objName = created.metadata?.name ?? '';
      this.known.set(key, objName);
      // The status subresource ignores status on create, as MetalLB's CreateOrPatch finds too.
      await this.api.patchNamespacedCustomObjectStatus({ ...this.base, name: objName, body: { status: this.statusFor(key, want.get(key)) } }, MERGE);
    }
  }

  private statusFor(key: string, interfaces: readonly string[] | undefined): Record<string, unknown> {
    const [namespace = '', name = ''] = key.split('/');
    return {
      node: this.opts.node,
      serviceName: name,
      serviceNamespace: namespace,
      ...(interfaces && interfaces.length > 0 ? { interfaces: interfaces.map((i) => ({ name: i })) } : {}),
    };
  }
}

function notFoundIsFine(e: unknown): void {
  if ((e as { code?: number }).code !== 404) throw e;
}
