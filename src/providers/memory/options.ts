// The memory provider's `options` block in the controller config.
import { z } from 'zod';
import { parseCidr } from '../../model/ip.js';

const MAX_POOL_SIZE = 65_536;

export const memoryOptionsSchema = z.strictObject({
  /** IPv4 CIDR the provider hands addresses out of, lowest free first. */
  addressPool: z
    .string()
    .default('192.0.2.0/24')
    .superRefine((v, ctx) => {
      const c = parseCidr(v);
      if (!c.ok) ctx.addIssue({ code: 'custom', message: c.reason });
      else if (c.family !== 4) ctx.addIssue({ code: 'custom', message: 'must be an IPv4 CIDR' });
      else if (2 ** (32 - c.prefix) > MAX_POOL_SIZE) ctx.addIssue({ code: 'custom', message: 'must be /16 or smaller' });
    }),
  /** Report `<name>-<hash>.<hostnameDomain>` hostnames instead of IPs, like a cloud LB with DNS names. */
  hostnames: z.boolean().default(false),
  hostnameDomain: z
    .string()
    .regex(/^([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)*[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a DNS name')
    .default('memory.lbc.dev'),
  /** Delay before each call completes; 0 answers on the next tick. */
  latencyMs: z.number().int().min(0).max(600_000).default(0),
  targetTypes: z
    .array(z.enum(['instance', 'ip']))
    .min(1)
    .refine((a) => new Set(a).size === a.length, 'must not repeat a target type')
    .default(['instance', 'ip']),
  /** 'Gateway' serves GatewaySpecs, recording them as it records the others. */
  layers: z
    .array(z.enum(['L4', 'L7', 'Gateway']))
    .min(1)
    .refine((a) => new Set(a).size === a.length, 'must not repeat a layer')
    .default(['L4', 'L7']),
});

export type MemoryOptions = z.output<typeof memoryOptionsSchema>;
