// The aws provider's `options` block in the controller config. Strict, like the rest of
// the file: a misspelt key is an error, never a silent default.
import { z } from 'zod';
import { parseDuration } from '../../config/duration.js';
import { RESERVED_TAG_PREFIX } from '../../model/spec.js';

const duration = (fallbackMs: number, minMs: number) =>
  z
    .union([z.string(), z.number()])
    .optional()
    .transform((v, ctx) => {
      if (v === undefined) return fallbackMs;
      const d = parseDuration(v);
      if (!d.ok) {
        ctx.issues.push({ code: 'custom', message: d.reason, input: v });
        return z.NEVER;
      }
      if (d.ms < minMs) {
        ctx.issues.push({ code: 'custom', message: `must be at least ${minMs}ms`, input: v });
        return z.NEVER;
      }
      return d.ms;
    });

const tagMap = z
  .record(z.string().min(1).max(128), z.string().max(256))
  .refine((m) => Object.keys(m).every((k) => !k.startsWith(RESERVED_TAG_PREFIX) && !k.startsWith('aws:')), `tag keys must not start with ${RESERVED_TAG_PREFIX} or aws:`)
  .default({});

/** Requests per second and burst for one API family (ELBv2 or EC2, reads or writes; ACM reads). */
const rate = (perSecond: number, burst: number) =>
  z
    .strictObject({
      perSecond: z.number().positive().max(1000).default(perSecond),
      burst: z.number().int().min(1).max(1000).default(burst),
    })
    .default({ perSecond, burst });

const subnetList = z.array(z.string().min(1)).min(1).optional();

export const awsOptionsSchema = z.strictObject({
  region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'must be an AWS region such as us-east-1'),
  /** The cluster's VPC; subnet discovery and target groups use it. Derived from the subnets when absent. */
  vpcId: z
    .string()
    .regex(/^vpc-[0-9a-f]+$/, 'must be a VPC id (vpc-...)')
    .optional(),
  /**
   * One endpoint for ELBv2, EC2 and ACM, for LocalStack or moto (e.g. http://127.0.0.1:4566).
   * Absent: the SDK's own resolution, which also honours AWS_ENDPOINT_URL.
   */
  endpoint: z.url().optional(),
  /** Subnets (IDs or Name tags) used when an object names none, instead of discovery by tags. */
  subnets: z
    .strictObject({
      internal: subnetList,
      internetFacing: subnetList,
    })
    .default({}),
  /** Tags put on everything lbc creates, over the object's own tags, below lbc's ownership tags (`--default-tags`). */
  defaultTags: tagMap,
  /**
   * Client-side rate limits per API family, under AWS's account-wide buckets so that
   * many load balancers reconciling at once slow down here rather than get throttled.
   */
  rateLimits: z
    .strictObject({
      elbv2Read: rate(10, 20),
      elbv2Write: rate(5, 10),
      ec2Read: rate(20, 40),
      ec2Write: rate(5, 10),
      // ACM's per-account request quotas are lower than ELBv2's.
      acmRead: rate(5, 10),
      // WAFv2 allows a few requests per second per account for association calls.
      wafv2: rate(2, 5),
      shield: rate(2, 5),
    })
    .default({
      elbv2Read: { perSecond: 10, burst: 20 },
      elbv2Write: { perSecond: 5, burst: 10 },
      ec2Read: { perSecond: 20, burst: 40 },
      ec2Write: { perSecond: 5, burst: 10 },
      acmRead: { perSecond: 5, burst: 10 },
      wafv2: { perSecond: 2, burst: 5 },
      shield: { perSecond: 2, burst: 5 },
    }),
  retry: z
    .strictObject({
      /** Attempts per call, the first included. */
      attempts: z.number().int().min(1).max(20).default(6),
      minDelay: duration(200, 1),
      maxDelay: duration(20_000, 1),
    })
    .default({ attempts: 6, minDelay: 200, maxDelay: 20_000 }),
  /**
   * How long one delete (or cleanup in ensure) keeps retrying a target group still in
   * use or a security group an ENI still holds; past it the call fails as retryable and
   * the next reconcile carries on from where this one stopped.
   */
  dependencyTimeout: duration(60_000, 0),
  /**
   * The shared backend security group (aws-load-balancer-controller's
   * `--enable-backend-security-group`, default on, and `--backend-security-group`): one
   * group per cluster attached to every load balancer whose backend rules lbc manages,
   * allowed once on each node security group instead of one rule per load balancer and
   * port. `id` gives an existing group to use (lbc then never deletes it); `nodePortRange`
   * is the cluster's `--service-node-port-range`, the ports that one rule opens.
   */
  backendSecurityGroup: z
    .strictObject({
      enabled: z.boolean().default(true),
      id: z
        .string()
        .regex(/^sg-[0-9a-f]+$/, 'must be a security group id (sg-...)')
        .optional(),
      nodePortRange: z
        .string()
        .default('30000-32767')
        .transform((v, ctx) => {
          const m = /^(\d{1,5})-(\d{1,5})$/.exec(v);
          const from = Number(m?.[1]);
          const to = Number(m?.[2]);
          if (!m || from < 1 || to > 65535 || from > to) {
            ctx.issues.push({ code: 'custom', message: 'must be a port range such as 30000-32767 (as kube-apiserver --service-node-port-range)', input: v });
            return z.NEVER;
          }
          return { from, to };
        }),
    })
    .default({ enabled: true, nodePortRange: { from: 30000, to: 32767 } }),
  /** How often the tag inventory of load balancers and target groups is rebuilt from scratch. */
  inventoryRefresh: duration(600_000, 1000),
  /**
   * aws-load-balancer-controller's feature gates that lbc honours, by ALBC's names and with
   * its defaults (v3.5 pkg/config/feature_gates.go), so a controllerConfig.featureGates
   * setting carries over. Strict: a gate lbc does not implement is an error, not ignored.
   */
  featureGates: z
    .strictObject({
      /**
       * A TCP and a UDP Service port with one number become one TCP_UDP listener for every
       * Service, unless its enable-tcp-udp-listener annotation says "false" (ALBC
       * pkg/service/model_build_listener.go shouldUseTCPUDP: the annotation, else the gate).
       */
      EnableTCPUDPListener: z.boolean().default(false),
    })
    .default({ EnableTCPUDPListener: false }),
});

export type AwsOptions = z.output<typeof awsOptionsSchema>;
export type AwsOptionsInput = z.input<typeof awsOptionsSchema>;
