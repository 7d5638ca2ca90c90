// The local provider's contract: idempotent, diff-based ensure that never rebinds what did
// not change, plan without side effects, addresses from the pool, bind failures reported
// after everything else is applied, delete, close, options and the registry entry.
import { GATEWAY_FEATURES } from '../../../src/model/gateway-features.js';
import { createServer, type Server } from 'node:net';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/config.js';
import { LocalProvider, localProviderFactory } from '../../../src/providers/local/index.js';
import { buildProviders } from '../../../src/providers/registry.js';
import { PartialEnsureError } from '../../../src/providers/types.js';
import { askName, ipOf, ipSet, l4, onCleanup, openConnection, provider, tcpBackend } from './support.js';
import { rejection } from '../rejection.js';

const POOL = '127.241.12.0/24';


async function block(host: string, port: number): Promise<Server> {
  const s = createServer();
  await new Promise<void>((r) => s.listen({ host, port }, r));
  onCleanup(() => new Promise((r) => s.close(r)));
  return s;
}

const show = (cs: readonly { op: string; resource: string; id: string }[]): string[] => cs.map((c) => `${c.op} ${c.resource} ${c.id}`);

describe('local provider: ensure is idempotent and diff-based', () => {
  it('makes no change and binds nothing when ensured again with the same spec', async () => {
    const p = await provider({ addressPool: POOL });
    const a = await tcpBackend('pod-a', '127.0.12.1');
    const spec = l4({
      listeners: [
        { protocol: 'TCP', port: 80, targetSet: 'tcp-80' },
        { protocol: 'UDP', port: 53, targetSet: 'udp-53' },
      ],
      targetSets: [ipSet('tcp-80', 'TCP', [a.target]), ipSet('udp-53', 'UDP', [{ ip: '127.0.12.2', port: 5353 }])],
    });
    expect(show(await p.plan(spec))).toEqual(['create LoadBalancer uid-web', 'create TargetSet tcp-80', 'create TargetSet udp-53', 'create Listener UDP:53', 'create Listener TCP:80']);
    expect(p.bindCount).toBe(0);
    const first = await p.ensure(spec);
    expect(p.bindCount).toBe(2);
    const again = await p.ensure({ ...spec, listeners: [...spec.listeners].reverse() });
    expect(again).toEqual(first);
    expect(p.bindCount).toBe(2);
    expect(await p.plan(spec)).toEqual([]);
  });

  it('updates targets in place and leaves other listeners and their connections alone', async () => {
    const p = await provider({ addressPool: POOL });
    const [a, b] = await Promise.all([tcpBackend('pod-a', '127.0.12.3'), tcpBackend('pod-b', '127.0.12.4')]);
    const base = l4({
      listeners: [
        { protocol: 'TCP', port: 80, targetSet: 'web' },
        { protocol: 'TCP', port: 81, targetSet: 'admin' },
      ],
      targetSets: [ipSet('web', 'TCP', [a.target]), ipSet('admin', 'TCP', [a.target])],
    });
    const ip = ipOf(await p.ensure(base));
    const open = await openConnection(ip, 80);
    const binds = p.bindCount;

    const retargeted = { ...base, targetSets: [ipSet('web', 'TCP', [a.target]), ipSet('admin', 'TCP', [b.target])] };
    expect(show(await p.plan(retargeted))).toEqual(['update TargetSet admin']);
    await p.ensure(retargeted);
    expect(p.bindCount).toBe(binds);
    expect(await askName(ip, 81)).toBe('pod-b');

    // Remove listener 81 and add 82: 80's open connection is untouched.
    const relisted = { ...retargeted, listeners: [base.listeners[0]!, { protocol: 'TCP' as const, port: 82, targetSet: 'admin' }] };
    expect(show(await p.plan(relisted))).toEqual(['create Listener TCP:82', 'delete Listener TCP:81']);
    const status = await p.ensure(relisted);
    expect(status.ingress[0]?.ports).toEqual([
      { port: 80, protocol: 'TCP' },
      { port: 82, protocol: 'TCP' },
    ]);
    expect(p.bindCount).toBe(binds + 1);
    expect(await open.echo('untouched')).toBe('untouched');
    expect(await askName(ip, 82)).toBe('pod-b');
    await expect(askName(ip, 81)).rejects.toThrow(/ECONNREFUSED/);

    // Point a listener at another target set: no rebind either.
    const swapped = { ...relisted, listeners: [{ protocol: 'TCP' as const, port: 80, targetSet: 'admin' }, relisted.listeners[1]!] };
    await p.ensure(swapped);
    expect(p.bindCount).toBe(binds + 1);
    expect(await askName(ip, 80)).toBe('pod-b');
    expect(await open.echo('still')).toBe('still');
  });

  it('reports a port in use as a conflict naming address:port, after serving the other listeners', async () => {
    const p = await provider({ addressPool: POOL });
    const a = await tcpBackend('pod-a', '127.0.12.5');
    const blocker = await block('127.241.12.50', 81);
    const spec = l4({
      requestedAddresses: ['127.241.12.50'],
      listeners: [
        { protocol: 'TCP', port: 80, targetSet: 's' },
        { protocol: 'TCP', port: 81, targetSet: 's' },
      ],
      targetSets: [ipSet('s', 'TCP', [a.target])],
    });
    const err = await rejection(p.ensure(spec));
    expect(err.kind).toBe('conflict');
    expect(err.retryable).toBe(true);
    expect(err.message).toContain('127.241.12.50:81');
    expect(err.message).toContain('Service default/web');
    expect(await askName('127.241.12.50', 80)).toBe('pod-a');
    // Partial: the status of what does serve travels with the error, for the reconciler to publish.
    expect(err).toBeInstanceOf(PartialEnsureError);
    expect((err as PartialEnsureError).status).toEqual({ ingress: [{ ip: '127.241.12.50', ipMode: 'Proxy', ports: [{ port: 80, protocol: 'TCP' }] }] });
    expect(show(await p.plan(spec))).toEqual(['create Listener TCP:81']);
    // Nothing bound at all: a plain failure, no status to publish.
    await block('127.241.12.51', 81);
    const lone = await rejection(p.ensure(l4({ ref: { kind: 'Service', namespace: 'default', name: 'lone', uid: 'uid-lone' }, requestedAddresses: ['127.241.12.51'], listeners: [{ protocol: 'TCP', port: 81, targetSet: 's' }], targetSets: [ipSet('s', 'TCP', [a.target])] })));
    expect(lone.kind).toBe('conflict');
    expect(lone.message).toContain('127.241.12.51:81: address already in use');
    expect(lone).not.toBeInstanceOf(PartialEnsureError);

    await new Promise((r) => blocker.close(r));
    const binds = p.bindCount;
    const status = await p.ensure(spec);
    expect(p.bindCount).toBe(binds + 1);
    expect(status.ingress[0]?.ports?.map((x) => x.port)).toEqual([80, 81]);
    expect(await askName('127.241.12.50', 81)).toBe('pod-a');
  });
});

