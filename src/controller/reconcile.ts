// What the Service and Ingress reconcilers share: the finalizer and condition they
// write, what a reconcile tells the work queue, how a provider failure turns into a
// retry policy, and the record of what was last applied for each load balancer.
import type { V1Service } from '@kubernetes/client-node';
import type { LbcConfig } from '../config/config.js';
import type { InvolvedObject, EventType } from '../kube/events.js';
import type { Logger } from '../kube/logger.js';
import type { ConditionInput, LoadBalancerIngress, ObjectOf, StatusKind, WriteResult } from '../kube/status.js';
import { abortable } from '../kube/sleep.js';
import type { LbKind, LbRef } from '../model/ref.js';
import type { LoadBalancerSpec } from '../model/spec.js';
import type { LoadBalancerStatus } from '../model/status.js';
import { createHash } from 'node:crypto';
import { specHash } from '../model/canonical.js';
import type { ProviderSet } from '../providers/registry.js';
import { ProviderError, toProviderError } from '../providers/types.js';

/** Held on every object whose load balancer lbc may have created, until the provider says it is gone. */
export const FINALIZER = 'lbc.dev/load-balancer-cleanup';

/** Service status.conditions type lbc maintains (Ingress has no conditions in networking.k8s.io/v1). */
export const READY_CONDITION = 'LoadBalancerReady';

/** What the queue should do with a key after a reconcile. */
export type Outcome =
  | { readonly kind: 'done' }
  /** Transient failure: retry with the key's exponential backoff. */
  | { readonly kind: 'backoff' }
  /** The provider asked us to wait; never sooner than afterMs, nor sooner than the backoff. */
  | { readonly kind: 'throttled'; readonly afterMs: number }
  /** Will not succeed until someone changes something (invalid spec, missing permission): retry rarely. */
  | { readonly kind: 'slow' }
  /** A retry already scheduled is not due yet (RetryGate): come back then, without counting a failure. */
  | { readonly kind: 'wait'; readonly afterMs: number };

export const DONE: Outcome = { kind: 'done' };

/**
 * Holds a failed provider call back until its retry is due, however the key comes
 * back. A key also returns through events, among them the watch echo of lbc's own
 * finalizer write, which can arrive before the write's response and so cannot always
 * be told from someone else's change; without this, such a rerun would call a failing
 * (or throttling) provider again at once. A different digest (the user changed the
 * object) is not held back.
 */
export class RetryGate {
  private readonly failures = new Map<string, { digest: string; at: number }>();

  /** A provider call for key with this digest failed; the controller says when to retry (deferUntil). */
  failed(key: string, digest: string): void {
    this.failures.set(key, { digest, at: Number.POSITIVE_INFINITY });
  }

  deferUntil(key: string, atMs: number): void {
    const f = this.failures.get(key);
    if (f) f.at = atMs;
  }

  /** Milliseconds until a call with this digest may be tried again; 0 when it may now. */
  wait(key: string, digest: string, nowMs = Date.now()): number {
    const f = this.failures.get(key);
    if (!f || f.digest !== digest || f.at === Number.POSITIVE_INFINITY) return 0;
    return Math.max(0, f.at - nowMs);
  }

  clear(key: string): void {
    this.failures.delete(key);
  }
}

/** The API writes a reconcile makes; kube/status.ts's StatusWriter is the real one. */
export interface KubeWriter {
  ensureFinalizer<K extends StatusKind>(kind: K, obj: ObjectOf<K>, finalizer: string): Promise<WriteResult<ObjectOf<K>>>;
  removeFinalizer<K extends StatusKind>(kind: K, obj: ObjectOf<K>, finalizer: string): Promise<WriteResult<ObjectOf<K>>>;
  patchLoadBalancerStatus<K extends StatusKind>(
    kind: K,
    obj: ObjectOf<K>,
    ingress: readonly LoadBalancerIngress[],
    conditions?: readonly ConditionInput[],
    /** Condition types to take off in the same write (one lbc no longer has reason to set). */
    removeConditionTypes?: readonly string[],
  ): Promise<WriteResult<ObjectOf<K>>>;
  clearLoadBalancerStatus<K extends StatusKind>(kind: K, obj: ObjectOf<K>, conditionTypes?: readonly string[]): Promise<WriteResult<ObjectOf<K>>>;
  patchAnnotations<K extends StatusKind>(kind: K, obj: ObjectOf<K>, want: Readonly<Record<string, string>>, managed: readonly string[]): Promise<WriteResult<ObjectOf<K>>>;
}

