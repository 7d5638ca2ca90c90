// The Service REST strategy: what kube-apiserver v1.26's service registry does around
// storage (pkg/registry/core/service/storage + strategy). The order matters because it
// decides which error a client sees first: decode, defaults, allocation
// (BeginCreate/BeginUpdate), then PrepareFor*, then validation.
import { AllocError, ClusterIPAllocator, PortAllocator } from './allocator.js';
import { ApiError, type StatusCause } from './errors.js';
import type { KObject } from './objects.js';
import type { Strategy, StrategyContext } from './resources.js';
import {
  decodeServiceSpec,
  decodeServiceStatus,
  encodeServiceSpec,
  encodeServiceStatus,
  goStrings,
  invalidRaw,
  invalidService,
  isHeadless,
  needsClusterIP,
  needsHealthCheck,
  needsNodePort,
  setServiceDefaults,
  shouldAllocateNodePorts,
  validateClusterIPsRelated,
  validateService,
  validateServiceStatus,
  validateServiceUpdate,
  type ServiceSpec,
  type ServiceStatus,
} from './service-validation.js';
import type { Store } from './store.js';

export interface ServiceStrategyOptions {
  /** Service CIDR (IPv4); default 10.96.0.0/12. */
  serviceCIDR?: string;
  /** Node port range; default 30000-32767. */
  nodePortRange?: string;
  /** Source of randomness for allocation (tests pin it). */
  random?: () => number;
}

export interface ServiceStrategy extends Strategy {
  readonly clusterIPs: ClusterIPAllocator;
  readonly nodePorts: PortAllocator;
}

/** kube-apiserver keeps the first service IP for default/kubernetes. */
const KUBERNETES = 'default/kubernetes';

/**
 * One strategy per Store: allocation state belongs to the cluster whose Services hold it.
 * Allocations are checked against the Services actually stored, so values taken by a
 * dry run or by a write that later failed elsewhere are reclaimed, never leaked.
 */
export function serviceStrategy(opts: ServiceStrategyOptions = {}): ServiceStrategy {
  let store: Store | undefined;

  const stored = (owner: string): ServiceSpec | undefined => {
    const rt = store?.find('', 'services');
    if (!store || !rt) return undefined;
    const slash = owner.indexOf('/');
    const o = store.peek(rt, owner.slice(0, slash), owner.slice(slash + 1));
    return o ? decodeServiceSpec(o.spec) : undefined;
  };

  const clusterIPs: ClusterIPAllocator = new ClusterIPAllocator(
    opts.serviceCIDR ?? '10.96.0.0/12',
    (owner, ip) => {
      if (owner === KUBERNETES && ip === clusterIPs.firstIP) return true;
      return stored(owner)?.clusterIPs.includes(ip) ?? false;
    },
    opts.random,
  );
  const nodePorts = new PortAllocator(
    opts.nodePortRange ?? '30000-32767',
    (owner, port) => {
      const s = stored(owner);
      return !!s && (s.healthCheckNodePort === port || s.ports.some((p) => p.nodePort === port));
    },
    opts.random,
  );
  clusterIPs.allocate(clusterIPs.firstIP, KUBERNETES);

  const bind = (ctx: StrategyContext): void => {
    store = ctx.store;
  };

  return {
    clusterIPs,
    nodePorts,

    prepareCreate(obj: KObject, ctx: StrategyContext): void {
      bind(ctx);
      const name = obj.metadata.name ?? '';
      const spec = decodeServiceSpec(obj.spec);
      setServiceDefaults(spec);
      normalizeClusterIPs(spec, undefined);
      const txn = new Txn(ownerOf(obj), clusterIPs, nodePorts);
      try {
        initIPFamilyFields(spec, name);
        allocClusterIPs(spec, txn, name);
        if (needsNodePort(spec)) initNodePorts(spec, txn, name);
        if (needsHealthCheck(spec)) allocHealthCheckNodePort(spec, txn);
        const errs = validateService(spec, obj.metadata.annotations);
        if (errs.length) throw invalidService(name, errs);
      } catch (e) {
        txn.revert();
        throw e;
      }
      write(obj, spec, { loadBalancer: {} });
    },

    prepareUpdate(obj: KObject, old: KObject, ctx: StrategyContext): void {
      bind(ctx);
      const name = obj.metadata.name ?? '';
      const spec = decodeServiceSpec(obj.spec);
      const before = decodeServiceSpec(old.spec);
      setServiceDefaults(spec);
      patchAllocatedValues(spec, before);
      normalizeClusterIPs(spec, before);
      const status = decodeServiceStatus(old.status);
      const txn = new Txn(ownerOf(obj), clusterIPs, nodePorts);
      try {
        initIPFamilyFields(spec, name);
        if (before.type === 'ExternalName' && spec.type !== 'ExternalName') allocClusterIPs(spec, txn, name);
        if (needsNodePort(spec)) updateNodePorts(spec, before, txn, name);
        if (!needsHealthCheck(before) && needsHealthCheck(spec)) allocHealthCheckNodePort(spec, txn);
        dropTypeDependentFields(spec, before, status);
        const errs = validateServiceUpdate(spec, before, obj.metadata.annotations);
        if (errs.length) throw invalidService(name, errs);
      } catch (e) {
        txn.revert();
        throw e;
      }
      write(obj, spec, status);
    },

    prepareStatusUpdate(obj: KObject, _old: KObject, ctx: StrategyContext): void {
      bind(ctx);
      const status = decodeServiceStatus(obj.status);
      const errs = validateServiceStatus(status);
      if (errs.length) throw invalidService(obj.metadata.name ?? '', errs);
      obj.status = encodeServiceStatus(status);
    },

    removed(obj: KObject, ctx: StrategyContext): void {
      bind(ctx);
      const owner = ownerOf(obj);
      clusterIPs.releaseOwner(owner);
      nodePorts.releaseOwner(owner);
      if (owner === KUBERNETES) clusterIPs.allocate(clusterIPs.firstIP, KUBERNETES);
    },
  };
}

