// /metrics, /healthz and /readyz of two replicas behind one Lease, scraped over HTTP as
// Prometheus and the kubelet would: the exposition is parsed and its values followed
// as reconciles happen and as the leadership moves.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Replica, runController } from '../../src/cli/run.js';
import { ControllerMetrics, enableProcessMetrics, recordCloudCall, registry as globalRegistry } from '../../src/observability/metrics.js';
import { createLogger } from '../../src/observability/log.js';
import { parseBindAddress, startObservabilityServer, type ObservabilityServer } from '../../src/observability/server.js';
import { E2E, eventually } from '../e2e/harness.js';
import { parseExposition } from './exposition.js';

const timings = { leaseDurationMs: 6000, renewDeadlineMs: 4000, retryPeriodMs: 250 };
const quiet = { info: () => {}, warn: () => {}, debug: () => {}, error: () => {} };

interface Node {
  readonly replica: Replica;
  readonly server: ObservabilityServer;
}

let e: E2E;
const nodes: Node[] = [];
const stop = new AbortController();

async function node(name: string): Promise<Node> {
  const registry = new Registry();
  enableProcessMetrics(registry);
  const metrics = new ControllerMetrics(registry);
  const replica = new Replica({
    controller: e.newController({ observer: metrics }),
    log: quiet,
    election: { api: e.clients.coordination, namespace: e.ns, name: 'lbc-leader', identity: name, ...timings, log: quiet },
  });
  metrics.bind(replica.controller, replica.elector);
  const server = await startObservabilityServer({
    metrics: parseBindAddress('127.0.0.1:0'),
    health: parseBindAddress('127.0.0.1:0'),
    registry,
    readiness: [{ name: 'replica', check: () => replica.ready() }],
  });
  const n = { replica, server };
  nodes.push(n);
  return n;
}

