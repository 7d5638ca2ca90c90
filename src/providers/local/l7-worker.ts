// One L7 worker process (see l7-workers.ts): it mirrors the controller's L7 load balancers
// from the state each ensure sends, runs the same HttpProxyListener on the listening
// sockets it is handed, and takes each target's health from the controller's checks
// rather than probing itself.
import { Agent } from 'node:http';
import type { Server as NetServer } from 'node:net';
import type { GatewayPort } from '../../model/gateway.js';
import type { Listener, Rule } from '../../model/spec.js';
import { compileGatewayPort, type GatewayPortState } from './gateway-port.js';
import { H2cSessions, HttpProxyListener } from './http-router.js';
import { gatewayRoute, ingressRoute, liveCertificates, type L7LbView } from './l7-route.js';
import type { FromWorker, L7LbState, ToWorker } from './l7-workers.js';
import { TargetSetRuntime } from './target-set.js';
import { UpstreamPool } from './upstream-http1.js';
import { adoptSessionTicketKeys, CertificateStore } from './tls.js';

interface WorkerListener {
  readonly impl: HttpProxyListener;
  /** Gateway ports: the compiled routing the listener reads. */
  readonly holder?: { state: GatewayPortState };
  /** Ingress HTTPS: the certificates it serves. */
  readonly certs?: CertificateStore;
}

interface WorkerLb extends L7LbView {
  sourceRanges: readonly string[];
  rules: readonly Rule[];
  defaultBackend: string | undefined;
  readonly targetSets: Map<string, TargetSetRuntime>;
  specs: Map<string, { spec: Listener | GatewayPort; gateway: boolean }>;
  readonly listeners: Map<string, WorkerListener>;
}

/** The L7 load balancers of one worker, kept in step with the controller's. */
export class L7WorkerState {
  private readonly lbs = new Map<string, WorkerLb>();
  private readonly drains = new Set<Promise<void>>();

  constructor(private readonly warn: (message: string) => void) {}

  apply(state: L7LbState): void {
    let lb = this.lbs.get(state.key);
    if (!lb) {
      lb = { sourceRanges: [], rules: [], defaultBackend: undefined, targetSets: new Map(), specs: new Map(), listeners: new Map(), agent: new Agent({ keepAlive: true, timeout: 4_000 }), h2c: new H2cSessions(), upstream: new UpstreamPool() };
      this.lbs.set(state.key, lb);
    }
    lb.sourceRanges = state.sourceRanges;
    lb.rules = state.rules;
    lb.defaultBackend = state.defaultBackend;
    for (const ts of state.targetSets) {
      const have = lb.targetSets.get(ts.name);
      if (have) have.update(ts);
      else lb.targetSets.set(ts.name, new TargetSetRuntime(ts, { healthChecks: false }));
    }
    for (const [name, ts] of lb.targetSets) {
      if (state.targetSets.some((t) => t.name === name)) continue;
      ts.close();
      lb.targetSets.delete(name);
    }
    this.setHealth(state.key, state.health);
    lb.specs = new Map(state.listeners.map((l) => [l.id, { spec: l.spec, gateway: l.gateway }]));
    for (const [id, l] of lb.listeners) {
      const want = lb.specs.get(id);
      if (want) this.refresh(lb, l, want.spec, id);
    }
  }

  setHealth(key: string, health: L7LbState['health']): void {
    const lb = this.lbs.get(key);
    if (!lb) return;
    for (const [name, targets] of Object.entries(health)) {
      const ts = lb.targetSets.get(name);
      for (const [target, h] of targets) ts?.balancer.setHealth(target, h);
    }
  }

  private refresh(lb: WorkerLb, l: WorkerListener, spec: Listener | GatewayPort, id: string): void {
    if (l.holder && 'listeners' in spec) {
      const compiled = compileGatewayPort(spec, l.holder.state, (name) => lb.targetSets.get(name));
      l.holder.state = compiled.state;
      if (compiled.state.certs) l.impl.refreshCertificates(compiled.state.certs);
      for (const e of compiled.errors) this.warn(`listener ${id}: ${e}`);
    } else if (l.certs && spec.protocol === 'HTTPS' && 'certificates' in spec) {
      for (const e of l.certs.load(spec.certificates)) this.warn(`listener ${id}: ${e}`);
      l.impl.refreshCertificates(l.certs);
    }
  }

