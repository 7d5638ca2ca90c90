// One interface's responder: a packet socket that hears ARP requests and Neighbor
// Solicitations (the kernel's BPF filter drops everything else) and answers those for
// the addresses this node announces on the interface, with the interface's own MAC.
// The addresses are never added to the interface: the kernel knows nothing of them,
// so nothing but this responder answers for them, and it stops the instant an address
// is withdrawn.
import { createSocket, type Socket } from 'node:dgram';
import type { Logger } from '../../../kube/logger.js';
import { answerArp, gratuitousArp, ARP_REQUEST } from './arp.js';
import { frameFilter } from './bpf.js';
import type { HostInterface } from './interfaces.js';
import { formatMac, PACKET_OUTGOING, parseMac } from './link.js';
import { answerNeighborSolicitation, ICMPV6_NEIGHBOR_SOLICITATION, multicastMac, solicitedNodeMulticast, unsolicitedNeighborAdvertisement } from './ndp.js';
import { PacketSocket, type FrameHandler } from './packet-socket.js';

/** When gratuitous announcements go out after a takeover, in ms: quickly at first, then spaced out. */
export function gratuitousSchedule(totalMs: number): number[] {
  const out = [0];
  for (let t = 100; t <= totalMs; t = Math.min(t * 2, t + 1000)) out.push(t);
  return out;
}

export interface ResponderStats {
  arpAnswered: number;
  ndpAnswered: number;
  gratuitousSent: number;
  sendErrors: number;
}

/** What a responder needs of a socket; tests pass a fake. */
export interface FrameSocket {
  send(frame: Buffer): void;
  join(mac: Buffer): void;
  leave(mac: Buffer): void;
  close(): void;
}

export type SocketFactory = (ifindex: number, filter: Buffer, onFrame: FrameHandler) => FrameSocket;

export const packetSocketFactory: SocketFactory = (ifindex, filter, onFrame) => new PacketSocket(ifindex, filter, onFrame);

/**
 * IPv6 multicast membership at the IP layer, so that the kernel sends MLD reports: a
 * switch doing MLD snooping forwards a solicited-node group only to ports that reported
 * it, and the packet socket's link-layer membership reports nothing.
 */
export interface GroupMembership {
  join(group: string, ifname: string): void;
  leave(group: string, ifname: string): void;
  close?(): void;
}

/** GroupMembership through one UDP socket (the kernel keeps memberships per socket). */
export class UdpGroups implements GroupMembership {
  private socket: Socket | undefined;
  private bound = false;
  private failed = false;
  private readonly pending: ((s: Socket) => void)[] = [];

  constructor(private readonly log: Pick<Logger, 'warn'>) {}

  join(group: string, ifname: string): void {
    this.call((s) => s.addMembership(group, `::%${ifname}`), `joining ${group} on ${ifname}`);
  }

  leave(group: string, ifname: string): void {
    this.call((s) => s.dropMembership(group, `::%${ifname}`), `leaving ${group} on ${ifname}`);
  }

  close(): void {
    this.socket?.close();
    this.socket = undefined;
    this.bound = false;
    this.pending.length = 0;
  }

  private call(fn: (s: Socket) => void, what: string): void {
    if (this.failed) return;
    const run = (s: Socket): void => {
      try {
        fn(s);
      } catch (e) {
        this.log.warn(`${what}: ${(e as Error).message} (NDP still works where switches flood multicast)`);
      }
    };
    if (!this.socket) {
      const s = createSocket({ type: 'udp6', ipv6Only: true });
      this.socket = s;
      s.on('error', (e) => {
        if (!this.bound) {
          // No IPv6 on this host: nothing to join, ever.
          this.failed = true;
          this.pending.length = 0;
        }
        this.log.warn(`multicast membership socket: ${e.message}`);
      });
      // Membership calls need a bound socket; an ephemeral port nothing sends to.
      s.bind({ address: '::', port: 0 }, () => {
        this.bound = true;
        for (const p of this.pending.splice(0)) p(s);
      });
      s.unref();
    }
    if (this.bound) run(this.socket);
    else this.pending.push(run);
  }
}

export interface ResponderOptions {
  readonly iface: HostInterface;
  readonly gratuitousForMs: number;
  readonly log: Pick<Logger, 'warn'> & Partial<Pick<Logger, 'info'>>;
  readonly socketFactory?: SocketFactory;
  /** IP-layer group membership; a UDP socket by default, none when null. */
  readonly groups?: GroupMembership | null;
}

