// Service of type LoadBalancer → L4 LoadBalancerSpec. Pure: same inputs, same spec.
// Every problem is collected and returned together, each naming the field or the
// annotation, so the user fixes everything in one edit.
import type { V1EndpointSlice, V1Node, V1Service } from '@kubernetes/client-node';
import { parseAnnotations } from '../model/annotations.js';
import { podTargets, slicesOfService } from './endpoints.js';
import { applyHealthCheckOverrides, withDefaulted, type HealthCheckBase } from './health-check.js';
import { ANNOTATION_TARGET_TYPE, serviceAnnotations } from '../model/lbc-annotations.js';
import { toNodeTargets } from './nodes.js';
import { selectorText, statusAddresses, type AllocationFacts, type HeldAddresses } from '../model/allocation.js';
import { normalizeIp, parseCidr } from '../model/ip.js';
import type { LbRef } from '../model/ref.js';
import {
  ownershipTags,
  type IpFamily,
  type L4Listener,
  type L4Protocol,
  type L4Spec,
  type ProviderOptions,
  type SessionAffinity,
  type TargetSet,
  type TargetType,
} from '../model/spec.js';
import type { ModelError } from '../model/validation.js';
import type { ConditionInput } from '../kube/status.js';
import type { Provider } from '../providers/types.js';

/** What a builder needs of a provider: its name, what it can do, and its annotation parser. */
export type ModelProvider<O extends ProviderOptions = ProviderOptions> = Pick<Provider<O>, 'name' | 'capabilities' | 'parseOptions' | 'actionServices' | 'backendProtocol' | 'secretNames' | 'parseGatewayParameters'>;

export interface ServiceModelInput<O extends ProviderOptions = ProviderOptions> {
  readonly service: V1Service;
  /** Nodes that may receive traffic (trackNodes' eligible set). */
  readonly nodes: readonly V1Node[];
  /** EndpointSlices of the namespace (or cluster); those of this Service are picked by label. */
  readonly endpointSlices: readonly V1EndpointSlice[];
  readonly provider: ModelProvider<O>;
  /** The class that selected the provider (ownership's className). */
  readonly className: string;
  readonly clusterName: string;
}

export type ServiceModelResult<O extends ProviderOptions = ProviderOptions> =
  | { readonly ok: true; readonly spec: L4Spec<O>; readonly targetType: TargetType }
  | { readonly ok: false; readonly errors: readonly ModelError[] };

export const DEFAULT_CLIENT_IP_TIMEOUT_SECONDS = 10_800;
export const KUBE_PROXY_HEALTHZ_PATH = '/healthz';

/** Picks the target type: lbc.dev/target-type, else the provider's own annotation, else its default. */
export function chooseTargetType(
  provider: Pick<ModelProvider, 'name' | 'capabilities'>,
  fromAnnotation: TargetType | undefined,
  fromProvider: TargetType | undefined,
): { ok: true; targetType: TargetType; explicit: boolean } | { ok: false; error: ModelError } {
  const targetType = fromAnnotation ?? fromProvider ?? provider.capabilities.targetTypes[0];
  if (!provider.capabilities.targetTypes.includes(targetType)) {
    const reason = `provider ${provider.name} does not support ${targetType} targets (supports ${provider.capabilities.targetTypes.join(', ')})`;
    return { ok: false, error: fromAnnotation ? { annotation: ANNOTATION_TARGET_TYPE, reason } : { field: 'metadata.annotations', reason } };
  }
  return { ok: true, targetType, explicit: fromAnnotation !== undefined || fromProvider !== undefined };
}

const isL4Protocol = (p: string): p is L4Protocol => p === 'TCP' || p === 'UDP';

