// One target set at run time: its targets in rotation, their health checks and the
// client affinity over them. Listeners look it up by name on every new connection, so
// an ensure that changes targets changes them here, in place, without touching sockets.
import { canonicalJson } from '../../model/canonical.js';
import type { NodeTarget, SessionAffinity, TargetSet } from '../../model/spec.js';
import { ClientIpAffinity } from './affinity.js';
import { Balancer, type Target } from './balancer.js';
import { hostPort } from './bind.js';
import { HealthChecker, type Prober } from './health.js';

/** kube-proxy, and so a cloud LB, reaches a node on its InternalIP; ExternalIP is the fallback. */
function nodeAddress(n: NodeTarget): string | undefined {
  const pick = (type: string): string | undefined => n.addresses.find((a) => a.type === type)?.address;
  return pick('InternalIP') ?? pick('ExternalIP');
}

export function targetsOf(ts: TargetSet): Target[] {
  if (ts.type === 'ip') {
    return ts.targets.map((t) => ({ key: hostPort(t.ip, t.port), host: t.ip, port: t.port, label: t.nodeName ? `${t.ip} on ${t.nodeName}` : t.ip }));
  }
  return ts.targets.flatMap((n) => {
    const host = nodeAddress(n);
    return host === undefined ? [] : [{ key: hostPort(host, ts.nodePort), host, port: ts.nodePort, label: n.name }];
  });
}

/**
 * A TCP check on the traffic port of a UDP target set would fail on every healthy UDP
 * server; such targets stay `unknown` (and in rotation) unless the check names a port.
 */
function probeable(ts: TargetSet): boolean {
  return !(ts.protocol === 'UDP' && ts.healthCheck.protocol === 'TCP' && ts.healthCheck.port === 'traffic-port');
}

export interface TargetSetOptions {
  readonly healthChecks: boolean;
  readonly prober?: Prober;
}

export class TargetSetRuntime {
  readonly balancer = new Balancer();
  private health: HealthChecker | undefined;
  private affinity: ClientIpAffinity | undefined;
  private readonly healthWatchers = new Set<() => void>();

  constructor(
    private current: TargetSet,
    private readonly opts: TargetSetOptions,
    affinity: SessionAffinity = { type: 'None' },
  ) {
    this.setAffinity(affinity);
    this.update(current);
  }

  get spec(): TargetSet {
    return this.current;
  }

  update(spec: TargetSet): void {
    const checkChanged = canonicalJson(spec.healthCheck) !== canonicalJson(this.current.healthCheck) || spec.protocol !== this.current.protocol;
    this.current = spec;
    const targets = targetsOf(spec);
    this.balancer.setTargets(targets);
    if (checkChanged || (this.health === undefined && this.wantsHealth())) {
      // A different check starts every target over as unknown, rather than judging it by another check's results.
      this.health?.close();
      this.health = undefined;
      for (const t of targets) this.balancer.setHealth(t.key, 'unknown');
      if (this.wantsHealth()) {
        const check = spec.healthCheck;
        this.health = new HealthChecker({
          check,
          portOf: (t) => (check.port === 'traffic-port' ? t.port : check.port),
          onChange: (key, h) => {
            this.balancer.setHealth(key, h);
            for (const w of this.healthWatchers) w();
          },
          ...(this.opts.prober ? { prober: this.opts.prober } : {}),
        });
      }
    }
    this.health?.setTargets(targets);
  }

  /** Calls fn whenever a health check moves a target up or down (not on update(): its caller knows). */
  onHealthChange(fn: () => void): void {
    this.healthWatchers.add(fn);
  }

  private wantsHealth(): boolean {
    return this.opts.healthChecks && probeable(this.current);
  }

  setAffinity(a: SessionAffinity): void {
    if (a.type === 'None') this.affinity = undefined;
    else if (this.affinity) this.affinity.setTimeout(a.timeoutSeconds * 1000);
    else this.affinity = new ClientIpAffinity(a.timeoutSeconds * 1000);
  }

  /** The target for a new connection (or UDP session) from clientIp, skipping targets that just refused. */
  choose(clientIp: string, exclude?: ReadonlySet<string>): Target | undefined {
    const sticky = this.affinity?.lookup(clientIp);
    if (sticky !== undefined && !exclude?.has(sticky) && this.balancer.isEligible(sticky)) {
      const t = this.balancer.find(sticky);
      if (t) {
        this.affinity?.touch(clientIp, t.key);
        return t;
      }
    }
    const t = this.balancer.pick(exclude);
    if (t) this.affinity?.remember(clientIp, t.key);
    return t;
  }

  /** Counts a connection to target; call the result when it ends. */
  connected(clientIp: string, target: Target): () => void {
    const release = this.balancer.acquire(target.key);
    return () => {
      release();
      this.affinity?.touch(clientIp, target.key);
    };
  }

  /** Activity on an open session (a UDP datagram) keeps its affinity alive. */
  touch(clientIp: string, target: Target): void {
    this.affinity?.touch(clientIp, target.key);
  }

  inspect(): { key: string; label: string; health: string; active: number }[] {
    return this.balancer.targets.map((t) => ({
      key: t.key,
      label: t.label,
      health: this.balancer.healthOf(t.key) ?? 'unknown',
      active: this.balancer.activeOf(t.key),
    }));
  }

  close(): void {
    this.healthWatchers.clear();
    this.health?.close();
    this.health = undefined;
  }
}
