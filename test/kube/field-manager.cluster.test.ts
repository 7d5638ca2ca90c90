// Who lbc's writes are recorded as. kube-apiserver keeps, per object, which manager set
// which fields (metadata.managedFields); a write without `fieldManager` is recorded under
// the User-Agent, and lbc's own connection sends none, so it showed as "unknown".
// `lbc run` (in-process, leader election on, the memory provider) takes a Service through
// finalizer, status, Events and back out, and holds a Lease meanwhile.
//
// On a real API server (KUBECONFIG set) the managedFields themselves are read. devcluster
// keeps none, so there every write request's fieldManager query parameter is checked.
import { CoordinationV1Api, CoreV1Api, KubeConfig, type V1ManagedFieldsEntry } from '@kubernetes/client-node';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runController, type Replica } from '../../src/cli/run.js';
import { startDevCluster, type DevCluster } from '../../src/devcluster/index.js';
import type { RequestAttributes } from '../../src/devcluster/server.js';
import { createLogger } from '../../src/observability/log.js';
import { uniqueName } from '../support/cluster.js';

const REAL = process.env.KUBECONFIG !== undefined && process.env.KUBECONFIG !== '';
// The test's own writes name themselves, so they are told apart from lbc's.
const TEST_MANAGER = 'lbc-field-manager-test';

let dev: DevCluster | undefined;
let kc: KubeConfig;
let kubeconfig: string;
const requests: RequestAttributes[] = [];
const ns = uniqueName('lbc-fm');

beforeAll(async () => {
  if (REAL) {
    kubeconfig = process.env.KUBECONFIG ?? '';
    kc = new KubeConfig();
    kc.loadFromFile(kubeconfig);
  } else {
    dev = await startDevCluster({ port: 0, onRequest: (r) => void requests.push(r) });
    kc = dev.kubeConfig();
    kubeconfig = dev.kubeconfigPath;
  }
  await kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: ns } }, fieldManager: TEST_MANAGER });
});

afterAll(async () => {
  await kc?.makeApiClient(CoreV1Api).deleteNamespace({ name: ns }).catch(() => {});
  await dev?.stop();
});

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const managers = (entries: V1ManagedFieldsEntry[] | undefined): string[] => [...new Set((entries ?? []).map((e) => `${e.manager ?? '?'}${e.subresource ? `/${e.subresource}` : ''}`))].sort();

describe('every write lbc run makes names fieldManager lbc', () => {
  it('finalizer, status, Events and the Lease', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lbc-fm-'));
    const config = join(dir, 'lbc.yaml');
    writeFileSync(config, ['clusterName: fm', 'providers: [{ name: mem, type: memory }]', 'defaultClass: lbc.dev/mem', 'leaderElection: { leaseDuration: 2s, renewDeadline: 1200ms, retryPeriod: 250ms }'].join('\n'));
    let stop: (why: string) => void = () => {};
    const stopped = new Promise<string>((resolve) => (stop = resolve));
    let started: { replica: Replica } | undefined;
    const run = runController(
      {
        config,
        kubeconfig,
        namespace: ns,
        leaderElect: true,
        leaderElectionNamespace: ns,
        leaderElectionId: 'fm',
        metricsBindAddress: '0',
        healthProbeBindAddress: '0',
      },
      { logger: createLogger({ level: 'warn', destination: { write: () => {} } }), registry: new Registry(), until: stopped, onStarted: (s) => (started = s) },
    );
    const core = kc.makeApiClient(CoreV1Api);
    try {
      await until('leadership', async () => (started?.replica.elector?.isLeader() ? true : undefined));
      await core.createNamespacedService({
        namespace: ns,
        fieldManager: TEST_MANAGER,
        body: { metadata: { name: 'web' }, spec: { type: 'LoadBalancer', ports: [{ port: 80, targetPort: 8080, protocol: 'TCP' }], selector: { app: 'web' } } },
      });
      const svc = await until('an address', async () => {
        const s = await core.readNamespacedService({ namespace: ns, name: 'web' });
        return s.status?.loadBalancer?.ingress?.length ? s : undefined;
      });
      const events = await until('an Event', async () => {
        const list = await core.listNamespacedEvent({ namespace: ns, fieldSelector: 'involvedObject.name=web' });
        return list.items.length > 0 ? list.items : undefined;
      });
      // Renewed at least once (every retryPeriod), so its update is among the writes.
      await new Promise((r) => setTimeout(r, 1000));
      const lease = await kc.makeApiClient(CoordinationV1Api).readNamespacedLease({ namespace: ns, name: 'fm' });

      if (REAL) {
        // The finalizer (the object) and the address (its status) are lbc's; the rest is the test's.
        expect(managers(svc.metadata?.managedFields)).toEqual(expect.arrayContaining(['lbc', 'lbc/status']));
        expect(managers(svc.metadata?.managedFields).filter((m) => !['lbc', 'lbc/status', TEST_MANAGER].includes(m))).toEqual([]);
        expect(managers(lease.metadata?.managedFields)).toEqual(['lbc']);
        for (const e of events) expect(managers(e.metadata?.managedFields)).toEqual(['lbc']);
      } else {
        const writes = requests.filter((r) => ['create', 'update', 'patch'].includes(r.verb) && r.resource?.namespace === ns);
        const lbc = writes.filter((r) => r.fieldManager !== TEST_MANAGER);
        const what = (r: RequestAttributes): string => `${r.verb} ${r.resource?.resource ?? r.path}${r.resource?.subresource ? `/${r.resource.subresource}` : ''}`;
        // Each kind of write lbc makes was seen, so the check below covers them all.
        expect(new Set(lbc.map(what))).toEqual(new Set(['patch services', 'patch services/status', 'create events', 'create leases', 'update leases']));
        expect(lbc.filter((r) => r.fieldManager !== 'lbc').map((r) => `${what(r)} as ${r.fieldManager ?? '(none)'}`)).toEqual([]);
      }
    } finally {
      stop('test over');
      await run;
      await core.deleteNamespacedService({ namespace: ns, name: 'web' }).catch(() => {});
    }
  }, 60_000);
});
