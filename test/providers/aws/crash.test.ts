// Crash safety, as the issue asks: for the create flow of an NLB Service, of an ALB
// Ingress group, of an ALB Gateway (also with a route's own, user-named target group) and
// of an NLB Gateway (also one configured by a LoadBalancerConfiguration's
// listenerConfigurations), stop after each mutating call k (for every k) and
// reconcile again from a fresh process: it converges to exactly one set of resources;
// then delete leaves nothing tagged for the cluster. The same for a call that lands but whose answer is
// lost (a 500 after the fact), which exercises the idempotent-create and adoption paths.
// With a tagged node group the cluster's shared backend security group is part of every
// flow (created, ruled on the node group, attached; released by the delete), and a
// cluster still on per-load-balancer rules is migrated to it with the same guarantee.
// With ip targets the pod port's rule is shared by the load balancers on that port:
// crashes while a second one is added or the first one deleted never take it from the
// one still using it, and never leave it behind once neither does.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LoadBalancerSpec } from '../../../src/model/spec.js';
import type { AwsLbOptions } from '../../../src/providers/aws/annotations.js';
import type { AwsOptionsInput } from '../../../src/providers/aws/options.js';
import type { FakeAws } from './fake-aws.js';
import { backend, configuredBackend, gatewaySpec, httpRule, l4Rule, nlbGatewaySpec, parsedLoadBalancerConfiguration, prefix, tlsListener } from './gateway-support.js';
import { LOAD_BALANCER_CONFIGURATION } from '../../../src/providers/aws/load-balancer-configuration.js';
import type { LbRef } from '../../../src/model/ref.js';
import { albSpec, CLUSTER, ipNlbSpec, nlbSpec, provider as newProvider, seededFake, seedNetwork } from './support.js';

let fake: FakeAws;
beforeEach(() => {
  fake = seededFake();
});
afterEach(() => fake.uninstall());

interface Shape {
  readonly lbs: number;
  readonly tgs: number;
  readonly listeners: number;
  readonly rules: number;
  readonly sgs: number;
  readonly targets: number;
}

/** Today's per-load-balancer backend rules, without the shared group. */
const PER_LB: Partial<AwsOptionsInput> = { backendSecurityGroup: { enabled: false } };
/** The flow's provider options; a provider is always a new process. */
let options: Partial<AwsOptionsInput> = {};
const provider = () => newProvider(options);

function shape(): Shape & { readonly backendRules: number } {
  return {
    lbs: fake.lbs.size,
    tgs: fake.tgs.size,
    listeners: fake.listeners.size,
    rules: fake.rules.size,
    sgs: [...fake.securityGroups.values()].filter((g) => g.tags['lbc.dev/cluster'] === CLUSTER).length,
    targets: [...fake.tgs.values()].reduce((n, t) => n + t.targets.size, 0),
    backendRules: fake.securityGroups.get(NODE_SG)?.ingress.length ?? 0,
  };
}

const NODE_SG = 'sg-0node';

/** The flows with backend rules have a node security group tagged for the cluster. */
let seed: (f: FakeAws) => void = seedNetwork;
function seedWithNodeGroup(f: FakeAws): void {
  seedNetwork(f);
  f.addSecurityGroup({ id: NODE_SG, name: 'nodes', tags: { 'kubernetes.io/cluster/prod': 'owned' } });
}

/** A new account, seeded for the flow, in place of the current one. */
function freshFake(): void {
  fake.uninstall();
  fake = seededFake(seed);
}

/** The writes of a clean create, and the shape it leaves. */
async function reference(spec: LoadBalancerSpec<AwsLbOptions>): Promise<{ writes: number; shape: ReturnType<typeof shape> }> {
  fake.uninstall();
  const f = seededFake(seed);
  const saved = fake;
  fake = f;
  await provider().ensure(spec);
  const out = { writes: f.writes().length, shape: shape() };
  f.uninstall();
  fake = saved.install();
  return out;
}

