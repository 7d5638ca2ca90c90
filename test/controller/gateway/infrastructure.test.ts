// spec.infrastructure.parametersRef (gateway-api v1.4.0 apis/v1 gateway_types.go,
// GatewayInfrastructure.ParametersRef): "If the referent cannot be found, refers to an
// unsupported kind, or when the data within that resource is malformed, the Gateway SHOULD
// be rejected with the "Accepted" status condition set to "False" and an
// "InvalidParameters" reason."
import { describe, expect, it } from 'vitest';
import type { GatewayParameterKind } from '../../../src/model/gateway.js';
import type { ModelProvider } from '../../../src/controller/service-model.js';
import { build, gateway, gatewayProvider, httpListener, INFRA } from './fixtures.js';
import type { GatewayClass } from '../../../src/kube/gateway-api.js';
import { gatewayClassStatus, parameterReaders, providerOfGatewayClass } from '../../../src/controller/gateway/gateway-class.js';
import { gatewayClassParameters } from '../../../src/controller/gateway/infrastructure.js';

const LBC = { group: 'gateway.k8s.aws', kind: 'LoadBalancerConfiguration' };
const withParams = (ref: { group: string; kind: string; name: string } | undefined) => gateway('gw', [httpListener()], ref ? { infrastructure: { parametersRef: ref } } : {});

/** A provider reading LoadBalancerConfiguration, refusing a spec.scheme other than internal/internet-facing. */
function readingProvider(): ModelProvider {
  const base = gatewayProvider();
  return {
    ...base,
    capabilities: { ...base.capabilities, gatewayParameters: [LBC] },
    parseGatewayParameters: (_kind: GatewayParameterKind, object: unknown) => {
      const scheme = (object as { spec?: { scheme?: unknown } }).spec?.scheme;
      return scheme === undefined || scheme === 'internal' || scheme === 'internet-facing' ? { ok: true, value: { scheme } } : { ok: false, errors: [`spec.scheme: ${String(scheme)} is not internal or internet-facing`] };
    },
  };
}

const objects = new Map<string, unknown>([
  [`${LBC.group}/${LBC.kind}/${INFRA}/good`, { spec: { scheme: 'internal' } }],
  [`${LBC.group}/${LBC.kind}/${INFRA}/bad`, { spec: { scheme: 'public' } }],
]);
const lookup = (k: GatewayParameterKind, namespace: string, name: string): unknown => objects.get(`${k.group}/${k.kind}/${namespace}/${name}`);

describe('Gateway spec.infrastructure.parametersRef', () => {
  it('a Gateway without one is accepted and its spec carries no parameters', () => {
    const r = build({ gateway: withParams(undefined), provider: readingProvider(), parameters: lookup });
    expect(r.accepted).toMatchObject({ status: 'True', reason: 'Accepted' });
    expect(r.spec?.parameters).toBeUndefined();
  });

  it('a kind the provider does not read is InvalidParameters naming the kinds it does (a provider reading none says none)', () => {
    const r = build({ gateway: withParams({ group: 'example.com', kind: 'Params', name: 'good' }), provider: readingProvider(), parameters: lookup });
    expect(r.spec).toBeUndefined();
    expect(r.accepted).toMatchObject({ type: 'Accepted', status: 'False', reason: 'InvalidParameters' });
    expect(r.accepted.message).toBe('spec.infrastructure.parametersRef: kind Params.example.com is not one provider test reads (supported: LoadBalancerConfiguration.gateway.k8s.aws)');
    const none = build({ gateway: withParams({ ...LBC, name: 'good' }) });
    expect(none.accepted).toMatchObject({ status: 'False', reason: 'InvalidParameters' });
    expect(none.accepted.message).toContain('(supported: none)');
  });

  it('a referent that cannot be found in the Gateway namespace is InvalidParameters', () => {
    const r = build({ gateway: withParams({ ...LBC, name: 'missing' }), provider: readingProvider(), parameters: lookup });
    const unwatched = build({ gateway: withParams({ ...LBC, name: 'good' }), provider: readingProvider() });
    expect(unwatched.accepted).toMatchObject({ status: 'False', reason: 'InvalidParameters', message: 'spec.infrastructure.parametersRef: lbc is not watching LoadBalancerConfiguration.gateway.k8s.aws objects (is its CRD installed?)' });
    expect(r.spec).toBeUndefined();
    expect(r.accepted).toMatchObject({ status: 'False', reason: 'InvalidParameters', message: `spec.infrastructure.parametersRef: LoadBalancerConfiguration ${INFRA}/missing not found` });
  });

  it('malformed data, as the provider judges it, is InvalidParameters with the provider field error', () => {
    const r = build({ gateway: withParams({ ...LBC, name: 'bad' }), provider: readingProvider(), parameters: lookup });
    expect(r.spec).toBeUndefined();
    expect(r.accepted).toMatchObject({ status: 'False', reason: 'InvalidParameters' });
    expect(r.accepted.message).toContain('spec.scheme: public is not internal or internet-facing');
  });

  it('a found, valid referent is accepted and reaches the provider parsed in spec.parameters', () => {
    const r = build({ gateway: withParams({ ...LBC, name: 'good' }), provider: readingProvider(), parameters: lookup });
    expect(r.accepted).toMatchObject({ status: 'True', reason: 'Accepted' });
    expect(r.spec?.parameters).toEqual({ ...LBC, namespace: INFRA, name: 'good', value: { scheme: 'internal' } });
  });
});

