// Leader election on a coordination.k8s.io/v1 Lease, as client-go's leaderelection
// package does it, so that replicas of lbc interoperate with the tools operators
// already use to read Leases (kubectl get lease, the holder column):
// - a candidate takes the Lease when it is free (no holder, as after a release) or
//   when its record has not changed for leaseDuration by the candidate's own clock
//   (client-go's observedTime: renewTime is written by another machine's clock and is
//   never trusted);
// - every write is an update carrying the resourceVersion read, so of two candidates
//   only one wins (optimistic concurrency); acquireTime and leaseTransitions move
//   only when the holder changes;
// - the leader renews every retryPeriod and gives up once renewDeadline has passed
//   since the start of its last successful renewal. renewDeadline < leaseDuration, so
//   it stops reconciling before any other replica can see the Lease expire;
// - release (client-go's ReleaseOnCancel) writes an empty holder and
//   leaseDurationSeconds 1, so a standby takes over on its next attempt.
import type { CoordinationV1Api, V1Lease } from '@kubernetes/client-node';
import { V1MicroTime } from './client-node.js';
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { Logger } from './logger.js';
import { abortable, sleep } from './sleep.js';

export interface LeaseTimings {
  /** How long a standby waits, after the Lease last changed, before taking it. */
  readonly leaseDurationMs: number;
  /** How long the leader keeps leading without a successful renewal. */
  readonly renewDeadlineMs: number;
  /** Interval between attempts to acquire or renew. */
  readonly retryPeriodMs: number;
}

/** client-go's and kube-controller-manager's defaults. */
export const DEFAULT_LEASE_TIMINGS: LeaseTimings = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 };

/** client-go's JitterFactor: acquisition attempts wait retryPeriod·[1, 1+1.2). */
export const JITTER_FACTOR = 1.2;

/**
 * What client-go's NewLeaderElector refuses, as messages naming the setting. Empty when
 * the timings are safe: the leader must give up before the Lease can expire for others,
 * and must get more than one attempt within its deadline.
 */
export function leaseTimingProblems(t: LeaseTimings): string[] {
  const problems: string[] = [];
  if (t.leaseDurationMs < 1000) problems.push('leaseDuration must be at least 1s (the Lease stores whole seconds)');
  if (t.leaseDurationMs <= t.renewDeadlineMs) problems.push('leaseDuration must be greater than renewDeadline');
  if (t.renewDeadlineMs <= JITTER_FACTOR * t.retryPeriodMs) problems.push(`renewDeadline must be greater than retryPeriod × ${JITTER_FACTOR}`);
  if (t.retryPeriodMs <= 0) problems.push('retryPeriod must be positive');
  return problems;
}

/** client-go's identity: the host name (the pod's name in a pod) and a unique suffix per process. */
export function defaultIdentity(): string {
  return `${process.env.POD_NAME || hostname()}_${randomUUID()}`;
}

export type LeaseApi = Pick<CoordinationV1Api, 'readNamespacedLease' | 'createNamespacedLease' | 'replaceNamespacedLease'>;

export interface LeaderElectorOptions extends Partial<LeaseTimings> {
  readonly api: LeaseApi;
  readonly namespace: string;
  readonly name: string;
  /** Unique per process; default defaultIdentity(). */
  readonly identity?: string;
  /** This replica now holds the Lease: start reconciling. */
  readonly onStartedLeading?: () => void;
  /** It no longer does (renew deadline passed, or stop()): stop reconciling at once. */
  readonly onStoppedLeading?: (reason: string) => void;
  /** Another holder (or none, '') was observed. */
  readonly onNewLeader?: (identity: string) => void;
  readonly log?: Logger;
  /** Injectable for tests. */
  readonly random?: () => number;
}

/** Where a replica stands. `lost` is final: client-go's Run returns and the process restarts. */
export type ElectorState =
  | { readonly phase: 'idle' }
  | { readonly phase: 'standby'; readonly leader: string }
  | { readonly phase: 'leading'; readonly since: number }
  | { readonly phase: 'lost'; readonly reason: string }
  | { readonly phase: 'stopped' };

/** The Lease as last seen, and when this process first saw it in that form (client-go's observedTime). */
interface Observation {
  readonly lease: V1Lease;
  readonly raw: string;
  readonly at: number;
}

const codeOf = (e: unknown): number | undefined => {
  const c = (e as { code?: unknown; statusCode?: unknown } | undefined)?.code ?? (e as { statusCode?: unknown } | undefined)?.statusCode;
  return typeof c === 'number' ? c : undefined;
};

const describe = (e: unknown): string => (e instanceof Error ? e.message.split('\n')[0] ?? e.name : String(e));

class Stopped extends Error {}

