// Companion NodePort Services: when an Ingress backend is a ClusterIP Service and the
// provider (or the annotations) want instance targets, lbc obtains a node port without
// touching the user's Service, by creating a NodePort Service with the same selector
// and port. Each companion is owned by the Ingresses that use it (ownerReferences, so
// Kubernetes' garbage collector removes it with them even if lbc is not running),
// labelled with its owner, annotated with its group and backend, and deleted by the
// group's reconcile as soon as no rule needs it.
import { PatchStrategy, setHeaderOptions } from '../kube/client-node.js';
import type { CoreV1Api, V1Ingress, V1OwnerReference, V1Service, V1ServicePort } from '@kubernetes/client-node';
import { createHash } from 'node:crypto';
import type { Cache, IndexFunc } from '../kube/cache.js';
import type { BackendRef } from './ingress-model.js';
import { jsonEqual } from '../model/canonical.js';
import type { OwnWrites } from './own-writes.js';
import { keyOf } from './reconcile.js';

/** The Ingress group key (`ingress/<ns>/<name>` or `group/<name>`) a companion serves. */
export const COMPANION_OF_ANNOTATION = 'lbc.dev/companion-of';
/** The backend it gives a node port to: `<ns>/<service>:<port>`, BackendDecision.key. */
export const COMPANION_BACKEND_ANNOTATION = 'lbc.dev/companion-backend';
/** Names the owner for `kubectl get svc -l`: the Ingress name, or the group name for an explicit group. */
export const COMPANION_OWNER_LABEL = 'lbc.dev/companion-owner';
export const COMPANION_BY_GROUP = 'byCompanionGroup';

export const companionByGroup: IndexFunc<V1Service> = (svc) => {
  const group = svc.metadata?.annotations?.[COMPANION_OF_ANNOTATION];
  return group ? [group] : [];
};

export function isCompanion(svc: V1Service): boolean {
  return svc.metadata?.annotations?.[COMPANION_OF_ANNOTATION] !== undefined;
}

const hash = (s: string, n: number): string => createHash('sha256').update(s).digest('hex').slice(0, n);

/** A DNS-1035 label of at most 63 characters, stable for (group, backend). */
export function companionName(groupKey: string, backend: BackendRef): string {
  const suffix = `-lbc-${hash(`${groupKey}|${backend.namespace}/${backend.service}:${backend.port}`, 8)}`;
  return `${backend.service.slice(0, 63 - suffix.length)}${suffix}`;
}

/** A label value (63 characters of [A-Za-z0-9-_.]) naming the owner; hashed when the name does not fit. */
export function ownerLabelValue(groupKey: string): string {
  const name = groupKey.slice(groupKey.lastIndexOf('/') + 1);
  return name.length <= 63 && /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(name) ? name : `h-${hash(groupKey, 16)}`;
}

export interface CompanionApi {
  create(namespace: string, body: V1Service): Promise<V1Service>;
  read(namespace: string, name: string): Promise<V1Service>;
  /** JSON patch. */
  patch(namespace: string, name: string, ops: object[]): Promise<V1Service>;
  delete(namespace: string, name: string): Promise<void>;
}

export function companionApi(core: Pick<CoreV1Api, 'createNamespacedService' | 'readNamespacedService' | 'patchNamespacedService' | 'deleteNamespacedService'>): CompanionApi {
  return {
    create: (namespace, body) => core.createNamespacedService({ namespace, body }),
    read: (namespace, name) => core.readNamespacedService({ namespace, name }),
    patch: (namespace, name, body) =>
      core.patchNamespacedService({ namespace, name, body }, setHeaderOptions('Content-Type', PatchStrategy.JsonPatch)),
    delete: async (namespace, name) => {
      await core.deleteNamespacedService({ namespace, name });
    },
  };
}

export interface CompanionRequirement {
  readonly backend: BackendRef;
  /** The user's backend Service, whose selector and port the companion copies. */
  readonly service: V1Service;
}

interface Desired {
  readonly name: string;
  readonly namespace: string;
  readonly selector: Record<string, string> | undefined;
  readonly port: V1ServicePort;
  readonly owners: V1OwnerReference[];
}

