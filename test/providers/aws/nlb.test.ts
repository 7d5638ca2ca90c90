// The NLB path through the real SDK clients, against the fake behind nock: the exact
// requests for create, update, no-op and delete, and ownership (nothing untagged is
// touched).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseAwsOptions } from '../../../src/providers/aws/annotations.js';
import { ProviderError } from '../../../src/providers/types.js';
import type { FakeAws } from './fake-aws.js';
import { CLUSTER, NLB_CREATE_WRITES, nlbSpec, nodes, provider, seededFake, SVC_REF } from './support.js';

let fake: FakeAws;
beforeEach(() => {
  fake = seededFake();
});
afterEach(() => fake.uninstall());

const writes = (): string[] => fake.writes().map((r) => r.action);

describe('NLB create', () => {
  it('creates SG, target groups with targets, the NLB and its listeners, in that order, all tagged', async () => {
    const p = provider();
    const status = await p.ensure(nlbSpec());
    expect(writes()).toEqual(NLB_CREATE_WRITES);
    // Reads before the first write: the VPC through the Nodes (no vpcId, not on EC2; the
    // fixture's ids are not EC2's form, so none is found), discovery, the inventory scan, the name check, owned SGs.
    expect(fake.actions().slice(0, 6)).toEqual(['DescribeInstances', 'DescribeSubnets', 'DescribeLoadBalancers', 'DescribeTargetGroups', 'DescribeLoadBalancers', 'DescribeSecurityGroups']);
    expect(fake.all('DescribeSubnets')[0]?.params).toEqual({ 'Filter.1.Name': 'tag-key', 'Filter.1.Value.1': 'kubernetes.io/role/internal-elb' });

    const sg = fake.last('CreateSecurityGroup')?.params ?? {};
    expect(sg['VpcId']).toBe('vpc-1');
    expect(sg['TagSpecification.1.ResourceType']).toBe('security-group');
    expect(fake.last('AuthorizeSecurityGroupIngress')?.params).toMatchObject({
      'IpPermissions.1.IpProtocol': 'tcp',
      'IpPermissions.1.FromPort': '80',
      'IpPermissions.1.ToPort': '80',
      'IpPermissions.1.IpRanges.1.CidrIp': '0.0.0.0/0',
      'IpPermissions.2.FromPort': '443',
    });

    const tg = fake.all('CreateTargetGroup')[0]?.params ?? {};
    expect(tg).toMatchObject({
      Protocol: 'TCP',
      Port: '30080',
      VpcId: 'vpc-1',
      TargetType: 'instance',
      HealthCheckProtocol: 'TCP',
      HealthCheckPort: 'traffic-port',
      // aws-load-balancer-controller's Service defaults (pkg/service/model_builder.go), not lbc's generic ones.
      HealthCheckIntervalSeconds: '10',
      HealthCheckTimeoutSeconds: '10',
      HealthyThresholdCount: '3',
      UnhealthyThresholdCount: '3',
    });
    expect(tg['Name']).toMatch(/^k8s-shop-web-[0-9a-f]{10}$/);
    const tgTags = Object.fromEntries(
      Object.entries(tg)
        .filter(([k]) => /^Tags\.member\.\d+\.Key$/.test(k))
        .map(([k, v]) => [v, tg[k.replace('.Key', '.Value')]]),
    );
    expect(tgTags).toEqual({
      'lbc.dev/cluster': 'prod',
      'lbc.dev/owner': 'Service/shop/web',
      'lbc.dev/owner-kind': 'Service',
      'lbc.dev/owner-namespace': 'shop',
      'lbc.dev/owner-name': 'web',
      'lbc.dev/owner-uid': 'uid-web-1',
      'lbc.dev/resource': 'tcp-80',
      'elbv2.k8s.aws/cluster': 'prod',
      'service.k8s.aws/stack': 'shop/web',
      'service.k8s.aws/resource': 'tcp-80',
    });

    expect(fake.all('RegisterTargets')[0]?.params).toMatchObject({
      'Targets.member.1.Id': 'i-0aaa',
      'Targets.member.1.Port': '30080',
      'Targets.member.2.Id': 'i-0bbb',
      'Targets.member.2.Port': '30080',
    });
    const lb = fake.last('CreateLoadBalancer')?.params ?? {};
    expect(lb).toMatchObject({
      Type: 'network',
      Scheme: 'internal',
      IpAddressType: 'ipv4',
      'SubnetMappings.member.1.SubnetId': 'subnet-0a1',
      'SubnetMappings.member.2.SubnetId': 'subnet-0b1',
    });
    expect(lb['SecurityGroups.member.1']).toMatch(/^sg-/);
    expect(fake.all('CreateListener').map((r) => [r.params['Port'], r.params['Protocol'], r.params['DefaultActions.member.1.Type']])).toEqual([
      ['80', 'TCP', 'forward'],
      ['443', 'TCP', 'forward'],
    ]);
    expect(status.ingress).toEqual([
      {
        hostname: expect.stringMatching(/^internal-k8s-shop-web-[0-9a-f]{10}-[0-9a-f]+\.elb\.us-east-1\.amazonaws\.com$/),
        ports: [
          { port: 80, protocol: 'TCP' },
          { port: 443, protocol: 'TCP' },
        ],
      },
    ]);
    expect(fake.taggedFor(CLUSTER)).toHaveLength(4);
  });

  it('plan lists the same changes and writes nothing', async () => {
    const p = provider();
    const changes = await p.plan(nlbSpec());
    expect(writes()).toEqual([]);
    expect(changes.map((c) => `${c.op} ${c.resource} ${c.id}`)).toEqual([
      expect.stringMatching(/^create SecurityGroup k8s-shop-web-/),
      'create TargetGroup tcp-80',
      'create TargetGroup tcp-443',
      'update Targets tcp-80',
      'update Targets tcp-443',
      expect.stringMatching(/^create LoadBalancer k8s-shop-web-/),
      'create Listener TCP:80',
      'create Listener TCP:443',
    ]);
  });

  it('internet-facing picks the public subnets; source ranges become the SG rules', async () => {
    const p = provider();
    await p.ensure(
      nlbSpec({
        annotations: { 'service.beta.kubernetes.io/aws-load-balancer-scheme': 'internet-facing' },
        sourceRanges: ['203.0.113.0/24', '2001:db8::/32'],
      }),
    );
    expect(fake.last('CreateLoadBalancer')?.params).toMatchObject({
      Scheme: 'internet-facing',
      'SubnetMappings.member.1.SubnetId': 'subnet-0a2',
      'SubnetMappings.member.2.SubnetId': 'subnet-0b2',
    });
    expect(fake.last('AuthorizeSecurityGroupIngress')?.params).toMatchObject({
      'IpPermissions.1.FromPort': '80',
      'IpPermissions.1.IpRanges.1.CidrIp': '203.0.113.0/24',
      'IpPermissions.1.Ipv6Ranges.1.CidrIpv6': '2001:db8::/32',
    });
  });

  it('ClientIP affinity and proxy protocol become target group attributes', async () => {
    const p = provider();
    await p.ensure(nlbSpec({ affinity: true, annotations: { 'service.beta.kubernetes.io/aws-load-balancer-proxy-protocol': '*' } }));
    expect(fake.all('ModifyTargetGroupAttributes')[0]?.params).toMatchObject({
      'Attributes.member.1.Key': 'proxy_protocol_v2.enabled',
      'Attributes.member.1.Value': 'true',
      'Attributes.member.2.Key': 'stickiness.enabled',
      'Attributes.member.2.Value': 'true',
      'Attributes.member.3.Key': 'stickiness.type',
      'Attributes.member.3.Value': 'source_ip',
    });
  });

  it('TLS on the ssl-ports with the ACM certificate and policy; backend-protocol ssl makes a TLS target group', async () => {
    const p = provider();
    const cert = 'arn:aws:acm:us-east-1:123456789012:certificate/abc';
    await p.ensure(
      nlbSpec({
        annotations: {
          'service.beta.kubernetes.io/aws-load-balancer-ssl-cert': cert,
          'service.beta.kubernetes.io/aws-load-balancer-ssl-ports': '443',
          'service.beta.kubernetes.io/aws-load-balancer-backend-protocol': 'ssl',
          'service.beta.kubernetes.io/aws-load-balancer-ssl-negotiation-policy': 'ELBSecurityPolicy-TLS13-1-2-2021-06',
        },
      }),
    );
    const [l80, l443] = fake.all('CreateListener').map((r) => r.params);
    expect(l80).toMatchObject({ Port: '80', Protocol: 'TCP' });
    expect(l80?.['Certificates.member.1.CertificateArn']).toBeUndefined();
    expect(l443).toMatchObject({ Port: '443', Protocol: 'TLS', 'Certificates.member.1.CertificateArn': cert, SslPolicy: 'ELBSecurityPolicy-TLS13-1-2-2021-06' });
    expect(fake.all('CreateTargetGroup').map((r) => r.params['Protocol'])).toEqual(['TCP', 'TLS']);
  });

  it('TCP and UDP on one port with enable-tcp-udp-listener become a TCP_UDP listener and target group, with both protocols in the SG', async () => {
    const p = provider();
    await p.ensure(
      nlbSpec({
        ports: [
          { port: 53, nodePort: 30053, protocol: 'TCP' },
          { port: 53, nodePort: 30053, protocol: 'UDP' },
        ],
        annotations: { 'service.beta.kubernetes.io/aws-load-balancer-enable-tcp-udp-listener': 'true' },
      }),
    );
    expect(fake.all('CreateTargetGroup').map((r) => r.params['Protocol'])).toEqual(['TCP_UDP']);
    expect(fake.all('CreateListener').map((r) => r.params['Protocol'])).toEqual(['TCP_UDP']);
    expect(fake.last('AuthorizeSecurityGroupIngress')?.params).toMatchObject({ 'IpPermissions.1.IpProtocol': 'tcp', 'IpPermissions.2.IpProtocol': 'udp' });
  });

  // aws-load-balancer-controller v3.5 pkg/service/model_build_listener.go shouldUseTCPUDP: the
  // annotation, else the EnableTCPUDPListener feature gate (off by default, pkg/config/feature_gates.go).
  it('TCP and UDP on one port without enable-tcp-udp-listener (or with "false") are refused before any write, naming the annotation', async () => {
    const asked: Record<string, string>[] = [{}, { 'service.beta.kubernetes.io/aws-load-balancer-enable-tcp-udp-listener': 'false' }];
    for (const annotations of asked) {
      fake.resetLog();
      const spec = nlbSpec({
        ports: [
          { port: 53, nodePort: 30053, protocol: 'TCP' },
          { port: 53, nodePort: 30053, protocol: 'UDP' },
        ],
        annotations,
      });
      const err = await provider().ensure(spec).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ProviderError);
      expect((err as ProviderError).message).toMatch(
        /port 53 is both TCP and UDP; an NLB has one listener per port, so they need one TCP_UDP listener: set service\.beta\.kubernetes\.io\/aws-load-balancer-enable-tcp-udp-listener: "true"/,
      );
      expect((err as ProviderError).message.includes('(it is "false")')).toBe(Object.keys(annotations).length > 0);
      expect(fake.writes()).toEqual([]);
    }
  });

  // The gate as ALBC names it (pkg/config/feature_gates.go EnableTCPUDPListener), as a provider option.
  describe('featureGates.EnableTCPUDPListener (ALBC shouldUseTCPUDP: the annotation, else the gate)', () => {
    const dns = (annotations: Record<string, string> = {}) =>
      nlbSpec({
        ports: [
          { port: 53, nodePort: 30053, protocol: 'TCP' },
          { port: 53, nodePort: 30053, protocol: 'UDP' },
        ],
        annotations,
      });
    it('on: a Service without the annotation gets one TCP_UDP listener and target group', async () => {
      await provider({ featureGates: { EnableTCPUDPListener: true } }).ensure(dns());
      expect(fake.all('CreateTargetGroup').map((r) => r.params['Protocol'])).toEqual(['TCP_UDP']);
      expect(fake.all('CreateListener').map((r) => [r.params['Protocol'], r.params['Port']])).toEqual([['TCP_UDP', '53']]);
    });
    it('on, but the Service says "false": the annotation wins and the Service is refused before any write', async () => {
      const err = await provider({ featureGates: { EnableTCPUDPListener: true } })
        .ensure(dns({ 'service.beta.kubernetes.io/aws-load-balancer-enable-tcp-udp-listener': 'false' }))
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect((err as ProviderError).message).toMatch(/port 53 is both TCP and UDP.*\(it is "false"\)/);
      expect(fake.writes()).toEqual([]);
    });
    it('off (the default): the refusal names both the annotation and the gate', async () => {
      const err = await provider().ensure(dns()).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect((err as ProviderError).message).toMatch(/set service\.beta\.kubernetes\.io\/aws-load-balancer-enable-tcp-udp-listener: "true" \(or the provider option featureGates\.EnableTCPUDPListener: true\)/);
      expect(fake.writes()).toEqual([]);
    });
  });

  it('enable-tcp-udp-listener is read (no "not implemented" Warning) and must be a boolean', () => {
    const key = 'service.beta.kubernetes.io/aws-load-balancer-enable-tcp-udp-listener';
    const on = parseAwsOptions({ [key]: 'true' }, 'Service');
    expect(on.ok && [on.options.tcpUdpListener, on.options.ignoredAnnotations]).toEqual([true, undefined]);
    const bad = parseAwsOptions({ [key]: 'yes please' }, 'Service');
    expect(!bad.ok && bad.errors.map((e) => ('annotation' in e ? e.annotation : ''))).toEqual([key]);
  });

  it('externalTrafficPolicy Local: the HTTP health check on healthCheckNodePort /healthz, with NLB success codes', async () => {
    const p = provider();
    await p.ensure(
      nlbSpec({
        healthCheck: { protocol: 'HTTP', port: 32000, path: '/healthz', intervalSeconds: 10, timeoutSeconds: 5, healthyThreshold: 2, unhealthyThreshold: 3 },
        annotations: { 'service.beta.kubernetes.io/aws-load-balancer-healthcheck-interval': '30', 'service.beta.kubernetes.io/aws-load-balancer-healthcheck-healthy-threshold': '4' },
      }),
    );
    expect(fake.all('CreateTargetGroup')[0]?.params).toMatchObject({
      HealthCheckProtocol: 'HTTP',
      HealthCheckPort: '32000',
      HealthCheckPath: '/healthz',
      'Matcher.HttpCode': '200-399',
      HealthCheckIntervalSeconds: '30',
      HealthyThresholdCount: '4',
    });
  });

  it('named subnets, EIP allocations by position, attributes and extra tags', async () => {
    fake.addSubnet({ id: 'subnet-0c9', az: 'us-east-1c', tags: { Name: 'public-c' } });
    const p = provider();
    await p.ensure(
      nlbSpec({
        annotations: {
          'service.beta.kubernetes.io/aws-load-balancer-scheme': 'internet-facing',
          'service.beta.kubernetes.io/aws-load-balancer-subnets': 'public-c, subnet-0a2',
          'service.beta.kubernetes.io/aws-load-balancer-eip-allocations': 'eipalloc-01, eipalloc-02',
          'service.beta.kubernetes.io/aws-load-balancer-attributes': 'load_balancing.cross_zone.enabled=true',
          'service.beta.kubernetes.io/aws-load-balancer-additional-resource-tags': 'team=shop,env=prod',
          'service.beta.kubernetes.io/aws-load-balancer-name': 'shop-web',
        },
      }),
    );
    expect(fake.all('DescribeSubnets').map((r) => r.params)).toEqual([{ 'SubnetId.1': 'subnet-0a2' }, { 'Filter.1.Name': 'tag:Name', 'Filter.1.Value.1': 'public-c' }]);
    const lb = fake.last('CreateLoadBalancer')?.params ?? {};
    expect(lb).toMatchObject({
      Name: 'shop-web',
      'SubnetMappings.member.1.SubnetId': 'subnet-0c9',
      'SubnetMappings.member.1.AllocationId': 'eipalloc-01',
      'SubnetMappings.member.2.SubnetId': 'subnet-0a2',
      'SubnetMappings.member.2.AllocationId': 'eipalloc-02',
    });
    expect(Object.values(lb)).toEqual(expect.arrayContaining(['team', 'shop', 'env', 'prod']));
    expect(fake.last('ModifyLoadBalancerAttributes')?.params).toMatchObject({ 'Attributes.member.1.Key': 'load_balancing.cross_zone.enabled', 'Attributes.member.1.Value': 'true' });
  });
});

