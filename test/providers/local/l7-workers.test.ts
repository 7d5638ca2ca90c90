// L7 on several processes (l7-workers.ts): requests that land in a worker are routed by
// the latest ensure, avoid the targets the controller's health checks took out, and a
// removed load balancer stops accepting in every process. Which process served a request
// is read from /proc: the backend's peer port names a socket, and the socket's owner is
// the process holding it. Backends on 127.0.21.x.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { connect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { selfSignedCert } from '../../../src/devcluster/tls.js';
import type { L7Spec, Rule } from '../../../src/model/spec.js';
import { fastTcpCheck, httpBackend, httpGet, ipOf, ipSet, l7, onCleanup, provider, waitFor, type Backend } from './support.js';

const POOL = '127.241.21.0/24';
const PARALLEL = 40;

const rule = (host: string, targetSet: string): Rule => ({ host, path: '/', pathType: 'Prefix', targetSet, source: 'default/site' });

/** Whether pid holds the TCP socket whose local port is port (an LB's connection to a backend). */
function holds(pid: number, port: number): boolean {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  const inode = readFileSync('/proc/net/tcp', 'utf8')
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .find((f) => f[1]?.endsWith(`:${hex}`))?.[9];
  if (inode === undefined) return false;
  try {
    return readdirSync(`/proc/${pid}/fd`).some((fd) => readlinkSync(`/proc/${pid}/fd/${fd}`) === `socket:[${inode}]`);
  } catch {
    return false;
  }
}

/** Which of pids holds the accepted end of a client connection from clientPort to port. */
function acceptedBy(pids: readonly number[], port: number, clientPort: number): number | undefined {
  const hex = (n: number) => n.toString(16).toUpperCase().padStart(4, '0');
  const inode = readFileSync('/proc/net/tcp', 'utf8')
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .find((f) => f[1]?.endsWith(`:${hex(port)}`) && f[2]?.endsWith(`:${hex(clientPort)}`))?.[9];
  if (inode === undefined) return undefined;
  return pids.find((pid) => {
    try {
      return readdirSync(`/proc/${pid}/fd`).some((fd) => readlinkSync(`/proc/${pid}/fd/${fd}`) === `socket:[${inode}]`);
    } catch {
      return false;
    }
  });
}

/** One HTTPS request on a new connection offering session; which process accepted it, whether it resumed, and the ticket it got. */
function httpsOnce(ip: string, session: Buffer | undefined, pids: readonly number[]): Promise<{ pid: number | undefined; resumed: boolean; session: Buffer | undefined }> {
  return new Promise((resolve, reject) => {
    const s = tlsConnect({ host: ip, port: 443, servername: 'site.test', rejectUnauthorized: false, ...(session ? { session } : {}) });
    let ticket: Buffer | undefined;
    let answered = false;
    let pid: number | undefined;
    let timer: NodeJS.Timeout | undefined;
    const finish = (): void => {
      if (!answered) return;
      const done = (): void => {
        clearTimeout(timer);
        const resumed = s.isSessionReused();
        s.destroy();
        resolve({ pid, resumed, session: ticket ?? session });
      };
      // TLS 1.3 tickets follow the handshake; a resumed session may get none, and keeps the one it offered.
      if (ticket) done();
      else timer ??= setTimeout(done, 300);
    };
    s.on('session', (t: Buffer) => {
      ticket = t;
      finish();
    });
    s.on('secureConnect', () => {
      pid = acceptedBy(pids, 443, s.localPort!);
      s.write('GET / HTTP/1.1\r\nHost: site.test\r\n\r\n');
    });
    s.on('data', (d: Buffer) => {
      if (!d.toString().startsWith('HTTP/1.1 200')) return reject(new Error(d.toString()));
      answered = true;
      finish();
    });
    s.on('error', reject);
  });
}

/** Notes when pid opens a connection to the backend (n: 0 until it does, then 1). */
function countFrom(b: Backend, pid: number): { n: number } {
  const seen = { n: 0 };
  const server = b.sockets;
  const add = server.add.bind(server);
  // Backend.sockets learns each connection as it opens: look at its peer once, then.
  server.add = (s) => {
    // Reading /proc blocks this process, which is also the load balancer: once is enough.
    if (seen.n === 0 && s.remotePort !== undefined && holds(pid, s.remotePort)) seen.n++;
    return add(s);
  };
  onCleanup(() => (server.add = add));
  return seen;
}

async function names(ip: string, host: string): Promise<string[]> {
  const replies = await Promise.all(Array.from({ length: PARALLEL }, () => httpGet(ip, 80, '/', { host })));
  return replies.map((r) => (r.status === 200 ? (JSON.parse(r.body) as { name: string }).name : String(r.status)));
}