/** kube/events.ts's EventRecorder, or a test's list. */
export interface EventSink {
  event(target: InvolvedObject, type: EventType, reason: string, message: string): void;
}

/**
 * The object a log line is about, passed to the Logger as an argument beside the message
 * (observability/log.ts's ObjectFields): a JSON logger writes it as fields instead of
 * parsing them back out of the message, which cannot tell an Ingress group key apart.
 * An Ingress group has no namespace; its name is `group/<name>`.
 */
export interface LogSubject {
  readonly kind: LbKind;
  readonly namespace?: string;
  readonly name: string;
  readonly provider?: string;
}

const withProvider = (s: LogSubject, provider: string | undefined): LogSubject => (provider === undefined ? s : { ...s, provider });

/** A Service by its cache key, `ns/name`. */
export function serviceSubject(key: string, provider?: string): LogSubject {
  const slash = key.indexOf('/');
  return withProvider({ kind: 'Service', namespace: key.slice(0, slash), name: key.slice(slash + 1) }, provider);
}

/** An Ingress load balancer by its group key: `ingress/ns/name` (one Ingress) or `group/name`. */
export function ingressSubject(groupKey: string, provider?: string): LogSubject {
  if (groupKey.startsWith('group/')) return withProvider({ kind: 'Ingress', name: groupKey }, provider);
  const rest = groupKey.startsWith('ingress/') ? groupKey.slice('ingress/'.length) : groupKey;
  const slash = rest.indexOf('/');
  return withProvider({ kind: 'Ingress', namespace: rest.slice(0, slash), name: rest.slice(slash + 1) }, provider);
}

/** The object a work-queue key names (`service/ns/name`, `ingress/ns/name`, `group/name`). */
export function queueKeySubject(key: string): LogSubject | undefined {
  if (key.startsWith('service/')) return serviceSubject(key.slice('service/'.length));
  if (key.startsWith('ingress/') || key.startsWith('group/')) return ingressSubject(key);
  if (key.startsWith('gateway/')) {
    const [namespace = '', name = ''] = key.slice('gateway/'.length).split('/');
    return { kind: 'Gateway', namespace, name };
  }
  return undefined;
}

export const isLogSubject = (v: unknown): v is LogSubject =>
  typeof v === 'object' &&
  v !== null &&
  ((v as LogSubject).kind === 'Service' || (v as LogSubject).kind === 'Ingress' || (v as LogSubject).kind === 'Gateway') &&
  typeof (v as LogSubject).name === 'string';

/**
 * The arguments a plain-text (console) logger prints: the subject goes, because the
 * message already names the object and console would print it as a raw object dump.
 */
export function textArgs(args: readonly unknown[]): unknown[] {
  return args.filter((a) => !isLogSubject(a));
}

export interface ReconcilerEnv {
  readonly config: LbcConfig;
  readonly providers: ProviderSet;
  readonly writer: KubeWriter;
  readonly events: EventSink;
  readonly log: Logger;
  /** Upper bound of one provider call; a hung cloud API must not hold a worker forever. */
  readonly providerTimeoutMs: number;
}

/**
 * What the controller's workers call, as controller-runtime's Reconciler
 * (`Reconcile(ctx, Request) (Result, error)`): converge one key on the world as it is
 * now and say when the key should come back; a throw is retried with backoff.
 */
export interface Reconciler {
  reconcile(key: string, flight: Flight): Promise<Outcome>;
}

/** A Reconciler whose keys are load balancers: what the controller needs to route node, endpoint and retry news to it. */
export interface LoadBalancerReconciler extends Reconciler {
  /** The controller's retry schedule for a failed key: reruns before then make no provider call. */
  deferRetry(key: string, atMs: number): void;
  /** Keys whose load balancer has node targets: they follow the eligible node set. */
  keysWithInstanceTargets(): string[];
  /** Whether endpoint changes can change this key's load balancer. */
  usesIpTargets(key: string): boolean;
  appliedRecord(key: string): Readonly<AppliedLb> | undefined;
}

