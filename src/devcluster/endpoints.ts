// The three kube-controller-manager v1.26 controllers that turn Services and Pods into
// endpoints: the endpoints controller (core/v1 Endpoints), the endpointslice controller
// (EndpointSlices for Services with a selector) and the endpointslicemirroring controller
// (EndpointSlices copied from user-managed Endpoints of selectorless Services). All three
// are keyed by Service namespace/name, so they share one work queue whose entries note
// which of them an event concerns (each reacts to different events, as the real ones do).
//
// Store listeners run inside a commit, so events only update indexes and queue keys;
// writes happen in a later batch. Indexes keep each change proportional to what it
// touches: pods by namespace, Service membership per pod, slices per Service.
import {
  lessAddress,
  sortCorePorts,
  sortSlicePorts,
  sortSubsets,
  spewSlicePort,
  type CorePort,
  type EndpointAddress,
  type EndpointSubset,
  type ObjectRef,
  type SlicePort,
} from './deep-hash.js';
import { ApiError } from './errors.js';
import { clone, isObject, jsonEqual, type KObject, type OwnerReference } from './objects.js';
import type { ResourceType } from './resources.js';
import type { Store, StoreEvent } from './store.js';
import { refusedEndpointAddresses, type EndpointAddressRules, type EndpointKind } from './endpoint-addresses.js';

export interface EndpointsControllerOptions {
  /** --max-endpoints-per-slice (default 100). */
  maxEndpointsPerSlice?: number;
  /** --mirroring-max-endpoints-per-subset (default 1000). */
  maxEndpointsPerSubset?: number;
  /** Addresses an Endpoints object keeps before it is truncated (1000). */
  maxEndpointsCapacity?: number;
  /** What the API server accepts as an endpoint address (default: what kube-apiserver accepts). */
  addressRules?: EndpointAddressRules;
}

export const LABEL_SERVICE_NAME = 'kubernetes.io/service-name';
export const LABEL_MANAGED_BY = 'endpointslice.kubernetes.io/managed-by';
export const LABEL_HEADLESS = 'service.kubernetes.io/headless';
export const LABEL_SKIP_MIRROR = 'endpointslice.kubernetes.io/skip-mirror';
export const SLICE_CONTROLLER = 'endpointslice-controller.k8s.io';
export const MIRROR_CONTROLLER = 'endpointslicemirroring-controller.k8s.io';
export const ANNOTATION_TRIGGER_TIME = 'endpoints.kubernetes.io/last-change-trigger-time';
export const ANNOTATION_OVER_CAPACITY = 'endpoints.kubernetes.io/over-capacity';
const ANNOTATION_LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';
const ANNOTATION_LEADER = 'control-plane.alpha.kubernetes.io/leader';
const LABEL_ZONE = 'topology.kubernetes.io/zone';

/** Starts the controllers on `store`; returns a function that stops them. */
export function startEndpointsController(store: Store, opts: EndpointsControllerOptions = {}): () => void {
  const c = new EndpointsControllers(store, opts);
  c.start();
  return () => c.stop();
}

// ---------------------------------------------------------------------------------------
// Object shapes (as stored: JSON)

interface ServiceView {
  ns: string;
  name: string;
  uid: string;
  obj: KObject;
  labels: Record<string, string>;
  selector?: Record<string, string>;
  type: string;
  clusterIP: string;
  ipFamilies: string[];
  publishNotReadyAddresses: boolean;
  ports: Array<{ name?: string; protocol?: string; port?: number; targetPort?: number | string; appProtocol?: string }>;
}

interface SliceEndpoint {
  addresses: string[];
  conditions: { ready?: boolean; serving?: boolean; terminating?: boolean };
  hostname?: string;
  targetRef?: ObjectRef;
  nodeName?: string;
  zone?: string;
  [extra: string]: unknown;
}

type Labels = Record<string, string>;

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const rec = (v: unknown): Record<string, unknown> => (isObject(v) ? v : {});
const strMap = (v: unknown): Labels => {
  const out: Labels = {};
  for (const [k, x] of Object.entries(rec(v))) if (typeof x === 'string') out[k] = x;
  return out;
};

function viewService(obj: KObject): ServiceView {
  const spec = rec(obj.spec);
  const sel = strMap(spec.selector);
  return {
    ns: obj.metadata.namespace ?? '',
    name: obj.metadata.name ?? '',
    uid: obj.metadata.uid ?? '',
    obj,
    labels: strMap(obj.metadata.labels),
    // An empty selector does not survive the API server's storage round trip: it is nil.
    ...(Object.keys(sel).length ? { selector: sel } : {}),
    type: str(spec.type) ?? 'ClusterIP',
    clusterIP: str(spec.clusterIP) ?? '',
    ipFamilies: Array.isArray(spec.ipFamilies) ? spec.ipFamilies.filter((x): x is string => typeof x === 'string') : [],
    publishNotReadyAddresses: spec.publishNotReadyAddresses === true,
    ports: Array.isArray(spec.ports) ? spec.ports.filter(isObject) : [],
  };
}

const isServiceIPSet = (s: ServiceView): boolean => s.clusterIP !== '' && s.clusterIP !== 'None';

function labelPairs(labels: unknown): string[] {
  return Object.entries(rec(labels)).map(([k, v]) => `${k}=${String(v)}`);
}

function firstPair(selector: Labels): string {
  const k = Object.keys(selector).sort()[0]!;
  return `${k}=${selector[k]}`;
}

function indexAdd(index: Map<string, Map<string, Set<string>>>, ns: string, pair: string, name: string): void {
  let byPair = index.get(ns);
  if (!byPair) index.set(ns, (byPair = new Map()));
  let set = byPair.get(pair);
  if (!set) byPair.set(pair, (set = new Set()));
  set.add(name);
}

function indexRemove(index: Map<string, Map<string, Set<string>>>, ns: string, pair: string, name: string): void {
  const byPair = index.get(ns);
  const set = byPair?.get(pair);
  if (!set) return;
  set.delete(name);
  if (!set.size) byPair!.delete(pair);
}

function selects(selector: Labels, labels: unknown): boolean {
  const l = rec(labels);
  for (const [k, v] of Object.entries(selector)) if (l[k] !== v) return false;
  return true;
}

function podSpec(pod: KObject): Record<string, unknown> {
  return rec(pod.spec);
}

function podStatus(pod: KObject): Record<string, unknown> {
  return rec(pod.status);
}

function readyCondition(pod: KObject): Record<string, unknown> | undefined {
  const conds = podStatus(pod).conditions;
  if (!Array.isArray(conds)) return undefined;
  return conds.find((c): c is Record<string, unknown> => isObject(c) && c.type === 'Ready');
}

const isPodReady = (pod: KObject): boolean => readyCondition(pod)?.status === 'True';

