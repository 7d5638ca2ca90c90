// The aws provider's config block and its registry factory.
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/config.js';
import { awsOptionsSchema } from '../../../src/providers/aws/options.js';
import { AwsProvider } from '../../../src/providers/aws/provider.js';
import { buildProviders } from '../../../src/providers/registry.js';

describe('aws options', () => {
  it('defaults', () => {
    const o = awsOptionsSchema.parse({ region: 'eu-west-1' });
    expect(o).toEqual({
      region: 'eu-west-1',
      subnets: {},
      defaultTags: {},
      rateLimits: {
        elbv2Read: { perSecond: 10, burst: 20 },
        elbv2Write: { perSecond: 5, burst: 10 },
        ec2Read: { perSecond: 20, burst: 40 },
        ec2Write: { perSecond: 5, burst: 10 },
        acmRead: { perSecond: 5, burst: 10 },
        wafv2: { perSecond: 2, burst: 5 },
        shield: { perSecond: 2, burst: 5 },
      },
      retry: { attempts: 6, minDelay: 200, maxDelay: 20_000 },
      dependencyTimeout: 60_000,
      inventoryRefresh: 600_000,
      // aws-load-balancer-controller's --enable-backend-security-group defaults to true; kube-apiserver's node port range.
      backendSecurityGroup: { enabled: true, nodePortRange: { from: 30000, to: 32767 } },
      featureGates: { EnableTCPUDPListener: false },
    });
  });

  it('backendSecurityGroup: a given group id, a node port range; bad ones refused', () => {
    expect(awsOptionsSchema.parse({ region: 'us-east-1', backendSecurityGroup: { id: 'sg-0abc', nodePortRange: '20000-22767' } }).backendSecurityGroup).toEqual({
      enabled: true,
      id: 'sg-0abc',
      nodePortRange: { from: 20000, to: 22767 },
    });
    for (const bad of [{ id: 'backend' }, { nodePortRange: '32767-30000' }, { nodePortRange: '0-100' }, { nodePortRange: '30000' }, { enable: false }]) {
      expect(awsOptionsSchema.safeParse({ region: 'us-east-1', backendSecurityGroup: bad }).success, JSON.stringify(bad)).toBe(false);
    }
  });

  it("featureGates: ALBC's gate names, strict (a gate lbc does not implement is refused, not ignored)", () => {
    expect(awsOptionsSchema.parse({ region: 'us-east-1', featureGates: { EnableTCPUDPListener: true } }).featureGates).toEqual({ EnableTCPUDPListener: true });
    const r = awsOptionsSchema.safeParse({ region: 'us-east-1', featureGates: { EnableTCPUDPListener: 'yes', NLBGatewayAPI: true } });
    expect(r.success).toBe(false);
    if (!r.success) expect(r.error.issues.map((i) => `${i.path.join('.')}:${i.code}`).sort()).toEqual(['featureGates.EnableTCPUDPListener:invalid_type', 'featureGates:unrecognized_keys']);
  });

  it('durations in Go form or seconds; strict keys; checked formats', () => {
    expect(awsOptionsSchema.parse({ region: 'us-east-1', dependencyTimeout: '2m', retry: { minDelay: '50ms' } })).toMatchObject({ dependencyTimeout: 120_000, retry: { minDelay: 50 } });
    const r = awsOptionsSchema.safeParse({ region: 'Mars', vpcId: 'vpc_1', endpoint: 'not a url', subnet: [], defaultTags: { 'lbc.dev/x': 'y' } });
    expect(r.success).toBe(false);
    if (!r.success) {
      expect(r.error.issues.map((i) => i.path.join('.') || i.code).sort()).toEqual(['defaultTags', 'endpoint', 'region', 'unrecognized_keys', 'vpcId']);
    }
  });
});

describe('registry', () => {
  it('builds an aws provider from the config file', async () => {
    const cfg = parseConfig(`
clusterName: prod
providers:
  - name: aws
    type: aws
    options:
      region: us-east-1
      vpcId: vpc-0abc
      endpoint: http://127.0.0.1:4566
`);
    const set = await buildProviders(cfg);
    const p = set.byName('aws');
    expect(p).toBeInstanceOf(AwsProvider);
    expect(p?.type).toBe('aws');
    expect((p as AwsProvider).clusterName).toBe('prod');
    expect(p?.capabilities.annotationPrefixes).toEqual(['service.beta.kubernetes.io/aws-load-balancer-', 'alb.ingress.kubernetes.io/']);
    await set.close();
  });

  it('a bad options block names the key path', async () => {
    const cfg = parseConfig(`
clusterName: prod
providers:
  - name: aws
    type: aws
    options: { regoin: us-east-1 }
`);
    await expect(buildProviders(cfg)).rejects.toThrow(/providers\[0\] \(aws\): invalid aws options: providers\[0\]\.options\.region: .*; providers\[0\]\.options: unknown key\(s\) regoin/);
  });
});
