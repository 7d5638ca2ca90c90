// Every AWS annotation the issue lists, read as aws-load-balancer-controller reads it,
// including bad values (all reported at once, each naming its annotation), and the way
// the model builders take them in (a bad one stops the object: nothing is created).
import type { V1Node, V1Service } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { buildServiceModel } from '../../../src/controller/service-model.js';
import { DEFAULT_SSL_POLICY, parseAwsOptions } from '../../../src/providers/aws/annotations.js';
import { provider } from './support.js';

const S = 'service.beta.kubernetes.io/aws-load-balancer-';
const A = 'alb.ingress.kubernetes.io/';

const ok = (annotations: Record<string, string>, kind: 'Service' | 'Ingress' = 'Service') => {
  const r = parseAwsOptions(annotations, kind);
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r;
};
const errors = (annotations: Record<string, string>, kind: 'Service' | 'Ingress' = 'Service') => {
  const r = parseAwsOptions(annotations, kind);
  if (r.ok) throw new Error('expected errors');
  return r.errors;
};

describe('Service annotations', () => {
  it('defaults as aws-load-balancer-controller: internal, ipv4, 2016-08 policy, backend SG rules managed', () => {
    const r = ok({});
    expect(r.targetType).toBeUndefined();
    expect(r.options).toEqual({
      kind: 'Service',
      scheme: 'internal',
      ipAddressType: 'ipv4',
      certificateArns: [],
      sslPolicy: DEFAULT_SSL_POLICY,
      proxyProtocol: false,
      targetGroupAttributes: {},
      loadBalancerAttributes: {},
      healthCheck: {},
      tags: {},
      manageBackendSecurityGroupRules: true,
      actions: {},
      conditions: {},
    });
  });

  it('reads every listed annotation', () => {
    const r = ok({
      [`${S}type`]: 'external',
      [`${S}nlb-target-type`]: 'ip',
      [`${S}scheme`]: 'internet-facing',
      [`${S}name`]: 'shop-web',
      [`${S}subnets`]: 'subnet-0abc, public-b',
      [`${S}ip-address-type`]: 'dualstack',
      [`${S}eip-allocations`]: 'eipalloc-01,eipalloc-02',
      [`${S}ssl-cert`]: 'arn:aws:acm:us-east-1:1:certificate/a,arn:aws:iam::1:server-certificate/b',
      [`${S}ssl-ports`]: '443, 8443',
      [`${S}ssl-negotiation-policy`]: 'ELBSecurityPolicy-TLS13-1-2-2021-06',
      [`${S}backend-protocol`]: 'ssl',
      [`${S}proxy-protocol`]: '*',
      [`${S}target-group-attributes`]: 'deregistration_delay.timeout_seconds=120,preserve_client_ip.enabled=true',
      [`${S}attributes`]: 'load_balancing.cross_zone.enabled=true',
      [`${S}healthcheck-protocol`]: 'http',
      [`${S}healthcheck-port`]: '8080',
      [`${S}healthcheck-path`]: '/ready',
      [`${S}healthcheck-interval`]: '30',
      [`${S}healthcheck-timeout`]: '6',
      [`${S}healthcheck-healthy-threshold`]: '3',
      [`${S}healthcheck-unhealthy-threshold`]: '4',
      [`${S}healthcheck-success-codes`]: '200-299',
      [`${S}additional-resource-tags`]: 'team=shop, env=prod',
      [`${S}security-groups`]: 'sg-0abc, frontend',
      [`${S}manage-backend-security-group-rules`]: 'false',
      [`${S}target-node-labels`]: 'role=edge',
    });
    expect(r.targetType).toBe('ip');
    expect(r.options).toEqual({
      kind: 'Service',
      scheme: 'internet-facing',
      name: 'shop-web',
      subnets: ['subnet-0abc', 'public-b'],
      ipAddressType: 'dualstack',
      eipAllocations: ['eipalloc-01', 'eipalloc-02'],
      certificateArns: ['arn:aws:acm:us-east-1:1:certificate/a', 'arn:aws:iam::1:server-certificate/b'],
      sslPorts: [443, 8443],
      sslPolicy: 'ELBSecurityPolicy-TLS13-1-2-2021-06',
      backendProtocol: 'TLS',
      proxyProtocol: true,
      targetGroupAttributes: { 'deregistration_delay.timeout_seconds': '120', 'preserve_client_ip.enabled': 'true' },
      loadBalancerAttributes: { 'load_balancing.cross_zone.enabled': 'true' },
      healthCheck: { protocol: 'HTTP', port: 8080, path: '/ready', intervalSeconds: 30, timeoutSeconds: 6, healthyThreshold: 3, unhealthyThreshold: 4, successCodes: '200-299' },
      tags: { team: 'shop', env: 'prod' },
      securityGroups: ['sg-0abc', 'frontend'],
      manageBackendSecurityGroupRules: false,
      targetNodeLabels: { role: 'edge' },
      actions: {},
      conditions: {},
    });
  });

  it('private-ipv4-addresses for internal; traffic-port health check port', () => {
    const r = ok({ [`${S}private-ipv4-addresses`]: '10.0.1.15, 10.0.2.16', [`${S}healthcheck-port`]: 'traffic-port' });
    expect(r.options.privateIpv4Addresses).toEqual(['10.0.1.15', '10.0.2.16']);
    expect(r.options.healthCheck.port).toBe('traffic-port');
  });

  it('nlb-ip means ip targets; in-tree nlb means instance', () => {
    expect(ok({ [`${S}type`]: 'nlb-ip' }).targetType).toBe('ip');
    expect(ok({ [`${S}type`]: 'nlb' }).targetType).toBe('instance');
    expect(ok({ [`${S}type`]: 'external' }).targetType).toBeUndefined();
  });

  it('in-tree type nlb: internet-facing by default as cloud-provider-aws, -internal and -scheme still decide; external and nlb-ip stay internal as ALBC', () => {
    expect(ok({ [`${S}type`]: 'nlb' }).options.scheme).toBe('internet-facing');
    expect(ok({ [`${S}type`]: 'nlb', [`${S}internal`]: 'true' }).options.scheme).toBe('internal');
    expect(ok({ [`${S}type`]: 'nlb', [`${S}scheme`]: 'internal' }).options.scheme).toBe('internal');
    expect(ok({ [`${S}type`]: 'external' }).options.scheme).toBe('internal');
    expect(ok({ [`${S}type`]: 'nlb-ip' }).options.scheme).toBe('internal');
  });

  it('deprecated -internal loses to -scheme; alone it still decides', () => {
    expect(ok({ [`${S}internal`]: 'false' }).options.scheme).toBe('internet-facing');
    expect(ok({ [`${S}internal`]: 'true' }).options.scheme).toBe('internal');
    expect(ok({ [`${S}internal`]: 'true', [`${S}scheme`]: 'internet-facing' }).options.scheme).toBe('internet-facing');
  });

  it('deprecated attribute annotations fold into the attributes and win ties', () => {
    const r = ok({
      [`${S}attributes`]: 'load_balancing.cross_zone.enabled=false,deletion_protection.enabled=true',
      [`${S}cross-zone-load-balancing-enabled`]: 'true',
      [`${S}access-log-enabled`]: 'true',
      [`${S}access-log-s3-bucket-name`]: 'logs',
      [`${S}access-log-s3-bucket-prefix`]: 'nlb',
    });
    expect(r.options.loadBalancerAttributes).toEqual({
      'load_balancing.cross_zone.enabled': 'true',
      'deletion_protection.enabled': 'true',
      'access_logs.s3.enabled': 'true',
      'access_logs.s3.bucket': 'logs',
      'access_logs.s3.prefix': 'nlb',
    });
  });

  it('reports every bad value at once, each naming its annotation', () => {
    const errs = errors({
      [`${S}type`]: 'clb',
      [`${S}nlb-target-type`]: 'pod',
      [`${S}scheme`]: 'public',
      [`${S}name`]: 'a-name-that-is-far-too-long-for-elbv2',
      [`${S}ip-address-type`]: 'ipv6',
      [`${S}eip-allocations`]: 'eip-1',
      [`${S}private-ipv4-addresses`]: '10.0.0.300',
      [`${S}ssl-cert`]: 'not-an-arn',
      [`${S}proxy-protocol`]: 'true',
      [`${S}target-group-attributes`]: 'novalue',
      [`${S}healthcheck-protocol`]: 'udp',
      [`${S}healthcheck-port`]: '70000',
      [`${S}healthcheck-path`]: 'healthz',
      [`${S}healthcheck-interval`]: '1',
      [`${S}healthcheck-timeout`]: 'ten',
      [`${S}healthcheck-healthy-threshold`]: '11',
      [`${S}healthcheck-unhealthy-threshold`]: '1',
      [`${S}healthcheck-success-codes`]: 'ok',
      [`${S}additional-resource-tags`]: 'lbc.dev/cluster=x',
      [`${S}manage-backend-security-group-rules`]: 'yes',
    });
    expect(errs.map((e) => ('annotation' in e ? e.annotation : '')).sort()).toEqual(
      [
        'type',
        'nlb-target-type',
        'scheme',
        'name',
        'ip-address-type',
        'eip-allocations',
        'private-ipv4-addresses',
        'ssl-cert',
        'proxy-protocol',
        'target-group-attributes',
        'healthcheck-protocol',
        'healthcheck-port',
        'healthcheck-path',
        'healthcheck-interval',
        'healthcheck-timeout',
        'healthcheck-healthy-threshold',
        'healthcheck-unhealthy-threshold',
        'healthcheck-success-codes',
        'additional-resource-tags',
        'manage-backend-security-group-rules',
      ]
        .map((n) => `${S}${n}`)
        .sort(),
    );
    expect(errs.find((e) => 'annotation' in e && e.annotation === `${S}name`)?.reason).toMatch(/longer than 32 characters/);
  });

  it('rejects bad values of the remaining Service annotations, each named', () => {
    const errs = errors({
      [`${S}backend-protocol`]: 'http',
      [`${S}attributes`]: 'deletion_protection.enabled',
      [`${S}target-node-labels`]: 'role',
      [`${S}ssl-ports`]: '443,99999',
      [`${S}ssl-cert`]: 'arn:aws:acm:us-east-1:1:certificate/a',
      [`${S}internal`]: 'maybe',
    });
    expect(errs.map((e) => ('annotation' in e ? e.annotation : '')).sort()).toEqual(
      ['backend-protocol', 'attributes', 'target-node-labels', 'ssl-ports', 'internal'].map((n) => `${S}${n}`).sort(),
    );
  });

  it('rejects combinations that cannot work', () => {
    const reasons = (a: Record<string, string>) => errors(a).map((e) => `${'annotation' in e ? e.annotation : ''}: ${e.reason}`);
    expect(reasons({ [`${S}type`]: 'nlb-ip', [`${S}nlb-target-type`]: 'instance' })).toEqual([`${S}nlb-target-type: is instance, but ${S}type nlb-ip means ip targets`]);
    expect(reasons({ [`${S}ssl-ports`]: '443' })).toEqual([`${S}ssl-ports: needs ${S}ssl-cert`]);
    expect(ok({ [`${S}ssl-cert`]: 'arn:aws:acm:us-east-1:1:certificate/a', [`${S}ssl-ports`]: 'https, 8443' }).options.sslPorts).toEqual([8443, 'https']);
    expect(reasons({ [`${S}ssl-cert`]: 'arn:aws:acm:us-east-1:1:certificate/a', [`${S}ssl-ports`]: '70000' })[0]).toMatch(/ssl-ports/);
    expect(reasons({ [`${S}eip-allocations`]: 'eipalloc-1' })).toEqual([`${S}eip-allocations: needs an internet-facing load balancer`]);
    expect(reasons({ [`${S}scheme`]: 'internet-facing', [`${S}private-ipv4-addresses`]: '10.0.0.1' })).toEqual([`${S}private-ipv4-addresses: needs an internal load balancer`]);
    expect(reasons({ [`${S}healthcheck-path`]: '/x', [`${S}healthcheck-protocol`]: 'tcp' })).toEqual([`${S}healthcheck-path: needs ${S}healthcheck-protocol http or https`]);
  });
});

