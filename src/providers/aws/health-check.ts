// The health check of an ELBv2 target group, as aws-load-balancer-controller builds it: the
// AWS annotations first, then what the user set through lbc.dev/health-check-*, then
// ALBC's defaults for the kind of target group. lbc's generic defaults, which the model
// builder filled in for every provider, give way to ALBC's: the builder marks them
// (HealthCheck.defaulted), so a value the user chose is never mistaken for one.
import { probesKubeProxy, type DefaultedFields, type HealthCheckField, type HealthCheckPort, type TargetSet } from '../../model/spec.js';
import type { AwsLbOptions } from './annotations.js';

export interface DesiredHealthCheck {
  readonly protocol: 'TCP' | 'HTTP' | 'HTTPS';
  /** `traffic-port` or a port number, as ELBv2 writes it. */
  readonly port: string;
  readonly path?: string;
  readonly intervalSeconds: number;
  readonly timeoutSeconds: number;
  readonly healthyThreshold: number;
  readonly unhealthyThreshold: number;
  /** HTTP codes; HTTP(S) checks only. */
  readonly matcher?: string;
  /** gRPC codes, instead of matcher, for a GRPC target group. */
  readonly grpcCodes?: string;
}

interface AlbcDefaults {
  readonly protocol: DesiredHealthCheck['protocol'];
  readonly path: string;
  readonly intervalSeconds: number;
  readonly timeoutSeconds: number;
  readonly healthyThreshold: number;
  readonly unhealthyThreshold: number;
  readonly codes: string;
}

// aws-load-balancer-controller v3.5 pkg/ingress/model_builder.go (defaultHealthCheck*, the
// same in docs/guide/ingress/annotations.md): path `/`, 15 s interval, 5 s timeout, healthy
// and unhealthy after 2, success code 200; for backend-protocol-version GRPC the path
// /AWS.ALB/healthcheck and gRPC code 12 (UNIMPLEMENTED, what a server without that method
// answers). The protocol is the target group's (buildTargetGroupHealthCheckProtocol).
const INGRESS = { path: '/', intervalSeconds: 15, timeoutSeconds: 5, healthyThreshold: 2, unhealthyThreshold: 2, codes: '200' } as const;
const INGRESS_GRPC = { path: '/AWS.ALB/healthcheck', codes: '12' } as const;
// pkg/service/model_builder.go (docs/guide/service/annotations.md "Health Check"): TCP to
// the traffic port every 10 s, 10 s timeout, healthy and unhealthy after 3, HTTP path `/`
// and codes 200-399 when asked for HTTP; for instance targets of an externalTrafficPolicy
// Local Service (buildTargetGroupHealthCheckConfigForInstanceModeLocal) HTTP /healthz on the
// healthCheckNodePort every 10 s, 6 s timeout, healthy and unhealthy after 2.
const SERVICE: AlbcDefaults = { protocol: 'TCP', path: '/', intervalSeconds: 10, timeoutSeconds: 10, healthyThreshold: 3, unhealthyThreshold: 3, codes: '200-399' };
const SERVICE_LOCAL: AlbcDefaults = { protocol: 'HTTP', path: '/healthz', intervalSeconds: 10, timeoutSeconds: 6, healthyThreshold: 2, unhealthyThreshold: 2, codes: '200-399' };

// ALBC's Gateway builder has defaults of its own, for ALB and NLB Gateways alike
// (pkg/gateway/model/model_build_target_group.go newTargetGroupBuilder, read at 33bde7e): path `/`,
// 15 s interval, 5 s timeout, healthy and unhealthy after 3, codes 200-399; gRPC as the
// Ingress's. The protocol is the target group's on an ALB and TCP on an NLB
// (buildTargetGroupHealthCheckProtocol); an NLB's instance targets of an
// externalTrafficPolicy Local Service take the Service defaults for that case.
const GATEWAY = { path: '/', intervalSeconds: 15, timeoutSeconds: 5, healthyThreshold: 3, unhealthyThreshold: 3, codes: '200-399' } as const;

/**
 * The target group the check is for: an NLB's, or an ALB's with its protocol; `gateway` when
 * a Gateway's (ALBC's Gateway defaults), else an Ingress's (L7) or a Service's (L4).
 */
export type HealthCheckTarget = { readonly layer: 'L4'; readonly gateway?: boolean } | { readonly layer: 'L7'; readonly protocol: 'HTTP' | 'HTTPS'; readonly gateway?: boolean };

function albcDefaults(ts: TargetSet, o: AwsLbOptions, target: HealthCheckTarget): AlbcDefaults {
  if (target.layer === 'L7') {
    const grpc = o.protocolVersion === 'GRPC' ? INGRESS_GRPC : {};
    return { ...(target.gateway === true ? GATEWAY : INGRESS), ...grpc, protocol: target.protocol };
  }
  if (ts.type === 'instance' && probesKubeProxy(ts)) return SERVICE_LOCAL;
  return target.gateway === true ? { ...GATEWAY, protocol: 'TCP' } : SERVICE;
}

export function healthCheckFor(ts: TargetSet, o: AwsLbOptions, target: HealthCheckTarget): DesiredHealthCheck {
  const base = ts.healthCheck;
  const h = o.healthCheck;
  const d = albcDefaults(ts, o, target);
  const defaulted: DefaultedFields = ts.healthCheckDefaulted ?? {};
  // The AWS annotation, else the user's lbc.dev value, else ALBC's default where the builder filled one in.
  const pick = <T>(field: HealthCheckField, asked: T | undefined, builder: T, albc: T): T => asked ?? (defaulted[field] ? albc : builder);
  const protocol = pick('protocol', h.protocol, base.protocol, d.protocol);
  // ALBC's default port is the builder's: the traffic port, or kube-proxy's healthCheckNodePort.
  const port: HealthCheckPort = h.port ?? base.port;
  const timing = {
    intervalSeconds: pick('intervalSeconds', h.intervalSeconds, base.intervalSeconds, d.intervalSeconds),
    timeoutSeconds: pick('timeoutSeconds', h.timeoutSeconds, base.timeoutSeconds, d.timeoutSeconds),
    healthyThreshold: pick('healthyThreshold', h.healthyThreshold, base.healthyThreshold, d.healthyThreshold),
    unhealthyThreshold: pick('unhealthyThreshold', h.unhealthyThreshold, base.unhealthyThreshold, d.unhealthyThreshold),
  };
  const portText = port === 'traffic-port' ? 'traffic-port' : String(port);
  if (protocol === 'TCP') return { protocol, port: portText, ...timing };
  const path = h.path ?? (base.protocol === 'TCP' || defaulted.path ? d.path : base.path);
  const codes = h.successCodes ?? d.codes;
  if (target.layer === 'L7' && o.protocolVersion === 'GRPC') return { protocol, port: portText, path, ...timing, grpcCodes: codes };
  return { protocol, port: portText, path, ...timing, matcher: codes };
}
