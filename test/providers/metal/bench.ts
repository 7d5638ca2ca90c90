// The bare-metal figures for `npm run bench` (bench/main.ts calls benchMetal), or on
// their own: `node --import tsx test/providers/metal/bench.ts [writes] [failover]`.
//  - API writes per second that speaker heartbeats cost at 100 simulated nodes: lbc's
//    slow Lease (the gossip heartbeats cost no API write), measured against devcluster,
//    next to a Lease-only design fast enough for 2 s failover, measured the same way;
//    and the gossip's own cost per node.
//  - Failover on the wire (root only): 20 SIGKILLs of the elected speaker, time until
//    HTTP through the address reaches the next node (p50, max); and 20 clean stops.
import { reuseConnections } from '../../../src/cli/keep-alive.js';
import { startDevCluster } from '../../../src/devcluster/index.js';
import { makeClients } from '../../../src/kube/client.js';
import { SPEAKER_DEFAULTS } from '../../../src/providers/metal/options.js';
import { rankCandidates } from '../../../src/providers/metal/speaker/election.js';
import { encodeHeartbeat } from '../../../src/providers/metal/speaker/gossip.js';
import { LeaseKeeper } from '../../../src/providers/metal/speaker/lease.js';
import { packetAddonAvailable } from '../../../src/providers/metal/speaker/packet-socket.js';
import { until, WireCluster } from './wire/cluster.js';
import { netnsUnavailable } from './wire/netns.js';

const NODES = 100;

function summary(samples: number[]): string {
  const s = [...samples].sort((a, b) => a - b);
  const at = (p: number): number => s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] ?? NaN;
  return `n=${s.length} p50 ${at(50)} ms, max ${s[s.length - 1]} ms (min ${s[0]} ms)`;
}

/** Runs `NODES` Lease keepers renewing every periodMs for windowMs; measured writes per second and the longest gap between renewals. */
async function leaseLoad(durationMs: number, period: number, windowMs: number): Promise<{ writesPerSecond: number; worstGapMs: number; failures: number }> {
  const dev = await startDevCluster({ port: 0 });
  try {
    // Keep-alive connections, as `lbc speaker` uses.
    const { coordination, core } = makeClients(reuseConnections(dev.kubeConfig()));
    await core.createNamespace({ body: { metadata: { name: 'lbc-system' } } });
    const keepers = Array.from(
      { length: NODES },
      (_, i) => new LeaseKeeper({ coordination, namespace: 'lbc-system', provider: 'metal', node: `node-${i}`, incarnation: 'bench', durationMs }),
    );
    await Promise.all(keepers.map((k) => k.renew()));
    const last = keepers.map(() => Date.now());
    let worstGapMs = 0;
    let failures = 0;
    const before = keepers.reduce((n, k) => n + k.writes, 0);
    const started = Date.now();
    // Staggered, as speakers started at different times are.
    const timers = keepers.map((k, i) =>
      setTimeout(
        () => {
          const tick = async (): Promise<void> => {
            try {
              await k.renew();
              const now = Date.now();
              worstGapMs = Math.max(worstGapMs, now - (last[i] ?? now));
              last[i] = now;
            } catch {
              failures++;
            }
          };
          void tick();
          timers.push(setInterval(() => void tick(), period));
        },
        (i * period) / NODES,
      ),
    );
    await new Promise((r) => setTimeout(r, windowMs));
    for (const t of timers) clearInterval(t);
    const writes = keepers.reduce((n, k) => n + k.writes, 0) - before;
    return { writesPerSecond: (writes * 1000) / (Date.now() - started), worstGapMs, failures };
  } finally {
    await dev.stop();
  }
}

