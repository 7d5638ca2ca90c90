// Contract: watch streams — event order and resourceVersions, resume, selectors,
// all-namespaces watches, bookmarks, timeouts and 410 Expired.
import { describe, expect, it } from 'vitest';
import {
  corePath,
  eventually,
  expectOk,
  rawWatch,
  uniqueName,
  useContractCluster,
  watch,
  type Json,
  type WatchEvent,
} from './support.js';

const ctx = useContractCluster('watch');

const cmPath = () => corePath(ctx.ns, 'configmaps');

async function listRV(path = cmPath()): Promise<string> {
  const list = expectOk(await ctx.raw('GET', path));
  return list.metadata.resourceVersion as string;
}

async function createCM(name: string, labels: Record<string, string> = {}, ns = ctx.ns): Promise<Json> {
  return expectOk(
    await ctx.raw('POST', corePath(ns, 'configmaps'), { body: { metadata: { name, labels }, data: { v: '0' } } }),
    201,
  );
}

async function patchCM(name: string, body: Json, ns = ctx.ns): Promise<Json> {
  return expectOk(
    await ctx.raw('PATCH', corePath(ns, 'configmaps', name), { body, contentType: 'application/merge-patch+json' }),
    200,
  );
}

const summary = (e: WatchEvent) => [e.type, e.object?.metadata?.name, e.object?.metadata?.resourceVersion];

