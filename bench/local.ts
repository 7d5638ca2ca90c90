// The local provider's data path: what lbc costs when it carries the traffic itself.
// Three processes, as in use: this one is the client, one child runs the backends (a TCP
// sink, an HTTP server answering "ok"), one child runs a LocalProvider with an L4 (TCP)
// and an L7 (HTTP) load balancer in front of them. Each figure is measured straight to
// the backend and through the load balancer in the same run, alternating, so that a
// busy machine weighs on both alike:
//  - L4: one TCP stream of 256 MB client → backend, MB/s (goal: through ≥ 0.8× direct),
//    through the kernel path (l4Forwarding kernel: nftables DNAT, where nft and
//    CAP_NET_ADMIN are there) and through lbc's user-space proxy (l4Forwarding proxy);
//  - L7: 16 keep-alive clients for 3 s, requests/s and latency p50/p99 (goal: through
//    ≥ 0.5× direct), and the p99 the proxy adds.
import type { ChildProcess } from 'node:child_process';
import { createServer as createHttpServer, Agent, request } from 'node:http';
import { connect, createServer } from 'node:net';
import type { L4Spec, L7Spec } from '../src/model/spec.js';
import { createLocalProvider } from '../src/providers/local/provider.js';
import { forkRole } from './child.js';
import { summarize } from './stats.js';

const ROLE_FLAG = '--lbc-local-bench-role';
const BACKEND_HOST = '127.0.19.1';
const POOL = '127.246.0.0/24';
const KERNEL_POOL = '127.246.1.0/24';
const PORT_OFFSET = 20_000;
const STREAM_BYTES = 256 * 1024 * 1024;
const CHUNK = Buffer.alloc(64 * 1024, 0x61);
const HTTP_CLIENTS = 16;
const HTTP_SECONDS = 3;
const ROUNDS = 3;

interface BackendPorts {
  readonly tcp: number;
  readonly http: number;
}

interface LbEndpoints {
  readonly tcp: string;
  readonly http: string;
  /** The same TCP LB forwarded by the kernel, or why that is not possible here. */
  readonly tcpKernel: { readonly endpoint: string } | { readonly unavailable: string };
}

// ---- the children -------------------------------------------------------------------

/** A TCP sink that answers with the byte count once the client has finished, and an HTTP "ok". */
async function runBackends(): Promise<void> {
  const tcp = createServer((c) => {
    let n = 0;
    c.on('data', (d: Buffer) => (n += d.length));
    c.on('end', () => c.end(`${n}\n`));
    c.on('error', () => c.destroy());
  });
  const http = createHttpServer((req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 3 });
    res.end('ok\n');
  });
  http.keepAliveTimeout = 30_000;
  const listen = (s: ReturnType<typeof createServer> | ReturnType<typeof createHttpServer>) =>
    new Promise<number>((resolve, reject) => {
      s.once('error', reject);
      s.listen({ host: BACKEND_HOST, port: 0 }, () => resolve((s.address() as { port: number }).port));
    });
  const ports: BackendPorts = { tcp: await listen(tcp), http: await listen(http) };
  process.send?.(ports);
  process.on('disconnect', () => process.exit(0));
}

const spec = {
  provider: 'local',
  className: 'lbc.dev/local',
  clusterName: 'bench',
  sourceRanges: [],
  requestedAddresses: [],
  ipFamilies: ['IPv4'],
  tags: {},
  providerOptions: {},
} as const;
const check = { protocol: 'TCP', port: 'traffic-port', intervalSeconds: 10, timeoutSeconds: 5, healthyThreshold: 2, unhealthyThreshold: 3 } as const;

