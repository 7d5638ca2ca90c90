// The informer against a real API server (or devcluster): list, watch, reconnect,
// and relist after the server expires the watch's resourceVersion.
import { ApiextensionsV1Api, CustomObjectsApi, PatchStrategy, Watch, setHeaderOptions } from '@kubernetes/client-node';
import type { V1Service } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestCluster, uniqueName } from '../support/cluster.js';
import type { TestCluster } from '../support/cluster.js';
import type { KubeObject } from '../../src/kube/cache.js';
import { makeClients } from '../../src/kube/client.js';
import type { KubeClients } from '../../src/kube/client.js';
import { SERVICE_BY_NODE_PORT, serviceIndexers } from '../../src/kube/indexes.js';
import { Informer, kubeWatch, newInformer } from '../../src/kube/informer.js';
import type { WatchFn, WatchHandle } from '../../src/kube/informer.js';
import { Services } from '../../src/kube/resources.js';
import type { ListFn } from '../../src/kube/resources.js';

const quiet = { warn: () => {}, debug: () => {} };
const WAIT = { timeout: 15_000, interval: 20 };

let cluster: TestCluster;
let clients: KubeClients;
let ns: string;
const informers: Informer<KubeObject>[] = [];

beforeAll(async () => {
  cluster = await startTestCluster();
  clients = makeClients(cluster.kc);
  ns = uniqueName('lbc-kube-inf');
  await clients.core.createNamespace({ body: { metadata: { name: ns } } });
});

afterAll(async () => {
  await Promise.all(informers.splice(0).map((i) => i.stop()));
  await clients?.core.deleteNamespace({ name: ns }).catch(() => {});
  await cluster?.stop();
});

function track<T extends KubeObject>(inf: Informer<T>): string[] {
  informers.push(inf as unknown as Informer<KubeObject>);
  const seen: string[] = [];
  inf.onAdd((o) => seen.push(`add ${o.metadata?.name}`));
  inf.onUpdate((_a, b) => seen.push(`update ${b.metadata?.name}`));
  inf.onDelete((o) => seen.push(`delete ${o.metadata?.name}`));
  return seen;
}

/** Wraps a WatchFn so the test can cut the open stream and hold reconnects back. */
class ControlledWatch {
  readonly handles: WatchHandle[] = [];
  attempts = 0;
  failNext = 0;
  private held: Promise<void> | undefined;
  private releaseHeld: (() => void) | undefined;
  constructor(private readonly inner: WatchFn) {}

  readonly fn: WatchFn = async (path, query, onEvent, onDone) => {
    this.attempts++;
    if (this.held) await this.held;
    if (this.failNext > 0) {
      this.failNext--;
      throw Object.assign(new Error('injected: connection refused'), { code: 'ECONNREFUSED' });
    }
    const h = await this.inner(path, query, onEvent, onDone);
    this.handles.push(h);
    return h;
  };

  cut(): void {
    this.handles.at(-1)?.abort();
  }

  hold(): void {
    this.held = new Promise((resolve) => {
      this.releaseHeld = () => {
        this.held = undefined;
        resolve();
      };
    });
  }

  release(): void {
    this.releaseHeld?.();
  }
}

const headless = (name: string, labels: Record<string, string> = {}): V1Service => ({
  metadata: { name, labels },
  spec: { clusterIP: 'None', ports: [{ port: 80 }] },
});