describe('local provider: addresses', () => {
  it('keeps an LB on its address, hands out the lowest free one, honours requests in the pool only', async () => {
    const p = await provider({ addressPool: POOL });
    const svc = (name: string, over: Parameters<typeof l4>[0] = {}): ReturnType<typeof l4> => l4({ ref: { kind: 'Service', namespace: 'default', name, uid: `uid-${name}` }, ...over });
    expect(ipOf(await p.ensure(svc('one')))).toBe('127.241.12.1');
    expect(ipOf(await p.ensure(svc('two')))).toBe('127.241.12.2');
    expect(ipOf(await p.ensure(svc('one', { tags: { changed: 'yes' } })))).toBe('127.241.12.1');
    expect(ipOf(await p.ensure(svc('three', { requestedAddresses: ['127.241.12.77'] })))).toBe('127.241.12.77');
    expect((await rejection(p.ensure(svc('four', { requestedAddresses: ['127.241.12.77'] })))).kind).toBe('conflict');
    const outside = await rejection(p.ensure(svc('four', { requestedAddresses: ['10.0.0.1'] })));
    expect(outside.kind).toBe('invalid');
    expect(outside.message).toContain('not in the pool 127.241.12.0/24');
    await p.delete(svc('one').ref);
    expect(ipOf(await p.ensure(svc('five')))).toBe('127.241.12.1');
    expect((await p.listOwned()).map((o) => `${o.ref.name}=${o.id}`)).toEqual(['five=127.241.12.1', 'three=127.241.12.77', 'two=127.241.12.2']);
  });

  it('moves listeners when the requested address changes', async () => {
    const p = await provider({ addressPool: POOL });
    const a = await tcpBackend('pod-a', '127.0.12.6');
    const spec = l4({ listeners: [{ protocol: 'TCP', port: 80, targetSet: 's' }], targetSets: [ipSet('s', 'TCP', [a.target])], requestedAddresses: ['127.241.12.60'] });
    await p.ensure(spec);
    expect(ipOf(await p.ensure({ ...spec, requestedAddresses: ['127.241.12.61'] }))).toBe('127.241.12.61');
    expect(await askName('127.241.12.61', 80)).toBe('pod-a');
    await expect(askName('127.241.12.60', 80)).rejects.toThrow(/ECONNREFUSED/);
  });

  it('replaces the LB of an object recreated under the same name (new uid), and ignores deletes for the old uid', async () => {
    const p = await provider({ addressPool: POOL });
    const old = l4();
    await p.ensure(old);
    const fresh = l4({ ref: { ...old.ref, uid: 'uid-new' } });
    expect(show(await p.plan(fresh))).toEqual(['delete LoadBalancer uid-web', 'create LoadBalancer uid-new']);
    await p.ensure(fresh);
    await p.delete(old.ref);
    expect((await p.listOwned()).map((o) => o.ref.uid)).toEqual(['uid-new']);
  });

  it('in ports mode puts every LB on 127.0.0.1 with ports of their own', async () => {
    const p = await provider({ addressPool: POOL, addressMode: 'ports' });
    expect(p.mode).toBe('ports');
    const a = await tcpBackend('pod-a', '127.0.12.7');
    const b = await tcpBackend('pod-b', '127.0.12.8');
    const mk = (name: string, t: typeof a): ReturnType<typeof l4> =>
      l4({ ref: { kind: 'Service', namespace: 'default', name, uid: name }, listeners: [{ protocol: 'TCP', port: 80, targetSet: 's' }], targetSets: [ipSet('s', 'TCP', [t.target])] });
    const s1 = await p.ensure(mk('one', a));
    const s2 = await p.ensure(mk('two', b));
    expect(ipOf(s1)).toBe('127.0.0.1');
    const p1 = s1.ingress[0]?.ports?.[0]?.port ?? 0;
    const p2 = s2.ingress[0]?.ports?.[0]?.port ?? 0;
    expect(p1).not.toBe(p2);
    expect(p1).toBeGreaterThan(1023);
    expect(await askName('127.0.0.1', p1)).toBe('pod-a');
    expect(await askName('127.0.0.1', p2)).toBe('pod-b');
    expect(p.inspect(mk('one', a).ref)?.listeners).toEqual([{ id: 'TCP:80', port: 80, boundPort: p1, endpoint: `127.0.0.1:${p1}`, forwarding: 'proxy' }]);
    expect(await p.ensure(mk('one', a))).toEqual(s1);
    expect((await rejection(p.ensure({ ...mk('three', a), requestedAddresses: ['127.241.12.9'] }))).kind).toBe('invalid');
  });

  it('shifts ports with portOffset and portMap (for running without privileges)', async () => {
    const p = await provider({ addressPool: POOL, portOffset: 20_000, portMap: { '443': 28_443 } });
    const a = await tcpBackend('pod-a', '127.0.12.10');
    const status = await p.ensure(
      l4({
        listeners: [
          { protocol: 'TCP', port: 80, targetSet: 's' },
          { protocol: 'TCP', port: 443, targetSet: 's' },
        ],
        targetSets: [ipSet('s', 'TCP', [a.target])],
      }),
    );
    expect(status.ingress[0]?.ports).toEqual([
      { port: 20_080, protocol: 'TCP' },
      { port: 28_443, protocol: 'TCP' },
    ]);
    expect(await askName(ipOf(status), 20_080)).toBe('pod-a');
  });
});

