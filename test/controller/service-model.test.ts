import type { V1EndpointSlice, V1Node, V1Service } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { buildServiceModel, type ModelProvider, type ServiceModelInput } from '../../src/controller/service-model.js';
import { specEqual } from '../../src/model/canonical.js';
import type { L4Spec, TargetType } from '../../src/model/spec.js';
import type { ModelError } from '../../src/model/validation.js';
import { MemoryProvider } from '../../src/providers/memory/index.js';
import { lbService, modelProvider, node, slice } from './fixtures.js';

const nodes = [node('node-b', { ip: '10.0.0.2' }), node('node-a', { ip: '10.0.0.1', providerID: 'aws:///z/i-a' })];

function build(svc: V1Service, over: Partial<ServiceModelInput> = {}) {
  return buildServiceModel({
    service: svc,
    nodes,
    endpointSlices: [],
    provider: modelProvider(),
    className: 'lbc.dev/test',
    clusterName: 'test',
    ...over,
  });
}

function spec(svc: V1Service, over: Partial<ServiceModelInput> = {}): L4Spec {
  const r = build(svc, over);
  if (!r.ok) throw new Error(`expected a spec, got ${JSON.stringify(r.errors)}`);
  return r.spec;
}

function errors(svc: V1Service, over: Partial<ServiceModelInput> = {}): readonly ModelError[] {
  const r = build(svc, over);
  if (r.ok) throw new Error('expected errors');
  return r.errors;
}

const web = (extra: Parameters<typeof lbService>[2] = {}, annotations?: Record<string, string>) =>
  lbService(
    'web',
    [
      { name: 'http', port: 80, targetPort: 'http', nodePort: 30080 },
      { name: 'dns', port: 53, protocol: 'UDP', targetPort: 5353, nodePort: 30053 },
    ],
    extra,
    annotations,
  );

