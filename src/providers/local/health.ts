// Active health checks for one target set, as its spec says: TCP connect, or an HTTP(S)
// GET whose status must be 200-399 (what AWS and GCE accept by default for a redirecting
// app, and what kube-proxy's healthz answers when it has local endpoints).
//
// A target starts `unknown` and takes traffic (see balancer.ts). It turns unhealthy after
// unhealthyThreshold failures in a row and healthy again after healthyThreshold
// successes in a row; its first success makes an unknown target healthy at once, since
// nothing about its traffic changes. Each target is probed on its own chain of timers
// (the next probe is scheduled when the previous one ends, so slow probes never pile up);
// close() cancels the timers and aborts probes in flight.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import type { HealthCheck } from '../../model/spec.js';
import type { Health, Target } from './balancer.js';

export interface ProbeState {
  readonly health: Health;
  readonly oks: number;
  readonly fails: number;
}

export const INITIAL_PROBE_STATE: ProbeState = { health: 'unknown', oks: 0, fails: 0 };

/** The state after one probe result. */
export function nextProbeState(s: ProbeState, ok: boolean, t: { healthyThreshold: number; unhealthyThreshold: number }): ProbeState {
  if (ok) {
    const oks = s.oks + 1;
    const health: Health = s.health === 'unknown' || oks >= t.healthyThreshold ? 'healthy' : s.health;
    return { health, oks, fails: 0 };
  }
  const fails = s.fails + 1;
  return { health: fails >= t.unhealthyThreshold ? 'unhealthy' : s.health, oks: 0, fails };
}

export type Prober = (host: string, port: number, timeoutMs: number, signal: AbortSignal) => Promise<boolean>;

export const tcpProbe: Prober = (host, port, timeoutMs, signal) =>
  new Promise<boolean>((resolve) => {
    const socket = connect({ host, port });
    let settled = false;
    const finish = (ok: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      socket.destroy();
      resolve(ok);
    };
    const onAbort = (): void => finish(false);
    const timer = setTimeout(() => finish(false), timeoutMs);
    signal.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => finish(true));
    socket.once('error', () => finish(false));
  });

export function httpProbe(path: string, tls: boolean): Prober {
  return (host, port, timeoutMs, signal) =>
    new Promise<boolean>((resolve) => {
      let settled = false;
      const controller = new AbortController();
      const finish = (ok: boolean): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        controller.abort();
        resolve(ok);
      };
      const onAbort = (): void => finish(false);
      const timer = setTimeout(() => finish(false), timeoutMs);
      signal.addEventListener('abort', onAbort, { once: true });
      const opts = {
        host,
        port,
        path,
        method: 'GET',
        agent: false as const,
        signal: controller.signal,
        headers: { 'user-agent': 'lbc-local-health-check', connection: 'close' },
      };
      const req = tls ? httpsRequest({ ...opts, rejectUnauthorized: false }) : httpRequest(opts);
      req.once('response', (res) => {
        res.resume();
        const code = res.statusCode ?? 0;
        finish(code >= 200 && code < 400);
      });
      req.once('error', () => finish(false));
      req.end();
    });
}

export function proberFor(check: HealthCheck): Prober {
  return check.protocol === 'TCP' ? tcpProbe : httpProbe(check.path, check.protocol === 'HTTPS');
}

interface Probed {
  readonly target: Target;
  state: ProbeState;
  timer?: NodeJS.Timeout;
  abort: AbortController;
}

export interface HealthCheckerInit {
  readonly check: HealthCheck;
  /** The port to probe on a target ('traffic-port' resolves to the target's own port). */
  readonly portOf: (t: Target) => number;
  readonly onChange: (key: string, health: Health) => void;
  readonly prober?: Prober;
}

export class HealthChecker {
  readonly check: HealthCheck;
  private readonly probed = new Map<string, Probed>();
  private readonly prober: Prober;
  private closed = false;

  constructor(private readonly init: HealthCheckerInit) {
    this.check = init.check;
    this.prober = init.prober ?? proberFor(init.check);
  }

  private get intervalMs(): number {
    return Math.max(10, Math.round(this.check.intervalSeconds * 1000));
  }

  private get timeoutMs(): number {
    return Math.max(10, Math.round(this.check.timeoutSeconds * 1000));
  }

  setTargets(targets: readonly Target[]): void {
    if (this.closed) return;
    const keep = new Set(targets.map((t) => t.key));
    for (const [key, p] of this.probed) {
      if (!keep.has(key)) {
        this.stop(p);
        this.probed.delete(key);
      }
    }
    for (const t of targets) {
      if (this.probed.has(t.key)) continue;
      const p: Probed = { target: t, state: INITIAL_PROBE_STATE, abort: new AbortController() };
      this.probed.set(t.key, p);
      this.schedule(p, 0);
    }
  }

  stateOf(key: string): ProbeState | undefined {
    return this.probed.get(key)?.state;
  }

  close(): void {
    this.closed = true;
    for (const p of this.probed.values()) this.stop(p);
    this.probed.clear();
  }

  private stop(p: Probed): void {
    clearTimeout(p.timer);
    p.abort.abort();
  }

  private schedule(p: Probed, delayMs: number): void {
    p.timer = setTimeout(() => void this.run(p), delayMs);
    p.timer.unref();
  }

  private async run(p: Probed): Promise<void> {
    const ok = await this.prober(p.target.host, this.init.portOf(p.target), this.timeoutMs, p.abort.signal);
    if (this.closed || p.abort.signal.aborted || this.probed.get(p.target.key) !== p) return;
    const before = p.state.health;
    p.state = nextProbeState(p.state, ok, this.check);
    if (p.state.health !== before) this.init.onChange(p.target.key, p.state.health);
    this.schedule(p, this.intervalMs);
  }
}
