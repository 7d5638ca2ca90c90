// The Service strategy and its allocators, on a bare Store. Expected texts were taken from
// a real kube-apiserver v1.26 answering the same requests.
import { describe, expect, it } from 'vitest';
import { AllocError, ClusterIPAllocator, PortAllocator, parseCidr, parsePortRange } from '../../src/devcluster/allocator.js';
import { ApiError } from '../../src/devcluster/errors.js';
import type { KObject } from '../../src/devcluster/objects.js';
import { builtinResources, type ResourceType } from '../../src/devcluster/resources.js';
import { serviceStrategy, type ServiceStrategyOptions } from '../../src/devcluster/services.js';
import { Store } from '../../src/devcluster/store.js';

const NS = 'ns1';

interface PortJson { name?: string; port?: number; protocol?: string; nodePort?: number; [k: string]: unknown }
interface SpecJson { ports: PortJson[]; [k: string]: unknown }

function setup(opts: ServiceStrategyOptions = {}) {
  const resources = builtinResources();
  const strategy = serviceStrategy(opts);
  const svcType = resources.find((r) => r.plural === 'services')!;
  svcType.strategy = strategy;
  const store = new Store(resources);
  store.create(store.find('', 'namespaces')!, { metadata: { name: NS } });
  const create = (name: string, spec: unknown, extra: Partial<KObject> = {}, dryRun = false): KObject =>
    store.create(svcType, { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: NS }, spec, ...extra } as KObject, { dryRun });
  const put = (name: string, mutate: (s: SpecJson) => void, dryRun = false): KObject => {
    const cur = store.get(svcType, NS, name)!;
    mutate(cur.spec as SpecJson);
    return store.update(svcType, cur, { dryRun });
  };
  return { store, strategy, svcType, create, put };
}

function failure(fn: () => unknown): { code: number; message: string; status: Record<string, unknown> } {
  try {
    fn();
  } catch (e) {
    if (e instanceof ApiError) return { code: e.code, message: e.message, status: e.toStatus() };
    throw e;
  }
  throw new Error('expected an ApiError');
}

const specOf = (o: KObject) => o.spec as SpecJson;
const nodePorts = (o: KObject): number[] => specOf(o).ports.map((p) => p.nodePort ?? 0);

describe('Service defaults', () => {
  const cases: Array<[string, unknown, Record<string, unknown>]> = [
    ['ClusterIP', { selector: { app: 'a' }, ports: [{ port: 80 }] }, {
      ports: [{ protocol: 'TCP', port: 80, targetPort: 80 }], selector: { app: 'a' }, type: 'ClusterIP', sessionAffinity: 'None',
      ipFamilies: ['IPv4'], ipFamilyPolicy: 'SingleStack', internalTrafficPolicy: 'Cluster',
    }],
    ['LoadBalancer', { type: 'LoadBalancer', ports: [{ port: 80, name: 'http' }] }, {
      ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 80, nodePort: expect.any(Number) }], type: 'LoadBalancer', sessionAffinity: 'None',
      externalTrafficPolicy: 'Cluster', ipFamilies: ['IPv4'], ipFamilyPolicy: 'SingleStack', allocateLoadBalancerNodePorts: true, internalTrafficPolicy: 'Cluster',
    }],
    ['ExternalName', { type: 'ExternalName', externalName: 'example.com', ports: [{ port: 80 }] }, {
      ports: [{ protocol: 'TCP', port: 80, targetPort: 80 }], type: 'ExternalName', sessionAffinity: 'None', externalName: 'example.com',
    }],
    ['headless with selector', { clusterIP: 'None', selector: { a: 'b' } }, {
      selector: { a: 'b' }, clusterIP: 'None', clusterIPs: ['None'], type: 'ClusterIP', sessionAffinity: 'None',
      ipFamilies: ['IPv4'], ipFamilyPolicy: 'SingleStack', internalTrafficPolicy: 'Cluster',
    }],
    ['headless without selector claims both families', { clusterIP: 'None' }, {
      clusterIP: 'None', clusterIPs: ['None'], type: 'ClusterIP', sessionAffinity: 'None',
      ipFamilies: ['IPv4', 'IPv6'], ipFamilyPolicy: 'RequireDualStack', internalTrafficPolicy: 'Cluster',
    }],
    ['ClientIP affinity', { sessionAffinity: 'ClientIP', ports: [{ port: 80 }] }, {
      sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 10800 } },
    }],
    ['empty values are dropped, unknown fields too', { selector: {}, externalIPs: [], ports: [{ port: 80, protocol: '', targetPort: '', bogus: 1 }], type: '', bogus: 2 }, {
      ports: [{ protocol: 'TCP', port: 80, targetPort: 80 }], type: 'ClusterIP',
    }],
  ];
  it.each(cases)('%s', (_title, spec, expected) => {
    const { create } = setup();
    const got = specOf(create('a', spec));
    expect(got).toMatchObject(expected);
    for (const k of ['selector', 'externalIPs', 'bogus']) if (!(k in expected)) expect(got).not.toHaveProperty(k);
  });

  it('resets status, keeps no generation and drops sessionAffinityConfig without ClientIP', () => {
    const { create } = setup();
    const o = create('a', { sessionAffinityConfig: { clientIP: { timeoutSeconds: 5 } }, ports: [{ port: 80 }] }, {
      status: { loadBalancer: { ingress: [{ ip: '1.2.3.4' }] } },
    });
    expect(o.status).toEqual({ loadBalancer: {} });
    expect(o.metadata.generation).toBeUndefined();
    expect(specOf(o)).not.toHaveProperty('sessionAffinityConfig');
  });
});

