// alb.ingress.kubernetes.io/actions.<name> and conditions.<name>, from the Ingress (the
// model builder with the AWS provider's own annotation parser) to the listener rules
// the real SDK clients send to the stateful fake.
import type { V1Ingress } from '@kubernetes/client-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildIngressModel } from '../../../src/controller/ingress-model.js';
import type { L7Spec } from '../../../src/model/spec.js';
import type { ModelError } from '../../../src/model/validation.js';
import type { AwsLbOptions } from '../../../src/providers/aws/annotations.js';
import { ingress, node, service, slice } from '../../controller/fixtures.js';
import type { FakeAws } from './fake-aws.js';
import { CLUSTER, provider, seededFake } from './support.js';

const A = 'alb.ingress.kubernetes.io/';
const services = [
  service('web', { type: 'NodePort', ports: [{ name: 'http', port: 80, targetPort: 8080, nodePort: 30080 }] }),
  service('api', { type: 'NodePort', ports: [{ name: 'http', port: 8080, nodePort: 30081 }] }),
];
const nodes = [node('n1', { providerID: 'aws:///us-east-1a/i-0aaa' }), node('n2', { providerID: 'aws:///us-east-1b/i-0bbb' })];
const backend = (name: string, port: number | string) => ({ service: { name, port: typeof port === 'number' ? { number: port } : { name: port } } });
const path = (p: string, svc: string, port: number | string) => ({ path: p, pathType: 'Prefix', backend: backend(svc, port) });

const canary = JSON.stringify({
  type: 'forward',
  forwardConfig: {
    targetGroups: [
      { serviceName: 'web', servicePort: '80', weight: 80 },
      { serviceName: 'api', servicePort: 8080, weight: 20 },
    ],
    targetGroupStickinessConfig: { enabled: true, durationSeconds: 300 },
  },
});
const moved = JSON.stringify({ type: 'redirect', redirectConfig: { protocol: 'HTTPS', port: '443', path: '/new', statusCode: 'HTTP_301' } });
const gone = JSON.stringify({ type: 'fixed-response', fixedResponseConfig: { contentType: 'text/plain', statusCode: '410', messageBody: 'gone' } });
const betaOnly = JSON.stringify([
  { field: 'http-header', httpHeaderConfig: { httpHeaderName: 'X-Beta', values: ['1'] } },
  { field: 'http-request-method', httpRequestMethodConfig: { values: ['GET', 'HEAD'] } },
  { field: 'query-string', queryStringConfig: { values: [{ key: 'v', value: '2' }] } },
  { field: 'source-ip', sourceIpConfig: { values: ['10.0.0.0/8'] } },
]);

function site(extra: Record<string, string> = {}): V1Ingress {
  return ingress(
    'site',
    {
      rules: [
        {
          host: 'shop.example.com',
          http: { paths: [path('/api', 'api', 8080), path('/canary', 'canary', 'use-annotation'), path('/old', 'moved', 'use-annotation'), path('/', 'web', 80)] },
        },
      ],
      defaultBackend: backend('gone', 'use-annotation'),
    },
    {
      [`${A}scheme`]: 'internet-facing',
      [`${A}actions.canary`]: canary,
      [`${A}actions.moved`]: moved,
      [`${A}actions.gone`]: gone,
      [`${A}conditions.api`]: betaOnly,
      ...extra,
    },
  );
}

function build(ings: V1Ingress[]): { ok: true; spec: L7Spec<AwsLbOptions> } | { ok: false; errors: readonly ModelError[] } {
  const r = buildIngressModel({ ingresses: ings, services, endpointSlices: [slice('web', [{ port: 8080 }], [{ ip: '10.1.0.2' }])], secrets: [], nodes, provider: provider(), className: 'lbc.dev/aws', clusterName: CLUSTER });
  if (r.ok) return { ok: true, spec: r.spec as L7Spec<AwsLbOptions> };
  if (r.reason !== 'invalid') throw new Error(`unexpected ${r.reason}`);
  return { ok: false, errors: r.errors };
}

