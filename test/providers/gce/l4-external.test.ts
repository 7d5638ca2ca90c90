// External passthrough load balancers through the real Compute clients against the
// fake API: the exact requests for create, update, no-op, replacement and delete.
import { describe, expect, it } from 'vitest';
import { l4LoadBalancerName } from '../../../src/providers/gce/names.js';
import { isWrite } from './fake-compute.js';
import { CLUSTER, l4, l4CreateWrites, LB, nodeA, PROJECT, REGION, rejection, SVC_OWNED_KEYS, SVC_UID, withPorts } from './fixtures.js';
import { harnessPerTest } from './lifecycle.js';

const harness = harnessPerTest();

const owned = JSON.stringify(SVC_OWNED_KEYS);
const shared = JSON.stringify({ 'kubernetes.io/cluster-id': 'cid1', 'lbc.dev/cluster': CLUSTER });
const V1 = 'https://www.googleapis.com/compute/v1/projects/test-project';
const labels = { 'lbc-cluster': CLUSTER, 'lbc-owner-uid': SVC_UID };

describe('gce L4 external: create', () => {
  it('reserves an address, then builds health check, firewalls, instance groups, backend service and forwarding rule, waiting on each operation', async () => {
    const h = harness({}, { pendingOperations: true });
    const status = await h.provider.ensure(l4());
    expect(status).toEqual({ ingress: [{ ip: '203.0.113.10', ipMode: 'VIP' }] });
    expect(h.fake.violations).toEqual([]);
    expect(h.fake.writes()).toEqual(l4CreateWrites('k8s-cid1-node-http-hc'));
    // Every write is followed by the wait on its operation, in the operation's scope.
    const sequence = h.fake.log.filter((c) => isWrite(c) || c.rpc.endsWith('.Wait')).map((c) => c.rpc);
    for (let i = 0; i < sequence.length; i += 2) expect(sequence[i + 1]).toMatch(/(Region|Global|Zone)Operations\.Wait/);
    const body = (rpc: string, name: string) => h.fake.log.find((c) => c.rpc === rpc && c.target === name)?.body;
    expect(body('Addresses.Insert', LB)).toEqual({ name: LB, description: owned, addressType: 'EXTERNAL', networkTier: 'PREMIUM', labels });
    expect(body('RegionHealthChecks.Insert', 'k8s-cid1-node')).toEqual({
      name: 'k8s-cid1-node',
      description: shared,
      type: 'HTTP',
      httpHealthCheck: { port: 10256, requestPath: '/healthz' },
      checkIntervalSec: 8,
      timeoutSec: 1,
      healthyThreshold: 1,
      unhealthyThreshold: 3,
    });
    expect(body('Firewalls.Insert', `k8s-fw-${LB}`)).toEqual({
      name: `k8s-fw-${LB}`,
      // The GCE cloud provider's keys first (service name, then IP), then lbc's.
      description: JSON.stringify({ 'kubernetes.io/service-name': 'default/web', 'kubernetes.io/service-ip': '203.0.113.10', ...JSON.parse(owned) }),
      network: `${V1}/global/networks/default`,
      sourceRanges: ['0.0.0.0/0'],
      destinationRanges: ['203.0.113.10'],
      targetTags: ['gke-test-node'],
      allowed: [{ IPProtocol: 'tcp', ports: ['80'] }],
    });
    expect(body('Firewalls.Insert', 'k8s-cid1-node-http-hc')).toMatchObject({
      sourceRanges: ['35.191.0.0/16', '130.211.0.0/22', '209.85.152.0/22', '209.85.204.0/22'],
      allowed: [{ IPProtocol: 'tcp', ports: ['10256'] }],
      description: shared,
    });
    expect(body('RegionBackendServices.Insert', LB)).toMatchObject({
      name: LB,
      description: owned,
      protocol: 'TCP',
      loadBalancingScheme: 'EXTERNAL',
      sessionAffinity: 'NONE',
      healthChecks: [`${V1}/regions/${REGION}/healthChecks/k8s-cid1-node`],
      backends: [
        { group: `${V1}/zones/${REGION}-a/instanceGroups/k8s-ig--cid1`, balancingMode: 'CONNECTION' },
        { group: `${V1}/zones/${REGION}-b/instanceGroups/k8s-ig--cid1`, balancingMode: 'CONNECTION' },
      ],
    });
    expect(body('ForwardingRules.Insert', LB)).toEqual({
      name: LB,
      description: owned,
      IPAddress: '203.0.113.10',
      IPProtocol: 'TCP',
      loadBalancingScheme: 'EXTERNAL',
      backendService: `${V1}/regions/${REGION}/backendServices/${LB}`,
      ports: ['80'],
      networkTier: 'PREMIUM',
      labels,
    });
    expect(h.fake.membersOf(`zones/${REGION}-a/instanceGroups/k8s-ig--cid1`)).toEqual([`${V1}/zones/${REGION}-a/instances/node-a`]);
  });

  it('with nothing changed makes only reads', async () => {
    const h = harness();
    const first = await h.provider.ensure(l4());
    h.fake.clearLog();
    const again = await h.provider.ensure(l4());
    expect(again).toEqual(first);
    expect(h.fake.writes()).toEqual([]);
    expect(h.fake.log.every((c) => ['GET'].includes(c.verb) || c.rpc === 'InstanceGroups.ListInstances')).toBe(true);
    expect(await h.provider.plan(l4())).toEqual([]);
  });

  it('plan reports what ensure then does, without writing', async () => {
    const h = harness();
    const planned = await h.provider.plan(l4());
    expect(h.fake.writes()).toEqual([]);
    expect(planned.map((c) => `${c.op} ${c.resource} ${c.id}`)).toEqual([
      `create Address ${LB}`,
      'create HealthCheck k8s-cid1-node',
      `create Firewall k8s-fw-${LB}`,
      'create Firewall k8s-cid1-node-http-hc',
      `create InstanceGroup ${REGION}-a/k8s-ig--cid1`,
      `create InstanceGroup ${REGION}-b/k8s-ig--cid1`,
      `create BackendService ${LB}`,
      `create ForwardingRule ${LB}`,
    ]);
    await h.provider.ensure(l4());
    expect(h.fake.writes().filter((w) => w.includes('.Insert')).length).toBe(planned.length);
  });

  it('TCP and UDP: a forwarding rule and backend service per protocol on one address, one firewall for both', async () => {
    const h = harness();
    const spec = withPorts(l4(), [
      { protocol: 'TCP', port: 53, nodePort: 30053 },
      { protocol: 'UDP', port: 53, nodePort: 30054 },
    ]);
    const status = await h.provider.ensure(spec);
    const tcp = h.fake.get(`regions/${REGION}/forwardingRules/${LB}`);
    const udp = h.fake.get(`regions/${REGION}/forwardingRules/${LB}-udp`);
    expect(tcp).toMatchObject({ IPProtocol: 'TCP', IPAddress: status.ingress[0]?.ip, backendService: `${V1}/regions/${REGION}/backendServices/${LB}` });
    expect(udp).toMatchObject({ IPProtocol: 'UDP', IPAddress: status.ingress[0]?.ip, backendService: `${V1}/regions/${REGION}/backendServices/${LB}-udp` });
    expect(h.fake.get(`global/firewalls/k8s-fw-${LB}`)?.allowed).toEqual([
      { IPProtocol: 'tcp', ports: ['53'] },
      { IPProtocol: 'udp', ports: ['53'] },
    ]);
  });

  it('externalTrafficPolicy Local: the Service own health check on its healthCheckNodePort, timed 8/1/1/3 as upstream, and its firewall', async () => {
    const h = harness();
    const spec = l4();
    const ts = spec.targetSets[0];
    if (ts?.type !== 'instance') throw new Error('instance');
    // The builder's generic defaults (10/5/2/3) give way to upstream's L4 timing (cloud-provider-gcp gce.go, ingress-gce healthchecksl4).
    await h.provider.ensure({ ...spec, targetSets: [{ ...ts, healthCheck: { protocol: 'HTTP', port: 32123, path: '/healthz', intervalSeconds: 10, timeoutSeconds: 5, healthyThreshold: 2, unhealthyThreshold: 3 } }] });
    expect(h.fake.get(`regions/${REGION}/healthChecks/${LB}`)).toMatchObject({
      httpHealthCheck: { port: 32123, requestPath: '/healthz' },
      description: owned,
      checkIntervalSec: 8,
      timeoutSec: 1,
      healthyThreshold: 1,
      unhealthyThreshold: 3,
    });
    expect(h.fake.get(`regions/${REGION}/healthChecks/k8s-cid1-node`)).toBeUndefined();
    expect(h.fake.get(`global/firewalls/k8s-${LB}-http-hc`)).toMatchObject({ allowed: [{ IPProtocol: 'tcp', ports: ['32123'] }] });
  });

  it('externalTrafficPolicy Local: timing the user set (lbc.dev/health-check-*) wins field by field; a long timeout stretches the interval', async () => {
    const h = harness();
    const base = l4();
    const ts = base.targetSets[0];
    if (ts?.type !== 'instance') throw new Error('instance');
    const local = { protocol: 'HTTP' as const, port: 32123, path: '/healthz', intervalSeconds: 10, timeoutSeconds: 9, healthyThreshold: 2, unhealthyThreshold: 5 };
    const opts = h.provider.parseOptions({ 'lbc.dev/health-check-timeout': '9s', 'lbc.dev/health-check-unhealthy-threshold': '5' }, 'Service');
    if (!opts.ok) throw new Error('options');
    await h.provider.ensure({ ...base, providerOptions: opts.options, targetSets: [{ ...ts, healthCheck: local }] });
    expect(h.fake.get(`regions/${REGION}/healthChecks/${LB}`)).toMatchObject({ checkIntervalSec: 9, timeoutSec: 9, healthyThreshold: 1, unhealthyThreshold: 5 });
  });

  it('a Warning notice (UnsupportedAnnotation) names each GKE annotation lbc does not implement; the load balancer is built', async () => {
    const h = harness();
    const opts = h.provider.parseOptions({ 'cloud.google.com/neg': '{"exposed_ports": {"80": {}}}', 'networking.gke.io/weighted-load-balancing': 'pods-per-node' }, 'Service');
    if (!opts.ok) throw new Error('options');
    const status = await h.provider.ensure(l4({ providerOptions: opts.options }));
    expect(status.ingress).toHaveLength(1);
    expect(status.notices).toEqual([
      { type: 'Warning', reason: 'UnsupportedAnnotation', message: "Annotation cloud.google.com/neg exposed_ports (standalone NEGs) is not implemented by lbc's gce provider and has no effect" },
      { type: 'Warning', reason: 'UnsupportedAnnotation', message: "Annotation networking.gke.io/weighted-load-balancing is not implemented by lbc's gce provider and has no effect" },
    ]);
  });

  it('Cluster → Local → Cluster: the own check replaces the node check, which goes once no one uses it', async () => {
    const h = harness();
    await h.provider.ensure(l4());
    const spec = l4();
    const ts = spec.targetSets[0];
    if (ts?.type !== 'instance') throw new Error('instance');
    const local = { ...spec, targetSets: [{ ...ts, healthCheck: { protocol: 'HTTP' as const, port: 32123, path: '/healthz', intervalSeconds: 8, timeoutSeconds: 1, healthyThreshold: 1, unhealthyThreshold: 3 } }] };
    h.fake.clearLog();
    await h.provider.ensure(local);
    expect(h.fake.writes()).toEqual([
      `RegionHealthChecks.Insert ${LB}`,
      `Firewalls.Insert k8s-${LB}-http-hc`,
      `RegionBackendServices.Update ${LB}`,
      'RegionHealthChecks.Delete k8s-cid1-node',
      'Firewalls.Delete k8s-cid1-node-http-hc',
    ]);
    h.fake.clearLog();
    await h.provider.ensure(l4());
    expect(h.fake.writes()).toEqual([
      'RegionHealthChecks.Insert k8s-cid1-node',
      'Firewalls.Insert k8s-cid1-node-http-hc',
      `RegionBackendServices.Update ${LB}`,
      `Firewalls.Delete k8s-${LB}-http-hc`,
      `RegionHealthChecks.Delete ${LB}`,
    ]);
  });

  it('more than five ports: one port range', async () => {
    const h = harness();
    const spec = withPorts(
      l4(),
      [80, 81, 82, 83, 84, 8080].map((port, i) => ({ protocol: 'TCP' as const, port, nodePort: 30100 + i })),
    );
    await h.provider.ensure(spec);
    const fr = h.fake.get(`regions/${REGION}/forwardingRules/${LB}`);
    expect(fr?.portRange).toBe('80-8080');
    expect(fr?.ports).toBeUndefined();
    expect(h.fake.get(`global/firewalls/k8s-fw-${LB}`)?.allowed).toEqual([{ IPProtocol: 'tcp', ports: ['80-84', '8080'] }]);
  });
});