describe('buildServiceModel: listeners and instance targets', () => {
  it('builds one L4 listener and target set per port, with node targets', () => {
    const s = spec(web());
    expect(s.layer).toBe('L4');
    expect(s.ref).toEqual({ kind: 'Service', namespace: 'default', name: 'web', uid: 'uid-default-web' });
    expect(s.listeners).toEqual([
      { protocol: 'UDP', port: 53, targetSet: 'udp-53', name: 'dns' },
      { protocol: 'TCP', port: 80, targetSet: 'tcp-80', name: 'http' },
    ]);
    // An unnamed port (only allowed when it is the only one) gives a listener without a name.
    expect(spec(lbService('one', [{ port: 80, nodePort: 30080 }])).listeners).toEqual([{ protocol: 'TCP', port: 80, targetSet: 'tcp-80' }]);
    expect(s.targetSets.map((t) => [t.name, t.type, t.protocol, t.type === 'instance' ? t.nodePort : undefined])).toEqual([
      ['tcp-80', 'instance', 'TCP', 30080],
      ['udp-53', 'instance', 'UDP', 30053],
    ]);
    const ts = s.targetSets[0];
    expect(ts?.type === 'instance' && ts.targets).toEqual([
      { name: 'node-a', addresses: [{ type: 'InternalIP', address: '10.0.0.1' }], providerID: 'aws:///z/i-a' },
      { name: 'node-b', addresses: [{ type: 'InternalIP', address: '10.0.0.2' }] },
    ]);
    expect(ts?.healthCheck).toEqual({ protocol: 'TCP', port: 'traffic-port', intervalSeconds: 10, timeoutSeconds: 5, healthyThreshold: 2, unhealthyThreshold: 3 });
    expect(s.sessionAffinity).toEqual({ type: 'None' });
    expect(s.sourceRanges).toEqual([]);
    expect(s.requestedAddresses).toEqual([]);
    expect(s.ipFamilies).toEqual(['IPv4']);
    expect(s.provider).toBe('test');
    expect(s.className).toBe('lbc.dev/test');
    expect(s.providerOptions).toEqual({});
  });

  it('tags the cluster and the owner', () => {
    expect(spec(web({}, { 'lbc.dev/tags': 'team=shop, cost-center=42' })).tags).toEqual({
      team: 'shop',
      'cost-center': '42',
      'lbc.dev/cluster': 'test',
      'lbc.dev/owner-kind': 'Service',
      'lbc.dev/owner-namespace': 'default',
      'lbc.dev/owner-name': 'web',
      'lbc.dev/owner-uid': 'uid-default-web',
    });
  });

  it('is deterministic whatever the input order', () => {
    const a = spec(web(), { nodes });
    const b = spec(web(), { nodes: [...nodes].reverse() });
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
  });

  it('allows no eligible nodes (empty target set)', () => {
    const s = spec(web(), { nodes: [] });
    expect(s.targetSets.every((t) => t.targets.length === 0)).toBe(true);
  });

  it('refuses SCTP, naming the port', () => {
    const svc = lbService('s', [{ port: 80, nodePort: 30080 }, { port: 9, protocol: 'SCTP', nodePort: 30009 }]);
    expect(errors(svc)).toEqual([{ field: 'spec.ports[1].protocol', reason: 'SCTP is not supported (TCP and UDP are)' }]);
  });

  it('needs a node port for instance targets', () => {
    const svc = lbService('s', [{ port: 80 }], { allocateLoadBalancerNodePorts: false });
    expect(errors(svc)).toEqual([
      { field: 'spec.ports[0].nodePort', reason: 'no node port (allocateLoadBalancerNodePorts is false): set one, or use lbc.dev/target-type: ip' },
    ]);
    expect(errors(lbService('s', [{ port: 80 }]))).toEqual([{ field: 'spec.ports[0].nodePort', reason: 'no node port allocated yet' }]);
  });

  it('does not need node ports for ip targets', () => {
    const svc = lbService('s', [{ port: 80, targetPort: 8080 }], { allocateLoadBalancerNodePorts: false }, { 'lbc.dev/target-type': 'ip' });
    expect(spec(svc).targetSets[0]).toMatchObject({ type: 'ip', port: 8080, targets: [] });
  });

  it('needs at least one port and the right type', () => {
    expect(errors(lbService('s', []))).toEqual([{ field: 'spec.ports', reason: 'a LoadBalancer Service needs at least one port' }]);
    const np: V1Service = { ...web(), spec: { ...web().spec, type: 'NodePort' } };
    expect(errors(np)).toEqual([{ field: 'spec.type', reason: 'is NodePort, not LoadBalancer' }]);
  });

  it('refuses a provider without L4', () => {
    expect(errors(web(), { provider: modelProvider(['ip'], ['L7']) })).toContainEqual({
      field: 'spec.loadBalancerClass',
      reason: 'provider test does not serve Services (no L4 support)',
    });
  });
});