// A GatewayClass's spec.parametersRef to a LoadBalancerConfiguration, as aws-load-balancer-
// controller users write it (docs/guide/gateway/customization.md: attached "to either a
// Gateway or a GatewayClass"): it names the provider that reads the kind, the class must
// give the namespace (ALBC lb_config_utils.go ResolveLoadBalancerConfig: "Namespace must be
// specified in ParametersRef"), and a reference that cannot be followed is the class's
// Accepted=False, InvalidParameters (gateway-api GatewayClassReasonInvalidParameters).
describe('GatewayClass spec.parametersRef to a provider\'s parameters kind', () => {
  const config = {
    providers: [
      { name: 'aws', type: 'aws' as const, class: 'lbc.dev/aws', options: {} },
      { name: 'mem', type: 'memory' as const, class: 'lbc.dev/mem', options: {} },
    ],
    defaultClass: 'lbc.dev/mem',
  };
  const readers = parameterReaders([{ ...readingProvider(), name: 'aws' }, gatewayProvider()]);
  const cls = (ref: { group: string; kind: string; name: string; namespace?: string }): GatewayClass => ({ metadata: { name: 'platform', generation: 3 }, spec: { controllerName: 'lbc.dev/gateway-controller', parametersRef: ref } });

  it('names the provider that reads the kind, whatever the default class, and carries the reference', () => {
    expect(providerOfGatewayClass(cls({ ...LBC, name: 'good', namespace: INFRA }), config, readers)).toEqual({ ok: true, provider: 'aws', parametersRef: { ...LBC, name: 'good', namespace: INFRA } });
    // Without the readers (the kind is no provider's) it stays refused as before.
    expect(providerOfGatewayClass(cls({ ...LBC, name: 'good', namespace: INFRA }), config)).toMatchObject({ ok: false, message: expect.stringContaining('spec.parametersRef must be {group: lbc.dev, kind: Provider') as unknown });
  });

  it('its object is found and parsed by the provider; absent namespace, missing object, unwatched kind and malformed data are InvalidParameters on the class', () => {
    const provider = readingProvider();
    const follow = (ref: Parameters<typeof cls>[0], watched = true) => gatewayClassParameters(providerOfGatewayClass(cls(ref), config, readers), provider, watched ? lookup : undefined);
    expect(follow({ ...LBC, name: 'good', namespace: INFRA })).toEqual({ ok: true, parameters: { ...LBC, namespace: INFRA, name: 'good', value: { scheme: 'internal' } } });
    const problems = [
      follow({ ...LBC, name: 'good' }),
      follow({ ...LBC, name: 'missing', namespace: INFRA }),
      follow({ ...LBC, name: 'good', namespace: INFRA }, false),
      follow({ ...LBC, name: 'bad', namespace: INFRA }),
    ].map((r) => (r.ok ? 'ok' : r.problem));
    expect(problems).toEqual([
      'spec.parametersRef.namespace: LoadBalancerConfiguration is namespaced, so a GatewayClass must name its namespace',
      `spec.parametersRef: LoadBalancerConfiguration ${INFRA}/missing not found`,
      'spec.parametersRef: lbc is not watching LoadBalancerConfiguration.gateway.k8s.aws objects (is its CRD installed?)',
      `spec.parametersRef: LoadBalancerConfiguration ${INFRA}/bad: spec.scheme: public is not internal or internet-facing`,
    ]);
    const gc = cls({ ...LBC, name: 'bad', namespace: INFRA });
    const status = gatewayClassStatus(gc, providerOfGatewayClass(gc, config, readers), ['Gateway'], problems[3]);
    expect(status).toEqual({ conditions: [expect.objectContaining({ type: 'Accepted', status: 'False', reason: 'InvalidParameters', message: problems[3], observedGeneration: 3 })], supportedFeatures: [] });
  });

  it('a Gateway of the class carries the class\'s parameters beside its own', () => {
    const params = gatewayClassParameters(providerOfGatewayClass(cls({ ...LBC, name: 'good', namespace: INFRA }), config, readers), readingProvider(), lookup);
    if (!params.ok || !params.parameters) throw new Error('class parameters expected');
    const r = build({ gateway: withParams({ ...LBC, name: 'good' }), provider: readingProvider(), parameters: lookup, classParameters: params.parameters });
    expect(r.spec?.classParameters).toEqual({ ...LBC, namespace: INFRA, name: 'good', value: { scheme: 'internal' } });
    expect(r.spec?.parameters).toMatchObject({ name: 'good', namespace: INFRA });
  });
});
