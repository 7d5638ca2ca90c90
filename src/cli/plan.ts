// `lbc plan`: reads the cluster once, as the controller's informers would (same kinds,
// same selectors, same indexes), plans every object in scope with controller/plan.ts,
// and prints what would change, like `terraform plan -detailed-exitcode`: exit 0 when
// nothing would, 2 when something would, 1 when something could not be planned or the
// command could not run at all. Lists and gets only (the Pods whose readiness probes
// Ingress health checks follow are read one by one, as the controller reads them): no
// write to the API server, and no provider call but plan, listOwned and planDeletion.
import type { KubeConfig, V1Secret } from '@kubernetes/client-node';
import type { LbcConfig } from '../config/config.js';
import { EMPTY_NODE_TRACKER, trackNodes } from '../controller/nodes.js';
import { podReader } from '../controller/probe-pods.js';
import { GkeReferences } from '../controller/gke-references.js';
import { ClassParamsWatch } from '../controller/ingress-class-params.js';
import {
  exitCodeOf,
  hasChanges,
  planCluster,
  type ClusterPlan,
  type ObjectPlan,
  type GatewayPlanInputs,
  type PlanInputs,
  type PlanScope,
  type PlanSubject,
} from '../controller/plan.js';
import { selectorsOf, watchedKinds, type WatchedKind, type WatchedKinds, type WatchedObjects } from '../controller/watched-kinds.js';
import { Cache, type KubeObject } from '../kube/cache.js';
import { makeClients, type KubeClients } from '../kube/client.js';
import { discoverGatewayApi, Namespaces } from '../kube/gateway-resources.js';
import { readerOf, type ResourceType } from '../kube/resources.js';
import { discoverGatewayParameters } from '../kube/gateway-parameter-resources.js';
import { gatewayParameterKinds, parametersTarget } from '../controller/gateway/attached-parameters.js';
import { describeRef, type LbKind } from '../model/ref.js';
import { configMapReader } from '../kube/config-maps.js';
import { buildProviders, type ProviderFactories, type ProviderSet } from '../providers/registry.js';
import { checkCompatibleControllerNames } from '../controller/gateway/controller-names.js';
import type { Change } from '../providers/types.js';
import { loadControllerConfig, UsageError } from './configuration.js';
import { connectFromFlags } from './connect.js';

export interface PlanOptions {
  kubeconfig?: string;
  inCluster?: boolean;
  context?: string;
  config?: string;
  namespace?: string;
  output?: 'text' | 'json';
  /** `svc/name`, `ingress/name` or `gateway/name` (kubectl's spellings, short names included). */
  target?: string;
}

export interface PlanDeps {
  /** Where the plan goes; stdout by default. */
  readonly out?: (text: string) => void;
  /** Where problems that stop the command go; stderr by default. */
  readonly err?: (text: string) => void;
  /** Providers to plan with instead of building them from the config (tests keep their state in them). The caller closes them. */
  readonly providers?: ProviderSet;
  /** Factories for buildProviders, e.g. an AWS provider pointed at a test endpoint. */
  readonly factories?: ProviderFactories;
  /** The controller's nodeLabelSelector, when it runs with one. */
  readonly nodeLabelSelector?: string;
  readonly providerTimeoutMs?: number;
}

// kubectl's names for each kind: singular, plural and short name (the Gateway CRD's shortNames: gtw).
const TARGET_KINDS: Readonly<Record<string, LbKind>> = {
  svc: 'Service',
  service: 'Service',
  services: 'Service',
  ing: 'Ingress',
  ingress: 'Ingress',
  ingresses: 'Ingress',
  gtw: 'Gateway',
  gateway: 'Gateway',
  gateways: 'Gateway',
};

