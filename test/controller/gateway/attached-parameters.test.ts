// Parameters objects a Gateway's routes reach (src/controller/gateway/attached-parameters.ts),
// read as aws-load-balancer-controller v3.5 finds them: a TargetGroupConfiguration by its
// spec.targetReference naming the backend Service in the Service's namespace
// (docs/guide/gateway/targetgroupconfig.md, "Configuration Resolution Order" 1), a
// ListenerRuleConfiguration by a rule's ExtensionRef in the route's namespace
// (docs/guide/gateway/listenerruleconfig.md, "may be attached to Routes within the same
// namespace"). What the provider refuses stops the route (Accepted=False, UnsupportedValue)
// with the object and field named: it is never served without its configuration.
import type { V1Secret } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { ModelProvider } from '../../../src/controller/service-model.js';
import type { GatewayParameterKind, HttpRouteRule } from '../../../src/model/gateway.js';
import { LISTENER_RULE_CONFIGURATION } from '../../../src/providers/aws/listener-rule-configuration.js';
import { TARGET_GROUP_CONFIGURATION } from '../../../src/providers/aws/target-group-configuration.js';
import { provider as awsProvider } from '../../providers/aws/support.js';
import { build, gateway, gatewayProvider, httpListener, httpRoute, INFRA, parent, routeConditions } from './fixtures.js';

const aws = awsProvider();
/** The test provider reading ALBC's two kinds as the aws provider parses them. */
function readingProvider(): ModelProvider {
  const base = gatewayProvider();
  return {
    ...base,
    capabilities: { ...base.capabilities, gatewayBackendParameters: [TARGET_GROUP_CONFIGURATION], gatewayFilterExtensions: [LISTENER_RULE_CONFIGURATION] },
    parseGatewayParameters: (kind: GatewayParameterKind, object: unknown) => aws.parseGatewayParameters(kind, object),
  };
}

const gw = gateway('gw', [httpListener()]);
const tgc = (name: string, service: string, defaultConfiguration: Record<string, unknown>): unknown => ({ metadata: { name, namespace: INFRA }, spec: { targetReference: { name: service }, defaultConfiguration } });
const byTarget = (objects: unknown[]) => (kind: GatewayParameterKind, namespace: string, service: string): unknown[] =>
  kind.kind === TARGET_GROUP_CONFIGURATION.kind
    ? objects.filter((o) => (o as { metadata: { namespace: string } }).metadata.namespace === namespace && (o as { spec: { targetReference: { name: string } } }).spec.targetReference.name === service)
    : [];
const route = (filters: unknown[] = []) =>
  httpRoute('r', { parentRefs: [parent('gw')], rules: [{ backendRefs: [{ name: 'infra-backend-v1', port: 8080 }], ...(filters.length > 0 ? { filters: filters as never } : {}) }] });
const rules = (r: ReturnType<typeof build>): HttpRouteRule[] => r.spec?.ports.flatMap((p) => (p.protocol === 'HTTP' ? p.listeners.flatMap((l) => l.rules) : [])) ?? [];
const message = (r: ReturnType<typeof build>): string | undefined => r.routes.find((x) => x.route.name === 'r')?.parents[0]?.conditions.find((c) => c.type === 'Accepted')?.message;

describe('TargetGroupConfiguration attached to a backend Service (targetgroupconfig.md, TargetReference)', () => {
  it('its parsed configuration rides on the Service\'s target set; a Service it does not target has none', () => {
    const r = build({ gateway: gw, routes: { http: [route()] }, provider: readingProvider(), backendParameters: byTarget([tgc('v1-tg', 'infra-backend-v1', { healthCheckConfig: { healthCheckPath: '/healthz' } }), tgc('v2-tg', 'infra-backend-v2', {})]) });
    expect(routeConditions(r, 'r').Accepted).toEqual({ status: 'True', reason: 'Accepted' });
    expect(r.spec?.targetSets.map((t) => [t.name, t.parameters])).toEqual([
      [`${INFRA}/infra-backend-v1:8080`, { ...TARGET_GROUP_CONFIGURATION, namespace: INFRA, name: 'v1-tg', value: { defaultConfiguration: { healthCheck: { path: '/healthz' } }, routeConfigurations: [] } }],
    ]);
  });

  it('its targetType is an explicit choice: instance targets for a ClusterIP Service ask for a companion NodePort Service, as the target-type annotation does', () => {
    const r = build({ gateway: gw, routes: { http: [route()] }, provider: readingProvider(), backendParameters: byTarget([tgc('v1-tg', 'infra-backend-v1', { targetType: 'instance' })]) });
    expect(r.companions.map((c) => c.key)).toEqual([`${INFRA}/infra-backend-v1:8080`]);
    const ip = build({ gateway: gw, routes: { http: [route()] }, provider: readingProvider(), backendParameters: byTarget([]) });
    expect(ip.spec?.targetSets.map((t) => t.type)).toEqual(['ip']);
  });

  it('a field lbc does not implement refuses the routes of that Service (UnsupportedValue), the object and field named; so do two configurations for one Service', () => {
    const r = build({ gateway: gw, routes: { http: [route()] }, provider: readingProvider(), backendParameters: byTarget([tgc('v1-tg', 'infra-backend-v1', { enableMultiCluster: true })]) });
    expect(routeConditions(r, 'r').Accepted).toEqual({ status: 'False', reason: 'UnsupportedValue' });
    expect(message(r)).toBe(
      `spec.rules[0].backendRefs[0]: TargetGroupConfiguration ${INFRA}/v1-tg (target of Service infra-backend-v1): spec.defaultConfiguration.enableMultiCluster: not implemented by lbc: it deregisters every target of its groups that the Service does not have, so another cluster's targets would not stay`,
    );
    expect(rules(r)).toEqual([]);
    const two = build({ gateway: gw, routes: { http: [route()] }, provider: readingProvider(), backendParameters: byTarget([tgc('a', 'infra-backend-v1', {}), tgc('b', 'infra-backend-v1', {})]) });
    expect(message(two)).toBe(`spec.rules[0].backendRefs[0]: Service ${INFRA}/infra-backend-v1 is the target of more than one parameters object (TargetGroupConfiguration a, b); lbc will not choose`);
  });
});