describe('Service validation (422, worded as v1.26)', () => {
  const cases: Array<[string, unknown, string, Array<{ field?: string; reason?: string }>?]> = [
    ['ports required', {}, 'Service "a" is invalid: spec.ports: Required value', [{ field: 'spec.ports', reason: 'FieldValueRequired' }]],
    ['ports required with selector', { selector: { a: 'b' } }, 'Service "a" is invalid: spec.ports: Required value'],
    ['port range', { ports: [{ port: 0 }] }, 'Service "a" is invalid: [spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive, spec.ports[0].targetPort: Invalid value: 0: must be between 1 and 65535, inclusive]'],
    ['names required', { ports: [{ port: 80 }, { port: 81 }] }, 'Service "a" is invalid: [spec.ports[0].name: Required value, spec.ports[1].name: Required value]'],
    ['names unique', { ports: [{ port: 80, name: 'x' }, { port: 81, name: 'x' }] }, 'Service "a" is invalid: spec.ports[1].name: Duplicate value: "x"', [{ field: 'spec.ports[1].name', reason: 'FieldValueDuplicate' }]],
    ['name is a DNS label', { ports: [{ port: 80, name: 'A_b' }] }, `Service "a" is invalid: spec.ports[0].name: Invalid value: "A_b": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`],
    ['protocol', { ports: [{ port: 80, protocol: 'ICMP' }] }, 'Service "a" is invalid: spec.ports[0].protocol: Unsupported value: "ICMP": supported values: "SCTP", "TCP", "UDP"', [{ field: 'spec.ports[0].protocol', reason: 'FieldValueNotSupported' }]],
    ['type', { type: 'Foo', ports: [{ port: 80 }] }, 'Service "a" is invalid: spec.type: Unsupported value: "Foo": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"'],
    ['duplicate port', { ports: [{ port: 80, name: 'a' }, { port: 80, name: 'b' }] }, 'Service "a" is invalid: spec.ports[1]: Duplicate value: core.ServicePort{Name:"", Protocol:"TCP", AppProtocol:(*string)(nil), Port:80, TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:""}, NodePort:0}'],
    ['targetPort name', { ports: [{ port: 80, targetPort: 'Bad_name' }] }, 'Service "a" is invalid: spec.ports[0].targetPort: Invalid value: "Bad_name": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)'],
    ['nodePort on ClusterIP', { ports: [{ port: 80, nodePort: 30001 }] }, "Service \"a\" is invalid: spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'", [{ field: 'spec.ports[0].nodePort', reason: 'FieldValueForbidden' }]],
    ['source ranges', { type: 'LoadBalancer', loadBalancerSourceRanges: ['1.2.3.0/24', 'bad', '1.2.3.4'], ports: [{ port: 80 }] }, 'Service "a" is invalid: spec.LoadBalancerSourceRanges: Invalid value: "[1.2.3.0/24 bad 1.2.3.4]": must be a list of IP ranges. For example, 10.240.0.0/24,10.250.0.0/24 '],
    ['source ranges need LoadBalancer', { loadBalancerSourceRanges: ['1.2.3.0/24'], ports: [{ port: 80 }] }, "Service \"a\" is invalid: spec.LoadBalancerSourceRanges: Forbidden: may only be used when `type` is 'LoadBalancer'"],
    ['externalName required', { type: 'ExternalName' }, 'Service "a" is invalid: spec.externalName: Required value'],
    ['ExternalName has no clusterIP', { type: 'ExternalName', externalName: 'a.b', clusterIP: '10.96.0.9' }, 'Service "a" is invalid: spec.clusterIPs: Forbidden: may not be set for ExternalName services'],
    ['LoadBalancer cannot be headless', { type: 'LoadBalancer', clusterIP: 'None', ports: [{ port: 80 }] }, 'Service "a" is invalid: spec.clusterIPs[0]: Invalid value: "None": may not be set to \'None\' for LoadBalancer services'],
    ['kubelet port', { type: 'LoadBalancer', ports: [{ port: 10250 }] }, 'Service "a" is invalid: spec.ports[0]: Invalid value: 10250: may not expose port 10250 externally since it is used by kubelet'],
    ['clusterIP garbage', { clusterIP: 'garbage', ports: [{ port: 80 }] }, 'Service "a" is invalid: spec.clusterIPs[0]: Invalid value: "garbage": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)'],
    ['clusterIPs must follow clusterIP', { clusterIP: '10.96.0.2', clusterIPs: ['10.96.0.3'], ports: [{ port: 80 }] }, 'Service "a" is invalid: spec.clusterIPs: Invalid value: []string{"10.96.0.3"}: first value must match `clusterIP`'],
    ['IPv6 not configured', { ipFamilies: ['IPv6'], ports: [{ port: 80 }] }, 'Service "a" is invalid: spec.ipFamilies[0]: Invalid value: "IPv6": not configured on this cluster'],
    ['no dual stack', { ipFamilyPolicy: 'RequireDualStack', ports: [{ port: 80 }] }, 'Service "a" is invalid: spec.ipFamilyPolicy: Invalid value: "RequireDualStack": this cluster is not configured for dual-stack services'],
    ['externalTrafficPolicy on ClusterIP', { externalTrafficPolicy: 'Local', ports: [{ port: 80 }] }, "Service \"a\" is invalid: spec.externalTrafficPolicy: Invalid value: \"Local\": may only be set when `type` is 'NodePort' or 'LoadBalancer'"],
    ['healthCheckNodePort needs LB+Local', { type: 'NodePort', healthCheckNodePort: 30123, ports: [{ port: 80 }] }, "Service \"a\" is invalid: spec.healthCheckNodePort: Invalid value: 30123: may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'"],
    ['allocateLoadBalancerNodePorts needs LB', { type: 'NodePort', allocateLoadBalancerNodePorts: true, ports: [{ port: 80 }] }, "Service \"a\" is invalid: spec.allocateLoadBalancerNodePorts: Forbidden: may only be used when `type` is 'LoadBalancer'"],
    ['loadBalancerClass needs LB', { loadBalancerClass: 'x/y', ports: [{ port: 80 }] }, "Service \"a\" is invalid: spec.loadBalancerClass: Forbidden: may only be used when `type` is 'LoadBalancer'"],
    ['loadBalancerClass format', { type: 'LoadBalancer', loadBalancerClass: 'bad class', ports: [{ port: 80 }] }, "Service \"a\" is invalid: spec.loadBalancerClass: Invalid value: \"bad class\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"],
    ['externalIPs', { externalIPs: ['bad', '0.0.0.0', '127.0.0.1'], ports: [{ port: 80 }] }, 'Service "a" is invalid: [spec.externalIPs[0]: Invalid value: "bad": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff), spec.externalIPs[1]: Invalid value: "0.0.0.0": may not be unspecified (0.0.0.0), spec.externalIPs[2]: Invalid value: "127.0.0.1": may not be in the loopback range (127.0.0.0/8, ::1/128)]'],
    ['ClientIP timeout', { sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 0 } }, ports: [{ port: 80 }] }, 'Service "a" is invalid: spec.sessionAffinityConfig.clientIP.timeoutSeconds: Invalid value: 0: must be greater than 0 and less than 86400'],
  ];
  it.each(cases)('%s', (_title, spec, message, causes) => {
    const { create } = setup();
    const f = failure(() => create('a', spec));
    expect(f.code).toBe(422);
    expect(f.message).toBe(message);
    expect(f.status).toMatchObject({ reason: 'Invalid', details: { name: 'a', kind: 'Service' } });
    if (causes) expect((f.status.details as { causes: unknown[] }).causes).toMatchObject(causes);
  });

  it('the message lists a repeated error once, the causes keep both', () => {
    const { create, put } = setup();
    create('a', { ports: [{ port: 80 }] });
    const f = failure(() => put('a', (s) => { s.loadBalancerClass = 'x/y'; }));
    expect(f.message).toBe("Service \"a\" is invalid: spec.loadBalancerClass: Forbidden: may only be used when `type` is 'LoadBalancer'");
    expect((f.status.details as { causes: unknown[] }).causes).toHaveLength(2);
  });
});

