// Which load balancer holds which address of the pool. Pure bookkeeping: whether an
// address can actually be bound is bind.ts's question.
import { cidrContains, formatIp, normalizeIp, parseCidr } from '../../model/ip.js';

export type AllocateResult =
  | { readonly ok: true; readonly address: string }
  | { readonly ok: false; readonly kind: 'invalid' | 'conflict' | 'quota'; readonly reason: string };

function ipv4ToInt(ip: string): number {
  return ip.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
}

function intToIpv4(n: number): string {
  return formatIp({ family: 4, bytes: [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255] });
}

export class AddressPool {
  readonly cidr: string;
  private readonly base: number;
  private readonly first: number;
  private readonly last: number;
  private readonly byOwner = new Map<string, string>();
  private readonly byAddress = new Map<string, string>();

  constructor(cidr: string) {
    const c = parseCidr(cidr);
    if (!c.ok) throw new Error(c.reason);
    if (c.family !== 4) throw new Error(`${cidr}: the address pool must be IPv4`);
    this.cidr = c.cidr;
    this.base = ipv4ToInt(c.cidr.slice(0, c.cidr.indexOf('/')));
    const size = 2 ** (32 - c.prefix);
    // The network and broadcast addresses bind on lo too, but people read them as
    // "not a host"; skip them where the pool is big enough to have them.
    [this.first, this.last] = size > 2 ? [1, size - 2] : [0, size - 1];
  }

  /** The address allocate() would hand out first, for the bind probe. */
  get firstAddress(): string {
    return intToIpv4(this.base + this.first);
  }

  contains(address: string): boolean {
    return cidrContains(this.cidr, address);
  }

  addressOf(owner: string): string | undefined {
    return this.byOwner.get(owner);
  }

  get size(): number {
    return this.byOwner.size;
  }

  /**
   * The owner's address: the requested one (which must be in the pool and free), else
   * the one it already holds, else the lowest free. Moving to a requested address
   * releases the old one.
   */
  allocate(owner: string, requested?: string): AllocateResult {
    const current = this.byOwner.get(owner);
    if (requested !== undefined) {
      const ip = normalizeIp(requested);
      if (ip === undefined || !this.contains(ip)) {
        return { ok: false, kind: 'invalid', reason: `requested address ${requested} is not in the pool ${this.cidr}` };
      }
      const holder = this.byAddress.get(ip);
      if (holder !== undefined && holder !== owner) return { ok: false, kind: 'conflict', reason: `requested address ${ip} is already in use` };
      if (current !== undefined && current !== ip) this.byAddress.delete(current);
      this.take(owner, ip);
      return { ok: true, address: ip };
    }
    if (current !== undefined) return { ok: true, address: current };
    for (let i = this.first; i <= this.last; i++) {
      const ip = intToIpv4(this.base + i);
      if (!this.byAddress.has(ip)) {
        this.take(owner, ip);
        return { ok: true, address: ip };
      }
    }
    return { ok: false, kind: 'quota', reason: `address pool ${this.cidr} is exhausted` };
  }

  release(owner: string): void {
    const ip = this.byOwner.get(owner);
    if (ip === undefined) return;
    this.byOwner.delete(owner);
    this.byAddress.delete(ip);
  }

  private take(owner: string, ip: string): void {
    this.byOwner.set(owner, ip);
    this.byAddress.set(ip, owner);
  }
}