function ownerOf(obj: KObject): string {
  return `${obj.metadata.namespace ?? ''}/${obj.metadata.name ?? ''}`;
}

function write(obj: KObject, spec: ServiceSpec, status: ServiceStatus): void {
  for (const k of Object.keys(obj)) {
    // Go decoding drops fields the type does not know.
    if (!['apiVersion', 'kind', 'metadata', 'spec', 'status'].includes(k)) delete obj[k];
  }
  obj.spec = encodeServiceSpec(spec);
  obj.status = encodeServiceStatus(status);
  // v1.26 Services carry no metadata.generation, whatever the generic store assigned.
  delete obj.metadata.generation;
}

// ---------------------------------------------------------------------------------------
// Errors the registry raises outside validation

/** A 500 as apierrors.NewInternalError builds it (its cause carries no reason). */
function internalError(message: string): ApiError {
  return new ApiError(500, 'InternalError', `Internal error occurred: ${message}`, {
    causes: [{ message } as StatusCause],
  });
}

/** A plain Go error returned from the registry: a 500 whose Status has no reason at all. */
class ReasonlessError extends ApiError {
  constructor(message: string) {
    super(500, 'InternalError', message);
  }

  override toStatus(): Record<string, unknown> {
    const s = super.toStatus();
    delete s.reason;
    return s;
  }
}

// ---------------------------------------------------------------------------------------
// Allocation transaction: all or nothing within one write.

class Txn {
  private readonly undo: Array<() => void> = [];
  private readonly ports = new Set<number>();

  constructor(
    private readonly owner: string,
    private readonly ips: ClusterIPAllocator,
    private readonly np: PortAllocator,
  ) {}

  allocatePort(port: number): void {
    // Within one operation a port is handed out once, as the real PortAllocationOperation does.
    if (this.ports.has(port)) throw new AllocError('taken', 'provided port is already allocated');
    const before = this.np.ownerOf(port);
    this.np.allocate(port, this.owner);
    this.ports.add(port);
    if (before !== this.owner) this.undo.push(() => this.np.release(port, this.owner));
  }

  nextPort(): number {
    const port = this.np.allocateNext(this.owner);
    this.ports.add(port);
    this.undo.push(() => this.np.release(port, this.owner));
    return port;
  }

