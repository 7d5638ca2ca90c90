// The garbage collector's "is this Gateway's load balancer still wanted" for a Gateway whose
// GatewayClass names a LoadBalancerConfiguration (not an lbc provider): the provider that
// reads the kind serves it, so another provider's load balancer for it is an orphan; without
// knowing who reads the kind, the class is misconfigured and nothing of it is removed.
import { describe, expect, it } from 'vitest';
import { isWanted } from '../../src/controller/garbage-collector.js';
import { parameterReaders } from '../../src/controller/gateway/gateway-class.js';
import { gatewayControllers } from '../../src/controller/gateway/controller-names.js';
import { validateConfig } from '../../src/config/config.js';
import type { Gateway, GatewayClass } from '../../src/kube/gateway-api.js';
import type { LbRef } from '../../src/model/ref.js';

const config = validateConfig({
  clusterName: 'prod',
  providers: [
    { name: 'aws', type: 'aws', options: { region: 'us-east-1' } },
    { name: 'mem', type: 'memory', options: { addressPool: '198.51.100.0/24', layers: ['L4', 'L7', 'Gateway'] } },
  ],
  defaultClass: 'lbc.dev/mem',
});
const gc: GatewayClass = { metadata: { name: 'platform' }, spec: { controllerName: 'lbc.dev/gateway-controller', parametersRef: { group: 'gateway.k8s.aws', kind: 'LoadBalancerConfiguration', name: 'platform', namespace: 'infra' } } };
const gw: Gateway = { metadata: { namespace: 'shop', name: 'edge', uid: 'uid-1' }, spec: { gatewayClassName: 'platform', listeners: [] } };
const ref: LbRef = { kind: 'Gateway', namespace: 'shop', name: 'edge', uid: 'uid-1' };
const empty = { get: () => undefined, byIndex: () => [], list: () => [] };
const lookups = {
  config,
  services: empty,
  ingresses: empty,
  ingressClasses: empty,
  gateway: () => ({ gateways: { get: (k: string) => (k === 'shop/edge' ? gw : undefined) }, gatewayClasses: { get: (k: string) => (k === 'platform' ? gc : undefined) } }),
  gatewayControllers: gatewayControllers(config, []),
};
const readers = parameterReaders([
  { name: 'aws', capabilities: { layers: ['L4', 'L7', 'Gateway'], gatewayParameters: [{ group: 'gateway.k8s.aws', kind: 'LoadBalancerConfiguration' }] } },
  { name: 'mem', capabilities: { layers: ['L4', 'L7', 'Gateway'] } },
]);

describe('isWanted: a Gateway of a class naming a LoadBalancerConfiguration', () => {
  it('is the aws provider\'s: its load balancer is wanted, the memory provider\'s is an orphan', () => {
    expect(isWanted(ref, 'aws', { ...lookups, parameterReaders: readers })).toBe(true);
    expect(isWanted(ref, 'mem', { ...lookups, parameterReaders: readers })).toBe(false);
  });

  it('without the readers the class is misconfigured, and every provider keeps what it holds', () => {
    expect(isWanted(ref, 'mem', lookups)).toBe(true);
  });
});