export async function benchHeartbeatWrites(): Promise<void> {
  console.log(`\n== metal: what speaker heartbeats cost at ${NODES} nodes`);
  const slow = SPEAKER_DEFAULTS.leaseDurationMs;
  const lbc = await leaseLoad(slow, slow / 4, slow / 4 + 1000);
  console.log(
    `lbc (gossip + ${slow / 1000} s Lease renewed every ${slow / 4000} s): ${lbc.writesPerSecond.toFixed(1)} API writes/s ` +
      `(× ${NODES} watching speakers = ${(lbc.writesPerSecond * NODES).toFixed(0)} watch events/s, computed), ${lbc.failures} failed renewals`,
  );
  // The budget worked out in membership.ts: noticed within 1.2 s, renewed every 0.4 s.
  const fast = 1200;
  const fastPeriod = 400;
  const alt = await leaseLoad(fast, fastPeriod, 5000);
  console.log(
    `Lease-only alternative for < 2 s failover (${fast} ms Lease renewed every ${fastPeriod} ms): ${alt.writesPerSecond.toFixed(1)} API writes/s ` +
      `(× ${NODES} = ${(alt.writesPerSecond * NODES).toFixed(0)} watch events/s, computed), worst gap between renewals ${alt.worstGapMs} ms ` +
      `(over ${fast} ms would declare a live speaker dead), ${alt.failures} failed renewals`,
  );
  const datagram = encodeHeartbeat({ node: 'node-000', incarnation: '0123456789ab', seq: 123456, ready: true, leaving: false }).length + 8 + 20 + 18;
  const perSecond = ((NODES - 1) * 1000) / SPEAKER_DEFAULTS.heartbeatIntervalMs;
  console.log(
    `gossip: ${perSecond} heartbeats/s sent and received per node (${datagram} bytes on the wire each, ${((perSecond * datagram) / 1024).toFixed(1)} KiB/s each way), ` +
      `${(perSecond * NODES).toFixed(0)} datagrams/s on the network, 0 API writes`,
  );
}

export async function benchFailover(kills = 20, cleanStops = 10): Promise<void> {
  console.log(`\n== metal: failover on virtual wires (${kills} kills, ${cleanStops} clean stops)`);
  const why = netnsUnavailable() ?? (packetAddonAvailable() ? undefined : 'the packet addon is not built (npm run build:native)');
  if (why) {
    console.log(`skipped: ${why}`);
    return;
  }
  const nodes = ['node-a', 'node-b', 'node-c'];
  const vip = '10.123.0.100';
  const [first = '', second = ''] = rankCandidates(vip, nodes);
  const c = new WireCluster({ nodes, vips: [vip] });
  try {
    await c.start();
    await c.service('web', [vip], false);
    await c.slice('web-1', 'web', [{ node: 'node-a', ready: true }]);
    await Promise.all(nodes.map((n) => c.startSpeaker(n)));
    const results: Record<'SIGKILL' | 'SIGTERM', number[]> = { SIGKILL: [], SIGTERM: [] };
    for (const signal of ['SIGKILL', 'SIGTERM'] as const) {
      for (let i = 0; i < (signal === 'SIGKILL' ? kills : cleanStops); i++) {
        await until(`${first} to announce`, async () => ((await c.arp(vip, 150)).join() === first ? true : undefined), 15_000);
        const victim = c.speakers.get(first);
        if (!victim) throw new Error(`no speaker on ${first}`);
        results[signal].push(await c.handover(vip, () => victim.kill(signal), second));
        await victim.exited;
        await c.startSpeaker(first);
      }
      console.log(`${signal === 'SIGKILL' ? 'SIGKILL (crash)  ' : 'SIGTERM (clean)  '}: ${summary(results[signal])} from the signal until HTTP through the address reached the next node`);
    }
  } catch (e) {
    console.log(c.dump(20));
    throw e;
  } finally {
    const left = await c.stop();
    if (left.length > 0) console.log(`cleanup problems: ${left.join('; ')}`);
  }
}

export async function benchMetal(which: readonly string[] = []): Promise<void> {
  const all = which.length === 0;
  if (all || which.includes('writes')) await benchHeartbeatWrites();
  if (all || which.includes('failover')) await benchFailover();
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await benchMetal(process.argv.slice(2));
}
