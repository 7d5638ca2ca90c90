// `lbc speaker` as a process, the way the DaemonSet runs it: flags (or NODE_NAME), the
// controller's config file, a kubeconfig. Against devcluster on the host's loopback, so
// it must never touch the host's network: its pool's only interface does not exist (it
// is elected, and says it cannot announce), and it has no peers to send heartbeats to.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevCluster, type DevCluster } from '../../src/devcluster/index.js';
import { makeClients, type KubeClients } from '../../src/kube/client.js';
import { leaseName } from '../../src/providers/metal/speaker/lease.js';
import { packetAddonAvailable } from '../../src/providers/metal/speaker/packet-socket.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = join(ROOT, 'src/cli/main.ts');

interface Run {
  readonly out: string[];
  readonly exited: Promise<number | null>;
  waitFor(re: RegExp, timeoutMs?: number): Promise<string>;
  signal(s: NodeJS.Signals): void;
}

function lbc(args: readonly string[], env: NodeJS.ProcessEnv = {}): Run {
  const base = { ...process.env };
  delete base.NODE_NAME;
  delete base.KUBECONFIG;
  const proc = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], { cwd: ROOT, env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const out: string[] = [];
  const waiters: { re: RegExp; resolve: (l: string) => void }[] = [];
  const onData = (chunk: Buffer): void => {
    for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) {
      out.push(line);
      for (const w of [...waiters]) {
        if (!w.re.test(line)) continue;
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  };
  proc.stdout.on('data', onData);
  proc.stderr.on('data', onData);
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  return {
    out,
    exited,
    waitFor: (re, timeoutMs = 60_000) =>
      new Promise((resolve, reject) => {
        const hit = out.find((l) => re.test(l));
        if (hit) return resolve(hit);
        const t = setTimeout(() => reject(new Error(`no line matching ${re} within ${timeoutMs} ms:\n${out.join('\n')}`)), timeoutMs);
        waiters.push({
          re,
          resolve: (l) => {
            clearTimeout(t);
            resolve(l);
          },
        });
      }),
    signal: (s) => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(s);
    },
  };
}

let dev: DevCluster;
let clients: KubeClients;
let dir: string;
let config: string;

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
        expect(await run.waitFor(/lbc speaker: node n1, provider metal/)).toContain('credentials from flag');
        const part = await run.waitFor(/takes part/);
        const incarnation = /incarnation ([0-9a-f]+)/.exec(part)?.[1];
        expect(incarnation).toMatch(/^[0-9a-f]{12}$/);
        const lease = await readLease();
        expect(lease?.spec?.holderIdentity).toBe(`n1/${incarnation}`);
        expect(lease?.metadata?.labels).toMatchObject({ 'lbc.dev/speaker': 'metal', 'lbc.dev/node': 'n1' });
        // The only live node wins the address; its pool's interface does not exist here.
        await run.waitFor(/elected for 192\.0\.2\.1 but no interface named lbc-none0; not announcing/);
        run.signal('SIGTERM');
        expect(await run.exited).toBe(0);
        expect(run.out.join('\n')).toContain('lbc speaker: stopping (SIGTERM)');
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
    expect(run.out.join('\n')).toContain('lbc: --node (or NODE_NAME) is required');
  }, 90_000);

  it('without --config: commander refuses, naming the flag', async () => {
    const run = lbc(['speaker', '--node', 'n1', '--kubeconfig', dev.kubeconfigPath]);
    expect(await run.exited).toBe(1);
    expect(run.out.join('\n')).toContain("required option '--config <file>' not specified");
  }, 90_000);

  it('without the packet addon: exits 1 at start, saying how to build it', async () => {
    const run = lbc(['speaker', '--node', 'n1', '--kubeconfig', dev.kubeconfigPath, '--config', config], { LBC_PACKET_ADDON: join(dir, 'missing.node') });
    expect(await run.exited).toBe(1);
    expect(run.out.join('\n')).toContain('the packet socket addon is not built');
    expect(run.out.join('\n')).toContain('npm run build:native');
    expect(await readLease()).toBeUndefined();
  }, 90_000);
});
