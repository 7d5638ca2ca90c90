// Server-side printing (meta.k8s.io/v1 Table), which is what `kubectl get` shows: since
// kubectl dropped its own printers for built-in kinds, the columns come from here.
import type { KObject } from './objects.js';
import type { PrinterColumn, ResourceType } from './resources.js';
import { evalJsonPath, parseJsonPath } from './jsonpath.js';

interface Column {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  format?: string;
  priority?: number;
  description: string;
  cell(o: KObject, now: Date): string | number | boolean | null;
}

type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** kubectl's duration.HumanDuration. */
export function humanDuration(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < -1) return '<invalid>';
  if (s < 0) return '0s';
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return s % 60 === 0 ? `${m}m` : `${m}m${s % 60}s`;
  if (m < 180) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 8) return m % 60 === 0 ? `${h}h` : `${h}h${m % 60}m`;
  if (h < 48) return `${h}h`;
  if (h < 24 * 8) return h % 24 === 0 ? `${Math.floor(h / 24)}d` : `${Math.floor(h / 24)}d${h % 24}h`;
  if (h < 24 * 365 * 2) return `${Math.floor(h / 24)}d`;
  if (h < 24 * 365 * 8) {
    const d = Math.floor(h / 24);
    return d % 365 === 0 ? `${Math.floor(d / 365)}y` : `${Math.floor(d / 365)}y${d % 365}d`;
  }
  return `${Math.floor(h / 24 / 365)}y`;
}

function age(ts: string | undefined, now: Date): string {
  return ts ? humanDuration(now.getTime() - Date.parse(ts)) : '<unknown>';
}

const name: Column = { name: 'Name', type: 'string', description: 'Name must be unique within a namespace.', cell: (o) => o.metadata.name ?? '' };
const ageCol: Column = { name: 'Age', type: 'string', description: 'CreationTimestamp is the time the object was created.', cell: (o, now) => age(o.metadata.creationTimestamp, now) };

function servicePorts(o: Any): string {
  const ports: Any[] = o.spec?.ports ?? [];
  if (!ports.length) return '<none>';
  return ports.map((p) => `${p.port}${p.nodePort ? `:${p.nodePort}` : ''}/${p.protocol ?? 'TCP'}`).join(',');
}

function serviceExternal(o: Any): string {
  const type = o.spec?.type ?? 'ClusterIP';
  const external: string[] = [...(o.spec?.externalIPs ?? [])];
  switch (type) {
    case 'ExternalName':
      return o.spec?.externalName ?? '<none>';
    case 'LoadBalancer': {
      const lb = (o.status?.loadBalancer?.ingress ?? []).map((i: Any) => i.ip || i.hostname).filter(Boolean);
      const all = [...lb, ...external];
      return all.length ? all.join(',') : '<pending>';
    }
    default:
      return external.length ? external.join(',') : '<none>';
  }
}

function selector(sel: Record<string, string> | undefined): string {
  const e = Object.entries(sel ?? {});
  return e.length ? e.map(([k, v]) => `${k}=${v}`).join(',') : '<none>';
}

function ingressHosts(o: Any): string {
  const hosts = (o.spec?.rules ?? []).map((r: Any) => r.host).filter(Boolean);
  if (!hosts.length) return '*';
  return hosts.length > 4 ? `${hosts.slice(0, 4).join(',')} + ${hosts.length - 4} more...` : hosts.join(',');
}

function nodeStatus(o: Any): string {
  const ready = (o.status?.conditions ?? []).find((c: Any) => c.type === 'Ready');
  const s = ready ? (ready.status === 'True' ? 'Ready' : ready.status === 'False' ? 'NotReady' : 'Unknown') : 'Unknown';
  return o.spec?.unschedulable ? `${s},SchedulingDisabled` : s;
}

function nodeRoles(o: Any): string {
  const roles = Object.keys(o.metadata?.labels ?? {})
    .filter((k) => k.startsWith('node-role.kubernetes.io/'))
    .map((k) => k.slice('node-role.kubernetes.io/'.length))
    .filter(Boolean);
  return roles.length ? roles.sort().join(',') : '<none>';
}

function nodeAddress(o: Any, type: string): string {
  return (o.status?.addresses ?? []).find((a: Any) => a.type === type)?.address ?? '<none>';
}