function desired(groupKey: string, req: CompanionRequirement, owners: readonly V1Ingress[]): Desired {
  const { backend, service } = req;
  const src = service.spec?.ports?.find((p) => p.port === backend.port);
  if (!src) throw new Error(`Service ${backend.namespace}/${backend.service} has no port ${backend.port}`);
  const port: V1ServicePort = {
    ...(src.name ? { name: src.name } : {}),
    port: src.port,
    targetPort: src.targetPort ?? src.port,
    protocol: 'TCP',
  };
  return {
    name: companionName(groupKey, backend),
    namespace: backend.namespace,
    selector: service.spec?.selector,
    port,
    // Owner references cannot cross namespaces: the group's members beside the backend own it.
    owners: owners
      .filter((o) => o.metadata?.namespace === backend.namespace && o.metadata.uid && o.metadata.name)
      .map((o) => ({ apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', name: o.metadata?.name ?? '', uid: o.metadata?.uid ?? '' }))
      .sort((a, b) => (a.uid < b.uid ? -1 : 1)),
  };
}

function manifest(groupKey: string, backendKey: string, d: Desired): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: d.name,
      namespace: d.namespace,
      labels: { [COMPANION_OWNER_LABEL]: ownerLabelValue(groupKey) },
      annotations: { [COMPANION_OF_ANNOTATION]: groupKey, [COMPANION_BACKEND_ANNOTATION]: backendKey },
      ...(d.owners.length > 0 ? { ownerReferences: d.owners } : {}),
    },
    spec: { type: 'NodePort', ...(d.selector ? { selector: d.selector } : {}), ports: [d.port] },
  };
}

// Absent and null alike: an unset selector or owner list is no drift.
const sameJson = (a: unknown, b: unknown): boolean => jsonEqual(a ?? null, b ?? null);

/** JSON-patch operations that bring an existing companion to d, keeping its node port. */
function driftOps(svc: V1Service, d: Desired): object[] {
  const ops: object[] = [];
  const cur = svc.spec?.ports?.[0];
  const port = { ...d.port, ...(cur?.nodePort !== undefined ? { nodePort: cur.nodePort } : {}) };
  if (svc.spec?.type !== 'NodePort') ops.push({ op: 'replace', path: '/spec/type', value: 'NodePort' });
  if (!sameJson(svc.spec?.selector, d.selector)) {
    ops.push(d.selector ? { op: 'add', path: '/spec/selector', value: d.selector } : { op: 'remove', path: '/spec/selector' });
  }
  const curPort = cur ? { name: cur.name || undefined, port: cur.port, targetPort: cur.targetPort, protocol: cur.protocol } : undefined;
  if ((svc.spec?.ports?.length ?? 0) !== 1 || !sameJson(curPort, { name: d.port.name, port: d.port.port, targetPort: d.port.targetPort, protocol: d.port.protocol })) {
    ops.push({ op: 'replace', path: '/spec/ports', value: [port] });
  }
  const owners = (svc.metadata?.ownerReferences ?? []).map((o) => o.uid).sort();
  if (!sameJson(owners, d.owners.map((o) => o.uid))) {
    ops.push(d.owners.length > 0 ? { op: 'add', path: '/metadata/ownerReferences', value: d.owners } : { op: 'remove', path: '/metadata/ownerReferences' });
  }
  if (ops.length === 0) return ops;
  return [{ op: 'test', path: '/metadata/resourceVersion', value: svc.metadata?.resourceVersion }, ...ops];
}

const statusOf = (e: unknown): number | undefined => {
  const code = (e as { code?: unknown }).code;
  return typeof code === 'number' ? code : undefined;
};

/** Node ports of these companions (not being deleted), by backend key. */
export function companionNodePorts(companions: readonly V1Service[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const svc of companions) {
    const backend = svc.metadata?.annotations?.[COMPANION_BACKEND_ANNOTATION];
    const nodePort = svc.spec?.ports?.[0]?.nodePort;
    if (backend && nodePort !== undefined && !svc.metadata?.deletionTimestamp) out.set(backend, nodePort);
  }
  return out;
}

/** A write Companions.ensure or prune would make; `lbc plan` lists them. */
export interface CompanionChange {
  readonly op: 'create' | 'update' | 'delete';
  /** `namespace/name` of the companion Service. */
  readonly service: string;
  /** The backend it serves, `<ns>/<service>:<port>`. */
  readonly backend: string;
  /** For updates: the paths that differ (`spec.selector`, `spec.ports`, ...). */
  readonly fields?: readonly string[];
}

/**
 * The writes ensure(groupKey, owners, wanted) and then prune(groupKey, keep) would make
 * against these cached Services, without making them. Same decisions as those methods
 * (desired, driftOps), so a plan cannot disagree with the reconcile that follows.
 */
