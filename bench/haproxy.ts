// HAProxy (Debian's) in the L7 benches, twice over: as the backends (answers of its own,
// so the backends are never what limits a run), and as the peer lbc is measured against,
// with a configuration generated to do what lbc's load balancer does, on loopback only.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';

export const HAPROXY = process.env.HAPROXY ?? '/usr/sbin/haproxy';

export function haproxyMissing(): string | undefined {
  return existsSync(HAPROXY) ? undefined : `${HAPROXY} not found (Debian: apt-get install haproxy; or set HAPROXY)`;
}

/** A port free on host now (the OS's choice), for a process that cannot report the port it bound. */
export function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen({ host, port: 0 }, () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port }, () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}

export interface Haproxy {
  readonly pid: number | undefined;
  stop(): Promise<void>;
}

const GLOBAL = `global
  maxconn 4096
  log stderr format short local0 err
defaults
  mode http
  timeout connect 5s
  timeout client 30s
  timeout server 30s
`;

/** Runs haproxy in the foreground on config until stop(); resolves once every address in `ready` accepts. */
export async function startHaproxy(dir: string, name: string, config: string, ready: readonly { host: string; port: number }[]): Promise<Haproxy> {
  const file = join(dir, `${name}.cfg`);
  await writeFile(file, GLOBAL + config);
  const proc: ChildProcess = spawn(HAPROXY, ['-db', '-f', file], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const deadline = Date.now() + 10_000;
  for (const a of ready) {
    while (!(await accepts(a.host, a.port))) {
      if (proc.exitCode !== null || Date.now() > deadline) {
        proc.kill('SIGKILL');
        throw new Error(`haproxy ${name} did not start listening on ${a.host}:${a.port}:\n${stderr}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  return {
    pid: proc.pid,
    stop: async () => {
      if (proc.exitCode === null) proc.kill('SIGTERM');
      await exited;
    },
  };
}

/** Frontends that answer 200 with their body themselves: the fastest backend there is on this machine. */
export function backendsConfig(host: string, servers: readonly { port: number; body: string }[]): string {
  return servers
    .map((s, i) => `frontend backend${i}\n  bind ${host}:${s.port}\n  http-request return status 200 content-type text/plain string "${s.body}"\n`)
    .join('');
}

/**
 * The peer: one frontend round robin over the targets, forwarding as lbc does (keep-alive
 * both ways, X-Forwarded-For added). With `crt` it terminates TLS as lbc's HTTPS listener does.
 */
export function peerConfig(bind: { host: string; port: number }, targets: readonly { host: string; port: number }[], crt?: string, name = 'peer'): string {
  return `frontend ${name}
  bind ${bind.host}:${bind.port}${crt ? ` ssl crt ${crt}` : ''}
  option forwardfor
  default_backend ${name}-targets
backend ${name}-targets
  balance roundrobin
${targets.map((t, i) => `  server t${i} ${t.host}:${t.port}\n`).join('')}`;
}
