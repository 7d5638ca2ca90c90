// The roles `lbc manifests` ships grant exactly what lbc's code uses. Statically: the
// permissions each workload's command reaches in the source (test/install/code-permissions.ts)
// against the rules bound to its ServiceAccount, both ways. At run time: the controller,
// started with the Deployment's own arguments, and a speaker, each against a devcluster
// that records every request, through a scenario; every request must be one the roles allow.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { parseConfig } from '../../src/config/config.js';
import { startDevCluster, type DevCluster } from '../../src/devcluster/index.js';
import type { RequestAttributes } from '../../src/devcluster/server.js';
import { INSTALL_PROVIDERS } from '../../src/install/config-file.js';
import { buildManifests, type KubeObject } from '../../src/install/manifests.js';
import { permissionsOf } from '../../src/install/rbac.js';
import { makeClients } from '../../src/kube/client.js';
import { parseMetalOptions } from '../../src/providers/metal/options.js';
import { Speaker } from '../../src/providers/metal/speaker/speaker.js';
import { installMetalLbCrds } from '../support/metallb-crds.js';
import { allowed, publicPath } from './authorize.js';
import { installGatewayApiCrds } from '../support/gateway-crds.js';
import { permissionKey, permissionsUsedBy } from './code-permissions.js';
import { freePort, localArgs, until } from './support.js';

const ROOT = join(import.meta.dirname, '../..');
const NAMESPACE = 'lbc-system';
const objects = buildManifests({ provider: 'metal', namespace: NAMESPACE });

function container(): Record<string, unknown> {
  const d = objects.find((o) => o.kind === 'Deployment') as KubeObject & { spec: { template: { spec: { containers: Record<string, unknown>[] } } } };
  return d.spec.template.spec.containers[0]!;
}

function workload(kind: 'Deployment' | 'DaemonSet'): { args: string[]; serviceAccount: string } {
  const w = objects.find((o) => o.kind === kind) as KubeObject & {
    spec: { template: { spec: { serviceAccountName: string; containers: { args: string[] }[] } } };
  };
  return { args: w.spec.template.spec.containers[0]!.args, serviceAccount: w.spec.template.spec.serviceAccountName };
}

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

/** Every (group, resource, verb) the roles bound to this ServiceAccount grant, as `group/resource:verb`. */
function granted(all: readonly KubeObject[], serviceAccount: string): Set<string> {
  const out = new Set<string>();
  for (const b of all.filter((o) => o.kind === 'ClusterRoleBinding' || o.kind === 'RoleBinding')) {
    const subjects = b.subjects as { kind: string; name: string; namespace: string }[];
    if (!subjects.some((s) => s.kind === 'ServiceAccount' && s.name === serviceAccount && s.namespace === NAMESPACE)) continue;
    const ref = b.roleRef as { kind: string; name: string };
    const role = all.find((o) => o.kind === ref.kind && o.metadata.name === ref.name);
    for (const r of (role?.rules as Rule[] | undefined) ?? []) {
      for (const apiGroup of r.apiGroups) for (const resource of r.resources) for (const verb of r.verbs) out.add(permissionKey({ apiGroup, resource, verb }));
    }
  }
  return out;
}

describe('RBAC from the code', () => {
  for (const [kind, component] of [
    ['Deployment', 'controller'],
    ['DaemonSet', 'speaker'],
  ] as const) {
    it(`${component}: the roles grant exactly what its command's code uses`, () => {
      const { args, serviceAccount } = workload(kind);
      // The workload's first argument is the lbc command, and each command lives in src/cli/<command>.ts.
      const used = permissionsUsedBy(`src/cli/${args[0]}.ts`);
      const usedKeys = new Set(used.map(permissionKey));
      const grants = granted(objects, serviceAccount);
      const missing = [...usedKeys].filter((k) => !grants.has(k)).map((k) => `${k} (${used.filter((u) => permissionKey(u) === k).map((u) => u.from).join(', ')})`);
      expect(missing.sort(), 'used by the code, not granted').toEqual([]);
      const why = (k: string) => permissionsOf(component).find((p) => p.verbs.some((verb) => permissionKey({ ...p, verb }) === k))?.why ?? '?';
      expect([...grants].filter((k) => !usedKeys.has(k)).map((k) => `${k} (granted for: ${why(k)})`).sort(), 'granted, used by nothing').toEqual([]);
    });
  }

  it('namespaced grants are for Leases only; everything else is cluster-wide because Services and Ingresses are, and MetalLB\'s namespace is not lbc\'s', () => {
    const roles = objects.filter((o) => o.kind === 'Role');
    expect(roles.length).toBe(2);
    for (const r of roles) {
      expect(r.metadata.namespace).toBe(NAMESPACE);
      for (const rule of r.rules as Rule[]) expect(rule.resources).toEqual(['leases']);
    }
  });

  it('every provider ships the same controller roles (providers make no Kubernetes calls of their own)', () => {
    const rolesOf = (objs: KubeObject[]) => JSON.stringify(objs.filter((o) => /Role/.test(o.kind) && o.metadata.name === 'lbc-controller'));
    for (const provider of INSTALL_PROVIDERS) expect(rolesOf(buildManifests({ provider, namespace: NAMESPACE }))).toBe(rolesOf(objects));
  });
});

