// `lbc manifests`: what it prints, checked object by object against the Kubernetes types
// and against what the rest of lbc expects (the config validator, the controller's
// IngressClass convention, the flags of `lbc run` and `lbc speaker`), and the checked-in
// deploy/<provider>/lbc.yaml held equal to it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { manifestsCommand } from '../../src/cli/manifests.js';
import { DEFAULT_GATEWAY_CONTROLLER, validateConfig } from '../../src/config/config.js';
import { DEFAULT_LEADER_ELECTION_ID } from '../../src/config/operations.js';
import { PROVIDER_PARAMETERS_API_GROUP, PROVIDER_PARAMETERS_KIND } from '../../src/config/ownership.js';
import { checkInstallConfig, INSTALL_PROVIDERS } from '../../src/install/config-file.js';
import { IRSA_ANNOTATION, manifestsYaml, WORKLOAD_IDENTITY_ANNOTATION, type KubeObject } from '../../src/install/manifests.js';
import { controllerHeapMb } from '../../src/install/workloads.js';
import { modelOf, typeErrors } from './kube-types.js';
import { isOurGatewayClass, providerOfGatewayClass } from '../../src/controller/gateway/gateway-class.js';
import { gatewayControllers } from '../../src/controller/gateway/controller-names.js';
import type { GatewayClass } from '../../src/kube/gateway-api.js';

const ROOT = join(import.meta.dirname, '../..');

/** Runs `lbc manifests ARGS` in-process and returns what it printed. */
async function cli(...args: string[]): Promise<string> {
  let out = '';
  const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  try {
    await manifestsCommand().exitOverride().configureOutput({ writeErr: () => {} }).parseAsync(args, { from: 'user' });
  } finally {
    write.mockRestore();
  }
  return out;
}

function parseStream(yaml: string): KubeObject[] {
  const docs = parseAllDocuments(yaml);
  for (const d of docs) expect(d.errors, String(d.errors)).toEqual([]);
  return docs.map((d) => d.toJS() as KubeObject).filter((o) => o !== null);
}

