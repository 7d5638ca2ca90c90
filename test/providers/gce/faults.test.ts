// Faults: rate limiting, server errors, operations that fail, stale fingerprints, names
// taken by someone else, firewalls lbc may not write, and crashes between any two
// writes followed by a run that converges (and a delete that leaves nothing).
import { OAuth2Client } from 'google-auth-library';
import { describe, expect, it } from 'vitest';
import { Compute } from '../../../src/providers/gce/compute.js';
import { l4Names } from '../../../src/providers/gce/names.js';
import { gceOptionsSchema } from '../../../src/providers/gce/options.js';
import type { LoadBalancerSpec } from '../../../src/model/spec.js';
import type { GceLbOptions } from '../../../src/providers/gce/annotations.js';
import { PartialEnsureError } from '../../../src/providers/types.js';
import { CERT_A, CLUSTER_ID, KEY_A, l4, l7, LB, PROJECT, REGION, rejection, seedVpcNativeNodes, SVC_UID, TOKEN, withPorts, withTls, type Harness } from './fixtures.js';
import { gatewaySpec, seedProxyOnlySubnet } from './gateway-fixtures.js';
import { harnessPerTest } from './lifecycle.js';
import { unknownFields, type FakeReply } from './fake-compute.js';

const harness = harnessPerTest();

const rateLimited = (retryAfter?: string): FakeReply => ({
  status: 429,
  body: { error: { code: 429, message: 'Rate Limit Exceeded', errors: [{ reason: 'rateLimitExceeded', domain: 'usageLimits', message: 'Rate Limit Exceeded' }] } },
  ...(retryAfter !== undefined ? { headers: { 'Retry-After': retryAfter } } : {}),
});
const userRateLimited: FakeReply = {
  status: 403,
  body: { error: { code: 403, message: 'User Rate Limit Exceeded', errors: [{ reason: 'userRateLimitExceeded', domain: 'usageLimits', message: 'User Rate Limit Exceeded' }] } },
};
const unavailable: FakeReply = { status: 503, body: { error: { code: 503, message: 'Backend Error', errors: [{ reason: 'backendError', domain: 'global', message: 'Backend Error' }] } } };

describe('gce faults: rate limiting and server errors', () => {
  it('429 and userRateLimitExceeded are retried with backoff, then succeed', async () => {
    const h = harness();
    h.fake.failNext((c) => c.rpc === 'Addresses.Insert', rateLimited('0'), 2);
    h.fake.failNext((c) => c.rpc === 'ForwardingRules.Insert', userRateLimited, 1);
    h.fake.failNext((c) => c.rpc === 'RegionBackendServices.Get', unavailable, 1);
    await h.provider.ensure(l4());
    expect(h.fake.log.filter((c) => c.rpc === 'Addresses.Insert').map((c) => c.status)).toEqual([429, 429, 200]);
    expect(h.fake.log.filter((c) => c.rpc === 'ForwardingRules.Insert').map((c) => c.status)).toEqual([403, 200]);
    expect(h.fake.get(`regions/${REGION}/forwardingRules/${LB}`)).toBeDefined();
  });

  it('persistent rate limiting ends in a throttled ProviderError carrying Retry-After', async () => {
    const h = harness();
    h.fake.failNext((c) => c.rpc === 'Addresses.Insert', rateLimited('7'), Infinity);
    const err = await rejection(h.provider.ensure(l4()));
    expect(err.kind).toBe('throttled');
    expect(err.retryAfterMs).toBe(7000);
    expect(err.message).toContain('rateLimitExceeded');
    // retries: 3 in the harness, so four attempts.
    expect(h.fake.log.filter((c) => c.rpc === 'Addresses.Insert')).toHaveLength(4);
  });

  it('persistent 5xx ends in a transient error; 404 on delete is success', async () => {
    const h = harness();
    h.fake.failNext((c) => c.rpc === 'Addresses.Get', unavailable, Infinity);
    const err = await rejection(h.provider.ensure(l4()));
    expect(err.kind).toBe('transient');
    expect(err.retryable).toBe(true);
    h.fake.healed();
    await h.provider.ensure(l4());
    // Someone removed the forwarding rule meanwhile: delete still completes.
    h.fake.remove(`regions/${REGION}/forwardingRules/${LB}`);
    await h.provider.delete(l4().ref);
    expect(h.fake.paths()).toEqual([]);
  });

  it('an operation that ends in error surfaces its message', async () => {
    const h = harness({}, { pendingOperations: true });
    h.fake.failOperation((c) => c.rpc === 'RegionBackendServices.Insert', { code: 'QUOTA_EXCEEDED', message: "Quota 'BACKEND_SERVICES' exceeded. Limit: 75.0 in region us-central1." });
    const err = await rejection(h.provider.ensure(l4()));
    expect(err.kind).toBe('quota');
    expect(err.message).toContain("QUOTA_EXCEEDED: Quota 'BACKEND_SERVICES' exceeded");
    expect(h.fake.log.some((c) => c.rpc === 'RegionOperations.Wait')).toBe(true);
    expect(h.fake.violations).toEqual([]);
  });

  it('an aborted call stops with a transient error', async () => {
    const h = harness();
    const ac = new AbortController();
    ac.abort();
    const err = await rejection(h.provider.ensure(l4(), { signal: ac.signal }));
    expect(err.kind).toBe('transient');
  });
});

