import type { V1EndpointSlice, V1IngressBackend, V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { BackendResolver, buildTargetSets, type TargetSetInputs, type TargetSets } from '../../../src/controller/ingress/backends.js';
import { DEFAULT_HEALTH_CHECK_TIMING } from '../../../src/controller/health-check.js';
import type { ModelError } from '../../../src/model/validation.js';
import { ingress, node, service } from '../fixtures.js';
import { backend, member } from './members.js';

const services = [
  service('web', { type: 'NodePort', ports: [{ name: 'http', port: 80, targetPort: 8080, nodePort: 30080 }] }),
  service('shop', { type: 'LoadBalancer', ports: [{ port: 443, targetPort: 8443, nodePort: 31443 }] }),
  service('api', { type: 'ClusterIP', ports: [{ name: 'http', port: 8080, targetPort: 'http' }, { name: 'dns', port: 53, protocol: 'UDP' }] }),
  service('api', { type: 'ClusterIP', ports: [{ name: 'http', port: 9090 }] }, undefined, 'other'),
];

describe('BackendResolver', () => {
  it.each<{ name: string; namespace?: string; backend: V1IngressBackend; key?: string; errors?: ModelError[] }>([
    { name: 'a port by number', backend: backend('web', 80), key: 'default/web:80' },
    { name: 'a port by name, keyed by its number', backend: backend('api', 'http'), key: 'default/api:8080' },
    { name: "the Service of the Ingress's own namespace", namespace: 'other', backend: backend('api', 'http'), key: 'other/api:9090' },
    { name: 'a resource backend', backend: { resource: { kind: 'Bucket', name: 'b' } }, errors: [{ field: 'f', object: 'Ingress default/i', reason: 'only Service backends are supported (resource backends are not)' }] },
    { name: 'a Service that does not exist', backend: backend('gone', 80), errors: [{ field: 'f.service.name', object: 'Ingress default/i', reason: 'Service default/gone does not exist' }] },
    { name: "a Service of another namespace, as if it didn't exist", namespace: 'other', backend: backend('web', 80), errors: [{ field: 'f.service.name', object: 'Ingress other/i', reason: 'Service other/web does not exist' }] },
    { name: 'a port number the Service lacks', backend: backend('web', 81), errors: [{ field: 'f.service.port', object: 'Ingress default/i', reason: 'Service default/web has no port 81' }] },
    { name: 'a port name the Service lacks', backend: backend('web', 'grpc'), errors: [{ field: 'f.service.port', object: 'Ingress default/i', reason: 'Service default/web has no port grpc' }] },
    { name: 'no port at all', backend: backend('web'), errors: [{ field: 'f.service.port', object: 'Ingress default/i', reason: 'a port number or name is required' }] },
    { name: 'a UDP port', backend: backend('api', 'dns'), errors: [{ field: 'f.service.port', object: 'Ingress default/i', reason: 'Service port 53 is UDP; HTTP needs TCP' }] },
  ])('$name', ({ namespace = 'default', backend: b, key, errors = [] }) => {
    const found: ModelError[] = [];
    const r = new BackendResolver(services, found);
    expect(r.resolve(member(ingress('i', {}, undefined, namespace)), b, 'f')).toBe(key);
    expect(found).toEqual(errors);
    expect(r.resolved().map((x) => x.key)).toEqual(key ? [key] : []);
  });

  it('remembers each Service port once, in key order', () => {
    const r = new BackendResolver(services, []);
    const m = member(ingress('i', {}));
    for (const b of [backend('web', 80), backend('api', 'http'), backend('web', 'http'), backend('shop', 443)]) r.resolve(m, b, 'f');
    expect(r.resolved().map((x) => x.key)).toEqual(['default/api:8080', 'default/shop:443', 'default/web:80']);
  });
});

describe('buildTargetSets', () => {
  const nodes = [node('n1', { ip: '10.0.0.1' }), node('n2', { ip: '10.0.0.2' })];
  const nodeTargets = [
    { name: 'n1', addresses: [{ type: 'InternalIP', address: '10.0.0.1' }] },
    { name: 'n2', addresses: [{ type: 'InternalIP', address: '10.0.0.2' }] },
  ];
  const slices: V1EndpointSlice[] = [
    {
      metadata: { name: 'api-x', namespace: 'default', labels: { 'kubernetes.io/service-name': 'api' } },
      addressType: 'IPv4',
      ports: [{ name: 'http', port: 3000, protocol: 'TCP' }],
      endpoints: [
        { addresses: ['10.1.0.2'], targetRef: { kind: 'Pod', namespace: 'default', name: 'api-b' } },
        { addresses: ['10.1.0.1'], targetRef: { kind: 'Pod', namespace: 'default', name: 'api-a' } },
        { addresses: ['10.1.0.9'], conditions: { ready: false } },
      ],
    },
  ];
  const podTargets = [
    { ip: '10.1.0.1', port: 3000 },
    { ip: '10.1.0.2', port: 3000 },
  ];
  const hc = { protocol: 'HTTP' as const, port: 'traffic-port' as const, path: '/', ...DEFAULT_HEALTH_CHECK_TIMING };
  const base: TargetSetInputs = { endpointSlices: slices, nodes, supportsIp: true, targetType: 'instance', explicitTargetType: false, healthCheck: hc, followReadinessProbes: false };
  const resolved = (b: V1IngressBackend) => {
    const r = new BackendResolver(services, []);
    r.resolve(member(ingress('i', {})), b, 'f');
    return r.resolved();
  };
  const web = { namespace: 'default', service: 'web', port: 80 };
  const api = { namespace: 'default', service: 'api', port: 8080 };

  it.each<{ name: string; backend: V1IngressBackend; inputs?: Partial<TargetSetInputs>; want: Partial<TargetSets> }>([
    {
      name: "NodePort Service: instance targets on the Service's node port",
      backend: backend('web', 80),
      want: {
        targetSets: [{ name: 'default/web:80', protocol: 'HTTP', healthCheck: hc, backend: web, type: 'instance', nodePort: 30080, targets: nodeTargets }],
        decisions: [{ key: 'default/web:80', backend: web, targetType: 'instance', via: 'nodePort', reason: "default/web:80: instance targets on the Service's node port 30080" }],
        companions: [],
      },
    },
    {
      name: 'LoadBalancer Service: its node port too',
      backend: backend('shop', 443),
      want: { decisions: [expect.objectContaining({ key: 'default/shop:443', via: 'nodePort', targetType: 'instance' })], companions: [] },
    },
    {
      name: 'ClusterIP Service, target type not chosen, provider can do ip: ready pod targets, and why',
      backend: backend('api', 'http'),
      want: {
        targetSets: [{ name: 'default/api:8080', protocol: 'HTTP', healthCheck: hc, backend: api, type: 'ip', port: 'http', targets: podTargets }],
        decisions: [{ key: 'default/api:8080', backend: api, targetType: 'ip', via: 'endpoints', reason: 'default/api:8080: ip targets, because the Service is ClusterIP and has no node port' }],
      },
    },
    {
      name: 'target type ip: pod targets even where a node port exists',
      backend: backend('web', 80),
      inputs: { targetType: 'ip', explicitTargetType: true },
      want: { decisions: [{ key: 'default/web:80', backend: web, targetType: 'ip', via: 'endpoints', reason: 'default/web:80: ip targets (target type ip)' }] },
    },
    {
      name: 'ClusterIP Service, instance asked for: a companion NodePort Service is requested',
      backend: backend('api', 'http'),
      inputs: { explicitTargetType: true },
      want: {
        targetSets: [],
        companions: [{ key: 'default/api:8080', backend: api, servicePort: { name: 'http', port: 8080, targetPort: 'http', protocol: 'TCP' } }],
        decisions: [
          {
            key: 'default/api:8080',
            backend: api,
            targetType: 'instance',
            via: 'companionNodePort',
            reason: 'default/api:8080: needs a companion NodePort Service, because the Service is ClusterIP and lbc.dev/target-type (or the provider) asks for instance targets',
          },
        ],
      },
    },
    {
      name: 'ClusterIP Service on an instance-only provider: a companion too',
      backend: backend('api', 'http'),
      inputs: { supportsIp: false },
      want: { targetSets: [], companions: [expect.objectContaining({ key: 'default/api:8080' })] },
    },
    {
      name: "ClusterIP Service whose companion exists: instance targets on the companion's node port",
      backend: backend('api', 'http'),
      inputs: { supportsIp: false, companionNodePorts: new Map([['default/api:8080', 31000]]) },
      want: {
        targetSets: [{ name: 'default/api:8080', protocol: 'HTTP', healthCheck: hc, backend: api, type: 'instance', nodePort: 31000, targets: nodeTargets }],
        decisions: [expect.objectContaining({ via: 'companionNodePort', reason: 'default/api:8080: instance targets on companion NodePort Service port 31000, because the Service is ClusterIP' })],
        companions: [],
      },
    },
  ])('$name', ({ backend: b, inputs, want }) => {
    const got = buildTargetSets(resolved(b), { ...base, ...inputs });
    expect(got).toMatchObject(want);
    expect(got.probePods).toEqual([]);
  });

  describe('readiness probes', () => {
    const pod: V1Pod = {
      metadata: { namespace: 'default', name: 'api-a' },
      spec: { containers: [{ name: 'api', ports: [{ name: 'http', containerPort: 3000 }], readinessProbe: { httpGet: { port: 'http', path: '/ready' } } }] },
    };
    it.each<{ name: string; inputs: Partial<TargetSetInputs>; probePods: unknown[]; healthCheck: unknown }>([
      { name: 'not followed: no Pod named, the health check as set', inputs: { followReadinessProbes: false, pods: [pod] }, probePods: [], healthCheck: hc },
      { name: 'followed, Pod not read yet: the Pod whose name sorts first is named', inputs: { followReadinessProbes: true }, probePods: [{ namespace: 'default', name: 'api-a' }], healthCheck: hc },
      { name: "followed, Pod read: the probe's path joins the health check", inputs: { followReadinessProbes: true, pods: [pod] }, probePods: [{ namespace: 'default', name: 'api-a' }], healthCheck: { ...hc, readinessProbePath: '/ready' } },
    ])('$name', ({ inputs, probePods, healthCheck }) => {
      const got = buildTargetSets(resolved(backend('api', 'http')), { ...base, ...inputs });
      expect(got.probePods).toEqual(probePods);
      expect(got.targetSets[0]?.healthCheck).toEqual(healthCheck);
    });
  });
});
