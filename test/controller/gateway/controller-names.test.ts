// aws-load-balancer-controller's GatewayClasses served by lbc's aws provider: which classes
// are lbc's (its own controllerName, and gateway.k8s.aws/alb and gateway.k8s.aws/nlb as
// pkg/gateway/constants/controller_constants.go names them), which provider serves them,
// what each publishes in supportedFeatures, and the Gateway builder refusing a listener of
// the other kind as ALBC's routeutils/listener_utils.go validateListeners does
// (UnsupportedProtocol) before anything reaches the provider.
import { describe, expect, it } from 'vitest';
import { validateConfig, ConfigError } from '../../../src/config/config.js';
import { checkCompatibleControllerNames, gatewayControllers } from '../../../src/controller/gateway/controller-names.js';
import { classFeatures, gatewayClassStatus, isOurGatewayClass, parameterReaders, providerOfGatewayClass } from '../../../src/controller/gateway/gateway-class.js';
import type { GatewayClass } from '../../../src/kube/gateway-api.js';
import { AwsProvider } from '../../../src/providers/aws/provider.js';
import { awsOptionsSchema } from '../../../src/providers/aws/options.js';
import { fakeClients } from '../../providers/aws/support.js';
import { gatewaysOfRoute } from '../../../src/controller/gateway/routes.js';
import { build, gateway, httpListener, httpRoute, INFRA, listenerConditions, parent, routeConditions } from './fixtures.js';

const ALB = 'gateway.k8s.aws/alb';
const NLB = 'gateway.k8s.aws/nlb';
const OWN = 'lbc.dev/gateway-controller';

const aws = (name = 'aws'): AwsProvider =>
  new AwsProvider({ name, clusterName: 'test', options: awsOptionsSchema.parse({ region: 'us-east-1', vpcId: 'vpc-1' }), clients: fakeClients(), logger: { warn: () => undefined } });
const memory = { name: 'mem', capabilities: { layers: ['L4', 'L7', 'Gateway'] as const } };

const config = (over: object = {}) =>
  validateConfig({ clusterName: 'test', providers: [{ name: 'aws', type: 'aws', options: { region: 'us-east-1', vpcId: 'vpc-1' } }, { name: 'mem', type: 'memory' }], defaultClass: 'lbc.dev/mem', ...over });

const gc = (name: string, controllerName: string, parametersRef?: NonNullable<GatewayClass['spec']>['parametersRef']): GatewayClass => ({
  metadata: { name, generation: 1 },
  spec: { controllerName, ...(parametersRef ? { parametersRef } : {}) },
});

describe('gatewayControllers: the controllerNames lbc serves', () => {
  it('by default its own and every name a configured provider declares: ALBC users keep their classes as written', () => {
    const c = gatewayControllers(config(), [aws(), memory]);
    expect(c.names).toEqual([OWN, ALB, NLB]);
    expect(isOurGatewayClass(gc('aws-alb-gateway-class', ALB), c)).toBe(true);
    expect(isOurGatewayClass(gc('aws-nlb-gateway-class', NLB), c)).toBe(true);
    expect(isOurGatewayClass(gc('lbc', OWN), c)).toBe(true);
    // Another controller's class is never lbc's.
    expect(isOurGatewayClass(gc('istio', 'istio.io/gateway-controller'), c)).toBe(false);
  });

  it('without an aws provider nothing but its own: the memory provider replaces no controller', () => {
    const c = gatewayControllers(validateConfig({ clusterName: 'test', providers: [{ name: 'mem', type: 'memory' }] }), [memory]);
    expect(c.names).toEqual([OWN]);
    expect(isOurGatewayClass(gc('aws-alb-gateway-class', ALB), c)).toBe(false);
  });

  it('gateway.compatibleControllerNames narrows them, and [] leaves ALBC its classes (a cluster still running it)', () => {
    expect(gatewayControllers(config({ gateway: { compatibleControllerNames: [ALB] } }), [aws()]).names).toEqual([OWN, ALB]);
    const none = gatewayControllers(config({ gateway: { compatibleControllerNames: [] } }), [aws()]);
    expect(none.names).toEqual([OWN]);
    expect(isOurGatewayClass(gc('aws-alb-gateway-class', ALB), none)).toBe(false);
    expect(none.compatible(ALB)).toBeUndefined();
  });

  it('a name no configured provider declares stops run and plan with the key named; lbc\'s own name there is refused by the schema', () => {
    const cfg = validateConfig({ clusterName: 'test', providers: [{ name: 'mem', type: 'memory' }], gateway: { compatibleControllerNames: [ALB] } });
    expect(() => checkCompatibleControllerNames(cfg, [memory], 'lbc.yaml')).toThrow(ConfigError);
    expect(() => checkCompatibleControllerNames(cfg, [memory], 'lbc.yaml')).toThrow(/gateway\.compatibleControllerNames\[0\]: no configured provider serves GatewayClasses of gateway\.k8s\.aws\/alb/);
    expect(() => checkCompatibleControllerNames(config({ gateway: { compatibleControllerNames: [ALB, NLB] } }), [aws()])).not.toThrow();
    expect(() => config({ gateway: { compatibleControllerNames: [OWN] } })).toThrow(/gateway\.compatibleControllerNames: must not name gateway\.controllerName/);
    expect(() => config({ gateway: { compatibleControllerNames: [ALB, ALB] } })).toThrow(/must not name a controllerName twice/);
  });
});