/** podIPs, or podIP for writers that only set the singular field. */
function podIPs(pod: KObject): string[] {
  const st = podStatus(pod);
  const ips = Array.isArray(st.podIPs) ? st.podIPs.map((x) => str(rec(x).ip)).filter((x): x is string => !!x) : [];
  if (ips.length) return ips;
  const ip = str(st.podIP);
  return ip ? [ip] : [];
}

const isIPv6 = (ip: string): boolean => ip.includes(':');

/** endpointutil.ShouldPodBeInEndpoints. */
function shouldPodBeInEndpoints(pod: KObject, includeTerminating: boolean): boolean {
  const phase = podStatus(pod).phase;
  if (phase === 'Failed' || phase === 'Succeeded') return false;
  if (!podIPs(pod).length) return false;
  if (!includeTerminating && pod.metadata.deletionTimestamp) return false;
  return true;
}

function shouldSetHostname(pod: KObject, svc: ServiceView): boolean {
  const spec = podSpec(pod);
  const hostname = str(spec.hostname);
  return !!hostname && str(spec.subdomain) === svc.name && pod.metadata.namespace === svc.ns;
}

/** podutil.FindPort: a number, or a named container port with the same protocol. */
function findPort(pod: KObject, sp: ServiceView['ports'][number]): number | undefined {
  // Services stored without the registry's defaults (a bare Store) mean targetPort = port.
  const tp = sp.targetPort === undefined || sp.targetPort === 0 || sp.targetPort === '' ? sp.port : sp.targetPort;
  if (typeof tp === 'number') return tp;
  if (typeof tp !== 'string') return undefined;
  const proto = sp.protocol ?? 'TCP';
  const containers = podSpec(pod).containers;
  if (!Array.isArray(containers)) return undefined;
  for (const c of containers) {
    const ports = rec(c).ports;
    if (!Array.isArray(ports)) continue;
    for (const p of ports) {
      const r = rec(p);
      if (r.name === tp && (str(r.protocol) ?? 'TCP') === proto && typeof r.containerPort === 'number') return r.containerPort;
    }
  }
  return undefined;
}

function podRef(pod: KObject): ObjectRef {
  return { kind: 'Pod', namespace: pod.metadata.namespace ?? '', name: pod.metadata.name ?? '', uid: pod.metadata.uid ?? '' };
}

function parseTime(v: unknown): number | undefined {
  if (typeof v !== 'string') return undefined;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : t;
}

/** Go's time.RFC3339Nano in UTC: fractional seconds only when there are some. */
function rfc3339Nano(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d*?)0*Z$/, (_m, f: string) => (f ? `.${f}Z` : 'Z'));
}

function sameLabels(a: Labels | undefined, b: Labels | undefined): boolean {
  // Semantic equality: a nil and an empty map are the same.
  return jsonEqual(a ?? {}, b ?? {});
}

function without(m: Labels | undefined, ...keys: string[]): Labels {
  const out: Labels = { ...(m ?? {}) };
  for (const k of keys) delete out[k];
  return out;
}

function setOrDrop(meta: KObject['metadata'], field: 'labels' | 'annotations', m: Labels): void {
  // Empty maps are dropped by the API server's encoding (omitempty), so never store them.
  if (Object.keys(m).length) meta[field] = m;
  else delete meta[field];
}

/** Trigger-time bookkeeping of endpointutil.TriggerTimeTracker. */
class TriggerTimeTracker {
  private readonly states = new Map<string, { pods: Map<string, number>; svc: number }>();

  compute(key: string, svc: ServiceView, pods: KObject[]): number | undefined {
    const state = this.states.get(key);
    let min: number | undefined;
    const podTimes = new Map<string, number>();
    for (const pod of pods) {
      const t = parseTime(readyCondition(pod)?.lastTransitionTime);
      if (t === undefined) continue;
      const name = pod.metadata.name ?? '';
      podTimes.set(name, t);
      if (t > (state?.pods.get(name) ?? -Infinity)) min = min === undefined ? t : Math.min(min, t);
    }
    const svcTime = parseTime(svc.obj.metadata.creationTimestamp) ?? 0;
    if (svcTime > (state?.svc ?? -Infinity)) min = min === undefined ? svcTime : Math.min(min, svcTime);
    this.states.set(key, { pods: podTimes, svc: svcTime });
    return state ? min : svcTime;
  }

  delete(key: string): void {
    this.states.delete(key);
  }
}

interface SvcState {
  selector?: Labels;
  members: Set<string>;
}

/** The three controllers, each with its own idea of which events concern it. */
type Controller = 'endpoints' | 'slices' | 'mirror';
const ALL: Controller[] = ['endpoints', 'slices', 'mirror'];

interface SliceChanges {
  create: KObject[];
  update: KObject[];
  remove: KObject[];
}

// ---------------------------------------------------------------------------------------

class EndpointsControllers {
  private readonly rt: { svc: ResourceType; pod: ResourceType; node: ResourceType; ep: ResourceType; slice: ResourceType };
  private readonly maxPerSlice: number;
  private readonly maxPerSubset: number;
  private readonly maxCapacity: number;
  private readonly addressRules: EndpointAddressRules;

  private readonly services = new Map<string, Map<string, SvcState>>();
  private readonly pods = new Map<string, Map<string, KObject>>();
  /**
   * Per namespace, "key=value" -> pods carrying that label, and -> Services whose selector
   * is filed under that pair (one pair per Service: any pod it selects must carry it).
   * Matching then costs what the candidates cost, not the namespace's size.
   */
  private readonly podsByLabel = new Map<string, Map<string, Set<string>>>();
  private readonly servicesByLabel = new Map<string, Map<string, Set<string>>>();
  /** ns/pod -> names of Services (same namespace) selecting it. */
  private readonly podServices = new Map<string, Set<string>>();
  /** node name -> Services that left out pods because that Node did not exist. */
  private readonly waitingForNode = new Map<string, Set<string>>();
  /** ns/service -> slices labelled with that service name. */
  private readonly slices = new Map<string, Map<string, KObject>>();

  private readonly queue = new Map<string, Set<Controller>>();
  /** Services deleted (or missing at start-up) whose Endpoints the endpoints controller removes. */
  private readonly gone = new Set<string>();
  private scheduled = false;
  private writing = false;
  private stopped = false;
  private unsubscribe: (() => void) | undefined;
  private readonly retries = new Map<string, { attempts: number; timer?: ReturnType<typeof setTimeout>; controllers: Set<Controller> }>();
  private readonly sliceTrigger = new TriggerTimeTracker();
  private readonly endpointsTrigger = new TriggerTimeTracker();