describe('Service decoding (400, as encoding/json words it)', () => {
  const cases: Array<[string, unknown, string]> = [
    ['string port', { ports: [{ port: '80' }] }, 'json: cannot unmarshal string into Go struct field ServicePort.spec.ports.port of type int32'],
    ['fractional port', { ports: [{ port: 80.5 }] }, 'json: cannot unmarshal number 80.5 into Go struct field ServicePort.spec.ports.port of type int32'],
    ['ports object', { ports: { port: 80 } }, 'json: cannot unmarshal object into Go struct field ServiceSpec.spec.ports of type []v1.ServicePort'],
    ['ports element', { ports: [1] }, 'json: cannot unmarshal number into Go struct field ServiceSpec.spec.ports of type v1.ServicePort'],
    ['bool targetPort', { ports: [{ port: 80, targetPort: true }] }, 'json: cannot unmarshal bool into Go struct field ServicePort.spec.ports.targetPort of type int32'],
    ['selector value', { selector: { a: 1 }, ports: [{ port: 80 }] }, 'json: cannot unmarshal number into Go struct field ServiceSpec.spec.selector of type string'],
    ['type', { type: 5, ports: [{ port: 80 }] }, 'json: cannot unmarshal number into Go struct field ServiceSpec.spec.type of type v1.ServiceType'],
    ['nested', { sessionAffinityConfig: { clientIP: { timeoutSeconds: 'x' } } }, 'json: cannot unmarshal string into Go struct field ClientIPConfig.spec.sessionAffinityConfig.clientIP.timeoutSeconds of type int32'],
    ['spec', 'x', 'json: cannot unmarshal string into Go struct field Service.spec of type v1.ServiceSpec'],
  ];
  it.each(cases)('%s', (_t, spec, tail) => {
    const { create } = setup();
    const f = failure(() => create('a', spec));
    expect(f.code).toBe(400);
    expect(f.message).toBe(`Service in version "v1" cannot be handled as a Service: ${tail}`);
  });
});

