// What the namespace tests of the speaker (layer 2 on a bridge, BGP through a router) set
// up the same way: devcluster reachable from inside the namespaces through a Unix
// socket, lbc's namespace and one Node per node namespace, the lbc config file, an HTTP
// server and `lbc speaker` per node, the Service and EndpointSlices they announce, and
// a stop that leaves nothing behind. The network itself (wire/netns.ts, bgp/fabric.ts) is
// the subclass's.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CoreV1Api, DiscoveryV1Api, KubeConfig } from '@kubernetes/client-node';
import { startDevCluster, type DevCluster } from '../../../../src/devcluster/index.js';
import { makeClients } from '../../../../src/kube/client.js';
import { bundleChildren, removeBundles, serveApiSocket, startChild, type Child } from './children.js';
import { writeService, writeSlice } from './objects.js';

// A child compiles its TypeScript with tsx before its first line: seconds when idle, far
// more when the whole suite shares two cores (seen: over 20 s for a speaker).
export const CHILD_START_MS = 60_000;

export abstract class SpeakerBed {
  readonly children: Child[] = [];
  readonly speakers = new Map<string, Child>();
  core!: CoreV1Api;
  discovery!: DiscoveryV1Api;
  protected dir = '';
  private dev: DevCluster | undefined;
  private apiServer: Server | undefined;
  private configPath = '';
  private apiSocket = '';
  private apiPort = '';

  constructor(readonly nodeNames: readonly string[]) {}

  /** The network namespace node `node` runs in. */
  protected abstract nsOf(node: string): string;
  /** Node `node`'s IPv4 InternalIP. */
  protected abstract ip4Of(node: string): string;

  /** A scratch directory, and the children's bundles (before the network is built). */
  protected async prepare(prefix: string): Promise<void> {
    this.dir = mkdtempSync(join(tmpdir(), prefix));
    await bundleChildren();
  }

  /** devcluster, the socket the namespaces reach it by, lbc's namespace, the Nodes and the config file. */
  protected async startCluster(namespace: string, config: readonly string[]): Promise<KubeConfig> {
    this.dev = await startDevCluster({ port: 0 });
    this.apiPort = new URL(this.dev.url).port;
    this.apiSocket = join(this.dir, 'api.sock');
    this.apiServer = await serveApiSocket(this.apiSocket, Number(this.apiPort));
    const kc = this.dev.kubeConfig();
    const clients = makeClients(kc);
    this.core = clients.core;
    this.discovery = clients.discovery;
    await this.core.createNamespace({ body: { metadata: { name: namespace } } });
    for (const n of this.nodeNames) {
      await this.core.createNode({
        body: {
          metadata: { name: n, labels: { 'kubernetes.io/hostname': n } },
          status: { conditions: [{ type: 'Ready', status: 'True' }], addresses: [{ type: 'InternalIP', address: this.ip4Of(n) }] },
        },
      });
    }
    this.configPath = join(this.dir, 'lbc.yaml');
    writeFileSync(this.configPath, [...config, ''].join('\n'));
    return kc;
  }

  /** Starts the HTTP server of every node; the promises resolve as each listens (started together: each compiles first). */
  protected startHttpServers(): Promise<string>[] {
    return this.nodeNames.map((n) => {
      const h = startChild(`http ${n}`, this.nsOf(n), './http-child.ts', [n]);
      this.children.push(h);
      return h.waitFor(/listening/, CHILD_START_MS);
    });
  }

  /** The in-process API server's kubeconfig, for a controller run by the test itself. */
  kubeConfig(): KubeConfig {
    if (!this.dev) throw new Error('not started');
    return this.dev.kubeConfig();
  }

  /** Starts `lbc speaker` on a node; resolves once it takes part. */
  async startSpeaker(node: string, env: NodeJS.ProcessEnv = {}): Promise<Child> {
    const c = startChild(`speaker ${node}`, this.nsOf(node), './speaker-child.ts', [node, this.configPath, this.dev?.kubeconfigPath ?? '', this.apiSocket, this.apiPort], env);
    this.children.push(c);
    this.speakers.set(node, c);
    await c.waitFor(/takes part/, CHILD_START_MS);
    return c;
  }

  /** A LoadBalancer Service of the metal class whose status holds `ips`, as the controller would leave it. */
  async service(name: string, ips: readonly string[], local: boolean): Promise<void> {
    await writeService(this.core, name, ips, local);
  }

  async slice(name: string, service: string, endpoints: { node: string; ready: boolean }[]): Promise<void> {
    await writeSlice(this.discovery, name, service, endpoints);
  }

  /** Kills every child and stops devcluster; the subclass then removes its network and calls removeScratch. */
  protected async stopCluster(): Promise<void> {
    for (const c of this.children) c.kill('SIGKILL');
    await Promise.all(this.children.map((c) => Promise.race([c.exited, new Promise((r) => setTimeout(r, 3000))])));
    this.apiServer?.close();
    await this.dev?.stop();
  }

  protected removeScratch(): void {
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
    removeBundles();
  }
}