export class InterfaceResponder {
  readonly stats: ResponderStats = { arpAnswered: 0, ndpAnswered: 0, gratuitousSent: 0, sendErrors: 0 };
  private readonly mac: Buffer;
  private readonly ips = new Set<string>();
  private readonly timers = new Map<string, NodeJS.Timeout[]>();
  private readonly groups: GroupMembership | null;
  private socket: FrameSocket | undefined;

  constructor(private readonly opts: ResponderOptions) {
    this.mac = parseMac(opts.iface.mac);
    this.groups = opts.groups === undefined ? new UdpGroups(opts.log) : opts.groups;
  }

  get name(): string {
    return this.opts.iface.name;
  }

  get announced(): string[] {
    return [...this.ips].sort();
  }

  announce(ip: string): void {
    if (this.ips.has(ip)) return;
    this.open();
    this.ips.add(ip);
    const v6 = ip.includes(':');
    if (v6 && !this.sharesGroup(ip)) {
      const group = solicitedNodeMulticast(ip);
      this.socket?.join(multicastMac(group));
      this.groups?.join(group, this.name);
    }
    const frames = v6 ? [unsolicitedNeighborAdvertisement(ip, this.mac, this.opts.iface.linkLocal)] : gratuitousArp(ip, this.mac);
    const timers = gratuitousSchedule(this.opts.gratuitousForMs).map((at) => {
      const t = setTimeout(() => {
        if (!this.ips.has(ip)) return;
        for (const f of frames) this.send(f);
        this.stats.gratuitousSent++;
      }, at);
      t.unref();
      return t;
    });
    this.timers.set(ip, timers);
  }

  withdraw(ip: string): void {
    if (!this.ips.delete(ip)) return;
    for (const t of this.timers.get(ip) ?? []) clearTimeout(t);
    this.timers.delete(ip);
    // Two announced addresses can map to one solicited-node group; keep it while either needs it.
    if (ip.includes(':') && !this.sharesGroup(ip)) {
      const group = solicitedNodeMulticast(ip);
      this.socket?.leave(multicastMac(group));
      this.groups?.leave(group, this.name);
    }
    if (this.ips.size === 0) this.closeSocket();
  }

  close(): void {
    for (const ip of [...this.ips]) this.withdraw(ip);
    this.closeSocket();
    this.groups?.close?.();
  }

  /** Answers one received frame; exposed so tests can drive the responder without a socket. */
  handle(frame: Buffer, pkttype: number): void {
    if (pkttype === PACKET_OUTGOING) return;
    const macFor = (ip: string): Buffer | undefined => (this.ips.has(ip) ? this.mac : undefined);
    const arp = answerArp(frame, macFor);
    if (arp) {
      this.send(arp);
      this.stats.arpAnswered++;
      return;
    }
    const na = answerNeighborSolicitation(frame, macFor, this.opts.iface.linkLocal);
    if (na) {
      this.send(na);
      this.stats.ndpAnswered++;
    }
  }

  /** Whether another announced address than `ip` uses ip's solicited-node group. */
  private sharesGroup(ip: string): boolean {
    const group = solicitedNodeMulticast(ip);
    return [...this.ips].some((o) => o !== ip && o.includes(':') && solicitedNodeMulticast(o) === group);
  }

  private open(): void {
    if (this.socket) return;
    const filter = frameFilter({ arpOps: [ARP_REQUEST], icmpv6Types: [ICMPV6_NEIGHBOR_SOLICITATION] });
    const factory = this.opts.socketFactory ?? packetSocketFactory;
    this.socket = factory(this.opts.iface.ifindex, filter, (frame, pkttype) => this.handle(frame, pkttype));
    this.opts.log.info?.(`responder ${this.name} (${formatMac(this.mac)}): listening`);
  }

  private closeSocket(): void {
    this.socket?.close();
    this.socket = undefined;
  }

  private send(frame: Buffer): void {
    try {
      this.socket?.send(frame);
    } catch (e) {
      if (this.stats.sendErrors++ % 100 === 0) this.opts.log.warn(`responder ${this.name}: send failed: ${(e as Error).message}`);
    }
  }
}