describe('ClusterIP allocation', () => {
  it('allocates from the dynamic band of the CIDR, never the network, first or broadcast address', () => {
    const { create } = setup();
    for (let i = 0; i < 50; i++) {
      const ip = specOf(create(`s${i}`, { ports: [{ port: 80 }] })).clusterIP as string;
      const [a, b, c] = ip.split('.').map(Number) as [number, number, number];
      expect(a).toBe(10);
      expect(b).toBeGreaterThanOrEqual(96);
      expect(b).toBeLessThanOrEqual(111);
      // The first 256 addresses are kept for static requests.
      expect(b > 96 || c >= 1).toBe(true);
    }
  });

  it('takes a requested IP once; the first IP belongs to default/kubernetes', () => {
    const { create } = setup();
    expect(specOf(create('a', { clusterIP: '10.96.0.10', ports: [{ port: 80 }] })).clusterIPs).toEqual(['10.96.0.10']);
    expect(failure(() => create('b', { clusterIP: '10.96.0.10', ports: [{ port: 80 }] })).message).toBe(
      'Service "b" is invalid: spec.clusterIPs: Invalid value: []string{"10.96.0.10"}: failed to allocate IP 10.96.0.10: provided IP is already allocated',
    );
    expect(failure(() => create('c', { clusterIP: '10.96.0.1', ports: [{ port: 80 }] })).message).toContain('provided IP is already allocated');
    expect(failure(() => create('d', { clusterIP: '10.0.0.1', ports: [{ port: 80 }] })).message).toBe(
      'Service "d" is invalid: spec.clusterIPs: Invalid value: []string{"10.0.0.1"}: failed to allocate IP 10.0.0.1: the provided IP (10.0.0.1) is not in the valid range. The range of valid IPs is 10.96.0.0/12',
    );
    for (const ip of ['10.96.0.0', '10.111.255.255']) {
      expect(failure(() => create('e', { clusterIP: ip, ports: [{ port: 80 }] })).message).toContain('is not in the valid range');
    }
  });

  it('frees the IP when the Service goes', () => {
    const { store, svcType, create } = setup();
    create('a', { clusterIP: '10.96.0.10', ports: [{ port: 80 }] });
    store.delete(svcType, NS, 'a');
    expect(specOf(create('b', { clusterIP: '10.96.0.10', ports: [{ port: 80 }] })).clusterIP).toBe('10.96.0.10');
  });

  it('reports a full range as the real server does', () => {
    const { create } = setup({ serviceCIDR: '10.0.0.0/30' });
    expect(specOf(create('a', { ports: [{ port: 80 }] })).clusterIP).toBe('10.0.0.2');
    const f = failure(() => create('b', { ports: [{ port: 80 }] }));
    expect(f.code).toBe(500);
    expect(f.status).toMatchObject({ reason: 'InternalError', message: 'Internal error occurred: failed to allocate a serviceIP: range is full' });
  });

  it('ExternalName Services get none, and clusterIP is immutable', () => {
    const { create, put } = setup();
    expect(specOf(create('x', { type: 'ExternalName', externalName: 'a.b' }))).not.toHaveProperty('clusterIP');
    create('a', { clusterIP: '10.96.0.10', ports: [{ port: 80 }] });
    expect(failure(() => put('a', (s) => { s.clusterIP = '10.96.7.7'; })).message).toBe(
      'Service "a" is invalid: spec.clusterIPs[0]: Invalid value: []string{"10.96.7.7"}: may not change once set',
    );
  });

  it('a type change to ExternalName clears what the user left alone, and back allocates anew', () => {
    const { create, put } = setup();
    create('a', { type: 'LoadBalancer', externalTrafficPolicy: 'Local', ports: [{ port: 80 }] });
    const ext = specOf(put('a', (s) => { s.type = 'ExternalName'; s.externalName = 'x.y'; }));
    expect(ext).toEqual({ ports: [{ protocol: 'TCP', port: 80, targetPort: 80 }], type: 'ExternalName', sessionAffinity: 'None', externalName: 'x.y' });
    const back = specOf(put('a', (s) => { s.type = 'ClusterIP'; delete s.externalName; }));
    expect(back.clusterIP).toMatch(/^10\./);
  });
});