describe('NLB no-op and updates', () => {
  it('a second ensure with nothing changed makes only Describe calls, and plan is empty', async () => {
    const p = provider();
    const first = await p.ensure(nlbSpec());
    fake.resetLog();
    const again = await p.ensure(nlbSpec());
    // The same address; a warning already given (no node group tagged here) is not repeated.
    expect(again).toEqual({ ingress: first.ingress });
    expect(first.notices?.length).toBe(1);
    expect(writes()).toEqual([]);
    expect(fake.actions().every((a) => a.startsWith('Describe'))).toBe(true);
    expect(await p.plan(nlbSpec())).toEqual([]);
  });

  it('a listener port change is one ModifyListener (the target group stays)', async () => {
    const p = provider();
    await p.ensure(nlbSpec());
    fake.resetLog();
    const spec = nlbSpec({
      ports: [
        { port: 8080, nodePort: 30080 },
        { port: 443, nodePort: 30443 },
      ],
    });
    expect((await p.plan(spec)).map((c) => `${c.op} ${c.resource} ${c.id} ${(c.fields ?? []).join(',')}`)).toEqual([
      expect.stringMatching(/^update SecurityGroup k8s-shop-web-\w+ ingress$/),
      'update TargetGroup tcp-8080 tags',
      'update Listener TCP:8080 port',
    ]);
    fake.resetLog();
    const status = await p.ensure(spec);
    expect(writes()).toEqual(['AuthorizeSecurityGroupIngress', 'RevokeSecurityGroupIngress', 'AddTags', 'ModifyListener']);
    expect(fake.last('ModifyListener')?.params).toEqual({ ListenerArn: expect.stringContaining(':listener/net/'), Port: '8080' });
    expect(status.ingress[0]?.ports).toEqual([
      { port: 443, protocol: 'TCP' },
      { port: 8080, protocol: 'TCP' },
    ]);
    fake.resetLog();
    await p.ensure(spec);
    expect(writes()).toEqual([]);
  });

  it('a node added is one RegisterTargets per group; a node gone one DeregisterTargets', async () => {
    const p = provider();
    await p.ensure(nlbSpec());
    fake.resetLog();
    await p.ensure(nlbSpec({ targets: nodes('i-0aaa', 'i-0bbb', 'i-0ccc') }));
    expect(writes()).toEqual(['RegisterTargets', 'RegisterTargets']);
    expect(fake.all('RegisterTargets')[0]?.params).toEqual({
      TargetGroupArn: expect.stringContaining(':targetgroup/'),
      'Targets.member.1.Id': 'i-0ccc',
      'Targets.member.1.Port': '30080',
    });
    fake.resetLog();
    await p.ensure(nlbSpec({ targets: nodes('i-0bbb', 'i-0ccc') }));
    expect(writes()).toEqual(['DeregisterTargets', 'DeregisterTargets']);
    expect(fake.all('DeregisterTargets')[0]?.params).toMatchObject({ 'Targets.member.1.Id': 'i-0aaa' });
  });

  it('a node without an EC2 providerID is skipped and said so (log and plan), never fatal', async () => {
    const warned: string[] = [];
    const p = provider({}, { logger: { warn: (m) => warned.push(m) } });
    const targets = [...nodes('i-0aaa'), { name: 'bare-metal', addresses: [] }, { name: 'gke', addresses: [], providerID: 'gce://p/z/vm' }];
    const changes = await p.plan(nlbSpec({ targets }));
    const detail = changes.find((c) => c.resource === 'Targets')?.detail ?? '';
    expect(detail).toContain('node bare-metal skipped: it has no spec.providerID');
    expect(detail).toContain('node gke skipped: providerID gce://p/z/vm is not an EC2 instance');
    await p.ensure(nlbSpec({ targets }));
    expect(fake.all('RegisterTargets')[0]?.params).toEqual({ TargetGroupArn: expect.any(String), 'Targets.member.1.Id': 'i-0aaa', 'Targets.member.1.Port': '30080' });
    expect(warned.filter((w) => w.includes('bare-metal'))).toHaveLength(1);
    await p.ensure(nlbSpec({ targets }));
    expect(warned.filter((w) => w.includes('bare-metal'))).toHaveLength(1);
  });

  it('source ranges changed: authorize the new range, then revoke the old one', async () => {
    const p = provider();
    await p.ensure(nlbSpec({ sourceRanges: ['10.0.0.0/8'] }));
    fake.resetLog();
    await p.ensure(nlbSpec({ sourceRanges: ['192.168.0.0/16'] }));
    expect(writes()).toEqual(['AuthorizeSecurityGroupIngress', 'RevokeSecurityGroupIngress']);
    expect(fake.last('AuthorizeSecurityGroupIngress')?.params).toMatchObject({ 'IpPermissions.1.IpRanges.1.CidrIp': '192.168.0.0/16' });
    expect(fake.last('RevokeSecurityGroupIngress')?.params).toMatchObject({ 'IpPermissions.1.IpRanges.1.CidrIp': '10.0.0.0/8' });
  });

  it('a health check change is ModifyTargetGroup in place', async () => {
    const p = provider();
    await p.ensure(nlbSpec());
    fake.resetLog();
    await p.ensure(nlbSpec({ annotations: { 'service.beta.kubernetes.io/aws-load-balancer-healthcheck-interval': '20' } }));
    expect(writes()).toEqual(['ModifyTargetGroup', 'ModifyTargetGroup']);
    expect(fake.last('ModifyTargetGroup')?.params).toMatchObject({ HealthCheckIntervalSeconds: '20', HealthCheckProtocol: 'TCP' });
  });

  it('a node port change replaces the target group: new group with targets, listener switched, old group deleted', async () => {
    const p = provider();
    await p.ensure(nlbSpec());
    const oldTgs = [...fake.tgs.keys()];
    fake.resetLog();
    const spec = nlbSpec({
      ports: [
        { port: 80, nodePort: 31080 },
        { port: 443, nodePort: 30443 },
      ],
    });
    const plan = await p.plan(spec);
    expect(plan.find((c) => c.op === 'create')?.detail).toMatch(/replaces k8s-shop-web-.*protocol, port, target type and VPC cannot change in place/);
    await p.ensure(spec);
    expect(writes()).toEqual(['CreateTargetGroup', 'RegisterTargets', 'ModifyListener', 'DeleteTargetGroup']);
    expect(fake.last('ModifyListener')?.params).toEqual({
      ListenerArn: expect.any(String),
      'DefaultActions.member.1.Type': 'forward',
      'DefaultActions.member.1.TargetGroupArn': fake.last('DeleteTargetGroup') && expect.not.stringMatching(oldTgs[0] ?? ''),
    });
    expect(fake.last('DeleteTargetGroup')?.params['TargetGroupArn']).toBe(oldTgs[0]);
  });

  it('a scheme change replaces the NLB and says why', async () => {
    const p = provider();
    await p.ensure(nlbSpec());
    const oldArn = [...fake.lbs.keys()][0];
    fake.resetLog();
    const spec = nlbSpec({ annotations: { 'service.beta.kubernetes.io/aws-load-balancer-scheme': 'internet-facing' } });
    const plan = await p.plan(spec);
    expect(plan.find((c) => c.op === 'delete' && c.resource === 'LoadBalancer')?.detail).toBe('replaced: scheme is immutable (internal → internet-facing)');
    const status = await p.ensure(spec);
    expect(writes()).toEqual(['DeleteLoadBalancer', 'CreateLoadBalancer', 'CreateListener', 'CreateListener']);
    expect(fake.last('DeleteLoadBalancer')?.params).toEqual({ LoadBalancerArn: oldArn });
    expect(status.ingress[0]?.hostname).not.toMatch(/^internal-/);
    expect(fake.lbs.size).toBe(1);
  });

  it('user security groups are referenced, never changed, and the managed one goes', async () => {
    fake.addSecurityGroup({ id: 'sg-0user', name: 'team-sg', tags: { Name: 'team-frontend' } });
    const p = provider();
    await p.ensure(nlbSpec());
    fake.resetLog();
    await p.ensure(nlbSpec({ annotations: { 'service.beta.kubernetes.io/aws-load-balancer-security-groups': 'team-frontend' } }));
    expect(writes()).toEqual(['SetSecurityGroups', 'DeleteSecurityGroup']);
    expect(fake.last('SetSecurityGroups')?.params).toMatchObject({ 'SecurityGroups.member.1': 'sg-0user' });
    expect(fake.requests.filter((r) => r.service === 'ec2' && !r.action.startsWith('Describe') && JSON.stringify(r.params).includes('sg-0user'))).toEqual([]);
    expect(fake.securityGroups.get('sg-0user')?.ingress).toEqual([]);
  });
});

