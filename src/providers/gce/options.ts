// The gce provider's `options` block in the controller config. Strict: a misspelled key
// is an error, never a silent default, since a wrong network or cluster id would make
// lbc create resources the cluster cannot use (or fail to recognise its own).
import { z } from 'zod';
import { parseDuration } from '../../config/duration.js';

/** GCE resource names: RFC 1035 labels, at most 63 characters. */
export const GCE_NAME = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
// Optionally domain-scoped (`example.com:my-project`).
const PROJECT_ID = /^([a-z][-a-z0-9.]*[a-z0-9]:)?[a-z][-a-z0-9]{4,28}[a-z0-9]$/;
const REGION = /^[a-z]+-[a-z]+[0-9]+$/;

const gceName = (what: string) => z.string().max(63).regex(GCE_NAME, `must be a GCE ${what} name (lower-case letters, digits and -)`);

const durationMs = (minMs: number) =>
  z.union([z.string(), z.number()]).transform((v, ctx) => {
    const d = parseDuration(v);
    if (!d.ok || d.ms < minMs) {
      ctx.issues.push({ code: 'custom', message: d.ok ? `must be at least ${minMs} ms` : d.reason, input: v });
      return z.NEVER;
    }
    return d.ms;
  });

export const retryOptionsSchema = z.strictObject({
  /** Retries after the first attempt for throttled (429, rateLimitExceeded) and transient (5xx, network) failures. */
  retries: z.number().int().min(0).max(20).default(6),
  minDelayMs: z.number().int().min(0).max(60_000).default(500),
  maxDelayMs: z.number().int().min(0).max(600_000).default(30_000),
});

export const gceOptionsSchema = z
  .strictObject({
    project: z.string().regex(PROJECT_ID, 'must be a GCP project id'),
    region: z.string().regex(REGION, 'must be a GCE region such as us-central1'),
    /** The VPC the nodes are in: a name, or a URL for a network in another (host) project. */
    network: z.string().min(1).default('default'),
    /** Where internal load balancers take their address unless the Service names a subnet. */
    subnetwork: gceName('subnetwork').optional(),
    /** Shared VPC host project holding network, subnetworks and firewall rules; defaults to project. */
    networkProject: z.string().regex(PROJECT_ID, 'must be a GCP project id').optional(),
    /**
     * The cluster id the GCE cloud provider and ingress-gce use in shared names
     * (`k8s-<id>-node`, `k8s-ig--<id>`). Distinct from lbc's clusterName, which is what
     * descriptions record for ownership. Absent: read from kube-system's `ingress-uid`
     * ConfigMap as GKE's controllers read it (cluster-id.ts), so lbc shares their
     * instance groups; a different id on a GKE cluster would make a second family of
     * groups, which GCE refuses (an instance is in at most one load-balanced group).
     */
    clusterId: z.string().max(32).regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be lower-case letters, digits and -').optional(),
    /** ingress-gce derives its v2 names from the kube-system namespace UID; set it to get the same names. */
    kubeSystemUid: z.string().min(1).optional(),
    /** Network tags of the nodes (what firewall rules target). Read from the instances when absent. */
    nodeTags: z.array(gceName('network tag')).min(1).optional(),
    /** A global backend service answering requests no Ingress rule matches (ingress-gce's default backend). */
    defaultBackendService: gceName('backend service').optional(),
    /**
     * The Service answering (with 404) requests no rule of an Ingress without defaultBackend
     * matches, when defaultBackendService is not set: ingress-gce's --default-backend-service
     * (kube-system/default-http-backend, port http, which GKE runs).
     */
    defaultBackend: z
      .strictObject({
        namespace: z.string().min(1),
        service: z.string().min(1),
        port: z.union([z.number().int().min(1).max(65535), z.string().min(1)]),
      })
      .default({ namespace: 'kube-system', service: 'default-http-backend', port: 'http' }),
    /**
     * GKE's `--enable-l4-ilb-subsetting`: internal passthrough load balancers send to one
     * GCE_VM_IP NEG per zone holding a subset of the nodes (ilb-subset.ts), not to the
     * cluster's instance groups, so a Service is not bound to the 250-instance backend limit.
     */
    ilbSubsetting: z.boolean().default(false),
    /** Compute API endpoint override, e.g. for tests: `http://127.0.0.1:8080` or `compute.example.com`. */
    apiEndpoint: z.string().min(1).optional(),
    /** Service account key file; Application Default Credentials when absent. */
    keyFilename: z.string().min(1).optional(),
    retry: retryOptionsSchema.default({ retries: 6, minDelayMs: 500, maxDelayMs: 30_000 }),
    /** How long to wait for one long-running operation before giving up (transient). */
    operationTimeout: durationMs(1000).default(600_000),
  })
  .superRefine((o, ctx) => {
    if (o.retry.minDelayMs > o.retry.maxDelayMs) {
      ctx.addIssue({ code: 'custom', path: ['retry', 'minDelayMs'], message: 'must not exceed maxDelayMs' });
    }
  });

export type GceOptions = z.output<typeof gceOptionsSchema>;
export type GceOptionsInput = z.input<typeof gceOptionsSchema>;
export type RetryOptions = z.output<typeof retryOptionsSchema>;