describe('node port allocation', () => {
  it('gives NodePort and LoadBalancer Services ports from the range, never twice', () => {
    const { create } = setup({ nodePortRange: '30000-30009' });
    const seen = new Set<number>();
    for (let i = 0; i < 5; i++) {
      for (const p of nodePorts(create(`s${i}`, { type: i % 2 ? 'NodePort' : 'LoadBalancer', ports: [{ port: 80, name: 'a' }, { port: 81, name: 'b' }] }))) {
        expect(p).toBeGreaterThanOrEqual(30000);
        expect(p).toBeLessThanOrEqual(30009);
        expect(seen.has(p)).toBe(false);
        seen.add(p);
      }
    }
    const f = failure(() => create('full', { type: 'NodePort', ports: [{ port: 80 }] }));
    expect(f.code).toBe(500);
    expect(f.message).toBe('Internal error occurred: failed to allocate a nodePort: range is full');
  });

  it('rejects taken and out-of-range ports with the real texts', () => {
    const { create } = setup();
    create('a', { type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }] });
    const taken = failure(() => create('b', { type: 'LoadBalancer', ports: [{ port: 80, nodePort: 30080 }] }));
    expect(taken.code).toBe(422);
    expect(taken.message).toBe('Service "b" is invalid: spec.ports[0].nodePort: Invalid value: 30080: provided port is already allocated');
    expect((taken.status.details as { causes: unknown[] }).causes).toEqual([
      { reason: 'FieldValueInvalid', message: 'Invalid value: 30080: provided port is already allocated', field: 'spec.ports[0].nodePort' },
    ]);
    expect(failure(() => create('c', { type: 'NodePort', ports: [{ port: 80, nodePort: 80 }] })).message).toBe(
      'Service "c" is invalid: spec.ports[0].nodePort: Invalid value: 80: provided port is not in the valid range. The range of valid ports is 30000-32767',
    );
  });

  it('shares one node port between TCP and UDP of the same port number, as the real server does', () => {
    const { create } = setup();
    const [t, u] = nodePorts(create('a', { type: 'NodePort', ports: [{ port: 53, name: 't' }, { port: 53, name: 'u', protocol: 'UDP' }] }));
    expect(t).toBe(u);
    expect(nodePorts(create('b', { type: 'NodePort', ports: [{ port: 54, name: 't', nodePort: 30054 }, { port: 54, name: 'u', protocol: 'UDP' }] }))).toEqual([30054, 30054]);
    // Different port numbers may not share one, whatever the protocols.
    expect(failure(() => create('c', { type: 'NodePort', ports: [{ port: 55, name: 't', nodePort: 30055 }, { port: 56, name: 'u', protocol: 'UDP', nodePort: 30055 }] })).message).toBe(
      'Service "c" is invalid: spec.ports[1].nodePort: Invalid value: 30055: provided port is already allocated',
    );
  });

  it('is all or nothing: a failure releases what the same request took', () => {
    const { create, strategy } = setup();
    create('a', { type: 'NodePort', ports: [{ port: 80, nodePort: 30081 }] });
    expect(failure(() => create('b', { type: 'NodePort', clusterIP: '10.96.0.20', ports: [{ port: 80, name: 'x', nodePort: 30080 }, { port: 81, name: 'y', nodePort: 30081 }] })).code).toBe(422);
    // Validation failing after allocation releases too.
    expect(failure(() => create('c', { type: 'NodePort', clusterIP: '10.96.0.21', ports: [{ port: 80, name: 'x', nodePort: 30082 }, { port: 81, name: 'X' }] })).code).toBe(422);
    // Nothing is left recorded, not even for lazy reclaiming.
    expect([30080, 30082].map((p) => strategy.nodePorts.ownerOf(p))).toEqual([undefined, undefined]);
    expect(['10.96.0.20', '10.96.0.21'].map((ip) => strategy.clusterIPs.ownerOf(ip))).toEqual([undefined, undefined]);
    expect(strategy.nodePorts.ownerOf(30081)).toBe('ns1/a');
    expect(nodePorts(create('d', { type: 'NodePort', clusterIP: '10.96.0.20', ports: [{ port: 80, name: 'x', nodePort: 30080 }, { port: 81, name: 'y', nodePort: 30082 }] }))).toEqual([30080, 30082]);
    expect(specOf(create('e', { clusterIP: '10.96.0.21', ports: [{ port: 80 }] })).clusterIP).toBe('10.96.0.21');
  });

  it('rolls back an update that fails after allocating', () => {
    const { create, put, strategy } = setup();
    create('a', { type: 'NodePort', ports: [{ port: 80, name: 'a' }] });
    expect(failure(() => put('a', (s) => { s.ports.push({ port: 81, name: 'b', nodePort: 30091 }, { port: 82, name: 'C' }); })).code).toBe(422);
    expect(strategy.nodePorts.ownerOf(30091)).toBeUndefined();
  });

  it('does not leak through dry runs', () => {
    const { create, put } = setup();
    const dry = create('a', { type: 'NodePort', clusterIP: '10.96.0.30', ports: [{ port: 80, nodePort: 30080 }] }, {}, true);
    expect(nodePorts(dry)).toEqual([30080]);
    expect(nodePorts(create('b', { type: 'NodePort', clusterIP: '10.96.0.30', ports: [{ port: 80, nodePort: 30080 }] }))).toEqual([30080]);
    // A dry-run update neither frees the old port nor keeps the new one.
    put('b', (s) => { s.ports[0]!.nodePort = 30090; }, true);
    expect(failure(() => create('c', { type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }] })).message).toContain('provided port is already allocated');
    expect(nodePorts(create('d', { type: 'NodePort', ports: [{ port: 80, nodePort: 30090 }] }))).toEqual([30090]);
  });

  it('releases ports on delete, on change and when the type stops needing them', () => {
    const { store, svcType, create, put } = setup();
    create('a', { type: 'LoadBalancer', ports: [{ port: 80, name: 'http', nodePort: 30080 }, { port: 443, name: 'https', nodePort: 30443 }] });
    put('a', (s) => { s.ports[0]!.nodePort = 30081; });
    expect(nodePorts(create('b', { type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }] }))).toEqual([30080]);
    const cip = specOf(put('a', (s) => { s.type = 'ClusterIP'; }));
    expect(cip.ports.map((p) => p.nodePort)).toEqual([undefined, undefined]);
    expect(cip).not.toHaveProperty('allocateLoadBalancerNodePorts');
    expect(cip).not.toHaveProperty('externalTrafficPolicy');
    expect(nodePorts(create('c', { type: 'NodePort', ports: [{ port: 80, nodePort: 30443 }] }))).toEqual([30443]);
    store.delete(svcType, NS, 'b');
    expect(nodePorts(create('d', { type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }] }))).toEqual([30080]);
  });

  it('rejects a type change to ClusterIP that brings new node ports', () => {
    const { create, put } = setup();
    create('a', { type: 'LoadBalancer', ports: [{ port: 80, name: 'http' }, { port: 443, name: 'https' }] });
    const f = failure(() => put('a', (s) => { s.type = 'ClusterIP'; s.ports[0]!.nodePort = 31111; }));
    expect(f.message).toBe("Service \"a\" is invalid: [spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP', spec.ports[1].nodePort: Forbidden: may not be used when `type` is 'ClusterIP']");
  });

  it('keeps allocated ports when an update leaves them out, matching ports by name', () => {
    const { create, put } = setup();
    const [http, https] = nodePorts(create('a', { type: 'LoadBalancer', ports: [{ port: 80, name: 'http' }, { port: 443, name: 'https' }] }));
    expect(nodePorts(put('a', (s) => s.ports.forEach((p) => delete p.nodePort)))).toEqual([http, https]);
    const renamed = nodePorts(put('a', (s) => { s.ports.forEach((p) => delete p.nodePort); s.ports[0]!.name = 'web'; }));
    expect(renamed[1]).toBe(https);
    expect(renamed[0]).not.toBe(http);
  });

  it('leaves LoadBalancer ports unallocated when asked, but honours requested ones', () => {
    const { create, put } = setup();
    const o = create('a', { type: 'LoadBalancer', allocateLoadBalancerNodePorts: false, ports: [{ port: 80, name: 'a' }, { port: 81, name: 'b', nodePort: 30811 }] });
    expect(nodePorts(o)).toEqual([0, 30811]);
    const on = nodePorts(put('a', (s) => { s.allocateLoadBalancerNodePorts = true; }));
    expect(on[0]).toBeGreaterThanOrEqual(30000);
    expect(on[1]).toBe(30811);
  });

  it('reports a duplicate node port on update as a reason-less 500', () => {
    const { create, put } = setup();
    create('a', { type: 'NodePort', ports: [{ port: 80, name: 'a' }, { port: 81, name: 'b' }] });
    const f = failure(() => put('a', (s) => { s.ports[0]!.nodePort = 30303; s.ports[1]!.nodePort = 30303; }));
    expect(f.code).toBe(500);
    expect(f.status).toEqual({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'duplicate nodePort: {TCP 30303}', code: 500 });
    // Across protocols an update may share it.
    expect(nodePorts(put('a', (s) => { s.ports[0]!.nodePort = 30303; s.ports[1]!.nodePort = 30303; s.ports[1]!.protocol = 'UDP'; }))).toEqual([30303, 30303]);
  });
});

