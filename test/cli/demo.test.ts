// `lbc demo` over real sockets: in-process (the addresses in status answer, balancing,
// affinity, the external database, Ingress routing and TLS, the Gateway with its 90/10
// canary HTTPRoute, header match and TLS passthrough TLSRoute, the printed curl lines run
// as printed, stop() leaves nothing open, the 127.0.0.1 fallback), and through the CLI
// (`lbc demo --check` passes on the examples and fails, with exit code 1, when an
// expectation does not hold). Each run has its own pod subnet and address pool
// (127.201-203.0.x, 127.242/244/245.0.0/24), so that a demo someone runs meanwhile
// (127.200.0.x, 127.240.0.0/16) is never met.
import { execFile, spawn, spawnSync } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { ApiextensionsV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoRequests, formatChecks, getTable, readGateway, startDemo, type DemoHandle } from '../../src/cli/demo.js';
import { runChecks } from '../../src/cli/demo/check.js';
import { httpGet, httpsGet, tlsHandshake } from '../../src/cli/demo/http.js';
import { EXAMPLES_DIR } from '../../src/cli/demo/manifests.js';
import type { GatewayClass, HTTPRoute } from '../../src/kube/gateway-api.js';

const run = promisify(execFile);
const POOL = '127.242.0.0/24';
const inPool = (ip: string) => /^127\.242\.0\.\d+$/.test(ip);

/** Sockets and servers open now (timers excluded: vitest keeps its own). */
const openSockets = (): number => process.getActiveResourcesInfo().filter((r) => /TCP|TLS|Pipe|UDP/.test(r)).length;

const hasKubectl = !spawnSync('kubectl', ['version', '--client'], { stdio: 'ignore' }).error;

async function hasCurl(): Promise<boolean> {
  try {
    await run('curl', ['--version']);
    return true;
  } catch {
    return false;
  }
}

