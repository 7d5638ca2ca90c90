// `lbc run` as a whole, against the test cluster: settings from the file and the flags,
// the metrics and probe endpoints up, leadership taken, and on SIGTERM-like stop the
// Lease handed back so a standby would take over at once.
import { CoordinationV1Api, CoreV1Api } from '@kubernetes/client-node';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/config.js';
import { resolveOperations } from '../../src/config/operations.js';
import { runController, type Replica } from '../../src/cli/run.js';
import type { ObservabilityServer } from '../../src/observability/server.js';
import { createLogger } from '../../src/observability/log.js';
import { registry as moduleRegistry } from '../../src/observability/metrics.js';
import { callWithRetry, type CloudCall } from '../../src/providers/retry.js';
import { ProviderError } from '../../src/providers/types.js';
import { startTestCluster, uniqueName, type TestCluster } from '../support/cluster.js';
import { parseExposition } from './exposition.js';

let cluster: TestCluster;
const ns = uniqueName('lbc-run');

beforeAll(async () => {
  cluster = await startTestCluster();
  await cluster.kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: ns } } });
});

afterAll(async () => {
  await cluster?.kc.makeApiClient(CoreV1Api).deleteNamespace({ name: ns }).catch(() => {});
  await cluster?.stop();
});

describe('operations settings', () => {
  const base = 'clusterName: x\nproviders: [{ name: m, type: memory }]\n';

  it('defaults as controller-runtime, file over defaults, flags over file', () => {
    expect(resolveOperations(undefined, {}, '/nonexistent')).toEqual({
      leaderElection: { enabled: false },
      metricsBindAddress: ':8080',
      healthProbeBindAddress: ':8081',
      logLevel: 'info',
    });
    const file = parseConfig(`${base}leaderElection: { enabled: true, namespace: lbc-system, leaseDuration: 30s, renewDeadline: 20s }\nmetrics: { bindAddress: ":9090" }\nlog: { level: warn }\n`).operations;
    expect(resolveOperations(file, {}, '/nonexistent')).toEqual({
      leaderElection: { enabled: true, namespace: 'lbc-system', id: 'lbc-leader', leaseDurationMs: 30_000, renewDeadlineMs: 20_000, retryPeriodMs: 2000 },
      metricsBindAddress: ':9090',
      healthProbeBindAddress: ':8081',
      logLevel: 'warn',
    });
    expect(resolveOperations(file, { leaderElectionId: 'mine', leaderElectRetryPeriod: 1, metricsBindAddress: '0', logLevel: 'debug' }, '/nonexistent')).toMatchObject({
      leaderElection: { id: 'mine', retryPeriodMs: 1000, namespace: 'lbc-system' },
      metricsBindAddress: '0',
      logLevel: 'debug',
    });
  });

  it("takes the pod's namespace for the Lease, else kube-system", () => {
    const dir = mkdtempSync(join(tmpdir(), 'lbc-sa-'));
    writeFileSync(join(dir, 'namespace'), 'lbc-system\n');
    expect(resolveOperations(undefined, { leaderElect: true }, join(dir, 'namespace')).leaderElection).toMatchObject({ namespace: 'lbc-system' });
    expect(resolveOperations(undefined, { leaderElect: true }, join(dir, 'nope')).leaderElection).toMatchObject({ namespace: 'kube-system' });
  });

  it('refuses unsafe timings, in the file (with its path) and through flags', () => {
    expect(() => parseConfig(`${base}leaderElection: { leaseDuration: 10s, renewDeadline: 10s }\n`)).toThrow(/leaderElection: leaseDuration must be greater than renewDeadline/);
    expect(() => parseConfig(`${base}log: { level: loud }\n`)).toThrow(/log\.level/);
    expect(() => parseConfig(`${base}leaderElection: { lease: 1 }\n`)).toThrow(/leaderElection\.lease: unknown key/);
    expect(() => resolveOperations(undefined, { leaderElect: true, leaderElectRenewDeadline: 20 }, '/nonexistent')).toThrow(/leaseDuration must be greater than renewDeadline/);
    expect(() => resolveOperations(undefined, { logLevel: 'loud' })).toThrow(/--log-level/);
  });
});