export function planCompanions(
  services: Pick<Cache<V1Service>, 'get' | 'byIndex'>,
  groupKey: string,
  owners: readonly V1Ingress[],
  wanted: readonly CompanionRequirement[],
  keep: ReadonlySet<string>,
): CompanionChange[] {
  const changes: CompanionChange[] = [];
  for (const req of wanted) {
    const backend = `${req.backend.namespace}/${req.backend.service}:${req.backend.port}`;
    const d = desired(groupKey, req, owners);
    const service = `${d.namespace}/${d.name}`;
    const svc = services.get(service);
    if (!svc) {
      changes.push({ op: 'create', service, backend });
      continue;
    }
    if (svc.metadata?.annotations?.[COMPANION_OF_ANNOTATION] !== groupKey) {
      throw new Error(`Service ${service} exists and is not lbc's companion for ${groupKey}; rename it or the backend`);
    }
    const fields = (driftOps(svc, d) as { op: string; path: string }[])
      .filter((op) => op.op !== 'test')
      .map((op) => op.path.slice(1).replace(/\//g, '.'));
    if (fields.length > 0) changes.push({ op: 'update', service, backend, fields });
  }
  for (const svc of services.byIndex(COMPANION_BY_GROUP, groupKey)) {
    const backend = svc.metadata?.annotations?.[COMPANION_BACKEND_ANNOTATION] ?? '';
    if (keep.has(backend) || svc.metadata?.deletionTimestamp) continue;
    changes.push({ op: 'delete', service: keyOf(svc), backend });
  }
  return changes;
}

export interface CompanionsDeps {
  readonly services: Pick<Cache<V1Service>, 'get' | 'byIndex'>;
  readonly api: CompanionApi;
  readonly fresh: OwnWrites<V1Service>;
}

export class Companions {
  constructor(private readonly deps: CompanionsDeps) {}

  /** Node ports of the group's companions in place now, by backend key. */
  nodePorts(groupKey: string): Map<string, number> {
    return companionNodePorts(this.deps.services.byIndex(COMPANION_BY_GROUP, groupKey).flatMap((cached) => this.deps.fresh.resolve(keyOf(cached), cached) ?? []));
  }

  /**
   * Creates the companions `wanted` asks for and brings existing ones back in line
   * (selector, port, owners); returns every wanted backend's node port by key.
   */
  async ensure(groupKey: string, owners: readonly V1Ingress[], wanted: readonly CompanionRequirement[]): Promise<Map<string, number>> {
    const ports = new Map<string, number>();
    for (const req of wanted) {
      const backendKey = `${req.backend.namespace}/${req.backend.service}:${req.backend.port}`;
      const d = desired(groupKey, req, owners);
      const key = `${d.namespace}/${d.name}`;
      let svc = this.deps.fresh.resolve(key, this.deps.services.get(key));
      if (!svc) {
        try {
          svc = await this.deps.api.create(d.namespace, manifest(groupKey, backendKey, d));
        } catch (e) {
          // Created by an earlier attempt that the cache has not caught up with.
          if (statusOf(e) !== 409) throw e;
          svc = await this.deps.api.read(d.namespace, d.name);
        }
        this.deps.fresh.remember(key, svc);
      }
      if (svc.metadata?.annotations?.[COMPANION_OF_ANNOTATION] !== groupKey) {
        throw new Error(`Service ${key} exists and is not lbc's companion for ${groupKey}; rename it or the backend`);
      }
      const ops = driftOps(svc, d);
      if (ops.length > 0) {
        svc = await this.deps.api.patch(d.namespace, d.name, ops);
        this.deps.fresh.remember(key, svc);
      }
      const nodePort = svc.spec?.ports?.[0]?.nodePort;
      if (nodePort === undefined) throw new Error(`companion Service ${key} has no node port yet`);
      ports.set(backendKey, nodePort);
    }
    return ports;
  }

  /** Deletes the group's companions whose backend key is not in keep; returns how many. */
  async prune(groupKey: string, keep: ReadonlySet<string>): Promise<number> {
    let deleted = 0;
    for (const svc of this.deps.services.byIndex(COMPANION_BY_GROUP, groupKey)) {
      const backend = svc.metadata?.annotations?.[COMPANION_BACKEND_ANNOTATION] ?? '';
      if (keep.has(backend) || svc.metadata?.deletionTimestamp) continue;
      try {
        await this.deps.api.delete(svc.metadata?.namespace ?? '', svc.metadata?.name ?? '');
        deleted++;
      } catch (e) {
        if (statusOf(e) !== 404) throw e;
      }
      this.deps.fresh.forget(keyOf(svc));
    }
    return deleted;
  }
}
