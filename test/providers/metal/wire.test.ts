// The speaker on real (virtual) wires: a bridge, a client and three node namespaces,
// each node running `lbc speaker` against an in-process API server, with a stand-in for
// kube-proxy delivering the service addresses to a local HTTP server. The client asks
// ARP (and NDP) who has the address, and makes HTTP requests through it.
//
// Runs as root only (namespaces, packet sockets); elsewhere the suite is skipped and
// its title says why.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../../../src/config/config.js';
import { Controller } from '../../../src/controller/controller.js';
import { makeClients } from '../../../src/kube/client.js';
import { rankCandidates } from '../../../src/providers/metal/speaker/election.js';
import { buildProviders } from '../../../src/providers/registry.js';
import { packetAddonAvailable } from '../../../src/providers/metal/speaker/packet-socket.js';
import type { Child } from './wire/children.js';
import { until, WireCluster } from './wire/cluster.js';
import { netnsUnavailable } from './wire/netns.js';
import { installMetalLbCrds, metallbCrdsPresent, MetalLbObjects } from '../../support/metallb-crds.js';

const unavailable = netnsUnavailable() ?? (packetAddonAvailable() ? undefined : 'the packet addon is not built (npm run build:native)');
const NODES = ['node-a', 'node-b', 'node-c'];
const VIP = '10.123.0.100';
const VIP6 = 'fd00:123::100';
const VIP_LOCAL = '10.123.0.101';
// The controller's pool in the full-chain test: one address, inside the speakers' pool.
const VIP_CHAIN = '10.123.0.110';
// Served from MetalLB's IPAddressPool, outside the config file's pool (#20).
const VIP_CR = '10.123.0.150';
// The node the hash would elect last for VIP_CR: the L2Advertisement's nodeSelectors, not the hash, must decide.
const CR_NODE = rankCandidates(VIP_CR, NODES).at(-1) ?? '';