describe('health check node port', () => {
  it('is allocated for LoadBalancer + Local, kept, immutable, and released with Cluster', () => {
    const { create, put } = setup();
    const hc = specOf(create('a', { type: 'LoadBalancer', externalTrafficPolicy: 'Local', ports: [{ port: 80 }] })).healthCheckNodePort as number;
    expect(hc).toBeGreaterThanOrEqual(30000);
    expect(specOf(put('a', (s) => { delete s.healthCheckNodePort; })).healthCheckNodePort).toBe(hc);
    expect(failure(() => put('a', (s) => { s.healthCheckNodePort = 31999; })).message).toBe('Service "a" is invalid: spec.healthCheckNodePort: Forbidden: field is immutable');
    expect(specOf(put('a', (s) => { s.externalTrafficPolicy = 'Cluster'; }))).not.toHaveProperty('healthCheckNodePort');
    expect(specOf(create('b', { type: 'LoadBalancer', externalTrafficPolicy: 'Local', healthCheckNodePort: hc, ports: [{ port: 80 }] })).healthCheckNodePort).toBe(hc);
  });

  it('fails as a 500 when the requested port is unavailable', () => {
    const { create } = setup();
    create('a', { type: 'NodePort', ports: [{ port: 80, nodePort: 30811 }] });
    const f = failure(() => create('b', { type: 'LoadBalancer', externalTrafficPolicy: 'Local', healthCheckNodePort: 30811, ports: [{ port: 80 }] }));
    expect(f.code).toBe(500);
    expect(f.status).toMatchObject({
      reason: 'InternalError',
      message: 'Internal error occurred: failed to allocate requested HealthCheck NodePort 30811: provided port is already allocated',
      details: { causes: [{ message: 'failed to allocate requested HealthCheck NodePort 30811: provided port is already allocated' }] },
    });
    expect(failure(() => create('c', { type: 'LoadBalancer', externalTrafficPolicy: 'Local', healthCheckNodePort: 99999, ports: [{ port: 80 }] })).message).toBe(
      'Internal error occurred: failed to allocate requested HealthCheck NodePort 99999: provided port is not in the valid range. The range of valid ports is 30000-32767',
    );
  });

  it('cannot reuse one of the Service\'s own node ports', () => {
    const { create, put } = setup();
    create('a', { type: 'LoadBalancer', ports: [{ port: 80, nodePort: 30500 }] });
    expect(failure(() => put('a', (s) => { s.externalTrafficPolicy = 'Local'; s.healthCheckNodePort = 30500; })).message).toContain('provided port is already allocated');
  });
});

