// What this node announces, and on which interfaces: the decision (pure, from the
// cluster as the informers see it and the live speakers as the membership sees it)
// and the bookkeeping that turns a change of decision into announce/withdraw calls on
// the responders. Nothing here touches the network, so every rule is a unit test.
import type { V1EndpointSlice, V1Node, V1Service } from '@kubernetes/client-node';
import { nodeExclusion } from '../../../kube/node-eligibility.js';
import { statusAddresses } from '../../../model/allocation.js';
import { anySelectorMatches } from '../node-selector.js';
import { poolOf, type L2Advertisement, type Pool } from '../pools.js';
import { electedFor, rankCandidates } from './election.js';

/** A Service as the speaker needs it. */
export interface ServiceView {
  readonly key: string;
  /** The Service's labels: an L2Advertisement's serviceSelectors match them. */
  readonly labels: Readonly<Record<string, string>>;
  readonly ips: readonly string[];
  readonly local: boolean;
  /** Nodes running at least one ready endpoint. */
  readonly readyNodes: ReadonlySet<string>;
  /** Ready endpoints anywhere (endpoints without a nodeName count here, not in readyNodes). */
  readonly anyReady: boolean;
}

export interface NodeView {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  /** Why the node may not announce at all (excluded, not ready, network unavailable); undefined when it may. */
  readonly unfit?: string;
}

export interface Decision {
  readonly ip: string;
  readonly pool: string;
  readonly services: readonly string[];
  /** The pool's L2Advertisements that apply to these Services; the winner announces as those selecting it say. */
  readonly advertisements: readonly L2Advertisement[];
  /** Live nodes that may announce the address, best first; the first announces. */
  readonly candidates: readonly string[];
  readonly winner?: string;
  /** When nobody may announce: why, for logs. */
  readonly reason?: string;
}

/** The Ready condition True and no NetworkUnavailable, besides upstream's exclusions (label, deletion, autoscaler taint). */
export function nodeView(node: V1Node): NodeView {
  const name = node.metadata?.name ?? '';
  const labels = node.metadata?.labels ?? {};
  const excluded = nodeExclusion(node);
  if (excluded) return { name, labels, unfit: excluded };
  const cond = (type: string) => node.status?.conditions?.find((c) => c.type === type)?.status;
  if (cond('Ready') !== 'True') return { name, labels, unfit: `Ready is ${cond('Ready') ?? 'missing'}` };
  if (cond('NetworkUnavailable') === 'True') return { name, labels, unfit: 'NetworkUnavailable' };
  return { name, labels };
}

export function serviceKey(svc: V1Service): string {
  return `${svc.metadata?.namespace ?? ''}/${svc.metadata?.name ?? ''}`;
}

/** The Service with its ready endpoints, read as kube-proxy reads them (nil ready counts as ready). */
export function serviceView(svc: V1Service, slices: readonly V1EndpointSlice[]): ServiceView {
  const readyNodes = new Set<string>();
  let anyReady = false;
  for (const slice of slices) {
    if (slice.addressType === 'FQDN') continue;
    for (const ep of slice.endpoints ?? []) {
      if (ep.conditions?.ready === false) continue;
      anyReady = true;
      if (ep.nodeName) readyNodes.add(ep.nodeName);
    }
  }
  return { key: serviceKey(svc), labels: svc.metadata?.labels ?? {}, ips: statusAddresses(svc), local: svc.spec?.externalTrafficPolicy === 'Local', readyNodes, anyReady };
}

/**
 * For every announced address of `services`: who may announce it and who does.
 * A node is a candidate when it is live, fit, selected by the node selectors of one of
 * the pool's L2Advertisements that apply to the Service, and (for externalTrafficPolicy
 * Local) runs a ready endpoint; the Service must have a ready endpoint at all. As
 * MetalLB's poolMatchesNodeL2 (speaker/layer2_controller.go): a pool no advertisement
 * selects is not announced. An address shared by several Services is announced when any
 * of them qualifies (sharing requires the same policy and, for Local, the same pods,
 * so they agree anyway).
 */
