// The L7 benches' load generator: wrk (Debian's), not a Node client. A Node client tops out
// near 4k requests/s on this machine and so measures itself rather than the proxy (issue #21).
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export const WRK = process.env.WRK ?? '/usr/bin/wrk';

export interface WrkRun {
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly requests: number;
  /** Non-2xx/3xx answers and socket errors: a run with any is not a measurement of the path. */
  readonly errors: number;
  /** CPU the serving processes used per request, µs: unlike requests/s, hardly moved by what else runs on the machine. */
  readonly cpuUsPerRequest?: number;
}

export interface WrkLoad {
  readonly threads: number;
  readonly connections: number;
  readonly seconds: number;
}

/** The figures of issue #21: 2 threads, 64 connections, 10 s. */
export const ISSUE_LOAD: WrkLoad = { threads: 2, connections: 64, seconds: 10 };

/** Why wrk cannot run here, or undefined when it can. */
export function wrkMissing(): string | undefined {
  return existsSync(WRK) ? undefined : `${WRK} not found (Debian: apt-get install wrk; or set WRK)`;
}

const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000 };

function duration(s: string): number {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(s.trim());
  if (!m) throw new Error(`wrk: cannot read the duration ${JSON.stringify(s)}`);
  return Number(m[1]) * UNIT_MS[m[2]!]!;
}

/** Reads `wrk --latency` output. */
export function parseWrk(out: string): WrkRun {
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(out);
  const total = /(\d+) requests in/.exec(out);
  const p50 = /^\s+50%\s+(\S+)/m.exec(out);
  const p99 = /^\s+99%\s+(\S+)/m.exec(out);
  if (!rps || !total || !p50 || !p99) throw new Error(`wrk: unexpected output:\n${out}`);
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const socketErrors = sock ? sock.slice(1).reduce((a, b) => a + Number(b), 0) : 0;
  return { rps: Number(rps[1]), requests: Number(total[1]), p50: duration(p50[1]!), p99: duration(p99[1]!), errors: non2xx + socketErrors };
}

/** Runs wrk against url; `script` is a Lua file (requests that vary their Host and path). */
export function wrk(url: string, load: WrkLoad, opts: { host?: string; script?: string } = {}): Promise<WrkRun> {
  const args = ['-t', String(load.threads), '-c', String(load.connections), '-d', `${load.seconds}s`, '--latency', '--timeout', '5s'];
  if (opts.host) args.push('-H', `Host: ${opts.host}`);
  if (opts.script) args.push('-s', opts.script);
  args.push(url);
  return new Promise((resolve, reject) => {
    execFile(WRK, args, { timeout: (load.seconds + 30) * 1000 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`wrk ${args.join(' ')}: ${err.message}\n${stderr}`));
      try {
        resolve(parseWrk(stdout));
      } catch (e) {
        reject(e instanceof Error ? e : new Error(String(e)));
      }
    });
  });
}

/** A Lua script for wrk that sends each request to the next (Host, path) of the list, in turn per thread. */
export async function rotatingScript(dir: string, targets: readonly (readonly [string, string])[]): Promise<string> {
  const file = join(dir, 'rotate.lua');
  const list = targets.map(([h, p]) => `{${JSON.stringify(h)},${JSON.stringify(p)}}`).join(',\n');
  // The requests are formatted once, at start, so the script costs wrk no more per request than a fixed one.
  await writeFile(
    file,
    `local targets = {\n${list}\n}
local reqs = {}
local i = 0
init = function(args)
  for k, t in ipairs(targets) do reqs[k] = wrk.format("GET", t[2], { Host = t[1] }) end
  i = math.random(#reqs)
end
request = function()
  i = i % #reqs + 1
  return reqs[i]
end
`,
  );
  return file;
}

export interface WrkSubject {
  readonly label: string;
  readonly url: string;
  readonly host?: string;
  readonly script?: string;
  /** The process serving (its children counted too), for CPU per request. */
  readonly pid?: number;
}

