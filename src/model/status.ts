// What a provider reports back once a load balancer exists: the shape of
// status.loadBalancer.ingress, without the Kubernetes types.
import type { RouteKind } from './gateway.js';
import type { L4Protocol } from './spec.js';

export interface PortStatus {
  readonly port: number;
  readonly protocol: L4Protocol;
}

/** VIP: traffic arrives with the LB address as destination; Proxy: the LB terminates it. */
export type IpMode = 'VIP' | 'Proxy';

interface IngressPointBase {
  readonly ports?: readonly PortStatus[];
  readonly ipMode?: IpMode;
}

export type IngressPoint =
  | (IngressPointBase & { readonly ip: string; readonly hostname?: never })
  | (IngressPointBase & { readonly hostname: string; readonly ip?: never });

/**
 * Something ensure did that the object's users should hear about besides the address,
 * e.g. a cloud resource that could not change in place and was deleted and created
 * again. The reconciler turns each into an Event on the object; a reason is one of the
 * upstream service controller's (UpdatedLoadBalancer, SyncLoadBalancerFailed).
 */
export interface ProviderNotice {
  readonly type: 'Normal' | 'Warning';
  readonly reason: string;
  readonly message: string;
  /**
   * The Gateway route the notice is about (a rule the provider could not serve as asked):
   * its author reads the route, so the Gateway reconciler tells it there too.
   */
  readonly route?: RouteRef;
}

/** A Gateway API route, by kind and name. */
export interface RouteRef {
  readonly kind: RouteKind;
  readonly namespace: string;
  readonly name: string;
}

/**
 * A certificate the cloud obtains and renews for the load balancer (GKE's
 * ManagedCertificate), as the cloud reports it now: the controller writes it back to the
 * object that asked for it, in the words that object's own controller uses.
 */
export interface ManagedCertificateState {
  /** `namespace/name` of the object that asked for it. */
  readonly source: string;
  /** The cloud's name for the certificate. */
  readonly certificateName: string;
  /** The certificate's state, e.g. Provisioning, Active. */
  readonly certificateStatus: string;
  readonly domainStatus: readonly { readonly domain: string; readonly status: string }[];
  /** RFC 3339, once the certificate is issued. */
  readonly expireTime?: string;
}

/**
 * The group the provider put one backend Service port's endpoints in (GCE: a zonal NEG of
 * that name in each zone), for the controller to write on the Service as the controller it
 * replaces does (ingress-gce's cloud.google.com/neg-status).
 */
export interface BackendGroup {
  readonly namespace: string;
  readonly service: string;
  readonly port: number;
  readonly name: string;
  /** Sorted. */
  readonly zones: readonly string[];
}

export interface LoadBalancerStatus {
  readonly ingress: readonly IngressPoint[];
  /** The endpoint groups of the backends that have them; not part of the object's status. */
  readonly backendGroups?: readonly BackendGroup[];
  /** The managed certificates the spec asked for (GKE's ManagedCertificates); not part of the object's status. */
  readonly managedCertificates?: readonly ManagedCertificateState[];
  /** Set by ensure only when there is something to tell; not part of the object's status (statusEqual ignores it). */
  readonly notices?: readonly ProviderNotice[];
  /**
   * Annotations the provider keeps on the object besides the status, as the controller
   * it replaces writes them (MetalLB: `metallb.io/ip-allocated-from-pool`); each name is
   * one of its capabilities' objectAnnotations, removed again when the LB goes.
   */
  readonly annotations?: Readonly<Record<string, string>>;
}

export const EMPTY_STATUS: LoadBalancerStatus = { ingress: [] };

function pointKey(p: IngressPoint): string {
  const ports = [...(p.ports ?? [])].map((x) => `${x.protocol}/${x.port}`).sort();
  return JSON.stringify([p.ip ?? '', p.hostname ?? '', p.ipMode ?? '', ports]);
}

/** Order-insensitive, so a provider that lists addresses in a different order causes no status write. */
export function statusEqual(a: LoadBalancerStatus, b: LoadBalancerStatus): boolean {
  if (a.ingress.length !== b.ingress.length) return false;
  const ka = a.ingress.map(pointKey).sort();
  const kb = b.ingress.map(pointKey).sort();
  return ka.every((k, i) => k === kb[i]);
}