async function scrape(n: Node): Promise<Map<string, number>> {
  const res = await fetch(`${n.server.metricsUrl}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parseExposition(await res.text());
}

/** A port that was free a moment ago. */
async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

const probe = async (n: Node, path: '/healthz' | '/readyz'): Promise<number> => (await fetch(`${n.server.healthUrl}${path}`)).status;

beforeAll(async () => {
  e = await E2E.start({ noStart: true });
});

afterAll(async () => {
  for (const n of nodes) {
    await n.replica.shutdown({ drainTimeoutMs: 0, release: false }).catch(() => {});
    await n.server.close();
  }
  await e?.stop();
});

describe('bind addresses', () => {
  it('reads controller-runtime syntax and refuses anything else', () => {
    expect(parseBindAddress(':8080')).toEqual({ kind: 'listen', host: undefined, port: 8080 });
    expect(parseBindAddress('127.0.0.1:9090')).toEqual({ kind: 'listen', host: '127.0.0.1', port: 9090 });
    expect(parseBindAddress('[::1]:8081')).toEqual({ kind: 'listen', host: '::1', port: 8081 });
    expect(parseBindAddress('0')).toEqual({ kind: 'off' });
    for (const bad of ['8080', 'localhost', ':99999', 'a:b', '']) expect(() => parseBindAddress(bad), bad).toThrow(/not a bind address/);
  });

  it('serves all three paths on one listener when both addresses are the same, and none when off', async () => {
    const registry = new Registry();
    const free = await startObservabilityServer({ metrics: parseBindAddress('127.0.0.1:0'), health: parseBindAddress('127.0.0.1:0'), registry, readiness: [] });
    expect(free.metricsUrl).not.toBe(free.healthUrl); // :0 twice is two free ports
    await free.close();
    // A port that was free a moment ago: the same address twice must share one listener.
    const port = await freePort();
    const same = await startObservabilityServer({ metrics: parseBindAddress(`127.0.0.1:${port}`), health: parseBindAddress(`127.0.0.1:${port}`), registry, readiness: [] });
    expect(same.metricsUrl).toBe(`http://127.0.0.1:${port}`);
    expect(same.healthUrl).toBe(same.metricsUrl);
    for (const path of ['/metrics', '/healthz', '/readyz']) expect((await fetch(`${same.metricsUrl}${path}`)).status, path).toBe(200);
    await same.close();
    const one = await startObservabilityServer({ metrics: parseBindAddress('127.0.0.1:0'), health: { kind: 'off' }, registry, readiness: [] });
    expect(one.healthUrl).toBeUndefined();
    expect((await fetch(`${one.metricsUrl}/healthz`)).status).toBe(404);
    expect((await fetch(`${one.metricsUrl}/metrics`)).status).toBe(200);
    await one.close();
    const off = await startObservabilityServer({ metrics: { kind: 'off' }, health: { kind: 'off' }, registry, readiness: [] });
    expect([off.metricsUrl, off.healthUrl]).toEqual([undefined, undefined]);
    await off.close();
  });

  it('names the address, the endpoints and the reason once when a port is taken, and leaves no listener behind', async () => {
    const holder = createServer();
    await new Promise<void>((r) => holder.listen(0, '127.0.0.1', r));
    const port = (holder.address() as AddressInfo).port;
    try {
      const registry = new Registry();
      const taken = parseBindAddress(`127.0.0.1:${port}`);
      await expect(startObservabilityServer({ metrics: taken, health: { kind: 'off' }, registry, readiness: [] })).rejects.toMatchObject({ message: `cannot listen on 127.0.0.1:${port} (metrics): address already in use`, code: 'EADDRINUSE' });
      await expect(startObservabilityServer({ metrics: taken, health: taken, registry, readiness: [] })).rejects.toMatchObject({ message: `cannot listen on 127.0.0.1:${port} (metrics and health probes): address already in use`, code: 'EADDRINUSE' });
      // The metrics listener comes up first; the failed health one must not leave it open.
      const free = await freePort();
      await expect(startObservabilityServer({ metrics: parseBindAddress(`127.0.0.1:${free}`), health: taken, registry, readiness: [] })).rejects.toMatchObject({ message: `cannot listen on 127.0.0.1:${port} (health probes): address already in use`, code: 'EADDRINUSE' });
      const again = createServer();
      await new Promise<void>((r, fail) => again.once('error', fail).listen(free, '127.0.0.1', r));
      await new Promise((r) => again.close(r));
    } finally {
      await new Promise((r) => holder.close(r));
    }
  });

  it('`lbc run` logs a taken metrics port as one clear error line, not the listen error repeated', async () => {
    const holder = createServer();
    await new Promise<void>((r) => holder.listen(0, '127.0.0.1', r));
    const port = (holder.address() as AddressInfo).port;
    const dir = mkdtempSync(join(tmpdir(), 'lbc-listen-'));
    // Nothing is asked of this cluster: the listeners are opened before the first request.
    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(
      kubeconfig,
      'apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]\nusers: [{name: u, user: {}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n',
    );
    // lbc run needs a configuration (it claims nothing without one).
    const config = join(dir, 'lbc.yaml');
    writeFileSync(config, 'clusterName: listen\nproviders: [{name: m, type: memory}]\n');
    const lines: string[] = [];
    const destination = { write: (l: string) => void lines.push(l) };
    const exitCode = process.exitCode;
    try {
      await runController({ config, kubeconfig, metricsBindAddress: `127.0.0.1:${port}`, healthProbeBindAddress: '0' }, { logger: createLogger({ destination }), registry: new Registry() });
      expect(process.exitCode).toBe(1);
    } finally {
      process.exitCode = exitCode;
      await new Promise((r) => holder.close(r));
    }
    const errors = lines.map((l) => JSON.parse(l) as { level: string; msg: string; err?: { message: string } }).filter((l) => l.level === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]?.msg).toBe(`lbc run failed: cannot listen on 127.0.0.1:${port} (metrics): address already in use`);
    expect(errors[0]?.err?.message).toBe(`cannot listen on 127.0.0.1:${port} (metrics): address already in use`);
  });
});

