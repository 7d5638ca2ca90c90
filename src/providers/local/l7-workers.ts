// lbc's L7 listeners on several processes: the controller's process binds every listening
// socket (so a bind error still fails the ensure that asked for it) and serves it, and
// hands a copy of each HTTP/HTTPS socket to `workers - 1` child processes that accept on
// it too; the kernel gives each new connection to whichever process accepts first.
//
// The state a request needs lives where the request is served, so a worker gets, on every
// ensure, each L7 load balancer's routes, target sets and certificates, and every health
// change the controller's checks see; ensure returns only once every running worker has
// applied it, so a request that follows an ensure follows its routes wherever it lands.
// Nothing per-client is kept here: L7 has no ClientIP affinity (Service sessionAffinity is
// L4, and L4 listeners stay in the controller's process, affinity table and all).
// Retired listeners stop accepting everywhere before anything else binds, and their open
// connections drain in each process as they do in the controller's.
import { fork, type ChildProcess } from 'node:child_process';
import type { Server } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { GatewayPort } from '../../model/gateway.js';
import type { Listener, Rule, TargetSet } from '../../model/spec.js';
import type { Logger } from '../../kube/logger.js';
import type { Health } from './balancer.js';
import { sessionTicketKeys } from './tls.js';

/** One L7 load balancer as a worker needs it. */
export interface L7LbState {
  readonly key: string;
  readonly sourceRanges: readonly string[];
  readonly rules: readonly Rule[];
  readonly defaultBackend: string | undefined;
  readonly targetSets: readonly TargetSet[];
  /** target set name → [target key, health] of every target. */
  readonly health: Readonly<Record<string, readonly (readonly [string, Health])[]>>;
  readonly listeners: readonly { readonly id: string; readonly spec: Listener | GatewayPort; readonly gateway: boolean }[];
}

export type ToWorker =
  | { readonly type: 'lb'; readonly seq: number; readonly state: L7LbState }
  | { readonly type: 'health'; readonly key: string; readonly health: L7LbState['health'] }
  | { readonly type: 'listen'; readonly key: string; readonly id: string; readonly host: string; readonly port: number }
  | { readonly type: 'close'; readonly seq: number; readonly key: string; readonly id: string; readonly graceMs: number }
  | { readonly type: 'remove'; readonly seq: number; readonly key: string; readonly graceMs: number }
  | { readonly type: 'ping'; readonly seq: number }
  /** The controller's TLS session ticket keys (hex), first thing after ready. */
  | { readonly type: 'tickets'; readonly keys: string };

export type FromWorker = { readonly type: 'ready' } | { readonly type: 'ack'; readonly seq: number } | { readonly type: 'warn'; readonly message: string };

/** How long ensure waits for a worker to apply a change before it gives up on that worker (and restarts it). */
const ACK_TIMEOUT_MS = 10_000;

interface Child {
  readonly proc: ChildProcess;
  ready: boolean;
  /** Listening sockets this worker accepts on: `key id`. */
  readonly has: Set<string>;
  readonly waiting: Map<number, () => void>;
}

function workerEntry(): { file: string; execArgv: string[] } {
  // Under tsx (tests, benches) this module is TypeScript, and so is its worker.
  const ts = import.meta.url.endsWith('.ts');
  const file = fileURLToPath(new URL(ts ? './l7-worker.ts' : './l7-worker.js', import.meta.url));
  return { file, execArgv: ts ? ['--import', 'tsx'] : [] };
}

export class L7Workers {
  private readonly children = new Set<Child>();
  private readonly states = new Map<string, L7LbState>();
  private readonly servers = new Map<string, { key: string; id: string; server: Server; host: string; port: number }>();
  private seq = 0;
  private closed = false;

  constructor(
    private readonly count: number,
    private readonly log: Logger,
  ) {}

  /** Processes serving L7 besides this one. */
  get size(): number {
    return this.count;
  }

  get pids(): number[] {
    return [...this.children].flatMap((c) => (c.proc.pid === undefined ? [] : [c.proc.pid]));
  }

  /** Resolves once every worker accepts on every L7 socket (the first L7 listener starts them; each takes a moment to load). */
  async ready(): Promise<void> {
    while (!this.closed && [...this.children].some((c) => !c.ready)) await new Promise((r) => setTimeout(r, 20));
    // Messages arrive in order: an answer to this one means every socket handed over before it is served.
    await this.broadcast((seq) => ({ type: 'ping', seq }));
  }

