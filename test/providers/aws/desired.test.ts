// Model → desired AWS resources, pure: no AWS involved.
import { describe, expect, it } from 'vitest';
import type { L7Spec, NodeTarget } from '../../../src/model/spec.js';
import type { AwsLbOptions } from '../../../src/providers/aws/annotations.js';
import { instanceIdOf, pathPatterns, synthesize, type SynthesisInput } from '../../../src/providers/aws/desired.js';
import { ProviderError } from '../../../src/providers/types.js';
import { buildServiceModel } from '../../../src/controller/service-model.js';
import { lbService, node } from '../../controller/fixtures.js';
import { albSpec, CLUSTER, nlbSpec, nodes, provider, TCP_HC } from './support.js';

const subnets = [
  { id: 'subnet-a', az: 'us-east-1a', vpcId: 'vpc-1' },
  { id: 'subnet-b', az: 'us-east-1b', vpcId: 'vpc-1' },
];

function input(spec: SynthesisInput['spec'], extra: Partial<SynthesisInput> = {}): SynthesisInput {
  return { spec, options: spec.providerOptions, clusterName: 'prod', defaultTags: {}, vpcId: 'vpc-1', subnets, userSecurityGroups: [], provider: 'aws', ...extra };
}

describe('instanceIdOf', () => {
  it.each([
    ['aws:///us-east-1a/i-0abc123', 'i-0abc123'],
    ['aws://us-east-1a/i-0abc123', 'i-0abc123'],
    ['aws:////i-0abc123', 'i-0abc123'],
    ['gce://project/zone/vm', undefined],
    ['aws:///us-east-1a/fargate-ip-10-0-0-1', undefined],
    [undefined, undefined],
  ])('%s → %s', (id, want) => {
    expect(instanceIdOf(id)).toBe(want);
  });
});

describe('pathPatterns', () => {
  it.each([
    ['/', 'Prefix', ['/*']],
    ['/api', 'Prefix', ['/api', '/api/*']],
    ['/api/', 'Prefix', ['/api', '/api/*']],
    ['/login', 'Exact', ['/login']],
    ['/img/*.png', 'ImplementationSpecific', ['/img/*.png']],
  ] as const)('%s %s → %j', (path, type, want) => {
    expect(pathPatterns(path, type)).toEqual(want);
  });
});

