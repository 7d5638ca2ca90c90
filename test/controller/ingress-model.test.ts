import type { V1Ingress, V1IngressSpec } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { buildIngressModel, ingressGroupOf, matchRoute, type IngressModelInput } from '../../src/controller/ingress-model.js';
import type { L7Spec } from '../../src/model/spec.js';
import type { ModelError } from '../../src/model/validation.js';
import { MemoryProvider } from '../../src/providers/memory/index.js';
import { CERT_PEM, KEY_PEM, ingress, modelProvider, node, service, slice, tlsSecret } from './fixtures.js';

const svcNodePort = service('web', { type: 'NodePort', ports: [{ name: 'http', port: 80, targetPort: 8080, nodePort: 30080 }] });
const svcClusterIp = service('api', { type: 'ClusterIP', ports: [{ name: 'http', port: 8080, targetPort: 'http' }, { name: 'admin', port: 9000 }] });
const svcLb = service('shop', { type: 'LoadBalancer', ports: [{ port: 443, targetPort: 8443, nodePort: 31443 }] });
const svcUdp = service('dns', { type: 'ClusterIP', ports: [{ port: 53, protocol: 'UDP' }] });
const services = [svcNodePort, svcClusterIp, svcLb, svcUdp];
const slices = [slice('api', [{ name: 'http', port: 3000 }, { name: 'admin', port: 9000 }], [{ ip: '10.1.0.2' }, { ip: '10.1.0.1' }, { ip: '10.1.0.9', ready: false }])];
const nodes = [node('n1')];

const backend = (name: string, port: number | string) => ({ service: { name, port: typeof port === 'number' ? { number: port } : { name: port } } });
const path = (p: string, svc: string, port: number | string, pathType = 'Prefix') => ({ path: p, pathType, backend: backend(svc, port) });

function input(ingresses: V1Ingress[], over: Partial<IngressModelInput> = {}): IngressModelInput {
  return { ingresses, services, endpointSlices: slices, secrets: [tlsSecret('site-tls')], nodes, provider: modelProvider(), className: 'lbc', clusterName: 'test', ...over };
}

function spec(ingresses: V1Ingress[], over: Partial<IngressModelInput> = {}): L7Spec {
  const r = buildIngressModel(input(ingresses, over));
  if (!r.ok) throw new Error(`expected a spec, got ${JSON.stringify(r)}`);
  return r.spec;
}

function errors(ingresses: V1Ingress[], over: Partial<IngressModelInput> = {}): readonly ModelError[] {
  const r = buildIngressModel(input(ingresses, over));
  if (r.ok || r.reason !== 'invalid') throw new Error(`expected errors, got ${JSON.stringify(r)}`);
  return r.errors;
}

const site = (extra: Partial<V1IngressSpec> = {}, annotations?: Record<string, string>, name = 'site') =>
  ingress(
    name,
    {
      rules: [
        { host: 'shop.example.com', http: { paths: [path('/', 'web', 80), path('/api', 'api', 'http', 'Exact')] } },
        { http: { paths: [path('/static', 'shop', 443, 'ImplementationSpecific')] } },
      ],
      ...extra,
    },
    annotations,
  );

