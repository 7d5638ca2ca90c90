// L4 through the local provider over real sockets: Services' TCP and UDP ports on the LB
// address, forwarded to backends on 127.0.11.x. The TCP cases run twice: lbc proxying in
// user space, and nftables rules lbc programs forwarding in the kernel (skipped, with the
// reason in the suite's name, where nft or CAP_NET_ADMIN is missing).
import { createServer as createHttpServer } from 'node:http';
import { connect, createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { LocalProvider } from '../../../src/providers/local/index.js';
import type { HealthCheck } from '../../../src/model/spec.js';
import {
  askName,
  fastTcpCheck,
  ipOf,
  ipSet,
  kernelForwardingUnavailable,
  l4,
  onCleanup,
  openConnection,
  provider,
  provider as makeProvider,
  tcpBackend,
  udpAsk,
  udpBackend,
  waitFor,
  type Backend,
  type L4Forwarding,
} from './support.js';

const POOL = '127.241.11.0/24';

async function three(): Promise<[Backend, Backend, Backend]> {
  return Promise.all([tcpBackend('pod-a', '127.0.11.1'), tcpBackend('pod-b', '127.0.11.2'), tcpBackend('pod-c', '127.0.11.3')]);
}

async function names(ip: string, port: number, n: number, localAddress?: string): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(await askName(ip, port, localAddress));
  return out;
}

const noKernel = await kernelForwardingUnavailable();
const modes: { mode: L4Forwarding; title: string; skip: boolean }[] = [
  { mode: 'proxy', title: 'proxied by lbc', skip: false },
  { mode: 'kernel', title: noKernel ? `forwarded by the kernel: SKIPPED, ${noKernel}` : 'forwarded by the kernel (nftables)', skip: noKernel !== undefined },
];

const count = (xs: readonly string[]): Record<string, number> => xs.reduce<Record<string, number>>((m, x) => ({ ...m, [x]: (m[x] ?? 0) + 1 }), {});

