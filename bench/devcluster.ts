// devcluster at the size issue #3 asks for: 100 Nodes, 1000 Services, 5000 EndpointSlices,
// created over HTTPS through @kubernetes/client-node; then list times and the latency
// from a write's start to its watch event.
import { CoreV1Api, DiscoveryV1Api, type KubeConfig, type V1Service } from '@kubernetes/client-node';
import { startDevCluster } from '../src/devcluster/index.js';
import { reuseConnections } from '../src/kube/client.js';
import { serviceWatchSource, ResumableWatch } from './resumable-watch.js';
import { ms, pool, summarize } from './stats.js';

export async function benchDevcluster(): Promise<void> {
  const dev = await startDevCluster({ port: 0, watchWindow: 20000 });
  try {
    // Keep-alive connections, as lbc's own clients use them (see src/cli/keep-alive.ts).
    await run(reuseConnections(dev.kubeConfig()));
  } finally {
    await dev.stop();
  }
}

async function timed<T>(label: string, count: number, fn: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  const out = await fn();
  const dt = performance.now() - t0;
  console.log(`  ${label}: ${count} in ${ms(dt)} (${Math.round((count / dt) * 1000)}/s)`);
  return out;
}

async function run(kc: KubeConfig): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  const disc = kc.makeApiClient(DiscoveryV1Api);
  const namespace = 'bench';
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  console.log('devcluster (client-node over HTTPS with keep-alive, 16 requests in flight, load generator in the same process)');

  await timed('create Nodes', 100, () =>
    pool([...Array(100).keys()], 16, async (i) => {
      await core.createNode({ body: { metadata: { name: `node-${i}` }, status: { conditions: [{ type: 'Ready', status: 'True' }] } } });
    }),
  );
  await timed('create LoadBalancer Services', 1000, () =>
    pool([...Array(1000).keys()], 16, async (i) => {
      await core.createNamespacedService({
        namespace,
        body: { metadata: { name: `svc-${i}` }, spec: { type: 'LoadBalancer', ports: [{ port: 80, targetPort: 8080 }] } },
      });
    }),
  );
  await timed('create EndpointSlices', 5000, () =>
    pool([...Array(5000).keys()], 16, async (i) => {
      await disc.createNamespacedEndpointSlice({
        namespace,
        body: {
          metadata: { name: `slice-${i}`, labels: { 'kubernetes.io/service-name': `svc-${i % 1000}` } },
          addressType: 'IPv4',
          endpoints: [{ addresses: [`10.1.${Math.floor(i / 250)}.${i % 250}`], conditions: { ready: true } }],
          ports: [{ name: '', port: 8080, protocol: 'TCP' }],
        },
      });
    }),
  );
  for (const [label, fn] of [
    ['list 1000 Services', () => core.listNamespacedService({ namespace })],
    ['list 5000 EndpointSlices', () => disc.listNamespacedEndpointSlice({ namespace })],
    ['list 5000 EndpointSlices by label', () => disc.listNamespacedEndpointSlice({ namespace, labelSelector: 'kubernetes.io/service-name=svc-7' })],
    ['list 100 Nodes', () => core.listNode()],
  ] as const) {
    const samples: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      await (fn as () => Promise<unknown>)();
      samples.push(performance.now() - t0);
    }
    console.log(`  ${label}: p50 ${ms(summarize(samples).p50)} (5 runs)`);
  }

  // Watch delivery: time from the start of each update to its MODIFIED event.
  const started = new Map<string, number>();
  const latencies: number[] = [];
  const updates = 1000;
  let resolveAll!: () => void;
  const allSeen = new Promise<void>((r) => (resolveAll = r));
  // Reopened whenever it ends (a relist hands the Services on as ADDED): a watch that ended
  // silently left this waiting for ever (#21).
  const watch = await ResumableWatch.start<V1Service>(serviceWatchSource(kc, core, namespace), (type, obj) => {
    if (type === 'DELETED') return;
    const t = started.get(obj.metadata?.name ?? '');
    if (t === undefined || obj.metadata?.labels?.bench !== 'x') return;
    latencies.push(performance.now() - t);
    started.delete(obj.metadata!.name!);
    if (latencies.length === updates) resolveAll();
  });
  let limit: NodeJS.Timeout | undefined;
  const LIMIT_MS = 120_000;
  const gaveUp = new Promise<never>((_, reject) => {
    limit = setTimeout(() => {
      const missing = [...started.keys()];
      reject(
        new Error(
          `label updates seen on a watch: ${latencies.length}/${updates} after ${LIMIT_MS / 1000} s; not seen: ${missing.slice(0, 20).join(', ')}${missing.length > 20 ? ', …' : ''} ` +
            `(the watch was reopened ${watch.reopened} time(s), relisted ${watch.relists})`,
        ),
      );
    }, LIMIT_MS);
  });
  gaveUp.catch(() => {}); // read by the race below; must not count as unhandled before it
  try {
    await timed('label updates seen on a watch', updates, async () => {
      await pool([...Array(updates).keys()], 16, async (i) => {
        const name = `svc-${i}`;
        started.set(name, performance.now());
        await core.patchNamespacedService({ name, namespace, body: [{ op: 'add', path: '/metadata/labels', value: { bench: 'x' } }] });
      });
      await Promise.race([allSeen, gaveUp]);
    });
  } finally {
    clearTimeout(limit);
    watch.stop();
  }
  const s = summarize(latencies);
  console.log(`  watch delivery latency: p50 ${ms(s.p50)}, p99 ${ms(s.p99)}, max ${ms(s.max)} (${s.n} events)`);
  console.log(`  process RSS: ${Math.round(process.memoryUsage().rss / 1024 / 1024)} MB`);
}
