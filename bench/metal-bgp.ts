// `npm run bench metal bgp`: BGP mode against a real router (bird2 in a router
// namespace, `lbc speaker` in three node namespaces; test/providers/metal/bgp/cluster.ts),
// root, bird and the packet addon only. Figures, read at the router (its kernel's routes,
// polled every 5 ms):
//  - a speaker's SIGKILL until the router no longer forwards to that node (n kills);
//  - a Service's create (its EndpointSlice already there, its status written right after,
//    as the controller does) until the router forwards its /32 to all three nodes.
import { packetAddonAvailable } from '../src/providers/metal/speaker/packet-socket.js';
import { birdUnavailable } from '../test/providers/metal/bgp/bird.js';
import { BgpCluster, within } from '../test/providers/metal/bgp/cluster.js';
import { netnsUnavailable } from '../test/providers/metal/wire/netns.js';
import { summarize } from './stats.js';

export async function benchBgp(kills = 10, creates = 10): Promise<void> {
  console.log(`\n== metal BGP: against bird in a router namespace (${kills} SIGKILLs of a speaker, ${creates} Service creates)`);
  const why = netnsUnavailable() ?? birdUnavailable() ?? (packetAddonAvailable() ? undefined : 'the packet addon is not built (npm run build:native)');
  if (why) {
    console.log(`  skipped: ${why}`);
    return;
  }
  const nodes = ['node-a', 'node-b', 'node-c'];
  const vip = '10.77.0.10';
  const fresh = Array.from({ length: creates }, (_, i) => `10.77.0.${100 + i}`);
  const c = new BgpCluster(nodes, [vip]);
  try {
    await c.start();
    await c.configure();
    await c.service('web', [vip], false);
    await c.slice('web-1', 'web', [{ node: 'node-a', ready: true }]);
    await Promise.all(nodes.map((n) => c.startSpeaker(n)));
    const victim = 'node-c';
    const hop = c.ip4(victim);
    const withdrawn: number[] = [];
    for (let i = 0; i < kills; i++) {
      await within(`${victim} back in the ECMP set`, () => c.nextHops(vip).includes(hop), 30_000, 50);
      const speaker = c.speakers.get(victim);
      if (!speaker) throw new Error(`no speaker on ${victim}`);
      const t0 = Date.now();
      speaker.kill('SIGKILL');
      await within(`${victim} withdrawn`, () => !c.nextHops(vip).includes(hop), 10_000, 5);
      withdrawn.push(Date.now() - t0);
      await speaker.exited;
      await c.startSpeaker(victim);
    }
    const w = summarize(withdrawn);
    console.log(`  SIGKILL of a speaker until the router stops forwarding to its node: p50 ${w.p50} ms, max ${w.max} ms (n=${w.n}, min ${Math.min(...withdrawn)} ms; hold time 3 s)`);

    await within('every node back', () => c.nextHops(vip).length === nodes.length, 30_000, 50);
    const all = nodes.map((n) => c.ip4(n)).sort().join();
    const learned: number[] = [];
    for (const [i, ip] of fresh.entries()) {
      await c.slice(`new-${i}`, `new-${i}`, [{ node: 'node-b', ready: true }]);
      const t0 = Date.now();
      await c.service(`new-${i}`, [ip], false);
      await within(`${ip} at the router`, () => c.nextHops(ip).join() === all, 10_000, 5);
      learned.push(Date.now() - t0);
    }
    const l = summarize(learned);
    console.log(`  Service create until the router forwards its /32 to all ${nodes.length} nodes: p50 ${l.p50} ms, max ${l.max} ms (n=${l.n}, min ${Math.min(...learned)} ms)`);
  } catch (e) {
    console.log(c.dump(20));
    throw e;
  } finally {
    const left = await c.stop();
    if (left.length > 0) console.log(`  cleanup problems: ${left.join('; ')}`);
  }
}