describe('NLB synthesis', () => {
  it('ownership tags cannot be overridden by annotation or default tags', () => {
    const spec = nlbSpec({ annotations: { 'service.beta.kubernetes.io/aws-load-balancer-additional-resource-tags': 'elbv2.k8s.aws/cluster=evil,team=shop' } });
    const d = synthesize(input(spec, { defaultTags: { 'service.k8s.aws/stack': 'evil', cost: 'center-1' } }));
    expect(d.lb.tags).toMatchObject({ 'elbv2.k8s.aws/cluster': 'prod', 'service.k8s.aws/stack': 'shop/web', team: 'shop', cost: 'center-1', 'lbc.dev/owner-uid': 'uid-web-1' });
  });

  it("default tags win over the object's tags, as aws-load-balancer-controller's --default-tags (highest priority)", () => {
    const spec = nlbSpec({ annotations: { 'service.beta.kubernetes.io/aws-load-balancer-additional-resource-tags': 'cost=mine,team=shop' } });
    const d = synthesize(input(spec, { defaultTags: { cost: 'center-1' } }));
    expect(d.lb.tags).toMatchObject({ cost: 'center-1', team: 'shop' });
    expect(d.targetGroups.length).toBeGreaterThan(0);
    for (const tg of d.targetGroups) expect(tg.tags.cost).toBe("center-1");
  });

  it('dualstack opens the listener ports to ::/0 too', () => {
    const d = synthesize(input(nlbSpec({ annotations: { 'service.beta.kubernetes.io/aws-load-balancer-ip-address-type': 'dualstack' } })));
    expect(d.securityGroup?.ingress.filter((p) => p.fromPort === 80).map((p) => p.source)).toEqual(['0.0.0.0/0', '::/0']);
    expect(d.lb.ipAddressType).toBe('dualstack');
  });

  it('user security groups: no managed group', () => {
    const d = synthesize(input(nlbSpec(), { userSecurityGroups: ['sg-1'] }));
    expect(d.securityGroup).toBeUndefined();
    expect(d.lb.userSecurityGroups).toEqual(['sg-1']);
  });

  it('EIP allocations must match the subnets one to one', () => {
    const spec = nlbSpec({ annotations: { 'service.beta.kubernetes.io/aws-load-balancer-scheme': 'internet-facing', 'service.beta.kubernetes.io/aws-load-balancer-eip-allocations': 'eipalloc-1' } });
    expect(() => synthesize(input(spec))).toThrow(ProviderError);
    expect(() => synthesize(input(spec))).toThrow(/lists 1 addresses for 2 subnets \(subnet-a, subnet-b\)/);
  });

  it('TCP and UDP on one port with different node ports cannot share a TCP_UDP group', () => {
    const spec = nlbSpec({
      ports: [
        { port: 53, nodePort: 30053, protocol: 'TCP' },
        { port: 53, nodePort: 30054, protocol: 'UDP' },
      ],
      annotations: { 'service.beta.kubernetes.io/aws-load-balancer-enable-tcp-udp-listener': 'true' },
    });
    expect(() => synthesize(input(spec))).toThrow(/port 53 is TCP and UDP/);
  });

  it('TLS target groups get no stickiness attribute (AWS refuses it there)', () => {
    const spec = nlbSpec({
      annotations: {
        'service.beta.kubernetes.io/aws-load-balancer-ssl-cert': 'arn:aws:acm:us-east-1:1:certificate/a',
        'service.beta.kubernetes.io/aws-load-balancer-backend-protocol': 'ssl',
      },
    });
    const d = synthesize(input(spec));
    expect(d.targetGroups.map((t) => [t.protocol, t.attributes])).toEqual([
      ['TLS', {}],
      ['TLS', {}],
    ]);
    expect(d.listeners.map((l) => [l.protocol, l.certificates.length])).toEqual([
      ['TLS', 1],
      ['TLS', 1],
    ]);
  });

  it('ip targets: pod IPs and ports; a named port gives the group port 1 (targets carry their own)', () => {
    const base = nlbSpec();
    const spec = {
      ...base,
      targetSets: base.targetSets.map((t) => ({
        name: t.name,
        protocol: t.protocol,
        healthCheck: TCP_HC,
        backend: t.backend,
        type: 'ip' as const,
        port: 'http',
        targets: [
          { ip: '10.1.0.5', port: 8080 },
          { ip: '10.1.0.6', port: 8081 },
        ],
      })),
    };
    const d = synthesize(input(spec));
    expect(d.targetGroups[0]).toMatchObject({ targetType: 'ip', port: 1, targets: [{ id: '10.1.0.5', port: 8080 }, { id: '10.1.0.6', port: 8081 }] });
  });

  it('ssl-ports by Service port name as well as number', () => {
    const certs = { 'service.beta.kubernetes.io/aws-load-balancer-ssl-cert': 'arn:aws:acm:us-east-1:1:certificate/a' };
    const base = nlbSpec({ annotations: { ...certs, 'service.beta.kubernetes.io/aws-load-balancer-ssl-ports': 'https' } });
    const spec = { ...base, listeners: base.listeners.map((l) => ({ ...l, name: l.port === 443 ? 'https' : 'http' })) };
    expect(synthesize(input(spec)).listeners.map((l) => `${l.protocol}:${l.port}`)).toEqual(['TCP:80', 'TLS:443']);
    // A name no listener carries matches nothing; numbers keep working next to names.
    const both = { ...spec, providerOptions: nlbSpec({ annotations: { ...certs, 'service.beta.kubernetes.io/aws-load-balancer-ssl-ports': 'admin, 80' } }).providerOptions };
    expect(synthesize(input(both)).listeners.map((l) => `${l.protocol}:${l.port}`)).toEqual(['TLS:80', 'TCP:443']);
  });

  it('ssl-ports by name: a Service port named https, through the model builder, gets the TLS listener', async () => {
    const aws = provider();
    try {
      const svc = lbService(
        'web',
        [
          { name: 'http', port: 80, nodePort: 30080, protocol: 'TCP' },
          { name: 'https', port: 443, nodePort: 30443, protocol: 'TCP' },
        ],
        {},
        { 'service.beta.kubernetes.io/aws-load-balancer-ssl-cert': 'arn:aws:acm:us-east-1:1:certificate/a', 'service.beta.kubernetes.io/aws-load-balancer-ssl-ports': 'https' },
      );
      const built = buildServiceModel({ service: svc, nodes: [node('n1', { providerID: 'aws:///us-east-1a/i-0aaa' })], endpointSlices: [], provider: aws, className: 'lbc.dev/aws', clusterName: CLUSTER });
      if (!built.ok) throw new Error(JSON.stringify(built.errors));
      expect(built.spec.listeners.map((l) => l.name)).toEqual(['http', 'https']);
      expect(synthesize(input(built.spec)).listeners.map((l) => `${l.protocol}:${l.port}:${l.certificates.length}`)).toEqual(['TCP:80:0', 'TLS:443:1']);
    } finally {
      await aws.close();
    }
  });

  it('target-node-labels: instance targets only from nodes carrying every listed label', () => {
    const labels: Record<string, string>[] = [{ role: 'edge', tier: 'web' }, { role: 'edge' }, { role: 'batch', tier: 'web' }];
    const targets: NodeTarget[] = nodes('i-0aaa', 'i-0bbb', 'i-0ccc').map((n, i) => ({ ...n, labels: labels[i] ?? {} }));
    const one = synthesize(input(nlbSpec({ targets, annotations: { 'service.beta.kubernetes.io/aws-load-balancer-target-node-labels': 'role=edge' } })));
    expect(one.targetGroups[0]?.targets.map((t) => t.id)).toEqual(['i-0aaa', 'i-0bbb']);
    expect(one.warnings).toEqual([]);
    const both = synthesize(input(nlbSpec({ targets, annotations: { 'service.beta.kubernetes.io/aws-load-balancer-target-node-labels': 'role=edge,tier=web' } })));
    expect(both.targetGroups.every((t) => t.targets.map((x) => x.id).join() === 'i-0aaa')).toBe(true);
    const none = synthesize(input(nlbSpec({ targets })));
    expect(none.targetGroups[0]?.targets).toHaveLength(3);
    const alb = synthesize(input(albSpec({ targets, annotations: { 'alb.ingress.kubernetes.io/target-node-labels': 'tier=web' } })));
    expect(alb.targetGroups[0]?.targets.map((t) => t.id)).toEqual(['i-0aaa', 'i-0ccc']);
  });

  it('a Service port edit keeps the instance target group name (node port unchanged)', () => {
    const a = synthesize(input(nlbSpec()));
    const b = synthesize(input(nlbSpec({ ports: [{ port: 8080, nodePort: 30080 }, { port: 443, nodePort: 30443 }] })));
    expect(b.targetGroups.map((t) => t.name).sort()).toEqual(a.targetGroups.map((t) => t.name).sort());
    expect(b.targetGroups.map((t) => t.key)).toEqual(['tcp-443', 'tcp-8080']);
  });
});

