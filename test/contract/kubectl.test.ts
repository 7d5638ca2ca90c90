// Contract: kubectl against the server — apply/delete, `get` tables (server-side Table
// rendering), -o json, and `get -w`.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  corePath,
  eventually,
  expectOk,
  expectStatus,
  groupPath,
  kubectlTable,
  mergePatch,
  PatchStrategy,
  runKubectl,
  uniqueName,
  useContractCluster,
  type Json,
} from './support.js';

const hasKubectl = !spawnSync('kubectl', ['version', '--client'], { stdio: 'ignore' }).error;
const title = hasKubectl ? 'kubectl' : 'kubectl — SKIPPED: kubectl is not on PATH';

const ctx = useContractCluster('kubectl');
let dir = '';

function env(): NodeJS.ProcessEnv {
  return { ...process.env, KUBECONFIG: ctx.cluster.kubeconfigPath };
}

function baseArgs(): string[] {
  return ['--cache-dir', join(dir, 'cache'), '-n', ctx.ns];
}

function kubectl(...args: string[]): Promise<string> {
  return runKubectl(ctx.cluster.kubeconfigPath, [...baseArgs(), ...args]);
}

const table = kubectlTable;

function manifest(file: string, yaml: string): string {
  const path = join(dir, file);
  writeFileSync(path, yaml);
  return path;
}

function serviceYaml(label: string, targetPort: number): string {
  return `apiVersion: v1
kind: Service
metadata:
  name: web
  labels:
    rev: "${label}"
spec:
  type: LoadBalancer
  selector:
    app: web
  ports:
  - name: http
    port: 80
    targetPort: ${targetPort}
`;
}

const AGE = /^\d+[smhd](\d+[smh])?$/;

