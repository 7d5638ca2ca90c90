// A bench's watch that does not silently stop: client-node's Watch ends without an error
// when the server's timeout passes or a stream is cut cleanly, and a bench waiting on its
// events then waits out its limit on a run that has finished (#21). Reopened from the last
// resourceVersion seen whenever it ends; a 410 (that history is gone) relists first and
// hands the list's items on as ADDED, as an informer does.
import type { CoreV1Api, CustomObjectsApi, KubeConfig, V1Service } from '@kubernetes/client-node';
import { setHeaderOptions, Watch } from '../src/kube/client-node.js';

export interface WatchPage<T> {
  readonly items: readonly T[];
  readonly resourceVersion: string;
}

/** What it needs from the API: client-node's list and Watch in the benches, fakes in tests. */
export interface WatchSource<T> {
  list(): Promise<WatchPage<T>>;
  /** Opens one watch from `resourceVersion`; `onDone` is called once when it ends, with the error if any. */
  watch(resourceVersion: string, onEvent: (type: string, obj: unknown) => void, onDone: (err?: unknown) => void): Promise<{ abort(): void }>;
}

/**
 * A namespace's Services through client-node's list and Watch. `timeoutSeconds` asks the
 * server to end each watch that soon, cleanly, as kube-apiserver does at its own
 * timeout: the tests use it to end watches mid-run.
 */
export function serviceWatchSource(kc: KubeConfig, core: CoreV1Api, namespace: string, opts: { timeoutSeconds?: number } = {}): WatchSource<V1Service> {
  const watch = new Watch(kc);
  return {
    list: async () => {
      // Plain, as the custom objects' list below: 2000 Services' gzip answer from kube-apiserver failed the same way.
      const list = await core.listNamespacedService({ namespace }, uncompressed);
      return { items: list.items, resourceVersion: list.metadata?.resourceVersion ?? '' };
    },
    watch: (resourceVersion, onEvent, onDone) =>
      watch.watch(`/api/v1/namespaces/${namespace}/services`, { resourceVersion, allowWatchBookmarks: true, timeoutSeconds: opts.timeoutSeconds }, onEvent, onDone),
  };
}

export interface ResumableWatchOptions {
  /** Wait before reopening a watch that ended; doubled on each failure in a row up to 5 s. Default 200 ms. */
  readonly reopenMs?: number;
  readonly log?: (line: string) => void;
}

type Versioned = { metadata?: { resourceVersion?: string } };

const isGone = (err: unknown): boolean => {
  const e = err as { code?: unknown; statusCode?: unknown } | undefined;
  return e?.code === 410 || e?.statusCode === 410;
};

const describeFailure = (err: unknown): string =>
  err instanceof Error ? err.message : typeof err === 'object' ? JSON.stringify(err) : String(err);

export class ResumableWatch<T extends Versioned> {
  /** Watches opened after the first one, and relists after a 410. */
  reopened = 0;
  relists = 0;
  private rv = '';
  private stopped = false;
  private handle: { abort(): void } | undefined;
  private reopenTimer: NodeJS.Timeout | undefined;
  private failures = 0;
  private readonly log: (line: string) => void;

  private constructor(
    private readonly source: WatchSource<T>,
    private readonly onEvent: (type: string, obj: T) => void,
    private readonly opts: ResumableWatchOptions,
  ) {
    this.log = opts.log ?? ((line) => console.warn(line));
  }

  /** Lists (handing the items on as ADDED), then watches from the list. */
  static async start<T extends Versioned>(source: WatchSource<T>, onEvent: (type: string, obj: T) => void, opts: ResumableWatchOptions = {}): Promise<ResumableWatch<T>> {
    const w = new ResumableWatch(source, onEvent, opts);
    await w.relist();
    await w.open();
    return w;
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.reopenTimer);
    this.handle?.abort();
  }

  private async relist(): Promise<void> {
    const page = await this.source.list();
    for (const item of page.items) this.onEvent('ADDED', item);
    this.rv = page.resourceVersion;
  }

  private async open(): Promise<void> {
    let expired = false;
    const onEvent = (type: string, raw: unknown): void => {
      if (type === 'ERROR') {
        // A 410 arrives as an ERROR event on an open watch; the stream then ends.
        if (isGone(raw)) expired = true;
        else this.log(`    watch: ERROR event ${describeFailure(raw)}`);
        return;
      }
      const obj = raw as T;
      if (obj.metadata?.resourceVersion) this.rv = obj.metadata.resourceVersion;
      if (type !== 'BOOKMARK') this.onEvent(type, obj);
      this.failures = 0;
    };
    const onDone = (err?: unknown): void => {
      if (this.stopped) return;
      if (err && !isGone(err)) this.log(`    watch ended: ${describeFailure(err)}; reopening from ${this.rv}`);
      this.scheduleReopen(expired || isGone(err), Boolean(err));
    };
    try {
      this.handle = await this.source.watch(this.rv, onEvent, onDone);
      if (this.stopped) this.handle.abort();
    } catch (err) {
      if (this.stopped) return;
      this.log(`    watch could not be opened: ${describeFailure(err)}; retrying`);
      this.scheduleReopen(isGone(err), true);
    }
  }

  private scheduleReopen(relist: boolean, failed: boolean): void {
    if (failed) this.failures++;
    const wait = Math.min(5000, (this.opts.reopenMs ?? 200) * 2 ** Math.max(0, this.failures - 1));
    clearTimeout(this.reopenTimer);
    this.reopenTimer = setTimeout(() => {
      if (this.stopped) return;
      const ready = relist ? this.relist().then(() => void this.relists++) : Promise.resolve();
      ready.then(
        () => {
          this.reopened++;
          return this.open();
        },
        (err: unknown) => {
          this.log(`    watch: relist failed: ${describeFailure(err)}; retrying`);
          this.scheduleReopen(true, true);
        },
      );
    }, wait);
  }
}

/**
 * Asks for a plain answer. Reading a real server's gzip answer of 1000 HTTPRoutes, node-fetch 2
 * (client-node's) failed with 'Premature close' from its Gunzip stream after the request had
 * returned, as an unhandled rejection no retry could catch (node-fetch/node-fetch#1767, #1782).
 */
export const uncompressed = setHeaderOptions('Accept-Encoding', 'identity');

/** A namespace's objects of one custom resource through client-node's list and Watch. */
export function customObjectWatchSource<T>(kc: KubeConfig, custom: CustomObjectsApi, r: { group: string; version: string; plural: string }, namespace: string): WatchSource<T> {
  const watch = new Watch(kc);
  return {
    list: async () => {
      const list = (await custom.listNamespacedCustomObject({ ...r, namespace }, uncompressed)) as { items: T[]; metadata?: { resourceVersion?: string } };
      return { items: list.items, resourceVersion: list.metadata?.resourceVersion ?? '' };
    },
    watch: (resourceVersion, onEvent, onDone) =>
      watch.watch(`/apis/${r.group}/${r.version}/namespaces/${namespace}/${r.plural}`, { resourceVersion, allowWatchBookmarks: true }, onEvent, onDone),
  };
}

