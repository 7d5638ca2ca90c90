// The local provider's pure parts: the address pool, round robin with health and fail-open,
// client affinity, the health state machine and probes, bind error meanings, SNI matching,
// and the choice of address mode.
import { createServer } from 'node:http';
import { describe, expect, it } from 'vitest';
import { selfSignedCert } from '../../../src/devcluster/tls.js';
import { ClientIpAffinity } from '../../../src/providers/local/affinity.js';
import { AddressPool } from '../../../src/providers/local/address-pool.js';
import { Balancer, type Target } from '../../../src/providers/local/balancer.js';
import { describeBindError } from '../../../src/providers/local/bind.js';
import { httpProbe, INITIAL_PROBE_STATE, nextProbeState, tcpProbe, type ProbeState } from '../../../src/providers/local/health.js';
import { createLocalProvider } from '../../../src/providers/local/index.js';
import { CertificateStore, wildcardMatches } from '../../../src/providers/local/tls.js';
import { onCleanup } from './support.js';

const t = (n: number): Target => ({ key: `10.0.0.${n}:80`, host: `10.0.0.${n}`, port: 80, label: `pod-${n}` });

describe('AddressPool', () => {
  it.each([
    ['127.240.0.0/16', '127.240.0.1'],
    ['127.241.5.0/24', '127.241.5.1'],
    ['10.9.9.8/31', '10.9.9.8'],
    ['10.9.9.9/32', '10.9.9.9'],
  ])('%s starts at %s', (cidr, first) => {
    const pool = new AddressPool(cidr);
    expect(pool.firstAddress).toBe(first);
    expect(pool.allocate('a')).toEqual({ ok: true, address: first });
  });

  it('allocates lowest free, stays put, honours and moves requests, releases, runs out', () => {
    const pool = new AddressPool('10.0.0.0/30');
    expect(pool.allocate('a')).toEqual({ ok: true, address: '10.0.0.1' });
    expect(pool.allocate('a')).toEqual({ ok: true, address: '10.0.0.1' });
    expect(pool.allocate('b')).toEqual({ ok: true, address: '10.0.0.2' });
    expect(pool.allocate('c')).toMatchObject({ ok: false, kind: 'quota' });
    expect(pool.allocate('c', '10.0.0.2')).toMatchObject({ ok: false, kind: 'conflict' });
    expect(pool.allocate('c', '10.0.1.1')).toMatchObject({ ok: false, kind: 'invalid' });
    expect(pool.allocate('c', 'nonsense')).toMatchObject({ ok: false, kind: 'invalid' });
    expect(pool.allocate('a', '10.0.0.3')).toEqual({ ok: true, address: '10.0.0.3' });
    expect(pool.allocate('c')).toEqual({ ok: true, address: '10.0.0.1' });
    pool.release('b');
    pool.release('b');
    expect(pool.addressOf('b')).toBeUndefined();
    expect(pool.allocate('d')).toEqual({ ok: true, address: '10.0.0.2' });
    expect(pool.size).toBe(3);
  });
});