describe('gce L4 external: update', () => {
  it('source ranges change only the firewall, with a PUT of the whole rule', async () => {
    const h = harness();
    await h.provider.ensure(l4());
    h.fake.clearLog();
    await h.provider.ensure(l4({ sourceRanges: ['10.0.0.0/8'] }));
    expect(h.fake.writes()).toEqual([`Firewalls.Update k8s-fw-${LB}`]);
    const put = h.fake.log.find((c) => c.rpc === 'Firewalls.Update');
    expect(put?.verb).toBe('PUT');
    expect(put?.body).toMatchObject({ sourceRanges: ['10.0.0.0/8'], destinationRanges: ['203.0.113.10'], allowed: [{ IPProtocol: 'tcp', ports: ['80'] }] });
  });

  it('a node leaving takes it out of its instance group and nothing else', async () => {
    const h = harness();
    await h.provider.ensure(l4());
    h.fake.clearLog();
    const spec = l4();
    const ts = spec.targetSets[0];
    if (ts?.type !== 'instance') throw new Error('instance');
    await h.provider.ensure({ ...spec, targetSets: [{ ...ts, targets: [nodeA] }] });
    // The emptied zone's group stays (shared) but leaves the backend service.
    expect(h.fake.writes()).toEqual(['InstanceGroups.RemoveInstances k8s-ig--cid1', `RegionBackendServices.Update ${LB}`]);
    expect(h.fake.log.find((c) => c.rpc === 'InstanceGroups.RemoveInstances')?.body).toEqual({
      instances: [{ instance: `${V1}/zones/${REGION}-b/instances/node-b` }],
    });
    const bs = h.fake.log.find((c) => c.rpc === 'RegionBackendServices.Update');
    expect(bs?.body?.fingerprint).toBeDefined();
    expect(bs?.body?.backends).toEqual([{ group: `${V1}/zones/${REGION}-a/instanceGroups/k8s-ig--cid1`, balancingMode: 'CONNECTION' }]);
  });

  it('session affinity changes the backend service in place', async () => {
    const h = harness();
    await h.provider.ensure(l4());
    h.fake.clearLog();
    await h.provider.ensure(l4({ sessionAffinity: { type: 'ClientIP', timeoutSeconds: 10800 } }));
    expect(h.fake.writes()).toEqual([`RegionBackendServices.Update ${LB}`]);
    expect(h.fake.get(`regions/${REGION}/backendServices/${LB}`)?.sessionAffinity).toBe('CLIENT_IP');
  });

  it('a port change replaces the forwarding rule, and says so', async () => {
    const h = harness();
    await h.provider.ensure(l4());
    h.fake.clearLog();
    const spec = withPorts(l4(), [
      { protocol: 'TCP', port: 80, nodePort: 30080 },
      { protocol: 'TCP', port: 443, nodePort: 30443 },
    ]);
    const planned = await h.provider.plan(spec);
    const fr = planned.filter((c) => c.resource === 'ForwardingRule');
    expect(fr).toEqual([
      { op: 'delete', resource: 'ForwardingRule', id: LB, detail: 'replaced: ports 80 → 80,443' },
      { op: 'create', resource: 'ForwardingRule', id: LB, detail: 'replaced: ports 80 → 80,443' },
    ]);
    h.fake.clearLog();
    const status = await h.provider.ensure(spec);
    expect(h.fake.writes()).toEqual([`ForwardingRules.Delete ${LB}`, `Firewalls.Update k8s-fw-${LB}`, `ForwardingRules.Insert ${LB}`]);
    // The address is kept: the IP does not change.
    expect(status.ingress[0]?.ip).toBe('203.0.113.10');
    // ensure says what it replaced, for the reconciler's Event.
    expect(status.notices).toEqual([
      { type: 'Normal', reason: 'UpdatedLoadBalancer', message: `Replaced what cannot change in place: ForwardingRule ${LB} (ports 80 → 80,443)` },
    ]);
    // Converged: the next ensure replaces nothing and writes nothing.
    h.fake.clearLog();
    expect((await h.provider.ensure(spec)).notices).toBeUndefined();
    expect(h.fake.writes()).toEqual([]);
    expect(h.fake.get(`regions/${REGION}/forwardingRules/${LB}`)?.ports).toEqual(['80', '443']);
  });

  it('switching the network tier removes the old forwarding rule and address first', async () => {
    const h = harness();
    await h.provider.ensure(l4());
    h.fake.clearLog();
    const status = await h.provider.ensure(l4({}, { networkTier: 'STANDARD' }));
    expect(h.fake.writes()).toEqual([
      `ForwardingRules.Delete ${LB}`,
      `Addresses.Delete ${LB}`,
      `Addresses.Insert ${LB}`,
      `Firewalls.Update k8s-fw-${LB}`,
      `ForwardingRules.Insert ${LB}`,
    ]);
    expect(h.fake.get(`regions/${REGION}/addresses/${LB}`)).toMatchObject({ networkTier: 'STANDARD' });
    expect(status.notices?.map((n) => n.message)).toEqual([
      `Replaced what cannot change in place: Address ${LB} (network tier PREMIUM → STANDARD); ForwardingRule ${LB} (network tier PREMIUM → STANDARD)`,
    ]);
    expect(h.fake.get(`regions/${REGION}/forwardingRules/${LB}`)).toMatchObject({ networkTier: 'STANDARD', IPAddress: status.ingress[0]?.ip });
  });
});