/** A LocalProvider with one L4 and one L7 load balancer in front of the backends. */
async function runLoadBalancers(ports: BackendPorts): Promise<void> {
  const provider = await createLocalProvider({ clusterName: 'bench', addressPool: POOL, addressMode: 'pool', portOffset: PORT_OFFSET, healthChecks: false, log: { info: () => {}, warn: () => {} } });
  const l4: L4Spec = {
    ...spec,
    layer: 'L4',
    ref: { kind: 'Service', namespace: 'bench', name: 'tcp', uid: 'uid-tcp' },
    listeners: [{ protocol: 'TCP', port: 80, targetSet: 'tcp' }],
    targetSets: [{ name: 'tcp', type: 'ip', port: ports.tcp, protocol: 'TCP', targets: [{ ip: BACKEND_HOST, port: ports.tcp }], healthCheck: check, backend: { namespace: 'bench', service: 'tcp', port: 80 } }],
    sessionAffinity: { type: 'None' },
  };
  const l7: L7Spec = {
    ...spec,
    layer: 'L7',
    ref: { kind: 'Ingress', namespace: 'bench', name: 'http', uid: 'uid-http' },
    listeners: [{ protocol: 'HTTP', port: 80 }],
    rules: [],
    defaultBackend: 'http',
    targetSets: [{ name: 'http', type: 'ip', port: ports.http, protocol: 'HTTP', targets: [{ ip: BACKEND_HOST, port: ports.http }], healthCheck: check, backend: { namespace: 'bench', service: 'http', port: 80 } }],
  };
  const at = (s: { ingress: readonly { ip?: string; ports?: readonly { port: number }[] }[] }) => `${s.ingress[0]?.ip ?? '?'}:${s.ingress[0]?.ports?.[0]?.port ?? '?'}`;
  let unavailable = 'kernel forwarding unavailable';
  const kernel = await createLocalProvider({
    name: 'bench-kernel',
    clusterName: 'bench',
    addressPool: KERNEL_POOL,
    addressMode: 'pool',
    portOffset: PORT_OFFSET,
    healthChecks: false,
    l4Forwarding: 'auto',
    log: { info: (m) => (unavailable = m), warn: () => {} },
  });
  const tcpKernel = await kernel.ensure(l4);
  const endpoints: LbEndpoints = {
    tcp: at(await provider.ensure(l4)),
    http: at(await provider.ensure(l7)),
    tcpKernel: kernel.kernelForwarding ? { endpoint: at(tcpKernel) } : { unavailable },
  };
  process.send?.(endpoints);
  process.on('disconnect', () => {
    void Promise.all([provider.close(), kernel.close()]).then(() => process.exit(0));
  });
}

// ---- the client ---------------------------------------------------------------------

function split(endpoint: string): { host: string; port: number } {
  const i = endpoint.lastIndexOf(':');
  return { host: endpoint.slice(0, i), port: Number(endpoint.slice(i + 1)) };
}

/** Sends STREAM_BYTES on one connection; MB/s from connect until the sink has counted them all. */
function stream(endpoint: string): Promise<number> {
  const { host, port } = split(endpoint);
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const s = connect({ host, port });
    let sent = 0;
    let reply = '';
    const pump = (): void => {
      while (sent < STREAM_BYTES) {
        sent += CHUNK.length;
        if (!s.write(CHUNK)) return void s.once('drain', pump);
      }
      s.end();
    };
    s.on('connect', pump);
    s.on('data', (d: Buffer) => (reply += d.toString()));
    s.on('end', () => {
      const ms = performance.now() - t0;
      if (Number(reply.trim()) !== STREAM_BYTES) return reject(new Error(`${endpoint}: the sink counted ${reply.trim()} of ${STREAM_BYTES} bytes`));
      resolve(STREAM_BYTES / 1024 / 1024 / (ms / 1000));
    });
    s.on('error', reject);
  });
}

/** HTTP_CLIENTS keep-alive clients in a loop for HTTP_SECONDS: requests/s and each request's latency. */
async function hammer(endpoint: string): Promise<{ rps: number; latencies: number[] }> {
  const { host, port } = split(endpoint);
  const agent = new Agent({ keepAlive: true, maxSockets: HTTP_CLIENTS });
  const latencies: number[] = [];
  const one = () =>
    new Promise<void>((resolve, reject) => {
      const t0 = performance.now();
      const req = request({ host, port, path: '/', agent, headers: { host: 'bench.test' } }, (res) => {
        res.resume();
        res.on('end', () => {
          if (res.statusCode !== 200) return reject(new Error(`${endpoint}: ${res.statusCode ?? 0}`));
          latencies.push(performance.now() - t0);
          resolve();
        });
      });
      req.on('error', reject);
      req.end();
    });
  const until = performance.now() + HTTP_SECONDS * 1000;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: HTTP_CLIENTS }, async () => {
      while (performance.now() < until) await one();
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  agent.destroy();
  return { rps: latencies.length / seconds, latencies };
}

