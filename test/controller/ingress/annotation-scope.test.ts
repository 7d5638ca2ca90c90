// How the ALB annotations scope within an IngressGroup, as aws-load-balancer-controller's
// docs/guide/ingress/annotations.md (v3.5) says in its Location and MergeBehavior columns:
// "Exclusive" ones are group-wide and must agree, "Merge" ones (tags, certificate-arn;
// listen-ports only as listeners) combine, and the target-group ones (location "Ingress,Service",
// MergeBehavior N/A) apply per Ingress and backend, with "Annotations applied to Service
// have higher priority over annotations applied to Ingress".
import type { V1Ingress } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { buildIngressModel } from '../../../src/controller/ingress-model.js';
import type { ModelProvider } from '../../../src/controller/service-model.js';
import type { L7Spec, TargetSet } from '../../../src/model/spec.js';
import { ingressAnnotationScopes, parseAwsOptions, type AwsLbOptions } from '../../../src/providers/aws/annotations.js';
import { INGRESS_PREFIX, SERVICE_PREFIX } from '../../../src/providers/aws/annotations.js';
import { ingress, node, service, slice } from '../fixtures.js';

const A = INGRESS_PREFIX;
// The AWS provider's model-facing half, as its capabilities declare it.
const aws: ModelProvider<AwsLbOptions> = {
  name: 'aws',
  capabilities: { layers: ['L4', 'L7'], targetTypes: ['instance', 'ip'], annotationPrefixes: [SERVICE_PREFIX, INGRESS_PREFIX], annotationScopes: ingressAnnotationScopes },
  parseOptions: parseAwsOptions,
};

const web = service('web', { type: 'NodePort', ports: [{ port: 80, targetPort: 8080, nodePort: 30080 }] });
const api = service('api', { type: 'NodePort', ports: [{ port: 80, targetPort: 8080, nodePort: 30081 }] });
const slices = [slice('web', [{ port: 8080 }], [{ ip: '10.1.0.1' }]), slice('api', [{ port: 8080 }], [{ ip: '10.1.0.2' }])];

const member = (name: string, svc: string, host: string, annotations: Record<string, string> = {}): V1Ingress =>
  ingress(
    name,
    { rules: [{ host, http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: svc, port: { number: 80 } } } }] } }] },
    { [`${A}group.name`]: 'shop', ...annotations },
  );

function build(ingresses: V1Ingress[], services = [web, api]) {
  return buildIngressModel({ ingresses, services, endpointSlices: slices, secrets: [], nodes: [node('n1')], provider: aws, className: 'alb', clusterName: 'test' });
}

function spec(ingresses: V1Ingress[], services = [web, api]): L7Spec<AwsLbOptions> {
  const r = build(ingresses, services);
  if (!r.ok) throw new Error(`expected a spec, got ${JSON.stringify(r)}`);
  return r.spec;
}

const set = (s: L7Spec<AwsLbOptions>, name: string): TargetSet => {
  const t = s.targetSets.find((x) => x.name === name);
  if (!t) throw new Error(`no target set ${name}`);
  return t;
};
const optionsOf = (t: TargetSet): AwsLbOptions => t.providerOptions as AwsLbOptions;