  constructor(private readonly store: Store, opts: EndpointsControllerOptions) {
    const find = (group: string, plural: string): ResourceType => {
      const rt = store.find(group, plural);
      if (!rt) throw new Error(`endpoints controller: store does not serve ${plural}`);
      return rt;
    };
    this.rt = {
      svc: find('', 'services'),
      pod: find('', 'pods'),
      node: find('', 'nodes'),
      ep: find('', 'endpoints'),
      slice: find('discovery.k8s.io', 'endpointslices'),
    };
    this.maxPerSlice = opts.maxEndpointsPerSlice ?? 100;
    this.maxPerSubset = opts.maxEndpointsPerSubset ?? 1000;
    this.maxCapacity = opts.maxEndpointsCapacity ?? 1000;
    this.addressRules = opts.addressRules ?? { allowLoopback: false };
  }

  start(): void {
    this.unsubscribe = this.store.subscribe((rt, ev) => this.onEvent(rt, ev));
    // Objects stored before we started are replayed as additions, like an informer's list.
    for (const rt of [this.rt.node, this.rt.pod, this.rt.svc, this.rt.ep, this.rt.slice]) {
      for (const object of this.store.listRaw(rt)) this.onEvent(rt, { type: 'ADDED', object, rv: 0 });
    }
    // checkLeftoverEndpoints: Endpoints whose Service went away while nobody watched.
    for (const ep of this.store.listRaw(this.rt.ep)) {
      if (ep.metadata.annotations?.[ANNOTATION_LEADER] !== undefined) continue;
      const ns = ep.metadata.namespace ?? '';
      const name = ep.metadata.name ?? '';
      if (this.store.peek(this.rt.svc, ns, name)) continue;
      this.gone.add(`${ns}/${name}`);
      this.enqueue(`${ns}/${name}`, 'endpoints');
    }
  }

  stop(): void {
    this.stopped = true;
    this.unsubscribe?.();
    for (const r of this.retries.values()) if (r.timer) clearTimeout(r.timer);
    this.retries.clear();
    this.queue.clear();
  }

  // ----- events -------------------------------------------------------------------------

  private onEvent(rt: ResourceType, ev: StoreEvent): void {
    if (this.stopped) return;
    if (rt === this.rt.pod) this.onPod(ev);
    else if (rt === this.rt.svc) this.onService(ev);
    else if (rt === this.rt.node) this.onNode(ev);
    else if (rt === this.rt.slice) this.onSlice(ev);
    else if (rt === this.rt.ep && !this.writing) {
      const key = `${ev.object.metadata.namespace}/${ev.object.metadata.name}`;
      // The endpoints controller only recreates deleted Endpoints; edits wait for its next sync.
      if (ev.type === 'DELETED') this.enqueue(key, 'endpoints', 'mirror');
      else this.enqueue(key, 'mirror');
    }
  }

  private onService(ev: StoreEvent): void {
    const ns = ev.object.metadata.namespace ?? '';
    const name = ev.object.metadata.name ?? '';
    let byName = this.services.get(ns);
    if (ev.type === 'DELETED') {
      this.gone.add(`${ns}/${name}`);
      const st = byName?.get(name);
      if (st) this.resetMembers(ns, name, st, undefined);
      byName?.delete(name);
    } else {
      this.gone.delete(`${ns}/${name}`);
      if (!byName) this.services.set(ns, (byName = new Map()));
      const selector = viewService(ev.object).selector;
      let st = byName.get(name);
      if (!st) byName.set(name, (st = { members: new Set() }));
      if (!jsonEqual(st.selector, selector) || ev.type === 'ADDED') this.resetMembers(ns, name, st, selector);
    }
    this.enqueue(`${ns}/${name}`, ...ALL);
  }

  private resetMembers(ns: string, name: string, st: SvcState, selector: Labels | undefined): void {
    for (const p of st.members) this.podServices.get(`${ns}/${p}`)?.delete(name);
    st.members.clear();
    if (st.selector) indexRemove(this.servicesByLabel, ns, firstPair(st.selector), name);
    st.selector = selector;
    if (!selector) return;
    const pair = firstPair(selector);
    indexAdd(this.servicesByLabel, ns, pair, name);
    const pods = this.pods.get(ns);
    for (const podName of this.podsByLabel.get(ns)?.get(pair) ?? []) {
      const pod = pods?.get(podName);
      if (pod && selects(selector, pod.metadata.labels)) this.addMember(ns, name, st, podName);
    }
  }

  private addMember(ns: string, svc: string, st: SvcState, pod: string): void {
    st.members.add(pod);
    const k = `${ns}/${pod}`;
    let set = this.podServices.get(k);
    if (!set) this.podServices.set(k, (set = new Set()));
    set.add(svc);
  }

  private onPod(ev: StoreEvent): void {
    const ns = ev.object.metadata.namespace ?? '';
    const name = ev.object.metadata.name ?? '';
    const key = `${ns}/${name}`;
    const pod = ev.type === 'DELETED' ? undefined : ev.object;
    let byName = this.pods.get(ns);
    if (!byName) this.pods.set(ns, (byName = new Map()));
    const previous = byName.get(name);
    if (pod) byName.set(name, pod);
    else byName.delete(name);
    const oldPairs = labelPairs(previous?.metadata.labels);
    const newPairs = labelPairs(pod?.metadata.labels);
    for (const pair of oldPairs) if (!newPairs.includes(pair)) indexRemove(this.podsByLabel, ns, pair, name);
    for (const pair of newPairs) indexAdd(this.podsByLabel, ns, pair, name);

    // Services that selected it before, and those filed under one of its labels now.
    const candidates = new Set(this.podServices.get(key));
    const byPair = this.servicesByLabel.get(ns);
    for (const pair of newPairs) for (const svc of byPair?.get(pair) ?? []) candidates.add(svc);
    const services = this.services.get(ns);
    for (const svcName of candidates) {
      const st = services?.get(svcName);
      if (!st?.selector) continue;
      const was = st.members.has(name);
      const is = !!pod && selects(st.selector, pod.metadata.labels);
      if (is && !was) this.addMember(ns, svcName, st, name);
      if (!is && was) {
        st.members.delete(name);
        this.podServices.get(key)?.delete(svcName);
      }
      if (is || was) this.enqueue(`${ns}/${svcName}`, 'endpoints', 'slices');
    }
    if (!pod) this.podServices.delete(key);
  }

  /**
   * The real endpointslice controller ignores Node events (without topology hints); it only
   * retries, with backoff, Services that left pods out because their Node was missing. A new
   * Node is what ends those retries, so that is the one event acted on.
   */
  private onNode(ev: StoreEvent): void {
    if (ev.type !== 'ADDED') return;
    const name = ev.object.metadata.name ?? '';
    const waiting = this.waitingForNode.get(name);
    if (!waiting) return;
    this.waitingForNode.delete(name);
    for (const key of waiting) this.enqueue(key, 'slices');
  }

