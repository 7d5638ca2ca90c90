// devcluster at the size issue #3 asks for: 100 Nodes, 1000 Services, 5000 EndpointSlices,
// created over HTTPS through @kubernetes/client-node; then list times and the latency
// from a write's start to its watch event. Then 1000 HTTPRoutes (issue #15): their create
// throughput and watch latency beside the Services', on devcluster and, when KUBECONFIG
// names one, on a real cluster.
import { CoreV1Api, CustomObjectsApi, DiscoveryV1Api, KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import { startDevCluster } from '../src/devcluster/index.js';
import { reuseConnections } from '../src/kube/client.js';
import { createHttpRoute, deleteRoutes, HTTPROUTES, installGatewayApi } from './httproutes.js';
import { customObjectWatchSource, serviceWatchSource, ResumableWatch, type WatchSource } from './resumable-watch.js';
import { ms, pool, summarize } from './stats.js';

const IN_FLIGHT = 16;
const SERVICES = 1000;
const ROUTES = 1000;

export async function benchDevcluster(): Promise<void> {
  const dev = await startDevCluster({ port: 0, watchWindow: 20000 });
  try {
    // Keep-alive connections, as lbc's own clients use them (see src/cli/keep-alive.ts).
    await run(reuseConnections(dev.kubeConfig()));
  } finally {
    await dev.stop();
  }
  const real = process.env.KUBECONFIG;
  if (real) {
    const kc = new KubeConfig();
    kc.loadFromFile(real);
    await runReal(reuseConnections(kc), real);
  }
}

/** Prints the line and returns the rate, per second. */
async function timed(label: string, count: number, fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  const dt = performance.now() - t0;
  const rate = (count / dt) * 1000;
  console.log(`  ${label}: ${count} in ${ms(dt)} (${Math.round(rate)}/s)`);
  return rate;
}

type Summary = ReturnType<typeof summarize>;
interface Figures {
  createsPerSec: number;
  watch: Summary;
}

const createServices = (core: CoreV1Api, namespace: string): Promise<number> =>
  timed('create LoadBalancer Services', SERVICES, () =>
    pool([...Array(SERVICES).keys()], IN_FLIGHT, async (i) => {
      await core.createNamespacedService({
        namespace,
        body: { metadata: { name: `svc-${i}` }, spec: { type: 'LoadBalancer', ports: [{ port: 80, targetPort: 8080 }] } },
      });
    }),
  );

const labelPatch = [{ op: 'add', path: '/metadata/labels', value: { bench: 'x' } }];

const serviceWatch = (kc: KubeConfig, core: CoreV1Api, namespace: string): Promise<Summary> =>
  watchDelivery('label updates seen on a watch', serviceWatchSource(kc, core, namespace), 'svc', SERVICES, async (name) => {
    await core.patchNamespacedService({ name, namespace, body: labelPatch });
  });

function printWatch(label: string, s: Summary): void {
  console.log(`  ${label}: p50 ${ms(s.p50)}, p99 ${ms(s.p99)}, max ${ms(s.max)} (${s.n} events)`);
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
  const servicesPerSec = await createServices(core, namespace);
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

  const services = { createsPerSec: servicesPerSec, watch: await serviceWatch(kc, core, namespace) };
  printWatch('watch delivery latency', services.watch);
  console.log(`  process RSS: ${Math.round(process.memoryUsage().rss / 1024 / 1024)} MB`);
  // After the RSS line, so that figure stays the one for the objects above.
  await compareRoutes(kc, namespace, services);
}

/** The same Service creates and watch on a real cluster, in a namespace of its own that goes afterwards. */
async function runReal(kc: KubeConfig, path: string): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  const namespace = `bench-cr-${randomBytes(3).toString('hex')}`;
  console.log(`\nreal cluster ${path} (client-node over HTTPS with keep-alive, ${IN_FLIGHT} requests in flight), namespace ${namespace}`);
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  try {
    const createsPerSec = await createServices(core, namespace);
    const watch = await serviceWatch(kc, core, namespace);
    printWatch('watch delivery latency', watch);
    await compareRoutes(kc, namespace, { createsPerSec, watch });
  } finally {
    await core.deleteNamespace({ name: namespace });
  }
}