describe.skipIf(!hasKubectl)(title, () => {
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'lbc-ct-kubectl-'));
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('kubectl apply -f creates, re-applies as configured, and reports unchanged', async () => {
    const file = manifest('svc.yaml', serviceYaml('1', 8080));
    expect((await kubectl('apply', '-f', file)).trim()).toBe('service/web created');
    const created = expectOk(await ctx.raw('GET', corePath(ctx.ns, 'services', 'web')));
    expect(created.metadata.labels).toEqual({ rev: '1' });
    const lastApplied = JSON.parse(created.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration']);
    expect(lastApplied).toMatchObject({ kind: 'Service', metadata: { name: 'web', namespace: ctx.ns } });

    manifest('svc.yaml', serviceYaml('2', 9090));
    expect((await kubectl('apply', '-f', file)).trim()).toBe('service/web configured');
    const updated = expectOk(await ctx.raw('GET', corePath(ctx.ns, 'services', 'web')));
    expect(updated.metadata.labels).toEqual({ rev: '2' });
    expect(updated.metadata.uid).toBe(created.metadata.uid);
    expect(updated.spec.ports).toHaveLength(1);
    expect(updated.spec.ports[0].targetPort).toBe(9090);
    // Server-allocated fields survive the strategic merge patch.
    expect(updated.spec.ports[0].nodePort).toBe(created.spec.ports[0].nodePort);
    expect(updated.spec.clusterIP).toBe(created.spec.clusterIP);

    expect((await kubectl('apply', '-f', file)).trim()).toBe('service/web unchanged');
  });

  it('kubectl get svc prints NAME TYPE CLUSTER-IP EXTERNAL-IP PORT(S) AGE', async () => {
    const svc = expectOk(await ctx.raw('GET', corePath(ctx.ns, 'services', 'web')));
    const t = table(await kubectl('get', 'svc'));
    expect(t.header).toEqual(['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE']);
    const row = t.rows.find((r) => r[0] === 'web');
    expect(row?.slice(0, 5)).toEqual([
      'web',
      'LoadBalancer',
      svc.spec.clusterIP,
      '<pending>',
      `80:${svc.spec.ports[0].nodePort}/TCP`,
    ]);
    expect(row?.[5]).toMatch(AGE);

    expectOk(
      await ctx.raw('PATCH', corePath(ctx.ns, 'services', 'web', 'status'), {
        body: { status: { loadBalancer: { ingress: [{ ip: '192.0.2.40' }] } } },
        contentType: PatchStrategy.MergePatch,
      }),
    );
    const after = table(await kubectl('get', 'svc', 'web'));
    expect(after.rows).toHaveLength(1);
    expect(after.rows[0]?.[3]).toBe('192.0.2.40');

    // A ClusterIP Service shows <none>.
    expectOk(
      await ctx.raw('POST', corePath(ctx.ns, 'services'), {
        body: { metadata: { name: 'plain' }, spec: { ports: [{ port: 53, protocol: 'UDP' }] } },
      }),
    );
    const plain = table(await kubectl('get', 'svc', 'plain')).rows[0];
    expect(plain?.slice(1, 5)).toEqual(['ClusterIP', expect.stringMatching(/^\d+\.\d+\.\d+\.\d+$/), '<none>', '53/UDP']);
  });

  it('kubectl get pods -o wide: READY, STATUS and RESTARTS from containerStatuses, as the server-side printer computes them for real Pods', async () => {
    const now = Date.now();
    const at = (msAgo: number) => new Date(now - msAgo).toISOString().replace(/\.\d+Z$/, 'Z');
    const running = (name: string, ready: boolean, restartCount = 0) => ({ name, ready, restartCount, started: true, image: 'example.invalid/app:1', imageID: '', state: { running: { startedAt: at(60_000) } } });
    const cond = (type: string, status: boolean) => ({ type, status: status ? 'True' : 'False', lastTransitionTime: at(60_000) });
    const pods: { name: string; init?: boolean; status: Json; want: string[] }[] = [
      { name: 'p-ready', status: { phase: 'Running', conditions: [cond('Ready', true)], containerStatuses: [running('a', true), running('b', true)] }, want: ['2/2', 'Running', '0'] },
      // A container that runs but fails its readiness probe: Running, not counted ready.
      { name: 'p-half', status: { phase: 'Running', conditions: [cond('Ready', false)], containerStatuses: [running('a', true), running('b', false)] }, want: ['1/2', 'Running', '0'] },
      // The Ready condition alone counts for nothing: READY is read from containerStatuses.
      { name: 'p-nostatuses', status: { phase: 'Running', conditions: [cond('Ready', true)] }, want: ['0/2', 'Running', '0'] },
      {
        name: 'p-crash',
        status: {
          phase: 'Running',
          conditions: [cond('Ready', false)],
          containerStatuses: [
            { ...running('a', false, 4), state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off' } }, lastState: { terminated: { exitCode: 1, reason: 'Error', startedAt: at(11 * 60_000), finishedAt: at(10 * 60_000) } } },
            running('b', true),
          ],
        },
        want: ['1/2', 'CrashLoopBackOff', '4 (10m ago)'],
      },
      {
        name: 'p-init',
        init: true,
        status: {
          phase: 'Pending',
          conditions: [cond('Initialized', false)],
          initContainerStatuses: [{ name: 'setup', ready: false, restartCount: 0, image: 'example.invalid/app:1', imageID: '', state: { running: { startedAt: at(60_000) } } }],
          containerStatuses: [
            { name: 'a', ready: false, restartCount: 0, image: 'example.invalid/app:1', imageID: '', state: { waiting: { reason: 'PodInitializing' } } },
            { name: 'b', ready: false, restartCount: 0, image: 'example.invalid/app:1', imageID: '', state: { waiting: { reason: 'PodInitializing' } } },
          ],
        },
        want: ['0/2', 'Init:0/1', '0'],
      },
      {
        name: 'p-done',
        status: {
          phase: 'Succeeded',
          conditions: [cond('Ready', false)],
          containerStatuses: ['a', 'b'].map((n) => ({ name: n, ready: false, restartCount: 0, image: 'example.invalid/app:1', imageID: '', state: { terminated: { exitCode: 0, reason: 'Completed', startedAt: at(120_000), finishedAt: at(60_000) } } })),
        },
        want: ['0/2', 'Completed', '0'],
      },
    ];
    for (const p of pods) {
      const container = (name: string) => ({ name, image: 'example.invalid/app:1' });
      expectOk(
        await ctx.raw('POST', corePath(ctx.ns, 'pods'), {
          body: {
            metadata: { name: p.name },
            spec: { nodeName: 'node-x', automountServiceAccountToken: false, ...(p.init ? { initContainers: [container('setup')] } : {}), containers: [container('a'), container('b')] },
          },
        }),
        201,
      );
      expectOk(await ctx.raw('PATCH', corePath(ctx.ns, 'pods', p.name, 'status'), { contentType: PatchStrategy.MergePatch, body: { status: { ...p.status, podIP: '192.0.2.7', podIPs: [{ ip: '192.0.2.7' }] } } }));
    }
    const t = table(await kubectl('get', 'pods', '-o', 'wide'));
    expect(t.header).toEqual(['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE', 'IP', 'NODE', 'NOMINATED NODE', 'READINESS GATES']);
    for (const p of pods) {
      const row = t.rows.find((r) => r[0] === p.name);
      expect(row?.slice(1, 4), p.name).toEqual(p.want);
      expect(row?.[4], p.name).toMatch(AGE);
      expect(row?.slice(5), p.name).toEqual(['192.0.2.7', 'node-x', '<none>', '<none>']);
    }
  });

  it('kubectl get node -o wide: INTERNAL-IP, EXTERNAL-IP, OS-IMAGE, KERNEL-VERSION, CONTAINER-RUNTIME from status', async () => {
    const described = uniqueName('lbc-ct-kubectl-node');
    const bare = uniqueName('lbc-ct-kubectl-bare');
    for (const name of [described, bare]) ctx.defer(() => ctx.core.deleteNode({ name }));
    expectOk(await ctx.raw('POST', '/api/v1/nodes', { body: { metadata: { name: described } } }), 201);
    expectOk(await ctx.raw('POST', '/api/v1/nodes', { body: { metadata: { name: bare } } }), 201);
    const nodeInfo = { kubeletVersion: 'v1.30.0-x', osImage: 'Debian GNU/Linux 12 (bookworm)', kernelVersion: '6.1.0-x', containerRuntimeVersion: 'containerd://1.7.0', operatingSystem: 'linux', architecture: 'amd64', machineID: '', systemUUID: '', bootID: '', kubeProxyVersion: '' };
    expectOk(
      await ctx.raw('PATCH', `/api/v1/nodes/${described}/status`, {
        contentType: PatchStrategy.MergePatch,
        body: { status: { addresses: [{ type: 'Hostname', address: described }, { type: 'InternalIP', address: '192.0.2.21' }, { type: 'ExternalIP', address: '198.51.100.21' }], nodeInfo } },
      }),
    );
    const t = table(await kubectl('get', 'nodes', described, bare, '-o', 'wide'));
    expect(t.header).toEqual(['NAME', 'STATUS', 'ROLES', 'AGE', 'VERSION', 'INTERNAL-IP', 'EXTERNAL-IP', 'OS-IMAGE', 'KERNEL-VERSION', 'CONTAINER-RUNTIME']);
    const cells = (name: string) => {
      const row = t.rows.find((r) => r[0] === name);
      return [...(row?.slice(1, 3) ?? []), ...(row?.slice(4) ?? [])];
    };
    expect(cells(described)).toEqual(['Unknown', '<none>', 'v1.30.0-x', '192.0.2.21', '198.51.100.21', 'Debian GNU/Linux 12 (bookworm)', '6.1.0-x', 'containerd://1.7.0']);
    expect(cells(bare)).toEqual(['Unknown', '<none>', '', '<none>', '<none>', '<unknown>', '<unknown>', '<unknown>']);
  });

  it('kubectl get svc -o json prints a v1 List of Services', async () => {
    const list = JSON.parse(await kubectl('get', 'svc', '-o', 'json'));
    expect(list.kind).toBe('List');
    expect(list.apiVersion).toBe('v1');
    const web = list.items.find((s: Json) => s.metadata.name === 'web');
    expect(web.kind).toBe('Service');
    expect(web.apiVersion).toBe('v1');
    expect(web.spec.type).toBe('LoadBalancer');
  });

  it('kubectl get svc -w streams changes', async () => {
    const child = spawn('kubectl', [...baseArgs(), 'get', 'svc', 'web', '-w'], { env: env() });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    try {
      await eventually(() => {
        const t = table(out);
        expect(t.header).toEqual(['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE']);
        expect(t.rows.length).toBeGreaterThanOrEqual(1);
      }, 15_000);
      expectOk(
        await ctx.raw('PATCH', corePath(ctx.ns, 'services', 'web', 'status'), {
          body: { status: { loadBalancer: { ingress: [{ ip: '192.0.2.41' }] } } },
          contentType: PatchStrategy.MergePatch,
        }),
      );
      await eventually(() => {
        const rows = table(out).rows.filter((r) => r[0] === 'web');
        expect(rows.length).toBeGreaterThanOrEqual(2);
        expect(rows[rows.length - 1]?.[3]).toBe('192.0.2.41');
      }, 15_000);
    } finally {
      child.kill();
    }
  });

  it('kubectl get ingress prints NAME CLASS HOSTS ADDRESS PORTS AGE', async () => {
    await ctx.net.createNamespacedIngress({
      namespace: ctx.ns,
      body: {
        metadata: { name: 'site' },
        spec: {
          tls: [{ hosts: ['a.example.com'], secretName: 'tls' }],
          rules: [
            {
              host: 'a.example.com',
              http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } }] },
            },
          ],
        },
      },
    });
    const t = table(await kubectl('get', 'ingress'));
    expect(t.header).toEqual(['NAME', 'CLASS', 'HOSTS', 'ADDRESS', 'PORTS', 'AGE']);
    const row = t.rows.find((r) => r[0] === 'site');
    expect(row?.slice(0, 5)).toEqual(['site', '<none>', 'a.example.com', '', '80, 443']);

    await ctx.net.patchNamespacedIngressStatus(
      { name: 'site', namespace: ctx.ns, body: { status: { loadBalancer: { ingress: [{ ip: '192.0.2.42' }] } } } },
      mergePatch,
    );
    const after = table(await kubectl('get', 'ingress', 'site')).rows[0];
    expect(after?.[3]).toBe('192.0.2.42');
  });

  it('kubectl get nodes prints NAME STATUS ROLES AGE VERSION', async () => {
    const name = uniqueName('lbc-ct-kubectl-node');
    ctx.defer(() => ctx.core.deleteNode({ name }));
    expectOk(await ctx.raw('POST', '/api/v1/nodes', { body: { metadata: { name } } }), 201);
    const t = table(await kubectl('get', 'nodes', name));
    expect(t.header).toEqual(['NAME', 'STATUS', 'ROLES', 'AGE', 'VERSION']);
    expect(t.rows[0]?.slice(0, 3)).toEqual([name, 'Unknown', '<none>']);
    expectOk(
      await ctx.raw('PATCH', `/api/v1/nodes/${name}/status`, {
        body: { status: { conditions: [{ type: 'Ready', status: 'True' }] } },
        contentType: PatchStrategy.MergePatch,
      }),
    );
    expect(table(await kubectl('get', 'nodes', name)).rows[0]?.[1]).toBe('Ready');
  });

  it('kubectl get events prints LAST SEEN TYPE REASON OBJECT MESSAGE', async () => {
    await ctx.core.createNamespacedEvent({
      namespace: ctx.ns,
      body: {
        metadata: { name: 'web.kubectl' },
        involvedObject: { apiVersion: 'v1', kind: 'Service', namespace: ctx.ns, name: 'web' },
        reason: 'EnsuredLoadBalancer',
        message: 'Ensured load balancer',
        type: 'Normal',
        source: { component: 'lbc' },
        count: 1,
        firstTimestamp: new Date(),
        lastTimestamp: new Date(),
      },
    });
    const t = table(await kubectl('get', 'events'));
    expect(t.header).toEqual(['LAST SEEN', 'TYPE', 'REASON', 'OBJECT', 'MESSAGE']);
    const row = t.rows.find((r) => r[2] === 'EnsuredLoadBalancer');
    expect(row?.slice(1)).toEqual(['Normal', 'EnsuredLoadBalancer', 'service/web', 'Ensured load balancer']);
    expect(row?.[0]).toMatch(AGE);
  });

  it('kubectl get endpointslices prints NAME ADDRESSTYPE PORTS ENDPOINTS AGE', async () => {
    expectOk(
      await ctx.raw('POST', groupPath('discovery.k8s.io/v1', ctx.ns, 'endpointslices'), {
        body: {
          metadata: { name: 'manual', labels: { 'kubernetes.io/service-name': 'manual' } },
          addressType: 'IPv4',
          endpoints: [{ addresses: ['192.0.2.10'] }, { addresses: ['192.0.2.11'] }],
          ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
        },
      }),
      201,
    );
    const t = table(await kubectl('get', 'endpointslices', 'manual'));
    expect(t.header).toEqual(['NAME', 'ADDRESSTYPE', 'PORTS', 'ENDPOINTS', 'AGE']);
    expect(t.rows[0]?.slice(0, 4)).toEqual(['manual', 'IPv4', '8080', '192.0.2.10,192.0.2.11']);
  });

  it('kubectl delete -f deletes what the file names', async () => {
    const file = join(dir, 'svc.yaml');
    expect((await kubectl('delete', '-f', file)).trim()).toBe('service "web" deleted');
    expectStatus(await ctx.raw('GET', corePath(ctx.ns, 'services', 'web')), 404, 'NotFound');
  });
});