describe('Balancer', () => {
  it('rotates over targets, keeps health of targets that stay, drops removed ones at once', () => {
    const b = new Balancer();
    b.setTargets([t(1), t(2), t(3)]);
    expect([1, 2, 3, 4].map(() => b.pick()?.label)).toEqual(['pod-1', 'pod-2', 'pod-3', 'pod-1']);
    b.setHealth(t(2).key, 'unhealthy');
    expect([1, 2, 3, 4].map(() => b.pick()?.label)).toEqual(['pod-3', 'pod-1', 'pod-3', 'pod-1']);
    const { added, removed } = b.setTargets([t(2), t(3), t(4)]);
    expect(added.map((x) => x.label)).toEqual(['pod-4']);
    expect(removed.map((x) => x.label)).toEqual(['pod-1']);
    expect(b.healthOf(t(2).key)).toBe('unhealthy');
    expect(b.healthOf(t(4).key)).toBe('unknown');
    expect(b.isEligible(t(1).key)).toBe(false);
    expect(new Set([1, 2, 3, 4].map(() => b.pick()?.label))).toEqual(new Set(['pod-3', 'pod-4']));
  });

  it('fails open when every target is unhealthy, and skips excluded targets', () => {
    const b = new Balancer();
    b.setTargets([t(1), t(2)]);
    b.setHealth(t(1).key, 'unhealthy');
    b.setHealth(t(2).key, 'unhealthy');
    expect(b.isEligible(t(1).key)).toBe(true);
    expect(new Set([b.pick()?.label, b.pick()?.label])).toEqual(new Set(['pod-1', 'pod-2']));
    expect(b.pick(new Set([t(1).key, t(2).key]))).toBeUndefined();
    expect(new Balancer().pick()).toBeUndefined();
  });

  it('counts active connections once per release', () => {
    const b = new Balancer();
    b.setTargets([t(1)]);
    const r1 = b.acquire(t(1).key);
    const r2 = b.acquire(t(1).key);
    expect(b.activeOf(t(1).key)).toBe(2);
    r1();
    r1();
    expect(b.activeOf(t(1).key)).toBe(1);
    r2();
    expect(b.activeOf(t(1).key)).toBe(0);
  });
});

describe('ClientIpAffinity', () => {
  it('remembers a client until it has been idle for the timeout; activity pushes expiry back', () => {
    let now = 0;
    const a = new ClientIpAffinity(10_000, () => now);
    a.remember('1.1.1.1', 'x');
    now = 9_000;
    expect(a.lookup('1.1.1.1')).toBe('x');
    a.touch('1.1.1.1', 'x');
    now = 18_000;
    expect(a.lookup('1.1.1.1')).toBe('x');
    a.touch('1.1.1.1', 'other');
    now = 19_000;
    expect(a.lookup('1.1.1.1')).toBeUndefined();
    a.remember('2.2.2.2', 'y');
    now = 40_000;
    a.sweep();
    expect(a.size).toBe(0);
  });
});

describe('health checks', () => {
  const th = { healthyThreshold: 2, unhealthyThreshold: 3 };
  const run = (results: boolean[]): string[] => {
    let s: ProbeState = INITIAL_PROBE_STATE;
    return results.map((ok) => (s = nextProbeState(s, ok, th)).health);
  };

  it('unknown → healthy on the first success; unhealthy after unhealthyThreshold failures; back after healthyThreshold successes', () => {
    expect(run([true])).toEqual(['healthy']);
    expect(run([false, false, false])).toEqual(['unknown', 'unknown', 'unhealthy']);
    expect(run([true, false, false, true, false, false, false, true, true])).toEqual([
      'healthy',
      'healthy',
      'healthy',
      'healthy',
      'healthy',
      'healthy',
      'unhealthy',
      'unhealthy',
      'healthy',
    ]);
  });

  it('probes TCP by connecting and HTTP by status 200-399, with a timeout', async () => {
    const statuses: Record<string, number> = { '/ok': 200, '/redirect': 302, '/missing': 404, '/error': 503 };
    const server = createServer((req, res) => {
      if (req.url === '/slow') return;
      res.writeHead(statuses[req.url ?? ''] ?? 500).end();
    });
    await new Promise<void>((r) => server.listen({ host: '127.0.14.1', port: 0 }, r));
    onCleanup(() => {
      server.closeAllConnections();
      return new Promise((r) => server.close(r));
    });
    const port = (server.address() as { port: number }).port;
    const signal = new AbortController().signal;
    const probe = (path: string): Promise<boolean> => httpProbe(path, false)('127.0.14.1', port, 300, signal);
    expect(await probe('/ok')).toBe(true);
    expect(await probe('/redirect')).toBe(true);
    expect(await probe('/missing')).toBe(false);
    expect(await probe('/error')).toBe(false);
    expect(await probe('/slow')).toBe(false);
    expect(await tcpProbe('127.0.14.1', port, 300, signal)).toBe(true);
    expect(await tcpProbe('127.0.14.2', port, 300, signal)).toBe(false);
    const aborted = new AbortController();
    const pending = tcpProbe('192.0.2.1', 9, 5_000, aborted.signal);
    aborted.abort();
    expect(await pending).toBe(false);
  });
});

