// The objects lbc's own writes returned, held until the informer cache has caught up.
// Without them a reconcile that runs right after a write (the key was queued again by
// that very write's watch event, or by anything else) would act on the cached copy
// from before the write: add the finalizer a second time (a 409), or write a status
// that is already there. Both cost API writes the benchmark counts.
import type { KubeObject } from '../kube/cache.js';

/**
 * Whether resourceVersion a is older than b. resourceVersions are opaque by contract,
 * but both kube-apiserver (etcd revisions) and devcluster issue increasing integers;
 * anything else is never called older, which falls back to trusting the cache.
 */
export function olderThan(a: string | undefined, b: string | undefined): boolean {
  if (a === undefined || b === undefined || !/^\d+$/.test(a) || !/^\d+$/.test(b)) return false;
  return a.length !== b.length ? a.length < b.length : a < b;
}

export class OwnWrites<T extends KubeObject> {
  // Per key: the newest object our writes returned, and the resourceVersions of every
  // write of ours since the cache last caught up with us.
  private readonly written = new Map<string, { obj: T; versions: string[] }>();
  // Per key: our writes on their way (made through write()), and the objects the informer
  // delivered meanwhile with what to do should they turn out to be news.
  private readonly writing = new Map<string, { n: number; parked: { obj: T; news: () => void }[] }>();

  /**
   * Makes one write of ours for key, remembering the object it returns (`objectOf`;
   * undefined when it wrote nothing). Until its answer is in, the informer's objects for
   * key cannot be told from its echo: observe() given a `news` callback holds them, and
   * once the answer is in each is dropped as an echo of ours or handed to its callback.
   * In a cold start of 1000 Services the echo came before the answer for ~15% of the
   * writes, and each was taken for news and reconciled its Service once more (#21).
   */
  async write<R>(key: string, write: () => Promise<R>, objectOf: (r: R) => T | undefined): Promise<R> {
    let w = this.writing.get(key);
    if (!w) this.writing.set(key, (w = { n: 0, parked: [] }));
    w.n++;
    try {
      const out = await write();
      const obj = objectOf(out);
      if (obj) this.remember(key, obj);
      return out;
    } finally {
      if (--w.n === 0) {
        this.writing.delete(key);
        // In the order they came: an echo of ours first lets the cache catch up, news after it is news.
        for (const p of w.parked) if (!this.observe(key, p.obj)) p.news();
      }
    }
  }

  get size(): number {
    return this.written.size;
  }

  /** Records what a write returned for key (`namespace/name`). */
  remember(key: string, obj: T): void {
    const prev = this.written.get(key);
    const rv = obj.metadata?.resourceVersion;
    if (prev && prev.obj.metadata?.uid === obj.metadata?.uid) {
      if (rv !== undefined) prev.versions.push(rv);
      if (!olderThan(rv, prev.obj.metadata?.resourceVersion)) prev.obj = obj;
      return;
    }
    this.written.set(key, { obj, versions: rv === undefined ? [] : [rv] });
  }

  /** The freshest known copy: ours while the cache lags behind our write, else the cache's. */
  resolve(key: string, cached: T | undefined): T | undefined {
    const mine = this.written.get(key)?.obj;
    if (!mine) return cached;
    if (!cached) {
      // Gone from the cache: deleted, whatever we wrote before.
      this.written.delete(key);
      return undefined;
    }
    if (mine.metadata?.uid === cached.metadata?.uid && olderThan(cached.metadata?.resourceVersion, mine.metadata?.resourceVersion)) return mine;
    this.written.delete(key);
    return cached;
  }

  /**
   * Called with every object the informer delivers for key. Returns true when it is
   * the echo of our own write, i.e. nothing happened that lbc does not already know.
   * That includes the echo of an earlier write of ours arriving after a later one's
   * answer (the finalizer's, once the status write has returned): in a cold start at
   * 1000 Services, taking those for news reconciled a fifth of the Services again (#21).
   * With `news`, an object that comes while a write() of ours for key is on its way is
   * held (true now) and judged when the write's answer is in: `news` is called if it is
   * not ours.
   */
  observe(key: string, obj: T, news?: () => void): boolean {
    const w = news && this.writing.get(key);
    if (w) {
      w.parked.push({ obj, news });
      return true;
    }
    const mine = this.written.get(key);
    if (!mine) return false;
    const rv = obj.metadata?.resourceVersion;
    const same = mine.obj.metadata?.uid === obj.metadata?.uid;
    // Older than our newest write: ours (nothing new), or someone else's between two of ours.
    if (same && olderThan(rv, mine.obj.metadata?.resourceVersion)) return rv !== undefined && mine.versions.includes(rv);
    this.written.delete(key);
    return same && rv === mine.obj.metadata?.resourceVersion;
  }

  forget(key: string): void {
    this.written.delete(key);
  }
}