export class LeaderElector {
  readonly identity: string;
  readonly timings: LeaseTimings;
  private readonly opts: LeaderElectorOptions;
  private state: ElectorState = { phase: 'idle' };
  private observed: Observation | undefined;
  private loopDone: Promise<void> = Promise.resolve();
  private deadline: NodeJS.Timeout | undefined;
  // Aborted at halt(): ends the sleep or the API call the loop is waiting on.
  private readonly halting = new AbortController();
  private halted = false;
  private lastLeader: string | undefined;

  constructor(opts: LeaderElectorOptions) {
    this.opts = opts;
    this.identity = opts.identity ?? defaultIdentity();
    this.timings = {
      leaseDurationMs: opts.leaseDurationMs ?? DEFAULT_LEASE_TIMINGS.leaseDurationMs,
      renewDeadlineMs: opts.renewDeadlineMs ?? DEFAULT_LEASE_TIMINGS.renewDeadlineMs,
      retryPeriodMs: opts.retryPeriodMs ?? DEFAULT_LEASE_TIMINGS.retryPeriodMs,
    };
    const problems = leaseTimingProblems(this.timings);
    if (problems.length > 0) throw new RangeError(`leader election: ${problems.join('; ')}`);
  }

  get current(): ElectorState {
    return this.state;
  }

  isLeader(): boolean {
    return this.state.phase === 'leading';
  }

  /** `namespace/name` of the Lease. */
  get lease(): string {
    return `${this.opts.namespace}/${this.opts.name}`;
  }

  start(): void {
    if (this.state.phase !== 'idle') throw new Error(`leader elector for ${this.lease} already started`);
    this.state = { phase: 'standby', leader: '' };
    this.loopDone = this.loop();
  }

  /**
   * Stops trying. A leader stops leading first (onStoppedLeading) and, with release,
   * hands the Lease back so a standby takes it on its next attempt; without release it
   * behaves as a crashed process: the others wait for the Lease to expire.
   */
  async stop(opts: { release: boolean }): Promise<void> {
    const wasLeading = this.state.phase === 'leading';
    this.halt();
    await this.loopDone;
    if (this.state.phase !== 'lost') this.state = { phase: 'stopped' };
    if (wasLeading) this.opts.onStoppedLeading?.('stopped');
    if (opts.release && (wasLeading || this.holdsByRecord())) await this.release();
  }

  // ---- the loop ---------------------------------------------------------------------

  private async loop(): Promise<void> {
    while (!this.halted) {
      const startedAt = Date.now();
      let ok = false;
      try {
        ok = await abortable(this.tryAcquireOrRenew(), this.halting.signal);
      } catch (e) {
        if (e instanceof Stopped) return;
        this.opts.log?.warn(`leader election: ${this.state.phase === 'leading' ? 'renewing' : 'acquiring'} Lease ${this.lease} failed: ${describe(e)}`);
      }
      if (this.halted) return;
      if (ok) this.renewed(startedAt);
      else if (this.state.phase === 'leading' && this.heldByOther()) {
        // Someone else's record: we lost it (e.g. our renewals failed for longer than the Lease).
        this.lose(`Lease ${this.lease} is held by ${this.observed?.lease.spec?.holderIdentity ?? '?'}`);
        return;
      }
      const { retryPeriodMs } = this.timings;
      // The leader renews on the period; candidates spread their attempts as client-go does.
      const wait = this.state.phase === 'leading' ? retryPeriodMs : retryPeriodMs * (1 + JITTER_FACTOR * (this.opts.random ?? Math.random)());
      if (!(await this.sleep(wait))) return;
    }
  }

  private renewed(startedAt: number): void {
    // The deadline runs from when the successful write was sent: others observed the
    // record no earlier than that, so it ends before their leaseDuration does.
    clearTimeout(this.deadline);
    const left = this.timings.renewDeadlineMs - (Date.now() - startedAt);
    this.deadline = setTimeout(() => this.lose(`could not renew Lease ${this.lease} within ${this.timings.renewDeadlineMs} ms`), Math.max(0, left));
    this.deadline.unref();
    if (this.state.phase !== 'leading') {
      this.state = { phase: 'leading', since: Date.now() };
      this.noteLeader(this.identity);
      this.opts.log?.info(`leader election: ${this.identity} acquired Lease ${this.lease}`);
      this.opts.onStartedLeading?.();
    }
  }

  private lose(reason: string): void {
    if (this.state.phase !== 'leading') return;
    this.state = { phase: 'lost', reason };
    this.halt();
    this.opts.log?.warn(`leader election: lost: ${reason}`);
    this.opts.onStoppedLeading?.(reason);
  }

  private halt(): void {
    this.halted = true;
    clearTimeout(this.deadline);
    this.deadline = undefined;
    this.halting.abort(new Stopped());
  }