/** What lbc last asked of a provider for one queue key, so an unchanged object costs no call. */
export interface AppliedLb {
  readonly ref: LbRef;
  readonly provider: string;
  /** specDigests' hash of the spec last ensured; absent while the first ensure is in flight or failed. */
  hash?: string;
  /** specDigests' shape: the specHash of that spec without its targets; equal shapes mean only the targets moved. */
  shape?: string;
  status?: LoadBalancerStatus;
  /** The versions of everything the spec was built from, when they alone decide it. */
  inputs?: string;
  usesInstanceTargets: boolean;
  usesIpTargets: boolean;
  /** The next ensure calls the provider even with the spec unchanged: what it reports may have moved on (a certificate being provisioned). */
  recheck?: boolean;
}

const API_VERSIONS: Record<StatusKind, string> = { Service: 'v1', Ingress: 'networking.k8s.io/v1', Gateway: 'gateway.networking.k8s.io/v1' };

export function involved(kind: StatusKind, obj: { metadata?: { namespace?: string; name?: string; uid?: string } }): InvolvedObject {
  return {
    kind,
    apiVersion: API_VERSIONS[kind],
    name: obj.metadata?.name ?? '',
    ...(obj.metadata?.namespace !== undefined ? { namespace: obj.metadata.namespace } : {}),
    ...(obj.metadata?.uid !== undefined ? { uid: obj.metadata.uid } : {}),
  };
}

/**
 * The digest of a spec, and of its shape (the same spec with every target list
 * emptied). Targets are digested as the builders emit them (sorted, fixed key order)
 * with plain JSON, not canonicalised: at 1000 LBs of 100 nodes each, canonical JSON of
 * every target dominated the reconcile's CPU. A builder that changed its output order
 * would cost one idempotent ensure, never a missed change.
 *
 * The hash is the shape followed by each target set's name and the digest of its
 * targets, not a digest of those again: the targets' digest is made once per shared
 * target list, where hashing their JSON for every reconcile was most of specDigests'
 * 4.3% of the cold start's samples (#21). Only ever compared for equality.
 */
export function specDigests(spec: LoadBalancerSpec): { hash: string; shape: string } {
  const bare = { ...spec, targetSets: spec.targetSets.map((ts) => ({ ...ts, targets: [] })) } as LoadBalancerSpec;
  const shape = specHash(bare);
  let hash = shape;
  for (const ts of spec.targetSets) hash += `|${ts.name}=${targetsDigest(ts.targets)}`;
  return { hash, shape };
}

// The digest of a frozen target list's JSON, once per list: every Service's spec shares
// the one node-target list of the eligible set (nodes.ts toNodeTargets), and writing its
// 100 targets out again for each of 1000 Services was the largest single cost of a cold
// start (0.4 s of the 3.2 s of CPU in the profile of the 1000-Service bench).
const frozenTargetsDigest = new WeakMap<readonly unknown[], string>();
function targetsDigest(targets: readonly unknown[]): string {
  if (!Object.isFrozen(targets)) return jsonDigest(targets);
  let digest = frozenTargetsDigest.get(targets);
  if (digest === undefined) frozenTargetsDigest.set(targets, (digest = jsonDigest(targets)));
  return digest;
}
const jsonDigest = (targets: readonly unknown[]): string => createHash('sha256').update(JSON.stringify(targets)).digest('hex').slice(0, 16);

export function targetTypesOf(spec: LoadBalancerSpec): Pick<AppliedLb, 'usesInstanceTargets' | 'usesIpTargets'> {
  return {
    usesInstanceTargets: spec.targetSets.some((t) => t.type === 'instance'),
    usesIpTargets: spec.targetSets.some((t) => t.type === 'ip'),
  };
}

/** status.loadBalancer.ingress from a provider's status; ipMode only exists on Services. */
export function toLoadBalancerIngress(status: LoadBalancerStatus, kind: StatusKind): LoadBalancerIngress[] {
  return status.ingress.map((p) => ({
    ...(p.ip !== undefined ? { ip: p.ip } : {}),
    ...(p.hostname !== undefined ? { hostname: p.hostname } : {}),
    ...(kind === 'Service' && p.ipMode !== undefined ? { ipMode: p.ipMode } : {}),
    ...(p.ports && p.ports.length > 0 ? { ports: p.ports.map((x) => ({ port: x.port, protocol: x.protocol })) } : {}),
  }));
}