function sliceEndpoints(o: Any): string {
  const addrs: string[] = (o.endpoints ?? []).flatMap((e: Any) => e.addresses ?? []);
  if (!addrs.length) return '<unset>';
  return addrs.length > 3 ? `${addrs.slice(0, 3).join(',')} + ${addrs.length - 3} more...` : addrs.join(',');
}

function endpointsList(o: Any): string {
  const list: string[] = [];
  for (const s of o.subsets ?? []) {
    const ports: Any[] = s.ports?.length ? s.ports : [{}];
    for (const a of s.addresses ?? []) for (const p of ports) list.push(p.port ? `${a.ip}:${p.port}` : a.ip);
  }
  if (!list.length) return '<none>';
  return list.length > 3 ? `${list.slice(0, 3).join(',')} + ${list.length - 3} more...` : list.join(',');
}

/** The ContainerStatus fields the pod columns read. */
interface ContainerStatus {
  name?: string;
  ready?: boolean;
  started?: boolean;
  restartCount?: number;
  state?: { waiting?: { reason?: string }; running?: unknown; terminated?: { reason?: string; exitCode?: number; signal?: number } };
  lastState?: { terminated?: { finishedAt?: string } };
}

const conditionTrue = (o: Any, type: string): boolean => (o.status?.conditions ?? []).some((c: Any) => c.type === type && c.status === 'True');

/**
 * NAME, READY, STATUS, RESTARTS and AGE of a Pod, as kubernetes'
 * pkg/printers/internalversion/printers.go printPod computes them: READY counts the
 * containers whose status is ready and running (plus started sidecars, init containers
 * with restartPolicy Always), STATUS is the phase unless a container's waiting or
 * terminated reason (or an init container's) says more, RESTARTS adds "(5m ago)" from
 * the latest lastState.terminated.finishedAt.
 */
export function podRow(o: Any, now: Date): { ready: string; status: string; restarts: string } {
  const phase: string = o.status?.phase ?? '';
  let reason: string = o.status?.reason || phase;
  if ((o.status?.conditions ?? []).some((c: Any) => c.type === 'PodScheduled' && c.reason === 'SchedulingGated')) reason = 'SchedulingGated';
  const initSpecs = new Map<string, Any>((o.spec?.initContainers ?? []).map((c: Any) => [c.name, c]));
  const restartable = (name: string | undefined): boolean => initSpecs.get(name ?? '')?.restartPolicy === 'Always';
  const total = (o.spec?.containers ?? []).length + [...initSpecs.values()].filter((c) => c.restartPolicy === 'Always').length;
  let ready = 0;
  let restarts = 0;
  let sidecarRestarts = 0;
  let lastRestart = 0;
  let lastSidecarRestart = 0;
  const finished = (c: ContainerStatus): number => (c.lastState?.terminated?.finishedAt ? Date.parse(c.lastState.terminated.finishedAt) : 0);

  const inits: ContainerStatus[] = o.status?.initContainerStatuses ?? [];
  const initCount = (o.spec?.initContainers ?? []).length;
  let initializing = false;
  for (const [i, c] of inits.entries()) {
    restarts += c.restartCount ?? 0;
    lastRestart = Math.max(lastRestart, finished(c));
    if (restartable(c.name)) {
      sidecarRestarts += c.restartCount ?? 0;
      lastSidecarRestart = Math.max(lastSidecarRestart, finished(c));
    }
    const t = c.state?.terminated;
    const w = c.state?.waiting;
    if (t && (t.exitCode ?? 0) === 0) continue;
    if (restartable(c.name) && c.started) {
      if (c.ready) ready++;
      continue;
    }
    if (t) reason = t.reason ? `Init:${t.reason}` : t.signal ? `Init:Signal:${t.signal}` : `Init:ExitCode:${t.exitCode ?? 0}`;
    else if (w?.reason && w.reason !== 'PodInitializing') reason = `Init:${w.reason}`;
    else reason = `Init:${i}/${initCount}`;
    initializing = true;
    break;
  }

  if (!initializing || conditionTrue(o, 'Initialized')) {
    restarts = sidecarRestarts;
    lastRestart = lastSidecarRestart;
    let hasRunning = false;
    let errorReason = '';
    const cs: ContainerStatus[] = o.status?.containerStatuses ?? [];
    for (let i = cs.length - 1; i >= 0; i--) {
      const c = cs[i]!;
      restarts += c.restartCount ?? 0;
      lastRestart = Math.max(lastRestart, finished(c));
      const t = c.state?.terminated;
      if (c.state?.waiting?.reason) reason = c.state.waiting.reason;
      else if (t) {
        reason = t.reason ? t.reason : t.signal ? `Signal:${t.signal}` : `ExitCode:${t.exitCode ?? 0}`;
        if ((t.exitCode ?? 0) !== 0) errorReason = reason;
      } else if (c.ready && c.state?.running) {
        hasRunning = true;
        ready++;
      }
    }
    // A pod whose last-listed container completed still runs while another does.
    if (reason === 'Completed') {
      if (hasRunning && conditionTrue(o, 'Ready')) reason = 'Running';
      else if (errorReason) reason = errorReason;
      else if (hasRunning) reason = 'NotReady';
    }
  }

  if (o.metadata?.deletionTimestamp && o.status?.reason === 'NodeLost') reason = 'Unknown';
  else if (o.metadata?.deletionTimestamp && phase !== 'Succeeded' && phase !== 'Failed') reason = 'Terminating';

  return {
    ready: `${ready}/${total}`,
    status: reason,
    restarts: restarts !== 0 && lastRestart ? `${restarts} (${humanDuration(now.getTime() - lastRestart)} ago)` : String(restarts),
  };
}