describe('gce faults: fingerprints and taken names', () => {
  it('412 on a URL map update: read again, then update with the new fingerprint', async () => {
    const h = harness();
    await h.provider.ensure(l7());
    h.fake.clearLog();
    h.fake.failNext((c) => c.rpc === 'UrlMaps.Update', { status: 412, body: { error: { code: 412, message: 'Supplied fingerprint does not match', errors: [{ reason: 'conditionNotMet', domain: 'global', message: 'x' }] } } });
    const spec = l7();
    await h.provider.ensure({ ...spec, rules: spec.rules.slice(1) });
    expect(h.fake.log.filter((c) => c.rpc.startsWith('UrlMaps.')).map((c) => `${c.rpc} ${c.status}`)).toEqual([
      'UrlMaps.Get 200',
      'UrlMaps.Update 412',
      'UrlMaps.Get 200',
      'UrlMaps.Update 200',
    ]);
  });

  it('409 on insert adopts a resource that names lbc, and refuses one that does not', async () => {
    const h = harness();
    await h.provider.ensure(l4());
    // A stale read: the forwarding rule exists, but lbc does not see it and inserts.
    h.fake.failNext((c) => c.rpc === 'ForwardingRules.List', { status: 200, body: { items: [] } }, 1);
    h.fake.clearLog();
    await h.provider.ensure(l4());
    expect(h.fake.log.filter((c) => c.rpc === 'ForwardingRules.Insert').map((c) => c.status)).toEqual([409]);
    expect(h.fake.writes()).toEqual([`ForwardingRules.Insert ${LB}`]);

    const names = l4Names('77777777-0000-0000-0000-000000000000', CLUSTER_ID);
    const other = l4({ ref: { kind: 'Service', namespace: 'default', name: 'other', uid: '77777777-0000-0000-0000-000000000000' } });
    h.fake.seed(`regions/${REGION}/backendServices/${names.lb}`, { description: '{"kubernetes.io/service-name":"default/other"}', protocol: 'TCP', loadBalancingScheme: 'EXTERNAL' });
    h.fake.failNext((c) => c.rpc === 'RegionBackendServices.List', { status: 200, body: { items: [] } }, 1);
    h.fake.clearLog();
    const err = await rejection(h.provider.ensure(other));
    expect(err.kind).toBe('conflict');
    expect(err.message).toContain(`BackendService ${names.lb} already exists and belongs to someone other than this lbc cluster`);
    expect(h.fake.get(`regions/${REGION}/backendServices/${names.lb}`)?.description).toBe('{"kubernetes.io/service-name":"default/other"}');
    // Read after the 409: the real description, not the stale list, decided.
    expect(h.fake.log.filter((c) => c.rpc.startsWith('RegionBackendServices.') && (c.target === names.lb || c.rpc.endsWith('.List'))).map((c) => `${c.rpc} ${c.status}`)).toEqual([
      'RegionBackendServices.List 200',
      'RegionBackendServices.Insert 409',
      'RegionBackendServices.Get 200',
    ]);
  });

  it('a firewall rule lbc may not create (shared VPC): the rest is built, and the error says what an administrator must run', async () => {
    const h = harness();
    h.fake.failNext(
      (c) => c.rpc === 'Firewalls.Insert' && c.target === `k8s-fw-${LB}`,
      { status: 403, body: { error: { code: 403, message: "Required 'compute.firewalls.create' permission", errors: [{ reason: 'forbidden', domain: 'global', message: 'x' }] } } },
      Infinity,
    );
    const err = await rejection(h.provider.ensure(l4({ sourceRanges: ['10.0.0.0/8'] })));
    expect(err.kind).toBe('forbidden');
    expect(err.message).toContain(`an administrator must run: gcloud compute firewall-rules create k8s-fw-${LB} --project test-project --network default`);
    expect(err.message).toContain('--allow tcp:80 --source-ranges 10.0.0.0/8 --destination-ranges 203.0.113.10 --target-tags gke-test-node');
    expect(h.fake.get(`regions/${REGION}/forwardingRules/${LB}`)).toBeDefined();
    // The load balancer serves (the health-check rule went in): its address is handed back for publishing.
    expect(err).toBeInstanceOf(PartialEnsureError);
    expect((err as PartialEnsureError).status.ingress).toEqual([{ ip: '203.0.113.10', ipMode: 'VIP' }]);
    // Once the administrator has made the rule (without lbc's description), it is accepted as it is.
    h.fake.healed();
    h.fake.seed(`global/firewalls/k8s-fw-${LB}`, { description: 'made by the network team', network: 'default', allowed: [{ IPProtocol: 'tcp', ports: ['80'] }] });
    h.fake.clearLog();
    expect((await h.provider.ensure(l4({ sourceRanges: ['10.0.0.0/8'] }))).ingress).toEqual([{ ip: '203.0.113.10', ipMode: 'VIP' }]);
    expect(h.fake.writes()).toEqual([]);
  });
});

