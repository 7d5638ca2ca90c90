// The addresses kube-apiserver v1.26 accepts in Endpoints and EndpointSlices
// (validateEndpointAddress in pkg/apis/core/validation, validateEndpoints in
// pkg/apis/discovery/validation): valid IPs that are not unspecified, loopback,
// link-local or link-local multicast. Wording recorded from the real server.
//
// devcluster's one exception, allowLoopbackEndpoints, exists for `lbc demo`: its backend
// pods listen on 127.200.0.x so that the demo needs no network namespace or root.
import { type ApiError, fieldError, invalid, type StatusCause } from './errors.js';
import { isObject, type KObject } from './objects.js';
import type { Strategy } from './resources.js';
import { isIPSloppy, nonSpecialIPErrors } from './service-validation.js';

export interface EndpointAddressRules {
  /** Accept 127.0.0.0/8 and ::1, which kube-apiserver refuses. */
  allowLoopback: boolean;
}

export type EndpointKind = 'Endpoints' | 'EndpointSlice';

const asArray = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

function endpointsCauses(obj: KObject, rules: EndpointAddressRules): StatusCause[] {
  const causes: StatusCause[] = [];
  asArray(obj.subsets).forEach((subset, i) => {
    if (!isObject(subset)) return;
    for (const list of ['addresses', 'notReadyAddresses'] as const) {
      asArray(subset[list]).forEach((a, j) => {
        const ip = isObject(a) && typeof a.ip === 'string' ? a.ip : '';
        const field = `subsets[${i}].${list}[${j}].ip`;
        // validation.IsValidIP and then ValidateNonSpecialIP: a bad IP is reported twice.
        if (!isIPSloppy(ip)) causes.push(fieldError.invalid(field, ip, 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)'));
        causes.push(...nonSpecialIPErrors(ip, field, rules.allowLoopback));
      });
    }
  });
  return causes;
}

function sliceCauses(obj: KObject, rules: EndpointAddressRules): StatusCause[] {
  const type = obj.addressType;
  // FQDN and unknown address types are not checked as IPs.
  if (type !== 'IPv4' && type !== 'IPv6') return [];
  const causes: StatusCause[] = [];
  asArray(obj.endpoints).forEach((e, i) => {
    if (!isObject(e)) return;
    asArray(e.addresses).forEach((a, j) => {
      const ip = typeof a === 'string' ? a : '';
      const field = `endpoints[${i}].addresses[${j}]`;
      const family = isIPSloppy(ip) ? (ip.includes(':') ? 'IPv6' : 'IPv4') : undefined;
      if (family !== type) causes.push(fieldError.invalid(field, ip, `must be a valid ${type} address`));
      causes.push(...nonSpecialIPErrors(ip, field, rules.allowLoopback));
    });
  });
  return causes;
}

/** The 422 kube-apiserver answers for an Endpoints or EndpointSlice with refused addresses, if any. */
export function refusedEndpointAddresses(kind: EndpointKind, obj: KObject, rules: EndpointAddressRules): ApiError | undefined {
  const name = obj.metadata.name ?? '';
  if (kind === 'EndpointSlice') {
    const causes = sliceCauses(obj, rules);
    return causes.length ? invalid('EndpointSlice', 'discovery.k8s.io', name, causes, 'EndpointSlice.discovery.k8s.io') : undefined;
  }
  const causes = endpointsCauses(obj, rules);
  return causes.length ? invalid('Endpoints', '', name, causes) : undefined;
}

export function endpointAddressStrategy(kind: EndpointKind, rules: EndpointAddressRules): Strategy {
  const check = (obj: KObject): void => {
    const err = refusedEndpointAddresses(kind, obj, rules);
    if (err) throw err;
  };
  return { prepareCreate: check, prepareUpdate: check };
}