describe.skipIf(process.platform !== 'linux')('local provider, L7 workers', () => {
  it('serves from every process, each following the latest ensure and the controller’s health checks; a deleted LB stops accepting everywhere', async () => {
    const p = await provider({ addressPool: POOL, workers: 2 });
    const a = await httpBackend('a', '127.0.21.1');
    const b1 = await httpBackend('b1', '127.0.21.2');
    const b2 = await httpBackend('b2', '127.0.21.3');
    const spec = (to: string): L7Spec =>
      l7({ rules: [rule('site.test', to)], defaultBackend: 'a', targetSets: [ipSet('a', 'HTTP', [a.target]), ipSet('b', 'HTTP', [b1.target, b2.target], fastTcpCheck)] });
    const ip = ipOf(await p.ensure(spec('a')));
    await p.l7WorkersReady();
    expect(p.l7Processes).toBe(2);
    const [worker] = p.l7WorkerPids;
    expect(worker).toBeDefined();

    // Parallel fresh connections spread over both processes; every one is routed to a.
    const fromWorker = countFrom(a, worker!);
    for (let i = 0; i < 5 && fromWorker.n === 0; i++) expect(await names(ip, 'site.test')).toEqual(Array(PARALLEL).fill('a'));
    expect(fromWorker.n).toBeGreaterThan(0);

    // ensure returns once the worker routes by the new rule: no request after it reaches a.
    await p.ensure(spec('b'));
    const after = await names(ip, 'site.test');
    expect(after.every((n) => n === 'b1' || n === 'b2')).toBe(true);
    expect(new Set(after)).toEqual(new Set(['b1', 'b2']));

    // The controller's checks take b2 out; the worker, which does not probe, stops sending to it too.
    await b2.stop();
    await waitFor(() => p.inspect(spec('b').ref)?.targetSets.find((t) => t.name === 'b')?.targets.some((t) => t.health === 'unhealthy') ?? false, 5_000, 'b2 unhealthy');
    const b1FromWorker = countFrom(b1, worker!);
    for (let i = 0; i < 5 && b1FromWorker.n === 0; i++) expect(await names(ip, 'site.test')).toEqual(Array(PARALLEL).fill('b1'));
    expect(b1FromWorker.n).toBeGreaterThan(0);

    // Deleted: nothing accepts on the address any more, in any process; ensured again, it serves.
    await p.delete(spec('b').ref);
    const refused = await Promise.all(
      Array.from(
        { length: PARALLEL },
        () =>
          new Promise<string>((resolve) => {
            const c = connect({ host: ip, port: 80 }, () => {
              c.destroy();
              resolve('accepted');
            });
            c.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
          }),
      ),
    );
    expect(new Set(refused)).toEqual(new Set(['ECONNREFUSED']));
    expect(ipOf(await p.ensure(spec('a')))).toBe(ip);
    expect(await names(ip, 'site.test')).toEqual(Array(PARALLEL).fill('a'));
  });

  it('HTTPS: a TLS session begun in one process resumes in the other (the workers share the controller’s session ticket keys)', async () => {
    const p = await provider({ addressPool: POOL, workers: 2 });
    const a = await httpBackend('a', '127.0.21.5');
    const cert = selfSignedCert({ ips: [], dns: ['site.test'] }, 'site.test');
    const certificates = [{ source: 'secret' as const, secretRef: { namespace: 'default', name: 'tls' }, hosts: [], certPem: cert.certPem, keyPem: cert.keyPem }];
    const ip = ipOf(await p.ensure(l7({ listeners: [{ protocol: 'HTTPS', port: 443, certificates }], defaultBackend: 'a', targetSets: [ipSet('a', 'HTTP', [a.target])] })));
    await p.l7WorkersReady();
    const pids = [process.pid, ...p.l7WorkerPids];
    let { session } = await httpsOnce(ip, undefined, pids);
    // Resumed connections accepted by each process, across processes: the ticket of the one before came from wherever that one landed.
    const resumedIn = new Set<number>();
    const full: (number | undefined)[] = [];
    for (let i = 0; i < 60 && resumedIn.size < 2; i++) {
      const r = await httpsOnce(ip, session, pids);
      if (r.resumed && r.pid !== undefined) resumedIn.add(r.pid);
      else full.push(r.pid);
      session = r.session;
    }
    expect(full).toEqual([]);
    expect([...resumedIn].sort()).toEqual([...pids].sort());
  });

  it('closing the provider ends its workers', async () => {
    const p = await provider({ addressPool: POOL, workers: 3 });
    const a = await httpBackend('a', '127.0.21.4');
    await p.ensure(l7({ defaultBackend: 'a', targetSets: [ipSet('a', 'HTTP', [a.target])] }));
    await p.l7WorkersReady();
    const pids = p.l7WorkerPids;
    expect(pids).toHaveLength(2);
    await p.close();
    const alive = (pid: number): boolean => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    expect(pids.filter(alive)).toEqual([]);
  });
});
