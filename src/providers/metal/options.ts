// The metal provider's `options` block in the controller config. The speaker reads the
// same block (it is started with the same config file), so pools and the speaker's
// timing live together and cannot disagree between the two processes.
//
//   providers:
//     - name: metal
//       type: metal
//       options:
//         pools:
//           - name: public
//             addresses: [192.0.2.0/28, 198.51.100.10-198.51.100.20, 2001:db8::/124]
//             autoAssign: true            # default true
//             avoidBuggyIPs: false        # default false
//             nodeSelectors: [{ matchLabels: { edge: "true" } }]   # default: every node
//             interfaces: [eth0]          # default: the interface whose network holds the IP
//         metallb:                      # MetalLB's IPAddressPool and L2Advertisement resources
//           namespace: metallb-system   # where they are read from (default metallb-system)
//           resources: true             # read them at all (default true)
//         speaker:
//           leaseNamespace: lbc-system
//           gossipPort: 7947
//           heartbeatInterval: 200ms
//           deadAfter: 700ms
//           leaseDuration: 60s
//           gratuitousFor: 5s
import { z } from 'zod';
import { parseDuration } from '../../config/duration.js';
import { labelSelectorSchema } from './node-selector.js';
import { buildPools, type Pool } from './pools.js';

/** MetalLB's own namespace (its install's default), where its resources are read unless `metallb.namespace` says otherwise. */
export const METALLB_NAMESPACE = 'metallb-system';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

const durationMs = (min: number, max: number) =>
  z.union([z.string(), z.number()]).transform((v, ctx) => {
    const d = parseDuration(v);
    if (!d.ok) {
      ctx.issues.push({ code: 'custom', message: d.reason, input: v });
      return z.NEVER;
    }
    if (d.ms < min || d.ms > max) {
      ctx.issues.push({ code: 'custom', message: `must be between ${min}ms and ${max}ms`, input: v });
      return z.NEVER;
    }
    return d.ms;
  });

const poolSchema = z.strictObject({
  name: z.string().max(63).regex(DNS_LABEL, 'must be a DNS label (lower-case letters, digits and -)'),
  addresses: z.array(z.string()).min(1, 'must list at least one CIDR or range'),
  autoAssign: z.boolean().default(true),
  avoidBuggyIPs: z.boolean().default(false),
  nodeSelectors: z.array(labelSelectorSchema).default([]),
  interfaces: z.array(z.string().min(1).max(15)).default([]),
});

export const SPEAKER_DEFAULTS = {
  leaseNamespace: 'lbc-system',
  gossipPort: 7947,
  heartbeatIntervalMs: 200,
  deadAfterMs: 700,
  leaseDurationMs: 60_000,
  gratuitousForMs: 5_000,
} as const;

const speakerSchema = z
  .strictObject({
    /** Where each speaker keeps its Lease (`lbc-speaker-<node>`). */
    leaseNamespace: z.string().regex(DNS_LABEL).default(SPEAKER_DEFAULTS.leaseNamespace),
    /** UDP port the speakers exchange heartbeats on, on every node's InternalIP. */
    gossipPort: z.number().int().min(1).max(65535).default(SPEAKER_DEFAULTS.gossipPort),
    heartbeatInterval: durationMs(20, 10_000).default(SPEAKER_DEFAULTS.heartbeatIntervalMs),
    /** A speaker heard from before and silent this long is dead. */
    deadAfter: durationMs(50, 60_000).default(SPEAKER_DEFAULTS.deadAfterMs),
    /** The slow membership fallback; renewed every quarter of it. */
    leaseDuration: durationMs(4_000, 3_600_000).default(SPEAKER_DEFAULTS.leaseDurationMs),
    /** How long a new owner keeps repeating gratuitous ARPs / unsolicited NAs. */
    gratuitousFor: durationMs(0, 60_000).default(SPEAKER_DEFAULTS.gratuitousForMs),
    /** File holding a shared secret; when set, heartbeats are HMAC-signed and unsigned ones ignored. */
    gossipKeyFile: z.string().min(1).optional(),
  })
  .superRefine((s, ctx) => {
    if (s.deadAfter < 2 * s.heartbeatInterval) {
      ctx.addIssue({ code: 'custom', path: ['deadAfter'], message: 'must be at least twice heartbeatInterval, or one lost datagram declares a live speaker dead' });
    }
  });

const metallbSchema = z.strictObject({
  /** MetalLB's namespace: its IPAddressPools and L2Advertisements are read there, its ServiceL2Statuses written there. */
  namespace: z.string().max(63).regex(DNS_LABEL, 'must be a namespace name').default(METALLB_NAMESPACE),
  /** Whether to read MetalLB's resources; false: the config file's pools only, even where MetalLB's CRDs are installed. */
  resources: z.boolean().default(true),
});

export const metalOptionsSchema = z.strictObject({
  // Pools may come from MetalLB's IPAddressPools only, so the file may define none.
  pools: z.array(poolSchema).default([]),
  metallb: metallbSchema.default({ namespace: METALLB_NAMESPACE, resources: true }),
  speaker: speakerSchema.default({
    leaseNamespace: SPEAKER_DEFAULTS.leaseNamespace,
    gossipPort: SPEAKER_DEFAULTS.gossipPort,
    heartbeatInterval: SPEAKER_DEFAULTS.heartbeatIntervalMs,
    deadAfter: SPEAKER_DEFAULTS.deadAfterMs,
    leaseDuration: SPEAKER_DEFAULTS.leaseDurationMs,
    gratuitousFor: SPEAKER_DEFAULTS.gratuitousForMs,
  }),
});

export type MetalOptionsInput = z.input<typeof metalOptionsSchema>;
export type SpeakerSettings = z.output<typeof speakerSchema>;
export type MetalLbSettings = z.output<typeof metallbSchema>;

export interface MetalConfig {
  /** The config file's pools; MetalLB's IPAddressPools are added while running. */
  readonly pools: readonly Pool[];
  readonly metallb: MetalLbSettings;
  readonly speaker: SpeakerSettings;
}

export class MetalConfigError extends Error {
  override readonly name = 'MetalConfigError';
  constructor(readonly issues: readonly { path: string; message: string }[]) {
    super(issues.map((i) => `${i.path ? `${i.path}: ` : ''}${i.message}`).join('; '));
  }
}

function pathText(path: readonly PropertyKey[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`)).join('');
}

/**
 * Validates the options block; every error names its path (prefixed by `configPath`,
 * e.g. `providers[2].options.pools[1].addresses[0]`), overlapping pools name both.
 */
export function parseMetalOptions(options: unknown, configPath = ''): MetalConfig {
  const prefix = (p: string): string => (configPath && p ? `${configPath}.${p}` : configPath || p);
  const r = metalOptionsSchema.safeParse(options);
  if (!r.success) {
    throw new MetalConfigError(
      r.error.issues.flatMap((i) =>
        i.code === 'unrecognized_keys'
          ? i.keys.map((k) => ({ path: prefix(pathText([...i.path, k])), message: 'unknown key' }))
          : [{ path: prefix(pathText(i.path)), message: i.message.replace(/^Invalid (input|option): /, '') }],
      ),
    );
  }
  const built = buildPools(r.data.pools);
  if (!built.ok) throw new MetalConfigError(built.issues.map((i) => ({ path: prefix(i.path), message: i.message })));
  return { pools: built.pools, metallb: r.data.metallb, speaker: r.data.speaker };
}