describe('gce faults: firewall rules an administrator made', () => {
  it('a rule under lbc name without lbc description is used as it is: never updated, never deleted', async () => {
    const h = harness();
    const admin = { description: 'created by the network team', network: 'https://www.googleapis.com/compute/v1/projects/test-project/global/networks/default', allowed: [{ IPProtocol: 'tcp', ports: ['80'] }], sourceRanges: ['0.0.0.0/0'] };
    h.fake.seed(`global/firewalls/k8s-fw-${LB}`, admin);
    await h.provider.ensure(l4({ sourceRanges: ['10.0.0.0/8'] }));
    expect(h.fake.writes().some((w) => w.includes(`k8s-fw-${LB}`))).toBe(false);
    await h.provider.delete(l4().ref);
    expect(h.fake.paths()).toEqual([`global/firewalls/k8s-fw-${LB}`]);
    expect(h.fake.get(`global/firewalls/k8s-fw-${LB}`)).toMatchObject(admin);
  });
});

// A crash after each write, then convergence, then a crashed and a finished delete: a
// few thousand calls through the real clients, which a loaded machine needs minutes for.
const CRASH_LOOP_MS = 300_000;

describe('gce faults: a crash between any two writes leaks nothing', () => {
  /** Creates and deletes `spec`, then again with a crash after each write of the create (and a crash in the delete after it). */
  async function converges(h: Harness, spec: LoadBalancerSpec<GceLbOptions>): Promise<void> {
    const build = () => h.provider.ensure(spec);
    const remove = () => h.provider.delete(spec.ref);
    // What was there before (VMs a test seeded) is all a delete leaves.
    const before = h.fake.paths();
    // The reference run: how many writes a clean create takes, and what it leaves.
    await build();
    const writes = h.fake.writes().length;
    const reference = h.fake.paths();
    await remove();
    expect(h.fake.paths()).toEqual(before);
    for (let n = 0; n < writes; n++) {
      h.fake.crashAfterWrites(n);
      await expect(build()).rejects.toThrow();
      h.fake.healed();
      // What a crash left is found by ownership and collected, or finished by the next run.
      await build();
      expect(h.fake.paths(), `after a crash following write ${n}`).toEqual(reference);
      h.fake.crashAfterWrites(n % 3);
      await expect(remove()).rejects.toThrow();
      h.fake.healed();
      await remove();
      expect(h.fake.paths(), `delete after a crash following write ${n}`).toEqual(before);
    }
  }

  it('external L4 (TCP and UDP)', async () => {
    const spec = withPorts(l4(), [
      { protocol: 'TCP', port: 80, nodePort: 30080 },
      { protocol: 'UDP', port: 53, nodePort: 30053 },
    ]);
    await converges(harness(), spec);
  }, CRASH_LOOP_MS);

  it('internal L4', async () => {
    await converges(harness(), l4({}, { scheme: 'Internal' }));
  }, CRASH_LOOP_MS);

  it('internal L4 on GCE_VM_IP NEGs (ilbSubsetting)', async () => {
    const h = harness({ ilbSubsetting: true });
    seedVpcNativeNodes(h.fake);
    await converges(h, l4({}, { scheme: 'Internal' }));
  }, CRASH_LOOP_MS);

  it('Ingress with TLS', async () => {
    await converges(harness(), withTls(l7(), CERT_A, KEY_A, []));
  }, CRASH_LOOP_MS);

  it('Gateway on NEGs (EXTERNAL_MANAGED)', async () => {
    const h = harness();
    seedVpcNativeNodes(h.fake);
    await converges(h, gatewaySpec());
  }, CRASH_LOOP_MS);

  it('Gateway gke-l7-rilb on NEGs (INTERNAL_MANAGED, regional)', async () => {
    const h = harness();
    seedVpcNativeNodes(h.fake);
    seedProxyOnlySubnet(h.fake);
    await converges(h, gatewaySpec({ className: 'gke-l7-rilb', https: { cert: CERT_A, key: KEY_A } }));
  }, CRASH_LOOP_MS);

  it('what a crash left before any forwarding rule existed is still listed as owned, so garbage collection finds it', async () => {
    const h = harness();
    h.fake.crashAfterWrites(1);
    await expect(h.provider.ensure(l4())).rejects.toThrow();
    h.fake.healed();
    expect(h.fake.paths()).toEqual([`regions/${REGION}/addresses/${LB}`]);
    const owned = await h.provider.listOwned();
    expect(owned.map((o) => o.ref.uid)).toEqual([SVC_UID]);
    await h.provider.delete(owned[0]?.ref ?? l4().ref);
    expect(h.fake.paths()).toEqual([]);
  });
});

