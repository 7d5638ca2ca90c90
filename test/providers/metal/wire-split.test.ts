// No split brain in layer 2, on real (virtual) wires (issue #20 part 3): three node
// namespaces each running `lbc speaker`, a client namespace running an arping that asks
// who has the address every 5-10 ms and records every MAC that answers each request.
// - The speakers' heartbeats (UDP 7947) to and from the node that owns the address are
//   dropped with nftables in its namespace, while its link and its path to the API
//   server stay up, so its Lease keeps being renewed (and, inbound only, on another
//   node). Before the fix the other nodes declared it dead and one of them answered
//   too, for as long as the block lasted (1156 of 1802 requests answered twice).
// - The owner's cable pulled and plugged back; a restarted owner whose first heartbeats
//   are lost next to a peer whose API watch lags (before the hand-over: ~400 ms of
//   requests answered by both); a plain restart; all speakers started at once: a request
//   is never answered by two nodes.
//
// Root only (namespaces, nftables, packet sockets); elsewhere skipped, saying why.
import { execFileSync } from 'node:child_process';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { rankCandidates } from '../../../src/providers/metal/speaker/election.js';
import { packetAddonAvailable } from '../../../src/providers/metal/speaker/packet-socket.js';
import type { Child } from './wire/children.js';
import { until, WireCluster } from './wire/cluster.js';
import { netnsUnavailable } from './wire/netns.js';

function nftUnavailable(): string | undefined {
  try {
    execFileSync('nft', ['--version'], { stdio: 'ignore' });
    return undefined;
  } catch {
    return 'nft (nftables) is not installed';
  }
}

const unavailable = netnsUnavailable() ?? nftUnavailable() ?? (packetAddonAvailable() ? undefined : 'the packet addon is not built (npm run build:native)');
const NODES = ['node-a', 'node-b', 'node-c'];
const VIP = '10.123.0.100';

/** Requests answered by more than one node, as `t: nodes`. */
function doubles(rounds: { t: number; nodes: string[] }[]): string[] {
  return rounds.filter((r) => r.nodes.length > 1).map((r) => `${new Date(r.t).toISOString().slice(11, 23)}: ${r.nodes.join(' and ')}`);
}

