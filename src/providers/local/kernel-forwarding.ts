// TCP listeners forwarded by the kernel. A user-space proxy reads and writes every byte,
// which on a small machine costs about what the client and the backend cost together;
// kube-proxy and IPVS avoid that by having the kernel rewrite the destination of each new
// connection (DNAT) and conntrack carry the rest. Here lbc does the same with one
// nftables table of its own:
//
//   chain output (nat, locally originated) --ip daddr . tcp dport--> vmap @listeners
//     -> chain lN:   sources outside sourceRanges: return; ClientIP affinity sets first;
//                    then numgen inc (round robin) over the eligible targets
//     -> chain lN_tK: refresh the client's affinity entry, dnat to the target
//
// lbc keeps its own listening socket on every address:port: it holds the port, turns a
// port in use into a Warning as before, and serves whatever the kernel leaves to it:
// sources outside sourceRanges (the proxy refuses them), a listener with no eligible
// target (the proxy resets), connections from other hosts (only the output hook is
// programmed: forwarding them would also need masquerade), and everything once nft
// fails (the table is removed, so no stale rule outlives the state it described).
//
// Differences from the proxy, all as with kube-proxy: a target that refuses is not
// retried on another (health checks take it out of rotation); open connections of a
// removed listener carry on until they end instead of being cut after drainTimeoutMs;
// affinity counts new connections only. UDP stays in user space: conntrack would keep
// sending a client's datagrams to a target that left until the entry times out.
import { canonicalJson } from '../../model/canonical.js';
import { NftError, runNft, type NftRunner } from './nft.js';

export interface KernelTarget {
  readonly key: string;
  readonly host: string;
  readonly port: number;
}

/** One TCP listener as the kernel should forward it. */
export interface KernelRoute {
  readonly address: string;
  readonly port: number;
  readonly sourceRanges: readonly string[];
  /** sessionAffinity ClientIP's timeout; absent: no affinity. */
  readonly affinitySeconds?: number;
  /** The targets that may take new connections, in rotation order. */
  readonly targets: readonly KernelTarget[];
}

/** What is programmed for one listener, so the next change knows what to replace. */
export interface ListenerProgram {
  readonly route: KernelRoute;
  readonly chain: string;
  readonly dispatchKey: string;
  readonly targetChains: ReadonlyMap<string, string>;
  readonly sets: readonly string[];
}

const SET_SIZE = 65_536;

/** nftables names allow letters, digits and underscores here; anything else becomes `_`. */
export function tableName(provider: string, clusterName: string, pool: string): string {
  return `lbc_${provider}_${clusterName}_${pool}`.replace(/[^A-Za-z0-9_]/g, '_').slice(0, 200);
}

/** Creates the table afresh: a table left by an earlier run of the same provider goes first. */
export function baseScript(table: string): string {
  // `ct state new` is also what keeps connections alive: the kernel tracks connections
  // only while some rule uses conntrack, and a nat chain alone does not count. Without it,
  // removing a listener's last dnat rule would stop the translation of its open
  // connections (seen on Linux 6.18: they are reset), where they should drain.
  return [
    `table ip ${table}`,
    `delete table ip ${table}`,
    `table ip ${table} {`,
    `  map listeners { type ipv4_addr . inet_service : verdict; }`,
    `  chain output { type nat hook output priority -100; policy accept; ip protocol tcp ct state new ip daddr . tcp dport vmap @listeners; }`,
    `}`,
    '',
  ].join('\n');
}

/**
 * The nft commands that take one listener from `prev` to `route` (undefined: remove it),
 * and what is programmed afterwards. Pure, so the rules can be read and tested without
 * privileges. `indexOf` names targets stably, so a target that stays keeps its affinity set.
 */