  private spawn(): void {
    if (this.closed) return;
    const { file, execArgv } = workerEntry();
    const proc = fork(file, [], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const child: Child = { proc, ready: false, has: new Set(), waiting: new Map() };
    this.children.add(child);
    // The listening sockets keep this process alive; the workers alone must not.
    proc.unref();
    proc.channel?.unref();
    proc.on('message', (m: FromWorker) => {
      if (m.type === 'ready') {
        child.ready = true;
        this.post(child, { type: 'tickets', keys: sessionTicketKeys().toString('hex') });
        for (const s of this.states.values()) this.post(child, { type: 'lb', seq: ++this.seq, state: s });
        for (const [name, s] of this.servers) this.handOver(child, name, s);
      } else if (m.type === 'ack') {
        child.waiting.get(m.seq)?.();
        child.waiting.delete(m.seq);
      } else this.log.warn(`L7 worker ${proc.pid ?? '?'}: ${m.message}`);
    });
    proc.on('error', () => undefined);
    proc.once('exit', (code, signal) => {
      this.children.delete(child);
      for (const done of child.waiting.values()) done();
      if (this.closed) return;
      this.log.warn(`L7 worker ${proc.pid ?? '?'} exited (${signal ?? code ?? '?'}); starting another`);
      this.spawn();
    });
  }

  /** Starts the workers, once, when the first L7 listener binds. */
  private start(): void {
    if (this.children.size > 0 || this.closed) return;
    for (let i = 0; i < this.count; i++) this.spawn();
  }

  private post(child: Child, m: ToWorker, handle?: Server): void {
    if (!child.proc.connected) return;
    try {
      if (handle) child.proc.send(m, handle);
      else child.proc.send(m);
    } catch {
      // The channel closed under us: its exit handler restarts the worker.
    }
  }

  /** Sends m to every ready worker; resolves when each has applied it (or given up on). */
  private broadcast(make: (seq: number) => ToWorker & { seq: number }): Promise<void> {
    const waits: Promise<void>[] = [];
    for (const c of this.children) {
      if (!c.ready) continue;
      const m = make(++this.seq);
      waits.push(
        new Promise<void>((resolve) => {
          const timer = setTimeout(() => {
            c.waiting.delete(m.seq);
            this.log.warn(`L7 worker ${c.proc.pid ?? '?'} did not apply a change within ${ACK_TIMEOUT_MS} ms; restarting it`);
            c.proc.kill('SIGKILL');
            resolve();
          }, ACK_TIMEOUT_MS);
          c.waiting.set(m.seq, () => {
            clearTimeout(timer);
            resolve();
          });
        }),
      );
      this.post(c, m);
    }
    return Promise.all(waits).then(() => undefined);
  }

  private handOver(child: Child, name: string, s: { key: string; id: string; server: Server; host: string; port: number }): void {
    if (child.has.has(name)) return;
    child.has.add(name);
    this.post(child, { type: 'listen', key: s.key, id: s.id, host: s.host, port: s.port }, s.server);
  }

  /** An L7 listener bound in this process: the workers accept on it too once they have its LB's state. */
  listening(key: string, id: string, server: Server, host: string, port: number): void {
    this.start();
    this.servers.set(`${key} ${id}`, { key, id, server, host, port });
  }

  /** The LB's L7 state after an ensure; then the workers take any socket they do not have yet. */
  async sync(state: L7LbState): Promise<void> {
    this.states.set(state.key, state);
    const applied = this.broadcast((seq) => ({ type: 'lb', seq, state }));
    for (const c of this.children) if (c.ready) for (const [name, s] of this.servers) if (s.key === state.key) this.handOver(c, name, s);
    await applied;
  }

  health(key: string, health: L7LbState['health']): void {
    const s = this.states.get(key);
    if (!s) return;
    this.states.set(key, { ...s, health });
    for (const c of this.children) if (c.ready) this.post(c, { type: 'health', key, health });
  }

  /** The listener stops accepting in every worker (resolves then); its connections there drain for graceMs. */
  async close(key: string, id: string, graceMs: number): Promise<void> {
    const name = `${key} ${id}`;
    if (!this.servers.delete(name)) return;
    for (const c of this.children) c.has.delete(name);
    await this.broadcast((seq) => ({ type: 'close', seq, key, id, graceMs }));
  }

  /** The LB is gone: its listeners stop accepting in every worker, and drain there. */
  async remove(key: string, graceMs: number): Promise<void> {
    if (!this.states.delete(key)) return;
    for (const [name, s] of this.servers) {
      if (s.key !== key) continue;
      this.servers.delete(name);
      for (const c of this.children) c.has.delete(name);
    }
    await this.broadcast((seq) => ({ type: 'remove', seq, key, graceMs }));
  }

  /** Stops every worker; their connections are cut (shutdown). */
  async shutdown(): Promise<void> {
    this.closed = true;
    await Promise.all(
      [...this.children].map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.proc.exitCode !== null || c.proc.signalCode !== null) return resolve();
            c.proc.once('exit', () => resolve());
            c.proc.kill('SIGKILL');
          }),
      ),
    );
    this.children.clear();
  }
}