/**
 * Each subject `rounds` times, alternating, so that what else runs on this shared machine
 * weighs on all alike; a short warm-up of each first (connections, JIT). A run with errors throws.
 */
export async function alternate(subjects: readonly WrkSubject[], rounds: number, load: WrkLoad): Promise<Map<string, WrkRun[]>> {
  const opts = (s: WrkSubject) => ({ ...(s.host ? { host: s.host } : {}), ...(s.script ? { script: s.script } : {}) });
  for (const s of subjects) await wrk(s.url, { ...load, seconds: 2 }, opts(s));
  const runs = new Map(subjects.map((s) => [s.label, [] as WrkRun[]]));
  for (let i = 0; i < rounds; i++) {
    for (const s of subjects) {
      const before = s.pid === undefined ? undefined : cpuMs(s.pid);
      const measured = await wrk(s.url, load, opts(s));
      const after = s.pid === undefined ? undefined : cpuMs(s.pid);
      const r = before !== undefined && after !== undefined ? { ...measured, cpuUsPerRequest: ((after - before) * 1000) / measured.requests } : measured;
      if (r.errors > 0) throw new Error(`${s.label} (${s.url}): ${r.errors} of ${r.requests} requests failed`);
      runs.get(s.label)!.push(r);
    }
  }
  return runs;
}

/** The run with the median requests/s. */
export function medianRun(runs: readonly WrkRun[]): WrkRun {
  const r = [...runs].sort((a, b) => a.rps - b.rps)[Math.floor(runs.length / 2)];
  if (!r) throw new Error('no runs');
  return r;
}

export function wrkRow(label: string, runs: readonly WrkRun[]): string {
  const m = medianRun(runs);
  const all = runs.map((r) => `${Math.round(r.rps)}/${r.p99.toFixed(1)}`).join(', ');
  const cpu = runs.flatMap((r) => (r.cpuUsPerRequest === undefined ? [] : [r.cpuUsPerRequest])).sort((a, b) => a - b);
  const cpuText = cpu.length > 0 ? `   CPU ${Math.round(cpu[Math.floor(cpu.length / 2)]!)} µs/req` : '';
  return `    ${label.padEnd(46)}${String(Math.round(m.rps)).padStart(6)} req/s   p50 ${m.p50.toFixed(2)} ms   p99 ${m.p99.toFixed(2)} ms${cpuText}   (runs req/s/p99 ms: ${all})`;
}

/** lbc against the peer: requests/s ratio (goal ≥ 0.5×) and p99 ratio (goal ≤ 2×), medians of the per-round ratios. */
export function peerRatios(lbc: readonly WrkRun[], peer: readonly WrkRun[]): { rps: number; p99: number } {
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
  return { rps: med(lbc.map((r, i) => r.rps / (peer[i]?.rps ?? NaN))), p99: med(lbc.map((r, i) => r.p99 / (peer[i]?.p99 ?? NaN))) };
}

/** CPU time (ms) pid and its descendants have used so far, from /proc (Linux); undefined elsewhere. */
export function cpuMs(pid: number): number | undefined {
  const tick = 10; // USER_HZ is 100 on Linux
  const stat = (p: number): number => {
    try {
      const f = readFileSync(`/proc/${p}/stat`, 'utf8');
      const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
      return (Number(fields[11]) + Number(fields[12])) * tick;
    } catch {
      return 0;
    }
  };
  const children = (p: number): number[] => {
    try {
      return readFileSync(`/proc/${p}/task/${p}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    } catch {
      return [];
    }
  };
  if (!existsSync(`/proc/${pid}/stat`)) return undefined;
  let total = 0;
  const todo = [pid];
  while (todo.length > 0) {
    const p = todo.pop()!;
    total += stat(p);
    todo.push(...children(p));
  }
  return total;
}
