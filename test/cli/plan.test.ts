// `lbc plan` end to end: the controller converges a namespace with the memory provider
// and stops; then the cluster and the provider are changed behind its back, and plan
// (the CLI entry point, over real HTTP, with the same provider instances so their state
// is the controller's) must show exactly what the next reconcile and the garbage
// collector would do, exit 0/2/1 as terraform's -detailed-exitcode, and write nothing:
// every API request is recorded by devcluster, every provider call by a wrapper.
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PatchStrategy, setHeaderOptions, type CoreV1Api, type KubeConfig, type V1Service } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPlan, type PlanDeps, type PlanOptions } from '../../src/cli/plan.js';
import { validateConfig, type LbcConfig } from '../../src/config/config.js';
import { Controller } from '../../src/controller/controller.js';
import { FINALIZER } from '../../src/controller/reconcile.js';
import type { RequestAttributes } from '../../src/devcluster/server.js';
import { makeClients, type KubeClients } from '../../src/kube/client.js';
import type { MemoryProvider } from '../../src/providers/memory/index.js';
import { buildProviders, type ProviderSet } from '../../src/providers/registry.js';
import type { Provider } from '../../src/providers/types.js';
import { eventually } from '../e2e/harness.js';
import { startTestCluster, uniqueName, type TestCluster } from '../support/cluster.js';

const real = Boolean(process.env.KUBECONFIG);
const requests: RequestAttributes[] = [];
let recordingRequests = false;

let cluster: TestCluster;
let kc: KubeConfig;
let clients: KubeClients;
let core: CoreV1Api;
let ns: string;
let other: string;
let nodeLabel: string;
let configFile: string;
let config: LbcConfig;
let providers: ProviderSet;
let recorded: ProviderSet;
const providerCalls: string[] = [];

