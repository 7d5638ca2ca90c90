// ALBC's LoadBalancerConfiguration (gateway.k8s.aws/v1beta1; aws-load-balancer-controller
// v3.5 docs/guide/gateway/loadbalancerconfig.md) named by a Gateway's
// spec.infrastructure.parametersRef: what the aws provider reads of it, what it refuses by
// field name, and the requests an ALB Gateway configured by it makes against the fake.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseLoadBalancerConfiguration, LOAD_BALANCER_CONFIGURATION } from '../../../src/providers/aws/load-balancer-configuration.js';
import type { GatewaySpec } from '../../../src/model/spec.js';
import type { AwsLbOptions } from '../../../src/providers/aws/annotations.js';
import type { FakeAws } from './fake-aws.js';
import { gatewaySpec, parsedLoadBalancerConfiguration } from './gateway-support.js';
import { provider, seededFake } from './support.js';

const lbc = (spec: Record<string, unknown>): unknown => ({ apiVersion: 'gateway.k8s.aws/v1beta1', kind: 'LoadBalancerConfiguration', metadata: { name: 'cfg', namespace: 'shop' }, spec });

describe('parseLoadBalancerConfiguration', () => {
  it('reads scheme, ipAddressType, loadBalancerName, subnet identifiers, security groups, attributes, tags and manageBackendSecurityGroupRules', () => {
    expect(
      parseLoadBalancerConfiguration(
        lbc({
          mergingMode: 'prefer-gateway',
          scheme: 'internal',
          ipAddressType: 'dualstack',
          loadBalancerName: 'shop-edge',
          loadBalancerSubnets: [{ identifier: 'subnet-0a1' }, { identifier: 'subnet-0b1' }],
          securityGroups: ['sg-1'],
          loadBalancerAttributes: [{ key: 'idle_timeout.timeout_seconds', value: '120' }],
          tags: { team: 'shop' },
          manageBackendSecurityGroupRules: false,
        }),
      ),
    ).toEqual({
      ok: true,
      value: {
        mergingMode: 'prefer-gateway',
        scheme: 'internal',
        ipAddressType: 'dualstack',
        name: 'shop-edge',
        subnets: ['subnet-0a1', 'subnet-0b1'],
        securityGroups: ['sg-1'],
        loadBalancerAttributes: { 'idle_timeout.timeout_seconds': '120' },
        tags: { team: 'shop' },
        manageBackendSecurityGroupRules: false,
      },
    });
  });

  it('refuses every field lbc does not implement by name, never drops it (listenerAttributes it implements)', () => {
    const r = parseLoadBalancerConfiguration(
      lbc({
        scheme: 'internal',
        listenerConfigurations: [{ protocolPort: 'HTTPS:443', defaultCertificate: 'arn:aws:acm:x', listenerAttributes: [{ key: 'routing.http.response.server.enabled', value: 'false' }], quicEnabled: true }],
        wafV2: { webACL: 'arn' },
        loadBalancerSubnets: [{ identifier: 'subnet-1', eipAllocation: 'eipalloc-1' }],
      }),
    );
    expect(r).toEqual({
      ok: false,
      errors: [
        'spec.wafV2: not implemented by lbc',
        'spec.listenerConfigurations[0].quicEnabled: not implemented by lbc: a QUIC (or TCP_QUIC) listener, as aws-load-balancer-controller makes of a UDP (TCP_UDP) one, forwards to QUIC target groups whose targets each need a QUIC server ID, which lbc does not register',
        'spec.loadBalancerSubnets[0].eipAllocation: not implemented by lbc',
      ],
    });
  });

  // ALBC pkg/gateway/model/model_build_subnet.go resolveEC2Subnets: identifiers first, else a
  // non-empty loadBalancerSubnetsSelector through subnet_resolver.go ResolveViaSelector.
  it('reads loadBalancerSubnetsSelector as subnets by tags; identifiers take precedence, as the CRD says; an empty selector is discovery', () => {
    expect(parseLoadBalancerConfiguration(lbc({ loadBalancerSubnetsSelector: { tier: ['web'], env: ['prod', 'staging'] } }))).toEqual({
      ok: true,
      value: { subnetTags: { tier: ['web'], env: ['prod', 'staging'] } },
    });
    expect(parseLoadBalancerConfiguration(lbc({ loadBalancerSubnets: [{ identifier: 'subnet-0a1' }], loadBalancerSubnetsSelector: { tier: ['web'] } }))).toEqual({ ok: true, value: { subnets: ['subnet-0a1'] } });
    expect(parseLoadBalancerConfiguration(lbc({ loadBalancerSubnetsSelector: {} }))).toEqual({ ok: true, value: {} });
  });

  it('refuses a selector key without values, a value twice, and what is not a map of lists', () => {
    expect(parseLoadBalancerConfiguration(lbc({ loadBalancerSubnetsSelector: { tier: [], env: ['prod', 'prod'] } }))).toEqual({
      ok: false,
      errors: ['spec.loadBalancerSubnetsSelector["env"][1]: Duplicate value: "prod"', 'spec.loadBalancerSubnetsSelector["tier"]: no values: a subnet must have one of the values listed for each key'],
    });
    expect(parseLoadBalancerConfiguration(lbc({ loadBalancerSubnetsSelector: ['tier'] }))).toEqual({ ok: false, errors: ['spec.loadBalancerSubnetsSelector: not a map of tag keys to lists of values'] });
  });

  it('refuses malformed values with the field and what is expected', () => {
    const r = parseLoadBalancerConfiguration(lbc({ scheme: 'public', ipAddressType: 'dualstack-without-public-ipv4', loadBalancerName: '-bad-', tags: { 'lbc.dev/owner-uid': 'x' }, loadBalancerAttributes: [{ key: 'a' }] }));
    expect(r.ok).toBe(false);
    expect(!r.ok && r.errors).toEqual([
      'spec.scheme: public is not internal or internet-facing',
      'spec.ipAddressType: dualstack-without-public-ipv4 is not ipv4 or dualstack (dualstack-without-public-ipv4 is not implemented by lbc)',
      'spec.loadBalancerName: -bad- is not 1-32 letters, digits or hyphens (not at either end)',
      'spec.loadBalancerAttributes[0]: needs a key and a string value',
      'spec.tags: lbc.dev/owner-uid: keys are at most 128 characters, outside the reserved lbc.dev/ and aws: prefixes',
    ]);
  });
});