describe('Informer on a cluster', () => {
  it('lists page by page, then sees add, update and delete in order; indexes follow', async () => {
    for (const n of ['pre-1', 'pre-2', 'pre-3', 'pre-4', 'pre-5']) {
      await clients.core.createNamespacedService({ namespace: ns, body: headless(n) });
    }
    // The pages the informer asks for, by their continue token and resourceVersion, over lbc's own connection.
    const pages: (string | undefined)[] = [];
    const versions: (string | undefined)[] = [];
    const api = clients.api!;
    const request = api.request.bind(api);
    const listing = Object.assign(Object.create(api) as typeof api, {
      request: (method: string, path: string, opts?: Parameters<typeof api.request>[2]) => {
        if (method === 'GET' && path.startsWith(`/api/v1/namespaces/${ns}/services`)) {
          const q = new URL(path, 'https://x').searchParams;
          pages.push(q.get('continue') ?? undefined);
          versions.push(q.get('resourceVersion') ?? undefined);
        }
        return request(method, path, opts);
      },
    });
    const inf = newInformer({ ...clients, api: listing }, Services, { namespace: ns, pageSize: 2, indexers: serviceIndexers, logger: quiet });
    const seen = track(inf);
    inf.start();
    await inf.waitForSync(AbortSignal.timeout(10_000));
    // The first list at resourceVersion 0, as client-go's reflector asks it: kube-apiserver
    // answers it from its watch cache in one page whatever the limit (1.26's cacher), a
    // server without one (devcluster) in pages, each after the first by its token alone.
    expect(pages[0]).toBeUndefined();
    expect(versions[0]).toBe('0');
    expect(pages.length === 1 || pages.length === 3).toBe(true);
    expect(pages.slice(1).every((p) => !!p)).toBe(true);
    expect(versions.slice(1)).toEqual(pages.slice(1).map(() => undefined));
    expect(seen.sort()).toEqual(['add pre-1', 'add pre-2', 'add pre-3', 'add pre-4', 'add pre-5']);
    seen.length = 0;

    const created = await clients.core.createNamespacedService({
      namespace: ns,
      body: { metadata: { name: 'live' }, spec: { type: 'NodePort', ports: [{ port: 80 }] } },
    });
    const nodePort = String(created.spec?.ports?.[0]?.nodePort);
    await clients.core.patchNamespacedService(
      { name: 'live', namespace: ns, body: { metadata: { labels: { step: 'two' } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    await vi.waitFor(() => expect(inf.cache.get(`${ns}/live`)?.metadata?.labels?.step).toBe('two'), WAIT);
    expect(inf.cache.byIndex(SERVICE_BY_NODE_PORT, nodePort).map((s) => s.metadata?.name)).toEqual(['live']);
    // Objects from the list and from the watch look alike: kind stamped, timestamps the server's RFC 3339.
    for (const key of [`${ns}/pre-1`, `${ns}/live`]) {
      const o = inf.cache.get(key)!;
      expect(o.kind).toBe('Service');
      expect(o.metadata?.creationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    }
    await clients.core.deleteNamespacedService({ name: 'live', namespace: ns });
    await vi.waitFor(() => expect(seen).toEqual(['add live', 'update live', 'delete live']), WAIT);
    expect(inf.cache.byIndex(SERVICE_BY_NODE_PORT, nodePort)).toEqual([]);
    expect(inf.stats()).toMatchObject({ lists: 1, errors: 0, expired: 0 });
  });

  it('without a connection of its own (a cluster behind a proxy), lists through client-node and decodes watch objects to the same models', async () => {
    await clients.core.createNamespacedService({ namespace: ns, body: headless('typed-1', { suite: 'typed' }) });
    const inf = newInformer({ ...clients, api: undefined }, Services, { namespace: ns, labelSelector: 'suite=typed', logger: quiet });
    track(inf);
    inf.start();
    await inf.waitForSync(AbortSignal.timeout(10_000));
    await clients.core.createNamespacedService({ namespace: ns, body: headless('typed-2', { suite: 'typed' }) });
    await vi.waitFor(() => expect(inf.cache.get(`${ns}/typed-2`)).toBeDefined(), WAIT);
    // typed-1 came from the list, typed-2 from the watch.
    for (const key of [`${ns}/typed-1`, `${ns}/typed-2`]) {
      const o = inf.cache.get(key)!;
      expect(o.kind).toBe('Service');
      expect(o.metadata?.creationTimestamp).toBeInstanceOf(Date);
    }
  });

  it('reconnects from the last resourceVersion after the stream is cut or the watch fails, without relisting', async () => {
    const cw = new ControlledWatch(kubeWatch(cluster.kc));
    const inf = newInformer(clients, Services, {
      namespace: ns,
      labelSelector: 'suite=reconnect',
      watch: cw.fn,
      backoff: { baseMs: 10, maxMs: 50 },
      logger: quiet,
    });
    const seen = track(inf);
    inf.start();
    await inf.waitForSync(AbortSignal.timeout(10_000));
    await vi.waitFor(() => expect(cw.handles).toHaveLength(1), WAIT);

    cw.failNext = 2;
    cw.cut();
    await clients.core.createNamespacedService({ namespace: ns, body: headless('rc-1', { suite: 'reconnect' }) });
    await vi.waitFor(() => expect(seen).toEqual(['add rc-1']), WAIT);
    expect(cw.attempts).toBeGreaterThanOrEqual(4);
    cw.cut();
    await clients.core.deleteNamespacedService({ name: 'rc-1', namespace: ns });
    await vi.waitFor(() => expect(seen).toEqual(['add rc-1', 'delete rc-1']), WAIT);
    expect(inf.stats().lists).toBe(1);
    expect(inf.stats().errors).toBeGreaterThanOrEqual(3);
  });

  it('relists when the server expires the watch resourceVersion (410), reconciling what it missed', async () => {
    const target = cluster.dev ? await devclusterTarget() : await crdTarget();
    try {
      const cw = new ControlledWatch(kubeWatch(cluster.kc));
      const inf = new Informer<KubeObject>({
        list: target.list,
        path: target.path,
        namespace: ns,
        labelSelector: 'suite=expire',
        watch: cw.fn,
        backoff: { baseMs: 10, maxMs: 50 },
        logger: quiet,
      });
      const seen = track(inf);
      for (const n of ['keep', 'change', 'gone']) await target.create(n);
      inf.start();
      await inf.waitForSync(AbortSignal.timeout(10_000));
      await vi.waitFor(() => expect(cw.handles).toHaveLength(1), WAIT);
      expect(seen.sort()).toEqual(['add change', 'add gone', 'add keep']);
      seen.length = 0;

      // The watch drops and cannot come back before the server has forgotten its RV.
      cw.hold();
      cw.cut();
      await vi.waitFor(() => expect(cw.attempts).toBe(2), WAIT);
      const staleRV = inf.lastResourceVersion();
      await target.remove('gone');
      await target.touch('change');
      await target.expire(staleRV);
      cw.release();

      await vi.waitFor(() => expect(inf.stats().expired).toBe(1), WAIT);
      await vi.waitFor(() => expect(seen).toEqual(['delete gone', 'update change']), WAIT);
      expect(inf.stats().lists).toBe(2);
      await target.restore();
      await target.create('after');
      await vi.waitFor(() => expect(seen).toEqual(['delete gone', 'update change', 'add after']), WAIT);
    } finally {
      await target.cleanup();
    }
  });

  it('relists periodically without repeating notifications for unchanged objects', async () => {
    await clients.core.createNamespacedService({ namespace: ns, body: headless('periodic', { suite: 'periodic' }) });
    const inf = newInformer(clients, Services, { namespace: ns, labelSelector: 'suite=periodic', relistPeriodMs: 300, logger: quiet });
    const seen = track(inf);
    inf.start();
    await vi.waitFor(() => expect(inf.stats().lists).toBeGreaterThanOrEqual(3), WAIT);
    expect(seen).toEqual(['add periodic']);
  });
});

interface ExpiryTarget {
  path: string;
  list: ListFn<KubeObject>;
  create(name: string): Promise<void>;
  remove(name: string): Promise<void>;
  touch(name: string): Promise<void>;
  /** Makes the server answer a watch from `rv` with 410. */
  expire(rv: string): Promise<void>;
  /** Lets watches resume normally again. */
  restore(): Promise<void>;
  cleanup(): Promise<void>;
}

// On devcluster the retained watch window is a knob.
async function devclusterTarget(): Promise<ExpiryTarget> {
  const dev = cluster.dev!;
  return {
    path: Services.path,
    list: Services.list(clients) as ListFn<KubeObject>,
    create: async (name) => {
      await clients.core.createNamespacedService({ namespace: ns, body: headless(name, { suite: 'expire' }) });
    },
    remove: async (name) => {
      await clients.core.deleteNamespacedService({ name: name, namespace: ns });
    },
    touch: async (name) => {
      await clients.core.patchNamespacedService(
        { name: name, namespace: ns, body: { metadata: { annotations: { touched: 'yes' } } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
    },
    expire: async () => dev.setWatchWindow(0),
    restore: async () => dev.setWatchWindow(1000),
    cleanup: async () => dev.setWatchWindow(1000),
  };
}

// A real kube-apiserver keeps a watch cache per resource; a watch from an RV older
// than the cache's start gets `ERROR 410 Expired`. Built-in types' caches start with
// the server, but a CRD's cache is rebuilt (starting at the current RV) whenever the
// CRD's spec changes, so changing the CRD makes any earlier RV expire.
async function crdTarget(): Promise<ExpiryTarget> {
  const ext = cluster.kc.makeApiClient(ApiextensionsV1Api);
  const custom = cluster.kc.makeApiClient(CustomObjectsApi);
  const group = `${ns}.lbc.test`;
  const crdName = `things.${group}`;
  await ext.createCustomResourceDefinition({
    body: {
      metadata: { name: crdName },
      spec: {
        group,
        scope: 'Namespaced',
        names: { plural: 'things', singular: 'thing', kind: 'Thing' },
        versions: [
          // The typed serializer knows this field only as x_kubernetes_preserve_unknown_fields and
          // silently drops the JSON spelling.
          { name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', x_kubernetes_preserve_unknown_fields: true } } },
        ],
      },
    },
  });
  await vi.waitFor(async () => {
    const crd = await ext.readCustomResourceDefinition({ name: crdName });
    expect(crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')).toBe(true);
    await custom.listNamespacedCustomObject({ group, version: 'v1', namespace: ns, plural: 'things' });
  }, WAIT);
  const base = { group, version: 'v1', namespace: ns, plural: 'things' };
  return {
    path: `/apis/${group}/v1/things`,
    list: async (req) => {
      const r = (await custom.listNamespacedCustomObject({ ...base, labelSelector: req.labelSelector, limit: req.limit, _continue: req._continue })) as {
        metadata?: { resourceVersion?: string; continue?: string };
        items: KubeObject[];
      };
      return { metadata: { resourceVersion: r.metadata?.resourceVersion, _continue: r.metadata?.continue }, items: r.items };
    },
    create: async (name) => {
      await custom.createNamespacedCustomObject({
        ...base,
        body: { apiVersion: `${group}/v1`, kind: 'Thing', metadata: { name, labels: { suite: 'expire' } } },
      });
    },
    remove: async (name) => {
      await custom.deleteNamespacedCustomObject({ ...base, name });
    },
    touch: async (name) => {
      await custom.patchNamespacedCustomObject(
        { ...base, name, body: { spec: { touched: true } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
    },
    expire: async (rv) => {
      await ext.patchCustomResourceDefinition(
        {
          name: crdName,
          body: [
            { op: 'add', path: '/spec/versions/0/additionalPrinterColumns', value: [{ name: 'Touched', type: 'string', jsonPath: '.spec.touched' }] },
          ],
        },
        setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
      );
      // The CRD's storage is swapped asynchronously; wait until a watch from `rv` is refused.
      await vi.waitFor(async () => expect(await watchAnswer(`/apis/${group}/v1/namespaces/${ns}/things`, rv)).toBe(410), WAIT);
    },
    restore: async () => {},
    cleanup: async () => {
      await ext.deleteCustomResourceDefinition({ name: crdName }).catch(() => {});
    },
  };
}

/** The status code of the ERROR event (or HTTP error) a watch from `rv` gets, or 200. */
async function watchAnswer(path: string, rv: string): Promise<number> {
  return new Promise((resolve) => {
    let handle: AbortController | undefined;
    let answered = false;
    const answer = (code: number): void => {
      if (answered) return;
      answered = true;
      handle?.abort();
      resolve(code);
    };
    void new Watch(cluster.kc)
      .watch(
        path,
        { resourceVersion: rv, timeoutSeconds: 1 },
        (type, obj: { code?: number }) => answer(type === 'ERROR' ? (obj.code ?? 500) : 200),
        (err: { statusCode?: number } | null) => answer(err?.statusCode ?? 200),
      )
      .then((h) => {
        handle = h;
        if (answered) h.abort();
      });
  });
}