  private onSlice(ev: StoreEvent): void {
    const ns = ev.object.metadata.namespace ?? '';
    const name = ev.object.metadata.name ?? '';
    const before = ev.old?.metadata.labels?.[LABEL_SERVICE_NAME];
    const after = ev.type === 'DELETED' ? undefined : ev.object.metadata.labels?.[LABEL_SERVICE_NAME];
    if (before !== undefined && before !== after) this.slices.get(`${ns}/${before}`)?.delete(name);
    if (after !== undefined) {
      const k = `${ns}/${after}`;
      let m = this.slices.get(k);
      if (!m) this.slices.set(k, (m = new Map()));
      m.set(name, ev.object);
    } else if (ev.type === 'DELETED') {
      const svc = ev.object.metadata.labels?.[LABEL_SERVICE_NAME];
      if (svc !== undefined) this.slices.get(`${ns}/${svc}`)?.delete(name);
    }
    if (this.writing) return;
    // Someone else touched a slice one of our controllers owns: put it right.
    for (const o of [ev.old, ev.object]) {
      const l = o?.metadata.labels;
      const by = l?.[LABEL_MANAGED_BY];
      if (l?.[LABEL_SERVICE_NAME] === undefined) continue;
      if (by === SLICE_CONTROLLER) this.enqueue(`${ns}/${l[LABEL_SERVICE_NAME]}`, 'slices');
      if (by === MIRROR_CONTROLLER) this.enqueue(`${ns}/${l[LABEL_SERVICE_NAME]}`, 'mirror');
    }
  }

  private enqueue(key: string, ...controllers: Controller[]): void {
    let set = this.queue.get(key);
    if (!set) this.queue.set(key, (set = new Set()));
    for (const c of controllers) set.add(c);
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    setImmediate(() => this.drain());
  }

  private drain(): void {
    this.scheduled = false;
    if (this.stopped) return;
    const work = [...this.queue];
    this.queue.clear();
    for (const [key, controllers] of work) this.sync(key, controllers);
  }

  private sync(key: string, controllers: Set<Controller>): void {
    const slash = key.indexOf('/');
    const ns = key.slice(0, slash);
    const name = key.slice(slash + 1);
    const failed = new Set<Controller>();
    this.writing = true;
    try {
      for (const c of ALL) {
        if (!controllers.has(c)) continue;
        try {
          if (c === 'endpoints') this.syncEndpoints(ns, name);
          else if (c === 'slices') this.syncSlices(ns, name);
          else this.syncMirror(ns, name);
        } catch (e) {
          // A namespace being deleted rejects creates for good; the real controllers drop those.
          if (!isNamespaceTerminating(e)) failed.add(c);
        }
      }
    } finally {
      this.writing = false;
    }
    if (failed.size) this.retryLater(key, failed);
    else if (!this.retries.get(key)?.timer) this.retries.delete(key);
  }

  /** The real controllers requeue with backoff; so do we, a few times. */
  private retryLater(key: string, controllers: Set<Controller>): void {
    const r = this.retries.get(key) ?? { attempts: 0, controllers: new Set<Controller>() };
    if (r.attempts >= 8) {
      this.retries.delete(key);
      return;
    }
    r.attempts++;
    for (const c of controllers) r.controllers.add(c);
    if (r.timer) clearTimeout(r.timer);
    r.timer = setTimeout(() => {
      r.timer = undefined;
      this.enqueue(key, ...r.controllers);
      r.controllers.clear();
    }, Math.min(5 * 2 ** r.attempts, 1000));
    r.timer.unref?.();
    this.retries.set(key, r);
  }

  // ----- shared helpers -------------------------------------------------------------------

  private service(ns: string, name: string): ServiceView | undefined {
    const o = this.store.peek(this.rt.svc, ns, name);
    return o ? viewService(o) : undefined;
  }

  private memberPods(ns: string, name: string): KObject[] {
    const st = this.services.get(ns)?.get(name);
    const pods = this.pods.get(ns);
    if (!st || !pods) return [];
    return [...st.members].sort().map((p) => pods.get(p)).filter((p): p is KObject => !!p);
  }

  private slicesOf(ns: string, name: string, managedBy: string): KObject[] {
    const m = this.slices.get(`${ns}/${name}`);
    if (!m) return [];
    return [...m.values()]
      .filter((s) => s.metadata.labels?.[LABEL_MANAGED_BY] === managedBy)
      .sort((a, b) => ((a.metadata.name ?? '') < (b.metadata.name ?? '') ? -1 : 1));
  }

  private deleteQuietly(rt: ResourceType, ns: string, name: string): void {
    try {
      this.store.delete(rt, ns, name);
    } catch (e) {
      if (!(e instanceof ApiError && e.code === 404)) throw e;
    }
  }

  /**
   * The controllers write through the API server, which refuses what it refuses from anyone:
   * a Pod with a loopback podIP is accepted, but the slice or Endpoints naming it is not, and
   * the real controllers give up that sync (checked against kube-controller-manager v1.26:
   * Warning FailedToUpdateEndpointSlices / FailedToUpdateEndpoint, the old object stays).
   */
  private writable(kind: EndpointKind, obj: KObject): boolean {
    return !refusedEndpointAddresses(kind, obj, this.addressRules);
  }

  private applySlices(ns: string, changes: SliceChanges, allowCreate: boolean): void {
    // finalize stops at the first failed write: what came before it has landed.
    if (allowCreate) {
      for (const s of changes.create) {
        const stored = toStored(s);
        if (!this.writable('EndpointSlice', stored)) return;
        this.store.create(this.rt.slice, stored);
      }
    }
    for (const s of changes.update) {
      const stored = toStored(s);
      if (!this.writable('EndpointSlice', stored)) return;
      this.store.update(this.rt.slice, stored, { ns, name: s.metadata.name! });
    }
    for (const s of changes.remove) this.deleteQuietly(this.rt.slice, ns, s.metadata.name!);
  }

  // ----- endpoints controller ---------------------------------------------------------------

