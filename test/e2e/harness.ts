// One controller in-process against the test cluster (devcluster, or the real cluster
// KUBECONFIG names), with in-memory providers, scoped to a namespace and a Node label of
// its own so that suites running side by side, and other people's objects on a shared
// cluster, never meet.
import { ApiextensionsV1Api, PatchStrategy, setHeaderOptions, type V1CustomResourceDefinition } from '@kubernetes/client-node';
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import type { CoreV1Api, CoreV1Event, DiscoveryV1Api, NetworkingV1Api, V1Ingress, V1Node, V1Service } from '@kubernetes/client-node';
import { validateConfig, type LbcConfig } from '../../src/config/config.js';
import { Controller, type ControllerOptions } from '../../src/controller/controller.js';
import { FINALIZER } from '../../src/controller/reconcile.js';
import { makeClients, type KubeClients } from '../../src/kube/client.js';
import type { MemoryProvider } from '../../src/providers/memory/index.js';
import { buildProviders, builtinProviderFactories, type ProviderFactories, type ProviderSet } from '../../src/providers/registry.js';
import { leanWriteClients, reuseConnections, type WriteClients } from '../../src/kube/client.js';
import { startTestCluster, uniqueName, type TestCluster } from '../support/cluster.js';

export interface E2EOptions {
  /** Extra config (merged over the defaults); providers default to one memory provider `mem` as the default class. */
  readonly config?: Record<string, unknown>;
  readonly controller?: Partial<ControllerOptions>;
  /** Wraps the write clients (to count, or to interfere). */
  readonly wrapWrites?: (w: WriteClients) => WriteClients;
  /** Do not start the controller (the test starts it). */
  readonly noStart?: boolean;
  readonly watchWindow?: number;
  /** See TestClusterOptions.allowLoopbackEndpoints. */
  readonly allowLoopbackEndpoints?: boolean;
  /** How the configured providers are made (a gce provider on the fake Compute API). */
  readonly factories?: ProviderFactories;
}

export class E2E {
  readonly core: CoreV1Api;
  readonly networking: NetworkingV1Api;
  readonly discovery: DiscoveryV1Api;
  readonly clients: KubeClients;
  readonly warnings: string[] = [];
  controller!: Controller;
  private readonly ingressClasses: string[] = [];

  private constructor(
    readonly cluster: TestCluster,
    readonly ns: string,
    readonly nodeLabel: string,
    readonly config: LbcConfig,
    readonly providers: ProviderSet,
    private readonly opts: E2EOptions,
    private readonly writes: WriteClients,
  ) {
    this.clients = makeClients(cluster.kc);
    this.core = this.clients.core;
    this.networking = this.clients.networking;
    this.discovery = this.clients.discovery;
  }

  static async start(opts: E2EOptions = {}): Promise<E2E> {
    const cluster = await startTestCluster({
      ...(opts.watchWindow !== undefined ? { watchWindow: opts.watchWindow } : {}),
      ...(opts.allowLoopbackEndpoints ? { allowLoopbackEndpoints: true } : {}),
    });
    const ns = uniqueName('lbc-e2e');
    const config = validateConfig({
      clusterName: ns,
      providers: [{ name: 'mem', type: 'memory', options: { addressPool: '198.51.100.0/24' } }],
      defaultClass: 'lbc.dev/mem',
      ingress: { controllerName: `lbc.dev/${ns}` },
      concurrency: 4,
      nodeReadyHysteresis: 0,
      ...opts.config,
    });
    const providers = await buildProviders(config, opts.factories ?? builtinProviderFactories);
    const kc = reuseConnections(cluster.kc);
    const lean = await leanWriteClients(kc);
    if (!lean) throw new Error('no lean write clients for this cluster');
    const e = new E2E(cluster, ns, `lbc-e2e-node-${ns}`, config, providers, opts, opts.wrapWrites ? opts.wrapWrites(lean) : lean);
    await e.core.createNamespace({ body: { metadata: { name: ns } } });
    e.controller = e.newController();
    if (!opts.noStart) await e.controller.start();
    return e;
  }