describe('ALB synthesis', () => {
  it('lbc.dev/certificate-ids (provider certificates in the spec) count as ACM certificates', () => {
    const base = albSpec();
    const spec: L7Spec<AwsLbOptions> = { ...base, listeners: [...base.listeners, { protocol: 'HTTPS', port: 443, certificates: [{ source: 'provider', id: 'arn:aws:acm:us-east-1:1:certificate/x', hosts: [] }] }] };
    const d = synthesize(input(spec));
    expect(d.listeners.map((l) => [l.protocol, l.port, l.certificates])).toEqual([['HTTPS', 443, ['arn:aws:acm:us-east-1:1:certificate/x']]]);
  });

  it('TLS Secrets are not uploaded to ACM: warned, and without an ARN the listener stays HTTP', () => {
    const base = albSpec();
    const spec: L7Spec<AwsLbOptions> = {
      ...base,
      listeners: [...base.listeners, { protocol: 'HTTPS', port: 443, certificates: [{ source: 'secret', secretRef: { namespace: 'shop', name: 'tls' }, hosts: ['shop.example.com'], certPem: '', keyPem: '' }] }],
    };
    const d = synthesize(input(spec));
    expect(d.listeners.map((l) => l.protocol)).toEqual(['HTTP']);
    expect(d.warnings[0]).toMatch(/TLS Secrets in spec.tls are not used/);
  });

  it('rules keep the spec order as priorities; every listener carries them', () => {
    const d = synthesize(input(albSpec({ annotations: { 'alb.ingress.kubernetes.io/listen-ports': '[{"HTTP": 80}, {"HTTP": 8080}]' } })));
    expect(d.listeners.map((l) => l.rules.map((r) => [r.priority, r.hosts, r.paths]))).toEqual([
      [
        [1, ['shop.example.com'], ['/api', '/api/*']],
        [2, ['shop.example.com'], ['/*']],
      ],
      [
        [1, ['shop.example.com'], ['/api', '/api/*']],
        [2, ['shop.example.com'], ['/*']],
      ],
    ]);
  });
});

describe('ALB synthesis: per-target-set options (IngressGroup members, aws-load-balancer-controller annotations.md "Ingress,Service" annotations)', () => {
  it('a target set’s own providerOptions decide its target group; the others keep the LB’s', () => {
    const base = albSpec();
    const own = { ...base.providerOptions, backendProtocol: 'HTTPS' as const, healthCheck: { path: '/healthz', successCodes: '200-299' }, targetGroupAttributes: { 'deregistration_delay.timeout_seconds': '30' } };
    const spec: L7Spec<AwsLbOptions> = { ...base, targetSets: base.targetSets.map((t) => (t.name === 'shop/api:8080' ? { ...t, providerOptions: own } : t)) };
    const d = synthesize(input(spec));
    const tg = (key: string) => d.targetGroups.find((t) => t.key === key);
    expect(tg('shop/api:8080')).toMatchObject({ protocol: 'HTTPS', healthCheck: { path: '/healthz', matcher: '200-299' }, attributes: { 'deregistration_delay.timeout_seconds': '30' } });
    expect(tg('shop/web:80')).toMatchObject({ protocol: 'HTTP', healthCheck: { path: '/', matcher: '200' }, attributes: {} });
  });
});