  private syncEndpoints(ns: string, name: string): void {
    const key = `${ns}/${name}`;
    const svc = this.service(ns, name);
    if (!svc) {
      // Whoever created them: the real controller deletes Endpoints named after a deleted Service.
      if (this.gone.has(key) && this.store.peek(this.rt.ep, ns, name)) this.deleteQuietly(this.rt.ep, ns, name);
      this.gone.delete(key);
      this.endpointsTrigger.delete(key);
      return;
    }
    if (svc.type === 'ExternalName' || !svc.selector) return;
    const pods = this.memberPods(ns, name);
    const trigger = this.endpointsTrigger.compute(key, svc, pods);

    let subsets: EndpointSubset[] = [];
    for (const pod of pods) {
      if (!shouldPodBeInEndpoints(pod, svc.publishNotReadyAddresses)) continue;
      const family = svc.ipFamilies[0] ?? (isServiceIPSet(svc) ? (isIPv6(svc.clusterIP) ? 'IPv6' : 'IPv4') : isIPv6(podIPs(pod)[0] ?? '') ? 'IPv6' : 'IPv4');
      const ip = podIPs(pod).find((x) => isIPv6(x) === (family === 'IPv6'));
      if (!ip) continue;
      const epa: EndpointAddress = { ip, nodeName: str(podSpec(pod).nodeName) ?? '', targetRef: podRef(pod) };
      if (shouldSetHostname(pod, svc)) epa.hostname = str(podSpec(pod).hostname);
      const ready = svc.publishNotReadyAddresses || isPodReady(pod);
      const add = (ports: CorePort[]): void => {
        subsets.push(ready ? { addresses: [epa], ports } : { notReadyAddresses: [epa], ports });
      };
      if (!svc.ports.length) {
        if (svc.clusterIP === 'None') add([]);
        continue;
      }
      for (const sp of svc.ports) {
        const port = findPort(pod, sp);
        if (port === undefined) continue;
        const epp: CorePort = { name: sp.name ?? '', port, protocol: sp.protocol ?? 'TCP' };
        if (sp.appProtocol !== undefined) epp.appProtocol = sp.appProtocol;
        add([epp]);
      }
    }
    subsets = repackSubsets(subsets);

    const current = this.store.peek(this.rt.ep, ns, name);
    const currentSubsets = Array.isArray(current?.subsets) ? (current.subsets as EndpointSubset[]) : [];
    if (
      current &&
      jsonEqual(stripRV(currentSubsets), stripRV(subsets.map(encodeSubset))) &&
      sameLabels(without(current.metadata.labels, LABEL_HEADLESS), svc.labels) &&
      this.capacityAnnotationCorrect(current.metadata.annotations, currentSubsets)
    ) {
      return;
    }
    const next: KObject = current ? clone(current) : { apiVersion: 'v1', kind: 'Endpoints', metadata: { name, namespace: ns } };
    const annotations = { ...(next.metadata.annotations ?? {}) };
    if (trigger !== undefined) annotations[ANNOTATION_TRIGGER_TIME] = rfc3339Nano(trigger);
    else delete annotations[ANNOTATION_TRIGGER_TIME];
    if (this.truncate(subsets)) annotations[ANNOTATION_OVER_CAPACITY] = 'truncated';
    else delete annotations[ANNOTATION_OVER_CAPACITY];
    const labels = { ...svc.labels };
    if (!isServiceIPSet(svc)) labels[LABEL_HEADLESS] = '';
    else delete labels[LABEL_HEADLESS];
    setOrDrop(next.metadata, 'annotations', annotations);
    setOrDrop(next.metadata, 'labels', labels);
    if (subsets.length) next.subsets = subsets.map(encodeSubset);
    else delete next.subsets;
    if (!this.writable('Endpoints', next)) return;
    if (current) this.store.update(this.rt.ep, next, { ns, name });
    else this.store.create(this.rt.ep, next);
  }

  private capacityAnnotationCorrect(annotations: Labels | undefined, subsets: EndpointSubset[]): boolean {
    let n = 0;
    for (const s of subsets) n += (s.addresses?.length ?? 0) + (s.notReadyAddresses?.length ?? 0);
    if (n > this.maxCapacity) return false;
    const set = annotations?.[ANNOTATION_OVER_CAPACITY] !== undefined;
    return (set && n === this.maxCapacity) || (!set && n < this.maxCapacity);
  }

  /** truncateEndpoints: keeps each subset's share of the capacity, ready addresses first. */
  private truncate(subsets: EndpointSubset[]): boolean {
    let ready = 0;
    let notReady = 0;
    for (const s of subsets) {
      ready += s.addresses?.length ?? 0;
      notReady += s.notReadyAddresses?.length ?? 0;
    }
    if (ready + notReady <= this.maxCapacity) return false;
    const truncateReady = ready > this.maxCapacity;
    const max = truncateReady ? this.maxCapacity : this.maxCapacity - ready;
    const total = truncateReady ? ready : notReady;
    let canBeAdded = max;
    for (const s of subsets) {
      const inSubset = truncateReady ? (s.addresses?.length ?? 0) : (s.notReadyAddresses?.length ?? 0);
      const toBeAdded = Math.min(Math.ceil((inSubset / total) * max), canBeAdded);
      if (truncateReady) {
        s.addresses = s.addresses?.slice(0, toBeAdded);
        s.notReadyAddresses = [];
        canBeAdded -= s.addresses?.length ?? 0;
      } else {
        s.notReadyAddresses = s.notReadyAddresses?.slice(0, toBeAdded);
        canBeAdded -= s.notReadyAddresses?.length ?? 0;
      }
    }
    return true;
  }

  // ----- endpointslice controller -----------------------------------------------------------

  private syncSlices(ns: string, name: string): void {
    const key = `${ns}/${name}`;
    const svc = this.service(ns, name);
    if (!svc) {
      // The garbage collector would get there through ownerReferences; be prompt instead.
      for (const s of this.slicesOf(ns, name, SLICE_CONTROLLER)) this.deleteQuietly(this.rt.slice, ns, s.metadata.name!);
      this.sliceTrigger.delete(key);
      return;
    }
    if (svc.type === 'ExternalName' || !svc.selector) return;
    const pods = this.memberPods(ns, name);
    const trigger = this.sliceTrigger.compute(key, svc, pods);
    const existing = this.slicesOf(ns, name, SLICE_CONTROLLER);

    const types = addressTypesFor(svc);
    const all: SliceChanges = { create: [], update: [], remove: existing.filter((s) => !types.includes(str(s.addressType) ?? '')) };
    for (const addressType of types) {
      const changes = this.reconcileByAddressType(svc, pods, existing.filter((s) => s.addressType === addressType), addressType);
      all.create.push(...changes.create);
      all.update.push(...changes.update);
      all.remove.push(...changes.remove);
    }
    for (const s of [...all.create, ...all.update]) {
      const a = { ...(s.metadata.annotations ?? {}) };
      if (trigger !== undefined) a[ANNOTATION_TRIGGER_TIME] = rfc3339Nano(trigger);
      else delete a[ANNOTATION_TRIGGER_TIME];
      setOrDrop(s.metadata, 'annotations', a);
    }
    // No new slices for a Service on its way out, so as not to race the garbage collector.
    this.applySlices(ns, all, !svc.obj.metadata.deletionTimestamp);
  }

