// The benches' observer of Service addresses: notes when each Service of a namespace first
// shows a load-balancer address, from a watch reopened whenever it ends (resumable-watch.ts),
// and, before giving up or after a quiet spell, from a LIST: the watch's silent end once made
// `npm run bench controller` wait out its limit on runs the controller had finished (#21).
import type { V1Service } from '@kubernetes/client-node';
import { ResumableWatch, type ResumableWatchOptions, type WatchSource } from './resumable-watch.js';

export type ServiceSource = WatchSource<V1Service>;

export interface AddressWatchOptions extends ResumableWatchOptions {
  /** LIST after this long without a new address while waiting. Default 10 s. */
  readonly confirmAfterMs?: number;
  readonly now?: () => number;
}

const addressed = (s: V1Service): boolean => Boolean(s.status?.loadBalancer?.ingress?.length);

export class AddressWatch {
  /** Service name → when its first address was seen (by `now`). */
  readonly seen = new Map<string, number>();
  /** Addresses the watches missed and a LIST found; their times are those of the LIST. */
  confirmedByList = 0;
  private watch: ResumableWatch<V1Service> | undefined;
  private readonly now: () => number;
  private readonly log: (line: string) => void;

  private constructor(
    private readonly source: ServiceSource,
    private readonly opts: AddressWatchOptions,
  ) {
    this.now = opts.now ?? (() => performance.now());
    this.log = opts.log ?? ((line) => console.warn(line));
  }

  /** Lists, notes the addresses already there, and watches from the list. */
  static async start(source: ServiceSource, opts: AddressWatchOptions = {}): Promise<AddressWatch> {
    const w = new AddressWatch(source, opts);
    w.watch = await ResumableWatch.start(source, (type, obj) => void w.note(type, obj), opts);
    return w;
  }

  /**
   * Resolves once `expected` Services have shown an address. Rejects after `timeoutMs`
   * only if a LIST then confirms some are still without one, saying how many and which.
   * Stops watching either way.
   */
  async waitFor(expected: number, timeoutMs: number): Promise<void> {
    try {
      await this.waitUntil(expected, timeoutMs);
    } finally {
      this.stop();
    }
  }

  stop(): void {
    this.watch?.stop();
  }

  /** Watches opened after the first one (each after one ended). */
  get reopened(): number {
    return this.watch?.reopened ?? 0;
  }

  private async waitUntil(expected: number, timeoutMs: number): Promise<void> {
    const deadline = this.now() + timeoutMs;
    const confirmAfter = this.opts.confirmAfterMs ?? 10_000;
    let lastCount = this.seen.size;
    let lastProgress = this.now();
    for (;;) {
      if (this.seen.size >= expected) return;
      if (this.seen.size !== lastCount) {
        lastCount = this.seen.size;
        lastProgress = this.now();
      }
      const timedOut = this.now() >= deadline;
      if (timedOut || this.now() - lastProgress >= confirmAfter) {
        const { items } = await this.source.list();
        let missed = 0;
        for (const s of items) if (this.note('ADDED', s)) missed++;
        if (missed > 0) this.log(`    address watch missed ${missed} address(es) a LIST found (their times are the LIST's)`);
        this.confirmedByList += missed;
        if (this.seen.size >= expected) return;
        lastProgress = this.now();
        if (timedOut) throw new Error(this.shortfall(expected, timeoutMs, items));
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Notes a Service's first address; true if this one is new. */
  private note(type: string, obj: V1Service): boolean {
    const name = obj.metadata?.name ?? '';
    if (type === 'DELETED' || !addressed(obj) || this.seen.has(name)) return false;
    this.seen.set(name, this.now());
    return true;
  }

  private shortfall(expected: number, timeoutMs: number, items: readonly V1Service[]): string {
    const missing = items.filter((s) => !addressed(s)).map((s) => s.metadata?.name ?? '?');
    const absent = Math.max(0, expected - items.length);
    const names = missing.slice(0, 20).join(', ') + (missing.length > 20 ? `, … (${missing.length - 20} more)` : '');
    return (
      `timed out after ${timeoutMs / 1000} s waiting for ${expected} addresses: a LIST shows ${items.length - missing.length}/${expected} addressed` +
      (missing.length ? `; without an address: ${names}` : '') +
      (absent ? `; ${absent} Service(s) not found at all` : '') +
      ` (the watch was reopened ${this.watch?.reopened ?? 0} time(s), relisted ${this.watch?.relists ?? 0})`
    );
  }
}
