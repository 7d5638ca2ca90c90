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
