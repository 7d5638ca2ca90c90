// The kernel path of the local provider: the nft rules it writes (pure), and on a host
// with nft and CAP_NET_ADMIN, that connections really bypass lbc, that the table is lbc's
// alone from start to close, and that a failing nft hands everything back to the proxy.
// The behaviour both paths share (balancing, affinity, health, sourceRanges, drain) runs
// in l4.test.ts against each.
import { execFileSync } from 'node:child_process';
import { createServer, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createLocalProvider } from '../../../src/providers/local/index.js';
import { baseScript, programListener, tableName, type KernelRoute, type ListenerProgram } from '../../../src/providers/local/kernel-forwarding.js';
import { NftError, runNft, type NftRunner } from '../../../src/providers/local/nft.js';
import { ipOf, ipSet, kernelForwardingUnavailable, l4, onCleanup, openConnection, provider, quiet, tcpBackend } from './support.js';

const T = 'lbc_t';
const target = (host: string, port: number) => ({ key: `${host}:${port}`, host, port });
const route = (over: Partial<KernelRoute> = {}): KernelRoute => ({ address: '127.240.0.1', port: 80, sourceRanges: [], targets: [target('10.0.0.1', 8080), target('10.0.0.2', 8080)], ...over });
const byKey = (): ((key: string) => number) => {
  const seen = new Map<string, number>();
  return (key) => {
    if (!seen.has(key)) seen.set(key, seen.size);
    return seen.get(key)!;
  };
};

describe('kernel forwarding rules (pure)', () => {
  it('round-robins a new listener over its targets and registers it under address . port', () => {
    const { script, next } = programListener(T, 'l1', undefined, route(), byKey());
    expect(script).toEqual([
      'add chain ip lbc_t l1',
      'add chain ip lbc_t l1_t0',
      'add rule ip lbc_t l1_t0 meta l4proto tcp dnat ip to 10.0.0.1:8080',
      'add chain ip lbc_t l1_t1',
      'add rule ip lbc_t l1_t1 meta l4proto tcp dnat ip to 10.0.0.2:8080',
      'add rule ip lbc_t l1 numgen inc mod 2 vmap { 0 : goto l1_t0, 1 : goto l1_t1 }',
      'add element ip lbc_t listeners { 127.240.0.1 . 80 : goto l1 }',
    ]);
    expect(next).toMatchObject({ chain: 'l1', dispatchKey: '127.240.0.1 . 80', sets: [] });
  });

  it('leaves sources outside sourceRanges to the proxy, and an IPv6-only list leaves every IPv4 client to it', () => {
    const some = programListener(T, 'l1', undefined, route({ sourceRanges: ['10.0.0.0/8', '192.168.1.0/24', '2001:db8::/32'] }), byKey()).script;
    expect(some).toContain('add rule ip lbc_t l1 ip saddr != { 10.0.0.0/8, 192.168.1.0/24 } return');
    const v6 = programListener(T, 'l1', undefined, route({ sourceRanges: ['2001:db8::/32'] }), byKey()).script;
    expect(v6).toContain('add rule ip lbc_t l1 return');
    // The filter comes before any dnat verdict in the chain.
    expect(some.findIndex((l) => l.includes('saddr !='))).toBeLessThan(some.findIndex((l) => l.includes('numgen')));
  });

  it('with ClientIP affinity, a known client goes back to its target before round robin, and each new connection refreshes it', () => {
    const { script, next } = programListener(T, 'l1', undefined, route({ affinitySeconds: 600 }), byKey());
    expect(script).toContain('add set ip lbc_t l1_a0_600 { type ipv4_addr; flags dynamic,timeout; timeout 600s; size 65536; }');
    expect(script).toContain('add rule ip lbc_t l1_t1 update @l1_a1_600 { ip saddr }');
    const sticky = script.indexOf('add rule ip lbc_t l1 ip saddr @l1_a0_600 goto l1_t0');
    expect(sticky).toBeGreaterThan(-1);
    expect(sticky).toBeLessThan(script.findIndex((l) => l.includes('numgen')));
    expect(next?.sets).toEqual(['l1_a0_600', 'l1_a1_600']);
  });

  it('a target that stays keeps its chain and affinity set; one that leaves loses both; a new timeout means new sets', () => {
    const names = byKey();
    const first = programListener(T, 'l1', undefined, route({ affinitySeconds: 600 }), names).next as ListenerProgram;
    const { script, next } = programListener(T, 'l1', first, route({ affinitySeconds: 600, targets: [target('10.0.0.2', 8080)] }), names);
    expect(script).toContain('delete chain ip lbc_t l1_t0');
    expect(script).toContain('delete set ip lbc_t l1_a0_600');
    expect(script).not.toContain('delete set ip lbc_t l1_a1_600');
    expect(script).not.toContain('add element ip lbc_t listeners { 127.240.0.1 . 80 : goto l1 }');
    // Rules referencing the old chain and set are flushed before they are deleted, in the same transaction.
    expect(script.indexOf('flush chain ip lbc_t l1')).toBeLessThan(script.indexOf('delete chain ip lbc_t l1_t0'));
    expect(next?.sets).toEqual(['l1_a1_600']);
    const retimed = programListener(T, 'l1', next, route({ affinitySeconds: 30, targets: [target('10.0.0.2', 8080)] }), names).script;
    expect(retimed).toContain('delete set ip lbc_t l1_a1_600');
    expect(retimed).toContain('add set ip lbc_t l1_a1_30 { type ipv4_addr; flags dynamic,timeout; timeout 30s; size 65536; }');
  });

  it('no eligible target: no verdict, so the connection falls through to the proxy (which resets it)', () => {
    const { script } = programListener(T, 'l1', undefined, route({ targets: [] }), byKey());
    expect(script.some((l) => l.includes('numgen') || l.includes('dnat'))).toBe(false);
    expect(script).toContain('add element ip lbc_t listeners { 127.240.0.1 . 80 : goto l1 }');
  });

  it('removing a listener unregisters it first, then removes its chains and sets', () => {
    const first = programListener(T, 'l1', undefined, route({ affinitySeconds: 60 }), byKey()).next;
    const { script, next } = programListener(T, 'l1', first, undefined, byKey());
    expect(next).toBeUndefined();
    expect(script[0]).toBe('delete element ip lbc_t listeners { 127.240.0.1 . 80 }');
    expect(script.slice(-3)).toEqual(['delete chain ip lbc_t l1', 'delete set ip lbc_t l1_a0_60', 'delete set ip lbc_t l1_a1_60']);
  });

  it('names the table after provider, cluster and pool, in characters nft accepts', () => {
    expect(tableName('local', 'my-cluster', '127.240.0.0/16')).toBe('lbc_local_my_cluster_127_240_0_0_16');
  });

  it('replaces a table an earlier run left, and tracks new connections only', () => {
    const s = baseScript('lbc_x');
    expect(s.indexOf('delete table ip lbc_x')).toBeLessThan(s.indexOf('table ip lbc_x {'));
    expect(s).toContain('type nat hook output priority -100');
    expect(s).toContain('ct state new ip daddr . tcp dport vmap @listeners');
  });
});