// ---- at run time, against a recording devcluster ---------------------------------------

function denied(records: readonly RequestAttributes[], serviceAccount: string): string[] {
  const out: string[] = [];
  for (const r of records) {
    const ok = r.resource
      ? allowed(objects, { namespace: NAMESPACE, name: serviceAccount }, {
          verb: r.verb,
          group: r.resource.group,
          resource: r.resource.subresource ? `${r.resource.resource}/${r.resource.subresource}` : r.resource.resource,
          ...(r.resource.namespace !== undefined ? { namespace: r.resource.namespace } : {}),
          ...(r.resource.name !== undefined ? { name: r.resource.name } : {}),
        })
      : publicPath(r.path);
    if (!ok) out.push(`${r.verb} ${r.path}`);
  }
  return [...new Set(out)].sort();
}

describe('the run-time check itself', () => {
  it('refuses what the roles leave out: other resources, Leases outside lbc\'s namespace or of another name, a subresource, private paths', () => {
    const req = (verb: string, path: string, resource?: RequestAttributes['resource']): RequestAttributes => ({ method: 'GET', path, verb, ...(resource ? { resource } : {}) });
    const records = [
      req('list', '/api/v1/configmaps', { group: '', resource: 'configmaps' }),
      req('get', '/apis/coordination.k8s.io/v1/namespaces/default/leases/x', { group: 'coordination.k8s.io', resource: 'leases', namespace: 'default', name: 'x' }),
      req('get', `/apis/coordination.k8s.io/v1/namespaces/${NAMESPACE}/leases/lbc-leader`, { group: 'coordination.k8s.io', resource: 'leases', namespace: NAMESPACE, name: 'lbc-leader' }),
      req('update', `/apis/coordination.k8s.io/v1/namespaces/${NAMESPACE}/leases/other`, { group: 'coordination.k8s.io', resource: 'leases', namespace: NAMESPACE, name: 'other' }),
      req('update', '/api/v1/namespaces/a/services/b/status', { group: '', resource: 'services', subresource: 'status', namespace: 'a', name: 'b' }),
      req('get', '/metrics'),
      req('get', '/apis'),
    ];
    expect(denied(records, 'lbc-controller')).toEqual([
      'get /apis/coordination.k8s.io/v1/namespaces/default/leases/x',
      'get /metrics',
      'list /api/v1/configmaps',
      'update /api/v1/namespaces/a/services/b/status',
      `update /apis/coordination.k8s.io/v1/namespaces/${NAMESPACE}/leases/other`,
    ]);
  });
});

