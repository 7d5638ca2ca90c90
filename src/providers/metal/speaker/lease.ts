// The speaker's Lease: slow membership that does not depend on the data network (see
// membership.ts for why it is slow and what it is for). One per speaker, named after
// the provider and the node, holder `<node>/<incarnation>`.
import type { CoordinationV1Api, V1Lease } from '@kubernetes/client-node';
import { V1MicroTime } from '../../../kube/client-node.js';
import type { LeaseView } from './membership.js';

export const LEASE_PROVIDER_LABEL = 'lbc.dev/speaker';
export const LEASE_NODE_LABEL = 'lbc.dev/node';
/** The holder's newest heartbeat sequence number when it wrote the Lease (membership.ts: Lease fallback). */
export const LEASE_HEARTBEAT_ANNOTATION = 'lbc.dev/heartbeat-seq';

export function leaseName(provider: string, node: string): string {
  return `lbc-speaker-${provider}-${node}`.slice(0, 253);
}

/** What a Lease says about its speaker, judged by the local clock; undefined for Leases that are not a speaker's. */
export function leaseView(l: V1Lease, now: number, defaultDurationMs: number): LeaseView | undefined {
  const node = l.metadata?.labels?.[LEASE_NODE_LABEL];
  const holder = l.spec?.holderIdentity ?? '';
  if (!node || !holder.startsWith(`${node}/`)) return undefined;
  const durationMs = l.spec?.leaseDurationSeconds !== undefined ? l.spec.leaseDurationSeconds * 1000 : defaultDurationMs;
  const renewed = l.spec?.renewTime ? new Date(l.spec.renewTime).getTime() : now;
  const seqText = l.metadata?.annotations?.[LEASE_HEARTBEAT_ANNOTATION];
  const seq = seqText !== undefined && /^\d+$/.test(seqText) ? Number(seqText) : undefined;
  // The holder's clock wrote renewTime; never trust it past what a renewal seen now would give.
  return { node, incarnation: holder.slice(node.length + 1), validUntil: Math.min(renewed + durationMs, now + durationMs), ...(seq !== undefined ? { seq } : {}) };
}

export interface LeaseKeeperInit {
  readonly coordination: Pick<CoordinationV1Api, 'readNamespacedLease' | 'createNamespacedLease' | 'replaceNamespacedLease' | 'deleteNamespacedLease'>;
  readonly namespace: string;
  readonly provider: string;
  readonly node: string;
  readonly incarnation: string;
  readonly durationMs: number;
  /** The newest heartbeat sent, while the speaker is ready; read at each write. */
  readonly heartbeatSeq?: () => number | undefined;
}

const code = (e: unknown): number | undefined => (e as { code?: number }).code;

export class LeaseKeeper {
  /** API writes made (creates and replaces), for the benchmark. */
  writes = 0;
  private last: V1Lease | undefined;
  private inFlight: Promise<void> | undefined;
  private queued: Promise<void> | undefined;

  constructor(private readonly init: LeaseKeeperInit) {}

  get name(): string {
    return leaseName(this.init.provider, this.init.node);
  }

  /**
   * Creates or renews the Lease, holding it for this incarnation. Writes never overlap
   * (they would only conflict with each other): a call while one is in flight queues one
   * write after it, which later calls join, so the Lease ends up with what was true at
   * the last call (the heartbeat number a cut-off speaker must publish, not an older one).
   */
  renew(): Promise<void> {
    if (!this.inFlight) {
      this.inFlight = this.write().finally(() => {
        this.inFlight = undefined;
      });
      return this.inFlight;
    }
    this.queued ??= this.inFlight
      .catch(() => undefined)
      .then(() => {
        this.queued = undefined;
        return this.renew();
      });
    return this.queued;
  }

  private async write(): Promise<void> {
    const { coordination, namespace } = this.init;
    const name = this.name;
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        if (!this.last) {
          try {
            this.last = await coordination.readNamespacedLease({ namespace, name });
          } catch (e) {
            if (code(e) !== 404) throw e;
            this.writes++;
            try {
              this.last = await coordination.createNamespacedLease({ namespace, body: this.body() });
            } catch (ce) {
              // 404 on create: the namespace itself is missing; retrying will not help.
              if (code(ce) === 404) throw new Error(`cannot create Lease ${namespace}/${name}: namespace ${namespace} does not exist (speaker.leaseNamespace)`);
              throw ce;
            }
            return;
          }
        }
        this.writes++;
        this.last = await coordination.replaceNamespacedLease({ namespace, name, body: this.body(this.last) });
        return;
      } catch (e) {
        if (code(e) !== 409 && code(e) !== 404) throw e;
        this.last = undefined; // written by someone else meanwhile, or gone: read it again
      }
    }
    throw new Error(`could not write Lease ${namespace}/${name} after 3 attempts`);
  }

  async release(): Promise<void> {
    try {
      await this.init.coordination.deleteNamespacedLease({ namespace: this.init.namespace, name: this.name });
    } catch (e) {
      if (code(e) !== 404) throw e;
    }
    this.last = undefined;
  }

  private body(base?: V1Lease): V1Lease {
    const { namespace, provider, node, incarnation, durationMs } = this.init;
    const holder = `${node}/${incarnation}`;
    const sameHolder = base?.spec?.holderIdentity === holder;
    const seq = this.init.heartbeatSeq?.();
    const annotations: Record<string, string> = { ...(base?.metadata?.annotations ?? {}) };
    delete annotations[LEASE_HEARTBEAT_ANNOTATION];
    if (seq !== undefined) annotations[LEASE_HEARTBEAT_ANNOTATION] = String(seq);
    return {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: {
        ...(base?.metadata ?? {}),
        name: this.name,
        namespace,
        labels: { ...(base?.metadata?.labels ?? {}), [LEASE_PROVIDER_LABEL]: provider, [LEASE_NODE_LABEL]: node },
        annotations,
      },
      spec: {
        holderIdentity: holder,
        leaseDurationSeconds: Math.ceil(durationMs / 1000),
        renewTime: new V1MicroTime(),
        acquireTime: sameHolder && base?.spec?.acquireTime ? base.spec.acquireTime : new V1MicroTime(),
        leaseTransitions: (base?.spec?.leaseTransitions ?? 0) + (base && !sameHolder ? 1 : 0),
      },
    };
  }
}
