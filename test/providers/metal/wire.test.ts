// The speaker on real (virtual) wires: a bridge, a client and three node namespaces,
// each node running `lbc speaker` against an in-process API server, with a stand-in for
// kube-proxy delivering the service addresses to a local HTTP server. The client asks
// ARP (and NDP) who has the address, and makes HTTP requests through it.
//
// Runs as root only (namespaces, packet sockets); elsewhere the suite is skipped and
// its title says why.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { rankCandidates } from '../../../src/providers/metal/speaker/election.js';
import { packetAddonAvailable } from '../../../src/providers/metal/speaker/packet-socket.js';
import type { Child } from './wire/children.js';
import { until, WireCluster } from './wire/cluster.js';
import { netnsUnavailable } from './wire/netns.js';

const unavailable = netnsUnavailable() ?? (packetAddonAvailable() ? undefined : 'the packet addon is not built (npm run build:native)');
const NODES = ['node-a', 'node-b', 'node-c'];
const VIP = '10.123.0.100';
const VIP6 = 'fd00:123::100';
const VIP_LOCAL = '10.123.0.101';

describe.skipIf(unavailable !== undefined)(`metal speaker on virtual wires${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  const c = new WireCluster({ nodes: NODES, vips: [VIP, VIP6, VIP_LOCAL] });
  let failed = false;

  beforeAll(async () => {
    await c.start();
    await c.service('web', [VIP, VIP6], false);
    await c.slice('web-1', 'web', [{ node: 'node-a', ready: true }]);
    await Promise.all(NODES.map((n) => c.startSpeaker(n)));
  }, 90_000);

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
    await until('an ARP answer', async () => ((await c.arp(VIP)).length > 0 ? true : undefined), 10_000);
    // Several asks, each collecting every answer for a while: never two answers.
    for (let i = 0; i < 3; i++) expect(await c.arp(VIP, 400)).toEqual([first]);
    // Nobody answers for an address of the pool that no Service holds.
    expect(await c.arp('10.123.0.119')).toEqual([]);
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