  /** One attempt: true when this replica holds the Lease afterwards. */
  private async tryAcquireOrRenew(): Promise<boolean> {
    const { api, namespace, name } = this.opts;
    // Fast path (client-go ≥1.28 too): the leader renews from the record it wrote last,
    // one request instead of a read and a write; a conflict falls back to reading.
    const mine = this.observed;
    if (this.state.phase === 'leading' && mine && this.holdsByRecord()) {
      try {
        this.observe(await api.replaceNamespacedLease({ namespace, name, body: this.claim(mine.lease) }));
        return true;
      } catch (e) {
        if (codeOf(e) !== 409) throw e;
      }
    }
    let current: V1Lease;
    try {
      current = await api.readNamespacedLease({ namespace, name });
    } catch (e) {
      if (codeOf(e) !== 404) throw e;
      try {
        this.observe(await api.createNamespacedLease({ namespace, body: this.claim(undefined) }));
        return true;
      } catch (ce) {
        if (codeOf(ce) === 409) return false; // another candidate created it first
        throw ce;
      }
    }
    this.observe(current);
    if (this.heldByOther() && !this.expired()) return false;
    try {
      this.observe(await api.replaceNamespacedLease({ namespace, name, body: this.claim(current) }));
      return true;
    } catch (e) {
      if (codeOf(e) === 409) return false; // another candidate (or the holder renewing) wrote first
      throw e;
    }
  }

  /** The Lease as this replica would write it to hold it, based on `base` (with its resourceVersion). */
  private claim(base: V1Lease | undefined): V1Lease {
    const now = new V1MicroTime();
    const spec = base?.spec;
    const same = spec?.holderIdentity === this.identity;
    return {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: base?.metadata ?? { name: this.opts.name, namespace: this.opts.namespace },
      spec: {
        holderIdentity: this.identity,
        leaseDurationSeconds: Math.ceil(this.timings.leaseDurationMs / 1000),
        acquireTime: same && spec?.acquireTime ? spec.acquireTime : now,
        renewTime: now,
        leaseTransitions: base ? (spec?.leaseTransitions ?? 0) + (same ? 0 : 1) : 0,
      },
    };
  }

  private async release(): Promise<void> {
    const { api, namespace, name } = this.opts;
    let base = this.observed?.lease;
    for (let attempt = 0; attempt < 2 && base; attempt++) {
      if (base.spec?.holderIdentity !== this.identity) return; // not ours (any more): nothing to hand back
      const now = new V1MicroTime();
      try {
        this.observe(
          await api.replaceNamespacedLease({
            namespace,
            name,
            body: {
              ...base,
              spec: { holderIdentity: '', leaseDurationSeconds: 1, acquireTime: now, renewTime: now, leaseTransitions: base.spec?.leaseTransitions ?? 0 },
            },
          }),
        );
        this.opts.log?.info(`leader election: released Lease ${this.lease}`);
        return;
      } catch (e) {
        if (codeOf(e) !== 409) {
          this.opts.log?.warn(`leader election: releasing Lease ${this.lease} failed: ${describe(e)}`);
          return;
        }
        base = await api.readNamespacedLease({ namespace, name }).catch(() => undefined);
      }
    }
  }

  // ---- what the record says ---------------------------------------------------------

  private observe(lease: V1Lease): void {
    const raw = JSON.stringify(lease.spec ?? {});
    if (this.observed?.raw !== raw) this.observed = { lease, raw, at: Date.now() };
    else this.observed = { ...this.observed, lease };
    this.noteLeader(lease.spec?.holderIdentity ?? '');
  }

  private noteLeader(holder: string): void {
    if (holder === this.lastLeader) return;
    this.lastLeader = holder;
    if (this.state.phase === 'standby') this.state = { phase: 'standby', leader: holder };
    if (holder !== this.identity) this.opts.log?.info(`leader election: Lease ${this.lease} ${holder ? `held by ${holder}` : 'free'}`);
    this.opts.onNewLeader?.(holder);
  }

  private holdsByRecord(): boolean {
    return this.observed?.lease.spec?.holderIdentity === this.identity;
  }

  private heldByOther(): boolean {
    const holder = this.observed?.lease.spec?.holderIdentity ?? '';
    return holder !== '' && holder !== this.identity;
  }

  /** Unchanged for its leaseDurationSeconds by this process's clock. */
  private expired(): boolean {
    const o = this.observed;
    if (!o) return true;
    const seconds = o.lease.spec?.leaseDurationSeconds ?? Math.ceil(this.timings.leaseDurationMs / 1000);
    return o.at + seconds * 1000 <= Date.now();
  }

  // ---- waiting ----------------------------------------------------------------------

  /** True after `ms`; false at once when halted meanwhile. A hung API call is cut off the same way (abortable), its late answer ignored. */
  private sleep(ms: number): Promise<boolean> {
    return sleep(ms, this.halting.signal).then(
      () => true,
      () => false,
    );
  }
}