async function checkConverges(spec: LoadBalancerSpec<AwsLbOptions>, want: ReturnType<typeof shape>): Promise<void> {
  // A new process: nothing in memory, everything found again by tags.
  const p = provider();
  const status = await p.ensure(spec);
  expect(status.ingress[0]?.hostname).toBeTruthy();
  expect(shape()).toEqual(want);
  if (seed === seedWithNodeGroup && options !== PER_LB) expect(sharedRules(), 'node rules from the backend group').toEqual(nodeRuleShape);
  expect(await p.plan(spec)).toEqual([]);
  await provider().delete(spec.ref);
  expect(fake.taggedFor(CLUSTER)).toEqual([]);
  expect(fake.listeners.size + fake.rules.size).toBe(0);
  expect(fake.securityGroups.get(NODE_SG)?.ingress ?? []).toEqual([]);
}

const actions = {
  'alb.ingress.kubernetes.io/actions.split': JSON.stringify({
    type: 'forward',
    forwardConfig: {
      targetGroups: [
        { serviceName: 'web', servicePort: 80, weight: 90 },
        { serviceName: 'api', servicePort: 8080, weight: 10 },
      ],
    },
  }),
  'alb.ingress.kubernetes.io/conditions.api': JSON.stringify([{ field: 'http-header', httpHeaderConfig: { httpHeaderName: 'X-Beta', values: ['1'] } }]),
};
const albWithActions = (): LoadBalancerSpec<AwsLbOptions> => ({
  ...albSpec({ annotations: actions }),
  actionRules: [{ host: 'shop.example.com', path: '/split', pathType: 'Prefix', action: 'split', source: 'shop/web', before: 0 }],
  // What the Ingress builder resolves the forward's Services to.
  actionTargetSets: { split: { 'web:80': 'shop/web:80', 'api:8080': 'shop/api:8080' } },
});

/** The node group's rules as `proto/ports`, each naming the shared backend group (else 'not from the backend group'). */
const sharedRules = (): string[] => {
  const backend = [...fake.securityGroups.values()].find((g) => g.tags['lbc.dev/resource'] === 'BackendSecurityGroup');
  const rules = fake.securityGroups.get(NODE_SG)?.ingress ?? [];
  return rules.map((r) => (backend !== undefined && r.source === backend.id ? `${r.protocol}/${r.from}${r.to !== r.from ? `-${r.to}` : ''}` : 'not from the backend group')).sort();
};

/** An NLB Gateway: a TCPRoute split 90/10 on 5432, a TCPRoute and a UDPRoute to one Service port on 53 (TCP_UDP). */
const nlbGateway = (): LoadBalancerSpec<AwsLbOptions> =>
  nlbGatewaySpec({
    ports: [
      { protocol: 'TCP', port: 53, listener: 'dns-tcp', rules: [l4Rule('TCPRoute', 'dns', [backend('shop/dns:53/TCP')])] },
      { protocol: 'UDP', port: 53, listener: 'dns-udp', rules: [l4Rule('UDPRoute', 'dns', [backend('shop/dns:53/UDP')])] },
      { protocol: 'TCP', port: 5432, listener: 'db', rules: [l4Rule('TCPRoute', 'db', [backend('shop/db:5432/TCP', 90), backend('shop/db-v2:5432/TCP', 10)])] },
    ],
  });

/**
 * An ALB Gateway whose web Service has a TargetGroupConfiguration with a routeConfigurations
 * entry for the admin route: web:80 gets two target groups, the admin route's named by the user.
 */
const routeTargetGroups = (): LoadBalancerSpec<AwsLbOptions> =>
  configuredBackend(gatewaySpec({ rules: [httpRule(0, [prefix('/')], [backend('shop/web:80')]), httpRule(0, [prefix('/admin')], [backend('shop/web:80')], { route: 'admin' })] }), {
    defaultConfiguration: { healthCheckConfig: { healthCheckPath: '/healthz' } },
    routeConfigurations: [{ routeIdentifier: { kind: 'HTTPRoute', namespace: 'shop', name: 'admin' }, targetGroupProps: { targetGroupName: 'shop-web-admin', healthCheckConfig: { healthCheckPath: '/admin/health' } } }],
  });

/**
 * An NLB Gateway configured by a LoadBalancerConfiguration's listenerConfigurations: an idle
 * timeout and stickiness on the weighted TCP listener (a ModifyListenerAttributes after its
 * CreateListener), a TLS listener with two certificates (an AddListenerCertificates) and an
 * ALPN policy. A crash between a listener and its attributes or certificates is finished next time.
 */