describe('IngressGroup annotation scope (aws-load-balancer-controller annotations.md MergeBehavior)', () => {
  it.each([
    [`${A}target-type`, 'ip', 'instance', (a: TargetSet, b: TargetSet) => [a.type, b.type], ['ip', 'instance']],
    [`${A}healthcheck-path`, '/a', '/b', (a: TargetSet, b: TargetSet) => [optionsOf(a).healthCheck.path, optionsOf(b).healthCheck.path], ['/a', '/b']],
    [`${A}success-codes`, '200-299', '200', (a: TargetSet, b: TargetSet) => [optionsOf(a).healthCheck.successCodes, optionsOf(b).healthCheck.successCodes], ['200-299', '200']],
    [`${A}backend-protocol`, 'HTTPS', 'HTTP', (a: TargetSet, b: TargetSet) => [optionsOf(a).backendProtocol, optionsOf(b).backendProtocol], ['HTTPS', 'HTTP']],
    [
      `${A}target-group-attributes`,
      'deregistration_delay.timeout_seconds=30',
      'stickiness.enabled=true,stickiness.lb_cookie.duration_seconds=60',
      (a: TargetSet, b: TargetSet) => [optionsOf(a).targetGroupAttributes, optionsOf(b).targetGroupAttributes],
      [{ 'deregistration_delay.timeout_seconds': '30' }, { 'stickiness.enabled': 'true', 'stickiness.lb_cookie.duration_seconds': '60' }],
    ],
  ])('%s (Ingress,Service; N/A): each member’s value applies to its own backends, no conflict', (key, va, vb, read, want) => {
    const s = spec([member('a', 'web', 'a.example.com', { [key]: va }), member('b', 'api', 'b.example.com', { [key]: vb })]);
    expect(read(set(s, 'default/web:80@a'), set(s, 'default/api:80@b'))).toEqual(want);
    // Not group-wide: the LB's own options do not carry either member's value.
    expect(s.providerOptions.healthCheck).toEqual({});
    expect(s.providerOptions.targetGroupAttributes).toEqual({});
  });

  it('a member without the annotation keeps the default, even when another member sets it', () => {
    const s = spec([member('a', 'web', 'a.example.com', { [`${A}healthcheck-path`]: '/healthz' }), member('b', 'api', 'b.example.com')]);
    expect(optionsOf(set(s, 'default/web:80@a')).healthCheck.path).toBe('/healthz');
    expect(optionsOf(set(s, 'default/api:80@b')).healthCheck.path).toBeUndefined();
  });

  it('the backend Service’s annotation wins over the Ingress’s ("Annotations applied to Service have higher priority")', () => {
    const svc = service('web', { type: 'NodePort', ports: [{ port: 80, targetPort: 8080, nodePort: 30080 }] }, { [`${A}target-type`]: 'ip', [`${A}healthcheck-path`]: '/svc' });
    const s = spec([member('a', 'web', 'a.example.com', { [`${A}target-type`]: 'instance', [`${A}healthcheck-path`]: '/ing' })], [svc, api]);
    expect(set(s, 'default/web:80@a').type).toBe('ip');
    expect(optionsOf(set(s, 'default/web:80@a')).healthCheck.path).toBe('/svc');
  });

  it('a bad value on the Service is reported against the Service', () => {
    const svc = service('web', { type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }] }, { [`${A}healthcheck-interval-seconds`]: '1' });
    const r = build([member('a', 'web', 'a.example.com')], [svc, api]);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason === 'invalid' ? r.errors.map((e) => e.object) : []).toEqual(['Service default/web']);
  });

  // aws-load-balancer-controller pkg/ingress/model_build_target_group.go: buildTargetGroup
  // keys its target groups by buildTargetGroupResourceID(ingKey, svcKey, port)
  // ("<ns>/<ingress>-<service>:<port>") and buildTargetGroupName hashes the Ingress.
  it('two members sending one Service port different target-group annotations: a target set each (ALBC buildTargetGroupResourceID includes the Ingress)', () => {
    const s = spec([
      member('a', 'web', 'a.example.com', { [`${A}target-type`]: 'ip', [`${A}healthcheck-path`]: '/a' }),
      member('b', 'web', 'b.example.com', { [`${A}target-type`]: 'instance', [`${A}success-codes`]: '200-299' }),
    ]);
    expect(s.targetSets.map((t) => [t.name, t.type, t.ingress, t.backend])).toEqual([
      ['default/web:80@a', 'ip', 'default/a', { namespace: 'default', service: 'web', port: 80 }],
      ['default/web:80@b', 'instance', 'default/b', { namespace: 'default', service: 'web', port: 80 }],
    ]);
    expect(optionsOf(set(s, 'default/web:80@a')).healthCheck).toEqual({ path: '/a' });
    expect(optionsOf(set(s, 'default/web:80@b')).healthCheck).toEqual({ successCodes: '200-299' });
    expect(s.rules.map((r) => [r.host, r.targetSet])).toEqual([
      ['a.example.com', 'default/web:80@a'],
      ['b.example.com', 'default/web:80@b'],
    ]);
  });

  it('members with the same annotations on one Service port still get a set each (ALBC shares no target group between Ingresses); one rule each for a shared host and path, the earlier first', () => {
    const s = spec([member('a', 'web', 'shop.example.com'), member('b', 'web', 'shop.example.com')]);
    expect(s.targetSets.map((t) => t.name)).toEqual(['default/web:80@a', 'default/web:80@b']);
    expect(s.rules.map((r) => [r.host, r.path, r.targetSet, r.source])).toEqual([
      ['shop.example.com', '/', 'default/web:80@a', 'default/a'],
      ['shop.example.com', '/', 'default/web:80@b', 'default/b'],
    ]);
    // Another Service on the same host and path is still a conflict.
    const r = build([member('a', 'web', 'shop.example.com'), member('b', 'api', 'shop.example.com')]);
    expect(!r.ok && r.reason === 'invalid' ? r.errors.map((e) => e.reason) : []).toEqual(['shop.example.com / (Prefix) already routes to default/web:80@a (from Ingress default/a)']);
  });

  it('a lone Ingress (no group) keeps one set per Service port under its plain name', () => {
    const lone = ingress('solo', { rules: [{ host: 's.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } }] } }] }, {
      [`${A}target-type`]: 'ip',
    });
    expect(spec([lone]).targetSets.map((t) => [t.name, t.ingress])).toEqual([['default/web:80', undefined]]);
  });

  it.each([
    [`${A}scheme`, 'internal', 'internet-facing'],
    [`${A}ip-address-type`, 'ipv4', 'dualstack'],
    [`${A}load-balancer-attributes`, 'idle_timeout.timeout_seconds=30', 'idle_timeout.timeout_seconds=60'],
    [`${A}ssl-policy`, 'ELBSecurityPolicy-2016-08', 'ELBSecurityPolicy-TLS-1-2-2017-01'],
    [`${A}inbound-cidrs`, '10.0.0.0/8', '192.168.0.0/16'],
  ])('%s (Exclusive): different values on two members are an error', (key, va, vb) => {
    const r = build([member('a', 'web', 'a.example.com', { [key]: va }), member('b', 'api', 'b.example.com', { [key]: vb })]);
    expect(!r.ok && r.reason === 'invalid' ? r.errors.map((e) => ('annotation' in e ? e.annotation : e.field)) : []).toEqual([key]);
  });

  it('tags (Merge): keys combine; one key with two values is an error naming both', () => {
    const s = spec([member('a', 'web', 'a.example.com', { [`${A}tags`]: 'team=a,env=prod' }), member('b', 'api', 'b.example.com', { [`${A}tags`]: 'env=prod,cost=42' })]);
    expect(s.providerOptions.tags).toEqual({ team: 'a', env: 'prod', cost: '42' });
    const r = build([member('a', 'web', 'a.example.com', { [`${A}tags`]: 'env=prod' }), member('b', 'api', 'b.example.com', { [`${A}tags`]: 'env=dev' })]);
    const errs = !r.ok && r.reason === 'invalid' ? r.errors : [];
    expect(errs).toHaveLength(1);
    expect(errs[0]?.reason).toBe('key "env" conflicts within the group: Ingress default/a sets "prod", this one "dev"');
  });

  it('certificate-arn (Merge): the union of the members’ values; listen-ports: each member’s own (ALBC model_builder.go ingListByPort), not merged', () => {
    const s = spec([
      member('a', 'web', 'a.example.com', { [`${A}listen-ports`]: '[{"HTTP":80},{"HTTPS":443}]', [`${A}certificate-arn`]: 'arn:aws:acm:us-east-1:1:certificate/a' }),
      member('b', 'api', 'b.example.com', {
        [`${A}listen-ports`]: '[{"HTTPS":443},{"HTTPS":8443}]',
        [`${A}certificate-arn`]: 'arn:aws:acm:us-east-1:1:certificate/b,arn:aws:acm:us-east-1:1:certificate/a',
      }),
    ]);
    expect(s.providerOptions.certificateArns).toEqual(['arn:aws:acm:us-east-1:1:certificate/a', 'arn:aws:acm:us-east-1:1:certificate/b']);
    expect(s.providerOptions.listenPorts).toBeUndefined();
    const own = s.memberOptions as Record<string, AwsLbOptions>;
    expect(Object.fromEntries(Object.entries(own).map(([k, o]) => [k, [o.listenPorts, o.certificateArns]]))).toEqual({
      'default/a': [
        [
          { protocol: 'HTTP', port: 80 },
          { protocol: 'HTTPS', port: 443 },
        ],
        ['arn:aws:acm:us-east-1:1:certificate/a'],
      ],
      'default/b': [
        [
          { protocol: 'HTTPS', port: 443 },
          { protocol: 'HTTPS', port: 8443 },
        ],
        ['arn:aws:acm:us-east-1:1:certificate/b', 'arn:aws:acm:us-east-1:1:certificate/a'],
      ],
    });
  });

  it('a member’s bad listen-ports is reported against that member', () => {
    const r = build([member('a', 'web', 'a.example.com', { [`${A}listen-ports`]: '[{"FTP":21}]' }), member('b', 'api', 'b.example.com')]);
    const errs = !r.ok && r.reason === 'invalid' ? r.errors : [];
    expect(errs.map((e) => [e.object, 'annotation' in e ? e.annotation : ''])).toEqual([['Ingress default/a', `${A}listen-ports`]]);
  });
});