type Container = {
  name: string;
  image: string;
  args: string[];
  command?: string[];
  env?: { name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[];
  ports?: { name: string; containerPort: number }[];
  livenessProbe?: { httpGet: { path: string; port: string } };
  readinessProbe?: { httpGet: { path: string; port: string } };
  resources: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext: { runAsNonRoot?: boolean; runAsUser?: number; allowPrivilegeEscalation: boolean; readOnlyRootFilesystem: boolean; capabilities: { drop: string[]; add?: string[] } };
  volumeMounts: { name: string; mountPath: string }[];
};
type PodSpec = {
  serviceAccountName: string;
  hostNetwork?: boolean;
  securityContext: { runAsNonRoot?: boolean; seccompProfile: { type: string } };
  containers: Container[];
  volumes: { name: string; configMap: { name: string } }[];
};
type Workload = KubeObject & { spec: { replicas?: number; selector: { matchLabels: Record<string, string> }; template: { metadata: { labels: Record<string, string> }; spec: PodSpec } } };

const one = <T extends KubeObject>(objs: KubeObject[], kind: string, name?: string): T => {
  const found = objs.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  expect(found.length, `exactly one ${kind}${name ? ` ${name}` : ''}`).toBe(1);
  return found[0] as T;
};

const flag = (args: string[], name: string): string | undefined => {
  const i = args.indexOf(name);
  return i < 0 ? undefined : args[i + 1];
};

/** The config file the container reads, from the ConfigMap volume it mounts. */
function mountedConfig(objs: KubeObject[], pod: PodSpec, args: string[]): string {
  const path = flag(args, '--config')!;
  const mount = pod.containers[0]!.volumeMounts.find((m) => path.startsWith(`${m.mountPath}/`));
  expect(mount, `--config ${path} is under a mounted volume`).toBeDefined();
  const volume = pod.volumes.find((v) => v.name === mount!.name)!;
  const cm = one<KubeObject & { data: Record<string, string> }>(objs, 'ConfigMap', volume.configMap.name);
  const text = cm.data[path.slice(mount!.mountPath.length + 1)];
  expect(text, `ConfigMap ${cm.metadata.name} has the key --config names`).toBeDefined();
  return text!;
}

describe('the type check itself', () => {
  it('finds a misspelt field, a value of the wrong type and an unknown kind', () => {
    const d = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x' }, spec: { replicas: '2', template: { spec: { containers: [{ name: 'c', securityContext: { readOnlyRootFileSystem: true } }] } } } };
    expect(typeErrors(d, modelOf(d))).toEqual(['.spec.replicas: expected a number', '.spec.template.spec.containers[0].securityContext.readOnlyRootFileSystem: no such field in V1SecurityContext']);
    expect(typeErrors({}, modelOf({ apiVersion: 'lbc.dev/v1', kind: 'Provider' }))).toEqual(['(root): no model V1Provider in client-node']);
  });
});

describe('lbc manifests', () => {
  afterEach(() => vi.restoreAllMocks());

  for (const provider of INSTALL_PROVIDERS) {
    describe(provider, () => {
      it('prints what deploy/ holds (regenerate with `npm run manifests`)', async () => {
        const printed = await cli('--provider', provider);
        expect(printed).toBe(manifestsYaml({ provider }));
        expect(readFileSync(join(ROOT, 'deploy', provider, 'lbc.yaml'), 'utf8'), `deploy/${provider}/lbc.yaml is stale: npm run manifests`).toBe(printed);
      });

      it('every object is valid against the Kubernetes types, namespaced where it should be, and nothing is a Secret', async () => {
        const objs = parseStream(await cli('--provider', provider));
        const clusterScoped = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'IngressClass']);
        for (const o of objs) {
          expect(typeErrors(o, modelOf(o)), `${o.kind} ${o.metadata.name}`).toEqual([]);
          expect(o.metadata.name).toMatch(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/);
          if (clusterScoped.has(o.kind)) expect(o.metadata.namespace, `${o.kind} is cluster-scoped`).toBeUndefined();
          else expect(o.metadata.namespace, `${o.kind} ${o.metadata.name}`).toBe('lbc-system');
          expect(o.kind).not.toBe('Secret');
        }
        expect(objs[0]).toMatchObject({ kind: 'Namespace', metadata: { name: 'lbc-system' } });
        const kinds = objs.map((o) => o.kind).sort();
        const expected = ['ClusterRole', 'ClusterRoleBinding', 'ConfigMap', 'Deployment', 'Namespace', 'Role', 'RoleBinding', 'ServiceAccount'];
        if (provider === 'metal') expected.push('ClusterRole', 'ClusterRoleBinding', 'DaemonSet', 'Role', 'RoleBinding', 'ServiceAccount');
        else expected.push('IngressClass');
        expect(kinds).toEqual(expected.sort());
        // Every binding's subject and role are objects of this install.
        for (const b of objs.filter((o) => o.kind.endsWith('Binding'))) {
          const ref = b.roleRef as { kind: string; name: string };
          one(objs, ref.kind, ref.name);
          for (const s of b.subjects as { kind: string; name: string; namespace: string }[]) {
            expect(s.namespace).toBe('lbc-system');
            one(objs, s.kind, s.name);
          }
        }
      });

      it('the controller Deployment: 2 replicas electing a leader, probes, requests, locked down', async () => {
        const objs = parseStream(await cli('--provider', provider));
        const d = one<Workload>(objs, 'Deployment');
        expect(d.spec.replicas).toBe(2);
        expect(d.spec.template.metadata.labels).toMatchObject(d.spec.selector.matchLabels);
        const pod = d.spec.template.spec;
        one(objs, 'ServiceAccount', pod.serviceAccountName);
        expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
        expect(pod.hostNetwork).toBeUndefined();
        expect(pod.containers).toHaveLength(1);
        const c = pod.containers[0]!;
        expect(c.image).toBe('lbc:0.1.0');
        expect(c.args).toEqual([
          'run',
          '--in-cluster',
          '--config',
          '/etc/lbc/config.yaml',
          '--leader-elect',
          '--leader-election-namespace',
          'lbc-system',
          '--metrics-bind-address',
          ':8080',
          '--health-probe-bind-address',
          ':8081',
        ]);
        const portOf = (name: string) => c.ports?.find((p) => p.name === name)?.containerPort;
        expect(portOf('health')).toBe(8081);
        expect(portOf('metrics')).toBe(8080);
        expect(c.livenessProbe?.httpGet).toEqual({ path: '/healthz', port: 'health' });
        expect(c.readinessProbe?.httpGet).toEqual({ path: '/readyz', port: 'health' });
        expect(c.resources.requests).toEqual({ cpu: expect.any(String), memory: expect.any(String) });
        // V8 sizes its heap from the host's memory: the flag keeps it under the pod's limit, with room for what lives outside it;
        // its young generation to 8 MB semi-spaces, not the 16 MB that would hold ~25 MB of garbage in RSS;
        // and its old generation grows by half of what survived, not up to 4x (a burst's garbage held in RSS).
        expect(c.command).toEqual(['node', '--max-old-space-size=384', '--max-semi-space-size=8', '--heap-growing-percent=50', 'dist/cli/main.js']);
        expect(c.resources.limits?.memory).toBe('512Mi');
        expect(c.securityContext).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
        // Credentials come from the ServiceAccount (IRSA, Workload Identity, bound tokens), never from values in the pod.
        expect((c.env ?? []).every((e) => e.value === undefined)).toBe(true);
        // The config the controller reads passes the same checks `lbc run` makes.
        const text = mountedConfig(objs, pod, c.args);
        const config = checkInstallConfig(parse(text));
        expect(config.providers.map((p) => p.type)).toEqual([provider]);
      });

      it('the ConfigMap holds a configuration src/config accepts, for this provider', async () => {
        const objs = parseStream(await cli('--provider', provider, '--cluster-name', 'prod-eu'));
        const cm = one<KubeObject & { data: Record<string, string> }>(objs, 'ConfigMap');
        const config = validateConfig(parse(cm.data['config.yaml']!), 'ConfigMap lbc-config');
        expect(config.clusterName).toBe('prod-eu');
        expect(config.providers).toHaveLength(1);
        expect(config.providers[0]).toMatchObject({ name: provider, type: provider, class: `lbc.dev/${provider}` });
        // The platform's own controllers take class-less Services on the clouds; nothing else does on metal and local.
        expect(config.defaultClass).toBe(provider === 'aws' || provider === 'gce' ? undefined : `lbc.dev/${provider}`);
        if (provider !== 'metal') {
          const ic = one<KubeObject & { spec: { controller: string; parameters: Record<string, string> } }>(objs, 'IngressClass');
          expect(ic.spec.controller).toBe(config.ingress.controllerName);
          expect(ic.spec.parameters).toEqual({ apiGroup: PROVIDER_PARAMETERS_API_GROUP, kind: PROVIDER_PARAMETERS_KIND, name: config.providers[0]!.name });
        }
      });

      it('the controller may use coordination.k8s.io Leases in its namespace only, for leader election', async () => {
        const objs = parseStream(await cli('--provider', provider, '--namespace', 'lb'));
        const role = one<KubeObject & { rules: { apiGroups: string[]; resources: string[]; resourceNames?: string[]; verbs: string[] }[] }>(objs, 'Role', 'lbc-controller');
        expect(role.metadata.namespace).toBe('lb');
        expect(role.rules).toEqual([
          { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create'] },
          // The Lease `lbc run --leader-elect` uses when no --leader-election-id is given, as in the Deployment.
          { apiGroups: ['coordination.k8s.io'], resources: ['leases'], resourceNames: [DEFAULT_LEADER_ELECTION_ID], verbs: ['get', 'update'] },
        ]);
        expect(flag(one<Workload>(objs, 'Deployment').spec.template.spec.containers[0]!.args, '--leader-election-id')).toBeUndefined();
        const binding = one<KubeObject>(objs, 'RoleBinding', 'lbc-controller');
        expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: 'lbc-controller', namespace: 'lb' }]);
        const d = one<Workload>(objs, 'Deployment');
        expect(flag(d.spec.template.spec.containers[0]!.args, '--leader-election-namespace')).toBe('lb');
      });
    });
  }

  it('metal: the speaker DaemonSet runs `lbc speaker --node $(NODE_NAME)` on the host network with NET_RAW only', async () => {
    const objs = parseStream(await cli('--provider', 'metal', '--namespace', 'lb', '--addresses', '198.51.100.10-198.51.100.20, 203.0.113.0/28'));
    const ds = one<Workload>(objs, 'DaemonSet');
    const pod = ds.spec.template.spec;
    expect(ds.spec.template.metadata.labels).toMatchObject(ds.spec.selector.matchLabels);
    expect(pod.hostNetwork).toBe(true);
    expect(pod.securityContext.seccompProfile).toEqual({ type: 'RuntimeDefault' });
    const c = pod.containers[0]!;
    expect(c.args.slice(0, 1)).toEqual(['speaker']);
    expect(flag(c.args, '--node')).toBe('$(NODE_NAME)');
    expect(c.args).toContain('--in-cluster');
    expect(c.env).toEqual([
      { name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
      // The owner of its ServiceL2Statuses (MetalLB's speaker Pod owns its own).
      { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
      { name: 'POD_UID', valueFrom: { fieldRef: { fieldPath: 'metadata.uid' } } },
    ]);
    expect(c.ports).toEqual([{ name: 'gossip', containerPort: 7947, protocol: 'UDP' }]);
    expect(c.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'], add: ['NET_RAW'] } });
    one(objs, 'ServiceAccount', pod.serviceAccountName);
    // The speaker reads the controller's ConfigMap, so both agree on the pools, and keeps its Leases where its Role allows.
    const config = checkInstallConfig(parse(mountedConfig(objs, pod, c.args)));
    const options = config.providers[0]!.options as { pools: { addresses: string[] }[]; speaker: { leaseNamespace: string } };
    expect(options.pools[0]!.addresses).toEqual(['198.51.100.10-198.51.100.20', '203.0.113.0/28']);
    expect(options.speaker.leaseNamespace).toBe('lb');
    expect(one<KubeObject>(objs, 'Role', 'lbc-speaker').metadata.namespace).toBe('lb');
  });

  it('cloud credentials: an IRSA role on aws, a Workload Identity service account on gce, as ServiceAccount annotations', async () => {
    const sa = async (...args: string[]) => one<KubeObject>(parseStream(await cli(...args)), 'ServiceAccount', 'lbc-controller').metadata.annotations;
    expect(await sa('--provider', 'aws', '--aws-role-arn', 'arn:aws:iam::123456789012:role/lbc')).toEqual({ [IRSA_ANNOTATION]: 'arn:aws:iam::123456789012:role/lbc' });
    expect(await sa('--provider', 'gce', '--project', 'acme-prod')).toEqual({ [WORKLOAD_IDENTITY_ANNOTATION]: 'lbc-controller@acme-prod.iam.gserviceaccount.com' });
    expect(await sa('--provider', 'gce', '--gcp-service-account', 'x@y.iam.gserviceaccount.com')).toEqual({ [WORKLOAD_IDENTITY_ANNOTATION]: 'x@y.iam.gserviceaccount.com' });
    expect(await sa('--provider', 'metal')).toBeUndefined();
    expect(await sa('--provider', 'local')).toBeUndefined();
  });

  it('--namespace, --image, --replicas, --region reach every object that names them', async () => {
    const objs = parseStream(await cli('--provider', 'aws', '--namespace', 'edge', '--image', 'registry.example/lbc:1.2.3', '--replicas', '3', '--region', 'eu-west-1'));
    for (const o of objs.filter((x) => x.metadata.namespace !== undefined)) expect(o.metadata.namespace).toBe('edge');
    const d = one<Workload>(objs, 'Deployment');
    expect(d.spec.replicas).toBe(3);
    expect(d.spec.template.spec.containers[0]!.image).toBe('registry.example/lbc:1.2.3');
    const cm = one<KubeObject & { data: Record<string, string> }>(objs, 'ConfigMap');
    expect(validateConfig(parse(cm.data['config.yaml']!)).providers[0]!.options).toEqual({ region: 'eu-west-1' });
  });

  it('refuses what would not start: an unknown provider, a bad namespace, options the provider rejects', async () => {
    await expect(cli('--provider', 'azure')).rejects.toThrow(/Allowed choices are aws, gce, metal, local/);
    await expect(cli('--provider', 'aws', '--namespace', 'Not_A_Label')).rejects.toThrow(/DNS label/);
    await expect(cli('--provider', 'aws', '--region', 'mars')).rejects.toThrow(/region/);
    await expect(cli('--provider', 'metal', '--addresses', 'not-an-ip')).rejects.toThrow(/pools/);
    await expect(cli('--provider', 'gce', '--project', 'X')).rejects.toThrow(/project/);
    await expect(cli()).rejects.toThrow(/--provider/);
  });
});

describe('controllerHeapMb', () => {
  it('is three quarters of the memory limit, in Mi or Gi', () => {
    expect(controllerHeapMb('512Mi')).toBe(384);
    expect(controllerHeapMb('1Gi')).toBe(768);
  });

  it('refuses a limit it cannot read, rather than give V8 a wrong heap size', () => {
    expect(() => controllerHeapMb('512M')).toThrow(/expected a whole number of Mi or Gi/);
    expect(() => controllerHeapMb('0.5Gi')).toThrow(/"0.5Gi"/);
  });
});

describe('lbc manifests --gateway-class', () => {
  it('prints no GatewayClass unless asked (it needs the Gateway API CRDs, which users install)', async () => {
    expect(parseStream(await cli('--provider', 'local')).some((o) => o.kind === 'GatewayClass')).toBe(false);
  });

  it("ends with a GatewayClass of lbc's controllerName whose parametersRef names the installed provider, which the controller reads as that provider", async () => {
    for (const provider of INSTALL_PROVIDERS) {
      const objects = parseStream(await cli('--provider', provider, '--gateway-class'));
      const gc = objects.at(-1) as KubeObject & { spec: GatewayClass['spec'] };
      expect(gc).toMatchObject({ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'GatewayClass', metadata: { name: `lbc-${provider}` }, spec: { controllerName: DEFAULT_GATEWAY_CONTROLLER } });
      const cm = objects.find((o) => o.kind === 'ConfigMap') as KubeObject & { data: Record<string, string> };
      const config = validateConfig(parse(cm.data['config.yaml'] ?? ''), 'ConfigMap lbc-config');
      expect(config.gateway.controllerName).toBe(DEFAULT_GATEWAY_CONTROLLER);
      expect(isOurGatewayClass(gc, gatewayControllers(config, []))).toBe(true);
      expect(providerOfGatewayClass(gc, config)).toEqual({ ok: true, provider });
    }
  });

  it('--gateway-controller-name gives the class and the shipped configuration another controllerName, so a second install serves only its own classes', async () => {
    const objects = parseStream(await cli('--provider', 'local', '--gateway-class', '--gateway-controller-name', 'example.com/second-lbc'));
    const gc = objects.at(-1) as KubeObject & { spec: GatewayClass['spec'] };
    expect(gc.spec?.controllerName).toBe('example.com/second-lbc');
    const cm = objects.find((o) => o.kind === 'ConfigMap') as KubeObject & { data: Record<string, string> };
    const config = validateConfig(parse(cm.data['config.yaml'] ?? ''), 'ConfigMap lbc-config');
    expect(config.gateway.controllerName).toBe('example.com/second-lbc');
    expect(isOurGatewayClass(gc, gatewayControllers(config, []))).toBe(true);
    expect(isOurGatewayClass({ ...gc, spec: { controllerName: DEFAULT_GATEWAY_CONTROLLER } }, gatewayControllers(config, []))).toBe(false);
    await expect(cli('--provider', 'local', '--gateway-controller-name', 'no-prefix')).rejects.toThrow(/gateway\.controllerName/);
  });
});
