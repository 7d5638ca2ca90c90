// `lbc plan` for Gateways, through the command over real HTTP: devcluster with the Gateway
// API CRDs the demo vendors (examples/gateway-api/), a Gateway of an lbc GatewayClass and
// two HTTPRoutes naming it, one of which it cannot take. The plan shows the Gateway with
// its routes, a note for the one not taken (its condition and reason), and `gateway/NAME`
// (and kubectl's other spellings) names one Gateway, as `svc/NAME` names a Service.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installCrds } from '../../src/cli/demo/crds.js';
import { readCluster, runPlan, type PlanOptions } from '../../src/cli/plan.js';
import type { ProviderSet } from '../../src/providers/registry.js';
import { installAlbcGatewayCrds } from '../support/gateway-crds.js';
import { startDevCluster, type DevCluster } from '../../src/devcluster/index.js';
import { makeClients, type KubeClients } from '../../src/kube/client.js';

const GROUP = 'gateway.networking.k8s.io';
const NS = 'default';

let dev: DevCluster;
let clients: KubeClients;
let configFile: string;

async function plan(opts: PlanOptions = {}): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runPlan({ kubeconfig: dev.kubeconfigPath, config: configFile, ...opts }, { out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

beforeAll(async () => {
  dev = await startDevCluster({ port: 0 });
  clients = makeClients(dev.kubeConfig());
  await installCrds(dev.kubeConfig());
  configFile = join(mkdtempSync(join(tmpdir(), 'lbc-plan-gw-')), 'lbc.yaml');
  writeFileSync(
    configFile,
    JSON.stringify({ clusterName: 'plan-gw', providers: [{ name: 'mem', type: 'memory', options: { addressPool: '198.51.100.0/24', layers: ['L4', 'L7', 'Gateway'] } }] }),
  );
  const create = (plural: string, body: object) => clients.custom.createNamespacedCustomObject({ group: GROUP, version: 'v1', namespace: NS, plural, body });
  await clients.custom.createClusterCustomObject({
    group: GROUP,
    version: 'v1',
    plural: 'gatewayclasses',
    body: { apiVersion: `${GROUP}/v1`, kind: 'GatewayClass', metadata: { name: 'lbc-mem' }, spec: { controllerName: 'lbc.dev/gateway-controller', parametersRef: { group: 'lbc.dev', kind: 'Provider', name: 'mem' } } },
  });
  await clients.core.createNamespacedService({ namespace: NS, body: { metadata: { name: 'web' }, spec: { ports: [{ port: 80, targetPort: 8080, protocol: 'TCP' }] } } });
  await create('gateways', { apiVersion: `${GROUP}/v1`, kind: 'Gateway', metadata: { name: 'gw' }, spec: { gatewayClassName: 'lbc-mem', listeners: [{ name: 'http', port: 80, protocol: 'HTTP' }] } });
  const route = (name: string, parentRef: object) =>
    create('httproutes', { apiVersion: `${GROUP}/v1`, kind: 'HTTPRoute', metadata: { name }, spec: { parentRefs: [parentRef], rules: [{ backendRefs: [{ name: 'web', port: 80 }] }] } });
  await route('good', { name: 'gw' });
  await route('stray', { name: 'gw', sectionName: 'nope' });
}, 60_000);

afterAll(async () => {
  await dev?.stop();
});

describe('lbc plan: Gateways and their routes', () => {
  it('shows the Gateway with the routes that name it, and why it would not take one', async () => {
    const r = await plan();
    expect(r.err).toBe('');
    expect(r.code).toBe(2);
    expect(r.out).toContain(`+ Gateway ${NS}/gw (HTTPRoute ${NS}/good, HTTPRoute ${NS}/stray) [mem]\n`);
    expect(r.out).toMatch(new RegExp(`\\n    \\+ kubernetes: Finalizer Gateway ${NS}/gw — lbc\\.dev/load-balancer-cleanup\\n`));
    expect(r.out).toMatch(new RegExp(`\\n    note: HTTPRoute ${NS}/stray: Accepted False \\(NoMatchingParent`));
    expect(r.out).not.toMatch(/note: HTTPRoute default\/good/);
  });

  it('names one Gateway as gateway/NAME, gtw/NAME or gateways.gateway.networking.k8s.io/NAME, in the namespace -n gives', async () => {
    for (const target of ['gateway/gw', 'gtw/gw', 'gateways.gateway.networking.k8s.io/gw']) {
      const r = await plan({ target, namespace: NS, output: 'json' });
      expect(r.err, target).toBe('');
      const doc = JSON.parse(r.out) as { objects: { subject: unknown }[] };
      expect(doc.objects.map((o) => o.subject), target).toEqual([{ kind: 'Gateway', namespace: NS, name: 'gw', routes: [`HTTPRoute ${NS}/good`, `HTTPRoute ${NS}/stray`] }]);
      expect(r.code).toBe(2);
    }
    const other = await plan({ target: 'gateway/gw', namespace: 'elsewhere', output: 'json' });
    expect(other.code).toBe(1);
    expect(JSON.parse(other.out)).toMatchObject({ objects: [{ status: 'failed', outcome: { kind: 'failed', message: 'Gateway elsewhere/gw not found' } }] });
  });
});

describe('lbc plan reads the providers\' Gateway parameters as the controller watches them', () => {
  it('ALBC\'s ListenerRuleConfiguration by name, TargetGroupConfiguration by the Service its targetReference names (aws-load-balancer-controller v3.5 targetgroupconfig.md)', async () => {
    await installAlbcGatewayCrds(dev.kubeConfig());
    const albc = { group: 'gateway.k8s.aws', version: 'v1', namespace: NS };
    await clients.custom.createNamespacedCustomObject({ ...albc, plural: 'targetgroupconfigurations', body: { apiVersion: 'gateway.k8s.aws/v1', kind: 'TargetGroupConfiguration', metadata: { name: 'web-tg' }, spec: { targetReference: { name: 'web' } } } });
    await clients.custom.createNamespacedCustomObject({ ...albc, plural: 'listenerruleconfigurations', body: { apiVersion: 'gateway.k8s.aws/v1', kind: 'ListenerRuleConfiguration', metadata: { name: 'guard' }, spec: { conditions: [{ field: 'source-ip', sourceIPConfig: { values: ['10.0.0.0/8'] } }] } } });
    const TGC = { group: 'gateway.k8s.aws', kind: 'TargetGroupConfiguration' };
    const LRC = { group: 'gateway.k8s.aws', kind: 'ListenerRuleConfiguration' };
    // A provider reading both kinds, by capabilities alone: what the controller and the plan discover from.
    const providers = { all: [{ name: 'x', type: 'aws', capabilities: { layers: ['Gateway'], targetTypes: ['ip'], annotationPrefixes: [], gatewayBackendParameters: [TGC], gatewayFilterExtensions: [LRC] } }] } as unknown as Pick<ProviderSet, 'all'>;
    const g = (await readCluster(clients, providers)).gateway;
    expect((g?.parameters?.(LRC, NS, 'guard') as { metadata?: { name?: string } } | undefined)?.metadata?.name).toBe('guard');
    expect(g?.backendParameters?.(TGC, NS, 'web').map((o) => (o as { metadata?: { name?: string } }).metadata?.name)).toEqual(['web-tg']);
    expect(g?.backendParameters?.(TGC, NS, 'other')).toEqual([]);
  });
});