describe('metrics and probes of two replicas', () => {
  let a: Node;
  let b: Node;

  it('is alive before it is ready, and ready once synced and leading or standing by', async () => {
    a = await node('a');
    expect(await probe(a, '/healthz')).toBe(200);
    expect(await probe(a, '/readyz')).toBe(503);
    const verbose = await (await fetch(`${a.server.healthUrl}/readyz?verbose`)).text();
    expect(verbose).toContain('[-]replica failed');
    expect((await scrape(a)).get('lbc_informer_synced{resource="services"}')).toBe(0);

    await a.replica.start(stop.signal);
    await eventually('a leads', () => a.replica.elector?.isLeader());
    b = await node('b');
    await b.replica.start(stop.signal);
    await eventually('b stands by', () => b.replica.elector?.current.phase === 'standby' && b.replica.elector.current.leader === 'a');
    expect(a.replica.elector?.current.phase).toBe('leading');
    expect(await probe(a, '/readyz')).toBe(200);
    expect(await probe(b, '/readyz')).toBe(200);

    const ma = await scrape(a);
    const mb = await scrape(b);
    for (const r of ['services', 'ingresses', 'ingressclasses', 'nodes', 'endpointslices', 'secrets']) {
      expect(ma.get(`lbc_informer_synced{resource="${r}"}`), r).toBe(1);
      expect(mb.get(`lbc_informer_synced{resource="${r}"}`), r).toBe(1);
    }
    expect(ma.get(`lbc_leader{lease="${e.ns}/lbc-leader"}`)).toBe(1);
    expect(mb.get(`lbc_leader{lease="${e.ns}/lbc-leader"}`)).toBe(0);
    // prom-client's process metrics are on.
    expect(ma.get('process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(ma.has('nodejs_eventloop_lag_seconds')).toBe(true);
  });

  it('counts reconciles by kind and result, their duration, retries, and the load balancers by provider', async () => {
    const before = await scrape(a);
    const done = (m: Map<string, number>): number => m.get('lbc_reconcile_total{kind="Service",result="done"}') ?? 0;
    await e.node('n1', '10.0.0.1');
    await e.lbService('web');
    await eventually('an address', async () => (await e.getService('web'))?.status?.loadBalancer?.ingress?.[0]?.ip);
    await eventually('the reconcile counted', async () => done(await scrape(a)) > done(before));
    const after = await scrape(a);
    expect(after.get('lbc_reconcile_duration_seconds_count{kind="Service"}')).toBeGreaterThan(before.get('lbc_reconcile_duration_seconds_count{kind="Service"}') ?? 0);
    expect(after.get('lbc_reconcile_duration_seconds_sum{kind="Service"}')).toBeGreaterThan(0);
    expect(after.get('lbc_load_balancers{provider="mem"}')).toBe(1);
    expect(after.get('lbc_workqueue_depth')).toBe(0);
    expect(after.get('lbc_workqueue_retries_total')).toBe(0);
    // The standby did none of it.
    const mb = await scrape(b);
    expect(mb.get('lbc_reconcile_total{kind="Service",result="done"}')).toBe(0);
    expect(mb.has('lbc_load_balancers{provider="mem"}')).toBe(false);

    // A provider failure: counted as backoff, and as a retry of the queue.
    e.provider().failNext(1, 'transient');
    await e.lbService('flaky');
    await eventually('a backoff counted', async () => ((await scrape(a)).get('lbc_reconcile_total{kind="Service",result="backoff"}') ?? 0) >= 1);
    await eventually('the retry succeeded', async () => (await e.getService('flaky'))?.status?.loadBalancer?.ingress?.[0]?.ip);
    const m = await scrape(a);
    expect(m.get('lbc_workqueue_retries_total')).toBeGreaterThanOrEqual(1);
    expect(m.get('lbc_load_balancers{provider="mem"}')).toBe(2);
  });

  it('follows the leadership: after a releases, b reports leading and a is no longer ready', async () => {
    await a.replica.shutdown({ drainTimeoutMs: 1000, release: true });
    await eventually('b leads', async () => (await scrape(b)).get(`lbc_leader{lease="${e.ns}/lbc-leader"}`) === 1, 5000);
    expect((await scrape(a)).get(`lbc_leader{lease="${e.ns}/lbc-leader"}`)).toBe(0);
    expect(await probe(a, '/readyz')).toBe(503);
    expect(await probe(a, '/healthz')).toBe(200);
    expect(await probe(b, '/readyz')).toBe(200);
    // b takes over the load balancers (its reconcile of each records what it ensured).
    await eventually('b tracks both load balancers', async () => (await scrape(b)).get('lbc_load_balancers{provider="mem"}') === 2, 5000);
  });
});

describe('cloud API calls', () => {
  it('are counted by provider, operation and outcome on the process registry', async () => {
    recordCloudCall('aws', 'DescribeLoadBalancers', 'throttled');
    recordCloudCall('aws', 'DescribeLoadBalancers', 'throttled');
    recordCloudCall('aws', 'DescribeLoadBalancers', 'success');
    const m = parseExposition(await globalRegistry.metrics());
    expect(m.get('lbc_cloud_api_calls_total{operation="DescribeLoadBalancers",outcome="throttled",provider="aws"}')).toBe(2);
    expect(m.get('lbc_cloud_api_calls_total{operation="DescribeLoadBalancers",outcome="success",provider="aws"}')).toBe(1);
  });
});