const configuredNlbGateway = (): LoadBalancerSpec<AwsLbOptions> => {
  const cert = (id: string): string => `arn:aws:acm:us-east-1:123456789012:certificate/${id}`;
  const value = parsedLoadBalancerConfiguration({
    listenerConfigurations: [
      { protocolPort: 'TCP:5432', targetGroupStickiness: true, listenerAttributes: [{ key: 'tcp.idle_timeout.seconds', value: '900' }] },
      { protocolPort: 'TLS:5433', defaultCertificate: cert('a'), certificates: [cert('b')], alpnPolicy: 'HTTP2Preferred' },
    ],
  });
  return {
    ...nlbGatewaySpec({
      ports: [
        { protocol: 'TCP', port: 5432, listener: 'db', rules: [l4Rule('TCPRoute', 'db', [backend('shop/db:5432/TCP', 90), backend('shop/db-v2:5432/TCP', 10)])] },
        { protocol: 'TLS', port: 5433, listeners: [tlsListener('tls', 'Terminate', [l4Rule('TLSRoute', 'secure', [backend('shop/tls:8443/TCP')])])] },
      ],
    }),
    parameters: { ...LOAD_BALANCER_CONFIGURATION, namespace: 'shop', name: 'cfg', value },
  };
};

/** The shared group's node rules for instance targets: its TCP and UDP node port range. */
const RANGE = ['tcp/30000-32767', 'udp/30000-32767'];
/** What the flow's node rules should be with the shared group. */
let nodeRuleShape: string[] = RANGE;

const flows: [string, () => LoadBalancerSpec<AwsLbOptions>, (f: FakeAws) => void, Partial<AwsOptionsInput>, string[]][] = [
  ['NLB Service', () => nlbSpec(), seedNetwork, {}, []],
  ['ALB Ingress group', () => albSpec(), seedNetwork, {}, []],
  ['NLB Service with the shared backend group on a tagged node group', () => nlbSpec(), seedWithNodeGroup, {}, RANGE],
  ['ALB Ingress group with a weighted action, conditions and the shared backend group', albWithActions, seedWithNodeGroup, {}, RANGE],
  ['ALB Gateway with an HTTPRoute canary (weighted forward) and the shared backend group', () => gatewaySpec(), seedWithNodeGroup, {}, RANGE],
  ['NLB Gateway with a weighted TCPRoute, a TCP_UDP port and the shared backend group', nlbGateway, seedWithNodeGroup, {}, RANGE],
  ['ALB Gateway with a route\'s own target group (TargetGroupConfiguration routeConfigurations, targetGroupName)', routeTargetGroups, seedNetwork, {}, []],
  ['NLB Gateway with listenerConfigurations (listener attributes, stickiness, TLS certificates and ALPN policy)', configuredNlbGateway, seedNetwork, {}, []],
  ['NLB Service with per-load-balancer backend rules on a tagged node group', () => nlbSpec(), seedWithNodeGroup, PER_LB, ['tcp/30080', 'tcp/30443']],
  ['NLB Service with ip targets and the shared backend group (a rule for the pod port)', () => ipNlbSpec(), seedWithNodeGroup, {}, ['tcp/8080']],
];