  newController(extra: Partial<ControllerOptions> = {}): Controller {
    return new Controller({
      clients: this.clients,
      writes: this.writes,
      config: this.config,
      providers: this.providers,
      namespace: this.ns,
      nodeLabelSelector: this.nodeLabel,
      log: { info: () => {}, warn: (m) => this.warnings.push(m), debug: () => {} },
      nodeDebounceMs: 100,
      nodeMaxDelayMs: 1000,
      gcIntervalMs: 0,
      resyncPeriodMs: 0,
      ...this.opts.controller,
      ...extra,
    });
  }

  provider(name = 'mem'): MemoryProvider {
    const p = this.providers.byName(name);
    if (!p) throw new Error(`no provider ${name}`);
    return p as MemoryProvider;
  }

  async stop(): Promise<void> {
    await this.controller?.stop({ drainTimeoutMs: 1000 }).catch(() => {});
    await this.providers.close();
    // Our finalizers would hold the namespace in Terminating now that no controller runs.
    const strip = [{ op: 'remove', path: '/metadata/finalizers' }];
    const json = setHeaderOptions('Content-Type', PatchStrategy.JsonPatch);
    for (const s of (await this.core.listNamespacedService({ namespace: this.ns }).catch(() => ({ items: [] as V1Service[] }))).items) {
      if (s.metadata?.finalizers?.length) await this.core.patchNamespacedService({ namespace: this.ns, name: s.metadata.name ?? '', body: strip }, json).catch(() => {});
    }
    for (const i of (await this.networking.listNamespacedIngress({ namespace: this.ns }).catch(() => ({ items: [] as V1Ingress[] }))).items) {
      if (i.metadata?.finalizers?.length) await this.networking.patchNamespacedIngress({ namespace: this.ns, name: i.metadata.name ?? '', body: strip }, json).catch(() => {});
    }
    await this.core.deleteNamespace({ name: this.ns }).catch(() => {});
    await this.core.deleteCollectionNode({ labelSelector: this.nodeLabel }).catch(() => {});
    for (const name of this.ingressClasses) await this.networking.deleteIngressClass({ name }).catch(() => {});
    await this.cluster.stop();
  }

  // ---- objects ------------------------------------------------------------------------

  async service(name: string, spec: V1Service['spec'], annotations?: Record<string, string>): Promise<V1Service> {
    return this.core.createNamespacedService({
      namespace: this.ns,
      body: { metadata: { name, ...(annotations ? { annotations } : {}) }, spec },
    });
  }

