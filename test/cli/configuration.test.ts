// `lbc run`'s configuration (#22): every problem of the file reported at once in plain
// text with its key path and exit code 2; no built-in configuration that claims a real
// cluster's Services; aws-load-balancer-controller's flags mapped onto the file; the sample
// files under examples/config accepted as they are.
import { CoreV1Api, type V1Service } from '@kubernetes/client-node';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadControllerConfig, parseTagList, UsageError, type ConfigFlags } from '../../src/cli/configuration.js';
import { runController } from '../../src/cli/run.js';
import { ConfigError } from '../../src/config/config.js';
import { FINALIZER } from '../../src/controller/reconcile.js';
import { createLogger } from '../../src/observability/log.js';
import { eventually } from '../e2e/harness.js';
import { startTestCluster, uniqueName, type TestCluster } from '../support/cluster.js';

const dir = mkdtempSync(join(tmpdir(), 'lbc-cli-config-'));
function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const AWS = file('aws.yaml', 'clusterName: from-file\nproviders:\n  - { name: cloud, type: aws, options: { region: eu-west-1, vpcId: vpc-0aaa, defaultTags: { team: web, cost: "1" } } }\n');
const MEMORY = file('memory.yaml', 'clusterName: c\nproviders: [{ name: m, type: memory }]\n');

async function issues(flags: ConfigFlags): Promise<string[]> {
  try {
    await loadControllerConfig(flags);
  } catch (e) {
    if (e instanceof ConfigError) return e.issues.map((i) => `${i.path}: ${i.message}`);
    throw e;
  }
  throw new Error('expected a ConfigError');
}

/** `lbc ...` through tsx, as a user runs it: exit code, stdout, stderr. */
function lbc(args: readonly string[], cwd = dir): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const tsx = resolve('node_modules/tsx/dist/esm/index.mjs');
  return new Promise((done) => {
    execFile(process.execPath, ['--import', tsx, resolve('src/cli/main.ts'), ...args], { cwd, timeout: 60_000 }, (e, stdout, stderr) => {
      done({ code: e ? ((e as { code?: number | null }).code ?? null) : 0, stdout, stderr });
    });
  });
}

describe("aws-load-balancer-controller's flags over the file (flags win)", () => {
  it('--cluster-name sets clusterName', async () => {
    expect((await loadControllerConfig({ config: AWS })).clusterName).toBe('from-file');
    expect((await loadControllerConfig({ config: AWS, clusterName: 'from-flag' })).clusterName).toBe('from-flag');
  });

  it("--aws-region and --aws-vpc-id set the aws provider's options", async () => {
    const cfg = await loadControllerConfig({ config: AWS, awsRegion: 'us-west-2', awsVpcId: 'vpc-0bbb' });
    expect(cfg.providers[0]?.options).toMatchObject({ region: 'us-west-2', vpcId: 'vpc-0bbb' });
  });

  it("--default-tags k=v,... go over the file's defaultTags key by key", async () => {
    const cfg = await loadControllerConfig({ config: AWS, defaultTags: parseTagList('cost=42,env=prod') });
    expect(cfg.providers[0]?.options.defaultTags).toEqual({ team: 'web', cost: '42', env: 'prod' });
    expect(() => parseTagList('cost')).toThrow('"cost" is not key=value');
  });

  it('--ingress-class sets ingress.className, the one class lbc serves', async () => {
    expect((await loadControllerConfig({ config: AWS })).ingress.className).toBeUndefined();
    expect((await loadControllerConfig({ config: AWS, ingressClass: 'alb' })).ingress.className).toBe('alb');
  });

  it('refuses an aws flag when no single aws provider is configured, naming the flag', async () => {
    expect(await issues({ config: MEMORY, awsRegion: 'us-west-2', defaultTags: { a: 'b' } })).toEqual([
      `--aws-region: sets an aws provider option, but ${MEMORY} configures no provider of type aws`,
      `--default-tags: sets an aws provider option, but ${MEMORY} configures no provider of type aws`,
    ]);
    const two = file('two.yaml', 'clusterName: c\nproviders: [{ name: a, type: aws, options: { region: eu-west-1 } }, { name: b, type: aws, options: { region: us-east-1 } }]\n');
    expect(await issues({ config: two, awsVpcId: 'vpc-1' })).toEqual([
      `--aws-vpc-id: sets an aws provider option, but ${two} configures several aws providers (providers[0], providers[1]): set it in the options of the one meant`,
    ]);
  });

  it('reports a bad flag value at the key it sets, with the flag', async () => {
    expect(await issues({ config: AWS, awsRegion: 'mars', clusterName: 'Bad_Name' })).toEqual([
      expect.stringMatching(/^clusterName: must be a DNS label .* \(set by --cluster-name\)$/),
      'providers[0].options.region: must be an AWS region such as us-east-1 (set by --aws-region)',
    ]);
  });

  it('needs --config, and says where the samples are', async () => {
    await expect(loadControllerConfig({})).rejects.toThrow(UsageError);
    await expect(loadControllerConfig({})).rejects.toThrow(/lbc run needs --config FILE: .*examples\/config\/\{aws,gce,metal,local\}\.yaml/);
  });
});

