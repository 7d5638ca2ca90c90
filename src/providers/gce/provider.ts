// The gce provider: Services become passthrough network load balancers (external, or
// internal with networking.gke.io/load-balancer-type: Internal), Ingresses become
// global external HTTP(S) load balancers. See l4.ts, l7.ts and plan.ts for what is
// built; this file runs plans and keeps the provider contract.
import type { LbKind, LbRef } from '../../model/ref.js';
import type { LoadBalancerSpec } from '../../model/spec.js';
import type { LoadBalancerStatus } from '../../model/status.js';
import {
  ProviderError,
  type CallOptions,
  type Change,
  type OptionsParseResult,
  type OwnedLoadBalancer,
  type Provider,
  type ProviderCapabilities,
} from '../types.js';
import { GCE_ANNOTATION_PREFIXES, parseGceAnnotations, type GceLbOptions } from './annotations.js';
import { Compute, type CallRecord, type ComputeClientOptions } from './compute.js';
import { NodeTagResolver, type PlanContext } from './context.js';
import { GceError, toGceError } from './errors.js';
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
}

/** Serialises the runs that touch what the cluster's load balancers share. */
class Mutex {
  private tail: Promise<void> = Promise.resolve();

  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn);
    this.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }
}

const FIREWALL_NEEDS_ADMIN = 'firewallNeedsAdministrator';

export class GceProvider implements Provider<GceLbOptions> {
  readonly name: string;
  readonly type = 'gce';
  readonly capabilities: ProviderCapabilities = {
    layers: ['L4', 'L7'],
    targetTypes: ['instance'],
    annotationPrefixes: GCE_ANNOTATION_PREFIXES,
  };
  readonly clusterName: string;
  readonly options: GceOptions;
  private readonly compute: Compute;
  private readonly tags: NodeTagResolver;
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
    this.tags = new NodeTagResolver(init.options);
  }

  parseOptions(annotations: Readonly<Record<string, string>>, kind: LbKind): OptionsParseResult<GceLbOptions> {
    const r = parseGceAnnotations(annotations, kind);
    return r.ok ? { ok: true, options: r.options } : { ok: false, errors: r.errors };
  }

  async plan(spec: LoadBalancerSpec<GceLbOptions>, opts?: CallOptions): Promise<readonly Change[]> {
    return this.guard('plan', async () => (await planEnsure(this.context(opts), spec)).steps.map((s) => s.change));
  }

  async ensure(spec: LoadBalancerSpec<GceLbOptions>, opts?: CallOptions): Promise<LoadBalancerStatus> {
    return this.guard('ensure', async () => {
      const pc = this.context(opts);
      const plan = await planEnsure(pc, spec);
      if (!plan.steps.some((s) => s.shared)) return plan.status(await this.run(plan));
      // Shared resources: plan again under the lock, so the plan sees what another run just did.
      return this.shared.run(async () => {
        const fresh = await planEnsure(pc, spec);
        return fresh.status(await this.run(fresh));
      });
    });
  }

  async delete(ref: LbRef, opts?: CallOptions): Promise<void> {
    // Deletion always ends with the shared resources, so it plans under the lock once.
    await this.guard('delete', () => this.shared.run(async () => void (await this.run(await planDelete(this.context(opts), ref)))));
  }

  async listOwned(opts?: CallOptions): Promise<readonly OwnedLoadBalancer[]> {
    return this.guard('listOwned', () => listOwned(this.context(opts)));
  }

  async close(): Promise<void> {
    await this.compute.close();
  }

  /** The changes delete(ref) would make, for `lbc plan` on an object being removed. */
  async planDeletion(ref: LbRef, opts?: CallOptions): Promise<readonly Change[]> {
    return this.guard('plan', async () => (await planDelete(this.context(opts), ref)).steps.map((s) => s.change));
  }

  private context(opts: CallOptions | undefined): PlanContext {
    return {
      call: { compute: this.compute, signal: opts?.signal, provider: this.name },
      options: this.options,
      clusterName: this.clusterName,
      tags: this.tags,
    };
  }

  /**
   * Runs the steps in order. A firewall rule lbc may not write (shared VPC) does not
   * stop the rest: the load balancer is built, and the error that names the rule an
   * administrator must create comes at the end, for the Warning Event.
   */
  private async run(plan: LbPlan): Promise<RunState> {
    const state: RunState = { ...plan.planned };
    const needsAdmin: GceError[] = [];
    for (const step of plan.steps) {
      try {
        await step.run(state);
      } catch (e) {
        if (e instanceof GceError && e.reason === FIREWALL_NEEDS_ADMIN) {
          needsAdmin.push(e);
          continue;
        }
        throw e;
      }
    }
    if (needsAdmin.length > 0) {
      throw new GceError('forbidden', needsAdmin.map((e) => e.message).join('; '), { provider: this.name, reason: FIREWALL_NEEDS_ADMIN, status: 403 });
    }
    return state;
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