describe('buildIngressModel: one Ingress', () => {
  it('builds rules, an HTTP listener and one target set per backend port', () => {
    const s = spec([site()]);
    expect(s.layer).toBe('L7');
    expect(s.ref).toEqual({ kind: 'Ingress', namespace: 'default', name: 'site', uid: 'uid-default-site' });
    expect(s.listeners).toEqual([{ protocol: 'HTTP', port: 80 }]);
    expect(s.rules).toEqual([
      { host: 'shop.example.com', path: '/', pathType: 'Prefix', targetSet: 'default/web:80', source: 'default/site' },
      { host: 'shop.example.com', path: '/api', pathType: 'Exact', targetSet: 'default/api:8080', source: 'default/site' },
      { path: '/static', pathType: 'ImplementationSpecific', targetSet: 'default/shop:443', source: 'default/site' },
    ]);
    expect(s.defaultBackend).toBeUndefined();
    expect(s.targetSets.map((t) => [t.name, t.type, t.protocol])).toEqual([
      ['default/api:8080', 'ip', 'HTTP'],
      ['default/shop:443', 'instance', 'HTTP'],
      ['default/web:80', 'instance', 'HTTP'],
    ]);
    expect(s.targetSets[0]?.healthCheck).toEqual({ protocol: 'HTTP', port: 'traffic-port', path: '/', intervalSeconds: 10, timeoutSeconds: 5, healthyThreshold: 2, unhealthyThreshold: 3 });
    expect(s.tags).toMatchObject({ 'lbc.dev/cluster': 'test', 'lbc.dev/owner-kind': 'Ingress', 'lbc.dev/owner-uid': 'uid-default-site' });
  });

  it('resolves a port name through the Service, and takes only ready endpoints', () => {
    const ts = spec([site()]).targetSets.find((t) => t.name === 'default/api:8080');
    expect(ts).toMatchObject({
      type: 'ip',
      port: 'http',
      targets: [
        { ip: '10.1.0.1', port: 3000 },
        { ip: '10.1.0.2', port: 3000 },
      ],
      backend: { namespace: 'default', service: 'api', port: 8080 },
    });
  });

  it('takes the default backend, and a default backend alone is enough', () => {
    const s = spec([ingress('d', { defaultBackend: backend('web', 'http') })]);
    expect(s.defaultBackend).toBe('default/web:80');
    expect(s.rules).toEqual([]);
    expect(s.targetSets.map((t) => t.name)).toEqual(['default/web:80']);
  });

  it('treats a missing ImplementationSpecific path as /', () => {
    const s = spec([ingress('i', { rules: [{ http: { paths: [{ pathType: 'ImplementationSpecific', backend: backend('web', 80) }] } }] })]);
    expect(s.rules[0]).toMatchObject({ path: '/', pathType: 'ImplementationSpecific' });
  });

  it('refuses an Ingress with nothing to route', () => {
    expect(errors([ingress('e', { rules: [{ host: 'a.example.com' }] })])).toEqual([
      { field: 'spec', object: 'Ingress default/e', reason: 'no rule has a path and there is no defaultBackend: nothing to route' },
    ]);
  });

  it('names bad backends', () => {
    const bad = ingress('b', {
      rules: [
        {
          http: {
            paths: [
              path('/a', 'missing', 80),
              path('/b', 'web', 81),
              path('/c', 'web', 'grpc'),
              path('/d', 'dns', 53),
              { path: '/e', pathType: 'Prefix', backend: { resource: { kind: 'Bucket', name: 'x' } } },
              path('/f', 'web', 80, 'Regex'),
              path('g', 'web', 80),
            ],
          },
        },
      ],
    });
    expect(errors([bad])).toEqual([
      { field: 'spec.rules[0].http.paths[0].backend.service.name', object: 'Ingress default/b', reason: 'Service default/missing does not exist' },
      { field: 'spec.rules[0].http.paths[1].backend.service.port', object: 'Ingress default/b', reason: 'Service default/web has no port 81' },
      { field: 'spec.rules[0].http.paths[2].backend.service.port', object: 'Ingress default/b', reason: 'Service default/web has no port grpc' },
      { field: 'spec.rules[0].http.paths[3].backend.service.port', object: 'Ingress default/b', reason: 'Service port 53 is UDP; HTTP needs TCP' },
      { field: 'spec.rules[0].http.paths[4].backend', object: 'Ingress default/b', reason: 'only Service backends are supported (resource backends are not)' },
      { field: 'spec.rules[0].http.paths[5].pathType', object: 'Ingress default/b', reason: '"Regex" is not one of Exact, Prefix, ImplementationSpecific' },
      { field: 'spec.rules[0].http.paths[6].path', object: 'Ingress default/b', reason: '"g" must start with /' },
    ]);
  });

  it('refuses a bad host and a provider without L7', () => {
    expect(errors([ingress('h', { rules: [{ host: 'a.*.com', http: { paths: [path('/', 'web', 80)] } }] })])).toEqual([
      { field: 'spec.rules[0].host', object: 'Ingress default/h', reason: '"a.*.com" is not a host name or *.wildcard' },
    ]);
    expect(errors([site()], { provider: modelProvider(['instance'], ['L4']) })).toContainEqual({
      field: 'spec.ingressClassName',
      object: 'Ingress default/site',
      reason: 'provider test does not serve Ingresses (no L7 support)',
    });
  });

  it('accepts wildcard hosts and lower-cases hosts', () => {
    const s = spec([ingress('w', { rules: [{ host: '*.Example.com', http: { paths: [path('/', 'web', 80)] } }] })]);
    expect(s.rules[0]?.host).toBe('*.example.com');
  });
});