  private reconcileByAddressType(svc: ServiceView, pods: KObject[], existing: KObject[], addressType: string): SliceChanges {
    const create: KObject[] = [];
    const update: KObject[] = [];
    const remove: KObject[] = [];

    const existingByPortMap = new Map<string, KObject[]>();
    for (const s of existing) {
      if (!ownedBy(s, svc.uid, 'Service')) {
        remove.push(s);
        continue;
      }
      const k = portMapKey(slicePortsOf(s));
      existingByPortMap.set(k, [...(existingByPortMap.get(k) ?? []), s]);
    }

    const desiredByPortMap = new Map<string, { ports: SlicePort[]; set: Map<string, SliceEndpoint> }>();
    for (const pod of pods) {
      if (!shouldPodBeInEndpoints(pod, true)) continue;
      const ports = endpointPorts(svc, pod);
      const k = portMapKey(ports);
      let desired = desiredByPortMap.get(k);
      if (!desired) desiredByPortMap.set(k, (desired = { ports, set: new Map() }));
      const nodeName = str(podSpec(pod).nodeName) ?? '';
      const node = nodeName ? this.store.peek(this.rt.node, undefined, nodeName) : undefined;
      // A pod on a node that does not exist is left out until the Node shows up.
      if (!node && !svc.publishNotReadyAddresses) {
        let waiting = this.waitingForNode.get(nodeName);
        if (!waiting) this.waitingForNode.set(nodeName, (waiting = new Set()));
        waiting.add(`${svc.ns}/${svc.name}`);
        continue;
      }
      const ep = podToEndpoint(pod, node, svc, addressType);
      if (ep.addresses.length) desired.set.set(endpointKey(ep), ep);
    }

    for (const [k, desired] of desiredByPortMap) {
      const r = this.reconcileByPortMapping(svc, existingByPortMap.get(k) ?? [], desired.set, desired.ports, addressType);
      create.push(...r.create);
      update.push(...r.update);
      remove.push(...r.remove);
    }
    for (const [k, slices] of existingByPortMap) if (!desiredByPortMap.has(k)) remove.push(...slices);

    if (existing.length === remove.length && create.length < 1) {
      const placeholder = newEndpointSlice(svc, [], addressType);
      if (remove.length === 1 && placeholderEqual(remove[0]!, placeholder)) remove.length = 0;
      else create.push(placeholder);
    }

    // Creates and deletes together become updates of the slices that would be deleted.
    for (let i = 0; i < remove.length && create.length > 0; ) {
      const victim = remove[i]!;
      const s = create[create.length - 1]!;
      if (victim.addressType === s.addressType && ownedBy(victim, svc.uid, 'Service')) {
        s.metadata.name = victim.metadata.name;
        create.pop();
        update.push(s);
        remove.splice(i, 1);
      } else i++;
    }
    return { create, update, remove };
  }

  private reconcileByPortMapping(svc: ServiceView, existing: KObject[], desired: Map<string, SliceEndpoint>, ports: SlicePort[], addressType: string): SliceChanges {
    const byName = new Map<string, KObject>();
    const unchanged: string[] = [];
    const toUpdate: string[] = [];
    const toDelete: string[] = [];

    for (const s of existing) {
      const name = s.metadata.name!;
      byName.set(name, s);
      const kept: SliceEndpoint[] = [];
      let changed = false;
      const eps = endpointsOf(s);
      for (const ep of eps) {
        const k = endpointKey(ep);
        const got = desired.get(k);
        if (!got) continue;
        kept.push(got);
        if (!jsonEqual(got, ep)) changed = true;
        desired.delete(k);
      }
      const { labels, changed: labelsChanged } = sliceLabels(s, svc);
      if (changed || kept.length !== eps.length) {
        if (!kept.length) toDelete.push(name);
        else {
          const copy = clone(s);
          copy.endpoints = kept;
          copy.metadata.labels = labels;
          byName.set(name, copy);
          toUpdate.push(name);
        }
      } else if (labelsChanged) {
        const copy = clone(s);
        copy.metadata.labels = labels;
        byName.set(name, copy);
        toUpdate.push(name);
      } else unchanged.push(name);
    }

    const take = (into: KObject): void => {
      const eps = endpointsOf(into);
      for (const [k, ep] of desired) {
        if (eps.length >= this.maxPerSlice) break;
        eps.push(ep);
        desired.delete(k);
      }
      into.endpoints = eps;
    };

    // Fill the slices being updated anyway, fullest first.
    if (desired.size && toUpdate.length) {
      const slices = toUpdate.map((n) => byName.get(n)!).sort((a, b) => endpointsOf(b).length - endpointsOf(a).length);
      for (const s of slices) take(s);
    }

    const create: KObject[] = [];
    while (desired.size) {
      let fill: KObject | undefined;
      if (desired.size < this.maxPerSlice && unchanged.length) {
        fill = closestFit(unchanged.map((n) => byName.get(n)!), desired.size, this.maxPerSlice);
      }
      if (fill) {
        fill = clone(fill);
        byName.set(fill.metadata.name!, fill);
      } else fill = newEndpointSlice(svc, ports, addressType);
      take(fill);
      if (fill.metadata.name) {
        toUpdate.push(fill.metadata.name);
        unchanged.splice(unchanged.indexOf(fill.metadata.name), 1);
      } else create.push(fill);
    }

    return {
      create,
      update: [...new Set(toUpdate)].map((n) => byName.get(n)!),
      remove: toDelete.map((n) => byName.get(n)!),
    };
  }

  // ----- endpointslicemirroring controller ---------------------------------------------------

