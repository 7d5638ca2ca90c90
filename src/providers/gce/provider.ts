// The gce provider: Services become passthrough network load balancers (external, or
// internal with networking.gke.io/load-balancer-type: Internal), Ingresses become
// global external HTTP(S) load balancers, Gateways global external Application Load
// Balancers (EXTERNAL_MANAGED), or regional ones for GKE's regional classes (internal
// INTERNAL_MANAGED, external EXTERNAL_MANAGED). See l4.ts, l7.ts, gateway-l7.ts and plan.ts for what is
// built; this file runs plans and keeps the provider contract.
import type { LbKind, LbRef } from '../../model/ref.js';
import type { LoadBalancerSpec } from '../../model/spec.js';
import type { LoadBalancerStatus, ProviderNotice } from '../../model/status.js';
import {
  PartialEnsureError,
  ProviderError,
  type CallOptions,
  type Change,
  type OptionsParseResult,
  type OwnedLoadBalancer,
  type Provider,
  type ProviderCapabilities,
  type ClusterFacts,
  type BackendProtocolResult,
} from '../types.js';
import { ANNOTATION_NEG, backendProtocolOf, GCE_ANNOTATION_PREFIXES, parseGceAnnotations, type GceLbOptions } from './annotations.js';
import { ClusterIdResolver } from './cluster-id.js';
import { Compute, type CallRecord, type ComputeClientOptions } from './compute.js';
import { NodeTagResolver, type PlanContext } from './context.js';
import { GceError, toGceError } from './errors.js';
import { FIREWALL_NEEDS_ADMINISTRATOR } from './firewall.js';
import { GCE_GATEWAY_FEATURES } from './gateway-url-map.js';
import type { RunState } from './kind.js';
import { listOwned } from './owned.js';
import type { GceOptions } from './options.js';
import { planDelete, planEnsure, type LbPlan } from './plan.js';

export interface GceProviderInit {
  readonly name?: string;
  readonly clusterName: string;
  readonly options: GceOptions;
  /** Passed to every Compute client (tests: an authClient with a fixed token). */
  readonly clientOptions?: ComputeClientOptions;
  /** Sees every Compute call, e.g. to count them. */
  readonly onCall?: (c: CallRecord) => void;
  /** Where GKE's cluster uid is read when options.clusterId is absent. */
  readonly cluster?: ClusterFacts;
}

/**
 * Serialises the runs that touch what the cluster's load balancers share. Its mark
 * tells whether any such run was under way or began since a moment: a plan observed
 * after that moment with no run in between still holds under the lock, and need not
 * be made again (which would double the reads of every create).
 */
class Mutex {
  private tail: Promise<void> = Promise.resolve();
  private started = 0;
  private running = 0;

  /** Taken before observing; quiet(mark) under the lock says whether the observation is still current. */
  mark(): { readonly started: number; readonly running: boolean } {
    return { started: this.started, running: this.running > 0 };
  }

  quiet(m: { readonly started: number; readonly running: boolean }): boolean {
    // This run is the one holding the lock now, hence started - 1.
    return !m.running && this.started - 1 === m.started;
  }

  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(async () => {
      this.started++;
      this.running++;
      try {
        return await fn();
      } finally {
        this.running--;
      }
    });
    this.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }
}

/** The Event reason of an annotation lbc does not implement. */
export const UNSUPPORTED_ANNOTATION = 'UnsupportedAnnotation';

interface Ran {
  readonly state: RunState;
  /** `<Resource> <id> (<why>)` for each resource deleted and created again. */
  readonly replaced: readonly string[];
  /** Firewall rules lbc may not write; each error names the gcloud command an administrator must run. */
  readonly needsAdmin: readonly GceError[];
}

const adminError = (provider: string, ran: Ran): GceError =>
  new GceError('forbidden', ran.needsAdmin.map((e) => e.message).join('; '), { provider, reason: FIREWALL_NEEDS_ADMINISTRATOR, status: 403 });

/**
 * The status, plus one Event's worth of what had to be replaced. A firewall rule only
 * an administrator can make leaves the load balancer built but unreachable from some
 * sources: the address is still published (as the GCE cloud provider does), and the
 * failure, naming the rule, becomes the Warning Event.
 */
async function outcome(provider: string, plan: LbPlan, ran: Ran, unimplemented: readonly string[]): Promise<LoadBalancerStatus> {
  const base = { ...plan.status(ran.state), ...(await plan.report?.()) };
  const notices: ProviderNotice[] = [...(base.notices ?? [])];
  if (ran.replaced.length > 0) notices.push({ type: 'Normal', reason: 'UpdatedLoadBalancer', message: `Replaced what cannot change in place: ${ran.replaced.join('; ')}` });
  // Nothing a user asked for is silently dropped: each annotation lbc does not build is named.
  for (const a of unimplemented) {
    notices.push({ type: 'Warning', reason: UNSUPPORTED_ANNOTATION, message: `Annotation ${a} is not implemented by lbc's gce provider and has no effect` });
  }
  const status = notices.length > 0 ? { ...base, notices } : base;
  if (ran.needsAdmin.length > 0) {
    const e = adminError(provider, ran);
    throw new PartialEnsureError('forbidden', e.message, status, { provider, cause: e });
  }
  return status;
}

export class GceProvider implements Provider<GceLbOptions> {
  readonly name: string;
  readonly type = 'gce';
  readonly capabilities: ProviderCapabilities;
  readonly clusterName: string;
  readonly options: GceOptions;
  private readonly compute: Compute;
  private readonly tags: NodeTagResolver;
  private readonly ids: ClusterIdResolver;
  private readonly shared = new Mutex();