for (const { mode, title, skip } of modes) {
  describe.skipIf(skip)(`local provider, L4 TCP, ${title}`, () => {
    const made: LocalProvider[] = [];
    const provider = async (init: Parameters<typeof makeProvider>[0]) => {
      const p = await makeProvider({ l4Forwarding: mode, ...init });
      made.push(p);
      return p;
    };
    // A kernel path that failed falls back to the proxy, which would pass every test above: so each test proves it held.
    afterEach(() => {
      for (const p of made.splice(0)) expect(p.kernelForwarding).toBe(mode === 'kernel');
    });

    it('gives the LB its own pool address and round-robins over the targets', async () => {
      const p = await provider({ addressPool: POOL });
      const [a, b, c] = await three();
      const status = await p.ensure(
        l4({ listeners: [{ protocol: 'TCP', port: 80, targetSet: 'tcp-80' }], targetSets: [ipSet('tcp-80', 'TCP', [a.target, b.target, c.target])] }),
      );
      expect(status).toEqual({ ingress: [{ ip: '127.241.11.1', ipMode: 'Proxy', ports: [{ port: 80, protocol: 'TCP' }] }] });
      expect(count(await names('127.241.11.1', 80, 6))).toEqual({ 'pod-a': 2, 'pod-b': 2, 'pod-c': 2 });
    });

    it('sends nothing to a backend that is not in the spec (a NotReady pod)', async () => {
      const p = await provider({ addressPool: POOL });
      const [a, b, c] = await three();
      const ip = ipOf(await p.ensure(l4({ listeners: [{ protocol: 'TCP', port: 80, targetSet: 's' }], targetSets: [ipSet('s', 'TCP', [a.target, c.target])] })));
      expect(count(await names(ip, 80, 6))).toEqual({ 'pod-a': 3, 'pod-c': 3 });
      expect(b.hits).toBe(0);
    });

    it('keeps a client on its target with sessionAffinity ClientIP, and moves it when the target goes', async () => {
      const p = await provider({ addressPool: POOL });
      const [a, b, c] = await three();
      const spec = l4({
        listeners: [{ protocol: 'TCP', port: 80, targetSet: 's' }],
        targetSets: [ipSet('s', 'TCP', [a.target, b.target, c.target])],
        sessionAffinity: { type: 'ClientIP', timeoutSeconds: 60 },
      });
      const ip = ipOf(await p.ensure(spec));
      const first = await names(ip, 80, 5, '127.0.11.101');
      const second = await names(ip, 80, 5, '127.0.11.102');
      expect(new Set(first).size).toBe(1);
      expect(new Set(second).size).toBe(1);
      expect(first[0]).not.toBe(second[0]);
      // Its target leaves the spec: the client gets another one and sticks to that.
      const gone = first[0];
      const rest = [a, b, c].filter((x) => x.name !== gone).map((x) => x.target);
      await p.ensure({ ...spec, targetSets: [ipSet('s', 'TCP', rest)] });
      const moved = await names(ip, 80, 4, '127.0.11.101');
      expect(new Set(moved).size).toBe(1);
      expect(moved[0]).not.toBe(gone);
    });

    it('stops new connections to a removed target at once while its open connection keeps working', async () => {
      const p = await provider({ addressPool: POOL });
      const [a, b, c] = await three();
      const spec = l4({ listeners: [{ protocol: 'TCP', port: 80, targetSet: 's' }], targetSets: [ipSet('s', 'TCP', [a.target, b.target, c.target])] });
      const ip = ipOf(await p.ensure(spec));
      const open = await openConnection(ip, 80);
      const victim = [a, b, c].find((x) => x.name === open.name)!;
      const binds = p.bindCount;
      await p.ensure({ ...spec, targetSets: [ipSet('s', 'TCP', [a, b, c].filter((x) => x !== victim).map((x) => x.target))] });
      expect(p.bindCount).toBe(binds);
      const hitsBefore = victim.hits;
      const after = await names(ip, 80, 6);
      expect(after).not.toContain(victim.name);
      expect(victim.hits).toBe(hitsBefore);
      expect(await open.echo('still there')).toBe('still there');
      expect(p.inspect(spec.ref)?.targetSets[0]?.targets.map((t) => t.label).sort()).toHaveLength(2);
      open.socket.end();
      await waitFor(() => victim.sockets.size === 0, 2_000, 'the drained connection to close');
    });

    it('health checks mark a killed backend down and, once it is back, up again', async () => {
      const p = await provider({ addressPool: POOL });
      const [a, b, c] = await three();
      const spec = l4({
        listeners: [{ protocol: 'TCP', port: 80, targetSet: 's' }],
        targetSets: [ipSet('s', 'TCP', [a.target, b.target, c.target], fastTcpCheck)],
      });
      const ip = ipOf(await p.ensure(spec));
      const healthOf = (key: string): string | undefined => p.inspect(spec.ref)?.targetSets[0]?.targets.find((t) => t.key === key)?.health;
      const keyB = `${b.host}:${b.port}`;
      await waitFor(() => healthOf(keyB) === 'healthy', 2_000, 'pod-b healthy');
      await b.stop();
      await waitFor(() => healthOf(keyB) === 'unhealthy', 2_000, 'pod-b unhealthy');
      await p.settled();
      expect(count(await names(ip, 80, 6))).toEqual({ 'pod-a': 3, 'pod-c': 3 });
      await b.start();
      await waitFor(() => healthOf(keyB) === 'healthy', 2_000, 'pod-b healthy again');
      await p.settled();
      expect(count(await names(ip, 80, 6))).toEqual({ 'pod-a': 2, 'pod-b': 2, 'pod-c': 2 });
    });

    it('fails open: a target every check calls unhealthy still gets traffic when no target is healthy', async () => {
      const p = await provider({ addressPool: POOL });
      const a = await tcpBackend('pod-a', '127.0.11.9');
      const hc = createHttpServer((_req, res) => res.writeHead(500).end());
      await new Promise<void>((r) => hc.listen({ host: '127.0.11.9', port: 0 }, r));
      onCleanup(() => new Promise((r) => hc.close(r)));
      const hcPort = (hc.address() as { port: number }).port;
      const check: HealthCheck = { protocol: 'HTTP', port: hcPort, path: '/healthz', intervalSeconds: 0.05, timeoutSeconds: 0.05, healthyThreshold: 1, unhealthyThreshold: 1 };
      const spec = l4({ listeners: [{ protocol: 'TCP', port: 80, targetSet: 's' }], targetSets: [ipSet('s', 'TCP', [a.target], check)] });
      const ip = ipOf(await p.ensure(spec));
      await waitFor(() => p.inspect(spec.ref)?.targetSets[0]?.targets[0]?.health === 'unhealthy', 2_000, 'unhealthy');
      await p.settled();
      expect(await askName(ip, 80)).toBe('pod-a');
    });

    it('forwards to node InternalIP:nodePort for instance targets', async () => {
      const p = await provider({ addressPool: POOL });
      const node = await tcpBackend('node-x', '127.0.11.20');
      const ip = ipOf(
        await p.ensure(
          l4({
            listeners: [{ protocol: 'TCP', port: 80, targetSet: 's' }],
            targetSets: [
              {
                name: 's',
                type: 'instance',
                nodePort: node.port,
                protocol: 'TCP',
                targets: [{ name: 'node-x', addresses: [{ type: 'Hostname', address: 'node-x' }, { type: 'InternalIP', address: '127.0.11.20' }] }],
                healthCheck: fastTcpCheck,
                backend: { namespace: 'default', service: 'web', port: 80 },
              },
            ],
          }),
        ),
      );
      expect(await askName(ip, 80)).toBe('node-x');
    });

    it('closes connections from outside sourceRanges at once and serves those inside', async () => {
      // No probes, so that the backend's hit count is client connections only.
      const p = await provider({ addressPool: POOL, healthChecks: false });
      const [a] = await three();
      const ip = ipOf(
        await p.ensure(l4({ listeners: [{ protocol: 'TCP', port: 80, targetSet: 's' }], targetSets: [ipSet('s', 'TCP', [a.target])], sourceRanges: ['127.0.11.0/24'] })),
      );
      expect(await askName(ip, 80, '127.0.11.50')).toBe('pod-a');
      await expect(askName(ip, 80, '127.0.0.99')).rejects.toThrow();
      expect(a.hits).toBe(1);
    });

    it('drains on delete: no new connections, open ones finish (proxy: or are cut after the grace period), address reusable', async () => {
      const p = await provider({ addressPool: POOL, drainTimeoutMs: 400 });
      const [a] = await three();
      const spec = l4({ listeners: [{ protocol: 'TCP', port: 80, targetSet: 's' }], targetSets: [ipSet('s', 'TCP', [a.target])] });
      const ip = ipOf(await p.ensure(spec));
      const open = await openConnection(ip, 80);
      await p.delete(spec.ref);
      expect(await p.listOwned()).toEqual([]);
      await expect(askName(ip, 80)).rejects.toThrow(/ECONNREFUSED/);
      expect(await open.echo('draining')).toBe('draining');
      if (mode === 'proxy') {
        const closed = new Promise<number>((resolve) => {
          const t0 = Date.now();
          open.socket.once('close', () => resolve(Date.now() - t0));
        });
        expect(await closed).toBeLessThan(1_000);
      } else {
        // conntrack keeps the translation of a forwarded connection: it outlives the grace period, as under kube-proxy.
        await new Promise((r) => setTimeout(r, 600));
        expect(await open.echo('still draining')).toBe('still draining');
        open.socket.destroy();
      }
      await p.drained();
      // The address and port are free again: the next LB gets the same address.
      const other = { ...spec, ref: { ...spec.ref, name: 'web2', uid: 'uid-web2' } };
      expect(ipOf(await p.ensure(other))).toBe(ip);
      expect(await askName(ip, 80)).toBe('pod-a');
    });

    it('passes half-closes through (client ends its side, still reads the reply)', async () => {
      const p = await provider({ addressPool: POOL });
      const server = createServer({ allowHalfOpen: true }, (c) => {
        let n = 0;
        c.on('data', (d) => (n += d.length));
        c.on('end', () => c.end(`got ${n}\n`));
      });
      await new Promise<void>((r) => server.listen({ host: '127.0.11.30', port: 0 }, r));
      onCleanup(() => new Promise((r) => server.close(r)));
      const port = (server.address() as { port: number }).port;
      const ip = ipOf(await p.ensure(l4({ listeners: [{ protocol: 'TCP', port: 80, targetSet: 's' }], targetSets: [ipSet('s', 'TCP', [{ ip: '127.0.11.30', port }])] })));
      const reply = await new Promise<string>((resolve, reject) => {
        const c = connect({ host: ip, port: 80, allowHalfOpen: true });
        let out = '';
        c.on('data', (d) => (out += d.toString()));
        c.on('end', () => resolve(out));
        c.on('error', reject);
        c.end('hello');
      });
      expect(reply).toBe('got 5\n');
    });
  });
}