  lbService(name: string, annotations?: Record<string, string>, extra: Partial<NonNullable<V1Service['spec']>> = {}): Promise<V1Service> {
    return this.service(name, { type: 'LoadBalancer', ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }], ...extra }, annotations);
  }

  getService(name: string): Promise<V1Service | undefined> {
    return this.core.readNamespacedService({ namespace: this.ns, name }).catch((e: { code?: number }) => {
      if (e.code === 404) return undefined;
      throw e;
    });
  }

  async patchService(name: string, body: object): Promise<V1Service> {
    return this.core.patchNamespacedService({ namespace: this.ns, name, body }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
  }

  getIngress(name: string): Promise<V1Ingress | undefined> {
    return this.networking.readNamespacedIngress({ namespace: this.ns, name }).catch((e: { code?: number }) => {
      if (e.code === 404) return undefined;
      throw e;
    });
  }

  /** An IngressClass of this suite's controller name; removed at stop(). */
  async ingressClass(suffix: string, provider?: string): Promise<string> {
    const name = `${this.ns}-${suffix}`;
    await this.networking.createIngressClass({
      body: {
        metadata: { name },
        spec: {
          controller: this.config.ingress.controllerName,
          ...(provider ? { parameters: { apiGroup: 'lbc.dev', kind: 'Provider', name: provider } } : {}),
        },
      },
    });
    this.ingressClasses.push(name);
    return name;
  }

  /** A Ready Node carrying this suite's label. */
  async node(name: string, ip: string, ready = true): Promise<V1Node> {
    return this.core.createNode({
      body: {
        metadata: { name: `${this.ns}-${name}`, labels: { [this.nodeLabel]: 'true' } },
        status: {
          conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', reason: 'Test', message: 'test' }],
          addresses: [{ type: 'InternalIP', address: ip }],
        },
      },
    });
  }

  async setNodeReady(name: string, ready: boolean): Promise<void> {
    const node = await this.core.readNodeStatus({ name: `${this.ns}-${name}` });
    const conditions = (node.status?.conditions ?? []).map((c) => (c.type === 'Ready' ? { ...c, status: ready ? 'True' : 'False' } : c));
    await this.core.replaceNodeStatus({ name: `${this.ns}-${name}`, body: { ...node, status: { ...node.status, conditions } } });
  }

  /** A selectorless Service's hand-written EndpointSlice. */
  async endpointSlice(service: string, ips: readonly string[], port: number, portName = 'http', ready = true): Promise<void> {
    await this.discovery.createNamespacedEndpointSlice({
      namespace: this.ns,
      body: {
        metadata: { name: `${service}-manual`, labels: { 'kubernetes.io/service-name': service } },
        addressType: 'IPv4',
        ports: [{ name: portName, port, protocol: 'TCP' }],
        endpoints: ips.map((ip) => ({ addresses: [ip], conditions: { ready } })),
      },
    });
  }

  async events(name?: string): Promise<CoreV1Event[]> {
    const list = await this.core.listNamespacedEvent({ namespace: this.ns });
    return list.items
      .filter((e) => e.source?.component === 'lbc' && (name === undefined || e.involvedObject.name === name))
      .sort((a, b) => String(a.metadata?.creationTimestamp ?? '').localeCompare(String(b.metadata?.creationTimestamp ?? '')));
  }

  /** A Warning from lbc on the object `name` whose message holds every part, once it is written. */
  warningOn(name: string, ...parts: string[]): Promise<CoreV1Event> {
    return eventually(
      `a Warning on ${name} saying ${parts.join(', ')}`,
      async () => {
        await this.controller.recorder.flush();
        return (await this.events(name)).find((ev) => ev.type === 'Warning' && parts.every((p) => ev.message?.includes(p)));
      },
      20_000,
    );
  }

  /** Installs the CRDs of these upstream files (one CRD each) and waits until each is Established. */
  async installCrds(files: readonly string[]): Promise<void> {
    const api = this.cluster.kc.makeApiClient(ApiextensionsV1Api);
    for (const f of files) {
      const crd = parseAllDocuments(readFileSync(f, 'utf8'))[0]?.toJSON() as V1CustomResourceDefinition;
      await api.createCustomResourceDefinition({ body: crd }).catch((err: { code?: number }) => {
        if (err.code !== 409) throw err;
      });
      await eventually(`${crd.metadata?.name} Established`, async () => {
        const got = await api.readCustomResourceDefinition({ name: crd.metadata?.name ?? '' });
        return got.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True');
      }, 20_000);
    }
  }

  async reasons(name: string): Promise<string[]> {
    await this.controller.recorder.flush();
    return (await this.events(name)).map((e) => e.reason ?? '');
  }

  /** Every queued key processed and every Event written. */
  async settle(): Promise<void> {
    await this.controller.idle();
    await this.controller.recorder.flush();
  }
}

/** Polls until fn returns a value other than undefined/false; fails after timeoutMs with the last value. */
export async function eventually<T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
      last = v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export const hasOurFinalizer = (o: { metadata?: { finalizers?: string[] } } | undefined): boolean => o?.metadata?.finalizers?.includes(FINALIZER) ?? false;
