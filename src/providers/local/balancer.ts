// Round robin over the targets of one target set that may take new connections.
//
// - A target absent from the latest spec is gone from the rotation at once; connections
//   already open to it are not this module's business and carry on.
// - A target whose health is `unknown` (not probed yet, or not probeable) takes traffic:
//   the targets come from ready endpoints, so the cluster already vouched for them, as
//   kube-proxy trusts readiness without probing itself.
// - When every target is unhealthy, all of them take traffic again (fail open), as AWS
//   NLB and GCE backend services do: a health check that is wrong, or a dependency that
//   is down for everyone, should not turn into a total outage made by the LB.

export interface Target {
  /** `host:port`, unique in a target set. */
  readonly key: string;
  readonly host: string;
  readonly port: number;
  /** The pod or node behind it, for inspection. */
  readonly label: string;
}

export type Health = 'unknown' | 'healthy' | 'unhealthy';

export class Balancer {
  private list: Target[] = [];
  private readonly health = new Map<string, Health>();
  private readonly active = new Map<string, number>();
  private cursor = 0;

  get targets(): readonly Target[] {
    return this.list;
  }

  /** Replaces the target list, keeping the health of targets that stay. */
  setTargets(targets: readonly Target[]): { added: Target[]; removed: Target[] } {
    const next = new Map(targets.map((t) => [t.key, t]));
    const removed = this.list.filter((t) => !next.has(t.key));
    const before = new Set(this.list.map((t) => t.key));
    const added = [...next.values()].filter((t) => !before.has(t.key));
    for (const t of removed) this.health.delete(t.key);
    for (const t of added) this.health.set(t.key, 'unknown');
    this.list = [...next.values()];
    return { added, removed };
  }

  setHealth(key: string, h: Health): void {
    if (this.health.has(key)) this.health.set(key, h);
  }

  healthOf(key: string): Health | undefined {
    return this.health.get(key);
  }

  private get anyUp(): boolean {
    return this.list.some((t) => this.health.get(t.key) !== 'unhealthy');
  }

  /** Whether key may take a new connection now. */
  isEligible(key: string): boolean {
    const h = this.health.get(key);
    if (h === undefined) return false;
    return h !== 'unhealthy' || !this.anyUp;
  }

  /** Every target that may take new connections, in rotation order (what the kernel path programs). */
  eligible(): Target[] {
    const anyUp = this.anyUp;
    return this.list.filter((t) => !anyUp || this.health.get(t.key) !== 'unhealthy');
  }

  /** The next eligible target in rotation, skipping `exclude` (targets that just refused). */
  pick(exclude?: ReadonlySet<string>): Target | undefined {
    const anyUp = this.anyUp;
    const n = this.list.length;
    for (let i = 0; i < n; i++) {
      const t = this.list[(this.cursor + i) % n];
      if (t === undefined || exclude?.has(t.key)) continue;
      if (anyUp && this.health.get(t.key) === 'unhealthy') continue;
      this.cursor = (this.cursor + i + 1) % n;
      return t;
    }
    return undefined;
  }

  find(key: string): Target | undefined {
    return this.list.find((t) => t.key === key);
  }

  /** Counts a connection (or UDP session) to key; the returned function uncounts it once. */
  acquire(key: string): () => void {
    this.active.set(key, (this.active.get(key) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const n = (this.active.get(key) ?? 1) - 1;
      if (n <= 0) this.active.delete(key);
      else this.active.set(key, n);
    };
  }

  activeOf(key: string): number {
    return this.active.get(key) ?? 0;
  }
}
