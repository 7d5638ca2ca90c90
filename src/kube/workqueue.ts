// lbc's work queue, after client-go's workqueue: a key is queued once however often it
// is added, is never handed to two workers at once (a key added while it is being
// processed is marked dirty and queued again when its worker is done), and failed keys
// come back after a per-key exponential backoff.

/** Decides how long a failed key waits before it is retried. */
export interface RateLimiter {
  /** The delay for the next retry of `key`; counts as one more failure. */
  when(key: string): number;
  /** Forgets the failures of `key`, so its next failure starts from the base delay. */
  forget(key: string): void;
  /** How many failures of `key` are remembered. */
  retries(key: string): number;
}

export interface ExponentialBackoffOptions {
  /** Delay after the first failure. Default 5 ms, as client-go. */
  baseMs?: number;
  /** Upper bound of any delay. Default 5 min. */
  maxMs?: number;
  /**
   * Fraction of the delay that is randomised, taken off (never added), so that maxMs
   * stays a hard bound: the delay lies in [d·(1−jitter), d]. Default 0.1.
   */
  jitter?: number;
  /** Uniform in [0, 1); injectable for tests. */
  random?: () => number;
}

/** Per-key backoff: base·2^failures, capped, with jitter so retries of many keys spread out. */
export class ExponentialBackoff implements RateLimiter {
  private readonly failures = new Map<string, number>();
  private readonly baseMs: number;
  private readonly maxMs: number;
  private readonly jitter: number;
  private readonly random: () => number;

  constructor(opts: ExponentialBackoffOptions = {}) {
    this.baseMs = opts.baseMs ?? 5;
    this.maxMs = opts.maxMs ?? 5 * 60_000;
    this.jitter = opts.jitter ?? 0.1;
    this.random = opts.random ?? Math.random;
    if (this.jitter < 0 || this.jitter > 1) throw new RangeError('jitter must be in [0, 1]');
  }

  when(key: string): number {
    const n = this.failures.get(key) ?? 0;
    this.failures.set(key, n + 1);
    const d = Math.min(this.maxMs, this.baseMs * 2 ** n);
    return d * (1 - this.jitter * this.random());
  }

  forget(key: string): void {
    this.failures.delete(key);
  }

  retries(key: string): number {
    return this.failures.get(key) ?? 0;
  }
}

export interface WorkQueueOptions {
  rateLimiter?: RateLimiter;
  /** Called when a `run` handler throws, before the key is re-queued with backoff. */
  onError?: (key: string, err: unknown) => void;
}

export interface WorkQueueMetrics {
  /** Keys waiting for a worker. */
  depth: number;
  /** Keys a worker holds now. */
  processing: number;
  /** Keys waiting for an addAfter / addRateLimited delay to pass. */
  delayed: number;
  /** add() calls that queued a key (not the deduplicated ones). */
  adds: number;
  /** addRateLimited() calls. */
  retries: number;
}

export class WorkQueue<K extends string = string> {
  private queue: K[] = [];
  private head = 0;
  // Keys that need processing: queued, or added again while a worker holds them.
  private readonly dirty = new Set<K>();
  private readonly processing = new Set<K>();
  private readonly delayed = new Map<K, { due: number; timer: NodeJS.Timeout }>();
  // Keys whose add() waits for their delayed add (hold).
  private readonly held = new Set<K>();
  private readonly getters: ((key: K | undefined) => void)[] = [];
  private idleWaiters: (() => void)[] = [];
  private drainWaiters: (() => void)[] = [];
  private shuttingDown = false;
  private readonly limiter: RateLimiter;
  private readonly onError: ((key: string, err: unknown) => void) | undefined;
  private addCount = 0;
  private retryCount = 0;

  constructor(opts: WorkQueueOptions = {}) {
    this.limiter = opts.rateLimiter ?? new ExponentialBackoff();
    this.onError = opts.onError;
  }

  add(key: K): void {
    if (this.shuttingDown || this.dirty.has(key) || this.held.has(key)) return;
    this.dirty.add(key);
    this.addCount++;
    if (this.processing.has(key)) return;
    this.push(key);
  }

  /** Adds `key` once `ms` have passed; an earlier pending addAfter of the same key wins. */
  addAfter(key: K, ms: number): void {
    // A held key is added when its hold ends, soon.
    if (this.shuttingDown || this.held.has(key)) return;
    if (ms <= 0) {
      this.add(key);
      return;
    }
    const due = Date.now() + ms;
    const pending = this.delayed.get(key);
    if (pending) {
      if (pending.due <= due) return;
      clearTimeout(pending.timer);
    }
    const timer = setTimeout(() => {
      this.delayed.delete(key);
      this.add(key);
      this.checkIdle();
    }, ms);
    timer.unref();
    this.delayed.set(key, { due, timer });
  }

