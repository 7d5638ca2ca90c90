// Where the end-to-end suites that send real traffic through the local provider run their
// controller, backends and client. On devcluster, in the test process: backends on
// 127.0.22.x, which devcluster accepts in EndpointSlices when asked (allowLoopbackEndpoints).
// On a real cluster kube-apiserver refuses loopback endpoint addresses, so all three run
// in a network namespace the suite creates and removes (data-plane-child.ts), the
// backends on 198.18.22.x there; the suite itself stays in the host's namespace, creating
// objects and reading status, and asks the child for each request. Nothing is added to
// the host's network.
import { KubeConfig } from '@kubernetes/client-node';
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { askName, httpBackend, httpGet, tcpBackend } from '../providers/local/support.js';
import { deleteNamespaces, ip, netnsUnavailable } from '../providers/metal/wire/netns.js';
import type { ChildCommand, ChildInit } from './data-plane-child.js';
import type { E2E } from './harness.js';

export interface DataPlane {
  /** Where it runs, for the suite's name. */
  readonly where: string;
  /** An address a backend may listen on, the i-th (0-based, up to 9). */
  backendHost(i: number): string;
  /** A backend answering HTTP with JSON naming it; its port. */
  httpBackend(name: string, host: string): Promise<number>;
  /** A backend writing `<name>\n` on each connection, then echoing; its port. */
  tcpBackend(name: string, host: string): Promise<number>;
  /** The name of the backend that answered, or the status code. */
  httpName(address: string, port: number, host: string, path: string, headers?: Record<string, string>): Promise<string>;
  /** The name line a TCP backend wrote. */
  tcpName(address: string, port: number): Promise<string>;
  /** 'connected', or the error code of the attempt (ECONNREFUSED). */
  connect(address: string, port: number): Promise<string>;
  startController(): Promise<void>;
  close(): Promise<void>;
}

function tryConnect(address: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const c = connect({ host: address, port });
    c.once('connect', () => {
      c.destroy();
      resolve('connected');
    });
    c.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

/** The suite's own controller, backends (closed after each test by support.ts) and requests. */
function inProcess(e: E2E): DataPlane {
  return {
    where: 'in the test process',
    backendHost: (i) => `127.0.22.${i + 1}`,
    httpBackend: async (name, host) => (await httpBackend(name, host)).port,
    tcpBackend: async (name, host) => (await tcpBackend(name, host)).port,
    httpName: async (address, port, host, path, headers = {}) => {
      const r = await httpGet(address, port, path, { ...headers, host });
      return r.status === 200 ? (JSON.parse(r.body) as { name: string }).name : String(r.status);
    },
    tcpName: (address, port) => askName(address, port),
    connect: tryConnect,
    startController: () => e.controller.start(),
    close: async () => {},
  };
}

/**
 * Why the data plane cannot run for the suite's cluster, or undefined: on devcluster it
 * always can; on a real one (KUBECONFIG) it needs network namespaces and an API server on
 * this host's loopback, which the namespace's relay stands in for.
 */
export function dataPlaneUnavailable(): string | undefined {
  const path = process.env.KUBECONFIG;
  if (!path) return undefined;
  const reason = netnsUnavailable();
  if (reason) return `a real cluster's data plane runs in a network namespace: ${reason}`;
  const kc = new KubeConfig();
  kc.loadFromFile(path);
  const server = new URL(kc.getCurrentCluster()?.server ?? 'https://invalid');
  if (!['127.0.0.1', 'localhost'].includes(server.hostname)) return `the API server (${server.host}) is not on this host's loopback, which the network namespace's relay stands in for`;
  return undefined;
}

async function namespaced(e: E2E): Promise<DataPlane> {
  const ns = `lbc-dp-${randomBytes(3).toString('hex')}`;
  const dir = mkdtempSync(join(tmpdir(), 'lbc-dp-'));
  const apiSocket = join(dir, 'api.sock');
  const server = new URL(e.clients.kc.getCurrentCluster()?.server ?? '');
  const relay: Server = createServer((c) => {
    const up = connect({ host: server.hostname, port: Number(server.port || 443) });
    c.pipe(up).pipe(c);
    c.on('error', () => up.destroy());
    up.on('error', () => c.destroy());
  });
  let child: ChildProcess | undefined;
  const removeNs = (): void => void deleteNamespaces([ns]);
  process.once('exit', removeNs);
  const close = async (): Promise<void> => {
    if (child && child.exitCode === null) {
      await call({ cmd: 'stop' }).catch(() => {});
      child.disconnect();
      await new Promise((r) => (child?.exitCode === null ? child.once('exit', r) : r(undefined)));
    }
    await new Promise((r) => relay.close(r));
    process.off('exit', removeNs);
    deleteNamespaces([ns]);
    rmSync(dir, { recursive: true, force: true });
  };
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let next = 0;
  const call = <T>(m: ChildCommand): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const id = next++;
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      child?.send({ ...m, id });
    });
  try {
    ip('netns', 'add', ns);
    ip('-n', ns, 'link', 'set', 'lo', 'up');
    for (let i = 0; i < 10; i++) ip('-n', ns, 'addr', 'add', `198.18.22.${i + 1}/32`, 'dev', 'lo');
    await new Promise<void>((resolve, reject) => {
      relay.once('error', reject);
      relay.listen(apiSocket, resolve);
    });
    // `ip netns exec` execs node, which inherits the IPC channel.
    child = fork(fileURLToPath(new URL('./data-plane-child.ts', import.meta.url)), [], {
      execPath: 'ip',
      execArgv: ['netns', 'exec', ns, process.execPath, '--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const c = child;
    c.on('message', (m: { id?: number; result?: unknown; error?: string }) => {
      const p = m.id === undefined ? undefined : pending.get(m.id);
      if (!p || m.id === undefined) return;
      pending.delete(m.id);
      if (m.error !== undefined) p.reject(new Error(m.error));
      else p.resolve(m.result);
    });
    c.on('exit', (code) => {
      for (const p of pending.values()) p.reject(new Error(`the data plane process exited (${code})`));
      pending.clear();
    });
    await new Promise<void>((resolve, reject) => {
      c.once('message', () => resolve());
      c.once('exit', (code) => reject(new Error(`the data plane process exited (${code}) before it was ready`)));
      const init: ChildInit = { kubeconfig: e.cluster.kubeconfigPath, apiSocket, namespace: e.ns, nodeLabel: e.nodeLabel, config: e.config };
      c.send(init);
    });
  } catch (err) {
    await close();
    throw err;
  }
  return {
    where: `in network namespace ${ns}`,
    backendHost: (i) => `198.18.22.${i + 1}`,
    httpBackend: (name, host) => call({ cmd: 'httpBackend', name, host }),
    tcpBackend: (name, host) => call({ cmd: 'tcpBackend', name, host }),
    httpName: (address, port, host, path, headers = {}) => call({ cmd: 'httpName', address, port, host, path, headers }),
    tcpName: (address, port) => call({ cmd: 'tcpName', address, port }),
    connect: (address, port) => call({ cmd: 'connect', address, port }),
    startController: () => call({ cmd: 'start' }),
    close,
  };
}

/** The data plane for the suite's cluster: in process on devcluster, in a network namespace on a real one. */
export function dataPlane(e: E2E): Promise<DataPlane> {
  return e.cluster.kind === 'devcluster' ? Promise.resolve(inProcess(e)) : namespaced(e);
}
