// The AWS provider: Services and Gateways of TCP, UDP and TLS listeners (gateway-nlb.ts)
// become Network Load Balancers, Ingresses (and Ingress groups) and Gateways of HTTP and
// HTTPS listeners (gateway-alb.ts) Application Load Balancers, with their target groups,
// listeners, rules and a managed frontend security group. Everything it creates carries lbc's ownership tags,
// and it changes or deletes nothing without them.
import { authSecretNames } from './authentication.js';
import type { Logger } from '../../kube/logger.js';
import type { LbKind, LbRef } from '../../model/ref.js';
import { refKey } from '../../model/ref.js';
import type { LoadBalancerSpec } from '../../model/spec.js';
import type { LoadBalancerStatus } from '../../model/status.js';
import type { TargetBinding, TargetBindingRef, TargetBindingResult } from '../../model/target-binding.js';
import {
  ProviderError,
  toProviderError,
  type ActionServiceRef,
  type CallOptions,
  type Change,
  type GatewayParametersParse,
  type OptionsParseResult,
  type OwnedLoadBalancer,
  type Provider,
  type ProviderCapabilities,
} from '../types.js';
import { forwardServicesOf, INGRESS_PREFIX, ingressAnnotationScopes, parseAwsOptions, SERVICE_PREFIX, type AwsLbOptions } from './annotations.js';
import { AwsApi, createClients, type CallObserver, type ClientOverrides } from './api.js';
import { BackendSecurityGroups } from './backend-security-group.js';
import { Inventory } from './inventory.js';
import type { AwsOptions } from './options.js';
import { clusterNameMismatch } from './cluster-name.js';
import { instanceIdOf } from './desired.js';
import { newContext, planDelete, planEnsure, runSteps, statusOf, type PlanEnv } from './plan.js';
import { planBind, planUnbind, type BindEnv } from './target-group-binding.js';
import { ALB_GATEWAY_CONTROLLER, ALB_GATEWAY_FEATURES } from './gateway-alb.js';
import { NLB_CLASS_FEATURES, NLB_GATEWAY_CONTROLLER, NLB_GATEWAY_FEATURES } from './gateway-nlb.js';
import { describeOwnedSecurityGroups } from './security-group.js';
import { refFromTags } from './tags.js';
import { discoverVpc, instanceMetadata, type InstanceMetadata } from './vpc.js';
import { LOAD_BALANCER_CONFIGURATION, parseLoadBalancerConfiguration } from './load-balancer-configuration.js';
import type { GatewayParameterKind } from '../../model/gateway.js';
import { parseTargetGroupConfiguration, TARGET_GROUP_CONFIGURATION } from './target-group-configuration.js';
import { LISTENER_RULE_CONFIGURATION, parseListenerRuleConfiguration } from './listener-rule-configuration.js';

