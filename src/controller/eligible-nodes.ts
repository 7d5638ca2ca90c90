// The one set of nodes every instance-target load balancer sends traffic to, kept
// current from Node events. Events are batched: a change starts a short quiet window,
// and every change inside it extends the window (up to a bound), so 100 Nodes joining
// at once cost each load balancer one provider update, not 100.
import type { V1Node } from '@kubernetes/client-node';
import { EMPTY_NODE_TRACKER, nodeChangeMatters, nodeTargetsChanged, toNodeTargets, trackNodes, type NodeTrackerState } from './nodes.js';
import type { NodeTarget } from '../model/spec.js';

export interface EligibleNodesOptions {
  /** All Nodes the informer knows. */
  list(): readonly V1Node[];
  /** Called after a batch changed the eligible set or any eligible node's addresses. */
  onChange(): void;
  hysteresisMs: number;
  /** Quiet time that closes a batch. Default 1 s. */
  debounceMs?: number;
  /** A batch never stays open longer than this, however busy the Nodes are. Default 10 s. */
  maxDelayMs?: number;
  now?: () => number;
}

export class EligibleNodes {
  private state: NodeTrackerState = EMPTY_NODE_TRACKER;
  private eligible: readonly V1Node[] = [];
  private targets: readonly NodeTarget[] = [];
  private batchStartedAt: number | undefined;
  private batchTimer: NodeJS.Timeout | undefined;
  private hysteresisTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly debounceMs: number;
  private readonly maxDelayMs: number;
  private readonly now: () => number;
  private batches = 0;
  private generation = 0;

  constructor(private readonly opts: EligibleNodesOptions) {
    this.debounceMs = opts.debounceMs ?? 1000;
    this.maxDelayMs = opts.maxDelayMs ?? 10_000;
    this.now = opts.now ?? Date.now;
  }

  /** The nodes to target now, sorted by name. */
  get nodes(): readonly V1Node[] {
    return this.eligible;
  }

  /** How many batches changed the set (benchmarks, tests). */
  get changes(): number {
    return this.batches;
  }

  /** Changes whenever the nodes (or their addresses) do, refresh() included. */
  get version(): number {
    return this.generation;
  }

  /** Recomputes at once; returns whether the targets changed. */
  refresh(): boolean {
    const r = trackNodes(this.state, this.opts.list(), this.now(), this.opts.hysteresisMs);
    const targets = toNodeTargets(r.eligible);
    const changed = r.changed || nodeTargetsChanged(this.targets, targets);
    this.state = r.state;
    this.eligible = r.eligible;
    this.targets = targets;
    if (changed) this.generation++;
    clearTimeout(this.hysteresisTimer);
    this.hysteresisTimer = undefined;
    if (r.nextCheckAtMs !== undefined && !this.stopped) {
      // Nothing else wakes the tracker when a NotReady node's grace period ends.
      this.hysteresisTimer = setTimeout(() => this.flush(), Math.max(0, r.nextCheckAtMs - this.now()));
      this.hysteresisTimer.unref();
    }
    return changed;
  }

  /** A Node event (before/after undefined for add/delete). */
  observe(before: V1Node | undefined, after: V1Node | undefined): void {
    if (this.stopped || !nodeChangeMatters(before, after)) return;
    const now = this.now();
    this.batchStartedAt ??= now;
    clearTimeout(this.batchTimer);
    const due = Math.min(now + this.debounceMs, this.batchStartedAt + this.maxDelayMs);
    this.batchTimer = setTimeout(() => this.flush(), Math.max(0, due - now));
    this.batchTimer.unref();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.batchTimer);
    clearTimeout(this.hysteresisTimer);
  }

  private flush(): void {
    this.batchStartedAt = undefined;
    this.batchTimer = undefined;
    if (this.stopped) return;
    if (this.refresh()) {
      this.batches++;
      this.opts.onChange();
    }
  }
}