  private syncMirror(ns: string, name: string): void {
    const mirrored = this.slicesOf(ns, name, MIRROR_CONTROLLER);
    const svc = this.service(ns, name);
    const ep = svc && !svc.selector ? this.store.peek(this.rt.ep, ns, name) : undefined;
    const skip = !ep || ep.metadata.labels?.[LABEL_SKIP_MIRROR] === 'true' || ep.metadata.annotations?.[ANNOTATION_LEADER] !== undefined;
    if (skip) {
      for (const s of mirrored) this.deleteQuietly(this.rt.slice, ns, s.metadata.name!);
      return;
    }

    const desired = new Map<string, { ports: SlicePort[]; addressType: string; set: Map<string, SliceEndpoint> }>();
    const subsets = repackSubsets(Array.isArray(ep.subsets) ? (ep.subsets as EndpointSubset[]) : []);
    for (const subset of subsets) {
      const ports = sortSlicePorts((subset.ports ?? []).map((p) => {
        const sp: SlicePort = { name: p.name ?? '', protocol: p.protocol ?? 'TCP', port: p.port };
        if (p.appProtocol !== undefined) sp.appProtocol = p.appProtocol;
        return sp;
      }));
      for (const addressType of ['IPv4', 'IPv6']) {
        const k = `${addressType}-${portMapKey(ports)}`;
        if (!desired.has(k)) desired.set(k, { ports, addressType, set: new Map() });
      }
      let added = 0;
      const add = (a: EndpointAddress, ready: boolean): void => {
        if (added >= this.maxPerSubset) return;
        const type = addressTypeOf(a.ip);
        if (!type) return;
        const e: SliceEndpoint = { addresses: [a.ip], conditions: { ready } };
        if (a.hostname) e.hostname = a.hostname;
        if (a.targetRef) e.targetRef = a.targetRef;
        if (a.nodeName !== undefined) e.nodeName = a.nodeName;
        desired.get(`${type}-${portMapKey(ports)}`)!.set.set(endpointKey(e), e);
        added++;
      };
      for (const a of subset.addresses ?? []) add(a, true);
      for (const a of subset.notReadyAddresses ?? []) add(a, false);
    }

    const existingByKey = new Map<string, KObject[]>();
    for (const s of mirrored) {
      const k = `${str(s.addressType) ?? ''}-${portMapKey(slicePortsOf(s))}`;
      existingByKey.set(k, [...(existingByKey.get(k) ?? []), s]);
    }

    const changes: SliceChanges = { create: [], update: [], remove: [] };
    const wantAnnotations = without(strMap(ep.metadata.annotations), ANNOTATION_TRIGGER_TIME, ANNOTATION_LAST_APPLIED);
    for (const [k, d] of desired) {
      const ex = existingByKey.get(k) ?? [];
      if (!d.set.size) {
        changes.remove.push(...ex);
        continue;
      }
      if (ex.length) {
        changes.remove.push(...ex.slice(1));
        const first = ex[0]!;
        const eps = endpointsOf(first);
        const unchanged = eps.length === d.set.size && eps.every((e) => jsonEqual(d.set.get(endpointKey(e)), e));
        if (
          unchanged &&
          sameLabels(strMap(ep.metadata.labels), without(first.metadata.labels, LABEL_MANAGED_BY, LABEL_SERVICE_NAME)) &&
          sameLabels(wantAnnotations, first.metadata.annotations)
        ) {
          continue;
        }
      }
      const s = newMirrorSlice(ep, d.ports, d.addressType, ex[0]?.metadata.name);
      s.endpoints = [...d.set.values()].slice(0, this.maxPerSubset);
      (s.metadata.name ? changes.update : changes.create).push(s);
    }
    for (const [k, ex] of existingByKey) if (!desired.has(k)) changes.remove.push(...ex);

    // Recycle slices about to be deleted for the ones about to be created.
    for (let i = 0; i < changes.remove.length; ) {
      const victim = changes.remove[i]!;
      const idx = changes.create.findIndex((c) => c.addressType === victim.addressType);
      if (idx < 0) {
        i++;
        continue;
      }
      const [s] = changes.create.splice(idx, 1);
      s!.metadata.name = victim.metadata.name;
      changes.update.push(s!);
      changes.remove.splice(i, 1);
    }
    this.applySlices(ns, changes, !ep.metadata.deletionTimestamp);
  }
}

// ---------------------------------------------------------------------------------------
// Slice helpers

function isNamespaceTerminating(e: unknown): boolean {
  return e instanceof ApiError && e.code === 403 && !!e.details?.causes?.some((c) => c.reason === 'NamespaceTerminating');
}

function ownedBy(slice: KObject, uid: string, kind: string): boolean {
  return (slice.metadata.ownerReferences ?? []).some((o) => o.uid === uid && o.kind === kind && o.apiVersion === 'v1');
}

function endpointsOf(s: KObject): SliceEndpoint[] {
  return Array.isArray(s.endpoints) ? (s.endpoints as SliceEndpoint[]) : [];
}

function slicePortsOf(s: KObject): SlicePort[] {
  return Array.isArray(s.ports) ? (s.ports as SlicePort[]) : [];
}

/** Identity of an endpoint within a slice (endpointsliceutil's endpointHash). */
function endpointKey(e: SliceEndpoint): string {
  return JSON.stringify([[...e.addresses].sort(), e.hostname ?? '', e.targetRef?.namespace ?? '', e.targetRef?.name ?? '']);
}

/** Ports are grouped by content; nil and empty lists count as the same group here. */
function portMapKey(ports: SlicePort[]): string {
  return sortSlicePorts(ports).map(spewSlicePort).join('\n');
}

function addressTypeOf(ip: string): 'IPv4' | 'IPv6' | undefined {
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(ip)) return ip.split('.').every((o) => Number(o) <= 255) ? 'IPv4' : undefined;
  return /^[0-9a-fA-F:.]+$/.test(ip) && ip.includes(':') ? 'IPv6' : undefined;
}

function addressTypesFor(svc: ServiceView): string[] {
  const types = ['IPv4', 'IPv6'].filter((t) => svc.ipFamilies.includes(t));
  if (types.length) return types;
  if (isServiceIPSet(svc)) return [isIPv6(svc.clusterIP) ? 'IPv6' : 'IPv4'];
  return ['IPv4', 'IPv6'];
}

/** getEndpointPorts: service ports resolved against one pod, in hash order. */
function endpointPorts(svc: ServiceView, pod: KObject): SlicePort[] {
  if (!svc.ports.length && svc.clusterIP === 'None') return [];
  const out: SlicePort[] = [];
  for (const sp of svc.ports) {
    const port = findPort(pod, sp);
    if (port === undefined) continue;
    const p: SlicePort = { name: sp.name ?? '', protocol: sp.protocol ?? 'TCP', port };
    if (sp.appProtocol !== undefined) p.appProtocol = sp.appProtocol;
    out.push(p);
  }
  return sortSlicePorts(out);
}

function podToEndpoint(pod: KObject, node: KObject | undefined, svc: ServiceView, addressType: string): SliceEndpoint {
  const serving = isPodReady(pod);
  const terminating = !!pod.metadata.deletionTimestamp;
  // For compatibility, a terminating pod is never "ready" unless everything is published.
  const ready = svc.publishNotReadyAddresses || (serving && !terminating);
  const ep: SliceEndpoint = {
    addresses: podIPs(pod).filter((ip) => isIPv6(ip) === (addressType === 'IPv6')),
    conditions: { ready, serving, terminating },
  };
  if (shouldSetHostname(pod, svc)) ep.hostname = str(podSpec(pod).hostname);
  ep.targetRef = podRef(pod);
  const nodeName = str(podSpec(pod).nodeName);
  if (nodeName) ep.nodeName = nodeName;
  const zone = node?.metadata.labels?.[LABEL_ZONE];
  if (zone) ep.zone = zone;
  return ep;
}

/** setEndpointSliceLabels: the Service's labels plus the reserved ones. */
function sliceLabels(slice: KObject | undefined, svc: ServiceView): { labels: Labels; changed: boolean } {
  const reserved = [LABEL_SERVICE_NAME, LABEL_MANAGED_BY, LABEL_HEADLESS];
  const own = without(slice?.metadata.labels, ...reserved);
  const labels = without(svc.labels, ...reserved);
  const changed = !sameLabels(own, labels);
  if (!isServiceIPSet(svc)) labels[LABEL_HEADLESS] = '';
  labels[LABEL_SERVICE_NAME] = svc.name;
  labels[LABEL_MANAGED_BY] = SLICE_CONTROLLER;
  return { labels, changed };
}

