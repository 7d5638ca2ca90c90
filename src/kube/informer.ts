// lbc's informer: one loop of paginated list, then watch from the list's
// resourceVersion with bookmarks. A 410 (the server no longer has that history) means
// relist and reconcile the cache against the fresh list; any other failure means
// reconnect with backoff from the last resourceVersion seen. A watchdog restarts a
// watch that has gone quiet, because a half-dead TCP stream can otherwise stall an
// informer forever without an error (kubernetes-client/javascript #596, #958, #1496),
// which is why client-node's makeInformer is not used.
import { Watch } from './client-node.js';
import type { KubeConfig } from '@kubernetes/client-node';
import { Cache, objectKey, withoutManagedFields } from './cache.js';
import type { IndexFunc, KubeObject } from './cache.js';
import type { KubeClients } from './client.js';
import type { Logger } from './logger.js';
import { collectionPath, readerOf } from './resources.js';
import type { ListFn, ResourceType } from './resources.js';
import { abortable, sleep } from './sleep.js';
import { ExponentialBackoff } from './workqueue.js';

export type WatchQuery = Record<string, string | number | boolean | undefined>;

export interface WatchHandle {
  abort(): void;
}

/**
 * Opens one watch stream. `onDone` is called once when the stream ends: with no
 * argument for a clean close, with the error otherwise (an HTTP failure carries
 * `statusCode`). Injectable so tests can cut, stall or expire a watch.
 */
export type WatchFn = (
  path: string,
  query: WatchQuery,
  onEvent: (type: string, obj: unknown) => void,
  onDone: (err?: unknown) => void,
) => Promise<WatchHandle>;

/** client-node's Watch as a WatchFn. */
export function kubeWatch(kc: KubeConfig): WatchFn {
  const w = new Watch(kc);
  return (path, query, onEvent, onDone) => w.watch(path, query, (type, obj) => onEvent(type, obj), onDone);
}

export interface InformerOptions<T extends KubeObject> {
  list: ListFn<T>;
  /** Cluster-wide collection path, e.g. `/apis/networking.k8s.io/v1/ingresses`. */
  path: string;
  /** Either a WatchFn or a KubeConfig to build client-node's watch from. */
  watch: WatchFn | KubeConfig;
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Turns a watch event's object into T (e.g. the typed model); identity by default. */
  decode?: (raw: unknown) => T;
  indexers?: Record<string, IndexFunc<T>>;
  /** Page size of the list. Default 500. */
  pageSize?: number;
  /** Relist everything this often even when the watch is healthy; 0 (default) never. */
  relistPeriodMs?: number;
  /**
   * Server-side watch timeout, drawn per watch from [min, 2·min] seconds as client-go
   * does, so that many informers do not reconnect in lockstep. Default 300.
   */
  minWatchTimeoutSeconds?: number;
  /**
   * Restart a watch that delivered nothing (not even a bookmark) for this long.
   * Default: the watch's own timeout plus 30 s, i.e. only a stream the server should
   * already have closed.
   */
  watchdogMs?: number;
  /** Backoff between failed lists or watches. Default 800 ms doubling to 30 s. */
  backoff?: { baseMs?: number; maxMs?: number; random?: () => number };
  logger?: Pick<Logger, 'warn' | 'debug'> & Partial<Pick<Logger, 'info'>>;
  /** Used in log lines. Default: the path. */
  name?: string;
}

export interface InformerStats {
  /** Completed full lists (the first one included). */
  lists: number;
  /** Watches opened. */
  watches: number;
  /** Watches ended by 410 Expired (or too-large RV), each followed by a relist. */
  expired: number;
  /** Lists or watches that failed and were retried after backoff. */
  errors: number;
  /** Watches restarted by the watchdog. */
  watchdogRestarts: number;
  /** ADDED / MODIFIED / DELETED / BOOKMARK events received. */
  events: number;
  resourceVersion: string;
}

type WatchEnd =
  | { reason: 'stopped' }
  | { reason: 'expired'; detail: string }
  | { reason: 'error'; err: unknown }
  | { reason: 'closed' }
  | { reason: 'watchdog' }
  | { reason: 'relist' };

// A clean close sooner than this after opening, with no event, counts as a failure:
// otherwise a server or proxy that closes at once would be hammered in a tight loop.
const SHORT_WATCH_MS = 1000;

class StoppedError extends Error {}