const child = <T>(role: string, payload?: unknown): Promise<{ proc: ChildProcess; reply: T }> => forkRole<T>(import.meta.url, ROLE_FLAG, role, payload);

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const f1 = (n: number) => n.toFixed(1);

export async function benchLocal(): Promise<void> {
  console.log('\nlocal provider: lbc carries the traffic (client, load balancer and backends in three processes, on loopback)');
  const backends = await child<BackendPorts>('backends');
  const lbs = await child<LbEndpoints>('lbs', backends.reply);
  const direct: Omit<LbEndpoints, 'tcpKernel'> = { tcp: `${BACKEND_HOST}:${backends.reply.tcp}`, http: `${BACKEND_HOST}:${backends.reply.http}` };
  try {
    const kernelAt = 'endpoint' in lbs.reply.tcpKernel ? lbs.reply.tcpKernel.endpoint : undefined;
    const mbps = { direct: [] as number[], kernel: [] as number[], proxy: [] as number[] };
    for (let i = 0; i < ROUNDS; i++) {
      mbps.direct.push(await stream(direct.tcp));
      if (kernelAt) mbps.kernel.push(await stream(kernelAt));
      mbps.proxy.push(await stream(lbs.reply.tcp));
    }
    const d = median(mbps.direct);
    const line = (label: string, runs: number[]): string => `    ${label.padEnd(40)}${f1(median(runs))} MB/s   ${(median(runs) / d).toFixed(2)}×   (runs: ${runs.map(f1).join(', ')})`;
    console.log(`  L4 TCP, one ${STREAM_BYTES / 1024 / 1024} MB stream (median of ${ROUNDS}; goal through the LB ≥ 0.8× direct):`);
    console.log(`    ${'direct to the backend'.padEnd(40)}${f1(d)} MB/s   1.00×   (runs: ${mbps.direct.map(f1).join(', ')})`);
    if (kernelAt) console.log(line('through the LB, kernel forwarding', mbps.kernel));
    else console.log(`    through the LB, kernel forwarding       not measured: ${'unavailable' in lbs.reply.tcpKernel ? lbs.reply.tcpKernel.unavailable : ''}`);
    console.log(line('through the LB, user-space proxy', mbps.proxy));

    // Warm both paths (connections, JIT) before measuring.
    await hammer(direct.http);
    await hammer(lbs.reply.http);
    const dh = await hammer(direct.http);
    const p = await hammer(lbs.reply.http);
    const ds = summarize(dh.latencies);
    const ps = summarize(p.latencies);
    console.log(`  L7 HTTP, ${HTTP_CLIENTS} keep-alive clients for ${HTTP_SECONDS} s each:`);
    console.log(`    direct to the backend   ${Math.round(dh.rps)} req/s   p50 ${f1(ds.p50)} ms   p99 ${f1(ds.p99)} ms   (${ds.n} requests)`);
    console.log(`    through the local LB    ${Math.round(p.rps)} req/s   p50 ${f1(ps.p50)} ms   p99 ${f1(ps.p99)} ms   (${ps.n} requests)`);
    console.log(`    ratio ${(p.rps / dh.rps).toFixed(2)}× (goal ≥ 0.5×); the proxy adds ${f1(ps.p99 - ds.p99)} ms at p99, ${f1(ps.p50 - ds.p50)} ms at p50`);
  } finally {
    lbs.proc.disconnect();
    backends.proc.disconnect();
  }
}

const role = process.argv.indexOf(ROLE_FLAG);
if (role >= 0) {
  const which = process.argv[role + 1];
  if (which === 'backends') await runBackends();
  else if (which === 'lbs') process.once('message', (ports) => void runLoadBalancers(ports as BackendPorts));
}