export function buildServiceModel<O extends ProviderOptions>(input: ServiceModelInput<O>): ServiceModelResult<O> {
  const { service, provider } = input;
  const errors: ModelError[] = [];
  const spec = service.spec ?? {};
  const namespace = service.metadata?.namespace ?? '';
  const name = service.metadata?.name ?? '';
  const uid = service.metadata?.uid ?? '';
  if (namespace === '' || name === '' || uid === '') errors.push({ field: 'metadata', reason: 'namespace, name and uid are required' });
  if (spec.type !== 'LoadBalancer') errors.push({ field: 'spec.type', reason: `is ${spec.type ?? 'ClusterIP'}, not LoadBalancer` });
  if (!provider.capabilities.layers.includes('L4')) {
    errors.push({ field: 'spec.loadBalancerClass', reason: `provider ${provider.name} does not serve Services (no L4 support)` });
  }

  const annotations = service.metadata?.annotations ?? {};
  const lbc = parseAnnotations(serviceAnnotations, annotations);
  if (!lbc.ok) errors.push(...lbc.errors);
  const parsed = provider.parseOptions ? provider.parseOptions(annotations, 'Service') : { ok: true as const, options: {} as O };
  if (!parsed.ok) errors.push(...parsed.errors);

  const choice = chooseTargetType(provider, lbc.ok ? lbc.value.targetType : undefined, parsed.ok ? parsed.targetType : undefined);
  if (!choice.ok) errors.push(choice.error);
  const targetType: TargetType = choice.ok ? choice.targetType : provider.capabilities.targetTypes[0];

  const local = spec.externalTrafficPolicy === 'Local';
  let hcBase: HealthCheckBase = { protocol: 'TCP', port: 'traffic-port' };
  if (local && targetType === 'instance') {
    if (spec.healthCheckNodePort === undefined) {
      errors.push({ field: 'spec.healthCheckNodePort', reason: 'externalTrafficPolicy is Local but no healthCheckNodePort is allocated' });
    } else {
      // kube-proxy answers here with 200 only on nodes that run a ready endpoint.
      hcBase = { protocol: 'HTTP', port: spec.healthCheckNodePort, path: KUBE_PROXY_HEALTHZ_PATH };
    }
  }
  const hc = lbc.ok ? applyHealthCheckOverrides(hcBase, lbc.value) : undefined;
  if (hc && !hc.ok) errors.push(...hc.errors);

  const ports = spec.ports ?? [];
  if (ports.length === 0) errors.push({ field: 'spec.ports', reason: 'a LoadBalancer Service needs at least one port' });
  const slices = slicesOfService(input.endpointSlices, namespace, name);
  const nodeTargets = toNodeTargets(input.nodes);
  const listeners: L4Listener[] = [];
  const targetSets: TargetSet[] = [];
  ports.forEach((p, i) => {
    const declared = p.protocol ?? 'TCP';
    if (!isL4Protocol(declared)) {
      errors.push({ field: `spec.ports[${i}].protocol`, reason: `${declared} is not supported (TCP and UDP are)` });
      return;
    }
    const protocol = declared;
    if (targetType === 'instance' && p.nodePort === undefined) {
      errors.push({
        field: `spec.ports[${i}].nodePort`,
        reason:
          spec.allocateLoadBalancerNodePorts === false
            ? `no node port (allocateLoadBalancerNodePorts is false): set one, or use ${ANNOTATION_TARGET_TYPE}: ip`
            : 'no node port allocated yet',
      });
      return;
    }
    if (!hc?.ok) return;
    const setName = `${protocol.toLowerCase()}-${p.port}`;
    // Written out rather than spread together: a spread after other members, then that
    // object spread again, took the slow generic path and was 40% of buildServiceModel
    // (itself 2.3% of the cold start's samples, #21). Same members, same order.
    const healthCheckDefaulted = withDefaulted(hc.defaulted).healthCheckDefaulted;
    const backend = { namespace, service: name, port: p.port };
    const { healthCheck } = hc;
    if (targetType === 'instance' && p.nodePort !== undefined) {
      const nodePort = p.nodePort;
      targetSets.push(
        healthCheckDefaulted
          ? { name: setName, protocol, healthCheck, healthCheckDefaulted, backend, type: 'instance', nodePort, targets: nodeTargets }
          : { name: setName, protocol, healthCheck, backend, type: 'instance', nodePort, targets: nodeTargets },
      );
    } else {
      const port = p.targetPort ?? p.port;
      const targets = podTargets(slices, p);
      targetSets.push(
        healthCheckDefaulted
          ? { name: setName, protocol, healthCheck, healthCheckDefaulted, backend, type: 'ip', port, targets }
          : { name: setName, protocol, healthCheck, backend, type: 'ip', port, targets },
      );
    }
    listeners.push({ protocol, port: p.port, targetSet: setName, ...(p.name ? { name: p.name } : {}) });
  });

  let sourceRanges: string[] = [];
  if (spec.loadBalancerSourceRanges && spec.loadBalancerSourceRanges.length > 0) {
    // As upstream: the field wins over the annotation when both are set.
    spec.loadBalancerSourceRanges.forEach((text, i) => {
      const c = parseCidr(text.trim());
      if (!c.ok) errors.push({ field: `spec.loadBalancerSourceRanges[${i}]`, reason: c.reason });
      else if (!sourceRanges.includes(c.cidr)) sourceRanges.push(c.cidr);
    });
  } else if (lbc.ok) {
    sourceRanges = lbc.value.sourceRanges ?? [];
  }

  const sessionAffinity: SessionAffinity =
    spec.sessionAffinity === 'ClientIP'
      ? { type: 'ClientIP', timeoutSeconds: spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? DEFAULT_CLIENT_IP_TIMEOUT_SECONDS }
      : { type: 'None' };

  const requestedAddresses: string[] = [];
  if (spec.loadBalancerIP) {
    const ip = normalizeIp(spec.loadBalancerIP.trim());
    if (ip === undefined) errors.push({ field: 'spec.loadBalancerIP', reason: `${JSON.stringify(spec.loadBalancerIP)} is not an IP address` });
    else requestedAddresses.push(ip);
  }

  const ipFamilies = (spec.ipFamilies ?? []).filter((f): f is IpFamily => f === 'IPv4' || f === 'IPv6');

  if (errors.length > 0 || !lbc.ok || !parsed.ok) return { ok: false, errors };
  const ref: LbRef = { kind: 'Service', namespace, name, uid };
  return {
    ok: true,
    targetType,
    spec: {
      layer: 'L4',
      ref,
      provider: provider.name,
      className: input.className,
      clusterName: input.clusterName,
      listeners: listeners.sort((a, b) => a.port - b.port || (a.protocol < b.protocol ? -1 : 1)),
      targetSets: targetSets.sort((a, b) => (a.name < b.name ? -1 : 1)),
      sourceRanges,
      sessionAffinity,
      allocation: allocationFactsOf(service, provider.capabilities.allocationByLabels === true),
      requestedAddresses,
      ipFamilies: ipFamilies.length > 0 ? ipFamilies : ['IPv4'],
      tags: { ...lbc.value.tags, ...ownershipTags(input.clusterName, ref) },
      providerOptions: parsed.options,
    },
  };
}