/** Every method call on every provider, by name: plan must never reach ensure or delete. */
function recordingProviders(set: ProviderSet, calls: string[]): ProviderSet {
  const wrap = (p: Provider): Provider =>
    new Proxy(p, {
      get(target, prop) {
        const v: unknown = Reflect.get(target, prop, target);
        if (typeof v !== 'function') return v;
        return (...args: unknown[]) => {
          calls.push(`${p.name}.${String(prop)}`);
          return (v as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
  const all = set.all.map(wrap);
  const byName = (n: string) => all.find((p) => p.name === n);
  return {
    all,
    byName,
    byClass: (c) => byName(set.byClass(c)?.name ?? ''),
    classOf: (n) => set.classOf(n),
    defaultProvider: set.defaultProvider && byName(set.defaultProvider.name),
    close: () => set.close(),
  };
}

async function startCluster(): Promise<TestCluster> {
  if (real) return startTestCluster();
  // Our own devcluster, for its request log; startTestCluster has no way to pass one.
  const { startDevCluster } = await import('../../src/devcluster/index.js');
  const dev = await startDevCluster({ port: 0, onRequest: (r) => void (recordingRequests && requests.push(r)) });
  return { kind: 'devcluster', kc: dev.kubeConfig(), kubeconfigPath: dev.kubeconfigPath, dev, stop: () => dev.stop() };
}

const mem = (): MemoryProvider => providers.byName('mem') as MemoryProvider;
const json = setHeaderOptions('Content-Type', PatchStrategy.JsonPatch);
const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

interface Run {
  code: number;
  out: string;
  err: string;
}

async function plan(opts: PlanOptions = {}, deps: PlanDeps = {}): Promise<Run> {
  let out = '';
  let err = '';
  recordingRequests = true;
  try {
    const code = await runPlan(
      { kubeconfig: cluster.kubeconfigPath, config: configFile, namespace: ns, ...opts },
      { providers: recorded, nodeLabelSelector: nodeLabel, out: (t) => (out += t), err: (t) => (err += t), ...deps },
    );
    return { code, out, err };
  } finally {
    recordingRequests = false;
  }
}

interface JsonObject {
  subject: { kind: string; namespace?: string; name?: string; group?: string; ref?: { namespace: string; name: string; uid: string }; id?: string };
  intent: { kind: string; provider?: string; reason?: string };
  status: string;
  outcome: {
    kind: string;
    cloud?: { provider: string; changes: { op: string; resource: string; id: string; fields?: string[] }[] }[];
    kube?: { op: string; resource: string; id: string }[];
    notes?: string[];
    message?: string;
  };
}

async function planJson(opts: PlanOptions = {}): Promise<{ code: number; objects: JsonObject[]; exitCode: number }> {
  const r = await plan({ ...opts, output: 'json' });
  expect(r.err).toBe('');
  const doc = JSON.parse(r.out) as { objects: JsonObject[]; exitCode: number };
  return { code: r.code, ...doc };
}

const svc = (objects: JsonObject[], name: string) => objects.find((o) => o.subject.kind === 'Service' && o.subject.name === name);
const cloudOf = (o: JsonObject | undefined) => (o?.outcome.cloud ?? []).flatMap((c) => c.changes.map((ch) => ({ provider: c.provider, ...ch })));

async function lbService(namespace: string, name: string, annotations?: Record<string, string>): Promise<V1Service> {
  return core.createNamespacedService({
    namespace,
    body: { metadata: { name, ...(annotations ? { annotations } : {}) }, spec: { type: 'LoadBalancer', ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }] } },
  });
}

const resourceVersions = async (): Promise<string[]> =>
  (await core.listNamespacedService({ namespace: ns })).items.map((s) => `${s.metadata?.name}@${s.metadata?.resourceVersion}`).sort();

beforeAll(async () => {
  cluster = await startCluster();
  kc = cluster.kc;
  clients = makeClients(kc);
  core = clients.core;
  ns = uniqueName('lbc-plan');
  other = uniqueName('lbc-plan-other');
  nodeLabel = `lbc-plan-node-${ns}`;
  const doc = {
    clusterName: ns,
    providers: [{ name: 'mem', type: 'memory', options: { addressPool: '198.51.100.0/24' } }],
    defaultClass: 'lbc.dev/mem',
    ingress: { controllerName: `lbc.dev/${ns}` },
    nodeReadyHysteresis: 0,
  };
  configFile = join(mkdtempSync(join(tmpdir(), 'lbc-plan-')), 'lbc.yaml');
  writeFileSync(configFile, JSON.stringify(doc));
  config = validateConfig(doc);
  providers = await buildProviders(config);
  recorded = recordingProviders(providers, providerCalls);

  for (const n of [ns, other]) await core.createNamespace({ body: { metadata: { name: n } } });
  for (const [i, name] of ['a', 'b'].entries()) {
    await core.createNode({
      body: {
        metadata: { name: `${ns}-${name}`, labels: { [nodeLabel]: 'true' } },
        status: { conditions: [{ type: 'Ready', status: 'True', reason: 'Test', message: 'test' }], addresses: [{ type: 'InternalIP', address: `10.9.0.${i + 1}` }] },
      },
    });
  }
  for (const name of ['web', 'api', 'leaving', 'ghost']) await lbService(ns, name);

  // The controller converges the namespace, then stops: from here on nothing reconciles.
  const controller = new Controller({
    clients,
    config,
    providers,
    namespace: ns,
    nodeLabelSelector: nodeLabel,
    log: { info: () => {}, warn: () => {} },
    gcIntervalMs: 0,
    resyncPeriodMs: 0,
    nodeDebounceMs: 50,
  });
  await controller.start();
  for (const name of ['web', 'api', 'leaving', 'ghost']) {
    await eventually(`an address for ${name}`, async () => (await core.readNamespacedService({ namespace: ns, name })).status?.loadBalancer?.ingress?.[0]?.ip);
  }
  await controller.idle();
  await controller.stop({ drainTimeoutMs: 1000 });

  // ghost goes without passing through lbc (finalizer stripped): its LB is an orphan.
  await core.patchNamespacedService({ namespace: ns, name: 'ghost', body: [{ op: 'remove', path: '/metadata/finalizers' }] }, json);
  await core.deleteNamespacedService({ namespace: ns, name: 'ghost' });
  // A Service in another namespace, lbc's by the default class, never reconciled.
  await lbService(other, 'elsewhere');
}, 60_000);

afterAll(async () => {
  if (!core) return;
  const strip = [{ op: 'remove', path: '/metadata/finalizers' }];
  for (const n of [ns, other]) {
    for (const s of (await core.listNamespacedService({ namespace: n }).catch(() => ({ items: [] as V1Service[] }))).items) {
      if (s.metadata?.finalizers?.length) await core.patchNamespacedService({ namespace: n, name: s.metadata.name ?? '', body: strip }, json).catch(() => {});
    }
    await core.deleteNamespace({ name: n }).catch(() => {});
  }
  await core.deleteCollectionNode({ labelSelector: nodeLabel }).catch(() => {});
  await providers?.close();
  await cluster?.stop();
});

describe('lbc plan against a converged namespace', () => {
  it('shows every Service in sync and exits 0, except the orphan the garbage collector would delete', async () => {
    const r = await planJson();
    for (const name of ['web', 'api', 'leaving']) {
      expect(svc(r.objects, name), name).toMatchObject({ intent: { kind: 'ensure', provider: 'mem' }, status: 'in-sync' });
    }
    const orphan = r.objects.find((o) => o.subject.kind === 'Orphan');
    expect(orphan).toMatchObject({ subject: { ref: { namespace: ns, name: 'ghost' } }, intent: { kind: 'delete' }, status: 'changes' });
    expect(cloudOf(orphan)).toEqual([
      expect.objectContaining({ provider: 'mem', op: 'delete', resource: 'LoadBalancer', id: mem().loadBalancers().find((lb) => lb.ref.name === 'ghost')?.id }),
    ]);
    expect(r.objects.map((o) => o.subject.name ?? o.subject.ref?.name)).not.toContain('elsewhere');
    expect(r.code).toBe(2);
    expect(r.exitCode).toBe(2);
  });

  it('exits 0 when the only difference is gone', async () => {
    const ghost = mem().loadBalancers().find((lb) => lb.ref.name === 'ghost' && lb.ref.namespace === ns);
    expect(ghost).toBeDefined();
    await providers.byName('mem')?.delete(ghost!.ref);
    const r = await plan();
    expect(r.code).toBe(0);
    expect(r.out).toContain(`= Service ${ns}/web [mem] in sync`);
    expect(r.out).toMatch(/Plan: 0 to create, 0 to change, 0 to delete; 0 object\(s\) with changes, 3 in sync, 0 with errors\./);
  });

  it('shows a changed Service with the resources and fields that differ, and exits 2', async () => {
    await core.patchNamespacedService(
      { namespace: ns, name: 'web', body: { spec: { ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }, { name: 'https', port: 443, targetPort: 8443, protocol: 'TCP' }] } } },
      merge,
    );
    await core.patchNamespacedService({ namespace: ns, name: 'api', body: { spec: { loadBalancerSourceRanges: ['192.0.2.0/24'] } } }, merge);
    const r = await planJson();
    expect(r.code).toBe(2);
    expect(cloudOf(svc(r.objects, 'web'))).toEqual([
      expect.objectContaining({ op: 'create', resource: 'TargetSet', id: 'tcp-443' }),
      expect.objectContaining({ op: 'create', resource: 'Listener', id: 'TCP:443' }),
    ]);
    expect(cloudOf(svc(r.objects, 'api'))).toEqual([expect.objectContaining({ op: 'update', resource: 'LoadBalancer', fields: ['sourceRanges'] })]);
    expect(svc(r.objects, 'leaving')?.status).toBe('in-sync');

    const text = await plan();
    expect(text.out).toContain(`~ Service ${ns}/web [mem]\n    + TargetSet tcp-443\n    + Listener TCP:443\n`);
    expect(text.out).toContain(`~ Service ${ns}/api [mem]\n    ~ LoadBalancer ${svc(r.objects, 'api') && (await core.readNamespacedService({ namespace: ns, name: 'api' })).metadata?.uid} (sourceRanges)\n`);
  });

  it('shows a new Service as created, with the finalizer lbc would add', async () => {
    await lbService(ns, 'fresh');
    const r = await planJson({ target: 'svc/fresh' });
    expect(r.objects).toHaveLength(1);
    expect(cloudOf(svc(r.objects, 'fresh')).map((c) => `${c.op} ${c.resource}`)).toEqual(['create LoadBalancer', 'create TargetSet', 'create Listener']);
    expect(svc(r.objects, 'fresh')?.outcome.kube).toEqual([expect.objectContaining({ op: 'create', resource: 'Finalizer', id: `Service ${ns}/fresh` })]);
    expect((await plan({ target: 'svc/fresh' })).out).toContain(`+ Service ${ns}/fresh [mem]`);
  });

  it('shows deletions: a Service being deleted and one that is no longer lbc\'s, both still holding the finalizer', async () => {
    await core.deleteNamespacedService({ namespace: ns, name: 'leaving' });
    // loadBalancerClass is immutable on a LoadBalancer Service: leaving lbc means changing the type.
    await core.patchNamespacedService(
      {
        namespace: ns,
        name: 'api',
        body: { spec: { type: 'ClusterIP', loadBalancerSourceRanges: null, allocateLoadBalancerNodePorts: null, externalTrafficPolicy: null, ports: [{ name: 'http', port: 80, targetPort: 8080, nodePort: null }] } },
      },
      merge,
    );
    const leavingId = mem().loadBalancers().find((lb) => lb.ref.name === 'leaving' && lb.ref.namespace === ns)?.id;
    const apiId = mem().loadBalancers().find((lb) => lb.ref.name === 'api' && lb.ref.namespace === ns)?.id;
    const r = await planJson();
    expect(r.code).toBe(2);
    const leaving = svc(r.objects, 'leaving');
    expect(leaving?.intent).toEqual({ kind: 'delete', reason: 'the Service is being deleted' });
    expect(cloudOf(leaving)).toEqual([expect.objectContaining({ provider: 'mem', op: 'delete', resource: 'LoadBalancer', id: leavingId })]);
    expect(leaving?.outcome.kube).toEqual([expect.objectContaining({ op: 'delete', resource: 'Finalizer', id: `Service ${ns}/leaving` })]);
    const api = svc(r.objects, 'api');
    expect(api?.intent.kind).toBe('delete');
    expect(api?.intent.reason).toBe("no longer lbc's: type is ClusterIP, not LoadBalancer");
    expect(cloudOf(api)).toEqual([expect.objectContaining({ op: 'delete', resource: 'LoadBalancer', id: apiId })]);
    expect(api?.outcome.kube?.map((k) => `${k.op} ${k.resource}`)).toEqual(['update Status', 'delete Finalizer']);
    const text = (await plan()).out;
    expect(text).toContain(`- Service ${ns}/leaving [delete: the Service is being deleted]\n    - mem: LoadBalancer ${leavingId}`);
    expect(text).toContain(`    - kubernetes: Finalizer Service ${ns}/leaving — ${FINALIZER}`);
  });

  it('reports bad input as an error line for that object, plans the others, and exits 1', async () => {
    await lbService(ns, 'bad', { 'memory.lbc.dev/tier': 'gold' });
    const r = await planJson();
    expect(r.code).toBe(1);
    const bad = svc(r.objects, 'bad');
    expect(bad?.status).toBe('invalid');
    expect(bad?.outcome.message).toContain('annotation memory.lbc.dev/tier');
    expect(svc(r.objects, 'web')?.status).toBe('changes');
    expect((await plan()).out).toMatch(new RegExp(`! Service ${ns}/bad \\[mem\\]\\n    invalid: Service ${ns}/bad: annotation memory\\.lbc\\.dev/tier: `));
    await core.deleteNamespacedService({ namespace: ns, name: 'bad' });
  });

  it('plans one named object only', async () => {
    const r = await planJson({ target: 'svc/web' });
    expect(r.objects.map((o) => o.subject.name)).toEqual(['web']);
    expect(r.code).toBe(2);
    const missing = await planJson({ target: 'service/nope' });
    expect(missing.code).toBe(1);
    expect(missing.objects).toEqual([expect.objectContaining({ status: 'failed', outcome: { kind: 'failed', message: `Service ${ns}/nope not found` } })]);
  });

  it('plans one namespace only', async () => {
    const here = await planJson();
    expect(here.objects.every((o) => o.subject.namespace === ns || o.subject.ref?.namespace === ns)).toBe(true);
    const there = await planJson({ namespace: other });
    expect(there.objects.map((o) => `${o.subject.namespace}/${o.subject.name} ${o.status}`)).toEqual([`${other}/elsewhere changes`]);
  });

  it('made no write: only get/list/watch reached the API server, only plan/listOwned/parseOptions/restore reached the provider', async () => {
    const before = await resourceVersions();
    const ensures = mem().callsOf('ensure').length;
    const deletes = mem().callsOf('delete').length;
    requests.length = 0;
    providerCalls.length = 0;
    await plan();
    await plan({ output: 'json' });
    await plan({ target: 'svc/leaving' });
    expect(await resourceVersions()).toEqual(before);
    expect(mem().callsOf('ensure')).toHaveLength(ensures);
    expect(mem().callsOf('delete')).toHaveLength(deletes);
    expect(providerCalls).toContain('mem.plan');
    expect(providerCalls).toContain('mem.listOwned');
    // restore: told the addresses the statuses hold, as a restarted controller tells it, so the plan keeps them too.
    expect(providerCalls).toContain('mem.restore');
    expect([...new Set(providerCalls)].sort()).toEqual(['mem.listOwned', 'mem.parseOptions', 'mem.plan', 'mem.restore']);
    if (!real) {
      expect(requests.length).toBeGreaterThan(0);
      // Without the Gateway API CRDs, the probes for its kinds reach paths devcluster does not
      // serve (404), recorded without resource attributes: collection GETs, lists on a real server.
      const probes = requests.filter((q) => !q.resource);
      expect(probes.every((q) => q.method === 'GET' && q.path.startsWith('/apis/gateway.networking.k8s.io/'))).toBe(true);
      expect([...new Set(requests.filter((q) => q.resource).map((q) => q.verb))].sort()).toEqual(['list']);
      expect(requests.filter((q) => q.method !== 'GET')).toEqual([]);
    }
  });
});

describe('lbc plan as a command', () => {
  it('builds its own providers from --config and says that in-process ones start empty', async () => {
    const r = await plan({ target: 'svc/web' }, { providers: undefined });
    const web = await core.readNamespacedService({ namespace: ns, name: 'web' });
    expect(r.code).toBe(2);
    expect(r.out).toContain('note: provider mem keeps its load balancers inside the controller process');
    // web holds lbc's finalizer, so it is not new to lbc, only to this empty provider.
    expect(r.out).toContain(`~ Service ${ns}/web [mem]\n    + LoadBalancer ${web?.metadata?.uid}\n`);
  });

  it('hands the exit code and the JSON to the shell', async () => {
    const tsx = resolve('node_modules/tsx/dist/esm/index.mjs');
    const args = ['--import', tsx, resolve('src/cli/main.ts'), 'plan', '--kubeconfig', cluster.kubeconfigPath, '--config', configFile, '-n', ns, 'svc/web', '-o', 'json'];
    const { code, stdout } = await new Promise<{ code: number | null; stdout: string }>((done, fail) => {
      execFile(process.execPath, args, { timeout: 60_000 }, (e, stdout) => {
        const code = e ? (e as { code?: unknown }).code : 0;
        if (e && typeof code !== 'number') fail(e);
        else done({ code: typeof code === 'number' ? code : 0, stdout });
      });
    });
    expect(code).toBe(2);
    const doc = JSON.parse(stdout) as { exitCode: number; objects: JsonObject[] };
    expect(doc.exitCode).toBe(2);
    expect(doc.objects.map((o) => o.subject.name)).toEqual(['web']);
  }, 90_000);
});

describe('lbc plan exit code 1', () => {
  it('on a configuration that does not validate', async () => {
    const bad = join(mkdtempSync(join(tmpdir(), 'lbc-plan-')), 'bad.yaml');
    writeFileSync(bad, 'clusterName: Not_A_Label\nproviders: []\n');
    const r = await plan({ config: bad }, { providers: undefined });
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expect(r.err).toMatch(/^lbc plan: invalid configuration in .*bad\.yaml:\n {2}clusterName: must be a DNS label/);
  });

  it('on a cluster that cannot be reached', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lbc-plan-'));
    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(
      kubeconfig,
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'gone', cluster: { server: 'https://127.0.0.1:1' } }],
        users: [{ name: 'u', user: { token: 't' } }],
        contexts: [{ name: 'c', context: { cluster: 'gone', user: 'u' } }],
        'current-context': 'c',
      }),
    );
    const r = await plan({ kubeconfig });
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expect(r.err).toMatch(/^lbc plan: /);
  });

  it('on an object argument that names no kind lbc plans', async () => {
    const r = await plan({ target: 'deployment/web' });
    expect(r.code).toBe(1);
    expect(r.err).toContain('name an object as svc/NAME, ingress/NAME or gateway/NAME');
  });
});
