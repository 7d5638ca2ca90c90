// The informer's loop against a scripted list and watch: every failure mode the API
// server can produce, deterministically.
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { KubeObject } from '../../src/kube/cache.js';
import { Informer, isGone } from '../../src/kube/informer.js';
import type { WatchFn, WatchQuery } from '../../src/kube/informer.js';
import type { ListRequest, ObjectList } from '../../src/kube/resources.js';

interface Obj extends KubeObject {
  data?: string;
}

const quiet = { warn: () => {}, debug: () => {} };

const obj = (name: string, rv: string, data?: string): Obj => ({
  kind: 'Thing',
  metadata: { name, namespace: 'ns', resourceVersion: rv },
  data,
});

interface OpenWatch {
  path: string;
  query: WatchQuery;
  emit(type: string, o: unknown): void;
  close(err?: unknown): void;
  aborted: boolean;
}

/** A list and a watch whose every answer the test decides. */
class FakeApi {
  objects = new Map<string, Obj>();
  rv = 100;
  lists: ListRequest[] = [];
  watches: OpenWatch[] = [];
  listError: ((req: ListRequest) => unknown) | undefined;
  watchOpenError: unknown;

  put(o: Obj): void {
    this.objects.set(o.metadata!.name!, o);
  }

  list = async (req: ListRequest): Promise<ObjectList<Obj>> => {
    this.lists.push(req);
    const err = this.listError?.(req);
    if (err) throw err;
    const all = [...this.objects.values()].sort((a, b) => a.metadata!.name!.localeCompare(b.metadata!.name!));
    const start = req._continue ? Number(req._continue) : 0;
    const limit = req.limit ?? all.length;
    const items = all.slice(start, start + limit);
    const next = start + limit < all.length ? String(start + limit) : undefined;
    return { metadata: { resourceVersion: String(this.rv), _continue: next }, items };
  };

  watch: WatchFn = async (path, query, onEvent, onDone) => {
    if (this.watchOpenError) throw this.watchOpenError;
    const w: OpenWatch = {
      path,
      query,
      aborted: false,
      emit: (type, o) => {
        if (!w.aborted) onEvent(type, o);
      },
      close: (err) => {
        if (!w.aborted) {
          w.aborted = true;
          onDone(err);
        }
      },
    };
    this.watches.push(w);
    return {
      abort: () => {
        w.aborted = true;
      },
    };
  };

  current(): OpenWatch {
    const w = this.watches.at(-1);
    if (!w) throw new Error('no watch opened');
    return w;
  }
}

type Seen = string[];

function record(inf: Informer<Obj>): Seen {
  const seen: Seen = [];
  inf.onAdd((o) => seen.push(`add ${o.metadata!.name} ${o.metadata!.resourceVersion}`));
  inf.onUpdate((a, b) => seen.push(`update ${b.metadata!.name} ${a.metadata!.resourceVersion}->${b.metadata!.resourceVersion}`));
  inf.onDelete((o) => seen.push(`delete ${o.metadata!.name}`));
  return seen;
}

const informers: Informer<Obj>[] = [];
function make(api: FakeApi, extra: Partial<ConstructorParameters<typeof Informer<Obj>>[0]> = {}): Informer<Obj> {
  const inf = new Informer<Obj>({
    list: api.list,
    watch: api.watch,
    path: '/apis/example.com/v1/things',
    backoff: { baseMs: 1, maxMs: 5 },
    logger: quiet,
    ...extra,
  });
  informers.push(inf);
  return inf;
}

afterEach(async () => {
  vi.useRealTimers();
  await Promise.all(informers.splice(0).map((i) => i.stop()));
});

