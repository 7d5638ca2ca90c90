// The one diff behind both ensure and plan: read what this object owns (by tags), build
// what it should own, and order the per-kind steps as AWS needs them:
//
//   security group → shared backend group and its node port range rules → (replaced LB
//   out) → target groups (with their port claims) and their targets → the shared group's
//   per-port rules → backend rules on the node security group → load balancer →
//   listeners and rules → old target groups → old backend rules → old security groups →
//   unclaimed per-port rules → release of the shared backend group
//
// plan() returns the steps' Changes; ensure() runs them. Every step is one idempotent
// piece of work that finds what it needs in the ApplyContext, so a run cut short at any
// point leaves tagged resources that the next run's diff picks up and finishes.
import type { LbRef } from '../../model/ref.js';
import type { LoadBalancerSpec } from '../../model/spec.js';
import type { LoadBalancerStatus } from '../../model/status.js';
import { ProviderError, type Change } from '../types.js';
import { defaultAwsOptions, INGRESS_PREFIX, SERVICE_PREFIX, type AwsLbOptions } from './annotations.js';
import type { AwsApi } from './api.js';
import { AddTagsCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { TAG_OIDC_CLIENTS } from './authentication.js';
import { listIssuedCertificates } from './certificates.js';
import { resolveTrustStores } from './mutual-authentication.js';
import { needsCertificateDiscovery, synthesize, type DesiredState, type SynthesisInput } from './desired.js';
import { needsGatewayCertificateDiscovery, synthesizeGatewayAlb } from './gateway-alb.js';
import { gatewayLoadBalancerType, needsNlbGatewayCertificateDiscovery, synthesizeGatewayNlb } from './gateway-nlb.js';
import { LOAD_BALANCER_CONFIGURATION, mergeLoadBalancerConfigurations, withLoadBalancerConfiguration, type LoadBalancerConfigurationOptions } from './load-balancer-configuration.js';
import { configuredMutualAuthentication } from './listener-configuration.js';
import type { GatewayParameters } from '../../model/gateway.js';
import { describeTags, type Inventory } from './inventory.js';
import { describeListeners, diffListeners, withListenerAttributes, type ActualListener } from './listener.js';
import { deleteLoadBalancerStep, describeLoadBalancers, diffLoadBalancer, findByName, loadAttributes, type ActualLoadBalancer } from './load-balancer.js';
import type { AwsOptions } from './options.js';
import { deleteSecurityGroupStep, describeOwnedSecurityGroups, diffSecurityGroups, resolveUserSecurityGroups } from './security-group.js';
import { CLUSTER_TAG_PREFIX, resolveSubnets } from './subnets.js';
import { planSharedBackend, releasePortRulesStep, releaseStep, sharedHold, type BackendSecurityGroups, type SharedBackendPlan } from './backend-security-group.js';
import { encodeClaim, inventoryClaims, parseClaim, TAG_BACKEND_PORTS } from './backend-port-claims.js';
import {
  describeNodeGroups,
  describeOwnedBackendRules,
  describeRulesOfGroups,
  diffBackendRules,
  missingRules,
  revokeAllSteps,
  wantedRules,
  type BackendRulesDiff,
  type NodeGroup,
  type RuleSource,
} from './backend-rules.js';
import { targetGroupBackendPorts, type DesiredBackendAccess } from './desired.js';
import { ownedBy, type Tags } from './tags.js';
import { describeWebAcl, diffWebAcl } from './web-acl.js';
import { describeProtection, diffProtection } from './shield-protection.js';
import { deleteTargetGroupStep, describeTargetGroups, diffTargetGroups, loadTargetGroupDetails, type ActualTargetGroup } from './target-group.js';

export interface ApplyContext {
  readonly api: AwsApi;
  readonly signal: AbortSignal | undefined;
  readonly provider: string;
  readonly inventory: Inventory;
  readonly dependencyTimeoutMs: number;
  lbArn: string | undefined;
  dnsName: string | undefined;
  /** The managed frontend security group, once it exists. */
  securityGroupId: string | undefined;
  /** The shared backend security group, once it exists (when this load balancer uses it). */
  backendSecurityGroupId: string | undefined;
  /** Target group name → ARN, for groups that exist or were created in this run. */
  readonly tgArns: Map<string, string>;
  /** Listener port → ARN for listeners created in this run (their rules and certificates need it). */
  readonly listenerArns: Map<number, string>;
}

export interface Step {
  readonly change: Change;
  run(ctx: ApplyContext): Promise<void>;
}

export interface PlanEnv {
  readonly api: AwsApi;
  readonly inventory: Inventory;
  readonly clusterName: string;
  readonly provider: string;
  readonly config: Pick<AwsOptions, 'vpcId' | 'subnets' | 'defaultTags' | 'dependencyTimeout' | 'featureGates'>;
  readonly signal?: AbortSignal | undefined;
  /** Told when subnet discovery found no role tag and chose by route tables. */
  readonly onSubnetFallback?: ((message: string) => void) | undefined;
  /** The shared backend security group; without it every load balancer's backend rules name its own groups. */
  readonly backendSecurityGroups?: BackendSecurityGroups | undefined;
}

export interface EnsurePlan {
  readonly steps: readonly Step[];
  readonly desired: DesiredState;
  readonly ctx: ApplyContext;
  /** Called once the steps ran (or will not): ends this ensure's hold on the shared backend group. */
  readonly done: () => void;
}

export function newContext(env: Omit<PlanEnv, 'config'> & { readonly config: Pick<AwsOptions, 'dependencyTimeout'> }): ApplyContext {
  return {
    api: env.api,
    signal: env.signal,
    provider: env.provider,
    inventory: env.inventory,
    dependencyTimeoutMs: env.config.dependencyTimeout,
    lbArn: undefined,
    dnsName: undefined,
    securityGroupId: undefined,
    backendSecurityGroupId: undefined,
    tgArns: new Map(),
    listenerArns: new Map(),
  };
}

function isAwsOptions(o: unknown): o is AwsLbOptions {
  const x = o as Partial<AwsLbOptions> | undefined;
  return typeof x === 'object' && x !== null && (x.kind === 'Service' || x.kind === 'Ingress' || x.kind === 'Gateway') && typeof x.scheme === 'string' && Array.isArray(x.certificateArns);
}

const loadBalancerConfiguration = (p: GatewayParameters | undefined): LoadBalancerConfigurationOptions | undefined =>
  p && p.group === LOAD_BALANCER_CONFIGURATION.group && p.kind === LOAD_BALANCER_CONFIGURATION.kind ? (p.value as LoadBalancerConfigurationOptions) : undefined;

/**
 * A spec built without this provider's parser (a test, a tool) gets the annotation defaults.
 * A Gateway's LoadBalancerConfigurations (its class's and its own, merged) replace them.
 */
export function optionsOf(spec: LoadBalancerSpec): AwsLbOptions {
  const options = isAwsOptions(spec.providerOptions) ? spec.providerOptions : defaultAwsOptions(spec.ref.kind);
  if (spec.layer !== 'Gateway') return options;
  const ofClass = loadBalancerConfiguration(spec.classParameters);
  const own = loadBalancerConfiguration(spec.parameters);
  const configuration = ofClass && own ? mergeLoadBalancerConfigurations(ofClass, own) : (ofClass ?? own);
  return configuration ? withLoadBalancerConfiguration(options, configuration) : options;
}

function checkSpec(spec: LoadBalancerSpec, env: PlanEnv, options: AwsLbOptions): void {
  const invalid = (msg: string): ProviderError => new ProviderError('invalid', msg, { provider: env.provider });
  if (spec.clusterName !== env.clusterName) throw invalid(`spec is for cluster ${spec.clusterName}, this provider serves ${env.clusterName}`);
  if (spec.ref.kind === 'Service' && spec.layer !== 'L4') throw invalid('a Service becomes a Network Load Balancer, which needs an L4 spec');
  if (spec.ref.kind === 'Ingress' && spec.layer !== 'L7') throw invalid('an Ingress becomes an Application Load Balancer, which needs an L7 spec');
  if (spec.ref.kind === 'Gateway' && spec.layer !== 'Gateway') throw invalid('a Gateway needs a Gateway spec');
  if (options.kind !== spec.ref.kind) throw invalid(`the AWS options were parsed for a ${options.kind}, the spec is for a ${spec.ref.kind}`);
}

/** Load balancers and target groups this object owns, as the inventory and a tag check agree. */
async function ownedElb(env: PlanEnv, ref: LbRef): Promise<{ lbs: ActualLoadBalancer[]; tgs: ActualTargetGroup[] }> {
  const inv = await env.inventory.forRef(ref, env.signal);
  // One tag read for both kinds: ownership is checked on fresh tags, never on the scan's.
  const tags = await describeTags(env.api, [...inv.lbs, ...inv.tgs], env.signal);
  const mine = (arn: string): boolean => ownedBy(tags.get(arn) ?? {}, env.clusterName, ref);
  const lbs = await describeLoadBalancers(env.api, inv.lbs.filter(mine), tags, env.signal);
  const tgs = await describeTargetGroups(env.api, inv.tgs.filter(mine), tags, env.signal);
  // Whatever vanished or lost its tags since the scan is no longer ours to track.
  for (const arn of inv.lbs) if (!lbs.some((l) => l.arn === arn)) env.inventory.forget(arn);
  for (const arn of inv.tgs) if (!tgs.some((t) => t.arn === arn)) env.inventory.forget(arn);
  return { lbs, tgs };
}

export async function planEnsure(spec: LoadBalancerSpec, env: PlanEnv): Promise<EnsurePlan> {
  const options = optionsOf(spec);
  checkSpec(spec, env, options);
  const { signal, api } = env;
  const annotationPrefix = spec.ref.kind === 'Service' ? SERVICE_PREFIX : INGRESS_PREFIX;
  // Decided before any call: a Gateway mixing ALB and NLB listeners stops here.
  const nlbGateway = spec.layer === 'Gateway' && gatewayLoadBalancerType(spec, (m) => new ProviderError('invalid', m, { provider: env.provider })) === 'network';
  const configured = options.scheme === 'internal' ? env.config.subnets.internal : env.config.subnets.internetFacing;
  // The object's own choice first (its subnets, else its tags), then the provider's defaults.
  const selected = options.subnets === undefined ? options.subnetTags : undefined;
  const subnets = await resolveSubnets(api, {
    clusterName: env.clusterName,
    scheme: options.scheme,
    vpcId: env.config.vpcId,
    requested: options.subnets ?? (selected ? undefined : configured),
    selector: selected && { tags: selected, field: options.kind === 'Gateway' ? 'LoadBalancerConfiguration spec.loadBalancerSubnetsSelector' : 'IngressClassParams spec.subnets.tags' },
    minZones: spec.layer === 'L4' || nlbGateway ? 1 : 2,
    annotation: `${annotationPrefix}subnets`,
    provider: env.provider,
    signal,
    onFallback: env.onSubnetFallback,
  });
  const vpcId = env.config.vpcId ?? subnets[0]?.vpcId ?? '';
  const userSecurityGroups = options.securityGroups
    ? await resolveUserSecurityGroups(api, options.securityGroups, vpcId, `${annotationPrefix}security-groups`, env.provider, signal)
    : [];
  // One ACM listing per ensure, only when an HTTPS listener has no certificate given.
  const discover = nlbGateway
    ? needsNlbGatewayCertificateDiscovery(spec as LoadBalancerSpec<AwsLbOptions>, options)
    : needsCertificateDiscovery(spec as LoadBalancerSpec<AwsLbOptions>, options) || needsGatewayCertificateDiscovery(spec as LoadBalancerSpec<AwsLbOptions>, options);
  const acmCertificates = discover ? await listIssuedCertificates(api, signal) : undefined;
  // Before synthesis, as ALBC resolves them while building its model: an unknown trust store stops the object before anything is made.
  const mtls = [...(options.mutualAuthentication ?? []), ...configuredMutualAuthentication(options.listenerConfigurations)];
  const trustStoreArns = mtls.some((m) => m.mode === 'verify') ? await resolveTrustStores(api, mtls, env.provider, signal) : undefined;
  const synthesisInput: SynthesisInput = {
    spec: spec as LoadBalancerSpec<AwsLbOptions>,
    options,
    clusterName: env.clusterName,
    defaultTags: env.config.defaultTags,
    featureGates: env.config.featureGates,
    vpcId,
    subnets,
    userSecurityGroups,
    provider: env.provider,
    ...(acmCertificates ? { acmCertificates } : {}),
    ...(trustStoreArns ? { trustStoreArns } : {}),
  };
  const synthesized =
    synthesisInput.spec.layer !== 'Gateway'
      ? synthesize(synthesisInput)
      : nlbGateway
        ? synthesizeGatewayNlb(synthesisInput, synthesisInput.spec)
        : synthesizeGatewayAlb(synthesisInput, synthesisInput.spec);
  // Ignored, as aws-load-balancer-controller ignores it, but not silently.
  const ignored = [
    ...(options.ignoredAnnotations ?? []),
    ...(spec.requestedAddresses.length > 0
      ? [`spec.loadBalancerIP is ignored: AWS load balancers have DNS names; fixed addresses come from ${SERVICE_PREFIX}eip-allocations or ${SERVICE_PREFIX}private-ipv4-addresses`]
      : []),
  ];
  const desired: DesiredState = ignored.length > 0 ? { ...synthesized, warnings: [...synthesized.warnings, ...ignored] } : synthesized;

  const owned = await ownedElb(env, spec.ref);
  let current = owned.lbs.find((l) => l.name === desired.lb.name) ?? [...owned.lbs].sort((a, b) => (a.name < b.name ? -1 : 1))[0];
  if (!current) {
    current = await findByName(api, desired.lb.name, env.clusterName, spec.ref, env.provider, signal);
    if (current) env.inventory.note(current.arn, 'lb', current.tags);
  }
  const stale = owned.lbs.filter((l) => l !== current);
  const wantedNames = new Set(desired.targetGroups.map((t) => t.name));
  const tgs = await Promise.all(
    owned.tgs.map((t) => {
      const d = desired.targetGroups.find((x) => x.name === t.name);
      return d && wantedNames.has(t.name) ? loadTargetGroupDetails(api, t, Object.keys(d.attributes).length > 0, signal) : t;
    }),
  );
  const tgNames = new Map(tgs.map((t) => [t.arn, t.name]));
  if (current && Object.keys(desired.lb.attributes).length > 0) current = await loadAttributes(api, current, signal);
  const groups = await describeOwnedSecurityGroups(api, env.clusterName, spec.ref.uid, signal);

  const sg = diffSecurityGroups(groups, desired.securityGroup);
  const access = desired.backendAccess;
  // Held before the node groups are read, so that no release of this process revokes a per-port rule this ensure sees and counts on.
  const hold = sharedHold(env.backendSecurityGroups, access);
  // An object deleted and made again (an Ingress group keeps its uid) claims its ports again.
  env.backendSecurityGroups?.going.delete(spec.ref.uid);
  let nodeGroups: NodeGroup[];
  let shared: SharedBackendPlan;
  try {
    nodeGroups = access ? await describeNodeGroups(api, env.clusterName, vpcId, signal) : [];
    shared = await planSharedBackend({
      api,
      signal,
      groups: env.backendSecurityGroups,
      vpcId,
      access,
      nodeGroups,
      attached: current?.securityGroups,
      frontend: userSecurityGroups.length > 0 ? userSecurityGroups : sg.existingId !== undefined ? [sg.existingId] : [],
      hold,
      // The inventory is current (forRef above): no call.
      otherClaims: hold ? inventoryClaims(await env.inventory.all(signal), new Set([spec.ref.uid])) : [],
      ownClaims: tgs.flatMap((t) => parseClaim(t.tags[TAG_BACKEND_PORTS])),
    });
  } catch (e) {
    hold?.done();
    throw e;
  }
  try {
  // Each target group claims the ports it needs rules from the shared group for; a claim no longer wanted is emptied (tags are only ever added).
  const targetGroups = desired.targetGroups.map((t) => {
    const value = shared.claims ? encodeClaim(targetGroupBackendPorts(t).filter(shared.claims)) : '';
    const have = tgs.find((a) => a.name === t.name)?.tags[TAG_BACKEND_PORTS];
    return value === '' && (have ?? '') === '' ? t : { ...t, tags: { ...t.tags, [TAG_BACKEND_PORTS]: value } };
  });
  const backend = await planBackendRules(env, spec.ref, shared.ownAccess, access, vpcId, userSecurityGroups, sg.existingId, nodeGroups.map((g) => g.id));
  // The OIDC clients' digest is written on an existing load balancer only after its
  // actions, so an ensure cut short between the two sends the new client again.
  const oidcDigest = desired.lb.tags[TAG_OIDC_CLIENTS];
  const { [TAG_OIDC_CLIENTS]: _digest, ...tagsBeforeActions } = desired.lb.tags;
  const lbWanted = shared.attach !== undefined ? { ...desired.lb, backendSecurityGroup: true } : desired.lb;
  const lb = diffLoadBalancer(current, current ? { ...lbWanted, tags: tagsBeforeActions } : lbWanted, sg.existingId, shared.attach ?? undefined);
  const replacing = lb.replace.length > 0;
  let listeners: ActualListener[] = [];
  if (current && !replacing) listeners = await withListenerAttributes(api, await describeListeners(api, current.arn, tgNames, desired.lb.type === 'application', signal), desired.listeners, signal);
  const tg = diffTargetGroups(tgs, targetGroups, desired.warnings);
  const oidcRotated = current !== undefined && !replacing && oidcDigest !== undefined && current.tags[TAG_OIDC_CLIENTS] !== oidcDigest;
  const ls = diffListeners(listeners, desired.listeners, desired.lb.tags, oidcRotated);
  const oidcTag: Step[] =
    oidcRotated && current
      ? [
          {
            change: { op: 'update', resource: 'LoadBalancer', id: current.name, fields: ['tags'], detail: TAG_OIDC_CLIENTS },
            run: async (ctx) => {
              await ctx.api.elbv2('AddTags', (c, o) => c.send(new AddTagsCommand({ ResourceArns: [current.arn], Tags: [{ Key: TAG_OIDC_CLIENTS, Value: oidcDigest }] }), o), { signal: ctx.signal });
            },
          },
        ]
      : [];
  // Read only when asked for: without the annotation the association is not lbc's business.
  const webAcl =
    options.wafv2AclArn !== undefined ? diffWebAcl(current && !replacing ? await describeWebAcl(api, current.arn, signal) : undefined, options.wafv2AclArn) : [];
  const shield =
    options.shieldProtection !== undefined
      ? diffProtection(current && !replacing ? await describeProtection(api, current.arn, signal) : undefined, options.shieldProtection)
      : { steps: [] };

  const ctx = newContext(env);
  if (current && !replacing) {
    ctx.lbArn = current.arn;
    ctx.dnsName = current.dnsName;
  }
  ctx.securityGroupId = sg.existingId;
  ctx.backendSecurityGroupId = shared.attach ?? undefined;
  for (const t of tgs) ctx.tgArns.set(t.name, t.arn);

  const steps: Step[] = [
    ...sg.apply,
    ...shared.apply,
    ...lb.replace,
    ...stale.map((l) => deleteLoadBalancerStep(l, 'a second load balancer for the same object (left by an interrupted replacement)')),
    ...tg.apply,
    ...tg.targets,
    // After the target groups' claims: a rule is never there without one.
    ...shared.portRules,
    ...backend.diff.apply,
    ...lb.apply,
    // Before the listeners: traffic never reaches a new load balancer without its web ACL.
    ...webAcl,
    ...shield.steps,
    ...ls.remove,
    ...ls.apply,
    ...oidcTag,
    ...tg.cleanup,
    // Rules naming a frontend group hold it: they go before the group does.
    ...backend.diff.cleanup,
    ...sg.cleanup,
    ...shared.cleanup,
  ];
  const more = [backend.warning, shield.warning].filter((w): w is string => w !== undefined);
  const lbDesired = { ...desired, lb: lbWanted, targetGroups };
  return { steps, desired: more.length > 0 ? { ...lbDesired, warnings: [...desired.warnings, ...more] } : lbDesired, ctx, done: shared.done };
  } catch (e) {
    // Planning failed after the hold was taken: nothing will run.
    shared.done();
    throw e;
  }
}

/**
 * Per-load-balancer backend rules: the rules this object owns (always read, so rules
 * left after the option was switched off, or now covered by the shared backend group,
 * are revoked), for the ports `access` still asks for on the opted-in node groups, and,
 * only when some wanted rule is not there yet, every rule of those groups so that a rule
 * someone else made for the same traffic is not duplicated. `requested` is everything
 * the annotation asks for, for the warning when no node group is tagged.
 */
async function planBackendRules(
  env: PlanEnv,
  ref: LbRef,
  access: DesiredBackendAccess | undefined,
  requested: DesiredBackendAccess | undefined,
  vpcId: string,
  userSecurityGroups: readonly string[],
  managedGroupId: string | undefined,
  nodeGroups: readonly string[],
): Promise<{ diff: BackendRulesDiff; warning?: string }> {
  const { api, signal } = env;
  const owned = await describeOwnedBackendRules(api, env.clusterName, ref.uid, signal);
  const sources: RuleSource[] = userSecurityGroups.length > 0 ? userSecurityGroups.map((id) => ({ kind: 'group', id })) : [{ kind: 'managed', id: managedGroupId }];
  const missing = missingRules(wantedRules(access, nodeGroups, sources), owned);
  const foreign = missing.length > 0 ? await describeRulesOfGroups(api, nodeGroups, signal) : [];
  const diff = diffBackendRules({ access, nodeGroups, sources, owned, foreign });
  if (!requested || nodeGroups.length > 0) return { diff };
  const annotation = `${ref.kind === 'Service' ? SERVICE_PREFIX : INGRESS_PREFIX}manage-backend-security-group-rules`;
  const ports = requested.ports.map((p) => `${p.protocol}/${p.port}`).join(', ');
  return {
    diff,
    warning:
      `${annotation}: no security group in ${vpcId} is tagged ${CLUSTER_TAG_PREFIX}${env.clusterName}, so lbc adds no rule for the load balancer to reach the targets (${ports}); ` +
      `tag the nodes' security group ${CLUSTER_TAG_PREFIX}${env.clusterName}=owned (or shared) to let lbc manage them, or allow that traffic yourself and set the annotation to "false"`,
  };
}

export async function runSteps(steps: readonly Step[], ctx: ApplyContext): Promise<void> {
  for (const step of steps) {
    if (ctx.signal?.aborted) throw new ProviderError('transient', 'aborted', { provider: ctx.provider, cause: ctx.signal.reason });
    await step.run(ctx);
  }
}

export function statusOf(plan: EnsurePlan): LoadBalancerStatus {
  const hostname = plan.ctx.dnsName;
  if (hostname === undefined || hostname === '') throw new ProviderError('transient', 'the load balancer has no DNS name yet', { provider: plan.ctx.provider });
  const ports = [...plan.desired.ports].sort((a, b) => a.port - b.port || (a.protocol < b.protocol ? -1 : 1));
  return { ingress: [{ hostname, ports }] };
}

const nameInArn = (arn: string): string => {
  // arn:...:loadbalancer/net/<name>/<id> and arn:...:targetgroup/<name>/<id>
  const parts = arn.split('/');
  return parts[parts.length - 2] ?? arn;
};

/**
 * Everything tagged for ref, in dependency order: load balancers (their listeners and
 * rules go with them), then target groups (retried while still in use), then the rules
 * lbc added to the nodes' security group (they name the frontend group), then security
 * groups (retried while the deleted load balancer's interfaces still hold them).
 */
export async function planDelete(ref: LbRef, env: PlanEnv): Promise<{ steps: Step[]; ctx: ApplyContext }> {
  const inv = await env.inventory.forRef(ref, env.signal);
  const tags: Map<string, Tags> = await describeTags(env.api, [...inv.lbs, ...inv.tgs], env.signal);
  const steps: Step[] = [];
  for (const arn of inv.lbs) {
    const t = tags.get(arn);
    if (!t || !ownedBy(t, env.clusterName, ref)) {
      env.inventory.forget(arn);
      continue;
    }
    steps.push(
      deleteLoadBalancerStep(
        { arn, name: nameInArn(arn), dnsName: '', type: '', scheme: '', ipAddressType: '', subnets: [], securityGroups: [], state: '', tags: t },
        'the object is gone',
      ),
    );
  }
  const shared = env.backendSecurityGroups;
  // The per-port rules only this object's target groups claim go before the groups (and so their claims) do: a delete cut short in between finds the claims again.
  const claims = inv.tgs.flatMap((arn) => {
    const t = tags.get(arn);
    return t !== undefined && ownedBy(t, env.clusterName, ref) ? parseClaim(t[TAG_BACKEND_PORTS]) : [];
  });
  if (shared && claims.length > 0) steps.push(releasePortRulesStep(shared, 'the object is gone', { except: ref.uid, ports: claims }));
  for (const arn of inv.tgs) {
    const t = tags.get(arn);
    if (!t || !ownedBy(t, env.clusterName, ref)) {
      env.inventory.forget(arn);
      continue;
    }
    steps.push(
      deleteTargetGroupStep(
        { arn, name: nameInArn(arn), protocol: '', port: 0, targetType: '', vpcId: '', healthCheck: {}, loadBalancerArns: [], tags: t },
        'the object is gone',
      ),
    );
  }
  steps.push(...revokeAllSteps(await describeOwnedBackendRules(env.api, env.clusterName, ref.uid, env.signal), 'the object is gone'));
  for (const g of await describeOwnedSecurityGroups(env.api, env.clusterName, ref.uid, env.signal)) steps.push(deleteSecurityGroupStep(g, 'the object is gone'));
  // Every delete offers the shared group back, so one cut short (or a crash after the last
  // load balancer went) is finished by the next.
  if (shared) for (const g of await shared.all(env.api, env.signal)) steps.push(releaseStep(shared, g.id, 'a load balancer of the cluster is gone'));
  return { steps, ctx: newContext(env) };
}
