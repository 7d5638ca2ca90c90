// The load balancers a provider refused for want of capacity, and who to tell when some
// comes free (Provider.onCapacityFreed). A refusal for a full pool is reported as
// invalid, retried only every few minutes; without this, a Service refused while the
// pool was full would wait out that retry after an address was released.
import type { LbRef } from '../model/ref.js';

export type CapacityListener = (waiting: readonly LbRef[]) => void;

export class CapacityWaiters {
  private readonly waiting = new Map<string, LbRef>();
  private readonly listeners = new Set<CapacityListener>();

  /** ref was refused for want of capacity: it hears of the next release. */
  refused(ref: LbRef): void {
    this.waiting.set(ref.uid, ref);
  }

  /** ref no longer waits: it got what it asked for, or it is gone. */
  forget(uid: string): void {
    this.waiting.delete(uid);
  }

  /** Something was released: every waiter is told once (a refusal after this waits for the next). */
  released(): void {
    if (this.waiting.size === 0 || this.listeners.size === 0) return;
    const refs = [...this.waiting.values()];
    this.waiting.clear();
    for (const l of this.listeners) l(refs);
  }

  subscribe(listener: CapacityListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