function controllerRef(kind: string, obj: KObject): OwnerReference {
  return { apiVersion: 'v1', kind, name: obj.metadata.name ?? '', uid: obj.metadata.uid ?? '', controller: true, blockOwnerDeletion: true };
}

function newEndpointSlice(svc: ServiceView, ports: SlicePort[], addressType: string): KObject {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      generateName: `${svc.name}-`,
      namespace: svc.ns,
      labels: sliceLabels(undefined, svc).labels,
      ownerReferences: [controllerRef('Service', svc.obj)],
    },
    addressType,
    endpoints: [],
    ports,
  };
}

function newMirrorSlice(ep: KObject, ports: SlicePort[], addressType: string, name: string | undefined): KObject {
  const labels: Labels = { ...strMap(ep.metadata.labels), [LABEL_SERVICE_NAME]: ep.metadata.name ?? '', [LABEL_MANAGED_BY]: MIRROR_CONTROLLER };
  const meta: KObject['metadata'] = {
    namespace: ep.metadata.namespace,
    labels,
    ownerReferences: [controllerRef('Endpoints', ep)],
  };
  setOrDrop(meta, 'annotations', without(strMap(ep.metadata.annotations), ANNOTATION_TRIGGER_TIME, ANNOTATION_LAST_APPLIED));
  if (name) meta.name = name;
  else meta.generateName = `${ep.metadata.name}-`;
  return { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: meta, addressType, endpoints: [], ports };
}

/** placeholderSliceCompare: namespace, labels, owners and content; names and annotations aside. */
function placeholderEqual(a: KObject, b: KObject): boolean {
  return (
    a.metadata.namespace === b.metadata.namespace &&
    sameLabels(a.metadata.labels, b.metadata.labels) &&
    jsonEqual(a.metadata.ownerReferences ?? [], b.metadata.ownerReferences ?? []) &&
    a.addressType === b.addressType &&
    endpointsOf(a).length === 0 &&
    slicePortsOf(a).length === 0
  );
}

/** getSliceToFill: the fullest unchanged slice that still has room for all of them. */
function closestFit(slices: KObject[], n: number, max: number): KObject | undefined {
  let best: KObject | undefined;
  let bestDiff = max;
  for (const s of slices) {
    const diff = max - (n + endpointsOf(s).length);
    if (diff >= 0 && diff < bestDiff) {
      bestDiff = diff;
      best = s;
      if (diff === 0) break;
    }
  }
  return best;
}

/**
 * Empty lists come back from the API server as null (protobuf storage), so store them so.
 * The slices passed here are this controller's own copies.
 */
function toStored(s: KObject): KObject {
  if (!endpointsOf(s).length) s.endpoints = null;
  if (!slicePortsOf(s).length) s.ports = null;
  return s;
}

// ---------------------------------------------------------------------------------------
// Endpoints helpers

/** endpoints.RepackSubsets: one subset per distinct set of (address, readiness), then sorted. */
function repackSubsets(subsets: EndpointSubset[]): EndpointSubset[] {
  const addrKey = (a: EndpointAddress): string => `${a.ip}\u0000${a.targetRef?.uid ?? ''}`;
  const all = new Map<string, EndpointAddress>();
  // Port (rendered) -> address key -> ready; -1 stands for "no ports".
  const byPort = new Map<string, { port?: CorePort; addrs: Map<string, boolean> }>();
  const map = (a: EndpointAddress, ready: boolean, port: CorePort | undefined): void => {
    const k = addrKey(a);
    if (!all.has(k)) all.set(k, { ...a });
    const pk = port ? JSON.stringify([port.name ?? '', port.port, port.protocol ?? '', port.appProtocol ?? null]) : '-1';
    let entry = byPort.get(pk);
    if (!entry) byPort.set(pk, (entry = { ...(port ? { port } : {}), addrs: new Map() }));
    // Not ready always wins over ready.
    const was = entry.addrs.get(k);
    if (was === undefined || was) entry.addrs.set(k, ready);
  };
  for (const s of subsets) {
    const ports = s.ports?.length ? s.ports : [undefined];
    for (const port of ports) {
      for (const a of s.addresses ?? []) map(a, true, port);
      for (const a of s.notReadyAddresses ?? []) map(a, false, port);
    }
  }
  const groups = new Map<string, { addrs: Map<string, boolean>; ports: CorePort[] | undefined }>();
  for (const { port, addrs } of byPort.values()) {
    const gk = JSON.stringify([...addrs.entries()].sort(([a], [b]) => lessAddress(all.get(a)!, all.get(b)!)));
    let g = groups.get(gk);
    if (!g) groups.set(gk, (g = { addrs, ports: undefined }));
    if (port) (g.ports ??= []).push(port);
  }
  const out: EndpointSubset[] = [];
  for (const g of groups.values()) {
    const s: EndpointSubset = {};
    for (const [k, ready] of g.addrs) {
      const list = ready ? (s.addresses ??= []) : (s.notReadyAddresses ??= []);
      list.push(all.get(k)!);
    }
    if (g.ports) s.ports = sortCorePorts(g.ports);
    out.push(s);
  }
  return sortSubsets(out);
}

function encodeAddress(a: EndpointAddress): Record<string, unknown> {
  const o: Record<string, unknown> = { ip: a.ip };
  if (a.hostname) o.hostname = a.hostname;
  if (a.nodeName !== undefined) o.nodeName = a.nodeName;
  if (a.targetRef) o.targetRef = a.targetRef;
  return o;
}

function encodeSubset(s: EndpointSubset): EndpointSubset {
  const o: Record<string, unknown> = {};
  if (s.addresses?.length) o.addresses = s.addresses.map(encodeAddress);
  if (s.notReadyAddresses?.length) o.notReadyAddresses = s.notReadyAddresses.map(encodeAddress);
  if (s.ports?.length) {
    o.ports = s.ports.map((p) => {
      const po: Record<string, unknown> = {};
      if (p.name) po.name = p.name;
      po.port = p.port;
      if (p.protocol) po.protocol = p.protocol;
      if (p.appProtocol !== undefined) po.appProtocol = p.appProtocol;
      return po;
    });
  }
  return o as EndpointSubset;
}

/** Pod resource versions are not worth an Endpoints write. */
function stripRV(subsets: EndpointSubset[]): unknown {
  return subsets.map((s) => {
    const strip = (l: EndpointAddress[] | undefined) =>
      l?.map((a) => (a.targetRef ? { ...a, targetRef: { ...a.targetRef, resourceVersion: undefined } } : a));
    return { ...s, addresses: strip(s.addresses), notReadyAddresses: strip(s.notReadyAddresses) };
  });
}