export function currentIngress(obj: V1Service | { status?: { loadBalancer?: { ingress?: unknown } } | object }): LoadBalancerIngress[] {
  const status = obj.status as { loadBalancer?: { ingress?: unknown } } | undefined;
  return (status?.loadBalancer?.ingress as LoadBalancerIngress[] | undefined) ?? [];
}

/** Why a provider call was cut short by lbc itself rather than failing on its own. */
export class ObjectGoneError extends Error {
  override readonly name = 'ObjectGoneError';
}

/**
 * Why a provider call was cut short when the controller stops: SIGTERM past the drain
 * timeout, or a leader that lost its Lease. The object did nothing wrong; the next
 * leader reconciles its key again.
 */
export class ControllerStoppingError extends Error {
  override readonly name = 'ControllerStoppingError';
}

/**
 * True when lbc aborted the reconcile itself (its object is going away, or the
 * controller is stopping), not when the cloud failed: such an abort is told to no one.
 */
export function abortedByLbc(flight: Flight): boolean {
  return flight.aborted && (flight.abortReason instanceof ObjectGoneError || flight.abortReason instanceof ControllerStoppingError);
}

export interface ProviderFailure {
  readonly error: ProviderError;
  readonly outcome: Outcome;
  /** Whether retrying without a change can help: false for invalid and forbidden. */
  readonly retryable: boolean;
}

/**
 * The retry policy for a provider failure: throttled waits what the provider asked,
 * other retryable kinds back off per key, invalid and forbidden retry rarely, since
 * only a change to the object (or to the cloud's permissions) can fix them.
 */
export function classifyProviderFailure(e: unknown, provider: string): ProviderFailure {
  const error = toProviderError(e, provider);
  if (error.kind === 'throttled') return { error, outcome: { kind: 'throttled', afterMs: error.retryAfterMs ?? 0 }, retryable: true };
  if (error.retryable) return { error, outcome: { kind: 'backoff' }, retryable: true };
  return { error, outcome: { kind: 'slow' }, retryable: false };
}

/**
 * One reconcile's cancellation: the controller aborts it when its object is being
 * deleted or at shutdown, and a provider call's timeout aborts it too. The
 * AbortController is made only when a provider call needs a signal, because most
 * reconciles (resyncs, echoes of our own writes) never get that far and at 1000s of
 * keys creating one each showed in the profile.
 */
export class Flight {
  private ac: AbortController | undefined;
  private reason: unknown;
  private cancelled = false;

  get signal(): AbortSignal {
    if (!this.ac) {
      this.ac = new AbortController();
      if (this.cancelled) this.ac.abort(this.reason);
    }
    return this.ac.signal;
  }

  get aborted(): boolean {
    return this.cancelled;
  }

  /** Why it was aborted (an ObjectGoneError when its object is going away). */
  get abortReason(): unknown {
    return this.reason;
  }

  abort(reason: unknown): void {
    if (this.cancelled) return;
    this.cancelled = true;
    this.reason = reason;
    this.ac?.abort(reason);
  }
}

/** Runs a provider call bounded by the timeout; a timeout becomes a transient error that says so. */
export async function callProvider<T>(provider: string, flight: Flight, timeoutMs: number, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const timer = setTimeout(() => flight.abort(new ProviderError('transient', `no answer within ${timeoutMs} ms`, { provider })), timeoutMs);
  try {
    // A provider that ignores its signal must not hold the worker either.
    return await abortable(fn(flight.signal), flight.signal);
  } finally {
    clearTimeout(timer);
  }
}

/** One line for an Event: the API server's message when it sent one, not the client's dump of headers. */
export function describeError(e: unknown): string {
  const body = (e as { body?: unknown }).body;
  let parsed: unknown = body;
  if (typeof body === 'string') {
    try {
      parsed = JSON.parse(body);
    } catch {
      parsed = undefined;
    }
  }
  const message = (parsed as { message?: unknown } | undefined)?.message;
  if (typeof message === 'string') return message;
  return e instanceof Error ? e.message : String(e);
}

/** `ns/name` of a Kubernetes object. */
export function keyOf(obj: { metadata?: { namespace?: string; name?: string } }): string {
  return `${obj.metadata?.namespace ?? ''}/${obj.metadata?.name ?? ''}`;
}
