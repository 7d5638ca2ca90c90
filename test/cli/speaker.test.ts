// `lbc speaker` as a process, the way the DaemonSet runs it: flags (or NODE_NAME), the
// controller's config file, a kubeconfig. Against devcluster on the host's loopback, so
// it must never touch the host's network: its pool's only interface does not exist (it
// is elected, and says it cannot announce), and it has no peers to send heartbeats to.
// It logs as `lbc run` does: JSON lines, the level by --log-level over the file's.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lbcProcess, type LbcProcess } from '../support/lbc-process.js';
import { startDevCluster, type DevCluster } from '../../src/devcluster/index.js';
import { makeClients, type KubeClients } from '../../src/kube/client.js';
import { leaseName } from '../../src/providers/metal/speaker/lease.js';
import { packetAddonAvailable } from '../../src/providers/metal/speaker/packet-socket.js';

type Run = LbcProcess;

// Metrics on a free loopback port: the default (:7473, every interface) is the host's, shared with parallel runs.
const lbc = (args: readonly string[], env: NodeJS.ProcessEnv = {}): Run => lbcProcess([...args, '--metrics-bind-address', '127.0.0.1:0'], { env });

/** A log line as JSON; undefined for anything else (a runtime warning on stderr). */
function entry(line: string | undefined): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(line ?? '');
    return v !== null && typeof v === 'object' ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
const entries = (run: Run): Record<string, unknown>[] =>
  run.out.flatMap((l) => {
    const e = entry(l);
    return e ? [e] : [];
  });

let dev: DevCluster;
let clients: KubeClients;
let dir: string;
let config: string;
let configWarn: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lbc-speaker-cli-'));
  dev = await startDevCluster({ port: 0 });
  clients = makeClients(dev.kubeConfig());
  await clients.core.createNamespace({ body: { metadata: { name: 'lbc-system' } } });
  await clients.core.createNode({
    body: { metadata: { name: 'n1' }, status: { conditions: [{ type: 'Ready', status: 'True' }], addresses: [{ type: 'InternalIP', address: '192.0.2.201' }] } },
  });
  // A high random gossip port, so that parallel runs never share one.
  const gossipPort = 20_000 + Math.floor(Math.random() * 20_000);
  config = join(dir, 'lbc.yaml');
  writeFileSync(
    config,
    [
      'clusterName: cli',
      'providers:',
      '  - name: metal',
      '    type: metal',
      '    options:',
      '      pools: [{ name: lan, addresses: [192.0.2.0/28], interfaces: [lbc-none0] }]',
      `      speaker: { gossipPort: ${gossipPort} }`,
      '',
    ].join('\n'),
  );
  configWarn = join(dir, 'lbc-warn.yaml');
  writeFileSync(configWarn, `log: { level: warn }\n${readFileSync(config, 'utf8')}`);
  const svc = await clients.core.createNamespacedService({
    namespace: 'default',
    body: { metadata: { name: 'web' }, spec: { type: 'LoadBalancer', loadBalancerClass: 'lbc.dev/metal', ports: [{ port: 80, protocol: 'TCP' }] } },
  });
  await clients.core.replaceNamespacedServiceStatus({ namespace: 'default', name: 'web', body: { ...svc, status: { loadBalancer: { ingress: [{ ip: '192.0.2.1' }] } } } });
  await clients.discovery.createNamespacedEndpointSlice({
    namespace: 'default',
    body: {
      metadata: { name: 'web-1', labels: { 'kubernetes.io/service-name': 'web' } },
      addressType: 'IPv4',
      endpoints: [{ addresses: ['10.200.0.1'], nodeName: 'n1', conditions: { ready: true } }],
      ports: [{ port: 8080, protocol: 'TCP' }],
    },
  });
});

