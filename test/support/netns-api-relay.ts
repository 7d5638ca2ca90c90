// A network namespace for a real cluster's local-provider data plane: kube-apiserver
// refuses loopback addresses in EndpointSlices, so backends must listen on others, and
// none may be added to the host. The namespace gets them on its own lo; processes forked
// into it (`ip netns exec`, which execs node, so the IPC channel is inherited) reach the
// API server through a relay: a listener on the kubeconfig's loopback port inside the
// namespace (relayApiInside), each connection carried over a Unix socket, which network
// namespaces do not separate, to this process, which connects to the real port. TLS runs
// end to end, so the kubeconfig works unchanged. close() removes it all.
import { KubeConfig } from '@kubernetes/client-node';
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deleteNamespaces, ip, netnsUnavailable } from '../providers/metal/wire/netns.js';

function apiServer(kubeconfigPath: string): URL {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  return new URL(kc.getCurrentCluster()?.server ?? 'https://invalid');
}

/** Each connection to `accept` piped to a new connection made by `dial`. */
function pipeServer(dial: () => ReturnType<typeof connect>): Server {
  return createServer((c) => {
    const up = dial();
    c.pipe(up).pipe(c);
    c.on('error', () => up.destroy());
    up.on('error', () => c.destroy());
  });
}

export class NetnsApiRelay {
  private readonly children: ChildProcess[] = [];
  private readonly onExit = (): void => void deleteNamespaces([this.ns]);

  private constructor(
    readonly ns: string,
    readonly apiSocket: string,
    private readonly dir: string,
    private readonly relay: Server,
  ) {}

  /** Why it cannot be made for the cluster of kubeconfigPath here, or undefined. */
  static unavailable(kubeconfigPath: string): string | undefined {
    const reason = netnsUnavailable();
    if (reason) return reason;
    const server = apiServer(kubeconfigPath);
    if (!['127.0.0.1', 'localhost'].includes(server.hostname)) return `the API server (${server.host}) is not on this host's loopback, which the relay stands in for`;
    return undefined;
  }

  /** A namespace with lo up and `addresses` (/32) on it, and the relay to the kubeconfig's API server. */
  static async create(kubeconfigPath: string, addresses: readonly string[]): Promise<NetnsApiRelay> {
    const server = apiServer(kubeconfigPath);
    const dir = mkdtempSync(join(tmpdir(), 'lbc-netns-'));
    const relay = pipeServer(() => connect({ host: server.hostname, port: Number(server.port || 443) }));
    const r = new NetnsApiRelay(`lbc-dp-${randomBytes(3).toString('hex')}`, join(dir, 'api.sock'), dir, relay);
    process.once('exit', r.onExit);
    try {
      ip('netns', 'add', r.ns);
      ip('-n', r.ns, 'link', 'set', 'lo', 'up');
      for (const a of addresses) ip('-n', r.ns, 'addr', 'add', `${a}/32`, 'dev', 'lo');
      await new Promise<void>((resolve, reject) => {
        relay.once('error', reject);
        relay.listen(r.apiSocket, resolve);
      });
    } catch (e) {
      await r.close();
      throw e;
    }
    return r;
  }

  /** A TypeScript module forked into the namespace, with an IPC channel, as child_process.fork would. */
  fork(modulePath: string, args: readonly string[] = []): ChildProcess {
    const child = fork(modulePath, [...args], {
      execPath: 'ip',
      execArgv: ['netns', 'exec', this.ns, process.execPath, '--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.children.push(child);
    return child;
  }

  /** Ends the children still running, then removes the relay and the namespace. */
  async close(): Promise<void> {
    for (const c of this.children) {
      if (c.exitCode !== null || c.signalCode !== null) continue;
      const exited = new Promise((r) => c.once('exit', r));
      c.kill();
      await exited;
    }
    await new Promise((r) => this.relay.close(r));
    process.off('exit', this.onExit);
    deleteNamespaces([this.ns]);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * In a process inside the namespace: listens on the kubeconfig's loopback address and
 * port, relaying each connection to `apiSocket`.
 */
export async function relayApiInside(kubeconfigPath: string, apiSocket: string): Promise<void> {
  const server = apiServer(kubeconfigPath);
  const relay = pipeServer(() => connect(apiSocket));
  await new Promise<void>((resolve, reject) => {
    relay.once('error', reject);
    relay.listen({ host: server.hostname, port: Number(server.port || 443) }, resolve);
  });
  // It must not keep the process alive once the work is done.
  relay.unref();
}
