// The condition types and reasons the Gateway API specification defines (apis/v1
// gateway_types.go, gatewayclass_types.go, shared_types.go), as the builder sets them.
// A condition here has no lastTransitionTime: the status writer keeps the old one while
// the status stays the same (kube/status.ts mergeConditions).
import type { ConditionInput } from '../../kube/status.js';

export const Accepted = 'Accepted';
export const Programmed = 'Programmed';
export const ResolvedRefs = 'ResolvedRefs';
export const Conflicted = 'Conflicted';
export const SupportedVersion = 'SupportedVersion';

/** Listener and Gateway reasons. */
export const ListenerReason = {
  Accepted: 'Accepted',
  PortUnavailable: 'PortUnavailable',
  UnsupportedProtocol: 'UnsupportedProtocol',
  Programmed: 'Programmed',
  Invalid: 'Invalid',
  Pending: 'Pending',
  ResolvedRefs: 'ResolvedRefs',
  InvalidCertificateRef: 'InvalidCertificateRef',
  InvalidRouteKinds: 'InvalidRouteKinds',
  RefNotPermitted: 'RefNotPermitted',
  HostnameConflict: 'HostnameConflict',
  ProtocolConflict: 'ProtocolConflict',
  NoConflicts: 'NoConflicts',
} as const;

export const GatewayReason = {
  Accepted: 'Accepted',
  ListenersNotValid: 'ListenersNotValid',
  Invalid: 'Invalid',
  UnsupportedAddress: 'UnsupportedAddress',
  Pending: 'Pending',
  Programmed: 'Programmed',
  AddressNotAssigned: 'AddressNotAssigned',
  AddressNotUsable: 'AddressNotUsable',
  InvalidParameters: 'InvalidParameters',
} as const;

export const RouteReason = {
  Accepted: 'Accepted',
  NotAllowedByListeners: 'NotAllowedByListeners',
  NoMatchingListenerHostname: 'NoMatchingListenerHostname',
  NoMatchingParent: 'NoMatchingParent',
  UnsupportedValue: 'UnsupportedValue',
  ResolvedRefs: 'ResolvedRefs',
  RefNotPermitted: 'RefNotPermitted',
  InvalidKind: 'InvalidKind',
  BackendNotFound: 'BackendNotFound',
  UnsupportedProtocol: 'UnsupportedProtocol',
} as const;

export const GatewayClassReason = {
  Accepted: 'Accepted',
  InvalidParameters: 'InvalidParameters',
  SupportedVersion: 'SupportedVersion',
} as const;

export function condition(type: string, ok: boolean, reason: string, message: string, observedGeneration: number | undefined): ConditionInput {
  return { type, status: ok ? 'True' : 'False', reason, message, ...(observedGeneration !== undefined ? { observedGeneration } : {}) };
}
