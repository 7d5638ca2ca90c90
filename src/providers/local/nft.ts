// The adapter to nftables: one `nft -f -` run per transaction, so a batch of changes
// lands atomically or not at all (nft applies a whole script in one netlink batch).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';

export type NftRunner = (script: string) => Promise<void>;

export class NftError extends Error {
  constructor(
    message: string,
    /** ENOENT: nft is not installed; EPERM: no CAP_NET_ADMIN; else what nft printed. */
    readonly reason: 'missing' | 'denied' | 'failed',
  ) {
    super(message);
    this.name = 'NftError';
  }
}

let nftPath: string | undefined;

/** nft from PATH, else where Debian puts it: an unprivileged user's PATH often lacks the sbin directories. Looked up once. */
function nftCommand(): string {
  if (nftPath === undefined) {
    const dirs = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), '/usr/sbin', '/sbin'];
    nftPath = dirs.map((d) => join(d, 'nft')).find((p) => existsSync(p)) ?? 'nft';
  }
  return nftPath;
}

/** Runs script through `nft -f -`; rejects with what nft printed on stderr. */
export const runNft: NftRunner = (script) =>
  new Promise((resolve, reject) => {
    const child = spawn(nftCommand(), ['-f', '-'], { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (e: NodeJS.ErrnoException) => {
      reject(new NftError(e.code === 'ENOENT' ? 'nft is not installed (Debian: apt-get install nftables)' : `cannot run nft: ${e.message}`, e.code === 'ENOENT' ? 'missing' : 'failed'));
    });
    child.on('close', (code) => {
      if (code === 0) return resolve();
      const text = stderr.trim() || `nft exited with ${code}`;
      const denied = /Operation not permitted|Permission denied/i.test(text);
      reject(new NftError(denied ? `nft: ${text} (kernel forwarding needs root or CAP_NET_ADMIN)` : `nft: ${text}`, denied ? 'denied' : 'failed'));
    });
    // An early exit closes stdin under us; the 'close' handler reports why.
    child.stdin.on('error', () => {});
    child.stdin.end(script);
  });