/** The scope from `-n` and a `kind/name` argument; a name without -n is looked up in the kubeconfig context's namespace, as kubectl does. */
export function scopeOf(opts: Pick<PlanOptions, 'namespace' | 'target'>, contextNamespace: string | undefined): PlanScope {
  if (opts.target === undefined) return opts.namespace ? { kind: 'namespace', namespace: opts.namespace } : { kind: 'all' };
  const m = /^([a-z0-9.]+)\/([a-z0-9]([-a-z0-9.]*[a-z0-9])?)$/.exec(opts.target);
  const objectKind = m ? TARGET_KINDS[m[1]?.split('.')[0] ?? ''] : undefined;
  if (!m || !objectKind) throw new UsageError(`${JSON.stringify(opts.target)}: name an object as svc/NAME, ingress/NAME or gateway/NAME`);
  return { kind: 'object', namespace: opts.namespace ?? contextNamespace ?? 'default', objectKind, name: m[2] ?? '' };
}

/** One kind as the controller's informer holds it after its first list: every page, the same selectors and indexes. */
async function listKind<T extends KubeObject>(clients: KubeClients, kind: WatchedKind<T>): Promise<Cache<T>> {
  const cache = new Cache<T>(kind.indexers);
  // As the informer lists it (newInformer), so that plan sees the objects the controller would.
  const { list } = readerOf(clients, kind.resource);
  const selectors = selectorsOf(kind);
  let token: string | undefined;
  do {
    const page = await list({ ...selectors, limit: 500, ...(token ? { _continue: token } : {}) });
    for (const item of page.items) cache.set(item);
    token = page.metadata?._continue || undefined;
  } while (token);
  return cache;
}

type WatchedCaches = { readonly [K in keyof WatchedObjects]: Cache<WatchedObjects[K]> } & { readonly providerSecrets?: Cache<V1Secret> };

/** Every kind the controller watches, each listed once: a kind added to watchedKinds is read here without a word. */
async function listWatched(clients: KubeClients, kinds: WatchedKinds): Promise<WatchedCaches> {
  const caches = await Promise.all(Object.entries(kinds).map(async ([key, kind]) => [key, await listKind(clients, kind as WatchedKind<KubeObject>)] as const));
  // entries/fromEntries forget which key holds which kind; each cache was listed from its own key's kind.
  return Object.fromEntries(caches) as unknown as WatchedCaches;
}

/** What readCluster lists: the caches of PlanInputs, filled as the controller's informers fill them. */
export type ClusterSnapshot = Pick<PlanInputs, 'services' | 'ingresses' | 'ingressClasses' | 'endpointSlices' | 'secrets' | 'providerSecrets' | 'nodes' | 'gateway'>;

/**
 * The controller's informer caches, from one paginated list each. Cluster-wide even
 * with -n, because what a Service or Ingress group may hold, and whether an orphan is
 * one, depends on objects in other namespaces (group members, the same Service name).
 * The providers say which Services an Ingress's annotation actions name, as the
 * controller's Ingress index has them say.
 */
export async function readCluster(clients: KubeClients, providers: Pick<ProviderSet, 'all'>, nodeLabelSelector?: string): Promise<ClusterSnapshot> {
  const { services, ingresses, ingressClasses, endpointSlices, secrets, providerSecrets, nodes } = await listWatched(
    clients,
    watchedKinds({ providers, ...(nodeLabelSelector ? { nodeLabelSelector } : {}) }),
  );
  const gateway = await readGatewayApi(clients, providers);
  return { services, ingresses, ingressClasses: ingressClasses.list(), endpointSlices, secrets, ...(providerSecrets ? { providerSecrets } : {}), nodes: nodes.list(), ...(gateway ? { gateway } : {}) };
}

/**
 * The Gateway API objects the Gateway reconciler reads, when the cluster serves the Gateway
 * API (as the controller finds it), and the providers' Gateway parameters objects
 * (LoadBalancerConfigurations, TargetGroupConfigurations, ListenerRuleConfigurations), each kind listed once where its CRD is served, so that a
 * Gateway or GatewayClass naming one is planned with it, as the controller's informers hold them.
 */