describe('buildServiceModel: externalTrafficPolicy', () => {
  it('Local + instance: HTTP health check on healthCheckNodePort /healthz', () => {
    const s = spec(web({ externalTrafficPolicy: 'Local', healthCheckNodePort: 32000 }));
    expect(s.targetSets.map((t) => t.healthCheck)).toEqual([
      { protocol: 'HTTP', port: 32000, path: '/healthz', intervalSeconds: 10, timeoutSeconds: 5, healthyThreshold: 2, unhealthyThreshold: 3 },
      { protocol: 'HTTP', port: 32000, path: '/healthz', intervalSeconds: 10, timeoutSeconds: 5, healthyThreshold: 2, unhealthyThreshold: 3 },
    ]);
  });

  it('Local without healthCheckNodePort is an error', () => {
    expect(errors(web({ externalTrafficPolicy: 'Local' }))).toEqual([
      { field: 'spec.healthCheckNodePort', reason: 'externalTrafficPolicy is Local but no healthCheckNodePort is allocated' },
    ]);
  });

  it('Local + ip: pods are probed directly on the traffic port', () => {
    const s = spec(web({ externalTrafficPolicy: 'Local', healthCheckNodePort: 32000 }, { 'lbc.dev/target-type': 'ip' }));
    expect(s.targetSets[0]?.healthCheck).toMatchObject({ protocol: 'TCP', port: 'traffic-port' });
  });

  it('Cluster: TCP on the traffic port', () => {
    expect(spec(web({ externalTrafficPolicy: 'Cluster' })).targetSets[0]?.healthCheck).toMatchObject({ protocol: 'TCP', port: 'traffic-port' });
  });

  it('annotations override the health check', () => {
    const s = spec(
      web(
        { externalTrafficPolicy: 'Local', healthCheckNodePort: 32000 },
        {
          'lbc.dev/health-check-path': '/ready',
          'lbc.dev/health-check-interval': '30s',
          'lbc.dev/health-check-timeout': '3',
          'lbc.dev/health-check-healthy-threshold': '3',
          'lbc.dev/health-check-unhealthy-threshold': '5',
        },
      ),
    );
    expect(s.targetSets[0]?.healthCheck).toEqual({ protocol: 'HTTP', port: 32000, path: '/ready', intervalSeconds: 30, timeoutSeconds: 3, healthyThreshold: 3, unhealthyThreshold: 5 });
    const t = spec(web({}, { 'lbc.dev/health-check-protocol': 'HTTPS', 'lbc.dev/health-check-port': '8443' }));
    expect(t.targetSets[0]?.healthCheck).toMatchObject({ protocol: 'HTTPS', port: 8443, path: '/' });
  });

  it('refuses a path on a TCP check and a timeout longer than the interval', () => {
    expect(errors(web({}, { 'lbc.dev/health-check-path': '/x', 'lbc.dev/health-check-interval': '5s', 'lbc.dev/health-check-timeout': '6s' }))).toEqual([
      { annotation: 'lbc.dev/health-check-timeout', reason: 'timeout 6s is longer than the interval 5s' },
      { annotation: 'lbc.dev/health-check-path', reason: 'a path needs an HTTP or HTTPS health check (lbc.dev/health-check-protocol is TCP)' },
    ]);
  });
});

describe('buildServiceModel: ip targets from EndpointSlices', () => {
  const ipSvc = (ports = [{ name: 'http', port: 80, targetPort: 'http' as string | number }]) =>
    lbService('web', ports, {}, { 'lbc.dev/target-type': 'ip' });

  function targetsOf(svc: V1Service, slices: V1EndpointSlice[]) {
    return spec(svc, { endpointSlices: slices }).targetSets.map((t) => [t.name, t.targets]);
  }

  it('takes ready endpoints (ready nil counts as ready), resolving the port by NAME', () => {
    const slices = [
      slice('web', [{ name: 'http', port: 8080 }, { name: 'metrics', port: 9090 }], [
        { ip: '10.1.0.3', ready: true, nodeName: 'node-a', zone: 'z1' },
        { ip: '10.1.0.1' },
        { ip: '10.1.0.2', ready: false },
      ]),
    ];
    expect(targetsOf(ipSvc(), slices)).toEqual([
      [
        'tcp-80',
        [
          { ip: '10.1.0.1', port: 8080 },
          { ip: '10.1.0.3', port: 8080, nodeName: 'node-a', zone: 'z1' },
        ],
      ],
    ]);
  });

  it('resolves different numbers per slice for a named port and merges slices', () => {
    const slices = [
      slice('web', [{ name: 'http', port: 8080 }], [{ ip: '10.1.0.1' }], { name: 'a' }),
      slice('web', [{ name: 'http', port: 8081 }], [{ ip: '10.1.0.2' }, { ip: '10.1.0.1' }], { name: 'b' }),
      slice('web', [{ name: 'http', port: 8080 }], [{ ip: '10.1.0.1' }], { name: 'dup' }),
    ];
    expect(targetsOf(ipSvc(), slices)[0]?.[1]).toEqual([
      { ip: '10.1.0.1', port: 8080 },
      { ip: '10.1.0.1', port: 8081 },
      { ip: '10.1.0.2', port: 8081 },
    ]);
  });

  it('ignores slices of other Services, other namespaces, other port names and FQDN slices', () => {
    const slices = [
      slice('other', [{ name: 'http', port: 1 }], [{ ip: '10.9.0.1' }]),
      slice('web', [{ name: 'http', port: 2 }], [{ ip: '10.9.0.2' }], { namespace: 'elsewhere' }),
      slice('web', [{ name: 'grpc', port: 3 }], [{ ip: '10.9.0.3' }]),
      slice('web', [{ name: 'http', port: 4 }], [{ ip: 'db.example.com' }], { addressType: 'FQDN' }),
      slice('web', [{ name: 'http', port: 5, protocol: 'UDP' }], [{ ip: '10.9.0.5' }]),
    ];
    expect(targetsOf(ipSvc(), slices)[0]?.[1]).toEqual([]);
  });

  it('matches the unnamed port of a single-port Service', () => {
    const svc = ipSvc([{ name: undefined as unknown as string, port: 80, targetPort: 8080 }]);
    expect(targetsOf(svc, [slice('web', [{ port: 8080 }], [{ ip: '10.1.0.1' }])])[0]?.[1]).toEqual([{ ip: '10.1.0.1', port: 8080 }]);
  });

  it('works for selectorless Services with hand-made slices, IPv6 included', () => {
    const svc: V1Service = { ...ipSvc(), spec: { ...ipSvc().spec, selector: undefined } };
    const slices = [slice('web', [{ name: 'http', port: 443 }], [{ ip: '2001:DB8::5' }], { addressType: 'IPv6' })];
    expect(targetsOf(svc, slices)[0]?.[1]).toEqual([{ ip: '2001:db8::5', port: 443 }]);
  });
});

