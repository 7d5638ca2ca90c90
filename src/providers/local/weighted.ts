// Weighted choice among a rule's backends (Gateway API backendRefs[].weight): each gets
// weight / sum of weights of the requests or connections, 0 gets none. Smooth weighted
// round robin (nginx's), not a random draw: the split is exact over every sum-of-weights
// picks and interleaved (5:1:1 gives a a b a c a a), so a 90/10 canary is 90/10 over any
// hundred requests, not only on average.

export interface Weighted<T> {
  readonly item: T;
  readonly weight: number;
}

export class WeightedPicker<T> {
  private readonly current: number[];
  private readonly total: number;

  constructor(private readonly items: readonly Weighted<T>[]) {
    this.current = items.map(() => 0);
    this.total = items.reduce((n, i) => n + Math.max(0, i.weight), 0);
  }

  /** The next item, or undefined when every weight is 0. */
  pick(): T | undefined {
    if (this.total <= 0) return undefined;
    let best = -1;
    for (let i = 0; i < this.items.length; i++) {
      const w = Math.max(0, this.items[i]?.weight ?? 0);
      if (w === 0) continue;
      this.current[i] = (this.current[i] ?? 0) + w;
      if (best < 0 || (this.current[i] ?? 0) > (this.current[best] ?? 0)) best = i;
    }
    this.current[best] = (this.current[best] ?? 0) - this.total;
    return this.items[best]?.item;
  }
}
