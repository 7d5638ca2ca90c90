// Child processes for the wire tests, each started inside a namespace with
// `ip netns exec` (which execs, so the pid is node's own and signals reach it).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { createServer, connect, type Server } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { build as esbuildBuild } from 'esbuild';
import { addonPath } from '../../../../src/providers/metal/speaker/packet-socket.js';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const SCRIPTS = ['./speaker-child.ts', './http-child.ts', './client-child.ts'] as const;

/** Child script → the bundle to run instead of the TypeScript, once bundleChildren() made them. */
const bundles = new Map<string, string>();
let bundleDir: string | undefined;

/**
 * Bundles the child scripts into plain JavaScript, once per test process. Under tsx a
 * speaker child spends ~3 CPU-seconds in the loader before its first line, a bundle ~1:
 * with several wire suites (or the benchmark's restarts) on two loaded cores, that was
 * the difference between starting and timing out. Packages stay external, resolved from
 * the repository's node_modules, where the bundles are written. esbuild comes with tsx;
 * without it the children run under tsx as before.
 */
export async function bundleChildren(): Promise<void> {
  if (bundleDir) return;
  let build: typeof esbuildBuild;
  try {
    ({ build } = await import('esbuild'));
  } catch {
    return;
  }
  const dir = join(ROOT, 'node_modules', '.cache', 'lbc-wire', `${process.pid}-${randomBytes(3).toString('hex')}`);
  mkdirSync(dir, { recursive: true });
  const entryPoints = Object.fromEntries(SCRIPTS.map((s) => [s.slice(2, -3), fileURLToPath(new URL(s, import.meta.url))]));
  await build({ entryPoints, outdir: dir, outExtension: { '.js': '.mjs' }, bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external', logLevel: 'warning' });
  bundleDir = dir;
  for (const s of SCRIPTS) bundles.set(s, join(dir, `${s.slice(2, -3)}.mjs`));
}

export function removeBundles(): void {
  if (bundleDir) rmSync(bundleDir, { recursive: true, force: true });
  bundleDir = undefined;
  bundles.clear();
}

export interface Child {
  readonly name: string;
  readonly proc: ChildProcess;
  /** stdout and stderr lines with the time they arrived. */
  readonly lines: { t: number; line: string }[];
  readonly exited: Promise<number | null>;
  /** Resolves with the first line (arriving after now) that matches. */
  waitFor(re: RegExp, timeoutMs: number): Promise<string>;
  kill(signal: NodeJS.Signals): void;
}

export function startChild(name: string, ns: string, script: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): Child {
  const bundle = bundles.get(script);
  const run = bundle ? [bundle] : ['--import', 'tsx', fileURLToPath(new URL(script, import.meta.url))];
  const proc = spawn('ip', ['netns', 'exec', ns, process.execPath, ...run, ...args], {
    cwd: ROOT,
    // A bundle lives elsewhere than the source, so the addon is named, not found relative to it.
    env: { ...process.env, LBC_PACKET_ADDON: addonPath(), ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const lines: { t: number; line: string }[] = [];
  const waiters: { re: RegExp; resolve: (l: string) => void }[] = [];
  const onLine = (line: string): void => {
    lines.push({ t: Date.now(), line });
    for (const w of [...waiters]) {
      if (w.re.test(line)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  };
  createInterface({ input: proc.stdout as NonNullable<typeof proc.stdout> }).on('line', onLine);
  createInterface({ input: proc.stderr as NonNullable<typeof proc.stderr> }).on('line', (l) => onLine(`[stderr] ${l}`));
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  return {
    name,
    proc,
    lines,
    exited,
    waitFor: (re, timeoutMs) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${name}: no line matching ${re} within ${timeoutMs}ms; last lines:\n${lines.slice(-15).map((l) => l.line).join('\n')}`)), timeoutMs);
        waiters.push({
          re,
          resolve: (l) => {
            clearTimeout(timer);
            resolve(l);
          },
        });
      }),
    kill: (signal) => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
    },
  };
}

/**
 * The API server (devcluster) listens on the host's 127.0.0.1, which a process in another
 * network namespace cannot reach. A Unix socket can (it lives in the file system): the
 * test serves one that forwards to the API, and each speaker child listens on its own
 * 127.0.0.1 with the same port and forwards to the socket, so the devcluster kubeconfig
 * works unchanged inside the namespaces.
 */
export function serveApiSocket(path: string, apiPort: number): Promise<Server> {
  const server = createServer((c) => {
    const upstream = connect(apiPort, '127.0.0.1');
    c.pipe(upstream).pipe(c);
    c.on('error', () => upstream.destroy());
    upstream.on('error', () => c.destroy());
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve(server));
  });
}

/** Sends JSON commands to a client child and reads its JSON answers, one per line. */
export class ClientControl {
  private seq = 0;
  private readonly pending = new Map<number, (v: Record<string, unknown>) => void>();
  readonly events: Record<string, unknown>[] = [];

  constructor(private readonly child: Child) {
    createInterface({ input: child.proc.stdout as NonNullable<typeof child.proc.stdout> }).on('line', (line) => {
      let msg: Record<string, unknown>;
      try {
        msg = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return;
      }
      if (typeof msg.id === 'number') {
        this.pending.get(msg.id)?.(msg);
        this.pending.delete(msg.id);
      } else {
        this.events.push(msg);
      }
    });
  }

  call<T = Record<string, unknown>>(cmd: Record<string, unknown>, timeoutMs = 10_000): Promise<T> {
    const id = ++this.seq;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`client: no answer to ${JSON.stringify(cmd)}`)), timeoutMs);
      this.pending.set(id, (v) => {
        clearTimeout(timer);
        resolve(v as T);
      });
      this.child.proc.stdin?.write(`${JSON.stringify({ ...cmd, id })}\n`);
    });
  }
}