export function decide(input: {
  readonly pools: readonly Pool[];
  readonly services: readonly ServiceView[];
  readonly nodes: readonly NodeView[];
  readonly live: ReadonlySet<string>;
}): Map<string, Decision> {
  const byIp = new Map<string, { pool: Pool; services: ServiceView[] }>();
  for (const s of input.services) {
    for (const ip of s.ips) {
      const pool = poolOf(input.pools, ip);
      if (!pool) continue; // not ours to announce: another provider's address, or a pool since removed
      const entry = byIp.get(ip) ?? { pool, services: [] };
      entry.services.push(s);
      byIp.set(ip, entry);
    }
  }
  const out = new Map<string, Decision>();
  for (const [ip, { pool, services }] of byIp) {
    const advertisements = pool.l2Advertisements.filter((a) => services.some((s) => anySelectorMatches(a.serviceSelectors, s.labels)));
    const eligible = input.nodes.filter((n) => !n.unfit && input.live.has(n.name) && advertisements.some((a) => anySelectorMatches(a.nodeSelectors, n.labels)));
    const names = new Set<string>();
    for (const s of services) {
      if (!s.anyReady) continue;
      for (const n of eligible) if (!s.local || s.readyNodes.has(n.name)) names.add(n.name);
    }
    const candidates = rankCandidates(ip, names);
    const winner = electedFor(ip, names);
    let reason: string | undefined;
    if (!winner) {
      if (advertisements.length === 0) reason = `no L2Advertisement selects pool ${pool.name}${pool.l2Advertisements.length > 0 ? ' for these Services' : ''}`;
      else if (!services.some((s) => s.anyReady)) reason = 'no ready endpoint';
      else if (eligible.length === 0) reason = `no live node may announce pool ${pool.name}`;
      else reason = 'no live eligible node runs a ready endpoint (externalTrafficPolicy Local)';
    }
    out.set(ip, {
      ip,
      pool: pool.name,
      services: services.map((s) => s.key).sort(),
      advertisements,
      candidates,
      ...(winner ? { winner } : {}),
      ...(reason ? { reason } : {}),
    });
  }
  return out;
}

/**
 * The interfaces `node` announces on by the advertisements that select it: undefined
 * when one of them names none (every interface may; the one whose network holds the
 * address is used), else the union of those named, as MetalLB's ipAdvertisementFor.
 */
export function advertisedInterfaces(advertisements: readonly L2Advertisement[], nodeLabels: Readonly<Record<string, string>>): readonly string[] | undefined {
  const names = new Set<string>();
  for (const a of advertisements) {
    if (!anySelectorMatches(a.nodeSelectors, nodeLabels)) continue;
    if (a.interfaces.length === 0) return undefined;
    for (const i of a.interfaces) names.add(i);
  }
  return [...names];
}

/** The interfaces an address is announced on, from the decision and the host's interfaces. */
export interface Placement {
  readonly ip: string;
  readonly interfaces: readonly string[];
}

/** Where the responders are told to announce and to stop. */
export interface AnnounceSink {
  announce(ip: string, ifname: string): void;
  withdraw(ip: string, ifname: string): void;
}

/**
 * Keeps what is announced in line with what should be, calling the sink only for
 * differences: a withdraw is never repeated, an announce (with its gratuitous ARPs) is
 * made only when an address is new on an interface.
 */
export class Announcements {
  private readonly current = new Map<string, Set<string>>();

  constructor(private readonly sink: AnnounceSink) {}