export class Informer<T extends KubeObject> {
  readonly cache: Cache<T>;
  private readonly opts: InformerOptions<T>;
  private readonly watchFn: WatchFn;
  private readonly decode: (raw: unknown) => T;
  private readonly log: Pick<Logger, 'warn' | 'debug'> & Partial<Pick<Logger, 'info'>>;
  private readonly name: string;
  private readonly backoff: ExponentialBackoff;
  private readonly addHandlers: ((obj: T) => void)[] = [];
  private readonly updateHandlers: ((oldObj: T, newObj: T) => void)[] = [];
  private readonly deleteHandlers: ((obj: T) => void)[] = [];
  private started = false;
  private stopped = false;
  private synced = false;
  private syncWaiters: { resolve: () => void; reject: (err: Error) => void }[] = [];
  private rv = '';
  private lastListAt = 0;
  private loopDone: Promise<void> = Promise.resolve();
  // Aborted at stop(): ends whatever the loop is waiting on (a watch, a backoff sleep, a list).
  private readonly stopping = new AbortController();
  // Lists and watches failing in a row: one warn line when it starts, one info line
  // (with how long) when a list or a watch works again; the retries between are debug.
  private outage: { since: number; failures: number } | undefined;
  private readonly counters: Omit<InformerStats, 'resourceVersion'> = {
    lists: 0,
    watches: 0,
    expired: 0,
    errors: 0,
    watchdogRestarts: 0,
    events: 0,
  };

  constructor(opts: InformerOptions<T>) {
    this.opts = opts;
    this.watchFn = typeof opts.watch === 'function' ? opts.watch : kubeWatch(opts.watch);
    this.decode = opts.decode ?? ((raw) => raw as T);
    this.log = opts.logger ?? console;
    this.name = opts.name ?? collectionPath(opts.path, opts.namespace);
    this.cache = new Cache<T>(opts.indexers);
    this.backoff = new ExponentialBackoff({
      baseMs: opts.backoff?.baseMs ?? 800,
      maxMs: opts.backoff?.maxMs ?? 30_000,
      jitter: 0.5,
      random: opts.backoff?.random,
    });
  }

  onAdd(fn: (obj: T) => void): this {
    this.assertNotStarted();
    this.addHandlers.push(fn);
    return this;
  }

  onUpdate(fn: (oldObj: T, newObj: T) => void): this {
    this.assertNotStarted();
    this.updateHandlers.push(fn);
    return this;
  }

  onDelete(fn: (obj: T) => void): this {
    this.assertNotStarted();
    this.deleteHandlers.push(fn);
    return this;
  }

  start(): void {
    if (this.started) throw new Error(`informer ${this.name} already started`);
    this.started = true;
    this.loopDone = this.loop();
  }

  /** True once start() has been called. */
  isStarted(): boolean {
    return this.started;
  }

  /** True once the first list has been stored and its add notifications delivered. */
  hasSynced(): boolean {
    return this.synced;
  }

