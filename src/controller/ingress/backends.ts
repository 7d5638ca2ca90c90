// The backends part of buildIngressModel: Service backends resolved to one Service port
// each, then one target set per backend port (aws-load-balancer-controller's
// model_build_target_group.go).
//
// A Service port with a node port gets instance targets (unless ip is asked for); a
// ClusterIP Service gets ip targets from its EndpointSlices when the provider can do
// ip, else a companion NodePort Service (owned by the Ingress, the user's Service
// untouched) is requested. Each choice is reported so the reconciler can say it in an
// Event.
import type { V1EndpointSlice, V1IngressBackend, V1Node, V1Pod, V1Service, V1ServicePort } from '@kubernetes/client-node';
import { podTargets, probePodOf, readinessProbePath, slicesOfService, type PodRef } from '../endpoints.js';
import { ANNOTATION_TARGET_TYPE } from '../../model/lbc-annotations.js';
import { toNodeTargets } from '../nodes.js';
import type { HealthCheck, ProviderOptions, TargetSet, TargetType } from '../../model/spec.js';
import type { ModelError } from '../../model/validation.js';
import type { AnnotationScopes } from '../../providers/types.js';
import { objectName, targetSetAnnotations, type Member } from './group.js';
import { codePointOrder } from './order.js';

export interface BackendRef {
  readonly namespace: string;
  readonly service: string;
  /** The Service port number (resolved when the Ingress named the port). */
  readonly port: number;
}

export interface BackendDecision {
  /** `namespace/service:port`; also the target set's name. */
  readonly key: string;
  readonly backend: BackendRef;
  readonly targetType: TargetType;
  /** nodePort: the Service's own; companionNodePort: a companion Service's; endpoints: pod IPs. */
  readonly via: 'nodePort' | 'companionNodePort' | 'endpoints';
  /** One sentence for the Event. */
  readonly reason: string;
}

/** A NodePort Service the reconciler should create (owned by the Ingress) so instance targets have a port. */
export interface CompanionRequest {
  readonly key: string;
  readonly backend: BackendRef;
  readonly servicePort: { readonly name?: string; readonly port: number; readonly targetPort: number | string; readonly protocol: 'TCP' };
}

export interface ResolvedBackend {
  readonly key: string;
  readonly backend: BackendRef;
  readonly service: V1Service;
  readonly port: V1ServicePort;
  /** The first member (in rule order) that routes to it. */
  readonly member: Member;
  /** Its per-target-set annotations (the provider's annotationScopes), Service over Ingress. */
  readonly annotations: Readonly<Record<string, string>>;
}

/** What one backend's own annotations chose, where the provider scopes them per target set. */
export interface BackendSettings {
  readonly targetType: TargetType;
  readonly explicitTargetType: boolean;
  readonly providerOptions: ProviderOptions;
}

/** A backend of `member` at `field` → its target set's name, or undefined once the error is reported. */
export type ResolveBackend = (member: Member, backend: V1IngressBackend, field: string) => string | undefined;

/** Resolves Service backends in their Ingress's namespace and remembers each one resolved, once per Service port. */
export class BackendResolver {
  private readonly services: ReadonlyMap<string, V1Service>;
  private readonly backends = new Map<string, ResolvedBackend>();

  constructor(
    services: readonly V1Service[],
    private readonly errors: ModelError[],
    private readonly scopes?: AnnotationScopes,
  ) {
    this.services = new Map(services.map((s) => [`${s.metadata?.namespace ?? ''}/${s.metadata?.name ?? ''}`, s]));
  }

