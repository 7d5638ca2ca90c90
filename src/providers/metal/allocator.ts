// The address allocator: which Service holds which pool address. Pure and
// synchronous, no I/O and no clock, so every rule is a table test
// (test/providers/metal/allocator.test.ts), as MetalLB's internal/allocator is.
//
// Rules, MetalLB's unless noted:
// - A requested address must lie in a pool (and in the pool named, if one is), not be
//   one avoidBuggyIPs excludes, and match the Service's IP families; all requested
//   addresses come from one pool.
// - Without a request, the pool named, else the autoAssign pools whose serviceAllocation
//   takes the Service (namespaces, serviceSelectors) by priority (lower first, unset
//   last), else the autoAssign pools without a serviceAllocation in config order, give
//   the lowest address that is free or that this Service may share (MetalLB's
//   Allocate/pinnedPoolsForService/sortPools); a dual-stack Service gets one address of
//   each family from the same pool.
// - A pool with a serviceAllocation that does not take the Service gives it nothing, not
//   even by name or by requested address (MetalLB's Assign checks it too), and a Service
//   that stops matching (its labels, its namespace's, the pool changed) loses its
//   address to another pool at its next reconcile, as MetalLB clears it.
// - Sharing: every holder of the address has the same sharing key, the same
//   externalTrafficPolicy, the same selector when the policy is Local (MetalLB folds
//   the last two into one "backend key", which lets a Cluster Service share with a
//   Local one that has no selector; lbc does not), and no two use the same port and
//   protocol.
// - A Service keeps what it holds while that still satisfies its request, so
//   reallocation never moves an address without a reason; an auto-assigned address
//   that stops being shareable moves (as MetalLB's controller clears and reallocates),
//   a requested one is a conflict.
// - restore() rebuilds the state from what the Services' statuses say, oldest Service
//   first, so that on a conflict the older keeps the address and the newer is reported.
import type { PortUse, TrafficPolicy } from '../../model/allocation.js';
import type { IpFamilyNumber } from '../../model/ip.js';
import { bigIntToIp, ipToBigInt, isBuggyIp, notServedReason, poolOf, poolServes, type Pool, type ServiceSubject } from './pools.js';

export type { PortUse, TrafficPolicy } from '../../model/allocation.js';

export interface Backend {
  readonly policy: TrafficPolicy;
  /** The Service's selector as `k=v,k=v`, keys sorted (AllocationFacts.selector); only compared under Local. */
  readonly selector: string;
}

export interface Owner {
  /** The Service's uid: a Service recreated under the same name is a new owner. */
  readonly uid: string;
  /** `namespace/name`, for messages. */
  readonly name: string;
  /** creationTimestamp in ms; decides who keeps an address two Services claim at restore. */
  readonly createdAt: number;
}

/** Where a value came from, to name it in messages: `annotation metallb.universe.tf/loadBalancerIPs`, `field spec.loadBalancerIP`. */
export interface Sourced<T> {
  readonly value: T;
  readonly source: string;
}

export interface AllocationRequest {
  readonly owner: Owner;
  /** The Service's namespace and labels, for the pools' serviceAllocation. */
  readonly subject: ServiceSubject;
  /** The Service's ipFamilies, in order; the addresses are reported in this order. */
  readonly families: readonly IpFamilyNumber[];
  readonly requested?: Sourced<readonly string[]>;
  readonly pool?: Sourced<string>;
  readonly sharingKey?: Sourced<string>;
  readonly ports: readonly PortUse[];
  readonly backend: Backend;
}

export interface Allocation {
  readonly owner: Owner;
  /** Canonical text, in the order of the Service's ipFamilies. */
  readonly ips: readonly string[];
  readonly pool: string;
  readonly sharingKey?: string;
  readonly ports: readonly PortUse[];
  readonly backend: Backend;
  /** The addresses were asked for by name (annotation or spec.loadBalancerIP), not picked. */
  readonly requested: boolean;
}

export type AllocationErrorKind = 'invalid' | 'quota' | 'conflict';