describe('Informer', () => {
  it('lists page by page, syncs, then watches from the list resourceVersion with bookmarks', async () => {
    const api = new FakeApi();
    for (const n of ['a', 'b', 'c', 'd', 'e']) api.put(obj(n, '10'));
    const inf = make(api, { pageSize: 2, labelSelector: 'app=x', namespace: 'ns' });
    const seen = record(inf);
    expect(inf.hasSynced()).toBe(false);
    inf.start();
    await inf.waitForSync();
    expect(inf.hasSynced()).toBe(true);
    expect(api.lists.map((l) => l._continue)).toEqual([undefined, '2', '4']);
    // The first page from the watch cache, as client-go's reflector asks it; the pages after it carry the token's version.
    expect(api.lists.map((l) => l.resourceVersion)).toEqual(['0', undefined, undefined]);
    expect(api.lists.every((l) => l.limit === 2 && l.labelSelector === 'app=x' && l.namespace === 'ns')).toBe(true);
    expect(seen).toEqual(['add a 10', 'add b 10', 'add c 10', 'add d 10', 'add e 10']);
    await vi.waitFor(() => expect(api.watches).toHaveLength(1));
    const w = api.current();
    expect(w.path).toBe('/apis/example.com/v1/namespaces/ns/things');
    expect(w.query).toMatchObject({ resourceVersion: '100', allowWatchBookmarks: true, labelSelector: 'app=x' });
    expect(w.query.timeoutSeconds).toBeGreaterThanOrEqual(300);
    expect(w.query.timeoutSeconds).toBeLessThan(600);
  });

  it('applies ADDED, MODIFIED, DELETED in order and tracks the resourceVersion, bookmarks included', async () => {
    const api = new FakeApi();
    const inf = make(api);
    const seen = record(inf);
    inf.start();
    await inf.waitForSync();
    await vi.waitFor(() => expect(api.watches).toHaveLength(1));
    const w = api.current();
    w.emit('ADDED', obj('a', '101'));
    w.emit('MODIFIED', obj('a', '102', 'x'));
    w.emit('ADDED', obj('b', '103'));
    w.emit('DELETED', obj('a', '104'));
    w.emit('DELETED', obj('zz', '105')); // never seen: nothing to tell
    w.emit('BOOKMARK', { kind: 'Thing', metadata: { resourceVersion: '150' } });
    expect(seen).toEqual(['add a 101', 'update a 101->102', 'add b 103', 'delete a']);
    expect(inf.cache.keys()).toEqual(['ns/b']);
    expect(inf.lastResourceVersion()).toBe('150');
  });

  it("keeps no managedFields in its cache, from a list or a watch (controller-runtime's TransformStripManagedFields)", async () => {
    const managed = (o: Obj): Obj => ({ ...o, metadata: { ...o.metadata, managedFields: [{ manager: 'kubectl', operation: 'Update', fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': {} } }] } as Obj['metadata'] });
    const api = new FakeApi();
    api.put(managed(obj('a', '10', 'listed')));
    const inf = make(api);
    const added: Obj[] = [];
    inf.onAdd((o) => added.push(o));
    inf.start();
    await inf.waitForSync();
    await vi.waitFor(() => expect(api.watches).toHaveLength(1));
    api.current().emit('ADDED', managed(obj('b', '101', 'watched')));
    for (const key of ['ns/a', 'ns/b']) {
      const cached = inf.cache.get(key);
      expect(cached?.data).toBeDefined();
      expect(cached?.metadata).not.toHaveProperty('managedFields');
    }
    expect(added.map((o) => o.metadata).every((m) => m && !('managedFields' in m))).toBe(true);
  });

  it('on an ERROR 410 event relists and reconciles: gone objects deleted, changed updated, unchanged silent', async () => {
    const api = new FakeApi();
    api.put(obj('keep', '10'));
    api.put(obj('change', '11'));
    api.put(obj('gone', '12'));
    const inf = make(api);
    const seen = record(inf);
    inf.start();
    await inf.waitForSync();
    await vi.waitFor(() => expect(api.watches).toHaveLength(1));
    seen.length = 0;
    // What happened while the watch could not follow:
    api.objects.delete('gone');
    api.put(obj('change', '120'));
    api.put(obj('new', '121'));
    api.rv = 130;
    api.current().emit('ERROR', {
      kind: 'Status',
      apiVersion: 'v1',
      status: 'Failure',
      message: 'too old resource version: 100 (125)',
      reason: 'Expired',
      code: 410,
    });
    await vi.waitFor(() => expect(api.watches).toHaveLength(2));
    expect(seen).toEqual(['delete gone', 'update change 11->120', 'add new 121']);
    expect(api.lists).toHaveLength(2);
    // The relist after a watch expired reads the current state (a cached list could be older than the watch that expired).
    expect(api.lists.map((l) => l.resourceVersion)).toEqual(['0', undefined]);
    expect(api.current().query.resourceVersion).toBe('130');
    expect(inf.stats()).toMatchObject({ lists: 2, expired: 1 });
  });

  it('treats an HTTP 410 on the watch request like the ERROR event', async () => {
    const api = new FakeApi();
    const inf = make(api);
    inf.start();
    await vi.waitFor(() => expect(api.watches).toHaveLength(1));
    api.current().close(Object.assign(new Error('Gone'), { statusCode: 410 }));
    await vi.waitFor(() => expect(api.watches).toHaveLength(2));
    expect(api.lists).toHaveLength(2);
    expect(inf.stats().expired).toBe(1);
  });

  it('reconnects from the last resourceVersion after an error, without relisting', async () => {
    const api = new FakeApi();
    const inf = make(api);
    const seen = record(inf);
    inf.start();
    await vi.waitFor(() => expect(api.watches).toHaveLength(1));
    api.current().emit('ADDED', obj('a', '101'));
    api.current().close(new Error('socket hang up'));
    await vi.waitFor(() => expect(api.watches).toHaveLength(2));
    expect(api.current().query.resourceVersion).toBe('101');
    api.current().emit('ERROR', { kind: 'Status', code: 500, reason: 'InternalError', message: 'etcd' });
    await vi.waitFor(() => expect(api.watches).toHaveLength(3));
    expect(api.current().query.resourceVersion).toBe('101');
    api.current().emit('MODIFIED', obj('a', '102'));
    expect(seen).toEqual(['add a 101', 'update a 101->102']);
    expect(api.lists).toHaveLength(1);
    expect(inf.stats().errors).toBe(2);
  });

  it('reconnects after the watch request itself fails', async () => {
    const api = new FakeApi();
    api.watchOpenError = Object.assign(new Error('Service Unavailable'), { statusCode: 503 });
    const inf = make(api);
    inf.start();
    await inf.waitForSync();
    await vi.waitFor(() => expect(inf.stats().errors).toBeGreaterThanOrEqual(2));
    api.watchOpenError = undefined;
    await vi.waitFor(() => expect(api.watches).toHaveLength(1));
    expect(api.lists).toHaveLength(1);
  });

  it('logs an outage once when it starts and once when the watch is back, with how long it was down', async () => {
    const api = new FakeApi();
    const lines: string[] = [];
    const logger = { info: (m: string) => lines.push(`info ${m}`), warn: (m: string) => lines.push(`warn ${m}`), debug: (m: string) => lines.push(`debug ${m}`) };
    const inf = make(api, { logger, backoff: { baseMs: 20, maxMs: 20 } });
    inf.start();
    await vi.waitFor(() => expect(api.watches).toHaveLength(1));
    api.watchOpenError = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    api.current().close(new Error('socket hang up'));
    await vi.waitFor(() => expect(inf.stats().errors).toBeGreaterThanOrEqual(5));
    api.watchOpenError = undefined;
    await vi.waitFor(() => expect(lines.some((l) => l.startsWith('info '))).toBe(true), { timeout: 3000 });
    const errors = inf.stats().errors;
    expect(lines.filter((l) => l.startsWith('warn '))).toEqual([
      'warn informer /apis/example.com/v1/things: watch failed, reconnecting from 100; retrying with backoff (repeats at debug, one line when it is back)',
    ]);
    expect(lines.filter((l) => l.startsWith('debug ') && l.includes('failures in a row'))).toHaveLength(errors - 1);
    const back = lines.filter((l) => l.startsWith('info '));
    expect(back).toHaveLength(1);
    expect(back[0]).toMatch(new RegExp(`^info informer /apis/example.com/v1/things: watch re-established after \\d+\\.\\d s down \\(${errors} failed attempts\\)$`));
    // A second outage is a new one.
    api.listError = () => new Error('etcdserver: request timed out');
    api.current().close(new Error('socket hang up'));
    api.watchOpenError = Object.assign(new Error('Gone'), { statusCode: 410 });
    await vi.waitFor(() => expect(api.lists.length).toBeGreaterThanOrEqual(3));
    api.watchOpenError = undefined;
    api.listError = undefined;
    await vi.waitFor(() => expect(lines.filter((l) => l.startsWith('info '))).toHaveLength(2), { timeout: 3000 });
    expect(lines.filter((l) => l.startsWith('warn '))).toHaveLength(2);
    expect(lines.filter((l) => l.startsWith('info ')).at(-1)).toMatch(/: listed again after \d+\.\d s down \(\d+ failed attempts\)$/);
  });

  it('reconnects at once after a normal close (the server-side timeout)', async () => {
    const api = new FakeApi();
    const inf = make(api, { backoff: { baseMs: 60_000, maxMs: 60_000 } });
    inf.start();
    await vi.waitFor(() => expect(api.watches).toHaveLength(1));
    api.current().emit('BOOKMARK', { metadata: { resourceVersion: '140' } });
    api.current().close();
    await vi.waitFor(() => expect(api.watches).toHaveLength(2));
    expect(api.current().query.resourceVersion).toBe('140');
  });

  it('retries a failed list with backoff and syncs once it succeeds; restarts on an expired continue token', async () => {
    const api = new FakeApi();
    for (const n of ['a', 'b', 'c']) api.put(obj(n, '10'));
    let failures = 2;
    let expiredOnce = false;
    api.listError = (req) => {
      if (failures > 0) {
        failures--;
        return Object.assign(new Error('Internal'), { code: 500 });
      }
      if (req._continue && !expiredOnce) {
        expiredOnce = true;
        return Object.assign(new Error('continue expired'), { code: 410 });
      }
      return undefined;
    };
    const inf = make(api, { pageSize: 2 });
    const seen = record(inf);
    inf.start();
    await inf.waitForSync();
    expect(seen).toEqual(['add a 10', 'add b 10', 'add c 10']);
    expect(api.lists.map((l) => l._continue ?? '-')).toEqual(['-', '-', '-', '2', '-', '2']);
    expect(inf.stats().errors).toBe(2);
  });

  it('restarts a watch that has been silent longer than the watchdog allows', async () => {
    const api = new FakeApi();
    const inf = make(api, { watchdogMs: 30 });
    inf.start();
    await vi.waitFor(() => expect(api.watches.length).toBeGreaterThanOrEqual(2));
    expect(api.watches[0]!.aborted).toBe(true);
    expect(api.current().query.resourceVersion).toBe('100');
    expect(inf.stats().watchdogRestarts).toBeGreaterThanOrEqual(1);
    expect(api.lists).toHaveLength(1);
  });

  it('keeps a watch whose events come more often than the watchdog allows, and restarts it a whole period after the last one', async () => {
    vi.useFakeTimers();
    const api = new FakeApi();
    const inf = make(api, { watchdogMs: 1000 });
    inf.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(api.watches).toHaveLength(1);
    // Events every 400 ms for 3 s: never 1000 ms of silence.
    for (let i = 0; i < 8; i++) {
      await vi.advanceTimersByTimeAsync(400);
      api.current().emit('ADDED', obj(`o${i}`, String(101 + i)));
    }
    expect(api.watches).toHaveLength(1);
    expect(inf.stats().watchdogRestarts).toBe(0);
    // Silent from here: 999 ms after the last event it still stands, at 1000 ms it is restarted.
    await vi.advanceTimersByTimeAsync(999);
    expect(api.watches).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(inf.stats().watchdogRestarts).toBe(1);
    expect(api.watches[0]!.aborted).toBe(true);
    await inf.stop();
  });

  it('relists periodically when asked to', async () => {
    const api = new FakeApi();
    api.put(obj('a', '10'));
    const inf = make(api, { relistPeriodMs: 20 });
    const seen = record(inf);
    inf.start();
    await vi.waitFor(() => expect(api.lists.length).toBeGreaterThanOrEqual(3));
    expect(seen).toEqual(['add a 10']);
  });

  it('a throwing handler does not stop delivery', async () => {
    const api = new FakeApi();
    const inf = make(api);
    const seen: string[] = [];
    inf.onAdd(() => {
      throw new Error('handler bug');
    });
    inf.onAdd((o) => seen.push(o.metadata!.name!));
    inf.start();
    await vi.waitFor(() => expect(api.watches).toHaveLength(1));
    api.current().emit('ADDED', obj('a', '101'));
    api.current().emit('ADDED', obj('b', '102'));
    expect(seen).toEqual(['a', 'b']);
  });

  it('refuses handlers after start', () => {
    const api = new FakeApi();
    const inf = make(api);
    inf.start();
    expect(() => inf.onAdd(() => {})).toThrow(/before start/);
  });

  it('waitForSync rejects on abort and when stopped before sync', async () => {
    const api = new FakeApi();
    api.listError = () => new Error('down');
    const inf = make(api);
    inf.start();
    const ac = new AbortController();
    const aborted = inf.waitForSync(ac.signal);
    ac.abort(new Error('gave up'));
    await expect(aborted).rejects.toThrow('gave up');
    const pending = inf.waitForSync();
    await inf.stop();
    await expect(pending).rejects.toThrow(/stopped before sync/);
  });

  it('stop() aborts the watch and leaves no timers behind', async () => {
    vi.useFakeTimers();
    const api = new FakeApi();
    const inf = make(api, { relistPeriodMs: 60_000, watchdogMs: 30_000 });
    inf.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(api.watches).toHaveLength(1);
    expect(vi.getTimerCount()).toBeGreaterThan(0);
    await inf.stop();
    expect(api.current().aborted).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('stop() during a backoff sleep or a hung list returns at once', async () => {
    vi.useFakeTimers();
    const api = new FakeApi();
    api.listError = () => new Error('down');
    const inf = make(api, { backoff: { baseMs: 60_000, maxMs: 60_000 } });
    inf.start();
    await vi.advanceTimersByTimeAsync(0);
    await inf.stop();
    expect(vi.getTimerCount()).toBe(0);

    const hung = make(new FakeApi(), {
      list: () => new Promise<ObjectList<Obj>>(() => {}),
    });
    hung.start();
    await hung.stop();
  });

  it('isGone recognises both shapes of 410', () => {
    expect(isGone({ code: 410 })).toBe(true);
    expect(isGone({ statusCode: 410 })).toBe(true);
    expect(isGone({ code: 500 })).toBe(false);
    expect(isGone(null)).toBe(false);
  });
});