describe('Ingress annotations', () => {
  it('defaults: internal, no listen-ports (the provider picks HTTP:80 or HTTPS:443)', () => {
    const r = ok({}, 'Ingress');
    expect(r.options.scheme).toBe('internal');
    expect(r.options.listenPorts).toBeUndefined();
    expect(r.options.sslPolicy).toBe(DEFAULT_SSL_POLICY);
    // On with lbc's own frontend group, off with the user's unless asked for (aws-load-balancer-controller's defaults).
    expect(r.options.manageBackendSecurityGroupRules).toBe(true);
    expect(ok({ [`${A}security-groups`]: 'sg-0abc' }, 'Ingress').options.manageBackendSecurityGroupRules).toBe(false);
    expect(ok({ [`${A}security-groups`]: 'sg-0abc', [`${A}manage-backend-security-group-rules`]: 'true' }, 'Ingress').options.manageBackendSecurityGroupRules).toBe(true);
    expect(ok({}, 'Service').options.manageBackendSecurityGroupRules).toBe(true);
    expect(ok({ [`${S}security-groups`]: 'sg-0abc' }, 'Service').options.manageBackendSecurityGroupRules).toBe(false);
  });

  it('reads every listed annotation', () => {
    const r = ok(
      {
        [`${A}scheme`]: 'internet-facing',
        [`${A}load-balancer-name`]: 'shop',
        [`${A}subnets`]: 'subnet-01,subnet-02',
        [`${A}ip-address-type`]: 'dualstack',
        [`${A}listen-ports`]: '[{"HTTP": 80}, {"HTTPS": 443}, {"HTTPS": 8443}]',
        [`${A}certificate-arn`]: 'arn:aws:acm:us-east-1:1:certificate/a',
        [`${A}ssl-policy`]: 'ELBSecurityPolicy-FS-1-2-Res-2020-10',
        [`${A}ssl-redirect`]: '443',
        [`${A}target-type`]: 'ip',
        [`${A}backend-protocol`]: 'HTTPS',
        [`${A}inbound-cidrs`]: '10.0.0.0/8, 2001:db8::/32',
        [`${A}security-groups`]: 'sg-01',
        [`${A}healthcheck-port`]: '8080',
        [`${A}healthcheck-protocol`]: 'HTTPS',
        [`${A}healthcheck-path`]: '/ping',
        [`${A}healthcheck-interval-seconds`]: '15',
        [`${A}healthcheck-timeout-seconds`]: '5',
        [`${A}healthy-threshold-count`]: '2',
        [`${A}unhealthy-threshold-count`]: '2',
        [`${A}success-codes`]: '200,302',
        [`${A}load-balancer-attributes`]: 'idle_timeout.timeout_seconds=120',
        [`${A}target-group-attributes`]: 'stickiness.enabled=true,stickiness.lb_cookie.duration_seconds=60',
        [`${A}tags`]: 'team=shop',
        [`${A}actions.response-503`]: '{"type":"fixed-response","fixedResponseConfig":{"contentType":"text/plain","statusCode":"503","messageBody":"503 error text"}}',
        [`${A}actions.forward-multiple`]:
          '{"type":"forward","forwardConfig":{"targetGroups":[{"serviceName":"a","servicePort":"http","weight":20},{"serviceName":"b","servicePort":80,"weight":80}],"targetGroupStickinessConfig":{"enabled":true,"durationSeconds":200}}}',
        [`${A}conditions.rule-path1`]: '[{"field":"http-header","httpHeaderConfig":{"httpHeaderName":"HeaderName","values":["HeaderValue"]}}]',
      },
      'Ingress',
    );
    expect(r.targetType).toBe('ip');
    expect(r.options).toMatchObject({
      scheme: 'internet-facing',
      name: 'shop',
      subnets: ['subnet-01', 'subnet-02'],
      ipAddressType: 'dualstack',
      listenPorts: [
        { protocol: 'HTTP', port: 80 },
        { protocol: 'HTTPS', port: 443 },
        { protocol: 'HTTPS', port: 8443 },
      ],
      certificateArns: ['arn:aws:acm:us-east-1:1:certificate/a'],
      sslPolicy: 'ELBSecurityPolicy-FS-1-2-Res-2020-10',
      sslRedirect: 443,
      backendProtocol: 'HTTPS',
      inboundCidrs: ['10.0.0.0/8', '2001:db8::/32'],
      securityGroups: ['sg-01'],
      healthCheck: { port: 8080, protocol: 'HTTPS', path: '/ping', intervalSeconds: 15, timeoutSeconds: 5, healthyThreshold: 2, unhealthyThreshold: 2, successCodes: '200,302' },
      loadBalancerAttributes: { 'idle_timeout.timeout_seconds': '120' },
      targetGroupAttributes: { 'stickiness.enabled': 'true', 'stickiness.lb_cookie.duration_seconds': '60' },
      tags: { team: 'shop' },
    });
    expect(Object.keys(r.options.actions)).toEqual(['response-503', 'forward-multiple']);
    expect(r.options.conditions['rule-path1']?.[0]?.field).toBe('http-header');
  });

  it('reports bad JSON and bad shapes, each naming its annotation', () => {
    const errs = errors(
      {
        [`${A}listen-ports`]: '[{"HTTP": 80}, {"FTP": 21}]',
        [`${A}ssl-redirect`]: 'https',
        [`${A}inbound-cidrs`]: '10.0.0.0/33',
        [`${A}target-type`]: 'pod',
        [`${A}actions.bad`]: '{"type":"redirect","redirectConfig":{"statusCode":"HTTP_307"}}',
        [`${A}conditions.worse`]: 'not json',
        [`${A}certificate-arn`]: 'arn:aws:s3:::bucket',
      },
      'Ingress',
    );
    expect(errs.map((e) => ('annotation' in e ? e.annotation : '')).sort()).toEqual(
      [`${A}actions.bad`, `${A}certificate-arn`, `${A}conditions.worse`, `${A}inbound-cidrs`, `${A}listen-ports`, `${A}ssl-redirect`, `${A}target-type`].sort(),
    );
  });

  it('reports bad values of the remaining Ingress annotations, each named', () => {
    const errs = errors(
      {
        [`${A}scheme`]: 'public',
        [`${A}load-balancer-attributes`]: 'idle_timeout.timeout_seconds',
        [`${A}target-group-attributes`]: '=x',
        [`${A}tags`]: 'aws:owner=me',
        [`${A}backend-protocol`]: 'grpc',
        [`${A}healthcheck-port`]: '70000',
        [`${A}healthcheck-protocol`]: 'tcp',
        [`${A}healthcheck-path`]: 'health',
        [`${A}healthcheck-interval-seconds`]: '1',
        [`${A}healthcheck-timeout-seconds`]: '500',
        [`${A}healthy-threshold-count`]: '0',
        [`${A}unhealthy-threshold-count`]: '20',
        [`${A}success-codes`]: 'any',
        [`${A}ip-address-type`]: 'ipv6',
        [`${A}load-balancer-name`]: '-bad-',
        [`${A}manage-backend-security-group-rules`]: 'sometimes',
      },
      'Ingress',
    );
    expect(errs.map((e) => ('annotation' in e ? e.annotation : '')).sort()).toEqual(
      [
        'scheme',
        'load-balancer-attributes',
        'target-group-attributes',
        'tags',
        'backend-protocol',
        'healthcheck-port',
        'healthcheck-protocol',
        'healthcheck-path',
        'healthcheck-interval-seconds',
        'healthcheck-timeout-seconds',
        'healthy-threshold-count',
        'unhealthy-threshold-count',
        'success-codes',
        'ip-address-type',
        'load-balancer-name',
        'manage-backend-security-group-rules',
      ]
        .map((n) => `${A}${n}`)
        .sort(),
    );
  });

  it('ssl-redirect must point at an HTTPS port of listen-ports; a port twice is an error', () => {
    expect(errors({ [`${A}listen-ports`]: '[{"HTTP": 80}]', [`${A}ssl-redirect`]: '443' }, 'Ingress')[0]?.reason).toBe('port 443 is not an HTTPS port of alb.ingress.kubernetes.io/listen-ports');
    expect(errors({ [`${A}listen-ports`]: '[{"HTTP": 80}, {"HTTPS": 80}]' }, 'Ingress')[0]?.reason).toBe('port 80 is listed twice');
  });
});