afterAll(async () => {
  await dev?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const readLease = () =>
  clients.coordination.readNamespacedLease({ namespace: 'lbc-system', name: leaseName('metal', 'n1') }).catch((e: { code?: number }) => {
    if (e.code === 404) return undefined;
    throw e;
  });

describe('lbc speaker', () => {
  it.skipIf(!packetAddonAvailable())(
    `takes part under NODE_NAME, holds its Lease, is elected, and on SIGTERM withdraws, deletes the Lease and exits 0${packetAddonAvailable() ? '' : ' (skipped: the packet addon is not built: npm run build:native)'}`,
    async () => {
      const run = lbc(['speaker', '--kubeconfig', dev.kubeconfigPath, '--config', config], { NODE_NAME: 'n1' });
      try {
        const starting = entry(await run.waitFor(/"event":"starting"/));
        expect(starting).toMatchObject({ level: 'info', name: 'lbc', component: 'speaker', node: 'n1', provider: 'metal' });
        expect(starting?.msg).toContain('credentials from flag');
        const part = entry(await run.waitFor(/takes part/));
        expect(part).toMatchObject({ level: 'info', event: 'takes-part', node: 'n1', provider: 'metal' });
        const incarnation = /incarnation ([0-9a-f]+)/.exec(String(part?.msg))?.[1];
        expect(incarnation).toMatch(/^[0-9a-f]{12}$/);
        const lease = await readLease();
        expect(lease?.spec?.holderIdentity).toBe(`n1/${incarnation}`);
        expect(lease?.metadata?.labels).toMatchObject({ 'lbc.dev/speaker': 'metal', 'lbc.dev/node': 'n1' });
        // Its metrics: alone, so no peer on Lease fallback; the elected address cannot be announced (no interface).
        const metricsUrl = /metrics (http:\/\/127\.0\.0\.1:\d+\/metrics)/.exec(String(starting?.msg))?.[1];
        expect(metricsUrl, String(starting?.msg)).toBeDefined();
        const scraped = await (await fetch(metricsUrl ?? '')).text();
        expect(scraped).toMatch(/^lbc_speaker_peers_on_lease_fallback 0$/m);
        expect(scraped).toMatch(/^lbc_speaker_lease_fallbacks_total 0$/m);
        expect(scraped).toMatch(/^lbc_speaker_announced_addresses 0$/m);
        // The only live node wins the address; its pool's interface does not exist here.
        const noInterface = entry(await run.waitFor(/elected for 192\.0\.2\.1 but no interface named lbc-none0; not announcing/));
        expect(noInterface).toMatchObject({ level: 'warn', event: 'not-announcing', address: '192.0.2.1', node: 'n1', provider: 'metal' });
        run.signal('SIGTERM');
        expect(await run.exited).toBe(0);
        expect(entries(run).find((e) => e.event === 'stopping')?.msg).toBe('stopping (SIGTERM): withdrawing announcements');
        expect(entries(run).find((e) => e.event === 'stopped')).toMatchObject({ node: 'n1', provider: 'metal' });
        expect(await readLease()).toBeUndefined();
      } finally {
        run.signal('SIGKILL');
      }
    },
    120_000,
  );

  it('without --node or NODE_NAME: exits 1 saying so', async () => {
    const run = lbc(['speaker', '--kubeconfig', dev.kubeconfigPath, '--config', config]);
    expect(await run.exited).toBe(1);
    const failed = entries(run).find((e) => e.event === 'failed');
    expect(failed).toMatchObject({ level: 'error', component: 'speaker' });
    expect(failed?.msg).toContain('lbc speaker failed: --node (or NODE_NAME) is required');
  }, 90_000);

  it('without --config: commander refuses, naming the flag', async () => {
    const run = lbc(['speaker', '--node', 'n1', '--kubeconfig', dev.kubeconfigPath]);
    expect(await run.exited).toBe(1);
    expect(run.out.join('\n')).toContain("required option '--config <file>' not specified");
  }, 90_000);

  it('without the packet addon: exits 1 at start, saying how to build it', async () => {
    const run = lbc(['speaker', '--node', 'n1', '--kubeconfig', dev.kubeconfigPath, '--config', config], { LBC_PACKET_ADDON: join(dir, 'missing.node') });
    expect(await run.exited).toBe(1);
    const failed = entries(run).find((e) => e.event === 'failed');
    expect(failed).toMatchObject({ level: 'error', node: 'n1' });
    expect(failed?.msg).toContain('the packet socket addon is not built');
    expect(failed?.msg).toContain('npm run build:native');
    expect(await readLease()).toBeUndefined();
  }, 90_000);

  it('logs at --log-level, else at the config file\'s log.level, as lbc run', async () => {
    // Each run fails at start (no packet addon) after its info line `starting`, or without it.
    const events = async (args: string[], cfg: string): Promise<unknown[]> => {
      const run = lbc(['speaker', '--node', 'n1', '--kubeconfig', dev.kubeconfigPath, '--config', cfg, ...args], { LBC_PACKET_ADDON: join(dir, 'missing.node') });
      expect(await run.exited).toBe(1);
      return entries(run).map((e) => e.event);
    };
    const [byDefault, byFlag, byFile, flagOverFile] = await Promise.all([
      events([], config),
      events(['--log-level', 'warn'], config),
      events([], configWarn),
      events(['--log-level', 'debug'], configWarn),
    ]);
    expect(byDefault).toEqual(['starting', 'failed']);
    expect(byFlag).toEqual(['failed']);
    expect(byFile).toEqual(['failed']);
    expect(flagOverFile).toEqual(['starting', 'failed']);
  }, 90_000);

  it('refuses a --log-level that is not a level, naming the flag', async () => {
    const run = lbc(['speaker', '--node', 'n1', '--kubeconfig', dev.kubeconfigPath, '--config', config, '--log-level', 'loud']);
    expect(await run.exited).toBe(1);
    expect(entries(run).find((e) => e.event === 'failed')?.msg).toContain('--log-level: "loud" is not one of trace, debug, info, warn, error');
  }, 90_000);
});
