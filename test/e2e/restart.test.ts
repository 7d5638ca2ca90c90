// A restarted controller (a new process: new providers with empty state, a new
// controller) keeps every address the Services hold in their status, for the providers
// that hand addresses out themselves (memory, local): no status write, no Event, the
// same address. Without Provider.restore they gave the lowest free address in reconcile
// order, which after a restart is another order, so most addresses moved (issue #22).
// An address that is no longer valid (outside the pool, held by an older Service) is
// replaced. Against devcluster, or the cluster KUBECONFIG names.
import type { V1Service } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cidrContains } from '../../src/model/ip.js';
import { buildProviders, type ProviderSet } from '../../src/providers/registry.js';
import { E2E, eventually } from './harness.js';

const MEM_POOL = '198.51.100.0/24';
const LOCAL_POOL = '127.244.0.0/24';
const N = 30;
/** Deleted before the restart, so that the lowest addresses are free and a lowest-free allocator would move the others down. */
const GONE = 6;

let e: E2E;
const extra: ProviderSet[] = [];

beforeAll(async () => {
  e = await E2E.start({
    config: {
      providers: [
        { name: 'mem', type: 'memory', options: { addressPool: MEM_POOL } },
        // Ports + 20000, so that no privilege is needed; one address per load balancer.
        { name: 'loc', type: 'local', options: { addressPool: LOCAL_POOL, addressMode: 'pool', portOffset: 20_000 } },
      ],
      defaultClass: 'lbc.dev/mem',
    },
  });
});

afterAll(async () => {
  await e?.stop();
  for (const p of extra) await p.close();
});

const names = (prefix: string): string[] => Array.from({ length: N }, (_, i) => `${prefix}-${String(i).padStart(2, '0')}`);
const ipOf = (s: V1Service | undefined): string | undefined => s?.status?.loadBalancer?.ingress?.[0]?.ip;
const addressOf = (name: string): Promise<string> =>
  eventually(`${name} to get an address`, async () => ipOf(await e.getService(name)), 20_000);

describe('a restarted controller', () => {
  it('keeps every address in the Services\' statuses (memory and local providers): no status write, no Event; invalid ones are replaced', async () => {
    const mem = names('m');
    const loc = names('l');
    // Names in reverse creation order, so that the cache's order differs from the order addresses were given in.
    for (const name of [...mem].reverse()) await e.lbService(name);
    for (const name of [...loc].reverse()) await e.lbService(name, undefined, { loadBalancerClass: 'lbc.dev/loc' });
    await e.lbService('stale');
    await e.lbService('newer');
    for (const name of [...mem, ...loc, 'stale', 'newer']) await addressOf(name);

    const gone = [...mem.slice(N - GONE), ...loc.slice(N - GONE)];
    for (const name of gone) await e.core.deleteNamespacedService({ namespace: e.ns, name });
    for (const name of gone) await eventually(`${name} to be gone`, async () => (await e.getService(name)) === undefined);
    await e.settle();

    const kept = [...mem.slice(0, N - GONE), ...loc.slice(0, N - GONE)];
    const before = new Map<string, { ip: string | undefined; rv: string | undefined; events: number }>();
    for (const name of kept) {
      const s = await e.getService(name);
      before.set(name, { ip: ipOf(s), rv: s?.metadata?.resourceVersion, events: (await e.events(name)).length });
    }
    const oldest = mem[0] as string;
    const claimed = before.get(oldest)?.ip as string;

    await e.controller.stop({ drainTimeoutMs: 1000 });
    // The old process is gone with its listeners: the new local provider binds the same addresses.
    await e.providers.close();
    // While no controller runs: 'stale' holds an address of a pool since changed, and
    // 'newer' (created after the 'm-' Services) claims the oldest one's address, as a
    // restore from a backup might leave them.
    for (const [name, ip] of [['stale', '203.0.113.9'], ['newer', claimed]] as const) {
      const s = (await e.getService(name)) as V1Service;
      await e.core.replaceNamespacedServiceStatus({ namespace: e.ns, name, body: { ...s, status: { ...s.status, loadBalancer: { ingress: [{ ip }] } } } });
    }

    const providers = await buildProviders(e.config);
    extra.push(providers);
    e.controller = e.newController({ providers });
    await e.controller.start();
    await e.settle();

    const moved: string[] = [];
    for (const name of kept) {
      const s = await e.getService(name);
      const was = before.get(name);
      if (ipOf(s) !== was?.ip) moved.push(`${name}: ${String(was?.ip)} → ${String(ipOf(s))}`);
      // Not a write of any kind: the resourceVersion is the one before the restart.
      expect(s?.metadata?.resourceVersion, name).toBe(was?.rv);
      const events = await e.events(name);
      expect(events.length, `${name}: ${events.map((ev) => ev.reason ?? '').join(', ')}`).toBe(was?.events);
    }
    expect(moved).toEqual([]);

    const stale = await addressOf('stale');
    expect(cidrContains(MEM_POOL, stale)).toBe(true);
    const newer = await eventually('newer to leave the address the older Service holds', async () => {
      const ip = ipOf(await e.getService('newer'));
      return ip !== claimed ? ip : undefined;
    });
    expect(cidrContains(MEM_POOL, newer as string)).toBe(true);
    expect(ipOf(await e.getService(oldest))).toBe(claimed);
    const assigned = [...kept, 'stale', 'newer'].map(async (n) => ipOf(await e.getService(n)));
    const all = await Promise.all(assigned);
    expect(new Set(all).size).toBe(all.length);
  });
});
