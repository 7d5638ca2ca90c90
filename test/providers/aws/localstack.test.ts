// The AWS provider end to end against LocalStack (or moto, the engine of its ELBv2 and
// EC2): a VPC with tagged subnets and real (emulated) instances, then the NLB and ALB
// lifecycles through ensure, plan and delete, idempotency counted at the SDK (middleware
// on the provider's own clients), a crash between two calls, and nothing tagged left at
// the end. Runs when AWS_ENDPOINT_URL or LOCALSTACK_ENDPOINT is set; see localstack/README.md.
import {
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  DeleteSecurityGroupCommand,
  DescribeSecurityGroupRulesCommand,
  CreateTagsCommand,
  CreateVpcCommand,
  AssociateRouteTableCommand,
  AttachInternetGatewayCommand,
  CreateInternetGatewayCommand,
  CreateRouteCommand,
  CreateRouteTableCommand,
  DeleteSubnetCommand,
  DeleteVpcCommand,
  DescribeSecurityGroupsCommand,
  EC2Client,
  RunInstancesCommand,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import {
  CreateTargetGroupCommand,
  DeleteTargetGroupCommand,
  DescribeLoadBalancersCommand,
  DescribeListenerAttributesCommand,
  DescribeListenerCertificatesCommand,
  DescribeListenersCommand,
  DescribeRulesCommand,
  DescribeTagsCommand,
  DescribeTargetGroupsCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { CustomObjectsApi } from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DescribeTargetHealthCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { LbRef } from '../../../src/model/index.js';
import { E2E, eventually } from '../../e2e/harness.js';
import { awsOptionsSchema } from '../../../src/providers/aws/options.js';
import { backendSecurityGroupName } from '../../../src/providers/aws/backend-security-group.js';
import { AwsProvider } from '../../../src/providers/aws/provider.js';
import { LOAD_BALANCER_CONFIGURATION } from '../../../src/providers/aws/load-balancer-configuration.js';
import { backend, canaryRules, gatewaySpec, httpRule, l4Rule, nlbGatewaySpec, parsedLoadBalancerConfiguration, prefix, tlsListener } from './gateway-support.js';
import { ALB_CREATE_WRITES, albSpec, ipNlbSpec, NLB_CREATE_WRITES, nlbSpec, nodes, serviceOptions } from './support.js';

const ICP_CRD = new URL('../../../../shared/crds/aws-load-balancer-controller-v3.5.0/elbv2.k8s.aws_ingressclassparams.yaml', import.meta.url).pathname;
const ICP = { group: 'elbv2.k8s.aws', version: 'v1beta1', plural: 'ingressclassparams' } as const;

const endpoint = process.env['AWS_ENDPOINT_URL'] ?? process.env['LOCALSTACK_ENDPOINT'];
const region = process.env['AWS_REGION'] ?? process.env['AWS_DEFAULT_REGION'] ?? 'us-east-1';
const credentials = {
  accessKeyId: process.env['AWS_ACCESS_KEY_ID'] ?? 'test',
  secretAccessKey: process.env['AWS_SECRET_ACCESS_KEY'] ?? 'test',
};

// A cluster name per run: an emulator kept running between runs never mixes them up.
const CLUSTER = `it-${randomBytes(4).toString('hex')}`;

type Next = (args: unknown) => Promise<unknown>;
type Middleware = (next: Next, context: { commandName?: string }) => Next;

/** The same initialize-step middleware on the provider's ELBv2 and EC2 clients. */
function onBothClients(p: AwsProvider, mw: Middleware): void {
  // The stacks' add() is overloaded per step and typed per client; this one shape fits both at runtime.
  p.api.ec2Client.middlewareStack.add(mw as never, { step: 'initialize' });
  p.api.elbv2Client.middlewareStack.add(mw as never, { step: 'initialize' });
}

interface Counter {
  readonly calls: string[];
  writes(): string[];
  reset(): void;
}

/** Counts the commands the provider's own SDK clients send, at the SDK (initialize step). */
function countCalls(p: AwsProvider): Counter {
  const calls: string[] = [];
  onBothClients(p, (next, context) => async (args) => {
    calls.push(String(context.commandName).replace(/Command$/, ''));
    return next(args);
  });
  return {
    calls,
    writes: () => calls.filter((c) => !c.startsWith('Describe')),
    reset: () => {
      calls.length = 0;
    },
  };
}

/**
 * An ACM certificate in the emulator, for TLS and HTTPS listeners (both check that the
 * certificate exists). lbc itself never calls ACM, so there is no ACM client in the
 * project; the emulators do not check signatures, so one JSON request does it.
 */
async function requestCertificate(domain: string): Promise<string> {
  const r = await fetch(endpoint ?? '', {
    method: 'POST',
    headers: {
      'X-Amz-Target': 'CertificateManager.RequestCertificate',
      'Content-Type': 'application/x-amz-json-1.1',
      Authorization: `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/20250101/${region}/acm/aws4_request, SignedHeaders=host, Signature=0`,
    },
    body: JSON.stringify({ DomainName: domain }),
  });
  const body = (await r.json()) as { CertificateArn?: string };
  if (!r.ok || !body.CertificateArn) throw new Error(`ACM RequestCertificate failed: ${r.status} ${JSON.stringify(body)}`);
  return body.CertificateArn;
}

/** Throws on every write once `after` has succeeded: a controller that died right there. */
function crashAfter(p: AwsProvider, after: string): { crashed: () => boolean } {
  let armed = false;
  let crashed = false;
  onBothClients(p, (next, context) => async (args) => {
    const name = String(context.commandName).replace(/Command$/, '');
    if (armed && !name.startsWith('Describe')) {
      crashed = true;
      throw new Error(`simulated crash before ${name}`);
    }
    const out = await next(args);
    if (name === after) armed = true;
    return out;
  });
  return { crashed: () => crashed };
}

describe.skipIf(!endpoint)(
  endpoint ? `AWS provider against ${endpoint}` : 'AWS provider against LocalStack/moto: skipped, set AWS_ENDPOINT_URL or LOCALSTACK_ENDPOINT (see localstack/README.md)',
  () => {
    const ec2 = new EC2Client({ region, endpoint, credentials });
    const elbv2 = new ElasticLoadBalancingV2Client({ region, endpoint, credentials });
    let vpcId = '';
    const subnetIds: string[] = [];
    let instances: string[] = [];

    /** The provider options for the emulator, as a test's provider and the controller's config give them. */
    const emulatorOptions = () => ({ region, endpoint, vpcId, retry: { attempts: 4, minDelay: '50ms', maxDelay: '1s' }, dependencyTimeout: '20s' });
    const newProvider = (): AwsProvider =>
      new AwsProvider({
        name: 'aws',
        clusterName: CLUSTER,
        options: awsOptionsSchema.parse(emulatorOptions()),
        clients: { clientConfig: { credentials } },
        logger: { warn: () => undefined },
      });

    /** Everything carrying a cluster tag (this run's by default): load balancers, target groups, security groups. */
    async function tagged(cluster = CLUSTER): Promise<string[]> {
      const out: string[] = [];
      const lbs = (await elbv2.send(new DescribeLoadBalancersCommand({}))).LoadBalancers ?? [];
      const tgs = (await elbv2.send(new DescribeTargetGroupsCommand({}))).TargetGroups ?? [];
      const arns = [...lbs.map((l) => l.LoadBalancerArn ?? ''), ...tgs.map((t) => t.TargetGroupArn ?? '')];
      for (let i = 0; i < arns.length; i += 20) {
        const r = await elbv2.send(new DescribeTagsCommand({ ResourceArns: arns.slice(i, i + 20) }));
        for (const d of r.TagDescriptions ?? []) if (d.Tags?.some((t) => t.Key === 'lbc.dev/cluster' && t.Value === cluster)) out.push(d.ResourceArn ?? '');
      }
      const sgs = await ec2.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'tag:lbc.dev/cluster', Values: [cluster] }] }));
      out.push(...(sgs.SecurityGroups ?? []).map((g) => g.GroupId ?? ''));
      return out.sort();
    }

    /** A node security group tagged for the cluster, as EKS tags its cluster group. */
    async function nodeSecurityGroup(name: string): Promise<string> {
      const made = await ec2.send(
        new CreateSecurityGroupCommand({
          GroupName: name,
          Description: 'nodes',
          VpcId: vpcId,
          TagSpecifications: [{ ResourceType: 'security-group', Tags: [{ Key: `kubernetes.io/cluster/${CLUSTER}`, Value: 'owned' }] }],
        }),
      );
      return made.GroupId ?? '';
    }

    /** A group's ingress rules as `proto/from-to from source [lbc]`. */
    async function ingressRules(groupId: string): Promise<string[]> {
      const r = await ec2.send(new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: 'group-id', Values: [groupId] }] }));
      return (r.SecurityGroupRules ?? [])
        .filter((x) => !x.IsEgress)
        .map((x) => `${x.IpProtocol}/${x.FromPort}-${x.ToPort} from ${x.ReferencedGroupInfo?.GroupId ?? '?'}${x.Tags?.some((t) => t.Key === 'lbc.dev/cluster' && t.Value === CLUSTER) ? ' [lbc]' : ''}`)
        .sort();
    }

    const service = (opts: Parameters<typeof nlbSpec>[0] = {}) => nlbSpec({ clusterName: CLUSTER, targets: nodes(...instances), ...opts });
    const ingress = (opts: Parameters<typeof albSpec>[0] = {}) => albSpec({ clusterName: CLUSTER, targets: nodes(...instances), ...opts });

    beforeAll(async () => {
      const vpc = await ec2.send(new CreateVpcCommand({ CidrBlock: '10.42.0.0/16' }));
      vpcId = vpc.Vpc?.VpcId ?? '';
      const zones = [`${region}a`, `${region}b`];
      for (const [i, az] of zones.entries()) {
        for (const [j, role] of ['kubernetes.io/role/internal-elb', 'kubernetes.io/role/elb'].entries()) {
          const s = await ec2.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: `10.42.${i * 10 + j}.0/24`, AvailabilityZone: az }));
          const id = s.Subnet?.SubnetId ?? '';
          subnetIds.push(id);
          await ec2.send(new CreateTagsCommand({ Resources: [id], Tags: [{ Key: role, Value: '1' }, { Key: `kubernetes.io/cluster/${CLUSTER}`, Value: 'shared' }] }));
        }
      }
      const run = await ec2.send(new RunInstancesCommand({ ImageId: 'ami-12c6146b', MinCount: 3, MaxCount: 3, SubnetId: subnetIds[0] }));
      instances = (run.Instances ?? []).map((x) => x.InstanceId ?? '').sort();
    });

    afterAll(async () => {
      if (instances.length > 0) await ec2.send(new TerminateInstancesCommand({ InstanceIds: instances })).catch(() => undefined);
      for (const id of subnetIds) await ec2.send(new DeleteSubnetCommand({ SubnetId: id })).catch(() => undefined);
      if (vpcId) await ec2.send(new DeleteVpcCommand({ VpcId: vpcId })).catch(() => undefined);
    });

    it('NLB: create (80 and 443 to node ports), idempotent resync, updates, delete without leftovers', async () => {
      const p = newProvider();
      const count = countCalls(p);
      const two = instances.slice(0, 2);
      const spec = service({ targets: nodes(...two) });

      const planned = await p.plan(spec);
      expect(planned.filter((c) => c.op === 'create').map((c) => c.resource)).toEqual(['SecurityGroup', 'TargetGroup', 'TargetGroup', 'LoadBalancer', 'Listener', 'Listener']);
      expect(count.writes()).toEqual([]);

      const status = await p.ensure(spec);
      expect(status.ingress).toHaveLength(1);
      expect(status.ingress[0]?.hostname).toMatch(/\w/);
      expect(status.ingress[0]?.ports).toEqual([
        { port: 80, protocol: 'TCP' },
        { port: 443, protocol: 'TCP' },
      ]);
      expect(count.writes()).toEqual(NLB_CREATE_WRITES);
      expect(await tagged()).toHaveLength(4);

      // Idempotency, counted at the SDK: a resync makes no write, and plan agrees.
      count.reset();
      expect(await p.ensure(spec)).toEqual(status);
      expect(count.writes()).toEqual([]);
      expect(count.calls.length).toBeGreaterThan(0);
      expect(await p.plan(spec)).toEqual([]);

      // A node joins: targets registered, nothing else.
      count.reset();
      await p.ensure(service());
      expect(count.writes()).toEqual(['RegisterTargets', 'RegisterTargets']);

      // A port edit: the listener moves (ModifyListener), the SG follows.
      count.reset();
      const moved = service({
        ports: [
          { port: 8080, nodePort: 30080 },
          { port: 443, nodePort: 30443 },
        ],
      });
      await p.ensure(moved);
      expect(count.writes()).toEqual(['AuthorizeSecurityGroupIngress', 'RevokeSecurityGroupIngress', 'AddTags', 'ModifyListener']);
      count.reset();
      await p.ensure(moved);
      expect(count.writes()).toEqual([]);

      // A node port change replaces the target group behind the listener.
      count.reset();
      const renumbered = service({
        ports: [
          { port: 8080, nodePort: 31080 },
          { port: 443, nodePort: 30443 },
        ],
      });
      await p.ensure(renumbered);
      expect(count.writes()).toEqual(['CreateTargetGroup', 'RegisterTargets', 'ModifyListener', 'DeleteTargetGroup']);
      expect(await p.plan(renumbered)).toEqual([]);

      // A fresh process (empty inventory) sees the same state: still no write.
      const q = newProvider();
      const qc = countCalls(q);
      await q.ensure(renumbered);
      expect(qc.writes()).toEqual([]);

      await q.delete(spec.ref);
      expect(await tagged()).toEqual([]);
      qc.reset();
      await q.delete(spec.ref);
      expect(qc.writes()).toEqual([]);
    });

    it('NLB with a user security group and TCP_UDP: the user group is referenced, never changed', async () => {
      const p = newProvider();
      const count = countCalls(p);
      const ref: LbRef = { kind: 'Service', namespace: 'dns', name: 'coredns', uid: `uid-${CLUSTER}-dns` };
      const base = service({
        ref,
        ports: [
          { port: 53, nodePort: 30053, protocol: 'TCP' },
          { port: 53, nodePort: 30053, protocol: 'UDP' },
        ],
        annotations: { 'service.beta.kubernetes.io/aws-load-balancer-enable-tcp-udp-listener': 'true' },
      });
      await p.ensure(base);
      expect(count.calls).toContain('CreateListener');
      const sgs = await ec2.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }, { Name: 'group-name', Values: ['default'] }] }));
      const userSg = sgs.SecurityGroups?.[0]?.GroupId ?? '';
      expect(userSg).toMatch(/^sg-/);
      count.reset();
      await p.ensure({ ...base, providerOptions: serviceOptions({ 'service.beta.kubernetes.io/aws-load-balancer-security-groups': userSg, 'service.beta.kubernetes.io/aws-load-balancer-enable-tcp-udp-listener': 'true' }) });
      expect(count.writes()).toEqual(['SetSecurityGroups', 'DeleteSecurityGroup']);
      await p.delete(ref);
      expect(await tagged()).toEqual([]);
    });

    // ELBv2 (and moto) refuse a timeout longer than the interval (an HTTP one must be shorter):
    // ALBC's NLB default of 10 s for both is taken for TCP, and its ALB 15 s / 5 s as well.
    it("ALBC's health-check defaults are accepted and stored as sent: NLB TCP 10 s / 10 s, 3 and 3; ALB HTTP 15 s / 5 s, 2 and 2", async () => {
      const p = newProvider();
      const nlb = service({ ref: { kind: 'Service', namespace: 'hc', name: 'web', uid: `uid-${CLUSTER}-hc` }, ports: [{ port: 80, nodePort: 30180 }] });
      const alb = ingress({ backends: [{ key: 'shop/web:80', nodePort: 31180 }], rules: [{ path: '/', pathType: 'Prefix', targetSet: 'shop/web:80', source: 'shop/web' }] });
      await p.ensure(nlb);
      await p.ensure(alb);
      const tgs = (await elbv2.send(new DescribeTargetGroupsCommand({}))).TargetGroups ?? [];
      const checks = tgs
        .filter((t) => t.HealthCheckPort === 'traffic-port' && (t.Port === 30180 || t.Port === 31180))
        .map((t) => [t.Port, t.HealthCheckProtocol, t.HealthCheckIntervalSeconds, t.HealthCheckTimeoutSeconds, t.HealthyThresholdCount, t.UnhealthyThresholdCount])
        .sort((a, b) => Number(a[0]) - Number(b[0]));
      expect(checks).toEqual([
        [30180, 'TCP', 10, 10, 3, 3],
        [31180, 'HTTP', 15, 5, 2, 2],
      ]);
      expect(await p.plan(nlb)).toEqual([]);
      expect(await p.plan(alb)).toEqual([]);
      await p.delete(nlb.ref);
      await p.delete(alb.ref);
      expect(await tagged()).toEqual([]);
    });

    it('ALB: host and path rules become listener rules; a rule change is ModifyRule; delete leaves nothing', async () => {
      const p = newProvider();
      const count = countCalls(p);
      const spec = ingress();
      const status = await p.ensure(spec);
      expect(status.ingress[0]?.hostname).toMatch(/\w/);
      expect(count.writes()).toEqual(ALB_CREATE_WRITES);
      count.reset();
      await p.ensure(spec);
      expect(count.writes()).toEqual([]);
      expect(count.calls).toContain('DescribeRules');

      count.reset();
      const changed = ingress({
        rules: [
          { host: 'shop.example.com', path: '/v2', pathType: 'Prefix', targetSet: 'shop/api:8080', source: 'shop/api' },
          { host: 'shop.example.com', path: '/', pathType: 'Prefix', targetSet: 'shop/web:80', source: 'shop/web' },
        ],
      });
      await p.ensure(changed);
      expect(count.writes()).toEqual(['ModifyRule']);
      expect(await p.plan(changed)).toEqual([]);

      await p.delete(spec.ref);
      expect(await tagged()).toEqual([]);
    });

    /** The load balancer answering at a status hostname, and its listeners, as AWS describes them. */
    const listenersAt = async (hostname: string | undefined) => {
      const lb = (await elbv2.send(new DescribeLoadBalancersCommand({}))).LoadBalancers?.find((l) => l.DNSName === hostname);
      return { lb, listeners: (await elbv2.send(new DescribeListenersCommand({ LoadBalancerArn: lb?.LoadBalancerArn }))).Listeners ?? [] };
    };

    it('ALB Gateway: an HTTPRoute canary (90/10) as a weighted forward; a weight change is one ModifyRule; delete leaves nothing', async () => {
      const p = newProvider();
      const count = countCalls(p);
      const gateway = (weights: [number, number]) => gatewaySpec({ clusterName: CLUSTER, targets: nodes(...instances), rules: canaryRules(weights) });
      const status = await p.ensure(gateway([90, 10]));
      expect(status.ingress[0]?.hostname).toMatch(/\w/);
      expect(count.writes().filter((w) => w === 'CreateRule')).toHaveLength(2);
      count.reset();
      await p.ensure(gateway([90, 10]));
      expect(count.writes()).toEqual([]);
      await p.ensure(gateway([50, 50]));
      expect(count.writes()).toEqual(['ModifyRule']);
      expect(await p.plan(gateway([50, 50]))).toEqual([]);
      await p.delete(gateway([50, 50]).ref);
      expect(await tagged()).toEqual([]);
    });

    it('NLB Gateway: a TCPRoute split 90/10 and a TCP_UDP port; no write on resync; a weight change is one ModifyListener; delete leaves nothing', async () => {
      const p = newProvider();
      const count = countCalls(p);
      const gateway = (weights: [number, number]) =>
        nlbGatewaySpec({
          clusterName: CLUSTER,
          targets: nodes(...instances),
          ports: [
            { protocol: 'TCP', port: 53, listener: 'dns-tcp', rules: [l4Rule('TCPRoute', 'dns', [backend('shop/dns:53/TCP')])] },
            { protocol: 'UDP', port: 53, listener: 'dns-udp', rules: [l4Rule('UDPRoute', 'dns', [backend('shop/dns:53/UDP')])] },
            { protocol: 'TCP', port: 5432, listener: 'db', rules: [l4Rule('TCPRoute', 'db', [backend('shop/db:5432/TCP', weights[0]), backend('shop/db-v2:5432/TCP', weights[1])])] },
          ],
        });
      const status = await p.ensure(gateway([90, 10]));
      expect(status.ingress[0]?.hostname).toMatch(/\w/);
      const { lb, listeners } = await listenersAt(status.ingress[0]?.hostname);
      expect(lb?.Type).toBe('network');
      expect(listeners.map((l) => `${l.Protocol}:${l.Port}`).sort()).toEqual(['TCP:5432', 'TCP_UDP:53']);
      const weights = listeners.find((l) => l.Port === 5432)?.DefaultActions?.[0]?.ForwardConfig?.TargetGroups?.map((g) => g.Weight);
      expect(weights).toEqual([90, 10]);
      count.reset();
      await p.ensure(gateway([90, 10]));
      expect(count.writes()).toEqual([]);
      await p.ensure(gateway([50, 50]));
      expect(count.writes()).toEqual(['ModifyListener']);
      expect(await p.plan(gateway([50, 50]))).toEqual([]);
      await p.delete(gateway([50, 50]).ref);
      expect(await tagged()).toEqual([]);
    });

    it('NLB Gateway TLS: Terminate as a TLS listener with the ACM certificate, Passthrough as TCP; no write on resync; delete leaves nothing', async () => {
      const cert = await requestCertificate('db.example.com');
      const p = newProvider();
      const count = countCalls(p);
      const route = (name: string) => [l4Rule('TLSRoute', name, [backend('shop/tls:8443/TCP')])];
      const spec = nlbGatewaySpec({
        clusterName: CLUSTER,
        targets: nodes(...instances),
        annotations: { 'alb.ingress.kubernetes.io/certificate-arn': cert },
        ports: [
          { protocol: 'TLS', port: 443, listeners: [tlsListener('pass', 'Passthrough', route('pass'))] },
          { protocol: 'TLS', port: 5433, listeners: [tlsListener('term', 'Terminate', route('term'), 'db.example.com')] },
        ],
      });
      const status = await p.ensure(spec);
      const { listeners } = await listenersAt(status.ingress[0]?.hostname);
      expect(listeners.map((l) => [l.Port, l.Protocol, l.Certificates?.[0]?.CertificateArn]).sort()).toEqual([
        [443, 'TCP', undefined],
        [5433, 'TLS', cert],
      ]);
      count.reset();
      await p.ensure(spec);
      expect(count.writes()).toEqual([]);
      await p.delete(spec.ref);
      expect(await tagged()).toEqual([]);
    });

    it('NLB Gateway listenerConfigurations: the idle timeout as a listener attribute, a TLS listener\'s certificates and ALPN policy; no write on resync; a changed timeout is one ModifyListenerAttributes', async () => {
      const [certA, certB] = [await requestCertificate('db.example.com'), await requestCertificate('db2.example.com')];
      const p = newProvider();
      const count = countCalls(p);
      const spec = (idle: string) => {
        const value = parsedLoadBalancerConfiguration({
          listenerConfigurations: [
            { protocolPort: 'TCP:5432', listenerAttributes: [{ key: 'tcp.idle_timeout.seconds', value: idle }] },
            { protocolPort: 'TLS:5433', defaultCertificate: certA, certificates: [certB], alpnPolicy: 'HTTP2Preferred' },
          ],
        });
        return {
          ...nlbGatewaySpec({
            clusterName: CLUSTER,
            targets: nodes(...instances),
            ports: [
              { protocol: 'TCP', port: 5432, listener: 'db', rules: [l4Rule('TCPRoute', 'db', [backend('shop/db:5432/TCP')])] },
              { protocol: 'TLS', port: 5433, listeners: [tlsListener('term', 'Terminate', [l4Rule('TLSRoute', 'term', [backend('shop/tls:8443/TCP')])])] },
            ],
          }),
          parameters: { ...LOAD_BALANCER_CONFIGURATION, namespace: 'shop', name: 'cfg', value },
        };
      };
      const status = await p.ensure(spec('900'));
      const lb = (await elbv2.send(new DescribeLoadBalancersCommand({}))).LoadBalancers?.find((l) => l.DNSName === status.ingress[0]?.hostname);
      const listeners = (await elbv2.send(new DescribeListenersCommand({ LoadBalancerArn: lb?.LoadBalancerArn }))).Listeners ?? [];
      const tcp = listeners.find((l) => l.Port === 5432);
      const tls = listeners.find((l) => l.Port === 5433);
      expect([tls?.Protocol, tls?.Certificates?.[0]?.CertificateArn, tls?.AlpnPolicy]).toEqual(['TLS', certA, ['HTTP2Preferred']]);
      const extra = (await elbv2.send(new DescribeListenerCertificatesCommand({ ListenerArn: tls?.ListenerArn }))).Certificates ?? [];
      expect(extra.filter((c) => c.IsDefault !== true).map((c) => c.CertificateArn)).toEqual([certB]);
      const attributes = async () => (await elbv2.send(new DescribeListenerAttributesCommand({ ListenerArn: tcp?.ListenerArn }))).Attributes ?? [];
      expect((await attributes()).find((a) => a.Key === 'tcp.idle_timeout.seconds')?.Value).toBe('900');
      count.reset();
      await p.ensure(spec('900'));
      expect(count.writes()).toEqual([]);
      await p.ensure(spec('600'));
      expect(count.writes()).toEqual(['ModifyListenerAttributes']);
      expect((await attributes()).find((a) => a.Key === 'tcp.idle_timeout.seconds')?.Value).toBe('600');
      expect(await p.plan(spec('600'))).toEqual([]);
      await p.delete(spec('600').ref);
      expect(await tagged()).toEqual([]);
    });

    it('ALB Gateway: a URLRewrite as rule Transforms, when the emulator has them', async (ctx) => {
      const p = newProvider();
      const spec = gatewaySpec({
        clusterName: CLUSTER,
        targets: nodes(...instances),
        rules: [httpRule(0, [prefix('/shop')], [backend('shop/web:80')], { filters: [{ type: 'URLRewrite', path: { type: 'ReplacePrefixMatch', value: '/store' } }] })],
      });
      try {
        await p.ensure(spec);
        const lb = (await elbv2.send(new DescribeLoadBalancersCommand({}))).LoadBalancers?.find((l) => l.LoadBalancerName?.startsWith('k8s-shop-edge-'));
        const [listener] = (await elbv2.send(new DescribeListenersCommand({ LoadBalancerArn: lb?.LoadBalancerArn ?? '' }))).Listeners ?? [];
        const [rule] = ((await elbv2.send(new DescribeRulesCommand({ ListenerArn: listener?.ListenerArn ?? '' }))).Rules ?? []).filter((r) => !r.IsDefault);
        // moto 5.2 (and LocalStack on it) takes CreateRule's Transforms without keeping them: DescribeRules has none.
        if ((rule?.Transforms ?? []).length === 0) {
          ctx.skip('the emulator does not keep ELBv2 rule Transforms (moto 5.2 ignores them); the fake-ELBv2 tests cover them');
          return;
        }
        expect(rule?.Transforms?.[0]).toMatchObject({ Type: 'url-rewrite', UrlRewriteConfig: { Rewrites: [{ Regex: '^/shop(/?)', Replace: '/store$1' }] } });
        // Transforms read back: the resync compares equal and writes nothing.
        expect(await p.plan(spec)).toEqual([]);
      } finally {
        await p.delete(spec.ref);
        expect(await tagged()).toEqual([]);
      }
    });

    it('TLS and HTTPS: NLB TLS listener on the ssl-port, ALB HTTPS with extra certificates and ssl-redirect', async () => {
      const certA = await requestCertificate('shop.example.com');
      const certB = await requestCertificate('api.example.com');
      const p = newProvider();
      const count = countCalls(p);
      const ref: LbRef = { kind: 'Service', namespace: 'shop', name: 'tls', uid: `uid-${CLUSTER}-tls` };
      const nlb = service({
        ref,
        annotations: { 'service.beta.kubernetes.io/aws-load-balancer-ssl-cert': certA, 'service.beta.kubernetes.io/aws-load-balancer-ssl-ports': '443' },
      });
      await p.ensure(nlb);
      count.reset();
      await p.ensure(nlb);
      expect(count.writes()).toEqual([]);

      const annotations = {
        'alb.ingress.kubernetes.io/listen-ports': '[{"HTTP": 80}, {"HTTPS": 443}]',
        'alb.ingress.kubernetes.io/ssl-redirect': '443',
        'alb.ingress.kubernetes.io/certificate-arn': `${certA},${certB}`,
      };
      const alb = ingress({ annotations });
      count.reset();
      await p.ensure(alb);
      expect(count.writes().filter((w) => w.includes('Listener'))).toEqual(['CreateListener', 'CreateListener', 'AddListenerCertificates']);
      count.reset();
      await p.ensure(alb);
      expect(count.writes()).toEqual([]);
      count.reset();
      await p.ensure(ingress({ annotations: { ...annotations, 'alb.ingress.kubernetes.io/certificate-arn': certA } }));
      expect(count.writes()).toEqual(['RemoveListenerCertificates']);

      await p.delete(ref);
      await p.delete(alb.ref);
      expect(await tagged()).toEqual([]);
    });

    it('ALB authentication (ALBC model_build_actions.go): authenticate-oidc and -cognito before the forward on HTTPS, no write on resync, a rotated OIDC secret sent again', async () => {
      const cert = await requestCertificate('auth.example.com');
      const p = newProvider();
      const count = countCalls(p);
      const oidc = {
        'alb.ingress.kubernetes.io/certificate-arn': cert,
        'alb.ingress.kubernetes.io/auth-type': 'oidc',
        'alb.ingress.kubernetes.io/auth-idp-oidc': JSON.stringify({
          issuer: 'https://idp.example.com',
          authorizationEndpoint: 'https://idp.example.com/authorize',
          tokenEndpoint: 'https://idp.example.com/token',
          userInfoEndpoint: 'https://idp.example.com/userinfo',
          secretName: 'oidc',
        }),
      };
      const spec = { ...ingress({ annotations: oidc }), secrets: { 'shop/oidc': { clientID: 'client-1', clientSecret: 'secret-1' } } };
      await p.ensure(spec);
      count.reset();
      await p.ensure(spec);
      expect(count.writes()).toEqual([]);
      count.reset();
      await p.ensure({ ...spec, secrets: { 'shop/oidc': { clientID: 'client-1', clientSecret: 'secret-2' } } });
      expect(count.writes()).toEqual(['ModifyRule', 'ModifyRule', 'AddTags']);

      const cognito = {
        'alb.ingress.kubernetes.io/certificate-arn': cert,
        'alb.ingress.kubernetes.io/auth-type': 'cognito',
        'alb.ingress.kubernetes.io/auth-idp-cognito': JSON.stringify({ userPoolARN: `arn:aws:cognito-idp:${region}:123456789012:userpool/${region}_abc`, userPoolClientID: 'c1', userPoolDomain: 'auth' }),
      };
      count.reset();
      await p.ensure(ingress({ annotations: cognito }));
      expect(count.writes()).toEqual(['ModifyRule', 'ModifyRule']);
      count.reset();
      await p.ensure(ingress({ annotations: cognito }));
      expect(count.writes()).toEqual([]);
      await p.delete(spec.ref);
      expect(await tagged()).toEqual([]);
    });

    it('a crash right after the first target group is created: the next process finishes, delete leaks nothing', async () => {
      const ref: LbRef = { kind: 'Service', namespace: 'shop', name: 'crashy', uid: `uid-${CLUSTER}-crashy` };
      const spec = service({ ref });
      const dying = newProvider();
      const crash = crashAfter(dying, 'CreateTargetGroup');
      await expect(dying.ensure(spec)).rejects.toThrow(/simulated crash/);
      expect(crash.crashed()).toBe(true);
      expect((await tagged()).length).toBeGreaterThan(0);

      const next = newProvider();
      const count = countCalls(next);
      const status = await next.ensure(spec);
      expect(status.ingress[0]?.hostname).toMatch(/\w/);
      // The group that landed before the crash is found by its tags, not created twice.
      expect(count.writes().filter((w) => w === 'CreateTargetGroup')).toHaveLength(1);
      expect(count.writes().filter((w) => w === 'CreateSecurityGroup')).toHaveLength(0);
      expect(await next.plan(spec)).toEqual([]);
      const owned = await next.listOwned();
      expect(owned.map((o) => o.ref.uid)).toContain(ref.uid);

      await newProvider().delete(ref);
      expect(await tagged()).toEqual([]);
    });

    it('the shared backend security group: per-load-balancer rules migrated, one rule per protocol for two NLBs, released with the last', async () => {
      const nodeSg = await nodeSecurityGroup(`${CLUSTER}-nodes`);
      const rules = () => ingressRules(nodeSg);
      const lbGroups = async (): Promise<string[][]> => {
        const lbs = (await elbv2.send(new DescribeLoadBalancersCommand({}))).LoadBalancers ?? [];
        const mine = new Set((await tagged()).filter((a) => a.includes(':loadbalancer/')));
        return lbs.filter((l) => mine.has(l.LoadBalancerArn ?? '')).map((l) => [...(l.SecurityGroups ?? [])].sort());
      };
      const a: LbRef = { kind: 'Service', namespace: 'shop', name: 'a', uid: `uid-${CLUSTER}-sg-a` };
      const b: LbRef = { kind: 'Service', namespace: 'shop', name: 'b', uid: `uid-${CLUSTER}-sg-b` };
      const specB = service({ ref: b, ports: [{ port: 80, nodePort: 31180 }] });
      try {
        // Today's shape: a rule per node port, from the load balancer's own group.
        const perLb = new AwsProvider({
          name: 'aws',
          clusterName: CLUSTER,
          options: awsOptionsSchema.parse({ ...emulatorOptions(), backendSecurityGroup: { enabled: false } }),
          clients: { clientConfig: { credentials } },
          logger: { warn: () => undefined },
        });
        await perLb.ensure(service({ ref: a }));
        expect(await rules()).toHaveLength(2);

        const p = newProvider();
        const count = countCalls(p);
        await p.ensure(service({ ref: a }));
        expect(count.writes()).toEqual(['CreateSecurityGroup', 'AuthorizeSecurityGroupIngress', 'SetSecurityGroups', 'RevokeSecurityGroupIngress']);
        const found = await ec2.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'group-name', Values: [backendSecurityGroupName(CLUSTER)] }] }));
        const backend = found.SecurityGroups?.[0];
        expect(backend?.VpcId).toBe(vpcId);
        expect(Object.fromEntries((backend?.Tags ?? []).map((t) => [t.Key, t.Value]))).toMatchObject({
          'lbc.dev/cluster': CLUSTER,
          'lbc.dev/resource': 'BackendSecurityGroup',
          'elbv2.k8s.aws/cluster': CLUSTER,
          'elbv2.k8s.aws/resource': 'backend-sg',
        });
        const sg = backend?.GroupId ?? '';
        const shared = [`tcp/30000-32767 from ${sg} [lbc]`, `udp/30000-32767 from ${sg} [lbc]`];
        expect(await rules()).toEqual(shared);

        // A second load balancer: its own frontend group and rule, the shared group attached, no rule added on the node group.
        count.reset();
        await p.ensure(specB);
        expect(count.writes()).toEqual(['CreateSecurityGroup', 'AuthorizeSecurityGroupIngress', 'CreateTargetGroup', 'RegisterTargets', 'CreateLoadBalancer', 'CreateListener']);
        expect(await rules()).toEqual(shared);
        expect((await lbGroups()).every((g) => g.includes(sg))).toBe(true);
        count.reset();
        await p.ensure(service({ ref: a }));
        await p.ensure(specB);
        expect(count.writes()).toEqual([]);

        // A fresh process deletes the first: the second still has the group.
        await newProvider().delete(a);
        expect(await rules()).toEqual(shared);
        await newProvider().delete(b);
        expect(await rules()).toEqual([]);
        expect(await tagged()).toEqual([]);
      } finally {
        await newProvider().delete(a).catch(() => undefined);
        await newProvider().delete(b).catch(() => undefined);
        await ec2.send(new DeleteSecurityGroupCommand({ GroupId: nodeSg })).catch(() => undefined);
      }
    });

    it('ip targets: one rule per pod port from the shared backend group for two NLBs, kept while one is left, revoked with the last', async () => {
      const nodeSg = await nodeSecurityGroup(`${CLUSTER}-nodes-ip`);
      const rules = () => ingressRules(nodeSg);
      const a: LbRef = { kind: 'Service', namespace: 'shop', name: 'ip-a', uid: `uid-${CLUSTER}-ip-a` };
      const b: LbRef = { kind: 'Service', namespace: 'shop', name: 'ip-b', uid: `uid-${CLUSTER}-ip-b` };
      const spec = (ref: LbRef) => ipNlbSpec({ ref, clusterName: CLUSTER, podIps: ['10.42.0.21', '10.42.0.22'] });
      try {
        const p = newProvider();
        const count = countCalls(p);
        await p.ensure(spec(a));
        const found = await ec2.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'group-name', Values: [backendSecurityGroupName(CLUSTER)] }] }));
        const sg = found.SecurityGroups?.[0]?.GroupId ?? '';
        expect(await rules()).toEqual([`tcp/8080-8080 from ${sg} [lbc]`]);
        count.reset();
        await p.ensure(spec(b));
        // Its own frontend group and rule; no rule on the node group.
        expect(count.writes()).toEqual(['CreateSecurityGroup', 'AuthorizeSecurityGroupIngress', 'CreateTargetGroup', 'RegisterTargets', 'CreateLoadBalancer', 'CreateListener']);
        expect(await rules()).toEqual([`tcp/8080-8080 from ${sg} [lbc]`]);
        count.reset();
        await p.ensure(spec(a));
        await p.ensure(spec(b));
        expect(count.writes()).toEqual([]);
        // A fresh process deletes the first: the second's target group still claims the port.
        await newProvider().delete(a);
        expect(await rules()).toEqual([`tcp/8080-8080 from ${sg} [lbc]`]);
        await newProvider().delete(b);
        expect(await rules()).toEqual([]);
        expect(await tagged()).toEqual([]);
      } finally {
        await newProvider().delete(a).catch(() => undefined);
        await newProvider().delete(b).catch(() => undefined);
        await ec2.send(new DeleteSecurityGroupCommand({ GroupId: nodeSg })).catch(() => undefined);
      }
    });

    it('a crash right after CreateLoadBalancer, then the object is deleted: delete alone cleans up', async () => {
      const ref: LbRef = { kind: 'Service', namespace: 'shop', name: 'gone', uid: `uid-${CLUSTER}-gone` };
      const dying = newProvider();
      crashAfter(dying, 'CreateLoadBalancer');
      await expect(dying.ensure(service({ ref }))).rejects.toThrow(/simulated crash/);
      await newProvider().delete(ref);
      expect(await tagged()).toEqual([]);
    });

    it('a TargetGroupBinding end to end: pods into the user\'s ip group and nodes into their instance group, the rules on the node group, no write on resync, delete empties the groups and leaves them', async () => {
      const p = newProvider();
      const count = countCalls(p);
      const nodeSg = (await ec2.send(new CreateSecurityGroupCommand({ GroupName: `${CLUSTER}-nodes`, Description: 'nodes', VpcId: vpcId }))).GroupId ?? '';
      await ec2.send(new CreateTagsCommand({ Resources: [nodeSg], Tags: [{ Key: `kubernetes.io/cluster/${CLUSTER}`, Value: 'owned' }] }));
      const userGroup = async (name: string, TargetType: 'ip' | 'instance'): Promise<string> =>
        (await elbv2.send(new CreateTargetGroupCommand({ Name: name, Protocol: 'TCP', Port: 8080, VpcId: vpcId, TargetType }))).TargetGroups?.[0]?.TargetGroupArn ?? '';
      const ipArn = await userGroup(`${CLUSTER}-ip`, 'ip');
      const instArn = await userGroup(`${CLUSTER}-inst`, 'instance');
      const registered = async (arn: string): Promise<string[]> =>
        ((await elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: arn }))).TargetHealthDescriptions ?? [])
          .filter((d) => d.TargetHealth?.State !== 'draining')
          .map((d) => `${d.Target?.Id ?? ''}:${d.Target?.Port ?? 0}`)
          .sort();
      const ref = { namespace: 'shop', name: 'web', uid: `uid-${CLUSTER}-tgb` };
      const binding = (arn: string, pods: string[]) => ({
        ref,
        clusterName: CLUSTER,
        service: 'web',
        targetGroup: { arn },
        podTargets: pods.map((ip) => ({ ip, port: 8080 })),
        nodeTargets: { nodePort: 30080, nodes: nodes(...instances.slice(0, 2)) },
        access: [{ from: { cidr: '10.42.0.0/16' }, protocol: 'tcp' as const, fromPort: 8080, toPort: 8080 }],
      });

      const r = await p.bindTargets(binding(ipArn, ['10.42.0.10', '10.42.0.11']));
      expect(r).toMatchObject({ targetType: 'ip', registered: 2 });
      expect(count.writes()).toEqual(['AuthorizeSecurityGroupIngress', 'RegisterTargets']);
      expect(await registered(ipArn)).toEqual(['10.42.0.10:8080', '10.42.0.11:8080']);
      const rules = (await ec2.send(new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: 'group-id', Values: [nodeSg] }] }))).SecurityGroupRules ?? [];
      expect(rules.filter((x) => !x.IsEgress).map((x) => `${x.IpProtocol}/${x.FromPort} ${x.CidrIpv4}`)).toEqual(['tcp/8080 10.42.0.0/16']);

      count.reset();
      await p.bindTargets(binding(ipArn, ['10.42.0.10', '10.42.0.11']));
      expect(count.writes()).toEqual([]);

      count.reset();
      await p.bindTargets(binding(ipArn, ['10.42.0.11', '10.42.0.12']));
      expect(count.writes()).toEqual(['RegisterTargets', 'DeregisterTargets']);
      expect(await registered(ipArn)).toEqual(['10.42.0.11:8080', '10.42.0.12:8080']);

      // The instance group decides the type (spec.targetType absent): the nodes on the node port.
      const other = { ...binding(instArn, []), ref: { ...ref, name: 'web-inst', uid: `uid-${CLUSTER}-tgb2` }, access: [] };
      expect(await p.bindTargets(other)).toMatchObject({ targetType: 'instance', registered: 2 });
      expect(await registered(instArn)).toEqual(instances.slice(0, 2).map((i) => `${i}:30080`).sort());
      await expect(p.bindTargets({ ...other, targetType: 'ip' })).rejects.toThrow(/spec\.targetType is ip but target group .* has target type instance/);

      count.reset();
      await p.unbindTargets(ref, { arn: ipArn });
      await p.unbindTargets(other.ref, { arn: instArn });
      expect(count.writes()).toEqual(['DeregisterTargets', 'RevokeSecurityGroupIngress', 'DeregisterTargets']);
      expect(await registered(ipArn)).toEqual([]);
      expect(await registered(instArn)).toEqual([]);
      // The groups are the user's: still there, never tagged.
      const left = (await elbv2.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [ipArn, instArn] }))).TargetGroups ?? [];
      expect(left).toHaveLength(2);
      expect(await tagged()).toEqual([]);
      for (const arn of [ipArn, instArn]) await elbv2.send(new DeleteTargetGroupCommand({ TargetGroupArn: arn }));
      await ec2.send(new DeleteSecurityGroupCommand({ GroupId: nodeSg }));
    });

    describe('the controller (devcluster + reconcilers + the aws provider from config)', () => {
      let e: E2E;
      let aws: AwsProvider;
      let count: Counter;
      // The nodes' security group, made by "the cluster's owner" and tagged for the cluster,
      // so that lbc adds (tagged) backend rules to it rather than warning that none exists.
      let nodeSg = '';
      const lbcRulesOnNodeSg = async (): Promise<number> => {
        const r = await ec2.send(new DescribeSecurityGroupRulesCommand({ Filters: [{ Name: 'group-id', Values: [nodeSg] }] }));
        return (r.SecurityGroupRules ?? []).filter((x) => !x.IsEgress && x.Tags?.some((t) => t.Key === 'lbc.dev/cluster' && t.Value === e.ns)).length;
      };

      beforeAll(async () => {
        // The provider built from config uses the SDK's default credential chain.
        process.env['AWS_ACCESS_KEY_ID'] ??= credentials.accessKeyId;
        process.env['AWS_SECRET_ACCESS_KEY'] ??= credentials.secretAccessKey;
        e = await E2E.start({
          config: {
            providers: [{ name: 'aws', type: 'aws', options: emulatorOptions() }],
            defaultClass: 'lbc.dev/aws',
          },
          // Started once ALBC's IngressClassParams CRD is in: lbc watches the params only when it is there at start.
          noStart: true,
        });
        await e.installCrds([ICP_CRD]);
        aws = e.providers.byName('aws') as AwsProvider;
        count = countCalls(aws);
        // The devcluster's cluster name is the suite's namespace: the subnets are shared with it.
        await ec2.send(new CreateTagsCommand({ Resources: subnetIds, Tags: [{ Key: `kubernetes.io/cluster/${e.ns}`, Value: 'shared' }] }));
        const sg = await ec2.send(new CreateSecurityGroupCommand({ GroupName: `${e.ns}-nodes`, Description: 'nodes', VpcId: vpcId }));
        nodeSg = sg.GroupId ?? '';
        await ec2.send(new CreateTagsCommand({ Resources: [nodeSg], Tags: [{ Key: `kubernetes.io/cluster/${e.ns}`, Value: 'owned' }] }));
        for (const [i, id] of instances.slice(0, 2).entries()) {
          await e.core.createNode({
            body: {
              metadata: { name: `${e.ns}-n${i}`, labels: { [e.nodeLabel]: 'true' } },
              spec: { providerID: `aws:///${region}a/${id}` },
              status: { conditions: [{ type: 'Ready', status: 'True', reason: 'Test', message: 'test' }], addresses: [{ type: 'InternalIP', address: `10.42.0.${10 + i}` }] },
            },
          });
        }
        await e.controller.start();
        await eventually('the nodes eligible', () => e.controller.stats().eligibleNodes === 2);
      });

      afterAll(async () => {
        await e?.stop();
        expect(await tagged(e.ns)).toEqual([]);
        if (nodeSg) await ec2.send(new DeleteSecurityGroupCommand({ GroupId: nodeSg })).catch(() => undefined);
      });

      it('a LoadBalancer Service: NLB hostname in the status, no write on resync, nothing left after delete', async () => {
        await e.service(
          'web',
          {
            type: 'LoadBalancer',
            selector: { app: 'web' },
            ports: [
              { name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' },
              { name: 'https', port: 443, targetPort: 8443, protocol: 'TCP' },
            ],
          },
          { 'service.beta.kubernetes.io/aws-load-balancer-scheme': 'internet-facing' },
        );
        const hostname = await eventually('a hostname', async () => (await e.getService('web'))?.status?.loadBalancer?.ingress?.[0]?.hostname, 30_000);
        expect(hostname).toMatch(/\w/);
        await e.settle();
        // The NLB, its two target groups, its frontend group and the cluster's shared backend group.
        expect((await tagged(e.ns)).length).toBe(5);
        const tgs = (await tagged(e.ns)).filter((a) => a.includes(':targetgroup/'));
        for (const tg of tgs) {
          const h = await elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: tg }));
          expect((h.TargetHealthDescriptions ?? []).map((d) => d.Target?.Id).sort()).toEqual(instances.slice(0, 2));
        }
        expect(await e.reasons('web')).toEqual(['EnsuringLoadBalancer', 'EnsuredLoadBalancer']);
        // One rule per protocol, from the shared backend group.
        expect(await lbcRulesOnNodeSg()).toBe(2);

        count.reset();
        e.controller.enqueueAll();
        await e.settle();
        expect(count.writes()).toEqual([]);

        await e.core.deleteNamespacedService({ namespace: e.ns, name: 'web' });
        await eventually('the Service gone (finalizer released)', async () => (await e.getService('web')) === undefined, 30_000);
        expect(await tagged(e.ns)).toEqual([]);
        expect(await lbcRulesOnNodeSg()).toBe(0);
      });

      it('a misspelt annotation (healthcheck-pth): a Warning naming it and the one meant, the UnreadAnnotations condition, the NLB still made from the rest', async () => {
        await e.service('typo', { type: 'LoadBalancer', selector: { app: 'typo' }, ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }] }, {
          'service.beta.kubernetes.io/aws-load-balancer-scheme': 'internal',
          'service.beta.kubernetes.io/aws-load-balancer-healthcheck-pth': '/healthz',
        });
        await eventually('a hostname', async () => (await e.getService('typo'))?.status?.loadBalancer?.ingress?.[0]?.hostname, 30_000);
        const warning = await e.warningOn('typo', 'service.beta.kubernetes.io/aws-load-balancer-healthcheck-pth', 'did you mean service.beta.kubernetes.io/aws-load-balancer-healthcheck-path?');
        expect(warning.involvedObject).toMatchObject({ kind: 'Service', name: 'typo' });
        const unread = (await e.getService('typo'))?.status?.conditions?.find((c) => c.type === 'lbc.dev/UnreadAnnotations');
        expect(unread).toMatchObject({ status: 'True' });
        expect(unread?.message).toContain('service.beta.kubernetes.io/aws-load-balancer-healthcheck-pth: not an annotation lbc reads');
        // The rest of the annotations applied: the NLB is internal, as asked.
        const lbs = (await tagged(e.ns)).filter((a) => a.includes(':loadbalancer/'));
        const described = await elbv2.send(new DescribeLoadBalancersCommand({ LoadBalancerArns: lbs }));
        expect(described.LoadBalancers?.map((l) => l.Scheme)).toEqual(['internal']);
        await e.core.deleteNamespacedService({ namespace: e.ns, name: 'typo' });
        await eventually('the Service gone (finalizer released)', async () => (await e.getService('typo')) === undefined, 30_000);
        expect(await tagged(e.ns)).toEqual([]);
      });

      it('an Ingress group: two Ingresses, one ALB with their rules, gone with the last Ingress', async () => {
        const cls = await e.ingressClass('alb', 'aws');
        for (const name of ['shop', 'api']) {
          await e.service(name, { type: 'NodePort', selector: { app: name }, ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }] });
        }
        const annotations = { 'alb.ingress.kubernetes.io/group.name': `${e.ns}-grp`, 'alb.ingress.kubernetes.io/scheme': 'internet-facing' };
        for (const [name, path] of [
          ['shop', '/'],
          ['api', '/api'],
        ] as const) {
          await e.networking.createNamespacedIngress({
            namespace: e.ns,
            body: {
              metadata: { name, annotations },
              spec: {
                ingressClassName: cls,
                rules: [{ host: 'shop.example.com', http: { paths: [{ path, pathType: 'Prefix', backend: { service: { name, port: { number: 80 } } } }] } }],
              },
            },
          });
        }
        const host = await eventually('both Ingresses with the ALB hostname', async () => {
          const a = (await e.getIngress('shop'))?.status?.loadBalancer?.ingress?.[0]?.hostname;
          const b = (await e.getIngress('api'))?.status?.loadBalancer?.ingress?.[0]?.hostname;
          return a !== undefined && a === b ? a : undefined;
        }, 30_000);
        expect(host).toMatch(/\w/);
        await e.settle();
        const lbs = (await tagged(e.ns)).filter((a) => a.includes(':loadbalancer/'));
        expect(lbs).toHaveLength(1);

        count.reset();
        e.controller.enqueueAll();
        await e.settle();
        expect(count.writes()).toEqual([]);

        for (const name of ['shop', 'api']) await e.networking.deleteNamespacedIngress({ namespace: e.ns, name });
        await eventually('the Ingresses gone', async () => (await e.getIngress('shop')) === undefined && (await e.getIngress('api')) === undefined, 30_000);
        expect(await tagged(e.ns)).toEqual([]);
      });

      // aws-load-balancer-controller v3.5 docs/guide/ingress/ingress_class.md spec.subnets.tags and
      // pkg/networking/subnet_resolver.go ResolveViaSelector: the emulator's DescribeSubnets
      // answers the vpc-id and tag:<key> filters; one subnet per zone, this cluster's first.
      it('IngressClassParams spec.subnets.tags: the ALB goes in the VPC\'s subnets with one of the values, one per zone, not in the role-tagged ones', async () => {
        const tier = `web-${e.ns}`;
        const subnet = async (third: number, az: string, tags: Record<string, string>): Promise<string> => {
          const id = (await ec2.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: `10.42.${third}.0/24`, AvailabilityZone: `${region}${az}` }))).Subnet?.SubnetId ?? '';
          subnetIds.push(id);
          await ec2.send(new CreateTagsCommand({ Resources: [id], Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) }));
          return id;
        };
        await subnet(20, 'a', { 'lbc-e2e/tier': tier });
        const mineA = await subnet(21, 'a', { 'lbc-e2e/tier': tier, [`kubernetes.io/cluster/${e.ns}`]: 'shared' });
        const b = await subnet(22, 'b', { 'lbc-e2e/tier': `${tier}-canary` });
        await subnet(23, 'b', { 'lbc-e2e/tier': `${tier}-db` });
        await subnet(24, 'b', { 'lbc-e2e/tier': tier, 'kubernetes.io/cluster/someone-else': 'owned' });

        const params = `${e.ns}-tagged`;
        const custom = e.cluster.kc.makeApiClient(CustomObjectsApi);
        await custom.createClusterCustomObject({
          ...ICP,
          body: { apiVersion: 'elbv2.k8s.aws/v1beta1', kind: 'IngressClassParams', metadata: { name: params }, spec: { subnets: { tags: { 'lbc-e2e/tier': [tier, `${tier}-canary`] } } } },
        });
        const cls = `${e.ns}-tagged`;
        await e.networking.createIngressClass({
          body: { metadata: { name: cls }, spec: { controller: e.config.ingress.controllerName, parameters: { apiGroup: 'elbv2.k8s.aws', kind: 'IngressClassParams', name: params } } },
        });
        try {
          await e.service('tagged', { type: 'NodePort', selector: { app: 'tagged' }, ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }] });
          await e.networking.createNamespacedIngress({
            namespace: e.ns,
            body: {
              metadata: { name: 'tagged' },
              spec: { ingressClassName: cls, rules: [{ host: 'tagged.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'tagged', port: { number: 80 } } } }] } }] },
            },
          });
          const host = await eventually('the Ingress with its ALB\'s hostname', async () => (await e.getIngress('tagged'))?.status?.loadBalancer?.ingress?.[0]?.hostname, 30_000);
          const lb = ((await elbv2.send(new DescribeLoadBalancersCommand({}))).LoadBalancers ?? []).find((l) => l.DNSName === host);
          expect((lb?.AvailabilityZones ?? []).map((z) => z.SubnetId).sort()).toEqual([mineA, b].sort());

          await e.networking.deleteNamespacedIngress({ namespace: e.ns, name: 'tagged' });
          await eventually('the Ingress gone', async () => (await e.getIngress('tagged')) === undefined, 30_000);
          expect(await tagged(e.ns)).toEqual([]);
        } finally {
          await e.networking.deleteIngressClass({ name: cls }).catch(() => undefined);
          await custom.deleteClusterCustomObject({ ...ICP, name: params }).catch(() => undefined);
        }
      });

      // aws-load-balancer-controller: one target group per Ingress, Service and port
      // (model_build_target_group.go buildTargetGroupResourceID), each from its own Ingress's
      // target-type; each Ingress's rules on its own listen-ports (model_builder.go ingListByPort).
      it('a group with per-Ingress target types and listen-ports: one Service port, two target groups, each member on its own listener', async () => {
        const cls = await e.ingressClass('alb-per-ingress', 'aws');
        await e.service('both', { type: 'NodePort', ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }] });
        await e.endpointSlice('both', ['10.42.0.50'], 8080);
        const group = { 'alb.ingress.kubernetes.io/group.name': `${e.ns}-per`, 'alb.ingress.kubernetes.io/scheme': 'internet-facing' };
        const members = [
          ['pods', { 'alb.ingress.kubernetes.io/target-type': 'ip', 'alb.ingress.kubernetes.io/listen-ports': '[{"HTTP": 80}]' }],
          ['nodes', { 'alb.ingress.kubernetes.io/target-type': 'instance', 'alb.ingress.kubernetes.io/listen-ports': '[{"HTTP": 8080}]' }],
        ] as const;
        for (const [name, own] of members) {
          await e.networking.createNamespacedIngress({
            namespace: e.ns,
            body: {
              metadata: { name, annotations: { ...group, ...own } },
              spec: { ingressClassName: cls, rules: [{ host: `${name}.example.com`, http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'both', port: { number: 80 } } } }] } }] },
            },
          });
        }
        await eventually('both Ingresses with the ALB hostname', async () => {
          const a = (await e.getIngress('pods'))?.status?.loadBalancer?.ingress?.[0]?.hostname;
          const b = (await e.getIngress('nodes'))?.status?.loadBalancer?.ingress?.[0]?.hostname;
          return a !== undefined && a === b ? a : undefined;
        }, 30_000);
        await e.settle();
        const arns = await tagged(e.ns);
        const lbArn = arns.find((a) => a.includes(':loadbalancer/')) ?? '';
        const tgs = (await elbv2.send(new DescribeTargetGroupsCommand({ LoadBalancerArn: lbArn }))).TargetGroups ?? [];
        const nodePort = (await e.getService('both'))?.spec?.ports?.[0]?.nodePort;
        expect(nodePort).toBeGreaterThan(0);
        expect(tgs.map((t) => [t.TargetType, t.Port]).sort()).toEqual([
          ['instance', nodePort],
          ['ip', 8080],
        ]);
        const ipTg = tgs.find((t) => t.TargetType === 'ip')?.TargetGroupArn ?? '';
        const instanceTg = tgs.find((t) => t.TargetType === 'instance')?.TargetGroupArn ?? '';
        const ipTargets = (await elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: ipTg }))).TargetHealthDescriptions ?? [];
        expect(ipTargets.map((d) => d.Target?.Id)).toEqual(['10.42.0.50']);
        const nodeTargets = (await elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: instanceTg }))).TargetHealthDescriptions ?? [];
        expect(nodeTargets.map((d) => d.Target?.Id).sort()).toEqual(instances.slice(0, 2));
        const listeners = (await elbv2.send(new DescribeListenersCommand({ LoadBalancerArn: lbArn }))).Listeners ?? [];
        const forwardsOn = async (port: number): Promise<string[][]> => {
          const l = listeners.find((x) => x.Port === port);
          const rules = (await elbv2.send(new DescribeRulesCommand({ ListenerArn: l?.ListenerArn ?? '' }))).Rules ?? [];
          return rules
            .filter((r) => !r.IsDefault)
            .map((r) => [r.Conditions?.find((c) => c.Field === 'host-header')?.Values?.[0] ?? r.Conditions?.[0]?.HostHeaderConfig?.Values?.[0] ?? '', r.Actions?.[0]?.TargetGroupArn ?? '']);
        };
        expect(listeners.map((l) => l.Port).sort()).toEqual([80, 8080]);
        expect(await forwardsOn(80)).toEqual([['pods.example.com', ipTg]]);
        expect(await forwardsOn(8080)).toEqual([['nodes.example.com', instanceTg]]);

        count.reset();
        e.controller.enqueueAll();
        await e.settle();
        expect(count.writes()).toEqual([]);

        for (const [name] of members) await e.networking.deleteNamespacedIngress({ namespace: e.ns, name });
        await eventually('the Ingresses gone', async () => (await e.getIngress('pods')) === undefined && (await e.getIngress('nodes')) === undefined, 30_000);
        expect(await tagged(e.ns)).toEqual([]);
      });

      // Issue #16's hijack: a member from another namespace joins the group, names the host the
      // group already serves from the owner's namespace, with a lower group.order so its rule
      // would come first. On the emulated ALB, the owner's rule for that host and path stays and
      // the intruder's is not there; the intruder gets a Warning, the owner a Normal Event naming it.
      it('the cross-namespace hijack refused: the owner\'s rule for its host stays on the ALB, the intruder is told, the owner is told who tried', async () => {
        const owner = `${e.ns}-shop`;
        const intruder = `${e.ns}-mallory`;
        // A controller of its own, over every namespace, for a class of its own: the suite's is scoped to e.ns.
        const controllerName = `lbc.dev/${e.ns}-wide`;
        const wide = e.newController({ namespace: undefined, config: { ...e.config, ingress: { ...e.config.ingress, controllerName } } });
        const cls = `${e.ns}-wide`;
        await e.networking.createIngressClass({ body: { metadata: { name: cls }, spec: { controller: controllerName, parameters: { apiGroup: 'lbc.dev', kind: 'Provider', name: 'aws' } } } });
        const group = `${e.ns}-hijack`;
        const member = async (namespace: string, name: string, svc: string, path: string, order: string) => {
          await e.core.createNamespacedService({ namespace, body: { metadata: { name: svc }, spec: { type: 'NodePort', selector: { app: svc }, ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }] } } });
          await e.networking.createNamespacedIngress({
            namespace,
            body: {
              metadata: { name, annotations: { 'alb.ingress.kubernetes.io/group.name': group, 'alb.ingress.kubernetes.io/group.order': order, 'alb.ingress.kubernetes.io/scheme': 'internet-facing' } },
              spec: { ingressClassName: cls, rules: [{ host: 'shop.example.com', http: { paths: [{ path, pathType: 'Prefix', backend: { service: { name: svc, port: { number: 80 } } } }] } }] },
            },
          });
        };
        const hostnameOf = async (namespace: string, name: string) => (await e.networking.readNamespacedIngress({ namespace, name }).catch(() => undefined))?.status?.loadBalancer?.ingress?.[0]?.hostname;
        const eventsIn = async (namespace: string, name: string) => (await e.core.listNamespacedEvent({ namespace })).items.filter((ev) => ev.involvedObject.name === name && ev.source?.component === 'lbc');
        try {
          for (const ns of [owner, intruder]) await e.core.createNamespace({ body: { metadata: { name: ns } } });
          await wide.start();
          await member(owner, 'store', 'checkout', '/api/checkout', '0');
          await eventually('the owner served', async () => hostnameOf(owner, 'store'), 30_000);
          await member(intruder, 'grab', 'evil', '/api/checkout', '-10');
          await eventually('the intruder told', async () => {
            await wide.recorder.flush();
            return (await eventsIn(intruder, 'grab')).find((ev) => ev.type === 'Warning' && ev.reason === 'HostClaimRefused' && ev.message?.includes('host shop.example.com is served in this group by namespace'));
          }, 30_000);
          await wide.recorder.flush();
          const repelled = (await eventsIn(owner, 'store')).find((ev) => ev.reason === 'HostClaimRepelled');
          expect(repelled?.type).toBe('Normal');
          expect(repelled?.message).toContain(`Ingress ${intruder}/grab`);

          // What the emulated ALB routes for shop.example.com/api/checkout: the owner's target group only.
          const lbArn = (await tagged(e.ns)).find((a) => a.includes(':loadbalancer/')) ?? '';
          const tgArns = (await tagged(e.ns)).filter((a) => a.includes(':targetgroup/'));
          const resources = new Map(
            ((await elbv2.send(new DescribeTagsCommand({ ResourceArns: tgArns }))).TagDescriptions ?? []).map((d) => [d.ResourceArn ?? '', d.Tags?.find((t) => t.Key === 'lbc.dev/resource')?.Value ?? '']),
          );
          const listeners = (await elbv2.send(new DescribeListenersCommand({ LoadBalancerArn: lbArn }))).Listeners ?? [];
          const forwardedTo: string[] = [];
          for (const l of listeners) {
            for (const r of (await elbv2.send(new DescribeRulesCommand({ ListenerArn: l.ListenerArn }))).Rules ?? []) {
              const paths = (r.Conditions ?? []).flatMap((c) => c.PathPatternConfig?.Values ?? c.Values ?? []);
              if (!paths.some((p) => p.startsWith('/api/checkout'))) continue;
              for (const a of r.Actions ?? []) {
                for (const tg of [a.TargetGroupArn, ...(a.ForwardConfig?.TargetGroups ?? []).map((t) => t.TargetGroupArn)]) if (tg) forwardedTo.push(resources.get(tg) ?? tg);
              }
            }
          }
          expect(forwardedTo.length).toBeGreaterThan(0);
          expect(forwardedTo.every((r) => r.includes(`${owner}/checkout`))).toBe(true);
          expect(forwardedTo.some((r) => r.includes('evil'))).toBe(false);
        } finally {
          for (const [ns, name] of [[intruder, 'grab'], [owner, 'store']] as const) await e.networking.deleteNamespacedIngress({ namespace: ns, name }).catch(() => undefined);
          await eventually('the hijack group\'s Ingresses gone', async () => (await hostnameOf(owner, 'store')) === undefined && (await hostnameOf(intruder, 'grab')) === undefined && (await e.networking.readNamespacedIngress({ namespace: owner, name: 'store' }).catch(() => undefined)) === undefined, 60_000).catch(() => undefined);
          await wide.stop({ drainTimeoutMs: 1000 }).catch(() => undefined);
          await e.networking.deleteIngressClass({ name: cls }).catch(() => undefined);
          for (const ns of [owner, intruder]) await e.core.deleteNamespace({ name: ns }).catch(() => undefined);
        }
        expect(await tagged(e.ns)).toEqual([]);
      });
    });
  },
);