describe('local provider, L4 UDP', () => {
  it('forwards datagrams, answers from the listener address, and keeps a client on its target', async () => {
    const p = await provider({ addressPool: POOL });
    const [u1, u2] = await Promise.all([udpBackend('dns-a', '127.0.11.41'), udpBackend('dns-b', '127.0.11.42')]);
    const ip = ipOf(await p.ensure(l4({ listeners: [{ protocol: 'UDP', port: 53, targetSet: 'udp' }], targetSets: [ipSet('udp', 'UDP', [u1.target, u2.target])] })));
    const r1 = await udpAsk(ip, 53, 'q1');
    const r2 = await udpAsk(ip, 53, 'q2');
    expect(r1?.from).toEqual({ address: ip, port: 53 });
    expect([r1?.reply, r2?.reply].sort()).toEqual(['dns-a:q1', 'dns-b:q2']);
  });

  it('keeps a session: one client socket talks to one target', async () => {
    const p = await provider({ addressPool: POOL });
    const [u1, u2] = await Promise.all([udpBackend('dns-a', '127.0.11.43'), udpBackend('dns-b', '127.0.11.44')]);
    const ip = ipOf(await p.ensure(l4({ listeners: [{ protocol: 'UDP', port: 53, targetSet: 'udp' }], targetSets: [ipSet('udp', 'UDP', [u1.target, u2.target])] })));
    const { createSocket } = await import('node:dgram');
    const s = createSocket('udp4');
    onCleanup(() => s.close());
    const replies: string[] = [];
    s.on('message', (m) => replies.push(m.toString()));
    await new Promise<void>((r) => s.bind({ address: '127.0.11.45', port: 0 }, r));
    for (let i = 0; i < 4; i++) s.send(`m${i}`, 53, ip);
    await waitFor(() => replies.length === 4, 2_000, 'four replies');
    expect(new Set(replies.map((r) => r.split(':')[0])).size).toBe(1);
  });

  it('drops datagrams from outside sourceRanges', async () => {
    const p = await provider({ addressPool: POOL });
    const u = await udpBackend('dns-a', '127.0.11.46');
    const ip = ipOf(
      await p.ensure(l4({ listeners: [{ protocol: 'UDP', port: 53, targetSet: 'udp' }], targetSets: [ipSet('udp', 'UDP', [u.target])], sourceRanges: ['127.0.11.0/24'] })),
    );
    expect((await udpAsk(ip, 53, 'in', { localAddress: '127.0.11.47' }))?.reply).toBe('dns-a:in');
    expect(await udpAsk(ip, 53, 'out', { localAddress: '127.0.0.99', timeoutMs: 300 })).toBeUndefined();
  });
});