  /** Resolves once synced; rejects if `signal` aborts or the informer stops first. */
  waitForSync(signal?: AbortSignal): Promise<void> {
    if (this.synced) return Promise.resolve();
    if (this.stopped) return Promise.reject(new Error(`informer ${this.name} stopped before sync`));
    if (signal?.aborted) return Promise.reject(signal.reason ?? new Error('aborted'));
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        this.syncWaiters = this.syncWaiters.filter((w) => w !== waiter);
        reject(signal?.reason ?? new Error('aborted'));
      };
      const waiter = {
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        reject: (err: Error) => {
          signal?.removeEventListener('abort', onAbort);
          reject(err);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.syncWaiters.push(waiter);
    });
  }

  /** The resourceVersion the next watch would resume from. */
  lastResourceVersion(): string {
    return this.rv;
  }

  stats(): InformerStats {
    return { ...this.counters, resourceVersion: this.rv };
  }

  /** Aborts the watch, any list or backoff in progress, and resolves when the loop has ended. */
  async stop(): Promise<void> {
    if (this.stopped) return this.loopDone;
    this.stopped = true;
    this.stopping.abort(new StoppedError(`informer ${this.name} stopped`));
    for (const w of this.syncWaiters.splice(0)) w.reject(new Error(`informer ${this.name} stopped before sync`));
    await this.loopDone;
  }

  private assertNotStarted(): void {
    if (this.started) throw new Error(`informer ${this.name}: register handlers before start()`);
  }

  private async loop(): Promise<void> {
    let needList = true;
    while (!this.stopped) {
      const listed = needList;
      if (needList) {
        try {
          await abortable(this.listAndReconcile(), this.stopping.signal);
          needList = false;
        } catch (err) {
          if (this.stopped) break;
          this.failed('list failed, retrying', err);
          if (!(await this.sleep(this.backoff.when('list')))) break;
          continue;
        }
        this.backoff.forget('list');
        this.reconnected('listed again');
      }
      const eventsBefore = this.counters.events;
      const end = await this.watchOnce();
      switch (end.reason) {
        case 'stopped':
          return;
        case 'expired':
          this.counters.expired++;
          this.log.debug?.(`informer ${this.name}: watch expired at ${this.rv} (${end.detail}), relisting`);
          needList = true;
          // Expired straight after a fresh list means the server cannot serve this
          // resourceVersion at all; relisting at once would spin.
          if (listed && this.counters.events === eventsBefore) {
            if (!(await this.sleep(this.backoff.when('expired')))) return;
          } else {
            this.backoff.forget('expired');
          }
          break;
        case 'relist':
          needList = true;
          break;
        case 'watchdog':
          this.counters.watchdogRestarts++;
          this.log.warn(`informer ${this.name}: watch silent too long, restarting from ${this.rv}`);
          break;
        case 'closed':
          this.backoff.forget('watch');
          break;
        case 'error':
          this.failed(`watch failed, reconnecting from ${this.rv}`, end.err);
          if (!(await this.sleep(this.backoff.when('watch')))) return;
          break;
      }
    }
  }

  private failed(what: string, err: unknown): void {
    this.counters.errors++;
    if (this.outage) {
      this.outage.failures++;
      this.log.debug?.(`informer ${this.name}: ${what} (${this.outage.failures} failures in a row)`, describe(err));
      return;
    }
    this.outage = { since: Date.now(), failures: 1 };
    this.log.warn(`informer ${this.name}: ${what}; retrying with backoff (repeats at debug, one line when it is back)`, describe(err));
  }

  private reconnected(how: string): void {
    if (!this.outage) return;
    const { since, failures } = this.outage;
    this.outage = undefined;
    this.log.info?.(`informer ${this.name}: ${how} after ${((Date.now() - since) / 1000).toFixed(1)} s down (${failures} failed attempts)`);
  }

  private async listAndReconcile(): Promise<void> {
    const { items, resourceVersion } = await this.listAll();
    const fresh = new Map<string, T>();
    for (const obj of items) fresh.set(objectKey(obj), withoutManagedFields(obj));
    // Deletions first: an object gone during a watch gap may have freed a name or a
    // node port that a new object in the same list now holds, and handlers see the
    // same order the API server applied.
    for (const key of this.cache.keys()) {
      if (fresh.has(key)) continue;
      const old = this.cache.delete(key);
      if (old) this.emitDelete(old);
    }
    for (const [key, obj] of fresh) {
      const old = this.cache.get(key);
      if (!old) {
        this.cache.set(obj);
        this.emitAdd(obj);
      } else if (old.metadata?.resourceVersion !== obj.metadata?.resourceVersion) {
        this.cache.set(obj);
        this.emitUpdate(old, obj);
      }
      // Same resourceVersion: the object the handlers already saw; nothing to do.
    }
    this.rv = resourceVersion;
    this.lastListAt = Date.now();
    this.counters.lists++;
    if (!this.synced) {
      this.synced = true;
      for (const w of this.syncWaiters.splice(0)) w.resolve();
    }
  }

  private async listAll(): Promise<{ items: T[]; resourceVersion: string }> {
    const pageSize = this.opts.pageSize ?? 500;
    let restarts = 0;
    for (;;) {
      const items: T[] = [];
      let cont: string | undefined;
      let rv = '';
      try {
        do {
          const page = await this.opts.list({
            namespace: this.opts.namespace,
            labelSelector: this.opts.labelSelector,
            fieldSelector: this.opts.fieldSelector,
            limit: pageSize,
            _continue: cont,
            // The first list "0", as client-go's reflector makes it (relistResourceVersion):
            // the API server answers from its watch cache, in one page, instead of reading
            // every object from etcd a page at a time; the Services of a 1000-Service cold
            // start came in 41 ms that way, before the first write could go (#21). Later
            // lists (after a watch expired) read the current state from etcd, as before.
            ...(this.counters.lists === 0 && cont === undefined ? { resourceVersion: '0' } : {}),
          });
          if (this.stopped) throw new StoppedError();
          for (const item of page.items) items.push(item);
          rv = page.metadata?.resourceVersion ?? '';
          cont = page.metadata?._continue || undefined;
        } while (cont);
      } catch (err) {
        // A continue token outlives its snapshot after an etcd compaction; the pages
        // already read cannot be mixed with a new snapshot, so start over.
        if (cont && isGone(err) && restarts++ < 3) continue;
        throw err;
      }
      if (!rv) throw new Error('list response has no resourceVersion');
      return { items, resourceVersion: rv };
    }
  }

  private watchOnce(): Promise<WatchEnd> {
    if (this.stopped) return Promise.resolve({ reason: 'stopped' });
    const minTimeout = this.opts.minWatchTimeoutSeconds ?? 300;
    const timeoutSeconds = Math.floor(minTimeout * (1 + Math.random()));
    const watchdogMs = this.opts.watchdogMs ?? (timeoutSeconds + 30) * 1000;
    const relistPeriod = this.opts.relistPeriodMs ?? 0;
    const openedAt = Date.now();
    this.counters.watches++;

    return new Promise<WatchEnd>((resolve) => {
      let finished = false;
      let sawEvent = false;
      let handle: WatchHandle | undefined;
      let watchdog: NodeJS.Timeout | undefined;
      let relistTimer: NodeJS.Timeout | undefined;
      let established: NodeJS.Timeout | undefined;
      const onStop = (): void => finish({ reason: 'stopped' });

      const finish = (end: WatchEnd): void => {
        if (finished) return;
        finished = true;
        clearTimeout(watchdog);
        clearTimeout(relistTimer);
        clearTimeout(established);
        this.stopping.signal.removeEventListener('abort', onStop);
        handle?.abort();
        resolve(end);
      };
      // The watchdog fires watchdogMs after the last event. An event only notes its time:
      // re-arming a timer per event (a clearTimeout and a setTimeout each) showed in the
      // cold start's profile, at two or more events per Service; the timer instead looks
      // at the time when it fires and waits out the rest.
      let lastEventAt = Date.now();
      const armWatchdog = (ms: number): void => {
        watchdog = setTimeout(() => {
          const quiet = Date.now() - lastEventAt;
          if (quiet >= watchdogMs) finish({ reason: 'watchdog' });
          else armWatchdog(watchdogMs - quiet);
        }, ms);
      };
      const kick = (): void => {
        lastEventAt = Date.now();
      };

      this.stopping.signal.addEventListener('abort', onStop, { once: true });
      armWatchdog(watchdogMs);
      if (relistPeriod > 0) {
        relistTimer = setTimeout(
          () => finish({ reason: 'relist' }),
          Math.max(0, this.lastListAt + relistPeriod - Date.now()),
        );
      }

      const onEvent = (type: string, raw: unknown): void => {
        if (finished) return;
        sawEvent = true;
        this.reconnected('watch re-established');
        kick();
        const end = this.handleEvent(type, raw);
        if (end) finish(end);
      };
      const onDone = (err?: unknown): void => {
        if (finished) return;
        if (err) {
          finish(isGone(err) ? { reason: 'expired', detail: describe(err) } : { reason: 'error', err });
        } else if (!sawEvent && Date.now() - openedAt < SHORT_WATCH_MS) {
          finish({ reason: 'error', err: new Error('watch closed immediately without events') });
        } else {
          finish({ reason: 'closed' });
        }
      };

      const query: WatchQuery = {
        resourceVersion: this.rv,
        allowWatchBookmarks: true,
        timeoutSeconds,
        labelSelector: this.opts.labelSelector,
        fieldSelector: this.opts.fieldSelector,
      };
      let opened: Promise<WatchHandle>;
      try {
        opened = this.watchFn(collectionPath(this.opts.path, this.opts.namespace), query, onEvent, onDone);
      } catch (err) {
        opened = Promise.reject(err);
      }
      opened.then(
        (h) => {
          handle = h;
          if (finished) {
            h.abort();
            return;
          }
          // A refused watch ends straight after it opens; one still open a moment later works.
          if (this.outage) established = setTimeout(() => this.reconnected('watch re-established'), SHORT_WATCH_MS);
        },
        (err: unknown) => onDone(err ?? new Error('watch failed')),
      );
    });
  }

  /** Applies one watch event; returns how the watch ends if this event ends it. */
  private handleEvent(type: string, raw: unknown): WatchEnd | undefined {
    if (type === 'ERROR') {
      const status = raw as { code?: number; reason?: string; message?: string; details?: { causes?: { reason?: string }[] } };
      const tooLarge = status.details?.causes?.some((c) => c.reason === 'ResourceVersionTooLarge') ?? false;
      if (status.code === 410 || status.reason === 'Expired' || status.reason === 'Gone' || tooLarge) {
        return { reason: 'expired', detail: status.message ?? String(status.code) };
      }
      return { reason: 'error', err: new Error(`watch ERROR event: ${status.code ?? '?'} ${status.reason ?? ''} ${status.message ?? ''}`) };
    }
    this.counters.events++;
    const meta = (raw as KubeObject | undefined)?.metadata;
    if (type === 'BOOKMARK') {
      if (meta?.resourceVersion) this.rv = meta.resourceVersion;
      return undefined;
    }
    if (type !== 'ADDED' && type !== 'MODIFIED' && type !== 'DELETED') {
      return { reason: 'error', err: new Error(`unexpected watch event type ${JSON.stringify(type)}`) };
    }
    let obj: T;
    try {
      obj = withoutManagedFields(this.decode(raw));
    } catch (err) {
      return { reason: 'error', err };
    }
    const key = objectKey(obj);
    if (type === 'DELETED') {
      // Removed from the cache either way; notify only if handlers knew it.
      if (this.cache.delete(key)) this.emitDelete(obj);
    } else {
      const old = this.cache.set(obj);
      if (!old) this.emitAdd(obj);
      else if (old.metadata?.resourceVersion !== obj.metadata?.resourceVersion) this.emitUpdate(old, obj);
    }
    if (meta?.resourceVersion) this.rv = meta.resourceVersion;
    return undefined;
  }

  // A throwing handler must not kill the watch loop or hide the event from others. The
  // try is written out in each loop: a closure per handler call (a guard(fn) helper) was
  // an allocation per event and handler, at several events per Service (#21).
  private emitAdd(obj: T): void {
    for (const fn of this.addHandlers) {
      try {
        fn(obj);
      } catch (err) {
        this.handlerThrew(err);
      }
    }
  }

  private emitUpdate(oldObj: T, newObj: T): void {
    for (const fn of this.updateHandlers) {
      try {
        fn(oldObj, newObj);
      } catch (err) {
        this.handlerThrew(err);
      }
    }
  }

  private emitDelete(obj: T): void {
    for (const fn of this.deleteHandlers) {
      try {
        fn(obj);
      } catch (err) {
        this.handlerThrew(err);
      }
    }
  }

  private handlerThrew(err: unknown): void {
    this.log.warn(`informer ${this.name}: event handler threw`, err);
  }

  /** Resolves true after `ms`, or false at once if the informer is stopped meanwhile. */
  private sleep(ms: number): Promise<boolean> {
    return sleep(ms, this.stopping.signal).then(
      () => true,
      () => false,
    );
  }
}