  constructor(init: GceProviderInit) {
    this.name = init.name ?? 'gce';
    this.clusterName = init.clusterName;
    this.options = init.options;
    this.compute = new Compute({
      provider: this.name,
      options: init.options,
      ...(init.clientOptions ? { clientOptions: init.clientOptions } : {}),
      ...(init.onCall ? { onCall: init.onCall } : {}),
    });
    this.capabilities = {
      layers: ['L4', 'L7', 'Gateway'],
      // What an EXTERNAL_MANAGED or INTERNAL_MANAGED URL map serves (gateway-url-map.ts), global or regional alike:
      // lbc builds one URL map for the three single-cluster classes gke-l7-global-external-managed, gke-l7-rilb and
      // gke-l7-regional-external-managed (https://cloud.google.com/kubernetes-engine/docs/how-to/gatewayclass-capabilities), so one list.
      gatewayFeatures: GCE_GATEWAY_FEATURES,
      // spec.addresses NamedAddress: a reserved address by name (global, or regional for a regional class), as GKE's static IPs.
      gatewayNamedAddresses: true,
      // ip: container-native load balancing (NEGs), for Ingress backends whose Service asks with cloud.google.com/neg.
      targetTypes: ['instance', 'ip'],
      annotationPrefixes: GCE_ANNOTATION_PREFIXES,
      // The NEG annotation is the backend Service's (ingress-gce reads it per Service), never group-wide.
      annotationScopes: { perTargetSet: [ANNOTATION_NEG], merged: {} },
      // A configured backend service answers unmatched requests itself; else the cluster's default backend Service.
      ...(init.options.defaultBackendService === undefined ? { systemDefaultBackend: init.options.defaultBackend } : {}),
    };
    this.tags = new NodeTagResolver(init.options);
    this.ids = new ClusterIdResolver(init.options, init.cluster);
  }

  parseOptions(annotations: Readonly<Record<string, string>>, kind: LbKind): OptionsParseResult<GceLbOptions> {
    const r = parseGceAnnotations(annotations, kind);
    if (!r.ok) return { ok: false, errors: r.errors };
    return r.targetType !== undefined ? { ok: true, options: r.options, targetType: r.targetType } : { ok: true, options: r.options };
  }

  backendProtocol(serviceAnnotations: Readonly<Record<string, string>>, port: { readonly name?: string; readonly port: number }): BackendProtocolResult {
    return backendProtocolOf(serviceAnnotations, port);
  }

  async plan(spec: LoadBalancerSpec<GceLbOptions>, opts?: CallOptions): Promise<readonly Change[]> {
    return this.guard('plan', async () => (await planEnsure(await this.context(opts), spec)).steps.map((s) => s.change));
  }

  async ensure(spec: LoadBalancerSpec<GceLbOptions>, opts?: CallOptions): Promise<LoadBalancerStatus> {
    return this.guard('ensure', async () => {
      const pc = await this.context(opts);
      const mark = this.shared.mark();
      const plan = await planEnsure(pc, spec);
      const unimplemented = spec.providerOptions.unimplemented ?? [];
      if (!plan.steps.some((s) => s.shared)) return outcome(this.name, plan, await this.run(plan), unimplemented);
      // Shared resources: under the lock, and planned again if another run may have changed them since.
      return this.shared.run(async () => {
        const fresh = this.shared.quiet(mark) ? plan : await planEnsure(pc, spec);
        return outcome(this.name, fresh, await this.run(fresh), unimplemented);
      });
    });
  }

  async delete(ref: LbRef, opts?: CallOptions): Promise<void> {
    // Deletion always ends with the shared resources, so it plans under the lock once.
    await this.guard('delete', () =>
      this.shared.run(async () => {
        const ran = await this.run(await planDelete(await this.context(opts), ref));
        if (ran.needsAdmin.length > 0) throw adminError(this.name, ran);
      }),
    );
  }

  async listOwned(opts?: CallOptions): Promise<readonly OwnedLoadBalancer[]> {
    return this.guard('listOwned', async () => listOwned(await this.context(opts)));
  }

  async close(): Promise<void> {
    await this.compute.close();
  }

  /** The changes delete(ref) would make, for `lbc plan` on an object being removed. */
  async planDeletion(ref: LbRef, opts?: CallOptions): Promise<readonly Change[]> {
    return this.guard('plan', async () => (await planDelete(await this.context(opts), ref)).steps.map((s) => s.change));
  }

  private async context(opts: CallOptions | undefined): Promise<PlanContext> {
    return {
      call: { compute: this.compute, signal: opts?.signal, provider: this.name },
      options: this.options,
      clusterName: this.clusterName,
      identity: await this.ids.identity(this.name),
      tags: this.tags,
    };
  }

  /**
   * Runs the steps in order. A firewall rule lbc may not write (shared VPC) does not
   * stop the rest: the load balancer is built, and the errors that name the rules an
   * administrator must create are handed back with the result.
   */
  private async run(plan: LbPlan): Promise<Ran> {
    const state: RunState = { ...plan.planned };
    const replaced: string[] = [];
    const needsAdmin: GceError[] = [];
    for (const step of plan.steps) {
      try {
        await step.run(state);
        if (step.replaces !== undefined) replaced.push(`${step.change.resource} ${step.change.id} (${step.replaces})`);
      } catch (e) {
        if (e instanceof GceError && e.reason === FIREWALL_NEEDS_ADMINISTRATOR) {
          needsAdmin.push(e);
          continue;
        }
        throw e;
      }
    }
    return { state, replaced, needsAdmin };
  }

  private async guard<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      if (e instanceof ProviderError) throw e;
      throw toGceError(e, what, this.name);
    }
  }
}