export function programListener(
  table: string,
  chain: string,
  prev: ListenerProgram | undefined,
  route: KernelRoute | undefined,
  indexOf: (key: string) => number,
): { script: string[]; next: ListenerProgram | undefined } {
  const t = `ip ${table}`;
  const script: string[] = [];
  const dispatchKey = route ? `${route.address} . ${route.port}` : '';
  if (prev && (!route || prev.dispatchKey !== dispatchKey)) script.push(`delete element ${t} listeners { ${prev.dispatchKey} }`);
  if (prev) {
    script.push(`flush chain ${t} ${prev.chain}`);
    for (const c of prev.targetChains.values()) script.push(`flush chain ${t} ${c}`);
  }
  if (!route) {
    if (prev) {
      for (const c of prev.targetChains.values()) script.push(`delete chain ${t} ${c}`);
      script.push(`delete chain ${t} ${prev.chain}`);
      for (const s of prev.sets) script.push(`delete set ${t} ${s}`);
    }
    return { script, next: undefined };
  }

  const affinity = route.affinitySeconds;
  const targetChains = new Map<string, string>();
  const setOf = new Map<string, string>();
  for (const target of route.targets) {
    const n = indexOf(target.key);
    targetChains.set(target.key, `${chain}_t${n}`);
    // The timeout is part of the name: nft cannot change a set's timeout in place.
    if (affinity !== undefined) setOf.set(target.key, `${chain}_a${n}_${affinity}`);
  }
  const sets = [...setOf.values()];
  const keptChains = new Set(targetChains.values());
  const keptSets = new Set(sets);
  if (prev) {
    for (const c of prev.targetChains.values()) if (!keptChains.has(c)) script.push(`delete chain ${t} ${c}`);
    for (const s of prev.sets) if (!keptSets.has(s)) script.push(`delete set ${t} ${s}`);
  } else {
    script.push(`add chain ${t} ${chain}`);
  }
  for (const s of sets) script.push(`add set ${t} ${s} { type ipv4_addr; flags dynamic,timeout; timeout ${affinity}s; size ${SET_SIZE}; }`);
  for (const target of route.targets) {
    const c = targetChains.get(target.key)!;
    script.push(`add chain ${t} ${c}`);
    const set = setOf.get(target.key);
    if (set) script.push(`add rule ${t} ${c} update @${set} { ip saddr }`);
    script.push(`add rule ${t} ${c} meta l4proto tcp dnat ip to ${target.host}:${target.port}`);
  }

  if (route.sourceRanges.length > 0) {
    // An IPv6 range cannot match a client of an IPv4 address; with none left, every client is outside.
    const v4 = route.sourceRanges.filter((r) => !r.includes(':'));
    script.push(v4.length > 0 ? `add rule ${t} ${chain} ip saddr != { ${v4.join(', ')} } return` : `add rule ${t} ${chain} return`);
  }
  if (route.targets.length > 0) {
    for (const target of route.targets) {
      const set = setOf.get(target.key);
      if (set) script.push(`add rule ${t} ${chain} ip saddr @${set} goto ${targetChains.get(target.key)!}`);
    }
    const arms = route.targets.map((target, i) => `${i} : goto ${targetChains.get(target.key)!}`);
    script.push(`add rule ${t} ${chain} numgen inc mod ${route.targets.length} vmap { ${arms.join(', ')} }`);
  }
  if (!prev || prev.dispatchKey !== dispatchKey) script.push(`add element ${t} listeners { ${dispatchKey} : goto ${chain} }`);
  return { script, next: { route, chain, dispatchKey, targetChains, sets } };
}

interface TargetNames {
  next: number;
  readonly keys: Map<string, number>;
}

export interface KernelForwardingInit {
  readonly run?: NftRunner;
  /** Called once when a change could not be applied and the kernel path was switched off. */
  readonly onDisabled: (reason: string) => void;
}

export class KernelForwarding {
  private readonly programs = new Map<string, ListenerProgram>();
  private readonly names = new Map<string, TargetNames>();
  private readonly pending = new Map<string, KernelRoute | undefined>();
  private tail: Promise<void> = Promise.resolve();
  private chains = 0;
  private disabled: string | undefined;