describe('gce L4 external: requested addresses', () => {
  it('uses the user reserved address and never releases it', async () => {
    const h = harness();
    h.fake.seed(`regions/${REGION}/addresses/my-ip`, { address: '192.0.2.7', addressType: 'EXTERNAL', networkTier: 'PREMIUM', description: 'mine' });
    const status = await h.provider.ensure(l4({ requestedAddresses: ['192.0.2.7'] }));
    expect(status.ingress[0]?.ip).toBe('192.0.2.7');
    expect(h.fake.writes()).not.toContain(`Addresses.Insert ${LB}`);
    expect(h.fake.get(`regions/${REGION}/forwardingRules/${LB}`)?.IPAddress).toBe('192.0.2.7');
    await h.provider.delete(l4().ref);
    expect(h.fake.get(`regions/${REGION}/addresses/my-ip`)).toMatchObject({ description: 'mine', address: '192.0.2.7' });
    expect(h.fake.writes().some((w) => w.includes('my-ip'))).toBe(false);
  });

  it('refuses an address another load balancer of the cluster holds', async () => {
    const h = harness();
    const other = l4({ ref: { kind: 'Service', namespace: 'default', name: 'other', uid: '0000aaaa-0000-0000-0000-000000000000' } });
    const taken = (await h.provider.ensure(other)).ingress[0]?.ip ?? '';
    const err = await rejection(h.provider.ensure(l4({ requestedAddresses: [taken] })));
    expect(err.kind).toBe('conflict');
    expect(err.message).toContain('held by another load balancer of this cluster');
  });

  it('refuses a reserved address of the wrong tier, and an IP that is not reserved', async () => {
    const h = harness();
    h.fake.seed(`regions/${REGION}/addresses/std-ip`, { address: '192.0.2.8', addressType: 'EXTERNAL', networkTier: 'STANDARD' });
    const tier = await rejection(h.provider.ensure(l4({ requestedAddresses: ['192.0.2.8'] })));
    expect(tier.kind).toBe('invalid');
    expect(tier.message).toContain('STANDARD network tier');
    const unknown = await rejection(h.provider.ensure(l4({ requestedAddresses: ['192.0.2.9'] })));
    expect(unknown.kind).toBe('invalid');
    expect(unknown.message).toContain('neither a static address');
    expect(h.fake.writes()).toEqual([]);
  });
});

