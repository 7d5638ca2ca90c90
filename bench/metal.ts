// `npm run bench metal [writes] [failover]`: the bare-metal figures.
//  - What speaker liveness costs the API server at 100 nodes: 100 real Speakers (the
//    speaker code as `lbc speaker` runs it: informers, membership, the slow Lease) against
//    devcluster, every API write they make counted on their clients and, independently,
//    every Lease change seen by a watch of our own at the server; Lease watch events
//    delivered to the speakers counted as they arrive. Their Nodes carry no address, so
//    no heartbeat datagram is sent: 100 speakers' gossip in one process is 49,500
//    datagrams/s, which a shared two-core machine cannot carry next to the API server
//    (tried: heartbeats arrive late, renewals time out), and gossip makes no API call by
//    construction (gossip.ts has a UDP socket and nothing else). Membership then rests on
//    the Leases, which is the path whose cost is measured. Next to it, measured the same
//    way with the same Lease code, a Lease-only design fast enough for 2 s failover,
//    which lbc does not use.
//  - Failover on real (virtual) wires, root and the packet addon only: 20 SIGKILLs of the
//    elected speaker, time from the kill until HTTP through the address reaches the next
//    node (p50, max); and 10 clean stops (SIGTERM) the same way.
//  - BGP mode against a real router (bgp, metal-bgp.ts): SIGKILL to withdrawal, and
//    Service create to route, at the router.
import { Watch, type KubeConfig } from '@kubernetes/client-node';
import { validateConfig } from '../src/config/config.js';
import { startDevCluster, type DevCluster } from '../src/devcluster/index.js';
import { makeClients, reuseConnections, type KubeClients } from '../src/kube/client.js';
import { parseMetalOptions, SPEAKER_DEFAULTS } from '../src/providers/metal/options.js';
import { rankCandidates } from '../src/providers/metal/speaker/election.js';
import { LeaseKeeper } from '../src/providers/metal/speaker/lease.js';
import { packetAddonAvailable } from '../src/providers/metal/speaker/packet-socket.js';
import { Speaker } from '../src/providers/metal/speaker/speaker.js';
import { until, WireCluster } from '../test/providers/metal/wire/cluster.js';
import { netnsUnavailable } from '../test/providers/metal/wire/netns.js';
import { countingApi } from './api-writes.js';
import { benchBgp } from './metal-bgp.js';
import { summarize } from './stats.js';

const NODES = 100;
const LEASE_NS = 'lbc-system';
/** Clients whose every write call (create/replace/patch/delete*) is counted, by method. */
function countingClients(clients: KubeClients, writes: Map<string, number>): KubeClients {
  const wrap = <T extends object>(api: T): T => countingApi(api, writes);
  return { ...clients, core: wrap(clients.core), discovery: wrap(clients.discovery), coordination: wrap(clients.coordination), networking: wrap(clients.networking) };
}