describe('buildIngressModel: TLS', () => {
  it('adds HTTPS 443 with the certificate from the Secret', () => {
    const s = spec([site({ tls: [{ hosts: ['shop.example.com'], secretName: 'site-tls' }, { hosts: ['www.example.com'], secretName: 'site-tls' }] })]);
    expect(s.listeners).toEqual([
      { protocol: 'HTTP', port: 80 },
      {
        protocol: 'HTTPS',
        port: 443,
        certificates: [
          { source: 'secret', secretRef: { namespace: 'default', name: 'site-tls' }, hosts: ['shop.example.com', 'www.example.com'], certPem: CERT_PEM, keyPem: KEY_PEM },
        ],
      },
    ]);
  });

  it('adds provider certificates from lbc.dev/certificate-ids', () => {
    const s = spec([site({}, { 'lbc.dev/certificate-ids': 'arn:aws:acm:eu-west-1:1:certificate/a, cert-b' })]);
    const https = s.listeners.find((l) => l.protocol === 'HTTPS');
    expect(https?.protocol === 'HTTPS' && https.certificates).toEqual([
      { source: 'provider', id: 'arn:aws:acm:eu-west-1:1:certificate/a', hosts: [] },
      { source: 'provider', id: 'cert-b', hosts: [] },
    ]);
  });

  it.each<[string, ReturnType<typeof tlsSecret>[] , string]>([
    ['missing Secret', [], 'Secret default/site-tls does not exist'],
    ['wrong type', [tlsSecret('site-tls', { crt: CERT_PEM, key: KEY_PEM }, 'Opaque')], 'Secret default/site-tls is of type Opaque, not kubernetes.io/tls'],
    ['missing key', [tlsSecret('site-tls', { crt: CERT_PEM })], 'Secret default/site-tls has no tls.key'],
    ['missing both', [tlsSecret('site-tls', {})], 'Secret default/site-tls has no tls.crt and has no tls.key'],
    ['not PEM', [tlsSecret('site-tls', { crt: 'hello', key: KEY_PEM })], 'Secret default/site-tls tls.crt is not PEM (-----BEGIN CERTIFICATE----- not found)'],
    ['Secret in another namespace', [tlsSecret('site-tls', undefined, undefined, 'other')], 'Secret default/site-tls does not exist'],
  ])('names the Secret: %s', (_n, secrets, reason) => {
    expect(errors([site({ tls: [{ secretName: 'site-tls' }] })], { secrets })).toEqual([{ field: 'spec.tls[0].secretName', object: 'Ingress default/site', reason }]);
  });

  it('needs a secretName', () => {
    expect(errors([site({ tls: [{ hosts: ['a'] }] })])).toEqual([
      { field: 'spec.tls[0].secretName', object: 'Ingress default/site', reason: 'is required (lbc has no default certificate)' },
    ]);
  });

  it('a provider that finds certificates by host takes spec.tls hosts without a secretName, as tlsHosts', () => {
    const byHost = { ...modelProvider(), capabilities: { ...modelProvider().capabilities, certificatesByHost: true } };
    const s = spec([site({ tls: [{ hosts: ['WWW.example.com', 'shop.example.com'] }, { hosts: ['api.example.com'], secretName: 'site-tls' }] })], { provider: byHost });
    expect(s.tlsHosts).toEqual(['api.example.com', 'shop.example.com', 'www.example.com']);
    // Only the entry with a Secret makes a certificate.
    expect(s.listeners.find((l) => l.protocol === 'HTTPS')).toMatchObject({ certificates: [{ source: 'secret', hosts: ['api.example.com'] }] });
    expect(spec([site()], { provider: byHost }).tlsHosts).toBeUndefined();
  });
});