describe('RBAC at run time: every request a scenario makes is allowed', () => {
  let dev: DevCluster;
  let dir: string;
  let recording: RequestAttributes[] | undefined;
  const configMap = objects.find((o) => o.kind === 'ConfigMap') as KubeObject & { data: Record<string, string> };

  beforeAll(async () => {
    dev = await startDevCluster({ port: 0, onRequest: (r) => recording?.push(r) });
    // With the Gateway API installed, the controller also watches its kinds: their grants are exercised too.
    await installGatewayApiCrds(dev.kubeConfig());
    // MetalLB's CRDs installed (before recording), so the processes read its resources as on a cluster that has them;
    // the BGP kinds too, which the controller watches for their Warning Events.
    await installMetalLbCrds(dev.kubeConfig(), ['ipaddresspools', 'l2advertisements', 'servicel2statuses', 'bgppeers', 'bgpadvertisements', 'communities', 'bfdprofiles']);
    dir = mkdtempSync(join(tmpdir(), 'lbc-install-rbac-'));
    writeFileSync(join(dir, 'config.yaml'), configMap.data['config.yaml']!);
    const ns = dev.store.findKind('', 'Namespace')!;
    dev.store.create(ns, { metadata: { name: NAMESPACE } });
    // The scenario is written to the store directly, so every HTTP request devcluster sees is the process under test's.
    const node = dev.store.findKind('', 'Node')!;
    dev.store.create(node, {
      metadata: { name: 'n1', labels: { 'kubernetes.io/hostname': 'n1' } },
      status: { conditions: [{ type: 'Ready', status: 'True' }], addresses: [{ type: 'InternalIP', address: '10.0.0.1' }] },
    });
    dev.store.create(dev.store.findKind('', 'Secret')!, {
      metadata: { name: 'tls', namespace: 'default' },
      type: 'kubernetes.io/tls',
      data: { 'tls.crt': '', 'tls.key': '' },
    });
    // The pool the scenario's Services get addresses from: MetalLB's, as the manifests define none (#20).
    dev.store.create(ns, { metadata: { name: 'metallb-system' } });
    dev.store.create(dev.store.findKind('metallb.io', 'IPAddressPool')!, {
      apiVersion: 'metallb.io/v1beta1',
      kind: 'IPAddressPool',
      metadata: { name: 'default', namespace: 'metallb-system' },
      spec: { addresses: ['192.0.2.0/28'] },
    });
    dev.store.create(dev.store.findKind('networking.k8s.io', 'IngressClass')!, {
      metadata: { name: 'lbc' },
      spec: { controller: 'lbc.dev/ingress-controller', parameters: { apiGroup: 'lbc.dev', kind: 'Provider', name: 'metal' } },
    });
  });

  afterAll(async () => {
    await dev?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('controller: `lbc run` with the Deployment\'s arguments, as a child process', async () => {
    const { args, serviceAccount } = workload('Deployment');
    const svcType = dev.store.findKind('', 'Service')!;
    const ingType = dev.store.findKind('networking.k8s.io', 'Ingress')!;
    recording = [];
    const local = await localArgs(args, dev.kubeconfigPath, join(dir, 'config.yaml'));
    const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...local.args], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, KUBECONFIG: '' },
    });
    const state = { exited: undefined as string | undefined, output: '' };
    child.stdout!.on('data', (d: Buffer) => (state.output += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (state.output += d.toString()));
    const exited = new Promise<number | null>((resolve) =>
      child.on('exit', (code, signal) => {
        state.exited = `code ${code} signal ${signal}: ${state.output.slice(-2000)}`;
        resolve(code);
      }),
    );
    try {
      dev.store.create(svcType, {
        metadata: { name: 'web', namespace: 'default' },
        spec: { type: 'LoadBalancer', selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }] },
      });
      dev.store.create(ingType, {
        metadata: { name: 'site', namespace: 'default' },
        spec: { ingressClassName: 'lbc', tls: [{ secretName: 'tls' }], defaultBackend: { service: { name: 'web', port: { number: 80 } } } },
      });
      const svc = () => dev.store.get(svcType, 'default', 'web') as { metadata: { finalizers?: string[] }; status?: { loadBalancer?: { ingress?: unknown[] } } } | undefined;
      await until('the Service to get an address', () => (svc()?.status?.loadBalancer?.ingress?.length ?? 0) > 0, 60_000, () => state.exited);
      // The Deployment's probes and metrics port answer where its arguments put them.
      const health = local.ports['--health-probe-bind-address'];
      for (const probe of ['livenessProbe', 'readinessProbe'] as const) {
        const path = (container() as Record<string, { httpGet: { path: string } }>)[probe]!.httpGet.path;
        expect((await fetch(`http://127.0.0.1:${health}${path}`)).status, `${probe} ${path}`).toBe(200);
      }
      expect((await fetch(`http://127.0.0.1:${local.ports['--metrics-bind-address']}/metrics`)).status).toBe(200);
      dev.store.delete(svcType, 'default', 'web');
      await until('the controller to release the deleted Service', () => svc() === undefined, 30_000, () => state.exited);
      child.kill('SIGTERM');
      expect(await exited, state.output.slice(-2000)).toBe(0);
    } finally {
      if (state.exited === undefined) child.kill('SIGKILL');
    }
    const records = recording;
    recording = undefined;
    const seen = new Set(records.map((r) => `${r.verb} ${r.resource ? r.resource.resource + (r.resource.subresource ? `/${r.resource.subresource}` : '') : r.path}`));
    // The scenario reached the writes that matter, so the check below is not of an idle controller.
    for (const w of ['watch services', 'patch services', 'patch services/status', 'create events', 'watch gateways', 'watch httproutes', 'watch namespaces', 'watch bgppeers', 'watch bfdprofiles']) expect(seen, w).toContain(w);
    expect(denied(records, serviceAccount)).toEqual([]);
  }, 120_000);

  it('speaker: a Speaker as `lbc speaker` builds it, with fake interfaces, in BGP mode too', async () => {
    const { serviceAccount } = workload('DaemonSet');
    // MetalLB's CRDs, a peer and an advertisement, and a Service of the pool with a ready endpoint.
    const crd = dev.store.findKind('apiextensions.k8s.io', 'CustomResourceDefinition')!;
    // The other BGP kinds were installed before the controller's scenario.
    for (const f of ['servicebgpstatuses']) {
      for (const doc of parseAllDocuments(readFileSync(join(ROOT, `../shared/crds/metallb-v0.16.1/metallb.io_${f}.yaml`), 'utf8'))) {
        const body = doc.toJSON() as { kind?: string } | null;
        if (body?.kind === 'CustomResourceDefinition') dev.store.create(crd, body as never);
      }
    }
    await until('MetalLB\'s kinds served', () => dev.store.findKind('metallb.io', 'ServiceBGPStatus') !== undefined, 10_000);
    dev.store.create(dev.store.findKind('metallb.io', 'BGPPeer')!, {
      metadata: { name: 'router', namespace: 'metallb-system' },
      spec: { myASN: 64513, peerASN: 64500, peerAddress: '127.0.0.1', peerPort: 1 },
    });
    dev.store.create(dev.store.findKind('metallb.io', 'BGPAdvertisement')!, { metadata: { name: 'all', namespace: 'metallb-system' }, spec: {} });
    const svcKind = dev.store.findKind('', 'Service')!;
    const svc = dev.store.create(svcKind, { metadata: { name: 'bgp', namespace: 'default' }, spec: { type: 'LoadBalancer', ports: [{ port: 80, protocol: 'TCP' }] } });
    // A create drops status, as kube-apiserver's: the address goes in as the controller writes it.
    dev.store.update(svcKind, { ...svc, status: { loadBalancer: { ingress: [{ ip: '192.0.2.1' }] } } }, { subresource: 'status' });
    dev.store.create(dev.store.findKind('discovery.k8s.io', 'EndpointSlice')!, {
      metadata: { name: 'bgp-1', namespace: 'default', labels: { 'kubernetes.io/service-name': 'bgp' } },
      addressType: 'IPv4',
      endpoints: [{ addresses: ['10.1.0.1'], nodeName: 'n1', conditions: { ready: true } }],
    });
    const config = parseConfig(configMap.data['config.yaml']!);
    const metal = config.providers.find((p) => p.type === 'metal')!;
    const settings = parseMetalOptions({ ...metal.options, speaker: { ...(metal.options.speaker as object), gossipPort: await freePort() } });
    recording = [];
    const speaker = new Speaker({
      node: 'n1',
      provider: metal.name,
      metal: settings,
      ownership: config,
      clients: makeClients(dev.kubeConfig()),
      log: { info: () => {}, warn: () => {} },
      hostInterfaces: () => [{ name: 'eth0', ifindex: 1, mac: '02:00:00:00:00:01', cidrs: ['192.0.2.100/24'] }],
      socketFactory: () => ({ send: () => {}, join: () => {}, leave: () => {}, close: () => {} }),
      gossipBind: { v4: '127.0.0.1', v6: '::1' },
    });
    const lease = dev.store.findKind('coordination.k8s.io', 'Lease')!;
    const statuses = dev.store.findKind('metallb.io', 'ServiceBGPStatus')!;
    try {
      await speaker.start();
      await until('the speaker Lease', () => dev.store.list(lease, NAMESPACE).length > 0, 20_000);
      // BGP mode: the peer refuses connections, but the status object is written for the Service advertised to it.
      await until('a ServiceBGPStatus with its status', () => dev.store.list(statuses, 'metallb-system').some((o) => (o as { status?: { peers?: string[] } }).status?.peers?.length), 20_000);
    } finally {
      await speaker.stop({ clean: true });
    }
    const records = recording;
    recording = undefined;
    expect(records.some((r) => r.verb === 'delete' && r.resource?.resource === 'leases'), 'the Lease is withdrawn on stop').toBe(true);
    expect(denied(records, serviceAccount)).toEqual([]);
  }, 60_000);
});
