// The open connections of one listener, so that removing the listener can drain them:
// stop accepting, let them finish for a grace period, then cut whatever is left.
import type { Socket } from 'node:net';

export class ConnectionTracker {
  private readonly open = new Set<Socket>();
  private readonly idleWaiters = new Set<() => void>();

  add(socket: Socket): void {
    this.open.add(socket);
    socket.once('close', () => {
      this.open.delete(socket);
      if (this.open.size === 0) for (const wake of [...this.idleWaiters]) wake();
    });
  }

  get size(): number {
    return this.open.size;
  }

  /**
   * Waits until every connection has closed or graceMs has passed, then destroys the
   * rest. `nudge` runs now and every 100 ms meanwhile, e.g. to close HTTP keep-alive
   * connections as soon as they go idle.
   */
  async drain(graceMs: number, nudge?: () => void): Promise<void> {
    nudge?.();
    if (this.open.size > 0 && graceMs > 0) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          clearInterval(ticker);
          this.idleWaiters.delete(done);
          resolve();
        };
        const timer = setTimeout(done, graceMs);
        const ticker = setInterval(() => nudge?.(), 100);
        timer.unref();
        ticker.unref();
        this.idleWaiters.add(done);
      });
    }
    this.destroyAll();
  }

  destroyAll(): void {
    for (const s of this.open) s.destroy();
    for (const wake of [...this.idleWaiters]) wake();
  }
}