describe('buildIngressModel: backend target types', () => {
  const one = (svc: string, port: number | string) => ingress('one', { rules: [{ http: { paths: [path('/', svc, port)] } }] });

  it('NodePort Service: instance on its node port', () => {
    const r = buildIngressModel(input([one('web', 80)]));
    expect(r.ok && r.backends).toEqual([
      { key: 'default/web:80', backend: { namespace: 'default', service: 'web', port: 80 }, targetType: 'instance', via: 'nodePort', reason: "default/web:80: instance targets on the Service's node port 30080" },
    ]);
    expect(r.ok && r.spec.targetSets[0]).toMatchObject({ type: 'instance', nodePort: 30080, targets: [{ name: 'n1' }] });
  });

  it('ClusterIP Service, provider can do ip: ip targets, and says why', () => {
    const r = buildIngressModel(input([one('api', 8080)]));
    expect(r.ok && r.backends[0]).toMatchObject({ targetType: 'ip', via: 'endpoints', reason: 'default/api:8080: ip targets, because the Service is ClusterIP and has no node port' });
  });

  it('ClusterIP Service, instance-only provider: asks for a companion NodePort Service', () => {
    const r = buildIngressModel(input([one('api', 'http')], { provider: modelProvider(['instance']) }));
    expect(r).toMatchObject({
      ok: false,
      reason: 'needsCompanions',
      companions: [{ key: 'default/api:8080', backend: { namespace: 'default', service: 'api', port: 8080 }, servicePort: { name: 'http', port: 8080, targetPort: 'http', protocol: 'TCP' } }],
    });
  });

  it('explicit instance on a ClusterIP Service asks for a companion even when ip is possible', () => {
    const r = buildIngressModel(input([ingress('one', { rules: [{ http: { paths: [path('/', 'api', 8080)] } }] }, { 'lbc.dev/target-type': 'instance' })]));
    expect(r.ok === false && r.reason).toBe('needsCompanions');
  });

  it('uses the companion node port once it exists', () => {
    const r = buildIngressModel(input([one('api', 8080)], { provider: modelProvider(['instance']), companionNodePorts: new Map([['default/api:8080', 31999]]) }));
    expect(r.ok && r.backends[0]).toMatchObject({ targetType: 'instance', via: 'companionNodePort' });
    expect(r.ok && r.spec.targetSets[0]).toMatchObject({ type: 'instance', nodePort: 31999 });
  });

  it('explicit ip uses endpoints even for a NodePort Service', () => {
    const r = buildIngressModel(input([ingress('one', { rules: [{ http: { paths: [path('/', 'web', 80)] } }] }, { 'lbc.dev/target-type': 'ip' })]));
    expect(r.ok && r.backends[0]).toMatchObject({ targetType: 'ip', via: 'endpoints' });
  });

  it('ip-default provider uses endpoints for every backend', () => {
    const s = spec([site()], { provider: modelProvider(['ip', 'instance']) });
    expect(s.targetSets.every((t) => t.type === 'ip')).toBe(true);
  });
});