  private constructor(
    readonly table: string,
    private readonly run: NftRunner,
    private readonly onDisabled: (reason: string) => void,
  ) {}

  /** Creates lbc's table (replacing one an earlier run left); rejects with NftError when nft is missing or not permitted. */
  static async open(table: string, init: KernelForwardingInit): Promise<KernelForwarding> {
    const run = init.run ?? runNft;
    await run(baseScript(table));
    return new KernelForwarding(table, run, init.onDisabled);
  }

  /** Why the kernel path is off, once it is. */
  get disabledReason(): string | undefined {
    return this.disabled;
  }

  /** Whether new connections to this listener from this host are forwarded by the kernel now. */
  forwards(id: string): boolean {
    return this.disabled === undefined && this.programs.has(id) && !this.pending.has(id);
  }

  /**
   * Programs (or, with undefined, removes) one listener. Changes made while nft runs are
   * applied together in the next run; the promise settles once this one has landed.
   */
  set(id: string, route: KernelRoute | undefined): Promise<void> {
    this.pending.set(id, route);
    this.tail = this.tail.then(() => this.flush());
    return this.tail;
  }

  /** Resolves once every change asked for so far has landed (or switched the kernel path off). */
  settled(): Promise<void> {
    return this.tail;
  }

  /** Removes the table. Connections already forwarded carry on: conntrack holds their translation. */
  async close(): Promise<void> {
    this.pending.clear();
    await this.tail;
    if (this.disabled !== undefined) return;
    this.disabled = 'closed';
    this.programs.clear();
    await this.run(`delete table ip ${this.table}\n`).catch(() => undefined);
  }

  private indexOf(id: string, key: string): number {
    let names = this.names.get(id);
    if (!names) this.names.set(id, (names = { next: 0, keys: new Map() }));
    let n = names.keys.get(key);
    if (n === undefined) names.keys.set(key, (n = names.next++));
    return n;
  }

  private async flush(): Promise<void> {
    if (this.pending.size === 0) return;
    const batch = [...this.pending];
    this.pending.clear();
    if (this.disabled !== undefined) return;
    const script: string[] = [];
    const nexts = new Map<string, ListenerProgram | undefined>();
    for (const [id, route] of batch) {
      const prev = this.programs.get(id);
      // Rebuilding the chain restarts its round robin: a health change that changed nothing must not.
      if ((!prev && !route) || (prev && route && canonicalJson(prev.route) === canonicalJson(route))) continue;
      const chain = prev?.chain ?? `l${++this.chains}`;
      const r = programListener(this.table, chain, prev, route, (key) => this.indexOf(id, key));
      script.push(...r.script);
      nexts.set(id, r.next);
      // Forget names of targets that left, so a later return starts with a fresh affinity set.
      const names = this.names.get(id);
      if (names) for (const key of [...names.keys.keys()]) if (!route?.targets.some((x) => x.key === key)) names.keys.delete(key);
    }
    if (script.length === 0) return;
    try {
      await this.run(`${script.join('\n')}\n`);
    } catch (e) {
      await this.disable(e instanceof NftError ? e.message : String(e));
      return;
    }
    for (const [id, next] of nexts) {
      if (next) this.programs.set(id, next);
      else {
        this.programs.delete(id);
        this.names.delete(id);
      }
    }
  }

  /** A change that did not land leaves rules that may be stale: remove them all and let the proxy serve. */
  private async disable(reason: string): Promise<void> {
    this.disabled = reason;
    this.programs.clear();
    let removed = true;
    await this.run(`delete table ip ${this.table}\n`).catch(() => (removed = false));
    this.onDisabled(
      removed
        ? `${reason}; kernel forwarding is off, TCP listeners are proxied in user space`
        : `${reason}; and table ip ${this.table} could not be removed: delete it by hand (nft delete table ip ${this.table}) or its rules keep forwarding`,
    );
  }
}