  /**
   * Adds `key` once `ms` have passed, and until then add(key) waits for that too, so that
   * what arrives in the window (objects created together) is processed in one go. A key
   * already waiting for a worker is left to run now; it will see what the cache has then.
   */
  hold(key: K, ms: number): void {
    if (this.shuttingDown || (this.dirty.has(key) && !this.processing.has(key)) || this.held.has(key)) return;
    if (ms <= 0) {
      this.add(key);
      return;
    }
    this.held.add(key);
    const pending = this.delayed.get(key);
    if (pending) clearTimeout(pending.timer);
    const timer = setTimeout(() => {
      this.delayed.delete(key);
      this.held.delete(key);
      this.add(key);
      this.checkIdle();
    }, ms);
    timer.unref();
    this.delayed.set(key, { due: Date.now() + ms, timer });
  }

  addRateLimited(key: K): void {
    if (this.shuttingDown) return;
    this.retryCount++;
    this.addAfter(key, this.limiter.when(key));
  }

  forget(key: K): void {
    this.limiter.forget(key);
  }

  numRequeues(key: K): number {
    return this.limiter.retries(key);
  }

  /** Keys waiting for a worker (neither those being processed nor delayed ones). */
  len(): number {
    return this.queue.length - this.head;
  }

  metrics(): WorkQueueMetrics {
    return {
      depth: this.len(),
      processing: this.processing.size,
      delayed: this.delayed.size,
      adds: this.addCount,
      retries: this.retryCount,
    };
  }

  isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  /**
   * The next key, once one is queued; the caller must call done(key) after processing.
   * Resolves undefined once the queue is shut down.
   */
  get(): Promise<K | undefined> {
    const key = this.take();
    if (key !== undefined || this.shuttingDown) return Promise.resolve(key);
    return new Promise((resolve) => this.getters.push(resolve));
  }

  done(key: K): void {
    this.processing.delete(key);
    if (this.dirty.has(key) && !this.shuttingDown) this.push(key);
    if (this.processing.size === 0 && this.shuttingDown) this.resolveAll('drain');
    this.checkIdle();
  }

  /**
   * Runs `workers` loops that each take a key and await handler(key): success forgets
   * the key's backoff, a throw re-queues it with backoff. Resolves after shutDown()
   * once every loop has finished its current key.
   */
  async run(workers: number, handler: (key: K) => Promise<void>): Promise<void> {
    const loop = async (): Promise<void> => {
      for (;;) {
        const key = await this.get();
        if (key === undefined) return;
        try {
          await handler(key);
          this.forget(key);
        } catch (err) {
          this.onError?.(key, err);
          this.addRateLimited(key);
        } finally {
          this.done(key);
        }
      }
    };
    await Promise.all(Array.from({ length: workers }, loop));
  }

  /** Resolves once nothing is queued, delayed or being processed (tests, flushes). */
  idle(): Promise<void> {
    if (this.isIdle() || this.isDrained()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Stops handing out keys and drops queued and delayed ones; resolves when the keys
   * workers hold now have been processed.
   */
  shutDown(): Promise<void> {
    if (!this.shuttingDown) {
      this.shuttingDown = true;
      for (const { timer } of this.delayed.values()) clearTimeout(timer);
      this.delayed.clear();
      this.held.clear();
      this.queue = [];
      this.head = 0;
      this.dirty.clear();
      for (const resolve of this.getters.splice(0)) resolve(undefined);
    }
    if (this.processing.size === 0) {
      this.resolveAll('drain');
      return Promise.resolve();
    }
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  private push(key: K): void {
    const getter = this.getters.shift();
    if (getter) {
      this.dirty.delete(key);
      this.processing.add(key);
      getter(key);
      return;
    }
    this.queue.push(key);
  }

  private take(): K | undefined {
    if (this.shuttingDown || this.head >= this.queue.length) return undefined;
    const key = this.queue[this.head++] as K;
    // Reclaim the consumed prefix now and then instead of shifting on every take.
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    this.dirty.delete(key);
    this.processing.add(key);
    return key;
  }

  private isIdle(): boolean {
    return this.len() === 0 && this.processing.size === 0 && this.delayed.size === 0;
  }

  private isDrained(): boolean {
    return this.shuttingDown && this.processing.size === 0;
  }

  private checkIdle(): void {
    if (this.isIdle() || this.isDrained()) this.resolveAll('idle');
  }

  private resolveAll(which: 'idle' | 'drain'): void {
    if (which === 'drain') {
      for (const resolve of this.drainWaiters.splice(0)) resolve();
    }
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }
}
