// The Event recorder against a real API server (or devcluster): what it writes,
// how it aggregates, and that a burst arrives whole.
import type { CoreV1Event, V1Service } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCluster, uniqueName } from '../support/cluster.js';
import type { TestCluster } from '../support/cluster.js';
import { makeClients } from '../../src/kube/client.js';
import type { KubeClients } from '../../src/kube/client.js';
import { EventRecorder } from '../../src/kube/events.js';

let cluster: TestCluster;
let clients: KubeClients;
let ns: string;
const recorders: EventRecorder[] = [];

beforeAll(async () => {
  cluster = await startTestCluster();
  clients = makeClients(cluster.kc);
  ns = uniqueName('lbc-kube-ev');
  await clients.core.createNamespace({ body: { metadata: { name: ns } } });
});

afterAll(async () => {
  await Promise.all(recorders.splice(0).map((r) => r.close()));
  await clients?.core.deleteNamespace({ name: ns }).catch(() => {});
  await cluster?.stop();
});

function recorder(): EventRecorder {
  const r = new EventRecorder({ core: clients.core, reportingInstance: 'lbc-test-0', logger: { warn: () => {} } });
  recorders.push(r);
  return r;
}

async function service(name: string): Promise<V1Service> {
  const svc = await clients.core.createNamespacedService({
    namespace: ns,
    body: { metadata: { name }, spec: { clusterIP: 'None', ports: [{ port: 80 }] } },
  });
  return { ...svc, kind: 'Service', apiVersion: 'v1' };
}

// Filtered here rather than by field selector: the suite's namespace holds only its own
// Events, and this asks less of the server.
async function eventsFor(match: (e: CoreV1Event) => boolean): Promise<CoreV1Event[]> {
  const out: CoreV1Event[] = [];
  let cont: string | undefined;
  do {
    const page = await clients.core.listNamespacedEvent({ namespace: ns, limit: 250, _continue: cont });
    out.push(...page.items.filter(match));
    cont = page.metadata?._continue || undefined;
  } while (cont);
  return out;
}

describe('EventRecorder on a cluster', () => {
  it('creates an Event, then aggregates the repeat into count 2 on the same Event', async () => {
    const svc = await service('web');
    const rec = recorder();
    rec.event(svc, 'Normal', 'EnsuringLoadBalancer', 'Ensuring load balancer');
    await rec.flush();
    rec.event(svc, 'Normal', 'EnsuringLoadBalancer', 'Ensuring load balancer');
    await rec.flush();
    const events = await eventsFor((e) => e.involvedObject.name === 'web');
    expect(events).toHaveLength(1);
    const [ev] = events;
    expect(ev).toMatchObject({
      count: 2,
      type: 'Normal',
      reason: 'EnsuringLoadBalancer',
      message: 'Ensuring load balancer',
      source: { component: 'lbc' },
      reportingComponent: 'lbc.dev/controller',
      reportingInstance: 'lbc-test-0',
      involvedObject: { kind: 'Service', apiVersion: 'v1', namespace: ns, name: 'web', uid: svc.metadata?.uid },
    });
    expect(ev!.metadata.name).toMatch(/^web\.[0-9a-f]+$/);
    expect(ev!.lastTimestamp!.getTime()).toBeGreaterThanOrEqual(ev!.firstTimestamp!.getTime());
    expect(rec.stats()).toMatchObject({ created: 1, patched: 1, failed: 0 });
  });

  it('delivers a burst of 500 distinct Events and the exact count of 300 repeats, dropping nothing', async () => {
    const targets = await Promise.all(['burst-a', 'burst-b', 'burst-c', 'burst-d', 'burst-e'].map(service));
    const rec = recorder();
    for (let i = 0; i < 500; i++) rec.event(targets[i % 5]!, 'Warning', 'SyncLoadBalancerFailed', `attempt ${i}`);
    for (let i = 0; i < 300; i++) rec.event(targets[0]!, 'Normal', 'UpdatedLoadBalancer', 'Updated load balancer with new hosts');
    await rec.flush();
    const failed = await eventsFor((e) => e.reason === 'SyncLoadBalancerFailed');
    expect(failed).toHaveLength(500);
    expect(new Set(failed.map((e) => e.message)).size).toBe(500);
    expect(failed.every((e) => e.count === 1)).toBe(true);
    const updated = await eventsFor((e) => e.reason === 'UpdatedLoadBalancer');
    expect(updated).toHaveLength(1);
    expect(updated[0]!.count).toBe(300);
    expect(rec.stats()).toMatchObject({ recorded: 800, failed: 0, pending: 0 });
  });
});