async function readGatewayApi(clients: KubeClients, providers: Pick<ProviderSet, 'all'>): Promise<GatewayPlanInputs | undefined> {
  const served = await discoverGatewayApi(clients);
  if (!served) return undefined;
  const list = async <T extends KubeObject>(resource: ResourceType<T> | undefined): Promise<T[]> =>
    resource ? (await listKind(clients, { name: resource.kind, resource, indexers: {} })).list() : [];
  const [gateways, gatewayClasses] = await Promise.all([
    listKind(clients, { name: 'gateways', resource: served.gateways, indexers: {} }),
    listKind(clients, { name: 'gatewayclasses', resource: served.gatewayClasses, indexers: {} }),
  ]);
  const [http, grpc, tls, tcp, udp, referenceGrants, namespaces] = await Promise.all([
    list(served.httpRoutes),
    list(served.grpcRoutes),
    list(served.tlsRoutes),
    list(served.tcpRoutes),
    list(served.udpRoutes),
    list(served.referenceGrants),
    list(Namespaces),
  ]);
  // The providers' parameters kinds the cluster serves, as the controller discovers and watches them.
  const kinds = gatewayParameterKinds(providers.all);
  const servedKinds = kinds.all.length > 0 ? await discoverGatewayParameters(clients, kinds.all) : [];
  const parameters = await Promise.all(servedKinds.map(async (p) => ({ kind: p.kind, cache: await listKind(clients, { name: p.plural, resource: p.resource, indexers: {} }) })));
  const of = (kind: { group: string; kind: string }) => parameters.find((p) => p.kind.group === kind.group && p.kind.kind === kind.kind)?.cache;
  return {
    gateways,
    gatewayClasses,
    routes: { http, grpc, tls, tcp, udp },
    referenceGrants,
    namespaces,
    ...(parameters.length > 0
      ? {
          parameters: (kind, namespace, name) => of(kind)?.get(`${namespace}/${name}`),
          backendParameters: (kind, namespace, service) => (of(kind)?.list() ?? []).filter((o) => parametersTarget(o).includes(`${namespace}/${service}`)),
        }
      : {}),
  };
}

function contextNamespace(kc: KubeConfig): string | undefined {
  return kc.getContextObject(kc.getCurrentContext())?.namespace || undefined;
}

/** Runs the command; resolves to the exit code. */
export async function runPlan(opts: PlanOptions, deps: PlanDeps = {}): Promise<number> {
  const out = deps.out ?? ((t: string) => void process.stdout.write(t));
  const err = deps.err ?? ((t: string) => void process.stderr.write(t));
  let providers: ProviderSet | undefined;
  let gke: GkeReferences | undefined;
  let classParams: ClassParamsWatch | undefined;
  try {
    if (opts.inCluster && opts.kubeconfig) throw new UsageError('--in-cluster and --kubeconfig exclude each other');
    const config = await loadControllerConfig(opts, 'lbc plan');
    const { kc } = connectFromFlags(opts);
    const scope = scopeOf(opts, contextNamespace(kc));
    const clients = makeClients(kc);
    // As lbc run: gce reads GKE's cluster uid, so the plan names what run would build.
    providers = deps.providers ?? (await buildProviders(config, deps.factories, { cluster: configMapReader(clients.core) }));
    checkCompatibleControllerNames(config, providers.all, opts.config);
    const snapshot = await readCluster(clients, providers, deps.nodeLabelSelector);
    // GKE's objects an Ingress names, read as the controller reads them (where its CRDs are served).
    const secrets = snapshot.providerSecrets;
    gke =
      GkeReferences.wanted(providers.all) && secrets
        ? new GkeReferences({ clients, log: { info: () => {}, warn: (m) => err(`lbc plan: ${m}\n`) }, services: snapshot.services, ingresses: snapshot.ingresses, secrets, ingressChanged: () => {} })
        : undefined;
    await gke?.sync();
    // aws-load-balancer-controller's IngressClassParams, read as the controller reads them (where an aws provider is configured and the CRD served).
    classParams = ClassParamsWatch.wanted(providers.all)
      ? new ClassParamsWatch({ clients, log: { info: () => {}, warn: (m) => err(`lbc plan: ${m}\n`) }, classes: () => snapshot.ingressClasses, paramsChanged: () => {}, namespaceChanged: () => {} })
      : undefined;
    await classParams?.sync();
    const nodes = trackNodes(EMPTY_NODE_TRACKER, snapshot.nodes, Date.now(), config.nodeReadyHysteresisMs).eligible;
    const plan = await planCluster(
      {
        ...snapshot,
        nodes,
        pods: podReader(clients.core),
        config,
        providers,
        ...(gke ? { gke } : {}),
        ...(classParams ? { classParams: classParams.lookups } : {}),
        ...(deps.providerTimeoutMs !== undefined ? { providerTimeoutMs: deps.providerTimeoutMs } : {}),
      },
      scope,
    );
    const code = exitCodeOf(plan);
    const notes = (deps.providers ? [] : inProcessProviders(config)).map(
      (name) => `provider ${name} keeps its load balancers inside the controller process; this plan starts from an empty one, so it shows everything as to create`,
    );
    if (opts.output === 'json') out(`${JSON.stringify(toJson(plan, config, code, notes), null, 2)}\n`);
    else out(renderText(plan, config, { server: kc.getCurrentCluster()?.server ?? '?', notes }));
    return code;
  } catch (e) {
    err(`lbc plan: ${describeFailure(e)}\n`);
    return 1;
  } finally {
    await gke?.stop();
    await classParams?.stop();
    if (providers && !deps.providers) await providers.close();
  }
}