function readinessGates(o: Any): string {
  const gates: Any[] = o.spec?.readinessGates ?? [];
  if (!gates.length) return '<none>';
  const conditions: Any[] = o.status?.conditions ?? [];
  return `${gates.filter((g) => conditions.find((c) => c.type === g.conditionType)?.status === 'True').length}/${gates.length}`;
}

const COLUMNS: Record<string, Column[]> = {
  '/Service': [
    name,
    { name: 'Type', type: 'string', description: 'How the service is exposed.', cell: (o: Any) => o.spec?.type ?? 'ClusterIP' },
    { name: 'Cluster-IP', type: 'string', description: 'The IP address of the service.', cell: (o: Any) => o.spec?.clusterIP || '<none>' },
    { name: 'External-IP', type: 'string', description: 'External addresses of the service.', cell: serviceExternal },
    { name: 'Port(s)', type: 'string', description: 'The ports exposed by the service.', cell: servicePorts },
    ageCol,
    { name: 'Selector', type: 'string', priority: 1, description: 'Route traffic to pods with these labels.', cell: (o: Any) => selector(o.spec?.selector) },
  ],
  'networking.k8s.io/Ingress': [
    name,
    { name: 'Class', type: 'string', description: 'The name of the IngressClass resource.', cell: (o: Any) => o.spec?.ingressClassName ?? '<none>' },
    { name: 'Hosts', type: 'string', description: 'Hosts that incoming requests are matched against.', cell: ingressHosts },
    { name: 'Address', type: 'string', description: 'Address is a list of IPs or hostnames of the load balancer.', cell: (o: Any) => (o.status?.loadBalancer?.ingress ?? []).map((i: Any) => i.ip || i.hostname).join(',') },
    { name: 'Ports', type: 'string', description: 'Ports of TLS configurations that open.', cell: (o: Any) => (o.spec?.tls?.length ? '80, 443' : '80') },
    ageCol,
  ],
  'networking.k8s.io/IngressClass': [
    name,
    { name: 'Controller', type: 'string', description: 'Controller that implements the class.', cell: (o: Any) => o.spec?.controller ?? '' },
    { name: 'Parameters', type: 'string', description: 'Parameters for the controller.', cell: (o: Any) => (o.spec?.parameters ? `${o.spec.parameters.kind}/${o.spec.parameters.name}` : '<none>') },
    ageCol,
  ],
  '/Node': [
    name,
    { name: 'Status', type: 'string', description: 'The status of the node.', cell: nodeStatus },
    { name: 'Roles', type: 'string', description: 'The roles of the node.', cell: nodeRoles },
    ageCol,
    { name: 'Version', type: 'string', description: 'Kubelet version.', cell: (o: Any) => o.status?.nodeInfo?.kubeletVersion ?? '' },
    { name: 'Internal-IP', type: 'string', priority: 1, description: "The node's internal IP address.", cell: (o: Any) => nodeAddress(o, 'InternalIP') },
    { name: 'External-IP', type: 'string', priority: 1, description: "The node's external IP address.", cell: (o: Any) => nodeAddress(o, 'ExternalIP') },
    { name: 'OS-Image', type: 'string', priority: 1, description: 'OS image reported by the node.', cell: (o: Any) => o.status?.nodeInfo?.osImage || '<unknown>' },
    { name: 'Kernel-Version', type: 'string', priority: 1, description: 'Kernel version reported by the node.', cell: (o: Any) => o.status?.nodeInfo?.kernelVersion || '<unknown>' },
    { name: 'Container-Runtime', type: 'string', priority: 1, description: 'Container runtime reported by the node.', cell: (o: Any) => o.status?.nodeInfo?.containerRuntimeVersion || '<unknown>' },
  ],
  '/Namespace': [
    name,
    { name: 'Status', type: 'string', description: 'The status of the namespace.', cell: (o: Any) => o.status?.phase ?? '' },
    ageCol,
  ],
  '/Pod': [
    name,
    { name: 'Ready', type: 'string', description: 'The aggregate readiness state of this pod for accepting traffic.', cell: (o: Any, now) => podRow(o, now).ready },
    { name: 'Status', type: 'string', description: 'The aggregate status of the containers in this pod.', cell: (o: Any, now) => podRow(o, now).status },
    { name: 'Restarts', type: 'string', description: 'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.', cell: (o: Any, now) => podRow(o, now).restarts },
    ageCol,
    { name: 'IP', type: 'string', priority: 1, description: 'IP address allocated to the pod.', cell: (o: Any) => o.status?.podIPs?.[0]?.ip || '<none>' },
    { name: 'Node', type: 'string', priority: 1, description: 'Name of the Node this pod is bound to.', cell: (o: Any) => o.spec?.nodeName || '<none>' },
    { name: 'Nominated Node', type: 'string', priority: 1, description: 'Node the scheduler nominated for this pod.', cell: (o: Any) => o.status?.nominatedNodeName || '<none>' },
    { name: 'Readiness Gates', type: 'string', priority: 1, description: 'Readiness gates of this pod that are true.', cell: readinessGates },
  ],
  '/Endpoints': [
    name,
    { name: 'Endpoints', type: 'string', description: 'Endpoints of the service.', cell: endpointsList },
    ageCol,
  ],
  'discovery.k8s.io/EndpointSlice': [
    name,
    { name: 'AddressType', type: 'string', description: 'Type of address.', cell: (o: Any) => o.addressType ?? '' },
    { name: 'Ports', type: 'string', description: 'Ports of the endpoints.', cell: (o: Any) => ((o.ports ?? []).length ? o.ports.map((p: Any) => (p.port === undefined || p.port === null ? '<unset>' : String(p.port))).join(',') : '<unset>') },
    { name: 'Endpoints', type: 'string', description: 'Addresses of the endpoints.', cell: sliceEndpoints },
    ageCol,
  ],
  '/Secret': [
    name,
    { name: 'Type', type: 'string', description: 'The type of the secret.', cell: (o: Any) => o.type ?? 'Opaque' },
    { name: 'Data', type: 'string', description: 'Number of entries.', cell: (o: Any) => String(Object.keys(o.data ?? {}).length + Object.keys(o.stringData ?? {}).length) },
    ageCol,
  ],
  '/ConfigMap': [
    name,
    { name: 'Data', type: 'string', description: 'Number of entries.', cell: (o: Any) => String(Object.keys(o.data ?? {}).length + Object.keys(o.binaryData ?? {}).length) },
    ageCol,
  ],
  'coordination.k8s.io/Lease': [
    name,
    { name: 'Holder', type: 'string', description: 'The holder of the lease.', cell: (o: Any) => o.spec?.holderIdentity ?? '' },
    ageCol,
  ],
  '/Event': [
    { name: 'Last Seen', type: 'string', description: 'Time of the last occurrence.', cell: (o: Any, now) => age(o.lastTimestamp ?? o.eventTime ?? o.metadata?.creationTimestamp, now) },
    { name: 'Type', type: 'string', description: 'Type of the event.', cell: (o: Any) => o.type ?? '' },
    { name: 'Reason', type: 'string', description: 'Why the event happened.', cell: (o: Any) => o.reason ?? '' },
    { name: 'Object', type: 'string', description: 'The object the event is about.', cell: (o: Any) => `${(o.involvedObject?.kind ?? '').toLowerCase()}/${o.involvedObject?.name ?? ''}` },
    { name: 'Message', type: 'string', description: 'What happened.', cell: (o: Any) => (o.message ?? '').trim() },
    { name: 'Count', type: 'string', priority: 1, description: 'How often it happened.', cell: (o: Any) => String(o.count ?? 1) },
    { name: 'Name', type: 'string', priority: 1, description: 'Event name.', cell: (o: Any) => o.metadata?.name ?? '' },
  ],
  'events.k8s.io/Event': [
    { name: 'Last Seen', type: 'string', description: 'Time of the last occurrence.', cell: (o: Any, now) => age(o.deprecatedLastTimestamp ?? o.eventTime ?? o.metadata?.creationTimestamp, now) },
    { name: 'Type', type: 'string', description: 'Type of the event.', cell: (o: Any) => o.type ?? '' },
    { name: 'Reason', type: 'string', description: 'Why the event happened.', cell: (o: Any) => o.reason ?? '' },
    { name: 'Object', type: 'string', description: 'The object the event is about.', cell: (o: Any) => `${(o.regarding?.kind ?? '').toLowerCase()}/${o.regarding?.name ?? ''}` },
    { name: 'Message', type: 'string', description: 'What happened.', cell: (o: Any) => (o.note ?? '').trim() },
  ],
};

