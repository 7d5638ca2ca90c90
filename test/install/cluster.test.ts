// The install against a real kube-apiserver (KUBECONFIG; skipped without one): every
// object of every provider's manifests, and of its kustomize overlay, passes server-side validation, and with the
// metal install applied, the controller and a speaker each run with nothing but their
// own ServiceAccount's token, so the roles are proven enough on a server that enforces
// RBAC (and proven enforced: the same token is refused what the roles do not grant).
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { parseConfig } from '../../src/config/config.js';
import { INSTALL_PROVIDERS } from '../../src/install/config-file.js';
import { KUSTOMIZE_DIR } from '../../src/install/deploy-files.js';
import { buildManifests, manifestsYaml, type KubeObject } from '../../src/install/manifests.js';
import { makeClients } from '../../src/kube/client.js';
import { parseMetalOptions } from '../../src/providers/metal/options.js';
import { LEASE_PROVIDER_LABEL } from '../../src/providers/metal/speaker/lease.js';
import { Speaker } from '../../src/providers/metal/speaker/speaker.js';
import { freePort, localArgs, until } from './support.js';

const ROOT = join(import.meta.dirname, '../..');
const KUBECONFIG = process.env.KUBECONFIG;
const HAS_KUBECTL = spawnSync('kubectl', ['version', '--client'], { stdio: 'ignore' }).status === 0;
const hex = randomBytes(3).toString('hex');
const NAMESPACE = `lbc-install-${hex}`;
const WORKLOADS = `lbc-install-apps-${hex}`;
// A class (and Ingress controller name) of this run's own: other suites share the cluster, and their objects must not become this controller's.
const CLASS = `lbc.dev/install-${hex}`;

