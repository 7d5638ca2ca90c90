import { describe, expect, it } from 'vitest';
import { OwnWrites } from '../../src/controller/own-writes.js';

const svc = (rv: string, uid = 'u1') => ({ metadata: { namespace: 'ns', name: 'web', uid, resourceVersion: rv } });

describe('OwnWrites.observe', () => {
  it('takes the echo of our only write for an echo, once', () => {
    const w = new OwnWrites();
    w.remember('ns/web', svc('10'));
    expect(w.observe('ns/web', svc('10'))).toBe(true);
    expect(w.observe('ns/web', svc('11'))).toBe(false);
  });

  it('takes the echo of an earlier write (the finalizer) that arrives after a later write (the status) returned for an echo too', () => {
    const w = new OwnWrites();
    w.remember('ns/web', svc('10'));
    w.remember('ns/web', svc('12'));
    expect(w.observe('ns/web', svc('10'))).toBe(true);
    // Still ours until the cache reaches the later write.
    expect(w.resolve('ns/web', svc('10'))?.metadata?.resourceVersion).toBe('12');
    expect(w.observe('ns/web', svc('12'))).toBe(true);
    expect(w.size).toBe(0);
  });

  it('takes a change by someone else between two of our writes for news', () => {
    const w = new OwnWrites();
    w.remember('ns/web', svc('10'));
    w.remember('ns/web', svc('12'));
    expect(w.observe('ns/web', svc('11'))).toBe(false);
    expect(w.observe('ns/web', svc('12'))).toBe(true);
  });

  it('keeps the newest object when an older write answers last, and still knows both echoes', () => {
    const w = new OwnWrites();
    w.remember('ns/web', svc('12'));
    w.remember('ns/web', svc('10'));
    expect(w.resolve('ns/web', svc('9'))?.metadata?.resourceVersion).toBe('12');
    expect(w.observe('ns/web', svc('10'))).toBe(true);
    expect(w.observe('ns/web', svc('12'))).toBe(true);
  });

  it('does not take an object of the same name with another uid for an echo', () => {
    const w = new OwnWrites();
    w.remember('ns/web', svc('10'));
    w.remember('ns/web', svc('12'));
    expect(w.observe('ns/web', svc('10', 'u2'))).toBe(false);
  });
});

describe('OwnWrites.write: what the informer delivers before a write is answered', () => {
  const deferred = <T>() => {
    let resolve!: (v: T) => void;
    let reject!: (e: unknown) => void;
    const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
    return { promise, resolve, reject };
  };

  it('holds the echo that came before the answer and drops it once the answer says it is ours', async () => {
    const w = new OwnWrites();
    const answer = deferred<ReturnType<typeof svc>>();
    const news: string[] = [];
    const writing = w.write('ns/web', () => answer.promise, (o) => o);
    expect(w.observe('ns/web', svc('10'), () => news.push('10'))).toBe(true);
    answer.resolve(svc('10'));
    expect((await writing).metadata.resourceVersion).toBe('10');
    expect(news).toEqual([]);
    // The cache has caught up with the write: nothing of ours is pending any more.
    expect(w.size).toBe(0);
  });

  it('hands on news that came while the write was on its way, after the answer', async () => {
    const w = new OwnWrites();
    const answer = deferred<ReturnType<typeof svc>>();
    const news: string[] = [];
    const writing = w.write('ns/web', () => answer.promise, (o) => o);
    // Someone else's change (11), then the echo of ours (12), then someone else's again (13).
    for (const rv of ['11', '12', '13']) expect(w.observe('ns/web', svc(rv), () => news.push(rv))).toBe(true);
    expect(news).toEqual([]);
    answer.resolve(svc('12'));
    await writing;
    expect(news).toEqual(['11', '13']);
  });

  it('takes everything held for news when the write fails or writes nothing', async () => {
    const w = new OwnWrites();
    const news: string[] = [];
    const failed = deferred<ReturnType<typeof svc>>();
    const failing = w.write('ns/web', () => failed.promise, (o) => o);
    w.observe('ns/web', svc('20'), () => news.push('20'));
    failed.reject(new Error('conflict'));
    await expect(failing).rejects.toThrow('conflict');
    const nothing = w.write('ns/web', async () => ({ written: false }), () => undefined);
    w.observe('ns/web', svc('21'), () => news.push('21'));
    await nothing;
    expect(news).toEqual(['20', '21']);
  });

  it('holds nothing for other keys, nor without a news callback', async () => {
    const w = new OwnWrites();
    const answer = deferred<ReturnType<typeof svc>>();
    const writing = w.write('ns/web', () => answer.promise, (o) => o);
    expect(w.observe('ns/other', svc('5'), () => undefined)).toBe(false);
    expect(w.observe('ns/web', svc('6'))).toBe(false);
    answer.resolve(svc('7'));
    await writing;
  });
});