describe('buildIngressModel: groups', () => {
  const g = (name: string, order: string | undefined, paths: ReturnType<typeof path>[], extra: Record<string, string> = {}, ns = 'default', groupKey = 'lbc.dev/group.name') =>
    ingress(name, { rules: [{ host: 'shop.example.com', http: { paths } }] }, { [groupKey]: 'shop', ...(order !== undefined ? { 'lbc.dev/group.order': order } : {}), ...extra }, ns);

  it('merges members into one spec, rules ordered by group.order then namespace/name', () => {
    const members = [g('zeta', '-1', [path('/z', 'web', 80)]), g('beta', undefined, [path('/b', 'web', 80)]), g('alpha', undefined, [path('/a', 'api', 8080)]), g('first', '-10', [path('/f', 'web', 80)])];
    const s = spec(members);
    expect(s.ref).toEqual({ kind: 'Ingress', namespace: '', name: 'shop', uid: 'ingress-group:shop' });
    expect(s.rules.map((r) => [r.path, r.source])).toEqual([
      ['/f', 'default/first'],
      ['/z', 'default/zeta'],
      ['/a', 'default/alpha'],
      ['/b', 'default/beta'],
    ]);
    expect(JSON.stringify(spec([...members].reverse()))).toBe(JSON.stringify(s));
    expect(s.tags).toMatchObject({ 'lbc.dev/owner-name': 'shop', 'lbc.dev/owner-uid': 'ingress-group:shop' });
  });

  it('groups by the ALB annotation too', () => {
    const r = buildIngressModel(input([g('a', undefined, [path('/a', 'web', 80)]), g('b', undefined, [path('/b', 'web', 80)], {}, 'default', 'alb.ingress.kubernetes.io/group.name')]));
    expect(r.ok && r.group).toEqual({ explicit: true, name: 'shop', key: 'group/shop' });
  });

  it('merges group-wide annotations and refuses conflicting ones, naming both Ingresses', () => {
    const ok = spec([g('a', undefined, [path('/a', 'web', 80)], { 'lbc.dev/load-balancer-source-ranges': '10.0.0.0/8', 'helm.sh/release': 'x' }), g('b', undefined, [path('/b', 'web', 80)], { 'helm.sh/release': 'y' })]);
    expect(ok.sourceRanges).toEqual(['10.0.0.0/8']);
    expect(
      errors([g('a', undefined, [path('/a', 'web', 80)], { 'lbc.dev/load-balancer-source-ranges': '10.0.0.0/8' }), g('b', undefined, [path('/b', 'web', 80)], { 'lbc.dev/load-balancer-source-ranges': '0.0.0.0/0' })]),
    ).toEqual([
      {
        annotation: 'lbc.dev/load-balancer-source-ranges',
        object: 'Ingress default/b',
        reason: 'conflicts within the group: Ingress default/a sets "10.0.0.0/8", this one "0.0.0.0/0"',
      },
    ]);
  });

  it('merges the provider annotations it declares, then parses them once', () => {
    const provider = new MemoryProvider({ clusterName: 'test' });
    const s = spec([g('a', undefined, [path('/a', 'web', 80)], { 'memory.lbc.dev/tier': 'premium' }), g('b', undefined, [path('/b', 'web', 80)])], { provider });
    expect(s.providerOptions).toEqual({ tier: 'premium' });
    expect(errors([g('a', undefined, [path('/a', 'web', 80)], { 'memory.lbc.dev/tier': 'premium' }), g('b', undefined, [path('/b', 'web', 80)], { 'memory.lbc.dev/tier': 'standard' })], { provider })[0]).toMatchObject({
      annotation: 'memory.lbc.dev/tier',
    });
  });

  it('does not treat the legacy class annotation or group.order as group-wide, even under a provider prefix', () => {
    const provider = { ...modelProvider(), capabilities: { ...modelProvider().capabilities, annotationPrefixes: ['kubernetes.io/ingress.'] } };
    const s = spec(
      [
        g('a', '1', [path('/a', 'web', 80)], { 'kubernetes.io/ingress.class': 'alb', 'kubernetes.io/ingress.allow-http': 'false' }),
        g('b', '2', [path('/b', 'web', 80)], { 'kubernetes.io/ingress.class': 'lbc' }),
      ],
      { provider },
    );
    expect(s.rules).toHaveLength(2);
    expect(
      errors([g('a', '1', [path('/a', 'web', 80)], { 'kubernetes.io/ingress.allow-http': 'false' }), g('b', '2', [path('/b', 'web', 80)], { 'kubernetes.io/ingress.allow-http': 'true' })], { provider })[0],
    ).toMatchObject({ annotation: 'kubernetes.io/ingress.allow-http', object: 'Ingress default/b' });
  });

  it('drops an identical duplicate rule and refuses a conflicting one', () => {
    expect(spec([g('a', undefined, [path('/x', 'web', 80)]), g('b', undefined, [path('/x', 'web', 80)])]).rules).toHaveLength(1);
    expect(errors([g('a', undefined, [path('/x', 'web', 80)]), g('b', undefined, [path('/x', 'api', 8080)])])).toEqual([
      { field: 'spec.rules[0].http.paths[0]', object: 'Ingress default/b', reason: 'shop.example.com /x (Prefix) already routes to default/web:80 (from Ingress default/a)' },
    ]);
  });

  it('allows one default backend per group', () => {
    const withDefault = (name: string, svc: string, port: number) => ingress(name, { defaultBackend: backend(svc, port) }, { 'lbc.dev/group.name': 'shop' });
    expect(spec([withDefault('a', 'web', 80), withDefault('b', 'web', 80)]).defaultBackend).toBe('default/web:80');
    expect(errors([withDefault('a', 'web', 80), withDefault('b', 'api', 8080)])).toEqual([
      { field: 'spec.defaultBackend', object: 'Ingress default/b', reason: 'the group already has default backend default/web:80 (from Ingress default/a)' },
    ]);
  });

  it('resolves backends in each member\'s own namespace', () => {
    const other = service('web', { type: 'NodePort', ports: [{ port: 80, nodePort: 30999 }] }, undefined, 'team-b');
    // team-b routes a host of its own: shop.example.com is default's (see ingress/host-claims.test.ts).
    const b = g('b', undefined, [path('/b', 'web', 80)], {}, 'team-b');
    const teamB = { ...b, spec: { rules: [{ host: 'team-b.example.com', http: { paths: [path('/b', 'web', 80)] } }] } };
    const s = spec([g('a', undefined, [path('/a', 'web', 80)]), teamB], { services: [...services, other] });
    expect(s.targetSets.map((t) => [t.name, t.type === 'instance' ? t.nodePort : 0])).toEqual([
      ['default/web:80', 30080],
      ['team-b/web:80', 30999],
    ]);
  });

  it('refuses members of different groups and bad group annotations', () => {
    const other = ingress('x', { defaultBackend: backend('web', 80) }, { 'lbc.dev/group.name': 'other' });
    expect(errors([g('a', undefined, [path('/a', 'web', 80)]), other])).toEqual([
      { field: 'metadata.annotations', object: 'Ingress default/x', reason: 'belongs to group/other, not group/shop' },
    ]);
    const bad = ingress('y', { defaultBackend: backend('web', 80) }, { 'lbc.dev/group.name': 'Shop!', 'lbc.dev/group.order': '5000' });
    expect(errors([bad]).map((e) => 'annotation' in e && e.annotation)).toEqual(['lbc.dev/group.name', 'lbc.dev/group.order']);
  });
});

