// lbc's command line as a child process (under tsx, so it runs these sources, not an old
// build), for the suites that test it the way a Deployment or DaemonSet runs it.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = join(ROOT, 'src/cli/main.ts');
const BUILT_MAIN = join(ROOT, 'dist/cli/main.js');

export interface LbcProcess {
  /** Every line, stdout and stderr, in arrival order. */
  readonly out: string[];
  /** stderr as written, so a test can ask that it stays empty. */
  readonly stderr: string[];
  readonly exited: Promise<number | null>;
  /** The first line (either stream) matching re; rejects at once if the process ends first. */
  waitFor(re: RegExp, timeoutMs?: number): Promise<string>;
  signal(s: NodeJS.Signals): void;
  running(): boolean;
}

export interface LbcProcessOptions {
  readonly env?: NodeJS.ProcessEnv;
  /** Modules for `node --import`, before lbc's own (paths, or packages tsx resolves). */
  readonly preload?: readonly string[];
  /**
   * Runs the build (dist/cli/main.js, after `npm run build`) with plain node instead of these
   * sources under tsx: for what only the build does, such as client-node's bundle.
   */
  readonly built?: boolean;
}

export function lbcProcess(args: readonly string[], opts: LbcProcessOptions = {}): LbcProcess {
  const base = { ...process.env };
  // The test's environment must not choose the Node or the cluster for it.
  delete base.NODE_NAME;
  delete base.KUBECONFIG;
  const imports = [...(opts.built ? [] : ['tsx']), ...(opts.preload ?? [])].flatMap((p) => ['--import', p]);
  const proc = spawn(process.execPath, [...imports, opts.built ? BUILT_MAIN : MAIN, ...args], { cwd: ROOT, env: { ...base, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const out: string[] = [];
  const stderr: string[] = [];
  const waiters: { re: RegExp; resolve: (l: string) => void; reject: (e: Error) => void }[] = [];
  const onData = (chunk: Buffer): void => {
    for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) {
      out.push(line);
      for (const w of waiters.filter((x) => x.re.test(line))) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  };
  proc.stdout.on('data', onData);
  proc.stderr.on('data', (chunk: Buffer) => {
    stderr.push(chunk.toString('utf8'));
    onData(chunk);
  });
  const exited = new Promise<number | null>((resolve) =>
    proc.on('exit', (code) => {
      // A line awaited from a process that has ended will not come: fail now, with what it said.
      for (const w of waiters.splice(0)) w.reject(new Error(`lbc exited (${code}) before a line matching ${w.re}:\n${out.join('\n')}`));
      resolve(code);
    }),
  );
  const running = (): boolean => proc.exitCode === null && proc.signalCode === null;
  return {
    out,
    stderr,
    exited,
    running,
    waitFor: (re, timeoutMs = 60_000) =>
      new Promise((resolve, reject) => {
        const hit = out.find((l) => re.test(l));
        if (hit) return resolve(hit);
        if (!running()) return reject(new Error(`lbc has exited, no line matching ${re}:\n${out.join('\n')}`));
        const t = setTimeout(() => reject(new Error(`no line matching ${re} within ${timeoutMs} ms:\n${out.join('\n')}`)), timeoutMs);
        waiters.push({
          re,
          resolve: (l) => {
            clearTimeout(t);
            resolve(l);
          },
          reject: (e) => {
            clearTimeout(t);
            reject(e);
          },
        });
      }),
    signal: (s) => {
      if (running()) proc.kill(s);
    },
  };
}