/** An informer for one of lbc's resources (resources.ts), built from the clients. */
export function newInformer<T extends KubeObject>(
  clients: KubeClients,
  resource: ResourceType<T>,
  opts: Omit<InformerOptions<T>, 'list' | 'path' | 'watch' | 'decode'> & { watch?: WatchFn } = {},
): Informer<T> {
  if (opts.namespace && !resource.namespaced) throw new Error(`${resource.kind} is cluster-scoped; no namespace applies`);
  const { list, decode } = readerOf(clients, resource);
  return new Informer<T>({
    ...opts,
    // List items come without kind and apiVersion (watch objects carry them); stamp
    // them so every cached object can name itself, e.g. as an Event's involvedObject.
    list: async (req) => {
      const page = await list(req);
      for (const item of page.items) {
        item.kind ??= resource.kind;
        item.apiVersion ??= resource.apiVersion;
      }
      return page;
    },
    path: resource.path,
    decode,
    // lbc's own connection where there is one: its watches share the writes' HTTP/2 connection.
    watch: opts.watch ?? clients.api?.watch ?? clients.kc,
  });
}

/** 410 Gone: from a typed API call (ApiException.code) or a watch request (statusCode). */
export function isGone(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { code?: unknown; statusCode?: unknown };
  return e.code === 410 || e.statusCode === 410;
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    const e = err as Error & { code?: unknown; statusCode?: unknown };
    const code = e.statusCode ?? e.code;
    return code !== undefined ? `${String(code)} ${e.message}` : e.message;
  }
  return String(err);
}