describe('lbc demo', () => {
  let h: DemoHandle;
  let before: number;

  beforeAll(async () => {
    before = openSockets();
    h = await startDemo({ addressPool: POOL, podSubnet: '127.201.0', portOffset: 0, timeoutMs: 20_000 });
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('gives every Service, Ingress and Gateway of the examples an address from the pool in status', async () => {
    for (const lb of Object.values(h.lbs)) {
      const ip =
        lb.kind === 'Service'
          ? (await h.clients.core.readNamespacedService({ namespace: 'default', name: lb.name })).status?.loadBalancer?.ingress?.[0]?.ip
          : lb.kind === 'Ingress'
            ? (await h.clients.networking.readNamespacedIngress({ namespace: 'default', name: lb.name })).status?.loadBalancer?.ingress?.[0]?.ip
            : (await readGateway(h.clients, lb.name)).status?.addresses?.[0]?.value;
      expect(ip, `${lb.kind} ${lb.name}`).toBe(lb.ip);
      expect(inPool(lb.ip)).toBe(true);
    }
    expect(Object.values(h.lbs).map((lb) => lb.kind)).toEqual(['Service', 'Service', 'Service', 'Ingress', 'Ingress', 'Gateway']);
    expect(new Set(Object.values(h.lbs).map((lb) => lb.ip)).size).toBe(6);
    expect(h.mode).toBe('pool');
    expect(h.lbs.web.endpoints).toEqual({ 80: `${h.lbs.web.ip}:80`, 443: `${h.lbs.web.ip}:443` });
    expect(h.lbs.shop.endpoints).toEqual({ 80: `${h.lbs.shop.ip}:80`, 443: `${h.lbs.shop.ip}:443` });
    expect(h.lbs.edge.endpoints).toEqual({ 80: `${h.lbs.edge.ip}:80`, 443: `${h.lbs.edge.ip}:443` });
    expect(h.lbs.db.endpoints).toEqual({ 5432: `${h.lbs.db.ip}:5432` });
    const lines = h.commands.map((c) => c.line);
    expect(lines).toContain(`export KUBECONFIG=${h.kubeconfigPath}`);
    expect(lines).toContain(`curl http://${h.lbs.web.ip}/`);
    expect(lines).toContain(`curl --resolve shop.example.com:80:${h.lbs.shop.ip} http://shop.example.com/web`);
    expect(lines).toContain(`curl --cacert ${h.tls.certFile} --resolve shop.example.com:443:${h.lbs.shop.ip} https://shop.example.com/web`);
    expect(lines).toContain(`curl --resolve app.example.com:80:${h.lbs.edge.ip} http://app.example.com/`);
    expect(lines).toContain(`for i in $(seq 100); do curl --resolve app.example.com:80:${h.lbs.edge.ip} http://app.example.com/ --silent; done | sort | uniq -c`);
    expect(lines).toContain(`curl -H 'x-canary: always' --resolve app.example.com:80:${h.lbs.edge.ip} http://app.example.com/`);
    expect(lines).toContain(`curl --cacert ${h.backendTls.certFile} --resolve secure.example.com:443:${h.lbs.edge.ip} https://secure.example.com/`);
    expect(await readFile(h.tls.certFile, 'utf8')).toBe(h.tls.certPem);
    expect(await readFile(h.backendTls.certFile, 'utf8')).toBe(h.backendTls.certPem);
  });

  it('installs the Gateway API CRDs and the GatewayClass `lbc manifests --gateway-class` prints, which lbc accepts', async () => {
    const crds = await h.clients.kc.makeApiClient(ApiextensionsV1Api).listCustomResourceDefinition();
    expect(crds.items.map((c) => c.metadata?.name).sort()).toEqual(
      ['gatewayclasses', 'gateways', 'httproutes', 'referencegrants', 'tlsroutes'].map((p) => `${p}.gateway.networking.k8s.io`),
    );
    for (const c of crds.items) expect(c.metadata?.annotations?.['gateway.networking.k8s.io/bundle-version'], c.metadata?.name).toBe('v1.4.0');
    const gc = (await h.clients.custom.getClusterCustomObject({ group: 'gateway.networking.k8s.io', version: 'v1', plural: 'gatewayclasses', name: 'lbc-local' })) as GatewayClass;
    expect(gc.spec).toEqual({ controllerName: 'lbc.dev/gateway-controller', parametersRef: { group: 'lbc.dev', kind: 'Provider', name: 'local' } });
    expect(gc.status?.conditions?.find((c) => c.type === 'Accepted')).toMatchObject({ status: 'True', reason: 'Accepted' });
  });

  it('serves Gateway edge: Accepted and Programmed with its address, the routes Accepted with their refs resolved', async () => {
    const gw = await readGateway(h.clients, 'edge');
    const types = (cs: { type: string; status: string }[] | undefined) => Object.fromEntries((cs ?? []).map((c) => [c.type, c.status]));
    expect(types(gw.status?.conditions)).toMatchObject({ Accepted: 'True', Programmed: 'True' });
    expect(gw.status?.addresses).toEqual([{ type: 'IPAddress', value: h.lbs.edge.ip }]);
    expect(gw.status?.listeners?.map((l) => [l.name, l.attachedRoutes, types(l.conditions)])).toEqual([
      ['http', 1, { Accepted: 'True', ResolvedRefs: 'True', Conflicted: 'False', Programmed: 'True' }],
      ['tls', 1, { Accepted: 'True', ResolvedRefs: 'True', Conflicted: 'False', Programmed: 'True' }],
    ]);
    for (const [plural, version, name] of [
      ['httproutes', 'v1', 'app'],
      ['tlsroutes', 'v1alpha3', 'secure'],
    ] as const) {
      const r = (await h.clients.custom.getNamespacedCustomObject({ group: 'gateway.networking.k8s.io', version, namespace: 'default', plural, name })) as HTTPRoute;
      expect(r.status?.parents?.map((p) => [p.parentRef.name, p.controllerName, types(p.conditions)]), name).toEqual([['edge', 'lbc.dev/gateway-controller', { Accepted: 'True', ResolvedRefs: 'True' }]]);
    }
  });

  it('splits HTTPRoute app 90/10 over 1000 requests, and x-canary: always is always the canary', async () => {
    const seen: string[] = [];
    for (let i = 0; i < 1000; i++) seen.push((await httpGet(h.lbs.edge.endpoints[80]!, '/', { host: 'app.example.com' })).pod ?? '?');
    // Smooth weighted round robin makes it 100 exactly; a rebuilt picker mid-run could move it by one or two, 50/50 or 100/0 never.
    const canary = seen.filter((p) => p === 'canary-1').length;
    expect(canary).toBeGreaterThanOrEqual(95);
    expect(canary).toBeLessThanOrEqual(105);
    expect(seen.filter((p) => p === 'stable-1').length).toBe(1000 - canary);
    for (let i = 0; i < 20; i++) expect((await httpGet(h.lbs.edge.endpoints[80]!, '/', { host: 'app.example.com', headers: { 'x-canary': 'always' } })).pod).toBe('canary-1');
    // Another host matches no route of the listener.
    expect((await httpGet(h.lbs.edge.endpoints[80]!, '/', { host: 'other.example.com' })).status).toBe(404);
  });

  it("passes TLS for secure.example.com through to secure-1's own certificate, which lbc never holds; another name reaches nothing", async () => {
    const r = await httpsGet(h.lbs.edge.endpoints[443]!, '/', { servername: 'secure.example.com', ca: h.backendTls.certPem });
    expect(r.fingerprint256).toBe(h.backendTls.fingerprint256);
    expect(r.pod).toBe('secure-1');
    expect(r.body).toContain('port 8443 (TLS)');
    // No Secret holds it: nothing lbc reads has the passthrough backend's certificate.
    const secrets = await h.clients.core.listNamespacedSecret({ namespace: 'default' });
    expect(secrets.items.map((x) => x.metadata?.name)).toEqual(['shop-tls']);
    await expect(tlsHandshake(h.lbs.edge.endpoints[443]!, 'other.example.com')).rejects.toThrow();
    await expect(httpsGet(h.lbs.edge.endpoints[443]!, '/', { servername: 'secure.example.com', ca: h.tls.certPem })).rejects.toThrow(/self.signed|certificate/i);
  });

  it('balances web round robin over the two ready replicas, never the not-ready one, on both ports', async () => {
    for (const [port, podPort] of [
      [80, '8080'],
      [443, '8443'],
    ] as const) {
      const seen: string[] = [];
      for (let i = 0; i < 10; i++) {
        const r = await httpGet(h.lbs.web.endpoints[port]!, '/');
        expect(r.status).toBe(200);
        expect(r.body).toContain(`port ${podPort}`);
        seen.push(r.pod ?? '?');
      }
      expect(new Set(seen)).toEqual(new Set(['web-1', 'web-2']));
      for (let i = 1; i < seen.length; i++) expect(seen[i]).not.toBe(seen[i - 1]);
    }
    expect(h.pods.hits('web-3')).toBe(0);
  });

  it('keeps one client IP on one sticky replica', async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 6; i++) seen.add((await httpGet(h.lbs.sticky.endpoints[80]!, '/')).pod ?? '?');
    expect(seen.size).toBe(1);
    expect(['sticky-1', 'sticky-2']).toContain([...seen][0]);
  });

  it('reaches the external database through the selectorless Service, its hand-written Endpoints and their mirrored EndpointSlice', async () => {
    const r = await httpGet(h.lbs.db.endpoints[5432]!, '/');
    expect(r.pod).toBe('external-db');
    expect(r.body).toContain('outside the cluster');
    const eps = await h.clients.core.readNamespacedEndpoints({ namespace: 'default', name: 'db' });
    // Moved from the examples' 127.200.0.250 to this run's subnet.
    expect(eps.subsets?.[0]?.addresses?.map((a) => a.ip)).toEqual(['127.201.0.250']);
    const slices = await h.clients.discovery.listNamespacedEndpointSlice({ namespace: 'default', labelSelector: 'kubernetes.io/service-name=db' });
    expect(slices.items.map((s) => s.metadata?.labels?.['endpointslice.kubernetes.io/managed-by'])).toEqual(['endpointslicemirroring-controller.k8s.io']);
    expect(slices.items[0]?.endpoints?.map((e) => e.addresses)).toEqual([['127.201.0.250']]);
  });

  it('routes the Ingress by host and path, with the default backend for the rest, and serves the legacy-class Ingress', async () => {
    const at = async (host: string | undefined, path: string) => (await httpGet(h.lbs.shop.endpoints[80]!, path, host ? { host } : {})).pod;
    expect(['web-1', 'web-2']).toContain(await at('shop.example.com', '/web'));
    expect(['web-1', 'web-2']).toContain(await at('shop.example.com', '/web/items'));
    expect(await at('shop.example.com', '/api/orders')).toBe('api-1');
    expect(await at('shop.example.com', '/apix')).toBe('fallback-1');
    expect(await at('shop.example.com', '/')).toBe('fallback-1');
    expect(await at('api.example.com', '/anything')).toBe('api-1');
    expect(await at('other.example.com', '/web')).toBe('fallback-1');
    expect(await at(undefined, '/')).toBe('fallback-1');
    expect(['web-1', 'web-2']).toContain((await httpGet(h.lbs.legacy.endpoints[80]!, '/', { host: 'legacy.example.com' })).pod);
  });

  it("terminates HTTPS for shop.example.com with the Secret's certificate, and refuses a client that trusts another", async () => {
    const r = await httpsGet(h.lbs.shop.endpoints[443]!, '/web', { servername: 'shop.example.com', ca: h.tls.certPem });
    expect(r.fingerprint256).toBe(h.tls.fingerprint256);
    expect(['web-1', 'web-2']).toContain(r.pod);
    const { selfSignedCert } = await import('../../src/devcluster/tls.js');
    const other = selfSignedCert({ ips: [], dns: ['shop.example.com'] }, 'shop.example.com');
    await expect(httpsGet(h.lbs.shop.endpoints[443]!, '/web', { servername: 'shop.example.com', ca: other.certPem })).rejects.toThrow(/self.signed|certificate/i);
  });

  it("makes the requests it prints: ten through the canary route (nine stable, one canary) and one with x-canary: always", async () => {
    const rs = await demoRequests(h);
    expect(rs.filter((r) => 'error' in r.result)).toEqual([]);
    const app = rs.filter((r) => r.host === 'app.example.com');
    const pods = (xs: typeof rs) => xs.map((r) => ('error' in r.result ? 'error' : r.result.pod));
    expect(pods(app.filter((r) => !r.headers)).sort()).toEqual(['canary-1', ...Array.from({ length: 9 }, () => 'stable-1')]);
    expect(app.filter((r) => r.headers).map((r) => [r.headers, 'error' in r.result ? 'error' : r.result.pod])).toEqual([[{ 'x-canary': 'always' }, 'canary-1']]);
  });

  it('passes every --check expectation', async () => {
    const results = await runChecks(h);
    expect(results.length).toBeGreaterThanOrEqual(15);
    expect(results.filter((r) => !r.ok), formatChecks(results)).toEqual([]);
    expect(results.map((r) => r.name)).toEqual(expect.arrayContaining([expect.stringMatching(/^Gateway edge .*Programmed/), expect.stringMatching(/90\/10/), expect.stringMatching(/x-canary: always/), expect.stringMatching(/TLSRoute secure passes TLS/)]));
  });

  it('prints curl lines that work as printed', async (ctx) => {
    if (!(await hasCurl())) {
      console.log('demo.test.ts: curl is not installed; the printed curl lines are not run');
      ctx.skip();
    }
    const curls = h.commands.filter((c) => c.line.startsWith('curl '));
    expect(curls.length).toBeGreaterThanOrEqual(13);
    for (const c of curls) {
      const { stdout } = await run('sh', ['-c', `${c.line} --silent --show-error --max-time 5`], { timeout: 10_000 });
      for (const e of c.expect!) expect(stdout, c.line).toMatch(e);
    }
    // The counting loop, as printed: `uniq -c` shows about 90 and 10.
    const loops = h.commands.filter((c) => c.line.startsWith('for '));
    expect(loops).toHaveLength(1);
    for (const c of loops) {
      const { stdout } = await run('sh', ['-c', c.line], { timeout: 60_000 });
      expect(c.expect?.length).toBe(2);
      for (const e of c.expect!) expect(stdout, c.line).toMatch(e);
    }
  });

  it('prints kubectl lines whose output shows what they claim: ready pods 1/1, web-3 0/1, the addresses, the Endpoints and their mirrored slice', async (ctx) => {
    if (!hasKubectl) {
      console.log('demo.test.ts: kubectl is not installed; the printed kubectl lines are not run');
      ctx.skip();
    }
    const [exportLine, ...rest] = h.commands.map((c) => c.line);
    expect(exportLine).toBe(`export KUBECONFIG=${h.kubeconfigPath}`);
    const kubectls = h.commands.filter((c) => c.line.startsWith('kubectl '));
    expect(kubectls.map((c) => c.line)).toEqual(rest.filter((l) => l.startsWith('kubectl ')));
    expect(kubectls.map((c) => c.line)).toEqual([
      'kubectl get nodes,pods -o wide',
      'kubectl get svc,ingress',
      'kubectl get gateways,httproutes,tlsroutes',
      'kubectl get endpoints db',
      'kubectl get endpointslices -l kubernetes.io/service-name=db',
      'kubectl get events --field-selector type=Warning',
    ]);
    const cache = await mkdtemp(join(tmpdir(), 'lbc-demo-kubectl-'));
    try {
      for (const c of kubectls) {
        expect(c.expect?.length, c.line).toBeGreaterThan(0);
        // As a user pastes them: the export line, then the command.
        const { stdout, stderr } = await run('sh', ['-c', `${exportLine}\n${c.line} 2>&1`], { timeout: 20_000, env: { ...process.env, KUBECACHEDIR: cache } });
        for (const e of c.expect!) expect(stdout + stderr, c.line).toMatch(e);
      }
      // The table the demo prints at start is kubectl's, but for the ages.
      const { stdout } = await run('kubectl', ['get', 'svc,ingress'], { env: { ...process.env, KUBECONFIG: h.kubeconfigPath, KUBECACHEDIR: cache } });
      const ageless = (lines: string[]) => lines.map((l) => l.replace(/ {3}\d+s$/, '   AGE').replace(/ {2,}/g, '  '));
      expect(ageless(getTable(h.dev))).toEqual(ageless(stdout.trimEnd().split('\n')));
    } finally {
      await rm(cache, { recursive: true, force: true });
    }
  });

  it('stops cleanly: controller, listeners, pods and the API server close, nothing stays open', async () => {
    await h.stop();
    await h.stop(); // idempotent
    const deadline = Date.now() + 5000;
    while (openSockets() > before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(process.getActiveResourcesInfo().filter((r) => /TCP|TLS|Pipe|UDP/.test(r))).toHaveLength(before);
    await expect(httpGet(h.lbs.web.endpoints[80]!, '/', { timeoutMs: 1000 })).rejects.toThrow();
    await expect(httpGet(`127.201.0.1:8080`, '/', { timeoutMs: 1000 })).rejects.toThrow();
  });
});

describe('lbc demo where the address pool cannot be bound', () => {
  it('puts every load balancer on 127.0.0.1 with ports of its own, says so, and still passes every check', async () => {
    const lines: string[] = [];
    const warn = console.warn;
    const warned: string[] = [];
    console.warn = (...a: unknown[]) => void warned.push(a.map(String).join(' '));
    let h: DemoHandle | undefined;
    try {
      // 192.0.2.0/24 (TEST-NET-1) is on no interface, so the provider's probe bind fails.
      h = await startDemo({ addressPool: '192.0.2.0/24', podSubnet: '127.202.0', portOffset: 0, timeoutMs: 20_000, log: (l) => lines.push(l) });
      expect(h.mode).toBe('ports');
      expect(lines.join('\n')).toContain('cannot bind addresses of 192.0.2.0/24, so every load balancer is on 127.0.0.1 with ports of its own');
      expect(warned.join('\n')).toContain('cannot bind 192.0.2.1');
      const endpoints = Object.values(h.lbs).flatMap((lb) => Object.values(lb.endpoints));
      expect(endpoints.every((e) => /^127\.0\.0\.1:\d+$/.test(e))).toBe(true);
      expect(new Set(endpoints).size).toBe(endpoints.length);
      for (const lb of Object.values(h.lbs)) expect(lb.ip, `${lb.kind} ${lb.name}`).toBe('127.0.0.1');
      // Status carries the ports actually bound, so clients can find them.
      const web = await h.clients.core.readNamespacedService({ namespace: 'default', name: 'web' });
      expect(web.status?.loadBalancer?.ingress?.[0]?.ports?.map((p) => p.port).sort()).toEqual(Object.values(h.lbs.web.endpoints).map((e) => Number(e.split(':')[1])).sort());
      const results = await runChecks(h);
      expect(results.filter((r) => !r.ok), formatChecks(results)).toEqual([]);
      expect(h.commands.map((c) => c.line)).toContain(`curl --resolve shop.example.com:${h.lbs.shop.endpoints[80]!.split(':')[1]}:127.0.0.1 http://shop.example.com:${h.lbs.shop.endpoints[80]!.split(':')[1]}/web`);
    } finally {
      console.warn = warn;
      await h?.stop();
    }
  });
});

describe('lbc demo --check, through the CLI', () => {
  const cli = resolve('src/cli/main.ts');
  const tsx = resolve('node_modules/tsx/dist/esm/index.mjs');
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lbc-demo-check-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** Runs `lbc demo --check` (under tsx, so it tests these sources, not an old build); resolves with exit code and output. */
  const check = (args: string[]): Promise<{ code: number | null; out: string }> =>
    new Promise((done, fail) => {
      const child = spawn(process.execPath, ['--import', tsx, cli, 'demo', '--check', '--kubeconfig', join(dir, `kubeconfig-${Math.random().toString(36).slice(2)}`), ...args], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), 110_000);
      child.on('error', fail);
      child.on('close', (code) => {
        clearTimeout(timer);
        done({ code, out });
      });
    });

  it('prints PASS for every expectation and exits 0 on the examples', async () => {
    const { code, out } = await check(['--address-pool', '127.244.0.0/24', '--pod-subnet', '127.203.0']);
    expect(out).toMatch(/all \d+ checks passed/);
    const lines = out.split('\n').filter((l) => /^(PASS|FAIL) /.test(l));
    expect(lines.length).toBeGreaterThanOrEqual(10);
    expect(lines.filter((l) => l.startsWith('FAIL'))).toEqual([]);
    for (const what of ['ready replicas', 'ClientIP', 'hand-written Endpoints', 'routes by host', 'routes by path', 'defaultBackend', 'HTTPS', 'legacy', 'not-ready', 'Gateway edge', '90/10', 'x-canary', 'TLSRoute secure passes']) {
      expect(lines.some((l) => l.includes(what)), what).toBe(true);
    }
    expect(out).toContain('EXTERNAL-IP');
    expect(code).toBe(0);
  }, 120_000);

  it('prints FAIL and exits 1 when an expectation does not hold (sticky without session affinity; the canary at 50/50)', async () => {
    const examples = join(dir, 'examples');
    await cp(EXAMPLES_DIR, examples, { recursive: true });
    const sticky = join(examples, '02-sticky.yaml');
    const text = await readFile(sticky, 'utf8');
    const without = text.replace(/ {2}sessionAffinity: ClientIP\n {2}sessionAffinityConfig:\n {4}clientIP:\n {6}timeoutSeconds: 600\n/, '');
    expect(without).not.toBe(text);
    await writeFile(sticky, without);
    const gateway = join(examples, '07-gateway.yaml');
    const gwText = await readFile(gateway, 'utf8');
    const even = gwText.replace('weight: 90', 'weight: 50').replace('weight: 10', 'weight: 50');
    expect(even).not.toBe(gwText);
    await writeFile(gateway, even);
    const { code, out } = await check(['--address-pool', '127.245.0.0/24', '--pod-subnet', '127.203.0', '--examples', examples]);
    expect(out).toMatch(/FAIL {2}sticky \(sessionAffinity: ClientIP\) keeps this client on one replica: sticky-[12]×3, sticky-[12]×3/);
    expect(out).toMatch(/FAIL {2}HTTPRoute app splits app\.example\.com 90\/10 .*: (stable-1×500, canary-1×500|canary-1×500, stable-1×500) over 1000 requests: 50\.0% canary-1 \(want 5–15%\)/);
    expect(out.split('\n').filter((l) => l.startsWith('FAIL'))).toHaveLength(2);
    expect(out).toMatch(/2 of \d+ checks FAILED/);
    expect(code).toBe(1);
  }, 120_000);
});
