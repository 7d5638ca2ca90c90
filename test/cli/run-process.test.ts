// `lbc run` as the process a Deployment runs: what it loads, what it prints on stderr,
// and whether a dependency's stray rejected promise takes it down. Against devcluster
// on loopback; the providers configured here never reach a cloud (the AWS endpoint is
// a closed loopback port, instance metadata is off, and no load balancer is asked for).
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseExposition } from '../observability/exposition.js';
import { startTestCluster, type TestCluster } from '../support/cluster.js';
import { lbcProcess, type LbcProcess } from '../support/lbc-process.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));

let cluster: TestCluster;
let dir: string;

beforeAll(async () => {
  cluster = await startTestCluster();
  dir = mkdtempSync(join(tmpdir(), 'lbc-run-process-'));
});

afterAll(async () => {
  await cluster?.stop();
});

function lbcRun(config: string, opts: { preload?: readonly string[]; env?: NodeJS.ProcessEnv; built?: boolean } = {}): LbcProcess {
  const file = join(dir, `${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, config);
  const args = ['run', '--kubeconfig', cluster.kubeconfigPath, '--config', file, '--metrics-bind-address', '127.0.0.1:0', '--health-probe-bind-address', '127.0.0.1:0'];
  return lbcProcess(args, { ...(opts.env ? { env: opts.env } : {}), preload: (opts.preload ?? []).map((p) => join(FIXTURES, p)), ...(opts.built ? { built: true } : {}) });
}

const MEMORY = 'clusterName: run-process\nproviders: [{ name: mem, type: memory }]\ndefaultClass: lbc.dev/mem\n';
const LOCAL = 'clusterName: run-process\nproviders: [{ name: here, type: local, options: { addressPool: 127.241.0.0/16, portOffset: 8000 } }]\n';
const AWS = 'clusterName: run-process\nproviders:\n  - name: cloud\n    type: aws\n    options: { region: eu-west-1, endpoint: "http://127.0.0.1:1" }\n';
// Static credentials, and no instance metadata service: the SDK's credential chain stays off the network.
const AWS_ENV = { AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'not-a-secret', AWS_EC2_METADATA_DISABLED: 'true' };

/** Runs until the controller has started (its providers built), then stops it as SIGTERM does. */
async function startAndStop(p: LbcProcess): Promise<number | null> {
  await p.waitFor(/controller started/);
  p.signal('SIGTERM');
  return p.exited;
}

const json = (line: string): Record<string, unknown> => JSON.parse(line) as Record<string, unknown>;

describe('lbc run loads a cloud SDK only for a provider of its type', () => {
  const packagesOf = async (config: string, env: NodeJS.ProcessEnv = {}, built = false): Promise<string[]> => {
    const file = join(dir, `packages-${Math.random().toString(36).slice(2)}.txt`);
    writeFileSync(file, '');
    const p = lbcRun(config, { preload: ['record-packages.mjs'], env: { ...env, LBC_TEST_PACKAGES_FILE: file }, built });
    expect(await startAndStop(p)).toBe(0);
    return [...new Set(readFileSync(file, 'utf8').split('\n').filter(Boolean))];
  };

  it('a memory provider: no @aws-sdk, no @google-cloud, no google-gax', async () => {
    const loaded = await packagesOf(MEMORY);
    // The recorder sees lbc's own dependencies, so an empty list cannot pass for a clean one.
    expect(loaded).toContain('@kubernetes/client-node');
    expect(loaded.filter((p) => /^(@aws-sdk\/|@smithy\/|@google-cloud\/|google-gax$|google-auth-library$)/.test(p))).toEqual([]);
  }, 120_000);

  // client-node's KubeConfig imports them all at its top; the build (client-node.build.mjs)
  // loads each at its first use, which a token or client-certificate kubeconfig never reaches,
  // and gives the node-fetch it bundles Node's URL in place of whatwg-url's.
  // The build's own behaviour, so the built lbc (npm run build first).
  it("built, with a token kubeconfig: none of client-node's OIDC, proxy-agent or token-command packages, nor node-fetch's whatwg-url", async () => {
    const loaded = await packagesOf(MEMORY, {}, true);
    // The recorder also sees packages loaded through require (client-node's js-yaml), so a
    // required one would show here too.
    expect(loaded).toContain('js-yaml');
    expect(loaded.filter((p) => /^(openid-client|oauth4webapi|jose|socks-proxy-agent|socks|ip-address|hpagent|jsonpath-plus|rfc4648|whatwg-url|tr46|webidl-conversions)$/.test(p))).toEqual([]);
  }, 120_000);

  it("a local provider: no cloud SDK, and none of the devcluster's or the demo's libraries (ajv, CEL, pino-pretty)", async () => {
    const loaded = await packagesOf(LOCAL);
    expect(loaded).toContain('@kubernetes/client-node');
    expect(loaded.filter((p) => /^(@aws-sdk\/|@smithy\/|@google-cloud\/|google-gax$|google-auth-library$|ajv$|@bufbuild\/cel$|pino-pretty$|node-forge$)/.test(p))).toEqual([]);
  }, 120_000);

  it('an aws provider: its SDK clients, and still no Google library', async () => {
    const loaded = await packagesOf(AWS, AWS_ENV);
    expect(loaded).toEqual(expect.arrayContaining(['@aws-sdk/client-ec2', '@aws-sdk/client-elastic-load-balancing-v2']));
    expect(loaded.filter((p) => /^(@google-cloud\/|google-gax$)/.test(p))).toEqual([]);
  }, 120_000);
});

describe('lbc run stderr', () => {
  it('with an aws provider on Node 20, carries no NodeVersionSupportWarning (nor anything else)', async () => {
    const p = lbcRun(AWS, { env: AWS_ENV });
    expect(await startAndStop(p)).toBe(0);
    expect(p.stderr.join('')).toBe('');
    // Every line is a JSON log line.
    expect(p.out.filter((l) => !l.startsWith('{'))).toEqual([]);
  }, 120_000);
});

describe('a rejected promise nobody handles', () => {
  it('is logged at error with its stack and counted in lbc_unhandled_rejections_total, and lbc run carries on', async () => {
    const p = lbcRun(MEMORY, { preload: ['reject-on-signal.mjs'] });
    const started = json(await p.waitFor(/"msg":"cluster .* metrics http/));
    const metricsUrl = /metrics (http:\/\/\S+?),/.exec(String(started.msg))?.[1];
    const healthUrl = /health (http:\/\/\S+?)$/.exec(String(started.msg))?.[1];
    await p.waitFor(/controller started/);
    p.signal('SIGUSR2');
    const line = json(await p.waitFor(/unhandled promise rejection/));
    expect(line).toMatchObject({ level: 'error', component: 'process', event: 'unhandledRejection' });
    expect((line.err as { stack?: string }).stack).toMatch(/rejected by a dependency, handled by nobody\n\s+at /);
    // Still serving, and it says how often this happened.
    await new Promise((r) => setTimeout(r, 500));
    expect(p.running()).toBe(true);
    expect((await fetch(`${healthUrl}/healthz`)).status).toBe(200);
    p.signal('SIGUSR2');
    await new Promise((r) => setTimeout(r, 500));
    const metrics = parseExposition(await (await fetch(`${metricsUrl}/metrics`)).text());
    expect(metrics.get('lbc_unhandled_rejections_total')).toBe(2);
    p.signal('SIGTERM');
    expect(await p.exited).toBe(0);
  }, 120_000);
});