describe('buildServiceModel: source ranges, affinity, addresses', () => {
  it.each<[string, Partial<NonNullable<V1Service['spec']>>, Record<string, string> | undefined, string[]]>([
    ['from the spec', { loadBalancerSourceRanges: ['10.0.0.0/8', ' 192.168.1.1/24'] }, undefined, ['10.0.0.0/8', '192.168.1.0/24']],
    ['from the upstream annotation', {}, { 'service.beta.kubernetes.io/load-balancer-source-ranges': '10.0.0.0/8,2001:db8::/32' }, ['10.0.0.0/8', '2001:db8::/32']],
    ['from the lbc annotation', {}, { 'lbc.dev/load-balancer-source-ranges': '172.16.0.0/12' }, ['172.16.0.0/12']],
    ['spec wins over the annotation', { loadBalancerSourceRanges: ['10.0.0.0/8'] }, { 'service.beta.kubernetes.io/load-balancer-source-ranges': '0.0.0.0/0' }, ['10.0.0.0/8']],
    ['empty annotation means everyone', {}, { 'service.beta.kubernetes.io/load-balancer-source-ranges': '' }, []],
  ])('sourceRanges %s', (_n, extra, annotations, want) => {
    expect(spec(web(extra, annotations)).sourceRanges).toEqual(want);
  });

  it('names every bad CIDR in the spec', () => {
    expect(errors(web({ loadBalancerSourceRanges: ['10.0.0.0/8', '10.0.0.0', '1.2.3.4/33'] }))).toEqual([
      { field: 'spec.loadBalancerSourceRanges[1]', reason: '"10.0.0.0" is not a CIDR (missing /prefix)' },
      { field: 'spec.loadBalancerSourceRanges[2]', reason: '"1.2.3.4/33" is not a CIDR (prefix length must be 0-32)' },
    ]);
  });

  it.each<[Partial<NonNullable<V1Service['spec']>>, L4Spec['sessionAffinity']]>([
    [{}, { type: 'None' }],
    [{ sessionAffinity: 'None' }, { type: 'None' }],
    [{ sessionAffinity: 'ClientIP' }, { type: 'ClientIP', timeoutSeconds: 10800 }],
    [{ sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } } }, { type: 'ClientIP', timeoutSeconds: 60 }],
  ])('sessionAffinity %j', (extra, want) => {
    expect(spec(web(extra)).sessionAffinity).toEqual(want);
  });

  it('requests loadBalancerIP, normalised, and refuses a bad one', () => {
    expect(spec(web({ loadBalancerIP: '2001:DB8::1' })).requestedAddresses).toEqual(['2001:db8::1']);
    expect(errors(web({ loadBalancerIP: '1.2.3' }))).toEqual([{ field: 'spec.loadBalancerIP', reason: '"1.2.3" is not an IP address' }]);
  });

  it('keeps ipFamilies in order', () => {
    expect(spec(web({ ipFamilies: ['IPv6', 'IPv4'] })).ipFamilies).toEqual(['IPv6', 'IPv4']);
  });
});