describe('bind errors', () => {
  it('says conflict for a port in use and forbidden for a privileged port, naming address:port', () => {
    const err = (code: string): NodeJS.ErrnoException => Object.assign(new Error(code), { code });
    expect(describeBindError(err('EADDRINUSE'), 'TCP', '127.240.0.1', 80)).toEqual({ kind: 'conflict', message: 'cannot listen on TCP 127.240.0.1:80: address already in use' });
    const forbidden = describeBindError(err('EACCES'), 'UDP', '127.240.0.1', 53);
    expect(forbidden.kind).toBe('forbidden');
    expect(forbidden.message).toContain('UDP 127.240.0.1:53');
    expect(forbidden.message).toContain('CAP_NET_BIND_SERVICE');
    expect(describeBindError(err('EADDRNOTAVAIL'), 'TCP', '192.0.2.1', 80).kind).toBe('transient');
  });
});

describe('SNI', () => {
  it('matches one-label wildcards only', () => {
    expect(wildcardMatches('*.example.com', 'a.example.com')).toBe(true);
    expect(wildcardMatches('*.example.com', 'example.com')).toBe(false);
    expect(wildcardMatches('*.example.com', 'a.b.example.com')).toBe(false);
    expect(wildcardMatches('*.Example.com', 'a.example.com')).toBe(true);
    expect(wildcardMatches('a.example.com', 'a.example.com')).toBe(false);
  });

  it('skips certificates that do not load and reports them, and refuses provider-held certificates', () => {
    const c = selfSignedCert({ ips: [], dns: ['a.test'] }, 'a.test');
    const store = new CertificateStore();
    const errors = store.load([
      { source: 'secret', secretRef: { namespace: 'ns', name: 'good' }, hosts: ['a.test'], certPem: c.certPem, keyPem: c.keyPem },
      { source: 'secret', secretRef: { namespace: 'ns', name: 'bad' }, hosts: ['b.test'], certPem: 'x', keyPem: 'y' },
      { source: 'provider', id: 'arn:aws:acm:cert', hosts: [] },
    ]);
    expect(store.ids).toEqual(['ns/good']);
    expect(errors).toHaveLength(2);
    expect(errors[0]).toMatch(/^Secret ns\/bad: certificate or key cannot be used/);
    expect(errors[1]).toContain('arn:aws:acm:cert');
    expect(store.select('b.test')).toBeDefined();
  });
});

describe('address mode', () => {
  it('falls back to 127.0.0.1 ports (with a warning) when the pool cannot be bound, or refuses in pool mode', async () => {
    const warnings: string[] = [];
    const log = { info: () => {}, warn: (m: string) => warnings.push(m) };
    // 192.0.2.0/24 (TEST-NET-1) is on no interface here, so nothing in it binds.
    const p = await createLocalProvider({ clusterName: 'test', addressPool: '192.0.2.0/24', log });
    onCleanup(() => p.close());
    expect(p.mode).toBe('ports');
    expect(warnings.join()).toContain('cannot bind 192.0.2.1');
    await expect(createLocalProvider({ clusterName: 'test', addressPool: '192.0.2.0/24', addressMode: 'pool', log })).rejects.toThrow(/cannot bind 192\.0\.2\.1/);
    const loop = await createLocalProvider({ clusterName: 'test', addressPool: '127.241.14.0/24', log });
    onCleanup(() => loop.close());
    expect(loop.mode).toBe('pool');
  });
});