describe('ListenerRuleConfiguration named by an ExtensionRef filter (listenerruleconfig.md)', () => {
  const ref = (name: string, kind = 'ListenerRuleConfiguration') => ({ type: 'ExtensionRef', extensionRef: { group: 'gateway.k8s.aws', kind, name } });
  const OIDC = { issuer: 'https://idp.example.com', authorizationEndpoint: 'https://idp.example.com/a', tokenEndpoint: 'https://idp.example.com/t', userInfoEndpoint: 'https://idp.example.com/u', secret: { name: 'oidc-client' } };
  const objects: Record<string, unknown> = {
    [`${INFRA}/guard`]: { metadata: { name: 'guard', namespace: INFRA }, spec: { actions: [{ type: 'authenticate-oidc', authenticateOIDCConfig: OIDC }] } },
    [`${INFRA}/jwt`]: { metadata: { name: 'jwt', namespace: INFRA }, spec: { actions: [{ type: 'jwt-validation', jwtValidationConfig: { issuer: 'https://i', jwksEndpoint: 'https://j' } }] } },
  };
  const lookup = (kind: GatewayParameterKind, namespace: string, name: string): unknown => (kind.kind === LISTENER_RULE_CONFIGURATION.kind ? objects[`${namespace}/${name}`] : undefined);
  const secret: V1Secret = { metadata: { name: 'oidc-client', namespace: INFRA }, type: 'Opaque', data: { clientID: Buffer.from('my-client').toString('base64'), clientSecret: Buffer.from('s3cr3t').toString('base64') } };

  it('the rule carries it as an Extension filter, with the Secret its OIDC action names read and decoded', () => {
    const r = build({ gateway: gw, routes: { http: [route([ref('guard')])] }, provider: readingProvider(), parameters: lookup, providerSecrets: (ns, n) => (ns === INFRA && n === 'oidc-client' ? secret : undefined) });
    expect(routeConditions(r, 'r').Accepted).toEqual({ status: 'True', reason: 'Accepted' });
    expect(rules(r)[0]?.filters).toEqual([
      {
        type: 'Extension',
        parameters: { ...LISTENER_RULE_CONFIGURATION, namespace: INFRA, name: 'guard', value: expect.objectContaining({ auth: expect.objectContaining({ type: 'oidc', secretName: 'oidc-client' }) }) },
        secrets: { [`${INFRA}/oidc-client`]: { clientID: 'my-client', clientSecret: 's3cr3t' } },
      },
    ]);
  });

  it('not found, refused by the provider, or of a kind the provider does not read: the route is not Accepted (UnsupportedValue), the reference named', () => {
    const missing = build({ gateway: gw, routes: { http: [route([ref('nowhere')])] }, provider: readingProvider(), parameters: lookup });
    expect(routeConditions(missing, 'r').Accepted).toEqual({ status: 'False', reason: 'UnsupportedValue' });
    expect(message(missing)).toBe(`spec.rules[0].filters[0].extensionRef: ListenerRuleConfiguration ${INFRA}/nowhere not found`);
    expect(rules(missing)).toEqual([]);
    const jwt = build({ gateway: gw, routes: { http: [route([ref('jwt')])] }, provider: readingProvider(), parameters: lookup });
    expect(message(jwt)).toBe(`spec.rules[0].filters[0].extensionRef: ListenerRuleConfiguration ${INFRA}/jwt: spec.actions[0]: jwt-validation is not implemented by lbc, which will not serve the route without it`);
    const other = build({ gateway: gw, routes: { http: [route([ref('guard', 'TargetGroupConfiguration')])] }, provider: readingProvider(), parameters: lookup });
    expect(message(other)).toBe('spec.rules[0].filters[0].extensionRef: ExtensionRef TargetGroupConfiguration.gateway.k8s.aws is not a kind provider test reads');
    const unwatched = build({ gateway: gw, routes: { http: [route([ref('guard')])] }, provider: readingProvider() });
    expect(message(unwatched)).toBe('spec.rules[0].filters[0].extensionRef: lbc is not watching ListenerRuleConfiguration.gateway.k8s.aws objects (is its CRD installed?)');
  });
});