describe('gce L4 external: delete and ownership', () => {
  it('deletes everything it made, then the shared health check and instance groups nobody uses', async () => {
    const h = harness();
    await h.provider.ensure(l4());
    h.fake.clearLog();
    await h.provider.delete(l4().ref);
    expect(h.fake.writes()).toEqual([
      `ForwardingRules.Delete ${LB}`,
      `RegionBackendServices.Delete ${LB}`,
      // The groups once no backend service uses them (GCE would refuse before).
      'InstanceGroups.Delete k8s-ig--cid1',
      'InstanceGroups.Delete k8s-ig--cid1',
      `Firewalls.Delete k8s-fw-${LB}`,
      'RegionHealthChecks.Delete k8s-cid1-node',
      'Firewalls.Delete k8s-cid1-node-http-hc',
      `Addresses.Delete ${LB}`,
    ]);
    expect(h.fake.paths()).toEqual([]);
    h.fake.clearLog();
    await h.provider.delete(l4().ref);
    expect(h.fake.writes()).toEqual([]);
  });

  it('Services created at once share the groups and node check; one alone observes each kind once', async () => {
    const h = harness();
    const svc = (i: number) => l4({ ref: { kind: 'Service', namespace: 'default', name: `s${i}`, uid: `0000000${i}-0000-0000-0000-000000000000` } });
    await h.provider.ensure(svc(0));
    // Alone, nothing else ran while it planned: the plan is not made twice under the lock.
    expect(h.fake.reads().filter((r) => r.startsWith('InstanceGroups.AggregatedList'))).toHaveLength(1);
    expect(h.fake.reads().filter((r) => /^(Firewalls|ForwardingRules|RegionBackendServices|RegionHealthChecks)\.Get /.test(r))).toEqual([]);
    await h.provider.delete(svc(0).ref);
    expect(h.fake.paths()).toEqual([]);
    const statuses = await Promise.all([1, 2, 3].map((i) => h.provider.ensure(svc(i))));
    expect(new Set(statuses.map((s) => s?.ingress[0]?.ip)).size).toBe(3);
    expect(h.fake.paths().filter((p) => p.includes('/instanceGroups/'))).toEqual(['zones/us-central1-a/instanceGroups/k8s-ig--cid1', 'zones/us-central1-b/instanceGroups/k8s-ig--cid1']);
    expect(h.fake.membersOf('zones/us-central1-a/instanceGroups/k8s-ig--cid1')).toEqual([`${V1}/zones/us-central1-a/instances/node-a`]);
    expect(h.fake.paths().filter((p) => p.includes('/healthChecks/'))).toEqual(['regions/us-central1/healthChecks/k8s-cid1-node']);
    // No write was refused: the runs did not trip over each other (the later ones planned again under the lock).
    expect(h.fake.log.filter((c) => isWrite(c) && c.status >= 400).map((c) => `${c.rpc} ${c.target} ${c.status}`)).toEqual([]);
    for (const i of [1, 2, 3]) await h.provider.delete(svc(i).ref);
    expect(h.fake.paths()).toEqual([]);
  });

  it('keeps the shared health check and groups while another Service uses them', async () => {
    const h = harness();
    const other = l4({ ref: { kind: 'Service', namespace: 'default', name: 'other', uid: '0000aaaa-0000-0000-0000-000000000000' } });
    const otherLb = l4LoadBalancerName(other.ref.uid);
    await h.provider.ensure(other);
    await h.provider.ensure(l4());
    await h.provider.delete(l4().ref);
    expect(h.fake.paths()).toEqual(
      [
        'global/firewalls/k8s-cid1-node-http-hc',
        `global/firewalls/k8s-fw-${otherLb}`,
        `regions/us-central1/addresses/${otherLb}`,
        `regions/us-central1/backendServices/${otherLb}`,
        `regions/us-central1/forwardingRules/${otherLb}`,
        'regions/us-central1/healthChecks/k8s-cid1-node',
        'zones/us-central1-a/instanceGroups/k8s-ig--cid1',
        'zones/us-central1-b/instanceGroups/k8s-ig--cid1',
      ].sort(),
    );
  });

  it('leaves a resource whose description does not name its cluster untouched, and says why', async () => {
    const h = harness();
    const foreign = { description: '{"kubernetes.io/service-name":"default/web"}', IPAddress: '198.51.100.200', IPProtocol: 'TCP', ports: ['80'] };
    h.fake.seed(`regions/${REGION}/forwardingRules/${LB}`, foreign);
    const err = await rejection(h.provider.ensure(l4()));
    expect(err.kind).toBe('conflict');
    expect(err.message).toContain(`ForwardingRule ${LB} already exists and belongs to someone other than this lbc cluster`);
    expect(h.fake.writes().some((w) => w.startsWith('ForwardingRules.'))).toBe(false);
    await h.provider.delete(l4().ref);
    expect(h.fake.get(`regions/${REGION}/forwardingRules/${LB}`)).toMatchObject(foreign);
    expect(h.fake.writes().some((w) => w.startsWith('ForwardingRules.'))).toBe(false);
  });

  it('another cluster sharing the project is foreign too', async () => {
    const h = harness();
    await h.provider.ensure(l4());
    const desc = JSON.stringify({ 'lbc.dev/cluster': 'elsewhere', 'lbc.dev/owner-uid': SVC_UID, 'lbc.dev/owner-kind': 'Service', 'lbc.dev/owner-namespace': 'default', 'lbc.dev/owner-name': 'web' });
    h.fake.seed(`regions/${REGION}/addresses/a-elsewhere`, { description: desc, address: '192.0.2.99' });
    const owned = await h.provider.listOwned();
    expect(owned.map((o) => o.ref)).toEqual([{ kind: 'Service', namespace: 'default', name: 'web', uid: SVC_UID }]);
    expect(owned[0]?.id).toBe(`https://www.googleapis.com/compute/v1/projects/${PROJECT}/regions/${REGION}/forwardingRules/${LB}`);
  });
});