/** 1000 HTTPRoutes created and updated as the Services were, then both sets of figures side by side. */
async function compareRoutes(kc: KubeConfig, namespace: string, services: Figures): Promise<void> {
  const custom = kc.makeApiClient(CustomObjectsApi);
  const t0 = performance.now();
  const { created, httpRouteBundle } = await installGatewayApi(kc);
  console.log(
    `  Gateway API v1.4.0 standard CRDs: ${created.length ? `${created.length} installed and Established in ${ms(performance.now() - t0)}` : 'none installed'}; HTTPRoute CRD served is ${httpRouteBundle}`,
  );
  try {
    const createsPerSec = await timed('create HTTPRoutes (4 rules each, schema and CEL validated)', ROUTES, () =>
      pool([...Array(ROUTES).keys()], IN_FLIGHT, (i) => createHttpRoute(custom, namespace, `route-${i}`, `svc-${i % SERVICES}`)),
    );
    const jsonPatch = setHeaderOptions('Content-Type', PatchStrategy.JsonPatch);
    const watch = await watchDelivery('HTTPRoute label updates seen on a watch', customObjectWatchSource<Versioned>(kc, custom, HTTPROUTES, namespace), 'route', ROUTES, async (name) => {
      await custom.patchNamespacedCustomObject({ ...HTTPROUTES, namespace, name, body: labelPatch }, jsonPatch);
    });
    printWatch('HTTPRoute watch delivery latency', watch);
    console.log(
      `  Services vs HTTPRoutes: creates ${Math.round(services.createsPerSec)}/s vs ${Math.round(createsPerSec)}/s (HTTPRoutes at ${(createsPerSec / services.createsPerSec).toFixed(2)}x); ` +
        `watch p50 ${ms(services.watch.p50)} vs ${ms(watch.p50)}, p99 ${ms(services.watch.p99)} vs ${ms(watch.p99)}`,
    );
  } finally {
    await deleteRoutes(custom, namespace);
  }
}


type Versioned = { metadata?: { name?: string; resourceVersion?: string; labels?: Record<string, string> } };

/** Time from the start of each update to its MODIFIED event on a watch of the namespace. */
async function watchDelivery<T extends Versioned>(label: string, source: WatchSource<T>, prefix: string, updates: number, update: (name: string) => Promise<void>): Promise<Summary> {
  const started = new Map<string, number>();
  const latencies: number[] = [];
  let resolveAll!: () => void;
  const allSeen = new Promise<void>((r) => (resolveAll = r));
  // Reopened whenever it ends (a relist hands the objects on as ADDED): a watch that ended
  // silently left this waiting for ever (#21).
  const watch = await ResumableWatch.start<T>(source, (type, obj) => {
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
          `${label}: ${latencies.length}/${updates} after ${LIMIT_MS / 1000} s; not seen: ${missing.slice(0, 20).join(', ')}${missing.length > 20 ? ', …' : ''} ` +
            `(the watch was reopened ${watch.reopened} time(s), relisted ${watch.relists})`,
        ),
      );
    }, LIMIT_MS);
  });
  gaveUp.catch(() => {}); // read by the race below; must not count as unhandled before it
  try {
    await timed(label, updates, async () => {
      await pool([...Array(updates).keys()], IN_FLIGHT, async (i) => {
        const name = `${prefix}-${i}`;
        started.set(name, performance.now());
        await update(name);
      });
      await Promise.race([allSeen, gaveUp]);
    });
  } finally {
    clearTimeout(limit);
    watch.stop();
  }
  return summarize(latencies);
}
