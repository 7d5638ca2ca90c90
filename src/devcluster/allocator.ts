// Allocators for Service ClusterIPs and node ports, modelled on kube-apiserver's bitmap
// allocators (pkg/registry/core/service/{ipallocator,portallocator}): same reserved
// addresses, same dynamic/static split, same error texts.
//
// Each allocation records an owner. An allocator never learns about dry runs or about
// writes that did not land, so `stillHeld(owner, value)` is asked before a recorded
// owner is believed: the caller answers from what is actually stored, which makes the
// allocator a cache of the store rather than a second source of truth that could leak.

export type AllocErrorKind = 'out-of-range' | 'taken' | 'full';

export class AllocError extends Error {
  constructor(readonly kind: AllocErrorKind, message: string) {
    super(message);
  }
}

/** Asked before a recorded owner is believed: does `owner`, as stored, still use `value`? */
export type StillHeld<T> = (owner: string, value: T) => boolean;

/** Offsets 0..size-1, each free or held by one owner. */
class OwnerTable {
  private readonly owners = new Map<number, string>();

  constructor(readonly size: number, private readonly stillHeld: StillHeld<number>) {}

  /**
   * Whether `offset` is unavailable to `self`: recorded for an owner whose stored object
   * still uses it. That owner may be `self` itself (an update's old object keeps its values
   * until the update lands). Others' stale records are dropped on the way.
   */
  taken(offset: number, self: string): boolean {
    const owner = this.owners.get(offset);
    if (owner === undefined) return false;
    if (this.stillHeld(owner, offset)) return true;
    if (owner !== self) this.owners.delete(offset);
    return false;
  }

  ownerOf(offset: number): string | undefined {
    return this.owners.get(offset);
  }

  take(offset: number, owner: string): void {
    this.owners.set(offset, owner);
  }

  release(offset: number, owner?: string): void {
    if (owner === undefined || this.owners.get(offset) === owner) this.owners.delete(offset);
  }

  releaseOwner(owner: string): void {
    for (const [k, v] of this.owners) if (v === owner) this.owners.delete(k);
  }

  /** A free offset in [from, to), scanning from a random start as the real allocator does. */
  findFree(from: number, to: number, self: string, random: () => number): number | undefined {
    const span = to - from;
    if (span <= 0) return undefined;
    const start = Math.floor(random() * span);
    for (let i = 0; i < span; i++) {
      const off = from + ((start + i) % span);
      if (this.owners.get(off) !== self && !this.taken(off, self)) return off;
    }
    return undefined;
  }

  get used(): number {
    return this.owners.size;
  }
}

// ---------------------------------------------------------------------------------------
// Node ports

export interface PortRange {
  base: number;
  size: number;
}

/** `30000-32767`, `30000+2767` or a single port, as utilnet.ParsePortRange accepts. */
export function parsePortRange(s: string): PortRange {
  const t = s.trim();
  let m = t.match(/^(\d+)-(\d+)$/);
  if (m) {
    const lo = Number(m[1]);
    const hi = Number(m[2]);
    if (hi < lo) throw new Error(`invalid port range ${s}: end before start`);
    return check({ base: lo, size: hi - lo + 1 }, s);
  }
  m = t.match(/^(\d+)\+(\d+)$/);
  if (m) return check({ base: Number(m[1]), size: Number(m[2]) + 1 }, s);
  m = t.match(/^(\d+)$/);
  if (m) return check({ base: Number(m[1]), size: 1 }, s);
  throw new Error(`unable to parse port range: ${s}`);
}

function check(r: PortRange, s: string): PortRange {
  if (r.base < 1 || r.base + r.size - 1 > 65535) throw new Error(`invalid port range ${s}`);
  return r;
}

export function formatPortRange(r: PortRange): string {
  return r.size === 1 ? String(r.base) : `${r.base}-${r.base + r.size - 1}`;
}

export class PortAllocator {
  readonly range: PortRange;
  private readonly table: OwnerTable;

  constructor(range: string | PortRange, stillHeld: StillHeld<number>, private readonly random: () => number = Math.random) {
    const r = typeof range === 'string' ? parsePortRange(range) : range;
    this.range = r;
    this.table = new OwnerTable(r.size, (owner, off) => stillHeld(owner, r.base + off));
  }

  contains(port: number): boolean {
    return Number.isInteger(port) && port >= this.range.base && port < this.range.base + this.range.size;
  }

  /** Claims a specific port for `owner`; re-claiming one's own port is fine. */
  allocate(port: number, owner: string): void {
    if (!this.contains(port)) {
      throw new AllocError('out-of-range', `provided port is not in the valid range. The range of valid ports is ${formatPortRange(this.range)}`);
    }
    const off = port - this.range.base;
    if (this.table.taken(off, owner)) throw new AllocError('taken', 'provided port is already allocated');
    this.table.take(off, owner);
  }

  /** Whether `owner` could claim `port` (nothing is recorded). */
  isFree(port: number, owner: string): boolean {
    return this.contains(port) && !this.table.taken(port - this.range.base, owner);
  }

