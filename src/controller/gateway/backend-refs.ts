// A route's backendRefs resolved to Service ports, with the ResolvedRefs reasons the
// specification gives for each way one can fail (InvalidKind, RefNotPermitted,
// BackendNotFound, UnsupportedProtocol). Each resolved Service port becomes one target
// set (../target-sets.ts), shared by every rule that names it, as Ingress backends are.
import type { V1Service } from '@kubernetes/client-node';
import type { ResolvedBackend } from '../target-sets.js';
import { codePointOrder } from '../ingress/order.js';
import { GATEWAY_GROUP, type BackendObjectReference } from '../../kube/gateway-api.js';
import { RouteReason } from './conditions.js';
import type { ReferenceGrants } from './reference-grants.js';
import type { RouteEntry } from './routes.js';
import type { BackendParameters } from './attached-parameters.js';

export interface RefProblem {
  readonly reason: string;
  readonly message: string;
}

/** What a backend carries: HTTP for HTTP and gRPC routes, TCP for TLS and TCP routes, UDP for UDP routes. */
export type BackendProtocol = 'HTTP' | 'TCP' | 'UDP';

/** `unsupported`: the backend's parameters object (attached-parameters.ts) cannot be served; the route is refused. */
export type BackendResolution = { readonly targetSet: string } | { readonly problem: RefProblem } | { readonly unsupported: string };

/** The parameters attached to a backend Service (attached-parameters.ts backendParameters), by namespace and name. */
export type BackendParametersOf = (namespace: string, service: string) => BackendParameters;

export class GatewayBackends {
  private readonly services: ReadonlyMap<string, V1Service>;
  private readonly backends = new Map<string, ResolvedBackend>();

  constructor(
    services: readonly V1Service[],
    private readonly grants: ReferenceGrants,
    private readonly parametersOf?: BackendParametersOf,
  ) {
    this.services = new Map(services.map((s) => [`${s.metadata?.namespace ?? ''}/${s.metadata?.name ?? ''}`, s]));
  }

  resolve(route: RouteEntry, ref: BackendObjectReference, protocol: BackendProtocol, field: string): BackendResolution {
    const group = ref.group ?? '';
    const kind = ref.kind ?? 'Service';
    const namespace = ref.namespace ?? route.namespace;
    const problem = (reason: string, message: string): BackendResolution => ({ problem: { reason, message: `${field}: ${message}` } });
    if (group !== '' || kind !== 'Service') return problem(RouteReason.InvalidKind, `${group === '' ? 'core' : group}/${kind} is not a supported backend kind (only Services)`);
    if (!this.grants.allows({ group: GATEWAY_GROUP, kind: route.kind, namespace: route.namespace }, { group: '', kind: 'Service', namespace, name: ref.name })) {
      return problem(RouteReason.RefNotPermitted, `Service ${namespace}/${ref.name} is in another namespace and no ReferenceGrant allows it`);
    }
    const svc = this.services.get(`${namespace}/${ref.name}`);
    if (!svc) return problem(RouteReason.BackendNotFound, `Service ${namespace}/${ref.name} does not exist`);
    if (ref.port === undefined) return problem(RouteReason.BackendNotFound, `a port is required for Service ${namespace}/${ref.name}`);
    const port = svc.spec?.ports?.find((p) => p.port === ref.port);
    if (!port) return problem(RouteReason.BackendNotFound, `Service ${namespace}/${ref.name} has no port ${ref.port}`);
    const transport = protocol === 'UDP' ? 'UDP' : 'TCP';
    if ((port.protocol ?? 'TCP') !== transport) {
      return problem(RouteReason.UnsupportedProtocol, `Service port ${namespace}/${ref.name}:${ref.port} is ${port.protocol ?? 'TCP'}; a ${route.kind} needs ${transport}`);
    }
    const params = this.parametersOf?.(namespace, ref.name) ?? { ok: true };
    if (!params.ok) return { unsupported: `${field}: ${params.problem}` };
    const key = protocol === 'HTTP' ? `${namespace}/${ref.name}:${port.port}` : `${namespace}/${ref.name}:${port.port}/${protocol}`;
    this.backends.set(key, {
      key,
      backend: { namespace, service: ref.name, port: port.port },
      service: svc,
      port,
      protocol,
      ...(params.parameters ? { parameters: params.parameters } : {}),
      ...(params.targetType !== undefined ? { targetType: params.targetType } : {}),
    });
    return { targetSet: key };
  }

  /** Every backend resolved so far, in key order. */
  resolved(): ResolvedBackend[] {
    return [...this.backends.values()].sort((x, y) => codePointOrder(x.key, y.key));
  }
}