describe('gce fake: request fields are held to the Compute API types shipped with @google-cloud/compute', () => {
  const withCompute = async (fn: (c: Compute) => Promise<void>): Promise<void> => {
    const auth = new OAuth2Client();
    auth.setCredentials({ access_token: TOKEN, expiry_date: Date.now() + 3600_000 });
    const options = gceOptionsSchema.parse({ project: PROJECT, region: REGION, clusterId: CLUSTER_ID, retry: { retries: 2, minDelayMs: 1, maxDelayMs: 2 } });
    const c = new Compute({ provider: 'gce', options, clientOptions: { authClient: auth } });
    try {
      await fn(c);
    } finally {
      await c.close();
    }
  };

  it('a misspelled field in what lbc hands the client fails the call, before anything is sent', async () => {
    const h = harness();
    const { fake } = h;
    await withCompute(async (c) => {
      const resource = { name: 'a1', IPProtocl: 'TCP', labels: { a: 'b' } };
      const err = await rejection(
        c.write('forwardingRules.insert', 'a1', undefined, (o) => c.forwardingRules.insert({ project: PROJECT, region: REGION, forwardingRuleResource: resource }, o)),
      );
      expect(err.kind).toBe('invalid');
      expect(err.message).toContain('Unknown name "forwardingRuleResource.IPProtocl" in InsertForwardingRuleRequest');
      // protobuf.js would have dropped the field: nothing may reach the API.
      expect(fake.log).toEqual([]);
      expect(fake.violations).toHaveLength(1);
      // Nested, in a list: the backends of a backend service.
      const bs = { name: 'a1', backends: [{ balancingMode: 'CONNECTION', grup: 'x' }] };
      const nested = await rejection(
        c.write('regionBackendServices.insert', 'a1', undefined, (o) => c.regionBackendServices.insert({ project: PROJECT, region: REGION, backendServiceResource: bs }, o)),
      );
      expect(nested.message).toContain('"backendServiceResource.backends[0].grup"');
      expect(fake.log).toEqual([]);
    });
  });

  it('a body on the wire with a field the API does not have gets GCE 400 "Unknown name"', async () => {
    const h = harness();
    const res = await fetch(`https://compute.googleapis.com/compute/v1/projects/${PROJECT}/regions/${REGION}/forwardingRules`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'a1', IPProtocol: 'TCP', portRange: '80', backendServce: 'x' }),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain('Unknown name "backendServce"');
    expect(h.fake.paths()).toEqual([]);
    expect(unknownFields({ name: 'x', backends: [{ group: 'g', balancingMod: 'RATE' }], iap: { enabled: true, oauth2ClientSecrt: 's' } }, 'BackendService')).toEqual([
      'backends[0].balancingMod',
      'iap.oauth2ClientSecrt',
    ]);
  });

  it('every request of a full create, update and delete passes the check', async () => {
    const h = harness();
    await h.provider.ensure(withPorts(l4({ sourceRanges: ['10.0.0.0/8'] }), [
      { protocol: 'TCP', port: 80, nodePort: 30080 },
      { protocol: 'UDP', port: 53, nodePort: 30053 },
    ]));
    await h.provider.ensure(withTls(l7(), CERT_A, KEY_A, []));
    await h.provider.delete(l4().ref);
    await h.provider.delete(l7().ref);
    expect(h.fake.violations).toEqual([]);
    expect(h.fake.log.length).toBeGreaterThan(40);
    expect(h.fake.paths()).toEqual([]);
  });
});
