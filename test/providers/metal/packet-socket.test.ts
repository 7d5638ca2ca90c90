// The packet addon's socket lifecycle, on a loopback in a namespace the test makes.
// Regression: closing a socket left its libuv poll handle to the GC's finalizer, which
// then removed the fd *number* from the loop's epoll set; a socket opened meanwhile
// under the same number stopped receiving. In the speaker that was a node that had
// withdrawn its last address and announced again: its gratuitous ARPs went out, but it
// never answered an ARP request again (the wire tests' occasional "no ARP answer").
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { packetAddonAvailable } from '../../../src/providers/metal/speaker/packet-socket.js';
import { ip, netnsUnavailable } from './wire/netns.js';

const unavailable = netnsUnavailable() ?? (packetAddonAvailable() ? undefined : 'the packet addon is not built (npm run build:native)');
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

describe.skipIf(unavailable !== undefined)(`packet socket addon${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  it('a socket reusing a closed one’s fd number keeps receiving after the GC finalizes the closed one', () => {
    const ns = `lbc-t-${randomBytes(3).toString('hex')}-fd`;
    ip('netns', 'add', ns);
    try {
      ip('-n', ns, 'link', 'set', 'lo', 'up');
      const child = fileURLToPath(new URL('./wire/fd-reuse-child.ts', import.meta.url));
      const r = spawnSync('ip', ['netns', 'exec', ns, process.execPath, '--import', 'tsx', child], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
      expect(r.status, r.stderr).toBe(0);
      const { before, after } = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as { before: number; after: number };
      // A frame sent on lo reaches a packet socket twice (outgoing, then looped back in).
      expect(before).toBeGreaterThan(0);
      expect(after).toBe(before);
    } finally {
      ip('netns', 'del', ns);
    }
  });
});