export interface AwsProviderInit {
  readonly name?: string;
  readonly clusterName: string;
  readonly options: AwsOptions;
  readonly clients?: ClientOverrides;
  readonly observer?: CallObserver;
  /** info says how the VPC was found and when subnet discovery fell back to route tables. */
  readonly logger?: Pick<Logger, 'warn'> & Partial<Pick<Logger, 'info'>>;
  /** The instance metadata service; default the SDK's client (ClientOverrides.imdsConfig for its endpoint). */
  readonly instanceMetadata?: InstanceMetadata;
  /** Replaces setTimeout-based waiting (backoff, rate limits); tests pass a fast one. */
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** The reason of the Warning Events a successful ensure leaves (settings not applied as written). */
export const ENSURED_WITH_WARNINGS = 'EnsuredWithWarnings';

export class AwsProvider implements Provider<AwsLbOptions> {
  readonly name: string;
  readonly type = 'aws';
  readonly capabilities: ProviderCapabilities = {
    layers: ['L4', 'L7', 'Gateway'],
    // One lbc class serves both: a Gateway's listeners decide ALB or NLB (gateway-nlb.ts gatewayLoadBalancerType).
    gatewayFeatures: [...ALB_GATEWAY_FEATURES, ...NLB_GATEWAY_FEATURES],
    // ALBC's classes keep to their kind, as ALBC's two Gateway controllers do (routeutils/listener_utils.go validateListeners).
    gatewayControllerNames: [
      { controllerName: ALB_GATEWAY_CONTROLLER, features: ALB_GATEWAY_FEATURES },
      { controllerName: NLB_GATEWAY_CONTROLLER, features: NLB_CLASS_FEATURES },
    ],
    gatewayParameters: [LOAD_BALANCER_CONFIGURATION],
    gatewayBackendParameters: [TARGET_GROUP_CONFIGURATION],
    gatewayFilterExtensions: [LISTENER_RULE_CONFIGURATION],
    targetTypes: ['instance', 'ip'],
    annotationPrefixes: [SERVICE_PREFIX, INGRESS_PREFIX],
    annotationScopes: ingressAnnotationScopes,
    certificatesByHost: true,
    instanceTargetsNeedNodePort: { targetTypeAnnotation: `${INGRESS_PREFIX}target-type` },
  };
  readonly clusterName: string;
  readonly api: AwsApi;
  private readonly options: AwsOptions;
  private readonly inventory: Inventory;
  private readonly backendSecurityGroups: BackendSecurityGroups;
  private readonly logger: Pick<Logger, 'warn'> & Partial<Pick<Logger, 'info'>>;
  private readonly metadata: InstanceMetadata;
  /** Warnings last logged per load balancer, so a resync repeats nothing it already said. */
  private readonly reported = new Map<string, string>();
  /** The VPC found without vpcId in the options; undefined once discovery gave up (subnets decide then). */
  private vpc: { readonly vpcId: string | undefined } | undefined;
  /** The clusterName check, once per VPC: the mismatch message, if any. */
  private clusterCheck: { readonly vpcId: string; readonly mismatch: string | undefined } | undefined;
  /** Info lines said once (subnet fallback per VPC and scheme). */
  private readonly said = new Set<string>();

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
    this.backendSecurityGroups = new BackendSecurityGroups(this.clusterName, init.options.backendSecurityGroup, init.options.defaultTags);
    this.logger = init.logger ?? { warn: (m) => console.warn(`lbc: ${m}`) };
    this.metadata = init.instanceMetadata ?? instanceMetadata(init.clients?.imdsConfig);
  }

  parseOptions(annotations: Readonly<Record<string, string>>, kind: LbKind): OptionsParseResult<AwsLbOptions> {
    return parseAwsOptions(annotations, kind);
  }

  parseGatewayParameters(kind: GatewayParameterKind, object: unknown): GatewayParametersParse {
    // The builder hands over only the kinds the capabilities list.
    if (kind.kind === TARGET_GROUP_CONFIGURATION.kind) {
      const r = parseTargetGroupConfiguration(object);
      return r.ok && r.value.defaultConfiguration.targetType !== undefined ? { ...r, targetType: r.value.defaultConfiguration.targetType } : r;
    }
    if (kind.kind === LISTENER_RULE_CONFIGURATION.kind) {
      const r = parseListenerRuleConfiguration(object);
      return r.ok && r.value.auth?.type === 'oidc' ? { ...r, secrets: [r.value.auth.secretName] } : r;
    }
    return parseLoadBalancerConfiguration(object);
  }

  secretNames(annotations: Readonly<Record<string, string>>): readonly string[] {
    return authSecretNames(annotations);
  }

  actionServices(actionValue: string): readonly ActionServiceRef[] {
    return forwardServicesOf(actionValue);
  }

  async plan(spec: LoadBalancerSpec<AwsLbOptions>, opts?: CallOptions): Promise<readonly Change[]> {
    return this.guard(async () => {
      const { env, warnings } = await this.network(spec, opts);
      const p = await planEnsure(spec, env);
      p.done();
      this.report(spec.ref, [...warnings, ...p.desired.warnings], warnings);
      return p.steps.map((s) => s.change);
    });
  }

