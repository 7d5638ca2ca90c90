// The speaker's only way onto the wire: AF_PACKET sockets from the native addon in
// native/packet (built by `npm run build:native`). Loaded lazily so that the
// controller, which never announces, runs on machines without the addon.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

interface PacketAddon {
  open(ifindex: number, protocol: number, filter: Buffer | null, onFrame: (frame: Buffer, pkttype: number, ifindex: number) => void): unknown;
  send(handle: unknown, frame: Buffer): number;
  addMembership(handle: unknown, mac: Buffer): void;
  dropMembership(handle: unknown, mac: Buffer): void;
  close(handle: unknown): void;
  /** A non-blocking TCP connect with an MD5 key (tcp_md5.c): the descriptor, still connecting. */
  tcpMd5Connect(peer: string, port: number, key: string, localAddress: string | null): number;
  /** Whether the connect finished; throws its error. */
  connectResult(fd: number): boolean;
  closeFd(fd: number): void;
}

/** Every EtherType; the BPF filter narrows it down. */
export const ETH_P_ALL = 0x0003;

/** Where the addon is looked for: $LBC_PACKET_ADDON, else native/packet/build/Release/packet.node in the repository or package. */
export function addonPath(): string {
  const fromEnv = process.env.LBC_PACKET_ADDON;
  if (fromEnv) return fromEnv;
  // src/providers/metal/speaker and dist/providers/metal/speaker are both four levels below the root.
  return fileURLToPath(new URL('../../../../native/packet/build/Release/packet.node', import.meta.url));
}

let addon: PacketAddon | undefined;

export function loadPacketAddon(): PacketAddon {
  if (addon) return addon;
  const path = addonPath();
  if (!existsSync(path)) {
    throw new Error(`the packet socket addon is not built (${path} is missing): run \`npm run build:native\` (needs python3, make and a C compiler)`);
  }
  addon = createRequire(import.meta.url)(path) as PacketAddon;
  return addon;
}

export function packetAddonAvailable(): boolean {
  return existsSync(addonPath());
}

export type FrameHandler = (frame: Buffer, pkttype: number) => void;

/** One AF_PACKET socket bound to one interface. Needs CAP_NET_RAW. */
export class PacketSocket {
  private handle: unknown;
  private readonly memberships = new Set<string>();

  constructor(
    readonly ifindex: number,
    filter: Buffer | null,
    onFrame: FrameHandler,
    onError: (err: unknown) => void = (err) => console.warn('packet socket: frame handler threw', err),
  ) {
    this.handle = loadPacketAddon().open(ifindex, ETH_P_ALL, filter, (frame, pkttype) => {
      // Errors must not cross back into native code, which would make them fatal.
      try {
        onFrame(frame, pkttype);
      } catch (err) {
        onError(err);
      }
    });
  }

  get open(): boolean {
    return this.handle !== undefined;
  }

  send(frame: Buffer): void {
    if (this.handle === undefined) throw new Error('packet socket is closed');
    loadPacketAddon().send(this.handle, frame);
  }

  /** Receive frames sent to a link-layer multicast group; joining twice is joining once. */
  join(mac: Buffer): void {
    const key = mac.toString('hex');
    if (this.handle === undefined || this.memberships.has(key)) return;
    loadPacketAddon().addMembership(this.handle, mac);
    this.memberships.add(key);
  }

  leave(mac: Buffer): void {
    const key = mac.toString('hex');
    if (this.handle === undefined || !this.memberships.delete(key)) return;
    loadPacketAddon().dropMembership(this.handle, mac);
  }

  close(): void {
    if (this.handle === undefined) return;
    loadPacketAddon().close(this.handle);
    this.handle = undefined;
    this.memberships.clear();
  }
}
