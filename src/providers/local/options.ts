// The local provider's `options` block in the controller config. Durations are in
// milliseconds, as the memory provider's are, so tests can make them short.
import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { parseCidr } from '../../model/ip.js';

const MAX_POOL_SIZE = 65_536;
const PORT_KEY = /^[1-9][0-9]{0,4}$/;

const port = z.number().int().min(1).max(65_535);

export const localOptionsSchema = z.strictObject({
  /**
   * IPv4 CIDR each load balancer gets its own address from, lowest free first. The
   * default sits in 127.0.0.0/8, which Linux routes to lo as a whole, so these
   * addresses bind without any interface configuration.
   */
  addressPool: z
    .string()
    .default('127.240.0.0/16')
    .superRefine((v, ctx) => {
      const c = parseCidr(v);
      if (!c.ok) ctx.addIssue({ code: 'custom', message: c.reason });
      else if (c.family !== 4) ctx.addIssue({ code: 'custom', message: 'must be an IPv4 CIDR' });
      else if (2 ** (32 - c.prefix) > MAX_POOL_SIZE) ctx.addIssue({ code: 'custom', message: 'must be /16 or smaller' });
    }),
  /**
   * `pool`: one address per LB, and fail at start when the pool cannot be bound.
   * `ports`: every LB on 127.0.0.1, each listener on a port the OS picks (for platforms
   * such as macOS that only answer on 127.0.0.1 without aliases). `auto`: `pool` when a
   * probe bind succeeds, else `ports`, with a warning.
   */
  addressMode: z.enum(['auto', 'pool', 'ports']).default('auto'),
  /**
   * Added to every listener port when binding, so that an unprivileged process can
   * serve port 80 as 8080 (portOffset 8000). Status reports the bound ports.
   */
  portOffset: z.number().int().min(0).max(64_511).default(0),
  /** Per-port overrides of portOffset: `{ "80": 8080, "443": 8443 }`. */
  portMap: z
    .record(z.string().regex(PORT_KEY, 'keys must be port numbers'), port)
    .default({})
    .superRefine((m, ctx) => {
      for (const k of Object.keys(m)) if (Number(k) > 65_535) ctx.addIssue({ code: 'custom', path: [k], message: 'is not a port number' });
    }),
  /** How long connections of a removed listener (or deleted LB) may finish before they are cut. */
  drainTimeoutMs: z.number().int().min(0).max(3_600_000).default(30_000),
  /** A UDP client's mapping to its target ends after this long without a datagram either way (conntrack's UDP default). */
  udpIdleTimeoutMs: z.number().int().min(1).max(3_600_000).default(30_000),
  /** How long a connection to a target may take before the next target is tried. */
  connectTimeoutMs: z.number().int().min(1).max(600_000).default(5_000),
  /**
   * Who carries TCP bytes. `proxy`: lbc, in user space. `kernel`: nftables DNAT that lbc
   * programs, as kube-proxy does, for connections from this host (needs nft and root or
   * CAP_NET_ADMIN; fails at start without them); lbc's listener still holds each port and
   * serves what the kernel leaves to it. `auto`: `kernel` when possible, else `proxy`.
   * UDP, HTTP and HTTPS are always proxied.
   */
  l4Forwarding: z.enum(['auto', 'kernel', 'proxy']).default('proxy'),
  /**
   * Processes that accept HTTP and HTTPS connections: this one and `workers - 1` children
   * sharing each listening socket (l7-workers.ts). 1 serves everything in this process.
   * TCP, UDP and TLS passthrough are always served here.
   */
  workers: z
    .number()
    .int()
    .min(1)
    .max(64)
    .default(() => availableParallelism()),
  /** Active health checks as the spec asks; off means every listed target is used. */
  healthChecks: z.boolean().default(true),
});

export type LocalOptions = z.output<typeof localOptionsSchema>;
export type LocalOptionsInput = z.input<typeof localOptionsSchema>;