describe('buildIngressModel: Services an annotation action forwards to', () => {
  // A provider whose actions name Services: the value is a comma list of service:port, so
  // this test exercises the builder alone, not any provider's action format.
  const actionProvider = () => ({
    ...modelProvider(),
    actionServices: (v: string) => v.split(',').map((x) => ({ service: x.split(':')[0] ?? '', port: x.split(':')[1] })),
  });
  const useAction = (name: string, ns = 'default', annotations: Record<string, string> = {}) =>
    ingress(name, { rules: [{ http: { paths: [path(`/${name}`, 'split', 'use-annotation')] } }] }, { 'lbc.dev/group.name': 'g', ...annotations }, ns);

  it('resolves them into target sets like rule backends, whichever member of the group defines the action', () => {
    const defs = ingress('defs', { rules: [{ http: { paths: [path('/web', 'web', 80)] } }] }, { 'lbc.dev/group.name': 'g', 'test.example/actions.split': 'api:admin,shop:443' });
    const s = spec([defs, useAction('site')], { provider: actionProvider() });
    expect(s.targetSets.map((t) => [t.name, t.type])).toEqual([
      ['default/api:9000', 'ip'],
      ['default/shop:443', 'instance'],
      ['default/web:80', 'instance'],
    ]);
    expect(s.actionTargetSets).toEqual({ split: { 'api:admin': 'default/api:9000', 'shop:443': 'default/shop:443' } });
  });

  it('a missing Service is an error naming it and the annotation', () => {
    expect(errors([useAction('site', 'default', { 'test.example/actions.split': 'web:80,gone:80' })], { provider: actionProvider() })).toEqual([
      {
        field: 'metadata.annotations[test.example/actions.split].forwardConfig.targetGroups[1].service.name',
        object: 'Ingress default/site',
        reason: 'Service default/gone does not exist',
      },
    ]);
  });

  it('one action used from two namespaces is refused: its Services would be two different sets', () => {
    const errs = errors([useAction('a', 'default', { 'test.example/actions.split': 'web:80' }), useAction('b', 'other')], { provider: actionProvider(), services: [...services, { ...svcNodePort, metadata: { ...svcNodePort.metadata, namespace: 'other' } }] });
    expect(errs.map((e) => e.reason)).toEqual([expect.stringContaining('Ingresses of namespaces default and other both use it')]);
  });
});