describe('buildServiceModel: annotations and provider options', () => {
  it('collects every bad annotation and spec error in one result', () => {
    const svc = lbService('s', [{ port: 80 }, { port: 9, protocol: 'SCTP' }], { loadBalancerIP: 'x' }, {
      'lbc.dev/target-type': 'pod',
      'lbc.dev/health-check-interval': 'often',
      'service.beta.kubernetes.io/load-balancer-source-ranges': '10.0.0.0/8,nope',
      'lbc.dev/tags': 'lbc.dev/cluster=other',
      'memory.lbc.dev/tier': 'gold',
    });
    const errs = errors(svc, { provider: new MemoryProvider({ clusterName: 'test' }) });
    expect(errs.map((e) => ('annotation' in e ? e.annotation : e.field)).sort()).toEqual([
      'lbc.dev/health-check-interval',
      'lbc.dev/tags',
      'lbc.dev/target-type',
      'memory.lbc.dev/tier',
      'service.beta.kubernetes.io/load-balancer-source-ranges',
      'spec.loadBalancerIP',
      'spec.ports[0].nodePort',
      'spec.ports[1].protocol',
    ]);
    expect(errs.every((e) => e.reason.length > 0)).toBe(true);
  });

  it('passes the provider options through and takes its target-type hint', () => {
    const provider = new MemoryProvider({ clusterName: 'test' });
    const r = build(web({}, { 'memory.lbc.dev/tier': 'premium', 'memory.lbc.dev/target-type': 'ip' }), { provider });
    expect(r.ok && r.spec.providerOptions).toEqual({ tier: 'premium' });
    expect(r.ok && r.targetType).toBe('ip');
  });

  it.each<[string, [TargetType, ...TargetType[]], Record<string, string>, TargetType | string]>([
    ['provider default instance', ['instance', 'ip'], {}, 'instance'],
    ['provider default ip', ['ip', 'instance'], {}, 'ip'],
    ['annotation ip', ['instance', 'ip'], { 'lbc.dev/target-type': 'ip' }, 'ip'],
    ['annotation wins over provider hint', ['instance', 'ip'], { 'lbc.dev/target-type': 'instance', 'memory.lbc.dev/target-type': 'ip' }, 'instance'],
    ['unsupported by the provider', ['instance'], { 'lbc.dev/target-type': 'ip' }, 'error:lbc.dev/target-type'],
  ])('target type: %s', (_n, targetTypes, annotations, want) => {
    const memory = new MemoryProvider({ clusterName: 'test' });
    const provider: ModelProvider = {
      name: 'memory',
      capabilities: { layers: ['L4'], targetTypes, annotationPrefixes: [] },
      parseOptions: (a, kind) => memory.parseOptions(a, kind),
    };
    const r = build(web({}, annotations), { provider });
    if (want.startsWith('error:')) {
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.errors).toEqual([{ annotation: 'lbc.dev/target-type', reason: `provider memory does not support ip targets (supports instance)` }]);
    } else {
      expect(r.ok && r.targetType).toBe(want);
      expect(r.ok && r.spec.targetSets.every((t) => t.type === want)).toBe(true);
    }
  });

  it('gives an equal spec for an unchanged Service (change detection is one call)', () => {
    const a = spec(web());
    const b = spec(structuredClone(web()), { nodes: structuredClone(nodes) as V1Node[] });
    expect(specEqual(a, b)).toBe(true);
    expect(specEqual(a, spec(web({ sessionAffinity: 'ClientIP' })))).toBe(false);
  });
});