  /** Accepts on a listening socket the controller bound, as the listener its LB's state describes. */
  listen(key: string, id: string, host: string, port: number, handle: NetServer): void {
    const lb = this.lbs.get(key);
    const want = lb?.specs.get(id);
    if (!lb || !want) {
      handle.close();
      this.warn(`listener ${id} of ${key}: handed over before its load balancer's state; not served here`);
      return;
    }
    this.lbs.get(key)?.listeners.get(id)?.impl.abort();
    let l: WorkerListener;
    const spec = want.spec;
    if (want.gateway && 'listeners' in spec) {
      const holder = { state: compileGatewayPort(spec, undefined, (name) => lb.targetSets.get(name)).state };
      const impl = new HttpProxyListener(host, port, gatewayRoute(lb, holder), { http2: true, ...(spec.protocol === 'HTTPS' ? { certs: liveCertificates(holder) } : {}) });
      l = { impl, holder };
    } else if (spec.protocol === 'HTTPS' && 'certificates' in spec) {
      const certs = new CertificateStore();
      for (const e of certs.load(spec.certificates)) this.warn(`listener ${id}: ${e}`);
      l = { impl: new HttpProxyListener(host, port, ingressRoute(lb), { certs }), certs };
    } else {
      l = { impl: new HttpProxyListener(host, port, ingressRoute(lb)) };
    }
    l.impl.adopt(handle);
    lb.listeners.set(id, l);
  }

  close(key: string, id: string, graceMs: number): void {
    const lb = this.lbs.get(key);
    const l = lb?.listeners.get(id);
    if (!lb || !l) return;
    lb.listeners.delete(id);
    this.track(l.impl.close(graceMs));
  }

  remove(key: string, graceMs: number): void {
    const lb = this.lbs.get(key);
    if (!lb) return;
    this.lbs.delete(key);
    const closing = [...lb.listeners.values()].map((l) => l.impl.close(graceMs));
    lb.listeners.clear();
    for (const ts of lb.targetSets.values()) ts.close();
    // In-flight requests still use the agent's sockets: destroy them only once drained.
    this.track(
      Promise.allSettled(closing).then(() => {
        lb.agent.destroy();
        lb.upstream.close();
        lb.h2c.close();
      }),
    );
  }

  private track(p: Promise<unknown>): void {
    const done = p.then(
      () => undefined,
      () => undefined,
    );
    this.drains.add(done);
    void done.then(() => this.drains.delete(done));
  }
}

/** The worker's side of the channel: applies each message in order and acknowledges those the controller waits for. */
export function serveWorker(channel: NodeJS.Process): void {
  const send = (m: FromWorker): void => {
    if (channel.connected) channel.send?.(m);
  };
  const state = new L7WorkerState((message) => send({ type: 'warn', message }));
  channel.on('message', (m: ToWorker, handle: unknown) => {
    try {
      switch (m.type) {
        case 'lb':
          state.apply(m.state);
          break;
        case 'health':
          state.setHealth(m.key, m.health);
          break;
        case 'listen':
          state.listen(m.key, m.id, m.host, m.port, handle as NetServer);
          break;
        case 'close':
          state.close(m.key, m.id, m.graceMs);
          break;
        case 'remove':
          state.remove(m.key, m.graceMs);
          break;
        case 'ping':
          break;
        case 'tickets':
          adoptSessionTicketKeys(Buffer.from(m.keys, 'hex'));
          break;
      }
    } catch (e) {
      send({ type: 'warn', message: `${m.type}: ${e instanceof Error ? e.message : String(e)}` });
    }
    if ('seq' in m) send({ type: 'ack', seq: m.seq });
  });
  // The controller is gone: so are this worker's listeners.
  channel.on('disconnect', () => process.exit(0));
  send({ type: 'ready' });
}

if (process.send && process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/'))) serveWorker(process);