describe('choosing the L4 forwarding', () => {
  const missing: NftRunner = () => Promise.reject(new NftError('nft is not installed (Debian: apt-get install nftables)', 'missing'));

  it('kernel without nft fails at start and says what is missing', async () => {
    await expect(createLocalProvider({ clusterName: 'c', addressPool: '127.241.40.0/24', l4Forwarding: 'kernel', nft: missing, log: quiet })).rejects.toThrow(
      /l4Forwarding kernel: nft is not installed/,
    );
  });

  it('auto without nft proxies in user space and says why', async () => {
    const infos: string[] = [];
    const p = await createLocalProvider({ clusterName: 'c', addressPool: '127.241.40.0/24', l4Forwarding: 'auto', nft: missing, log: { info: (m) => infos.push(m), warn: () => {} } });
    onCleanup(() => p.close());
    expect(p.kernelForwarding).toBe(false);
    expect(infos.join('\n')).toMatch(/TCP is proxied in user space \(kernel forwarding unavailable: nft is not installed/);
  });

  it('proxy (the default) never runs nft', async () => {
    const calls: string[] = [];
    const p = await provider({ addressPool: '127.241.40.0/24', nft: (s) => (calls.push(s), Promise.resolve()) });
    const b = await tcpBackend('pod-a', '127.0.12.1');
    await p.ensure(l4({ listeners: [{ protocol: 'TCP', port: 80, targetSet: 's' }], targetSets: [ipSet('s', 'TCP', [b.target])] }));
    expect(calls).toEqual([]);
    expect(p.kernelForwarding).toBe(false);
  });
});

const noKernel = await kernelForwardingUnavailable();
const POOL = '127.241.41.0/24';
const TABLE = tableName('local', 'test', POOL);
const tableExists = (): boolean => {
  try {
    execFileSync('nft', ['list', 'table', 'ip', TABLE], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};

describe.skipIf(noKernel !== undefined)(`kernel forwarding on this host${noKernel ? ` (SKIPPED: ${noKernel})` : ''}`, () => {
  /** A backend that tells each client the address and port it saw the connection come from. */
  async function peerEcho(host: string): Promise<{ port: number; seen: Socket[] }> {
    const seen: Socket[] = [];
    const s = createServer((c) => {
      seen.push(c);
      c.on('error', () => {});
      c.write(`${c.remoteAddress}:${c.remotePort}\n`);
      c.pipe(c);
    });
    await new Promise<void>((r) => s.listen({ host, port: 0 }, r));
    onCleanup(() => {
      for (const c of seen) c.destroy();
      return new Promise((r) => s.close(r));
    });
    return { port: (s.address() as { port: number }).port, seen };
  }

  it('the backend sees the client itself: the kernel forwarded the connection, lbc never touched it', async () => {
    const b = await peerEcho('127.0.12.2');
    const spec = l4({ listeners: [{ protocol: 'TCP', port: 80, targetSet: 's' }], targetSets: [ipSet('s', 'TCP', [{ ip: '127.0.12.2', port: b.port }])] });
    const kernel = await provider({ addressPool: POOL, l4Forwarding: 'kernel' });
    const ip = ipOf(await kernel.ensure(spec));
    expect(kernel.inspect(spec.ref)?.listeners.map((l) => l.forwarding)).toEqual(['kernel']);
    const direct = await openConnection(ip, 80, '127.0.12.50');
    expect(direct.name).toBe(`127.0.12.50:${direct.socket.localPort}`);
    await kernel.close();

    // The same spec proxied: the backend sees lbc's own connection, from another port.
    const proxy = await provider({ addressPool: POOL, l4Forwarding: 'proxy' });
    await proxy.ensure(spec);
    expect(proxy.inspect(spec.ref)?.listeners.map((l) => l.forwarding)).toEqual(['proxy']);
    const proxied = await openConnection(ip, 80, '127.0.12.50');
    expect(proxied.name).not.toBe(`127.0.12.50:${proxied.socket.localPort}`);
  });

  it('owns one table from start to close: a stale one is replaced, and close removes it', async () => {
    await runNft(`table ip ${TABLE} {\n  chain stale {\n  }\n}\n`);
    const p = await provider({ addressPool: POOL, l4Forwarding: 'kernel' });
    const listing = execFileSync('nft', ['list', 'table', 'ip', TABLE]).toString();
    expect(listing).not.toContain('chain stale');
    expect(listing).toContain('map listeners');
    await p.close();
    expect(tableExists()).toBe(false);
  });

  it('when nft fails mid-life, the table goes, a warning says so, and the proxy serves every connection', async () => {
    let fail = false;
    const warnings: string[] = [];
    const flaky: NftRunner = (s) => (fail && !s.startsWith('delete table') ? Promise.reject(new NftError('nft: Error: Could not process rule: No buffer space available', 'failed')) : runNft(s));
    // No probes, so that a backend's hit count is client connections only.
    const p = await provider({ addressPool: POOL, l4Forwarding: 'kernel', healthChecks: false, nft: flaky, log: { info: () => {}, warn: (m) => warnings.push(m) } });
    const [a, b] = await Promise.all([tcpBackend('pod-a', '127.0.12.3'), tcpBackend('pod-b', '127.0.12.4')]);
    const spec = l4({ listeners: [{ protocol: 'TCP', port: 80, targetSet: 's' }], targetSets: [ipSet('s', 'TCP', [a.target, b.target])] });
    const ip = ipOf(await p.ensure(spec));
    expect(p.kernelForwarding).toBe(true);
    fail = true;
    // Only pod-b stays: had the stale rule survived, half the connections would still reach pod-a.
    await p.ensure({ ...spec, targetSets: [ipSet('s', 'TCP', [b.target])] });
    expect(p.kernelForwarding).toBe(false);
    expect(warnings.join('\n')).toMatch(/No buffer space available; kernel forwarding is off, TCP listeners are proxied in user space/);
    expect(tableExists()).toBe(false);
    expect(p.inspect(spec.ref)?.listeners.map((l) => l.forwarding)).toEqual(['proxy']);
    const hitsOfA = a.hits;
    for (let i = 0; i < 4; i++) expect((await openConnection(ip, 80)).name).toBe('pod-b');
    expect(a.hits).toBe(hitsOfA);
  });
});