  async ensure(spec: LoadBalancerSpec<AwsLbOptions>, opts?: CallOptions): Promise<LoadBalancerStatus> {
    return this.guard(async () => {
      const { env, warnings } = await this.network(spec, opts);
      const p = await planEnsure(spec, env);
      const fresh = this.report(spec.ref, [...warnings, ...p.desired.warnings], warnings);
      try {
        await runSteps(p.steps, p.ctx);
      } finally {
        p.done();
      }
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

  async bindTargets(binding: TargetBinding, opts?: CallOptions): Promise<TargetBindingResult> {
    return this.guard(async () => {
      if (binding.clusterName !== this.clusterName) throw new ProviderError('invalid', `binding is for cluster ${binding.clusterName}, this provider serves ${this.clusterName}`, { provider: this.name });
      const ids = (binding.nodeTargets?.nodes ?? []).flatMap((n) => instanceIdOf(n.providerID) ?? []);
      const env = await this.bindEnv(ids, opts);
      const p = await planBind(binding, env);
      await runSteps(p.steps, this.applyContext(env, p.targetGroupArn));
      return p.result;
    });
  }

  async unbindTargets(ref: TargetBindingRef, targetGroup: TargetBinding['targetGroup'] | undefined, opts?: CallOptions): Promise<void> {
    return this.guard(async () => {
      const env = await this.bindEnv([], opts);
      const p = await planUnbind(ref, targetGroup, env);
      await runSteps(p.steps, this.applyContext(env, p.targetGroupArn));
    });
  }

  private async bindEnv(instanceIds: readonly string[], opts: CallOptions | undefined): Promise<BindEnv> {
    return { api: this.api, clusterName: this.clusterName, provider: this.name, clusterVpcId: await this.clusterVpc(instanceIds, opts?.signal), signal: opts?.signal };
  }

  /** The target steps find the user's group under its own ARN. */
  private applyContext(env: BindEnv, targetGroupArn: string | undefined) {
    const ctx = newContext({ ...env, inventory: this.inventory, config: this.options });
    if (targetGroupArn !== undefined) ctx.tgArns.set(targetGroupArn, targetGroupArn);
    return ctx;
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

  private env(opts: CallOptions | undefined, vpcId: string | undefined = this.options.vpcId): PlanEnv {
    return {
      api: this.api,
      inventory: this.inventory,
      clusterName: this.clusterName,
      provider: this.name,
      config: { ...this.options, vpcId },
      signal: opts?.signal,
      onSubnetFallback: (message) => this.sayOnce(message),
      backendSecurityGroups: this.backendSecurityGroups,
    };
  }

  private sayOnce(message: string): void {
    if (this.said.has(message)) return;
    this.said.add(message);
    (this.logger.info ?? this.logger.warn)(`${this.name}: ${message}`);
  }

  /**
   * The cluster's VPC (the options', else discovered once as aws-load-balancer-controller
   * does, see vpc.ts) and, once per VPC, the clusterName check, whose mismatch every
   * object ensured gets as a warning (one Event each) and the log gets once.
   */
  private async network(spec: LoadBalancerSpec<AwsLbOptions>, opts: CallOptions | undefined): Promise<{ env: PlanEnv; warnings: string[] }> {
    const signal = opts?.signal;
    const ids = spec.targetSets.flatMap((ts) => (ts.type === 'instance' ? ts.targets.flatMap((n) => instanceIdOf(n.providerID) ?? []) : []));
    const vpcId = await this.clusterVpc(ids, signal);
    const warnings: string[] = [];
    if (vpcId !== undefined) {
      if (this.clusterCheck?.vpcId !== vpcId) {
        const mismatch = await clusterNameMismatch(this.api, this.clusterName, vpcId, signal);
        this.clusterCheck = { vpcId, mismatch };
        if (mismatch) this.logger.warn(`${this.name}: ${mismatch}`);
      }
      if (this.clusterCheck.mismatch) warnings.push(this.clusterCheck.mismatch);
    }
    return { env: this.env(opts, vpcId), warnings };
  }

  /** The options' vpcId, else the VPC discovered once (from these instances, or this process's own). */
  private async clusterVpc(ids: readonly string[], signal: AbortSignal | undefined): Promise<string | undefined> {
    let vpcId = this.options.vpcId;
    if (vpcId === undefined) {
      if (this.vpc === undefined) {
        try {
          const found = await discoverVpc(this.api, this.metadata, ids, this.name, signal);
          this.vpc = { vpcId: found.vpcId };
          this.sayOnce(`VPC ${found.vpcId} (no vpcId in the options): found from ${found.source}`);
        } catch (e) {
          if (!(e instanceof ProviderError) || e.kind !== 'invalid') throw e;
          // Without Nodes to ask (ip targets only) the next object may have some: ask again then.
          if (ids.length > 0) this.vpc = { vpcId: undefined };
          this.sayOnce(`${e.message}; until then subnets are discovered region-wide and must all be in one VPC`);
        }
      }
      vpcId = this.vpc?.vpcId;
    }
    return vpcId;
  }

  /**
   * Logs warnings not said before for this load balancer; returns them (empty when nothing
   * changed). `loggedOnce` are the provider-wide ones the log already has: an Event each, no line each.
   */
  private report(ref: LbRef, warnings: readonly string[], loggedOnce: readonly string[] = []): readonly string[] {
    const key = refKey(ref);
    const text = warnings.join('; ');
    if (this.reported.get(key) === text) return [];
    this.reported.set(key, text);
    for (const w of warnings) if (!loggedOnce.includes(w)) this.logger.warn(`${this.name}: ${ref.kind} ${ref.namespace}/${ref.name}: ${w}`);
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
