import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ExponentialBackoff, WorkQueue } from '../../src/kube/workqueue.js';

function deferred(): { promise: Promise<void>; resolve: () => void; reject: (e: unknown) => void } {
  let resolve!: () => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('ExponentialBackoff', () => {
  it('doubles from 5 ms per failure up to 5 min, per key', () => {
    const b = new ExponentialBackoff({ random: () => 0 });
    const delays = Array.from({ length: 20 }, () => b.when('a'));
    expect(delays.slice(0, 5)).toEqual([5, 10, 20, 40, 80]);
    expect(Math.max(...delays)).toBe(300_000);
    expect(delays.slice(-3)).toEqual([300_000, 300_000, 300_000]);
    expect(b.retries('a')).toBe(20);
    expect(b.when('b')).toBe(5);
  });

  it('keeps jitter within [d·(1−jitter), d], so the cap is never exceeded', () => {
    const hi = new ExponentialBackoff({ random: () => 0.999999, jitter: 0.1 });
    const lo = new ExponentialBackoff({ random: () => 0, jitter: 0.1 });
    for (let n = 0; n < 30; n++) {
      const d = Math.min(300_000, 5 * 2 ** n);
      const h = hi.when('k');
      expect(lo.when('k')).toBe(d);
      expect(h).toBeGreaterThanOrEqual(d * 0.9);
      expect(h).toBeLessThanOrEqual(d);
    }
    const seeded = new ExponentialBackoff({ random: () => 0.5, jitter: 0.2 });
    expect(seeded.when('x')).toBeCloseTo(4.5);
  });

  it('forget resets a key', () => {
    const b = new ExponentialBackoff({ random: () => 0 });
    b.when('a');
    b.when('a');
    b.forget('a');
    expect(b.retries('a')).toBe(0);
    expect(b.when('a')).toBe(5);
  });
});

describe('WorkQueue', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('queues a key once however often it is added, in FIFO order', async () => {
    const q = new WorkQueue();
    q.add('a');
    q.add('b');
    q.add('a');
    q.add('a');
    expect(q.len()).toBe(2);
    expect(await q.get()).toBe('a');
    expect(await q.get()).toBe('b');
    expect(q.len()).toBe(0);
    expect(q.metrics().adds).toBe(2);
  });

  it('does not hand out a key being processed; re-queues it when done if it was added meanwhile', async () => {
    const q = new WorkQueue();
    q.add('a');
    const k = await q.get();
    expect(k).toBe('a');
    q.add('a');
    q.add('a');
    expect(q.len()).toBe(0); // dirty, but held by a worker
    let second: string | undefined;
    void q.get().then((key) => (second = key));
    await Promise.resolve();
    expect(second).toBeUndefined();
    q.done('a');
    await Promise.resolve();
    expect(second).toBe('a');
    q.done('a');
    expect(q.len()).toBe(0);
  });

  it('done without a re-add does not re-queue', async () => {
    const q = new WorkQueue();
    q.add('a');
    q.done((await q.get()) as string);
    expect(q.len()).toBe(0);
  });

  it('run: no key is processed by two workers at once, and a dirty key runs again after', async () => {
    vi.useRealTimers();
    const q = new WorkQueue();
    const active = new Set<string>();
    const runs: string[] = [];
    let overlap = false;
    const gate = deferred();
    const running = q.run(4, async (key) => {
      if (active.has(key)) overlap = true;
      active.add(key);
      runs.push(key);
      if (runs.length === 1) await gate.promise;
      await new Promise((r) => setTimeout(r, 1));
      active.delete(key);
    });
    q.add('a');
    await vi.waitFor(() => expect(runs).toEqual(['a']));
    for (let i = 0; i < 10; i++) q.add('a');
    q.add('b');
    q.add('c');
    await vi.waitFor(() => expect(runs.filter((k) => k !== 'a')).toHaveLength(2));
    expect(runs.filter((k) => k === 'a')).toHaveLength(1);
    gate.resolve();
    await q.idle();
    expect(overlap).toBe(false);
    expect(runs.filter((k) => k === 'a')).toHaveLength(2);
    await q.shutDown();
    await running;
  });

  it('run: a throwing handler retries the key with growing backoff; success forgets it', async () => {
    const q = new WorkQueue({ rateLimiter: new ExponentialBackoff({ random: () => 0 }), onError: () => {} });
    const at: number[] = [];
    const start = Date.now();
    const running = q.run(1, async () => {
      at.push(Date.now() - start);
      if (at.length < 4) throw new Error('boom');
    });
    q.add('k');
    await vi.advanceTimersByTimeAsync(0);
    expect(at).toEqual([0]);
    expect(q.numRequeues('k')).toBe(1);
    await vi.advanceTimersByTimeAsync(4);
    expect(at).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(at).toEqual([0, 5]);
    await vi.advanceTimersByTimeAsync(10);
    expect(at).toEqual([0, 5, 15]);
    await vi.advanceTimersByTimeAsync(20);
    expect(at).toEqual([0, 5, 15, 35]);
    expect(q.numRequeues('k')).toBe(0);
    expect(q.metrics().retries).toBe(3);
    await q.shutDown();
    await running;
  });

  it('addAfter delays a key; the earliest pending addAfter wins; <= 0 adds now', async () => {
    const q = new WorkQueue();
    q.addAfter('a', 100);
    q.addAfter('a', 50);
    q.addAfter('a', 500);
    expect(q.metrics().delayed).toBe(1);
    await vi.advanceTimersByTimeAsync(49);
    expect(q.len()).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(q.len()).toBe(1);
    await vi.advanceTimersByTimeAsync(1000);
    expect(q.len()).toBe(1);
    q.addAfter('b', 0);
    expect(q.len()).toBe(2);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('hold: add() of a held key waits for the hold, which is not extended; a key processing is held for its next run', async () => {
    const q = new WorkQueue();
    q.hold('g', 100);
    q.add('g');
    q.addAfter('g', 10);
    await vi.advanceTimersByTimeAsync(60);
    q.hold('g', 100);
    q.add('g');
    expect(q.len()).toBe(0);
    await vi.advanceTimersByTimeAsync(40);
    expect(q.len()).toBe(1);
    expect(await q.get()).toBe('g');
    // Held while a worker has it: done() does not re-queue it, the hold's end does.
    q.hold('g', 100);
    q.done('g');
    expect(q.len()).toBe(0);
    await vi.advanceTimersByTimeAsync(100);
    expect(q.len()).toBe(1);
    // Already waiting for a worker: a hold changes nothing, the key runs once.
    q.hold('g', 100);
    expect(q.metrics().delayed).toBe(0);
    expect(q.len()).toBe(1);
    q.hold('h', 0);
    expect(q.len()).toBe(2);
  });

  it('forget resets the backoff of a key', () => {
    const q = new WorkQueue({ rateLimiter: new ExponentialBackoff({ random: () => 0 }) });
    q.addRateLimited('a');
    q.addRateLimited('a');
    expect(q.numRequeues('a')).toBe(2);
    q.forget('a');
    expect(q.numRequeues('a')).toBe(0);
  });

  it('shutDown lets in-flight handlers finish, drops queued and delayed keys, and ends run()', async () => {
    const q = new WorkQueue();
    const gate = deferred();
    const seen: string[] = [];
    let finished = false;
    const running = q.run(1, async (key) => {
      seen.push(key);
      await gate.promise;
      finished = true;
    });
    q.add('a');
    q.add('b');
    q.addAfter('c', 1000);
    await vi.advanceTimersByTimeAsync(0);
    expect(seen).toEqual(['a']);
    let drained = false;
    const shut = q.shutDown().then(() => (drained = true));
    await vi.advanceTimersByTimeAsync(0);
    expect(drained).toBe(false);
    q.add('d'); // ignored once shutting down
    gate.resolve();
    await shut;
    expect(finished).toBe(true);
    await running;
    expect(seen).toEqual(['a']);
    expect(await q.get()).toBeUndefined();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('shutDown wakes idle workers', async () => {
    const q = new WorkQueue();
    const running = q.run(3, async () => {});
    await q.shutDown();
    await running;
  });

  it('idle resolves once nothing is queued, delayed or processing', async () => {
    const q = new WorkQueue();
    const running = q.run(2, async () => {
      await new Promise((r) => setTimeout(r, 10));
    });
    q.add('a');
    q.addAfter('b', 100);
    let idle = false;
    void q.idle().then(() => (idle = true));
    await vi.advanceTimersByTimeAsync(50);
    expect(idle).toBe(false);
    await vi.advanceTimersByTimeAsync(100);
    expect(idle).toBe(true);
    await q.shutDown();
    await running;
  });
});