describe.skipIf(unavailable !== undefined)(`metal speaker: no split brain on virtual wires${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  const c = new WireCluster({ nodes: NODES, vips: [VIP] });
  const [owner = '', next = ''] = rankCandidates(VIP, NODES);
  let failed = false;

  beforeAll(async () => {
    await c.start();
    await c.service('web', [VIP], false);
    await c.slice('web-1', 'web', NODES.map((node) => ({ node, ready: true })));
    await Promise.all(NODES.map((n) => c.startSpeaker(n)));
    await until(`${owner} to answer alone`, async () => ((await c.arp(VIP, 200)).join() === owner ? true : undefined), 10_000);
  }, 200_000);

  afterEach((ctx) => {
    if (ctx.task.result?.state === 'fail') failed = true;
  });

  afterAll(async () => {
    if (failed || process.env.LBC_WIRE_DEBUG) console.log(c.dump(60));
    expect(await c.stop()).toEqual([]);
  }, 30_000);

  it('gossip to and from the owner blocked for 5 s, its Lease renewing: one MAC answers throughout, the others warn once and say when it is back', async () => {
    const others = NODES.filter((n) => n !== owner);
    await c.arpWatchStart(VIP, 10);
    await new Promise((r) => setTimeout(r, 500));
    const warned = others.map((n) => (c.speakers.get(n) as Child).waitFor(new RegExp(`no heartbeats from ${owner}, alive by its Lease only`), 8_000));
    c.blockGossip(owner);
    try {
      await Promise.all(warned);
      await new Promise((r) => setTimeout(r, 5_000));
    } finally {
      c.unblockGossip(owner);
    }
    const back = others.map((n) => (c.speakers.get(n) as Child).waitFor(new RegExp(`heartbeats from ${owner} arrive again`), 5_000));
    await Promise.all(back);
    await new Promise((r) => setTimeout(r, 1_000));
    const rounds = await c.arpWatchStop();
    expect(doubles(rounds), 'requests answered by two nodes').toEqual([]);
    // The owner answered throughout: no request of the arping went to anyone else.
    const answeredBy = new Set(rounds.flatMap((r) => r.nodes));
    expect([...answeredBy]).toEqual([owner]);
    // Unanswered requests: at most a few lost frames, not an outage. Counted as requests
    // less replies (one node answered each): on a starved machine the arping reads a reply
    // after sending the next request, which then shows the reply and the one before none.
    const replies = rounds.reduce((n, r) => n + r.replies, 0);
    expect(rounds.length - replies, `${rounds.length} requests, ${replies} replies, ${rounds.filter((r) => r.nodes.length === 0).length} without a reply before the next`).toBeLessThan(rounds.length / 20);
    // One warning per peer, not one per check.
    for (const n of others) {
      const lines = (c.speakers.get(n) as Child).lines.filter((l) => l.line.includes(`no heartbeats from ${owner}, alive by its Lease only`));
      expect(lines, `${n}'s warnings`).toHaveLength(1);
    }
  }, 60_000);

  it('only the heartbeats to another node blocked (it hears nobody, the others hear it): it does not answer for the owner\'s address', async () => {
    await c.arpWatchStart(VIP, 10);
    await new Promise((r) => setTimeout(r, 300));
    const warned = (c.speakers.get(next) as Child).waitFor(new RegExp(`no heartbeats from ${owner}, alive by its Lease only`), 8_000);
    c.blockGossip(next, 7947, 'in');
    try {
      await warned;
      await new Promise((r) => setTimeout(r, 3_000));
    } finally {
      c.unblockGossip(next);
    }
    await new Promise((r) => setTimeout(r, 1_500));
    const rounds = await c.arpWatchStop();
    expect(doubles(rounds), 'requests answered by two nodes').toEqual([]);
    expect([...new Set(rounds.flatMap((r) => r.nodes))]).toEqual([owner]);
  }, 60_000);

  it('the owner\'s cable pulled for 2 s: the next node answers meanwhile, and the owner takes the address back without a request answered twice', async () => {
    const announced = (node: string) => (c.speakers.get(node) as Child).waitFor(/announce 10\.123\.0\.100@/, 10_000);
    await c.arpWatchStart(VIP, 5);
    const taken = announced(next);
    c.cable(owner, 'down');
    try {
      await taken;
      await new Promise((r) => setTimeout(r, 1_500));
    } finally {
      c.cable(owner, 'up');
    }
    await announced(owner);
    await new Promise((r) => setTimeout(r, 500));
    const rounds = await c.arpWatchStop();
    expect(doubles(rounds), 'requests answered by two nodes').toEqual([]);
    expect([...new Set(rounds.flatMap((r) => r.nodes))].sort()).toEqual([owner, next].sort());
    expect(rounds.filter((r) => r.nodes.length > 0).at(-1)?.nodes, 'who answered last').toEqual([owner]);
  }, 60_000);

  it('a restarted owner whose first heartbeats are lost, next to a peer whose API watch lags 400 ms: the address is handed over, never answered twice', async () => {
    // Before the hand-over, the owner announced as it took part and the next node, which
    // learns of it only from its (late) Lease, answered too until then.
    const peer = c.speakers.get(next) as Child;
    peer.kill('SIGKILL');
    await peer.exited;
    await c.startSpeaker(next, { LBC_WIRE_API_DELAY_MS: '400' });
    const victim = c.speakers.get(owner) as Child;
    victim.kill('SIGKILL');
    await victim.exited;
    await until(`${next} to answer`, async () => ((await c.arp(VIP, 150)).join() === next ? true : undefined), 10_000);
    c.blockGossip(owner, 7947, 'out');
    await c.arpWatchStart(VIP, 5);
    try {
      await c.startSpeaker(owner);
      await new Promise((r) => setTimeout(r, 1_500));
    } finally {
      c.unblockGossip(owner);
    }
    await new Promise((r) => setTimeout(r, 1_000));
    const rounds = await c.arpWatchStop();
    expect(doubles(rounds), 'requests answered by two nodes').toEqual([]);
    expect(rounds.filter((r) => r.nodes.length > 0).at(-1)?.nodes, 'who answered last').toEqual([owner]);
    // Back to speakers without the lag for what follows.
    const lagging = c.speakers.get(next) as Child;
    lagging.kill('SIGKILL');
    await lagging.exited;
    await c.startSpeaker(next);
  }, 120_000);

  it('a restarted owner takes its address back without a request answered twice', async () => {
    const victim = c.speakers.get(owner) as Child;
    victim.kill('SIGKILL');
    await victim.exited;
    await until(`${next} to answer`, async () => ((await c.arp(VIP, 150)).join() === next ? true : undefined), 5_000);
    await c.arpWatchStart(VIP, 5);
    await c.startSpeaker(owner);
    await until(`${owner} to answer again`, async () => (c.speakers.get(owner)?.lines.some((l) => /"event":"announce"|announce 10\.123\.0\.100/.test(l.line)) ? true : undefined), 10_000);
    await new Promise((r) => setTimeout(r, 500));
    const rounds = await c.arpWatchStop();
    expect(doubles(rounds), 'requests answered by two nodes').toEqual([]);
    expect(rounds.filter((r) => r.nodes.length > 0).at(-1)?.nodes, 'who answered last').toEqual([owner]);
  }, 90_000);

  it('all speakers start at once: no request answered twice', async () => {
    for (const n of NODES) (c.speakers.get(n) as Child).kill('SIGKILL');
    await Promise.all(NODES.map((n) => (c.speakers.get(n) as Child).exited));
    await c.arpWatchStart(VIP, 5);
    await Promise.all(NODES.map((n) => c.startSpeaker(n)));
    await until(`${owner} to answer`, async () => (c.speakers.get(owner)?.lines.some((l) => /announce 10\.123\.0\.100/.test(l.line)) ? true : undefined), 10_000);
    await new Promise((r) => setTimeout(r, 1_000));
    const rounds = await c.arpWatchStop();
    expect(doubles(rounds), 'requests answered by two nodes').toEqual([]);
    expect(rounds.filter((r) => r.nodes.length > 0).at(-1)?.nodes, 'who answered last').toEqual([owner]);
  }, 120_000);
});