  allocateIP(ip: string): void {
    if (this.owner === KUBERNETES && ip === this.ips.firstIP) return;
    const before = this.ips.ownerOf(ip);
    this.ips.allocate(ip, this.owner);
    if (before !== this.owner) this.undo.push(() => this.ips.release(ip, this.owner));
  }

  nextIP(): string {
    const ip = this.ips.allocateNext(this.owner);
    this.undo.push(() => this.ips.release(ip, this.owner));
    return ip;
  }

  revert(): void {
    for (const u of this.undo.reverse()) u();
    this.undo.length = 0;
  }
}

// ---------------------------------------------------------------------------------------
// The registry's steps (pkg/registry/core/service/storage/alloc.go and strategy.go)

function sameStrings(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** NormalizeClusterIPs: keeps clusterIP and clusterIPs in step for old and new clients. */
function normalizeClusterIPs(s: ServiceSpec, old: ServiceSpec | undefined): void {
  if (!old) {
    if (s.clusterIP && !s.clusterIPs.length) s.clusterIPs = [s.clusterIP];
    return;
  }
  if (old.clusterIPs.length && !s.clusterIPs.length && old.clusterIP === s.clusterIP) s.clusterIPs = [...old.clusterIPs];
  if (old.clusterIP !== s.clusterIP) {
    if (old.clusterIP && !s.clusterIP) {
      s.clusterIPs = [];
      return;
    }
    if (sameStrings(old.clusterIPs, s.clusterIPs)) s.clusterIPs = [s.clusterIP];
  }
}

/** patchAllocatedValues: a client resubmitting its original manifest keeps what was allocated. */
function patchAllocatedValues(s: ServiceSpec, old: ServiceSpec): void {
  if (needsClusterIP(old) && needsClusterIP(s)) {
    if (!s.clusterIP) s.clusterIP = old.clusterIP;
    if (!s.clusterIPs.length && old.clusterIPs.length) s.clusterIPs = [...old.clusterIPs];
  }
  if (needsNodePort(old) && needsNodePort(s)) {
    const oldUsed = new Set(old.ports.map((p) => p.nodePort).filter((n) => n));
    const used = new Set(s.ports.map((p) => p.nodePort).filter((n) => oldUsed.has(n)));
    // Matched by port name: the user may have changed anything else about the port.
    const byName = new Map(old.ports.map((p) => [p.name, p.nodePort]));
    for (const p of s.ports) {
      if (p.nodePort) continue;
      const v = byName.get(p.name) ?? 0;
      if (!used.has(v)) p.nodePort = v;
    }
  }
  if (needsHealthCheck(old) && needsHealthCheck(s) && !s.healthCheckNodePort) s.healthCheckNodePort = old.healthCheckNodePort;
}

/** initIPFamilyFields for a single-stack IPv4 cluster. */
function initIPFamilyFields(s: ServiceSpec, name: string): void {
  if (s.type === 'ExternalName') return;
  const headlessNoSelector = isHeadless(s) && !Object.keys(s.selector ?? {}).length;
  if (s.ipFamilyPolicy === undefined) s.ipFamilyPolicy = headlessNoSelector ? 'RequireDualStack' : 'SingleStack';

  const pre = validateClusterIPsRelated(s);
  if (pre.length) throw invalidService(name, pre);

  const errs: StatusCause[] = [];
  if (s.ipFamilyPolicy === 'SingleStack') {
    if (s.clusterIPs.length > 1) {
      errs.push({ reason: 'FieldValueInvalid', message: "Invalid value: \"SingleStack\": must be 'RequireDualStack' or 'PreferDualStack' when multiple 'clusterIPs' are specified", field: 'spec.ipFamilyPolicy' });
    }
    if (s.ipFamilies.length > 1) {
      errs.push({ reason: 'FieldValueInvalid', message: "Invalid value: \"SingleStack\": must be 'RequireDualStack' or 'PreferDualStack' when multiple IP families are specified", field: 'spec.ipFamilyPolicy' });
    }
  }
  if (errs.length) throw invalidService(name, errs);
  for (let i = 0; i < s.clusterIPs.length; i++) {
    const ip = s.clusterIPs[i]!;
    if (ip === 'None') break;
    const fam = ip.includes(':') ? 'IPv6' : 'IPv4';
    if (i >= s.ipFamilies.length) {
      if (fam !== 'IPv4') errs.push(invalidRaw(`spec.clusterIPs[${i}]`, goStrings(s.clusterIPs), `${fam} is not configured on this cluster`));
      else s.ipFamilies.push(fam);
    }
  }
  if (errs.length) throw invalidService(name, errs);

  if (headlessNoSelector) {
    // The one case where a single-stack cluster reports both families.
    if (!s.ipFamilies.length) s.ipFamilies = ['IPv4'];
    if (s.ipFamilyPolicy !== 'SingleStack' && s.ipFamilies.length < 2) s.ipFamilies.push(s.ipFamilies[0] === 'IPv4' ? 'IPv6' : 'IPv4');
    return;
  }

  if (s.ipFamilyPolicy === 'RequireDualStack') {
    errs.push({ reason: 'FieldValueInvalid', message: 'Invalid value: "RequireDualStack": this cluster is not configured for dual-stack services', field: 'spec.ipFamilyPolicy' });
  }
  s.ipFamilies.forEach((f, i) => {
    if (f !== 'IPv4') errs.push({ reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(f)}: not configured on this cluster`, field: `spec.ipFamilies[${i}]` });
  });
  if (errs.length) throw invalidService(name, errs);
  if (!s.ipFamilies.length) s.ipFamilies = ['IPv4'];
}

function allocClusterIPs(s: ServiceSpec, txn: Txn, name: string): void {
  if (s.type === 'ExternalName' || s.clusterIPs[0] === 'None') return;
  const requested = s.clusterIPs[0] ?? '';
  let ip: string;
  if (!requested) {
    try {
      ip = txn.nextIP();
    } catch (e) {
      if (e instanceof AllocError) throw internalError(`failed to allocate a serviceIP: ${e.message}`);
      throw e;
    }
  } else {
    try {
      txn.allocateIP(requested);
    } catch (e) {
      if (e instanceof AllocError) {
        throw invalidService(name, [invalidRaw('spec.clusterIPs', goStrings(s.clusterIPs), `failed to allocate IP ${requested}: ${e.message}`)]);
      }
      throw e;
    }
    ip = requested;
  }
  s.clusterIPs[0] = ip;
  s.clusterIP = ip;
}

function nodePortInvalid(name: string, i: number, port: number, e: AllocError): ApiError {
  return invalidService(name, [invalidRaw(`spec.ports[${i}].nodePort`, String(port), e.message)]);
}

function allocOrRethrow(fn: () => void, onAlloc: (e: AllocError) => ApiError): void {
  try {
    fn();
  } catch (e) {
    if (e instanceof AllocError) throw onAlloc(e);
    throw e;
  }
}

function nextNodePort(txn: Txn): number {
  try {
    return txn.nextPort();
  } catch (e) {
    if (e instanceof AllocError) throw internalError(`failed to allocate a nodePort: ${e.message}`);
    throw e;
  }
}

/** initNodePorts: ports sharing a port number (TCP and UDP 53) share one node port. */
function initNodePorts(s: ServiceSpec, txn: Txn, name: string): void {
  const byPort = new Map<number, number>();
  s.ports.forEach((sp, i) => {
    if (sp.nodePort === 0 && !shouldAllocateNodePorts(s)) return;
    const allocated = byPort.get(sp.port) ?? 0;
    if (allocated === 0) {
      const np = s.ports.find((p) => p.port === sp.port && p.nodePort !== 0)?.nodePort ?? 0;
      if (np !== 0) {
        allocOrRethrow(() => txn.allocatePort(np), (e) => nodePortInvalid(name, i, np, e));
        sp.nodePort = np;
      } else {
        sp.nodePort = nextNodePort(txn);
      }
      byPort.set(sp.port, sp.nodePort);
    } else if (sp.nodePort !== allocated) {
      if (sp.nodePort === 0) sp.nodePort = allocated;
      else {
        const np = sp.nodePort;
        allocOrRethrow(() => txn.allocatePort(np), (e) => nodePortInvalid(name, i, np, e));
      }
    }
  });
}

function updateNodePorts(s: ServiceSpec, old: ServiceSpec, txn: Txn, name: string): void {
  const oldNums = old.ports.map((p) => p.nodePort).filter((n) => n !== 0);
  const allocatedHere = new Set<number>();
  const seen = new Set<string>();
  s.ports.forEach((sp, i) => {
    if (sp.nodePort === 0 && !shouldAllocateNodePorts(s)) return;
    if (sp.nodePort !== 0) {
      const np = sp.nodePort;
      if (!oldNums.includes(np) && !allocatedHere.has(np)) {
        allocOrRethrow(() => txn.allocatePort(np), (e) => nodePortInvalid(name, i, np, e));
        allocatedHere.add(np);
      }
    } else {
      sp.nodePort = nextNodePort(txn);
    }
    const key = `${sp.protocol} ${sp.nodePort}`;
    if (seen.has(key)) throw new ReasonlessError(`duplicate nodePort: {${key}}`);
    seen.add(key);
  });
}

function allocHealthCheckNodePort(s: ServiceSpec, txn: Txn): void {
  const requested = s.healthCheckNodePort;
  try {
    if (requested) txn.allocatePort(requested);
    else s.healthCheckNodePort = txn.nextPort();
  } catch (e) {
    if (!(e instanceof AllocError)) throw e;
    throw internalError(requested
      ? `failed to allocate requested HealthCheck NodePort ${requested}: ${e.message}`
      : `failed to allocate a HealthCheck NodePort 0: ${e.message}`);
  }
}

const externallyAccessible = (s: ServiceSpec): boolean =>
  s.type === 'LoadBalancer' || s.type === 'NodePort' || (s.type === 'ClusterIP' && s.externalIPs.length > 0);

/** dropTypeDependentFields: wipe what the old type needed and the user left untouched. */
function dropTypeDependentFields(s: ServiceSpec, old: ServiceSpec, status: ServiceStatus): void {
  if (needsClusterIP(old) && !needsClusterIP(s)) {
    if (sameStrings(old.clusterIPs, s.clusterIPs)) {
      s.clusterIP = '';
      s.clusterIPs = [];
    }
    if (sameStrings(old.ipFamilies, s.ipFamilies)) s.ipFamilies = [];
    if (old.ipFamilyPolicy === s.ipFamilyPolicy) delete s.ipFamilyPolicy;
  }
  if (needsNodePort(old) && !needsNodePort(s)) {
    const oldPorts = new Set(old.ports.map((p) => p.nodePort).filter((n) => n));
    // Users may add, remove or change ports, as long as they add no new node port.
    if (s.ports.every((p) => !p.nodePort || oldPorts.has(p.nodePort))) for (const p of s.ports) p.nodePort = 0;
  }
  if (needsHealthCheck(old) && !needsHealthCheck(s) && old.healthCheckNodePort === s.healthCheckNodePort) s.healthCheckNodePort = 0;
  if (old.type === 'LoadBalancer' && s.type !== 'LoadBalancer') {
    if (s.allocateLoadBalancerNodePorts !== undefined && s.allocateLoadBalancerNodePorts === old.allocateLoadBalancerNodePorts) {
      delete s.allocateLoadBalancerNodePorts;
    }
    if (s.loadBalancerClass !== undefined && s.loadBalancerClass === old.loadBalancerClass) delete s.loadBalancerClass;
  }
  if (old.type !== 'ExternalName' && s.type === 'ExternalName' && s.internalTrafficPolicy !== undefined && s.internalTrafficPolicy === old.internalTrafficPolicy) {
    delete s.internalTrafficPolicy;
  }
  if (externallyAccessible(old) && !externallyAccessible(s) && old.externalTrafficPolicy === s.externalTrafficPolicy) {
    s.externalTrafficPolicy = '';
  }
  // Load-balancer deprovisioning is asynchronous, but clients never see the stale status.
  if (s.type !== 'LoadBalancer') status.loadBalancer = {};
}
