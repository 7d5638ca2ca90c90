// The cluster's one Ingress firewall rule, named and kept as ingress-gce keeps its own
// (pkg/firewalls/firewalls.go Sync, controller.go sync; pkg/utils/namer FirewallRule):
// `k8s-fw-l7--<uid>` with every lbc Ingress's ports, co-owned with ingress-gce only where
// the uid is GKE's, converging after a crash after any write, and the per-Ingress rules
// lbc made before migrated away.
import { describe, expect, it } from 'vitest';
import type { L7Spec } from '../../../src/model/spec.js';
import type { GceLbOptions } from '../../../src/providers/gce/annotations.js';
import { l7FirewallName, l7Names } from '../../../src/providers/gce/names.js';
import { ownedDescription } from '../../../src/providers/gce/ownership.js';
import type { ClusterFacts } from '../../../src/providers/types.js';
import { PartialEnsureError } from '../../../src/providers/types.js';
import { isWrite } from './fake-compute.js';
import { CLUSTER, CLUSTER_ID, HTTP_HC, l7, nodeA, nodeB, rejection, type Harness } from './fixtures.js';
import { harnessPerTest } from './lifecycle.js';

const harness = harnessPerTest();

const RULE = `global/firewalls/k8s-fw-l7--${CLUSTER_ID}`;
const NETWORK = 'https://www.googleapis.com/compute/v1/projects/test-project/global/networks/default';
/** ingress-gce's uid: 8 random bytes in hex (cmd/glbc/app/namer.go randomUID). */
const GKE_UID = 'e1a2b3c4d5f60718';

/** A second Ingress, with its own node ports and a health check on a port of its own. */
function admin(): L7Spec<GceLbOptions> {
  const ref = { kind: 'Ingress' as const, namespace: 'shop', name: 'admin', uid: '5b5b5b5b-3333-4c4c-8d8d-0e0e0e0e0e0e' };
  const base = l7();
  return {
    ...base,
    ref,
    rules: [{ path: '/', pathType: 'Prefix', targetSet: 'shop/admin:80', source: 'shop/admin' }],
    defaultBackend: 'shop/admin:80',
    targetSets: [
      { name: 'shop/admin:80', type: 'instance', protocol: 'HTTP', nodePort: 31101, targets: [nodeA, nodeB], healthCheck: { ...HTTP_HC, port: 30500 }, backend: { namespace: 'shop', service: 'admin', port: 80 } },
    ],
  };
}

const allowed = (h: Harness, path = RULE) => (h.fake.get(path)?.allowed as { IPProtocol: string; ports: string[] }[] | undefined)?.map((a) => `${a.IPProtocol}:${a.ports.join(',')}`);
const firewallWrites = (h: Harness) => h.fake.writes().filter((w) => w.startsWith('Firewalls.'));

function facts(data: Record<string, string>): ClusterFacts {
  return { configMap: () => Promise.resolve(data) };
}

describe('gce L7 firewall: one rule for the cluster, as ingress-gce names it', () => {
  it('names it k8s-fw-l7--<firewall uid>, k8s-fw-l7 without one, never longer than GCE allows', () => {
    expect(l7FirewallName('e1a2b3c4d5f60718')).toBe('k8s-fw-l7--e1a2b3c4d5f60718');
    expect(l7FirewallName('')).toBe('k8s-fw-l7');
    const long = l7FirewallName('x'.repeat(80));
    expect(long).toHaveLength(63);
    expect(long).toMatch(/^k8s-fw-l7--x+0$/);
  });

  it('two Ingresses share it with the union of their node and health-check ports; deleting one takes only its ports; the last takes the rule', async () => {
    const h = harness();
    await h.provider.ensure(l7());
    expect(h.fake.get(RULE)).toMatchObject({
      network: NETWORK,
      sourceRanges: ['35.191.0.0/16', '130.211.0.0/22'],
      targetTags: ['gke-test-node'],
      description: JSON.stringify({ 'kubernetes.io/cluster-id': CLUSTER_ID, 'lbc.dev/cluster': CLUSTER }),
    });
    expect(allowed(h)).toEqual(['tcp:31001-31002']);
    await h.provider.ensure(admin());
    expect(allowed(h)).toEqual(['tcp:30500,31001-31002,31101']);
    // The first Ingress's next ensure keeps the second's ports: they are read from its backend services and checks.
    h.fake.clearLog();
    await h.provider.ensure(l7());
    expect(h.fake.writes()).toEqual([]);
    expect(h.fake.paths().filter((p) => p.includes('firewalls'))).toEqual([RULE]);

    await h.provider.delete(admin().ref);
    expect(allowed(h)).toEqual(['tcp:31001-31002']);
    h.fake.clearLog();
    await h.provider.delete(l7().ref);
    expect(firewallWrites(h)).toEqual([`Firewalls.Delete k8s-fw-l7--${CLUSTER_ID}`]);
    expect(h.fake.paths()).toEqual([]);
  });

  it("on GKE the name comes from kube-system/ingress-uid's provider-uid, as ingress-gce's", async () => {
    const h = harness({ clusterId: undefined }, { cluster: facts({ uid: GKE_UID, 'provider-uid': 'f00dfeed' }) });
    await h.provider.ensure(l7());
    expect(firewallWrites(h)).toEqual(['Firewalls.Insert k8s-fw-l7--f00dfeed']);
  });
});

