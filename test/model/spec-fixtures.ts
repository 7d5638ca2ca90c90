// Small hand-built specs for model and provider tests.
import type { L4Spec, L7Spec, NodeTarget } from '../../src/model/spec.js';

export const nodeA: NodeTarget = { name: 'node-a', addresses: [{ type: 'InternalIP', address: '10.0.0.1' }], zone: 'z1' };
export const nodeB: NodeTarget = {
  name: 'node-b',
  addresses: [
    { type: 'InternalIP', address: '10.0.0.2' },
    { type: 'ExternalIP', address: '203.0.113.2' },
  ],
  providerID: 'memory:///node-b',
};

export function l4Spec(over: Partial<L4Spec> = {}): L4Spec {
  return {
    layer: 'L4',
    ref: { kind: 'Service', namespace: 'default', name: 'web', uid: 'uid-web' },
    provider: 'memory',
    className: 'lbc.dev/memory',
    clusterName: 'test',
    listeners: [
      { protocol: 'TCP', port: 80, targetSet: 'tcp-80' },
      { protocol: 'UDP', port: 53, targetSet: 'udp-53' },
    ],
    targetSets: [
      {
        name: 'tcp-80',
        type: 'instance',
        nodePort: 30080,
        protocol: 'TCP',
        targets: [nodeA, nodeB],
        healthCheck: { protocol: 'TCP', port: 'traffic-port', intervalSeconds: 10, timeoutSeconds: 5, healthyThreshold: 2, unhealthyThreshold: 3 },
        backend: { namespace: 'default', service: 'web', port: 80 },
      },
      {
        name: 'udp-53',
        type: 'ip',
        port: 5353,
        protocol: 'UDP',
        targets: [
          { ip: '10.1.0.2', port: 5353 },
          { ip: '10.1.0.1', port: 5353, zone: 'z1' },
        ],
        healthCheck: { protocol: 'TCP', port: 'traffic-port', intervalSeconds: 10, timeoutSeconds: 5, healthyThreshold: 2, unhealthyThreshold: 3 },
        backend: { namespace: 'default', service: 'web', port: 53 },
      },
    ],
    sourceRanges: ['10.0.0.0/8', '192.168.0.0/16'],
    sessionAffinity: { type: 'None' },
    requestedAddresses: [],
    ipFamilies: ['IPv4'],
    tags: { 'lbc.dev/cluster': 'test', team: 'a' },
    providerOptions: { tier: 'standard' },
    ...over,
  };
}

export function l7Spec(over: Partial<L7Spec> = {}): L7Spec {
  return {
    layer: 'L7',
    ref: { kind: 'Ingress', namespace: 'default', name: 'site', uid: 'uid-site' },
    provider: 'memory',
    className: 'lbc',
    clusterName: 'test',
    listeners: [
      { protocol: 'HTTP', port: 80 },
      {
        protocol: 'HTTPS',
        port: 443,
        certificates: [
          { source: 'provider', id: 'cert-2', hosts: ['b.example.com', 'a.example.com'] },
          { source: 'secret', secretRef: { namespace: 'default', name: 'tls' }, hosts: ['x.example.com'], certPem: 'C', keyPem: 'K' },
        ],
      },
    ],
    rules: [
      { host: 'a.example.com', path: '/api', pathType: 'Prefix', targetSet: 'default/api:80', source: 'default/site' },
      { path: '/', pathType: 'Prefix', targetSet: 'default/web:80', source: 'default/site' },
    ],
    defaultBackend: 'default/web:80',
    targetSets: [
      {
        name: 'default/web:80',
        type: 'ip',
        port: 8080,
        protocol: 'HTTP',
        targets: [{ ip: '10.1.0.5', port: 8080 }],
        healthCheck: { protocol: 'HTTP', port: 'traffic-port', path: '/', intervalSeconds: 10, timeoutSeconds: 5, healthyThreshold: 2, unhealthyThreshold: 3 },
        backend: { namespace: 'default', service: 'web', port: 80 },
      },
      {
        name: 'default/api:80',
        type: 'instance',
        nodePort: 30081,
        protocol: 'HTTP',
        targets: [nodeA],
        healthCheck: { protocol: 'HTTP', port: 'traffic-port', path: '/', intervalSeconds: 10, timeoutSeconds: 5, healthyThreshold: 2, unhealthyThreshold: 3 },
        backend: { namespace: 'default', service: 'api', port: 80 },
      },
    ],
    sourceRanges: [],
    requestedAddresses: [],
    ipFamilies: ['IPv4'],
    tags: { 'lbc.dev/cluster': 'test' },
    providerOptions: { tier: 'standard' },
    ...over,
  };
}
