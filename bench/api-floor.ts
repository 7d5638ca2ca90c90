// What the API server alone allows: the writes a controller must make before a new
// LoadBalancer Service shows its address (add the finalizer, then write the status), made
// for 1000 Services by no controller at all, as fast as 64 requests in flight can go,
// over lbc's own connection. No controller that adds its finalizer before it creates the
// load balancer (as upstream's and lbc's do, so that nothing leaks) can give 1000 Services
// their addresses faster than the sum of the two batches on this cluster, so the
// controller bench's "time to every address" is read against it. Events are timed too:
// they are the other half of the writes, sent once the addresses are out.
// The bench's own address watch (address-watch.ts) runs here as it does on the controller's
// cold start: it is the measuring instrument, and the API server's cost of feeding it must
// be in both or the floor is measured on a lighter server than the controller (#21).
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import { FINALIZER } from '../src/controller/reconcile.js';
import { ApiConnection, reuseConnections } from '../src/kube/client.js';
import { AddressWatch } from './address-watch.js';
import type { FloorFigures } from './headline.js';
import { serviceWatchSource } from './resumable-watch.js';
import { ms, pool } from './stats.js';

const IN_FLIGHT = 64;

/** `services`: as many as the controller bench it is read against (1000, or the `scale` bench's 5000). */
export async function benchApiFloor(services = 1000): Promise<FloorFigures> {
  const real = process.env.KUBECONFIG;
  const dev = real
    ? undefined
    : await (await import('../src/devcluster/index.js')).startDevCluster({ port: 0, ...(services > 2500 ? { nodePortRange: `30000-${30000 + 2 * services}` } : {}) });
  const kc = new KubeConfig();
  kc.loadFromFile(real ?? (dev as NonNullable<typeof dev>).kubeconfigPath);
  reuseConnections(kc);
  console.log(`\nAPI floor (${real ? `real cluster ${real}` : 'devcluster'}): the writes before an address, for ${services} Services, with no controller (${IN_FLIGHT} in flight)`);
  const core = kc.makeApiClient(CoreV1Api);
  const api = ApiConnection.for(kc);
  if (!api) throw new Error('the API server is behind a proxy: lbc’s connection cannot reach it');
  const namespace = `bench-floor-${randomBytes(3).toString('hex')}`;
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  const names = [...Array(services).keys()].map((i) => `floor-${i}`);
  const path = (name: string, sub = ''): string => `/api/v1/namespaces/${namespace}/services/${name}${sub}`;
  const merge = (p: string, body: unknown) => api.request('PATCH', p, { body, contentType: 'application/merge-patch+json', discard: true });
  const timed = async (fn: (name: string, i: number) => Promise<unknown>): Promise<number> => {
    const t0 = performance.now();
    await pool(names, IN_FLIGHT, async (name, i) => void (await fn(name, i)));
    return performance.now() - t0;
  };
  let watch: AddressWatch | undefined;
  try {
    await pool(names, 32, async (name) => {
      await core.createNamespacedService({ namespace, body: { metadata: { name }, spec: { type: 'LoadBalancer', ports: [{ name: 'http', port: 80, targetPort: 8080 }] } } });
    });
    watch = await AddressWatch.start(serviceWatchSource(kc, core, namespace));
    const t0 = performance.now();
    const finalizers = await timed((name) => merge(path(name), { metadata: { finalizers: [FINALIZER] } }));
    const statuses = await timed((name, i) => merge(path(name, '/status'), { status: { loadBalancer: { ingress: [{ ip: `10.201.${i >> 8}.${i & 255}` }] } } }));
    await watch.waitFor(services, 120_000 * Math.max(1, services / 1000));
    const seenMs = Math.max(...watch.seen.values()) - t0;
    const events = await timed((name, i) =>
      api.request('POST', `/api/v1/namespaces/${namespace}/events`, {
        body: {
          metadata: { name: `${name}.floor${i}` },
          involvedObject: { kind: 'Service', apiVersion: 'v1', namespace, name },
          reason: 'EnsuredLoadBalancer',
          message: 'Ensured load balancer',
          type: 'Normal',
          source: { component: 'lbc-bench' },
        },
        discard: true,
      }),
    );
    console.log(`  ${services} finalizer patches ${ms(finalizers)}, then ${services} status patches ${ms(statuses)}: ${ms(finalizers + statuses)} before the last address could show`);
    console.log(
      `  with the bench's address watch on this namespace, as during the controller's cold start: every address seen ${ms(seenMs)} after the first patch` +
        (watch.confirmedByList ? ` (${watch.confirmedByList} only by a LIST)` : ''),
    );
    console.log(`  ${services} Events ${ms(events)}`);
    return { addressesMs: finalizers + statuses };
  } finally {
    watch?.stop();
    await pool(names, IN_FLIGHT, async (name) => void (await merge(path(name), { metadata: { finalizers: null } }).catch(() => undefined)));
    await core.deleteNamespace({ name: namespace });
    await dev?.stop();
  }
}