export type AllocateOutcome =
  | { readonly ok: true; readonly allocation: Allocation; readonly changed: boolean }
  | { readonly ok: false; readonly kind: AllocationErrorKind; readonly message: string };

/** One Service as its status says it is, for restore(). */
export interface RestoreEntry {
  readonly owner: Owner;
  readonly subject: ServiceSubject;
  readonly ips: readonly string[];
  readonly sharingKey?: string;
  readonly ports: readonly PortUse[];
  readonly backend: Backend;
  readonly requested: boolean;
}

export interface RestoreConflict {
  readonly owner: Owner;
  readonly ips: readonly string[];
  /** Names the address, the Service that kept it and why the two cannot both hold it. */
  readonly message: string;
}

export interface RestoreReport {
  readonly restored: readonly Allocation[];
  readonly conflicts: readonly RestoreConflict[];
  /** Services whose status addresses are in no pool they may use (a pool removed, one whose serviceAllocation no longer takes them): they get new ones. */
  readonly outsidePools: readonly { readonly owner: Owner; readonly ips: readonly string[]; readonly reason: string }[];
}

const familyName = (f: IpFamilyNumber): string => `IPv${f}`;
const familyOf = (ip: string): IpFamilyNumber | undefined => ipToBigInt(ip)?.family;
const portText = (p: PortUse): string => `${p.protocol}/${p.port}`;

export function byAge(a: Owner, b: Owner): number {
  return a.createdAt - b.createdAt || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0) || (a.uid < b.uid ? -1 : a.uid > b.uid ? 1 : 0);
}

export class Allocator {
  private readonly byOwner = new Map<string, Allocation>();
  private readonly byIp = new Map<string, Set<string>>();

  constructor(private current: readonly Pool[]) {}

  get pools(): readonly Pool[] {
    return this.current;
  }

  /**
   * The pools changed (an IPAddressPool added, edited or removed). What is allocated
   * stays until its owner's next allocate(), which keeps it if it still fits and moves
   * it otherwise; the caller reconciles every owner so that happens promptly.
   */
  setPools(pools: readonly Pool[]): void {
    this.current = pools;
  }

  get(uid: string): Allocation | undefined {
    return this.byOwner.get(uid);
  }

  all(): Allocation[] {
    return [...this.byOwner.values()];
  }

  /** Who holds `ip` (several when shared). */
  holders(ip: string): Allocation[] {
    return [...(this.byIp.get(ip) ?? [])].flatMap((uid) => this.byOwner.get(uid) ?? []);
  }

  /**
   * Gives the request its addresses, keeping what the owner holds when that still
   * fits. With `dryRun` the state is left as it was (plan).
   */
  allocate(req: AllocationRequest, opts: { dryRun?: boolean } = {}): AllocateOutcome {
    const current = this.byOwner.get(req.owner.uid);
    const families = [...new Set(req.families)];
    if (families.length === 0) return { ok: false, kind: 'invalid', message: 'the Service has no IP family' };
    const pick = req.requested && req.requested.value.length > 0 ? this.forRequest(req, families) : this.forAuto(req, families, current);
    if (!pick.ok) return pick;
    const allocation: Allocation = {
      owner: req.owner,
      ips: pick.ips,
      pool: pick.pool,
      ...(req.sharingKey ? { sharingKey: req.sharingKey.value } : {}),
      ports: [...req.ports].sort((a, b) => a.port - b.port || (a.protocol < b.protocol ? -1 : a.protocol > b.protocol ? 1 : 0)),
      backend: req.backend,
      requested: pick.requested,
    };
    const changed = !current || current.pool !== allocation.pool || current.ips.join() !== allocation.ips.join();
    if (!opts.dryRun) this.commit(allocation);
    return { ok: true, allocation, changed };
  }

  /** Frees whatever `uid` holds; true when it held something. */
  release(uid: string): boolean {
    const a = this.byOwner.get(uid);
    if (!a) return false;
    this.byOwner.delete(uid);
    for (const ip of a.ips) {
      const set = this.byIp.get(ip);
      set?.delete(uid);
      if (set?.size === 0) this.byIp.delete(ip);
    }
    return true;
  }