describe("gce L7 firewall: a rule under the name that lbc did not make", () => {
  const gkeRule = (ports: string[]) => ({
    description: 'GCE L7 firewall rule',
    network: NETWORK,
    sourceRanges: ['130.211.0.0/22', '35.191.0.0/16'],
    targetTags: ['gke-test-node'],
    allowed: [{ IPProtocol: 'tcp', ports }],
  });

  it("the uid is GKE's: ingress-gce's rule is co-owned, lbc adding only what it lacks, never removing nor deleting it", async () => {
    const h = harness({ clusterId: undefined }, { cluster: facts({ uid: GKE_UID }) });
    const path = `global/firewalls/k8s-fw-l7--${GKE_UID}`;
    // ingress-gce opens the whole node-port range once it serves a node-port backend: nothing to add.
    h.fake.seed(path, gkeRule(['30000-32767']));
    await h.provider.ensure(l7());
    expect(firewallWrites(h)).toEqual([]);
    await h.provider.delete(l7().ref);
    expect(h.fake.get(path)).toMatchObject(gkeRule(['30000-32767']));

    // GKE's Ingresses on NEGs only: lbc adds its node ports beside ingress-gce's, and keeps its description.
    h.fake.seed(path, gkeRule(['9376']));
    h.fake.clearLog();
    await h.provider.ensure(l7());
    expect(firewallWrites(h)).toEqual([`Firewalls.Update k8s-fw-l7--${GKE_UID}`]);
    expect(h.fake.get(path)).toMatchObject({ ...gkeRule(['9376', '31001-31002']) });
    // ingress-gce sets it back to its own view at its next sync; lbc adds its ports again at its next ensure.
    h.fake.seed(path, gkeRule(['9376']));
    await h.provider.ensure({ ...l7(), rules: l7().rules.slice(1) });
    expect(allowed(h, path)).toEqual(['tcp:9376,31001-31002']);
    h.fake.clearLog();
    await h.provider.delete(l7().ref);
    expect(firewallWrites(h)).toEqual([]);
    expect(h.fake.get(path)).toBeDefined();
  });

  it('the uid is configured: used as it is when it lets lbc in; otherwise the error names what it lacks and the command its owner must run; never changed nor deleted', async () => {
    const h = harness();
    const made = { ...gkeRule(['31001']), description: 'made by the network team' };
    h.fake.seed(RULE, made);
    const err = await rejection(h.provider.ensure(l7()));
    expect(err).toBeInstanceOf(PartialEnsureError);
    expect(err.kind).toBe('forbidden');
    expect(err.message).toContain(`firewall rule k8s-fw-l7--${CLUSTER_ID} is not lbc's`);
    expect(err.message).toContain('lacks tcp:31002');
    expect(err.message).toContain(`its owner must run: gcloud compute firewall-rules update k8s-fw-l7--${CLUSTER_ID} --project test-project --description 'made by the network team' --allow tcp:31001,tcp:31002`);
    // The rest is built and its address handed back for publishing.
    expect((err as PartialEnsureError).status.ingress).toHaveLength(1);
    expect(firewallWrites(h)).toEqual([]);
    expect(h.fake.get(RULE)).toMatchObject(made);

    // Deleting one of two Ingresses while the rule still lacks a port of the other: the deletion is not held up.
    await rejection(h.provider.ensure(admin()));
    await h.provider.delete(admin().ref);

    h.fake.seed(RULE, { ...made, allowed: [{ IPProtocol: 'tcp', ports: ['31000-31100'] }] });
    h.fake.clearLog();
    await h.provider.ensure(l7());
    await h.provider.delete(l7().ref);
    expect(firewallWrites(h)).toEqual([]);
    expect(h.fake.paths()).toEqual([RULE]);
  });
});