let fake: FakeAws;
beforeEach(() => {
  fake = seededFake();
});
afterEach(() => fake.uninstall());

const tgArnOf = (port: number): string => [...fake.tgs.values()].find((t) => t.port === port)?.arn ?? '';

describe('ALB actions and conditions', () => {
  it('use-annotation backends become action rules in the Ingress order; conditions apply to their backend', async () => {
    const b = build([site()]);
    if (!b.ok) throw new Error(JSON.stringify(b.errors));
    expect(b.spec.actionRules?.map((r) => [r.action, r.path, r.before])).toEqual([
      ['canary', '/canary', 1],
      ['moved', '/old', 1],
    ]);
    expect(b.spec.defaultAction).toBe('gone');
    expect(b.spec.targetSets.map((t) => t.name).sort()).toEqual(['default/api:8080', 'default/web:80']);

    const p = provider();
    await p.ensure(b.spec);
    const rules = [...fake.rules.values()].sort((x, y) => x.priority - y.priority);
    expect(rules.map((r) => [r.priority, r.conditions.find((c) => c.field === 'path-pattern')?.values.join(' '), r.actions[0]?.type])).toEqual([
      [1, '/api /api/*', 'forward'],
      [2, '/canary /canary/*', 'forward'],
      [3, '/old /old/*', 'redirect'],
      [4, '/*', 'forward'],
    ]);
    // conditions.api: header, method, query string and source address, next to host and path.
    expect(rules[0]?.conditions.map((c) => c.field).sort()).toEqual(['host-header', 'http-header', 'http-request-method', 'path-pattern', 'query-string', 'source-ip']);
    const create = fake.all('CreateRule')[0]?.params ?? {};
    expect(create).toMatchObject({
      'Conditions.member.3.Field': 'http-header',
      'Conditions.member.3.HttpHeaderConfig.HttpHeaderName': 'X-Beta',
      'Conditions.member.5.QueryStringConfig.Values.member.1.Key': 'v',
    });
    // The canary: both groups with their weights, sticky.
    expect(rules[1]?.actions[0]?.weighted).toEqual([
      { arn: tgArnOf(30080), weight: 80 },
      { arn: tgArnOf(30081), weight: 20 },
    ]);
    expect(rules[1]?.actions[0]?.stickiness).toBe(300);
    expect(rules[2]?.actions[0]?.redirect).toMatchObject({ Protocol: 'HTTPS', Port: '443', Path: '/new', StatusCode: 'HTTP_301' });
    const listener = [...fake.listeners.values()][0];
    expect(listener?.defaultActions[0]).toMatchObject({ type: 'fixed-response', fixed: { StatusCode: '410', MessageBody: 'gone', ContentType: 'text/plain' } });

    // Nothing changed: only reads; the plan is empty.
    fake.resetLog();
    await p.ensure(b.spec);
    expect(fake.writes()).toEqual([]);
    expect(await p.plan(b.spec)).toEqual([]);

    // A weight change is one ModifyRule.
    const shifted = build([site({ [`${A}actions.canary`]: canary.replace('"weight":80', '"weight":50').replace('"weight":20', '"weight":50') })]);
    if (!shifted.ok) throw new Error('expected a spec');
    fake.resetLog();
    await p.ensure(shifted.spec);
    expect(fake.writes().map((w) => w.action)).toEqual(['ModifyRule']);

    await p.delete(b.spec.ref);
    expect(fake.taggedFor(CLUSTER)).toEqual([]);
  });

  it('a use-annotation backend without its actions annotation stops at the builder, naming the annotation', () => {
    const ing = site();
    delete ing.metadata?.annotations?.[`${A}actions.moved`];
    const b = build([ing]);
    expect(b.ok).toBe(false);
    expect(!b.ok && b.errors).toContainEqual(
      expect.objectContaining({ field: 'spec.rules[0].http.paths[2].backend.service.name', reason: expect.stringContaining(`no ${A}actions.moved annotation defines it`) }),
    );
  });

  it('bad JSON or an unknown action type stops at the builder with the annotation named; nothing is sent', () => {
    const bad = build([site({ [`${A}actions.canary`]: '{"type":"forward",' })]);
    expect(!bad.ok && bad.errors.map((e) => ('annotation' in e ? e.annotation : ''))).toContain(`${A}actions.canary`);
    const unknown = build([site({ [`${A}actions.moved`]: JSON.stringify({ type: 'authenticate-oidc' }) })]);
    expect(!unknown.ok && unknown.errors.map((e) => ('annotation' in e ? e.annotation : ''))).toContain(`${A}actions.moved`);
    const cond = build([site({ [`${A}conditions.api`]: JSON.stringify([{ field: 'cookie' }]) })]);
    expect(!cond.ok && cond.errors.map((e) => ('annotation' in e ? e.annotation : ''))).toContain(`${A}conditions.api`);
    expect(fake.requests).toEqual([]);
  });

  it('a forward to a Service that does not exist stops at the builder, naming the Service and the annotation; nothing is sent', () => {
    const b = build([site({ [`${A}actions.canary`]: JSON.stringify({ type: 'forward', forwardConfig: { targetGroups: [{ serviceName: 'other', servicePort: 80 }] } }) })]);
    expect(b.ok).toBe(false);
    expect(!b.ok && b.errors).toContainEqual(
      expect.objectContaining({
        field: `metadata.annotations[${A}actions.canary].forwardConfig.targetGroups[0].service.name`,
        object: 'Ingress default/site',
        reason: 'Service default/other does not exist',
      }),
    );
    expect(fake.requests).toEqual([]);
  });

  it('a host-header condition on a rule that already has an Ingress host is refused (ALB takes one per rule)', async () => {
    const b = build([site({ [`${A}conditions.web`]: JSON.stringify([{ field: 'host-header', hostHeaderConfig: { values: ['other.example.com'] } }]) })]);
    if (!b.ok) throw new Error(JSON.stringify(b.errors));
    await expect(provider().ensure(b.spec)).rejects.toThrow(/conditions\.web: host-header on a rule whose Ingress host is already shop\.example\.com/);
    expect(fake.writes()).toEqual([]);
  });

  describe('canary: forward to Services no rule names', () => {
    const v1 = service('web-v1', { type: 'NodePort', ports: [{ name: 'http', port: 80, targetPort: 8080, nodePort: 30101 }] });
    const v2 = service('web-v2', { type: 'NodePort', ports: [{ name: 'http', port: 80, targetPort: 8080, nodePort: 30102 }] });
    const split = (w1: number, w2: number, port2: number | string = 80): string =>
      JSON.stringify({ type: 'forward', forwardConfig: { targetGroups: [{ serviceName: 'web-v1', servicePort: '80', weight: w1 }, { serviceName: 'web-v2', servicePort: port2, weight: w2 }] } });
    const canaryIngress = (action: string): V1Ingress =>
      ingress('canary', { rules: [{ http: { paths: [path('/', 'canary-split', 'use-annotation')] } }] }, { [`${A}scheme`]: 'internet-facing', [`${A}actions.canary-split`]: action });
    const buildCanary = (action: string, svcs = [v1, v2]) =>
      buildIngressModel({ ingresses: [canaryIngress(action)], services: svcs, endpointSlices: [], secrets: [], nodes, provider: provider(), className: 'lbc.dev/aws', clusterName: CLUSTER });

    it('the builder makes a target set per forwarded Service, port by number, numeric string or name', () => {
      for (const port2 of [80, 'http']) {
        const r = buildCanary(split(90, 10, port2));
        if (!r.ok) throw new Error(JSON.stringify(r));
        expect(r.spec.targetSets.map((t) => [t.name, t.type, t.type === 'instance' ? t.nodePort : undefined])).toEqual([
          ['default/web-v1:80', 'instance', 30101],
          ['default/web-v2:80', 'instance', 30102],
        ]);
        expect(r.spec.actionTargetSets).toEqual({ 'canary-split': { 'web-v1:80': 'default/web-v1:80', [`web-v2:${port2}`]: 'default/web-v2:80' } });
        expect(r.backends.map((d) => d.via)).toEqual(['nodePort', 'nodePort']);
      }
    });

    it('a ClusterIP Service an action names is an error under the default instance target type (ALBC model_build_target_group.go), ip targets with target-type ip, as a rule backend', () => {
      const clusterIp = service('web-v2', { type: 'ClusterIP', ports: [{ name: 'http', port: 80, targetPort: 8080 }] });
      const slices = [slice('web-v2', [{ name: 'http', port: 8080 }], [{ ip: '10.1.0.7' }])];
      const run = (ing: V1Ingress) =>
        buildIngressModel({ ingresses: [ing], services: [v1, clusterIp], endpointSlices: slices, secrets: [], nodes, provider: provider(), className: 'lbc.dev/aws', clusterName: CLUSTER });
      const instance = run(canaryIngress(split(90, 10)));
      expect(!instance.ok && instance.reason === 'invalid' && instance.errors.map((e) => [e.object, e.reason])).toEqual([
        ['Service default/web-v2', expect.stringContaining("TargetGroup port is empty. When using Instance targets, your service must be of type 'NodePort' or 'LoadBalancer'")],
      ]);

      const asIp = canaryIngress(split(90, 10));
      asIp.metadata = { ...asIp.metadata, annotations: { ...asIp.metadata?.annotations, [`${A}target-type`]: 'ip' } };
      const ip = run(asIp);
      if (!ip.ok) throw new Error(JSON.stringify(ip));
      expect(ip.backends.map((d) => [d.key, d.via])).toEqual([
        ['default/web-v1:80', 'endpoints'],
        ['default/web-v2:80', 'endpoints'],
      ]);
      expect(ip.spec.targetSets.find((t) => t.name === 'default/web-v2:80')?.targets).toEqual([{ ip: '10.1.0.7', port: 8080 }]);
    });

    it('a missing Service or port is an error naming it', () => {
      const missing = buildCanary(split(90, 10), [v1]);
      expect(!missing.ok && missing.reason === 'invalid' && missing.errors.map((e) => e.reason)).toEqual(['Service default/web-v2 does not exist']);
      const noPort = buildCanary(split(90, 10, 'grpc'));
      expect(!noPort.ok && noPort.reason === 'invalid' && noPort.errors.map((e) => e.reason)).toEqual(['Service default/web-v2 has no port grpc']);
    });

    it('creates two target groups weighted 90/10; a weight change is one ModifyRule', async () => {
      const first = buildCanary(split(90, 10));
      if (!first.ok) throw new Error(JSON.stringify(first));
      const p = provider();
      await p.ensure(first.spec);
      expect([...fake.tgs.values()].map((t) => t.port).sort()).toEqual([30101, 30102]);
      const rules = [...fake.rules.values()];
      expect(rules.map((r) => r.actions[0]?.weighted)).toEqual([
        [
          { arn: tgArnOf(30101), weight: 90 },
          { arn: tgArnOf(30102), weight: 10 },
        ],
      ]);

      const shifted = buildCanary(split(50, 50, 'http'));
      if (!shifted.ok) throw new Error(JSON.stringify(shifted));
      fake.resetLog();
      await p.ensure(shifted.spec);
      expect(fake.writes().map((w) => w.action)).toEqual(['ModifyRule']);
      expect([...fake.rules.values()].map((r) => r.actions[0]?.weighted?.map((w) => w.weight))).toEqual([[50, 50]]);

      await p.delete(first.spec.ref);
      expect(fake.taggedFor(CLUSTER)).toEqual([]);
    });
  });
});
