// The local provider's data path: what lbc costs when it carries the traffic itself.
// Separate processes, as in use: this one drives the load, one child runs the L4 backend
// (a TCP sink), one child runs a LocalProvider with an L4 (TCP) and an L7 (HTTP and HTTPS)
// load balancer, and HAProxy (Debian's) runs the three HTTP backends and, as the peer, a
// load balancer over the same three backends. The children run lbc compiled to plain
// JavaScript, as `npm run build` ships it, and so do the L7 workers they start (not under
// tsx; bench/child.ts's forkCompiled), so the bench measures what users run. Each figure
// is measured straight to the backend and through the load balancers in the same run,
// alternating, so that a busy machine weighs on all alike:
//  - L4: one TCP stream of 256 MB client → backend, MB/s (goal: through ≥ 0.8× direct),
//    through the kernel path (l4Forwarding kernel: nftables DNAT, where nft and
//    CAP_NET_ADMIN are there) and through lbc's user-space proxy (l4Forwarding proxy);
//  - L7 (issue #21): wrk, 2 threads, 64 keep-alive connections, 10 s a run, 3 rounds, for
//    HTTP and HTTPS: lbc's requests/s against HAProxy's (goal ≥ 0.5×) and its p99 against
//    HAProxy's (goal ≤ 2×), and straight to one backend to show the backends are not the limit.
//    Skipped, saying why, where wrk or haproxy is not installed.
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, createServer } from 'node:net';
import type { L4Spec, L7Spec } from '../src/model/spec.js';
import { createLocalProvider } from '../src/providers/local/provider.js';
import { selfSignedCert } from '../src/devcluster/tls.js';
import { forkCompiled, forkRole } from './child.js';
import { backendsConfig, freePort, haproxyMissing, peerConfig, startHaproxy, type Haproxy } from './haproxy.js';
import { alternate, ISSUE_LOAD, peerRatios, wrkMissing, wrkRow, type WrkLoad } from './wrk.js';

const ROLE_FLAG = '--lbc-local-bench-role';
const BACKEND_HOST = '127.0.19.1';
const POOL = '127.246.0.0/24';
const KERNEL_POOL = '127.246.1.0/24';
const PORT_OFFSET = 20_000;
const STREAM_BYTES = 256 * 1024 * 1024;
const CHUNK = Buffer.alloc(64 * 1024, 0x61);
const ROUNDS = 3;
const HTTP_BACKENDS = 3;
const PEER_HOST = '127.0.19.3';

interface BackendPorts {
  readonly tcp: number;
  /** The HTTP backends (HAProxy answering itself), when haproxy is there. */
  readonly http: readonly number[];
  readonly cert: { readonly certPem: string; readonly keyPem: string };
}

interface LbEndpoints {
  readonly tcp: string;
  readonly http?: string;
  readonly https?: string;
  /** Processes serving lbc's L7 listeners. */
  readonly workers?: number;
  /** The same TCP LB forwarded by the kernel, or why that is not possible here. */
  readonly tcpKernel: { readonly endpoint: string } | { readonly unavailable: string };
}

// ---- the children -------------------------------------------------------------------