describe('local provider: validation, close, options, registry', () => {
  it('refuses specs it cannot serve as invalid', async () => {
    const p = await provider({ addressPool: POOL });
    const kinds = async (s: ReturnType<typeof l4>): Promise<string> => (await rejection(p.ensure(s))).kind;
    expect(await kinds(l4({ clusterName: 'other' }))).toBe('invalid');
    expect(await kinds(l4({ ipFamilies: ['IPv6'] }))).toBe('invalid');
    expect(await kinds(l4({ listeners: [{ protocol: 'TCP', port: 80, targetSet: 'nope' }] }))).toBe('invalid');
    // A Gateway whose backend names a target set the spec does not hold is a builder bug, not traffic to drop.
    const { listeners: _l, sessionAffinity: _a, ...base } = l4();
    const gw = { ...base, layer: 'Gateway' as const, ports: [{ protocol: 'TCP' as const, port: 80, listener: 'tcp', rules: [{ origin: { kind: 'TCPRoute' as const, namespace: 'default', name: 'r', creationTimestamp: '2026-01-01T00:00:00Z', ruleIndex: 0 }, backends: [{ targetSet: 'nope', weight: 1, filters: [] }] }] }] };
    expect((await rejection(p.ensure(gw))).message).toMatch(/port TCP:80 refers to unknown target set nope/);
    expect(await p.listOwned()).toEqual([]);
    expect(p.capabilities).toEqual({
      layers: ['L4', 'L7', 'Gateway'],
      targetTypes: ['ip', 'instance'],
      annotationPrefixes: [],
      // Every feature the data path serves; static addresses are not offered.
      gatewayFeatures: GATEWAY_FEATURES.filter((f) => f !== 'GatewayStaticAddresses'),
    });
  });

  it('close() cuts everything and refuses further calls', async () => {
    const p = await provider({ addressPool: POOL });
    const a = await tcpBackend('pod-a', '127.0.12.11');
    const ip = ipOf(await p.ensure(l4({ listeners: [{ protocol: 'TCP', port: 80, targetSet: 's' }], targetSets: [ipSet('s', 'TCP', [a.target])] })));
    const open = await openConnection(ip, 80);
    const closed = new Promise<void>((r) => open.socket.once('close', () => r()));
    await p.close();
    await closed;
    await expect(askName(ip, 80)).rejects.toThrow(/ECONNREFUSED/);
    expect((await rejection(p.ensure(l4()))).kind).toBe('transient');
  });

  it('validates options in the factory, naming the key', async () => {
    const ctx = { name: 'lab', className: 'lbc.dev/lab', clusterName: 'test', configPath: 'providers[0].options' };
    await expect(localProviderFactory({ ...ctx, options: { addressPool: '127.0.0.0/8' } })).rejects.toThrow('providers[0].options.addressPool: must be /16 or smaller');
    await expect(localProviderFactory({ ...ctx, options: { portOfset: 1 } })).rejects.toThrow('providers[0].options.portOfset: unknown key');
    await expect(localProviderFactory({ ...ctx, options: { portMap: { http: 8080 } } })).rejects.toThrow(/providers\[0\]\.options\.portMap/);
    const p = await localProviderFactory({ ...ctx, options: { addressPool: POOL } });
    onCleanup(() => p.close());
    expect(p).toBeInstanceOf(LocalProvider);
    expect(p.name).toBe('lab');
    expect(p.mode).toBe('pool');
    expect(p.options.drainTimeoutMs).toBe(30_000);
  });

  it('is built by the registry for `type: local`', async () => {
    const set = await buildProviders(
      parseConfig(`
clusterName: test
providers:
  - name: laptop
    type: local
    options: { addressPool: ${POOL}, drainTimeoutMs: 100 }
`),
    );
    onCleanup(() => set.close());
    const p = set.byClass('lbc.dev/laptop');
    expect(p).toBeInstanceOf(LocalProvider);
    expect(p?.type).toBe('local');
  });
});