  /**
   * Loads what the Services' statuses say they hold, oldest first. An entry that
   * cannot hold its addresses next to an older one is reported, not loaded.
   */
  restore(entries: readonly RestoreEntry[]): RestoreReport {
    const restored: Allocation[] = [];
    const conflicts: RestoreConflict[] = [];
    const outsidePools: { owner: Owner; ips: readonly string[]; reason: string }[] = [];
    for (const e of [...entries].sort((a, b) => byAge(a.owner, b.owner))) {
      if (e.ips.length === 0) continue;
      const pools = e.ips.map((ip) => poolOf(this.pools, ip));
      const pool = pools[0];
      const are = e.ips.length === 1 ? 'is' : 'are';
      if (!pool || pools.some((p) => p !== pool)) {
        outsidePools.push({ owner: e.owner, ips: e.ips, reason: `${e.ips.join(', ')} ${are} in no address pool` });
        continue;
      }
      const buggy = pool.avoidBuggyIPs ? e.ips.find((ip) => isBuggyIpText(ip)) : undefined;
      if (buggy !== undefined) {
        outsidePools.push({ owner: e.owner, ips: e.ips, reason: `${buggy} ends in .0 or .255, which pool "${pool.name}" avoids (avoidBuggyIPs)` });
        continue;
      }
      const notServed = notServedReason(pool, e.subject);
      if (notServed !== undefined) {
        outsidePools.push({ owner: e.owner, ips: e.ips, reason: notServed });
        continue;
      }
      const req = {
        owner: e.owner,
        ports: e.ports,
        backend: e.backend,
        ...(e.sharingKey !== undefined ? { sharingKey: { value: e.sharingKey, source: 'allow-shared-ip' } } : {}),
      };
      const clash = e.ips.map((ip) => this.sharingProblem(ip, req)).find((m) => m !== undefined);
      if (clash !== undefined) {
        conflicts.push({ owner: e.owner, ips: e.ips, message: `${e.owner.name} claims ${e.ips.join(', ')} in its status, but ${clash}` });
        continue;
      }
      const allocation: Allocation = {
        owner: e.owner,
        ips: e.ips,
        pool: pool.name,
        ...(e.sharingKey !== undefined ? { sharingKey: e.sharingKey } : {}),
        ports: e.ports,
        backend: e.backend,
        requested: e.requested,
      };
      this.commit(allocation);
      restored.push(allocation);
    }
    return { restored, conflicts, outsidePools };
  }

  // ---- choosing ---------------------------------------------------------------------

  private forRequest(req: AllocationRequest, families: readonly IpFamilyNumber[]): Chosen | Failure {
    const requested = req.requested as Sourced<readonly string[]>;
    const src = requested.source;
    const ips = [...requested.value];
    const pools: Pool[] = [];
    for (const ip of ips) {
      const pool = poolOf(this.pools, ip);
      if (!pool) {
        const known = this.pools.map((p) => `${p.name} (${p.ranges.map((r) => r.text).join(', ')})`).join('; ');
        return fail('invalid', `${ip} (${src}) is not in any address pool; pools: ${known}`);
      }
      if (pool.avoidBuggyIPs && isBuggyIpText(ip)) {
        return fail('invalid', `${ip} (${src}) ends in .0 or .255, which pool "${pool.name}" avoids (avoidBuggyIPs)`);
      }
      if (req.pool && req.pool.value !== pool.name) {
        return fail('invalid', `${ip} (${src}) is in pool "${pool.name}", not in pool "${req.pool.value}" named by ${req.pool.source}`);
      }
      const notServed = notServedReason(pool, req.subject);
      if (notServed !== undefined) return fail('invalid', `${ip} (${src}) is in ${notServed}`);
      pools.push(pool);
    }
    const pool = pools[0] as Pool;
    const other = pools.find((p) => p !== pool);
    if (other) return fail('invalid', `${ips.join(', ')} (${src}) come from two pools ("${pool.name}" and "${other.name}"); a Service's addresses must share one pool`);
    const have = ips.map((ip) => familyOf(ip) as IpFamilyNumber);
    const missing = families.filter((f) => !have.includes(f));
    const extra = have.filter((f) => !families.includes(f));
    if (missing.length > 0 || extra.length > 0) {
      return fail(
        'invalid',
        `${src} asks for ${have.map(familyName).join(' and ')} but the Service's ipFamilies are ${families.map(familyName).join(', ')}`,
      );
    }
    for (const ip of ips) {
      const problem = this.sharingProblem(ip, req);
      if (problem !== undefined) return fail('conflict', `${ip} (${src}) ${problem}`);
    }
    const ordered = families.map((f) => ips[have.indexOf(f)] as string);
    return { ok: true, ips: ordered, pool: pool.name, requested: true };
  }