/** One line for an API failure: the server's message when it sent one. */
function describeFailure(e: unknown): string {
  const body = (e as { body?: unknown }).body;
  if (typeof body === 'string') {
    try {
      const msg = (JSON.parse(body) as { message?: unknown }).message;
      if (typeof msg === 'string') return msg;
    } catch {
      // not JSON: fall through to the error's own message
    }
  }
  return e instanceof Error ? e.message.trimEnd() : String(e);
}

/** Providers whose load balancers live inside the controller process: a separate plan process starts them empty. */
function inProcessProviders(config: LbcConfig): string[] {
  return config.providers.filter((p) => p.type === 'memory' || p.type === 'local').map((p) => p.name);
}

// ---- rendering ------------------------------------------------------------------------

const SYMBOL: Readonly<Record<Change['op'], string>> = { create: '+', update: '~', delete: '-' };

export type ObjectStatus = 'in-sync' | 'changes' | 'invalid' | 'failed';

export function statusOf(o: ObjectPlan): ObjectStatus {
  if (o.outcome.kind !== 'planned') return o.outcome.kind;
  return hasChanges(o) ? 'changes' : 'in-sync';
}

export function subjectName(s: PlanSubject): string {
  switch (s.kind) {
    case 'Service':
      return `Service ${s.namespace}/${s.name}`;
    case 'IngressGroup':
      return s.group.startsWith('group/') ? `Ingress group ${s.group.slice('group/'.length)} (${s.members.join(', ')})` : `Ingress ${s.group.slice('ingress/'.length)}`;
    case 'Gateway':
      return `Gateway ${s.namespace}/${s.name}${s.routes.length > 0 ? ` (${s.routes.join(', ')})` : ''}`;
    case 'Orphan':
      return `orphan ${s.provider} load balancer ${s.id} of ${describeRef(s.ref)} (uid ${s.ref.uid})`;
    case 'Provider':
      return `provider ${s.provider}`;
  }
}

function changeLine(c: Change, prefix = ''): string {
  const fields = c.fields && c.fields.length > 0 ? ` (${c.fields.join(', ')})` : '';
  const detail = c.detail ? ` — ${c.detail}` : '';
  return `    ${SYMBOL[c.op]} ${prefix}${c.resource} ${c.id}${fields}${detail}`;
}

