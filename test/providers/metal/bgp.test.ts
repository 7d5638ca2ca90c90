// BGP mode against a real router: Debian's bird2 in a router namespace, `lbc speaker` in
// three node namespaces peering with it (configured by MetalLB's BGPPeer,
// BGPAdvertisement and Community resources on devcluster), a client namespace behind
// the router. Everything asserted is what the router learned and forwards: its BGP
// table (birdc), its kernel's next hops (ECMP), and TCP traffic from the client.
//
// Runs as root with bird installed (.ci/run installs bird2); elsewhere the suite is
// skipped and its title says why.
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { packetAddonAvailable } from '../../../src/providers/metal/speaker/packet-socket.js';
import { birdUnavailable } from './bgp/bird.js';
import { BgpCluster, NAMESPACE, within } from './bgp/cluster.js';
import { netnsUnavailable } from './wire/netns.js';

const unavailable = netnsUnavailable() ?? birdUnavailable() ?? (packetAddonAvailable() ? undefined : 'the packet addon is not built (npm run build:native)');
const NODES = ['node-a', 'node-b', 'node-c'];
const VIP = '10.77.0.10';
const VIP6 = 'fd00:77::10';
const VIP_LOCAL = '10.77.0.11';
const HOLD_MS = 3000;

describe.skipIf(unavailable !== undefined)(`metal BGP mode against bird${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  // node-c's IPv4 session runs BFD (BGPPeer router-bfd, BFDProfile fast: 100 ms x3).
  const c = new BgpCluster(NODES, [VIP, VIP6, VIP_LOCAL], ['node-c']);
  let failed = false;
  const all = () => NODES.map((n) => c.ip4(n)).sort();

  beforeAll(async () => {
    await c.start();
    await c.configure();
    await c.service('web', [VIP, VIP6], false);
    await c.slice('web-1', 'web', [{ node: 'node-a', ready: true }]);
    await Promise.all(NODES.map((n) => c.startSpeaker(n)));
  }, 200_000);

  afterEach((ctx) => {
    if (ctx.task.result?.state === 'fail') failed = true;
  });

  afterAll(async () => {
    if (failed || process.env.LBC_WIRE_DEBUG) console.log(c.dump());
    expect(await c.stop()).toEqual([]);
  }, 30_000);

  it('externalTrafficPolicy Cluster: the router learns the /32 and /128 (over TCP MD5-signed sessions) from every node and forwards by ECMP', async () => {
    await within('ECMP over all three nodes', () => c.nextHops(VIP).join() === all().join(), 15_000);
    expect(c.nextHops(VIP)).toEqual(all());
    expect(c.nextHops(VIP6)).toEqual(NODES.map((n) => c.fabric.node(n).ip6).sort());
    const route = c.bird.route(`${VIP}/32`);
    for (const n of NODES) expect(route).toContain(`via ${c.ip4(n)}`);
    // The advertisement's communities: a literal, one named by the Community resource, a large one.
    expect(route).toContain('BGP.community: (64500,666) (65535,65281)');
    expect(route).toContain('BGP.large_community: (64513, 1, 2)');
    expect(route).toContain('BGP.as_path: 64513');
    // Only Service addresses: nothing else of the pool.
    expect(c.bird.prefixes()).toEqual([`${VIP}/32`, `${VIP6}/128`]);
  });

  it('real TCP from the client through the router reaches the nodes, spread over them', async () => {
    const seen = new Map<string, number>();
    for (let i = 0; i < 30; i++) {
      const body = c.fabric.curl(`http://${VIP}/`);
      expect(body, `request ${i}`).toBeDefined();
      seen.set(body ?? '', (seen.get(body ?? '') ?? 0) + 1);
    }
    expect([...seen.keys()].every((n) => NODES.includes(n))).toBe(true);
    // fib_multipath_hash_policy=1 hashes source ports: 30 connections all on one of three paths is (1/3)^29.
    expect(seen.size).toBeGreaterThan(1);
    expect(NODES).toContain(c.fabric.curl(`http://[${VIP6}]/`));
  });

  it('writes a ServiceBGPStatus per node as MetalLB does', async () => {
    const list = async () => ((await c.custom.listNamespacedCustomObject({ group: 'metallb.io', version: 'v1beta1', namespace: NAMESPACE, plural: 'servicebgpstatuses' })) as { items: { metadata: { name: string; labels: Record<string, string> }; status?: Record<string, unknown> }[] }).items;
    await within('three ServiceBGPStatus objects with status', async () => (await list()).filter((o) => o.status?.peers).length === 3, 10_000, 100);
    const items = await list();
    expect(items.map((o) => o.metadata.labels['metallb.io/node']).sort()).toEqual(NODES);
    for (const o of items) {
      expect(o.metadata.name).toMatch(/^bgp-/);
      expect(o.metadata.labels).toMatchObject({ 'metallb.io/service-name': 'web', 'metallb.io/service-namespace': 'default' });
      const node = o.metadata.labels['metallb.io/node'];
      expect(o.status).toEqual({ node, serviceName: 'web', serviceNamespace: 'default', peers: node === 'node-c' ? ['router-bfd', 'router6'] : ['router', 'router6'] });
    }
    // And each advertising node says so on the Service, as MetalLB's speaker does for either protocol.
    const assigned = async () =>
      (await c.core.listNamespacedEvent({ namespace: 'default', fieldSelector: 'involvedObject.name=web' })).items.filter((e) => e.reason === 'nodeAssigned').map((e) => e.message ?? '');
    await within('a nodeAssigned Event from each node', async () => (await assigned()).length >= 3, 10_000, 100);
    expect((await assigned()).sort()).toEqual(NODES.map((n) => `announcing from node "${n}" with protocol "bgp"`));
  });

  it('changes to the resources apply while running: new communities reach the router, a deleted BGPPeer closes its sessions', async () => {
    const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
    await c.custom.patchNamespacedCustomObject({ group: 'metallb.io', version: 'v1beta1', namespace: NAMESPACE, plural: 'bgpadvertisements', name: 'all', body: { spec: { communities: ['65535:65282'] } } }, merge);
    await within('the new community at the router', () => c.bird.route(`${VIP}/32`).includes('BGP.community: (65535,65282)'), 10_000, 50);
    expect(c.bird.route(`${VIP}/32`)).not.toContain('large_community');
    await c.custom.deleteNamespacedCustomObject({ group: 'metallb.io', version: 'v1beta2', namespace: NAMESPACE, plural: 'bgppeers', name: 'router6' });
    await within('the /128 withdrawn', () => c.nextHops(VIP6).length === 0, 10_000, 50);
    expect(c.bird.prefixes()).toEqual([`${VIP}/32`]);
    expect(c.nextHops(VIP)).toEqual(all());
    // The ServiceBGPStatus objects follow: router6 is gone from their peers.
    const peersOf = async () =>
      ((await c.custom.listNamespacedCustomObject({ group: 'metallb.io', version: 'v1beta1', namespace: NAMESPACE, plural: 'servicebgpstatuses' })) as { items: { status?: { peers?: string[] } }[] }).items.map((o) => (o.status?.peers ?? []).join());
    await within('statuses without router6', async () => (await peersOf()).every((p) => !p.includes('router6')), 10_000, 100);
    expect((await peersOf()).sort()).toEqual(['router', 'router', 'router-bfd']);
  });

  it('externalTrafficPolicy Local: only the node with the ready endpoint is a next hop, and it follows the endpoint', async () => {
    await c.service('local', [VIP_LOCAL], true);
    await c.slice('local-1', 'local', [{ node: 'node-b', ready: true }]);
    await within('node-b alone', () => c.nextHops(VIP_LOCAL).join() === c.ip4('node-b'), 10_000);
    expect(c.fabric.curl(`http://${VIP_LOCAL}/`)).toBe('node-b');
    await c.slice('local-1', 'local', [
      { node: 'node-b', ready: false },
      { node: 'node-c', ready: true },
    ]);
    await within('node-c alone', () => c.nextHops(VIP_LOCAL).join() === c.ip4('node-c'), 10_000);
    expect(c.fabric.curl(`http://${VIP_LOCAL}/`)).toBe('node-c');
    // No ready endpoint anywhere: withdrawn from every node.
    await c.slice('local-1', 'local', [{ node: 'node-c', ready: false }]);
    await within('no route', () => c.nextHops(VIP_LOCAL).length === 0, 10_000);
    expect(c.bird.route(`${VIP_LOCAL}/32`)).not.toContain('via');
  });

  it('BFD: a node losing its link is withdrawn within the BFD detection time, far inside the hold time', async () => {
    await within('BFD up for node-c', () => /up/i.test(c.bird.birdc('show', 'bfd', 'sessions').split('\n').find((l) => l.includes(c.ip4('node-c'))) ?? ''), 15_000, 100);
    c.fabric.link('node-c', false);
    const ms = await within('node-c withdrawn', () => !c.nextHops(VIP).includes(c.ip4('node-c')), HOLD_MS, 5);
    console.log(`BGP withdrawal after node-c lost its link, with BFD 100 ms x3: ${ms} ms`);
    expect(ms).toBeLessThan(1000);
    c.fabric.link('node-c', true);
    await within('node-c back', () => c.nextHops(VIP).includes(c.ip4('node-c')), 20_000, 100);
    // Both ends run BFD again, and its next hop is back next to the others.
    await within('BFD up again', () => /up/i.test(c.bird.birdc('show', 'bfd', 'sessions').split('\n').find((l) => l.includes(c.ip4('node-c'))) ?? ''), 15_000, 100);
    expect(c.nextHops(VIP)).toEqual(all());
  });

  it('a SIGKILLed speaker: the router drops that next hop well within the hold time', async () => {
    const ms = await (async () => {
      c.speakers.get('node-c')?.kill('SIGKILL');
      return within('node-c withdrawn', () => !c.nextHops(VIP).includes(c.ip4('node-c')), HOLD_MS + 1000, 10);
    })();
    console.log(`BGP withdrawal after SIGKILL of node-c's speaker: ${ms} ms`);
    expect(ms).toBeLessThan(HOLD_MS);
    expect(c.nextHops(VIP)).toEqual([c.ip4('node-a'), c.ip4('node-b')]);
  });

  it("a node losing its link: the router withdraws its routes within the hold time", async () => {
    c.fabric.link('node-b', false);
    const ms = await within('node-b withdrawn', () => !c.nextHops(VIP).includes(c.ip4('node-b')), HOLD_MS + 1500, 10);
    console.log(`BGP withdrawal after node-b lost its link: ${ms} ms (hold time ${HOLD_MS} ms)`);
    expect(ms).toBeLessThanOrEqual(HOLD_MS + 1000);
    expect(c.nextHops(VIP)).toEqual([c.ip4('node-a')]);
    expect(c.fabric.curl(`http://${VIP}/`)).toBe('node-a');
    c.fabric.link('node-b', true);
    await within('node-b back', () => c.nextHops(VIP).includes(c.ip4('node-b')), 20_000, 100);
  });

  it('SIGTERM: the speaker closes its sessions with a Cease, the routes go at once, its ServiceBGPStatus objects too', async () => {
    const leaving = c.speakers.get('node-a');
    leaving?.kill('SIGTERM');
    const ms = await within('node-a withdrawn', () => !c.nextHops(VIP).includes(c.ip4('node-a')), HOLD_MS, 10);
    console.log(`BGP withdrawal after SIGTERM of node-a's speaker: ${ms} ms`);
    expect(await leaving?.exited).toBe(0);
    expect(c.nextHops(VIP)).toEqual([c.ip4('node-b')]);
    // A clean stop deletes the node's ServiceBGPStatus objects: it announces nothing any more.
    const left = (await c.custom.listNamespacedCustomObject({ group: 'metallb.io', version: 'v1beta1', namespace: NAMESPACE, plural: 'servicebgpstatuses', labelSelector: 'metallb.io/node=node-a' })) as { items: unknown[] };
    expect(left.items).toEqual([]);
  });
});