describe('lbc run with leader election', () => {
  it('serves metrics and probes, leads, and releases the Lease when stopped', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lbc-run-'));
    const config = join(dir, 'lbc.yaml');
    writeFileSync(
      config,
      [
        'clusterName: run-test',
        'providers: [{ name: mem, type: memory }]',
        'defaultClass: lbc.dev/mem',
        'leaderElection: { leaseDuration: 2s, renewDeadline: 1200ms, retryPeriod: 250ms }',
      ].join('\n'),
    );
    // The retry policy imports no metrics: `lbc run` connects them. A call made before it
    // has is not counted, one made after is (in the module's registry, as before).
    const cloudCall: CloudCall = {
      providerType: 'run-test',
      operation: 'Wired',
      policy: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1 },
      classify: () => ({ kind: 'final' }),
      toError: (e) => new ProviderError('invalid', String(e)),
    };
    const counted = async (): Promise<number> =>
      (await moduleRegistry.getMetricsAsJSON())
        .find((m) => m.name === 'lbc_cloud_api_calls_total')
        ?.values.find((v) => v.labels.provider === 'run-test' && v.labels.operation === 'Wired' && v.labels.outcome === 'success')?.value ?? 0;
    await callWithRetry(cloudCall, async () => 'before');
    expect(await counted()).toBe(0);
    let stop: (why: string) => void = () => {};
    const until = new Promise<string>((resolve) => (stop = resolve));
    let started: { replica: Replica; server: ObservabilityServer } | undefined;
    const lines: string[] = [];
    const run = runController(
      {
        config,
        kubeconfig: cluster.kubeconfigPath,
        namespace: ns,
        leaderElect: true,
        leaderElectionNamespace: ns,
        leaderElectionId: 'run-test',
        metricsBindAddress: '127.0.0.1:0',
        healthProbeBindAddress: '127.0.0.1:0',
      },
      { logger: createLogger({ level: 'info', destination: { write: (s: string) => void lines.push(s) } }), registry: new Registry(), until, onStarted: (s) => (started = s) },
    );
    const deadline = Date.now() + 10_000;
    while (!started?.replica.elector?.isLeader()) {
      if (Date.now() > deadline) throw new Error(`not leading; log:\n${lines.join('')}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const { server } = started;
    expect((await fetch(`${server.healthUrl}/healthz`)).status).toBe(200);
    expect((await fetch(`${server.healthUrl}/readyz`)).status).toBe(200);
    const metrics = parseExposition(await (await fetch(`${server.metricsUrl}/metrics`)).text());
    expect(metrics.get(`lbc_leader{lease="${ns}/run-test"}`)).toBe(1);
    expect(metrics.get('lbc_informer_synced{resource="services"}')).toBe(1);
    await callWithRetry(cloudCall, async () => 'after');
    expect(await counted()).toBe(1);
    const coordination = cluster.kc.makeApiClient(CoordinationV1Api);
    expect((await coordination.readNamespacedLease({ namespace: ns, name: 'run-test' })).spec?.holderIdentity).toBe(started.replica.elector?.identity);

    stop('SIGTERM');
    await run;
    const lease = await coordination.readNamespacedLease({ namespace: ns, name: 'run-test' });
    expect(lease.spec?.holderIdentity ?? '').toBe('');
    expect(lease.spec?.leaseDurationSeconds).toBe(1);
    await expect(fetch(`${server.healthUrl}/healthz`)).rejects.toThrow();
    const log = lines.map((l) => JSON.parse(l) as { msg: string; component?: string });
    expect(log.map((l) => l.msg)).toEqual(expect.arrayContaining([expect.stringMatching(/leader election on Lease .*\/run-test/), 'stopping (SIGTERM): finishing the work in progress', 'stopped']));
    expect(log.find((l) => l.component === 'leader-election')?.msg).toMatch(/acquired Lease/);
  });
});