  private forAuto(req: AllocationRequest, families: readonly IpFamilyNumber[], current: Allocation | undefined): Chosen | Failure {
    if (current && this.stillFits(current, req, families)) {
      const ordered = families.map((f) => current.ips.find((ip) => familyOf(ip) === f) as string);
      return { ok: true, ips: ordered, pool: current.pool, requested: false };
    }
    let candidates: Pool[];
    if (req.pool) {
      const p = this.pools.find((x) => x.name === req.pool?.value);
      if (!p) return fail('invalid', `pool "${req.pool.value}" (${req.pool.source}) is not configured (pools: ${this.pools.map((x) => x.name).join(', ') || 'none'})`);
      const notServed = notServedReason(p, req.subject);
      if (notServed !== undefined) return fail('invalid', `${notServed}; named by ${req.pool.source}`);
      candidates = [p];
    } else {
      candidates = autoAssignOrder(this.pools, req.subject);
      if (candidates.length === 0) {
        const auto = this.pools.filter((p) => p.autoAssign);
        return fail(
          'invalid',
          auto.length === 0
            ? `no address pool has autoAssign enabled (pools: ${this.pools.map((p) => p.name).join(', ') || 'none'}); name a pool with lbc.dev/address-pool or request an address`
            : `no autoAssign pool serves this Service: ${auto.map((p) => notServedReason(p, req.subject)).join('; ')}`,
        );
      }
    }
    const withFamilies = candidates.filter((p) => families.every((f) => p.ranges.some((r) => r.family === f)));
    if (withFamilies.length === 0) {
      const what = families.map(familyName).join(' and ');
      return fail(
        'invalid',
        req.pool
          ? `pool "${req.pool.value}" (${req.pool.source}) has no ${what} addresses${families.length > 1 ? ' (a dual-stack Service needs both from one pool)' : ''}`
          : `no address pool with autoAssign has ${what} addresses${families.length > 1 ? ' together (a dual-stack Service needs both from one pool)' : ''}`,
      );
    }
    for (const pool of withFamilies) {
      const ips: string[] = [];
      for (const f of families) {
        const ip = this.firstUsable(pool, f, req);
        if (ip === undefined) break;
        ips.push(ip);
      }
      if (ips.length === families.length) return { ok: true, ips, pool: pool.name, requested: false };
    }
    const names = withFamilies.map((p) => `"${p.name}"`).join(', ');
    return fail(
      'quota',
      `${withFamilies.length === 1 ? `pool ${names} has` : `pools ${names} have`} no free ${families.map(familyName).join(' and ')} address${req.sharingKey ? ` (nor one this Service may share under key "${req.sharingKey.value}")` : ''}`,
    );
  }

  private stillFits(current: Allocation, req: AllocationRequest, families: readonly IpFamilyNumber[]): boolean {
    if (req.pool && req.pool.value !== current.pool) return false;
    const pool = this.pools.find((p) => p.name === current.pool);
    if (!pool || !poolServes(pool, req.subject)) return false;
    const have = current.ips.map(familyOf);
    if (have.length !== families.length || !families.every((f) => have.includes(f))) return false;
    return current.ips.every((ip) => poolOf(this.pools, ip) === pool && !(pool.avoidBuggyIPs && isBuggyIpText(ip)) && this.sharingProblem(ip, req) === undefined);
  }

