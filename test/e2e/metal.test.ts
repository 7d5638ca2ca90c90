// The bare-metal provider in the controller `lbc run` builds, end to end: the controller
// restores the metal provider from the Services' statuses itself (nothing here does), so
// addresses come from the configured pools, MetalLB's annotations and sharing rules are
// honoured, bad input becomes a Warning Event and a False condition naming what is wrong,
// and a restarted controller rebuilds the allocations from the Services' statuses.
// Against devcluster, or the cluster KUBECONFIG names (in a namespace of its own).
import type { V1Service } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { READY_CONDITION } from '../../src/controller/reconcile.js';
import { isMetalProvider } from '../../src/providers/metal/index.js';
import { buildProviders, type ProviderSet } from '../../src/providers/registry.js';
import { E2E, eventually } from './harness.js';

let e: E2E;
/** Provider sets of restarted controllers; e.stop() closes only the first. */
const extra: ProviderSet[] = [];

const POOLS = [
  { name: 'lan', addresses: ['192.0.2.10-192.0.2.13'] },
  // Not handed out unless asked for; .0 is skipped.
  { name: 'reserved', addresses: ['203.0.113.0/29'], autoAssign: false, avoidBuggyIPs: true },
];

beforeAll(async () => {
  e = await E2E.start({
    config: {
      providers: [{ name: 'metal', type: 'metal', options: { pools: POOLS } }],
      defaultClass: 'lbc.dev/metal',
    },
    // Bad input is retried rarely (30 s by default, 10 min here): what the tests fix is an object
    // change, which is retried at once, and a freed address must wake a refused Service by itself.
    controller: { slowRetry: { baseMs: 600_000, maxMs: 600_000 } },
  });
});

afterAll(async () => {
  await e?.stop();
  for (const p of extra) await p.close();
});

const ips = async (name: string): Promise<string[]> => ((await e.getService(name))?.status?.loadBalancer?.ingress ?? []).map((i) => i.ip ?? '');
const addressOf = (name: string, want?: string): Promise<string> =>
  eventually(`${name} to get ${want ?? 'an address'}`, async () => {
    const [ip] = await ips(name);
    return ip !== undefined && (want === undefined || ip === want) ? ip : undefined;
  });
const condition = async (name: string) => (await e.getService(name))?.status?.conditions?.find((c) => c.type === READY_CONDITION);
// Not e.settle(): Services with bad input are retried, so the queue is never idle.
const warningsOf = async (name: string): Promise<string> => {
  await e.controller.recorder.flush();
  return (await e.events(name))
    .filter((ev) => ev.type === 'Warning')
    .map((w) => `${w.reason}: ${w.message ?? ''}`)
    .join('\n');
};
const warning = (name: string, part: string): Promise<string> =>
  eventually(`a Warning on ${name} saying ${JSON.stringify(part)}`, async () => {
    const w = await warningsOf(name);
    return w.includes(part) ? w : undefined;
  });
/** The Service has a Warning with `part`, LoadBalancerReady False saying it too, and no address. */
async function refused(name: string, part: string): Promise<void> {
  const w = await warning(name, part);
  expect(w).toMatch(/^SyncLoadBalancerFailed: /m);
  const cond = await eventually(`${name}'s condition to be False`, async () => {
    const c = await condition(name);
    return c?.status === 'False' ? c : undefined;
  });
  expect(cond.message).toContain(part);
  expect(await ips(name)).toEqual([]);
}

const port = (p: number, protocol = 'TCP', name = `p${p}`) => ({ name, port: p, targetPort: p, protocol });

