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
// The objects are written by service-status-objects.ts, as the BGP mode's are.
import type { KubeClients } from '../../../kube/client.js';
import { customObjects } from '../../../kube/custom-resources.js';
import type { EventRecorder } from '../../../kube/events.js';
import type { Logger } from '../../../kube/logger.js';
import { ServiceL2Statuses, type CustomObject } from '../../../kube/metallb.js';
import { ServiceStatusObjects, type StatusObject } from './service-status-objects.js';

export { LABEL_ANNOUNCE_NODE, LABEL_SERVICE_NAME, LABEL_SERVICE_NAMESPACE } from './service-status-objects.js';
export const NODE_ASSIGNED = 'nodeAssigned';

/** A Service this node announces: `namespace/name` → the interfaces it is announced on, undefined for "any interface". */
export type Announced = ReadonlyMap<string, readonly string[] | undefined>;

export interface L2StatusOptions {
  readonly clients: Pick<KubeClients, 'kc'>;
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

export class L2Status {
  /** What the last update announced: a Service new to it gets the nodeAssigned Event. */
  private last: ReadonlySet<string> = new Set();
  private readonly objects: ServiceStatusObjects<readonly string[] | undefined>;

  constructor(private readonly opts: L2StatusOptions) {
    this.objects = new ServiceStatusObjects({
      type: ServiceL2Statuses,
      writes: {
        create: (ns, body) => customObjects<StatusObject>(opts.clients, ServiceL2Statuses).create(ns, body),
        patchStatus: (ns, name, status) => customObjects(opts.clients, ServiceL2Statuses).patchStatus(ns, name, status),
        delete: (ns, name) => customObjects(opts.clients, ServiceL2Statuses).delete(ns, name),
      },
      generateName: 'l2-',
      node: opts.node,
      namespace: opts.namespace,
      pod: opts.pod,
      existing: opts.existing,
      status: ({ namespace, name }, interfaces) => ({
        node: opts.node,
        serviceName: name,
        serviceNamespace: namespace,
        // None listed when every interface may announce, as MetalLB.
        ...(interfaces && interfaces.length > 0 ? { interfaces: interfaces.map((i) => ({ name: i })) } : {}),
      }),
      failed: (e) => opts.log.warn(`writing ServiceL2Status in ${opts.namespace}: ${e.message}; retried at the next change`, { event: 'l2-status-failed' }),
    });
  }

  /** What this node announces now; the writes follow in the background, one pass at a time. */
  update(announced: Announced): void {
    for (const key of announced.keys()) {
      if (this.last.has(key)) continue;
      const [namespace = '', name = ''] = key.split('/');
      this.opts.events.event({ kind: 'Service', apiVersion: 'v1', namespace, name }, 'Normal', NODE_ASSIGNED, `announcing from node "${this.opts.node}" with protocol "layer2"`);
    }
    this.last = new Set(announced.keys());
    if (!this.opts.writeStatuses()) return;
    this.objects.update(announced);
  }

  /** Waits for the writes in progress (tests, shutdown). */
  async settled(): Promise<void> {
    await this.objects.settled();
  }
}