describe('examples/config', () => {
  const EXAMPLES = resolve('examples/config');

  it.each(['aws', 'gce', 'metal', 'local'])('%s.yaml is accepted by lbc run as it is (provider options included)', async (type) => {
    const cfg = await loadControllerConfig({ config: join(EXAMPLES, `${type}.yaml`) });
    expect(cfg.providers.map((p) => p.type)).toEqual([type]);
  });

  it('holds one sample per provider an operator installs', () => {
    expect(readdirSync(EXAMPLES).sort()).toEqual(['aws.yaml', 'gce.yaml', 'local.yaml', 'metal.yaml']);
  });
});

describe('lbc run on a configuration that does not validate', () => {
  it('prints every error of the file and the flags at once, in plain text, and exits 2', async () => {
    file(
      'bad.yaml',
      ['clusterName: prod', 'concurrency: 0', 'providers:', '  - { name: cloud, type: aws, options: { region: mars, vpcId: vpc-0aaa } }', '  - { name: m, type: memory, options: { latency: 5 } }'].join('\n'),
    );
    const r = await lbc(['run', '--config', 'bad.yaml', '--cluster-name', 'Bad_Name', '--aws-vpc-id', 'nope', '--default-tags', 'aws:x=1', '--ingress-class', 'Bad!']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      [
        'lbc: bad.yaml: 7 errors:',
        '  clusterName: must be a DNS label (lower-case letters, digits and -, starting and ending with a letter or digit) (set by --cluster-name)',
        '  ingress.className: must be an IngressClass name (DNS subdomain) (set by --ingress-class)',
        '  concurrency: Too small: expected number to be >=1',
        '  providers[0].options.region: must be an AWS region such as us-east-1',
        '  providers[0].options.vpcId: must be a VPC id (vpc-...) (set by --aws-vpc-id)',
        '  providers[0].options.defaultTags: tag keys must not start with lbc.dev/ or aws: (set by --default-tags)',
        '  providers[1].options.latency: unknown key',
        '',
      ].join('\n'),
    );
  }, 90_000);
});

describe('lbc run against a cluster', () => {
  let cluster: TestCluster;
  let core: CoreV1Api;
  const ns = uniqueName('lbc-cli');
  const other = uniqueName('lbc-cli-other');

  beforeAll(async () => {
    cluster = await startTestCluster();
    core = cluster.kc.makeApiClient(CoreV1Api);
    for (const name of [ns, other]) await core.createNamespace({ body: { metadata: { name } } });
  });

  afterAll(async () => {
    for (const name of [ns, other]) await core?.deleteNamespace({ name }).catch(() => {});
    await cluster?.stop();
  });

  const lbService = (namespace: string, name: string): Promise<V1Service> =>
    core.createNamespacedService({ namespace, body: { metadata: { name }, spec: { type: 'LoadBalancer', ports: [{ port: 80, targetPort: 8080 }] } } });

  it('without --config refuses to start, exit 2, and claims nothing', async () => {
    await lbService(ns, 'classless');
    const r = await lbc(['run', '--kubeconfig', cluster.kubeconfigPath, '--for', '3', '--metrics-bind-address', '0', '--health-probe-bind-address', '0']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^lbc: lbc run needs --config FILE: .*\(samples: examples\/config\/\{aws,gce,metal,local\}\.yaml\)\n$/);
    const svc = await core.readNamespacedService({ namespace: ns, name: 'classless' });
    expect(svc.metadata?.finalizers ?? []).not.toContain(FINALIZER);
    expect(svc.status?.loadBalancer?.ingress ?? []).toEqual([]);
  }, 90_000);

  it('--watch-namespace: serves that namespace only, and leaves a Service in another untouched', async () => {
    const config = file('watch.yaml', `clusterName: ${ns}\nproviders: [{ name: mem, type: memory, options: { addressPool: 198.51.100.0/28 } }]\ndefaultClass: lbc.dev/mem\n`);
    // Created first: a controller watching everything would come to it first.
    await lbService(other, 'elsewhere');
    await lbService(ns, 'here');
    let stop: (why: string) => void = () => {};
    const until = new Promise<string>((r) => (stop = r));
    const lines: string[] = [];
    const run = runController(
      { config, kubeconfig: cluster.kubeconfigPath, watchNamespace: ns, metricsBindAddress: '0', healthProbeBindAddress: '0' },
      { logger: createLogger({ level: 'info', destination: { write: (s: string) => void lines.push(s) } }), registry: new Registry(), until },
    );
    try {
      const here = await eventually('an address for the watched namespace', async () => {
        const s = await core.readNamespacedService({ namespace: ns, name: 'here' });
        return s.status?.loadBalancer?.ingress?.length ? s : undefined;
      });
      expect(here.status?.loadBalancer?.ingress?.[0]?.ip).toMatch(/^198\.51\.100\./);
      await new Promise((r) => setTimeout(r, 1000));
      const elsewhere = await core.readNamespacedService({ namespace: other, name: 'elsewhere' });
      expect(elsewhere.metadata?.finalizers ?? []).toEqual([]);
      expect(elsewhere.status?.loadBalancer?.ingress ?? []).toEqual([]);
      expect(lines.join('')).not.toContain(`${other}/elsewhere`);
    } finally {
      stop('SIGTERM');
      await run;
    }
    // Let the namespace go: the watched Service holds lbc's finalizer and no controller runs now.
    await core.patchNamespacedService({ namespace: ns, name: 'here', body: [{ op: 'remove', path: '/metadata/finalizers' }] }).catch(() => {});
  }, 60_000);
});