describe('an ALB Gateway configured by a LoadBalancerConfiguration', () => {
  let fake: FakeAws;
  beforeEach(() => {
    fake = seededFake();
  });
  afterEach(() => fake.uninstall());

  const configured = (spec: Record<string, unknown>): GatewaySpec<AwsLbOptions> => {
    return { ...gatewaySpec(), parameters: { ...LOAD_BALANCER_CONFIGURATION, namespace: 'shop', name: 'cfg', value: parsedLoadBalancerConfiguration(spec) } };
  };

  it('its scheme, name, subnets, attributes and tags replace the annotations (internet-facing in the Gateway options)', async () => {
    await provider().ensure(
      configured({ scheme: 'internal', loadBalancerName: 'shop-edge', loadBalancerSubnets: [{ identifier: 'subnet-0a1' }, { identifier: 'subnet-0b1' }], loadBalancerAttributes: [{ key: 'idle_timeout.timeout_seconds', value: '120' }], tags: { team: 'shop' } }),
    );
    expect(fake.last('CreateLoadBalancer')?.params).toMatchObject({ Name: 'shop-edge', Type: 'application', Scheme: 'internal', });
    expect(Object.entries(fake.last('CreateLoadBalancer')?.params ?? {}).filter(([k]) => k.startsWith('Subnet')).map(([, v]) => v)).toEqual(['subnet-0a1', 'subnet-0b1']);
    const lbArn = [...fake.lbs.keys()][0] ?? '';
    expect(fake.tags.get(lbArn)).toMatchObject({ team: 'shop', 'lbc.dev/owner-uid': 'uid-gw-1' });
    expect(fake.all('ModifyLoadBalancerAttributes').map((r) => r.params)).toEqual([expect.objectContaining({ 'Attributes.member.1.Key': 'idle_timeout.timeout_seconds', 'Attributes.member.1.Value': '120' })]);
  });

  it('its loadBalancerSubnetsSelector places the ALB in the tagged subnets (DescribeSubnets by vpc-id and tag:), over the subnets annotation', async () => {
    fake.addSubnet({ id: 'subnet-0c7', az: 'us-east-1c', tags: { tier: 'web' } });
    fake.addSubnet({ id: 'subnet-0d7', az: 'us-east-1d', tags: { tier: 'web' } });
    const spec = configured({ loadBalancerSubnetsSelector: { tier: ['web'] } });
    const withAnnotation = { ...spec, providerOptions: { ...spec.providerOptions, subnets: ['subnet-0a1', 'subnet-0b1'] } };
    await provider({ vpcId: 'vpc-1' }).ensure(withAnnotation);
    expect(fake.all('DescribeSubnets').map((r) => r.params)).toContainEqual({ 'Filter.1.Name': 'vpc-id', 'Filter.1.Value.1': 'vpc-1', 'Filter.2.Name': 'tag:tier', 'Filter.2.Value.1': 'web' });
    expect(Object.entries(fake.last('CreateLoadBalancer')?.params ?? {}).filter(([k]) => k.startsWith('Subnet')).map(([, v]) => v)).toEqual(['subnet-0c7', 'subnet-0d7']);
  });

  it('an ensure again with the same configuration writes nothing', async () => {
    const spec = configured({ scheme: 'internal', tags: { team: 'shop' } });
    await provider().ensure(spec);
    const before = fake.writes().length;
    await provider().ensure(spec);
    expect(fake.writes().slice(before).map((r) => r.action)).toEqual([]);
  });
});