describe.each(flows)('%s create, interrupted', (_name, make, seeding, flowOptions, rules) => {
  beforeEach(() => {
    seed = seeding;
    options = flowOptions;
    nodeRuleShape = rules;
    freshFake();
  });

  it('stopped after every mutating call k: the next reconcile converges to one set, delete leaves nothing', async () => {
    const ref = await reference(make());
    expect(ref.writes).toBeGreaterThan(5);
    // With a tagged node group: the shared group's TCP and UDP node port range (or the pod port), or (per load balancer) the two node ports.
    expect(ref.shape.backendRules).toBe(rules.length);
    expect(ref.shape.sgs).toBe(seeding === seedWithNodeGroup && flowOptions !== PER_LB ? 2 : 1);
    if (make === albWithActions) expect(ref.shape.rules).toBe(3);
    // web:80's two groups: the admin route's and the other route's.
    if (make === routeTargetGroups) expect(ref.shape.tgs).toBe(2);
    for (let k = 0; k < ref.writes; k++) {
      freshFake();
      fake.crashAfterWrites(k);
      await expect(provider().ensure(make()), `crash after write ${k}`).rejects.toThrow();
      expect(fake.writes().length - 1, `write ${k} was the first refused`).toBe(k);
      fake.clearFaults();
      await checkConverges(make(), ref.shape);
    }
  });

  it('each mutating call landing with its answer lost: retried or adopted, one set in the end', async () => {
    const ref = await reference(make());
    for (let k = 0; k < ref.writes; k++) {
      freshFake();
      fake.loseResponseOfWrite(k);
      const p = provider();
      // Most lost answers are absorbed by a retry (idempotent creates); a few need the next reconcile.
      await p.ensure(make()).catch(() => p.ensure(make()));
      expect(shape(), `answer of write ${k} lost`).toEqual(ref.shape);
      expect(await p.plan(make())).toEqual([]);
      await p.delete(make().ref);
      expect(fake.taggedFor(CLUSTER)).toEqual([]);
    }
  });

  it('a crash during delete (after each delete call) is finished by the next delete', async () => {
    await provider().ensure(make());
    const before = fake.requests.length;
    const probe = provider();
    await probe.delete(make().ref);
    const deletes = fake.requests.slice(before).filter((r) => !r.action.startsWith('Describe')).length;
    for (let k = 0; k < deletes; k++) {
      freshFake();
      await provider().ensure(make());
      fake.crashAfterWrites(k);
      await expect(provider().delete(make().ref)).rejects.toThrow();
      fake.clearFaults();
      await provider().delete(make().ref);
      expect(fake.taggedFor(CLUSTER), `delete stopped after call ${k}`).toEqual([]);
    }
  });
});

describe('a cluster on per-load-balancer rules migrated to the shared backend group, interrupted', () => {
  beforeEach(() => {
    seed = seedWithNodeGroup;
    options = {};
    nodeRuleShape = RANGE;
  });

  it('stopped after every mutating call k of the migration: the next reconcile converges, no per-load-balancer rule left; delete leaves nothing', async () => {
    const want = (await reference(nlbSpec())).shape;
    freshFake();
    await newProvider(PER_LB).ensure(nlbSpec());
    fake.resetLog();
    await provider().ensure(nlbSpec());
    const writes = fake.writes().length;
    expect(writes).toBe(4);
    for (let k = 0; k < writes; k++) {
      freshFake();
      await newProvider(PER_LB).ensure(nlbSpec());
      fake.crashAfterWrites(k);
      await expect(provider().ensure(nlbSpec()), `crash after write ${k}`).rejects.toThrow();
      fake.clearFaults();
      const p = provider();
      await p.ensure(nlbSpec());
      expect(shape(), `crash after write ${k}`).toEqual(want);
      expect(sharedRules(), `crash after write ${k}`).toEqual(RANGE);
      expect(await p.plan(nlbSpec())).toEqual([]);
      await provider().delete(nlbSpec().ref);
      expect(fake.taggedFor(CLUSTER)).toEqual([]);
      expect(fake.securityGroups.get(NODE_SG)?.ingress ?? []).toEqual([]);
    }
  });
});