describe('status subresource', () => {
  it('validates load-balancer ingress and normalises conditions', () => {
    const { store, svcType, create } = setup();
    create('a', { type: 'LoadBalancer', ports: [{ port: 80 }] });
    const write = (status: unknown) => {
      const cur = store.get(svcType, NS, 'a')!;
      cur.status = status;
      return store.update(svcType, cur, { subresource: 'status' });
    };
    expect(failure(() => write({ loadBalancer: { ingress: [{ ip: 'bad' }, { hostname: '1.2.3.4' }] } })).message).toBe(
      'Service "a" is invalid: [status.loadBalancer.ingress[0].ip: Invalid value: "bad": must be a valid IP address, status.loadBalancer.ingress[1].hostname: Invalid value: "1.2.3.4": must be a DNS name, not an IP address]',
    );
    expect(write({ loadBalancer: { ingress: [{ ip: '1.2.3.4' }] }, conditions: [{ type: 'Ready', status: 'Maybe' }] }).status).toEqual({
      loadBalancer: { ingress: [{ ip: '1.2.3.4' }] },
      conditions: [{ type: 'Ready', status: 'Maybe', lastTransitionTime: null, reason: '', message: '' }],
    });
    expect(write({}).status).toEqual({ loadBalancer: {} });
  });

  it('drops the load-balancer status when the type is no longer LoadBalancer', () => {
    const { store, svcType, create, put } = setup();
    create('a', { type: 'LoadBalancer', ports: [{ port: 80 }] });
    const cur = store.get(svcType, NS, 'a')!;
    cur.status = { loadBalancer: { ingress: [{ ip: '1.2.3.4' }] } };
    store.update(svcType, cur, { subresource: 'status' });
    expect(put('a', (s) => { s.type = 'NodePort'; }).status).toEqual({ loadBalancer: {} });
  });
});