/** A TCP sink that answers with the byte count once the client has finished. */
async function runBackends(): Promise<void> {
  const tcp = createServer((c) => {
    let n = 0;
    c.on('data', (d: Buffer) => (n += d.length));
    c.on('end', () => c.end(`${n}\n`));
    c.on('error', () => c.destroy());
  });
  const port = await new Promise<number>((resolve, reject) => {
    tcp.once('error', reject);
    tcp.listen({ host: BACKEND_HOST, port: 0 }, () => resolve((tcp.address() as { port: number }).port));
  });
  process.send?.({ tcp: port });
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
    listeners: [
      { protocol: 'HTTP', port: 80 },
      { protocol: 'HTTPS', port: 443, certificates: [{ source: 'secret', secretRef: { namespace: 'bench', name: 'tls' }, hosts: [], ...ports.cert }] },
    ],
    rules: [],
    defaultBackend: 'http',
    targetSets: [
      { name: 'http', type: 'ip', port: ports.http[0] ?? 0, protocol: 'HTTP', targets: ports.http.map((port) => ({ ip: BACKEND_HOST, port })), healthCheck: check, backend: { namespace: 'bench', service: 'http', port: 80 } },
    ],
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
  const l7At = ports.http.length > 0 ? await provider.ensure(l7) : undefined;
  await provider.l7WorkersReady();
  const bound = (port: number) => `${l7At?.ingress[0]?.ip ?? '?'}:${port + PORT_OFFSET}`;
  const endpoints: LbEndpoints = {
    tcp: at(await provider.ensure(l4)),
    ...(l7At ? { http: bound(80), https: bound(443), workers: provider.l7Processes } : {}),
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

const child = async <T>(role: string, payload?: unknown): Promise<{ proc: ChildProcess; reply: T }> => forkRole<T>(import.meta.url, ROLE_FLAG, role, payload, await forkCompiled());

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const f1 = (n: number) => n.toFixed(1);

/** The load of each wrk run: issue #21's, unless LBC_BENCH_SECONDS shortens it (a quick look). */
export function l7Load(): WrkLoad {
  const seconds = Number(process.env.LBC_BENCH_SECONDS ?? ISSUE_LOAD.seconds);
  return { ...ISSUE_LOAD, seconds: Number.isFinite(seconds) && seconds > 0 ? seconds : ISSUE_LOAD.seconds };
}

/** What stops the L7 part here, or undefined. */
export function l7Missing(): string | undefined {
  const why = [wrkMissing(), haproxyMissing()].filter((m) => m !== undefined);
  return why.length > 0 ? why.join('; ') : undefined;
}

export const loadLine = (): string => `load average ${loadavg().map((n) => n.toFixed(2)).join(' ')}, ${cpus().length} cores`;

export async function benchLocal(): Promise<void> {
  console.log('\nlocal provider: lbc carries the traffic (load generator, load balancers and backends in separate processes, on loopback)');
  const missing = l7Missing();
  const dir = await mkdtemp(join(tmpdir(), 'lbc-bench-local-'));
  const stops: Haproxy[] = [];
  const backends = await child<{ tcp: number }>('backends');
  let lbs: { proc: ChildProcess; reply: LbEndpoints } | undefined;
  try {
    const http = missing ? [] : await Promise.all(Array.from({ length: HTTP_BACKENDS }, () => freePort(BACKEND_HOST)));
    const httpBackends = http.length > 0 ? await startHaproxy(dir, 'backends', backendsConfig(BACKEND_HOST, http.map((port) => ({ port, body: 'ok' }))), http.map((port) => ({ host: BACKEND_HOST, port }))) : undefined;
    if (httpBackends) stops.push(httpBackends);
    const cert = selfSignedCert({ ips: [], dns: ['bench.test'] }, 'bench.test');
    lbs = await child<LbEndpoints>('lbs', { tcp: backends.reply.tcp, http, cert } satisfies BackendPorts);
    const direct = `${BACKEND_HOST}:${backends.reply.tcp}`;
    const kernelAt = 'endpoint' in lbs.reply.tcpKernel ? lbs.reply.tcpKernel.endpoint : undefined;
    const mbps = { direct: [] as number[], kernel: [] as number[], proxy: [] as number[] };
    for (let i = 0; i < ROUNDS; i++) {
      mbps.direct.push(await stream(direct));
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

    if (missing || !lbs.reply.http || !lbs.reply.https) {
      console.log(`  L7: skipped, ${missing ?? 'the L7 load balancer did not start'}`);
      return;
    }
    const pem = join(dir, 'peer.pem');
    await writeFile(pem, cert.certPem + cert.keyPem);
    const [peerHttp, peerHttps] = [await freePort(PEER_HOST), await freePort(PEER_HOST)];
    const targets = http.map((port) => ({ host: BACKEND_HOST, port }));
    const peer = await startHaproxy(
      dir,
      'peer',
      peerConfig({ host: PEER_HOST, port: peerHttp }, targets, undefined, 'peer-http') + peerConfig({ host: PEER_HOST, port: peerHttps }, targets, pem, 'peer-https'),
      [
        { host: PEER_HOST, port: peerHttp },
        { host: PEER_HOST, port: peerHttps },
      ],
    );
    stops.push(peer);
    const load = l7Load();
    console.log(`  L7, wrk ${load.threads} threads, ${load.connections} keep-alive connections, ${load.seconds} s a run, ${ROUNDS} rounds alternating (median run; ${loadLine()} at start):`);
    const runs = await alternate(
      [
        { label: 'HTTP  direct to one backend', url: `http://${BACKEND_HOST}:${http[0]}/`, pid: httpBackends?.pid },
        { label: 'HTTP  through lbc', url: `http://${lbs.reply.http}/`, pid: lbs.proc.pid },
        { label: 'HTTP  through HAProxy', url: `http://${PEER_HOST}:${peerHttp}/`, pid: peer.pid },
        { label: 'HTTPS through lbc', url: `https://${lbs.reply.https}/`, pid: lbs.proc.pid },
        { label: 'HTTPS through HAProxy', url: `https://${PEER_HOST}:${peerHttps}/`, pid: peer.pid },
      ],
      ROUNDS,
      load,
    );
    for (const [label, r] of runs) console.log(wrkRow(label, r));
    for (const proto of ['HTTP ', 'HTTPS']) {
      const r = peerRatios(runs.get(`${proto} through lbc`) ?? [], runs.get(`${proto} through HAProxy`) ?? []);
      console.log(`    ${proto.trim().padEnd(5)} lbc vs HAProxy: requests/s ${r.rps.toFixed(2)}× (goal ≥ 0.5×), p99 ${r.p99.toFixed(2)}× (goal ≤ 2×)`);
    }
    console.log(`    (${loadLine()} at end; lbc serves L7 in ${lbs.reply.workers ?? 1} processes)`);
  } finally {
    lbs?.proc.disconnect();
    backends.proc.disconnect();
    await Promise.all(stops.map((h) => h.stop()));
    await rm(dir, { recursive: true, force: true });
  }
}

const role = process.argv.indexOf(ROLE_FLAG);
if (role >= 0) {
  const which = process.argv[role + 1];
  if (which === 'backends') await runBackends();
  else if (which === 'lbs') process.once('message', (ports) => void runLoadBalancers(ports as BackendPorts));
}
