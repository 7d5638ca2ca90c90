// The AWS provider: Services become Network Load Balancers, Ingresses (and Ingress
// groups) Application Load Balancers, with their target groups, listeners, rules and a
// managed frontend security group. Everything it creates carries lbc's ownership tags,
// and it changes or deletes nothing without them.
import type { Logger } from '../../kube/logger.js';
import type { LbKind, LbRef } from '../../model/ref.js';
import { refKey } from '../../model/ref.js';
import type { LoadBalancerSpec } from '../../model/spec.js';
import type { LoadBalancerStatus } from '../../model/status.js';
import {
  toProviderError,
  type ActionServiceRef,
  type CallOptions,
  type Change,
  type OptionsParseResult,
  type OwnedLoadBalancer,
  type Provider,
  type ProviderCapabilities,
} from '../types.js';
import { forwardServicesOf, INGRESS_PREFIX, ingressAnnotationScopes, parseAwsOptions, SERVICE_PREFIX, type AwsLbOptions } from './annotations.js';
import { AwsApi, createClients, type CallObserver, type ClientOverrides } from './api.js';
import { Inventory } from './inventory.js';
import type { AwsOptions } from './options.js';
import { planDelete, planEnsure, runSteps, statusOf, type PlanEnv } from './plan.js';
import { describeOwnedSecurityGroups } from './security-group.js';
import { refFromTags } from './tags.js';

export interface AwsProviderInit {
  readonly name?: string;
  readonly clusterName: string;
  readonly options: AwsOptions;
  readonly clients?: ClientOverrides;
  readonly observer?: CallObserver;
  readonly logger?: Pick<Logger, 'warn'>;
  /** Replaces setTimeout-based waiting (backoff, rate limits); tests pass a fast one. */
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** The reason of the Warning Events a successful ensure leaves (settings not applied as written). */
export const ENSURED_WITH_WARNINGS = 'EnsuredWithWarnings';

export class AwsProvider implements Provider<AwsLbOptions> {
  readonly name: string;
  readonly type = 'aws';
  readonly capabilities: ProviderCapabilities = {
    layers: ['L4', 'L7'],
    targetTypes: ['instance', 'ip'],
    annotationPrefixes: [SERVICE_PREFIX, INGRESS_PREFIX],
    annotationScopes: ingressAnnotationScopes,
    certificatesByHost: true,
  };
  readonly clusterName: string;
  readonly api: AwsApi;
  private readonly options: AwsOptions;
  private readonly inventory: Inventory;
  private readonly logger: Pick<Logger, 'warn'>;
  /** Warnings last logged per load balancer, so a resync repeats nothing it already said. */
  private readonly reported = new Map<string, string>();

  constructor(init: AwsProviderInit) {
    this.name = init.name ?? 'aws';
    this.clusterName = init.clusterName;
    this.options = init.options;
    const clients = createClients(init.options, init.clients);
    this.api = new AwsApi({
      ...clients,
      options: init.options,
      provider: this.name,
      ...(init.observer ? { observer: init.observer } : {}),
      ...(init.sleep ? { sleep: init.sleep } : {}),
    });
    this.inventory = new Inventory(this.api, this.clusterName, init.options.inventoryRefresh);
    this.logger = init.logger ?? { warn: (m) => console.warn(`lbc: ${m}`) };
  }

  parseOptions(annotations: Readonly<Record<string, string>>, kind: LbKind): OptionsParseResult<AwsLbOptions> {
    return parseAwsOptions(annotations, kind);
  }

  actionServices(actionValue: string): readonly ActionServiceRef[] {
    return forwardServicesOf(actionValue);
  }

  async plan(spec: LoadBalancerSpec<AwsLbOptions>, opts?: CallOptions): Promise<readonly Change[]> {
    return this.guard(async () => {
      const p = await planEnsure(spec, this.env(opts));
      this.report(spec.ref, p.desired.warnings);
      return p.steps.map((s) => s.change);
    });
  }

  async ensure(spec: LoadBalancerSpec<AwsLbOptions>, opts?: CallOptions): Promise<LoadBalancerStatus> {
    return this.guard(async () => {
      const p = await planEnsure(spec, this.env(opts));
      const fresh = this.report(spec.ref, p.desired.warnings);
      await runSteps(p.steps, p.ctx);
      const status = statusOf(p);
      // Warnings become Events through the reconciler; only when they change, so a resync writes none.
      if (fresh.length === 0) return status;
      // The sync succeeded: SyncLoadBalancerFailed would tell alerts written for the upstream
      // service controller that it failed. The warning is about settings that did not apply.
      return { ...status, notices: fresh.map((message) => ({ type: 'Warning' as const, reason: ENSURED_WITH_WARNINGS, message })) };
    });
  }

  async delete(ref: LbRef, opts?: CallOptions): Promise<void> {
    return this.guard(async () => {
      const p = await planDelete(ref, this.env(opts));
      await runSteps(p.steps, p.ctx);
      this.reported.delete(refKey(ref));
    });
  }

  async listOwned(opts?: CallOptions): Promise<readonly OwnedLoadBalancer[]> {
    return this.guard(async () => {
      const signal = opts?.signal;
      const found = new Map<string, OwnedLoadBalancer & { rank: number }>();
      const add = (tags: Readonly<Record<string, string>>, id: string, rank: number): void => {
        const ref = refFromTags(tags);
        if (!ref) return;
        const key = `${refKey(ref)}|${ref.uid}`;
        const seen = found.get(key);
        // Prefer the load balancer's ARN as the id; a leftover group or SG stands in when it is gone.
        if (!seen || rank < seen.rank) found.set(key, { ref, id, rank });
      };
      for (const [arn, e] of await this.inventory.all(signal, true)) add(e.tags, arn, e.kind === 'lb' ? 0 : 1);
      for (const g of await describeOwnedSecurityGroups(this.api, this.clusterName, undefined, signal)) add(g.tags, g.id, 2);
      return [...found.values()]
        .map(({ ref, id }) => ({ ref, id }))
        .sort((a, b) => (refKey(a.ref) < refKey(b.ref) ? -1 : refKey(a.ref) > refKey(b.ref) ? 1 : a.ref.uid < b.ref.uid ? -1 : 1));
    });
  }

  async close(): Promise<void> {
    this.api.elbv2Client.destroy();
    this.api.ec2Client.destroy();
    this.api.acmClient.destroy();
  }

  private env(opts: CallOptions | undefined): PlanEnv {
    return {
      api: this.api,
      inventory: this.inventory,
      clusterName: this.clusterName,
      provider: this.name,
      config: this.options,
      signal: opts?.signal,
    };
  }

  /** Logs warnings not said before for this load balancer; returns them (empty when nothing changed). */
  private report(ref: LbRef, warnings: readonly string[]): readonly string[] {
    const key = refKey(ref);
    const text = warnings.join('; ');
    if (this.reported.get(key) === text) return [];
    this.reported.set(key, text);
    for (const w of warnings) this.logger.warn(`${this.name}: ${ref.kind} ${ref.namespace}/${ref.name}: ${w}`);
    return warnings;
  }

  private async guard<T>(body: () => Promise<T>): Promise<T> {
    try {
      return await body();
    } catch (e) {
      throw toProviderError(e, this.name);
    }
  }
}