describe('through the Service model builder', () => {
  const node: V1Node = {
    metadata: { name: 'n1', labels: { 'topology.kubernetes.io/zone': 'us-east-1a' } },
    spec: { providerID: 'aws:///us-east-1a/i-0aaa' },
    status: { conditions: [{ type: 'Ready', status: 'True' }] },
  };
  const service = (annotations: Record<string, string>): V1Service => ({
    metadata: { namespace: 'shop', name: 'web', uid: 'u1', annotations },
    spec: { type: 'LoadBalancer', ports: [{ port: 80, targetPort: 8080, nodePort: 30080, protocol: 'TCP' }] },
  });

  it('the provider options land in the spec and nlb-target-type picks the target type', () => {
    const r = buildServiceModel({
      service: service({ [`${S}nlb-target-type`]: 'ip', [`${S}scheme`]: 'internet-facing' }),
      nodes: [node],
      endpointSlices: [],
      provider: provider(),
      className: 'lbc.dev/aws',
      clusterName: 'prod',
    });
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
    expect(r.targetType).toBe('ip');
    expect(r.spec.providerOptions).toMatchObject({ kind: 'Service', scheme: 'internet-facing' });
  });

  it('a bad annotation stops the builder with an error naming it: nothing reaches the provider', () => {
    const r = buildServiceModel({
      service: service({ [`${S}healthcheck-interval`]: 'often' }),
      nodes: [node],
      endpointSlices: [],
      provider: provider(),
      className: 'lbc.dev/aws',
      clusterName: 'prod',
    });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors).toEqual([{ annotation: `${S}healthcheck-interval`, reason: '"often" is not an integer' }]);
  });
});