  readonly resolve: ResolveBackend = (m, b, field) => {
    const object = objectName(m.ingress);
    if (!b.service) {
      this.errors.push({ field, object, reason: 'only Service backends are supported (resource backends are not)' });
      return undefined;
    }
    const svc = this.services.get(`${m.namespace}/${b.service.name}`);
    if (!svc) {
      this.errors.push({ field: `${field}.service.name`, object, reason: `Service ${m.namespace}/${b.service.name} does not exist` });
      return undefined;
    }
    const want = b.service.port;
    const port =
      want?.number !== undefined
        ? svc.spec?.ports?.find((p) => p.port === want.number)
        : want?.name !== undefined
          ? svc.spec?.ports?.find((p) => p.name === want.name)
          : undefined;
    if (!port) {
      const asked = want?.number ?? want?.name;
      this.errors.push({
        field: `${field}.service.port`,
        object,
        reason: asked === undefined ? 'a port number or name is required' : `Service ${m.namespace}/${b.service.name} has no port ${asked}`,
      });
      return undefined;
    }
    if ((port.protocol ?? 'TCP') !== 'TCP') {
      this.errors.push({ field: `${field}.service.port`, object, reason: `Service port ${port.port} is ${port.protocol ?? ''}; HTTP needs TCP` });
      return undefined;
    }
    const key = `${m.namespace}/${b.service.name}:${port.port}`;
    const annotations = this.scopes ? targetSetAnnotations(m, svc, this.scopes) : {};
    const earlier = this.backends.get(key);
    if (earlier) {
      // One target set per Service port: two members asking different target-group
      // settings of it would each change the other's (aws-load-balancer-controller gives
      // each Ingress its own target group; lbc shares one, so it refuses the difference).
      if (!sameAnnotations(earlier.annotations, annotations)) {
        this.errors.push({
          field: `${field}.service`,
          object,
          reason: `${objectName(earlier.member.ingress)} routes to ${key} too, with other target group annotations (${describeDifference(earlier.annotations, annotations)}); set them alike on both Ingresses, or on the Service`,
        });
        return undefined;
      }
      return key;
    }
    this.backends.set(key, { key, backend: { namespace: m.namespace, service: b.service.name, port: port.port }, service: svc, port, member: m, annotations });
    return key;
  };

  /** Every backend resolved so far, in key order. */
  resolved(): ResolvedBackend[] {
    return [...this.backends.values()].sort((x, y) => codePointOrder(x.key, y.key));
  }
}