  /** The lowest address of `family` in `pool` that is free or that the request may share. */
  private firstUsable(pool: Pool, family: IpFamilyNumber, req: AllocationRequest): string | undefined {
    for (const r of pool.ranges) {
      if (r.family !== family) continue;
      // Each step either returns or passes an address someone holds (or a skipped
      // buggy one), so the walk is bounded by what is allocated, not by the range size.
      for (let v = r.first; v <= r.last; v++) {
        if (pool.avoidBuggyIPs && isBuggyIp(family, v)) continue;
        const ip = bigIntToIp(family, v);
        if (this.sharingProblem(ip, req) === undefined) return ip;
      }
    }
    return undefined;
  }

  /** Why `req`'s owner may not hold `ip` next to its other holders; undefined when it may. */
  private sharingProblem(ip: string, req: Pick<AllocationRequest, 'owner' | 'sharingKey' | 'ports' | 'backend'>): string | undefined {
    const others = this.holders(ip).filter((h) => h.owner.uid !== req.owner.uid);
    for (const h of others) {
      const who = `Service ${h.owner.name}`;
      if (h.sharingKey === undefined) return `is in use by ${who}, which does not allow sharing`;
      if (!req.sharingKey) return `is in use by ${who} (sharing key "${h.sharingKey}"); to share it set allow-shared-ip to the same key`;
      if (req.sharingKey.value !== h.sharingKey) {
        return `is in use by ${who} with sharing key "${h.sharingKey}", not "${req.sharingKey.value}" (${req.sharingKey.source})`;
      }
      if (req.backend.policy !== h.backend.policy) {
        return `is shared with ${who}, whose externalTrafficPolicy is ${h.backend.policy}, not ${req.backend.policy}`;
      }
      if (req.backend.policy === 'Local' && req.backend.selector !== h.backend.selector) {
        return `is shared with ${who}, whose selector {${h.backend.selector}} differs from {${req.backend.selector}} (externalTrafficPolicy Local needs the same pods)`;
      }
      const clash = req.ports.find((p) => h.ports.some((q) => q.protocol === p.protocol && q.port === p.port));
      if (clash) return `is shared with ${who}, which already uses port ${portText(clash)}`;
    }
    return undefined;
  }

  private commit(a: Allocation): void {
    this.release(a.owner.uid);
    this.byOwner.set(a.owner.uid, a);
    for (const ip of a.ips) {
      let set = this.byIp.get(ip);
      if (!set) this.byIp.set(ip, (set = new Set()));
      set.add(a.owner.uid);
    }
  }
}

interface Chosen {
  readonly ok: true;
  readonly ips: readonly string[];
  readonly pool: string;
  readonly requested: boolean;
}

interface Failure {
  readonly ok: false;
  readonly kind: AllocationErrorKind;
  readonly message: string;
}

const fail = (kind: AllocationErrorKind, message: string): Failure => ({ ok: false, kind, message });

/**
 * The pools a Service that names none may get addresses from, in the order they are
 * tried: autoAssign pools whose serviceAllocation takes it, by priority (a lower number
 * first, unset after every set one, ties in pool order), then autoAssign pools with no
 * serviceAllocation, in pool order. MetalLB's Allocate, pinnedPoolsForService and
 * sortPools (internal/allocator/allocator.go).
 */
export function autoAssignOrder(pools: readonly Pool[], subject: ServiceSubject): Pool[] {
  const rank = (p: Pool): number => (p.serviceAllocation?.priority ? p.serviceAllocation.priority : Number.POSITIVE_INFINITY);
  const pinned = pools.filter((p) => p.autoAssign && p.serviceAllocation && poolServes(p, subject));
  // Array.prototype.sort is stable, so equal priorities keep pool order.
  pinned.sort((a, b) => (rank(a) === rank(b) ? 0 : rank(a) < rank(b) ? -1 : 1));
  return [...pinned, ...pools.filter((p) => p.autoAssign && !p.serviceAllocation)];
}

function isBuggyIpText(ip: string): boolean {
  const v = ipToBigInt(ip);
  return v !== undefined && isBuggyIp(v.family, v.value);
}