const DEFAULT: Column[] = [name, { ...ageCol, name: 'Created At', type: 'date', cell: (o) => o.metadata.creationTimestamp ?? '' }];

const NAME_DESCRIPTION = 'Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: http://kubernetes.io/docs/user-guide/identifiers#names';

/**
 * A CRD printer column as apiextensions-apiserver's tableconvertor fills it: the first
 * JSONPath match, absent = null; string columns print it as jsonpath does (JSON for
 * lists and maps), dates as an age, the other types as typed JSON values.
 */
function printerColumn(c: PrinterColumn): Column {
  const steps = parseJsonPath(c.jsonPath);
  return {
    name: c.name,
    type: c.type,
    format: c.format ?? '',
    priority: c.priority ?? 0,
    description: c.description || `Custom resource definition column (in JSONPath format): ${c.jsonPath}`,
    cell: (o, now) => {
      const found = steps ? evalJsonPath(steps, o) : [];
      if (!found.length || found[0] === null) return null;
      const v = found[0];
      switch (c.type) {
        case 'string':
          return typeof v === 'string' ? v : JSON.stringify(v);
        case 'date':
          return typeof v === 'string' ? age(v, now) : null;
        case 'integer':
          return typeof v === 'number' && Number.isInteger(v) ? v : null;
        case 'number':
          return typeof v === 'number' ? v : null;
        case 'boolean':
          return typeof v === 'boolean' ? v : null;
      }
    },
  };
}