/** Counts every change to the speakers' Leases at the server, from a watch of our own. */
async function leaseWatch(kc: KubeConfig): Promise<{ count(): number; stop(): void }> {
  let n = 0;
  const req = await new Watch(kc).watch(
    `/apis/coordination.k8s.io/v1/namespaces/${LEASE_NS}/leases`,
    {},
    (type) => {
      if (type === 'ADDED' || type === 'MODIFIED' || type === 'DELETED') n++;
    },
    () => {},
  );
  return { count: () => n, stop: () => req.abort() };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const total = (m: Map<string, number>): number => [...m.values()].reduce((a, b) => a + b, 0);
const byMethod = (m: Map<string, number>): string => [...m].map(([k, v]) => `${k} ${v}`).join(', ') || 'none';

async function speakerLoad(dev: DevCluster): Promise<void> {
  const kc = reuseConnections(dev.kubeConfig());
  const admin = makeClients(kc);
  await admin.core.createNamespace({ body: { metadata: { name: LEASE_NS } } });
  // Each speaker's heartbeat socket on a loopback address of its own; the Nodes name none
  // (see the top of this file), so nobody sends to them.
  const addr = (i: number): string => `127.0.0.${i + 2}`;
  const nodes = Array.from({ length: NODES }, (_, i) => `node-${String(i).padStart(3, '0')}`);
  for (const name of nodes) {
    await admin.core.createNode({ body: { metadata: { name }, status: { conditions: [{ type: 'Ready', status: 'True' }] } } });
  }
  const gossipPort = 20_000 + Math.floor(Math.random() * 20_000);
  const options = { pools: [{ name: 'bench', addresses: ['192.0.2.0/28'] }], speaker: { gossipPort } };
  const config = validateConfig({ clusterName: 'bench', providers: [{ name: 'metal', type: 'metal', options }] });
  const metal = parseMetalOptions(options);
  const writes = new Map<string, number>();
  const warnings = new Map<string, number>();
  let leaseEventsDelivered = 0;
  const speakers = nodes.map((node, i) => {
    const s = new Speaker({
      node,
      provider: 'metal',
      metal,
      ownership: config,
      clients: countingClients(makeClients(kc), writes),
      log: { info: () => {}, warn: (m) => warnings.set(m.replace(/node-\d+/g, 'node-N'), (warnings.get(m.replace(/node-\d+/g, 'node-N')) ?? 0) + 1) },
      // No announcing here (no interface, no packet socket): this measures liveness only.
      hostInterfaces: () => [],
      socketFactory: () => {
        throw new Error('the liveness benchmark announces nothing');
      },
      gossipBind: { v4: addr(i), v6: '::1' },
    });
    const count = (): void => void leaseEventsDelivered++;
    s.leases.onAdd(count).onUpdate(count).onDelete(count);
    return s;
  });
  const watch = await leaseWatch(kc);
  try {
    const t0 = performance.now();
    await Promise.all(speakers.map((s) => s.start()));
    console.log(`  ${NODES} speakers took part in ${((performance.now() - t0) / 1000).toFixed(1)} s; their start cost ${total(writes)} API writes (${byMethod(writes)})`);

    // Whole renewal periods (every leaseDuration/4), so that every speaker renews the same number of times.
    const period = SPEAKER_DEFAULTS.leaseDurationMs / 4;
    const windowMs = 2 * period;
    writes.clear();
    const serverBefore = watch.count();
    const deliveredBefore = leaseEventsDelivered;
    const cpu0 = process.cpuUsage();
    const w0 = performance.now();
    let minLive = NODES;
    let maxLive = 0;
    while (performance.now() - w0 < windowMs) {
      await sleep(1000);
      const now = Date.now();
      for (const s of speakers) {
        const live = s.membership.live(now).size;
        minLive = Math.min(minLive, live);
        maxLive = Math.max(maxLive, live);
      }
    }
    const seconds = (performance.now() - w0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const serverWrites = watch.count() - serverBefore;
    const delivered = leaseEventsDelivered - deliveredBefore;
    console.log(
      `  lbc (Lease of ${SPEAKER_DEFAULTS.leaseDurationMs / 1000} s renewed every ${period / 1000} s; UDP heartbeats every ${SPEAKER_DEFAULTS.heartbeatIntervalMs} ms, ` +
        `0 API calls by construction, not sent here), ${seconds.toFixed(1)} s of steady state at ${NODES} nodes:`,
    );
    console.log(`    API writes by the speakers: ${total(writes)} = ${(total(writes) / seconds).toFixed(2)}/s (${byMethod(writes)})`);
    console.log(`    Lease changes seen at the server by a watch: ${serverWrites} = ${(serverWrites / seconds).toFixed(2)}/s`);
    console.log(`    Lease watch events delivered to the ${NODES} speakers: ${delivered} = ${(delivered / seconds).toFixed(1)}/s`);
    console.log(`    every speaker's view of the live speakers (by their Leases), sampled each second: ${minLive}..${maxLive} of ${NODES}`);
    console.log(`    CPU of all ${NODES} speakers and the API server in this one process: ${((cpu.user + cpu.system) / 1e6 / seconds).toFixed(2)} CPU-s per s`);
    if (warnings.size > 0) console.log(`    speaker warnings: ${[...warnings].map(([m, n]) => `${n}× ${m}`).join('; ')}`);
  } finally {
    watch.stop();
    await Promise.all(speakers.map((s) => s.stop({ clean: true })));
  }
}

/** 100 Lease keepers renewing every periodMs: the Lease-only alternative, measured the same way. */
async function leaseOnlyLoad(dev: DevCluster, durationMs: number, periodMs: number, windowMs: number): Promise<void> {
  const kc = reuseConnections(dev.kubeConfig());
  const writes = new Map<string, number>();
  const { coordination } = countingClients(makeClients(kc), writes);
  const keepers = Array.from({ length: NODES }, (_, i) => new LeaseKeeper({ coordination, namespace: LEASE_NS, provider: 'alt', node: `node-${i}`, incarnation: 'bench', durationMs }));
  await Promise.all(keepers.map((k) => k.renew()));
  const watch = await leaseWatch(kc);
  const last = keepers.map(() => performance.now());
  const gaps: number[] = [];
  let failures = 0;
  writes.clear();
  const timers: NodeJS.Timeout[] = [];
  const w0 = performance.now();
  const serverBefore = watch.count();
  // Staggered, as speakers started at different times are.
  keepers.forEach((k, i) =>
    timers.push(
      setTimeout(() => {
        const tick = (): void =>
          void k.renew().then(
            () => {
              const now = performance.now();
              gaps.push(now - (last[i] ?? now));
              last[i] = now;
            },
            () => void failures++,
          );
        tick();
        timers.push(setInterval(tick, periodMs));
      }, (i * periodMs) / NODES),
    ),
  );
  await sleep(windowMs);
  for (const t of timers) clearInterval(t);
  const seconds = (performance.now() - w0) / 1000;
  const serverWrites = watch.count() - serverBefore;
  watch.stop();
  const g = summarize(gaps);
  console.log(`  Lease-only alternative, not used (${durationMs} ms Lease renewed every ${periodMs} ms, the budget for < 2 s failover), ${seconds.toFixed(1)} s:`);
  console.log(
    `    API writes: ${total(writes)} = ${(total(writes) / seconds).toFixed(1)}/s; Lease changes seen at the server: ${(serverWrites / seconds).toFixed(1)}/s; ` +
      `each fanned out to ${NODES} watching speakers; gap between renewals p50 ${g.p50.toFixed(0)} ms, max ${g.max.toFixed(0)} ms ` +
      `(over ${durationMs} ms declares a live speaker dead); ${failures} failed renewals`,
  );
}

export async function benchHeartbeatWrites(): Promise<void> {
  console.log(`\n== metal: what speaker liveness costs the API server at ${NODES} nodes (devcluster)`);
  const dev = await startDevCluster({ port: 0 });
  try {
    await speakerLoad(dev);
    await leaseOnlyLoad(dev, 1200, 400, 10_000);
  } finally {
    await dev.stop();
  }
}

export async function benchFailover(kills = 20, cleanStops = 10): Promise<void> {
  console.log(`\n== metal: failover on virtual wires (${kills} SIGKILLs, ${cleanStops} SIGTERMs of the elected speaker)`);
  const why = netnsUnavailable() ?? (packetAddonAvailable() ? undefined : 'the packet addon is not built (npm run build:native)');
  if (why) {
    console.log(`  skipped: ${why}`);
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
    for (const [signal, times] of [['SIGKILL', kills], ['SIGTERM', cleanStops]] as const) {
      const samples: number[] = [];
      for (let i = 0; i < times; i++) {
        await until(`${first} to answer`, async () => ((await c.arp(vip, 150)).join() === first ? true : undefined), 30_000);
        const victim = c.speakers.get(first);
        if (!victim) throw new Error(`no speaker on ${first}`);
        samples.push(await c.handover(vip, () => victim.kill(signal), second));
        await victim.exited;
        await c.startSpeaker(first);
      }
      const s = summarize(samples);
      console.log(
        `  ${signal === 'SIGKILL' ? 'SIGKILL (crash)' : 'SIGTERM (clean)'}: p50 ${s.p50} ms, max ${s.max} ms (n=${s.n}, min ${Math.min(...samples)} ms) ` +
          `from the signal until HTTP through ${vip} reached the next node`,
      );
    }
  } catch (e) {
    console.log(c.dump(20));
    throw e;
  } finally {
    const left = await c.stop();
    if (left.length > 0) console.log(`  cleanup problems: ${left.join('; ')}`);
  }
}

/** `which`: the command line's words; `writes`, `failover` or `bgp` picks parts, otherwise all run. */
export async function benchMetal(which: readonly string[] = []): Promise<void> {
  const parts = which.filter((w) => w === 'writes' || w === 'failover' || w === 'bgp');
  if (parts.length === 0 || parts.includes('writes')) await benchHeartbeatWrites();
  if (parts.length === 0 || parts.includes('failover')) await benchFailover();
  if (parts.length === 0 || parts.includes('bgp')) await benchBgp();
}
