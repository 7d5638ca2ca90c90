// Where the end-to-end suites that send real traffic through the local provider run their
// controller, backends and client. On devcluster, in the test process: backends on
// 127.0.22.x, which devcluster accepts in EndpointSlices when asked (allowLoopbackEndpoints).
// On a real cluster kube-apiserver refuses loopback endpoint addresses, so all three run
// in a network namespace the suite creates and removes (data-plane-child.ts), the
// backends on 198.18.22.x there; the suite itself stays in the host's namespace, creating
// objects and reading status, and asks the child for each request. Nothing is added to
// the host's network.
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { askName, httpBackend, httpGet, tcpBackend } from '../providers/local/support.js';
import { NetnsApiRelay } from '../support/netns-api-relay.js';
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
 * always can; on a real one (KUBECONFIG) it needs a network namespace with a relay to
 * the API server (netns-api-relay.ts).
 */
export function dataPlaneUnavailable(): string | undefined {
  const path = process.env.KUBECONFIG;
  if (!path) return undefined;
  const reason = NetnsApiRelay.unavailable(path);
  return reason ? `a real cluster's data plane runs in a network namespace: ${reason}` : undefined;
}

const NETNS_BACKENDS = Array.from({ length: 10 }, (_, i) => `198.18.22.${i + 1}`);

async function namespaced(e: E2E): Promise<DataPlane> {
  const netns = await NetnsApiRelay.create(e.cluster.kubeconfigPath, NETNS_BACKENDS);
  const child = netns.fork(fileURLToPath(new URL('./data-plane-child.ts', import.meta.url)));
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let next = 0;
  const call = <T>(m: ChildCommand): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const id = next++;
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      child.send({ ...m, id });
    });
  child.on('message', (m: { id?: number; result?: unknown; error?: string }) => {
    const p = m.id === undefined ? undefined : pending.get(m.id);
    if (!p || m.id === undefined) return;
    pending.delete(m.id);
    if (m.error !== undefined) p.reject(new Error(m.error));
    else p.resolve(m.result);
  });
  child.on('exit', (code) => {
    for (const p of pending.values()) p.reject(new Error(`the data plane process exited (${code})`));
    pending.clear();
  });
  const close = async (): Promise<void> => {
    // The controller stops first, so that its provider closes its listeners.
    if (child.exitCode === null) await call({ cmd: 'stop' }).catch(() => {});
    await netns.close();
  };
  try {
    await new Promise<void>((resolve, reject) => {
      child.once('message', () => resolve());
      child.once('exit', (code) => reject(new Error(`the data plane process exited (${code}) before it was ready`)));
      const init: ChildInit = { kubeconfig: e.cluster.kubeconfigPath, apiSocket: netns.apiSocket, namespace: e.ns, nodeLabel: e.nodeLabel, config: e.config };
      child.send(init);
    });
  } catch (err) {
    await close();
    throw err;
  }
  return {
    where: `in network namespace ${netns.ns}`,
    backendHost: (i) => NETNS_BACKENDS[i] ?? '',
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