/** The Service condition that lists the provider annotations lbc does not read (#16: a Warning Event alone scrolls away). */
export const UNREAD_ANNOTATIONS_CONDITION = 'lbc.dev/UnreadAnnotations';

/**
 * The UnreadAnnotations condition a Service should carry: True naming each annotation under
 * the provider's prefixes that it does not read, or undefined when there is none (then the
 * condition is taken off). Pure, so a resync that reuses the last ensure can still say it.
 */
export function unreadAnnotationsCondition(provider: Pick<ModelProvider, 'parseOptions'>, service: V1Service): ConditionInput | undefined {
  const parsed = provider.parseOptions?.(service.metadata?.annotations ?? {}, 'Service');
  const unread = parsed?.ok ? (parsed.unread ?? []) : [];
  if (unread.length === 0) return undefined;
  return { type: UNREAD_ANNOTATIONS_CONDITION, status: 'True', reason: 'AnnotationsNotRead', message: unread.join('; ') };
}

/** A creationTimestamp in ms; 0 when absent or unreadable. */
export function timeOf(t: Date | string | undefined): number {
  if (t === undefined) return 0;
  const ms = t instanceof Date ? t.getTime() : Date.parse(t);
  return Number.isFinite(ms) ? ms : 0;
}

/** What an address allocator weighs of the Service besides its load balancer (MetalLB's sharing rules, restore order). */
export function allocationFactsOf(service: V1Service, withLabels = false): AllocationFacts {
  return {
    trafficPolicy: service.spec?.externalTrafficPolicy === 'Local' ? 'Local' : 'Cluster',
    selector: selectorText(service.spec?.selector),
    createdAt: timeOf(service.metadata?.creationTimestamp),
    ...(withLabels && service.metadata?.labels && Object.keys(service.metadata.labels).length > 0 ? { labels: { ...service.metadata.labels } } : {}),
  };
}

/**
 * The addresses a Service holds in its status, for Provider.restore(); undefined when it
 * holds none. Built even when the Service's spec would not be (bad annotations, no node
 * port yet): its status still names the address, so no other Service may get it.
 */
export function heldAddressesOf<O extends ProviderOptions>(service: V1Service, provider: Pick<ModelProvider<O>, 'parseOptions'> & { capabilities?: ModelProvider['capabilities'] }): HeldAddresses<O> | undefined {
  const addresses = statusAddresses(service);
  const uid = service.metadata?.uid;
  if (addresses.length === 0 || !uid) return undefined;
  const parsed = provider.parseOptions?.(service.metadata?.annotations ?? {}, 'Service');
  const asked = service.spec?.loadBalancerIP ? normalizeIp(service.spec.loadBalancerIP.trim()) : undefined;
  return {
    ref: { kind: 'Service', namespace: service.metadata?.namespace ?? '', name: service.metadata?.name ?? '', uid },
    addresses,
    allocation: allocationFactsOf(service, provider.capabilities?.allocationByLabels === true),
    ports: (service.spec?.ports ?? []).map((p) => ({ protocol: p.protocol ?? 'TCP', port: p.port })),
    requestedAddresses: asked === undefined ? [] : [asked],
    ...(parsed?.ok ? { providerOptions: parsed.options } : {}),
  };
}
