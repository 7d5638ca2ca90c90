// What the install suites share: free local ports, polling, and the Deployment's own
// arguments turned into a command line that runs here instead of in a pod.
import { createServer } from 'node:net';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Polls fn until true; fails early with died()'s reason once it has one (a child process that exited). */
export async function until(what: string, fn: () => boolean | Promise<boolean>, timeoutMs: number, died?: () => string | undefined): Promise<void> {
  const start = Date.now();
  while (!(await fn())) {
    const why = died?.();
    if (why !== undefined) throw new Error(`waiting for ${what}: ${why}`);
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * The container's arguments, unchanged but for what only holds in a pod: --in-cluster
 * becomes --kubeconfig, --config points at a local file, and the listeners take free
 * loopback ports (8080/8081 may be anyone's on a shared machine), returned by flag.
 */
export async function localArgs(args: readonly string[], kubeconfig: string, config: string): Promise<{ args: string[]; ports: Record<string, number> }> {
  const out: string[] = [];
  const ports: Record<string, number> = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--in-cluster') {
      out.push('--kubeconfig', kubeconfig);
    } else if (a === '--config') {
      out.push(a, config);
      i++;
    } else if (a === '--metrics-bind-address' || a === '--health-probe-bind-address') {
      ports[a] = await freePort();
      out.push(a, `127.0.0.1:${ports[a]}`);
      i++;
    } else {
      out.push(a);
    }
  }
  return { args: out, ports };
}
