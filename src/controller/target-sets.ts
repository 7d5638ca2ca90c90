// Target sets for backends resolved to one Service port each, whichever object named
// them (an Ingress rule, a Gateway route's backendRef): one set per backend port, and
// why each has the targets it has (aws-load-balancer-controller's
// model_build_target_group.go).
//
// A Service port with a node port gets instance targets (unless ip is asked for); a
// ClusterIP Service gets ip targets from its EndpointSlices when the provider can do
// ip, else a companion NodePort Service (owned by the object, the user's Service
// untouched) is requested. Each choice is reported so the reconciler can say it in an
// Event.
import type { V1EndpointSlice, V1Node, V1Pod, V1Secret, V1Service, V1ServicePort } from '@kubernetes/client-node';
import type { ModelProvider } from './service-model.js';
import { podTargets, probePodOf, readinessProbePath, slicesOfService, type PodRef } from './endpoints.js';
import { ANNOTATION_TARGET_TYPE } from '../model/lbc-annotations.js';
import { toNodeTargets } from './nodes.js';
import { trafficPortTcp, withDefaulted } from './health-check.js';
import type { BackendProtocol, DefaultedFields, HealthCheck, L4Protocol, ProviderOptions, TargetSet, TargetType } from '../model/spec.js';
import type { ModelError } from '../model/validation.js';
import type { GatewayParameters } from '../model/gateway.js';
import type { ProviderCapabilities } from '../providers/types.js';

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
  readonly servicePort: { readonly name?: string; readonly port: number; readonly targetPort: number | string; readonly protocol: L4Protocol };
}

/** What one backend's own annotations chose, where the provider scopes them per target set. */
export interface BackendSettings {
  readonly targetType: TargetType;
  readonly explicitTargetType: boolean;
  readonly providerOptions: ProviderOptions;
}

export interface ResolvedBackend {
  readonly key: string;
  readonly backend: BackendRef;
  readonly service: V1Service;
  readonly port: V1ServicePort;
  /**
   * What the backend speaks: HTTP (the default: Ingress backends, HTTPRoute and GRPCRoute)
   * or plain TCP/UDP (TLS, TCP and UDP routes), whose sets are health-checked over TCP.
   */
  readonly protocol?: L4Protocol | 'HTTP';
  /** What the provider read from the Service's annotations for this port (gce app-protocols); absent: HTTP. */
  readonly backendProtocol?: BackendProtocol;
  /** The Ingress group member whose own set this is (TargetSet.ingress). */
  readonly ingress?: string;
  /** The Service's own parameters object (a Gateway backend's; TargetSet.parameters). */
  readonly parameters?: GatewayParameters;
  /** The target type those parameters ask for; it wins over the inputs' as an explicit choice. */
  readonly targetType?: TargetType;
}

/** What a model builder that resolves Service backends reads besides its own objects (Ingress, Gateway). */
export interface BackendModelInputs<O extends ProviderOptions = ProviderOptions> {
  readonly services: readonly V1Service[];
  readonly endpointSlices: readonly V1EndpointSlice[];
  readonly secrets: readonly V1Secret[];
  /** Nodes that may receive traffic (trackNodes' eligible set). */
  readonly nodes: readonly V1Node[];
  readonly provider: ModelProvider<O>;
  /** The IngressClass or GatewayClass that selected the provider. */
  readonly className: string;
  readonly clusterName: string;
  /** Node ports of companion NodePort Services already in place, by BackendDecision.key. */
  readonly companionNodePorts?: ReadonlyMap<string, number>;
  /**
   * The Pods a previous build named in `probePods`, as the reconciler read them. A
   * backend whose Pod is here and has an HTTP readiness probe gets its path as the
   * health check's readinessProbePath (unless the user set a path).
   */
  readonly pods?: readonly V1Pod[];
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
  /** Which of healthCheck's values the builder chose (TargetSet.healthCheckDefaulted); absent: none. */
  readonly healthCheckDefaulted?: DefaultedFields;
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
  /** The provider's rule that instance targets need the Service's own node port (AWS). */
  readonly instanceTargetsNeedNodePort?: ProviderCapabilities['instanceTargetsNeedNodePort'];
}

export interface TargetSets {
  readonly targetSets: readonly TargetSet[];
  readonly decisions: readonly BackendDecision[];
  /** Non-empty when some backend needs a companion NodePort Service that does not exist yet. */
  readonly companions: readonly CompanionRequest[];
  readonly probePods: readonly PodRef[];
  /** Backends the provider cannot target as asked (instanceTargetsNeedNodePort); nothing may be built then. */
  readonly errors: readonly ModelError[];
}