function kubectl(args: string[], input?: string): { code: number | null; out: string } {
  const r = spawnSync('kubectl', args, { input, encoding: 'utf8', env: { ...process.env, KUBECONFIG } });
  return { code: r.status, out: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

const METAL = { provider: 'metal', namespace: NAMESPACE, addresses: ['192.0.2.0/28'] } as const;

describe.skipIf(!KUBECONFIG || !HAS_KUBECTL)('install on a real cluster (needs KUBECONFIG, e.g. ../shared/kube/with-cluster.sh, and kubectl; skipped without)', () => {
  // A pool in the config file, as `lbc manifests --provider metal --addresses` writes it (without one the pools are MetalLB's resources).
  const objects = buildManifests(METAL);
  let dir: string;
  let admin: CoreV1Api;

  /** A kubeconfig for the cluster that authenticates as the ServiceAccount, with a fresh bound token. */
  function serviceAccountKubeconfig(sa: string): string {
    const kc = new KubeConfig();
    kc.loadFromFile(KUBECONFIG!);
    const cluster = kc.getCurrentCluster()!;
    const token = kubectl(['-n', NAMESPACE, 'create', 'token', sa, '--duration', '1h']);
    expect(token.code, token.out).toBe(0);
    const file = join(dir, `${sa}.kubeconfig`);
    writeFileSync(
      file,
      stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'c', cluster: { server: cluster.server, ...(cluster.caFile ? { 'certificate-authority': cluster.caFile } : {}), ...(cluster.caData ? { 'certificate-authority-data': cluster.caData } : {}) } }],
        users: [{ name: sa, user: { token: token.out.trim() } }],
        contexts: [{ name: sa, context: { cluster: 'c', user: sa } }],
        'current-context': sa,
      }),
      { mode: 0o600 },
    );
    return file;
  }

  function clientsFrom(kubeconfig: string): ReturnType<typeof makeClients> {
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfig);
    return makeClients(kc);
  }

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'lbc-install-cluster-'));
    const kc = new KubeConfig();
    kc.loadFromFile(KUBECONFIG!);
    admin = kc.makeApiClient(CoreV1Api);
    // Server-side dry run of namespaced objects needs their namespace to exist.
    for (const ns of [NAMESPACE, WORKLOADS]) expect(kubectl(['create', 'namespace', ns]).code).toBe(0);
  });

  afterAll(() => {
    kubectl(['delete', 'namespace', NAMESPACE, WORKLOADS, '--wait=false', '--ignore-not-found']);
    kubectl(['delete', 'clusterrole,clusterrolebinding', 'lbc-controller', 'lbc-speaker', '--ignore-not-found']);
    kubectl(['delete', 'node', `lbc-install-${hex}`, '--ignore-not-found']);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  for (const provider of INSTALL_PROVIDERS) {
    it(`${provider}: every object passes the API server's validation (apply --dry-run=server, strict fields)`, () => {
      const yaml = manifestsYaml({ provider, namespace: NAMESPACE });
      const r = kubectl(['apply', '--dry-run=server', '--validate=strict', '-f', '-'], yaml);
      expect(r.code, r.out).toBe(0);
      for (const o of buildManifests({ provider, namespace: NAMESPACE })) {
        expect(r.out).toMatch(new RegExp(`${o.kind.toLowerCase()}[^ ]*/${o.metadata.name} (created|configured|unchanged) \\(server dry run\\)`));
      }
    });
  }

  for (const provider of INSTALL_PROVIDERS) {
    it(`${provider}: deploy/kustomize/overlays/${provider} passes the API server's validation (apply -k --dry-run=server, strict fields)`, () => {
      // As a user's own overlay would take it: this run's namespace instead of lbc-system,
      // which the server's dry run needs to exist. (Kustomize refuses an absolute path.)
      const own = join(dir, `kustomize-${provider}`);
      mkdirSync(own);
      writeFileSync(join(own, 'kustomization.yaml'), stringify({ namespace: NAMESPACE, resources: [relative(own, join(ROOT, KUSTOMIZE_DIR, 'overlays', provider))] }));
      const r = kubectl(['apply', '--dry-run=server', '--validate=strict', '-k', own]);
      expect(r.code, r.out).toBe(0);
      for (const o of buildManifests({ provider, namespace: NAMESPACE })) {
        expect(r.out).toMatch(new RegExp(`${o.kind.toLowerCase()}[^ ]*/${o.metadata.name} (created|configured|unchanged) \\(server dry run\\)`));
      }
    });
  }

  it('the controller runs with exactly its ServiceAccount\'s permissions', async () => {
    const r = kubectl(['apply', '--validate=strict', '-f', '-'], manifestsYaml(METAL));
    expect(r.code, r.out).toBe(0);
    const kubeconfig = serviceAccountKubeconfig('lbc-controller');
    const asController = clientsFrom(kubeconfig);
    // The authorizer learns of new bindings through its own watch: start once it has.
    await until('the roles to take effect', () => asController.core.listServiceForAllNamespaces({ limit: 1 }).then(() => true, () => false), 10_000);
    // RBAC is enforced for this token: what the roles leave out is refused.
    await expect(asController.core.listConfigMapForAllNamespaces()).rejects.toMatchObject({ code: 403 });

    const configMap = objects.find((o) => o.kind === 'ConfigMap') as KubeObject & { data: Record<string, string> };
    const config = parse(configMap.data['config.yaml']!) as { providers: { class?: string }[]; defaultClass?: string; ingress?: { controllerName: string }; gateway?: { controllerName: string } };
    config.providers[0]!.class = CLASS;
    // Only this test's objects: the other suites' Services, Ingresses and Gateways (their
    // GatewayClasses name lbc's default controllerName) are not this controller's to touch.
    config.ingress = { controllerName: CLASS };
    config.gateway = { controllerName: CLASS };
    delete config.defaultClass;
    writeFileSync(join(dir, 'config.yaml'), stringify(config));

    const deployment = objects.find((o) => o.kind === 'Deployment') as KubeObject & { spec: { template: { spec: { containers: { args: string[] }[] } } } };
    const { args } = await localArgs(deployment.spec.template.spec.containers[0]!.args, kubeconfig, join(dir, 'config.yaml'));
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, KUBECONFIG: '' } });
    let output = '';
    let exited: string | undefined;
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const done = new Promise<number | null>((resolve) =>
      child.on('exit', (code, signal) => {
        exited = `the controller exited (code ${code}, signal ${signal}): ${output.slice(-2000)}`;
        resolve(code);
      }),
    );
    // Fail at the first refusal, naming it, rather than at the timeout it would lead to.
    const died = (): string | undefined => exited ?? (/forbidden/i.test(output) ? `the API server refused the controller: ${output.split('\n').filter((l) => /forbidden/i.test(l))[0]}` : undefined);
    try {
      await admin.createNode({
        body: {
          metadata: { name: `lbc-install-${hex}` },
          status: { conditions: [{ type: 'Ready', status: 'True', reason: 'Test', message: 'test' }], addresses: [{ type: 'InternalIP', address: '10.255.0.1' }] },
        },
      });
      await admin.createNamespacedService({
        namespace: WORKLOADS,
        body: { metadata: { name: 'web' }, spec: { type: 'LoadBalancer', loadBalancerClass: CLASS, selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080, protocol: 'TCP' }] } },
      });
      const svc = () => admin.readNamespacedService({ namespace: WORKLOADS, name: 'web' });
      await until('an address from the pool', async () => ((await svc()).status?.loadBalancer?.ingress?.[0]?.ip ?? '').startsWith('192.0.2.'), 60_000, died);
      expect((await svc()).metadata?.finalizers).toContain('lbc.dev/load-balancer-cleanup');
      const events = await admin.listNamespacedEvent({ namespace: WORKLOADS });
      expect(events.items.map((e) => e.reason)).toContain('EnsuredLoadBalancer');
      await admin.deleteNamespacedService({ namespace: WORKLOADS, name: 'web' });
      await until(
        'the controller to release the deleted Service',
        () => svc().then(() => false, (e: { code?: number }) => e.code === 404),
        30_000,
        died,
      );
      child.kill('SIGTERM');
      expect(await done, output.slice(-2000)).toBe(0);
      expect(output).not.toMatch(/forbidden/i);
    } finally {
      if (exited === undefined) child.kill('SIGKILL');
    }
  }, 150_000);

  it('a speaker runs with exactly its ServiceAccount\'s permissions', async () => {
    expect(kubectl(['apply', '--validate=strict', '-f', '-'], manifestsYaml(METAL)).code).toBe(0);
    const clients = clientsFrom(serviceAccountKubeconfig('lbc-speaker'));
    await until('the roles to take effect', () => clients.core.listServiceForAllNamespaces({ limit: 1 }).then(() => true, () => false), 10_000);
    await expect(clients.core.listSecretForAllNamespaces()).rejects.toMatchObject({ code: 403 });
    const configMap = objects.find((o) => o.kind === 'ConfigMap') as KubeObject & { data: Record<string, string> };
    const config = parseConfig(configMap.data['config.yaml']!);
    const metal = config.providers[0]!;
    const warnings: string[] = [];
    const speaker = new Speaker({
      node: `lbc-install-${hex}`,
      provider: metal.name,
      metal: parseMetalOptions({ ...metal.options, speaker: { ...(metal.options.speaker as object), gossipPort: await freePort() } }),
      ownership: config,
      clients,
      log: { info: () => {}, warn: (m) => warnings.push(m) },
      hostInterfaces: () => [{ name: 'eth0', ifindex: 1, mac: '02:00:00:00:00:01', cidrs: ['192.0.2.100/24'] }],
      socketFactory: () => ({ send: () => {}, join: () => {}, leave: () => {}, close: () => {} }),
      gossipBind: { v4: '127.0.0.1', v6: '::1' },
    });
    // Only the speakers' Leases: the controller's leader-election Lease lives in the same namespace.
    const leases = () => clients.coordination.listNamespacedLease({ namespace: NAMESPACE, labelSelector: `${LEASE_PROVIDER_LABEL}=${metal.name}` }).then((l) => l.items.length);
    try {
      await speaker.start();
      await until('the speaker\'s Lease', async () => (await leases()) > 0, 30_000);
    } finally {
      await speaker.stop({ clean: true });
    }
    expect(await leases()).toBe(0);
    expect(warnings.filter((w) => /forbidden|403/i.test(w))).toEqual([]);
  }, 90_000);
});