describe('providerOfGatewayClass and supportedFeatures for ALBC\'s classes', () => {
  const providers = [aws(), memory];
  const c = gatewayControllers(config(), providers);
  const readers = parameterReaders(providers);
  const statusOf = (cls: GatewayClass) => {
    const owner = providerOfGatewayClass(cls, config(), readers, c);
    return { owner, status: gatewayClassStatus(cls, owner, classFeatures(owner, owner.ok ? providers.find((p) => p.name === owner.provider) : undefined)) };
  };

  it('an ALB class is the aws provider\'s even though the defaultClass is memory\'s, and publishes ALB features only', () => {
    const { owner, status } = statusOf(gc('aws-alb-gateway-class', ALB));
    expect(owner).toMatchObject({ ok: true, provider: 'aws' });
    expect(status.conditions[0]).toMatchObject({ type: 'Accepted', status: 'True', reason: 'Accepted' });
    const names = status.supportedFeatures.map((f) => f.name);
    expect(names).toEqual(expect.arrayContaining(['Gateway', 'HTTPRoute', 'GRPCRoute', 'ReferenceGrant', 'HTTPRouteMethodMatching']));
    expect(names).not.toContain('TCPRoute');
    expect(names).not.toContain('UDPRoute');
    expect(names).not.toContain('TLSRoute');
  });

  it('an NLB class publishes TCP, UDP and TLS routes and no HTTP ones; lbc\'s own aws class publishes both', () => {
    const nlb = statusOf(gc('aws-nlb-gateway-class', NLB)).status.supportedFeatures.map((f) => f.name);
    expect(nlb).toEqual(['Gateway', 'ReferenceGrant', 'TCPRoute', 'TLSRoute', 'TLSRouteModeTerminate', 'UDPRoute']);
    const own = statusOf(gc('lbc-aws', OWN, { group: 'lbc.dev', kind: 'Provider', name: 'aws' })).status.supportedFeatures.map((f) => f.name);
    expect(own).toEqual(expect.arrayContaining(['HTTPRoute', 'GRPCRoute', 'TCPRoute', 'UDPRoute', 'TLSRoute']));
  });

  it('an ALB class naming a LoadBalancerConfiguration keeps it; naming a provider that does not serve ALBC\'s classes is InvalidParameters', () => {
    const lbc = statusOf(gc('aws-alb-gateway-class', ALB, { group: 'gateway.k8s.aws', kind: 'LoadBalancerConfiguration', name: 'platform', namespace: 'infra' }));
    expect(lbc.owner).toMatchObject({ ok: true, provider: 'aws', parametersRef: { kind: 'LoadBalancerConfiguration', name: 'platform', namespace: 'infra' } });
    const wrong = statusOf(gc('aws-alb-gateway-class', ALB, { group: 'lbc.dev', kind: 'Provider', name: 'mem' }));
    expect(wrong.owner).toEqual({ ok: false, message: 'spec.parametersRef.name mem: GatewayClasses of gateway.k8s.aws/alb are served by provider aws' });
    expect(wrong.status.conditions[0]).toMatchObject({ status: 'False', reason: 'InvalidParameters' });
    expect(wrong.status.supportedFeatures).toEqual([]);
  });

  it('two aws providers: the defaultClass\'s serves, else the class must name one', () => {
    const two = [aws('east'), aws('west')];
    const cfg = (defaultClass?: string) =>
      validateConfig({
        clusterName: 'test',
        providers: [
          { name: 'east', type: 'aws', options: { region: 'us-east-1', vpcId: 'vpc-1' } },
          { name: 'west', type: 'aws', options: { region: 'us-west-2', vpcId: 'vpc-2' } },
        ],
        ...(defaultClass ? { defaultClass } : {}),
      });
    const cls = gc('aws-alb-gateway-class', ALB);
    expect(providerOfGatewayClass(cls, cfg('lbc.dev/west'), parameterReaders(two), gatewayControllers(cfg(), two))).toMatchObject({ ok: true, provider: 'west' });
    expect(providerOfGatewayClass(cls, cfg(), parameterReaders(two), gatewayControllers(cfg(), two))).toMatchObject({ ok: false, message: expect.stringMatching(/served by providers east, west.*name one with spec\.parametersRef/) });
    expect(providerOfGatewayClass(gc('x', ALB, { group: 'lbc.dev', kind: 'Provider', name: 'east' }), cfg(), parameterReaders(two), gatewayControllers(cfg(), two))).toMatchObject({ ok: true, provider: 'east' });
  });
});