/** One target set per backend port, and why each has the targets it has. */
export function buildTargetSets(backends: readonly ResolvedBackend[], inputs: TargetSetInputs): TargetSets {
  const decisions: BackendDecision[] = [];
  const companions: CompanionRequest[] = [];
  const targetSets: TargetSet[] = [];
  const nodeTargets = toNodeTargets(inputs.nodes);
  const pods = new Map((inputs.pods ?? []).map((p) => [`${p.metadata?.namespace ?? ''}/${p.metadata?.name ?? ''}`, p]));
  const probePods: PodRef[] = [];
  const errors: ModelError[] = [];
  for (const b of backends) {
    const svcType = b.service.spec?.type ?? 'ClusterIP';
    const ownNodePort = svcType === 'NodePort' || svcType === 'LoadBalancer' ? b.port.nodePort : undefined;
    const companionPort = inputs.companionNodePorts?.get(b.key);
    const slices = slicesOfService(inputs.endpointSlices, b.backend.namespace, b.backend.service);
    const probePod = inputs.followReadinessProbes && (b.protocol ?? 'HTTP') === 'HTTP' ? probePodOf(slices, b.port) : undefined;
    if (probePod) probePods.push(probePod);
    const pod = probePod && pods.get(`${probePod.namespace}/${probePod.name}`);
    const probePath = pod ? readinessProbePath(pod, b.port.targetPort ?? b.port.port) : undefined;
    const protocol = b.protocol ?? 'HTTP';
    const tcp = protocol !== 'HTTP' ? trafficPortTcp(inputs.healthCheck, inputs.healthCheckDefaulted) : undefined;
    const healthCheck = tcp ? tcp.healthCheck : probePath !== undefined ? { ...inputs.healthCheck, readinessProbePath: probePath } : inputs.healthCheck;
    const own = inputs.perBackend?.get(b.key);
    const targetType = own?.targetType ?? b.targetType ?? inputs.targetType;
    const explicitTargetType = own?.explicitTargetType ?? (b.targetType !== undefined || inputs.explicitTargetType);
    const common = {
      name: b.key,
      protocol,
      healthCheck,
      ...withDefaulted(tcp ? tcp.defaulted : inputs.healthCheckDefaulted),
      backend: b.backend,
      ...(b.ingress !== undefined ? { ingress: b.ingress } : {}),
      ...(b.backendProtocol !== undefined ? { backendProtocol: b.backendProtocol } : {}),
      ...(own ? { providerOptions: own.providerOptions } : {}),
      ...(b.parameters ? { parameters: b.parameters } : {}),
    };
    const ipSet = (): TargetSet => ({ ...common, type: 'ip', port: b.port.targetPort ?? b.port.port, targets: podTargets(slices, b.port) });
    if (targetType === 'ip') {
      targetSets.push(ipSet());
      decisions.push({ key: b.key, backend: b.backend, targetType: 'ip', via: 'endpoints', reason: `${b.key}: ip targets (target type ip)` });
    } else if (ownNodePort !== undefined) {
      targetSets.push({ ...common, type: 'instance', nodePort: ownNodePort, targets: nodeTargets });
      decisions.push({ key: b.key, backend: b.backend, targetType: 'instance', via: 'nodePort', reason: `${b.key}: instance targets on the Service's node port ${ownNodePort}` });
    } else if (inputs.instanceTargetsNeedNodePort) {
      // aws-load-balancer-controller v3.5 pkg/ingress/model_build_target_group.go,
      // buildTargetGroupSpec: an instance target group's port is the Service port's
      // nodePort, and when it is 0 the model fails with this sentence (the target type
      // defaults to instance, annotations.md "target-type").
      errors.push({
        field: 'spec.type',
        object: `Service ${b.backend.namespace}/${b.backend.service}`,
        reason:
          `is ${svcType}: TargetGroup port is empty. When using Instance targets, your service must be of type 'NodePort' or 'LoadBalancer'` +
          ` (target type instance ${explicitTargetType ? 'is asked for' : 'is the default'}; set ${inputs.instanceTargetsNeedNodePort.targetTypeAnnotation}: ip for pod IP targets)`,
      });
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
          protocol: protocol === 'UDP' ? 'UDP' : 'TCP',
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
  return { targetSets, decisions, companions, probePods, errors };
}