describe('NLB ownership', () => {
  it('an NLB with our name but without our tags is a conflict: no adoption, no write', async () => {
    const p = provider();
    await p.ensure(nlbSpec());
    const arn = [...fake.lbs.keys()][0] ?? '';
    fake.tags.set(arn, { owner: 'someone-else' });
    const other = provider({ dependencyTimeout: 0 });
    fake.resetLog();
    const err = await other.ensure(nlbSpec()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect((err as ProviderError).kind).toBe('conflict');
    expect((err as ProviderError).message).toMatch(/exists but is not tagged for this Service in cluster prod; lbc does not adopt or change it/);
    expect(writes()).toEqual([]);
    // Its target groups are still ours, but the foreign NLB holds them: never forced, reported as retryable.
    const del = (await other.delete(SVC_REF).catch((e: unknown) => e)) as ProviderError;
    expect(del.kind).toBe('conflict');
    expect(del.message).toMatch(/^DeleteTargetGroup: ResourceInUse/);
    expect(fake.writes().filter((r) => r.action === 'DeleteLoadBalancer')).toEqual([]);
    expect(fake.lbs.has(arn)).toBe(true);
  });

  it("another cluster's resources are invisible: delete leaves them, listOwned skips them", async () => {
    const theirs = provider();
    Object.assign(theirs, { clusterName: 'staging' });
    const p = provider();
    await p.ensure(nlbSpec());
    for (const [arn, t] of fake.tags) if (fake.lbs.has(arn) || fake.tgs.has(arn)) fake.tags.set(arn, { ...t, 'lbc.dev/cluster': 'staging' });
    for (const g of fake.securityGroups.values()) g.tags['lbc.dev/cluster'] = 'staging';
    const fresh = provider();
    expect(await fresh.listOwned()).toEqual([]);
    fake.resetLog();
    await fresh.delete(SVC_REF);
    expect(writes()).toEqual([]);
    expect(fake.lbs.size).toBe(1);
  });

  it('listOwned reports each owned object once, rebuilt from tags', async () => {
    const p = provider();
    await p.ensure(nlbSpec());
    await p.ensure(nlbSpec({ ref: { kind: 'Service', namespace: 'shop', name: 'api', uid: 'uid-api' } }));
    const fresh = provider();
    const owned = await fresh.listOwned();
    expect(owned.map((o) => o.ref)).toEqual([
      { kind: 'Service', namespace: 'shop', name: 'api', uid: 'uid-api' },
      { kind: 'Service', namespace: 'shop', name: 'web', uid: 'uid-web-1' },
    ]);
    expect(owned.every((o) => o.id.includes(':loadbalancer/net/'))).toBe(true);
  });
});

describe('NLB delete', () => {
  it('deletes the NLB, then target groups, then the security group; only describes on a second delete', async () => {
    const p = provider();
    await p.ensure(nlbSpec());
    fake.resetLog();
    await p.delete(SVC_REF);
    // The second DescribeSecurityGroups looks for the cluster's shared backend group, once per process: a delete releases it when it was the last user.
    expect(fake.actions()).toEqual([
      'DescribeTags',
      'DescribeSecurityGroupRules',
      'DescribeSecurityGroups',
      'DescribeSecurityGroups',
      'DeleteLoadBalancer',
      'DeleteTargetGroup',
      'DeleteTargetGroup',
      'DeleteSecurityGroup',
    ]);
    expect(fake.all('DescribeSecurityGroups')[1]?.params).toMatchObject({ 'Filter.1.Name': 'tag:lbc.dev/cluster', 'Filter.2.Name': 'tag:lbc.dev/resource', 'Filter.2.Value.1': 'BackendSecurityGroup' });
    expect(fake.taggedFor(CLUSTER)).toEqual([]);
    fake.resetLog();
    await p.delete(SVC_REF);
    expect(writes()).toEqual([]);
  });

  it('a fresh process finds everything by tags (scan) and deletes it', async () => {
    await provider().ensure(nlbSpec());
    fake.resetLog();
    await provider().delete(SVC_REF);
    expect(fake.actions().slice(0, 3)).toEqual(['DescribeLoadBalancers', 'DescribeTargetGroups', 'DescribeTags']);
    expect(fake.taggedFor(CLUSTER)).toEqual([]);
  });

  it('retries a target group still in use and a security group still held, then finishes', async () => {
    const p = provider();
    await p.ensure(nlbSpec());
    fake.fail({ action: 'DeleteTargetGroup', code: 'ResourceInUse', times: 2 });
    fake.eniHoldCalls = 3;
    fake.resetLog();
    await p.delete(SVC_REF);
    expect(writes()).toEqual([
      'DeleteLoadBalancer',
      'DeleteTargetGroup',
      'DeleteTargetGroup',
      'DeleteTargetGroup',
      'DeleteTargetGroup',
      'DeleteSecurityGroup',
      'DeleteSecurityGroup',
      'DeleteSecurityGroup',
      'DeleteSecurityGroup',
    ]);
    expect(fake.taggedFor(CLUSTER)).toEqual([]);
  });

  it('past the dependency timeout it fails retryable, and the next delete finishes the job', async () => {
    const p = provider({ dependencyTimeout: 0 });
    await p.ensure(nlbSpec());
    fake.eniHoldCalls = 1000;
    const err = (await p.delete(SVC_REF).catch((e: unknown) => e)) as ProviderError;
    expect(err.kind).toBe('conflict');
    expect(err.retryable).toBe(true);
    expect(err.message).toMatch(/^DeleteSecurityGroup: DependencyViolation/);
    expect(fake.lbs.size).toBe(0);
    expect(fake.tgs.size).toBe(0);
    fake.eniHolds.clear();
    fake.resetLog();
    await p.delete(SVC_REF);
    expect(writes()).toEqual(['DeleteSecurityGroup']);
    expect(fake.taggedFor(CLUSTER)).toEqual([]);
  });
});