describe('buildIngressModel: everything wrong at once', () => {
  it('reports every error in one result', () => {
    const bad = site({ tls: [{ secretName: 'nope' }], defaultBackend: backend('ghost', 80) }, { 'lbc.dev/target-type': 'node', 'lbc.dev/health-check-path': 'x', 'lbc.dev/tags': 'a' });
    const errs = errors([bad], { secrets: [] });
    expect(errs.map((e) => ('annotation' in e ? e.annotation : e.field))).toEqual([
      'lbc.dev/target-type',
      'lbc.dev/tags',
      'lbc.dev/health-check-path',
      'spec.defaultBackend.service.name',
      'spec.tls[0].secretName',
    ]);
  });
});

describe('ingressGroupOf', () => {
  it.each<[string, Record<string, string> | undefined, unknown]>([
    ['implicit', undefined, { ok: true, group: { explicit: false, namespace: 'default', name: 'i', key: 'ingress/default/i' } }],
    ['lbc.dev', { 'lbc.dev/group.name': 'g1' }, { ok: true, group: { explicit: true, name: 'g1', key: 'group/g1' } }],
    ['alb', { 'alb.ingress.kubernetes.io/group.name': 'g1' }, { ok: true, group: { explicit: true, name: 'g1', key: 'group/g1' } }],
    [
      'conflicting aliases',
      { 'lbc.dev/group.name': 'g1', 'alb.ingress.kubernetes.io/group.name': 'g2' },
      {
        ok: false,
        errors: [
          { annotation: 'lbc.dev/group.name', object: 'Ingress default/i', reason: 'conflicts with alb.ingress.kubernetes.io/group.name, which is set to a different value; set only one' },
        ],
      },
    ],
  ])('%s', (_n, annotations, want) => {
    expect(ingressGroupOf(ingress('i', {}, annotations))).toEqual(want);
  });
});

describe('matchRoute over a built spec', () => {
  it('routes requests the way the Ingress says', () => {
    const s = spec([site({ defaultBackend: backend('web', 80) })]);
    const route = (host: string, p: string) => matchRoute(s.rules, host, p)?.targetSet ?? s.defaultBackend;
    expect(route('shop.example.com', '/api')).toBe('default/api:8080');
    expect(route('shop.example.com', '/api/v1')).toBe('default/web:80');
    expect(route('shop.example.com', '/static/x')).toBe('default/web:80');
    expect(route('other.example.com', '/static/x')).toBe('default/shop:443');
    expect(route('other.example.com', '/nothing')).toBe('default/web:80');
  });
});

