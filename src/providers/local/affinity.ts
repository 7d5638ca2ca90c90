// sessionAffinity: ClientIP. A client keeps its target until it has been idle for the
// timeout, where activity is a new connection, a connection closing, or a UDP datagram
// (kube-proxy's iptables `recent` match counts only new connections; counting closes
// too keeps a client with one long connection from losing its target the moment it
// reconnects). Entries expire lazily and by an occasional sweep, so no timer runs.

interface Entry {
  target: string;
  lastSeen: number;
}

const SWEEP_EVERY = 1024;

export class ClientIpAffinity {
  private readonly entries = new Map<string, Entry>();
  private sinceSweep = 0;

  constructor(
    private timeoutMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  get timeout(): number {
    return this.timeoutMs;
  }

  setTimeout(ms: number): void {
    this.timeoutMs = ms;
  }

  /** The client's target, if it has one that has not expired. */
  lookup(clientIp: string): string | undefined {
    const e = this.entries.get(clientIp);
    if (!e) return undefined;
    if (this.now() - e.lastSeen >= this.timeoutMs) {
      this.entries.delete(clientIp);
      return undefined;
    }
    return e.target;
  }

  remember(clientIp: string, target: string): void {
    this.entries.set(clientIp, { target, lastSeen: this.now() });
    if (++this.sinceSweep >= SWEEP_EVERY) this.sweep();
  }

  /** Activity on the client's session: pushes its expiry back, if it still has the target. */
  touch(clientIp: string, target: string): void {
    const e = this.entries.get(clientIp);
    if (e && e.target === target) e.lastSeen = this.now();
  }

  get size(): number {
    return this.entries.size;
  }

  sweep(): void {
    this.sinceSweep = 0;
    const now = this.now();
    for (const [ip, e] of this.entries) if (now - e.lastSeen >= this.timeoutMs) this.entries.delete(ip);
  }
}