describe('metal provider in the controller', () => {
  it('gives a Service the first free pool address, ipMode VIP, and the Ready condition', async () => {
    await e.lbService('one');
    expect(await addressOf('one')).toBe('192.0.2.10');
    const ingress = (await e.getService('one'))?.status?.loadBalancer?.ingress?.[0];
    // kube-apiserver before 1.29 has no ipMode field and drops it (devcluster serves 1.26); where it is kept it says VIP.
    expect(ingress?.ipMode ?? 'VIP').toBe('VIP');
    expect((await condition('one'))?.status).toBe('True');
    expect(await e.reasons('one')).toContain('EnsuredLoadBalancer');
  });

  it("honours MetalLB's annotations (both prefixes), spec.loadBalancerIP and avoidBuggyIPs", async () => {
    await e.lbService('pinned', { 'metallb.io/loadBalancerIPs': '192.0.2.13' });
    await e.lbService('pooled', { 'metallb.universe.tf/address-pool': 'reserved' });
    await e.lbService('legacy', undefined, { loadBalancerIP: '203.0.113.5' });
    expect(await addressOf('pinned')).toBe('192.0.2.13');
    // reserved is 203.0.113.0/29 with avoidBuggyIPs: .0 is skipped.
    expect(await addressOf('pooled')).toBe('203.0.113.1');
    expect(await addressOf('legacy')).toBe('203.0.113.5');
  });

  it("shares an address under one allow-shared-ip key by MetalLB's rules, and refuses what breaks them", async () => {
    await e.service('web', { type: 'LoadBalancer', ports: [port(80)] }, { 'metallb.universe.tf/allow-shared-ip': 'k1' });
    const shared = await addressOf('web');
    expect(shared).toBe('192.0.2.11');
    // Same key, other ports: the same address, picked or asked for.
    await e.service('dns', { type: 'LoadBalancer', ports: [port(53, 'UDP')] }, { 'metallb.universe.tf/allow-shared-ip': 'k1' });
    await e.service('mail', { type: 'LoadBalancer', ports: [port(25)] }, { 'metallb.io/allow-shared-ip': 'k1', 'metallb.io/loadBalancerIPs': shared });
    expect(await addressOf('dns')).toBe(shared);
    expect(await addressOf('mail')).toBe(shared);
    // Same key, a port already taken on that address.
    await e.service('clash', { type: 'LoadBalancer', ports: [port(80)] }, { 'metallb.universe.tf/allow-shared-ip': 'k1', 'metallb.universe.tf/loadBalancerIPs': shared });
    await refused('clash', `${shared} (annotation metallb.universe.tf/loadBalancerIPs) is shared with Service ${e.ns}/web, which already uses port TCP/80`);
    // Same key, another externalTrafficPolicy.
    await e.service(
      'local',
      { type: 'LoadBalancer', externalTrafficPolicy: 'Local', ports: [port(8443)] },
      { 'metallb.universe.tf/allow-shared-ip': 'k1', 'metallb.universe.tf/loadBalancerIPs': shared },
    );
    await refused('local', `whose externalTrafficPolicy is Cluster, not Local`);
    // No key: may not share.
    await e.service('nokey', { type: 'LoadBalancer', ports: [port(8080)] }, { 'metallb.universe.tf/loadBalancerIPs': shared });
    await refused('nokey', `${shared} (annotation metallb.universe.tf/loadBalancerIPs) is in use by Service ${e.ns}/`);
  });

  it('bad input: a Warning and a False condition naming the annotation, no address; the other Services are unaffected', async () => {
    await e.lbService('outside', { 'metallb.universe.tf/loadBalancerIPs': '10.1.2.3' });
    await e.lbService('nopool', { 'metallb.universe.tf/address-pool': 'nope' });
    await e.lbService('two');
    expect(await addressOf('two')).toBe('192.0.2.12');
    await refused('outside', '10.1.2.3 (annotation metallb.universe.tf/loadBalancerIPs) is not in any address pool');
    await refused('nopool', 'metallb.universe.tf/address-pool');
    expect(await warningsOf('nopool')).toContain('pool "nope" is not configured');
    // lan is full now (.10 one, .11 shared, .12 two, .13 pinned).
    await e.lbService('full');
    await refused('full', 'pool "lan" has no free IPv4 address');
    for (const [name, ip] of [['one', '192.0.2.10'], ['web', '192.0.2.11'], ['pinned', '192.0.2.13'], ['pooled', '203.0.113.1']] as const) {
      expect(await ips(name), name).toEqual([ip]);
    }
  });

  it('a fixed annotation gets its address on the next retry', async () => {
    await e.patchService('outside', { metadata: { annotations: { 'metallb.universe.tf/loadBalancerIPs': '203.0.113.6' } } });
    expect(await addressOf('outside', '203.0.113.6')).toBe('203.0.113.6');
    expect((await condition('outside'))?.status).toBe('True');
  });

  it('a restarted controller rebuilds the allocations from the statuses: everyone keeps theirs; of two claiming one address the older keeps it', async () => {
    // 'full' would race 'two' for the address 'two' is about to lose.
    await e.core.deleteNamespacedService({ namespace: e.ns, name: 'full' });
    await eventually('full to be gone', async () => (await e.getService('full')) === undefined);
    const before = new Map<string, string[]>();
    for (const name of ['one', 'web', 'dns', 'mail', 'pinned', 'pooled', 'legacy', 'two', 'outside']) before.set(name, await ips(name));
    await e.controller.stop({ drainTimeoutMs: 1000 });
    // While no controller runs, the newer Service 'two' comes to claim the older 'one's address
    // in its status, as a restore from a backup or a second controller might leave it.
    const two = (await e.getService('two')) as V1Service;
    await e.core.replaceNamespacedServiceStatus({
      namespace: e.ns,
      name: 'two',
      body: { ...two, status: { ...two.status, loadBalancer: { ingress: [{ ip: '192.0.2.10' }] } } },
    });

    // A new process: new providers (empty state), a new controller that restores them itself.
    const providers = await buildProviders(e.config);
    extra.push(providers);
    e.controller = e.newController({ providers });
    await e.controller.start();
    await warning('two', `${e.ns}/two claims 192.0.2.10 in its status, but is in use by Service ${e.ns}/one`);
    // 'two' gets another address: the one it had before is free again (no status names it).
    expect(await addressOf('two', '192.0.2.12')).toBe('192.0.2.12');
    for (const [name, had] of before) if (name !== 'two') expect(await ips(name), name).toEqual(had);
    const metal = providers.byName('metal');
    if (!isMetalProvider(metal)) throw new Error('provider metal is not the metal provider');
    expect(metal.restored?.conflicts.map((c) => c.owner.name)).toEqual([`${e.ns}/two`]);
    // one, web, dns, mail, pinned, pooled, legacy, outside: not two, not the refused ones.
    expect(metal.restored?.restored.map((a) => a.owner.name.split('/')[1]).sort()).toEqual(['dns', 'legacy', 'mail', 'one', 'outside', 'pinned', 'pooled', 'web']);
  });

  it('deleting a Service frees its address for the next', async () => {
    // lan is full again: nothing restored is handed out twice.
    await e.lbService('waiting');
    await refused('waiting', 'pool "lan" has no free IPv4 address');
    await e.core.deleteNamespacedService({ namespace: e.ns, name: 'two' });
    await eventually('two to be gone', async () => (await e.getService('two')) === undefined);
    expect(await addressOf('waiting', '192.0.2.12')).toBe('192.0.2.12');
  });
});
