// The client on the wire, driven by JSON lines on stdin: sends ARP who-has and Neighbor
// Solicitations through its own packet socket and reports who answered; makes HTTP
// requests to the service address, singly or in a loop that reports every answer.
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { createInterface } from 'node:readline';
import { ARP_REPLY, buildArpRequest, parseArp } from '../../../../src/providers/metal/speaker/arp.js';
import { frameFilter } from '../../../../src/providers/metal/speaker/bpf.js';
import { formatMac, parseMac } from '../../../../src/providers/metal/speaker/link.js';
import { buildNeighborSolicitation, ICMPV6_NEIGHBOR_ADVERTISEMENT, parseNeighborAdvertisement } from '../../../../src/providers/metal/speaker/ndp.js';
import { PacketSocket } from '../../../../src/providers/metal/speaker/packet-socket.js';

const [ifname = 'eth0', ip4 = '', ip6 = ''] = process.argv.slice(2);
const ifindex = Number(readFileSync(`/sys/class/net/${ifname}/ifindex`, 'utf8').trim());
const mac = parseMac(readFileSync(`/sys/class/net/${ifname}/address`, 'utf8').trim());
const listeners = new Set<(frame: Buffer) => void>();
const sock = new PacketSocket(ifindex, frameFilter({ arpOps: [ARP_REPLY], icmpv6Types: [ICMPV6_NEIGHBOR_ADVERTISEMENT] }), (frame) => {
  for (const l of listeners) l(frame);
});

const out = (msg: Record<string, unknown>): void => {
  process.stdout.write(`${JSON.stringify(msg)}\n`);
};

function collect(send: Buffer, match: (frame: Buffer) => string | undefined, waitMs: number): Promise<{ mac: string; afterMs: number }[]> {
  const started = Date.now();
  const replies: { mac: string; afterMs: number }[] = [];
  const l = (frame: Buffer): void => {
    const m = match(frame);
    if (m) replies.push({ mac: m, afterMs: Date.now() - started });
  };
  listeners.add(l);
  sock.send(send);
  return new Promise((resolve) =>
    setTimeout(() => {
      listeners.delete(l);
      resolve(replies);
    }, waitMs),
  );
}

function get(url: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve(body));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

let loop: { stop: boolean } | undefined;

/**
 * One who-has: the MACs of the replies counted against it, and how many replies those were.
 * A reply this process reads only after it sent the next request (it ran late) counts
 * against that next one, leaving this one without MACs though it was answered; the reply
 * count, summed, tells lost requests from late ones.
 */
interface Round {
  t: number;
  macs: string[];
  replies: number;
}

/**
 * arping run continuously: a who-has every intervalMs; every answer is counted against
 * the latest request sent before it arrived, so a request answered by two MACs (two
 * nodes announcing at once) shows as one round with both.
 */
let watch: { timer: NodeJS.Timeout; rounds: Round[]; listener: (f: Buffer) => void } | undefined;

function watchStart(ip: string, intervalMs: number): void {
  watchStop();
  const rounds: Round[] = [];
  const listener = (f: Buffer): void => {
    const p = parseArp(f);
    const round = rounds[rounds.length - 1];
    if (!round || !p || p.op !== ARP_REPLY || p.senderIp !== ip || p.targetIp !== ip4) return;
    const m = formatMac(p.senderMac);
    round.replies++;
    if (!round.macs.includes(m)) round.macs.push(m);
  };
  listeners.add(listener);
  const ask = (): void => {
    rounds.push({ t: Date.now(), macs: [], replies: 0 });
    sock.send(buildArpRequest(mac, ip4, ip));
  };
  ask();
  watch = { timer: setInterval(ask, intervalMs), rounds, listener };
}

function watchStop(): Round[] {
  if (!watch) return [];
  clearInterval(watch.timer);
  listeners.delete(watch.listener);
  const { rounds } = watch;
  watch = undefined;
  return rounds;
}

async function runLoop(url: string, intervalMs: number, timeoutMs: number, state: { stop: boolean }): Promise<void> {
  while (!state.stop) {
    const t = Date.now();
    try {
      const body = await get(url, timeoutMs);
      out({ ev: 'http', t: Date.now(), sent: t, body });
    } catch (e) {
      out({ ev: 'http-error', t: Date.now(), error: (e as Error).message });
    }
    const wait = intervalMs - (Date.now() - t);
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
}

createInterface({ input: process.stdin }).on('line', (line) => {
  const cmd = JSON.parse(line) as { id: number; op: string; ip?: string; waitMs?: number; url?: string; intervalMs?: number; timeoutMs?: number };
  const reply = (v: Record<string, unknown>): void => out({ id: cmd.id, ...v });
  switch (cmd.op) {
    case 'arp':
      void collect(
        buildArpRequest(mac, ip4, cmd.ip ?? ''),
        (f) => {
          const p = parseArp(f);
          return p && p.op === ARP_REPLY && p.senderIp === cmd.ip && p.targetIp === ip4 ? formatMac(p.senderMac) : undefined;
        },
        cmd.waitMs ?? 300,
      ).then((replies) => reply({ replies }));
      break;
    case 'ns':
      void collect(
        buildNeighborSolicitation(mac, ip6, cmd.ip ?? ''),
        (f) => {
          const p = parseNeighborAdvertisement(f);
          return p && p.target === cmd.ip && p.dst === ip6 && p.solicited ? formatMac(p.targetMac ?? p.ethSrc) : undefined;
        },
        cmd.waitMs ?? 300,
      ).then((replies) => reply({ replies }));
      break;
    case 'http':
      get(cmd.url ?? '', cmd.timeoutMs ?? 1000).then(
        (body) => reply({ body }),
        (e: unknown) => reply({ error: (e as Error).message }),
      );
      break;
    case 'loop-start':
      if (loop) loop.stop = true;
      loop = { stop: false };
      void runLoop(cmd.url ?? '', cmd.intervalMs ?? 20, cmd.timeoutMs ?? 150, loop);
      reply({ ok: true });
      break;
    case 'arp-watch-start':
      watchStart(cmd.ip ?? '', cmd.intervalMs ?? 20);
      reply({ ok: true });
      break;
    case 'arp-watch-stop':
      // The last request's answers are still on their way.
      setTimeout(() => reply({ rounds: watchStop() }), 50);
      break;
    case 'loop-stop':
      if (loop) loop.stop = true;
      loop = undefined;
      reply({ ok: true });
      break;
    default:
      reply({ error: `unknown op ${cmd.op}` });
  }
});
out({ ev: 'ready', mac: formatMac(mac) });
// No more commands: the test is gone, so is the client (its packet socket would keep it alive).
process.stdin.on('end', () => process.exit(0));