/** A CRD version without printer columns shows its age, as kube-apiserver defaults them. */
const CRD_DEFAULT: PrinterColumn[] = [{ name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' }];

function columnsFor(rt: ResourceType): Column[] {
  if (rt.customResource) {
    const cols = rt.printerColumns?.length ? rt.printerColumns : CRD_DEFAULT;
    return [{ ...name, description: NAME_DESCRIPTION }, ...cols.map(printerColumn)];
  }
  return COLUMNS[`${rt.group}/${rt.kind}`] ?? DEFAULT;
}

/**
 * What `kubectl get` prints from these Tables without `-o wide`: the priority-0 columns,
 * their names upper-cased as the header, and each object's cells.
 */
export function printedTable(rt: ResourceType, items: KObject[], now = new Date()): { header: string[]; rows: string[][] } {
  const cols = columnsFor(rt).filter((c) => !c.priority);
  return { header: cols.map((c) => c.name.toUpperCase()), rows: items.map((o) => cols.map((c) => String(c.cell(o, now) ?? '<none>'))) };
}

export type IncludeObject = 'None' | 'Metadata' | 'Object';

function rowObject(o: KObject, include: IncludeObject): unknown {
  if (include === 'None') return undefined;
  if (include === 'Object') return o;
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata };
}

export function toTable(
  rt: ResourceType,
  items: KObject[],
  listMeta: Record<string, unknown>,
  include: IncludeObject,
  now = new Date(),
): Record<string, unknown> {
  const cols = columnsFor(rt);
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: listMeta,
    columnDefinitions: cols.map((c) => ({ name: c.name, type: c.type, format: c.format ?? (c.name === 'Name' ? 'name' : ''), description: c.description, priority: c.priority ?? 0 })),
    rows: items.map((o) => ({ cells: cols.map((c) => c.cell(o, now)), object: rowObject(o, include) })),
  };
}