describe.skipIf(unavailable !== undefined)(`metal speaker on virtual wires${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  const c = new WireCluster({ nodes: NODES, vips: [VIP, VIP6, VIP_LOCAL, VIP_CHAIN] });
  let failed = false;

  let mlb: MetalLbObjects | undefined;

  beforeAll(async () => {
    await c.start();
    if (metallbCrdsPresent) {
      // Before the speakers start: each finds MetalLB's CRDs served at its start.
      await installMetalLbCrds(c.kubeConfig());
      await c.core.createNamespace({ body: { metadata: { name: 'metallb-system' } } });
      mlb = new MetalLbObjects(c.kubeConfig(), 'metallb-system');
      await mlb.pool('cr', { addresses: [`${VIP_CR}/32`] });
      await mlb.advertisement('pinned', { ipAddressPools: ['cr'], nodeSelectors: [{ matchLabels: { 'kubernetes.io/hostname': CR_NODE } }], interfaces: ['eth0'] });
      await c.service('from-cr', [VIP_CR], false);
      await c.slice('from-cr-1', 'from-cr', NODES.map((node) => ({ node, ready: true })));
    }
    await c.service('web', [VIP, VIP6], false);
    await c.slice('web-1', 'web', [{ node: 'node-a', ready: true }]);
    await Promise.all(NODES.map((n) => c.startSpeaker(n)));
  }, 200_000);

  afterEach((ctx) => {
    if (ctx.task.result?.state === 'fail') failed = true;
  });

  afterAll(async () => {
    if (failed || process.env.LBC_WIRE_DEBUG) console.log(c.dump());
    // Removed even when a test failed: nothing of this suite may outlive it.
    expect(await c.stop()).toEqual([]);
  }, 30_000);

  const [first = '', second = '', third = ''] = rankCandidates(VIP, NODES);

  it('the client gets exactly one ARP answer for the address, from the elected node', async () => {
    // The speakers have just met: the first of them to take part may still be answering alone.
    await until(`${first} to answer`, async () => ((await c.arp(VIP)).join() === first ? true : undefined), 10_000);
    // Several asks, each collecting every answer for a while: never two answers.
    for (let i = 0; i < 3; i++) expect(await c.arp(VIP, 400)).toEqual([first]);
    // Nobody answers for an address of the pool that no Service holds.
    expect(await c.arp('10.123.0.119')).toEqual([]);
  });

  it.skipIf(!metallbCrdsPresent)("an IPAddressPool's address is answered only by the node its L2Advertisement selects, on the interface it names", async () => {
    await until(`${CR_NODE} to answer for ${VIP_CR}`, async () => ((await c.arp(VIP_CR)).join() === CR_NODE ? true : undefined), 10_000);
    for (let i = 0; i < 3; i++) expect(await c.arp(VIP_CR, 400)).toEqual([CR_NODE]);
    // Edited while running to an interface no node has: nobody answers.
    await mlb?.advertisement('pinned', { ipAddressPools: ['cr'], nodeSelectors: [{ matchLabels: { 'kubernetes.io/hostname': CR_NODE } }], interfaces: ['eth9'] });
    await until('no answer', async () => ((await c.arp(VIP_CR, 150)).length === 0 ? true : undefined), 5_000);
    expect(await c.arp(VIP_CR, 500)).toEqual([]);
  });

  it('IPv6: exactly one Neighbor Advertisement, from the elected node', async () => {
    await until('an NDP answer', async () => ((await c.ndp(VIP6)).length > 0 ? true : undefined), 10_000);
    expect(await c.ndp(VIP6, 400)).toEqual([rankCandidates(VIP6, NODES)[0]]);
  });

  it('HTTP through the address reaches the elected node', async () => {
    expect(await c.client.call({ op: 'http', url: `http://${VIP}/` })).toMatchObject({ body: first });
    expect(c.wire.neighbour('client', VIP), `the client's neighbour entry: ${c.wire.neighbourLine('client', VIP)}`).toBe(c.macOf(first));
    expect(await c.client.call({ op: 'http', url: `http://[${VIP6}]/` })).toMatchObject({ body: rankCandidates(VIP6, NODES)[0] });
  });

  it('endpoints becoming not ready withdraw the announcement; ready again brings it back', async () => {
    await c.slice('web-1', 'web', [{ node: 'node-a', ready: false }]);
    await until('no ARP answer', async () => ((await c.arp(VIP, 150)).length === 0 ? true : undefined), 5_000);
    expect(await c.arp(VIP, 500)).toEqual([]);
    expect(await c.ndp(VIP6, 300)).toEqual([]);
    await c.slice('web-1', 'web', [{ node: 'node-a', ready: true }]);
    await until('the ARP answer back', async () => ((await c.arp(VIP, 150)).length > 0 ? true : undefined), 5_000);
    expect(await c.arp(VIP, 400)).toEqual([first]);
  });

  it('externalTrafficPolicy Local: only a node with a ready local endpoint answers, and the answer follows the endpoints', async () => {
    const order = rankCandidates(VIP_LOCAL, NODES);
    // Put the endpoint where the plain election would not: the policy, not the hash, decides.
    const host = order[order.length - 1] ?? '';
    await c.service('local', [VIP_LOCAL], true);
    await c.slice('local-1', 'local', [{ node: host, ready: true }]);
    await until(`${host} to answer`, async () => ((await c.arp(VIP_LOCAL, 150)).join() === host ? true : undefined), 5_000);
    expect(await c.arp(VIP_LOCAL, 400)).toEqual([host]);
    const next = order[0] ?? '';
    await c.slice('local-1', 'local', [
      { node: next, ready: true },
      { node: host, ready: false },
    ]);
    await until(`${next} to answer`, async () => ((await c.arp(VIP_LOCAL, 150)).join() === next ? true : undefined), 5_000);
    expect(await c.arp(VIP_LOCAL, 400)).toEqual([next]);
  });

  it('the whole chain: the controller gives a new Service an address, the elected speaker answers for it, HTTP reaches that node', async () => {
    // lbc run's controller, in this process, with its metal provider on a one-address pool
    // and scoped to a namespace of its own, so it cannot touch the hand-made Services above.
    const config = validateConfig({
      clusterName: 'wire',
      providers: [{ name: 'metal', type: 'metal', options: { pools: [{ name: 'wire', addresses: [`${VIP_CHAIN}/32`] }] } }],
    });
    const providers = await buildProviders(config);
    const controller = new Controller({
      clients: makeClients(c.kubeConfig()),
      config,
      providers,
      namespace: 'chain',
      log: { info: () => {}, warn: () => {} },
      gcIntervalMs: 0,
    });
    const winner = rankCandidates(VIP_CHAIN, NODES)[0] ?? '';
    try {
      await c.core.createNamespace({ body: { metadata: { name: 'chain' } } });
      await c.core.createNamespacedService({
        namespace: 'chain',
        body: { metadata: { name: 'web' }, spec: { type: 'LoadBalancer', loadBalancerClass: 'lbc.dev/metal', ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }] } },
      });
      await c.discovery.createNamespacedEndpointSlice({
        namespace: 'chain',
        body: {
          metadata: { name: 'web-1', labels: { 'kubernetes.io/service-name': 'web' } },
          addressType: 'IPv4',
          endpoints: [{ addresses: ['10.200.1.1'], nodeName: 'node-b', conditions: { ready: true } }],
          ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
        },
      });
      await controller.start();
      const status = await until(
        'the controller to give the Service an address',
        async () => (await c.core.readNamespacedService({ namespace: 'chain', name: 'web' })).status?.loadBalancer?.ingress?.[0]?.ip,
        10_000,
      );
      expect(status).toBe(VIP_CHAIN);
      await until(`${winner} to answer for ${VIP_CHAIN}`, async () => ((await c.arp(VIP_CHAIN, 150)).join() === winner ? true : undefined), 5_000);
      expect(await c.arp(VIP_CHAIN, 400)).toEqual([winner]);
      expect(await c.client.call({ op: 'http', url: `http://${VIP_CHAIN}/` })).toMatchObject({ body: winner });
      // Deleting the Service releases the address: the controller clears it, the speaker stops answering.
      await c.core.deleteNamespacedService({ namespace: 'chain', name: 'web' });
      await until('no ARP answer once the Service is gone', async () => ((await c.arp(VIP_CHAIN, 150)).length === 0 ? true : undefined), 5_000);
    } finally {
      await controller.stop({ drainTimeoutMs: 1000 });
      await providers.close();
    }
  });

  let killMs = 0;

  it('SIGKILL of the elected speaker moves the address to the next node in under 2 s', async () => {
    const victim = c.speakers.get(first) as Child;
    killMs = await c.handover(VIP, () => victim.kill('SIGKILL'), second);
    console.log(`metal failover after SIGKILL of ${first}'s speaker: ${killMs} ms until HTTP through ${VIP} reached ${second}`);
    expect(killMs).toBeLessThan(2000);
    expect(await c.arp(VIP, 400), 'who answers ARP after the failover').toEqual([second]);
    expect(c.wire.neighbour('client', VIP), `the client's neighbour entry: ${c.wire.neighbourLine('client', VIP)}`).toBe(c.macOf(second));
  });

  it('a clean shutdown (SIGTERM) hands over faster still', async () => {
    const leaving = c.speakers.get(second) as Child;
    const ms = await c.handover(VIP, () => leaving.kill('SIGTERM'), third);
    console.log(`metal handover after SIGTERM of ${second}'s speaker: ${ms} ms until HTTP through ${VIP} reached ${third}`);
    expect(await leaving.exited).toBe(0);
    expect(ms).toBeLessThan(killMs);
    expect(await c.arp(VIP, 400)).toEqual([third]);
  });
});