describe('two load balancers with ip targets on one pod port (one shared rule), interrupted', () => {
  const A: LbRef = { kind: 'Service', namespace: 'shop', name: 'a', uid: 'uid-a' };
  const B: LbRef = { kind: 'Service', namespace: 'shop', name: 'b', uid: 'uid-b' };
  const C: LbRef = { kind: 'Service', namespace: 'shop', name: 'c', uid: 'uid-c' };
  beforeEach(() => {
    seed = seedWithNodeGroup;
    options = {};
  });

  /** The writes of a clean run of `op` after `setup`. */
  async function writesOf(setup: () => Promise<void>, op: () => Promise<unknown>): Promise<number> {
    freshFake();
    await setup();
    fake.resetLog();
    await op();
    return fake.writes().length;
  }

  /** For every write k of `op`: a new account, `setup`, `op` stopped after write k, then `after(k)`; returns how many writes `op` makes. */
  async function crashEach(setup: () => Promise<void>, op: () => Promise<unknown>, after: (k: number) => Promise<void>): Promise<number> {
    const writes = await writesOf(setup, op);
    for (let k = 0; k < writes; k++) {
      freshFake();
      await setup();
      fake.crashAfterWrites(k);
      await expect(op(), `crash after write ${k}`).rejects.toThrow();
      fake.clearFaults();
      await after(k);
    }
    return writes;
  }

  const both = async (): Promise<void> => {
    await provider().ensure(ipNlbSpec({ ref: A }));
    await provider().ensure(ipNlbSpec({ ref: B }));
  };

  it('the second added, stopped after every call k: the rule is there for both in the end, one of it; both deleted leave nothing', async () => {
    const setup = async (): Promise<void> => void (await provider().ensure(ipNlbSpec({ ref: A })));
    const writes = await crashEach(setup, () => provider().ensure(ipNlbSpec({ ref: B })), async (k) => {
      // Meanwhile A is resynced by another process: whatever B left half-done, A's rule stays.
      await provider().ensure(ipNlbSpec({ ref: A }));
      expect(sharedRules(), `crash after write ${k}`).toEqual(['tcp/8080']);
      const p = provider();
      await p.ensure(ipNlbSpec({ ref: B }));
      expect(sharedRules(), `crash after write ${k}`).toEqual(['tcp/8080']);
      expect(await p.plan(ipNlbSpec({ ref: A }))).toEqual([]);
      expect(await p.plan(ipNlbSpec({ ref: B }))).toEqual([]);
      await provider().delete(A);
      expect(sharedRules(), `crash after write ${k}`).toEqual(['tcp/8080']);
      await provider().delete(B);
      expect(fake.taggedFor(CLUSTER)).toEqual([]);
      expect(sharedRules()).toEqual([]);
    });
    expect(writes).toBeGreaterThan(3);
  });

  it('one deleted, stopped after every call k: the other keeps the rule, and its resync writes nothing', async () => {
    const writes = await crashEach(both, () => provider().delete(A), async (k) => {
      expect(sharedRules(), `crash after write ${k}`).toEqual(['tcp/8080']);
      await provider().delete(A);
      expect(sharedRules(), `crash after write ${k}`).toEqual(['tcp/8080']);
      fake.resetLog();
      await provider().ensure(ipNlbSpec({ ref: B }));
      expect(fake.writes(), `crash after write ${k}`).toEqual([]);
    });
    expect(writes).toBeGreaterThan(2);
  });

  it('the last on the port deleted, stopped after every call k: the next delete revokes the rule, while a third load balancer keeps the group', async () => {
    // C (on 9090) keeps the backend group: no release of the whole group to hide a rule left behind.
    const withC = async (): Promise<void> => {
      await both();
      await provider().ensure(ipNlbSpec({ ref: C, podPort: 9090 }));
      await provider().delete(A);
    };
    const writes = await crashEach(withC, () => provider().delete(B), async (k) => {
      await provider().delete(B);
      expect(sharedRules(), `crash after write ${k}`).toEqual(['tcp/9090']);
      await provider().delete(C);
      expect(fake.taggedFor(CLUSTER), `crash after write ${k}`).toEqual([]);
      expect(sharedRules(), `crash after write ${k}`).toEqual([]);
    });
    expect(writes).toBeGreaterThan(2);
  });

  it('per-load-balancer pod port rules migrated, stopped after every call k: one shared rule in the end, none of the old', async () => {
    const setup = async (): Promise<void> => {
      await newProvider(PER_LB).ensure(ipNlbSpec({ ref: A }));
      await newProvider(PER_LB).ensure(ipNlbSpec({ ref: B }));
    };
    const writes = await crashEach(setup, () => provider().ensure(ipNlbSpec({ ref: A })), async (k) => {
      const p = provider();
      await p.ensure(ipNlbSpec({ ref: A }));
      await p.ensure(ipNlbSpec({ ref: B }));
      expect(sharedRules(), `crash after write ${k}`).toEqual(['tcp/8080']);
      expect(await p.plan(ipNlbSpec({ ref: A }))).toEqual([]);
      await p.delete(A);
      await p.delete(B);
      expect(fake.taggedFor(CLUSTER)).toEqual([]);
      expect(sharedRules()).toEqual([]);
    });
    // The backend group, A's target group claiming 8080, its rule, the group attached, A's old rule revoked.
    expect(writes).toBe(5);
  });
});