  /** Any free port (not one `owner` already holds: each call yields a new port). */
  allocateNext(owner: string): number {
    const off = this.table.findFree(0, this.range.size, owner, this.random);
    if (off === undefined) throw new AllocError('full', 'range is full');
    this.table.take(off, owner);
    return this.range.base + off;
  }

  release(port: number, owner?: string): void {
    if (this.contains(port)) this.table.release(port - this.range.base, owner);
  }

  releaseOwner(owner: string): void {
    this.table.releaseOwner(owner);
  }

  ownerOf(port: number): string | undefined {
    return this.contains(port) ? this.table.ownerOf(port - this.range.base) : undefined;
  }

  get used(): number {
    return this.table.used;
  }
}

// ---------------------------------------------------------------------------------------
// Cluster IPs (IPv4)

export interface Cidr {
  /** Network address as an unsigned 32-bit integer. */
  network: number;
  prefix: number;
  text: string;
}

export function parseIPv4(s: string): number | undefined {
  const m = s.match(/^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/);
  if (!m) return undefined;
  let n = 0;
  for (let i = 1; i <= 4; i++) {
    const part = m[i]!;
    // Go's net.ParseIP rejects leading zeros ("010.0.0.1") since 1.17.
    if (part.length > 1 && part.startsWith('0')) return undefined;
    const b = Number(part);
    if (b > 255) return undefined;
    n = n * 256 + b;
  }
  return n;
}

export function formatIPv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export function parseCidr(s: string): Cidr {
  const m = s.trim().match(/^([^/]+)\/(\d{1,2})$/);
  const ip = m ? parseIPv4(m[1]!) : undefined;
  const prefix = m ? Number(m[2]) : NaN;
  if (!m || ip === undefined || prefix > 32) throw new Error(`invalid IPv4 CIDR ${s} (devcluster serves single-stack IPv4 only)`);
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  const network = (ip & mask) >>> 0;
  return { network, prefix, text: `${formatIPv4(network)}/${prefix}` };
}

/**
 * ClusterIP allocation over a service CIDR. As in kube-apiserver, the network and broadcast
 * addresses are never handed out, the first usable address is the `kubernetes` Service's,
 * and dynamic allocation prefers the upper part of the range so that the lower part stays
 * free for statically requested IPs (ServiceIPStaticSubrange, on by default in 1.26).
 */
export class ClusterIPAllocator {
  readonly cidr: Cidr;
  /** First usable address (network + 1 for ranges larger than /31). */
  private readonly base: number;
  private readonly table: OwnerTable;
  /** Start of the dynamic band, as an offset from `base`. */
  private readonly dynamicOffset: number;

  constructor(cidr: string, stillHeld: StillHeld<string>, private readonly random: () => number = Math.random) {
    this.cidr = parseCidr(cidr);
    const total = 2 ** (32 - this.cidr.prefix);
    // Mirrors ipallocator.NewAllocatorCIDRRange: /31 and /32 keep all addresses.
    const usable = total > 2 ? total - 2 : total;
    const base = total > 2 ? this.cidr.network + 1 : this.cidr.network;
    this.base = base;
    this.table = new OwnerTable(usable, (owner, off) => stillHeld(owner, formatIPv4(base + off)));
    this.dynamicOffset = rangeOffset(total);
  }

  get firstIP(): string {
    return formatIPv4(this.base);
  }

  private offsetOf(ip: string): number | undefined {
    const n = parseIPv4(ip);
    if (n === undefined) return undefined;
    const off = n - this.base;
    return off >= 0 && off < this.table.size ? off : undefined;
  }

  contains(ip: string): boolean {
    return this.offsetOf(ip) !== undefined;
  }

  allocate(ip: string, owner: string): void {
    const off = this.offsetOf(ip);
    if (off === undefined) {
      throw new AllocError('out-of-range', `the provided IP (${ip}) is not in the valid range. The range of valid IPs is ${this.cidr.text}`);
    }
    if (this.table.taken(off, owner)) throw new AllocError('taken', 'provided IP is already allocated');
    this.table.take(off, owner);
  }

  allocateNext(owner: string): string {
    const off =
      this.table.findFree(this.dynamicOffset, this.table.size, owner, this.random) ??
      this.table.findFree(0, this.dynamicOffset, owner, this.random);
    if (off === undefined) throw new AllocError('full', 'range is full');
    this.table.take(off, owner);
    return formatIPv4(this.base + off);
  }

  release(ip: string, owner?: string): void {
    const off = this.offsetOf(ip);
    if (off !== undefined) this.table.release(off, owner);
  }

  releaseOwner(owner: string): void {
    this.table.releaseOwner(owner);
  }

  ownerOf(ip: string): string | undefined {
    const off = this.offsetOf(ip);
    return off === undefined ? undefined : this.table.ownerOf(off);
  }

  get used(): number {
    return this.table.used;
  }
}

/** ipallocator.calculateRangeOffset: min(max(16, size/16), 256), 0 for tiny ranges. */
function rangeOffset(cidrSize: number): number {
  if (cidrSize <= 16) return 0;
  return Math.min(Math.max(16, Math.floor(cidrSize / 16)), 256);
}