describe('a Gateway of an ALBC class: listeners of the other kind refused in the builder', () => {
  const awsProvider = aws();
  const albFeatures = { controllerName: ALB, features: gatewayControllers(config(), [awsProvider]).compatible(ALB)?.[0]?.features ?? [] };
  const nlbFeatures = { controllerName: NLB, features: gatewayControllers(config(), [awsProvider]).compatible(NLB)?.[0]?.features ?? [] };
  const toV1 = [{ name: 'infra-backend-v1', port: 8080 }];

  it('gateway.k8s.aws/alb: a TCP listener is Accepted=False UnsupportedProtocol, the HTTP one is served, and nothing of the TCP port reaches the provider', () => {
    const gw = gateway('mixed', [httpListener(), { name: 'db', port: 5432, protocol: 'TCP', allowedRoutes: { namespaces: { from: 'Same' } } }]);
    const r = build({ gateway: gw, provider: awsProvider, classFeatures: albFeatures, routes: { http: [httpRoute('web', { parentRefs: [parent('mixed')], rules: [{ backendRefs: toV1 }] })] } });
    expect(listenerConditions(r, 'db').Accepted).toEqual({ status: 'False', reason: 'UnsupportedProtocol' });
    expect(r.listeners.find((l) => l.name === 'db')?.problem).toBe('Unsupported protocol TCP: GatewayClasses of gateway.k8s.aws/alb serve HTTP, HTTPS listeners only');
    expect(r.listeners.find((l) => l.name === 'db')?.supportedKinds).toEqual([]);
    expect(listenerConditions(r, 'http').Accepted).toEqual({ status: 'True', reason: 'Accepted' });
    expect(r.accepted).toMatchObject({ status: 'True', reason: 'ListenersNotValid' });
    expect(r.spec?.ports.map((p) => `${p.protocol}:${p.port}`)).toEqual(['HTTP:80']);
    expect(routeConditions(r, 'web').Accepted).toEqual({ status: 'True', reason: 'Accepted' });
  });

  it('gateway.k8s.aws/alb with only TCP/TLS/UDP listeners: the Gateway is not Accepted and has no spec (no provider call)', () => {
    const gw = gateway('l4', [
      { name: 'tcp', port: 5432, protocol: 'TCP' },
      { name: 'tls', port: 443, protocol: 'TLS', hostname: 'a.example.com', tls: { mode: 'Passthrough' } },
      { name: 'udp', port: 53, protocol: 'UDP' },
    ]);
    const r = build({ gateway: gw, provider: awsProvider, classFeatures: albFeatures });
    expect(r.spec).toBeUndefined();
    expect(r.accepted).toMatchObject({ status: 'False', reason: 'ListenersNotValid' });
    for (const l of ['tcp', 'tls', 'udp']) expect(listenerConditions(r, l).Accepted).toEqual({ status: 'False', reason: 'UnsupportedProtocol' });
    // The same Gateway on lbc's own aws class is an NLB's: only the class narrows it.
    expect(build({ gateway: gw, provider: awsProvider }).spec?.ports.map((p) => p.protocol)).toEqual(['UDP', 'TLS', 'TCP']);
  });

  it('gateway.k8s.aws/nlb: HTTP and HTTPS listeners refused, a TCPRoute served, an HTTPRoute naming it UnsupportedValue', () => {
    const gw = gateway('nlb', [httpListener(), { name: 'tcp', port: 5432, protocol: 'TCP' }]);
    const r = build({
      gateway: gw,
      provider: awsProvider,
      classFeatures: nlbFeatures,
      services: [{ metadata: { name: 'infra-backend-v1', namespace: INFRA }, spec: { ports: [{ port: 8080 }] } }],
      routes: {
        http: [httpRoute('web', { parentRefs: [parent('nlb')], rules: [{ backendRefs: toV1 }] })],
        tcp: [{ metadata: { name: 'db', namespace: INFRA, creationTimestamp: '2026-01-01T00:00:00Z' as never }, spec: { parentRefs: [parent('nlb')], rules: [{ backendRefs: toV1 }] } }],
      },
    });
    expect(listenerConditions(r, 'http').Accepted).toEqual({ status: 'False', reason: 'UnsupportedProtocol' });
    expect(r.listeners.find((l) => l.name === 'http')?.problem).toBe('Unsupported protocol HTTP: GatewayClasses of gateway.k8s.aws/nlb serve TLS, TCP, UDP listeners only');
    expect(r.spec?.ports.map((p) => `${p.protocol}:${p.port}`)).toEqual(['TCP:5432']);
    expect(routeConditions(r, 'db').Accepted).toEqual({ status: 'True', reason: 'Accepted' });
    expect(routeConditions(r, 'web').Accepted).toEqual({ status: 'False', reason: 'UnsupportedValue' });
    expect(r.routes.find((u) => u.route.name === 'web')?.parents[0]?.conditions[0]?.message).toBe('GatewayClasses of gateway.k8s.aws/nlb do not serve HTTPRoute');
  });
});

describe('gatewaysOfRoute: the Gateways a route is news to', () => {
  it('those it names, and those lbc wrote status for under any name it serves (to clean up), not under a name it does not serve', () => {
    const route = httpRoute('r', { parentRefs: [parent('current')], rules: [] });
    route.status = {
      parents: [
        { parentRef: { name: 'left-alb' }, controllerName: ALB, conditions: [] },
        { parentRef: { name: 'left-own' }, controllerName: OWN, conditions: [] },
        { parentRef: { name: 'istio' }, controllerName: 'istio.io/gateway-controller', conditions: [] },
      ],
    };
    expect(gatewaysOfRoute(route, gatewayControllers(config(), [aws()]).names).sort()).toEqual([`${INFRA}/current`, `${INFRA}/left-alb`, `${INFRA}/left-own`]);
    expect(gatewaysOfRoute(route, gatewayControllers(config({ gateway: { compatibleControllerNames: [] } }), [aws()]).names).sort()).toEqual([`${INFRA}/current`, `${INFRA}/left-own`]);
  });
});