const sameAnnotations = (a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean =>
  Object.keys(a).length === Object.keys(b).length && Object.entries(a).every(([k, v]) => b[k] === v);

function describeDifference(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): string {
  return [...new Set([...Object.keys(a), ...Object.keys(b)])]
    .filter((k) => a[k] !== b[k])
    .sort(codePointOrder)
    .map((k) => `${k}: ${JSON.stringify(a[k] ?? null)} vs ${JSON.stringify(b[k] ?? null)}`)
    .join('; ');
}

export interface TargetSetInputs {
  readonly endpointSlices: readonly V1EndpointSlice[];
  /** Nodes that may receive traffic. */
  readonly nodes: readonly V1Node[];
  /** Whether the provider can target pod IPs. */
  readonly supportsIp: boolean;
  readonly targetType: TargetType;
  /** Whether an annotation chose targetType; a default gives way to ip targets for a Service without a node port. */
  readonly explicitTargetType: boolean;
  readonly healthCheck: HealthCheck;
  /**
   * Whether a backend's readiness probe may lend the health check its path. A path the
   * user chose wins over the probe's, as with ingress-gce's BackendConfig; then the Pod
   * is not named, so the reconciler does not read it for nothing.
   */
  readonly followReadinessProbes: boolean;
  /** Node ports of companion NodePort Services already in place, by backend key. */
  readonly companionNodePorts?: ReadonlyMap<string, number>;
  /** The Pods a previous build named in probePods, as the reconciler read them. */
  readonly pods?: readonly V1Pod[];
  /** Per backend key, where the backend's own annotations chose; the inputs' targetType otherwise. */
  readonly perBackend?: ReadonlyMap<string, BackendSettings>;
}

export interface TargetSets {
  readonly targetSets: readonly TargetSet[];
  readonly decisions: readonly BackendDecision[];
  /** Non-empty when some backend needs a companion NodePort Service that does not exist yet. */
  readonly companions: readonly CompanionRequest[];
  readonly probePods: readonly PodRef[];
}

/** One target set per backend port, and why each has the targets it has. */
export function buildTargetSets(backends: readonly ResolvedBackend[], inputs: TargetSetInputs): TargetSets {
  const decisions: BackendDecision[] = [];
  const companions: CompanionRequest[] = [];
  const targetSets: TargetSet[] = [];
  const nodeTargets = toNodeTargets(inputs.nodes);
  const pods = new Map((inputs.pods ?? []).map((p) => [`${p.metadata?.namespace ?? ''}/${p.metadata?.name ?? ''}`, p]));
  const probePods: PodRef[] = [];
  for (const b of backends) {
    const svcType = b.service.spec?.type ?? 'ClusterIP';
    const ownNodePort = svcType === 'NodePort' || svcType === 'LoadBalancer' ? b.port.nodePort : undefined;
    const companionPort = inputs.companionNodePorts?.get(b.key);
    const slices = slicesOfService(inputs.endpointSlices, b.backend.namespace, b.backend.service);
    const probePod = inputs.followReadinessProbes ? probePodOf(slices, b.port) : undefined;
    if (probePod) probePods.push(probePod);
    const pod = probePod && pods.get(`${probePod.namespace}/${probePod.name}`);
    const probePath = pod ? readinessProbePath(pod, b.port.targetPort ?? b.port.port) : undefined;
    const healthCheck = probePath !== undefined ? { ...inputs.healthCheck, readinessProbePath: probePath } : inputs.healthCheck;
    const own = inputs.perBackend?.get(b.key);
    const targetType = own?.targetType ?? inputs.targetType;
    const explicitTargetType = own?.explicitTargetType ?? inputs.explicitTargetType;
    const common = { name: b.key, protocol: 'HTTP' as const, healthCheck, backend: b.backend, ...(own ? { providerOptions: own.providerOptions } : {}) };
    const ipSet = (): TargetSet => ({ ...common, type: 'ip', port: b.port.targetPort ?? b.port.port, targets: podTargets(slices, b.port) });
    if (targetType === 'ip') {
      targetSets.push(ipSet());
      decisions.push({ key: b.key, backend: b.backend, targetType: 'ip', via: 'endpoints', reason: `${b.key}: ip targets (target type ip)` });
    } else if (ownNodePort !== undefined) {
      targetSets.push({ ...common, type: 'instance', nodePort: ownNodePort, targets: nodeTargets });
      decisions.push({ key: b.key, backend: b.backend, targetType: 'instance', via: 'nodePort', reason: `${b.key}: instance targets on the Service's node port ${ownNodePort}` });
    } else if (!explicitTargetType && inputs.supportsIp) {
      targetSets.push(ipSet());
      decisions.push({
        key: b.key,
        backend: b.backend,
        targetType: 'ip',
        via: 'endpoints',
        reason: `${b.key}: ip targets, because the Service is ${svcType} and has no node port`,
      });
    } else if (companionPort !== undefined) {
      targetSets.push({ ...common, type: 'instance', nodePort: companionPort, targets: nodeTargets });
      decisions.push({
        key: b.key,
        backend: b.backend,
        targetType: 'instance',
        via: 'companionNodePort',
        reason: `${b.key}: instance targets on companion NodePort Service port ${companionPort}, because the Service is ${svcType}`,
      });
    } else {
      companions.push({
        key: b.key,
        backend: b.backend,
        servicePort: {
          ...(b.port.name !== undefined ? { name: b.port.name } : {}),
          port: b.port.port,
          targetPort: b.port.targetPort ?? b.port.port,
          protocol: 'TCP',
        },
      });
      decisions.push({
        key: b.key,
        backend: b.backend,
        targetType: 'instance',
        via: 'companionNodePort',
        reason: `${b.key}: needs a companion NodePort Service, because the Service is ${svcType} and ${ANNOTATION_TARGET_TYPE} (or the provider) asks for instance targets`,
      });
    }
  }
  return { targetSets, decisions, companions, probePods };
}
