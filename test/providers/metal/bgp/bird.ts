// The real router of the BGP tests: Debian's bird2 in the router namespace, one eBGP
// neighbour per node, passive (the speakers dial), every learned route exported to the
// namespace's kernel with equal-cost paths merged (ECMP), as a top-of-rack router would.
// Read back with birdc and `ip route`.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const ROUTER_ASN = 64500;
export const NODE_ASN = 64513;

/** Why bird cannot run here, or undefined. */
export function birdUnavailable(): string | undefined {
  const r = spawnSync('bird', ['--version'], { encoding: 'utf8' });
  if (r.error) return 'bird is not installed (apt-get install bird2)';
  return undefined;
}

export interface BirdNeighbour {
  readonly name: string;
  readonly address: string;
  readonly asn?: number;
  readonly password?: string;
  readonly bfd?: boolean;
}

export class Bird {
  readonly dir = mkdtempSync(join(tmpdir(), 'lbc-bird-'));
  readonly socket = join(this.dir, 'bird.ctl');
  private proc: ChildProcess | undefined;
  readonly log: string[] = [];

  constructor(
    private readonly ns: string,
    private readonly routerId: string,
  ) {}

  start(neighbours: readonly BirdNeighbour[], opts: { holdTime?: number; bfdIntervalMs?: number } = {}): Promise<void> {
    const hold = opts.holdTime ?? 3;
    const conf = [
      `router id ${this.routerId};`,
      'protocol device { scan time 1; }',
      'protocol kernel k4 { ipv4 { export all; import none; }; merge paths on; }',
      'protocol kernel k6 { ipv6 { export all; import none; }; merge paths on; }',
      ...(neighbours.some((n) => n.bfd) ? [`protocol bfd { interface "*" { min rx interval ${opts.bfdIntervalMs ?? 100} ms; min tx interval ${opts.bfdIntervalMs ?? 100} ms; multiplier 3; }; }`] : []),
      ...neighbours.map((n) =>
        [
          `protocol bgp ${n.name.replace(/[^a-zA-Z0-9_]/g, '_')} {`,
          `  local as ${ROUTER_ASN};`,
          `  neighbor ${n.address} as ${n.asn ?? NODE_ASN};`,
          '  passive on;',
          `  hold time ${hold}; keepalive time ${Math.max(1, Math.floor(hold / 3))};`,
          '  connect retry time 1; error wait time 1, 2;',
          ...(n.password ? [`  password "${n.password}";`] : []),
          ...(n.bfd ? ['  bfd on;'] : []),
          `  ${n.address.includes(':') ? 'ipv6' : 'ipv4'} { import all; export none; };`,
          '}',
        ].join('\n'),
      ),
      '',
    ].join('\n');
    const file = join(this.dir, 'bird.conf');
    writeFileSync(file, conf);
    const proc = spawn('ip', ['netns', 'exec', this.ns, 'bird', '-f', '-c', file, '-s', this.socket], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc = proc;
    proc.stdout?.on('data', (d: Buffer) => this.log.push(d.toString()));
    proc.stderr?.on('data', (d: Buffer) => this.log.push(d.toString()));
    return new Promise((resolve, reject) => {
      const deadline = Date.now() + 10_000;
      const poll = (): void => {
        if (proc.exitCode !== null) return reject(new Error(`bird exited ${proc.exitCode}: ${this.log.join('')}`));
        if (spawnSync('birdc', ['-s', this.socket, 'show', 'status'], { encoding: 'utf8' }).stdout.includes('Daemon is up')) return resolve();
        if (Date.now() > deadline) return reject(new Error(`bird did not start: ${this.log.join('')}`));
        setTimeout(poll, 100);
      };
      poll();
    });
  }

  birdc(...args: string[]): string {
    return spawnSync('birdc', ['-s', this.socket, ...args], { encoding: 'utf8' }).stdout;
  }

  /** `show protocols` as name → state (`Established`, `Active`, ...). */
  sessions(): Map<string, string> {
    const out = new Map<string, string>();
    for (const line of this.birdc('show', 'protocols').split('\n')) {
      const m = /^(\S+)\s+BGP\s+\S+\s+\S+\s+\S+\s+(\S+)/.exec(line);
      if (m) out.set(m[1] ?? '', m[2] ?? '');
    }
    return out;
  }

  /** The routes bird holds for `prefix` with all attributes (`show route ... all`). */
  route(prefix: string): string {
    return this.birdc('show', 'route', 'for', prefix, 'all');
  }

  /** Prefixes bird learned from BGP, sorted. */
  prefixes(): string[] {
    const out = new Set<string>();
    for (const line of this.birdc('show', 'route').split('\n')) {
      const m = /^([0-9a-f.:]+\/\d+)\s/.exec(line);
      if (m) out.add(m[1] ?? '');
    }
    return [...out].sort();
  }

  stop(): void {
    if (this.proc && this.proc.exitCode === null) this.proc.kill('SIGTERM');
    rmSync(this.dir, { recursive: true, force: true });
  }
}
