// Kubernetes objects for the builder and predicate tests, with only the fields that matter.
import type {
  V1EndpointSlice,
  V1Ingress,
  V1IngressClass,
  V1IngressSpec,
  V1Node,
  V1Secret,
  V1Service,
  V1ServicePort,
  V1ServiceSpec,
} from '@kubernetes/client-node';
import type { LbcConfig } from '../../src/config/config.js';
import type { ModelProvider } from '../../src/controller/service-model.js';
import type { TargetType } from '../../src/model/spec.js';

export function service(name: string, spec: V1ServiceSpec, annotations?: Record<string, string>, namespace = 'default'): V1Service {
  return {
    metadata: { name, namespace, uid: `uid-${namespace}-${name}`, ...(annotations ? { annotations } : {}) },
    spec,
  };
}

export function lbService(name: string, ports: V1ServicePort[], extra: Partial<V1ServiceSpec> = {}, annotations?: Record<string, string>): V1Service {
  return service(name, { type: 'LoadBalancer', ports, ...extra }, annotations);
}

export function node(
  name: string,
  opts: { ready?: 'True' | 'False' | 'Unknown' | 'missing'; labels?: Record<string, string>; taints?: string[]; ip?: string; providerID?: string; deleting?: boolean } = {},
): V1Node {
  const ready = opts.ready ?? 'True';
  return {
    metadata: {
      name,
      ...(opts.labels ? { labels: opts.labels } : {}),
      ...(opts.deleting ? { deletionTimestamp: new Date(0) } : {}),
    },
    spec: {
      ...(opts.providerID ? { providerID: opts.providerID } : {}),
      ...(opts.taints ? { taints: opts.taints.map((key) => ({ key, effect: 'NoSchedule' })) } : {}),
    },
    status: {
      addresses: [{ type: 'InternalIP', address: opts.ip ?? '10.0.0.1' }],
      conditions: [
        { type: 'MemoryPressure', status: 'False' },
        ...(ready === 'missing' ? [] : [{ type: 'Ready', status: ready }]),
      ],
    },
  };
}

export interface EndpointSpec {
  ip: string;
  ready?: boolean;
  nodeName?: string;
  zone?: string;
}

export function slice(
  serviceName: string,
  ports: { name?: string; port: number; protocol?: string }[],
  endpoints: EndpointSpec[],
  opts: { namespace?: string; addressType?: string; name?: string } = {},
): V1EndpointSlice {
  const namespace = opts.namespace ?? 'default';
  return {
    metadata: { name: opts.name ?? `${serviceName}-abc`, namespace, labels: { 'kubernetes.io/service-name': serviceName } },
    addressType: opts.addressType ?? 'IPv4',
    ports: ports.map((p) => ({ ...(p.name !== undefined ? { name: p.name } : {}), port: p.port, protocol: p.protocol ?? 'TCP' })),
    endpoints: endpoints.map((e) => ({
      addresses: [e.ip],
      ...(e.ready !== undefined ? { conditions: { ready: e.ready } } : {}),
      ...(e.nodeName ? { nodeName: e.nodeName } : {}),
      ...(e.zone ? { zone: e.zone } : {}),
    })),
  };
}

export function ingress(name: string, spec: V1IngressSpec, annotations?: Record<string, string>, namespace = 'default'): V1Ingress {
  return { metadata: { name, namespace, uid: `uid-${namespace}-${name}`, ...(annotations ? { annotations } : {}) }, spec };
}

export function ingressClass(name: string, controller: string, opts: { isDefault?: boolean; provider?: string; parameters?: { apiGroup?: string; kind: string; name: string } } = {}): V1IngressClass {
  const parameters = opts.parameters ?? (opts.provider ? { apiGroup: 'lbc.dev', kind: 'Provider', name: opts.provider } : undefined);
  return {
    metadata: { name, ...(opts.isDefault !== undefined ? { annotations: { 'ingressclass.kubernetes.io/is-default-class': String(opts.isDefault) } } : {}) },
    spec: { controller, ...(parameters ? { parameters } : {}) },
  };
}

const b64 = (s: string): string => Buffer.from(s).toString('base64');
export const CERT_PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
export const KEY_PEM = '-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n';

export function tlsSecret(name: string, data: { crt?: string; key?: string } = { crt: CERT_PEM, key: KEY_PEM }, type = 'kubernetes.io/tls', namespace = 'default'): V1Secret {
  return {
    metadata: { name, namespace },
    type,
    data: { ...(data.crt !== undefined ? { 'tls.crt': b64(data.crt) } : {}), ...(data.key !== undefined ? { 'tls.key': b64(data.key) } : {}) },
  };
}

export function modelProvider(targetTypes: [TargetType, ...TargetType[]] = ['instance', 'ip'], layers: ('L4' | 'L7')[] = ['L4', 'L7']): ModelProvider {
  return { name: 'test', capabilities: { layers, targetTypes, annotationPrefixes: ['test.example/'] } };
}

export function config(over: Partial<LbcConfig> = {}): LbcConfig {
  return {
    clusterName: 'test',
    providers: [
      { name: 'aws', type: 'aws', class: 'lbc.dev/aws', options: {} },
      { name: 'metal', type: 'metal', class: 'example.com/metal', options: {} },
    ],
    ingress: { controllerName: 'lbc.dev/ingress-controller', classAnnotationMap: { alb: 'aws' } },
    gateway: { controllerName: 'lbc.dev/gateway-controller' },
    concurrency: 4,
    resyncPeriodMs: 600_000,
    gc: { intervalMs: 1_800_000, dryRun: false },
    nodeReadyHysteresisMs: 60_000,
    ...over,
  };
}