function headSymbol(o: ObjectPlan): string {
  const status = statusOf(o);
  if (status === 'invalid' || status === 'failed') return '!';
  if (status === 'in-sync') return '=';
  if (o.intent.kind === 'delete') return '-';
  if (o.outcome.kind !== 'planned') return '~';
  // New only when lbc has never taken the object on (no finalizer yet); more listeners on an existing LB are a change.
  const all = [...o.outcome.cloud.flatMap((c) => c.changes), ...o.outcome.kube];
  const firstTime = o.outcome.kube.some((c) => c.resource === 'Finalizer' && c.op === 'create');
  return firstTime && all.every((c) => c.op === 'create') ? '+' : '~';
}

function renderObject(o: ObjectPlan): string[] {
  const name = subjectName(o.subject);
  const why = o.intent.kind === 'ensure' ? `[${o.intent.provider}]` : o.intent.kind === 'delete' ? `[delete: ${o.intent.reason}]` : `[${o.intent.reason}]`;
  const head = `${headSymbol(o)} ${name} ${why}`;
  const { outcome } = o;
  if (outcome.kind !== 'planned') return [`${head}`, `    ${outcome.kind === 'invalid' ? 'invalid' : 'error'}: ${outcome.message}`];
  const lines = [hasChanges(o) || o.intent.kind === 'ignore' ? head : `${head} in sync`];
  // Name the provider on each line only when a deletion asks several.
  const several = o.intent.kind !== 'ensure';
  for (const pc of outcome.cloud) for (const c of pc.changes) lines.push(changeLine(c, several ? `${pc.provider}: ` : ''));
  for (const c of outcome.kube) lines.push(changeLine(c, 'kubernetes: '));
  for (const n of outcome.notes) lines.push(`    note: ${n}`);
  return lines;
}

export interface PlanSummary {
  readonly create: number;
  readonly update: number;
  readonly delete: number;
  readonly changed: number;
  readonly inSync: number;
  readonly errors: number;
}

export function summarize(plan: ClusterPlan): PlanSummary {
  const changes = plan.objects.flatMap((o) => (o.outcome.kind === 'planned' ? [...o.outcome.cloud.flatMap((c) => c.changes), ...o.outcome.kube] : []));
  const statuses = plan.objects.map(statusOf);
  return {
    create: changes.filter((c) => c.op === 'create').length,
    update: changes.filter((c) => c.op === 'update').length,
    delete: changes.filter((c) => c.op === 'delete').length,
    changed: statuses.filter((s) => s === 'changes').length,
    inSync: statuses.filter((s) => s === 'in-sync').length,
    errors: statuses.filter((s) => s === 'invalid' || s === 'failed').length,
  };
}

export function renderText(plan: ClusterPlan, config: LbcConfig, ctx: { server: string; notes: readonly string[] }): string {
  const lines = [
    `lbc plan: cluster ${ctx.server}, cluster name ${config.clusterName}, providers ${config.providers.map((p) => `${p.name} (${p.type})`).join(', ')}`,
    ...ctx.notes.map((n) => `note: ${n}`),
  ];
  lines.push('');
  for (const o of plan.objects) lines.push(...renderObject(o));
  if (plan.objects.length === 0) lines.push('No load balancers in scope.');
  const s = summarize(plan);
  lines.push(
    '',
    `Plan: ${s.create} to create, ${s.update} to change, ${s.delete} to delete; ${s.changed} object(s) with changes, ${s.inSync} in sync, ${s.errors} with errors.`,
  );
  return `${lines.join('\n')}\n`;
}

export function toJson(plan: ClusterPlan, config: LbcConfig, exitCode: number, notes: readonly string[]): unknown {
  return {
    clusterName: config.clusterName,
    exitCode,
    notes,
    summary: summarize(plan),
    objects: plan.objects.map((o) => ({ subject: o.subject, intent: o.intent, status: statusOf(o), outcome: o.outcome })),
  };
}
