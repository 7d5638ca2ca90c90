import { describe, expect, it } from 'vitest';
import type { V1Service } from '@kubernetes/client-node';
import { AddressWatch, type ServiceSource } from '../../bench/address-watch.js';
import type { WatchPage } from '../../bench/resumable-watch.js';

const svc = (name: string, rv: string, addressed: boolean): V1Service => ({
  metadata: { name, resourceVersion: rv },
  status: addressed ? { loadBalancer: { ingress: [{ ip: '192.0.2.1' }] } } : {},
});

interface OpenedWatch {
  readonly rv: string;
  readonly send: (type: string, obj: unknown) => void;
  readonly end: (err?: unknown) => void;
  aborted: boolean;
}

/** A Service collection whose watches the test feeds and ends; lists serve `page()`. */
function fakeSource(page: () => WatchPage<V1Service>): ServiceSource & { opened: OpenedWatch[]; lists: number } {
  const src = {
    opened: [] as OpenedWatch[],
    lists: 0,
    list: () => {
      src.lists++;
      return Promise.resolve(page());
    },
    watch: (rv: string, onEvent: (type: string, obj: unknown) => void, onDone: (err?: unknown) => void) => {
      let done = false;
      const w: OpenedWatch = {
        rv,
        aborted: false,
        send: (type, obj) => {
          if (!done) onEvent(type, obj);
        },
        end: (err) => {
          if (done) return;
          done = true;
          onDone(err);
        },
      };
      src.opened.push(w);
      return Promise.resolve({ abort: () => void (w.aborted = true) });
    },
  };
  return src;
}

const quiet = { log: () => {}, reopenMs: 10 };
const until = async (cond: () => boolean): Promise<void> => {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(cond()).toBe(true);
};

describe('bench address watch (#21)', () => {
  it('reopens a watch that ended without an error from the last resourceVersion, and sees the rest there', async () => {
    const src = fakeSource(() => ({ items: [], resourceVersion: '100' }));
    const w = await AddressWatch.start(src, { ...quiet, confirmAfterMs: 60_000 });
    expect(src.opened.map((o) => o.rv)).toEqual(['100']);
    const waiting = w.waitFor(3, 60_000);
    src.opened[0]!.send('MODIFIED', svc('a', '101', true));
    src.opened[0]!.send('BOOKMARK', { metadata: { resourceVersion: '105' } });
    // The cold-start failure: the stream closes cleanly, nothing says so.
    src.opened[0]!.end();
    await until(() => src.opened.length === 2);
    expect(src.opened[1]!.rv).toBe('105');
    src.opened[1]!.send('MODIFIED', svc('b', '106', true));
    src.opened[1]!.send('MODIFIED', svc('c', '107', true));
    const t0 = Date.now();
    await waiting;
    // Done on the reopened watch's events, not by waiting out any limit or confirming by LIST.
    expect(Date.now() - t0).toBeLessThan(1000);
    expect([...w.seen.keys()].sort()).toEqual(['a', 'b', 'c']);
    expect(w.confirmedByList).toBe(0);
    expect(src.lists).toBe(1);
    expect(src.opened[1]!.aborted).toBe(true);
  });

  it('relists on 410 (an error or an ERROR event) and watches from the new list', async () => {
    let rv = '100';
    let items: V1Service[] = [];
    const src = fakeSource(() => ({ items, resourceVersion: rv }));
    const w = await AddressWatch.start(src, { ...quiet, confirmAfterMs: 60_000 });
    const waiting = w.waitFor(2, 60_000);
    items = [svc('a', '150', true)];
    rv = '200';
    src.opened[0]!.send('ERROR', { kind: 'Status', code: 410, reason: 'Expired', message: 'too old resource version: 100 (150)' });
    src.opened[0]!.end();
    await until(() => src.opened.length === 2);
    expect(src.opened[1]!.rv).toBe('200');
    expect(w.seen.has('a')).toBe(true);
    rv = '300';
    src.opened[1]!.end({ statusCode: 410 });
    await until(() => src.opened.length === 3);
    expect(src.opened[2]!.rv).toBe('300');
    src.opened[2]!.send('ADDED', svc('b', '301', true));
    await waiting;
    expect(src.lists).toBe(3); // the first list and one relist per 410
  });

  it('confirms by LIST when the watch goes quiet, so a finished run never waits out its limit', async () => {
    const items = [svc('a', '1', true), svc('b', '2', true)];
    const src = fakeSource(() => ({ items: [], resourceVersion: '1' }));
    const w = await AddressWatch.start(src, { ...quiet, confirmAfterMs: 50 });
    // The watch stays open and silent (a half-dead stream); the addresses are there.
    src.list = () => Promise.resolve({ items, resourceVersion: '2' });
    const t0 = Date.now();
    await w.waitFor(2, 60_000);
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(w.confirmedByList).toBe(2);
  });

  it('a run that does fail says how many are addressed and which are not', async () => {
    const items = [svc('a', '1', true), svc('b', '2', false), svc('c', '3', false)];
    const src = fakeSource(() => ({ items, resourceVersion: '3' }));
    const w = await AddressWatch.start(src, { ...quiet, confirmAfterMs: 60_000 });
    await expect(w.waitFor(4, 100)).rejects.toThrow(
      /timed out after 0\.1 s waiting for 4 addresses: a LIST shows 1\/4 addressed; without an address: b, c; 1 Service\(s\) not found at all/,
    );
    expect(src.opened[0]!.aborted).toBe(true);
  });
});