// First contact (#16): an account with several VPCs and no vpcId configured, and a VPC
// whose subnets carry no role tag. The instance metadata service is aimed at a closed
// loopback port, as off EC2 (nothing answers), so the VPC comes from the Nodes' instances.
describe.skipIf(!endpoint)('AWS provider against the emulator: discovery without vpcId or role tags', () => {
  const ec2 = new EC2Client({ region, endpoint, credentials });
  const elbv2 = new ElasticLoadBalancingV2Client({ region, endpoint, credentials });
  const cluster = `it-${randomBytes(4).toString('hex')}`;
  const vpcs: string[] = [];
  const subnets: string[] = [];
  let instances: string[] = [];
  const info: string[] = [];
  const newProvider = (vpcId?: string): AwsProvider =>
    new AwsProvider({
      name: 'aws',
      clusterName: cluster,
      options: awsOptionsSchema.parse({ region, endpoint, ...(vpcId ? { vpcId } : {}), retry: { attempts: 4, minDelay: '50ms', maxDelay: '1s' }, dependencyTimeout: '20s' }),
      clients: { clientConfig: { credentials }, imdsConfig: { endpoint: 'http://127.0.0.1:9', timeoutMs: 500 } },
      logger: { warn: () => undefined, info: (m) => info.push(m) },
    });

  async function vpcWithSubnets(cidr: string, tags: { Key: string; Value: string }[]): Promise<{ vpcId: string; subnetIds: string[] }> {
    const vpcId = (await ec2.send(new CreateVpcCommand({ CidrBlock: `${cidr}.0.0/16` }))).Vpc?.VpcId ?? '';
    vpcs.push(vpcId);
    const subnetIds: string[] = [];
    for (const [i, az] of [`${region}a`, `${region}b`].entries()) {
      const id = (await ec2.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: `${cidr}.${i}.0/24`, AvailabilityZone: az }))).Subnet?.SubnetId ?? '';
      subnetIds.push(id);
      subnets.push(id);
      if (tags.length > 0) await ec2.send(new CreateTagsCommand({ Resources: [id], Tags: tags }));
    }
    return { vpcId, subnetIds };
  }

  const lbOf = async (arnLike: string | undefined) => (await elbv2.send(new DescribeLoadBalancersCommand({}))).LoadBalancers?.find((l) => l.DNSName === arnLike);

  afterAll(async () => {
    if (instances.length > 0) await ec2.send(new TerminateInstancesCommand({ InstanceIds: instances })).catch(() => undefined);
    for (const id of subnets) await ec2.send(new DeleteSubnetCommand({ SubnetId: id })).catch(() => undefined);
    for (const id of vpcs) await ec2.send(new DeleteVpcCommand({ VpcId: id })).catch(() => undefined);
  });

  it("several VPCs, no vpcId: the VPC of the Nodes' instances (DescribeInstances), not a region-wide guess", async () => {
    const role = [{ Key: 'kubernetes.io/role/internal-elb', Value: '1' }];
    await vpcWithSubnets('10.43', role);
    const b = await vpcWithSubnets('10.44', role);
    const run = await ec2.send(new RunInstancesCommand({ ImageId: 'ami-12c6146b', MinCount: 2, MaxCount: 2, SubnetId: b.subnetIds[0] }));
    instances = (run.Instances ?? []).map((x) => x.InstanceId ?? '').sort();
    const p = newProvider();
    const ref = { kind: 'Service' as const, namespace: 'disc', name: 'multi-vpc', uid: `uid-${cluster}-1` };
    const spec = nlbSpec({ clusterName: cluster, ref, targets: nodes(...instances) });
    try {
      const status = await p.ensure(spec);
      const lb = await lbOf(status.ingress[0]?.hostname);
      expect(lb?.VpcId).toBe(b.vpcId);
      expect(info).toContain(`aws: VPC ${b.vpcId} (no vpcId in the options): found from the Nodes' instances (${instances.join(', ')}) through DescribeInstances`);
    } finally {
      await p.delete(ref);
      await p.close();
    }
  });

  it('no subnet tagged with a role: an internet-facing NLB goes in the subnets routed to an internet gateway', async () => {
    const c = await vpcWithSubnets('10.45', []);
    const privateSubnet = (await ec2.send(new CreateSubnetCommand({ VpcId: c.vpcId, CidrBlock: '10.45.9.0/24', AvailabilityZone: `${region}a` }))).Subnet?.SubnetId ?? '';
    subnets.push(privateSubnet);
    const igw = (await ec2.send(new CreateInternetGatewayCommand({}))).InternetGateway?.InternetGatewayId ?? '';
    await ec2.send(new AttachInternetGatewayCommand({ InternetGatewayId: igw, VpcId: c.vpcId }));
    const rtb = (await ec2.send(new CreateRouteTableCommand({ VpcId: c.vpcId }))).RouteTable?.RouteTableId ?? '';
    await ec2.send(new CreateRouteCommand({ RouteTableId: rtb, DestinationCidrBlock: '0.0.0.0/0', GatewayId: igw }));
    for (const id of c.subnetIds) await ec2.send(new AssociateRouteTableCommand({ RouteTableId: rtb, SubnetId: id }));
    const p = newProvider(c.vpcId);
    const ref = { kind: 'Service' as const, namespace: 'disc', name: 'untagged', uid: `uid-${cluster}-2` };
    const spec = nlbSpec({ clusterName: cluster, ref, targets: [], annotations: { 'service.beta.kubernetes.io/aws-load-balancer-scheme': 'internet-facing' } });
    try {
      const status = await p.ensure(spec);
      const lb = await lbOf(status.ingress[0]?.hostname);
      expect((lb?.AvailabilityZones ?? []).map((z) => z.SubnetId).sort()).toEqual([...c.subnetIds].sort());
      expect(info.some((m) => m.includes(`no subnet in ${c.vpcId} is tagged kubernetes.io/role/elb: internet-facing load balancers go in its public subnets`))).toBe(true);
    } finally {
      await p.delete(ref);
      await p.close();
    }
  });
});