describe('allocators', () => {
  const never = () => false;

  it('parse ranges and CIDRs', () => {
    expect(parsePortRange('30000-32767')).toEqual({ base: 30000, size: 2768 });
    expect(parsePortRange('30000+10')).toEqual({ base: 30000, size: 11 });
    expect(() => parsePortRange('32767-30000')).toThrow();
    expect(parseCidr('10.96.5.7/12')).toEqual({ network: (10 << 24) + (96 << 16), prefix: 12, text: '10.96.0.0/12' });
    expect(() => parseCidr('fd00::/108')).toThrow(/IPv4/);
  });

  it('PortAllocator: allocate, next, release and ownership', () => {
    const held = new Set<number>();
    const a = new PortAllocator('30000-30002', (_o, p) => held.has(p));
    a.allocate(30000, 'x');
    held.add(30000);
    expect(() => a.allocate(30000, 'y')).toThrow(new AllocError('taken', 'provided port is already allocated'));
    expect(() => a.allocate(29999, 'y')).toThrow(/not in the valid range. The range of valid ports is 30000-30002/);
    const n1 = a.allocateNext('y');
    const n2 = a.allocateNext('y');
    held.add(n1).add(n2);
    expect(new Set([n1, n2])).toEqual(new Set([30001, 30002]));
    expect(() => a.allocateNext('z')).toThrow(new AllocError('full', 'range is full'));
    a.release(n1, 'y');
    expect(a.allocateNext('z')).toBe(n1);
  });

  it('trusts a record only while the owner, as stored, still uses the value', () => {
    let stillUsed = true;
    const a = new PortAllocator('30000-30000', () => stillUsed);
    a.allocate(30000, 'x');
    expect(a.isFree(30000, 'y')).toBe(false);
    stillUsed = false;
    expect(a.isFree(30000, 'y')).toBe(true);
    a.allocate(30000, 'y');
    expect(a.ownerOf(30000)).toBe('y');
  });

  it('ClusterIPAllocator: usable range and the static band', () => {
    const a = new ClusterIPAllocator('10.0.0.0/24', never, () => 0);
    expect(a.firstIP).toBe('10.0.0.1');
    expect(a.contains('10.0.0.0')).toBe(false);
    expect(a.contains('10.0.0.255')).toBe(false);
    expect(a.contains('10.0.0.254')).toBe(true);
    // /24: 256 addresses, the lowest 16 (from .1) are for static requests.
    expect(a.allocateNext('x')).toBe('10.0.0.17');
    const tiny = new ClusterIPAllocator('10.0.0.0/29', never, () => 0);
    expect(tiny.allocateNext('x')).toBe('10.0.0.1');
  });
});

describe('resource types', () => {
  it('the strategy serves the services table of builtinResources', () => {
    const { store } = setup();
    const rt = store.find('', 'services') as ResourceType;
    expect(rt.strategy).toBeDefined();
  });
});
