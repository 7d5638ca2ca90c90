import { describe, expect, it } from 'vitest';
import { abortable, sleep } from '../../src/kube/sleep.js';

describe('kube/sleep: the one abortable wait (#14)', () => {
  it('sleep ends at the abort with the signal’s reason, or at once if it has already fired', async () => {
    const ac = new AbortController();
    const t0 = Date.now();
    const waiting = sleep(60_000, ac.signal);
    const reason = new Error('stopped');
    ac.abort(reason);
    await expect(waiting).rejects.toBe(reason);
    await expect(sleep(60_000, ac.signal)).rejects.toBe(reason);
    expect(Date.now() - t0).toBeLessThan(1000);
    await expect(sleep(5, new AbortController().signal)).resolves.toBeUndefined();
  });

  it('abortable settles as the call does, or cuts off a hung call at the abort and drops its late failure', async () => {
    const ac = new AbortController();
    await expect(abortable(Promise.resolve(7), ac.signal)).resolves.toBe(7);
    await expect(abortable(Promise.reject(new Error('409')), ac.signal)).rejects.toThrow('409');

    let fail!: (e: Error) => void;
    const hung = new Promise<number>((_, reject) => (fail = reject));
    const cut = abortable(hung, ac.signal);
    const reason = new Error('halted');
    ac.abort(reason);
    await expect(cut).rejects.toBe(reason);
    // Its late failure is handled: an unhandled rejection would fail this test run.
    fail(new Error('late'));
    await new Promise((r) => setTimeout(r, 10));
    await expect(abortable(new Promise<number>(() => {}), ac.signal)).rejects.toBe(reason);
  });
});