describe('buildIngressModel: the provider\'s system default backend (ingress-gce\'s kube-system/default-http-backend)', () => {
  const gceLike = () => {
    const p = modelProvider(['instance']);
    return { ...p, capabilities: { ...p.capabilities, systemDefaultBackend: { namespace: 'kube-system', service: 'default-http-backend', port: 'http' } } };
  };
  // As GKE runs it: NodePort, port 80 named http.
  const defaultHttpBackend = service('default-http-backend', { type: 'NodePort', ports: [{ name: 'http', port: 80, targetPort: 8080, nodePort: 30999 }] }, undefined, 'kube-system');
  const rulesOnly = () => ingress('site', { rules: [{ http: { paths: [path('/', 'web', 80)] } }] });

  it('an Ingress without defaultBackend sends unmatched requests to it, not to a rule\'s application', () => {
    const s = spec([rulesOnly()], { provider: gceLike(), services: [...services, defaultHttpBackend] });
    expect(s.defaultBackend).toBe('kube-system/default-http-backend:80');
    expect(s.targetSets.find((t) => t.name === 'kube-system/default-http-backend:80')).toMatchObject({
      type: 'instance',
      nodePort: 30999,
      backend: { namespace: 'kube-system', service: 'default-http-backend', port: 80 },
    });
  });

  it('the Ingress\'s own defaultBackend wins, and the system one is not resolved', () => {
    const s = spec([ingress('site', { defaultBackend: backend('web', 80), rules: [{ http: { paths: [path('/', 'web', 80)] } }] })], { provider: gceLike(), services });
    expect(s.defaultBackend).toBe('default/web:80');
    expect(s.targetSets.map((t) => t.name)).toEqual(['default/web:80']);
  });

  it('a missing system default backend stops the Ingress with an error naming it, rather than routing unmatched requests to an application', () => {
    const e = errors([rulesOnly()], { provider: gceLike(), services });
    expect(e).toEqual([
      {
        field: 'spec.defaultBackend',
        object: 'Ingress default/site',
        reason:
          'no defaultBackend, and the system default backend kube-system/default-http-backend port http, which answers requests no rule matches with 404, does not exist; set spec.defaultBackend or create it',
      },
    ]);
  });

  it('without the capability nothing changes: no defaultBackend in the spec (the provider answers 404)', () => {
    expect(spec([rulesOnly()], { services: [...services, defaultHttpBackend] }).defaultBackend).toBeUndefined();
  });
});

describe('buildIngressModel: the backend protocol the provider reads from the backend Service', () => {
  const reading = () => {
    const p = modelProvider(['instance']);
    return {
      ...p,
      backendProtocol: (a: Readonly<Record<string, string>>, port: { name?: string; port: number }) =>
        a['x.example/protocols'] === 'bad'
          ? { ok: false as const, errors: [{ annotation: 'x.example/protocols', reason: 'bad value' }] }
          : port.name === 'http' && a['x.example/protocols'] === 'https'
            ? { ok: true as const, protocol: 'HTTPS' as const }
            : { ok: true as const },
    };
  };
  const web = (value: string) => service('web', { type: 'NodePort', ports: [{ name: 'http', port: 80, nodePort: 30080 }] }, { 'x.example/protocols': value });
  const one = () => ingress('site', { defaultBackend: backend('web', 80) });

  it('carries it on the target set (absent: HTTP)', () => {
    expect(spec([one()], { provider: reading(), services: [web('https')] }).targetSets[0]).toMatchObject({ name: 'default/web:80', protocol: 'HTTP', backendProtocol: 'HTTPS' });
    expect(spec([one()], { provider: reading(), services: [web('none')] }).targetSets[0]).not.toHaveProperty('backendProtocol');
  });

  it('a bad value is an error on the Service, not a silent HTTP', () => {
    expect(errors([one()], { provider: reading(), services: [web('bad')] })).toEqual([{ annotation: 'x.example/protocols', reason: 'bad value', object: 'Service default/web' }]);
  });
});