describe('watch', () => {
  it('delivers ADDED, MODIFIED, DELETED in order with the resourceVersions of the writes', async () => {
    const rv0 = await listRV();
    const w = await watch(ctx.kc, cmPath(), { resourceVersion: rv0, fieldSelector: 'metadata.name=life' });
    try {
      const created = await createCM('life');
      const modified = await patchCM('life', { data: { v: '1' } });
      expectOk(await ctx.raw('DELETE', corePath(ctx.ns, 'configmaps', 'life')));

      const added = await w.q.next();
      expect(added.type).toBe('ADDED');
      expect(added.object.kind).toBe('ConfigMap');
      expect(added.object.apiVersion).toBe('v1');
      expect(added.object.metadata.uid).toBe(created.metadata.uid);
      expect(added.object.metadata.resourceVersion).toBe(created.metadata.resourceVersion);
      expect(added.object.data).toEqual({ v: '0' });

      const mod = await w.q.next();
      expect(mod.type).toBe('MODIFIED');
      expect(mod.object.metadata.resourceVersion).toBe(modified.metadata.resourceVersion);
      expect(mod.object.data).toEqual({ v: '1' });

      const del = await w.q.next();
      expect(del.type).toBe('DELETED');
      expect(del.object.metadata.name).toBe('life');
      expect(del.object.metadata.uid).toBe(created.metadata.uid);
      // The DELETED event carries the last state under the deletion's own resourceVersion.
      expect(del.object.data).toEqual({ v: '1' });
      expect(del.object.metadata.resourceVersion).toMatch(/^\d+$/);
      expect(del.object.metadata.resourceVersion).not.toBe(modified.metadata.resourceVersion);

      // Resuming after the DELETED event replays nothing.
      const after = await rawWatch(ctx.kc, cmPath(), {
        resourceVersion: del.object.metadata.resourceVersion,
        fieldSelector: 'metadata.name=life',
        timeoutSeconds: 1,
      });
      await after.q.waitEnd(5000);
      expect(after.q.events).toEqual([]);
    } finally {
      w.stop();
    }
  });

  it('resuming from a resourceVersion delivers exactly the later events', async () => {
    const rv0 = await listRV();
    const writes: Json[] = [await createCM('resume')];
    for (let i = 1; i <= 4; i++) writes.push(await patchCM('resume', { data: { v: String(i) } }));
    const rvs = writes.map((o) => o.metadata.resourceVersion as string);

    const all = await rawWatch(ctx.kc, cmPath(), { resourceVersion: rv0, fieldSelector: 'metadata.name=resume' });
    const fromMid = await rawWatch(ctx.kc, cmPath(), { resourceVersion: rvs[1], fieldSelector: 'metadata.name=resume' });
    try {
      const got: WatchEvent[] = [];
      for (let i = 0; i < 5; i++) got.push(await all.q.next());
      expect(got.map(summary)).toEqual([
        ['ADDED', 'resume', rvs[0]],
        ['MODIFIED', 'resume', rvs[1]],
        ['MODIFIED', 'resume', rvs[2]],
        ['MODIFIED', 'resume', rvs[3]],
        ['MODIFIED', 'resume', rvs[4]],
      ]);

      const mid: WatchEvent[] = [];
      for (let i = 0; i < 3; i++) mid.push(await fromMid.q.next());
      expect(mid.map(summary)).toEqual([
        ['MODIFIED', 'resume', rvs[2]],
        ['MODIFIED', 'resume', rvs[3]],
        ['MODIFIED', 'resume', rvs[4]],
      ]);
      // Nothing repeated after a further change: the next event is that change.
      const next = await patchCM('resume', { data: { v: 'last' } });
      expect(summary(await fromMid.q.next())).toEqual(['MODIFIED', 'resume', next.metadata.resourceVersion]);
      expect(summary(await all.q.next())).toEqual(['MODIFIED', 'resume', next.metadata.resourceVersion]);
    } finally {
      all.stop();
      fromMid.stop();
    }
  });

  it('a watch from a list resourceVersion sends no events for existing objects, only later changes', async () => {
    await createCM('pre-existing', { grp: 'from-list' });
    const list = expectOk(await ctx.raw('GET', cmPath(), { query: { labelSelector: 'grp=from-list' } }));
    expect(list.items).toHaveLength(1);
    const w = await watch(ctx.kc, cmPath(), {
      resourceVersion: list.metadata.resourceVersion,
      labelSelector: 'grp=from-list',
    });
    try {
      const created = await createCM('post-list', { grp: 'from-list' });
      const e = await w.q.next();
      expect(summary(e)).toEqual(['ADDED', 'post-list', created.metadata.resourceVersion]);
      expect(w.q.pending()).toEqual([]);
    } finally {
      w.stop();
    }
  });

  it('a watch without resourceVersion starts with ADDED events for the existing objects', async () => {
    await createCM('exist-1', { grp: 'no-rv' });
    await createCM('exist-2', { grp: 'no-rv' });
    const w = await watch(ctx.kc, cmPath(), { labelSelector: 'grp=no-rv' });
    try {
      const first = [await w.q.next(), await w.q.next()];
      expect(first.map((e) => e.type)).toEqual(['ADDED', 'ADDED']);
      expect(first.map((e) => e.object.metadata.name).sort()).toEqual(['exist-1', 'exist-2']);
      const mod = await patchCM('exist-1', { data: { v: 'x' } });
      expect(summary(await w.q.next())).toEqual(['MODIFIED', 'exist-1', mod.metadata.resourceVersion]);
    } finally {
      w.stop();
    }
  });

  it('a label-selector watch sees objects enter (ADDED) and leave (DELETED) the selection', async () => {
    const rv0 = await listRV();
    const w = await watch(ctx.kc, cmPath(), { resourceVersion: rv0, labelSelector: 'sel=yes' });
    try {
      await createCM('flip', { sel: 'no' });
      const enter = await patchCM('flip', { metadata: { labels: { sel: 'yes' } } });
      const change = await patchCM('flip', { data: { v: 'in' } });
      const leave = await patchCM('flip', { metadata: { labels: { sel: 'no' } } });
      await patchCM('flip', { data: { v: 'outside' } });
      const back = await patchCM('flip', { metadata: { labels: { sel: 'yes' } } });
      expectOk(await ctx.raw('DELETE', corePath(ctx.ns, 'configmaps', 'flip')));

      const e1 = await w.q.next();
      expect(summary(e1)).toEqual(['ADDED', 'flip', enter.metadata.resourceVersion]);
      const e2 = await w.q.next();
      expect(summary(e2)).toEqual(['MODIFIED', 'flip', change.metadata.resourceVersion]);
      const e3 = await w.q.next();
      // Leaving the selection is a DELETED event at the write's resourceVersion; the object is the
      // last state that still matched.
      expect(summary(e3)).toEqual(['DELETED', 'flip', leave.metadata.resourceVersion]);
      expect(e3.object.metadata.labels).toEqual({ sel: 'yes' });
      expect(e3.object.data).toEqual({ v: 'in' });
      const e4 = await w.q.next();
      expect(summary(e4)).toEqual(['ADDED', 'flip', back.metadata.resourceVersion]);
      expect(e4.object.data).toEqual({ v: 'outside' });
      const e5 = await w.q.next();
      expect(e5.type).toBe('DELETED');
      expect(e5.object.metadata.name).toBe('flip');
    } finally {
      w.stop();
    }
  });

  it('an all-namespaces watch delivers events from every namespace', async () => {
    const other = uniqueName('lbc-ct-watch-other');
    await ctx.core.createNamespace({ body: { metadata: { name: other } } });
    ctx.defer(() => ctx.core.deleteNamespace({ name: other }));
    const label = uniqueName('allns');
    const rv0 = await listRV('/api/v1/configmaps');
    const w = await watch(ctx.kc, '/api/v1/configmaps', { resourceVersion: rv0, labelSelector: `allns=${label}` });
    try {
      const a = await createCM('everywhere', { allns: label }, ctx.ns);
      const b = await createCM('everywhere', { allns: label }, other);
      const got = [await w.q.next(), await w.q.next()];
      expect(got.map((e) => [e.type, e.object.metadata.namespace, e.object.metadata.resourceVersion])).toEqual([
        ['ADDED', ctx.ns, a.metadata.resourceVersion],
        ['ADDED', other, b.metadata.resourceVersion],
      ]);
    } finally {
      w.stop();
    }
  });

  it('allowWatchBookmarks: a BOOKMARK carries only a resourceVersion, before the timeout ends the stream', async () => {
    const rv0 = await listRV();
    const started = Date.now();
    const withBm = await rawWatch(ctx.kc, cmPath(), {
      resourceVersion: rv0,
      allowWatchBookmarks: true,
      timeoutSeconds: 5,
    });
    const without = await rawWatch(ctx.kc, cmPath(), { resourceVersion: rv0, timeoutSeconds: 5 });
    expect(withBm.status).toBe(200);
    expect(withBm.headers['content-type']).toMatch(/^application\/json/);
    const created = await createCM('bookmarked');

    await withBm.q.waitEnd(10_000);
    await without.q.waitEnd(10_000);
    // timeoutSeconds closes the stream cleanly, with no ERROR event, roughly on time.
    expect(withBm.q.endedAt - started).toBeGreaterThanOrEqual(4000);
    expect(withBm.q.endedAt - started).toBeLessThan(9000);
    expect(withBm.q.error).toBeUndefined();

    const events = withBm.q.events;
    expect(events.map((e) => e.type)).not.toContain('ERROR');
    const addedAt = events.findIndex((e) => e.type === 'ADDED' && e.object.metadata.name === 'bookmarked');
    expect(addedAt).toBeGreaterThanOrEqual(0);
    expect(events[addedAt]?.object.metadata.resourceVersion).toBe(created.metadata.resourceVersion);
    const bookmarks = events.filter((e) => e.type === 'BOOKMARK');
    expect(bookmarks.length).toBeGreaterThanOrEqual(1);
    expect(events.findIndex((e) => e.type === 'BOOKMARK')).toBeGreaterThan(addedAt);
    for (const bm of bookmarks) {
      expect(bm.object.kind).toBe('ConfigMap');
      expect(bm.object.apiVersion).toBe('v1');
      expect(Object.keys(bm.object).sort()).toEqual(['apiVersion', 'kind', 'metadata']);
      expect(bm.object.metadata.resourceVersion).toMatch(/^\d+$/);
      for (const k of Object.keys(bm.object.metadata)) expect(['resourceVersion', 'creationTimestamp']).toContain(k);
      expect(bm.object.metadata.creationTimestamp ?? null).toBeNull();
    }
    // Without allowWatchBookmarks there are none.
    expect(without.q.events.map((e) => e.type)).toEqual(['ADDED']);

    // Resuming from the bookmark's resourceVersion does not replay the ADDED event.
    const last = bookmarks[bookmarks.length - 1] as WatchEvent;
    const resumed = await rawWatch(ctx.kc, cmPath(), {
      resourceVersion: last.object.metadata.resourceVersion,
      timeoutSeconds: 1,
    });
    await resumed.q.waitEnd(5000);
    expect(resumed.q.events.filter((e) => e.object?.metadata?.name === 'bookmarked')).toEqual([]);
  });

  it('410 Expired: a watch from a resourceVersion older than the server keeps is an ERROR event on a 200 stream', async () => {
    // Forcing the condition differs: devcluster shrinks its window; a real server keeps every event
    // of a resource since its watch cache started, so the test watches a brand-new resource type
    // (a CRD, whose cache starts now) from resourceVersion 1.
    let path: string;
    let oldRV: string;
    if (ctx.kind === 'devcluster') {
      const dev = ctx.cluster.dev;
      if (!dev) throw new Error('devcluster handle missing');
      path = cmPath();
      oldRV = await listRV();
      dev.setWatchWindow(3);
      for (let i = 0; i < 8; i++) await createCM(`expire-${i}`);
    } else {
      const group = `${uniqueName('ct').replace('-', '')}.lbc.test`;
      const crd = `widgets.${group}`;
      ctx.defer(() => ctx.raw('DELETE', `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd}`));
      expectOk(
        await ctx.raw('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', {
          body: {
            metadata: { name: crd },
            spec: {
              group,
              scope: 'Namespaced',
              names: { plural: 'widgets', singular: 'widget', kind: 'Widget', listKind: 'WidgetList' },
              versions: [
                {
                  name: 'v1',
                  served: true,
                  storage: true,
                  schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
                },
              ],
            },
          },
        }),
        201,
      );
      path = `/apis/${group}/v1/namespaces/${ctx.ns}/widgets`;
      await eventually(async () => expectOk(await ctx.raw('GET', path)), 15_000);
      // A current resourceVersion is served normally, so the 410 below is about age alone.
      const fresh = await rawWatch(ctx.kc, path, { resourceVersion: await listRV(path), timeoutSeconds: 1 });
      expect(fresh.status).toBe(200);
      await fresh.q.waitEnd(5000);
      expect(fresh.q.events).toEqual([]);
      oldRV = '1';
    }

    const w = await rawWatch(ctx.kc, path, { resourceVersion: oldRV });
    try {
      expect(w.status).toBe(200);
      expect(w.headers['content-type']).toMatch(/^application\/json/);
      const e = await w.q.next(5000);
      expect(e.type).toBe('ERROR');
      expect(e.object).toMatchObject({
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        reason: 'Expired',
        code: 410,
      });
      expect(e.object.message).toMatch(/too old resource version/);
      // The server closes the stream after the ERROR event.
      await w.q.waitEnd(5000);
      expect(w.q.events).toHaveLength(1);
    } finally {
      w.stop();
    }

    // The client library reports it as an ERROR callback followed by the end of the watch.
    const viaClient = await watch(ctx.kc, path, { resourceVersion: oldRV });
    const ce = await viaClient.q.next(5000);
    expect(ce.type).toBe('ERROR');
    expect(ce.object).toMatchObject({ kind: 'Status', code: 410, reason: 'Expired' });
    await viaClient.q.waitEnd(5000);
    viaClient.stop();
    ctx.cluster.dev?.setWatchWindow(10_000);
  });
});
