// Watches that break: cut mid-stream (resume from the last resourceVersion) and
// expired (410: relist). Whatever changed while no watch was open is reconciled, and
// nothing is done twice.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubeWatch, type WatchFn, type WatchHandle } from '../../src/kube/informer.js';
import { E2E, eventually, hasOurFinalizer } from './harness.js';

/** Wraps the real watch so a test can cut every open stream, hold reconnects, and answer the next ones with 410. */
class WatchControl {
  private readonly open = new Set<{ cut(): void }>();
  private held: Promise<void> | undefined;
  private release: (() => void) | undefined;
  private readonly expire = new Set<string>();
  expired = 0;
  inner: WatchFn | undefined;

  readonly fn: WatchFn = async (path, query, onEvent, onDone) => {
    if (this.held) await this.held;
    if (!this.inner) throw new Error('WatchControl.inner not set');
    if (this.expire.delete(path)) {
      this.expired++;
      setImmediate(() => onDone(Object.assign(new Error('Gone: too old resource version'), { statusCode: 410 })));
      return { abort: () => {} };
    }
    let finished = false;
    const finish = (err?: unknown): void => {
      if (finished) return;
      finished = true;
      this.open.delete(entry);
      onDone(err);
    };
    const handle: WatchHandle = await this.inner(path, query, onEvent, finish);
    const entry = {
      cut: () => {
        finish(new Error('connection reset (cut by the test)'));
        handle.abort();
      },
    };
    this.open.add(entry);
    return { abort: () => handle.abort() };
  };

  /** Cuts every open watch and holds the reconnects until resume(). */
  cutAndHold(): void {
    this.held = new Promise((r) => (this.release = r));
    for (const w of [...this.open]) w.cut();
  }

  /** Lets reconnects through; with expire, the first reconnect of each of these paths gets 410. */
  resume(expirePaths: readonly string[] = []): void {
    for (const p of expirePaths) this.expire.add(p);
    this.held = undefined;
    this.release?.();
  }
}

const control = new WatchControl();
let e: E2E;

beforeAll(async () => {
  e = await E2E.start({
    controller: { watch: control.fn, informer: { backoff: { baseMs: 50, maxMs: 200 } } },
    noStart: true,
  });
  control.inner = kubeWatch(e.cluster.kc);
  await e.controller.start();
});

afterAll(async () => {
  control.resume();
  await e?.stop();
});

const address = async (name: string) => (await e.getService(name))?.status?.loadBalancer?.ingress?.[0]?.ip;
const lbOf = (name: string) => e.provider().loadBalancers().find((lb) => lb.ref.name === name && lb.ref.namespace === e.ns);

/** Serves `names`, then, with every watch down, creates, changes and deletes; returns the names to check. */
async function changesWhileBlind(prefix: string): Promise<void> {
  for (const n of ['changed', 'deleted', 'stripped']) await e.lbService(`${prefix}-${n}`);
  for (const n of ['changed', 'deleted', 'stripped']) await eventually(`${prefix}-${n} served`, () => address(`${prefix}-${n}`));
  await e.settle();

  control.cutAndHold();
  await e.lbService(`${prefix}-created`);
  await e.patchService(`${prefix}-changed`, { spec: { ports: [{ name: 'http', port: 80, targetPort: 8080 }, { name: 'alt', port: 8080, targetPort: 8080 }] } });
  await e.core.deleteNamespacedService({ namespace: e.ns, name: `${prefix}-deleted` });
  // Gone for good while nobody watched: only a relist (or the resumed watch) can tell.
  await e.patchService(`${prefix}-stripped`, { metadata: { finalizers: null } });
  await e.core.deleteNamespacedService({ namespace: e.ns, name: `${prefix}-stripped` });
}

async function nothingMissed(prefix: string): Promise<void> {
  await eventually('the new Service served', () => address(`${prefix}-created`));
  await eventually('the changed Service updated', () => (lbOf(`${prefix}-changed`)?.spec.targetSets.length ?? 0) === 2);
  await eventually('the deleted Service gone', async () => (await e.getService(`${prefix}-deleted`)) === undefined);
  await eventually('the stripped Service’s LB gone', () => lbOf(`${prefix}-stripped`) === undefined);
  expect(lbOf(`${prefix}-deleted`)).toBeUndefined();
  expect(hasOurFinalizer(await e.getService(`${prefix}-created`))).toBe(true);
  await e.settle();
  // Nothing done twice: one ensure for the new Service, one more for the changed one.
  const ensures = (name: string) => e.provider().callsOf('ensure').filter((c) => c.ref.name === name).length;
  expect(ensures(`${prefix}-created`)).toBe(1);
  expect(ensures(`${prefix}-changed`)).toBe(2);
}

describe('watches', () => {
  it('cut mid-stream resume and miss nothing', async () => {
    const before = e.controller.services.stats();
    await changesWhileBlind('cut');
    control.resume();
    await nothingMissed('cut');
    expect(e.controller.services.stats().watches).toBeGreaterThan(before.watches);
  });

  it('expired (410) relist and miss nothing', async () => {
    const before = e.controller.services.stats();
    await changesWhileBlind('exp');
    control.resume(['/api/v1/services', `/api/v1/namespaces/${e.ns}/services`]);
    await nothingMissed('exp');
    const after = e.controller.services.stats();
    expect(control.expired).toBeGreaterThanOrEqual(1);
    expect(after.expired).toBeGreaterThan(before.expired);
    expect(after.lists).toBeGreaterThan(before.lists);
  });

  it('expired for real when the server has moved on (devcluster: a small watch window)', async (ctx) => {
    if (!e.cluster.dev) ctx.skip();
    const dev = e.cluster.dev!;
    const before = e.controller.services.stats();
    await changesWhileBlind('win');
    // Push the resume point out of the server's history.
    dev.setWatchWindow(2);
    for (let i = 0; i < 5; i++) await e.service(`filler-${i}`, { ports: [{ port: 80 }] });
    control.resume();
    await nothingMissed('win');
    expect(e.controller.services.stats().expired).toBeGreaterThan(before.expired);
    dev.setWatchWindow(10_000);
  });
});