describe('gce L7 firewall: from the per-Ingress rules lbc made before', () => {
  it("each Ingress's k8s2-fw-<lb> goes once the cluster's rule lets its ports in, at its next ensure or its deletion", async () => {
    const h = harness();
    const legacy = (spec: L7Spec<GceLbOptions>) => `global/firewalls/${l7Names(spec.ref, CLUSTER_ID).legacyFirewall}`;
    await h.provider.ensure(l7());
    await h.provider.ensure(admin());
    // As the previous lbc left them: one rule per Ingress, owned by it.
    for (const spec of [l7(), admin()]) {
      h.fake.seed(legacy(spec), { description: ownedDescription(CLUSTER, spec.ref), network: NETWORK, sourceRanges: ['35.191.0.0/16', '130.211.0.0/22'], targetTags: ['gke-test-node'], allowed: [{ IPProtocol: 'tcp', ports: ['31001'] }] });
    }
    h.fake.remove(RULE);
    h.fake.clearLog();
    await h.provider.ensure(l7());
    expect(firewallWrites(h)).toEqual([`Firewalls.Insert k8s-fw-l7--${CLUSTER_ID}`, `Firewalls.Delete ${l7Names(l7().ref, CLUSTER_ID).legacyFirewall}`]);
    expect(allowed(h)).toEqual(['tcp:30500,31001-31002,31101']);
    await h.provider.delete(admin().ref);
    expect(h.fake.get(legacy(admin()))).toBeUndefined();
    await h.provider.delete(l7().ref);
    expect(h.fake.paths()).toEqual([]);
  });
});

describe('gce L7 firewall: a crash after any write converges', () => {
  it("another Ingress's create and delete, crashed after each write, leave the rule with exactly the ports of the Ingresses there are", async () => {
    const h = harness();
    await h.provider.ensure(l7());
    const alone = h.fake.paths();
    await h.provider.ensure(admin());
    const both = h.fake.paths();
    const writes = h.fake.writes().length;
    await h.provider.delete(admin().ref);
    h.fake.clearLog();
    await h.provider.ensure(admin());
    const createWrites = h.fake.writes().length;
    await h.provider.delete(admin().ref);
    expect(createWrites).toBeGreaterThan(5);
    expect(writes).toBeGreaterThan(createWrites);
    for (let n = 0; n < createWrites; n++) {
      h.fake.crashAfterWrites(n);
      await expect(h.provider.ensure(admin())).rejects.toThrow();
      h.fake.healed();
      await h.provider.ensure(admin());
      expect(h.fake.paths(), `after a crash following write ${n}`).toEqual(both);
      expect(allowed(h), `after a crash following write ${n}`).toEqual(['tcp:30500,31001-31002,31101']);
      h.fake.crashAfterWrites(n % 4);
      await expect(h.provider.delete(admin().ref)).rejects.toThrow();
      h.fake.healed();
      await h.provider.delete(admin().ref);
      expect(h.fake.paths(), `delete after a crash following write ${n}`).toEqual(alone);
      expect(allowed(h), `delete after a crash following write ${n}`).toEqual(['tcp:31001-31002']);
    }
  }, 300_000);

  it("an Ingress deleted after a crash left its ports in the rule before its backend services existed: its deletion takes them out", async () => {
    const h = harness();
    await h.provider.ensure(l7());
    // admin()'s create got as far as its address, its health check and the rule, then died.
    h.fake.clearLog();
    h.fake.crashAfterWrites(3);
    await expect(h.provider.ensure(admin())).rejects.toThrow();
    h.fake.healed();
    expect(h.fake.log.filter((c) => isWrite(c) && c.status === 200).map((c) => c.rpc)).toEqual(['GlobalAddresses.Insert', 'HealthChecks.Insert', 'Firewalls.Update']);
    expect(allowed(h)).toEqual(['tcp:30500,31001-31002,31101']);
    await h.provider.delete(admin().ref);
    expect(allowed(h)).toEqual(['tcp:31001-31002']);
  });
});

describe('gce fake: firewall rules GCE refuses', () => {
  it('a port outside 0-65535 or not a number, and IPv4 with IPv6 ranges in one rule', async () => {
    const h = harness();
    await h.provider.ensure(l7());
    const body = (over: object) => ({ name: 'x', network: NETWORK, sourceRanges: ['35.191.0.0/16'], allowed: [{ IPProtocol: 'tcp', ports: ['80'] }], ...over });
    const insert = (over: object) =>
      fetch('https://compute.googleapis.com/compute/v1/projects/test-project/global/firewalls', {
        method: 'POST',
        headers: { authorization: 'Bearer test-token', 'content-type': 'application/json' },
        body: JSON.stringify(body(over)),
      });
    for (const ports of [['70000'], ['90-80'], ['http']]) {
      const r = await insert({ allowed: [{ IPProtocol: 'tcp', ports }] });
      expect(r.status, ports[0]).toBe(400);
      expect(((await r.json()) as { error: { message: string } }).error.message).toContain("Invalid value for field 'resource.allowed[0].ports[0]'");
    }
    const mixed = await insert({ sourceRanges: ['35.191.0.0/16', '2600:1901:8001::/48'] });
    expect(mixed.status).toBe(400);
    expect(((await mixed.json()) as { error: { message: string } }).error.message).toContain('either IPv4 or IPv6 ranges, but not both');
  });
});