  /**
   * Applies `wanted` (ip → interfaces); returns what changed. An announce that throws
   * (the interface went away, the socket cannot open) is reported and not recorded, so
   * the next apply tries it again.
   */
  apply(wanted: ReadonlyMap<string, readonly string[]>): { announced: string[]; withdrawn: string[]; failed: { entry: string; error: string }[] } {
    const announced: string[] = [];
    const withdrawn: string[] = [];
    const failed: { entry: string; error: string }[] = [];
    // Withdraw first: an address moving between interfaces must not be answered twice.
    for (const [ip, ifs] of this.current) {
      const keep = new Set(wanted.get(ip) ?? []);
      for (const ifname of [...ifs]) {
        if (keep.has(ifname)) continue;
        this.sink.withdraw(ip, ifname);
        ifs.delete(ifname);
        withdrawn.push(`${ip}@${ifname}`);
      }
      if (ifs.size === 0) this.current.delete(ip);
    }
    for (const [ip, ifs] of wanted) {
      let have = this.current.get(ip);
      for (const ifname of ifs) {
        if (have?.has(ifname)) continue;
        try {
          this.sink.announce(ip, ifname);
        } catch (e) {
          failed.push({ entry: `${ip}@${ifname}`, error: e instanceof Error ? e.message : String(e) });
          continue;
        }
        if (!have) this.current.set(ip, (have = new Set()));
        have.add(ifname);
        announced.push(`${ip}@${ifname}`);
      }
    }
    return { announced, withdrawn, failed };
  }

  /** Withdraws everything (clean shutdown, lost liveness). */
  clear(): string[] {
    return this.apply(new Map()).withdrawn;
  }

  get size(): number {
    return this.current.size;
  }

  snapshot(): Map<string, string[]> {
    return new Map([...this.current].map(([ip, ifs]) => [ip, [...ifs].sort()]));
  }
}

/**
 * Hand-over without overlap. An address this node starts to win while the node that had
 * it is alive (this node just took part: a start, a restart, a rejoin) is still answered
 * by that node until it learns this node is live, which with heartbeats only is up to an
 * interval later: both answer meanwhile (11-132 ms seen). So the incumbent releases
 * first: every peer recomputes, and withdraws what it loses, before it acknowledges a
 * heartbeat (and sends one at once when its live set changes), so once every peer we
 * hear or count live has acknowledged a heartbeat we sent while taking part, nobody who
 * could still be announcing the address without us is left. Which peer was announcing it is not known
 * here (each decides alone), so all of them are waited for; in steady running they all
 * acknowledged long ago and a failover (the winner died) goes ahead at once.
 *
 * The wait is bounded by `maxWaitMs` (deadAfter): a peer we hear that does not hear us
 * counts us live by our Lease (membership.ts), so it is not announcing our addresses,
 * and waiting longer would only leave an address unanswered.
 *
 * MetalLB's layer 2 has no hand-over: every memberlist join or leave forces a resync
 * in which each speaker announces or stops at once (metallb internal/speakerlist/
 * speakerlist.go, memberlistWatchEvents and UsableSpeakers), so a joining node and the
 * old owner answer together until memberlist's gossip reaches the old owner.
 */
export class Handover {
  private readonly since = new Map<string, number>();

  constructor(private readonly maxWaitMs: number) {}

  /**
   * Splits `wanted` into what may be announced now and what is held back. `announced`
   * is what this node announces already (never held back); `unaware` the peers we hear
   * that have not yet acknowledged us taking part.
   */
  gate(
    wanted: ReadonlyMap<string, readonly string[]>,
    announced: ReadonlyMap<string, readonly string[]>,
    unaware: readonly string[],
    now: number,
  ): { now: Map<string, readonly string[]>; held: string[]; expired: string[] } {
    const out = new Map<string, readonly string[]>();
    const held: string[] = [];
    // Announced at the bound with peers still unaware: worth a line, the normal hand-over is not.
    const expired: string[] = [];
    for (const [ip, ifs] of wanted) {
      const since = this.since.get(ip) ?? now;
      if (announced.has(ip) || unaware.length === 0) {
        out.set(ip, ifs);
      } else if (now - since >= this.maxWaitMs) {
        out.set(ip, ifs);
        expired.push(ip);
      } else {
        this.since.set(ip, since);
        held.push(ip);
      }
    }
    for (const ip of this.since.keys()) if (!held.includes(ip)) this.since.delete(ip);
    return { now: out, held, expired };
  }

  /** Whether addresses are held back: the caller re-gates as acknowledgements arrive. */
  get holding(): boolean {
    return this.since.size > 0;
  }
}
